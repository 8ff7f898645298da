"""The check helper: one call per claim, one printed line per call, one row in
the chapter's table.

A chapter calls :func:`check` (an error it computed itself), :func:`check_close`
(two values that must agree) or :func:`check_formula` (an error function applied
to a candidate formula) right after the equation it verifies. A check also names
the **wrong versions** it is meant to catch (a flipped sign, a factor of 2, the
source's typo), each evaluated through the same comparison and the same
tolerance. Each call prints a line such as::

    [pass] eq-hubness-ball-recursion | 2 pi * radial integral = 2 pi / d |
    err 4.4e-16 <= tol 1.0e-12 | catches: pi/d (err 5.0e-01); 4 pi/d (err 1e+00)

(one line when printed)

and raises :class:`CheckFailed` when the error exceeds the tolerance, or when a
wrong version passes too (the check could not tell the equation from it), so a
notebook whose mathematics is wrong, or whose check is powerless, stops
executing (and nbval fails). Every call is recorded; the chapter's "what was
verified" table is :func:`verified_table`, built from the records, never typed
by hand. The printed line is also the stored record that the book's ledger reads
back (:mod:`exderiv.ledger`), so its format is parsed there and tested against
:meth:`CheckRecord.line`.

Printed errors are rounded to two significant figures. Their last digit may
still differ between CPUs (summation order), so the book's nbval run sanitises
numbers in scientific notation (see ``tests/nbval_sanitize.cfg``); the tolerance
is enforced here, on the unrounded error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

__all__ = [
    "CheckFailed",
    "CheckRecord",
    "WrongVersion",
    "check",
    "check_close",
    "check_formula",
    "clear_checks",
    "recorded_checks",
    "verified_table",
]

LABEL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""Labels are MyST equation labels (``eq-…``) or claim names in kebab-case."""

FIELD_SEPARATOR = " | "
"""Separates the fields of a printed line; no field contains ``|`` or a line
break, and a wrong
version's description contains no ``;`` either (it separates the catches)."""


class CheckFailed(AssertionError):
    """A claim's error exceeded its tolerance, was not a number, or a wrong
    version passed too.

    Shown in: book/toolkit
    """


@dataclass(frozen=True)
class WrongVersion:
    """A plausible mistake in the claim and the error it gets on the check's
    comparison.

    Shown in: book/toolkit
    """

    name: str
    error: float

    def caught(self, tol: float) -> bool:
        return self.error > tol


@dataclass(frozen=True)
class CheckRecord:
    """The outcome of one check call.

    Shown in: book/toolkit
    """

    label: str
    claim: str
    error: float
    tol: float
    wrong: tuple[WrongVersion, ...] = ()

    @property
    def uncaught(self) -> tuple[WrongVersion, ...]:
        """Wrong versions that pass the same comparison: the check cannot tell
        them from the claim."""
        return tuple(w for w in self.wrong if not w.caught(self.tol))

    @property
    def passed(self) -> bool:
        # `error <= tol` is False for NaN, by IEEE comparison.
        return self.error <= self.tol and not self.uncaught

    def line(self) -> str:
        status = "pass" if self.passed else "FAIL"
        fields = [
            f"[{status}] {self.label}",
            self.claim,
            f"err {format_number(self.error)} <= tol {format_number(self.tol)}",
        ]
        if self.wrong:
            fields.append(
                "catches: "
                + _wrong_list(w for w in self.wrong if w.caught(self.tol))
            )
        if self.uncaught:
            fields.append("cannot tell from: " + _wrong_list(self.uncaught))
        return FIELD_SEPARATOR.join(fields)


def _wrong_list(versions) -> str:
    return (
        "; ".join(f"{w.name} (err {format_number(w.error)})" for w in versions)
        or "nothing"
    )


_records: dict[tuple[str, str], CheckRecord] = {}


def format_number(value: float) -> str:
    """Two significant figures (``3.1e-13``), or ``nan``/``inf``."""
    return f"{value:.1e}" if math.isfinite(value) else str(value)


def _as_float(value: object, what: str) -> float:
    """A Python, NumPy, torch or SymPy scalar as float, or a clear error."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(
                f"{what} must be a scalar, got a tensor of shape "
                f"{tuple(value.shape)}"
            )
        return float(value.detach().cpu().item())
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise TypeError(
                f"{what} must be a scalar, got an array of shape {value.shape}"
            )
        return float(value.reshape(()))
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, got the bool {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{what} must be a real number; got {type(value).__name__} "
            f"{value!r} (a SymPy expression must simplify to a number "
            "before it is checked)"
        ) from exc


def _as_float64_tensor(value: object, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64)
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{what} must be real numbers, got dtype {array.dtype}")
    return torch.from_numpy(array.astype(np.float64))


def _round_off(value: object) -> float:
    """The relative round-off of the value's floating type (0 for integers):
    a float32 tensor resolves only about 1e-7 of its size."""
    if isinstance(value, torch.Tensor):
        dtype = value.dtype
        return torch.finfo(dtype).eps if dtype.is_floating_point else 0.0
    array = np.asarray(value)
    if np.issubdtype(array.dtype, np.floating):
        return float(np.finfo(array.dtype).eps)
    return 0.0


def _check_resolution(actual, expected, actual_t, tol, relative) -> None:
    """Refuse a tolerance finer than a low-precision input can resolve."""
    round_off = max(_round_off(actual), _round_off(expected))
    if round_off <= np.finfo(np.float64).eps:
        return
    scale = 1.0 if relative else float(actual_t.abs().max())
    if tol < round_off * scale:
        raise ValueError(
            f"tol {format_number(tol)} is below the round-off of the inputs "
            f"({format_number(round_off)} relative, e.g. float32): compute "
            "in float64, or justify a tolerance above that round-off"
        )


def validate_field(value: object, what: str, forbidden: str = "|\n") -> str:
    """A non-empty one-line text without the printed line's separators."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty sentence, got {value!r}")
    if any(char in value for char in forbidden):
        shown = ", ".join(repr(c) for c in forbidden)
        raise ValueError(
            f"{what} may not contain any of {shown}: they separate the "
            "fields of the printed "
            f"record that the book's ledger reads back. Got {value!r}"
        )
    return value.strip()


def validate_label(label: object) -> str:
    if not isinstance(label, str) or not LABEL_PATTERN.match(label):
        raise ValueError(
            "label must be a kebab-case string such as 'eq-hub-ball-volume', "
            f"got {label!r}"
        )
    return label


def _evaluate(value: object) -> object:
    """A wrong version may be given lazily, as a function of no arguments."""
    return value() if callable(value) else value


def _wrong_errors(
    wrong: Mapping[str, object] | None, error_of: Callable[[object], float]
) -> tuple[WrongVersion, ...]:
    if wrong is None:
        return ()
    if not isinstance(wrong, Mapping) or not wrong:
        raise TypeError(
            "wrong must be a non-empty dict "
            "{description of the mistake: its value}, "
            f"got {wrong!r}"
        )
    versions = []
    for name, value in wrong.items():
        name = validate_field(
            name, "a wrong version's description", forbidden="|;\n"
        )
        error = error_of(_evaluate(value))
        if not math.isfinite(error):
            raise ValueError(
                f"wrong version {name!r} gives the error {error}: a catch "
                "must be a finite measured error, or a NaN on the true claim "
                "would look like power"
            )
        versions.append(WrongVersion(name, error))
    return tuple(versions)


def _error_value(error: object, what: str) -> float:
    value = _as_float(error, what)
    if value < 0:
        raise ValueError(
            f"{what} must be non-negative (a distance), got {value}"
        )
    return value


def _record(label, claim, error, tol, wrong) -> CheckRecord:
    record = CheckRecord(label, claim, error, tol, wrong)
    _records[(record.label, record.claim)] = record
    print(record.line())
    if record.error <= record.tol and record.uncaught:
        names = ", ".join(repr(w.name) for w in record.uncaught)
        raise CheckFailed(
            f"this check cannot tell {label} from the wrong version(s) "
            f"{names}: they also pass with tol {format_number(tol)}. Sharpen "
            "the comparison (more samples, a case where "
            "the versions differ, a tighter justified tolerance).\n"
            + record.line()
        )
    if not record.passed:
        raise CheckFailed(record.line())
    return record


def _validated_tol(tol: object) -> float:
    tol_value = _as_float(tol, "tol")
    if not (math.isfinite(tol_value) and tol_value >= 0):
        raise ValueError(
            f"tol must be finite and non-negative, got {tol_value}"
        )
    return tol_value


def check(
    label: str,
    claim: str,
    error: object,
    tol: object,
    *,
    wrong: Mapping[str, object] | None = None,
) -> CheckRecord:
    """Record and print one claim; raise :class:`CheckFailed` if it fails.

    Parameters
    ----------
    label:
        The equation label the claim verifies (``"eq-…"``), or a kebab-case
        claim name.
    claim:
        What was compared, in a few words ("ball volume: Monte Carlo vs closed
        form").
    error:
        The measured, non-negative error (scalar: float, 0-d tensor or array,
        SymPy number).
    tol:
        The justified tolerance (finite, non-negative), e.g. four Monte Carlo
        standard errors.
    wrong:
        ``{description: error}``: for each plausible wrong version of the claim,
        the error the
        *same* comparison gives when the wrong version replaces the claimed
        one (a number, or a
        function of no arguments returning one). Each must exceed ``tol``; one
        that does not raises :class:`CheckFailed`, because the check cannot tell
        it from the claim. Prefer :func:`check_formula`, which applies one error
        function to every version.

    Shown in: book/toolkit
    """
    label = validate_label(label)
    claim = validate_field(claim, "claim")
    tol_value = _validated_tol(tol)
    error_value = _error_value(error, "error")
    versions = _wrong_errors(
        wrong, lambda value: _error_value(value, "a wrong version's error")
    )
    return _record(label, claim, error_value, tol_value, versions)


def check_formula(
    label: str,
    claim: str,
    error_of: Callable[[object], object],
    claimed: object,
    tol: object,
    *,
    wrong: Mapping[str, object],
) -> CheckRecord:
    """Check a candidate formula by one comparison that is applied to its wrong
    versions too.

    ``error_of(candidate)`` measures how far a candidate (a number, a tensor, a
    function, a SymPy expression: whatever the comparison takes) is from the
    truth, computed independently. The claim passes when ``error_of(claimed) <=
    tol``; every ``wrong[name]`` must give ``error_of(wrong[name]) > tol``.
    Example: ``error_of = lambda f: max |f(x) - quadrature(x)|``, ``claimed =
    closed_form``, ``wrong = {"sign of b flipped": closed_form_minus}``.

    Shown in: book/toolkit
    """
    if not callable(error_of):
        raise TypeError(
            f"error_of must be a function of one candidate, got {error_of!r}"
        )
    return check(
        label,
        claim,
        error_of(claimed),
        tol,
        wrong={
            name: (lambda value=value: error_of(value))
            for name, value in wrong.items()
        }
        if isinstance(wrong, Mapping)
        else wrong,
    )


def _max_difference(
    actual_t: torch.Tensor, expected: object, relative: bool
) -> float:
    expected_t = _as_float64_tensor(expected, "expected")
    if actual_t.shape != expected_t.shape:
        raise ValueError(
            f"shapes differ: actual {tuple(actual_t.shape)} vs expected "
            f"{tuple(expected_t.shape)}"
            " (no broadcasting, so a mis-shaped result cannot pass by accident)"
        )
    if actual_t.numel() == 0:
        raise ValueError("nothing to compare: actual and expected are empty")
    diff = (actual_t - expected_t).abs()
    error = float("nan") if torch.isnan(diff).any() else float(diff.max())
    if relative:
        scale = float(expected_t.abs().max())
        if not scale > 0:
            raise ValueError(
                "relative=True needs an expected value that is not all zeros"
            )
        error /= scale
    return error


def check_close(
    label: str,
    claim: str,
    actual: object,
    expected: object,
    tol: float,
    *,
    relative: bool = False,
    wrong: Mapping[str, object] | None = None,
) -> CheckRecord:
    """Check that ``actual`` and ``expected`` agree elementwise; shapes must
    match exactly.

    ``actual`` is what was measured independently (Monte Carlo, quadrature, a
    library); ``expected`` is what the equation predicts. The error is ``max
    |actual - expected|``, or with ``relative=True`` that maximum divided by
    ``max |expected|`` (a norm-wise relative error, well defined when single
    entries are zero). NaN anywhere makes the error NaN, which fails. ``wrong``
    maps a description of each plausible wrong version of the equation to what
    *it* predicts: it replaces ``expected`` in the same comparison and must fail
    it.

    Shown in: book/toolkit
    """
    label = validate_label(label)
    claim = validate_field(claim, "claim")
    actual_t = _as_float64_tensor(actual, "actual")
    error = _max_difference(actual_t, expected, relative)
    _check_resolution(actual, expected, actual_t, _validated_tol(tol), relative)
    versions = _wrong_errors(
        wrong, lambda value: _max_difference(actual_t, value, relative)
    )
    return _record(label, claim, error, _validated_tol(tol), versions)


def recorded_checks() -> list[CheckRecord]:
    """The checks recorded in this kernel, in the order they were first made.

    Shown in: book/toolkit
    """
    return list(_records.values())


def clear_checks() -> None:
    """Forget every recorded check and erratum (each chapter's setup does).

    Shown in: book/toolkit
    """
    from exderiv.errata import clear_errata

    _records.clear()
    clear_errata()


def verified_table() -> pd.DataFrame:
    """One row per recorded check: label, claim, error, tolerance, the wrong
    versions it catches (with their errors), status.

    Shown in: book/toolkit
    """
    rows = [
        {
            "label": r.label,
            "claim": r.claim,
            "error": format_number(r.error),
            "tolerance": format_number(r.tol),
            "catches": _wrong_list(w for w in r.wrong if w.caught(r.tol))
            if r.wrong
            else "",
            "status": "pass" if r.passed else "FAIL",
        }
        for r in _records.values()
    ]
    if not rows:
        raise RuntimeError(
            "no checks were recorded in this kernel; run the chapter first"
        )
    return pd.DataFrame(
        rows,
        columns=["label", "claim", "error", "tolerance", "catches", "status"],
    )
