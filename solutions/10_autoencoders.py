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
# # Chapter 10 — PCA, autoencoders and VAEs
#
# So far every network learned from labels. This chapter learns from the data alone: find a
# short **code** $z$ for each example $x$ from which $x$ can be rebuilt. The oldest answer is
# **PCA**, the best linear code; an **autoencoder** makes the encoder and decoder small neural
# networks; a **variational autoencoder** (VAE) makes the code random and shapes its
# distribution, so that decoding a random code gives a new, plausible example — a generative
# model.
#
# **What you will build** (all in numpy, data as **(batch, features)**, layers as in chapter 03:
# `x @ W + b` with `W` of shape (in, out)):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `pca_eig`, `pca_svd`, `pca_transform`, `pca_reconstruct` | PCA two ways: covariance eigenvectors and the SVD |
# | 2 | `ae_encode`, `ae_decode`, `autoencoder_loss` | an autoencoder from chapter 03's layers, with its gradients |
# | 3 | `autoencoder_step` | one training step, plain or denoising, with chapter 05's optimizers |
# | 4 | `reparameterize`, `reparameterize_backward` | a random code you can backpropagate through |
# | 5 | `gaussian_kl` | how far the encoder's distribution is from $\mathcal{N}(0, I)$ |
# | 6 | `negative_elbo`, `vae_loss` | the VAE's objective and a whole VAE's gradients |
#
# On the way: three concept checks and a written answer. The experiments at the end show that a
# linear autoencoder trained by gradient descent finds PCA's subspace, train a VAE with a 2-D
# code on the 8×8 digits (samples, reconstructions, its ELBO over training) and a denoising
# autoencoder; a **latent-space explorer** decodes any point of the VAE's code plane live and
# walks between two digits.
#
# **You need**: chapter 03 (affine and ReLU layers, `forward -> (out, cache)`), chapter 05 (the
# optimizers' `step(grads)`), chapter 07 (`sigmoid`), and a little linear algebra (eigenvectors,
# the SVD).
#
# **Time**: about 4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against scikit-learn's `PCA` and PyTorch's autograd and
# `torch.distributions` in float64, on random shapes — one example, more features than
# examples, data far from the origin — and whether your functions leave their inputs unchanged
# and draw random numbers only from the `rng` they are given. Make your code correct in
# general, not just for the visible examples, and do not rename the functions or change their
# arguments.

# %%
import matplotlib.pyplot as plt
import numpy as np

from dllib.ch05_optimization import SGD, Adam
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

AE_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4")
VAE_KEYS = ("W1", "b1", "W_mu", "b_mu", "W_lv", "b_lv", "W3", "b3", "W4", "b4")


def check_grads(grads, expected, keys, name, rtol=1e-7, atol=1e-10):
    """Check a dict of parameter gradients against `expected` (a dict with the same keys)."""
    assert_that(isinstance(grads, dict), f"{name}: grads must be a dict, got {type(grads).__name__}")
    missing = [k for k in keys if k not in grads]
    assert_that(not missing, f"{name}: grads has no key {missing} (keys: {sorted(grads)})")
    for key in keys:
        assert_close(grads[key], expected[key], rtol=rtol, atol=atol, name=f"{name}: grads[{key!r}]")


def same_up_to_sign(components, expected, name, rtol=1e-7, atol=1e-9):
    """Check that each row of `components` equals the row of `expected` or its negative."""
    components, expected = np.asarray(components, dtype=float), np.asarray(expected, dtype=float)
    assert_shape(components, expected.shape, name=name)
    signs = np.where(np.sum(components * expected, axis=1) < 0, -1.0, 1.0)
    assert_close(components * signs[:, None], expected, rtol=rtol, atol=atol,
                 name=f"{name} (each row compared up to its sign)")


def random_ae_params(rng, D, H, K, scale=0.5):
    """Autoencoder parameters of normal entries (for tests)."""
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, K), "b2": (K,), "W3": (K, H), "b3": (H,), "W4": (H, D),
              "b4": (D,)}
    return {k: rng.normal(size=s) * scale for k, s in shapes.items()}


def random_vae_params(rng, D, H, K, scale=0.5):
    """VAE parameters of normal entries (for tests)."""
    shapes = {"W1": (D, H), "b1": (H,), "W_mu": (H, K), "b_mu": (K,), "W_lv": (H, K), "b_lv": (K,),
              "W3": (K, H), "b3": (H,), "W4": (H, D), "b4": (D,)}
    return {k: rng.normal(size=s) * scale for k, s in shapes.items()}


# %% [markdown]
# ## 1. PCA, two ways
#
# Centre the data $X \in \mathbb{R}^{N \times D}$ (one example per row) by its mean
# $\bar x$; its **covariance** is $C = \frac{1}{N-1} (X - \bar x)^\top (X - \bar x)$, a symmetric
# $D \times D$ matrix. The **principal components** are the unit eigenvectors $v_1, v_2, \dots$
# of $C$, sorted by their eigenvalues $\lambda_1 \ge \lambda_2 \ge \dots$; $\lambda_i$ is the
# variance of the data along $v_i$ (the **explained variance**). The first $k$ components span
# the $k$-dimensional subspace that keeps the most variance — and, equivalently, the one whose
# projection loses the least squared distance: these are the **variance view** and the
# **reconstruction view** of PCA.
#
# We divide by $N - 1$ as scikit-learn's `PCA` does (the unbiased estimate; chapter 01). The
# components do not depend on it; the variances do.
#
# `np.linalg.eigh` is made for symmetric matrices: it returns the eigenvalues in **ascending**
# order and the eigenvectors as the **columns** of its second result. The sign of an
# eigenvector is arbitrary ($-v$ is one too): the tests accept either.

# %% nbgrader="solution" grade_id="pca_eig" export=true
def pca_eig(X, k):
    """PCA by the eigendecomposition of the covariance matrix.

    Args:
        X: float64 array (N, D), one example per row, N >= 2.
        k: number of components, 1 <= k <= D.

    Returns:
        components: float64 array (k, D), the unit eigenvectors of the covariance as rows, by
            decreasing eigenvalue (each row's sign is free).
        explained_variance: float64 array (k,), those eigenvalues (covariance divided by N - 1),
            decreasing.
        mean: float64 array (D,), the mean of the rows of X.
        X stays unchanged.
    """
    ### BEGIN SOLUTION
    mean = X.mean(axis=0)
    Xc = X - mean
    cov = Xc.T @ Xc / (len(X) - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1][:k]
    return vectors[:, order].T, values[order], mean
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_pca_eig" points=3
_X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) + np.array([5.0, -3.0])
_comp, _var, _mean = unpack(call(pca_eig, _X, 2), 3, "pca_eig")
assert_close(_mean, [5.0, -3.0], name="pca_eig(4 points around (5, -3)): mean")
same_up_to_sign(_comp, [[1.0, 0.0], [0.0, 1.0]], name="pca_eig(points spread 2 along x, 1 along y): components")
assert_close(_var, [8 / 3, 2 / 3], name="pca_eig(...): explained variance (sum of squares / (N - 1), decreasing)")
_comp, _var, _mean = unpack(call(pca_eig, np.array([[1.0, 1.0], [3.0, 3.0], [2.0, 2.0]]), 1), 3, "pca_eig")
assert_shape(_comp, (1, 2), name="pca_eig(3 points on a diagonal line, k=1): components")
same_up_to_sign(_comp, [[np.sqrt(0.5), np.sqrt(0.5)]], name="pca_eig(3 points on the line y = x, k=1): components")
### BEGIN HIDDEN TESTS
from sklearn.decomposition import PCA as _PCA

_rng = np.random.default_rng(1001)
for _N, _D, _k, _offset in [(2, 3, 1, 0.0), (5, 3, 3, 10.0), (40, 6, 2, -50.0), (9, 12, 4, 3.0), (200, 8, 8, 1.0)]:
    _X = (_rng.normal(size=(_N, _D)) * np.linspace(3.0, 0.3, _D)) @ np.linalg.qr(_rng.normal(size=(_D, _D)))[0] + _offset
    _ref = _PCA(n_components=_k, svd_solver="full").fit(_X)
    _label = f"pca_eig(X of shape {(_N, _D)} around {_offset}, k={_k})"
    _comp, _var, _mean = unpack(call(pca_eig, _X, _k), 3, "pca_eig")
    assert_close(_mean, _ref.mean_, rtol=1e-10, atol=1e-10, name=f"{_label}: mean")
    assert_close(_var, _ref.explained_variance_, rtol=1e-8, atol=1e-10,
                 name=f"{_label}: explained variance against sklearn's PCA")
    same_up_to_sign(_comp, _ref.components_, rtol=1e-6, atol=1e-7, name=f"{_label}: components against sklearn's PCA")
### END HIDDEN TESTS

# %% [markdown]
# **The SVD view.** Write the centred data as $X_c = U S V^\top$ (`np.linalg.svd(Xc,
# full_matrices=False)` returns `U`, the singular values `S` in decreasing order, and `Vt` $=
# V^\top$). Then $X_c^\top X_c = V S^2 V^\top$: the right singular vectors — the **rows** of
# `Vt` — are the eigenvectors of the covariance, with eigenvalues $s_i^2 / (N - 1)$. This is how
# scikit-learn computes PCA: it never forms $C$, which squares the condition number.
# (`U` is $N \times r$: its columns live in the space of the examples, not of the features.)

# %% nbgrader="solution" grade_id="pca_svd" export=true
def pca_svd(X, k):
    """PCA by the singular value decomposition of the centred data.

    Args:
        X: float64 array (N, D), N >= 2; k: 1 <= k <= min(N, D).

    Returns:
        components (k, D), explained_variance (k,), mean (D,): as pca_eig (float64; each row's
        sign is free). X stays unchanged.
    """
    ### BEGIN SOLUTION
    mean = X.mean(axis=0)
    _, S, Vt = np.linalg.svd(X - mean, full_matrices=False)
    return Vt[:k], S[:k] ** 2 / (len(X) - 1), mean
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_pca_svd" points=3
_X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) + np.array([5.0, -3.0])
_comp, _var, _mean = unpack(call(pca_svd, _X, 2), 3, "pca_svd")
assert_close(_mean, [5.0, -3.0], name="pca_svd(4 points around (5, -3)): mean")
same_up_to_sign(_comp, [[1.0, 0.0], [0.0, 1.0]], name="pca_svd(points spread 2 along x, 1 along y): components")
assert_close(_var, [8 / 3, 2 / 3], name="pca_svd(...): explained variance (s_i^2 / (N - 1))")
_rng = np.random.default_rng(0)
_X = _rng.normal(size=(30, 5)) * [3.0, 2.0, 1.0, 0.5, 0.1] + 4.0
_ve, _ce = np.linalg.eigh(np.cov(_X, rowvar=False))
_cs, _vs, _ = unpack(call(pca_svd, _X, 3), 3, "pca_svd")
same_up_to_sign(_cs, _ce[:, ::-1][:, :3].T, name="pca_svd(30 x 5 data, k=3): components against the "
                "covariance's eigenvectors")
assert_close(_vs, _ve[::-1][:3], name="pca_svd(30 x 5 data, k=3): explained variance against the covariance's "
             "eigenvalues")
### BEGIN HIDDEN TESTS
from sklearn.decomposition import PCA as _PCA

_rng = np.random.default_rng(1002)
for _N, _D, _k, _offset in [(2, 3, 1, 0.0), (5, 3, 3, 10.0), (40, 6, 2, -50.0), (6, 9, 5, 3.0), (200, 8, 8, 1.0),
                            (7, 7, 4, 0.5)]:
    _X = (_rng.normal(size=(_N, _D)) * np.linspace(3.0, 0.3, _D)) @ np.linalg.qr(_rng.normal(size=(_D, _D)))[0] + _offset
    _ref = _PCA(n_components=_k, svd_solver="full").fit(_X)
    _label = f"pca_svd(X of shape {(_N, _D)} around {_offset}, k={_k})"
    _comp, _var, _mean = unpack(call(pca_svd, _X, _k), 3, "pca_svd")
    assert_close(_mean, _ref.mean_, rtol=1e-10, atol=1e-10, name=f"{_label}: mean")
    assert_close(_var, _ref.explained_variance_, rtol=1e-8, atol=1e-10,
                 name=f"{_label}: explained variance against sklearn's PCA")
    same_up_to_sign(_comp, _ref.components_, rtol=1e-6, atol=1e-7, name=f"{_label}: components against sklearn's PCA")
### END HIDDEN TESTS

# %% [markdown]
# **Projecting and rebuilding.** With the components $W$ (shape $(k, D)$, orthonormal rows) the
# code of $x$ is its coordinates along them, $z = W (x - \bar x)$; the columns of the codes are
# uncorrelated, with the explained variances as their variances. Mapping the code back gives
# the **reconstruction** $\hat x = \bar x + W^\top W (x - \bar x)$, the point of the subspace
# through $\bar x$ closest to $x$. For a batch of rows: $Z = (X - \bar x) W^\top$ and
# $\hat X = \bar x + (X - \bar x) W^\top W$. Always use the mean PCA was fitted with: new data
# (a test set, a single example) are centred by it, not by their own mean.

# %% nbgrader="solution" grade_id="pca_project" export=true
def pca_transform(X, mean, components):
    """Codes of the rows of X: Z = (X - mean) @ components.T.

    Args:
        X: float64 array (N, D); mean: (D,), the mean PCA was fitted with; components: (k, D)
            with orthonormal rows.

    Returns:
        Z: float64 array (N, k), one code per row of X. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    return (X - mean) @ components.T
    ### END SOLUTION


def pca_reconstruct(X, mean, components):
    """The rows of X projected onto the PCA subspace: mean + (X - mean) @ components.T @ components.

    Args:
        X: float64 array (N, D); mean: (D,), the mean PCA was fitted with; components: (k, D).

    Returns:
        X_hat: float64 array (N, D). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    return mean + (X - mean) @ components.T @ components
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_pca_project" points=2
_W = np.array([[0.6, 0.8, 0.0]])
_X = np.array([[1.0, 2.0, 3.0], [6.0, 10.0, 1.0]])
_Z = call(pca_transform, _X, np.array([1.0, 2.0, 0.0]), _W)
assert_shape(_Z, (2, 1), name="pca_transform(2 points in 3-D, one component)")
assert_close(_Z, [[0.0], [9.4]], name="pca_transform(2 points, mean (1, 2, 0), one component (0.6, 0.8, 0))")
_Xh = call(pca_reconstruct, _X, np.array([1.0, 2.0, 0.0]), _W)
assert_close(_Xh, [[1.0, 2.0, 0.0], [6.64, 9.52, 0.0]], name="pca_reconstruct(the same 2 points)")
### BEGIN HIDDEN TESTS
from sklearn.decomposition import PCA as _PCA

_rng = np.random.default_rng(1003)
for _N, _D, _k in [(1, 3, 1), (12, 5, 2), (50, 9, 9), (30, 6, 3), (2, 4, 3)]:
    _fit = _rng.normal(size=(60, _D)) * np.linspace(2.0, 0.5, _D) + _rng.normal(size=_D) * 5
    _ref = _PCA(n_components=_k, svd_solver="full").fit(_fit)
    _X = _rng.normal(size=(_N, _D)) * 2 + _ref.mean_ + 3.0
    _Z = call(pca_transform, _X, _ref.mean_, _ref.components_)
    assert_shape(_Z, (_N, _k), name=f"pca_transform(X {(_N, _D)}, k={_k})")
    assert_close(_Z, _ref.transform(_X), rtol=1e-9, atol=1e-10,
                 name=f"pca_transform(X {(_N, _D)}, k={_k}) against sklearn's PCA.transform")
    _Xh = call(pca_reconstruct, _X, _ref.mean_, _ref.components_)
    assert_close(_Xh, _ref.inverse_transform(_ref.transform(_X)), rtol=1e-9, atol=1e-10,
                 name=f"pca_reconstruct(X {(_N, _D)}, k={_k}) against sklearn's PCA.inverse_transform(transform(X))")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** You run PCA on $N = 10$ images of $D = 64$ pixels each. At most how
# many of the 64 eigenvalues of the covariance can be larger than 0? (Think of the rank of the
# centred data.) Set `q1_answer` to that number.

# %% nbgrader="solution" grade_id="q1_rank"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 9
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_rank" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 9, name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. An autoencoder from chapter 03's layers
#
# An **autoencoder** is a network trained to output its own input through a narrow middle
# layer. The **encoder** maps $x \in \mathbb{R}^D$ to a code $z \in \mathbb{R}^K$ with $K < D$,
# the **decoder** maps it back; the loss is the reconstruction error. Ours has one hidden ReLU
# layer of width $H$ on each side and linear code and output layers:
#
# $$z = \mathrm{ReLU}(x W_1 + b_1)\, W_2 + b_2, \qquad \hat x = \mathrm{ReLU}(z W_3 + b_3)\, W_4 + b_4,$$
#
# $$L = \frac{1}{N D} \sum_{n, d} (\hat x_{nd} - t_{nd})^2 \qquad \text{(PyTorch's `F.mse_loss`)},$$
#
# where $t$ is the **target** — the input itself for a plain autoencoder. Build it from
# `affine_forward`/`affine_backward` and `relu_forward`/`relu_backward` (already imported from
# chapter 03's reference): the backward pass is those layers' backward functions in reverse
# order. `params` holds `W1` (D, H), `b1` (H,), `W2` (H, K), `b2` (K,), `W3` (K, H), `b3` (H,),
# `W4` (H, D), `b4` (D,).

# %% nbgrader="solution" grade_id="autoencoder" export=true
from dllib.ch03_mlp import affine_backward, affine_forward, relu_backward, relu_forward


def ae_encode(params, x):
    """The code z = relu(x W1 + b1) W2 + b2.

    Args:
        params: dict of float64 arrays with (at least) W1 (D, H), b1 (H,), W2 (H, K), b2 (K,).
        x: float64 array (N, D).

    Returns:
        z: float64 array (N, K). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    h, _ = relu_forward(affine_forward(x, params["W1"], params["b1"])[0])
    return affine_forward(h, params["W2"], params["b2"])[0]
    ### END SOLUTION


def ae_decode(params, z):
    """The reconstruction x_hat = relu(z W3 + b3) W4 + b4.

    Args:
        params: dict of float64 arrays with (at least) W3 (K, H), b3 (H,), W4 (H, D), b4 (D,).
        z: float64 array (N, K).

    Returns:
        x_hat: float64 array (N, D). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    h, _ = relu_forward(affine_forward(z, params["W3"], params["b3"])[0])
    return affine_forward(h, params["W4"], params["b4"])[0]
    ### END SOLUTION


def autoencoder_loss(params, x, target):
    """Mean squared reconstruction error of the autoencoder and its gradients.

    Args:
        params: dict with W1, b1, W2, b2, W3, b3, W4, b4 (float64, shapes as above).
        x: float64 array (N, D), the input; target: float64 array (N, D), what x_hat should be.

    Returns:
        loss: a Python float, the mean over all N * D entries of (x_hat - target) ** 2.
        grads: dict with the keys of params (those eight), each the gradient of loss with respect
            to that parameter, of its shape. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    a1, c1 = affine_forward(x, params["W1"], params["b1"])
    h1, r1 = relu_forward(a1)
    z, c2 = affine_forward(h1, params["W2"], params["b2"])
    a3, c3 = affine_forward(z, params["W3"], params["b3"])
    h3, r3 = relu_forward(a3)
    x_hat, c4 = affine_forward(h3, params["W4"], params["b4"])
    diff = x_hat - target
    loss = float(np.mean(diff**2))
    dh3, dW4, db4 = affine_backward(2.0 * diff / diff.size, c4)
    dz, dW3, db3 = affine_backward(relu_backward(dh3, r3), c3)
    dh1, dW2, db2 = affine_backward(dz, c2)
    _, dW1, db1 = affine_backward(relu_backward(dh1, r1), c1)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3, "W4": dW4, "b4": db4}
    return loss, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_autoencoder" points=4
_p = {"W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2), "W2": np.array([[2.0], [-3.0]]), "b2": np.array([0.5]),
      "W3": np.array([[1.0, -1.0]]), "b3": np.array([0.0, 1.0]), "W4": np.array([[1.0], [2.0]]), "b4": np.array([0.0])}
_z = call(ae_encode, _p, np.array([[2.0], [-1.0]]))
assert_close(_z, [[4.5], [-2.5]], name="ae_encode(D=1, H=2, K=1; x = [[2], [-1]])")
_xh = call(ae_decode, _p, np.array([[4.5], [-2.5]]))
assert_close(_xh, [[4.5], [7.0]], name="ae_decode(codes [[4.5], [-2.5]])")
_loss, _g = unpack(call(autoencoder_loss, _p, np.array([[2.0], [-1.0]]), np.array([[2.0], [-1.0]])), 2,
                   "autoencoder_loss")
assert_scalar(_loss, name="autoencoder_loss(x = target = [[2], [-1]])")
assert_close(_loss, (2.5**2 + 8.0**2) / 2, name="autoencoder_loss(x = target = [[2], [-1]]): mean squared error")
from helpers.gradcheck import numerical_gradient_array as _num

_rng = np.random.default_rng(0)
_p = random_ae_params(_rng, 5, 4, 2)
_x, _t = _rng.normal(size=(3, 5)), _rng.normal(size=(3, 5))
_loss, _g = unpack(call(autoencoder_loss, _p, _x, _t), 2, "autoencoder_loss")
_num_g = {k: _num(lambda w, k=k: np.array(autoencoder_loss({**_p, k: w}, _x, _t)[0]), _p[k].copy(), np.array(1.0))
          for k in AE_KEYS}
check_grads(_g, _num_g, AE_KEYS, "autoencoder_loss(D=5, H=4, K=2, N=3) against numerical gradients", rtol=1e-5,
            atol=1e-8)
### BEGIN HIDDEN TESTS
import torch as _torch


def _torch_ae(p, x):
    z = _torch.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return z, _torch.relu(z @ p["W3"] + p["b3"]) @ p["W4"] + p["b4"]


_rng = np.random.default_rng(1004)
for _N, _D, _H, _K in [(1, 3, 2, 1), (7, 6, 5, 2), (16, 10, 8, 3), (4, 2, 6, 4)]:
    _p = random_ae_params(_rng, _D, _H, _K)
    _x, _t = _rng.normal(size=(_N, _D)), _rng.normal(size=(_N, _D)) * 2
    _tp = {k: _torch.tensor(v, requires_grad=True) for k, v in _p.items()}
    _tz, _txh = _torch_ae(_tp, _torch.tensor(_x))
    _tl = _torch.nn.functional.mse_loss(_txh, _torch.tensor(_t))
    _tl.backward()
    _label = f"autoencoder (N={_N}, D={_D}, H={_H}, K={_K})"
    assert_close(call(ae_encode, _p, _x), _tz.detach().numpy(), rtol=1e-10, atol=1e-12, name=f"ae_encode, {_label}")
    assert_close(call(ae_decode, _p, _tz.detach().numpy()), _txh.detach().numpy(), rtol=1e-10, atol=1e-12,
                 name=f"ae_decode, {_label}")
    _loss, _g = unpack(call(autoencoder_loss, _p, _x, _t), 2, "autoencoder_loss")
    assert_close(_loss, _tl.item(), rtol=1e-10, atol=1e-12, name=f"autoencoder_loss, {_label}: loss against torch")
    check_grads(_g, {k: v.grad.numpy() for k, v in _tp.items()}, AE_KEYS,
                f"autoencoder_loss, {_label}: against torch autograd")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Training steps, plain and denoising
#
# One training step: compute the loss and gradients on a batch and hand the gradients to an
# optimizer of chapter 05 (`optimizer.step(grads)` updates the parameter arrays it was built
# with, in place). A **denoising autoencoder** (Vincent et al., 2008) gets a **corrupted**
# input, here $\tilde x = x + \sigma \varepsilon$ with $\varepsilon \sim \mathcal{N}(0, I)$,
# and must rebuild the **clean** $x$: it cannot just copy its input, so it has to learn what
# digits look like. Draw the noise with one call, `noise_std * rng.standard_normal(x.shape)`,
# and only when `noise_std > 0`.

# %% nbgrader="solution" grade_id="autoencoder_step" export=true
def autoencoder_step(params, optimizer, x, noise_std=0.0, rng=None):
    """One training step of a (denoising) autoencoder.

    Args:
        params: dict of the eight autoencoder arrays (as for autoencoder_loss); the optimizer
            holds these same arrays and updates them.
        optimizer: an optimizer of chapter 05 built on params (it has a step(grads) method).
        x: float64 array (N, D), a batch of clean examples (not modified).
        noise_std: float >= 0; if > 0, the input is x + noise_std * rng.standard_normal(x.shape)
            (one draw) and the target is still the clean x.
        rng: a numpy Generator, used only when noise_std > 0.

    Returns:
        loss: a Python float, the loss before the update. params is updated by optimizer.step.
    """
    ### BEGIN SOLUTION
    inputs = x + noise_std * rng.standard_normal(x.shape) if noise_std > 0 else x
    loss, grads = autoencoder_loss(params, inputs, x)
    optimizer.step(grads)
    return loss
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_autoencoder_step" points=3
_rng = np.random.default_rng(0)
_p = random_ae_params(_rng, 4, 3, 2)
_x = _rng.normal(size=(5, 4))
_loss_ref, _g = autoencoder_loss(_p, _x, _x)
_expected = {k: v - 0.1 * _g[k] for k, v in _p.items()}
_loss = call_updating(autoencoder_step, "params", _p, SGD(_p, lr=0.1), _x)
assert_scalar(_loss, name="autoencoder_step(plain, SGD lr=0.1)")
assert_close(_loss, _loss_ref, name="autoencoder_step(plain): the loss before the update")
for _k in AE_KEYS:
    assert_close(_p[_k], _expected[_k], name=f"autoencoder_step(plain, SGD lr=0.1): params[{_k!r}] after the step")
_p = random_ae_params(_rng, 4, 3, 2)
assert_seeded(lambda rng: call_updating(autoencoder_step, "params", {k: v.copy() for k, v in _p.items()},
                                        SGD({k: v.copy() for k, v in _p.items()}, lr=0.1), _x, 0.5, rng),
              "autoencoder_step(noise_std=0.5)")
_noisy = _x + 0.5 * np.random.default_rng(3).standard_normal(_x.shape)
_loss_ref, _g = autoencoder_loss(_p, _noisy, _x)
_loss = call_updating(autoencoder_step, "params", _p, SGD(_p, lr=0.1), _x, 0.5, np.random.default_rng(3))
assert_close(_loss, _loss_ref, name="autoencoder_step(noise_std=0.5): the loss of the noisy input against the clean x")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(1005)
for _N, _D, _H, _K, _sigma, _opt in [(1, 3, 2, 1, 0.0, "sgd"), (6, 5, 4, 2, 0.3, "sgd"), (8, 6, 5, 3, 1.5, "adam"),
                                     (3, 4, 4, 2, 0.0, "adam")]:
    _p = random_ae_params(_rng, _D, _H, _K)
    _x = _rng.normal(size=(_N, _D)) + 2.0
    _inp = _x + _sigma * np.random.default_rng(_N).standard_normal(_x.shape) if _sigma > 0 else _x
    _tp = {k: _torch.tensor(v, requires_grad=True) for k, v in _p.items()}
    _z = _torch.relu(_torch.tensor(_inp) @ _tp["W1"] + _tp["b1"]) @ _tp["W2"] + _tp["b2"]
    _xh = _torch.relu(_z @ _tp["W3"] + _tp["b3"]) @ _tp["W4"] + _tp["b4"]
    _tl = _torch.nn.functional.mse_loss(_xh, _torch.tensor(_x))
    _tl.backward()
    _topt = (_torch.optim.SGD(list(_tp.values()), lr=0.05) if _opt == "sgd"
             else _torch.optim.Adam(list(_tp.values()), lr=0.01))
    _topt.step()
    _ours = SGD(_p, lr=0.05) if _opt == "sgd" else Adam(_p, lr=0.01)
    _label = f"autoencoder_step(N={_N}, D={_D}, H={_H}, K={_K}, noise_std={_sigma}, {_opt})"
    _loss = call_updating(autoencoder_step, "params", _p, _ours, _x, _sigma,
                          np.random.default_rng(_N) if _sigma > 0 else None)
    assert_close(_loss, _tl.item(), rtol=1e-10, atol=1e-12, name=f"{_label}: loss against torch")
    for _k in AE_KEYS:
        assert_close(_p[_k], _tp[_k].detach().numpy(), rtol=1e-9, atol=1e-12,
                     name=f"{_label}: params[{_k!r}] after the step, against torch.optim")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** A **linear** autoencoder ($\hat x = x W_e W_d$, no activations, no
# biases, centred data) with a code of size $k$ is trained to its minimum squared error. What
# does it learn?
#
# - `"a"`: $W_e$ holds exactly the first $k$ principal components, in order;
# - `"b"`: the columns of $W_d^\top$ span the same subspace as the first $k$ principal
#   components, but need not be those components (any invertible mix of them is as good);
# - `"c"`: something unrelated to PCA: gradient descent finds a local minimum;
# - `"d"`: the identity, since $k$ outputs are enough to copy the input.
#
# Set `q2_answer` to the letter of the right answer.

# %% nbgrader="solution" grade_id="q2_linear_ae"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_linear_ae" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_choice(q2_answer, ["a", "b", "c", "d"], name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, "b", name="q2_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Variational autoencoders: the reparameterization trick
#
# An autoencoder's codes lie wherever training put them: decode a random point and you get
# noise. A **VAE** (Kingma and Welling, 2014) makes the encoder output a distribution,
# $q(z \mid x) = \mathcal{N}\big(\mu(x), \operatorname{diag} \sigma^2(x)\big)$, trains the decoder
# on codes **sampled** from it, and pulls every $q(z \mid x)$ towards the prior
# $p(z) = \mathcal{N}(0, I)$. After training, $z \sim \mathcal{N}(0, I)$ decodes to new examples.
#
# The encoder predicts $\mu$ and the **log-variance** $\log \sigma^2$ (any real number; the
# variance $\sigma^2 = e^{\log\sigma^2}$ stays positive). Sampling is not differentiable — but
# written as
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \sigma = e^{\frac12 \log \sigma^2},
#   \qquad \varepsilon \sim \mathcal{N}(0, I),$$
#
# the randomness sits in $\varepsilon$, which does not depend on the parameters, and $z$ is a
# smooth function of $\mu$ and $\log\sigma^2$: the **reparameterization trick**. Draw
# $\varepsilon$ with one call `rng.standard_normal(mu.shape)`. The backward pass gets
# $\partial L / \partial z$ and returns $\partial L / \partial \mu$ and $\partial L / \partial
# \log \sigma^2$ (mind the $\frac12$).

# %% nbgrader="solution" grade_id="reparameterize" export=true
def reparameterize(mu, log_var, rng):
    """A sample z = mu + exp(log_var / 2) * eps of N(mu, diag(exp(log_var))).

    Args:
        mu, log_var: float64 arrays (N, K).
        rng: a numpy Generator; eps is rng.standard_normal(mu.shape), its only draw.

    Returns:
        z: float64 array (N, K).
        cache: what reparameterize_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    eps = rng.standard_normal(mu.shape)
    std = np.exp(0.5 * log_var)
    return mu + std * eps, (std, eps)
    ### END SOLUTION


def reparameterize_backward(dz, cache):
    """Gradients through reparameterize.

    Args:
        dz: float64 array (N, K), dL/dz; cache: from reparameterize.

    Returns:
        (dmu, dlog_var): float64 arrays (N, K).
    """
    ### BEGIN SOLUTION
    std, eps = cache
    return dz.copy(), dz * eps * std * 0.5
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_reparameterize" points=3
_z, _cache = unpack(call(reparameterize, np.array([[1.0, -2.0]]), np.array([[0.0, np.log(4.0)]]),
                         np.random.default_rng(0)), 2, "reparameterize")
_eps = np.random.default_rng(0).standard_normal((1, 2))
assert_close(_z, [[1.0 + _eps[0, 0], -2.0 + 2.0 * _eps[0, 1]]],
             name="reparameterize(mu=[[1, -2]], log_var=[[0, ln 4]], default_rng(0)): z = mu + sigma eps")
assert_seeded(lambda rng: call(reparameterize, np.zeros((3, 2)), np.zeros((3, 2)), rng)[0],
              "reparameterize(zeros (3, 2))")
_dmu, _dlv = unpack(call(reparameterize_backward, np.array([[1.0, 3.0]]), _cache), 2, "reparameterize_backward")
assert_close(_dmu, [[1.0, 3.0]], name="reparameterize_backward(dz=[[1, 3]]): dmu")
assert_close(_dlv, [[0.5 * _eps[0, 0], 3.0 * 0.5 * 2.0 * _eps[0, 1]]],
             name="reparameterize_backward(dz=[[1, 3]]): dlog_var = dz * eps * sigma / 2")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(1006)
for _N, _K, _scale in [(1, 1, 1.0), (4, 3, 1.0), (20, 2, 3.0), (2, 7, 0.1)]:
    _mu, _lv = _rng.normal(size=(_N, _K)) * _scale, _rng.normal(size=(_N, _K)) * _scale
    _eps = np.random.default_rng(_N + _K).standard_normal((_N, _K))
    _tmu, _tlv = _torch.tensor(_mu, requires_grad=True), _torch.tensor(_lv, requires_grad=True)
    _tz = _tmu + _torch.exp(0.5 * _tlv) * _torch.tensor(_eps)
    _dz = _rng.normal(size=(_N, _K))
    _tz.backward(_torch.tensor(_dz))
    _label = f"reparameterize(mu, log_var of shape {(_N, _K)} and scale {_scale})"
    _z, _cache = unpack(call(reparameterize, _mu, _lv, np.random.default_rng(_N + _K)), 2, "reparameterize")
    assert_close(_z, _tz.detach().numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: z against torch")
    _dmu, _dlv = unpack(call(reparameterize_backward, _dz, _cache), 2, "reparameterize_backward")
    assert_close(_dmu, _tmu.grad.numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: dmu against torch autograd")
    assert_close(_dlv, _tlv.grad.numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: dlog_var against torch autograd")
_z = assert_seeded(lambda rng: call(reparameterize, np.zeros((2000, 3)), np.full((2000, 3), np.log(9.0)), rng)[0],
                   "reparameterize(2000 x 3, sigma = 3)")
assert_close(np.std(_z, axis=0), [3.0, 3.0, 3.0], rtol=0.08, name="reparameterize(sigma = 3): the spread of 2000 "
             "samples (sigma = exp(log_var / 2), not exp(log_var))")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The KL divergence to the prior
#
# How far is $q = \mathcal{N}(\mu, \operatorname{diag}\sigma^2)$ from $p = \mathcal{N}(0, I)$? For
# Gaussians the Kullback–Leibler divergence has a closed form, a sum over the $K$ code
# dimensions:
#
# $$\mathrm{KL}(q \,\|\, p) = \frac12 \sum_{j=1}^{K} \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big).$$
#
# It is 0 exactly when $\mu = 0$ and $\sigma = 1$, and grows when a code moves away from the
# origin or its variance shrinks towards 0 (a "certain" code) or blows up. For a batch we
# take the **mean over the examples** of each example's KL. Derive its gradients with respect to
# $\mu$ and $\log\sigma^2$ by hand — they are one line each.

# %% nbgrader="solution" grade_id="gaussian_kl" export=true
def gaussian_kl(mu, log_var):
    """KL(N(mu, diag(exp(log_var))) || N(0, I)) per example, averaged over the batch, with gradients.

    Args:
        mu, log_var: float64 arrays (N, K).

    Returns:
        kl: a Python float, the mean over the N examples of 0.5 * sum_j (mu^2 + exp(log_var) - 1 - log_var).
        dmu, dlog_var: float64 arrays (N, K), the gradients of kl. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N = mu.shape[0]
    var = np.exp(log_var)
    kl = float(0.5 * np.sum(mu**2 + var - 1.0 - log_var) / N)
    return kl, mu / N, 0.5 * (var - 1.0) / N
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gaussian_kl" points=3
_kl, _dmu, _dlv = unpack(call(gaussian_kl, np.zeros((2, 3)), np.zeros((2, 3))), 3, "gaussian_kl")
assert_scalar(_kl, name="gaussian_kl(mu=0, log_var=0)")
assert_close(_kl, 0.0, atol=1e-12, name="gaussian_kl(mu=0, log_var=0): q is the prior")
_kl, _dmu, _dlv = unpack(call(gaussian_kl, np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.0, np.log(2.0)],
                                                                                          [0.0, 0.0]])),
                         3, "gaussian_kl")
assert_close(_kl, 0.5 * (1.0 + 2.0 - 1.0 - np.log(2.0)) / 2,
             name="gaussian_kl(mu=[[1, 0], [0, 0]], log_var=[[0, ln 2], [0, 0]]): mean of the examples' KL")
assert_close(_dmu, [[0.5, 0.0], [0.0, 0.0]], name="gaussian_kl(...): dmu = mu / N")
assert_close(_dlv, [[0.0, 0.25], [0.0, 0.0]], name="gaussian_kl(...): dlog_var")
### BEGIN HIDDEN TESTS
import torch as _torch
from torch.distributions import Normal as _Normal
from torch.distributions import kl_divergence as _kl_divergence

_rng = np.random.default_rng(1007)
for _N, _K, _scale in [(1, 1, 1.0), (3, 4, 1.0), (16, 2, 3.0), (5, 9, 0.01)]:
    _mu, _lv = _rng.normal(size=(_N, _K)) * _scale, _rng.normal(size=(_N, _K)) * _scale
    _tmu, _tlv = _torch.tensor(_mu, requires_grad=True), _torch.tensor(_lv, requires_grad=True)
    _q = _Normal(_tmu, _torch.exp(0.5 * _tlv))
    _tkl = _kl_divergence(_q, _Normal(_torch.zeros_like(_tmu), _torch.ones_like(_tmu))).sum(1).mean()
    _tkl.backward()
    _label = f"gaussian_kl(mu, log_var of shape {(_N, _K)} and scale {_scale})"
    _kl, _dmu, _dlv = unpack(call(gaussian_kl, _mu, _lv), 3, "gaussian_kl")
    assert_close(_kl, _tkl.item(), rtol=1e-9, atol=1e-12, name=f"{_label} against torch.distributions.kl_divergence")
    assert_close(_dmu, _tmu.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dmu against torch autograd")
    assert_close(_dlv, _tlv.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dlog_var against torch autograd")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. The ELBO
#
# A VAE maximizes the **evidence lower bound** on $\log p(x)$:
#
# $$\log p(x) \;\ge\; \mathrm{ELBO}(x) = \mathbb{E}_{z \sim q(z \mid x)}\big[\log p(x \mid z)\big]
#   - \mathrm{KL}\big(q(z \mid x) \,\|\, p(z)\big),$$
#
# a reconstruction term and the KL of section 5. We minimize the **negative** ELBO, estimating
# the expectation with the single sample $z$ of the reparameterization trick. Our decoder is
# **Bernoulli**: it outputs one logit $\ell_d$ per pixel, $p(x_d = 1 \mid z) = \sigma(\ell_d)$, so
# $-\log p(x \mid z) = \sum_d \mathrm{BCE}(\ell_d, x_d)$, the binary cross-entropy from logits of
# chapter 03, summed over pixels (pixel values in $[0, 1]$ are allowed as soft targets). Compute
# $\mathrm{BCE}(\ell, x) = \max(\ell, 0) - \ell x + \log(1 + e^{-|\ell|})$, which never
# overflows; its derivative is $\sigma(\ell) - x$. A weight $\beta$ on the KL (a
# "$\beta$-VAE") trades sharp reconstructions against a well-shaped code; $\beta = 1$ is the
# ELBO itself.

# %% nbgrader="solution" grade_id="negative_elbo" export=true
from dllib.ch07_rnn import sigmoid


def negative_elbo(x, logits, mu, log_var, beta=1.0):
    """The negative ELBO of a Bernoulli decoder, averaged over the batch, with gradients.

    Args:
        x: float64 array (N, D) in [0, 1], the data; logits: float64 array (N, D), the decoder's output.
        mu, log_var: float64 arrays (N, K), the encoder's output.
        beta: float >= 0, the weight of the KL term.

    Returns:
        loss: a Python float, the mean over the N examples of
            sum_d BCE(logits, x) + beta * 0.5 * sum_j (mu^2 + exp(log_var) - 1 - log_var).
        dlogits (N, D), dmu (N, K), dlog_var (N, K): float64 gradients of loss. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N = x.shape[0]
    bce = np.maximum(logits, 0.0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    kl, dmu, dlog_var = gaussian_kl(mu, log_var)
    loss = float(bce.sum() / N + beta * kl)
    return loss, (sigmoid(logits) - x) / N, beta * dmu, beta * dlog_var
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_negative_elbo" points=3
_loss, _dl, _dmu, _dlv = unpack(call(negative_elbo, np.array([[1.0, 0.0]]), np.zeros((1, 2)), np.zeros((1, 1)),
                                     np.zeros((1, 1))), 4, "negative_elbo")
assert_scalar(_loss, name="negative_elbo(logits 0, mu 0, log_var 0)")
assert_close(_loss, 2 * np.log(2.0), name="negative_elbo(2 pixels, logits 0, q = prior): 2 ln 2")
assert_close(_dl, [[-0.5, 0.5]], name="negative_elbo(...): dlogits = sigmoid(logits) - x")
_x, _l = np.array([[1.0, 0.25], [0.0, 1.0]]), np.array([[2.0, -1.0], [0.5, 3.0]])
_mu, _lv = np.array([[1.0], [-1.0]]), np.array([[0.5], [-0.5]])
_bce = np.logaddexp(0, _l) - _l * _x
_kl = 0.5 * np.sum(_mu**2 + np.exp(_lv) - 1 - _lv) / 2
_loss, _dl, _dmu, _dlv = unpack(call(negative_elbo, _x, _l, _mu, _lv, 0.5), 4, "negative_elbo")
assert_close(_loss, _bce.sum() / 2 + 0.5 * _kl, name="negative_elbo(N=2, D=2, K=1, beta=0.5)")
assert_close(_dmu, 0.5 * _mu / 2, name="negative_elbo(N=2, D=2, K=1, beta=0.5): dmu")
### BEGIN HIDDEN TESTS
import torch as _torch
from torch.distributions import Bernoulli as _Bernoulli
from torch.distributions import Normal as _Normal
from torch.distributions import kl_divergence as _kl_divergence

_rng = np.random.default_rng(1008)
for _N, _D, _K, _beta, _scale in [(1, 1, 1, 1.0, 1.0), (4, 6, 2, 1.0, 2.0), (8, 5, 3, 0.25, 1.0),
                                  (3, 4, 2, 4.0, 50.0)]:
    _x = _rng.random((_N, _D)) * (_rng.random((_N, _D)) < 0.7)
    _l = _rng.normal(size=(_N, _D)) * _scale
    _mu, _lv = _rng.normal(size=(_N, _K)), _rng.normal(size=(_N, _K))
    _tl, _tmu, _tlv = (_torch.tensor(a, requires_grad=True) for a in (_l, _mu, _lv))
    _rec = -_Bernoulli(logits=_tl, validate_args=False).log_prob(_torch.tensor(_x)).sum(1)
    _tkl = _kl_divergence(_Normal(_tmu, _torch.exp(0.5 * _tlv)), _Normal(0.0, 1.0)).sum(1)
    _tloss = (_rec + _beta * _tkl).mean()
    _tloss.backward()
    _label = f"negative_elbo(N={_N}, D={_D}, K={_K}, beta={_beta}, logits of scale {_scale})"
    _loss, _dl, _dmu, _dlv = unpack(call(negative_elbo, _x, _l, _mu, _lv, _beta), 4, "negative_elbo")
    assert_close(_loss, _tloss.item(), rtol=1e-9, atol=1e-12, name=f"{_label}: against torch.distributions")
    assert_close(_dl, _tl.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dlogits against torch autograd")
    assert_close(_dmu, _tmu.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dmu against torch autograd")
    assert_close(_dlv, _tlv.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dlog_var against torch autograd")
### END HIDDEN TESTS

# %% [markdown]
# **A whole VAE.** Put the pieces together. The encoder has one hidden ReLU layer and two linear
# heads, the decoder is that of section 2 with logits as its output:
#
# $$h = \mathrm{ReLU}(x W_1 + b_1), \quad \mu = h W_\mu + b_\mu, \quad \log\sigma^2 = h W_{lv} + b_{lv},
#   \quad z = \mu + \sigma \odot \varepsilon, \quad \ell = \mathrm{ReLU}(z W_3 + b_3)\, W_4 + b_4.$$
#
# `vae_loss` runs this forward, scores it with `negative_elbo`, and backpropagates: the gradient
# reaching $z$ flows through `reparameterize_backward` into $\mu$ and $\log\sigma^2$, where it
# **adds** to the KL's own gradients; both heads then send theirs to $h$, which adds them too.
# Use `reparameterize` for $z$ (its one draw from `rng`).

# %% nbgrader="solution" grade_id="vae_loss" export=true
def vae_loss(params, x, rng, beta=1.0):
    """The negative ELBO of a VAE on a batch, with the gradients of all its parameters.

    Args:
        params: dict of float64 arrays W1 (D, H), b1 (H,), W_mu (H, K), b_mu (K,), W_lv (H, K),
            b_lv (K,), W3 (K, H), b3 (H,), W4 (H, D), b4 (D,).
        x: float64 array (N, D) in [0, 1].
        rng: a numpy Generator, passed to reparameterize (its only use).
        beta: float >= 0, the weight of the KL term (see negative_elbo).

    Returns:
        loss: a Python float, negative_elbo of the batch.
        grads: dict with the keys of params, the gradients of loss. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    a1, c1 = affine_forward(x, params["W1"], params["b1"])
    h, r1 = relu_forward(a1)
    mu, c_mu = affine_forward(h, params["W_mu"], params["b_mu"])
    log_var, c_lv = affine_forward(h, params["W_lv"], params["b_lv"])
    z, c_z = reparameterize(mu, log_var, rng)
    a3, c3 = affine_forward(z, params["W3"], params["b3"])
    h3, r3 = relu_forward(a3)
    logits, c4 = affine_forward(h3, params["W4"], params["b4"])
    loss, dlogits, dmu, dlog_var = negative_elbo(x, logits, mu, log_var, beta)
    dh3, dW4, db4 = affine_backward(dlogits, c4)
    dz, dW3, db3 = affine_backward(relu_backward(dh3, r3), c3)
    dmu_z, dlv_z = reparameterize_backward(dz, c_z)
    dh_mu, dW_mu, db_mu = affine_backward(dmu + dmu_z, c_mu)
    dh_lv, dW_lv, db_lv = affine_backward(dlog_var + dlv_z, c_lv)
    _, dW1, db1 = affine_backward(relu_backward(dh_mu + dh_lv, r1), c1)
    grads = {"W1": dW1, "b1": db1, "W_mu": dW_mu, "b_mu": db_mu, "W_lv": dW_lv, "b_lv": db_lv, "W3": dW3,
             "b3": db3, "W4": dW4, "b4": db4}
    return loss, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_vae_loss" points=4
_rng = np.random.default_rng(0)
_p = random_vae_params(_rng, 5, 4, 2)
_x = _rng.random((3, 5))
_loss, _g = unpack(call(vae_loss, _p, _x, np.random.default_rng(1)), 2, "vae_loss")
assert_scalar(_loss, name="vae_loss(D=5, H=4, K=2, N=3)")
_h = np.maximum(_x @ _p["W1"] + _p["b1"], 0)
_mu, _lv = _h @ _p["W_mu"] + _p["b_mu"], _h @ _p["W_lv"] + _p["b_lv"]
_z = _mu + np.exp(0.5 * _lv) * np.random.default_rng(1).standard_normal(_mu.shape)
_l = np.maximum(_z @ _p["W3"] + _p["b3"], 0) @ _p["W4"] + _p["b4"]
assert_close(_loss, negative_elbo(_x, _l, _mu, _lv)[0], name="vae_loss(D=5, H=4, K=2, N=3, default_rng(1)): the loss")
assert_seeded(lambda rng: call(vae_loss, _p, _x, rng)[0], "vae_loss(D=5, H=4, K=2, N=3)")
from helpers.gradcheck import numerical_gradient_array as _num

_num_g = {k: _num(lambda w, k=k: np.array(vae_loss({**_p, k: w}, _x, np.random.default_rng(1))[0]), _p[k].copy(),
                  np.array(1.0)) for k in VAE_KEYS}
check_grads(_g, _num_g, VAE_KEYS, "vae_loss(D=5, H=4, K=2, N=3) against numerical gradients (the same eps)",
            rtol=1e-5, atol=1e-8)
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(1009)
for _N, _D, _H, _K, _beta in [(1, 2, 3, 1, 1.0), (6, 8, 5, 2, 1.0), (10, 6, 7, 3, 0.3), (4, 3, 4, 5, 2.0)]:
    _p = random_vae_params(_rng, _D, _H, _K)
    _x = _rng.random((_N, _D))
    _eps = np.random.default_rng(_N * 7).standard_normal((_N, _K))
    _tp = {k: _torch.tensor(v, requires_grad=True) for k, v in _p.items()}
    _tx = _torch.tensor(_x)
    _th = _torch.relu(_tx @ _tp["W1"] + _tp["b1"])
    _tmu, _tlv = _th @ _tp["W_mu"] + _tp["b_mu"], _th @ _tp["W_lv"] + _tp["b_lv"]
    _tz = _tmu + _torch.exp(0.5 * _tlv) * _torch.tensor(_eps)
    _tl = _torch.relu(_tz @ _tp["W3"] + _tp["b3"]) @ _tp["W4"] + _tp["b4"]
    _rec = _F.binary_cross_entropy_with_logits(_tl, _tx, reduction="sum") / _N
    _tkl = 0.5 * (_tmu**2 + _tlv.exp() - 1 - _tlv).sum() / _N
    _tloss = _rec + _beta * _tkl
    _tloss.backward()
    _label = f"vae_loss(N={_N}, D={_D}, H={_H}, K={_K}, beta={_beta})"
    _loss, _g = unpack(call(vae_loss, _p, _x, np.random.default_rng(_N * 7), _beta), 2, "vae_loss")
    assert_close(_loss, _tloss.item(), rtol=1e-9, atol=1e-12, name=f"{_label}: loss against torch")
    check_grads(_g, {k: v.grad.numpy() for k, v in _tp.items()}, VAE_KEYS, f"{_label}: against torch autograd",
                rtol=1e-8, atol=1e-11)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** Why does a VAE sample $z$ as $\mu + \sigma \odot \varepsilon$ instead of
# drawing $z \sim \mathcal{N}(\mu, \sigma^2)$ directly?
#
# - `"a"`: it is faster to draw standard normal numbers;
# - `"b"`: so that $z$ is a differentiable function of $\mu$ and $\sigma$, and the loss's gradient
#   can flow back into the encoder;
# - `"c"`: so that the KL term has a closed form;
# - `"d"`: so that $z$ has mean 0 and variance 1.
#
# Set `q3_answer` to the letter of the right answer.

# %% nbgrader="solution" grade_id="q3_reparam"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_reparam" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Decode a point $z$ drawn from $\mathcal{N}(0, I)$ with a plain
# autoencoder's decoder and with a VAE's decoder of the same size. Explain why the VAE's
# result usually looks like a digit and the plain autoencoder's often does not, naming what
# each term of the negative ELBO does to the codes. What happens to the codes and to the
# reconstructions when $\beta$ is made very large? Answer in three to five sentences in the
# cell below.

# %% [markdown] nbgrader="answer" grade_id="written_latent" points=2
# *Model answer.* A plain autoencoder is only asked to reconstruct, so it may put its codes
# anywhere — spread out, in separate clumps, far from the origin — and most points drawn from
# $\mathcal{N}(0, I)$ fall where no training code lies, where the decoder was never trained.
# In a VAE the KL term pulls every $q(z \mid x)$ towards $\mathcal{N}(0, I)$, so the codes fill
# the region the prior samples from, and because the decoder is trained on **noisy** codes
# (the reconstruction term with $z = \mu + \sigma\varepsilon$) it must decode a whole
# neighbourhood of each code to something close to $x$: the code space has no holes. With a
# very large $\beta$ the KL wins: $\mu \to 0$ and $\sigma \to 1$ for every input, the code
# carries no information about $x$ ("posterior collapse"), and every reconstruction becomes the
# same blurry average digit.

# %% [markdown]
# ## 7. PCA and a linear autoencoder on the digits
#
# The experiments use scikit-learn's 1,797 handwritten digits, 8×8 pixels with values
# 0 … 16, scaled to $[0, 1]$ (the last 297 held out). First PCA: how much of the variance do
# the first components keep, and what do reconstructions from $k$ of them look like?

# %%
import time

from scipy.linalg import subspace_angles
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several

digits = load_digits()
images = digits.data / 16.0
labels = digits.target
train_x, test_x = images[:1500], images[1500:]
train_y, test_y = labels[:1500], labels[1500:]

pca_components, pca_variance, pca_mean = pca_svd(train_x, 64)
ratio = np.cumsum(pca_variance) / pca_variance.sum()
for k in (2, 8, 16, 32):
    print(f"{k:2d} components keep {ratio[k - 1]:.1%} of the variance")

show_k = (2, 8, 16, 32)
fig, axes = plt.subplots(len(show_k) + 1, 8, figsize=(8, 5.2))
for i in range(8):
    axes[0, i].imshow(test_x[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    for row, k in enumerate(show_k, start=1):
        W = pca_components[:k]
        rebuilt = pca_reconstruct(test_x[i:i + 1], pca_mean, W)
        axes[row, i].imshow(rebuilt.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
for ax in axes.ravel():
    ax.set(xticks=[], yticks=[])
for row, name in enumerate(["original"] + [f"k = {k}" for k in show_k]):
    axes[row, 0].set_ylabel(name, fontsize=8)
fig.suptitle("Test digits rebuilt from k principal components")
plt.show()

# %% [markdown]
# Now a **linear autoencoder**, $\hat x = \bar x + (x - \bar x) W_e W_d$ with a code of size
# $k = 8$, trained by full-batch gradient descent (chapter 05's Adam) on the mean squared error.
# Section 2's autoencoder without its ReLUs would do; here the two matrices are written out.
# Its matrices are not PCA's (concept check 2), but the subspace its decoder maps into should
# be: the **principal angles** between the span of the rows of $W_d$ and the span of the first
# $k$ components measure that (all 0° for the same subspace, 90° for orthogonal directions).

# %%
LIN_K, LIN_STEPS = 8, 3000
centred = train_x - pca_mean
lin_rng = np.random.default_rng(0)
linear_ae = {"We": lin_rng.normal(size=(64, LIN_K)) * 0.1, "Wd": lin_rng.normal(size=(LIN_K, 64)) * 0.1}
lin_opt = Adam(linear_ae, lr=0.01)
lin_angles = []
for step in range(LIN_STEPS + 1):
    code = centred @ linear_ae["We"]
    residual = code @ linear_ae["Wd"] - centred
    dout = 2.0 * residual / residual.size
    dWd = code.T @ dout
    dWe = centred.T @ (dout @ linear_ae["Wd"].T)
    if step % 100 == 0:
        lin_angles.append(np.degrees(subspace_angles(linear_ae["Wd"].T, pca_components[:LIN_K].T)))
    lin_opt.lr = 0.01 if step < 2000 else 0.002
    lin_opt.step({"We": dWe, "Wd": dWd})
lin_angles = np.array(lin_angles)
lin_mse = float(np.mean((centred @ linear_ae["We"] @ linear_ae["Wd"] - centred) ** 2))
W8 = pca_components[:LIN_K]
pca_mse = float(np.mean((pca_reconstruct(train_x, pca_mean, W8) - train_x) ** 2))
print(f"training MSE: linear autoencoder {lin_mse:.6f}, PCA with {LIN_K} components {pca_mse:.6f}")
print(f"principal angles after training: largest {lin_angles[-1].max():.1e}°, mean {lin_angles[-1].mean():.1e}° "
      f"(at the start: largest {lin_angles[0].max():.0f}°)")
gram = linear_ae["Wd"] @ linear_ae["Wd"].T
print(f"but W_d's rows are not the components: their norms {np.round(np.sqrt(np.diag(gram)), 2)}")

fig, ax = plt.subplots(layout="constrained")
ax.semilogy(np.arange(len(lin_angles)) * 100, lin_angles.max(axis=1), label="largest angle")
ax.semilogy(np.arange(len(lin_angles)) * 100, lin_angles.mean(axis=1), label="mean angle")
ax.set(xlabel="gradient step", ylabel="principal angle (degrees)",
       title="Linear autoencoder vs PCA: the subspaces meet")
ax.legend()
plt.show()

# %% [markdown]
# The angles fall from nearly 90° to nearly 0 and the error reaches PCA's — the minimum a linear
# code of size 8 can have. With a learning rate of 0.01 Adam keeps jittering a hundredth of a
# degree away; after the drop to 0.002 at step 2000 the subspaces agree to rounding error. The
# rows of $W_d$ are neither unit vectors nor orthogonal: the loss only sees their span.
#
# ## 8. A VAE with a 2-D code on the digits
#
# Your `vae_loss` with $H = 256$ hidden units and $K = 2$ code dimensions — so the codes can be
# drawn in a plane — trained with Adam on minibatches of 100. We report the negative ELBO per
# digit (in nats) on the training batches and on the held-out digits.

# %%
VAE_H, VAE_K, VAE_EPOCHS, VAE_BATCH = 256, 2, 60, 100
vae_rng = np.random.default_rng(0)
vae = {"W1": vae_rng.normal(size=(64, VAE_H)) * np.sqrt(2 / 64), "b1": np.zeros(VAE_H),
       "W_mu": vae_rng.normal(size=(VAE_H, VAE_K)) * np.sqrt(1 / VAE_H), "b_mu": np.zeros(VAE_K),
       "W_lv": np.zeros((VAE_H, VAE_K)), "b_lv": np.zeros(VAE_K),
       "W3": vae_rng.normal(size=(VAE_K, VAE_H)) * np.sqrt(2 / VAE_K), "b3": np.zeros(VAE_H),
       "W4": vae_rng.normal(size=(VAE_H, 64)) * np.sqrt(1 / VAE_H), "b4": np.zeros(64)}
vae_opt = Adam(vae, lr=2e-3)
vae_history = {"epoch": [], "train": [], "test": []}
start = time.perf_counter()
for epoch in range(1, VAE_EPOCHS + 1):
    order = vae_rng.permutation(len(train_x))
    losses = []
    for i in range(0, len(order), VAE_BATCH):
        loss, grads = vae_loss(vae, train_x[order[i:i + VAE_BATCH]], vae_rng)
        vae_opt.step(grads)
        losses.append(loss)
    if epoch % 5 == 0 or epoch == 1:
        vae_history["epoch"].append(epoch)
        vae_history["train"].append(float(np.mean(losses)))
        vae_history["test"].append(vae_loss(vae, test_x, np.random.default_rng(1))[0])
vae_seconds = time.perf_counter() - start
print(f"negative ELBO after {VAE_EPOCHS} epochs ({vae_seconds:.0f} s): train {vae_history['train'][-1]:.1f}, "
      f"test {vae_history['test'][-1]:.1f} nats per digit (epoch 1: {vae_history['train'][0]:.1f})")


def vae_encode(params, x):
    """mu and log_var (N, K) of the VAE's encoder."""
    h = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    return h @ params["W_mu"] + params["b_mu"], h @ params["W_lv"] + params["b_lv"]


def vae_decode(params, z):
    """Pixel probabilities (N, 64) of the codes z (N, K): the decoder's logits through a sigmoid."""
    return sigmoid(np.maximum(z @ params["W3"] + params["b3"], 0.0) @ params["W4"] + params["b4"])


test_mu, test_lv = vae_encode(vae, test_x)
test_kl = gaussian_kl(test_mu, test_lv)[0]
print(f"KL term on the test digits: {test_kl:.2f} nats; mean code sigma {np.exp(0.5 * test_lv).mean():.3f}")

fig, (ax_curve, ax_codes) = plt.subplots(1, 2, figsize=(11, 4))
ax_curve.plot(vae_history["epoch"], vae_history["train"], "o-", label="training batches")
ax_curve.plot(vae_history["epoch"], vae_history["test"], "s-", label="held-out digits")
ax_curve.set(xlabel="epoch", ylabel="negative ELBO (nats per digit)", title="VAE training")
ax_curve.legend()
points = ax_codes.scatter(test_mu[:, 0], test_mu[:, 1], c=test_y, cmap="tab10", s=12)
fig.colorbar(points, ax=ax_codes, label="digit")
ax_codes.set(xlabel="$\\mu_1$", ylabel="$\\mu_2$", title="Codes of the held-out digits")
plt.show()

# %% [markdown]
# The codes of each digit gather in a region of the plane, and the plane is filled around the
# origin with a spread close to the prior's. Decoding a grid of codes shows what lives where;
# below, samples from the prior and reconstructions of held-out digits (the decoder's pixel
# probabilities, from the codes' means).

# %%
grid = np.linspace(-2.0, 2.0, 12)
grid_z = np.array([[a, b] for b in grid[::-1] for a in grid])
grid_img = vae_decode(vae, grid_z).reshape(12, 12, 8, 8).transpose(0, 2, 1, 3).reshape(96, 96)
samples = vae_decode(vae, np.random.default_rng(2).standard_normal((16, VAE_K)))
rebuilt = vae_decode(vae, test_mu[:8])

fig = plt.figure(figsize=(11, 4.6))
ax = fig.add_subplot(1, 2, 1)
ax.imshow(grid_img, cmap="gray_r", extent=(-2.2, 2.2, -2.2, 2.2))
ax.set(title="decoded codes on a grid", xlabel="$z_1$", ylabel="$z_2$")
for i in range(16):
    sub = fig.add_subplot(4, 8, 5 + (i // 4) * 8 + i % 4)
    sub.imshow(samples[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    sub.set(xticks=[], yticks=[])
    if i == 1:
        sub.set_title("samples z ~ N(0, I)", fontsize=9, loc="left")
fig.tight_layout()
plt.show()
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for i in range(8):
    axes[0, i].imshow(test_x[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[1, i].imshow(rebuilt[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
for ax in axes.ravel():
    ax.set(xticks=[], yticks=[])
axes[0, 0].set_ylabel("digit", fontsize=8)
axes[1, 0].set_ylabel("VAE", fontsize=8)
plt.show()

# %% [markdown]
# Two numbers are a tight code for a digit: the reconstructions keep the class and the rough
# shape, not the details (PCA needs 21 components for 90 % of the variance). The samples
# are mostly recognisable digits — the prior's mass falls where the codes are.
#
# ## 9. Denoising
#
# Now section 3's steps. Two autoencoders of the same shape ($H = 128$, $K = 16$) are trained on
# the same batches: one plain, one denoising with $\sigma = 0.3$. Both then see held-out digits
# with that noise added: how close are their outputs to the **clean** digits?

# %%
DAE_H, DAE_K, DAE_EPOCHS, DAE_BATCH, DAE_SIGMA = 128, 16, 25, 100, 0.3


def init_ae(rng):
    return {"W1": rng.normal(size=(64, DAE_H)) * np.sqrt(2 / 64), "b1": np.zeros(DAE_H),
            "W2": rng.normal(size=(DAE_H, DAE_K)) * np.sqrt(1 / DAE_H), "b2": np.zeros(DAE_K),
            "W3": rng.normal(size=(DAE_K, DAE_H)) * np.sqrt(2 / DAE_K), "b3": np.zeros(DAE_H),
            "W4": rng.normal(size=(DAE_H, 64)) * np.sqrt(1 / DAE_H), "b4": np.full(64, train_x.mean())}


plain_ae, denoising_ae = init_ae(np.random.default_rng(0)), init_ae(np.random.default_rng(0))
plain_opt, denoising_opt = Adam(plain_ae, lr=2e-3), Adam(denoising_ae, lr=2e-3)
order_rng, noise_rng = np.random.default_rng(1), np.random.default_rng(2)
for _ in range(DAE_EPOCHS):
    order = order_rng.permutation(len(train_x))
    for i in range(0, len(order), DAE_BATCH):
        batch = train_x[order[i:i + DAE_BATCH]]
        autoencoder_step(plain_ae, plain_opt, batch)
        autoencoder_step(denoising_ae, denoising_opt, batch, DAE_SIGMA, noise_rng)

noisy_test = test_x + DAE_SIGMA * np.random.default_rng(3).standard_normal(test_x.shape)
denoise_mse = {
    "noisy input itself": float(np.mean((noisy_test - test_x) ** 2)),
    "PCA, 16 components": float(np.mean((pca_reconstruct(noisy_test, pca_mean, pca_components[:16]) - test_x) ** 2)),
    "plain autoencoder": float(np.mean((ae_decode(plain_ae, ae_encode(plain_ae, noisy_test)) - test_x) ** 2)),
    "denoising autoencoder": float(np.mean((ae_decode(denoising_ae, ae_encode(denoising_ae, noisy_test))
                                            - test_x) ** 2)),
}
clean_mse = {name: float(np.mean((ae_decode(p, ae_encode(p, test_x)) - test_x) ** 2))
             for name, p in [("plain", plain_ae), ("denoising", denoising_ae)]}
for name, mse in denoise_mse.items():
    print(f"{name:>22}: MSE to the clean digits {mse:.4f}")
print(f"on clean inputs: plain {clean_mse['plain']:.4f}, denoising {clean_mse['denoising']:.4f}")

fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
rows = [test_x[:8], noisy_test[:8], ae_decode(plain_ae, ae_encode(plain_ae, noisy_test[:8])),
        ae_decode(denoising_ae, ae_encode(denoising_ae, noisy_test[:8]))]
for row, (name, imgs) in enumerate(zip(["clean", f"noisy (σ={DAE_SIGMA})", "plain AE", "denoising AE"], rows,
                                       strict=True)):
    for i in range(8):
        axes[row, i].imshow(imgs[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[row, i].set(xticks=[], yticks=[])
    axes[row, 0].set_ylabel(name, fontsize=8)
plt.show()

# %% [markdown]
# The plain autoencoder passes much of the noise through — it learned to copy what it gets;
# the denoising one, which never saw a clean input, removes most of it, and beats PCA, which
# can only drop the noise outside its 16-dimensional subspace. On clean digits the plain
# autoencoder is the better copier: each was trained for its own task.
#
# **Latent-space explorer.** The VAE's code plane, live: move the two sliders to place a code
# (the cross, over the held-out codes) and see its decoded digit. Below, pick two held-out
# digits and slide $t$ from 0 to 1: the code moves on the straight line between their means and
# the decoder draws every point on the way.

# %%
from IPython.display import display

from helpers.explorers.latent import latent_explorer

latent_view = latent_explorer(lambda z: vae_decode(vae, z), test_mu, test_y, images=test_x,
                              first=int(np.flatnonzero(test_y == 0)[0]), second=int(np.flatnonzero(test_y == 7)[0]))
display(latent_view)
