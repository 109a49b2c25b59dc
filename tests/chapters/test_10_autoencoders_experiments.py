"""Chapter 10: the experiments' claims hold on the reference solution.

The namespace comes from executing the chapter's source (tests cells excepted), which fits PCA,
trains the linear autoencoder, the VAE and the two autoencoders of the denoising experiment once
for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "10_autoencoders.py")


def test_pca_keeps_most_variance_in_few_components(ns):
    ratio = ns["ratio"]
    assert np.all(np.diff(ratio) >= -1e-12) and np.isclose(ratio[-1], 1.0)
    assert 0.2 < ratio[1] < 0.4 and ratio[15] > 0.8


def test_the_linear_autoencoder_spans_the_pca_subspace_with_other_vectors(ns):
    angles = ns["lin_angles"]
    assert angles[0].max() > 45 and angles[-1].max() < 0.01        # degrees
    assert np.isclose(ns["lin_mse"], ns["pca_mse"], rtol=1e-6)
    assert not np.allclose(ns["gram"], np.eye(ns["LIN_K"]), atol=0.05)   # not the components themselves


def test_the_vae_learns_a_useful_two_dimensional_code(ns):
    history = ns["vae_history"]
    assert history["test"][-1] < history["train"][0] - 8 and history["test"][-1] < 27
    assert abs(history["test"][-1] - history["train"][-1]) < 2            # no overfitting to speak of
    assert 1.0 < ns["test_kl"] < 5.0                                        # the code is used, not collapsed
    # classes gather: the nearest training code's class is right for most held-out digits
    train_mu, _ = ns["vae_encode"](ns["vae"], ns["train_x"])
    d = ((ns["test_mu"][:, None] - train_mu[None]) ** 2).sum(-1)
    accuracy = np.mean(ns["train_y"][d.argmin(1)] == ns["test_y"])
    assert accuracy > 0.6, accuracy
    samples = ns["samples"]
    assert samples.shape == (16, 64) and samples.min() >= 0 and samples.max() <= 1 and samples.std(0).mean() > 0.05


def test_denoising_beats_copying_and_pca(ns):
    mse = ns["denoise_mse"]
    assert mse["denoising autoencoder"] < mse["PCA, 16 components"] < mse["noisy input itself"]
    assert mse["denoising autoencoder"] < 0.8 * mse["plain autoencoder"]
    assert ns["clean_mse"]["plain"] < ns["clean_mse"]["denoising"]


def test_the_explorer_decodes_the_trained_vae(ns):
    view = ns["latent_view"]
    assert view.state["error"] is None
    np.testing.assert_allclose(view.state["image"].ravel(), ns["vae_decode"](ns["vae"], np.zeros((1, 2)))[0])
    assert [ns["test_y"][view.state[k]] for k in ("first", "second")] == [0, 7]   # it starts on a 0 and a 7
    view.set(first=3, second=5, t=1.0)
    np.testing.assert_allclose(view.state["t_code"], ns["test_mu"][5])
    np.testing.assert_allclose(view.state["t_image"].ravel(), ns["vae_decode"](ns["vae"], ns["test_mu"][5:6])[0])
