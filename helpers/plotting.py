"""Plotting helpers for readable notebook figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = ["COURSE_STYLE", "plot_curves", "use_course_style"]

COURSE_STYLE: dict[str, object] = {
    "figure.figsize": (7.0, 4.5),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 12,
    "legend.fontsize": 11,
    "lines.linewidth": 2.0,
}


def use_course_style() -> None:
    """Apply the course's matplotlib settings (idempotent)."""
    mpl.rcParams.update(COURSE_STYLE)


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    x: Sequence[float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Plot named curves (e.g. train/validation loss per epoch) on one set of axes.

    ``x`` gives shared x values; by default each curve is plotted against 1, 2, ..., n.
    With ``logy=True`` all values must be positive. Returns the axes.
    """
    if not curves:
        raise ValueError("curves is empty: pass e.g. {'train': losses, 'validation': val_losses}")
    if ax is None:
        _, ax = plt.subplots()
    for label, values in curves.items():
        y = np.asarray(values, dtype=np.float64)
        if y.ndim != 1:
            raise ValueError(f"curve {label!r} must be 1-D, got shape {y.shape}")
        if logy and np.any(y[np.isfinite(y)] <= 0):
            raise ValueError(f"curve {label!r} has values <= 0, which a log scale cannot show")
        xs = np.arange(1, len(y) + 1) if x is None else np.asarray(x, dtype=np.float64)
        if len(xs) != len(y):
            raise ValueError(f"curve {label!r} has {len(y)} values but x has {len(xs)}")
        ax.plot(xs, y, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax
