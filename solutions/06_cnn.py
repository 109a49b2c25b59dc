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
# | 6 | `global_avg_pool_*` | one number per channel, whatever the image size |
# | 7 | `conv_transpose2d_*` | transposed convolution: the gradient of a convolution as a layer |
# | 8 | `count_params_and_flops` | what weight sharing and locality save |
#
# On the way: the **convolution explorer**, a CNN trained on handwritten digits with your layers,
# saliency maps, five concept checks and a written answer.
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
    assert_answer,
    assert_choice,
    assert_close,
    assert_equal_int,
    assert_scalar,
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
    length = x.shape[0] - k.shape[0] + 1
    out = np.zeros(length)
    for i in range(length):
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

# %% [markdown]
# **Concept check 1.** A convolution layer gets a $32 \times 32$ input and uses $5 \times 5$
# kernels with stride 2 and padding 1. How wide is its output? Set `q1_answer` to the output
# width (an integer).

# %% nbgrader="solution" grade_id="q1_output_size"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = 15
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_output_size" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 15, name="q1_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 2.** A small network applies a $3 \times 3$ convolution (stride 1), then a
# $2 \times 2$ max pooling (stride 2), then another $3 \times 3$ convolution (stride 1). How
# many input pixels wide is the receptive field of one unit of the last layer? Set
# `q2_answer` to that width (an integer).

# %% nbgrader="solution" grade_id="q2_receptive_field"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 8
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_receptive_field" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 8, name="q2_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** A $2 \times 2$ max pooling with stride 2 is applied to a feature map
# whose height and width are even, and no window contains two equal maxima. In the backward
# pass, which fraction of the input pixels receive a nonzero gradient (assume every `dout`
# entry is nonzero)? Set `q3_answer` to that fraction (a number between 0 and 1).

# %% nbgrader="solution" grade_id="q3_maxpool_gradient"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = 0.25
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_maxpool_gradient" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, 0.25, name="q3_answer", rtol=1e-3, atol=0.0)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Global average pooling
#
# Classic CNNs end by flattening the last feature maps into one long vector and feeding it to
# dense layers. Most modern ones instead average each channel over all its positions:
# **global average pooling** turns a batch of shape $(N, C, H, W)$ into $(N, C)$,
#
# $$y_{nc} = \frac{1}{HW}\sum_{i,j} x_{ncij}, \qquad
#   \frac{\partial L}{\partial x_{ncij}} = \frac{1}{HW}\,\frac{\partial L}{\partial y_{nc}},$$
#
# so each pixel receives an equal share of its channel's gradient. It has no parameters, and
# the same network accepts images of any size.
#
# **Exercise.** Write `global_avg_pool_forward` and `global_avg_pool_backward`.

# %% nbgrader="solution" grade_id="global_avg_pool"
def global_avg_pool_forward(x):
    """Global average pooling: the mean of every channel over all positions.

    Args:
        x: float64 array of shape (N, C, H, W).

    Returns:
        out: float64 array of shape (N, C), out[n, c] = x[n, c].mean().
        cache: whatever global_avg_pool_backward needs. The argument stays unchanged.
    """
    ### BEGIN SOLUTION
    out = x.mean(axis=(2, 3))
    cache = x.shape
    return out, cache
    ### END SOLUTION


def global_avg_pool_backward(dout, cache):
    """Backward pass of global average pooling.

    Args:
        dout: float64 array of shape (N, C), the upstream gradient.
        cache: the cache returned by global_avg_pool_forward.

    Returns:
        dx: float64 array of shape (N, C, H, W), dout[n, c] / (H W) at every position of
            channel c. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, C, H, W = cache
    dx = np.zeros((N, C, H, W))
    dx += dout[:, :, None, None] / (H * W)
    return dx
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_global_avg_pool" points=2
# Two channels of a 2x3 image: the means are 2.5 and 10.
_x = np.array([[[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[10.0, 10.0, 10.0], [10.0, 10.0, 10.0]]]])
_label = "global_avg_pool_forward(x (1, 2, 2, 3))"
_out, _cache = unpack(call(global_avg_pool_forward, _x), 2, "global_avg_pool_forward")
assert_shape(_out, (1, 2), name=f"{_label}: out")
assert_close(_out, [[2.5, 10.0]], name=f"{_label}: out")
_dx = call(global_avg_pool_backward, np.array([[6.0, -12.0]]), _cache)
assert_shape(_dx, (1, 2, 2, 3), name="global_avg_pool_backward(dout (1, 2)): dx")
assert_close(_dx, np.concatenate([np.full((1, 1, 2, 3), 1.0), np.full((1, 1, 2, 3), -2.0)], axis=1),
             name="global_avg_pool_backward(dout=[[6, -12]]) after x (1, 2, 2, 3): dx (dout / (H W) everywhere)")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(606)
for _shape in [(1, 1, 1, 1), (1, 3, 4, 7), (5, 2, 6, 3), (2, 4, 9, 9), (3, 1, 2, 11)]:
    _x = _rng.normal(size=_shape) * 3
    _xt = _torch.tensor(_x, requires_grad=True)
    _ref = _F.adaptive_avg_pool2d(_xt, 1)[:, :, 0, 0]
    _dout = _rng.normal(size=_shape[:2])
    _ref.backward(_torch.tensor(_dout))
    _out, _cache = unpack(call(global_avg_pool_forward, _x), 2, "global_avg_pool_forward")
    assert_shape(_out, _shape[:2], name=f"global_avg_pool_forward(x {_shape}): out")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-12, atol=1e-12, name=f"global_avg_pool_forward(x {_shape}): out")
    _dx = call(global_avg_pool_backward, _dout, _cache)
    assert_close(_dx, _xt.grad.numpy(), rtol=1e-12, atol=1e-12, name=f"global_avg_pool_backward after x {_shape}: dx")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Give two advantages of ending a CNN with global average
# pooling followed by one dense layer, compared with flattening the last feature maps into
# a long vector followed by dense layers. What does the network lose by averaging? Answer in
# two to four sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_global_pool" points=2
# *Model answer.* Global average pooling has no parameters, whereas a dense layer on the
# flattened maps needs $C H W$ weights per output unit — most of a classic CNN's parameters —
# so the model is much smaller and overfits less. The output no longer depends on $H$ and
# $W$, so the same network accepts images of any size, and the result is invariant to where
# in the image a feature occurs. What is lost is the position: the classifier only sees
# *whether* (and how strongly) each feature is present, not where.

# %% [markdown]
# ## 7. Transposed convolution
#
# A convolution with stride $s$ shrinks an image; decoders, segmentation networks and GANs
# need the opposite. The **transposed convolution** goes the other way: every input pixel
# $x_{n,c,i,j}$ *paints* a copy of its kernel $w_{c,:,:,:}$, scaled by its value, onto the
# output at position $(s i, s j)$; where copies overlap they add up. Then `padding` rows and
# columns are cut away from each side and the bias is added:
#
# $$\text{full}_{n,f,\,s i + u,\, s j + v} \mathrel{+}= \sum_c x_{n,c,i,j}\, w_{c,f,u,v},
#   \qquad \text{out} = \text{full}[p : H_f - p,\; p : W_f - p] + b_f,$$
#
# with $H_f = s(H - 1) + K_H$, so the output is $H' = s(H - 1) - 2p + K_H$ high (and $W'$
# alike). As in PyTorch's `F.conv_transpose2d`, the weight has shape
# $(C_\text{in}, C_\text{out}, K_H, K_W)$ — input channels first.
#
# The name comes from linear algebra: writing conv2d as a matrix $A$ acting on the flattened
# image, the transposed convolution multiplies by $A^\top$. It is **not** the inverse of a
# convolution, only its transpose — which is exactly what the backward pass of conv2d
# applies to `dout`. We check that below.
#
# **Exercise.** Write `conv_transpose2d_forward` and `conv_transpose2d_backward`. A loop over
# the $K_H K_W$ kernel offsets $(u, v)$ is fine (each offset adds to one strided slice of
# `full`, as in col2im); no loops over the batch, the channels or the positions.

# %% nbgrader="solution" grade_id="conv_transpose"
def conv_transpose2d_forward(x, w, b, stride=1, padding=0):
    """Forward pass of a 2-D transposed convolution, as torch.nn.functional.conv_transpose2d.

    Args:
        x: float64 array of shape (N, C_in, H, W).
        w: float64 array of shape (C_in, C_out, KH, KW) (input channels first, as in torch).
        b: float64 array of shape (C_out,).
        stride: int >= 1, the step between the kernel copies of neighbouring input pixels.
        padding: int >= 0, rows and columns cut away from each side of the result.

    Returns:
        out: float64 array of shape (N, C_out, H', W'), H' = stride (H - 1) - 2 padding + KH,
            W' = stride (W - 1) - 2 padding + KW.
        cache: whatever conv_transpose2d_backward needs. The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    _, F, KH, KW = w.shape
    s, p = stride, padding
    Hf, Wf = s * (H - 1) + KH, s * (W - 1) + KW
    xw = np.einsum("nchw,cfuv->nfuvhw", x, w)                               # (N, F, KH, KW, H, W)
    full = np.zeros((N, F, Hf, Wf))
    for u in range(KH):
        for v in range(KW):
            full[:, :, u:u + s * (H - 1) + 1:s, v:v + s * (W - 1) + 1:s] += xw[:, :, u, v]
    out = full[:, :, p:Hf - p, p:Wf - p] + b[:, None, None]
    cache = (x, w, stride, padding)
    return out, cache
    ### END SOLUTION


def conv_transpose2d_backward(dout, cache):
    """Backward pass of conv_transpose2d_forward.

    Args:
        dout: float64 array of shape (N, C_out, H', W').
        cache: the cache returned by conv_transpose2d_forward.

    Returns:
        (dx, dw, db): float64 arrays of shapes (N, C_in, H, W), (C_in, C_out, KH, KW) and
        (C_out,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, w, s, p = cache
    N, C, H, W = x.shape
    _, F, KH, KW = w.shape
    Hf, Wf = s * (H - 1) + KH, s * (W - 1) + KW
    dfull = np.zeros((N, F, Hf, Wf))
    dfull[:, :, p:Hf - p, p:Wf - p] = dout
    dx = np.zeros((N, C, H, W))
    dw = np.zeros(w.shape)
    for u in range(KH):
        for v in range(KW):
            g = dfull[:, :, u:u + s * (H - 1) + 1:s, v:v + s * (W - 1) + 1:s]   # (N, F, H, W)
            dx += np.einsum("nfhw,cf->nchw", g, w[:, :, u, v])
            dw[:, :, u, v] = np.einsum("nfhw,nchw->cf", g, x)
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_conv_transpose" points=5
# One 2x2 image, a 2x2 kernel of ones, stride 2: each pixel paints its own 2x2 block.
_x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
_w = np.ones((1, 1, 2, 2))
_b = np.array([0.5])
_label = "conv_transpose2d_forward(x (1, 1, 2, 2), w = ones (1, 1, 2, 2), b=[0.5], stride=2)"
_out, _cache = unpack(call(conv_transpose2d_forward, _x, _w, _b, stride=2), 2, "conv_transpose2d_forward")
assert_shape(_out, (1, 1, 4, 4), name=f"{_label}: out")
assert_close(_out, np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2)))[None, None] + 0.5, name=f"{_label}: out")
# Stride 1, kernel [[1, 2], [3, 4]]: the copies overlap and add up; padding=1 keeps the middle.
_w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
_expected = np.array([[1.0, 4.0, 4.0], [6.0, 20.0, 16.0], [9.0, 24.0, 16.0]])
_label = "conv_transpose2d_forward(x [[1, 2], [3, 4]], w [[1, 2], [3, 4]], b=[0])"
_out, _cache = unpack(call(conv_transpose2d_forward, _x, _w, np.zeros(1)), 2, "conv_transpose2d_forward")
assert_shape(_out, (1, 1, 3, 3), name=f"{_label}: out")
assert_close(_out, _expected[None, None], name=f"{_label}: out (no kernel flip)")
_out, _ = unpack(call(conv_transpose2d_forward, _x, _w, np.zeros(1), padding=1), 2, "conv_transpose2d_forward")
assert_close(_out, [[[[20.0]]]], name=f"{_label[:-1]}, padding=1): out (one row and column cut from each side)")
_dx, _dw, _db = unpack(call(conv_transpose2d_backward, np.ones((1, 1, 3, 3)), _cache), 3,
                       "conv_transpose2d_backward")
assert_shape(_dx, (1, 1, 2, 2), name="conv_transpose2d_backward(dout = ones (1, 1, 3, 3)): dx")
assert_close(_dx, np.full((1, 1, 2, 2), 10.0), name="conv_transpose2d_backward(dout = ones): dx (sum of the kernel)")
assert_close(_dw, np.full((1, 1, 2, 2), 10.0), name="conv_transpose2d_backward(dout = ones): dw (sum of x)")
assert_close(_db, [9.0], name="conv_transpose2d_backward(dout = ones (1, 1, 3, 3)): db")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(607)
for _N, _C, _Fo, _H, _W, _KH, _KW, _s, _p in [
        (1, 1, 1, 1, 1, 1, 1, 1, 0), (1, 2, 3, 3, 5, 3, 2, 1, 0), (2, 3, 2, 4, 4, 3, 3, 2, 1),
        (3, 2, 4, 5, 3, 2, 4, 2, 0), (1, 3, 1, 2, 6, 4, 3, 3, 1), (2, 1, 2, 6, 5, 5, 5, 2, 2),
        (4, 2, 2, 3, 3, 3, 3, 1, 1)]:
    _x, _w, _b = _rng.normal(size=(_N, _C, _H, _W)), _rng.normal(size=(_C, _Fo, _KH, _KW)), _rng.normal(size=_Fo)
    _ts = [_torch.tensor(_a, requires_grad=True) for _a in (_x, _w, _b)]
    _ref = _F.conv_transpose2d(*_ts, stride=_s, padding=_p)
    _dout = _rng.normal(size=tuple(_ref.shape))
    _ref.backward(_torch.tensor(_dout))
    _label = f"x {_x.shape}, w {_w.shape}, stride={_s}, padding={_p}"
    _out, _cache = unpack(call(conv_transpose2d_forward, _x, _w, _b, stride=_s, padding=_p), 2,
                          "conv_transpose2d_forward")
    assert_shape(_out, tuple(_ref.shape), name=f"conv_transpose2d_forward({_label}): out")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-10, atol=1e-11, name=f"conv_transpose2d_forward({_label}): out")
    _grads = unpack(call(conv_transpose2d_backward, _dout, _cache), 3, "conv_transpose2d_backward")
    for _g, _t, _what in zip(_grads, _ts, ["dx", "dw", "db"], strict=True):
        assert_close(_g, _t.grad.numpy(), rtol=1e-10, atol=1e-11, name=f"conv_transpose2d_backward after {_label}: "
                     f"{_what}")
### END HIDDEN TESTS

# %% [markdown]
# **The gradient of conv2d is a transposed convolution.** Take a strided, padded conv2d and
# its backward pass. Feeding `dout` through `conv_transpose2d_forward` with the *same* weight
# array (conv2d's $(F, C, K_H, K_W)$ is the $(C_\text{in}, C_\text{out}, K_H, K_W)$ of the
# transposed convolution that goes back from $F$ to $C$ channels), no bias, and the same
# stride and padding gives exactly conv2d's `dx`:

# %%
_rng = np.random.default_rng(0)
x_demo, w_demo = _rng.normal(size=(2, 3, 7, 7)), _rng.normal(size=(4, 3, 3, 3))
out_demo, cache_demo = conv2d_forward(x_demo, w_demo, np.zeros(4), stride=2, padding=1)
dout_demo = _rng.normal(size=out_demo.shape)
dx_demo, _, _ = conv2d_backward(dout_demo, cache_demo)
up_demo, _ = conv_transpose2d_forward(dout_demo, w_demo, np.zeros(3), stride=2, padding=1)
print("conv2d:", x_demo.shape, "->", out_demo.shape, "  transposed:", dout_demo.shape, "->", up_demo.shape)
print("max |conv_transpose2d(dout) - dx| =", np.abs(up_demo - dx_demo).max())

# %% [markdown]
# (When $(H + 2p - K_H)$ is not a multiple of the stride, conv2d ignores the last rows, and
# the transposed convolution comes out that many rows short; PyTorch's `output_padding`
# argument adds them back.)
#
# ## 8. What a convolution saves: parameters and FLOPs
#
# A convolution is a dense layer with two constraints: each output sees only a $K \times K$
# window (locality), and all positions share the same weights (weight sharing). Both save a
# lot. Compare a conv layer with a dense layer that maps the same flattened input
# ($C_\text{in} H W$ numbers) to the same flattened output ($C_\text{out} H' W'$ numbers):
#
# | | parameters | FLOPs |
# |---|---|---|
# | conv, $K \times K$ | $C_\text{out}(C_\text{in} K^2 + 1)$ | $2\, C_\text{out} H' W' \cdot C_\text{in} K^2$ |
# | dense | $(C_\text{in} H W + 1)\, C_\text{out} H' W'$ | $2\, C_\text{in} H W \cdot C_\text{out} H' W'$ |
#
# **Convention:** one multiply–add counts as **2 FLOPs** (a multiplication and an addition);
# the bias additions are not counted. (Many papers report multiply–adds, "MACs", instead:
# half these numbers.) $H' \times W'$ is the conv's output size, from section 3.
#
# **Exercise.** Write `count_params_and_flops`.

# %% nbgrader="solution" grade_id="params_flops"
def count_params_and_flops(c_in, c_out, height, width, kernel_size, stride=1, padding=0):
    """Parameters and FLOPs of a conv layer, and of a dense layer with the same input and output sizes.

    The conv layer has c_out filters of size kernel_size x kernel_size (square), a bias per
    filter, the given stride and padding, on an input of shape (c_in, height, width). The dense
    layer maps the flattened input (c_in height width numbers) to the flattened conv output
    (c_out H' W' numbers), with a bias per output. FLOPs: one multiply-add counts as 2, the
    bias additions are not counted.

    Args:
        c_in, c_out, height, width, kernel_size: ints >= 1; stride >= 1, padding >= 0 ints.

    Returns:
        (conv_params, conv_flops, dense_params, dense_flops): four Python ints.
    """
    ### BEGIN SOLUTION
    k = kernel_size
    h_out = (height + 2 * padding - k) // stride + 1
    w_out = (width + 2 * padding - k) // stride + 1
    n_in, n_out = c_in * height * width, c_out * h_out * w_out
    conv_params = c_out * (c_in * k * k + 1)
    conv_flops = 2 * n_out * c_in * k * k
    dense_params = (n_in + 1) * n_out
    dense_flops = 2 * n_in * n_out
    return conv_params, conv_flops, dense_params, dense_flops
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_params_flops" points=3
_names = ["conv_params", "conv_flops", "dense_params", "dense_flops"]


def _check_counts(args, kwargs, expected):
    """Call count_params_and_flops and compare its four integers with the expected ones."""
    _label = f"count_params_and_flops{tuple(args)}" + (f" with {kwargs}" if kwargs else "")
    _got = unpack(call(count_params_and_flops, *args, **kwargs), 4, "count_params_and_flops")
    for _name, _g, _e in zip(_names, _got, expected, strict=True):
        assert_equal_int(_g, _e, name=f"{_label}: {_name}")


# 1 -> 1 channel, 4x4 image, 3x3 kernel: a 2x2 output; 9 weights + 1 bias.
_check_counts((1, 1, 4, 4, 3), {}, (10, 2 * 4 * 9, (16 + 1) * 4, 2 * 16 * 4))
# 3 -> 8 channels, 32x32, 3x3 kernel, padding 1: a 32x32 output.
_check_counts((3, 8, 32, 32, 3), {"padding": 1}, (8 * 28, 2 * 8 * 1024 * 27, (3072 + 1) * 8192, 2 * 3072 * 8192))
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(608)
for _ in range(30):
    _ci, _co, _k = (int(v) for v in _rng.integers(1, 6, size=3))
    _s, _p = int(_rng.integers(1, 4)), int(_rng.integers(0, 3))
    _h, _w = int(_rng.integers(_k, 20)), int(_rng.integers(_k, 20))
    _ho, _wo = (_h + 2 * _p - _k) // _s + 1, (_w + 2 * _p - _k) // _s + 1
    _n_in, _n_out = _ci * _h * _w, _co * _ho * _wo
    _check_counts((_ci, _co, _h, _w, _k), {"stride": _s, "padding": _p},
                  (_co * (_ci * _k * _k + 1), 2 * _n_out * _ci * _k * _k, (_n_in + 1) * _n_out, 2 * _n_in * _n_out))
### END HIDDEN TESTS

# %% [markdown]
# For a first layer on a small color image (3 → 64 channels, $32 \times 32$, $3 \times 3$
# kernels, padding 1) the dense layer needs over a hundred thousand times as many parameters:

# %%
for _args in [(3, 64, 32, 32, 3, 1, 1), (64, 64, 32, 32, 3, 1, 1), (64, 32, 32, 32, 3, 2, 1)]:
    _cp, _cf, _dp, _df = count_params_and_flops(*_args)
    print(f"c_in={_args[0]:3d} c_out={_args[1]:3d} stride={_args[5]}:  conv {_cp:>9,d} params {_cf:>14,d} FLOPs"
          f"   dense {_dp:>15,d} params {_df:>17,d} FLOPs   ratios {_dp / _cp:,.0f} and {_df / _cf:,.0f}")

# %% [markdown]
# The two savings differ. Weight sharing divides the *parameters* by the number of output
# positions, but every position is still computed; only locality saves *FLOPs*, by the factor
# $HW / K^2$ (here $1024 / 9 \approx 114$) — which is why convolutions are cheap to store
# but still the bulk of a CNN's compute.

# %% [markdown]
# **Concept check 4.** A convolution layer with $3 \times 3$ kernels and a bias per filter maps
# 64 input channels to 128 output channels. How many parameters does it have? Set
# `q4_answer` to that number (an integer).

# %% nbgrader="solution" grade_id="q4_conv_params"
# q4_answer = ...
### BEGIN SOLUTION
q4_answer = 128 * (64 * 3 * 3 + 1)
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_conv_params" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_scalar(q4_answer, name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, 73856, name="q4_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 5.** What does a $1 \times 1$ convolution (stride 1, no padding) with
# $C_\text{in}$ input and $C_\text{out}$ output channels do?
#
# - `"a"`: it blurs each channel with a small averaging filter;
# - `"b"`: it applies the same dense layer $C_\text{in} \to C_\text{out}$ to the channel vector of every pixel, independently;
# - `"c"`: it halves the height and width of the feature maps;
# - `"d"`: nothing useful — it only multiplies each channel by a constant.
#
# Which is it? Set `q5_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q5_one_by_one"
# q5_answer = ...
### BEGIN SOLUTION
q5_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q5_one_by_one" points=1
assert_that("q5_answer" in globals(), "q5_answer is not set yet: run its cell after answering")
assert_choice(q5_answer, ["a", "b", "c", "d"], name="q5_answer")
### BEGIN HIDDEN TESTS
assert_answer(q5_answer, "b", name="q5_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Convolution explorer
#
# Before training a network, play with one convolution. The explorer runs **your**
# `conv2d_forward` on one image (a digit or a simple pattern) with one $3 \times 3$ kernel.
# Move the sliders and watch how stride, padding and dilation change the output's size — the
# formula of section 3 is shown with the current numbers — and which input pixels one output
# pixel sees (the green window; pick the output pixel with "output pixel"). Things to try:
#
# - the identity kernel with padding 1: the output is the input;
# - "vertical edges" on the digit and on the stripes: positive on one side of an edge,
#   negative on the other;
# - dilation 2 and 3: the same nine weights spread over a $5 \times 5$ or $7 \times 7$ window;
# - stride 2 on the $8 \times 8$ digit with and without padding.

# %%
from IPython.display import display

from helpers.explorers.cnn import convolution_explorer

conv_explorer = convolution_explorer(conv2d_forward, image="digit 3", kernel="vertical edges", padding=1)
display(conv_explorer)

# %% [markdown]
# ## 10. A CNN for handwritten digits
#
# Time to put the layers together. The network below works on scikit-learn's $8 \times 8$
# digits (1797 images; 1347 for training, 450 kept for the test) and uses your `conv2d_*`,
# `max_pool2d_*` and, from earlier chapters, the affine layer, the ReLU, the softmax
# cross-entropy and Adam:
#
# | layer | output shape |
# |---|---|
# | input | $(N, 1, 8, 8)$ |
# | conv $3 \times 3$, 32 filters, padding 1, ReLU | $(N, 32, 8, 8)$ |
# | max pool $2 \times 2$ | $(N, 32, 4, 4)$ |
# | conv $3 \times 3$, 64 filters, padding 1, ReLU | $(N, 64, 4, 4)$ |
# | max pool $2 \times 2$ | $(N, 64, 2, 2)$ |
# | flatten, affine | $(N, 10)$ |
#
# That is about 24 000 weights — fewer than the MLP of chapter 04 — and the training
# images are shifted by up to one pixel at random (**data augmentation**), which costs
# nothing and teaches the network that a digit moved by a pixel is still the same digit.
# The backward pass runs the layers in reverse and also returns the gradient with respect
# to the input image, which we use after the training. Nothing to write here: run it (about
# 10 seconds).

# %%
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from dllib.ch03_mlp import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy_loss,
)
from dllib.ch05_optimization import Adam, cosine_lr, minibatches

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several

digits_data = load_digits()
cnn_images, cnn_labels = (digits_data.images / 16.0)[:, None], digits_data.target    # (1797, 1, 8, 8)
X_train, X_test, y_train, y_test = train_test_split(cnn_images, cnn_labels, test_size=450, stratify=cnn_labels,
                                                    random_state=0)  # a fixed split, every digit in proportion


def init_cnn(rng, c1=32, c2=64, classes=10):
    """Kaiming-normal weights for conv(1 -> c1) - pool - conv(c1 -> c2) - pool - affine."""
    return {
        "W1": rng.normal(0.0, np.sqrt(2.0 / 9), size=(c1, 1, 3, 3)), "b1": np.zeros(c1),
        "W2": rng.normal(0.0, np.sqrt(2.0 / (9 * c1)), size=(c2, c1, 3, 3)), "b2": np.zeros(c2),
        "W3": rng.normal(0.0, np.sqrt(1.0 / (4 * c2)), size=(4 * c2, classes)), "b3": np.zeros(classes),
    }


def cnn_forward(params, x):
    """Class scores (N, 10) for images x (N, 1, 8, 8), and the caches for cnn_backward."""
    h, conv1 = conv2d_forward(x, params["W1"], params["b1"], padding=1)
    h, relu1 = relu_forward(h)
    h, pool1 = max_pool2d_forward(h, 2)
    h, conv2 = conv2d_forward(h, params["W2"], params["b2"], padding=1)
    h, relu2 = relu_forward(h)
    h, pool2 = max_pool2d_forward(h, 2)
    scores, fc = affine_forward(h.reshape(len(x), -1), params["W3"], params["b3"])
    return scores, (conv1, relu1, pool1, conv2, relu2, pool2, fc, h.shape)


def cnn_backward(dscores, caches):
    """Gradients of every parameter, and dx (N, 1, 8, 8), from dscores = dL/dscores."""
    conv1, relu1, pool1, conv2, relu2, pool2, fc, pooled_shape = caches
    grads = {}
    dh, grads["W3"], grads["b3"] = affine_backward(dscores, fc)
    dh = relu_backward(max_pool2d_backward(dh.reshape(pooled_shape), pool2), relu2)
    dh, grads["W2"], grads["b2"] = conv2d_backward(dh, conv2)
    dh = relu_backward(max_pool2d_backward(dh, pool1), relu1)
    dx, grads["W1"], grads["b1"] = conv2d_backward(dh, conv1)
    return grads, dx


def random_shift(x, rng):
    """Shift every image by -1, 0 or +1 pixel in each direction (zeros come in at the border)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    offsets = rng.integers(0, 3, size=(len(x), 2))
    return np.stack([padded[n, :, u:u + 8, v:v + 8] for n, (u, v) in enumerate(offsets)])


def accuracy(params, x, y):
    return float(np.mean(cnn_forward(params, x)[0].argmax(axis=1) == y))


def train_cnn(epochs=30, lr=3e-3, batch_size=32, seed=0):
    """Adam with a cosine learning-rate schedule; returns the parameters and the history."""
    rng = np.random.default_rng(seed)
    params = init_cnn(rng)
    optimizer = Adam(params, lr=lr)
    steps = epochs * int(np.ceil(len(y_train) / batch_size))
    history = {"loss": [], "test_acc": []}
    step = 0
    for _ in (bar := tqdm(range(epochs), desc="training the CNN", unit="epoch")):
        losses = []
        for xb, yb in minibatches(X_train, y_train, batch_size, rng=rng):
            scores, caches = cnn_forward(params, random_shift(xb, rng))
            loss, dscores = softmax_cross_entropy_loss(scores, yb)
            grads, _ = cnn_backward(dscores, caches)
            optimizer.lr = cosine_lr(step, lr, steps)
            optimizer.step(grads)
            losses.append(loss)
            step += 1
        history["loss"].append(float(np.mean(losses)))
        history["test_acc"].append(accuracy(params, X_test, y_test))
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", test_acc=f"{history['test_acc'][-1]:.3f}")
    return params, history


start = time.perf_counter()
cnn_params, cnn_history = train_cnn()
cnn_seconds = time.perf_counter() - start
cnn_test_accuracy = accuracy(cnn_params, X_test, y_test)
print(f"test accuracy {cnn_test_accuracy:.2%} ({round((1 - cnn_test_accuracy) * len(y_test))} of "
      f"{len(y_test)} test digits wrong), training time {cnn_seconds:.1f} s")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
ax_loss.semilogy(np.arange(1, len(cnn_history["loss"]) + 1), cnn_history["loss"])
ax_loss.set(xlabel="epoch", ylabel="training loss (log)", title="Learning curve")
ax_acc.plot(np.arange(1, len(cnn_history["test_acc"]) + 1), cnn_history["test_acc"], color="C1")
ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.9, 1.0), title="Test accuracy")
plt.show()

# %% [markdown]
# About 99 % of the test digits right, in seconds, on one core. (Strictly, picking the
# architecture while looking at the test accuracy makes it a validation accuracy; chapter 04
# showed how to keep a separate validation set — we allow ourselves the shortcut here.)
#
# **Saliency maps.** Which pixels does the network look at? One simple answer is the gradient
# of the score of the correct class with respect to the input image,
# $\partial s_{y} / \partial x$: pixels where a small change moves the score a lot. It is the
# backward pass you already have, started from $d\text{scores}$ = 1 for the correct class and
# 0 elsewhere instead of the gradient of the loss. Red pixels raise the score when they get
# darker, blue ones lower it.

# %%
saliency_digits = X_test[:6]
scores, caches = cnn_forward(cnn_params, saliency_digits)
one_hot = np.zeros_like(scores)
one_hot[np.arange(len(saliency_digits)), y_test[:6]] = 1.0
_, saliency = cnn_backward(one_hot, caches)                        # (6, 1, 8, 8)

fig, axes = plt.subplots(2, 6, figsize=(11, 4))
for k in range(6):
    axes[0, k].imshow(saliency_digits[k, 0], cmap="gray_r")
    axes[0, k].set_title(f"label {y_test[k]}, predicted {scores[k].argmax()}", fontsize=9)
    limit = np.abs(saliency[k, 0]).max()
    axes[1, k].imshow(saliency[k, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
for ax in axes.ravel():
    ax.set(xticks=[], yticks=[])
axes[1, 0].set_ylabel("∂ score / ∂ pixel")
plt.show()

# %% [markdown]
# The maps are noisy: a gradient only says what a tiny change of each pixel would do, not why
# the network decided. Still, the large values sit on the strokes and in the gaps between
# them, where ink added or removed would turn the digit into another one — look at the blue
# in the hole of the 0: ink there lowers the score of "0" (it starts to look like an 8).
# Smoothing such maps (averaging the gradients of many noisy copies of the image) and
# multiplying them by the input are the first steps of most visualization methods.
