"""Chapter 02 (backpropagation): a step-by-step view of a scalar computation graph.

``graph_stepper`` draws a graph built with the student's ``Scalar`` class and walks through
it with the student's ``topological_order`` and ``backward``: first the forward values, one
node at a time in topological order, then the gradients in reverse order. It only *reads*
what those functions produce (``value``, ``grad``, ``parents``, ``local_grads``, ``op``,
``label`` of each node); it contains no differentiation code of its own.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np

from helpers.widgets import Explorer, FigureView

__all__ = ["GraphStepper", "graph_stepper"]

# The stepping buttons: Font Awesome icon name and tooltip (the button's accessible name).
BUTTONS = (
    ("fast-backward", "back to the start"),
    ("step-backward", "one step back"),
    ("step-forward", "one step forward"),
    ("fast-forward", "to the end"),
)

COLORS = {
    "pending": "#f4f4f4",
    "computed": "#cfe3f7",
    "current": "#ffb347",
    "done": "#c9ecc4",
}


def describe_error(exc: BaseException) -> str:
    """A one-line description of an exception raised by the student's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].name if frames else "your code"
    if isinstance(exc, NotImplementedError):
        return f"{where} is not implemented yet"
    return f"{where} raised {type(exc).__name__}: {exc}"


def _fmt(value: float) -> str:
    return f"{value:.3g}" if np.isfinite(value) else str(value)


def node_name(node: Any) -> str:
    """Label of a node for display: its label, else its operation, else 'leaf'."""
    label = str(getattr(node, "label", "") or "")
    op = str(getattr(node, "op", "") or "")
    if label and op:
        return f"{label} ({op})"
    return label or op or "leaf"


class GraphStepper(Explorer):
    """Step through the forward and backward pass of a scalar computation graph.

    Steps run from 0 (nothing computed) through n (all n forward values, in topological
    order) to 2n (all gradients, in reverse topological order). ``state`` after each draw:
    ``graph``, ``step``, ``n_nodes``, ``phase`` ("start", "forward", "backward" or "done"),
    ``current`` (index into ``order`` of the node of this step, or None), ``current_name``,
    ``shown_values`` and ``shown_grads`` (node index -> number, what the figure shows),
    ``names`` (display names in topological order), ``error`` (None or a message) and
    ``status`` (the explanation under the figure).
    """

    def __init__(
        self,
        graphs: Mapping[str, Callable[[], Any]],
        *,
        topological_order: Callable[[Any], list[Any]],
        backward: Callable[[Any], None],
        graph: str | None = None,
        figsize: tuple[float, float] = (11.0, 4.4),
    ) -> None:
        if not graphs:
            raise ValueError("graphs is empty: pass e.g. {'neuron': function returning the root}")
        self.graphs = dict(graphs)
        self.topological_order = topological_order
        self.backward = backward
        self._quiet = False
        name = graph if graph is not None else next(iter(self.graphs))
        self._build(name)
        controls = {
            "graph": widgets.Dropdown(options=list(self.graphs), value=name, description="graph"),
            "step": widgets.IntSlider(
                value=0, min=0, max=max(2 * len(self.order), 1), description="step",
                continuous_update=True,
            ),
        }
        super().__init__(controls, FigureView(figsize=figsize))
        # Font Awesome icons (JupyterLab ships the font): symbols such as ⏮ and ⏭ are missing
        # from common system fonts and show as empty boxes.
        self.start_button, self.prev_button, self.next_button, self.end_button = (
            widgets.Button(description="", icon=icon, tooltip=tooltip, layout=widgets.Layout(width="44px"))
            for icon, tooltip in BUTTONS
        )
        self.start_button.on_click(lambda _b: self.go(0))
        self.prev_button.on_click(lambda _b: self.go(self.controls["step"].value - 1))
        self.next_button.on_click(lambda _b: self.go(self.controls["step"].value + 1))
        self.end_button.on_click(lambda _b: self.go(self.n_steps))
        self.widget = widgets.VBox([
            widgets.HBox([self.controls["graph"], self.start_button, self.prev_button,
                          self.controls["step"], self.next_button, self.end_button]),
            self.view.widget,
            self.status,
        ])

    # ------------------------------------------------------------------ model

    @property
    def n_steps(self) -> int:
        return 2 * len(self.order)

    def go(self, step: int) -> None:
        """Move to a step (clipped to 0 ... 2n)."""
        self.controls["step"].value = int(np.clip(step, 0, self.n_steps))

    def _build(self, name: str) -> None:
        """Build the named graph with the student's code and record what it computed."""
        self.graph_name = name
        self.order: list[Any] = []
        self.error: str | None = None
        self.warning = ""
        try:
            root = self.graphs[name]()
            order = list(self.topological_order(root))
            self.backward(root)
            values = [float(n.value) for n in order]
            grads = [float(n.grad) for n in order]
        except Exception as exc:  # show the student's error in the widget, don't crash it
            self.error = describe_error(exc)
            return
        unique, seen = [], set()
        for node, value, grad in zip(order, values, grads, strict=True):
            if id(node) not in seen:
                seen.add(id(node))
                unique.append((node, value, grad))
        if len(unique) < len(order):
            self.warning = (f"topological_order listed {len(order) - len(unique)} node(s) more than "
                            "once; each is shown once")
        if not order or order[-1] is not root:
            self.warning = "topological_order did not put the root last"
        self.order = [u[0] for u in unique]
        self.node_values = [u[1] for u in unique]
        self.node_grads = [u[2] for u in unique]
        index = {id(n): i for i, n in enumerate(self.order)}
        self.edges: list[tuple[int, int, float]] = []
        for child, node in enumerate(self.order):
            for parent, local in zip(getattr(node, "parents", ()), getattr(node, "local_grads", ()),
                                     strict=False):
                if id(parent) in index:
                    self.edges.append((index[id(parent)], child, float(local)))
        self.names = [node_name(n) for n in self.order]
        self.positions = self._layout()

    def _layout(self) -> np.ndarray:
        """Columns by depth (leaves just left of their first use), rows spread per column."""
        n = len(self.order)
        parents = [[p for p, c, _ in self.edges if c == i] for i in range(n)]
        children = [[c for p, c, _ in self.edges if p == i] for i in range(n)]
        depth = np.zeros(n, dtype=int)
        for i in range(n):  # topological order: parents already placed
            if parents[i]:
                depth[i] = 1 + max(depth[p] for p in parents[i])
        for i in range(n):
            if not parents[i] and children[i]:
                depth[i] = max(min(depth[c] for c in children[i]) - 1, 0)
        pos = np.zeros((n, 2))
        for d in np.unique(depth):
            members = [i for i in range(n) if depth[i] == d]
            for k, i in enumerate(members):
                pos[i] = (d, (len(members) - 1) / 2 - k)
        return pos

    # ------------------------------------------------------------------ events

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if self._quiet:
            return
        if change.get("owner") is self.controls["graph"]:
            self._build(change["new"])
            self._quiet = True
            try:
                self.controls["step"].max = max(self.n_steps, 1)
                self.controls["step"].value = 0
            finally:
                self._quiet = False
        self.update()

    def set(self, **values: Any) -> None:
        """Set controls at once (a new graph is built first; its step then defaults to 0)."""
        if "graph" in values and values["graph"] != self.graph_name:
            self._build(values["graph"])
            self._quiet = True
            try:
                self.controls["graph"].value = values["graph"]
                self.controls["step"].max = max(self.n_steps, 1)
                self.controls["step"].value = 0
            finally:
                self._quiet = False
        if "step" in values:
            values["step"] = int(np.clip(values["step"], 0, self.n_steps))
        super().set(**values)

    # ------------------------------------------------------------------ drawing

    def _phase(self, step: int) -> tuple[str, int | None]:
        n = len(self.order)
        if step <= 0:
            return "start", None
        if step <= n:
            return "forward", step - 1
        if step < 2 * n:
            return "backward", 2 * n - step
        return "done", 0

    def draw(self, *, graph: str, step: int) -> dict[str, Any]:
        (ax,) = self.view.axes
        ax.set_axis_off()
        if graph != self.graph_name:  # the dropdown was set while observers were off
            self._build(graph)
        state: dict[str, Any] = {"graph": graph, "step": int(step), "error": self.error}
        if self.error is not None:
            ax.text(0.5, 0.5, self.error, ha="center", va="center", color="C3", wrap=True,
                    transform=ax.transAxes)
            state.update(n_nodes=0, phase="error", current=None, current_name=None,
                         shown_values={}, shown_grads={}, names=[],
                         status=f"<b style='color:#c00'>{self.error}</b>")
            return state

        n = len(self.order)
        step = int(np.clip(step, 0, 2 * n))
        phase, current = self._phase(step)
        n_values = min(step, n)
        n_grads = max(step - n, 0)
        shown_values = {i: self.node_values[i] for i in range(n_values)}
        shown_grads = {i: self.node_grads[i] for i in range(n - n_grads, n)}

        for parent, child, local in self.edges:
            (x0, y0), (x1, y1) = self.positions[parent], self.positions[child]
            active = child in shown_grads
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops={"arrowstyle": "->", "color": "C2" if active else "0.6",
                                    "lw": 1.6 if active else 1.0, "shrinkA": 22, "shrinkB": 22})
            if active:
                ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, f"×{_fmt(local)}", fontsize=7,
                        color="C2", ha="center", va="bottom")
        for i, (x, y) in enumerate(self.positions):
            lines = [self.names[i]]
            if i in shown_values:
                lines.append(f"v = {_fmt(self.node_values[i])}")
            if i in shown_grads:
                lines.append(f"∂L = {_fmt(self.node_grads[i])}")
            if i == current and phase != "done":
                color = COLORS["current"]
            elif i in shown_grads:
                color = COLORS["done"]
            elif i in shown_values:
                color = COLORS["computed"]
            else:
                color = COLORS["pending"]
            ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8,
                    color="black" if (i in shown_values or i == current) else "0.45",
                    bbox={"boxstyle": "round,pad=0.35", "fc": color, "ec": "0.5"})
        xs, ys = self.positions[:, 0], self.positions[:, 1]
        ax.set_xlim(xs.min() - 0.6, xs.max() + 0.6)
        ax.set_ylim(ys.min() - 0.7, ys.max() + 0.7)
        titles = {"start": "the graph: step forward to run the forward pass",
                  "forward": f"forward pass: node {step} of {n}",
                  "backward": f"backward pass: node {step - n} of {n}",
                  "done": "backward pass complete: every node holds ∂L/∂node"}
        ax.set_title(f"{graph} — {titles[phase]}", fontsize=10)

        status = self._explain(phase, current)
        if self.warning:
            status += f"<br><span style='color:#c60'>note: {self.warning}</span>"
        state.update(
            n_nodes=n, phase=phase, current=current,
            current_name=None if current is None else self.names[current],
            shown_values=shown_values, shown_grads=shown_grads, names=list(self.names),
            status=status,
        )
        return state

    def _explain(self, phase: str, current: int | None) -> str:
        if phase == "start" or current is None:
            return (f"{len(self.order)} nodes in topological order. Forward: each node is "
                    "computed from its parents. Backward: gradients flow from the output back.")
        name = self.names[current]
        ins = [(p, local) for p, c, local in self.edges if c == current]
        outs = [(c, local) for p, c, local in self.edges if p == current]
        if phase == "forward":
            if not ins:
                return f"<b>{name}</b> is a leaf: its value {_fmt(self.node_values[current])} is given."
            args = ", ".join(f"{self.names[p]} = {_fmt(self.node_values[p])}" for p, _ in ins)
            locs = ", ".join(f"∂{name}/∂{self.names[p]} = {_fmt(local)}" for p, local in ins)
            return (f"<b>{name}</b> = {_fmt(self.node_values[current])} from {args}. "
                    f"Local derivatives recorded: {locs}.")
        grad = self.node_grads[current]
        if phase == "done":
            return (f"<b>{name}</b> is the output: ∂L/∂L = {_fmt(grad)}. All gradients are "
                    "now known; the leaves' gradients are what training uses.")
        if not outs:
            text = f"<b>{name}</b> is the output: ∂L/∂L = {_fmt(grad)}."
        else:
            terms = " + ".join(f"{_fmt(self.node_grads[c])} × {_fmt(local)}" for c, local in outs)
            used = "once" if len(outs) == 1 else f"{len(outs)} times"
            text = (f"<b>{name}</b> is used {used}; all its consumers are done, so "
                    f"∂L/∂{name} = {terms} = {_fmt(grad)}.")
        if ins:
            sends = ", ".join(f"{_fmt(grad)} × {_fmt(local)} to {self.names[p]}" for p, local in ins)
            text += f" It passes on {sends}."
        return text


def graph_stepper(
    graphs: Mapping[str, Callable[[], Any]],
    *,
    topological_order: Callable[[Any], list[Any]],
    backward: Callable[[Any], None],
    **options: Any,
) -> GraphStepper:
    """Build the computation-graph stepper from your own engine.

    Args:
        graphs: name -> function with no arguments that builds a graph with your ``Scalar``
            and returns its output node (the root).
        topological_order: your ``topological_order(root) -> list of nodes``.
        backward: your ``backward(root)``, which fills in every node's ``grad``.
        **options: ``graph`` (the name shown first), ``figsize``.
    """
    return GraphStepper(graphs, topological_order=topological_order, backward=backward, **options)
