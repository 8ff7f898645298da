"""The book's ledger, errata page and chapter badges, built from the stored notebooks.

Nothing here is typed by hand: every number comes from the check and erratum lines that the
chapters printed when their outputs were stored (parsed by :mod:`exderiv.ledger`).

- ``{check-status}``: one row per chapter (labelled equations, checks, wrong versions caught,
  errata, execution time when its outputs were stored), in the manner of QuantEcon's status page.
- ``{check-ledger}``: every check of every chapter, one table per chapter.
- ``{errata-list}``: every erratum, grouped by source.
- Each chapter page gets a one-line badge under its title.

The pages that hold these directives are re-read on every build, since any notebook can change
them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from exderiv.checks import format_number
from exderiv.ledger import ChapterLedger, read_chapter

LEDGER_DIRECTIVES = ("check-status", "check-ledger", "errata-list")
logger = logging.getLogger(__name__)


def read_or_warn(path: Path, srcdir: Path) -> ChapterLedger | None:
    """The chapter's ledger, or None with a build warning (an error under -W) if a stored record
    line is malformed."""
    try:
        return read_chapter(path, srcdir)
    except ValueError as exc:
        logger.warning(f"{path.relative_to(srcdir)}: {exc}", type="ledger")
        return None


def chapters(srcdir: Path) -> list[ChapterLedger]:
    """Every notebook chapter of the table of contents, in its order."""
    toc = yaml.safe_load((srcdir / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    notebooks = [srcdir / f"{f}.ipynb" for f in files]
    ledgers = [read_or_warn(path, srcdir) for path in notebooks if path.exists()]
    return [ledger for ledger in ledgers if ledger is not None]


def doc_link(env, target_docname: str, text: str) -> addnodes.pending_xref:
    ref = addnodes.pending_xref(
        "", refdomain="std", reftype="doc", reftarget="/" + target_docname,
        refdoc=env.docname, refexplicit=True, refwarn=True,
    )
    ref += nodes.inline(text=text)
    return ref


def label_cell(env, label: str, equation_labels: list[str]) -> list[nodes.Node]:
    """The label as code, and for an equation label a link to the equation."""
    cell: list[nodes.Node] = [nodes.literal(text=label)]
    if label in equation_labels:
        ref = addnodes.pending_xref(
            "", refdomain="math", reftype="eq", reftarget=label,
            refdoc=env.docname, refwarn=True,
        )
        ref += nodes.inline(text=label)
        cell += [nodes.Text(" "), ref]
    return cell


def table(headers: list[str], rows: list[list[object]], classes: list[str]) -> nodes.table:
    """A docutils table; a cell is a string or a list of inline nodes."""
    tgroup = nodes.tgroup(cols=len(headers))
    for _ in headers:
        tgroup += nodes.colspec(colwidth=1)
    head = nodes.thead()
    head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=h)) for h in headers])
    tgroup += head
    body = nodes.tbody()
    for row in rows:
        entries = []
        for value in row:
            paragraph = nodes.paragraph()
            if isinstance(value, list):
                paragraph.extend(value)
            else:
                paragraph += nodes.Text(str(value))
            entries.append(nodes.entry("", paragraph))
        body += nodes.row("", *entries)
    tgroup += body
    return nodes.table("", tgroup, classes=classes)


class LedgerDirective(SphinxDirective):
    has_content = False

    def ledgers(self) -> list[ChapterLedger]:
        srcdir = Path(self.env.srcdir)
        for ledger in (found := chapters(srcdir)):
            self.env.note_dependency(str(srcdir / f"{ledger.docname}.ipynb"))
        return found


class CheckStatus(LedgerDirective):
    def run(self):
        rows = []
        ledgers = self.ledgers()
        for c in ledgers:
            seconds = "not recorded" if c.seconds is None else f"{c.seconds:.0f}"
            rows.append([
                [doc_link(self.env, c.docname, c.title)], len(c.equation_labels), len(c.checks),
                c.wrong_versions_caught, len(c.errata), seconds,
                "all passing" if c.all_passing else "FAILING",
            ])
        total_seconds = sum(c.seconds or 0 for c in ledgers)
        rows.append([
            "All chapters", sum(len(c.equation_labels) for c in ledgers),
            sum(len(c.checks) for c in ledgers), sum(c.wrong_versions_caught for c in ledgers),
            sum(len(c.errata) for c in ledgers), f"{total_seconds:.0f}",
            "all passing" if all(c.all_passing for c in ledgers) else "FAILING",
        ])
        headers = ["chapter", "labelled equations", "checks", "wrong versions caught", "errata",
                   "execution time (s)", "status"]
        return [table(headers, rows, ["ledger-status"])]


class CheckLedger(LedgerDirective):
    def run(self):
        output = []
        for c in self.ledgers():
            section_title = nodes.rubric(text=c.title)
            output += [section_title, nodes.paragraph("", "", doc_link(self.env, c.docname,
                                                                        "Open the chapter"))]
            rows = [
                [
                    label_cell(self.env, r.label, c.equation_labels), r.claim,
                    format_number(r.error), format_number(r.tol),
                    "; ".join(f"{w.name} ({format_number(w.error)})" for w in r.wrong) or "—",
                ]
                for r in c.checks
            ]
            headers = ["label", "claim", "error", "tolerance", "wrong versions caught (error)"]
            output.append(table(headers, rows, ["ledger-checks"]))
        return output


class ErrataList(LedgerDirective):
    def run(self):
        by_source = defaultdict(list)
        for c in self.ledgers():
            for entry in c.errata:
                by_source[entry.source].append((c, entry))
        if not by_source:
            return [nodes.paragraph(text="No chapter has recorded an erratum yet.")]
        output = []
        for source in sorted(by_source):
            output.append(nodes.rubric(text=source))
            rows = [
                [
                    [doc_link(self.env, c.docname, c.title)], entry.where, entry.says,
                    entry.correct, label_cell(self.env, entry.decided_by, c.equation_labels),
                ]
                for c, entry in by_source[source]
            ]
            headers = ["chapter", "where", "the source says", "what holds", "decided by"]
            output.append(table(headers, rows, ["ledger-errata"]))
        return output


def add_badge(app, doctree):
    """Put the chapter's badge under its title."""
    env = app.env
    path = Path(env.srcdir) / f"{env.docname}.ipynb"
    if not path.exists() or not env.docname.startswith("book/"):
        return
    ledger = read_or_warn(path, Path(env.srcdir))
    title = next(iter(doctree.findall(nodes.title)), None)
    if ledger is None or title is None or not ledger.checks:
        return
    badge = nodes.paragraph(classes=["check-badge"])
    badge += nodes.Text(ledger.badge() + " (")
    badge += doc_link(env, "book/ledger", "ledger")
    badge += nodes.Text(").")
    title.parent.insert(title.parent.index(title) + 1, badge)


def always_reread_ledger_pages(app, env, added, changed, removed):
    return [
        docname for docname in env.found_docs
        if docname.startswith("book/") and Path(env.doc2path(docname)).suffix == ".md"
        and any(f"{{{d}}}" in Path(env.doc2path(docname)).read_text() for d in LEDGER_DIRECTIVES)
    ]


def setup(app):
    app.add_directive("check-status", CheckStatus)
    app.add_directive("check-ledger", CheckLedger)
    app.add_directive("errata-list", ErrataList)
    app.connect("doctree-read", add_badge)
    app.connect("env-get-outdated", always_reread_ledger_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
