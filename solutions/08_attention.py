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
# # Chapter 08 — Language models and attention
#
# A **language model** gives a probability to every sequence of tokens by predicting each
# token from the ones before it: $p(w_1, \dots, w_T) = \prod_t p(w_t \mid w_{<t})$. Chapter 07
# squeezed the whole past into a recurrent state. This chapter starts one step earlier, with
# models that just count (**n-grams**), learns word vectors from co-occurrences
# (**word2vec**), and then builds the piece that replaced recurrence: **attention**, where
# every position looks directly at every other one and takes a weighted average of what it
# finds. Stacked with layer normalization, a small MLP and residual connections it becomes the
# **transformer block** — the building unit of every large language model.
#
# **What you will build** (all in numpy, sequences as **(batch, time, features)**, weights in
# PyTorch's layout (out, in)):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `ngram_counts`, `add_k_probs`, `interpolate`, `perplexity`, `sample_ngram` | counting language models |
# | 2 | `sgns_loss` | skip-gram word2vec with negative sampling, loss and gradients |
# | 3 | `attention_forward`, `attention_backward` | scaled dot-product attention with causal and padding masks |
# | 4 | `positional_encoding` | where a token is, as a vector |
# | 5 | `layernorm_forward`, `layernorm_backward` | normalizing each token's features |
# | 6 | `mha_forward`, `mha_backward` | multi-head self-attention, `nn.MultiheadAttention`'s layout |
# | 7 | `block_forward`, `block_backward` | a pre-norm transformer block |
#
# On the way: three concept checks and a written answer. The experiments at the end compare
# an n-gram model with chapter 07's LSTM on Shakespeare, train a small transformer (your
# functions) and an LSTM to reverse strings of digits, and show the attention maps the
# transformer learned, in an **attention explorer**; a **positional-encoding viewer** shows
# how the encodings of two positions relate.
#
# **You need**: chapter 03 (the layer convention `forward -> (out, cache)`, `backward(dout,
# cache)`, softmax), chapter 05 (Adam, layer normalization is a cousin of batch norm), chapter
# 07 (embeddings, the temporal softmax loss, the LSTM).
#
# **Time**: about 5 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against PyTorch's `F.scaled_dot_product_attention`, `nn.MultiheadAttention`,
# `nn.LayerNorm` and `nn.TransformerEncoderLayer` in float64 with weights copied, on random
# shapes — a batch of one, a single token, rows where every key is masked — and whether your
# functions leave their inputs unchanged and keep their dtype. Make your code correct in
# general, not just for the visible examples, and do not rename the functions or change their
# arguments.

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

MHA_KEYS = ("W_in", "b_in", "W_out", "b_out")
BLOCK_KEYS = ("ln1_g", "ln1_b", "W_in", "b_in", "W_out", "b_out", "ln2_g", "ln2_b", "W1", "b1", "W2", "b2")


def check_grads(grads, expected, keys, name, rtol=1e-6, atol=1e-8):
    """Check a dict of parameter gradients against `expected` (a dict with the same keys)."""
    assert_that(isinstance(grads, dict), f"{name}: grads must be a dict, got {type(grads).__name__}")
    missing = [k for k in keys if k not in grads]
    assert_that(not missing, f"{name}: grads has no key {missing} (keys: {sorted(grads)})")
    for key in keys:
        assert_close(grads[key], expected[key], rtol=rtol, atol=atol, name=f"{name}: grads[{key!r}]")


def numerical_param_grads(forward, params, keys, dout):
    """Numerical gradients of sum(forward(params) * dout) for each parameter array in keys."""
    out = {}
    for key in keys:
        def with_key(value, key=key):
            return forward({**params, key: value})
        out[key] = numerical_gradient_array(with_key, params[key].copy(), dout)
    return out


def random_mha_params(rng, E, scale=0.5):
    """Multi-head attention parameters of normal entries (for tests)."""
    return {"W_in": rng.normal(size=(3 * E, E)) * scale, "b_in": rng.normal(size=3 * E) * scale,
            "W_out": rng.normal(size=(E, E)) * scale, "b_out": rng.normal(size=E) * scale}


def random_block_params(rng, E, F, scale=0.4):
    """Transformer block parameters of normal entries (for tests)."""
    return {**random_mha_params(rng, E, scale), "ln1_g": 1 + rng.normal(size=E) * 0.3,
            "ln1_b": rng.normal(size=E) * 0.3, "ln2_g": 1 + rng.normal(size=E) * 0.3,
            "ln2_b": rng.normal(size=E) * 0.3, "W1": rng.normal(size=(F, E)) * scale,
            "b1": rng.normal(size=F) * scale, "W2": rng.normal(size=(E, F)) * scale, "b2": rng.normal(size=E) * scale}


# %% [markdown]
# ## 1. n-gram language models
#
# An **n-gram model** predicts a token from the $n - 1$ tokens before it, and nothing else:
# $p(w_t \mid w_{<t}) \approx p(w_t \mid w_{t-n+1}, \dots, w_{t-1})$. Its maximum-likelihood
# estimate is a ratio of counts, $p(w \mid c) = C(c, w) / C(c)$, where $C(c, w)$ counts how
# often the context $c$ (a tuple of $n - 1$ tokens) is followed by $w$ in the training text.
#
# With a vocabulary of $V$ token ids $0, \dots, V-1$ we keep the counts in an array of shape
# $(V,)^n$: `counts[a, b, c]` is the number of positions $t$ with $(w_t, w_{t+1}, w_{t+2}) =
# (a, b, c)$ — the context along the first $n - 1$ axes, the next token along the last one.
# (With $V = 65$ characters a trigram array has 274,625 entries; for words one would store
# only the counts that are not zero, in a dictionary.)
#
# *Example*: `ids = [0, 1, 0, 1, 1]`, $n = 2$, $V = 2$: the pairs are (0,1), (1,0), (0,1),
# (1,1), so `counts = [[0, 2], [1, 1]]`.
#
# Count with one vectorized update: `numpy.lib.stride_tricks.sliding_window_view(ids, n)` gives
# every window of $n$ consecutive ids as a row, and `np.add.at(counts, index, 1)` adds 1 once
# per row even when rows repeat (a plain `counts[index] += 1` would add it only once per
# distinct index).

# %% nbgrader="solution" grade_id="ngram_counts" export=true
def ngram_counts(ids, n, V):
    """Counts of every n-gram (n consecutive ids) in a sequence.

    Args:
        ids: integer array (L,) of token ids in [0, V).
        n: the order (int >= 1); V: the vocabulary size (int >= 1).

    Returns:
        counts: int64 array of shape (V,) * n, counts[w_1, ..., w_n] = the number of positions t
        with ids[t:t + n] == (w_1, ..., w_n); all zeros when L < n. The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    counts = np.zeros((V,) * n, dtype=np.int64)
    if len(ids) >= n:
        windows = np.lib.stride_tricks.sliding_window_view(np.asarray(ids), n)
        np.add.at(counts, tuple(windows.T), 1)
    return counts
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_ngram_counts" points=2
_counts = call(ngram_counts, np.array([0, 1, 0, 1, 1]), 2, 2)
assert_shape(_counts, (2, 2), name="ngram_counts([0, 1, 0, 1, 1], n=2, V=2)")
assert_close(_counts, [[0, 2], [1, 1]], name="ngram_counts([0, 1, 0, 1, 1], n=2, V=2)")
assert_that(np.issubdtype(np.asarray(_counts).dtype, np.integer), "ngram_counts must return integers, got "
            f"{np.asarray(_counts).dtype}")
_counts = call(ngram_counts, np.array([2, 2, 2, 2]), 3, 3)
assert_shape(_counts, (3, 3, 3), name="ngram_counts([2, 2, 2, 2], n=3, V=3)")
assert_that(_counts[2, 2, 2] == 2 and _counts.sum() == 2, "ngram_counts([2, 2, 2, 2], n=3, V=3): expected "
            f"counts[2, 2, 2] = 2 and nothing else (a repeated trigram counts twice), got {_counts[2, 2, 2]} and a "
            f"total of {_counts.sum()}")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(801)
for _L, _n, _V in [(1, 1, 1), (50, 1, 4), (3, 3, 2), (2, 3, 2), (200, 2, 5), (500, 3, 4), (40, 4, 3)]:
    _ids = _rng.integers(0, _V, size=_L)
    _ref = np.zeros((_V,) * _n, dtype=np.int64)
    for _t in range(_L - _n + 1):
        _ref[tuple(_ids[_t:_t + _n])] += 1
    _counts = call(ngram_counts, _ids, _n, _V)
    assert_shape(_counts, (_V,) * _n, name=f"ngram_counts(ids of length {_L}, n={_n}, V={_V})")
    assert_close(_counts, _ref, rtol=0, atol=0, name=f"ngram_counts(ids of length {_L}, n={_n}, V={_V})")
# order of the axes: the first id of a window is the first index
_counts = call(ngram_counts, np.array([0, 1, 2]), 3, 3)
assert_that(_counts[0, 1, 2] == 1 and _counts.sum() == 1, "ngram_counts([0, 1, 2], n=3, V=3): expected "
            "counts[0, 1, 2] = 1 (the ids in the order they occur)")
### END HIDDEN TESTS

# %% [markdown]
# **Smoothing.** A text of a million characters still misses most trigrams, and a model that
# gives probability 0 to something that then happens has infinite loss. **Add-$k$ smoothing**
# pretends that every n-gram was seen $k$ more times:
#
# $$p_k(w \mid c) = \frac{C(c, w) + k}{C(c) + kV}, \qquad C(c) = \sum_{w'} C(c, w').$$
#
# $k = 1$ is Laplace's rule; smaller $k$ (0.1, 0.01) usually fits better. With $k = 0$ a context
# that never occurred has $0/0$: we then use the uniform distribution $1/V$.
#
# *Example*: counts `[[0, 2], [1, 1]]` with $k = 1$: row 0 becomes $(1, 3)/4$, row 1 $(2, 2)/4$.

# %% nbgrader="solution" grade_id="add_k_probs" export=true
def add_k_probs(counts, k):
    """Add-k smoothed conditional probabilities of an n-gram model.

    Args:
        counts: integer array of shape (V,) * n, as from ngram_counts.
        k: float >= 0.

    Returns:
        probs: float64 array of counts' shape, probs[c + (w,)] = (counts[c + (w,)] + k) / (sum over
        the last axis of counts[c] + k V): every slice along the last axis sums to 1; a context whose
        denominator is 0 (never seen, k = 0) gets the uniform 1 / V. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    V = counts.shape[-1]
    smoothed = counts.astype(np.float64) + k
    total = smoothed.sum(axis=-1, keepdims=True)
    return np.where(total > 0, smoothed / np.where(total > 0, total, 1.0), 1.0 / V)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_add_k_probs" points=2
_p = call(add_k_probs, np.array([[0, 2], [1, 1]]), 1.0)
assert_close(_p, [[0.25, 0.75], [0.5, 0.5]], name="add_k_probs([[0, 2], [1, 1]], k=1)")
_p = call(add_k_probs, np.array([[0, 0, 0], [3, 0, 1], [0, 5, 0]]), 0.0)
assert_close(_p, [[1 / 3, 1 / 3, 1 / 3], [0.75, 0, 0.25], [0, 1, 0]],
             name="add_k_probs(k=0): maximum likelihood, an unseen context (row 0) uniform")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(802)
for _shape, _k in [((1,), 0.5), ((5,), 0.0), ((4, 4), 0.1), ((3, 3, 3), 0.01), ((2, 6, 6), 2.0)]:
    _counts = _rng.integers(0, 4, size=_shape) * (_rng.random(_shape) < 0.6)
    _smoothed = _counts + _k
    _den = _smoothed.sum(axis=-1, keepdims=True)
    _ref = np.where(_den > 0, _smoothed / np.where(_den > 0, _den, 1), 1 / _shape[-1])
    _p = call(add_k_probs, _counts, _k)
    assert_close(_p, _ref, rtol=1e-12, atol=1e-15, name=f"add_k_probs(counts of shape {_shape}, k={_k})")
    assert_that(np.asarray(_p).dtype == np.float64, f"add_k_probs must return float64, got {np.asarray(_p).dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Interpolation.** A trigram model knows more context than a bigram model but has seen each
# context fewer times. **Linear interpolation** mixes the models of orders $1, \dots, n$:
#
# $$p(w \mid w_{t-n+1}, \dots, w_{t-1}) = \sum_{j=1}^{n} \lambda_j\, p_j(w \mid w_{t-j+1}, \dots, w_{t-1}),
#   \qquad \lambda_j \ge 0,\ \sum_j \lambda_j = 1,$$
#
# where $p_j$ is the model of order $j$ (unigram, bigram, …), which looks only at the **last**
# $j - 1$ tokens of the context. As arrays: `probs[j - 1]` has shape $(V,)^j$; to add it to the
# order-$n$ array it must ignore the **first** $n - j$ axes (the oldest tokens), so it is
# broadcast with new axes in front. The weights $\lambda$ are tuned on held-out text.

# %% nbgrader="solution" grade_id="interpolate" export=true
def interpolate(probs, lambdas):
    """Linear interpolation of n-gram models of orders 1 .. n.

    Args:
        probs: list of n float arrays; probs[j] has shape (V,) * (j + 1): the model of order j + 1,
            its last axis the next token, its other axes the last j tokens of the context.
        lambdas: sequence of n floats >= 0 summing to 1; lambdas[j] weighs probs[j].

    Returns:
        float64 array of shape (V,) * n: sum_j lambdas[j] * probs[j], each probs[j] applied to the
        most recent tokens of the context. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    n = len(probs)
    V = probs[0].shape[-1]
    out = np.zeros((V,) * n)
    for lam, p in zip(lambdas, probs, strict=True):
        out = out + lam * p[(None,) * (n - p.ndim)]
    return out
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_interpolate" points=2
_uni = np.array([0.5, 0.5])
_bi = np.array([[1.0, 0.0], [0.2, 0.8]])
_p = call(interpolate, [_uni, _bi], [0.5, 0.5])
assert_close(_p, [[0.75, 0.25], [0.35, 0.65]], name="interpolate([uniform, [[1, 0], [0.2, 0.8]]], [0.5, 0.5])")
_tri = np.zeros((2, 2, 2))
_tri[..., 0] = 1.0                        # the trigram model always predicts 0
_bi = np.array([[0.0, 1.0], [1.0, 0.0]])  # the bigram model predicts the other token than the last
_p = call(interpolate, [_uni, _bi, _tri], [0.0, 0.5, 0.5])
assert_shape(_p, (2, 2, 2), name="interpolate(orders 1, 2, 3)")
assert_close(_p[0, 1], [1.0, 0.0], name="interpolate(orders 1, 2, 3)[0, 1] (the bigram part looks at the last "
             "token, 1)")
assert_close(_p[1, 0], [0.5, 0.5], name="interpolate(orders 1, 2, 3)[1, 0] (the bigram part looks at the last "
             "token, 0)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(803)
for _n, _V in [(1, 3), (2, 4), (3, 3), (4, 2)]:
    _probs = [_rng.dirichlet(np.ones(_V), size=(_V,) * _j) for _j in range(_n)]
    _lambdas = _rng.dirichlet(np.ones(_n))
    _ref = np.zeros((_V,) * _n)
    for _idx in np.ndindex(*(_V,) * _n):
        for _j in range(_n):
            _ref[_idx] += _lambdas[_j] * _probs[_j][_idx[_n - 1 - _j:]]
    _p = call(interpolate, _probs, _lambdas)
    assert_close(_p, _ref, rtol=1e-12, atol=1e-15, name=f"interpolate(n={_n}, V={_V}, random models and weights)")
    assert_close(_p.sum(axis=-1), np.ones((_V,) * (_n - 1)), rtol=1e-12, atol=1e-12,
                 name=f"interpolate(n={_n}, V={_V}): every distribution sums to 1")
### END HIDDEN TESTS

# %% [markdown]
# **Perplexity.** A language model is judged by the probability it gives to held-out text.
# Averaged per token and turned back into a number of choices, this is the **perplexity**:
#
# $$\mathrm{PPL} = \exp\Big(-\frac{1}{M} \sum_{t} \ln p(w_t \mid w_{t-n+1}, \dots, w_{t-1})\Big),$$
#
# summed over the $M = L - n + 1$ positions $t = n-1, \dots, L-1$ (0-based) that have a full
# context. A model that spreads its probability uniformly over $V$ tokens has perplexity $V$;
# the log base does not matter as long as the exponential undoes the same log
# ($2^{\text{bits per token}}$ is the same number). Chapter 07 reported bits per character: $\log_2$
# of the perplexity.
#
# *Example*: a bigram model with `probs = [[0.25, 0.75], [0.5, 0.5]]` on `ids = [0, 1, 1]`:
# $\exp(-(\ln 0.75 + \ln 0.5)/2) = 1/\sqrt{0.375} \approx 1.633$.

# %% nbgrader="solution" grade_id="perplexity" export=true
def perplexity(probs, ids):
    """Perplexity of an n-gram model on a sequence.

    Args:
        probs: float array of shape (V,) * n, probs[c + (w,)] = p(w | c) (c: the previous n - 1 ids).
        ids: integer array (L,) of token ids, L >= n.

    Returns:
        a Python float, exp of the mean of -ln p(ids[t] | ids[t-n+1:t]) over t = n-1 .. L-1
        (inf if one of these probabilities is 0). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    n = probs.ndim
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(ids), n)
    with np.errstate(divide="ignore"):
        nll = -np.log(probs[tuple(windows.T)])
    return float(np.exp(nll.mean()))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_perplexity" points=2
_ppl = call(perplexity, np.array([[0.25, 0.75], [0.5, 0.5]]), np.array([0, 1, 1]))
assert_scalar(_ppl, name="perplexity(bigram, [0, 1, 1])")
assert_close(_ppl, 1 / np.sqrt(0.375), rtol=1e-12, name="perplexity([[0.25, 0.75], [0.5, 0.5]], [0, 1, 1])")
_ppl = call(perplexity, np.full(7, 1 / 7), np.arange(7))
assert_close(_ppl, 7.0, rtol=1e-12, name="perplexity(uniform unigram over V=7, any text) = V")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(804)
for _n, _V, _L in [(1, 4, 1), (1, 5, 30), (2, 3, 2), (2, 6, 100), (3, 4, 3), (3, 5, 400)]:
    _probs = _rng.dirichlet(np.ones(_V), size=(_V,) * (_n - 1))
    _ids = _rng.integers(0, _V, size=_L)
    _nll = [-np.log(_probs[tuple(_ids[_t - _n + 1:_t + 1])]) for _t in range(_n - 1, _L)]
    _ppl = call(perplexity, _probs, _ids)
    assert_close(_ppl, np.exp(np.mean(_nll)), rtol=1e-10, name=f"perplexity(n={_n}, V={_V}, L={_L})")
_ppl = call(perplexity, np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([0, 1, 0]))
assert_that(np.isinf(_ppl), f"perplexity: a probability 0 on the text gives inf, got {_ppl}")
### END HIDDEN TESTS

# %% [markdown]
# **Sampling.** To generate text from an n-gram model, start from a context of $n - 1$ ids,
# draw the next id from $p(\cdot \mid \text{context})$, shift it into the context (dropping
# the oldest id), and repeat. Draw with **one** `rng.random()` per token and inverse transform
# sampling: the first id $w$ whose cumulative probability $p_0 + \dots + p_w$ exceeds the
# uniform number $u$ (chapter 07's `sample_token` did the same for a batch).

# %% nbgrader="solution" grade_id="sample_ngram" export=true
def sample_ngram(probs, context, length, rng):
    """Generate ids from an n-gram model.

    Args:
        probs: float array of shape (V,) * n (see perplexity).
        context: sequence of n - 1 ints, the ids before the first generated one (empty for n = 1).
        length: the number of ids to draw (int >= 0).
        rng: a numpy Generator; exactly one rng.random() per drawn id.

    Returns:
        int array (length,): the drawn ids, each the first w with probs[c][0] + ... + probs[c][w] > u
        for u = rng.random() and c the n - 1 ids before it. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    n = probs.ndim
    window = [int(i) for i in context][len(context) - (n - 1):] if n > 1 else []
    out = np.empty(length, dtype=np.int64)
    for t in range(length):
        cumulative = np.cumsum(probs[tuple(window)])
        u = rng.random() * cumulative[-1]
        w = min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)
        out[t] = w
        if n > 1:
            window = window[1:] + [w]
    return out
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_sample_ngram" points=2
_bi = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])    # 0 -> 1 -> 2 -> 0
_ids = call(sample_ngram, _bi, [2], 7, np.random.default_rng(0))
assert_close(_ids, [0, 1, 2, 0, 1, 2, 0], name="sample_ngram(a deterministic cycle 0 -> 1 -> 2 -> 0, context [2])")
assert_seeded(lambda rng: call(sample_ngram, np.full((3, 3), 1 / 3), [0], 20, rng), "sample_ngram(uniform bigram, [0], 20)")
_ids = call(sample_ngram, np.array([0.2, 0.5, 0.3]), [], 20000, np.random.default_rng(0))
assert_close(np.bincount(_ids, minlength=3) / 20000, [0.2, 0.5, 0.3], rtol=0, atol=0.015,
             name="sample_ngram(unigram [0.2, 0.5, 0.3]): frequencies of 20000 draws")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(805)
# a trigram model: the next id is (the id two back) + 1 mod 3 with probability 0.8
_tri = np.full((3, 3, 3), 0.1)
for _a in range(3):
    _tri[_a, :, (_a + 1) % 3] = 0.8
_ids = call(sample_ngram, _tri, [0, 2], 30000, np.random.default_rng(3))
_full = np.concatenate([[0, 2], _ids])
_hits = np.mean(_full[2:] == (_full[:-2] + 1) % 3)
assert_close(_hits, 0.8, rtol=0, atol=0.015, name="sample_ngram(trigram: next = (id two back + 1) mod 3 with p=0.8): "
             "share of such draws (the context must hold the last two ids, oldest first)")
# exact draws: inverse transform with one uniform per token
_probs = _rng.dirichlet(np.ones(4), size=4)
_ids = call(sample_ngram, _probs, [1], 50, np.random.default_rng(9))
_u, _prev, _ref = np.random.default_rng(9), 1, []
for _ in range(50):
    _c = np.cumsum(_probs[_prev])
    _prev = min(int(np.searchsorted(_c, _u.random() * _c[-1], side="right")), 3)
    _ref.append(_prev)
assert_close(_ids, _ref, rtol=0, atol=0, name="sample_ngram(bigram, [1], 50, default_rng(9)): the ids drawn by "
             "inverse transform sampling with one rng.random() per token")
assert_that(len(call(sample_ngram, _probs, [0], 0, np.random.default_rng(0))) == 0, "sample_ngram(length=0) must "
            "return an empty array")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Word vectors: skip-gram with negative sampling
#
# Counting treats every token as unrelated to every other: "king" and "queen" share nothing.
# **word2vec** (Mikolov et al., 2013) learns a vector per word such that words in similar
# contexts get similar vectors. Its **skip-gram** form predicts, from a center word $c$, the
# words $o$ within a few positions of it. Each word has two vectors: $v_w$ (row $w$ of
# `W_in`, used as a center) and $u_w$ (row $w$ of `W_out`, used as a context). Instead of a
# softmax over the whole vocabulary, **negative sampling** turns each pair into logistic
# regressions: the true context against $K$ random "negative" words $n_1, \dots, n_K$:
#
# $$\ell(c, o, n_{1..K}) = -\ln \sigma(u_o^\top v_c) - \sum_{k=1}^{K} \ln \sigma(-u_{n_k}^\top v_c).$$
#
# For a batch of $B$ pairs the loss is the **mean** of $\ell$ over the batch. With
# $s = u^\top v_c$, $\partial(-\ln\sigma(s))/\partial s = \sigma(s) - 1$ and
# $\partial(-\ln\sigma(-s))/\partial s = \sigma(s)$; the chain rule then gives the gradients of
# $v_c$, $u_o$ and every $u_{n_k}$. A word can appear several times in a batch (and as center
# and context): its gradients **add up** — `np.add.at` again. Compute $-\ln\sigma(s) =
# \ln(1 + e^{-s})$ as `np.logaddexp(0, -s)`, which does not overflow.

# %% nbgrader="solution" grade_id="sgns_loss" export=true
def sgns_loss(W_in, W_out, centers, contexts, negatives):
    """Skip-gram negative-sampling loss and its gradients.

    Args:
        W_in: float array (V, D), the center vectors v_w; W_out: float array (V, D), the context vectors u_w.
        centers: int array (B,); contexts: int array (B,); negatives: int array (B, K).

    Returns:
        loss: a Python float, the mean over the batch of
            -ln sigmoid(u_o . v_c) - sum_k ln sigmoid(-u_{n_k} . v_c).
        dW_in, dW_out: arrays (V, D) of W_in's dtype, the gradients of the loss (zero rows for
        words not in the batch). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    B = len(centers)
    v = W_in[centers]                                        # (B, D)
    u_pos, u_neg = W_out[contexts], W_out[negatives]         # (B, D), (B, K, D)
    s_pos = np.sum(u_pos * v, axis=1)                        # (B,)
    s_neg = np.einsum("bkd,bd->bk", u_neg, v)                # (B, K)
    loss = float((np.logaddexp(0, -s_pos).sum() + np.logaddexp(0, s_neg).sum()) / B)
    g_pos = (0.5 * (1 + np.tanh(0.5 * s_pos)) - 1.0) / B     # dloss/ds_pos
    g_neg = 0.5 * (1 + np.tanh(0.5 * s_neg)) / B             # dloss/ds_neg
    dW_in, dW_out = np.zeros_like(W_in), np.zeros_like(W_out)
    np.add.at(dW_in, centers, g_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", g_neg, u_neg))
    np.add.at(dW_out, contexts, g_pos[:, None] * v)
    np.add.at(dW_out, negatives.reshape(-1), (g_neg[:, :, None] * v[:, None, :]).reshape(-1, v.shape[1]))
    return loss, dW_in, dW_out
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_sgns_loss" points=4
# all vectors zero: every score is 0, each of the 1 + K terms is ln 2
_loss, _dWi, _dWo = unpack(call(sgns_loss, np.zeros((4, 3)), np.zeros((4, 3)), np.array([0]), np.array([1]),
                                np.array([[2, 3]])), 3, "sgns_loss")
assert_scalar(_loss, name="sgns_loss(all vectors 0, K=2)")
assert_close(_loss, 3 * np.log(2), rtol=1e-12, name="sgns_loss(all vectors 0, K=2) = 3 ln 2")
_rng = np.random.default_rng(0)
_Wi, _Wo = _rng.normal(size=(6, 4)), _rng.normal(size=(6, 4))
_c, _o, _neg = np.array([0, 1, 0]), np.array([2, 3, 5]), np.array([[4, 5], [0, 2], [5, 5]])
_loss, _dWi, _dWo = unpack(call(sgns_loss, _Wi, _Wo, _c, _o, _neg), 3, "sgns_loss")
_ref = np.mean([np.logaddexp(0, -_Wo[_o[b]] @ _Wi[_c[b]]) + sum(np.logaddexp(0, _Wo[k] @ _Wi[_c[b]])
                                                               for k in _neg[b]) for b in range(3)])
assert_close(_loss, _ref, rtol=1e-10, name="sgns_loss(V=6, D=4, B=3, K=2): the mean loss")
assert_shape(_dWi, (6, 4), name="sgns_loss: dW_in")
assert_shape(_dWo, (6, 4), name="sgns_loss: dW_out")
_label = "sgns_loss (V=6, D=4, B=3, K=2; word 0 is a center twice, word 5 a negative three times)"
assert_close(_dWi, numerical_gradient_array(lambda w: np.array(sgns_loss(w, _Wo, _c, _o, _neg)[0]), _Wi.copy(),
                                            np.array(1.0)), rtol=1e-5, atol=1e-8,
             name=f"{_label}: dW_in against the numerical gradient")
assert_close(_dWo, numerical_gradient_array(lambda w: np.array(sgns_loss(_Wi, w, _c, _o, _neg)[0]), _Wo.copy(),
                                            np.array(1.0)), rtol=1e-5, atol=1e-8,
             name=f"{_label}: dW_out against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(806)
for _V, _D, _B, _K, _scale in [(2, 1, 1, 1, 1.0), (5, 3, 1, 4, 1.0), (8, 6, 20, 5, 0.5), (30, 10, 64, 3, 2.0),
                               (4, 2, 7, 2, 40.0)]:
    _Wi, _Wo = _rng.normal(size=(_V, _D)) * _scale, _rng.normal(size=(_V, _D)) * _scale
    _c, _o, _neg = _rng.integers(0, _V, _B), _rng.integers(0, _V, _B), _rng.integers(0, _V, (_B, _K))
    _ti, _to = _torch.tensor(_Wi, requires_grad=True), _torch.tensor(_Wo, requires_grad=True)
    _v = _ti[_torch.tensor(_c)]
    _sp = (_to[_torch.tensor(_o)] * _v).sum(1)
    _sn = _torch.einsum("bkd,bd->bk", _to[_torch.tensor(_neg)], _v)
    _tl = -(_torch.nn.functional.logsigmoid(_sp) + _torch.nn.functional.logsigmoid(-_sn).sum(1)).mean()
    _tl.backward()
    _label = f"sgns_loss(V={_V}, D={_D}, B={_B}, K={_K}, vectors of scale {_scale})"
    _loss, _dWi, _dWo = unpack(call(sgns_loss, _Wi, _Wo, _c, _o, _neg), 3, "sgns_loss")
    assert_close(_loss, _tl.item(), rtol=1e-10, atol=1e-12, name=f"{_label}: loss against torch (logsigmoid)")
    assert_close(_dWi, _ti.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dW_in against torch")
    assert_close(_dWo, _to.grad.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: dW_out against torch")
_out = call(sgns_loss, _Wi.astype(np.float32), _Wo.astype(np.float32), _c, _o, _neg)
assert_that(_out[1].dtype == np.float32 and _out[2].dtype == np.float32, "sgns_loss with float32 vectors: the "
            f"gradients must stay float32, got {_out[1].dtype} and {_out[2].dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Scaled dot-product attention
#
# Attention is a soft dictionary look-up. Each position asks a **query** $q_i \in \mathbb{R}^d$;
# every position offers a **key** $k_j \in \mathbb{R}^d$ and a **value** $v_j$. The query is
# compared with every key, the scores become weights by a softmax over the keys, and the
# answer is the weighted average of the values:
#
# $$S = \frac{Q K^\top}{\sqrt{d}}, \qquad P = \operatorname{softmax}_{\text{rows}}(S), \qquad O = P V,$$
#
# with $Q$ of shape $(T_q, d)$, $K$ of shape $(T_k, d)$, $V$ of shape $(T_k, d_v)$ and $P$
# of shape $(T_q, T_k)$, each row a distribution over the keys. Why $\sqrt{d}$: for random
# queries and keys of unit-variance entries, $q^\top k$ has variance $d$; without the division a
# large $d$ pushes the softmax into saturation, where its gradient vanishes.
#
# **Masks** forbid some query–key pairs: their scores become $-\infty$ before the softmax, so
# their weights are exactly 0. A **causal** mask lets query $i$ see only keys $j \le i$ (a
# language model must not look at the future); a **padding** mask hides the keys of the
# padding tokens that fill short sequences up to the batch's length. We pass masks as
# booleans, **True where attention is allowed** (as `F.scaled_dot_product_attention` does;
# careful: `nn.MultiheadAttention` uses the opposite convention). A row in which every key is
# masked would be $0/0$; we define its weights and its output as **zero** (so is its gradient).
#
# **Backward**, from $\partial L/\partial O$ (`dout`): $\partial L/\partial V = P^\top\, dO$ and
# $\partial L/\partial P = dO\, V^\top$; through the softmax of each row,
# $\partial L/\partial S_{ij} = P_{ij}\big(\partial L/\partial P_{ij} - \sum_{j'} P_{ij'}\, \partial L/\partial P_{ij'}\big)$;
# then $\partial L/\partial Q = (\partial L/\partial S)\, K/\sqrt{d}$ and
# $\partial L/\partial K = (\partial L/\partial S)^\top Q/\sqrt{d}$.
#
# Write it for any number of leading batch axes (`(..., T, d)`): `np.matmul` and `@` treat the
# last two axes as matrices and broadcast the others, and `np.swapaxes(k, -1, -2)` transposes
# them. Subtract each row's maximum before `np.exp` (the masked entries excepted).

# %% nbgrader="solution" grade_id="attention" export=true
def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    """Scaled dot-product attention softmax(q k^T * scale) v with boolean masks.

    Args:
        q: array (..., Tq, d); k: array (..., Tk, d); v: array (..., Tk, dv). The leading axes
            (batch, heads, ...) broadcast against each other. One float dtype.
        mask: None or a boolean array broadcastable to (..., Tq, Tk): True where query i may
            attend to key j.
        causal: if True, query i may also only attend to keys j <= i (combined with mask).
        scale: the factor of the scores; None for 1 / sqrt(d).

    Returns:
        out: array (..., Tq, dv) of q's dtype.
        weights: array (..., Tq, Tk), the softmax weights (0 where masked; a row whose keys are
            all masked is all 0, and so is its output).
        cache: whatever attention_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    Tq, d = q.shape[-2:]
    Tk = k.shape[-2]
    scale = float(1.0 / np.sqrt(d) if scale is None else scale)   # a Python float keeps float32 as float32
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    allowed = np.ones((Tq, Tk), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if causal:
        allowed = allowed & np.tri(Tq, Tk, dtype=bool)
    allowed = np.broadcast_to(allowed, scores.shape)
    row_max = np.max(scores, axis=-1, keepdims=True, where=allowed, initial=-np.inf)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.where(allowed, np.exp(np.where(allowed, scores - row_max, 0.0)), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    weights = (e / np.where(total > 0, total, 1.0)).astype(q.dtype, copy=False)
    out = weights @ v
    return out, weights, (q, k, v, weights, scale)
    ### END SOLUTION


def attention_backward(dout, cache):
    """Backward pass of attention_forward.

    Args:
        dout: array (..., Tq, dv), dL/dout; cache: from attention_forward.

    Returns:
        dq, dk, dv: arrays of the shapes of q, k and v (summed over any axis that was broadcast),
        of dout's dtype. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    q, k, v, weights, scale = cache
    dweights = dout @ np.swapaxes(v, -1, -2)
    dscores = weights * (dweights - np.sum(dweights * weights, axis=-1, keepdims=True))
    dq = (dscores @ k) * scale
    dk = (np.swapaxes(dscores, -1, -2) @ q) * scale
    dv = np.swapaxes(weights, -1, -2) @ dout

    def reduce_to(g, shape):
        g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
        axes = tuple(i for i, (a, b) in enumerate(zip(g.shape, shape, strict=True)) if b == 1 and a != 1)
        return g.sum(axis=axes, keepdims=True) if axes else g

    return reduce_to(dq, q.shape), reduce_to(dk, k.shape), reduce_to(dv, v.shape)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_attention" points=6
# two keys, one query: the scores are q.k / sqrt(2) = [0, ln 3], so the weights are [1/4, 3/4]
_q = np.array([[[np.log(3.0), np.log(3.0)]]])
_k = np.array([[[0.0, 0.0], [np.sqrt(2) / 2, np.sqrt(2) / 2]]])
_v = np.array([[[4.0], [8.0]]])
_out, _w, _cache = unpack(call(attention_forward, _q, _k, _v), 3, "attention_forward")
assert_shape(_out, (1, 1, 1), name="attention_forward(q (1, 1, 2), k (1, 2, 2), v (1, 2, 1))")
assert_close(_w, [[[0.25, 0.75]]], name="attention_forward of the example: weights (scores [0, ln 3])")
assert_close(_out, [[[7.0]]], name="attention_forward of the example: out = 0.25 * 4 + 0.75 * 8")
# the causal mask: the first query sees only the first key
_x = np.random.default_rng(0).normal(size=(2, 4, 3))
_out, _w, _ = call(attention_forward, _x, _x, _x, causal=True)
assert_close(_w[:, 0], np.tile([1.0, 0.0, 0.0, 0.0], (2, 1)), name="attention_forward(causal=True): the weights "
             "of query 0 (it may only see key 0)")
assert_close(np.triu(_w[0], 1), np.zeros((4, 4)), name="attention_forward(causal=True): weights above the diagonal")
# a padding mask: key 2 hidden; query 1's keys all hidden
_mask = np.array([[True, True, False], [False, False, False]])
_out, _w, _ = call(attention_forward, _x[:1, :2], _x[:1, :3], _x[:1, :3], mask=_mask)
assert_close(_w[0, :, 2], [0.0, 0.0], name="attention_forward(mask hides key 2): its weights")
assert_close(_w[0, 1], [0.0, 0.0, 0.0], name="attention_forward: a row whose keys are all masked has zero weights")
assert_close(_out[0, 1], [0.0, 0.0, 0.0], name="attention_forward: a row whose keys are all masked has zero output")
# backward against numerical gradients, with a mask and leading axes (2, 3)
_rng = np.random.default_rng(1)
_q, _k, _v = _rng.normal(size=(2, 3, 4, 5)), _rng.normal(size=(2, 3, 6, 5)), _rng.normal(size=(2, 3, 6, 2))
_mask = _rng.random((2, 1, 4, 6)) < 0.7
_mask[0, 0, 1] = False
_out, _w, _cache = call(attention_forward, _q, _k, _v, mask=_mask)
_dout = _rng.normal(size=(2, 3, 4, 2))
_dq, _dk, _dv = unpack(call(attention_backward, _dout, _cache), 3, "attention_backward")
_label = "attention_backward (q (2, 3, 4, 5), k (2, 3, 6, 5), v (2, 3, 6, 2), a random mask)"
for _name, _grad, _fn, _arg in [
        ("dq", _dq, lambda a: attention_forward(a, _k, _v, _mask)[0], _q),
        ("dk", _dk, lambda a: attention_forward(_q, a, _v, _mask)[0], _k),
        ("dv", _dv, lambda a: attention_forward(_q, _k, a, _mask)[0], _v)]:
    assert_close(_grad, numerical_gradient_array(_fn, _arg.copy(), _dout), rtol=1e-5, atol=1e-7,
                 name=f"{_label}: {_name} against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(807)
for _lead, _Tq, _Tk, _d, _dv_, _kind, _scale in [
        ((1,), 1, 1, 1, 1, None, None), ((1, 1), 1, 5, 3, 2, "pad", None), ((3,), 4, 4, 8, 8, "causal", None),
        ((2, 3), 6, 6, 4, 5, "both", None), ((2,), 3, 7, 2, 3, "random", 0.7), ((4, 2), 5, 5, 16, 4, "pad", None),
        ((1,), 9, 9, 6, 6, "causal", 3.0), ((2, 2), 4, 3, 5, 2, "none", 0.1)]:
    _q = _rng.normal(size=(*_lead, _Tq, _d))
    _k = _rng.normal(size=(*_lead, _Tk, _d))
    _v = _rng.normal(size=(*_lead, _Tk, _dv_))
    _dout = _rng.normal(size=(*_lead, _Tq, _dv_))
    _mask = None
    if _kind in ("pad", "both"):
        _mask = np.ones((_lead[0], *(1,) * (len(_lead) - 1), 1, _Tk), dtype=bool)
        _mask[..., _Tk - 1] = _Tk == 1                   # hide the last key (unless it is the only one)
    elif _kind == "random":
        _mask = _rng.random((*_lead, _Tq, _Tk)) < 0.6
        _mask[..., 0, :] = False                            # a fully masked row
    _full = np.ones(_q.shape[:-1] + (_Tk,), dtype=bool) if _mask is None else np.broadcast_to(
        _mask, _q.shape[:-1] + (_Tk,)).copy()
    if _kind in ("causal", "both"):
        _full &= np.tri(_Tq, _Tk, dtype=bool)
    _ts = [_torch.tensor(_a, requires_grad=True) for _a in (_q, _k, _v)]
    _ref = _F.scaled_dot_product_attention(*_ts, attn_mask=_torch.tensor(_full), scale=_scale)
    _ref.backward(_torch.tensor(_dout))
    _label = (f"attention_forward(q {_q.shape}, k {_k.shape}, v {_v.shape}, mask {_kind}, "
              f"scale {_scale})")
    _kwargs = {"mask": _mask, "causal": _kind in ("causal", "both")}
    if _scale is not None:
        _kwargs["scale"] = _scale
    _out, _w, _cache = unpack(call(attention_forward, _q, _k, _v, **_kwargs), 3, "attention_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-12,
                 name=f"{_label}: out against F.scaled_dot_product_attention")
    _rows = _full.any(axis=-1)
    assert_close(_w.sum(axis=-1), _rows.astype(float), rtol=1e-12, atol=1e-12,
                 name=f"{_label}: each row of weights sums to 1 (0 for a fully masked row)")
    assert_that(np.all(_w[~_full] == 0), f"{_label}: masked weights must be exactly 0")
    _dq, _dk, _dvv = unpack(call(attention_backward, _dout, _cache), 3, "attention_backward")
    for _name, _g, _t in [("dq", _dq, _ts[0]), ("dk", _dk, _ts[1]), ("dv", _dvv, _ts[2])]:
        assert_close(_g, _t.grad.numpy(), rtol=1e-9, atol=1e-11, name=f"attention_backward after {_label}: {_name}")
# large scores: no overflow
_q = np.array([[[300.0, 0.0], [0.0, -300.0]]])
_out, _w, _ = call(attention_forward, _q, _q, _q)
assert_that(np.all(np.isfinite(_w)), "attention_forward with scores of about 6e4: the weights overflowed (subtract "
            "each row's maximum)")
_q32 = np.random.default_rng(8).normal(size=(2, 3, 4)).astype(np.float32)
_out, _w, _cache = call(attention_forward, _q32, _q32, _q32, causal=True)
_g = call(attention_backward, np.ones_like(_q32), _cache)
assert_that(_out.dtype == np.float32 and all(_a.dtype == np.float32 for _a in _g), "attention with float32 inputs: "
            f"out and gradients must stay float32, got {_out.dtype}, {[_a.dtype for _a in _g]}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** Self-attention over a sequence of $T$ tokens with model width $E$: how
# does the memory for the weights $P$ of one head grow with $T$? Set `q1_answer` to `"a"`
# ($\propto T$), `"b"` ($\propto T^2$), `"c"` ($\propto T E$) or `"d"` ($\propto E^2$).

# %% nbgrader="solution" grade_id="q1_attention_memory"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_attention_memory" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_choice(q1_answer, ["a", "b", "c", "d"], name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, "b", name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Where a token is: positional encoding
#
# Attention compares contents only: permute the tokens of the input and the outputs are
# permuted the same way (try it below). Word order has to be put into the input. The
# original transformer (Vaswani et al., 2017) adds to each token's embedding a fixed
# **sinusoidal positional encoding** of its position $t = 0, 1, \dots$:
#
# $$PE_{t, 2i} = \sin\!\big(t / 10000^{2i/E}\big), \qquad PE_{t, 2i+1} = \cos\!\big(t / 10000^{2i/E}\big),$$
#
# for $i = 0, 1, \dots$: pairs of columns with wavelengths from $2\pi$ to $10000 \cdot 2\pi$.
# For an odd width $E$ the last column is a sine. Because $\sin$ and $\cos$ of $t + \Delta$ are a
# rotation of those of $t$, every offset $\Delta$ is a linear map that attention can learn.

# %% nbgrader="solution" grade_id="positional_encoding" export=true
def positional_encoding(T, E):
    """Sinusoidal positional encodings of positions 0 .. T-1.

    Args:
        T: the number of positions; E: the width (ints >= 1).

    Returns:
        float64 array (T, E): column 2i is sin(t / 10000^(2i / E)), column 2i + 1 is
        cos(t / 10000^(2i / E)).
    """
    ### BEGIN SOLUTION
    t = np.arange(T)[:, None]
    freq = 10000.0 ** (-(np.arange(E) // 2 * 2) / E)
    angles = t * freq
    return np.where(np.arange(E) % 2 == 0, np.sin(angles), np.cos(angles))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_positional_encoding" points=2
_pe = call(positional_encoding, 3, 4)
assert_shape(_pe, (3, 4), name="positional_encoding(3, 4)")
assert_close(_pe[0], [0.0, 1.0, 0.0, 1.0], name="positional_encoding(3, 4)[0] (position 0: sin 0, cos 0, ...)")
assert_close(_pe[2], [np.sin(2), np.cos(2), np.sin(0.02), np.cos(0.02)], rtol=1e-12,
             name="positional_encoding(3, 4)[2] (frequencies 1 and 1/10000^(2/4) = 0.01)")
### BEGIN HIDDEN TESTS
for _T, _E in [(1, 1), (1, 6), (5, 1), (7, 5), (50, 16), (128, 33)]:
    _t = _torch.arange(_T, dtype=_torch.float64)[:, None]
    _div = _torch.exp(_torch.arange(0, _E, 2, dtype=_torch.float64) * (-np.log(10000.0) / _E))
    _ref = _torch.zeros(_T, _E, dtype=_torch.float64)
    _ref[:, 0::2] = _torch.sin(_t * _div)
    _ref[:, 1::2] = _torch.cos(_t * _div[: _E // 2])
    _pe = call(positional_encoding, _T, _E)
    assert_shape(_pe, (_T, _E), name=f"positional_encoding({_T}, {_E})")
    assert_close(_pe, _ref.numpy(), rtol=1e-10, atol=1e-12, name=f"positional_encoding({_T}, {_E})")
    assert_that(np.asarray(_pe).dtype == np.float64, f"positional_encoding must return float64, got "
                f"{np.asarray(_pe).dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Layer normalization
#
# Batch normalization (chapter 05) normalizes each feature over the batch; with sequences of
# different lengths and batches of one at generation time that is awkward. **Layer
# normalization** (Ba et al., 2016) normalizes each token's feature vector by its own mean and
# variance, then scales and shifts every feature:
#
# $$\mu = \frac1E \sum_e x_e, \qquad \sigma^2 = \frac1E \sum_e (x_e - \mu)^2, \qquad
#   \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad y = \gamma \odot \hat x + \beta.$$
#
# The variance is the biased one (divided by $E$) and $\varepsilon$ sits inside the square
# root, as in `nn.LayerNorm` (default $\varepsilon = 10^{-5}$). It works on the last axis of an
# array of any shape — the same computation for every token, at training and test time alike.
#
# Backward: $\partial L/\partial \gamma = \sum \partial L/\partial y \odot \hat x$ and
# $\partial L/\partial\beta = \sum \partial L/\partial y$, summed over **all** leading axes
# (batch and time); with $g = \gamma \odot \partial L/\partial y$,
#
# $$\frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2 + \varepsilon}}\Big(g - \overline{g} - \hat x\, \overline{g \odot \hat x}\Big),$$
#
# where the bars are means over the last axis.

# %% nbgrader="solution" grade_id="layernorm" export=true
def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalization over the last axis.

    Args:
        x: array (..., E); gamma, beta: arrays (E,). One float dtype.
        eps: added to the (biased) variance inside the square root.

    Returns:
        out: array of x's shape and dtype; cache: whatever layernorm_backward needs.
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    mu = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mu) * inv_std
    return xhat * gamma + beta, (xhat, inv_std, gamma)
    ### END SOLUTION


def layernorm_backward(dout, cache):
    """Backward pass of layernorm_forward.

    Args:
        dout: array (..., E); cache: from layernorm_forward.

    Returns:
        dx (..., E), dgamma (E,), dbeta (E,) (summed over every leading axis), of dout's dtype.
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    xhat, inv_std, gamma = cache
    E = xhat.shape[-1]
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    flat = dout.reshape(-1, E)
    return dx, (flat * xhat.reshape(-1, E)).sum(axis=0), flat.sum(axis=0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_layernorm" points=3
_out, _cache = unpack(call(layernorm_forward, np.array([[1.0, 3.0]]), np.array([2.0, 1.0]), np.array([0.0, 0.5]),
                           eps=0.0), 2, "layernorm_forward")
assert_close(_out, [[-2.0, 1.5]], name="layernorm_forward([[1, 3]], gamma=[2, 1], beta=[0, 0.5], eps=0)")
_rng = np.random.default_rng(2)
_x, _g, _b = _rng.normal(size=(2, 3, 5)) * 3 + 1, _rng.normal(size=5), _rng.normal(size=5)
_out, _cache = call(layernorm_forward, _x, _g, _b)
assert_shape(_out, (2, 3, 5), name="layernorm_forward(x (2, 3, 5))")
_dout = _rng.normal(size=(2, 3, 5))
_dx, _dg, _db = unpack(call(layernorm_backward, _dout, _cache), 3, "layernorm_backward")
_label = "layernorm_backward (x (2, 3, 5))"
assert_close(_dx, numerical_gradient_array(lambda a: layernorm_forward(a, _g, _b)[0], _x.copy(), _dout), rtol=1e-5,
             atol=1e-7, name=f"{_label}: dx against the numerical gradient")
assert_close(_dg, numerical_gradient_array(lambda a: layernorm_forward(_x, a, _b)[0], _g.copy(), _dout), rtol=1e-5,
             atol=1e-7, name=f"{_label}: dgamma against the numerical gradient")
assert_close(_db, _dout.sum(axis=(0, 1)), rtol=1e-10, name=f"{_label}: dbeta")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(808)
for _shape, _eps, _xs in [((1, 1), 1e-5, 1.0), ((1, 4), 1e-5, 1.0), ((3, 1, 6), 1e-3, 5.0), ((7, 9), 1e-5, 0.01),
                          ((2, 5, 8), 0.1, 2.0), ((4, 3, 2, 16), 1e-5, 100.0)]:
    _E = _shape[-1]
    _x = _rng.normal(size=_shape) * _xs + _rng.normal()
    _g, _b, _dout = _rng.normal(size=_E), _rng.normal(size=_E), _rng.normal(size=_shape)
    _ln = _torch.nn.LayerNorm(_E, eps=_eps).double()
    with _torch.no_grad():
        _ln.weight.copy_(_torch.tensor(_g))
        _ln.bias.copy_(_torch.tensor(_b))
    _tx = _torch.tensor(_x, requires_grad=True)
    _ref = _ln(_tx)
    _ref.backward(_torch.tensor(_dout))
    _label = f"layernorm_forward(x {_shape} of scale {_xs}, eps={_eps})"
    _out, _cache = unpack(call(layernorm_forward, _x, _g, _b, eps=_eps), 2, "layernorm_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-9, atol=1e-10, name=f"{_label}: out against nn.LayerNorm")
    _dx, _dg, _db = unpack(call(layernorm_backward, _dout, _cache), 3, "layernorm_backward")
    assert_close(_dx, _tx.grad.numpy(), rtol=1e-8, atol=1e-9, name=f"layernorm_backward after {_label}: dx")
    assert_close(_dg, _ln.weight.grad.numpy(), rtol=1e-9, atol=1e-10, name=f"layernorm_backward after {_label}: dgamma")
    assert_close(_db, _ln.bias.grad.numpy(), rtol=1e-9, atol=1e-10, name=f"layernorm_backward after {_label}: dbeta")
_x32 = _x.astype(np.float32)
_out, _cache = call(layernorm_forward, _x32, _g.astype(np.float32), _b.astype(np.float32))
_g3 = call(layernorm_backward, _dout.astype(np.float32), _cache)
assert_that(_out.dtype == np.float32 and all(_a.dtype == np.float32 for _a in _g3), "layernorm with float32 inputs: "
            f"out and gradients must stay float32, got {_out.dtype}, {[_a.dtype for _a in _g3]}")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Multi-head self-attention
#
# In **self-attention** queries, keys and values all come from the same sequence $X$ of
# shape $(T, E)$, through three learned linear maps. **Multi-head** attention runs $h$
# attentions side by side, each in a subspace of width $d = E / h$, so that different heads
# can look for different things (one at the previous token, one at a matching bracket …),
# then mixes their outputs with a fourth map. In `nn.MultiheadAttention`'s layout:
#
# $$[Q \,|\, K \,|\, V] = X W_{in}^\top + b_{in}, \quad W_{in} \in \mathbb{R}^{3E \times E},\qquad
#   \text{head}_a = \operatorname{attention}(Q_a, K_a, V_a), \qquad
#   Y = [\text{head}_1 | \dots | \text{head}_h]\, W_{out}^\top + b_{out},$$
#
# where $Q_a$ is columns $a d, \dots, (a+1) d - 1$ of $Q$ (the same for $K$, $V$). Reshape
# $(N, T, E) \to (N, T, h, d) \to (N, h, T, d)$ and your `attention_forward` does all heads at
# once. The mask (True = allowed) has shape broadcastable to $(N, T, T)$: the same for every
# head. Backward, go through the same steps in reverse: the output map, the heads'
# `attention_backward`, the reshape back, the input map.

# %% nbgrader="solution" grade_id="mha" export=true
def mha_forward(x, params, num_heads, mask=None, causal=False):
    """Multi-head self-attention in nn.MultiheadAttention's layout.

    Args:
        x: array (N, T, E).
        params: dict with "W_in" (3E, E) (rows: the query, key and value maps, in that order),
            "b_in" (3E,), "W_out" (E, E), "b_out" (E,). One float dtype with x.
        num_heads: h, a divisor of E.
        mask: None or boolean array broadcastable to (N, T, T), True where query t may attend to key s.
        causal: if True, also hide the keys after each query.

    Returns:
        out: array (N, T, E) of x's dtype.
        weights: array (N, h, T, T), every head's attention weights (rows all 0 where every key is masked).
        cache: whatever mha_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, T, E = x.shape
    d = E // num_heads
    qkv = x @ params["W_in"].T + params["b_in"]                              # (N, T, 3E)
    heads = qkv.reshape(N, T, 3, num_heads, d).transpose(2, 0, 3, 1, 4)      # (3, N, h, T, d)
    head_mask = None if mask is None else np.asarray(mask, dtype=bool)[..., None, :, :]
    if head_mask is not None and head_mask.ndim == 3:
        head_mask = head_mask[None]
    attended, weights, att_cache = attention_forward(heads[0], heads[1], heads[2], head_mask, causal)
    merged = attended.transpose(0, 2, 1, 3).reshape(N, T, E)
    out = merged @ params["W_out"].T + params["b_out"]
    return out, weights, (x, merged, att_cache, params, num_heads)
    ### END SOLUTION


def mha_backward(dout, cache):
    """Backward pass of mha_forward.

    Args:
        dout: array (N, T, E); cache: from mha_forward.

    Returns:
        dx: array (N, T, E); grads: dict with "W_in", "W_out", "b_in", "b_out" of the parameters'
        shapes (summed over the batch and the positions). All of dout's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, merged, att_cache, params, num_heads = cache
    N, T, E = x.shape
    d = E // num_heads
    flat = dout.reshape(-1, E)
    grads = {"W_out": flat.T @ merged.reshape(-1, E), "b_out": flat.sum(axis=0)}
    dmerged = (dout @ params["W_out"]).reshape(N, T, num_heads, d).transpose(0, 2, 1, 3)
    dq, dk, dv = attention_backward(dmerged, att_cache)
    dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(N * T, 3 * E)
    grads["W_in"] = dqkv.T @ x.reshape(-1, E)
    grads["b_in"] = dqkv.sum(axis=0)
    return (dqkv @ params["W_in"]).reshape(N, T, E), grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_mha" points=5
# one head, identity maps, no biases: plain self-attention of x with itself
_E = 2
_params = {"W_in": np.vstack([np.eye(_E)] * 3), "b_in": np.zeros(3 * _E), "W_out": np.eye(_E), "b_out": np.zeros(_E)}
_x = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
_out, _w, _cache = unpack(call(mha_forward, _x, _params, 1), 3, "mha_forward")
_ref_out, _ref_w, _ = attention_forward(_x, _x, _x)
assert_shape(_w, (1, 1, 3, 3), name="mha_forward(x (1, 3, 2), 1 head): weights")
assert_close(_out, _ref_out, name="mha_forward(x (1, 3, 2), 1 head, identity maps): the attention of x with itself")
# two heads on E = 4, a causal mask, against numerical gradients
_rng = np.random.default_rng(3)
_x, _params = _rng.normal(size=(2, 3, 4)), random_mha_params(_rng, 4)
_out, _w, _cache = call(mha_forward, _x, _params, 2, causal=True)
assert_shape(_out, (2, 3, 4), name="mha_forward(x (2, 3, 4), 2 heads)")
assert_shape(_w, (2, 2, 3, 3), name="mha_forward(x (2, 3, 4), 2 heads): weights (N, h, T, T)")
assert_close(_w[:, :, 0, 0], np.ones((2, 2)), name="mha_forward(causal=True): query 0 of every head sees only key 0")
_dout = _rng.normal(size=(2, 3, 4))
_dx, _grads = unpack(call(mha_backward, _dout, _cache), 2, "mha_backward")
_label = "mha_backward (x (2, 3, 4), 2 heads, causal)"
assert_close(_dx, numerical_gradient_array(lambda a: mha_forward(a, _params, 2, causal=True)[0], _x.copy(), _dout),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: mha_forward(_x, p, 2, causal=True)[0], _params, MHA_KEYS, _dout),
            MHA_KEYS, f"{_label} against the numerical gradient", rtol=1e-5, atol=1e-7)
### BEGIN HIDDEN TESTS


def _torch_mha(x, params, h, allowed, dout):
    """Output, per-head weights and gradients of nn.MultiheadAttention(batch_first) with params copied."""
    N, T, E = x.shape
    m = _torch.nn.MultiheadAttention(E, h, batch_first=True).double()
    with _torch.no_grad():
        m.in_proj_weight.copy_(_torch.tensor(params["W_in"]))
        m.in_proj_bias.copy_(_torch.tensor(params["b_in"]))
        m.out_proj.weight.copy_(_torch.tensor(params["W_out"]))
        m.out_proj.bias.copy_(_torch.tensor(params["b_out"]))
    tx = _torch.tensor(x, requires_grad=True)
    # torch's attn_mask (N * h, T, T): True where NOT allowed
    blocked = _torch.tensor(~np.repeat(np.broadcast_to(allowed, (N, T, T)), h, axis=0))
    out, w = m(tx, tx, tx, attn_mask=blocked, need_weights=True, average_attn_weights=False)
    out.backward(_torch.tensor(dout))
    grads = {"W_in": m.in_proj_weight.grad.numpy(), "b_in": m.in_proj_bias.grad.numpy(),
             "W_out": m.out_proj.weight.grad.numpy(), "b_out": m.out_proj.bias.grad.numpy()}
    return out.detach().numpy(), w.detach().numpy(), tx.grad.numpy(), grads


_rng = np.random.default_rng(809)
for _N, _T, _E, _h, _kind in [(1, 1, 1, 1, None), (1, 4, 6, 3, "causal"), (3, 1, 8, 2, None), (2, 5, 8, 4, "pad"),
                              (4, 7, 12, 3, "both"), (2, 6, 8, 2, "random"), (5, 3, 16, 8, "pad")]:
    _x, _params = _rng.normal(size=(_N, _T, _E)), random_mha_params(_rng, _E, 0.6)
    _dout = _rng.normal(size=(_N, _T, _E))
    _mask = None
    if _kind in ("pad", "both"):
        _lengths = _rng.integers(1, _T + 1, size=_N)
        _lengths[0] = _T
        _mask = (np.arange(_T)[None, :] < _lengths[:, None])[:, None, :]      # (N, 1, T)
    elif _kind == "random":
        _mask = _rng.random((_N, _T, _T)) < 0.6
        _mask[:, :, 0] = True
    _allowed = np.ones((_N, _T, _T), dtype=bool) if _mask is None else np.broadcast_to(_mask, (_N, _T, _T)).copy()
    if _kind in ("causal", "both"):
        _allowed &= np.tri(_T, dtype=bool)
    _ref_out, _ref_w, _ref_dx, _ref_grads = _torch_mha(_x, _params, _h, _allowed, _dout)
    _label = f"mha_forward(x ({_N}, {_T}, {_E}), {_h} heads, mask {_kind})"
    _out, _w, _cache = unpack(call(mha_forward, _x, _params, _h, mask=_mask, causal=_kind in ("causal", "both")), 3,
                              "mha_forward")
    assert_close(_out, _ref_out, rtol=1e-9, atol=1e-11, name=f"{_label}: out against nn.MultiheadAttention")
    assert_close(_w, _ref_w, rtol=1e-9, atol=1e-11, name=f"{_label}: weights against nn.MultiheadAttention's "
                 "(average_attn_weights=False)")
    _dx, _grads = unpack(call(mha_backward, _dout, _cache), 2, "mha_backward")
    assert_close(_dx, _ref_dx, rtol=1e-8, atol=1e-10, name=f"mha_backward after {_label}: dx")
    check_grads(_grads, _ref_grads, MHA_KEYS, f"mha_backward after {_label}", rtol=1e-8, atol=1e-10)
# a fully masked query row: zero weights and no nan anywhere
_mask = np.ones((1, 3, 3), dtype=bool)
_mask[0, 1] = False
_x, _params = _rng.normal(size=(1, 3, 4)), random_mha_params(_rng, 4)
_out, _w, _cache = call(mha_forward, _x, _params, 2, mask=_mask)
assert_close(_w[0, :, 1], np.zeros((2, 3)), name="mha_forward: weights of a query whose keys are all masked")
assert_close(_out[0, 1], _params["b_out"], rtol=1e-12, name="mha_forward: the output of a query whose keys are all "
             "masked is b_out (zero heads)")
_dx, _grads = call(mha_backward, np.ones((1, 3, 4)), _cache)
assert_that(np.all(np.isfinite(_dx)), "mha_backward with a fully masked query row: dx has nan or inf")
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_out, _w, _cache = call(mha_forward, _x.astype(np.float32), _p32, 2, causal=True)
_dx, _grads = call(mha_backward, np.ones((1, 3, 4), dtype=np.float32), _cache)
for _name, _a in [("out", _out), ("dx", _dx)] + [(f"grads[{k!r}]", _grads[k]) for k in MHA_KEYS]:
    assert_that(_a.dtype == np.float32, f"mha with float32 inputs: {_name} must stay float32, got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** How many parameters (weights and biases) does
# `torch.nn.MultiheadAttention(embed_dim=64, num_heads=8)` have? Set `q2_answer` to that
# number (an integer).

# %% nbgrader="solution" grade_id="q2_mha_params"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 16640
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_mha_params" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 16640, name="q2_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. A pre-norm transformer block
#
# A **transformer block** alternates two sub-layers, each wrapped in a residual connection:
# multi-head self-attention, in which the tokens exchange information, and a two-layer MLP
# applied to every token on its own. In the **pre-norm** arrangement (used by GPT-2 and most
# models since) each sub-layer sees a layer-normalized copy of its input, and the residual
# path stays untouched:
#
# $$H = X + \operatorname{MHA}(\operatorname{LN}_1(X)), \qquad
#   Y = H + \operatorname{relu}\big(\operatorname{LN}_2(H)\, W_1^\top + b_1\big)\, W_2^\top + b_2,$$
#
# with $W_1 \in \mathbb{R}^{F \times E}$, $W_2 \in \mathbb{R}^{E \times F}$ (typically $F = 4E$).
# This is `nn.TransformerEncoderLayer(E, h, dim_feedforward=F, dropout=0, norm_first=True,
# batch_first=True)` (ReLU, $\varepsilon = 10^{-5}$). Backward, the residual connections pass
# the gradient through unchanged **and** into their sub-layer: add both.

# %% nbgrader="solution" grade_id="block" export=true
def block_forward(x, params, num_heads, mask=None, causal=False):
    """A pre-norm transformer block: h = x + MHA(LN1(x)); out = h + W2 relu(W1 LN2(h) + b1) + b2.

    Args:
        x: array (N, T, E).
        params: dict with "ln1_g", "ln1_b", "ln2_g", "ln2_b" (E,); "W_in" (3E, E), "b_in" (3E,),
            "W_out" (E, E), "b_out" (E,) (as for mha_forward); "W1" (F, E), "b1" (F,), "W2" (E, F),
            "b2" (E,). One float dtype with x. Layer norms with eps = 1e-5.
        num_heads, mask, causal: as for mha_forward.

    Returns:
        out: array (N, T, E) of x's dtype; cache: whatever block_backward needs.
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    a, ln1_cache = layernorm_forward(x, params["ln1_g"], params["ln1_b"])
    att, _, mha_cache = mha_forward(a, {k: params[k] for k in ("W_in", "b_in", "W_out", "b_out")}, num_heads,
                                    mask, causal)
    h = x + att
    b, ln2_cache = layernorm_forward(h, params["ln2_g"], params["ln2_b"])
    hidden = np.maximum(b @ params["W1"].T + params["b1"], 0.0)
    out = h + hidden @ params["W2"].T + params["b2"]
    return out, (ln1_cache, mha_cache, ln2_cache, b, hidden, params)
    ### END SOLUTION


def block_backward(dout, cache):
    """Backward pass of block_forward.

    Args:
        dout: array (N, T, E); cache: from block_forward.

    Returns:
        dx: array (N, T, E); grads: dict with a gradient for each key of params (summed over the batch
        and the positions). All of dout's dtype; the arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    ln1_cache, mha_cache, ln2_cache, b, hidden, params = cache
    E, F = params["W2"].shape
    flat = dout.reshape(-1, E)
    grads = {"W2": flat.T @ hidden.reshape(-1, F), "b2": flat.sum(axis=0)}
    dhidden = (dout @ params["W2"]) * (hidden > 0)
    dflat = dhidden.reshape(-1, F)
    grads["W1"], grads["b1"] = dflat.T @ b.reshape(-1, E), dflat.sum(axis=0)
    db, grads["ln2_g"], grads["ln2_b"] = layernorm_backward(dhidden @ params["W1"], ln2_cache)
    dh = dout + db
    da, mha_grads = mha_backward(dh, mha_cache)
    grads.update(mha_grads)
    dx_ln, grads["ln1_g"], grads["ln1_b"] = layernorm_backward(da, ln1_cache)
    return dh + dx_ln, grads
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_block" points=5
# all weights zero: both sub-layers add only their output bias
_E, _F = 4, 6
_params = {k: np.zeros_like(v) for k, v in random_block_params(np.random.default_rng(0), _E, _F).items()}
_params["b_out"], _params["b2"] = np.full(_E, 0.5), np.full(_E, -2.0)
_x = np.arange(8.0).reshape(1, 2, 4)
_out, _cache = unpack(call(block_forward, _x, _params, 2), 2, "block_forward")
assert_close(_out, _x - 1.5, name="block_forward(all weights 0, b_out = 0.5, b2 = -2): out = x + 0.5 - 2")
_rng = np.random.default_rng(4)
_x, _params = _rng.normal(size=(2, 3, 4)), random_block_params(_rng, 4, 5)
_out, _cache = call(block_forward, _x, _params, 2, causal=True)
assert_shape(_out, (2, 3, 4), name="block_forward(x (2, 3, 4), 2 heads)")
_dout = _rng.normal(size=(2, 3, 4))
_dx, _grads = unpack(call(block_backward, _dout, _cache), 2, "block_backward")
_label = "block_backward (x (2, 3, 4), 2 heads, F=5, causal)"
assert_close(_dx, numerical_gradient_array(lambda a: block_forward(a, _params, 2, causal=True)[0], _x.copy(), _dout),
             rtol=1e-5, atol=1e-7, name=f"{_label}: dx against the numerical gradient")
check_grads(_grads, numerical_param_grads(lambda p: block_forward(_x, p, 2, causal=True)[0], _params, BLOCK_KEYS,
                                          _dout), BLOCK_KEYS, f"{_label} against the numerical gradient", rtol=1e-5,
            atol=1e-7)
### BEGIN HIDDEN TESTS


def _torch_block(x, params, h, allowed, dout):
    """Output and gradients of nn.TransformerEncoderLayer(norm_first=True, dropout=0) with params copied."""
    N, T, E = x.shape
    F = params["W1"].shape[0]
    layer = _torch.nn.TransformerEncoderLayer(E, h, dim_feedforward=F, dropout=0.0, norm_first=True,
                                              batch_first=True).double()
    names = {"ln1_g": "norm1.weight", "ln1_b": "norm1.bias", "ln2_g": "norm2.weight", "ln2_b": "norm2.bias",
             "W_in": "self_attn.in_proj_weight", "b_in": "self_attn.in_proj_bias",
             "W_out": "self_attn.out_proj.weight", "b_out": "self_attn.out_proj.bias", "W1": "linear1.weight",
             "b1": "linear1.bias", "W2": "linear2.weight", "b2": "linear2.bias"}
    tensors = dict(layer.named_parameters())
    with _torch.no_grad():
        for key, name in names.items():
            tensors[name].copy_(_torch.tensor(params[key]))
    tx = _torch.tensor(x, requires_grad=True)
    blocked = _torch.tensor(~np.repeat(np.broadcast_to(allowed, (N, T, T)), h, axis=0))
    out = layer(tx, src_mask=blocked)
    out.backward(_torch.tensor(dout))
    return out.detach().numpy(), tx.grad.numpy(), {key: tensors[name].grad.numpy() for key, name in names.items()}


_rng = np.random.default_rng(810)
for _N, _T, _E, _F, _h, _kind in [(1, 1, 2, 3, 1, None), (1, 5, 4, 8, 2, "causal"), (3, 1, 6, 12, 3, None),
                                  (2, 6, 8, 16, 4, "pad"), (3, 4, 6, 5, 2, "both"), (2, 7, 12, 24, 3, "causal")]:
    _x, _params = _rng.normal(size=(_N, _T, _E)), random_block_params(_rng, _E, _F)
    _dout = _rng.normal(size=(_N, _T, _E))
    _mask = None
    if _kind in ("pad", "both"):
        _lengths = _rng.integers(1, _T + 1, size=_N)
        _mask = (np.arange(_T)[None, :] < _lengths[:, None])[:, None, :]
    _allowed = np.ones((_N, _T, _T), dtype=bool) if _mask is None else np.broadcast_to(_mask, (_N, _T, _T)).copy()
    if _kind in ("causal", "both"):
        _allowed &= np.tri(_T, dtype=bool)
    _ref_out, _ref_dx, _ref_grads = _torch_block(_x, _params, _h, _allowed, _dout)
    _label = f"block_forward(x ({_N}, {_T}, {_E}), F={_F}, {_h} heads, mask {_kind})"
    _out, _cache = unpack(call(block_forward, _x, _params, _h, mask=_mask, causal=_kind in ("causal", "both")), 2,
                          "block_forward")
    assert_close(_out, _ref_out, rtol=1e-9, atol=1e-10, name=f"{_label}: out against nn.TransformerEncoderLayer("
                 "norm_first=True, dropout=0)")
    _dx, _grads = unpack(call(block_backward, _dout, _cache), 2, "block_backward")
    assert_close(_dx, _ref_dx, rtol=1e-8, atol=1e-9, name=f"block_backward after {_label}: dx")
    check_grads(_grads, _ref_grads, BLOCK_KEYS, f"block_backward after {_label}", rtol=1e-8, atol=1e-9)
_p32 = {k: v.astype(np.float32) for k, v in _params.items()}
_out, _cache = call(block_forward, _x.astype(np.float32), _p32, _h, causal=True)
_dx, _grads = call(block_backward, _dout.astype(np.float32), _cache)
for _name, _a in [("out", _out), ("dx", _dx)] + [(f"grads[{k!r}]", _grads[k]) for k in BLOCK_KEYS]:
    assert_that(_a.dtype == np.float32, f"block with float32 inputs: {_name} must stay float32, got {_a.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** A transformer block without positional encodings reads the tokens
# `"a b c"` and, separately, `"c b a"`, both without a mask. How is the output at the token
# `b` of the second run related to the output at `b` of the first?
#
# - `"a"`: it is the same vector: self-attention without a mask treats its input as a set;
# - `"b"`: it is the output of the first run reversed;
# - `"c"`: they are unrelated: the block depends on the order;
# - `"d"`: it is zero, the two runs cancel out.
#
# Set `q3_answer` to the letter of the right answer.

# %% nbgrader="solution" grade_id="q3_permutation"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "a"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_permutation" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "a", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** A language model must be trained so that position $t$ never
# sees the tokens after it. Explain how the causal mask lets a transformer be trained on all
# $T$ positions of a sequence in **one** forward pass, why an RNN cannot do the same in
# parallel over time, and what this costs the transformer when it generates text token by
# token (think of what must be recomputed or stored). Answer in three to five sentences in the
# cell below.

# %% [markdown] nbgrader="answer" grade_id="written_causal" points=2
# *Model answer.* With the causal mask, query $t$ gets weight 0 on every key after $t$, so the
# output at $t$ is exactly what the model would compute from the prefix $w_{\le t}$ alone; the
# targets of all $T$ positions (the next tokens) can then be scored in one pass of matrix
# products, all positions in parallel. An RNN's state at $t$ needs the state at $t-1$, so its
# forward (and backward) pass is a loop of $T$ dependent steps that cannot run side by side.
# At generation time the transformer has no state to carry: every new token attends to all
# earlier ones, so without care each step recomputes the keys and values of the whole prefix
# ($O(T^2)$ work per step); in practice they are stored (the "KV cache"), which costs memory
# growing linearly with the length, and each step still reads all $t$ of them.

# %% [markdown]
# ## 8. Counting against learning: n-grams and an LSTM on Shakespeare
#
# The character text of chapter 07, split the same way (the last 10 % held out). First the
# counting models of orders 1 to 4, fitted on the training part with add-$k$ smoothing and
# combined by interpolation; the weights $\lambda$ are chosen on the first half of the held-out
# text and the perplexity is reported on the second half, which neither the counts nor the
# weights have seen.

# %%
import itertools
import time

from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from dllib.ch05_optimization import Adam, clip_grad_norm, cosine_lr
from dllib.ch07_rnn import (
    embedding_backward,
    embedding_forward,
    init_rnn_params,
    lstm_backward,
    lstm_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from helpers.data import load_text

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several

corpus_text = load_text("tinyshakespeare")
chars = sorted(set(corpus_text))
V = len(chars)
corpus_ids = np.array([chars.index(ch) for ch in chars])[np.searchsorted(chars, list(corpus_text))]
split = int(0.9 * len(corpus_ids))
train_ids, val_ids = corpus_ids[:split], corpus_ids[split:]
tune_ids, test_ids = val_ids[: len(val_ids) // 2], val_ids[len(val_ids) // 2:]
NGRAM_K = 0.01
ngram_probs = [add_k_probs(ngram_counts(train_ids, n, V), NGRAM_K) for n in range(1, 5)]
single = {n: perplexity(ngram_probs[n - 1], test_ids[4 - n:]) for n in range(1, 5)}   # the same targets for all


def target_probs(probs, ids, n_max):
    """p(ids[t] | its context) under one model, for the targets t = n_max - 1 .. len(ids) - 1."""
    windows = np.lib.stride_tricks.sliding_window_view(ids, probs.ndim)
    return probs[tuple(windows.T)][n_max - probs.ndim:]


# the weights on a grid of steps of 0.05, scored with the four models' probabilities of the targets
tune_p = np.stack([target_probs(p, tune_ids, 4) for p in ngram_probs])         # (4, targets)
grid = np.array([lam for lam in itertools.product(np.arange(0.0, 1.001, 0.05), repeat=4)
                 if abs(sum(lam) - 1.0) < 1e-9])
tune_ppl = np.exp(-np.mean(np.log(grid @ tune_p), axis=1))
best_lambdas = grid[np.argmin(tune_ppl)]
ngram_mixed = interpolate(ngram_probs, best_lambdas)
ngram_ppl = perplexity(ngram_mixed, test_ids)
for n, ppl in single.items():
    print(f"order {n}, add-{NGRAM_K}: perplexity {ppl:6.2f} = {np.log2(ppl):.3f} bits/char")
print(f"interpolated, λ = {np.round(best_lambdas, 2)}: perplexity {ngram_ppl:.2f} = {np.log2(ngram_ppl):.3f} bits/char")
print("a 4-gram sample:", repr(corpus_text[:3] + "".join(
    chars[i] for i in sample_ngram(ngram_mixed, corpus_ids[:3], 150, np.random.default_rng(0)))))

# %% [markdown]
# Now chapter 07's character LSTM (its reference layers, from `dllib`), trained briefly with
# truncated backpropagation through time, as there, and measured on the same held-out half.
# Chapter 07 trained it for 2,000 steps; here it gets a short budget so that the notebook stays
# quick: watch how its perplexity compares with the counting model's.

# %%
LM_BATCH, LM_CHUNK, LM_EMBED, LM_HIDDEN, LM_STEPS, LM_LR = 32, 64, 32, 128, 400, 1e-2


def char_lstm_forward(params, idx, h0, c0):
    """Scores (N, T, V) of the next character after each of idx (N, T), the final state, caches."""
    emb, emb_cache = embedding_forward(idx, params["embed"])
    h, c, lstm_cache = lstm_forward(emb, h0, c0, {k: params[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")})
    scores, out_cache = temporal_affine_forward(h, params["W_out"], params["b_out"])
    return scores, (h[:, -1], c[:, -1]), (emb_cache, lstm_cache, out_cache)


def char_lstm_backward(dscores, caches):
    emb_cache, lstm_cache, out_cache = caches
    dh, dW_out, db_out = temporal_affine_backward(dscores, out_cache)
    demb, _, _, grads = lstm_backward(dh, lstm_cache)
    return {**grads, "embed": embedding_backward(demb, emb_cache), "W_out": dW_out, "b_out": db_out}


def lstm_perplexity(params, ids, n_streams=50, chunk=500):
    """Perplexity of the character LSTM on ids, read as parallel streams with the state carried along."""
    length = (len(ids) - 1) // n_streams
    x = ids[:n_streams * length].reshape(n_streams, length)
    y = ids[1:n_streams * length + 1].reshape(n_streams, length)
    h = c = np.zeros((n_streams, LM_HIDDEN), dtype=np.float32)
    total = 0.0
    for start in range(0, length, chunk):
        scores, (h, c), _ = char_lstm_forward(params, x[:, start:start + chunk], h, c)
        target = y[:, start:start + chunk]
        loss, _ = temporal_softmax_loss(scores, target, np.ones(target.shape, dtype=bool))
        total += loss * target.size
    return float(np.exp(total / y.size))


def train_char_lstm(steps=LM_STEPS, seed=0):
    rng = np.random.default_rng(seed)
    params = init_rnn_params("lstm", LM_EMBED, LM_HIDDEN, rng)
    params["b_hh"][LM_HIDDEN:2 * LM_HIDDEN] += 1.0
    params.update(embed=rng.normal(size=(V, LM_EMBED)), W_out=rng.normal(0.0, LM_HIDDEN ** -0.5, (LM_HIDDEN, V)),
                  b_out=np.zeros(V))
    params = {k: w.astype(np.float32) for k, w in params.items()}
    optimizer = Adam(params, lr=LM_LR)
    length = len(train_ids) // LM_BATCH
    data = train_ids[:LM_BATCH * length].reshape(LM_BATCH, length)
    h = c = np.zeros((LM_BATCH, LM_HIDDEN), dtype=np.float32)
    mask = np.ones((LM_BATCH, LM_CHUNK), dtype=bool)
    for step in tqdm(range(steps), desc="character LSTM", unit="step"):
        p = step * LM_CHUNK
        scores, (h, c), caches = char_lstm_forward(params, data[:, p:p + LM_CHUNK], h, c)
        _, dscores = temporal_softmax_loss(scores, data[:, p + 1:p + LM_CHUNK + 1], mask)
        grads = char_lstm_backward(dscores, caches)
        clip_grad_norm(grads, 5.0)
        optimizer.lr = cosine_lr(step, LM_LR, steps)
        optimizer.step(grads)
    return params


start = time.perf_counter()
char_lstm = train_char_lstm()
lstm_ppl = lstm_perplexity(char_lstm, test_ids)
lstm_seconds = time.perf_counter() - start
print(f"LSTM after {LM_STEPS} steps ({LM_STEPS * LM_BATCH * LM_CHUNK:,} characters read, {lstm_seconds:.0f} s): "
      f"perplexity {lstm_ppl:.2f} = {np.log2(lstm_ppl):.3f} bits/char")
print(f"interpolated 4-gram: perplexity {ngram_ppl:.2f} = {np.log2(ngram_ppl):.3f} bits/char "
      f"({sum(p.size for p in ngram_probs):,} probabilities; the LSTM has "
      f"{sum(w.size for w in char_lstm.values()):,} parameters)")

# %% [markdown]
# Counting four characters back is a strong baseline on a text this size: the short-budget
# LSTM is about even with the interpolated 4-gram model, while keeping 200 times fewer numbers.
# Chapter 07's LSTM, trained five times longer, reached 2.35 bits per character; the table of
# counts cannot improve with more passes over the same text, only with more text, and every
# extra order of context multiplies its size by $V$.

# %% [markdown]
# ## 9. Word vectors from Shakespeare
#
# Your `sgns_loss`, trained on the words of the same text: the 2,000 most frequent words
# (lower case; the others are dropped), every pair of words at most two positions apart, five
# negatives per pair drawn from the unigram distribution raised to the power 3/4 (Mikolov et
# al.'s choice: it gives rare words more chances than their frequency), Adam on batches of 1024
# pairs. Then the nearest neighbours of some words by the cosine of their center vectors.

# %%
import re
from collections import Counter

W2V_VOCAB, W2V_DIM, W2V_WINDOW, W2V_NEG, W2V_STEPS, W2V_BATCH, W2V_LR = 2000, 32, 2, 5, 1500, 1024, 1e-2

words = re.findall(r"[a-z']+", corpus_text.lower())
vocab = [w for w, _ in Counter(words).most_common(W2V_VOCAB)]
word_id = {w: i for i, w in enumerate(vocab)}
word_ids = np.array([word_id.get(w, -1) for w in words])
word_ids = word_ids[word_ids >= 0]
pair_centers = np.concatenate([a for off in range(1, W2V_WINDOW + 1) for a in (word_ids[:-off], word_ids[off:])])
pair_contexts = np.concatenate([a for off in range(1, W2V_WINDOW + 1) for a in (word_ids[off:], word_ids[:-off])])
noise_cdf = np.cumsum(np.bincount(word_ids, minlength=W2V_VOCAB) ** 0.75)


def train_word2vec(steps=W2V_STEPS, seed=0):
    rng = np.random.default_rng(seed)
    vectors = {"W_in": rng.normal(0.0, 0.1, (W2V_VOCAB, W2V_DIM)), "W_out": np.zeros((W2V_VOCAB, W2V_DIM))}
    optimizer = Adam(vectors, lr=W2V_LR)
    losses = []
    for _ in tqdm(range(steps), desc="word2vec", unit="step"):
        batch = rng.integers(0, len(pair_centers), W2V_BATCH)
        negatives = np.searchsorted(noise_cdf, rng.random((W2V_BATCH, W2V_NEG)) * noise_cdf[-1], side="right")
        loss, dW_in, dW_out = sgns_loss(vectors["W_in"], vectors["W_out"], pair_centers[batch],
                                        pair_contexts[batch], negatives)
        optimizer.step({"W_in": dW_in, "W_out": dW_out})
        losses.append(loss)
    return vectors, losses


def nearest_words(vectors, word, k=6):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = unit @ unit[word_id[word]]
    return [vocab[i] for i in np.argsort(-similarity)[1:k + 1]]


word_vectors, w2v_losses = train_word2vec()
print(f"{len(words):,} words, {len(word_ids):,} in the vocabulary, {len(pair_centers):,} pairs; loss "
      f"{np.mean(w2v_losses[:50]):.3f} -> {np.mean(w2v_losses[-50:]):.3f} (6 ln 2 = {6 * np.log(2):.3f} at the start)")
for word in ("king", "father", "thou", "three", "speak", "day"):
    print(f"{word:>8s}: {', '.join(nearest_words(word_vectors['W_in'], word))}")

# %% [markdown]
# Nothing told the model what a number or a relative is, yet "three" lands among the other
# numbers, "father" among family words and "thou" among the verb forms that go with it
# ("wilt", "dost", ...): words that appear in similar contexts get similar vectors. Such
# vectors were the input layer of the neural language models of the 2010s; in a transformer
# the embedding matrix plays the same part and is learned with the rest of the model.

# %% [markdown]
# ## 10. A transformer that reverses digits
#
# A task that needs attention to positions: read $L = 12$ random digits and write them
# backwards. It is cast as language modelling, as a GPT would see it: the sequence is the
# digits, a separator `|`, then the reversed digits, and the model predicts every next token
# with the causal mask; only the predictions after the separator count in the loss:
#
# `3 1 4 1 5 9 2 6 5 3 5 8 | 8 5 3 5 6 2 9 5 1 4 1 3`
#
# The model is your code from end to end: an embedding (chapter 07) plus the positional
# encoding, two pre-norm blocks with two heads of width 16, a final layer norm and a linear read-out
# to the 11 tokens, trained with Adam (chapter 05) on fresh random batches. With the causal mask
# the prediction at every position depends only on the tokens up to it, so predicting all
# positions from the true sequence in one pass gives exactly the answers of generating one
# token at a time (the first wrong token is wrong in both): a sequence counts as right when
# all 12 of its predicted digits are.

# %%
REV_LEN, SEP = 12, 10                  # digits 0-9, the separator is token 10
REV_V, REV_T = 11, 2 * REV_LEN
E_MODEL, HEADS, FF, LAYERS = 32, 2, 64, 2
REV_STEPS, REV_BATCH, REV_LR = 400, 64, 3e-3
REV_TOKENS = [str(d) for d in range(10)] + ["|"]


def reversal_batch(n, rng, length=REV_LEN):
    """n sequences digits | reversed digits (without the last): inputs x (n, 2L), targets y, loss mask."""
    digits = rng.integers(0, 10, size=(n, length))
    x = np.concatenate([digits, np.full((n, 1), SEP), digits[:, ::-1][:, :-1]], axis=1)
    y = np.full((n, 2 * length), -100)
    y[:, length:] = digits[:, ::-1]
    return x, y, y >= 0


def block_params(params, layer):
    return {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(f"{layer}.")}


def init_transformer(rng):
    """Embedding, LAYERS pre-norm blocks (residual branches scaled down by sqrt(2 LAYERS)), layer norm, read-out."""
    params = {"embed": rng.normal(0.0, 1.0, (REV_V, E_MODEL)), "lnf_g": np.ones(E_MODEL), "lnf_b": np.zeros(E_MODEL),
              "W_head": rng.normal(0.0, E_MODEL ** -0.5, (E_MODEL, REV_V)), "b_head": np.zeros(REV_V)}
    branch = 1.0 / np.sqrt(2 * LAYERS)
    for layer in range(LAYERS):
        block = {"ln1_g": np.ones(E_MODEL), "ln1_b": np.zeros(E_MODEL), "ln2_g": np.ones(E_MODEL),
                 "ln2_b": np.zeros(E_MODEL), "W_in": rng.normal(0.0, E_MODEL ** -0.5, (3 * E_MODEL, E_MODEL)),
                 "b_in": np.zeros(3 * E_MODEL), "W_out": rng.normal(0.0, branch * E_MODEL ** -0.5, (E_MODEL, E_MODEL)),
                 "b_out": np.zeros(E_MODEL), "W1": rng.normal(0.0, E_MODEL ** -0.5, (FF, E_MODEL)), "b1": np.zeros(FF),
                 "W2": rng.normal(0.0, branch * FF ** -0.5, (E_MODEL, FF)), "b2": np.zeros(E_MODEL)}
        params.update({f"{layer}.{k}": v for k, v in block.items()})
    return params


def transformer_forward(params, x):
    """Scores (N, T, REV_V) of the next token at every position of x (N, T), and the caches."""
    h, emb_cache = embedding_forward(x, params["embed"])
    h = h + positional_encoding(x.shape[1], E_MODEL)
    block_caches = []
    for layer in range(LAYERS):
        h, cache = block_forward(h, block_params(params, layer), HEADS, causal=True)
        block_caches.append(cache)
    z, ln_cache = layernorm_forward(h, params["lnf_g"], params["lnf_b"])
    scores, head_cache = temporal_affine_forward(z, params["W_head"], params["b_head"])
    return scores, (emb_cache, block_caches, ln_cache, head_cache)


def transformer_backward(dscores, caches):
    emb_cache, block_caches, ln_cache, head_cache = caches
    dz, grads_W, grads_b = temporal_affine_backward(dscores, head_cache)
    dh, dg, db = layernorm_backward(dz, ln_cache)
    grads = {"W_head": grads_W, "b_head": grads_b, "lnf_g": dg, "lnf_b": db}
    for layer in reversed(range(LAYERS)):
        dh, block_grads = block_backward(dh, block_caches[layer])
        grads.update({f"{layer}.{k}": v for k, v in block_grads.items()})
    grads["embed"] = embedding_backward(dh, emb_cache)
    return grads


def sequence_accuracy(scores, y, mask):
    """Share of sequences whose every counted prediction (argmax) is right."""
    return float(np.mean(np.all((scores.argmax(axis=2) == y) | ~mask, axis=1)))


def train_reversal(forward, backward, params, label, steps=REV_STEPS, lr=REV_LR, seed=1, eval_every=50):
    """Adam with 50 warm-up steps, cosine decay and clipping at norm 1; test accuracy every eval_every steps."""
    rng = np.random.default_rng(seed)
    optimizer = Adam(params, lr=lr)
    x_test, y_test, m_test = reversal_batch(1000, np.random.default_rng(1234))
    history = {"step": [], "loss": [], "accuracy": []}
    start = time.perf_counter()
    for step in (bar := tqdm(range(1, steps + 1), desc=label, unit="step")):
        x, y, m = reversal_batch(REV_BATCH, rng)
        scores, caches = forward(params, x)
        loss, dscores = temporal_softmax_loss(scores, y, m)
        grads = backward(dscores, caches)
        clip_grad_norm(grads, 1.0)
        optimizer.lr = min(1.0, step / 50) * cosine_lr(step - 1, lr, steps)
        optimizer.step(grads)
        if step % eval_every == 0:
            accuracy = sequence_accuracy(forward(params, x_test)[0], y_test, m_test)
            history["step"].append(step)
            history["loss"].append(loss)
            history["accuracy"].append(accuracy)
            bar.set_postfix(loss=f"{loss:.3f}", accuracy=f"{accuracy:.1%}")
    history["seconds"] = time.perf_counter() - start
    return params, history


transformer, transformer_history = train_reversal(transformer_forward, transformer_backward,
                                                  init_transformer(np.random.default_rng(0)), "transformer")
print(f"transformer ({sum(w.size for w in transformer.values()):,} parameters): sequence accuracy "
      f"{transformer_history['accuracy'][-1]:.1%} on 1000 test sequences after {REV_STEPS} steps "
      f"({transformer_history['seconds']:.0f} s)")

# %% [markdown]
# **The LSTM on the same task.** Chapter 07's LSTM, with 128 hidden units, reads the same
# sequences with the same loss, optimizer and number of steps. To reverse, it must hold all 12
# digits in its state and give them back in the opposite order.

# %%
LSTM_HIDDEN = 128


def init_reversal_lstm(rng):
    params = init_rnn_params("lstm", E_MODEL, LSTM_HIDDEN, rng)
    params["b_hh"][LSTM_HIDDEN:2 * LSTM_HIDDEN] += 1.0
    params.update(embed=rng.normal(0.0, 1.0, (REV_V, E_MODEL)),
                  W_head=rng.normal(0.0, LSTM_HIDDEN ** -0.5, (LSTM_HIDDEN, REV_V)), b_head=np.zeros(REV_V))
    return params


def reversal_lstm_forward(params, x):
    emb, emb_cache = embedding_forward(x, params["embed"])
    h0 = np.zeros((len(x), LSTM_HIDDEN))
    h, _, lstm_cache = lstm_forward(emb, h0, h0, {k: params[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")})
    scores, head_cache = temporal_affine_forward(h, params["W_head"], params["b_head"])
    return scores, (emb_cache, lstm_cache, head_cache)


def reversal_lstm_backward(dscores, caches):
    emb_cache, lstm_cache, head_cache = caches
    dh, dW, db = temporal_affine_backward(dscores, head_cache)
    demb, _, _, grads = lstm_backward(dh, lstm_cache)
    return {**grads, "embed": embedding_backward(demb, emb_cache), "W_head": dW, "b_head": db}


reversal_lstm, lstm_history = train_reversal(reversal_lstm_forward, reversal_lstm_backward,
                                             init_reversal_lstm(np.random.default_rng(0)), "LSTM")
print(f"LSTM ({sum(w.size for w in reversal_lstm.values()):,} parameters): sequence accuracy "
      f"{lstm_history['accuracy'][-1]:.1%} after {REV_STEPS} steps ({lstm_history['seconds']:.0f} s)")

fig, ax = plt.subplots(figsize=(7, 3.5))
for name, history in [("transformer", transformer_history), ("LSTM", lstm_history)]:
    ax.plot(history["step"], history["accuracy"], "o-", label=name)
ax.set(xlabel="training step", ylabel="sequence accuracy (1000 test sequences)", ylim=(-0.02, 1.02),
       title=f"Reversing {REV_LEN} digits")
ax.legend()
plt.show()

# %% [markdown]
# The transformer gets every test sequence right within a few hundred steps; the LSTM, with
# almost five times as many parameters and the same budget, has barely started. The
# transformer does not need to remember anything: when it writes the $j$-th reversed digit it
# can look up position $L - 1 - j$ directly. The LSTM must push all twelve digits through its
# state and pull them out last-in, first-out, and every extra digit makes that harder. (How far
# it gets with a longer budget: raise `REV_STEPS` for the LSTM alone and see.)
#
# ## 11. What the transformer looks at
#
# The weights of each head on one test sequence, row = query position, column = key
# position (lower triangle: the causal mask). The queries and keys are those of the trained
# model: each block's input, layer-normalized, through the block's $W_{in}$, and the weights
# come from your `mha_forward`.

# %%
def queries_and_keys(params, x):
    """Per layer: (q, k) of the single sequence x (T,), each (HEADS, T, d), and the weights (HEADS, T, T)."""
    d = E_MODEL // HEADS
    h, _ = embedding_forward(x[None], params["embed"])
    h = h + positional_encoding(len(x), E_MODEL)
    layers, maps = [], []
    for layer in range(LAYERS):
        p = block_params(params, layer)
        a, _ = layernorm_forward(h, p["ln1_g"], p["ln1_b"])
        qkv = (a @ p["W_in"].T + p["b_in"])[0].reshape(len(x), 3, HEADS, d).transpose(1, 2, 0, 3)
        layers.append((qkv[0], qkv[1]))
        maps.append(mha_forward(a, {k: p[k] for k in MHA_KEYS}, HEADS, causal=True)[1][0])
        h, _ = block_forward(h, p, HEADS, causal=True)
    return layers, maps


example_x, _, _ = reversal_batch(3, np.random.default_rng(7))
example_tokens = [REV_TOKENS[i] for i in example_x[0]]
example_layers, example_maps = queries_and_keys(transformer, example_x[0])

fig, axes = plt.subplots(LAYERS, HEADS, figsize=(4.2 * HEADS, 4.0 * LAYERS))
for layer in range(LAYERS):
    for head in range(HEADS):
        ax = axes[layer, head]
        ax.imshow(example_maps[layer][head], cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(REV_T), example_tokens, fontsize=7)
        ax.set_yticks(range(REV_T), example_tokens, fontsize=7)
        ax.set(title=f"layer {layer + 1}, head {head + 1}", xlabel="key", ylabel="query")
plt.show()
anti = [float(np.mean([example_maps[layer][head][REV_LEN + j - 1, REV_LEN - j] for j in range(1, REV_LEN)]))
        for layer in range(LAYERS) for head in range(HEADS)]
print("mean weight of the query at L + j - 1 (it predicts digit j from the end) on the key L - j, per head:",
      ", ".join(f"{a:.2f}" for a in anti))

# %% [markdown]
# Look for the **anti-diagonal** in the lower half: in the second layer, the query at the
# position that must write the $j$-th reversed digit puts almost all its weight on the key of
# that digit, $L - j$ (the printed numbers: about 0.9 for both heads of layer 2). The first
# layer's heads are blurrier — a rough anti-diagonal spread over neighbouring keys, and the
# recent tokens — and prepare what the second layer's queries and keys are made of.
#
# **Attention explorer.** The same maps, recomputed by your `attention_forward` from the
# trained model's queries and keys: pick the input, the layer and a query position (red
# outline; below, which key each head prefers and how spread out its weights are). The
# temperature divides the scores before the softmax: below 1 every head becomes a hard
# look-up, above 1 its weights flatten towards uniform. Switch the causal mask off to see
# what the queries would pick from the future (the model never saw this while training), or
# pad the end of the sequence to hide its last keys; a query whose keys are all hidden gets
# all-zero weights.

# %%
from IPython.display import display

from helpers.explorers.attention import attention_explorer, positional_encoding_viewer

explorer_inputs = {}
for i, seq in enumerate(example_x):
    tokens = [REV_TOKENS[t] for t in seq]
    explorer_inputs[f"example {i + 1}: {''.join(tokens[:REV_LEN])}"] = {
        "tokens": tokens, "layers": queries_and_keys(transformer, seq)[0]}
attention_view = attention_explorer(attention_forward, explorer_inputs, query=REV_LEN + 3)
display(attention_view)

# %% [markdown]
# **Positional-encoding viewer.** Left, the encodings of the positions (one row each): the
# first columns change fast, the last ones slowly — like the hands of a clock. Right, the
# dot product of one position's encoding with every other one's. It peaks at the position
# itself and depends only on the distance: $PE_t \cdot PE_{t_0} = \sum_i \cos\big(\omega_i (t - t_0)\big)$.
# Try a narrow width (few frequencies: the dot product oscillates) and a wide one.

# %%
pe_view = positional_encoding_viewer(positional_encoding)
display(pe_view)
