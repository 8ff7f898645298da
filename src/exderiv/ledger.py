"""Read the book's checks and errata back from the notebooks' stored outputs.

The check helper and the errata helper print one line per record
(:meth:`CheckRecord.line`,
:meth:`Erratum.line`); the notebooks store those lines; this module parses
them. The book's
ledger page, errata page and chapter badges (``tools/sphinx_ext/ledger.py``) and
the structure tests are built on :func:`read_chapter`, so what they show is what
the chapters printed when their outputs were stored, never a hand-typed summary.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from exderiv.checks import FIELD_SEPARATOR, CheckRecord, WrongVersion
from exderiv.errata import Erratum

__all__ = [
    "EXECUTION_TIMES_FILE",
    "ChapterLedger",
    "parse_check_line",
    "parse_erratum_line",
    "read_chapter",
    "read_execution_times",
]

EXECUTION_TIMES_FILE = "book/_execution_times.json"
"""Seconds each chapter took when its outputs were stored (written by
tools/refresh_outputs.py)."""

EQUATION_LABEL = re.compile(r"\$\$\s*\((eq-[a-z0-9-]+)\)")
_CHECK_HEAD = re.compile(r"^\[(pass|FAIL)\] ([a-z0-9][a-z0-9-]*)$")
_ERROR_FIELD = re.compile(r"^err (\S+) <= tol (\S+)$")
_WRONG_ITEM = re.compile(r"^(.*) \(err (\S+)\)$")


def _parse_wrong_list(text: str) -> list[WrongVersion]:
    if text == "nothing":
        return []
    versions = []
    for item in text.split("; "):
        match = _WRONG_ITEM.match(item)
        if not match:
            raise ValueError(f"not a wrong version 'name (err x)': {item!r}")
        versions.append(WrongVersion(match.group(1), float(match.group(2))))
    return versions


def parse_check_line(line: str) -> CheckRecord | None:
    """The record a check printed, or None if ``line`` is not a check line.

    Raises ``ValueError`` for a line that starts like a check line but is
    malformed.
    """
    fields = line.rstrip("\n").split(FIELD_SEPARATOR)
    head = _CHECK_HEAD.match(fields[0])
    if not head:
        return None
    if len(fields) < 3 or not _ERROR_FIELD.match(fields[2]):
        raise ValueError(f"malformed check line: {line!r}")
    error, tol = _ERROR_FIELD.match(fields[2]).groups()
    wrong: list[WrongVersion] = []
    for extra in fields[3:]:
        for prefix in ("catches: ", "cannot tell from: "):
            if extra.startswith(prefix):
                wrong += _parse_wrong_list(extra.removeprefix(prefix))
                break
        else:
            raise ValueError(f"unknown field {extra!r} in check line {line!r}")
    return CheckRecord(
        head.group(2), fields[1], float(error), float(tol), tuple(wrong)
    )


def parse_erratum_line(line: str) -> Erratum | None:
    """The erratum a chapter printed, or None if ``line`` is not one."""
    if not line.startswith("[erratum] "):
        return None
    fields = line.rstrip("\n").split(FIELD_SEPARATOR)
    prefixes = ("[erratum] ", "", "says: ", "correct: ", "decided by: ")
    if len(fields) != len(prefixes) or not all(
        f.startswith(p) for f, p in zip(fields, prefixes, strict=True)
    ):
        raise ValueError(f"malformed erratum line: {line!r}")
    values = [f.removeprefix(p) for f, p in zip(fields, prefixes, strict=True)]
    return Erratum(*values)


@dataclass
class ChapterLedger:
    """What one stored chapter notebook says about its own mathematics."""

    docname: str
    title: str
    equation_labels: list[str]
    checks: list[CheckRecord] = field(default_factory=list)
    errata: list[Erratum] = field(default_factory=list)
    seconds: float | None = None

    @property
    def wrong_versions_caught(self) -> int:
        return sum(1 for r in self.checks for w in r.wrong if w.caught(r.tol))

    @property
    def all_passing(self) -> bool:
        return bool(self.checks) and all(r.passed for r in self.checks)

    def badge(self) -> str:
        status = "all passing" if self.all_passing else "NOT ALL PASSING"
        errata = (
            f"{len(self.errata)} erratum"
            if len(self.errata) == 1
            else (f"{len(self.errata)} errata")
        )
        return (
            f"{len(self.equation_labels)} labelled equations, "
            f"{len(self.checks)} checks, {status}; "
            f"{self.wrong_versions_caught} wrong versions caught; {errata}"
        )


def _stdout_lines(notebook) -> list[str]:
    lines = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if (
                output.get("output_type") == "stream"
                and output.get("name") == "stdout"
            ):
                lines += output.get("text", "").splitlines()
    return lines


def _title(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^# (.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return ""


def read_execution_times(root: Path) -> dict[str, float]:
    path = Path(root) / EXECUTION_TIMES_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def read_chapter(path: Path, root: Path) -> ChapterLedger:
    """Parse the stored outputs of the notebook at ``path`` (``root``: the
    book's root folder)."""
    path, root = Path(path), Path(root)
    notebook = nbformat.read(path, as_version=4)
    docname = path.relative_to(root).with_suffix("").as_posix()
    markdown = "\n".join(
        c.source for c in notebook.cells if c.cell_type == "markdown"
    )
    labels = list(dict.fromkeys(EQUATION_LABEL.findall(markdown)))
    checks: dict[tuple[str, str], CheckRecord] = {}
    errata: dict[tuple[str, str], Erratum] = {}
    for line in _stdout_lines(notebook):
        record = parse_check_line(line)
        if record is not None:
            checks[(record.label, record.claim)] = record
        entry = parse_erratum_line(line)
        if entry is not None:
            errata[(entry.source, entry.where)] = entry
    return ChapterLedger(
        docname=docname,
        title=_title(notebook),
        equation_labels=labels,
        checks=list(checks.values()),
        errata=list(errata.values()),
        seconds=read_execution_times(root).get(docname),
    )
