"""Chapter 09 (graph neural networks): the graph explorer.

It only *calls* the function it is given (an ``embed(params)`` built in the notebook from the
student's layers); it contains no graph layer of its own.

- :func:`graph_explorer`: the node embeddings of every layer of a GNN, at every saved point of
  its training, drawn in 2-D with the graph's edges and coloured by class, and the spread of
  the embeddings over the layers (over-smoothing shows as a falling curve).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.collections import LineCollection

from helpers.explorers.cnn import describe_error
from helpers.widgets import Explorer, FigureView

__all__ = ["GraphExplorer", "centroid_accuracy", "graph_explorer", "project_2d", "spread"]


def project_2d(H: np.ndarray) -> np.ndarray:
    """(N, 2) coordinates of embeddings (N, d): d = 1 against zeros, d = 2 as is, d > 2 their two
    principal components (centred, by SVD)."""
    H = np.asarray(H, dtype=float)
    if H.shape[1] == 1:
        return np.concatenate([H, np.zeros_like(H)], axis=1)
    if H.shape[1] == 2:
        return H.copy()
    centred = H - H.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ Vt[:2].T


def spread(H: np.ndarray) -> float:
    """Mean distance of the unit-length embeddings to their mean (0 when all point the same way)."""
    H = np.asarray(H, dtype=float)
    norms = np.linalg.norm(H, axis=1, keepdims=True)
    U = np.where(norms > 0, H / np.where(norms > 0, norms, 1.0), 0.0)
    return float(np.linalg.norm(U - U.mean(axis=0), axis=1).mean())


def centroid_accuracy(H: np.ndarray, labels: np.ndarray) -> float:
    """Share of the nodes nearer to their own class's mean embedding than to any other class's."""
    H, labels = np.asarray(H, dtype=float), np.asarray(labels)
    classes = np.unique(labels)
    centroids = np.stack([H[labels == c].mean(axis=0) for c in classes])
    nearest = classes[np.argmin(((H[:, None] - centroids[None]) ** 2).sum(axis=2), axis=1)]
    return float((nearest == labels).mean())


class GraphExplorer(Explorer):
    """Node embeddings layer by layer and over training, from the student's layers.

    ``embed(params) -> [H_1, ..., H_L]`` returns the output of every layer (each (N, d_l)) of the
    model with parameters ``params``; ``snapshots`` is ``[(epoch, params), ...]`` saved during
    training. Left: layer ``layer``'s embeddings in 2-D (see :func:`project_2d`) with the graph's
    edges, coloured by ``labels``, the ``labelled`` nodes ringed. Right: :func:`spread` of every
    layer's embeddings at that epoch.

    ``state``: ``epoch``, ``layer``, ``width`` (d of that layer), ``coords`` ((N, 2)), ``spreads``
    (one per layer), ``separation`` (:func:`centroid_accuracy` of the layer), ``accuracy`` (share
    of the nodes whose last-layer argmax is their label, when the last layer has one column per
    class), ``error``, ``status``.
    """

    def __init__(
        self,
        embed: Callable[[Any], Sequence[Any]],
        snapshots: Sequence[tuple[int, Any]],
        edge_index: np.ndarray,
        labels: np.ndarray,
        *,
        labelled: Sequence[int] = (),
        class_names: Sequence[str] | None = None,
        layer: int | None = None,
        epoch: int | None = None,
    ) -> None:
        if not snapshots:
            raise ValueError("snapshots must hold at least one (epoch, params) pair")
        self.embed = embed
        self.snapshots = {int(e): p for e, p in snapshots}
        self.edge_index = np.asarray(edge_index)
        self.labels = np.asarray(labels)
        if self.edge_index.ndim != 2 or self.edge_index.shape[0] != 2:
            raise ValueError(f"edge_index must be (2, E), got {self.edge_index.shape}")
        self.labelled = np.asarray(labelled, dtype=int)
        classes = int(self.labels.max()) + 1
        self.class_names = list(class_names) if class_names else [f"class {c}" for c in range(classes)]
        self._layers: dict[int, list[np.ndarray]] = {}
        epochs = sorted(self.snapshots)
        try:
            n_layers = len(self.layers(epochs[0]))
        except Exception:  # drawn as an error by draw()
            n_layers = max(int(layer or 1), 1)
        style = {"description_width": "initial"}
        controls = {
            "epoch": widgets.SelectionSlider(options=epochs, value=epochs[-1] if epoch is None else epoch,
                                             description="training epoch", continuous_update=False, style=style),
            "layer": widgets.IntSlider(value=n_layers if layer is None else min(int(layer), n_layers), min=1, max=n_layers,
                                       description="layer", continuous_update=False, style=style),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(11.0, 4.4), freeze_layout=True))

    def layers(self, epoch: int) -> list[np.ndarray]:
        """Every layer's output at a saved epoch (computed once, by ``embed``)."""
        if epoch not in self._layers:
            out = self.embed(self.snapshots[epoch])
            if not isinstance(out, list | tuple) or not out:
                raise ValueError("embed: expected a list of layer outputs, each (N, d)")
            arrays = [np.asarray(h, dtype=float) for h in out]
            for h in arrays:
                if h.ndim != 2 or h.shape[0] != len(self.labels):
                    raise ValueError(f"embed: expected layer outputs of shape ({len(self.labels)}, d), got {h.shape}")
            self._layers[epoch] = arrays
        return self._layers[epoch]

    def draw(self, *, epoch: int, layer: int) -> dict[str, Any]:
        ax_graph, ax_spread = self.view.axes
        state: dict[str, Any] = {"epoch": epoch, "layer": int(layer), "width": None, "coords": None, "spreads": None,
                                 "separation": None, "accuracy": None, "error": None}
        try:
            outputs = self.layers(epoch)
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and "expected" in str(exc) else describe_error(exc)
            for ax in (ax_graph, ax_spread):
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        layer = min(int(layer), len(outputs))
        H = outputs[layer - 1]
        coords = project_2d(H)
        spreads = [spread(h) for h in outputs]
        last = outputs[-1]
        accuracy = (float((last.argmax(axis=1) == self.labels).mean())
                    if last.shape[1] == len(self.class_names) else None)
        state.update(layer=layer, width=H.shape[1], coords=coords, spreads=spreads,
                     separation=centroid_accuracy(H, self.labels), accuracy=accuracy)
        segments = coords[self.edge_index.T]                         # (E, 2 ends, 2 coordinates)
        ax_graph.add_collection(LineCollection(segments, colors="0.75", linewidths=0.6, zorder=1))
        for c, name in enumerate(self.class_names):
            members = self.labels == c
            ax_graph.scatter(*coords[members].T, s=40, color=f"C{c}", label=name, zorder=2, edgecolors="white")
        if len(self.labelled):
            ax_graph.scatter(*coords[self.labelled].T, s=160, facecolors="none", edgecolors="k", lw=1.5, zorder=3,
                             label="labelled")
        ax_graph.autoscale()
        how = {1: "its one value", 2: "its two values"}.get(H.shape[1], f"the top 2 principal components of {H.shape[1]}")
        ax_graph.set(title=f"layer {layer} at epoch {epoch}: {how}", xticks=[], yticks=[])
        ax_graph.legend(fontsize=8, loc="best")
        ax_spread.plot(range(1, len(spreads) + 1), spreads, "o-")
        ax_spread.plot([layer], [spreads[layer - 1]], "o", color="C3", ms=10)
        ax_spread.set(xlabel="layer", ylabel="spread of the unit embeddings", ylim=(0, max(1.05, max(spreads) * 1.05)),
                      title="spread over the layers", xticks=range(1, len(spreads) + 1))
        shown = "" if accuracy is None else f"; the model's accuracy on all nodes {accuracy:.0%}"
        state["status"] = (f"layer {layer} (width {H.shape[1]}) at epoch {epoch}: {state['separation']:.0%} of the "
                           f"nodes are nearest to their own class's mean embedding; spread {spreads[layer - 1]:.2f} "
                           f"(0 = every node points the same way){shown}")
        return state


def graph_explorer(embed: Callable[[Any], Sequence[Any]], snapshots: Sequence[tuple[int, Any]],
                   edge_index: np.ndarray, labels: np.ndarray, **options: Any) -> GraphExplorer:
    """Build the graph explorer on a model's layers and the parameters saved during training.

    Args:
        embed: ``embed(params) -> [H_1, ..., H_L]``, each layer's node embeddings (N, d_l),
            computed with your functions.
        snapshots: ``[(epoch, params), ...]``.
        edge_index: (2, E) edges to draw; labels: (N,) the class of each node.
        **options: ``labelled`` (node ids to ring), ``class_names``, ``layer`` (the last),
            ``epoch`` (the last saved).
    """
    return GraphExplorer(embed, snapshots, edge_index, labels, **options)
