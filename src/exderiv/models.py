"""Small networks that a series of chapters shares.

``TimeConditionedMLP`` is the noise/velocity predictor of the diffusion series; its recipe is
introduced in the chapter *DDPM = demolish + build* (``book/diffusion/ddpm-demolish-build``).
"""

from __future__ import annotations

import torch
from torch import nn

from exderiv.seeding import _validate_seed

__all__ = ["TimeConditionedMLP"]


class TimeConditionedMLP(nn.Module):
    """An MLP ``f(x, t)`` for ``x`` of shape (n, dim) and a time ``t`` in [0, 1] of shape (n,).

    The time enters through ``n_frequencies`` sine/cosine features ``sin(2^k pi t), cos(2^k pi t)``
    concatenated with ``x``; ``depth`` hidden layers of width ``hidden`` with SiLU activations;
    the output has the shape of ``x``.

    Pass ``seed`` to draw the initial weights from a local generator (PyTorch's default
    initialisation, reproducibly, leaving the global random state untouched); without it the
    weights come from the global generator, as for any ``nn.Module``.
    """

    def __init__(
        self,
        dim: int,
        hidden: int = 128,
        depth: int = 3,
        n_frequencies: int = 8,
        *,
        seed: int | None = None,
    ):
        super().__init__()
        for name, value in (("dim", dim), ("hidden", hidden), ("depth", depth),
                            ("n_frequencies", n_frequencies)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.dim = dim
        self.register_buffer("frequencies", torch.pi * 2.0 ** torch.arange(n_frequencies))
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(_validate_seed(seed))
            layers: list[nn.Module] = []
            width_in = dim + 2 * n_frequencies
            for _ in range(depth):
                layers += [nn.Linear(width_in, hidden), nn.SiLU()]
                width_in = hidden
            layers.append(nn.Linear(width_in, dim))
            self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {tuple(x.shape)}")
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must have shape ({x.shape[0]},), got {tuple(t.shape)}")
        angles = t[:, None].to(x.dtype) * self.frequencies.to(x.dtype)
        features = torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=1)
        return self.net(features)
