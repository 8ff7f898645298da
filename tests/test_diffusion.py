"""Unit tests for exderiv.diffusion, the DDPM recipe of the diffusion series (a few seconds)."""

from __future__ import annotations

import math

import pytest
import torch

import exderiv
from exderiv.diffusion import (
    DDPMSchedule,
    RingRecipe,
    ddpm_loss,
    ddpm_sample,
    diffuse,
    linear_schedule,
    reverse_mean,
    reverse_std,
    seeded_init_,
    train_ddpm,
    train_ring_ddpm,
)

EPS64 = torch.finfo(torch.float64).eps


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread avoids oversubscription on a busy machine (restored after)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_schedule_matches_ho_et_al_and_su_identities():
    s = linear_schedule(1000)
    assert s.T == 1000
    assert s.alpha.shape == s.beta.shape == s.alpha_bar.shape == s.beta_bar.shape == (1001,)
    assert all(v.dtype == torch.float64 for v in (s.alpha, s.beta, s.alpha_bar, s.beta_bar))
    hb = s.ho_betas()
    assert hb[0].item() == pytest.approx(1e-4, rel=1e-12)
    assert hb[-1].item() == pytest.approx(0.02, rel=1e-12)
    torch.testing.assert_close(hb, torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64))
    assert (s.alpha**2 + s.beta**2 - 1).abs().max() < 8 * EPS64
    assert (s.alpha_bar**2 + s.beta_bar**2 - 1).abs().max() < 8 * EPS64
    torch.testing.assert_close(s.alpha_bar, torch.cumprod(s.alpha, 0), rtol=1e-12, atol=0)
    torch.testing.assert_close(s.ho_alphas_cumprod(), torch.cumprod(1 - hb, 0), rtol=1e-12, atol=0)
    # full relative precision where 1 - alpha_bar^2 would cancel: beta_bar_1 = beta_1 exactly
    assert s.beta_bar[1].item() == pytest.approx(s.beta[1].item(), rel=1e-14)
    assert s.alpha_bar[0] == 1 and s.beta_bar[0] == 0


@pytest.mark.parametrize("kwargs", [{"T": 1}, {"T": 10.0}, {"beta_start": 0.0},
                                    {"beta_start": 0.5, "beta_end": 0.1}, {"beta_end": 1.0}])
def test_schedule_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        linear_schedule(**kwargs)


def test_schedule_dataclass_rejects_mismatched_shapes():
    z = torch.zeros(5, dtype=torch.float64)
    with pytest.raises(ValueError):
        DDPMSchedule(alpha=z, beta=z, alpha_bar=z, beta_bar=torch.zeros(4, dtype=torch.float64))


def test_diffuse_is_the_closed_form_marginal_and_validates():
    s = linear_schedule(100)
    gen = exderiv.torch_generator(0)
    x0 = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    noise = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    t = torch.tensor([1, 2, 3, 10, 50, 99, 100])
    expected = s.alpha_bar[t, None] * x0 + s.beta_bar[t, None] * noise
    torch.testing.assert_close(diffuse(s, x0, t, noise), expected)
    with pytest.raises(ValueError):
        diffuse(s, x0, torch.tensor([0, 1, 2, 3, 4, 5, 6]), noise)  # step 0 is not a step
    with pytest.raises(ValueError):
        diffuse(s, x0, torch.full((7,), 101), noise)
    with pytest.raises(ValueError):
        diffuse(s, x0, t.float(), noise)
    with pytest.raises(ValueError):
        diffuse(s, x0, t, noise[:, :2])


def test_reverse_mean_inverts_one_forward_step():
    s = linear_schedule(50)
    gen = exderiv.torch_generator(1)
    x_prev = torch.randn(100, 2, generator=gen, dtype=torch.float64)
    eps_t = torch.randn(100, 2, generator=gen, dtype=torch.float64)
    for t in (1, 7, 50):
        x_t = s.alpha[t] * x_prev + s.beta[t] * eps_t
        eps_hat = s.beta_bar[t] / s.beta[t] * eps_t  # the article's eps_theta in Ho's scaling
        torch.testing.assert_close(reverse_mean(s, x_t, t, eps_hat), x_prev)
    with pytest.raises(ValueError):
        reverse_mean(s, x_prev, 0, eps_t)
    with pytest.raises(ValueError):
        reverse_mean(s, x_prev, 3, eps_t[:, :1])


def test_reverse_std_choices():
    s = linear_schedule(100)
    torch.testing.assert_close(reverse_std(s, "beta"), s.beta)
    tilde = reverse_std(s, "tilde")
    assert tilde[1] == 0
    ho = s.ho_betas()
    ho_tilde = (1 - s.ho_alphas_cumprod()[:-1]) / (1 - s.ho_alphas_cumprod()[1:]) * ho[1:]
    torch.testing.assert_close(tilde[2:] ** 2, ho_tilde, rtol=1e-10, atol=0)
    assert (tilde[1:] <= s.beta[1:]).all()
    with pytest.raises(ValueError):
        reverse_std(s, "large")


def test_ddpm_loss_is_deterministic_and_about_one_for_a_zero_model():
    s = linear_schedule(100)
    x0 = exderiv.ring_of_gaussians(4096, seed=2)

    def zero_model(x, t):
        return torch.zeros_like(x)

    a = ddpm_loss(zero_model, s, x0, exderiv.torch_generator(3))
    b = ddpm_loss(zero_model, s, x0, exderiv.torch_generator(3))
    assert a.ndim == 0 and a == b
    # E eps^2 = 1; the mean of 8192 squares of standard normals has s.e. sqrt(2 / 8192)
    assert abs(a.item() - 1) < 4 * math.sqrt(2 / 8192)
    with pytest.raises(ValueError):
        ddpm_loss(zero_model, s, x0[0], exderiv.torch_generator(3))


def test_seeded_init_is_local_and_reproducible():
    state = torch.get_rng_state()
    a = seeded_init_(exderiv.TimeConditionedMLP(2, hidden=8), seed=5)
    b = seeded_init_(exderiv.TimeConditionedMLP(2, hidden=8), seed=5)
    c = seeded_init_(exderiv.TimeConditionedMLP(2, hidden=8), seed=6)
    torch.set_rng_state(state)  # constructing the modules used the global state; init did not
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters(), strict=True))
    for p, layer in zip(list(a.parameters())[::2], [m for m in a.modules()
                                                     if isinstance(m, torch.nn.Linear)],
                        strict=True):
        assert p.abs().max() <= layer.in_features ** -0.5
    with pytest.raises(ValueError):
        seeded_init_(torch.nn.ReLU(), seed=0)


def test_train_ddpm_is_deterministic_and_validates():
    s = linear_schedule(20)
    data = exderiv.ring_of_gaussians(64, seed=7)

    def run():
        model = seeded_init_(exderiv.TimeConditionedMLP(2, hidden=8, depth=1), seed=8)
        losses = train_ddpm(model, s, data, steps=6, batch_size=16, lr=1e-2, seed=9)
        return model, losses

    (m1, l1), (m2, l2) = run(), run()
    assert l1.shape == (6,) and torch.isfinite(l1).all()
    assert torch.equal(l1, l2)
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
    with pytest.raises(ValueError):
        train_ddpm(m1, s, data, steps=0, batch_size=16, lr=1e-2, seed=9)
    with pytest.raises(ValueError):
        train_ddpm(m1, s, data, steps=2, batch_size=16, lr=1e-2, seed=9,
                   labels=torch.zeros(3, dtype=torch.long))


def test_sampler_with_the_exact_noise_predictor_of_gaussian_data_returns_gaussian_data():
    # For x_0 ~ N(0, I) every marginal is N(0, I) and E[eps | x_t] = beta_bar_t x_t; with
    # sigma_t = beta_t the sampler is then the exact reverse chain, so x_0 ~ N(0, I) exactly
    # (up to the prior mismatch abar_T^2 ~ e^-10).
    s = linear_schedule(100, beta_start=1e-3, beta_end=0.2)

    def oracle(x, t):
        return s.beta_bar[torch.round(t * s.T).long(), None].float() * x

    n = 20_000
    x = ddpm_sample(oracle, s, n, 2, generator=exderiv.torch_generator(10), sigma="beta")
    assert x.shape == (n, 2)
    assert x.mean(0).abs().max() < 4 / math.sqrt(n)
    assert (x.var(0) - 1).abs().max() < 4 * math.sqrt(2 / n)
    again = ddpm_sample(oracle, s, n, 2, generator=exderiv.torch_generator(10), sigma="beta")
    assert torch.equal(x, again)


def test_sampler_passes_labels_and_validates():
    s = linear_schedule(5)
    seen = []

    def conditional(x, t, labels):
        seen.append(labels)
        return torch.zeros_like(x)

    labels = torch.arange(4)
    out = ddpm_sample(conditional, s, 4, 3, generator=exderiv.torch_generator(0), sigma="tilde",
                      labels=labels)
    assert out.shape == (4, 3) and len(seen) == 5 and all(torch.equal(y, labels) for y in seen)
    with pytest.raises(ValueError):
        ddpm_sample(conditional, s, 4, 3, generator=exderiv.torch_generator(0), labels=labels[:2])
    with pytest.raises(ValueError):
        ddpm_sample(conditional, s, 0, 3, generator=exderiv.torch_generator(0))
    with pytest.raises(ValueError):
        ddpm_sample(lambda x, t: x, s, 4, 3, generator=exderiv.torch_generator(0), sigma="big")


def test_train_ring_ddpm_is_reproducible():
    recipe = RingRecipe(n_train=64, hidden=8, depth=1, steps=4, batch_size=16, T=20)
    (m1, l1), (m2, l2) = train_ring_ddpm(recipe), train_ring_ddpm(recipe)
    assert l1.shape == (4,) and torch.equal(l1, l2)
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
    assert not m1.training
    with pytest.raises(TypeError):
        train_ring_ddpm({"steps": 4})


def test_public_names_are_exported():
    for name in ("DDPMSchedule", "RingRecipe", "ddpm_loss", "ddpm_sample", "diffuse",
                 "linear_schedule", "reverse_mean", "reverse_std", "seeded_init_", "train_ddpm",
                 "train_ring_ddpm"):
        assert name in exderiv.__all__
        assert getattr(exderiv, name) is getattr(exderiv.diffusion, name)
