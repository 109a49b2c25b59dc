"""Known mistakes of p3_sequence_models, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "attention", "fails": "test_attention",
     "mutant": "scales the scores by sqrt(d_model) instead of sqrt(head dimension)",
     "source": '''class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: qkv projection, per-head attention, output projection."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not a multiple of n_heads={n_heads}")
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        nh = self.n_heads
        hd = C // nh
        qkv = self.qkv(x).reshape(B, T, 3, nh, hd)
        q, k, v = qkv.unbind(dim=2)
        att = torch.einsum("bqhd,bkhd->bhqk", q, k) * (C ** -0.5)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        att = att.masked_fill(future, float("-inf"))
        att = att.softmax(dim=-1)
        y = torch.einsum("bhqk,bkhd->bqhd", att, v).reshape(B, T, C)
        return self.proj(y)
'''},
    {"cell": "block", "fails": "test_block",
     "mutant": "uses ln1 in front of the MLP too (ln2 is never used)",
     "source": '''class Block(nn.Module):
    """A pre-norm transformer block."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        norm = self.ln1
        attended = self.attn(norm(x))
        h = attended + x
        ff = self.mlp(norm(h))
        return ff + h
'''},
    {"cell": "gpt", "fails": "test_gpt",
     "mutant": "shifts the targets again inside the model (get_batch already did): logits[:, :-1] against targets[:, 1:]",
     "source": '''class GPT(nn.Module):
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
        T = idx.size(1)
        positions = torch.arange(0, T, dtype=torch.long, device=idx.device).unsqueeze(0)
        h = self.pos_emb(positions) + self.tok_emb(idx)
        for i in range(len(self.blocks)):
            h = self.blocks[i](h)
        h = self.ln_f(h)
        logits = self.head(h)
        if targets is None:
            return logits, None
        # predict token t+1 from position t
        pred = logits[:, :T - 1, :]
        nxt = targets[:, 1:]
        logp = F.log_softmax(pred, dim=-1)
        loss = F.nll_loss(logp.flatten(0, 1), nxt.flatten())
        return logits, loss
'''},
    {"cell": "sample_next", "fails": "test_sample_next",
     "mutant": "multiplies the logits by the temperature instead of dividing",
     "source": '''def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0 or top_k == 1:
        return torch.argmax(logits, dim=1)
    scaled = temperature * logits
    if top_k is not None:
        k = min(top_k, scaled.size(-1))
        sorted_vals, _ = torch.sort(scaled, dim=-1, descending=True)
        threshold = sorted_vals[:, k - 1].unsqueeze(-1)
        scaled = torch.where(scaled >= threshold, scaled, torch.full_like(scaled, float("-inf")))
    p = F.softmax(scaled, dim=-1)
    draws = torch.multinomial(p, num_samples=1, generator=generator)
    return draws[:, 0]
'''},
]

FIXES = {0: ("(C ** -0.5)", "(hd ** -0.5)"), 1: ("ff = self.mlp(norm(h))", "ff = self.mlp(self.ln2(h))"),
         2: [("pred = logits[:, :T - 1, :]", "pred = logits"), ("nxt = targets[:, 1:]", "nxt = targets")],
         3: ("scaled = temperature * logits", "scaled = logits / temperature")}
