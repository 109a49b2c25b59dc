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
# # Chapter 03 — Multi-layer perceptrons, activations and losses
#
# In chapter 02 you built computation graphs and let them compute gradients. This chapter
# zooms in on the pieces such graphs are made of in practice: **layers**. You will write each
# layer as a pair of plain functions — a forward pass and a backward pass — check every one
# against PyTorch, and then stack them into a multi-layer perceptron (MLP) of any depth that
# classifies handwritten digits.
#
# **What you will build** (all in numpy):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `affine_forward`, `affine_backward` | the fully connected layer $XW + b$ |
# | 2 | `relu_*`, `sigmoid_*`, `tanh_*`, `leaky_relu_*`, `elu_*`, `prelu_*`, `maxout_*` | activation functions and their derivatives |
# | 3 | `mse_loss`, `l1_loss`, `bce_with_logits_loss` | regression losses and binary cross-entropy |
# | 4 | `softmax_*`, `log_softmax_*`, `softmax_cross_entropy_loss`, `multiclass_hinge_loss` | multiclass outputs and losses, numerically stable; two-class softmax = sigmoid |
# | 5 | `mlp_forward`, `mlp_backward` | an MLP of any depth |
# | 6 | `permute_hidden_units` | symmetries of parameter space: many weights, one function |
#
# On the way: the **XOR problem** (a linear model cannot, a small MLP can), **universal
# approximation and what depth buys** (a function that a deep network with 2 units per layer
# computes exactly, while one hidden layer needs exponentially many units), an **activation
# explorer** (function, derivative, and how gradients shrink through many layers), a **2-D
# decision-boundary playground** in which you train MLPs live, and an MLP on 8×8 handwritten
# digits that gets at least 97 % of the test digits right.
#
# **You need**: chapter 02 (computation graphs, the chain rule, gradient checking), numpy
# broadcasting and `@`, and the logistic sigmoid.
#
# **Time**: about 4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against PyTorch on random and non-square shapes, with a batch of one
# sample, at ties and kinks, with extreme inputs such as logits of ±1000, and whether your
# functions leave their input arrays unchanged and return float64. Make your code correct in
# general, not just for the visible examples, and do not rename the functions or change their
# arguments.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from helpers.explorers.mlp import activation_explorer, decision_boundary_playground
from helpers.gradcheck import numerical_gradient, numerical_gradient_array
from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_shape,
    assert_that,
    call,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)


# %% [markdown]
# ## 1. One convention for every layer
#
# A network is a chain of layers, and backpropagation visits them twice: forward to compute
# the output, then backward to push $\partial L/\partial(\text{output})$ towards the inputs
# and parameters. In this course every layer is a pair of **pure functions**:
#
# ```python
# out, cache = xxx_forward(x, *params)       # cache: whatever backward will need
# dx, *dparams = xxx_backward(dout, cache)   # dout = dL/d(out), same shape as out
# ```
#
# - `x` always has shape **(N, D)**: a batch of $N$ samples with $D$ features each.
# - `dout` has the shape of `out`; the backward pass returns $\partial L/\partial x$ (shape of
#   `x`) and the gradient of every parameter (shape of that parameter), **in the order
#   `(dx, *dparams)`**; a layer without parameters returns the single array `dx`.
# - The `cache` is opaque to the caller: the forward pass stores in it what the backward pass
#   needs (inputs, parameters, or its own output), so nothing is recomputed.
# - A loss is a function `xxx_loss(scores, y) -> (loss, dscores)`: the scalar loss and its
#   gradient with respect to the scores, in one call.
#
# Stateful pieces (optimizers, batch-norm statistics) come later as small classes; layers stay
# functions. Chapters 04–06 import the functions you write here from a library built from the
# reference solutions, so this convention is used for the rest of the course.
#
# ## 2. The affine (fully connected) layer
#
# An affine layer maps each sample $\mathbf{x}_n \in \mathbb{R}^D$ to
# $\mathbf{W}^\top\mathbf{x}_n + \mathbf{b} \in \mathbb{R}^M$; for the whole batch, with the
# samples as rows of $X \in \mathbb{R}^{N\times D}$:
#
# $$Y = XW + \mathbf{1}_N \mathbf{b}^\top, \qquad W \in \mathbb{R}^{D \times M},\
#   \mathbf{b} \in \mathbb{R}^{M}, \ Y \in \mathbb{R}^{N \times M}.$$
#
# (numpy's broadcasting does the $\mathbf{1}_N \mathbf{b}^\top$ for you: `x @ W + b`.) For the
# backward pass, write $G = \partial L/\partial Y$ (the `dout`). Since
# $Y_{nm} = \sum_d X_{nd} W_{dm} + b_m$, the chain rule gives
#
# $$\frac{\partial L}{\partial X} = G\,W^\top, \qquad
#   \frac{\partial L}{\partial W} = X^\top G, \qquad
#   \frac{\partial L}{\partial \mathbf{b}} = \sum_{n=1}^{N} G_{n,:} .$$
#
# A quick sanity check for all three: each gradient has the shape of the thing it is the
# gradient of, and there is only one way to multiply the available matrices to get that
# shape. The bias is used by *every* sample of the batch (a fan-out of $N$), so its gradient
# is a **sum** over the batch.

# %% nbgrader="solution" grade_id="affine" export=true
def affine_forward(x, W, b):
    """Forward pass of an affine (fully connected) layer: out = x @ W + b.

    Args:
        x: float64 array of shape (N, D), a batch of N inputs.
        W: float64 array of shape (D, M), the weights.
        b: float64 array of shape (M,), the bias.

    Returns:
        out: float64 array of shape (N, M).
        cache: whatever affine_backward needs (for example the tuple (x, W, b)).
    """
    ### BEGIN SOLUTION
    out = x @ W + b
    cache = (x, W, b)
    return out, cache
    ### END SOLUTION


def affine_backward(dout, cache):
    """Backward pass of the affine layer.

    Args:
        dout: float64 array of shape (N, M), the upstream gradient dL/dout.
        cache: the cache returned by affine_forward.

    Returns:
        (dx, dW, db): float64 arrays of shapes (N, D), (D, M) and (M,), the gradients of the
        loss with respect to x, W and b.
    """
    ### BEGIN SOLUTION
    x, W, _ = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_affine" points=4
# Two samples, three inputs, two outputs, computed by hand.
_x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])
_W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
_b = np.array([0.5, -0.5])
_out, _cache = unpack(call(affine_forward, _x, _W, _b), 2, "affine_forward")
assert_shape(_out, (2, 2), name="affine_forward(x (2, 3), W (3, 2), b (2,)): out")
assert_close(_out, [[4.5, -1.5], [1.5, -2.5]], name="affine_forward: out")
_dout = np.array([[1.0, 0.0], [2.0, -1.0]])
_dx, _dW, _db = unpack(call(affine_backward, _dout, _cache), 3, "affine_backward")
assert_shape(_dx, (2, 3), name="affine_backward: dx")
assert_shape(_dW, (3, 2), name="affine_backward: dW")
assert_shape(_db, (2,), name="affine_backward: db (one entry per output unit)")
assert_close(_dx, [[1.0, 0.0, 1.0], [2.0, -1.0, 3.0]], name="affine_backward: dx")
assert_close(_dW, [[1.0, 0.0], [0.0, 1.0], [5.0, -1.0]], name="affine_backward: dW")
assert_close(_db, [3.0, -1.0], name="affine_backward: db (a sum over the batch)")

# Numerical gradients (central differences of your forward pass) on random data.
_rng = np.random.default_rng(0)
_x, _W, _b = _rng.normal(size=(4, 5)), _rng.normal(size=(5, 3)), _rng.normal(size=3)
_dout = _rng.normal(size=(4, 3))
_expected = [numerical_gradient_array(lambda x: affine_forward(x, _W, _b)[0], _x.copy(), _dout),
             numerical_gradient_array(lambda W: affine_forward(_x, W, _b)[0], _W.copy(), _dout),
             numerical_gradient_array(lambda b: affine_forward(_x, _W, b)[0], _b.copy(), _dout)]
_out, _cache = unpack(call(affine_forward, _x, _W, _b), 2, "affine_forward")
_grads = unpack(call(affine_backward, _dout, _cache), 3, "affine_backward")
for _g, _e, _what in zip(_grads, _expected, ["dx", "dW", "db"], strict=True):
    assert_close(_g, _e, rtol=1e-6, atol=1e-8, name=f"affine_backward on x (4, 5), W (5, 3): {_what} "
                 "against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch


def _torch_affine(x, W, b, dout):
    """Output and gradients (dx, dW, db) of x @ W + b by PyTorch's autograd."""
    ts = [_torch.tensor(a, requires_grad=True) for a in (x, W, b)]
    out = ts[0] @ ts[1] + ts[2]
    out.backward(_torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


_rng = np.random.default_rng(301)
for _N, _D, _M in [(1, 1, 1), (1, 7, 3), (5, 1, 4), (6, 4, 1), (8, 5, 3), (32, 20, 10), (3, 9, 9)]:
    for _scale in [1.0, 1e6]:
        _x = _rng.normal(size=(_N, _D)) * 3 * _scale
        _W = _rng.normal(size=(_D, _M))
        _b = _rng.normal(size=_M) * _scale
        _dout = _rng.normal(size=(_N, _M))
        _label = f"affine layer with x ({_N}, {_D}) of size ~{_scale:g}, W ({_D}, {_M}), b ({_M},)"
        _ref_out, _ref_grads = _torch_affine(_x, _W, _b, _dout)
        _out, _cache = unpack(call(affine_forward, _x, _W, _b), 2, "affine_forward")
        assert_close(_out, _ref_out, rtol=1e-10, atol=1e-12 * _scale, name=f"{_label}: out")
        _grads = unpack(call(affine_backward, _dout, _cache), 3, "affine_backward")
        for _g, _e, _what in zip(_grads, _ref_grads, ["dx", "dW", "db"], strict=True):
            assert_close(_g, _e, rtol=1e-10, atol=1e-12 * _scale, name=f"{_label}: {_what}")

# The backward pass must work from the cache alone (not from variables of the notebook).
_x, _W, _b = _rng.normal(size=(2, 3)), _rng.normal(size=(3, 4)), _rng.normal(size=4)
_expected = _x.T @ np.ones((2, 4))
_out, _cache = unpack(call(affine_forward, _x.copy(), _W.copy(), _b.copy()), 2, "affine_forward")
_x[:] = 0.0
_dx, _dW, _db = unpack(call(affine_backward, np.ones((2, 4)), _cache), 3, "affine_backward")
assert_close(_dW, _expected, rtol=1e-12, name="affine_backward: dW computed from the cache")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Activation functions
#
# Two affine layers in a row are just one affine layer:
# $(XW_1 + \mathbf{b}_1)W_2 + \mathbf{b}_2 = X(W_1W_2) + (\mathbf{b}_1 W_2 + \mathbf{b}_2)$.
# Depth only helps with a **nonlinear** function between the layers, applied element by
# element. All activations in this section are element-wise, so their backward pass is
# `dx = dout * f'(x)` — the upstream gradient times the local derivative, entry by entry.
#
# **ReLU.** The rectified linear unit $\mathrm{ReLU}(x) = \max(0, x)$ is the default choice for
# hidden layers: it is cheap, and for $x > 0$ its derivative is exactly 1, so gradients pass
# through unchanged. At $x = 0$ the function has a kink and no derivative; any value in
# $[0, 1]$ is a valid subgradient. **Convention in this course (and in PyTorch): the
# derivative at exactly 0 is 0** — a unit counts as active only for $x > 0$.

# %% nbgrader="solution" grade_id="relu" export=true
def relu_forward(x):
    """Forward pass of the ReLU, max(0, x) element-wise.

    Args:
        x: float64 array of shape (N, D) (any shape works).

    Returns:
        out: float64 array of the shape of x.
        cache: whatever relu_backward needs. Do not modify x.
    """
    ### BEGIN SOLUTION
    out = np.maximum(x, 0.0)
    return out, x
    ### END SOLUTION


def relu_backward(dout, cache):
    """Backward pass of the ReLU.

    Args:
        dout: float64 array, the upstream gradient, shape of x.
        cache: the cache returned by relu_forward.

    Returns:
        dx: float64 array of the shape of x: dout where x > 0, and 0 where x <= 0
        (derivative 0 at exactly x = 0).
    """
    ### BEGIN SOLUTION
    x = cache
    return dout * (x > 0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_relu" points=2
_x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
_out, _cache = unpack(call(relu_forward, _x), 2, "relu_forward")
assert_close(_out, [[0.0, 0.0, 0.0, 0.5, 3.0]], name="relu_forward([[-2, -0.5, 0, 0.5, 3]])")
_dx = call(relu_backward, np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), _cache)
assert_shape(_dx, (1, 5), name="relu_backward(dout (1, 5)): dx")
assert_close(_dx[0, 2], 0.0, name="relu_backward at x = 0: the derivative at exactly 0 is 0 (x > 0, not x >= 0)")
assert_close(_dx, [[0.0, 0.0, 0.0, 4.0, 5.0]],
             name="relu_backward(dout=[[1, 2, 3, 4, 5]]) at x = [[-2, -0.5, 0, 0.5, 3]]")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(302)
for _shape in [(1, 1), (1, 6), (7, 3), (3, 8), (16, 32), (4, 3, 5)]:
    _x = _rng.normal(size=_shape) * 2
    _x.flat[:: 3] = 0.0  # exact zeros: the kink of the ReLU
    if _x.size > 1:
        _x.flat[1] = 1e300
    _dout = _rng.normal(size=_shape)
    _xt = _torch.tensor(_x, requires_grad=True)
    _ref = _torch.relu(_xt)
    _ref.backward(_torch.tensor(_dout))
    _out, _cache = unpack(call(relu_forward, _x), 2, "relu_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=0, atol=0, name=f"relu_forward on shape {_shape}")
    _dx = call(relu_backward, _dout, _cache)
    assert_close(_dx, _xt.grad.numpy(), rtol=0, atol=0,
                 name=f"relu_backward on shape {_shape} (x contains exact zeros: derivative 0 there)")
# Extreme values.
_x = np.array([[-1e308, -1e-300, 0.0, 1e-300, 1e308]])
_out, _cache = unpack(call(relu_forward, _x), 2, "relu_forward")
assert_close(_out, [[0.0, 0.0, 0.0, 1e-300, 1e308]], rtol=0, atol=0, name="relu_forward on extreme values")
assert_close(call(relu_backward, np.full((1, 5), 2.0), _cache), [[0.0, 0.0, 0.0, 2.0, 2.0]], rtol=0, atol=0,
             name="relu_backward on extreme values")
### END HIDDEN TESTS

# %% [markdown]
# **Sigmoid and tanh.** The two classic "squashing" functions:
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}} \in (0, 1), \quad \sigma'(x) = \sigma(x)\big(1 - \sigma(x)\big);
#   \qquad \tanh(x) = 2\sigma(2x) - 1 \in (-1, 1), \quad \tanh'(x) = 1 - \tanh^2(x).$$
#
# Both derivatives are easiest to compute from the **output**, so that is what the cache should
# hold. Both functions *saturate*: for large $|x|$ the output is flat and the derivative is
# almost 0, so hardly any gradient passes. Tanh is zero-centred and its derivative reaches 1 at
# the origin; the sigmoid's derivative is at most $\frac14$.
#
# Stability: `np.exp(-x)` overflows for $x = -1000$, and the formula
# $\frac{e^{x}}{1 + e^{x}}$ gives $\frac{\infty}{\infty}$ = `nan` for $x = 1000$. Evaluate the
# sigmoid with a non-positive exponent only (as in chapter 02); `np.tanh` is already safe.

# %% nbgrader="solution" grade_id="sigmoid_tanh"
def sigmoid_forward(x):
    """Logistic sigmoid 1 / (1 + exp(-x)) element-wise, finite for any finite x.

    Args:
        x: float64 array of shape (N, D) (any shape works).

    Returns:
        out: float64 array of the shape of x, values in [0, 1].
        cache: whatever sigmoid_backward needs.
    """
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, out
    ### END SOLUTION


def sigmoid_backward(dout, cache):
    """Backward pass of the sigmoid: dx = dout * sigmoid(x) * (1 - sigmoid(x)).

    Args:
        dout: float64 array of the shape of x; cache: from sigmoid_forward.

    Returns:
        dx: float64 array of the shape of x.
    """
    ### BEGIN SOLUTION
    out = cache
    return dout * out * (1.0 - out)
    ### END SOLUTION


def tanh_forward(x):
    """Hyperbolic tangent element-wise.

    Args:
        x: float64 array of shape (N, D) (any shape works).

    Returns:
        out: float64 array of the shape of x, values in [-1, 1].
        cache: whatever tanh_backward needs.
    """
    ### BEGIN SOLUTION
    out = np.tanh(x)
    return out, out
    ### END SOLUTION


def tanh_backward(dout, cache):
    """Backward pass of tanh: dx = dout * (1 - tanh(x)^2).

    Args:
        dout: float64 array of the shape of x; cache: from tanh_forward.

    Returns:
        dx: float64 array of the shape of x.
    """
    ### BEGIN SOLUTION
    out = cache
    return dout * (1.0 - out**2)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_sigmoid_tanh" points=3
_x = np.array([[-1000.0, -1.0, 0.0, 2.0, 1000.0]])
_out, _cache = unpack(call(sigmoid_forward, _x), 2, "sigmoid_forward")
assert_close(_out, [[0.0, 0.2689414213699951, 0.5, 0.8807970779778823, 1.0]],
             name="sigmoid_forward([[-1000, -1, 0, 2, 1000]])")
_dx = call(sigmoid_backward, np.full((1, 5), 2.0), _cache)
assert_close(_dx, [[0.0, 2 * 0.19661193324148185, 0.5, 2 * 0.10499358540350662, 0.0]],
             name="sigmoid_backward(dout = 2) at x = [[-1000, -1, 0, 2, 1000]]")
_out, _cache = unpack(call(tanh_forward, _x), 2, "tanh_forward")
assert_close(_out, [[-1.0, -0.7615941559557649, 0.0, 0.9640275800758169, 1.0]],
             name="tanh_forward([[-1000, -1, 0, 2, 1000]])")
_dx = call(tanh_backward, np.full((1, 5), 2.0), _cache)
assert_close(_dx, [[0.0, 2 * 0.41997434161402614, 2.0, 2 * 0.07065082485316443, 0.0]],
             name="tanh_backward(dout = 2) at x = [[-1000, -1, 0, 2, 1000]]")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(303)
for _name, _fwd, _bwd, _ref_fn in [("sigmoid", sigmoid_forward, sigmoid_backward, _torch.sigmoid),
                                    ("tanh", tanh_forward, tanh_backward, _torch.tanh)]:
    for _shape in [(1, 1), (1, 4), (6, 3), (3, 7), (32, 16)]:
        for _scale in [1.0, 10.0, 1e3, 1e6]:
            _x = _rng.normal(size=_shape) * _scale
            _dout = _rng.normal(size=_shape)
            _label = f"{_name} on shape {_shape}, inputs of size ~{_scale:g}"
            _xt = _torch.tensor(_x, requires_grad=True)
            _ref = _ref_fn(_xt)
            _ref.backward(_torch.tensor(_dout))
            _out, _cache = unpack(call(_fwd, _x), 2, f"{_name}_forward")
            assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-300, name=f"{_label}: forward")
            _dx = call(_bwd, _dout, _cache)
            assert_close(_dx, _xt.grad.numpy(), rtol=1e-8, atol=1e-12, name=f"{_label}: backward")
_x = np.array([[-1e308, -745.0, -40.0, 0.0, 40.0, 745.0, 1e308]])
for _name, _fwd, _bwd, _ref_fn in [("sigmoid", sigmoid_forward, sigmoid_backward, _torch.sigmoid),
                                    ("tanh", tanh_forward, tanh_backward, _torch.tanh)]:
    _xt = _torch.tensor(_x, requires_grad=True)
    _ref = _ref_fn(_xt)
    _ref.sum().backward()
    _out, _cache = unpack(call(_fwd, _x), 2, f"{_name}_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-300,
                 name=f"{_name}_forward at extreme inputs (finite, no NaN)")
    assert_close(call(_bwd, np.ones_like(_x), _cache), _xt.grad.numpy(), rtol=1e-8, atol=1e-12,
                 name=f"{_name}_backward at extreme inputs (finite, no NaN)")
### END HIDDEN TESTS

# %% [markdown]
# **Leaky ReLU and ELU.** A ReLU unit whose input is negative for every sample passes no
# gradient to its weights, so gradient descent cannot revive it ("dying ReLU"; only changes in
# the layers below could). Two fixes give the negative side a non-zero slope:
#
# $$\mathrm{LeakyReLU}_\alpha(x) = \begin{cases} x & x > 0\\ \alpha x & x \le 0 \end{cases},
#   \qquad
#   \mathrm{ELU}_\alpha(x) = \begin{cases} x & x > 0\\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}.$$
#
# Here $\alpha$ is a fixed hyperparameter (typically 0.01 for the leaky ReLU and 1 for the
# ELU), not something the network learns, so the backward passes return only `dx`. The ELU's
# derivative is continuous at 0 only for $\alpha = 1$ (it is $\alpha$ from the left and 1
# from the right); the ELU saturates at $-\alpha$ for very negative inputs, and on the
# negative side its derivative $\alpha e^{x}$ equals $\mathrm{ELU}(x) + \alpha$.
#
# **Boundary convention** (the same for every piecewise activation in this chapter, and
# PyTorch's): the positive branch is used only for $x > 0$; at exactly $x = 0$ the function
# uses the negative branch, so the leaky ReLU's derivative at 0 is $\alpha$ and the ELU's is
# $\alpha e^0 = \alpha$. For large positive $x$, do not evaluate `np.exp(x)` where you do
# not need it (it overflows; `np.exp(np.minimum(x, 0))` does not). `np.expm1(x)` computes
# $e^x - 1$ accurately for small $x$.

# %% nbgrader="solution" grade_id="leaky_relu_elu"
def leaky_relu_forward(x, alpha=0.01):
    """Leaky ReLU: x where x > 0, alpha * x where x <= 0.

    Args:
        x: float64 array of shape (N, D) (any shape works).
        alpha: float, the slope of the negative side (a fixed hyperparameter).

    Returns:
        out: float64 array of the shape of x.
        cache: whatever leaky_relu_backward needs (alpha included).
    """
    ### BEGIN SOLUTION
    out = np.where(x > 0, x, alpha * x)
    return out, (x, alpha)
    ### END SOLUTION


def leaky_relu_backward(dout, cache):
    """Backward pass of the leaky ReLU: dx = dout where x > 0, alpha * dout where x <= 0.

    Returns:
        dx: float64 array of the shape of x.
    """
    ### BEGIN SOLUTION
    x, alpha = cache
    return np.where(x > 0, dout, alpha * dout)
    ### END SOLUTION


def elu_forward(x, alpha=1.0):
    """ELU: x where x > 0, alpha * (exp(x) - 1) where x <= 0; finite for any finite x.

    Args:
        x: float64 array of shape (N, D) (any shape works).
        alpha: float > 0, the saturation value of the negative side is -alpha.

    Returns:
        out: float64 array of the shape of x.
        cache: whatever elu_backward needs (alpha included).
    """
    ### BEGIN SOLUTION
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    return out, (x, out, alpha)
    ### END SOLUTION


def elu_backward(dout, cache):
    """Backward pass of the ELU: dx = dout where x > 0, dout * alpha * exp(x) where x <= 0.

    Returns:
        dx: float64 array of the shape of x.
    """
    ### BEGIN SOLUTION
    x, out, alpha = cache
    return np.where(x > 0, dout, dout * (out + alpha))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_leaky_relu_elu" points=3
_x = np.array([[-2.0, 0.0, 3.0]])
_out, _cache = unpack(call(leaky_relu_forward, _x, 0.1), 2, "leaky_relu_forward")
assert_close(_out, [[-0.2, 0.0, 3.0]], name="leaky_relu_forward([[-2, 0, 3]], alpha=0.1)")
assert_close(call(leaky_relu_backward, np.full((1, 3), 2.0), _cache), [[0.2, 0.2, 2.0]],
             name="leaky_relu_backward(dout = 2) at x = [[-2, 0, 3]], alpha=0.1 (slope alpha at 0)")
_out, _cache = unpack(call(elu_forward, _x, 0.5), 2, "elu_forward")
assert_close(_out, [[0.5 * (np.exp(-2.0) - 1), 0.0, 3.0]], name="elu_forward([[-2, 0, 3]], alpha=0.5)")
assert_close(call(elu_backward, np.full((1, 3), 2.0), _cache), [[np.exp(-2.0), 1.0, 2.0]],
             name="elu_backward(dout = 2) at x = [[-2, 0, 3]], alpha=0.5 (slope alpha at 0)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(304)
for _name, _fwd, _bwd, _ref_fn in [
    ("leaky_relu", leaky_relu_forward, leaky_relu_backward, lambda t, a: _F.leaky_relu(t, a)),
    ("elu", elu_forward, elu_backward, lambda t, a: _F.elu(t, a)),
]:
    for _shape in [(1, 1), (1, 5), (7, 3), (3, 8), (20, 8)]:
        for _alpha in [0.01, 0.2, 1.0, 1.7]:
            _x = _rng.normal(size=_shape) * 3
            _x.flat[::4] = 0.0  # the kink
            _dout = _rng.normal(size=_shape)
            _label = f"{_name} on shape {_shape}, alpha={_alpha}"
            _xt = _torch.tensor(_x, requires_grad=True)
            _ref = _ref_fn(_xt, _alpha)
            _ref.backward(_torch.tensor(_dout))
            _out, _cache = unpack(call(_fwd, _x, _alpha), 2, f"{_name}_forward")
            assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-14, name=f"{_label}: forward")
            _dx = call(_bwd, _dout, _cache)
            assert_close(_dx, _xt.grad.numpy(), rtol=1e-10, atol=1e-14,
                         name=f"{_label}: backward (x contains exact zeros: negative branch there)")
    # The default alpha.
    _x = np.array([[-3.0, 2.0]])
    _default = 0.01 if _name == "leaky_relu" else 1.0
    _expected = _ref_fn(_torch.tensor(_x), _default).numpy()
    _out, _cache = unpack(call(_fwd, _x), 2, f"{_name}_forward")
    assert_close(_out, _expected, rtol=1e-12, name=f"{_name}_forward with the default alpha = {_default}")
    # Extreme inputs: finite values and gradients.
    _x = np.array([[-1e308, -1000.0, -1e-300, 0.0, 1e-300, 1000.0, 1e308]])
    _xt = _torch.tensor(_x, requires_grad=True)
    _ref = _ref_fn(_xt, 0.5)
    _ref.sum().backward()
    _out, _cache = unpack(call(_fwd, _x, 0.5), 2, f"{_name}_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-300, name=f"{_name}_forward at extreme inputs")
    assert_close(call(_bwd, np.ones_like(_x), _cache), _xt.grad.numpy(), rtol=1e-12, atol=1e-300,
                 name=f"{_name}_backward at extreme inputs")
### END HIDDEN TESTS

# %% [markdown]
# **PReLU: a slope that is learned.** The parametric ReLU has the leaky ReLU's shape, but its
# negative slope $a$ is a **parameter**, trained like a weight:
#
# $$\mathrm{PReLU}(x_{nd}) = \begin{cases} x_{nd} & x_{nd} > 0\\ a_d\, x_{nd} & x_{nd} \le 0 \end{cases}
#   \qquad \frac{\partial L}{\partial a_d} = \sum_{n} \frac{\partial L}{\partial \mathrm{out}_{nd}}
#   \cdot \begin{cases} 0 & x_{nd} > 0\\ x_{nd} & x_{nd} \le 0 \end{cases}.$$
#
# There is one slope per feature, `a` of shape `(D,)` — or a single slope shared by all
# features, `a` of shape `(1,)`. Either way the gradient `da` has **the shape of `a`**: each
# slope is used by every sample (and a shared slope also by every feature), and the
# contributions of all its uses are **summed**, exactly like the bias of the affine layer.
# Following the layer convention, the backward pass returns `(dx, da)`. Nothing forces
# $a < 1$: with a learned slope, $a > 1$ or $a < 0$ are possible — so do not use
# $\max(x, ax)$, which is only correct for $a \le 1$.

# %% nbgrader="solution" grade_id="prelu"
def prelu_forward(x, a):
    """PReLU with a learnable negative slope.

    Args:
        x: float64 array of shape (N, D).
        a: float64 array of shape (D,) (one slope per feature) or (1,) (one shared slope).

    Returns:
        out: float64 array of shape (N, D): x where x > 0, a * x where x <= 0.
        cache: whatever prelu_backward needs.
    """
    ### BEGIN SOLUTION
    out = np.where(x > 0, x, a * x)
    return out, (x, a)
    ### END SOLUTION


def prelu_backward(dout, cache):
    """Backward pass of PReLU.

    Args:
        dout: float64 array of shape (N, D); cache: from prelu_forward.

    Returns:
        (dx, da): dx of shape (N, D); da of the shape of a, (D,) or (1,): the sum over every
        use of each slope of dout * x at the entries where x <= 0.
    """
    ### BEGIN SOLUTION
    x, a = cache
    dx = np.where(x > 0, dout, a * dout)
    da = np.sum(np.where(x > 0, 0.0, x) * dout, axis=0)
    if a.shape == (1,):
        da = np.array([da.sum()])
    return dx, da
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_prelu" points=3
_x = np.array([[-2.0, 1.0], [3.0, -1.0], [-1.0, -4.0]])
_a = np.array([0.1, 0.5])
_out, _cache = unpack(call(prelu_forward, _x, _a), 2, "prelu_forward")
assert_close(_out, [[-0.2, 1.0], [3.0, -0.5], [-0.1, -2.0]], name="prelu_forward(x (3, 2), a = [0.1, 0.5])")
_dx, _da = unpack(call(prelu_backward, np.full((3, 2), 2.0), _cache), 2, "prelu_backward")
assert_close(_dx, [[0.2, 2.0], [2.0, 1.0], [0.2, 1.0]], name="prelu_backward(dout = 2): dx")
assert_shape(_da, (2,), name="prelu_backward(dout = 2): da (one entry per slope: sum over the batch)")
assert_close(_da, [-6.0, -10.0], name="prelu_backward(dout = 2): da")
_out, _cache = unpack(call(prelu_forward, _x, np.array([0.5])), 2, "prelu_forward")
_dx, _da = unpack(call(prelu_backward, np.ones((3, 2)), _cache), 2, "prelu_backward")
assert_shape(_da, (1,), name="prelu_backward: da for one shared slope a of shape (1,)")
assert_close(_da, [-8.0], name="prelu_backward: da for one shared slope a of shape (1,)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(305)
for _N, _D in [(1, 1), (1, 4), (5, 1), (6, 3), (3, 6), (32, 10)]:
    for _shared in [False, True]:
        for _scale in [1.0, 1e4]:
            _x = _rng.normal(size=(_N, _D)) * _scale
            _x.flat[::3] = 0.0
            _a = _rng.uniform(-0.5, 2.0, size=1 if _shared else _D)
            _dout = _rng.normal(size=(_N, _D))
            _label = f"prelu with x ({_N}, {_D}) of size ~{_scale:g}, a of shape {_a.shape}"
            _xt, _at = _torch.tensor(_x, requires_grad=True), _torch.tensor(_a, requires_grad=True)
            _ref = _F.prelu(_xt, _at)
            _ref.backward(_torch.tensor(_dout))
            _out, _cache = unpack(call(prelu_forward, _x, _a), 2, "prelu_forward")
            assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-14, name=f"{_label}: out")
            _dx, _da = unpack(call(prelu_backward, _dout, _cache), 2, "prelu_backward")
            assert_close(_dx, _xt.grad.numpy(), rtol=1e-12, atol=1e-14, name=f"{_label}: dx")
            assert_shape(_da, _a.shape, name=f"{_label}: da (the shape of a)")
            assert_close(_da, _at.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: da")
### END HIDDEN TESTS

# %% [markdown]
# **Maxout.** Instead of a fixed function, a maxout unit takes the maximum of $K$ affine
# functions of its input — with $K = 2$ and one of them fixed to zero it is a ReLU; in general
# it learns a convex piecewise-linear activation. A maxout layer with $M$ outputs holds $K$
# weight matrices:
#
# $$z^{(k)} = XW^{(k)} + \mathbf{b}^{(k)}\ (k = 1, \dots, K), \qquad
#   \mathrm{out}_{nm} = \max_k z^{(k)}_{nm}, \qquad
#   W \in \mathbb{R}^{K \times D \times M},\ \mathbf{b} \in \mathbb{R}^{K \times M}.$$
#
# Backward: the max passes the gradient to the piece that won (the argmax), and 0 to the
# others — then each piece is an affine layer. (In numpy, `x @ W` with `W` of shape
# `(K, D, M)` computes all $K$ products at once, giving shape `(K, N, M)`.)
#
# **Ties.** Where two pieces are equal and maximal, the max has a kink and any split of the
# gradient between them (with weights that add up to 1) is a valid subgradient. **Convention
# in this course: the whole gradient goes to the first maximal piece** (the smallest $k$),
# which is the one `np.argmax` returns. (PyTorch's `amax` splits it evenly instead; a mask
# `z == max` that gives *each* tied piece the full gradient is wrong, as it counts it twice.)

# %% nbgrader="solution" grade_id="maxout"
def maxout_forward(x, W, b):
    """Maxout layer: out[n, m] = max over k of (x @ W[k] + b[k])[n, m].

    Args:
        x: float64 array of shape (N, D).
        W: float64 array of shape (K, D, M), K affine pieces.
        b: float64 array of shape (K, M).

    Returns:
        out: float64 array of shape (N, M).
        cache: whatever maxout_backward needs (for example which piece won each entry: the
            first maximal one, np.argmax's choice, at a tie).
    """
    ### BEGIN SOLUTION
    z = x @ W + b[:, None, :]
    winner = z.argmax(axis=0)
    out = np.take_along_axis(z, winner[None], axis=0)[0]
    return out, (x, W, winner)
    ### END SOLUTION


def maxout_backward(dout, cache):
    """Backward pass of the maxout layer; the gradient goes to the winning piece only.

    At a tie (several pieces equal to the maximum) the whole gradient goes to the first of
    them, the smallest k, as np.argmax picks it; the other pieces get 0.

    Args:
        dout: float64 array of shape (N, M); cache: from maxout_forward.

    Returns:
        (dx, dW, db): float64 arrays of shapes (N, D), (K, D, M) and (K, M).
    """
    ### BEGIN SOLUTION
    x, W, winner = cache
    K = W.shape[0]
    dz = (np.arange(K)[:, None, None] == winner[None]) * dout[None]
    dx = np.sum(dz @ W.transpose(0, 2, 1), axis=0)
    dW = x.T @ dz
    db = dz.sum(axis=1)
    return dx, dW, db
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_maxout" points=3
# K = 2 pieces, D = 1 input, M = 1 output: out = max(2x, -x + 1).
_W = np.array([[[2.0]], [[-1.0]]])
_b = np.array([[0.0], [1.0]])
_x = np.array([[1.0], [-1.0], [0.0]])
_out, _cache = unpack(call(maxout_forward, _x, _W, _b), 2, "maxout_forward")
assert_shape(_out, (3, 1), name="maxout_forward(x (3, 1), W (2, 1, 1), b (2, 1)): out")
assert_close(_out, [[2.0], [2.0], [1.0]], name="maxout_forward: out = max(2x, 1 - x)")
_dx, _dW, _db = unpack(call(maxout_backward, np.array([[1.0], [2.0], [3.0]]), _cache), 3,
                       "maxout_backward")
assert_shape(_dx, (3, 1), name="maxout_backward: dx")
assert_close(_dx, [[2.0], [-2.0], [-3.0]], name="maxout_backward: dx")
assert_shape(_dW, (2, 1, 1), name="maxout_backward: dW")
assert_close(_dW, [[[1.0]], [[-2.0]]], name="maxout_backward: dW (only the winning piece)")
assert_shape(_db, (2, 1), name="maxout_backward: db")
assert_close(_db, [[1.0], [5.0]], name="maxout_backward: db")
# A tie: at x = 0 the pieces 2x and x are both 0; the gradient goes to the first one (k = 0).
_out, _cache = unpack(call(maxout_forward, np.array([[0.0], [1.0]]), np.array([[[2.0]], [[1.0]]]),
                           np.zeros((2, 1))), 2, "maxout_forward")
_dx, _dW, _db = unpack(call(maxout_backward, np.array([[1.0], [1.0]]), _cache), 3, "maxout_backward")
assert_close(_db, [[2.0], [0.0]], name="maxout_backward: db where the two pieces tie at x = 0 (the whole "
             "gradient goes to the first maximal piece)")
assert_close(_dx, [[2.0], [2.0]], name="maxout_backward: dx where the two pieces tie at x = 0 (only the "
             "first maximal piece counts)")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(306)
for (_N, _D, _M, _K), _scale in zip([(1, 1, 1, 1), (1, 3, 2, 2), (4, 1, 3, 3), (6, 5, 1, 2), (16, 7, 4, 4),
                                     (3, 4, 4, 5), (5, 3, 2, 3), (2, 6, 5, 2)], [1, 1, 1, 1, 1, 1e6, 1e-6, 1],
                                    strict=True):
    _x = _rng.normal(size=(_N, _D)) * 2 * _scale
    _W = _rng.normal(size=(_K, _D, _M))
    _b = _rng.normal(size=(_K, _M))
    _dout = _rng.normal(size=(_N, _M))
    _label = f"maxout with x ({_N}, {_D}) of size ~{_scale:g}, W ({_K}, {_D}, {_M}), b ({_K}, {_M})"
    _ts = [_torch.tensor(a, requires_grad=True) for a in (_x, _W, _b)]
    _ref = (_ts[0] @ _ts[1] + _ts[2][:, None, :]).amax(dim=0)
    _ref.backward(_torch.tensor(_dout))
    _out, _cache = unpack(call(maxout_forward, _x, _W, _b), 2, "maxout_forward")
    assert_shape(_out, (_N, _M), name=f"{_label}: out")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-12, name=f"{_label}: out")
    _grads = unpack(call(maxout_backward, _dout, _cache), 3, "maxout_backward")
    for _g, _t, _what in zip(_grads, _ts, ["dx", "dW", "db"], strict=True):
        assert_shape(_g, tuple(_t.shape), name=f"{_label}: {_what}")
        assert_close(_g, _t.grad.numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: {_what}")
# Ties between three equal pieces (and two of three): the first maximal piece gets everything.
_W = np.stack([np.eye(2), np.eye(2), -np.eye(2)])  # (3, 2, 2): pieces x, x, -x
_b = np.zeros((3, 2))
_x = np.array([[1.0, -2.0], [0.0, 3.0], [-1.0, 0.0]])
_dout = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
_win = np.array([[0, 2], [0, 0], [2, 0]])  # the first piece among the maximal ones
_mask = (np.arange(3)[:, None, None] == _win[None]).astype(float)
_expected_dW = np.einsum("nd,knm->kdm", _x, _mask * _dout[None])
_expected_db = (_mask * _dout[None]).sum(axis=1)
_expected_dx = np.einsum("knm,kdm->nd", _mask * _dout[None], _W)
_out, _cache = unpack(call(maxout_forward, _x, _W, _b), 2, "maxout_forward")
assert_close(_out, np.abs(_x), name="maxout_forward with tied pieces x, x, -x")
_dx, _dW, _db = unpack(call(maxout_backward, _dout, _cache), 3, "maxout_backward")
assert_close(_db, _expected_db, name="maxout_backward: db with tied pieces x, x, -x (first maximal piece)")
assert_close(_dW, _expected_dW, name="maxout_backward: dW with tied pieces x, x, -x (first maximal piece)")
assert_close(_dx, _expected_dx, name="maxout_backward: dx with tied pieces x, x, -x (first maximal piece)")
### END HIDDEN TESTS

# %% [markdown]
# ### Explore: activations, their derivatives, and gradients through depth
#
# The explorer is built from **your** activation functions and affine layer. Left: the
# function and its derivative (computed by your backward pass with `dout = 1`). Right: a
# stack of `depth` layers, each an affine layer with random weights (entries
# $\mathcal{N}(0, \text{scale}^2/64)$, 64 units) followed by the activation; a random
# gradient enters at the top, and the plot shows its size (root mean square) when it
# arrives at the input of each layer — on a log scale. Things to try:
#
# - sigmoid, depth 20: by how many orders of magnitude does the gradient shrink? Why is the
#   sigmoid's derivative (at most $\frac14$) to blame?
# - tanh and ReLU at the same depth: which keeps the gradient alive, and for which weight
#   scale? (ReLU with scale ≈ 1.4, i.e. $\sqrt 2$, is the "He initialisation" of chapter 05.)
# - leaky ReLU with slope 0 vs 0.3, and ELU with different α.

# %%
activations_for_explorer = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
    "prelu": (lambda x, a: prelu_forward(x, np.array([a])), prelu_backward),
}
act_explorer = activation_explorer(
    activations_for_explorer,
    affine_forward=affine_forward,
    affine_backward=affine_backward,
    alpha={"leaky_relu": 0.1, "elu": 1.0, "prelu": 0.25},
    activation="sigmoid",
    depth=20,
)
display(act_explorer)

# %% [markdown]
# **Concept check 1.** A gradient passes backwards through 10 sigmoid layers (ignore the
# weights). At most, by which factor can the sigmoid layers scale it? Set `q1_answer` to the
# largest possible value of $\prod_{l=1}^{10} \sigma'(z_l)$ (a number).

# %% nbgrader="solution" grade_id="q1_sigmoid_depth"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 0.25**10
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_sigmoid_depth" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 0.25**10, name="q1_answer", rtol=1e-2, atol=0.0)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Output layers and losses
#
# The last layer of a network produces **scores**; the loss compares them with the targets.
# Which output and loss to use follows from what the targets are — and maximum likelihood
# (chapter 01) gives each pairing its justification:
#
# | task | output | loss | likelihood |
# |---|---|---|---|
# | regression | identity | mean squared error | Gaussian noise |
# | regression, robust | identity | mean absolute error (L1) | Laplace noise |
# | two classes | sigmoid | binary cross-entropy | Bernoulli |
# | $C$ classes | softmax | cross-entropy | categorical |
#
# **Regression losses.** For predictions and targets of the same shape (any shape; the mean
# runs over **all** entries, as in chapter 01):
#
# $$\mathrm{MSE} = \frac{1}{n}\sum_i (p_i - y_i)^2, \quad \frac{\partial}{\partial p_i} = \frac{2}{n}(p_i - y_i);
#   \qquad \mathrm{L1} = \frac{1}{n}\sum_i |p_i - y_i|, \quad \frac{\partial}{\partial p_i} = \frac{1}{n}\operatorname{sign}(p_i - y_i).$$
#
# The L1 loss grows only linearly in the error, so a few outliers pull the fit much less than
# under the MSE. Its kink at $p_i = y_i$ gets the subgradient 0 (that is `np.sign(0)`, and
# PyTorch's choice).

# %% nbgrader="solution" grade_id="regression_losses"
def mse_loss(pred, y):
    """Mean squared error over all entries, and its gradient.

    Args:
        pred: float64 array of shape (N, D) (any shape works), the predictions.
        y: float64 array of the shape of pred, the targets.

    Returns:
        loss: a Python float, the mean of (pred - y) ** 2 over all entries.
        dpred: float64 array of the shape of pred, d loss / d pred.
    """
    ### BEGIN SOLUTION
    diff = pred - y
    return float(np.mean(diff**2)), 2.0 * diff / diff.size
    ### END SOLUTION


def l1_loss(pred, y):
    """Mean absolute error over all entries, and its (sub)gradient (0 where pred == y).

    Args:
        pred: float64 array of shape (N, D) (any shape works), the predictions.
        y: float64 array of the shape of pred, the targets.

    Returns:
        loss: a Python float, the mean of |pred - y| over all entries.
        dpred: float64 array of the shape of pred, sign(pred - y) / (number of entries).
    """
    ### BEGIN SOLUTION
    diff = pred - y
    return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_regression_losses" points=3
# Each loss is checked in two halves: first its value, then its gradient.
_pred = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]])
_y = np.array([[1.0, 0.0, 0.5], [4.0, 4.5, 1.0]])
_loss, _d = unpack(call(mse_loss, _pred, _y), 2, "mse_loss")
assert_scalar(_loss, (0 + 4 + 0.25 + 1 + 0.25 + 0) / 6,
              name="mse_loss on a (2, 3) example: the loss value (a mean over all 6 entries)")
assert_close(_d, [[0.0, 4 / 6, -1 / 6], [-2 / 6, -1 / 6, 0.0]],
             name="mse_loss on a (2, 3) example: the gradient 2 (pred - y) / 6")
_loss, _d = unpack(call(l1_loss, _pred, _y), 2, "l1_loss")
assert_scalar(_loss, (0 + 2 + 0.5 + 1 + 0.5 + 0) / 6,
              name="l1_loss on a (2, 3) example: the loss value (a mean over all 6 entries)")
assert_close(_d, [[0.0, 1 / 6, -1 / 6], [-1 / 6, -1 / 6, 0.0]],
             name="l1_loss on a (2, 3) example: the gradient sign(pred - y) / 6 (0 where pred == y)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(307)
for _name, _fn, _ref_fn in [("mse_loss", mse_loss, _F.mse_loss), ("l1_loss", l1_loss, _F.l1_loss)]:
    for _shape in [(1, 1), (1, 5), (8, 1), (6, 3), (3, 6), (32, 10), (7,)]:
        for _scale in [1.0, 1e3, 1e6]:
            _pred = _rng.normal(size=_shape) * _scale
            _y = _rng.normal(size=_shape) * _scale
            _y.flat[::3] = _pred.flat[::3]  # some exact hits: the kink of L1
            _label = f"{_name} on shape {_shape}, values of size ~{_scale:g}"
            _pt = _torch.tensor(_pred, requires_grad=True)
            _ref = _ref_fn(_pt, _torch.tensor(_y))
            _ref.backward()
            _loss, _d = unpack(call(_fn, _pred, _y), 2, _name)
            assert_scalar(_loss, _ref.item(), rtol=1e-10, atol=1e-300, name=f"{_label}: the loss value")
            assert_close(_d, _pt.grad.numpy(), rtol=1e-10, atol=1e-300, name=f"{_label}: the gradient")
### END HIDDEN TESTS

# %% [markdown]
# **Binary cross-entropy from logits.** For two classes the network outputs one score $s$
# per sample, and $\hat y = \sigma(s)$. As in chapter 02, compute the loss from the score,
# never from $\hat y$: with $\ell(s, y) = \max(s, 0) - ys + \log(1 + e^{-|s|})$ it is finite for
# any $s$, and $\partial\ell/\partial s = \sigma(s) - y$. Here the targets may be any numbers
# in $[0, 1]$ ("soft" labels), and the loss is the mean over **all** entries.

# %% nbgrader="solution" grade_id="bce_logits"
def bce_with_logits_loss(scores, y):
    """Mean binary cross-entropy of sigmoid(scores) against targets y, computed from scores.

    Args:
        scores: float64 array of shape (N,) or (N, D), the logits.
        y: float64 array of the shape of scores, targets in [0, 1].

    Returns:
        loss: a Python float, the mean over all entries of
            -y log sigmoid(s) - (1 - y) log(1 - sigmoid(s)); finite for any finite scores.
        dscores: float64 array of the shape of scores, (sigmoid(s) - y) / (number of entries).
    """
    ### BEGIN SOLUTION
    s = scores
    loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))
    e = np.exp(-np.abs(s))
    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(loss), (prob - y) / s.size
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_bce_logits" points=3
# First the loss value, then its gradient.
_loss, _d = unpack(call(bce_with_logits_loss, np.array([0.0, 0.0, 2.0]), np.array([1.0, 0.0, 0.25])), 2,
                   "bce_with_logits_loss")
_expected = (2 * np.log(2.0) + np.log1p(np.exp(-2.0)) + 0.75 * 2.0) / 3
assert_scalar(_loss, _expected, name="bce_with_logits_loss(scores [0, 0, 2], y [1, 0, 0.25]): the loss value")
assert_close(_d, [-1 / 6, 1 / 6, (1 / (1 + np.exp(-2.0)) - 0.25) / 3],
             name="bce_with_logits_loss(scores [0, 0, 2], y [1, 0, 0.25]): the gradient (sigmoid(s) - y) / 3")
# Logits of +1000 and -1000 on the wrong side: the loss is large but finite.
_small = 3.0 + np.log1p(np.exp(-3.0))  # the loss of a logit 3 on the wrong side
for _s, _y, _grad in [([[1000.0], [-3.0]], [[0.0], [1.0]], [[0.5], [(1 / (1 + np.exp(3.0)) - 1) / 2]]),
                      ([[-1000.0], [3.0]], [[1.0], [0.0]], [[-0.5], [1 / (1 + np.exp(-3.0)) / 2]])]:
    _label = f"bce_with_logits_loss(scores {_s}, y {_y})"
    _loss, _d = unpack(call(bce_with_logits_loss, np.array(_s), np.array(_y)), 2, "bce_with_logits_loss")
    assert_scalar(_loss, (1000.0 + _small) / 2, name=f"{_label}: the loss value (finite)")
    assert_close(_d, _grad, name=f"{_label}: the gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(308)
for _shape in [(1,), (5,), (1, 1), (8, 1), (6, 4), (3, 7)]:
    for _scale in [1.0, 40.0, 1e3, 1e6]:
        for _soft in [False, True]:
            _s = _rng.normal(size=_shape) * _scale
            _y = _rng.uniform(size=_shape) if _soft else _rng.integers(0, 2, size=_shape).astype(float)
            _label = (f"bce_with_logits_loss on shape {_shape}, logits of size ~{_scale:g}, "
                      f"{'soft' if _soft else '0/1'} targets")
            _st = _torch.tensor(_s, requires_grad=True)
            _ref = _F.binary_cross_entropy_with_logits(_st, _torch.tensor(_y))
            _ref.backward()
            _loss, _d = unpack(call(bce_with_logits_loss, _s, _y), 2, "bce_with_logits_loss")
            assert_scalar(_loss, _ref.item(), rtol=1e-9, atol=1e-12, name=f"{_label}: the loss value")
            assert_close(_d, _st.grad.numpy(), rtol=1e-9, atol=1e-14, name=f"{_label}: the gradient")
### END HIDDEN TESTS

# %% [markdown]
# **Softmax and log-softmax.** For $C$ classes the output layer has $C$ scores per sample, and
# the **softmax** turns each row into a probability distribution:
#
# $$\mathrm{softmax}(\mathbf{s})_c = \frac{e^{s_c}}{\sum_{k=1}^{C} e^{s_k}}, \qquad
#   \log\mathrm{softmax}(\mathbf{s})_c = s_c - \log\sum_{k} e^{s_k}.$$
#
# Both act on each **row** (axis 1: the classes of one sample), never across the batch. Unlike
# the activations, the softmax is not element-wise — every output depends on every score of
# the row — so its backward pass is a small matrix product per sample. With
# $p = \mathrm{softmax}(\mathbf{s})$ and upstream gradient $\mathbf{g}$ (one row of `dout`):
#
# $$\frac{\partial p_c}{\partial s_k} = p_c([c = k] - p_k) \ \Rightarrow\
#   \frac{\partial L}{\partial s_k} = p_k\Big(g_k - \sum_c g_c\,p_c\Big);
#   \qquad \text{log-softmax:}\quad \frac{\partial L}{\partial s_k} = g_k - p_k \sum_c g_c .$$
#
# For stability subtract each row's maximum first (see the next section for why that is
# allowed), and compute the log-softmax directly — `np.log(softmax(s))` gives $\log 0 = -\infty$
# when a probability underflows.

# %% nbgrader="solution" grade_id="softmax"
def softmax_forward(x):
    """Softmax over the classes (axis 1) of each row, numerically stable.

    Args:
        x: float64 array of shape (N, C), scores.

    Returns:
        out: float64 array of shape (N, C); each row is non-negative and sums to 1.
        cache: whatever softmax_backward needs.
    """
    ### BEGIN SOLUTION
    shifted = x - x.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    out = e / e.sum(axis=1, keepdims=True)
    return out, out
    ### END SOLUTION


def softmax_backward(dout, cache):
    """Backward pass of the softmax: dx[n] = p[n] * (dout[n] - sum_c dout[n, c] p[n, c]).

    Returns:
        dx: float64 array of shape (N, C).
    """
    ### BEGIN SOLUTION
    p = cache
    return p * (dout - np.sum(dout * p, axis=1, keepdims=True))
    ### END SOLUTION


def log_softmax_forward(x):
    """Log-softmax over the classes (axis 1), finite for any finite scores.

    Args:
        x: float64 array of shape (N, C), scores.

    Returns:
        out: float64 array of shape (N, C), out[n, c] = x[n, c] - log sum_k exp(x[n, k]).
        cache: whatever log_softmax_backward needs.
    """
    ### BEGIN SOLUTION
    shifted = x - x.max(axis=1, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out, out
    ### END SOLUTION


def log_softmax_backward(dout, cache):
    """Backward pass of the log-softmax: dx[n] = dout[n] - softmax(x[n]) * sum_c dout[n, c].

    Returns:
        dx: float64 array of shape (N, C).
    """
    ### BEGIN SOLUTION
    log_p = cache
    return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_softmax" points=4
_x = np.array([[0.0, np.log(3.0), -1000.0], [1000.0, 1000.0, 1000.0 + np.log(2.0)]])
_p = np.array([[0.25, 0.75, 0.0], [0.25, 0.25, 0.5]])
_out, _cache = unpack(call(softmax_forward, _x), 2, "softmax_forward")
assert_shape(_out, (2, 3), name="softmax_forward(x (2, 3)): out")
assert_close(_out, _p, name="softmax_forward([[0, log 3, -1000], [1000, 1000, 1000 + log 2]])")
_dout = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 4.0]])
_dx = call(softmax_backward, _dout, _cache)
assert_close(_dx, _p * (_dout - (_dout * _p).sum(axis=1, keepdims=True)),
             name="softmax_backward(dout = [[1, 0, 2], [0, 0, 4]])")
_out, _cache = unpack(call(log_softmax_forward, _x), 2, "log_softmax_forward")
assert_close(_out, [[np.log(0.25), np.log(0.75), -1000.0 - np.log(4.0)], np.log([0.25, 0.25, 0.5])],
             name="log_softmax_forward([[0, log 3, -1000], [1000, 1000, 1000 + log 2]]) (finite everywhere)")
_dx = call(log_softmax_backward, _dout, _cache)
assert_close(_dx, _dout - _p * _dout.sum(axis=1, keepdims=True),
             name="log_softmax_backward(dout = [[1, 0, 2], [0, 0, 4]])")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(309)
for _name, _fwd, _bwd, _ref_fn in [
    ("softmax", softmax_forward, softmax_backward, lambda t: _torch.softmax(t, dim=1)),
    ("log_softmax", log_softmax_forward, log_softmax_backward, lambda t: _torch.log_softmax(t, dim=1)),
]:
    for _N, _C in [(1, 1), (1, 2), (1, 7), (3, 3), (5, 4), (4, 5), (64, 10)]:
        for _scale in [1.0, 30.0, 1e3, 1e6]:
            _x = _rng.normal(size=(_N, _C)) * _scale
            _dout = _rng.normal(size=(_N, _C))
            _label = f"{_name} on scores ({_N}, {_C}) of size ~{_scale:g}"
            _xt = _torch.tensor(_x, requires_grad=True)
            _ref = _ref_fn(_xt)
            _ref.backward(_torch.tensor(_dout))
            _out, _cache = unpack(call(_fwd, _x), 2, f"{_name}_forward")
            assert_close(_out, _ref.detach().numpy(), rtol=1e-9, atol=1e-14, name=f"{_label}: forward")
            _dx = call(_bwd, _dout, _cache)
            assert_close(_dx, _xt.grad.numpy(), rtol=1e-8, atol=1e-12, name=f"{_label}: backward")
### END HIDDEN TESTS

# %% [markdown]
# ### Softmax cross-entropy
#
# For $C$ classes the network outputs $C$ real **scores** (logits) $\mathbf{s}_n$ per sample.
# The softmax turns them into probabilities
# $p_{nc} = e^{s_{nc}} / \sum_{k} e^{s_{nk}}$, and the cross-entropy loss is the negative
# log-probability of the correct class $y_n$, averaged over the batch:
#
# $$L = \frac{1}{N}\sum_{n=1}^{N} -\log p_{n, y_n}
#     = \frac{1}{N}\sum_{n=1}^{N}\Big(\log\sum_{k} e^{s_{nk}} - s_{n, y_n}\Big),
#   \qquad
#   \frac{\partial L}{\partial s_{nc}} = \frac{1}{N}\big(p_{nc} - [c = y_n]\big).$$
#
# The gradient is strikingly simple: predicted probabilities minus the one-hot target.
#
# **Numerical stability.** $e^{1000}$ overflows to `inf`, and $e^{-1000}$ underflows to 0,
# whose logarithm is $-\infty$. Two facts fix both problems:
#
# 1. Softmax does not change if the same number is subtracted from all scores of a sample:
#    $\frac{e^{s_c - m}}{\sum_k e^{s_k - m}} = \frac{e^{-m}e^{s_c}}{e^{-m}\sum_k e^{s_k}}$.
#    With $m = \max_k s_k$ the largest exponent is $e^0 = 1$: no overflow, and the sum is at
#    least 1.
# 2. Never take the log of a probability that may have underflowed: compute the
#    log-probability directly, $\log p_{c} = (s_c - m) - \log\sum_k e^{s_k - m}$.

# %% nbgrader="solution" grade_id="softmax_ce" export=true
def softmax_cross_entropy_loss(scores, y):
    """Mean softmax cross-entropy loss and its gradient, numerically stable.

    Args:
        scores: float64 array of shape (N, C), unnormalised class scores (logits).
        y: int array of shape (N,), the correct class of each sample, 0 <= y[n] < C.

    Returns:
        loss: a Python float, mean over the N samples of -log softmax(scores[n])[y[n]].
        dscores: float64 array of shape (N, C), the gradient of loss with respect to scores.
        Both must be finite for any finite scores (for example scores of +-1000).
    """
    ### BEGIN SOLUTION
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1.0
    dscores /= n
    return float(loss), dscores
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_softmax_ce" points=3
# First the loss value, then its gradient.
# Two samples with equal scores over 4 classes: p = 1/4 everywhere, loss = log 4.
_scores = np.zeros((2, 4))
_y = np.array([1, 3])
_loss, _dscores = unpack(call(softmax_cross_entropy_loss, _scores, _y), 2,
                         "softmax_cross_entropy_loss")
assert_scalar(_loss, np.log(4.0), name="softmax_cross_entropy_loss(zeros (2, 4), y=[1, 3]): the loss value")
assert_shape(_dscores, (2, 4), name="softmax_cross_entropy_loss(zeros (2, 4), y=[1, 3]): dscores")
assert_close(_dscores, [[0.125, -0.375, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]],
             name="softmax_cross_entropy_loss(zeros (2, 4), y=[1, 3]): the gradient dscores "
             "((p - one_hot) / N)")
# Numerical gradient check on random scores.
_rng = np.random.default_rng(3)
_scores, _y = _rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
_shifted = _scores - _scores.max(axis=1, keepdims=True)
_expected = float(np.mean(np.log(np.exp(_shifted).sum(axis=1)) - _shifted[np.arange(5), _y]))
_num = numerical_gradient(lambda s: softmax_cross_entropy_loss(s, _y)[0], _scores.copy())
_loss, _dscores = unpack(call(softmax_cross_entropy_loss, _scores, _y), 2, "softmax_cross_entropy_loss")
assert_scalar(_loss, _expected, name="softmax_cross_entropy_loss(scores (5, 3)): the loss value")
assert_close(_dscores, _num, rtol=1e-6, atol=1e-9,
             name="softmax_cross_entropy_loss(scores (5, 3)): dscores against the numerical gradient")
# Huge scores must not overflow.
_loss, _dscores = unpack(call(softmax_cross_entropy_loss, np.array([[1000.0, 0.0], [0.0, 1000.0]]),
                              np.array([0, 0])), 2, "softmax_cross_entropy_loss")
assert_scalar(_loss, 500.0, name="softmax_cross_entropy_loss(scores [[1000, 0], [0, 1000]], y = [0, 0]): "
              "the loss value")
assert_close(_dscores, [[0.0, 0.0], [-0.5, 0.5]],
             name="softmax_cross_entropy_loss(scores [[1000, 0], [0, 1000]], y = [0, 0]): the gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F


def _torch_ce(scores, y):
    """Loss and gradient of PyTorch's cross_entropy (the mean over the batch)."""
    st = _torch.tensor(scores, requires_grad=True)
    ref = _F.cross_entropy(st, _torch.tensor(y, dtype=_torch.int64))
    ref.backward()
    return ref.item(), st.grad.numpy()


_rng = np.random.default_rng(314)
for _N, _C in [(1, 1), (1, 2), (1, 10), (2, 3), (7, 5), (3, 8), (64, 10), (5, 100)]:
    for _scale in [1.0, 30.0, 1e3, 1e6]:
        _scores = _rng.normal(size=(_N, _C)) * _scale
        _y = _rng.integers(0, _C, size=_N)
        _label = f"softmax_cross_entropy_loss(scores ({_N}, {_C}) of size ~{_scale:g})"
        _ref_loss, _ref_grad = _torch_ce(_scores, _y)
        _loss, _dscores = unpack(call(softmax_cross_entropy_loss, _scores, _y), 2,
                                 "softmax_cross_entropy_loss")
        assert_scalar(_loss, _ref_loss, rtol=1e-9, atol=1e-12, name=f"{_label}: the loss value")
        assert_close(_dscores, _ref_grad, rtol=1e-8, atol=1e-14, name=f"{_label}: the gradient dscores")
# The correct class far below the others: log p underflows unless computed as a log-softmax.
_scores = np.array([[0.0, -1000.0, 5.0], [800.0, -800.0, 0.0]])
_y = np.array([1, 1])
_ref_loss, _ref_grad = _torch_ce(_scores, _y)
_loss, _dscores = unpack(call(softmax_cross_entropy_loss, _scores, _y), 2, "softmax_cross_entropy_loss")
assert_scalar(_loss, _ref_loss, rtol=1e-12,
              name="the loss value when the correct class has a score 1000 below the others")
assert_close(_dscores, _ref_grad, rtol=1e-10, atol=1e-14,
             name="dscores when the correct class has a score 1000 below the others")
# Labels of another integer dtype work too.
_loss, _dscores = unpack(call(softmax_cross_entropy_loss, np.zeros((3, 3)), np.array([0, 1, 2], dtype=np.int32)),
                         2, "softmax_cross_entropy_loss")
assert_scalar(_loss, np.log(3.0), name="the loss value for zero scores and int32 labels")
### END HIDDEN TESTS

# %% [markdown]
# ### Two classes: softmax or sigmoid?
#
# For two classes you can give the network one score $s$ per sample and use the sigmoid with
# the binary cross-entropy, or two scores $(z_0, z_1)$ with the softmax and the cross-entropy.
# These are the same model. Dividing numerator and denominator by $e^{z_1}$:
#
# $$\mathrm{softmax}(z_0, z_1)_1 = \frac{e^{z_1}}{e^{z_0} + e^{z_1}} = \frac{1}{1 + e^{-(z_1 - z_0)}}
#   = \sigma(z_1 - z_0), \qquad \mathrm{softmax}(z_0, z_1)_0 = \sigma(z_0 - z_1) = 1 - \sigma(z_1 - z_0).$$
#
# Only the **difference** of the two scores matters: adding the same number to both changes
# nothing, so one of the two output units is redundant. The losses agree too:
# $-\log \mathrm{softmax}(z)_y$ is the binary cross-entropy of the logit $s = z_1 - z_0$ with
# target $y \in \{0, 1\}$. A two-unit softmax layer with weight columns $\mathbf{w}_0,
# \mathbf{w}_1$ is a one-unit sigmoid layer with weights $\mathbf{w}_1 - \mathbf{w}_0$: the
# softmax is the sigmoid's generalisation to $C$ classes. Your functions confirm it:

# %%
two_class_rng = np.random.default_rng(0)
pair_scores = two_class_rng.normal(size=(5, 2)) * 3  # (z0, z1) for 5 samples
pair_labels = two_class_rng.integers(0, 2, size=5)
print("softmax(z)[:, 1]:", softmax_forward(pair_scores)[0][:, 1])
print("sigmoid(z1 - z0):", sigmoid_forward(pair_scores[:, 1] - pair_scores[:, 0])[0])
ce_loss, ce_grad = softmax_cross_entropy_loss(pair_scores, pair_labels)
bce_loss, bce_grad = bce_with_logits_loss(pair_scores[:, 1] - pair_scores[:, 0], pair_labels.astype(float))
print(f"softmax cross-entropy {ce_loss:.15f}\nBCE of s = z1 - z0    {bce_loss:.15f}")
print("gradient w.r.t. z1 equals the BCE gradient w.r.t. s:", np.allclose(ce_grad[:, 1], bce_grad),
      "| w.r.t. z0 its negative:", np.allclose(ce_grad[:, 0], -bce_grad))

# %% [markdown]
# **Concept check 2.** A two-class network outputs the scores $(z_0, z_1) = (0.7, 2.2)$ for an
# image and turns them into probabilities with the softmax. A colleague's network outputs a
# single logit $s$ and uses the sigmoid for the probability of class 1. Which value of $s$
# gives the same probability of class 1 as the two scores? Set `q2_answer` to a number.

# %% nbgrader="solution" grade_id="q2_two_class_softmax"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 2.2 - 0.7
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_two_class_softmax" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 1.5, name="q2_answer", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ### The multiclass hinge loss
#
# The support-vector-machine view of classification asks for less than the cross-entropy:
# not a probability, only that the correct score beats every other score by a **margin**
# $\Delta$ (1 by default). Every class that violates this pays linearly:
#
# $$L = \frac{1}{N}\sum_{n=1}^N \sum_{c \ne y_n} \max\big(0,\ s_{nc} - s_{n y_n} + \Delta\big).$$
#
# Per sample, each violating class $c$ (a term $> 0$) gets gradient $+\frac1N$, and the correct
# class gets $-\frac1N$ times the number of violating classes; a term that is exactly 0 counts
# as not violating. Once all margins are met the loss is exactly 0 and the gradient vanishes —
# unlike the cross-entropy, which always wants a little more confidence. (PyTorch's
# `multi_margin_loss` additionally divides by the number of classes $C$; we do not.)

# %% nbgrader="solution" grade_id="hinge"
def multiclass_hinge_loss(scores, y, margin=1.0):
    """Multiclass hinge (SVM) loss, averaged over the batch, and its gradient.

    Args:
        scores: float64 array of shape (N, C).
        y: int array of shape (N,), the correct classes.
        margin: float > 0, the required margin Delta.

    Returns:
        loss: a Python float, (1/N) sum_n sum_{c != y_n} max(0, s[n, c] - s[n, y_n] + margin).
        dscores: float64 array of shape (N, C), its gradient (terms equal to 0 count as met).
    """
    ### BEGIN SOLUTION
    n = scores.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + margin)
    margins[rows, y] = 0.0
    violated = (margins > 0).astype(float)
    violated[rows, y] = -violated.sum(axis=1)
    return float(margins.sum() / n), violated / n
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_hinge" points=3
# First the loss value, then its gradient.
_scores = np.array([[3.0, 1.0, 2.5], [0.0, 2.0, -1.0]])
_y = np.array([0, 1])
_loss, _d = unpack(call(multiclass_hinge_loss, _scores, _y), 2, "multiclass_hinge_loss")
# Sample 0: class 1 meets the margin (1 - 3 + 1 < 0), class 2 violates it (2.5 - 3 + 1 = 0.5).
# Sample 1: both other classes meet it.
assert_scalar(_loss, 0.5 / 2, name="multiclass_hinge_loss on a (2, 3) example: the loss value")
assert_close(_d, [[-0.5, 0.0, 0.5], [0.0, 0.0, 0.0]], name="multiclass_hinge_loss on a (2, 3) example: "
             "the gradient")
_loss, _d = unpack(call(multiclass_hinge_loss, _scores, _y, 2.0), 2, "multiclass_hinge_loss")
# margin 2: sample 0 pays 0 + 1.5, sample 1 pays 0 + 0 (-1 - 2 + 2 = -1 < 0 and 0 - 2 + 2 = 0 exactly).
assert_scalar(_loss, 1.5 / 2, name="multiclass_hinge_loss on a (2, 3) example with margin=2: the loss value")
assert_close(_d, [[-0.5, 0.0, 0.5], [0.0, 0.0, 0.0]], name="multiclass_hinge_loss on a (2, 3) example with "
             "margin=2: the gradient (a term exactly 0 counts as met)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F


def _torch_hinge(scores, y, margin):
    """Loss and gradient of C * PyTorch's multi_margin_loss (which divides by the C classes)."""
    st = _torch.tensor(scores, requires_grad=True)
    ref = scores.shape[1] * _F.multi_margin_loss(st, _torch.tensor(y), margin=margin)
    ref.backward()
    return ref.item(), st.grad.numpy()


_rng = np.random.default_rng(315)
for _N, _C in [(1, 1), (1, 2), (1, 6), (5, 3), (3, 5), (16, 10), (7, 7)]:
    for _scale in [0.5, 3.0, 1e4]:
        for _margin in [1.0, 0.3, 5.0]:
            _scores = _rng.normal(size=(_N, _C)) * _scale
            _y = _rng.integers(0, _C, size=_N)
            _label = f"multiclass_hinge_loss(scores ({_N}, {_C}) of size ~{_scale:g}, margin={_margin})"
            _ref_loss, _ref_grad = _torch_hinge(_scores, _y, _margin)
            _loss, _d = unpack(call(multiclass_hinge_loss, _scores, _y, _margin), 2, "multiclass_hinge_loss")
            assert_scalar(_loss, _ref_loss, rtol=1e-9, atol=1e-12, name=f"{_label}: the loss value")
            assert_close(_d, _ref_grad, rtol=1e-9, atol=1e-14, name=f"{_label}: the gradient")
# The default margin, and terms exactly at the margin (integer scores): they do not count.
_scores = np.array([[2.0, 1.0, 0.0, 2.0], [0.0, 0.0, 5.0, -1.0]])
_y = np.array([0, 3])
_ref_loss, _ref_grad = _torch_hinge(_scores, _y, 1.0)
_loss, _d = unpack(call(multiclass_hinge_loss, _scores, _y), 2, "multiclass_hinge_loss")
assert_scalar(_loss, _ref_loss, rtol=1e-12,
              name="multiclass_hinge_loss with terms exactly 0 (default margin): the loss value")
assert_close(_d, _ref_grad, rtol=1e-12, atol=1e-15,
             name="multiclass_hinge_loss gradient where some terms are exactly 0 (not violated)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** A freshly initialised network with small random weights outputs
# scores close to 0 for all 10 digit classes. What softmax cross-entropy loss do you expect
# at the very first step (a number)? Set `q3_answer`. (This is a useful sanity check at the
# start of every training run.)

# %% nbgrader="solution" grade_id="q3_initial_loss"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = float(np.log(10.0))
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_initial_loss" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, float(np.log(10.0)), name="q3_answer", rtol=5e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. A multi-layer perceptron of any depth
#
# An MLP with $L$ layers alternates affine layers and activations; the last affine layer
# produces the scores, with **no activation after it** (the loss takes care of the output):
#
# $$\mathbf{h}_0 = X,\qquad \mathbf{h}_l = f\big(\mathbf{h}_{l-1}W_l + \mathbf{b}_l\big)\ (l < L),
#   \qquad \text{scores} = \mathbf{h}_{L-1}W_L + \mathbf{b}_L .$$
#
# The parameters are a list of pairs `[(W1, b1), ..., (WL, bL)]`, with `W_l` of shape
# $(D_{l-1}, D_l)$. The activation is chosen by name from the dictionary `ACTIVATIONS` below,
# which maps it to **your** forward and backward functions. The backward pass runs through the
# same layers in reverse order, reusing the caches, and returns the gradients as a list of
# pairs `[(dW1, db1), ..., (dWL, dbL)]` in the order of `params`.
#
# `init_mlp` (given) draws the initial weights from $\mathcal{N}(0, 2/D_{l-1})$ — a choice
# explained in chapter 05 — and sets the biases to 0.

# %%
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
}


def init_mlp(sizes, rng):
    """Parameters [(W1, b1), ...] of an MLP with layer sizes (D_0, D_1, ..., D_L)."""
    return [(rng.normal(size=(d_in, d_out)) * np.sqrt(2.0 / d_in), np.zeros(d_out))
            for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=False)]


# %% nbgrader="solution" grade_id="mlp"
def mlp_forward(params, X, activation="relu"):
    """Forward pass of an MLP: affine layers with the activation between them.

    Args:
        params: list of L >= 1 pairs (W_l, b_l), W_l of shape (D_{l-1}, D_l), b_l of shape (D_l,).
        X: float64 array of shape (N, D_0).
        activation: a key of ACTIVATIONS; applied after every affine layer except the last.

    Returns:
        scores: float64 array of shape (N, D_L).
        cache: whatever mlp_backward needs.
    """
    ### BEGIN SOLUTION
    act_forward, _ = ACTIVATIONS[activation]
    caches = []
    h = X
    for layer, (W, b) in enumerate(params):
        h, affine_cache = affine_forward(h, W, b)
        act_cache = None
        if layer < len(params) - 1:
            h, act_cache = act_forward(h)
        caches.append((affine_cache, act_cache))
    return h, (activation, caches)
    ### END SOLUTION


def mlp_backward(dscores, cache):
    """Backward pass of the MLP.

    Args:
        dscores: float64 array of shape (N, D_L), the gradient of the loss w.r.t. the scores.
        cache: from mlp_forward.

    Returns:
        grads: list of L pairs (dW_l, db_l), in the order of params, of their shapes.
    """
    ### BEGIN SOLUTION
    activation, caches = cache
    _, act_backward = ACTIVATIONS[activation]
    grads = [None] * len(caches)
    d = dscores
    for layer in reversed(range(len(caches))):
        affine_cache, act_cache = caches[layer]
        if act_cache is not None:
            d = act_backward(d, act_cache)
        d, dW, db = affine_backward(d, affine_cache)
        grads[layer] = (dW, db)
    return grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_mlp" points=6
# A 2-3-2 network with hand-picked weights and the ReLU.
_params = [(np.array([[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]]), np.array([0.0, 0.0, 1.0])),
           (np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.5, -0.5]))]
_X = np.array([[1.0, 1.0], [2.0, -1.0]])
_scores, _cache = unpack(call(mlp_forward, _params, _X, "relu"), 2, "mlp_forward")
# hidden pre-activations [[1, 1, 0.5], [2, -4, 3]] -> ReLU [[1, 1, 0.5], [2, 0, 3]]
assert_shape(_scores, (2, 2), name="mlp_forward(2-3-2 network, X (2, 2)): scores")
assert_close(_scores, [[2.0, 1.0], [5.5, 2.5]], name="mlp_forward: scores (no activation after the last layer)")
_grads = call(mlp_backward, np.array([[1.0, 0.0], [0.0, 1.0]]), _cache)
assert_that(isinstance(_grads, list | tuple) and len(_grads) == 2,
            "mlp_backward must return a list of one (dW, db) pair per layer")
assert_close(_grads[1][0], [[1.0, 2.0], [1.0, 0.0], [0.5, 3.0]], name="mlp_backward: dW2")
assert_close(_grads[1][1], [1.0, 1.0], name="mlp_backward: db2")
assert_close(_grads[0][1], [1.0, 0.0, 2.0], name="mlp_backward: db1 (through the ReLU)")
assert_close(_grads[0][0], [[1.0, 0.0, 3.0], [1.0, 0.0, 0.0]], name="mlp_backward: dW1")
# The same network with tanh: the activation argument must be used.
_scores, _cache = unpack(call(mlp_forward, _params, _X, "tanh"), 2, "mlp_forward")
_h = np.tanh(np.array([[1.0, 1.0, 0.5], [2.0, -4.0, 3.0]]))
assert_close(_scores, _h @ _params[1][0] + _params[1][1], name="mlp_forward(..., activation=\"tanh\"): scores")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_torch_acts = {"relu": _torch.relu, "tanh": _torch.tanh, "sigmoid": _torch.sigmoid,
               "leaky_relu": lambda t: _F.leaky_relu(t, 0.01), "elu": lambda t: _F.elu(t, 1.0)}


def _torch_mlp(params, X, dscores, act):
    """Scores and gradients [(dW, db), ...] of the MLP by PyTorch's autograd."""
    ts = [[_torch.tensor(W, requires_grad=True), _torch.tensor(b, requires_grad=True)] for W, b in params]
    h = _torch.tensor(X)
    for layer, (W, b) in enumerate(ts):
        h = h @ W + b
        if layer < len(ts) - 1:
            h = _torch_acts[act](h)
    h.backward(_torch.tensor(dscores))
    return h.detach().numpy(), [(W.grad.numpy(), b.grad.numpy()) for W, b in ts]


_rng = np.random.default_rng(310)
for _sizes in [(3, 2), (1, 1), (4, 5, 3), (2, 1, 1), (6, 8, 8, 4), (5, 7, 3, 6, 2), (3, 4, 4, 4, 4, 4, 2)]:
    for _act in ["relu", "tanh", "sigmoid", "leaky_relu", "elu"]:
        for _N, _scale in [(1, 2.0), (9, 2.0), (4, 1e3)]:
            _params = [(_rng.normal(size=(a, b)), _rng.normal(size=b)) for a, b in zip(_sizes[:-1], _sizes[1:], strict=False)]
            _X = _rng.normal(size=(_N, _sizes[0])) * _scale
            _dscores = _rng.normal(size=(_N, _sizes[-1]))
            _label = f"MLP with sizes {_sizes}, activation {_act!r}, batch {_N}, inputs of size ~{_scale:g}"
            _ref_scores, _ref_grads = _torch_mlp(_params, _X, _dscores, _act)
            _scores, _cache = unpack(call(mlp_forward, _params, _X, _act), 2, "mlp_forward")
            assert_close(_scores, _ref_scores, rtol=1e-9, atol=1e-12, name=f"{_label}: scores")
            _grads = call(mlp_backward, _dscores, _cache)
            assert_that(isinstance(_grads, list | tuple) and len(_grads) == len(_params),
                        f"{_label}: mlp_backward must return {len(_params)} (dW, db) pairs, one per layer")
            for _l, ((_dW, _db), (_eW, _eb)) in enumerate(zip(_grads, _ref_grads, strict=True)):
                assert_close(_dW, _eW, rtol=1e-8, atol=1e-11, name=f"{_label}: dW of layer {_l + 1}")
                assert_close(_db, _eb, rtol=1e-8, atol=1e-11, name=f"{_label}: db of layer {_l + 1}")
### END HIDDEN TESTS

# %% [markdown]
# **Training.** Below is a plain minibatch stochastic gradient descent loop for the MLP with
# the softmax cross-entropy (chapter 05 covers better optimizers): shuffle the training set
# every epoch, and for every batch of `batch_size` samples do forward, loss, backward, and
# $W \leftarrow W - \eta\,\partial L/\partial W$ for every parameter.

# %%
def accuracy(params, X, y, activation="relu"):
    """Fraction of samples whose highest score is the correct class."""
    scores, _ = mlp_forward(params, X, activation)
    return float(np.mean(scores.argmax(axis=1) == y))


def train_mlp(params, X, y, *, activation="relu", learning_rate=0.05, epochs=20, batch_size=32,
              seed=0, X_val=None, y_val=None):
    """Minibatch SGD on the softmax cross-entropy; updates params in place.

    Returns a dict of per-epoch lists: "loss" (mean training loss over the epoch's batches),
    "train_acc" and, with validation data, "val_acc".
    """
    rng = np.random.default_rng(seed)
    history = {"loss": [], "train_acc": [], "val_acc": []}
    for _ in range(epochs):
        order = rng.permutation(len(X))
        losses = []
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            scores, cache = mlp_forward(params, X[batch], activation)
            loss, dscores = softmax_cross_entropy_loss(scores, y[batch])
            for (W, b), (dW, db) in zip(params, mlp_backward(dscores, cache), strict=True):
                W -= learning_rate * dW
                b -= learning_rate * db
            losses.append(loss)
        history["loss"].append(float(np.mean(losses)))
        history["train_acc"].append(accuracy(params, X, y, activation))
        if X_val is not None:
            history["val_acc"].append(accuracy(params, X_val, y_val, activation))
    return history


# %% [markdown]
# **Concept check 4.** How many trainable parameters (weights and biases) does an MLP with
# layer sizes $(64, 128, 64, 10)$ have? Set `q4_answer` to an integer.

# %% nbgrader="solution" grade_id="q4_parameter_count"
# q4_answer = ...
### BEGIN SOLUTION
q4_answer = 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_parameter_count" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_scalar(q4_answer, name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, 17226, name="q4_answer", rtol=0.0, atol=0.5)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. The XOR problem
#
# The four points $(0,0), (1,1)$ (class 0) and $(0,1), (1,0)$ (class 1) cannot be separated by
# a line: any half-plane containing both class-1 points contains the segment between them,
# which crosses the segment between the class-0 points at $(\frac12, \frac12)$. So a linear
# classifier — an "MLP" with no hidden layer — gets at most 3 of the 4 points right. One hidden
# layer fixes this: the hidden units compute features (for example OR and NAND of the inputs)
# in which the classes *are* linearly separable, and the output layer combines them
# (XOR = AND of OR and NAND).

# %%
X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_xor = np.array([0, 1, 1, 0])
xor_models = {}
for name, sizes in [("no hidden layer (linear)", (2, 2)), ("one hidden layer of 4 tanh units", (2, 4, 2))]:
    params = init_mlp(sizes, np.random.default_rng(3))
    history = train_mlp(params, X_xor, y_xor, activation="tanh", learning_rate=0.5, epochs=2000,
                        batch_size=4)
    xor_models[name] = (params, history)
    print(f"{name}: final loss {history['loss'][-1]:.3f}, accuracy {history['train_acc'][-1]:.0%}")

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
for name, (_params, history) in xor_models.items():
    axes[0].plot(history["loss"], label=name)
axes[0].set(xlabel="epoch (one gradient step each)", ylabel="loss", title="XOR: training loss")
axes[0].legend(fontsize=8)
grid = np.linspace(-0.5, 1.5, 200)
gx, gy = np.meshgrid(grid, grid)
for ax, (name, (params, _)) in zip(axes[1:], xor_models.items(), strict=True):
    scores, _ = mlp_forward(params, np.column_stack([gx.ravel(), gy.ravel()]), "tanh")
    prob1 = softmax_forward(scores)[0][:, 1].reshape(gx.shape)
    ax.contourf(gx, gy, prob1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
    ax.scatter(*X_xor.T, c=y_xor, cmap="RdBu_r", s=120, edgecolors="k")
    ax.set(title=name, xlabel="$x_1$", ylabel="$x_2$")
plt.show()

# %% [markdown]
# The linear model settles at a loss of $\log 2$ with all predictions near $\frac12$ — the best
# it can do — while the hidden layer bends the boundary around the points.

# %% [markdown]
# **Concept check 5.** The network above used 4 hidden units; fewer suffice. A network has one
# hidden layer of ReLU, sigmoid or tanh units (one kind for all units) and a softmax output
# layer with two scores. What is the smallest number of hidden units with which it can
# classify all four XOR points correctly? Set `q5_answer` to an integer.

# %% nbgrader="solution" grade_id="q5_xor_units"
# q5_answer = ...
### BEGIN SOLUTION
q5_answer = 2
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_xor_units" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_scalar(q5_answer, name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, 2, name="q5_answer", rtol=0.0, atol=0.01)
### END HIDDEN TESTS

# %% [markdown]
# **One unit is enough — if it is not monotone.** With a single hidden unit
# $h = f(\mathbf{w}^\top\mathbf{x} + b)$, the two scores are affine functions of $h$, so the
# network predicts class 1 exactly where $h$ is above (or below) some threshold. For a
# monotone $f$ — ReLU, sigmoid, tanh, but also the leaky ReLU and the ELU — that is where
# $\mathbf{w}^\top\mathbf{x} + b$ is above (or below) some threshold: a half-plane, which
# cannot hold XOR. A **non-monotone** unit can do it. A PReLU unit whose slope has been learned
# as $a = -1$ computes $|z|$, and $|x_1 - x_2|$ is 0 on class 0 and 1 on class 1; so does a
# maxout unit with the two pieces $x_1 - x_2$ and $x_2 - x_1$. With your functions:

# %%
xor_prelu, _ = prelu_forward(X_xor @ np.array([[1.0], [-1.0]]), np.array([-1.0]))
xor_maxout, _ = maxout_forward(X_xor, np.array([[[1.0], [-1.0]], [[-1.0], [1.0]]]), np.zeros((2, 1)))
print("XOR labels:                      ", y_xor)
print("one PReLU unit, a = -1:          ", xor_prelu.ravel() + 0.0)  # + 0.0 turns -0.0 into 0.0
print("one maxout unit, pieces ±(x1-x2):", xor_maxout.ravel())

# %% [markdown]
# **Written answer (2 points).** A colleague removes all activation functions from a
# 10-layer MLP "to make training faster". Can the resulting network solve XOR? Explain in two
# to four sentences, with a formula.
#
# Write your answer in the next cell.

# %% [markdown] nbgrader="answer" grade_id="written_nonlinearity" points=2
# *Model answer.* No. Without activations each layer is affine, and a composition of affine
# maps is affine: $(XW_1 + \mathbf{b}_1)W_2 + \mathbf{b}_2 = X(W_1W_2) + (\mathbf{b}_1W_2 + \mathbf{b}_2)$,
# and by induction all 10 layers collapse to a single $XW + \mathbf{b}$. Its decision boundary
# is therefore a straight line (a hyperplane), and no line separates the XOR classes, so the
# deep linear network can do no better than logistic regression (3 of 4 points). The
# nonlinearity between the layers is what lets depth create new features.

# %% [markdown]
# ## 7. What one hidden layer can do, and what depth buys
#
# **Universal approximation.** An MLP with a *single* hidden layer can approximate any
# continuous function on a bounded region such as $[0, 1]^D$ as closely as you like, provided
# the hidden layer is wide enough and the activation is not a polynomial (Cybenko, 1989, for
# sigmoids; Hornik, 1991; Leshno et al., 1993, for every continuous non-polynomial activation,
# the ReLU included). In one dimension with ReLU units you can see why. A unit
# $\mathrm{ReLU}(wx + b)$ is a ramp with a single kink at $x = -b/w$, so a sum of $m$ ramps plus a
# constant is a continuous piecewise-linear function with at most $m$ kinks; conversely, every
# continuous piecewise-linear function on $[0, 1]$ with $m - 1$ kinks is such a sum (one unit
# for the slope of the first piece, one unit per kink). Joining the values of $f$ at $m$ evenly
# spaced points gives such a function, and its error goes to 0 as $m$ grows.
#
# The theorem says nothing about **how many** units are needed — and depth can need
# exponentially fewer. Take the **tent map**
#
# $$t(x) = 2\,\mathrm{ReLU}(x) - 4\,\mathrm{ReLU}\big(x - \tfrac12\big)
#   = \begin{cases} 2x & 0 \le x \le \frac12 \\ 2 - 2x & \frac12 < x \le 1 \end{cases},$$
#
# which folds $[0, 1]$ onto itself. Composed $k$ times, $t^{(k)} = t \circ \dots \circ t$ is a
# sawtooth with $2^{k-1}$ teeth: $2^k$ linear pieces and $2^k - 1$ kinks. A deep network
# computes it **exactly with 2 ReLU units per layer**: each hidden layer computes
# $\mathrm{ReLU}(u)$ and $\mathrm{ReLU}(u - \frac12)$ of the previous tent value
# $u = 2h_1 - 4h_2$, which is folded into the next layer's weights. That is $k$ hidden layers,
# $2k$ units and $6k + 1$ parameters. A network with one hidden layer has at most one kink per
# unit, so it needs at least $2^k - 1$ units to represent $t^{(k)}$ exactly. Each layer doubles
# the number of pieces by folding; a single layer can only add ramps up. (With far fewer than
# $2^k$ units the error is not merely above 0 but bounded below by a constant — Telgarsky,
# 2016.) Let us check with
# **your** `mlp_forward`, and fit one-hidden-layer networks of width $m$ whose kinks are spread
# evenly over $[0, 1]$, with the best output weights (least squares):

# %%
def tent_params(k):
    """Parameters of a ReLU MLP with k hidden layers of 2 units that computes t^(k) on [0, 1]."""
    params = [(np.array([[1.0, 1.0]]), np.array([0.0, -0.5]))]
    for _ in range(k - 1):  # u = 2 h1 - 4 h2, then ReLU(u) and ReLU(u - 1/2)
        params.append((np.array([[2.0, 2.0], [-4.0, -4.0]]), np.array([0.0, -0.5])))
    params.append((np.array([[2.0], [-4.0]]), np.array([0.0])))
    return params


def tent_composed(x, k):
    """t^(k)(x), computed directly (the reference)."""
    for _ in range(k):
        x = np.where(x <= 0.5, 2.0 * x, 2.0 - 2.0 * x)
    return x


def shallow_fit(x, target, m):
    """Least-squares fit by one hidden layer of m ReLU units with kinks at 0, 1/m, ..., (m-1)/m."""
    hidden, _ = relu_forward(x - np.arange(m) / m)  # (N, m): unit j is ReLU(x - j/m)
    features = np.column_stack([hidden, np.ones(len(x))])
    weights, *_ = np.linalg.lstsq(features, target, rcond=None)
    return features @ weights


x_grid = np.linspace(0.0, 1.0, 2**9 + 1)[:, None]
depth_k = 5
target = tent_composed(x_grid[:, 0], depth_k)
deep_out, _ = mlp_forward(tent_params(depth_k), x_grid, "relu")
deep_error = np.abs(deep_out[:, 0] - target).max()
widths = np.arange(1, 65)
shallow_rms = [np.sqrt(np.mean((shallow_fit(x_grid, target, m) - target) ** 2)) for m in widths]
print(f"t^({depth_k}): deep net with {2 * depth_k} units, {6 * depth_k + 1} parameters, max error {deep_error:.1e}")
for m in (16, 31, 32):
    print(f"one hidden layer, {m} units ({3 * m + 1} parameters): RMS error {shallow_rms[m - 1]:.3f}")

fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), layout="constrained")
for k in range(1, 5):
    axes[0].plot(x_grid, mlp_forward(tent_params(k), x_grid, "relu")[0], label=f"k = {k}")
axes[0].set(xlabel="x", title="$t^{(k)}$ by deep nets, 2 units per layer")
axes[0].legend(fontsize=8)
axes[1].plot(x_grid, target, color="0.6", lw=4, label=f"$t^{{({depth_k})}}$ = the deep net ({2 * depth_k} units)")
for m, style in [(16, "-"), (32, "--")]:
    axes[1].plot(x_grid, shallow_fit(x_grid, target, m), style, label=f"1 hidden layer, {m} units")
axes[1].set(xlabel="x", title=f"$t^{{({depth_k})}}$ and one-hidden-layer fits")
axes[1].legend(fontsize=8, loc="lower right")
axes[2].plot(widths, shallow_rms, ".-", label="one hidden layer (kinks spread evenly)")
axes[2].plot([2 * depth_k], [deep_error], "r*", ms=14, label=f"deep: {depth_k} layers × 2 units")
axes[2].axvline(2**depth_k - 1, color="0.5", ls=":", label=f"kink count: {2**depth_k - 1} units")
axes[2].set(xlabel="hidden units", ylabel="RMS error", title=f"fitting $t^{{({depth_k})}}$", ylim=(-0.01, 0.32))
axes[2].legend(fontsize=8)
plt.show()

# %% [markdown]
# One hidden layer stays about as bad as the best constant (RMS ≈ 0.29) until its width
# approaches $2^k$, while $k$ layers of 2 units are exact. (Just above 32 units the error jumps
# up again: evenly spread kinks then miss the corners of the sawtooth, and only multiples of
# 32 units hit them all.) Not every function is a sawtooth, but the
# lesson carries over: composing layers multiplies the number of linear pieces a ReLU network
# can make, adding units only adds to it. That is one reason why deep networks, not just wide
# ones, are used in practice.

# %% [markdown]
# **Concept check 6.** A one-hidden-layer ReLU network with a single input has at most one
# kink per hidden unit. Counting kinks, at least how many hidden units does such a network
# need to represent $t^{(6)}$ exactly on $[0, 1]$ (the deep network needs 12)? Set `q6_answer`
# to an integer.

# %% nbgrader="solution" grade_id="q6_depth_kinks"
# q6_answer = ...
### BEGIN SOLUTION
q6_answer = 2**6 - 1
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q6_depth_kinks" points=1
assert_that("q6_answer" in globals(), "q6_answer is not set yet: run its cell after answering")
assert_scalar(q6_answer, name="q6_answer")
### BEGIN HIDDEN TESTS
assert_answer(q6_answer, 63, name="q6_answer", rtol=0.0, atol=0.01)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Playground: decision boundaries in 2-D
#
# Train MLPs live. The playground uses **your** `init_mlp`, `mlp_forward`, `mlp_backward` and
# `softmax_cross_entropy_loss`; each press of *step* runs a few full-batch gradient steps and
# redraws, and *train* keeps stepping until you pause (the notebook stays responsive while it
# trains). Changing the data set, width, depth or activation starts a fresh network; the
# learning rate can be changed while training. Things to try:
#
# - *circles* with width 2: can two hidden units draw a closed boundary? With 3?
# - *spiral* with depth 1 vs depth 3 at the same width, ReLU vs tanh.
# - a learning rate of 1 or more: watch the loss curve.
# - *sigmoid* with depth 5: how fast does it learn compared with ReLU? (Recall the explorer.)

# %%
playground = decision_boundary_playground(
    init=init_mlp,
    forward=mlp_forward,
    backward=mlp_backward,
    loss=softmax_cross_entropy_loss,
    activations=list(ACTIVATIONS),
    dataset="moons",
    width=8,
    depth=2,
    activation="tanh",
    learning_rate=0.3,
)
display(playground)

# %% [markdown]
# ## 9. Experiment: handwritten digits
#
# Time for real data: scikit-learn's 1,797 handwritten digits, 8×8 gray-scale images (values
# 0–16) of the ten digits, flattened to 64 features. We hold out a quarter as the **test**
# set, touched once at the end, and a fifth of the rest as a **validation** set to watch
# during training. Inputs are standardised with the training set's statistics.

# %%
digits = load_digits()
X_dev, X_te, y_dev, y_te = train_test_split(digits.data, digits.target, test_size=0.25,
                                            random_state=0, stratify=digits.target)
X_tr, X_va, y_tr, y_va = train_test_split(X_dev, y_dev, test_size=0.2, random_state=0,
                                          stratify=y_dev)
pixel_mean, pixel_std = X_tr.mean(axis=0), X_tr.std(axis=0) + 1.0  # + 1: some pixels are always 0
X_tr, X_va, X_te = ((X - pixel_mean) / pixel_std for X in (X_tr, X_va, X_te))
print(f"train {X_tr.shape}, validation {X_va.shape}, test {X_te.shape}")

fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for digit, ax in enumerate(axes):
    ax.imshow(digits.images[digits.target == digit][0], cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=str(digit))
plt.show()

# %% [markdown]
# The network: 64 inputs → 256 ReLU units → 10 scores, trained for 40 epochs of minibatch SGD
# (batch size 32, learning rate 0.05). This takes a few seconds. (More hidden layers do not
# help much on such small images — once you are done, try `(64, 256, 128, 10)` in a cell of
# your own, with new names, so that `digits_params` stays the network graded below.)

# %%
start = time.perf_counter()
digits_params = init_mlp((64, 256, 10), np.random.default_rng(0))
digits_history = train_mlp(digits_params, X_tr, y_tr, activation="relu", learning_rate=0.05,
                           epochs=40, batch_size=32, seed=0, X_val=X_va, y_val=y_va)
digits_test_acc = accuracy(digits_params, X_te, y_te, "relu")
print(f"trained in {time.perf_counter() - start:.1f} s; test accuracy {digits_test_acc:.1%}")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.6))
epochs = np.arange(1, len(digits_history["loss"]) + 1)
ax_loss.semilogy(epochs, digits_history["loss"])
ax_loss.set(xlabel="epoch", ylabel="mean training loss (log scale)", title="Learning curve: loss")
ax_acc.plot(epochs, digits_history["train_acc"], label="train")
ax_acc.plot(epochs, digits_history["val_acc"], label="validation")
ax_acc.axhline(digits_test_acc, color="0.4", ls=":", label=f"test (final): {digits_test_acc:.1%}")
ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0.85, 1.005), title="Learning curve: accuracy")
ax_acc.legend(fontsize=8)
plt.show()

# %% nbgrader="tests" grade_id="test_digits_accuracy" points=2
assert_that(digits_test_acc >= 0.97, f"the MLP should classify at least 97% of the test digits "
            f"correctly, got {digits_test_acc:.1%}")
### BEGIN HIDDEN TESTS
_h = X_te
for _l, (_W, _b) in enumerate(digits_params):
    _h = _h @ np.asarray(_W, dtype=float) + np.asarray(_b, dtype=float)
    if _l < len(digits_params) - 1:
        _h = np.maximum(_h, 0.0)
_acc = float(np.mean(_h.argmax(axis=1) == y_te))
assert_that(_acc >= 0.97, f"the trained MLP classifies {_acc:.1%} of the test digits correctly, "
            "expected at least 97%")
assert_that(np.shape(digits_params[0][0])[0] == 64 and np.shape(digits_params[-1][0])[-1] == 10,
            "digits_params should be the trained network from 64 pixels to 10 scores")
### END HIDDEN TESTS

# %% [markdown]
# Training accuracy reaches 100 % while the validation accuracy levels off a little lower:
# the network has memorised the training digits, and the gap is mild overfitting — the topic
# of chapter 04. Which digits does it confuse? Here are the test digits it gets wrong, with
# its guess:

# %%
test_scores, _ = mlp_forward(digits_params, X_te, "relu")
wrong = np.flatnonzero(test_scores.argmax(axis=1) != y_te)
fig, axes = plt.subplots(1, max(len(wrong[:10]), 1), figsize=(10, 1.5), squeeze=False)
for ax, i in zip(axes[0], wrong[:10], strict=False):
    ax.imshow((X_te[i] * pixel_std + pixel_mean).reshape(8, 8), cmap="gray_r")
    ax.set(xticks=[], yticks=[], title=f"{y_te[i]} → {test_scores[i].argmax()}", )
plt.show()

# %% [markdown]
# ## 10. Symmetries: many weights, one function
#
# The trained digits network is one point in parameter space, but far from the only one that
# computes its function. Three transformations of a hidden layer leave the network's output
# unchanged for **every** input:
#
# 1. **Permuting the units.** Renumber the $H$ units of a hidden layer: reorder the columns of
#    its $W_l$ and the entries of its $\mathbf{b}_l$, and the rows of the next layer's
#    $W_{l+1}$ in the same way. Every unit still gets the same inputs and sends its output to
#    the same places. This works for any element-wise activation, and gives $H!$ equivalent
#    parameter settings per layer.
# 2. **Rescaling a ReLU unit.** For $c > 0$, $\mathrm{ReLU}(cz) = c\,\mathrm{ReLU}(z)$. So
#    multiplying unit $j$'s incoming weights $W_l[:, j]$ and bias $b_l[j]$ by $c$ and its
#    outgoing weights $W_{l+1}[j, :]$ by $1/c$ changes nothing — a continuous family of
#    equivalent parameters (also for the leaky ReLU and PReLU, not for sigmoid or tanh).
# 3. **Flipping a tanh unit.** tanh is odd, $\tanh(-z) = -\tanh(z)$: negating a unit's incoming
#    weights, bias and outgoing weights changes nothing (not so for the ReLU).
#
# Consequences: a minimum of the loss is never unique — with $H$ distinct units in a hidden
# layer, renumbering alone gives $H!$ parameter settings with the same loss — so individual
# weights of a trained network mean little on their own, and two independently trained
# networks can only be compared (or averaged) unit by unit after matching up their units.
# Units of a layer that start with identical incoming and outgoing weights get identical
# gradients and stay identical forever; random initialisation breaks that symmetry
# (chapter 05). And a weight penalty such as $\sum W^2$ (chapter 04) is *not* invariant under
# rescaling: among all the rescaled copies it prefers the balanced one.
#
# **Exercise.** Write `permute_hidden_units`, the first symmetry for one hidden layer: the
# unit numbered `perm[j]` becomes unit `j`. For a deep network, apply it to the weights into
# and out of the layer you renumber.

# %% nbgrader="solution" grade_id="symmetry"
def permute_hidden_units(W_in, b_in, W_out, perm):
    """Renumber the hidden units of one layer without changing the network's function.

    Old unit perm[j] becomes unit j: its incoming weights W_in[:, perm[j]], its bias
    b_in[perm[j]] and its outgoing weights W_out[perm[j], :] move to position j.

    Args:
        W_in: float64 array of shape (D, H), the weights into the layer's H units.
        b_in: float64 array of shape (H,), their biases.
        W_out: float64 array of shape (H, M), the weights out of them (the next layer's W).
        perm: int array of shape (H,), a permutation of 0, ..., H - 1.

    Returns:
        (W_in_new, b_in_new, W_out_new): new float64 arrays of shapes (D, H), (H,) and (H, M).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    W_in_new = W_in[:, perm]
    b_in_new = b_in[perm]
    W_out_new = W_out[perm, :]
    return W_in_new, b_in_new, W_out_new
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_symmetry" points=3
# One hidden layer of 3 units between 5 inputs and 4 outputs; old unit 2 becomes unit 0, and so on.
_rng = np.random.default_rng(7)
_W1, _b1, _W2, _b2 = _rng.normal(size=(5, 3)), _rng.normal(size=3), _rng.normal(size=(3, 4)), _rng.normal(size=4)
_X = _rng.normal(size=(6, 5))
_perm = np.array([2, 0, 1])
_expected = np.maximum(_X @ _W1 + _b1, 0.0) @ _W2 + _b2
_label = "permute_hidden_units(W_in (5, 3), b_in (3,), W_out (3, 4), perm=[2, 0, 1])"
_new = unpack(call(permute_hidden_units, _W1, _b1, _W2, _perm), 3, "permute_hidden_units")
for _a, _shape, _what in zip(_new, [(5, 3), (3,), (3, 4)], ["W_in_new", "b_in_new", "W_out_new"], strict=True):
    assert_shape(_a, _shape, name=f"{_label}: {_what}")
_W1n, _b1n, _W2n = _new
assert_close(np.maximum(_X @ _W1n + _b1n, 0.0) @ _W2n + _b2, _expected, rtol=1e-12,
             name=f"{_label}: the ReLU network's scores after renumbering (they must not change)")
for _j, _old in enumerate([2, 0, 1]):
    assert_close(_W1n[:, _j], _W1[:, _old], name=f"{_label}: W_in_new[:, {_j}] (the incoming weights of old unit {_old})")
    assert_close(_b1n[_j], _b1[_old], name=f"{_label}: b_in_new[{_j}] (the bias of old unit {_old})")
    assert_close(_W2n[_j], _W2[_old], name=f"{_label}: W_out_new[{_j}, :] (the outgoing weights of old unit {_old})")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(316)
for _D, _H, _M in [(1, 1, 1), (2, 4, 1), (3, 5, 7), (6, 6, 6), (4, 8, 3), (10, 2, 10)]:
    for _trial in range(3):
        _W1, _b1 = _rng.normal(size=(_D, _H)), _rng.normal(size=_H)
        _W2, _b2 = _rng.normal(size=(_H, _M)), _rng.normal(size=_M)
        _X = _rng.normal(size=(5, _D)) * 3
        _perm = _rng.permutation(_H) if _trial else np.arange(_H)
        _label = f"permute_hidden_units(W_in ({_D}, {_H}), b_in ({_H},), W_out ({_H}, {_M}), perm={_perm.tolist()})"
        _expected = {_name: _f(_X @ _W1 + _b1) @ _W2 + _b2 for _name, _f in [("relu", lambda z: np.maximum(z, 0.0)),
                                                                            ("tanh", np.tanh)]}
        _new = unpack(call(permute_hidden_units, _W1, _b1, _W2, _perm), 3, "permute_hidden_units")
        for _a, _shape, _what in zip(_new, [(_D, _H), (_H,), (_H, _M)], ["W_in_new", "b_in_new", "W_out_new"],
                                     strict=True):
            assert_shape(_a, _shape, name=f"{_label}: {_what}")
        _W1n, _b1n, _W2n = _new
        assert_close(np.maximum(_X @ _W1n + _b1n, 0.0) @ _W2n + _b2, _expected["relu"], rtol=1e-12, atol=1e-12,
                     name=f"{_label}: scores of the ReLU network (must not change)")
        assert_close(np.tanh(_X @ _W1n + _b1n) @ _W2n + _b2, _expected["tanh"], rtol=1e-12, atol=1e-12,
                     name=f"{_label}: scores of the tanh network (must not change)")
        assert_close(_W1n, np.column_stack([_W1[:, _k] for _k in _perm]), rtol=0, atol=0, name=f"{_label}: W_in_new")
        assert_close(_b1n, np.array([_b1[_k] for _k in _perm]), rtol=0, atol=0, name=f"{_label}: b_in_new")
        assert_close(_W2n, np.vstack([_W2[_k] for _k in _perm]), rtol=0, atol=0, name=f"{_label}: W_out_new")
# The middle layer of a deeper network: renumber it with the weights into and out of it.
_sizes = (3, 5, 4, 2)
_params = [(_rng.normal(size=(a, b)), _rng.normal(size=b)) for a, b in zip(_sizes[:-1], _sizes[1:], strict=False)]
_X = _rng.normal(size=(7, 3))


def _forward(params, X):
    h = X
    for layer, (W, b) in enumerate(params):
        h = h @ W + b
        h = np.maximum(h, 0.0) if layer < len(params) - 1 else h
    return h


_expected = _forward(_params, _X)
_perm = np.array([3, 1, 0, 2])
_W1n, _b1n, _W2n = unpack(call(permute_hidden_units, _params[1][0], _params[1][1], _params[2][0], _perm), 3,
                          "permute_hidden_units")
assert_close(_forward([_params[0], (_W1n, _b1n), (_W2n, _params[2][1])], _X), _expected, rtol=1e-12, atol=1e-12,
             name="scores of a 3-5-4-2 ReLU network after renumbering its second hidden layer (must not change)")
### END HIDDEN TESTS

# %% [markdown]
# All three symmetries on the trained digits network, with **your** functions: a random
# renumbering of the 256 hidden units, a random positive factor $c_j \in [0.1, 10]$ per unit,
# and a random sign per unit. The table shows by how much the test scores change — with the
# ReLU the network was trained with, and, as a contrast, with tanh in its place:

# %%
sym_rng = np.random.default_rng(1)
(W1, b1), (W2, b2) = digits_params
hidden = W1.shape[1]
perm_W1, perm_b1, perm_W2 = permute_hidden_units(W1, b1, W2, sym_rng.permutation(hidden))
factors = sym_rng.uniform(0.1, 10.0, size=hidden)
signs = sym_rng.choice([-1.0, 1.0], size=hidden)
transformed = {
    "permuted": [(perm_W1, perm_b1), (perm_W2, b2)],
    "rescaled by c > 0": [(W1 * factors, b1 * factors), (W2 / factors[:, None], b2)],
    "signs flipped": [(W1 * signs, b1 * signs), (W2 * signs[:, None], b2)],
}
print(f"{'':18s} {'max |change| of the scores':>28s}   {'sum of squared weights':>22s}")
for name, params in [("trained", digits_params), *transformed.items()]:
    changes = [np.abs(mlp_forward(params, X_te, act)[0] - mlp_forward(digits_params, X_te, act)[0]).max()
               for act in ("relu", "tanh")]
    print(f"{name:18s} ReLU {changes[0]:8.1e}   tanh {changes[1]:8.1e}   "
          f"{sum(float((W**2).sum()) for W, _ in params):22.0f}")
print(f"test accuracy of the permuted network: {accuracy(transformed['permuted'], X_te, y_te):.2%} "
      f"(trained: {digits_test_acc:.2%})")

# %% [markdown]
# Renumbering changes nothing for either activation; rescaling leaves the ReLU network exactly
# as it was (up to rounding) but not the tanh one; flipping signs is the other way round. The
# rescaled network computes the same function with a very different weight norm — which is
# why a weight penalty (chapter 04) is not a property of the function alone.

# %% [markdown]
# **Concept check 7.** Take a network with one hidden layer of **ReLU** units, and four changes
# of its parameters:
#
# - (a) multiply unit $j$'s incoming weights $W_1[:, j]$ and bias $b_1[j]$ by $-2$, and its
#   outgoing weights $W_2[j, :]$ by $-\frac12$;
# - (b) multiply $W_1[:, j]$ and $b_1[j]$ by $2$, and $W_2[j, :]$ by $\frac12$;
# - (c) swap columns $j$ and $k$ of $W_1$ and entries $j$ and $k$ of $\mathbf{b}_1$, leaving
#   $W_2$ as it is;
# - (d) add 1 to every entry of $\mathbf{b}_1$ and subtract 1 from every entry of $\mathbf{b}_2$.
#
# Which of the four leaves the network's output unchanged for every input? Set `q7_answer` to
# `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q7_symmetry"
# q7_answer = ...
### BEGIN SOLUTION
q7_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q7_symmetry" points=1
assert_that("q7_answer" in globals(), "q7_answer is not set yet: run its cell after answering")
assert_choice(q7_answer, ["a", "b", "c", "d"], name="q7_answer")
### BEGIN HIDDEN TESTS
assert_answer(q7_answer, "b", name="q7_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Use the activation explorer with depth 20 and weight scale 1.
# Describe how the gradient size changes from the top to the bottom of the stack for the
# sigmoid, tanh and ReLU, and explain the differences from the derivatives of these functions
# (two to four sentences).
#
# Write your answer in the next cell.

# %% [markdown] nbgrader="answer" grade_id="written_activations" points=2
# *Model answer.* With the sigmoid the gradient shrinks by about 12 orders of magnitude over
# the 20 layers, by a roughly constant factor per layer, because every layer multiplies it by
# $\sigma'(z) \le \frac14$; the bottom layers would barely learn — the vanishing-gradient
# problem. Tanh loses far less (a factor of about 6 in all): its pre-activations stay near 0,
# where $\tanh' \approx 1$, and it loses only where $\tanh' < 1$. The ReLU's derivative is 1
# for active units and 0 for the others; about half of the units are off, so at scale 1 each
# layer shrinks the gradient's size by about $1/\sqrt 2$, about $2^{-10} \approx 10^{-3}$ over 20
# layers — much better than the sigmoid, worse than tanh. With scale $\sqrt 2$ the factor 2
# makes up for the inactive half and the ReLU's gradient keeps its size.

# %% [markdown]
# ## Summary
#
# - Every layer is a pair `forward(x, *params) -> (out, cache)` and
#   `backward(dout, cache) -> (dx, *dparams)`; each gradient has the shape of what it is the
#   gradient of, and parameters used by every sample (biases, PReLU slopes) get **sums**.
# - Activations make depth useful. Saturating ones (sigmoid, tanh) shrink gradients through
#   depth; ReLU-like ones keep them alive, and their leaky, parametric and exponential variants
#   keep negative units from dying.
# - Losses follow from the likelihood of the targets. Compute them from the **scores**, with
#   the max subtracted and logarithms taken of sums of exponentials, never of probabilities:
#   then logits of ±1000 are harmless.
# - For two classes, the softmax of two scores is the sigmoid of their difference: one output
#   unit is enough.
# - An MLP is just the layers in a loop, forwards and then backwards; one hidden layer already
#   solves XOR, and a small MLP reads handwritten digits with about 98 % accuracy.
# - One hidden layer can approximate any continuous function, but may need exponentially many
#   units for what a deep network does with a few per layer: depth multiplies the linear
#   pieces of a ReLU network, width only adds to them.
# - Many parameter settings compute the same function: permuted hidden units, rescaled ReLU
#   units, sign-flipped tanh units. Weights mean little one by one, and random
#   initialisation is needed to break the symmetry between units.
#
# **Next chapter:** the training accuracy hit 100 %. Regularization — penalties, early
# stopping, dropout, data augmentation — keeps networks from memorising their training data.
