"""Chapter 11 (GANs and diffusion): the GAN training scrubber and the diffusion time slider.

Neither contains a chapter's graded code: the scrubber replays snapshots recorded while the
notebook trained a GAN; the slider calls the student's ``q_sample`` for the forward process and
shows reverse trajectories that the notebook sampled with the student's steps.

- :func:`gan_scrubber`: the generator's samples over the discriminator's probability of "real",
  step by step, for several runs, with the modes covered so far.
- :func:`diffusion_explorer`: at a step t, the data noised by ``q_sample`` (left) and where the
  reverse chains of each sampler are at the same level (right), with the paths of a few points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from helpers.explorers.cnn import describe_error
from helpers.widgets import Explorer, FigureView

__all__ = ["DiffusionExplorer", "GanScrubber", "diffusion_explorer", "gan_scrubber"]

HISTORY_KEYS = ("step", "modes", "good", "samples", "surface")


def _show_error(view: FigureView, message: str) -> None:
    for ax in view.axes:
        ax.clear()
        ax.text(0.5, 0.5, message, ha="center", va="center", color="C3", wrap=True, transform=ax.transAxes,
                fontsize=9)
        ax.set(xticks=[], yticks=[])


class GanScrubber(Explorer):
    """Replay GAN training: samples and D's surface at each recorded step, for each run.

    ``histories`` maps a run's name to a dict with ``step`` (K,), ``modes`` (K,), ``good`` (K,),
    ``samples`` (K arrays (n, 2)) and ``surface`` (K arrays (G, G): D's probability of "real" on a
    square grid over ``extent`` = (lo, hi), rows along y). ``centers`` (modes, 2): the true modes.

    ``state``: ``run``, ``index``, ``step``, ``modes``, ``good``, ``samples``, ``surface``,
    ``d_mean`` (mean of the surface), ``status``.
    """

    def __init__(self, histories: Mapping[str, Mapping[str, Sequence[Any]]], centers: Any,
                 extent: tuple[float, float], *, run: str | None = None, index: int | None = None) -> None:
        if not histories:
            raise ValueError("histories must hold at least one run")
        for name, history in histories.items():
            missing = [k for k in HISTORY_KEYS if k not in history]
            lengths = {len(history[k]) for k in HISTORY_KEYS if k in history}
            if missing or len(lengths) != 1:
                raise ValueError(f"run {name!r}: needs {HISTORY_KEYS} of one length (missing {missing})")
        self.histories = histories
        self.centers = np.asarray(centers, dtype=float)
        self.extent = (float(extent[0]), float(extent[1]))
        run = run or next(iter(histories))
        last = len(histories[run]["step"]) - 1
        style = {"description_width": "initial"}
        controls = {
            "run": widgets.Dropdown(options=list(histories), value=run, description="run"),
            "index": widgets.IntSlider(value=last if index is None else index, min=0, max=last,
                                       description="snapshot", continuous_update=True, style=style),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(10.0, 4.2), freeze_layout=True))

    def draw(self, *, run: str, index: int) -> dict[str, Any]:
        history = self.histories[run]
        index = min(int(index), len(history["step"]) - 1)
        ax_map, ax_curve = self.view.axes
        samples = np.asarray(history["samples"][index], dtype=float)
        surface = np.asarray(history["surface"][index], dtype=float)
        lo, hi = self.extent
        image = ax_map.imshow(surface, origin="lower", extent=(lo, hi, lo, hi), cmap="RdBu", vmin=0.0, vmax=1.0)
        if not getattr(self, "_colorbar", None):
            self._colorbar = self.view.figure.colorbar(image, ax=ax_map, label="D(x): probability of real")
        ax_map.scatter(samples[:, 0], samples[:, 1], s=3, color="k", alpha=0.6, label="G's samples")
        ax_map.scatter(self.centers[:, 0], self.centers[:, 1], marker="x", s=50, color="gold", label="modes")
        step = int(history["step"][index])
        ax_map.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal", title=f"{run}, step {step}")
        ax_map.legend(fontsize=7, loc="upper right")
        steps = np.asarray(history["step"])
        ax_curve.plot(steps, history["modes"], color="C0", label="modes covered")
        ax_curve.set(xlabel="step", ylabel="modes covered", ylim=(0, len(self.centers) + 0.5))
        ax_curve.axvline(step, color="k", lw=1, ls=":")
        twin = getattr(self, "_twin", None)
        if twin is None:
            twin = self._twin = ax_curve.twinx()
        twin.clear()
        twin.yaxis.tick_right()
        twin.yaxis.set_label_position("right")
        twin.plot(steps, history["good"], color="C1", label="share of good samples")
        twin.set(ylim=(0, 1), ylabel="share of good samples")
        ax_curve.legend(handles=ax_curve.lines[:1] + twin.lines[:1], fontsize=7, loc="lower right")
        modes, good = int(history["modes"][index]), float(history["good"][index])
        state = {"run": run, "index": index, "step": step, "modes": modes, "good": good, "samples": samples,
                 "surface": surface, "d_mean": float(surface.mean())}
        state["status"] = (f"step {step}: {modes} of {len(self.centers)} modes covered, {good:.0%} of the samples "
                           f"near a mode; D calls {np.mean(surface > 0.5):.0%} of the plane real")
        return state


def gan_scrubber(histories: Mapping[str, Mapping[str, Sequence[Any]]], centers: Any, extent: tuple[float, float],
                 **options: Any) -> GanScrubber:
    """Build the GAN scrubber on recorded training runs.

    Args:
        histories: run name -> {"step", "modes", "good", "samples", "surface"} (see GanScrubber).
        centers: the true modes (m, 2); extent: (lo, hi) of the square grid of the surfaces.
        **options: ``run`` (the first), ``index`` (the last snapshot).
    """
    return GanScrubber(histories, centers, extent, **options)


class DiffusionExplorer(Explorer):
    """The forward process by the student's q_sample and the reverse chains, at one level t.

    ``reverse`` maps a sampler's name to ``(path, levels)``: ``path`` (K, n, 2) the chain's
    samples, ``levels`` (K,) the level of each (decreasing, ending at -1 = clean). At a level t
    the right panel shows the first point of the path whose level is <= t (the chain has reached
    t), with the paths of ``trails`` points so far. Level -1 shows the data and the samples.

    ``state``: ``t``, ``sampler``, ``signal`` (sqrt(alpha_bar_t), 1 at t = -1), ``forward`` ((n, 2)
    or None), ``reverse`` ((n, 2)), ``level`` (the chain's level shown), ``spread`` (the std of the
    forward and reverse points), ``error``, ``status``.
    """

    def __init__(self, q_sample: Callable[..., Any], data: Any, alpha_bars: Any,
                 reverse: Mapping[str, tuple[Any, Any]], *, t: int | None = None, sampler: str | None = None,
                 trails: int = 10, seed: int = 0, lim: float = 3.0) -> None:
        if not reverse:
            raise ValueError("reverse must hold at least one sampler")
        self.q_sample = q_sample
        self.data = np.asarray(data, dtype=float)
        self.alpha_bars = np.asarray(alpha_bars, dtype=float)
        self.reverse = {}
        for name, (path, levels) in reverse.items():
            path, levels = np.asarray(path, dtype=float), np.asarray(levels, dtype=int)
            if path.ndim != 3 or path.shape[0] != len(levels) or levels[-1] != -1 or np.any(np.diff(levels) >= 0):
                raise ValueError(f"sampler {name!r}: path (K, n, 2) with K decreasing levels ending at -1")
            self.reverse[name] = (path, levels)
        self.trails, self.seed, self.lim = trails, seed, lim
        T = len(self.alpha_bars)
        style = {"description_width": "initial"}
        controls = {
            "t": widgets.IntSlider(value=T - 1 if t is None else t, min=-1, max=T - 1, description="step t",
                                   continuous_update=True, style=style),
            "sampler": widgets.Dropdown(options=list(self.reverse), value=sampler or next(iter(self.reverse)),
                                        description="reverse"),
            "show_paths": widgets.Checkbox(value=True, description=f"paths of {trails} points"),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(10.0, 4.4), freeze_layout=True))

    def forward(self, t: int) -> np.ndarray:
        """q(x_t | x_0) of the data by the student's q_sample (the data themselves at t = -1)."""
        if t < 0:
            return self.data
        result = self.q_sample(self.data, t, self.alpha_bars, np.random.default_rng(self.seed))
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise ValueError("q_sample: expected (x_t, eps)")
        x_t = np.asarray(result[0], dtype=float)
        if x_t.shape != self.data.shape:
            raise ValueError(f"q_sample: expected x_t of shape {self.data.shape}, got {x_t.shape}")
        return x_t

    def draw(self, *, t: int, sampler: str, show_paths: bool) -> dict[str, Any]:
        t = int(t)
        ax_fwd, ax_rev = self.view.axes
        path, levels = self.reverse[sampler]
        k = int(np.argmax(levels <= t))
        reverse = path[k]
        signal = 1.0 if t < 0 else float(np.sqrt(self.alpha_bars[t]))
        state: dict[str, Any] = {"t": t, "sampler": sampler, "signal": signal, "forward": None, "reverse": reverse,
                                 "level": int(levels[k]), "error": None}
        ax_rev.scatter(reverse[:, 0], reverse[:, 1], s=3, alpha=0.5, color="C1")
        if show_paths:
            for i in range(min(self.trails, reverse.shape[0])):
                ax_rev.plot(path[:k + 1, i, 0], path[:k + 1, i, 1], lw=0.8, alpha=0.8)
        ax_rev.set(xlim=(-self.lim, self.lim), ylim=(-self.lim, self.lim), aspect="equal",
                   title=f"reverse ({sampler}): level {levels[k]}" + (" (clean)" if levels[k] < 0 else ""))
        try:
            fwd = self.forward(t)
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and "expected" in str(exc) else describe_error(exc)
            ax_fwd.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax_fwd.transAxes, fontsize=9)
            ax_fwd.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        state["forward"] = fwd
        state["spread"] = (float(fwd.std()), float(reverse.std()))
        ax_fwd.scatter(fwd[:, 0], fwd[:, 1], s=3, alpha=0.5, color="C0")
        ax_fwd.set(xlim=(-self.lim, self.lim), ylim=(-self.lim, self.lim), aspect="equal",
                   title="forward: the data" if t < 0 else f"forward: q(x_t | x_0), t = {t}")
        state["status"] = (f"t = {t}: signal √ᾱ = {signal:.3f}, noise √(1 − ᾱ) = {np.sqrt(1 - signal ** 2):.3f}; "
                           f"spread (std) forward {state['spread'][0]:.2f}, reverse {state['spread'][1]:.2f}; "
                           f"the {sampler} chain has taken {k} of its {len(levels) - 1} steps")
        return state


def diffusion_explorer(q_sample: Callable[..., Any], data: Any, alpha_bars: Any,
                       reverse: Mapping[str, tuple[Any, Any]], **options: Any) -> DiffusionExplorer:
    """Build the diffusion slider on your ``q_sample`` and sampled reverse trajectories.

    Args:
        q_sample: ``q_sample(x0, t, alpha_bars, rng) -> (x_t, eps)``.
        data: the clean points (n, 2); alpha_bars: the schedule's (T,).
        reverse: sampler name -> (path (K, n, 2), levels (K,) decreasing to -1).
        **options: ``t`` (T - 1), ``sampler`` (the first), ``trails`` (10), ``seed`` (0), ``lim`` (3.0).
    """
    return DiffusionExplorer(q_sample, data, alpha_bars, reverse, **options)
