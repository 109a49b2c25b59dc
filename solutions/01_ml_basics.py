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
# # Chapter 01 — Machine-learning basics
#
# Before any neural network, this chapter builds the whole machine-learning loop for the
# simplest model there is: a function that is **linear in its parameters**. You will fit
# curves to noisy data, watch a flexible model memorise noise, tame it with a penalty, pick
# the penalty honestly with cross-validation and random search, and see where the usual losses
# (squared error, cross-entropy) come from.
#
# **What you will build** (all in numpy):
#
# | # | function | idea |
# |---|---|---|
# | 1 | `fit_least_squares` | linear regression through the normal equations |
# | 2 | `polynomial_features` | turn a number $x$ into $(1, x, x^2, \dots, x^M)$ |
# | 3 | `mse` | the mean squared error |
# | 4 | `fit_ridge` | least squares with an $\ell_2$ penalty |
# | 5 | `kfold_indices`, `cross_val_mse` | $k$-fold cross-validation |
# | 6 | `random_search` | tuning two hyperparameters at once: random trials instead of a grid |
# | 7 | `bias_variance` | bias and variance of an estimator, by simulation |
# | 8 | `gaussian_mle` | maximum-likelihood fit of a Gaussian |
# | 9 | `cross_entropy`, `kl_divergence` | from likelihood to losses: cross-entropy and KL divergence |
#
# On the way: the kinds of learning problems, the **capacity curve** (training vs test error over
# the polynomial degree), an interactive **degree / λ explorer**, grid vs random search on a
# validation-error landscape, a handful of concept checks and two short written answers.
#
# **You need**: Python and numpy (arrays, broadcasting, `@`), matrix transpose and solving a
# linear system, the expectation and variance of a random variable, and logarithms. No earlier
# chapter.
#
# **Time**: about 3 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong. The
# grader runs more (hidden) checks on other inputs, so make your code correct in general, not
# just for the visible examples. Do not rename the functions or change their arguments, and do
# not change the arrays you are given (compute new ones).

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from helpers.explorers.ml_basics import degree_ridge_explorer
from helpers.testing import (
    assert_answer,
    assert_array_equal,
    assert_choice,
    assert_close,
    assert_dtype,
    assert_equal_int,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% [markdown]
# ## 1. Learning problems and tasks
#
# A learning algorithm gets better at a task by looking at data. What the data look like
# decides the kind of **learning problem**:
#
# - **Supervised learning**: the data are input–target pairs $\{(\mathbf{x}_i, y_i)\}_{i=1}^N$,
#   and the model learns to predict $y$ from $\mathbf{x}$. The task is called **regression**
#   when $y$ is a real number (a house price, tomorrow's temperature, the depth of every pixel)
#   and **classification** when $y$ is one of $C$ classes (the digit in an image, spam or not).
#   Outputs can also be structured objects: a sentence, a segmentation mask.
# - **Unsupervised learning**: only inputs $\{\mathbf{x}_i\}_{i=1}^N$, no targets. Typical tasks
#   are **density estimation** (learn $p(\mathbf{x})$ itself, e.g. to flag unlikely, anomalous
#   inputs or to generate new samples), **clustering** (group similar inputs, e.g. customers
#   with similar buying habits) and **dimensionality reduction** (describe each input by a few
#   numbers, e.g. squeeze 64-pixel images into 2 coordinates to plot them).
# - **Self-supervised learning**: the targets are made from the data themselves, pairs
#   $\{(\mathbf{x}_i, \mathbf{x}'_i)\}$: predict the next word of a text, a hidden patch of an
#   image, or map two distorted views of one image to similar features. The losses are those of
#   supervised learning, but nobody has to label anything — this is how large language models
#   are pre-trained.
# - **Reinforcement learning**: there is no fixed data set. An agent acts in an environment,
#   observes states and (often rare) rewards, and learns a policy that collects as much reward
#   as possible: game playing, robot control.
#
# This chapter solves a supervised regression problem. Classification follows in chapters
# 02–03, self-supervised word vectors in chapter 08, unsupervised dimensionality reduction and
# density estimation (PCA, autoencoders, generative models) in chapters 10–11, and
# reinforcement learning in chapter 12.

# %% [markdown]
# **Concept check 1.** Which learning problem and task is each scenario?
#
# 1. Decide from a chest X-ray whether a patient has pneumonia, learning from an archive of
#    X-rays that radiologists have labelled.
# 2. Predict tomorrow's electricity demand in megawatts from the records of past days.
# 3. Flag unusual credit-card payments by learning how probable each payment is, from
#    millions of past payments that nobody has labelled.
# 4. Split 50,000 unlabelled customer records into groups of customers who buy alike.
# 5. Pre-train a network on millions of web pages to predict each next word, without any human
#    annotation.
# 6. Teach a program to play Go by letting it play against itself, with a reward for every win.
#
# Options: (a) supervised regression, (b) supervised classification, (c) unsupervised
# clustering, (d) unsupervised dimensionality reduction, (e) unsupervised density estimation,
# (f) self-supervised learning, (g) reinforcement learning.
#
# Which option fits each scenario? Set `q1_answer` to a string of six letters, one per
# scenario in order (for example `"aaaaaa"`; a letter may be used more than once, or not at all).

# %% nbgrader="solution" grade_id="q1_task_types"
# q1_answer = "......"
### BEGIN SOLUTION
q1_answer = "baecfg"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_task_types" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_that(isinstance(q1_answer, str) and len(q1_answer.strip()) == 6
            and set(q1_answer.strip().lower()) <= set("abcdefg"),
            f"q1_answer must be a string of six letters from a to g, got {q1_answer!r}")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, "baecfg", name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The data: a noisy sine
#
# Throughout the chapter we use a small regression problem (the classic one from the
# lecture). Inputs are drawn uniformly, and each target is a sine plus Gaussian noise:
#
# $$x \sim \mathcal{U}(-1, 1), \qquad y \mid x \sim \mathcal{N}\big(\sin(\pi x),\ \sigma^2\big),
# \quad \sigma = 0.25 .$$
#
# We draw **15 training points** and, from the same distribution, **200 test points** that
# no model will ever be fitted to. The seed is fixed, so everyone sees the same numbers.

# %%
NOISE = 0.25


def true_fn(x):
    """The noise-free target sin(pi x)."""
    return np.sin(np.pi * x)


rng = np.random.default_rng(0)
x_train = rng.uniform(-1, 1, size=15)
y_train = true_fn(x_train) + NOISE * rng.normal(size=15)
x_test = rng.uniform(-1, 1, size=200)
y_test = true_fn(x_test) + NOISE * rng.normal(size=200)

x_grid = np.linspace(-1, 1, 400)
fig, ax = plt.subplots()
ax.plot(x_grid, true_fn(x_grid), "--", color="0.5", label=r"$\sin(\pi x)$")
ax.scatter(x_test, y_test, s=8, color="C1", alpha=0.5, label="test (200)")
ax.scatter(x_train, y_train, s=25, color="C0", label="train (15)", zorder=3)
ax.set(xlabel="x", ylabel="y", title="The regression problem")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. Linear regression by the normal equations
#
# Stack the $N$ inputs as rows of a matrix $\mathbf{X} \in \mathbb{R}^{N \times D}$ and the
# targets as $\mathbf{y} \in \mathbb{R}^N$. A linear model predicts
# $\hat{\mathbf{y}} = \mathbf{X}\mathbf{w}$, and least squares picks the weights that minimise
# the squared residuals
#
# $$E(\mathbf{w}) = \tfrac12 \lVert \mathbf{X}\mathbf{w} - \mathbf{y} \rVert_2^2 .$$
#
# (The factor $\frac12$ only tidies the gradient; it does not move the minimum.) $E$ is a
# convex quadratic in $\mathbf{w}$ with gradient
# $\nabla_{\mathbf{w}} E = \mathbf{X}^\top(\mathbf{X}\mathbf{w} - \mathbf{y})$.
# Setting it to zero gives the **normal equations**
#
# $$\mathbf{X}^\top\mathbf{X}\,\mathbf{w} = \mathbf{X}^\top\mathbf{y} .$$
#
# When the columns of $\mathbf{X}$ are linearly independent, $\mathbf{X}^\top\mathbf{X}$ is
# invertible and the solution is unique. Numerically, *solve* the $D \times D$ system with
# `np.linalg.solve` rather than forming the inverse: it is faster and more accurate.
#
# There is no separate bias $b$ here: if you want one, give $\mathbf{X}$ a column of ones and
# its weight plays the role of $b$.

# %% nbgrader="solution" grade_id="fit_least_squares"
def fit_least_squares(X, y):
    """Least-squares weights from the normal equations X^T X w = X^T y.

    Args:
        X: float array of shape (n, d), n >= d, with linearly independent columns.
            (Add a column of ones yourself if you want a bias term.)
        y: float array of shape (n,).

    Returns:
        w: float64 array of shape (d,) minimising ||X w - y||^2.

    Solve the d x d linear system with np.linalg.solve (do not use np.linalg.lstsq or
    np.linalg.pinv here: the point is to use the normal equations). Leave X and y unchanged.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.linalg.solve(X.T @ X, X.T @ y)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_fit_least_squares" points=3
# At the minimum the gradient X^T (X w - y) vanishes, even when the data are noisy.
_rng = np.random.default_rng(1)
_X = _rng.normal(size=(20, 3))
_y = _rng.normal(size=20)
_w = call(fit_least_squares, _X, _y)
assert_shape(_w, (3,), name="fit_least_squares(X (20, 3), y)")
assert_close(_X.T @ (_X @ np.asarray(_w, dtype=float) - _y), np.zeros(3), atol=1e-9,
             name="gradient X^T (X w - y) at your w")

# A line through (0, 1), (1, 3), (2, 5): y = 1 + 2x, with a column of ones for the bias.
_X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
_y = np.array([1.0, 3.0, 5.0])
_w = call(fit_least_squares, _X, _y)
assert_shape(_w, (2,), name="fit_least_squares(X, y) on the line example")
assert_close(_w, np.array([1.0, 2.0]), name="fit_least_squares(X, y) on the line example")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(101)
for _n, _d in [(5, 1), (10, 3), (50, 7), (4, 4), (3, 2), (200, 10)]:
    _X = _rng.normal(size=(_n, _d)) * _rng.uniform(0.5, 3.0, size=_d)
    _y = _rng.normal(size=_n) + 2.0
    _expected = np.linalg.lstsq(_X, _y, rcond=None)[0]
    _label = f"fit_least_squares(X {_X.shape}, y {_y.shape})"
    _w = call(fit_least_squares, _X, _y)
    assert_shape(_w, (_d,), name=_label)
    assert_close(_w, _expected, rtol=1e-6, atol=1e-9, name=_label)

# Exact fit: n == d and consistent data give zero residual.
_X = np.array([[2.0, 1.0], [1.0, 3.0]])
_y = _X @ np.array([0.5, -1.5])
assert_close(call(fit_least_squares, _X, _y), np.array([0.5, -1.5]),
             name="fit_least_squares on a square, exactly solvable system")

# Integer inputs must still give float weights.
_Xi = np.array([[1, 0], [1, 1], [1, 2], [1, 3]])
_yi = np.array([1, 2, 2, 4])
_expected = np.linalg.lstsq(_Xi.astype(float), _yi.astype(float), rcond=None)[0]
_w = call(fit_least_squares, _Xi, _yi)
assert_dtype(_w, "f", name="fit_least_squares with integer X and y")
assert_close(_w, _expected, name="fit_least_squares with integer X and y")

# Badly conditioned X (monomials up to x^6 on [0, 1]): the fitted values and the error must
# match lstsq, even if individual weights drift a little.
_x = np.linspace(0.0, 1.0, 30)
_X = np.vander(_x, 7, increasing=True)
_y = np.cos(3 * _x) + 0.1 * _rng.normal(size=30)
_ref = np.linalg.lstsq(_X, _y, rcond=None)[0]
_w = np.asarray(call(fit_least_squares, _X, _y), dtype=float)
assert_close(_X @ _w, _X @ _ref, rtol=1e-5, atol=1e-7,
             name="fitted values X @ w on an ill-conditioned X (cond ~ 1e5)")
assert_close(np.sum((_X @ _w - _y) ** 2), np.sum((_X @ _ref - _y) ** 2), rtol=1e-6,
             name="training error ||X w - y||^2 on an ill-conditioned X")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Polynomial features
#
# A straight line cannot follow a sine. But a model only has to be linear in the **weights**,
# not in the input: map each scalar $x$ to the feature vector
#
# $$\boldsymbol{\phi}(x) = (1, x, x^2, \dots, x^M)^\top$$
#
# and fit $f(x) = \mathbf{w}^\top \boldsymbol{\phi}(x) = \sum_{j=0}^{M} w_j x^j$, a polynomial
# of degree $M$. The design matrix $\boldsymbol{\Phi}$ has one row per sample and one column per
# power, $\Phi_{ij} = x_i^{\,j}$ (a *Vandermonde* matrix), and everything from section 3 applies
# unchanged with $\mathbf{X} = \boldsymbol{\Phi}$. Note that column 0 is all ones: it is the bias.

# %% nbgrader="solution" grade_id="polynomial_features"
def polynomial_features(x, degree):
    """Monomial features of a 1-D input.

    Args:
        x: float array of shape (n,).
        degree: int M >= 0.

    Returns:
        Phi: float64 array of shape (n, M + 1) with Phi[i, j] = x[i] ** j, so the columns are
        x^0 (all ones, also where x is 0), x^1, ..., x^M in this order. x is left unchanged.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return x[:, None] ** np.arange(degree + 1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_polynomial_features" points=2
_x = np.array([2.0, -1.0, 0.5])
_Phi = call(polynomial_features, _x, 3)
assert_shape(_Phi, (3, 4), name="polynomial_features([2, -1, 0.5], degree=3)")
assert_close(_Phi, np.array([[1, 2, 4, 8], [1, -1, 1, -1], [1, 0.5, 0.25, 0.125]]),
             name="polynomial_features([2, -1, 0.5], degree=3)")
### BEGIN HIDDEN TESTS
from sklearn.preprocessing import PolynomialFeatures as _PolynomialFeatures

_rng = np.random.default_rng(102)
for _n, _deg in [(7, 0), (7, 1), (10, 2), (25, 5), (1, 4), (6, 9)]:
    _x = _rng.uniform(-2, 2, size=_n)
    _expected = _PolynomialFeatures(degree=_deg, include_bias=True).fit_transform(_x[:, None])
    _label = f"polynomial_features(x of shape ({_n},), degree={_deg})"
    _Phi = call(polynomial_features, _x, _deg)
    assert_shape(_Phi, (_n, _deg + 1), name=_label)
    assert_close(_Phi, _expected, rtol=1e-10, atol=1e-12, name=_label)

# Zeros: 0 ** 0 is 1 (the bias column), 0 ** j = 0 for j > 0.
assert_close(call(polynomial_features, np.array([0.0, 3.0]), 2),
             np.array([[1.0, 0.0, 0.0], [1.0, 3.0, 9.0]]), name="polynomial_features([0, 3], degree=2)")
# Degree 0 is just the bias column.
assert_close(call(polynomial_features, np.array([5.0, -7.0, 0.0]), 0), np.ones((3, 1)),
             name="polynomial_features([5, -7, 0], degree=0)")
# Integers work and give floats.
_Phi = call(polynomial_features, np.array([1, 2, 3]), 2)
assert_dtype(_Phi, "f", name="polynomial_features(integer x, degree=2)")
assert_close(_Phi, np.array([[1.0, 1, 1], [1, 2, 4], [1, 3, 9]]),
             name="polynomial_features(integer x, degree=2)")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Mean squared error
#
# To compare models on data sets of different sizes we average instead of summing:
#
# $$\mathrm{MSE}(\mathbf{y}, \hat{\mathbf{y}}) = \frac{1}{N}\sum_{i=1}^{N} (y_i - \hat y_i)^2 .$$
#
# For arrays with more than one axis (say a batch of images), $N$ is the number of **all**
# entries: the mean runs over every element.

# %% nbgrader="solution" grade_id="mse"
def mse(y_true, y_pred):
    """Mean squared error over all entries.

    Args:
        y_true: float array of any shape.
        y_pred: float array of the same shape as y_true.

    Returns:
        A Python float: the mean of (y_true - y_pred) ** 2 over all entries, computed in
        float64. The inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    diff = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.mean(diff**2))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_mse" points=2
_m = call(mse, np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0]))
assert_scalar(_m, 5.0 / 3.0, name="mse([1, 2, 3], [1, 0, 4])")
assert_scalar(call(mse, np.zeros(4), np.zeros(4)), 0.0, name="mse of identical arrays")
### BEGIN HIDDEN TESTS
from sklearn.metrics import mean_squared_error as _mean_squared_error

_rng = np.random.default_rng(103)
for _shape in [(1,), (2,), (17,), (100,)]:
    _a, _b = _rng.normal(size=_shape), _rng.normal(size=_shape) * 3
    _expected = _mean_squared_error(_a, _b)
    assert_scalar(call(mse, _a, _b), _expected, rtol=1e-6,
                  name=f"mse(y_true, y_pred) for shape {_shape}")
# Several axes: the mean over all entries (e.g. a batch of 4 RGB 8x8 images).
_a, _b = _rng.normal(size=(4, 3, 8, 8)), _rng.normal(size=(4, 3, 8, 8))
_expected = np.sum((_a - _b) ** 2) / _a.size
assert_scalar(call(mse, _a, _b), _expected, rtol=1e-6,
              name="mse on arrays of shape (4, 3, 8, 8) (mean over all 768 entries)")
_a, _b = _rng.normal(size=(6, 2)), _rng.normal(size=(6, 2))
_expected = _mean_squared_error(_a.ravel(), _b.ravel())
assert_scalar(call(mse, _a, _b), _expected, rtol=1e-6, name="mse on arrays of shape (6, 2)")
# Symmetric, and integers work.
assert_scalar(call(mse, np.array([3, 1]), np.array([1, 2])), 2.5,
              name="mse([3, 1], [1, 2]) with integer arrays")
assert_scalar(call(mse, np.array([1.0, 2.0]), np.array([3.0, 1.0])), 2.5,
              name="mse([1, 2], [3, 1]) (arguments swapped)")
# Large values that differ by about 1: float32 keeps only about 7 significant digits.
_a, _b = 1e6 + _rng.normal(size=50), 1e6 + _rng.normal(size=50)
_expected = np.mean((_a - _b) ** 2)
assert_scalar(call(mse, _a, _b), _expected, rtol=1e-6,
              name="mse of values around 1e6 that differ by about 1 (compute in float64)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** You compute the MSE between a batch of predicted images and the
# target images, both of shape `(4, 3, 8, 8)` (batch, channels, height, width). By which
# number $N$ is the sum of squared differences divided? Set `q2_answer` to that integer.

# %% nbgrader="solution" grade_id="q2_mse_normalizer"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 768
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_mse_normalizer" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 768, name="q2_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Experiment: the capacity curve
#
# Now fit polynomials of every degree $M = 0, \dots, 12$ to the 15 training points, and
# measure the MSE on the training points and on the 200 test points. The degree controls the
# model's **capacity**: the set of functions it can represent grows with $M$.

# %%
degrees = np.arange(0, 13)
train_err, test_err = [], []
for M in degrees:
    w = fit_least_squares(polynomial_features(x_train, M), y_train)
    train_err.append(mse(y_train, polynomial_features(x_train, M) @ w))
    test_err.append(mse(y_test, polynomial_features(x_test, M) @ w))

fig, (ax_fits, ax_curve) = plt.subplots(1, 2, figsize=(11, 3.8))
ax_fits.scatter(x_train, y_train, s=25, color="C0", zorder=3, label="train")
ax_fits.plot(x_grid, true_fn(x_grid), "--", color="0.5", label="truth")
for M, color in [(1, "C2"), (3, "C1"), (12, "C3")]:
    w = fit_least_squares(polynomial_features(x_train, M), y_train)
    ax_fits.plot(x_grid, polynomial_features(x_grid, M) @ w, color=color, label=f"M = {M}")
ax_fits.set(ylim=(-2.0, 2.0), xlabel="x", ylabel="y", title="Least-squares polynomial fits")
ax_fits.legend(fontsize=8)

ax_curve.semilogy(degrees, train_err, "o-", label="train MSE")
ax_curve.semilogy(degrees, test_err, "s-", label="test MSE")
ax_curve.axhline(NOISE**2, color="0.5", ls=":", label=r"noise level $\sigma^2$")
ax_curve.set(xlabel="polynomial degree M", ylabel="MSE (log scale)", title="Capacity curve")
ax_curve.legend(fontsize=8)
plt.show()

best = int(degrees[np.argmin(test_err)])
print(f"lowest test MSE {min(test_err):.3f} at degree {best}; "
      f"degree 12: train {train_err[-1]:.4f}, test {test_err[-1]:.1f}")

# %% [markdown]
# **What the curve says.** The training error can only go down as $M$ grows: every
# polynomial of degree $M$ is also one of degree $M+1$ (with $w_{M+1} = 0$), so the larger
# model can always do at least as well on the points it is fitted to. The test error tells a
# different story. Degrees 0–2 **underfit**: even the training error is high, the model is
# too simple for a sine. At $M = 3$ the test error (about 0.08) comes close to the noise level
# $\sigma^2 = 0.0625$, which no model can beat on average. Beyond degree 6 the model
# **overfits**: it bends to pass near every noisy training point, the gap between train and
# test error (the *generalisation gap*) opens, and at $M = 12$ the test error (about 57) is
# more than ten thousand times the training error (about 0.003) — the wild swings near the
# edges of the data are where that comes from.

# %% [markdown]
# **Concept check 3.** At degree 12 the training MSE is tiny and the test MSE is huge. This
# is an example of
#
# - (a) underfitting: the model has too little capacity
# - (b) overfitting: the model fits the noise in the training data
# - (c) a good fit, because the training error is what the fit minimises
# - (d) a bug: the training and test errors of a correct fit are always close
#
# Which one is it? Set `q3_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q3_overfitting"
# q3_answer = "..."
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_overfitting" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** In two to four sentences: why does the training error keep
# falling as the degree grows while the test error eventually rises? And why would it be a
# mistake to choose the degree by picking the lowest point of the *test* curve? Write your
# answer in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_capacity" points=2
# *Model answer.* A model of degree $M+1$ contains every model of degree $M$, so the best
# training fit can only improve with capacity; beyond the true complexity of the signal the
# extra freedom is spent fitting the particular noise of the 15 training points, which does
# not repeat on new data, so the test error rises (overfitting). If we choose $M$ by its test
# error, the test set has been used for fitting a hyperparameter: the chosen model's test error
# is then an optimistic (biased) estimate of its error on new data. Hyperparameters must be
# chosen on a validation set or by cross-validation, and the test set used once at the end.

# %% [markdown]
# ## 7. Ridge regression
#
# Instead of lowering the degree, we can keep a flexible model and **discourage large
# weights**. Ridge regression adds an $\ell_2$ penalty with strength $\lambda \ge 0$. This
# course writes every $\ell_2$ penalty as $\frac{\lambda}{2}\lVert \mathbf{w} \rVert_2^2$, whose
# gradient is simply $\lambda\mathbf{w}$ (chapter 04 meets it again as *weight decay*):
#
# $$E_\lambda(\mathbf{w}) = \tfrac12 \lVert \mathbf{X}\mathbf{w} - \mathbf{y} \rVert_2^2
#   + \tfrac{\lambda}{2} \lVert \mathbf{w} \rVert_2^2 .$$
#
# Its gradient is $\mathbf{X}^\top(\mathbf{X}\mathbf{w} - \mathbf{y}) + \lambda\mathbf{w}$, and
# setting it to zero gives
#
# $$(\mathbf{X}^\top\mathbf{X} + \lambda \mathbf{I})\,\mathbf{w} = \mathbf{X}^\top\mathbf{y},
#   \qquad \mathbf{w} = (\mathbf{X}^\top\mathbf{X} + \lambda \mathbf{I})^{-1}\mathbf{X}^\top\mathbf{y}.$$
#
# scikit-learn's `Ridge(alpha=λ)` minimises $\lVert \mathbf{y} - \mathbf{X}\mathbf{w} \rVert_2^2
# + \lambda\lVert \mathbf{w} \rVert_2^2$, exactly twice our $E_\lambda$, so it has the same
# minimiser. For $\lambda > 0$ the matrix $\mathbf{X}^\top\mathbf{X} + \lambda\mathbf{I}$ is
# always invertible — even with more features than samples — and better conditioned; for
# $\lambda = 0$ this is ordinary least squares.
#
# **Convention in this course:** the penalty applies to **all** weights, including the weight
# of the column of ones (the bias). That keeps the formula above exact. (Libraries usually
# leave the intercept unpenalised — scikit-learn does with `fit_intercept=True` — so their
# fits differ from ours unless the bias column is penalised too.)

# %% nbgrader="solution" grade_id="fit_ridge"
def fit_ridge(X, y, lam):
    """Ridge-regression weights: solve (X^T X + lam * I) w = X^T y.

    Every weight is penalised, including the one of a column of ones if X has one.

    Args:
        X: float array of shape (n, d). Any n >= 1 when lam > 0; linearly independent
            columns when lam == 0.
        y: float array of shape (n,).
        lam: float >= 0, the penalty strength lambda.

    Returns:
        w: float64 array of shape (d,) minimising 1/2 ||X w - y||^2 + lam/2 ||w||^2 (the same
        w as scikit-learn's Ridge(alpha=lam, fit_intercept=False)). X and y are left unchanged.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    d = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_fit_ridge" points=3
# One feature: w = (x . y) / (x . x + lam).
_X = np.array([[1.0], [2.0], [3.0]])
_y = np.array([2.0, 4.0, 6.0])
_w = call(fit_ridge, _X, _y, 14.0)
assert_shape(_w, (1,), name="fit_ridge(X (3, 1), y, lam=14)")
assert_close(_w, np.array([1.0]), name="fit_ridge(X (3, 1), y, lam=14)")

# The gradient of the penalised error vanishes at the solution.
_rng = np.random.default_rng(2)
_X = _rng.normal(size=(12, 4))
_y = _rng.normal(size=12)
_w = np.asarray(call(fit_ridge, _X, _y, 0.5), dtype=float)
assert_shape(_w, (4,), name="fit_ridge(X (12, 4), y, lam=0.5)")
assert_close(_X.T @ (_X @ _w - _y) + 0.5 * _w, np.zeros(4), atol=1e-9,
             name="gradient X^T (X w - y) + lam w at your w")
### BEGIN HIDDEN TESTS
from sklearn.linear_model import Ridge as _Ridge

_rng = np.random.default_rng(104)
for _n, _d, _lam in [(20, 3, 0.1), (20, 3, 1.0), (50, 8, 10.0), (5, 5, 0.3), (3, 6, 0.5),
                     (1, 4, 2.0), (40, 6, 1e-3), (30, 4, 1e3)]:
    _X = _rng.normal(size=(_n, _d)) + _rng.normal(size=_d)
    _X[:, 0] = 1.0  # a bias column, penalised like every other weight
    _y = _rng.normal(size=_n) + 1.5
    _expected = _Ridge(alpha=_lam, fit_intercept=False, solver="svd").fit(_X, _y).coef_
    _label = f"fit_ridge(X {_X.shape}, y, lam={_lam:g})"
    _w = call(fit_ridge, _X, _y, _lam)
    assert_shape(_w, (_d,), name=_label)
    assert_close(_w, _expected, rtol=1e-6, atol=1e-10, name=_label)

# lam = 0 is ordinary least squares.
_X = _rng.normal(size=(15, 4))
_y = _rng.normal(size=15)
_expected = np.linalg.lstsq(_X, _y, rcond=None)[0]
assert_close(call(fit_ridge, _X, _y, 0.0), _expected, rtol=1e-6, atol=1e-10,
             name="fit_ridge(X (15, 4), y, lam=0) (must equal least squares)")
# A huge penalty shrinks w towards X^T y / lam.
_expected = _X.T @ _y / 1e8
assert_close(call(fit_ridge, _X, _y, 1e8), _expected, rtol=1e-5, atol=1e-15,
             name="fit_ridge(X, y, lam=1e8)")
# An integer lam, and integer X and y, work too.
_expected = _Ridge(alpha=2.0, fit_intercept=False, solver="svd").fit(_X, _y).coef_
assert_close(call(fit_ridge, _X, _y, 2), _expected, rtol=1e-6,
             name="fit_ridge(X, y, lam=2) with an integer lam")
_Xi, _yi = np.array([[1, 2], [3, 4], [5, 7]]), np.array([1, 0, 2])
_expected = np.linalg.solve(_Xi.T @ _Xi + 3.0 * np.eye(2), _Xi.T @ _yi)
assert_close(call(fit_ridge, _Xi, _yi, 3.0), _expected, name="fit_ridge(integer X, integer y, lam=3)")
# Ill-conditioned monomial features (degree 10 on [0, 1]) with a small penalty.
_x = np.linspace(0.0, 1.0, 25)
_X = np.vander(_x, 11, increasing=True)
_y = np.sin(2 * np.pi * _x)
_expected = np.linalg.solve(_X.T @ _X + 1e-6 * np.eye(11), _X.T @ _y)
assert_close(call(fit_ridge, _X, _y, 1e-6), _expected, rtol=1e-5, atol=1e-8,
             name="fit_ridge(ill-conditioned X (25, 11), y, lam=1e-6)")
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Experiment: how λ reshapes the capacity curve
#
# Repeat the capacity experiment with ridge regression for a few penalty strengths. With
# $\lambda = 0$ we get the least-squares curve from section 6 again.

# %%
lams = [0.0, 1e-6, 1e-3, 1e-1]
ridge_test_err, ridge_norms = {}, {}
fig, (ax_test, ax_norm) = plt.subplots(1, 2, figsize=(11, 3.8))
for lam in lams:
    errs, norms = [], []
    for M in degrees:
        w = fit_ridge(polynomial_features(x_train, M), y_train, lam)
        errs.append(mse(y_test, polynomial_features(x_test, M) @ w))
        norms.append(np.linalg.norm(w))
    ridge_test_err[lam], ridge_norms[lam] = errs, norms
    ax_test.semilogy(degrees, errs, "o-", ms=4, label=f"λ = {lam:g}")
    ax_norm.semilogy(degrees, norms, "o-", ms=4, label=f"λ = {lam:g}")
ax_test.axhline(NOISE**2, color="0.5", ls=":", label=r"$\sigma^2$")
ax_test.set(xlabel="polynomial degree M", ylabel="test MSE (log scale)",
            title="Test error of ridge fits")
ax_norm.set(xlabel="polynomial degree M", ylabel=r"$\|\mathbf{w}\|_2$ (log scale)",
            title="Size of the weights")
ax_test.legend(fontsize=8)
ax_norm.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Interpretation.** Overfitting polynomials need *huge*, finely cancelling weights to
# snake through the noise (right plot: $\lVert\mathbf{w}\rVert$ in the thousands at degrees
# 10–12 for $\lambda = 0$). The penalty forbids exactly that, so already a tiny $\lambda$
# removes most of the explosion at high degree, and with $\lambda = 10^{-3}$ the test error
# stays below 0.2 at every degree from 3 up (least squares reaches 57 at degree 12). Too much
# penalty has the opposite effect: at the good degrees 3–6, $\lambda = 0.1$ raises the test
# error from 0.08–0.09 to 0.12–0.14, because the weights are pulled further towards zero than
# the data warrant — the first sign of underfitting (try much larger λ in the explorer below: the curve
# flattens completely). So $\lambda$ is a second, *continuous* capacity knob, and like the
# degree it has to be chosen from data (sections 10 and 11).

# %% [markdown]
# **Concept check 4.** Increasing the ridge penalty $\lambda$ (all else fixed) typically
#
# - (a) increases the bias of the fitted model and decreases its variance
# - (b) decreases the bias and increases the variance
# - (c) decreases both bias and variance
# - (d) lowers the training error
#
# Which one is true? Set `q4_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q4_ridge_tradeoff"
# q4_answer = "..."
### BEGIN SOLUTION
q4_answer = "a"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_ridge_tradeoff" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_choice(q4_answer, ["a", "b", "c", "d"], name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, "a", name="q4_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Explore: degree and λ
#
# The explorer below is built from **your** `polynomial_features`, `fit_ridge` and `mse`
# (it only calls them). Move the sliders: the left panel shows the data and your fitted
# curve, the right panel the size of each weight $|w_j|$ on a log scale. Things to try:
#
# - λ = 0, degree 1 → 14: watch the training error fall and the curve go wild near the edges.
# - degree 14, λ from 0 up to 100: the weights shrink, the curve calms down, then flattens.
# - Which (degree, λ) pair gives the lowest *test* MSE? Is it the one with the lowest
#   training MSE?
#
# (Sliders need a running kernel: they do nothing in a static view of the notebook.)

# %%
explorer = degree_ridge_explorer(
    x_train, y_train, x_test, y_test,
    features=polynomial_features, fit=fit_ridge, loss=mse,
    true_fn=true_fn, max_degree=14, degree=3, lam=0.0,
)
display(explorer)

# %% [markdown]
# ## 10. Choosing λ honestly: $k$-fold cross-validation
#
# We may not look at the test set to choose a hyperparameter (see the written answer above),
# and with only 15 points we cannot afford to set many of them aside as a validation set.
# **$k$-fold cross-validation** reuses the training data: split the $N$ indices into $k$
# contiguous folds; for each fold, fit on the other $k-1$ folds and measure the error on the
# held-out fold; report the mean of the $k$ validation errors.
#
# When $k$ does not divide $N$, the first $N \bmod k$ folds get one extra sample. For
# $N = 11$, $k = 3$ the validation folds are $\{0,1,2,3\}$, $\{4,5,6,7\}$, $\{8,9,10\}$.
# (This matches `numpy.array_split` and scikit-learn's `KFold` without shuffling. Real data
# should be shuffled before splitting; here the order is already random.)

# %% nbgrader="solution" grade_id="kfold_indices"
def kfold_indices(n, k):
    """Train/validation index arrays for k-fold cross-validation without shuffling.

    Fold i (i = 0, ..., k-1) is a contiguous block of indices; the first n % k folds have
    n // k + 1 elements, the others n // k, and together they cover 0, ..., n-1 in order.

    Args:
        n: int, number of samples.
        k: int, number of folds, 2 <= k <= n.

    Returns:
        A list of k pairs (train_idx, val_idx) of 1-D integer arrays: val_idx is fold i in
        increasing order, train_idx all other indices in increasing order.
    """
    ### BEGIN SOLUTION
    sizes = np.full(k, n // k, dtype=int)
    sizes[: n % k] += 1
    folds = []
    start = 0
    for size in sizes:
        val_idx = np.arange(start, start + size)
        train_idx = np.concatenate([np.arange(0, start), np.arange(start + size, n)])
        folds.append((train_idx, val_idx))
        start += size
    return folds
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_kfold_indices" points=3
_folds = list(call(kfold_indices, 11, 3))
assert_equal_int(len(_folds), 3, name="number of folds returned by kfold_indices(11, 3)")
for _i, (_tr, _va) in enumerate([(list(range(4, 11)), [0, 1, 2, 3]),
                                 ([0, 1, 2, 3, 8, 9, 10], [4, 5, 6, 7]),
                                 (list(range(0, 8)), [8, 9, 10])]):
    assert_array_equal(_folds[_i][1], _va, name=f"kfold_indices(11, 3): val_idx of fold {_i}")
    assert_array_equal(_folds[_i][0], _tr, name=f"kfold_indices(11, 3): train_idx of fold {_i}")
### BEGIN HIDDEN TESTS
from sklearn.model_selection import KFold as _KFold

for _n, _k in [(10, 5), (11, 3), (7, 7), (2, 2), (23, 4), (100, 10), (5, 2), (9, 4),
               (15, 5), (13, 12)]:
    _expected = list(_KFold(n_splits=_k).split(np.zeros(_n)))
    _folds = call(kfold_indices, _n, _k)
    assert_that(not isinstance(_folds, np.ndarray) or _folds.dtype == object,
                f"kfold_indices({_n}, {_k}) must return a list of (train_idx, val_idx) pairs")
    _folds = list(_folds)
    assert_equal_int(len(_folds), _k, name=f"number of folds returned by kfold_indices({_n}, {_k})")
    for _i, (_pair, (_tr_ref, _va_ref)) in enumerate(zip(_folds, _expected, strict=True)):
        assert_that(len(_pair) == 2,
                    f"kfold_indices({_n}, {_k}): fold {_i} must be a pair (train_idx, val_idx)")
        _tr, _va = _pair
        assert_array_equal(_va, _va_ref, name=f"kfold_indices({_n}, {_k}): val_idx of fold {_i}")
        assert_array_equal(_tr, _tr_ref,
                           name=f"kfold_indices({_n}, {_k}): train_idx of fold {_i}")
# n == k is leave-one-out.
for _i, (_tr, _va) in enumerate(call(kfold_indices, 4, 4)):
    assert_array_equal(_va, [_i], name=f"kfold_indices(4, 4) (leave-one-out): val_idx of fold {_i}")
    assert_array_equal(_tr, [j for j in range(4) if j != _i],
                       name=f"kfold_indices(4, 4) (leave-one-out): train_idx of fold {_i}")
### END HIDDEN TESTS

# %% [markdown]
# Now the cross-validated error itself. To keep it independent of any particular model,
# `cross_val_mse` receives a **fitting function** `fit(X_train, y_train) -> w`; predictions
# on the held-out fold are `X_val @ w`. For ridge with a given λ you would pass
# `lambda X, y: fit_ridge(X, y, lam)`. Use your `kfold_indices` and `mse`.
#
# $$\mathrm{CV}_k = \frac{1}{k} \sum_{i=1}^{k}
#   \mathrm{MSE}\big(\mathbf{y}_{\text{fold } i},\ \mathbf{X}_{\text{fold } i}\,
#   \hat{\mathbf{w}}_{-i}\big),$$
#
# where $\hat{\mathbf{w}}_{-i}$ is fitted on all folds except fold $i$. Note that this is the
# plain mean of the $k$ fold errors, even when the folds differ in size by one.

# %% nbgrader="solution" grade_id="cross_val_mse"
def cross_val_mse(X, y, k, fit):
    """k-fold cross-validated mean squared error of a linear model.

    Args:
        X: float array of shape (n, d).
        y: float array of shape (n,).
        k: int, number of folds (2 <= k <= n); folds as in kfold_indices(n, k).
        fit: function fit(X_train, y_train) -> w, w of shape (d,). Predictions are X @ w.

    Returns:
        A Python float: the mean over the k folds of the validation MSE, where for fold i the
        model is fitted (one call of fit) on the other folds only and evaluated on fold i.
        X and y are left unchanged.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    errors = []
    for train_idx, val_idx in kfold_indices(len(y), k):
        w = fit(X[train_idx], y[train_idx])
        errors.append(mse(y[val_idx], X[val_idx] @ w))
    return float(np.mean(errors))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_cross_val_mse" points=3
# A model that always predicts 0 has validation MSE = mean of y^2 on each fold.
def _fit_zero(X, y):
    return np.zeros(X.shape[1])


_X = np.ones((6, 1))
_y = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
_cv = call(cross_val_mse, _X, _y, 3, _fit_zero)
assert_scalar(_cv, (1.0 + 4.0 + 9.0) / 3, name="cross_val_mse(ones, y, k=3, fit=zero model)")
# Fitting a constant (the mean of the training folds):
_cv = call(cross_val_mse, _X, _y, 3, lambda X, y: np.array([y.mean()]))
assert_scalar(_cv, (1.5**2 + 0.0 + 1.5**2) / 3,
              name="cross_val_mse(ones, y, k=3, fit=mean of the training targets)")
### BEGIN HIDDEN TESTS
from sklearn.model_selection import KFold as _KFold


def _ref_cv(X, y, k, fit):
    errs = []
    for tr, va in _KFold(n_splits=k).split(X):
        w = fit(X[tr], y[tr])
        errs.append(np.mean((y[va] - X[va] @ w) ** 2))
    return float(np.mean(errs))


def _ls(X, y):
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _ridge_fit(lam):
    return lambda X, y: np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


_rng = np.random.default_rng(105)
for _n, _d, _k in [(20, 3, 5), (23, 2, 4), (11, 1, 3), (10, 2, 10), (31, 4, 7), (9, 2, 2)]:
    _X = np.column_stack([np.ones(_n), _rng.normal(size=(_n, _d - 1))])
    _y = _X @ _rng.normal(size=_d) + _rng.standard_t(df=3, size=_n)  # heavy-ish noise
    for _fit_name, _fit in [("least squares", _ls), ("ridge lam=0.7", _ridge_fit(0.7)),
                            ("ridge lam=30", _ridge_fit(30.0))]:
        _expected = _ref_cv(_X, _y, _k, _fit)
        _label = f"cross_val_mse(X {_X.shape}, y, k={_k}, fit={_fit_name})"
        assert_scalar(call(cross_val_mse, _X, _y, _k, _fit), _expected, rtol=1e-8, name=_label)

# fit must be called once per fold, on the training part only: a fitting function that
# returns a different w for each training set it sees makes the result depend on that.
def _fit_first_rows(X, y):
    return np.array([y[0] + 10.0 * y[-1] + 100.0 * len(y), X[0, 1] + X[-1, 1]])


_n, _k = 14, 4
_X = np.column_stack([np.ones(_n), np.arange(_n, dtype=float) / 7.0])
_y = np.arange(_n, dtype=float) ** 2 / 10.0
_expected = _ref_cv(_X, _y, _k, _fit_first_rows)
assert_scalar(call(cross_val_mse, _X, _y, _k, _fit_first_rows), _expected, rtol=1e-10,
              name=f"cross_val_mse(X ({_n}, 2), y, k={_k}) with a fit that depends on which "
                   "training rows it gets (fit on the other folds only, in order)")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: pick λ for a degree-12 polynomial by 5-fold cross-validation.** Only the
# training set is used to choose; the test set is consulted once, at the end, to report how
# well the chosen model does on new data.

# %%
M = 12
Phi_train, Phi_test = polynomial_features(x_train, M), polynomial_features(x_test, M)
lam_grid = 10.0 ** np.arange(-8, 2)
cv_err, test_err_lam, train_err_lam = [], [], []
for lam in lam_grid:
    cv_err.append(cross_val_mse(Phi_train, y_train, 5, lambda X, y, lam=lam: fit_ridge(X, y, lam)))
    w = fit_ridge(Phi_train, y_train, lam)
    train_err_lam.append(mse(y_train, Phi_train @ w))
    test_err_lam.append(mse(y_test, Phi_test @ w))
best_lam = float(lam_grid[np.argmin(cv_err)])

fig, ax = plt.subplots()
ax.loglog(lam_grid, train_err_lam, "o-", label="train MSE")
ax.loglog(lam_grid, cv_err, "^-", label="5-fold CV MSE (used to choose)")
ax.loglog(lam_grid, test_err_lam, "s--", alpha=0.6, label="test MSE (for reference only)")
ax.axvline(best_lam, color="0.4", ls=":", label=f"chosen λ = {best_lam:g}")
ax.set(xlabel="λ", ylabel="MSE", title=f"Ridge, degree {M}: choosing λ")
ax.legend(fontsize=8)
plt.show()
w_best = fit_ridge(Phi_train, y_train, best_lam)
print(f"λ chosen by CV: {best_lam:g}; its test MSE: {mse(y_test, Phi_test @ w_best):.3f} "
      f"(least squares at degree {M}: {test_err[M]:.1f}; "
      f"best λ on this grid by test MSE: {lam_grid[np.argmin(test_err_lam)]:g})")

# %% [markdown]
# The cross-validation curve has a U shape like the test curve, although it was computed
# without a single test point, and it picks $\lambda = 10^{-3}$, one grid step from the
# $\lambda = 10^{-2}$ that the test curve would prefer. It is noisier (each fold holds only 3
# points), which is the price of a small data set. With the chosen λ the degree-12 polynomial
# has a test error of about 0.2 instead of 57.

# %% [markdown]
# **Concept check 5.** Which data should be used to choose the ridge penalty λ?
#
# - (a) the training error on all training data: pick the λ with the lowest training error
# - (b) cross-validation (or a held-out validation set) inside the training data
# - (c) the test set: pick the λ with the lowest test error
# - (d) training and test data pooled together, then cross-validation
#
# Which one? Set `q5_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q5_model_selection"
# q5_answer = "..."
### BEGIN SOLUTION
q5_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_model_selection" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_choice(q5_answer, ["a", "b", "c", "d"], name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, "b", name="q5_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 11. Two hyperparameters at once: grid search or random search?
#
# Section 10 tuned λ for a fixed degree. Usually several hyperparameters must be tuned
# together, here the degree $M$ and the penalty λ, and every trial (fit and validate) costs
# time. Two simple strategies with a budget of 16 trials:
#
# - **Grid search**: choose 4 values for each hyperparameter and try all $4 \times 4$
#   combinations. The number of trials grows as (values per hyperparameter)$^{\text{number of
#   hyperparameters}}$.
# - **Random search**: draw the 16 trials independently and uniformly from the search box.
#   Any budget works, and the search can be stopped or extended at any time.
#
# Hyperparameters that act on a multiplicative scale, like λ (or a learning rate), are
# searched in $\log_{10}\lambda$: the interesting values span many decades. When one
# hyperparameter matters much more than the other, the grid wastes its budget: it tries only 4
# distinct values of the important one (each 4 times, with different values of the unimportant
# one), while random search tries 16 distinct values of each.
#
# Implement `random_search`. Draw **every** random number from the generator `rng` you are
# given (never `np.random.*`): then the same seed gives the same trials, and the experiment
# below is reproducible.

# %% nbgrader="solution" grade_id="random_search"
def random_search(objective, low, high, n_trials, rng):
    """Random search: evaluate an objective at points drawn uniformly from a box.

    Args:
        objective: function objective(theta) -> float, theta a float64 array of shape (D,).
        low, high: float arrays of shape (D,) with low < high: the box
            [low[0], high[0]) x ... x [low[D-1], high[D-1]). Left unchanged.
        n_trials: int >= 1, the number of trials.
        rng: a numpy Generator (np.random.default_rng(seed)); the only source of randomness.

    Returns:
        (thetas, values, best):
        thetas: float64 array of shape (n_trials, D); every entry thetas[t, j] drawn
            independently and uniformly from [low[j], high[j]) (e.g. with rng.uniform).
        values: float64 array of shape (n_trials,), values[t] = objective(thetas[t]); the
            objective is called once per trial, in order.
        best: int, the index of the smallest value; if several trials tie for the smallest
            value, the first of them.
    """
    ### BEGIN SOLUTION
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    thetas = rng.uniform(low, high, size=(n_trials, low.shape[0]))
    values = np.array([float(objective(theta)) for theta in thetas])
    best = int(np.argmin(values))
    return thetas, values, best
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_random_search" points=2
def _bowl(theta):
    return float((theta[0] - 0.3) ** 2 + 0.01 * (theta[1] - 12.0) ** 2)


_low, _high = np.array([-1.0, 10.0]), np.array([1.0, 20.0])
_result = call(random_search, _bowl, _low, _high, 40, np.random.default_rng(0))
assert_that(isinstance(_result, tuple) and len(_result) == 3,
            "random_search must return a tuple (thetas, values, best)")
_thetas, _values, _best = _result
assert_shape(_thetas, (40, 2), name="thetas from random_search(bowl, box [-1, 1) x [10, 20), 40 trials)")
assert_dtype(_thetas, "f", name="thetas")
assert_that(bool(np.all((_thetas >= _low) & (_thetas < _high))),
            f"random_search: every trial must lie in the box [-1, 1) x [10, 20); got coordinates "
            f"from {np.min(_thetas, axis=0)} to {np.max(_thetas, axis=0)}")
assert_close(_values, np.array([_bowl(_t) for _t in _thetas]),
             name="values from random_search (objective(thetas[t]) for every trial t)")
assert_equal_int(_best, int(np.argmin([_bowl(_t) for _t in _thetas])),
                 name="best from random_search (index of the smallest value)")
assert_seeded(lambda rng: call(random_search, _bowl, _low, _high, 5, rng), "random_search")
### BEGIN HIDDEN TESTS
from scipy import stats as _stats

# Boxes of very different scales and dimensions, batch of one trial included.
for _lo, _hi, _n in [([-1e3], [1e3], 30), ([0.0, 0.0, 0.0], [1e-3, 1.0, 1e3], 25),
                     ([100.0, -5.0], [100.001, -4.0], 10), ([-2.0, 3.0], [-1.0, 4.0], 1)]:
    _lo, _hi = np.array(_lo), np.array(_hi)
    _label = f"random_search over the box low={_lo.tolist()}, high={_hi.tolist()}, {_n} trials"
    _thetas, _values, _best = call(random_search, lambda t: float(np.sum(t)), _lo, _hi, _n,
                                   np.random.default_rng(_n))
    assert_shape(_thetas, (_n, len(_lo)), name=f"thetas from {_label}")
    assert_that(bool(np.all((_thetas >= _lo) & (_thetas < _hi))),
                f"{_label}: trials outside the box (coordinates from {np.min(_thetas, axis=0)} "
                f"to {np.max(_thetas, axis=0)})")
    assert_shape(_values, (_n,), name=f"values from {_label}")
    assert_close(_values, np.sum(np.asarray(_thetas, dtype=float), axis=1), name=f"values from {_label}")
    assert_equal_int(_best, int(np.argmin(np.sum(_thetas, axis=1))), name=f"best from {_label}")

# The objective is called once per trial, in order, with the rows of thetas.
_seen = []


def _spy(theta):
    _seen.append(np.array(theta, dtype=float, copy=True))
    return float(theta[0])


_thetas, _values, _best = call(random_search, _spy, np.array([0.0, 1.0]), np.array([1.0, 2.0]), 7,
                               np.random.default_rng(3))
assert_that(len(_seen) == 7, f"random_search(..., n_trials=7) called the objective {len(_seen)} "
                             "times, expected 7 (once per trial)")
assert_close(np.array(_seen), _thetas, name="the points passed to the objective, in order (rows of thetas)")

# Ties: the first of the trials with the smallest value wins.
_thetas, _values, _best = call(random_search, lambda t: float(np.floor(t[0])), np.array([0.0]),
                               np.array([3.0]), 30, np.random.default_rng(8))
_first = int(np.flatnonzero(np.asarray(_values) == np.min(_values))[0])
assert_equal_int(_best, _first, name="best when several trials tie for the smallest value "
                                     "(expected the first of them)")

# Uniform and independent coordinates: many trials fill the box evenly.
_lo, _hi = np.array([-3.0, 1e-3]), np.array([5.0, 2e-3])
_thetas, _values, _best = call(random_search, lambda t: 0.0, _lo, _hi, 3000, np.random.default_rng(21))
_thetas = np.asarray(_thetas, dtype=float)
for _j in range(2):
    _p = _stats.kstest((_thetas[:, _j] - _lo[_j]) / (_hi[_j] - _lo[_j]), "uniform").pvalue
    assert_that(_p > 1e-6, f"random_search: coordinate {_j} of 3000 trials does not look uniform "
                           f"on [{_lo[_j]:g}, {_hi[_j]:g}) (Kolmogorov-Smirnov p-value {_p:.1e})")
_corr = float(np.corrcoef(_thetas.T)[0, 1])
assert_that(abs(_corr) < 0.1, f"random_search: the two coordinates of 3000 trials are correlated "
                              f"(correlation {_corr:.2f}): draw every coordinate independently")
assert_equal_int(len(np.unique(_thetas[:, 0])), 3000,
                 name="number of distinct values of coordinate 0 among 3000 trials")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: grid vs random search over (degree, λ).** The objective is the 5-fold
# cross-validation error of a ridge polynomial, $\theta = (M, \log_{10}\lambda)$, with
# $M \in \{1, \dots, 15\}$ and $\log_{10}\lambda \in [-10, 2]$. Random search draws the degree
# uniformly from $[0.5, 15.5)$ and rounds it, so each degree is equally likely. The
# background shows the whole landscape (computed on a fine grid, far more than 16 trials).

# %%
def cv_objective(theta):
    """5-fold CV error of ridge regression with degree round(theta[0]) and lambda 10**theta[1]."""
    degree, lam = int(np.rint(theta[0])), 10.0 ** theta[1]
    return cross_val_mse(polynomial_features(x_train, degree), y_train, 5,
                         lambda X, y: fit_ridge(X, y, lam))


search_low, search_high = np.array([0.5, -10.0]), np.array([15.5, 2.0])
land_degrees, land_loglam = np.arange(1, 16), np.linspace(-10, 2, 61)
landscape = np.array([[cv_objective((d, ll)) for ll in land_loglam] for d in land_degrees])

grid_trials = np.array([(d, ll) for d in np.rint(np.linspace(1, 15, 4)) for ll in np.linspace(-10, 2, 4)])
grid_values = np.array([cv_objective(t) for t in grid_trials])
rand_trials, rand_values, rand_best = random_search(cv_objective, search_low, search_high, 16,
                                                    np.random.default_rng(0))

# The same comparison for 200 different seeds of random search.
repeat_best = np.array([random_search(cv_objective, search_low, search_high, 16,
                                      np.random.default_rng(seed))[1].min() for seed in range(1, 201)])
random_wins = float(np.mean(repeat_best < grid_values.min()))

fig, (ax_land, ax_hist) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
image = ax_land.pcolormesh(land_loglam, land_degrees, np.log10(landscape), cmap="viridis_r",
                           shading="nearest", vmax=1.0)
fig.colorbar(image, ax=ax_land, label="log10 CV MSE")
ax_land.scatter(grid_trials[:, 1], grid_trials[:, 0], marker="s", s=45, facecolor="none",
                edgecolor="white", lw=1.5, clip_on=False, label=f"4 × 4 grid (best {grid_values.min():.3f})")
ax_land.scatter(rand_trials[:, 1], np.rint(rand_trials[:, 0]), marker="o", s=30, color="C1",
                edgecolor="k", clip_on=False, label=f"16 random trials (best {rand_values[rand_best]:.3f})")
ax_land.set(xlabel=r"$\log_{10}\lambda$", ylabel="degree M", title="Validation-error landscape")
ax_land.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
ax_hist.hist(repeat_best, bins=25, color="C1", alpha=0.8, label="random search, 200 seeds")
ax_hist.axvline(grid_values.min(), color="k", ls="--", label="4 × 4 grid")
ax_hist.set(xlabel="best CV MSE of 16 trials", ylabel="runs",
            title=f"Random search beats the grid in {random_wins:.0%} of runs")
ax_hist.legend(fontsize=8)
plt.show()
print(f"best CV MSE: grid {grid_values.min():.3f}, random search (seed 0) {rand_values[rand_best]:.3f} "
      f"at degree {int(np.rint(rand_trials[rand_best, 0]))}, λ = {10 ** rand_trials[rand_best, 1]:.1e}; "
      f"best on the fine landscape {landscape.min():.3f}")

# %% [markdown]
# **What the landscape says.** At a fixed degree, λ can move the validation error by more
# than three orders of magnitude (degrees 9–15); at the best λ, every degree from 3 up gives
# about the same error, 0.06–0.09. λ is the hyperparameter that matters most. The grid sees
# only four values of each: $\log_{10}\lambda \in \{-10, -6, -2, 2\}$, none of them near
# $\lambda \approx 10^{-3}$, where the high degrees do well, and the degrees $\{1, 6, 10, 15\}$,
# none of the low degrees 3–5 that do well with any small λ. Its best trial is a compromise.
# Random search tries 16 different values of λ and up to 15 different degrees, and in nearly
# every run one of them lands in a good region (for seed 0: degree 5 with a small λ). It is no
# magic — with bad luck it misses too, as the histogram's right tail shows — but for the same
# budget it explores each single hyperparameter much more finely than a grid.

# %% [markdown]
# **Concept check 6.** Here λ matters much more than the degree. Why does random search with
# 16 trials usually beat the $4 \times 4$ grid?
#
# - (a) random numbers are always better spread than evenly spaced ones
# - (b) it tries 16 different values of λ, while the grid tries only 4 (each of them 4 times)
# - (c) it evaluates more trials than the grid
# - (d) it searches λ on a log scale, the grid does not
#
# Which one? Set `q6_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q6_random_search"
# q6_answer = "..."
### BEGIN SOLUTION
q6_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q6_random_search" points=1
assert_that("q6_answer" in globals(), "q6_answer is not set yet: run its cell after answering")
assert_choice(q6_answer, ["a", "b", "c", "d"], name="q6_answer")
### BEGIN HIDDEN TESTS
assert_answer(q6_answer, "b", name="q6_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 12. Estimators, bias and variance
#
# A **point estimator** $\hat\theta = g(\mathcal{D})$ maps a data set to a guess of some true
# quantity $\theta$ (a mean, a variance, a weight vector, a prediction at a point). The data
# set is random, so $\hat\theta$ is a random variable, and we describe it by
#
# $$\mathrm{Bias}(\hat\theta) = \mathbb{E}[\hat\theta] - \theta, \qquad
#   \mathrm{Var}(\hat\theta) = \mathbb{E}\big[(\hat\theta - \mathbb{E}[\hat\theta])^2\big],$$
#
# with expectations over data sets drawn from the data distribution. Their combination is
# the estimator's mean squared error,
# $\mathbb{E}[(\hat\theta - \theta)^2] = \mathrm{Bias}(\hat\theta)^2 + \mathrm{Var}(\hat\theta)$.
#
# We rarely can compute these expectations, but we can **simulate** them: draw $S$ data sets,
# apply the estimator to each, and replace expectations by averages over the $S$ estimates
# $\hat\theta_1, \dots, \hat\theta_S$:
#
# $$\widehat{\mathrm{Bias}} = \bar\theta - \theta, \qquad
#   \widehat{\mathrm{Var}} = \frac{1}{S}\sum_{s=1}^{S} (\hat\theta_s - \bar\theta)^2, \qquad
#   \bar\theta = \frac{1}{S}\sum_{s=1}^{S}\hat\theta_s .$$

# %% nbgrader="solution" grade_id="bias_variance"
def bias_variance(estimator, datasets, true_value):
    """Bias and variance of a scalar estimator, estimated from simulated data sets.

    Args:
        estimator: function estimator(dataset) -> float.
        datasets: a sequence of S >= 1 data sets (for example a float array of shape (S, n),
            one data set per row, or a list of arrays); each element is passed unchanged to
            the estimator, once.
        true_value: float, the true value theta of the estimated quantity.

    Returns:
        (bias, variance), two Python floats:
        bias = mean of the S estimates - true_value;
        variance = mean of the squared deviations of the S estimates from their mean
        (divide by S, not S - 1).
    """
    ### BEGIN SOLUTION
    estimates = np.array([float(estimator(data)) for data in datasets])
    mean = estimates.mean()
    bias = mean - true_value
    variance = np.mean((estimates - mean) ** 2)
    return float(bias), float(variance)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_bias_variance" points=3
# Three "data sets"; the estimator returns the first number of each: estimates 1, 2, 6.
_data = np.array([[1.0, 0.0], [2.0, 0.0], [6.0, 0.0]])
_result = call(bias_variance, lambda d: d[0], _data, 2.0)
assert_that(isinstance(_result, tuple | list) and len(_result) == 2,
            "bias_variance must return a pair (bias, variance)")
assert_scalar(_result[0], 3.0 - 2.0, name="bias from estimates [1, 2, 6] with true value 2")
assert_scalar(_result[1], (4.0 + 1.0 + 9.0) / 3,
              name="variance from estimates [1, 2, 6] (divide by S = 3)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(106)


def _ref_bias_var(estimator, datasets, true_value):
    est = np.array([estimator(d) for d in datasets], dtype=float)
    return est.mean() - true_value, est.var()


for _S, _n, _theta in [(50, 5, 2.0), (7, 3, -1.0), (200, 10, 0.5), (2, 4, 3.0)]:
    _data = _rng.normal(loc=1.0, scale=2.0, size=(_S, _n))
    for _est_name, _est in [("np.mean", np.mean), ("np.var", np.var),
                            ("max", np.max), ("first value", lambda d: d[0])]:
        _rb, _rv = _ref_bias_var(_est, _data, _theta)
        _b, _v = call(bias_variance, _est, _data, _theta)
        _label = f"bias_variance({_est_name}, data of shape ({_S}, {_n}), true_value={_theta})"
        assert_scalar(_b, _rb, rtol=1e-9, atol=1e-12, name=f"bias from {_label}")
        assert_scalar(_v, _rv, rtol=1e-9, atol=1e-12, name=f"variance from {_label}")

# A single data set: variance 0.
_b, _v = call(bias_variance, np.mean, np.array([[1.0, 2.0, 3.0]]), 1.5)
assert_scalar(_b, 0.5, name="bias from a single data set")
assert_scalar(_v, 0.0, atol=1e-14, name="variance from a single data set (S = 1)")

# Data sets of different sizes in a list: the estimator gets each one, separately.
_sets = [np.ones(2), np.ones(5), np.ones(3), np.ones(10)]
_b, _v = call(bias_variance, lambda d: float(np.sum(d)), _sets, 4.0)
assert_scalar(_b, 5.0 - 4.0, name="bias for a list of data sets of sizes 2, 5, 3, 10 (estimator: sum)")
assert_scalar(_v, np.var([2.0, 5.0, 3.0, 10.0]), name="variance for a list of data sets (estimator: sum)")
# Known closed form: the mean of n standard normals has bias 0 and variance 1 / n.
_data = _rng.normal(size=(20000, 4))
_b, _v = call(bias_variance, np.mean, _data, 0.0)
assert_scalar(_b, 0.0, atol=0.03, name="bias of the sample mean of 4 N(0,1) (expected ~0)")
assert_scalar(_v, 0.25, rtol=0.05, name="variance of the sample mean of 4 N(0,1) (expected ~1/4)")
### END HIDDEN TESTS

# %% [markdown]
# ## 13. Maximum likelihood for a Gaussian
#
# Maximum likelihood chooses the parameters under which the observed data are most
# probable. For i.i.d. samples $x_1, \dots, x_N$ from $\mathcal{N}(\mu, \sigma^2)$ the
# log-likelihood is
#
# $$\log p(x_1, \dots, x_N \mid \mu, \sigma^2)
#   = -\frac{N}{2}\log(2\pi\sigma^2) - \frac{1}{2\sigma^2}\sum_{i=1}^{N}(x_i - \mu)^2 .$$
#
# Setting the derivatives with respect to $\mu$ and $\sigma^2$ to zero gives
#
# $$\hat\mu_{\mathrm{ML}} = \frac{1}{N}\sum_{i=1}^{N} x_i, \qquad
#   \hat\sigma^2_{\mathrm{ML}} = \frac{1}{N}\sum_{i=1}^{N}(x_i - \hat\mu_{\mathrm{ML}})^2 .$$
#
# Note the $\frac{1}{N}$ (not $\frac{1}{N-1}$). The same reasoning applied to
# $y \mid \mathbf{x} \sim \mathcal{N}(\mathbf{w}^\top\mathbf{x}, \sigma^2)$ with a fixed
# $\sigma$ shows that the maximum-likelihood $\mathbf{w}$ minimises
# $\sum_i (\mathbf{w}^\top\mathbf{x}_i - y_i)^2$: least squares *is* maximum likelihood under
# Gaussian noise. That is why the squared error is the default loss for regression
# (section 15 takes this further).

# %% nbgrader="solution" grade_id="gaussian_mle"
def gaussian_mle(x):
    """Maximum-likelihood mean and variance of a 1-D Gaussian sample.

    Args:
        x: float array of shape (N,), N >= 1. Left unchanged.

    Returns:
        (mu, var), two Python floats: the sample mean and the 1/N variance
        mean((x - mu) ** 2), computed in float64. Compute the variance from the deviations
        x - mu, not as mean(x**2) - mu**2, which cancels catastrophically (loses most of its
        digits) when |mu| is much larger than the spread.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    mu = x.mean()
    var = np.mean((x - mu) ** 2)
    return float(mu), float(var)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gaussian_mle" points=2
_result = call(gaussian_mle, np.array([1.0, 2.0, 3.0, 6.0]))
assert_that(isinstance(_result, tuple | list) and len(_result) == 2,
            "gaussian_mle must return a pair (mu, var)")
assert_scalar(_result[0], 3.0, name="mu from gaussian_mle([1, 2, 3, 6])")
assert_scalar(_result[1], (4.0 + 1.0 + 0.0 + 9.0) / 4, name="var from gaussian_mle([1, 2, 3, 6])")
### BEGIN HIDDEN TESTS
from scipy import stats as _stats

_rng = np.random.default_rng(107)
for _n, _loc, _scale in [(2, 0.0, 1.0), (5, 3.0, 0.5), (100, -2.0, 4.0), (1000, 10.0, 0.1),
                         (7, 0.0, 1e-3)]:
    _x = _rng.normal(_loc, _scale, size=_n)
    _loc_ref, _scale_ref = _stats.norm.fit(_x)
    _label = f"gaussian_mle(x of {_n} samples from N({_loc}, {_scale}^2))"
    _mu, _var = call(gaussian_mle, _x)
    assert_scalar(_mu, _loc_ref, rtol=1e-6, atol=1e-12, name=f"mu from {_label}")
    assert_scalar(_var, _scale_ref**2, rtol=1e-6, atol=1e-14, name=f"var from {_label}")
# One sample: the variance is 0.
_mu, _var = call(gaussian_mle, np.array([4.2]))
assert_scalar(_mu, 4.2, name="mu from gaussian_mle([4.2])")
assert_scalar(_var, 0.0, atol=1e-14, name="var from gaussian_mle([4.2]) (one sample)")
# Large offset: mean(x**2) - mu**2 cancels catastrophically here.
_x = 1e7 + _rng.normal(size=50)
_loc_ref, _scale_ref = _stats.norm.fit(_x)
_mu, _var = call(gaussian_mle, _x)
assert_scalar(_mu, _loc_ref, rtol=1e-12, name="mu from gaussian_mle(1e7 + 50 samples of N(0, 1))")
assert_scalar(_var, _scale_ref**2, rtol=1e-6,
              name="var from gaussian_mle(1e7 + 50 samples of N(0, 1)) (use the deviations x - mu)")
# Integers work.
_mu, _var = call(gaussian_mle, np.array([1, 2, 3, 4]))
assert_scalar(_var, 1.25, name="var from gaussian_mle([1, 2, 3, 4]) with an integer array")
### END HIDDEN TESTS

# %% [markdown]
# ## 14. Experiment: bias and variance by simulation
#
# **Two variance estimators.** Is the maximum-likelihood variance (divide by $N$) biased?
# Draw many data sets of size $N$ from $\mathcal{N}(0, \sigma^2 = 4)$ and compare it with the
# estimator that divides by $N - 1$, using your `bias_variance`. Theory says
# $\mathbb{E}[\hat\sigma^2_{\mathrm{ML}}] = \frac{N-1}{N}\sigma^2$, a bias of $-\sigma^2/N$
# (for any distribution with variance $\sigma^2$), and for Gaussian data the variances of the two
# estimators are $2(N-1)\sigma^4/N^2$ and $2\sigma^4/(N-1)$.

# %%
SIGMA2 = 4.0
sample_sizes = np.array([3, 5, 10, 20, 40])
sim_rng = np.random.default_rng(7)
bias_ml, bias_unbiased, var_ml, var_unbiased = [], [], [], []
for n in sample_sizes:
    data = sim_rng.normal(0.0, np.sqrt(SIGMA2), size=(4000, n))
    b, v = bias_variance(lambda d: gaussian_mle(d)[1], data, SIGMA2)
    bias_ml.append(b)
    var_ml.append(v)
    b, v = bias_variance(lambda d: np.var(d, ddof=1), data, SIGMA2)
    bias_unbiased.append(b)
    var_unbiased.append(v)

fig, (ax_b, ax_v) = plt.subplots(1, 2, figsize=(11, 3.5), layout="constrained")
ax_b.plot(sample_sizes, bias_ml, "o-", label="1/N (maximum likelihood)")
ax_b.plot(sample_sizes, bias_unbiased, "s-", label="1/(N-1)")
ax_b.plot(sample_sizes, -SIGMA2 / sample_sizes, "k:", label=r"theory $-\sigma^2/N$")
ax_b.axhline(0, color="0.7", lw=0.8)
ax_b.set(xlabel="sample size N", ylabel="bias", title="Bias of two variance estimators")
ax_b.legend(fontsize=8)
ax_v.plot(sample_sizes, var_ml, "o-", label="1/N")
ax_v.plot(sample_sizes, var_unbiased, "s-", label="1/(N-1)")
ax_v.plot(sample_sizes, 2 * (sample_sizes - 1) * SIGMA2**2 / sample_sizes**2, "k:", lw=1,
          label="theory")
ax_v.plot(sample_sizes, 2 * SIGMA2**2 / (sample_sizes - 1), "k:", lw=1)
ax_v.set(xlabel="sample size N", ylabel="variance", title="Their variance")
ax_v.legend(fontsize=8)
plt.show()

# %% [markdown]
# The $1/N$ estimator systematically underestimates $\sigma^2$ (it measures spread around the
# sample mean, which sits closer to the data than the true mean does), and the bias follows
# $-\sigma^2/N$. The $1/(N-1)$ version removes the bias but has the *larger* variance: in
# terms of mean squared error $\mathrm{Bias}^2 + \mathrm{Var}$, the biased estimator is
# actually the better one here (for Gaussian data, at every $N$). The bias of the ML estimator
# and the variance of both shrink as $N$ grows: both estimators are *consistent*.

# %% [markdown]
# **Concept check 7.** You draw $N = 5$ independent samples from a distribution with variance
# $\sigma^2 = 2$ and compute the maximum-likelihood variance $\hat\sigma^2_{\mathrm{ML}}$.
# What is its expected value $\mathbb{E}[\hat\sigma^2_{\mathrm{ML}}]$? Set `q7_answer` to a
# number.

# %% nbgrader="solution" grade_id="q7_expected_ml_variance"
# q7_answer = ...
### BEGIN SOLUTION
q7_answer = 1.6
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q7_expected_ml_variance" points=1
assert_that("q7_answer" in globals(), "q7_answer is not set yet: run its cell after answering")
assert_scalar(q7_answer, name="q7_answer")
### BEGIN HIDDEN TESTS
assert_answer(q7_answer, 1.6, name="q7_answer", rtol=1e-2)
### END HIDDEN TESTS

# %% [markdown]
# **The bias–variance trade-off of ridge regression.** Now the estimator is a whole learning
# procedure: draw 15 training points, fit a degree-9 polynomial with ridge penalty λ, and
# predict at $x_0 = 0.5$, where the truth is $\sin(\pi/2) = 1$. Repeat for 300 independent
# training sets and measure bias² and variance of that prediction for each λ.

# %%
x0 = 0.5
sim_rng = np.random.default_rng(11)
training_sets = []
for _ in range(300):
    xs = sim_rng.uniform(-1, 1, size=15)
    training_sets.append((xs, true_fn(xs) + NOISE * sim_rng.normal(size=15)))


def ridge_prediction_at_x0(dataset, lam, degree=9):
    xs, ys = dataset
    w = fit_ridge(polynomial_features(xs, degree), ys, lam)
    return (polynomial_features(np.array([x0]), degree) @ w)[0]


lam_values = 10.0 ** np.arange(-7, 3)
bias2, variance = [], []
for lam in lam_values:
    b, v = bias_variance(lambda d, lam=lam: ridge_prediction_at_x0(d, lam), training_sets,
                         true_fn(x0))
    bias2.append(b**2)
    variance.append(v)

fig, ax = plt.subplots()
ax.loglog(lam_values, bias2, "o-", label="bias²")
ax.loglog(lam_values, variance, "s-", label="variance")
ax.loglog(lam_values, np.add(bias2, variance), "k--", label="bias² + variance (MSE)")
ax.set(xlabel="λ", ylabel="error of the prediction at x₀ = 0.5",
       title="Ridge, degree 9: the bias–variance trade-off")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Small λ: the average fit is right (tiny bias) but each training set gives a very different
# curve (large variance). Large λ: the fits barely change between data sets (small variance)
# but they are all pulled towards zero, away from the truth (large bias). The total error is
# smallest in between (here at $\lambda = 10^{-2}$) — the same U shape as the capacity curve,
# now explained.

# %% [markdown]
# **Written answer (2 points).** The maximum-likelihood variance divides by $N$ and is biased.
# Explain in two to four sentences where the bias comes from, and why it is nevertheless a
# reasonable estimator to use (refer to your simulation). Write your answer in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_ml_variance" points=2
# *Model answer.* The deviations are measured from the sample mean $\hat\mu$, which is itself
# fitted to the same data and therefore lies closer to the samples than the true mean does;
# the squared deviations are systematically too small, by exactly $\sigma^2/N$ in expectation
# (one "degree of freedom" is used up by estimating $\mu$). The bias shrinks like $1/N$ and
# vanishes for large samples (the estimator is consistent), and the simulation shows that its
# variance is smaller than that of the unbiased $1/(N-1)$ version — so its mean squared error
# $\mathrm{Bias}^2 + \mathrm{Var}$ is actually lower. Unbiasedness is only one property of an
# estimator, not the goal in itself.

# %% [markdown]
# ## 15. From likelihood to losses: entropy, cross-entropy and KL divergence
#
# Section 13 found that Gaussian maximum likelihood leads to the squared error. The general
# link between likelihood and losses comes from information theory. For discrete distributions
# $p$ and $q$ over $K$ outcomes:
#
# - the **entropy** $H(p) = -\sum_k p_k \log p_k$ is the average *surprise* $-\log p_k$ of an
#   outcome drawn from $p$ (in nats with the natural log, in bits with $\log_2$). A certain
#   outcome has entropy 0, the uniform distribution the largest possible, $\log K$;
# - the **cross-entropy** $H(p, q) = -\sum_k p_k \log q_k$ is the average surprise when the
#   outcomes come from $p$ but we *believe* $q$;
# - the **Kullback–Leibler divergence**
#   $D_{\mathrm{KL}}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k} = H(p, q) - H(p)$ is the
#   extra surprise caused by believing $q$. It is $\ge 0$, equal to 0 only when $q = p$, and
#   not symmetric: $D_{\mathrm{KL}}(p \,\|\, q) \ne D_{\mathrm{KL}}(q \,\|\, p)$ in general.
#
# **Conventions.** A term with $p_k = 0$ contributes 0, whatever $q_k$ is
# ($0 \log 0 = 0$, the limit of $t \log t$ as $t \to 0$): outcomes that never happen cost
# nothing. If $p_k > 0$ but $q_k = 0$, then $H(p, q) = D_{\mathrm{KL}}(p \,\|\, q) = +\infty$:
# $q$ calls impossible what does happen.
#
# **Maximum likelihood is cross-entropy minimisation.** Let $\hat p$ be the empirical
# distribution of a data set $x_1, \dots, x_N$ (for discrete outcomes, the relative frequencies).
# The average negative log-likelihood of a model $q_\theta$ is
#
# $$-\frac1N \sum_{i=1}^N \log q_\theta(x_i) = -\sum_k \hat p_k \log q_\theta(k) = H(\hat p, q_\theta)
#   = H(\hat p) + D_{\mathrm{KL}}(\hat p \,\|\, q_\theta).$$
#
# $H(\hat p)$ does not depend on $\theta$, so maximising the likelihood, minimising the
# cross-entropy to the data and minimising the KL divergence from the data distribution to
# the model are the same thing. Each choice of output distribution gives a familiar loss:
#
# - Gaussian $y \mid \mathbf{x} \sim \mathcal{N}(f(\mathbf{x}), \sigma^2)$:
#   $-\log q = \frac{(y - f(\mathbf{x}))^2}{2\sigma^2} + \text{const}$, the **squared error**;
# - Bernoulli, $y \in \{0, 1\}$ with $q(y = 1 \mid \mathbf{x}) = \hat y$:
#   $-\log q = -y\log\hat y - (1-y)\log(1-\hat y)$, the **binary cross-entropy** (chapter 02);
# - categorical with $C$ classes, a one-hot label $p = \mathbf{e}_c$ and predicted probabilities
#   $q$: $H(\mathbf{e}_c, q) = -\log q_c$, the **cross-entropy loss** of every classifier in
#   this course (chapter 03).

# %% nbgrader="solution" grade_id="cross_entropy"
def cross_entropy(p, q):
    """Cross-entropy H(p, q) = -sum_k p_k log q_k of discrete distributions, in nats.

    Args:
        p, q: float arrays of the same shape (..., K): one distribution (non-negative entries
            summing to 1) along the last axis, e.g. shape (K,) for one pair of distributions or
            (n, K) for a batch of n pairs. Left unchanged.

    Returns:
        float64 array of shape p.shape[:-1], one cross-entropy per distribution (for inputs of
        shape (K,) a single float64 number). Natural logarithm. Terms with p_k = 0 are 0 (also
        where q_k = 0); if p_k > 0 where q_k = 0 the result is +inf. No other epsilon or
        clipping: the values must be exact.
    """
    ### BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer where p > 0
        log_q = np.log(np.where(p > 0, q, 1.0))  # 0 log 0 = 0: terms with p = 0 drop out
    return -np.sum(p * log_q, axis=-1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_cross_entropy" points=2
_p, _q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.5, 0.25])
_h = call(cross_entropy, _p, _q)
assert_scalar(_h, 1.5 * np.log(2.0), name="cross_entropy([0.5, 0.5, 0], [0.25, 0.5, 0.25])")
# A one-hot p (the label is class 1): the loss is -log q[1].
_h = call(cross_entropy, np.array([0.0, 1.0, 0.0]), np.array([0.7, 0.2, 0.1]))
assert_scalar(_h, -np.log(0.2), name="cross_entropy(one-hot [0, 1, 0], [0.7, 0.2, 0.1])")
# 0 log 0 = 0: an outcome with p = 0 costs nothing, even where q = 0.
_h = call(cross_entropy, np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.5, 0.0]))
assert_scalar(_h, np.log(2.0), name="cross_entropy([0.5, 0.5, 0], [0.5, 0.5, 0]) (0 log 0 = 0)")
# q = 0 where p > 0: infinitely surprised.
_h = call(cross_entropy, np.array([0.5, 0.5]), np.array([1.0, 0.0]))
assert_close(_h, np.inf, name="cross_entropy([0.5, 0.5], [1, 0]) (q = 0 where p > 0)")
### BEGIN HIDDEN TESTS
from scipy import stats as _stats


def _ref_ce(p, q):
    return _stats.entropy(p, axis=-1) + _stats.entropy(p, q, axis=-1)


_rng = np.random.default_rng(108)
# Batches (n, K): one value per row; non-square, square and a batch of one.
for _n, _K in [(4, 3), (3, 7), (5, 5), (1, 6), (10, 2)]:
    _p = _rng.dirichlet(np.ones(_K), size=_n)
    _q = _rng.dirichlet(np.full(_K, 0.5), size=_n)
    _p[0, 0] = 0.0
    _p[0] /= _p[0].sum()
    _expected = _ref_ce(_p, _q)
    _label = f"cross_entropy(p, q) for a batch of shape ({_n}, {_K})"
    _h = call(cross_entropy, _p, _q)
    assert_shape(_h, (_n,), name=f"{_label} (one value per row)")
    assert_close(_h, _expected, rtol=1e-10, atol=1e-12, name=_label)
# Single distributions of several sizes, with zeros in p and in q, and tiny probabilities.
for _K in [1, 2, 5, 40]:
    _p = _rng.dirichlet(np.ones(_K))
    _q = _rng.dirichlet(np.ones(_K)) * 0.9 + 0.1 * _p
    if _K > 2:
        _p[:2], _q[0] = 0.0, 0.0
        _p /= _p.sum()
        _q /= _q.sum()
    _expected = _ref_ce(_p, _q)
    assert_scalar(call(cross_entropy, _p, _q), _expected, rtol=1e-10, atol=1e-12,
                  name=f"cross_entropy(p, q) for K = {_K} with zeros in p and q")
_p, _q = np.array([1e-300, 1.0 - 1e-12, 1e-12 - 1e-300]), np.array([0.5, 1e-200, 0.5])
_expected = _ref_ce(_p, _q)
assert_scalar(call(cross_entropy, _p, _q), _expected, rtol=1e-10,
              name="cross_entropy with probabilities as small as 1e-300")
# H(p, p) is the entropy of p.
_p = _rng.dirichlet(np.ones(6))
_expected = _stats.entropy(_p)
assert_scalar(call(cross_entropy, _p, _p), _expected, rtol=1e-10, name="cross_entropy(p, p) (the entropy of p)")
# Infinite where q = 0 and p > 0, row by row in a batch.
_p = np.array([[0.2, 0.8, 0.0], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
_q = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
_expected = np.array([np.inf, np.log(2.0), np.log(2.0)])
assert_close(call(cross_entropy, _p, _q), _expected,
             name="cross_entropy on a batch with zeros (row 0: q = 0 where p > 0)")
### END HIDDEN TESTS

# %% nbgrader="solution" grade_id="kl_divergence"
def kl_divergence(p, q):
    """Kullback-Leibler divergence KL(p || q) = sum_k p_k log(p_k / q_k), in nats.

    Args:
        p, q: float arrays of the same shape (..., K), distributions along the last axis as in
            cross_entropy. Left unchanged.

    Returns:
        float64 array of shape p.shape[:-1] (a single float64 number for inputs of shape
        (K,)). Natural logarithm. Terms with p_k = 0 are 0 (also where q_k = 0); if p_k > 0
        where q_k = 0 the result is +inf. KL(p || p) is exactly 0. No epsilon or clipping.
    """
    ### BEGIN SOLUTION
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    support = p > 0
    with np.errstate(divide="ignore"):  # log(0) = -inf where p > 0 and q = 0: KL = +inf
        log_ratio = np.log(np.where(support, p, 1.0)) - np.log(np.where(support, q, 1.0))
    return np.sum(p * log_ratio, axis=-1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_kl_divergence" points=2
_p, _q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.5, 0.25])
_d = call(kl_divergence, _p, _q)
assert_scalar(_d, 0.5 * np.log(2.0), name="kl_divergence([0.5, 0.5, 0], [0.25, 0.5, 0.25])")
# Not symmetric: the other direction is a different number.
_d = call(kl_divergence, _q, _p)
assert_close(_d, np.inf, name="kl_divergence([0.25, 0.5, 0.25], [0.5, 0.5, 0]) (q = 0 where p > 0)")
_d = call(kl_divergence, np.array([0.2, 0.8]), np.array([0.5, 0.5]))
assert_scalar(_d, 0.2 * np.log(0.4) + 0.8 * np.log(1.6), name="kl_divergence([0.2, 0.8], [0.5, 0.5])")
# Identical distributions: exactly 0, also with zeros.
_d = call(kl_divergence, np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.5, 0.0]))
assert_scalar(_d, 0.0, atol=1e-15, name="kl_divergence(p, p) for p = [0.5, 0.5, 0]")
### BEGIN HIDDEN TESTS
from scipy import stats as _stats

_rng = np.random.default_rng(109)
for _n, _K in [(4, 3), (3, 7), (5, 5), (1, 6), (10, 2)]:
    _p = _rng.dirichlet(np.ones(_K), size=_n)
    _q = _rng.dirichlet(np.full(_K, 0.5), size=_n)
    _p[-1, -1] = 0.0
    _p[-1] /= _p[-1].sum()
    _expected = _stats.entropy(_p, _q, axis=-1)
    _label = f"kl_divergence(p, q) for a batch of shape ({_n}, {_K})"
    _d = call(kl_divergence, _p, _q)
    assert_shape(_d, (_n,), name=f"{_label} (one value per row)")
    assert_close(_d, _expected, rtol=1e-9, atol=1e-12, name=_label)
for _K in [1, 2, 5, 40]:
    _p = _rng.dirichlet(np.ones(_K))
    _q = _rng.dirichlet(np.ones(_K)) * 0.9 + 0.1 * _p
    if _K > 2:
        _p[:2], _q[0] = 0.0, 0.0
        _p /= _p.sum()
        _q /= _q.sum()
    _expected = _stats.entropy(_p, _q)
    assert_scalar(call(kl_divergence, _p, _q), _expected, rtol=1e-9, atol=1e-12,
                  name=f"kl_divergence(p, q) for K = {_K} with zeros in p and q")
# Nearly equal distributions: a tiny divergence (about 1e-8), still right to four digits.
_p = _rng.dirichlet(np.ones(8))
_q = _p * (1.0 + 1e-4 * _rng.normal(size=8))
_q /= _q.sum()
_expected = _stats.entropy(_p, _q)
assert_scalar(call(kl_divergence, _p, _q), _expected, rtol=1e-4, atol=1e-14,
              name="kl_divergence of two nearly equal distributions (about 1e-8)")
_expected = np.zeros(3)
_P = _rng.dirichlet(np.ones(4), size=3)
assert_close(call(kl_divergence, _P, _P), _expected, atol=1e-15, name="kl_divergence(P, P) for a batch")
# Infinite where q = 0 and p > 0, row by row.
_p = np.array([[0.2, 0.8, 0.0], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
_q = np.array([[0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
_expected = np.array([np.inf, 0.0, np.log(2.0)])
assert_close(call(kl_divergence, _p, _q), _expected, atol=1e-15,
             name="kl_divergence on a batch with zeros (row 0: q = 0 where p > 0)")
### END HIDDEN TESTS

# %% [markdown]
# **Experiment: maximum likelihood for a coin.** Flip a biased coin 100 times ($P(\text{heads})
# = 0.3$) and fit a Bernoulli model $q_\theta = (1 - \theta, \theta)$ (tails, heads). The left
# plot shows the average negative log-likelihood of the flips, computed flip by flip, and your
# `cross_entropy` between the empirical distribution $\hat p$ and $q_\theta$: the same curve.
# Its minimum is at $\theta = $ the observed frequency of heads (the maximum-likelihood
# estimate), where it equals the entropy $H(\hat p)$; the gap above that line is
# $D_{\mathrm{KL}}(\hat p \,\|\, q_\theta)$. The right plot compares both directions of the KL
# divergence between the true coin $p = (0.7, 0.3)$ and $q_\theta$.

# %%
coin_rng = np.random.default_rng(3)
flips = (coin_rng.random(100) < 0.3).astype(float)  # 1 = heads
p_hat = np.array([1.0 - flips.mean(), flips.mean()])
thetas = np.linspace(0.005, 0.995, 199)
q_theta = np.column_stack([1.0 - thetas, thetas])
avg_nll = np.array([-np.mean(flips * np.log(t) + (1.0 - flips) * np.log(1.0 - t)) for t in thetas])
ce_curve = cross_entropy(np.tile(p_hat, (len(thetas), 1)), q_theta)
kl_curve = kl_divergence(np.tile(p_hat, (len(thetas), 1)), q_theta)
p_coin = np.array([0.7, 0.3])
kl_forward = kl_divergence(np.tile(p_coin, (len(thetas), 1)), q_theta)
kl_reverse = kl_divergence(q_theta, np.tile(p_coin, (len(thetas), 1)))

fig, (ax_nll, ax_kl) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
ax_nll.plot(thetas, avg_nll, lw=3, alpha=0.4, label="average NLL of the 100 flips")
ax_nll.plot(thetas[::8], ce_curve[::8], "k.", label=r"cross_entropy($\hat p$, $q_\theta$)")
ax_nll.axhline(cross_entropy(p_hat, p_hat), color="0.5", ls=":", label=r"entropy $H(\hat p)$")
ax_nll.axvline(p_hat[1], color="C3", ls="--", label=f"MLE θ = {p_hat[1]:.2f} (frequency of heads)")
ax_nll.set(xlabel="θ = P(heads) in the model", ylabel="nats", ylim=(0, 3),
           title="Maximum likelihood = minimum cross-entropy")
ax_nll.legend(fontsize=8)
ax_kl.plot(thetas, kl_forward, label=r"KL$(p \,\|\, q_\theta)$")
ax_kl.plot(thetas, kl_reverse, label=r"KL$(q_\theta \,\|\, p)$")
ax_kl.axvline(0.3, color="0.5", ls=":")
ax_kl.set(xlabel="θ", ylabel="nats", ylim=(0, 2.5), title="KL divergence is not symmetric")
ax_kl.legend(fontsize=8)
plt.show()
print(f"max |average NLL - cross-entropy| = {np.max(np.abs(avg_nll - ce_curve)):.1e}; "
      f"cross-entropy - KL = H(p̂) = {cross_entropy(p_hat, p_hat):.4f} for every θ "
      f"(spread {np.ptp(ce_curve - kl_curve):.1e})")
print(f"at θ = 0 (a coin that never shows heads): KL(p || q) = {kl_divergence(p_coin, [1.0, 0.0])}, "
      f"KL(q || p) = {kl_divergence([1.0, 0.0], p_coin):.3f}")

# %% [markdown]
# Both KL curves vanish only at $\theta = 0.3$, but they differ elsewhere.
# $D_{\mathrm{KL}}(p \,\|\, q_\theta)$ — the direction that maximum likelihood minimises — grows
# without bound at both ends ($\theta \to 0$ or $1$), if only logarithmically: a model that
# rules out heads (or tails) is infinitely wrong about data that contain them. The reverse
# direction stays finite there (at $\theta = 0$ it is $\log(1/0.7) \approx 0.357$), because it
# averages over the model's own outcomes, and a model that never says heads is never surprised
# by its own predictions. Which direction is minimised matters when the model cannot
# match the data exactly (chapter 10's VAEs minimise the reverse one).

# %% [markdown]
# **Concept check 8.** A classifier outputs the probabilities $q = (0.15, 0.45, 0.4)$ for an
# image whose label is class 0, so $p = (1, 0, 0)$. What is its cross-entropy loss $H(p, q)$
# in nats? Set `q8_answer` to a number (three significant digits are enough).

# %% nbgrader="solution" grade_id="q8_cross_entropy"
# q8_answer = ...
### BEGIN SOLUTION
q8_answer = 1.897
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q8_cross_entropy" points=1
assert_that("q8_answer" in globals(), "q8_answer is not set yet: run its cell after answering")
assert_scalar(q8_answer, name="q8_answer")
### BEGIN HIDDEN TESTS
assert_answer(q8_answer, -np.log(0.15), name="q8_answer", rtol=5e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# - Learning problems differ by their data: supervised (regression, classification),
#   unsupervised (density estimation, clustering, dimensionality reduction), self-supervised,
#   reinforcement.
# - A model linear in its weights has a closed-form least-squares fit (normal equations);
#   features such as powers of $x$ make it fit curves.
# - Capacity (degree, or λ) trades under- against overfitting: the training error always
#   prefers more capacity, so choose capacity on held-out data — cross-validation when data are
#   scarce — and touch the test set once.
# - Ridge's penalty $\frac{\lambda}{2}\lVert\mathbf{w}\rVert^2$ keeps weights small, conditions
#   the linear system, and moves the model along the bias–variance trade-off.
# - With several hyperparameters, random search explores each of them more finely than a grid
#   with the same budget; search scale parameters like λ on a log scale.
# - Maximum likelihood minimises the cross-entropy (equivalently the KL divergence) from the
#   data to the model: Gaussian noise gives the squared error, Bernoulli and categorical outputs
#   give the cross-entropy losses. The ML variance estimate is biased but consistent.
#
# **Next chapter:** models that are *not* linear in their parameters, starting with logistic
# regression and its binary cross-entropy, have no closed-form solution. We will fit them by
# gradient descent, with gradients from a computation graph.
