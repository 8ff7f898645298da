"""Every public object of exderiv names the page that shows it, and that page really shows it.

The rule (CONTRIBUTING.md, "Shared code shown as code"): the docstring of each name in
``exderiv.__all__`` carries a line ``Shown in: book/<page>``; that page exists, is in the table of
contents, and includes the object's source with ``{literalinclude}`` (``:pyobject:`` for functions
and classes, ``:start-at: NAME =`` for constants), so the book shows the code the tests run.
"""

import inspect
import re
from pathlib import Path

import nbformat
import pytest
from test_structure import toc_files

import exderiv

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "exderiv"
SHOWN_IN = re.compile(r"^\s*Shown in: (book/\S+?)\.?\s*$", re.MULTILINE)


def docstring_and_module(name: str) -> tuple[str, Path]:
    obj = getattr(exderiv, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return inspect.getdoc(obj) or "", Path(inspect.getsourcefile(obj))
    for module in PACKAGE.glob("*.py"):
        found = re.search(
            rf'^{name}\b[^\n]*=.*?\n"""(.*?)"""', module.read_text(), re.MULTILINE | re.DOTALL
        )
        if found:
            return found.group(1), module
    return "", PACKAGE


def page_text(docname: str) -> str:
    md, ipynb = ROOT / f"{docname}.md", ROOT / f"{docname}.ipynb"
    if md.exists():
        return md.read_text()
    if ipynb.exists():
        notebook = nbformat.read(ipynb, as_version=4)
        return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    return ""


@pytest.mark.parametrize("name", exderiv.__all__)
def test_public_object_is_shown_as_code_on_the_page_its_docstring_names(name):
    doc, module = docstring_and_module(name)
    shown = SHOWN_IN.findall(doc)
    assert shown, f"exderiv.{name}: the docstring needs a line 'Shown in: book/<page>'"
    for docname in shown:
        assert docname in toc_files(), f"exderiv.{name}: {docname} is not in _toc.yml"
        text = page_text(docname)
        include = re.compile(
            r"```\{literalinclude\}\s+(\S+)\n(?:\s*:[^\n]*\n)*?"
            rf"\s*:(?:pyobject: {re.escape(name)}|start-at: {re.escape(name)} =)\s*\n"
        )
        paths = [
            (ROOT / docname).parent.joinpath(match).resolve() for match in include.findall(text)
        ]
        assert module.resolve() in paths, (
            f"exderiv.{name}: {docname} does not literalinclude it from {module.name}"
        )
