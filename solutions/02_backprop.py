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
# # Chapter 02 — Computation graphs and backpropagation
#
# Chapter 01's models were linear in their parameters, so a formula gave the best weights.
# Neural networks are not: they are trained by following the gradient of the loss, step by
# step. This chapter is about where those gradients come from. You will derive one by hand,
# then build the machine that derives them automatically — **backpropagation on a computation
# graph** — twice: once for single numbers, once for whole arrays, in the style of a small
# educational deep-learning framework. You will check it against finite differences, and
# finally train a logistic regression and a two-layer network with it.
#
# **What you will build** (all in numpy):
#
# | # | what | idea |
# |---|---|---|
# | 1 | `sigmoid`, `logistic_loss_grad` | logistic regression with the binary cross-entropy, gradient by hand |
# | 2 | `Scalar` (its operations) | a number that remembers how it was computed |
# | 3 | `topological_order`, `backward` | reverse-mode automatic differentiation of a scalar graph |
# | 4 | `Affine`, `Tanh`, `BCEWithLogitsLoss` | compute nodes of a tensor computation graph |
# | 5 | `numeric_grad`, `rel_error` | gradient checking by central differences |
#
# On the way: a **computation-graph stepper** that walks through the forward values and the
# backward gradients node by node, training curves and decision boundaries, concept checks
# and two short written answers.
#
# **You need**: chapter 01 (gradients of a loss, mean squared error), the chain rule from
# calculus, numpy arrays and `@`, and Python classes (a class with a few methods).
#
# **Time**: about 3–4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong. The
# grader runs more (hidden) checks, among them comparisons with PyTorch's automatic
# differentiation on random inputs, so make your code correct in general, not just for the
# visible examples. Do not rename the functions or classes or change their arguments.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from sklearn.datasets import make_moons

from helpers.explorers.backprop import graph_stepper
from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_shape,
    assert_that,
    call,
    fail,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)


# %% [markdown]
# ## 0. The data: two interleaving half-moons
#
# A classic 2-D classification problem that no straight line can separate. We draw 200
# training and 200 test points and standardise both with the training set's mean and
# standard deviation (so that both features are on the same scale).

# %%
X_all, y_all = make_moons(n_samples=400, noise=0.2, random_state=0)
X_train, y_train = X_all[:200], y_all[:200].astype(float)
X_test, y_test = X_all[200:], y_all[200:].astype(float)
mean, std = X_train.mean(axis=0), X_train.std(axis=0)
X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.scatter(*X_train[y_train == 0].T, s=14, label="class 0")
ax.scatter(*X_train[y_train == 1].T, s=14, label="class 1")
ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Training data (standardised)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 1. Logistic regression, gradient by hand
#
# Logistic regression predicts the probability of class 1 by squashing a linear score
# through the **logistic sigmoid**:
#
# $$z = \mathbf{w}^\top\mathbf{x} + b, \qquad \hat y = \sigma(z) = \frac{1}{1 + e^{-z}} .$$
#
# Its loss is the **binary cross-entropy** (BCE): the negative log-likelihood of the label
# $y \in \{0, 1\}$ under a Bernoulli distribution with parameter $\hat y$,
# $\ell = -y\log\hat y - (1-y)\log(1-\hat y)$, averaged over the $N$ samples. Unlike the
# squared error of chapter 01 it is not quadratic in $\mathbf{w}$, so no formula gives the best
# weights; but it is **convex**, so gradient descent cannot get stuck in a worse local minimum.
#
# **The gradient, step by step.** Write $\ell$ as a chain $z \to \hat y \to \ell$:
#
# $$\frac{\partial \ell}{\partial \hat y} = \frac{\hat y - y}{\hat y(1-\hat y)}, \qquad
#   \frac{\partial \hat y}{\partial z} = \sigma(z)\big(1-\sigma(z)\big) = \hat y(1 - \hat y),
#   \qquad\Rightarrow\qquad \frac{\partial \ell}{\partial z} = \hat y - y .$$
#
# The messy factors cancel: the gradient with respect to the score is just *prediction minus
# target*. With $\partial z/\partial\mathbf{w} = \mathbf{x}$ and $\partial z/\partial b = 1$, and
# the samples stacked as rows of $X$, the mean loss $L$ has
#
# $$\nabla_{\mathbf{w}} L = \frac{1}{N} X^\top(\hat{\mathbf{y}} - \mathbf{y}), \qquad
#   \frac{\partial L}{\partial b} = \frac{1}{N}\sum_{n}(\hat y_n - y_n).$$
#
# **Numerical care.** For $z = -1000$, `np.exp(-z)` overflows; for $z = 40$, $\hat y$ rounds
# to exactly 1.0 and $\log(1 - \hat y) = -\infty$. Compute in terms of $z$ instead:
#
# - $\sigma(z) = \frac{1}{1 + e^{-z}}$ for $z \ge 0$, and $\sigma(z) = \frac{e^{z}}{1 + e^{z}}$ for
#   $z < 0$ — the exponent is never positive, so nothing overflows.
# - Since $\log\sigma(z) = -\log(1 + e^{-z})$ and $\log(1 - \sigma(z)) = -\log(1 + e^{z})$, the
#   loss of one sample is $\ell = \log(1 + e^{z}) - yz$, and
#   $\log(1 + e^{z}) = \max(z, 0) + \log(1 + e^{-|z|})$ is safe for every $z$
#   (`np.log1p(u)` computes $\log(1 + u)$ accurately for small $u$).
#
# Neither function may change the arrays it is given: compute new arrays instead.

# %% nbgrader="solution" grade_id="logistic_regression"
def sigmoid(z):
    """The logistic sigmoid 1 / (1 + exp(-z)), element-wise, without overflow.

    Args:
        z: float64 array of any shape (not modified).

    Returns:
        float64 array of the shape of z with values in [0, 1]; finite for any finite z
        (for example z = -1000 gives 0.0, z = 1000 gives 1.0, with no NaN), and accurate for
        tiny probabilities (z = -700 gives about 1e-304, not 0).
    """
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


def logistic_loss_grad(w, b, X, y):
    """Mean binary cross-entropy of logistic regression and its gradient.

    Args:
        w: float64 array of shape (D,), the weights.
        b: float, the bias.
        X: float64 array of shape (N, D), one sample per row.
        y: float64 array of shape (N,) with labels 0.0 or 1.0.
        None of the arrays is modified.

    Returns:
        (loss, dw, db): loss a Python float, the mean over the N samples of
        -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) with z = X @ w + b;
        dw a float64 array of shape (D,), dL/dw; db a Python float, dL/db.
        All finite for any finite inputs (compute the loss from z, not from sigmoid(z)).
    """
    ### BEGIN SOLUTION
    z = X @ w + b
    loss = np.mean(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))))
    dz = (sigmoid(z) - y) / len(y)
    return float(loss), X.T @ dz, float(dz.sum())
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_logistic_regression" points=4
assert_close(call(sigmoid, np.array([0.0, 2.0, -2.0])), [0.5, 0.8807970779778823, 0.11920292202211755],
             name="sigmoid([0, 2, -2])")
assert_close(call(sigmoid, np.array([[-1000.0, 1000.0]])), [[0.0, 1.0]], name="sigmoid([[-1000, 1000]])")
# One sample x = (1, 2), y = 1, w = 0, b = 0: z = 0, prediction 0.5, loss log 2, dL/dz = -0.5.
_loss, _dw, _db = unpack(call(logistic_loss_grad, np.zeros(2), 0.0, np.array([[1.0, 2.0]]),
                              np.array([1.0])), 3, "logistic_loss_grad")
assert_scalar(_loss, np.log(2.0), name="loss for w = 0, b = 0 (prediction 0.5)")
assert_shape(_dw, (2,), name="dw")
assert_close(_dw, [-0.5, -1.0], name="dw for x = (1, 2), y = 1, w = 0, b = 0")
assert_scalar(_db, -0.5, name="db for x = (1, 2), y = 1, w = 0, b = 0")
# Two samples and a bias: z = X w + b = (0.5, -1.5). The loss and the gradient are means.
_X, _y = np.array([[0.0, 3.0], [-2.0, 1.0]]), np.array([1.0, 0.0])
_z = np.array([0.5, -1.5])
_dz = (1.0 / (1.0 + np.exp(-_z)) - _y) / 2
_loss, _dw, _db = unpack(call(logistic_loss_grad, np.array([1.0, 0.0]), 0.5, _X, _y), 3, "logistic_loss_grad")
assert_scalar(_loss, np.mean(np.log1p(np.exp(_z)) - _y * _z),
              name="loss for two samples with w = (1, 0), b = 0.5 (the mean over the samples)")
assert_close(_dw, _X.T @ _dz, name="dw for two samples with w = (1, 0), b = 0.5")
assert_scalar(_db, np.sum(_dz), name="db for two samples with w = (1, 0), b = 0.5")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(201)
for _shape in [(1,), (7,), (3, 4), (2, 3, 5)]:
    _z = _rng.normal(size=_shape) * 5
    assert_close(call(sigmoid, _z), _torch.sigmoid(_torch.tensor(_z)).numpy(), rtol=1e-12, atol=1e-300,
                 name=f"sigmoid on shape {_shape}")
for _z in [np.array([-1e5, -745.0, -700.0, -600.0, -501.0]),  # tiny probabilities, on their own scale
           np.array([-40.0, -1e-8, 0.0, 1e-8, 40.0, 700.0, 1e5])]:
    assert_close(call(sigmoid, _z), _torch.sigmoid(_torch.tensor(_z)).numpy(), rtol=1e-12, atol=1e-320,
                 name=f"sigmoid({_z.tolist()}) (no NaN, tiny values kept accurately)")

for _N, _D in [(1, 1), (1, 4), (5, 1), (10, 3), (64, 8), (200, 2)]:
    for _scale in [1.0, 100.0, 1e4]:
        _X = _rng.normal(size=(_N, _D)) * _scale
        _y = _rng.integers(0, 2, size=_N).astype(float)
        _w = _rng.normal(size=_D)
        _b = float(_rng.normal()) * 3
        _label = f"logistic_loss_grad(X ({_N}, {_D}) of size ~{_scale:g}, b = {_b:.3g})"
        _wt = _torch.tensor(_w, requires_grad=True)
        _bt = _torch.tensor(_b, dtype=_torch.float64, requires_grad=True)
        _ref = _F.binary_cross_entropy_with_logits(_torch.tensor(_X) @ _wt + _bt, _torch.tensor(_y))
        _ref.backward()
        _loss, _dw, _db = unpack(call(logistic_loss_grad, _w, _b, _X, _y), 3, "logistic_loss_grad")
        assert_scalar(_loss, _ref.item(), rtol=1e-9, atol=1e-12, name=f"{_label}: loss")
        assert_close(_dw, _wt.grad.numpy(), rtol=1e-8, atol=1e-12, name=f"{_label}: dw")
        assert_scalar(_db, _bt.grad.item(), rtol=1e-8, atol=1e-12, name=f"{_label}: db")
# Confidently wrong predictions (|z| = 1000): the loss is about 1000, not inf or nan.
_loss, _dw, _db = unpack(call(logistic_loss_grad, np.array([1000.0]), 0.0, np.array([[1.0], [-1.0]]),
                              np.array([0.0, 1.0])), 3, "logistic_loss_grad")
assert_scalar(_loss, 1000.0, rtol=1e-12, name="loss for z = +-1000 on the wrong side")
assert_close(_dw, [1.0], rtol=1e-12, name="dw for z = +-1000 on the wrong side")
assert_scalar(_db, 0.0, atol=1e-12, name="db for z = +-1000 on the wrong side")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: gradient descent on the moons.** With the gradient in hand, training is a
# loop: $\mathbf{w} \leftarrow \mathbf{w} - \eta\nabla_{\mathbf{w}}L$,
# $b \leftarrow b - \eta\,\partial L/\partial b$.

# %%
def decision_grid(predict, extent=(-2.5, 2.5, -2.5, 2.5), n=150):
    """Evaluate predict(points of shape (n*n, 2)) on a grid; returns (xx, yy, values)."""
    xx, yy = np.meshgrid(np.linspace(*extent[:2], n), np.linspace(*extent[2:], n))
    values = predict(np.column_stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    return xx, yy, values


def plot_boundary(ax, predict, title):
    """Probability of class 1 as background, the decision boundary p = 0.5, the training data."""
    xx, yy, p = decision_grid(predict)
    ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.4)
    ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(*X_train.T, c=y_train, cmap="RdBu_r", s=12, edgecolors="k", linewidths=0.3)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")


w_lr, b_lr = np.zeros(2), 0.0
losses_lr = []
for _ in range(300):
    loss, dw, db = logistic_loss_grad(w_lr, b_lr, X_train, y_train)
    losses_lr.append(loss)
    w_lr, b_lr = w_lr - 1.0 * dw, b_lr - 1.0 * db
acc_lr = np.mean((X_train @ w_lr + b_lr > 0) == y_train)

fig, (ax_loss, ax_bd) = plt.subplots(1, 2, figsize=(10, 3.6))
ax_loss.plot(losses_lr)
ax_loss.set(xlabel="gradient step", ylabel="mean BCE", title="Logistic regression: training loss")
plot_boundary(ax_bd, lambda P: sigmoid(P @ w_lr + b_lr),
              f"Linear decision boundary (train accuracy {acc_lr:.1%})")
plt.show()

# %% [markdown]
# The loss goes down smoothly, but the boundary is a straight line — the best a linear
# model can do — and it misclassifies the tips of both moons. To do better we need a model
# with more structure, and deriving gradients by hand for every new model quickly gets
# tedious and error-prone. Time to automate. But first two checks on this section.

# %% [markdown]
# **Concept check 1.** A single sample $\mathbf{x} = (3, -1)$ with label $y = 0$, and
# parameters $\mathbf{w} = \mathbf{0}$, $b = 0$. What is $\partial \ell/\partial w_1$ (the
# derivative of this sample's BCE with respect to the *first* weight)? Set `q1_answer` to a
# number.

# %% nbgrader="solution" grade_id="q1_logistic_gradient"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 1.5
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_logistic_gradient" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 1.5, name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Why this loss? Likelihood, cross-entropy and KL divergence.** For one sample, the label
# describes a distribution over the two classes, $p = (1 - y,\; y)$, and the model predicts
# another, $q = (1 - \hat y,\; \hat y)$. The BCE is their **cross-entropy**
# $H(p, q) = -\sum_k p_k \log q_k$, and a cross-entropy splits into two parts:
#
# $$H(p, q) = \underbrace{-\sum_k p_k \log p_k}_{\text{entropy } H(p)}
#   \;+\; \underbrace{\sum_k p_k \log \frac{p_k}{q_k}}_{\text{KL divergence } D_{\mathrm{KL}}(p \,\|\, q)} .$$
#
# The entropy of the data does not depend on the model's parameters, and the
# **Kullback–Leibler divergence** is never negative and is zero only when $q = p$. So
# maximising the likelihood, minimising the cross-entropy and minimising the KL divergence
# between the data's distribution and the model's are the same goal: training pulls the model's
# predictions towards the data. For hard labels ($y$ exactly 0 or 1) the entropy is 0, and the
# BCE *is* the KL divergence.

# %% [markdown]
# **Concept check 2.** Labels need not be hard. A *soft* label $y = 0.5$ says that both
# classes are equally likely (say, two annotators disagreed). Over all predictions
# $\hat y \in (0, 1)$, what is the smallest value that the BCE
# $-y\log\hat y - (1-y)\log(1-\hat y)$ of this sample can take? Set `q2_answer` to a number
# (natural logarithm; four significant digits are enough).

# %% nbgrader="solution" grade_id="q2_cross_entropy"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = math.log(2.0)
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_cross_entropy" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, math.log(2.0), name="q2_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Computation graphs: numbers that remember their history
#
# Any computation built from simple operations can be drawn as a **computation graph**: one
# node per intermediate result, with edges from each operation's inputs (its *parents*) to
# its output. Logistic regression is the chain $w, x, b \to z \to \hat y \to \ell$.
#
# **Forward pass**: compute the nodes' values from the leaves (inputs and parameters) towards
# the output. Along the way each node can also record its **local derivatives**
# $\partial(\text{node})/\partial(\text{parent})$ — they only depend on values known at that
# moment. For $c = a \cdot b$ they are $\partial c/\partial a = b$ and $\partial c/\partial b = a$.
#
# **Backward pass**: the chain rule, applied from the output $L$ backwards. Writing
# $\bar v = \partial L/\partial v$ for the gradient of the output with respect to node $v$,
#
# $$\bar L = 1, \qquad \bar v = \sum_{c \,\in\, \text{children}(v)} \bar c\,
#   \frac{\partial c}{\partial v}.$$
#
# The **sum** is the multivariate chain rule: a node that is used several times (a *fan-out*,
# like a weight shared by many samples, or $a$ in $a \cdot a$) influences $L$ along several
# paths, and the contributions of all paths add up.
#
# You will implement a tiny engine for this. Its bookkeeping is given: a `ScalarNode` holds a
# `value`, a `grad`, its `parents` and its `local_grads` — one local derivative per parent, in
# the same order. The class `Scalar` adds the arithmetic: every operation creates a new
# `Scalar(result, parents, local_grads, op)`. Addition is done for you; complete the others.
# Python numbers mixed into an expression (like the `2` in `a * 2`) become constant leaves.

# %%
class ScalarNode:
    """The bookkeeping of a node in a scalar computation graph (arithmetic: see Scalar).

    Attributes:
        value: float, the result of the forward computation.
        grad: float, dL/d(this node) after backward(L); 0.0 before.
        parents: tuple of the nodes this one was computed from (empty for leaves).
        local_grads: tuple of floats, d(this)/d(parent) for each parent, same order.
        op: str, a short name of the operation that made this node ("" for leaves).
        label: str, an optional name for display.
    """

    def __init__(self, value, parents=(), local_grads=(), op="", label=""):
        self.value = float(value)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local_grads = tuple(float(g) for g in local_grads)
        self.op = op
        self.label = label

    def __repr__(self):
        name = self.label or self.op or "leaf"
        return f"{type(self).__name__}({name}: value={self.value:.6g}, grad={self.grad:.6g})"


# %% nbgrader="solution" grade_id="scalar_ops"
class Scalar(ScalarNode):
    """A number in a computation graph: ScalarNode's bookkeeping plus arithmetic.

    Create leaves with Scalar(value, label="w"); every operation returns a new Scalar
    Scalar(result, parents, local_grads, op) whose local_grads hold d(result)/d(parent), and
    leaves its inputs (their value and grad) unchanged.
    """

    @staticmethod
    def lift(other):
        """A Scalar stays itself; a Python number becomes a constant leaf."""
        return other if isinstance(other, Scalar) else Scalar(other, label=f"{other:g}")

    def __add__(self, other):
        other = Scalar.lift(other)
        return Scalar(self.value + other.value, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        """self * other, with local gradients (d/dself, d/dother)."""
        other = Scalar.lift(other)
        ### BEGIN SOLUTION
        return Scalar(self.value * other.value, (self, other), (other.value, self.value), "*")
        ### END SOLUTION

    def __pow__(self, n):
        """self ** n for a constant Python number n (not a Scalar).

        Defined where Python's float power is: any base for a whole number n (negative bases,
        and 0 ** n for n >= 1, included), a positive base for other n.
        """
        ### BEGIN SOLUTION
        return Scalar(self.value**n, (self,), (n * self.value ** (n - 1),), f"**{n:g}")
        ### END SOLUTION

    def exp(self):
        """e ** self.

        Above self.value = 709.78... the result exceeds the largest float: then value and local
        gradient are inf, as in numpy and PyTorch (math.exp raises OverflowError there instead).
        """
        ### BEGIN SOLUTION
        try:
            e = math.exp(self.value)
        except OverflowError:
            e = math.inf
        return Scalar(e, (self,), (e,), "exp")
        ### END SOLUTION

    def log(self):
        """Natural logarithm of self (self.value > 0)."""
        ### BEGIN SOLUTION
        return Scalar(math.log(self.value), (self,), (1.0 / self.value,), "log")
        ### END SOLUTION

    def tanh(self):
        """Hyperbolic tangent of self."""
        ### BEGIN SOLUTION
        t = math.tanh(self.value)
        return Scalar(t, (self,), (1.0 - t * t,), "tanh")
        ### END SOLUTION

    def relu(self):
        """max(0, self); its local derivative is 1 for value > 0 and 0 for value <= 0.

        (At the kink 0 any number in [0, 1] is a valid choice; we take 0, as PyTorch does.)
        """
        ### BEGIN SOLUTION
        return Scalar(max(self.value, 0.0), (self,), (1.0 if self.value > 0 else 0.0,), "relu")
        ### END SOLUTION

    # Everything else is built from the operations above.
    def __radd__(self, other):  # other + self, for a Python number other
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return (-self) + other

    def __truediv__(self, other):
        return self * Scalar.lift(other) ** -1

    def __rtruediv__(self, other):  # other / self
        return Scalar.lift(other) * self**-1


# %% nbgrader="tests" grade_id="test_scalar_ops" points=3
def _node(method, *args):
    """Call your Scalar's `method` on args through `call` and return what the tests check: the
    result's type, value, parents (as positions among args; -1 for a new constant leaf) and
    local_grads, and (value, grad) of each input afterwards. If the method raises an
    ArithmeticError (OverflowError, ZeroDivisionError, ...) or a ValueError, that error is
    reported in place of the type."""

    def run(*args):
        try:
            out = method(*args)
        except (ArithmeticError, ValueError) as error:  # e.g. OverflowError, ZeroDivisionError
            return f"an error ({type(error).__name__}: {error})", None, (), (), ()
        inputs = tuple((a.value, a.grad) for a in args if isinstance(a, ScalarNode))
        if not isinstance(out, Scalar):
            return type(out).__name__, None, (), (), inputs
        parents = tuple(next((k for k, a in enumerate(args) if p is a), -1) for p in out.parents)
        return "Scalar", out.value, parents, out.local_grads, inputs

    run.__name__, run.__qualname__ = method.__name__, method.__qualname__
    return call(run, *args)


def _check(label, result, value, parents, local_grads, inputs, rtol=1e-9, atol=1e-300):
    kind, got_value, got_parents, got_local, got_inputs = result
    assert_that(kind == "Scalar", f"{label} must return a new Scalar, got {kind}")
    assert_scalar(got_value, value, rtol=rtol, atol=atol, name=f"({label}).value")
    assert_that(got_parents == parents, f"({label}).parents must be the inputs {parents} (their "
                f"positions among the arguments, -1 for a constant), got {got_parents}")
    assert_close(got_local, local_grads, rtol=rtol, atol=atol, name=f"({label}).local_grads")
    assert_close(got_inputs, inputs, rtol=0, atol=0,
                 name=f"(value, grad) of the inputs after {label} (an operation must not change them)")


_a, _b = Scalar(3.0, label="a"), Scalar(-2.0, label="b")
_check("a * b for a = 3, b = -2", _node(Scalar.__mul__, _a, _b), -6.0, (0, 1), [-2.0, 3.0],
       [(3.0, 0.0), (-2.0, 0.0)])
for _label, _method, _args, _value, _local in [
    ("a ** 3", Scalar.__pow__, (_a, 3), 27.0, 27.0),
    ("a.exp()", Scalar.exp, (_a,), math.exp(3.0), math.exp(3.0)),
    ("a.log()", Scalar.log, (_a,), math.log(3.0), 1.0 / 3.0),
    ("b.tanh()", Scalar.tanh, (_b,), math.tanh(-2.0), 1.0 - math.tanh(-2.0) ** 2),
    ("a.relu()", Scalar.relu, (_a,), 3.0, 1.0),
    ("b.relu()", Scalar.relu, (_b,), 0.0, 0.0),
]:
    _check(f"{_label} for a = 3, b = -2", _node(_method, *_args), _value, (0,), [_local],
           [(_args[0].value, 0.0)])
### BEGIN HIDDEN TESTS
import torch as _torch


def _torch_local(op, *values):
    ts = [_torch.tensor(v, dtype=_torch.float64, requires_grad=True) for v in values]
    out = op(*ts)
    return out.item(), [g.item() for g in _torch.autograd.grad(out, ts)]


_rng = np.random.default_rng(202)
for _trial in range(20):
    _u, _v = (float(x) for x in _rng.normal(size=2) * 2)
    _pos = abs(_u) + 0.1
    for _name, _method, _const, _top, _args in [
        ("a * b", Scalar.__mul__, None, lambda a, b: a * b, (_u, _v)),
        ("a ** 2", Scalar.__pow__, 2, lambda a: a**2, (_u,)),
        ("a ** 3", Scalar.__pow__, 3, lambda a: a**3, (_u,)),
        ("a ** -1", Scalar.__pow__, -1, lambda a: a**-1, (_u,)),
        ("a ** 0.5", Scalar.__pow__, 0.5, lambda a: a**0.5, (_pos,)),
        ("a ** -1.5", Scalar.__pow__, -1.5, lambda a: a**-1.5, (_pos,)),
        ("a.exp()", Scalar.exp, None, lambda a: a.exp(), (_u,)),
        ("a.log()", Scalar.log, None, lambda a: a.log(), (_pos,)),
        ("a.tanh()", Scalar.tanh, None, lambda a: a.tanh(), (_u,)),
        ("a.relu()", Scalar.relu, None, lambda a: a.relu(), (_u,)),
    ]:
        _leaves = [Scalar(x) for x in _args]
        _value, _grads = _torch_local(_top, *_args)
        _label = f"{_name} at a = {', '.join(f'{x:.4g}' for x in _args)}"
        _extra = () if _const is None else (_const,)
        _check(_label, _node(_method, *_leaves, *_extra), _value, tuple(range(len(_leaves))), _grads,
               [(x, 0.0) for x in _args])
    # The same node twice: a * a has parents (a, a), each with local gradient a.
    _s = Scalar(_u)
    _check(f"a * a at a = {_u:.4g}", _node(Scalar.__mul__, _s, _s), _u * _u, (0, 0), [_u, _u],
           [(_u, 0.0), (_u, 0.0)])
# Powers at 0 and at negative bases, wherever they are defined.
for _n, _x in [(1, 0.0), (2, 0.0), (3, 0.0), (2, -3.0), (3, -1.5), (-1, -2.0), (-2, -0.5), (5, -1.0),
               (2.0, -3.0), (1, -4.0)]:
    _value, _grads = _torch_local(lambda a, n=_n: a**n, _x)
    _check(f"a ** {_n} at a = {_x:g}", _node(Scalar.__pow__, Scalar(_x), _n), _value, (0,), _grads,
           [(_x, 0.0)], rtol=1e-12, atol=0.0)
# Extreme arguments: saturated, tiny or overflowing values (exp overflows to inf, as in PyTorch).
for _name, _method, _arg in [("a.tanh()", Scalar.tanh, 1000.0), ("a.tanh()", Scalar.tanh, -1000.0),
                             ("a.exp()", Scalar.exp, -1000.0), ("a.exp()", Scalar.exp, 700.0),
                             ("a.exp()", Scalar.exp, 709.0), ("a.exp()", Scalar.exp, 1000.0),
                             ("a.log()", Scalar.log, 1e-300), ("a ** 2", None, 1e150),
                             ("a.relu()", Scalar.relu, -1e300), ("a.relu()", Scalar.relu, 1e300)]:
    _top = {"a.tanh()": _torch.tanh, "a.exp()": _torch.exp, "a.log()": _torch.log,
            "a ** 2": lambda a: a**2, "a.relu()": _torch.relu}[_name]
    _value, _grads = _torch_local(_top, _arg)
    _result = _node(Scalar.__pow__, Scalar(_arg), 2) if _method is None else _node(_method, Scalar(_arg))
    _check(f"{_name} at a = {_arg:g}", _result, _value, (0,), _grads, [(_arg, 0.0)], rtol=1e-12)
# The ReLU at its kink: derivative 0 at exactly 0 (as in PyTorch).
_check("Scalar(0.0).relu()", _node(Scalar.relu, Scalar(0.0)), 0.0, (0,), [0.0], [(0.0, 0.0)], atol=0.0)
# Constants on either side.
_a = Scalar(1.5)
for _name, _method, _args, _value in [("a * 4", Scalar.__mul__, (_a, 4), 6.0),
                                      ("4 * a", Scalar.__rmul__, (_a, 4), 6.0),
                                      ("a / 4", Scalar.__truediv__, (_a, 4), 0.375),
                                      ("3 / a", Scalar.__rtruediv__, (_a, 3), 2.0),
                                      ("a - 4", Scalar.__sub__, (_a, 4), -2.5),
                                      ("1 - a", Scalar.__rsub__, (_a, 1), -0.5)]:
    _kind, _got, _, _, _ = _node(_method, *_args)
    assert_that(_kind == "Scalar", f"{_name} must return a new Scalar, got {_kind}")
    assert_scalar(_got, _value, rtol=1e-12, name=f"({_name}).value for a = 1.5")
_check("a * 4 for a = 1.5 (4 becomes a constant leaf)", _node(Scalar.__mul__, _a, 4), 6.0, (0, -1),
       [4.0, 1.5], [(1.5, 0.0)])
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Backpropagation: topological order and the backward pass
#
# To apply $\bar v = \sum_c \bar c\,\partial c/\partial v$, the gradient $\bar c$ of every
# child must be complete before it is passed on to $v$. That is guaranteed if we visit the
# nodes in **reverse topological order**: a topological order lists every node after all of
# its parents (so the output comes last); reversed, every node comes after all of its
# children.
#
# A depth-first search gives a topological order: to place a node, first place each of its
# parents (recursively), then append the node itself — and keep a set of the nodes already
# placed, so that a node reachable along several paths is placed **once**. (Nodes are
# distinct objects; `id(node)` or the node itself can go in a `set`.)
#
# Then `backward(root)`:
#
# 1. set the `grad` of **every** node of the graph to 0 — otherwise a second call (the next
#    training step) would add to the old gradients;
# 2. set `root.grad = 1` (the derivative of $L$ with respect to itself);
# 3. for each node in reverse topological order, **add** `local_grad * node.grad` to the
#    `grad` of each of its parents.
#
# Step 3 *adds* rather than assigns: that is the sum over children. And the order matters for
# inner nodes too: a tempting shortcut — recurse from the root and let every node pass its
# gradient on to its parents as soon as it receives a contribution — goes wrong as soon as an
# inner node is used twice (like $c$ in $c \cdot c + c$): it passes on an incomplete gradient
# and then passes on the complete one again. Fan-out of leaves alone does not reveal this,
# since leaves pass nothing on.

# %% nbgrader="solution" grade_id="scalar_backward"
def topological_order(root):
    """All nodes of the graph that ends in root, each once, parents before children.

    Args:
        root: a Scalar.

    Returns:
        A list of Scalars: every node from which root can be reached (root included), each
        exactly once, such that each node comes after all of its parents; root is last.
    """
    ### BEGIN SOLUTION
    order, placed = [], set()

    def place(node):
        if id(node) in placed:
            return
        placed.add(id(node))
        for parent in node.parents:
            place(parent)
        order.append(node)

    place(root)
    return order
    ### END SOLUTION


def backward(root):
    """Reverse-mode differentiation: set node.grad = d(root.value)/d(node.value) for all nodes.

    Every node of root's graph (the nodes of topological_order(root)) gets its gradient; the
    result must not depend on gradients left over from earlier calls.

    Args:
        root: a Scalar, the output (usually a loss).

    Returns:
        None (the gradients are stored in the nodes' .grad attributes).
    """
    ### BEGIN SOLUTION
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            parent.grad += local * node.grad
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_scalar_backward" points=5
# The tests build their graphs node by node, Scalar(value, parents, local_grads, op, label), so
# that they do not depend on your operations. _backward(root, *nodes) runs your backward(root)
# through `call` and returns the grads of the given nodes afterwards.
def _backward(root, *nodes):
    def run(root):
        backward(root)
        return [node.grad for node in nodes]

    run.__name__ = run.__qualname__ = "backward"
    return call(run, root)


# L = (a*b + a) * a at a = 2, b = 3: L = a^2 b + a^2, dL/da = 2ab + 2a = 16, dL/db = a^2 = 4.
_a, _b = Scalar(2.0, label="a"), Scalar(3.0, label="b")
_ab = Scalar(6.0, (_a, _b), (3.0, 2.0), "*", "a*b")
_s = Scalar(8.0, (_ab, _a), (1.0, 1.0), "+", "a*b+a")
_L = Scalar(16.0, (_s, _a), (2.0, 8.0), "*", "L")
_order = call(topological_order, _L)
assert_that(isinstance(_order, list), f"topological_order must return a list, got {type(_order).__name__}")
assert_that(len(_order) == 5 and len({id(n) for n in _order}) == 5,
            f"topological_order(L): expected the 5 distinct nodes a, b, a*b, a*b+a, L once each, "
            f"got {len(_order)} entries ({len({id(n) for n in _order})} distinct)")
assert_that(_order[-1] is _L, "topological_order(L): the root L must come last")
_pos = {id(n): i for i, n in enumerate(_order)}
assert_that(all(id(n) in _pos for n in (_a, _b, _ab, _s)),
            "topological_order(L): every node of the graph must be listed")
assert_that(_pos[id(_a)] < _pos[id(_ab)] < _pos[id(_s)] and _pos[id(_b)] < _pos[id(_ab)],
            "topological_order(L): every node must come after its parents")
_gL, _gs, _gab, _ga, _gb = _backward(_L, _L, _s, _ab, _a, _b)
assert_scalar(_gL, 1.0, name="L.grad (the root)")
assert_scalar(_gs, 2.0, name="grad of a*b + a")
assert_scalar(_gab, 2.0, name="grad of a*b")
assert_scalar(_gb, 4.0, name="b.grad")
assert_scalar(_ga, 16.0, name="a.grad (a is used three times: add up all paths)")
(_ga,) = _backward(_L, _a)
assert_scalar(_ga, 16.0, name="a.grad after calling backward(L) a second time (reset the gradients first)")
# Fan-out of an inner node: c = a*b is used three times in L2 = c*c + c, so dL2/dc = 2c + 1 = 13.
_c = Scalar(6.0, (_a, _b), (3.0, 2.0), "*", "c")
_cc = Scalar(36.0, (_c, _c), (6.0, 6.0), "*", "c*c")
_L2 = Scalar(42.0, (_cc, _c), (1.0, 1.0), "+", "L2")
_gc, _ga, _gb = _backward(_L2, _c, _a, _b)
assert_scalar(_gc, 13.0, name="c.grad for L2 = c*c + c (the inner node c is used three times)")
assert_scalar(_ga, 39.0, name="a.grad for L2 = c*c + c with c = a*b (dL2/dc times b)")
assert_scalar(_gb, 26.0, name="b.grad for L2 = c*c + c with c = a*b (dL2/dc times a)")
### BEGIN HIDDEN TESTS
import torch as _torch


class _S:  # the tests' own operations on Scalars: correct values and local gradients
    @staticmethod
    def mul(a, b):
        return Scalar(a.value * b.value, (a, b), (b.value, a.value), "*")

    @staticmethod
    def add(a, b):
        return Scalar(a.value + b.value, (a, b), (1.0, 1.0), "+")

    @staticmethod
    def scale(a, k):
        return Scalar(a.value * k, (a,), (k,), f"*{k:g}")

    @staticmethod
    def tanh(a):
        t = math.tanh(a.value)
        return Scalar(t, (a,), (1.0 - t * t,), "tanh")

    @staticmethod
    def exp(a):
        e = math.exp(a.value)
        return Scalar(e, (a,), (e,), "exp")

    @staticmethod
    def log(a):
        return Scalar(math.log(a.value), (a,), (1.0 / a.value,), "log")

    @staticmethod
    def relu(a):
        return Scalar(max(a.value, 0.0), (a,), (1.0 if a.value > 0 else 0.0,), "relu")

    @staticmethod
    def const(k):
        return Scalar(k, label=f"{k:g}")


class _T:  # the same operations in PyTorch
    mul = staticmethod(lambda a, b: a * b)
    add = staticmethod(lambda a, b: a + b)
    scale = staticmethod(lambda a, k: a * k)
    tanh = staticmethod(_torch.tanh)
    exp = staticmethod(_torch.exp)
    log = staticmethod(_torch.log)
    relu = staticmethod(_torch.relu)
    const = staticmethod(lambda k: _torch.tensor(k, dtype=_torch.float64))


def _ex_reuse(o, a, b, c):
    return o.mul(o.tanh(o.add(o.mul(a, b), c)), a)


def _ex_inner_fan_out(o, a, b, c):
    x = o.tanh(o.mul(a, b))
    return o.add(o.mul(x, x), o.mul(x, o.add(x, c)))


def _ex_mixed(o, a, b, c):
    left = o.relu(o.mul(o.add(o.mul(a, a), b), o.add(a, c)))
    return o.add(left, o.mul(o.exp(o.mul(b, c)), o.tanh(a)))


def _ex_diamond(o, a, b, c):
    x = o.mul(a, b)
    y = o.add(x, x)
    z = o.mul(y, x)
    return o.add(o.mul(z, z), o.mul(x, c))


def _ex_deep(o, a, b, c):
    x = a
    for _ in range(40):
        x = o.add(o.mul(o.tanh(o.add(o.mul(x, b), a)), c), o.scale(x, 0.5))
    return x


def _ex_log(o, a, b, c):
    inner = o.add(o.add(o.mul(a, a), o.mul(b, b)), o.const(1.0))
    return o.add(o.mul(o.log(inner), o.mul(c, o.mul(c, c))), o.scale(o.mul(a, b), -2.0))


def _ex_single(o, a, b, c):
    return a


_rng = np.random.default_rng(203)
for _ex in [_ex_reuse, _ex_inner_fan_out, _ex_mixed, _ex_diamond, _ex_log, _ex_single, _ex_deep]:
    for _trial in range(4):
        _vals = [float(v) for v in _rng.normal(size=3)]
        _leaves = [Scalar(v, label=n) for v, n in zip(_vals, "abc", strict=True)]
        _root = _ex(_S, *_leaves)
        _label = f"{_ex.__name__[4:]} expression at a, b, c = {', '.join(f'{v:.3g}' for v in _vals)}"
        _order = call(topological_order, _root)
        assert_that(isinstance(_order, list), f"{_label}: topological_order must return a list")
        _ids = [id(n) for n in _order]
        assert_that(len(_ids) == len(set(_ids)), f"{_label}: topological_order lists a node more than once")
        _seen, _stack = set(), [_root]  # every node reachable from the root must be listed
        while _stack:
            _n = _stack.pop()
            if id(_n) not in _seen:
                _seen.add(id(_n))
                _stack.extend(_n.parents)
        assert_that(set(_ids) == _seen, f"{_label}: topological_order must list all {len(_seen)} nodes "
                    f"reachable from the root, got {len(set(_ids) & _seen)} of them and "
                    f"{len(set(_ids) - _seen)} others")
        _where = {i: k for k, i in enumerate(_ids)}
        for _n in _order:
            for _p in _n.parents:
                assert_that(_where[id(_p)] < _where[id(_n)], f"{_label}: a node comes before its parent")
        assert_that(_order[-1] is _root, f"{_label}: the root must come last")
        _ts = [_torch.tensor(v, dtype=_torch.float64, requires_grad=True) for v in _vals]
        _ref_grads = _torch.autograd.grad(_ex(_T, *_ts), _ts, allow_unused=True)
        _expected = [1.0 if _ex is _ex_single and _n == "a" else (0.0 if _g is None else _g.item())
                     for _n, _g in zip("abc", _ref_grads, strict=True)]
        for _repeat in range(2):
            _grads = _backward(_root, *_leaves)
            for _name, _got, _want in zip("abc", _grads, _expected, strict=True):
                assert_scalar(_got, _want, rtol=1e-9, atol=1e-12,
                              name=f"{_label}: {_name}.grad after backward call number {_repeat + 1}")
# Two losses sharing the parameters: each backward gives the gradient of its own root only.
_w, _v = Scalar(1.5, label="w"), Scalar(-0.5, label="v")
_L1 = _S.mul(_S.mul(_w, _v), _w)
_L2 = _S.add(_w, _S.scale(_v, 3.0))
assert_scalar(_backward(_L1, _w)[0], 2 * 1.5 * -0.5, name="w.grad after backward(L1) for L1 = w * v * w")
_gw, _gv = _backward(_L2, _w, _v)
assert_scalar(_gw, 1.0, name="w.grad after backward(L2) for L2 = w + 3 v (no leftovers from L1)")
assert_scalar(_gv, 3.0, name="v.grad after backward(L2) (no leftovers from L1)")
assert_scalar(_backward(_L1, _v)[0], 1.5**2, name="v.grad after backward(L1) again")
# A long chain (depth 300) with reuse at every level.
_x0 = Scalar(0.3, label="x0")
_x = _x0
for _ in range(300):
    _x = _S.add(_S.scale(_x, 0.5), _S.scale(_x0, 0.1))
_t0 = _torch.tensor(0.3, dtype=_torch.float64, requires_grad=True)
_t = _t0
for _ in range(300):
    _t = _t * 0.5 + _t0 * 0.1
_t.backward()
assert_scalar(_backward(_x, _x0)[0], _t0.grad.item(), rtol=1e-10,
              name="x0.grad at the start of a chain of depth 300")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** With $a = 3$, compute $b = a \cdot a$, $c = b + a$ and $L = c \cdot a$.
# What is $\partial L / \partial a$? (Follow all paths from $a$ to $L$; you can check your
# answer with your engine afterwards.) Set `q3_answer` to a number.

# %% nbgrader="solution" grade_id="q3_fan_out"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = 33.0
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_fan_out" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, 33.0, name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Watch it happen: the computation-graph stepper
#
# The stepper below draws a graph built with **your** `Scalar` and walks through it with
# **your** `topological_order` and `backward`: first the forward pass, one node at a time in
# topological order (each node shows its value), then the backward pass in reverse order
# (each node shows its gradient $\partial L/\partial v$, and the edges into it show the local
# derivatives that multiply it on the way to the parents). Use ◀ / ▶ or the slider. Try:
#
# - **neuron**: $L = (\tanh(w x + b) - y)^2$. Which gradient is largest, and why is
#   $\partial L/\partial w = x\,\partial L/\partial(wx)$?
# - **fan-out**: $L = (a b + a)\,a$ — the gradient of $a$ collects contributions from three
#   edges — the same graph as in the test of section 3.
# - **logistic**: one sample of logistic regression with its BCE, built from `exp`, `log`,
#   `+`, `*` and `**`. Its $\partial L/\partial z$ is exactly $\hat y - y$ from section 1.
#
# (Widgets need a running kernel: in a static view of the notebook they do nothing.)

# %%
def neuron_graph():
    x, w, b = Scalar(1.5, label="x"), Scalar(-0.8, label="w"), Scalar(0.3, label="b")
    return ((w * x + b).tanh() - 0.5) ** 2


def fan_out_graph():
    a, b = Scalar(2.0, label="a"), Scalar(3.0, label="b")
    return (a * b + a) * a


def logistic_graph():
    x1, x2 = Scalar(1.0, label="x1"), Scalar(-2.0, label="x2")
    w1, w2, b = Scalar(0.5, label="w1"), Scalar(0.25, label="w2"), Scalar(0.1, label="b")
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    p = (1 + (-z).exp()) ** -1
    p.label = "ŷ"
    return -p.log()  # the BCE of a sample with label y = 1


stepper = graph_stepper(
    {"neuron": neuron_graph, "fan-out": fan_out_graph, "logistic": logistic_graph},
    topological_order=topological_order,
    backward=backward,
)
display(stepper)

# %% [markdown]
# **Concept check 4.** Why does `backward` visit the nodes in *reverse* topological order?
#
# - (a) so that the gradient of each node is complete (all its children have contributed)
#   before it is passed on to the node's parents
# - (b) because the forward values are deleted in topological order during the backward pass
# - (c) to use less memory than visiting the nodes in topological order
# - (d) it does not matter: any order gives the same gradients
#
# Which answer is right? Set `q4_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q4_reverse_order"
# q4_answer = "..."
### BEGIN SOLUTION
q4_answer = "a"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_reverse_order" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_choice(q4_answer, ["a", "b", "c", "d"], name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, "a", name="q4_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. From numbers to arrays: a small tensor framework
#
# A scalar graph of a real network would have millions of nodes — one per multiplication.
# Frameworks instead make each node hold a whole **array**: a node's `value` is a matrix (for
# example all $N$ samples' hidden activations, shape $(N, H)$), and its `grad` is an array of
# the **same shape** holding $\partial L/\partial(\text{each entry})$. The loss $L$ is still
# one number, so no node ever needs a full Jacobian: each compute node only has to turn the
# gradient of its output into gradients of its inputs.
#
# One computation can be drawn at several granularities: one node per multiplication, as in
# section 2, or one node per layer, as here. Backpropagation works the same at every level,
# as long as each node knows the derivatives of its own output with respect to its own inputs.
#
# The framework below follows the lecture's educational framework. It has three kinds of
# nodes:
#
# - `Input`: data fed from outside (`x`, the labels `y`); it needs no gradient, so its
#   `addgrad` ignores what it receives;
# - `Parameter`: a trainable array; `addgrad` **adds** to its `grad` (a parameter used twice
#   collects both contributions) and `Graph.sgd_step` updates it;
# - compute nodes (subclasses of `CompNode`): `forward()` sets `self.value` from the parents'
#   values; `backward()` reads `self.grad` and calls `parent.addgrad(...)` once for each
#   parent, with an array of exactly the parent's shape.
#
# A `Graph` keeps its nodes in creation order. Since a node can only be created after its
# parents, creation order is already a topological order — no search needed this time. Read
# the code: it is short.

# %%
class Graph:
    """The nodes of a computation graph, in creation order (which is a topological order)."""

    def __init__(self):
        self.nodes = []

    def forward(self, until=None):
        """Compute the value of every compute node, parents first (stop after node `until`)."""
        for node in self.nodes:
            if isinstance(node, CompNode):
                node.forward()
            if node is until:
                break

    def backward(self, loss):
        """Set the grad of every parameter and compute node to dL/d(node) for the scalar loss."""
        for node in self.nodes:
            if not isinstance(node, Input):
                node.grad = np.zeros_like(node.value)
        loss.grad = np.ones_like(loss.value)
        for node in reversed(self.nodes):
            if isinstance(node, CompNode):
                node.backward()

    @property
    def parameters(self):
        return [node for node in self.nodes if isinstance(node, Parameter)]

    def sgd_step(self, learning_rate):
        """One step of gradient descent on every parameter."""
        for p in self.parameters:
            p.value -= learning_rate * p.grad


class Node:
    def __init__(self, graph, name=""):
        self.graph, self.name = graph, name
        self.value, self.grad = None, None
        graph.nodes.append(self)

    def addgrad(self, delta):
        """Add delta (an array of this node's shape) to self.grad."""
        delta = np.asarray(delta, dtype=float)
        if delta.shape != np.shape(self.value):
            raise ValueError(f"{type(self).__name__} {self.name!r}: received a gradient of shape "
                             f"{delta.shape}, but its value has shape {np.shape(self.value)}")
        self.grad = self.grad + delta


class Input(Node):
    def __init__(self, graph, value=None, name="input"):
        super().__init__(graph, name)
        self.value = value

    def addgrad(self, delta):
        pass  # data: no gradient needed


class Parameter(Node):
    def __init__(self, graph, value, name="param"):
        super().__init__(graph, name)
        self.value = np.array(value, dtype=float)


class CompNode(Node):
    """A compute node; subclasses write forward() and backward() using self.parents."""

    def __init__(self, *parents, name=""):
        super().__init__(parents[0].graph, name or type(self).__name__)
        self.parents = parents

    def forward(self):
        raise NotImplementedError

    def backward(self):
        raise NotImplementedError


# %% [markdown]
# Your turn: two compute nodes for the hidden layers. A node finds its inputs in
# `self.parents`, in the order they were passed when it was created (`Affine(x, W, b)` has
# `self.parents == (x, W, b)`); write `forward` and `backward`.
#
# - `Affine(x, W, b)`: value $XW + \mathbf{b}$ for $X$ of shape $(N, D)$, $W$ of shape
#   $(D, M)$, $\mathbf{b}$ of shape $(M,)$. With $G$ = `self.grad` of shape $(N, M)$, the
#   gradients are $G W^\top$ for $X$, $X^\top G$ for $W$, and $\sum_n G_{n,:}$ for
#   $\mathbf{b}$ — the bias is broadcast over the batch (used by all $N$ samples), so its
#   gradient is a sum over the batch. Check the shapes: each gradient has the shape of the
#   node it belongs to. (Chapter 03 derives these formulas in detail.)
# - `Tanh(x)`: value $\tanh(X)$ element-wise, local derivative
#   $1 - \tanh^2(X)$ — conveniently expressed through the node's own value.
#
# Hand gradients on only through `parent.addgrad(...)`, never by assigning `parent.grad = ...`:
# the parent may feed other nodes too (a hidden layer feeding two branches, a weight shared by
# two layers), and their contributions must add up. Leave `self.grad` and all values as they
# are: other nodes still need them.

# %% nbgrader="solution" grade_id="tensor_nodes"
class Affine(CompNode):
    """Affine(x, W, b): value = x.value @ W.value + b.value.

    Shapes: x (N, D), W (D, M), b (M,); value (N, M), float64. backward() adds dL/dx, dL/dW and
    dL/db to the parents with addgrad, given self.grad = dL/d(value) of shape (N, M).
    """

    def forward(self):
        x, W, b = self.parents
        ### BEGIN SOLUTION
        self.value = x.value @ W.value + b.value
        ### END SOLUTION

    def backward(self):
        x, W, b = self.parents
        ### BEGIN SOLUTION
        x.addgrad(self.grad @ W.value.T)
        W.addgrad(x.value.T @ self.grad)
        b.addgrad(self.grad.sum(axis=0))
        ### END SOLUTION


class Tanh(CompNode):
    """Tanh(x): value = tanh(x.value) element-wise, same shape as x, float64.

    backward() adds dL/dx = self.grad * (1 - value**2) to x with addgrad.
    """

    def forward(self):
        (x,) = self.parents
        ### BEGIN SOLUTION
        self.value = np.tanh(x.value)
        ### END SOLUTION

    def backward(self):
        (x,) = self.parents
        ### BEGIN SOLUTION
        x.addgrad(self.grad * (1.0 - self.value**2))
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_tensor_nodes" points=4
def _run(step, nodes, *args):
    """Run `step` (a forward or backward) through `call`; return the values and the grads of
    `nodes` afterwards (copies). A ValueError (e.g. addgrad's shape check) fails the test."""

    def run(*args):
        try:
            step(*args)
        except ValueError as error:
            return f"ValueError: {error}"
        return ([None if n.value is None else np.array(n.value) for n in nodes],
                [None if n.grad is None else np.array(n.grad) for n in nodes])

    run.__name__, run.__qualname__ = step.__name__, step.__qualname__
    result = call(run, *args)
    if isinstance(result, str):
        fail(f"{step.__qualname__} raised {result}")
    return result


def _stored(value, what):
    assert_that(value is not None, f"{what} is None: forward() must store its result in self.value")
    return value


# Affine on 3 samples with 2 features and 3 outputs. A Parameter stands in for the input x, so
# that x keeps its gradient (an Input's addgrad ignores it).
_g = Graph()
_x = Parameter(_g, [[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]], name="x")
_W = Parameter(_g, [[1.0, -1.0, 0.0], [0.5, 0.0, 2.0]], name="W")
_b = Parameter(_g, [0.0, 1.0, -1.0], name="b")
_h = Affine(_x, _W, _b)
(_hv,), _ = _run(_h.forward, [_h])
_stored(_hv, "Affine value")
assert_shape(_hv, (3, 3), name="Affine value for x (3, 2), W (2, 3)")
assert_close(_hv, [[2.0, 0.0, 3.0], [-0.5, 1.0, -3.0], [3.5, -2.0, 1.0]], name="Affine value x W + b")
_G = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
_h.grad = _G.copy()
for _p in (_x, _W, _b):
    _p.grad = np.zeros_like(_p.value)
_, (_gx, _gW, _gb, _gh) = _run(_h.backward, [_x, _W, _b, _h])
assert_close(_gW, [[4.0, 3.0, 3.0], [3.0, 0.0, 1.0]], name="W.grad after Affine.backward (X^T G)")
assert_close(_gb, [2.0, 2.0, 1.0], name="b.grad after Affine.backward (sum over the batch)")
assert_close(_gx, [[1.0, 0.5], [-1.0, 0.0], [0.0, 2.5]], name="x.grad after Affine.backward (G W^T)")
assert_close(_gh, _G, rtol=0, atol=0, name="the Affine node's own grad after its backward (unchanged)")
# Tanh on top of it.
_t = Tanh(_h)
(_tv,), _ = _run(_t.forward, [_t])
assert_close(_stored(_tv, "Tanh value"), np.tanh(_hv), name="Tanh value")
_Gt = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0], [2.0, 1.0, -1.0]])
_t.grad, _h.grad = _Gt.copy(), np.zeros((3, 3))
_, (_gh, _gt) = _run(_t.backward, [_h, _t])
assert_close(_gh, _Gt * (1.0 - np.tanh(_hv) ** 2), name="grad of Tanh's input after Tanh.backward")
assert_close(_gt, _Gt, rtol=0, atol=0, name="the Tanh node's own grad after its backward (unchanged)")


# Fan-out of a hidden node: h = tanh(x W1 + b1) feeds three nodes o1 = h W2, t = tanh(h) and
# o2 = h W3; the loss adds up all their entries. h.grad must collect all three contributions.
class _Sum(CompNode):  # a loss node of the tests: the sum of all entries of its parents
    def forward(self):
        self.value = sum(np.sum(p.value) for p in self.parents)

    def backward(self):
        for p in self.parents:
            p.addgrad(self.grad * np.ones_like(p.value))


_g = Graph()
_x = Input(_g, np.array([[0.5, -1.0]]), name="x")
_W1, _b1 = Parameter(_g, [[1.0, 0.0], [0.5, -1.0]], name="W1"), Parameter(_g, [0.0, 0.5], name="b1")
_h = Tanh(Affine(_x, _W1, _b1))
_o1 = Affine(_h, Parameter(_g, [[2.0], [1.0]], name="W2"), Parameter(_g, [0.0], name="b2"))
_t = Tanh(_h)
_o2 = Affine(_h, Parameter(_g, [[-1.0], [3.0]], name="W3"), Parameter(_g, [0.0], name="b3"))
_L = _Sum(_o1, _t, _o2)
_run(_g.forward, [])
_, (_gh, _gW1) = _run(_g.backward, [_h, _W1], _L)
_hv = np.tanh(np.array([[0.0, 1.5]]))  # x W1 + b1 = (0, 1.5)
_dh = np.array([[2.0, 1.0]]) + (1.0 - np.tanh(_hv) ** 2) + np.array([[-1.0, 3.0]])  # from o1, t, o2
assert_close(_gh, _dh, name="h.grad of a hidden node used by three nodes (add up their contributions)")
assert_close(_gW1, _x.value.T @ (_dh * (1.0 - _hv**2)), name="W1.grad below the hidden node h")
### BEGIN HIDDEN TESTS
import torch as _torch


def _net_grads_torch(x, params):
    ts = [_torch.tensor(p, requires_grad=True) for p in params]
    W1, b1, W2, b2 = ts
    hidden = _torch.tanh(_torch.tensor(x) @ W1 + b1)
    out = hidden @ W2 + b2
    hidden.retain_grad()
    (out**2).sum().backward()  # a loss that weights every output entry differently
    return out.detach().numpy(), hidden.grad.numpy(), [t.grad.numpy() for t in ts]


class _SumSquares(CompNode):  # a loss node of the tests: sum of squares of all its parents' entries
    def forward(self):
        self.value = sum(np.sum(p.value**2) for p in self.parents)

    def backward(self):
        for p in self.parents:
            p.addgrad(self.grad * 2 * p.value)


_rng = np.random.default_rng(204)
for _N, _D, _H, _M in [(1, 1, 1, 1), (1, 3, 4, 2), (5, 2, 3, 1), (8, 4, 6, 3), (32, 5, 16, 2)]:
    _xv = _rng.normal(size=(_N, _D)) * 2
    _params = [_rng.normal(size=(_D, _H)), _rng.normal(size=_H), _rng.normal(size=(_H, _M)),
               _rng.normal(size=_M)]
    _g = Graph()
    _x = Input(_g, _xv.copy(), name="x")
    _P = [Parameter(_g, p, name=n) for p, n in zip(_params, ["W1", "b1", "W2", "b2"], strict=True)]
    _t = Tanh(Affine(_x, _P[0], _P[1]))
    _o = Affine(_t, _P[2], _P[3])
    _L = _SumSquares(_o)
    (_ov, _xv_after), _ = _run(_g.forward, [_o, _x])
    _out_ref, _hidden_ref, _grads_ref = _net_grads_torch(_xv, _params)
    _label = f"Affine -> Tanh -> Affine with x ({_N}, {_D}), hidden {_H}, out {_M}"
    assert_close(_stored(_ov, f"{_label}: output value"), _out_ref, rtol=1e-10, atol=1e-12,
                 name=f"{_label}: output value")
    for _repeat in range(2):
        _, _grads = _run(_g.backward, [*_P, _t], _L)
        for _p, _got, _gr in zip(_P, _grads, _grads_ref, strict=False):
            assert_close(_got, _gr, rtol=1e-9, atol=1e-12, name=f"{_label}: {_p.name}.grad")
        assert_close(_grads[-1], _hidden_ref, rtol=1e-9, atol=1e-12, name=f"{_label}: the Tanh node's own grad")
    assert_close(_xv_after, _xv, rtol=0, atol=0, name=f"{_label}: x.value after forward (do not modify)")

# Fan-out of hidden nodes and of parameters, in random sizes: h1 feeds three nodes; W and b are
# used by two Affine nodes.
for _N, _D in [(1, 3), (4, 3), (7, 5)]:
    _xv, _Wv, _bv = _rng.normal(size=(_N, _D)), _rng.normal(size=(_D, _D)), _rng.normal(size=_D)
    _Vv = _rng.normal(size=(_D, 2))
    _g = Graph()
    _x = Input(_g, _xv, name="x")
    _W, _b, _V = Parameter(_g, _Wv, name="W"), Parameter(_g, _bv, name="b"), Parameter(_g, _Vv, name="V")
    _c = Parameter(_g, np.zeros(2), name="c")
    _h1 = Tanh(Affine(_x, _W, _b))
    _o1 = Affine(_h1, _V, _c)
    _t2 = Tanh(_h1)
    _h2 = Affine(_h1, _W, _b)  # the same W and b again
    _L = _SumSquares(_o1, _t2, Tanh(_h2))
    _run(_g.forward, [])
    _, (_gW, _gb, _gV, _gh1) = _run(_g.backward, [_W, _b, _V, _h1], _L)
    _Wt, _bt, _Vt = (_torch.tensor(v, requires_grad=True) for v in (_Wv, _bv, _Vv))
    _h1t = _torch.tanh(_torch.tensor(_xv) @ _Wt + _bt)
    _h1t.retain_grad()
    ((_h1t @ _Vt) ** 2).sum().add(((_torch.tanh(_h1t)) ** 2).sum()).add(
        (_torch.tanh(_h1t @ _Wt + _bt) ** 2).sum()).backward()
    _label = f"hidden node h used three times, W and b used twice, x ({_N}, {_D})"
    assert_close(_gh1, _h1t.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: h.grad")
    assert_close(_gW, _Wt.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: W.grad")
    assert_close(_gb, _bt.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: b.grad")
    assert_close(_gV, _Vt.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: V.grad")
# Extreme pre-activations: tanh saturates to +-1 with gradient 0, never NaN.
_g = Graph()
_z = Parameter(_g, np.array([[1000.0, -1000.0, 0.0, 0.5]]), name="z")
_t = Tanh(_z)
_L = _SumSquares(Affine(_t, Parameter(_g, np.ones((4, 1)), name="W"), Parameter(_g, [0.0], name="b")))
(_tv,), _ = _run(_g.forward, [_t])
_, (_gz, _gt) = _run(_g.backward, [_z, _t], _L)
_s = 2 * (1.0 - 1.0 + 0.0 + np.tanh(0.5))  # dL/d(each tanh output) = 2 * (sum of the outputs)
assert_close(_tv, [[1.0, -1.0, 0.0, np.tanh(0.5)]], name="Tanh value at +-1000, 0 and 0.5")
assert_close(_gt, np.full((1, 4), _s), name="the Tanh node's own grad (from the Affine above it)")
assert_close(_gz, _s * np.array([[0.0, 0.0, 1.0, 1.0 - np.tanh(0.5) ** 2]]), atol=1e-12,
             name="gradient through Tanh at +-1000 (0: saturated), 0 and 0.5")
### END HIDDEN TESTS

# %% [markdown]
# **Gradients, not Jacobians.** For $Y = XW$, the derivative of every entry of $Y$ with respect
# to every entry of $W$ is an array with four indices, the **Jacobian** $\partial Y/\partial W$,
# and almost all of its entries are 0 (the entry $Y_{nm}$ depends on column $m$ of $W$ only).
# Backpropagation never builds it. Since the loss is one number, a node only needs the product
# of the upstream gradient with its Jacobian (a *vector–Jacobian product*), which collapses to a
# small formula: for every entry of $W$,
#
# $$\frac{\partial L}{\partial W_{dm}} = \sum_{n,k} \frac{\partial L}{\partial Y_{nk}}\,
#   \frac{\partial Y_{nk}}{\partial W_{dm}} = \sum_n X_{nd}\, G_{nm}, \qquad\text{that is}\qquad
#   \frac{\partial L}{\partial W} = X^\top G,$$
#
# one matrix product, with the shape of $W$. Textbooks often write the same computation layer by
# layer with an **error signal** $\delta^{(l)} = \partial L/\partial z^{(l)}$, the gradient at the
# pre-activations $z^{(l)} = a^{(l-1)} W^{(l)} + b^{(l)}$ of layer $l$:
# $\partial L/\partial W^{(l)} = a^{(l-1)\top}\delta^{(l)}$ and
# $\delta^{(l-1)} = \big(\delta^{(l)} W^{(l)\top}\big) \odot \sigma'(z^{(l-1)})$. That is exactly
# `Affine.backward` followed by the activation's backward.

# %% [markdown]
# **Concept check 5.** A batch of $N = 64$ inputs with $D = 100$ features goes through an
# `Affine` node with $M = 50$ outputs. How many numbers would the full Jacobian
# $\partial Y/\partial W$ hold (every entry of $Y$ differentiated with respect to every entry
# of $W$)? Compare with the $D \cdot M = 5000$ entries of the gradient $\partial L/\partial W$
# that `Affine.backward` computes. Set `q5_answer` to an integer.

# %% nbgrader="solution" grade_id="q5_jacobian_size"
# q5_answer = ...
### BEGIN SOLUTION
q5_answer = 64 * 50 * 100 * 50
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_jacobian_size" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_scalar(q5_answer, name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, 16_000_000, name="q5_answer")
### END HIDDEN TESTS

# %% [markdown]
# The loss node is the last one: binary cross-entropy computed from the **logits** (the
# scores before the sigmoid), exactly as in section 1 but as a node. Its value is the mean
# over all entries (one number: `np.mean` returns a numpy float of shape `()`), and its backward
# pass sends `self.grad * (sigmoid(logits) - y) / (number of entries)` to the logits. Do not
# forget the factor `self.grad`: it is 1 when the loss is the root of the graph, but a loss can
# also be used inside a bigger graph (say, $0.5 \cdot L_1 + L_2$). You may use your `sigmoid`.

# %% nbgrader="solution" grade_id="tensor_loss"
class BCEWithLogitsLoss(CompNode):
    """BCEWithLogitsLoss(logits, y): mean binary cross-entropy from logits.

    logits: a node whose value has shape (N, 1) (or any shape); y: an Input with the same
    shape holding labels in {0, 1}. forward() sets value to the mean over all entries, one
    float64 number. backward() adds self.grad * (sigmoid(z) - y) / (number of entries) to the
    logits with addgrad; y gets nothing, and self.grad is left as it is.
    """

    def forward(self):
        logits, y = self.parents
        ### BEGIN SOLUTION
        z, t = logits.value, y.value
        self.value = np.mean(np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z))))
        ### END SOLUTION

    def backward(self):
        logits, y = self.parents
        ### BEGIN SOLUTION
        z, t = logits.value, y.value
        logits.addgrad(self.grad * (sigmoid(z) - t) / z.size)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_tensor_loss" points=3
def _run(step, nodes, *args):
    """Run `step` (a forward or backward) through `call`; return the values and the grads of
    `nodes` afterwards (copies). A ValueError (e.g. addgrad's shape check) fails the test."""

    def run(*args):
        try:
            step(*args)
        except ValueError as error:
            return f"ValueError: {error}"
        return ([None if n.value is None else np.array(n.value) for n in nodes],
                [None if n.grad is None else np.array(n.grad) for n in nodes])

    run.__name__, run.__qualname__ = step.__name__, step.__qualname__
    result = call(run, *args)
    if isinstance(result, str):
        fail(f"{step.__qualname__} raised {result}")
    return result


# Two samples with logits (0, 2) and labels (1, 0). A Parameter stands in for the logits.
_g = Graph()
_z = Parameter(_g, [[0.0], [2.0]], name="z")
_y = Input(_g, np.array([[1.0], [0.0]]), name="y")
_L = BCEWithLogitsLoss(_z, _y)
(_value,), _ = _run(_L.forward, [_L])
assert_that(_value is not None, "BCEWithLogitsLoss value is None: forward() must store it in self.value")
assert_shape(_value, (), name="BCEWithLogitsLoss value (one number)")
assert_scalar(_value, (np.log(2.0) + np.log1p(np.exp(2.0))) / 2, name="BCEWithLogitsLoss value")
_L.grad, _z.grad = np.ones(()), np.zeros((2, 1))
_, (_gz, _gL) = _run(_L.backward, [_z, _L])
assert_close(_gz, [[(0.5 - 1.0) / 2], [(1.0 / (1.0 + np.exp(-2.0)) - 0.0) / 2]],
             name="logits gradient (sigmoid(z) - y) / N")
assert_close(_gL, 1.0, rtol=0, atol=0, name="the loss node's own grad after its backward (unchanged)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(205)
for _shape in [(1, 1), (2, 1), (16, 1), (5, 3), (7,)]:
    for _scale in [1.0, 50.0, 1e3, 1e5]:
        _zv = _rng.normal(size=_shape) * _scale
        _yv = _rng.integers(0, 2, size=_shape).astype(float)
        _g = Graph()
        _z = Parameter(_g, _zv, name="z")
        _y = Input(_g, _yv.copy(), name="y")
        _L = BCEWithLogitsLoss(_z, _y)
        (_value, _zafter, _yafter), _ = _run(_g.forward, [_L, _z, _y])
        _, (_gz, _gL) = _run(_g.backward, [_z, _L], _L)
        _zt = _torch.tensor(_zv, requires_grad=True)
        _ref = _F.binary_cross_entropy_with_logits(_zt, _torch.tensor(_yv))
        _ref.backward()
        _label = f"BCEWithLogitsLoss on logits of shape {_shape} and size ~{_scale:g}"
        assert_that(_value is not None, f"{_label}: value is None (store it in self.value)")
        assert_scalar(_value, _ref.item(), rtol=1e-9, atol=1e-12, name=f"{_label}: value")
        assert_close(_gz, _zt.grad.numpy(), rtol=1e-9, atol=1e-14, name=f"{_label}: gradient")
        assert_close(_gL, 1.0, rtol=0, atol=0, name=f"{_label}: the loss node's own grad (unchanged)")
        assert_close(_zafter, _zv, rtol=0, atol=0, name=f"{_label}: logits after the pass (do not modify)")
        assert_close(_yafter, _yv, rtol=0, atol=0, name=f"{_label}: y after the pass (do not modify)")


# Inside a bigger graph: L = k * BCE. The upstream gradient self.grad must be used.
class _Times(CompNode):
    def __init__(self, x, k):
        super().__init__(x)
        self.k = k

    def forward(self):
        self.value = self.k * self.parents[0].value

    def backward(self):
        self.parents[0].addgrad(self.k * self.grad)


for _k in [3.0, -0.25]:
    _zv = _rng.normal(size=(6, 1))
    _yv = _rng.integers(0, 2, size=(6, 1)).astype(float)
    _g = Graph()
    _z = Parameter(_g, _zv, name="z")
    _L = _Times(BCEWithLogitsLoss(_z, Input(_g, _yv, name="y")), _k)
    _run(_g.forward, [])
    _, (_gz,) = _run(_g.backward, [_z], _L)
    _zt = _torch.tensor(_zv, requires_grad=True)
    (_k * _F.binary_cross_entropy_with_logits(_zt, _torch.tensor(_yv))).backward()
    assert_close(_gz, _zt.grad.numpy(), rtol=1e-10, name=f"logits gradient of {_k:g} * BCE (use self.grad)")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Gradient checking
#
# A backward pass can be wrong in ways that still let training limp along, so every new
# node deserves a test. The derivative is a limit,
# $f'(x) = \lim_{h\to 0}\frac{f(x+h) - f(x-h)}{2h}$, and with a small $h$ the **central
# difference** approximates it without any calculus. For a function of an array $\mathbf{x}$,
# perturb one entry at a time:
#
# $$\frac{\partial f}{\partial x_i} \approx \frac{f(\mathbf{x} + h\mathbf{e}_i) - f(\mathbf{x} - h\mathbf{e}_i)}{2h}.$$
#
# Its error shrinks like $h^2$ (the one-sided $\frac{f(x+h) - f(x)}{h}$ only like $h$), but
# $h$ cannot be arbitrarily small either: $f(x+h) - f(x-h)$ then cancels to rounding noise.
# In float64, $h \approx 10^{-5}$ is a good compromise.
#
# To compare the analytic gradient $a$ with the numerical one $n$, use the **relative error**
# $\max_i |a_i - n_i| / \max(|a_i| + |n_i|, 10^{-12})$, which does not depend on the scale of
# the gradient. Rules of thumb for float64: below $10^{-7}$ all is well, around $10^{-4}$
# something is suspicious, above $10^{-2}$ the gradient is wrong.
#
# `numeric_grad` perturbs `x` **in place** (then restores it exactly), so `f` may also read
# the array from somewhere else — for example from a `Parameter` whose `value` is `x`.
# "Exactly" means: save each entry before you change it and assign the saved value back;
# adding $h$ and subtracting it again does not always give back the same float.

# %% nbgrader="solution" grade_id="gradient_check" export=true
def numeric_grad(f, x, h=1e-5):
    """Central-difference gradient of a scalar function f at x.

    Args:
        f: function taking a float64 array of the shape of x and returning a float.
        x: float64 array of any shape. Each entry is perturbed in place, one at a time, by +h
            and -h, and restored to its exact original value afterwards (so f may also read x
            from elsewhere, e.g. from a Parameter whose value is x).
        h: float, the step.

    Returns:
        float64 array of the shape of x: entry i is (f(x + h e_i) - f(x - h e_i)) / (2 h).
    """
    ### BEGIN SOLUTION
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        original = x[i]
        x[i] = original + h
        upper = float(f(x))
        x[i] = original - h
        lower = float(f(x))
        x[i] = original
        grad[i] = (upper - lower) / (2.0 * h)
    return grad
    ### END SOLUTION


def rel_error(a, b):
    """Largest element-wise relative error |a - b| / max(|a| + |b|, 1e-12), as a Python float.

    Args:
        a, b: float64 arrays of the same shape (not modified).

    Returns:
        A Python float >= 0 (0.0 when a and b are equal, also where both are 0).
    """
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gradient_check" points=3
# f(x) = x1 * x2 * x3: the gradient is (x2 x3, x1 x3, x1 x2). `call` also checks that x is
# restored exactly.
_grad = call(numeric_grad, lambda v: float(np.prod(v)), np.array([1.0, -2.0, 0.5]))
assert_shape(_grad, (3,), name="numeric_grad(product of x, x of shape (3,))")
assert_close(_grad, [-1.0, 0.5, -2.0], rtol=1e-8, name="numeric_grad(product of x) at x = (1, -2, 0.5)")
assert_scalar(call(rel_error, np.array([1.0, 2.0]), np.array([1.5, 2.0])), 0.2,
              name="rel_error([1, 2], [1.5, 2])")
assert_scalar(call(rel_error, np.zeros(3), np.zeros(3)), 0.0, name="rel_error(zeros, zeros)")
### BEGIN HIDDEN TESTS
import torch as _torch


def _f_np(v):
    return float(np.sum(np.sin(3 * v) * v**2) + np.sum(v) ** 2)


def _f_torch(v):
    return _torch.sum(_torch.sin(3 * v) * v**2) + _torch.sum(v) ** 2


_rng = np.random.default_rng(206)
for _shape in [(1,), (5,), (3, 4), (2, 3, 2)]:
    _x = _rng.normal(size=_shape)
    _xt = _torch.tensor(_x, requires_grad=True)
    _f_torch(_xt).backward()
    _grad = call(numeric_grad, _f_np, _x)
    _label = f"numeric_grad on x of shape {_shape}"
    assert_shape(_grad, _shape, name=_label)
    assert_close(_grad, _xt.grad.numpy(), rtol=1e-7, atol=1e-8, name=f"{_label} (central differences, h = 1e-5)")
# f reads the array from a closure instead of its argument: x must be perturbed in place.
_w = _rng.normal(size=(2, 3))
_wt = _torch.tensor(_w, requires_grad=True)
_f_torch(_wt).backward()
_grad = call(numeric_grad, lambda _ignored: _f_np(_w), _w)
assert_close(_grad, _wt.grad.numpy(), rtol=1e-7, atol=1e-8,
             name="numeric_grad when f reads x through a closure (perturb x in place)")
# The step h is used, at two scales: for the sum of x^3 the central difference is 3 x^2 + h^2.
for _h in [0.1, 1e-3]:
    _grad = call(numeric_grad, lambda v: float(np.sum(v**3)), np.array([1.0, 2.0]), h=_h)
    assert_close(_grad, 3 * np.array([1.0, 2.0]) ** 2 + _h**2, rtol=1e-9,
                 name=f"numeric_grad(sum of x^3, x = (1, 2), h = {_h:g})")
# A curved function where a one-sided difference is visibly worse.
_grad = call(numeric_grad, lambda v: float(np.sum(np.exp(3 * v))), np.array([1.0, 2.0]))
assert_close(_grad, 3 * np.exp(3 * np.array([1.0, 2.0])), rtol=1e-8,
             name="numeric_grad(sum of exp(3x)) at x = (1, 2)")

for _a, _b, _expected in [
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]), 0.0),
    (np.array([1.0, -2.0]), np.array([1.0, 2.0]), 1.0),
    (np.array([[0.0, 1e-3], [4.0, 5.0]]), np.array([[1e-6, 1e-3], [4.0, 5.5]]), 1.0),
    (np.array([2.0, 10.0]), np.array([1.0, 10.0]), 1.0 / 3.0),
    (np.array([1.0, 2.0]), np.array([1.5, 2.0]), 0.2),
    (np.array([1.5, 2.0]), np.array([1.0, 2.0]), 0.2),
    (np.array([100.0]), np.array([101.0]), 1.0 / 201.0),
    (np.array([[1.0, 0.0], [0.0, 3.0]]), np.array([[1.0, 0.0], [0.0, 3.000003]]), 0.000003 / 6.000003),
    (np.zeros((2, 2)), np.zeros((2, 2)), 0.0),
]:
    _r = call(rel_error, _a, _b)
    assert_scalar(_r, _expected, rtol=1e-9, atol=1e-15, name=f"rel_error({_a.tolist()}, {_b.tolist()})")
### END HIDDEN TESTS

# %% [markdown]
# **Your nodes under the magnifying glass.** Below, a two-layer network
# `Affine -> Tanh -> Affine -> BCEWithLogitsLoss` on a few training points. For each
# parameter, `numeric_grad` perturbs the parameter's array in place and reruns the forward
# pass; the backward pass gives the analytic gradient in one go.

# %%
rng = np.random.default_rng(0)
g = Graph()
x = Input(g, X_train[:10], name="x")
y = Input(g, y_train[:10, None], name="y")
W1 = Parameter(g, rng.normal(size=(2, 5)), name="W1")
b1 = Parameter(g, rng.normal(size=5), name="b1")
W2 = Parameter(g, rng.normal(size=(5, 1)), name="W2")
b2 = Parameter(g, rng.normal(size=1), name="b2")
loss_node = BCEWithLogitsLoss(Affine(Tanh(Affine(x, W1, b1)), W2, b2), y)


def loss_value(_):
    g.forward()
    return float(loss_node.value)


g.forward()
g.backward(loss_node)
for p in g.parameters:
    analytic = p.grad.copy()
    numerical = numeric_grad(loss_value, p.value)
    print(f"{p.name}: shape {str(p.value.shape):8s} relative error {rel_error(analytic, numerical):.1e}")

# %% [markdown]
# Relative errors around $10^{-9}$ or smaller: the backward pass is right. (Try it: break
# your `Tanh.backward`, say by dropping the square, rerun this cell and watch the errors of
# `W1` and `b1` jump — `W2` and `b2` are unaffected because they sit after the `Tanh`.)

# %% [markdown]
# **Concept check 6.** A network has 10,000 parameters. How many evaluations of the loss does
# `numeric_grad` need to estimate the full gradient once? Set `q6_answer` to an integer.

# %% nbgrader="solution" grade_id="q6_gradcheck_cost"
# q6_answer = ...
### BEGIN SOLUTION
q6_answer = 20000
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q6_gradcheck_cost" points=1
assert_that("q6_answer" in globals(), "q6_answer is not set yet: run its cell after answering")
assert_scalar(q6_answer, name="q6_answer")
### BEGIN HIDDEN TESTS
assert_answer(q6_answer, 20000, name="q6_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Backpropagation gives all partial derivatives for roughly
# the cost of one extra forward pass. Why, then, do we implement `numeric_grad` at all — and
# why do we never train networks with it? Answer in two to four sentences.
#
# Write your answer in the next cell.

# %% [markdown] nbgrader="answer" grade_id="written_backprop_vs_numeric" points=2
# *Model answer.* Central differences need no derivation, so they are an independent,
# almost foolproof reference that catches mistakes in hand-written backward passes (wrong
# transpose, missing sum over the batch, wrong local derivative), which otherwise often go
# unnoticed because training still "kind of" works. But they cost two forward passes *per
# parameter* — $2D$ evaluations for $D$ parameters, millions of passes for a real network —
# and are only approximate (truncation error of order $h^2$ plus rounding error that grows
# as $h$ shrinks), whereas backpropagation computes the exact gradient for about the cost of
# one forward pass. So we check on small inputs and train with backprop.

# %% [markdown]
# ## 7. Training with the framework
#
# Everything is in place. A training step is: `forward()`, `backward(loss)`, `sgd_step(lr)`.
#
# **Logistic regression as a graph** — `Affine(x, W, b)` with one output and the BCE node —
# is exactly the model of section 1, so gradient descent from the same start must follow
# the same path as with your hand-derived gradient, up to rounding errors.

# %%
def train(graph, loss, learning_rate, steps):
    """Full-batch gradient descent; returns the list of training losses."""
    losses = []
    for _ in range(steps):
        graph.forward()
        losses.append(float(loss.value))
        graph.backward(loss)
        graph.sgd_step(learning_rate)
    return losses


g_lr = Graph()
x_lr, y_lr = Input(g_lr, X_train, name="x"), Input(g_lr, y_train[:, None], name="y")
W_lr = Parameter(g_lr, np.zeros((2, 1)), name="W")
b_lr_node = Parameter(g_lr, np.zeros(1), name="b")
logits_lr = Affine(x_lr, W_lr, b_lr_node)
loss_lr = BCEWithLogitsLoss(logits_lr, y_lr)
losses_graph_lr = train(g_lr, loss_lr, learning_rate=1.0, steps=300)
print("largest difference to the hand-derived training run:",
      np.max(np.abs(W_lr.value.ravel() - w_lr)), abs(b_lr_node.value[0] - b_lr))

# %% [markdown]
# **A two-layer network**: 16 tanh hidden units between input and output,
# `Affine(2 -> 16) -> Tanh -> Affine(16 -> 1) -> BCEWithLogitsLoss`. The weights start random
# (not zero: with all weights equal, all hidden units would compute the same thing and receive
# the same gradient forever); chapter 05 shows how to choose their scale.

# %%
rng = np.random.default_rng(1)
g_net = Graph()
x_net, y_net = Input(g_net, X_train, name="x"), Input(g_net, y_train[:, None], name="y")
W1_net = Parameter(g_net, rng.normal(size=(2, 16)), name="W1")
b1_net = Parameter(g_net, np.zeros(16), name="b1")
W2_net = Parameter(g_net, rng.normal(size=(16, 1)) / 4, name="W2")
b2_net = Parameter(g_net, np.zeros(1), name="b2")
logits_net = Affine(Tanh(Affine(x_net, W1_net, b1_net)), W2_net, b2_net)
loss_net = BCEWithLogitsLoss(logits_net, y_net)
losses_net = train(g_net, loss_net, learning_rate=1.0, steps=1000)


def predict_net(P):
    """Probability of class 1 for points P of shape (n, 2), with the trained network."""
    x_net.value = P
    g_net.forward(until=logits_net)  # no labels for new points: stop before the loss
    return sigmoid(logits_net.value[:, 0])


def predict_lr(P):
    x_lr.value = P
    g_lr.forward(until=logits_lr)
    return sigmoid(logits_lr.value[:, 0])


train_acc_lr = np.mean((predict_lr(X_train) > 0.5) == y_train)
train_acc_net = np.mean((predict_net(X_train) > 0.5) == y_train)
test_acc_lr = np.mean((predict_lr(X_test) > 0.5) == y_test)
test_acc_net = np.mean((predict_net(X_test) > 0.5) == y_test)

fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
axes[0].plot(losses_graph_lr, label="logistic regression")
axes[0].plot(losses_net, label="two-layer net (16 tanh units)")
axes[0].set(xlabel="gradient step", ylabel="mean BCE", title="Training loss", yscale="log")
axes[0].legend(fontsize=8)
plot_boundary(axes[1], predict_lr, f"Logistic regression: test acc. {test_acc_lr:.1%}")
plot_boundary(axes[2], predict_net, f"Two-layer net: test acc. {test_acc_net:.1%}")
plt.show()
print(f"train accuracy: logistic regression {train_acc_lr:.1%}, two-layer net {train_acc_net:.1%}")

# %% nbgrader="tests" grade_id="test_training" points=2
assert_close(W_lr.value.ravel(), w_lr, rtol=1e-8, atol=1e-10,
             name="W of logistic regression trained with the framework vs with logistic_loss_grad")
assert_that(train_acc_net >= 0.95, f"the two-layer net should fit at least 95% of the training "
            f"points, got {train_acc_net:.1%}: check your nodes")
### BEGIN HIDDEN TESTS
def _ref_logits(P, W1, b1, W2, b2):
    return (np.tanh(P @ W1 + b1) @ W2 + b2)[:, 0]


_W1, _b1, _W2, _b2 = (np.array(p.value, dtype=float) for p in (W1_net, b1_net, W2_net, b2_net))
_acc_train = np.mean((_ref_logits(X_train, _W1, _b1, _W2, _b2) > 0) == y_train)
_acc_test = np.mean((_ref_logits(X_test, _W1, _b1, _W2, _b2) > 0) == y_test)
assert_that(_acc_train >= 0.95, f"the trained two-layer net classifies {_acc_train:.1%} of the "
            "training points correctly, expected at least 95%")
assert_that(_acc_test >= 0.93, f"the trained two-layer net classifies {_acc_test:.1%} of the test "
            "points correctly, expected at least 93%")
_w_ref, _b_ref = np.zeros(2), 0.0
for _ in range(300):
    _p = 1.0 / (1.0 + np.exp(-(X_train @ _w_ref + _b_ref)))
    _w_ref, _b_ref = _w_ref - X_train.T @ (_p - y_train) / 200, _b_ref - np.mean(_p - y_train)
assert_close(W_lr.value.ravel(), _w_ref, rtol=1e-7, atol=1e-9,
             name="W of logistic regression after 300 steps with learning rate 1")
### END HIDDEN TESTS

# %% [markdown]
# The graph version of logistic regression agrees with the hand-derived run to the last digits
# (exactly, when both compute in the same order): the framework computes the same gradient you
# derived in section 1. The two-layer
# net bends its boundary around the moons: its 16 hidden units compute tanh features in which
# the classes *are* linearly separable, and the last `Affine` is just a logistic regression on
# those features — learned, not hand-designed.

# %% [markdown]
# **Written answer (2 points).** Your `backward` first sets every gradient to zero and then
# *adds* contributions (`+=`). Explain what would go wrong (a) without the reset, when
# `backward` is called once per training step, and (b) with `=` instead of `+=`. For (b), name
# a node of the `fan-out` graph in the stepper where it matters, and say what its gradient
# would be.
#
# Write your answer in the next cell.

# %% [markdown] nbgrader="answer" grade_id="written_accumulate" points=2
# *Model answer.* (a) The gradients of the previous steps would still be stored, so each
# step would use the sum of the current and all earlier gradients: the update would be wrong
# and grow step after step (and a second call on the same graph would double every
# gradient). (b) A node used by several children receives one contribution per child — the
# multivariate chain rule says they must be summed; with `=` only the contribution handed
# over last survives. In the fan-out graph $L = (ab + a)a$ (with $a = 2$, $b = 3$), $a$ feeds
# three operations and receives $8$ (directly from $L$), $2$ (through $ab + a$) and $6$
# (through $ab$); instead of $\partial L/\partial a = 16$ it would keep one of them, $6$ in
# reverse topological order. The same goes for an inner node used twice, such as $c$ in
# $c \cdot c + c$, and in a network for a hidden layer that feeds two branches or a weight
# shared by two layers.

# %% [markdown]
# ## Summary
#
# - For logistic regression with the binary cross-entropy, $\partial L/\partial z = \hat y - y$:
#   prediction minus target. Compute the loss from the logits to stay finite.
# - Minimising the BCE is maximum likelihood, and the same as minimising the cross-entropy, or
#   the KL divergence, between the labels' distribution and the model's.
# - A computation graph stores, for each node, its value and its local derivatives. The
#   backward pass applies the chain rule in reverse topological order, and **sums** over all
#   the ways a node is used; gradients are reset before each pass.
# - With arrays, each node only turns the gradient of its output into gradients of its inputs,
#   of the same shapes as the inputs (a vector–Jacobian product; the Jacobian itself is never
#   built); broadcast parameters (the bias) get sums over the batch. Gradients are handed on
#   with `addgrad`, which adds, so that fan-out works.
# - Central differences check any backward pass, at a cost of two forward passes per
#   parameter — fine for tests, far too slow for training.
#
# **Next chapter:** the layers of real networks — affine layers, many activation functions,
# softmax and other losses — as plain forward/backward functions, stacked into multi-layer
# perceptrons of any depth.
