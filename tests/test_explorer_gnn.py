"""Chapter 09's graph explorer, driven like a student would.

The model given to it is a numpy stand-in for the student's GCN layers (A_hat X W^T + b with
ReLU between layers), checked against PyTorch Geometric's GCNConv here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection
from sklearn.decomposition import PCA
from torch_geometric.nn import GCNConv

from helpers.explorers.gnn import (
    GraphExplorer,
    centroid_accuracy,
    graph_explorer,
    project_2d,
    spread,
)

# two triangles 0-1-2 and 3-4-5 joined by the edge 2-3, both directions
EDGES = np.array([[0, 1, 0, 2, 1, 2, 3, 4, 3, 5, 4, 5, 2, 3], [1, 0, 2, 0, 2, 1, 4, 3, 5, 3, 5, 4, 3, 2]])
N = 6
LABELS = np.array([0, 0, 0, 1, 1, 1])
A = np.zeros((N, N))
A[EDGES[1], EDGES[0]] = 1.0
A_TILDE = A + np.eye(N)
D = A_TILDE.sum(1)
A_HAT = A_TILDE / np.sqrt(np.outer(D, D))
X = np.eye(N)


def embed(params):
    """Every layer's output of a GCN (stand-in for the student's gcn_forward and ReLU)."""
    h, outputs = X, []
    for layer in range(len(params) // 2):
        h = A_HAT @ h @ params[f"W{layer}"].T + params[f"b{layer}"]
        if layer < len(params) // 2 - 1:
            h = np.maximum(h, 0.0)
        outputs.append(h)
    return outputs


def params_of(seed, widths=(N, 5, 3, 2)):
    rng = np.random.default_rng(seed)
    p = {}
    for layer, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        p[f"W{layer}"], p[f"b{layer}"] = rng.normal(size=(b, a)), rng.normal(size=b) * 0.1
    return p


SNAPSHOTS = [(0, params_of(0)), (10, params_of(1)), (20, params_of(2))]


def test_the_stand_in_is_a_gcn():
    p = params_of(0)
    conv = GCNConv(N, 5).double()
    with torch.no_grad():
        conv.lin.weight.copy_(torch.tensor(p["W0"]))
        conv.bias.copy_(torch.tensor(p["b0"]))
    ref = torch.relu(conv(torch.tensor(X), torch.tensor(EDGES))).detach().numpy()
    np.testing.assert_allclose(embed(p)[0], ref, atol=1e-12)


def test_projection_spread_and_separation():
    rng = np.random.default_rng(0)
    H = rng.normal(size=(20, 5)) * [5, 3, 1, 0.5, 0.1]
    ours = project_2d(H)
    theirs = PCA(2).fit_transform(H)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-10)          # up to the sign of each axis
    np.testing.assert_array_equal(project_2d(H[:, :2]), H[:, :2])
    np.testing.assert_array_equal(project_2d(H[:, :1]), np.c_[H[:, 0], np.zeros(20)])
    assert spread(np.ones((4, 3)) * [[1], [2], [3], [4]]) == pytest.approx(0.0, abs=1e-12)   # same direction
    assert spread(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(1.0)
    assert spread(np.zeros((3, 2))) == 0.0
    H = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [0.2, 0.1]])
    assert centroid_accuracy(H, np.array([0, 0, 1, 1])) == 0.75              # node 3 is nearer class 0's mean


@pytest.fixture
def explorer():
    return graph_explorer(embed, SNAPSHOTS, EDGES, LABELS, labelled=[0, 5], class_names=["left", "right"])


def test_it_shows_the_given_layers_at_the_given_epochs(explorer):
    assert isinstance(explorer, GraphExplorer)
    assert explorer.state["epoch"] == 20 and explorer.state["layer"] == 3 and explorer.state["error"] is None
    for epoch, layer in [(0, 1), (10, 2), (20, 3), (0, 3)]:
        explorer.set(epoch=epoch, layer=layer)
        outputs = embed(dict(SNAPSHOTS)[epoch])
        np.testing.assert_allclose(explorer.state["coords"], project_2d(outputs[layer - 1]))
        assert explorer.state["width"] == outputs[layer - 1].shape[1]
        np.testing.assert_allclose(explorer.state["spreads"], [spread(h) for h in outputs])
        assert explorer.state["separation"] == centroid_accuracy(outputs[layer - 1], LABELS)
        assert explorer.state["accuracy"] == np.mean(outputs[-1].argmax(1) == LABELS)
        assert f"layer {layer}" in explorer.status.value and f"epoch {epoch}" in explorer.status.value
    graph_ax = explorer.view.axes[0]
    lines = [c for c in graph_ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1 and len(lines[0].get_segments()) == EDGES.shape[1]


def test_every_control_redraws_in_place_and_embed_runs_once_per_epoch(explorer):
    calls = []

    def counting(params):
        calls.append(1)
        return embed(params)

    view = graph_explorer(counting, SNAPSHOTS, EDGES, LABELS)
    draws = view.view.n_draws
    for name, value in [("layer", 1), ("epoch", 0), ("layer", 2), ("epoch", 20)]:
        png = view.view.widget.value
        view.controls[name].value = value
        assert view.view.n_draws == draws + 1 and view.view.widget.value != png, name
        draws += 1
    assert len(calls) == 2                       # epochs 0 and 20 (20 was computed first), each once


def test_a_two_class_last_layer_is_scored_and_other_widths_are_not():
    view = graph_explorer(embed, [(0, params_of(0, (N, 4, 3)))], EDGES, LABELS)
    assert view.state["accuracy"] is None and view.state["width"] == 3


def test_student_errors_are_shown_not_raised():
    def unfinished(params):
        raise NotImplementedError()

    view = graph_explorer(unfinished, SNAPSHOTS, EDGES, LABELS)
    assert view.state["coords"] is None and "not implemented" in view.state["error"]
    view = graph_explorer(lambda p: [h[:-1] for h in embed(p)], SNAPSHOTS, EDGES, LABELS)
    assert "expected layer outputs of shape (6, d)" in view.state["error"]
    view = graph_explorer(lambda p: embed(p)[0], SNAPSHOTS, EDGES, LABELS)
    assert "expected a list" in view.state["error"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="snapshots"):
        graph_explorer(embed, [], EDGES, LABELS)
    with pytest.raises(ValueError, match="edge_index"):
        graph_explorer(embed, SNAPSHOTS, EDGES.T, LABELS)
