"""Chapter 05 (optimization): 2-D loss surfaces, the learning-rate / optimizer explorer and the
initialization explorer.

Nothing here implements a graded piece of the chapter: the explorers only *call* the
optimizer classes, the gradient-clipping function and the initialization functions they are
given (the student's own). What lives here is the scenery: a handful of two-dimensional loss
surfaces with their gradients, a loop that runs an optimizer on one of them, and the drawing.

Optimizer interface (chapter 05): ``opt = Cls(params, lr=..., ...)`` with ``params`` a dict
``name -> float64 array`` that ``opt.step(grads)`` updates in place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np
from scipy.special import expit  # the logistic sigmoid (chapter 07 grades one of its own)

from helpers.widgets import Explorer, FigureView, format_number

__all__ = [
    "SURFACES",
    "InitializationExplorer",
    "OptimizerExplorer",
    "Surface",
    "Trajectory",
    "initialization_explorer",
    "lr_values",
    "optimizer_explorer",
    "plot_trajectories",
    "run_trajectory",
]

Array = np.ndarray
Factory = Callable[..., Any]
COLORS = ["C0", "C1", "C2", "C4", "C5", "C6", "C7", "C8", "C9"]


# --------------------------------------------------------------------------- loss surfaces


@dataclass(frozen=True)
class Surface:
    """A two-dimensional loss ``f(x, y)`` with its gradient, both vectorised over arrays.

    ``start`` is a starting point that shows the surface's difficulty; ``f_min`` the lowest
    value (used to plot the loss above the minimum on a log scale); ``xlim``/``ylim`` the
    plotted window.
    """

    name: str
    f: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], tuple[Array, Array]]
    start: tuple[float, float]
    f_min: float
    xlim: tuple[float, float] = (-2.0, 2.0)
    ylim: tuple[float, float] = (-2.0, 2.0)
    minima: tuple[tuple[float, float], ...] = ()
    description: str = ""
    log_levels: bool = False

    def value(self, w: Array) -> float:
        """The loss at one point ``w`` of shape (2,)."""
        return float(self.f(np.asarray(w[0], dtype=float), np.asarray(w[1], dtype=float)))

    def gradient(self, w: Array) -> Array:
        """The gradient at one point ``w`` of shape (2,), as a float64 array of shape (2,)."""
        gx, gy = self.grad(np.asarray(w[0], dtype=float), np.asarray(w[1], dtype=float))
        return np.array([gx, gy], dtype=float)

    def grid(self, n: int = 160) -> tuple[Array, Array, Array]:
        xs = np.linspace(*self.xlim, n)
        ys = np.linspace(*self.ylim, n)
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy, self.f(gx, gy)


def _bowl_f(x, y):
    return 0.5 * (x**2 + y**2)


def _bowl_g(x, y):
    return x, y


def _ravine_f(x, y):
    return (0.1 * x) ** 2 + y**2


def _ravine_g(x, y):
    return 0.02 * x, 2.0 * y


def _saddle_f(x, y):
    return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2


def _saddle_g(x, y):
    return x, y**3 - y


def _plateau_f(x, y):
    return 1.0 - np.exp(-(x**2 + y**2) / 0.5)


def _plateau_g(x, y):
    e = np.exp(-(x**2 + y**2) / 0.5)
    return 4.0 * x * e, 4.0 * y * e


CLIFF_HEIGHT, CLIFF_STEEPNESS, CLIFF_AT = 3.0, 20.0, 0.5


def _cliff_f(x, y):
    wall = CLIFF_HEIGHT * expit(CLIFF_STEEPNESS * (x - CLIFF_AT))
    return 0.5 * y**2 + 0.1 * (x - 2.0) ** 2 + wall


def _cliff_g(x, y):
    s = expit(CLIFF_STEEPNESS * (x - CLIFF_AT))
    return 0.2 * (x - 2.0) + CLIFF_HEIGHT * CLIFF_STEEPNESS * s * (1.0 - s), y


def _rosenbrock_f(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_g(x, y):
    return -2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)


def _cliff_argmin() -> tuple[float, float]:
    """Where the slope meets the wall: bisection on the x-gradient (negative left, positive right)."""
    lo, hi = -1.0, CLIFF_AT
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _cliff_g(mid, 0.0)[0] < 0 else (lo, mid)
    return 0.5 * (lo + hi), 0.0


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in [
        Surface("bowl", _bowl_f, _bowl_g, (-1.6, 1.2), 0.0, minima=((0.0, 0.0),),
                description="f = (x² + y²)/2: round, every direction equally curved"),
        Surface("ravine", _ravine_f, _ravine_g, (-1.8, 0.9), 0.0, minima=((0.0, 0.0),),
                description="f = (0.1 x)² + y²: curvature 100× larger across the valley than along it"),
        Surface("saddle", _saddle_f, _saddle_g, (-1.8, 0.001), -0.25,
                minima=((0.0, 1.0), (0.0, -1.0)),
                description="f = x²/2 + y⁴/4 − y²/2: a saddle at the origin, minima at (0, ±1)"),
        Surface("plateau", _plateau_f, _plateau_g, (1.6, 1.2), 0.0, minima=((0.0, 0.0),),
                description="f = 1 − exp(−(x² + y²)/0.5): almost flat far from the hole"),
        Surface("cliff", _cliff_f, _cliff_g, (-1.8, 0.8), float(_cliff_f(*_cliff_argmin())),
                xlim=(-3.0, 2.0), ylim=(-1.5, 1.5), minima=(_cliff_argmin(),),
                description="a gentle slope towards a steep wall at w₁ = 0.5 (gradient up to 15)"),
        Surface("rosenbrock", _rosenbrock_f, _rosenbrock_g, (-1.5, 2.0), 0.0,
                ylim=(-1.0, 3.0), minima=((1.0, 1.0),), log_levels=True,
                description="f = (1 − x)² + 100 (y − x²)²: a curved, narrow banana valley"),
    ]
}


# --------------------------------------------------------------------------- running an optimizer


@dataclass
class Trajectory:
    """The points an optimizer visited. ``points`` (k + 1, 2) and ``losses`` (k + 1,) start
    with the starting point; ``diverged_at`` is the step at which the run left the region
    (or produced inf/NaN), ``None`` if it did not; ``error`` a message if the optimizer raised."""

    points: Array
    losses: Array
    diverged_at: int | None = None
    error: str | None = None
    grad_norms: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])


def describe_error(exc: BaseException, what: str) -> str:
    if isinstance(exc, NotImplementedError):
        return f"{what} is not implemented yet"
    return f"{what} raised {type(exc).__name__}: {exc}"


def _diverged(surface: Surface, w: Array, loss: float) -> bool:
    if not (np.all(np.isfinite(w)) and np.isfinite(loss)):
        return True
    span = max(surface.xlim[1] - surface.xlim[0], surface.ylim[1] - surface.ylim[0])
    cx, cy = np.mean(surface.xlim), np.mean(surface.ylim)
    return bool(max(abs(w[0] - cx), abs(w[1] - cy)) > 10.0 * span)


def run_trajectory(
    make_optimizer: Callable[[dict[str, Array]], Any],
    surface: Surface | str,
    start: Sequence[float] | None = None,
    steps: int = 100,
    *,
    clip: float = 0.0,
    clip_fn: Callable[[dict[str, Array], float], Any] | None = None,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Callable[[int], float] | None = None,
    name: str | None = None,
) -> Trajectory:
    """Run an optimizer on a 2-D surface and record where it goes.

    Args:
        make_optimizer: ``make_optimizer(params) -> optimizer``; ``params`` is ``{"w": w}``
            with ``w`` a float64 array of shape (2,), and ``optimizer.step(grads)`` updates it.
        surface: a ``Surface`` or the name of one in ``SURFACES``.
        start: starting point (default ``surface.start``).
        steps: number of optimizer steps.
        clip: if > 0, call ``clip_fn(grads, clip)`` before every step.
        noise: standard deviation of Gaussian noise added to every gradient (a stand-in for
            minibatch noise), drawn from ``np.random.default_rng(seed)``.
        schedule: optional ``schedule(t) -> lr``, assigned to ``optimizer.lr`` before step t.
        name: the optimizer's name in error messages.

    The run stops early when the point leaves the region far around the plot (10 times its
    size) or the loss is not finite: that step is ``diverged_at``.
    """
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    w0 = np.array(surface.start if start is None else start, dtype=float)
    params = {"w": w0.copy()}
    points, losses, norms = [w0.copy()], [surface.value(w0)], []
    rng = np.random.default_rng(seed)
    diverged_at, error = None, None
    with np.errstate(all="ignore"):
        try:
            optimizer = make_optimizer(params)
        except Exception as exc:  # the student's constructor failed: show it, do not crash
            what = name or getattr(make_optimizer, "__name__", "the optimizer")
            what = "the optimizer" if what == "<lambda>" else what
            return Trajectory(np.array(points), np.array(losses), None, describe_error(exc, what))
        for t in range(steps):
            w = params["w"]
            grads = {"w": surface.gradient(w) + noise * rng.normal(size=2)}
            norms.append(float(np.linalg.norm(grads["w"])))
            try:
                if clip > 0 and clip_fn is not None:
                    clip_fn(grads, clip)
                if schedule is not None:
                    optimizer.lr = schedule(t)
                optimizer.step(grads)
            except Exception as exc:
                error = describe_error(exc, f"{type(optimizer).__name__}.step")
                break
            w = np.array(params["w"], dtype=float).reshape(-1)
            loss = surface.value(w) if w.shape == (2,) else np.nan
            points.append(w.copy() if w.shape == (2,) else np.full(2, np.nan))
            losses.append(loss)
            if _diverged(surface, points[-1], loss):
                diverged_at = t + 1
                break
    return Trajectory(np.array(points), np.array(losses), diverged_at, error, norms)


def lr_values(min_exp: int = -4, max_exp: int = 1) -> list[float]:
    """Learning rates 1, 2, 5 per decade: 1e-4, 2e-4, 5e-4, ..., 10**max_exp."""
    values = [float(f"{m}e{e}") for e in range(min_exp, max_exp) for m in (1, 2, 5)]
    return values + [float(f"1e{max_exp}")]


def _lr_slider(value: float, min_exp: int, max_exp: int) -> widgets.SelectionSlider:
    values = lr_values(min_exp, max_exp)
    if value not in values:
        raise ValueError(f"lr {value!r} is not one of {values}")
    return widgets.SelectionSlider(
        options=[(format_number(v), v) for v in values], value=value,
        description="learning rate", continuous_update=False,
        style={"description_width": "initial"}, layout=widgets.Layout(width="360px"),
    )


def _drawable(points: Array, surface: Surface) -> tuple[Array, int]:
    """The finite points, clamped to a box far around the window (matplotlib clips the lines at
    the axes), and the index of the last point inside the window."""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    points = points[np.all(np.isfinite(points), axis=1)]
    span = 20.0 * max(x1 - x0, y1 - y0)
    clamped = np.column_stack([np.clip(points[:, 0], x0 - span, x1 + span),
                               np.clip(points[:, 1], y0 - span, y1 + span)])
    inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
    last_inside = int(np.flatnonzero(inside)[-1]) if inside.any() else 0
    return clamped, last_inside


def draw_surface(ax: Any, surface: Surface) -> None:
    """Filled contours of the surface, its minima as stars."""
    gx, gy, z = surface.grid()
    shown = np.log10(z - surface.f_min + 1e-3) if surface.log_levels else z
    levels = np.unique(np.quantile(shown, np.linspace(0.0, 1.0, 24)))
    ax.contourf(gx, gy, shown, levels=levels, cmap="Blues_r", alpha=0.55)
    ax.contour(gx, gy, shown, levels=levels, colors="0.45", linewidths=0.4)
    for mx, my in surface.minima:
        ax.plot(mx, my, "*", color="gold", ms=12, mec="k", zorder=5)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def plot_trajectories(
    ax: Any,
    surface: Surface | str,
    trajectories: Mapping[str, Trajectory],
    *,
    title: str | None = None,
    colors: Mapping[str, str] | None = None,
) -> None:
    """Contour plot of ``surface`` with every trajectory; a diverged one ends in a red cross."""
    surface = SURFACES[surface] if isinstance(surface, str) else surface
    draw_surface(ax, surface)
    start = None
    for i, (name, traj) in enumerate(trajectories.items()):
        color = (colors or {}).get(name, COLORS[i % len(COLORS)])
        start = traj.points[0]
        pts, last_inside = _drawable(traj.points, surface)
        label = name if traj.diverged_at is None else f"{name} (diverged, step {traj.diverged_at})"
        if traj.error is not None:
            label = f"{name}: error"
        ax.plot(pts[:, 0], pts[:, 1], ".-", color=color, lw=1.3, ms=3, label=label, zorder=3)
        if traj.diverged_at is not None:
            ax.plot(pts[last_inside, 0], pts[last_inside, 1], "x", color="red", ms=14, mew=3, zorder=6)
    if start is not None:
        ax.plot(start[0], start[1], "o", color="k", ms=7, zorder=6)
    ax.set_title(title if title is not None else surface.name, fontsize=10)
    if trajectories:
        ax.legend(fontsize=7, loc="lower right", framealpha=0.85)


# --------------------------------------------------------------------------- the optimizer explorer


def standard_factories(
    *,
    sgd: Factory | None = None,
    momentum: Factory | None = None,
    nesterov: Factory | None = None,
    adagrad: Factory | None = None,
    rmsprop: Factory | None = None,
    adam: Factory | None = None,
) -> dict[str, Callable[..., Any]]:
    """Factories ``make(params, lr, beta1, beta2, weight_decay=0.0)`` for the chapter's optimizer classes.

    ``beta1`` is the momentum coefficient (momentum, Nesterov) and Adam's β₁; ``beta2`` is
    RMSProp's α and Adam's β₂. ``weight_decay`` is passed on only when it is not 0, so classes
    without it still run. Classes left as ``None`` are left out.
    """
    table = {
        "SGD": (sgd, lambda c, p, lr, b1, b2, kw: c(p, lr=lr, **kw)),
        "momentum": (momentum, lambda c, p, lr, b1, b2, kw: c(p, lr=lr, momentum=b1, **kw)),
        "Nesterov": (nesterov, lambda c, p, lr, b1, b2, kw: c(p, lr=lr, momentum=b1, **kw)),
        "AdaGrad": (adagrad, lambda c, p, lr, b1, b2, kw: c(p, lr=lr, **kw)),
        "RMSProp": (rmsprop, lambda c, p, lr, b1, b2, kw: c(p, lr=lr, alpha=b2, **kw)),
        "Adam": (adam, lambda c, p, lr, b1, b2, kw: c(p, lr=lr, betas=(b1, b2), **kw)),
    }
    return {name: _factory(cls, build) for name, (cls, build) in table.items() if cls is not None}


def _factory(cls: Factory, build: Callable[..., Any]) -> Callable[..., Any]:
    def make(params: dict[str, Array], lr: float, beta1: float, beta2: float, weight_decay: float = 0.0) -> Any:
        return build(cls, params, lr, beta1, beta2, {"weight_decay": weight_decay} if weight_decay else {})

    make.__name__ = getattr(cls, "__name__", "optimizer")
    return make


class OptimizerExplorer(Explorer):
    """Choose a surface and optimizers; set the learning rate (log scale), momentum/β₁, β₂,
    the number of steps, gradient clipping, gradient noise and the starting point.

    Left: the trajectories on the contour plot (a red cross where a run diverged). Right: the
    loss above the minimum per step, log scale. ``state`` after each draw: ``surface``,
    ``optimizers`` (names drawn), ``trajectories`` (name -> ``Trajectory``), ``final_loss``,
    ``diverged`` (name -> step or None), ``errors`` (name -> message), ``lr``, ``title``.
    """

    def __init__(
        self,
        factories: Mapping[str, Callable[..., Any]],
        *,
        clip_fn: Callable[[dict[str, Array], float], Any] | None = None,
        surface: str = "ravine",
        optimizers: Sequence[str] | None = None,
        lr: float = 0.1,
        beta1: float = 0.9,
        beta2: float = 0.999,
        steps: int = 100,
        lr_exps: tuple[int, int] = (-4, 1),
        max_steps: int = 500,
    ) -> None:
        if not factories:
            raise ValueError("give at least one optimizer")
        self.factories = dict(factories)
        self.clip_fn = clip_fn
        names = list(self.factories)
        chosen = tuple(optimizers) if optimizers is not None else tuple(names[:3])
        unknown = set(chosen) - set(names)
        if unknown:
            raise ValueError(f"unknown optimizers {sorted(unknown)}; known: {names}")
        start = SURFACES[surface].start
        controls: dict[str, widgets.ValueWidget] = {
            "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
            "optimizers": widgets.SelectMultiple(options=names, value=chosen, rows=min(6, len(names)),
                                                 description="optimizers"),
            "lr": _lr_slider(lr, *lr_exps),
            "beta1": widgets.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01,
                                         description="momentum / β₁", continuous_update=False,
                                         style={"description_width": "initial"}),
            "beta2": widgets.SelectionSlider(options=[0.5, 0.9, 0.95, 0.99, 0.999], value=beta2,
                                             description="β₂ (RMSProp α)", continuous_update=False,
                                             style={"description_width": "initial"}),
            "steps": widgets.IntSlider(value=steps, min=5, max=max_steps, step=5, description="steps",
                                       continuous_update=False),
            "weight_decay": widgets.SelectionSlider(options=[0.0, 0.001, 0.01, 0.1, 0.5], value=0.0,
                                                    description="weight decay", continuous_update=False,
                                                    style={"description_width": "initial"}),
            "noise": widgets.SelectionSlider(options=[0.0, 0.01, 0.05, 0.1, 0.5, 1.0], value=0.0,
                                             description="gradient noise σ", continuous_update=False,
                                             style={"description_width": "initial"}),
            "x0": widgets.FloatSlider(value=start[0], min=-3.0, max=3.0, step=0.05,
                                      description="start w₁", continuous_update=False),
            "y0": widgets.FloatSlider(value=start[1], min=-3.0, max=3.0, step=0.001,
                                      description="start w₂", continuous_update=False),
        }
        if clip_fn is not None:
            controls["clip"] = widgets.SelectionSlider(
                options=[("off", 0.0), ("0.1", 0.1), ("0.5", 0.5), ("1", 1.0), ("5", 5.0)],
                value=0.0, description="clip gradient norm", continuous_update=False,
                style={"description_width": "initial"})
        self._syncing = False
        super().__init__(controls, FigureView(ncols=2, figsize=(11.0, 4.2)))
        c = self.controls
        rows = [
            widgets.HBox([c["surface"], c["optimizers"]]),
            widgets.HBox([c["lr"], c["beta1"], c["beta2"]]),
            widgets.HBox([c["steps"], c["weight_decay"], c["noise"]] + ([c["clip"]] if "clip" in c else [])),
            widgets.HBox([c["x0"], c["y0"]]),
        ]
        self.widget = widgets.VBox([*rows, self.view.widget, self.status])

    # ------------------------------------------------------------------ surface changes

    def _reset_start(self, surface: str) -> None:
        """Move the start sliders to the surface's own start, without redrawing."""
        self._syncing = True
        try:
            self.controls["x0"].value, self.controls["y0"].value = SURFACES[surface].start
        finally:
            self._syncing = False

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if self._syncing:
            return
        if change.get("owner") is self.controls["surface"]:
            self._reset_start(change["new"])
        self.update()

    def set(self, **values: Any) -> None:
        """Set controls with one redraw; a new surface moves the start to its own unless
        ``x0``/``y0`` are given too."""
        if "surface" in values and "x0" not in values and "y0" not in values:
            values = {**values, "x0": SURFACES[values["surface"]].start[0],
                      "y0": SURFACES[values["surface"]].start[1]}
        super().set(**values)

    # ------------------------------------------------------------------ drawing

    def draw(self, *, surface: str, optimizers: Sequence[str], lr: float, beta1: float,
             beta2: float, steps: int, noise: float, x0: float, y0: float,
             weight_decay: float = 0.0, clip: float = 0.0) -> dict[str, Any]:
        ax_path, ax_loss = self.view.axes
        surf = SURFACES[surface]
        trajectories: dict[str, Trajectory] = {}
        for name in optimizers:
            factory = self.factories[name]
            trajectories[name] = run_trajectory(
                lambda params, factory=factory: factory(params, lr, beta1, beta2, float(weight_decay)),
                surf, (x0, y0), int(steps), clip=float(clip), clip_fn=self.clip_fn,
                noise=float(noise), seed=0, name=getattr(factory, "__name__", name),
            )
        colors = {name: COLORS[list(self.factories).index(name) % len(COLORS)] for name in optimizers}
        title = f"{surface}, learning rate {format_number(lr)}"
        plot_trajectories(ax_path, surf, trajectories, title=title, colors=colors)

        errors = {n: t.error for n, t in trajectories.items() if t.error is not None}
        diverged = {n: t.diverged_at for n, t in trajectories.items()}
        gaps = {n: np.maximum(t.losses - surf.f_min, 1e-12) for n, t in trajectories.items()}
        start_gap = max([float(g[0]) for g in gaps.values()] + [1e-6])
        top = 1e3 * start_gap  # a diverging curve leaves through the top and is marked there
        for name, traj in trajectories.items():
            gap = gaps[name]
            finite = np.isfinite(gap)
            steps_axis = np.arange(gap.size)[finite]
            ax_loss.plot(steps_axis, np.minimum(gap[finite], 10 * top), color=colors[name], lw=1.5,
                         label=name)
            if traj.diverged_at is not None:
                ax_loss.plot(traj.diverged_at, top, "x", color="red", ms=12, mew=3, clip_on=False)
                ax_loss.annotate(f"{name} diverged (step {traj.diverged_at})", (traj.diverged_at, top),
                                 fontsize=8, color="red", xytext=(6, -12), textcoords="offset points")
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(top=top)
        ax_loss.set_xlim(0, int(steps))
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("loss − minimum (log scale)")
        ax_loss.set_title("loss curve", fontsize=10)
        if trajectories:
            ax_loss.legend(fontsize=8, loc="upper right")
        if errors:
            ax_loss.text(0.02, 0.02, "\n".join(f"{n}: {m}" for n, m in errors.items()),
                         transform=ax_loss.transAxes, color="C3", fontsize=8, va="bottom")

        parts = []
        for name, traj in trajectories.items():
            if traj.error is not None:
                parts.append(f"{name}: <b style='color:#c00'>{traj.error}</b>")
            elif traj.diverged_at is not None:
                parts.append(f"{name}: <b style='color:#c00'>diverged at step {traj.diverged_at}</b>")
            else:
                parts.append(f"{name}: loss {traj.final_loss:.4g}")
        status = f"<i>{surf.description}</i><br>" + " &nbsp; ".join(parts)
        return {
            "surface": surface,
            "optimizers": tuple(optimizers),
            "lr": float(lr),
            "beta1": float(beta1),
            "beta2": float(beta2),
            "steps": int(steps),
            "weight_decay": float(weight_decay),
            "start": (float(x0), float(y0)),
            "clip": float(clip),
            "noise": float(noise),
            "trajectories": trajectories,
            "final_loss": {n: t.final_loss for n, t in trajectories.items()},
            "diverged": diverged,
            "errors": errors,
            "title": title,
            "status": status,
        }


def optimizer_explorer(
    *,
    sgd: Factory | None = None,
    momentum: Factory | None = None,
    nesterov: Factory | None = None,
    adagrad: Factory | None = None,
    rmsprop: Factory | None = None,
    adam: Factory | None = None,
    clip_grad_norm: Callable[[dict[str, Array], float], Any] | None = None,
    extra: Mapping[str, Callable[..., Any]] | None = None,
    **options: Any,
) -> OptimizerExplorer:
    """The learning-rate / optimizer explorer, built from your optimizer classes.

    Args:
        sgd, momentum, nesterov, adagrad, rmsprop, adam: your classes (any may be left out),
            called as ``SGD(params, lr=lr)``, ``SGDMomentum(params, lr=lr, momentum=β₁)``,
            ``Nesterov(params, lr=lr, momentum=β₁)``, ``AdaGrad(params, lr=lr)``,
            ``RMSProp(params, lr=lr, alpha=β₂)``, ``Adam(params, lr=lr, betas=(β₁, β₂))``.
        clip_grad_norm: your ``clip_grad_norm(grads, max_norm)``; adds a clipping control.
        extra: more optimizers, name -> ``make(params, lr, beta1, beta2, weight_decay=0.0)``.
        **options: ``surface`` ("ravine"), ``optimizers`` (names shown first), ``lr`` (0.1, one
            of 1e-4, 2e-4, 5e-4, ..., 10), ``beta1`` (0.9), ``beta2`` (0.999), ``steps`` (100).
    """
    factories = standard_factories(sgd=sgd, momentum=momentum, nesterov=nesterov,
                                   adagrad=adagrad, rmsprop=rmsprop, adam=adam)
    factories.update(extra or {})
    return OptimizerExplorer(factories, clip_fn=clip_grad_norm, **options)


# --------------------------------------------------------------------------- the initialization explorer

_NONLINEARITIES: dict[str, tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]] = {
    # name: (activation of the pre-activation z, its derivative given (z, activation))
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "ReLU": (lambda z: np.where(z > 0, z, 0.0), lambda z, a: (z > 0).astype(float)),
    "sigmoid": (expit, lambda z, a: a * (1.0 - a)),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
}


class InitializationExplorer(Explorer):
    """Activation and gradient statistics, layer by layer, of a deep MLP at initialization.

    A batch of standard-normal inputs goes through ``depth`` layers ``h = act(h @ W)`` (no
    biases) with ``W = scheme(width, width, rng)``; a standard-normal gradient is fed in at
    the output and propagated back. Panels: histograms of the activations of every layer,
    histograms of the gradients with respect to them, and the standard deviation of both per
    layer. ``state``: ``scheme``, ``activation``, ``depth``, ``width``, ``act_std`` and
    ``grad_std`` (arrays of length depth), ``saturated`` (fraction of |tanh| or sigmoid
    outputs in the flat parts, per layer), ``dead`` (fraction of zero ReLU outputs),
    ``error``.
    """

    def __init__(
        self,
        schemes: Mapping[str, Callable[[int, int, np.random.Generator], Array]],
        *,
        scheme: str | None = None,
        activation: str = "tanh",
        depth: int = 10,
        width: int = 256,
        batch: int = 500,
        seed: int = 0,
    ) -> None:
        if not schemes:
            raise ValueError("give at least one initialization scheme")
        self.schemes = dict(schemes)
        self.batch, self.seed = batch, seed
        controls = {
            "scheme": widgets.Dropdown(options=list(self.schemes), value=scheme or next(iter(self.schemes)),
                                       description="init"),
            "activation": widgets.Dropdown(options=list(_NONLINEARITIES), value=activation,
                                           description="activation"),
            "depth": widgets.IntSlider(value=depth, min=2, max=20, description="layers",
                                       continuous_update=False),
            "width": widgets.SelectionSlider(options=[16, 32, 64, 128, 256, 512], value=width,
                                             description="width", continuous_update=False),
        }
        super().__init__(controls, FigureView(ncols=3, figsize=(13.0, 3.8)))

    def statistics(self, scheme: str, activation: str, depth: int, width: int) -> dict[str, Any]:
        """Forward and backward pass; per-layer activations and gradients (no drawing)."""
        act, dact = _NONLINEARITIES[activation]
        rng = np.random.default_rng(self.seed)
        h = rng.standard_normal((self.batch, width))
        weights, pre, post = [], [], []
        with np.errstate(all="ignore"):
            for _ in range(depth):
                W = np.asarray(self.schemes[scheme](width, width, rng), dtype=float)
                if W.shape != (width, width):
                    raise ValueError(f"expected a weight matrix of shape ({width}, {width}), got {W.shape}")
                z = h @ W
                h = act(z)
                weights.append(W)
                pre.append(z)
                post.append(h)
            grad = rng.standard_normal((self.batch, width))
            grads = [grad]
            for layer in range(depth - 1, 0, -1):
                grad = (grad * dact(pre[layer], post[layer])) @ weights[layer].T
                grads.append(grad)
        grads = grads[::-1]  # grads[l]: gradient of the loss w.r.t. the output of layer l
        if activation == "ReLU":
            flat = [float(np.mean(a <= 0)) for a in post]
        elif activation == "tanh":
            flat = [float(np.mean(np.abs(a) > 0.99)) for a in post]
        elif activation == "sigmoid":
            flat = [float(np.mean((a < 0.01) | (a > 0.99))) for a in post]
        else:
            flat = [0.0 for _ in post]
        return {
            "activations": post,
            "gradients": grads,
            "act_std": np.array([float(np.std(a)) for a in post]),
            "grad_std": np.array([float(np.std(g)) for g in grads]),
            "flat_fraction": np.array(flat),
        }

    def draw(self, *, scheme: str, activation: str, depth: int, width: int) -> dict[str, Any]:
        ax_act, ax_grad, ax_std = self.view.axes
        state: dict[str, Any] = {"scheme": scheme, "activation": activation, "depth": int(depth),
                                 "width": int(width)}
        try:
            stats = self.statistics(scheme, activation, int(depth), int(width))
        except Exception as exc:
            message = describe_error(exc, f"the initialization '{scheme}'")
            for ax in self.view.axes:
                ax.set_axis_off()
            ax_act.text(0.0, 0.5, message, color="C3", transform=ax_act.transAxes, wrap=True)
            return {**state, "error": message, "title": message,
                    "status": f"<b style='color:#c00'>{message}</b>"}
        cmap = _layer_colors(int(depth))
        for values, ax, what in ((stats["activations"], ax_act, "activations"),
                                 (stats["gradients"], ax_grad, "gradients")):
            _ridge_histograms(ax, values, cmap)
            ax.set_title(f"{what} per layer", fontsize=10)
        layers = np.arange(1, int(depth) + 1)
        ax_std.semilogy(layers, np.maximum(stats["act_std"], 1e-30), "o-", label="activations")
        ax_std.semilogy(layers, np.maximum(stats["grad_std"], 1e-30), "s-", label="gradients")
        ax_std.set_xlabel("layer")
        ax_std.set_ylabel("standard deviation (log)")
        ax_std.set_title(f"{scheme}, {activation}", fontsize=10)
        ax_std.legend(fontsize=8)
        ratio = stats["grad_std"][0] / max(stats["grad_std"][-1], 1e-300)
        flat_label = {"ReLU": "zero (dead) outputs", "tanh": "saturated |tanh| > 0.99",
                      "sigmoid": "saturated outputs"}.get(activation)
        status = (f"last layer: activation std <b>{stats['act_std'][-1]:.3g}</b>; gradient std "
                  f"first/last layer ratio <b>{ratio:.3g}</b>")
        if flat_label:
            status += f"; {flat_label} in the last layer: {100 * stats['flat_fraction'][-1]:.0f}%"
        return {**state, "error": None, "act_std": stats["act_std"], "grad_std": stats["grad_std"],
                "flat_fraction": stats["flat_fraction"], "title": f"{scheme}, {activation}",
                "status": status}


def _layer_colors(depth: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(depth - 1, 1)) for i in range(depth)]


def _ridge_histograms(ax: Any, arrays: Sequence[Array], colors: Sequence[Any]) -> None:
    """One histogram per layer, stacked vertically (layer 1 at the bottom)."""
    finite = [a[np.isfinite(a)] for a in arrays]
    spread = max((float(np.quantile(np.abs(a), 0.995)) for a in finite if a.size), default=1.0)
    spread = spread if spread > 0 else 1.0
    bins = np.linspace(-spread, spread, 61)
    centers = 0.5 * (bins[1:] + bins[:-1])
    for i, a in enumerate(finite):
        counts, _ = np.histogram(np.clip(a, -spread, spread), bins=bins)
        height = counts / max(counts.max(), 1) * 0.9
        ax.fill_between(centers, i, i + height, color=colors[i], alpha=0.8, lw=0)
    ax.set_yticks(range(len(arrays)))
    ax.set_yticklabels([str(i + 1) for i in range(len(arrays))], fontsize=7)
    ax.set_ylabel("layer")
    ax.set_xlim(-spread, spread)


def initialization_explorer(
    *,
    xavier: Callable[..., Array] | None = None,
    kaiming: Callable[..., Array] | None = None,
    distribution: str = "normal",
    extra: Mapping[str, Callable[[int, int, np.random.Generator], Array]] | None = None,
    **options: Any,
) -> InitializationExplorer:
    """The initialization explorer, with your ``xavier_init`` and ``kaiming_init``.

    Schemes: N(0, 0.01²), N(0, 1), Xavier and Kaiming (yours, called as
    ``xavier(n_in, n_out, rng, distribution)``), plus ``extra`` (name ->
    ``init(n_in, n_out, rng) -> W``). ``options``: ``scheme``, ``activation`` ("tanh",
    "ReLU", "sigmoid" or "linear"), ``depth`` (10), ``width`` (256).
    """
    schemes: dict[str, Callable[[int, int, np.random.Generator], Array]] = {
        "N(0, 0.01²)": lambda n_in, n_out, rng: 0.01 * rng.standard_normal((n_in, n_out)),
        "N(0, 1)": lambda n_in, n_out, rng: rng.standard_normal((n_in, n_out)),
    }
    if xavier is not None:
        schemes["Xavier"] = lambda n_in, n_out, rng: xavier(n_in, n_out, rng, distribution)
    if kaiming is not None:
        schemes["Kaiming"] = lambda n_in, n_out, rng: kaiming(n_in, n_out, rng, distribution)
    schemes.update(extra or {})
    return InitializationExplorer(schemes, **options)
