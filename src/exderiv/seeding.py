"""Local random generators: chapters never touch the global random state."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["numpy_generator", "torch_generator"]


def _validate_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must lie in [0, 2**63), got {seed}")
    return int(seed)


def torch_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``; pass it as
    ``generator=`` to samplers.

    Shown in: book/toolkit
    """
    return torch.Generator().manual_seed(_validate_seed(seed))


def numpy_generator(seed: int) -> np.random.Generator:
    """A NumPy ``Generator`` (PCG64) seeded with ``seed``.

    Shown in: book/toolkit
    """
    return np.random.default_rng(_validate_seed(seed))
