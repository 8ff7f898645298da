"""Two-sample distances used to score generated samples.

Derived and shown in the chapter *DDPM = demolish + build*
(``book/diffusion/ddpm-demolish-build``); reused by the rest of the diffusion
series.
"""

from __future__ import annotations

import math

import torch

__all__ = ["gaussian_kernel_mmd2"]


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
