"""Distances and test statistics used to score samples.

``gaussian_kernel_mmd2`` is derived and shown in the chapter *DDPM = demolish +
build* (``book/diffusion/ddpm-demolish-build``) and reused by the rest of the
diffusion series; ``pearson_chi_square``, which tests samples of a discrete law,
is shown in *Autoregressive models* (``book/densities/autoregressive-models``)
and used by the chapters that sample categories or segmentations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch

__all__ = ["gaussian_kernel_mmd2", "pearson_chi_square"]


def _validate_samples(x: torch.Tensor, y: torch.Tensor) -> None:
    for name, sample in (("x", x), ("y", y)):
        if not isinstance(sample, torch.Tensor) or sample.ndim != 2:
            raise ValueError(f"{name} must be a 2-D tensor (n, d)")
        if sample.shape[0] < 2:
            raise ValueError(f"{name} needs at least 2 rows for the unbiased "
                             "estimate")
        if not torch.isfinite(sample).all():
            raise ValueError(f"{name} contains NaN or infinite values")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y differ in dimension: {x.shape[1]} vs "
                         f"{y.shape[1]}")


def gaussian_kernel_mmd2(x: torch.Tensor, y: torch.Tensor,
                         bandwidth: float) -> torch.Tensor:
    """Unbiased estimate of the squared MMD between the laws of ``x`` (n, d)
    and ``y`` (m, d).

    Kernel ``k(a, b) = exp(-||a - b||^2 / (2 * bandwidth^2))`` (Gretton et al.,
    2012, eq. 3): the mean of ``k`` over distinct pairs within ``x``, plus the
    same within ``y``, minus twice the mean over all cross pairs. The estimate
    is unbiased, so it can be slightly negative when the two laws are equal.
    Computed in float64.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    _validate_samples(x, y)
    if not (isinstance(bandwidth, int | float) and math.isfinite(bandwidth)
            and bandwidth > 0):
        raise ValueError("bandwidth must be a positive finite number, "
                         f"got {bandwidth!r}")
    x, y = x.to(torch.float64), y.to(torch.float64)

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.exp(-torch.cdist(a, b).square() / (2 * bandwidth**2))

    def mean_off_diagonal(k: torch.Tensor) -> torch.Tensor:
        n = k.shape[0]
        # eq-ddpm-demolish-build-mmd: distinct pairs only, hence n (n - 1)
        return (k.sum() - k.diagonal().sum()) / (n * (n - 1))

    within = mean_off_diagonal(kernel(x, x)) + mean_off_diagonal(kernel(y, y))
    return within - 2 * kernel(x, y).mean()  # eq-ddpm-demolish-build-mmd


PROBABILITY_TOLERANCE = 1e-9
"""How far a law's probabilities may sum from 1 in :func:`pearson_chi_square`
(absolute); a cell of smaller probability counts as outside the support."""


def _as_float64(values, name: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        tensor = values.detach().cpu()
        if tensor.dtype == torch.bool or tensor.is_complex():
            raise ValueError(f"{name} must be real numbers, got "
                             f"{tensor.dtype}")
        return tensor.to(torch.float64)
    array = np.asarray(values)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be real numbers, got {values!r}")
    return torch.from_numpy(array.astype(np.float64))


def _cells_from(observed, expected_probabilities):
    """(counts, probabilities) as float64 tensors of shape (rows, k)."""
    if isinstance(observed, Mapping) != isinstance(expected_probabilities,
                                                   Mapping):
        raise ValueError("observed and expected_probabilities must both be "
                         "mappings {category: value} or both be arrays")
    if isinstance(observed, Mapping):
        if not expected_probabilities:
            raise ValueError("expected_probabilities is an empty law")
        # categories observed but absent from the law have probability 0
        keys = list(expected_probabilities)
        keys += [key for key in observed if key not in expected_probabilities]
        counts = _as_float64([observed.get(key, 0) for key in keys],
                             "observed")
        probabilities = _as_float64(
            [expected_probabilities.get(key, 0.0) for key in keys],
            "expected_probabilities")
        return counts[None], probabilities[None]
    counts = _as_float64(observed, "observed")
    probabilities = _as_float64(expected_probabilities,
                                "expected_probabilities")
    if counts.shape != probabilities.shape:
        raise ValueError("observed and expected_probabilities differ in "
                         f"shape: {tuple(counts.shape)} vs "
                         f"{tuple(probabilities.shape)}")
    if counts.ndim == 0 or counts.numel() == 0:
        raise ValueError("observed needs at least one cell, shape (..., k)")
    k = counts.shape[-1]
    return counts.reshape(-1, k), probabilities.reshape(-1, k)


def _validate_cells(counts: torch.Tensor, probabilities: torch.Tensor):
    if not torch.isfinite(counts).all():
        raise ValueError("observed contains NaN or infinite counts")
    if (counts < 0).any():
        raise ValueError("observed contains negative counts")
    if (counts != counts.round()).any():
        raise ValueError("observed counts must be whole numbers")
    if not torch.isfinite(probabilities).all():
        raise ValueError("expected_probabilities contains NaN or infinite "
                         "values")
    if (probabilities < 0).any():
        raise ValueError("expected_probabilities contains negative values")
    if (counts.sum(-1) == 0).any():
        raise ValueError("empty sample: the observed counts sum to 0")
    gap = float((probabilities.sum(-1) - 1).abs().max())
    if gap > PROBABILITY_TOLERANCE:
        raise ValueError("expected_probabilities must sum to 1 within "
                         f"{PROBABILITY_TOLERANCE:g}; off by {gap:.3g}")


def pearson_chi_square(observed, expected_probabilities, *,
                       pool_below: float | None = None) -> tuple[float, int]:
    """Pearson's chi-square statistic of observed counts against a law, and
    its degrees of freedom: ``(statistic, dof)``.

    ``observed`` holds counts and ``expected_probabilities`` the law, either
    as two arrays or tensors of the same shape ``(..., k)`` (the last axis
    the cells; each leading index an independent sample, whose statistics and
    degrees of freedom are summed), or as two mappings ``{category: count}``
    and ``{category: probability}`` (a category observed but missing from the
    law has probability 0). The probabilities must sum to 1 within
    ``PROBABILITY_TOLERANCE`` (1e-9); counts must be whole numbers >= 0 with
    a positive total ``n``.

    The statistic is ``sum over cells (O - E)^2 / E`` with ``E = n p``
    (Pearson 1900). Cells:

    - pooling: with ``pool_below`` set, the cells expected fewer than
      ``pool_below`` times (``n p < pool_below``, ``0 < p``) are merged into
      one cell, whose ``E`` is the sum of theirs;
    - outside the support: cells with ``p`` below the tolerance are never
      pooled. If none of them was observed they are left out; otherwise they
      form one cell with ``E = n * PROBABILITY_TOLERANCE`` (the most mass
      the tolerance on the sum leaves unaccounted for), so that each such
      sample adds about ``1 / (n * PROBABILITY_TOLERANCE)``: a large, finite
      statistic (a finite one, so that a wrong version can be scored);
    - degrees of freedom: the number of cells left, minus 1, per sample.

    Under the law the statistic has mean ``dof`` (up to the mass of cells
    left out) and, when every ``E`` is large, approximately a chi-square law
    with ``dof`` degrees of freedom.

    Shown in: book/densities/autoregressive-models
    """
    if pool_below is not None and not (
            isinstance(pool_below, int | float) and math.isfinite(pool_below)
            and pool_below > 0):
        raise ValueError("pool_below must be None or a positive number, "
                         f"got {pool_below!r}")
    counts, probabilities = _cells_from(observed, expected_probabilities)
    _validate_cells(counts, probabilities)
    statistic, dof = 0.0, 0
    for o, p in zip(counts, probabilities, strict=True):
        n = float(o.sum())
        outside = p < PROBABILITY_TOLERANCE
        pooled = (~outside & (n * p < pool_below) if pool_below is not None
                  else torch.zeros_like(outside))
        kept = ~outside & ~pooled
        cells_o, cells_e = [o[kept]], [n * p[kept]]
        if pooled.any():
            cells_o.append(o[pooled].sum()[None])
            cells_e.append(n * p[pooled].sum()[None])
        if o[outside].sum() > 0:  # samples where the law puts no mass
            cells_o.append(o[outside].sum()[None])
            cells_e.append(torch.full((1,), n * PROBABILITY_TOLERANCE,
                                      dtype=torch.float64))
        o_cells, e_cells = torch.cat(cells_o), torch.cat(cells_e)
        statistic += float(((o_cells - e_cells) ** 2 / e_cells).sum())
        dof += len(o_cells) - 1
    return statistic, dof
