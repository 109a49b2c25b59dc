"""Chapter 11's GAN scrubber and diffusion slider, driven like a student would.

The scrubber gets made-up training records; the slider gets a numpy stand-in for the student's
q_sample (checked against the closed form here) and made-up reverse chains.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers.explorers.generative import (
    DiffusionExplorer,
    GanScrubber,
    diffusion_explorer,
    gan_scrubber,
)

CENTERS = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
TICKS = np.linspace(-2, 2, 21)


def history(seed: int, K: int = 6) -> dict:
    rng = np.random.default_rng(seed)
    return {"step": [100 * k for k in range(K)], "modes": [min(k, 4) for k in range(K)],
            "good": list(np.linspace(0, 0.9, K)), "samples": [rng.normal(size=(50, 2)) for _ in range(K)],
            "surface": [rng.random((len(TICKS), len(TICKS))) for _ in range(K)]}


@pytest.fixture
def scrubber() -> GanScrubber:
    return gan_scrubber({"one": history(0), "two": history(1, K=4)}, CENTERS, (TICKS[0], TICKS[-1]))


def test_the_scrubber_shows_the_recorded_snapshot(scrubber):
    assert isinstance(scrubber, GanScrubber) and len(scrubber.view.axes) == 2
    assert scrubber.state["run"] == "one" and scrubber.state["step"] == 500 and scrubber.state["index"] == 5
    scrubber.set(index=2)
    h = history(0)
    np.testing.assert_array_equal(scrubber.state["samples"], h["samples"][2])
    np.testing.assert_array_equal(scrubber.state["surface"], h["surface"][2])
    assert scrubber.state["modes"] == 2 and "step 200: 2 of 4 modes" in scrubber.status.value
    assert scrubber.state["d_mean"] == pytest.approx(h["surface"][2].mean())


def test_every_control_redraws_in_place(scrubber):
    draws = scrubber.view.n_draws
    for name, value in [("index", 1), ("run", "two"), ("index", 3)]:
        png = scrubber.view.widget.value
        scrubber.controls[name].value = value
        assert scrubber.view.n_draws == draws + 1 and scrubber.view.widget.value != png, name
        draws += 1
    assert scrubber.state["run"] == "two" and scrubber.state["step"] == 300


def test_a_shorter_run_clamps_the_snapshot(scrubber):
    scrubber.set(run="two", index=5)              # run "two" has 4 snapshots
    assert scrubber.state["index"] == 3 and scrubber.state["step"] == 300


def test_bad_records_are_refused():
    with pytest.raises(ValueError):
        gan_scrubber({}, CENTERS, (-2, 2))
    bad = history(0)
    del bad["surface"]
    with pytest.raises(ValueError, match="needs"):
        gan_scrubber({"bad": bad}, CENTERS, (-2, 2))
    bad = history(0)
    bad["samples"] = bad["samples"][:-1]
    with pytest.raises(ValueError, match="one length"):
        gan_scrubber({"bad": bad}, CENTERS, (-2, 2))


# ----------------------------------------------------------------------------- the diffusion slider

ALPHA_BARS = np.cumprod(1 - np.linspace(1e-3, 0.2, 30))
DATA = np.random.default_rng(2).normal(size=(200, 2)) * 0.3 + 1.0


def q_sample(x0, t, alpha_bars, rng):
    """Stand-in for the student's: sqrt(ab) x0 + sqrt(1 - ab) eps, eps = rng.standard_normal(x0.shape)."""
    eps = rng.standard_normal(x0.shape)
    ab = np.asarray(alpha_bars)[t]
    return np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps, eps


def chains() -> dict:
    rng = np.random.default_rng(3)
    full = rng.normal(size=(31, 200, 2))
    short_levels = np.array([29, 20, 10, 0, -1])
    return {"DDPM": (full, np.arange(29, -2, -1)), "DDIM": (rng.normal(size=(5, 200, 2)), short_levels)}


def test_the_stand_in_is_the_closed_form():
    x, eps = q_sample(DATA, 7, ALPHA_BARS, np.random.default_rng(0))
    np.testing.assert_allclose(x, np.sqrt(ALPHA_BARS[7]) * DATA + np.sqrt(1 - ALPHA_BARS[7]) * eps)


@pytest.fixture
def slider() -> DiffusionExplorer:
    return diffusion_explorer(q_sample, DATA, ALPHA_BARS, chains())


def test_the_slider_noises_with_the_given_function_and_finds_the_chain(slider):
    assert slider.state["t"] == 29 and slider.state["level"] == 29
    for t, sampler, level, index in [(12, "DDPM", 12, 17), (12, "DDIM", 10, 2), (29, "DDIM", 29, 0),
                                     (-1, "DDIM", -1, 4), (0, "DDIM", 0, 3)]:
        slider.set(t=t, sampler=sampler)
        path, _ = chains()[sampler]
        assert slider.state["level"] == level, (t, sampler)
        np.testing.assert_array_equal(slider.state["reverse"], path[index])
        expected = DATA if t < 0 else q_sample(DATA, t, ALPHA_BARS, np.random.default_rng(0))[0]
        np.testing.assert_allclose(slider.state["forward"], expected)
        assert slider.state["signal"] == pytest.approx(1.0 if t < 0 else np.sqrt(ALPHA_BARS[t]))
        assert slider.state["error"] is None


def test_every_slider_control_redraws_in_place(slider):
    draws = slider.view.n_draws
    for name, value in [("t", 5), ("sampler", "DDIM"), ("show_paths", False), ("t", -1)]:
        png = slider.view.widget.value
        slider.controls[name].value = value
        assert slider.view.n_draws == draws + 1 and slider.view.widget.value != png, name
        draws += 1


def test_student_errors_are_shown_not_raised():
    def unfinished(x0, t, alpha_bars, rng):
        raise NotImplementedError()

    view = diffusion_explorer(unfinished, DATA, ALPHA_BARS, chains())
    assert view.state["forward"] is None and "not implemented" in view.state["error"]
    view.set(t=-1)                                  # the clean data need no q_sample
    assert view.state["error"] is None
    view = diffusion_explorer(lambda x0, t, ab, rng: q_sample(x0, t, ab, rng)[0], DATA, ALPHA_BARS, chains())
    assert "(x_t, eps)" in view.state["error"]
    view = diffusion_explorer(lambda x0, t, ab, rng: (x0[:5], x0[:5]), DATA, ALPHA_BARS, chains())
    assert "expected x_t of shape" in view.state["error"]


def test_bad_chains_are_refused():
    with pytest.raises(ValueError):
        diffusion_explorer(q_sample, DATA, ALPHA_BARS, {})
    path, levels = chains()["DDIM"]
    with pytest.raises(ValueError, match="ending at -1"):
        diffusion_explorer(q_sample, DATA, ALPHA_BARS, {"x": (path, levels[::-1])})
