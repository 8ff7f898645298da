"""Errata: every place where a chapter found its source (article, paper,
library) wrong.

A chapter records an erratum right after the check that decides it::

    exderiv.erratum(
        source="Su 2024, kexue.fm/archives/10007",
        where="the CDF formula of section 3",
        says="F(u) = ... with the sum halved",
        correct="F(u) = ... (derived in eq-fourier-density-cdf)",
        decided_by="eq-fourier-density-cdf",
    )

The deciding check must already have passed in this kernel, so an erratum always
points at evidence that exists. The printed line is the stored record that the
book's errata page reads back
(:mod:`exderiv.ledger`)::

    [erratum] Su 2024, kexue.fm/archives/10007 | the CDF formula | says: ... |
    correct: ... | decided by: eq-fourier-density-cdf

(one line when printed)
"""

from __future__ import annotations

from dataclasses import dataclass

from exderiv.checks import (
    FIELD_SEPARATOR,
    recorded_checks,
    validate_field,
    validate_label,
)

__all__ = ["Erratum", "erratum", "recorded_errata"]


@dataclass(frozen=True)
class Erratum:
    """One recorded disagreement between a source and the book's check.

    Shown in: book/toolkit
    """

    source: str
    where: str
    says: str
    correct: str
    decided_by: str

    def line(self) -> str:
        return FIELD_SEPARATOR.join(
            [
                f"[erratum] {self.source}",
                self.where,
                f"says: {self.says}",
                f"correct: {self.correct}",
                f"decided by: {self.decided_by}",
            ]
        )


_errata: dict[tuple[str, str], Erratum] = {}


def erratum(
    *, source: str, where: str, says: str, correct: str, decided_by: str
) -> Erratum:
    """Record and print an erratum of ``source``, decided by the check labelled
    ``decided_by``.

    ``source`` names the source so that errata group by it ("Su 2024,
    kexue.fm/archives/10007", "Ho et al. 2020", "diffusers 0.42 DDPMScheduler");
    ``where`` says where in it; ``says`` what it states; ``correct`` what holds
    instead. Raises ``ValueError`` when a field is empty or holds a separator,
    and ``LookupError`` when no passing check with the label ``decided_by`` has
    been recorded in this kernel yet.

    Shown in: book/toolkit
    """
    fields = {
        "source": validate_field(source, "source"),
        "where": validate_field(where, "where"),
        "says": validate_field(says, "says"),
        "correct": validate_field(correct, "correct"),
        "decided_by": validate_label(decided_by),
    }
    deciding = [r for r in recorded_checks() if r.label == decided_by]
    if not deciding:
        raise LookupError(
            f"no check labelled {decided_by!r} has run in this kernel: "
            "record the erratum after "
            "the check that decides it"
        )
    if not all(r.passed for r in deciding):
        raise LookupError(
            f"the check {decided_by!r} failed, so it decides nothing"
        )
    record = Erratum(**fields)
    _errata[(record.source, record.where)] = record
    print(record.line())
    return record


def recorded_errata() -> list[Erratum]:
    """The errata recorded in this kernel, in order.

    Shown in: book/toolkit
    """
    return list(_errata.values())


def clear_errata() -> None:
    _errata.clear()
