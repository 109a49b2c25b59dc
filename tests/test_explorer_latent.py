"""Chapter 10's latent-space explorer, driven like a student would.

The decoder given to it is a fixed numpy stand-in with the notebook's signature (codes (N, 2) ->
images (N, 64) in [0, 1]); every image the explorer shows must be that decoder's, at the code the
controls describe.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.explorers.latent import STEPS, LatentExplorer, latent_explorer

RNG = np.random.default_rng(0)
W = RNG.normal(size=(2, 64))
CODES = RNG.normal(size=(30, 2))
LABELS = np.arange(30) % 10
IMAGES = RNG.random((30, 64))


def decode(z):
    """A smooth stand-in decoder: pixel probabilities sigmoid(z W)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z) @ W))


@pytest.fixture
def explorer():
    return latent_explorer(decode, CODES, LABELS, images=IMAGES)


def test_the_slider_code_is_decoded_live(explorer):
    assert isinstance(explorer, LatentExplorer) and explorer.state["error"] is None
    for z1, z2 in [(0.0, 0.0), (1.5, -2.0), (-3.0, 3.0)]:
        explorer.set(z1=z1, z2=z2)
        np.testing.assert_allclose(explorer.state["z"], [z1, z2])
        np.testing.assert_allclose(explorer.state["image"], decode([[z1, z2]]).reshape(8, 8))
        nearest = int(np.argmin(((CODES - [z1, z2]) ** 2).sum(1)))
        assert explorer.state["nearest"] == nearest and explorer.state["nearest_label"] == LABELS[nearest]
        assert f"example {nearest}" in explorer.status.value


def test_the_interpolation_walks_the_straight_line_between_two_codes(explorer):
    explorer.set(first=4, second=17, t=0.0)
    path = explorer.state["path"]
    assert path.shape == (STEPS, 2)
    np.testing.assert_allclose(path[0], CODES[4])
    np.testing.assert_allclose(path[-1], CODES[17])
    np.testing.assert_allclose(np.diff(path, axis=0), np.broadcast_to((CODES[17] - CODES[4]) / (STEPS - 1),
                                                                      (STEPS - 1, 2)), atol=1e-12)
    np.testing.assert_allclose(explorer.state["strip"], decode(path).reshape(STEPS, 8, 8))
    for t in (0.0, 0.35, 1.0):
        explorer.set(t=t)
        expected = CODES[4] + t * (CODES[17] - CODES[4])
        np.testing.assert_allclose(explorer.state["t_code"], expected)
        np.testing.assert_allclose(explorer.state["t_image"], decode(expected[None]).reshape(8, 8))


def test_every_control_redraws_in_place(explorer):
    draws = explorer.view.n_draws
    for name, value in [("z1", 1.0), ("z2", -0.5), ("first", 7), ("second", 2), ("t", 0.8)]:
        png = explorer.view.widget.value
        explorer.controls[name].value = value
        assert explorer.view.n_draws == draws + 1 and explorer.view.widget.value != png, name
        draws += 1
    assert explorer.state["first"] == 7 and explorer.state["second"] == 2 and explorer.state["t"] == 0.8


def test_it_works_without_images_and_with_images_as_squares():
    view = latent_explorer(lambda z: decode(z).reshape(-1, 8, 8), CODES, LABELS, z1=0.5)
    assert view.state["error"] is None
    np.testing.assert_allclose(view.state["image"], decode([[0.5, 0.0]]).reshape(8, 8))


def test_decoder_errors_are_shown_not_raised():
    def unfinished(z):
        raise NotImplementedError()

    view = latent_explorer(unfinished, CODES, LABELS)
    assert view.state["image"] is None and "not implemented" in view.state["error"]
    view = latent_explorer(lambda z: decode(z)[:, :60], CODES, LABELS)
    assert "square images" in view.state["error"]
    view = latent_explorer(lambda z: decode(z)[:1], CODES, LABELS)
    assert "expected" in view.state["error"] and "codes" in view.state["error"]
    view.decode = decode                                 # fixed: the next change draws
    view.set(z1=1.0)
    assert view.state["error"] is None


def test_bad_codes_are_refused():
    with pytest.raises(ValueError, match="codes"):
        latent_explorer(decode, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="labels"):
        latent_explorer(decode, CODES, LABELS[:-1])
