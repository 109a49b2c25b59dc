"""Chapter 11: the experiments' claims hold on the reference solution.

The namespace comes from executing the chapter's source (tests cells excepted), which trains the
six GANs on the ring and the diffusion model on two moons once for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "11_generative.py")


def test_the_ring_and_its_coverage_measure(ns):
    x = ns["ring_batch"](4000, np.random.default_rng(0))
    assert x.shape == (4000, 2)
    assert ns["mode_coverage"](x) == (8, pytest.approx(0.99, abs=0.01))   # 2-D: 1 - exp(-9 / 2) within 3 std
    one_mode = ns["ring_centers"][[3]] + 0.01 * np.random.default_rng(1).standard_normal((500, 2))
    assert ns["mode_coverage"](one_mode) == (1, 1.0)
    assert ns["mode_coverage"](np.zeros((10, 2))) == (0, 0.0)      # the centre of the ring is no mode


def test_the_fast_generator_loses_modes_and_the_balanced_gan_keeps_them(ns):
    fast, balanced = ns["gan_histories"]["fast generator"], ns["gan_histories"]["balanced"]
    assert len(fast) == len(balanced) == 3
    for f, b in zip(fast, balanced, strict=True):
        assert f["step"][-1] == b["step"][-1] == ns["GAN_STEPS"]
        assert f["modes"][-1] <= 5 and f["good"][-1] < 0.2
        assert b["modes"][-1] >= 6 and b["good"][-1] > 0.4 and b["modes"][-1] > f["modes"][-1]
    assert np.mean([b["modes"][-1] for b in balanced]) >= 7 and np.mean([f["modes"][-1] for f in fast]) <= 4


def test_the_scrubber_replays_the_recorded_snapshots(ns):
    view = ns["gan_view"]
    history = ns["gan_histories"]["fast generator"][0]
    assert view.state["step"] == ns["GAN_STEPS"] and view.state["run"] == "fast generator"
    view.set(run="balanced", index=5)
    balanced = ns["gan_histories"]["balanced"][0]
    assert view.state["step"] == 500 and view.state["modes"] == balanced["modes"][5]
    np.testing.assert_array_equal(view.state["samples"], balanced["samples"][5])
    assert history["surface"][0].shape == (len(ns["grid_ticks"]),) * 2
    assert np.all((history["surface"][-1] >= 0) & (history["surface"][-1] <= 1))


def test_the_denoiser_learns_and_ddpm_beats_the_gaussian_fit(ns):
    losses = ns["denoiser_losses"]
    assert np.mean(losses[-200:]) < 0.75 * np.mean(losses[:100])
    d = ns["distances"]
    floor, ddpm = d["another draw of the data (the floor)"], d[f"DDPM, {ns['DIFF_T']} steps"]
    gauss = d["Gaussian fit (same mean and covariance)"]
    assert floor < ddpm < 0.4 * gauss, d
    assert d["DDIM, 20 steps"] < 1.5 * ddpm and d["DDIM, 50 steps"] < 1.5 * ddpm, d
    assert d["DDIM, 10 steps"] < 0.6 * gauss, d
    assert 0.05 < np.sqrt(ns["diff_alpha_bars"][-1]) < 0.1


def test_the_paths_start_from_noise_and_end_on_the_moons(ns):
    path = ns["ddpm_path"]
    assert path.shape == (ns["DIFF_T"] + 1, 2000, 2)
    assert abs(path[0].std() - 1.0) < 0.05
    for p in ns["ddim_paths"].values():
        np.testing.assert_array_equal(p[0], path[0])          # the same seed: the same starting noise


def test_the_diffusion_slider_shows_both_directions(ns):
    view = ns["diffusion_view"]
    T = ns["DIFF_T"]
    view.set(t=T - 1, sampler="DDPM")
    assert view.state["error"] is None and abs(view.state["forward"].std() - 1.0) < 0.1
    np.testing.assert_array_equal(view.state["reverse"], ns["ddpm_path"][0, :1000])
    view.set(t=-1)
    np.testing.assert_array_equal(view.state["forward"], ns["moons_test"][:1000])
    np.testing.assert_array_equal(view.state["reverse"], ns["ddpm_path"][-1, :1000])
    view.set(t=50, sampler="DDIM, 20 steps")
    assert view.state["level"] <= 50
    x_t, _ = ns["q_sample"](ns["moons_test"][:1000], 50, ns["diff_alpha_bars"], np.random.default_rng(0))
    np.testing.assert_allclose(view.state["forward"], x_t)
