"""Chapter 01 (ML basics): the polynomial degree and ridge-λ explorer.

The explorer only *calls* the functions it is given (the student's ``polynomial_features``,
``fit_ridge`` and ``mse``); it contains no feature, fitting or error code of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from helpers.widgets import Explorer, FigureView, format_number, log_slider

__all__ = ["DegreeRidgeExplorer", "degree_ridge_explorer"]

Features = Callable[[np.ndarray, int], np.ndarray]
Fit = Callable[[np.ndarray, np.ndarray, float], np.ndarray]
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]
Loss = Callable[[np.ndarray, np.ndarray], float]


def _matmul_predict(phi: np.ndarray, w: np.ndarray) -> np.ndarray:
    return phi @ w


def _describe_error(exc: Exception, role: str, fn: Callable[..., Any]) -> str:
    fn_name = getattr(fn, "__name__", role)
    if isinstance(exc, NotImplementedError):
        return f"{fn_name} is not implemented yet"
    return f"{fn_name} raised {type(exc).__name__}: {exc}"


class DegreeRidgeExplorer(Explorer):
    """Polynomial ridge regression with a degree slider, a λ slider and a test-points toggle.

    ``state`` after each draw: ``degree``, ``lam``, ``show_test``, ``x_curve``, ``y_curve``
    (the plotted fit), ``weights``, ``weight_norm``, ``train_error``, ``test_error``,
    ``title`` and ``error`` (``None``, or the message shown when a given function failed).
    """

    def __init__(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
        *,
        features: Features,
        fit: Fit,
        loss: Loss,
        predict: Predict | None = None,
        true_fn: Callable[[np.ndarray], np.ndarray] | None = None,
        max_degree: int = 15,
        degree: int = 3,
        lam: float = 0.0,
        lam_exps: tuple[int, int] = (-8, 2),
        show_test: bool = True,
        loss_name: str = "MSE",
        n_curve: int = 400,
    ) -> None:
        self.x_train = np.asarray(x_train, dtype=float).ravel()
        self.y_train = np.asarray(y_train, dtype=float).ravel()
        self.x_test = np.asarray(x_test, dtype=float).ravel()
        self.y_test = np.asarray(y_test, dtype=float).ravel()
        self.features, self.fit, self.loss = features, fit, loss
        self.predict = predict if predict is not None else _matmul_predict
        self.true_fn = true_fn
        self.loss_name = loss_name

        x_all = np.concatenate([self.x_train, self.x_test])
        y_all = np.concatenate([self.y_train, self.y_test])
        self.x_curve = np.linspace(x_all.min(), x_all.max(), n_curve)
        span = float(np.ptp(y_all)) or 1.0
        self.ylim = (float(y_all.min()) - 0.35 * span, float(y_all.max()) + 0.35 * span)

        controls = {
            "degree": widgets.IntSlider(
                value=degree, min=0, max=max_degree, description="degree", continuous_update=True
            ),
            "lam": log_slider(
                "λ", min_exp=lam_exps[0], max_exp=lam_exps[1], value=lam, include_zero=True
            ),
            "show_test": widgets.Checkbox(value=show_test, description="show test points"),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(10.0, 3.8), freeze_layout=True))

    # ------------------------------------------------------------------ computation

    def _fit_and_score(self, degree: int, lam: float) -> dict[str, Any]:
        step = ("features", self.features)
        try:
            phi_train = np.asarray(self.features(self.x_train, degree), dtype=float)
            phi_test = np.asarray(self.features(self.x_test, degree), dtype=float)
            phi_curve = np.asarray(self.features(self.x_curve, degree), dtype=float)
            step = ("fit", self.fit)
            w = np.asarray(self.fit(phi_train, self.y_train, lam), dtype=float).ravel()
            step = ("predict", self.predict)
            y_curve = np.asarray(self.predict(phi_curve, w), dtype=float).ravel()
            fit_train = np.asarray(self.predict(phi_train, w), dtype=float).ravel()
            fit_test = np.asarray(self.predict(phi_test, w), dtype=float).ravel()
            step = ("loss", self.loss)
            train_error = float(self.loss(self.y_train, fit_train))
            test_error = float(self.loss(self.y_test, fit_test))
        except Exception as exc:  # show the student's error in the widget, don't crash it
            return {"error": _describe_error(exc, *step)}
        return {
            "error": None,
            "weights": w,
            "weight_norm": float(np.linalg.norm(w)),
            "y_curve": y_curve,
            "train_error": train_error,
            "test_error": test_error,
        }

    # ------------------------------------------------------------------ drawing

    def draw(self, *, degree: int, lam: float, show_test: bool) -> dict[str, Any]:
        ax_fit, ax_w = self.view.axes
        result = self._fit_and_score(int(degree), float(lam))
        lam_text = format_number(float(lam))

        ax_fit.scatter(self.x_train, self.y_train, s=22, color="C0", label="train", zorder=3)
        if show_test:
            ax_fit.scatter(
                self.x_test, self.y_test, s=10, color="C1", alpha=0.5, label="test", zorder=2
            )
        if self.true_fn is not None:
            ax_fit.plot(
                self.x_curve, self.true_fn(self.x_curve), "--", color="0.5", lw=1, label="truth"
            )
        ax_fit.set_ylim(*self.ylim)
        ax_fit.set_xlabel("x")
        ax_fit.set_ylabel("y")

        state: dict[str, Any] = {
            "degree": int(degree),
            "lam": float(lam),
            "show_test": bool(show_test),
            "x_curve": self.x_curve,
            **result,
        }
        if result["error"] is not None:
            title = f"degree {degree}, λ = {lam_text}: {result['error']}"
            ax_fit.set_title(title, fontsize=9, color="C3")
            ax_w.text(0.5, 0.5, result["error"], ha="center", va="center", wrap=True,
                      transform=ax_w.transAxes, color="C3")
            ax_w.set_axis_off()
            state.update(title=title, status=f"<b style='color:#c00'>{result['error']}</b>")
            return state

        ax_fit.plot(self.x_curve, result["y_curve"], color="C3", lw=2, label="fit")
        ax_fit.legend(loc="best", fontsize=8)
        title = (
            f"degree {degree}, λ = {lam_text}: train {self.loss_name} "
            f"{result['train_error']:.3g}, test {self.loss_name} {result['test_error']:.3g}"
        )
        ax_fit.set_title(title, fontsize=10)

        w_abs = np.maximum(np.abs(result["weights"]), 1e-12)
        ax_w.set_axis_on()
        ax_w.plot(np.arange(w_abs.size), w_abs, "o-", color="C2")
        ax_w.set_yscale("log")
        ax_w.yaxis.set_major_locator(LogLocator(numticks=6))
        ax_w.yaxis.set_minor_locator(NullLocator())  # fewer tick artists: faster redraws
        ax_w.set_ylim(1e-4, max(1e4, float(w_abs.max()) * 3))
        ax_w.set_xlabel("weight index j (coefficient of $x^j$)")
        ax_w.set_ylabel("$|w_j|$")
        ax_w.set_title(f"weights: ‖w‖ = {result['weight_norm']:.3g}", fontsize=10)
        state.update(
            title=title,
            status=(
                f"train {self.loss_name}: <b>{result['train_error']:.4g}</b> &nbsp; "
                f"test {self.loss_name}: <b>{result['test_error']:.4g}</b> &nbsp; "
                f"‖w‖: {result['weight_norm']:.3g}"
            ),
        )
        return state


def degree_ridge_explorer(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    features: Features,
    fit: Fit,
    loss: Loss,
    predict: Predict | None = None,
    **options: Any,
) -> DegreeRidgeExplorer:
    """Build the degree / ridge-λ explorer from your own functions.

    Args:
        x_train, y_train, x_test, y_test: 1-D float arrays (inputs and targets).
        features: ``features(x, degree) -> Phi`` with ``Phi`` of shape (n, degree + 1).
        fit: ``fit(Phi, y, lam) -> w`` with ``w`` of shape (degree + 1,).
        loss: ``loss(y_true, y_pred) -> float``.
        predict: ``predict(Phi, w) -> y_pred``; default ``Phi @ w``.
        **options: ``true_fn``, ``max_degree`` (15), ``degree`` (3), ``lam`` (0.0; a value
            among 0, 1e-8, ..., 1e2), ``lam_exps`` ((-8, 2)), ``show_test`` (True),
            ``loss_name`` ("MSE").
    """
    return DegreeRidgeExplorer(
        x_train, y_train, x_test, y_test,
        features=features, fit=fit, loss=loss, predict=predict, **options,
    )
