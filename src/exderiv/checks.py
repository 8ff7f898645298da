"""The check helper: one call per claim, one printed line per call, one row in the chapter's table.

A chapter calls :func:`check` (an error it computed itself) or :func:`check_close` (two values
that must agree) right after the equation it verifies. Each call prints a line such as::

    [pass] eq-hub-ball-volume | ball volume: Monte Carlo vs closed form | err 3.1e-03 <= tol 1.2e-02

and raises :class:`CheckFailed` when the error exceeds the tolerance, so a notebook whose
mathematics is wrong stops executing (and nbval fails). Every call is recorded; the chapter's
"what was verified" table is :func:`verified_table`, built from the records, never typed by hand.

Printed errors are rounded to two significant figures. Their last digit may still differ between
CPUs (summation order), so the book's nbval run sanitises numbers in scientific notation (see
``tests/nbval_sanitize.cfg``); the tolerance is enforced here, on the unrounded error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

__all__ = [
    "CheckFailed",
    "CheckRecord",
    "check",
    "check_close",
    "clear_checks",
    "recorded_checks",
    "verified_table",
]

LABEL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""Labels are MyST equation labels (``eq-…``) or claim names in the same kebab-case."""


class CheckFailed(AssertionError):
    """A claim's measured error exceeded its tolerance (or was not a number)."""


@dataclass(frozen=True)
class CheckRecord:
    """The outcome of one :func:`check` call."""

    label: str
    claim: str
    error: float
    tol: float

    @property
    def passed(self) -> bool:
        return self.error <= self.tol  # False for NaN, by IEEE comparison

    def line(self) -> str:
        status = "pass" if self.passed else "FAIL"
        return (
            f"[{status}] {self.label} | {self.claim} | "
            f"err {_format_number(self.error)} <= tol {_format_number(self.tol)}"
        )


_records: dict[tuple[str, str], CheckRecord] = {}


def _format_number(value: float) -> str:
    return f"{value:.1e}" if math.isfinite(value) else str(value)


def _as_float(value: object, what: str) -> float:
    """Convert a Python, NumPy, torch or SymPy scalar to float, or say clearly why not."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"{what} must be a scalar, got a tensor of shape {tuple(value.shape)}")
        return float(value.detach().cpu().item())
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise TypeError(f"{what} must be a scalar, got an array of shape {value.shape}")
        return float(value.reshape(()))
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, got the bool {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{what} must be a real number; got {type(value).__name__} {value!r} "
            "(a SymPy expression must simplify to a number before it is checked)"
        ) from exc


def _as_float64_tensor(value: object, what: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64)
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise TypeError(f"{what} must be real numbers, got dtype {array.dtype}")
    return torch.from_numpy(array.astype(np.float64))


def _validate_label_and_claim(label: object, claim: object) -> None:
    if not isinstance(label, str) or not LABEL_PATTERN.match(label):
        raise ValueError(
            f"label must be a kebab-case string such as 'eq-hub-ball-volume', got {label!r}"
        )
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("claim must be a non-empty sentence saying what is checked")


def check(label: str, claim: str, error: object, tol: object) -> CheckRecord:
    """Record and print one claim; raise :class:`CheckFailed` if ``error > tol``.

    Parameters
    ----------
    label:
        The equation label the claim verifies (``"eq-…"``), or a kebab-case claim name.
    claim:
        What was compared, in a few words ("ball volume: Monte Carlo vs closed form").
    error:
        The measured, non-negative error (scalar: float, 0-d tensor or array, SymPy number).
    tol:
        The justified tolerance (finite, non-negative), e.g. four Monte Carlo standard errors.
    """
    _validate_label_and_claim(label, claim)
    error_value = _as_float(error, "error")
    tol_value = _as_float(tol, "tol")
    if not (math.isfinite(tol_value) and tol_value >= 0):
        raise ValueError(f"tol must be finite and non-negative, got {tol_value}")
    if error_value < 0:
        raise ValueError(f"error must be non-negative (a distance), got {error_value}")
    record = CheckRecord(label, claim.strip(), error_value, tol_value)
    _records[(record.label, record.claim)] = record
    print(record.line())
    if not record.passed:
        raise CheckFailed(record.line())
    return record


def check_close(
    label: str,
    claim: str,
    actual: object,
    expected: object,
    tol: float,
    *,
    relative: bool = False,
) -> CheckRecord:
    """Check that ``actual`` and ``expected`` agree elementwise; shapes must match exactly.

    The error is ``max |actual - expected|``, or with ``relative=True`` that maximum divided by
    ``max |expected|`` (a norm-wise relative error, well defined when single entries are zero).
    NaN anywhere makes the error NaN, which fails.
    """
    _validate_label_and_claim(label, claim)
    actual_t = _as_float64_tensor(actual, "actual")
    expected_t = _as_float64_tensor(expected, "expected")
    if actual_t.shape != expected_t.shape:
        raise ValueError(
            f"shapes differ: actual {tuple(actual_t.shape)} vs expected {tuple(expected_t.shape)}"
            " (no broadcasting, so a mis-shaped result cannot pass by accident)"
        )
    if actual_t.numel() == 0:
        raise ValueError("nothing to compare: actual and expected are empty")
    diff = (actual_t - expected_t).abs()
    error = float("nan") if torch.isnan(diff).any() else float(diff.max())
    if relative:
        scale = float(expected_t.abs().max())
        if not scale > 0:
            raise ValueError("relative=True needs an expected value that is not all zeros")
        error /= scale
    return check(label, claim, error, tol)


def recorded_checks() -> list[CheckRecord]:
    """The checks recorded in this kernel, in the order they were first made."""
    return list(_records.values())


def clear_checks() -> None:
    """Forget every recorded check (a chapter's setup cell calls this)."""
    _records.clear()


def verified_table() -> pd.DataFrame:
    """One row per recorded check: label, claim, error, tolerance, status."""
    rows = [
        {
            "label": r.label,
            "claim": r.claim,
            "error": _format_number(r.error),
            "tolerance": _format_number(r.tol),
            "status": "pass" if r.passed else "FAIL",
        }
        for r in _records.values()
    ]
    if not rows:
        raise RuntimeError("no checks were recorded in this kernel; run the chapter first")
    return pd.DataFrame(rows, columns=["label", "claim", "error", "tolerance", "status"])
