"""Chapter 07: the experiments' claims hold on the reference solution.

The namespace comes from executing the chapter's source (tests cells excepted), which runs the
gradient measurements, trains both networks on the adding problem and the character language
model once for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "07_rnn.py")


def test_gradients_vanish_and_explode_with_the_spectral_radius(ns):
    weak = ns["flow_weak"]
    ratio = {label: norms[0] / norms[-1] for label, norms in weak.items()}
    assert ratio["RNN, ρ = 0.5"] < 1e-12 and 1e-3 < ratio["RNN, ρ = 1.0"] < 1e3 and ratio["RNN, ρ = 1.5"] > 1e3
    assert ratio["RNN, ρ = 1.1"] > 10 * ratio["RNN, ρ = 1.0"]
    assert ratio["LSTM, forget bias +3"] > 1e3 * ratio["LSTM, default init"]


def test_the_state_gradient_is_the_autograd_one(ns):
    """state_gradient_norms restarts the sequence at step t; autograd through the whole sequence agrees."""
    rng = np.random.default_rng(0)
    N, T, H = 3, 12, 5
    params = ns["init_rnn_params"]("rnn", H, H, rng)
    x = rng.normal(size=(N, T, H))
    norms = ns["state_gradient_norms"]("rnn", x, params, np.random.default_rng(7))
    u = np.random.default_rng(7).normal(size=(N, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    t = {k: torch.tensor(v) for k, v in params.items()}
    h = torch.zeros(N, H, dtype=torch.float64, requires_grad=True)
    states = []
    for step in range(T):
        states.append(h)
        if step:
            h.retain_grad()
        h = torch.tanh(torch.tensor(x[:, step]) @ t["W_ih"].T + t["b_ih"] + h @ t["W_hh"].T + t["b_hh"])
    (h * torch.tensor(u)).sum().backward()
    for step in range(T):
        assert np.isclose(norms[step], states[step].grad.norm(dim=1).mean().item(), rtol=1e-10)


def test_the_lstm_beats_the_rnn_on_the_adding_problem(ns):
    rnn, lstm = ns["adding_curves"]["rnn"][-1], ns["adding_curves"]["lstm"][-1]
    baseline = ns["ADDING_BASELINE"]
    assert rnn > 0.8 * baseline  # the RNN does not learn to remember
    assert lstm < 0.1 * baseline and lstm < rnn / 10
    x, y = ns["adding_batch"](1000, 50, np.random.default_rng(0))
    assert x.shape == (1000, 50, 2) and np.all(x[:, :, 1].sum(axis=1) == 2)
    assert np.isclose(np.var(y), 1 / 6, rtol=0.15)  # the stated baseline


def test_the_language_model_beats_the_baselines(ns):
    baselines, bits = ns["baselines"], ns["lm_val_bits"]
    assert 4.5 < baselines["unigram"] < 5.0 and 3.4 < baselines["bigram"] < 3.8
    assert bits < baselines["bigram"] - 1.0, bits
    assert ns["lm_params"]["W_hh"].dtype == np.float32
    history = ns["lm_history"]
    assert history["val"][-1] < history["val"][0]


def test_generation_is_seeded_and_uses_the_vocabulary(ns):
    first = ns["generate"](ns["lm_params"], "\n", 50, 1.0, seed=3)
    assert first == ns["generate"](ns["lm_params"], "\n", 50, 1.0, seed=3)
    assert first != ns["generate"](ns["lm_params"], "\n", 50, 1.0, seed=4)
    assert len(first) == 51 and set(first) <= set(ns["chars"])


def test_next_char_scores_match_a_fresh_run(ns):
    scorer = ns["NextCharScores"](ns["lm_params"])
    scorer("ROM")
    incremental = scorer("ROMEO")
    fresh = ns["NextCharScores"](ns["lm_params"])("ROMEO")
    np.testing.assert_allclose(incremental, fresh, rtol=1e-5, atol=1e-6)
    assert incremental.shape == (len(ns["chars"]),)
