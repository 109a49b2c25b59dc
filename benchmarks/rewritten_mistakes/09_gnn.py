"""Known mistakes of 09_gnn, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "normalize", "fails": "test_normalize",
     "mutant": "takes the degrees of A instead of A + I",
     "source": '''def degrees(A):
    A = np.asarray(A, dtype=np.float64)
    return A @ np.ones(A.shape[1])


def normalize_adjacency(A, add_self_loops=True):
    A = np.asarray(A, dtype=np.float64)
    N = A.shape[0]
    deg = degrees(A)
    M = A + np.eye(N) if add_self_loops else A.copy()
    out = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            if deg[i] > 0 and deg[j] > 0:
                out[i, j] = M[i, j] / np.sqrt(deg[i] * deg[j])
    return out
'''},
    {"cell": "gcn", "fails": "test_gcn",
     "mutant": "db as the mean over the nodes: every node adds b once, so db is the sum",
     "source": '''def gcn_forward(X, A_hat, W, b):
    AX = np.dot(A_hat, X)
    out = np.dot(AX, W.T) + b[None, :]
    return out, {"X": X, "A": A_hat, "W": W}


def gcn_backward(dout, cache):
    X, A_hat, W = cache["X"], cache["A"], cache["W"]
    AX = A_hat @ X
    dW = np.einsum("no,ni->oi", dout, AX)
    dX = np.einsum("mn,mo,oi->ni", A_hat, dout, W)
    db = np.sum(dout, axis=0) / dout.shape[0]
    return dX, dW, db
'''},
    {"cell": "aggregate", "fails": "test_aggregate",
     "mutant": "the mean's gradient is not divided by the node's number of messages",
     "source": '''def aggregate_forward(messages, index, num_nodes, reduce="sum"):
    E, F = messages.shape
    out = np.zeros((num_nodes, F), dtype=messages.dtype)
    seen = np.zeros(num_nodes, dtype=np.int64)
    for e in range(E):
        i = index[e]
        if reduce == "max":
            out[i] = messages[e] if seen[i] == 0 else np.maximum(out[i], messages[e])
        else:
            out[i] += messages[e]
        seen[i] += 1
    if reduce == "mean":
        for i in range(num_nodes):
            if seen[i] > 0:
                out[i] = out[i] / seen[i]
    return out, (messages, index, seen, reduce, out)


def aggregate_backward(dout, cache):
    messages, index, seen, reduce, out = cache
    E, F = messages.shape
    dmsg = np.zeros((E, F), dtype=dout.dtype)
    if reduce in ("sum", "mean"):
        for e in range(E):
            dmsg[e] = dout[index[e]]
        return dmsg
    winners = (messages == out[index])
    n_tie = np.zeros(out.shape, dtype=dout.dtype)
    for e in range(E):
        n_tie[index[e]] += winners[e]
    for e in range(E):
        dmsg[e] = np.where(winners[e], dout[index[e]] / np.maximum(n_tie[index[e]], 1), 0.0)
    return dmsg
'''},
]

FIXES = {0: ("deg = degrees(A)\n    M = A + np.eye(N) if add_self_loops else A.copy()\n",
             "M = A + np.eye(N) if add_self_loops else A.copy()\n    deg = degrees(M)\n"),
         1: (" / dout.shape[0]", ""),
         2: ('''    if reduce in ("sum", "mean"):
        for e in range(E):
            dmsg[e] = dout[index[e]]
        return dmsg''', '''    if reduce in ("sum", "mean"):
        for e in range(E):
            dmsg[e] = dout[index[e]] / (seen[index[e]] if reduce == "mean" else 1)
        return dmsg''')}
