"""Chapter 09's reference solution agrees with PyTorch (dense formulas with autograd,
scatter_reduce) and PyTorch Geometric (GCNConv, GATConv, global mean/max pooling, gcn_norm) in
float64 on random graphs with directed and repeated edges and isolated nodes, is permutation
equivariant/invariant where it should be, leaves its inputs unchanged and exports the agreed API."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.nn import GATConv, GCNConv, global_max_pool, global_mean_pool
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_dense_adj

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "09_gnn.py"
EXPORTED = {  # the API of chapter 09 that the experiments, the explorer and later chapters use
    "adjacency": ["edge_index", "num_nodes"],
    "degrees": ["A"],
    "normalize_adjacency": ["A", "add_self_loops"],
    "gcn_forward": ["X", "A_hat", "W", "b"],
    "gcn_backward": ["dout", "cache"],
    "gcn_conv_forward": ["X", "edge_index", "W", "b"],
    "gcn_conv_backward": ["dout", "cache"],
    "aggregate_forward": ["messages", "index", "num_nodes", "reduce"],
    "aggregate_backward": ["dout", "cache"],
    "readout_forward": ["H", "batch", "num_graphs"],
    "readout_backward": ["dout", "cache"],
    "permute_graph": ["X", "edge_index", "perm"],
    "gat_forward": ["X", "A", "W", "a_src", "a_dst", "negative_slope"],
    "gat_backward": ["dout", "cache"],
}


@pytest.fixture(scope="module")
def ns() -> dict:
    """The exported cells with the solution markers removed, run with numpy and chapter 08's library."""
    cells = [c for c in read_source(SOURCE).cells if c.metadata.get("export")]
    code = "\n\n".join(re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", c.source, flags=re.M) for c in cells)
    namespace: dict = {}
    exec(compile("import numpy as np\n\n" + code, "dllib.ch09_gnn", "exec"), namespace)
    return namespace


def test_exported_cells_have_the_agreed_signatures_and_use_only_earlier_chapters(ns):
    for name, params in EXPORTED.items():
        assert name in ns, f"{name} is not exported"
        assert list(inspect.signature(ns[name]).parameters) == params, name
    assert inspect.signature(ns["aggregate_forward"]).parameters["reduce"].default == "sum"
    assert inspect.signature(ns["gat_forward"]).parameters["negative_slope"].default == 0.2
    assert ns["attention_forward"].__module__ == "dllib.ch08_attention"


def test_the_experiments_come_after_every_graded_cell():
    cells = read_source(SOURCE).cells
    first = next(i for i, c in enumerate(cells) if "## 8. Zachary's karate club" in c.source)
    assert all(not c.metadata.get("nbgrader") for c in cells[first:])


def random_edges(rng, N, p, directed):
    A = (rng.random((N, N)) < p) & ~np.eye(N, dtype=bool)
    if not directed:
        A = np.triu(A, 1)
        A = A | A.T
    target, source = np.nonzero(A)
    return np.stack([source, target]).astype(np.int64)


def copies(*arrays):
    return [a.copy() for a in arrays]


def unchanged(before, *arrays):
    return all(np.array_equal(a, b) for a, b in zip(before, arrays, strict=True))


GRAPHS = [(1, 0.0, False), (2, 1.0, True), (7, 0.4, False), (10, 0.3, True), (25, 0.15, False)]


@pytest.mark.parametrize(("N", "p", "directed"), GRAPHS)
def test_adjacency_and_normalisation_agree_with_pyg(ns, N, p, directed):
    rng = np.random.default_rng(N)
    ei = random_edges(rng, N, p, directed)
    saved = copies(ei)
    A = ns["adjacency"](ei, N + 1)                                        # one isolated node
    assert unchanged(saved, ei) and A.dtype == np.float64
    # PyG's dense adjacency has a row per source; ours a row per target, so that A @ X gathers messages
    np.testing.assert_array_equal(A, to_dense_adj(torch.tensor(ei), max_num_nodes=N + 1)[0].numpy().T)
    np.testing.assert_array_equal(ns["degrees"](A), np.bincount(ei[1], minlength=N + 1))
    # PyG's gcn_norm: edge weights 1/sqrt(d_source d_target) with d the in-degrees, self-loops added
    edge, weight = gcn_norm(torch.tensor(ei), num_nodes=N + 1, add_self_loops=True)
    ref = torch.zeros(N + 1, N + 1, dtype=torch.float64)
    ref[edge[1], edge[0]] = weight.double()
    np.testing.assert_allclose(ns["normalize_adjacency"](A), ref.numpy(), rtol=1e-6)   # gcn_norm is float32
    without = ns["normalize_adjacency"](A, add_self_loops=False)
    assert np.all(np.isfinite(without)) and np.all(without[-1] == 0) and np.all(without[:, -1] == 0)


def test_symmetric_not_row_normalisation(ns):
    """The star graph: row normalisation would give the hub's row entries 1/4 and break symmetry."""
    A = np.zeros((4, 4))
    A[0, 1:] = A[1:, 0] = 1.0
    hat = ns["normalize_adjacency"](A)
    np.testing.assert_allclose(hat, hat.T)
    assert np.isclose(hat[0, 1], 1 / np.sqrt(8)) and np.isclose(hat[0, 0], 1 / 4)
    assert np.max(np.abs(np.linalg.eigvalsh(hat))) == pytest.approx(1.0)


@pytest.mark.parametrize(("N", "p", "directed"), GRAPHS)
def test_gcn_dense_and_message_passing_agree_with_gcnconv(ns, N, p, directed):
    rng = np.random.default_rng(10 + N)
    ei = random_edges(rng, N, p, directed)
    if ei.shape[1]:
        ei = np.concatenate([ei, ei[:, :2]], axis=1)                        # repeated edges
    F_in, F_out = 3, 4
    X, W, b, dout = rng.normal(size=(N, F_in)), rng.normal(size=(F_out, F_in)), rng.normal(size=F_out), rng.normal(
        size=(N, F_out))
    conv = GCNConv(F_in, F_out).double()
    with torch.no_grad():
        conv.lin.weight.copy_(torch.tensor(W))
        conv.bias.copy_(torch.tensor(b))
    tx = torch.tensor(X, requires_grad=True)
    ref = conv(tx, torch.tensor(ei))
    ref.backward(torch.tensor(dout))
    expected = [tx.grad.numpy(), conv.lin.weight.grad.numpy(), conv.bias.grad.numpy()]
    saved = copies(X, ei, W, b, dout)
    out, cache = ns["gcn_conv_forward"](X, ei, W, b)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for got, want in zip(ns["gcn_conv_backward"](dout, cache), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert unchanged(saved, X, ei, W, b, dout)
    # the dense layer with the weighted adjacency of the repeated edges
    A_w = np.zeros((N, N))
    np.add.at(A_w, (ei[1], ei[0]), 1.0)
    out_dense, cache = ns["gcn_forward"](X, ns["normalize_adjacency"](A_w), W, b)
    np.testing.assert_allclose(out_dense, out, rtol=1e-10, atol=1e-12)
    for got, want in zip(ns["gcn_backward"](dout, cache), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_aggregation_agrees_with_scatter_reduce(ns, reduce):
    rng = np.random.default_rng(3)
    for E, N, F in [(1, 1, 1), (4, 3, 2), (30, 9, 3), (60, 20, 5)]:
        index = rng.integers(0, max(N - 1, 1), size=E)
        messages = rng.integers(-2, 3, size=(E, F)).astype(float)            # ties
        dout = rng.normal(size=(N, F))
        tm = torch.tensor(messages, requires_grad=True)
        start = torch.full((N, F), -torch.inf if reduce == "max" else 0.0, dtype=torch.float64)
        ref = start.scatter_reduce(0, torch.tensor(index)[:, None].expand(E, F), tm,
                                   {"max": "amax"}.get(reduce, reduce), include_self=reduce == "max")
        ref = torch.where(torch.tensor(np.bincount(index, minlength=N) > 0)[:, None], ref, 0.0)
        ref.backward(torch.tensor(dout))
        saved = copies(messages, index, dout)
        out, cache = ns["aggregate_forward"](messages, index, N, reduce=reduce)
        np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ns["aggregate_backward"](dout, cache), tm.grad.numpy(), atol=1e-12)
        assert unchanged(saved, messages, index, dout)
        # any order of the messages gives the same result
        order = rng.permutation(E)
        np.testing.assert_allclose(ns["aggregate_forward"](messages[order], index[order], N, reduce=reduce)[0], out,
                                   atol=1e-12)


def test_readout_agrees_with_global_pooling(ns):
    rng = np.random.default_rng(4)
    N, G, F = 30, 6, 3
    batch = np.sort(rng.integers(0, G, size=N))
    batch[:G] = np.arange(G)                                                  # every graph has a node
    batch.sort()
    H = rng.normal(size=(N, F))
    th, tb = torch.tensor(H, requires_grad=True), torch.tensor(batch)
    ref = torch.cat([global_mean_pool(th, tb, G), global_max_pool(th, tb, G)], dim=1)
    dout = rng.normal(size=(G, 2 * F))
    ref.backward(torch.tensor(dout))
    out, cache = ns["readout_forward"](H, batch, G)
    np.testing.assert_allclose(out, ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ns["readout_backward"](dout, cache), th.grad.numpy(), atol=1e-12)


def test_relabelling_the_nodes_commutes_with_every_layer(ns):
    rng = np.random.default_rng(5)
    N = 12
    ei = random_edges(rng, N, 0.3, directed=True)
    X, W, b = rng.normal(size=(N, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    a_src, a_dst = rng.normal(size=2), rng.normal(size=2)
    perm = rng.permutation(N)
    Xp, eip = ns["permute_graph"](X, ei, perm)
    A, Ap = ns["adjacency"](ei, N), ns["adjacency"](eip, N)
    np.testing.assert_array_equal(Ap, A[np.ix_(perm, perm)])
    np.testing.assert_allclose(ns["gcn_conv_forward"](Xp, eip, W, b)[0], ns["gcn_conv_forward"](X, ei, W, b)[0][perm],
                               atol=1e-12)
    out, alpha, _ = ns["gat_forward"](X, A, W, a_src, a_dst)
    out_p, alpha_p, _ = ns["gat_forward"](Xp, Ap, W, a_src, a_dst)
    np.testing.assert_allclose(out_p, out[perm], atol=1e-12)
    np.testing.assert_allclose(alpha_p, alpha[np.ix_(perm, perm)], atol=1e-12)
    zeros = np.zeros(N, dtype=np.int64)
    np.testing.assert_allclose(ns["readout_forward"](Xp, zeros, 1)[0], ns["readout_forward"](X, zeros, 1)[0],
                               atol=1e-12)


@pytest.mark.parametrize(("N", "p", "directed"), GRAPHS)
def test_gat_agrees_with_gatconv(ns, N, p, directed):
    rng = np.random.default_rng(20 + N)
    ei = random_edges(rng, N, p, directed)
    F_in, F_out = 3, 2
    X, W = rng.normal(size=(N, F_in)), rng.normal(size=(F_out, F_in))
    a_src, a_dst, dout = rng.normal(size=F_out) * 2, rng.normal(size=F_out) * 2, rng.normal(size=(N, F_out))
    conv = GATConv(F_in, F_out, heads=1, bias=False).double()
    with torch.no_grad():
        conv.lin.weight.copy_(torch.tensor(W))                                # (out, in), like W
        conv.att_src.copy_(torch.tensor(a_src).view(1, 1, F_out))
        conv.att_dst.copy_(torch.tensor(a_dst).view(1, 1, F_out))
    tx = torch.tensor(X, requires_grad=True)
    ref, (edge, att) = conv(tx, torch.tensor(ei), return_attention_weights=True)
    ref.backward(torch.tensor(dout))
    A = ns["adjacency"](ei, N)
    saved = copies(X, A, W, a_src, a_dst, dout)
    out, alpha, cache = ns["gat_forward"](X, A, W, a_src, a_dst)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    dense = np.zeros((N, N))
    dense[edge[1].numpy(), edge[0].numpy()] = att[:, 0].detach().numpy()
    np.testing.assert_allclose(alpha, dense, rtol=1e-10, atol=1e-12)
    dX, dW, da_src, da_dst = ns["gat_backward"](dout, cache)
    np.testing.assert_allclose(dX, tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(dW, conv.lin.weight.grad.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(da_src, conv.att_src.grad.numpy().ravel(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(da_dst, conv.att_dst.grad.numpy().ravel(), rtol=1e-9, atol=1e-11)
    assert unchanged(saved, X, A, W, a_src, a_dst, dout)


def test_float32_stays_float32_where_stated(ns):
    rng = np.random.default_rng(6)
    m = rng.normal(size=(5, 2)).astype(np.float32)
    for reduce in ("sum", "mean", "max"):
        out, cache = ns["aggregate_forward"](m, np.array([0, 0, 1, 2, 2]), 4, reduce=reduce)
        assert out.dtype == np.float32 and ns["aggregate_backward"](np.ones_like(out), cache).dtype == np.float32
