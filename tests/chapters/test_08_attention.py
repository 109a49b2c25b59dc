"""Chapter 08's reference solution agrees with PyTorch (F.scaled_dot_product_attention,
nn.MultiheadAttention, nn.LayerNorm, nn.TransformerEncoderLayer(norm_first=True, dropout=0) and
autograd through F.logsigmoid, all in float64) on random shapes, handles fully masked rows as its
docstrings state, keeps float32 as float32, leaves its inputs unchanged, exports the agreed API,
and its n-gram functions agree with loops over the text."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "08_attention.py"
EXPORTED = {  # the API of chapter 08 that the experiments, the explorers and later chapters use
    "ngram_counts": ["ids", "n", "V"],
    "add_k_probs": ["counts", "k"],
    "interpolate": ["probs", "lambdas"],
    "perplexity": ["probs", "ids"],
    "sample_ngram": ["probs", "context", "length", "rng"],
    "sgns_loss": ["W_in", "W_out", "centers", "contexts", "negatives"],
    "attention_forward": ["q", "k", "v", "mask", "causal", "scale"],
    "attention_backward": ["dout", "cache"],
    "positional_encoding": ["T", "E"],
    "layernorm_forward": ["x", "gamma", "beta", "eps"],
    "layernorm_backward": ["dout", "cache"],
    "mha_forward": ["x", "params", "num_heads", "mask", "causal"],
    "mha_backward": ["dout", "cache"],
    "block_forward": ["x", "params", "num_heads", "mask", "causal"],
    "block_backward": ["dout", "cache"],
}
MHA_NAMES = {"W_in": "in_proj_weight", "b_in": "in_proj_bias", "W_out": "out_proj.weight", "b_out": "out_proj.bias"}
BLOCK_NAMES = {"ln1_g": "norm1.weight", "ln1_b": "norm1.bias", "ln2_g": "norm2.weight", "ln2_b": "norm2.bias",
               "W1": "linear1.weight", "b1": "linear1.bias", "W2": "linear2.weight", "b2": "linear2.bias",
               **{k: f"self_attn.{v}" for k, v in MHA_NAMES.items()}}


@pytest.fixture(scope="module")
def ns() -> dict:
    """The exported cells with the solution markers removed, run with nothing but numpy."""
    cells = [c for c in read_source(SOURCE).cells if c.metadata.get("export")]
    code = "\n\n".join(re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", c.source, flags=re.M) for c in cells)
    namespace: dict = {}
    exec(compile("import numpy as np\n\n" + code, "dllib.ch08_attention", "exec"), namespace)
    return namespace


def test_exported_cells_are_self_contained_and_have_the_agreed_signatures(ns):
    for name, params in EXPORTED.items():
        assert name in ns, f"{name} is not exported"
        assert list(inspect.signature(ns[name]).parameters) == params, name
    assert inspect.signature(ns["attention_forward"]).parameters["scale"].default is None
    assert inspect.signature(ns["layernorm_forward"]).parameters["eps"].default == 1e-5


def test_the_experiments_come_after_every_graded_cell():
    cells = read_source(SOURCE).cells
    first = next(i for i, c in enumerate(cells) if "## 8. Counting against learning" in c.source)
    assert all(not c.metadata.get("nbgrader") for c in cells[first:])


def unchanged(args):
    """Copies of every array among args (dict values included), to compare after a call."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    arrays += [v for a in args if isinstance(a, dict) for v in a.values()]
    return arrays, [a.copy() for a in arrays]


def assert_unchanged(saved):
    for a, c in zip(*saved, strict=True):
        assert np.array_equal(a, c), "an argument was changed in place"


def allowed_mask(rng, N, Tq, Tk, kind):
    """(the mask argument, the full (N, Tq, Tk) allowed pattern) for kind None/pad/causal/both/random."""
    mask = None
    if kind in ("pad", "both"):
        lengths = rng.integers(1, Tk + 1, size=N)
        mask = (np.arange(Tk)[None] < lengths[:, None])[:, None, :]
    elif kind == "random":
        mask = rng.random((N, Tq, Tk)) < 0.5
    full = np.ones((N, Tq, Tk), dtype=bool) if mask is None else np.broadcast_to(mask, (N, Tq, Tk)).copy()
    if kind in ("causal", "both"):
        full &= np.tri(Tq, Tk, dtype=bool)
    return mask, full


@pytest.mark.parametrize("kind", [None, "pad", "causal", "both", "random"])
def test_attention_agrees_with_scaled_dot_product_attention(ns, kind):
    rng = np.random.default_rng(1)
    for N, H, Tq, Tk, d, dv in [(1, 1, 1, 1, 1, 1), (1, 2, 1, 6, 3, 2), (3, 2, 5, 5, 4, 4), (2, 4, 7, 7, 8, 3),
                                (4, 1, 3, 9, 2, 5)]:
        if kind in ("causal", "both") and Tq != Tk:
            continue
        q, k, v = rng.normal(size=(N, H, Tq, d)), rng.normal(size=(N, H, Tk, d)), rng.normal(size=(N, H, Tk, dv))
        dout = rng.normal(size=(N, H, Tq, dv))
        mask, full = allowed_mask(rng, N, Tq, Tk, kind)
        head_mask = None if mask is None else mask[:, None]
        ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        ref = F.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(full[:, None]))
        ref.backward(torch.tensor(dout))
        saved = unchanged((q, k, v, dout) + (() if mask is None else (mask,)))
        out, w, cache = ns["attention_forward"](q, k, v, mask=head_mask, causal=kind in ("causal", "both"))
        np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(w.sum(-1), np.broadcast_to(full[:, None].any(-1), w.shape[:-1]).astype(float),
                                   atol=1e-12)
        assert np.all(w[~np.broadcast_to(full[:, None], w.shape)] == 0)
        grads = ns["attention_backward"](dout, cache)
        for got, t in zip(grads, ts, strict=True):
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-11)
        assert_unchanged(saved)


def test_fully_masked_rows_are_zero_with_zero_gradients(ns):
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 2))
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[1, 2] = False
    out, w, cache = ns["attention_forward"](q, k, v, mask=mask)
    assert np.all(w[1, 2] == 0) and np.all(out[1, 2] == 0)
    dq, dk, dv = ns["attention_backward"](np.ones_like(out), cache)
    assert np.all(dq[1, 2] == 0) and np.all(np.isfinite(dk)) and np.all(np.isfinite(dv))
    # torch's SDPA (>= 2.5) gives zeros too; nn.MultiheadAttention would give nan
    ref = F.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out, ref.numpy(), atol=1e-12)


def test_broadcast_leading_axes_get_summed_gradients(ns):
    """k and v shared by every head (leading axis 1): their gradients are summed over the heads."""
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 1, 6, 5)), rng.normal(size=(2, 1, 6, 2))
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    dout = rng.normal(size=(2, 3, 4, 2))
    F.scaled_dot_product_attention(*ts).backward(torch.tensor(dout))
    _, _, cache = ns["attention_forward"](q, k, v)
    for got, t in zip(ns["attention_backward"](dout, cache), ts, strict=True):
        assert got.shape == t.shape
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-11)


def torch_mha(x, params, h, full, dout):
    N, T, E = x.shape
    m = torch.nn.MultiheadAttention(E, h, batch_first=True).double()
    tensors = dict(m.named_parameters())
    with torch.no_grad():
        for key, name in MHA_NAMES.items():
            tensors[name].copy_(torch.tensor(params[key]))
    tx = torch.tensor(x, requires_grad=True)
    out, w = m(tx, tx, tx, attn_mask=torch.tensor(~np.repeat(full, h, axis=0)), average_attn_weights=False)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), w.detach().numpy(), tx.grad.numpy(), {k: tensors[n].grad.numpy()
                                                                        for k, n in MHA_NAMES.items()}


def random_block(rng, E, F_):
    p = {"W_in": rng.normal(size=(3 * E, E)) * 0.5, "b_in": rng.normal(size=3 * E) * 0.5,
         "W_out": rng.normal(size=(E, E)) * 0.5, "b_out": rng.normal(size=E) * 0.5,
         "W1": rng.normal(size=(F_, E)) * 0.5, "b1": rng.normal(size=F_) * 0.5, "W2": rng.normal(size=(E, F_)) * 0.5,
         "b2": rng.normal(size=E) * 0.5}
    for name in ("ln1", "ln2"):
        p[f"{name}_g"], p[f"{name}_b"] = 1 + 0.3 * rng.normal(size=E), 0.3 * rng.normal(size=E)
    return p


@pytest.mark.parametrize("kind", [None, "pad", "causal", "both"])
def test_mha_agrees_with_multihead_attention(ns, kind):
    rng = np.random.default_rng(4)
    for N, T, E, h in [(1, 1, 1, 1), (1, 5, 6, 3), (3, 1, 4, 2), (2, 6, 8, 4), (4, 7, 12, 3)]:
        x, dout = rng.normal(size=(N, T, E)), rng.normal(size=(N, T, E))
        params = {k: v for k, v in random_block(rng, E, 2).items() if k in MHA_NAMES}
        mask, full = allowed_mask(rng, N, T, T, kind)
        ref_out, ref_w, ref_dx, ref_grads = torch_mha(x, params, h, full, dout)
        saved = unchanged((x, dout, params))
        out, w, cache = ns["mha_forward"](x, params, h, mask=mask, causal=kind in ("causal", "both"))
        np.testing.assert_allclose(out, ref_out, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(w, ref_w, rtol=1e-9, atol=1e-11)
        dx, grads = ns["mha_backward"](dout, cache)
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-8, atol=1e-10)
        assert sorted(grads) == sorted(MHA_NAMES)
        for key in MHA_NAMES:
            np.testing.assert_allclose(grads[key], ref_grads[key], rtol=1e-8, atol=1e-10, err_msg=key)
        assert_unchanged(saved)


def test_layernorm_agrees_with_torch(ns):
    rng = np.random.default_rng(5)
    for shape, eps, scale in [((1, 1), 1e-5, 1.0), ((3, 7), 1e-5, 100.0), ((2, 4, 6), 0.1, 0.01), ((2, 3, 2, 16), 1e-5, 3)]:
        E = shape[-1]
        x, g, b, dout = rng.normal(size=shape) * scale, rng.normal(size=E), rng.normal(size=E), rng.normal(size=shape)
        ln = torch.nn.LayerNorm(E, eps=eps).double()
        with torch.no_grad():
            ln.weight.copy_(torch.tensor(g))
            ln.bias.copy_(torch.tensor(b))
        tx = torch.tensor(x, requires_grad=True)
        ref = ln(tx)
        ref.backward(torch.tensor(dout))
        out, cache = ns["layernorm_forward"](x, g, b, eps=eps)
        np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-9, atol=1e-10)
        dx, dg, db = ns["layernorm_backward"](dout, cache)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(dg, ln.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(db, ln.bias.grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("kind", [None, "pad", "causal", "both"])
def test_block_agrees_with_transformer_encoder_layer(ns, kind):
    rng = np.random.default_rng(6)
    for N, T, E, F_, h in [(1, 1, 2, 3, 1), (1, 6, 4, 8, 2), (3, 1, 6, 12, 3), (2, 5, 8, 16, 4), (3, 4, 6, 5, 2)]:
        x, dout = rng.normal(size=(N, T, E)), rng.normal(size=(N, T, E))
        params = random_block(rng, E, F_)
        mask, full = allowed_mask(rng, N, T, T, kind)
        layer = torch.nn.TransformerEncoderLayer(E, h, dim_feedforward=F_, dropout=0.0, norm_first=True,
                                                 batch_first=True).double()
        tensors = dict(layer.named_parameters())
        with torch.no_grad():
            for key, name in BLOCK_NAMES.items():
                tensors[name].copy_(torch.tensor(params[key]))
        tx = torch.tensor(x, requires_grad=True)
        ref = layer(tx, src_mask=torch.tensor(~np.repeat(full, h, axis=0)))
        ref.backward(torch.tensor(dout))
        saved = unchanged((x, dout, params))
        out, cache = ns["block_forward"](x, params, h, mask=mask, causal=kind in ("causal", "both"))
        np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-9, atol=1e-10)
        dx, grads = ns["block_backward"](dout, cache)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-9)
        assert sorted(grads) == sorted(BLOCK_NAMES)
        for key, name in BLOCK_NAMES.items():
            np.testing.assert_allclose(grads[key], tensors[name].grad.numpy(), rtol=1e-8, atol=1e-9, err_msg=key)
        assert_unchanged(saved)


def test_float32_stays_float32(ns):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    params = {k: v.astype(np.float32) for k, v in random_block(rng, 4, 6).items()}
    out, cache = ns["block_forward"](x, params, 2, causal=True)
    dx, grads = ns["block_backward"](np.ones_like(x), cache)
    assert out.dtype == dx.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    W = rng.normal(size=(5, 3)).astype(np.float32)
    _, dWi, dWo = ns["sgns_loss"](W, W, np.array([0, 1]), np.array([2, 3]), np.array([[4], [0]]))
    assert dWi.dtype == dWo.dtype == np.float32


def test_sgns_agrees_with_autograd(ns):
    rng = np.random.default_rng(8)
    for V, D, B, K, scale in [(2, 1, 1, 1, 1.0), (10, 4, 16, 5, 1.0), (6, 3, 40, 3, 30.0)]:
        Wi, Wo = rng.normal(size=(V, D)) * scale, rng.normal(size=(V, D)) * scale
        c, o, neg = rng.integers(0, V, B), rng.integers(0, V, B), rng.integers(0, V, (B, K))
        ti, to = torch.tensor(Wi, requires_grad=True), torch.tensor(Wo, requires_grad=True)
        v = ti[torch.tensor(c)]
        s_pos = (to[torch.tensor(o)] * v).sum(1)
        s_neg = torch.einsum("bkd,bd->bk", to[torch.tensor(neg)], v)
        loss = -(F.logsigmoid(s_pos) + F.logsigmoid(-s_neg).sum(1)).mean()
        loss.backward()
        got, dWi, dWo = ns["sgns_loss"](Wi, Wo, c, o, neg)
        assert isinstance(got, float) and np.isclose(got, loss.item(), rtol=1e-10)
        np.testing.assert_allclose(dWi, ti.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(dWo, to.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_positional_encoding_is_the_transformer_papers(ns):
    for T, E in [(1, 1), (9, 5), (50, 16)]:
        pe = ns["positional_encoding"](T, E)
        for t in range(T):
            for i in range(E):
                angle = t / 10000 ** (2 * (i // 2) / E)
                assert np.isclose(pe[t, i], np.sin(angle) if i % 2 == 0 else np.cos(angle), atol=1e-12)
    pe = ns["positional_encoding"](60, 32)
    dots = pe @ pe.T   # a function of the offset only
    np.testing.assert_allclose(np.diag(dots, 5)[:10], np.full(10, dots[0, 5]), atol=1e-9)


def test_ngram_functions_agree_with_loops(ns):
    rng = np.random.default_rng(9)
    V, ids = 4, rng.integers(0, 4, size=300)
    counts = ns["ngram_counts"](ids, 3, V)
    for a, b, c in np.ndindex(V, V, V):
        assert counts[a, b, c] == sum(tuple(ids[t:t + 3]) == (a, b, c) for t in range(len(ids) - 2))
    probs = [ns["add_k_probs"](ns["ngram_counts"](ids, n, V), 0.5) for n in (1, 2, 3)]
    mixed = ns["interpolate"](probs, [0.2, 0.3, 0.5])
    np.testing.assert_allclose(mixed.sum(-1), 1.0)
    nll = [-np.log(0.2 * probs[0][ids[t]] + 0.3 * probs[1][ids[t - 1], ids[t]] + 0.5 * probs[2][ids[t - 2], ids[t - 1],
                                                                                         ids[t]])
           for t in range(2, len(ids))]
    assert np.isclose(ns["perplexity"](mixed, ids), np.exp(np.mean(nll)), rtol=1e-12)
    assert ns["perplexity"](np.full((V, V), 1 / V), ids) == pytest.approx(V)


def test_sample_ngram_uses_only_its_rng_and_follows_the_model(ns):
    probs = np.array([[0.1, 0.9], [0.7, 0.3]])
    state = np.random.get_state()[1].copy()
    a = ns["sample_ngram"](probs, [0], 20000, np.random.default_rng(1))
    assert np.array_equal(np.random.get_state()[1], state)
    assert np.array_equal(a, ns["sample_ngram"](probs, [0], 20000, np.random.default_rng(1)))
    prev = np.concatenate([[0], a[:-1]])
    for c in (0, 1):
        assert abs(np.mean(a[prev == c] == 1) - probs[c, 1]) < 0.02


def test_concept_answers():
    cells = {c.id: c.source for c in read_source(SOURCE).cells}
    assert 'q1_answer = "b"' in cells["q1_attention_memory"]
    m = torch.nn.MultiheadAttention(64, 8)
    assert f"q2_answer = {sum(p.numel() for p in m.parameters())}" in cells["q2_mha_params"]
    assert 'q3_answer = "a"' in cells["q3_permutation"]
