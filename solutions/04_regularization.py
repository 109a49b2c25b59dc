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
# # Chapter 04 — Regularization
#
# A network with enough parameters can memorise any small training set — and then fails on
# new data. **Regularization** is everything we do to make a flexible model generalise:
# penalise large weights, stop training at the right moment, train with noise (dropout),
# average several models (bagging), show the network more variety than the data set contains
# (augmentation), and stop it from trusting its labels blindly (label smoothing). In this
# chapter you implement each of these and then use them to cure a network that badly overfits
# 100 handwritten digits. At the end, an experiment shows that "more parameters, more
# overfitting" is not the whole story (double descent).
#
# **What you will build** (all in numpy):
#
# | # | piece | idea |
# |---|---|---|
# | 1 | `l2_penalty`, `l1_penalty` | parameter penalties and their gradients |
# | 2 | `weight_decay_step` | shrink the weights at every step — and why that is L2 |
# | 3 | `EarlyStopping` | patience, and restoring the best weights |
# | 4 | `dropout_forward`, `dropout_backward` | inverted dropout with train and eval modes |
# | 5 | `bagging_predict` | bootstrap samples and model averaging |
# | 6 | `random_flip`, `random_crop`, `affine_warp`, `add_gaussian_noise`, `cutout`, `brightness_contrast` | data augmentation: geometry, noise, colour (and local filters, given) |
# | 7 | `label_smoothing_cross_entropy` | soft targets instead of one-hot labels |
#
# On the way: the overfitting experiment and its cure, the **regularization explorer**, the
# **double-descent** experiment with random features, eight concept checks and two written
# answers.
#
# **You need**: chapter 01 (overfitting, ridge regression, bias and variance) and chapter 03
# (the MLP layers, which this chapter imports from the course library `dllib.ch03_mlp`).
#
# **Time**: about 4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong. The
# grader runs more (hidden) checks on other inputs, so make your code correct in general, not
# just for the visible examples. Do not rename the functions, classes or their arguments.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from sklearn.datasets import load_digits, make_moons
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

import dllib.ch03_mlp as ch03
from dllib.ch03_mlp import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy_loss,
)
from helpers.explorers.regularization import regularization_explorer
from helpers.gradcheck import assert_gradient_close
from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_equal_int,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
    call_updating,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)
threadpool_limits(1)  # our matrices are small: one BLAS thread is faster than several

# %% [markdown]
# ## 0. The problem: 100 digits are not enough
#
# We use scikit-learn's bundled $8 \times 8$ digits, kept as images of shape
# `(batch, channels, height, width) = (N, 1, 8, 8)` with pixel values in $[0, 1]$. We train on
# only **100 images** (ten per class), keep 300 for validation (to choose hyperparameters and
# when to stop) and the remaining 1397 as the test set.
#
# Real labels are rarely perfect, and a flexible model will happily memorise the mistakes. To
# make that visible, **25 of the 100 training labels are replaced by a wrong class** (chosen at
# random, seed fixed). The validation and test labels stay correct: they measure what we
# actually care about.

# %%
digits = load_digits()
images = (digits.images / 16.0)[:, None, :, :]  # (1797, 1, 8, 8)
labels = digits.target
data_rng = np.random.default_rng(0)
order = data_rng.permutation(len(labels))
train_idx = np.concatenate([order[labels[order] == c][:10] for c in range(10)])
rest = np.setdiff1d(order, train_idx)
rest = rest[data_rng.permutation(len(rest))]
X_train, y_train = images[train_idx], labels[train_idx].copy()
X_val, y_val = images[rest[:300]], labels[rest[:300]]
X_test, y_test = images[rest[300:]], labels[rest[300:]]
noise_rng = np.random.default_rng(3)
wrong = noise_rng.random(len(y_train)) < 0.25
y_train[wrong] = (y_train[wrong] + noise_rng.integers(1, 10, wrong.sum())) % 10
print(f"train {X_train.shape} ({wrong.sum()} wrong labels), validation {X_val.shape}, test {X_test.shape}")

fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for c, ax in enumerate(axes):
    ax.imshow(X_train[y_train == c][0, 0], cmap="gray_r")
    ax.set_axis_off()
    ax.set_title(str(c), fontsize=9)
plt.show()

# %% [markdown]
# The model is deliberately large for so little data: an MLP $64 \to 128 \to 128 \to 10$ with
# ReLU units (about 26 000 weights for 100 examples), trained with plain minibatch gradient
# descent. The training loop below has switches for every regularizer of this chapter; they
# are all off for now. (It uses your functions from the later sections only when a switch is
# on.)

# %%
def init_mlp(sizes, rng):
    """Kaiming-normal weights W1, W2, ... of shape (n_in, n_out) and zero biases b1, b2, ..."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
    return params


def mlp_forward_backward(params, x, y=None, dropout=0.0, rng=None, train=False, smoothing=0.0):
    """Scores (and, given labels y, the loss and gradients) of the MLP on images x (N, 1, 8, 8).

    With dropout > 0 and train=True, dropout with probability `dropout` follows every hidden
    ReLU (your dropout_forward / dropout_backward); with smoothing > 0 the loss is your
    label_smoothing_cross_entropy.
    """
    n_layers = len(params) // 2
    h, caches = x.reshape(len(x), -1), []
    for i in range(1, n_layers + 1):
        h, c_affine = affine_forward(h, params[f"W{i}"], params[f"b{i}"])
        c_relu = c_drop = None
        if i < n_layers:
            h, c_relu = relu_forward(h)
            if dropout > 0:
                h, c_drop = dropout_forward(h, dropout, train=train, rng=rng)
        caches.append((c_affine, c_relu, c_drop))
    if y is None:
        return h
    if smoothing > 0:
        loss, dh = label_smoothing_cross_entropy(h, y, smoothing)
    else:
        loss, dh = softmax_cross_entropy_loss(h, y)
    grads = {}
    for i in range(n_layers, 0, -1):
        c_affine, c_relu, c_drop = caches[i - 1]
        if c_drop is not None:
            dh = dropout_backward(dh, c_drop)
        if c_relu is not None:
            dh = relu_backward(dh, c_relu)
        dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, c_affine)
    return loss, grads


def evaluate(params, x, y):
    """(loss, accuracy) in eval mode."""
    scores = mlp_forward_backward(params, x)
    return softmax_cross_entropy_loss(scores, y)[0], float(np.mean(scores.argmax(axis=1) == y))


def train(epochs=150, lr=0.05, batch_size=10, l2=0.0, weight_decay=0.0, dropout=0.0, augment=None,
          smoothing=0.0, stopper=None, seed=1):
    """Minibatch gradient descent; returns the final parameters and the history per epoch.

    l2: strength of an L2 penalty (your l2_penalty) on the weights W*; weight_decay: your
    weight_decay_step instead of a plain step; dropout: probability p; augment: a function
    (images, rng) -> images applied to every minibatch; smoothing: label smoothing eps;
    stopper: an EarlyStopping object.
    """
    rng = np.random.default_rng(seed)
    params = init_mlp([64, 128, 128, 10], rng)
    weight_names = [k for k in params if k.startswith("W")]
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        perm = rng.permutation(len(y_train))
        for start in range(0, len(perm), batch_size):
            idx = perm[start:start + batch_size]
            xb = X_train[idx] if augment is None else augment(X_train[idx], rng)
            _, grads = mlp_forward_backward(params, xb, y_train[idx], dropout, rng, train=True, smoothing=smoothing)
            if l2 > 0:
                _, penalty_grads = l2_penalty({k: params[k] for k in weight_names}, l2)
                for k, g in penalty_grads.items():
                    grads[k] = grads[k] + g
            if weight_decay > 0:
                weight_decay_step(params, grads, lr, weight_decay, weight_names)
            else:
                for k, w in params.items():
                    w -= lr * grads[k]
        history["train_loss"].append(evaluate(params, X_train, y_train)[0])
        val_loss, val_acc = evaluate(params, X_val, y_val)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if stopper is not None and stopper.step(val_loss, params):
            break
    if stopper is not None:
        stopper.restore(params)
    return params, history


# %%
baseline_params, baseline = train()
best_epoch = int(np.argmax(baseline["val_acc"]))
print(f"baseline: training accuracy {evaluate(baseline_params, X_train, y_train)[1]:.3f} "
      f"(wrong labels included); validation accuracy {baseline['val_acc'][best_epoch]:.3f} at epoch "
      f"{best_epoch}, {baseline['val_acc'][-1]:.3f} at the end; lowest validation loss "
      f"{min(baseline['val_loss']):.3f} at epoch {int(np.argmin(baseline['val_loss']))}, "
      f"{baseline['val_loss'][-1]:.3f} at the end")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
ax_loss.semilogy(baseline["train_loss"], label="training loss")
ax_loss.semilogy(baseline["val_loss"], label="validation loss")
ax_loss.set(xlabel="epoch", ylabel="cross-entropy (log)", title="No regularization")
ax_loss.legend()
ax_acc.plot(baseline["val_acc"], color="C1")
ax_acc.axvline(best_epoch, color="0.5", ls=":")
ax_acc.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy")
plt.show()

# %% [markdown]
# For the first dozen or two epochs the network learns what the digits have in common, and the
# validation accuracy climbs. Then it starts to **memorise**: the training loss heads to zero, which means
# fitting the 25 wrong labels too, and everything learnt for that is useless or harmful on new
# images. The validation loss turns around and climbs, the validation accuracy drops. That is
# **overfitting**. The rest of the chapter builds the tools to fight it.

# %% [markdown]
# ## 1. Parameter penalties: L2 and L1
#
# The oldest cure (chapter 01's ridge regression) adds a penalty on the size of the weights to
# the loss, with strength $\lambda \ge 0$:
#
# $$\tilde L(\mathbf w) = L(\mathbf w) + \lambda R(\mathbf w), \qquad
#   R_2(\mathbf w) = \tfrac12 \lVert \mathbf w \rVert_2^2 = \tfrac12 \sum_j w_j^2, \qquad
#   R_1(\mathbf w) = \lVert \mathbf w \rVert_1 = \sum_j |w_j| .$$
#
# The course uses this one convention everywhere: the L2 penalty is
# $\tfrac{\lambda}{2}\lVert \mathbf w\rVert_2^2$, so that its gradient is exactly $\lambda\mathbf w$.
# Chapter 01's ridge regression is the same thing: its solution
# $(\mathbf X^\top\mathbf X + \lambda\mathbf I)^{-1}\mathbf X^\top\mathbf y$ is the minimiser of
# $\tfrac12\lVert\mathbf X\mathbf w - \mathbf y\rVert_2^2 + \tfrac{\lambda}{2}\lVert\mathbf w\rVert_2^2$
# (set the gradient $\mathbf X^\top(\mathbf X\mathbf w - \mathbf y) + \lambda\mathbf w$ to zero).
#
# Their gradients are $\nabla \tfrac{\lambda}{2}\lVert \mathbf w\rVert_2^2 = \lambda \mathbf w$
# (a pull towards 0 proportional to the weight) and
# $\nabla \lambda \lVert \mathbf w\rVert_1 = \lambda\, \mathrm{sign}(\mathbf w)$ (a pull of
# constant size, whatever the weight). That constant pull is why L1 drives many weights to
# **exactly** zero — sparse models — while L2 makes all weights small but rarely zero. $|w|$ has
# no derivative at $w = 0$; like PyTorch we use $\mathrm{sign}(0) = 0$ there.
#
# Both are the negative log of a prior on the weights: a Gaussian prior gives L2, a Laplace
# prior gives L1 (maximum a posteriori instead of maximum likelihood). Penalties usually apply
# to the weight matrices only, not to the biases: a bias shifts a unit's output and does not
# make the function any wigglier. So our functions take a dict of the arrays to penalise.

# %% nbgrader="solution" grade_id="penalties" export=true
def l2_penalty(weights, lam):
    """L2 penalty (lam / 2) * sum of all squared entries, and its gradient.

    Args:
        weights: dict name -> float64 array (any shapes), the arrays to penalise.
        lam: float >= 0.

    Returns:
        (value, grads): value is a Python float; grads a dict with the same keys, grads[name]
        = lam * weights[name] (float64, same shape). weights is not modified.
    """
    ### BEGIN SOLUTION
    value = 0.5 * lam * sum(float(np.sum(w * w)) for w in weights.values())
    grads = {name: lam * w for name, w in weights.items()}
    return float(value), grads
    ### END SOLUTION


def l1_penalty(weights, lam):
    """L1 penalty lam * sum of all absolute entries, and its (sub)gradient lam * sign(w).

    Args and returns as for l2_penalty; use sign(0) = 0.
    """
    ### BEGIN SOLUTION
    value = lam * sum(float(np.sum(np.abs(w))) for w in weights.values())
    grads = {name: lam * np.sign(w) for name, w in weights.items()}
    return float(value), grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_penalties" points=3
_w = {"W1": np.array([[1.0, -2.0], [0.0, 3.0]]), "W2": np.array([-1.0])}
_value, _grads = call(l2_penalty, _w, 0.1)
assert_scalar(_value, 0.05 * (1 + 4 + 0 + 9 + 1), name="l2_penalty value with lam=0.1")
assert_that(set(_grads) == {"W1", "W2"}, f"l2_penalty grads must have the keys of weights, got {sorted(_grads)}")
assert_close(_grads["W1"], 0.1 * _w["W1"], name="l2_penalty grads['W1']")
_value, _grads = call(l1_penalty, _w, 0.1)
assert_scalar(_value, 0.1 * (1 + 2 + 0 + 3 + 1), name="l1_penalty value with lam=0.1")
assert_close(_grads["W1"], [[0.1, -0.1], [0.0, 0.1]], name="l1_penalty grads['W1'] (sign(0) = 0)")
assert_close(_grads["W2"], [-0.1], name="l1_penalty grads['W2']")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(401)
# Any names (not only W...), several scales of lam and of the weights; the value is checked before the gradients.
for _names, _shapes, _lam, _scale in [(["W1", "b1"], [(3, 4), (4,)], 0.1, 1.0), (["conv"], [(1,)], 2.0, 1.0),
                                      (["fc", "W", "emb"], [(5, 2), (2, 3), (3, 1)], 1e-3, 10.0),
                                      (["layer.weight"], [(2, 2)], 0.0, 1.0), (["w"], [(6,)], 0.5, 1e-6),
                                      (["kernel", "W2"], [(3, 3), (1, 4)], 1e4, 1e3)]:
    _weights = {n: _scale * _rng.normal(size=s) for n, s in zip(_names, _shapes, strict=True)}
    _weights[_names[0]].flat[0] = 0.0  # an exact zero: the L1 subgradient there is 0 (as in torch)
    _tensors = {k: _torch.tensor(v, requires_grad=True) for k, v in _weights.items()}
    for _fn, _torch_value in [(l2_penalty, lambda ts, lam: 0.5 * lam * sum((t**2).sum() for t in ts)),
                              (l1_penalty, lambda ts, lam: lam * sum(t.abs().sum() for t in ts))]:
        for _t in _tensors.values():
            _t.grad = None
        _ref = _torch_value(list(_tensors.values()), _lam)
        _ref.backward()
        _label = f"{_fn.__name__}(weights {dict(zip(_names, _shapes, strict=True))}, lam={_lam:g})"
        _out = call(_fn, _weights, _lam)
        assert_that(isinstance(_out, tuple) and len(_out) == 2, f"{_label} must return (value, grads)")
        _value, _grads = _out
        assert_scalar(_value, float(_ref.detach()), rtol=1e-10, atol=1e-300, name=f"value of {_label} (torch agrees)")
        assert_that(isinstance(_value, float), f"{_label}: the value must be a Python float, got {type(_value).__name__}")
        assert_that(set(_grads) == set(_weights), f"{_label}: grads must have the keys {sorted(_weights)}, "
                    f"got {sorted(_grads)} (penalise every array you are given, whatever its name)")
        for _k, _t in _tensors.items():
            assert_close(_grads[_k], _t.grad.numpy(), rtol=1e-10, atol=1e-300,
                         name=f"grads[{_k!r}] of {_label} (torch autograd agrees)")
# Gradient check of both penalties away from 0.
_W = _rng.normal(size=(3, 2)) + 2.0
for _fn in (l2_penalty, l1_penalty):
    _analytic = np.asarray(call(_fn, {"W": _W}, 0.3)[1]["W"], dtype=float)
    assert_gradient_close(lambda w, fn=_fn: fn({"W": w}, 0.3)[0], _W.copy(), _analytic, name=f"W of {_fn.__name__}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** Two linear models give the same predictions on the input
# $\mathbf x = (1, 2, 1)$: $\mathbf w_a = (0, 0.75, 0)$ uses one feature,
# $\mathbf w_b = (0.25, 0.5, 0.25)$ spreads over all three (both give
# $\mathbf w^\top \mathbf x = 1.5$). Which statement is right?
#
# - (a) both penalties prefer $\mathbf w_a$
# - (b) both penalties prefer $\mathbf w_b$
# - (c) the L1 penalty prefers $\mathbf w_a$, the L2 penalty prefers $\mathbf w_b$
# - (d) the L1 penalty prefers $\mathbf w_b$, the L2 penalty prefers $\mathbf w_a$
#
# Set `q1_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q1_l1_vs_l2"
# q1_answer = "..."
### BEGIN SOLUTION
q1_answer = "c"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_l1_vs_l2" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_choice(q1_answer, ["a", "b", "c", "d"], name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, "c", name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Weight decay
#
# Take one gradient-descent step on the L2-penalised loss:
#
# $$\mathbf w \leftarrow \mathbf w - \eta\big(\nabla L(\mathbf w) + \lambda \mathbf w\big)
#   = (1 - \eta\lambda)\,\mathbf w - \eta \nabla L(\mathbf w) .$$
#
# Before each ordinary step the weights are multiplied by $1 - \eta\lambda$, slightly less than
# one: they **decay** towards zero unless the data keeps pushing them out. For plain (S)GD,
# "weight decay" and "L2 penalty" are therefore the same thing, and `torch.optim.SGD`'s
# `weight_decay` is exactly this. (For adaptive optimizers such as Adam, chapter 05, the two
# differ: adding $\lambda\mathbf w$ to the gradient lets Adam's per-parameter scaling rescale
# the decay too, so *decoupled* weight decay — AdamW — shrinks the weights directly instead.)
#
# Write the decayed step, updating the arrays **in place** (the model holds the same arrays),
# and decaying only the parameters named in `decay_keys` — the weights, not the biases.

# %% nbgrader="solution" grade_id="weight_decay" export=true
def weight_decay_step(params, grads, lr, decay, decay_keys):
    """One gradient-descent step with weight decay, in place.

    For every name in params:
        w <- (1 - lr * decay) * w - lr * g   if name in decay_keys,
        w <- w - lr * g                      otherwise,
    with w = params[name] and g = grads[name].

    Args:
        params: dict name -> float64 array, updated in place.
        grads: dict with the same keys and shapes (not modified).
        lr: float > 0; decay: float >= 0 (lambda); decay_keys: collection of names.

    Returns:
        None.
    """
    ### BEGIN SOLUTION
    for name, w in params.items():
        if name in decay_keys:
            w *= 1.0 - lr * decay
        w -= lr * grads[name]
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_weight_decay" points=2
_params = {"W": np.array([2.0, -4.0]), "b": np.array([1.0])}
_grads = {"W": np.array([1.0, 1.0]), "b": np.array([1.0])}
call_updating(weight_decay_step, "params", _params, _grads, 0.1, 0.5, ["W"])
assert_close(_params["W"], [(1 - 0.05) * 2.0 - 0.1, (1 - 0.05) * -4.0 - 0.1], name="W after weight_decay_step")
assert_close(_params["b"], [1.0 - 0.1], name="b after weight_decay_step (not decayed)")


def _arrays_the_model_holds(params, *args):
    """weight_decay_step as training uses it: the model keeps its own references to the arrays."""
    held = dict(params)
    weight_decay_step(params, *args)
    return held


_held = call_updating(_arrays_the_model_holds, "params", {"W": np.array([2.0, -4.0]), "b": np.array([1.0])}, _grads,
                      0.1, 0.5, ["W"])
assert_close(_held["W"], [(1 - 0.05) * 2.0 - 0.1, (1 - 0.05) * -4.0 - 0.1],
             name="the model's own array W after weight_decay_step (update the arrays in place: w *= ..., w -= ...)")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(402)
# Which names are decayed is up to the caller: decay_keys decides, not the names.
for _lr, _decay, _keys in [(0.1, 0.01, {"W1", "W2"}), (0.05, 0.5, {"b1"}), (1e-3, 1.0, {"W2", "b2"}),
                           (0.3, 0.0, {"W1", "W2"}), (0.2, 2.0, {"emb"}), (0.01, 30.0, set())]:
    _names = ["W1", "b1", "W2", "b2", "emb"]
    _p0 = {"W1": _rng.normal(size=(4, 3)), "b1": _rng.normal(size=3), "W2": _rng.normal(size=(3, 1)),
           "b2": _rng.normal(size=1), "emb": _rng.normal(size=(2, 5))}
    _ours = {k: v.copy() for k, v in _p0.items()}
    _tensors = {k: _torch.tensor(_p0[k].copy(), requires_grad=True) for k in _names}
    _opt = _torch.optim.SGD([{"params": [_tensors[k] for k in _names if k in _keys], "weight_decay": _decay},
                             {"params": [_tensors[k] for k in _names if k not in _keys], "weight_decay": 0.0}],
                            lr=_lr)
    for _step in range(25):
        _grads = {k: np.cos(3 * v) + 0.5 * v for k, v in _ours.items()}
        for _k, _t in _tensors.items():
            with _torch.no_grad():
                _t.copy_(_torch.from_numpy(_ours[_k]))
            _t.grad = _torch.from_numpy(_grads[_k].copy())
        _label = f"weight_decay_step(lr={_lr}, decay={_decay}, decay_keys={sorted(_keys)}), step {_step + 1}"
        _result = call_updating(weight_decay_step, "params", _ours, _grads, _lr, _decay, _keys)
        _opt.step()
        assert_that(_result is None, f"{_label}: should return None (update params in place)")
        for _k, _t in _tensors.items():
            assert_close(_ours[_k], _t.detach().numpy(), rtol=1e-12, atol=1e-14,
                         name=f"params[{_k!r}] after {_label} (torch SGD with weight_decay on decay_keys only)")
_held = call_updating(_arrays_the_model_holds, "params", {k: v.copy() for k, v in _p0.items()},
                      {k: np.ones_like(v) for k, v in _p0.items()}, 0.1, 0.5, {"W1", "b1"})
for _k, _v in _p0.items():
    assert_close(_held[_k], (1 - 0.05 * (_k in {"W1", "b1"})) * _v - 0.1, rtol=1e-12,
                 name=f"the model's own array {_k!r} after weight_decay_step (update the arrays in place)")
# Equivalence with gradient descent on the L2-penalised loss: many steps, same trajectory.
_A = _rng.normal(size=(6, 3))
_t = _rng.normal(size=6)
_w_wd = {"w": np.zeros(3)}
_w_l2 = np.zeros(3)
for _ in range(200):
    call_updating(weight_decay_step, "params", _w_wd, {"w": _A.T @ (_A @ _w_wd["w"] - _t)}, 0.02, 0.7, ["w"])
    _w_l2 = _w_l2 - 0.02 * (_A.T @ (_A @ _w_l2 - _t) + 0.7 * _w_l2)
assert_close(_w_wd["w"], _w_l2, rtol=1e-10, atol=1e-12,
             name="weight decay after 200 steps vs gradient descent on the L2-penalised loss")
# The ridge solution (A^T A + lam I)^-1 A^T t is a fixed point of weight decay with decay = lam.
_ridge = np.linalg.solve(_A.T @ _A + 0.7 * np.eye(3), _A.T @ _t)
_w_fixed = {"w": _ridge.copy()}
call_updating(weight_decay_step, "params", _w_fixed, {"w": _A.T @ (_A @ _ridge - _t)}, 0.02, 0.7, ["w"])
assert_close(_w_fixed["w"], _ridge, rtol=1e-10, atol=1e-12,
             name="one weight-decay step from the ridge solution (A^T A + lam I)^-1 A^T t (a fixed point)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** Plain SGD with learning rate $\eta = 0.1$ and weight decay
# $\lambda = 0.01$. By which factor is every weight multiplied at each step, before the
# gradient step is taken? Set `q2_answer` to that number.

# %% nbgrader="solution" grade_id="q2_decay_factor"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 0.999
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_decay_factor" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 0.999, name="q2_answer", rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Early stopping
#
# The baseline's validation loss was lowest early in training (the epoch printed in section 0)
# and got worse from then on.
# **Early stopping** watches the validation loss after every epoch, remembers the best weights
# seen so far, stops when there has been no improvement for `patience` epochs in a row, and
# then **restores the best weights** (not the last ones!). It is the most widely used
# regularizer: cheap, and it picks the training time — a hyperparameter — in a single run.
#
# Precisely, for the losses $\ell_0, \ell_1, \dots$ reported at epochs $0, 1, \dots$:
#
# - epoch $e$ is an **improvement** if $\ell_e < \ell_{\text{best}} - \delta$ (with
#   $\ell_{\text{best}} = \infty$ at the start and a tolerance `min_delta` $= \delta \ge 0$);
#   then $\ell_{\text{best}} \leftarrow \ell_e$, the weights are saved and the counter of bad
#   epochs is reset to 0;
# - otherwise the counter goes up by one, and `step` returns `True` (stop) once it reaches
#   `patience`.
#
# Saving means **copying**: training updates the parameter arrays in place, so a dict of
# references would silently follow the training and "restore" the last weights.

# %% nbgrader="solution" grade_id="early_stopping" export=true
class EarlyStopping:
    """Stop when the validation loss has not improved for `patience` epochs; restore the best.

    Attributes after each step: best_loss (float, inf before the first step), best_epoch
    (int, the 0-based index of the step call that gave best_loss; None before), bad_epochs
    (int), best_params (dict of copies of the parameters at best_epoch).

    Args:
        patience: int >= 1.
        min_delta: float >= 0, the minimal decrease that counts as an improvement.
    """

    def __init__(self, patience, min_delta=0.0):
        ### BEGIN SOLUTION
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = np.inf
        self.best_epoch = None
        self.best_params = None
        self.bad_epochs = 0
        self.epoch = -1
        ### END SOLUTION

    def step(self, val_loss, params):
        """Record one epoch's validation loss; return True if training should stop now.

        Args:
            val_loss: float, this epoch's validation loss.
            params: dict name -> float64 array, the current parameters (copied if best).
        """
        ### BEGIN SOLUTION
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_params = {name: w.copy() for name, w in params.items()}
            self.bad_epochs = 0
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience
        ### END SOLUTION

    def restore(self, params):
        """Copy the best parameters back into the arrays of params, in place."""
        ### BEGIN SOLUTION
        for name, w in params.items():
            w[...] = self.best_params[name]
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_early_stopping" points=4
def _state(stopper):
    """What the stopper remembers: (best_loss, best_epoch, bad_epochs)."""
    return stopper.best_loss, stopper.best_epoch, stopper.bad_epochs


# The weights are overwritten in place every epoch (w = epoch number), as training does.
_params = {"w": np.zeros(2)}
_stopper = call(EarlyStopping, 2)
_decisions = []
for _epoch, _loss in enumerate([3.0, 2.0, 2.5, 1.5, 1.6, 1.7]):
    _params["w"][:] = _epoch
    _decisions.append(call(_stopper.step, _loss, _params))
assert_that(_decisions == [False, False, False, False, False, True],
            f"EarlyStopping(patience=2) on losses 3, 2, 2.5, 1.5, 1.6, 1.7: expected to stop after "
            f"the 1.7 (two epochs without improvement), got the decisions {_decisions}")
_best_loss, _best_epoch, _bad = call(_state, _stopper)
assert_equal_int(_best_epoch, 3, name="best_epoch (the epoch of loss 1.5)")
assert_scalar(_best_loss, 1.5, name="best_loss")
_other = {"w": np.full(2, -1.0)}  # restore works for any arrays of the same names and shapes
call_updating(_stopper.restore, "params", _other)
assert_close(_other["w"], [3.0, 3.0], name="w of another model after restore (the weights of epoch 3)")
call_updating(_stopper.restore, "params", _params)
assert_close(_params["w"], [3.0, 3.0], name="w after restore (the weights of epoch 3, not the last ones)")
### BEGIN HIDDEN TESTS
def _reference_stops(losses, patience, min_delta):
    """(epoch of the stop or None, best_epoch, best_loss, bad_epochs) when training stops."""
    best, best_epoch, bad = np.inf, None, 0
    for e, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch, bad = loss, e, 0
        else:
            bad += 1
            if bad >= patience:
                return e, best_epoch, best, bad
    return None, best_epoch, best, bad


_rng = np.random.default_rng(403)
_stopper = call(EarlyStopping, 3)
_best_loss, _best_epoch, _bad = call(_state, _stopper)
assert_that(_best_loss == np.inf and _best_epoch is None and _bad == 0,
            "a new EarlyStopping must start with best_loss = inf, best_epoch = None, bad_epochs = 0, got "
            f"{_best_loss}, {_best_epoch}, {_bad}")
# Losses around 1 and around 100: min_delta is an absolute decrease, whatever the scale of the loss.
_cases = [([5, 4, 4, 4, 4], 3, 0.0), ([2, 2, 2, 2], 2, 0.0), ([3, 2, 1], 1, 0.0), ([1, 2, 3], 1, 0.0),
          ([5, 4, 4.1, 3.9, 4.0, 3.95, 3.91, 3.92], 3, 0.0), ([10, 9, 8, 7, 6, 5], 2, 0.0),
          ([1.0, 0.9999, 0.99985, 0.9998, 0.99978, 0.99977, 0.99976, 0.99976], 2, 0.0),
          ([1.0, 0.99, 0.985, 0.984, 0.98, 0.978, 0.97], 2, 0.01),
          ([100.0, 99.0, 98.6, 98.3, 97.9, 97.85, 97.0, 96.9], 2, 0.5),
          ([100.0, 99.9999, 99.99985, 99.9998, 99.99978, 99.99977, 99.99976, 99.99976], 2, 0.0),
          ([100.0, 99.0, 98.995, 98.0, 97.996, 97.993, 97.992], 3, 0.004)]
_cases += [(list(np.cumsum(_rng.normal(size=40)) + 100), int(p), 0.0) for p in (1, 3, 5)]
_cases += [(list(1.0 / np.arange(1, 60) + 0.02 * _rng.normal(size=59)), 4, 0.005)]
_cases += [(list(100.0 / np.arange(1, 60) + 80 + 0.5 * _rng.normal(size=59)), 4, 0.3)]
for _losses, _patience, _min_delta in _cases:
    _stop_at, _best_epoch, _best, _bad = _reference_stops(_losses, _patience, _min_delta)
    _losses = _losses if _stop_at is None else _losses[:_stop_at + 1]  # the epochs a training run would see
    _label = (f"EarlyStopping(patience={_patience}, min_delta={_min_delta}) on the losses "
              f"{np.round(_losses[:10], 6).tolist()}{'...' if len(_losses) > 10 else ''}")
    _params = {"W": np.zeros((2, 2)), "b": np.zeros(3)}
    _stopper = call(EarlyStopping, _patience, _min_delta)
    _decisions = []
    for _epoch, _loss in enumerate(_losses):
        _params["W"][:] = _epoch  # training changes the arrays in place
        _params["b"][:] = -_epoch
        _decisions.append(call(_stopper.step, float(_loss), _params))
        assert_that(isinstance(_decisions[-1], bool | np.bool_),
                    f"{_label}: step must return True or False, got {_decisions[-1]!r}")
    _stopped = int(np.argmax(_decisions)) if any(_decisions) else None
    assert_that(_stopped == _stop_at, f"{_label}: expected to stop at epoch {_stop_at}, stopped at {_stopped}")
    _state_now = call(_state, _stopper)
    assert_that(_state_now[1] == _best_epoch, f"{_label}: best_epoch should be {_best_epoch}, got {_state_now[1]}")
    assert_scalar(_state_now[0], _best, name=f"best_loss of {_label}")
    assert_that(_state_now[2] == _bad, f"{_label}: bad_epochs should be {_bad} at the end, got {_state_now[2]}")
    _W, _b = _params["W"], _params["b"]
    call_updating(_stopper.restore, "params", _params)
    assert_close(_params["W"], np.full((2, 2), _best_epoch), rtol=0, atol=0,
                 name=f"W after restore in {_label} (the weights of epoch {_best_epoch})")
    assert_close(_params["b"], np.full(3, -_best_epoch), rtol=0, atol=0, name=f"b after restore in {_label}")
    # Training goes on in the same arrays after a restore: the saved copy must not follow.
    _params["W"][:] = -99.0
    call_updating(_stopper.restore, "params", _params)
    assert_close(_params["W"], np.full((2, 2), _best_epoch), rtol=0, atol=0,
                 name=f"W after training on and a second restore in {_label} (the saved copy must be independent)")
    assert_that(_params["W"] is _W and _params["b"] is _b,
                f"{_label}: restore must copy the best values into the existing arrays (w[...] = best), not put "
                "other arrays into the dict: the model keeps using its own arrays")
### END HIDDEN TESTS

# %% [markdown]
# Early stopping on the baseline (patience 10 epochs):

# %%
stopper = EarlyStopping(patience=10)
es_params, es_history = train(stopper=stopper)
print(f"stopped after epoch {len(es_history['val_loss']) - 1}, best epoch {stopper.best_epoch}, "
      f"best validation loss {stopper.best_loss:.3f}; restored validation accuracy "
      f"{evaluate(es_params, X_val, y_val)[1]:.3f} (baseline after 150 epochs: {baseline['val_acc'][-1]:.3f})")

# %% [markdown]
# **Concept check 3.** With `EarlyStopping(patience=3)` the validation losses of epochs
# 0, 1, 2, … are 0.90, 0.70, 0.72, 0.65, 0.66, 0.67, 0.69, 0.64. What is the validation loss
# of the weights that training ends with (after `restore`)? Set `q3_answer` to that number.

# %% nbgrader="solution" grade_id="q3_early_stopping"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = 0.65
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_early_stopping" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, 0.65, name="q3_answer", rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Dropout
#
# **Dropout** switches off every hidden unit independently with probability $p$ at every
# training step: each minibatch trains a different random sub-network, and units cannot rely on
# particular partners being present (no "co-adaptation"). It behaves like training an
# exponentially large ensemble of networks that share their weights.
#
# At test time we want the ensemble's average, not one random member. If a unit is kept with
# probability $1 - p$, its expected contribution during training was $(1-p)\,x$. **Inverted
# dropout** (what every framework does) rescales during training instead of at test time:
#
# $$\text{train:}\quad \text{out} = \frac{m \odot x}{1 - p}, \quad m_{ij} \sim
#   \text{Bernoulli}(1 - p); \qquad \text{eval:}\quad \text{out} = x .$$
#
# The expectation of the training output equals $x$, so the network needs no change at test
# time. The backward pass routes the gradient through the same mask with the same scale:
# $dx = m \odot dout / (1 - p)$ in training, $dx = dout$ in eval mode.
#
# Here $p$ is the **drop** probability (as in `torch.nn.Dropout`), $0 \le p < 1$. Draw the
# mask from the given generator, e.g. `rng.random(x.shape) >= p` (a unit survives when its
# uniform draw is at least $p$); tests may instead pass a ready `mask` (boolean, shape of `x`,
# True = keep), which must then be used as it is.

# %% nbgrader="solution" grade_id="dropout" export=true
def dropout_forward(x, p, train=True, rng=None, mask=None):
    """Inverted dropout.

    Args:
        x: float64 array of any shape, e.g. (batch, features).
        p: float in [0, 1), the probability of dropping a unit.
        train: True for training mode, False for eval mode (identity).
        rng: numpy Generator to draw the mask from (training mode, when mask is None).
        mask: optional boolean array of x's shape (True = keep); used instead of drawing.

    Returns:
        out: float64 array of x's shape: x * mask / (1 - p) in training, x in eval mode.
        cache: whatever dropout_backward needs.
    """
    ### BEGIN SOLUTION
    if not train:
        return x, (None, p, False)
    if mask is None:
        mask = rng.random(x.shape) >= p
    out = x * mask / (1.0 - p)
    return out, (mask, p, True)
    ### END SOLUTION


def dropout_backward(dout, cache):
    """Gradient of inverted dropout: dout * mask / (1 - p) in training, dout in eval mode.

    Args:
        dout: float64 array, the upstream gradient (shape of the forward output).
        cache: from dropout_forward.

    Returns:
        dx: float64 array of dout's shape.
    """
    ### BEGIN SOLUTION
    mask, p, train = cache
    if not train:
        return dout
    return dout * mask / (1.0 - p)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_dropout" points=4
_x = np.array([[1.0, 2.0, 3.0, 4.0]])
_out, _cache = call(dropout_forward, _x, 0.5, train=False, rng=np.random.default_rng(0))
assert_close(_out, _x, name="dropout_forward in eval mode (identity)")
assert_close(call(dropout_backward, np.ones((1, 4)), _cache), np.ones((1, 4)), name="dropout_backward in eval mode")
_mask = np.array([[True, False, True, False]])
_out, _ = call(dropout_forward, _x, 0.0, train=True, mask=_mask)
assert_close(_out, [[1.0, 0.0, 3.0, 0.0]], name="dropout_forward(x, p=0, mask) (a given mask is always used)")
_out, _ = call(dropout_forward, _x, 0.0, train=True, rng=np.random.default_rng(0))
assert_close(_out, _x, name="dropout_forward(x, p=0, rng) in training mode (nothing dropped)")
_out, _cache = call(dropout_forward, _x, 0.5, train=True, mask=_mask)
assert_close(_out, [[2.0, 0.0, 6.0, 0.0]], name="dropout_forward(x, p=0.5, mask) in training mode")
assert_close(call(dropout_backward, np.ones((1, 4)), _cache), [[2.0, 0.0, 2.0, 0.0]],
             name="dropout_backward(ones) with that mask")
# With a generator: about 1 - p of the units survive, and the mean is preserved.
_out, _ = call(dropout_forward, np.ones((200, 100)), 0.3, train=True, rng=np.random.default_rng(0))
assert_scalar(np.mean(np.asarray(_out) != 0), 0.7, rtol=0.03, name="fraction of kept units for p=0.3")
assert_scalar(np.mean(_out), 1.0, rtol=0.03, name="mean of dropout_forward(ones, p=0.3) (inverted dropout keeps it)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(404)
_torch.manual_seed(404)
# Exactly torch's output given torch's own mask (recovered from where its output is nonzero).
for _shape, _p in [((1, 1), 0.5), ((5, 7), 0.2), ((64, 30), 0.5), ((3, 4, 5), 0.9), ((10, 10), 0.0),
                   ((1, 200), 0.7)]:
    _x = _rng.normal(size=_shape) + 3.0  # no zeros in x
    _xt = _torch.tensor(_x, requires_grad=True)
    _yt = _F.dropout(_xt, _p, training=True)
    _dout = _rng.normal(size=_shape)
    _yt.backward(_torch.tensor(_dout))
    _mask = _yt.detach().numpy() != 0
    _label = f"dropout_forward(x {_shape}, p={_p}) with torch's mask"
    _out, _cache = call(dropout_forward, _x, _p, train=True, rng=np.random.default_rng(0), mask=_mask)
    assert_shape(_out, _shape, name=_label)
    assert_close(_out, _yt.detach().numpy(), rtol=1e-12, atol=1e-12, name=f"{_label} (torch agrees)")
    assert_close(call(dropout_backward, _dout, _cache), _xt.grad.numpy(), rtol=1e-12, atol=1e-12,
                 name=f"dropout_backward for {_label} (torch agrees)")
    # eval mode: identity, like torch's F.dropout(training=False)
    _out, _cache = call(dropout_forward, _x, _p, train=False, rng=np.random.default_rng(0))
    assert_close(_out, _F.dropout(_torch.tensor(_x), _p, training=False).numpy(), rtol=0, atol=0,
                 name=f"dropout_forward(x {_shape}, p={_p}, train=False)")
    assert_close(call(dropout_backward, _dout, _cache), _dout, rtol=0, atol=0,
                 name=f"dropout_backward in eval mode for x {_shape}")
# The mask comes from rng only: same seed, same mask; another seed, another mask; np.random untouched.
assert_seeded(lambda rng: call(dropout_forward, np.ones((6, 8)), 0.5, train=True, rng=rng)[0], "dropout_forward")
# Statistically like torch: kept fraction, scale of the survivors, independence, fresh masks.
for _p in (0.1, 0.5, 0.8):
    _out, _ = call(dropout_forward, np.ones((400, 250)), _p, train=True, rng=np.random.default_rng(7))
    _out = np.asarray(_out, dtype=float)
    _tout = _F.dropout(_torch.ones(400, 250, dtype=_torch.float64), _p, training=True).numpy()
    _label = f"dropout_forward(ones (400, 250), p={_p}) with a generator"
    assert_scalar(np.mean(_out != 0), float(np.mean(_tout != 0)), atol=0.01, name=f"kept fraction of {_label} vs torch")
    assert_close(np.unique(_out[_out != 0]), [1.0 / (1.0 - _p)], rtol=1e-12,
                 name=f"values of the kept units in {_label} (1 / (1 - p))")
    assert_scalar(np.mean(_out), 1.0, rtol=0.02, name=f"mean of {_label}")
    assert_scalar(np.mean(np.asarray(_out[:, :125] != 0) & np.asarray(_out[:, 125:] != 0)), (1 - _p) ** 2,
                  atol=0.015, name=f"fraction of pairs of units both kept in {_label} (independent units)")
_rng_a = np.random.default_rng(1)
_o1, _ = call(dropout_forward, np.ones((20, 20)), 0.5, train=True, rng=_rng_a)
_o2, _ = call(dropout_forward, np.ones((20, 20)), 0.5, train=True, rng=_rng_a)
assert_that(not np.array_equal(_o1, _o2), "two training calls with the same generator must draw different masks")
# Gradient check in training mode with a fixed mask.
_x = _rng.normal(size=(4, 6))
_mask = _rng.random((4, 6)) >= 0.4
_dout = _rng.normal(size=(4, 6))
_, _cache = call(dropout_forward, _x, 0.4, train=True, mask=_mask)
assert_gradient_close(lambda x: dropout_forward(x, 0.4, train=True, mask=_mask)[0], _x.copy(),
                      np.asarray(call(dropout_backward, _dout, _cache), dtype=float), dout=_dout, name="x (dropout)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 4.** A layer uses inverted dropout with drop probability $p = 0.2$. In
# training mode, by which factor is the value of a unit that is **kept** multiplied? Set
# `q4_answer` to that number.

# %% nbgrader="solution" grade_id="q4_dropout_scale"
# q4_answer = ...
### BEGIN SOLUTION
q4_answer = 1.25
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_dropout_scale" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_scalar(q4_answer, name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, 1.25, name="q4_answer", rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Bagging
#
# An **ensemble** averages the predictions of $K$ models. If each model's error has variance
# $v$ and any two models' errors have covariance $c$, the average has error variance
# $\frac{v}{K} + \frac{K-1}{K}c$: the less correlated the models, the more averaging helps.
# **Bagging** (bootstrap aggregating) decorrelates models by training each on its own
# **bootstrap sample**: $n$ examples drawn from the $n$ training examples **with replacement**,
# so each model sees some examples twice and misses others (about $e^{-1} \approx 37\%$ of
# them). The ensemble's prediction is the mean of the models' predictions (for a classifier:
# the mean of the predicted class probabilities).
#
# `bagging_predict` receives the learning algorithm as two functions, so it works for any
# model: `fit(X, y) -> model` and `predict(model, X) -> array`.

# %% nbgrader="solution" grade_id="bagging" export=true
def bagging_predict(fit, predict, X, y, X_new, n_models, rng):
    """Train n_models models on bootstrap samples and average their predictions on X_new.

    Args:
        fit: function (X_sample, y_sample) -> model.
        predict: function (model, X_new) -> float array (e.g. (m,) or (m, classes)).
        X: array of shape (n, ...); y: array of shape (n,).
        X_new: inputs to predict, shape (m, ...).
        n_models: int K >= 1.
        rng: numpy Generator; draw each model's n indices with replacement from it (for
            example rng.integers(0, n, size=n)), a fresh draw per model.

    Returns:
        float64 array: the mean over the K models of predict(model, X_new), of that shape.
    """
    ### BEGIN SOLUTION
    n = len(X)
    predictions = []
    for _ in range(n_models):
        idx = rng.integers(0, n, size=n)
        model = fit(X[idx], y[idx])
        predictions.append(np.asarray(predict(model, X_new), dtype=float))
    return np.mean(predictions, axis=0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_bagging" points=3
# Each "model" is just the mean of its training targets; record what fit receives.
_seen = []


def _fit_mean(Xs, ys):
    _seen.append((np.array(Xs), np.array(ys)))
    return float(np.mean(ys))


_X = np.arange(20.0).reshape(20, 1)
_pred = call(bagging_predict, _fit_mean, lambda m, Xn: np.full(len(Xn), m), _X, np.full(20, 3.0), np.zeros((3, 1)), 4,
             np.random.default_rng(0))
assert_close(_pred, [3.0, 3.0, 3.0], name="bagging_predict with every label 3.0 (every model predicts 3)")
_seen.clear()
_y = np.arange(20.0)  # y equals the row's feature: X and y must stay paired
_pred = call(bagging_predict, _fit_mean, lambda m, Xn: np.full(len(Xn), m), _X, _y, np.zeros((3, 1)), 30,
             np.random.default_rng(0))
assert_shape(_pred, (3,), name="bagging_predict output for 3 new inputs")
assert_equal_int(len(_seen), 30, name="number of models fitted with n_models=30")
assert_that(all(len(ys) == 20 for _, ys in _seen), "every bootstrap sample must have n = 20 examples")
assert_that(all(np.array_equal(Xs[:, 0], ys) for Xs, ys in _seen),
            "in a bootstrap sample, each X row must come with its own label (same indices for X and y)")
assert_close(_pred, np.full(3, np.mean([np.mean(ys) for _, ys in _seen])), name="mean of the 30 models' predictions")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(405)
for _n, _K in [(50, 200), (7, 40), (1, 3), (200, 25)]:
    _seen = []
    _X = np.column_stack([np.arange(_n, dtype=float), _rng.normal(size=_n)])
    _y = np.arange(_n)

    def _fit_record(Xs, ys, seen=_seen):
        seen.append((np.array(Xs), np.array(ys)))
        return np.array(ys, dtype=float)

    def _predict(model, Xn):  # two different outputs per input: (m, 2); they depend on the sample's order too
        return np.column_stack([np.full(len(Xn), model.mean()), Xn[:, 1] * model[0]])

    _X_new = _rng.normal(size=(5, 2))
    _label = f"bagging_predict(n={_n}, n_models={_K})"
    _pred = call(bagging_predict, _fit_record, _predict, _X, _y, _X_new, _K, np.random.default_rng(_n))
    assert_equal_int(len(_seen), _K, name=f"number of models fitted by {_label}")
    _expected = np.mean([_predict(ys.astype(float), _X_new) for _, ys in _seen], axis=0)
    assert_shape(_pred, (5, 2), name=f"output of {_label}")
    assert_close(_pred, _expected, rtol=1e-12, atol=1e-12, name=f"output of {_label} (the mean of the models' predictions)")
    for _Xs, _ys in _seen:
        assert_that(_Xs.shape == _X.shape and _ys.shape == _y.shape,
                    f"{_label}: each bootstrap sample must have the shape of the data, got X {_Xs.shape}, y {_ys.shape}")
        assert_that(np.array_equal(_Xs[:, 0].astype(int), _ys) and np.array_equal(_X[_ys], _Xs),
                    f"{_label}: each sample must consist of rows of X with their own labels")
    _drawn = np.unique(np.concatenate([ys for _, ys in _seen]))
    assert_that(_n < 7 or len(_drawn) == _n, f"{_label}: over {_K} bootstrap samples every one of the {_n} examples "
                f"should be drawn at least once, but {sorted(set(range(_n)) - set(_drawn.tolist()))[:5]} never were "
                "(indices 0 .. n - 1, each equally likely)")
    if _n >= 50:
        _unique = np.mean([len(np.unique(ys)) / _n for _, ys in _seen])
        assert_scalar(_unique, 1 - (1 - 1 / _n) ** _n, atol=0.02,
                      name=f"{_label}: average fraction of distinct examples per sample (with replacement: ~63%)")
        _distinct = len({tuple(np.sort(ys)) for _, ys in _seen})
        assert_that(_distinct == _K, f"{_label}: every model needs its own bootstrap sample, got only {_distinct} different ones")
# The bootstrap samples come from rng only.
_X, _y = np.arange(12.0).reshape(12, 1), np.arange(12.0)
assert_seeded(lambda rng: call(bagging_predict, lambda Xs, ys: float(np.mean(ys)), lambda m, Xn: np.full(len(Xn), m),
                               _X, _y, np.zeros((2, 1)), 5, rng), "bagging_predict")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: bagging decision trees.** A fully grown decision tree is the classic
# high-variance model: it carves out a region for every training point. Here are one tree and
# a bag of 50 trees (your `bagging_predict`, with scikit-learn's trees) on 150 noisy two-moons
# points, with the accuracy on 2000 test points.

# %%
X_moons, y_moons = make_moons(n_samples=150, noise=0.35, random_state=0)
X_moons_test, y_moons_test = make_moons(n_samples=2000, noise=0.35, random_state=1)


def fit_tree(X, y):
    return DecisionTreeClassifier(random_state=0).fit(X, y)


def predict_tree(tree, X):
    proba = tree.predict_proba(X)
    return proba[:, 1] if proba.shape[1] == 2 else np.full(len(X), float(tree.classes_[0]))


g0, g1 = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.6, 2.1, 160))
grid = np.column_stack([g0.ravel(), g1.ravel()])
single = fit_tree(X_moons, y_moons)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, (title, proba_grid, proba_test) in zip(axes, [
    ("one tree", predict_tree(single, grid), predict_tree(single, X_moons_test)),
    ("bag of 50 trees", bagging_predict(fit_tree, predict_tree, X_moons, y_moons, grid, 50, np.random.default_rng(0)),
     bagging_predict(fit_tree, predict_tree, X_moons, y_moons, X_moons_test, 50, np.random.default_rng(0))),
], strict=True):
    accuracy = np.mean((proba_test > 0.5) == y_moons_test)
    ax.contourf(g0, g1, proba_grid.reshape(g0.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.scatter(X_moons[:, 0], X_moons[:, 1], c=y_moons, cmap="RdBu_r", edgecolors="k", s=20)
    ax.set_title(f"{title}: test accuracy {accuracy:.3f}", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# The single tree's boundary is a patchwork of thin slivers around individual noisy points;
# the bag's averaged probability is smoother and more accurate on new points. (Averaging
# with the same seed twice gives the same bag: `rng` fixes the bootstrap samples.)

# %% [markdown]
# **Concept check 5.** A bootstrap sample draws $n = 10$ examples with replacement from a
# training set of 10. What is the probability that one particular example is **not** in the
# sample? Set `q5_answer` to that number (three significant digits are enough).

# %% nbgrader="solution" grade_id="q5_bootstrap"
# q5_answer = ...
### BEGIN SOLUTION
q5_answer = 0.9**10
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_bootstrap" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_scalar(q5_answer, name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, 0.9**10, name="q5_answer", rtol=2e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Data augmentation
#
# The best regularizer is more data. When there is no more, we can often manufacture it:
# transform each training image in a way that does **not change its label** — a slightly
# shifted, rotated or noisy "3" is still a "3" — and train on a fresh random variant in every
# epoch. The network then has to become insensitive to those transformations instead of
# memorising the exact pixels.
#
# All augmentations below take a batch `x` of shape `(N, C, H, W)` and a generator, return a
# **new** array of the same shape (never modify `x`: it is the training set!) and transform
# every image **independently** (each gets its own random choice). The labels are untouched,
# so the caller keeps using `y`.
#
# **Flip and crop.** `random_flip` mirrors each image left–right (the last axis) with
# probability $p$. `random_crop` pads each image with `pad` zeros on all four sides (to
# $(H + 2\,\text{pad}) \times (W + 2\,\text{pad})$) and cuts out an $H \times W$ window at a
# random offset — each of the $(2\,\text{pad}+1)^2$ offsets equally likely, per image. The
# effect is a random shift by up to `pad` pixels, with zeros filling in.

# %% nbgrader="solution" grade_id="flip_and_crop" export=true
def random_flip(x, rng, p=0.5):
    """Mirror each image left-right with probability p (independently per image).

    Args:
        x: float array (N, C, H, W); not modified.
        rng: numpy Generator.
        p: float in [0, 1].

    Returns:
        float array (N, C, H, W): image n is x[n, :, :, ::-1] (flipped) or x[n] (as is).
    """
    ### BEGIN SOLUTION
    flip = rng.random(len(x)) < p
    out = np.array(x, dtype=float, copy=True)
    out[flip] = out[flip][..., ::-1]
    return out
    ### END SOLUTION


def random_crop(x, rng, pad):
    """Zero-pad by `pad` pixels on every side and crop a random H x W window per image.

    Args:
        x: float array (N, C, H, W); not modified.
        rng: numpy Generator; each image gets its own row and column offset, each uniform
            in {0, 1, ..., 2 * pad}.
        pad: int >= 0.

    Returns:
        float array (N, C, H, W).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    padded = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    offsets = rng.integers(0, 2 * pad + 1, size=(N, 2))
    out = np.empty((N, C, H, W))
    for n, (i, j) in enumerate(offsets):
        out[n] = padded[n, :, i:i + H, j:j + W]
    return out
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_flip_and_crop" points=3
_x = np.arange(2 * 1 * 2 * 3, dtype=float).reshape(2, 1, 2, 3)
_out = call(random_flip, _x, np.random.default_rng(0), p=1.0)
assert_close(_out, _x[..., ::-1], name="random_flip(x, p=1) (every image mirrored left-right)")
assert_close(call(random_flip, _x, np.random.default_rng(0), p=0.0), _x, name="random_flip(x, p=0) (unchanged)")
assert_close(call(random_crop, np.zeros((2, 1, 3, 3)), np.random.default_rng(0), 1), np.zeros((2, 1, 3, 3)),
             name="random_crop(zeros (2, 1, 3, 3), pad=1)")
_x = np.ones((1, 1, 3, 3))
_out = np.asarray(call(random_crop, _x, np.random.default_rng(0), 1))
assert_shape(_out, (1, 1, 3, 3), name="random_crop(ones (1, 1, 3, 3), pad=1)")
_windows = {(i, j): np.pad(_x, ((0, 0), (0, 0), (1, 1), (1, 1)))[..., i:i + 3, j:j + 3] for i in range(3) for j in range(3)}
assert_that(any(np.array_equal(_out, w) for w in _windows.values()),
            f"random_crop(ones, pad=1) should be a 3x3 window of the zero-padded image, got\n{_out[0, 0]}")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(406)
# Labels: the caller keeps using y, so image n of the output must come from image n of the input. In this
# batch every pixel of image n equals n + 1; a flip keeps the values, a crop only adds zeros (padding).
_x0 = np.broadcast_to(np.arange(1.0, 41.0)[:, None, None, None], (40, 2, 5, 6))
for _label, _fn, _arg, _zeros_ok in [("random_flip(p=0.5)", random_flip, 0.5, False),
                                     ("random_crop(pad=1)", random_crop, 1, True)]:
    _out = np.asarray(call(_fn, _x0.copy(), np.random.default_rng(7), _arg), dtype=float)
    assert_shape(_out, _x0.shape, name=f"{_label} on x (40, 2, 5, 6)")
    _own = np.isclose(_out, _x0) | ((_out == 0) & _zeros_ok)
    _wrong = np.flatnonzero(~np.all(_own, axis=(1, 2, 3)) | ~np.any(np.isclose(_out, _x0), axis=(1, 2, 3)))
    _n = int(_wrong[0]) if _wrong.size else 0
    _from = sorted({int(v) - 1 for v in np.unique(np.round(_out[_n])) if v > 0})
    assert_that(_wrong.size == 0, f"{_label}: image n of the output must come from image n of the input, or the "
                f"labels no longer match; expected output image {_n} to come from input image {_n}, got the pixels "
                f"of input image(s) {_from[:5]} ({_wrong.size} of 40 images are out of place)")
# Flip: each image is either itself or torch.flip of itself; the flips are independent per image.
_x = _rng.normal(size=(600, 2, 5, 4))
_flipped_t = _torch.flip(_torch.tensor(_x), dims=[-1]).numpy()
for _p in (0.3, 0.5, 0.9):
    _out = np.asarray(call(random_flip, _x, np.random.default_rng(int(10 * _p)), _p))
    assert_shape(_out, _x.shape, name=f"random_flip(x (600, 2, 5, 4), p={_p})")
    _is_flip = np.all(np.isclose(_out, _flipped_t), axis=(1, 2, 3))
    _is_same = np.all(np.isclose(_out, _x), axis=(1, 2, 3))
    assert_that(np.all(_is_flip | _is_same), f"random_flip(p={_p}): every image must be itself or its left-right "
                f"mirror (torch.flip(x, dims=[-1])); {int(np.sum(~(_is_flip | _is_same)))} images are neither")
    assert_scalar(np.mean(_is_flip), _p, atol=0.06, name=f"fraction of flipped images with p={_p}")
_o1 = np.asarray(call(random_flip, _x[:40], np.random.default_rng(1), 0.5))
_n_flipped = int(np.sum(np.all(np.isclose(_o1, _flipped_t[:40]), axis=(1, 2, 3))))
assert_that(0 < _n_flipped < 40, f"random_flip(p=0.5) on 40 images flipped {_n_flipped}: decide per image, not per batch")
# Crop: each output is one of the (2 pad + 1)^2 windows of the zero-padded image; all offsets occur.
for _pad, _shape in [(1, (400, 1, 8, 8)), (2, (600, 3, 5, 6)), (0, (5, 2, 4, 4))]:
    _x = _rng.normal(size=_shape) + 5.0
    _out = np.asarray(call(random_crop, _x, np.random.default_rng(_pad), _pad))
    _label = f"random_crop(x {_shape}, pad={_pad})"
    assert_shape(_out, _shape, name=_label)
    _padded = np.pad(_x, ((0, 0), (0, 0), (_pad, _pad), (_pad, _pad)))
    _H, _W = _shape[2], _shape[3]
    _found = np.full(len(_x), -1)
    for _k, (_i, _j) in enumerate([(i, j) for i in range(2 * _pad + 1) for j in range(2 * _pad + 1)]):
        _match = np.all(np.isclose(_out, _padded[..., _i:_i + _H, _j:_j + _W]), axis=(1, 2, 3))
        _found[_match & (_found < 0)] = _k
    assert_that(np.all(_found >= 0), f"{_label}: {int(np.sum(_found < 0))} images are not an H x W window of the "
                "zero-padded image (the same window for all channels)")
    _counts = np.bincount(_found, minlength=(2 * _pad + 1) ** 2)
    assert_that(np.all(_counts > 0), f"{_label}: the {(2 * _pad + 1) ** 2} offsets should all occur, counts {_counts.tolist()}")
    if _pad:
        _expected = len(_x) / (2 * _pad + 1) ** 2
        assert_that(np.all(np.abs(_counts - _expected) < 0.5 * _expected),
                    f"{_label}: offsets should be uniform, counts {_counts.tolist()} (expected ~{_expected:.0f} each)")
# Every random choice comes from rng only.
_x = _rng.normal(size=(30, 1, 4, 4))
assert_seeded(lambda rng: call(random_flip, _x, rng, 0.5), "random_flip")
assert_seeded(lambda rng: call(random_crop, _x, rng, 1), "random_crop")
### END HIDDEN TESTS

# %% [markdown]
# **Affine transformations.** Rotations, scalings and shears are *affine* maps. To transform
# an image we go **backwards**: for every output pixel $\mathbf q = (r, c)$ we ask where it
# comes from in the input,
#
# $$\mathbf s = A\,(\mathbf q - \mathbf m) + \mathbf m + \mathbf t, \qquad
#   \mathbf m = \big(\tfrac{H-1}{2}, \tfrac{W-1}{2}\big),$$
#
# with a $2 \times 2$ matrix $A$ acting around the image centre $\mathbf m$ and a shift
# $\mathbf t$ (coordinates are (row, column)). $\mathbf s$ is usually not on the pixel grid, so
# we **interpolate bilinearly** between its four neighbours $(\lfloor s_r\rfloor + a,
# \lfloor s_c\rfloor + b)$, $a, b \in \{0, 1\}$, with weights $(1 - |s_r - r'|)(1 - |s_c - c'|)$;
# a neighbour outside the image contributes 0 (zero padding). Going backwards guarantees that
# every output pixel gets a value (going forwards would leave holes). For example, $A = I$ and
# $\mathbf t = (0, 1)$ makes output pixel $(r, c)$ read input pixel $(r, c + 1)$: the image
# moves one pixel to the **left**. This is what `scipy.ndimage.affine_transform` computes with
# `order=1, mode="grid-constant"`.

# %% nbgrader="solution" grade_id="affine" export=true
def affine_warp(x, matrices, offsets):
    """Backward affine warp with bilinear interpolation and zeros outside the image.

    Output pixel (r, c) of image n samples image n at
        s = matrices[n] @ ((r, c) - m) + m + offsets[n],   m = ((H - 1) / 2, (W - 1) / 2),
    (row, column coordinates), interpolating bilinearly between the four neighbouring
    pixels; neighbours outside the image count as 0. All channels use the same map.

    Args:
        x: float array (N, C, H, W); not modified.
        matrices: float array (N, 2, 2).
        offsets: float array (N, 2).

    Returns:
        float64 array (N, C, H, W).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    x = np.asarray(x, dtype=float)
    center = np.array([(H - 1) / 2.0, (W - 1) / 2.0])
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    grid = np.stack([rows.ravel(), cols.ravel()]).astype(float) - center[:, None]  # (2, H*W)
    src = np.asarray(matrices, dtype=float) @ grid + (center + np.asarray(offsets, dtype=float))[:, :, None]
    r0, c0 = np.floor(src[:, 0]).astype(int), np.floor(src[:, 1]).astype(int)  # (N, H*W)
    out = np.zeros((N, C, H * W))
    images = np.arange(N)[:, None]
    for rr in (r0, r0 + 1):
        for cc in (c0, c0 + 1):
            weight = (1.0 - np.abs(src[:, 0] - rr)) * (1.0 - np.abs(src[:, 1] - cc))
            inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)
            values = x[images, :, np.clip(rr, 0, H - 1), np.clip(cc, 0, W - 1)]  # (N, H*W, C)
            out += (np.where(inside, weight, 0.0)[:, :, None] * values).transpose(0, 2, 1)
    return out.reshape(N, C, H, W)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_affine" points=4
_x = np.arange(12, dtype=float).reshape(1, 1, 3, 4)
_eye, _zero = np.eye(2)[None], np.zeros((1, 2))
assert_close(call(affine_warp, _x, _eye, _zero), _x, name="affine_warp with A = I, t = 0 (identity)")
_out = call(affine_warp, _x, _eye, np.array([[0.0, 1.0]]))
assert_close(_out, [[[[1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0]]]], name="affine_warp with t = (0, 1) (one pixel left, zeros enter)")
_out = call(affine_warp, _x, _eye, np.array([[0.0, 0.5]]))
assert_close(_out[0, 0, 0], [0.5, 1.5, 2.5, 1.5], name="first row of affine_warp with t = (0, 0.5) (bilinear)")
# A rotation by 180 degrees about the centre turns the image upside down and left-right.
_out = call(affine_warp, _x, -_eye, _zero)
assert_close(_out, _x[..., ::-1, ::-1], atol=1e-12, name="affine_warp with A = -I (rotation by 180 degrees)")
### BEGIN HIDDEN TESTS
from scipy import ndimage as _ndimage


def _scipy_warp(x, matrices, offsets):
    H, W = x.shape[2:]
    m = np.array([(H - 1) / 2.0, (W - 1) / 2.0])
    return np.stack([np.stack([_ndimage.affine_transform(img, A, offset=m - A @ m + t, order=1, mode="grid-constant",
                                                         cval=0.0) for img in imgs])
                     for imgs, A, t in zip(x, matrices, offsets, strict=True)])


_rng = np.random.default_rng(407)
for _shape in [(1, 1, 8, 8), (5, 3, 7, 9), (4, 1, 1, 5), (3, 2, 6, 1), (8, 1, 8, 8)]:
    _N = _shape[0]
    _x = _rng.normal(size=_shape)
    _angles = _rng.uniform(-np.pi, np.pi, _N)
    _scales = _rng.uniform(0.6, 1.4, (_N, 2))
    _shear = _rng.uniform(-0.3, 0.3, _N)
    _mats = np.stack([np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[s[0], h], [0.0, s[1]]])
                      for a, s, h in zip(_angles, _scales, _shear, strict=True)])
    _offs = _rng.uniform(-2.5, 2.5, (_N, 2))
    _label = f"affine_warp(x {_shape}, random rotations/scalings/shears, shifts)"
    _out = call(affine_warp, _x, _mats, _offs)
    assert_shape(_out, _shape, name=_label)
    assert_close(_out, _scipy_warp(_x, _mats, _offs), rtol=1e-9, atol=1e-12,
                 name=f"{_label} (scipy.ndimage.affine_transform, order=1, mode='grid-constant')")
# Integer shifts move the pixels exactly; shifting far away leaves zeros.
_x = _rng.normal(size=(2, 1, 6, 6))
_out = call(affine_warp, _x, np.stack([np.eye(2)] * 2), np.array([[2.0, -1.0], [10.0, 0.0]]))
_expected = np.zeros((6, 6))
_expected[:4, 1:] = _x[0, 0, 2:, :5]
assert_close(_out[0, 0], _expected, atol=1e-12, name="affine_warp with the shift t = (2, -1)")
assert_close(_out[1, 0], np.zeros((6, 6)), atol=1e-12, name="affine_warp with the shift t = (10, 0) (all outside: zeros)")
### END HIDDEN TESTS

# %% [markdown]
# A random affine augmentation (given) draws, per image, a rotation angle, a scale and a
# shift, and calls your `affine_warp`:

# %%
def random_affine(x, rng, max_degrees=12.0, max_scale=0.1, max_shift=0.7):
    """Random rotation (±max_degrees), scaling (1 ± max_scale) and shift (±max_shift px) per image."""
    n = len(x)
    angles = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    scales = 1.0 + rng.uniform(-max_scale, max_scale, n)
    cos, sin = np.cos(angles) / scales, np.sin(angles) / scales
    matrices = np.stack([np.stack([cos, -sin], axis=1), np.stack([sin, cos], axis=1)], axis=1)
    return affine_warp(x, matrices, rng.uniform(-max_shift, max_shift, (n, 2)))


# %% [markdown]
# **Noise and cutout.** `add_gaussian_noise` adds independent $\mathcal N(0, \sigma^2)$ noise
# to every pixel. `cutout` hides a random square: for each image draw a centre pixel
# $(c_r, c_c)$ uniformly among all $H \times W$ pixels and set the rows
# $c_r - \lfloor s/2 \rfloor, \dots, c_r - \lfloor s/2 \rfloor + s - 1$ and the same range of
# columns around $c_c$ to 0, in all channels; the parts of the square that fall outside the
# image are simply dropped (so squares at the border are smaller). The network then cannot rely
# on any single region of the image.

# %% nbgrader="solution" grade_id="noise_and_cutout" export=true
def add_gaussian_noise(x, rng, sigma):
    """x plus independent N(0, sigma^2) noise on every entry (a new float64 array).

    Args: x: float array (N, C, H, W), not modified; rng: numpy Generator; sigma: float >= 0.
    """
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=float) + sigma * rng.standard_normal(np.shape(x))
    ### END SOLUTION


def cutout(x, rng, size):
    """Zero a size x size square (clipped at the borders) around a random pixel of each image.

    Args:
        x: float array (N, C, H, W); not modified.
        rng: numpy Generator; each image gets its own centre (row, column), uniform over
            the H x W pixels.
        size: int >= 1.

    Returns:
        float64 array (N, C, H, W): a copy of x with, in image n, rows
        r0 .. r0 + size - 1 and columns c0 .. c0 + size - 1 (those inside the image) set to 0
        in all channels, where r0 = centre_row - size // 2 and c0 = centre_col - size // 2.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    out = np.array(x, dtype=float, copy=True)
    centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])
    for n, (cr, cc) in enumerate(centres):
        r0, c0 = cr - size // 2, cc - size // 2
        out[n, :, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
    return out
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_noise_and_cutout" points=3
_x = np.ones((50, 2, 10, 10))
assert_close(call(add_gaussian_noise, _x, np.random.default_rng(0), 0.0), _x, name="add_gaussian_noise(x, sigma=0)")
_out = call(add_gaussian_noise, _x, np.random.default_rng(0), 0.5)
assert_shape(_out, (50, 2, 10, 10), name="add_gaussian_noise(ones (50, 2, 10, 10), sigma=0.5)")
assert_scalar(np.std(np.asarray(_out) - _x), 0.5, rtol=0.05, name="standard deviation of the added noise (sigma=0.5)")
assert_close(call(cutout, np.zeros((2, 1, 4, 4)), np.random.default_rng(0), 2), np.zeros((2, 1, 4, 4)),
             name="cutout(zeros (2, 1, 4, 4), size=2)")
_out = np.asarray(call(cutout, np.ones((1, 3, 9, 9)), np.random.default_rng(0), 3))
assert_shape(_out, (1, 3, 9, 9), name="cutout(ones (1, 3, 9, 9), size=3)")
_zeros = _out[0] == 0
assert_that(np.array_equal(_zeros[0], _zeros[1]) and np.array_equal(_zeros[0], _zeros[2]),
            "cutout: the square must be the same in all channels")
assert_that(1 <= _zeros[0].sum() <= 9, f"cutout(size=3) should zero at most 3 x 3 pixels, zeroed {_zeros[0].sum()}")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(408)
# Labels: the caller keeps using y, so image n of the output must come from image n of the input. In this
# batch every pixel of image n equals n + 1; cutout only adds zeros.
_x = np.broadcast_to(np.arange(1.0, 41.0)[:, None, None, None], (40, 2, 6, 6)).copy()
_out = np.asarray(call(cutout, _x, np.random.default_rng(7), 2), dtype=float)
assert_shape(_out, _x.shape, name="cutout(x (40, 2, 6, 6), size=2)")
_wrong = np.flatnonzero(~np.all(np.isclose(_out, _x) | (_out == 0), axis=(1, 2, 3))
                        | ~np.any(np.isclose(_out, _x), axis=(1, 2, 3)))
_n = int(_wrong[0]) if _wrong.size else 0
_from = sorted({int(v) - 1 for v in np.unique(np.round(_out[_n])) if v > 0})
assert_that(_wrong.size == 0, "cutout(size=2): image n of the output must come from image n of the input, or the "
            f"labels no longer match; expected output image {_n} to come from input image {_n}, got the pixels of "
            f"input image(s) {_from[:5]} ({_wrong.size} of 40 images are out of place)")
# Noise: mean 0, the right spread, independent across pixels and images, x unchanged.
for _sigma in (0.1, 1.0, 3.0):
    _x = _rng.normal(size=(300, 2, 6, 6))
    _noise = np.asarray(call(add_gaussian_noise, _x, np.random.default_rng(int(_sigma * 10)), _sigma)) - _x
    _label = f"add_gaussian_noise(sigma={_sigma})"
    assert_scalar(np.mean(_noise), 0.0, atol=0.02 * _sigma, name=f"mean of the noise of {_label}")
    assert_scalar(np.std(_noise), _sigma, rtol=0.03, name=f"standard deviation of the noise of {_label}")
    assert_scalar(np.mean(np.abs(_noise) > 2.0 * _sigma), 0.0455, atol=0.008,
                  name=f"fraction of the noise of {_label} beyond 2 sigma (Gaussian: 0.0455)")
    _flat = _noise.reshape(300, -1)
    assert_scalar(np.corrcoef(_flat[:-1].ravel(), _flat[1:].ravel())[0, 1], 0.0, atol=0.03,
                  name=f"correlation of the noise of neighbouring images in {_label} (must be independent)")
assert_close(call(add_gaussian_noise, np.ones((2, 1, 3, 3)), np.random.default_rng(0), 0.0), np.ones((2, 1, 3, 3)),
             name="add_gaussian_noise with sigma=0")
# Cutout: one clipped square per image, same in all channels, everything else untouched.
for _size, _shape in [(3, (800, 2, 8, 8)), (4, (800, 1, 7, 9)), (1, (300, 3, 5, 5)), (5, (500, 1, 6, 6))]:
    _N, _C, _H, _W = _shape
    _x = _rng.uniform(1.0, 2.0, size=_shape)
    _label = f"cutout(x {_shape}, size={_size})"
    _out = np.asarray(call(cutout, _x, np.random.default_rng(_size), _size))
    assert_shape(_out, _shape, name=_label)
    _zero = _out == 0
    assert_that(np.all(_zero == _zero[:, :1]), f"{_label}: the square must be the same in all channels")
    assert_that(np.all((_out == _x) | _zero), f"{_label}: pixels outside the square must keep their values")
    _centres = []
    for _n in range(_N):
        _rows, _cols = np.nonzero(_zero[_n, 0])
        assert_that(_rows.size > 0, f"{_label}: image {_n} has no zeroed pixels (every image needs a square)")
        _r0, _r1, _c0, _c1 = _rows.min(), _rows.max(), _cols.min(), _cols.max()
        assert_that(_zero[_n, 0, _r0:_r1 + 1, _c0:_c1 + 1].all() and _rows.size == (_r1 - _r0 + 1) * (_c1 - _c0 + 1),
                    f"{_label}: the zeroed pixels of image {_n} do not form one rectangle")
        assert_that(_r1 - _r0 + 1 <= _size and _c1 - _c0 + 1 <= _size,
                    f"{_label}: image {_n} has a zeroed {_r1 - _r0 + 1} x {_c1 - _c0 + 1} region, larger than {_size} x {_size}")
        _full_r, _full_c = (_r1 - _r0 + 1 == _size), (_c1 - _c0 + 1 == _size)
        _cr = _r0 + _size // 2 if (_full_r or _r0 > 0) else _r1 - (_size - 1 - _size // 2)
        _cc = _c0 + _size // 2 if (_full_c or _c0 > 0) else _c1 - (_size - 1 - _size // 2)
        _centres.append((_cr, _cc))
    _centres = np.array(_centres)
    _counts = np.zeros((_H, _W))
    np.add.at(_counts, (np.clip(_centres[:, 0], 0, _H - 1), np.clip(_centres[:, 1], 0, _W - 1)), 1)
    assert_that(np.all(_counts > 0), f"{_label}: over {_N} images every pixel should be a centre at least once "
                f"(uniform centres, squares at the border clipped); never: {np.argwhere(_counts == 0)[:4].tolist()}")
# Every random number comes from rng only.
_x = _rng.uniform(1.0, 2.0, size=(20, 2, 6, 6))
assert_seeded(lambda rng: call(add_gaussian_noise, _x, rng, 0.3), "add_gaussian_noise")
assert_seeded(lambda rng: call(cutout, _x, rng, 3), "cutout")
### END HIDDEN TESTS

# %% [markdown]
# **Local filters and colour.** Cameras differ in focus and sharpness, and the light changes
# how bright an image is and how strong its contrast. Both give further label-preserving
# transformations.
#
# A **local filter** replaces every pixel by a weighted sum of its $3 \times 3$ neighbourhood;
# the $3 \times 3$ array of weights is the *kernel*. The Gaussian blur kernel
# $\frac1{16}\begin{psmallmatrix}1&2&1\\2&4&2\\1&2&1\end{psmallmatrix}$ averages a pixel with
# its neighbours; the sharpen kernel
# $\begin{psmallmatrix}0&-1&0\\-1&5&-1\\0&-1&0\end{psmallmatrix}$ amplifies the difference
# between a pixel and its neighbours. The entries of both sum to 1, so a region of constant
# brightness stays as it is. For augmentation we draw a random strength $a$ per image and use
# $x + a\,(x - \operatorname{blur}(x))$: $a < 0$ blurs ($a = -1$ gives the blurred image),
# $a > 0$ sharpens (known as *unsharp masking*). The filter code is given; chapter 06 turns
# such kernels into learnable convolutions.
#
# **Brightness and contrast** act on each image as a whole. With $m_n$ the mean of image $n$
# (over all its channels and pixels), draw a brightness shift $b_n$ uniform in
# $[-b_{\max}, b_{\max}]$ and a contrast factor $c_n$ uniform in $[1 - c_{\max}, 1 + c_{\max}]$,
# and set
#
# $$\text{out}_n = c_n\,(x_n - m_n) + m_n + b_n .$$
#
# The contrast stretches or squeezes the image around its own mean (a factor below 1 makes it
# fainter), the brightness moves all of its pixels up or down. (torchvision's `ColorJitter`
# multiplies by a brightness factor instead of adding a shift, and for colour images also
# changes saturation and hue.)

# %%
BLUR_KERNEL = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16.0
SHARPEN_KERNEL = np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])


def filter_images(x, kernel):
    """Filter every channel of every image with a k x k kernel (k odd), zero padding, same size.

    out[n, c, i, j] = sum over a, b of kernel[a, b] * x[n, c, i + a - k // 2, j + b - k // 2].
    """
    k = len(kernel)
    H, W = x.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    out = np.zeros(x.shape)
    for a in range(k):
        for b in range(k):
            out += kernel[a, b] * padded[:, :, a:a + H, b:b + W]
    return out


def random_blur_sharpen(x, rng, max_strength=1.0):
    """x + a * (x - blur(x)) with a uniform in [-max_strength, max_strength], per image."""
    a = rng.uniform(-max_strength, max_strength, len(x))[:, None, None, None]
    return x + a * (x - filter_images(x, BLUR_KERNEL))


# %% nbgrader="solution" grade_id="brightness_contrast" export=true
def brightness_contrast(x, rng, max_brightness, max_contrast):
    """Random brightness and contrast, drawn independently for every image.

    For image n draw b_n uniform in [-max_brightness, max_brightness] and c_n uniform in
    [1 - max_contrast, 1 + max_contrast]; with m_n the mean of image n over all its channels
    and pixels, out[n] = c_n * (x[n] - m_n) + m_n + b_n. No clipping.

    Args:
        x: float array (N, C, H, W); not modified.
        rng: numpy Generator, the only source of randomness.
        max_brightness: float >= 0.
        max_contrast: float in [0, 1].

    Returns:
        float64 array (N, C, H, W).
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    n = len(x)
    shift = rng.uniform(-max_brightness, max_brightness, n)[:, None, None, None]
    factor = rng.uniform(1.0 - max_contrast, 1.0 + max_contrast, n)[:, None, None, None]
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return factor * (x - mean) + mean + shift
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_brightness_contrast" points=3
def _recover(x, out):
    """The brightness shift b_n and contrast factor c_n that turn image n of x into image n of out."""
    x, out = np.asarray(x, dtype=float), np.asarray(out, dtype=float)
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    centred = x - m
    factor = np.sum(centred * (out - out.mean(axis=(1, 2, 3), keepdims=True)), axis=(1, 2, 3)) / np.sum(
        centred**2, axis=(1, 2, 3))
    shift = out.mean(axis=(1, 2, 3)) - m[:, 0, 0, 0]
    residual = out - (factor[:, None, None, None] * centred + m + shift[:, None, None, None])
    return shift, factor, np.max(np.abs(residual))


_x = np.array([[[[0.0, 0.2], [0.4, 0.6]]], [[[1.0, 1.0], [0.5, 0.0]]]])  # (2, 1, 2, 2), means 0.3 and 0.625
_out = call(brightness_contrast, _x, np.random.default_rng(0), 0.0, 0.0)
assert_close(_out, _x, name="brightness_contrast(x, max_brightness=0, max_contrast=0) (unchanged)")
_out = call(brightness_contrast, _x, np.random.default_rng(0), 0.2, 0.0)
assert_shape(_out, _x.shape, name="brightness_contrast(x (2, 1, 2, 2), 0.2, 0.0)")
_shift = (np.asarray(_out) - _x).reshape(2, -1)
assert_that(np.allclose(_shift, _shift[:, :1]) and np.all(np.abs(_shift) <= 0.2),
            f"brightness_contrast(x, 0.2, 0.0): every pixel of an image should move by the same b in [-0.2, 0.2], "
            f"got the changes {np.round(_shift, 4).tolist()}")
_out = call(brightness_contrast, _x, np.random.default_rng(0), 0.0, 0.5)
assert_close(np.asarray(_out).mean(axis=(1, 2, 3)), _x.mean(axis=(1, 2, 3)),
             name="image means after brightness_contrast(x, 0.0, 0.5) (contrast works around each image's own mean)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(409)
# Images with very different means (0 .. 10) and values outside [0, 1]; channels with different means.
for _shape, _b_max, _c_max in [((400, 1, 5, 6), 0.1, 0.5), ((400, 3, 4, 4), 2.0, 0.05), ((1, 2, 3, 5), 0.5, 0.3),
                               ((300, 2, 1, 7), 0.0, 0.9), ((300, 1, 3, 3), 1.5, 0.0)]:
    _x = _rng.normal(size=_shape) + _rng.uniform(0.0, 10.0, (_shape[0], 1, 1, 1)) + np.arange(_shape[1])[:, None, None]
    _label = f"brightness_contrast(x {_shape}, max_brightness={_b_max}, max_contrast={_c_max})"
    _out = call(brightness_contrast, _x, np.random.default_rng(int(10 * _b_max + 100 * _c_max)), _b_max, _c_max)
    assert_shape(_out, _shape, name=_label)
    assert_that(np.asarray(_out).dtype == np.float64, f"{_label}: expected float64 values, got dtype "
                f"{np.asarray(_out).dtype} (keep the computation in float64)")
    _shift, _factor, _residual = _recover(_x, _out)
    assert_that(_residual < 1e-9, f"{_label}: image n must be c_n * (x[n] - m_n) + m_n + b_n with m_n the mean of the "
                f"whole image (all channels), one b_n and one c_n per image, no clipping; off by up to {_residual:.3g}")
    assert_that(np.all(np.abs(_shift) <= _b_max + 1e-12),
                f"{_label}: brightness shifts should lie in [-{_b_max}, {_b_max}], found {np.max(np.abs(_shift)):.4g}")
    assert_that(np.all(np.abs(_factor - 1.0) <= _c_max + 1e-9), f"{_label}: contrast factors should lie in "
                f"[{1 - _c_max:g}, {1 + _c_max:g}], found {np.min(_factor):.4g} .. {np.max(_factor):.4g}")
    if _shape[0] >= 300:
        for _what, _values, _half in [("brightness shifts", _shift, _b_max), ("contrast factors - 1", _factor - 1, _c_max)]:
            if _half > 0:
                assert_scalar(np.std(_values), _half / np.sqrt(3.0), rtol=0.12,
                              name=f"spread of the {_what} of {_label} (uniform in [-{_half}, {_half}])")
                assert_scalar(np.mean(_values), 0.0, atol=0.1 * _half, name=f"mean of the {_what} of {_label}")
                assert_scalar(np.corrcoef(_values[:-1], _values[1:])[0, 1], 0.0, atol=0.2,
                              name=f"correlation of the {_what} of neighbouring images in {_label} (independent)")
# Every random number comes from rng only.
_x = _rng.normal(size=(10, 2, 3, 3))
assert_seeded(lambda rng: call(brightness_contrast, _x, rng, 0.3, 0.3), "brightness_contrast")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 6.** You train a network that tells **in-focus** photos from **blurred**
# ones (the label says whether the photo is sharp). Which of these augmentations must you
# *not* use, because it can change the label?
#
# - (a) a random left–right flip
# - (b) a random Gaussian blur
# - (c) a random brightness and contrast change
# - (d) a random shift by one or two pixels
#
# Set `q6_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q6_label_preserving"
# q6_answer = "..."
### BEGIN SOLUTION
q6_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q6_label_preserving" points=1
assert_that("q6_answer" in globals(), "q6_answer is not set yet: run its cell after answering")
assert_choice(q6_answer, ["a", "b", "c", "d"], name="q6_answer")
### BEGIN HIDDEN TESTS
assert_answer(q6_answer, "b", name="q6_answer")
### END HIDDEN TESTS

# %% [markdown]
# What each augmentation does to a few training digits, and the combination we will train
# with (rows):

# %%
def augment(x, rng):
    """The augmentation used below: small rotation, scaling and shift, a 2 x 2 cutout, noise."""
    x = random_affine(x, rng, max_degrees=15.0, max_scale=0.1, max_shift=0.5)
    x = cutout(x, rng, size=2)
    return np.clip(add_gaussian_noise(x, rng, 0.05), 0.0, 1.0)


show_rng = np.random.default_rng(5)
originals = X_train[[0, 11, 23, 35, 47, 52, 68, 71, 86, 99]]
rows = {
    "original": lambda x, rng: x,
    "flip": lambda x, rng: random_flip(x, rng, p=1.0),
    "crop, pad 1": lambda x, rng: random_crop(x, rng, pad=1),
    "affine": random_affine,
    "noise 0.1": lambda x, rng: add_gaussian_noise(x, rng, 0.1),
    "cutout 3": lambda x, rng: cutout(x, rng, size=3),
    "blur": lambda x, rng: filter_images(x, BLUR_KERNEL),
    "sharpen": lambda x, rng: filter_images(x, SHARPEN_KERNEL),
    "blur/sharpen": random_blur_sharpen,
    "bright./contrast": lambda x, rng: brightness_contrast(x, rng, 0.3, 0.5),
    "combined": augment,
}
fig, axes = plt.subplots(len(rows), 10, figsize=(9, 9.0))
for r, (name, fn) in enumerate(rows.items()):
    variants = fn(originals, show_rng)
    for col in range(10):
        axes[r, col].imshow(variants[col, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[r, col].set_xticks([])
        axes[r, col].set_yticks([])
    axes[r, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
plt.show()

# %% [markdown]
# The digits in this data set were centred and size-normalised by its makers, and they are
# only $8 \times 8$ pixels: shifting one by a whole pixel (`random_crop`) or hiding $3 \times 3$
# of its 64 pixels already changes it more than real variation does. So the combination we
# train with uses gentle versions: rotations up to 15°, ±10 % scale, shifts up to half a pixel,
# a $2 \times 2$ cutout and a little noise.

# %% [markdown]
# **Written answer 1 (2 points).** `random_flip` is standard for photos of cats and cars, but
# we do not use it for these digits. In two to four sentences: what property must an
# augmentation have, why does a left–right flip violate it here (give an example), and name one
# more augmentation that would be wrong for digits even though it is label-preserving for
# photos. Write your answer in the next cell.

# %% [markdown] nbgrader="answer" grade_id="written_augmentation" points=2
# *Model answer.* An augmentation must keep the label: the transformed input must still be a
# plausible example **of the same class** (from the same data distribution). A cat mirrored is
# still a cat, but a mirrored "2", "3", "4", "5", "7" or "9" is no longer that digit (a flipped
# "3" looks like an "ε") — the network would learn from wrongly labelled, unnatural examples.
# A large rotation is another example: rotating a photo by 20° is harmless, but rotating by
# 180° turns a "6" into a "9" (and vertical flips do the same).

# %% [markdown]
# ## 7. Label smoothing
#
# With one-hot targets the cross-entropy of an example, $-\log p_y$, keeps falling as long as
# the score of the labelled class keeps growing relative to the others: it has no minimum at
# finite scores. A network that can fit its training set is therefore pushed towards ever
# larger scores and ever more confident predictions — for the 25 wrong labels too.
# **Label smoothing** trains towards a softer target instead: a mixture of the one-hot label
# and the uniform distribution over the $K$ classes,
#
# $$t_{k} = (1 - \varepsilon)\,[k = y] + \frac{\varepsilon}{K}, \qquad
#   L = -\frac1N \sum_{i=1}^N \sum_{k=1}^K t_{ik} \log p_{ik}, \qquad
#   \mathbf p_i = \operatorname{softmax}(\mathbf s_i).$$
#
# The labelled class gets $1 - \varepsilon + \varepsilon/K$, every other class $\varepsilon/K$.
# The loss is smallest when $\mathbf p_i = \mathbf t_i$, which needs only a finite score gap
# (for $K = 10$ and $\varepsilon = 0.1$: $\log(0.91 / 0.01) \approx 4.5$). Its gradient has the
# familiar form
#
# $$\frac{\partial L}{\partial s_{ik}} = \frac{p_{ik} - t_{ik}}{N} .$$
#
# This is `torch.nn.functional.cross_entropy(scores, y, label_smoothing=eps)` (the labelled
# class keeps its share $\varepsilon/K$ too; some papers spread $\varepsilon$ over the $K - 1$
# other classes instead). Compute $\log p$ stably, as in chapter 03:
# $\log p_{ik} = s_{ik} - \max_j s_{ij} - \log \sum_j e^{s_{ij} - \max_j s_{ij}}$.

# %% nbgrader="solution" grade_id="label_smoothing" export=true
def label_smoothing_cross_entropy(scores, y, eps):
    """Mean cross-entropy between softmax(scores) and the smoothed targets, and its gradient.

    Targets: t[i, k] = (1 - eps) * (k == y[i]) + eps / K.

    Args:
        scores: float64 array (N, K), any real values (large ones included); not modified.
        y: int array (N,) with values in 0 .. K - 1.
        eps: float in [0, 1]; eps = 0 is the ordinary softmax cross-entropy.

    Returns:
        (loss, dscores): loss a Python float, the mean over the N examples;
        dscores float64 array (N, K), (softmax(scores) - t) / N.
    """
    ### BEGIN SOLUTION
    N, K = scores.shape
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    targets = np.full((N, K), eps / K)
    targets[np.arange(N), y] += 1.0 - eps
    loss = -np.sum(targets * log_probs) / N
    dscores = (np.exp(log_probs) - targets) / N
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_label_smoothing" points=3
def _smoothed_ce(scores, y, eps):
    """Straightforward reference: (loss, dscores), for moderate scores."""
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    t = (1 - eps) * np.eye(scores.shape[1])[y] + eps / scores.shape[1]
    return -np.sum(t * np.log(p)) / len(y), (p - t) / len(y)


_scores = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5], [-1.0, 3.0, 0.0], [0.0, 1.0, 2.0]])
_y = np.array([0, 2, 1, 0])
for _eps in (0.0, 0.3):
    _loss, _dscores = _smoothed_ce(_scores, _y, _eps)  # expected values first
    _out = call(label_smoothing_cross_entropy, _scores, _y, _eps)
    assert_that(isinstance(_out, tuple) and len(_out) == 2, "label_smoothing_cross_entropy must return (loss, dscores)")
    assert_scalar(_out[0], _loss, rtol=1e-6, name=f"loss of label_smoothing_cross_entropy(scores (4, 3), y, eps={_eps})")
    assert_close(_out[1], _dscores, name=f"dscores of label_smoothing_cross_entropy(scores (4, 3), y, eps={_eps})")
# eps = 0 is chapter 03's softmax cross-entropy.
_loss, _dscores = softmax_cross_entropy_loss(_scores, _y)
_out = call(label_smoothing_cross_entropy, _scores, _y, 0.0)
assert_scalar(_out[0], _loss, name="label_smoothing_cross_entropy(scores, y, eps=0) vs softmax_cross_entropy_loss")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(410)
# torch in float64: the value (loosely, then exactly) before the gradient.
for _N, _K, _eps, _scale in [(1, 2, 0.1, 1.0), (8, 10, 0.1, 3.0), (5, 7, 0.3, 1.0), (16, 3, 1.0, 2.0),
                             (3, 5, 0.0, 1.0), (6, 4, 0.05, 1e3), (2, 6, 0.2, 1e4), (40, 10, 0.15, 0.01)]:
    _s = _scale * _rng.normal(size=(_N, _K))
    _yy = _rng.integers(0, _K, _N)
    _st = _torch.tensor(_s, requires_grad=True)
    _ref = _F.cross_entropy(_st, _torch.tensor(_yy), label_smoothing=_eps)
    _ref.backward()
    _label = f"label_smoothing_cross_entropy(scores (N={_N}, K={_K}) of scale {_scale:g}, y, eps={_eps})"
    _out = call(label_smoothing_cross_entropy, _s, _yy, _eps)
    assert_that(isinstance(_out, tuple) and len(_out) == 2, f"{_label} must return (loss, dscores)")
    _loss, _dscores = _out
    assert_scalar(_loss, float(_ref.detach()), rtol=1e-5, name=f"loss of {_label} (torch agrees)")
    assert_close(_dscores, _st.grad.numpy(), rtol=1e-9, atol=1e-15, name=f"dscores of {_label} (torch autograd agrees)")
    assert_scalar(_loss, float(_ref.detach()), rtol=1e-10, name=f"loss of {_label} (torch agrees, float64 precision)")
    assert_that(isinstance(_loss, float), f"{_label}: the loss must be a Python float, got {type(_loss).__name__}")
# Ties: equal scores give p = 1/K everywhere.
_out = call(label_smoothing_cross_entropy, np.zeros((3, 4)), np.array([0, 1, 3]), 0.4)
assert_scalar(_out[0], np.log(4.0), name="loss of label_smoothing_cross_entropy(zeros (3, 4), y, eps=0.4) (= log K)")
assert_close(_out[1], (0.25 - ((1 - 0.4) * np.eye(4)[[0, 1, 3]] + 0.1)) / 3, name="dscores for equal scores")
# Numerical gradient check.
_s = _rng.normal(size=(5, 6))
_yy = _rng.integers(0, 6, 5)
_analytic = np.asarray(call(label_smoothing_cross_entropy, _s, _yy, 0.25)[1], dtype=float)
assert_gradient_close(lambda s: label_smoothing_cross_entropy(s, _yy, 0.25)[0], _s.copy(), _analytic, name="scores")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 7.** With label smoothing, the loss of an example cannot reach 0 any more.
# For $K = 4$ classes and $\varepsilon = 0.2$, what is the smallest value the smoothed
# cross-entropy of one example can take (natural logarithm)? Set `q7_answer` to that number
# (three significant digits are enough).

# %% nbgrader="solution" grade_id="q7_smoothing_minimum"
# q7_answer = ...
### BEGIN SOLUTION
q7_answer = -(0.85 * np.log(0.85) + 3 * 0.05 * np.log(0.05))
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q7_smoothing_minimum" points=1
assert_that("q7_answer" in globals(), "q7_answer is not set yet: run its cell after answering")
assert_scalar(q7_answer, name="q7_answer")
### BEGIN HIDDEN TESTS
assert_answer(q7_answer, 0.5875009311062074, name="q7_answer", rtol=2e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. The cure
#
# Now train the same overfitting network with each regularizer, and with a combination. Every
# run starts from the same weights; the plots show the losses per epoch, the table the
# accuracy of the final weights (for early stopping: the restored ones) on the training set
# (with its wrong labels), the validation set and the test set.

# %%
runs = {
    "L2 penalty λ=0.01": dict(l2=1e-2),
    "weight decay λ=0.01": dict(weight_decay=1e-2),
    "dropout p=0.5": dict(dropout=0.5),
    "label smoothing ε=0.1": dict(smoothing=0.1),
    "augmentation": dict(augment=augment),
    "augmentation + dropout": dict(augment=augment, dropout=0.5),
}
cure = {"none": (baseline_params, baseline), "early stopping": (es_params, es_history)}
cure.update({name: train(**options) for name, options in runs.items()})

fig, (ax_val, ax_train) = plt.subplots(1, 2, figsize=(12, 4))
for name, (_, history) in cure.items():
    ax_val.plot(history["val_loss"], label=name)
    ax_train.semilogy(history["train_loss"], label=name)
ax_val.set(xlabel="epoch", ylabel="validation loss", title="Validation loss", ylim=(0.3, 1.5))
ax_train.set(xlabel="epoch", ylabel="training loss (log)", title="Training loss (on the noisy labels)")
ax_val.legend(fontsize=8)
plt.show()
print(f"{'regularizer':24s} {'train acc':>9s} {'val acc':>8s} {'test acc':>9s}")
for name, (params, _) in cure.items():
    print(f"{name:24s} {evaluate(params, X_train, y_train)[1]:9.3f} {evaluate(params, X_val, y_val)[1]:8.3f} "
          f"{evaluate(params, X_test, y_test)[1]:9.3f}")

# %% [markdown]
# **Reading the results.** Without regularization the validation loss climbs after its early
# minimum while the network memorises the wrong labels (training accuracy 1.0 on labels of
# which a quarter are wrong!). Early stopping does not change the training at all; it keeps the
# weights of the best epoch, before the memorising — cheap and effective, but the network
# learnt only for the few dozen epochs printed in section 3. The L2 penalty and weight decay
# give the same curve — they are the same update — and slow the growth of the weights, so
# memorising takes longer. Dropout slows memorising down more (its training loss stays several
# times higher than without: a thinned network at every step cannot rely on particular units).
# Label smoothing lowers the validation *loss* (its predictions are less over-confident), but
# it does not stop the memorising: the training accuracy is still 1.0 and the validation
# accuracy is no better. It changes how sure the network is, not what it learns — on its own,
# no cure for wrong labels. Augmentation shows every image in a new variant in each epoch, so
# there is no fixed set of pixels to memorise, and it teaches the network the small rotations
# and shifts real digits show; combined with dropout it gives the best validation and test
# accuracy here — while its training accuracy stays well below 1: it does *not* fit the wrong
# labels.

# %% [markdown]
# ## 9. Explore: regularization strength
#
# The explorer trains a small MLP on a noisy two-moons problem, with **your** `l2_penalty`,
# `l1_penalty`, `dropout_forward` and `dropout_backward`. Each setting takes a moment to train
# the first time (it is remembered afterwards). Things to try:
#
# - no penalty, 30 training points: a wiggly boundary around individual points, training
#   accuracy 1, test accuracy much lower. Now increase the L2 λ step by step. Where is the
#   test accuracy best? What happens at λ = 1?
# - L1 instead of L2: look at the weights panel. How many weights are (almost) exactly zero?
# - dropout 0.5 without a penalty; then more training points. When does regularization stop
#   mattering?
#
# (Sliders need a running kernel; they do nothing in a static view of the notebook.)

# %%
reg_explorer = regularization_explorer(ch03, l2_penalty=l2_penalty, l1_penalty=l1_penalty,
                                       dropout_forward=dropout_forward, dropout_backward=dropout_backward,
                                       penalty="L2", lam=0.0, n_train=30)
display(reg_explorer)

# %% [markdown]
# **Written answer 2 (3 points).** Using the results of section 8 and the explorer, answer in
# four to six sentences: (a) Why does L2 regularization of the weights smooth the decision
# boundary, and what happens when λ is too large? (b) Why does early stopping need a
# *validation* set, and what would go wrong if you used the test set for it? (c) Dropout and
# bagging are both described as ensembles. What is averaged in each, and how does inverted
# dropout get the ensemble's prediction at test time without running many networks? Write
# your answer in the next cell.

# %% [markdown] nbgrader="answer" grade_id="written_cure" points=3
# *Model answer.* (a) A sharp, wiggly boundary needs large weights (steep changes of the
# scores for small changes of the input); the penalty makes large weights expensive, so the
# network settles for a smoother function that fits the bulk of the data rather than every
# noisy point. Too large a λ forces nearly all weights to zero: the function becomes almost
# flat (nearly linear or constant) and underfits — training and test accuracy both drop.
# (b) Early stopping chooses a hyperparameter (the number of epochs) by looking at held-out
# data; if that data is the test set, the chosen model's test error is optimistically biased
# and no longer an honest estimate of performance on new data. (c) Bagging averages the
# predictions of separately trained models, each fitted to its own bootstrap sample; dropout
# trains an exponentially large family of sub-networks that share weights, one random
# sub-network per step. Inverted dropout scales the kept units by $1/(1-p)$ during training,
# so the expected activation equals the full network's activation, and at test time the full
# network (no dropout) approximates the average of the ensemble in one pass.

# %% [markdown]
# ## 10. Beyond the U-curve: double descent
#
# Chapter 01's capacity curve and this chapter's baseline tell the classical story: more
# capacity means less training error and, past some point, more test error. Yet modern networks
# have far more parameters than training examples and generalise well. A small experiment
# shows both regimes in one curve.
#
# **Random features.** Each image $\mathbf x$ (centred and scaled to length 1) is mapped to $p$
# features $\boldsymbol\phi(\mathbf x) = \operatorname{ReLU}(V^\top \mathbf x + \mathbf c)$ by a
# *random, fixed* first layer ($V$ of shape $64 \times p$ and $\mathbf c$ drawn once, never
# trained). Only the output weights $W$ ($p \times 10$) are learned, by least squares on the
# one-hot labels of the $n = 100$ training images (their correct labels, this time): a network
# with one hidden layer of width $p$ whose last layer we can fit exactly. For $p < n$ the
# least-squares solution is unique and usually cannot fit all 100 points. For $p \ge n$
# infinitely many $W$ fit them exactly (they *interpolate*), and `np.linalg.lstsq` returns the
# one with the **smallest norm** $\lVert W \rVert$. We sweep $p$ from 10 to 3000 (three draws of
# the random layer, averaged), and compare with ridge regression (λ = 0.1), the L2 penalty of
# section 1 on $W$.

# %%
def random_relu_features(x, V, c):
    """ReLU(x V + c) for images x (N, 1, 8, 8), each image first centred and scaled to length 1."""
    x = x.reshape(len(x), -1)
    x = x - x.mean(axis=1, keepdims=True)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return np.maximum(x @ V + c, 0.0)


n_train = len(X_train)
Y_clean, Y_test = np.eye(10)[labels[train_idx]], np.eye(10)[y_test]  # correct one-hot labels
widths = np.unique(np.concatenate([np.round(np.geomspace(10, 3000, 31)).astype(int), [n_train]]))
fits = {"min-norm least squares": 0.0, "ridge λ = 0.1": 0.1}
dd = {name: {"train": np.zeros((3, len(widths))), "test": np.zeros((3, len(widths))),
             "error": np.zeros((3, len(widths))), "norm": np.zeros((3, len(widths)))} for name in fits}
for seed in range(3):
    feature_rng = np.random.default_rng(100 + seed)
    V, c = feature_rng.normal(size=(64, widths.max())), feature_rng.normal(0.0, 0.3, widths.max())
    F_train, F_test = random_relu_features(X_train, V, c), random_relu_features(X_test, V, c)
    for j, p in enumerate(widths):
        F = F_train[:, :p]
        for name, lam in fits.items():
            if lam == 0:
                W = np.linalg.lstsq(F, Y_clean, rcond=None)[0]  # the minimum-norm solution when p > n
            else:
                W = F.T @ np.linalg.solve(F @ F.T + lam * np.eye(n_train), Y_clean)  # ridge, any p
            scores = F_test[:, :p] @ W
            dd[name]["train"][seed, j] = np.mean(np.sum((F @ W - Y_clean) ** 2, axis=1))
            dd[name]["test"][seed, j] = np.mean(np.sum((scores - Y_test) ** 2, axis=1))
            dd[name]["error"][seed, j] = np.mean(scores.argmax(axis=1) != y_test)
            dd[name]["norm"][seed, j] = np.linalg.norm(W)
dd = {name: {k: v.mean(axis=0) for k, v in curves.items()} for name, curves in dd.items()}

fig, (ax_err, ax_norm) = plt.subplots(1, 2, figsize=(12, 4))
for (name, curves), color in zip(dd.items(), ["C0", "C2"], strict=True):
    ax_err.loglog(widths, curves["test"], "o-", ms=3, color=color, label=f"test, {name}")
    ax_err.loglog(widths, np.maximum(curves["train"], 1e-6), "--", color=color, label=f"training, {name}")
    ax_norm.loglog(widths, curves["norm"], "o-", ms=3, color=color, label=name)
for ax in (ax_err, ax_norm):
    ax.axvline(n_train, color="0.5", ls=":")
    ax.set_xlabel("number of random features p")
ax_err.set(ylabel="mean squared error (one-hot targets)", title="Error (p = n = 100 dotted)", ylim=(1e-3, 300))
ax_norm.set(ylabel="‖W‖", title="Norm of the fitted output weights")
ax_err.legend(fontsize=8)
ax_norm.legend(fontsize=8)
plt.show()

curve = dd["min-norm least squares"]
peak, classical = int(np.argmax(curve["test"])), int(np.argmin(np.where(widths < n_train, curve["test"], np.inf)))
print(f"min-norm least squares: best p < n is p = {widths[classical]} (test MSE {curve['test'][classical]:.3f}, "
      f"error rate {curve['error'][classical]:.3f}); peak at p = {widths[peak]} (test MSE {curve['test'][peak]:.1f}, "
      f"error rate {curve['error'][peak]:.3f}); p = {widths[-1]}: test MSE {curve['test'][-1]:.3f}, "
      f"error rate {curve['error'][-1]:.3f}")
print(f"ridge λ = 0.1 at p = {widths[peak]}: test MSE {dd['ridge λ = 0.1']['test'][peak]:.3f}")

# %% [markdown]
# **Reading the curve.** For a few dozen features the test error behaves classically: it first
# falls, then rises as the fit starts to follow the peculiarities of the 100 training images.
# Near $p = n$ it explodes: there the least-squares fit can just barely pass through every
# training point, and the only way to do that is with enormous weights (right panel) that make
# the function swing wildly between the training points. Past the threshold the test error
# falls **again** — the second descent — and with thousands of features it ends far below the
# best small model. Among the many interpolating solutions, the minimum-norm one gets smoother
# as $p$ grows: choosing the smallest $\lVert W\rVert$ is an *implicit* L2 regularization (it
# is the limit of ridge regression as λ → 0). A little *explicit* L2 (ridge, green) removes
# the peak altogether. Large networks trained by gradient descent show the same effect, in the
# width and also in the number of training epochs: "more parameters" does not simply mean
# "more overfitting".

# %% [markdown]
# **Concept check 8.** Why is the test error of the minimum-norm least-squares fit largest
# near $p = n = 100$ random features?
#
# - (a) with fewer features than training points, the model cannot fit the training set
# - (b) at $p \approx n$ the fit can only just interpolate the training set, and doing so needs
#   huge weights that make the function swing wildly between the training points
# - (c) `np.linalg.lstsq` does not converge when the matrix is square
# - (d) the random features are more strongly correlated when $p = n$
#
# Which explanation is right? Set `q8_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q8_double_descent"
# q8_answer = "..."
### BEGIN SOLUTION
q8_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q8_double_descent" points=1
assert_that("q8_answer" in globals(), "q8_answer is not set yet: run its cell after answering")
assert_choice(q8_answer, ["a", "b", "c", "d"], name="q8_answer")
### BEGIN HIDDEN TESTS
assert_answer(q8_answer, "b", name="q8_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# - Penalties: L2 ($\tfrac\lambda2\lVert w\rVert^2$, gradient $\lambda w$) shrinks all weights;
#   L1 ($\lambda\lVert w\rVert_1$, gradient $\lambda\,\mathrm{sign}(w)$) sets many to zero. For
#   SGD, weight decay $w \leftarrow (1-\eta\lambda)w - \eta g$ is exactly the L2 penalty.
# - Early stopping: keep a *copy* of the best weights, stop after `patience` bad epochs,
#   restore the copy.
# - Inverted dropout: drop with probability $p$, scale the survivors by $1/(1-p)$ in training,
#   do nothing at test time.
# - Bagging: models on bootstrap samples, predictions averaged; it helps high-variance models.
# - Augmentation: label-preserving transformations of the inputs (geometry, noise, cutout, local
#   filters, brightness and contrast), fresh in every epoch, each image independently — the
#   most effective cure when the transformations match what real data varies in.
# - Label smoothing: train towards $(1-\varepsilon)\,\text{one-hot} + \varepsilon/K$; the
#   gradient is $(p - t)/N$; it curbs over-confidence, not memorisation.
# - Double descent: past the interpolation threshold (as many parameters as training points)
#   the test error can fall again; the minimum-norm solution is an implicit L2 regularizer,
#   and explicit L2 removes the peak.
#
# **Next chapter:** optimization — better update rules than plain gradient descent, learning
# rate schedules, initialization and batch normalization.
