"""Data sets that need no download: generated toys and scikit-learn's digits."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from exderiv.seeding import torch_generator

__all__ = ["digits", "ring_of_gaussians"]


def digits(
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 8x8 handwritten digits of ``sklearn.datasets.load_digits``.

    Returns ``(images, labels)``: images of shape ``(1797, 64)`` scaled from
    the 17 grey levels (0..16) to [0, 1], and integer labels of shape
    ``(1797,)`` in 0..9.

    Shown in: book/toolkit
    """
    if not dtype.is_floating_point:
        raise TypeError(
            f"dtype must be a floating-point torch dtype, got {dtype}"
        )
    bunch = load_digits()
    images = torch.as_tensor(bunch.data, dtype=dtype) / 16.0
    labels = torch.as_tensor(bunch.target, dtype=torch.long)
    return images, labels


def ring_of_gaussians(
    n: int,
    seed: int,
    n_modes: int = 8,
    radius: float = 2.0,
    std: float = 0.15,
) -> torch.Tensor:
    """``n`` points of shape (n, 2) from an equal-weight mixture of
    ``n_modes`` isotropic Gaussians (standard deviation ``std``) centred on a
    circle of the given ``radius``.

    The 2-D toy target of the diffusion series. Mode ``j`` is centred at
    ``radius * (cos(2 pi j / n_modes), sin(2 pi j / n_modes))``; the modes are
    drawn first, then the Gaussian offsets, from one generator seeded with
    ``seed``. Computed in float64, returned as float32.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not isinstance(n_modes, int) or n_modes < 1:
        raise ValueError(f"n_modes must be a positive int, got {n_modes!r}")
    if not (radius >= 0 and std > 0):
        raise ValueError("need radius >= 0 and std > 0, "
                         f"got radius={radius}, std={std}")
    generator = torch_generator(seed)
    modes = torch.randint(n_modes, (n,), generator=generator)
    angles = 2 * torch.pi * modes.to(torch.float64) / n_modes
    centres = radius * torch.stack([torch.cos(angles), torch.sin(angles)],
                                   dim=1)
    offsets = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    points = centres + std * offsets
    return points.to(torch.float32)
