"""Chapter 02's reference solution agrees with independent implementations (PyTorch, scipy,
the course's own gradient checker), and its mutants are set up as the grading tests need."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.special import expit

from autograder.authoring import cells_with_role, read_source
from autograder.mutants import load_mutants
from helpers.gradcheck import numerical_gradient, relative_error

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


def test_logistic_loss_grad_matches_numerical_gradient(ns):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 2, size=30).astype(float)
    w, b = rng.normal(size=4), 0.3
    loss, dw, db = ns["logistic_loss_grad"](w, b, X, y)
    p = expit(X @ w + b)
    assert np.isclose(loss, -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rtol=1e-12)
    num_w = numerical_gradient(lambda v: ns["logistic_loss_grad"](v, b, X, y)[0], w.copy())
    assert relative_error(dw, num_w) < 1e-8
    num_b = numerical_gradient(lambda v: ns["logistic_loss_grad"](w, float(v[0]), X, y)[0], np.array([b]))
    assert abs(db - num_b[0]) < 1e-8


def _random_expression(rng, leaves, n_ops):
    """A random DAG over the leaves: each op reuses any earlier node (so fan-out is common)."""
    nodes = list(leaves)
    for _ in range(n_ops):
        kind = rng.choice(["add", "mul", "tanh", "exp_small", "relu", "pow2", "log_sq"])
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


def test_tensor_framework_matches_numerical_gradients(ns):
    Graph, Input, Parameter = ns["Graph"], ns["Input"], ns["Parameter"]
    Affine, Tanh, BCE = ns["Affine"], ns["Tanh"], ns["BCEWithLogitsLoss"]
    rng = np.random.default_rng(1)
    g = Graph()
    x = Input(g, rng.normal(size=(7, 3)))
    y = Input(g, rng.integers(0, 2, size=(7, 1)).astype(float))
    params = [Parameter(g, rng.normal(size=s)) for s in [(3, 4), (4,), (4, 4), (4,), (4, 1), (1,)]]
    h = Tanh(Affine(x, params[0], params[1]))
    h = Tanh(Affine(h, params[2], params[3]))
    loss = BCE(Affine(h, params[4], params[5]), y)

    def f(_):
        g.forward()
        return float(loss.value)

    g.forward()
    g.backward(loss)
    for p in params:
        analytic = p.grad.copy()
        assert relative_error(analytic, numerical_gradient(f, p.value)) < 1e-7


def test_numeric_grad_and_rel_error_agree_with_the_course_checker(ns):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))

    def f(v):
        return float(np.sum(np.sin(v) * v**2))

    assert np.allclose(ns["numeric_grad"](f, x.copy()), numerical_gradient(f, x.copy()), rtol=1e-12)
    a, b = rng.normal(size=10), rng.normal(size=10)
    assert np.isclose(ns["rel_error"](a, b), relative_error(a, b), rtol=1e-12)


def test_training_results(ns):
    assert ns["train_acc_net"] >= 0.95 and ns["test_acc_net"] >= 0.93
    assert ns["train_acc_lr"] < 0.9  # a straight line cannot separate the moons
    assert np.allclose(ns["W_lr"].value.ravel(), ns["w_lr"], rtol=1e-10)
    assert ns["losses_net"][-1] < 0.1 < ns["losses_net"][0]


def test_concept_answers_are_right(ns):
    Scalar, backward = ns["Scalar"], ns["backward"]
    a = Scalar(3.0)
    L = (a * a + a) * a
    backward(L)
    assert a.grad == ns["q2_answer"] == 33.0
    z_grad = (expit(0.0) - 0.0) * 3.0  # d BCE / d w1 at w = 0, x = (3, -1), y = 0
    assert ns["q1_answer"] == z_grad
    assert ns["q4_answer"] == 2 * 10_000


def test_mutants_cover_every_graded_function_and_the_first_breaks_one_cell_only():
    nb = read_source(SOURCE)
    mutants = load_mutants(ROOT / "solutions" / "mutants" / "02_backprop.py")
    graded = [c.id for c in cells_with_role(nb, "solution") if "def " in c.source]
    counts = {cell: sum(m.cell == cell for m in mutants) for cell in graded}
    assert min(counts.values()) >= 3, counts
    first = mutants[0]
    assert first.cell == "gradient_check"
    ids = [c.id for c in nb.cells]
    later_tests = [c for c in cells_with_role(nb, "tests") if ids.index(c.id) > ids.index(first.fails)]
    assert not any("numeric_grad" in c.source or "rel_error" in c.source for c in later_tests)
