"""A guard for values printed or glued at a fixed number of decimals.

A trained model's accuracy or perplexity is reproducible on one machine, but
another CPU's round-off can move it slightly. The stored digits then still agree
unless the value sits next to a rounding step, where the smallest move flips the
last printed digit and nbval fails on the reader's machine. Chapters pass such
values through :func:`clear_of_rounding` before printing them.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["clear_of_rounding"]


def clear_of_rounding(values, decimals: int, *, margin: float):
    """Return ``values`` unchanged if every one of them lies at least
    ``margin`` away from a rounding step of ``decimals`` decimals (the
    midpoints ``(k + 1/2) 10^-decimals``); otherwise raise ``ValueError``
    naming the value and its distance.

    ``values``: a number, or an array, tensor or (nested) sequence of numbers.
    ``margin`` is how far a run on another CPU might move a value: for an
    accuracy over ``N`` predictions at least ``1 / N`` (one flipped
    prediction), and never below float round-off. Chapters that refuse a
    value here restructure (more test data, a coarser print), never loosen
    the margin until it passes.

    Shown in: book/sequences/position-encodings
    """
    if type(decimals) is not int or not 0 <= decimals <= 12:
        raise ValueError(f"decimals must be an int from 0 to 12, "
                         f"got {decimals!r}")
    unit = 10.0 ** -decimals
    if (isinstance(margin, bool) or not isinstance(margin, int | float)
            or not 0 < margin < unit / 2):
        raise ValueError("margin must be a positive number below half a unit "
                         f"of the last decimal ({unit / 2:g}), got {margin!r}")
    if isinstance(values, torch.Tensor):
        flat = values.detach().cpu().to(torch.float64).numpy().ravel()
    else:
        flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        raise ValueError("no values to check")
    if not np.isfinite(flat).all():
        raise ValueError("values contain NaN or infinities")
    # distance of each value to the nearest midpoint (k + 1/2) unit
    distance = np.abs(np.abs(flat / unit) % 1 - 0.5) * unit
    worst = int(distance.argmin())
    if distance[worst] < margin:
        raise ValueError(
            f"{float(flat[worst])!r} lies {distance[worst]:.1e} from a "
            f"rounding step of {decimals} decimals (margin {margin:g}): "
            "another CPU could print it differently")
    return values
