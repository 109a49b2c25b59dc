"""Chapter 08's attention explorer and positional-encoding viewer, driven like a student would.

The functions given to them are numpy stand-ins for the student's, with the chapter's signatures,
checked against F.scaled_dot_product_attention and the transformer paper's formula here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.explorers.attention import (
    TEMPERATURES,
    AttentionExplorer,
    PositionalEncodingViewer,
    attention_explorer,
    positional_encoding_viewer,
)

# ----------------------------------------------------------------------------- stand-ins for the student


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q k^T scale) v; mask True = allowed; fully masked rows give zero weights."""
    Tq, d = q.shape[-2:]
    scale = 1.0 / np.sqrt(d) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    allowed = np.ones(scores.shape, dtype=bool) if mask is None else np.broadcast_to(mask, scores.shape)
    if causal:
        allowed = allowed & np.tri(Tq, k.shape[-2], dtype=bool)
    scores = np.where(allowed, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    e = np.where(allowed, np.exp(scores - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    w = e / np.where(total > 0, total, 1.0)
    return w @ v, w, None


def positional_encoding(T, E):
    angles = np.arange(T)[:, None] / 10000.0 ** (np.arange(E) // 2 * 2 / E)
    return np.where(np.arange(E) % 2 == 0, np.sin(angles), np.cos(angles))


def test_the_stand_ins_are_right():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(1, 2, 5, 4)), rng.normal(size=(1, 2, 5, 4))
    mask = np.ones((1, 1, 1, 5), dtype=bool)
    mask[..., 3:] = False
    full = np.broadcast_to(mask, (1, 2, 5, 5)) & np.tri(5, dtype=bool)
    ref = F.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, k)), attn_mask=torch.tensor(full),
                                         scale=0.3)
    np.testing.assert_allclose(attention_forward(q, k, k, mask, True, 0.3)[0], ref.numpy(), atol=1e-12)
    pe = positional_encoding(7, 6)
    assert np.isclose(pe[5, 3], np.cos(5 / 10000 ** (2 / 6))) and np.isclose(pe[5, 4], np.sin(5 / 10000 ** (4 / 6)))


TOKENS = list("3141|1413")
HEADS, T, D = 2, len(TOKENS), 4


def examples(seed=0):
    rng = np.random.default_rng(seed)
    return {"first": {"tokens": TOKENS, "layers": [(rng.normal(size=(HEADS, T, D)) * 2, rng.normal(size=(HEADS, T, D)))
                                                   for _ in range(2)]},
            "second": {"tokens": TOKENS[::-1], "layers": [(rng.normal(size=(HEADS, T, D)),
                                                           rng.normal(size=(HEADS, T, D))) for _ in range(2)]}}


@pytest.fixture
def explorer():
    return attention_explorer(attention_forward, examples(), query=6)


def reference_weights(ex, layer, temperature, causal, padding):
    q, k = examples()[ex]["layers"][layer]
    mask = np.ones((1, 1, 1, T), dtype=bool)
    if padding:
        mask[..., T - padding:] = False
    return attention_forward(q[None], k[None], k[None], mask, causal, 1 / (temperature * np.sqrt(D)))[1][0]


def test_the_maps_are_the_given_attention_of_the_models_queries_and_keys(explorer):
    assert isinstance(explorer, AttentionExplorer) and len(explorer.view.axes) == HEADS
    for ex, layer, temperature, causal, padding in [("first", 0, 1.0, True, 0), ("second", 1, 0.25, False, 3),
                                                    ("first", 1, 4.0, True, 2)]:
        explorer.set(example=ex, layer=layer, temperature=temperature, causal=causal, padding=padding)
        expected = reference_weights(ex, layer, temperature, causal, padding)
        np.testing.assert_allclose(explorer.state["weights"], expected, atol=1e-12)
        np.testing.assert_allclose(explorer.state["row"], expected[:, 6], atol=1e-12)
        assert explorer.state["top"] == [int(np.argmax(r)) for r in expected[:, 6]]
        assert explorer.state["error"] is None and "head 2" in explorer.status.value


def test_temperature_sharpens_or_flattens_every_head(explorer):
    explorer.set(causal=False)
    entropies = []
    for temperature in (min(TEMPERATURES), 1.0, max(TEMPERATURES)):
        explorer.set(temperature=temperature)
        entropies.append(explorer.state["entropy"])
    cold, normal, hot = (np.array(e) for e in entropies)
    assert np.all(cold < normal) and np.all(normal < hot)
    assert np.all(hot > np.log2(T) - 0.2)   # close to uniform over the T keys


def test_masks_hide_future_and_padded_keys(explorer):
    explorer.set(causal=True, padding=0)
    w = explorer.state["weights"]
    assert np.all(np.triu(w, 1) == 0) and np.allclose(w.sum(-1), 1.0)
    explorer.set(causal=False)
    assert np.all(explorer.state["weights"][:, ~np.tri(T, dtype=bool)] > 0)
    explorer.set(padding=4)
    assert np.all(explorer.state["weights"][..., T - 4:] == 0)
    explorer.set(padding=T)                 # every key hidden: all rows zero, said in the status
    assert np.all(explorer.state["weights"] == 0) and "every key" in explorer.status.value


def test_every_control_redraws_in_place(explorer):
    draws = explorer.view.n_draws
    for name, value in [("query", 2), ("temperature", 2.0), ("causal", False), ("padding", 1), ("layer", 1),
                        ("example", "second")]:
        png = explorer.view.widget.value
        explorer.controls[name].value = value
        assert explorer.view.n_draws == draws + 1 and explorer.view.widget.value != png, name
        draws += 1
    assert explorer.state["query"] == 2 and explorer.state["example"] == "second"


def test_student_errors_are_shown_not_raised():
    def unfinished(q, k, v, mask=None, causal=False, scale=None):
        raise NotImplementedError()

    view = attention_explorer(unfinished, examples())
    assert view.state["weights"] is None and "not implemented" in view.state["error"]

    def wrong_shape(q, k, v, mask=None, causal=False, scale=None):
        out, w, cache = attention_forward(q, k, v, mask, causal, scale)
        return out, w[0], cache

    view = attention_explorer(wrong_shape, examples())
    assert "expected weights of shape" in view.state["error"]
    view = attention_explorer(lambda *a, **kw: attention_forward(*a, **kw)[:2], examples())
    assert "(out, weights, cache)" in view.state["error"]


def test_bad_examples_are_refused():
    with pytest.raises(ValueError):
        attention_explorer(attention_forward, {})
    bad = examples()
    bad["first"]["layers"][0] = (np.zeros((HEADS, T + 1, D)), np.zeros((HEADS, T + 1, D)))
    with pytest.raises(ValueError, match="q and k"):
        attention_explorer(attention_forward, bad)


def test_the_viewer_shows_the_given_encoding_and_its_dot_products():
    viewer = positional_encoding_viewer(positional_encoding, width=32, length=80, position=30)
    assert isinstance(viewer, PositionalEncodingViewer)
    np.testing.assert_allclose(viewer.state["pe"], positional_encoding(80, 32))
    dots = viewer.state["dots"]
    assert np.isclose(dots[30], 16.0) and np.argmax(dots) == 30 and viewer.state["symmetric"]
    draws = viewer.view.n_draws
    viewer.set(width=8, length=50, position=70)           # the position is clamped to the last one
    assert viewer.state["position"] == 49 and viewer.view.n_draws == draws + 1
    assert viewer.state["pe"].shape == (50, 8)


def test_the_viewer_notices_a_wrong_encoding():
    def shifted(T, E):
        return positional_encoding(T + 1, E)[1:] * np.linspace(1, 2, T)[:, None]   # not a function of the offset

    viewer = positional_encoding_viewer(shifted, position=20)
    assert viewer.state["symmetric"] is False and "not" in viewer.status.value
    viewer = positional_encoding_viewer(lambda T, E: np.zeros((T, E + 1)))
    assert "expected shape" in viewer.state["error"]

    def unfinished(T, E):
        raise NotImplementedError()

    assert "not implemented" in positional_encoding_viewer(unfinished).state["error"]
