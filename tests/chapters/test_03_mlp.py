"""Chapter 03's reference solution agrees with independent implementations (the course's
gradient checker, PyTorch), exports the layer functions later chapters import, and the claims
of its experiments and concept checks hold."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import library_namespace

from helpers.gradcheck import numerical_gradient, numerical_gradient_array, relative_error

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "03_mlp.py"
EXPORTED = {  # what chapters 04 and later import from dllib.ch03_mlp
    "affine_forward": ["x", "W", "b"],
    "affine_backward": ["dout", "cache"],
    "relu_forward": ["x"],
    "relu_backward": ["dout", "cache"],
    "softmax_cross_entropy_loss": ["scores", "y"],
}


@pytest.fixture(scope="module")
def ns():
    from autograder.authoring import solution_namespace

    return solution_namespace(SOURCE)


def test_exported_cells_are_self_contained_and_have_the_agreed_signatures():
    module = library_namespace("03_mlp")
    for name, params in EXPORTED.items():
        assert name in module, f"{name} is not exported"
        assert list(inspect.signature(module[name]).parameters) == params
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    out, cache = module["affine_forward"](x, W, b)
    dx, dW, db = module["affine_backward"](np.ones_like(out), cache)
    assert dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape
    h, cache = module["relu_forward"](out)
    assert module["relu_backward"](h, cache).shape == out.shape
    loss, dscores = module["softmax_cross_entropy_loss"](h, np.array([0, 1, 2, 3]))
    assert isinstance(loss, float) and dscores.shape == h.shape


LAYERS = {
    "sigmoid": ("sigmoid_forward", "sigmoid_backward", ()),
    "tanh": ("tanh_forward", "tanh_backward", ()),
    "relu": ("relu_forward", "relu_backward", ()),
    "leaky_relu": ("leaky_relu_forward", "leaky_relu_backward", (0.2,)),
    "elu": ("elu_forward", "elu_backward", (0.7,)),
    "softmax": ("softmax_forward", "softmax_backward", ()),
    "log_softmax": ("log_softmax_forward", "log_softmax_backward", ()),
}


@pytest.mark.parametrize("layer", LAYERS)
def test_backward_passes_agree_with_numerical_gradients(ns, layer):
    fwd, bwd, args = (ns[LAYERS[layer][0]], ns[LAYERS[layer][1]], LAYERS[layer][2])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4)) * 2
    dout = rng.normal(size=(5, 4))
    dx = bwd(dout, fwd(x, *args)[1])
    num = numerical_gradient_array(lambda v: fwd(v, *args)[0], x.copy(), dout)
    assert relative_error(dx, num) < 1e-7


def test_parametric_layers_agree_with_numerical_gradients(ns):
    rng = np.random.default_rng(2)
    x, dout = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    W, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 2))
    dx, dW, db = ns["maxout_backward"](dout, ns["maxout_forward"](x, W, b)[1])
    for value, grad, f in [(x, dx, lambda v: ns["maxout_forward"](v, W, b)[0]),
                           (W, dW, lambda v: ns["maxout_forward"](x, v, b)[0]),
                           (b, db, lambda v: ns["maxout_forward"](x, W, v)[0])]:
        assert relative_error(grad, numerical_gradient_array(f, value.copy(), dout)) < 1e-7
    a, dout = rng.normal(size=3), rng.normal(size=(6, 3))
    dx, da = ns["prelu_backward"](dout, ns["prelu_forward"](x, a)[1])
    assert relative_error(da, numerical_gradient_array(lambda v: ns["prelu_forward"](x, v)[0],
                                                       a.copy(), dout)) < 1e-7


def test_losses_agree_with_torch_at_extreme_scores(ns):
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(8, 5)) * 1e4
    y = rng.integers(0, 5, size=8)
    for fn, ref in [(ns["softmax_cross_entropy_loss"], lambda s: F.cross_entropy(s, torch.tensor(y))),
                    (ns["multiclass_hinge_loss"], lambda s: 5 * F.multi_margin_loss(s, torch.tensor(y)))]:
        loss, grad = fn(scores, y)
        st = torch.tensor(scores, requires_grad=True)
        r = ref(st)
        r.backward()
        assert np.isclose(loss, r.item(), rtol=1e-10) and np.allclose(grad, st.grad.numpy(), atol=1e-12)
    targets = rng.uniform(size=(8, 5))
    loss, grad = ns["bce_with_logits_loss"](scores, targets)
    st = torch.tensor(scores, requires_grad=True)
    r = F.binary_cross_entropy_with_logits(st, torch.tensor(targets))
    r.backward()
    assert np.isclose(loss, r.item(), rtol=1e-10) and np.allclose(grad, st.grad.numpy(), atol=1e-14)


def test_mlp_gradients_agree_with_numerical_gradients(ns):
    rng = np.random.default_rng(4)
    params = ns["init_mlp"]((3, 5, 4, 2), rng)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, size=7)
    for activation in ns["ACTIVATIONS"]:
        def loss(_unused, activation=activation):
            scores, _ = ns["mlp_forward"](params, X, activation)
            return ns["softmax_cross_entropy_loss"](scores, y)[0]

        scores, cache = ns["mlp_forward"](params, X, activation)
        grads = ns["mlp_backward"](ns["softmax_cross_entropy_loss"](scores, y)[1], cache)
        for (W, b), (dW, db) in zip(params, grads, strict=True):
            for value, grad in [(W, dW), (b, db)]:  # perturbed in place, read by loss()
                assert relative_error(grad, numerical_gradient(loss, value)) < 1e-6, activation


def test_experiments_reach_their_targets(ns):
    assert ns["digits_test_acc"] >= 0.97
    assert ns["digits_history"]["train_acc"][-1] > 0.99
    linear, hidden = (h for _, h in ns["xor_models"].values())
    assert linear["train_acc"][-1] <= 0.75 and hidden["train_acc"][-1] == 1.0


def test_concept_answers_are_right(ns):
    assert np.isclose(ns["q1_answer"], 0.25**10)
    z = torch.tensor([[0.7, 2.2]], dtype=torch.float64)
    assert np.isclose(torch.sigmoid(torch.tensor(ns["q2_answer"])).item(), torch.softmax(z, dim=1)[0, 1].item())
    assert np.isclose(ns["q3_answer"], F.cross_entropy(torch.zeros(1, 10), torch.tensor([3])).item())
    params = ns["init_mlp"]((64, 128, 64, 10), np.random.default_rng(0))
    assert ns["q4_answer"] == sum(W.size + b.size for W, b in params)
    assert ns["q5_answer"] == 2
    assert ns["q6_answer"] == count_kinks(ns["tent_composed"], 6)
    assert ns["q7_answer"] == "b"


def count_kinks(f, k, n=2**14):
    """Interior points of [0, 1] where the piecewise-linear f(., k) changes slope (grid of n cells)."""
    x = np.linspace(0.0, 1.0, n + 1)
    slopes = np.diff(f(x, k)) * n
    return int(np.sum(~np.isclose(slopes[1:], slopes[:-1])))


def test_one_monotone_hidden_unit_cannot_separate_xor_but_one_prelu_or_maxout_unit_can(ns):
    X = ns["X_xor"]
    y = ns["y_xor"]
    rng = np.random.default_rng(0)
    for f in (np.tanh, lambda z: np.maximum(z, 0.0), lambda z: 1 / (1 + np.exp(-z))):
        for _ in range(2000):  # one unit: the predicted class is a threshold on h = f(w.x + b)
            h = f(X @ rng.normal(size=2) + rng.normal())
            for t in np.concatenate([[-np.inf], np.unique(h)]):
                assert not (np.array_equal(h > t, y == 1) or np.array_equal(h > t, y == 0))
    for h in (ns["xor_prelu"].ravel(), ns["xor_maxout"].ravel()):
        assert np.array_equal(h > 0.5, y == 1)


def test_the_deep_tent_network_is_exact_and_one_hidden_layer_needs_exponentially_many_units(ns):
    x = np.linspace(0.0, 1.0, 2**12 + 1)[:, None]
    for k in range(1, 8):
        params = ns["tent_params"](k)
        assert [W.shape[1] for W, _ in params[:-1]] == [2] * k
        assert sum(W.size + b.size for W, b in params) == 6 * k + 1
        out, _ = ns["mlp_forward"](params, x, "relu")
        np.testing.assert_allclose(out[:, 0], ns["tent_composed"](x[:, 0], k), atol=1e-12)
        assert count_kinks(ns["tent_composed"], k) == 2**k - 1
    # 2^k evenly spaced kinks represent t^(k) exactly; far fewer units stay near the best constant.
    k = ns["depth_k"]
    target = ns["tent_composed"](x[:, 0], k)
    rms = {m: np.sqrt(np.mean((ns["shallow_fit"](x, target, m) - target) ** 2)) for m in (8, 16, 2**k)}
    assert rms[2**k] < 1e-10 and rms[8] > 0.28 and rms[16] > 0.28
    assert ns["deep_error"] < 1e-12 and min(ns["shallow_rms"][: 2**k - 1]) > 0.2


def test_two_class_softmax_is_the_sigmoid_of_the_score_difference(ns):
    z, labels = ns["pair_scores"], ns["pair_labels"]
    zt = torch.tensor(z, requires_grad=True)
    ce = F.cross_entropy(zt, torch.tensor(labels))
    ce.backward()
    st = torch.tensor(z[:, 1] - z[:, 0], requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(st, torch.tensor(labels, dtype=torch.float64))
    bce.backward()
    np.testing.assert_allclose(ce.item(), bce.item(), rtol=1e-12)
    np.testing.assert_allclose(zt.grad[:, 1].numpy(), st.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ns["ce_loss"], ce.item(), rtol=1e-12)
    np.testing.assert_allclose(ns["bce_loss"], bce.item(), rtol=1e-12)


def test_permuted_and_rescaled_networks_compute_the_same_function_in_torch(ns):
    rng = np.random.default_rng(5)
    W1, b1, W2, b2 = rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=(6, 3)), rng.normal(size=3)
    x = torch.tensor(rng.normal(size=(10, 4)))
    perm = rng.permutation(6)
    P1, p1, P2 = ns["permute_hidden_units"](W1, b1, W2, perm)
    assert not np.array_equal(P1, W1)

    def net(W1, b1, W2, act):
        return act(x @ torch.tensor(W1) + torch.tensor(b1)) @ torch.tensor(W2) + torch.tensor(b2)

    for act in (torch.relu, torch.tanh, torch.sigmoid):
        np.testing.assert_allclose(net(P1, p1, P2, act).numpy(), net(W1, b1, W2, act).numpy(), rtol=1e-12)
    c = rng.uniform(0.1, 10.0, size=6)
    np.testing.assert_allclose(net(W1 * c, b1 * c, W2 / c[:, None], torch.relu).numpy(),
                               net(W1, b1, W2, torch.relu).numpy(), rtol=1e-10, atol=1e-12)
    signs = rng.choice([-1.0, 1.0], size=6)
    np.testing.assert_allclose(net(W1 * signs, b1 * signs, W2 * signs[:, None], torch.tanh).numpy(),
                               net(W1, b1, W2, torch.tanh).numpy(), rtol=1e-12, atol=1e-14)
    # The notebook's demonstration: the permuted digits network keeps its test accuracy.
    assert ns["accuracy"](ns["transformed"]["permuted"], ns["X_te"], ns["y_te"]) == ns["digits_test_acc"]


def test_maxout_sends_the_gradient_of_a_tie_to_the_first_maximal_piece_like_torch_max(ns):
    W = np.stack([np.eye(3), np.eye(3), -np.eye(3), np.zeros((3, 3))])  # pieces x, x, -x, 0
    b = np.zeros((4, 3))
    x = np.array([[1.0, -2.0, 0.0], [0.0, 3.0, -1.0]])
    dout = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out, cache = ns["maxout_forward"](x, W, b)
    grads = ns["maxout_backward"](dout, cache)
    ts = [torch.tensor(a, requires_grad=True) for a in (x, W, b)]
    ref = (ts[0] @ ts[1] + ts[2][:, None, :]).max(dim=0).values
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy())
    for ours, t in zip(grads, ts, strict=True):
        np.testing.assert_allclose(ours, t.grad.numpy())


def test_relu_derivative_at_zero_is_zero_like_torch(ns):
    x = np.array([[0.0, -0.0, 1e-300, -1e-300]])
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).sum().backward()
    dx = ns["relu_backward"](np.ones_like(x), ns["relu_forward"](x)[1])
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    assert dx[0, 0] == 0.0


TORCH_LAYERS = {  # name: (forward, backward, extra args, the same function in torch)
    "sigmoid": ("sigmoid_forward", "sigmoid_backward", (), torch.sigmoid),
    "tanh": ("tanh_forward", "tanh_backward", (), torch.tanh),
    "relu": ("relu_forward", "relu_backward", (), torch.relu),
    "leaky_relu": ("leaky_relu_forward", "leaky_relu_backward", (0.2,), lambda t: F.leaky_relu(t, 0.2)),
    "elu": ("elu_forward", "elu_backward", (0.7,), lambda t: F.elu(t, 0.7)),
    "softmax": ("softmax_forward", "softmax_backward", (), lambda t: torch.softmax(t, dim=1)),
    "log_softmax": ("log_softmax_forward", "log_softmax_backward", (), lambda t: torch.log_softmax(t, dim=1)),
}
SHAPES = [(1, 1), (1, 7), (5, 4), (32, 10)]


def torch_reference(fn, *arrays, dout):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("scale", [3.0, 1e3], ids=["normal", "extreme"])
@pytest.mark.parametrize("layer", TORCH_LAYERS)
def test_activations_agree_with_torch_autograd(ns, layer, shape, scale):
    fwd, bwd, args, ref = TORCH_LAYERS[layer]
    rng = np.random.default_rng(hash((layer, shape)) % 2**32)
    x, dout = rng.normal(size=shape) * scale, rng.normal(size=shape)
    out, cache = ns[fwd](x.copy(), *args)
    expected, (dx_expected,) = torch_reference(ref, x, dout=dout)
    dx = ns[bwd](dout, cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, dx_expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_affine_and_prelu_agree_with_torch_autograd(ns, shape):
    rng = np.random.default_rng(shape[0] * 100 + shape[1])
    n, d = shape
    x, W, b = rng.normal(size=(n, d)), rng.normal(size=(d, 3)), rng.normal(size=3)
    dout = rng.normal(size=(n, 3))
    out, cache = ns["affine_forward"](x, W, b)
    expected, grads = torch_reference(lambda x, W, b: x @ W + b, x, W, b, dout=dout)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(ns["affine_backward"](dout, cache), grads, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for a in (rng.uniform(0.05, 0.5, size=d), np.array([0.25])):
        dout = rng.normal(size=(n, d))
        out, cache = ns["prelu_forward"](x, a)
        expected, grads = torch_reference(F.prelu, x, a, dout=dout)
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        for ours, theirs in zip(ns["prelu_backward"](dout, cache), grads, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [1, 6])
@pytest.mark.parametrize("scale", [1.0, 1e4], ids=["normal", "extreme"])
def test_regression_losses_agree_with_torch_autograd(ns, n, scale):
    rng = np.random.default_rng(n)
    pred, y = rng.normal(size=(n, 3)) * scale, rng.normal(size=(n, 3))
    for ours, theirs in [(ns["mse_loss"], F.mse_loss), (ns["l1_loss"], F.l1_loss)]:
        loss, grad = ours(pred, y)
        st = torch.tensor(pred, requires_grad=True)
        reference = theirs(st, torch.tensor(y))
        reference.backward()
        np.testing.assert_allclose(loss, reference.item(), rtol=1e-10)
        np.testing.assert_allclose(grad, st.grad.numpy(), rtol=1e-10, atol=1e-14)
