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
# # Chapter 06 — Convolutional networks
#
# An image of $32 \times 32$ pixels with 3 colours has 3072 numbers; a dense layer with 1000
# units on top of it already needs three million weights, and it has to learn separately that
# a cat in the top-left corner is the same thing as a cat in the bottom-right one. A
# **convolutional layer** builds this in: it slides one small filter over the whole image, so
# the same few weights look at every position. In this chapter you write convolution and
# pooling layers in numpy — first with plain loops, so that every index is visible, then fast
# enough to train a real convolutional network (CNN) on handwritten digits.
#
# **What you will build** (all in numpy, every image batch in the layout **NCHW**: batch,
# channels, height, width):
#
# | # | functions | idea |
# |---|---|---|
# | 1 | `corr1d`, `conv1d` | cross-correlation and convolution in 1-D: the kernel flipped or not |
# | 2 | `conv2d_forward_naive`, `conv2d_backward_naive` | the 2-D convolution layer with loops: stride, padding, dilation, groups |
# | 3 | `conv_output_size`, `receptive_field` | how big the output is, and how much of the input one output unit sees |
# | 4 | `conv2d_forward`, `conv2d_backward` | the same layer vectorized: im2col and one matrix product |
# | 5 | `max_pool2d_*`, `avg_pool2d_*` | pooling forward and backward |
#
# **You need**: chapter 03 (the layer convention `forward -> (out, cache)`,
# `backward(dout, cache) -> grads`, affine layers, ReLU, softmax cross-entropy), chapter 05
# (optimizers and batch normalization), numpy indexing and slicing.
#
# **Time**: about 5 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Each exercise is followed by a test cell: run it —
# if it finishes silently, the visible checks pass; a failure tells you what is wrong (and,
# when your results match a mistake students often make, which one). The grader runs more
# (hidden) checks: against PyTorch's `torch.nn.functional` in float64 on random shapes — a
# batch of one, non-square images and kernels, odd sizes, stride, padding, dilation and
# groups — and whether your functions leave their input arrays unchanged and return float64.
# Make your code correct in general, not just for the visible examples, and do not rename the
# functions or change their arguments.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from helpers.gradcheck import numerical_gradient_array
from helpers.testing import (
    assert_close,
    assert_shape,
    assert_that,
    call,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)


def unpack(result, n, name):
    """Check that a function returned a tuple of n items, and return it (used by the tests)."""
    assert_that(
        isinstance(result, tuple | list) and len(result) == n,
        f"{name} must return a tuple of {n} items, got "
        + (f"{len(result)} items" if isinstance(result, tuple | list) else type(result).__name__),
    )
    return result


# %% [markdown]
# ## 1. Cross-correlation and convolution
#
# Slide a short **kernel** $k$ of length $K$ along a signal $x$ of length $L$, and at each
# position take the dot product of the kernel with the part of the signal under it:
#
# $$(x \star k)_i = \sum_{j=0}^{K-1} x_{i+j}\, k_j, \qquad i = 0, \dots, L - K .$$
#
# This is **cross-correlation**. The output has $L - K + 1$ entries: one per position where
# the kernel fits entirely inside the signal (the "valid" positions). **Convolution**, as
# mathematicians define it, runs the kernel backwards:
#
# $$(x * k)_i = \sum_{j=0}^{K-1} x_{i+j}\, k_{K-1-j},$$
#
# so convolution is cross-correlation with the **flipped** kernel. Deep-learning libraries
# compute cross-correlation and call it convolution: since the kernel is learned, a flipped
# kernel is just as good, and nobody flips it. (Convolution has the nicer algebra —
# it is commutative and associative — which is why mathematics prefers it.)
#
# Example: $x = (1, 2, 3, 4)$ and $k = (1, 0, -1)$ give $x \star k = (1 - 3, 2 - 4) = (-2, -2)$,
# while $x * k = (-1 + 3, -2 + 4) = (2, 2)$: the kernel $(1, 0, -1)$ computes a
# backward difference as a correlation and a forward difference as a convolution.

# %% nbgrader="solution" grade_id="corr_conv1d"
def corr1d(x, k):
    """Valid 1-D cross-correlation: out[i] = sum_j x[i + j] * k[j].

    Args:
        x: float64 array of shape (L,), the signal.
        k: float64 array of shape (K,), the kernel, with K <= L.

    Returns:
        out: float64 array of shape (L - K + 1,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    n = x.shape[0] - k.shape[0] + 1
    out = np.zeros(n)
    for i in range(n):
        out[i] = np.sum(x[i:i + k.shape[0]] * k)
    return out
    ### END SOLUTION


def conv1d(x, k):
    """Valid 1-D convolution: out[i] = sum_j x[i + j] * k[K - 1 - j] (the kernel flipped).

    Args:
        x: float64 array of shape (L,), the signal.
        k: float64 array of shape (K,), the kernel, with K <= L.

    Returns:
        out: float64 array of shape (L - K + 1,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    return corr1d(x, k[::-1])
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_corr_conv1d" points=2
_x, _k = np.array([1.0, 2.0, 4.0, 8.0]), np.array([1.0, 0.0, -1.0])
_out = call(corr1d, _x, _k)
assert_shape(_out, (2,), name="corr1d(x=[1, 2, 4, 8], k=[1, 0, -1])")
assert_close(_out, [-3.0, -6.0], name="corr1d(x=[1, 2, 4, 8], k=[1, 0, -1])")
_out = call(conv1d, _x, _k)
assert_shape(_out, (2,), name="conv1d(x=[1, 2, 4, 8], k=[1, 0, -1])")
assert_close(_out, [3.0, 6.0], name="conv1d(x=[1, 2, 4, 8], k=[1, 0, -1]) (the kernel flipped)")
_x, _k = np.array([0.0, 1.0, 0.0, 0.0, 2.0]), np.array([1.0, 2.0])
assert_close(call(corr1d, _x, _k), [2.0, 1.0, 0.0, 4.0], name="corr1d(x=[0, 1, 0, 0, 2], k=[1, 2])")
assert_close(call(conv1d, _x, _k), [1.0, 2.0, 0.0, 2.0], name="conv1d(x=[0, 1, 0, 0, 2], k=[1, 2])")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(601)
for _L, _K in [(1, 1), (5, 1), (5, 5), (6, 3), (9, 4), (20, 7), (2, 2), (13, 2)]:
    _x, _k = _rng.normal(size=_L) * 3, _rng.normal(size=_K)
    _corr = _F.conv1d(_torch.tensor(_x)[None, None], _torch.tensor(_k)[None, None])[0, 0].numpy()
    _conv = np.convolve(_x, _k, mode="valid")
    _out = call(corr1d, _x, _k)
    assert_close(_out, _corr, rtol=1e-10, atol=1e-12, name=f"corr1d(x ({_L},), k ({_K},))")
    _out = call(conv1d, _x, _k)
    assert_close(_out, _conv, rtol=1e-10, atol=1e-12, name=f"conv1d(x ({_L},), k ({_K},))")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The convolution layer, with loops
#
# A convolutional layer works on a batch of images `x` of shape $(N, C, H, W)$: $N$ images, each
# with $C$ **channels** (3 colours for a photo, or the feature maps of the layer before) of
# $H \times W$ pixels. It has $F$ filters; filter $f$ is a weight array `w[f]` of shape
# $(C, K_H, K_W)$ that covers all input channels, plus a bias $b_f$. Output channel $f$ is the
# cross-correlation of the image with filter $f$, summed over the channels:
#
# $$\text{out}_{n f i j} = b_f + \sum_{c=0}^{C-1} \sum_{u=0}^{K_H-1} \sum_{v=0}^{K_W-1}
#   w_{f c u v}\; x^{\text{pad}}_{n,\,c,\; s i + d u,\; s j + d v} .$$
#
# Four knobs, all as in PyTorch's `torch.nn.functional.conv2d` (integers here, the same for
# height and width):
#
# - **padding** $p$: add $p$ rows of zeros at the top *and* the bottom, $p$ columns at the
#   left *and* the right ($x^{\text{pad}}$ above), so border pixels are seen as often as the
#   others, and a $3 \times 3$ filter with $p = 1$ keeps the image size.
# - **stride** $s$: move the filter $s$ pixels at a time; the output shrinks by a factor of
#   about $s$.
# - **dilation** $d$: spread the filter's taps $d$ pixels apart; a $3 \times 3$ filter with
#   $d = 2$ covers $5 \times 5$ pixels with 9 weights.
# - **groups** $g$: split the $C$ input channels and the $F$ filters into $g$ groups; the
#   filters of group $\gamma$ see only the input channels of group $\gamma$, so `w` has shape
#   $(F, C/g, K_H, K_W)$, and output channel $f$ belongs to group $\lfloor f / (F/g) \rfloor$.
#   $g = C = F$ is a **depthwise** convolution: one filter per channel.
#
# A $1 \times 1$ convolution ($K_H = K_W = 1$) is an affine layer applied to every pixel's
# vector of channels: it mixes channels and leaves space alone.
#
# The output has $H' \times W'$ pixels, one for each position where the (dilated) filter fits
# into the padded image: $H' = \lfloor (H + 2p - d(K_H - 1) - 1)/s \rfloor + 1$, and the same
# for $W'$ (section 3 is about this formula).
#
# **Backward.** Every weight $w_{fcuv}$ is used at every output position, so its gradient is
# a **sum** over $n, i, j$ of `dout[n, f, i, j]` times the input pixel it met there. Every
# input pixel is used by every output position whose window covers it, so its gradient is a
# sum too: loop over the output positions and *add* `w[f] * dout[n, f, i, j]` into the window
# of the (padded) input gradient, then cut the padding away. The bias gradient sums `dout`
# over the batch and the positions.
#
# **Exercise.** Write the forward and backward pass with loops over $n, f, i, j$ (numpy for the
# window). It will be slow — that is the point of section 4 — so the tests use tiny images.

# %% nbgrader="solution" grade_id="conv_naive"
def conv2d_forward_naive(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2-D convolution layer (a cross-correlation, as in torch), with loops.

    Args:
        x: float64 array of shape (N, C, H, W), a batch of N images with C channels.
        w: float64 array of shape (F, C // groups, KH, KW), F filters.
        b: float64 array of shape (F,), one bias per filter.
        stride, padding, dilation: ints >= 1, >= 0, >= 1, the same for height and width;
            `padding` zeros are added on each of the four sides.
        groups: int dividing C and F; the filters f of group f // (F // groups) see only
            the input channels of that group.

    Returns:
        out: float64 array of shape (N, F, H', W') with
            H' = (H + 2 padding - dilation (KH - 1) - 1) // stride + 1, and W' alike.
        cache: whatever conv2d_backward_naive needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    s, p, d = stride, padding, dilation
    Ho = (H + 2 * p - d * (KH - 1) - 1) // s + 1
    Wo = (W + 2 * p - d * (KW - 1) - 1) // s + 1
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, c0:c0 + Cg, i * s:i * s + d * (KH - 1) + 1:d, j * s:j * s + d * (KW - 1) + 1:d]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    cache = (x, w, b, stride, padding, dilation, groups)
    return out, cache
    ### END SOLUTION


def conv2d_backward_naive(dout, cache):
    """Backward pass of conv2d_forward_naive, with loops.

    Args:
        dout: float64 array of shape (N, F, H', W'), the upstream gradient dL/dout.
        cache: the cache returned by conv2d_forward_naive.

    Returns:
        (dx, dw, db): float64 arrays of shapes (N, C, H, W), (F, C // groups, KH, KW) and (F,).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, w, b, s, p, d, groups = cache
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for i in range(Ho):
                for j in range(Wo):
                    rows = slice(i * s, i * s + d * (KH - 1) + 1, d)
                    cols = slice(j * s, j * s + d * (KW - 1) + 1, d)
                    dxp[n, c0:c0 + Cg, rows, cols] += w[f] * dout[n, f, i, j]
                    dw[f] += xp[n, c0:c0 + Cg, rows, cols] * dout[n, f, i, j]
    dx = dxp[:, :, p:p + H, p:p + W]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_conv_naive" points=6
# One 3x3 image x = [[0, 1, 2], [3, 4, 5], [6, 7, 8]], one 2x2 filter [[1, 2], [3, 4]], bias 0.5.
_x = np.arange(9.0).reshape(1, 1, 3, 3)
_w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
_b = np.array([0.5])
_label = "conv2d_forward_naive(x (1, 1, 3, 3), w (1, 1, 2, 2), b (1,))"
_out, _cache = unpack(call(conv2d_forward_naive, _x, _w, _b), 2, "conv2d_forward_naive")
assert_shape(_out, (1, 1, 2, 2), name=f"{_label}: out")
assert_close(_out, [[[[27.5, 37.5], [57.5, 67.5]]]], name=f"{_label}: out (a cross-correlation: no flip)")
_dx, _dw, _db = unpack(call(conv2d_backward_naive, np.ones((1, 1, 2, 2)), _cache), 3, "conv2d_backward_naive")
assert_shape(_dx, (1, 1, 3, 3), name="conv2d_backward_naive(dout = ones): dx")
assert_shape(_dw, (1, 1, 2, 2), name="conv2d_backward_naive(dout = ones): dw")
assert_shape(_db, (1,), name="conv2d_backward_naive(dout = ones): db (one entry per filter)")
assert_close(_dx, [[[[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]]],
             name="conv2d_backward_naive(dout = ones): dx (each pixel collects every window it is in)")
assert_close(_dw, [[[[8.0, 12.0], [20.0, 24.0]]]], name="conv2d_backward_naive(dout = ones): dw")
assert_close(_db, [4.0], name="conv2d_backward_naive(dout = ones): db (a sum over the batch and positions)")

# Stride 2, padding 1, dilation 2 and two groups, against numerical gradients of your forward pass.
_rng = np.random.default_rng(0)
_x, _w, _b = _rng.normal(size=(2, 4, 5, 6)), _rng.normal(size=(6, 2, 2, 3)), _rng.normal(size=6)
_kw = dict(stride=2, padding=1, dilation=2, groups=2)
_out, _cache = unpack(call(conv2d_forward_naive, _x, _w, _b, **_kw), 2, "conv2d_forward_naive")
assert_shape(_out, (2, 6, 3, 2), name="conv2d_forward_naive(x (2, 4, 5, 6), w (6, 2, 2, 3), stride=2, padding=1, "
             "dilation=2, groups=2): out")
_dout = _rng.normal(size=_out.shape)
_expected = [numerical_gradient_array(lambda x: conv2d_forward_naive(x, _w, _b, **_kw)[0], _x.copy(), _dout),
             numerical_gradient_array(lambda w: conv2d_forward_naive(_x, w, _b, **_kw)[0], _w.copy(), _dout),
             numerical_gradient_array(lambda b: conv2d_forward_naive(_x, _w, b, **_kw)[0], _b.copy(), _dout)]
_grads = unpack(call(conv2d_backward_naive, _dout, _cache), 3, "conv2d_backward_naive")
for _g, _e, _what in zip(_grads, _expected, ["dx", "dw", "db"], strict=True):
    assert_close(_g, _e, rtol=1e-5, atol=1e-7, name=f"conv2d_backward_naive (stride 2, padding 1, dilation 2, "
                 f"2 groups): {_what} against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F


def _torch_conv(x, w, b, dout, **kw):
    """Output and gradients (dx, dw, db) of F.conv2d by PyTorch's autograd, in float64."""
    ts = [_torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = _F.conv2d(*ts, **kw)
    out.backward(_torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


_rng = np.random.default_rng(602)
for _N, _C, _H, _W, _Fn, _KH, _KW, _s, _p, _d, _g in [
    (1, 1, 3, 4, 1, 2, 2, 1, 0, 1, 1),    # batch of one, non-square image
    (2, 3, 5, 4, 2, 3, 2, 2, 1, 1, 1),    # non-square kernel, stride 2, padding 1
    (1, 2, 7, 6, 3, 3, 3, 1, 2, 2, 1),    # dilation 2, padding 2
    (2, 4, 5, 5, 6, 3, 1, 2, 1, 1, 2),    # two groups
    (1, 3, 6, 5, 3, 3, 3, 1, 1, 1, 3),    # depthwise
    (2, 4, 3, 5, 2, 1, 1, 1, 0, 1, 1),    # 1x1
    (1, 2, 9, 8, 4, 2, 3, 3, 2, 2, 2),    # everything at once
    (3, 1, 5, 7, 2, 5, 7, 1, 0, 1, 1),    # the filter as large as the image
]:
    _x = _rng.normal(size=(_N, _C, _H, _W)) * 2
    _w = _rng.normal(size=(_Fn, _C // _g, _KH, _KW))
    _b = _rng.normal(size=_Fn)
    _kw = dict(stride=_s, padding=_p, dilation=_d, groups=_g)
    _ref_out = _F.conv2d(_torch.tensor(_x), _torch.tensor(_w), _torch.tensor(_b), **_kw).numpy()
    _dout = _rng.normal(size=_ref_out.shape)
    _ref_out, _ref_grads = _torch_conv(_x, _w, _b, _dout, **_kw)
    _label = (f"conv2d_forward_naive(x {_x.shape}, w {_w.shape}, stride={_s}, padding={_p}, dilation={_d}, "
              f"groups={_g})")
    _out, _cache = unpack(call(conv2d_forward_naive, _x, _w, _b, **_kw), 2, "conv2d_forward_naive")
    assert_close(_out, _ref_out, rtol=1e-10, atol=1e-12, name=f"{_label}: out")
    _grads = unpack(call(conv2d_backward_naive, _dout, _cache), 3, "conv2d_backward_naive")
    for _gr, _e, _what in zip(_grads, _ref_grads, ["dx", "dw", "db"], strict=True):
        assert_close(_gr, _e, rtol=1e-10, atol=1e-12, name=f"conv2d_backward_naive after {_label}: {_what}")
### END HIDDEN TESTS

# %% [markdown]
# **Handcrafted filters.** Before anything is learned, a few filters chosen by hand show what
# a convolution can do. A filter responds strongly where the image looks like the filter: the
# Sobel filters respond to vertical and horizontal edges (with a sign that tells dark-to-light
# from light-to-dark), the box filter blurs, and the centre-minus-neighbours filter finds
# spots. Here they are on a handwritten digit, all four as the four filters of one layer,
# with padding 1 so that the output keeps the $8 \times 8$ size:

# %%
digit = load_digits().images[0] / 16.0                      # an 8x8 "0", values in [0, 1]
sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
filters = {
    "vertical edges": sobel,
    "horizontal edges": sobel.T,
    "blur": np.full((3, 3), 1.0 / 9.0),
    "spots": np.array([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]),
}
bank = np.stack(list(filters.values()))[:, None]          # (4, 1, 3, 3): F = 4 filters, C = 1
responses, _ = conv2d_forward_naive(digit[None, None], bank, np.zeros(4), padding=1)
fig, axes = plt.subplots(1, 5, figsize=(11, 2.4))
axes[0].imshow(digit, cmap="gray_r")
axes[0].set_title("input")
for ax, name, response in zip(axes[1:], filters, responses[0], strict=True):
    limit = np.abs(response).max()
    ax.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(name)
for ax in axes:
    ax.set(xticks=[], yticks=[])
plt.show()

# %% [markdown]
# ## 3. Output shapes and receptive fields
#
# Along one axis, an input of $n$ pixels becomes $n + 2p$ after padding. A filter of $k$ taps
# with dilation $d$ spans $d(k - 1) + 1$ pixels, so it fits at the positions
# $0, 1, \dots, n + 2p - d(k-1) - 1$; with stride $s$ only every $s$-th of them is used:
#
# $$n' = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1 .$$
#
# The floor means that a few pixels at the bottom or right may never be visited when the
# stride does not divide evenly — PyTorch silently drops them, and so do we.
#
# The **receptive field** of a unit is the part of the input that can influence it. Stack
# layers with kernels $k_l$, strides $s_l$ and dilations $d_l$. A unit of layer $l$ sees
# $d_l(k_l - 1) + 1$ neighbouring units of layer $l - 1$, which are $J_{l-1}$ input pixels
# apart, where the **jump** $J_{l-1} = s_1 s_2 \cdots s_{l-1}$ is the product of the earlier
# strides. So each layer widens the receptive field by $d_l(k_l - 1) J_{l-1}$:
#
# $$r_0 = 1, \qquad r_l = r_{l-1} + d_l (k_l - 1)\, J_{l-1}, \qquad J_l = J_{l-1} s_l .$$
#
# Two $3 \times 3$ layers see $5 \times 5$ pixels, three see $7 \times 7$ — as much as one
# $7 \times 7$ layer, with $27$ instead of $49$ weights per channel pair and two more
# nonlinearities. Strides and dilations make receptive fields grow much faster: that is how a
# CNN with small filters ends up looking at the whole image.
#
# **Exercise.** Write both formulas; all arguments and results are Python ints.

# %% nbgrader="solution" grade_id="conv_shape"
def conv_output_size(n, k, stride=1, padding=0, dilation=1):
    """The output length of a convolution along one axis (floor, as in torch).

    Args:
        n: int, the input length (H or W).
        k: int, the kernel length (KH or KW).
        stride, padding, dilation: ints >= 1, >= 0, >= 1; `padding` zeros on each side.

    Returns:
        int, (n + 2 padding - dilation (k - 1) - 1) // stride + 1.
    """
    ### BEGIN SOLUTION
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    ### END SOLUTION


def receptive_field(layers):
    """The receptive field, in input pixels along one axis, of a unit of the last layer of a stack.

    Args:
        layers: list of (k, stride, dilation) int tuples, the first layer first (padding
            does not change the receptive field).

    Returns:
        int: 1 for an empty list; each layer adds dilation (k - 1) times the product of the
        strides of the layers before it.
    """
    ### BEGIN SOLUTION
    r, jump = 1, 1
    for k, stride, dilation in layers:
        r += dilation * (k - 1) * jump
        jump *= stride
    return r
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_conv_shape" points=3
def _check_int(value, expected, label):
    assert_that(isinstance(value, int | np.integer), f"{label}: expected an int, got {type(value).__name__} "
                f"{value!r} (use // for the division)")
    assert_that(value == expected, f"{label}: expected {expected}, got {value}")


_check_int(call(conv_output_size, 5, 3), 3, "conv_output_size(5, 3)")
_check_int(call(conv_output_size, 5, 3, padding=1), 5, "conv_output_size(5, 3, padding=1)")
_check_int(call(conv_output_size, 7, 3, stride=2), 3, "conv_output_size(7, 3, stride=2)")
_check_int(call(conv_output_size, 8, 3, stride=2), 3, "conv_output_size(8, 3, stride=2) (rounded down)")
_check_int(call(conv_output_size, 9, 3, dilation=2), 5, "conv_output_size(9, 3, dilation=2)")
_check_int(call(receptive_field, []), 1, "receptive_field([])")
_check_int(call(receptive_field, [(3, 1, 1), (3, 1, 1)]), 5, "receptive_field of two 3x3 layers")
_check_int(call(receptive_field, [(2, 2, 1), (3, 1, 1)]), 6,
           "receptive_field([(2, 2, 1), (3, 1, 1)]) (a 2x2 stride-2 layer, then a 3x3)")
_check_int(call(receptive_field, [(3, 1, 1), (3, 1, 2), (3, 1, 4)]), 15,
           "receptive_field of 3x3 layers with dilations 1, 2, 4")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(603)
for _trial in range(60):
    _k, _s, _p, _d = (int(_v) for _v in (_rng.integers(1, 6), _rng.integers(1, 5), _rng.integers(0, 4),
                                        _rng.integers(1, 4)))
    _n = int(_rng.integers(_d * (_k - 1) + 1, 40)) - 2 * _p
    if _n < 1:
        continue
    _ref = _F.conv1d(_torch.zeros(1, 1, _n), _torch.zeros(1, 1, _k), stride=_s, padding=_p, dilation=_d).shape[-1]
    _check_int(call(conv_output_size, _n, _k, stride=_s, padding=_p, dilation=_d), _ref,
               f"conv_output_size({_n}, {_k}, stride={_s}, padding={_p}, dilation={_d})")


def _torch_receptive_field(layers):
    """Receptive field measured with autograd: the input pixels with a nonzero gradient."""
    x = _torch.ones(1, 1, 400, dtype=_torch.float64, requires_grad=True)
    h = x
    for k, s, d in layers:
        h = _F.conv1d(h, _torch.ones(1, 1, k, dtype=_torch.float64), stride=s, dilation=d)
    h[0, 0, h.shape[-1] // 2].backward()
    nonzero = np.flatnonzero(x.grad[0, 0].numpy())
    return int(nonzero[-1] - nonzero[0] + 1)


for _layers in [[(5, 1, 1)], [(3, 2, 1)], [(3, 2, 1), (3, 2, 1), (3, 1, 1)], [(1, 1, 1), (1, 3, 1), (2, 1, 1)],
                [(3, 1, 2), (2, 2, 1), (3, 3, 3)], [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1)],
                [(2, 2, 2), (2, 3, 3), (4, 1, 2)]]:
    _check_int(call(receptive_field, _layers), _torch_receptive_field(_layers), f"receptive_field({_layers})")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Fast convolution: im2col and one matrix product
#
# The loops of section 2 run $N F H' W'$ times through the Python interpreter. The trick that
# makes convolution fast is to notice that every output pixel is a dot product between one
# flattened filter and one flattened window of the input. Copy all windows into the rows of
# a matrix — **im2col**, "image to columns" — and all outputs come out of *one* matrix
# product, which numpy hands to an optimized BLAS:
#
# $$\underbrace{\text{cols}}_{(N H' W')\times(C K_H K_W)}\;
#   \underbrace{W^\top}_{(C K_H K_W)\times F} = \underbrace{\text{out}}_{(N H' W')\times F}.$$
#
# numpy builds the windows without copying anything:
# `np.lib.stride_tricks.sliding_window_view(xp, (eh, ew), axis=(2, 3))` is a view of shape
# $(N, C, H_p - e_h + 1, W_p - e_w + 1, e_h, e_w)$ of all windows of size $e_h \times e_w$
# (take $e = d(k - 1) + 1$, the dilated extent, and slice `[..., ::s, ::s, ::d, ::d]` for
# stride and dilation). A `reshape` then copies the windows into the matrix. With groups, do
# one product per group, or all at once with a batched `@` on arrays of shape
# $(g, N H' W', (C/g) K_H K_W)$.
#
# The backward pass is two more products — $dW = \text{cols}^\top\, d\text{out}$ and
# $d\text{cols} = d\text{out}\, W$ — and **col2im**: every entry of $d\text{cols}$ must be
# added back to the input pixel it was copied from. Do it per kernel offset: for each of the
# $K_H K_W$ taps $(u, v)$, the pixels it touched form the strided slice
# `dxp[:, :, d*u : d*u + s*(H'-1) + 1 : s, d*v : d*v + s*(W'-1) + 1 : s]`, so one `+=` per
# tap does it — $K_H K_W$ vectorized additions instead of $N F H' W'$ loop iterations.
#
# **Exercise.** Write `conv2d_forward` and `conv2d_backward` with the signatures of the naive
# versions, without Python loops over the batch, the filters or the positions (a loop over
# the $K_H K_W$ kernel offsets is fine). Later chapters import these two.

# %% nbgrader="solution" grade_id="conv_fast" export=true
def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2-D convolution layer (a cross-correlation, as in torch), vectorized.

    Args:
        x: float64 array of shape (N, C, H, W), a batch of N images with C channels.
        w: float64 array of shape (F, C // groups, KH, KW), F filters.
        b: float64 array of shape (F,), one bias per filter.
        stride, padding, dilation: ints >= 1, >= 0, >= 1, the same for height and width;
            `padding` zeros are added on each of the four sides.
        groups: int dividing C and F; the filters f of group f // (F // groups) see only
            the input channels of that group.

    Returns:
        out: float64 array of shape (N, F, H', W') with
            H' = (H + 2 padding - dilation (KH - 1) - 1) // stride + 1, and W' alike.
        cache: whatever conv2d_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    s, p, d, G = stride, padding, dilation, groups
    Ho = (H + 2 * p - d * (KH - 1) - 1) // s + 1
    Wo = (W + 2 * p - d * (KW - 1) - 1) // s + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (d * (KH - 1) + 1, d * (KW - 1) + 1), axis=(2, 3))
    windows = windows[:, :, ::s, ::s, ::d, ::d][:, :, :Ho, :Wo]            # (N, C, Ho, Wo, KH, KW)
    cols = windows.reshape(N, G, Cg, Ho, Wo, KH, KW).transpose(1, 0, 3, 4, 2, 5, 6)
    cols = cols.reshape(G, N * Ho * Wo, Cg * KH * KW)                       # a copy
    wmat = w.reshape(G, F // G, Cg * KH * KW)
    out = cols @ wmat.transpose(0, 2, 1)                                    # (G, N Ho Wo, F / G)
    out = out.reshape(G, N, Ho, Wo, F // G).transpose(1, 0, 4, 2, 3).reshape(N, F, Ho, Wo) + b[:, None, None]
    cache = (x, w, cols, stride, padding, dilation, groups)
    return out, cache
    ### END SOLUTION


def conv2d_backward(dout, cache):
    """Backward pass of conv2d_forward, vectorized (col2im by one += per kernel offset).

    Args:
        dout: float64 array of shape (N, F, H', W'), the upstream gradient dL/dout.
        cache: the cache returned by conv2d_forward.

    Returns:
        (dx, dw, db): float64 arrays of shapes (N, C, H, W), (F, C // groups, KH, KW) and (F,).
        The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, w, cols, s, p, d, G = cache
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape
    dmat = dout.reshape(N, G, F // G, Ho, Wo).transpose(1, 0, 3, 4, 2).reshape(G, N * Ho * Wo, F // G)
    wmat = w.reshape(G, F // G, Cg * KH * KW)
    dw = (cols.transpose(0, 2, 1) @ dmat).transpose(0, 2, 1).reshape(F, Cg, KH, KW)
    dcols = (dmat @ wmat).reshape(G, N, Ho, Wo, Cg, KH, KW).transpose(1, 0, 4, 5, 6, 2, 3)
    dcols = dcols.reshape(N, C, KH, KW, Ho, Wo)
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for u in range(KH):
        for v in range(KW):
            dxp[:, :, d * u:d * u + s * (Ho - 1) + 1:s, d * v:d * v + s * (Wo - 1) + 1:s] += dcols[:, :, u, v]
    dx = dxp[:, :, p:p + H, p:p + W]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_conv_fast" points=6
# The example of section 2: x = [[0, 1, 2], [3, 4, 5], [6, 7, 8]], filter [[1, 2], [3, 4]], bias 0.5.
_x = np.arange(9.0).reshape(1, 1, 3, 3)
_w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
_b = np.array([0.5])
_label = "conv2d_forward(x (1, 1, 3, 3), w (1, 1, 2, 2), b (1,))"
_out, _cache = unpack(call(conv2d_forward, _x, _w, _b), 2, "conv2d_forward")
assert_shape(_out, (1, 1, 2, 2), name=f"{_label}: out")
assert_close(_out, [[[[27.5, 37.5], [57.5, 67.5]]]], name=f"{_label}: out (a cross-correlation: no flip)")
_dx, _dw, _db = unpack(call(conv2d_backward, np.ones((1, 1, 2, 2)), _cache), 3, "conv2d_backward")
assert_shape(_dx, (1, 1, 3, 3), name="conv2d_backward(dout = ones): dx")
assert_shape(_dw, (1, 1, 2, 2), name="conv2d_backward(dout = ones): dw")
assert_shape(_db, (1,), name="conv2d_backward(dout = ones): db (one entry per filter)")
assert_close(_dx, [[[[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]]],
             name="conv2d_backward(dout = ones): dx (each pixel collects every window it is in)")
assert_close(_dw, [[[[8.0, 12.0], [20.0, 24.0]]]], name="conv2d_backward(dout = ones): dw")
assert_close(_db, [4.0], name="conv2d_backward(dout = ones): db (a sum over the batch and positions)")

# Stride 2, padding 1, dilation 2 and two groups, against numerical gradients of your forward pass.
_rng = np.random.default_rng(0)
_x, _w, _b = _rng.normal(size=(2, 4, 5, 6)), _rng.normal(size=(6, 2, 2, 3)), _rng.normal(size=6)
_kw = dict(stride=2, padding=1, dilation=2, groups=2)
_out, _cache = unpack(call(conv2d_forward, _x, _w, _b, **_kw), 2, "conv2d_forward")
assert_shape(_out, (2, 6, 3, 2), name="conv2d_forward(x (2, 4, 5, 6), w (6, 2, 2, 3), stride=2, padding=1, "
             "dilation=2, groups=2): out")
_dout = _rng.normal(size=_out.shape)
_expected = [numerical_gradient_array(lambda x: conv2d_forward(x, _w, _b, **_kw)[0], _x.copy(), _dout),
             numerical_gradient_array(lambda w: conv2d_forward(_x, w, _b, **_kw)[0], _w.copy(), _dout),
             numerical_gradient_array(lambda b: conv2d_forward(_x, _w, b, **_kw)[0], _b.copy(), _dout)]
_grads = unpack(call(conv2d_backward, _dout, _cache), 3, "conv2d_backward")
for _g, _e, _what in zip(_grads, _expected, ["dx", "dw", "db"], strict=True):
    assert_close(_g, _e, rtol=1e-5, atol=1e-7, name=f"conv2d_backward (stride 2, padding 1, dilation 2, "
                 f"2 groups): {_what} against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F


def _torch_conv(x, w, b, dout, **kw):
    """Output and gradients (dx, dw, db) of F.conv2d by PyTorch's autograd, in float64."""
    ts = [_torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = _F.conv2d(*ts, **kw)
    out.backward(_torch.tensor(dout))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


_rng = np.random.default_rng(604)
for _N, _C, _H, _W, _Fn, _KH, _KW, _s, _p, _d, _g in [
    (1, 1, 3, 4, 1, 2, 2, 1, 0, 1, 1),     # batch of one, non-square image
    (2, 3, 5, 4, 2, 3, 2, 2, 1, 1, 1),     # non-square kernel, stride 2, padding 1
    (1, 2, 7, 6, 3, 3, 3, 1, 2, 2, 1),     # dilation 2, padding 2
    (2, 4, 5, 5, 6, 3, 1, 2, 1, 1, 2),     # two groups
    (1, 3, 6, 5, 3, 3, 3, 1, 1, 1, 3),     # depthwise
    (2, 4, 3, 5, 2, 1, 1, 1, 0, 1, 1),     # 1x1
    (1, 2, 9, 8, 4, 2, 3, 3, 2, 2, 2),     # everything at once
    (3, 1, 5, 7, 2, 5, 7, 1, 0, 1, 1),     # the filter as large as the image
    (8, 6, 17, 13, 12, 3, 5, 2, 2, 2, 3),  # larger, odd sizes
    (16, 8, 12, 12, 16, 3, 3, 1, 1, 1, 1),  # a typical layer
]:
    _x = _rng.normal(size=(_N, _C, _H, _W)) * 2
    _w = _rng.normal(size=(_Fn, _C // _g, _KH, _KW))
    _b = _rng.normal(size=_Fn)
    _kw = dict(stride=_s, padding=_p, dilation=_d, groups=_g)
    _ref_out = _F.conv2d(_torch.tensor(_x), _torch.tensor(_w), _torch.tensor(_b), **_kw).numpy()
    _dout = _rng.normal(size=_ref_out.shape)
    _ref_out, _ref_grads = _torch_conv(_x, _w, _b, _dout, **_kw)
    _label = f"conv2d_forward(x {_x.shape}, w {_w.shape}, stride={_s}, padding={_p}, dilation={_d}, groups={_g})"
    _out, _cache = unpack(call(conv2d_forward, _x, _w, _b, **_kw), 2, "conv2d_forward")
    assert_close(_out, _ref_out, rtol=1e-10, atol=1e-10, name=f"{_label}: out")
    _grads = unpack(call(conv2d_backward, _dout, _cache), 3, "conv2d_backward")
    for _gr, _e, _what in zip(_grads, _ref_grads, ["dx", "dw", "db"], strict=True):
        assert_close(_gr, _e, rtol=1e-10, atol=1e-10, name=f"conv2d_backward after {_label}: {_what}")
### END HIDDEN TESTS

# %% [markdown]
# How much faster? One layer of a small CNN — 32 digits, 8 input channels, 16 filters of
# $3 \times 3$, padding 1 — with the loops of section 2 and with one matrix product:

# %%
bench_rng = np.random.default_rng(0)
bench_x, bench_w = bench_rng.normal(size=(32, 8, 8, 8)), bench_rng.normal(size=(16, 8, 3, 3))
bench_b = np.zeros(16)
timings = {}
for name, forward in [("loops", conv2d_forward_naive), ("im2col", conv2d_forward)]:
    start = time.perf_counter()
    bench_out, _ = forward(bench_x, bench_w, bench_b, padding=1)
    timings[name] = time.perf_counter() - start
print(f"loops: {timings['loops'] * 1e3:.0f} ms, im2col: {timings['im2col'] * 1e3:.1f} ms, "
      f"{timings['loops'] / timings['im2col']:.0f} times faster")

# %% [markdown]
# ## 5. Pooling
#
# A **pooling** layer summarizes each $k \times k$ window of every channel by one number, with
# no weights: its **maximum** (max pooling) or its **mean** (average pooling). With stride
# $s = k$ (the default, as in PyTorch) the windows tile the image and a $2 \times 2$ pool
# halves the height and the width. Pooling makes the features a little insensitive to small
# shifts, and cheaper for the layers that follow. The output size is the formula of section 3
# with no padding and no dilation.
#
# **Backward.** Average pooling spreads each `dout` entry evenly, $1/k^2$ to every pixel of its
# window. Max pooling is a switch: only the pixel that was the maximum influenced the output,
# so it gets the whole `dout` entry and the others get 0. When windows overlap ($s < k$), a
# pixel can get gradient from several windows: **add** them up.
#
# **Ties.** When several pixels of a window share the maximum, the maximum is not
# differentiable there, and we must pick one. **Convention in this course (and in PyTorch's
# CPU code): the gradient goes to the first maximal element of the window in row-major order**
# (top row first, left to right) — which is what `np.argmax` on the flattened window returns.
# Ties are not exotic: after a ReLU, whole windows are 0.
#
# **Exercise.** Write the four functions, vectorized (`sliding_window_view` again, and a loop
# over the $k^2$ offsets in the backward passes) or with loops.

# %% nbgrader="solution" grade_id="pooling" export=true
def max_pool2d_forward(x, kernel_size, stride=None):
    """Forward pass of max pooling over k x k windows of every channel (no padding).

    Args:
        x: float64 array of shape (N, C, H, W).
        kernel_size: int k, the window is k x k.
        stride: int, or None for stride = kernel_size.

    Returns:
        out: float64 array of shape (N, C, H', W'), H' = (H - k) // stride + 1, W' alike.
        cache: whatever max_pool2d_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    N, C, H, W = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    flat = windows.reshape(*windows.shape[:4], k * k)
    argmax = flat.argmax(axis=-1)                    # the first maximum in row-major order
    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    cache = (x.shape, argmax, k, s)
    return out, cache
    ### END SOLUTION


def max_pool2d_backward(dout, cache):
    """Backward pass of max pooling: each dout entry goes to the maximum of its window.

    Ties: the gradient goes to the first maximal element of the window in row-major order.
    Overlapping windows (stride < kernel_size) add their contributions.

    Args:
        dout: float64 array of shape (N, C, H', W').
        cache: the cache returned by max_pool2d_forward.

    Returns:
        dx: float64 array of shape (N, C, H, W). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    shape, argmax, k, s = cache
    _, _, Ho, Wo = dout.shape
    dx = np.zeros(shape)
    for u in range(k):
        for v in range(k):
            dx[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] += dout * (argmax == u * k + v)
    return dx
    ### END SOLUTION


def avg_pool2d_forward(x, kernel_size, stride=None):
    """Forward pass of average pooling over k x k windows of every channel (no padding).

    Args:
        x: float64 array of shape (N, C, H, W).
        kernel_size: int k, the window is k x k.
        stride: int, or None for stride = kernel_size.

    Returns:
        out: float64 array of shape (N, C, H', W'), H' = (H - k) // stride + 1, W' alike.
        cache: whatever avg_pool2d_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    k = kernel_size
    s = k if stride is None else stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    out = windows.mean(axis=(-2, -1))
    cache = (x.shape, k, s)
    return out, cache
    ### END SOLUTION


def avg_pool2d_backward(dout, cache):
    """Backward pass of average pooling: each dout entry is shared equally by its k * k pixels.

    Args:
        dout: float64 array of shape (N, C, H', W').
        cache: the cache returned by avg_pool2d_forward.

    Returns:
        dx: float64 array of shape (N, C, H, W). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    shape, k, s = cache
    _, _, Ho, Wo = dout.shape
    dx = np.zeros(shape)
    for u in range(k):
        for v in range(k):
            dx[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] += dout / (k * k)
    return dx
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_pooling" points=5
# One 4x4 image, 2x2 windows: max and mean of each quarter.
_x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0], [0.0, 0.0, 6.0, 7.0], [0.0, 0.0, 7.0, 6.0]]]])
_label = "max_pool2d_forward(x (1, 1, 4, 4), kernel_size=2)"
_out, _cache = unpack(call(max_pool2d_forward, _x, 2), 2, "max_pool2d_forward")
assert_shape(_out, (1, 1, 2, 2), name=f"{_label}: out")
assert_close(_out, [[[[5.0, 8.0], [0.0, 7.0]]]], name=f"{_label}: out")
_dx = call(max_pool2d_backward, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), _cache)
assert_shape(_dx, (1, 1, 4, 4), name="max_pool2d_backward(dout (1, 1, 2, 2)): dx")
assert_close(_dx, [[[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [3.0, 0.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0]]]],
             name="max_pool2d_backward(dout=[[1, 2], [3, 4]]): dx (ties: only the first maximum, in row-major "
             "order, gets the gradient)")
_label = "avg_pool2d_forward(x (1, 1, 4, 4), kernel_size=2)"
_out, _cache = unpack(call(avg_pool2d_forward, _x, 2), 2, "avg_pool2d_forward")
assert_shape(_out, (1, 1, 2, 2), name=f"{_label}: out")
assert_close(_out, [[[[3.25, 2.75], [0.0, 6.5]]]], name=f"{_label}: out")
_dx = call(avg_pool2d_backward, np.array([[[[4.0, 8.0], [12.0, 16.0]]]]), _cache)
assert_shape(_dx, (1, 1, 4, 4), name="avg_pool2d_backward(dout (1, 1, 2, 2)): dx")
assert_close(_dx, np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2)))[None, None],
             name="avg_pool2d_backward(dout=[[4, 8], [12, 16]]): dx (dout / 4 to each pixel of the window)")

# Overlapping windows: 3x3 windows with stride 1 on a 4x5 image; each pixel adds up its windows.
_x = np.arange(20.0).reshape(1, 1, 4, 5)
_out, _cache = unpack(call(max_pool2d_forward, _x, 3, stride=1), 2, "max_pool2d_forward")
assert_close(_out, [[[[12.0, 13.0, 14.0], [17.0, 18.0, 19.0]]]], name="max_pool2d_forward(x (1, 1, 4, 5), "
             "kernel_size=3, stride=1): out")
_dx = call(max_pool2d_backward, np.ones((1, 1, 2, 3)), _cache)
assert_close(_dx[0, 0, 3], [0.0, 0.0, 1.0, 1.0, 1.0], name="max_pool2d_backward with stride 1: dx[0, 0, 3] "
             "(each window's maximum gets its dout)")
assert_close(_dx[0, 0, 2], [0.0, 0.0, 1.0, 1.0, 1.0], name="max_pool2d_backward with stride 1: dx[0, 0, 2]")
_out, _cache = unpack(call(avg_pool2d_forward, _x, 3, stride=1), 2, "avg_pool2d_forward")
assert_close(_out, [[[[6.0, 7.0, 8.0], [11.0, 12.0, 13.0]]]], name="avg_pool2d_forward(x (1, 1, 4, 5), "
             "kernel_size=3, stride=1): out")
_dx = call(avg_pool2d_backward, np.full((1, 1, 2, 3), 9.0), _cache)
assert_close(_dx[0, 0], [[1.0, 2.0, 3.0, 2.0, 1.0], [2.0, 4.0, 6.0, 4.0, 2.0], [2.0, 4.0, 6.0, 4.0, 2.0],
                         [1.0, 2.0, 3.0, 2.0, 1.0]],
             name="avg_pool2d_backward(dout = 9, kernel_size=3, stride=1): dx (pixels in several windows add up)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F


def _torch_pool(pool, x, dout, k, s):
    """Output and input gradient of F.max_pool2d / F.avg_pool2d by autograd, in float64."""
    xt = _torch.tensor(x, requires_grad=True)
    out = pool(xt, k, s)
    out.backward(_torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy()


_rng = np.random.default_rng(605)
for _N, _C, _H, _W, _k, _s in [(1, 1, 2, 2, 2, None), (1, 2, 5, 7, 2, None), (3, 2, 6, 4, 3, 1), (2, 3, 7, 7, 3, 2),
                               (1, 1, 9, 6, 2, 3), (4, 3, 8, 8, 1, 1), (2, 5, 11, 9, 4, 2), (1, 1, 5, 5, 5, None)]:
    for _ties in [False, True]:
        # with ties: small integers, so that many windows share their maximum (all zeros after a ReLU)
        _x = (np.maximum(_rng.integers(-3, 3, size=(_N, _C, _H, _W)), 0).astype(float) if _ties
              else _rng.normal(size=(_N, _C, _H, _W)) * 3)
        _args = (_k,) if _s is None else (_k, _s)
        _label = f"x {_x.shape}{' with ties' if _ties else ''}, kernel_size={_k}, stride={_s}"
        for _fwd, _bwd, _pool in [(max_pool2d_forward, max_pool2d_backward, _F.max_pool2d),
                                  (avg_pool2d_forward, avg_pool2d_backward, _F.avg_pool2d)]:
            _ref_out = _pool(_torch.tensor(_x), _k, _s).numpy()
            _dout = _rng.normal(size=_ref_out.shape)
            _ref_out, _ref_dx = _torch_pool(_pool, _x, _dout, _k, _s)
            _out, _cache = unpack(call(_fwd, _x, *_args), 2, _fwd.__name__)
            assert_close(_out, _ref_out, rtol=1e-12, atol=1e-12, name=f"{_fwd.__name__}({_label}): out")
            _dx = call(_bwd, _dout, _cache)
            assert_close(_dx, _ref_dx, rtol=1e-12, atol=1e-12, name=f"{_bwd.__name__} after {_label}: dx")
# Ties by hand: a window of equal values sends the gradient to its top-left pixel only.
_out, _cache = unpack(call(max_pool2d_forward, np.full((1, 1, 3, 3), 2.0), 3), 2, "max_pool2d_forward")
_dx = call(max_pool2d_backward, np.array([[[[5.0]]]]), _cache)
assert_close(_dx, [[[[5.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]],
             name="max_pool2d_backward on a window of equal values (the first maximum in row-major order)")
### END HIDDEN TESTS
