"""Chapter 02's reference solution agrees with independent implementations (PyTorch, scipy),
its experiments show what the text claims, and its concept answers are right."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import expit

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "02_backprop.py"


@pytest.fixture(scope="module")
def ns():
    from autograder.authoring import solution_namespace

    return solution_namespace(SOURCE)


def test_sigmoid_matches_scipy_everywhere(ns):
    z = np.concatenate([np.linspace(-800, 800, 2001), [-1e300, 1e300, 0.0, -0.0]])
    assert np.allclose(ns["sigmoid"](z), expit(z), rtol=1e-13, atol=1e-300)
    assert np.all(np.isfinite(ns["sigmoid"](z)))


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3])
def test_logistic_loss_grad_matches_torch(ns, scale):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)) * scale, rng.integers(0, 2, size=30).astype(float)
    w, b = rng.normal(size=4), 0.3
    loss, dw, db = ns["logistic_loss_grad"](w, b, X, y)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(torch.tensor(X) @ wt + bt, torch.tensor(y))
    ref.backward()
    assert np.isclose(loss, ref.item(), rtol=1e-12)
    assert np.allclose(dw, wt.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert np.isclose(db, bt.grad.item(), rtol=1e-10, atol=1e-14)


def _random_expression(rng, leaves, n_ops):
    """A random DAG over the leaves: each op reuses any earlier node (so fan-out is common)."""
    nodes = list(leaves)
    for _ in range(n_ops):
        kind = rng.choice(["add", "mul", "tanh", "exp_small", "relu", "pow2", "pow3", "log_sq", "div"])
        a, b = nodes[rng.integers(len(nodes))], nodes[rng.integers(len(nodes))]
        if kind == "add":
            nodes.append(a + b)
        elif kind == "mul":
            nodes.append(a * b * 0.5)
        elif kind == "tanh":
            nodes.append(a.tanh())
        elif kind == "exp_small":
            nodes.append((a.tanh()).exp())
        elif kind == "relu":
            nodes.append(a.relu() - b)
        elif kind == "pow2":
            nodes.append(a**2 * 0.3)
        elif kind == "pow3":
            nodes.append(a.tanh() ** 3)
        elif kind == "div":
            nodes.append(a / (b * b + 1))
        else:
            nodes.append((a * a + 1).log())
    return nodes[-1]


@pytest.mark.parametrize("seed", range(12))
def test_scalar_engine_matches_torch_on_random_graphs(ns, seed):
    Scalar, backward, topo = ns["Scalar"], ns["backward"], ns["topological_order"]
    rng = np.random.default_rng(seed)
    values = rng.normal(size=4)
    leaves = [Scalar(v) for v in values]
    root = _random_expression(np.random.default_rng(seed + 100), leaves, n_ops=25)
    tleaves = [torch.tensor(v, requires_grad=True) for v in values]
    troot = _random_expression(np.random.default_rng(seed + 100), tleaves, n_ops=25)
    assert np.isclose(root.value, troot.item(), rtol=1e-12)
    expected = torch.autograd.grad(troot, tleaves, allow_unused=True)
    for _ in range(2):  # twice: no accumulation across calls
        backward(root)
        for leaf, g in zip(leaves, expected, strict=True):
            assert np.isclose(leaf.grad, 0.0 if g is None else g.item(), rtol=1e-10, atol=1e-13)
    order = topo(root)
    assert len({id(n) for n in order}) == len(order) and order[-1] is root


@pytest.mark.parametrize(("n", "x"), [(1, 0.0), (2, 0.0), (3, -1.5), (-1, -2.0), (-2, -0.5), (0.5, 2.0),
                                      (2.0, -3.0)])
def test_scalar_powers_at_zero_and_negative_bases_match_torch(ns, n, x):
    out = ns["Scalar"](x) ** n
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(t**n, t)
    assert out.value == pytest.approx(float(t.detach() ** n), rel=1e-14)
    assert out.local_grads[0] == pytest.approx(grad.item(), rel=1e-14)


def test_scalar_exp_overflows_to_inf_like_torch(ns):
    out = ns["Scalar"](1000.0).exp()
    t = torch.tensor(1000.0, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(torch.exp(t), t)
    assert out.value == math.inf == torch.exp(t).item()
    assert out.local_grads == (math.inf,) and grad.item() == math.inf


def test_tensor_framework_matches_torch_with_fan_out(ns):
    """A hidden node feeding three nodes and a weight used by two layers, against PyTorch."""
    Graph, Input, Parameter = ns["Graph"], ns["Input"], ns["Parameter"]
    Affine, Tanh, BCE = ns["Affine"], ns["Tanh"], ns["BCEWithLogitsLoss"]
    rng = np.random.default_rng(1)
    xv, yv = rng.normal(size=(7, 3)), rng.integers(0, 2, size=(7, 1)).astype(float)
    Wv, bv, Vv, cv = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)
    g = Graph()
    x, y = Input(g, xv), Input(g, yv)
    W, b, V, c = (Parameter(g, v) for v in (Wv, bv, Vv, cv))
    h = Tanh(Affine(x, W, b))
    h2 = Tanh(Affine(h, W, b))  # W and b used twice
    logits = Affine(Tanh(h), V, c)
    loss = BCE(Affine(h2, V, c), y)  # h feeds two nodes, V and c are used twice too
    g.forward()
    assert logits.value.shape == (7, 1)
    g.backward(loss)
    ts = [torch.tensor(v, requires_grad=True) for v in (Wv, bv, Vv, cv)]
    ht = torch.tanh(torch.tensor(xv) @ ts[0] + ts[1])
    h2t = torch.tanh(ht @ ts[0] + ts[1])
    F.binary_cross_entropy_with_logits(h2t @ ts[2] + ts[3], torch.tensor(yv)).backward()
    for p, t in zip((W, b, V, c), ts, strict=True):
        assert np.allclose(p.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_numeric_grad_and_rel_error_match_torch_and_their_definition(ns):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    before = x.copy()
    t = torch.tensor(x, requires_grad=True)
    (torch.sum(torch.sin(t) * t**2)).backward()
    grad = ns["numeric_grad"](lambda v: float(np.sum(np.sin(v) * v**2)), x)
    assert np.allclose(grad, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert np.array_equal(x, before)
    a, b = rng.normal(size=10), rng.normal(size=10)
    expected = max(abs(p - q) / max(abs(p) + abs(q), 1e-12) for p, q in zip(a, b, strict=True))
    assert ns["rel_error"](a, b) == pytest.approx(expected, rel=1e-14)
    assert ns["rel_error"](np.zeros(3), np.zeros(3)) == 0.0


def test_gradient_check_of_the_framework_reports_tiny_errors(ns):
    """The text says the gradient check of section 6 gives relative errors around 1e-9 or smaller."""
    rel_error, numeric_grad = ns["rel_error"], ns["numeric_grad"]
    g, loss_node = ns["g"], ns["loss_node"]

    def loss_value(_):
        g.forward()
        return float(loss_node.value)

    g.forward()
    g.backward(loss_node)
    for p in g.parameters:
        analytic = p.grad.copy()
        assert rel_error(analytic, numeric_grad(loss_value, p.value)) < 1e-8


def test_training_results(ns):
    assert ns["train_acc_net"] >= 0.95 and ns["test_acc_net"] >= 0.93
    assert ns["train_acc_lr"] < 0.9  # a straight line cannot separate the moons
    # "agrees with the hand-derived run to the last digits"
    assert np.allclose(ns["W_lr"].value.ravel(), ns["w_lr"], rtol=1e-11, atol=0)
    assert ns["losses_net"][-1] < 0.1 < ns["losses_net"][0]


def test_concept_answers_are_right(ns):
    Scalar, backward = ns["Scalar"], ns["backward"]
    z_grad = (expit(0.0) - 0.0) * 3.0  # d BCE / d w1 at w = 0, x = (3, -1), y = 0
    assert ns["q1_answer"] == z_grad
    p = np.linspace(1e-4, 1 - 1e-4, 100_001)  # the BCE of a soft label 0.5 is smallest at p = 0.5
    assert np.min(-0.5 * np.log(p) - 0.5 * np.log(1 - p)) == pytest.approx(ns["q2_answer"], rel=1e-9)
    a = Scalar(3.0)
    L = (a * a + a) * a
    backward(L)
    assert a.grad == ns["q3_answer"] == 33.0
    assert ns["q4_answer"] == "a"
    N, D, M = 2, 3, 4  # the Jacobian of Y = XW with respect to W has N*M*D*M entries
    X = torch.ones(N, D, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda w: X @ w, torch.zeros(D, M, dtype=torch.float64))
    assert jacobian.shape == (N, M, D, M)
    assert ns["q5_answer"] == 64 * 50 * 100 * 50
    assert ns["q6_answer"] == 2 * 10_000
