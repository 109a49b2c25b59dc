"""Chapter 06: the experiments' claims hold, and what they compute agrees with PyTorch.

The reference namespace comes from executing the chapter's source (tests cells excepted), which
trains the CNN on the 8 x 8 digits and the two 1-D CNNs on MNIST-1D once for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "06_cnn.py")


def test_the_cnn_reaches_the_promised_test_accuracy(ns):
    assert ns["X_train"].shape == (1347, 1, 8, 8) and ns["X_test"].shape == (450, 1, 8, 8)
    assert ns["X_train"].min() >= 0.0 and ns["X_train"].max() <= 1.0
    assert ns["cnn_test_accuracy"] >= 0.985, ns["cnn_test_accuracy"]
    assert ns["cnn_test_accuracy"] == ns["accuracy"](ns["cnn_params"], ns["cnn_states"], ns["X_test"], ns["y_test"])
    history = ns["cnn_history"]
    assert len(history["loss"]) == len(history["test_acc"]) == 30
    assert history["loss"][-1] < 0.1 * history["loss"][0]  # the learning curve goes down


def test_training_is_seeded(ns):
    """The same seed gives the same first epoch (a short run: 1 epoch)."""
    first, _, _ = ns["train_cnn"](epochs=1, seed=0)
    again, _, _ = ns["train_cnn"](epochs=1, seed=0)
    other, _, _ = ns["train_cnn"](epochs=1, seed=1)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.allclose(first["W1"], other["W1"])


def test_random_shift_moves_images_by_at_most_one_pixel(ns):
    x = ns["X_test"][:50]
    shifted = ns["random_shift"](x, np.random.default_rng(0))
    assert shifted.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n in range(len(x)):
        assert any(np.array_equal(shifted[n], padded[n, :, u:u + 8, v:v + 8]) for u in range(3) for v in range(3))


def _torch_scores(params, states, x):
    """The trained CNN in eval mode, by torch.nn.functional."""
    t = {k: torch.tensor(v) for k, v in params.items()}
    h = x
    for i in (1, 2):
        h = F.conv2d(h, t[f"W{i}"], t[f"b{i}"], padding=1)
        state = states[f"bn{i}"]
        h = F.batch_norm(h, torch.tensor(state["running_mean"]), torch.tensor(state["running_var"]),
                         t[f"gamma{i}"], t[f"beta{i}"], training=False, eps=state["eps"])
        h = F.max_pool2d(F.relu(h), 2)
    return h.reshape(len(x), -1) @ t["W3"] + t["b3"]


def test_saliency_maps_are_the_input_gradients_of_the_correct_class_score(ns):
    images, saliency = ns["saliency_digits"], ns["saliency"]
    assert saliency.shape == images.shape == (6, 1, 8, 8)
    assert all(np.abs(saliency[k]).max() > 1e-3 for k in range(len(saliency)))
    x = torch.tensor(images, requires_grad=True)
    scores = _torch_scores(ns["cnn_params"], ns["cnn_states"], x)
    scores[torch.arange(6), torch.tensor(ns["y_test"][:6])].sum().backward()
    assert np.allclose(scores.detach().numpy(), ns["scores"], rtol=1e-10, atol=1e-10)
    assert np.allclose(x.grad.numpy(), saliency, rtol=1e-8, atol=1e-10)


def test_feature_maps_and_equivariance(ns):
    maps = ns["first_layer_maps"](ns["cnn_params"], ns["cnn_states"], ns["X_test"][:3])
    assert maps.shape == (3, 32, 8, 8) and maps.min() == 0.0
    # the check of the notebook is a real one: a shift that crosses the border breaks it
    canvas, first = ns["canvas"], ns["first_layer_maps"]
    assert np.abs(ns["maps_of_shifted"] - ns["shifted_maps"]).max() < 1e-12
    far = np.roll(canvas, (9, 9), axis=(2, 3))
    assert np.abs(first(ns["cnn_params"], ns["cnn_states"], far)
                  - np.roll(first(ns["cnn_params"], ns["cnn_states"], canvas), (9, 9), axis=(2, 3))).max() > 1e-3


def test_shifted_test_digits(ns):
    x = ns["X_test"][:5]
    assert np.array_equal(ns["shift_images"](x, 0, 0), x)
    assert np.array_equal(ns["shift_images"](x, 1, -2)[:, :, 1:, :6], x[:, :, :7, 2:])
    acc = ns["shift_accuracy"]
    assert acc.shape == (5, 5) and acc[2, 2] == ns["cnn_test_accuracy"]
    assert acc[2, 2] > acc[0, 0] and acc[2, 2] > acc[4, 4]  # invariance is only approximate


def test_conv1d_agrees_with_torch(ns):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(3, 4, 1, 11)), rng.normal(size=(5, 4, 1, 3)), rng.normal(size=5)
    out, cache = ns["conv1d_forward"](x, w, b, 2, 1)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x[:, :, 0], w[:, :, 0], b))
    ref = F.conv1d(xt, wt, bt, stride=2, padding=1)
    dout = rng.normal(size=ref.shape)
    ref.backward(torch.tensor(dout))
    assert np.allclose(out[:, :, 0], ref.detach().numpy())
    dx, dw, db = ns["conv1d_backward"](dout[:, :, None], cache)
    assert np.allclose(dx[:, :, 0], xt.grad.numpy()) and np.allclose(dw[:, :, 0], wt.grad.numpy())
    assert np.allclose(db, bt.grad.numpy())


def test_mnist1d_results(ns):
    assert ns["m1_train"].shape == (4000, 1, 1, 40) and ns["m1_test"].shape == (1000, 1, 1, 40)
    results = ns["m1_results"]
    assert 0.25 < results["logistic regression (here)"] < 0.45
    assert results["1-D CNN (here)"] >= 0.88
    assert results["1-D CNN, shifted signals (here)"] >= 0.94  # the published CNN figure
    assert results["1-D CNN, shifted signals (here)"] > results["1-D CNN (here)"]
    params = ns["m1_shifted"]
    assert sum(v.size for v in params.values()) < 10_000
