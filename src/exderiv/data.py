"""Data sets that need no download: generated toys, and the digits that scikit-learn ships."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

__all__ = ["digits"]


def digits(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 8x8 handwritten digits of ``sklearn.datasets.load_digits``.

    Returns ``(images, labels)``: images of shape ``(1797, 64)`` scaled from the 17 grey levels
    (0..16) to [0, 1], and integer labels of shape ``(1797,)`` in 0..9.
    """
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch dtype, got {dtype}")
    bunch = load_digits()
    images = torch.as_tensor(bunch.data, dtype=dtype) / 16.0
    labels = torch.as_tensor(bunch.target, dtype=torch.long)
    return images, labels
