"""Plausible wrong solutions for chapter 09; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``adjacency``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import editor

edit = editor(Path(__file__).resolve().parents[1] / "09_gnn.py")

ADJACENCY = [
    edit("adjacency", "A[source, target] = 1: row i must list the nodes that send to i, A[target, source]",
         ("A[edge_index[1], edge_index[0]] = 1.0", "A[edge_index[0], edge_index[1]] = 1.0"), kind="order"),
    edit("adjacency", "adds 1 per listed edge (np.add.at): an edge listed twice is still one entry 1",
         ("A[edge_index[1], edge_index[0]] = 1.0", "np.add.at(A, (edge_index[1], edge_index[0]), 1.0)"), kind="edge"),
    edit("adjacency", "takes the number of nodes from the largest id in the edges: isolated nodes at the end are lost",
         ("A = np.zeros((num_nodes, num_nodes))", "n = int(edge_index.max(initial=-1)) + 1\n    A = np.zeros((n, n))"),
         kind="ignored"),
    edit("adjacency", "returns an integer matrix: the adjacency is float64",
         ("A = np.zeros((num_nodes, num_nodes))", "A = np.zeros((num_nodes, num_nodes), dtype=np.int64)"),
         kind="dtype"),
]

NORMALIZE = [
    edit("normalize", "the column sums: the degree of node i counts the edges into i, the row sums of A",
         ("return A.sum(axis=1, dtype=np.float64)", "return A.sum(axis=0, dtype=np.float64)"), kind="order"),
    edit("normalize", "counts the edges instead of summing their weights",
         ("return A.sum(axis=1, dtype=np.float64)", "return np.count_nonzero(A, axis=1).astype(np.float64)")),
    edit("normalize", "counts a self-loop in every degree: degrees(A) is the row sums of A itself",
         ("return A.sum(axis=1, dtype=np.float64)", "return A.sum(axis=1, dtype=np.float64) + 1.0")),
    edit("normalize", "row normalisation D^-1 (A + I) (the mean of the neighbours): the GCN divides by "
         "sqrt(d_i d_j), on both sides",
         ("return inv_sqrt[:, None] * A_tilde * inv_sqrt[None, :]", "return inv_sqrt[:, None] ** 2 * A_tilde")),
    edit("normalize", "never adds the self-loops: with add_self_loops=True use A + I",
         ("A_tilde = A + np.eye(len(A)) if add_self_loops else A.astype(np.float64)",
          "A_tilde = A.astype(np.float64)"), kind="ignored"),
    edit("normalize", "takes the degrees of A instead of A + I",
         ("d = degrees(A_tilde)", "d = degrees(A)")),
    edit("normalize", "divides by 0 for a node of degree 0 (nan); its row and column must be 0",
         ("inv_sqrt = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)", "inv_sqrt = 1.0 / np.sqrt(d)"),
         kind="edge"),
]

GCN = [
    edit("gcn", "adds the bias before the aggregation: A_hat (X W^T + b) gives each node b times its row sum",
         ("out = A_hat @ Z + b", "out = A_hat @ (Z + b)"), kind="order"),
    edit("gcn", "aggregates with A_hat^T: node i sums row i of A_hat, A_hat @ Z",
         ("out = A_hat @ Z + b", "out = A_hat.T @ Z + b"), kind="order"),
    edit("gcn", "forgets the bias", ("out = A_hat @ Z + b", "out = A_hat @ Z"), kind="ignored"),
    edit("gcn", "dZ = A_hat dout: the gradient flows back along the edges the other way, A_hat^T dout",
         ("dZ = A_hat.T @ dout", "dZ = A_hat @ dout"), kind="order"),
    edit("gcn", "dW = X^T dZ has the layout (in, out); W is (out, in), so dW = dZ^T X",
         ("return dZ @ W, dZ.T @ X, dout.sum(axis=0)", "return dZ @ W, X.T @ dZ, dout.sum(axis=0)"), kind="order"),
    edit("gcn", "db as the mean over the nodes: every node adds b once, so db is the sum",
         ("return dZ @ W, dZ.T @ X, dout.sum(axis=0)", "return dZ @ W, dZ.T @ X, dout.mean(axis=0)")),
    edit("gcn", "db summed through A_hat: the bias is added after the aggregation",
         ("return dZ @ W, dZ.T @ X, dout.sum(axis=0)", "return dZ @ W, dZ.T @ X, dZ.sum(axis=0)")),
]

GCN_CONV = [
    edit("gcn_conv", "divides each message by the target's degree only (row normalisation, a mean): the GCN "
         "uses 1 / sqrt(d_source d_target)",
         ("weights = 1.0 / np.sqrt(d[source] * d[target])", "weights = 1.0 / d[target]")),
    edit("gcn_conv", "forgets the self-loops: every node also sends a message to itself",
         ("source = np.concatenate([edge_index[0], np.arange(N)])\n"
          "    target = np.concatenate([edge_index[1], np.arange(N)])\n"
          "    d = np.bincount(target, minlength=N).astype(np.float64)",
          "source, target = edge_index[0], edge_index[1]\n"
          "    d = np.maximum(np.bincount(target, minlength=N), 1).astype(np.float64)"), kind="ignored"),
    edit("gcn_conv", "counts the degrees at the sources (edges out of a node): the GCN's degree counts the edges in",
         ("d = np.bincount(target, minlength=N).astype(np.float64)",
          "d = np.bincount(source, minlength=N).astype(np.float64)"), kind="order"),
    edit("gcn_conv", "out[target] += messages: a node that receives several messages keeps only one; use np.add.at "
         "or a sparse matrix",
         ("out = S @ (X @ W.T) + b",
          "out = np.zeros((N, W.shape[0]))\n    out[target] += weights[:, None] * (X @ W.T)[source]\n    out += b"),
         kind="edge"),
    edit("gcn_conv", "sends the gradient along the edges in their own direction: dZ = S^T dout, the reverse",
         ("S_T = sp.coo_matrix((weights, (source, target)), shape=(N, N)).tocsr()",
          "S_T = sp.coo_matrix((weights, (target, source)), shape=(N, N)).tocsr()"), kind="order"),
    edit("gcn_conv", "dW = X^T dZ has the layout (in, out); W is (out, in), so dW = dZ^T X",
         ("return dZ @ W, dZ.T @ X, dout.sum(axis=0)", "return dZ @ W, X.T @ dZ, dout.sum(axis=0)"), kind="order"),
    edit("gcn_conv", "dX = dZ W^T: Z = X W^T, so dX = dZ W",
         ("return dZ @ W, dZ.T @ X, dout.sum(axis=0)", "return dZ @ W.T, dZ.T @ X, dout.sum(axis=0)"), kind="order"),
    edit("gcn_conv", "db as the mean over the nodes: every node adds b once, so db is the sum",
         ("return dZ @ W, dZ.T @ X, dout.sum(axis=0)", "return dZ @ W, dZ.T @ X, dout.mean(axis=0)")),
]

AGGREGATE = [
    edit("aggregate", "out[index] += messages: a node that receives several messages keeps only one; use np.add.at",
         ("np.add.at(out, index, messages)", "out[index] += messages"), kind="edge"),
    edit("aggregate", "the mean of a node that receives nothing is 0 / 0 (nan); it must be 0",
         ("out /= np.maximum(count, 1)[:, None].astype(messages.dtype)",
          "out /= count[:, None].astype(messages.dtype)"), kind="edge"),
    edit("aggregate", "leaves -inf as the max of a node that receives nothing; it must be 0",
         ("        out[count == 0] = 0.0\n", ""), kind="edge"),
    edit("aggregate", "divides the mean by the number of nodes instead of each node's number of messages",
         ("out /= np.maximum(count, 1)[:, None].astype(messages.dtype)",
          "out /= np.maximum(num_nodes, 1)")),
    edit("aggregate", "the max's gradient goes in full to every message that ties for the maximum: split it",
         ("return is_max * dout[index] / ties[index]", "return is_max * dout[index]"), kind="edge"),
    edit("aggregate", "the mean's gradient is not divided by the node's number of messages",
         ("return dout[index] / count[index][:, None].astype(dout.dtype)", "return dout[index]")),
    edit("aggregate", "the max passes the gradient to every message (as the sum does), not only to the largest",
         ("is_max = (messages == out[index]).astype(dout.dtype)", "is_max = np.ones_like(messages, dtype=dout.dtype)")),
]

READOUT = [
    edit("readout", "puts the max before the mean: the readout is [mean | max]",
         ("return np.concatenate([mean, top], axis=1), (mean_cache, max_cache, H.shape[1])",
          "return np.concatenate([top, mean], axis=1), (mean_cache, max_cache, H.shape[1])"), kind="order"),
    edit("readout", "sums the nodes instead of averaging them",
         ("mean, mean_cache = aggregate_forward(H, batch, num_graphs, reduce=\"mean\")",
          "mean, mean_cache = aggregate_forward(H, batch, num_graphs, reduce=\"sum\")")),
    edit("readout", "pools all nodes into every graph, ignoring batch",
         ("mean, mean_cache = aggregate_forward(H, batch, num_graphs, reduce=\"mean\")\n"
          "    top, max_cache = aggregate_forward(H, batch, num_graphs, reduce=\"max\")",
          "mean, mean_cache = aggregate_forward(H, np.zeros_like(batch), 1, reduce=\"mean\")\n"
          "    top, max_cache = aggregate_forward(H, np.zeros_like(batch), 1, reduce=\"max\")\n"
          "    mean, top = np.repeat(mean, num_graphs, axis=0), np.repeat(top, num_graphs, axis=0)"), kind="ignored"),
    edit("readout", "forgets the gradient through the max half",
         ("return aggregate_backward(dout[:, :F], mean_cache) + aggregate_backward(dout[:, F:], max_cache)",
          "return aggregate_backward(dout[:, :F], mean_cache)"), kind="graph"),
    edit("readout", "sends the max half's gradient into the mean and the mean half's into the max",
         ("return aggregate_backward(dout[:, :F], mean_cache) + aggregate_backward(dout[:, F:], max_cache)",
          "return aggregate_backward(dout[:, F:], mean_cache) + aggregate_backward(dout[:, :F], max_cache)"),
         kind="order"),
    edit("readout", "averages the two halves' gradients instead of adding them",
         ("return aggregate_backward(dout[:, :F], mean_cache) + aggregate_backward(dout[:, F:], max_cache)",
          "return (aggregate_backward(dout[:, :F], mean_cache) + aggregate_backward(dout[:, F:], max_cache)) / 2")),
]

PERMUTE = [
    edit("permute_graph", "maps the edge ids through perm instead of its inverse: new node k is old perm[k], so old "
         "node a becomes argsort(perm)[a]", ("return X[perm], inverse[edge_index]", "return X[perm], perm[edge_index]"),
         kind="order"),
    edit("permute_graph", "reorders the features with the inverse permutation: new node k is old node perm[k], X[perm]",
         ("return X[perm], inverse[edge_index]", "return X[inverse], inverse[edge_index]"), kind="order"),
    edit("permute_graph", "leaves the edges as they were: their ids must be relabelled too",
         ("return X[perm], inverse[edge_index]", "return X[perm], edge_index.copy()"), kind="ignored"),
]

GAT = [
    edit("gat", "no self-loops: every node also attends to itself",
         ("allowed = (A != 0) | np.eye(N, dtype=bool)", "allowed = A != 0"), kind="edge"),
    edit("gat", "swaps a_src and a_dst: a_dst scores the receiving node i, a_src the sender j",
         ("s = (Z @ a_dst)[:, None] + (Z @ a_src)[None, :]", "s = (Z @ a_src)[:, None] + (Z @ a_dst)[None, :]"),
         kind="order"),
    edit("gat", "ReLU instead of LeakyReLU: negative_slope is ignored",
         ("e = np.where(s > 0, s, negative_slope * s)", "e = np.maximum(s, 0.0)"), kind="ignored"),
    edit("gat", "the softmax over the senders of node i is taken over a column instead of a row",
         ("out, alpha, attention_cache = attention_forward(e, np.eye(N, dtype=e.dtype), Z, mask=allowed, scale=1.0)",
          "out, alpha, attention_cache = attention_forward(e.T, np.eye(N, dtype=e.dtype), Z, mask=allowed.T, "
          "scale=1.0)"), kind="order"),
    edit("gat", "forgets LeakyReLU's derivative in the backward pass",
         ("ds = de * np.where(s > 0, 1.0, negative_slope)", "ds = de"), kind="graph"),
    edit("gat", "sums the score gradients over the wrong axes: u_i = a_dst . z_i is in every entry of row i",
         ("du, dt = ds.sum(axis=1), ds.sum(axis=0)", "du, dt = ds.sum(axis=0), ds.sum(axis=1)"), kind="order"),
    edit("gat", "forgets the gradient through the scores: Z also enters the attention weights",
         ("    dZ = dZ + np.outer(du, a_dst) + np.outer(dt, a_src)\n", ""),
         kind="graph"),
    edit("gat", "swaps the gradients of a_src and a_dst",
         ("return dZ @ W, dZ.T @ X, Z.T @ dt, Z.T @ du", "return dZ @ W, dZ.T @ X, Z.T @ du, Z.T @ dt"),
         kind="order"),
]

MUTANTS = ADJACENCY + NORMALIZE + GCN + GCN_CONV + AGGREGATE + READOUT + PERMUTE + GAT
