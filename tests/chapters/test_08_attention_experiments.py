"""Chapter 08: the experiments' claims hold on the reference solution.

The namespace comes from executing the chapter's source (tests cells excepted), which fits the
n-gram models, trains the character LSTM, the word vectors, the digit-reversing transformer and
its LSTM rival once for the whole module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "08_attention.py")


def test_longer_contexts_and_interpolation_lower_the_perplexity(ns):
    single = ns["single"]
    assert single[1] > single[2] > single[3] > single[4]
    assert 25 < single[1] < 35 and single[4] < 7.0
    assert np.isclose(sum(ns["best_lambdas"]), 1.0) and min(ns["best_lambdas"]) >= 0
    assert ns["ngram_ppl"] < single[4]


def test_the_short_lstm_beats_the_trigram_and_is_close_to_the_4gram(ns):
    lstm, single = ns["lstm_ppl"], ns["single"]
    assert lstm < single[3], (lstm, single)
    assert abs(np.log2(lstm) - np.log2(ns["ngram_ppl"])) < 0.3   # within 0.3 bits per character


def test_word_vectors_find_related_words(ns):
    losses = ns["w2v_losses"]
    assert np.mean(losses[-50:]) < np.mean(losses[:50]) - 1.0
    vectors = ns["word_vectors"]["W_in"]
    near = {w: ns["nearest_words"](vectors, w) for w in ("three", "father", "thou")}
    assert {"two", "four", "five", "six", "seven"} & set(near["three"]), near
    assert {"son", "brother", "mother", "daughter", "wife", "husband"} & set(near["father"]), near
    assert {"wilt", "dost", "art", "hast", "shalt", "thee", "thyself"} & set(near["thou"]), near


def test_the_reversal_data_are_the_digits_reversed(ns):
    x, y, mask = ns["reversal_batch"](50, np.random.default_rng(0))
    L = ns["REV_LEN"]
    assert x.shape == y.shape == mask.shape == (50, 2 * L)
    assert np.all(x[:, L] == ns["SEP"]) and not mask[:, :L].any() and mask[:, L:].all()
    np.testing.assert_array_equal(y[:, L:], x[:, :L][:, ::-1])
    np.testing.assert_array_equal(x[:, L + 1:], y[:, L:-1])      # the input after the separator is the target shifted


def test_the_transformer_reverses_and_the_lstm_does_not_yet(ns):
    assert ns["transformer_history"]["accuracy"][-1] >= 0.99
    assert ns["lstm_history"]["accuracy"][-1] < 0.5
    assert ns["transformer"]["0.W_in"].dtype == np.float64


def test_teacher_forced_accuracy_is_greedy_decoding(ns):
    """The stated equivalence: all predictions right with the true prefix <=> generation token by token is right."""
    L = ns["REV_LEN"]
    for name, params, forward in [("transformer", ns["transformer"], ns["transformer_forward"]),
                                  ("LSTM", ns["reversal_lstm"], ns["reversal_lstm_forward"])]:
        x, y, mask = ns["reversal_batch"](200, np.random.default_rng(5))
        forced = np.all((forward(params, x)[0].argmax(2) == y) | ~mask, axis=1)
        generated = x[:, :L + 1].copy()
        for _ in range(L):
            nxt = forward(params, generated)[0][:, -1].argmax(1)
            generated = np.concatenate([generated, nxt[:, None]], axis=1)
        greedy = np.all(generated[:, L + 1:] == y[:, L:], axis=1)
        np.testing.assert_array_equal(forced, greedy, err_msg=name)


def test_a_head_of_the_trained_model_reads_the_digit_to_copy(ns):
    maps, L = ns["example_maps"], ns["REV_LEN"]
    assert max(ns["anti"]) > 0.8
    for layer_maps in maps:
        assert layer_maps.shape == (ns["HEADS"], 2 * L, 2 * L)
        assert np.all(np.triu(layer_maps, 1) == 0)   # the causal mask
    view = ns["attention_view"]
    assert view.state["error"] is None
    q, k = ns["explorer_inputs"][next(iter(ns["explorer_inputs"]))]["layers"][0]
    np.testing.assert_allclose(ns["attention_forward"](q[None], k[None], k[None], causal=True)[1][0], maps[0],
                               atol=1e-10)   # the explorer's queries and keys give the model's own maps
    assert ns["pe_view"].state["error"] is None and ns["pe_view"].state["symmetric"]
