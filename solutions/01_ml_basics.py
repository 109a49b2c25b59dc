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
# the penalty honestly with cross-validation, and see where the squared-error loss itself
# comes from.
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
# | 6 | `bias_variance` | bias and variance of an estimator, by simulation |
# | 7 | `gaussian_mle` | maximum-likelihood fit of a Gaussian |
#
# On the way: the **capacity curve** (training vs test error over the polynomial degree), an
# interactive **degree / λ explorer**, a handful of concept checks and two short written
# answers.
#
# **You need**: Python and numpy (arrays, broadcasting, `@`), matrix transpose and solving a
# linear system, and the expectation and variance of a random variable. No earlier chapter.
#
# **Time**: about 2–3 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong. The
# grader runs more (hidden) checks on other inputs, so make your code correct in general, not
# just for the visible examples. Do not rename the functions or change their arguments.

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
    assert_equal_int,
    assert_scalar,
    assert_shape,
    assert_that,
    call,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% [markdown]
# ## 0. The data: a noisy sine
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
# ## 1. Linear regression by the normal equations
#
# Stack the $N$ inputs as rows of a matrix $\mathbf{X} \in \mathbb{R}^{N \times D}$ and the
# targets as $\mathbf{y} \in \mathbb{R}^N$. A linear model predicts
# $\hat{\mathbf{y}} = \mathbf{X}\mathbf{w}$, and least squares picks the weights that minimise
# the sum of squared residuals
#
# $$E(\mathbf{w}) = \lVert \mathbf{X}\mathbf{w} - \mathbf{y} \rVert_2^2 .$$
#
# $E$ is a convex quadratic in $\mathbf{w}$ with gradient
# $\nabla_{\mathbf{w}} E = 2\mathbf{X}^\top\mathbf{X}\mathbf{w} - 2\mathbf{X}^\top\mathbf{y}$.
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
    np.linalg.pinv here: the point is to use the normal equations).
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.linalg.solve(X.T @ X, X.T @ y)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_fit_least_squares" points=3
# A line through (0, 1), (1, 3), (2, 5): y = 1 + 2x, with a column of ones for the bias.
_X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
_y = np.array([1.0, 3.0, 5.0])
_w = call(fit_least_squares, _X, _y)
assert_shape(_w, (2,), name="fit_least_squares(X, y) on the line example")
assert_close(_w, [1.0, 2.0], name="fit_least_squares(X, y) on the line example")

# At the minimum the gradient X^T (X w - y) vanishes, even when the data are noisy.
_rng = np.random.default_rng(1)
_X = _rng.normal(size=(20, 3))
_y = _rng.normal(size=20)
_w = call(fit_least_squares, _X, _y)
assert_shape(_w, (3,), name="fit_least_squares(X (20, 3), y)")
assert_close(_X.T @ (_X @ np.asarray(_w, dtype=float) - _y), np.zeros(3), atol=1e-9,
             name="gradient X^T (X w - y) at your w")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(101)
for _n, _d in [(5, 1), (10, 3), (50, 7), (4, 4), (3, 2), (200, 10)]:
    _X = _rng.normal(size=(_n, _d)) * _rng.uniform(0.5, 3.0, size=_d)
    _y = _rng.normal(size=_n) + 2.0
    _X0, _y0 = _X.copy(), _y.copy()
    _label = f"fit_least_squares(X {_X.shape}, y {_y.shape})"
    _w = call(fit_least_squares, _X, _y)
    _expected = np.linalg.lstsq(_X, _y, rcond=None)[0]
    assert_shape(_w, (_d,), name=_label)
    assert_that(np.asarray(_w).dtype.kind == "f",
                f"{_label}: expected a float array, got dtype {np.asarray(_w).dtype}")
    assert_close(_w, _expected, rtol=1e-6, atol=1e-9, name=_label)
    assert_close(_X, _X0, rtol=0, atol=0, name=f"{_label}: X after the call (do not modify X)")
    assert_close(_y, _y0, rtol=0, atol=0, name=f"{_label}: y after the call (do not modify y)")

# Exact fit: n == d and consistent data give zero residual.
_X = np.array([[2.0, 1.0], [1.0, 3.0]])
assert_close(call(fit_least_squares, _X, _X @ np.array([0.5, -1.5])), [0.5, -1.5],
             name="fit_least_squares on a square, exactly solvable system")

# Integer inputs must still give float weights.
_Xi = np.array([[1, 0], [1, 1], [1, 2], [1, 3]])
_yi = np.array([1, 2, 2, 4])
_w = call(fit_least_squares, _Xi, _yi)
assert_close(_w, np.linalg.lstsq(_Xi.astype(float), _yi.astype(float), rcond=None)[0],
             name="fit_least_squares with integer X and y")

# Badly conditioned X (monomials up to x^6 on [0, 1]): the fitted values and the error must
# match lstsq, even if individual weights drift a little.
_x = np.linspace(0.0, 1.0, 30)
_X = np.vander(_x, 7, increasing=True)
_y = np.cos(3 * _x) + 0.1 * _rng.normal(size=30)
_w = np.asarray(call(fit_least_squares, _X, _y), dtype=float)
_ref = np.linalg.lstsq(_X, _y, rcond=None)[0]
assert_close(_X @ _w, _X @ _ref, rtol=1e-5, atol=1e-7,
             name="fitted values X @ w on an ill-conditioned X (cond ~ 1e5)")
assert_close(np.sum((_X @ _w - _y) ** 2), np.sum((_X @ _ref - _y) ** 2), rtol=1e-6,
             name="training error ||X w - y||^2 on an ill-conditioned X")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Polynomial features
#
# A straight line cannot follow a sine. But a model only has to be linear in the **weights**,
# not in the input: map each scalar $x$ to the feature vector
#
# $$\boldsymbol{\phi}(x) = (1, x, x^2, \dots, x^M)^\top$$
#
# and fit $f(x) = \mathbf{w}^\top \boldsymbol{\phi}(x) = \sum_{j=0}^{M} w_j x^j$, a polynomial
# of degree $M$. The design matrix $\boldsymbol{\Phi}$ has one row per sample and one column per
# power, $\Phi_{ij} = x_i^{\,j}$ (a *Vandermonde* matrix), and everything from section 1 applies
# unchanged with $\mathbf{X} = \boldsymbol{\Phi}$. Note that column 0 is all ones: it is the bias.

# %% nbgrader="solution" grade_id="polynomial_features"
def polynomial_features(x, degree):
    """Monomial features of a 1-D input.

    Args:
        x: float array of shape (n,).
        degree: int M >= 0.

    Returns:
        Phi: float64 array of shape (n, M + 1) with Phi[i, j] = x[i] ** j, so the columns are
        x^0 (all ones), x^1, ..., x^M in this order.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    return x[:, None] ** np.arange(degree + 1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_polynomial_features" points=2
_Phi = call(polynomial_features, np.array([2.0, -1.0, 0.5]), 3)
assert_shape(_Phi, (3, 4), name="polynomial_features([2, -1, 0.5], degree=3)")
assert_close(_Phi, [[1, 2, 4, 8], [1, -1, 1, -1], [1, 0.5, 0.25, 0.125]],
             name="polynomial_features([2, -1, 0.5], degree=3)")
### BEGIN HIDDEN TESTS
from sklearn.preprocessing import PolynomialFeatures as _PolynomialFeatures

_rng = np.random.default_rng(102)
for _n, _deg in [(7, 0), (7, 1), (10, 2), (25, 5), (1, 4), (6, 9)]:
    _x = _rng.uniform(-2, 2, size=_n)
    _x0 = _x.copy()
    _label = f"polynomial_features(x of shape ({_n},), degree={_deg})"
    _Phi = call(polynomial_features, _x, _deg)
    assert_shape(_Phi, (_n, _deg + 1), name=_label)
    assert_that(np.asarray(_Phi).dtype.kind == "f",
                f"{_label}: expected a float array, got dtype {np.asarray(_Phi).dtype}")
    _expected = _PolynomialFeatures(degree=_deg, include_bias=True).fit_transform(_x[:, None])
    assert_close(_Phi, _expected, rtol=1e-10, atol=1e-12, name=_label)
    assert_close(_x, _x0, rtol=0, atol=0, name=f"{_label}: x after the call (do not modify x)")

# Zeros: 0 ** 0 is 1 (the bias column), 0 ** j = 0 for j > 0.
assert_close(call(polynomial_features, np.array([0.0, 3.0]), 2), [[1, 0, 0], [1, 3, 9]],
             name="polynomial_features([0, 3], degree=2)")
# Degree 0 is just the bias column.
assert_close(call(polynomial_features, np.array([5.0, -7.0, 0.0]), 0), np.ones((3, 1)),
             name="polynomial_features([5, -7, 0], degree=0)")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Mean squared error
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
        A Python float: the mean of (y_true - y_pred) ** 2 over all entries.
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
    assert_scalar(call(mse, _a, _b), _mean_squared_error(_a, _b), rtol=1e-10,
                  name=f"mse(y_true, y_pred) for shape {_shape}")
# Several axes: the mean over all entries (e.g. a batch of 4 RGB 8x8 images).
_a, _b = _rng.normal(size=(4, 3, 8, 8)), _rng.normal(size=(4, 3, 8, 8))
assert_scalar(call(mse, _a, _b), np.sum((_a - _b) ** 2) / _a.size, rtol=1e-10,
              name="mse on arrays of shape (4, 3, 8, 8) (mean over all 768 entries)")
_a, _b = _rng.normal(size=(6, 2)), _rng.normal(size=(6, 2))
assert_scalar(call(mse, _a, _b), _mean_squared_error(_a.ravel(), _b.ravel()), rtol=1e-10,
              name="mse on arrays of shape (6, 2)")
# Symmetric, and integers work.
assert_scalar(call(mse, np.array([3, 1]), np.array([1, 2])), 2.5,
              name="mse([3, 1], [1, 2]) with integer arrays")
assert_scalar(call(mse, np.array([1.0, 2.0]), np.array([3.0, 1.0])), 2.5,
              name="mse([1, 2], [3, 1]) (arguments swapped)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** You compute the MSE between a batch of predicted images and the
# target images, both of shape `(4, 3, 8, 8)` (batch, channels, height, width). By which
# number $N$ is the sum of squared differences divided? Set `q1_answer` to that integer.

# %% nbgrader="solution" grade_id="q1_mse_normalizer"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 768
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_mse_normalizer" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 768, name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Experiment: the capacity curve
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
# too simple for a sine. Around $M = 3$ the test error is close to the noise level
# $\sigma^2 = 0.0625$, which no model can beat. Beyond that the model **overfits**: it bends to
# pass near every noisy training point, the gap between train and test error (the
# *generalisation gap*) opens, and at $M = 12$ the test error is hundreds of times larger than
# the training error — the wild swings near the edges of the data are where that comes from.
#
# **Concept check 2.** At degree 12 the training MSE is tiny and the test MSE is huge. This
# is an example of
#
# - (a) underfitting: the model has too little capacity
# - (b) overfitting: the model fits the noise in the training data
# - (c) a good fit, because the training error is what the fit minimises
# - (d) a bug: the training and test errors of a correct fit are always close
#
# Set `q2_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q2_overfitting"
# q2_answer = "..."
### BEGIN SOLUTION
q2_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_overfitting" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_choice(q2_answer, ["a", "b", "c", "d"], name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, "b", name="q2_answer")
### END HIDDEN TESTS

# %% [markdown] nbgrader="answer" grade_id="written_capacity" points=2
# **Written answer (2 points).** In two to four sentences: why does the training error keep
# falling as the degree grows while the test error eventually rises? And why would it be a
# mistake to choose the degree by picking the lowest point of the *test* curve?
#
# ---
#
# *Model answer.* A model of degree $M+1$ contains every model of degree $M$, so the best
# training fit can only improve with capacity; beyond the true complexity of the signal the
# extra freedom is spent fitting the particular noise of the 15 training points, which does
# not repeat on new data, so the test error rises (overfitting). If we choose $M$ by its test
# error, the test set has been used for fitting a hyperparameter: the chosen model's test error
# is then an optimistic (biased) estimate of its error on new data. Hyperparameters must be
# chosen on a validation set or by cross-validation, and the test set used once at the end.

# %% [markdown]
# ## 5. Ridge regression
#
# Instead of lowering the degree, we can keep a flexible model and **discourage large
# weights**. Ridge regression adds an $\ell_2$ penalty with strength $\lambda \ge 0$:
#
# $$E_\lambda(\mathbf{w}) = \lVert \mathbf{X}\mathbf{w} - \mathbf{y} \rVert_2^2
#   + \lambda \lVert \mathbf{w} \rVert_2^2 .$$
#
# The same calculation as before (gradient set to zero) gives
#
# $$(\mathbf{X}^\top\mathbf{X} + \lambda \mathbf{I})\,\mathbf{w} = \mathbf{X}^\top\mathbf{y}.$$
#
# For $\lambda > 0$ the matrix $\mathbf{X}^\top\mathbf{X} + \lambda\mathbf{I}$ is always
# invertible — even with more features than samples — and better conditioned; for
# $\lambda = 0$ this is ordinary least squares.
#
# **Convention in this course:** the penalty applies to **all** weights, including the weight
# of the column of ones (the bias). That keeps the formula above exact. (Libraries such as
# scikit-learn usually leave the intercept unpenalised; with inputs in $[-1, 1]$ the difference
# is small.)

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
        w: float64 array of shape (d,) minimising ||X w - y||^2 + lam * ||w||^2.
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
assert_close(_w, [1.0], name="fit_ridge(X (3, 1), y, lam=14)")

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
    _X0, _y0 = _X.copy(), _y.copy()
    _label = f"fit_ridge(X {_X.shape}, y, lam={_lam:g})"
    _w = call(fit_ridge, _X, _y, _lam)
    assert_shape(_w, (_d,), name=_label)
    assert_that(np.asarray(_w).dtype.kind == "f",
                f"{_label}: expected a float array, got dtype {np.asarray(_w).dtype}")
    _expected = _Ridge(alpha=_lam, fit_intercept=False, solver="svd").fit(_X, _y).coef_
    assert_close(_w, _expected, rtol=1e-6, atol=1e-10, name=_label)
    assert_close(_X, _X0, rtol=0, atol=0, name=f"{_label}: X after the call (do not modify X)")
    assert_close(_y, _y0, rtol=0, atol=0, name=f"{_label}: y after the call (do not modify y)")

# lam = 0 is ordinary least squares.
_X = _rng.normal(size=(15, 4))
_y = _rng.normal(size=15)
assert_close(call(fit_ridge, _X, _y, 0.0), np.linalg.lstsq(_X, _y, rcond=None)[0], rtol=1e-6,
             atol=1e-10, name="fit_ridge(X (15, 4), y, lam=0) (must equal least squares)")
# A huge penalty shrinks w towards X^T y / lam.
_w = call(fit_ridge, _X, _y, 1e8)
assert_close(_w, _X.T @ _y / 1e8, rtol=1e-5, atol=1e-15, name="fit_ridge(X, y, lam=1e8)")
# An integer lam works too.
assert_close(call(fit_ridge, _X, _y, 2),
             _Ridge(alpha=2.0, fit_intercept=False, solver="svd").fit(_X, _y).coef_,
             rtol=1e-6, name="fit_ridge(X, y, lam=2) with an integer lam")
# Ill-conditioned monomial features (degree 10 on [0, 1]) with a small penalty.
_x = np.linspace(0.0, 1.0, 25)
_X = np.vander(_x, 11, increasing=True)
_y = np.sin(2 * np.pi * _x)
_expected = np.linalg.solve(_X.T @ _X + 1e-6 * np.eye(11), _X.T @ _y)
assert_close(call(fit_ridge, _X, _y, 1e-6), _expected, rtol=1e-5, atol=1e-8,
             name="fit_ridge(ill-conditioned X (25, 11), y, lam=1e-6)")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Experiment: how λ reshapes the capacity curve
#
# Repeat the capacity experiment with ridge regression for a few penalty strengths. With
# $\lambda = 0$ we get the least-squares curve from section 4 again.

# %%
lams = [0.0, 1e-6, 1e-3, 1e-1]
fig, (ax_test, ax_norm) = plt.subplots(1, 2, figsize=(11, 3.8))
for lam in lams:
    errs, norms = [], []
    for M in degrees:
        w = fit_ridge(polynomial_features(x_train, M), y_train, lam)
        errs.append(mse(y_test, polynomial_features(x_test, M) @ w))
        norms.append(np.linalg.norm(w))
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
# snake through the noise (right plot: $\lVert\mathbf{w}\rVert$ in the thousands for
# $\lambda = 0$). The penalty forbids exactly that, so already a tiny $\lambda$ removes most of
# the explosion at high degree, and $\lambda = 10^{-3}$ keeps the test error near its best for
# every degree above 3. Too much penalty has the opposite effect: with $\lambda = 0.1$ even
# the good degrees are pulled towards small weights and the fit gets worse — underfitting
# again. So $\lambda$ is a second, *continuous* capacity knob, and like the degree it has to be
# chosen from data (section 8).
#
# **Concept check 3.** Increasing the ridge penalty $\lambda$ (all else fixed) typically
#
# - (a) increases the bias of the fitted model and decreases its variance
# - (b) decreases the bias and increases the variance
# - (c) decreases both bias and variance
# - (d) lowers the training error
#
# Set `q3_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q3_ridge_tradeoff"
# q3_answer = "..."
### BEGIN SOLUTION
q3_answer = "a"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_ridge_tradeoff" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "a", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Explore: degree and λ
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
# ## 8. Choosing λ honestly: $k$-fold cross-validation
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
    _folds = call(kfold_indices, _n, _k)
    assert_that(not isinstance(_folds, np.ndarray) or _folds.dtype == object,
                f"kfold_indices({_n}, {_k}) must return a list of (train_idx, val_idx) pairs")
    _folds = list(_folds)
    assert_equal_int(len(_folds), _k, name=f"number of folds returned by kfold_indices({_n}, {_k})")
    _seen = []
    for _i, (_pair, (_tr_ref, _va_ref)) in enumerate(
            zip(_folds, _KFold(n_splits=_k).split(np.zeros(_n)), strict=True)):
        assert_that(len(_pair) == 2,
                    f"kfold_indices({_n}, {_k}): fold {_i} must be a pair (train_idx, val_idx)")
        _tr, _va = _pair
        assert_array_equal(_va, _va_ref, name=f"kfold_indices({_n}, {_k}): val_idx of fold {_i}")
        assert_array_equal(_tr, _tr_ref,
                           name=f"kfold_indices({_n}, {_k}): train_idx of fold {_i}")
        _seen.extend(np.asarray(_va).tolist())
    assert_array_equal(np.sort(_seen), np.arange(_n),
                       name=f"kfold_indices({_n}, {_k}): all validation indices together")
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
        model is fitted on the other folds only and evaluated on fold i.
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
    _X0, _y0 = _X.copy(), _y.copy()
    for _fit_name, _fit in [("least squares", _ls), ("ridge lam=0.7", _ridge_fit(0.7))]:
        _label = f"cross_val_mse(X {_X.shape}, y, k={_k}, fit={_fit_name})"
        assert_scalar(call(cross_val_mse, _X, _y, _k, _fit), _ref_cv(_X, _y, _k, _fit),
                      rtol=1e-8, name=_label)
    assert_close(_X, _X0, rtol=0, atol=0, name="X after cross_val_mse (do not modify X)")
    assert_close(_y, _y0, rtol=0, atol=0, name="y after cross_val_mse (do not modify y)")

# fit must be called once per fold, on the training part only.
_calls = []


def _spy_fit(X, y):
    _calls.append((np.asarray(X).copy(), np.asarray(y).copy()))
    return _ls(X, y)


_n, _k = 14, 4
_X = np.column_stack([np.ones(_n), np.arange(_n, dtype=float)])
_y = np.arange(_n, dtype=float) ** 2
call(cross_val_mse, _X, _y, _k, _spy_fit)
assert_that(len(_calls) == _k,
            f"cross_val_mse(n={_n}, k={_k}) called fit {len(_calls)} times, expected {_k} "
            "(once per fold)")
for _i, ((_Xc, _yc), (_tr, _va)) in enumerate(zip(_calls, _KFold(_k).split(_X), strict=True)):
    assert_array_equal(_yc, _y[_tr], integer=False,
                       name=f"cross_val_mse: targets passed to fit for fold {_i} "
                       f"(expected the {len(_tr)} training targets, without fold {_i})")
    assert_array_equal(_Xc, _X[_tr], integer=False,
                       name=f"cross_val_mse: inputs passed to fit for fold {_i}")
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
      f"(least squares at degree {M}: {test_err[M]:.1f})")

# %% [markdown]
# The cross-validation curve has the same U shape as the test curve and its minimum lands
# in the right region, although it was computed without a single test point. It is noisier
# (each fold holds only 3 points), which is the price of a small data set.
#
# **Concept check 4.** Which data should be used to choose the ridge penalty λ?
#
# - (a) the training error on all training data: pick the λ with the lowest training error
# - (b) cross-validation (or a held-out validation set) inside the training data
# - (c) the test set: pick the λ with the lowest test error
# - (d) training and test data pooled together, then cross-validation
#
# Set `q4_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q4_model_selection"
# q4_answer = "..."
### BEGIN SOLUTION
q4_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_model_selection" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_choice(q4_answer, ["a", "b", "c", "d"], name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, "b", name="q4_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Estimators, bias and variance
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
assert_that(len(_result) == 2, "bias_variance must return a pair (bias, variance)")
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
        _b, _v = call(bias_variance, _est, _data, _theta)
        _rb, _rv = _ref_bias_var(_est, _data, _theta)
        _label = f"bias_variance({_est_name}, data of shape ({_S}, {_n}), true_value={_theta})"
        assert_scalar(_b, _rb, rtol=1e-9, atol=1e-12, name=f"bias from {_label}")
        assert_scalar(_v, _rv, rtol=1e-9, atol=1e-12, name=f"variance from {_label}")

# A single data set: variance 0.
_b, _v = call(bias_variance, np.mean, np.array([[1.0, 2.0, 3.0]]), 1.5)
assert_scalar(_b, 0.5, name="bias from a single data set")
assert_scalar(_v, 0.0, atol=1e-14, name="variance from a single data set (S = 1)")

# Data sets of different sizes in a list, and an estimator that gets each one exactly once.
_calls = []


def _spy_estimator(d):
    _calls.append(len(d))
    return float(np.sum(d))


_sets = [np.ones(2), np.ones(5), np.ones(3), np.ones(10)]
_b, _v = call(bias_variance, _spy_estimator, _sets, 4.0)
assert_that(sorted(_calls) == [2, 3, 5, 10],
            f"bias_variance: the estimator should be called once per data set "
            f"(data sets of sizes 2, 5, 3, 10), got calls on sizes {_calls}")
assert_scalar(_b, 5.0 - 4.0, name="bias for a list of data sets of different sizes")
assert_scalar(_v, np.var([2.0, 5.0, 3.0, 10.0]), name="variance for a list of data sets")
# Known closed form: the mean of n standard normals has bias 0 and variance 1 / n.
_data = _rng.normal(size=(20000, 4))
_b, _v = call(bias_variance, np.mean, _data, 0.0)
assert_scalar(_b, 0.0, atol=0.03, name="bias of the sample mean of 4 N(0,1) (expected ~0)")
assert_scalar(_v, 0.25, rtol=0.05, name="variance of the sample mean of 4 N(0,1) (expected ~1/4)")
### END HIDDEN TESTS

# %% [markdown]
# ## 10. Maximum likelihood for a Gaussian
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
# $y \mid \mathbf{x} \sim \mathcal{N}(\mathbf{w}^\top\mathbf{x}, \sigma^2)$ shows that the
# maximum-likelihood $\mathbf{w}$ minimises $\sum_i (\mathbf{w}^\top\mathbf{x}_i - y_i)^2$:
# least squares *is* maximum likelihood under Gaussian noise. That is why the squared error
# is the default loss for regression.

# %% nbgrader="solution" grade_id="gaussian_mle"
def gaussian_mle(x):
    """Maximum-likelihood mean and variance of a 1-D Gaussian sample.

    Args:
        x: float array of shape (N,), N >= 1.

    Returns:
        (mu, var), two Python floats: the sample mean and the 1/N variance
        mean((x - mu) ** 2). Compute the variance from the deviations x - mu, not as
        mean(x**2) - mu**2, which loses all precision when |mu| is much larger than the spread.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    mu = x.mean()
    var = np.mean((x - mu) ** 2)
    return float(mu), float(var)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gaussian_mle" points=2
_result = call(gaussian_mle, np.array([1.0, 2.0, 3.0, 6.0]))
assert_that(len(_result) == 2, "gaussian_mle must return a pair (mu, var)")
assert_scalar(_result[0], 3.0, name="mu from gaussian_mle([1, 2, 3, 6])")
assert_scalar(_result[1], (4.0 + 1.0 + 0.0 + 9.0) / 4, name="var from gaussian_mle([1, 2, 3, 6])")
### BEGIN HIDDEN TESTS
from scipy import stats as _stats

_rng = np.random.default_rng(107)
for _n, _loc, _scale in [(2, 0.0, 1.0), (5, 3.0, 0.5), (100, -2.0, 4.0), (1000, 10.0, 0.1),
                         (7, 0.0, 1e-3)]:
    _x = _rng.normal(_loc, _scale, size=_n)
    _x0 = _x.copy()
    _mu, _var = call(gaussian_mle, _x)
    _loc_ref, _scale_ref = _stats.norm.fit(_x)
    _label = f"gaussian_mle(x of {_n} samples from N({_loc}, {_scale}^2))"
    assert_scalar(_mu, _loc_ref, rtol=1e-9, atol=1e-12, name=f"mu from {_label}")
    assert_scalar(_var, _scale_ref**2, rtol=1e-7, atol=1e-14, name=f"var from {_label}")
    assert_close(_x, _x0, rtol=0, atol=0, name=f"{_label}: x after the call (do not modify x)")
# One sample: the variance is 0.
_mu, _var = call(gaussian_mle, np.array([4.2]))
assert_scalar(_mu, 4.2, name="mu from gaussian_mle([4.2])")
assert_scalar(_var, 0.0, atol=1e-14, name="var from gaussian_mle([4.2]) (one sample)")
# Large offset: mean(x**2) - mu**2 cancels catastrophically here.
_x = 1e7 + _rng.normal(size=50)
_mu, _var = call(gaussian_mle, _x)
_loc_ref, _scale_ref = _stats.norm.fit(_x)
assert_scalar(_mu, _loc_ref, rtol=1e-12, name="mu from gaussian_mle(1e7 + 50 samples of N(0, 1))")
assert_scalar(_var, _scale_ref**2, rtol=1e-6,
              name="var from gaussian_mle(1e7 + 50 samples of N(0, 1)) (use the deviations x - mu)")
# Integers work.
_mu, _var = call(gaussian_mle, np.array([1, 2, 3, 4]))
assert_scalar(_var, 1.25, name="var from gaussian_mle([1, 2, 3, 4]) with an integer array")
### END HIDDEN TESTS

# %% [markdown]
# ## 11. Experiment: bias and variance by simulation
#
# **Two variance estimators.** Is the maximum-likelihood variance (divide by $N$) biased?
# Draw many data sets of size $N$ from $\mathcal{N}(0, \sigma^2 = 4)$ and compare it with the
# estimator that divides by $N - 1$, using your `bias_variance`. Theory says
# $\mathbb{E}[\hat\sigma^2_{\mathrm{ML}}] = \frac{N-1}{N}\sigma^2$, a bias of $-\sigma^2/N$.

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
# actually the better one here. Both biases vanish as $N$ grows — the ML estimator is
# *consistent*.
#
# **Concept check 5.** You draw $N = 5$ samples from a distribution with variance
# $\sigma^2 = 2$ and compute the maximum-likelihood variance $\hat\sigma^2_{\mathrm{ML}}$.
# What is its expected value $\mathbb{E}[\hat\sigma^2_{\mathrm{ML}}]$? Set `q5_answer` to a
# number.

# %% nbgrader="solution" grade_id="q5_expected_ml_variance"
# q5_answer = ...
### BEGIN SOLUTION
q5_answer = 1.6
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_expected_ml_variance" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_scalar(q5_answer, name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, 1.6, name="q5_answer", rtol=1e-2)
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
# smallest in between — the same U shape as the capacity curve, now explained.

# %% [markdown] nbgrader="answer" grade_id="written_ml_variance" points=2
# **Written answer (2 points).** The maximum-likelihood variance divides by $N$ and is biased.
# Explain in two to four sentences where the bias comes from, and why it is nevertheless a
# reasonable estimator to use (refer to your simulation).
#
# ---
#
# *Model answer.* The deviations are measured from the sample mean $\hat\mu$, which is itself
# fitted to the same data and therefore lies closer to the samples than the true mean does;
# the squared deviations are systematically too small, by exactly $\sigma^2/N$ in expectation
# (one "degree of freedom" is used up by estimating $\mu$). The bias shrinks like $1/N$ and
# vanishes for large samples (the estimator is consistent), and the simulation shows that its
# variance is smaller than that of the unbiased $1/(N-1)$ version — so its mean squared error
# $\mathrm{Bias}^2 + \mathrm{Var}$ is actually lower. Unbiasedness is only one property of an
# estimator, not the goal in itself.

# %% [markdown]
# ## Summary
#
# - A model linear in its weights has a closed-form least-squares fit (normal equations);
#   features such as powers of $x$ make it fit curves.
# - Capacity (degree, or λ) trades under- against overfitting: the training error always
#   prefers more capacity, so choose capacity on held-out data — cross-validation when data are
#   scarce — and touch the test set once.
# - Ridge's penalty keeps weights small, conditions the linear system, and moves the model
#   along the bias–variance trade-off.
# - Squared error is what maximum likelihood gives under Gaussian noise, and the ML variance
#   estimate is biased but consistent.
#
# **Next chapter:** models that are *not* linear in their parameters have no closed-form
# solution. We will fit them by gradient descent, with gradients from a computation graph.
