"""Chapter 06: the CNN experiment's claims hold, and its saliency maps agree with PyTorch.

The reference namespace comes from executing the chapter's source (tests cells excepted),
which trains the small CNN on the 8 x 8 digits once for the whole module.
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


def test_the_cnn_reaches_the_promised_test_accuracy_in_time(ns):
    assert ns["X_train"].shape == (1347, 1, 8, 8) and ns["X_test"].shape == (450, 1, 8, 8)
    assert ns["X_train"].min() >= 0.0 and ns["X_train"].max() <= 1.0
    assert ns["cnn_test_accuracy"] >= 0.985, ns["cnn_test_accuracy"]
    assert ns["cnn_test_accuracy"] == ns["accuracy"](ns["cnn_params"], ns["X_test"], ns["y_test"])
    assert ns["cnn_seconds"] <= 60.0, f"training took {ns['cnn_seconds']:.1f} s"
    history = ns["cnn_history"]
    assert len(history["loss"]) == len(history["test_acc"]) == 30
    assert history["loss"][-1] < 0.1 * history["loss"][0]  # the learning curve goes down


def test_training_is_seeded(ns):
    """The same seed gives the same first epoch (a short run: 1 epoch)."""
    first, _ = ns["train_cnn"](epochs=1, seed=0)
    again, _ = ns["train_cnn"](epochs=1, seed=0)
    other, _ = ns["train_cnn"](epochs=1, seed=1)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.allclose(first["W1"], other["W1"])


def test_random_shift_moves_images_by_at_most_one_pixel(ns):
    x = ns["X_test"][:50]
    shifted = ns["random_shift"](x, np.random.default_rng(0))
    assert shifted.shape == x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    for n in range(len(x)):
        assert any(np.array_equal(shifted[n], padded[n, :, u:u + 8, v:v + 8]) for u in range(3) for v in range(3))


def _torch_scores(params, x):
    t = {k: torch.tensor(v) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(x, t["W1"], t["b1"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, t["W2"], t["b2"], padding=1)), 2)
    return h.reshape(len(x), -1) @ t["W3"] + t["b3"]


def test_saliency_maps_are_the_input_gradients_of_the_correct_class_score(ns):
    images, saliency = ns["saliency_digits"], ns["saliency"]
    assert saliency.shape == images.shape == (6, 1, 8, 8)
    assert np.all(np.isfinite(saliency))
    assert all(np.abs(saliency[k]).max() > 1e-3 for k in range(len(saliency)))
    x = torch.tensor(images, requires_grad=True)
    scores = _torch_scores(ns["cnn_params"], x)
    scores[torch.arange(6), torch.tensor(ns["y_test"][:6])].sum().backward()
    assert np.allclose(scores.detach().numpy(), ns["scores"], rtol=1e-10, atol=1e-10)
    assert np.allclose(x.grad.numpy(), saliency, rtol=1e-8, atol=1e-10)


def test_cnn_backward_matches_autograd_for_every_parameter(ns):
    params, x, y = ns["cnn_params"], ns["X_test"][:16], ns["y_test"][:16]
    scores, caches = ns["cnn_forward"](params, x)
    loss, dscores = ns["softmax_cross_entropy_loss"](scores, y)
    grads, _ = ns["cnn_backward"](dscores, caches)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x), t["W1"], t["b1"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, t["W2"], t["b2"], padding=1)), 2)
    torch_loss = F.cross_entropy(h.reshape(16, -1) @ t["W3"] + t["b3"], torch.tensor(y))
    torch_loss.backward()
    assert np.isclose(loss, torch_loss.item(), rtol=1e-10)
    for k in params:
        assert np.allclose(grads[k], t[k].grad.numpy(), rtol=1e-7, atol=1e-10), k
