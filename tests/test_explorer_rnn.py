"""Chapter 07's gradient-flow and sampling explorers, driven like a student would.

The recurrent layers given to the explorers are numpy stand-ins for the student's, with the
chapter's signatures, checked against torch.nn.RNN / GRU / LSTM here; the LSTM follows the speed
recipe and is what ``benchmarks/lstm.py --module tests/test_explorer_rnn.py`` times until
chapter 07 is in dllib.
"""

import difflib
import inspect

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import helpers.explorers.rnn as explorer_module
from helpers.data import load_text
from helpers.explorers.rnn import (
    CELLS,
    GradientFlowExplorer,
    SamplingExplorer,
    gradient_flow_explorer,
    recurrent_weights,
    sampling_explorer,
    show_char,
)

TORCH_CELLS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
API = ("init_rnn_params", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
       "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward", "lstm_step_forward",
       "lstm_step_backward", "lstm_forward", "lstm_backward", "embedding_forward", "embedding_backward",
       "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss", "sample_token")


# ----------------------------------------------------------------------------- stand-ins for the student


def sample_token(logits, rng, temperature=1.0, top_k=None):
    """Reference sampler: inverse CDF with one uniform per row; top_k keeps the k largest (ties: lower index)."""
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        order = np.argsort(-z, axis=1, kind="stable")
        z = z.copy()
        np.put_along_axis(z, order[:, top_k:], -np.inf, axis=1)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((len(z), 1))
    return np.minimum((cdf < u).sum(axis=1), z.shape[1] - 1)


def bigram_model(text):
    """(next_logits, vocab) of a character bigram model with add-one smoothing."""
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    counts = np.ones((len(vocab) + 1, len(vocab)))  # last row: after the empty text
    ids = np.array([index[c] for c in text])
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    counts[-1] += np.bincount(ids, minlength=len(vocab))
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))

    def next_logits(prefix):
        return log_p[index[prefix[-1]] if prefix else -1].copy()

    return next_logits, vocab


# ----------------------------------------------------------------------------- numpy RNN and GRU (stand-ins)


def rnn_forward(x, h0, params):
    """Vanilla tanh RNN over a sequence: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)."""
    N, T, _ = x.shape
    a = x @ params["W_ih"].T + (params["b_ih"] + params["b_hh"])
    h = np.empty((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
    hp = h0
    for t in range(T):
        hp = h[:, t] = np.tanh(a[:, t] + hp @ params["W_hh"].T)
    return h, (x, h0, h, params)


def rnn_backward(dh, cache):
    """Gradients of rnn_forward: (dx, dh0, grads)."""
    x, h0, h, params = cache
    da, dnext = np.empty_like(h), np.zeros_like(h0)
    for t in range(h.shape[1] - 1, -1, -1):
        da[:, t] = (dh[:, t] + dnext) * (1 - h[:, t] ** 2)
        dnext = da[:, t] @ params["W_hh"]
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    db = da.sum(axis=(0, 1))
    grads = {"W_ih": np.einsum("nth,ntd->hd", da, x), "W_hh": np.einsum("nth,ntk->hk", da, h_prev),
             "b_ih": db, "b_hh": db.copy()}
    return da @ params["W_ih"], dnext, grads


def gru_forward(x, h0, params):
    """GRU over a sequence, PyTorch's gates (r, z, n): n = tanh(gi_n + r * gh_n), h = (1 - z) n + z h_prev."""
    N, T, _ = x.shape
    H = h0.shape[1]
    gi = x @ params["W_ih"].T + params["b_ih"]
    h = np.empty((N, T, H), dtype=np.result_type(x, h0))
    r, z, n, ghn = (np.empty_like(h) for _ in range(4))
    hp = h0
    for t in range(T):
        gh = hp @ params["W_hh"].T + params["b_hh"]
        r[:, t] = 1 / (1 + np.exp(-(gi[:, t, :H] + gh[:, :H])))
        z[:, t] = 1 / (1 + np.exp(-(gi[:, t, H:2 * H] + gh[:, H:2 * H])))
        ghn[:, t] = gh[:, 2 * H:]
        n[:, t] = np.tanh(gi[:, t, 2 * H:] + r[:, t] * ghn[:, t])
        hp = h[:, t] = (1 - z[:, t]) * n[:, t] + z[:, t] * hp
    return h, (x, h0, h, r, z, n, ghn, params)


def gru_backward(dh, cache):
    """Gradients of gru_forward: (dx, dh0, grads)."""
    x, h0, h, r, z, n, ghn, params = cache
    N, T, H = h.shape
    dgi, dgh = np.empty((N, T, 3 * H), dtype=h.dtype), np.empty((N, T, 3 * H), dtype=h.dtype)
    dnext = np.zeros_like(h0)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    for t in range(T - 1, -1, -1):
        dht = dh[:, t] + dnext
        dan = dht * (1 - z[:, t]) * (1 - n[:, t] ** 2)
        dar = dan * ghn[:, t] * r[:, t] * (1 - r[:, t])
        daz = dht * (h_prev[:, t] - n[:, t]) * z[:, t] * (1 - z[:, t])
        dgi[:, t] = np.concatenate([dar, daz, dan], axis=1)
        dgh[:, t] = np.concatenate([dar, daz, dan * r[:, t]], axis=1)
        dnext = dht * z[:, t] + dgh[:, t] @ params["W_hh"]
    grads = {"W_ih": np.einsum("ntg,ntd->gd", dgi, x), "W_hh": np.einsum("ntg,ntk->gk", dgh, h_prev),
             "b_ih": dgi.sum(axis=(0, 1)), "b_hh": dgh.sum(axis=(0, 1))}
    return dgi @ params["W_ih"], dnext, grads


# ----------------------------------------------------------------------------- numpy LSTM (for the benchmark)


def lstm_forward(x, h0, c0, params):
    """LSTM over a sequence, PyTorch's gate order (i, f, g, o); keeps float32.

    Speed recipe: one matmul for x @ W_ih over all steps; time-major buffers, so every step's
    slice is contiguous; one tanh per step for all four gates (sigmoid(a) = (tanh(a/2) + 1) / 2,
    the halving folded into copies of the weights); matmul and ufuncs writing into preallocated
    arrays (``out=``).
    """
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, h0, params["W_hh"])
    half = np.full(4 * H, 0.5, dtype=dtype)
    half[2 * H:3 * H] = 1.0
    W_ihT = (params["W_ih"].T * half).astype(dtype)
    W_hhT = np.ascontiguousarray((params["W_hh"].T * half).astype(dtype))
    bias = ((params["b_ih"] + params["b_hh"]) * half).astype(dtype)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dtype)
    z = (xt.reshape(T * N, D) @ W_ihT + bias).reshape(T, N, 4 * H)  # pre-activations, then gates
    c, tc, h = (np.empty((T, N, H), dtype=dtype) for _ in range(3))
    hp, cp = h0.astype(dtype, copy=False), c0.astype(dtype, copy=False)
    step = np.empty((N, 4 * H), dtype=dtype)
    for t in range(T):
        zt = z[t]
        np.matmul(hp, W_hhT, out=step)
        zt += step
        np.tanh(zt, out=zt)
        for block in (zt[:, :2 * H], zt[:, 3 * H:]):  # i, f and o: sigmoid from tanh
            block *= 0.5
            block += 0.5
        i, f, g, o = zt[:, :H], zt[:, H:2 * H], zt[:, 2 * H:3 * H], zt[:, 3 * H:]
        np.multiply(f, cp, out=c[t])
        c[t] += i * g
        np.tanh(c[t], out=tc[t])
        np.multiply(o, tc[t], out=h[t])
        hp, cp = h[t], c[t]
    cache = (xt, h0.astype(dtype, copy=False), c0.astype(dtype, copy=False), z, c, tc, h, params, dtype)
    return (np.ascontiguousarray(h.transpose(1, 0, 2)), np.ascontiguousarray(c.transpose(1, 0, 2)), cache)


def lstm_backward(dh, cache):
    """Gradients of lstm_forward: (dx, dh0, dc0, grads) with grads in the parameters' layout."""
    xt, h0, c0, z, c, tc, h, params, dtype = cache
    T, N, H = h.shape
    D = xt.shape[2]
    dht_all = dh.transpose(1, 0, 2)
    da = np.empty_like(z)
    W_hh = params["W_hh"].astype(dtype, copy=False)
    dh_next = np.zeros((N, H), dtype=dtype)
    dc = np.zeros((N, H), dtype=dtype)
    for t in range(T - 1, -1, -1):
        i, f, g, o = z[t, :, :H], z[t, :, H:2 * H], z[t, :, 2 * H:3 * H], z[t, :, 3 * H:]
        c_prev = c[t - 1] if t else c0
        dht = dht_all[t] + dh_next
        dc += dht * o * (1 - tc[t] * tc[t])
        d = da[t]
        np.multiply(dc * g, i * (1 - i), out=d[:, :H])
        np.multiply(dc * c_prev, f * (1 - f), out=d[:, H:2 * H])
        np.multiply(dc * i, 1 - g * g, out=d[:, 2 * H:3 * H])
        np.multiply(dht * tc[t], o * (1 - o), out=d[:, 3 * H:])
        np.matmul(d, W_hh, out=dh_next)
        dc *= f
    flat = da.reshape(T * N, 4 * H)
    h_prev = np.concatenate([h0[None], h[:-1]]).reshape(T * N, H)
    db = flat.sum(axis=0)
    grads = {"W_ih": flat.T @ xt.reshape(T * N, D), "W_hh": flat.T @ h_prev, "b_ih": db, "b_hh": db.copy()}
    dx = (flat @ params["W_ih"].astype(dtype, copy=False)).reshape(T, N, D).transpose(1, 0, 2)
    return np.ascontiguousarray(dx), dh_next, dc, grads


NUMPY_CELLS = {"rnn": (rnn_forward, rnn_backward), "gru": (gru_forward, gru_backward),
               "lstm": (lstm_forward, lstm_backward)}


@pytest.mark.parametrize(("cell", "dtype"), [("rnn", np.float64), ("gru", np.float64), ("lstm", np.float64),
                                             ("lstm", np.float32)])
def test_the_numpy_cells_match_torch(cell, dtype):
    rng = np.random.default_rng(3)
    N, T, D, H = 3, 7, 5, 4
    params = {k: v.astype(dtype) for k, v in recurrent_weights(cell, D, H, 0.9, gate_bias=1.0, seed=2).items()}
    params["b_hh"] = rng.normal(size=params["b_hh"].shape).astype(dtype)
    x, h0, c0 = (rng.normal(size=s).astype(dtype) for s in ((N, T, D), (N, H), (N, H)))
    dh = rng.normal(size=(N, T, H)).astype(dtype)
    layer = TORCH_CELLS[cell](D, H, batch_first=True).double()
    with torch.no_grad():
        for key, name in (("W_ih", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_ih", "bias_ih_l0"),
                          ("b_hh", "bias_hh_l0")):
            getattr(layer, name).copy_(torch.tensor(params[key].astype(np.float64)))
    tx, th0, tc0 = (torch.tensor(a.astype(np.float64), requires_grad=True) for a in (x, h0, c0))
    out, _ = layer(tx, (th0[None], tc0[None]) if cell == "lstm" else th0[None])
    out.backward(torch.tensor(dh.astype(np.float64)))
    forward, backward = NUMPY_CELLS[cell]
    if cell == "lstm":
        h, c, cache = forward(x, h0, c0, params)
        dx, dh0, dc0, grads = backward(dh, cache)
        assert h.shape == c.shape == (N, T, H)
        np.testing.assert_allclose(dc0, tc0.grad.numpy(), rtol=2e-5, atol=2e-5, err_msg="dc0")
    else:
        h, cache = forward(x, h0, params)
        dx, dh0, grads = backward(dh, cache)
    tol = 1e-10 if dtype == np.float64 else 2e-5
    assert h.dtype == dtype and dx.dtype == dtype and grads["W_hh"].dtype == dtype
    for name, ours, theirs in (("h", h, out.detach()), ("dx", dx, tx.grad), ("dh0", dh0, th0.grad),
                               ("dW_ih", grads["W_ih"], layer.weight_ih_l0.grad),
                               ("dW_hh", grads["W_hh"], layer.weight_hh_l0.grad),
                               ("db_ih", grads["b_ih"], layer.bias_ih_l0.grad),
                               ("db_hh", grads["b_hh"], layer.bias_hh_l0.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=tol, atol=tol, err_msg=name)


def test_the_stand_in_sampler_keeps_top_k_and_follows_the_distribution():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4]] * 20000))
    freq = np.bincount(sample_token(logits, rng), minlength=4) / 20000
    assert np.allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.015), freq
    assert set(sample_token(logits, rng, top_k=2)) == {2, 3}


# ----------------------------------------------------------------------------- gradient flow

ALL_CELLS = NUMPY_CELLS


@pytest.fixture
def flow():
    return gradient_flow_explorer(ALL_CELLS, cell="rnn", length=40)


def test_recurrent_weights_have_the_chosen_spectral_radius():
    for cell, G in (("rnn", 1), ("gru", 3), ("lstm", 4)):
        p = recurrent_weights(cell, 5, 16, 1.5, gate_bias=2.0, seed=1)
        assert p["W_ih"].shape == (G * 16, 5) and p["W_hh"].shape == (G * 16, 16)
        assert p["b_ih"].shape == p["b_hh"].shape == (G * 16,)
        for block in np.split(p["W_hh"], G):
            assert np.allclose(np.abs(np.linalg.eigvals(block)), 1.5), cell
        bias_block = np.zeros(G * 16, bool)
        if G > 1:
            bias_block[16:32] = True  # forget gate (LSTM) or update gate (GRU)
        assert np.all(p["b_ih"][bias_block] == 2.0) and np.all(p["b_ih"][~bias_block] == 0.0)
        assert np.array_equal(p["W_hh"], recurrent_weights(cell, 5, 16, 1.5, seed=1)["W_hh"])
    with pytest.raises(KeyError):
        recurrent_weights("transformer", 2, 2, 1.0)


def test_the_gradient_is_the_given_backward_of_a_loss_on_the_last_state(flow):
    s = flow.state
    assert isinstance(flow, GradientFlowExplorer) and s["error"] is None and s["errors"] == {}
    assert set(s["norms"]) == set(CELLS) and s["h"].shape == (8, 40, 32)
    # recompute dL/dx independently: L = sum_n v_n . h[n, T-1] with the explorer's inputs
    x, params = s["x"], s["params"]
    rng = np.random.default_rng(1)
    rng.normal(size=x.shape)
    v = rng.normal(size=(8, 32))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    tx = torch.tensor(x, requires_grad=True)
    h = torch.zeros(8, 32, dtype=torch.float64)
    for t in range(40):
        h = torch.tanh(tx[:, t] @ torch.tensor(params["W_ih"]).T + h @ torch.tensor(params["W_hh"]).T)
    (h * torch.tensor(v)).sum().backward()
    expected = np.sqrt((tx.grad.numpy() ** 2).sum(axis=2).mean(axis=0))
    np.testing.assert_allclose(s["norms"]["rnn"], expected, rtol=1e-10)
    assert np.isclose(s["ratio"], expected[0] / expected[-1])
    assert "the gradient keeps at least 1/1000" in flow.status.value


def test_the_spectral_radius_decides_vanishing_or_exploding_in_the_rnn(flow):
    ratios = []
    for radius in (0.5, 0.9, 1.1, 2.0):
        flow.set(radius=radius, input_scale=0.0, length=50)
        ratios.append(flow.state["ratio"])
    assert ratios == sorted(ratios), ratios
    assert ratios[0] < 1e-10 and ratios[-1] > 1e10  # 0.5**49 and 2**49, no saturation at zero input
    flow.set(radius=0.5)
    assert flow.state["reach"] < 15
    flow.set(radius=3.0, input_scale=0.0, length=200)  # 3**199 overflows nothing in float64, still finite
    assert np.isfinite(flow.state["ratio"]) and flow.state["reach"] == 199


def test_the_lstm_forget_bias_carries_the_gradient_further_than_the_rnn(flow):
    flow.set(cell="rnn", radius=0.9, input_scale=1.0, length=200)
    rnn_reach = flow.state["reach"]
    flow.set(cell="lstm", gate_bias=5.0)
    open_gate = flow.state["reach"]
    flow.set(gate_bias=-3.0)
    closed_gate = flow.state["reach"]
    assert open_gate > 3 * max(rnn_reach, closed_gate), (rnn_reach, open_gate, closed_gate)
    assert "forget gate bias -3" in flow.status.value
    flow.set(cell="gru", gate_bias=5.0)
    assert flow.state["reach"] > 3 * rnn_reach and "update gate bias 5" in flow.status.value


def test_every_control_redraws_in_place(flow):
    before, figure = plt.get_fignums(), flow.view.figure
    png = flow.view.widget.value
    flow.controls["length"].value = 120
    assert len(flow.state["norms"]["gru"]) == 120 and flow.state["h"].shape[1] == 120
    for name, value in (("cell", "lstm"), ("radius", 1.5), ("input_scale", 0.3), ("gate_bias", 2.0)):
        previous = flow.state["norms"]["lstm"].copy() if name != "cell" else None
        flow.controls[name].value = value
        assert flow.state[name] == value
        if previous is not None:
            assert not np.allclose(flow.state["norms"]["lstm"], previous), name
    assert flow.view.widget.value != png and flow.view.n_draws == 6
    assert plt.get_fignums() == before and flow.view.figure is figure and len(figure.axes) == 2


def test_student_errors_in_the_cells_are_shown_not_raised():
    def todo(*args):
        raise NotImplementedError()

    def short(x, h0, params):
        return np.zeros((1, 2, 3)), None

    explorer = gradient_flow_explorer({"rnn": ALL_CELLS["rnn"], "gru": (todo, todo), "lstm": (todo, todo)})
    s = explorer.state
    assert s["error"] is None and s["errors"] == {"gru": "todo is not implemented yet",
                                                   "lstm": "todo is not implemented yet"}
    assert "gru: todo is not implemented yet" in explorer.status.value
    explorer.controls["cell"].value = "gru"
    assert explorer.state["error"] == "todo is not implemented yet" and explorer.state["h"] is None
    assert "not implemented" in explorer.status.value
    explorer = gradient_flow_explorer({"rnn": (short, todo)})
    assert explorer.state["error"] == "rnn forward: expected h of shape (N, T, H) = (8, 50, 32), got (1, 2, 3)"
    with pytest.raises(KeyError):
        gradient_flow_explorer({"rnn": ALL_CELLS["rnn"], "elman": ALL_CELLS["rnn"]})


# ----------------------------------------------------------------------------- sampling

TEXT = load_text("tinyshakespeare")[:30000]


@pytest.fixture(scope="module")
def bigram():
    return bigram_model(TEXT)


@pytest.fixture
def sampler(bigram):
    next_logits, vocab = bigram
    return sampling_explorer(next_logits, vocab, sample_token, prefix="ROMEO", length=100)


def test_the_bars_are_the_samplers_draws_after_the_prefix(sampler, bigram):
    next_logits, vocab = bigram
    s = sampler.state
    assert isinstance(sampler, SamplingExplorer) and s["error"] is None
    assert np.array_equal(s["logits"], next_logits("ROMEO"))
    p = np.exp(s["logits"]) / np.exp(s["logits"]).sum()
    assert np.allclose(s["probabilities"], p) and np.isclose(s["frequencies"].sum(), 1.0)
    assert np.allclose(s["frequencies"], p, atol=0.03), "4000 draws at temperature 1 follow the model"
    assert len(s["shown"]) == 20 and list(s["shown"]) == list(np.argsort(-p, kind="stable")[:20])
    assert s["text"] == "ROMEO" + s["generated"] and len(s["generated"]) == 100
    assert set(s["generated"]) <= set(vocab)
    assert "ROMEO" in sampler.text.value and "the bars cover" in sampler.status.value


def test_top_k_and_temperature_change_the_draws_and_the_text(sampler, bigram):
    next_logits, vocab = bigram
    sampler.set(top_k=1)
    s = sampler.state
    greedy = "ROMEO"
    for _ in range(100):
        greedy += vocab[int(np.argmax(next_logits(greedy)))]
    assert s["top_k"] == 1 and s["text"] == greedy
    assert s["frequencies"][np.argmax(s["logits"])] == 1.0
    sampler.set(top_k=3)
    top3 = np.argsort(-sampler.state["logits"])[:3]
    assert set(np.flatnonzero(sampler.state["frequencies"])) == set(top3)
    sampler.set(top_k=0, temperature=0.1)
    cold = sampler.state["frequencies"].max()
    sampler.set(temperature=3.0)
    hot = sampler.state
    assert cold > 0.95 and hot["frequencies"].max() < 0.5 and hot["top_k"] is None
    assert "top-k off" in sampler.view.axes[0].get_title()


def test_seed_button_prefix_and_length(sampler):
    first = sampler.state["generated"]
    sampler.set(seed=0)
    assert sampler.state["generated"] == first  # same seed, same text
    sampler.button.click()
    assert sampler.controls["seed"].value == 1 and sampler.state["generated"] != first
    sampler.controls["length"].value = 300
    assert len(sampler.state["generated"]) == 300
    sampler.controls["prefix"].value = "To be"
    assert sampler.state["text"].startswith("To be") and sampler.state["error"] is None
    sampler.controls["prefix"].value = "naïve"
    assert sampler.state["error"] == "the prefix has characters the model does not know: 'ï'"
    sampler.controls["prefix"].value = ""
    assert sampler.state["error"] is None and len(sampler.state["text"]) == 300


def test_the_text_is_shown_as_text_not_markup():
    next_logits, vocab = bigram_model(TEXT + "<b>&")
    explorer = sampling_explorer(next_logits, vocab, sample_token, prefix="<b>&", length=10)
    assert explorer.text.value.startswith("<pre") and "<b>&lt;b&gt;&amp;</b>" in explorer.text.value


def test_student_errors_in_sampling_are_shown_not_raised(bigram):
    next_logits, vocab = bigram

    def todo(logits, rng, temperature=1.0, top_k=None):
        raise NotImplementedError()

    explorer = sampling_explorer(next_logits, vocab, todo)
    assert explorer.state["error"] == "todo is not implemented yet" and explorer.text.value == ""
    explorer.controls["temperature"].value = 0.5  # still alive
    assert "not implemented" in explorer.status.value

    def floats(logits, rng, temperature=1.0, top_k=None):
        return np.zeros(len(logits))

    assert "must return int indices" in sampling_explorer(next_logits, vocab, floats).state["error"]

    def too_far(logits, rng, temperature=1.0, top_k=None):
        return np.full(len(logits), len(vocab))

    assert "outside 0 … " in sampling_explorer(next_logits, vocab, too_far).state["error"]
    explorer = sampling_explorer(lambda text: np.zeros(3), vocab, sample_token)
    assert explorer.state["error"] == f"next_logits must return one score per vocabulary entry, shape ({len(vocab)},); got (3,)"


def test_show_char():
    assert [show_char(c) for c in "\n \ta"] == ["⏎", "␣", "⇥", "a"]


def test_no_helper_is_named_like_a_function_the_chapter_grades():
    """tests/test_bundle.py flags top-level helpers named like a graded function (ratio >= 0.75)."""
    names = [n for n, v in vars(explorer_module).items() if inspect.isfunction(v) or inspect.isclass(v)]
    close = [(n, a) for n in names for a in API
             if difflib.SequenceMatcher(None, n.strip("_").lower(), a).ratio() >= 0.75]
    assert not close, close
