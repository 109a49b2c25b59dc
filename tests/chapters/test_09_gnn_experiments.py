"""Chapter 09: the experiments' claims hold on the reference solution.

The namespace comes from executing the chapter's source (tests cells excepted), which trains
the karate-club GCNs, the graph classifiers and the GCNs of every depth once for the module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "09_gnn.py")


def test_the_karate_club_is_the_real_one(ns):
    assert ns["K_NODES"] == 34 and ns["karate_edges"].shape == (2, 156)
    assert ns["karate_y"][0] == 0 and ns["karate_y"][33] == 1 and ns["karate_y"].sum() == 17


def test_two_labels_and_the_graph_classify_the_club_and_no_edges_cannot(ns):
    assert np.mean(ns["karate_acc"]) >= 0.9 and min(ns["karate_acc"]) >= 0.85
    assert ns["propagation_acc"] >= 0.9
    assert np.mean(ns["mlp_acc"]) <= 0.6
    assert ns["wrong"].tolist() == [8]


def test_graph_classification_beats_the_degree_histogram(ns):
    results = ns["graph_results"]
    baseline, gcn = results["readout of the degrees only"][1], results["2 GCN layers + readout"][1]
    assert gcn >= 0.9 and gcn > baseline > 0.6
    assert ns["confusion"].sum() == 120 and np.trace(ns["confusion"]) == round(gcn * 120)


def test_deep_gcns_oversmooth(ns):
    acc = ns["depth_acc"]
    best = max(acc.values())
    assert best >= 0.85 and max(acc[2], acc[3], acc[4]) == best
    assert acc[16] < 0.5 and acc[16] < acc[8] < best
    assert best > ns["sbm_mlp"] + 0.15
    spreads = np.array(ns["power_spread"])
    assert np.all(np.diff(spreads) < 0) and spreads[0] > 0.9 and spreads[-1] < 0.01


def test_the_explorer_shows_the_trained_model(ns):
    view = ns["karate_view"]
    assert view.state["error"] is None and view.state["epoch"] == 200 and view.state["layer"] == 3
    assert view.state["accuracy"] >= 0.9 and view.state["separation"] >= 0.9
    view.set(epoch=0, layer=1)
    assert view.state["error"] is None and view.state["coords"].shape == (34, 2) and view.state["width"] == 16
    np.testing.assert_allclose(view.state["spreads"][0], ns["spread"](ns["karate_layers"](
        ns["karate_snapshots"][0][1])[0]))
