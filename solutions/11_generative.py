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
# # Chapter 11 — GANs and diffusion
#
# A **generative model** learns to produce new samples that look like the training data. This
# chapter builds two families that need no likelihood you can write down. A **generative
# adversarial network** (GAN) trains a generator $G$ against a discriminator $D$ that tries to
# tell real samples from generated ones. A **diffusion model** destroys data step by step with
# Gaussian noise and learns to undo one step at a time; sampling starts from pure noise and
# walks back.
#
# **What you will build** (all in numpy, batches as **(batch, features)**):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `discriminator_loss`, `generator_loss` | the GAN losses (minimax and non-saturating) from logits, with their gradients |
# | 2 | `optimal_discriminator` | what the best $D$ is for a fixed $G$ |
# | 3 | `gan_train_step` | one alternating step: $D$, then $G$ through the updated $D$ |
# | 4 | `linear_schedule`, `cosine_schedule` | the noise schedules of DDPM |
# | 5 | `q_sample` | noising $x_0$ to any step $t$ in one go |
# | 6 | `eps_loss` | the noise-prediction loss |
# | 7 | `ddpm_step`, `ddim_step` | one step back: random (DDPM) and deterministic (DDIM) |
#
# On the way: three concept checks and a written answer. The experiments train a GAN on a
# ring of eight Gaussians, where it loses modes unless its two players are balanced, and a
# small diffusion model on two moons, measured against a Gaussian fit. A **GAN scrubber**
# replays training step by step and a **diffusion slider** runs time forwards and backwards.
#
# **You need**: chapter 03 (affine layers, ReLU, the logistic loss from logits), chapter 05
# (SGD and Adam as objects with `step(grads)`).
#
# **Time**: about 4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against PyTorch's `BCEWithLogitsLoss` and autograd in float64, on extreme
# logits, batches of one, other schedules and other seeds, and whether your functions draw
# their noise from the `rng` they are given and leave their inputs unchanged. Make your code
# correct in general, not just for the visible examples, and do not rename the functions or
# change their arguments.

# %%
import matplotlib.pyplot as plt
import numpy as np

from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
    call_updating,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)


# %% [markdown]
# ## 1. The GAN game
#
# The generator maps noise $z \sim p_z$ (here a standard normal) to a sample $G(z)$; the
# discriminator gives every sample a **logit** $\ell$, and $D(x) = \sigma(\ell)$ is its
# probability that $x$ is real. Goodfellow et al. (2014) set up a two-player game with the value
#
# $$V(D, G) = \mathbb{E}_{x \sim p_{\text{data}}}\big[\ln D(x)\big] + \mathbb{E}_{z}\big[\ln\big(1 - D(G(z))\big)\big],$$
#
# which $D$ maximizes and $G$ minimizes. In practice both play with **losses** on a batch of
# real logits $r_1, \dots, r_N$ and fake logits $f_1, \dots, f_M$ (each mean over its own batch):
#
# - **discriminator**: $L_D = -\frac1N \sum_i \ln \sigma(r_i) - \frac1M \sum_j \ln\big(1 - \sigma(f_j)\big)$,
#   the logistic loss with label 1 for real and 0 for fake (that is $-V$);
# - **generator, minimax**: $L_G^{\text{mm}} = \frac1M \sum_j \ln\big(1 - \sigma(f_j)\big)$, exactly the
#   term of $V$ that depends on $G$;
# - **generator, non-saturating**: $L_G^{\text{ns}} = -\frac1M \sum_j \ln \sigma(f_j)$: instead of making
#   $D$ wrong less often, make it call the fakes real.
#
# Work with logits, never with probabilities: $-\ln \sigma(\ell) = \ln(1 + e^{-\ell}) =
# \operatorname{softplus}(-\ell)$ and $-\ln(1 - \sigma(\ell)) = \operatorname{softplus}(\ell)$, and
# `np.logaddexp(0, x)` computes $\operatorname{softplus}(x) = \ln(1 + e^x)$ without overflow. The
# derivatives are $\frac{d}{d\ell}\operatorname{softplus}(\ell) = \sigma(\ell)$ and
# $\frac{d}{d\ell}\operatorname{softplus}(-\ell) = \sigma(\ell) - 1$; compute $\sigma$ stably too
# (for example $\sigma(x) = \frac12(1 + \tanh(x/2))$).
#
# *Example*: all logits 0 ($D = \frac12$ everywhere): $L_D = 2 \ln 2$, $L_G^{\text{ns}} = \ln 2$,
# $L_G^{\text{mm}} = -\ln 2$.

# %% nbgrader="solution" grade_id="gan_losses" export=true
def discriminator_loss(real_logits, fake_logits):
    """The discriminator's logistic loss and its gradients with respect to the logits.

    Args:
        real_logits: float array (N,), D's logits on real samples (label 1).
        fake_logits: float array (M,), D's logits on generated samples (label 0).

    Returns:
        loss: a Python float, mean_i softplus(-real_i) + mean_j softplus(fake_j).
        d_real: array (N,), d loss / d real_logits.
        d_fake: array (M,), d loss / d fake_logits.
        Finite for any finite logits (e.g. +-1000); the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    loss = float(np.logaddexp(0.0, -real_logits).mean() + np.logaddexp(0.0, fake_logits).mean())
    d_real = (0.5 * (1.0 + np.tanh(0.5 * real_logits)) - 1.0) / real_logits.size
    d_fake = 0.5 * (1.0 + np.tanh(0.5 * fake_logits)) / fake_logits.size
    return loss, d_real, d_fake
    ### END SOLUTION


def generator_loss(fake_logits, kind="non_saturating"):
    """The generator's loss and its gradient with respect to D's logits on the fakes.

    Args:
        fake_logits: float array (M,), D's logits on generated samples.
        kind: "non_saturating" (mean of -ln sigma(f) = softplus(-f)) or "minimax"
            (mean of ln(1 - sigma(f)) = -softplus(f)).

    Returns:
        loss: a Python float; d_fake: array (M,), d loss / d fake_logits.
        Finite for any finite logits; the argument stays unchanged.
    """
    ### BEGIN SOLUTION
    m = fake_logits.size
    sig = 0.5 * (1.0 + np.tanh(0.5 * fake_logits))
    if kind == "minimax":
        return float(-np.logaddexp(0.0, fake_logits).mean()), -sig / m
    return float(np.logaddexp(0.0, -fake_logits).mean()), (sig - 1.0) / m
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gan_losses" points=4
_loss, _dr, _df = unpack(call(discriminator_loss, np.zeros(2), np.zeros(3)), 3, "discriminator_loss")
assert_scalar(_loss, name="discriminator_loss(zeros(2), zeros(3))")
assert_close(_loss, 2 * np.log(2), rtol=1e-12, name="discriminator_loss(zeros(2), zeros(3)) = 2 ln 2")
assert_close(_dr, [-0.25, -0.25], rtol=1e-12, name="discriminator_loss(zeros(2), zeros(3)): d_real = (1/2 - 1) / 2")
assert_close(_df, [1 / 6] * 3, rtol=1e-12, name="discriminator_loss(zeros(2), zeros(3)): d_fake = (1/2) / 3")
_loss, _df = unpack(call(generator_loss, np.zeros(4)), 2, "generator_loss")
assert_close(_loss, np.log(2), rtol=1e-12, name="generator_loss(zeros(4)) (non-saturating) = ln 2")
assert_close(_df, [-0.125] * 4, rtol=1e-12, name="generator_loss(zeros(4)) (non-saturating): d_fake")
_loss, _df = unpack(call(generator_loss, np.zeros(4), kind="minimax"), 2, "generator_loss")
assert_close(_loss, -np.log(2), rtol=1e-12, name="generator_loss(zeros(4), kind='minimax') = -ln 2")
assert_close(_df, [-0.125] * 4, rtol=1e-12, name="generator_loss(zeros(4), kind='minimax'): d_fake")
# D sure that a fake is fake (logit -10): the minimax gradient almost vanishes, the other does not
_, _df_ns = call(generator_loss, np.array([-10.0]))
_, _df_mm = call(generator_loss, np.array([-10.0]), kind="minimax")
assert_close(_df_ns, [-(1 - 1 / (1 + np.exp(10)))], rtol=1e-10, name="generator_loss([-10]) (non-saturating): d_fake")
assert_close(_df_mm, [-1 / (1 + np.exp(10))], rtol=1e-10, name="generator_loss([-10], kind='minimax'): d_fake")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(1101)
for _N, _M, _scale in [(1, 1, 1.0), (1, 5, 3.0), (7, 2, 0.1), (64, 32, 5.0), (3, 3, 800.0)]:
    _r, _f = _rng.normal(size=_N) * _scale, _rng.normal(size=_M) * _scale
    _tr, _tf = _torch.tensor(_r, requires_grad=True), _torch.tensor(_f, requires_grad=True)
    _tl = (_F.binary_cross_entropy_with_logits(_tr, _torch.ones(_N, dtype=_torch.float64))
           + _F.binary_cross_entropy_with_logits(_tf, _torch.zeros(_M, dtype=_torch.float64)))
    _tl.backward()
    _label = f"discriminator_loss(real ({_N},), fake ({_M},), logits of scale {_scale})"
    _loss, _dr, _df = unpack(call(discriminator_loss, _r, _f), 3, "discriminator_loss")
    assert_close(_loss, _tl.item(), rtol=1e-10, atol=1e-12, name=f"{_label}: loss against BCEWithLogits")
    assert_close(_dr, _tr.grad.numpy(), rtol=1e-9, atol=1e-14, name=f"{_label}: d_real against torch")
    assert_close(_df, _tf.grad.numpy(), rtol=1e-9, atol=1e-14, name=f"{_label}: d_fake against torch")
    for _kind in ("non_saturating", "minimax"):
        _tf = _torch.tensor(_f, requires_grad=True)
        if _kind == "minimax":
            _tl = -_F.binary_cross_entropy_with_logits(_tf, _torch.zeros(_M, dtype=_torch.float64))
        else:
            _tl = _F.binary_cross_entropy_with_logits(_tf, _torch.ones(_M, dtype=_torch.float64))
        _tl.backward()
        _label = f"generator_loss(fake ({_M},) of scale {_scale}, kind={_kind!r})"
        _loss, _df = unpack(call(generator_loss, _f, kind=_kind), 2, "generator_loss")
        assert_close(_loss, _tl.item(), rtol=1e-10, atol=1e-12, name=f"{_label}: loss against BCEWithLogits")
        assert_close(_df, _tf.grad.numpy(), rtol=1e-9, atol=1e-14, name=f"{_label}: d_fake against torch")
_loss, _dr, _df = call(discriminator_loss, np.array([-1000.0, 1000.0]), np.array([1000.0, -1000.0]))
assert_close(_loss, 1000.0, rtol=1e-12, name="discriminator_loss(real [-1000, 1000], fake [1000, -1000]): "
             "softplus without overflow")
_loss, _df = call(generator_loss, np.array([-1000.0, 0.0]), kind="minimax")
assert_close(_loss, -np.log(2) / 2, rtol=1e-12, name="generator_loss([-1000, 0], kind='minimax') (no overflow)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** Early in training the fakes are poor and $D$ rejects them with
# confidence: every fake logit is very negative. What happens to the generator's gradient
# $\partial L_G / \partial f$?
#
# - `"a"`: it vanishes for both losses, since $D$ has won;
# - `"b"`: it vanishes for the minimax loss ($\approx -\sigma(f) \to 0$) but stays near $-1/M$ for the non-saturating one;
# - `"c"`: it vanishes for the non-saturating loss but not for the minimax one;
# - `"d"`: both losses give the same gradient; they differ only in value.
#
# Set `q1_answer` to the letter of the right answer.

# %% nbgrader="solution" grade_id="q1_saturation"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_saturation" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_choice(q1_answer, ["a", "b", "c", "d"], name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, "b", name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The optimal discriminator
#
# Fix $G$, so that its samples have a density $p_g$. For every point $x$ the value $V$ gets
# $p_{\text{data}}(x) \ln D(x) + p_g(x) \ln(1 - D(x))$, and $a \ln y + b \ln(1 - y)$ is largest at
# $y = a / (a + b)$. So the best discriminator is
#
# $$D^*(x) = \frac{p_{\text{data}}(x)}{p_{\text{data}}(x) + p_g(x)},$$
#
# and its logit is $\ln p_{\text{data}}(x) - \ln p_g(x)$: a trained discriminator estimates a density
# ratio. Where neither density puts any mass ($0/0$) any value is optimal; return $\frac12$ there.
# Densities can be tiny (far in the tails): do not add a small constant to the denominator.

# %% nbgrader="solution" grade_id="optimal_discriminator" export=true
def optimal_discriminator(p_data, p_g):
    """The optimal discriminator D*(x) = p_data(x) / (p_data(x) + p_g(x)).

    Args:
        p_data, p_g: float arrays of one shape, the two densities (>= 0) at the same points.

    Returns:
        float64 array of that shape in [0, 1]; 0.5 where both densities are 0.
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    total = p_data + p_g
    return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_optimal_discriminator" points=2
_d = call(optimal_discriminator, np.array([1.0, 0.0, 3.0, 0.2]), np.array([1.0, 2.0, 1.0, 0.0]))
assert_close(_d, [0.5, 0.0, 0.75, 1.0], rtol=1e-12, name="optimal_discriminator([1, 0, 3, 0.2], [1, 2, 1, 0])")
_d = call(optimal_discriminator, np.array([0.0]), np.array([0.0]))
assert_close(_d, [0.5], name="optimal_discriminator([0], [0]) (no mass at all: 1/2)")
### BEGIN HIDDEN TESTS
from scipy.stats import norm as _norm

_x = np.linspace(-12, 12, 241).reshape(1, -1)
for _mu, _s in [(0.0, 1.0), (2.0, 0.5), (-1.0, 3.0)]:
    _pd, _pg = _norm.pdf(_x, 0.0, 1.0), _norm.pdf(_x, _mu, _s)
    _ref = 1.0 / (1.0 + np.exp(_norm.logpdf(_x, _mu, _s) - _norm.logpdf(_x, 0.0, 1.0)))
    _d = call(optimal_discriminator, _pd, _pg)
    assert_shape(_d, _x.shape, name=f"optimal_discriminator(N(0, 1), N({_mu}, {_s}) on a grid (1, 241))")
    assert_close(_d, _ref, rtol=1e-9, atol=1e-12, name=f"optimal_discriminator(p_data = N(0, 1), p_g = N({_mu}, "
                 f"{_s}²) on [-12, 12]): the tails, where both densities are tiny, included")
_d = call(optimal_discriminator, np.array([[1e-300, 0.0], [0.0, 5e-310]]), np.array([[3e-300, 0.0], [1.0, 5e-310]]))
assert_close(_d, [[0.25, 0.5], [0.0, 0.5]], rtol=1e-9, name="optimal_discriminator(densities of 1e-300)")
assert_that(np.asarray(_d).dtype == np.float64, f"optimal_discriminator must return float64, got {np.asarray(_d).dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** Put $D^*$ into $V$: $V(D^*, G) = -\ln 4 + 2\,\mathrm{JS}(p_{\text{data}} \,\|\, p_g)$,
# with the Jensen–Shannon divergence $\mathrm{JS} \ge 0$, zero only when the two densities agree.
# What is $V(D^*, G)$ when the generator is perfect, $p_g = p_{\text{data}}$? Set `q2_answer` to that
# number (a float, natural logarithms; three significant digits are enough).

# %% nbgrader="solution" grade_id="q2_value"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = -np.log(4.0)
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_value" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, -np.log(4.0), name="q2_answer", rtol=5e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. One training step
#
# Both players are small MLPs, built from chapter 03's layers: `init_mlp`, `mlp_forward` and
# `mlp_backward` below (given) stack affine layers with ReLUs between them; the last layer is
# linear. A parameter dict `{"W0", "b0", "W1", ...}` holds the weights in chapter 03's layout
# (`x @ W + b`). The discriminator ends in one unit, its logit, so its output has shape $(N, 1)$.
#
# One **alternating step** on a real batch `x_real` and noise `z`:
#
# 1. **Discriminator**: make the fakes $G(z)$, compute $D$'s logits on the real and on the fake
#    batch, `discriminator_loss`, backward through $D$ for both batches (add the two
#    gradients of each parameter), and update $D$. The fakes are held fixed here: $G$ is not
#    changed by this step.
# 2. **Generator**: with the **updated** $D$, compute the logits of the same fakes again,
#    `generator_loss` of the requested `kind`, and backward through $D$ **and then through
#    $G$** (the gradient with respect to $D$'s input is the gradient with respect to $G$'s
#    output). Update only $G$: $D$'s parameters get gradients too, but they are thrown away.
#
# The updates are done by optimizers with a `step(grads)` method that changes the parameter
# arrays in place (chapter 05's `SGD`, `Adam`): `optimizers=(opt_d, opt_g)` when given, otherwise
# two plain `SGD(..., lr)`.

# %%
from dllib.ch03_mlp import affine_backward, affine_forward, relu_backward, relu_forward
from dllib.ch05_optimization import SGD, Adam


def init_mlp(sizes, rng):
    """Parameters {"W0": (sizes[0], sizes[1]), "b0": (sizes[1],), ...} with Kaiming-normal weights."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
    return params


def mlp_forward(params, x):
    """An MLP: affine, relu, affine, ..., affine (no relu after the last). Output and caches."""
    n_layers = len(params) // 2
    caches = []
    for i in range(n_layers):
        x, cache = affine_forward(x, params[f"W{i}"], params[f"b{i}"])
        caches.append(cache)
        if i < n_layers - 1:
            x, cache = relu_forward(x)
            caches.append(cache)
    return x, caches


def mlp_backward(dout, caches):
    """Backward pass of mlp_forward: the gradient of its input and a dict of parameter gradients."""
    n_layers = (len(caches) + 1) // 2
    grads = {}
    for i in reversed(range(n_layers)):
        dout, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dout, caches[2 * i])
        if i > 0:
            dout = relu_backward(dout, caches[2 * i - 1])
    return dout, grads


# %% nbgrader="solution" grade_id="gan_train_step"
def gan_train_step(g_params, d_params, x_real, z, kind="non_saturating", lr=0.05, optimizers=None):
    """One alternating GAN step: update D on real and fake, then G through the updated D.

    Args:
        g_params: the generator's MLP parameters (mlp_forward), z (M, Z) -> samples (M, X).
        d_params: the discriminator's MLP parameters, samples (N, X) -> logits (N, 1).
        x_real: float array (N, X), a real batch; z: float array (M, Z), the generator's noise.
        kind: the generator loss, "non_saturating" or "minimax".
        lr: the learning rate of the default SGD optimizers.
        optimizers: None or a pair (opt_d, opt_g) of objects with step(grads) that update
            d_params and g_params in place (e.g. chapter 05's Adam over these dicts).

    Returns:
        (d_loss, g_loss): Python floats, D's loss before its update and G's loss through the
        updated D. d_params and g_params are updated in place; x_real and z stay unchanged.
    """
    ### BEGIN SOLUTION
    opt_d, opt_g = optimizers if optimizers is not None else (SGD(d_params, lr), SGD(g_params, lr))
    fake, g_caches = mlp_forward(g_params, z)
    real_logits, real_caches = mlp_forward(d_params, x_real)
    fake_logits, fake_caches = mlp_forward(d_params, fake)
    d_loss, d_real, d_fake = discriminator_loss(real_logits[:, 0], fake_logits[:, 0])
    _, grads_real = mlp_backward(d_real[:, None], real_caches)
    _, grads_fake = mlp_backward(d_fake[:, None], fake_caches)
    opt_d.step({k: grads_real[k] + grads_fake[k] for k in grads_real})
    fake_logits, fake_caches = mlp_forward(d_params, fake)      # through the updated D
    g_loss, g_fake = generator_loss(fake_logits[:, 0], kind)
    dfake, _ = mlp_backward(g_fake[:, None], fake_caches)
    _, g_grads = mlp_backward(dfake, g_caches)
    opt_g.step(g_grads)
    return d_loss, g_loss
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gan_train_step" points=5
def _reference_gan_step(g_params, d_params, x_real, z, kind, lr):
    """The step in PyTorch with autograd and SGD, on copies: (d_loss, g_loss, new g, new d)."""
    import torch
    import torch.nn.functional as F

    def mlp(params, x):
        n = len(params) // 2
        for i in range(n):
            x = x @ params[f"W{i}"] + params[f"b{i}"]
            x = torch.relu(x) if i < n - 1 else x
        return x

    g = {k: torch.tensor(v, requires_grad=True) for k, v in g_params.items()}
    d = {k: torch.tensor(v, requires_grad=True) for k, v in d_params.items()}
    real, noise = torch.tensor(x_real), torch.tensor(z)
    fake = mlp(g, noise)
    r, f = mlp(d, real)[:, 0], mlp(d, fake.detach())[:, 0]
    d_loss = F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) + F.binary_cross_entropy_with_logits(
        f, torch.zeros_like(f))
    with torch.no_grad():
        for p, grad in zip(d.values(), torch.autograd.grad(d_loss, list(d.values())), strict=True):
            p -= lr * grad
    f = mlp(d, fake)[:, 0]
    g_loss = (-F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)) if kind == "minimax"
              else F.binary_cross_entropy_with_logits(f, torch.ones_like(f)))
    with torch.no_grad():
        for p, grad in zip(g.values(), torch.autograd.grad(g_loss, list(g.values())), strict=True):
            p -= lr * grad
    return (d_loss.item(), g_loss.item(), {k: v.detach().numpy() for k, v in g.items()},
            {k: v.detach().numpy() for k, v in d.items()})


def _check_gan_step(seed, N, M, Z, X, H, kind, lr):
    rng = np.random.default_rng(seed)
    g, d = init_mlp([Z, H, X], rng), init_mlp([X, H, H, 1], rng)
    x_real, z = rng.normal(size=(N, X)) + 1.0, rng.normal(size=(M, Z))
    d_ref, g_ref, g_new, d_new = _reference_gan_step(g, d, x_real, z, kind, lr)
    label = f"gan_train_step(N={N}, M={M}, Z={Z}, X={X}, kind={kind!r}, lr={lr})"
    losses = unpack(call_updating(gan_train_step, ("g_params", "d_params"), g, d, x_real, z, kind=kind, lr=lr), 2,
                    "gan_train_step")
    assert_close(losses[0], d_ref, rtol=1e-10, name=f"{label}: d_loss (before D's update)")
    for k in d_new:
        assert_close(d[k], d_new[k], rtol=1e-9, atol=1e-12, name=f"{label}: d_params[{k!r}] after the step")
    assert_close(losses[1], g_ref, rtol=1e-10, name=f"{label}: g_loss (through the updated D)")
    for k in g_new:
        assert_close(g[k], g_new[k], rtol=1e-9, atol=1e-12, name=f"{label}: g_params[{k!r}] after the step")


_check_gan_step(0, N=5, M=4, Z=2, X=3, H=6, kind="non_saturating", lr=0.5)
### BEGIN HIDDEN TESTS
for _args in [(1, 1, 1, 1, 2, 3, "non_saturating", 0.3), (2, 8, 6, 3, 2, 8, "minimax", 0.7),
              (3, 16, 16, 4, 5, 10, "minimax", 0.2), (4, 3, 9, 2, 2, 5, "non_saturating", 1.5)]:
    _check_gan_step(*_args)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Diffusion: the noise schedule
#
# A **denoising diffusion probabilistic model** (DDPM; Ho et al., 2020) fixes a forward process
# that adds a little Gaussian noise at each of $T$ steps,
#
# $$q(x_t \mid x_{t-1}) = \mathcal{N}\big(\sqrt{1 - \beta_t}\, x_{t-1},\ \beta_t I\big),$$
#
# with a **schedule** of small variances $\beta_t$. We count steps from 0, as code does: $x_0$ is
# the data and step $t = 0, \dots, T-1$ uses $\beta_t$ (so `betas[t]`) to make the next sample.
# With $\alpha_t = 1 - \beta_t$ and $\bar\alpha_t = \prod_{s \le t} \alpha_s$, the signal that
# survives $t + 1$ steps is $\sqrt{\bar\alpha_t}$, and it should be close to 0 at the end.
#
# - **Linear** (Ho et al.): $\beta_t$ evenly spaced from `beta_start` to `beta_end` (both included).
# - **Cosine** (Nichol & Dhariwal, 2021): choose $\bar\alpha$ itself, through
#   $f(u) = \cos^2\!\big(\frac{u + s}{1 + s} \cdot \frac{\pi}{2}\big)$ for $u \in [0, 1]$, with a small offset $s$:
#   $\beta_t = \min\big(1 - f(\frac{t+1}{T}) / f(\frac{t}{T}),\ \beta_{\max}\big)$. Without the clip the last
#   $\beta$ would be 1. Then $\alpha$ and $\bar\alpha$ follow from the $\beta$s as above.
#
# The linear schedule destroys most of the signal in the first half; the cosine one spreads
# the destruction more evenly (section 9 plots both).

# %% nbgrader="solution" grade_id="schedules" export=true
def linear_schedule(T, beta_start=1e-4, beta_end=0.02):
    """DDPM's linear schedule.

    Args:
        T: the number of steps (int >= 1); beta_start, beta_end: the first and the last beta.

    Returns:
        betas, alphas, alpha_bars: float64 arrays (T,): betas evenly spaced from beta_start to
        beta_end, alphas = 1 - betas, alpha_bars[t] = alphas[0] * ... * alphas[t].
    """
    ### BEGIN SOLUTION
    betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)
    alphas = 1.0 - betas
    return betas, alphas, np.cumprod(alphas)
    ### END SOLUTION


def cosine_schedule(T, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal.

    Args:
        T: the number of steps (int >= 1); s: the offset; max_beta: the largest beta allowed.

    Returns:
        betas, alphas, alpha_bars: float64 arrays (T,), betas[t] = min(1 - f((t + 1) / T) / f(t / T),
        max_beta) with f(u) = cos((u + s) / (1 + s) * pi / 2) ** 2; alphas and alpha_bars as for
        linear_schedule.
    """
    ### BEGIN SOLUTION
    f = np.cos((np.arange(T + 1) / T + s) / (1.0 + s) * np.pi / 2) ** 2
    betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)
    alphas = 1.0 - betas
    return betas, alphas, np.cumprod(alphas)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_schedules" points=3
_b, _a, _ab = unpack(call(linear_schedule, 3, 0.1, 0.3), 3, "linear_schedule")
assert_close(_b, [0.1, 0.2, 0.3], rtol=1e-12, name="linear_schedule(3, 0.1, 0.3): betas")
assert_close(_a, [0.9, 0.8, 0.7], rtol=1e-12, name="linear_schedule(3, 0.1, 0.3): alphas")
assert_close(_ab, [0.9, 0.72, 0.504], rtol=1e-12, name="linear_schedule(3, 0.1, 0.3): alpha_bars")
_b, _a, _ab = unpack(call(cosine_schedule, 2, 0.0), 3, "cosine_schedule")
assert_close(_b, [0.5, 0.999], rtol=1e-12, name="cosine_schedule(2, s=0): betas (f = 1, 1/2, 0; the last clipped)")
assert_close(_ab, [0.5, 0.5 * 0.001], rtol=1e-9, name="cosine_schedule(2, s=0): alpha_bars")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

for _T, _lo, _hi in [(1, 0.02, 0.02), (2, 1e-4, 0.02), (10, 1e-3, 0.2), (1000, 1e-4, 0.02)]:
    _tb = _torch.linspace(_lo, _hi, _T, dtype=_torch.float64)
    _ref = (_tb, 1 - _tb, _torch.cumprod(1 - _tb, dim=0))
    _got = unpack(call(linear_schedule, _T, beta_start=_lo, beta_end=_hi), 3, "linear_schedule")
    for _name, _g, _r in zip(("betas", "alphas", "alpha_bars"), _got, _ref, strict=True):
        assert_shape(_g, (_T,), name=f"linear_schedule({_T}, {_lo}, {_hi}): {_name}")
        assert_close(_g, _r.numpy(), rtol=1e-10, atol=1e-15, name=f"linear_schedule({_T}, {_lo}, {_hi}): {_name}")
for _T, _s, _mb in [(1, 0.008, 0.999), (5, 0.008, 0.999), (50, 0.0, 0.5), (1000, 0.008, 0.999), (20, 0.1, 0.9)]:
    _u = _torch.arange(_T + 1, dtype=_torch.float64) / _T
    _abar = _torch.cos((_u + _s) / (1 + _s) * _torch.pi / 2) ** 2
    _abar = _abar / _abar[0]
    _tb = _torch.clamp(1 - _abar[1:] / _abar[:-1], max=_mb)
    _ref = (_tb, 1 - _tb, _torch.cumprod(1 - _tb, dim=0))
    _got = unpack(call(cosine_schedule, _T, s=_s, max_beta=_mb), 3, "cosine_schedule")
    for _name, _g, _r in zip(("betas", "alphas", "alpha_bars"), _got, _ref, strict=True):
        assert_shape(_g, (_T,), name=f"cosine_schedule({_T}, s={_s}, max_beta={_mb}): {_name}")
        assert_close(_g, _r.numpy(), rtol=1e-9, atol=1e-15, name=f"cosine_schedule({_T}, s={_s}, max_beta={_mb}): "
                     f"{_name}")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Noising in one go
#
# Gaussians compose: $t + 1$ noising steps from $x_0$ give a Gaussian again, so any $x_t$ can be
# drawn directly, without the steps in between:
#
# $$q(x_t \mid x_0) = \mathcal{N}\big(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\big), \qquad
#   x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \varepsilon, \quad \varepsilon \sim \mathcal{N}(0, I).$$
#
# Mind the square roots: the **standard deviations** are $\sqrt{\bar\alpha_t}$ and
# $\sqrt{1 - \bar\alpha_t}$, so that the variances add up to 1 for data of unit variance. Each
# sample of a batch can be at its own step: `t` is an int or an int array with one entry per
# sample. Draw the noise with one call, `rng.standard_normal(x0.shape)`, and return it too: it is
# what the network will learn to predict.

# %% nbgrader="solution" grade_id="q_sample" export=true
def q_sample(x0, t, alpha_bars, rng):
    """Draw x_t ~ q(x_t | x_0) in closed form.

    Args:
        x0: float array (N, ...), clean samples.
        t: an int, or an int array (N,) of steps in [0, T) (one per sample).
        alpha_bars: float array (T,), the cumulative products of the schedule.
        rng: a numpy Generator; eps = rng.standard_normal(x0.shape), drawn once.

    Returns:
        x_t: float64 array of x0's shape, sqrt(alpha_bars[t]) x0 + sqrt(1 - alpha_bars[t]) eps;
        eps: the noise used. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    eps = rng.standard_normal(x0.shape)
    ab = np.asarray(alpha_bars)[t]
    ab = np.reshape(ab, np.shape(ab) + (1,) * (x0.ndim - np.ndim(ab)))
    return np.sqrt(ab) * x0 + np.sqrt(1.0 - ab) * eps, eps
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_q_sample" points=3
_ab = np.array([0.81, 0.36, 0.04])
_x0 = np.array([[1.0, -2.0], [3.0, 0.5]])
_xt, _eps = unpack(call(q_sample, _x0, 1, _ab, np.random.default_rng(0)), 2, "q_sample")
_ref_eps = np.random.default_rng(0).standard_normal((2, 2))
assert_close(_eps, _ref_eps, rtol=1e-12, name="q_sample(x0 (2, 2), t=1, ..., default_rng(0)): eps = "
             "rng.standard_normal(x0.shape)")
assert_close(_xt, 0.6 * _x0 + 0.8 * _ref_eps, rtol=1e-12, name="q_sample(x0, t=1, alpha_bars [0.81, 0.36, 0.04]): "
             "x_t = 0.6 x0 + 0.8 eps")
_xt, _eps = call(q_sample, _x0, np.array([0, 2]), _ab, np.random.default_rng(0))
assert_close(_xt, np.array([[0.9], [0.2]]) * _x0 + np.sqrt(np.array([[0.19], [0.96]])) * _ref_eps, rtol=1e-12,
             name="q_sample(x0, t=[0, 2]): each sample at its own step")
assert_seeded(lambda rng: call(q_sample, _x0, 2, _ab, rng), "q_sample(x0, 2, alpha_bars, rng)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(1105)
_abar = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))
for _shape, _t in [((1, 1), 0), ((1, 2), 999), ((5, 2), "array"), ((4, 3, 2, 2), "array"), ((200, 1), 500)]:
    _x0 = _rng.normal(size=_shape) * 2 + 1
    _tt = _rng.integers(0, 1000, size=_shape[0]) if _t == "array" else _t
    _seed = int(_rng.integers(1_000_000))
    _eps_ref = np.random.default_rng(_seed).standard_normal(_shape)
    _ta = _torch.tensor(_abar)[_torch.as_tensor(_tt)].reshape(-1, *(1,) * (len(_shape) - 1))
    _ref = (_ta.sqrt() * _torch.tensor(_x0) + (1 - _ta).sqrt() * _torch.tensor(_eps_ref)).numpy()
    _label = f"q_sample(x0 {_shape}, t={'(random per sample)' if _t == 'array' else _t}, linear schedule T=1000)"
    _xt, _eps = unpack(call(q_sample, _x0, _tt, _abar, np.random.default_rng(_seed)), 2, "q_sample")
    assert_shape(_xt, _shape, name=_label)
    assert_close(_eps, _eps_ref, rtol=1e-12, name=f"{_label}: eps")
    assert_close(_xt, _ref, rtol=1e-10, atol=1e-12, name=f"{_label}: x_t")
# the marginal: data of variance 1 keep variance 1
_x0 = _rng.normal(size=(20000, 1))
_xt, _ = call(q_sample, _x0, 300, _abar, np.random.default_rng(5))
assert_close(np.var(_xt), 1.0, rtol=0.03, name="q_sample(unit-variance data, t=300): the variance of x_t")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. What the network learns
#
# The reverse steps need, at each $x_t$, a guess of the noise $\varepsilon$ that was mixed in.
# A network $\varepsilon_\theta(x_t, t)$ is trained on a plain regression: draw $x_0$ from the
# data, a step $t$ uniformly, the noise, make $x_t$ with `q_sample`, and minimize
#
# $$L = \operatorname{mean}\big(\varepsilon_\theta(x_t, t) - \varepsilon\big)^2,$$
#
# the mean over **every entry** of the batch (as `F.mse_loss`; Ho et al.'s "simple" loss, which
# drops a weight per step that the variational bound would put there). Return the loss and its
# gradient with respect to the prediction.

# %% nbgrader="solution" grade_id="eps_loss" export=true
def eps_loss(eps_pred, eps):
    """The noise-prediction loss of DDPM.

    Args:
        eps_pred: float array (N, ...), the network's prediction; eps: array of the same shape.

    Returns:
        loss: a Python float, the mean of (eps_pred - eps) ** 2 over all entries;
        d_eps_pred: array of eps_pred's shape, d loss / d eps_pred. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    diff = eps_pred - eps
    return float(np.mean(diff**2)), 2.0 * diff / diff.size
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_eps_loss" points=2
_loss, _grad = unpack(call(eps_loss, np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])), 2,
                      "eps_loss")
assert_scalar(_loss, name="eps_loss")
assert_close(_loss, 1.5, rtol=1e-12, name="eps_loss([[1, 2], [0, 0]], [[0, 0], [0, 1]]) = (1 + 4 + 0 + 1) / 4")
assert_close(_grad, [[0.5, 1.0], [0.0, -0.5]], rtol=1e-12, name="eps_loss(...): the gradient 2 (eps_pred - eps) / 4")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(1106)
for _shape in [(1, 1), (1, 5), (7, 2), (3, 4, 5)]:
    _p, _e = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _tp = _torch.tensor(_p, requires_grad=True)
    _tl = _F.mse_loss(_tp, _torch.tensor(_e))
    _tl.backward()
    _loss, _grad = unpack(call(eps_loss, _p, _e), 2, "eps_loss")
    assert_close(_loss, _tl.item(), rtol=1e-12, name=f"eps_loss(arrays {_shape}) against F.mse_loss")
    assert_close(_grad, _tp.grad.numpy(), rtol=1e-10, atol=1e-15, name=f"eps_loss(arrays {_shape}): the gradient")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. One step back
#
# **DDPM's ancestral step.** With the true $x_0$ the reverse of one step would be the Gaussian
# $q(x_{t-1} \mid x_t, x_0)$; the network's noise gives a guess of $x_0$, and putting it in gives
#
# $$\mu_\theta = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\, \varepsilon_\theta\Big),
#   \qquad \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\, \beta_t,
#   \qquad x_{t-1} = \mu_\theta + \sqrt{\tilde\beta_t}\, z, \quad z \sim \mathcal{N}(0, I).$$
#
# $\tilde\beta_t$ is the variance of that posterior (Ho et al. also tried $\beta_t$ itself). At the
# last step, $t = 0$, there is no $\bar\alpha_{-1}$: the step returns the mean $\mu_\theta$ and draws
# **no** noise. For $t > 0$, draw $z$ with one call, `rng.standard_normal(x_t.shape)`. Sampling runs
# $x_{T-1} \sim \mathcal{N}(0, I)$ through $t = T-1, \dots, 0$ — as many network evaluations as steps.
#
# **DDIM's deterministic step** (Song et al., 2021) reuses the same network without any new
# noise. It forms the guess $\hat x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\, \varepsilon_\theta) / \sqrt{\bar\alpha_t}$ and
# puts it back at an **earlier** level $t' < t$ with the **same** noise direction:
#
# $$x_{t'} = \sqrt{\bar\alpha_{t'}}\, \hat x_0 + \sqrt{1 - \bar\alpha_{t'}}\, \varepsilon_\theta,$$
#
# where $t'$ may skip many steps, and $t' = -1$ means "clean" ($\bar\alpha_{-1} = 1$, so it returns
# $\hat x_0$). Ten or twenty such jumps can replace hundreds of DDPM steps.

# %% nbgrader="solution" grade_id="reverse_steps" export=true
def ddpm_step(x_t, t, eps_pred, betas, rng):
    """One ancestral sampling step of DDPM, x_t -> x_{t-1}.

    Args:
        x_t: float array (N, ...), the samples at step t; t: int in [0, T).
        eps_pred: array of x_t's shape, the predicted noise; betas: float array (T,), the schedule.
        rng: a numpy Generator; for t > 0, z = rng.standard_normal(x_t.shape) (one call); nothing for t = 0.

    Returns:
        float64 array of x_t's shape: mu + sqrt(posterior variance) z (just mu for t = 0).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    alphas = 1.0 - betas
    alpha_bars = np.cumprod(alphas)
    mean = (x_t - betas[t] / np.sqrt(1.0 - alpha_bars[t]) * eps_pred) / np.sqrt(alphas[t])
    if t == 0:
        return mean
    var = betas[t] * (1.0 - alpha_bars[t - 1]) / (1.0 - alpha_bars[t])
    return mean + np.sqrt(var) * rng.standard_normal(x_t.shape)
    ### END SOLUTION


def ddim_step(x_t, t, t_prev, eps_pred, alpha_bars):
    """One deterministic DDIM step, x_t -> x_{t_prev}.

    Args:
        x_t: float array (N, ...); t: int in [0, T); t_prev: int in [-1, t) (-1: the clean data).
        eps_pred: array of x_t's shape, the predicted noise; alpha_bars: float array (T,).

    Returns:
        float64 array of x_t's shape: sqrt(ab') x0_hat + sqrt(1 - ab') eps_pred with
        x0_hat = (x_t - sqrt(1 - ab_t) eps_pred) / sqrt(ab_t), ab' = alpha_bars[t_prev] (1 for t_prev = -1).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    ab = alpha_bars[t]
    ab_prev = alpha_bars[t_prev] if t_prev >= 0 else 1.0
    x0_hat = (x_t - np.sqrt(1.0 - ab) * eps_pred) / np.sqrt(ab)
    return np.sqrt(ab_prev) * x0_hat + np.sqrt(1.0 - ab_prev) * eps_pred
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_reverse_steps" points=5
_betas = np.array([0.1, 0.2, 0.5])                    # alpha_bars 0.9, 0.72, 0.36
_x, _e = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
_out = call(ddpm_step, _x, 0, _e, _betas, np.random.default_rng(0))
assert_close(_out, (_x - 0.1 / np.sqrt(0.1) * _e) / np.sqrt(0.9), rtol=1e-12,
             name="ddpm_step(x, t=0, eps, betas [0.1, 0.2, 0.5]): the mean, no noise at t = 0")
_out = call(ddpm_step, _x, 2, _e, _betas, np.random.default_rng(0))
_z = np.random.default_rng(0).standard_normal((1, 2))
assert_close(_out, (_x - 0.5 / np.sqrt(0.64) * _e) / np.sqrt(0.5) + np.sqrt(0.5 * 0.28 / 0.64) * _z, rtol=1e-12,
             name="ddpm_step(x, t=2, eps, betas [0.1, 0.2, 0.5], default_rng(0)): mean + sqrt(0.5 * 0.28 / 0.64) z")
assert_seeded(lambda rng: call(ddpm_step, _x, 1, _e, _betas, rng), "ddpm_step(x, t=1, ...)")
_ab = np.cumprod(1 - _betas)
_out = call(ddim_step, _x, 2, 0, _e, _ab)
_x0 = (_x - 0.8 * _e) / 0.6
assert_close(_out, np.sqrt(0.9) * _x0 + np.sqrt(0.1) * _e, rtol=1e-12, name="ddim_step(x, t=2, t_prev=0, eps, "
             "alpha_bars [0.9, 0.72, 0.36])")
assert_close(call(ddim_step, _x, 1, -1, _e, _ab), (_x - np.sqrt(0.28) * _e) / np.sqrt(0.72), rtol=1e-12,
             name="ddim_step(x, t=1, t_prev=-1, ...): the clean guess x0_hat")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(1107)
for _T, _sched, _shape, _t in [(10, "linear", (1, 1), 9), (10, "linear", (4, 2), 1), (50, "cosine", (3, 2), 49),
                               (50, "cosine", (6, 2, 2), 17), (1000, "linear", (5, 3), 500)]:
    if _sched == "linear":
        _b = np.linspace(1e-3, 0.2, _T)
    else:
        _f = np.cos((np.arange(_T + 1) / _T + 0.008) / 1.008 * np.pi / 2) ** 2
        _b = np.minimum(1 - _f[1:] / _f[:-1], 0.999)
    _abar = np.cumprod(1 - _b)
    _x, _e = _rng.normal(size=_shape), _rng.normal(size=_shape)
    _seed = int(_rng.integers(1_000_000))
    _tb = _torch.tensor(_b)
    _tab = _torch.cumprod(1 - _tb, 0)
    _tx, _te = _torch.tensor(_x), _torch.tensor(_e)
    _mu = (_tx - _tb[_t] / (1 - _tab[_t]).sqrt() * _te) / (1 - _tb[_t]).sqrt()
    _var = _tb[_t] * (1 - _tab[_t - 1]) / (1 - _tab[_t])
    _ref = (_mu + _var.sqrt() * _torch.tensor(np.random.default_rng(_seed).standard_normal(_shape))).numpy()
    _label = f"ddpm_step(x {_shape}, t={_t}, {_sched} schedule T={_T})"
    _out = call(ddpm_step, _x, _t, _e, _b, np.random.default_rng(_seed))
    assert_shape(_out, _shape, name=_label)
    assert_close(_out, _ref, rtol=1e-9, atol=1e-12, name=_label)
    _out = call(ddpm_step, _x, 0, _e, _b, np.random.default_rng(_seed))
    _ref0 = ((_tx - _tb[0] / (1 - _tab[0]).sqrt() * _te) / (1 - _tb[0]).sqrt()).numpy()
    assert_close(_out, _ref0, rtol=1e-9, atol=1e-12, name=f"ddpm_step(x {_shape}, t=0, {_sched} schedule T={_T})")
    for _tp in (-1, 0, _t // 2, _t - 1):
        if _tp >= _t:
            continue
        _x0h = (_tx - (1 - _tab[_t]).sqrt() * _te) / _tab[_t].sqrt()
        _abp = _tab[_tp] if _tp >= 0 else _torch.tensor(1.0, dtype=_torch.float64)
        _ref = (_abp.sqrt() * _x0h + (1 - _abp).sqrt() * _te).numpy()
        _out = call(ddim_step, _x, _t, _tp, _e, _abar)
        assert_close(_out, _ref, rtol=1e-9, atol=1e-11, name=f"ddim_step(x {_shape}, t={_t}, t_prev={_tp}, {_sched} "
                     f"schedule T={_T})")
# with the exact noise, DDIM from any level recovers x0 exactly
_x0 = _rng.normal(size=(4, 2))
_eps = _rng.normal(size=(4, 2))
_xt = np.sqrt(_abar[30]) * _x0 + np.sqrt(1 - _abar[30]) * _eps
assert_close(call(ddim_step, _xt, 30, -1, _eps, _abar), _x0, rtol=1e-9, atol=1e-10,
             name="ddim_step(q_sample(x0, 30), 30, -1, the true noise) = x0")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** DDPM's original schedule: `linear_schedule(1000)` ($\beta$ from $10^{-4}$ to
# $0.02$). How much of the signal survives all $T = 1000$ steps, that is, what is
# $\sqrt{\bar\alpha_{999}}$? Compute it with your function and set `q3_answer` to the number
# (three significant digits are enough).

# %% nbgrader="solution" grade_id="q3_signal"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = float(np.sqrt(linear_schedule(1000)[2][-1]))
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_signal" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, float(np.sqrt(np.prod(1 - np.linspace(1e-4, 0.02, 1000)))), name="q3_answer", rtol=5e-3)
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** A GAN's generator can reach a low loss while producing only a
# few kinds of samples (**mode collapse**); a diffusion model trained on the same data rarely
# does. Explain, from what each one's loss asks of the model, why the GAN's generator is not
# punished for dropping a mode, and why the diffusion model's noise-prediction loss is. Say
# what the diffusion model pays for this at sampling time. Answer in three to five sentences.

# %% [markdown] nbgrader="answer" grade_id="written_collapse" points=2
# *Model answer.* The generator is scored only on the samples it makes, by whether the current
# discriminator accepts them: putting all of them on one mode that $D$ accepts costs nothing,
# because no term of its loss looks at the data that it fails to cover; only a discriminator
# that learns to reject that mode pushes it elsewhere, and the two players can chase each other
# from mode to mode. The diffusion model is trained on noised **data** points: every real sample,
# from every mode, appears in the regression loss, so a network that ignores a mode makes large
# errors on it, and the loss (a bound on the likelihood, up to weights) rewards covering all
# the data. The price is sampling: one network evaluation per step, tens to a thousand steps,
# where a GAN needs a single forward pass (DDIM's larger jumps cut the steps but not to one).

# %% [markdown]
# ## 8. A GAN on a ring of eight Gaussians
#
# The data: eight narrow Gaussians (standard deviation 0.05) on a circle of radius 2, the
# standard test of whether a GAN finds every mode. The generator maps 2-D noise through two
# hidden layers of 64 ReLUs to a point; the discriminator is the same shape with one output.
# Both train with your `gan_train_step`, chapter 05's Adam ($\beta_1 = 0.5$, as is usual for
# GANs), batches of 128, the non-saturating loss.
#
# Two measures on 2,000 samples from fixed noise: the share of **good** samples (within 3
# standard deviations of some mode; 99 % of real points are) and the number of **modes
# covered** (a mode counts when at least 1 % of the samples are good samples of it). We compare
# two learning-rate balances, each with three seeds:
#
# - **fast generator**: $G$ learns ten times faster than $D$ ($10^{-3}$ against $10^{-4}$);
# - **balanced**: both learn at $10^{-3}$.

# %%
import time

from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several

RING_MODES, RING_RADIUS, RING_STD = 8, 2.0, 0.05
ring_centers = RING_RADIUS * np.stack([np.cos(2 * np.pi * np.arange(RING_MODES) / RING_MODES),
                                       np.sin(2 * np.pi * np.arange(RING_MODES) / RING_MODES)], axis=1)
GAN_Z, GAN_HIDDEN, GAN_BATCH, GAN_STEPS, GAN_EVERY = 2, 64, 128, 3000, 100
GAN_RUNS = {"fast generator": (1e-4, 1e-3), "balanced": (1e-3, 1e-3)}   # name -> (lr of D, lr of G)
GAN_SEEDS = (0, 1, 2)
grid_ticks = np.linspace(-3.0, 3.0, 61)
grid_points = np.stack(np.meshgrid(grid_ticks, grid_ticks), axis=-1).reshape(-1, 2)


def ring_batch(n, rng):
    """n points of the ring: a random mode each, plus Gaussian noise."""
    return ring_centers[rng.integers(0, RING_MODES, n)] + RING_STD * rng.standard_normal((n, 2))


def mode_coverage(x, min_share=0.01):
    """(modes covered, share of good samples): good = within 3 std of a mode."""
    dist = np.linalg.norm(x[:, None, :] - ring_centers[None], axis=2)
    good = dist.min(axis=1) < 3 * RING_STD
    counts = np.bincount(dist.argmin(axis=1)[good], minlength=RING_MODES)
    return int(np.sum(counts >= min_share * len(x))), float(good.mean())


def train_gan(lr_d, lr_g, seed, steps=GAN_STEPS, snapshots=False):
    """Train on the ring; the coverage every GAN_EVERY steps, and optionally samples and D's surface."""
    rng = np.random.default_rng(seed)
    g_params = init_mlp([GAN_Z, GAN_HIDDEN, GAN_HIDDEN, 2], rng)
    d_params = init_mlp([2, GAN_HIDDEN, GAN_HIDDEN, 1], rng)
    optimizers = (Adam(d_params, lr=lr_d, betas=(0.5, 0.999)), Adam(g_params, lr=lr_g, betas=(0.5, 0.999)))
    z_fixed = np.random.default_rng(1000 + seed).standard_normal((2000, GAN_Z))
    history = {"step": [], "modes": [], "good": [], "samples": [], "surface": []}
    for step in range(steps + 1):
        if step % GAN_EVERY == 0:
            samples = mlp_forward(g_params, z_fixed)[0]
            modes, good = mode_coverage(samples)
            history["step"].append(step)
            history["modes"].append(modes)
            history["good"].append(good)
            if snapshots:
                logits = mlp_forward(d_params, grid_points)[0][:, 0]
                history["samples"].append(samples[:500])
                history["surface"].append((0.5 * (1 + np.tanh(0.5 * logits))).reshape(len(grid_ticks), -1))
        if step < steps:
            gan_train_step(g_params, d_params, ring_batch(GAN_BATCH, rng), rng.standard_normal((GAN_BATCH, GAN_Z)),
                           optimizers=optimizers)
    return g_params, d_params, history


start = time.perf_counter()
gan_histories = {name: [train_gan(lr_d, lr_g, seed, snapshots=seed == 0)[2]
                        for seed in tqdm(GAN_SEEDS, desc=name, unit="run")]
                 for name, (lr_d, lr_g) in GAN_RUNS.items()}
gan_seconds = time.perf_counter() - start
for name, runs in gan_histories.items():
    print(f"{name:>14s}: modes covered after {GAN_STEPS} steps {[h['modes'][-1] for h in runs]} of {RING_MODES}, "
          "good samples " + ", ".join(f"{h['good'][-1]:.0%}" for h in runs) + f" (seeds {GAN_SEEDS})")
print(f"{len(GAN_RUNS) * len(GAN_SEEDS)} runs of {GAN_STEPS} steps in {gan_seconds:.0f} s")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for name, runs in gan_histories.items():
    axes[0].plot(runs[0]["step"], np.mean([h["modes"] for h in runs], axis=0), label=name)
    axes[1].plot(runs[0]["step"], np.mean([h["good"] for h in runs], axis=0), label=name)
axes[0].set(xlabel="step", ylabel="modes covered (mean of 3 seeds)", ylim=(0, RING_MODES + 0.5))
axes[1].set(xlabel="step", ylabel="share of good samples", ylim=(0, 1))
axes[0].legend()
for name, color in zip(GAN_RUNS, ("C0", "C1"), strict=True):
    final = gan_histories[name][0]["samples"][-1]
    axes[2].scatter(final[:, 0], final[:, 1], s=3, alpha=0.5, color=color, label=name)
axes[2].scatter(ring_centers[:, 0], ring_centers[:, 1], marker="x", color="k", label="modes")
axes[2].set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title="samples after training (seed 0)")
axes[2].legend(fontsize=7, loc="center")
plt.show()

# %% [markdown]
# With the fast generator, training never settles: $G$ moves its samples faster than $D$ can
# follow, so they rush to wherever the current $D$ is fooled: smeared along a few long streaks
# that pass through some modes and keep swinging around. Here that run covers two to four
# modes, and only about 6 % of its samples are near any mode. With the two players balanced, $D$ keeps up: a mode that $G$ leaves out
# is one where $D$ sees only real data and learns to say "real" with confidence, and that pulls
# generator samples back there. The balanced runs end with all or nearly all eight modes
# and most samples on them (all eight in each of the three runs here). This balance is a cheap remedy; stronger ones change the game itself:
# minibatch features that let $D$ see a batch's spread, unrolled discriminators, or a
# different model altogether, like the diffusion model below.
#
# **GAN scrubber.** Replay the first seed of either run: the generator's samples (dots) over the
# discriminator's probability of "real" (colour), every 100 steps. Watch how the samples
# chase the regions that $D$ calls real, and how $D$ answers.

# %%
from IPython.display import display

from helpers.explorers.generative import diffusion_explorer, gan_scrubber

gan_view = gan_scrubber({name: runs[0] for name, runs in gan_histories.items()}, ring_centers,
                        (grid_ticks[0], grid_ticks[-1]))
display(gan_view)

# %% [markdown]
# ## 9. A diffusion model on two moons
#
# The data: scikit-learn's two moons (noise 0.05), shifted and scaled to about unit variance
# per coordinate. The denoiser is an MLP (three hidden layers of 128 ReLUs) that reads $x_t$ and
# the step $t$, the latter as $\sin$ and $\cos$ of $\pi t / T$ at six frequencies (as the
# positional encoding of chapter 08 does for positions). $T = 100$ steps with a linear schedule
# from $10^{-4}$ to $0.1$, so that $\sqrt{\bar\alpha_{T-1}} \approx 0.08$ of the signal survives. It
# trains with your `q_sample` and `eps_loss`, Adam with a cosine decay. First, the schedules
# side by side: how much signal $\sqrt{\bar\alpha_t}$ is left after a share $t / T$ of the steps.

# %%
from sklearn.datasets import make_moons

from dllib.ch05_optimization import cosine_lr

DIFF_T, DIFF_HIDDEN, DIFF_STEPS, DIFF_BATCH, DIFF_LR = 100, 128, 4000, 256, 1e-3
diff_betas, diff_alphas, diff_alpha_bars = linear_schedule(DIFF_T, 1e-4, 0.1)
TIME_FREQS = 2.0 ** np.arange(6)


fig, ax = plt.subplots(figsize=(7, 3.2))
for label, (_, _, alpha_bar) in [("linear, T = 1000 (Ho et al.)", linear_schedule(1000)),
                                 ("cosine, T = 1000", cosine_schedule(1000)),
                                 (f"linear, T = {DIFF_T}, β up to 0.1 (used here)", (None, None, diff_alpha_bars))]:
    ax.plot((np.arange(len(alpha_bar)) + 1) / len(alpha_bar), np.sqrt(alpha_bar), label=label)
ax.set(xlabel="t / T", ylabel="signal left, √ᾱ_t", title="How fast each schedule destroys the signal")
ax.legend()
plt.show()


def moons(n, seed):
    """n points of two moons, shifted and scaled to about zero mean and unit variance."""
    x, _ = make_moons(n, noise=0.05, random_state=seed)
    return (x - np.array([0.5, 0.25])) / np.array([0.87, 0.5])


def denoiser_input(x, t):
    """The network's input: x (N, 2) and the step t (N,) as sin and cos features."""
    angles = (np.asarray(t, dtype=float) / DIFF_T)[:, None] * TIME_FREQS * np.pi
    return np.concatenate([x, np.sin(angles), np.cos(angles)], axis=1)


def predict_eps(params, x, t):
    return mlp_forward(params, denoiser_input(x, np.broadcast_to(t, len(x))))[0]


def train_denoiser(data, seed=0, steps=DIFF_STEPS):
    rng = np.random.default_rng(seed)
    params = init_mlp([2 + 2 * len(TIME_FREQS), DIFF_HIDDEN, DIFF_HIDDEN, DIFF_HIDDEN, 2], rng)
    optimizer = Adam(params, lr=DIFF_LR)
    losses = []
    for step in tqdm(range(steps), desc="denoiser", unit="step"):
        x0 = data[rng.integers(0, len(data), DIFF_BATCH)]
        t = rng.integers(0, DIFF_T, DIFF_BATCH)
        x_t, eps = q_sample(x0, t, diff_alpha_bars, rng)
        out, caches = mlp_forward(params, denoiser_input(x_t, t))
        loss, dout = eps_loss(out, eps)
        _, grads = mlp_backward(dout, caches)
        optimizer.lr = cosine_lr(step, DIFF_LR, steps)
        optimizer.step(grads)
        losses.append(loss)
    return params, losses


def sample_ddpm(params, n, rng):
    """DDPM sampling; the whole trajectory (T + 1, n, 2), from pure noise to the samples."""
    x = rng.standard_normal((n, 2))
    path = [x]
    for t in reversed(range(DIFF_T)):
        x = ddpm_step(x, t, predict_eps(params, x, t), diff_betas, rng)
        path.append(x)
    return np.stack(path)


def sample_ddim(params, n, jumps, rng):
    """DDIM sampling in `jumps` evenly spaced steps; the trajectory (jumps + 1, n, 2)."""
    x = rng.standard_normal((n, 2))
    levels = np.linspace(DIFF_T - 1, 0, jumps).round().astype(int)
    path = [x]
    for i, t in enumerate(levels):
        x = ddim_step(x, t, levels[i + 1] if i + 1 < jumps else -1, predict_eps(params, x, t), diff_alpha_bars)
        path.append(x)
    return np.stack(path)


def sliced_wasserstein(a, b, n_projections=256, seed=0):
    """Mean over random directions of the 1-D Wasserstein-1 distance of the projections (equal sizes)."""
    angles = np.random.default_rng(seed).uniform(0.0, np.pi, n_projections)
    directions = np.stack([np.cos(angles), np.sin(angles)])
    return float(np.mean(np.abs(np.sort(a @ directions, axis=0) - np.sort(b @ directions, axis=0))))


moons_train = moons(20000, seed=0)
start = time.perf_counter()
denoiser, denoiser_losses = train_denoiser(moons_train)
train_seconds = time.perf_counter() - start
start = time.perf_counter()
ddpm_path = sample_ddpm(denoiser, 2000, np.random.default_rng(1))
ddim_paths = {jumps: sample_ddim(denoiser, 2000, jumps, np.random.default_rng(1)) for jumps in (10, 20, 50)}
sample_seconds = time.perf_counter() - start

moons_test = moons(2000, seed=1)
gaussian_fit = np.random.default_rng(2).multivariate_normal(moons_train.mean(0), np.cov(moons_train.T), 2000)
distances = {"another draw of the data (the floor)": sliced_wasserstein(moons(2000, seed=3), moons_test),
             f"DDPM, {DIFF_T} steps": sliced_wasserstein(ddpm_path[-1], moons_test),
             **{f"DDIM, {j} steps": sliced_wasserstein(p[-1], moons_test) for j, p in ddim_paths.items()},
             "Gaussian fit (same mean and covariance)": sliced_wasserstein(gaussian_fit, moons_test)}
print(f"denoiser: loss {np.mean(denoiser_losses[:100]):.3f} -> {np.mean(denoiser_losses[-200:]):.3f} in "
      f"{DIFF_STEPS} steps ({train_seconds:.0f} s); sampling {sample_seconds:.1f} s")
print("sliced Wasserstein distance to 2,000 test points:")
for name, value in distances.items():
    print(f"  {name:>42s}: {value:.3f}")

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), sharex=True, sharey=True)
for ax, (title, points) in zip(axes, [("data", moons_test), (f"DDPM ({DIFF_T} steps)", ddpm_path[-1]),
                                       ("DDIM (20 steps)", ddim_paths[20][-1]), ("Gaussian fit", gaussian_fit)],
                               strict=True):
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
    ax.set(title=title, xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
plt.show()

# %% [markdown]
# The **sliced Wasserstein distance** projects both point clouds on many random directions,
# and averages over them how far each sorted 1-D projection must move to match the other one
# (in the data's units). Two draws of the data are not at 0: with 2,000 points each that is the
# floor. The Gaussian fit has the right mean and covariance and still sits far away; DDPM
# samples close most of that gap, and the moons are plainly visible. DDIM's 20 deterministic
# jumps get about as close as DDPM's 100 steps with a fifth of the network evaluations; with 10
# jumps the moons start to blur.
#
# **Diffusion slider.** Left: the forward process, `q_sample` of the test data at step $t$ (your
# function, with a fixed seed). Right: where the reverse trajectories are at the same step,
# for DDPM or DDIM, with the paths of a few points. Slide $t$ from $T - 1$ down to $-1$ (clean) to see the
# noise take the shape of the moons, and back up to see the forward process destroy it.

# %%
diffusion_view = diffusion_explorer(
    q_sample, moons_test[:1000], diff_alpha_bars,
    {"DDPM": (ddpm_path[:, :1000], np.arange(DIFF_T, -1, -1) - 1),
     "DDIM, 20 steps": (ddim_paths[20][:, :1000],
                        np.concatenate([np.linspace(DIFF_T - 1, 0, 20).round().astype(int), [-1]]))})
display(diffusion_view)
