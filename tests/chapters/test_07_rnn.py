"""Chapter 07's reference solution agrees with PyTorch (nn.RNN/GRU/LSTM and their cells, F.embedding,
F.linear, F.cross_entropy with ignore_index, all in float64 with autograd gradients) on random
shapes, keeps float32 as float32, leaves its inputs unchanged, exports the agreed API, and samples
from the distribution its docstring states."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import library_namespace

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "07_rnn.py"
KEYS = ("W_ih", "W_hh", "b_ih", "b_hh")
TORCH_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
EXPORTED = {  # the API of chapter 07 that the experiments, the explorer and later chapters use
    "init_rnn_params": ["cell", "D", "H", "rng"],
    "sigmoid": ["x"],
    "rnn_step_forward": ["x", "h_prev", "params"],
    "rnn_step_backward": ["dh", "cache"],
    "rnn_forward": ["x", "h0", "params"],
    "rnn_backward": ["dh", "cache"],
    "gru_step_forward": ["x", "h_prev", "params"],
    "gru_step_backward": ["dh", "cache"],
    "gru_forward": ["x", "h0", "params"],
    "gru_backward": ["dh", "cache"],
    "lstm_step_forward": ["x", "h_prev", "c_prev", "params"],
    "lstm_step_backward": ["dh", "dc", "cache"],
    "lstm_forward": ["x", "h0", "c0", "params"],
    "lstm_backward": ["dh", "cache"],
    "embedding_forward": ["idx", "W"],
    "embedding_backward": ["dout", "cache"],
    "temporal_affine_forward": ["x", "w", "b"],
    "temporal_affine_backward": ["dout", "cache"],
    "temporal_softmax_loss": ["scores", "y", "mask"],
    "sample_token": ["logits", "rng", "temperature", "top_k"],
}


@pytest.fixture(scope="module")
def ns():
    from autograder.authoring import solution_namespace

    return solution_namespace(SOURCE, experiments=False)


def test_exported_cells_are_self_contained_and_have_the_agreed_signatures():
    module = library_namespace("07_rnn")
    for name, params in EXPORTED.items():
        assert name in module, f"{name} is not exported"
        assert list(inspect.signature(module[name]).parameters) == params, name
    assert inspect.signature(module["sample_token"]).parameters["temperature"].default == 1.0
    assert inspect.signature(module["sample_token"]).parameters["top_k"].default is None


def test_the_experiments_come_after_every_graded_cell():
    """Sections 9-11 only use what the exercises built: no graded cell among them."""
    cells = read_source(SOURCE).cells
    first = next(i for i, c in enumerate(cells) if "## 9. Vanishing" in c.source)
    assert all(not c.metadata.get("nbgrader") for c in cells[first:])


def random_params(rng, cell, D, H, scale=0.6):
    G = GATES[cell]
    return {"W_ih": rng.normal(size=(G * H, D)) * scale, "W_hh": rng.normal(size=(G * H, H)) * scale,
            "b_ih": rng.normal(size=G * H) * scale, "b_hh": rng.normal(size=G * H) * scale}


def torch_sequence(cell, x, h0, c0, params, dh):
    """Every step's h, the last c, (dx, dh0[, dc0]) and the four weight gradients of nn.RNN/GRU/LSTM."""
    module = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](
        x.shape[2], h0.shape[1], batch_first=True).double()
    with torch.no_grad():
        for key, name in zip(KEYS, TORCH_NAMES, strict=True):
            getattr(module, name).copy_(torch.tensor(params[key]))
    inputs = [x, h0[None]] + ([c0[None]] if cell == "lstm" else [])
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    out, state = module(ts[0], tuple(ts[1:]) if cell == "lstm" else ts[1])
    out.backward(torch.tensor(dh))
    grads = {k: getattr(module, n).grad.numpy() for k, n in zip(KEYS, TORCH_NAMES, strict=True)}
    c_last = state[1][0].detach().numpy() if cell == "lstm" else None
    return out.detach().numpy(), c_last, [t.grad.numpy().reshape(a.shape[-2:]) if i else t.grad.numpy()
                                          for i, (t, a) in enumerate(zip(ts, inputs, strict=True))], grads


SHAPES = [(1, 1, 1, 1), (1, 9, 2, 3), (4, 1, 3, 5), (2, 40, 3, 4), (3, 7, 6, 2), (8, 15, 11, 13)]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_sequences_agree_with_torch(ns, cell):
    forward, backward = ns[f"{cell}_forward"], ns[f"{cell}_backward"]
    rng = np.random.default_rng({"rnn": 1, "gru": 2, "lstm": 3}[cell])
    for N, T, D, H in SHAPES:
        x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
        params = random_params(rng, cell, D, H)
        dh = rng.normal(size=(N, T, H))
        ref_h, ref_c, ref_dstates, ref_grads = torch_sequence(cell, x, h0, c0, params, dh)
        copies = [a.copy() for a in (x, h0, c0, dh, *params.values())]
        states = (h0, c0) if cell == "lstm" else (h0,)
        *outs, cache = forward(x, *states, params)
        np.testing.assert_allclose(outs[0], ref_h, rtol=1e-10, atol=1e-12, err_msg=f"{cell} h {N, T, D, H}")
        if cell == "lstm":
            assert outs[1].shape == (N, T, H)
            np.testing.assert_allclose(outs[1][:, -1], ref_c, rtol=1e-10, atol=1e-12)
        dx, *dstates, grads = backward(dh, cache)
        for got, expected, what in zip([dx, *dstates], ref_dstates, ["dx", "dh0", "dc0"][:len(ref_dstates)], strict=True):
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11, err_msg=f"{cell} {what} {N, T, D, H}")
        assert sorted(grads) == sorted(KEYS)
        for key in KEYS:
            np.testing.assert_allclose(grads[key], ref_grads[key], rtol=1e-9, atol=1e-11, err_msg=f"{cell} {key}")
        for a, c in zip((x, h0, c0, dh, *params.values()), copies, strict=True):
            assert np.array_equal(a, c), "an argument was changed in place"


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_steps_agree_with_torch_cells(ns, cell):
    forward, backward = ns[f"{cell}_step_forward"], ns[f"{cell}_step_backward"]
    module_class = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}[cell]
    rng = np.random.default_rng(10 + GATES[cell])
    for N, D, H in [(1, 1, 1), (1, 4, 2), (5, 3, 7), (16, 20, 9)]:
        x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
        params = random_params(rng, cell, D, H)
        module = module_class(D, H).double()
        with torch.no_grad():
            for key, name in zip(KEYS, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), strict=True):
                getattr(module, name).copy_(torch.tensor(params[key]))
        states = (h, c) if cell == "lstm" else (h,)
        ts = [torch.tensor(a, requires_grad=True) for a in (x, *states)]
        out = module(ts[0], tuple(ts[1:]) if cell == "lstm" else ts[1])
        outs = out if cell == "lstm" else (out,)
        douts = [rng.normal(size=(N, H)) for _ in outs]
        torch.autograd.backward(outs, [torch.tensor(d) for d in douts])
        *mine, cache = forward(x, *states, params)
        for got, ref in zip(mine, outs, strict=True):
            np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
        *dinputs, grads = backward(*douts, cache)
        for got, t in zip(dinputs, ts, strict=True):
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
        for key, name in zip(KEYS, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), strict=True):
            np.testing.assert_allclose(grads[key], getattr(module, name).grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_float32_stays_float32(ns, cell):
    rng = np.random.default_rng(20)
    N, T, D, H = 3, 5, 4, 6
    params = {k: v.astype(np.float32) for k, v in random_params(rng, cell, D, H).items()}
    x = rng.normal(size=(N, T, D)).astype(np.float32)
    states = [rng.normal(size=(N, H)).astype(np.float32) for _ in range(2 if cell == "lstm" else 1)]
    *outs, cache = ns[f"{cell}_forward"](x, *states, params)
    dx, *dstates, grads = ns[f"{cell}_backward"](np.ones((N, T, H), np.float32), cache)
    for a in [*outs, dx, *dstates, *grads.values()]:
        assert a.dtype == np.float32
    *outs, cache = ns[f"{cell}_step_forward"](x[:, 0], *states, params)
    douts = [np.ones((N, H), np.float32) for _ in outs]
    *dinputs, step_grads = ns[f"{cell}_step_backward"](*douts, cache)
    for a in [*outs, *dinputs, *step_grads.values()]:
        assert a.dtype == np.float32


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_a_sequence_is_its_steps(ns, cell):
    """forward over T steps = T calls of the step function, from the same initial state(s)."""
    rng = np.random.default_rng(30)
    N, T, D, H = 2, 8, 3, 4
    params = random_params(rng, cell, D, H)
    x = rng.normal(size=(N, T, D))
    states = [rng.normal(size=(N, H)) for _ in range(2 if cell == "lstm" else 1)]
    *outs, _ = ns[f"{cell}_forward"](x, *states, params)
    for t in range(T):
        *states, _ = ns[f"{cell}_step_forward"](x[:, t], *states, params)
        for got, expected in zip(states, outs, strict=True):
            np.testing.assert_allclose(got, expected[:, t], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_truncated_bptt_chunks_chained_by_dh0_give_the_full_gradient(ns, cell):
    """The sequence as two chunks, the second starting from the first's final state: adding the second
    chunk's dh0 to the first chunk's last dh reproduces one backward pass over the whole sequence."""
    rng = np.random.default_rng(31)
    N, T, D, H, k = 2, 9, 3, 4, 4
    params = random_params(rng, cell, D, H)
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    _, cache = ns[f"{cell}_forward"](x, h0, params)
    dx, dh0, grads = ns[f"{cell}_backward"](dh, cache)
    first, cache1 = ns[f"{cell}_forward"](x[:, :k], h0, params)
    _, cache2 = ns[f"{cell}_forward"](x[:, k:], first[:, -1], params)
    dx2, dlast, grads2 = ns[f"{cell}_backward"](dh[:, k:], cache2)
    dh1 = dh[:, :k].copy()
    dh1[:, -1] += dlast
    dx1, dh0_chunks, grads1 = ns[f"{cell}_backward"](dh1, cache1)
    np.testing.assert_allclose(np.concatenate([dx1, dx2], axis=1), dx, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dh0_chunks, dh0, rtol=1e-12, atol=1e-13)
    for key in KEYS:
        np.testing.assert_allclose(grads1[key] + grads2[key], grads[key], rtol=1e-12, atol=1e-13)


def test_lstm_cell_gradient_passes_unchanged_through_an_open_forget_gate(ns):
    """Concept check 1: with f = 1 (a huge forget bias) and no loss on h, dc_prev = dc."""
    rng = np.random.default_rng(40)
    H = 3
    params = random_params(rng, "lstm", 2, H)
    params["b_ih"][H:2 * H] = 60.0
    h, c, cache = ns["lstm_step_forward"](rng.normal(size=(4, 2)), rng.normal(size=(4, H)), rng.normal(size=(4, H)),
                                          params)
    dc = rng.normal(size=(4, H))
    _, _, dc_prev, _ = ns["lstm_step_backward"](np.zeros((4, H)), dc, cache)
    np.testing.assert_allclose(dc_prev, dc, rtol=1e-14)


def test_init_params_match_torch_shapes_and_bounds(ns):
    for cell, module_class in [("rnn", torch.nn.RNN), ("gru", torch.nn.GRU), ("lstm", torch.nn.LSTM)]:
        for D, H in [(1, 1), (5, 3), (2, 64)]:
            module = module_class(D, H)
            params = ns["init_rnn_params"](cell, D, H, np.random.default_rng(0))
            assert list(params) == list(KEYS)
            for key, name in zip(KEYS, TORCH_NAMES, strict=True):
                assert params[key].shape == tuple(getattr(module, name).shape)
                assert params[key].dtype == np.float64
                assert np.abs(params[key]).max() <= 1 / np.sqrt(H)
    a = ns["init_rnn_params"]("lstm", 3, 4, np.random.default_rng(1))
    b = ns["init_rnn_params"]("lstm", 3, 4, np.random.default_rng(1))
    assert all(np.array_equal(a[k], b[k]) for k in KEYS)


def test_embedding_and_temporal_affine_agree_with_torch(ns):
    rng = np.random.default_rng(50)
    for N, T, V, D, M in [(1, 1, 1, 1, 1), (3, 7, 4, 5, 2), (8, 30, 65, 16, 65)]:
        idx = rng.integers(0, V, size=(N, T))
        W = rng.normal(size=(V, D))
        Wt = torch.tensor(W, requires_grad=True)
        emb = F.embedding(torch.tensor(idx), Wt)
        dout = rng.normal(size=(N, T, D))
        emb.backward(torch.tensor(dout))
        out, cache = ns["embedding_forward"](idx, W)
        np.testing.assert_array_equal(out, emb.detach().numpy())
        np.testing.assert_allclose(ns["embedding_backward"](dout, cache), Wt.grad.numpy(), rtol=1e-13, atol=1e-13)
        w, b = rng.normal(size=(D, M)), rng.normal(size=M)
        ts = [torch.tensor(a, requires_grad=True) for a in (out, w, b)]
        lin = F.linear(ts[0], ts[1].T, ts[2])
        dlin = rng.normal(size=(N, T, M))
        lin.backward(torch.tensor(dlin))
        got, cache = ns["temporal_affine_forward"](out, w, b)
        np.testing.assert_allclose(got, lin.detach().numpy(), rtol=1e-12, atol=1e-12)
        for g, t in zip(ns["temporal_affine_backward"](dlin, cache), ts, strict=True):
            np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_temporal_softmax_loss_is_cross_entropy_with_ignore_index(ns):
    rng = np.random.default_rng(60)
    for N, T, V, p in [(1, 1, 1, 1.0), (2, 5, 3, 0.5), (16, 40, 65, 0.8), (4, 9, 7, 0.1)]:
        scores = rng.normal(size=(N, T, V)) * 4
        y = rng.integers(0, V, size=(N, T))
        mask = rng.random((N, T)) < p
        mask.flat[0] = True
        st = torch.tensor(scores, requires_grad=True)
        ref = F.cross_entropy(st.reshape(-1, V), torch.tensor(np.where(mask, y, -100)).reshape(-1), ignore_index=-100)
        ref.backward()
        loss, dscores = ns["temporal_softmax_loss"](scores, y, mask)
        assert isinstance(loss, float)
        assert loss == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(dscores, st.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_an_all_masked_batch_gives_zero_where_torch_gives_nan(ns):
    """The stated convention: loss 0.0 and a zero gradient; PyTorch's mean over no position is nan."""
    scores = np.random.default_rng(70).normal(size=(2, 3, 4))
    ref = F.cross_entropy(torch.tensor(scores).reshape(-1, 4), torch.full((6,), -100), ignore_index=-100)
    assert torch.isnan(ref)
    loss, dscores = ns["temporal_softmax_loss"](scores, np.full((2, 3), -100), np.zeros((2, 3), bool))
    assert loss == 0.0 and not dscores.any()


def test_sample_token_draws_from_the_stated_distribution(ns):
    sample = ns["sample_token"]
    rng = np.random.default_rng(80)
    n = 40000
    for V, temperature, top_k in [(5, 1.0, None), (8, 0.5, 3), (8, 2.0, 1), (30, 1.3, 10), (4, 1.0, 9)]:
        row = rng.normal(size=V) * 2
        draws = sample(np.tile(row, (n, 1)), np.random.default_rng(V), temperature=temperature, top_k=top_k)
        assert draws.shape == (n,) and np.issubdtype(draws.dtype, np.integer)
        z = row / temperature
        if top_k is not None:
            z = np.where(np.argsort(np.argsort(-z, kind="stable"), kind="stable") < top_k, z, -np.inf)
        p = np.exp(z - z.max())
        p /= p.sum()
        freq = np.bincount(draws, minlength=V) / n
        assert np.all(freq[p == 0] == 0)
        # chi-square statistic against the expected counts (kept tokens only), far below a 1e-4 tail
        kept = p > 0
        chi2 = np.sum((freq[kept] - p[kept]) ** 2 / p[kept]) * n
        assert chi2 < kept.sum() + 6 * np.sqrt(2 * kept.sum()) + 10, (chi2, freq, p)
    # ties at the border of the top k: exactly k kept, the smaller ids first
    draws = sample(np.tile([0.0, 1.0, 1.0, 1.0, 2.0], (n, 1)), np.random.default_rng(0), top_k=3)
    assert set(np.unique(draws)) == {1, 2, 4}
    # temperature -> 0 is the argmax, large logits do not overflow
    logits = rng.normal(size=(50, 12)) * 100
    np.testing.assert_array_equal(sample(logits, np.random.default_rng(1), temperature=1e-6), logits.argmax(axis=1))
    np.testing.assert_array_equal(sample(logits, np.random.default_rng(1), top_k=1), logits.argmax(axis=1))


def test_sample_token_uses_only_its_rng(ns):
    logits = np.zeros((100, 7))
    state = np.random.get_state()[1].copy()
    a = ns["sample_token"](logits, np.random.default_rng(5), top_k=4)
    b = ns["sample_token"](logits, np.random.default_rng(5), top_k=4)
    c = ns["sample_token"](logits, np.random.default_rng(6), top_k=4)
    assert np.array_equal(np.random.get_state()[1], state)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_concept_answers():
    src = SOURCE.read_text()

    def answer(name):
        return eval(re.search(rf"^{name} = (.+)$", src, re.M).group(1))

    assert answer("q1_answer") == "f"
    assert answer("q2_answer") == sum(t.numel() for t in torch.nn.LSTM(10, 20).parameters())
    assert answer("q3_answer") == "b"
