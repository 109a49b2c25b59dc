"""Chapter 03 (MLPs): the activation explorer and the 2-D decision-boundary playground.

Both only *call* the functions they are given — the student's activation, affine, MLP and
loss functions — and contain no layer, loss or backward code of their own.

- ``activation_explorer``: an activation's function and derivative (from the student's
  backward pass with ``dout = 1``), and how the size of a gradient changes on its way down a
  stack of random affine + activation layers.
- ``decision_boundary_playground``: trains a small MLP on a 2-D data set in short bursts of
  full-batch gradient descent, redrawing the decision regions and the loss curve after each
  burst. *train* runs the bursts as an asyncio task on the kernel's event loop, so the
  notebook stays responsive; *step* runs one burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from sklearn.datasets import make_circles, make_moons

from helpers.widgets import Explorer, FigureView, format_number

__all__ = [
    "DATASETS",
    "LEARNING_RATES",
    "ActivationExplorer",
    "DecisionBoundaryPlayground",
    "activation_explorer",
    "decision_boundary_playground",
    "make_dataset",
]


def describe_error(exc: BaseException) -> str:
    """A one-line description of an exception raised by the student's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].name if frames else "your code"
    if isinstance(exc, NotImplementedError):
        return f"{where} is not implemented yet"
    return f"{where} raised {type(exc).__name__}: {exc}"


def _first(result: Any) -> np.ndarray:
    """dx from a backward pass that returns dx alone or a tuple (dx, *dparams)."""
    if isinstance(result, tuple | list):
        result = result[0]
    return np.asarray(result, dtype=float)


# =========================================================================== activations


class ActivationExplorer(Explorer):
    """Function, derivative and gradient flow through depth for the given activations.

    ``activations`` maps a name to ``(forward, backward)`` in the course's layer convention;
    names in ``alpha`` take a second argument ``forward(x, alpha)`` set by the α slider (which
    is disabled for the others). ``state`` after each draw: ``activation``, ``alpha``,
    ``depth``, ``scale``, ``x``, ``f`` and ``df`` (the plotted curves), ``grad_rms`` (RMS of
    the gradient at the input of layers 1 ... depth; ``grad_rms[0]`` is the bottom),
    ``act_std`` (standard deviation of each layer's output), ``ratio`` (bottom / top gradient
    RMS), ``error`` and ``status``.
    """

    def __init__(
        self,
        activations: Mapping[str, tuple[Callable[..., Any], Callable[..., Any]]],
        *,
        affine_forward: Callable[..., Any],
        affine_backward: Callable[..., Any],
        alpha: Mapping[str, float] | None = None,
        activation: str | None = None,
        depth: int = 10,
        scale: float = 1.0,
        width: int = 64,
        batch: int = 128,
        max_depth: int = 40,
        seed: int = 0,
    ) -> None:
        if not activations:
            raise ValueError("activations is empty: pass e.g. {'relu': (relu_forward, relu_backward)}")
        self.activations = dict(activations)
        self.alpha_defaults = dict(alpha or {})
        self.affine_forward, self.affine_backward = affine_forward, affine_backward
        self.width, self.batch, self.seed = width, batch, seed
        self.x = np.linspace(-5.0, 5.0, 401)
        name = activation if activation is not None else next(iter(self.activations))
        controls = {
            "activation": widgets.Dropdown(options=list(self.activations), value=name,
                                           description="activation"),
            "alpha": widgets.FloatSlider(value=self.alpha_defaults.get(name, 0.1), min=-0.5,
                                         max=2.0, step=0.05, description="α",
                                         disabled=name not in self.alpha_defaults,
                                         continuous_update=False),
            "depth": widgets.IntSlider(value=depth, min=1, max=max_depth, description="depth",
                                       continuous_update=False),
            "scale": widgets.FloatSlider(value=scale, min=0.25, max=3.0, step=0.05,
                                         description="weight scale", continuous_update=False,
                                         style={"description_width": "initial"}),
        }
        self._switching = False
        super().__init__(controls, FigureView(ncols=2, figsize=(10.0, 3.6)))

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if self._switching:
            return
        if change.get("owner") is self.controls["activation"]:
            # a new activation: its own default α (one redraw, not two)
            name = change["new"]
            self._switching = True
            try:
                self.controls["alpha"].disabled = name not in self.alpha_defaults
                if name in self.alpha_defaults:
                    self.controls["alpha"].value = self.alpha_defaults[name]
            finally:
                self._switching = False
        self.update()

    def _args(self, name: str, alpha: float) -> tuple[Any, ...]:
        return (float(alpha),) if name in self.alpha_defaults else ()

    def _curves(self, name: str, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        forward, backward = self.activations[name]
        x = self.x[:, None]  # (points, 1): a batch of one-feature samples
        out, cache = forward(x, *self._args(name, alpha))
        dx = _first(backward(np.ones_like(x), cache))
        return np.asarray(out, dtype=float).ravel(), dx.ravel()

    def _depth_profile(self, name: str, alpha: float, depth: int, scale: float):
        forward, backward = self.activations[name]
        rng = np.random.default_rng(self.seed)
        h = rng.normal(size=(self.batch, self.width))
        stack, act_std = [], []
        for _ in range(depth):
            W = rng.normal(size=(self.width, self.width)) * scale / np.sqrt(self.width)
            z, z_cache = self.affine_forward(h, W, np.zeros(self.width))
            h, h_cache = forward(np.asarray(z, dtype=float), *self._args(name, alpha))
            h = np.asarray(h, dtype=float)
            stack.append((z_cache, h_cache))
            act_std.append(float(np.std(h)))
        grad = rng.normal(size=h.shape)
        rms = []
        for z_cache, h_cache in reversed(stack):
            dz = _first(backward(grad, h_cache))
            grad = _first(self.affine_backward(dz, z_cache))
            rms.append(float(np.sqrt(np.mean(grad**2))))
        return np.array(rms[::-1]), np.array(act_std)

    def draw(self, *, activation: str, alpha: float, depth: int, scale: float) -> dict[str, Any]:
        ax_f, ax_g = self.view.axes
        state: dict[str, Any] = {"activation": activation, "alpha": float(alpha),
                                 "depth": int(depth), "scale": float(scale), "error": None}
        try:
            f, df = self._curves(activation, alpha)
            grad_rms, act_std = self._depth_profile(activation, alpha, int(depth), float(scale))
        except Exception as exc:  # show the student's error in the widget, don't crash it
            message = describe_error(exc)
            for ax in (ax_f, ax_g):
                ax.set_axis_off()
            ax_f.text(0.5, 0.5, message, ha="center", va="center", color="C3", wrap=True,
                      transform=ax_f.transAxes)
            state.update(error=message, status=f"<b style='color:#c00'>{message}</b>")
            return state
        for ax in (ax_f, ax_g):
            ax.set_axis_on()
        label = activation + (f" (α = {alpha:.2f})" if activation in self.alpha_defaults else "")
        ax_f.axhline(0, color="0.8", lw=0.8)
        ax_f.axvline(0, color="0.8", lw=0.8)
        ax_f.plot(self.x, f, color="C0", lw=2, label="f(x)")
        ax_f.plot(self.x, df, color="C1", lw=1.5, ls="--", label="f'(x) from your backward")
        ax_f.set(xlabel="x", title=label, ylim=(min(-1.5, float(np.nanmin(f)) - 0.2), 3.0))
        ax_f.legend(fontsize=8, loc="upper left")

        layers = np.arange(1, int(depth) + 1)
        finite = np.isfinite(grad_rms) & (grad_rms > 0)
        ratio = float(grad_rms[0] / grad_rms[-1]) if finite[0] and finite[-1] else 0.0
        ax_g.semilogy(layers[finite], grad_rms[finite], "o-", ms=3, color="C2")
        ax_g.set(xlabel="layer (1 = bottom, next to the input)",
                 ylabel="RMS of ∂L/∂(layer input)",
                 title=f"{int(depth)} layers, weight scale {scale:.2f}: bottom/top = {ratio:.2g}")
        ax_g.set_xlim(0.5, max(int(depth), 2) + 0.5)
        state.update(x=self.x, f=f, df=df, grad_rms=grad_rms, act_std=act_std, ratio=ratio,
                     label=label,
                     status=(f"gradient at the bottom / at the top: <b>{ratio:.3g}</b> &nbsp; "
                             f"std of the last layer's output: {act_std[-1]:.3g}"))
        return state


def activation_explorer(
    activations: Mapping[str, tuple[Callable[..., Any], Callable[..., Any]]],
    *,
    affine_forward: Callable[..., Any],
    affine_backward: Callable[..., Any],
    **options: Any,
) -> ActivationExplorer:
    """Build the activation explorer from your own functions.

    Args:
        activations: name -> ``(forward, backward)``, e.g.
            ``{"relu": (relu_forward, relu_backward), ...}``; ``forward(x) -> (out, cache)``
            and ``backward(dout, cache) -> dx`` (or a tuple whose first item is dx).
        affine_forward, affine_backward: your affine layer.
        **options: ``alpha`` (name -> default α for the activations that take
            ``forward(x, alpha)``), ``activation`` (shown first), ``depth`` (10), ``scale``
            (1.0), ``width`` (64), ``batch`` (128), ``max_depth`` (40), ``seed`` (0).
    """
    return ActivationExplorer(activations, affine_forward=affine_forward,
                              affine_backward=affine_backward, **options)


# =========================================================================== playground


def _xor(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    X += 0.12 * np.sign(X)  # a small gap around the axes
    return X, (X[:, 0] * X[:, 1] < 0).astype(int)


def _spiral(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    m = n // 2
    t = np.sqrt(rng.uniform(0.0, 1.0, size=m)) * 3.0 * np.pi
    arm = np.column_stack([t * np.cos(t), t * np.sin(t)]) + rng.normal(scale=0.35, size=(m, 2))
    return np.concatenate([arm, -arm]), np.repeat([0, 1], m)


def _blobs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % 2
    centers = np.array([[-1.0, -0.6], [1.0, 0.6]])
    return centers[y] + rng.normal(scale=0.55, size=(n, 2)), y


DATASETS: dict[str, Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]] = {
    "moons": lambda n, rng: make_moons(n, noise=0.15, random_state=int(rng.integers(1 << 30))),
    "circles": lambda n, rng: make_circles(n, noise=0.08, factor=0.45,
                                           random_state=int(rng.integers(1 << 30))),
    "xor": _xor,
    "spiral": _spiral,
    "linear": _blobs,
}


LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]


def make_dataset(name: str, n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A standardised 2-D binary data set: X of shape (n, 2), integer labels y of shape (n,)."""
    if name not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; known: {sorted(DATASETS)}")
    X, y = DATASETS[name](n, np.random.default_rng(seed))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(float), np.asarray(y, dtype=int)


class DecisionBoundaryPlayground:
    """Train an MLP on 2-D data in small steps, with the decision regions redrawn live.

    Controls (``controls``): ``dataset``, ``width`` (hidden units per layer), ``depth``
    (hidden layers), ``activation``, ``learning_rate``; changing any but the learning rate
    starts a fresh network. Buttons: ``train_button`` (a toggle: train / pause),
    ``step_button`` (one burst of ``steps_per_update`` gradient steps), ``reset_button``.
    Methods ``step()``, ``start()``, ``pause()``, ``reset()`` do the same from code.

    ``state`` after each redraw: ``dataset``, ``width``, ``depth``, ``activation``,
    ``learning_rate``, ``sizes``, ``steps`` (gradient steps so far), ``losses`` (one per
    step), ``loss``, ``accuracy``, ``probability`` (class-1 probability on the plotted grid),
    ``running``, ``diverged``, ``error`` and ``status``.
    """

    def __init__(
        self,
        *,
        init: Callable[[Sequence[int], np.random.Generator], list[Any]],
        forward: Callable[..., Any],
        backward: Callable[..., Any],
        loss: Callable[..., Any],
        activations: Sequence[str],
        dataset: str = "moons",
        width: int = 8,
        depth: int = 2,
        activation: str | None = None,
        learning_rate: float = 0.3,
        steps_per_update: int = 10,
        max_steps: int = 20000,
        n_points: int = 200,
        grid_size: int = 90,
        interval: float = 0.03,
        seed: int = 0,
    ) -> None:
        self.init, self.forward, self.backward, self.loss = init, forward, backward, loss
        self.steps_per_update, self.max_steps = steps_per_update, max_steps
        self.n_points, self.interval, self.seed = n_points, interval, seed
        activations = list(activations)
        if not activations:
            raise ValueError("activations is empty: pass e.g. ['relu', 'tanh']")
        rates = LEARNING_RATES
        if learning_rate not in rates:
            raise ValueError(f"learning_rate must be one of {rates}")
        self.controls: dict[str, widgets.ValueWidget] = {
            "dataset": widgets.Dropdown(options=list(DATASETS), value=dataset, description="data"),
            "width": widgets.IntSlider(value=width, min=1, max=64, description="width",
                                       continuous_update=False),
            "depth": widgets.IntSlider(value=depth, min=0, max=6, description="hidden layers",
                                       continuous_update=False,
                                       style={"description_width": "initial"}),
            "activation": widgets.Dropdown(options=activations,
                                           value=activation or activations[0],
                                           description="activation"),
            "learning_rate": widgets.SelectionSlider(
                options=[(format_number(v), v) for v in rates], value=learning_rate,
                description="learning rate", continuous_update=False,
                style={"description_width": "initial"}),
        }
        self.train_button = widgets.ToggleButton(value=False, description="▶ train",
                                                 tooltip="train / pause")
        self.step_button = widgets.Button(description="step", tooltip="one burst of steps")
        self.reset_button = widgets.Button(description="reset", tooltip="a fresh network")
        self.view = FigureView(ncols=2, figsize=(10.0, 4.0))
        self.status = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([self.controls["dataset"], self.controls["activation"],
                          self.controls["learning_rate"]]),
            widgets.HBox([self.controls["width"], self.controls["depth"], self.train_button,
                          self.step_button, self.reset_button]),
            self.view.widget,
            self.status,
        ])
        self.state: dict[str, Any] = {}
        self.running = False
        self._task: asyncio.Task[None] | None = None
        self._artists: dict[str, Any] = {}

        g = np.linspace(-3.0, 3.0, grid_size)
        self._gx, self._gy = np.meshgrid(g, g)
        self._grid = np.column_stack([self._gx.ravel(), self._gy.ravel()])

        for name, control in self.controls.items():
            control.observe(self._on_learning_rate if name == "learning_rate" else self._on_setup,
                            names="value")
        self.train_button.observe(self._on_train_toggle, names="value")
        self.step_button.on_click(lambda _b: self.step())
        self.reset_button.on_click(lambda _b: self.reset())
        self.reset()

    # ------------------------------------------------------------------ setup

    @property
    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    @property
    def sizes(self) -> tuple[int, ...]:
        v = self.values
        return (2, *([int(v["width"])] * int(v["depth"])), 2)

    def reset(self) -> None:
        """A fresh network for the current data set and architecture (training pauses)."""
        self.pause()
        v = self.values
        self.X, self.y = make_dataset(v["dataset"], self.n_points, self.seed)
        self.steps, self.losses = 0, []
        self.diverged, self.error = False, None
        try:
            self.params = self.init(self.sizes, np.random.default_rng(self.seed))
        except Exception as exc:  # show the student's error in the widget, don't crash it
            self.params, self.error = None, describe_error(exc)
        self._artists = {}
        self.redraw()

    def _on_setup(self, _change: Mapping[str, Any]) -> None:
        self.reset()

    def _on_learning_rate(self, _change: Mapping[str, Any]) -> None:
        if not self.running:
            self.redraw()

    def set(self, **values: Any) -> None:
        """Set several controls at once; starts a fresh network unless only the rate changes."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"unknown controls {sorted(unknown)}; known: {sorted(self.controls)}")
        with self._observers_off():
            for name, value in values.items():
                self.controls[name].value = value
        if set(values) - {"learning_rate"}:
            self.reset()
        else:
            self.redraw()

    @contextlib.contextmanager
    def _observers_off(self) -> Iterator[None]:
        for name, control in self.controls.items():
            control.unobserve(self._on_learning_rate if name == "learning_rate" else self._on_setup,
                              names="value")
        try:
            yield
        finally:
            for name, control in self.controls.items():
                control.observe(self._on_learning_rate if name == "learning_rate" else self._on_setup,
                                names="value")

    # ------------------------------------------------------------------ training

    def train_steps(self, n: int) -> None:
        """n full-batch gradient-descent steps with the given functions (no redraw)."""
        if self.params is None or self.error is not None or self.diverged:
            return
        lr = float(self.controls["learning_rate"].value)
        activation = self.controls["activation"].value
        try:
            for _ in range(n):
                scores, cache = self.forward(self.params, self.X, activation)
                loss, dscores = self.loss(scores, self.y)
                grads = self.backward(dscores, cache)
                for (W, b), (dW, db) in zip(self.params, grads, strict=True):
                    W -= lr * dW
                    b -= lr * db
                self.steps += 1
                self.losses.append(float(loss))
                if not np.isfinite(loss) or loss > 1e6:
                    self.diverged = True
                    break
        except Exception as exc:  # show the student's error in the widget, don't crash it
            self.error = describe_error(exc)

    def step(self) -> None:
        """One burst: ``steps_per_update`` gradient steps, then one redraw."""
        self.train_steps(self.steps_per_update)
        self.redraw()

    def start(self) -> None:
        """Train in bursts until paused (an asyncio task on the running event loop).

        Without a running event loop (a plain script) it runs ten bursts synchronously.
        """
        if self.running:
            return
        self.running = True
        self._sync_button(True)
        loop = None
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
        if loop is None:
            for _ in range(10):
                self.step()
            self.pause()
            return
        if self._task is not None and not self._task.done():
            self._task.cancel()  # paused and restarted within one interval: one loop only
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        me = asyncio.current_task()
        try:
            while self.running and self._task is me:
                self.step()
                if self.error is not None or self.diverged or self.steps >= self.max_steps:
                    break
                await asyncio.sleep(self.interval)  # the kernel handles widget events here
        finally:
            if self._task is me:  # a cancelled, superseded loop leaves the new one running
                self.pause()

    def pause(self) -> None:
        """Stop training after the current burst."""
        self.running = False
        self._sync_button(False)
        if self.state:
            self.state["running"] = False

    def _sync_button(self, value: bool) -> None:
        self.train_button.unobserve(self._on_train_toggle, names="value")
        try:
            self.train_button.value = value
            self.train_button.description = "⏸ pause" if value else "▶ train"
        finally:
            self.train_button.observe(self._on_train_toggle, names="value")

    def _on_train_toggle(self, change: Mapping[str, Any]) -> None:
        if change["new"]:
            self.start()
        else:
            self.pause()

    # ------------------------------------------------------------------ drawing

    def _probability(self) -> np.ndarray:
        scores, _ = self.forward(self.params, self._grid, self.controls["activation"].value)
        margin = np.clip(np.asarray(scores, dtype=float) @ np.array([-1.0, 1.0]), -50, 50)
        return (0.5 + 0.5 * np.tanh(margin / 2)).reshape(self._gx.shape)

    def _accuracy(self) -> float:
        scores, _ = self.forward(self.params, self.X, self.controls["activation"].value)
        return float(np.mean(np.argmax(scores, axis=1) == self.y))

    def redraw(self) -> None:
        """Redraw the decision regions and the loss curve for the current parameters."""
        v = self.values
        state: dict[str, Any] = {**v, "sizes": self.sizes, "steps": self.steps,
                                 "losses": list(self.losses), "running": self.running,
                                 "diverged": self.diverged, "error": self.error}
        prob = accuracy = None
        if self.error is None:
            try:
                prob, accuracy = self._probability(), self._accuracy()
            except Exception as exc:  # show the student's error in the widget, don't crash it
                self.error = state["error"] = describe_error(exc)
        ax_b, ax_l = self.view.axes
        if self.error is not None:
            self.view.clear()
            self._artists = {}
            ax_b.text(0.5, 0.5, self.error, ha="center", va="center", color="C3", wrap=True,
                      transform=ax_b.transAxes)
            state["status"] = f"<b style='color:#c00'>{self.error}</b>"
        else:
            self._draw_boundary(ax_b, prob)
            self._draw_losses(ax_l)
            loss = self.losses[-1] if self.losses else float("nan")
            arch = " → ".join(str(s) for s in self.sizes)
            note = (" <b style='color:#c00'>diverged: lower the learning rate and reset</b>"
                    if self.diverged else "")
            state.update(loss=loss, accuracy=accuracy, probability=prob,
                         status=(f"network {arch} ({v['activation']}), step {self.steps}: "
                                 f"loss <b>{loss:.4g}</b>, training accuracy "
                                 f"<b>{accuracy:.1%}</b>{note}"))
        self.view.redraw()
        self.status.value = state["status"]
        self.state = state

    def _draw_boundary(self, ax: Any, prob: np.ndarray) -> None:
        if "image" not in self._artists:
            ax.clear()
            self._artists["image"] = ax.imshow(prob, origin="lower", extent=(-3, 3, -3, 3),
                                               cmap="RdBu_r", vmin=0, vmax=1, alpha=0.55,
                                               interpolation="bilinear")
            ax.scatter(*self.X.T, c=self.y, cmap="RdBu_r", vmin=0, vmax=1, s=14,
                       edgecolors="k", linewidths=0.4)
            ax.set(xlim=(-3, 3), ylim=(-3, 3), xticks=[], yticks=[])
        else:
            self._artists["image"].set_data(prob)
        ax.set_title(f"{self.controls['dataset'].value}: P(class 1) after {self.steps} steps",
                     fontsize=10)

    def _draw_losses(self, ax: Any) -> None:
        losses = np.asarray(self.losses, dtype=float)
        shown = np.where(np.isfinite(losses), np.clip(losses, 1e-4, 1e6), 1e6)
        if "curve" not in self._artists:
            ax.clear()
            (self._artists["curve"],) = ax.plot([], [], color="C2")
            ax.set(yscale="log", xlabel="gradient step", ylabel="training loss")
        self._artists["curve"].set_data(np.arange(1, len(shown) + 1), shown)
        ax.set_xlim(0, max(len(shown), 10))
        if len(shown):
            ax.set_ylim(max(shown.min() * 0.5, 1e-4), max(shown.max() * 2, 1.0))
        ax.set_title(f"learning rate {format_number(self.controls['learning_rate'].value)}",
                     fontsize=10)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def decision_boundary_playground(
    *,
    init: Callable[[Sequence[int], np.random.Generator], list[Any]],
    forward: Callable[..., Any],
    backward: Callable[..., Any],
    loss: Callable[..., Any],
    activations: Sequence[str],
    **options: Any,
) -> DecisionBoundaryPlayground:
    """Build the 2-D decision-boundary playground from your own MLP.

    Args:
        init: ``init(sizes, rng) -> params``, a list of ``(W, b)`` pairs.
        forward: ``forward(params, X, activation) -> (scores, cache)``, scores of shape (N, 2).
        backward: ``backward(dscores, cache) -> grads``, a list of ``(dW, db)`` pairs.
        loss: ``loss(scores, y) -> (loss, dscores)`` for integer labels y.
        activations: the activation names ``forward`` accepts.
        **options: ``dataset`` ("moons"; also "circles", "xor", "spiral", "linear"), ``width``
            (8), ``depth`` (2 hidden layers), ``activation``, ``learning_rate`` (0.3; one of
            ``LEARNING_RATES``: 0.001, 0.003, 0.01, ..., 10), ``steps_per_update`` (10), ``max_steps``, ``n_points``
            (200), ``grid_size``, ``interval`` (seconds between bursts), ``seed``.
    """
    return DecisionBoundaryPlayground(init=init, forward=forward, backward=backward, loss=loss,
                                      activations=activations, **options)
