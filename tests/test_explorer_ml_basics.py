"""Chapter 01's degree / ridge-λ explorer, driven through its controls (and its building blocks)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.explorers.ml_basics import DegreeRidgeExplorer, degree_ridge_explorer  # noqa: E402
from helpers.widgets import Explorer, FigureView, format_number, log_slider, log_values  # noqa: E402


# Independent reference functions (not the chapter's solution): numpy's Vandermonde matrix,
# a direct solve of the ridge system, and the mean squared error.
def features(x, degree):
    return np.vander(np.asarray(x, dtype=float), degree + 1, increasing=True)


def fit(phi, y, lam):
    return np.linalg.solve(phi.T @ phi + lam * np.eye(phi.shape[1]), phi.T @ y)


def loss(y, y_hat):
    return float(np.mean((np.asarray(y) - np.asarray(y_hat)) ** 2))


def make_data(seed=0, n_train=15, n_test=100):
    rng = np.random.default_rng(seed)
    x_train, x_test = rng.uniform(-1, 1, n_train), rng.uniform(-1, 1, n_test)
    y_train = np.sin(np.pi * x_train) + 0.25 * rng.normal(size=n_train)
    y_test = np.sin(np.pi * x_test) + 0.25 * rng.normal(size=n_test)
    return x_train, y_train, x_test, y_test


@pytest.fixture
def data():
    return make_data()


@pytest.fixture
def explorer(data):
    return degree_ridge_explorer(*data, features=features, fit=fit, loss=loss)


def test_initial_state_matches_the_reference_fit(explorer, data):
    x_train, y_train, x_test, y_test = data
    state = explorer.state
    assert isinstance(explorer, DegreeRidgeExplorer)
    assert state["degree"] == 3 and state["lam"] == 0.0 and state["show_test"] is True
    w = fit(features(x_train, 3), y_train, 0.0)
    np.testing.assert_allclose(state["weights"], w)
    np.testing.assert_allclose(state["y_curve"], features(state["x_curve"], 3) @ w)
    assert state["train_error"] == pytest.approx(loss(y_train, features(x_train, 3) @ w))
    assert state["test_error"] == pytest.approx(loss(y_test, features(x_test, 3) @ w))
    assert state["x_curve"].min() == pytest.approx(min(x_train.min(), x_test.min()))
    assert state["x_curve"].max() == pytest.approx(max(x_train.max(), x_test.max()))
    assert state["title"].startswith("degree 3, λ = 0: train MSE")


def test_degree_slider_changes_the_curve_and_lowers_training_error(explorer):
    errors, curves = [], []
    for degree in (0, 1, 3, 6, 9, 12):
        explorer.controls["degree"].value = degree
        assert explorer.state["degree"] == degree and explorer.state["error"] is None
        assert explorer.state["weights"].shape == (degree + 1,)
        assert explorer.state["title"].startswith(f"degree {degree}, λ = 0:")
        errors.append(explorer.state["train_error"])
        curves.append(explorer.state["y_curve"].copy())
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False)), errors
    assert not np.allclose(curves[0], curves[1]) and not np.allclose(curves[2], curves[3])
    assert f"train MSE {errors[-1]:.3g}" in explorer.state["title"]
    assert f"{explorer.state['test_error']:.4g}" in explorer.status.value


def test_lambda_slider_shrinks_the_weights_and_flattens_the_curve(explorer):
    explorer.set(degree=9, lam=0.0)
    norms, spreads, train = [], [], []
    for lam in (0.0, 1e-6, 1e-3, 1.0, 100.0):
        explorer.controls["lam"].value = lam  # options: 0, 1e-8, ..., 1e2
        assert explorer.state["lam"] == lam
        assert f"λ = {format_number(lam)}" in explorer.state["title"]
        norms.append(explorer.state["weight_norm"])
        spreads.append(np.ptp(explorer.state["y_curve"]))
        train.append(explorer.state["train_error"])
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False)), norms
    assert norms[-1] < norms[0] / 100
    assert spreads[-1] < spreads[0] / 2  # a heavily penalised fit is nearly flat
    assert all(a < b for a, b in zip(train, train[1:], strict=False)), train


def test_each_change_redraws_one_figure_in_place(explorer):
    figures_before = plt.get_fignums()
    before, figure, axes = explorer.view.n_draws, explorer.view.figure, list(explorer.view.axes)
    png = explorer.view.widget.value
    explorer.controls["degree"].value = 5
    explorer.controls["show_test"].value = False
    assert explorer.view.n_draws == before + 2 and explorer.view.figure is figure
    assert explorer.view.axes == axes and len(figure.axes) == 2
    positions = [ax.get_position().bounds for ax in axes]
    explorer.set(degree=12, lam=1e-8)
    assert [ax.get_position().bounds for ax in axes] == positions  # layout frozen: no jumping
    assert explorer.view.widget.value[:4] == b"\x89PNG" and explorer.view.widget.value != png
    assert plt.get_fignums() == figures_before  # nothing registered with pyplot, nothing stacked
    labels = [c.get_label() for c in explorer.view.axes[0].collections]
    assert "test" not in labels and "train" in labels
    assert len(explorer.view.axes[0].get_lines()) == 1  # the fit only (no truth curve given)
    explorer.controls["show_test"].value = True
    assert "test" in [c.get_label() for c in explorer.view.axes[0].collections]


def test_set_changes_several_controls_with_one_redraw(explorer):
    before = explorer.view.n_draws
    explorer.set(degree=7, lam=1e-2, show_test=False)
    assert explorer.view.n_draws == before + 1
    assert (explorer.state["degree"], explorer.state["lam"], explorer.state["show_test"]) == (7, 1e-2, False)
    with pytest.raises(KeyError, match="unknown controls"):
        explorer.set(colour="red")


def test_truth_curve_custom_predict_and_options(data):
    calls = []

    def predict(phi, w):
        calls.append(phi.shape)
        return phi @ w

    explorer = degree_ridge_explorer(
        *data, features=features, fit=fit, loss=loss, predict=predict,
        true_fn=lambda x: np.sin(np.pi * x), max_degree=6, degree=2, lam=1e-3, loss_name="L2",
    )
    assert explorer.controls["degree"].max == 6
    assert explorer.state["lam"] == 1e-3 and "train L2" in explorer.state["title"]
    assert calls and calls[0][1] == 3
    lines = explorer.view.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["truth", "fit"]
    assert explorer._repr_mimebundle_()  # displayable


@pytest.mark.parametrize("broken", ["features", "fit", "loss"])
def test_a_student_error_is_shown_not_raised(data, broken):
    def unfinished(*args):
        raise NotImplementedError

    def crashing(*args):
        raise np.linalg.LinAlgError("Singular matrix")

    funcs = {"features": features, "fit": fit, "loss": loss}
    funcs[broken] = unfinished
    explorer = degree_ridge_explorer(*data, **funcs)
    assert explorer.state["error"] == "unfinished is not implemented yet"
    assert "not implemented" in explorer.status.value and "not implemented" in explorer.state["title"]
    funcs[broken] = crashing
    explorer = degree_ridge_explorer(*data, **funcs)
    assert explorer.state["error"] == "crashing raised LinAlgError: Singular matrix"
    explorer.controls["degree"].value = 4  # still responsive
    assert explorer.state["degree"] == 4


# --------------------------------------------------------------------------- building blocks


def test_log_slider_values_and_labels():
    assert log_values(-2, 1) == [0.01, 0.1, 1.0, 10.0]
    assert log_values(-1, 0, steps_per_decade=2, include_zero=True)[0] == 0.0
    assert len(log_values(-1, 0, steps_per_decade=2)) == 3
    slider = log_slider("λ", min_exp=-3, max_exp=1, value=1e-3)
    assert slider.value == 1e-3
    assert [label for label, _ in slider.options] == ["0", "0.001", "0.01", "0.1", "1", "10"]
    slider.value = 10.0
    assert slider.value == 10.0
    assert log_slider("λ", include_zero=False).value == 1e-8
    with pytest.raises(ValueError, match="not one of"):
        log_slider("λ", value=0.5)
    with pytest.raises(ValueError):
        log_values(2, 1)
    assert format_number(1e-8) == "1e-08" and format_number(100.0) == "100" and format_number(0) == "0"


def test_explorer_base_class_redraws_and_exposes_state():
    import ipywidgets as widgets

    class Line(Explorer):
        def __init__(self):
            super().__init__({"slope": widgets.FloatSlider(value=1.0, min=-2, max=2)}, FigureView())

        def draw(self, *, slope):
            x = np.linspace(0, 1, 5)
            (line,) = self.view.axes[0].plot(x, slope * x)
            return {"y": line.get_ydata(), "status": f"slope {slope}"}

    line = Line()
    assert line.view.n_draws == 1 and line.status.value == "slope 1.0"
    line.controls["slope"].value = -2.0
    np.testing.assert_allclose(line.state["y"], -2.0 * np.linspace(0, 1, 5))
    assert len(line.view.axes[0].get_lines()) == 1  # cleared before each draw
    assert line.values == {"slope": -2.0}
    with pytest.raises(NotImplementedError):
        Explorer({}, FigureView())
