"""Building blocks for the course's interactive explorers (ipywidgets 8 + matplotlib).

- ``FigureView``: one matplotlib figure shown in an ``ipywidgets.Image``; ``redraw()``
  re-renders the *same* figure to PNG and swaps the image in place, so updates never stack
  figures or flicker. The figure is a plain ``matplotlib.figure.Figure`` that pyplot does not
  know about: it is never shown twice by the inline backend and needs no ``plt.close``.
- ``log_slider``: a slider over log-spaced values (optionally starting at exactly 0).
- ``Explorer``: base class: a dict of controls, a ``FigureView``, a layout, and ``update()``
  which calls ``draw(**values)`` whenever a control changes. ``state`` holds what was drawn
  last (plotted data, title, metrics) so tests can inspect it without looking at pixels.

Chapters build their explorers on these in ``helpers/explorers/``; explorers receive the
student's functions as arguments and never contain a chapter's graded code.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["Explorer", "FigureView", "format_number", "log_slider", "log_values"]


def format_number(value: float) -> str:
    """Compact label for a slider value: 0, 1e-08, 0.001, 0.5, 10, 1e+03 ..."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e3:
        return f"{value:.3g}"
    return f"{value:.0e}"


def log_values(
    min_exp: float, max_exp: float, steps_per_decade: int = 1, include_zero: bool = False
) -> list[float]:
    """Log-spaced values 10**min_exp ... 10**max_exp (exact decimal values, e.g. 1e-3)."""
    if max_exp < min_exp:
        raise ValueError("max_exp must be >= min_exp")
    if steps_per_decade < 1:
        raise ValueError("steps_per_decade must be >= 1")
    count = int(round((max_exp - min_exp) * steps_per_decade)) + 1
    exps = np.linspace(min_exp, max_exp, count)
    values = [float(f"{10.0**e:.12g}") for e in exps]
    return ([0.0] if include_zero else []) + values


def log_slider(
    description: str,
    *,
    min_exp: float = -8,
    max_exp: float = 2,
    value: float | None = None,
    steps_per_decade: int = 1,
    include_zero: bool = True,
    **kwargs: Any,
) -> widgets.SelectionSlider:
    """A ``SelectionSlider`` over ``[0,] 10**min_exp, ..., 10**max_exp``.

    ``slider.value`` is the float itself; set it programmatically to one of
    ``slider.options`` values (e.g. ``slider.value = 1e-3``). ``value`` defaults to the
    smallest option.
    """
    values = log_values(min_exp, max_exp, steps_per_decade, include_zero)
    options = [(format_number(v), v) for v in values]
    if value is None:
        value = values[0]
    if value not in values:
        raise ValueError(f"value {value!r} is not one of the slider values {values}")
    kwargs.setdefault("continuous_update", True)
    kwargs.setdefault("style", {"description_width": "initial"})
    return widgets.SelectionSlider(
        options=options, value=value, description=description, **kwargs
    )


class FigureView:
    """A matplotlib figure rendered into an ``ipywidgets.Image`` and redrawn in place.

    Draw on ``view.figure`` (or ``view.axes``), then call ``view.redraw()``. ``subplot_kw``
    goes to ``Figure.subplots`` (e.g. ``sharex=True``).
    """

    def __init__(
        self,
        *,
        nrows: int = 1,
        ncols: int = 1,
        figsize: tuple[float, float] = (8.0, 3.5),
        dpi: int = 100,
        freeze_layout: bool = False,
        **subplot_kw: Any,
    ) -> None:
        self.freeze_layout = freeze_layout
        self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(nrows, ncols, squeeze=False, **subplot_kw)
        self.axes: list[Any] = list(axes.ravel())
        self.widget = widgets.Image(format="png")
        self.n_draws = 0

    def clear(self) -> None:
        """Clear every axes (keeps the figure and the axes objects)."""
        for ax in self.axes:
            ax.clear()

    def to_png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def redraw(self) -> None:
        """Render the figure and replace the image shown by the widget.

        With ``freeze_layout`` the constrained layout is computed on the first
        render only and the axes then keep their positions: later redraws are about twice as
        fast and the panels do not jump around while a slider moves.
        """
        self.widget.value = self.to_png()
        if self.freeze_layout and self.n_draws == 0:
            self.figure.set_layout_engine("none")
        self.n_draws += 1


class Explorer:
    """Base class for an interactive explorer.

    Subclasses build ``controls`` (name -> widget with a ``value``), pass them to
    ``__init__``, and implement ``draw(**values)``, which draws on ``self.view`` and returns a
    dict describing what was drawn (stored in ``self.state``). Any change of a control's
    value calls ``update()``. Display the explorer by leaving it as the last expression of a
    cell or with ``IPython.display.display(explorer)``.
    """

    def __init__(
        self,
        controls: Mapping[str, widgets.ValueWidget],
        view: FigureView,
        *,
        caption: str = "",
    ) -> None:
        self.controls: dict[str, widgets.ValueWidget] = dict(controls)
        self.view = view
        self.state: dict[str, Any] = {}
        self.status = widgets.HTML(value=caption)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.widget = widgets.VBox(
            [widgets.HBox(list(self.controls.values())), self.view.widget, self.status]
        )
        self.update()

    @property
    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self.update()

    def draw(self, **values: Any) -> dict[str, Any]:
        raise NotImplementedError

    def update(self) -> None:
        """Redraw for the current control values (called automatically on changes)."""
        self.view.clear()
        self.state = dict(self.draw(**self.values))
        self.view.redraw()
        self.status.value = str(self.state.get("status", ""))

    def set(self, **values: Any) -> None:
        """Set several controls at once with a single redraw (handy in tests and demos)."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise KeyError(f"unknown controls {sorted(unknown)}; known: {sorted(self.controls)}")
        for control in self.controls.values():
            control.unobserve(self._on_change, names="value")
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            for control in self.controls.values():
                control.observe(self._on_change, names="value")
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
