"""The chapter-04 regularization explorer driven from a test: set controls, check what is drawn.

The explorer gets small independent implementations of the layers, penalties and dropout
written here, so the test depends neither on the notebook nor on chapter 03's library.
"""

from __future__ import annotations

from types import SimpleNamespace

import ipywidgets as widgets
import numpy as np
import pytest

from helpers.explorers.regularization import (
    RegularizationExplorer,
    regularization_explorer,
    train_moons_mlp,
)


def _affine_fwd(x, W, b):
    return x @ W + b, (x, W)


def _affine_bwd(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


def _relu_fwd(x):
    return np.maximum(x, 0.0), x > 0


def _relu_bwd(dout, positive):
    return dout * positive


def _softmax_ce(scores, y):
    z = scores - scores.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1.0
    return float(loss), p / n


LAYERS = SimpleNamespace(affine_forward=_affine_fwd, affine_backward=_affine_bwd, relu_forward=_relu_fwd,
                         relu_backward=_relu_bwd, softmax_cross_entropy_loss=_softmax_ce)


def _l2(weights, lam):
    return 0.5 * lam * sum(float((w**2).sum()) for w in weights.values()), {k: lam * w for k, w in weights.items()}


def _l1(weights, lam):
    return lam * sum(float(np.abs(w).sum()) for w in weights.values()), {k: lam * np.sign(w) for k, w in weights.items()}


def _drop_fwd(x, p, train=True, rng=None, mask=None):
    if not train:
        return x, None
    keep = rng.random(x.shape) >= p if mask is None else mask
    return x * keep / (1 - p), (keep, p)


def _drop_bwd(dout, cache):
    if cache is None:
        return dout
    keep, p = cache
    return dout * keep / (1 - p)


@pytest.fixture
def explorer() -> RegularizationExplorer:
    return regularization_explorer(LAYERS, l2_penalty=_l2, l1_penalty=_l1, dropout_forward=_drop_fwd,
                                   dropout_backward=_drop_bwd, penalty="L2", lam=0.0, n_train=30, steps=600)


def test_unregularized_model_overfits_the_small_training_set(explorer):
    state = explorer.state
    assert state["error"] is None
    assert state["penalty"] == "L2" and state["lam"] == 0.0 and state["n_train"] == 30
    assert state["train_acc"] >= 0.95
    assert state["test_acc"] < state["train_acc"] - 0.1  # a generalisation gap
    assert state["probabilities"].shape == (explorer.grid_n, explorer.grid_n)
    assert np.all((state["probabilities"] >= 0) & (state["probabilities"] <= 1))
    assert state["history"].shape[1] == 3 and state["history"][-1, 0] == 600
    assert isinstance(explorer.widget, widgets.VBox) and explorer.view.widget in explorer.widget.children
    assert explorer.view.widget.value[:4] == b"\x89PNG"


def test_l2_strength_shrinks_weights_smooths_and_finally_underfits(explorer):
    norms, train_accs = [], []
    for lam in (0.0, 1e-3, 1e-2, 1e-1, 1.0):
        explorer.controls["lam"].value = lam  # as a user would
        assert explorer.state["lam"] == lam
        norms.append(explorer.state["weight_l2"])
        train_accs.append(explorer.state["train_acc"])
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False)), norms
    assert train_accs[0] >= 0.95 and train_accs[-1] <= 0.6  # too strong: underfits (near chance)
    # the boundary becomes smoother: the probability surface varies less from pixel to pixel
    explorer.set(lam=0.0)
    rough = np.abs(np.diff(explorer.state["probabilities"], axis=1)).max()
    explorer.set(lam=1e-2)
    smooth = np.abs(np.diff(explorer.state["probabilities"], axis=1)).max()
    assert smooth < rough


def test_l1_makes_weights_sparse(explorer):
    explorer.set(penalty="L2", lam=1e-2)
    l2_tiny = explorer.state["tiny_weights"]
    explorer.controls["penalty"].value = "L1"
    assert explorer.state["penalty"] == "L1"
    assert explorer.state["tiny_weights"] > max(0.3, 3 * l2_tiny)
    explorer.controls["penalty"].value = "none"
    assert explorer.state["tiny_weights"] < 0.05


def test_dropout_and_more_data_change_the_fit(explorer):
    base = explorer.state
    explorer.controls["dropout"].value = 0.5
    assert explorer.state["dropout"] == 0.5
    assert not np.allclose(explorer.state["probabilities"], base["probabilities"])
    explorer.set(dropout=0.0, n_train=480)
    assert explorer.state["n_train"] == 480
    assert explorer.state["test_acc"] > base["test_acc"]
    assert explorer.state["train_acc"] < 1.0  # 480 noisy points cannot all be fitted by this net in 600 steps


def test_results_are_cached_and_redrawn_in_place(explorer):
    figure, draws = explorer.view.figure, explorer.view.n_draws
    explorer.set(lam=1e-2)
    first = explorer.state["probabilities"]
    png = explorer.view.widget.value
    calls = []
    original = explorer.penalties["L2"]
    explorer.penalties["L2"] = lambda w, lam: calls.append(lam) or original(w, lam)
    explorer.set(lam=0.0)
    explorer.set(lam=1e-2)  # back to a cached setting: no training, same picture
    assert calls == []
    np.testing.assert_array_equal(explorer.state["probabilities"], first)
    assert explorer.view.widget.value == png
    assert explorer.view.figure is figure and len(figure.axes) == 3
    assert explorer.view.n_draws == draws + 3


def test_training_is_deterministic_and_uses_the_given_penalty():
    from helpers.explorers.regularization import make_data

    X, y, Xt, yt = make_data(30)
    a = train_moons_mlp(LAYERS, X, y, Xt, yt, penalty=_l2, lam=1e-2, steps=100)
    b = train_moons_mlp(LAYERS, X, y, Xt, yt, penalty=_l2, lam=1e-2, steps=100)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    seen = []
    train_moons_mlp(LAYERS, X, y, Xt, yt, penalty=lambda w, lam: seen.append(sorted(w)) or _l2(w, lam),
                    lam=1e-2, steps=3)
    assert seen[0] == ["W1", "W2", "W3"]  # weights only, no biases


def test_explorer_reports_unfinished_functions():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    ex = regularization_explorer(LAYERS, l2_penalty=stub, l1_penalty=_l1, dropout_forward=stub,
                                 dropout_backward=stub, penalty="none", lam=0.0, n_train=30, steps=50)
    assert ex.state["error"] is None  # no penalty, no dropout: nothing of the student's is used
    ex.set(penalty="L2", lam=1e-2)
    assert ex.state["error"] == "l2_penalty is not implemented yet"
    assert "not implemented" in ex.status.value
    ex.set(penalty="none", dropout=0.3)
    assert ex.state["error"] == "dropout_forward is not implemented yet"
    ex.set(penalty="L1", dropout=0.0)
    assert ex.state["error"] is None


def test_without_dropout_functions_the_dropout_control_is_disabled():
    ex = regularization_explorer(LAYERS, l2_penalty=_l2, n_train=30, steps=20)
    assert ex.controls["dropout"].disabled
    assert list(ex.controls["penalty"].options) == ["none", "L2"]
