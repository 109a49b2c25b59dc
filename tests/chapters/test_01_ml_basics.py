"""Chapter 01's reference solution agrees with independent implementations (numpy.linalg,
scikit-learn, scipy, PyTorch, closed forms), and the notebook's experiments show what its text says."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold
from sklearn.preprocessing import PolynomialFeatures

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "01_ml_basics.py"

FAST = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def ns():
    import matplotlib.pyplot as plt

    from autograder.authoring import solution_namespace

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # plt.show() under Agg
        namespace = solution_namespace(SOURCE)
    plt.close("all")
    return namespace


def design(seed: int, n: int, d: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.2, 3.0, size=d) * scale
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    return X, y


shapes = st.integers(1, 8).flatmap(lambda d: st.tuples(st.integers(d, d + 40), st.just(d)))
seeds = st.integers(0, 2**32 - 1)


# --------------------------------------------------------------------------- regression


@FAST
@given(shapes, seeds)
def test_normal_equations_match_lstsq(ns, shape, seed):
    X, y = design(seed, *shape)
    w = ns["fit_least_squares"](X, y)
    assert w.shape == (shape[1],) and w.dtype == np.float64
    np.testing.assert_allclose(w, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-6, atol=1e-8)


@FAST
@given(st.integers(1, 8).flatmap(lambda d: st.tuples(st.integers(1, 30), st.just(d))), seeds,
       st.sampled_from([1e-4, 1e-2, 0.3, 1.0, 7.0, 100.0, 1e4]))
def test_ridge_matches_sklearn_with_both_solvers(ns, shape, seed, lam):
    X, y = design(seed, *shape)  # includes n < d: X^T X singular, ridge still unique
    w = ns["fit_ridge"](X, y, lam)
    assert w.shape == (shape[1],)
    for solver in ("cholesky", "svd"):
        ref = Ridge(alpha=lam, fit_intercept=False, solver=solver).fit(X, y).coef_
        np.testing.assert_allclose(w, ref, rtol=1e-6, atol=1e-9)


def test_ridge_at_lambda_zero_is_least_squares_and_penalises_the_bias(ns):
    X, y = design(3, 30, 4)
    np.testing.assert_allclose(ns["fit_ridge"](X, y, 0.0), ns["fit_least_squares"](X, y), rtol=1e-10)
    Xb = np.column_stack([np.ones(30), X])
    w = ns["fit_ridge"](Xb, y, 5.0)
    # Course convention: every weight, bias included, is penalised (unlike sklearn's intercept).
    np.testing.assert_allclose(Xb.T @ (Xb @ w - y) + 5.0 * w, 0.0, atol=1e-9)
    unpenalised = Ridge(alpha=5.0).fit(X, y)
    assert not np.isclose(w[0], unpenalised.intercept_)


def test_ridge_solution_is_a_stationary_point_of_the_torch_objective(ns):
    X, y = design(4, 25, 6)
    lam = 0.7
    w = torch.tensor(ns["fit_ridge"](X, y, lam), requires_grad=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    # The course's convention: 1/2 ||X w - y||^2 + lam/2 ||w||^2 (sklearn's objective is twice it).
    objective = 0.5 * torch.sum((Xt @ w - yt) ** 2) + 0.5 * lam * torch.sum(w**2)
    objective.backward()
    assert torch.allclose(w.grad, torch.zeros_like(w.grad), atol=1e-9)
    ref = torch.linalg.solve(Xt.T @ Xt + lam * torch.eye(6, dtype=torch.float64), Xt.T @ yt)
    np.testing.assert_allclose(w.detach().numpy(), ref.numpy(), rtol=1e-10)


def test_ill_conditioned_polynomial_design(ns):
    x = np.linspace(0, 1, 40)
    X = ns["polynomial_features"](x, 7)
    y = np.cos(4 * x)
    w = ns["fit_least_squares"](X, y)
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(X @ w, X @ ref, atol=1e-7)
    w = ns["fit_ridge"](ns["polynomial_features"](x, 12), y, 1e-8)
    ref = Ridge(alpha=1e-8, fit_intercept=False, solver="svd").fit(np.vander(x, 13, increasing=True), y)
    np.testing.assert_allclose(ns["polynomial_features"](x, 12) @ w,
                               np.vander(x, 13, increasing=True) @ ref.coef_, atol=1e-6)


@FAST
@given(st.integers(1, 30), st.integers(0, 9), seeds)
def test_polynomial_features_match_sklearn(ns, n, degree, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=n)
    phi = ns["polynomial_features"](x, degree)
    assert phi.shape == (n, degree + 1) and phi.dtype == np.float64
    ref = PolynomialFeatures(degree=degree, include_bias=True).fit_transform(x[:, None])
    np.testing.assert_allclose(phi, ref, rtol=1e-12, atol=1e-12)


@FAST
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), seeds)
def test_mse_matches_sklearn_and_torch(ns, shape, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    value = ns["mse"](a, b)
    assert isinstance(value, float)
    assert value == pytest.approx(mean_squared_error(a.ravel(), b.ravel()), rel=1e-12)
    ref = torch.nn.functional.mse_loss(torch.tensor(a), torch.tensor(b)).item()
    assert value == pytest.approx(ref, rel=1e-12)


# --------------------------------------------------------------------------- cross-validation


@FAST
@given(st.integers(2, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))))
def test_folds_match_sklearn_kfold(ns, n_k):
    n, k = n_k
    folds = ns["kfold_indices"](n, k)
    assert len(folds) == k
    for (train, val), (train_ref, val_ref) in zip(folds, KFold(n_splits=k).split(np.zeros(n)), strict=True):
        assert train.dtype.kind == "i" and val.dtype.kind == "i"
        np.testing.assert_array_equal(val, val_ref)
        np.testing.assert_array_equal(train, train_ref)
    np.testing.assert_array_equal(np.concatenate([v for _, v in folds]), np.arange(n))
    assert [len(v) for _, v in folds] == [len(a) for a in np.array_split(np.arange(n), k)]


@FAST
@given(st.integers(4, 40).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))), seeds,
       st.sampled_from([0.0, 0.1, 10.0]))
def test_cross_val_mse_matches_an_independent_loop(ns, n_k, seed, lam):
    n, k = n_k
    X, y = design(seed, n, 2)
    X[:, 0] = 1.0

    def fit(A, b):
        return np.linalg.lstsq(A, b, rcond=None)[0] if lam == 0 else Ridge(
            alpha=lam, fit_intercept=False, solver="svd").fit(A, b).coef_

    errors = [mean_squared_error(y[va], X[va] @ fit(X[tr], y[tr])) for tr, va in KFold(k).split(X)]
    assert ns["cross_val_mse"](X, y, k, fit) == pytest.approx(np.mean(errors), rel=1e-9)


def test_leave_one_out_of_least_squares_matches_the_hat_matrix_formula(ns):
    # For least squares, LOO residuals are e_i / (1 - h_ii): an exact closed form.
    X, y = design(5, 12, 3)
    H = X @ np.linalg.solve(X.T @ X, X.T)
    loo = np.mean(((y - H @ y) / (1 - np.diag(H))) ** 2)
    assert ns["cross_val_mse"](X, y, 12, ns["fit_least_squares"]) == pytest.approx(loo, rel=1e-9)


# --------------------------------------------------------------------------- estimators


@FAST
@given(st.integers(1, 30), st.integers(1, 10), seeds, st.floats(-5, 5))
def test_bias_variance_is_mean_minus_truth_and_population_variance(ns, S, n, seed, theta):
    data = np.random.default_rng(seed).normal(size=(S, n))
    for estimator in (np.mean, np.median, lambda d: d[-1] ** 2):
        est = np.array([estimator(d) for d in data])
        bias, var = ns["bias_variance"](estimator, data, theta)
        assert bias == pytest.approx(est.mean() - theta, abs=1e-12)
        assert var == pytest.approx(est.var(), rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("n", [2, 5, 10])
def test_variance_estimator_bias_matches_the_closed_form(ns, n):
    sigma2 = 4.0
    data = np.random.default_rng(n).normal(0, np.sqrt(sigma2), size=(20000, n))
    bias, var = ns["bias_variance"](lambda d: ns["gaussian_mle"](d)[1], data, sigma2)
    # E[s^2_ML] = (n-1)/n sigma^2; Var[s^2_ML] = 2 (n-1) sigma^4 / n^2 (Gaussian data).
    assert bias == pytest.approx(-sigma2 / n, abs=4 * np.sqrt(2 * (n - 1) * sigma2**2 / n**2 / 20000))
    assert var == pytest.approx(2 * (n - 1) * sigma2**2 / n**2, rel=0.1)
    bias_u, _ = ns["bias_variance"](lambda d: np.var(d, ddof=1), data, sigma2)
    assert abs(bias_u) < abs(bias)


@FAST
@given(st.integers(1, 200), seeds, st.floats(-1e3, 1e3), st.floats(1e-3, 1e2))
def test_gaussian_mle_matches_scipy_norm_fit(ns, n, seed, loc, scale):
    x = np.random.default_rng(seed).normal(loc, scale, size=n)
    mu, var = ns["gaussian_mle"](x)
    mu_ref, scale_ref = stats.norm.fit(x)
    assert isinstance(mu, float) and isinstance(var, float)
    assert mu == pytest.approx(mu_ref, rel=1e-12, abs=1e-12)
    assert var == pytest.approx(scale_ref**2, rel=1e-8, abs=1e-15)


def test_gaussian_mle_maximises_the_likelihood(ns):
    x = np.random.default_rng(9).normal(2.0, 1.5, size=50)
    mu, var = ns["gaussian_mle"](x)

    def loglik(m, v):
        return stats.norm.logpdf(x, m, np.sqrt(v)).sum()

    best = loglik(mu, var)
    for dm, dv in [(0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01), (0.01, 0.01)]:
        assert loglik(mu + dm, var + dv) < best


# --------------------------------------------------------------------------- hyperparameter search


@FAST
@given(st.integers(1, 40), st.integers(1, 5), seeds)
def test_random_search_draws_the_box_from_rng_and_picks_the_first_minimum(ns, n_trials, dim, seed):
    rng = np.random.default_rng(seed)
    low = rng.normal(size=dim) * 10
    high = low + rng.uniform(1e-3, 100, size=dim)
    objective = lambda t: float(np.round(np.sum(t**2), 0))  # noqa: E731 - rounding makes ties
    thetas, values, best = ns["random_search"](objective, low, high, n_trials, np.random.default_rng(seed))
    expected = np.random.default_rng(seed).uniform(low, high, size=(n_trials, dim))
    np.testing.assert_array_equal(thetas, expected)
    np.testing.assert_array_equal(values, [objective(t) for t in expected])
    assert isinstance(best, int) and best == int(np.flatnonzero(values == values.min())[0])


# --------------------------------------------------------------------------- entropy


def distributions(seed: int, shape: tuple[int, ...], zeros: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(shape[-1], 0.7), size=shape[:-1])
    if zeros:
        p = np.where(rng.random(p.shape) < 0.3, 0.0, p)
        p[..., 0] += 1e-3  # keep every row a distribution
        p /= p.sum(axis=-1, keepdims=True)
    return p


batch_shapes = st.lists(st.integers(1, 6), min_size=1, max_size=3)


@FAST
@given(batch_shapes, seeds, st.booleans())
def test_cross_entropy_and_kl_match_scipy(ns, shape, seed, zeros):
    p, q = distributions(seed, tuple(shape), zeros), distributions(seed + 1, tuple(shape), zeros)
    h, d = ns["cross_entropy"](p, q), ns["kl_divergence"](p, q)
    assert np.shape(h) == np.shape(d) == tuple(shape[:-1])
    assert np.asarray(h).dtype == np.asarray(d).dtype == np.float64
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(d, stats.entropy(p, q, axis=-1), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(h, stats.entropy(p, axis=-1) + stats.entropy(p, q, axis=-1),
                                   rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(ns["cross_entropy"](p, p), stats.entropy(p, axis=-1), rtol=1e-12, atol=1e-15)
    assert np.all(ns["kl_divergence"](p, p) == 0.0)


@FAST
@given(st.integers(1, 8), st.integers(1, 6), seeds)
def test_cross_entropy_and_kl_match_torch(ns, n, k, seed):
    p, q = distributions(seed, (n, k), True), distributions(seed + 7, (n, k), False)  # q > 0
    log_q = torch.tensor(np.log(q))
    ce = torch.nn.functional.cross_entropy(log_q, torch.tensor(p), reduction="none")
    kl = torch.nn.functional.kl_div(log_q, torch.tensor(p), reduction="none").sum(dim=-1)
    np.testing.assert_allclose(ns["cross_entropy"](p, q), ce.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ns["kl_divergence"](p, q), kl.numpy(), rtol=1e-9, atol=1e-13)


def test_entropy_conventions_without_warnings(ns):
    p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    q = np.array([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, d = ns["cross_entropy"](p, q), ns["kl_divergence"](p, q)
    np.testing.assert_array_equal(h, [np.inf, 0.0, np.inf])
    np.testing.assert_array_equal(d, [np.inf, 0.0, np.inf])
    assert ns["cross_entropy"]([0.0, 1.0, 0.0], [0.7, 0.2, 0.1]) == pytest.approx(-np.log(0.2))


# --------------------------------------------------------------------------- notebook content


def test_capacity_curve_matches_the_text(ns):
    train, test = np.asarray(ns["train_err"]), np.asarray(ns["test_err"])
    assert np.all(np.diff(train) <= 1e-12)  # nested models: training error never rises
    assert test.argmin() == 3 and 0.0625 < test[3] < 0.085  # "about 0.08", above sigma^2
    assert test[7:].min() > test[3:7].max()  # overfitting beyond degree 6
    assert 50 < test[-1] < 65 and 0.002 < train[-1] < 0.004 and test[-1] > 1e4 * train[-1]


def test_ridge_experiment_matches_the_text(ns):
    err, norms = ns["ridge_test_err"], ns["ridge_norms"]
    assert min(norms[0.0][10:]) > 1000  # "in the thousands at degrees 10-12"
    assert max(err[1e-3][3:]) < 0.2 and err[0.0][12] > 50
    assert all(0.075 < e < 0.095 for e in err[0.0][3:7]) and all(0.11 < e < 0.14 for e in err[0.1][3:7])
    assert ns["best_lam"] == 1e-3 and ns["lam_grid"][np.argmin(ns["test_err_lam"])] == 1e-2
    assert 0.15 < ns["mse"](ns["y_test"], ns["Phi_test"] @ ns["w_best"]) < 0.25
    assert ns["explorer"].state["error"] is None


def test_random_search_experiment_matches_the_text(ns):
    landscape, loglam, degrees = ns["landscape"], ns["land_loglam"], ns["land_degrees"]
    best_per_degree = landscape.min(axis=1)
    assert np.all((best_per_degree[degrees >= 3] > 0.055) & (best_per_degree[degrees >= 3] < 0.095))
    rows = landscape[degrees >= 9]
    assert np.all(rows.max(axis=1) / rows.min(axis=1) > 1e3)  # "more than three orders of magnitude"
    valley = loglam[landscape[degrees >= 7].argmin(axis=1)]
    assert np.all((valley > -3.6) & (valley < -2.4))  # high degrees need lambda ~ 1e-3
    assert np.all(landscape[(degrees >= 3) & (degrees <= 5)][:, loglam <= -4] < 0.095)
    grid = ns["grid_trials"]
    assert sorted(set(grid[:, 0])) == [1, 6, 10, 15] and sorted(set(grid[:, 1])) == [-10, -6, -2, 2]
    assert ns["rand_values"].min() < ns["grid_values"].min()
    assert 0.9 <= ns["random_wins"] < 1.0  # nearly every run; a right tail of unlucky runs


def test_bias_variance_experiments_match_the_text(ns):
    mse_ml = np.square(ns["bias_ml"]) + np.asarray(ns["var_ml"])
    mse_unbiased = np.square(ns["bias_unbiased"]) + np.asarray(ns["var_unbiased"])
    assert np.all(mse_ml < mse_unbiased)  # the biased estimator is the better one at every N
    total = np.add(ns["bias2"], ns["variance"])
    assert ns["lam_values"][total.argmin()] == 1e-2
    assert ns["bias2"][0] < 0.01 < ns["variance"][0] and ns["variance"][-1] < 0.01 < ns["bias2"][-1]


def test_entropy_experiment_matches_the_text(ns):
    thetas, p_hat = ns["thetas"], ns["p_hat"]
    np.testing.assert_allclose(ns["avg_nll"], ns["ce_curve"], rtol=1e-12)
    np.testing.assert_allclose(ns["ce_curve"] - ns["kl_curve"], stats.entropy(p_hat), rtol=1e-12)
    assert abs(thetas[np.argmin(ns["ce_curve"])] - p_hat[1]) <= 0.005  # minimum at the MLE
    for curve in (ns["kl_forward"], ns["kl_reverse"]):
        assert abs(thetas[np.argmin(curve)] - 0.3) <= 0.005
    kl = ns["kl_divergence"]
    assert kl(ns["p_coin"], [1.0, 0.0]) == np.inf
    assert kl([1.0, 0.0], ns["p_coin"]) == pytest.approx(np.log(1 / 0.7))


def test_concept_check_answers(ns):
    assert ns["q1_answer"] == "baecfg"
    assert (ns["q2_answer"], ns["q3_answer"], ns["q4_answer"], ns["q5_answer"], ns["q6_answer"]) == (
        768, "b", "a", "b", "b")
    assert ns["q7_answer"] == pytest.approx(2 * 4 / 5)
    assert ns["q8_answer"] == pytest.approx(-np.log(0.15), rel=1e-3)
