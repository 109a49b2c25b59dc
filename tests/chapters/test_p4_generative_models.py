"""PyTorch notebook 4 (generative models): the reference solutions agree with PyTorch's own
losses and distributions and with the DDPM paper's formulas on random shapes, the concept
answers are what autograd and torch.distributions say, and the small configuration trains
all three models and the judge end to end (the namespace of a whole run, once for the module).
"""

from __future__ import annotations

import copy
import math
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.authoring import read_source, role, solution_namespace
from autograder.mutants import load_mutants

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "p4_generative_models.py"
GRADED = ["reparameterize", "vae_loss", "discriminator_loss", "generator_loss", "gan_train_step",
          "ddpm_schedule", "q_sample", "ddpm_loss", "p_sample"]


@pytest.fixture(scope="module")
def fns() -> dict:
    """The graded solution cells alone (fast): torch, F and math are all they need."""
    namespace: dict = {"torch": torch, "nn": nn, "F": F, "math": math}
    for cell in read_source(SOURCE).cells:
        if role(cell) == "solution" and "def " in cell.source:
            exec(compile(cell.source, cell.id, "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """The whole notebook in its small configuration (checkpoints go to a temporary folder), on one
    thread as the graders run it (two OpenMP threads on a busy 2-core machine are several times slower)."""
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("p4"))
    previous = os.environ.get("COURSE_SIZE")
    os.environ["COURSE_SIZE"] = "small"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        namespace = solution_namespace(SOURCE)
        namespace["_seconds"] = time.perf_counter() - start
        namespace["_folder"] = Path.cwd()
        return namespace
    finally:
        torch.set_num_threads(threads)
        os.chdir(here)
        if previous is None:
            os.environ.pop("COURSE_SIZE", None)
        else:
            os.environ["COURSE_SIZE"] = previous


def test_every_graded_function_is_defined_and_has_mutants(fns):
    for name in GRADED:
        assert callable(fns[name]), name
    wrong = load_mutants(ROOT / "solutions" / "mutants" / "p4_generative_models.py")
    cells = {m.cell for m in wrong}
    assert cells == {"reparameterize", "vae_loss", "gan_losses", "gan_train_step", "ddpm_schedule", "q_sample",
                     "ddpm_loss", "p_sample"}
    assert wrong[0].cell == "reparameterize"  # the first mutant must break its own tests cell only


def test_reparameterize_is_rsample_with_the_given_noise(fns):
    """z = mu + sigma eps: the value and the gradients of torch.distributions.Normal.rsample."""
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (3, 5), (64, 2)]:
        mu = torch.tensor(rng.normal(size=shape), requires_grad=True)
        logvar = torch.tensor(rng.normal(size=shape), requires_grad=True)
        z = fns["reparameterize"](mu, logvar, torch.Generator().manual_seed(5))
        eps = torch.randn(shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
        dist = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        # rsample draws its own eps; feed ours through the same transform as rsample (loc + eps * scale)
        ref = dist.loc + eps * dist.scale
        torch.testing.assert_close(z, ref, rtol=1e-12, atol=1e-12)
        w = torch.tensor(rng.normal(size=shape))
        grads = torch.autograd.grad((z * w).sum(), (mu, logvar))
        refs = torch.autograd.grad((ref * w).sum(), (mu, logvar))
        for got, want in zip(grads, refs, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    state = torch.get_rng_state()
    fns["reparameterize"](torch.zeros(2, 2), torch.zeros(2, 2), torch.Generator().manual_seed(0))
    assert torch.equal(state, torch.get_rng_state()), "the global generator was used"


def test_vae_loss_agrees_with_torch_distributions(fns):
    rng = np.random.default_rng(1)
    for _ in range(20):
        n, c, h, w, d = (int(v) for v in rng.integers(1, 7, size=5))
        logits = torch.tensor(rng.normal(size=(n, c, h, w)) * 4)
        x = torch.tensor(rng.uniform(size=(n, c, h, w)))
        mu, logvar = torch.tensor(rng.normal(size=(n, d))), torch.tensor(rng.normal(size=(n, d)) * 2)
        loss, recon, kl = fns["vae_loss"](logits, x, mu, logvar)
        # the Bernoulli log-likelihood, stable form: x log sigmoid(l) + (1 - x) log sigmoid(-l)
        ref_recon = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum((1, 2, 3)).mean()
        q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
        ref_kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1).mean()
        torch.testing.assert_close(recon, ref_recon, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(kl, ref_kl, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(loss, ref_recon + ref_kl, rtol=1e-10, atol=1e-10)
        assert loss.dtype == torch.float64 and loss.shape == ()


def test_kl_is_a_monte_carlo_average(fns):
    """The analytic KL equals E_q[log q(z) - log p(z)] estimated with reparameterized samples."""
    mu = torch.tensor([[0.7, -1.2, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.3, -0.8, 1.1]], dtype=torch.float64)
    _, _, kl = fns["vae_loss"](torch.zeros(1, 1, 1, 1, dtype=torch.float64), torch.zeros(1, 1, 1, 1, dtype=torch.float64),
                               mu, logvar)
    z = fns["reparameterize"](mu.expand(200000, 3), logvar.expand(200000, 3), torch.Generator().manual_seed(0))
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(0.0, 1.0)
    estimate = (q.log_prob(z) - p.log_prob(z)).sum(1).mean()
    assert abs(estimate.item() - kl.item()) < 0.02, (estimate.item(), kl.item())


def test_gan_losses_agree_with_bce_with_logits_loss(fns):
    rng = np.random.default_rng(2)
    bce = nn.BCEWithLogitsLoss()
    for n, m in [(1, 1), (7, 3), (32, 64)]:
        real, fake = torch.tensor(rng.normal(size=n) * 5), torch.tensor(rng.normal(size=m) * 5)
        d = fns["discriminator_loss"](real, fake)
        g = fns["generator_loss"](fake)
        torch.testing.assert_close(d, bce(real, torch.ones(n, dtype=torch.float64))
                                   + bce(fake, torch.zeros(m, dtype=torch.float64)), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(g, bce(fake, torch.ones(m, dtype=torch.float64)), rtol=1e-12, atol=1e-12)
    # at the equilibrium D outputs 1/2 everywhere: 2 log 2 and log 2, as the notebook's dotted lines say
    assert math.isclose(fns["discriminator_loss"](torch.zeros(4), torch.zeros(4)).item(), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(fns["generator_loss"](torch.zeros(4)).item(), math.log(2), rel_tol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gan_train_step_matches_a_step_by_hand(fns, optimizer):
    torch.manual_seed(0)
    gen = nn.Sequential(nn.Linear(3, 5), nn.Tanh()).double()
    disc = nn.Sequential(nn.Linear(5, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1), nn.Flatten(0)).double()
    ref_gen, ref_disc = copy.deepcopy(gen), copy.deepcopy(disc)
    make = (lambda p: torch.optim.SGD(p, lr=0.1)) if optimizer == "sgd" else (lambda p: torch.optim.Adam(p, lr=0.01))
    opt_g, opt_d = make(gen.parameters()), make(disc.parameters())
    ref_opt_g, ref_opt_d = make(ref_gen.parameters()), make(ref_disc.parameters())
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        real = torch.randn(8, 5, generator=g, dtype=torch.float64)
        z = torch.randn(8, 3, generator=g, dtype=torch.float64)
        d_loss, g_loss = fns["gan_train_step"](gen, disc, opt_g, opt_d, real, z)
        fake = ref_gen(z)
        ref_opt_d.zero_grad()
        ref_d = F.binary_cross_entropy_with_logits(ref_disc(real), torch.ones(8, dtype=torch.float64)) \
            + F.binary_cross_entropy_with_logits(ref_disc(fake.detach()), torch.zeros(8, dtype=torch.float64))
        ref_d.backward()
        ref_opt_d.step()
        ref_opt_g.zero_grad()
        ref_g = F.binary_cross_entropy_with_logits(ref_disc(fake), torch.ones(8, dtype=torch.float64))
        ref_g.backward()
        ref_opt_g.step()
        assert isinstance(d_loss, float) and isinstance(g_loss, float)
        assert math.isclose(d_loss, ref_d.item(), rel_tol=1e-10) and math.isclose(g_loss, ref_g.item(), rel_tol=1e-10)
        for a, b in zip(list(gen.parameters()) + list(disc.parameters()),
                        list(ref_gen.parameters()) + list(ref_disc.parameters()), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_ddpm_schedule_is_the_papers(fns):
    betas, alphas, alpha_bars = fns["ddpm_schedule"](1000)
    assert betas.dtype == torch.float64 and betas.shape == (1000,)
    np.testing.assert_allclose(betas.numpy(), np.linspace(1e-4, 0.02, 1000), rtol=1e-12)
    np.testing.assert_allclose(alpha_bars.numpy(), np.cumprod(1 - np.linspace(1e-4, 0.02, 1000)), rtol=1e-10)
    assert alpha_bars[-1] < 1e-4  # x_T is (almost) pure noise
    assert torch.equal(alphas, 1 - betas)


def test_q_sample_is_the_forward_chain_in_one_step(fns):
    """Noising step by step with q(x_t | x_{t-1}) gives the closed form's mean and variance."""
    betas, _, alpha_bars = fns["ddpm_schedule"](30, 1e-3, 0.2)
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((20000, 1, 1, 2), 0.8, dtype=torch.float64)
    x = x0.clone()
    for step in range(12):
        x = torch.sqrt(1 - betas[step]) * x + torch.sqrt(betas[step]) * torch.randn(x.shape, generator=g, dtype=torch.float64)
    t = torch.full((20000,), 11)
    closed = fns["q_sample"](x0, t, torch.randn(x0.shape, generator=g, dtype=torch.float64), alpha_bars)
    for sample in (x, closed):
        assert abs(sample.mean().item() - 0.8 * alpha_bars[11].sqrt().item()) < 0.01
        assert abs(sample.var().item() - (1 - alpha_bars[11]).item()) < 0.01


def test_p_sample_mean_is_the_true_posterior_mean(fns):
    """With the model's noise, p_sample's mean is that of q(x_{t-1} | x_t, x0) at the x0 it implies."""
    betas, alphas, alpha_bars = fns["ddpm_schedule"](40, 1e-3, 0.3)
    rng = np.random.default_rng(3)
    for t in (1, 7, 39):
        x_t = torch.tensor(rng.normal(size=(3, 2, 4, 5)))
        eps = torch.tensor(rng.normal(size=(3, 2, 4, 5)))

        def model(x, steps, eps=eps):
            assert steps.dtype == torch.int64
            return eps

        mean = fns["p_sample"](model, x_t, t, betas, alpha_bars, torch.Generator().manual_seed(0)) \
            - betas[t].sqrt() * torch.randn(x_t.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        x0_hat = (x_t - (1 - alpha_bars[t]).sqrt() * eps) / alpha_bars[t].sqrt()
        posterior = (alpha_bars[t - 1].sqrt() * betas[t] / (1 - alpha_bars[t])) * x0_hat \
            + (alphas[t].sqrt() * (1 - alpha_bars[t - 1]) / (1 - alpha_bars[t])) * x_t
        torch.testing.assert_close(mean, posterior, rtol=1e-10, atol=1e-10)
    out = fns["p_sample"](lambda x, s: torch.zeros_like(x), x_t, 0, betas, alpha_bars, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x_t / alphas[0].sqrt(), rtol=1e-12, atol=1e-12)


def test_ddpm_loss_of_the_perfect_denoiser_is_zero(fns):
    """A model that knows x0 recovers the noise exactly: the loss is 0; t covers every step."""
    _, _, alpha_bars = fns["ddpm_schedule"](10, 0.01, 0.3)
    x0 = torch.tensor(np.random.default_rng(4).normal(size=(500, 1, 2, 2)))
    seen = []

    def oracle(x_t, t):
        seen.append(t)
        a = alpha_bars[t].view(-1, 1, 1, 1)
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()

    loss = fns["ddpm_loss"](oracle, x0, alpha_bars, torch.Generator().manual_seed(0))
    assert loss.item() < 1e-20
    assert set(seen[0].tolist()) == set(range(10))


def test_concept_answers():
    src = SOURCE.read_text()

    def answer(name):
        return eval(re.search(rf"^{name} = (.+)$", src, re.M).group(1))

    mu, std = torch.tensor([0.0, 2.0], dtype=torch.float64), torch.tensor([3.0, 1.0], dtype=torch.float64)
    kl = torch.distributions.kl_divergence(torch.distributions.Normal(mu, std), torch.distributions.Normal(0.0, 1.0)).sum()
    assert answer("q1_answer") == pytest.approx(kl.item(), rel=1e-3)
    assert answer("q2_answer") == pytest.approx(math.sqrt(1 - 0.19))
    s = torch.tensor(-10.0, dtype=torch.float64, requires_grad=True)
    saturating = torch.autograd.grad(torch.log(1 - torch.sigmoid(s)), s)[0].abs()
    non_saturating = torch.autograd.grad(-F.logsigmoid(s), s)[0].abs()
    assert non_saturating > 1e4 * saturating
    assert answer("q3_answer") == "b"


# ------------------------------------------------------------------------ the experiments


def test_the_judge_recognises_real_images_and_not_noise(run):
    assert run["SIZE"] == "small" and run["cfg"]["T"] == 50
    assert run["judge_accuracy"] > 0.8, run["judge_accuracy"]
    reports = run["reports"]
    assert reports["real test images"]["score"] > 5 > 1.5 > reports["uniform noise"]["score"]
    for report in reports.values():
        assert report["histogram"].shape == (10,) and math.isclose(report["histogram"].sum(), 1.0, rel_tol=1e-6)
        assert 1.0 - 1e-6 <= report["score"] <= 10.0 + 1e-6


def test_every_model_trains_and_samples(run):
    vae, ddpm = run["vae_history"], run["ddpm_history"]
    assert np.mean(vae["loss"][-10:]) < 0.8 * np.mean(vae["loss"][:10])
    assert np.mean(ddpm[-10:]) < 0.8 * np.mean(ddpm[:10])
    assert len(run["gan_history"]["d"]) == run["cfg"]["gan_epochs"] * len(run["train_loader"])
    assert all(np.isfinite(run["gan_history"]["d"])) and all(np.isfinite(run["gan_history"]["g"]))
    for name in ("vae_samples", "gan_samples", "ddpm_samples"):
        samples = run[name]
        assert samples.shape == (run["cfg"]["n_samples"], 1, 28, 28), name
        assert samples.min() >= 0.0 and samples.max() <= 1.0, name
    assert set(run["reports"]) == {"real test images", "uniform noise", "VAE", "GAN", "DDPM"}


def test_checkpoints_are_written_and_load_back(run):
    folder = run["_folder"] / "checkpoints"
    assert {p.name for p in folder.glob("*.pt")} == {"p4_vae.pt", "p4_gan.pt", "p4_ddpm.pt"}
    gen = run["Generator"](width=run["cfg"]["width"])
    extra = run["load_checkpoint"](folder / "p4_gan.pt", model=gen)
    assert len(extra["history"]["d"]) == extra["step"]
    for a, b in zip(gen.state_dict().values(), run["gen"].state_dict().values(), strict=True):
        assert torch.equal(a, b.cpu())

