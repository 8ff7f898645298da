"""One chapter opened in JupyterLab, as a reader who runs the book locally sees it.

Starts JupyterLab from the project's .venv on 127.0.0.1 (a free port, no token or password,
throw-away configuration, settings, workspace, data and runtime folders) with the book's Jupyter
configuration from tools/jupyter/ (no "Jupyter news" prompt, no update check, no PyPI extension
manager), opens book/geometry/hubness.ipynb in headless Chromium and checks that

- the Markdown cells render through jupyterlab-myst: theorem/proof blocks, exercises and labelled
  display equations are rendered elements, KaTeX reported no error and no raw directive or role
  text is left on the page;
- glued values, citations and cross-references read as the HTML book shows them or as the
  fallback that README.md documents under "What differs in JupyterLab";
- the first code cell (the setup cell), run through the notebook UI, finishes without an error or
  a warning;
- no request left 127.0.0.1, no notification popped up, and nothing was written back to the
  working tree (autosave is off and every write to /api/contents is aborted and recorded, except
  the checkpoint JupyterLab creates on opening, which goes to a throw-away folder).

The expectations are read from the notebook as JupyterLab loaded it (roles, labels, glued
outputs), never from particular sentences, so the test follows the chapter as it is rewritten.
A screenshot is saved as _build/screenshots/jupyterlab__geometry__hubness.png.

Needs the project's .venv (`bash tools/setup_env.sh`) and Debian's chromium at /usr/bin/chromium.
"""

import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_browser import CHROMIUM, CHROMIUM_FLAGS  # no background traffic of its own

pytestmark = pytest.mark.jupyterlab

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
JUPYTER_CONFIG = ROOT / "tools" / "jupyter"
CHAPTER = "book/geometry/hubness.ipynb"
SCREENSHOT = ROOT / "_build" / "screenshots" / "jupyterlab__geometry__hubness.png"
THROWAWAY_DIRS = (
    "JUPYTER_CONFIG_DIR",
    "JUPYTERLAB_SETTINGS_DIR",
    "JUPYTERLAB_WORKSPACES_DIR",
    "JUPYTER_DATA_DIR",
    "JUPYTER_RUNTIME_DIR",
    "IPYTHONDIR",
)

# MyST syntax in the chapter's Markdown cells.
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`]+)`")
CITE_ROLE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
XREF_ROLE = re.compile(r"\{(numref|eq|ref)\}`([^`]+)`")
SECTION_LABEL = re.compile(r"^\(([\w-]+)\)=\s*$", re.MULTILINE)
EQUATION_LABEL = re.compile(r"\$\$\s*\(([\w-]+)\)")
DIRECTIVE_LABEL = re.compile(r"^:label:\s*(\S+)", re.MULTILINE)
PROOF_DIRECTIVE = re.compile(r"^(?:```+|:::+)\{prf:\w+\}", re.MULTILINE)
EXERCISE_DIRECTIVE = re.compile(r"^(?:```+|:::+)\{(?:exercise|solution)\}", re.MULTILINE)
# Role or directive syntax that would mean a cell was shown as source, not rendered.
RAW_MYST = re.compile(
    r"\{(?:glue|cite|numref|eq|ref|doc|prf:\w+|exercise|solution|bibliography)[^}]*\}`?"
    r"|^:(?:label|class|filter):",
    re.MULTILINE,
)
GLUE_MIME = "application/papermill.record/text/plain"

NOTEBOOK_READY = """path => {
    const panel = window.jupyterapp?.shell?.currentWidget;
    return !!(panel && panel.context?.path === path && panel.context.isReady
              && panel.content?.widgets?.length);
}"""

NOTEBOOK_JSON = "() => window.jupyterapp.shell.currentWidget.context.model.toJSON()"

MARKDOWN_RENDERED = """count => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell')];
    return cells.length === count && cells.every(cell => cell.querySelector('.myst'));
}"""

# jupyterlab-myst re-renders every Markdown cell whenever one of them renders: wait until the
# notebook's DOM has been still for a second (at most 30 s).
DOM_SETTLED = """() => new Promise(resolve => {
    const root = document.querySelector('.jp-Notebook');
    const start = performance.now();
    let timer;
    const done = () => { observer.disconnect(); resolve(performance.now() - start); };
    const observer = new MutationObserver(() => {
        clearTimeout(timer);
        timer = setTimeout(done, performance.now() - start > 30000 ? 0 : 1000);
    });
    observer.observe(root, {subtree: true, childList: true, characterData: true});
    timer = setTimeout(done, 1000);
})"""

COLLECT_RENDERED = """equationLabels => {
    const myst = [...document.querySelectorAll('.jp-Notebook .jp-MarkdownCell .myst')];
    const all = selector => myst.flatMap(cell => [...cell.querySelectorAll(selector)]);
    const text = myst.map(cell => {
        const copy = cell.cloneNode(true);
        copy.querySelectorAll('.katex, pre, code').forEach(node => node.remove());
        return copy.textContent;
    }).join('\\n');
    const equations = {};
    for (const label of equationLabels) {
        const node = document.getElementById(label);
        equations[label] = node && {
            display: !!node.querySelector('.katex-display'),
            number: [...node.querySelectorAll('a')].map(a => a.textContent.trim()).join(' '),
        };
    }
    return {
        text,
        ids: all('[id]').map(node => node.id),
        proofs: all('.myst-proof').length,
        exercises: all('.myst-exercise').length,
        katexErrors: all('.katex-error').map(node => node.textContent),
        equations,
        // Cross-references: links into the page, not the headings' own "Link to this ..." anchors.
        links: all('a[href^="#"]')
            .filter(a => !(a.getAttribute('title') || '').startsWith('Link to this'))
            .map(a => ({target: a.getAttribute('href').slice(1), text: a.textContent.trim()})),
        missingXrefs: all('[title="Cross Reference Not Found"]').map(n => n.textContent.trim()),
        cites: all('.cite-group').map(group => ({
            text: group.textContent.trim(),
            unresolved: !!group.querySelector('[title="Citation Not Found"]'),
        })),
        // Inline text leaves outside mathematics: where a glued value (or its key) lands.
        leaves: all('span').filter(s => !s.children.length && !s.closest('.katex'))
                           .map(s => s.textContent.trim()),
    };
}"""

# Resolves with the kernel's reply to the next execute request of the open notebook.
WATCH_EXECUTE_REPLY = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    window.__executeReply = new Promise(resolve => {
        const timer = setTimeout(() => resolve({status: 'no reply within 60 s'}), 60000);
        const slot = (_, args) => {
            if (args.direction !== 'recv' || args.msg.header.msg_type !== 'execute_reply') return;
            clearTimeout(timer);
            kernel.anyMessage.disconnect(slot);
            const c = args.msg.content;
            resolve({status: c.status, count: c.execution_count, error: c.ename || null});
        };
        kernel.anyMessage.connect(slot);
    });
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path, request):
    """A JupyterLab server on 127.0.0.1 serving the working tree; stopped however the test ends."""
    if not VENV_PYTHON.exists():
        pytest.fail("no .venv: run `bash tools/setup_env.sh` first")
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    for name in THROWAWAY_DIRS:
        (tmp_path / name.lower()).mkdir()
        env[name] = str(tmp_path / name.lower())
    env["JUPYTER_CONFIG_PATH"] = str(JUPYTER_CONFIG)  # the book's configuration, as for a reader
    # Running a cell makes the notebook dirty: with autosave off JupyterLab never writes it back.
    docmanager = tmp_path / "jupyterlab_settings_dir" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))

    port = _free_port()
    command = [
        str(VENV_PYTHON), "-m", "jupyterlab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
        f"--ServerApp.root_dir={ROOT}",
        "--IdentityProvider.token=",
        "--LabApp.expose_app_in_browser=True",  # lets the test read the notebook model
        # Opening a notebook that has no checkpoint makes JupyterLab create one: keep it out of
        # the working tree (the test allows that one write, and no other).
        f"--FileCheckpoints.checkpoint_dir={tmp_path / 'checkpoints'}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = tmp_path / "jupyterlab.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop():
        # SIGTERM: the server shuts its kernels down and exits; kill it if it hangs.
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        log.close()

    request.addfinalizer(stop)

    base = f"http://127.0.0.1:{port}"
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            with no_proxy.open(f"{base}/api/status", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in 60 s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
    return base


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def _expectations(notebook: dict) -> dict:
    """What the rendered chapter must show, read from the notebook as JupyterLab loaded it."""

    def source(cell):
        return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])

    markdown = [source(cell) for cell in notebook["cells"] if cell["cell_type"] == "markdown"]
    text = "\n".join(markdown)
    glued = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and GLUE_MIME in output.get("data", {}):
                value = output["data"][GLUE_MIME]
                glued[name] = value if isinstance(value, str) else "".join(value)
    xrefs = []
    for role, content in XREF_ROLE.findall(text):
        template, _, target = content.rpartition("<")
        xrefs.append((role, template.strip(), target.rstrip(">").strip() if template else content))
    return {
        "markdown_cells": len(markdown),
        "glue": Counter(key.split(":")[0].strip() for key in GLUE_ROLE.findall(text)),
        "glued": glued,
        "cite_roles": len(CITE_ROLE.findall(text)),
        "cite_keys": {k.strip() for keys in CITE_ROLE.findall(text) for k in keys.split(",")},
        "xrefs": xrefs,
        "markdown_labels": set(SECTION_LABEL.findall(text) + EQUATION_LABEL.findall(text)
                               + DIRECTIVE_LABEL.findall(text)),
        "equation_labels": EQUATION_LABEL.findall(text),
        "proofs": len(PROOF_DIRECTIVE.findall(text)),
        "exercises": len(EXERCISE_DIRECTIVE.findall(text)),
    }


def _reference_pattern(role: str, template: str) -> re.Pattern:
    """Text a resolved reference may show: its template with a number, or jupyterlab-myst's
    `??` where the target carries no number (sections: the notebook does not number them)."""
    number = r"(?:\d+(?:\.\d+)*|\?\?)"
    if role == "eq":
        return re.compile(rf"\({number}\)")
    if template:
        parts = re.split(r"%s|\{number\}", template)
        return re.compile(number.join(re.escape(part) for part in parts))
    return re.compile(r".+")


def _check_rendering(rendered: dict, expected: dict) -> None:
    # MyST directives and mathematics are rendered, not shown as source.
    assert expected["proofs"] and expected["exercises"] and expected["equation_labels"], (
        f"{CHAPTER} no longer has a prf block, an exercise and a labelled equation: "
        "point this test at a chapter that has all three"
    )
    assert rendered["proofs"] >= expected["proofs"], "prf: blocks not rendered as theorem/proof"
    assert rendered["exercises"] >= expected["exercises"], "exercises/solutions not rendered"
    bad_equations = {
        label: found
        for label, found in rendered["equations"].items()
        if not (found and found["display"] and re.fullmatch(r"\(\d+\)", found["number"]))
    }
    assert bad_equations == {}, "labelled equations not rendered as numbered display math"
    assert rendered["katexErrors"] == [], "KaTeX could not typeset these formulas"
    raw = sorted({m.group(0) for m in RAW_MYST.finditer(rendered["text"])})
    assert raw == [], "MyST syntax left as text in the rendered cells"

    # Glued values: the value (as in the HTML book) or, as documented, the key as plain text.
    leaves = Counter(rendered["leaves"])
    missing_glue = []
    for key, uses in expected["glue"].items():
        value = expected["glued"].get(key)
        shown = leaves[key] + (leaves[value] + leaves[value.strip("'\"")] if value else 0)
        if shown < uses:
            missing_glue.append(key)
    assert missing_glue == [], "glued values shown neither as value nor as key"

    # Citations: author-year text as in the HTML book or, as documented, the key with a marker.
    cites = rendered["cites"]
    assert len(cites) == expected["cite_roles"], "citations not rendered as citations"
    for cite in cites:
        if cite["unresolved"]:
            assert any(key in cite["text"] for key in expected["cite_keys"]), cite
        else:
            assert re.search(r"\b\d{4}\b", cite["text"]), cite
    if all(cite["unresolved"] for cite in cites):
        shown = " ".join(cite["text"] for cite in cites)
        assert {key for key in expected["cite_keys"] if key not in shown} == set()

    # Cross-references: a link to a target on the page (equations, sections, exercises,
    # theorems defined in Markdown); figures, defined in code-cell metadata that jupyterlab-myst
    # does not read, may instead show their label, as documented.
    ids = set(rendered["ids"])
    links = {}
    for link in rendered["links"]:
        links.setdefault(link["target"], []).append(link["text"])
    wrong = []
    for role, template, target in expected["xrefs"]:
        pattern = _reference_pattern(role, template)
        linked = target in ids and any(pattern.fullmatch(t) for t in links.get(target, []))
        if linked:
            continue
        if target not in expected["markdown_labels"] and target in rendered["missingXrefs"]:
            continue
        wrong.append((role, template, target, links.get(target)))
    assert wrong == [], "cross-references that neither resolve nor show the documented fallback"


def test_chapter_reads_in_jupyterlab(jupyterlab, chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    outside, writes, page_errors = [], [], []

    def route(route_request):
        request = route_request.request
        url = urlparse(request.url)
        if url.hostname != "127.0.0.1":
            outside.append(request.url)
            route_request.abort()
        elif (
            url.path.startswith("/api/contents")
            and request.method not in ("GET", "HEAD")
            and not (request.method == "POST" and url.path.endswith("/checkpoints"))
        ):
            writes.append(f"{request.method} {url.path}")
            route_request.abort()
        else:
            route_request.continue_()

    page.route("**/*", route)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(f"{jupyterlab}/lab/tree/{CHAPTER}")
        page.wait_for_function(NOTEBOOK_READY, arg=CHAPTER, timeout=60_000)
        notebook = page.evaluate(NOTEBOOK_JSON)
        expected = _expectations(notebook)
        page.wait_for_function(MARKDOWN_RENDERED, arg=expected["markdown_cells"], timeout=60_000)
        page.evaluate(DOM_SETTLED)
        rendered = page.evaluate(COLLECT_RENDERED, expected["equation_labels"])

        # The setup cell, run as a reader runs it: select it, press Shift+Enter.
        page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status"
            " === 'idle'",
            timeout=60_000,
        )
        page.evaluate(WATCH_EXECUTE_REPLY)
        setup_cell = page.locator(".jp-Notebook .jp-CodeCell").first
        setup_cell.locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+Enter")
        reply = page.evaluate("() => window.__executeReply")
        if reply.get("count") is not None:
            setup_cell.locator(f".jp-InputPrompt:has-text('[{reply['count']}]')").wait_for()
        setup_outputs = page.evaluate(
            """() => {
                const panel = window.jupyterapp.shell.currentWidget;
                const cell = panel.content.widgets.find(widget => widget.model.type === 'code');
                return cell.model.outputs.toJSON();
            }"""
        )
        toasts = page.locator(".Toastify__toast").all_inner_texts()
    finally:  # the screenshot also shows what went wrong when a step above fails
        try:
            page.evaluate("() => document.querySelector('.jp-WindowedPanel-outer')?.scrollTo(0, 0)")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            context.close()

    _check_rendering(rendered, expected)
    assert reply["status"] == "ok", f"the setup cell failed: {reply}"
    problems = [
        output for output in setup_outputs
        if output["output_type"] == "error"
        or (output["output_type"] == "stream" and output.get("name") == "stderr")
    ]
    assert problems == [], "the setup cell printed an error or a warning"
    assert toasts == [], "notifications popped up (the news prompt is configured off)"
    assert outside == [], "requests that left 127.0.0.1"
    assert writes == [], "JupyterLab tried to write to the working tree"
    assert page_errors == [], "uncaught errors in the page"
