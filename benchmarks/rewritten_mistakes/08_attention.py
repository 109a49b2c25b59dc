"""Known mistakes of 08_attention, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "attention", "fails": "test_attention",
     "mutant": "divides the scores by d instead of sqrt(d)",
     "source": '''def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    Tq, d = q.shape[-2], q.shape[-1]
    Tk = k.shape[-2]
    if scale is None:
        scale = 1.0 / d
    scale = float(scale)
    s = np.einsum("...id,...jd->...ij", q, k) * scale
    keep = np.ones((Tq, Tk), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if causal:
        keep = keep & (np.arange(Tk)[None, :] <= np.arange(Tq)[:, None])
    keep = np.broadcast_to(keep, s.shape)
    s_masked = np.where(keep, s, -np.inf)
    m = s_masked.max(axis=-1, keepdims=True)
    m = np.where(np.isneginf(m), 0.0, m)
    e = np.exp(s_masked - m)
    z = e.sum(axis=-1, keepdims=True)
    w = np.divide(e, z, out=np.zeros_like(e), where=z > 0).astype(q.dtype, copy=False)
    out = np.einsum("...ij,...jd->...id", w, v)
    return out, w, {"q": q, "k": k, "v": v, "w": w, "scale": scale}


def attention_backward(dout, cache):
    q, k, v, w, scale = cache["q"], cache["k"], cache["v"], cache["w"], cache["scale"]
    dw = np.einsum("...id,...jd->...ij", dout, v)
    ds = w * dw - w * np.einsum("...ij,...ij->...i", w, dw)[..., None]
    dq = scale * np.einsum("...ij,...jd->...id", ds, k)
    dk = scale * np.einsum("...ij,...id->...jd", ds, q)
    dv = np.einsum("...ij,...id->...jd", w, dout)

    def unbroadcast(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for ax, size in enumerate(shape):
            if size == 1 and g.shape[ax] != 1:
                g = g.sum(axis=ax, keepdims=True)
        return g

    return unbroadcast(dq, q.shape), unbroadcast(dk, k.shape), unbroadcast(dv, v.shape)
'''},
    {"cell": "layernorm", "fails": "test_layernorm",
     "mutant": "unbiased variance (ddof=1): nn.LayerNorm divides by E",
     "source": '''def layernorm_forward(x, gamma, beta, eps=1e-5):
    E = x.shape[-1]
    centered = x - np.sum(x, axis=-1, keepdims=True) / E
    var = np.sum(centered * centered, axis=-1, keepdims=True) / (E - 1)
    std = np.sqrt(var + eps)
    xhat = centered / std
    out = gamma * xhat + beta
    return out, (xhat, std, gamma)


def layernorm_backward(dout, cache):
    xhat, std, gamma = cache
    E = xhat.shape[-1]
    g = gamma * dout
    sum_g = np.sum(g, axis=-1, keepdims=True)
    sum_gx = np.sum(g * xhat, axis=-1, keepdims=True)
    dx = (E * g - sum_g - xhat * sum_gx) / (E * std)
    lead = tuple(range(dout.ndim - 1))
    dgamma = np.sum(dout * xhat, axis=lead)
    dbeta = np.sum(dout, axis=lead)
    return dx, dgamma, dbeta
'''},
    {"cell": "positional_encoding", "fails": "test_positional_encoding",
     "mutant": "exponent i / E instead of 2i / E: the frequencies fall twice as fast",
     "source": '''def positional_encoding(T, E):
    pe = np.zeros((T, E))
    for pos in range(T):
        for i in range((E + 1) // 2):
            div = 10000.0 ** (i / E)
            pe[pos, 2 * i] = np.sin(pos / div)
            if 2 * i + 1 < E:
                pe[pos, 2 * i + 1] = np.cos(pos / div)
    return pe
'''},
]

# private sanity check: undoing the mistake must pass the tests
FIXES = {0: ("scale = 1.0 / d\n", "scale = 1.0 / np.sqrt(d)\n"), 1: ("/ (E - 1)", "/ E"), 2: ("(i / E)", "(2 * i / E)")}
