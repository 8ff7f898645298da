"""Small networks that a series of chapters shares.

``TimeConditionedMLP`` is the noise/velocity predictor of the diffusion series
and ``seeded_init_`` its reproducible initialisation; both are introduced, with
their code, in the chapter *DDPM = demolish + build*
(``book/diffusion/ddpm-demolish-build``).
"""

from __future__ import annotations

import torch
from torch import nn

from exderiv.seeding import torch_generator

__all__ = ["TimeConditionedMLP", "seeded_init_"]


class TimeConditionedMLP(nn.Module):
    """An MLP ``f(x, t)`` for ``x`` of shape (n, dim) and a time ``t`` in
    [0, 1] of shape (n,).

    The time enters through ``n_frequencies`` sine/cosine features
    ``sin(2^k pi t), cos(2^k pi t)`` concatenated with ``x``; ``depth`` hidden
    layers of width ``hidden`` with SiLU activations; the output has the shape
    of ``x``.

    Its weights start from the global generator, as for any ``nn.Module``;
    chapters pass it through :func:`seeded_init_` so that the starting point
    depends on a seed only.

    Shown in: book/diffusion/ddpm-demolish-build
    """

    def __init__(self, dim: int, hidden: int = 128, depth: int = 3,
                 n_frequencies: int = 8):
        super().__init__()
        for name, value in (("dim", dim), ("hidden", hidden),
                            ("depth", depth), ("n_frequencies", n_frequencies)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, "
                                 f"got {value!r}")
        self.dim = dim
        self.register_buffer("frequencies",
                             torch.pi * 2.0 ** torch.arange(n_frequencies))
        layers: list[nn.Module] = []
        width_in = dim + 2 * n_frequencies
        for _ in range(depth):
            layers += [nn.Linear(width_in, hidden), nn.SiLU()]
            width_in = hidden
        layers.append(nn.Linear(width_in, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), "
                             f"got {tuple(x.shape)}")
        if t.shape != (x.shape[0],):
            raise ValueError(f"t must have shape ({x.shape[0]},), "
                             f"got {tuple(t.shape)}")
        # the time features sin(2^k pi t), cos(2^k pi t), k = 0..n_frequencies-1
        angles = t[:, None].to(x.dtype) * self.frequencies.to(x.dtype)
        features = torch.cat([x, torch.sin(angles), torch.cos(angles)], dim=1)
        return self.net(features)


_RANDOM_LAYERS_NOT_HANDLED = (
    nn.Embedding, nn.EmbeddingBag, nn.modules.conv._ConvNd, nn.RNNBase,
    nn.RNNCellBase, nn.MultiheadAttention, nn.Bilinear,
)


def seeded_init_(module: nn.Module, seed: int) -> nn.Module:
    """Re-initialise every ``nn.Linear`` in ``module`` in place from a local
    generator, with PyTorch's default law (weights and biases uniform on
    +-1/sqrt(fan_in)), so that a model's starting point depends on ``seed``
    only, never on the global random state. Returns ``module``.

    Layers that PyTorch initialises at random but this function does not
    (embeddings, convolutions, recurrent layers, attention, bilinear) raise a
    ``ValueError`` rather than stay on the global generator.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    generator = torch_generator(seed)
    unsupported = sorted({type(m).__name__ for m in module.modules()
                          if isinstance(m, _RANDOM_LAYERS_NOT_HANDLED)})
    if unsupported:
        raise ValueError("seeded_init_ initialises nn.Linear only; "
                         f"module also holds {', '.join(unsupported)}, "
                         "which would keep the global generator's values")
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("module has no nn.Linear layer to initialise")
    with torch.no_grad():  # in-place writes to parameters
        for layer in linears:
            bound = layer.in_features ** -0.5
            layer.weight.uniform_(-bound, bound, generator=generator)
            if layer.bias is not None:
                layer.bias.uniform_(-bound, bound, generator=generator)
    return module
