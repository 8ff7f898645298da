"""The small DDPM recipe of the diffusion series: noise schedule,
epsilon-prediction training, ancestral sampling.

Derived and shown in the chapter *DDPM = demolish + build*
(``book/diffusion/ddpm-demolish-build``); the chapter *DDPM = an autoregressive
VAE* (``book/diffusion/ddpm-autoregressive-vae``) retrains the same 2-D model
with it and evaluates its variational bound.

Notation follows J. Su's articles (kexue.fm/archives/9119): one forward
("demolish") step is ``x_t = alpha_t x_{t-1} + beta_t eps_t`` with
``alpha_t**2 + beta_t**2 == 1``, and the marginal is
``x_t = alpha_bar_t x_0 + beta_bar_t eps`` with
``alpha_bar_t = alpha_1 ... alpha_t`` and
``beta_bar_t = sqrt(1 - alpha_bar_t**2)``. Ho, Jain and Abbeel (2020) write
the *squares*: their ``beta_t`` is ``beta_t**2`` here, their ``alpha_t`` is
``alpha_t**2`` and their ``alpha_bar_t`` is ``alpha_bar_t**2`` (see
:meth:`DDPMSchedule.ho_betas`).

The network ``model(x_t, s)`` predicts the noise ``eps`` of the marginal (Ho et
al.'s ``eps_theta``) from ``x_t`` of shape (n, d) and the time ``s = t / T`` in
(0, 1] of shape (n,); :class:`exderiv.TimeConditionedMLP` has that signature.
A class-conditional model is called as ``model(x_t, s, labels)``.

A comment ``# eq-ddpm-demolish-build-<name>`` marks each line that implements
the chapter's labelled equation of that name, where it is stated and checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from exderiv.data import ring_of_gaussians
from exderiv.models import TimeConditionedMLP, seeded_init_
from exderiv.progress import progress
from exderiv.seeding import torch_generator

__all__ = [
    "DDPMSchedule",
    "RingRecipe",
    "ddpm_loss",
    "ddpm_sample",
    "diffuse",
    "linear_schedule",
    "reverse_mean",
    "reverse_std",
    "train_ddpm",
    "train_ring_ddpm",
]

SIGMA_CHOICES = ("beta", "tilde")
"""Reverse-step standard deviations: ``"beta"`` is sigma_t = beta_t (Ho et
al.'s sigma_t^2 = beta_t, diffusers' ``fixed_large``); ``"tilde"`` is the
forward posterior's sigma_t = beta_bar_{t-1} beta_t / beta_bar_t (Ho et al.'s
beta-tilde, diffusers' ``fixed_small``)."""


@dataclass(frozen=True)
class DDPMSchedule:
    """Coefficients of a T-step forward process in Su's notation, float64
    tensors of shape ``(T + 1,)`` indexed by the step ``t = 0, 1, ..., T``.

    Entry 0 is the empty step: ``alpha[0] = alpha_bar[0] = 1`` and
    ``beta[0] = beta_bar[0] = 0``.

    Shown in: book/diffusion/ddpm-demolish-build
    """

    alpha: torch.Tensor
    beta: torch.Tensor
    alpha_bar: torch.Tensor
    beta_bar: torch.Tensor

    def __post_init__(self) -> None:
        shapes = {name: tuple(getattr(self, name).shape)
                  for name in ("alpha", "beta", "alpha_bar", "beta_bar")}
        if (len(set(shapes.values())) != 1 or len(shapes["alpha"]) != 1
                or shapes["alpha"][0] < 2):
            raise ValueError("all coefficients must have one shape (T + 1,), "
                             f"T >= 1: {shapes}")

    @property
    def T(self) -> int:
        """The number of forward steps."""
        return self.alpha.shape[0] - 1

    def ho_betas(self) -> torch.Tensor:
        """Ho et al.'s variances beta_t^{Ho} = beta_t**2 for t = 1..T,
        shape (T,)."""
        return self.beta[1:] ** 2  # eq-ddpm-demolish-build-schedule

    def ho_alphas_cumprod(self) -> torch.Tensor:
        """Ho et al.'s alpha_bar_t^{Ho} = alpha_bar_t**2 for t = 1..T,
        shape (T,)."""
        return self.alpha_bar[1:] ** 2  # eq-ddpm-demolish-build-marginal


def linear_schedule(T: int = 1000, beta_start: float = 1e-4,
                    beta_end: float = 0.02) -> DDPMSchedule:
    """Ho et al.'s (2020) schedule: their variances beta_t^{Ho} grow linearly
    in t from ``beta_start`` (t = 1) to ``beta_end`` (t = T).

    Returned in Su's notation, float64: ``beta_t = sqrt(beta_t^{Ho})``,
    ``alpha_t = sqrt(1 - beta_t^{Ho})``, ``alpha_bar_t = prod_{s<=t} alpha_s``,
    ``beta_bar_t = sqrt(1 - alpha_bar_t**2)``, the last two computed through
    ``log(alpha_bar_t**2) = sum_{s<=t} log1p(-beta_s^{Ho})`` so that
    ``beta_bar_t`` keeps full float64 relative precision even where it is tiny.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if not isinstance(T, int) or T < 2:
        raise ValueError(f"T must be an int >= 2, got {T!r}")
    if not 0 < beta_start <= beta_end < 1:
        raise ValueError("need 0 < beta_start <= beta_end < 1, "
                         f"got {beta_start}, {beta_end}")
    # eq-ddpm-demolish-build-schedule: beta_t^Ho linear in t = 1..T
    ho_betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    zero = torch.zeros(1, dtype=torch.float64)
    beta = torch.cat([zero, ho_betas.sqrt()])  # eq-ddpm-demolish-build-schedule
    # eq-ddpm-demolish-build-forward: alpha_t^2 + beta_t^2 = 1
    alpha = torch.cat([zero + 1, torch.sqrt(1 - ho_betas)])
    # log(alpha_bar_t^2) as a sum of log1p terms (twice the left side of
    # eq-ddpm-demolish-build-abar-final); beta_bar_t^2 = -expm1(...) keeps full
    # relative precision at small t, where 1 - alpha_bar_t^2 would cancel.
    log_abar2 = torch.cat([zero, torch.cumsum(torch.log1p(-ho_betas), dim=0)])
    # eq-ddpm-demolish-build-marginal: alpha_bar_t and beta_bar_t
    alpha_bar = torch.exp(log_abar2 / 2)
    beta_bar = torch.sqrt(-torch.expm1(log_abar2))
    return DDPMSchedule(alpha=alpha, beta=beta, alpha_bar=alpha_bar,
                        beta_bar=beta_bar)


def _check_steps(schedule: DDPMSchedule, t: torch.Tensor, n: int) -> None:
    if (not isinstance(t, torch.Tensor) or t.dtype != torch.long
            or t.shape != (n,)):
        raise ValueError(f"t must be a long tensor of shape ({n},), "
                         f"got {t!r:.60}")
    if n and (int(t.min()) < 1 or int(t.max()) > schedule.T):
        raise ValueError(f"steps must lie in 1..{schedule.T}")


def diffuse(schedule: DDPMSchedule, x0: torch.Tensor, t: torch.Tensor,
            noise: torch.Tensor) -> torch.Tensor:
    """The closed-form marginal x_t = alpha_bar_t x_0 + beta_bar_t eps.

    ``x0`` and ``noise``: (n, d); ``t``: long tensor (n,) with steps in 1..T.
    Returns (n, d) in the dtype of ``x0``.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if x0.ndim != 2 or noise.shape != x0.shape:
        raise ValueError("x0 must be (n, d) and noise the same shape; got "
                         f"{tuple(x0.shape)}, {tuple(noise.shape)}")
    _check_steps(schedule, t, x0.shape[0])
    a = schedule.alpha_bar[t].to(x0.dtype)[:, None]
    b = schedule.beta_bar[t].to(x0.dtype)[:, None]
    return a * x0 + b * noise  # eq-ddpm-demolish-build-marginal


def _call(model: Callable[..., torch.Tensor], x: torch.Tensor,
          s: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    return model(x, s) if labels is None else model(x, s, labels)


def ddpm_loss(model: Callable[..., torch.Tensor], schedule: DDPMSchedule,
              x0: torch.Tensor, generator: torch.Generator,
              labels: torch.Tensor | None = None) -> torch.Tensor:
    """Ho et al.'s L_simple on one batch: the mean over the batch and the
    coordinates of (eps - eps_theta(alpha_bar_t x_0 + beta_bar_t eps, t / T))**2
    with t ~ U{1..T}, eps ~ N(0, I).

    ``x0``: (n, d); ``labels``: optional long tensor (n,) passed to a
    conditional model. Returns a 0-d tensor.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if x0.ndim != 2 or x0.shape[0] < 1:
        raise ValueError("x0 must be a non-empty (n, d) batch, "
                         f"got shape {tuple(x0.shape)}")
    n = x0.shape[0]
    # eq-ddpm-demolish-build-simple-loss: t ~ U{1..T}, eps ~ N(0, I), and
    # x_t from the marginal
    t = torch.randint(1, schedule.T + 1, (n,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    x_t = diffuse(schedule, x0, t, noise)
    s = t.to(x0.dtype) / schedule.T
    # eq-ddpm-demolish-build-simple-loss, averaged over coordinates too (/ d)
    return (noise - _call(model, x_t, s, labels)).square().mean()


def train_ddpm(model: nn.Module, schedule: DDPMSchedule, data: torch.Tensor,
               *, steps: int, batch_size: int, lr: float, seed: int,
               labels: torch.Tensor | None = None,
               desc: str = "training") -> torch.Tensor:
    """Train ``model`` in place with Adam on :func:`ddpm_loss` (Ho et al.'s
    Algorithm 1).

    ``data``: (N, d) training points; minibatches of ``batch_size`` rows are
    drawn with replacement from a generator seeded with ``seed``, and the
    learning rate decays linearly to zero over ``steps``. ``labels``: optional
    (N,) long tensor for a conditional model. Returns the per-step losses,
    shape (steps,), float64.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if data.ndim != 2 or data.shape[0] < 1:
        raise ValueError("data must be (N, d) with N >= 1, "
                         f"got {tuple(data.shape)}")
    if labels is not None and labels.shape != (data.shape[0],):
        raise ValueError(f"labels must have shape ({data.shape[0]},), "
                         f"got {tuple(labels.shape)}")
    if not (isinstance(steps, int) and steps >= 1
            and isinstance(batch_size, int) and batch_size >= 1 and lr > 0):
        raise ValueError("need int steps >= 1, int batch_size >= 1 and lr > 0")
    generator = torch_generator(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    decay = torch.optim.lr_scheduler.LambdaLR(optimiser,
                                              lambda k: 1 - k / steps)
    losses = torch.empty(steps, dtype=torch.float64)
    model.train()
    for k in progress(range(steps), desc):
        idx = torch.randint(data.shape[0], (batch_size,), generator=generator)
        batch_labels = None if labels is None else labels[idx]
        loss = ddpm_loss(model, schedule, data[idx], generator, batch_labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        decay.step()
        losses[k] = loss.detach()
    model.eval()
    return losses


def reverse_mean(schedule: DDPMSchedule, x_t: torch.Tensor, t: int,
                 eps_hat: torch.Tensor) -> torch.Tensor:
    """Mean of one reverse ("build") step,
    mu = (x_t - beta_t**2 / beta_bar_t * eps_hat) / alpha_t, for a single step
    ``t`` in 1..T; ``x_t`` and ``eps_hat``: (n, d).

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if not (isinstance(t, int) and 1 <= t <= schedule.T):
        raise ValueError(f"t must be an int in 1..{schedule.T}, got {t!r}")
    if eps_hat.shape != x_t.shape:
        raise ValueError(f"eps_hat {tuple(eps_hat.shape)} must match "
                         f"x_t {tuple(x_t.shape)}")
    # eq-ddpm-demolish-build-sampling: Su's beta_t eps_theta, written with
    # Ho's eps_hat = (beta_bar_t / beta_t) eps_theta
    coef = float(schedule.beta[t] ** 2 / schedule.beta_bar[t])
    # eq-ddpm-demolish-build-reverse-mean
    return (x_t - coef * eps_hat) / float(schedule.alpha[t])


def reverse_std(schedule: DDPMSchedule, sigma: str) -> torch.Tensor:
    """The reverse-step standard deviations sigma_t, float64 of shape (T + 1,)
    (entry 0 unused).

    ``sigma="beta"``: sigma_t = beta_t. ``sigma="tilde"``: sigma_t =
    beta_bar_{t-1} beta_t / beta_bar_t, the standard deviation of
    q(x_{t-1} | x_t, x_0); it is 0 at t = 1.

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if sigma == "beta":
        return schedule.beta.clone()
    if sigma == "tilde":
        out = torch.zeros_like(schedule.beta)
        # eq-ddpm-demolish-build-posterior-variance (its square root)
        out[1:] = (schedule.beta_bar[:-1] * schedule.beta[1:]
                   / schedule.beta_bar[1:])
        return out
    raise ValueError(f"sigma must be one of {SIGMA_CHOICES}, got {sigma!r}")


def ddpm_sample(model: Callable[..., torch.Tensor], schedule: DDPMSchedule,
                n: int, dim: int, *, generator: torch.Generator,
                sigma: str = "beta",
                labels: torch.Tensor | None = None) -> torch.Tensor:
    """Ancestral sampling (Ho et al.'s Algorithm 2) with all T steps, float32.

    Start from x_T ~ N(0, I) of shape (n, dim); for t = T, ..., 1 set
    x_{t-1} = reverse_mean(x_t, t, eps_theta(x_t, t / T)) + sigma_t z with
    z ~ N(0, I), and no noise at t = 1. ``sigma`` is ``"beta"`` or ``"tilde"``
    (:func:`reverse_std`); ``labels``: optional (n,) long tensor for a
    conditional model. Runs without gradients. Returns x_0 of shape (n, dim).

    Shown in: book/diffusion/ddpm-demolish-build
    """
    if not (isinstance(n, int) and n >= 1 and isinstance(dim, int)
            and dim >= 1):
        raise ValueError(f"n and dim must be positive ints, got {n!r}, {dim!r}")
    if labels is not None and labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), "
                         f"got {tuple(labels.shape)}")
    stds = reverse_std(schedule, sigma)
    with torch.no_grad():
        x = torch.randn(n, dim, generator=generator)
        for t in range(schedule.T, 0, -1):
            s = torch.full((n,), t / schedule.T)
            # eq-ddpm-demolish-build-sampling: the mean, then + sigma_t z
            x = reverse_mean(schedule, x, t, _call(model, x, s, labels))
            if t > 1:  # eq-ddpm-demolish-build-sampling: z = 0 at t = 1
                z = torch.randn(n, dim, generator=generator)
                x = x + float(stds[t]) * z
    return x


@dataclass(frozen=True)
class RingRecipe:
    """Everything that fixes the diffusion series' 2-D model.

    The training set (``ring_of_gaussians(n_train, data_seed)``), the network
    (``TimeConditionedMLP(2, hidden, depth)`` initialised by
    :func:`seeded_init_` with ``init_seed``) and the optimisation
    (:func:`train_ddpm` with ``steps``, ``batch_size``, ``lr``, ``train_seed``)
    on Ho et al.'s schedule with ``T`` steps.

    Shown in: book/diffusion/ddpm-demolish-build
    """

    n_train: int = 4000
    data_seed: int = 1
    hidden: int = 128
    depth: int = 3
    init_seed: int = 2
    train_seed: int = 3
    steps: int = 3000
    batch_size: int = 512
    lr: float = 3e-3
    T: int = 1000


def train_ring_ddpm(
    recipe: RingRecipe | None = None,
) -> tuple[TimeConditionedMLP, torch.Tensor]:
    """Train the series' 2-D noise predictor on the ring of Gaussians,
    deterministically.

    Returns ``(model, losses)``: the trained :class:`TimeConditionedMLP` (in
    eval mode) and the per-step training losses of shape (recipe.steps,). Two
    calls with the same recipe return identical weights (on one thread count;
    see the chapters for how they pin it).

    Shown in: book/diffusion/ddpm-demolish-build
    """
    recipe = RingRecipe() if recipe is None else recipe
    if not isinstance(recipe, RingRecipe):
        raise TypeError(f"recipe must be a RingRecipe, "
                        f"got {type(recipe).__name__}")
    data = ring_of_gaussians(recipe.n_train, seed=recipe.data_seed)
    model = seeded_init_(
        TimeConditionedMLP(2, hidden=recipe.hidden, depth=recipe.depth),
        recipe.init_seed)
    losses = train_ddpm(model, linear_schedule(recipe.T), data,
                        steps=recipe.steps, batch_size=recipe.batch_size,
                        lr=recipe.lr, seed=recipe.train_seed,
                        desc="training the 2-D model")
    return model, losses
