"""Chapter 10's reference solution agrees with scikit-learn's PCA (up to sign), PyTorch autograd,
torch.optim and torch.distributions (Normal, Bernoulli, kl_divergence) in float64 on random shapes,
draws its randomness only from the given rng, leaves its inputs unchanged, exports the agreed
API, and its exported module is importable on its own."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from torch.distributions import Bernoulli, Normal, kl_divergence

from autograder.authoring import read_source
from dllib.ch05_optimization import SGD, Adam

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "10_autoencoders.py"
EXPORTED = {  # the API of chapter 10 that the experiments, the explorer and later chapters use
    "pca_eig": ["X", "k"],
    "pca_svd": ["X", "k"],
    "pca_transform": ["X", "mean", "components"],
    "pca_reconstruct": ["X", "mean", "components"],
    "ae_encode": ["params", "x"],
    "ae_decode": ["params", "z"],
    "autoencoder_loss": ["params", "x", "target"],
    "autoencoder_step": ["params", "optimizer", "x", "noise_std", "rng"],
    "reparameterize": ["mu", "log_var", "rng"],
    "reparameterize_backward": ["dz", "cache"],
    "gaussian_kl": ["mu", "log_var"],
    "negative_elbo": ["x", "logits", "mu", "log_var", "beta"],
    "vae_loss": ["params", "x", "rng", "beta"],
}
AE_SHAPES = {"W1": ("D", "H"), "b1": ("H",), "W2": ("H", "K"), "b2": ("K",), "W3": ("K", "H"), "b3": ("H",),
             "W4": ("H", "D"), "b4": ("D",)}
VAE_SHAPES = {"W1": ("D", "H"), "b1": ("H",), "W_mu": ("H", "K"), "b_mu": ("K",), "W_lv": ("H", "K"),
              "b_lv": ("K",), "W3": ("K", "H"), "b3": ("H",), "W4": ("H", "D"), "b4": ("D",)}


@pytest.fixture(scope="module")
def ns() -> dict:
    """The exported cells with the solution markers removed."""
    cells = [c for c in read_source(SOURCE).cells if c.metadata.get("export")]
    code = "\n\n".join(re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", c.source, flags=re.M) for c in cells)
    namespace: dict = {}
    exec(compile("import numpy as np\n\n" + code, "dllib.ch10_autoencoders", "exec"), namespace)
    return namespace


def params_of(shapes: dict, rng: np.random.Generator, scale: float = 0.5, **sizes: int) -> dict:
    return {k: rng.normal(size=tuple(sizes[s] for s in shape)) * scale for k, shape in shapes.items()}


def unchanged(*args):
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    arrays += [v for a in args if isinstance(a, dict) for v in a.values()]
    return arrays, [a.copy() for a in arrays]


def assert_unchanged(saved):
    for a, c in zip(*saved, strict=True):
        assert np.array_equal(a, c), "an argument was changed in place"


def test_exported_cells_have_the_agreed_signatures_and_the_module_imports(ns):
    for name, params in EXPORTED.items():
        assert name in ns, f"{name} is not exported"
        assert list(inspect.signature(ns[name]).parameters) == params, name
    module = importlib.import_module("dllib.ch10_autoencoders")
    assert set(EXPORTED) <= set(vars(module))


def test_the_experiments_come_after_every_graded_cell():
    cells = read_source(SOURCE).cells
    first = next(i for i, c in enumerate(cells) if "## 7. PCA and a linear autoencoder" in c.source)
    assert all(not c.metadata.get("nbgrader") for c in cells[first:])


def aligned(components, reference):
    signs = np.where(np.sum(components * reference, axis=1) < 0, -1.0, 1.0)
    return components * signs[:, None]


@pytest.mark.parametrize("method", ["pca_eig", "pca_svd"])
def test_pca_agrees_with_sklearn(ns, method):
    rng = np.random.default_rng(1)
    for N, D, k, offset in [(2, 2, 1, 0.0), (3, 5, 2, 100.0), (50, 8, 8, -3.0), (10, 30, 9, 1.0), (500, 12, 4, 7.0)]:
        X = rng.normal(size=(N, D)) * np.geomspace(5.0, 0.1, D) @ np.linalg.qr(rng.normal(size=(D, D)))[0] + offset
        ref = PCA(n_components=k, svd_solver="full").fit(X)
        saved = unchanged(X)
        comp, var, mean = ns[method](X, k)
        assert comp.shape == (k, D) and var.shape == (k,) and mean.shape == (D,)
        assert comp.dtype == var.dtype == mean.dtype == np.float64
        np.testing.assert_allclose(mean, ref.mean_, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(var, ref.explained_variance_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(aligned(comp, ref.components_), ref.components_, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(comp @ comp.T, np.eye(k), atol=1e-10)
        assert_unchanged(saved)


def test_pca_views_agree_with_sklearn_and_the_error_is_the_dropped_variance(ns):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 6)) * [3.0, 2.0, 1.0, 0.5, 0.2, 0.1] + 4.0
    ref = PCA(n_components=3, svd_solver="full").fit(X)
    comp, var, mean = ns["pca_svd"](X, 6)
    W = comp[:3]
    np.testing.assert_allclose(np.abs(ns["pca_transform"](X, mean, W)), np.abs(ref.transform(X)), atol=1e-10)
    rebuilt = ns["pca_reconstruct"](X, mean, W)
    np.testing.assert_allclose(rebuilt, ref.inverse_transform(ref.transform(X)), atol=1e-10)
    # the reconstruction view: the squared error per example is the sum of the dropped variances
    np.testing.assert_allclose(np.sum((rebuilt - X) ** 2) / (len(X) - 1), var[3:].sum(), rtol=1e-10)
    np.testing.assert_allclose(np.var(ns["pca_transform"](X, mean, W), axis=0, ddof=1), var[:3], rtol=1e-10)


def torch_ae(p, x):
    z = torch.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return z, torch.relu(z @ p["W3"] + p["b3"]) @ p["W4"] + p["b4"]


def test_autoencoder_agrees_with_autograd(ns):
    rng = np.random.default_rng(3)
    for N, D, H, K in [(1, 1, 1, 1), (5, 4, 3, 2), (32, 64, 16, 8), (3, 2, 7, 5)]:
        p = params_of(AE_SHAPES, rng, D=D, H=H, K=K)
        x, t = rng.normal(size=(N, D)), rng.normal(size=(N, D))
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
        tz, txh = torch_ae(tp, torch.tensor(x))
        loss_ref = F.mse_loss(txh, torch.tensor(t))
        loss_ref.backward()
        saved = unchanged(x, t, p)
        np.testing.assert_allclose(ns["ae_encode"](p, x), tz.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ns["ae_decode"](p, tz.detach().numpy()), txh.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)
        loss, grads = ns["autoencoder_loss"](p, x, t)
        assert isinstance(loss, float) and np.isclose(loss, loss_ref.item(), rtol=1e-12)
        assert sorted(grads) == sorted(AE_SHAPES)
        for key in AE_SHAPES:
            np.testing.assert_allclose(grads[key], tp[key].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
        assert_unchanged(saved)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_autoencoder_steps_follow_torch_optim(ns, optimizer):
    rng = np.random.default_rng(4)
    D, H, K, sigma = 6, 5, 2, 0.4
    p = params_of(AE_SHAPES, rng, D=D, H=H, K=K)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    ours = SGD(p, lr=0.05) if optimizer == "sgd" else Adam(p, lr=0.01)
    theirs = torch.optim.SGD(tp.values(), lr=0.05) if optimizer == "sgd" else torch.optim.Adam(tp.values(), lr=0.01)
    noise_rng, replay = np.random.default_rng(9), np.random.default_rng(9)
    for step in range(4):
        x = rng.normal(size=(8, D)) + 1.0
        noisy = step % 2 == 1                      # plain and denoising steps, alternately
        inputs = x + sigma * replay.standard_normal(x.shape) if noisy else x
        theirs.zero_grad()
        loss_ref = F.mse_loss(torch_ae(tp, torch.tensor(inputs))[1], torch.tensor(x))
        loss_ref.backward()
        theirs.step()
        saved = unchanged(x)
        loss = ns["autoencoder_step"](p, ours, x, sigma if noisy else 0.0, noise_rng if noisy else None)
        assert np.isclose(loss, loss_ref.item(), rtol=1e-10)
        for key in AE_SHAPES:
            np.testing.assert_allclose(p[key], tp[key].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=key)
        assert_unchanged(saved)
    assert noise_rng.random() == replay.random()   # one draw per noisy step, nothing else


def test_reparameterization_agrees_with_autograd_and_draws_only_from_rng(ns):
    rng = np.random.default_rng(5)
    for N, K, scale in [(1, 1, 1.0), (6, 3, 2.0), (50, 2, 0.1)]:
        mu, lv, dz = rng.normal(size=(N, K)) * scale, rng.normal(size=(N, K)) * scale, rng.normal(size=(N, K))
        eps = np.random.default_rng(11).standard_normal((N, K))
        tmu, tlv = torch.tensor(mu, requires_grad=True), torch.tensor(lv, requires_grad=True)
        (tmu + torch.exp(0.5 * tlv) * torch.tensor(eps)).backward(torch.tensor(dz))
        state = np.random.get_state()[1].copy()
        saved = unchanged(mu, lv)
        z, cache = ns["reparameterize"](mu, lv, np.random.default_rng(11))
        assert np.array_equal(np.random.get_state()[1], state)
        np.testing.assert_allclose(z, mu + np.exp(0.5 * lv) * eps, rtol=1e-14)
        dmu, dlv = ns["reparameterize_backward"](dz, cache)
        np.testing.assert_allclose(dmu, tmu.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(dlv, tlv.grad.numpy(), rtol=1e-12, atol=1e-15)
        assert_unchanged(saved)
    # the samples have the stated distribution
    z, _ = ns["reparameterize"](np.full((20000, 2), 3.0), np.full((20000, 2), np.log(0.25)), np.random.default_rng(0))
    np.testing.assert_allclose(z.mean(0), 3.0, atol=0.02)
    np.testing.assert_allclose(z.std(0), 0.5, atol=0.01)


def test_kl_agrees_with_torch_distributions(ns):
    rng = np.random.default_rng(6)
    for N, K, scale in [(1, 1, 1.0), (4, 3, 1.0), (30, 8, 3.0), (2, 2, 1e-3)]:
        mu, lv = rng.normal(size=(N, K)) * scale, rng.normal(size=(N, K)) * scale
        tmu, tlv = torch.tensor(mu, requires_grad=True), torch.tensor(lv, requires_grad=True)
        ref = kl_divergence(Normal(tmu, torch.exp(0.5 * tlv)), Normal(0.0, 1.0)).sum(1).mean()
        ref.backward()
        kl, dmu, dlv = ns["gaussian_kl"](mu, lv)
        assert isinstance(kl, float) and np.isclose(kl, ref.item(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(dmu, tmu.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(dlv, tlv.grad.numpy(), rtol=1e-10, atol=1e-14)
    kl, dmu, dlv = ns["gaussian_kl"](np.zeros((3, 2)), np.zeros((3, 2)))
    assert kl == 0.0 and not dmu.any() and not dlv.any()


def test_negative_elbo_agrees_with_torch_distributions_and_is_finite(ns):
    rng = np.random.default_rng(7)
    for N, D, K, beta, scale in [(1, 1, 1, 1.0, 1.0), (5, 9, 2, 1.0, 3.0), (8, 4, 3, 0.1, 1.0), (2, 6, 2, 3.0, 800.0)]:
        x = rng.random((N, D)) * (rng.random((N, D)) < 0.6)
        logits, mu, lv = rng.normal(size=(N, D)) * scale, rng.normal(size=(N, K)), rng.normal(size=(N, K))
        tl, tmu, tlv = (torch.tensor(a, requires_grad=True) for a in (logits, mu, lv))
        rec = -Bernoulli(logits=tl, validate_args=False).log_prob(torch.tensor(x)).sum(1)
        ref = (rec + beta * kl_divergence(Normal(tmu, torch.exp(0.5 * tlv)), Normal(0.0, 1.0)).sum(1)).mean()
        ref.backward()
        saved = unchanged(x, logits, mu, lv)
        loss, dl, dmu, dlv = ns["negative_elbo"](x, logits, mu, lv, beta)
        assert np.isfinite(loss) and np.isclose(loss, ref.item(), rtol=1e-10)
        for got, t in [(dl, tl), (dmu, tmu), (dlv, tlv)]:
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-14)
        assert_unchanged(saved)


def test_vae_loss_agrees_with_autograd(ns):
    rng = np.random.default_rng(8)
    for N, D, H, K, beta in [(1, 1, 1, 1, 1.0), (7, 10, 6, 2, 1.0), (20, 64, 32, 4, 0.5)]:
        p = params_of(VAE_SHAPES, rng, D=D, H=H, K=K)
        x = rng.random((N, D))
        eps = np.random.default_rng(21).standard_normal((N, K))
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
        tx = torch.tensor(x)
        h = torch.relu(tx @ tp["W1"] + tp["b1"])
        mu, lv = h @ tp["W_mu"] + tp["b_mu"], h @ tp["W_lv"] + tp["b_lv"]
        logits = torch.relu((mu + torch.exp(0.5 * lv) * torch.tensor(eps)) @ tp["W3"] + tp["b3"]) @ tp["W4"] + tp["b4"]
        ref = (F.binary_cross_entropy_with_logits(logits, tx, reduction="none").sum(1)
               + beta * kl_divergence(Normal(mu, torch.exp(0.5 * lv)), Normal(0.0, 1.0)).sum(1)).mean()
        ref.backward()
        saved = unchanged(x, p)
        loss, grads = ns["vae_loss"](p, x, np.random.default_rng(21), beta)
        assert np.isclose(loss, ref.item(), rtol=1e-10)
        assert sorted(grads) == sorted(VAE_SHAPES)
        for key in VAE_SHAPES:
            np.testing.assert_allclose(grads[key], tp[key].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=key)
        assert_unchanged(saved)
