# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 07 — Recurrent networks
#
# A sentence, a melody or a sensor trace is a **sequence**: its length varies, and what a
# word means depends on the words before it. A dense layer wants inputs of one fixed size;
# a **recurrent network** instead reads a sequence one step at a time and carries a
# **hidden state** $h_t$ from step to step — a running summary of everything it has seen so
# far. The same weights are used at every step, just as a convolution uses the same filter
# at every position. In this chapter you write the three classic recurrent cells (the
# vanilla RNN, the GRU and the LSTM) in numpy, forward and backward through time, then the
# layers that turn them into a language model that writes text one character at a time.
#
# **What you will build** (all in numpy, every sequence batch in the layout **(batch, time,
# features)**, the parameters in PyTorch's layout and gate order):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `init_rnn_params` | the four weight arrays of a recurrent layer, initialized as in PyTorch |
# | 2 | `rnn_step_forward`, `rnn_step_backward` | one step of the vanilla (tanh) RNN |
# | 3 | `rnn_forward`, `rnn_backward` | a whole sequence, and backpropagation through time |
# | 4 | `sigmoid`, `gru_step_*`, `gru_forward`, `gru_backward` | the gated recurrent unit |
# | 5 | `lstm_step_*`, `lstm_forward`, `lstm_backward` | the long short-term memory |
# | 6 | `embedding_*`, `temporal_affine_*` | token ids to vectors, and states to scores at every step |
# | 7 | `temporal_softmax_loss` | cross-entropy over all steps, with a mask for padding |
# | 8 | `sample_token` | drawing the next token, with temperature and top-k |
#
# On the way: three concept checks and a written answer. The experiments at the end measure
# vanishing gradients (with a **gradient-flow explorer**), compare the LSTM with the RNN on a
# memory task, and train a character language model on Shakespeare with your layers, which
# you can then sample from in the **sampling explorer**.
#
# **You need**: chapter 03 (the layer convention `forward -> (out, cache)`,
# `backward(dout, cache) -> grads`, softmax cross-entropy), chapter 05 (Adam, gradient
# clipping), and the chain rule through a loop.
#
# **Time**: about 5 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against PyTorch's `torch.nn.RNN`, `nn.GRU` and `nn.LSTM` in float64, with
# weights copied from them, on random shapes — a batch of one, a single step, 40 steps,
# input size different from hidden size — and whether your functions leave their inputs
# unchanged and keep their dtype. Make your code correct in general, not just for the visible
# examples, and do not rename the functions or change their arguments.

# %%
import matplotlib.pyplot as plt
import numpy as np

from helpers.gradcheck import numerical_gradient_array
from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)

PARAM_KEYS = ("W_ih", "W_hh", "b_ih", "b_hh")


def check_grads(grads, expected, name, rtol=1e-6, atol=1e-8):
    """Check a dict of parameter gradients against `expected` (a dict with the same four keys)."""
    assert_that(isinstance(grads, dict), f"{name}: grads must be a dict, got {type(grads).__name__}")
    missing = [k for k in PARAM_KEYS if k not in grads]
    assert_that(not missing, f"{name}: grads has no key {missing} (keys: {sorted(grads)})")
    for key in PARAM_KEYS:
        assert_close(grads[key], expected[key], rtol=rtol, atol=atol, name=f"{name}: grads[{key!r}]")


def numerical_param_grads(forward, params, dout):
    """Numerical gradients of sum(forward(params) * dout) for each of the four parameter arrays."""
    out = {}
    for key in PARAM_KEYS:
        def with_key(value, key=key):
            return forward({**params, key: value})
        out[key] = numerical_gradient_array(with_key, params[key].copy(), dout)
    return out


def random_params(rng, gates, D, H, scale=0.5):
    """A parameter dict of normal entries (for tests: independent of init_rnn_params)."""
    return {"W_ih": rng.normal(size=(gates * H, D)) * scale, "W_hh": rng.normal(size=(gates * H, H)) * scale,
            "b_ih": rng.normal(size=gates * H) * scale, "b_hh": rng.normal(size=gates * H) * scale}


# %% [markdown]
# ## 1. A recurrent layer's parameters
#
# A recurrent layer with input size $D$ and hidden size $H$ reads $x_t \in \mathbb{R}^D$ and
# the previous state $h_{t-1} \in \mathbb{R}^H$. Every cell below computes $G$ blocks of $H$
# pre-activations from two affine maps, one of the input and one of the state:
#
# $$a_t = W_{ih}\, x_t + b_{ih} + W_{hh}\, h_{t-1} + b_{hh}, \qquad
#   W_{ih} \in \mathbb{R}^{GH \times D},\; W_{hh} \in \mathbb{R}^{GH \times H},\;
#   b_{ih}, b_{hh} \in \mathbb{R}^{GH}.$$
#
# $G = 1$ for the vanilla RNN, $G = 3$ for the GRU and $G = 4$ for the LSTM (one block per
# gate). We keep PyTorch's layout — weights as (out, in), the blocks stacked in its order —
# so that its `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` copy straight into
# our dictionary `{"W_ih", "W_hh", "b_ih", "b_hh"}`. (Two biases are redundant for the RNN
# and the LSTM — only their sum matters — but not for the GRU, as you will see.) PyTorch
# draws all four arrays from $U(-1/\sqrt{H}, 1/\sqrt{H})$.
#
# With a batch, $x_t$ is a row of an $(N, D)$ array, so the formula reads
# `x @ W_ih.T + b_ih + h @ W_hh.T + b_hh`.

# %% nbgrader="solution" grade_id="init_params" export=true
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def init_rnn_params(cell, D, H, rng):
    """Parameters of a recurrent layer, drawn as PyTorch does.

    Args:
        cell: "rnn", "gru" or "lstm" (G = 1, 3 or 4 blocks, see GATES).
        D: input size; H: hidden size (ints >= 1).
        rng: a numpy Generator, the only source of randomness.

    Returns:
        dict with float64 arrays "W_ih" (G*H, D), "W_hh" (G*H, H), "b_ih" (G*H,), "b_hh" (G*H,),
        every entry drawn uniformly from [-1/sqrt(H), 1/sqrt(H)], in that order of keys.
    """
    ### BEGIN SOLUTION
    G = GATES[cell]
    bound = 1.0 / np.sqrt(H)
    return {
        "W_ih": rng.uniform(-bound, bound, size=(G * H, D)),
        "W_hh": rng.uniform(-bound, bound, size=(G * H, H)),
        "b_ih": rng.uniform(-bound, bound, size=G * H),
        "b_hh": rng.uniform(-bound, bound, size=G * H),
    }
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_init_params" points=2
for _cell, _G in [("rnn", 1), ("gru", 3), ("lstm", 4)]:
    _p = assert_seeded(lambda rng, c=_cell: call(init_rnn_params, c, 3, 5, rng), f"init_rnn_params({_cell!r}, 3, 5)")
    assert_that(isinstance(_p, dict), f"init_rnn_params must return a dict, got {type(_p).__name__}")
    for _key, _shape in zip(PARAM_KEYS, [(_G * 5, 3), (_G * 5, 5), (_G * 5,), (_G * 5,)], strict=True):
        assert_that(_key in _p, f"init_rnn_params({_cell!r}, 3, 5) has no key {_key!r}")
        assert_shape(_p[_key], _shape, name=f"init_rnn_params({_cell!r}, D=3, H=5)[{_key!r}]")
_big = call(init_rnn_params, "lstm", 30, 100, np.random.default_rng(0))
_w = np.concatenate([_big[k].ravel() for k in PARAM_KEYS])
assert_that(np.abs(_w).max() <= 0.1, f"init_rnn_params('lstm', 30, H=100): entries must lie in [-1/sqrt(H), "
            f"1/sqrt(H)] = [-0.1, 0.1], got max |w| = {np.abs(_w).max():.4g}")
assert_that(np.abs(_w).max() > 0.099 and abs(_w.mean()) < 0.005,
            f"init_rnn_params('lstm', 30, H=100): expected uniform entries over [-0.1, 0.1], got max |w| = "
            f"{np.abs(_w).max():.4g}, mean {_w.mean():.4g}")
### BEGIN HIDDEN TESTS
import torch as _torch

for _cell, _D, _H in [("rnn", 7, 4), ("gru", 2, 9), ("lstm", 5, 1)]:
    _module = {"rnn": _torch.nn.RNN, "gru": _torch.nn.GRU, "lstm": _torch.nn.LSTM}[_cell](_D, _H)
    _p = call(init_rnn_params, _cell, _D, _H, np.random.default_rng(7))
    for _key, _tname in zip(PARAM_KEYS, ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], strict=True):
        assert_shape(_p[_key], tuple(getattr(_module, _tname).shape), name=f"init_rnn_params({_cell!r}, {_D}, {_H})"
                     f"[{_key!r}] (torch's {_tname})")
        assert_that(_p[_key].dtype == np.float64, f"init_rnn_params: {_key} must be float64, got {_p[_key].dtype}")
_p = call(init_rnn_params, "gru", 50, 400, np.random.default_rng(3))
_w = np.concatenate([_p[k].ravel() for k in PARAM_KEYS])
_counts = np.histogram(_w, bins=10, range=(-0.05, 0.05))[0]
assert_that(np.abs(_w).max() <= 0.05 and _counts.min() > 0.9 * _w.size / 10,
            "init_rnn_params('gru', 50, 400): the entries are not uniform over [-1/sqrt(H), 1/sqrt(H)]")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. One step of the vanilla RNN
#
# The simplest recurrent cell squashes the pre-activation with tanh:
#
# $$h_t = \tanh(a_t), \qquad a_t = W_{ih}\, x_t + b_{ih} + W_{hh}\, h_{t-1} + b_{hh}.$$
#
# Backward, given $\partial L/\partial h_t$ (`dh`), use $\tanh'(a) = 1 - \tanh^2(a) = 1 - h_t^2$
# — computed from the *output* $h_t$ that the forward pass kept, not from $a_t$:
#
# $$\frac{\partial L}{\partial a_t} = \frac{\partial L}{\partial h_t} \odot (1 - h_t^2), \qquad
#   \frac{\partial L}{\partial x_t} = \frac{\partial L}{\partial a_t} W_{ih}, \qquad
#   \frac{\partial L}{\partial h_{t-1}} = \frac{\partial L}{\partial a_t} W_{hh},$$
#
# and, summed over the batch, $\partial L/\partial W_{ih} = (\partial L/\partial a_t)^\top x_t$,
# $\partial L/\partial W_{hh} = (\partial L/\partial a_t)^\top h_{t-1}$, and both bias
# gradients equal $\sum_n \partial L/\partial a_{t,n}$.
#
# *Example*: $D = H = 1$, $W_{ih} = 2$, $W_{hh} = -1$, $b_{ih} = 0.25$, $b_{hh} = -0.25$, $x = 0.5$,
# $h_{t-1} = 1$: $a = 1 - 1 + 0 = 0$, so $h_t = 0$; with `dh` $= 1$, $\partial L/\partial a = 1$,
# `dx` $= 2$, `dh_prev` $= -1$, and the weight gradients are $0.5$ and $1$.

# %% nbgrader="solution" grade_id="rnn_step" export=true
def rnn_step_forward(x, h_prev, params):
    """One step of a tanh RNN: h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    Args:
        x: array (N, D), the inputs of this step.
        h_prev: array (N, H), the previous hidden state.
        params: dict with "W_ih" (H, D), "W_hh" (H, H), "b_ih" (H,), "b_hh" (H,).
        All of one float dtype (float64 or float32).

    Returns:
        h: array (N, H) of that dtype, the new hidden state.
        cache: whatever rnn_step_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    a = x @ params["W_ih"].T + params["b_ih"] + h_prev @ params["W_hh"].T + params["b_hh"]
    h = np.tanh(a)
    return h, (x, h_prev, h, params)
    ### END SOLUTION


def rnn_step_backward(dh, cache):
    """Backward pass of rnn_step_forward.

    Args:
        dh: array (N, H), dL/dh for this step's output.
        cache: from rnn_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), and grads: dict with "W_ih", "W_hh", "b_ih", "b_hh" of the
        parameters' shapes (summed over the batch). All of dh's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, h_prev, h, params = cache
    da = dh * (1.0 - h * h)
    db = da.sum(axis=0)
    grads = {"W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b_ih": db, "b_hh": db.copy()}
    return da @ params["W_ih"], da @ params["W_hh"], grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_rnn_step" points=3
_params = {"W_ih": np.array([[2.0]]), "W_hh": np.array([[-1.0]]), "b_ih": np.array([0.25]), "b_hh": np.array([-0.25])}
_label = "rnn_step_forward(x=[[0.5]], h_prev=[[1]], W_ih=2, W_hh=-1, b_ih=0.25, b_hh=-0.25)"
_h, _cache = unpack(call(rnn_step_forward, np.array([[0.5]]), np.array([[1.0]]), _params), 2, "rnn_step_forward")
assert_shape(_h, (1, 1), name=_label)
assert_close(_h, [[0.0]], name=f"{_label}: h = tanh(1 - 1 + 0.25 - 0.25)")
_dx, _dhp, _grads = unpack(call(rnn_step_backward, np.array([[1.0]]), _cache), 3, "rnn_step_backward")
assert_close(_dx, [[2.0]], name="rnn_step_backward(dh=[[1]]) of the example: dx")
assert_close(_dhp, [[-1.0]], name="rnn_step_backward(dh=[[1]]) of the example: dh_prev")
check_grads(_grads, {"W_ih": [[0.5]], "W_hh": [[1.0]], "b_ih": [1.0], "b_hh": [1.0]},
            "rnn_step_backward(dh=[[1]]) of the example")

# N=3, D=4, H=5 against numerical gradients of your forward pass
_rng = np.random.default_rng(0)
_x, _h0, _params = _rng.normal(size=(3, 4)), _rng.normal(size=(3, 5)), random_params(_rng, 1, 4, 5)
_h, _cache = unpack(call(rnn_step_forward, _x, _h0, _params), 2, "rnn_step_forward")
assert_shape(_h, (3, 5), name="rnn_step_forward(x (3, 4), h_prev (3, 5))")
_dh = _rng.normal(size=(3, 5))
_dx, _dhp, _grads = unpack(call(rnn_step_backward, _dh, _cache), 3, "rnn_step_backward")
_label = "rnn_step_backward (N=3, D=4, H=5)"
assert_close(_dx, numerical_gradient_array(lambda v: rnn_step_forward(v, _h0, _params)[0], _x.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
assert_close(_dhp, numerical_gradient_array(lambda v: rnn_step_forward(_x, v, _params)[0], _h0.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dh_prev against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: rnn_step_forward(_x, _h0, p)[0], _params, _dh),
            f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS
import torch as _torch


def _torch_cell_grads(kind, x, states, params, douts):
    """Outputs and gradients (inputs, then the four parameters) of torch's RNNCell/GRUCell/LSTMCell."""
    D, H = x.shape[1], states[0].shape[1]
    cell = {"rnn": _torch.nn.RNNCell, "gru": _torch.nn.GRUCell, "lstm": _torch.nn.LSTMCell}[kind](D, H).double()
    with _torch.no_grad():
        for key, tname in zip(PARAM_KEYS, ["weight_ih", "weight_hh", "bias_ih", "bias_hh"], strict=True):
            getattr(cell, tname).copy_(_torch.tensor(params[key]))
    ts = [_torch.tensor(a, requires_grad=True) for a in (x, *states)]
    out = cell(ts[0], tuple(ts[1:]) if kind == "lstm" else ts[1])
    outs = out if kind == "lstm" else (out,)
    _torch.autograd.backward(outs, [_torch.tensor(d) for d in douts])
    grads = {k: getattr(cell, t).grad.numpy() for k, t in zip(PARAM_KEYS, ["weight_ih", "weight_hh", "bias_ih",
                                                                         "bias_hh"], strict=True)}
    return [o.detach().numpy() for o in outs], [t.grad.numpy() for t in ts], grads


_rng = np.random.default_rng(702)
for _N, _D, _H in [(1, 1, 1), (1, 3, 2), (4, 2, 6), (7, 9, 5), (16, 32, 24)]:
    _x, _h0, _params = _rng.normal(size=(_N, _D)), _rng.normal(size=(_N, _H)), random_params(_rng, 1, _D, _H, 0.7)
    _dh = _rng.normal(size=(_N, _H))
    (_ref_h,), (_ref_dx, _ref_dh0), _ref_grads = _torch_cell_grads("rnn", _x, [_h0], _params, [_dh])
    _label = f"rnn_step_forward(x ({_N}, {_D}), h_prev ({_N}, {_H}))"
    _h, _cache = unpack(call(rnn_step_forward, _x, _h0, _params), 2, "rnn_step_forward")
    assert_close(_h, _ref_h, rtol=1e-10, atol=1e-12, name=f"{_label}: h against torch.nn.RNNCell")
    _dx, _dhp, _grads = unpack(call(rnn_step_backward, _dh, _cache), 3, "rnn_step_backward")
    assert_close(_dx, _ref_dx, rtol=1e-10, atol=1e-12, name=f"rnn_step_backward after {_label}: dx")
    assert_close(_dhp, _ref_dh0, rtol=1e-10, atol=1e-12, name=f"rnn_step_backward after {_label}: dh_prev")
    check_grads(_grads, _ref_grads, f"rnn_step_backward after {_label}", rtol=1e-10, atol=1e-12)
# float32 in, float32 out
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_h, _cache = call(rnn_step_forward, _x.astype(np.float32), _h0.astype(np.float32), _p32)
_dx, _dhp, _grads = call(rnn_step_backward, _dh.astype(np.float32), _cache)
for _name, _a in [("h", _h), ("dx", _dx), ("dh_prev", _dhp)] + [(f"grads[{k!r}]", _grads[k]) for k in PARAM_KEYS]:
    assert_that(_a.dtype == np.float32, f"rnn_step with float32 inputs: {_name} must stay float32, got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. A whole sequence: backpropagation through time
#
# Unrolled over $T$ steps, the RNN is a deep network whose layers share their weights:
#
# $$h_0 \xrightarrow{x_1} h_1 \xrightarrow{x_2} h_2 \;\cdots\; \xrightarrow{x_T} h_T .$$
#
# `rnn_forward` returns the states of **every** step, shape $(N, T, H)$: a language model
# predicts a token from each of them. (Indices in code run from $0$ to $T-1$: `h[:, t]` is
# the state after reading `x[:, t]`, and `h0` is the state before the first step.)
#
# **Backward** (backpropagation through time, BPTT) receives `dh` of shape $(N, T, H)$ — the
# loss's gradient reaching each step's output directly — and walks back from the last step.
# The state $h_t$ feeds two places, the output at step $t$ and the next step, so its total
# gradient is the sum of both:
#
# $$\frac{\partial L}{\partial h_t} = \underbrace{\texttt{dh}[:, t]}_{\text{from the output}}
#  + \underbrace{\Big(\frac{\partial L}{\partial a_{t+1}}\Big) W_{hh}}_{\text{from step } t+1} .$$
#
# The second term is the gradient `dh_prev` that the step backward of step $t+1$ returned;
# carry it from one iteration to the next. The weights are shared, so their gradients are
# **sums over all steps**. After the first step, what is carried is $\partial L/\partial h_0$:
# return it as `dh0` (a model that carries its state from one chunk of text to the next, or an
# encoder that feeds $h_0$, needs it).
#
# **Make it fast.** A Python loop over time cannot be avoided — each state needs the one
# before — but everything that does not depend on the previous state can leave the loop:
# compute $x_t W_{ih}^\top + b_{ih} + b_{hh}$ for all $T$ steps in *one* matrix product
# before it, and in the backward pass collect $\partial L/\partial a_t$ of all steps in one
# $(N, T, H)$ array, so that $\partial L/\partial W_{ih}$, $\partial L/\partial W_{hh}$ and
# $\partial L/\partial x$ take one product each after the loop. Keep the input's dtype
# (`np.empty(..., dtype=x.dtype)`): the language model at the end trains in float32.

# %% nbgrader="solution" grade_id="rnn_seq" export=true
def rnn_forward(x, h0, params):
    """A tanh RNN over a whole sequence.

    Args:
        x: array (N, T, D), the inputs; h0: array (N, H), the state before the first step;
        params: as for rnn_step_forward. All of one float dtype.

    Returns:
        h: array (N, T, H) of that dtype, h[:, t] the state after reading x[:, t].
        cache: whatever rnn_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, T, _ = x.shape
    xw = x @ params["W_ih"].T + (params["b_ih"] + params["b_hh"])     # (N, T, H), all steps at once
    W_hhT = params["W_hh"].T
    h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    prev = h0
    for t in range(T):
        prev = h[:, t] = np.tanh(xw[:, t] + prev @ W_hhT)
    return h, (x, h0, h, params)
    ### END SOLUTION


def rnn_backward(dh, cache):
    """Backpropagation through time for rnn_forward.

    Args:
        dh: array (N, T, H), dL/dh[:, t] reaching each step's output directly (not through
            the later steps).
        cache: from rnn_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), and grads: dict with "W_ih", "W_hh", "b_ih", "b_hh"
        (summed over the batch and the steps). All of dh's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, h0, h, params = cache
    N, T, H = h.shape
    W_hh = params["W_hh"]
    da = np.empty_like(h)                          # dL/da_t for every step
    dnext = np.zeros_like(h0)                      # dL/dh_t arriving from step t + 1
    for t in range(T - 1, -1, -1):
        da[:, t] = (dh[:, t] + dnext) * (1.0 - h[:, t] * h[:, t])
        dnext = da[:, t] @ W_hh
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    da_flat = da.reshape(N * T, H)
    db = da_flat.sum(axis=0)
    grads = {"W_ih": da_flat.T @ x.reshape(N * T, -1), "W_hh": da_flat.T @ h_prev.reshape(N * T, H),
             "b_ih": db, "b_hh": db.copy()}
    return da @ params["W_ih"], dnext, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_rnn_seq" points=5
# D = H = 1, W_ih = 1, W_hh = 0.5, no bias, h0 = 0: h_1 = tanh(1), h_2 = tanh(0.5 tanh(1)).
_params = {"W_ih": np.array([[1.0]]), "W_hh": np.array([[0.5]]), "b_ih": np.zeros(1), "b_hh": np.zeros(1)}
_x = np.array([[[1.0], [0.0]]])
_label = "rnn_forward(x=[[1], [0]], h0=0, W_ih=1, W_hh=0.5, no bias)"
_h, _cache = unpack(call(rnn_forward, _x, np.zeros((1, 1)), _params), 2, "rnn_forward")
assert_shape(_h, (1, 2, 1), name=f"{_label}: h (every step's state)")
_h1 = np.tanh(1.0)
_h2 = np.tanh(0.5 * _h1)
assert_close(_h, [[[_h1], [_h2]]], name=f"{_label}: h = [tanh(1), tanh(0.5 tanh(1))]")
# a loss on the last state only: the gradient reaches step 1 through step 2
_dx, _dh0, _grads = unpack(call(rnn_backward, np.array([[[0.0], [1.0]]]), _cache), 3, "rnn_backward")
_da2 = 1 - _h2**2
_da1 = _da2 * 0.5 * (1 - _h1**2)
assert_close(_dx, [[[_da1], [_da2]]], name=f"rnn_backward(dh=[0, 1]) after {_label}: dx (step 1's gradient "
             "arrives through step 2)")
assert_close(_dh0, [[_da1 * 0.5]], name=f"rnn_backward(dh=[0, 1]) after {_label}: dh0")
check_grads(_grads, {"W_ih": [[_da1]], "W_hh": [[_da2 * _h1]], "b_ih": [_da1 + _da2], "b_hh": [_da1 + _da2]},
            f"rnn_backward(dh=[0, 1]) after {_label}")

# N=2, T=5, D=3, H=4, a gradient at every step, against numerical gradients of your forward pass
_rng = np.random.default_rng(1)
_x, _h0, _params = _rng.normal(size=(2, 5, 3)), _rng.normal(size=(2, 4)), random_params(_rng, 1, 3, 4)
_h, _cache = unpack(call(rnn_forward, _x, _h0, _params), 2, "rnn_forward")
assert_shape(_h, (2, 5, 4), name="rnn_forward(x (2, 5, 3), h0 (2, 4))")
_dh = _rng.normal(size=(2, 5, 4))
_dx, _dh0, _grads = unpack(call(rnn_backward, _dh, _cache), 3, "rnn_backward")
_label = "rnn_backward (N=2, T=5, D=3, H=4)"
assert_close(_dx, numerical_gradient_array(lambda v: rnn_forward(v, _h0, _params)[0], _x.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
assert_close(_dh0, numerical_gradient_array(lambda v: rnn_forward(_x, v, _params)[0], _h0.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dh0 against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: rnn_forward(_x, _h0, p)[0], _params, _dh),
            f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS
import torch as _torch


def _torch_seq(kind, x, h0, c0, params, dh):
    """Every step's h, the last c, and all gradients of torch.nn.RNN/GRU/LSTM (batch_first, float64)."""
    N, T, D = x.shape
    H = h0.shape[1]
    module = {"rnn": _torch.nn.RNN, "gru": _torch.nn.GRU, "lstm": _torch.nn.LSTM}[kind](
        D, H, batch_first=True).double()
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    with _torch.no_grad():
        for key, tname in zip(PARAM_KEYS, names, strict=True):
            getattr(module, tname).copy_(_torch.tensor(params[key]))
    ts = [_torch.tensor(a, requires_grad=True) for a in ([x, h0[None]] + ([c0[None]] if kind == "lstm" else []))]
    out, state = module(ts[0], tuple(ts[1:]) if kind == "lstm" else ts[1])
    out.backward(_torch.tensor(dh))
    grads = {k: getattr(module, t).grad.numpy() for k, t in zip(PARAM_KEYS, names, strict=True)}
    c_last = state[1][0].detach().numpy() if kind == "lstm" else None
    return out.detach().numpy(), c_last, [t.grad.numpy().reshape(a.shape) for t, a in zip(ts, (x, h0, c0), strict=False)], grads


_rng = np.random.default_rng(703)
for _N, _T, _D, _H in [(1, 1, 1, 1), (1, 6, 3, 2), (3, 1, 4, 4), (2, 40, 3, 5), (5, 7, 8, 3), (16, 12, 10, 20)]:
    _x, _h0 = _rng.normal(size=(_N, _T, _D)), _rng.normal(size=(_N, _H))
    _params = random_params(_rng, 1, _D, _H, 0.6)
    _dh = _rng.normal(size=(_N, _T, _H))
    _ref_h, _, (_ref_dx, _ref_dh0), _ref_grads = _torch_seq("rnn", _x, _h0, None, _params, _dh)
    _label = f"rnn_forward(x ({_N}, {_T}, {_D}), h0 ({_N}, {_H}))"
    _h, _cache = unpack(call(rnn_forward, _x, _h0, _params), 2, "rnn_forward")
    assert_close(_h, _ref_h, rtol=1e-10, atol=1e-12, name=f"{_label}: h against torch.nn.RNN")
    _dx, _dh0, _grads = unpack(call(rnn_backward, _dh, _cache), 3, "rnn_backward")
    assert_close(_dx, _ref_dx, rtol=1e-9, atol=1e-11, name=f"rnn_backward after {_label}: dx")
    assert_close(_dh0, _ref_dh0, rtol=1e-9, atol=1e-11, name=f"rnn_backward after {_label}: dh0")
    check_grads(_grads, _ref_grads, f"rnn_backward after {_label}", rtol=1e-9, atol=1e-11)
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_h, _cache = call(rnn_forward, _x.astype(np.float32), _h0.astype(np.float32), _p32)
_dx, _dh0, _grads = call(rnn_backward, _dh.astype(np.float32), _cache)
for _name, _a in [("h", _h), ("dx", _dx), ("dh0", _dh0)] + [(f"grads[{k!r}]", _grads[k]) for k in PARAM_KEYS]:
    assert_that(_a.dtype == np.float32, f"rnn_forward/backward with float32 inputs: {_name} must stay float32, "
                f"got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Truncated BPTT.** A text of a million characters is not backpropagated through in one
# piece: it is cut into chunks of, say, 100 steps. Each chunk starts from the state the
# previous chunk ended in (`h0` = last `h` of the previous chunk, so the model still *sees*
# the whole past), but the backward pass stops at the chunk's start: the `dh0` that
# `rnn_backward` returns is simply not passed further back. Gradients then reach at most 100
# steps into the past — cheap, and usually enough.

# %% [markdown]
# ## 4. The gated recurrent unit (GRU)
#
# In a vanilla RNN every step multiplies the state by $W_{hh}$ and squashes it; over many
# steps the gradient shrinks or grows geometrically (the experiments at the end measure
# this). Gated cells let the network decide, unit by unit, how much of its state to keep.
# The **GRU** computes three blocks from $a = W_{ih} x_t + b_{ih}$ and
# $b = W_{hh} h_{t-1} + b_{hh}$, each split as $(r, z, n)$ in this order:
#
# $$\begin{aligned}
# r_t &= \sigma(a^r + b^r) && \text{reset gate}\\
# z_t &= \sigma(a^z + b^z) && \text{update gate}\\
# n_t &= \tanh\!\big(a^n + r_t \odot b^n\big) = \tanh\!\big(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\big)
#   && \text{candidate state}\\
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}.
# \end{aligned}$$
#
# When $z_t = 1$ a unit copies its previous value unchanged. Note where the reset gate
# acts — in PyTorch (and the cuDNN GRU) it multiplies the *whole* $W_{hn} h_{t-1} + b_{hn}$,
# after the product. (The original paper applies it to $h_{t-1}$ before the product: a
# different model whose weights do not carry over.) This is also why the GRU needs both
# $b_{in}$ and $b_{hn}$: one is inside the gate, the other is not.
#
# Backward, from $\partial L/\partial h_t$ (write $\delta = $ `dh`): $\partial L/\partial n_t =
# \delta \odot (1 - z_t)$, $\partial L/\partial z_t = \delta \odot (h_{t-1} - n_t)$, and $h_{t-1}$
# receives $\delta \odot z_t$ directly, plus what flows back through $b = W_{hh} h_{t-1} + b_{hh}$.
# With $\sigma' = \sigma(1 - \sigma)$ and $\tanh' = 1 - \tanh^2$ the rest is the chain rule.
# Keep the gradients of the two affine maps apart: for $a$ it is
# $(\partial a^r, \partial a^z, \partial a^n)$, for $b$ the same except that its third block is
# $\partial a^n \odot r_t$.
#
# Start with the logistic function $\sigma(x) = 1/(1 + e^{-x})$: written as it stands,
# `np.exp(-x)` overflows for $x < -710$, and `np.exp(x) / (1 + np.exp(x))` gives `inf / inf =
# nan` for large $x$. Use the identity $\sigma(x) = \tfrac12\big(1 + \tanh(x/2)\big)$: tanh
# never overflows, and one tanh is cheap inside a loop over time.

# %% nbgrader="solution" grade_id="gru_step" export=true
def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)) of every entry, without overflow for any x.

    Args:
        x: float array of any shape (float64 or float32).

    Returns:
        array of x's shape and dtype, values in [0, 1]. The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    return 0.5 * (1.0 + np.tanh(0.5 * x))
    ### END SOLUTION


def gru_step_forward(x, h_prev, params):
    """One GRU step in PyTorch's layout: blocks (r, z, n) of 3 * H rows each in W_ih, W_hh, b_ih, b_hh.

    Args:
        x: array (N, D); h_prev: array (N, H);
        params: dict with "W_ih" (3H, D), "W_hh" (3H, H), "b_ih" (3H,), "b_hh" (3H,). One float dtype.

    Returns:
        h: array (N, H) of that dtype, the new state.
        cache: whatever gru_step_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    a = x @ params["W_ih"].T + params["b_ih"]
    b = h_prev @ params["W_hh"].T + params["b_hh"]
    r = sigmoid(a[:, :H] + b[:, :H])
    z = sigmoid(a[:, H:2 * H] + b[:, H:2 * H])
    hn = b[:, 2 * H:]
    n = np.tanh(a[:, 2 * H:] + r * hn)
    h = (1.0 - z) * n + z * h_prev
    return h, (x, h_prev, r, z, n, hn, params)
    ### END SOLUTION


def gru_step_backward(dh, cache):
    """Backward pass of gru_step_forward.

    Args:
        dh: array (N, H), dL/dh; cache: from gru_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), and grads: dict with "W_ih", "W_hh", "b_ih", "b_hh" (summed
        over the batch). All of dh's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, h_prev, r, z, n, hn, params = cache
    H = h_prev.shape[1]
    dan = dh * (1.0 - z) * (1.0 - n * n)                 # through the tanh of the candidate
    da = np.empty((dh.shape[0], 3 * H), dtype=dh.dtype)  # dL/da for a = x W_ih^T + b_ih
    da[:, :H] = dan * hn * r * (1.0 - r)
    da[:, H:2 * H] = dh * (h_prev - n) * z * (1.0 - z)
    da[:, 2 * H:] = dan
    db = da.copy()                                       # dL/db for b = h_prev W_hh^T + b_hh
    db[:, 2 * H:] = dan * r
    grads = {"W_ih": da.T @ x, "W_hh": db.T @ h_prev, "b_ih": da.sum(axis=0), "b_hh": db.sum(axis=0)}
    dh_prev = dh * z + db @ params["W_hh"]
    return da @ params["W_ih"], dh_prev, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gru_step" points=4
_x = np.array([-1000.0, -2.0, 0.0, 1.0, 1000.0])
assert_close(call(sigmoid, _x), [0.0, 1 / (1 + np.exp(2.0)), 0.5, 1 / (1 + np.exp(-1.0)), 1.0], rtol=1e-12,
             atol=1e-15, name="sigmoid([-1000, -2, 0, 1, 1000]) (no overflow at +-1000)")
_out = call(sigmoid, _x.astype(np.float32))
assert_that(_out.dtype == np.float32, f"sigmoid(float32 array) must stay float32, got {_out.dtype}")

# All weights and biases zero: r = z = 1/2, n = tanh(0) = 0, so h = h_prev / 2.
_params = {"W_ih": np.zeros((3, 1)), "W_hh": np.zeros((3, 1)), "b_ih": np.zeros(3), "b_hh": np.zeros(3)}
_label = "gru_step_forward(x=[[1]], h_prev=[[2]], all parameters 0)"
_h, _cache = unpack(call(gru_step_forward, np.array([[1.0]]), np.array([[2.0]]), _params), 2, "gru_step_forward")
assert_shape(_h, (1, 1), name=_label)
assert_close(_h, [[1.0]], name=f"{_label}: h = (1 - z) n + z h_prev with z = 1/2, n = 0")
_dx, _dhp, _grads = unpack(call(gru_step_backward, np.array([[1.0]]), _cache), 3, "gru_step_backward")
assert_close(_dhp, [[0.5]], name=f"gru_step_backward(dh=[[1]]) after {_label}: dh_prev (= z)")
assert_close(_dx, [[0.0]], name=f"gru_step_backward(dh=[[1]]) after {_label}: dx (W_ih = 0)")
check_grads(_grads, {"W_ih": [[0.0], [0.5], [0.5]], "W_hh": [[0.0], [1.0], [0.5]], "b_ih": [0.0, 0.5, 0.5],
                     "b_hh": [0.0, 0.5, 0.25]},
            f"gru_step_backward(dh=[[1]]) after {_label} (blocks r, z, n; the n block of W_hh and b_hh "
            "passes through the reset gate r = 1/2)")

_rng = np.random.default_rng(2)
_x, _h0, _params = _rng.normal(size=(3, 4)), _rng.normal(size=(3, 2)), random_params(_rng, 3, 4, 2)
_h, _cache = unpack(call(gru_step_forward, _x, _h0, _params), 2, "gru_step_forward")
assert_shape(_h, (3, 2), name="gru_step_forward(x (3, 4), h_prev (3, 2))")
_dh = _rng.normal(size=(3, 2))
_dx, _dhp, _grads = unpack(call(gru_step_backward, _dh, _cache), 3, "gru_step_backward")
_label = "gru_step_backward (N=3, D=4, H=2)"
assert_close(_dx, numerical_gradient_array(lambda v: gru_step_forward(v, _h0, _params)[0], _x.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
assert_close(_dhp, numerical_gradient_array(lambda v: gru_step_forward(_x, v, _params)[0], _h0.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dh_prev against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: gru_step_forward(_x, _h0, p)[0], _params, _dh),
            f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(704)
for _N, _D, _H in [(1, 1, 1), (1, 3, 2), (4, 2, 6), (7, 9, 5), (16, 32, 24)]:
    _x, _h0, _params = _rng.normal(size=(_N, _D)), _rng.normal(size=(_N, _H)), random_params(_rng, 3, _D, _H, 0.7)
    _dh = _rng.normal(size=(_N, _H))
    (_ref_h,), (_ref_dx, _ref_dh0), _ref_grads = _torch_cell_grads("gru", _x, [_h0], _params, [_dh])
    _label = f"gru_step_forward(x ({_N}, {_D}), h_prev ({_N}, {_H}))"
    _h, _cache = unpack(call(gru_step_forward, _x, _h0, _params), 2, "gru_step_forward")
    assert_close(_h, _ref_h, rtol=1e-10, atol=1e-12, name=f"{_label}: h against torch.nn.GRUCell")
    _dx, _dhp, _grads = unpack(call(gru_step_backward, _dh, _cache), 3, "gru_step_backward")
    assert_close(_dx, _ref_dx, rtol=1e-10, atol=1e-12, name=f"gru_step_backward after {_label}: dx")
    assert_close(_dhp, _ref_dh0, rtol=1e-10, atol=1e-12, name=f"gru_step_backward after {_label}: dh_prev")
    check_grads(_grads, _ref_grads, f"gru_step_backward after {_label}", rtol=1e-10, atol=1e-12)
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_h, _cache = call(gru_step_forward, _x.astype(np.float32), _h0.astype(np.float32), _p32)
_dx, _dhp, _grads = call(gru_step_backward, _dh.astype(np.float32), _cache)
for _name, _a in [("h", _h), ("dx", _dx), ("dh_prev", _dhp)] + [(f"grads[{k!r}]", _grads[k]) for k in PARAM_KEYS]:
    assert_that(_a.dtype == np.float32, f"gru_step with float32 inputs: {_name} must stay float32, got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# Now the whole sequence, as for the RNN: the input products $W_{ih} x_t + b_{ih}$ of all
# steps in one product before the loop (here without $b_{hh}$: its $n$ block sits inside the
# reset gate), the state products inside it. Backward, fill two $(N, T, 3H)$ arrays — the
# gradients of the input products and of the state products of every step — and get the
# weight gradients from one matrix product each after the loop.

# %% nbgrader="solution" grade_id="gru_seq" export=true
def gru_forward(x, h0, params):
    """A GRU over a whole sequence (PyTorch's layout and gate order r, z, n).

    Args:
        x: array (N, T, D); h0: array (N, H); params: as for gru_step_forward. One float dtype.

    Returns:
        h: array (N, T, H) of that dtype, every step's state.
        cache: whatever gru_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, T, _ = x.shape
    H = h0.shape[1]
    xa = x @ params["W_ih"].T + params["b_ih"]                  # (N, T, 3H)
    W_hhT, b_hh = params["W_hh"].T, params["b_hh"]
    h = np.empty((N, T, H), dtype=x.dtype)
    gates = np.empty((N, T, 3 * H), dtype=x.dtype)              # r, z, n of every step
    hn = np.empty((N, T, H), dtype=x.dtype)                     # W_hn h_prev + b_hn of every step
    prev = h0
    for t in range(T):
        a, b = xa[:, t], prev @ W_hhT + b_hh
        g = gates[:, t]
        g[:, :2 * H] = sigmoid(a[:, :2 * H] + b[:, :2 * H])
        hn[:, t] = b[:, 2 * H:]
        g[:, 2 * H:] = np.tanh(a[:, 2 * H:] + g[:, :H] * hn[:, t])
        z, n = g[:, H:2 * H], g[:, 2 * H:]
        prev = h[:, t] = n + z * (prev - n)
    return h, (x, h0, h, gates, hn, params)
    ### END SOLUTION


def gru_backward(dh, cache):
    """Backpropagation through time for gru_forward.

    Args:
        dh: array (N, T, H), dL/dh[:, t] reaching each step's output directly; cache: from gru_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), and grads: dict with "W_ih", "W_hh", "b_ih", "b_hh" (summed
        over the batch and the steps). All of dh's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, h0, h, gates, hn, params = cache
    N, T, H = h.shape
    W_hh = params["W_hh"]
    da = np.empty((N, T, 3 * H), dtype=dh.dtype)   # gradients of the input products
    db = np.empty((N, T, 3 * H), dtype=dh.dtype)   # gradients of the state products
    dnext = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        r, z, n = gates[:, t, :H], gates[:, t, H:2 * H], gates[:, t, 2 * H:]
        prev = h[:, t - 1] if t else h0
        dht = dh[:, t] + dnext
        dan = dht * (1.0 - z) * (1.0 - n * n)
        dat, dbt = da[:, t], db[:, t]
        dat[:, :H] = dan * hn[:, t] * r * (1.0 - r)
        dat[:, H:2 * H] = dht * (prev - n) * z * (1.0 - z)
        dat[:, 2 * H:] = dan
        dbt[:, :2 * H] = dat[:, :2 * H]
        dbt[:, 2 * H:] = dan * r
        dnext = dht * z + dbt @ W_hh
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1).reshape(N * T, H)
    da_flat, db_flat = da.reshape(N * T, 3 * H), db.reshape(N * T, 3 * H)
    grads = {"W_ih": da_flat.T @ x.reshape(N * T, -1), "W_hh": db_flat.T @ h_prev,
             "b_ih": da_flat.sum(axis=0), "b_hh": db_flat.sum(axis=0)}
    return da @ params["W_ih"], dnext, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gru_seq" points=5
# All parameters 0: r = z = 1/2 and n = 0 at every step, so the state halves at every step.
_params = {"W_ih": np.zeros((3, 1)), "W_hh": np.zeros((3, 1)), "b_ih": np.zeros(3), "b_hh": np.zeros(3)}
_label = "gru_forward(x (1, 3, 1), h0=[[8]], all parameters 0)"
_h, _cache = unpack(call(gru_forward, np.ones((1, 3, 1)), np.array([[8.0]]), _params), 2, "gru_forward")
assert_shape(_h, (1, 3, 1), name=f"{_label}: h (every step's state)")
assert_close(_h, [[[4.0], [2.0], [1.0]]], name=f"{_label}: h (halved at every step)")
_dx, _dh0, _grads = unpack(call(gru_backward, np.ones((1, 3, 1)), _cache), 3, "gru_backward")
assert_close(_dh0, [[0.875]], name=f"gru_backward(dh=[1, 1, 1]) after {_label}: dh0 (= z + z^2 + z^3: every "
             "step's gradient carried back to h0 through h = ... + z h_prev)")

_rng = np.random.default_rng(3)
_x, _h0, _params = _rng.normal(size=(2, 4, 3)), _rng.normal(size=(2, 2)), random_params(_rng, 3, 3, 2)
_h, _cache = unpack(call(gru_forward, _x, _h0, _params), 2, "gru_forward")
assert_shape(_h, (2, 4, 2), name="gru_forward(x (2, 4, 3), h0 (2, 2))")
_dh = _rng.normal(size=(2, 4, 2))
_dx, _dh0, _grads = unpack(call(gru_backward, _dh, _cache), 3, "gru_backward")
_label = "gru_backward (N=2, T=4, D=3, H=2)"
assert_close(_dx, numerical_gradient_array(lambda v: gru_forward(v, _h0, _params)[0], _x.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
assert_close(_dh0, numerical_gradient_array(lambda v: gru_forward(_x, v, _params)[0], _h0.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dh0 against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: gru_forward(_x, _h0, p)[0], _params, _dh),
            f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(705)
for _N, _T, _D, _H in [(1, 1, 1, 1), (1, 6, 3, 2), (3, 1, 4, 4), (2, 40, 3, 5), (5, 7, 8, 3), (16, 12, 10, 20)]:
    _x, _h0 = _rng.normal(size=(_N, _T, _D)), _rng.normal(size=(_N, _H))
    _params = random_params(_rng, 3, _D, _H, 0.6)
    _dh = _rng.normal(size=(_N, _T, _H))
    _ref_h, _, (_ref_dx, _ref_dh0), _ref_grads = _torch_seq("gru", _x, _h0, None, _params, _dh)
    _label = f"gru_forward(x ({_N}, {_T}, {_D}), h0 ({_N}, {_H}))"
    _h, _cache = unpack(call(gru_forward, _x, _h0, _params), 2, "gru_forward")
    assert_close(_h, _ref_h, rtol=1e-10, atol=1e-12, name=f"{_label}: h against torch.nn.GRU")
    _dx, _dh0, _grads = unpack(call(gru_backward, _dh, _cache), 3, "gru_backward")
    assert_close(_dx, _ref_dx, rtol=1e-9, atol=1e-11, name=f"gru_backward after {_label}: dx")
    assert_close(_dh0, _ref_dh0, rtol=1e-9, atol=1e-11, name=f"gru_backward after {_label}: dh0")
    check_grads(_grads, _ref_grads, f"gru_backward after {_label}", rtol=1e-9, atol=1e-11)
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_h, _cache = call(gru_forward, _x.astype(np.float32), _h0.astype(np.float32), _p32)
_dx, _dh0, _grads = call(gru_backward, _dh.astype(np.float32), _cache)
for _name, _a in [("h", _h), ("dx", _dx), ("dh0", _dh0)] + [(f"grads[{k!r}]", _grads[k]) for k in PARAM_KEYS]:
    assert_that(_a.dtype == np.float32, f"gru_forward/backward with float32 inputs: {_name} must stay float32, "
                f"got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The long short-term memory (LSTM)
#
# The **LSTM** keeps two states: the hidden state $h_t$, which it shows to the rest of the
# network, and a **cell** $c_t$, its memory. Four blocks of $a_t = W_{ih} x_t + b_{ih} +
# W_{hh} h_{t-1} + b_{hh}$, in PyTorch's order $(i, f, g, o)$:
#
# $$\begin{aligned}
# i_t &= \sigma(a^i), \quad f_t = \sigma(a^f), \quad g_t = \tanh(a^g), \quad o_t = \sigma(a^o),\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, \\
# h_t &= o_t \odot \tanh(c_t).
# \end{aligned}$$
#
# The **input gate** $i$ decides how much of the candidate $g$ to write, the **forget gate**
# $f$ how much of the old memory to keep, the **output gate** $o$ how much of the memory to
# show. The cell is updated by an *addition*, not by a matrix product and a squashing.
#
# Backward, the step receives the gradients of both its outputs, $\partial L/\partial h_t$ and
# $\partial L/\partial c_t$ (from the next step). The cell's total gradient adds the path
# through $h_t$:
#
# $$\frac{\partial L}{\partial c_t} \leftarrow \frac{\partial L}{\partial c_t}
#   + \frac{\partial L}{\partial h_t} \odot o_t \odot (1 - \tanh^2 c_t),$$
#
# and then $\partial L/\partial c_{t-1} = \partial L/\partial c_t \odot f_t$,
# $\partial L/\partial a^i = \partial L/\partial c_t \odot g_t \odot i_t (1 - i_t)$,
# $\partial L/\partial a^f = \partial L/\partial c_t \odot c_{t-1} \odot f_t (1 - f_t)$,
# $\partial L/\partial a^g = \partial L/\partial c_t \odot i_t \odot (1 - g_t^2)$ and
# $\partial L/\partial a^o = \partial L/\partial h_t \odot \tanh(c_t) \odot o_t(1 - o_t)$.
# From $\partial L/\partial a$ on it is the RNN's backward pass with $4H$ rows.

# %% nbgrader="solution" grade_id="lstm_step" export=true
def lstm_step_forward(x, h_prev, c_prev, params):
    """One LSTM step in PyTorch's layout: blocks (i, f, g, o) of 4 * H rows each.

    Args:
        x: array (N, D); h_prev, c_prev: arrays (N, H), the previous hidden state and cell;
        params: dict with "W_ih" (4H, D), "W_hh" (4H, H), "b_ih" (4H,), "b_hh" (4H,). One float dtype.

    Returns:
        h, c: arrays (N, H) of that dtype, the new hidden state and cell.
        cache: whatever lstm_step_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    H = h_prev.shape[1]
    a = x @ params["W_ih"].T + params["b_ih"] + h_prev @ params["W_hh"].T + params["b_hh"]
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return h, c, (x, h_prev, c_prev, i, f, g, o, tc, params)
    ### END SOLUTION


def lstm_step_backward(dh, dc, cache):
    """Backward pass of lstm_step_forward.

    Args:
        dh, dc: arrays (N, H), dL/dh and dL/dc of this step's outputs (dc: from the next step;
            zeros for the last one); cache: from lstm_step_forward.

    Returns:
        dx (N, D), dh_prev (N, H), dc_prev (N, H), and grads: dict with "W_ih", "W_hh", "b_ih",
        "b_hh" (summed over the batch). All of dh's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, h_prev, c_prev, i, f, g, o, tc, params = cache
    H = h_prev.shape[1]
    dc_total = dc + dh * o * (1.0 - tc * tc)
    da = np.empty((dh.shape[0], 4 * H), dtype=dh.dtype)
    da[:, :H] = dc_total * g * i * (1.0 - i)
    da[:, H:2 * H] = dc_total * c_prev * f * (1.0 - f)
    da[:, 2 * H:3 * H] = dc_total * i * (1.0 - g * g)
    da[:, 3 * H:] = dh * tc * o * (1.0 - o)
    db = da.sum(axis=0)
    grads = {"W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b_ih": db, "b_hh": db.copy()}
    return da @ params["W_ih"], da @ params["W_hh"], dc_total * f, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_lstm_step" points=4
# All parameters 0: i = f = o = 1/2 and g = 0, so c = c_prev / 2 and h = tanh(c) / 2.
_params = {"W_ih": np.zeros((4, 1)), "W_hh": np.zeros((4, 1)), "b_ih": np.zeros(4), "b_hh": np.zeros(4)}
_label = "lstm_step_forward(x=[[1]], h_prev=[[0]], c_prev=[[2]], all parameters 0)"
_res = call(lstm_step_forward, np.array([[1.0]]), np.zeros((1, 1)), np.array([[2.0]]), _params)
_h, _c, _cache = unpack(_res, 3, "lstm_step_forward")
assert_close(_c, [[1.0]], name=f"{_label}: c = f c_prev + i g with f = 1/2, g = 0")
assert_close(_h, [[0.5 * np.tanh(1.0)]], name=f"{_label}: h = o tanh(c)")
# only a gradient on the cell: it flows back through the forget gate (and into a^f)
_dx, _dhp, _dcp, _grads = unpack(call(lstm_step_backward, np.zeros((1, 1)), np.ones((1, 1)), _cache), 4,
                                 "lstm_step_backward")
assert_close(_dcp, [[0.5]], name=f"lstm_step_backward(dh=0, dc=1) after {_label}: dc_prev (= f)")
assert_close(_grads["b_ih"] if isinstance(_grads, dict) and "b_ih" in _grads else None, [0.0, 0.5, 0.5, 0.0],
             name=f"lstm_step_backward(dh=0, dc=1) after {_label}: grads['b_ih'] (blocks i, f, g, o: "
             "dc g i(1-i) = 0, dc c_prev f(1-f) = 0.5, dc i (1-g^2) = 0.5, 0)")

_rng = np.random.default_rng(4)
_x, _h0, _c0 = _rng.normal(size=(3, 4)), _rng.normal(size=(3, 2)), _rng.normal(size=(3, 2))
_params = random_params(_rng, 4, 4, 2)
_h, _c, _cache = unpack(call(lstm_step_forward, _x, _h0, _c0, _params), 3, "lstm_step_forward")
assert_shape(_h, (3, 2), name="lstm_step_forward(x (3, 4), h_prev (3, 2), c_prev (3, 2)): h")
assert_shape(_c, (3, 2), name="lstm_step_forward(x (3, 4), h_prev (3, 2), c_prev (3, 2)): c")
_dh, _dc = _rng.normal(size=(3, 2)), _rng.normal(size=(3, 2))


def _lstm_step_loss_grad(v, which):
    """Numerical gradient of sum(h dh + c dc) with respect to the input named `which`."""
    args = {"x": _x, "h": _h0, "c": _c0}

    def f(u):
        h, c, _ = lstm_step_forward(**{"x": args["x"], "h_prev": args["h"], "c_prev": args["c"],
                                       ["x", "h_prev", "c_prev"][["x", "h", "c"].index(which)]: u},
                                    params=_params)
        return np.concatenate([h, c], axis=1)
    return numerical_gradient_array(f, v.copy(), np.concatenate([_dh, _dc], axis=1))


_dx, _dhp, _dcp, _grads = unpack(call(lstm_step_backward, _dh, _dc, _cache), 4, "lstm_step_backward")
_label = "lstm_step_backward (N=3, D=4, H=2, gradients on h and c)"
assert_close(_dx, _lstm_step_loss_grad(_x, "x"), rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical "
             "gradient")
assert_close(_dhp, _lstm_step_loss_grad(_h0, "h"), rtol=1e-5, atol=1e-7, name=f"{_label}: dh_prev against the "
             "numerical gradient")
assert_close(_dcp, _lstm_step_loss_grad(_c0, "c"), rtol=1e-5, atol=1e-7, name=f"{_label}: dc_prev against the "
             "numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: np.concatenate(lstm_step_forward(_x, _h0, _c0, p)[:2], axis=1),
                                          _params, np.concatenate([_dh, _dc], axis=1)),
            f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(706)
for _N, _D, _H in [(1, 1, 1), (1, 3, 2), (4, 2, 6), (7, 9, 5), (16, 32, 24)]:
    _x, _h0, _c0 = _rng.normal(size=(_N, _D)), _rng.normal(size=(_N, _H)), _rng.normal(size=(_N, _H)) * 2
    _params = random_params(_rng, 4, _D, _H, 0.7)
    _dh, _dc = _rng.normal(size=(_N, _H)), _rng.normal(size=(_N, _H))
    (_ref_h, _ref_c), (_ref_dx, _ref_dh0, _ref_dc0), _ref_grads = _torch_cell_grads("lstm", _x, [_h0, _c0], _params,
                                                                                     [_dh, _dc])
    _label = f"lstm_step_forward(x ({_N}, {_D}), h_prev ({_N}, {_H}), c_prev ({_N}, {_H}))"
    _h, _c, _cache = unpack(call(lstm_step_forward, _x, _h0, _c0, _params), 3, "lstm_step_forward")
    assert_close(_h, _ref_h, rtol=1e-10, atol=1e-12, name=f"{_label}: h against torch.nn.LSTMCell")
    assert_close(_c, _ref_c, rtol=1e-10, atol=1e-12, name=f"{_label}: c against torch.nn.LSTMCell")
    _dx, _dhp, _dcp, _grads = unpack(call(lstm_step_backward, _dh, _dc, _cache), 4, "lstm_step_backward")
    assert_close(_dx, _ref_dx, rtol=1e-10, atol=1e-12, name=f"lstm_step_backward after {_label}: dx")
    assert_close(_dhp, _ref_dh0, rtol=1e-10, atol=1e-12, name=f"lstm_step_backward after {_label}: dh_prev")
    assert_close(_dcp, _ref_dc0, rtol=1e-10, atol=1e-12, name=f"lstm_step_backward after {_label}: dc_prev")
    check_grads(_grads, _ref_grads, f"lstm_step_backward after {_label}", rtol=1e-10, atol=1e-12)
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_h, _c, _cache = call(lstm_step_forward, _x.astype(np.float32), _h0.astype(np.float32), _c0.astype(np.float32), _p32)
_dx, _dhp, _dcp, _grads = call(lstm_step_backward, _dh.astype(np.float32), _dc.astype(np.float32), _cache)
for _name, _a in ([("h", _h), ("c", _c), ("dx", _dx), ("dh_prev", _dhp), ("dc_prev", _dcp)]
                  + [(f"grads[{k!r}]", _grads[k]) for k in PARAM_KEYS]):
    assert_that(_a.dtype == np.float32, f"lstm_step with float32 inputs: {_name} must stay float32, got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# The whole sequence. Forward, keep what the backward pass needs for every step: the four
# gates after their nonlinearities in one $(N, T, 4H)$ array, $\tanh c_t$, and every $h_t$
# and $c_t$ (both are returned: the experiments read the cell). Backward, two gradients are
# carried from step $t+1$ to step $t$ — `dh_next` *and* `dc_next` — and, as for the RNN, the
# gate gradients of all steps go into one $(N, T, 4H)$ array for three matrix products after
# the loop. The loss sees only $h$, so `dh` is the only upstream gradient; `lstm_backward`
# returns the gradients of both initial states.

# %% nbgrader="solution" grade_id="lstm_seq" export=true
def lstm_forward(x, h0, c0, params):
    """An LSTM over a whole sequence (PyTorch's layout and gate order i, f, g, o).

    Args:
        x: array (N, T, D); h0, c0: arrays (N, H), the initial hidden state and cell;
        params: as for lstm_step_forward. One float dtype.

    Returns:
        h, c: arrays (N, T, H) of that dtype, every step's hidden state and cell.
        cache: whatever lstm_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, T, _ = x.shape
    H = h0.shape[1]
    xa = x @ params["W_ih"].T + (params["b_ih"] + params["b_hh"])   # (N, T, 4H), all steps at once
    W_hhT = params["W_hh"].T
    h = np.empty((N, T, H), dtype=x.dtype)
    c = np.empty((N, T, H), dtype=x.dtype)
    gates = np.empty((N, T, 4 * H), dtype=x.dtype)                  # i, f, g, o after their nonlinearities
    tanh_c = np.empty((N, T, H), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        a = xa[:, t] + h_prev @ W_hhT
        z = gates[:, t]
        z[:, :2 * H] = sigmoid(a[:, :2 * H])
        z[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
        z[:, 3 * H:] = sigmoid(a[:, 3 * H:])
        c_prev = c[:, t] = z[:, H:2 * H] * c_prev + z[:, :H] * z[:, 2 * H:3 * H]
        tanh_c[:, t] = np.tanh(c_prev)
        h_prev = h[:, t] = z[:, 3 * H:] * tanh_c[:, t]
    return h, c, (x, h0, c0, h, c, gates, tanh_c, params)
    ### END SOLUTION


def lstm_backward(dh, cache):
    """Backpropagation through time for lstm_forward.

    Args:
        dh: array (N, T, H), dL/dh[:, t] reaching each step's output directly; cache: from lstm_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dc0 (N, H), and grads: dict with "W_ih", "W_hh", "b_ih", "b_hh"
        (summed over the batch and the steps). All of dh's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, h0, c0, h, c, gates, tanh_c, params = cache
    N, T, H = h.shape
    W_hh = params["W_hh"]
    da = np.empty((N, T, 4 * H), dtype=dh.dtype)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
    for t in range(T - 1, -1, -1):
        z = gates[:, t]
        i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        c_prev = c[:, t - 1] if t else c0
        tc = tanh_c[:, t]
        dht = dh[:, t] + dh_next
        dct = dc_next + dht * o * (1.0 - tc * tc)
        d = da[:, t]
        d[:, :H] = dct * g * i * (1.0 - i)
        d[:, H:2 * H] = dct * c_prev * f * (1.0 - f)
        d[:, 2 * H:3 * H] = dct * i * (1.0 - g * g)
        d[:, 3 * H:] = dht * tc * o * (1.0 - o)
        dh_next = d @ W_hh
        dc_next = dct * f
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1).reshape(N * T, H)
    da_flat = da.reshape(N * T, 4 * H)
    db = da_flat.sum(axis=0)
    grads = {"W_ih": da_flat.T @ x.reshape(N * T, -1), "W_hh": da_flat.T @ h_prev, "b_ih": db, "b_hh": db.copy()}
    return da @ params["W_ih"], dh_next, dc_next, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_lstm_seq" points=5
# All parameters 0: the cell halves at every step (f = 1/2, g = 0) and h = tanh(c) / 2.
_params = {"W_ih": np.zeros((4, 1)), "W_hh": np.zeros((4, 1)), "b_ih": np.zeros(4), "b_hh": np.zeros(4)}
_label = "lstm_forward(x (1, 3, 1), h0=0, c0=[[8]], all parameters 0)"
_res = call(lstm_forward, np.ones((1, 3, 1)), np.zeros((1, 1)), np.array([[8.0]]), _params)
_h, _c, _cache = unpack(_res, 3, "lstm_forward")
assert_shape(_h, (1, 3, 1), name=f"{_label}: h (every step's state)")
assert_shape(_c, (1, 3, 1), name=f"{_label}: c (every step's cell)")
assert_close(_c, [[[4.0], [2.0], [1.0]]], name=f"{_label}: c (halved at every step)")
assert_close(_h, 0.5 * np.tanh(np.array([[[4.0], [2.0], [1.0]]])), name=f"{_label}: h = tanh(c) / 2")

_rng = np.random.default_rng(5)
_x, _h0, _c0 = _rng.normal(size=(2, 4, 3)), _rng.normal(size=(2, 2)), _rng.normal(size=(2, 2))
_params = random_params(_rng, 4, 3, 2)
_h, _c, _cache = unpack(call(lstm_forward, _x, _h0, _c0, _params), 3, "lstm_forward")
assert_shape(_h, (2, 4, 2), name="lstm_forward(x (2, 4, 3), h0 (2, 2), c0 (2, 2)): h")
_dh = _rng.normal(size=(2, 4, 2))
_dx, _dh0, _dc0, _grads = unpack(call(lstm_backward, _dh, _cache), 4, "lstm_backward")
_label = "lstm_backward (N=2, T=4, D=3, H=2)"
assert_close(_dx, numerical_gradient_array(lambda v: lstm_forward(v, _h0, _c0, _params)[0], _x.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
assert_close(_dh0, numerical_gradient_array(lambda v: lstm_forward(_x, v, _c0, _params)[0], _h0.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dh0 against the numerical gradient")
assert_close(_dc0, numerical_gradient_array(lambda v: lstm_forward(_x, _h0, v, _params)[0], _c0.copy(), _dh),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dc0 against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: lstm_forward(_x, _h0, _c0, p)[0], _params, _dh),
            f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(707)
for _N, _T, _D, _H in [(1, 1, 1, 1), (1, 6, 3, 2), (3, 1, 4, 4), (2, 40, 3, 5), (5, 7, 8, 3), (16, 12, 10, 20)]:
    _x, _h0, _c0 = _rng.normal(size=(_N, _T, _D)), _rng.normal(size=(_N, _H)), _rng.normal(size=(_N, _H))
    _params = random_params(_rng, 4, _D, _H, 0.6)
    _dh = _rng.normal(size=(_N, _T, _H))
    _ref_h, _ref_c, (_ref_dx, _ref_dh0, _ref_dc0), _ref_grads = _torch_seq("lstm", _x, _h0, _c0, _params, _dh)
    _label = f"lstm_forward(x ({_N}, {_T}, {_D}), h0, c0 ({_N}, {_H}))"
    _h, _c, _cache = unpack(call(lstm_forward, _x, _h0, _c0, _params), 3, "lstm_forward")
    assert_close(_h, _ref_h, rtol=1e-10, atol=1e-12, name=f"{_label}: h against torch.nn.LSTM")
    assert_close(_c[:, -1], _ref_c, rtol=1e-10, atol=1e-12, name=f"{_label}: c[:, -1] against torch.nn.LSTM's c_n")
    _dx, _dh0, _dc0, _grads = unpack(call(lstm_backward, _dh, _cache), 4, "lstm_backward")
    assert_close(_dx, _ref_dx, rtol=1e-9, atol=1e-11, name=f"lstm_backward after {_label}: dx")
    assert_close(_dh0, _ref_dh0, rtol=1e-9, atol=1e-11, name=f"lstm_backward after {_label}: dh0")
    assert_close(_dc0, _ref_dc0, rtol=1e-9, atol=1e-11, name=f"lstm_backward after {_label}: dc0")
    check_grads(_grads, _ref_grads, f"lstm_backward after {_label}", rtol=1e-9, atol=1e-11)
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_h, _c, _cache = call(lstm_forward, _x.astype(np.float32), _h0.astype(np.float32), _c0.astype(np.float32), _p32)
_dx, _dh0, _dc0, _grads = call(lstm_backward, _dh.astype(np.float32), _cache)
for _name, _a in ([("h", _h), ("c", _c), ("dx", _dx), ("dh0", _dh0), ("dc0", _dc0)]
                  + [(f"grads[{k!r}]", _grads[k]) for k in PARAM_KEYS]):
    assert_that(_a.dtype == np.float32, f"lstm_forward/backward with float32 inputs: {_name} must stay float32, "
                f"got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** In the LSTM's backward pass, $\partial L/\partial c_{t-1}$ receives
# $\partial L/\partial c_t$ multiplied elementwise by one gate. Which gate must be 1 for the
# cell's gradient to pass from step $t$ to step $t-1$ unchanged? Set `q1_answer` to `"i"`,
# `"f"`, `"g"` or `"o"`.

# %% nbgrader="solution" grade_id="q1_lstm_gate"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = "f"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_lstm_gate" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_choice(q1_answer, ["i", "f", "g", "o"], name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, "f", name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** How many parameters (weights and biases, both bias vectors counted)
# does PyTorch's `torch.nn.LSTM(input_size=10, hidden_size=20)` have? Set `q2_answer` to
# that number (an integer).

# %% nbgrader="solution" grade_id="q2_lstm_params"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 2560
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_lstm_params" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 2560, name="q2_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** A character model is trained with truncated BPTT on chunks of 50
# characters; each chunk starts from the final state of the chunk before it. What does the
# truncation cut?
#
# - `"a"`: the forward pass: the model cannot use anything it read more than 50 steps ago;
# - `"b"`: the backward pass: no gradient flows from a chunk into the steps of earlier chunks,
#   although the state still carries information forward from them;
# - `"c"`: both: the state is reset to zero at every chunk;
# - `"d"`: neither: it only splits the batch across several processes.
#
# Set `q3_answer` to the letter of the right answer.

# %% nbgrader="solution" grade_id="q3_truncated_bptt"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_truncated_bptt" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** In a vanilla RNN, $\partial L/\partial h_{t-1}$ is
# $\partial L/\partial h_t$ multiplied by $\operatorname{diag}(1 - h_t^2)\, W_{hh}$ at every step.
# Explain why the LSTM's cell update $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ makes
# gradients over long time spans much less likely to vanish. What must the network do with
# its forget gate for this to work, and why does the LSTM still need gradient clipping?
# Answer in three to five sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_lstm_memory" points=2
# *Model answer.* Backward through the additive update, $\partial c_t / \partial c_{t-1} =
# \operatorname{diag}(f_t)$ along the cell path: no weight matrix and no squashing
# derivative, just an elementwise factor the network controls. Over $k$ steps the gradient
# is multiplied by $\prod f$, which stays close to 1 when the forget gates stay open, so a
# signal from far back arrives nearly intact (the "constant error carousel"), while in the
# RNN the product of $k$ Jacobians shrinks (or grows) geometrically with the spectral radius
# of $W_{hh}$ and the saturation of tanh. The network must learn to keep $f_t \approx 1$ on the
# units that store information (hence the common trick of initializing the forget bias to
# 1 or more). The other paths — through $h_t$, the gates and $W_{hh}$ — are still products of
# matrices that can explode, so the LSTM still clips the gradient's norm.

# %% [markdown]
# ## 6. From tokens to vectors, and from states to scores
#
# A language model reads **token ids** — integers in $\{0, \dots, V-1\}$ for a vocabulary of
# $V$ characters or words. An **embedding** layer turns each id into a learned vector: row
# `idx` of a matrix $W \in \mathbb{R}^{V \times D}$. It is the same as multiplying a one-hot
# vector by $W$, without building the one-hot vector:
#
# $$\text{out}_{n,t} = W_{\text{idx}_{n,t}}, \qquad
#   \frac{\partial L}{\partial W_v} = \sum_{(n,t):\, \text{idx}_{n,t} = v} \frac{\partial L}{\partial \text{out}_{n,t}} .$$
#
# A token that occurs several times receives the **sum** of its gradients. In numpy,
# `dW[idx] += dout` does *not* do this: with repeated indices, fancy-index assignment writes
# each row once and the last write wins. `np.add.at(dW, idx, dout)` accumulates.
#
# After the recurrent layer, a **temporal affine** layer maps each step's state to $M$
# scores with the same $w \in \mathbb{R}^{D \times M}$, $b \in \mathbb{R}^M$ at every step:
# `out[n, t] = x[n, t] @ w + b` — chapter 03's affine layer applied to $N T$ rows.

# %% nbgrader="solution" grade_id="embedding" export=true
def embedding_forward(idx, W):
    """Look up a vector for every token.

    Args:
        idx: integer array (N, T) of token ids in [0, V).
        W: float array (V, D), one row per token.

    Returns:
        out: array (N, T, D) of W's dtype, out[n, t] = W[idx[n, t]].
        cache: whatever embedding_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    out = W[idx]
    return out, (idx, W.shape)
    ### END SOLUTION


def embedding_backward(dout, cache):
    """Gradient of the embedding matrix.

    Args:
        dout: array (N, T, D), dL/dout; cache: from embedding_forward.

    Returns:
        dW: array (V, D) of dout's dtype; row v is the sum of dout[n, t] over every (n, t) with
        idx[n, t] = v (zero for tokens that do not occur). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    idx, (V, D) = cache
    dW = np.zeros((V, D), dtype=dout.dtype)
    np.add.at(dW, idx.reshape(-1), dout.reshape(-1, D))
    return dW
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_embedding" points=3
_W = np.arange(8.0).reshape(4, 2)
_idx = np.array([[1, 3, 1]])
_out, _cache = unpack(call(embedding_forward, _idx, _W), 2, "embedding_forward")
assert_shape(_out, (1, 3, 2), name="embedding_forward(idx=[[1, 3, 1]], W (4, 2))")
assert_close(_out, [[[2.0, 3.0], [6.0, 7.0], [2.0, 3.0]]], name="embedding_forward(idx=[[1, 3, 1]], W=arange(8)"
             ".reshape(4, 2)): rows 1, 3, 1 of W")
_dW = call(embedding_backward, np.array([[[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]]]), _cache)
assert_shape(_dW, (4, 2), name="embedding_backward: dW (the shape of W)")
assert_close(_dW, [[0.0, 0.0], [5.0, 50.0], [0.0, 0.0], [2.0, 20.0]],
             name="embedding_backward(dout=[[1, 10], [2, 20], [4, 40]]) for idx=[[1, 3, 1]]: dW (token 1 occurs "
             "twice: its two gradients add up)")
_rng = np.random.default_rng(6)
_idx = _rng.integers(0, 5, size=(3, 7))
_W = _rng.normal(size=(5, 4))
_out, _cache = unpack(call(embedding_forward, _idx, _W), 2, "embedding_forward")
assert_shape(_out, (3, 7, 4), name="embedding_forward(idx (3, 7) in [0, 5), W (5, 4))")
_dout = _rng.normal(size=(3, 7, 4))
assert_close(call(embedding_backward, _dout, _cache),
             numerical_gradient_array(lambda w: embedding_forward(_idx, w)[0], _W.copy(), _dout), rtol=1e-5,
             atol=1e-7, name="embedding_backward (idx (3, 7) in [0, 5), W (5, 4)): dW against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(708)
for _N, _T, _V, _D in [(1, 1, 1, 1), (1, 9, 3, 4), (4, 1, 10, 2), (6, 13, 7, 5), (32, 50, 65, 16)]:
    _idx = _rng.integers(0, _V, size=(_N, _T))
    _W = _rng.normal(size=(_V, _D))
    _Wt = _torch.tensor(_W, requires_grad=True)
    _ref = _F.embedding(_torch.tensor(_idx), _Wt)
    _dout = _rng.normal(size=(_N, _T, _D))
    _ref.backward(_torch.tensor(_dout))
    _label = f"embedding_forward(idx ({_N}, {_T}) in [0, {_V}), W ({_V}, {_D}))"
    _out, _cache = unpack(call(embedding_forward, _idx, _W), 2, "embedding_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=0, atol=0, name=f"{_label}: out against F.embedding")
    assert_close(call(embedding_backward, _dout, _cache), _Wt.grad.numpy(), rtol=1e-12, atol=1e-12,
                 name=f"embedding_backward after {_label}: dW against F.embedding")
_out, _cache = call(embedding_forward, _idx, _W.astype(np.float32))
_dW = call(embedding_backward, _dout.astype(np.float32), _cache)
assert_that(_out.dtype == np.float32 and _dW.dtype == np.float32,
            f"embedding with a float32 W: out and dW must stay float32, got {_out.dtype} and {_dW.dtype}")
### END HIDDEN TESTS

# %% nbgrader="solution" grade_id="temporal_affine" export=true
def temporal_affine_forward(x, w, b):
    """The same affine map at every step.

    Args:
        x: array (N, T, D); w: array (D, M); b: array (M,). One float dtype.

    Returns:
        out: array (N, T, M) of that dtype, out[n, t] = x[n, t] @ w + b.
        cache: whatever temporal_affine_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    out = x @ w + b
    return out, (x, w)
    ### END SOLUTION


def temporal_affine_backward(dout, cache):
    """Backward pass of temporal_affine_forward.

    Args:
        dout: array (N, T, M); cache: from temporal_affine_forward.

    Returns:
        dx (N, T, D), dw (D, M), db (M,), of dout's dtype (dw and db summed over the batch and
        the steps). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, w = cache
    D, M = w.shape
    dout_flat = dout.reshape(-1, M)
    return dout @ w.T, x.reshape(-1, D).T @ dout_flat, dout_flat.sum(axis=0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_temporal_affine" points=2
_x = np.array([[[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]]])
_w = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0]])
_b = np.array([0.5, 0.0, -0.5])
_label = "temporal_affine_forward(x (1, 3, 2), w (2, 3), b (3,))"
_out, _cache = unpack(call(temporal_affine_forward, _x, _w, _b), 2, "temporal_affine_forward")
assert_shape(_out, (1, 3, 3), name=_label)
assert_close(_out, [[[1.5, 2.0, 2.5], [3.5, 4.0, 4.5], [0.5, 1.0, 1.5]]], name=f"{_label}: out")
_rng = np.random.default_rng(7)
_x, _w, _b = _rng.normal(size=(2, 4, 3)), _rng.normal(size=(3, 5)), _rng.normal(size=5)
_out, _cache = unpack(call(temporal_affine_forward, _x, _w, _b), 2, "temporal_affine_forward")
assert_shape(_out, (2, 4, 5), name="temporal_affine_forward(x (2, 4, 3), w (3, 5), b (5,))")
_dout = _rng.normal(size=(2, 4, 5))
_grads = unpack(call(temporal_affine_backward, _dout, _cache), 3, "temporal_affine_backward")
_expected = [numerical_gradient_array(lambda v: temporal_affine_forward(v, _w, _b)[0], _x.copy(), _dout),
             numerical_gradient_array(lambda v: temporal_affine_forward(_x, v, _b)[0], _w.copy(), _dout),
             numerical_gradient_array(lambda v: temporal_affine_forward(_x, _w, v)[0], _b.copy(), _dout)]
for _g, _e, _what in zip(_grads, _expected, ["dx", "dw", "db"], strict=True):
    assert_close(_g, _e, rtol=1e-5, atol=1e-7, name=f"temporal_affine_backward (N=2, T=4, D=3, M=5): {_what} "
                 "against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(709)
for _N, _T, _D, _M in [(1, 1, 1, 1), (1, 5, 3, 2), (4, 1, 2, 6), (3, 7, 5, 4), (16, 20, 32, 65)]:
    _x, _w, _b = _rng.normal(size=(_N, _T, _D)), _rng.normal(size=(_D, _M)), _rng.normal(size=_M)
    _ts = [_torch.tensor(a, requires_grad=True) for a in (_x, _w, _b)]
    _ref = _F.linear(_ts[0], _ts[1].T, _ts[2])
    _dout = _rng.normal(size=(_N, _T, _M))
    _ref.backward(_torch.tensor(_dout))
    _label = f"temporal_affine_forward(x ({_N}, {_T}, {_D}), w ({_D}, {_M}))"
    _out, _cache = unpack(call(temporal_affine_forward, _x, _w, _b), 2, "temporal_affine_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: out against F.linear")
    _grads = unpack(call(temporal_affine_backward, _dout, _cache), 3, "temporal_affine_backward")
    for _g, _t, _what in zip(_grads, _ts, ["dx", "dw", "db"], strict=True):
        assert_close(_g, _t.grad.numpy(), rtol=1e-10, atol=1e-12, name=f"temporal_affine_backward after {_label}: "
                     f"{_what}")
_out, _cache = call(temporal_affine_forward, _x.astype(np.float32), _w.astype(np.float32), _b.astype(np.float32))
_grads = call(temporal_affine_backward, _dout.astype(np.float32), _cache)
for _name, _a in zip(["out", "dx", "dw", "db"], [_out, *_grads], strict=True):
    assert_that(_a.dtype == np.float32, f"temporal_affine with float32 inputs: {_name} must stay float32, got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. The loss over a sequence, with a mask
#
# At every step the model predicts the next token: scores $s_{n,t} \in \mathbb{R}^V$ and the
# target $y_{n,t}$. The loss is chapter 03's softmax cross-entropy, averaged over all
# positions that count:
#
# $$L = \frac{1}{|M|} \sum_{(n,t) \in M} \Big(-s_{n,t,y_{n,t}} + \log \sum_{v} e^{s_{n,t,v}}\Big),
#   \qquad \frac{\partial L}{\partial s_{n,t}} = \frac{\mathbb{1}[(n,t) \in M]}{|M|}
#   \big(\operatorname{softmax}(s_{n,t}) - e_{y_{n,t}}\big),$$
#
# where $M$ is the set of positions whose `mask` is True. Sequences in a batch often have
# different lengths; the short ones are **padded** to the longest, and the padding must
# neither count in the loss nor in its average — dividing by all $N T$ positions would make
# the loss depend on how much padding the batch happens to have. This is PyTorch's
# `F.cross_entropy(..., ignore_index=...)` with the default mean. Subtract each row's maximum
# before exponentiating (chapter 03), or a score of 1000 overflows.
#
# **A batch with no position to count** (all of `mask` False) has an empty average. PyTorch
# returns `nan` there (0/0), which would then spread into every parameter. We return a loss
# of `0.0` and a zero gradient instead: such a batch teaches nothing, and changes nothing.

# %% nbgrader="solution" grade_id="temporal_softmax_loss" export=true
def temporal_softmax_loss(scores, y, mask):
    """Mean softmax cross-entropy over the positions where mask is True, in nats.

    Args:
        scores: float array (N, T, V), the unnormalized log-probabilities of every step.
        y: integer array (N, T), the targets in [0, V) (entries where mask is False are ignored
            and may hold anything, e.g. -100).
        mask: boolean array (N, T), True for the positions that count.

    Returns:
        loss: a Python float, the mean over the masked-in positions (0.0 if there are none).
        dscores: array (N, T, V) of scores' dtype, dL/dscores (zero at masked-out positions).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, T, V = scores.shape
    count = max(int(mask.sum()), 1)
    targets = np.where(mask, y, 0)[..., None]
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    nll = -np.take_along_axis(log_probs, targets, axis=2)[..., 0]
    loss = float(np.sum(nll, where=mask) / count)
    dscores = np.exp(log_probs)
    np.put_along_axis(dscores, targets, np.take_along_axis(dscores, targets, axis=2) - 1.0, axis=2)
    dscores *= (mask / count)[..., None]
    return loss, dscores.astype(scores.dtype, copy=False)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_temporal_softmax_loss" points=4
# Two equal scores: each step costs log 2; the masked-out step must not count.
_scores = np.zeros((1, 3, 2))
_y = np.array([[0, 1, 1]])
_mask = np.array([[True, True, False]])
_label = "temporal_softmax_loss(scores = 0 (1, 3, 2), y=[[0, 1, 1]], mask=[[T, T, F]])"
_loss, _ds = unpack(call(temporal_softmax_loss, _scores, _y, _mask), 2, "temporal_softmax_loss")
assert_scalar(_loss, name=f"{_label}: loss")
assert_close(_loss, np.log(2), name=f"{_label}: loss (log 2 at each of the 2 counted steps, averaged)")
assert_shape(_ds, (1, 3, 2), name=f"{_label}: dscores")
assert_close(_ds, [[[-0.25, 0.25], [0.25, -0.25], [0.0, 0.0]]],
             name=f"{_label}: dscores = (softmax - one_hot) / 2 at the counted steps, 0 at the masked one")
# a large score must not overflow
_loss, _ = call(temporal_softmax_loss, np.array([[[1000.0, 0.0]]]), np.array([[1]]), np.array([[True]]))
assert_close(_loss, 1000.0, name="temporal_softmax_loss(scores=[[[1000, 0]]], y=[[1]]): loss (subtract the max "
             "before exp)")
_rng = np.random.default_rng(8)
_scores, _y = _rng.normal(size=(3, 4, 5)), _rng.integers(0, 5, size=(3, 4))
_mask = _rng.random((3, 4)) < 0.7
_loss, _ds = unpack(call(temporal_softmax_loss, _scores, _y, _mask), 2, "temporal_softmax_loss")
assert_close(_ds, numerical_gradient_array(lambda s: temporal_softmax_loss(s, _y, _mask)[0], _scores.copy(),
                                           np.array(1.0)), rtol=1e-5, atol=1e-7,
             name="temporal_softmax_loss (N=3, T=4, V=5, random mask): dscores against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(710)
for _N, _T, _Vv, _p in [(1, 1, 1, 1.0), (1, 1, 4, 1.0), (1, 7, 3, 0.5), (4, 1, 6, 0.8), (5, 9, 11, 0.6),
                        (16, 40, 65, 0.9), (3, 5, 4, 0.1)]:
    _scores = _rng.normal(size=(_N, _T, _Vv)) * 3
    _y = _rng.integers(0, _Vv, size=(_N, _T))
    _mask = _rng.random((_N, _T)) < _p
    _mask.flat[0] = True
    _y_ignored = np.where(_mask, _y, -100)
    _st = _torch.tensor(_scores, requires_grad=True)
    _ref = _F.cross_entropy(_st.reshape(-1, _Vv), _torch.tensor(_y_ignored).reshape(-1), ignore_index=-100)
    _ref.backward()
    _label = f"temporal_softmax_loss(scores ({_N}, {_T}, {_Vv}), {_mask.sum()} of {_N * _T} positions masked in)"
    _loss, _ds = unpack(call(temporal_softmax_loss, _scores, _y_ignored, _mask), 2, "temporal_softmax_loss")
    assert_close(_loss, _ref.item(), rtol=1e-10, atol=1e-12, name=f"{_label}: loss against F.cross_entropy "
                 "with ignore_index")
    assert_close(_ds, _st.grad.numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: dscores against F.cross_entropy")
    _loss2, _ = call(temporal_softmax_loss, _scores, _y, _mask)
    assert_close(_loss2, _ref.item(), rtol=1e-10, atol=1e-12, name=f"{_label}: loss with the real targets at the "
                 "masked-out positions (they must not count)")
# extreme scores
_scores = np.array([[[800.0, -800.0, 0.0], [-1000.0, 1000.0, 999.0]]])
_ref = _F.cross_entropy(_torch.tensor(_scores[0]), _torch.tensor([1, 2])).item()
_loss, _ds = call(temporal_softmax_loss, _scores, np.array([[1, 2]]), np.ones((1, 2), dtype=bool))
assert_close(_loss, _ref, rtol=1e-10, name="temporal_softmax_loss with scores of +-1000: loss")
assert_that(np.all(np.isfinite(_ds)), "temporal_softmax_loss with scores of +-1000: dscores is not finite")
# everything masked out: 0.0 and a zero gradient, as stated
_loss, _ds = call(temporal_softmax_loss, _rng.normal(size=(2, 3, 4)), np.zeros((2, 3), dtype=int),
                  np.zeros((2, 3), dtype=bool))
assert_close(_loss, 0.0, name="temporal_softmax_loss with every position masked out: loss (0.0, as stated)")
assert_close(_ds, np.zeros((2, 3, 4)), name="temporal_softmax_loss with every position masked out: dscores")
# float32 in, float32 gradient out
_loss, _ds = call(temporal_softmax_loss, _scores.astype(np.float32) / 100, np.array([[1, 2]]), np.ones((1, 2), bool))
assert_that(_ds.dtype == np.float32, f"temporal_softmax_loss with float32 scores: dscores must stay float32, got "
            f"{_ds.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Sampling the next token
#
# A trained language model turns its scores $s \in \mathbb{R}^V$ into a distribution over the
# next token; to write text we draw from it, append the token, and feed it back. Two knobs
# shape the draw:
#
# - **Temperature** $\tau > 0$: sample from $\operatorname{softmax}(s / \tau)$. $\tau = 1$ is the
#   model's own distribution; $\tau < 1$ sharpens it (as $\tau \to 0$ it becomes the argmax:
#   always the most likely token), $\tau > 1$ flattens it towards uniform. The division
#   comes *before* the softmax: dividing probabilities afterwards and renormalizing changes
#   nothing.
# - **Top-k**: keep only the $k$ largest scores, set the others to $-\infty$, then sample. It
#   cuts the long tail of unlikely tokens that make text derail. Our convention for ties:
#   exactly $k$ tokens are kept; among equal scores at the border, the **smaller token
#   ids** are kept (the order of a stable sort by decreasing score).
#
# To draw from a distribution $p$ with one uniform number $u \in [0, 1)$ per row, take the
# first index whose cumulative sum $p_0 + \dots + p_j$ exceeds $u$ (inverse transform
# sampling). Draw every random number from `rng` — one `rng.random(N)` per call — so that a
# seed reproduces the text.

# %% nbgrader="solution" grade_id="sample_token" export=true
def sample_token(logits, rng, temperature=1.0, top_k=None):
    """Draw one token per row from softmax(logits / temperature), optionally restricted to the top k.

    Args:
        logits: float array (N, V), unnormalized log-probabilities.
        rng: a numpy Generator, the only source of randomness (one rng.random(N) per call).
        temperature: float > 0.
        top_k: None (all V tokens) or an int >= 1: only the k largest logits of each row can be
            drawn. Exactly min(k, V) tokens are kept; among equal logits at the border, the
            smaller token ids are kept.

    Returns:
        idx: integer array (N,), the drawn token of each row. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, V = logits.shape
    z = logits / temperature
    if top_k is not None and top_k < V:
        order = np.argsort(-z, axis=1, kind="stable")
        dropped = np.zeros((N, V), dtype=bool)
        np.put_along_axis(dropped, order[:, top_k:], True, axis=1)
        z = np.where(dropped, -np.inf, z)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cumulative = np.cumsum(p, axis=1)
    u = rng.random(N) * cumulative[:, -1]
    idx = (cumulative <= u[:, None]).sum(axis=1)
    return np.minimum(idx, V - 1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_sample_token" points=4
_logits = np.array([[0.0, 3.0, 1.0, 2.9], [5.0, -1.0, 0.0, 4.0]])
_idx = assert_seeded(lambda rng: call(sample_token, np.tile(_logits, (20, 1)), rng), "sample_token(logits (40, 4), rng)")
assert_shape(_idx, (40,), name="sample_token(logits (40, 4), rng): idx")
assert_that(np.issubdtype(np.asarray(_idx).dtype, np.integer), f"sample_token must return integers, got "
            f"{np.asarray(_idx).dtype}")
assert_that(np.all((_idx >= 0) & (_idx < 4)), f"sample_token: token ids must lie in [0, 4), got {_idx}")
_idx = call(sample_token, np.tile(_logits, (50, 1)), np.random.default_rng(0), top_k=1)
assert_close(_idx, np.tile([1, 0], 50), name="sample_token(top_k=1) on 100 rows: the argmax of each row")
_idx = call(sample_token, _logits, np.random.default_rng(0), temperature=1e-3)
assert_close(_idx, [1, 0], name="sample_token(temperature=1e-3): (almost) the argmax of each row")
# frequencies over many draws: softmax(logits / T) restricted to the top k
_row = np.array([1.0, 0.0, 2.0, -1.0, 1.5])
_draws = call(sample_token, np.tile(_row, (20000, 1)), np.random.default_rng(1), temperature=2.0, top_k=3)
_freq = np.bincount(_draws, minlength=5) / 20000
_p = np.exp(np.array([1.0, -np.inf, 2.0, -np.inf, 1.5]) / 2.0)
_p /= _p.sum()
assert_close(_freq, _p, rtol=0, atol=0.02, name="sample_token(logits=[1, 0, 2, -1, 1.5], temperature=2, top_k=3): "
             "frequencies of 20000 draws vs softmax(logits / 2) over the 3 largest")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(711)
# the same draws with every seed for a single row of a peaked distribution, large logits included
_idx = call(sample_token, np.array([[1000.0, -1000.0, 999.0]]), np.random.default_rng(5), temperature=1e-4)
assert_close(_idx, [0], name="sample_token(logits=[[1000, -1000, 999]], temperature=1e-4): the argmax, without "
             "overflow")
_draws = call(sample_token, np.tile([[800.0, 800.0 + np.log(3.0), 0.0]], (20000, 1)), np.random.default_rng(6))
_freq = np.bincount(_draws, minlength=3) / 20000
assert_close(_freq, [0.25, 0.75, 0.0], rtol=0, atol=0.015, name="sample_token(logits=[800, 800 + log 3, 0]) "
             "frequencies (subtract the max before exp)")
for _Vv, _T, _k in [(2, 1.0, None), (6, 0.5, 2), (10, 1.7, 4), (7, 1.0, 7), (5, 3.0, 1), (65, 0.8, 10)]:
    _row = _rng.normal(size=_Vv) * 2
    _draws = call(sample_token, np.tile(_row, (30000, 1)), np.random.default_rng(_Vv), temperature=_T, top_k=_k)
    _freq = np.bincount(_draws, minlength=_Vv) / 30000
    _z = _row / _T
    if _k is not None:
        _z = np.where(np.argsort(np.argsort(-_z, kind="stable"), kind="stable") < _k, _z, -np.inf)
    _p = np.exp(_z - _z.max())
    _p /= _p.sum()
    assert_close(_freq, _p, rtol=0, atol=0.015, name=f"sample_token(V={_Vv}, temperature={_T}, top_k={_k}): "
                 "frequencies of 30000 draws")
    assert_that(np.all(_freq[_p == 0] == 0), f"sample_token(V={_Vv}, top_k={_k}): drew a token outside the top k")
# ties at the border: exactly k kept, the smaller ids first
_draws = call(sample_token, np.tile([[0.0, 1.0, 1.0, 1.0, 2.0]], (20000, 1)), np.random.default_rng(9), top_k=3)
_freq = np.bincount(_draws, minlength=5) / 20000
_p = np.exp([-np.inf, 1.0, 1.0, -np.inf, 2.0])
_p /= _p.sum()
assert_close(_freq, _p, rtol=0, atol=0.015, name="sample_token(logits=[0, 1, 1, 1, 2], top_k=3): frequencies "
             "(exactly 3 kept: tokens 4, 1, 2; the tie at the border keeps the smaller ids)")
# a batch of different rows
_logits = _rng.normal(size=(3, 4)) * 2
_draws = call(sample_token, np.repeat(_logits, 10000, axis=0), np.random.default_rng(10), temperature=0.7)
for _r in range(3):
    _p = np.exp(_logits[_r] / 0.7 - (_logits[_r] / 0.7).max())
    _p /= _p.sum()
    _freq = np.bincount(_draws[_r * 10000:(_r + 1) * 10000], minlength=4) / 10000
    assert_close(_freq, _p, rtol=0, atol=0.02, name=f"sample_token on a batch of 3 different rows: row {_r}'s "
                 "frequencies")
assert_seeded(lambda rng: call(sample_token, np.zeros((50, 6)), rng, temperature=0.5, top_k=4),
              "sample_token(zeros (50, 6), temperature=0.5, top_k=4)")
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Vanishing and exploding gradients
#
# Backpropagation through time multiplies the gradient by one Jacobian per step:
# $\partial h_T / \partial h_t = \prod_{s=t+1}^{T} \operatorname{diag}(1 - h_s^2)\, W_{hh}$ for the
# vanilla RNN. Its size over $T - t$ steps is governed by the **spectral radius** $\rho$ of
# $W_{hh}$ (its largest eigenvalue modulus) and by the derivative of tanh, which is at most 1
# and close to 0 when a unit saturates.
#
# Below, $W_{hh} = \rho Q$ with $Q$ a random orthogonal matrix, so every eigenvalue has modulus
# exactly $\rho$. For a loss $L = u^\top h_T$ ($u$ a random unit vector) we measure
# $\|\partial L / \partial h_t\|$ for every $t$: it is the `dh0` that your `rnn_backward` returns
# when the sequence is restarted at step $t$ from the state $h_t$. Left, the inputs are weak and
# the state stays in tanh's linear range; right, they are strong and many units saturate. The
# dashed lines are $\rho^{T-t}$. The LSTM is measured the same way (its state is $(h, c)$), once
# with PyTorch's initialization and once with the forget gate's bias raised by 3.

# %%
import time

from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from dllib.ch03_mlp import affine_backward, affine_forward
from dllib.ch05_optimization import Adam, clip_grad_norm, cosine_lr

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several


def state_gradient_norms(cell, x, params, rng):
    """||dL/d(state at step t)|| for t = 0..T-1, L = u . h_T with u a random unit vector per sequence.

    Runs the sequence once, then restarts it at every step t from the state it had there and
    reads the initial-state gradient of the rest. Returns the mean norm over the batch, shape (T,).
    """
    N, T, _ = x.shape
    H = params["W_hh"].shape[1]
    u = rng.normal(size=(N, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    zeros = np.zeros((N, H))
    if cell == "rnn":
        h, _ = rnn_forward(x, zeros, params)
        states = [(zeros,)] + [(h[:, t],) for t in range(T - 1)]
    else:
        h, c, _ = lstm_forward(x, zeros, zeros, params)
        states = [(zeros, zeros)] + [(h[:, t], c[:, t]) for t in range(T - 1)]
    norms = np.empty(T)
    for t in range(T):           # restart at step t: the state before x_t is states[t]
        dh = np.zeros((N, T - t, H))
        dh[:, -1] = u
        if cell == "rnn":
            _, cache = rnn_forward(x[:, t:], *states[t], params)
            _, dstate, _ = rnn_backward(dh, cache)
        else:
            _, _, cache = lstm_forward(x[:, t:], *states[t], params)
            _, dh0, dc0, _ = lstm_backward(dh, cache)
            dstate = np.concatenate([dh0, dc0], axis=1)
        norms[t] = np.linalg.norm(dstate, axis=1).mean()
    return norms


def gradient_flow_experiment(input_scale, radii=(0.5, 0.9, 1.0, 1.1, 1.5), T=60, H=32, N=16, seed=0):
    """Gradient norms over t for a vanilla RNN at each spectral radius and for two LSTMs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, H))
    Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    curves = {}
    for rho in radii:
        params = init_rnn_params("rnn", H, H, np.random.default_rng(seed))
        params["W_hh"] = rho * Q
        params["W_ih"] *= input_scale
        params["b_ih"][:] = params["b_hh"][:] = 0.0     # no bias: h = 0 is where tanh is linear
        curves[f"RNN, ρ = {rho}"] = state_gradient_norms("rnn", x, params, np.random.default_rng(seed))
    for forget_bias in (0.0, 3.0):
        params = init_rnn_params("lstm", H, H, np.random.default_rng(seed))
        params["W_ih"] *= input_scale
        params["b_hh"][H:2 * H] += forget_bias     # gate order i, f, g, o: rows H..2H are the forget gate
        label = "LSTM, default init" if forget_bias == 0 else f"LSTM, forget bias +{forget_bias:g}"
        curves[label] = state_gradient_norms("lstm", x, params, np.random.default_rng(seed))
    return curves


flow_weak, flow_strong = gradient_flow_experiment(input_scale=0.001), gradient_flow_experiment(input_scale=1.0)

fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True)
for ax, curves, title in [(axes[0], flow_weak, "weak inputs (tanh almost linear)"),
                          (axes[1], flow_strong, "strong inputs (tanh saturates)")]:
    steps_back = np.arange(len(next(iter(curves.values()))))[::-1]    # T - 1 - t
    for k, (label, norms) in enumerate(curves.items()):
        ls = "-" if label.startswith("RNN") else "-."
        ax.semilogy(steps_back, norms, ls, color=f"C{k}", label=label)
        if label.startswith("RNN"):
            rho = float(label.split("= ")[1])
            ax.semilogy(steps_back, rho ** (steps_back + 1), ":", color=f"C{k}", lw=1)
    ax.set(xlabel="steps back from the end, T − 1 − t", ylabel="‖∂L/∂h_t‖ (log scale)", title=title,
           ylim=(1e-12, 1e8))
axes[1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
plt.show()
for name, curves in [("weak inputs", flow_weak), ("strong inputs", flow_strong)]:
    print(f"{name}: gradient {len(next(iter(curves.values()))) - 1} steps back, relative to the last step: "
          + ", ".join(f"{label} {norms[0] / norms[-1]:.1e}" for label, norms in curves.items()))

# %% [markdown]
# With weak inputs the state stays near 0, where tanh is linear, and the RNN follows the
# dashed lines: the gradient is multiplied by $\rho$ at every step back. With $\rho = 0.5$ it
# loses 18 orders of magnitude in 60 steps ($0.5^{60} \approx 10^{-18}$), with $\rho = 1.1$ it
# grows — **vanishing** and **exploding** gradients; only $\rho = 1$ keeps it steady. $\rho =
# 1.5$ shows both faces of tanh: its state grows by 1.5 per step until the units saturate,
# which flattens the curve over the last steps; further back, where the state was still small,
# the gradient explodes at the rate 1.5. With strong inputs the units saturate from the start,
# each step adds a factor $1 - h_s^2 < 1$, and every radius vanishes. In practice a tanh RNN
# mostly forgets; when it does explode, gradient clipping catches it. PyTorch's initialization
# gives a random $W_{hh}$ of spectral radius about $1/\sqrt{3} \approx 0.58$: deep in the
# vanishing regime.
#
# The LSTM's cell state is updated by $c_t = f_t \odot c_{t-1} + i_t \odot g_t$: its gradient
# is multiplied by the forget gate $f_t$ at each step — no weight matrix, no tanh derivative.
# With PyTorch's initialization $f_t \approx \sigma(0) = 0.5$, so an *untrained* LSTM forgets
# too; with the forget bias raised ($f_t \approx \sigma(3) \approx 0.95$) the gradient survives
# the whole sequence, whatever the inputs. Training can learn such gates where the task needs
# memory, which is why raising the forget bias at initialization (to 1 or more) is common
# practice (Jozefowicz et al., 2015).

# %% [markdown]
# **Gradient-flow explorer.** Now try it yourself, on your own layers: pick a cell, the
# spectral radius of $W_{hh}$ (every gate block of a GRU or LSTM gets the same radius), the
# sequence length, the size of the inputs and the bias of the forget gate (LSTM) or update
# gate (GRU). The left plot shows $\|\partial L / \partial x_t\|$ for a loss on the last
# hidden state — how far back the gradient reaches — for every cell at once (the chosen one
# bold); the right one shows some hidden units of the chosen cell over time. Things to try: the
# RNN at radius 0.9, 1.0 and 1.1 with small inputs; the same with input scale 3; an LSTM with
# gate bias −3, 0 and 3.

# %%
from IPython.display import display

from helpers.explorers.rnn import gradient_flow_explorer

flow_explorer = gradient_flow_explorer({"rnn": (rnn_forward, rnn_backward), "gru": (gru_forward, gru_backward),
                                        "lstm": (lstm_forward, lstm_backward)})
display(flow_explorer)

# %% [markdown]
# ## 10. A memory task: the adding problem
#
# Each input sequence holds pairs $(v_t, m_t)$: a random value $v_t \sim U(0, 1)$ and a marker
# $m_t \in \{0, 1\}$ that is 1 at exactly two steps, one in each half of the sequence. The
# target is the sum of the two marked values (Hochreiter & Schmidhuber, 1997). A network that
# ignores the inputs does best by predicting 1, the mean of the target, with a mean squared
# error of $\operatorname{Var}(v_a + v_b) = 2/12 \approx 0.167$: that is the baseline to beat.
# To get below it, the network must keep the first marked value in its state over up to a
# whole sequence.
#
# A vanilla RNN and an LSTM, both with a linear read-out of the last hidden state, are
# trained below with the same budget: the same number of Adam steps on fresh random batches,
# the same learning rate and gradient clipping at norm 1 (`clip_grad_norm` from chapter 05).
# The LSTM starts with its forget bias raised by 1 (previous experiment).

# %%
ADD_T, ADD_H = 50, 32


def adding_batch(n, T, rng):
    """n sequences of the adding problem: x (n, T, 2) as (value, marker), y (n,) the marked sum."""
    values = rng.random((n, T))
    markers = np.zeros((n, T))
    first, second = rng.integers(0, T // 2, size=n), rng.integers(T // 2, T, size=n)
    markers[np.arange(n), first] = markers[np.arange(n), second] = 1.0
    return np.stack([values, markers], axis=2), (values * markers).sum(axis=1)


def adding_forward(cell, params, x):
    """Prediction (n,) from the last hidden state, and what adding_backward needs."""
    h0 = np.zeros((len(x), params["W_hh"].shape[1]))
    if cell == "rnn":
        h, cache = rnn_forward(x, h0, params)
    else:
        h, _, cache = lstm_forward(x, h0, h0, params)
    pred, head = affine_forward(h[:, -1], params["W_out"], params["b_out"])
    return pred[:, 0], (cache, head, h.shape)


def adding_backward(dpred, cell, caches):
    cache, head, shape = caches
    dh = np.zeros(shape)
    dh[:, -1], dW_out, db_out = affine_backward(dpred[:, None], head)
    grads = rnn_backward(dh, cache)[2] if cell == "rnn" else lstm_backward(dh, cache)[3]
    return {**grads, "W_out": dW_out, "b_out": db_out}


def train_adding(cell, steps=1500, batch_size=32, lr=3e-3, max_norm=1.0, seed=0):
    """Adam with gradient clipping on fresh batches; test MSE (1000 fixed sequences) every 50 steps."""
    rng = np.random.default_rng(seed)
    params = init_rnn_params(cell, 2, ADD_H, rng)
    if cell == "lstm":
        params["b_hh"][ADD_H:2 * ADD_H] += 1.0
    params["W_out"] = rng.normal(0.0, 1.0 / np.sqrt(ADD_H), size=(ADD_H, 1))
    params["b_out"] = np.ones(1)                       # start at the baseline prediction 1
    optimizer = Adam(params, lr=lr)
    x_test, y_test = adding_batch(1000, ADD_T, np.random.default_rng(1234))
    curve = []
    for step in (bar := tqdm(range(1, steps + 1), desc=f"adding problem, {cell.upper()}", unit="step")):
        x, y = adding_batch(batch_size, ADD_T, rng)
        pred, caches = adding_forward(cell, params, x)
        grads = adding_backward(2.0 * (pred - y) / len(y), cell, caches)     # d/dpred of the mean squared error
        clip_grad_norm(grads, max_norm)
        optimizer.lr = cosine_lr(step, lr, steps)
        optimizer.step(grads)
        if step % 50 == 0:
            curve.append(float(np.mean((adding_forward(cell, params, x_test)[0] - y_test) ** 2)))
            bar.set_postfix(test_mse=f"{curve[-1]:.4f}")
    return params, curve


start = time.perf_counter()
adding_curves = {cell: train_adding(cell)[1] for cell in ("rnn", "lstm")}
adding_seconds = time.perf_counter() - start
ADDING_BASELINE = 1.0 / 6.0
for cell, curve in adding_curves.items():
    print(f"{cell.upper():5s} test MSE {curve[-1]:.4f} = {curve[-1] / ADDING_BASELINE:6.1%} of the baseline's "
          f"{ADDING_BASELINE:.3f}")
print(f"the LSTM's error is {adding_curves['rnn'][-1] / adding_curves['lstm'][-1]:.0f} times smaller "
      f"(both trained in {adding_seconds:.0f} s, sequences of length {ADD_T})")

fig, ax = plt.subplots(figsize=(7, 3.5))
for cell, curve in adding_curves.items():
    ax.semilogy(50 * np.arange(1, len(curve) + 1), curve, label=cell.upper())
ax.axhline(ADDING_BASELINE, ls="--", color="gray", label="predict 1 (baseline)")
ax.set(xlabel="training step", ylabel="test MSE (log scale)", title=f"Adding problem, T = {ADD_T}")
ax.legend()
plt.show()

# %% [markdown]
# The RNN hovers at the baseline: the first marked value enters the state tens of steps before
# the answer is needed, and the gradient that should teach the network to keep it there has
# vanished on the way back. The LSTM stores it in its cell state — its forget gates stay open
# for as long as needed — and drives the error far below the baseline.

# %% [markdown]
# ## 11. A character-level language model
#
# Now a real sequence: a public-domain text, one character at a time. The model reads a
# character, embeds it as a vector (`embedding_forward`), updates an LSTM state, and scores
# every possible next character (`temporal_affine_forward`); the loss is the cross-entropy of
# the true next character (`temporal_softmax_loss`).
#
# The text is far too long to backpropagate through in one piece, so training uses
# **truncated backpropagation through time**: the training text is cut into `BATCH` parallel
# streams, read in chunks of `CHUNK` characters. Each chunk's forward pass starts from the
# final state $(h, c)$ of the previous chunk in the same stream, so the model sees context
# beyond the chunk, but the backward pass stops at the chunk's start (the incoming state is
# treated as a constant). The last 10 % of the text is held out for validation.

# %%
from helpers.data import load_text

corpus_text = load_text("tinyshakespeare")    # ships with the course: helpers/texts/SOURCES.md

chars = sorted(set(corpus_text))
char_to_id = {ch: i for i, ch in enumerate(chars)}
corpus_ids = np.array([char_to_id[ch] for ch in corpus_text])
split = int(0.9 * len(corpus_ids))
train_ids, val_ids = corpus_ids[:split], corpus_ids[split:]
V = len(chars)
print(f"{len(corpus_text):,} characters, {V} distinct; {len(train_ids):,} for training, {len(val_ids):,} for validation")
print(repr(corpus_text[:200]))

# %% [markdown]
# **Baselines.** How good is "good"? Losses are reported in **bits per character**: the
# cross-entropy in nats divided by $\ln 2$ — the average number of bits an ideal coder using
# the model's predictions would need per character. Two models without any learning serve as
# a yardstick, both fitted on the training part with add-one (Laplace) smoothing and measured
# on the validation part: a **unigram** model (each character's frequency, ignoring context)
# and a **bigram** model (the frequency of each character given the one before).

# %%
def bits_per_char(probs):
    """Average -log2 of the probabilities a model gave the characters that came."""
    return float(-np.mean(np.log2(probs)))


unigram = (np.bincount(train_ids, minlength=V) + 1.0) / (len(train_ids) + V)
bigram_counts = np.ones((V, V))                                   # add-one smoothing
np.add.at(bigram_counts, (train_ids[:-1], train_ids[1:]), 1.0)
bigram = bigram_counts / bigram_counts.sum(axis=1, keepdims=True)
baselines = {"unigram": bits_per_char(unigram[val_ids]),
             "bigram": bits_per_char(bigram[val_ids[:-1], val_ids[1:]])}
print(", ".join(f"{name} {value:.3f} bits/char" for name, value in baselines.items())
      + f" (a uniform guess: log2({V}) = {np.log2(V):.3f})")

# %% [markdown]
# **Training.** Embedding of size 32, an LSTM with 128 hidden units, Adam with a cosine
# schedule and gradient clipping at norm 5, trained for a fixed number of steps (one step = one
# chunk of every stream), in float32: half the memory traffic of float64, and your functions
# keep the dtype they are given.

# %%
BATCH, CHUNK, EMBED, HIDDEN = 32, 64, 32, 128
LM_STEPS, LM_LR, LM_CLIP = 2000, 1e-2, 5.0


def init_char_lm(rng):
    params = init_rnn_params("lstm", EMBED, HIDDEN, rng)
    params["b_hh"][HIDDEN:2 * HIDDEN] += 1.0
    params["embed"] = rng.normal(0.0, 1.0, size=(V, EMBED))
    params["W_out"] = rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), size=(HIDDEN, V))
    params["b_out"] = np.zeros(V)
    return {name: value.astype(np.float32) for name, value in params.items()}


def char_lm_forward(params, idx, h0, c0):
    """Scores (N, T, V) of the next character after each of idx (N, T), the final state, caches."""
    emb, emb_cache = embedding_forward(idx, params["embed"])
    lstm_params = {k: params[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    h, c, lstm_cache = lstm_forward(emb, h0, c0, lstm_params)
    scores, out_cache = temporal_affine_forward(h, params["W_out"], params["b_out"])
    return scores, (h[:, -1], c[:, -1]), (emb_cache, lstm_cache, out_cache)


def char_lm_backward(dscores, caches):
    emb_cache, lstm_cache, out_cache = caches
    dh, dW_out, db_out = temporal_affine_backward(dscores, out_cache)
    demb, _, _, grads = lstm_backward(dh, lstm_cache)       # truncated: the incoming state gets no gradient
    return {**grads, "embed": embedding_backward(demb, emb_cache), "W_out": dW_out, "b_out": db_out}


def streams(ids, n):
    """Cut ids into n equal parallel streams, shape (n, len(ids) // n)."""
    length = len(ids) // n
    return ids[:n * length].reshape(n, length)


def validation_bits(params, ids, n_streams=64, chunk=256):
    """Bits per character on ids, read as parallel streams with the state carried across chunks."""
    data = streams(ids, n_streams)
    h = c = np.zeros((n_streams, HIDDEN), dtype=np.float32)
    total, count = 0.0, 0
    for start in range(0, data.shape[1] - 1, chunk):
        x, y = data[:, start:start + chunk], data[:, start + 1:start + chunk + 1]
        x = x[:, :y.shape[1]]
        scores, (h, c), _ = char_lm_forward(params, x, h, c)
        loss, _ = temporal_softmax_loss(scores, y, np.ones(y.shape, dtype=bool))
        total, count = total + loss * y.size, count + y.size
    return total / count / np.log(2.0)


class CharLMTrainer:
    """Truncated BPTT with Adam, a cosine schedule over total_steps and clipping; run() continues where it stopped."""

    def __init__(self, total_steps=LM_STEPS, lr=LM_LR, max_norm=LM_CLIP, seed=0):
        rng = np.random.default_rng(seed)
        self.params = init_char_lm(rng)
        self.optimizer = Adam(self.params, lr=lr)
        self.total_steps, self.lr, self.max_norm = total_steps, lr, max_norm
        self.data = streams(train_ids, BATCH)
        self.offset = self.position = int(rng.integers(0, CHUNK))    # where the first chunk starts
        self.h = self.c = np.zeros((BATCH, HIDDEN), dtype=np.float32)
        self.step, self.seconds = 0, 0.0
        self.history = {"train": [], "val_step": [], "val": []}

    def run(self, steps, eval_every=100, eval_chars=40_000):
        """Train for steps more chunks; validation bits/char on the first eval_chars every eval_every steps."""
        start, mask = time.perf_counter(), np.ones((BATCH, CHUNK), dtype=bool)
        for _ in (bar := tqdm(range(steps), desc="character LSTM", unit="step")):
            if self.position + CHUNK + 1 > self.data.shape[1]:     # end of the streams: start again
                self.position, self.h, self.c = self.offset, np.zeros_like(self.h), np.zeros_like(self.c)
            p = self.position
            x, y = self.data[:, p:p + CHUNK], self.data[:, p + 1:p + CHUNK + 1]
            scores, (self.h, self.c), caches = char_lm_forward(self.params, x, self.h, self.c)
            loss, dscores = temporal_softmax_loss(scores, y, mask)
            grads = char_lm_backward(dscores, caches)
            clip_grad_norm(grads, self.max_norm)
            self.optimizer.lr = cosine_lr(self.step, self.lr, self.total_steps)
            self.optimizer.step(grads)
            self.position += CHUNK
            self.step += 1
            self.history["train"].append(loss / np.log(2.0))
            if self.step % eval_every == 0:
                self.history["val_step"].append(self.step)
                self.history["val"].append(validation_bits(self.params, val_ids[:eval_chars]))
                bar.set_postfix(train=f"{self.history['train'][-1]:.2f}", val=f"{self.history['val'][-1]:.2f} bits")
        self.seconds += time.perf_counter() - start


def generate(params, prefix, length, temperature, seed=0):
    """Continue prefix by length characters drawn with sample_token at the given temperature."""
    rng = np.random.default_rng(seed)
    lstm_params = {k: params[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    h = c = np.zeros((1, HIDDEN), dtype=np.float32)
    ids = [char_to_id[ch] for ch in prefix]
    for i in range(len(prefix) + length - 1):
        h, c, _ = lstm_step_forward(params["embed"][ids[i]][None], h, c, lstm_params)
        if i >= len(prefix) - 1:
            logits = h @ params["W_out"] + params["b_out"]
            ids.append(int(sample_token(logits, rng, temperature=temperature)[0]))
    return "".join(chars[i] for i in ids)


trainer = CharLMTrainer()
print(f"{sum(w.size for w in trainer.params.values()):,} parameters")
trainer.run(LM_STEPS // 2)
print(f"after {trainer.step} steps ({trainer.seconds:.0f} s): validation {trainer.history['val'][-1]:.3f} bits/char "
      f"(first {40_000:,} validation characters)\n")
print(generate(trainer.params, "\n", 200, temperature=1.0))

# %% [markdown]
# Halfway, the model has picked up the look of the text, not yet its words. The second half
# of the training continues in the next cell (each cell stays under a minute), with the
# learning rate decaying to zero.

# %%
trainer.run(LM_STEPS - trainer.step)
lm_params, lm_history = trainer.params, trainer.history
lm_val_bits = validation_bits(lm_params, val_ids)
print(f"validation: {lm_val_bits:.3f} bits/char on all {len(val_ids):,} validation characters after "
      f"{trainer.step} steps ({trainer.step * BATCH * CHUNK:,} characters read) in {trainer.seconds:.0f} s; "
      f"unigram {baselines['unigram']:.3f}, bigram {baselines['bigram']:.3f}")

fig, ax = plt.subplots(figsize=(8, 3.8))
train_bits = np.convolve(lm_history["train"], np.ones(20) / 20, mode="valid")
ax.plot(np.arange(20, len(lm_history["train"]) + 1), train_bits, label="training chunks (mean of 20)")
ax.plot(lm_history["val_step"], lm_history["val"], "o-", label="validation")
for (name, value), color in zip(baselines.items(), ["C3", "C4"], strict=True):
    ax.axhline(value, ls="--", color=color, label=f"{name} baseline")
ax.set(xlabel="training step", ylabel="bits per character", title="Character-level LSTM", ylim=(1.0, 5.0))
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# **Sampling.** To generate text, feed the model a prefix, then repeatedly draw the next
# character from its predicted distribution (`sample_token`) and feed it back in, one step at
# a time with `lstm_step_forward`. The temperature divides the scores before the softmax: at
# 0.5 the model sticks to its most likely choices (more regular, more repetitive); at 1.0 it
# samples from the distribution it learned.

# %%
for temperature in (0.5, 1.0):
    print(f"--- temperature {temperature} ---")
    print(generate(lm_params, "\n", 300, temperature))

# %% [markdown]
# In a couple of minutes on a CPU the model has learned the look of the text — line breaks,
# capitals, punctuation, common short words — and its validation loss is well below both
# baselines (printed above): it uses far more context than the one character the bigram
# model sees. Many words are still invented: it knows which letters follow which over a few
# characters, not yet what the words mean. More hidden units, stacked LSTM layers and much
# longer training keep lowering the loss; Shannon estimated that English carries about one
# bit per character, and large models trained for days come close to it. Chapter 08 turns to
# attention, which replaces the recurrent state by direct access to every earlier position.

# %% [markdown]
# **Sampling explorer.** Generate with your trained model and your `sample_token`: move the
# temperature, switch top-$k$ on, type a prefix (characters of the text only) and press
# "sample" for another draw. The bars show how often your sampler picks each of the 20 most
# likely next characters after the prefix (4000 draws); the dots are the model's own
# probabilities at temperature 1. Low temperatures and small $k$ sharpen the distribution, high
# temperatures flatten it.

# %%
from helpers.explorers.rnn import sampling_explorer


class NextCharScores:
    """The trained model's scores for the character after a text; remembers its last state."""

    def __init__(self, params):
        self.params = params
        self.lstm_params = {k: params[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
        self.context = None

    def __call__(self, text):
        context = "\n" + text                                       # the model starts after a new line
        if self.context is None or not context.startswith(self.context):
            self.context = ""
            self.h = self.c = np.zeros((1, HIDDEN), dtype=np.float32)
        for ch in context[len(self.context):]:
            x = self.params["embed"][char_to_id[ch]][None]
            self.h, self.c, _ = lstm_step_forward(x, self.h, self.c, self.lstm_params)
        self.context = context
        return (self.h @ self.params["W_out"] + self.params["b_out"])[0]


sample_explorer = sampling_explorer(NextCharScores(lm_params), chars, sample_token, prefix="ROMEO:", temperature=0.8,
                                    length=200)
display(sample_explorer)
