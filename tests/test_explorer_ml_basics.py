"""Chapter 01's degree / ridge-λ explorer, driven through its controls."""

import numpy as np
import pytest

from helpers.explorers.ml_basics import degree_ridge_explorer


def features(x, degree):  # independent of the chapter's reference: numpy's Vandermonde matrix
    return np.vander(np.asarray(x, dtype=float), degree + 1, increasing=True)


def fit(phi, y, lam):
    return np.linalg.solve(phi.T @ phi + lam * np.eye(phi.shape[1]), phi.T @ y)


def loss(y, y_hat):
    return float(np.mean((np.asarray(y) - np.asarray(y_hat)) ** 2))


@pytest.fixture
def explorer():
    rng = np.random.default_rng(0)
    x_train, x_test = rng.uniform(-1, 1, 15), rng.uniform(-1, 1, 100)
    y_train = np.sin(np.pi * x_train) + 0.25 * rng.normal(size=15)
    y_test = np.sin(np.pi * x_test) + 0.25 * rng.normal(size=100)
    return degree_ridge_explorer(x_train, y_train, x_test, y_test, features=features, fit=fit, loss=loss)


def test_degree_slider_changes_the_curve_and_lowers_training_error(explorer):
    errors, curves = [], []
    for degree in (1, 3, 9):
        explorer.controls["degree"].value = degree
        assert explorer.state["degree"] == degree and explorer.state["error"] is None
        assert explorer.state["weights"].shape == (degree + 1,)
        errors.append(explorer.state["train_error"])
        curves.append(explorer.state["y_curve"].copy())
    assert errors[0] > errors[1] > errors[2]
    assert not np.allclose(curves[0], curves[1])
    assert f"train MSE {errors[2]:.3g}" in explorer.state["title"]


def test_lambda_slider_shrinks_the_weights(explorer):
    explorer.set(degree=9, lam=0.0)
    free = explorer.state["weight_norm"]
    explorer.controls["lam"].value = 1.0  # slider options run 0, 1e-8, ..., 1e2
    assert explorer.state["weight_norm"] < free / 10
    assert explorer.state["lam"] > 0 and "λ = " in explorer.state["title"]


def test_each_change_redraws_one_figure_in_place(explorer):
    before, figure = explorer.view.n_draws, explorer.view.figure
    explorer.controls["degree"].value = 5
    explorer.controls["show_test"].value = False
    assert explorer.view.n_draws == before + 2 and explorer.view.figure is figure
    assert explorer.view.widget.value[:4] == b"\x89PNG"
    assert "test" not in [t.get_label() for t in explorer.view.axes[0].collections]


def test_a_student_error_is_shown_not_raised():
    def unfinished(x, degree):
        raise NotImplementedError

    x = np.linspace(-1, 1, 10)
    explorer = degree_ridge_explorer(x, x, x, x, features=unfinished, fit=fit, loss=loss)
    assert explorer.state["error"] == "unfinished is not implemented yet"
    assert "not implemented" in explorer.status.value
