"""Known mistakes of 07_rnn, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "rnn_step", "fails": "test_rnn_step",
     "mutant": "bias gradient averaged over the batch instead of summed",
     "source": '''def rnn_step_forward(x, h_prev, params):
    W_ih, W_hh = params["W_ih"], params["W_hh"]
    bias = params["b_ih"] + params["b_hh"]
    pre = np.einsum("nd,hd->nh", x, W_ih) + np.einsum("nk,hk->nh", h_prev, W_hh) + bias
    h = np.tanh(pre)
    cache = {"x": x, "h_prev": h_prev, "h": h, "params": params}
    return h, cache


def rnn_step_backward(dh, cache):
    x, h_prev, h, params = cache["x"], cache["h_prev"], cache["h"], cache["params"]
    dpre = dh - dh * h ** 2
    N = dpre.shape[0]
    db = np.einsum("nh->h", dpre) / N
    grads = {
        "W_ih": np.einsum("nh,nd->hd", dpre, x),
        "W_hh": np.einsum("nh,nk->hk", dpre, h_prev),
        "b_ih": db,
        "b_hh": db.copy(),
    }
    dx = np.einsum("nh,hd->nd", dpre, params["W_ih"])
    dh_prev = np.einsum("nh,hk->nk", dpre, params["W_hh"])
    return dx, dh_prev, grads
'''},
    {"cell": "lstm_step", "fails": "test_lstm_step",
     "mutant": "output gate gradient without tanh(c): h = o tanh(c), so dL/do = dh tanh(c)",
     "source": '''def lstm_step_forward(x, h_prev, c_prev, params):
    H = h_prev.shape[1]
    z = (np.dot(x, params["W_ih"].T) + np.dot(h_prev, params["W_hh"].T)
         + (params["b_ih"] + params["b_hh"]))
    zi, zf, zg, zo = np.split(z, 4, axis=1)
    i = 0.5 * (1.0 + np.tanh(0.5 * zi))
    f = 0.5 * (1.0 + np.tanh(0.5 * zf))
    g = np.tanh(zg)
    o = 0.5 * (1.0 + np.tanh(0.5 * zo))
    c = i * g + f * c_prev
    h = np.tanh(c) * o
    return h, c, (x, h_prev, c_prev, i, f, g, o, c, params)


def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, i, f, g, o, c, params = cache
    tanh_c = np.tanh(c)
    dc_sum = dh * o * (1.0 - tanh_c ** 2) + dc
    di = dc_sum * g
    df = dc_sum * c_prev
    dg = dc_sum * i
    do = dh
    dzi = di * i * (1.0 - i)
    dzf = df * f * (1.0 - f)
    dzg = dg * (1.0 - g ** 2)
    dzo = do * o * (1.0 - o)
    dz = np.concatenate([dzi, dzf, dzg, dzo], axis=1).astype(dh.dtype, copy=False)
    db = np.sum(dz, axis=0)
    grads = {"W_ih": np.dot(dz.T, x), "W_hh": np.dot(dz.T, h_prev), "b_ih": db, "b_hh": db.copy()}
    dx = np.dot(dz, params["W_ih"])
    dh_prev = np.dot(dz, params["W_hh"])
    dc_prev = f * dc_sum
    return dx, dh_prev, dc_prev, grads
'''},
    {"cell": "temporal_softmax_loss", "fails": "test_temporal_softmax_loss",
     "mutant": "divides by all N*T positions instead of the masked-in ones",
     "source": '''def temporal_softmax_loss(scores, y, mask):
    N, T, V = scores.shape
    flat = scores.reshape(N * T, V)
    yf = y.reshape(N * T)
    mf = mask.reshape(N * T)
    total = 0.0
    dflat = np.zeros_like(flat)
    for k in range(N * T):
        if not mf[k]:
            continue
        row = flat[k]
        m = row.max()
        lse = m + np.log(np.sum(np.exp(row - m)))
        total += lse - row[yf[k]]
        p = np.exp(row - lse)
        p[yf[k]] -= 1.0
        dflat[k] = p
    denom = N * T
    loss = total / denom
    dflat = dflat / denom
    return float(loss), dflat.reshape(N, T, V).astype(scores.dtype, copy=False)
'''},
]

FIXES = {0: ('np.einsum("nh->h", dpre) / N', 'np.einsum("nh->h", dpre)'), 1: ("do = dh\n", "do = dh * tanh_c\n"), 2: ("denom = N * T", "denom = max(int(mf.sum()), 1)")}
