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
# # Chapter 09 — Graph neural networks
#
# Molecules, social networks, road maps and meshes are **graphs**: nodes joined by edges, with
# no order among the nodes and any number of neighbours per node. An MLP needs a fixed input
# order and a CNN a grid; a **graph neural network** needs neither. Each layer lets every node
# collect **messages** from its neighbours, combine them with a function that does not care
# about their order (a sum, a mean, a maximum, an attention-weighted average) and update its
# own vector with weights that are shared by all nodes. After $k$ layers a node has heard from
# everything up to $k$ edges away.
#
# **What you will build** (all in numpy; node features as **(nodes, features)**, weights in
# PyTorch's layout (out, in)):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `adjacency`, `degrees`, `normalize_adjacency` | a graph as a matrix, and the GCN's $\hat A$ |
# | 2 | `gcn_forward`, `gcn_backward` | the graph convolution layer of Kipf and Welling, dense |
# | 3 | `gcn_conv_forward`, `gcn_conv_backward` | the same layer as message passing on an edge list |
# | 4 | `aggregate_forward`, `aggregate_backward` | sum, mean and max over each node's messages |
# | 5 | `readout_forward`, `readout_backward` | one vector per graph |
# | 6 | `permute_graph` | relabelling the nodes: equivariance and invariance |
# | 7 | `gat_forward`, `gat_backward` | graph attention, with chapter 08's `attention_forward` |
#
# On the way: three concept checks and a written answer. The experiments at the end classify
# the members of Zachary's karate club from **one** labelled member per faction, tell trees
# from graphs with a cycle, and watch what happens to node embeddings when layers are stacked
# deeper and deeper (**over-smoothing**); a **graph explorer** shows the embeddings layer by
# layer and over training.
#
# **You need**: chapter 03 (the layer convention `forward -> (out, cache)`, `backward(dout,
# cache)`, ReLU, the softmax cross-entropy), chapter 05 (Adam), chapter 08 (attention).
#
# **Time**: about 4 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against dense PyTorch formulas with autograd and PyTorch Geometric's
# `GCNConv`, in float64, on random graphs — directed edges, repeated edges, isolated nodes,
# ties — and whether your functions leave their inputs unchanged. Make your code correct in
# general, not just for the visible examples, and do not rename the functions or change their
# arguments.

# %%
import matplotlib.pyplot as plt
import numpy as np

from helpers.gradcheck import numerical_gradient_array
from helpers.testing import (
    assert_answer,
    assert_array_equal,
    assert_choice,
    assert_close,
    assert_shape,
    assert_that,
    call,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)


def random_graph(rng, N, p, directed=False):
    """A random edge list (2, E) on N nodes, without self-loops: each pair joined with probability p."""
    A = np.triu(rng.random((N, N)) < p, 1) if not directed else (rng.random((N, N)) < p) & ~np.eye(N, dtype=bool)
    if not directed:
        A = A | A.T
    target, source = np.nonzero(A)
    return np.stack([source, target])


# %% [markdown]
# ## 1. A graph as arrays
#
# A graph with $N$ nodes numbered $0, \dots, N-1$ is stored, as in PyTorch Geometric, as an
# **edge list** `edge_index` of shape $(2, E)$: column $e$ is an edge from the **source**
# `edge_index[0, e]` to the **target** `edge_index[1, e]`, and messages flow along it from
# source to target. An undirected graph lists each edge in both directions.
#
# The **adjacency matrix** $A$ of shape $(N, N)$ has $A_{ij} = 1$ when there is an edge from
# $j$ to $i$ (row $i$ lists who sends to $i$), and 0 otherwise. Then $(A X)_i = \sum_{j \to i}
# x_j$ sums the feature vectors of $i$'s neighbours — the whole idea of a graph layer in one
# matrix product. An edge listed twice is still one entry 1; the nodes that no edge touches
# are rows and columns of zeros (that is why the number of nodes is an argument).
#
# *Example*: `edge_index = [[0, 1], [1, 2]]` (edges 0→1 and 1→2) on 3 nodes gives $A_{10} =
# A_{21} = 1$.

# %% nbgrader="solution" grade_id="adjacency" export=true
def adjacency(edge_index, num_nodes):
    """Dense adjacency matrix of an edge list.

    Args:
        edge_index: int array (2, E); column e is an edge from edge_index[0, e] to edge_index[1, e].
        num_nodes: N (int >= 1), every id in edge_index is < N.

    Returns:
        float64 array (N, N) with A[i, j] = 1 when some edge goes from j to i, else 0 (an edge
        listed several times still gives 1). The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    A = np.zeros((num_nodes, num_nodes))
    A[edge_index[1], edge_index[0]] = 1.0
    return A
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_adjacency" points=2
_A = call(adjacency, np.array([[0, 1], [1, 2]]), 3)
assert_shape(_A, (3, 3), name="adjacency([[0, 1], [1, 2]], 3)")
assert_close(_A, [[0, 0, 0], [1, 0, 0], [0, 1, 0]], name="adjacency(edges 0->1 and 1->2, 3 nodes): A[target, "
             "source] = 1")
assert_that(np.asarray(_A).dtype == np.float64, f"adjacency must return float64, got {np.asarray(_A).dtype}")
_A = call(adjacency, np.array([[0, 1, 0], [1, 0, 1]]), 4)
assert_close(_A, [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
             name="adjacency(0-1 both ways, 0->1 listed twice, 4 nodes, 2 and 3 isolated)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(901)
for _N, _p, _directed in [(1, 0.0, False), (2, 1.0, True), (7, 0.4, False), (9, 0.3, True), (20, 0.1, False)]:
    _ei = random_graph(_rng, _N, _p, _directed)
    _ei = np.concatenate([_ei, _ei[:, :2]], axis=1)                 # some edges repeated
    _ref = np.zeros((_N, _N))
    for _s, _t in _ei.T:
        _ref[_t, _s] = 1.0
    _A = call(adjacency, _ei, _N + 2)                                    # two isolated nodes at the end
    _label = f"adjacency({_ei.shape[1]} edges{', directed' if _directed else ''}, {_N + 2} nodes)"
    assert_shape(_A, (_N + 2, _N + 2), name=_label)
    _ref = np.pad(_ref, (0, 2))
    assert_close(_A, _ref, rtol=0, atol=0, name=_label)
    assert_that(np.asarray(_A).dtype == np.float64, f"{_label} must be float64, got {np.asarray(_A).dtype}")
_A = call(adjacency, np.zeros((2, 0), dtype=np.int64), 3)
assert_close(_A, np.zeros((3, 3)), rtol=0, atol=0, name="adjacency(no edges, 3 nodes)")
### END HIDDEN TESTS

# %% [markdown]
# **Degrees and the GCN's normalisation.** The **degree** of node $i$ is the number of edges
# into it, $d_i = \sum_j A_{ij}$ (a row sum; with edge weights in $A$, the sum of the weights).
#
# Summing neighbours, $A X$, makes the vectors of well-connected nodes large, and it forgets
# the node's own vector. The **graph convolutional network** (GCN, Kipf and Welling, 2017)
# fixes both: it adds a **self-loop** to every node, $\tilde A = A + I$, and scales by the
# degrees $\tilde d_i$ of $\tilde A$ on **both** sides,
#
# $$\hat A = \tilde D^{-1/2}\, \tilde A\, \tilde D^{-1/2}, \qquad \hat A_{ij} = \frac{\tilde A_{ij}}{\sqrt{\tilde d_i\, \tilde d_j}}.$$
#
# Dividing by $\tilde d_i$ alone (the **row normalisation** $\tilde D^{-1} \tilde A$) would take
# the plain mean of the neighbours; the symmetric version also weighs each neighbour $j$ down by
# its own degree, so a hub that talks to everyone counts less in each conversation, and for an
# undirected graph $\hat A$ stays symmetric with eigenvalues in $(-1, 1]$. Without self-loops
# (`add_self_loops=False`) a node of degree 0 would divide 0 by 0: its row and column are 0.
#
# *Example*: the path 0 – 1 – 2: $\tilde d = (2, 3, 2)$, so $\hat A_{00} = 1/2$ and
# $\hat A_{01} = 1/\sqrt{6}$.

# %% nbgrader="solution" grade_id="normalize" export=true
def degrees(A):
    """Degree of every node: the row sums of A (the number, or total weight, of incoming edges).

    Args:
        A: float array (N, N), A[i, j] the weight of the edge from j to i (0 if none).

    Returns:
        float64 array (N,). The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    return A.sum(axis=1, dtype=np.float64)
    ### END SOLUTION


def normalize_adjacency(A, add_self_loops=True):
    """The GCN propagation matrix D^-1/2 (A + I) D^-1/2.

    Args:
        A: float array (N, N) as for degrees.
        add_self_loops: if True use A + I, else A itself.

    Returns:
        float64 array (N, N): entry (i, j) is Ã[i, j] / sqrt(d_i d_j), Ã = A + I (or A) and d its
        degrees; a node of degree 0 has a row and a column of zeros. The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    A_tilde = A + np.eye(len(A)) if add_self_loops else A.astype(np.float64)
    d = degrees(A_tilde)
    inv_sqrt = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 0.0)
    return inv_sqrt[:, None] * A_tilde * inv_sqrt[None, :]
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_normalize" points=3
_A = np.array([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])      # the path 0 - 1 - 2
assert_close(call(degrees, _A), [1.0, 2.0, 1.0], name="degrees(path 0 - 1 - 2)")
assert_close(call(degrees, np.array([[0.0, 0.5], [0.0, 0.0]])), [0.5, 0.0],
             name="degrees(one edge 1 -> 0 of weight 0.5): the row sums")
_hat = call(normalize_adjacency, _A)
_s = 1 / np.sqrt(6)
assert_close(_hat, [[1 / 2, _s, 0], [_s, 1 / 3, _s], [0, _s, 1 / 2]], name="normalize_adjacency(path 0 - 1 - 2)")
_hat = call(normalize_adjacency, _A, add_self_loops=False)
assert_close(_hat, [[0, 1 / np.sqrt(2), 0], [1 / np.sqrt(2), 0, 1 / np.sqrt(2)], [0, 1 / np.sqrt(2), 0]],
             name="normalize_adjacency(path 0 - 1 - 2, add_self_loops=False)")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(902)
for _N, _p, _directed, _weighted, _loops in [(1, 0.0, False, False, True), (1, 0.0, False, False, False),
                                             (6, 0.5, False, False, True), (8, 0.4, True, False, True),
                                             (7, 0.3, False, True, True), (9, 0.3, True, True, False),
                                             (5, 0.0, False, False, False)]:
    _A = (_rng.random((_N, _N)) < _p) * (_rng.uniform(0.5, 2.0, (_N, _N)) if _weighted else 1.0)
    np.fill_diagonal(_A, 0.0)
    if not _directed:
        _A = np.triu(_A, 1) + np.triu(_A, 1).T
    _A[0] = 0.0                                                       # node 0 receives nothing
    _label = f"(N={_N}{', directed' if _directed else ''}{', weighted' if _weighted else ''})"
    _deg = call(degrees, _A)
    assert_close(_deg, _A.sum(axis=1), rtol=1e-12, atol=0, name=f"degrees{_label}")
    _t = _torch.tensor(_A) + (_torch.eye(_N, dtype=_torch.float64) if _loops else 0)
    _d = _t.sum(1)
    _inv = _torch.where(_d > 0, _d.clamp(min=1e-300).rsqrt(), _torch.zeros(()))
    _ref = (_inv[:, None] * _t * _inv[None, :]).numpy()
    _hat = call(normalize_adjacency, _A, add_self_loops=_loops)
    assert_close(_hat, _ref, rtol=1e-12, atol=1e-15, name=f"normalize_adjacency{_label}, add_self_loops={_loops}")
    assert_that(np.asarray(_hat).dtype == np.float64, f"normalize_adjacency must return float64, got "
                f"{np.asarray(_hat).dtype}")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The GCN layer
#
# One **GCN layer** mixes each node's features with its neighbours' through $\hat A$ and
# transforms them with a weight matrix $W$ of shape $(F_{out}, F_{in})$ shared by every node:
#
# $$H = \hat A\, X\, W^\top + b, \qquad H_i = \sum_j \hat A_{ij}\, W x_j + b.$$
#
# The bias is added **after** the aggregation (so every node gets exactly $b$, whatever its
# degree), as in PyTorch Geometric's `GCNConv`; a nonlinearity (ReLU) comes between layers.
# Here $\hat A$ is any $(N, N)$ matrix, not necessarily symmetric.
#
# **Backward**, from $\partial L/\partial H$ (`dout`, shape $(N, F_{out})$), with $Z = X W^\top$:
# $\partial L/\partial Z = \hat A^\top\, \mathrm{dout}$ (a node's output reached its
# neighbours' features, so the gradient flows back along the edges the other way), then
# $\partial L/\partial X = (\partial L/\partial Z)\, W$, $\partial L/\partial W = (\partial L/\partial Z)^\top X$
# and $\partial L/\partial b = \sum_i \mathrm{dout}_i$.

# %% nbgrader="solution" grade_id="gcn" export=true
def gcn_forward(X, A_hat, W, b):
    """A dense GCN layer: A_hat X W^T + b.

    Args:
        X: float array (N, F_in); A_hat: float array (N, N); W: float array (F_out, F_in);
        b: float array (F_out,).

    Returns:
        out: float64 array (N, F_out); cache: whatever gcn_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    Z = X @ W.T
    out = A_hat @ Z + b
    return out, (X, A_hat, W)
    ### END SOLUTION


def gcn_backward(dout, cache):
    """Backward pass of gcn_forward.

    Args:
        dout: float array (N, F_out), dL/dout; cache: from gcn_forward.

    Returns:
        dX (N, F_in), dW (F_out, F_in), db (F_out,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    X, A_hat, W = cache
    dZ = A_hat.T @ dout
    return dZ @ W, dZ.T @ X, dout.sum(axis=0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gcn" points=4
# two nodes that see each other with weight 1/2, one feature in and out: H = A_hat X w + b
_out, _cache = unpack(call(gcn_forward, np.array([[1.0], [3.0]]), np.array([[0.5, 0.5], [0.0, 1.0]]),
                           np.array([[2.0]]), np.array([10.0])), 2, "gcn_forward")
assert_close(_out, [[14.0], [16.0]], name="gcn_forward(X [[1], [3]], A_hat [[.5, .5], [0, 1]], W [[2]], b [10])")
# against numerical gradients, non-square W and a non-symmetric A_hat
_rng = np.random.default_rng(0)
_X, _A, _W, _b = _rng.normal(size=(5, 3)), _rng.random((5, 5)), _rng.normal(size=(4, 3)), _rng.normal(size=4)
_out, _cache = call(gcn_forward, _X, _A, _W, _b)
assert_shape(_out, (5, 4), name="gcn_forward(X (5, 3), A_hat (5, 5), W (4, 3))")
assert_close(_out, _A @ _X @ _W.T + _b, name="gcn_forward(X (5, 3), A_hat (5, 5), W (4, 3))")
_dout = _rng.normal(size=(5, 4))
_dX, _dW, _db = unpack(call(gcn_backward, _dout, _cache), 3, "gcn_backward")
for _name, _grad, _fn, _arg in [("dX", _dX, lambda a: gcn_forward(a, _A, _W, _b)[0], _X),
                                ("dW", _dW, lambda a: gcn_forward(_X, _A, a, _b)[0], _W),
                                ("db", _db, lambda a: gcn_forward(_X, _A, _W, a)[0], _b)]:
    assert_close(_grad, numerical_gradient_array(_fn, _arg.copy(), _dout), rtol=1e-6, atol=1e-8,
                 name=f"gcn_backward: {_name} against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(903)
for _N, _Fi, _Fo in [(1, 1, 1), (1, 3, 2), (4, 2, 5), (7, 6, 3), (12, 5, 5)]:
    _X, _A = _rng.normal(size=(_N, _Fi)), _rng.random((_N, _N)) * (_rng.random((_N, _N)) < 0.5)
    _W, _b, _dout = _rng.normal(size=(_Fo, _Fi)), _rng.normal(size=_Fo), _rng.normal(size=(_N, _Fo))
    _ts = [_torch.tensor(_a, requires_grad=True) for _a in (_X, _W, _b)]
    _ref = _torch.tensor(_A) @ _ts[0] @ _ts[1].T + _ts[2]
    _ref.backward(_torch.tensor(_dout))
    _label = f"gcn_forward(X ({_N}, {_Fi}), W ({_Fo}, {_Fi}), a random non-symmetric A_hat)"
    _out, _cache = unpack(call(gcn_forward, _X, _A, _W, _b), 2, "gcn_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-12, name=_label)
    _grads = unpack(call(gcn_backward, _dout, _cache), 3, "gcn_backward")
    for _name, _g, _t in zip(("dX", "dW", "db"), _grads, _ts, strict=True):
        assert_shape(_g, tuple(_t.shape), name=f"gcn_backward after {_label}: {_name}")
        assert_close(_g, _t.grad.numpy(), rtol=1e-12, atol=1e-12, name=f"gcn_backward after {_label}: {_name}")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The same layer as message passing
#
# A real graph is sparse: Zachary's karate club has 34 members and 78 friendships, a citation
# graph 3 million papers and 10 edges each. A dense $\hat A$ wastes $N^2$ numbers; **message
# passing** works on the edge list instead. For the GCN layer:
#
# 1. add a self-loop $i \to i$ to every node (the edge list you get has none);
# 2. count each node's degree $\tilde d_i$: the number of edges **into** $i$, self-loop included
#    (`np.bincount(target, minlength=N)`);
# 3. give each edge $j \to i$ the weight $w_{ji} = 1/\sqrt{\tilde d_j \tilde d_i}$ and send the
#    **message** $w_{ji}\, W x_j$ along it;
# 4. **aggregate**: each node sums the messages it receives, then adds $b$.
#
# An edge listed twice sends two messages and counts twice in the degrees, as in `GCNConv`.
# The sum in step 4 is a sparse matrix times a dense one: with `import scipy.sparse as sp`,
# `sp.coo_matrix((weights, (target, source)), shape=(N, N))` builds the matrix of step 3 from
# the edge list (repeated entries are added up), and `S @ Z` is then a dense array. Careful: the fancy-index update
# `out[target] += messages` adds only one message per distinct target; `np.add.at` adds all.
# The backward pass goes along the edges in reverse: $\partial L/\partial Z = S^\top\, \mathrm{dout}$.

# %% nbgrader="solution" grade_id="gcn_conv" export=true
def gcn_conv_forward(X, edge_index, W, b):
    """A GCN layer by message passing on an edge list (self-loops added, symmetric normalisation).

    Args:
        X: float array (N, F_in); edge_index: int array (2, E) with no self-loops (source row 0,
            target row 1); W: float array (F_out, F_in); b: float array (F_out,).

    Returns:
        out: float64 array (N, F_out), out[i] = sum over the edges j -> i and the self-loop i -> i of
        W x_j / sqrt(d_j d_i) + b, with d the in-degrees counting the self-loop (repeated edges count
        as often as they occur); cache: for gcn_conv_backward. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    import scipy.sparse as sp

    N = X.shape[0]
    source = np.concatenate([edge_index[0], np.arange(N)])
    target = np.concatenate([edge_index[1], np.arange(N)])
    d = np.bincount(target, minlength=N).astype(np.float64)
    weights = 1.0 / np.sqrt(d[source] * d[target])
    S = sp.coo_matrix((weights, (target, source)), shape=(N, N)).tocsr()
    out = S @ (X @ W.T) + b
    return out, (X, W, source, target, weights)
    ### END SOLUTION


def gcn_conv_backward(dout, cache):
    """Backward pass of gcn_conv_forward.

    Args:
        dout: float array (N, F_out); cache: from gcn_conv_forward.

    Returns:
        dX (N, F_in), dW (F_out, F_in), db (F_out,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    import scipy.sparse as sp

    X, W, source, target, weights = cache
    N = X.shape[0]
    S_T = sp.coo_matrix((weights, (source, target)), shape=(N, N)).tocsr()
    dZ = S_T @ dout
    return dZ @ W, dZ.T @ X, dout.sum(axis=0)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gcn_conv" points=4
# the path 0 - 1 - 2 with W = identity and b = 0: the dense A_hat X
_X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
_ei = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
_out, _cache = unpack(call(gcn_conv_forward, _X, _ei, np.eye(2), np.zeros(2)), 2, "gcn_conv_forward")
_s = 1 / np.sqrt(6)
_hat = np.array([[1 / 2, _s, 0], [_s, 1 / 3, _s], [0, _s, 1 / 2]])
assert_close(_out, _hat @ _X, name="gcn_conv_forward(path 0 - 1 - 2, W = I, b = 0): A_hat X")
# a directed graph with a repeated edge, against numerical gradients
_rng = np.random.default_rng(1)
_ei = np.array([[0, 0, 1, 3, 3, 2], [1, 1, 2, 2, 0, 4]])
_X, _W, _b, _dout = _rng.normal(size=(5, 3)), _rng.normal(size=(2, 3)), _rng.normal(size=2), _rng.normal(size=(5, 2))
_d = np.array([2.0, 3, 3, 1, 2])
_hat = np.eye(5) / _d
for _s, _t in _ei.T:
    _hat[_t, _s] += 1 / np.sqrt(_d[_s] * _d[_t])
_out, _cache = call(gcn_conv_forward, _X, _ei, _W, _b)
assert_close(_out, _hat @ _X @ _W.T + _b, name="gcn_conv_forward(5 nodes, directed edges, 0 -> 1 twice)")
_dX, _dW, _db = unpack(call(gcn_conv_backward, _dout, _cache), 3, "gcn_conv_backward")
for _name, _grad, _fn, _arg in [("dX", _dX, lambda a: gcn_conv_forward(a, _ei, _W, _b)[0], _X),
                                ("dW", _dW, lambda a: gcn_conv_forward(_X, _ei, a, _b)[0], _W),
                                ("db", _db, lambda a: gcn_conv_forward(_X, _ei, _W, a)[0], _b)]:
    assert_close(_grad, numerical_gradient_array(_fn, _arg.copy(), _dout), rtol=1e-6, atol=1e-8,
                 name=f"gcn_conv_backward: {_name} against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
from torch_geometric.nn import GCNConv as _GCNConv

_rng = np.random.default_rng(904)
for _N, _p, _directed, _Fi, _Fo in [(1, 0.0, False, 2, 3), (2, 1.0, True, 1, 1), (6, 0.5, False, 3, 2),
                                    (9, 0.3, True, 4, 4), (15, 0.2, False, 5, 3)]:
    _ei = random_graph(_rng, _N, _p, _directed)
    if _ei.shape[1]:
        _ei = np.concatenate([_ei, _ei[:, :1]], axis=1)           # one edge twice
    _X, _W, _b, _dout = (_rng.normal(size=(_N, _Fi)), _rng.normal(size=(_Fo, _Fi)), _rng.normal(size=_Fo),
                         _rng.normal(size=(_N, _Fo)))
    _conv = _GCNConv(_Fi, _Fo).double()                           # lin.weight is (out, in), like W
    with _torch.no_grad():
        _conv.lin.weight.copy_(_torch.tensor(_W))
        _conv.bias.copy_(_torch.tensor(_b))
    _tx = _torch.tensor(_X, requires_grad=True)
    _ref = _conv(_tx, _torch.tensor(_ei))
    _ref.backward(_torch.tensor(_dout))
    _label = f"gcn_conv_forward({_N} nodes, {_ei.shape[1]} edges{', directed' if _directed else ''}, W ({_Fo}, {_Fi}))"
    _out, _cache = unpack(call(gcn_conv_forward, _X, _ei, _W, _b), 2, "gcn_conv_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-12, name=f"{_label} against GCNConv")
    _grads = unpack(call(gcn_conv_backward, _dout, _cache), 3, "gcn_conv_backward")
    for _name, _g, _t in [("dX", _grads[0], _tx.grad), ("dW", _grads[1], _conv.lin.weight.grad),
                          ("db", _grads[2], _conv.bias.grad)]:
        assert_shape(_g, tuple(_t.shape), name=f"gcn_conv_backward after {_label}: {_name}")
        assert_close(_g, _t.numpy(), rtol=1e-10, atol=1e-12, name=f"gcn_conv_backward after {_label}: {_name}")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Sum, mean and max aggregation
#
# The GCN sums weighted messages. Other GNNs choose how a node combines what it receives:
# given one message per edge, `messages` of shape $(E, F)$, and the node `index[e]` that
# receives message $e$, **aggregation** gives every node one vector,
#
# $$\text{sum: } \sum_{e:\, \text{index}_e = i} m_e, \qquad \text{mean: } \frac{1}{n_i}\sum_{e:\, \text{index}_e = i} m_e, \qquad
#   \text{max: } \max_{e:\, \text{index}_e = i} m_e \ \text{(per feature)},$$
#
# with $n_i$ the number of messages node $i$ receives. All three ignore the order of the
# messages, which is what a function of a node's neighbours must do. A node that receives
# **no** message gets a vector of **zeros** in all three cases (not $0/0$, not $-\infty$).
#
# **Backward**: the sum passes `dout[i]` to each of $i$'s messages; the mean passes
# `dout[i] / n_i`; the max passes it to the message that was largest in that feature. When
# several messages **tie** for the maximum, the gradient is **split equally** among them
# (PyTorch's `scatter_reduce` does this). `np.add.at`, `np.maximum.at` and `np.bincount`
# do the scattering without a loop.

# %% nbgrader="solution" grade_id="aggregate" export=true
def aggregate_forward(messages, index, num_nodes, reduce="sum"):
    """Combine the messages each node receives by a sum, a mean or a maximum.

    Args:
        messages: float array (E, F); index: int array (E,), the receiving node of each message,
            in [0, num_nodes); num_nodes: N; reduce: "sum", "mean" or "max".

    Returns:
        out: float array (N, F) of messages' dtype, row i the sum, mean or per-feature maximum of
        the messages with index == i, zeros for a node that receives none; cache: for
        aggregate_backward. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    count = np.bincount(index, minlength=num_nodes)
    if reduce == "max":
        out = np.full((num_nodes, messages.shape[1]), -np.inf, dtype=messages.dtype)
        np.maximum.at(out, index, messages)
        out[count == 0] = 0.0
    else:
        out = np.zeros((num_nodes, messages.shape[1]), dtype=messages.dtype)
        np.add.at(out, index, messages)
        if reduce == "mean":
            out /= np.maximum(count, 1)[:, None].astype(messages.dtype)
    return out, (messages, index, count, reduce, out)
    ### END SOLUTION


def aggregate_backward(dout, cache):
    """Backward pass of aggregate_forward.

    Args:
        dout: float array (N, F); cache: from aggregate_forward.

    Returns:
        dmessages: float array (E, F). For "max", each (node, feature)'s gradient goes to the
        messages that equal the maximum, split equally among ties. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    messages, index, count, reduce, out = cache
    if reduce == "sum":
        return dout[index]
    if reduce == "mean":
        return dout[index] / count[index][:, None].astype(dout.dtype)
    is_max = (messages == out[index]).astype(dout.dtype)
    ties = np.zeros_like(out, dtype=dout.dtype)
    np.add.at(ties, index, is_max)
    return is_max * dout[index] / ties[index]
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_aggregate" points=5
# node 0 receives [1, 5] and [3, 2]; node 1 nothing; node 2 receives [4, 4]
_m = np.array([[1.0, 5.0], [3.0, 2.0], [4.0, 4.0]])
_idx = np.array([0, 0, 2])
for _reduce, _expected in [("sum", [[4, 7], [0, 0], [4, 4]]), ("mean", [[2, 3.5], [0, 0], [4, 4]]),
                           ("max", [[3, 5], [0, 0], [4, 4]])]:
    _out, _cache = unpack(call(aggregate_forward, _m, _idx, 3, reduce=_reduce), 2, "aggregate_forward")
    assert_close(_out, _expected, name=f"aggregate_forward(reduce={_reduce!r}; node 1 receives nothing)")
    _dm = call(aggregate_backward, np.array([[1.0, 10.0], [7.0, 7.0], [100.0, 1000.0]]), _cache)
    _expected = {"sum": [[1, 10], [1, 10], [100, 1000]], "mean": [[0.5, 5], [0.5, 5], [100, 1000]],
                 "max": [[0, 10], [1, 0], [100, 1000]]}[_reduce]
    assert_close(_dm, _expected, name=f"aggregate_backward(reduce={_reduce!r})")
# a tie for the maximum: the gradient is split
_out, _cache = call(aggregate_forward, np.array([[2.0], [2.0], [1.0]]), np.array([0, 0, 0]), 1, reduce="max")
assert_close(call(aggregate_backward, np.array([[6.0]]), _cache), [[3.0], [3.0], [0.0]],
             name="aggregate_backward(reduce='max', two messages tie): the gradient split equally")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(905)
for _E, _N, _F in [(1, 1, 1), (5, 1, 2), (6, 4, 3), (30, 8, 4), (40, 12, 1)]:
    _idx = _rng.integers(0, max(_N - 1, 1), size=_E)                 # the last node (N > 1) gets nothing
    _m = _rng.integers(-3, 4, size=(_E, _F)).astype(float)            # small integers: many ties
    _dout = _rng.normal(size=(_N, _F))
    for _reduce, _torch_reduce in [("sum", "sum"), ("mean", "mean"), ("max", "amax")]:
        _tm = _torch.tensor(_m, requires_grad=True)
        # max: start from -inf (torch counts a starting 0 as a tie even with include_self=False)
        _start = _torch.full((_N, _F), -_torch.inf if _reduce == "max" else 0.0, dtype=_torch.float64)
        _ref = _start.scatter_reduce(0, _torch.tensor(_idx)[:, None].expand(_E, _F), _tm, _torch_reduce,
                                     include_self=_reduce == "max")
        _ref = _torch.where(_torch.tensor(np.bincount(_idx, minlength=_N) > 0)[:, None], _ref, 0.0)
        _ref.backward(_torch.tensor(_dout))
        _label = f"aggregate_forward({_E} messages of {_F} features, {_N} nodes, reduce={_reduce!r})"
        _out, _cache = unpack(call(aggregate_forward, _m, _idx, _N, reduce=_reduce), 2, "aggregate_forward")
        assert_shape(_out, (_N, _F), name=_label)
        assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-12, name=f"{_label} against scatter_reduce")
        _dm = call(aggregate_backward, _dout, _cache)
        assert_close(_dm, _tm.grad.numpy(), rtol=1e-12, atol=1e-12, name=f"aggregate_backward after {_label}")
_m32 = _rng.normal(size=(6, 2)).astype(np.float32)
for _reduce in ("sum", "mean", "max"):
    _out, _cache = call(aggregate_forward, _m32, np.array([0, 1, 1, 2, 2, 2]), 4, reduce=_reduce)
    _dm = call(aggregate_backward, np.ones((4, 2), dtype=np.float32), _cache)
    assert_that(_out.dtype == np.float32 and _dm.dtype == np.float32, f"aggregate with float32 messages, reduce="
                f"{_reduce!r}: out and dmessages must stay float32, got {_out.dtype}, {_dm.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** Node $u$ has two neighbours, both with the feature vector $[1]$; node $v$
# has one neighbour with $[1]$. Which aggregations give $u$ and $v$ **different** results? Set
# `q1_answer` to `"a"` (sum only), `"b"` (mean only), `"c"` (max only) or `"d"` (all three).

# %% nbgrader="solution" grade_id="q1_aggregation"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = "a"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_aggregation" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_choice(q1_answer, ["a", "b", "c", "d"], name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, "a", name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 5. One vector per graph: the readout
#
# To classify whole graphs (is this molecule toxic?) the node vectors $H$ of shape $(N, F)$
# must become one vector per graph. A minibatch of graphs is stored as one big graph with
# no edges between the parts, and a vector `batch` of shape $(N,)$ that says which graph each
# node belongs to (PyTorch Geometric's convention). A **readout** aggregates per graph; here
# the mean and the maximum, side by side:
#
# $$r_g = \big[\ \operatorname{mean}_{i:\, \text{batch}_i = g} h_i\ \big\|\ \max_{i:\, \text{batch}_i = g} h_i\ \big] \in \mathbb{R}^{2F}.$$
#
# It is your `aggregate_forward` with `index = batch` — use it, and `aggregate_backward` for the
# gradient, which is the sum of what flows back through the two halves.

# %% nbgrader="solution" grade_id="readout" export=true
def readout_forward(H, batch, num_graphs):
    """Mean and max readout per graph.

    Args:
        H: float array (N, F), node vectors; batch: int array (N,), the graph of each node, in
            [0, num_graphs); num_graphs: G.

    Returns:
        out: float array (G, 2F), [mean of the graph's node vectors, their per-feature max] (zeros
        for a graph without nodes); cache: for readout_backward. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    mean, mean_cache = aggregate_forward(H, batch, num_graphs, reduce="mean")
    top, max_cache = aggregate_forward(H, batch, num_graphs, reduce="max")
    return np.concatenate([mean, top], axis=1), (mean_cache, max_cache, H.shape[1])
    ### END SOLUTION


def readout_backward(dout, cache):
    """Backward pass of readout_forward: dout (G, 2F) -> dH (N, F). The arguments stay unchanged."""
    ### BEGIN SOLUTION
    mean_cache, max_cache, F = cache
    return aggregate_backward(dout[:, :F], mean_cache) + aggregate_backward(dout[:, F:], max_cache)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_readout" points=3
# graph 0: nodes 0 and 2; graph 1: node 1
_H = np.array([[1.0, -1.0], [5.0, 5.0], [3.0, 0.0]])
_out, _cache = unpack(call(readout_forward, _H, np.array([0, 1, 0]), 2), 2, "readout_forward")
assert_close(_out, [[2.0, -0.5, 3.0, 0.0], [5.0, 5.0, 5.0, 5.0]], name="readout_forward(3 nodes, batch [0, 1, 0])")
_dH = call(readout_backward, np.array([[1.0, 2.0, 10.0, 20.0], [0.0, 0.0, 0.0, 1.0]]), _cache)
assert_close(_dH, [[0.5, 1.0], [0.0, 1.0], [10.5, 21.0]], name="readout_backward(batch [0, 1, 0])")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(906)
for _N, _G, _F in [(1, 1, 1), (4, 1, 3), (9, 3, 2), (20, 5, 4)]:
    _batch = np.sort(_rng.integers(0, _G, size=_N))
    _H, _dout = _rng.normal(size=(_N, _F)), _rng.normal(size=(_G, 2 * _F))
    _th = _torch.tensor(_H, requires_grad=True)
    _rows = []
    for _g in range(_G):
        _part = _th[_torch.tensor(_batch == _g)]
        _rows.append(_torch.cat([_part.mean(0), _part.amax(0)]) if len(_part) else _torch.zeros(2 * _F,
                                                                                              dtype=_torch.float64))
    _ref = _torch.stack(_rows)
    _ref.backward(_torch.tensor(_dout))
    _label = f"readout_forward({_N} nodes, {_G} graphs, {_F} features)"
    _out, _cache = unpack(call(readout_forward, _H, _batch, _G), 2, "readout_forward")
    assert_shape(_out, (_G, 2 * _F), name=_label)
    assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-12, name=_label)
    assert_close(call(readout_backward, _dout, _cache), _th.grad.numpy(), rtol=1e-12, atol=1e-12,
                 name=f"readout_backward after {_label}")
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Relabelling the nodes
#
# Node numbers are arbitrary: the same graph can be listed in $N!$ orders. Relabel it with a
# permutation `perm`: the new node $k$ is the old node `perm[k]`, so the features become
# `X[perm]`, and an edge between old nodes $a$ and $b$ now joins new nodes $\pi^{-1}(a)$ and
# $\pi^{-1}(b)$, where $\pi^{-1}$ = `np.argsort(perm)` is the inverse permutation (`inverse[perm[k]] = k`).
#
# A node-level layer $f$ must then be **equivariant**: relabelling its input relabels its output,
# $f(X[\pi], \pi^{-1}(E)) = f(X, E)[\pi]$; a graph-level readout must be **invariant**: the
# same vector in every order. Write `permute_graph`; the cell after the test checks both
# properties on your GCN layer and readout.

# %% nbgrader="solution" grade_id="permute_graph" export=true
def permute_graph(X, edge_index, perm):
    """The same graph with its nodes relabelled: new node k is old node perm[k].

    Args:
        X: array (N, F); edge_index: int array (2, E); perm: int array (N,), a permutation of 0 .. N-1.

    Returns:
        X_new (N, F) = X[perm], edge_index_new (2, E): every id a replaced by the new label of old
        node a (the k with perm[k] = a), edge order kept. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    inverse = np.argsort(perm)
    return X[perm], inverse[edge_index]
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_permute_graph" points=2
# three nodes 0 -> 1 -> 2, relabelled by the cycle perm = [1, 2, 0]: new 0 is old 1, new 1 old 2, new 2 old 0
_X, _ei = np.array([[10.0], [11.0], [12.0]]), np.array([[0, 1], [1, 2]])
_Xp, _eip = unpack(call(permute_graph, _X, _ei, np.array([1, 2, 0])), 2, "permute_graph")
assert_close(_Xp, [[11.0], [12.0], [10.0]], name="permute_graph(perm [1, 2, 0]): the features")
assert_array_equal(_eip, [[2, 0], [0, 1]], name="permute_graph(perm [1, 2, 0]): the edges (old 0 -> 1 is new 2 -> 0)")
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(907)
for _N, _F in [(1, 1), (2, 3), (6, 2), (11, 4)]:
    _X, _ei = _rng.normal(size=(_N, _F)), random_graph(_rng, _N, 0.4, directed=True)
    _perm = _rng.permutation(_N)
    _Xp, _eip = unpack(call(permute_graph, _X, _ei, _perm), 2, "permute_graph")
    _label = f"permute_graph({_N} nodes, {_ei.shape[1]} directed edges, a random permutation)"
    assert_close(_Xp, _X[_perm], rtol=0, atol=0, name=f"{_label}: the features")
    assert_shape(_eip, _ei.shape, name=f"{_label}: the edges")
    assert_array_equal(np.asarray(_perm)[np.asarray(_eip)], _ei, name=f"{_label}: the edges mapped back to the "
                       "old labels")
### END HIDDEN TESTS

# %%
# equivariance of your GCN layer, invariance of your readout, on a random graph
_rng = np.random.default_rng(9)
_ei = random_graph(_rng, 10, 0.3)
_X, _W, _b = _rng.normal(size=(10, 4)), _rng.normal(size=(3, 4)), _rng.normal(size=3)
_perm = _rng.permutation(10)
_Xp, _eip = permute_graph(_X, _ei, _perm)
_H, _ = gcn_conv_forward(_X, _ei, _W, _b)
_Hp, _ = gcn_conv_forward(_Xp, _eip, _W, _b)
print("GCN layer, max |f(relabelled graph) - f(graph)[perm]|:", np.abs(_Hp - _H[_perm]).max())
_zeros = np.zeros(10, dtype=int)
print("readout,   max |r(relabelled graph) - r(graph)|:      ",
      np.abs(readout_forward(_Hp, _zeros, 1)[0] - readout_forward(_H, _zeros, 1)[0]).max())

# %% [markdown]
# **Concept check 2.** The star graph: node 0 joined to nodes 1, 2 and 3 (undirected, 3 edges).
# What is the entry $\hat A_{01}$ of its GCN matrix $\tilde D^{-1/2}(A + I)\tilde D^{-1/2}$?
# Set `q2_answer` to the number (3 significant digits are enough).

# %% nbgrader="solution" grade_id="q2_star"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 1 / np.sqrt(8)
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_star" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_that(isinstance(q2_answer, int | float | np.floating), f"q2_answer must be a number, got {q2_answer!r}")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 1 / np.sqrt(8), name="q2_answer", rtol=2e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Graph attention
#
# The GCN fixes how much node $j$ counts for node $i$: $1/\sqrt{\tilde d_i \tilde d_j}$. A
# **graph attention** layer (GAT, Veličković et al., 2018) learns it from the features, with
# an attention restricted to the graph's edges. With $z_j = W x_j$ and two learned vectors
# $a_{dst}, a_{src} \in \mathbb{R}^{F_{out}}$:
#
# $$e_{ij} = \operatorname{LeakyReLU}\big(a_{dst}^\top z_i + a_{src}^\top z_j\big), \qquad
#   \alpha_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i) \cup \{i\}}\,(e_{ij}), \qquad
#   h_i = \sum_{j \in \mathcal{N}(i) \cup \{i\}} \alpha_{ij}\, z_j,$$
#
# LeakyReLU with slope `negative_slope` (0.2) for negative inputs, and the softmax over the
# nodes that send to $i$ **and $i$ itself** (a self-loop is always added). That is chapter 08's
# masked attention with the scores $e$ instead of $q k^\top / \sqrt d$, the mask $A \ne 0$ or
# $i = j$, and the values $Z$. Reuse it: `attention_forward(q, k, v, mask, scale=1.0)` from
# `dllib.ch08_attention` (the course's reference) computes $\operatorname{softmax}(q k^\top) v$,
# so with $q = e$ and $k$ the identity matrix it takes your scores as they are.
# `attention_backward` then gives $\partial L/\partial e$ (its `dq`) and the gradient through
# the values (its `dv`).
#
# **Backward**: from $\partial L/\partial e$ through the LeakyReLU to $\partial L/\partial s_{ij}$
# ($s_{ij}$ the score before it); $s_{ij} = u_i + t_j$ with $u = Z a_{dst}$, $t = Z a_{src}$, so
# $\partial L/\partial u_i = \sum_j \partial L/\partial s_{ij}$ and
# $\partial L/\partial t_j = \sum_i \partial L/\partial s_{ij}$. $Z$ gets gradient from three
# places: the values, $u$ and $t$.

# %% nbgrader="solution" grade_id="gat" export=true
from dllib.ch08_attention import attention_backward, attention_forward


def gat_forward(X, A, W, a_src, a_dst, negative_slope=0.2):
    """A single-head graph attention layer, dense.

    Args:
        X: float array (N, F_in); A: float array (N, N), A[i, j] != 0 when j sends to i (the diagonal
            is ignored: every node attends to itself); W: float array (F_out, F_in);
            a_src, a_dst: float arrays (F_out,); negative_slope: LeakyReLU's slope for inputs < 0.

    Returns:
        out: float64 array (N, F_out), sum_j alpha[i, j] W x_j;
        alpha: float64 array (N, N), the attention weights (0 off the graph, each row sums to 1);
        cache: for gat_backward. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N = X.shape[0]
    Z = X @ W.T
    s = (Z @ a_dst)[:, None] + (Z @ a_src)[None, :]
    e = np.where(s > 0, s, negative_slope * s)
    allowed = (A != 0) | np.eye(N, dtype=bool)
    out, alpha, attention_cache = attention_forward(e, np.eye(N, dtype=e.dtype), Z, mask=allowed, scale=1.0)
    return out, alpha, (X, W, a_src, a_dst, negative_slope, Z, s, attention_cache)
    ### END SOLUTION


def gat_backward(dout, cache):
    """Backward pass of gat_forward.

    Args:
        dout: float array (N, F_out); cache: from gat_forward.

    Returns:
        dX (N, F_in), dW (F_out, F_in), da_src (F_out,), da_dst (F_out,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    X, W, a_src, a_dst, negative_slope, Z, s, attention_cache = cache
    de, _, dZ = attention_backward(dout, attention_cache)
    ds = de * np.where(s > 0, 1.0, negative_slope)
    du, dt = ds.sum(axis=1), ds.sum(axis=0)
    dZ = dZ + np.outer(du, a_dst) + np.outer(dt, a_src)
    return dZ @ W, dZ.T @ X, Z.T @ dt, Z.T @ du
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_gat" points=5
# two nodes, 1 sends to 0; W = 1, a_dst = 0, a_src = 1: node 0 scores itself 1 and node 1 ln 3 + 1
_X, _A = np.array([[1.0], [1.0 + np.log(3.0)]]), np.array([[0.0, 1.0], [0.0, 0.0]])
_out, _alpha, _cache = unpack(call(gat_forward, _X, _A, np.eye(1), np.ones(1), np.zeros(1)), 3, "gat_forward")
assert_close(_alpha, [[0.25, 0.75], [0.0, 1.0]], name="gat_forward(2 nodes, 1 -> 0): alpha (node 1 sees only "
             "itself)")
assert_close(_out, [[0.25 + 0.75 * (1 + np.log(3.0))], [1 + np.log(3.0)]], name="gat_forward(2 nodes, 1 -> 0): out")
# a negative score goes through the LeakyReLU
_out, _alpha, _ = call(gat_forward, _X, np.ones((2, 2)), np.eye(1), np.array([-1.0]), np.zeros(1),
                       negative_slope=0.5)
_w = np.exp(-0.5 * _X[:, 0]) / np.exp(-0.5 * _X[:, 0]).sum()
assert_close(_alpha[0], _w, name="gat_forward(negative scores, negative_slope=0.5): alpha[0]")
# against numerical gradients
_rng = np.random.default_rng(2)
_A = (_rng.random((5, 5)) < 0.5).astype(float)
_X, _W = _rng.normal(size=(5, 3)), _rng.normal(size=(2, 3))
_as, _ad, _dout = _rng.normal(size=2), _rng.normal(size=2), _rng.normal(size=(5, 2))
_out, _alpha, _cache = call(gat_forward, _X, _A, _W, _as, _ad)
_grads = unpack(call(gat_backward, _dout, _cache), 4, "gat_backward")
_args = [_X, _W, _as, _ad]
for _i, _name in enumerate(("dX", "dW", "da_src", "da_dst")):
    def _f(a, _i=_i):
        _p = [a if _j == _i else _args[_j] for _j in range(4)]
        return gat_forward(_p[0], _A, _p[1], _p[2], _p[3])[0]
    assert_close(_grads[_i], numerical_gradient_array(_f, _args[_i].copy(), _dout), rtol=1e-5, atol=1e-7,
                 name=f"gat_backward: {_name} against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch

_rng = np.random.default_rng(908)
for _N, _p, _Fi, _Fo, _slope in [(1, 0.0, 2, 1, 0.2), (2, 1.0, 1, 2, 0.2), (6, 0.4, 3, 2, 0.2), (9, 0.3, 4, 4, 0.1),
                                 (12, 0.2, 2, 3, 0.5)]:
    _A = (_rng.random((_N, _N)) < _p) * _rng.uniform(0.5, 2, (_N, _N))
    _X, _W, _as, _ad = (_rng.normal(size=(_N, _Fi)), _rng.normal(size=(_Fo, _Fi)), _rng.normal(size=_Fo) * 2,
                        _rng.normal(size=_Fo) * 2)
    _dout = _rng.normal(size=(_N, _Fo))
    _ts = [_torch.tensor(_a, requires_grad=True) for _a in (_X, _W, _as, _ad)]
    _z = _ts[0] @ _ts[1].T
    _e = _torch.nn.functional.leaky_relu((_z @ _ts[3])[:, None] + (_z @ _ts[2])[None, :], _slope)
    _allowed = _torch.tensor((_A != 0) | np.eye(_N, dtype=bool))
    _alpha_ref = _torch.softmax(_e.masked_fill(~_allowed, -_torch.inf), dim=1)
    _ref = _alpha_ref @ _z
    _ref.backward(_torch.tensor(_dout))
    _label = f"gat_forward({_N} nodes, W ({_Fo}, {_Fi}), negative_slope={_slope})"
    _out, _alpha, _cache = unpack(call(gat_forward, _X, _A, _W, _as, _ad, negative_slope=_slope), 3, "gat_forward")
    assert_close(_alpha, _alpha_ref.detach().numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: alpha")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-12, name=f"{_label}: out")
    _grads = unpack(call(gat_backward, _dout, _cache), 4, "gat_backward")
    for _name, _g, _t in zip(("dX", "dW", "da_src", "da_dst"), _grads, _ts, strict=True):
        assert_shape(_g, tuple(_t.shape), name=f"gat_backward after {_label}: {_name}")
        assert_close(_g, _t.grad.numpy(), rtol=1e-9, atol=1e-11, name=f"gat_backward after {_label}: {_name}")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** A GCN with $k$ layers computes the output of node $i$. Which nodes' input
# features can change it? Set `q3_answer` to `"a"` (only $i$'s neighbours), `"b"` (the nodes at
# most $k$ edges away from $i$), `"c"` (the nodes exactly $k$ edges away) or `"d"` (every node of
# the graph, whatever $k$).

# %% nbgrader="solution" grade_id="q3_receptive_field"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_receptive_field" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Without the nonlinearities and with $W = I$, $k$ GCN layers
# compute $\hat A^k X$. For a connected graph, what happens to the rows of $\hat A^k X$ as $k$
# grows (think of the largest eigenvalue of $\hat A$, which is 1, and its eigenvector)? Why is
# that bad for node classification, and name two things one can do about it. Answer in three
# to five sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_oversmoothing" points=2
# *Model answer.* $\hat A$ is symmetric with eigenvalues in $(-1, 1]$ for a connected graph with
# self-loops, and the eigenvalue 1 is simple with eigenvector $\sqrt{\tilde d}$ (entries
# $\sqrt{\tilde d_i}$); every other component is multiplied by $|\lambda| < 1$ per layer and
# dies out. So $\hat A^k X \to \sqrt{\tilde d}\, (\sqrt{\tilde d}^\top X)/\|\sqrt{\tilde d}\|^2$:
# every row becomes the same vector up to a factor $\sqrt{\tilde d_i}$ — the node embeddings
# **over-smooth** and carry only the degree, not which community a node is in, so a classifier
# on top cannot tell the classes apart. Remedies: keep GCNs shallow (2–3 layers); add residual
# or initial-residual connections (APPNP, GCNII) that keep part of the node's own features;
# normalise the embeddings to keep them apart (PairNorm); or gather the outputs of all layers
# (jumping knowledge) instead of only the last.

# %% [markdown]
# ## 8. Zachary's karate club from two labelled members
#
# In the 1970s the sociologist Wayne Zachary recorded who met whom outside a university karate
# club of 34 members. A quarrel between the instructor ("Mr. Hi", node 0) and the administrator
# ("Officer", node 33) split the club in two; networkx ships the graph and who joined which
# side. We give the model the graph and **only two labels** — node 0 is with Mr. Hi, node 33
# with the Officer — and ask it for the other 32 members (semi-supervised node
# classification, as in Kipf and Welling's paper).
#
# The nodes have no features of their own, so each node's input is its one-hot id ($X = I$):
# the first layer's weights give every node a learned vector, and the graph does the rest. The
# model is three of your GCN layers (34 → 16 → 8 → 2) with ReLU between them, trained with
# chapter 05's Adam on the softmax cross-entropy of the two labelled nodes only. Two yardsticks:
# the same network with $\hat A = I$ (an MLP: no edges, no information flow), and **label
# propagation**, a method without learning: start with the two known labels as one-hot rows,
# repeatedly average over the neighbours, $F \leftarrow \hat A F$, reset the known rows, and take
# each node's largest entry.

# %%
import time

import networkx as nx
from threadpoolctl import threadpool_limits

from dllib.ch03_mlp import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy_loss,
)
from dllib.ch05_optimization import Adam
from helpers.explorers.gnn import graph_explorer, spread

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several
experiments_start = time.perf_counter()


def undirected_edges(graph):
    """A networkx graph's edges in both directions, as an edge_index (2, 2E)."""
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2).T
    return np.concatenate([edges, edges[::-1]], axis=1)


karate = nx.karate_club_graph()
K_NODES = karate.number_of_nodes()
karate_edges = undirected_edges(karate)
karate_y = np.array([karate.nodes[i]["club"] == "Officer" for i in range(K_NODES)], dtype=np.int64)
karate_hat = normalize_adjacency(adjacency(karate_edges, K_NODES))
LABELLED = np.array([0, 33])
UNLABELLED = np.setdiff1d(np.arange(K_NODES), LABELLED)
print(f"{K_NODES} members, {karate_edges.shape[1] // 2} friendships, {np.bincount(karate_y)} on each side")


def init_gcn(widths, rng):
    """Parameters W0, b0, W1, ... of a GCN with layer widths [F_in, ..., F_out] (Kaiming-scaled)."""
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        params[f"W{layer}"] = rng.normal(size=(n_out, n_in)) * np.sqrt(2.0 / n_in)
        params[f"b{layer}"] = np.zeros(n_out)
    return params


def gcn_model_forward(params, X, A_hat):
    """Scores (N, classes) of a stack of GCN layers with ReLU between them, the caches, and every layer's output."""
    depth = len(params) // 2
    h, caches, outputs = X, [], []
    for layer in range(depth):
        h, cache = gcn_forward(h, A_hat, params[f"W{layer}"], params[f"b{layer}"])
        relu_cache = None
        if layer < depth - 1:
            h, relu_cache = relu_forward(h)
        caches.append((cache, relu_cache))
        outputs.append(h)
    return h, caches, outputs


def gcn_model_backward(dscores, caches):
    grads = {}
    for layer in reversed(range(len(caches))):
        cache, relu_cache = caches[layer]
        if relu_cache is not None:
            dscores = relu_backward(dscores, relu_cache)
        dscores, grads[f"W{layer}"], grads[f"b{layer}"] = gcn_backward(dscores, cache)
    return grads


def train_node_classifier(X, A_hat, y, train, widths, seed, epochs=200, lr=0.01, weight_decay=5e-4,
                          snapshot_every=0):
    """Adam on the cross-entropy of the nodes `train`; returns the parameters and [(epoch, params), ...]."""
    params = init_gcn(widths, np.random.default_rng(seed))
    optimizer = Adam(params, lr=lr, weight_decay=weight_decay)
    snapshots = []
    for epoch in range(epochs + 1):
        if snapshot_every and epoch % snapshot_every == 0:
            snapshots.append((epoch, {k: w.copy() for k, w in params.items()}))
        if epoch == epochs:
            break
        scores, caches, _ = gcn_model_forward(params, X, A_hat)
        _, dtrain = softmax_cross_entropy_loss(scores[train], y[train])
        dscores = np.zeros_like(scores)
        dscores[train] = dtrain
        optimizer.step(gcn_model_backward(dscores, caches))
    return params, snapshots


def node_accuracy(params, X, A_hat, y, nodes):
    return float((gcn_model_forward(params, X, A_hat)[0][nodes].argmax(axis=1) == y[nodes]).mean())


def label_propagation(A_hat, train, y, classes, steps=50):
    """Predicted classes (N,) by repeated averaging of the known labels over the graph."""
    known = np.zeros((len(A_hat), classes))
    known[train, y[train]] = 1.0
    F = known.copy()
    for _ in range(steps):
        F = A_hat @ F
        F[train] = known[train]
    return F.argmax(axis=1)


K_WIDTHS = [K_NODES, 16, 8, 2]
X_ids = np.eye(K_NODES)
karate_acc = [node_accuracy(train_node_classifier(X_ids, karate_hat, karate_y, LABELLED, K_WIDTHS, seed)[0], X_ids,
                            karate_hat, karate_y, UNLABELLED) for seed in range(5)]
mlp_acc = [node_accuracy(train_node_classifier(X_ids, np.eye(K_NODES), karate_y, LABELLED, K_WIDTHS, seed)[0],
                         X_ids, np.eye(K_NODES), karate_y, UNLABELLED) for seed in range(5)]
propagated = label_propagation(karate_hat, LABELLED, karate_y, 2)
propagation_acc = float((propagated[UNLABELLED] == karate_y[UNLABELLED]).mean())
print(f"accuracy on the 32 unlabelled members: GCN {np.mean(karate_acc):.1%} (mean of 5 seeds, "
      f"{min(karate_acc):.1%} to {max(karate_acc):.1%}), the same network without edges (MLP) "
      f"{np.mean(mlp_acc):.1%}, label propagation {propagation_acc:.1%}")
karate_params, karate_snapshots = train_node_classifier(X_ids, karate_hat, karate_y, LABELLED, K_WIDTHS, 0,
                                                        snapshot_every=10)
wrong = UNLABELLED[gcn_model_forward(karate_params, X_ids, karate_hat)[0][UNLABELLED].argmax(axis=1)
                   != karate_y[UNLABELLED]]
print("members the GCN (seed 0) puts on the wrong side:", wrong.tolist(), "— label propagation:",
      UNLABELLED[propagated[UNLABELLED] != karate_y[UNLABELLED]].tolist())

# %% [markdown]
# From two labels the GCN puts 29 to 31 of the 32 other members on the right side, label
# propagation 31; the member both miss, 8, has close friends in both camps. Without the edges
# the network can only guess: the one-hot inputs of the unlabelled members never took part in
# training. On a graph this small and this
# clearly split, plain label propagation is as good as the GCN: what a GCN adds shows when the
# nodes have features of their own and there are more classes, as in section 10.
#
# **The graph explorer.** Every 10 epochs of the seed-0 run above were saved. Move the sliders:
# the layer (1 and 2 are 16 and 8 wide, shown by their two principal components; layer 3 is the
# two class scores) and the epoch. At epoch 0 the random layers already pull friends together —
# that is the graph at work, before any learning; training then pulls the two factions apart.
# The right panel shows the spread of the embeddings in each layer (section 10).

# %%
def karate_layers(params):
    """Each layer's output on the karate club, with your gcn_forward."""
    return gcn_model_forward(params, X_ids, karate_hat)[2]


karate_view = graph_explorer(karate_layers, karate_snapshots, karate_edges, karate_y, labelled=LABELLED,
                             class_names=["Mr. Hi", "Officer"])
karate_view

# %% [markdown]
# ## 9. Classifying whole graphs
#
# Which random process made a graph? Three classic generators from networkx, each making graphs
# of 12 to 20 nodes with about 4 neighbours per node on average:
#
# - **Erdős–Rényi**: $2n$ edges between pairs chosen uniformly at random;
# - **Barabási–Albert**: nodes arrive one by one and join 2 existing nodes, preferring those
#   that already have many edges: a few hubs, many nodes of degree 2;
# - **Watts–Strogatz**: a ring where each node knows its 2 nearest neighbours on each side, with
#   20 % of the edges rewired at random: a "small world".
#
# A node knows nothing but its degree (one-hot, capped at 9). The model: two of your
# `gcn_conv_forward` layers (width 16, ReLU), your mean-and-max `readout_forward`, and an affine
# layer from chapter 03 to the three classes. The whole training set is one big graph of
# 240 disjoint pieces and `batch` says which node belongs to which piece. The baseline reads out
# the degree features directly, without message passing: the mean is the degree histogram,
# the max the largest degree.

# %%
GENERATORS = ("Erdős–Rényi", "Barabási–Albert", "Watts–Strogatz")
MAX_DEGREE = 9


def random_graph_of_kind(kind, n, rng):
    seed = int(rng.integers(2**31))
    if kind == 0:
        return nx.gnm_random_graph(n, 2 * n, seed=seed)
    if kind == 1:
        return nx.barabasi_albert_graph(n, 2, seed=seed)
    return nx.connected_watts_strogatz_graph(n, 4, 0.2, seed=seed)


def graph_dataset(count, seed):
    """`count` random graphs as one edge list: (edge_index, batch, X one-hot degrees, kinds)."""
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, len(GENERATORS), size=count)
    edges, batch, offset = [], [], 0
    for g, kind in enumerate(kinds):
        n = int(rng.integers(12, 21))
        edges.append(undirected_edges(random_graph_of_kind(kind, n, rng)) + offset)
        batch.append(np.full(n, g))
        offset += n
    edge_index = np.concatenate(edges, axis=1)
    degree = np.bincount(edge_index[1], minlength=offset)
    return edge_index, np.concatenate(batch), np.eye(MAX_DEGREE + 1)[np.minimum(degree, MAX_DEGREE)], kinds


def graph_model_forward(params, data):
    edge_index, batch, X, kinds = data
    h, caches = X, []
    for layer in range(params.get("depth", 2)):
        h, conv_cache = gcn_conv_forward(h, edge_index, params[f"W{layer}"], params[f"b{layer}"])
        h, relu_cache = relu_forward(h)
        caches.append((conv_cache, relu_cache))
    r, readout_cache = readout_forward(h, batch, len(kinds))
    scores, affine_cache = affine_forward(r, params["W_out"], params["b_out"])
    return scores, (caches, readout_cache, affine_cache)


def graph_model_backward(dscores, cache):
    caches, readout_cache, affine_cache = cache
    grads = {}
    dr, grads["W_out"], grads["b_out"] = affine_backward(dscores, affine_cache)
    dh = readout_backward(dr, readout_cache)
    for layer in reversed(range(len(caches))):
        conv_cache, relu_cache = caches[layer]
        dh, grads[f"W{layer}"], grads[f"b{layer}"] = gcn_conv_backward(relu_backward(dh, relu_cache), conv_cache)
    return grads


def train_graph_classifier(train_data, depth, steps=150, width=16, lr=0.02, seed=0):
    """Full-batch Adam on the cross-entropy of the graphs' kinds; depth 0 is the readout-only baseline."""
    rng = np.random.default_rng(seed)
    n_in = train_data[2].shape[1]
    params = init_gcn([n_in] + [width] * depth, rng)
    feature = width if depth else n_in
    params.update(W_out=rng.normal(size=(2 * feature, len(GENERATORS))) / np.sqrt(feature), b_out=np.zeros(3))
    optimizer = Adam(params, lr=lr)
    for _ in range(steps):
        scores, cache = graph_model_forward({**params, "depth": depth}, train_data)
        _, dscores = softmax_cross_entropy_loss(scores, train_data[3])
        optimizer.step(graph_model_backward(dscores, cache))
    return {**params, "depth": depth}


def graph_accuracy(params, data):
    return float((graph_model_forward(params, data)[0].argmax(axis=1) == data[3]).mean())


graphs_train, graphs_test = graph_dataset(240, seed=0), graph_dataset(120, seed=1)
graph_results = {}
for depth, name in [(0, "readout of the degrees only"), (2, "2 GCN layers + readout")]:
    model = train_graph_classifier(graphs_train, depth)
    graph_results[name] = (graph_accuracy(model, graphs_train), graph_accuracy(model, graphs_test))
    print(f"{name:28s} train {graph_results[name][0]:.1%}, test {graph_results[name][1]:.1%}")
graph_model = model
_predicted = graph_model_forward(graph_model, graphs_test)[0].argmax(axis=1)
confusion = np.zeros((3, 3), dtype=int)
np.add.at(confusion, (graphs_test[3], _predicted), 1)
print("test confusion (rows: true generator, columns: predicted):")
for name, row in zip(GENERATORS, confusion, strict=True):
    print(f"  {name:16s} {row}")

# %% [markdown]
# The degree histogram alone already tells the hubs of Barabási–Albert apart; what it misses
# is **where** the degrees sit — in an Erdős–Rényi graph low- and high-degree nodes meet at
# random, in a rewired ring most nodes have ring neighbours of degree 4 — and two rounds of
# message passing see exactly that. The confusions left are between Erdős–Rényi and
# Watts–Strogatz: with 20 % of its edges rewired, a small ring already looks rather random.

# %% [markdown]
# ## 10. Deeper is not better: over-smoothing
#
# Each GCN layer averages over neighbours; $k$ layers average over $k$-hop neighbourhoods, and
# on a small graph these soon cover everything. A graph with more to learn than the karate
# club: a **stochastic block model** of 4 communities of 40 nodes (an edge inside a community
# with probability 0.12, between communities 0.015), whose nodes carry 16 noisy features that
# hint at their community, and 5 labelled nodes per community. We train GCNs of depth 1 to 16
# (width 16, three seeds each) and measure the test accuracy; and, without any training, the
# **spread** of $\hat A^k X$ — the mean distance of its unit-length rows to their mean (0 when
# all rows point the same way).

# %%
B, PER_BLOCK = 4, 40
sbm = nx.stochastic_block_model([PER_BLOCK] * B, np.where(np.eye(B, dtype=bool), 0.12, 0.015), seed=0)
sbm_edges = undirected_edges(sbm)
sbm_y = np.repeat(np.arange(B), PER_BLOCK)
_rng = np.random.default_rng(0)
sbm_X = 0.5 * _rng.normal(size=(B, 16))[sbm_y] + _rng.normal(size=(B * PER_BLOCK, 16))
sbm_hat = normalize_adjacency(adjacency(sbm_edges, B * PER_BLOCK))
sbm_train = np.concatenate([np.flatnonzero(sbm_y == c)[:5] for c in range(B)])
sbm_test = np.setdiff1d(np.arange(B * PER_BLOCK), sbm_train)

DEPTHS = [1, 2, 3, 4, 6, 8, 12, 16]
depth_acc = {d: np.mean([node_accuracy(train_node_classifier(sbm_X, sbm_hat, sbm_y, sbm_train, [16] * d + [B], seed,
                                                             epochs=150)[0], sbm_X, sbm_hat, sbm_y, sbm_test)
                         for seed in range(3)]) for d in DEPTHS}
sbm_mlp = np.mean([node_accuracy(train_node_classifier(sbm_X, np.eye(len(sbm_y)), sbm_y, sbm_train, [16, 16, B], seed,
                                                       epochs=150)[0], sbm_X, np.eye(len(sbm_y)), sbm_y, sbm_test)
                   for seed in range(3)])
POWERS = np.arange(0, 33, 2)
smoothed = [sbm_X]
for _ in range(POWERS[-1]):
    smoothed.append(sbm_hat @ smoothed[-1])
power_spread = [spread(smoothed[k]) for k in POWERS]
print("test accuracy by depth:", {d: f"{a:.0%}" for d, a in depth_acc.items()}, f"— MLP (no edges) {sbm_mlp:.0%}")
print("spread of A_hat^k X:", {int(k): round(s, 3) for k, s in zip(POWERS, power_spread, strict=True)})

fig, (ax_acc, ax_spread) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax_acc.plot(DEPTHS, [depth_acc[d] for d in DEPTHS], "o-", label="GCN")
ax_acc.axhline(sbm_mlp, color="C1", ls="--", label="MLP (no edges)")
ax_acc.axhline(1 / B, color="gray", ls=":", label="chance")
ax_acc.set(xscale="log", xticks=DEPTHS, xticklabels=DEPTHS, xlabel="number of GCN layers", ylabel="test accuracy",
           title="4 communities, 5 labels each", ylim=(0, 1))
ax_acc.legend()
ax_spread.semilogy(POWERS, power_spread, "o-")
ax_spread.set(xlabel="k", ylabel="spread of the rows of $\\hat A^k X$", title="averaging k times (no training)")
plt.show()
print(f"experiments: {time.perf_counter() - experiments_start:.1f} s")

# %% [markdown]
# Two or three layers are best: each node sees its community's features averaged over its
# neighbours (far better than the MLP, which sees only the node's own noisy features). Deeper
# stacks fall to chance: every extra layer mixes in more of the other communities, and the
# spread of $\hat A^k X$ falls exponentially — all rows drift towards the same direction
# $\sqrt{\tilde d}$, the eigenvector of $\hat A$'s largest eigenvalue (the written answer above).
# A deep plain GCN is also hard to train, for the reasons of chapter 05; residual connections
# help with both.
