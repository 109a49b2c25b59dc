"""Plausible wrong solutions for chapter 08; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``ngram_counts``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "08_attention.py")

NGRAM_COUNTS = [
    edit("ngram_counts", "counts[index] += 1: with repeated n-grams numpy adds 1 once per distinct index; use "
         "np.add.at(counts, index, 1)", ("np.add.at(counts, tuple(windows.T), 1)", "counts[tuple(windows.T)] += 1"),
         kind="edge"),
    edit("ngram_counts", "misses the last window (range(L - n) instead of range(L - n + 1))",
         ("np.add.at(counts, tuple(windows.T), 1)", "np.add.at(counts, tuple(windows[:-1].T), 1)"), kind="edge"),
    edit("ngram_counts", "the ids of a window in reverse order along the axes: counts[w_1, ..., w_n] must be in "
         "the order of the text", ("np.add.at(counts, tuple(windows.T), 1)", "np.add.at(counts, tuple(windows.T[::-1]), 1)"),
         kind="order"),
    edit("ngram_counts", "returns float counts (np.zeros without dtype): counts are integers",
         ("counts = np.zeros((V,) * n, dtype=np.int64)", "counts = np.zeros((V,) * n)"), kind="dtype"),
]

ADD_K = [
    edit("add_k_probs", "forgets k V in the denominator: the smoothed row no longer sums to 1",
         ("total = smoothed.sum(axis=-1, keepdims=True)", "total = counts.sum(axis=-1, keepdims=True)")),
    edit("add_k_probs", "normalizes over the first axis (the oldest context token) instead of the last (the next token)",
         ("total = smoothed.sum(axis=-1, keepdims=True)", "total = smoothed.sum(axis=0, keepdims=True)"), kind="order"),
    edit("add_k_probs", "divides 0 by 0 for an unseen context with k = 0 (nan): the stated result is uniform 1 / V",
         ("return np.where(total > 0, smoothed / np.where(total > 0, total, 1.0), 1.0 / V)", "return smoothed / total"),
         kind="edge"),
    edit("add_k_probs", "adds k once to the denominator instead of k V (k for every possible next token)",
         ("total = smoothed.sum(axis=-1, keepdims=True)", "total = counts.sum(axis=-1, keepdims=True) + k")),
]

INTERPOLATE = [
    edit("interpolate", "broadcasts the lower-order models with new axes at the end: they must look at the most "
         "recent tokens (the last axes), so the new axes go in front",
         ("p[(None,) * (n - p.ndim)]", "p.reshape(p.shape[:-1] + (1,) * (n - p.ndim) + p.shape[-1:])"), kind="order"),
    edit("interpolate", "pairs the weights with the models in reverse order",
         ("zip(lambdas, probs, strict=True)", "zip(lambdas[::-1], probs, strict=True)"), kind="order"),
    edit("interpolate", "averages the models, ignoring the weights",
         ("out = out + lam * p[(None,) * (n - p.ndim)]", "out = out + p[(None,) * (n - p.ndim)] / n"), kind="ignored"),
]

PERPLEXITY = [
    edit("perplexity", "uses log base 2 and exp: 2 ** (mean bits) or exp(mean nats), not a mix",
         ("nll = -np.log(probs[tuple(windows.T)])", "nll = -np.log2(probs[tuple(windows.T)])")),
    edit("perplexity", "averages over all L ids instead of the L - n + 1 with a full context",
         ("return float(np.exp(nll.mean()))", "return float(np.exp(nll.sum() / len(ids)))"), kind="edge"),
    edit("perplexity", "the inverse of the mean probability instead of exp of the mean negative log-probability",
         ("return float(np.exp(nll.mean()))", "return float(1.0 / np.exp(-nll).mean())")),
    edit("perplexity", "looks up the context in reverse order",
         ("nll = -np.log(probs[tuple(windows.T)])", "nll = -np.log(probs[tuple(windows.T[::-1])])"), kind="order"),
]

SAMPLE_NGRAM = [
    edit("sample_ngram", "draws from numpy's global generator (np.random.random) instead of rng",
         ("u = rng.random() * cumulative[-1]", "u = np.random.random() * cumulative[-1]"), kind="rng"),
    edit("sample_ngram", "never shifts the new id into the context: every draw uses the initial context",
         ("            window = window[1:] + [w]\n", "            pass\n"), kind="graph"),
    edit("sample_ngram", "shifts the new id in at the front of the context: the most recent id is the last",
         ("window = window[1:] + [w]", "window = [w] + window[:-1]"), kind="order"),
    edit("sample_ngram", "takes the most likely id instead of drawing one",
         ("w = min(int(np.searchsorted(cumulative, u, side=\"right\")), len(cumulative) - 1)",
          "w = int(np.argmax(probs[tuple(window)]))"), kind="ignored"),
]

SGNS = [
    edit("sgns_loss", "dW[ids] += ...: repeated words in a batch get their gradient once; use np.add.at",
         ("np.add.at(dW_in, centers, g_pos[:, None] * u_pos + np.einsum(\"bk,bkd->bd\", g_neg, u_neg))",
          "dW_in[centers] += g_pos[:, None] * u_pos + np.einsum(\"bk,bkd->bd\", g_neg, u_neg)"), kind="edge"),
    edit("sgns_loss", "the negatives' term as -ln sigmoid(s) instead of -ln sigmoid(-s): negatives must score low",
         ("np.logaddexp(0, s_neg).sum()", "np.logaddexp(0, -s_neg).sum()"),
         ("g_neg = 0.5 * (1 + np.tanh(0.5 * s_neg)) / B", "g_neg = (0.5 * (1 + np.tanh(0.5 * s_neg)) - 1.0) / B")),
    edit("sgns_loss", "sums the loss over the batch instead of averaging it",
         ("    loss = float((np.logaddexp(0, -s_pos).sum() + np.logaddexp(0, s_neg).sum()) / B)\n",
          "    loss = float(np.logaddexp(0, -s_pos).sum() + np.logaddexp(0, s_neg).sum())\n"),
         ("g_pos = (0.5 * (1 + np.tanh(0.5 * s_pos)) - 1.0) / B", "g_pos = 0.5 * (1 + np.tanh(0.5 * s_pos)) - 1.0"),
         ("g_neg = 0.5 * (1 + np.tanh(0.5 * s_neg)) / B", "g_neg = 0.5 * (1 + np.tanh(0.5 * s_neg))")),
    edit("sgns_loss", "ln(1 + exp(-s)) computed as written: exp overflows for large scores (use np.logaddexp)",
         ("np.logaddexp(0, -s_pos).sum()", "np.log(1 + np.exp(-s_pos)).sum()"),
         ("np.logaddexp(0, s_neg).sum()", "np.log(1 + np.exp(s_neg)).sum()"), kind="edge"),
    edit("sgns_loss", "forgets the negatives' gradient for the center vectors",
         ("g_pos[:, None] * u_pos + np.einsum(\"bk,bkd->bd\", g_neg, u_neg)", "g_pos[:, None] * u_pos"), kind="graph"),
    edit("sgns_loss", "returns the gradients in float64 whatever the vectors' dtype",
         ("dW_in, dW_out = np.zeros_like(W_in), np.zeros_like(W_out)",
          "dW_in, dW_out = np.zeros(W_in.shape), np.zeros(W_out.shape)"), kind="dtype"),
]

ATTENTION = [
    # attention_forward
    edit("attention", "divides the scores by d instead of sqrt(d)",
         ("scale = float(1.0 / np.sqrt(d) if scale is None else scale)", "scale = float(1.0 / d if scale is None else scale)")),
    edit("attention", "softmax over the queries (axis -2) instead of over the keys",
         ("total = e.sum(axis=-1, keepdims=True)", "total = e.sum(axis=-2, keepdims=True)"), kind="order"),
    edit("attention", "the causal mask keeps the keys after the query (np.triu) instead of those before it",
         ("allowed = allowed & np.tri(Tq, Tk, dtype=bool)", "allowed = allowed & ~np.tri(Tq, Tk, -1, dtype=bool)"),
         kind="order"),
    edit("attention", "the causal mask also hides the query's own position (strictly before it)",
         ("allowed = allowed & np.tri(Tq, Tk, dtype=bool)", "allowed = allowed & np.tri(Tq, Tk, -1, dtype=bool)"),
         kind="edge"),
    edit("attention", "ignores the mask argument", ("allowed = np.ones((Tq, Tk), dtype=bool) if mask is None else "
                                                   "np.asarray(mask, dtype=bool)", "allowed = np.ones((Tq, Tk), dtype=bool)"),
         kind="ignored"),
    edit("attention", "ignores the scale argument", ("scale = float(1.0 / np.sqrt(d) if scale is None else scale)",
                                                    "scale = float(1.0 / np.sqrt(d))"), kind="ignored"),
    edit("attention", "a fully masked row softmaxes its -1e9 scores into uniform weights: the stated weights are 0",
         ("weights = (e / np.where(total > 0, total, 1.0)).astype(q.dtype, copy=False)",
          "weights = np.where(total > 0, e / np.where(total > 0, total, 1.0), 1.0 / Tk).astype(q.dtype, copy=False)"),
         kind="edge"),
    edit("attention", "no max subtraction before exp: large scores overflow",
         ("    row_max = np.where(np.isfinite(row_max), row_max, 0.0)\n", "    row_max = np.zeros_like(row_max)\n"),
         kind="edge"),
    # attention_backward
    edit("attention", "softmax backward as weights * dweights, without subtracting the row's weighted mean",
         ("dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))",
          "dscores = weights * dweights"), kind="graph"),
    edit("attention", "forgets the scale in the gradients of q and k",
         ("dq = (dscores @ k) * scale", "dq = dscores @ k"), ("dk = (np.swapaxes(dscores, -1, -2) @ q) * scale",
                                                             "dk = np.swapaxes(dscores, -1, -2) @ q")),
    edit("attention", "forgets the scale in the gradient of k only",
         ("dk = (np.swapaxes(dscores, -1, -2) @ q) * scale", "dk = np.swapaxes(dscores, -1, -2) @ q")),
    edit("attention", "softmax backward subtracts the weighted mean over the queries (axis -2) instead of over the keys",
         ("np.sum(dweights * weights, axis=-1, keepdims=True)", "np.sum(dweights * weights, axis=-2, keepdims=True)"),
         kind="order"),
]

POSITIONAL = [
    edit("positional_encoding", "sin and cos swapped: even columns are sines",
         ("np.where(np.arange(E) % 2 == 0, np.sin(angles), np.cos(angles))",
          "np.where(np.arange(E) % 2 == 0, np.cos(angles), np.sin(angles))"), kind="order"),
    edit("positional_encoding", "exponent i / E instead of 2i / E: the frequencies fall twice as fast",
         ("freq = 10000.0 ** (-(np.arange(E) // 2 * 2) / E)", "freq = 10000.0 ** (-(np.arange(E) // 2) / E)")),
    edit("positional_encoding", "a new frequency for every column instead of one per (sin, cos) pair",
         ("freq = 10000.0 ** (-(np.arange(E) // 2 * 2) / E)", "freq = 10000.0 ** (-np.arange(E) / E)")),
    edit("positional_encoding", "positions counted from 1: the first position is t = 0",
         ("t = np.arange(T)[:, None]", "t = np.arange(1, T + 1)[:, None]"), kind="edge"),
    edit("positional_encoding", "sines in the first half of the columns and cosines in the second: they alternate",
         ("np.where(np.arange(E) % 2 == 0, np.sin(angles), np.cos(angles))",
          "np.where(np.arange(E) < (E + 1) // 2, np.sin(angles), np.cos(angles))"), kind="order"),
]

LAYERNORM = [
    # layernorm_forward
    edit("layernorm", "unbiased variance (ddof=1): nn.LayerNorm divides by E",
         ("inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)",
          "inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True, ddof=1) + eps)")),
    edit("layernorm", "eps added to the standard deviation instead of the variance",
         ("inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)",
          "inv_std = 1.0 / (np.sqrt(x.var(axis=-1, keepdims=True)) + eps)"), kind="edge"),
    edit("layernorm", "normalizes over the batch (axis 0), like batch norm: layer norm uses each token's features",
         ("mu = x.mean(axis=-1, keepdims=True)\n    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)",
          "mu = x.mean(axis=0, keepdims=True)\n    inv_std = 1.0 / np.sqrt(x.var(axis=0, keepdims=True) + eps)")),
    edit("layernorm", "ignores eps", ("inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)",
                                     "inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-5)"), kind="ignored"),
    # layernorm_backward
    edit("layernorm", "dx without the term through the variance (xhat * mean(g * xhat))",
         ("dx = inv_std * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))",
          "dx = inv_std * (g - g.mean(axis=-1, keepdims=True))"), kind="graph"),
    edit("layernorm", "dx forgets gamma (uses dout instead of gamma * dout)", ("g = dout * gamma", "g = dout")),
    edit("layernorm", "dgamma and dbeta summed over the batch axis only, not over the time axis too",
         ("flat = dout.reshape(-1, E)\n    return dx, (flat * xhat.reshape(-1, E)).sum(axis=0), flat.sum(axis=0)",
          "return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)"), kind="edge"),
]

MHA = [
    # mha_forward
    edit("mha", "splits the heads as (h, d) slices of the wrong axis order: head a must be columns a d .. (a + 1) d",
         ("heads = qkv.reshape(N, T, 3, num_heads, d).transpose(2, 0, 3, 1, 4)",
          "heads = qkv.reshape(N, T, 3, d, num_heads).transpose(2, 0, 4, 1, 3)"),
         ("merged = attended.transpose(0, 2, 1, 3).reshape(N, T, E)",
          "merged = attended.transpose(0, 2, 3, 1).reshape(N, T, E)"),
         ("dmerged = (dout @ params[\"W_out\"]).reshape(N, T, num_heads, d).transpose(0, 2, 1, 3)",
          "dmerged = (dout @ params[\"W_out\"]).reshape(N, T, d, num_heads).transpose(0, 3, 1, 2)"),
         ("dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(N * T, 3 * E)",
          "dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 4, 2).reshape(N * T, 3 * E)"), kind="order"),
    edit("mha", "multiplies by W_in instead of W_in^T (torch stores weights as (out, in))",
         ("qkv = x @ params[\"W_in\"].T + params[\"b_in\"]", "qkv = x @ params[\"W_in\"].reshape(E, 3 * E) + params[\"b_in\"]")),
    edit("mha", "forgets the output projection's bias", ("out = merged @ params[\"W_out\"].T + params[\"b_out\"]",
                                                        "out = merged @ params[\"W_out\"].T"), kind="ignored"),
    edit("mha", "ignores the causal argument", ("attention_forward(heads[0], heads[1], heads[2], head_mask, causal)",
                                               "attention_forward(heads[0], heads[1], heads[2], head_mask)"),
         kind="ignored"),
    edit("mha", "the queries and the keys taken from the wrong thirds of W_in (order q, k, v)",
         ("attention_forward(heads[0], heads[1], heads[2], head_mask, causal)",
          "attention_forward(heads[1], heads[0], heads[2], head_mask, causal)"),
         ("dqkv = np.stack([dq, dk, dv])", "dqkv = np.stack([dk, dq, dv])"), kind="order"),
    # mha_backward
    edit("mha", "dW_out computed as merged^T dout (transposed): it is dout^T merged, of W_out's (out, in) layout",
         ("grads = {\"W_out\": flat.T @ merged.reshape(-1, E), \"b_out\": flat.sum(axis=0)}",
          "grads = {\"W_out\": merged.reshape(-1, E).T @ flat, \"b_out\": flat.sum(axis=0)}")),
    edit("mha", "the gradient enters the heads through W_out^T: the forward pass used merged W_out^T, so it is dout W_out",
         ("dmerged = (dout @ params[\"W_out\"])", "dmerged = (dout @ params[\"W_out\"].T)")),
    edit("mha", "b_in's gradient averaged over the positions instead of summed",
         ("grads[\"b_in\"] = dqkv.sum(axis=0)", "grads[\"b_in\"] = dqkv.mean(axis=0)")),
]

BLOCK = [
    # block_forward
    edit("block", "post-norm (LN after the residual sum) instead of pre-norm",
         ("    h = x + att\n", "    h, _ = layernorm_forward(x + att, params[\"ln1_g\"], params[\"ln1_b\"])\n"),
         ("a, ln1_cache = layernorm_forward(x, params[\"ln1_g\"], params[\"ln1_b\"])", "a, ln1_cache = x, None")),
    edit("block", "the MLP reads h instead of LN2(h)",
         ("hidden = np.maximum(b @ params[\"W1\"].T + params[\"b1\"], 0.0)",
          "hidden = np.maximum(h @ params[\"W1\"].T + params[\"b1\"], 0.0)")),
    edit("block", "no residual connection around the MLP", ("out = h + hidden @ params[\"W2\"].T + params[\"b2\"]",
                                                          "out = hidden @ params[\"W2\"].T + params[\"b2\"]"), kind="graph"),
    edit("block", "ignores the mask argument", ("num_heads,\n                                    mask, causal)",
                                               "num_heads,\n                                    None, causal)"),
         kind="ignored"),
    edit("block", "both layer norms use ln1's parameters", ("layernorm_forward(h, params[\"ln2_g\"], params[\"ln2_b\"])",
                                                            "layernorm_forward(h, params[\"ln1_g\"], params[\"ln1_b\"])"),
         kind="ignored"),
    # block_backward
    edit("block", "the residual gradient is not added: dh is only what comes back through the MLP",
         ("    dh = dout + db\n", "    dh = db\n"), kind="graph"),
    edit("block", "the relu's derivative is skipped in the backward pass",
         ("dhidden = (dout @ params[\"W2\"]) * (hidden > 0)", "dhidden = dout @ params[\"W2\"]"), kind="graph"),
    edit("block", "dx misses the residual path around the attention (returns only the path through LN1)",
         ("return dh + dx_ln, grads", "return dx_ln, grads"), kind="graph"),
]

MUTANTS: list[Mutant] = [*NGRAM_COUNTS, *ADD_K, *INTERPOLATE, *PERPLEXITY, *SAMPLE_NGRAM, *SGNS, *ATTENTION,
                         *POSITIONAL, *LAYERNORM, *MHA, *BLOCK]
