# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # PyTorch 4 — Generative models: a VAE, a GAN and a diffusion model
#
# A classifier learns $p(y \mid x)$: which class an image belongs to. A **generative model**
# learns $p(x)$ itself, well enough to draw new images from it. In this notebook you train the
# three families that dominate the field on small clothing images (Fashion-MNIST, 28 × 28
# pixels, grey), side by side:
#
# | model | how it generates | trained by |
# |---|---|---|
# | **variational autoencoder** (VAE) | decode a random latent code $z \sim \mathcal{N}(0, I)$ | maximising a lower bound on $\log p(x)$ (the ELBO) |
# | **generative adversarial network** (GAN, DCGAN) | map noise $z$ through a generator | a game against a discriminator |
# | **denoising diffusion model** (DDPM) | start from pure noise, remove a little of it 100–1000 times | predicting the noise that was added |
#
# **What you will write** (PyTorch, images in the layout **NCHW**):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `reparameterize`, `vae_loss` | sample $z$ so that gradients flow; the negative ELBO |
# | 2 | `discriminator_loss`, `generator_loss`, `gan_train_step` | the GAN game, one step of each player |
# | 3 | `ddpm_schedule`, `q_sample`, `ddpm_loss`, `p_sample` | noise in closed form, learn to predict it, remove it step by step |
#
# The networks themselves are given (a convolutional VAE, a DCGAN and a small U-Net). A small
# classifier, trained here on the real images, then acts as a **judge**: how confidently does it
# recognise the generated images, and are all ten classes generated about equally often?
#
# **You need**: chapters 10–11 (the VAE, GAN and diffusion ideas) or the lecture on generative
# models, and the PyTorch basics notebook (`nn.Module`, optimizers, a training loop).
#
# **Time**: about 3 hours. On a CPU the notebook runs in its *small* configuration (a few
# epochs on a subset, under a minute: the samples are rough); on a GPU the *full* one trains
# each model properly (a few minutes each).
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong. The
# grader runs more (hidden) checks on the CPU in float64: against PyTorch's own losses and
# distributions, hand-computed values, gradients, random shapes (a batch of one, non-square
# images), and whether your functions draw their random numbers from the `generator` they are
# given and leave their inputs unchanged. Do not rename the functions or change their
# arguments.

# %%
import math
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers.data import load_images
from helpers.runtime import (
    autocast,
    epoch_batches,
    load_checkpoint,
    pick_device,
    pick_size,
    progress,
    save_checkpoint,
    seed_everything,
)
from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_shape,
    assert_that,
    call,
    fail,
)

plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% tags=["parameters"]
SIZE = "auto"  # "small": the CPU configuration (the graders use it); "full": the GPU one

# %%
device = pick_device()
SIZE = pick_size(SIZE, device)
CONFIGS = {
    # images; epochs per model; T diffusion steps; widths of the networks; samples drawn per model
    "small": dict(n_train=2000, n_test=500, batch_size=64, judge_epochs=4, vae_epochs=3, gan_epochs=3,
                  ddpm_epochs=2, T=50, judge_width=16, width=8, ddpm_width=8, latent=8, ema=0.9, n_samples=64),
    "full": dict(n_train=60000, n_test=10000, batch_size=128, judge_epochs=4, vae_epochs=20, gan_epochs=20,
                 ddpm_epochs=30, T=1000, judge_width=32, width=64, ddpm_width=64, latent=16, ema=0.999,
                 n_samples=100),
}
cfg = CONFIGS[SIZE]
CHECKPOINTS = Path("checkpoints")
seed_everything(0)
print(f"device: {device}, configuration: {SIZE!r}")


def as_array(value, name, dtype=torch.float64):
    """Check that `value` is a tensor of `dtype` and return it as a numpy array (used by the tests)."""
    assert_that(isinstance(value, torch.Tensor),
                f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    assert_that(value.dtype == dtype, f"{name}: expected dtype {dtype}, got {value.dtype} (keep the "
                "dtype of the inputs: no .float(), and pass dtype= when you create a tensor)")
    return value.detach().cpu().numpy()


def call_torch(fn, *args, **kwargs):
    """`call` for PyTorch code (used by the tests): also fails when `fn` changes a tensor argument
    in place or draws from torch's global random generator instead of the `generator` it is given."""
    tensors = [(name, value, value.detach().clone()) for name, value in
               [(f"#{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
               if isinstance(value, torch.Tensor)]
    state = torch.get_rng_state()
    result = call(fn, *args, **kwargs)
    name = getattr(fn, "__name__", "the function")
    for where, value, copy in tensors:
        if value.shape != copy.shape or not torch.equal(value.detach(), copy):
            fail(f"{name} changed its tensor argument {where} in place: compute new tensors "
                 "(x = x + ..., not x += ... or x.add_(...))")
    if not torch.equal(state, torch.get_rng_state()):
        fail(f"{name} drew random numbers from torch's global generator: pass generator=generator "
             "to torch.randn / torch.randint, so that the same seed gives the same result")
    return result


def seeded(seed):
    """A torch random generator on the CPU, seeded (used by the tests)."""
    return torch.Generator().manual_seed(seed)


def show_grid(images, nrow=8, title=None, ax=None, value_range=(0.0, 1.0)):
    """Draw a batch of images (N, 1, H, W) as one grid; values outside value_range are clipped."""
    images = images.detach().float().cpu().clamp(*value_range)
    images = (images - value_range[0]) / (value_range[1] - value_range[0])
    n, _, h, w = images.shape
    ncol = math.ceil(n / nrow)
    grid = torch.ones(ncol * (h + 2), nrow * (w + 2))
    for k in range(n):
        r, c = divmod(k, nrow)
        grid[r * (h + 2) + 1:r * (h + 2) + 1 + h, c * (w + 2) + 1:c * (w + 2) + 1 + w] = images[k, 0]
    if ax is None:
        _, ax = plt.subplots(figsize=(nrow * 0.45 + 0.4, ncol * 0.45 + 0.6))
    ax.imshow(grid.numpy(), cmap="gray_r", vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


# %% [markdown]
# ## 0. The data, and a judge
#
# `load_images` returns Fashion-MNIST as uint8 arrays: the real files when they are cached or
# can be downloaded, otherwise (offline) a stand-in of the same shapes built from
# scikit-learn's 8 × 8 digits — the notebook runs either way, and `split.source` says which.
# We scale the pixels to $[0, 1]$ and add the channel axis.

# %%
split = load_images("fashion_mnist", n_train=cfg["n_train"], n_test=cfg["n_test"])
print("data:", getattr(split, "source", "real"))
x_train = torch.tensor(split.X_train, dtype=torch.float32).div(255.0).unsqueeze(1)  # (N, 1, 28, 28) in [0, 1]
x_test = torch.tensor(split.X_test, dtype=torch.float32).div(255.0).unsqueeze(1)
y_train, y_test = torch.as_tensor(split.y_train), torch.as_tensor(split.y_test)
CLASSES = list(split.class_names) if len(getattr(split, "class_names", ())) == 10 else [str(k) for k in range(10)]
train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train),
                                           batch_size=cfg["batch_size"], shuffle=True, drop_last=True,
                                           generator=torch.Generator().manual_seed(0))
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}; classes: {', '.join(CLASSES)}")
_ax = show_grid(x_train[:32], nrow=16, title="real training images")

# %% [markdown]
# **The judge.** How good is a sample? Looking at it is the honest answer; a number helps to
# compare models and runs. A small convolutional classifier trained on the real images gives
# two: its **confidence** on a generated image (a sharp, recognisable image gets a high
# probability for *some* class) and the **class histogram** of a batch of samples (a generator
# that only draws trousers is poor, however sharp the trousers). Both enter the
# **classifier score** $\exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\|\, p(y))\big)$, the
# idea behind the Inception Score: between 1 (every image looks the same to the judge, or none
# is recognisable) and 10 (every image confidently one class, all classes equally often).

# %%
class Judge(nn.Module):
    """A small CNN classifier for 28 x 28 images in [0, 1]: (N, 1, 28, 28) -> logits (N, 10).

    Three convolutions and a global max pooling: a stroke is recognised wherever it is."""

    def __init__(self, width=32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),              # 14 x 14
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),          # 7 x 7
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
            nn.Flatten(), nn.Linear(4 * w, 10))

    def forward(self, x):
        return self.net(x)


def train_judge(epochs):
    judge = Judge(cfg["judge_width"]).to(device)
    opt = torch.optim.Adam(judge.parameters(), lr=4e-3)
    judge.train()
    for _, (x, y) in epoch_batches(train_loader, epochs, "training the judge"):
        x, y = x.to(device), y.to(device)
        with autocast(device):
            loss = F.cross_entropy(judge(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return judge.eval()


@torch.no_grad()
def judge_report(images):
    """What the judge thinks of a batch of images (N, 1, 28, 28) in [0, 1]."""
    probs = torch.cat([F.softmax(judge(x.to(device)).float(), dim=1).cpu() for x in images.split(500)])
    marginal = probs.mean(0)
    kl = (probs * (probs.clamp_min(1e-12).log() - marginal.clamp_min(1e-12).log())).sum(1)
    return {"confidence": probs.max(1).values.mean().item(),
            "histogram": torch.bincount(probs.argmax(1), minlength=10).float().div(len(probs)).numpy(),
            "score": kl.mean().exp().item()}


judge = train_judge(cfg["judge_epochs"])
with torch.no_grad():
    judge_accuracy = torch.cat([judge(x.to(device)).argmax(1).cpu() for x in x_test.split(500)]).eq(y_test)
judge_accuracy = judge_accuracy.float().mean().item()
reports = {"real test images": judge_report(x_test), "uniform noise": judge_report(torch.rand(500, 1, 28, 28))}
print(f"judge: test accuracy {judge_accuracy:.1%}")
for label, report in reports.items():
    print(f"{label:>18}: confidence {report['confidence']:.2f}, classifier score {report['score']:.2f}")

# %% [markdown]
# ## 1. The variational autoencoder
#
# A VAE has an **encoder** that maps an image $x$ to a Gaussian over latent codes,
# $q(z \mid x) = \mathcal{N}\big(\mu(x), \operatorname{diag}\sigma^2(x)\big)$, and a **decoder**
# that maps a code $z$ back to pixel probabilities $p(x \mid z)$ (one Bernoulli per pixel, given
# as logits). It is trained to minimise the negative **evidence lower bound**,
#
# $$-\mathrm{ELBO}(x) = \underbrace{\mathbb{E}_{z \sim q(z\mid x)}\big[-\log p(x \mid z)\big]}_{\text{reconstruction}}
# \;+\; \underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{keeps codes near the prior}}
# \;\ge\; -\log p(x),$$
#
# and generates by decoding $z \sim \mathcal{N}(0, I)$. The encoder outputs $\log \sigma^2$
# ("logvar") rather than $\sigma$: any real number is a valid log-variance.
#
# **The reparameterization trick.** Sampling $z \sim \mathcal{N}(\mu, \sigma^2)$ directly is not
# differentiable in $\mu$ and $\sigma$. Write the sample instead as a deterministic function of
# the parameters and of noise that does not depend on them,
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp\big(\tfrac12 \log\sigma^2\big), \qquad
# \varepsilon \sim \mathcal{N}(0, I),$$
#
# and gradients flow to $\mu$ and $\log \sigma^2$ through ordinary arithmetic.
#
# **Exercise.** Write `reparameterize`. Draw $\varepsilon$ with
# `torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)` — one call, so
# that a seeded `generator` gives a reproducible sample.

# %% nbgrader="solution" grade_id="reparameterize"
def reparameterize(mu, logvar, generator=None):
    """A sample z ~ N(mu, exp(logvar)) through the reparameterization trick.

    Args:
        mu: tensor of shape (N, D), the means.
        logvar: tensor of shape (N, D), the log-variances log(sigma^2).
        generator: a torch.Generator to draw the noise from (None: torch's global one).

    Returns:
        z: tensor of shape (N, D), mu + sigma * eps, with eps drawn by one call
           torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device).
           Gradients flow to mu and logvar. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    std = torch.exp(0.5 * logvar)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + std * eps
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_reparameterize" points=4
_mu = torch.tensor([[0.0, 1.0, -2.0], [3.0, 0.5, 0.0]], dtype=torch.float64)
_logvar = torch.tensor([[0.0, math.log(4.0), -2.0], [1.0, 0.0, math.log(0.25)]], dtype=torch.float64)
_z = call_torch(reparameterize, _mu, _logvar, seeded(0))
assert_shape(_z, (2, 3), name="reparameterize(mu (2, 3), logvar (2, 3), generator)")
_eps = torch.randn((2, 3), generator=seeded(0), dtype=torch.float64)
assert_close(as_array(_z, "reparameterize(mu, logvar, generator)"), (_mu + torch.exp(0.5 * _logvar) * _eps).numpy(),
             rtol=1e-12, atol=1e-12, name="reparameterize(mu, logvar, generator seeded 0): mu + sigma * eps")
assert_that(not torch.equal(_z, call_torch(reparameterize, _mu, _logvar, seeded(1))),
            "reparameterize: two generators with different seeds gave the same z: draw eps from `generator`")
### BEGIN HIDDEN TESTS
# Gradients reach mu and logvar: dz/dmu = 1, dz/dlogvar = 0.5 * sigma * eps.
_rng = np.random.default_rng(401)
for _shape in [(1, 1), (5, 2), (4, 16), (1, 7)]:
    _mu = torch.tensor(_rng.normal(size=_shape), requires_grad=True)
    _logvar = torch.tensor(_rng.normal(size=_shape), requires_grad=True)
    _z = call_torch(reparameterize, _mu, _logvar, seeded(7))
    _eps = torch.randn(_shape, generator=seeded(7), dtype=torch.float64)
    _expected = _mu.detach() + torch.exp(0.5 * _logvar.detach()) * _eps
    assert_close(as_array(_z, f"reparameterize(mu {_shape})"), _expected.numpy(), rtol=1e-12, atol=1e-12,
                 name=f"reparameterize(mu {_shape}, logvar {_shape}, generator seeded 7)")
    assert_that(_z.requires_grad, f"reparameterize(mu {_shape}, ...): z does not require grad: keep it a "
                "function of mu and logvar (no .detach(), no torch.no_grad(), no .data)")
    _w = torch.tensor(_rng.normal(size=_shape))
    (_z * _w).sum().backward()
    assert_that(_mu.grad is not None and _logvar.grad is not None,
                f"reparameterize(mu {_shape}, ...): no gradient reached mu or logvar")
    assert_close(_mu.grad.numpy(), _w.numpy(), rtol=1e-12, atol=1e-12, name=f"reparameterize (mu {_shape}): dL/dmu")
    assert_close(_logvar.grad.numpy(), (_w * 0.5 * torch.exp(0.5 * _logvar.detach()) * _eps).numpy(),
                 rtol=1e-10, atol=1e-12, name=f"reparameterize (mu {_shape}): dL/dlogvar = 0.5 sigma eps w")
# The samples have the right distribution: mean mu, standard deviation exp(logvar / 2).
_mu = torch.tensor([[1.5, -2.0, 0.0]], dtype=torch.float64).expand(20000, 3)
_logvar = torch.tensor([[0.0, math.log(9.0), math.log(0.01)]], dtype=torch.float64).expand(20000, 3)
_z = call_torch(reparameterize, _mu, _logvar, seeded(3))
assert_close(_z.mean(0).numpy(), [1.5, -2.0, 0.0], rtol=0.0, atol=0.06, name="reparameterize: mean of 20000 samples")
assert_close(_z.std(0).numpy(), [1.0, 3.0, 0.1], rtol=0.03, atol=0.0,
             name="reparameterize: standard deviation of 20000 samples (sigma = exp(logvar / 2))")
# float32 in, float32 out
_z = call_torch(reparameterize, torch.zeros(2, 3), torch.zeros(2, 3), seeded(0))
as_array(_z, "reparameterize(float32 mu, float32 logvar)", dtype=torch.float32)
### END HIDDEN TESTS

# %% [markdown]
# **The loss.** For one image with $P$ pixels $x_p \in [0, 1]$, decoder logits $\ell_p$ and a
# $D$-dimensional code, the two terms of the negative ELBO are
#
# $$\text{recon} = \sum_{p=1}^{P} \mathrm{BCE}(\ell_p, x_p)
#   = \sum_p -\big[x_p \log \sigma(\ell_p) + (1 - x_p) \log(1 - \sigma(\ell_p))\big],$$
#
# $$\text{KL} = \mathrm{KL}\big(\mathcal{N}(\mu, \sigma^2)\,\|\,\mathcal{N}(0, I)\big)
#   = -\frac12 \sum_{d=1}^{D} \big(1 + \log\sigma_d^2 - \mu_d^2 - \sigma_d^2\big).$$
#
# Both are **sums** over the pixels and latent dimensions of one image (it is one log-likelihood
# of one image), then **averaged over the batch**. Use
# `F.binary_cross_entropy_with_logits`, which is stable for any logit.
#
# **Exercise.** Write `vae_loss`; it returns the loss and its two parts (for the curves).

# %% nbgrader="solution" grade_id="vae_loss"
def vae_loss(x_logits, x, mu, logvar):
    """The negative ELBO of a VAE with Bernoulli pixels, averaged over the batch.

    Args:
        x_logits: tensor of shape (N, C, H, W), the decoder's logits.
        x: tensor of shape (N, C, H, W), the images, values in [0, 1].
        mu, logvar: tensors of shape (N, D), the encoder's Gaussian.

    Returns:
        loss, recon, kl: tensors of shape () with loss = recon + kl, where recon is the binary
        cross-entropy summed over each image's pixels and kl the KL divergence of N(mu, sigma^2)
        to N(0, I) summed over the D latent dimensions, both averaged over the N images.
        Gradients flow to x_logits, mu and logvar. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    n = x.shape[0]
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum") / n
    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar)) / n
    return recon + kl, recon, kl
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_vae_loss" points=6
def _parts(result, name):
    assert_that(isinstance(result, tuple | list) and len(result) == 3,
                f"{name} must return a tuple (loss, recon, kl), got " + type(result).__name__)
    for _part, _label in zip(result, ("loss", "recon", "kl"), strict=True):
        assert_shape(_part, (), name=f"{name}: {_label}")
    return result


# Logits 0 give probability 1/2 for every pixel: each pixel costs log 2, whatever x is.
_x = torch.tensor([[[[0.0, 1.0], [0.5, 1.0]]]], dtype=torch.float64)                # (1, 1, 2, 2)
_zeros = torch.zeros(1, 2, dtype=torch.float64)
_loss, _recon, _kl = _parts(call_torch(vae_loss, torch.zeros_like(_x), _x, _zeros, _zeros), "vae_loss")
assert_close(as_array(_recon, "vae_loss: recon"), 4 * math.log(2), name="vae_loss(logits 0, one 2x2 image): recon (4 log 2)")
assert_close(as_array(_kl, "vae_loss: kl"), 0.0, name="vae_loss(mu = 0, logvar = 0): kl (q is the prior)")
# mu = (1, 0), logvar = (0, log 4): KL = 0.5 (1 + 1 - 1 - 0) + 0.5 (0 + 4 - 1 - log 4)
_mu = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
_logvar = torch.tensor([[0.0, math.log(4.0)]], dtype=torch.float64)
_loss, _recon, _kl = _parts(call_torch(vae_loss, torch.zeros_like(_x), _x, _mu, _logvar), "vae_loss")
assert_close(as_array(_kl, "vae_loss: kl"), 0.5 + 0.5 * (3.0 - math.log(4.0)),
             name="vae_loss(mu = [[1, 0]], logvar = [[0, log 4]]): kl")
assert_close(as_array(_loss, "vae_loss: loss"), 4 * math.log(2) + 0.5 + 0.5 * (3.0 - math.log(4.0)),
             name="vae_loss: loss = recon + kl")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(402)
for _N, _C, _H, _W, _D in [(1, 1, 1, 1, 1), (4, 1, 5, 3, 2), (3, 2, 4, 4, 6), (8, 1, 7, 9, 3)]:
    _logits = torch.tensor(_rng.normal(size=(_N, _C, _H, _W)) * 3, requires_grad=True)
    _x = torch.tensor(_rng.uniform(size=(_N, _C, _H, _W)))
    _mu = torch.tensor(_rng.normal(size=(_N, _D)) * 2, requires_grad=True)
    _logvar = torch.tensor(_rng.normal(size=(_N, _D)), requires_grad=True)
    _ref_recon = F.binary_cross_entropy_with_logits(_logits, _x, reduction="none").sum((1, 2, 3)).mean()
    _q = torch.distributions.Normal(_mu, torch.exp(0.5 * _logvar))
    _prior = torch.distributions.Normal(torch.zeros_like(_mu), torch.ones_like(_mu))
    _ref_kl = torch.distributions.kl_divergence(_q, _prior).sum(1).mean()
    _ref_grads = torch.autograd.grad(_ref_recon + _ref_kl, (_logits, _mu, _logvar))
    _label = f"vae_loss(x ({_N}, {_C}, {_H}, {_W}), mu ({_N}, {_D}))"
    _loss, _recon, _kl = _parts(call_torch(vae_loss, _logits, _x, _mu, _logvar), "vae_loss")
    assert_close(as_array(_recon, f"{_label}: recon"), _ref_recon.item(), rtol=1e-10,
                 name=f"{_label}: recon (BCE summed over each image's pixels, mean over images)")
    assert_close(as_array(_kl, f"{_label}: kl"), _ref_kl.item(), rtol=1e-10,
                 name=f"{_label}: kl (torch.distributions.kl_divergence, summed over D, mean over images)")
    assert_close(as_array(_loss, f"{_label}: loss"), (_ref_recon + _ref_kl).item(), rtol=1e-10,
                 name=f"{_label}: loss")
    assert_that(_loss.requires_grad, f"{_label}: the loss does not require grad (no .item() or .detach() inside)")
    for _got, _ref, _what in zip(torch.autograd.grad(_loss, (_logits, _mu, _logvar)), _ref_grads,
                                 ("x_logits", "mu", "logvar"), strict=True):
        assert_close(_got.numpy(), _ref.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: d loss / d {_what}")
# Extreme logits: binary_cross_entropy_with_logits is finite where log(sigmoid) is not.
_x = torch.tensor([[[[0.0, 1.0]]]], dtype=torch.float64)
_logits = torch.tensor([[[[800.0, -800.0]]]], dtype=torch.float64)
_loss, _recon, _kl = _parts(call_torch(vae_loss, _logits, _x, torch.zeros(1, 1, dtype=torch.float64),
                                       torch.zeros(1, 1, dtype=torch.float64)), "vae_loss")
assert_close(as_array(_recon, "vae_loss(logits +-800): recon"), 1600.0, rtol=1e-12,
             name="vae_loss(logits [800, -800], x [0, 1]): recon (use binary_cross_entropy_with_logits)")
### END HIDDEN TESTS

# %% [markdown]
# **The model.** The encoder halves the image twice with strided convolutions
# ($28 \to 14 \to 7$) and outputs $2D$ numbers, split into $\mu$ and $\log\sigma^2$; the decoder
# mirrors it with transposed convolutions and outputs logits. It uses your `reparameterize`.

# %%
class ConvVAE(nn.Module):
    """(N, 1, 28, 28) in [0, 1] -> (logits (N, 1, 28, 28), mu (N, latent), logvar (N, latent))."""

    def __init__(self, latent=16, width=32):
        super().__init__()
        w = width
        self.latent = latent
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.ReLU(),              # 14 x 14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.ReLU(),          # 7 x 7
            nn.Flatten(), nn.Linear(2 * w * 49, 2 * latent))
        self.decoder = nn.Sequential(
            nn.Linear(latent, 2 * w * 49), nn.ReLU(), nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.ReLU(),  # 14 x 14
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1))                 # 28 x 28, logits

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return self.decoder(reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def sample(self, n, generator=None):
        z = torch.randn((n, self.latent), generator=generator, device=next(self.parameters()).device)
        return torch.sigmoid(self.decoder(z).float())


# %% [markdown]
# **Training.** Adam, a few epochs; the progress bar shows the loss per image. Then a
# checkpoint: the weights, the optimizer's state and the curves, saved and loaded back into a
# fresh model (a long run on a GPU would save one every epoch, and resume from the last).

# %%
def train_vae(epochs):
    vae = ConvVAE(cfg["latent"], cfg["width"]).to(device)
    opt = torch.optim.Adam(vae.parameters(), lr=2e-3)
    history = {"loss": [], "recon": [], "kl": []}
    start = time.perf_counter()
    for _, (x, _labels) in epoch_batches(train_loader, epochs, "training the VAE"):
        x = x.to(device)
        with autocast(device):
            logits, mu, logvar = vae(x)
        loss, recon, kl = vae_loss(logits.float(), x, mu.float(), logvar.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        for key, value in zip(history, (loss, recon, kl), strict=True):
            history[key].append(value.item())
    print(f"VAE: {epochs} epochs in {time.perf_counter() - start:.1f} s, last loss {history['loss'][-1]:.1f} per image")
    return vae, opt, history


vae, vae_opt, vae_history = train_vae(cfg["vae_epochs"])
save_checkpoint(CHECKPOINTS / "p4_vae.pt", model=vae, optimizer=vae_opt, step=len(vae_history["loss"]),
                history=vae_history, config=cfg)
vae = ConvVAE(cfg["latent"], cfg["width"]).to(device)
vae_state = load_checkpoint(CHECKPOINTS / "p4_vae.pt", model=vae)
vae.eval()
print(f"loaded {CHECKPOINTS / 'p4_vae.pt'}: step {vae_state['step']}, last loss {vae_state['history']['loss'][-1]:.1f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for key in ("loss", "recon"):
    axes[0].plot(vae_history[key], label=key, lw=0.8)
axes[0].set(xlabel="step", ylabel="nats per image", title="VAE: negative ELBO")
axes[0].legend()
axes[1].plot(vae_history["kl"], color="C2", lw=0.8)
axes[1].set(xlabel="step", title="KL term (nats per image)")
plt.tight_layout()

# %%
with torch.no_grad():
    _logits, _, _ = vae(x_test[:16].to(device))
fig, axes = plt.subplots(1, 2, figsize=(10, 1.8))
show_grid(torch.cat([x_test[:8], torch.sigmoid(_logits[:8].float()).cpu()]), nrow=8,
          title="test images (top) and their reconstructions", ax=axes[0])
vae_samples = vae.sample(cfg["n_samples"], generator=torch.Generator(device).manual_seed(0)).cpu()
show_grid(vae_samples[:16], nrow=8, title="VAE: decoded z ~ N(0, I)", ax=axes[1])
reports["VAE"] = judge_report(vae_samples)

# %% [markdown]
# The reconstructions keep the shape and lose the detail, and the samples are smooth and a
# little blurry: the decoder predicts one probability per pixel, and where several images are
# plausible it predicts their average.
#
# ## 2. The generative adversarial network
#
# A GAN trains two networks against each other. The **generator** $G$ maps noise
# $z \sim \mathcal{N}(0, I)$ to an image; the **discriminator** $D$ maps an image to a logit
# $s$, with $\sigma(s)$ its probability that the image is real. $D$ minimises the binary
# cross-entropy of telling real (label 1) from generated (label 0):
#
# $$L_D = -\mathbb{E}_x \log \sigma(D(x)) - \mathbb{E}_z \log\big(1 - \sigma(D(G(z)))\big).$$
#
# The original minimax game lets $G$ *maximise* that second term, i.e. minimise
# $\mathbb{E}_z \log(1 - \sigma(D(G(z))))$ (the **saturating** loss). Early in training $D$
# easily rejects the fakes, $\sigma(D(G(z))) \approx 0$, where that function is flat: $G$ gets
# almost no gradient. The **non-saturating** loss used in practice has the same fixed point and
# strong gradients where $G$ is bad:
#
# $$L_G = -\mathbb{E}_z \log \sigma(D(G(z))) \quad\text{(the BCE of the fakes against label 1)}.$$
#
# **Exercise.** Write both losses from logits with `F.binary_cross_entropy_with_logits`
# (means over the batch; $L_D$ is the sum of the real and the fake term).

# %% nbgrader="solution" grade_id="gan_losses"
def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss: BCE of real images against 1 plus BCE of fakes against 0.

    Args:
        real_logits: tensor of shape (N,), D's logits on real images.
        fake_logits: tensor of shape (M,), D's logits on generated images.

    Returns:
        loss: tensor of shape (), mean BCE over the real logits (label 1) + mean BCE over the fake
        logits (label 0), computed from the logits (stable for any value).
    """
    ### BEGIN SOLUTION
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake
    ### END SOLUTION


def generator_loss(fake_logits):
    """The generator's non-saturating loss: -mean log sigmoid(fake_logits).

    Args:
        fake_logits: tensor of shape (M,), D's logits on generated images.

    Returns:
        loss: tensor of shape (), the mean BCE of the fake logits against label 1.
    """
    ### BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gan_losses" points=5
_real = torch.tensor([0.0, 0.0], dtype=torch.float64)
_fake = torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64)
_loss = call_torch(discriminator_loss, _real, _fake)
assert_shape(_loss, (), name="discriminator_loss(real_logits (2,), fake_logits (3,))")
assert_close(as_array(_loss, "discriminator_loss"), 2 * math.log(2),
             name="discriminator_loss(logits all 0): log 2 for the real + log 2 for the fakes")
_loss = call_torch(generator_loss, _fake)
assert_shape(_loss, (), name="generator_loss(fake_logits (3,))")
assert_close(as_array(_loss, "generator_loss"), math.log(2), name="generator_loss(logits all 0)")
# D sure and right: real logits +3, fake logits -3
_loss = call_torch(discriminator_loss, torch.tensor([3.0], dtype=torch.float64), torch.tensor([-3.0], dtype=torch.float64))
assert_close(as_array(_loss, "discriminator_loss"), 2 * math.log1p(math.exp(-3.0)),
             name="discriminator_loss(real_logits [3], fake_logits [-3])")
_loss = call_torch(generator_loss, torch.tensor([-3.0], dtype=torch.float64))
assert_close(as_array(_loss, "generator_loss"), math.log1p(math.exp(3.0)),
             name="generator_loss(fake_logits [-3]): -log sigmoid(-3) (non-saturating: large when D rejects the fake)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(403)
for _n, _m in [(1, 1), (5, 3), (16, 16), (2, 9)]:
    _real = torch.tensor(_rng.normal(size=_n) * 4, requires_grad=True)
    _fake = torch.tensor(_rng.normal(size=_m) * 4, requires_grad=True)
    _ref_d = (F.binary_cross_entropy_with_logits(_real, torch.ones(_n, dtype=torch.float64))
              + F.binary_cross_entropy_with_logits(_fake, torch.zeros(_m, dtype=torch.float64)))
    _ref_g = F.binary_cross_entropy_with_logits(_fake, torch.ones(_m, dtype=torch.float64))
    _loss = call_torch(discriminator_loss, _real, _fake)
    assert_close(as_array(_loss, "discriminator_loss"), _ref_d.item(), rtol=1e-10,
                 name=f"discriminator_loss(real ({_n},), fake ({_m},))")
    for _got, _ref, _what in zip(torch.autograd.grad(_loss, (_real, _fake)), torch.autograd.grad(_ref_d, (_real, _fake)),
                                 ("real_logits", "fake_logits"), strict=True):
        assert_close(_got.numpy(), _ref.numpy(), rtol=1e-9, atol=1e-12,
                     name=f"discriminator_loss(real ({_n},), fake ({_m},)): gradient w.r.t. {_what}")
    _loss = call_torch(generator_loss, _fake)
    assert_close(as_array(_loss, "generator_loss"), _ref_g.item(), rtol=1e-10, name=f"generator_loss(fake ({_m},))")
    assert_close(torch.autograd.grad(_loss, _fake)[0].numpy(), torch.autograd.grad(_ref_g, _fake)[0].numpy(),
                 rtol=1e-9, atol=1e-12, name=f"generator_loss(fake ({_m},)): gradient")
# Extreme logits: finite values and the non-saturating gradient -1/M where D rejects the fakes.
_fake = torch.tensor([-1000.0, 1000.0], dtype=torch.float64, requires_grad=True)
_loss = call_torch(generator_loss, _fake)
assert_close(as_array(_loss, "generator_loss"), 500.0, rtol=1e-12,
             name="generator_loss(fake_logits [-1000, 1000]) (from the logits: no log(sigmoid(...)))")
assert_close(torch.autograd.grad(_loss, _fake)[0].numpy(), [-0.5, 0.0], rtol=1e-9, atol=1e-12,
             name="generator_loss(fake_logits [-1000, 1000]): gradient")
_loss = call_torch(discriminator_loss, torch.tensor([-1000.0], dtype=torch.float64), torch.tensor([1000.0], dtype=torch.float64))
assert_close(as_array(_loss, "discriminator_loss"), 2000.0, rtol=1e-12,
             name="discriminator_loss(real_logits [-1000], fake_logits [1000])")
### END HIDDEN TESTS

# %% [markdown]
# **One training step.** Each step trains $D$ once, then $G$ once, on the same fakes:
#
# 1. `fake = G(z)`.
# 2. **Discriminator**: zero its gradients, `discriminator_loss(D(real), D(fake.detach()))`,
#    backward, `opt_d.step()`. The `detach()` cuts the graph at the fakes: this step must not
#    send gradients into $G$ (they would be wasted work, and the second backward through $G$'s
#    graph fails).
# 3. **Generator**: zero its gradients, `generator_loss(D(fake))` — through the *updated* $D$,
#    without detach, since $G$ learns through $D$ — backward, `opt_g.step()`.
#
# Zeroing matters: the generator's backward also leaves gradients in $D$'s parameters.
#
# **Exercise.** Write `gan_train_step`. Return the two losses as Python floats (`.item()`).

# %% nbgrader="solution" grade_id="gan_train_step"
def gan_train_step(generator, discriminator, opt_g, opt_d, real, z):
    """One step of GAN training: the discriminator, then the generator.

    Args:
        generator: module, z (N, Z) -> images like `real`.
        discriminator: module, images -> logits of shape (N,).
        opt_g, opt_d: the optimizers of the generator's and the discriminator's parameters.
        real: tensor, a batch of real images.
        z: tensor of shape (N, Z), the noise for this step.

    Returns:
        (d_loss, g_loss): Python floats, the discriminator's loss (before its update) and the
        generator's loss (through the updated discriminator).
    """
    ### BEGIN SOLUTION
    fake = generator(z)
    opt_d.zero_grad()
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = generator_loss(discriminator(fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gan_train_step" points=5
class _CountingGenerator(nn.Module):
    """A tiny generator that counts how many backward passes reach its output."""

    def __init__(self, nz, nx):
        super().__init__()
        self.net = nn.Linear(nz, nx, dtype=torch.float64)
        self.backward_passes = 0

    def forward(self, z):
        out = torch.tanh(self.net(z))
        if out.requires_grad:
            out.register_hook(self._count)
        return out

    def _count(self, grad):
        self.backward_passes += 1


def _tiny_gan(seed, nz=2, nx=3):
    torch.manual_seed(seed)
    gen = _CountingGenerator(nz, nx)
    disc = nn.Sequential(nn.Linear(nx, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1), nn.Flatten(0)).double()
    return gen, disc


def _reference_step(gen, disc, lr, real, z):
    """The step done by hand, on copies (SGD)."""
    fake = gen(z)
    d_loss = (F.binary_cross_entropy_with_logits(disc(real), torch.ones(len(real), dtype=torch.float64))
              + F.binary_cross_entropy_with_logits(disc(fake.detach()), torch.zeros(len(z), dtype=torch.float64)))
    with torch.no_grad():
        for p, g in zip(disc.parameters(), torch.autograd.grad(d_loss, list(disc.parameters())), strict=True):
            p -= lr * g
    g_loss = F.binary_cross_entropy_with_logits(disc(fake), torch.ones(len(z), dtype=torch.float64))
    with torch.no_grad():
        for p, g in zip(gen.parameters(), torch.autograd.grad(g_loss, list(gen.parameters())), strict=True):
            p -= lr * g
    return d_loss.item(), g_loss.item()


def _check_gan_step(seed, n, lr=0.5, nz=2, nx=3):
    gen, disc = _tiny_gan(seed, nz, nx)
    ref_gen, ref_disc = _tiny_gan(seed, nz, nx)
    gen_r = torch.Generator().manual_seed(seed + 1)
    real = torch.randn((n, nx), generator=gen_r, dtype=torch.float64)
    z = torch.randn((n, nz), generator=gen_r, dtype=torch.float64)
    for p in list(gen.parameters()) + list(disc.parameters()):  # what an earlier step leaves behind
        p.grad = torch.full_like(p, 3.0)
    opt_g = torch.optim.SGD(gen.parameters(), lr=lr)
    opt_d = torch.optim.SGD(disc.parameters(), lr=lr)
    label = f"gan_train_step(tiny G and D, batch of {n}, SGD lr={lr}, leftover gradients in .grad)"
    result = call_torch(gan_train_step, gen, disc, opt_g, opt_d, real, z)
    assert_that(isinstance(result, tuple | list) and len(result) == 2,
                f"{label} must return (d_loss, g_loss), got {type(result).__name__}")
    assert_that(all(isinstance(v, float) for v in result),
                f"{label} must return two Python floats (.item()), got {[type(v).__name__ for v in result]}")
    assert_that(gen.backward_passes == 1,
                f"{label}: gradients reached the generator's output {gen.backward_passes} times in one step, "
                "expected once (from the generator's loss): the discriminator's step must use fake.detach()")
    d_ref, g_ref = _reference_step(ref_gen, ref_disc, lr, real, z)
    assert_close(result[0], d_ref, rtol=1e-9, name=f"{label}: d_loss")
    for (name, p), q in zip(disc.named_parameters(), ref_disc.parameters(), strict=True):
        assert_close(p.detach().numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12,
                     name=f"{label}: discriminator's {name} after the step (zero the old gradients first?)")
    assert_close(result[1], g_ref, rtol=1e-9, name=f"{label}: g_loss (through the updated discriminator)")
    for (name, p), q in zip(gen.named_parameters(), ref_gen.parameters(), strict=True):
        assert_close(p.detach().numpy(), q.detach().numpy(), rtol=1e-9, atol=1e-12,
                     name=f"{label}: generator's {name} after the step")


_check_gan_step(seed=0, n=4)
### BEGIN HIDDEN TESTS
for _seed, _n in [(1, 1), (2, 7), (3, 16)]:
    _check_gan_step(seed=_seed, n=_n, lr=0.3, nz=3, nx=5)
### END HIDDEN TESTS

# %% [markdown]
# **The DCGAN.** Radford et al. (2016) found an architecture that trains stably: the generator
# is a stack of transposed convolutions with batch norm and ReLU, ending in `tanh` (images in
# $[-1, 1]$); the discriminator mirrors it with strided convolutions, batch norm and leaky ReLU;
# Adam with learning rate $2 \cdot 10^{-4}$ and $\beta_1 = 0.5$; weights initialised from
# $\mathcal{N}(0, 0.02)$.

# %%
class Generator(nn.Module):
    """z (N, nz) -> images (N, 1, 28, 28) in [-1, 1]."""

    def __init__(self, nz=64, width=32):
        super().__init__()
        w = width
        self.nz = nz
        self.net = nn.Sequential(
            nn.Linear(nz, 2 * w * 49, bias=False), nn.Unflatten(1, (2 * w, 7, 7)), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),  # 14
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1), nn.Tanh())                                    # 28

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """images (N, 1, 28, 28) in [-1, 1] -> logits (N,)."""

    def __init__(self, width=32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.LeakyReLU(0.2),                                # 14
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),  # 7
            nn.Flatten(), nn.Linear(2 * w * 49, 1), nn.Flatten(0))

    def forward(self, x):
        return self.net(x)


def dcgan_init(module):
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def train_gan(epochs):
    gen, disc = Generator(width=cfg["width"]).to(device), Discriminator(width=cfg["width"]).to(device)
    gen.apply(dcgan_init)
    disc.apply(dcgan_init)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    history = {"d": [], "g": []}
    start = time.perf_counter()
    for _, (x, _labels) in epoch_batches(train_loader, epochs, "training the GAN"):
        real = x.to(device) * 2 - 1
        z = torch.randn(len(real), gen.nz, device=device)
        with autocast(device):
            d_loss, g_loss = gan_train_step(gen, disc, opt_g, opt_d, real, z)
        history["d"].append(d_loss)
        history["g"].append(g_loss)
    print(f"GAN: {epochs} epochs in {time.perf_counter() - start:.1f} s")
    return gen, disc, opt_g, opt_d, history


gen, disc, opt_g, opt_d, gan_history = train_gan(cfg["gan_epochs"])
save_checkpoint(CHECKPOINTS / "p4_gan.pt", model=gen, optimizer=opt_g, step=len(gan_history["d"]),
                discriminator=disc.state_dict(), history=gan_history, config=cfg)
gen.eval()
with torch.no_grad():
    gan_samples = (gen(torch.randn(cfg["n_samples"], gen.nz, device=device,
                                   generator=torch.Generator(device).manual_seed(0))).float().cpu() + 1) / 2
reports["GAN"] = judge_report(gan_samples)

fig, axes = plt.subplots(1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1.2, 1]})
axes[0].plot(gan_history["d"], lw=0.6, label="discriminator")
axes[0].plot(gan_history["g"], lw=0.6, label="generator")
axes[0].axhline(2 * math.log(2), color="gray", ls=":", lw=0.8)
axes[0].axhline(math.log(2), color="gray", ls=":", lw=0.8)
axes[0].set(xlabel="step", ylabel="loss", title="GAN losses (dotted: 2 log 2 and log 2)")
axes[0].legend()
show_grid(gan_samples[:16], nrow=8, title="DCGAN samples", ax=axes[1])
plt.tight_layout()

# %% [markdown]
# The GAN's curves do not go down like a classifier's: each player's loss depends on the other.
# At the game's equilibrium $D$ outputs $\tfrac12$ everywhere, where $L_D = 2 \log 2$ and
# $L_G = \log 2$ (the dotted lines). A discriminator loss that falls to zero while the
# generator's climbs means $D$ has won, and $G$ learns nothing more.
#
# ## 3. The denoising diffusion model
#
# A diffusion model (Ho et al., 2020, "DDPM") destroys an image in $T$ small steps of Gaussian
# noise and learns to undo one step at a time. The **forward process** is fixed:
#
# $$q(x_t \mid x_{t-1}) = \mathcal{N}\big(\sqrt{1 - \beta_t}\, x_{t-1},\; \beta_t I\big),
#   \qquad t = 1, \dots, T,$$
#
# with a **schedule** of small variances $\beta_t$, linear from $\beta_1 = 10^{-4}$ to
# $\beta_T = 0.02$ for $T = 1000$. With $\alpha_t = 1 - \beta_t$ and
# $\bar\alpha_t = \prod_{s=1}^{t} \alpha_s$, the steps compose into one Gaussian, so $x_t$ can be
# drawn from a clean image in **closed form**:
#
# $$x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon,
#   \qquad \varepsilon \sim \mathcal{N}(0, I).$$
#
# In code the steps are stored 0-based: index `t` = 0, …, T − 1 holds $\beta_{t+1}$,
# $\alpha_{t+1}$, $\bar\alpha_{t+1}$ (index 0 is the first, lightest noise step).
#
# **Exercise.** Write `ddpm_schedule` (float64 tensors: note that `torch.linspace` makes
# float32 unless told otherwise) and `q_sample`, where every image of the batch has its own
# step `t[i]`.

# %% nbgrader="solution" grade_id="ddpm_schedule"
def ddpm_schedule(T, beta_1=1e-4, beta_T=0.02):
    """The linear DDPM noise schedule.

    Args:
        T: number of diffusion steps (an int >= 1).
        beta_1, beta_T: the first and the last variance.

    Returns:
        betas, alphas, alpha_bars: float64 tensors of shape (T,): betas linear from beta_1 to
        beta_T (both included; [beta_1] when T = 1), alphas = 1 - betas, alpha_bars[t] = the
        product of alphas[0], ..., alphas[t].
    """
    ### BEGIN SOLUTION
    betas = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)
    alphas = 1.0 - betas
    alpha_bars = torch.cumprod(alphas, dim=0)
    return betas, alphas, alpha_bars
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_ddpm_schedule" points=4
def _schedule(result, T, name):
    assert_that(isinstance(result, tuple | list) and len(result) == 3,
                f"{name} must return (betas, alphas, alpha_bars), got {type(result).__name__}")
    return [as_array(v, f"{name}: {k}") for v, k in zip(result, ("betas", "alphas", "alpha_bars"), strict=True)]


_betas, _alphas, _abar = _schedule(call(ddpm_schedule, 5, 0.1, 0.5), 5, "ddpm_schedule(5, 0.1, 0.5)")
assert_close(_betas, [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-12, name="ddpm_schedule(5, 0.1, 0.5): betas")
assert_close(_alphas, [0.9, 0.8, 0.7, 0.6, 0.5], rtol=1e-12, name="ddpm_schedule(5, 0.1, 0.5): alphas")
assert_close(_abar, [0.9, 0.72, 0.504, 0.3024, 0.1512], rtol=1e-12,
             name="ddpm_schedule(5, 0.1, 0.5): alpha_bars (running product of the alphas)")
### BEGIN HIDDEN TESTS
for _T, _b1, _bT in [(1, 0.3, 0.3), (1, 1e-4, 0.02), (2, 0.1, 0.2), (1000, 1e-4, 0.02), (50, 1e-3, 0.4), (7, 0.05, 0.01)]:
    _label = f"ddpm_schedule({_T}, {_b1}, {_bT})"
    _betas, _alphas, _abar = _schedule(call(ddpm_schedule, _T, _b1, _bT), _T, _label)
    _ref = np.linspace(_b1, _bT, _T)
    assert_close(_betas, _ref, rtol=1e-12, atol=1e-15, name=f"{_label}: betas")
    assert_close(_alphas, 1 - _ref, rtol=1e-12, name=f"{_label}: alphas")
    assert_close(_abar, np.cumprod(1 - _ref), rtol=1e-10, atol=1e-300, name=f"{_label}: alpha_bars")
_betas, _alphas, _abar = _schedule(call(ddpm_schedule, 1000), 1000, "ddpm_schedule(1000)")
assert_close(_betas[[0, -1]], [1e-4, 0.02], rtol=1e-12, name="ddpm_schedule(1000) with the default betas: betas[0], betas[-1]")
assert_close(_abar[-1], np.prod(1 - np.linspace(1e-4, 0.02, 1000)), rtol=1e-10,
             name="ddpm_schedule(1000): alpha_bars[-1] (almost pure noise at the end)")
### END HIDDEN TESTS

# %% nbgrader="solution" grade_id="q_sample"
def q_sample(x0, t, noise, alpha_bars):
    """Noise clean images to step t in one go: sqrt(abar_t) x0 + sqrt(1 - abar_t) noise.

    Args:
        x0: tensor of shape (N, C, H, W), the clean images.
        t: int64 tensor of shape (N,), each image's step (0-based index into alpha_bars).
        noise: tensor of shape (N, C, H, W), the standard normal noise to add.
        alpha_bars: tensor of shape (T,), from ddpm_schedule.

    Returns:
        x_t: tensor of shape (N, C, H, W). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    abar = alpha_bars[t].to(x0.dtype).view(-1, 1, 1, 1)
    return torch.sqrt(abar) * x0 + torch.sqrt(1.0 - abar) * noise
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_q_sample" points=4
_abar = torch.tensor([0.64, 0.36, 0.01], dtype=torch.float64)
_x0 = torch.ones(2, 1, 1, 3, dtype=torch.float64)
_noise = torch.tensor([[[[1.0, -1.0, 0.0]]], [[[2.0, 0.0, 1.0]]]], dtype=torch.float64)
_xt = call_torch(q_sample, _x0, torch.tensor([0, 2]), _noise, _abar)
assert_shape(_xt, (2, 1, 1, 3), name="q_sample(x0 (2, 1, 1, 3), t=[0, 2], noise, alpha_bars)")
assert_close(as_array(_xt, "q_sample"), [[[[0.8 + 0.6, 0.8 - 0.6, 0.8]]], [[[0.1 + 2 * math.sqrt(0.99), 0.1, 0.1 + math.sqrt(0.99)]]]],
             rtol=1e-12, name="q_sample(x0 = 1, t = [0, 2], alpha_bars = [0.64, 0.36, 0.01]): "
             "image 0 is 0.8 x0 + 0.6 noise, image 1 is 0.1 x0 + sqrt(0.99) noise")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(404)
_abar = torch.tensor(np.cumprod(1 - np.linspace(1e-3, 0.2, 60)))
for _shape in [(1, 1, 1, 1), (4, 1, 3, 4), (3, 2, 5, 3), (6, 1, 4, 6), (5, 3, 2, 2)]:
    _x0 = torch.tensor(_rng.normal(size=_shape))
    _noise = torch.tensor(_rng.normal(size=_shape))
    _t = torch.tensor(_rng.integers(0, 60, size=_shape[0]))
    _t[0] = 0
    if _shape[0] > 1:
        _t[-1] = 59
    _a = _abar[_t].view(-1, 1, 1, 1)
    _expected = (_a.sqrt() * _x0 + (1 - _a).sqrt() * _noise).numpy()
    _xt = call_torch(q_sample, _x0, _t, _noise, _abar)
    assert_shape(_xt, _shape, name=f"q_sample(x0 {_shape})")
    assert_close(as_array(_xt, "q_sample"), _expected, rtol=1e-12, atol=1e-14,
                 name=f"q_sample(x0 {_shape}, t={_t.tolist()}): each image with its own step")
# Gradients flow to x0 and noise (the model's input must stay differentiable for tricks like guidance).
_x0 = torch.tensor(_rng.normal(size=(2, 1, 2, 2)), requires_grad=True)
_xt = call_torch(q_sample, _x0, torch.tensor([3, 40]), torch.zeros(2, 1, 2, 2, dtype=torch.float64), _abar)
_xt.sum().backward()
assert_close(_x0.grad[:, 0, 0, 0].numpy(), _abar[[3, 40]].sqrt().numpy(), rtol=1e-12,
             name="q_sample: d x_t / d x0 = sqrt(alpha_bar_t)")
### END HIDDEN TESTS

# %% [markdown]
# How fast does the forward process forget the image? Here is one image noised to a few steps
# with your `q_sample`, and $\sqrt{\bar\alpha_t}$, the share of the signal that is left, over
# the steps of the schedule used below.

# %%
T = cfg["T"]
# the classic schedule is for T = 1000; with fewer steps the betas are scaled up so that the last
# step is still (almost) pure noise
betas, alphas, alpha_bars = ddpm_schedule(T, 1e-4 * 1000 / T, min(0.02 * 1000 / T, 0.5))
_steps = [0, T // 10, T // 4, T // 2, 3 * T // 4, T - 1]
_x0 = x_train[:1].double() * 2 - 1
_noised = torch.cat([q_sample(_x0, torch.tensor([s]), torch.randn(_x0.shape, generator=torch.Generator().manual_seed(1),
                                                                     dtype=torch.float64), alpha_bars) for s in _steps])
fig, axes = plt.subplots(1, 2, figsize=(10, 2.2), gridspec_kw={"width_ratios": [1.3, 1]})
show_grid(_noised, nrow=len(_steps), value_range=(-1.0, 1.0), ax=axes[0],
          title="x_t at t = " + ", ".join(str(s) for s in _steps))
axes[1].plot(alpha_bars.sqrt(), label=r"$\sqrt{\bar\alpha_t}$ (signal)")
axes[1].plot((1 - alpha_bars).sqrt(), label=r"$\sqrt{1-\bar\alpha_t}$ (noise)")
axes[1].set(xlabel="step t", title=f"linear schedule, T = {T}")
axes[1].legend(fontsize=8)
plt.tight_layout()

# %% [markdown]
# **Training.** A network $\varepsilon_\theta(x_t, t)$ learns to predict the noise that was
# added. Ho et al. show that a simple loss works best: for a batch of clean images, draw a
# step for each image **uniformly** from all $T$ steps, noise it, and regress the noise,
#
# $$L = \mathbb{E}_{x_0,\, t \sim \mathcal{U}\{1..T\},\, \varepsilon}
#   \big\| \varepsilon - \varepsilon_\theta\big(\sqrt{\bar\alpha_t} x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon,\; t\big)\big\|^2 .$$
#
# **Exercise.** Write `ddpm_loss`: draw the steps first,
# `t = torch.randint(0, T, (N,), generator=generator, device=x0.device)`, then the noise,
# `torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)`; noise with
# your `q_sample`; call `model(x_t, t)`; return the mean squared error (`F.mse_loss`).

# %% nbgrader="solution" grade_id="ddpm_loss"
def ddpm_loss(model, x0, alpha_bars, generator=None):
    """The simple DDPM loss on a batch of clean images.

    Args:
        model: callable, model(x_t (N, C, H, W), t int64 (N,)) -> predicted noise (N, C, H, W).
        x0: tensor of shape (N, C, H, W), clean images.
        alpha_bars: tensor of shape (T,), from ddpm_schedule.
        generator: a torch.Generator for t and the noise (None: torch's global one).

    Returns:
        loss: tensor of shape (), the mean over all entries of (model(x_t, t) - noise)^2, with t
        uniform over 0, ..., T - 1 (drawn first) and the noise standard normal (drawn second).
    """
    ### BEGIN SOLUTION
    T = alpha_bars.shape[0]
    t = torch.randint(0, T, (x0.shape[0],), generator=generator, device=x0.device)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    x_t = q_sample(x0, t, noise, alpha_bars)
    return F.mse_loss(model(x_t, t), noise)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_ddpm_loss" points=5
class _ToyDenoiser:
    """A stand-in model that remembers its inputs: predicts 0.5 x_t + 0.01 t."""

    def __init__(self):
        self.calls = []

    def __call__(self, x_t, t):
        self.calls.append((x_t.detach().clone(), t.clone()))
        return 0.5 * x_t + 0.01 * t.to(x_t.dtype).view(-1, 1, 1, 1)


def _check_ddpm_loss(x0, abar, seed):
    label = f"ddpm_loss(toy model, x0 {tuple(x0.shape)}, alpha_bars ({len(abar)},), generator seeded {seed})"
    model = _ToyDenoiser()
    loss = call_torch(ddpm_loss, model, x0, abar, seeded(seed))
    assert_shape(loss, (), name=label)
    assert_that(len(model.calls) == 1, f"{label}: the model was called {len(model.calls)} times, expected once")
    x_t, t = model.calls[0]
    assert_that(t.dtype == torch.int64 and tuple(t.shape) == (len(x0),),
                f"{label}: the model must get t as an int64 tensor of shape ({len(x0)},), got {t.dtype} {tuple(t.shape)}")
    g = seeded(seed)
    t_ref = torch.randint(0, len(abar), (len(x0),), generator=g)
    noise = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    assert_that(torch.equal(t, t_ref), f"{label}: the model got t = {t.tolist()}, expected {t_ref.tolist()} "
                "(draw t first: torch.randint(0, T, (N,), generator=generator))")
    a = abar[t_ref].view(-1, 1, 1, 1)
    x_t_ref = a.sqrt() * x0 + (1 - a).sqrt() * noise
    assert_close(x_t.numpy(), x_t_ref.numpy(), rtol=1e-12, atol=1e-14,
                 name=f"{label}: the model's input x_t (noise drawn second, with torch.randn(x0.shape, generator=...))")
    expected = ((0.5 * x_t_ref + 0.01 * t_ref.double().view(-1, 1, 1, 1) - noise) ** 2).mean()
    assert_close(as_array(loss, label), expected.item(), rtol=1e-10, name=f"{label}: the loss")


_check_ddpm_loss(torch.linspace(-1, 1, 18, dtype=torch.float64).view(2, 1, 3, 3),
                 torch.tensor([0.9, 0.5, 0.1], dtype=torch.float64), seed=0)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(405)
_abar = torch.tensor(np.cumprod(1 - np.linspace(1e-3, 0.2, 40)))
for _shape, _seed in [((1, 1, 2, 2), 1), ((5, 1, 4, 3), 2), ((3, 2, 3, 5), 3), ((16, 1, 2, 2), 4)]:
    _check_ddpm_loss(torch.tensor(_rng.normal(size=_shape)), _abar, _seed)
# Every step 0, ..., T - 1 is drawn (uniformly), none outside.
_model = _ToyDenoiser()
for _seed in range(20):
    call_torch(ddpm_loss, _model, torch.zeros(50, 1, 1, 1, dtype=torch.float64),
               torch.tensor([0.9, 0.6, 0.3, 0.1], dtype=torch.float64), seeded(100 + _seed))
_counts = torch.bincount(torch.cat([_t for _, _t in _model.calls]), minlength=4)
assert_that(len(_counts) == 4 and bool((_counts > 150).all()),
            f"ddpm_loss with T = 4: how often each step was drawn in 1000 images: {_counts.tolist()} "
            "(expected about 250 each for t = 0, 1, 2, 3)")
# Gradients reach the model.
_w = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
_loss = call_torch(ddpm_loss, lambda x_t, t: _w * x_t, torch.ones(3, 1, 2, 2, dtype=torch.float64), _abar, seeded(9))
_loss.backward()
assert_that(_w.grad is not None and _w.grad.abs().item() > 0,
            "ddpm_loss: no gradient reached the model's parameters (no .item() or .detach() on the loss)")
### END HIDDEN TESTS

# %% [markdown]
# **The denoiser** is a small U-Net (the architecture of the CNN notebook): two
# downsampling and two upsampling stages with skip connections, residual blocks with group
# norm and SiLU, and the step $t$ entering every block as a learned shift of the channels,
# computed from a sinusoidal embedding of $t$ (as the positions of a transformer).

# %%
def timestep_embedding(t, dim):
    """Sinusoidal embedding of integer steps t (N,) -> (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(tdim, cout)
        self.norm2, self.conv2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    """The noise predictor: (x_t (N, 1, 28, 28), t (N,)) -> predicted noise (N, 1, 28, 28)."""

    def __init__(self, width=32):
        super().__init__()
        w, self.tdim = width, 4 * width
        self.time = nn.Sequential(nn.Linear(w, self.tdim), nn.SiLU(), nn.Linear(self.tdim, self.tdim))
        self.inp = nn.Conv2d(1, w, 3, padding=1)
        self.down1, self.pool1 = ResBlock(w, w, self.tdim), nn.Conv2d(w, w, 4, stride=2, padding=1)           # 14
        self.down2, self.pool2 = ResBlock(w, 2 * w, self.tdim), nn.Conv2d(2 * w, 2 * w, 4, stride=2, padding=1)  # 7
        self.mid = ResBlock(2 * w, 2 * w, self.tdim)
        self.up2, self.block2 = nn.ConvTranspose2d(2 * w, 2 * w, 4, stride=2, padding=1), ResBlock(4 * w, 2 * w, self.tdim)
        self.up1, self.block1 = nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), ResBlock(2 * w, w, self.tdim)
        self.out = nn.Sequential(nn.GroupNorm(8, w), nn.SiLU(), nn.Conv2d(w, 1, 3, padding=1))
        self.width = w

    def forward(self, x, t):
        temb = self.time(timestep_embedding(t, self.width))
        h1 = self.down1(self.inp(x), temb)                      # 28 x 28
        h2 = self.down2(self.pool1(h1), temb)                   # 14 x 14
        h = self.mid(self.pool2(h2), temb)                      # 7 x 7
        h = self.block2(torch.cat([self.up2(h), h2], 1), temb)  # 14 x 14
        h = self.block1(torch.cat([self.up1(h), h1], 1), temb)  # 28 x 28
        return self.out(h)


def train_ddpm(epochs):
    model = TinyUNet(cfg["ddpm_width"]).to(device)
    ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(cfg["ema"]))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3 if SIZE == "small" else 5e-4)
    abar = alpha_bars.to(device=device, dtype=torch.float32)
    history = []
    start = time.perf_counter()
    for _, (x, _labels) in epoch_batches(train_loader, epochs, "training the DDPM"):
        x0 = x.to(device) * 2 - 1
        with autocast(device):
            loss = ddpm_loss(model, x0, abar)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update_parameters(model)
        history.append(loss.item())
    print(f"DDPM: {epochs} epochs in {time.perf_counter() - start:.1f} s, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    return model, ema, opt, history


ddpm, ddpm_ema, ddpm_opt, ddpm_history = train_ddpm(cfg["ddpm_epochs"])
save_checkpoint(CHECKPOINTS / "p4_ddpm.pt", model=ddpm, optimizer=ddpm_opt, step=len(ddpm_history),
                ema=ddpm_ema.module.state_dict(), history=ddpm_history, config=cfg)
plt.figure(figsize=(5, 2.5))
plt.plot(ddpm_history, lw=0.6)
plt.yscale("log")
plt.xlabel("step")
plt.ylabel("MSE of the predicted noise")
plt.title("DDPM training loss")
plt.tight_layout()

# %% [markdown]
# **Sampling.** To go back, DDPM models $p_\theta(x_{t-1} \mid x_t)$ as a Gaussian with a fixed
# variance $\beta_t$ and the mean that the true posterior would have if the predicted noise were
# the real one:
#
# $$x_{t-1} = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,
#   \varepsilon_\theta(x_t, t)\Big) + \sqrt{\beta_t}\, z, \qquad z \sim \mathcal{N}(0, I),$$
#
# and **no noise is added at the last step** (index `t = 0`), which returns the mean. Starting
# from $x_T \sim \mathcal{N}(0, I)$ and applying this $T$ times gives a sample.
#
# **Exercise.** Write `p_sample`, one reverse step for a whole batch at the same step `t` (a
# Python int, 0-based). Call the model with `t` as an int64 tensor of shape `(N,)`, and draw
# $z$ with `torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)`
# (only when `t > 0`).

# %% nbgrader="solution" grade_id="p_sample"
def p_sample(model, x_t, t, betas, alpha_bars, generator=None):
    """One reverse diffusion step: x_{t-1} from x_t.

    Args:
        model: callable, model(x_t (N, C, H, W), t int64 (N,)) -> predicted noise (N, C, H, W).
        x_t: tensor of shape (N, C, H, W).
        t: int, the current step (0-based, 0 <= t < T).
        betas, alpha_bars: tensors of shape (T,), from ddpm_schedule.
        generator: a torch.Generator for z (None: torch's global one).

    Returns:
        x_prev: tensor of shape (N, C, H, W), the posterior mean
        (x_t - betas[t] / sqrt(1 - alpha_bars[t]) * eps) / sqrt(1 - betas[t]), plus
        sqrt(betas[t]) * z when t > 0 (at t = 0: the mean, no noise drawn).
    """
    ### BEGIN SOLUTION
    beta = betas[t]
    eps = model(x_t, torch.full((x_t.shape[0],), t, dtype=torch.int64, device=x_t.device))
    mean = (x_t - beta / torch.sqrt(1.0 - alpha_bars[t]) * eps) / torch.sqrt(1.0 - beta)
    if t == 0:
        return mean
    z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)
    return mean + torch.sqrt(beta) * z
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_p_sample" points=6
def _check_p_sample(x_t, t, betas, seed):
    label = f"p_sample(toy model, x_t {tuple(x_t.shape)}, t={t}, T={len(betas)}, generator seeded {seed})"
    abar = torch.cumprod(1 - betas, 0)
    model = _ToyDenoiser()
    out = call_torch(p_sample, model, x_t, t, betas, abar, seeded(seed))
    assert_shape(out, tuple(x_t.shape), name=label)
    assert_that(len(model.calls) == 1, f"{label}: the model was called {len(model.calls)} times, expected once")
    _, t_seen = model.calls[0]
    assert_that(t_seen.dtype == torch.int64 and t_seen.tolist() == [t] * len(x_t),
                f"{label}: the model must get t as int64 [{t}] * N, got {t_seen.dtype} {t_seen.tolist()}")
    eps = 0.5 * x_t + 0.01 * t
    mean = (x_t - betas[t] / (1 - abar[t]).sqrt() * eps) / (1 - betas[t]).sqrt()
    if t > 0:
        expected = mean + betas[t].sqrt() * torch.randn(x_t.shape, generator=seeded(seed), dtype=x_t.dtype)
        what = "mean + sqrt(beta_t) z"
    else:
        expected, what = mean, "the mean, no noise at t = 0"
    assert_close(as_array(out, label), expected.numpy(), rtol=1e-11, atol=1e-13, name=f"{label}: {what}")


_betas = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
_x = torch.linspace(-1, 1, 8, dtype=torch.float64).view(2, 1, 2, 2)
_check_p_sample(_x, 2, _betas, seed=0)
_check_p_sample(_x, 0, _betas, seed=0)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(406)
_betas = torch.tensor(np.linspace(1e-3, 0.2, 30))
for _shape, _t, _seed in [((1, 1, 1, 1), 0, 1), ((1, 1, 3, 2), 29, 2), ((4, 2, 3, 3), 1, 3), ((3, 1, 5, 4), 17, 4),
                          ((2, 3, 2, 2), 0, 5)]:
    _check_p_sample(torch.tensor(_rng.normal(size=_shape)), _t, _betas, _seed)
# At t = 0 the generator is not drawn from.
_g = seeded(6)
_state = _g.get_state()
call_torch(p_sample, _ToyDenoiser(), torch.ones(2, 1, 2, 2, dtype=torch.float64), 0, _betas, torch.cumprod(1 - _betas, 0), _g)
assert_that(torch.equal(_state, _g.get_state()), "p_sample at t = 0 drew from the generator: add no noise at the last step")
### END HIDDEN TESTS

# %% [markdown]
# Sampling runs the model $T$ times — the price of diffusion. Below, with an exponential moving
# average (EMA) of the weights over training (smoother than the last step's), the denoiser turns
# noise into images; the strip shows one sample along the way.

# %%
@torch.no_grad()
def ddpm_sample(model, n, generator=None, keep=()):
    """Run p_sample from pure noise down to t = 0; returns the images in [-1, 1] and snapshots."""
    b, abar = betas.to(device=device, dtype=torch.float32), alpha_bars.to(device=device, dtype=torch.float32)
    x = torch.randn((n, 1, 28, 28), generator=generator, device=device)
    snapshots = []
    for t in progress(range(T - 1, -1, -1), desc="sampling"):
        with autocast(device):
            x = p_sample(model, x, t, b, abar, generator).float()
        if t in keep:
            snapshots.append(x[:1].cpu())
    return x.clamp(-1, 1), snapshots


start = time.perf_counter()
_keep = [T - 1, 3 * T // 4, T // 2, T // 4, T // 10, 0]
_x, _trajectory = ddpm_sample(ddpm_ema.module.eval(), cfg["n_samples"], torch.Generator(device).manual_seed(0), keep=_keep)
ddpm_samples = (_x.cpu() + 1) / 2
print(f"{cfg['n_samples']} samples in {time.perf_counter() - start:.1f} s ({T} steps)")
reports["DDPM"] = judge_report(ddpm_samples)
fig, axes = plt.subplots(1, 2, figsize=(10, 2.2), gridspec_kw={"width_ratios": [1, 1.2]})
show_grid(torch.cat(_trajectory), nrow=len(_keep), value_range=(-1.0, 1.0), ax=axes[0],
          title="one sample at t = " + ", ".join(str(s) for s in _keep))
show_grid(ddpm_samples[:16], nrow=8, title="DDPM samples", ax=axes[1])
plt.tight_layout()

# %% [markdown]
# ## 4. The three models, judged
#
# The judge's verdict on each model's samples, next to the real test images and to uniform
# noise. Confidence alone is easily fooled: classifiers are often confident on images unlike
# anything they were trained on — see the noise. The histogram shows which classes each model
# draws (a flat one is the goal; noise is "all one class"), and the classifier score combines
# both. In the small configuration the models have trained for seconds, so expect rough
# samples and low scores; the full configuration on a GPU is where they compete.

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3), gridspec_kw={"width_ratios": [1, 1, 2]})
labels = list(reports)
for ax, key, title in ((axes[0], "confidence", "judge's confidence"), (axes[1], "score", "classifier score (1 to 10)")):
    ax.bar(range(len(labels)), [reports[k][key] for k in labels], color=[f"C{i}" for i in range(len(labels))])
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_title(title, fontsize=9)
for i, label in enumerate(labels):
    if label != "uniform noise":
        axes[2].plot(range(10), reports[label]["histogram"], "o-", ms=3, lw=1, color=f"C{i}", label=label)
axes[2].set_xticks(range(10), CLASSES, rotation=45, ha="right", fontsize=8)
axes[2].set(ylabel="share of samples", title="classes the judge sees")
axes[2].legend(fontsize=7)
plt.tight_layout()
for label, report in reports.items():
    print(f"{label:>18}: confidence {report['confidence']:.2f}, classifier score {report['score']:.2f}")

# %% [markdown]
# ## 5. Questions
#
# **Concept check 1.** For one image, a VAE's encoder outputs $\mu = (0, 2)$ and
# $\log\sigma^2 = (\log 9, 0)$. What is its KL term
# $\mathrm{KL}(\mathcal{N}(\mu, \sigma^2) \,\|\, \mathcal{N}(0, I))$ in nats? Set `q1_answer`
# to that number (at least three significant digits).

# %% nbgrader="solution" grade_id="q1_kl"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 4.9014
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_kl" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 0.5 * (8.0 - math.log(9.0)) + 2.0, name="q1_answer", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** At some step of the forward process $\bar\alpha_t = 0.19$, so that
# $x_t = a\, x_0 + b\, \varepsilon$. What is $b$, the weight of the noise? Set `q2_answer` to
# that number.

# %% nbgrader="solution" grade_id="q2_noise_weight"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 0.9
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_noise_weight" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 0.9, name="q2_answer", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** Early in training the discriminator rejects a fake with logit
# $s = -10$ ($\sigma(s) \approx 4.5 \cdot 10^{-5}$). Which generator loss sends the larger
# gradient $|\partial L / \partial s|$ back into the generator for that fake?
#
# - (a) the saturating loss $\log(1 - \sigma(s))$
# - (b) the non-saturating loss $-\log \sigma(s)$
# - (c) both send the same gradient
# - (d) neither: at $s = -10$ both gradients are below $10^{-4}$
#
# Which is it? Set `q3_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q3_saturating"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_saturating" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (3 points).** Compare the three models on what you saw above (on a GPU, the
# full configuration; on a CPU, the small one and the text of this notebook): why are the VAE's
# samples blurrier than the GAN's, what can go wrong with the GAN that the class histogram
# would show, and what does the diffusion model pay for its samples? Answer in three to five
# sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_compare" points=3
# *Model answer.* The VAE's decoder predicts an independent probability per pixel and is
# trained by likelihood, so where several images are consistent with a code it predicts their
# average, which is blurry; the KL term also forces the codes to overlap. The GAN is never asked
# for a likelihood, only to fool the discriminator, so its samples are sharp — but nothing makes
# it cover every mode: it can collapse onto a few classes that fool $D$ (a peaked class
# histogram, a low classifier score despite high confidence), and its training can oscillate or
# diverge. The diffusion model is trained by a plain regression and covers the data well with
# sharp samples, but sampling runs the network $T$ times (100–1000 steps instead of one), so it
# is far slower to sample from.
