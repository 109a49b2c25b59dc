"""Plausible wrong solutions for chapter 07; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``embedding_backward``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "07_rnn.py")

EMBEDDING = [
    # embedding_backward
    edit("embedding", "dW[idx] += dout: with repeated token ids numpy writes each row once (the last write "
         "wins), so the gradients of a repeated token do not add up; use np.add.at(dW, idx, dout)",
         ("np.add.at(dW, idx.reshape(-1), dout.reshape(-1, D))", "dW[idx.reshape(-1)] += dout.reshape(-1, D)"),
         kind="edge"),
    edit("embedding", "divides the embedding gradient by the number of positions N*T: it is a sum",
         ("    return dW\n", "    return dW / idx.size\n")),
    edit("embedding", "collects dW in float32 (np.zeros(..., dtype=np.float32)): keep dout's dtype",
         ("dW = np.zeros((V, D), dtype=dout.dtype)", "dW = np.zeros((V, D), dtype=np.float32)"), kind="dtype"),
    # embedding_forward
    edit("embedding", "looks up row idx - 1: token ids start at 0, not 1",
         ("out = W[idx]", "out = W[idx - 1]")),
    edit("embedding", "looks up the flattened ids: the output is (N*T, D) instead of (N, T, D)",
         ("out = W[idx]", "out = W[idx.reshape(-1)]"), kind="edge"),
    edit("embedding", "returns the embeddings in float32: keep W's dtype",
         ("out = W[idx]", "out = W[idx].astype(np.float32)"), kind="dtype"),
]

INIT_PARAMS = [
    edit("init_params", "bound 1/H instead of 1/sqrt(H)", ("bound = 1.0 / np.sqrt(H)", "bound = 1.0 / H")),
    edit("init_params", "draws W_ih from numpy's global generator (np.random.uniform) instead of rng",
         ('"W_ih": rng.uniform(-bound, bound, size=(G * H, D)),',
          '"W_ih": np.random.uniform(-bound, bound, size=(G * H, D)),'), kind="rng"),
    edit("init_params", "always 4 blocks (the LSTM's), whatever the cell: G must be 1, 3 or 4",
         ("G = GATES[cell]", "G = 4"), kind="ignored"),
    edit("init_params", "W_ih drawn from a normal distribution with standard deviation 1/sqrt(H): torch draws "
         "uniformly from [-1/sqrt(H), 1/sqrt(H)]",
         ('"W_ih": rng.uniform(-bound, bound, size=(G * H, D)),', '"W_ih": rng.normal(0.0, bound, size=(G * H, D)),')),
    edit("init_params", "W_ih in the layout (D, G*H): torch stores weights as (out, in) = (G*H, D)",
         ('"W_ih": rng.uniform(-bound, bound, size=(G * H, D)),', '"W_ih": rng.uniform(-bound, bound, size=(D, G * H)),')),
]

RNN_STEP = [
    # rnn_step_forward
    edit("rnn_step", "forgets the second bias b_hh (torch has two: b_ih and b_hh)",
         (' + params["b_hh"]', ""), kind="ignored"),
    edit("rnn_step", "multiplies h_prev by W_hh instead of W_hh^T (torch stores weights as (out, in))",
         ('h_prev @ params["W_hh"].T', 'h_prev @ params["W_hh"]')),
    edit("rnn_step", "returns the new state in float32: keep the input dtype",
         ("h = np.tanh(a)", "h = np.tanh(a).astype(np.float32)"), kind="dtype"),
    # rnn_step_backward
    edit("rnn_step", "tanh'(a) computed as 1 - a**2 on the pre-activation a: it is 1 - tanh(a)**2 = 1 - h**2",
         ("da = dh * (1.0 - h * h)", "da = dh * (1.0 - np.arctanh(h) ** 2)")),
    edit("rnn_step", "forgets the derivative of tanh in the backward pass",
         ("da = dh * (1.0 - h * h)", "da = dh * 1.0")),
    edit("rnn_step", "bias gradient averaged over the batch instead of summed",
         ("db = da.sum(axis=0)", "db = da.mean(axis=0)")),
    edit("rnn_step", "dW_hh computed as h_prev^T da (transposed): it is da^T h_prev, of W_hh's (out, in) layout",
         ('"W_hh": da.T @ h_prev', '"W_hh": h_prev.T @ da')),
    edit("rnn_step", "dh_prev computed with W_hh^T: the forward pass used h_prev W_hh^T, so dh_prev = da W_hh",
         ('da @ params["W_hh"], grads', 'da @ params["W_hh"].T, grads')),
    edit("rnn_step", "returns a zero gradient for b_hh (it gets the same gradient as b_ih)",
         ('"b_hh": db.copy()', '"b_hh": np.zeros_like(db)'), kind="ignored"),
]

RNN_SEQ = [
    # rnn_forward
    edit("rnn_seq", "ignores h0: starts every sequence from zeros",
         ("    prev = h0\n", "    prev = np.zeros_like(h0)\n"), kind="ignored"),
    edit("rnn_seq", "forgets the second bias b_hh",
         ('xw = x @ params["W_ih"].T + (params["b_ih"] + params["b_hh"])', 'xw = x @ params["W_ih"].T + params["b_ih"]'),
         kind="ignored"),
    edit("rnn_seq", "never updates the carried state: every step starts from h0",
         ("prev = h[:, t] = np.tanh(xw[:, t] + prev @ W_hhT)", "h[:, t] = np.tanh(xw[:, t] + prev @ W_hhT)")),
    edit("rnn_seq", "stores the states in float32 (np.empty(..., dtype=np.float32)): keep x's dtype",
         ("h = np.empty((N, T, h0.shape[1]), dtype=x.dtype)", "h = np.empty((N, T, h0.shape[1]), dtype=np.float32)"),
         kind="dtype"),
    # rnn_backward
    edit("rnn_seq", "BPTT without carrying dh_next: each step sees only its own dh[:, t], not the gradient "
         "coming back from the later steps",
         ("da[:, t] = (dh[:, t] + dnext) * (1.0 - h[:, t] * h[:, t])", "da[:, t] = dh[:, t] * (1.0 - h[:, t] * h[:, t])"),
         kind="graph"),
    edit("rnn_seq", "returns zeros as dh0 instead of the gradient carried back to the initial state",
         ('return da @ params["W_ih"], dnext, grads', 'return da @ params["W_ih"], np.zeros_like(h0), grads'),
         kind="ignored"),
    edit("rnn_seq", "dW_hh pairs step t's gradient with h_t instead of h_{t-1} (the state that step read)",
         ("h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)", "h_prev = h")),
    edit("rnn_seq", "walks forward in time in the backward pass: BPTT must start at the last step",
         ("for t in range(T - 1, -1, -1):", "for t in range(T):"), kind="order"),
    edit("rnn_seq", "carries the gradient back through W_hh^T: the forward pass used h W_hh^T, so it is da W_hh",
         ("dnext = da[:, t] @ W_hh", "dnext = da[:, t] @ W_hh.T")),
]

GRU_STEP = [
    # sigmoid
    edit("gru_step", "sigmoid(x) written as 1 / (1 + exp(x)): the sign of x is flipped",
         ("return 0.5 * (1.0 + np.tanh(0.5 * x))", "return 1.0 / (1.0 + np.exp(x))")),
    edit("gru_step", "sigmoid(x) = exp(x) / (1 + exp(x)) overflows for large x (inf / inf = nan)",
         ("return 0.5 * (1.0 + np.tanh(0.5 * x))", "return np.exp(x) / (1.0 + np.exp(x))"), kind="edge"),
    edit("gru_step", "sigmoid(x) written as (1 + tanh(x)) / 2: it is (1 + tanh(x / 2)) / 2",
         ("return 0.5 * (1.0 + np.tanh(0.5 * x))", "return 0.5 * (1.0 + np.tanh(x))")),
    # gru_step_forward
    edit("gru_step", "gate order (z, r, n): torch's blocks are (r, z, n), the reset gate first",
         ("r = sigmoid(a[:, :H] + b[:, :H])\n    z = sigmoid(a[:, H:2 * H] + b[:, H:2 * H])",
          "z = sigmoid(a[:, :H] + b[:, :H])\n    r = sigmoid(a[:, H:2 * H] + b[:, H:2 * H])"), kind="order"),
    edit("gru_step", "reset gate applied to h_prev before W_hn (the original paper's GRU): torch multiplies "
         "r by the whole W_hn h_prev + b_hn",
         ("hn = b[:, 2 * H:]\n    n = np.tanh(a[:, 2 * H:] + r * hn)",
          'hn = (r * h_prev) @ params["W_hh"][2 * H:].T + params["b_hh"][2 * H:]\n'
          "    n = np.tanh(a[:, 2 * H:] + hn)")),
    edit("gru_step", "h = z n + (1 - z) h_prev: in torch the update gate z keeps the old state, "
         "h = (1 - z) n + z h_prev",
         ("h = (1.0 - z) * n + z * h_prev", "h = z * n + (1.0 - z) * h_prev")),
    edit("gru_step", "b_hn added outside the reset gate: it belongs inside, r * (W_hn h_prev + b_hn)",
         ("n = np.tanh(a[:, 2 * H:] + r * hn)",
          'n = np.tanh(a[:, 2 * H:] + r * (hn - params["b_hh"][2 * H:]) + params["b_hh"][2 * H:])')),
    # gru_step_backward
    edit("gru_step", "the n block of dW_hh and db_hh misses the reset gate factor r",
         ("    db[:, 2 * H:] = dan * r\n", "")),
    edit("gru_step", "dh_prev misses the direct path h = ... + z h_prev (the term dh * z)",
         ('dh_prev = dh * z + db @ params["W_hh"]', 'dh_prev = db @ params["W_hh"]'), kind="graph"),
    edit("gru_step", "dL/dz with the sign flipped: h = n + z (h_prev - n), so dL/dz = dh (h_prev - n)",
         ("da[:, H:2 * H] = dh * (h_prev - n) * z * (1.0 - z)", "da[:, H:2 * H] = dh * (n - h_prev) * z * (1.0 - z)")),
    edit("gru_step", "dL/dr multiplied by h_prev: r multiplies W_hn h_prev + b_hn, so dL/dr uses that",
         ("da[:, :H] = dan * hn * r * (1.0 - r)", "da[:, :H] = dan * h_prev * r * (1.0 - r)")),
    edit("gru_step", "db_hh taken equal to db_ih: they differ in the n block (r * ...)",
         ('"b_hh": db.sum(axis=0)', '"b_hh": da.sum(axis=0)')),
]

GRU_SEQ = [
    # gru_forward
    edit("gru_seq", "gate order (z, r, n): torch's blocks are (r, z, n), the reset gate first",
         ("g[:, :H] * hn[:, t]", "g[:, H:2 * H] * hn[:, t]"), ("z, n = g[:, H:2 * H], g[:, 2 * H:]", "z, n = g[:, :H], g[:, 2 * H:]"),
         kind="order"),
    edit("gru_seq", "b_hh folded into the input products (as for the LSTM): its n block must stay inside the "
         "reset gate, r * (W_hn h + b_hn)",
         ('xa = x @ params["W_ih"].T + params["b_ih"]', 'xa = x @ params["W_ih"].T + params["b_ih"] + params["b_hh"]'),
         ('W_hhT, b_hh = params["W_hh"].T, params["b_hh"]', 'W_hhT, b_hh = params["W_hh"].T, 0.0')),
    edit("gru_seq", "ignores h0: starts every sequence from zeros",
         ("    prev = h0\n", "    prev = np.zeros_like(h0)\n"), kind="ignored"),
    edit("gru_seq", "h = z n + (1 - z) h_prev: in torch the update gate z keeps the old state",
         ("prev = h[:, t] = n + z * (prev - n)", "prev = h[:, t] = prev + z * (n - prev)")),
    # gru_backward
    edit("gru_seq", "BPTT without carrying dh_next: each step sees only its own dh[:, t]",
         ("dht = dh[:, t] + dnext", "dht = dh[:, t]"), kind="graph"),
    edit("gru_seq", "returns zeros as dh0 instead of the gradient carried back to the initial state",
         ('return da @ params["W_ih"], dnext, grads', 'return da @ params["W_ih"], np.zeros_like(h0), grads'),
         kind="ignored"),
    edit("gru_seq", "the n block of the state products' gradient misses the reset gate factor r",
         ("dbt[:, 2 * H:] = dan * r", "dbt[:, 2 * H:] = dan")),
    edit("gru_seq", "the carried gradient misses the direct path h = ... + z h_prev (the term dh * z)",
         ("dnext = dht * z + dbt @ W_hh", "dnext = dbt @ W_hh"), kind="graph"),
    edit("gru_seq", "uses h_t instead of h_{t-1} as the previous state in the backward pass",
         ("prev = h[:, t - 1] if t else h0", "prev = h[:, t]")),
]

LSTM_STEP = [
    # lstm_step_forward
    edit("lstm_step", "gate order (i, f, o, g): torch's blocks are (i, f, g, o)",
         ("g = np.tanh(a[:, 2 * H:3 * H])\n    o = sigmoid(a[:, 3 * H:])",
          "o = sigmoid(a[:, 2 * H:3 * H])\n    g = np.tanh(a[:, 3 * H:])"), kind="order"),
    edit("lstm_step", "forgets the second bias b_hh", (' + params["b_hh"]', ""), kind="ignored"),
    edit("lstm_step", "h = o * c: the cell goes through tanh first, h = o * tanh(c)", ("h = o * tc", "h = o * c")),
    edit("lstm_step", "the candidate g through a sigmoid: it is a tanh (values in (-1, 1))",
         ("g = np.tanh(a[:, 2 * H:3 * H])", "g = sigmoid(a[:, 2 * H:3 * H])")),
    # lstm_step_backward
    edit("lstm_step", "forgets dc, the cell gradient from the next step: dL/dc = dc + dh o (1 - tanh^2 c)",
         ("dc_total = dc + dh * o * (1.0 - tc * tc)", "dc_total = dh * o * (1.0 - tc * tc)"), kind="ignored"),
    edit("lstm_step", "dc_prev = dL/dc without the forget gate: c = f c_prev + ..., so dc_prev = dL/dc * f",
         ("dc_total * f, grads", "dc_total, grads")),
    edit("lstm_step", "output gate gradient without tanh(c): h = o tanh(c), so dL/do = dh tanh(c)",
         ("da[:, 3 * H:] = dh * tc * o * (1.0 - o)", "da[:, 3 * H:] = dh * o * (1.0 - o)")),
    edit("lstm_step", "forget gate gradient with the new cell c_t instead of c_prev",
         ("da[:, H:2 * H] = dc_total * c_prev * f * (1.0 - f)", "da[:, H:2 * H] = dc_total * (f * c_prev + i * g) * f * (1.0 - f)")),
]

LSTM_SEQ = [
    # lstm_forward
    edit("lstm_seq", "gate order (i, f, o, g): torch's blocks are (i, f, g, o)",
         ("z[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])\n        z[:, 3 * H:] = sigmoid(a[:, 3 * H:])",
          "z[:, 2 * H:3 * H] = np.tanh(a[:, 3 * H:])\n        z[:, 3 * H:] = sigmoid(a[:, 2 * H:3 * H])"), kind="order"),
    edit("lstm_seq", "ignores c0: the cell starts from zeros", ("h_prev, c_prev = h0, c0", "h_prev, c_prev = h0, np.zeros_like(c0)"),
         kind="ignored"),
    edit("lstm_seq", "forgets the second bias b_hh",
         ('xa = x @ params["W_ih"].T + (params["b_ih"] + params["b_hh"])', 'xa = x @ params["W_ih"].T + params["b_ih"]'),
         kind="ignored"),
    edit("lstm_seq", "stores the states in float32 (np.empty(..., dtype=np.float32)): keep x's dtype",
         ("h = np.empty((N, T, H), dtype=x.dtype)", "h = np.empty((N, T, H), dtype=np.float32)"), kind="dtype"),
    # lstm_backward
    edit("lstm_seq", "forgets dc_next, the cell gradient from the next step", ("dct = dc_next + dht * o", "dct = dht * o"),
         kind="graph"),
    edit("lstm_seq", "BPTT without carrying dh_next: each step sees only its own dh[:, t]",
         ("dht = dh[:, t] + dh_next", "dht = dh[:, t]"), kind="graph"),
    edit("lstm_seq", "returns zeros as dh0 and dc0 instead of the gradients carried back to the initial states",
         ('return da @ params["W_ih"], dh_next, dc_next, grads',
          'return da @ params["W_ih"], np.zeros_like(h0), np.zeros_like(c0), grads'), kind="ignored"),
    edit("lstm_seq", "carries the cell gradient back without the forget gate: dc_prev = dL/dc * f",
         ("dc_next = dct * f", "dc_next = dct")),
    edit("lstm_seq", "uses c_t instead of c_{t-1} for the forget gate's gradient",
         ("c_prev = c[:, t - 1] if t else c0", "c_prev = c[:, t]")),
]

TEMPORAL_AFFINE = [
    # temporal_affine_forward
    edit("temporal_affine", "forgets the bias", ("out = x @ w + b", "out = x @ w"), kind="ignored"),
    edit("temporal_affine", "output left flat, (N*T, M) instead of (N, T, M)",
         ("out = x @ w + b", "out = x.reshape(-1, w.shape[0]) @ w + b"), kind="edge"),
    edit("temporal_affine", "reshapes the flat output to (T, N, M): the rows are ordered (n, t), so (N, T, M)",
         ("out = x @ w + b", "out = (x.reshape(-1, w.shape[0]) @ w + b).reshape(x.shape[1], x.shape[0], -1)"),
         kind="edge"),
    edit("temporal_affine", "returns the output in float32: keep the input dtype",
         ("out = x @ w + b", "out = (x @ w + b).astype(np.float32)"), kind="dtype"),
    # temporal_affine_backward
    edit("temporal_affine", "db summed over the batch only, not over the steps",
         ("dout_flat.sum(axis=0)", "dout.sum(axis=0)"), kind="edge"),
    edit("temporal_affine", "dw averaged over the N*T positions instead of summed",
         ("x.reshape(-1, D).T @ dout_flat,", "x.reshape(-1, D).T @ dout_flat / dout_flat.shape[0],")),
    edit("temporal_affine", "dw transposed: dout^T x has shape (M, D), w has shape (D, M)",
         ("x.reshape(-1, D).T @ dout_flat,", "dout_flat.T @ x.reshape(-1, D),")),
]

TEMPORAL_SOFTMAX_LOSS = [
    edit("temporal_softmax_loss", "the loss ignores the mask: padding positions count",
         ("loss = float(np.sum(nll, where=mask) / count)", "loss = float(np.sum(nll) / count)"), kind="ignored"),
    edit("temporal_softmax_loss", "divides by all N*T positions instead of the masked-in ones",
         ("count = max(int(mask.sum()), 1)", "count = N * T")),
    edit("temporal_softmax_loss", "divides by the batch size N (a sum over steps per sequence): the mean is over "
         "the masked-in positions", ("count = max(int(mask.sum()), 1)", "count = N")),
    edit("temporal_softmax_loss", "no max subtraction before exp: large scores overflow",
         ("shifted = scores - scores.max(axis=2, keepdims=True)", "shifted = scores"), kind="edge"),
    edit("temporal_softmax_loss", "the gradient ignores the mask: padding positions get a gradient",
         ("dscores *= (mask / count)[..., None]", "dscores /= count"), kind="ignored"),
    edit("temporal_softmax_loss", "divides by the number of masked-in positions even when it is 0 (0 / 0 = nan "
         "for an all-padding batch; the stated result is 0.0)", ("count = max(int(mask.sum()), 1)", "count = int(mask.sum())"),
         kind="edge"),
]

SAMPLE_TOKEN = [
    edit("sample_token", "no max subtraction before exp: large logits (or a small temperature) overflow",
         ("p = np.exp(z - z.max(axis=1, keepdims=True))", "p = np.exp(z)"), kind="edge"),
    edit("sample_token", "temperature applied after the softmax: dividing the probabilities and renormalizing "
         "changes nothing; divide the logits", ("z = logits / temperature", "z = logits"),
         ("p = np.exp(z - z.max(axis=1, keepdims=True))", "p = np.exp(z - z.max(axis=1, keepdims=True)) / temperature"),
         kind="ignored"),
    edit("sample_token", "multiplies the logits by the temperature: divide them",
         ("z = logits / temperature", "z = logits * temperature")),
    edit("sample_token", "top-k keeps k + 1 tokens", ("order[:, top_k:]", "order[:, top_k + 1:]"), kind="edge"),
    edit("sample_token", "top-k keeps every logit >= the k-th largest, so ties at the border keep more than k "
         "tokens (the stated convention keeps exactly k, the smaller ids first)",
         ("        order = np.argsort(-z, axis=1, kind=\"stable\")\n"
          "        dropped = np.zeros((N, V), dtype=bool)\n"
          "        np.put_along_axis(dropped, order[:, top_k:], True, axis=1)\n"
          "        z = np.where(dropped, -np.inf, z)\n",
          "        kth = np.sort(z, axis=1)[:, -top_k][:, None]\n"
          "        z = np.where(z >= kth, z, -np.inf)\n"), kind="edge"),
    edit("sample_token", "ignores top_k", ("if top_k is not None and top_k < V:", "if False:"), kind="ignored"),
    edit("sample_token", "draws from numpy's global generator (np.random.random) instead of rng",
         ("u = rng.random(N) * cumulative[:, -1]", "u = np.random.random(N) * cumulative[:, -1]"), kind="rng"),
]

MUTANTS: list[Mutant] = [*EMBEDDING, *INIT_PARAMS, *RNN_STEP, *RNN_SEQ, *GRU_STEP, *GRU_SEQ, *LSTM_STEP, *LSTM_SEQ,
                         *TEMPORAL_AFFINE, *TEMPORAL_SOFTMAX_LOSS, *SAMPLE_TOKEN]
