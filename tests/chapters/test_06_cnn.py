"""Chapter 06's reference solution agrees with PyTorch (torch.nn.functional in float64, autograd
gradients) and numpy on random shapes, exports the layers later chapters import, and the
tie convention its max pooling states is PyTorch's."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import library_namespace

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "06_cnn.py"
CONV_ARGS = ["x", "w", "b", "stride", "padding", "dilation", "groups"]
EXPORTED = {  # what later chapters import from dllib.ch06_cnn
    "conv2d_forward": CONV_ARGS,
    "conv2d_backward": ["dout", "cache"],
    "max_pool2d_forward": ["x", "kernel_size", "stride"],
    "max_pool2d_backward": ["dout", "cache"],
    "avg_pool2d_forward": ["x", "kernel_size", "stride"],
    "avg_pool2d_backward": ["dout", "cache"],
}


@pytest.fixture(scope="module")
def ns():
    from autograder.authoring import solution_namespace

    return solution_namespace(SOURCE, experiments=False)


def test_exported_cells_are_self_contained_and_have_the_agreed_signatures():
    module = library_namespace("06_cnn")
    for name, params in EXPORTED.items():
        assert name in module, f"{name} is not exported"
        assert list(inspect.signature(module[name]).parameters) == params
    assert "conv2d_forward_naive" not in module, "the naive loops are for the notebook only"


def torch_conv(x, w, b, dout, **kw):
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ts, **kw)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


def random_conv_case(rng, small):
    """A random conv2d configuration whose output is not empty."""
    while True:
        g = int(rng.choice([1, 1, 2, 3]))
        C, Fn = g * int(rng.integers(1, 3 if small else 4)), g * int(rng.integers(1, 3 if small else 4))
        KH, KW = (int(v) for v in rng.integers(1, 4, size=2))
        s, p, d = int(rng.integers(1, 4)), int(rng.integers(0, 3)), int(rng.integers(1, 3))
        H, W = (int(v) for v in rng.integers(1, 7 if small else 14, size=2))
        N = int(rng.integers(1, 3 if small else 6))
        if H + 2 * p >= d * (KH - 1) + 1 and W + 2 * p >= d * (KW - 1) + 1:
            x = rng.normal(size=(N, C, H, W))
            w = rng.normal(size=(Fn, C // g, KH, KW))
            return x, w, rng.normal(size=Fn), dict(stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.parametrize("name", ["naive", "fast"])
def test_conv2d_agrees_with_torch_on_random_shapes(ns, name):
    suffix = "_naive" if name == "naive" else ""
    forward, backward = ns[f"conv2d_forward{suffix}"], ns[f"conv2d_backward{suffix}"]
    rng = np.random.default_rng(6 if name == "naive" else 66)
    for _ in range(25 if name == "naive" else 120):
        x, w, b, kw = random_conv_case(rng, small=name == "naive")
        ref_out = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw).numpy()
        dout = rng.normal(size=ref_out.shape)
        ref_out, ref_grads = torch_conv(x, w, b, dout, **kw)
        copies = [a.copy() for a in (x, w, b, dout)]
        out, cache = forward(x, w, b, **kw)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, ref_out, rtol=1e-10, atol=1e-11, err_msg=f"{x.shape} {w.shape} {kw}")
        for got, expected, what in zip(backward(dout, cache), ref_grads, ["x", "w", "b"], strict=True):
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-11, err_msg=f"d{what} {x.shape} {kw}")
        for a, c in zip((x, w, b, dout), copies, strict=True):
            assert np.array_equal(a, c), "an argument was changed in place"


def test_fast_conv_keeps_float32(ns):
    """The library's convolution is used in float32 by the benchmark and later chapters."""
    rng = np.random.default_rng(32)
    for _ in range(20):
        x, w, b, kw = (a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in random_conv_case(rng, small=False))
        ref_out = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw).numpy()
        dout = rng.normal(size=ref_out.shape).astype(np.float32)
        ref_out, ref_grads = torch_conv(x, w, b, dout, **kw)
        out, cache = ns["conv2d_forward"](x, w, b, **kw)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-4)
        for got, expected in zip(ns["conv2d_backward"](dout, cache), ref_grads, strict=True):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_naive_and_fast_conv_agree_with_depthwise_and_1x1_cases(ns):
    rng = np.random.default_rng(7)
    for C, Fn, K, g in [(4, 4, 3, 4), (3, 6, 3, 3), (5, 2, 1, 1)]:
        x, w, b = rng.normal(size=(2, C, 5, 6)), rng.normal(size=(Fn, C // g, K, K)), rng.normal(size=Fn)
        kw = dict(stride=1, padding=K // 2, dilation=1, groups=g)
        naive, fast = ns["conv2d_forward_naive"](x, w, b, **kw), ns["conv2d_forward"](x, w, b, **kw)
        np.testing.assert_allclose(naive[0], fast[0], rtol=1e-12, atol=1e-12)
        dout = rng.normal(size=naive[0].shape)
        for a, c in zip(ns["conv2d_backward_naive"](dout, naive[1]), ns["conv2d_backward"](dout, fast[1]),
                        strict=True):
            np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    # a 1x1 convolution is an affine layer applied to every pixel
    x, w, b = rng.normal(size=(3, 5, 4, 2)), rng.normal(size=(7, 5, 1, 1)), rng.normal(size=7)
    out, _ = ns["conv2d_forward"](x, w, b)
    np.testing.assert_allclose(out, np.einsum("nchw,fc->nfhw", x, w[:, :, 0, 0]) + b[:, None, None], rtol=1e-12)


def test_corr1d_and_conv1d_agree_with_numpy_and_torch(ns):
    rng = np.random.default_rng(8)
    for L, K in [(1, 1), (4, 3), (10, 10), (17, 5), (30, 2)]:
        x, k = rng.normal(size=L), rng.normal(size=K)
        corr = F.conv1d(torch.tensor(x)[None, None], torch.tensor(k)[None, None])[0, 0].numpy()
        np.testing.assert_allclose(ns["corr1d"](x, k), corr, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ns["corr1d"](x, k), np.correlate(x, k, mode="valid"), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ns["conv1d"](x, k), np.convolve(x, k, mode="valid"), rtol=1e-12, atol=1e-12)


def test_output_size_and_receptive_field_agree_with_torch(ns):
    for n in range(1, 12):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(3):
                    for d in range(1, 3):
                        if n + 2 * p < d * (k - 1) + 1:
                            continue
                        ref = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p,
                                       dilation=d).shape[-1]
                        assert ns["conv_output_size"](n, k, s, p, d) == ref
    rng = np.random.default_rng(9)
    for _ in range(30):
        layers = [tuple(int(v) for v in rng.integers(1, 4, size=3)) for _ in range(int(rng.integers(0, 5)))]
        x = torch.ones(1, 1, 600, dtype=torch.float64, requires_grad=True)
        h = x
        for k, s, d in layers:
            h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
        h[0, 0, h.shape[-1] // 2].backward()
        nonzero = np.flatnonzero(x.grad[0, 0].numpy())
        assert ns["receptive_field"](layers) == nonzero[-1] - nonzero[0] + 1, layers


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_agrees_with_torch_ties_included(ns, kind):
    forward, backward = ns[f"{kind}_pool2d_forward"], ns[f"{kind}_pool2d_backward"]
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    rng = np.random.default_rng(10)
    for _ in range(60):
        k, s = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(k, 12)), int(rng.integers(k, 12)))
        for x in [rng.normal(size=shape), np.maximum(rng.integers(-2, 2, size=shape), 0).astype(float)]:
            xt = torch.tensor(x, requires_grad=True)
            ref = pool(xt, k, s)
            dout = rng.normal(size=tuple(ref.shape))
            ref.backward(torch.tensor(dout))
            out, cache = forward(x, k, s)
            np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(backward(dout, cache), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_the_stated_tie_convention_is_torchs():
    """PyTorch's max pooling sends the gradient of a window of equal values to its first element."""
    x = torch.zeros(1, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    F.max_pool2d(x, 3).sum().backward()
    expected = np.zeros((3, 3))
    expected[0, 0] = 1.0
    assert np.array_equal(x.grad[0, 0].numpy(), expected)
    x = torch.tensor([[[[1.0, 3.0], [3.0, 2.0]]]], dtype=torch.float64, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert np.array_equal(x.grad[0, 0].numpy(), [[0.0, 1.0], [0.0, 0.0]])


def test_global_avg_pool_agrees_with_torch(ns):
    rng = np.random.default_rng(11)
    for shape in [(1, 1, 1, 1), (1, 3, 4, 7), (5, 2, 6, 3), (2, 4, 9, 9)]:
        x = rng.normal(size=shape)
        xt = torch.tensor(x, requires_grad=True)
        ref = F.adaptive_avg_pool2d(xt, 1)[:, :, 0, 0]
        dout = rng.normal(size=shape[:2])
        ref.backward(torch.tensor(dout))
        out, cache = ns["global_avg_pool_forward"](x)
        np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ns["global_avg_pool_backward"](dout, cache), xt.grad.numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_conv_transpose2d_agrees_with_torch_on_random_shapes(ns):
    rng = np.random.default_rng(12)
    for _ in range(60):
        N, C, Fo = (int(v) for v in rng.integers(1, 4, size=3))
        H, W, KH, KW = (int(v) for v in rng.integers(1, 6, size=4))
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if s * (H - 1) + KH - 2 * p < 1 or s * (W - 1) + KW - 2 * p < 1:
            continue
        x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(C, Fo, KH, KW)), rng.normal(size=Fo)
        ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        ref = F.conv_transpose2d(*ts, stride=s, padding=p)
        dout = rng.normal(size=tuple(ref.shape))
        ref.backward(torch.tensor(dout))
        copies = [a.copy() for a in (x, w, b, dout)]
        out, cache = ns["conv_transpose2d_forward"](x, w, b, stride=s, padding=p)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-10, atol=1e-11)
        for got, t in zip(ns["conv_transpose2d_backward"](dout, cache), ts, strict=True):
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-11)
        for a, c in zip((x, w, b, dout), copies, strict=True):
            assert np.array_equal(a, c), "an argument was changed in place"


def test_conv_transpose2d_is_the_gradient_of_conv2d(ns):
    """conv_transpose2d(dout) with conv2d's weight, stride and padding is conv2d's dx."""
    rng = np.random.default_rng(13)
    for H, W, K, s, p in [(7, 7, 3, 2, 1), (5, 8, 3, 1, 0), (9, 5, 5, 2, 2), (6, 6, 2, 2, 0)]:
        x, w = rng.normal(size=(2, 3, H, W)), rng.normal(size=(4, 3, K, K))
        out, cache = ns["conv2d_forward"](x, w, np.zeros(4), stride=s, padding=p)
        if (H + 2 * p - K) % s:
            continue
        dout = rng.normal(size=out.shape)
        dx, _, _ = ns["conv2d_backward"](dout, cache)
        up, _ = ns["conv_transpose2d_forward"](dout, w, np.zeros(3), stride=s, padding=p)
        np.testing.assert_allclose(up, dx, rtol=1e-12, atol=1e-12)


def test_params_and_flops_agree_with_torch_modules(ns):
    """Parameter counts from torch.nn.Conv2d / nn.Linear; FLOPs = 2 x multiply-adds, counted by brute force."""
    rng = np.random.default_rng(14)
    for _ in range(20):
        ci, co, k = (int(v) for v in rng.integers(1, 5, size=3))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        h, w = int(rng.integers(k, 9)), int(rng.integers(k, 9))
        conv = torch.nn.Conv2d(ci, co, k, stride=s, padding=p)
        out_shape = conv(torch.zeros(1, ci, h, w)).shape
        n_out = int(np.prod(out_shape))
        dense = torch.nn.Linear(ci * h * w, n_out)
        cp, cf, dp, df = ns["count_params_and_flops"](ci, co, h, w, k, s, p)
        assert cp == sum(t.numel() for t in conv.parameters())
        assert dp == sum(t.numel() for t in dense.parameters())
        assert cf == 2 * n_out * ci * k * k
        assert df == 2 * dense.weight.numel()
        assert all(type(v) is int for v in (cp, cf, dp, df))


def test_concept_answers():
    import re as _re

    src = SOURCE.read_text()

    def answer(name):
        return eval(_re.search(rf"^{name} = (.+)$", src, _re.M).group(1))

    x = torch.zeros(1, 1, 32, 32)
    assert answer("q1_answer") == F.conv2d(x, torch.zeros(1, 1, 5, 5), stride=2, padding=1).shape[-1]
    # receptive field of conv3 -> pool2/2 -> conv3 by autograd (average pooling: max pooling has the same
    # windows, but its gradient reaches only one pixel of each)
    xr = torch.ones(1, 1, 40, 40, requires_grad=True)
    h = F.conv2d(F.avg_pool2d(F.conv2d(xr, torch.ones(1, 1, 3, 3)), 2), torch.ones(1, 1, 3, 3))
    h[0, 0, 4, 4].backward()
    cols = np.flatnonzero(xr.grad[0, 0].abs().sum(0).numpy())
    assert answer("q2_answer") == cols[-1] - cols[0] + 1
    # 2x2 / 2 max pooling: the pixels that get a gradient, by autograd on a map without ties
    xm = torch.randn(1, 1, 8, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    F.max_pool2d(xm, 2).sum().backward()
    assert answer("q3_answer") == pytest.approx((xm.grad != 0).double().mean().item())
    assert answer("q4_answer") == sum(t.numel() for t in torch.nn.Conv2d(64, 128, 3).parameters())
    assert answer("q5_answer") == "b"
