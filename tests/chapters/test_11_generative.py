"""Chapter 11's reference solution agrees with PyTorch (BCE with logits and autograd for the GAN
losses and the training step, a torch re-derivation of both schedules and of the reverse steps,
all in float64), with closed forms (D* maximizes the value pointwise, DDPM's mean is the true
posterior mean given the true noise, DDIM recovers x0 from the true noise), draws only from its
rng, leaves its inputs unchanged and exports the agreed API."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "11_generative.py"
EXPORTED = {  # the API of chapter 11 that the experiments, the explorers and later chapters use
    "discriminator_loss": ["real_logits", "fake_logits"],
    "generator_loss": ["fake_logits", "kind"],
    "optimal_discriminator": ["p_data", "p_g"],
    "linear_schedule": ["T", "beta_start", "beta_end"],
    "cosine_schedule": ["T", "s", "max_beta"],
    "q_sample": ["x0", "t", "alpha_bars", "rng"],
    "eps_loss": ["eps_pred", "eps"],
    "ddpm_step": ["x_t", "t", "eps_pred", "betas", "rng"],
    "ddim_step": ["x_t", "t", "t_prev", "eps_pred", "alpha_bars"],
}


def strip(source: str) -> str:
    return re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", source, flags=re.M)


@pytest.fixture(scope="module")
def ns() -> dict:
    """The exported cells, then the MLP helpers and the training step, with nothing but numpy and dllib."""
    cells = read_source(SOURCE).cells
    exported = [strip(c.source) for c in cells if c.metadata.get("export")]
    namespace: dict = {}
    exec(compile("import numpy as np\n\n" + "\n\n".join(exported), "dllib.ch11_generative", "exec"), namespace)
    assert "gan_train_step" not in namespace
    helpers = next(c.source for c in cells if c.cell_type == "code" and "def mlp_forward" in c.source)
    step = next(c.source for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "gan_train_step")
    exec(compile(helpers + "\n\n" + strip(step), "gan_train_step", "exec"), namespace)
    return namespace


def test_exported_cells_are_self_contained_and_have_the_agreed_signatures():
    namespace: dict = {}
    cells = [strip(c.source) for c in read_source(SOURCE).cells if c.metadata.get("export")]
    exec(compile("import numpy as np\n\n" + "\n\n".join(cells), "dllib.ch11_generative", "exec"), namespace)
    for name, params in EXPORTED.items():
        assert list(inspect.signature(namespace[name]).parameters) == params, name
    assert inspect.signature(namespace["generator_loss"]).parameters["kind"].default == "non_saturating"


def test_the_experiments_come_after_every_graded_cell():
    cells = read_source(SOURCE).cells
    first = next(i for i, c in enumerate(cells) if "## 8. A GAN on a ring" in c.source)
    assert all(not c.metadata.get("nbgrader") for c in cells[first:])


def saved(*arrays):
    return [(a, a.copy()) for a in arrays]


def assert_unchanged(pairs):
    for a, c in pairs:
        assert np.array_equal(a, c), "an argument was changed in place"


@pytest.mark.parametrize("scale", [0.1, 3.0, 700.0])
def test_losses_agree_with_bce_with_logits(ns, scale):
    rng = np.random.default_rng(1)
    for N, M in [(1, 1), (5, 3), (40, 64)]:
        r, f = rng.normal(size=N) * scale, rng.normal(size=M) * scale
        tr, tf = torch.tensor(r, requires_grad=True), torch.tensor(f, requires_grad=True)
        ref = F.binary_cross_entropy_with_logits(tr, torch.ones(N, dtype=torch.float64)) + \
            F.binary_cross_entropy_with_logits(tf, torch.zeros(M, dtype=torch.float64))
        ref.backward()
        before = saved(r, f)
        loss, dr, df = ns["discriminator_loss"](r, f)
        assert isinstance(loss, float) and np.isclose(loss, ref.item(), rtol=1e-12)
        np.testing.assert_allclose(dr, tr.grad.numpy(), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(df, tf.grad.numpy(), rtol=1e-10, atol=1e-15)
        for kind in ("non_saturating", "minimax"):
            tf = torch.tensor(f, requires_grad=True)
            ref = (-F.binary_cross_entropy_with_logits(tf, torch.zeros(M, dtype=torch.float64)) if kind == "minimax"
                   else F.binary_cross_entropy_with_logits(tf, torch.ones(M, dtype=torch.float64)))
            ref.backward()
            loss, df = ns["generator_loss"](f, kind)
            assert isinstance(loss, float) and np.isclose(loss, ref.item(), rtol=1e-12), kind
            np.testing.assert_allclose(df, tf.grad.numpy(), rtol=1e-10, atol=1e-15, err_msg=kind)
        assert_unchanged(before)


def test_the_minimax_gradient_saturates_where_the_other_does_not(ns):
    f = np.array([-30.0, -10.0, 0.0])
    _, mm = ns["generator_loss"](f, "minimax")
    _, nsat = ns["generator_loss"](f)
    assert abs(mm[0]) < 1e-13 and abs(nsat[0] + 1 / 3) < 1e-12
    np.testing.assert_allclose(mm[2], nsat[2])   # both -1/(2M) where D is undecided


def test_the_optimal_discriminator_maximizes_the_value_pointwise(ns):
    rng = np.random.default_rng(2)
    p_data, p_g = rng.random(50) * 3, rng.random(50)
    p_g[:5] = 0.0
    d = ns["optimal_discriminator"](p_data, p_g)
    candidates = np.linspace(1e-6, 1 - 1e-6, 20001)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.nan_to_num(p_data * np.log(candidates) + p_g * np.log(1 - candidates), nan=-np.inf)
    best = candidates[np.argmax(values, axis=0), 0]
    np.testing.assert_allclose(d[5:], best[5:], atol=1e-4)
    assert np.all(d[:5] == 1.0)
    assert ns["optimal_discriminator"](np.zeros(2), np.zeros(2)).tolist() == [0.5, 0.5]
    # at D*, V = -ln 4 + 2 JS: -ln 4 for equal densities (on a grid of a density)
    x = np.linspace(-10, 10, 4001)
    p = np.exp(-x**2 / 2) / np.sqrt(2 * np.pi)
    ds = ns["optimal_discriminator"](p, p)
    assert np.isclose(np.trapezoid(p * np.log(ds) + p * np.log(1 - ds), x), -np.log(4), rtol=1e-6)


def torch_mlp(params, x):
    n = len(params) // 2
    for i in range(n):
        x = x @ params[f"W{i}"] + params[f"b{i}"]
        x = torch.relu(x) if i < n - 1 else x
    return x


@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
def test_the_training_step_is_sgd_on_d_then_on_g_through_the_new_d(ns, kind):
    rng = np.random.default_rng(3)
    for N, M, Z, X, H, lr in [(1, 1, 1, 2, 3, 0.3), (6, 9, 3, 2, 8, 0.8), (32, 16, 4, 5, 10, 0.1)]:
        g, d = ns["init_mlp"]([Z, H, H, X], rng), ns["init_mlp"]([X, H, 1], rng)
        x_real, z = rng.normal(size=(N, X)), rng.normal(size=(M, Z))
        tg = {k: torch.tensor(v, requires_grad=True) for k, v in g.items()}
        td = {k: torch.tensor(v, requires_grad=True) for k, v in d.items()}
        fake = torch_mlp(tg, torch.tensor(z))
        r, f = torch_mlp(td, torch.tensor(x_real))[:, 0], torch_mlp(td, fake.detach())[:, 0]
        d_loss = F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) + \
            F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        with torch.no_grad():
            for p, grad in zip(td.values(), torch.autograd.grad(d_loss, list(td.values())), strict=True):
                p -= lr * grad
        f = torch_mlp(td, fake)[:, 0]
        g_loss = (-F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)) if kind == "minimax"
                  else F.binary_cross_entropy_with_logits(f, torch.ones_like(f)))
        with torch.no_grad():
            for p, grad in zip(tg.values(), torch.autograd.grad(g_loss, list(tg.values())), strict=True):
                p -= lr * grad
        before = saved(x_real, z)
        losses = ns["gan_train_step"](g, d, x_real, z, kind=kind, lr=lr)
        assert_unchanged(before)
        assert all(isinstance(v, float) for v in losses)
        np.testing.assert_allclose(losses, [d_loss.item(), g_loss.item()], rtol=1e-12)
        for ours, theirs in [(d, td), (g, tg)]:
            for key in ours:
                np.testing.assert_allclose(ours[key], theirs[key].detach().numpy(), rtol=1e-10, atol=1e-13)


def test_the_training_step_uses_the_optimizers_it_is_given(ns):
    rng = np.random.default_rng(4)
    g, d = ns["init_mlp"]([2, 5, 2], rng), ns["init_mlp"]([2, 5, 1], rng)
    g0, d0 = {k: v.copy() for k, v in g.items()}, {k: v.copy() for k, v in d.items()}
    optimizers = (ns["Adam"](d, lr=1e-2), ns["Adam"](g, lr=1e-2))
    ns["gan_train_step"](g, d, rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), optimizers=optimizers)
    assert optimizers[0].t == optimizers[1].t == 1
    for before, after in [(g0, g), (d0, d)]:     # Adam's first step moves every weight by about lr
        moved = np.concatenate([np.abs(after[k] - before[k]).ravel() for k in before])
        assert np.all(moved <= 1e-2 + 1e-9) and np.median(moved) > 5e-3


def torch_schedules(T, kind, **kw):
    if kind == "linear":
        betas = torch.linspace(kw.get("beta_start", 1e-4), kw.get("beta_end", 0.02), T, dtype=torch.float64)
    else:
        s, max_beta = kw.get("s", 0.008), kw.get("max_beta", 0.999)
        u = torch.arange(T + 1, dtype=torch.float64) / T
        abar = torch.cos((u + s) / (1 + s) * torch.pi / 2) ** 2
        betas = torch.clamp(1 - abar[1:] / abar[:-1], max=max_beta)
    return betas, 1 - betas, torch.cumprod(1 - betas, 0)


@pytest.mark.parametrize("T, kind, kw", [(1, "linear", {}), (1000, "linear", {}), (7, "linear", {"beta_end": 0.4}),
                                         (1, "cosine", {}), (1000, "cosine", {}), (30, "cosine", {"s": 0.1}),
                                         (12, "cosine", {"max_beta": 0.3})])
def test_schedules_agree_with_torch(ns, T, kind, kw):
    ours = ns[f"{kind}_schedule"](T, **kw)
    for a, b in zip(ours, torch_schedules(T, kind, **kw), strict=True):
        assert a.shape == (T,) and a.dtype == np.float64
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-10, atol=1e-15)
    assert np.all(np.diff(ours[2]) < 0)


def test_the_cosine_schedule_destroys_the_signal_evenly(ns):
    _, _, lin = ns["linear_schedule"](1000)
    _, _, cos = ns["cosine_schedule"](1000)
    assert lin[499] < 0.1 < 0.4 < cos[499]      # halfway: the linear schedule has destroyed most of it
    assert lin[-1] < 1e-4 and cos[-1] < 1e-6


def test_q_sample_is_the_closed_form_and_draws_only_from_rng(ns):
    _, _, abar = ns["linear_schedule"](100, 1e-3, 0.1)
    rng = np.random.default_rng(5)
    x0 = rng.normal(size=(6, 2, 3))
    t = rng.integers(0, 100, size=6)
    state = np.random.get_state()[1].copy()
    before = saved(x0, t, abar)
    x_t, eps = ns["q_sample"](x0, t, abar, np.random.default_rng(9))
    assert np.array_equal(np.random.get_state()[1], state)
    assert_unchanged(before)
    np.testing.assert_array_equal(eps, np.random.default_rng(9).standard_normal(x0.shape))
    a = abar[t][:, None, None]
    np.testing.assert_allclose(x_t, np.sqrt(a) * x0 + np.sqrt(1 - a) * eps, rtol=1e-13)
    # step by step with the betas gives the same law: the variance of x_t for x0 = 0 is 1 - alpha_bar
    betas = ns["linear_schedule"](100, 1e-3, 0.1)[0]
    x = np.zeros(200000)
    steps = np.random.default_rng(0)
    for b in betas[:41]:
        x = np.sqrt(1 - b) * x + np.sqrt(b) * steps.standard_normal(x.shape)
    assert abs(x.var() - (1 - abar[40])) < 0.01


def test_eps_loss_agrees_with_mse_loss(ns):
    rng = np.random.default_rng(6)
    for shape in [(1, 1), (9, 2), (3, 4, 5)]:
        p, e = rng.normal(size=shape), rng.normal(size=shape)
        tp = torch.tensor(p, requires_grad=True)
        ref = F.mse_loss(tp, torch.tensor(e))
        ref.backward()
        loss, grad = ns["eps_loss"](p, e)
        assert isinstance(loss, float) and np.isclose(loss, ref.item(), rtol=1e-13)
        np.testing.assert_allclose(grad, tp.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_the_ddpm_mean_is_the_true_posterior_mean_given_the_true_noise(ns, kind):
    betas, alphas, abar = (ns["linear_schedule"](50, 1e-3, 0.2) if kind == "linear" else ns["cosine_schedule"](50))
    rng = np.random.default_rng(7)
    x0, eps = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    for t in (1, 10, 49):
        x_t = np.sqrt(abar[t]) * x0 + np.sqrt(1 - abar[t]) * eps
        mu = (np.sqrt(abar[t - 1]) * betas[t] * x0 + np.sqrt(alphas[t]) * (1 - abar[t - 1]) * x_t) / (1 - abar[t])
        var = betas[t] * (1 - abar[t - 1]) / (1 - abar[t])
        before = saved(x_t, eps, betas)
        out = ns["ddpm_step"](x_t, t, eps, betas, np.random.default_rng(t))
        assert_unchanged(before)
        z = np.random.default_rng(t).standard_normal(x_t.shape)
        np.testing.assert_allclose(out, mu + np.sqrt(var) * z, rtol=1e-9, atol=1e-12)
    x_0 = np.sqrt(abar[0]) * x0 + np.sqrt(1 - abar[0]) * eps
    state = np.random.get_state()[1].copy()
    np.testing.assert_allclose(ns["ddpm_step"](x_0, 0, eps, betas, np.random.default_rng(0)), x0, rtol=1e-9,
                               atol=1e-12)   # t = 0: the mean, which is x0 itself
    assert np.array_equal(np.random.get_state()[1], state)


def test_the_ddpm_step_agrees_with_torch(ns):
    betas, _, _ = ns["cosine_schedule"](20)
    rng = np.random.default_rng(8)
    x, e = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    tb = torch.tensor(betas)
    ab = torch.cumprod(1 - tb, 0)
    for t in (0, 5, 19):
        noise = torch.tensor(np.random.default_rng(t).standard_normal(x.shape))
        mu = (torch.tensor(x) - tb[t] / (1 - ab[t]).sqrt() * torch.tensor(e)) / (1 - tb[t]).sqrt()
        ref = mu if t == 0 else mu + (tb[t] * (1 - ab[t - 1]) / (1 - ab[t])).sqrt() * noise
        np.testing.assert_allclose(ns["ddpm_step"](x, t, e, betas, np.random.default_rng(t)), ref.numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_ddim_recovers_x0_and_composes(ns):
    _, _, abar = ns["cosine_schedule"](100)
    rng = np.random.default_rng(9)
    x0, eps = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    x_t = np.sqrt(abar[70]) * x0 + np.sqrt(1 - abar[70]) * eps
    np.testing.assert_allclose(ns["ddim_step"](x_t, 70, -1, eps, abar), x0, rtol=1e-9, atol=1e-10)
    # with a fixed noise guess, one jump 70 -> 10 equals two jumps 70 -> 40 -> 10
    one = ns["ddim_step"](x_t, 70, 10, eps, abar)
    two = ns["ddim_step"](ns["ddim_step"](x_t, 70, 40, eps, abar), 40, 10, eps, abar)
    np.testing.assert_allclose(one, two, rtol=1e-10)
    np.testing.assert_allclose(one, np.sqrt(abar[10]) * x0 + np.sqrt(1 - abar[10]) * eps, rtol=1e-9)


def test_concept_answers():
    cells = {c.id: c.source for c in read_source(SOURCE).cells}
    assert 'q1_answer = "b"' in cells["q1_saturation"]
    assert "q2_answer = -np.log(4.0)" in cells["q2_value"]
    signal = float(np.sqrt(np.prod(1 - np.linspace(1e-4, 0.02, 1000))))
    assert 0.006 < signal < 0.007 and "linear_schedule(1000)" in cells["q3_signal"]
