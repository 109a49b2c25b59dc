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
# # Sequence models in PyTorch
#
# In chapter 07 you trained a character-level LSTM on Shakespeare in numpy and reached about
# 2.35 bits per character. This notebook trains the same kind of language model two ways in
# PyTorch: with `nn.LSTM`, and with a small **GPT**, a causal transformer that you write from
# `nn.Linear` up. Then it samples text from both and looks inside the attention.
#
# **What you will build**
#
# | # | exercise | idea |
# |---|---|---|
# | 1 | `causal_mask` | which positions a token may look at |
# | 2 | `CausalSelfAttention` | multi-head self-attention with a causal mask |
# | 3 | `Block` | a pre-norm transformer block: attention and MLP, each on a residual path |
# | 4 | `GPT.forward` | embeddings, blocks, head and the loss of a whole language model |
# | 5 | `get_batch` | random training windows from one long sequence |
# | 6 | `sample_next` | sampling with a temperature and top-k |
#
# On the way: AdamW with warm-up and a cosine schedule, gradient clipping, learning curves of
# both models, checkpoints, attention maps, throughput and model FLOPs utilisation, three
# concept checks and a written answer.
#
# **You need**: chapter 07 (the character LM, bits per character) and the PyTorch basics notebook.
#
# **Time**: about 3 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete the
# `raise NotImplementedError()` line), then run the test cell below it: silence means the
# visible checks pass, a failure says what is wrong. The grader runs more (hidden) checks, on a
# CPU, in the **small** configuration. Do not rename the functions or change their arguments.
#
# **GPU or CPU.** On a GPU the notebook runs the **full** configuration (a 10.7M-parameter GPT
# like nanoGPT's shakespeare-char); on a CPU a **small** one that finishes in
# under a minute and still draws every plot. Set `SIZE` in the next cell but one to choose.

# %%
import math
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from dllib.ch08_attention import block_forward as numpy_block_forward
from helpers.data import load_text
from helpers.runtime import (
    autocast,
    describe,
    load_checkpoint,
    pick_device,
    pick_size,
    progress,
    save_checkpoint,
    seed_everything,
)
from helpers.testing import (
    assert_answer,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_shape,
    assert_that,
    call,
    fail,
)

plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% tags=["parameters"]
SIZE = "auto"  # "small": the CPU configuration (the grader's); "full": the GPU one; "auto": full on a GPU

# %%
device = pick_device()
SIZE = pick_size(SIZE, device)
CONFIG = {
    "small": {"context": 64, "batch": 16, "d_model": 64, "n_heads": 4, "n_layers": 2, "steps": 600, "lr": 1e-2,
              "lstm_hidden": 128, "lstm_layers": 1, "lstm_steps": 300, "lstm_lr": 3e-3,
              "eval_every": 50, "eval_batches": 4, "resume_steps": 20},
    "full": {"context": 256, "batch": 64, "d_model": 384, "n_heads": 6, "n_layers": 6, "steps": 3000, "lr": 1e-3,
             "lstm_hidden": 512, "lstm_layers": 2, "lstm_steps": 3000, "lstm_lr": 2e-3,
             "eval_every": 250, "eval_batches": 40, "resume_steps": 100},
}[SIZE]
print(describe(device, SIZE))

# %% [markdown]
# ## 1. The data
#
# The same text as chapter 07: about a million characters of Shakespeare, shipped with the
# course. Every distinct character is a token; the first 90% is for training, the rest for
# validation.

# %%
text = load_text("tinyshakespeare")
chars = sorted(set(text))
vocab_size = len(chars)
char_to_id = {ch: i for i, ch in enumerate(chars)}


def encode(s):
    return torch.tensor([char_to_id[ch] for ch in s], dtype=torch.int64)


def decode(ids):
    return "".join(chars[i] for i in ids.tolist())


data = encode(text)
n_train = int(0.9 * len(data))
train_data, val_data = data[:n_train], data[n_train:]
print(f"{len(text):,} characters, {vocab_size} distinct; {len(train_data):,} for training, {len(val_data):,} for validation")

# %% [markdown]
# ## 2. Causal self-attention
#
# A language model predicts token $t+1$ from tokens $1 \dots t$. A transformer processes all $T$
# positions of a window at once, so each position must be kept from *seeing* the later ones:
# position $t$ may attend to positions $s \le t$ only. That is the **causal mask**, a $T \times T$
# lower-triangular table of booleans (row: the query position, column: the key position).
#
# **Exercise 1 (3 points).** Return the causal mask as a `torch.bool` tensor of shape $(T, T)$,
# `True` where attending is allowed ($s \le t$), on `device`.

# %% nbgrader="solution" grade_id="causal_mask"
def causal_mask(T, device=None):
    """The causal attention mask.

    Args:
        T: int >= 1, the number of positions.
        device: the torch device of the result (None: the CPU).

    Returns:
        bool tensor of shape (T, T): out[t, s] is True when position t may attend to position s,
        that is when s <= t.
    """
    ### BEGIN SOLUTION
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_causal_mask" points=3
_mask = call(causal_mask, 3)
assert_shape(_mask, (3, 3), name="causal_mask(3)")
assert_that(_mask.dtype == torch.bool, f"causal_mask(3) must be a torch.bool tensor, got dtype {_mask.dtype}")
assert_close(_mask.double(), [[1, 0, 0], [1, 1, 0], [1, 1, 1]], name="causal_mask(3) (1 = True)")
### BEGIN HIDDEN TESTS
for _T in (1, 2, 7):
    _mask = call(causal_mask, _T)
    assert_shape(_mask, (_T, _T), name=f"causal_mask({_T})")
    assert_that(_mask.dtype == torch.bool, f"causal_mask({_T}) must be a torch.bool tensor, got dtype {_mask.dtype}")
    _t, _s = torch.meshgrid(torch.arange(_T), torch.arange(_T), indexing="ij")
    assert_close(_mask.double(), (_s <= _t).double(), name=f"causal_mask({_T}) (1 = True: key s <= query t)")
### END HIDDEN TESTS

# %% [markdown]
# **Multi-head attention.** For an input $x$ of shape $(B, T, C)$ ($C$ = `d_model`), one linear
# layer `qkv` computes queries, keys and values at once: its output of width $3C$ splits into
# $q, k, v$, each $(B, T, C)$. With $H$ heads, each of them is split into $H$ pieces of width
# $d = C / H$ (head $h$ gets columns $h d \dots (h+1) d - 1$) and the heads are moved in front of
# the positions: $(B, H, T, d)$. In every head,
#
# $$\text{scores} = \frac{q k^\top}{\sqrt{d}} \quad (B, H, T, T), \qquad
#   \text{weights} = \operatorname{softmax}_{\text{keys}}(\text{scores, masked}), \qquad
#   \text{out} = \text{weights}\; v \quad (B, H, T, d),$$
#
# where the masked scores are set to $-\infty$ (their weight becomes 0) and the softmax runs
# over the keys, the last axis. The heads are then put back side by side, $(B, T, C)$, and the
# linear layer `proj` mixes them. This is exactly what `torch.nn.MultiheadAttention` and
# `F.scaled_dot_product_attention` compute; the tests compare with both.
#
# **Exercise 2 (9 points).** Write `forward`. `__init__` is given: use `self.qkv`, `self.proj`
# and `self.n_heads`, and your `causal_mask`. (`t.view(B, T, H, d).transpose(1, 2)` splits the
# heads; `.transpose(1, 2).reshape(B, T, C)` merges them; `scores.masked_fill(~mask, float("-inf"))`
# masks.)

# %% nbgrader="solution" grade_id="attention"
class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: qkv projection, per-head attention, output projection."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not a multiple of n_heads={n_heads}")
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        """x: tensor (B, T, C) with C = d_model. Returns a tensor (B, T, C); x stays unchanged."""
        ### BEGIN SOLUTION
        B, T, C = x.shape
        H = self.n_heads
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(C // H)
        scores = scores.masked_fill(~causal_mask(T, x.device), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(out)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_attention" points=9
def _sdpa_reference(attn, x):
    """The same projections around PyTorch's fused attention."""
    B, T, C = x.shape
    H = attn.n_heads
    q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in attn.qkv(x).split(C, dim=-1))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return attn.proj(out.transpose(1, 2).reshape(B, T, C))


def _mha_reference(attn, x):
    """nn.MultiheadAttention with attn's weights copied in and a causal attn_mask (True = blocked)."""
    C, T = x.shape[-1], x.shape[1]
    mha = nn.MultiheadAttention(C, attn.n_heads, batch_first=True, dtype=x.dtype)
    with torch.no_grad():
        mha.in_proj_weight.copy_(attn.qkv.weight)
        mha.in_proj_bias.copy_(attn.qkv.bias)
        mha.out_proj.weight.copy_(attn.proj.weight)
        mha.out_proj.bias.copy_(attn.proj.bias)
        blocked = torch.ones(T, T, dtype=torch.bool).triu(1)
        return mha(x, x, x, attn_mask=blocked, need_weights=False)[0]


def _check_attention(B, T, C, H, seed, against="sdpa", grads=False):
    torch.manual_seed(seed)
    attn = CausalSelfAttention(C, H).double()
    x = torch.randn(B, T, C, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    what = f"CausalSelfAttention(d_model={C}, n_heads={H}) on x of shape ({B}, {T}, {C})"
    out = call(attn.forward, x)
    assert_shape(out, (B, T, C), name=what)
    with torch.no_grad():
        expected = _sdpa_reference(attn, x) if against == "sdpa" else _mha_reference(attn, x)
    reference = {"sdpa": "F.scaled_dot_product_attention(q, k, v, is_causal=True) with the same projections",
                 "mha": "nn.MultiheadAttention with the same weights and a causal attn_mask"}[against]
    assert_close(out.detach(), expected, rtol=1e-9, atol=1e-10, name=f"{what} against {reference}")
    if grads:
        upstream = torch.randn(B, T, C, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1))
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        (attn(x1) * upstream).sum().backward()
        mine = [x1.grad, attn.qkv.weight.grad.clone(), attn.proj.weight.grad.clone()]
        attn.zero_grad()
        (_sdpa_reference(attn, x2) * upstream).sum().backward()
        theirs = [x2.grad, attn.qkv.weight.grad, attn.proj.weight.grad]
        for label, a, b in zip(("x", "qkv.weight", "proj.weight"), mine, theirs, strict=True):
            assert_close(a, b, rtol=1e-8, atol=1e-10, name=f"{what}: the gradient of {label}")


_check_attention(2, 5, 8, 2, seed=0)
_check_attention(1, 4, 6, 3, seed=1, against="mha")
### BEGIN HIDDEN TESTS
_check_attention(1, 1, 4, 2, seed=2)                      # one token: it attends to itself only
_check_attention(3, 7, 15, 3, seed=3)                     # odd head dimension 5
_check_attention(2, 6, 12, 4, seed=4, against="mha")
_check_attention(1, 9, 10, 1, seed=5, against="mha")      # one head
_check_attention(2, 5, 12, 3, seed=6, grads=True)
_x = torch.randn(2, 6, 8, dtype=torch.float64)
_attn = CausalSelfAttention(8, 2).double()
_y = call(_attn.forward, _x)
_x2 = _x.clone()
_x2[:, 4] += 10.0
_y2 = call(_attn.forward, _x2)
assert_close(_y2[:, :4].detach(), _y[:, :4].detach(), rtol=1e-10, atol=1e-12,
             name="CausalSelfAttention: positions 0-3 after changing the input at position 4 (they must not see it)")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The transformer block
#
# A block lets every position first gather information from the earlier ones (attention), then
# process it on its own (a two-layer MLP, 4 times wider inside, with a GELU). Each of the two
# sits on a **residual path** — its output is *added* to its input — and in the **pre-norm**
# arrangement of GPT-2 and later models, each sees a layer-normalised copy of the stream:
#
# $$x \leftarrow x + \operatorname{attn}(\operatorname{ln}_1(x)), \qquad
#   x \leftarrow x + \operatorname{mlp}(\operatorname{ln}_2(x)).$$
#
# The residual stream $x$ itself is never normalised, so the gradient flows from the loss to the
# first layer through additions only: deep stacks train without warm-up tricks. (The original
# transformer of 2017 was *post-norm*, $x \leftarrow \operatorname{ln}(x + \operatorname{attn}(x))$.)
#
# **Exercise 3 (5 points).** Write `Block.forward` with the given sub-modules.

# %% nbgrader="solution" grade_id="block"
class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        """x: tensor (B, T, C). Returns the tensor (B, T, C) after both residual steps."""
        ### BEGIN SOLUTION
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_block" points=5
def _check_block(B, T, C, H, seed):
    torch.manual_seed(seed)
    block = Block(C, H).double()
    with torch.no_grad():  # layer norms that differ from each other and from the identity
        for ln in (block.ln1, block.ln2):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.normal_(0.0, 0.3)
    x = torch.randn(B, T, C, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * 2 + 1
    what = f"Block(d_model={C}, n_heads={H}) on x of shape ({B}, {T}, {C})"
    out = call(block.forward, x)
    assert_shape(out, (B, T, C), name=what)
    with torch.no_grad():
        middle = x + block.attn(block.ln1(x))
        expected = middle + block.mlp(block.ln2(middle))
    assert_close(out.detach(), expected, rtol=1e-9, atol=1e-10,
                 name=f"{what} against x = x + attn(ln1(x)); x = x + mlp(ln2(x))")


_check_block(2, 5, 8, 2, seed=0)
### BEGIN HIDDEN TESTS
_check_block(1, 1, 4, 1, seed=1)
_check_block(3, 6, 12, 3, seed=2)
### END HIDDEN TESTS

# %% [markdown]
# Chapter 08 built this block in numpy, forward and backward by hand, with a ReLU in its MLP.
# Give your block a ReLU and copy its weights into chapter 08's parameter dictionary: the two
# compute the same function, to rounding. (`nn.Linear` keeps its weight as (out, in), as chapter
# 08 did, and the rows of `qkv` are the queries', keys' and values' in that order.)

# %%
def chapter08_params(block):
    """A Block's weights as chapter 08's block_forward takes them (float64 numpy arrays)."""
    def w(t):
        return t.detach().double().cpu().numpy()
    return {"ln1_g": w(block.ln1.weight), "ln1_b": w(block.ln1.bias),
            "ln2_g": w(block.ln2.weight), "ln2_b": w(block.ln2.bias),
            "W_in": w(block.attn.qkv.weight), "b_in": w(block.attn.qkv.bias),
            "W_out": w(block.attn.proj.weight), "b_out": w(block.attn.proj.bias),
            "W1": w(block.mlp[0].weight), "b1": w(block.mlp[0].bias),
            "W2": w(block.mlp[2].weight), "b2": w(block.mlp[2].bias)}


torch.manual_seed(0)
relu_block = Block(16, 4).double()
relu_block.mlp[1] = nn.ReLU()
x = torch.randn(2, 7, 16, dtype=torch.float64)
with torch.no_grad():
    ours = relu_block(x).numpy()
numpy_out, _ = numpy_block_forward(x.numpy(), chapter08_params(relu_block), num_heads=4, causal=True)
print(f"largest difference from chapter 08's numpy block: {abs(ours - numpy_out).max():.1e}")

# %% [markdown]
# ## 4. The GPT
#
# The whole model: each token id is looked up in a **token embedding** $(V, C)$; since attention
# itself does not know the order of its inputs, a **learned position embedding** $(T_{max}, C)$
# adds a vector per position $0 \dots T-1$. Then come the blocks, a final layer norm and the
# **head**, a linear layer to $V$ scores (*logits*) per position. With `tie_weights=True` the head
# shares its weight matrix with the token embedding (the same $V \times C$ numbers read a token in
# and write it out; GPT-2 does this, and it saves parameters).
#
# The loss is the cross-entropy of the logits at **every** position against the targets, the
# next characters: `targets[b, t]` is the token that follows `idx[b, t]` (the shift is done by
# `get_batch`, not here). `F.cross_entropy` wants logits of shape $(N, V)$ and targets $(N,)$:
# flatten batch and positions together.
#
# **Exercise 4 (7 points).** Write `GPT.forward`; return `(logits, loss)`, with `loss = None`
# when no targets are given.

# %%
def _init_weights(module):
    """GPT-2's initialisation: normal(0, 0.02) weights, zero biases."""
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, 0.0, 0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


# %% nbgrader="solution" grade_id="gpt"
class GPT(nn.Module):
    """A decoder-only transformer language model."""

    def __init__(self, vocab_size, context, d_model, n_heads, n_layers, tie_weights=True):
        super().__init__()
        self.context = context
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.apply(_init_weights)
        if tie_weights:
            self.head.weight = self.tok_emb.weight

    def forward(self, idx, targets=None):
        """Logits and loss of a batch of token windows.

        Args:
            idx: int64 tensor (B, T) of token ids, T <= self.context.
            targets: None, or an int64 tensor (B, T): the token that follows each one of idx.

        Returns:
            logits: tensor (B, T, V), the scores of the next token at every position.
            loss: None without targets, else the scalar mean cross-entropy over all B * T positions.
        """
        ### BEGIN SOLUTION
        B, T = idx.shape
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))
        return logits, loss
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gpt" points=7
def _gpt_reference(model, idx):
    with torch.no_grad():
        x = model.tok_emb(idx) + model.pos_emb.weight[: idx.shape[1]]
        for block in model.blocks:
            x = block(x)
        return model.head(model.ln_f(x))


def _check_gpt(B, T, V, C, H, L, seed, tie=True):
    torch.manual_seed(seed)
    model = GPT(V, max(T, 4) + 2, C, H, L, tie_weights=tie).double()
    with torch.no_grad():
        model.pos_emb.weight.normal_(0.0, 1.0)  # strong positions: forgetting them shows
        model.ln_f.weight.uniform_(0.5, 1.5)
        model.ln_f.bias.normal_(0.0, 0.5)
    g = torch.Generator().manual_seed(seed)
    idx, targets = torch.randint(0, V, (B, T), generator=g), torch.randint(0, V, (B, T), generator=g)
    what = f"GPT(vocab={V}, d_model={C}, n_heads={H}, n_layers={L}) on idx of shape ({B}, {T})"
    result = call(model.forward, idx, targets)
    assert_that(isinstance(result, tuple) and len(result) == 2,
                f"{what} must return (logits, loss), got {type(result).__name__}")
    logits, loss = result
    assert_shape(logits, (B, T, V), name=f"{what}: logits")
    expected = _gpt_reference(model, idx)
    assert_close(logits.detach(), expected, rtol=1e-9, atol=1e-10,
                 name=f"{what}: logits (token + position embeddings, the blocks, ln_f, head)")
    assert_that(loss is not None and torch.is_tensor(loss) and loss.ndim == 0,
                f"{what}: with targets, loss must be a scalar tensor, got {loss!r}")
    assert_scalar(loss.item(), F.cross_entropy(expected.reshape(-1, V), targets.reshape(-1)).item(), rtol=1e-9,
                  name=f"{what}: loss (mean cross-entropy of logits[b, t] against targets[b, t] over all positions)")
    no_targets = call(model.forward, idx)
    assert_that(isinstance(no_targets, tuple) and len(no_targets) == 2 and no_targets[1] is None,
                f"{what} without targets must return (logits, None)")


_check_gpt(2, 5, 7, 8, 2, 1, seed=0)
### BEGIN HIDDEN TESTS
_check_gpt(1, 1, 5, 4, 1, 1, seed=1)
_check_gpt(3, 6, 11, 12, 3, 2, seed=2, tie=False)
_check_gpt(2, 8, 9, 6, 2, 2, seed=3)
torch.manual_seed(4)
_model = GPT(10, 8, 8, 2, 2).double()
_idx = torch.randint(0, 10, (2, 8), generator=torch.Generator().manual_seed(4))
_logits = call(_model.forward, _idx)[0].detach()
_idx2 = _idx.clone()
_idx2[:, 5] = (_idx2[:, 5] + 1) % 10
_logits2 = call(_model.forward, _idx2)[0].detach()
assert_close(_logits2[:, :5], _logits[:, :5], rtol=1e-10, atol=1e-12,
             name="GPT: logits at positions 0-4 after changing the token at position 5 (the past must not see the future)")
assert_that(not torch.allclose(_logits2[:, 5:], _logits[:, 5:]),
            "GPT: changing the token at position 5 did not change the logits from position 5 on")
### END HIDDEN TESTS

# %%
seed_everything(0)
gpt = GPT(vocab_size, CONFIG["context"], CONFIG["d_model"], CONFIG["n_heads"], CONFIG["n_layers"]).to(device)
n_params = sum(p.numel() for p in gpt.parameters())
print(f"GPT: {n_params:,} parameters ({n_params - gpt.pos_emb.weight.numel() - gpt.tok_emb.weight.numel():,} "
      "without the embeddings)")

# %% [markdown]
# **Concept check 1.** A GPT with `d_model` $= C$, $L$ blocks as above (biases included) and
# vocabulary $V$: how many parameters does **one** `Block` have? Each layer norm has $2C$
# (scale and shift). Set `q1_answer` to the number for $C = 64$.

# %% nbgrader="solution" grade_id="q1_params"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 12 * 64**2 + 13 * 64
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_params" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, sum(p.numel() for p in Block(64, 4).parameters()), name="q1_answer", rtol=0.0, atol=0.5)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Batches
#
# The training text is one long sequence of token ids. A batch is `batch_size` windows of
# `block_size` consecutive tokens, starting at random places, and the targets are the same windows
# shifted by one: `x[b] = data[s : s + T]`, `y[b] = data[s + 1 : s + T + 1]`. Every start
# $0 \le s \le N - T - 1$ must be possible (so that `y` still fits in `data`).
#
# **Exercise 5 (4 points).** Write `get_batch`. Draw the starts with
# `torch.randint(..., generator=generator)`: the random numbers must come from `generator` only,
# so that a seed repeats the batches exactly.

# %% nbgrader="solution" grade_id="get_batch"
def get_batch(data, block_size, batch_size, generator):
    """Random windows of a token sequence and their next tokens.

    Args:
        data: 1-D int64 tensor of N >= block_size + 1 token ids.
        block_size: int T, the window length.
        batch_size: int B.
        generator: a torch.Generator, the only source of randomness.

    Returns:
        x, y: int64 tensors (B, T) with x[b] = data[s_b : s_b + T] and y[b] = data[s_b + 1 : s_b + T + 1]
        for random starts 0 <= s_b <= N - T - 1. data stays unchanged.
    """
    ### BEGIN SOLUTION
    starts = torch.randint(0, len(data) - block_size, (batch_size,), generator=generator)
    idx = starts[:, None] + torch.arange(block_size)
    return data[idx], data[idx + 1]
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_get_batch" points=4
def _check_get_batch(N, T, B, seed):
    data = torch.arange(100, 100 + N)  # token = 100 + position: every window is easy to read
    what = f"get_batch(data of length {N}, block_size={T}, batch_size={B})"
    torch_state = torch.get_rng_state()
    try:
        result = call(get_batch, data, T, B, torch.Generator().manual_seed(seed))
    except (IndexError, RuntimeError) as err:
        fail(f"{what} raised {type(err).__name__}: {err}. Do the window starts stay in 0..N - T - 1 "
             f"= 0..{N - T - 1}, so that y = data[s + 1 : s + T + 1] fits in data?")
    assert_that(torch.equal(torch.get_rng_state(), torch_state),
                f"{what} drew from torch's global generator: pass generator=generator to torch.randint")
    assert_that(isinstance(result, tuple) and len(result) == 2, f"{what} must return (x, y), got {type(result).__name__}")
    x, y = result
    assert_shape(x, (B, T), name=f"{what}: x")
    assert_shape(y, (B, T), name=f"{what}: y")
    assert_that(x.dtype == torch.int64 and y.dtype == torch.int64, f"{what}: x and y must be int64, got {x.dtype}, {y.dtype}")
    starts = x[:, 0] - 100
    assert_that(bool((starts >= 0).all() and (starts <= N - T - 1).all()),
                f"{what}: window starts must lie in 0..{N - T - 1}, got {starts.tolist()}")
    expected_x = starts[:, None] + torch.arange(T) + 100
    assert_close(x.double(), expected_x.double(), name=f"{what}: x (each row a window of consecutive tokens)")
    assert_close(y.double(), (expected_x + 1).double(), name=f"{what}: y (x shifted by one: the next tokens)")
    again = call(get_batch, data, T, B, torch.Generator().manual_seed(seed))
    assert_that(torch.equal(again[0], x), f"{what}: the same generator seed gave different batches")
    return starts


_check_get_batch(50, 8, 4, seed=0)
### BEGIN HIDDEN TESTS
_starts = torch.cat([_check_get_batch(12, 8, 64, seed=s) for s in range(3)])
assert_that(set(_starts.tolist()) == {0, 1, 2, 3},
            f"get_batch(data of length 12, block_size=8): over 192 windows the starts were {sorted(set(_starts.tolist()))}; "
            "every start 0..3 must be possible")
_check_get_batch(9, 8, 3, seed=1)          # one possible window only
_a = call(get_batch, torch.arange(1000), 5, 16, torch.Generator().manual_seed(1))[0]
_b = call(get_batch, torch.arange(1000), 5, 16, torch.Generator().manual_seed(2))[0]
assert_that(not torch.equal(_a, _b), "get_batch: two different generator seeds gave the same batch: is generator ignored?")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Sampling
#
# Before training, the last piece of the model's toolbox. To write text, a model's logits for the last position become probabilities, one token is
# drawn, appended, and the model runs again. Two knobs shape the draw:
#
# - the **temperature** $\tau$ divides the logits before the softmax: $\tau < 1$ sharpens the
#   distribution (safer, more repetitive text), $\tau > 1$ flattens it; as $\tau \to 0$ sampling
#   becomes the **greedy** choice, the argmax;
# - **top-k** keeps the $k$ largest logits only (the others get probability 0, the kept ones are
#   renormalised): the long tail of unlikely characters can no longer derail the text. $k = 1$
#   is greedy again.
#
# **Exercise 6 (7 points).** Write `sample_next`. With `temperature == 0` or `top_k == 1`, return
# the argmax. Otherwise divide by the temperature, keep the `top_k` largest logits of each row
# (all of them when `top_k` is None; `torch.topk` gives the $k$-th largest value), softmax, and
# draw one token per row with `torch.multinomial(probs, 1, generator=generator)`. Use no other
# randomness.

# %% nbgrader="solution" grade_id="sample_next"
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    """Draw the next token of every row.

    Args:
        logits: float tensor (B, V), the scores of the next token.
        temperature: float >= 0; 0 means greedy.
        top_k: None, or an int >= 1: sample among the top_k largest logits of each row only.
        generator: a torch.Generator (on the device of logits), the only source of randomness.

    Returns:
        int64 tensor (B,): one token id per row. logits stays unchanged.
    """
    ### BEGIN SOLUTION
    if temperature == 0 or top_k == 1:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_sample_next" points=7
def _frequencies(logits_row, n, temperature, top_k, seed):
    logits = logits_row.expand(n, -1).clone()
    before, torch_state = logits.clone(), torch.get_rng_state()
    tokens = call(sample_next, logits, temperature, top_k, torch.Generator().manual_seed(seed))
    what = f"sample_next(logits {tuple(logits.shape)}, temperature={temperature}, top_k={top_k})"
    assert_that(torch.equal(torch.get_rng_state(), torch_state),
                f"{what} drew from torch's global generator: pass generator=generator to torch.multinomial")
    assert_that(torch.equal(logits, before), f"{what} changed logits in place")
    assert_shape(tokens, (n,), name=what)
    assert_that(tokens.dtype == torch.int64, f"{what}: the tokens must be int64, got {tokens.dtype}")
    return torch.bincount(tokens, minlength=logits.shape[1]).double() / n, what


def _check_distribution(logits_row, temperature, top_k, seed, n=4000):
    freq, what = _frequencies(logits_row, n, temperature, top_k, seed)
    scaled = logits_row.double() / temperature
    if top_k is not None:
        scaled = scaled.masked_fill(scaled < scaled.topk(min(top_k, len(scaled))).values[-1], float("-inf"))
    expected = torch.softmax(scaled, dim=-1)
    outside = freq[expected == 0].sum().item()
    assert_that(outside == 0, f"{what}: {outside:.1%} of the draws were outside the top {top_k} logits")
    assert_close(freq, expected, atol=0.035, rtol=0.0,
                 name=f"{what}: the share of each token over {n} draws (expected: softmax(logits / temperature), top-k renormalised)")


_row = torch.tensor([2.0, 1.0, 0.0, -1.0, 0.5])
_check_distribution(_row, 1.0, None, seed=0)
_check_distribution(_row, 0.5, 3, seed=1)
_greedy = call(sample_next, torch.tensor([[0.1, 3.0, -1.0], [2.0, 0.0, 1.0]]), 0.0, None, torch.Generator())
assert_close(_greedy.double(), [1.0, 0.0], name="sample_next(logits, temperature=0): the argmax of every row")
### BEGIN HIDDEN TESTS
_check_distribution(_row, 2.0, None, seed=2)
_check_distribution(_row, 0.5, None, seed=3)
_check_distribution(torch.tensor([0.0, 3.0, 1.0, 2.5, -2.0, 2.0]), 1.0, 2, seed=4)
_check_distribution(torch.tensor([1.0, -1.0, 0.5]), 1.5, 10, seed=5)  # top_k larger than the vocabulary
_greedy = call(sample_next, torch.tensor([[0.1, 3.0, -1.0], [2.0, 0.0, 1.0], [-5.0, -4.0, -6.0]]), 1.0, 1,
               torch.Generator().manual_seed(0))
assert_close(_greedy.double(), [1.0, 0.0, 1.0], name="sample_next(logits, top_k=1): the argmax of every row")
_rows = torch.tensor([[5.0, 0.0, 0.0], [0.0, 0.0, 5.0], [0.0, 5.0, 0.0]]).repeat(200, 1)
_drawn = call(sample_next, _rows, 1.0, None, torch.Generator().manual_seed(6))
assert_that((_drawn == _rows.argmax(1)).double().mean().item() > 0.9,
            "sample_next: each row must be sampled from its own softmax (over the vocabulary, the last axis)")
_a = call(sample_next, _row.expand(50, -1), 1.0, None, torch.Generator().manual_seed(7))
_b = call(sample_next, _row.expand(50, -1), 1.0, None, torch.Generator().manual_seed(7))
assert_that(torch.equal(_a, _b), "sample_next: the same generator seed gave different tokens")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Training
#
# The recipe of nanoGPT (Karpathy, 2022), used by most small transformers:
#
# - **AdamW**: Adam with *decoupled* weight decay, applied to the weight matrices only (not to
#   biases, layer norms — or embeddings, here);
# - a learning rate that rises linearly for a short **warm-up** (Adam's moment estimates are poor
#   in the first steps) and then decays along a **cosine** to a tenth of its peak;
# - **gradient clipping**: when the gradient's total norm exceeds 1, it is scaled down to 1;
# - on a GPU, bf16 **autocast** (see the basics notebook).
#
# The loss is reported in **bits per character** (the cross-entropy in nats divided by $\ln 2$),
# on fixed validation windows, like chapter 07.

# %%
def learning_rate_factor(step, total, warmup):
    """Linear warm-up to 1, then a cosine down to 0.1."""
    if step < warmup:
        return (step + 1) / warmup
    progress_ = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress_))


def make_optimizer(model, lr, weight_decay=0.1):
    matrices = [p for name, p in model.named_parameters() if p.ndim >= 2 and "emb" not in name]
    others = [p for name, p in model.named_parameters() if not (p.ndim >= 2 and "emb" not in name)]
    return torch.optim.AdamW([{"params": matrices, "weight_decay": weight_decay},
                              {"params": others, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.99))


val_generator = torch.Generator().manual_seed(1234)
val_batches = [get_batch(val_data, CONFIG["context"], CONFIG["batch"], val_generator)
               for _ in range(CONFIG["eval_batches"])]


@torch.no_grad()
def validation_bits(model):
    model.eval()
    total = 0.0
    for x, y in val_batches:
        with autocast(device):
            total += model(x.to(device), y.to(device))[1].item()
    model.train()
    return total / len(val_batches) / math.log(2)


def train(model, optimizer, steps, lr, desc, history=None, seed=0, warmup=None):
    """steps of AdamW with warm-up, cosine decay and clipping; returns the history of bits/char."""
    history = history or {"step": [], "train": [], "val": [], "seconds": 0.0, "tokens": 0}
    warmup = warmup if warmup is not None else max(1, steps // 20)
    generator = torch.Generator().manual_seed(seed)
    start_step = history["step"][-1] + 1 if history["step"] else 0
    model.train()
    started = time.perf_counter()
    for i in (bar := progress(range(steps), desc=desc, unit="step")):
        for group in optimizer.param_groups:
            group["lr"] = lr * learning_rate_factor(i, steps, warmup)
        x, y = get_batch(train_data, CONFIG["context"], CONFIG["batch"], generator)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with autocast(device):
            _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if i % CONFIG["eval_every"] == 0 or i == steps - 1:
            history["step"].append(start_step + i)
            history["train"].append(loss.item() / math.log(2))
            history["val"].append(validation_bits(model))
            bar.set_postfix(val=f"{history['val'][-1]:.2f} bits")
    if device.type == "cuda":
        torch.cuda.synchronize()
    history["seconds"] += time.perf_counter() - started
    history["tokens"] += steps * CONFIG["batch"] * CONFIG["context"]
    return history


# %% [markdown]
# First the GPT you wrote:

# %%
seed_everything(0)
gpt_optimizer = make_optimizer(gpt, CONFIG["lr"])
gpt_history = train(gpt, gpt_optimizer, CONFIG["steps"], CONFIG["lr"], desc="training the GPT")
print(f"GPT: validation {gpt_history['val'][-1]:.3f} bits/char after {CONFIG['steps']} steps "
      f"({gpt_history['seconds']:.0f} s)")

# %% [markdown]
# Then an LSTM of PyTorch's, the model of chapter 07, trained by the same loop: an embedding,
# `nn.LSTM` and a linear head. It returns `(logits, loss)` like the GPT.

# %%
class CharLSTM(nn.Module):
    def __init__(self, vocab_size, hidden, layers, context):
        super().__init__()
        self.context = context  # only used to crop the prompt when sampling
        self.emb = nn.Embedding(vocab_size, hidden)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx, targets=None):
        out, _ = self.lstm(self.emb(idx))
        logits = self.head(out)
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


seed_everything(0)
lstm = CharLSTM(vocab_size, CONFIG["lstm_hidden"], CONFIG["lstm_layers"], CONFIG["context"]).to(device)
lstm_optimizer = make_optimizer(lstm, CONFIG["lstm_lr"], weight_decay=0.0)
lstm_history = train(lstm, lstm_optimizer, CONFIG["lstm_steps"], CONFIG["lstm_lr"], desc="training the LSTM")
print(f"LSTM ({sum(p.numel() for p in lstm.parameters()):,} parameters): validation "
      f"{lstm_history['val'][-1]:.3f} bits/char after {CONFIG['lstm_steps']} steps ({lstm_history['seconds']:.0f} s)")

# %% [markdown]
# The learning curves, with chapter 07's figures for scale: its bigram baseline (3.58 bits/char)
# and its numpy LSTM (about 2.35 bits/char after its training).

# %%
fig, ax = plt.subplots()
for label, history in (("GPT", gpt_history), ("LSTM", lstm_history)):
    ax.plot(history["step"], history["val"], "o-", ms=3, label=f"{label}, validation")
    ax.plot(history["step"], history["train"], ":", color=ax.lines[-1].get_color(), label=f"{label}, training batch")
ax.axhline(3.58, color="grey", ls="--", lw=1, label="bigram (chapter 07)")
ax.axhline(2.35, color="k", ls="--", lw=1, label="numpy LSTM (chapter 07)")
ax.set(xlabel="training step", ylabel="bits per character", ylim=(1.0, 5.0), title="Character-level language models")
ax.legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown]
# In the small configuration both models pass the bigram baseline within a few hundred steps
# of tiny batches; chapter 07's numpy LSTM needed many more characters to reach its 2.35. The
# full configuration has the opposite problem. Measured once on an NVIDIA H200: after 1500 steps
# (37 s) the GPT's training loss was down to 0.85 bits/char, but its validation loss was 2.96 —
# ten million parameters and no dropout memorise a one-megabyte text. Watch the gap between the
# curves; dropout, weight decay or fewer steps are the cures to try.
#
# **Throughput and MFU.** How well does training use the hardware? A forward and backward pass
# costs about $6N$ floating-point operations per token for $N$ parameters (2 for the forward
# product, 4 for the backward), plus the attention scores, $12\,L\,T\,C$ per token. Divided by
# the GPU's peak bf16 speed, this is the **model FLOPs utilisation** (MFU). Good large runs reach
# 40–60%; a model this small reaches much less, because each step launches many small kernels.
# Measured once on an H200 (full configuration, batch 64 × 256 tokens): 0.69 M tokens/s eager
# (MFU 5.0 %), 0.78 M with `torch.compile` (5.7 %), and 1.03 M (7.5 %) with PyTorch's fused
# `F.scaled_dot_product_attention` in place of the masked matrix products written here.

# %%
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12,
             "A10": 125e12, "RTX 4090": 165e12, "RTX 3090": 71e12, "T4": 65e12, "V100": 125e12}


def peak_flops(device):
    """The dense bf16 peak of the GPU (by name; None when unknown or on a CPU)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16.items() if key in name), None)


tokens_per_second = gpt_history["tokens"] / gpt_history["seconds"]  # includes the validation passes
flops_per_token = 6 * n_params + 12 * CONFIG["n_layers"] * CONFIG["context"] * CONFIG["d_model"]
print(f"GPT training: {tokens_per_second:,.0f} tokens/s, {flops_per_token * tokens_per_second / 1e12:.3f} TFLOP/s")
peak = peak_flops(device)
if peak:
    print(f"MFU: {flops_per_token * tokens_per_second / peak:.1%} of {torch.cuda.get_device_name(device)}'s "
          f"{peak / 1e12:.0f} TFLOP/s bf16")
else:
    print("MFU is a GPU figure (the share of a GPU's peak bf16 FLOP/s); on a CPU only tokens/s are meaningful")

# %% [markdown]
# ## 8. Checkpoints
#
# The trained GPT is saved with its optimizer's state, loaded into a fresh model, and training
# resumes from there for a few steps at a tenth of the learning rate:

# %%
checkpoint = Path(tempfile.mkdtemp()) / "gpt.pt"
save_checkpoint(checkpoint, model=gpt, optimizer=gpt_optimizer, step=gpt_history["step"][-1],
                val=gpt_history["val"])
restored = GPT(vocab_size, CONFIG["context"], CONFIG["d_model"], CONFIG["n_heads"], CONFIG["n_layers"]).to(device)
restored_optimizer = make_optimizer(restored, CONFIG["lr"])
extra = load_checkpoint(checkpoint, model=restored, optimizer=restored_optimizer, map_location=device)
restored_bits = validation_bits(restored)
print(f"checkpoint of step {extra['step']} ({checkpoint.stat().st_size / 1e6:.1f} MB): validation "
      f"{gpt_history['val'][-1]:.3f} bits/char saved, {restored_bits:.3f} restored")
resumed_history = train(restored, restored_optimizer, CONFIG["resume_steps"], CONFIG["lr"] / 10, seed=1,
                        desc="resuming", warmup=0, history={"step": [extra["step"]], "train": [], "val": [],
                                                            "seconds": 0.0, "tokens": 0})
print(f"after {CONFIG['resume_steps']} more steps: validation {resumed_history['val'][-1]:.3f} bits/char")

# %% [markdown]
# ## 9. Writing text
#
# `generate` runs the model on the last `context` tokens, samples the next one and appends it.
# (It recomputes the whole window at every step; real implementations cache the keys and values.)

# %%
@torch.no_grad()
def generate(model, prompt, n_new, temperature=1.0, top_k=None, seed=0):
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    idx = encode(prompt)[None].to(device)
    for _ in range(n_new):
        with autocast(device):
            logits, _ = model(idx[:, -model.context:])
        token = sample_next(logits[:, -1].float().cpu(), temperature, top_k, generator)
        idx = torch.cat([idx, token[:, None].to(device)], dim=1)
    model.train()
    return decode(idx[0].cpu())


n_chars = 150 if SIZE == "small" else 500
for label, model, temperature, top_k in [("GPT, temperature 1.0", gpt, 1.0, None),
                                         ("GPT, temperature 0.8, top-k 10", gpt, 0.8, 10),
                                         ("LSTM, temperature 0.8, top-k 10", lstm, 0.8, 10),
                                         ("GPT, greedy", gpt, 0.0, None)]:
    print(f"--- {label} ---\n{generate(model, 'ROMEO:', n_chars, temperature, top_k)}\n")

# %% [markdown]
# Greedy decoding soon loops: the most likely continuation of a phrase leads back to the phrase.
#
# **Concept check 2.** The logits of a row are $(2, 0, 0)$. At temperature $\tau$, the
# probability of the first token is $e^{2/\tau} / (e^{2/\tau} + 2)$. What does it tend to as
# $\tau \to \infty$? Set `q2_answer` to that number.

# %% nbgrader="solution" grade_id="q2_temperature"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 1 / 3
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_temperature" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 1 / 3, name="q2_answer", rtol=0.0, atol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 10. Inside the attention
#
# What does a trained head look at? The weights of the first block's heads on a line of text,
# computed from its `qkv` layer as in your `forward` (row: the query position, column: the key
# position; the upper triangle is the masked future).

# %%
@torch.no_grad()
def attention_weights(block, x):
    """The (H, T, T) attention weights of block's attention for one sequence x (1, T, C)."""
    attn = block.attn
    _, T, C = x.shape
    H = attn.n_heads
    q, k, _ = (t.view(1, T, H, C // H).transpose(1, 2) for t in attn.qkv(block.ln1(x)).split(C, dim=-1))
    scores = (q @ k.transpose(-2, -1) / math.sqrt(C // H)).masked_fill(~causal_mask(T, x.device), float("-inf"))
    return torch.softmax(scores, dim=-1)[0].float().cpu()


snippet = "First Citizen:\nBefore we proceed"
ids = encode(snippet)[None].to(device)
gpt.eval()
with torch.no_grad():
    x0 = gpt.tok_emb(ids) + gpt.pos_emb(torch.arange(ids.shape[1], device=device))
    maps = attention_weights(gpt.blocks[0], x0.float())
gpt.train()
shown = min(4, maps.shape[0])
fig, axes = plt.subplots(1, shown, figsize=(3.2 * shown, 3.4))
labels = [repr(ch)[1:-1] for ch in snippet]
for h, ax in enumerate(axes):
    ax.imshow(maps[h].numpy(), cmap="viridis")
    ax.set_xticks(range(len(snippet)), labels, fontsize=5, rotation=90)
    ax.set_yticks(range(len(snippet)), labels, fontsize=5)
    ax.set_title(f"block 1, head {h + 1}", fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# Some heads attend mostly to the token itself or its neighbour (a bigram-like lookup), others
# spread over the current word or look back to the last space or newline; in the full
# configuration the patterns are much sharper.
#
# **Concept check 3.** Without the position embedding, what would the GPT's attention compute
# for a token? Set `q3_answer` to one letter:
#
# - `"a"`: the same as with it: the causal mask already tells it the order;
# - `"b"`: a function of the *set* of earlier tokens only: it could not tell "ab" from "ba" before the current token;
# - `"c"`: nothing: attention needs positions to run at all;
# - `"d"`: only the current token's own value.

# %% nbgrader="solution" grade_id="q3_positions"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_positions" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** The LSTM reads the window one character after another; the GPT
# looks at all positions of the window at once. Give one advantage of each for training a
# character model on a GPU, and say what each pays for its advantage. Two to four sentences.

# %% [markdown] nbgrader="answer" grade_id="written_lstm_vs_gpt" points=2
# *Model answer.* The GPT computes all $T$ positions of a window in parallel with large matrix
# products, which keeps a GPU busy, and every position can reach any earlier one in one step, so
# long-range dependencies are easy to learn; it pays with attention cost and memory that grow
# as $T^2$ and with a hard context limit. The LSTM carries a fixed-size state, so its cost per
# token is constant and it has no context limit, but its time steps must run one after the other,
# which leaves most of a GPU idle, and information from far back must survive many state updates.

# %% [markdown]
# ## Summary
#
# - Causal self-attention: scores $qk^\top/\sqrt{d}$ per head, the future masked to $-\infty$,
#   a softmax over the keys, heads merged and projected.
# - A pre-norm block keeps the residual stream un-normalised: $x + \text{attn}(\text{ln}(x))$,
#   $x + \text{mlp}(\text{ln}(x))$; a GPT stacks them between embeddings (tokens *and* positions)
#   and a head, and learns from every position of every window.
# - AdamW, warm-up and cosine decay, clipping and bf16 train it; temperature and top-k shape
#   what it writes.
#
# Chapter 08 will build the same transformer block in numpy, forward and backward by hand; a
# comparison with this notebook's PyTorch block will be added here once that chapter exists.
