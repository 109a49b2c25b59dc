"""Chapter 04 (regularization): the regularization-strength explorer.

A small MLP (2 -> 64 -> 64 -> 2, ReLU) learns a noisy two-moons problem from a few points.
The explorer trains it with the regularizers *you* wrote — an L2 or L1 penalty (your
``l2_penalty`` / ``l1_penalty``) and dropout (your ``dropout_forward`` / ``dropout_backward``)
— using chapter 03's layers, which it is given as well, and shows the decision boundary,
the weights and the learning curves. It contains no penalty or dropout code of its own.

Every training run starts from the same weights and sees the same dropout masks' random
stream, so a setting always gives the same picture; results are cached per setting, so going
back to a setting is instant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
from sklearn.datasets import make_moons

from helpers.widgets import Explorer, FigureView, format_number, log_slider

__all__ = ["RegularizationExplorer", "TrainingResult", "regularization_explorer", "train_moons_mlp"]

Array = np.ndarray


@dataclass
class Layers:
    """Chapter 03's building blocks (the course's layer convention)."""

    affine_forward: Callable[..., Any]
    affine_backward: Callable[..., Any]
    relu_forward: Callable[..., Any]
    relu_backward: Callable[..., Any]
    softmax_cross_entropy_loss: Callable[..., Any]

    @classmethod
    def of(cls, source: Any) -> Layers:
        """From a module (``dllib.ch03_mlp``), a mapping or an object with those attributes."""
        names = ["affine_forward", "affine_backward", "relu_forward", "relu_backward",
                 "softmax_cross_entropy_loss"]
        get = source.__getitem__ if isinstance(source, Mapping) else lambda n: getattr(source, n)
        return cls(*(get(n) for n in names))


@dataclass
class TrainingResult:
    """What one training run produced. ``history`` rows: (step, train loss, test loss)."""

    params: dict[str, Array]
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    history: Array
    penalty_value: float


def make_data(n_train: int, noise: float = 0.3, n_test: int = 500) -> tuple[Array, Array, Array, Array]:
    """Two moons: a small training set and a large test set from the same distribution."""
    X, y = make_moons(n_samples=n_train, noise=noise, random_state=0)
    Xt, yt = make_moons(n_samples=n_test, noise=noise, random_state=1)
    mean, std = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / std, y, (Xt - mean) / std, yt


def _init(rng: np.random.Generator, sizes: tuple[int, ...]) -> dict[str, Array]:
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
        params[f"b{i}"] = np.zeros(n_out)
    return params


def _scores(layers: Layers, params: dict[str, Array], X: Array, *, dropout: float = 0.0,
            dropout_fns: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
            rng: np.random.Generator | None = None, train: bool = False) -> tuple[Array, list]:
    n_layers = len(params) // 2
    h, caches = X, []
    for i in range(1, n_layers + 1):
        h, c_aff = layers.affine_forward(h, params[f"W{i}"], params[f"b{i}"])
        c_relu = c_drop = None
        if i < n_layers:
            h, c_relu = layers.relu_forward(h)
            if dropout > 0 and dropout_fns is not None:
                h, c_drop = dropout_fns[0](h, dropout, train=train, rng=rng)
        caches.append((c_aff, c_relu, c_drop))
    return h, caches


def _accuracy(scores: Array, y: Array) -> float:
    return float(np.mean(np.argmax(scores, axis=1) == y))


def train_moons_mlp(
    layers: Layers,
    X: Array,
    y: Array,
    X_test: Array,
    y_test: Array,
    *,
    penalty: Callable[[dict[str, Array], float], tuple[float, dict[str, Array]]] | None = None,
    lam: float = 0.0,
    dropout: float = 0.0,
    dropout_fns: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
    steps: int = 1500,
    lr: float = 0.2,
    hidden: int = 64,
    seed: int = 0,
    record_every: int = 50,
) -> TrainingResult:
    """Full-batch gradient descent on softmax cross-entropy (+ penalty on the weights W*).

    ``penalty(weights, lam) -> (value, grads)`` is called with the dict of weight matrices
    only (biases are not penalised). With ``dropout > 0``, ``dropout_fns = (forward,
    backward)`` are used after each hidden ReLU in training; evaluation runs in eval mode.
    """
    rng = np.random.default_rng(seed)
    params = _init(rng, (X.shape[1], hidden, hidden, 2))
    drop_rng = np.random.default_rng(seed + 1)
    history = []
    penalty_value = 0.0
    for step in range(steps + 1):
        scores, caches = _scores(layers, params, X, dropout=dropout, dropout_fns=dropout_fns,
                                 rng=drop_rng, train=True)
        loss, dscores = layers.softmax_cross_entropy_loss(scores, y)
        weights = {k: v for k, v in params.items() if k.startswith("W")}
        penalty_grads: dict[str, Array] = {}
        if penalty is not None and lam > 0:
            penalty_value, penalty_grads = penalty(weights, lam)
        if step % record_every == 0 or step == steps:
            train_scores, _ = _scores(layers, params, X)
            test_scores, _ = _scores(layers, params, X_test)
            history.append((step, layers.softmax_cross_entropy_loss(train_scores, y)[0],
                            layers.softmax_cross_entropy_loss(test_scores, y_test)[0]))
        if step == steps:
            break
        grads: dict[str, Array] = {}
        dh = dscores
        for i in range(len(caches), 0, -1):
            c_aff, c_relu, c_drop = caches[i - 1]
            if c_drop is not None:
                dh = dropout_fns[1](dh, c_drop)
            if c_relu is not None:
                dh = layers.relu_backward(dh, c_relu)
            dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(dh, c_aff)
        for name, g in penalty_grads.items():
            grads[name] = grads[name] + g
        for key in params:  # plain gradient descent, in place
            params[key] -= lr * grads[key]
    train_scores, _ = _scores(layers, params, X)
    test_scores, _ = _scores(layers, params, X_test)
    hist = np.array(history, dtype=float)
    return TrainingResult(params, float(hist[-1, 1]), float(hist[-1, 2]), _accuracy(train_scores, y),
                          _accuracy(test_scores, y_test), hist, float(penalty_value))


def _describe(exc: BaseException, what: str) -> str:
    if isinstance(exc, NotImplementedError):
        return f"{what} is not implemented yet"
    return f"{what} raised {type(exc).__name__}: {exc}"


class _StudentError(Exception):
    """A given function failed; the message names it."""


def _named(fn: Callable[..., Any] | None, name: str) -> Callable[..., Any] | None:
    """``fn`` with its failures turned into a _StudentError that names it."""
    if fn is None:
        return None

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise _StudentError(_describe(exc, name)) from exc

    return wrapper


class RegularizationExplorer(Explorer):
    """Penalty (none / L2 / L1) and its strength λ, dropout probability, training-set size.

    Panels: decision boundary (probability of class 1) with the training points (and the
    test points faintly); the sorted weight magnitudes (L1 makes many exactly tiny); the
    training and test loss during training. ``state``: the control values, ``train_acc``,
    ``test_acc``, ``train_loss``, ``test_loss``, ``weight_l2`` (the norm of all weights),
    ``tiny_weights`` (fraction with |w| < 1e-3), ``probabilities`` (the plotted grid),
    ``history`` and ``error``.
    """

    def __init__(
        self,
        layers: Layers,
        *,
        l2_penalty: Callable[..., Any] | None = None,
        l1_penalty: Callable[..., Any] | None = None,
        dropout_forward: Callable[..., Any] | None = None,
        dropout_backward: Callable[..., Any] | None = None,
        penalty: str = "L2",
        lam: float = 0.0,
        dropout: float = 0.0,
        n_train: int = 60,
        steps: int = 1500,
        grid: int = 120,
    ) -> None:
        self.layers = layers
        self.penalties = {"none": None, "L2": _named(l2_penalty, "l2_penalty"),
                          "L1": _named(l1_penalty, "l1_penalty")}
        self.dropout_fns = (
            (_named(dropout_forward, "dropout_forward"), _named(dropout_backward, "dropout_backward"))
            if dropout_forward is not None and dropout_backward is not None else None
        )
        self.steps = steps
        self._cache: dict[tuple, TrainingResult | str] = {}
        self._data: dict[int, tuple[Array, Array, Array, Array]] = {}
        self.grid_n = grid
        penalty_options = [name for name, fn in self.penalties.items() if name == "none" or fn is not None]
        controls: dict[str, widgets.ValueWidget] = {
            "penalty": widgets.ToggleButtons(options=penalty_options,
                                             value=penalty if penalty in penalty_options else "none",
                                             description="penalty"),
            "lam": log_slider("λ", min_exp=-5, max_exp=0, value=lam, steps_per_decade=1,
                              include_zero=True, continuous_update=False),
            "dropout": widgets.SelectionSlider(
                options=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], value=dropout,
                description="dropout p", continuous_update=False,
                disabled=self.dropout_fns is None, style={"description_width": "initial"}),
            "n_train": widgets.SelectionSlider(options=[30, 60, 120, 240, 480], value=n_train,
                                               description="training points", continuous_update=False,
                                               style={"description_width": "initial"}),
        }
        super().__init__(controls, FigureView(ncols=3, figsize=(13.0, 4.0)))
        c = self.controls
        self.widget = widgets.VBox([widgets.HBox([c["penalty"], c["lam"]]),
                                    widgets.HBox([c["dropout"], c["n_train"]]),
                                    self.view.widget, self.status])

    def data(self, n_train: int) -> tuple[Array, Array, Array, Array]:
        if n_train not in self._data:
            self._data[n_train] = make_data(n_train)
        return self._data[n_train]

    def result(self, penalty: str, lam: float, dropout: float, n_train: int) -> TrainingResult | str:
        """Train (or reuse) the model for one setting; a string is an error message."""
        key = (penalty, float(lam), float(dropout), int(n_train))
        if key not in self._cache:
            X, y, Xt, yt = self.data(int(n_train))
            fn = self.penalties.get(penalty)
            try:
                self._cache[key] = train_moons_mlp(
                    self.layers, X, y, Xt, yt, penalty=fn, lam=float(lam) if fn else 0.0,
                    dropout=float(dropout) if self.dropout_fns else 0.0,
                    dropout_fns=self.dropout_fns, steps=self.steps)
            except _StudentError as exc:
                self._cache[key] = str(exc)
            except Exception as exc:  # e.g. a penalty returning the wrong shapes
                self._cache[key] = _describe(exc, "training")
        return self._cache[key]

    def draw(self, *, penalty: str, lam: float, dropout: float, n_train: int) -> dict[str, Any]:
        ax_b, ax_w, ax_h = self.view.axes
        state: dict[str, Any] = {"penalty": penalty, "lam": float(lam), "dropout": float(dropout),
                                 "n_train": int(n_train)}
        result = self.result(penalty, lam, dropout, n_train)
        X, y, Xt, yt = self.data(int(n_train))
        if isinstance(result, str):
            for ax in self.view.axes:
                ax.set_axis_off()
            ax_b.text(0.0, 0.5, result, color="C3", transform=ax_b.transAxes, wrap=True)
            return {**state, "error": result, "title": result,
                    "status": f"<b style='color:#c00'>{result}</b>"}

        lo = np.minimum(X.min(axis=0), Xt.min(axis=0)) - 0.3
        hi = np.maximum(X.max(axis=0), Xt.max(axis=0)) + 0.3
        g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], self.grid_n), np.linspace(lo[1], hi[1], self.grid_n))
        scores, _ = _scores(self.layers, result.params, np.column_stack([g0.ravel(), g1.ravel()]))
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores[:, 1]) / np.exp(scores).sum(axis=1)
        probs = probs.reshape(g0.shape)
        ax_b.contourf(g0, g1, probs, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax_b.contour(g0, g1, probs, levels=[0.5], colors="k", linewidths=1.5)
        ax_b.scatter(Xt[:, 0], Xt[:, 1], c=yt, cmap="RdBu_r", s=6, alpha=0.25, edgecolors="none")
        ax_b.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=28, edgecolors="k", linewidths=0.8)
        what = "no penalty" if penalty == "none" else f"{penalty}, λ = {format_number(float(lam))}"
        title = f"{what}, dropout {dropout:g}: train acc {result.train_acc:.2f}, test acc {result.test_acc:.2f}"
        ax_b.set_title(title, fontsize=9)
        ax_b.set_xticks([])
        ax_b.set_yticks([])

        weights = np.concatenate([v.ravel() for k, v in result.params.items() if k.startswith("W")])
        mags = np.sort(np.abs(weights))[::-1]
        ax_w.semilogy(np.arange(1, mags.size + 1), np.maximum(mags, 1e-8), color="C2")
        ax_w.axhline(1e-3, color="0.5", ls=":", lw=1)
        ax_w.set_ylim(1e-8, max(10.0, float(mags.max()) * 2))
        ax_w.set_xlabel("weights, largest first")
        ax_w.set_ylabel("|w| (log)")
        tiny = float(np.mean(np.abs(weights) < 1e-3))
        weight_l2 = float(np.linalg.norm(weights))
        ax_w.set_title(f"‖W‖₂ = {weight_l2:.3g}; {100 * tiny:.0f}% of weights below 1e-3", fontsize=9)

        hist = result.history
        ax_h.plot(hist[:, 0], hist[:, 1], label="train loss")
        ax_h.plot(hist[:, 0], hist[:, 2], label="test loss")
        ax_h.set_yscale("log")
        ax_h.set_xlabel("gradient step")
        ax_h.set_title("cross-entropy during training", fontsize=9)
        ax_h.legend(fontsize=8)
        status = (f"train accuracy <b>{result.train_acc:.3f}</b>, test accuracy <b>{result.test_acc:.3f}</b>; "
                  f"train loss {result.train_loss:.3g}, test loss {result.test_loss:.3g}")
        return {**state, "error": None, "train_acc": result.train_acc, "test_acc": result.test_acc,
                "train_loss": result.train_loss, "test_loss": result.test_loss, "weight_l2": weight_l2,
                "tiny_weights": tiny, "probabilities": probs, "history": hist, "title": title,
                "status": status}


def regularization_explorer(
    layers: Any,
    *,
    l2_penalty: Callable[..., Any] | None = None,
    l1_penalty: Callable[..., Any] | None = None,
    dropout_forward: Callable[..., Any] | None = None,
    dropout_backward: Callable[..., Any] | None = None,
    **options: Any,
) -> RegularizationExplorer:
    """The regularization-strength explorer, built from your functions.

    Args:
        layers: chapter 03's layers, e.g. the module ``dllib.ch03_mlp`` (anything with
            ``affine_forward``, ``affine_backward``, ``relu_forward``, ``relu_backward`` and
            ``softmax_cross_entropy_loss``).
        l2_penalty, l1_penalty: ``penalty(weights, lam) -> (value, grads)``.
        dropout_forward, dropout_backward: ``dropout_forward(x, p, train=..., rng=...) ->
            (out, cache)`` and ``dropout_backward(dout, cache) -> dx``.
        **options: ``penalty`` ("L2"), ``lam`` (0.0; one of 0, 1e-5, ..., 1), ``dropout``
            (0.0), ``n_train`` (60), ``steps`` (1500).
    """
    return RegularizationExplorer(Layers.of(layers), l2_penalty=l2_penalty, l1_penalty=l1_penalty,
                                  dropout_forward=dropout_forward, dropout_backward=dropout_backward,
                                  **options)
