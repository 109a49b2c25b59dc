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
# # Chapter 05 — Optimization
#
# A network is only as good as the procedure that trains it. This chapter is about that
# procedure: how to feed data in minibatches, how the update rule turns gradients into steps
# (and why the plain rule struggles in ravines, on plateaus and at cliffs), how to choose and
# change the learning rate (and search for it), how averaging the weights calms the noise, what
# curvature buys (Newton, L-BFGS), and how initialization and batch normalization keep the
# signal alive through many layers.
#
# **What you will build** (all in numpy):
#
# | # | piece | idea |
# |---|---|---|
# | 1 | `minibatches` | shuffle once per epoch, cut into batches, keep the last partial one |
# | 2 | `SGD` | the plain update $w \leftarrow w - \eta g$, with weight decay |
# | 3 | `SGDMomentum`, `Nesterov` | a velocity that accumulates past gradients |
# | 4 | `AdaGrad`, `RMSProp`, `Adam` | a step size per parameter from the gradients' history |
# | 5 | `clip_grad_norm` | rescale all gradients when their norm explodes |
# | 6 | `step_lr`, `exponential_lr`, `cosine_lr`, `warmup_lr` | learning-rate schedules |
# | 7 | `ema_update` | an exponential moving average of the weights (Polyak averaging) |
# | 8 | `newton_method` | a second-order method, on a quadratic and beyond |
# | 9 | `lbfgs_direction` | L-BFGS: curvature from the last few steps, without a Hessian |
# | 10 | `xavier_init`, `kaiming_init` | weights that keep activations at a healthy scale |
# | 11 | `batchnorm_forward`, `batchnorm_backward` | batch normalization with running statistics |
#
# On the way: the **pathological surfaces** (ravine, saddle, plateau, cliff), the
# **learning-rate / optimizer explorer**, a race of all optimizers on handwritten digits,
# **grid versus random search** for hyperparameters, averaged weights against noisy ones,
# L-BFGS against scipy's on the Rosenbrock valley, the **initialization explorer**, eight
# concept checks and two written answers. Every optimizer you write is checked step for step
# against `torch.optim` by the grader.
#
# **You need**: chapter 03 (affine layers, ReLU and softmax cross-entropy, which this chapter
# imports from the course library `dllib.ch03_mlp`), gradients and the chain rule, numpy.
#
# **Time**: about 5 hours.
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
from scipy.optimize import minimize
from sklearn.datasets import load_digits

from dllib.ch03_mlp import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy_loss,
)
from helpers.explorers.optimization import (
    SURFACES,
    Trajectory,
    initialization_explorer,
    optimizer_explorer,
    plot_trajectories,
    run_trajectory,
)
from helpers.gradcheck import numerical_gradient_array
from helpers.oracles import OptimizerRun, update_in_place
from helpers.testing import (
    assert_answer,
    assert_array_equal,
    assert_choice,
    assert_close,
    assert_equal_int,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
    call_updating,
    fail,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% [markdown]
# ## 0. The data: handwritten digits
#
# For the experiments we use scikit-learn's bundled digits: 1797 grey-scale images of
# $8 \times 8$ pixels, flattened to 64 features in $[0, 1]$, with labels 0–9. We keep 1437
# images for training and 360 for validation. The seed is fixed, so everyone gets the same
# split.

# %%
digits = load_digits()
X_all = digits.data / 16.0
y_all = digits.target
split_rng = np.random.default_rng(0)
order = split_rng.permutation(len(y_all))
X_train, y_train = X_all[order[:1437]], y_all[order[:1437]]
X_val, y_val = X_all[order[1437:]], y_all[order[1437:]]
print(f"train {X_train.shape}, validation {X_val.shape}, classes {np.unique(y_train)}")

# %% [markdown]
# ## 1. Minibatches
#
# The training loss is an average over all $N$ examples, and so is its gradient. **Stochastic
# gradient descent** replaces that average by the average over a small random **minibatch**
# of $B$ examples: a noisy but unbiased estimate that costs $B/N$ of the work. One pass over
# the whole training set is an **epoch**; each update on one minibatch is an **iteration**.
#
# The usual recipe for one epoch:
#
# 1. draw a fresh random order of the $N$ indices (a permutation — every example exactly
#    once, no repeats);
# 2. cut that order into consecutive chunks of $B$;
# 3. if $B$ does not divide $N$, the last chunk is smaller. Keep it (every example is then
#    seen once per epoch), or drop it when every batch must have exactly $B$ examples.
#
# Inputs and labels must be shuffled with the **same** permutation, or the labels no longer
# belong to their images.

# %% nbgrader="solution" grade_id="minibatches" export=true
def minibatches(X, y, batch_size, rng=None, drop_last=False):
    """The minibatches of one epoch, as (X_batch, y_batch) pairs.

    Args:
        X: array of shape (n, ...) (for example (n, features), float64).
        y: array of shape (n,) or (n, ...) (for example int64 labels).
        batch_size: int B >= 1.
        rng: None to keep the order 0, 1, ..., n-1; otherwise a numpy Generator, and the order
            is rng.permutation(n) (call it exactly once).
        drop_last: if True, leave out a last batch that has fewer than B examples.

    Returns:
        A list (not a generator) of (X_batch, y_batch) pairs: pair k holds the examples
        order[k*B : (k+1)*B]. When B does not divide n the last pair has n % B examples,
        unless drop_last; there is never an empty batch. The caller's X and y are not
        modified, and all randomness comes from rng.
    """
    ### BEGIN SOLUTION
    n = len(X)
    order = np.arange(n) if rng is None else rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    batches = []
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        batches.append((X[idx], y[idx]))
    return batches
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_minibatches" points=3
_X = np.arange(10.0).reshape(5, 2)
_y = np.arange(5)
_batches = call(minibatches, _X, _y, 2)
assert_that(isinstance(_batches, list),
            f"minibatches should return a list of (X_batch, y_batch) pairs, got {type(_batches).__name__}")
assert_equal_int(len(_batches), 3, name="number of batches from minibatches(5 examples, batch_size=2)")
for _k, (_rows, _size) in enumerate([([0, 1], 2), ([2, 3], 2), ([4], 1)]):
    _Xb, _yb = _batches[_k]
    assert_shape(_Xb, (_size, 2), name=f"X_batch {_k} of minibatches(5 examples, batch_size=2)")
    assert_close(_Xb, _X[_rows], name=f"X_batch {_k} without shuffling")
    assert_array_equal(_yb, _y[_rows], name=f"y_batch {_k} without shuffling")
# When B divides n there is no extra (empty) batch; drop_last leaves out the partial one.
_batches = call(minibatches, _X[:4], _y[:4], 2)
assert_equal_int(len(_batches), 2, name="number of batches from minibatches(4 examples, batch_size=2)")
_batches = call(minibatches, _X, _y, 2, drop_last=True)
assert_equal_int(len(_batches), 2, name="number of batches with drop_last=True (5 examples, B=2)")
# With a generator: the order is rng.permutation(n), and X and y stay together.
_order = np.random.default_rng(3).permutation(5)
_batches = call(minibatches, _X, _y, 2, rng=np.random.default_rng(3))
assert_array_equal(np.concatenate([b[1] for b in _batches]), _order,
                   name="labels of all batches together, shuffled with rng.permutation(5)")
assert_close(np.concatenate([b[0] for b in _batches]), _X[_order],
             name="rows of X of all batches together (the same permutation as the labels)")
# All randomness comes from rng: the same seed gives the same batches, another seed others.
assert_seeded(lambda rng: call(minibatches, _X, _y, 2, rng=rng), "minibatches(X, y, 2, rng=rng)")
### BEGIN HIDDEN TESTS
import torch as _torch
from torch.utils.data import DataLoader as _DataLoader
from torch.utils.data import TensorDataset as _TensorDataset

for _n, _B, _drop, _seed in [(12, 4, False, 3), (10, 3, False, 1), (10, 3, True, 2), (12, 4, True, 4),
                             (7, 10, False, 5), (7, 10, True, 6), (1, 1, False, 7), (100, 1, False, 8),
                             (33, 8, False, 9), (5, 5, True, 10)]:
    _X = np.random.default_rng(_seed).normal(size=(_n, 3))
    _y = np.arange(_n) * 7 % 10
    for _shuffle in (False, True):
        _order = np.random.default_rng(_seed).permutation(_n) if _shuffle else np.arange(_n)
        _loader = _DataLoader(_TensorDataset(_torch.from_numpy(_X), _torch.from_numpy(_y)),
                              batch_size=_B, sampler=_order.tolist(), drop_last=_drop)
        _expected = [(xb.numpy(), yb.numpy()) for xb, yb in _loader]
        _rng = np.random.default_rng(_seed) if _shuffle else None
        _label = f"minibatches(n={_n}, batch_size={_B}, shuffled={_shuffle}, drop_last={_drop})"
        _got = call(minibatches, _X, _y, _B, rng=_rng, drop_last=_drop)
        assert_equal_int(len(_got), len(_expected), name=f"number of batches from {_label}")
        for _k, ((_Xb, _yb), (_Xe, _ye)) in enumerate(zip(_got, _expected, strict=True)):
            assert_close(_Xb, _Xe, rtol=0, atol=0, name=f"X_batch {_k} of {_label}")
            assert_array_equal(_yb, _ye, name=f"y_batch {_k} of {_label}")
# The generator is used exactly once per call: a second epoch continues its stream.
_rng = np.random.default_rng(42)
_ref = np.random.default_rng(42)
_r1, _r2 = _ref.permutation(len(_y)), _ref.permutation(len(_y))
_e1 = np.concatenate([b[1] for b in call(minibatches, _X, _y, 4, rng=_rng)])
_e2 = np.concatenate([b[1] for b in call(minibatches, _X, _y, 4, rng=_rng)])
assert_array_equal(_e1, _y[_r1], name="labels of epoch 1 with a shared generator")
assert_array_equal(_e2, _y[_r2], name="labels of epoch 2 with the same generator (call rng.permutation once per epoch)")
# Images (n, 8, 8) work too.
_imgs = np.arange(6 * 8 * 8, dtype=float).reshape(6, 8, 8)
_got = call(minibatches, _imgs, np.arange(6), 4)
assert_shape(_got[0][0], (4, 8, 8), name="first X_batch of images of shape (6, 8, 8), B=4")
assert_shape(_got[1][0], (2, 8, 8), name="last X_batch of images of shape (6, 8, 8), B=4")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** A training set has $N = 1000$ examples and you train with minibatches
# of $B = 64$, keeping the last partial batch. How many iterations (parameter updates) make
# one epoch? Set `q1_answer` to that integer.

# %% nbgrader="solution" grade_id="q1_iterations_per_epoch"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 16
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_iterations_per_epoch" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 16, name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Optimizers: one interface, one update rule each
#
# All optimizers in this chapter (and in the chapters after it) share one small interface:
#
# ```python
# params = {"W1": W1, "b1": b1, ...}          # name -> float64 array, any shape
# opt = SGD(params, lr=0.1)                   # keeps a reference to the dict
# ...                                         # compute grads: same keys, same shapes
# opt.step(grads)                             # updates every params[name] IN PLACE
# opt.lr = 0.05                               # the learning rate may change between steps
# ```
#
# **In place** matters: the model holds the very same arrays, so write `w -= ...` or
# `w[...] = ...`, never `w = w - ...` (that makes a new array and leaves the model's
# untouched). The `grads` dict belongs to the caller: read it, do not change it.
#
# Every optimizer also takes `weight_decay` $\lambda \ge 0$. Like `torch.optim`, it is added to
# the gradient before anything else happens,
#
# $$g \leftarrow g + \lambda w,$$
#
# which is the gradient of an extra $\tfrac{\lambda}{2}\lVert w\rVert^2$ term in the loss
# (chapter 04 looks at this closely). With $\lambda = 0$ nothing changes.
#
# **Plain (stochastic) gradient descent** then steps against the gradient:
#
# $$w \leftarrow w - \eta\, g .$$
#
# The class below is written for you up to `step`: it shows the pattern for all others.

# %% nbgrader="solution" grade_id="sgd" export=true
class SGD:
    """Stochastic gradient descent: w <- w - lr * (g + weight_decay * w).

    Args:
        params: dict name -> float64 array (any shape); step() updates these arrays in place.
        lr: float > 0, the learning rate. self.lr may be changed between steps.
        weight_decay: float >= 0; weight_decay * w is added to the gradient.
    """

    def __init__(self, params, lr, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.weight_decay = weight_decay

    def step(self, grads):
        """Update every parameter once.

        Args:
            grads: dict with the keys of params; grads[name] is a float64 array of the shape
                of params[name]. Not modified.
        """
        ### BEGIN SOLUTION
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            w -= self.lr * g
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_sgd" points=2
# OptimizerRun (helpers.oracles) builds the optimizer and calls its step for the tests: each
# step returns copies of the parameter arrays the model holds, and fails if step replaced one of
# them by a new array (instead of updating it in place) or changed the grads it was given.
_params = {"w": np.array([1.0, -2.0]), "b": np.array([[0.5]])}
_run = OptimizerRun(SGD, _params, lr=0.1)
_after = _run.step({"w": np.array([0.5, 0.5]), "b": np.array([[-1.0]])})
assert_close(_after["w"], [0.95, -2.05], name="w after one SGD step (lr=0.1, g=[0.5, 0.5])")
assert_close(_after["b"], [[0.6]], name="b after one SGD step (lr=0.1, g=[[-1]])")
# Weight decay adds weight_decay * w to the gradient.
_run = OptimizerRun(SGD, {"w": np.array([2.0])}, lr=0.5, weight_decay=0.1)
_after = _run.step({"w": np.array([0.0])})
assert_close(_after["w"], [2.0 - 0.5 * 0.1 * 2.0], name="w after one SGD step with weight_decay=0.1 and g=0")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_optimizer as _follow

# Non-default values first, at several scales of the gradient (weight decay 0.5 and 0.1).
for _hyper, _scale in [({"lr": 0.01, "weight_decay": 0.5}, 1.0), ({"lr": 1e-5, "weight_decay": 0.1}, 1e4),
                       ({"lr": 0.05}, 1.0), ({"lr": 0.2}, 1e-3)]:
    _follow(SGD, _hyper, _torch.optim.SGD, scale=_scale, steps=120)
# The default weight decay is 0.
_after = OptimizerRun(SGD, {"w": np.array([3.0])}, lr=1.0).step({"w": np.array([0.0])})
assert_close(_after["w"], [3.0], name="w after SGD(lr=1) step with zero gradient (default weight_decay=0)")
### END HIDDEN TESTS

# %% [markdown]
# **How large may the learning rate be?** Take the simplest loss,
# $f(w) = \tfrac{a}{2} w^2$ with curvature $a > 0$. Its gradient is $a w$, so one step gives
#
# $$w \leftarrow w - \eta a w = (1 - \eta a)\, w .$$
#
# After $t$ steps $w_t = (1 - \eta a)^t w_0$: the iterates shrink when $|1 - \eta a| < 1$,
# overshoot and oscillate (but still shrink) when $1/a < \eta < 2/a$, and **diverge** when
# $\eta > 2/a$. In many dimensions every direction of curvature $a_i$ obeys the same rule,
# so the *largest* curvature sets the limit on $\eta$, while the *smallest* curvature decides
# how slowly the flat directions converge. The ratio of the two (the *condition number*) is
# what makes a ravine hard.

# %% [markdown]
# **Concept check 2.** Gradient descent with a constant learning rate $\eta$ on
# $f(w) = 5w^2$. Above which value of $\eta$ does it diverge from every starting point
# $w_0 \neq 0$? Set `q2_answer` to that number.

# %% nbgrader="solution" grade_id="q2_critical_lr"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 0.2
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_critical_lr" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 0.2, name="q2_answer", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Momentum and Nesterov momentum
#
# In a ravine the gradient points mostly *across* the valley, so plain gradient descent
# zig-zags from wall to wall and crawls along the floor. **Momentum** keeps a velocity $v$, an
# exponentially decaying sum of past gradients: components that flip sign from step to step
# cancel out, components that keep their sign add up. With momentum coefficient
# $\mu \in [0, 1)$, the convention of `torch.optim.SGD` is
#
# $$v \leftarrow \mu\, v + g, \qquad w \leftarrow w - \eta\, v, \qquad v_0 = 0 .$$
#
# In a constant gradient the velocity grows to $g / (1 - \mu)$: with $\mu = 0.9$ the steps
# along the valley floor become ten times longer. (The lecture notes also write the
# equivalent form $v \leftarrow \mu v - \eta g,\ w \leftarrow w + v$; it agrees with this one as
# long as $\eta$ is constant. Here $\eta$ may change between steps, so use exactly the form
# above.) Weight decay, as always, is added to $g$ first.
#
# Each parameter has its **own** velocity, of its shape: keep them in a dict keyed like
# `params`, created in `__init__` (zeros).

# %% nbgrader="solution" grade_id="momentum" export=true
class SGDMomentum:
    """SGD with momentum, as torch.optim.SGD(params, lr, momentum, weight_decay=...).

    For every parameter w with gradient g (and its own velocity v, initially 0):
        g <- g + weight_decay * w
        v <- momentum * v + g
        w <- w - lr * v

    Args:
        params: dict name -> float64 array; updated in place by step().
        lr: float > 0; self.lr may be changed between steps.
        momentum: float in [0, 1), the coefficient mu.
        weight_decay: float >= 0.
    """

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        ### BEGIN SOLUTION
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {name: np.zeros_like(w) for name, w in params.items()}
        ### END SOLUTION

    def step(self, grads):
        """Update every parameter once; grads as for SGD.step (not modified)."""
        ### BEGIN SOLUTION
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            v = self.velocity[name]
            v *= self.momentum
            v += g
            w -= self.lr * v
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_momentum" points=3
# Two steps by hand with mu = 0.5, lr = 0.1 and the gradient 1 both times:
# v1 = 1, w1 = -0.1; v2 = 0.5 * 1 + 1 = 1.5, w2 = -0.1 - 0.15 = -0.25.
_run = OptimizerRun(SGDMomentum, {"w": np.array([0.0])}, lr=0.1, momentum=0.5)
_after = _run.step({"w": np.array([1.0])})
assert_close(_after["w"], [-0.1], name="w after step 1 of SGDMomentum(lr=0.1, momentum=0.5), g=1")
_after = _run.step({"w": np.array([1.0])})
assert_close(_after["w"], [-0.25], name="w after step 2 of SGDMomentum(lr=0.1, momentum=0.5), g=1")
# Two parameters, two velocities.
_run = OptimizerRun(SGDMomentum, {"a": np.array([0.0]), "b": np.zeros((2, 2))}, lr=1.0, momentum=0.9)
for _ in range(2):
    _after = _run.step({"a": np.array([1.0]), "b": -np.ones((2, 2))})
assert_close(_after["a"], [-2.9], name="params['a'] after two steps (each parameter has its own velocity)")
assert_close(_after["b"], 2.9 * np.ones((2, 2)), name="params['b'] after two steps")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_optimizer as _follow

for _hyper, _scale in [({"lr": 1e-4, "momentum": 0.8, "weight_decay": 0.3}, 1e3),
                       ({"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}, 1.0),
                       ({"lr": 0.05, "momentum": 0.9}, 1.0), ({"lr": 0.1, "momentum": 0.0}, 1.0),
                       ({"lr": 0.3, "momentum": 0.99}, 1e-3)]:
    _follow(SGDMomentum, _hyper, _torch.optim.SGD, scale=_scale, steps=120)
# The default momentum is 0.9.
_follow(SGDMomentum, {"lr": 0.05}, _torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, steps=30)
### END HIDDEN TESTS

# %% [markdown]
# **Nesterov momentum** first moves along the current velocity and only then looks at the
# gradient — a look-ahead that brakes earlier when the velocity is about to carry the
# parameters up the other wall. Written in terms of the look-ahead point, which is what we
# store as $w$, the update needs only the gradient at the current $w$ (this is the form of
# `torch.optim.SGD(..., nesterov=True)`):
#
# $$v \leftarrow \mu v + g, \qquad w \leftarrow w - \eta\,(g + \mu v) .$$
#
# Compared with plain momentum, the step uses $g + \mu v$ with the *new* velocity instead of
# $v$ alone. Weight decay is added to $g$ first (and the decayed $g$ is used in both places).

# %% nbgrader="solution" grade_id="nesterov" export=true
class Nesterov:
    """Nesterov momentum, as torch.optim.SGD(params, lr, momentum, nesterov=True, ...).

    For every parameter w with gradient g (and its own velocity v, initially 0):
        g <- g + weight_decay * w
        v <- momentum * v + g
        w <- w - lr * (g + momentum * v)

    Args:
        params: dict name -> float64 array; updated in place by step().
        lr: float > 0; self.lr may be changed between steps.
        momentum: float in [0, 1).
        weight_decay: float >= 0.
    """

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        ### BEGIN SOLUTION
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {name: np.zeros_like(w) for name, w in params.items()}
        ### END SOLUTION

    def step(self, grads):
        """Update every parameter once; grads as for SGD.step (not modified)."""
        ### BEGIN SOLUTION
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            v = self.velocity[name]
            v *= self.momentum
            v += g
            w -= self.lr * (g + self.momentum * v)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_nesterov" points=3
# Two steps by hand with mu = 0.5, lr = 0.1 and the gradient 1 both times:
# v1 = 1, w1 = -0.1 * (1 + 0.5) = -0.15; v2 = 1.5, w2 = -0.15 - 0.1 * (1 + 0.75) = -0.325.
_run = OptimizerRun(Nesterov, {"w": np.array([0.0])}, lr=0.1, momentum=0.5)
_after = _run.step({"w": np.array([1.0])})
assert_close(_after["w"], [-0.15], name="w after step 1 of Nesterov(lr=0.1, momentum=0.5), g=1")
_after = _run.step({"w": np.array([1.0])})
assert_close(_after["w"], [-0.325], name="w after step 2 of Nesterov(lr=0.1, momentum=0.5), g=1")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_optimizer as _follow

for _hyper, _scale in [({"lr": 1e-4, "momentum": 0.8, "weight_decay": 0.3}, 1e3),
                       ({"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1}, 1.0),
                       ({"lr": 0.05, "momentum": 0.9}, 1.0), ({"lr": 0.1, "momentum": 0.3}, 1.0),
                       ({"lr": 0.3, "momentum": 0.99}, 1e-3)]:
    _follow(Nesterov, _hyper, _torch.optim.SGD, {**_hyper, "nesterov": True}, scale=_scale, steps=120)
_follow(Nesterov, {"lr": 0.05}, _torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}, steps=30)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. A learning rate per parameter: AdaGrad, RMSProp, Adam
#
# Momentum fixes the zig-zag, but one learning rate still serves all parameters, however
# differently curved their directions are. The **adaptive** methods divide each parameter's
# step by a running measure of how large its gradients have been: big, frequent gradients get
# small steps, small or rare ones get large steps. All operations below are element-wise, and
# each parameter has its own accumulator of its shape (zeros at the start).
#
# **AdaGrad** sums all squared gradients seen so far:
#
# $$s \leftarrow s + g \odot g, \qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{s} + \varepsilon} .$$
#
# Because $s$ only grows, the effective step size only shrinks — good for sparse features,
# often too fast a decay for deep networks.
#
# **RMSProp** forgets: it keeps an *exponential moving average* of squared gradients with
# decay $\alpha$ (typically 0.99),
#
# $$s \leftarrow \alpha\, s + (1 - \alpha)\, g \odot g, \qquad
#   w \leftarrow w - \eta\, \frac{g}{\sqrt{s} + \varepsilon} .$$
#
# In both, $\varepsilon$ is added **after** the square root, and weight decay is added to $g$
# first (the decayed $g$ is squared too). These are the conventions of `torch.optim.Adagrad`
# and `torch.optim.RMSprop`.

# %% nbgrader="solution" grade_id="adagrad" export=true
class AdaGrad:
    """AdaGrad, as torch.optim.Adagrad(params, lr, weight_decay=..., eps=...).

    For every parameter w with gradient g (and its own sum s of squares, initially 0):
        g <- g + weight_decay * w
        s <- s + g * g
        w <- w - lr * g / (sqrt(s) + eps)

    Args:
        params: dict name -> float64 array; updated in place by step().
        lr: float > 0; self.lr may be changed between steps.
        eps: float > 0, added to sqrt(s).
        weight_decay: float >= 0.
    """

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        ### BEGIN SOLUTION
        self.params = params
        self.lr = lr
        self.eps = eps
        self.weight_decay = weight_decay
        self.sum_sq = {name: np.zeros_like(w) for name, w in params.items()}
        ### END SOLUTION

    def step(self, grads):
        """Update every parameter once; grads as for SGD.step (not modified)."""
        ### BEGIN SOLUTION
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            s = self.sum_sq[name]
            s += g * g
            w -= self.lr * g / (np.sqrt(s) + self.eps)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_adagrad" points=3
# Step 1 with g = 3: s = 9, w = 0 - 0.5 * 3 / 3 = -0.5; step 2 with g = 4: s = 25, w = -0.5 - 0.5 * 4 / 5.
_run = OptimizerRun(AdaGrad, {"w": np.array([0.0])}, lr=0.5, eps=0.0)
_after = _run.step({"w": np.array([3.0])})
assert_close(_after["w"], [-0.5], name="w after step 1 of AdaGrad(lr=0.5, eps=0), g=3")
_after = _run.step({"w": np.array([4.0])})
assert_close(_after["w"], [-0.9], name="w after step 2 of AdaGrad(lr=0.5, eps=0), g=4")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_optimizer as _follow

for _hyper, _scale in [({"lr": 0.1, "eps": 0.5, "weight_decay": 0.05}, 1.0), ({"lr": 0.05, "eps": 1e-2}, 1e-3),
                       ({"lr": 0.5, "weight_decay": 0.1}, 1.0), ({"lr": 0.1}, 1.0), ({"lr": 0.2}, 1e5)]:
    _follow(AdaGrad, _hyper, _torch.optim.Adagrad, scale=_scale, steps=120)
# Defaults as in torch: lr=0.01, eps=1e-10.
_follow(AdaGrad, {}, _torch.optim.Adagrad, steps=30)
### END HIDDEN TESTS

# %% nbgrader="solution" grade_id="rmsprop" export=true
class RMSProp:
    """RMSProp, as torch.optim.RMSprop(params, lr, alpha, eps, weight_decay) (no momentum).

    For every parameter w with gradient g (and its own average s of squares, initially 0):
        g <- g + weight_decay * w
        s <- alpha * s + (1 - alpha) * g * g
        w <- w - lr * g / (sqrt(s) + eps)

    Args:
        params: dict name -> float64 array; updated in place by step().
        lr: float > 0; self.lr may be changed between steps.
        alpha: float in [0, 1), the decay of the moving average.
        eps: float > 0, added to sqrt(s).
        weight_decay: float >= 0.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        ### BEGIN SOLUTION
        self.params = params
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.avg_sq = {name: np.zeros_like(w) for name, w in params.items()}
        ### END SOLUTION

    def step(self, grads):
        """Update every parameter once; grads as for SGD.step (not modified)."""
        ### BEGIN SOLUTION
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            s = self.avg_sq[name]
            s *= self.alpha
            s += (1.0 - self.alpha) * g * g
            w -= self.lr * g / (np.sqrt(s) + self.eps)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_rmsprop" points=3
# alpha = 0.75, g = 2: s = 0.25 * 4 = 1, w = 0 - 0.1 * 2 / 1 = -0.2;
# g = 2 again: s = 0.75 + 1 = 1.75, w = -0.2 - 0.1 * 2 / sqrt(1.75).
_run = OptimizerRun(RMSProp, {"w": np.array([0.0])}, lr=0.1, alpha=0.75, eps=0.0)
_after = _run.step({"w": np.array([2.0])})
assert_close(_after["w"], [-0.2], name="w after step 1 of RMSProp(lr=0.1, alpha=0.75, eps=0), g=2")
_after = _run.step({"w": np.array([2.0])})
assert_close(_after["w"], [-0.2 - 0.2 / np.sqrt(1.75)],
             name="w after step 2 of RMSProp(lr=0.1, alpha=0.75, eps=0), g=2")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_optimizer as _follow

for _hyper, _scale in [({"lr": 0.02, "alpha": 0.0, "eps": 0.3, "weight_decay": 0.05}, 1.0),
                       ({"lr": 0.01, "alpha": 0.5, "eps": 1e-2}, 1e-3),
                       ({"lr": 0.05, "alpha": 0.9, "weight_decay": 0.1}, 1.0),
                       ({"lr": 0.01}, 1.0), ({"lr": 0.003}, 1e5)]:
    _follow(RMSProp, _hyper, _torch.optim.RMSprop, scale=_scale, steps=120)
# Defaults as in torch: lr=0.01, alpha=0.99, eps=1e-8.
_follow(RMSProp, {}, _torch.optim.RMSprop, steps=30)
### END HIDDEN TESTS

# %% [markdown]
# **Adam** combines both ideas: a moving average $m$ of the gradients (momentum, decay
# $\beta_1$) and a moving average $v$ of their squares (RMSProp, decay $\beta_2$). Both start
# at zero, so in the first steps they are **biased towards zero**: after one step
# $m_1 = (1-\beta_1) g_1$, only a tenth of the gradient for $\beta_1 = 0.9$. Since
# $m_t = (1-\beta_1)\sum_{i \le t} \beta_1^{t-i} g_i$ and the weights
# $(1-\beta_1)\sum_{i \le t}\beta_1^{t-i} = 1 - \beta_1^t$ do not yet add up to one, dividing by
# $1 - \beta_1^t$ removes the bias. With a step counter $t = 1, 2, \dots$ (incremented at the
# start of each step):
#
# $$\begin{aligned}
# m &\leftarrow \beta_1 m + (1-\beta_1)\, g, &\qquad \hat m &= m / (1 - \beta_1^t),\\
# v &\leftarrow \beta_2 v + (1-\beta_2)\, g \odot g, &\qquad \hat v &= v / (1 - \beta_2^t),\\
# w &\leftarrow w - \eta\, \frac{\hat m}{\sqrt{\hat v} + \varepsilon} . & &
# \end{aligned}$$
#
# Weight decay is added to $g$ first (this is `torch.optim.Adam`'s `weight_decay`, an $\ell_2$
# penalty; chapter 04 meets its "decoupled" cousin AdamW).

# %% nbgrader="solution" grade_id="adam" export=true
class Adam:
    """Adam with bias correction, as torch.optim.Adam(params, lr, betas, eps, weight_decay).

    A step counter t (0 before the first step) is shared by all parameters. Each step:
        t <- t + 1
    and for every parameter w with gradient g (own m and v, initially 0):
        g <- g + weight_decay * w
        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t),  v_hat = v / (1 - beta2 ** t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: dict name -> float64 array; updated in place by step().
        lr: float > 0; self.lr may be changed between steps.
        betas: pair (beta1, beta2) of floats in [0, 1).
        eps: float > 0, added to sqrt(v_hat).
        weight_decay: float >= 0.
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        ### BEGIN SOLUTION
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = {name: np.zeros_like(w) for name, w in params.items()}
        self.v = {name: np.zeros_like(w) for name, w in params.items()}
        ### END SOLUTION

    def step(self, grads):
        """Update every parameter once; grads as for SGD.step (not modified)."""
        ### BEGIN SOLUTION
        self.t += 1
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            m_hat = m / (1.0 - self.beta1**self.t)
            v_hat = v / (1.0 - self.beta2**self.t)
            w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_adam" points=4
# Thanks to the bias correction, the first step moves every parameter by lr against the sign
# of its gradient (up to eps), whatever the gradient's size.
_run = OptimizerRun(Adam, {"w": np.array([1.0, 1.0, 1.0])}, lr=0.1, eps=0.0)
_after = _run.step({"w": np.array([1e-3, -5.0, 2e3])})
assert_close(_after["w"], [0.9, 1.1, 0.9], name="w after the first Adam step (lr=0.1, eps=0)")
# Two steps by hand with lr = 1, betas = (0.5, 0.5), eps = 0, gradients 2 then 1:
# step 1: m = 1, v = 2, m_hat = 1 / 0.5 = 2, v_hat = 2 / 0.5 = 4, w = 0 - 2 / 2 = -1
# step 2: m = 1, v = 1.5, m_hat = 1 / 0.75, v_hat = 1.5 / 0.75 = 2, w = -1 - (1 / 0.75) / sqrt(2)
_run = OptimizerRun(Adam, {"w": np.array([0.0])}, lr=1.0, betas=(0.5, 0.5), eps=0.0)
_after = _run.step({"w": np.array([2.0])})
assert_close(_after["w"], [-1.0], name="w after one Adam step (lr=1, betas=(0.5, 0.5), eps=0), g = 2")
_after = _run.step({"w": np.array([1.0])})
assert_close(_after["w"], [-1.0 - (1.0 / 0.75) / np.sqrt(2.0)],
             name="w after two Adam steps (lr=1, betas=(0.5, 0.5), eps=0), g = 2 then 1")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_optimizer as _follow

for _hyper, _scale in [({"lr": 0.02, "betas": (0.0, 0.5), "eps": 0.3, "weight_decay": 0.05}, 1.0),
                       ({"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1}, 1.0),
                       ({"lr": 0.003, "betas": (0.5, 0.9)}, 1e5), ({"lr": 0.01}, 1e-6), ({"lr": 0.01}, 1.0),
                       ({"lr": 0.01, "betas": (0.99, 0.9999)}, 1.0)]:
    _follow(Adam, _hyper, _torch.optim.Adam, scale=_scale, steps=150)
# Defaults as in torch: lr=1e-3, betas=(0.9, 0.999), eps=1e-8.
_follow(Adam, {}, _torch.optim.Adam, steps=40)
# Two optimizers do not share state.
_ra, _rb = OptimizerRun(Adam, {"w": np.array([0.0])}, lr=0.1), OptimizerRun(Adam, {"w": np.array([0.0])}, lr=0.1)
for _ in range(3):
    _ra.step({"w": np.array([1.0])})
_after = _rb.step({"w": np.array([1.0])})
assert_close(_after["w"], [-0.1], rtol=1e-6,
             name="w of a second Adam after its first step (each optimizer keeps its own state)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** You train with Adam, `lr = 0.01`, the default betas and a negligible
# $\varepsilon$. By how much does a parameter change in absolute value in the very first
# step, if its gradient is $g_1 = 250$? Set `q3_answer` to that number.

# %% nbgrader="solution" grade_id="q3_adam_first_step"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = 0.01
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_adam_first_step" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, 0.01, name="q3_answer", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Gradient clipping
#
# Some losses have **cliffs**: regions where the loss drops (or rises) abruptly, so the
# gradient there is enormous. A step of size $\eta \lVert g\rVert$ taken at the foot of a cliff
# can throw the parameters far away and undo many steps of progress; recurrent networks
# (chapter 07) meet such exploding gradients all the time. **Clipping by norm** caps the step
# without changing its direction: compute the norm of *all* gradients together,
#
# $$\lVert g \rVert = \sqrt{\textstyle\sum_{\text{arrays}} \sum_{\text{entries}} g^2},$$
#
# and if it exceeds a threshold $c$, scale every gradient by $c / \lVert g\rVert$. We follow
# `torch.nn.utils.clip_grad_norm_` exactly: multiply every gradient by
# $\min\big(1,\ c / (\lVert g\rVert + 10^{-6})\big)$ and return the norm *before* clipping
# (handy for logging). Clipping is applied to the gradients between the backward pass and
# `opt.step`, so — unlike the optimizers — it changes the `grads` arrays in place.

# %% nbgrader="solution" grade_id="clip_grad_norm" export=true
def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most max_norm.

    Args:
        grads: dict name -> float64 array (any shapes). Modified in place: every array is
            multiplied by min(1, max_norm / (total_norm + 1e-6)).
        max_norm: float > 0.

    Returns:
        total_norm: Python float, the Euclidean norm of all entries of all arrays together,
        measured before clipping.
    """
    ### BEGIN SOLUTION
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    scale = min(1.0, max_norm / (total + 1e-6))
    for g in grads.values():
        g *= scale
    return total
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_clip_grad_norm" points=3
# update_in_place (helpers.oracles) calls a function that is documented to change the arrays of
# one dict argument in place: it fails if the function puts new arrays into the dict instead.
# Norm of (3, 4) and (12,) together: sqrt(9 + 16 + 144) = 13.
_grads = {"a": np.array([3.0, 4.0]), "b": np.array([12.0])}
_norm = update_in_place(clip_grad_norm, "grads", _grads, 6.5)
assert_scalar(_norm, 13.0, name="total norm returned by clip_grad_norm (before clipping)")
assert_close(_grads["a"], np.array([3.0, 4.0]) * 6.5 / (13.0 + 1e-6), name="grads['a'] clipped to max_norm=6.5")
assert_close(_grads["b"], np.array([12.0]) * 6.5 / (13.0 + 1e-6), name="grads['b'] clipped to max_norm=6.5")
# Below the threshold nothing changes.
_grads = {"a": np.array([3.0, 4.0])}
update_in_place(clip_grad_norm, "grads", _grads, 10.0)
assert_close(_grads["a"], [3.0, 4.0], name="grads with norm 5 after clip_grad_norm(grads, 10)")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(205)
for _shapes, _scale, _max in [([(3,), (4, 5)], 1.0, 1.0), ([(2, 3), (3,), (1, 1), (7,)], 10.0, 0.5),
                              ([(3,), (4, 5)], 1.0, 100.0), ([(1,)], 5.0, 2.0),
                              ([(10,)], 1e-8, 1.0), ([(4,), (4,)], 1e100, 3.0),
                              ([(6, 2), (2,)], 0.0, 1.0)]:
    _arrays = [_scale * _rng.normal(size=s) for s in _shapes]
    _grads = {f"p{i}": a.copy() for i, a in enumerate(_arrays)}
    _tensors = [_torch.zeros(a.shape, dtype=_torch.float64, requires_grad=True) for a in _arrays]
    for _t, _a in zip(_tensors, _arrays, strict=True):
        _t.grad = _torch.tensor(_a.copy())
    _tnorm = float(_torch.nn.utils.clip_grad_norm_(_tensors, _max))
    _label = f"clip_grad_norm(grads of shapes {_shapes} and size ~{_scale:g}, max_norm={_max})"
    _norm = update_in_place(clip_grad_norm, "grads", _grads, _max)
    assert_that(isinstance(_norm, float), f"{_label} should return a Python float, got {type(_norm).__name__}")
    assert_scalar(_norm, _tnorm, rtol=1e-9, atol=1e-300, name=f"total norm returned by {_label}")
    for (_k, _g), _t in zip(_grads.items(), _tensors, strict=True):
        assert_close(_g, _t.grad.numpy(), rtol=1e-9, atol=1e-300, name=f"grads[{_k!r}] after {_label}")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Experiment: the pathological surfaces
#
# Real loss surfaces have millions of dimensions, but their troubles show up already in two.
# `helpers.explorers.optimization.SURFACES` holds a few two-dimensional losses with their
# gradients, and `run_trajectory(make_optimizer, surface, steps=...)` runs *your* optimizer on
# one of them (`make_optimizer(params)` must build the optimizer for `params = {"w": w}`).
#
# - **ravine**: $f = (0.1\,w_1)^2 + w_2^2$ — curvature 100 times larger across than along;
# - **saddle**: $f = \tfrac12 w_1^2 + \tfrac14 w_2^4 - \tfrac12 w_2^2$ — a flat point that is
#   not a minimum; we start almost exactly on the ridge that leads into it;
# - **plateau**: $f = 1 - \exp(-\lVert w\rVert^2 / 0.5)$ — gradients of size $10^{-3}$ far
#   from the hole;
# - **cliff**: a gentle slope that leads to the foot of a steep wall.

# %%
def make(cls, **hyper):
    """make(SGD, lr=0.1) -> a function params -> SGD(params, lr=0.1)."""
    return lambda params: cls(params, **hyper)


experiments = {
    "ravine": {"SGD η=0.9": make(SGD, lr=0.9), "SGD η=0.1": make(SGD, lr=0.1),
               "momentum η=0.5": make(SGDMomentum, lr=0.5, momentum=0.9),
               "Adam η=0.1": make(Adam, lr=0.1)},
    "saddle": {"SGD η=0.1": make(SGD, lr=0.1),
               "momentum η=0.1": make(SGDMomentum, lr=0.1, momentum=0.9),
               "Adam η=0.1": make(Adam, lr=0.1)},
    "plateau": {"SGD η=0.1": make(SGD, lr=0.1),
                "momentum η=0.1": make(SGDMomentum, lr=0.1, momentum=0.9),
                "Adam η=0.1": make(Adam, lr=0.1)},
}
fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), layout="constrained")
for ax, (surface, runs) in zip(axes.ravel(), experiments.items(), strict=False):
    trajectories = {label: run_trajectory(m, surface, steps=80) for label, m in runs.items()}
    plot_trajectories(ax, surface, trajectories, title=f"{surface}, 80 steps")
    summary = ", ".join(f"{k}: {t.final_loss - SURFACES[surface].f_min:.2g}" for k, t in trajectories.items())
    print(f"{surface:8s} loss above the minimum after 80 steps: {summary}")
cliff_runs = {
    "SGD η=1": run_trajectory(make(SGD, lr=1.0), "cliff", steps=40),
    "SGD η=1, clipped at 1": run_trajectory(make(SGD, lr=1.0), "cliff", steps=40,
                                            clip=1.0, clip_fn=clip_grad_norm),
}
plot_trajectories(axes[1, 1], "cliff", cliff_runs, title="cliff, 40 steps")
plt.show()

# %% [markdown]
# **What to see.**
#
# - *Ravine.* With $\eta = 0.9$, SGD is just below the stability limit $2/2 = 1$ of the steep
#   direction: it bounces from wall to wall while crawling along the floor (the flat
#   direction, curvature $0.02$, shrinks by only $1 - 0.9 \cdot 0.02 \approx 0.98$ per step).
#   A smaller $\eta$ stops the bouncing but crawls even slower. Momentum (at $\eta = 0.5$,
#   which SGD tolerates too) averages the bouncing away and builds up speed along the floor: a
#   hundred times lower loss after 80 steps. Adam rescales each coordinate by the size of its
#   gradients, so the valley looks round to it.
# - *Saddle.* We start at $w_2 = 0.001$, next to the ridge, where the gradient across it is
#   tiny: SGD slides down towards the saddle point and only slowly finds the way out ($w_2$
#   grows by a factor $1 + \eta$ per step, so it needs about 70 steps). Momentum leaves after
#   about 25 steps, Adam after a handful (its step hardly depends on how small the gradient is,
#   only on its sign and consistency).
# - *Plateau.* The same effect, stronger: SGD barely moves; Adam's normalised steps cross the
#   plateau at a constant speed of about $\eta$ per step.
# - *Cliff.* $\eta = 1$ is a fine learning rate for the gentle slope, but the step that lands on
#   the wall meets a gradient of size 10 or more and throws SGD far out of the picture (it
#   takes many steps to walk back). With the gradient norm clipped to 1, no step is longer than
#   $\eta$, and SGD settles at the foot of the wall.

# %% [markdown]
# ## 7. Explore: learning rate and optimizer
#
# The explorer runs the optimizers **you** wrote on the surfaces above (plus a round bowl and
# the curved Rosenbrock valley). Pick a surface and one or more optimizers, then move the
# learning rate (log scale) and the other constants. Left: the paths (a red ✗ where a run
# diverged); right: the loss above the minimum, per step, on a log scale. Things to try:
#
# - *bowl* and *ravine*, SGD only: find the learning rate at which SGD starts to diverge on
#   each. Does it match the $2/a$ rule? The bowl $f = \tfrac12(w_1^2 + w_2^2)$ has curvature
#   $a = 1$ in every direction; the ravine's steep direction, $f = w_2^2$, has $a = 2$.
# - *ravine*, SGD vs momentum vs Nesterov at $\eta = 0.1$; then set momentum to 0.99.
# - *saddle* and *plateau*: which optimizers escape, and how does that depend on $\eta$?
# - *cliff*, SGD at $\eta = 1$: turn on gradient clipping. Add gradient noise: what happens
#   to SGD near the minimum with a constant learning rate?
# - *rosenbrock*: find a learning rate at which Adam reaches the minimum in 500 steps.
#
# (Sliders need a running kernel; they do nothing in a static view of the notebook.)

# %%
lr_explorer = optimizer_explorer(
    sgd=SGD, momentum=SGDMomentum, nesterov=Nesterov, adagrad=AdaGrad, rmsprop=RMSProp, adam=Adam,
    clip_grad_norm=clip_grad_norm, surface="ravine", optimizers=("SGD", "momentum", "Adam"), lr=0.1,
)
display(lr_explorer)

# %% [markdown]
# **Written answer (3 points).** Use the explorer on the *bowl* and on the *ravine*. In three
# to six sentences: (a) at which learning rate does plain SGD start to diverge on each of them,
# and which property of the surface sets that value? (b) Why does lowering the learning rate
# not make SGD fast on the ravine, while momentum (at a learning rate that SGD also tolerates)
# is fast? (c) Why does Adam cross the plateau where SGD is stuck?
#
# Write your answer in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_learning_rate" points=3
# *Model answer.* (a) Each step multiplies a coordinate of curvature $a$ by $1 - \eta a$, which
# grows in size when $\eta > 2/a$: the largest curvature sets the limit. The bowl has $a = 1$
# in every direction, so SGD diverges above $\eta = 2$; the ravine's steep direction
# ($f = w_2^2$) has $a = 2$, so there it diverges above $\eta = 1$. (At exactly $2/a$ the
# coordinate flips sign at constant size, neither converging nor diverging; on the slider the
# first diverging values are 5 and 2.) (b) The flat direction of the ravine (curvature 0.02)
# shrinks by $1 - 0.02\eta$ per step, so even at the largest stable $\eta$ it needs hundreds of
# steps; lowering $\eta$ only makes that worse. Momentum adds up the consistent gradient along
# the floor (up to a factor $1/(1-\mu)$, ten for $\mu = 0.9$) while the alternating component
# across the valley cancels in the velocity, so the effective step is long along the floor and
# damped across it. (c) Adam divides the (averaged) gradient by the root of its (averaged)
# square, so its steps have size about $\eta$ whatever the gradient's magnitude; on the plateau
# the gradient is tiny but consistent, so Adam moves steadily, while SGD's step $\eta g$ is tiny.

# %% [markdown]
# ## 8. Learning-rate schedules
#
# A constant learning rate is a compromise: large enough to make progress early, small
# enough not to bounce around the minimum late. With noisy minibatch gradients SGD does not
# even converge with a constant $\eta$: near the minimum the noise keeps kicking it around, and
# only a decreasing $\eta_t$ lets it settle (the classical conditions are
# $\sum_t \eta_t = \infty$ and $\sum_t \eta_t^2 < \infty$). **Schedules** set $\eta_t$ for
# step (or epoch) $t = 0, 1, 2, \dots$:
#
# | schedule | $\eta_t$ |
# |---|---|
# | step decay | $\eta_0\, \gamma^{\lfloor t / s \rfloor}$ — multiply by $\gamma$ every $s$ steps |
# | exponential | $\eta_0\, \gamma^t$ |
# | cosine | $\eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\big(1 + \cos(\pi t / T)\big)$ for $t \le T$, then $\eta_{\min}$ |
# | linear warm-up | $\eta_0 \min\big(1, (t + 1)/W\big)$ — ramps up over the first $W$ steps |
#
# **Warm-up** protects the first steps, when the network is far from anything sensible and
# adaptive methods' statistics are based on very few gradients; it is usually followed by a
# decay, for example cosine. These match `torch.optim.lr_scheduler`'s `StepLR`,
# `ExponentialLR`, `CosineAnnealingLR` and `LinearLR(start_factor=1/W, total_iters=W-1)`.

# %% nbgrader="solution" grade_id="schedules" export=true
def step_lr(t, lr0, step_size, gamma=0.1):
    """Step decay: lr0 * gamma ** (number of completed blocks of step_size steps).

    Args: t: int >= 0, the step; lr0: float; step_size: int >= 1; gamma: float in (0, 1].
    Returns: Python float, the learning rate for step t.
    """
    ### BEGIN SOLUTION
    return float(lr0 * gamma ** (t // step_size))
    ### END SOLUTION


def exponential_lr(t, lr0, gamma):
    """Exponential decay lr0 * gamma ** t (t: int >= 0). Returns a Python float."""
    ### BEGIN SOLUTION
    return float(lr0 * gamma**t)
    ### END SOLUTION


def cosine_lr(t, lr0, total_steps, lr_min=0.0):
    """Cosine annealing from lr0 (t = 0) to lr_min (t = total_steps), then constant lr_min.

    lr = lr_min + 0.5 * (lr0 - lr_min) * (1 + cos(pi * t / total_steps)) for t <= total_steps.
    Returns a Python float.
    """
    ### BEGIN SOLUTION
    if t >= total_steps:
        return float(lr_min)
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * t / total_steps)))
    ### END SOLUTION


def warmup_lr(t, lr0, warmup_steps):
    """Linear warm-up: lr0 * min(1, (t + 1) / warmup_steps); step 0 gets lr0 / warmup_steps.

    Returns a Python float.
    """
    ### BEGIN SOLUTION
    return float(lr0 * min(1.0, (t + 1) / warmup_steps))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_schedules" points=4
assert_scalar(call(step_lr, 0, 1.0, 10, 0.5), 1.0, name="step_lr(t=0, lr0=1, step_size=10, gamma=0.5)")
assert_scalar(call(step_lr, 6, 1.0, 10, 0.5), 1.0, name="step_lr(t=6, lr0=1, step_size=10, gamma=0.5)")
assert_scalar(call(step_lr, 9, 1.0, 10, 0.5), 1.0, name="step_lr(t=9, lr0=1, step_size=10, gamma=0.5)")
assert_scalar(call(step_lr, 25, 1.0, 10, 0.5), 0.25, name="step_lr(t=25, lr0=1, step_size=10, gamma=0.5)")
assert_scalar(call(exponential_lr, 0, 2.0, 0.5), 2.0, name="exponential_lr(t=0, lr0=2, gamma=0.5)")
assert_scalar(call(exponential_lr, 3, 2.0, 0.5), 0.25, name="exponential_lr(t=3, lr0=2, gamma=0.5)")
assert_scalar(call(cosine_lr, 0, 1.0, 100), 1.0, name="cosine_lr(t=0, lr0=1, total_steps=100)")
assert_scalar(call(cosine_lr, 50, 1.0, 100), 0.5, name="cosine_lr(t=50, lr0=1, total_steps=100)")
assert_scalar(call(cosine_lr, 100, 1.0, 100, 0.1), 0.1, name="cosine_lr(t=100, lr0=1, total_steps=100, lr_min=0.1)")
assert_scalar(call(warmup_lr, 0, 1.0, 4), 0.25, name="warmup_lr(t=0, lr0=1, warmup_steps=4)")
assert_scalar(call(warmup_lr, 3, 1.0, 4), 1.0, name="warmup_lr(t=3, lr0=1, warmup_steps=4) (the last warm-up step)")
assert_scalar(call(warmup_lr, 10, 1.0, 4), 1.0, name="warmup_lr(t=10, lr0=1, warmup_steps=4)")
### BEGIN HIDDEN TESTS
import torch as _torch

from helpers.oracles import follow_torch_schedule as _follow_schedule

_sched = _torch.optim.lr_scheduler
for _lr0, _s, _gamma in [(0.1, 3, 0.5), (1.0, 1, 0.9), (0.5, 7, 0.3), (2.0, 5, 1.0), (0.3, 4, 0.1)]:
    _follow_schedule(step_lr, lambda t, lr0=_lr0, s=_s, g=_gamma: (t, lr0, s, g),
                     lambda o, s=_s, g=_gamma: _sched.StepLR(o, s, g), _lr0, 30)
# The default gamma is 0.1.
_follow_schedule(step_lr, lambda t: (t, 0.4, 3), lambda o: _sched.StepLR(o, 3), 0.4, 10)
for _lr0, _gamma in [(0.1, 0.9), (1.0, 0.5), (0.3, 0.99), (1.0, 1.0), (2.0, 0.3)]:
    _follow_schedule(exponential_lr, lambda t, lr0=_lr0, g=_gamma: (t, lr0, g),
                     lambda o, g=_gamma: _sched.ExponentialLR(o, g), _lr0, 30)
for _lr0, _T, _min in [(1.0, 25, 0.1), (0.02, 40, 1e-3), (0.1, 10, 0.0), (0.5, 1, 0.0), (0.3, 7, 0.2)]:
    _follow_schedule(cosine_lr, lambda t, lr0=_lr0, T=_T, m=_min: (t, lr0, T, m),
                     lambda o, T=_T, m=_min: _sched.CosineAnnealingLR(o, T, m), _lr0, _T + 1,
                     rtol=1e-9, atol=1e-12)
    for _t in (_T + 1, 2 * _T + 3, 10 * _T):
        assert_scalar(call(cosine_lr, _t, _lr0, _T, _min), _min, atol=1e-12,
                      name=f"cosine_lr(t={_t}, lr0={_lr0}, total_steps={_T}, lr_min={_min}) after the end")
for _lr0, _W in [(0.1, 5), (1.0, 2), (0.3, 10)]:
    _follow_schedule(warmup_lr, lambda t, lr0=_lr0, W=_W: (t, lr0, W),
                     lambda o, W=_W: _sched.LinearLR(o, 1.0 / W, 1.0, total_iters=W - 1), _lr0, 3 * _W,
                     rtol=1e-9, atol=1e-12)
assert_scalar(call(warmup_lr, 0, 0.7, 1), 0.7, name="warmup_lr(t=0, lr0=0.7, warmup_steps=1) (no warm-up)")
for _fn, _args in [(step_lr, (3, 1.0, 2, 0.5)), (exponential_lr, (3, 1.0, 0.5)), (cosine_lr, (3, 1.0, 10)),
                   (warmup_lr, (3, 1.0, 10)), (cosine_lr, (30, 1.0, 10))]:
    _value = call(_fn, *_args)
    assert_that(isinstance(_value, float), f"{_fn.__name__}{_args} should return a Python float, "
                f"got {type(_value).__name__}")
### END HIDDEN TESTS

# %% [markdown]
# The four shapes, and the popular combination "warm-up, then cosine" built from two of them:

# %%
T = 100


def warmup_cosine(t, lr0=0.1, warmup=10, total=T):
    """Linear warm-up for `warmup` steps, then cosine annealing to 0 at step `total`."""
    return warmup_lr(t, lr0, warmup) if t < warmup else cosine_lr(t - warmup, lr0, total - warmup)


ts = np.arange(T + 20)
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(ts, [step_lr(t, 0.1, 30, 0.5) for t in ts], label="step (s=30, γ=0.5)")
ax.plot(ts, [exponential_lr(t, 0.1, 0.97) for t in ts], label="exponential (γ=0.97)")
ax.plot(ts, [cosine_lr(t, 0.1, T) for t in ts], label=f"cosine (T={T})")
ax.plot(ts, [warmup_lr(t, 0.1, 20) for t in ts], label="warm-up (W=20)")
ax.plot(ts, [warmup_cosine(t) for t in ts], "k--", label="warm-up 10, then cosine")
ax.set(xlabel="step t", ylabel="learning rate", title="Learning-rate schedules")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 9. Experiment: the optimizer race on handwritten digits
#
# Now the real thing: a two-layer perceptron $64 \to 64 \to 10$ (ReLU, softmax cross-entropy,
# all from chapter 03's library) trained on the digits with minibatches of 32, ten epochs,
# once with each of your optimizers at a typical learning rate for it. The last run adds a
# warm-up/cosine schedule to Adam. Same initial weights, same batches for all.

# %%
def init_mlp(sizes, rng):
    """Weights N(0, 2 / n_in) (Kaiming, see section 14) and zero biases, as a params dict."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
    return params


def mlp_forward_backward(params, X, y):
    """Loss and gradients of an MLP affine-ReLU-...-affine with softmax cross-entropy."""
    n_layers = len(params) // 2
    h, caches = X, []
    for i in range(1, n_layers + 1):
        h, affine_cache = affine_forward(h, params[f"W{i}"], params[f"b{i}"])
        relu_cache = None
        if i < n_layers:
            h, relu_cache = relu_forward(h)
        caches.append((affine_cache, relu_cache))
    loss, dh = softmax_cross_entropy_loss(h, y)
    grads = {}
    for i in range(n_layers, 0, -1):
        affine_cache, relu_cache = caches[i - 1]
        if relu_cache is not None:
            dh = relu_backward(dh, relu_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, affine_cache)
    return loss, grads


def mlp_scores(params, X):
    """The class scores (logits) of the MLP for a batch X."""
    n_layers = len(params) // 2
    h = X
    for i in range(1, n_layers + 1):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < n_layers:
            h = np.maximum(h, 0.0)
    return h


def mlp_accuracy(params, X, y):
    return float(np.mean(mlp_scores(params, X).argmax(axis=1) == y))


def mlp_loss(params, X, y):
    return float(softmax_cross_entropy_loss(mlp_scores(params, X), y)[0])


def train_mlp(make_optimizer, epochs=10, batch_size=32, schedule=None, seed=1, callback=None):
    """Train a 64-64-10 MLP on the digits; callback(t, params) after every step, if given.

    Returns the training loss of every step and the validation accuracy after every epoch."""
    params = init_mlp([64, 64, 10], np.random.default_rng(seed))
    opt = make_optimizer(params)
    batch_rng = np.random.default_rng(seed + 100)
    losses, val_acc, t = [], [], 0
    for _ in range(epochs):
        for Xb, yb in minibatches(X_train, y_train, batch_size, rng=batch_rng):
            if schedule is not None:
                opt.lr = schedule(t)
            loss, grads = mlp_forward_backward(params, Xb, yb)
            opt.step(grads)
            losses.append(loss)
            t += 1
            if callback is not None:
                callback(t, params)
        val_acc.append(mlp_accuracy(params, X_val, y_val))
    return np.array(losses), np.array(val_acc)


steps_per_epoch = len(minibatches(X_train, y_train, 32))
total_steps = 10 * steps_per_epoch
race = {
    "SGD η=0.1": make(SGD, lr=0.1),
    "momentum η=0.05": make(SGDMomentum, lr=0.05, momentum=0.9),
    "Nesterov η=0.05": make(Nesterov, lr=0.05, momentum=0.9),
    "AdaGrad η=0.05": make(AdaGrad, lr=0.05),
    "RMSProp η=3e-3": make(RMSProp, lr=3e-3),
    "Adam η=1e-3": make(Adam, lr=1e-3),
    "Adam η=1e-2": make(Adam, lr=1e-2),
}
results = {name: train_mlp(m) for name, m in race.items()}
results["Adam η=1e-2, warm-up + cosine"] = train_mlp(
    make(Adam, lr=1e-2),
    schedule=lambda t: warmup_cosine(t, lr0=1e-2, warmup=steps_per_epoch, total=total_steps))

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4))
for name, (losses, val_acc) in results.items():
    smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
    ax_loss.semilogy(smooth, label=name, lw=1.2)
    ax_acc.plot(np.arange(1, len(val_acc) + 1), val_acc, "o-", ms=3, label=name)
ax_loss.set(xlabel="iteration", ylabel="training loss (moving average of 20)", title="Training loss")
ax_acc.set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy", ylim=(0.8, 1.0))
ax_loss.legend(fontsize=7)
plt.show()
for name, (losses, val_acc) in results.items():
    print(f"{name:32s} final training loss {losses[-steps_per_epoch:].mean():.4f}, "
          f"validation accuracy {val_acc[-1]:.3f}")

# %% [markdown]
# On this small problem every optimizer gets to a good model; the differences are in speed
# and in the noise of the loss curve. Momentum, Nesterov and AdaGrad get to a low training
# loss much sooner than plain SGD. Adam at its "default" $\eta = 10^{-3}$ is the *slowest*
# here, and ten times that learning rate makes it the fastest: the learning rate matters at
# least as much as the choice of optimizer, and each optimizer needs its own. The scheduled
# run spends its first epoch warming up and ends with a learning rate near zero, so its loss
# curve is the calmest at the end (with ten epochs, the warm-up costs it a little). (Be careful
# with conclusions from one run and one seed.)

# %% [markdown]
# ## 10. Searching for hyperparameters: grid or random?
#
# The race showed that the learning rate matters at least as much as the optimizer. Learning
# rate, weight decay, momentum, batch size, schedule: none of these **hyperparameters** is
# learned by gradient descent. They are chosen by training many times and keeping the setting
# with the best **validation** loss (never the test loss, which must stay untouched). With a
# fixed budget of $n$ training runs, two simple plans:
#
# - **Grid search** picks $k$ values per hyperparameter and tries all $k^2$ combinations
#   (for two hyperparameters, $n = k^2$).
# - **Random search** draws every trial's values independently, each from its range; for
#   scales such as the learning rate or the weight decay, uniformly on a log scale.
#
# Usually only a few hyperparameters matter much. Then a $3 \times 3$ grid tries only **3**
# different values of the one that matters, 3 times each, while 9 random trials try **9**
# different values of it: the same budget explores the important direction three times as
# finely. (Random search is also easy to extend: any number of further trials fits, not only
# the next square.)
#
# **Experiment.** A budget of 9 runs of plain `SGD` (two epochs each, same initial weights and
# batches) over the learning rate $\eta \in [10^{-2}, 10]$ and the weight decay
# $\lambda \in [10^{-5}, 10^{-2}]$, both on a log scale; the score is the validation loss. For
# comparison, the grey curve shows the validation loss along a fine sweep of $\eta$ alone
# (at $\lambda = 10^{-4}$): the answer neither search gets to see.

# %%
lr_range, wd_range = (1e-2, 10.0), (1e-5, 1e-2)


def search_trial(lr, weight_decay, epochs=2):
    """Validation loss after training with SGD(lr, weight_decay) (a diverged run scores log 10)."""
    box = {}
    with np.errstate(all="ignore"):
        train_mlp(make(SGD, lr=lr, weight_decay=weight_decay), epochs=epochs,
                  callback=lambda t, params: box.update(params=params))
        loss = mlp_loss(box["params"], X_val, y_val)
    return loss if np.isfinite(loss) and loss < np.log(10) else float(np.log(10))


k = 3
grid_trials = [(lr, wd) for lr in np.geomspace(*lr_range, k) for wd in np.geomspace(*wd_range, k)]
search_rng = np.random.default_rng(0)
random_trials = list(zip(10 ** search_rng.uniform(*np.log10(lr_range), k * k),
                         10 ** search_rng.uniform(*np.log10(wd_range), k * k), strict=True))
search = {"grid": (grid_trials, np.array([search_trial(*p) for p in grid_trials])),
          "random": (random_trials, np.array([search_trial(*p) for p in random_trials]))}
sweep_lrs = np.geomspace(*lr_range, 16)
sweep = np.array([search_trial(lr, 1e-4) for lr in sweep_lrs])

fig, (ax_plane, ax_lr) = plt.subplots(1, 2, figsize=(12, 4.2))
ax_lr.semilogx(sweep_lrs, sweep, "-", color="0.7", lw=3, label="fine sweep of η (λ = 1e-4)", zorder=1)
for (name, (trials, losses)), marker in zip(search.items(), ["s", "o"], strict=True):
    lrs, wds = np.array(trials).T
    sc = ax_plane.scatter(lrs, wds, c=losses, cmap="viridis_r", vmin=0.15, vmax=np.log(10), marker=marker,
                          s=80, edgecolors="k", label=name)
    ax_lr.semilogx(lrs, losses, marker, ms=8, mec="k", label=f"{name}: {len(np.unique(lrs))} learning rates")
    best = int(np.argmin(losses))
    print(f"{name:6s}: {len(np.unique(lrs))} distinct learning rates; best validation loss "
          f"{losses[best]:.3f} at lr={lrs[best]:.3g}, weight_decay={wds[best]:.1e}")
print(f"fine sweep: best validation loss {sweep.min():.3f} at lr={sweep_lrs[np.argmin(sweep)]:.3g}")
ax_plane.set(xscale="log", yscale="log", xlabel="learning rate η", ylabel="weight decay λ",
             title=f"{k * k} trials each (colour: validation loss)")
fig.colorbar(sc, ax=ax_plane, label="validation loss")
ax_plane.legend(fontsize=8, loc="upper left")
ax_lr.set(xlabel="learning rate η", ylabel="validation loss", title="The same trials against η alone")
ax_lr.legend(fontsize=8)
plt.show()

# %% [markdown]
# The right panel tells the story: the validation loss depends almost only on the learning
# rate (the weight decay hardly matters in this range), with a narrow good region just below
# the rate at which SGD diverges. The grid spends its 9 runs on 3 learning rates, a factor
# 30 apart, and none of them lands in that region: its best run is the one closest to it. The
# random trials cover the learning-rate axis 9 times and some of them land in it. One draw
# of 9 trials is an illustration, not a proof (drawn with other seeds, the random search beat
# this grid 9 times out of 10 when we tried), but the argument behind it holds in general:
# whenever some hyperparameters matter much more than others, random search explores the ones
# that matter more finely than a grid of the same size.

# %% [markdown]
# **Concept check 4.** Suppose only the learning rate matters, and a trial is good when its
# learning rate falls into the best tenth of the (log-scale) range. With 9 random trials,
# each drawn log-uniformly over the whole range, what is the probability that at least one
# of them is good? Set `q4_answer` to that probability (at least three significant digits).

# %% nbgrader="solution" grade_id="q4_random_search"
# q4_answer = ...
### BEGIN SOLUTION
q4_answer = 1 - 0.9**9
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_random_search" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_scalar(q4_answer, name="q4_answer")
assert_that(0.0 <= q4_answer <= 1.0, f"q4_answer is a probability, between 0 and 1: got {q4_answer}")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, 1 - 0.9**9, name="q4_answer", rtol=2e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 11. Averaging the weights: an exponential moving average
#
# With a constant learning rate, minibatch SGD never settles: near a minimum the gradient
# noise keeps kicking the weights around in a cloud whose size grows with $\eta$. A schedule
# shrinks $\eta$. Another remedy leaves training alone and **averages the weights it visits**
# (Polyak averaging): the average sits near the centre of the cloud, closer to the minimum
# than most of the points in it. Deep learning usually averages with exponentially decaying
# weights, an **exponential moving average (EMA)** of the parameters, updated after every
# optimizer step with a decay $\beta$ close to 1 (0.99, 0.999):
#
# $$\bar w \leftarrow \beta\, \bar w + (1 - \beta)\, w .$$
#
# Unrolled, $\bar w_t = (1-\beta)\sum_{i \le t} \beta^{t-i} w_i + \beta^t \bar w_0$: it
# remembers roughly the last $1/(1-\beta)$ steps (100 for $\beta = 0.99$). Training continues
# with $w$; the average is only used to evaluate and to deploy. This is what
# `torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))` does.
#
# **How to start.** We start $\bar w$ as a *copy* of the weights (as `AveragedModel` does at its
# first update), so it is an average of real weights from the first step on. Started at
# **zero** instead, like Adam's moments, it would be biased towards 0 in the first
# $\sim 1/(1-\beta)$ steps, and needs Adam's bias correction: use $\bar w_t / (1 - \beta^t)$.
#
# Like an optimizer, `ema_update` changes the arrays of the average **in place** (whoever holds
# them, e.g. an evaluation model, sees the new values) and leaves the parameters alone.

# %% nbgrader="solution" grade_id="ema_update" export=true
def ema_update(avg, params, decay):
    """One step of an exponential moving average of the parameters, in place.

    For every name:  avg[name] <- decay * avg[name] + (1 - decay) * params[name]

    Args:
        avg: dict name -> float64 array, the running average; its arrays are updated IN PLACE
            (the dict keeps the very same arrays). Start it as a copy of the parameters:
            {name: w.copy() for name, w in params.items()}.
        params: dict with the same names, float64 arrays of the same shapes (the current
            weights). Not modified.
        decay: float in [0, 1], the weight beta of the old average: 0 copies params, 1 keeps
            avg unchanged.

    Returns:
        None.
    """
    ### BEGIN SOLUTION
    for name, a in avg.items():
        a *= decay
        a += (1.0 - decay) * params[name]
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_ema_update" points=3
# update_in_place (helpers.oracles) fails if ema_update puts new arrays into avg instead of
# updating the caller's arrays; like call, it fails if params is changed.
_avg = {"w": np.array([1.0, -2.0]), "b": np.array([[4.0]])}
_params = {"w": np.array([3.0, 2.0]), "b": np.array([[0.0]])}
update_in_place(ema_update, "avg", _avg, _params, 0.75)
assert_close(_avg["w"], [0.75 * 1.0 + 0.25 * 3.0, 0.75 * -2.0 + 0.25 * 2.0], name="avg['w'] after one EMA step, decay 0.75")
assert_close(_avg["b"], [[3.0]], name="avg['b'] after one EMA step, decay 0.75")
update_in_place(ema_update, "avg", _avg, _params, 0.0)
assert_close(_avg["w"], [3.0, 2.0], name="avg['w'] after an EMA step with decay 0 (a copy of params)")
# Decay 1 keeps the average; any decay keeps a constant sequence where it is.
_avg = {"w": np.array([5.0])}
update_in_place(ema_update, "avg", _avg, {"w": np.array([-1.0])}, 1.0)
assert_close(_avg["w"], [5.0], name="avg['w'] after an EMA step with decay 1 (unchanged)")
### BEGIN HIDDEN TESTS
from helpers.oracles import follow_torch_ema as _follow_ema

for _decay in (0.5, 0.9, 0.999, 0.0, 1.0, 0.3):
    _follow_ema(ema_update, _decay, steps=25, seed=int(100 * _decay))
_follow_ema(ema_update, 0.97, shapes={"W1": (5, 2), "b1": (2,), "W2": (2, 7, 1)}, steps=60, seed=7)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 5.** An EMA of a weight is started at **zero** (not from a copy), with decay
# $\beta = 0.9$, and updated twice, both times with the weight $w = 4$. What is its value
# (without bias correction)? Set `q5_answer` to that number.

# %% nbgrader="solution" grade_id="q5_ema_from_zero"
# q5_answer = ...
### BEGIN SOLUTION
q5_answer = 0.76
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_ema_from_zero" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_scalar(q5_answer, name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, 0.76, name="q5_answer", rtol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: raw against averaged weights.** SGD with a large constant learning rate
# ($\eta = 0.5$, minibatches of 16) trains the MLP for six epochs; after every step we update
# an EMA of its weights ($\beta = 0.99$), and every ten steps we measure the validation loss of
# both the current weights and their average.

# %%
ema_decay = 0.99
ema_record = {"step": [], "raw": [], "EMA": []}
ema_box = {}


def track_ema(t, params):
    if "avg" not in ema_box:
        ema_box["avg"] = {name: w.copy() for name, w in params.items()}
    else:
        ema_update(ema_box["avg"], params, ema_decay)
    if t % 10 == 0:
        ema_record["step"].append(t)
        ema_record["raw"].append(mlp_loss(params, X_val, y_val))
        ema_record["EMA"].append(mlp_loss(ema_box["avg"], X_val, y_val))


train_mlp(make(SGD, lr=0.5), epochs=6, batch_size=16, callback=track_ema)
fig, ax = plt.subplots(figsize=(8, 3.5))
for name in ("raw", "EMA"):
    ax.semilogy(ema_record["step"], ema_record[name], label=f"{name} weights" if name == "raw" else
                f"EMA of the weights (decay {ema_decay})")
ax.set(xlabel="step", ylabel="validation loss", title="SGD with η = 0.5: the weights and their average")
ax.legend(fontsize=8)
plt.show()
half = len(ema_record["raw"]) // 2
for name in ("raw", "EMA"):
    curve = np.array(ema_record[name])
    print(f"{name:3s}: final validation loss {curve[-1]:.3f}, mean over the second half {curve[half:].mean():.3f}, "
          f"mean change between measurements {np.abs(np.diff(curve[half:])).mean():.4f}")

# %% [markdown]
# The raw weights' validation loss jumps up and down from one measurement to the next: every
# step moves them by $\eta g$ with a noisy $g$. The average moves ten times less and sits
# lower, at the centre of the cloud the raw weights bounce around in, at no extra cost in
# training (one more copy of the weights in memory, one cheap update per step). In the second
# half of the run the EMA's loss is the lower one at about four measurements out of five, and
# it ends clearly lower. (Early on, the average lags behind the fast-improving weights: it
# remembers about 100 steps.)

# %% [markdown]
# ## 12. Newton's method
#
# All methods so far use only the gradient. A **second-order** method also uses the curvature,
# the Hessian $H(w) = \nabla^2 f(w)$: it minimises the local quadratic model
# $f(w + d) \approx f(w) + g^\top d + \tfrac12 d^\top H d$, whose minimiser solves $H d = -g$:
#
# $$w \leftarrow w - H(w)^{-1}\, g(w) .$$
#
# On a quadratic $f(w) = \tfrac12 w^\top A w - b^\top w$ the model is exact, and Newton jumps to
# the minimum $A^{-1} b$ in **one** step, however badly conditioned $A$ is: the ravine is no
# problem. The catch: for $d$ parameters, $H$ has $d^2$ entries and solving costs $O(d^3)$ —
# hopeless for millions of weights — and away from a minimum $H$ need not be positive
# definite, so the step can point uphill (a saddle attracts Newton). Adaptive methods like
# Adam can be read as a cheap, diagonal stand-in for the curvature.

# %% nbgrader="solution" grade_id="newton_method"
def newton_method(grad_fn, hess_fn, w0, n_steps):
    """Newton's method for minimisation, w <- w - H(w)^{-1} g(w).

    Args:
        grad_fn: function w -> gradient, float64 array of shape (d,).
        hess_fn: function w -> Hessian, float64 array of shape (d, d) (invertible).
        w0: float array of shape (d,), the start (not modified).
        n_steps: int >= 0.

    Returns:
        float64 array of shape (n_steps + 1, d): the iterates w0, w1, ..., w_{n_steps}.
        Solve the linear system H d = g with np.linalg.solve (no explicit inverse).
    """
    ### BEGIN SOLUTION
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for _ in range(n_steps):
        w = w - np.linalg.solve(hess_fn(w), grad_fn(w))
        path.append(w.copy())
    return np.array(path)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_newton_method" points=3
# A quadratic f(w) = 0.5 w^T A w - b^T w: one step lands on A^{-1} b.
_A = np.array([[3.0, 1.0], [1.0, 2.0]])
_b = np.array([1.0, -1.0])
_path = call(newton_method, lambda w: _A @ w - _b, lambda w: _A, np.array([5.0, 5.0]), 1)
assert_shape(_path, (2, 2), name="newton_method(..., n_steps=1) on a 2-D quadratic")
assert_close(_path[0], [5.0, 5.0], name="first row of the path (the start w0)")
assert_close(_path[1], np.linalg.solve(_A, _b), name="Newton step on a quadratic (must reach A^-1 b)")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(210)
# Quadratics of several sizes, badly conditioned included: exact after one step, then stays.
for _d, _cond in [(1, 1.0), (2, 100.0), (5, 1e4), (8, 10.0)]:
    _Q, _ = np.linalg.qr(_rng.normal(size=(_d, _d)))
    _A = _Q @ np.diag(np.geomspace(1.0, _cond, _d)) @ _Q.T
    _b = _rng.normal(size=_d)
    _w0 = _rng.normal(size=_d) * 3
    _expected = np.vstack([_w0] + [np.linalg.solve(_A, _b)] * 3)
    _path = call(newton_method, lambda w, A=_A, b=_b: A @ w - b, lambda w, A=_A: A, _w0, 3)
    _label = f"newton_method on a {_d}-D quadratic (condition number {_cond:g})"
    assert_shape(_path, (4, _d), name=_label)
    assert_close(_path, _expected, rtol=1e-8, atol=1e-10, name=f"{_label}: the path w0, w1, w2, w3")

# A non-quadratic, non-separable function; gradients and Hessians from torch autograd.
_M = _rng.normal(size=(3, 3))
_A = _M @ _M.T + np.eye(3)
_c = np.array([0.5, -1.0, 2.0])


def _f_torch(w):
    return _torch.sum(_torch.log(_torch.cosh(w - _torch.tensor(_c)))) + 0.5 * w @ _torch.tensor(_A) @ w


def _g_np(w):
    wt = _torch.tensor(w, dtype=_torch.float64, requires_grad=True)
    (g,) = _torch.autograd.grad(_f_torch(wt), wt)
    return g.numpy()


def _h_np(w):
    return _torch.autograd.functional.hessian(_f_torch, _torch.tensor(w, dtype=_torch.float64)).numpy()


_w = np.array([2.0, -2.0, 1.0])
_expected = [_w.copy()]
for _ in range(6):
    _w = _w - np.linalg.solve(_h_np(_w), _g_np(_w))
    _expected.append(_w.copy())
_path = call(newton_method, _g_np, _h_np, np.array([2.0, -2.0, 1.0]), 6)
assert_shape(_path, (7, 3), name="newton_method(n_steps=6) on a 3-D non-quadratic function")
assert_close(_path, np.array(_expected), rtol=1e-8, atol=1e-10,
             name="Newton iterates on f(w) = sum log cosh(w - c) + 0.5 w^T A w (torch autograd Hessian)")
assert_close(_g_np(np.asarray(_path[-1], dtype=float)), np.zeros(3), atol=1e-8,
             name="gradient at the last Newton iterate (should be ~0)")
# Zero steps: just the start; an integer start works too (the path is float64).
_path = call(newton_method, _g_np, _h_np, np.array([1.0, 1.0, 1.0]), 0)
assert_shape(_path, (1, 3), name="newton_method(n_steps=0)")
_path = call(newton_method, lambda w: 2.0 * w - 1.0, lambda w: 2.0 * np.eye(2), np.array([3, -1]), 2)
assert_close(_path, [[3.0, -1.0], [0.5, 0.5], [0.5, 0.5]], name="newton_method from an integer w0 = [3, -1]")
### END HIDDEN TESTS

# %% [markdown]
# Newton against gradient descent on the ravine (a quadratic: one Newton step) and on the
# Rosenbrock valley (not quadratic: a few Newton steps, each using the exact Hessian):

# %%
def rosenbrock_hessian(w):
    x, y = w
    return np.array([[2.0 - 400.0 * (y - 3.0 * x**2), -400.0 * x], [-400.0 * x, 200.0]])


fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, name, hess, n_newton, gd_lr, n_gd in [
    (axes[0], "ravine", lambda w: np.diag([0.02, 2.0]), 1, 0.9, 100),
    (axes[1], "rosenbrock", rosenbrock_hessian, 8, 1e-3, 2000),
]:
    surface = SURFACES[name]
    path = newton_method(surface.gradient, hess, np.array(surface.start), n_newton)
    runs = {
        f"GD η={gd_lr:g}, {n_gd} steps": run_trajectory(make(SGD, lr=gd_lr), name, steps=n_gd),
        f"Newton, {n_newton} step(s)": Trajectory(path, np.array([surface.value(w) for w in path])),
    }
    plot_trajectories(ax, name, runs, title=name)
    print(f"{name}: loss after Newton {runs[f'Newton, {n_newton} step(s)'].final_loss:.2e}, "
          f"after GD {runs[f'GD η={gd_lr:g}, {n_gd} steps'].final_loss:.2e}")
plt.show()

# %% [markdown]
# ## 13. L-BFGS: curvature from the last few steps
#
# Newton's method needs the Hessian and a linear solve; **quasi-Newton** methods learn about
# the curvature from the gradients they have already seen. Each step leaves a pair
#
# $$s_i = w_{i+1} - w_i, \qquad y_i = g_{i+1} - g_i ,$$
#
# and on a quadratic $y_i = H s_i$ exactly: how much the gradient changed along $s_i$ *is* the
# curvature along $s_i$. **BFGS** keeps a $d \times d$ estimate $H_k$ of the *inverse* Hessian
# and corrects it with every pair so that $H_{k+1} y_k = s_k$ (the secant equation),
#
# $$H_{k+1} = (I - \rho_k s_k y_k^\top)\, H_k\, (I - \rho_k y_k s_k^\top) + \rho_k s_k s_k^\top,
#   \qquad \rho_k = \frac{1}{y_k^\top s_k} ,$$
#
# and steps along $-H_k g$. That is $O(d^2)$ memory, still too much for a network.
# **L-BFGS** (limited memory) keeps only the last $m$ pairs (typically 5 to 20) and never forms
# a matrix: it starts every time from the scaled identity $H^0 = \gamma I$ with
# $\gamma = s^\top y / y^\top y$ of the newest pair (a curvature estimate along it), applies the
# $m$ corrections above implicitly, and gets $d = -H g$ in $O(md)$ operations by the
# **two-loop recursion** (with the pairs numbered oldest to newest):
#
# 1. $q \leftarrow g$; for $i$ from the **newest** pair to the oldest:
#    $\alpha_i = \rho_i\, s_i^\top q$, $\ q \leftarrow q - \alpha_i y_i$;
# 2. $r \leftarrow \gamma q$;
# 3. for $i$ from the **oldest** pair to the newest: $\beta = \rho_i\, y_i^\top r$,
#    $\ r \leftarrow r + (\alpha_i - \beta)\, s_i$;
# 4. the direction is $-r$.
#
# Without any pair ($m = 0$) use $\gamma = 1$: the direction is $-g$, a gradient step.
# The pairs are only kept when $y^\top s > 0$ (positive curvature along $s$), which keeps $H$
# positive definite and $-Hg$ a descent direction.

# %% nbgrader="solution" grade_id="lbfgs_direction"
def lbfgs_direction(grad, s_list, y_list):
    """The L-BFGS search direction -H g, by the two-loop recursion.

    Args:
        grad: float64 array of shape (d,), the gradient g at the current point. Not modified.
        s_list, y_list: lists of the same length m >= 0 of float64 arrays of shape (d,),
            ordered oldest first (s_list[-1], y_list[-1] is the newest pair):
            s_i = w_{i+1} - w_i, y_i = g_{i+1} - g_i, with y_i @ s_i > 0. Not modified.

    Returns:
        float64 array of shape (d,): -H g, where H is the inverse-Hessian estimate built from
        H0 = gamma * I, gamma = (s @ y) / (y @ y) for the newest pair, by the BFGS update with
        each pair from the oldest to the newest. With empty lists gamma = 1, so it is -grad.
    """
    ### BEGIN SOLUTION
    q = np.array(grad, dtype=float)
    alphas = []
    for s, y in zip(reversed(s_list), reversed(y_list), strict=True):
        rho = 1.0 / (y @ s)
        alpha = rho * (s @ q)
        q = q - alpha * y
        alphas.append(alpha)
    gamma = (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]) if s_list else 1.0
    r = gamma * q
    for s, y, alpha in zip(s_list, y_list, reversed(alphas), strict=True):
        beta = (y @ r) / (y @ s)
        r = r + (alpha - beta) * s
    return -r
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_lbfgs_direction" points=4
# No pairs yet: a plain gradient step.
_g = np.array([3.0, -1.0, 0.5])
_d = call(lbfgs_direction, _g, [], [])
assert_close(_d, -_g, name="lbfgs_direction(g, [], []) (no pairs: -g)")
# One pair by hand: s = (1, 1), y = (2, 1), g = (1, 0): rho = 1/3, gamma = 3/5;
# alpha = 1/3, q = (1/3, -1/3), r = (1/5, -1/5), beta = 1/15, r = r + (4/15) s = (7/15, 1/15).
_d = call(lbfgs_direction, np.array([1.0, 0.0]), [np.array([1.0, 1.0])], [np.array([2.0, 1.0])])
assert_close(_d, [-7.0 / 15.0, -1.0 / 15.0], name="lbfgs_direction with one pair s=(1, 1), y=(2, 1), g=(1, 0)")
# The secant equation: H y = s for the newest pair, so the direction for "g = y_newest" is -s_newest.
_rng = np.random.default_rng(0)
_M = _rng.normal(size=(4, 4))
_A = _M @ _M.T + 4 * np.eye(4)  # a positive definite "Hessian": y = A s
_s = [_rng.normal(size=4) for _ in range(3)]
_y = [_A @ s for s in _s]
_d = call(lbfgs_direction, _y[-1].copy(), _s, _y)
assert_shape(_d, (4,), name="lbfgs_direction(g of shape (4,), 3 pairs)")
assert_close(_d, -_s[-1], rtol=1e-8, atol=1e-10,
             name="lbfgs_direction(y_newest, s_list, y_list) (the secant equation H y = s makes it -s_newest)")
### BEGIN HIDDEN TESTS
def _dense_bfgs(g, s_list, y_list):
    """-H g with H built explicitly (d x d): gamma I, then the BFGS update per pair, oldest first."""
    d = len(g)
    H = np.eye(d) * ((s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]) if s_list else 1.0)
    for s, y in zip(s_list, y_list, strict=True):
        rho = 1.0 / (y @ s)
        V = np.eye(d) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return -H @ g


_rng = np.random.default_rng(213)
for _dim, _m, _scale, _cond in [(5, 3, 1.0, 10.0), (2, 1, 1.0, 1.0), (1, 1, 1.0, 1.0), (3, 4, 1e-3, 100.0),
                                (10, 5, 1e3, 1e3), (6, 2, 1.0, 1e4), (8, 8, 1.0, 3.0), (4, 0, 1.0, 1.0)]:
    _Q, _ = np.linalg.qr(_rng.normal(size=(_dim, _dim)))
    _A = _Q @ np.diag(np.geomspace(1.0, _cond, _dim)) @ _Q.T
    _s = [_scale * _rng.normal(size=_dim) for _ in range(_m)]
    _y = [_A @ s + 0.01 * _scale * _rng.normal(size=_dim) for s in _s]  # curvature, not exactly one A
    _keep = [i for i in range(_m) if _y[i] @ _s[i] > 0]
    _s, _y = [_s[i] for i in _keep], [_y[i] for i in _keep]
    _g = _rng.normal(size=_dim) * _scale
    _expected = _dense_bfgs(_g, _s, _y)
    _label = f"lbfgs_direction(g of shape ({_dim},), {len(_s)} pairs, scale {_scale:g}, condition {_cond:g})"
    _d = call(lbfgs_direction, _g, list(_s), list(_y))
    assert_close(_d, _expected, rtol=1e-7, atol=1e-9 * _scale * max(1.0, _cond),
                 name=f"{_label} (the BFGS update of gamma I with the pairs, oldest first)")
    if _s:
        _d = call(lbfgs_direction, _y[-1].copy(), list(_s), list(_y))
        assert_close(_d, -_s[-1], rtol=1e-6, atol=1e-9 * _scale, name=f"{_label}: the secant equation H y_newest = s_newest")
# The order of the pairs matters: oldest first.
_rng = np.random.default_rng(7)
_s = [_rng.normal(size=3) for _ in range(3)]
_y = [np.diag([1.0, 4.0, 9.0]) @ s * (1.0 + 0.5 * i) for i, s in enumerate(_s)]
_g = _rng.normal(size=3)
assert_close(call(lbfgs_direction, _g, _s, _y), _dense_bfgs(_g, _s, _y), rtol=1e-8, atol=1e-12,
             name="lbfgs_direction with pairs of different curvature (oldest first, the newest sets gamma)")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: L-BFGS on the Rosenbrock valley.** The loop below (given) runs your
# `lbfgs_direction` with memory $m = 5$. The step length comes from a simple **backtracking
# line search**: try the full step $t = 1$, halve it until the loss has dropped by at least
# $10^{-4}\, t\, |g^\top d|$ (the Armijo condition). We compare it with scipy's L-BFGS-B
# (same memory, `scipy.optimize.minimize(..., method="L-BFGS-B")`, whose line search is more
# refined) and with gradient descent using the same backtracking, from the explorer's start.

# %%
def minimize_with(direction, f, grad, w0, memory=5, max_iter=500, gtol=1e-5):
    """Minimise f from w0: steps along direction(g, s_list, y_list), backtracking line search.

    Stops when every entry of the gradient is below gtol. Returns the path (iterations + 1, d)
    and the number of evaluations of f."""
    w = np.array(w0, dtype=float)
    fw, g = f(w), grad(w)
    s_list, y_list, path, n_f = [], [], [w.copy()], 1
    for _ in range(max_iter):
        if np.max(np.abs(g)) < gtol:
            break
        d = direction(g, s_list, y_list)
        slope = g @ d
        if slope >= 0:  # not a descent direction: forget the pairs, take a gradient step
            s_list, y_list, d, slope = [], [], -g, -(g @ g)
        t = 1.0
        while True:
            w_new = w + t * d
            f_new = f(w_new)
            n_f += 1
            if f_new <= fw + 1e-4 * t * slope:
                break
            t *= 0.5
        g_new = grad(w_new)
        s, y = w_new - w, g_new - g
        if s @ y > 1e-12:  # keep only pairs with positive curvature
            s_list, y_list = (s_list + [s])[-memory:], (y_list + [y])[-memory:]
        w, fw, g = w_new, f_new, g_new
        path.append(w.copy())
    return np.array(path), n_f


rosen = SURFACES["rosenbrock"]
lbfgs_path, lbfgs_nf = minimize_with(lbfgs_direction, rosen.value, rosen.gradient, rosen.start)
gd_path, gd_nf = minimize_with(lambda g, s, y: -g, rosen.value, rosen.gradient, rosen.start, max_iter=2000)
scipy_result = minimize(rosen.value, np.array(rosen.start), jac=rosen.gradient, method="L-BFGS-B",
                        options={"maxcor": 5, "gtol": 1e-5})
print(f"our L-BFGS (m=5):     {len(lbfgs_path) - 1:4d} iterations, {lbfgs_nf:5d} evaluations of f, "
      f"final loss {rosen.value(lbfgs_path[-1]):.1e}")
print(f"scipy L-BFGS-B (m=5): {scipy_result.nit:4d} iterations, {scipy_result.nfev:5d} evaluations of f, "
      f"final loss {scipy_result.fun:.1e}")
print(f"gradient descent:     {len(gd_path) - 1:4d} iterations, {gd_nf:5d} evaluations of f, "
      f"final loss {rosen.value(gd_path[-1]):.1e}")

fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.2))
runs = {name: Trajectory(path, np.array([rosen.value(w) for w in path]))
        for name, path in [("gradient descent + backtracking", gd_path), ("L-BFGS (m=5) + backtracking", lbfgs_path)]}
plot_trajectories(ax_path, "rosenbrock", runs, title="Rosenbrock: paths")
for name, run in runs.items():
    ax_loss.loglog(np.arange(1, len(run.losses) + 1), run.losses + 1e-16, label=name)
ax_loss.axhline(scipy_result.fun + 1e-16, color="k", ls=":", lw=1,
                label=f"scipy L-BFGS-B after {scipy_result.nit} iterations")
ax_loss.set(xlabel="iteration + 1", ylabel="loss (log)", title="Rosenbrock: loss per iteration")
ax_loss.legend(fontsize=8)
plt.show()

# %% [markdown]
# Your L-BFGS reaches the minimum (to $10^{-13}$ or better) in a few dozen iterations, about as
# many as scipy's; gradient descent, with the same line search, is still far from it after
# 2000. Five pairs of vectors are enough to capture the valley's curvature along the path, at
# the cost of a few dot products per step. Why, then, is L-BFGS not the deep-learning
# default? Its pairs and its line search assume the *same* function at every step: with
# minibatches, $y_i$ mixes a change of position with a change of batch, and the noise ruins the
# curvature estimate. L-BFGS shines on smooth, full-batch problems (classical ML, small
# networks, fitting a few parameters), and `torch.optim.LBFGS` exists for those.

# %% [markdown]
# **Concept check 6.** A network has $d = 10^6$ parameters. How many numbers does L-BFGS with
# memory $m = 10$ store for its pairs $(s_i, y_i)$? (The Hessian that Newton's method needs
# would have $d^2 = 10^{12}$ entries.) Set `q6_answer` to that number.

# %% nbgrader="solution" grade_id="q6_lbfgs_memory"
# q6_answer = ...
### BEGIN SOLUTION
q6_answer = 2 * 10 * 10**6
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q6_lbfgs_memory" points=1
assert_that("q6_answer" in globals(), "q6_answer is not set yet: run its cell after answering")
assert_scalar(q6_answer, name="q6_answer")
### BEGIN HIDDEN TESTS
assert_answer(q6_answer, 2e7, name="q6_answer", rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 14. Initialization
#
# Before the first step, the weights decide whether a signal survives the trip through many
# layers. Consider one layer $z = x W$ with $n_{\text{in}}$ inputs of variance $\mathrm{Var}(x)$
# and independent zero-mean weights of variance $\sigma^2$: each output is a sum of
# $n_{\text{in}}$ terms, so
#
# $$\mathrm{Var}(z) = n_{\text{in}}\, \sigma^2\, \mathrm{Var}(x) .$$
#
# If $n_{\text{in}}\sigma^2 < 1$ the activations shrink layer after layer (and with them the
# gradients: they vanish); if it is $> 1$ they grow (and explode, or saturate tanh and
# sigmoid units). The backward pass has the same factor with $n_{\text{out}}$ in place of
# $n_{\text{in}}$.
#
# - **Xavier / Glorot** (for tanh and sigmoid, roughly linear around 0) compromises between
#   the forward and the backward condition: $\sigma^2 = 2 / (n_{\text{in}} + n_{\text{out}})$.
#   As a uniform distribution $\mathcal{U}(-a, a)$ (variance $a^2/3$) that is
#   $a = \sqrt{6 / (n_{\text{in}} + n_{\text{out}})}$.
# - **Kaiming / He** (for ReLU): ReLU zeroes half of its inputs, which halves the second
#   moment, so the weights must make up a factor 2: $\sigma^2 = 2 / n_{\text{in}}$, or uniform
#   with $a = \sqrt{6 / n_{\text{in}}}$.
#
# Weights are stored as `W` of shape `(n_in, n_out)`, since a layer computes `x @ W` for a
# batch `x` of shape `(batch, n_in)` (PyTorch stores the transpose, `(out, in)`).

# %% nbgrader="solution" grade_id="initialization" export=true
def xavier_init(n_in, n_out, rng, distribution="uniform"):
    """Xavier/Glorot initialization of a weight matrix.

    Args:
        n_in, n_out: ints >= 1, fan-in and fan-out.
        rng: numpy Generator. Draw all weights with ONE call:
            rng.uniform(-a, a, size=(n_in, n_out)) with a = sqrt(6 / (n_in + n_out)), or
            rng.normal(0.0, std, size=(n_in, n_out)) with std = sqrt(2 / (n_in + n_out)).
        distribution: "uniform" or "normal".

    Returns:
        W: float64 array of shape (n_in, n_out).
    """
    ### BEGIN SOLUTION
    if distribution == "uniform":
        a = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))
    std = np.sqrt(2.0 / (n_in + n_out))
    return rng.normal(0.0, std, size=(n_in, n_out))
    ### END SOLUTION


def kaiming_init(n_in, n_out, rng, distribution="normal"):
    """Kaiming/He initialization for ReLU layers (fan-in mode).

    Args:
        n_in, n_out: ints >= 1, fan-in and fan-out.
        rng: numpy Generator. Draw all weights with ONE call:
            rng.normal(0.0, std, size=(n_in, n_out)) with std = sqrt(2 / n_in), or
            rng.uniform(-a, a, size=(n_in, n_out)) with a = sqrt(6 / n_in).
        distribution: "normal" or "uniform".

    Returns:
        W: float64 array of shape (n_in, n_out).
    """
    ### BEGIN SOLUTION
    if distribution == "uniform":
        a = np.sqrt(6.0 / n_in)
        return rng.uniform(-a, a, size=(n_in, n_out))
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_initialization" points=3
_W = call(xavier_init, 300, 100, np.random.default_rng(0))
assert_shape(_W, (300, 100), name="xavier_init(300, 100, rng)")
assert_that(_W.dtype == np.float64, f"xavier_init(300, 100, rng): expected float64 weights, got dtype {_W.dtype}")
assert_that(np.abs(_W).max() <= np.sqrt(6.0 / 400),
            f"xavier_init(300, 100) uniform: a weight of size {np.abs(_W).max():.4f} exceeds the "
            f"bound sqrt(6 / 400) = {np.sqrt(6.0 / 400):.4f}")
assert_scalar(np.var(_W), 2.0 / 400, rtol=0.05, name="variance of xavier_init(300, 100) weights")
_W = call(kaiming_init, 400, 100, np.random.default_rng(0))
assert_shape(_W, (400, 100), name="kaiming_init(400, 100, rng)")
assert_that(_W.dtype == np.float64, f"kaiming_init(400, 100, rng): expected float64 weights, got dtype {_W.dtype}")
assert_scalar(np.var(_W), 2.0 / 400, rtol=0.05, name="variance of kaiming_init(400, 100) weights (normal)")
# All randomness comes from rng: the same seed gives the same weights, another seed others.
assert_seeded(lambda rng: call(xavier_init, 5, 3, rng), "xavier_init(5, 3, rng)")
assert_seeded(lambda rng: call(kaiming_init, 5, 3, rng), "kaiming_init(5, 3, rng)")
### BEGIN HIDDEN TESTS
import torch as _torch

for _n_in, _n_out in [(3, 7), (1, 1), (64, 10), (256, 256), (500, 50)]:
    for _fn, _dist in [(xavier_init, "uniform"), (xavier_init, "normal"), (kaiming_init, "normal"),
                       (kaiming_init, "uniform")]:
        _label = f"{_fn.__name__}({_n_in}, {_n_out}, rng, '{_dist}')"
        _fan = (_n_in + _n_out) / 2.0 if _fn is xavier_init else _n_in / 2.0
        _ref_rng = np.random.default_rng(_n_in + 7 * _n_out)
        if _dist == "uniform":
            _a = np.sqrt(3.0 / _fan)
            _expected = _ref_rng.uniform(-_a, _a, size=(_n_in, _n_out))
        else:
            _expected = _ref_rng.normal(0.0, np.sqrt(1.0 / _fan), size=(_n_in, _n_out))
        _W = call(_fn, _n_in, _n_out, np.random.default_rng(_n_in + 7 * _n_out), _dist)
        assert_shape(_W, (_n_in, _n_out), name=_label)
        assert_close(_W, _expected, rtol=1e-10, atol=1e-12,
                     name=f"{_label} (drawn with one rng.{_dist} call, as in the docstring)")
        assert_seeded(lambda rng, f=_fn, a=_n_in, b=_n_out, d=_dist: call(f, a, b, rng, d), _label)
# Statistics of large matrices against torch.nn.init (torch weights are (out, in)).
_torch.manual_seed(0)
for _n_in, _n_out in [(800, 200), (100, 900)]:
    _t = _torch.empty(_n_out, _n_in, dtype=_torch.float64)
    for _fn, _dist, _tinit in [
        (xavier_init, "uniform", _torch.nn.init.xavier_uniform_),
        (xavier_init, "normal", _torch.nn.init.xavier_normal_),
        (kaiming_init, "normal", lambda t: _torch.nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu")),
        (kaiming_init, "uniform", lambda t: _torch.nn.init.kaiming_uniform_(t, mode="fan_in", nonlinearity="relu")),
    ]:
        _ref = _tinit(_t).numpy()
        _W = np.asarray(call(_fn, _n_in, _n_out, np.random.default_rng(1), _dist))
        _label = f"{_fn.__name__}({_n_in}, {_n_out}, rng, '{_dist}')"
        assert_scalar(np.std(_W), float(np.std(_ref)), rtol=0.02, name=f"standard deviation of {_label} vs torch.nn.init")
        assert_scalar(np.mean(_W), 0.0, atol=0.02 * float(np.std(_ref)), name=f"mean of {_label}")
        if _dist == "uniform":
            assert_scalar(np.abs(_W).max(), float(np.abs(_ref).max()), rtol=0.01,
                          name=f"largest |weight| of {_label} vs torch.nn.init (the uniform bound)")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: activations through ten layers.** A batch of 500 standard-normal inputs goes
# through ten layers of width 256 (no biases) with four initializations; we print and plot
# the standard deviation of each layer's output.

# %%
def layer_stds(init, activation, depth=10, width=256, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((500, width))
    stds = []
    for _ in range(depth):
        h = activation(h @ init(width, width, rng))
        stds.append(float(h.std()))
    return stds


schemes = {
    "N(0, 0.01²)": lambda n_in, n_out, rng: 0.01 * rng.standard_normal((n_in, n_out)),
    "N(0, 1)": lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)),
    "Xavier": lambda n_in, n_out, rng: xavier_init(n_in, n_out, rng, "normal"),
    "Kaiming": lambda n_in, n_out, rng: kaiming_init(n_in, n_out, rng, "normal"),
}
activations = {"tanh": np.tanh, "ReLU": lambda z: np.maximum(z, 0.0)}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, (act_name, act) in zip(axes, activations.items(), strict=True):
    for scheme_name, init in schemes.items():
        stds = layer_stds(init, act)
        ax.semilogy(np.arange(1, 11), np.maximum(stds, 1e-300), "o-", ms=4, label=scheme_name)
        print(f"{act_name:5s} {scheme_name:12s} std of layer 1, 5, 10: "
              f"{stds[0]:.3g}, {stds[4]:.3g}, {stds[9]:.3g}")
    ax.set(xlabel="layer", ylabel="std of the activations (log)", title=f"{act_name} network")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With tiny weights the signal dies within a few layers (and the gradients with it). With
# $\mathcal{N}(0, 1)$, tanh units saturate at $\pm 1$, where they pass almost no gradient, and
# ReLU activations explode by a factor $\sqrt{256/2} \approx 11$ per layer. Kaiming keeps the
# ReLU network exactly at scale; Xavier in a ReLU network shrinks the signal by $\sqrt 2$ per
# layer — slowly, but it adds up over depth. In the tanh network Xavier loses a factor of
# about three over ten layers instead of $10^8$: tanh is flatter than the identity away from 0,
# which the variance argument ignores (PyTorch's `calculate_gain("tanh")` = 5/3 makes up for
# it).
#
# The explorer shows the whole distributions, layer by layer, for the activations and for the
# gradients flowing back (using **your** `xavier_init` and `kaiming_init`). Try tanh with
# N(0, 1) (saturation: the histograms pile up at ±1), ReLU with Xavier over 20 layers, and
# sigmoid with each scheme (sigmoid is not zero-centred: no scheme keeps it perfectly healthy).

# %%
init_explorer = initialization_explorer(xavier=xavier_init, kaiming=kaiming_init,
                                        scheme="Xavier", activation="tanh")
display(init_explorer)

# %% [markdown]
# **Concept check 7.** A fully connected layer with $n_{\text{in}} = 512$ inputs and
# $n_{\text{out}} = 128$ outputs is followed by a ReLU. With Kaiming (He) normal initialization,
# what is the **standard deviation** of its weights? Set `q7_answer` to that number.

# %% nbgrader="solution" grade_id="q7_kaiming_std"
# q7_answer = ...
### BEGIN SOLUTION
q7_answer = 0.0625
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q7_kaiming_std" points=1
assert_that("q7_answer" in globals(), "q7_answer is not set yet: run its cell after answering")
assert_scalar(q7_answer, name="q7_answer")
### BEGIN HIDDEN TESTS
assert_answer(q7_answer, 0.0625, name="q7_answer", rtol=1e-2)
### END HIDDEN TESTS

# %% [markdown]
# ## 15. Batch normalization
#
# Initialization sets the scale once; during training the distributions drift again.
# **Batch normalization** re-normalises every feature inside the network, on every step. For a
# batch $x$ of shape $(N, D)$ and each feature $j$:
#
# $$\mu_j = \frac1N \sum_i x_{ij}, \qquad \sigma_j^2 = \frac1N \sum_i (x_{ij} - \mu_j)^2,
#   \qquad \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
#   y_{ij} = \gamma_j \hat x_{ij} + \beta_j .$$
#
# The learnable scale $\gamma$ and shift $\beta$ (shape $(D,)$) let the layer undo the
# normalization if that is what the loss wants.
#
# **Train and eval modes.** At test time there may be a single example, and a prediction
# should not depend on which other examples share its batch. So during training the layer
# also keeps **running averages** of the batch statistics, and in eval mode it normalises with
# those instead. Following PyTorch, with momentum $m$ (default 0.1), the weight of the **new**
# batch statistic (Keras calls $1 - m$ the momentum; 0.1 here is its 0.9):
#
# $$\text{running\_mean} \leftarrow (1 - m)\,\text{running\_mean} + m\,\mu, \qquad
#   \text{running\_var} \leftarrow (1 - m)\,\text{running\_var} + m\,\tfrac{N}{N-1}\sigma^2 .$$
#
# Note the two variances: normalization uses the **biased** $\sigma^2$ (divide by $N$), the
# running average the **unbiased** one (divide by $N - 1$), because it estimates the variance
# of the whole population. Training mode therefore needs $N \ge 2$ (a batch of one example
# has no variance): like PyTorch, `batchnorm_forward` raises a `ValueError` for a training batch
# of one. Eval mode works for any $N$, batch size 1 included, and leaves the running statistics
# alone.
#
# The state lives in a small dict created by `init_batchnorm_state` (given), whose
# `"running_mean"` and `"running_var"` entries `batchnorm_forward` replaces by the new
# running averages in training mode. The input `x`, `gamma` and `beta` are never modified.
#
# **Backward.** In training mode $\mu$ and $\sigma^2$ depend on every $x_{ij}$ of the column,
# which gives the compact form (per feature $j$, sums over the batch $i$, $\sigma$ short for
# $\sqrt{\sigma_j^2 + \varepsilon}$):
#
# $$\frac{\partial L}{\partial \beta_j} = \sum_i \frac{\partial L}{\partial y_{ij}}, \quad
#   \frac{\partial L}{\partial \gamma_j} = \sum_i \frac{\partial L}{\partial y_{ij}}\hat x_{ij},
#   \quad \frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j}{N\sigma}\Big(N
#   \frac{\partial L}{\partial y_{ij}} - \frac{\partial L}{\partial \beta_j} - \hat x_{ij}
#   \frac{\partial L}{\partial \gamma_j}\Big).$$
#
# (Derive it once by the chain rule through $\mu$ and $\sigma^2$; it is worth it.) In eval
# mode the statistics are constants, so the layer is just an affine map per feature.

# %% nbgrader="solution" grade_id="batchnorm" export=true
def init_batchnorm_state(num_features, momentum=0.1, eps=1e-5):
    """A fresh batch-norm state: running mean 0, running variance 1 (float64, shape (D,))."""
    return {
        "running_mean": np.zeros(num_features),
        "running_var": np.ones(num_features),
        "momentum": momentum,
        "eps": eps,
    }


def batchnorm_forward(x, gamma, beta, state, train=True):
    """Batch normalization over the batch axis.

    Args:
        x: float64 array of shape (N, D); N >= 2 when train is True. Not modified.
        gamma, beta: float64 arrays of shape (D,). Not modified.
        state: dict from init_batchnorm_state: "running_mean", "running_var" (shape (D,)),
            "momentum" m and "eps" (floats).
        train: True: normalise with the batch mean and biased variance, and update
            state["running_mean"] <- (1 - m) * running_mean + m * batch mean and
            state["running_var"] <- (1 - m) * running_var + m * unbiased batch variance;
            False: normalise with the running statistics and leave state unchanged.

    Returns:
        out: float64 array of shape (N, D).
        cache: whatever batchnorm_backward needs.

    Raises:
        ValueError: if train is True and N < 2 (no batch variance; PyTorch raises too).
    """
    ### BEGIN SOLUTION
    eps = state["eps"]
    if train:
        n = x.shape[0]
        if n < 2:
            raise ValueError(f"batch norm in training mode needs at least 2 examples per batch, got {n}")
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        m = state["momentum"]
        state["running_mean"] = (1.0 - m) * state["running_mean"] + m * mean
        state["running_var"] = (1.0 - m) * state["running_var"] + m * var * n / (n - 1)
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, inv_std, train)
    ### END SOLUTION


def batchnorm_backward(dout, cache):
    """Gradients of batch normalization.

    Args:
        dout: float64 array of shape (N, D), upstream gradient.
        cache: from batchnorm_forward (training or eval mode).

    Returns:
        (dx, dgamma, dbeta): shapes (N, D), (D,), (D,).
    """
    ### BEGIN SOLUTION
    x_hat, gamma, inv_std, train = cache
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    if not train:
        return dout * gamma * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_batchnorm" points=6
# Training mode on a small batch: each column gets mean 0 and (biased) variance 1. In training
# mode batchnorm_forward may update `state` (call_updating); x, gamma and beta must not change.
_x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 60.0]])
_state = call(init_batchnorm_state, 2, momentum=0.5, eps=0.0)
_out, _cache = call_updating(batchnorm_forward, "state", _x, np.ones(2), np.zeros(2), _state, True)
assert_shape(_out, (3, 2), name="batchnorm_forward(x (3, 2)) output")
assert_close(_out[:, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], name="normalised first column of x")
assert_close(np.mean(_out, axis=0), [0.0, 0.0], atol=1e-12, name="column means of the training output")
assert_close(_state["running_mean"], [0.5 * 2.0, 0.5 * 30.0], name="running_mean after one step (momentum 0.5)")
assert_close(_state["running_var"], [0.5 + 0.5 * 1.0, 0.5 + 0.5 * 700.0],
             name="running_var after one step (momentum 0.5, unbiased batch variance)")
# Eval mode uses the running statistics and leaves them unchanged, for a batch of one too.
_state = call(init_batchnorm_state, 2)
_state["running_mean"], _state["running_var"] = np.array([1.0, -1.0]), np.array([4.0, 0.25])
_out, _ = call(batchnorm_forward, np.array([[3.0, 0.0]]), np.array([2.0, 1.0]), np.array([0.0, 1.0]),
               _state, False)
assert_close(_out, [[2.0 * 2.0 / np.sqrt(4.0 + 1e-5), 1.0 + 1.0 / np.sqrt(0.25 + 1e-5)]],
             name="batchnorm_forward in eval mode on one example")
assert_close(_state["running_mean"], [1.0, -1.0], name="running_mean after an eval-mode call (unchanged)")
# A training batch of one example has no variance: a ValueError, as in PyTorch.
_state, _state3 = call(init_batchnorm_state, 2), call(init_batchnorm_state, 3)
try:
    call_updating(batchnorm_forward, "state", np.array([[1.0, 2.0]]), np.ones(2), np.zeros(2), _state, True)
except ValueError:
    pass
else:
    fail("batchnorm_forward(x of shape (1, 2), train=True) should raise a ValueError: a training batch "
         "needs at least 2 examples")
# The backward pass (training mode) against numerical gradients of the forward pass.
_rng = np.random.default_rng(0)
_x, _gamma, _beta = _rng.normal(size=(5, 3)), _rng.normal(size=3), _rng.normal(size=3)
_dout = _rng.normal(size=(5, 3))
_out, _cache = call_updating(batchnorm_forward, "state", _x, _gamma, _beta, _state3, True)
_dx, _dgamma, _dbeta = call(batchnorm_backward, _dout, _cache)
assert_shape(_dx, (5, 3), name="dx from batchnorm_backward")


def _forward(x, gamma, beta):
    return call_updating(batchnorm_forward, "state", x, gamma, beta, call(init_batchnorm_state, 3), True)[0]


assert_close(_dx, numerical_gradient_array(lambda x: _forward(x, _gamma, _beta), _x.copy(), _dout),
             rtol=1e-5, atol=1e-7, name="dx from batchnorm_backward (training mode) vs numerical gradient")
assert_close(_dgamma, numerical_gradient_array(lambda g: _forward(_x, g, _beta), _gamma.copy(), _dout),
             rtol=1e-5, atol=1e-7, name="dgamma from batchnorm_backward vs numerical gradient")
assert_close(_dbeta, _dout.sum(axis=0), name="dbeta from batchnorm_backward")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(212)
for _N, _D, _mom, _eps, _scale, _shift in [(5, 7, 0.9, 1e-5, 1e-3, -2.0), (2, 1, 0.1, 1e-5, 1.0, 0.0),
                                           (8, 4, 0.1, 1e-5, 1.0, 0.0), (32, 16, 0.3, 1e-3, 5.0, 3.0),
                                           (64, 3, 0.01, 1e-5, 1e3, 1e3), (3, 2, 1.0, 0.1, 1.0, 0.0)]:
    _label = f"batchnorm on x ({_N}, {_D}) (scale {_scale:g}, shift {_shift:g}), momentum {_mom}, eps {_eps}"
    _gamma, _beta = _rng.normal(size=_D) + 1.0, _rng.normal(size=_D)
    _state = call(init_batchnorm_state, _D, momentum=_mom, eps=_eps)
    _rm, _rv = _torch.zeros(_D, dtype=_torch.float64), _torch.ones(_D, dtype=_torch.float64)
    for _step in range(3):  # three training batches: the running statistics must follow torch
        _x = _shift + _scale * _rng.normal(size=(_N, _D)) * _rng.uniform(0.5, 2.0, size=_D)
        _dout = _rng.normal(size=(_N, _D))
        _xt = _torch.tensor(_x, requires_grad=True)
        _gt = _torch.tensor(_gamma, requires_grad=True)
        _bt = _torch.tensor(_beta, requires_grad=True)
        _yt = _F.batch_norm(_xt, _rm, _rv, _gt, _bt, training=True, momentum=_mom, eps=_eps)
        _yt.backward(_torch.tensor(_dout))
        _out, _cache = call_updating(batchnorm_forward, "state", _x, _gamma, _beta, _state, True)
        _what = f"{_label}, training batch {_step + 1}"
        assert_close(_out, _yt.detach().numpy(), rtol=1e-7, atol=1e-9, name=f"output of {_what}")
        assert_close(_state["running_mean"], _rm.numpy(), rtol=1e-9, atol=1e-12,
                     name=f"state['running_mean'] after {_what}")
        assert_close(_state["running_var"], _rv.numpy(), rtol=1e-9, atol=1e-12,
                     name=f"state['running_var'] after {_what} (torch uses the unbiased batch variance)")
        _grads = call(batchnorm_backward, _dout, _cache)
        assert_that(len(_grads) == 3, "batchnorm_backward must return (dx, dgamma, dbeta)")
        for _g, _ref, _n in zip(_grads, (_xt.grad, _gt.grad, _bt.grad), ("dx", "dgamma", "dbeta"), strict=True):
            assert_close(_g, _ref.numpy(), rtol=1e-6, atol=1e-8 * max(1.0, float(np.abs(_dout).max())),
                         name=f"{_n} of {_what}")
    # Eval mode, any batch size including 1: running statistics, state unchanged.
    for _Ne in (1, _N):
        _x = _shift + _scale * _rng.normal(size=(_Ne, _D))
        _dout = _rng.normal(size=(_Ne, _D))
        _xt = _torch.tensor(_x, requires_grad=True)
        _gt = _torch.tensor(_gamma, requires_grad=True)
        _bt = _torch.tensor(_beta, requires_grad=True)
        _yt = _F.batch_norm(_xt, _rm, _rv, _gt, _bt, training=False, momentum=_mom, eps=_eps)
        _yt.backward(_torch.tensor(_dout))
        _rm_before, _rv_before = np.array(_state["running_mean"]), np.array(_state["running_var"])
        _out, _cache = call(batchnorm_forward, _x, _gamma, _beta, _state, False)
        _what = f"{_label}, eval mode on a batch of {_Ne}"
        assert_close(_out, _yt.detach().numpy(), rtol=1e-7, atol=1e-9,
                     name=f"output of {_what} (use the running statistics)")
        assert_close(_state["running_mean"], _rm_before, rtol=0, atol=0,
                     name=f"state['running_mean'] after {_what} (eval mode must not change it)")
        assert_close(_state["running_var"], _rv_before, rtol=0, atol=0,
                     name=f"state['running_var'] after {_what} (eval mode must not change it)")
        _grads = call(batchnorm_backward, _dout, _cache)
        for _g, _ref, _n in zip(_grads, (_xt.grad, _gt.grad, _bt.grad), ("dx", "dgamma", "dbeta"), strict=True):
            assert_close(_g, _ref.numpy(), rtol=1e-6, atol=1e-9, name=f"{_n} of {_what}")
    # Training mode with a batch of one: a ValueError, and the state stays as it was.
    _rm_before, _rv_before = np.array(_state["running_mean"]), np.array(_state["running_var"])
    try:
        call_updating(batchnorm_forward, "state", _rng.normal(size=(1, _D)), _gamma, _beta, _state, True)
    except ValueError:
        pass
    else:
        fail(f"batchnorm_forward(x of shape (1, {_D}), train=True) should raise a ValueError")
    assert_close(_state["running_var"], _rv_before, rtol=0, atol=0,
                 name=f"state['running_var'] after a rejected training batch of one ({_label})")
# Against torch.nn.BatchNorm1d in train() and eval() modes (its default momentum 0.1, eps 1e-5).
_bn = _torch.nn.BatchNorm1d(6, dtype=_torch.float64)
_state = call(init_batchnorm_state, 6)
_g1, _b1 = _bn.weight.detach().numpy().copy(), _bn.bias.detach().numpy().copy()
for _step in range(5):
    _x = 2.0 + 3.0 * _rng.normal(size=(10, 6))
    _bn.train()
    _ref = _bn(_torch.tensor(_x)).detach().numpy()
    _out, _ = call_updating(batchnorm_forward, "state", _x, _g1, _b1, _state, True)
    assert_close(_out, _ref, rtol=1e-7, atol=1e-9, name=f"batchnorm_forward vs BatchNorm1d.train(), batch {_step + 1}")
_bn.eval()
_x = _rng.normal(size=(4, 6))
_out, _ = call(batchnorm_forward, _x, _g1, _b1, _state, False)
assert_close(_out, _bn(_torch.tensor(_x)).detach().numpy(), rtol=1e-7, atol=1e-9,
             name="batchnorm_forward(train=False) vs BatchNorm1d.eval() after 5 training batches")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: a deep network with and without batch normalization.** Six hidden ReLU layers
# of width 64 on the digits, trained with your `SGDMomentum` ($\eta = 0.05$). Three versions:
# Kaiming initialization; a poor initialization $\mathcal{N}(0, 0.01^2)$; and the same poor
# initialization with batch normalization before every ReLU. Accuracy is measured in eval mode.

# %%
def init_deep(rng, std=None, width=64, depth=6, bn=False):
    sizes = [64] + [width] * depth + [10]
    params, states = {}, {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        scale = np.sqrt(2.0 / n_in) if std is None else std
        params[f"W{i}"] = scale * rng.standard_normal((n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
        if bn and i < len(sizes) - 1:
            params[f"gamma{i}"], params[f"beta{i}"] = np.ones(n_out), np.zeros(n_out)
            states[i] = init_batchnorm_state(n_out)
    return params, states


def deep_forward_backward(params, states, X, y, train=True):
    """Loss and gradients (train=True), or only the scores (train=False)."""
    n_layers = sum(1 for k in params if k.startswith("W"))
    h, caches = X, []
    for i in range(1, n_layers + 1):
        h, c_affine = affine_forward(h, params[f"W{i}"], params[f"b{i}"])
        c_bn = c_relu = None
        if i < n_layers:
            if i in states:
                h, c_bn = batchnorm_forward(h, params[f"gamma{i}"], params[f"beta{i}"], states[i], train)
            h, c_relu = relu_forward(h)
        caches.append((c_affine, c_bn, c_relu))
    if not train:
        return h
    loss, dh = softmax_cross_entropy_loss(h, y)
    grads = {}
    for i in range(n_layers, 0, -1):
        c_affine, c_bn, c_relu = caches[i - 1]
        if c_relu is not None:
            dh = relu_backward(dh, c_relu)
        if c_bn is not None:
            dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dh, c_bn)
        dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, c_affine)
    return loss, grads


def train_deep(std=None, bn=False, epochs=8, seed=3):
    params, states = init_deep(np.random.default_rng(seed), std=std, bn=bn)
    opt = SGDMomentum(params, lr=0.05, momentum=0.9)
    batch_rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        for Xb, yb in minibatches(X_train, y_train, 64, rng=batch_rng):
            loss, grads = deep_forward_backward(params, states, Xb, yb)
            opt.step(grads)
            losses.append(loss)
    scores = deep_forward_backward(params, states, X_val, None, train=False)
    return np.array(losses), float(np.mean(scores.argmax(axis=1) == y_val))


deep_runs = {
    "Kaiming, no batch norm": train_deep(),
    "N(0, 0.01²), no batch norm": train_deep(std=0.01),
    "N(0, 0.01²), with batch norm": train_deep(std=0.01, bn=True),
}
fig, ax = plt.subplots(figsize=(8, 3.8))
for name, (losses, acc) in deep_runs.items():
    ax.plot(np.convolve(losses, np.ones(10) / 10, mode="valid"), label=f"{name} (val. acc. {acc:.2f})")
ax.set(xlabel="iteration", ylabel="training loss (moving average)", title="Depth 7, SGD with momentum")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With the tiny initialization the signal vanishes on the way forward, every gradient is
# almost zero, and the plain network stays stuck at the loss of guessing ($\log 10 \approx
# 2.3$). Batch normalization rescales every layer's pre-activations to unit variance, whatever
# the weights' scale, so the same badly initialised network trains as fast as the well
# initialised one. That insensitivity to scale (of the weights, and so also to the learning
# rate to some extent) is the main practical gift of batch normalization.

# %% [markdown]
# **Concept check 8.** A network with batch normalization has been trained. You switch it to
# eval mode and classify a **single** image. Which mean and variance normalise that image's
# features inside a batch-norm layer?
#
# - (a) the mean and variance of that single image's features
# - (b) the running averages of the batch statistics collected during training
# - (c) mean 0 and variance 1, since $\gamma$ and $\beta$ take care of the rest
# - (d) the statistics of the last training batch
#
# Set `q8_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q8_batchnorm_eval"
# q8_answer = "..."
### BEGIN SOLUTION
q8_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q8_batchnorm_eval" points=1
assert_that("q8_answer" in globals(), "q8_answer is not set yet: run its cell after answering")
assert_choice(q8_answer, ["a", "b", "c", "d"], name="q8_answer")
### BEGIN HIDDEN TESTS
assert_answer(q8_answer, "b", name="q8_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Suppose a batch-norm layer used the statistics of the
# current batch also at test time. In two to four sentences, describe two things that would go
# wrong (think of a batch of size 1, and of a test batch that happens to contain only images
# of one class), and explain why the running averages avoid both.
#
# Write your answer in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_batchnorm_modes" points=2
# *Model answer.* With a single example, the batch mean equals the example itself and the
# variance is 0, so every feature is normalised to exactly 0 and the output is $\beta$ for
# every input: the prediction no longer depends on the image. More generally, an example's
# output would depend on which other examples share its batch — a batch of only "7"s would
# have its typical "7" features subtracted out, shifting all predictions — so the same image
# could get different labels in different batches. The running averages are fixed estimates
# of the statistics over the training distribution; in eval mode they turn the layer into a
# fixed affine map per feature, so each prediction depends only on its own input.

# %% [markdown]
# ## Summary
#
# - Minibatches make each update cheap and noisy; shuffle once per epoch with one
#   permutation for inputs and labels.
# - The learning rate is bounded by the largest curvature ($\eta < 2/a$) while the smallest
#   curvature sets the pace: ravines need momentum (or per-parameter scaling), plateaus and
#   saddles need steps that do not shrink with the gradient, cliffs need clipping.
# - Adam = momentum + RMSProp + bias correction; its first steps have size about $\eta$.
# - Schedules shrink the learning rate over time (after an optional warm-up), which lets
#   noisy SGD settle; an exponential moving average of the weights calms the noise without
#   touching training.
# - Hyperparameters are searched on the validation set; random search explores the
#   hyperparameters that matter more finely than a grid of the same budget.
# - Newton's method uses the curvature and solves a quadratic in one step, but costs $O(d^3)$;
#   L-BFGS estimates the curvature from the last few steps in $O(md)$, which works on smooth
#   full-batch problems but not with noisy minibatch gradients.
# - Xavier (tanh) and Kaiming (ReLU) initialization keep activations and gradients at a steady
#   scale; batch normalization does so during training too, with running statistics for eval.
#
# **Next chapter:** convolutional networks — the optimizers and initializations of this
# chapter train them too (`from dllib.ch05_optimization import Adam`).
