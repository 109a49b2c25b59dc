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
# | 10 | `spatial_batchnorm_*` | chapter 05's batch normalization, per channel |
# | 11 | `cnn_forward`, `cnn_backward` | a whole CNN from your layers |
#
# On the way: the **convolution and receptive-field explorers**, a CNN trained on handwritten
# digits with your layers, its filters, feature maps and saliency maps, translation
# equivariance checked, a 1-D CNN on MNIST-1D, six concept checks and two written answers.
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

from dllib.ch05_optimization import init_batchnorm_state
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
    call_updating,
    unpack,
)

np.set_printoptions(precision=4, suppress=True)
plt.rcParams["figure.figsize"] = (7.0, 3.5)


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
# *Speed notes* (optional). The same products work with cols stored the other way round,
# $(C K_H K_W) \times (N H' W')$: then $\text{out} = W\,\text{cols}$, $dW = d\text{out}\,
# \text{cols}^\top$ and $d\text{cols} = W^\top d\text{out}$, and the copies into and out of the
# matrix move whole image rows at a time. Keep the input's dtype (allocate buffers with
# `dtype=x.dtype`): mixing float32 and float64 silently converts everything to float64.
#
# **Exercise.** Write `conv2d_forward` and `conv2d_backward` with the signatures of the naive
# versions, without Python loops over the batch, the filters or the positions (a loop over
# the $K_H K_W$ kernel offsets is fine). Later chapters import these two.

# %% nbgrader="solution" grade_id="conv_fast" export=true
def conv2d_forward(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2-D convolution layer (a cross-correlation, as in torch), vectorized.

    Args:
        x: array of shape (N, C, H, W), a batch of N images with C channels; float64 or
            float32, and w and b of the same dtype.
        w: array of shape (F, C // groups, KH, KW), F filters.
        b: array of shape (F,), one bias per filter.
        stride, padding, dilation: ints >= 1, >= 0, >= 1, the same for height and width;
            `padding` zeros are added on each of the four sides.
        groups: int dividing C and F; the filters f of group f // (F // groups) see only
            the input channels of that group.

    Returns:
        out: array of x's dtype and shape (N, F, H', W') with
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
    # One column per output pixel (n, i, j), one row per weight (c, u, v) of a group: the copy
    # keeps whole rows of Wo pixels together, and the products need no transpose.
    cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(G, Cg * KH * KW, N * Ho * Wo)
    wmat = w.reshape(G, F // G, Cg * KH * KW)
    out = wmat @ cols                                                       # (G, F / G, N Ho Wo)
    out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3) + b[:, None, None]
    cache = (x, w, cols, stride, padding, dilation, groups)
    return out, cache
    ### END SOLUTION


def conv2d_backward(dout, cache):
    """Backward pass of conv2d_forward, vectorized (col2im by one += per kernel offset).

    Args:
        dout: array of shape (N, F, H', W'), the upstream gradient dL/dout, of the dtype of
            the forward pass's x.
        cache: the cache returned by conv2d_forward.

    Returns:
        (dx, dw, db): arrays of that dtype and shapes (N, C, H, W), (F, C // groups, KH, KW)
        and (F,). The arguments stay unchanged.
    """
    ### BEGIN SOLUTION
    x, w, cols, s, p, d, G = cache
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape
    dmat = dout.transpose(1, 0, 2, 3).reshape(G, F // G, N * Ho * Wo)       # the layout of wmat @ cols
    dw = (dmat @ cols.transpose(0, 2, 1)).reshape(F, Cg, KH, KW)
    wmat = w.reshape(G, F // G, Cg * KH * KW)
    dcols = (wmat.transpose(0, 2, 1) @ dmat).reshape(C, KH, KW, N, Ho, Wo)
    dxp = np.zeros((C, N, H + 2 * p, W + 2 * p), dtype=x.dtype)             # channels first, like dcols
    for u in range(KH):
        for v in range(KW):
            dxp[:, :, d * u:d * u + s * (Ho - 1) + 1:s, d * v:d * v + s * (Wo - 1) + 1:s] += dcols[:, u, v]
    dx = dxp[:, :, p:p + H, p:p + W].transpose(1, 0, 2, 3)
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
# ## 9. Convolution and receptive-field explorers
#
# Before training a network, play with one convolution. The explorer runs **your**
# `conv2d_forward` on one image (a digit or a simple pattern) with one $3 \times 3$ kernel.
# Move the sliders and watch how stride, padding and dilation change the output's size — the
# formula of section 3 is shown with the current numbers — and which input pixels one output
# pixel sees (the green window; pick the output pixel with "output pixel"). The nine boxes
# $w_{00} \dots w_{22}$ show the kernel's weights: a preset fills them, and typing your own
# numbers into them makes the kernel "custom". Things to try:
#
# - the identity kernel with padding 1: the output is the input;
# - your own kernels: rows $(0, 1, 0), (1, -4, 1), (0, 1, 0)$ (a Laplacian: it finds blobs and
#   thin strokes), or a diagonal edge detector;
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
# **Receptive-field explorer.** How much of the image does one unit of a deep layer see? The
# explorer stacks layers (pick a stack, then its depth; "one layer repeated" uses the sliders)
# and answers twice: with your `receptive_field` formula (the dashed square), and by
# measurement — your `conv2d_forward` runs the stack with all weights 1, and your
# `conv2d_backward` sends a gradient of 1 from the centre unit of the last layer back to the
# input. The pixels that receive a gradient are the receptive field; the brightness counts
# the paths from a pixel to the unit. If the two numbers disagree, one of your functions has a
# bug — the explorer says which layers show it. Things to try:
#
# - three $3 \times 3$ layers see as far as one $7 \times 7$ (7 pixels), with 27 weights per
#   channel pair instead of 49;
# - a stride of 2 early on makes every later layer's field grow twice as fast;
# - dilations 1, 2, 4, 8, … grow the field exponentially with depth, at no extra cost;
# - the measured gradient is concentrated in the middle: the **effective** receptive field is
#   much smaller than the nominal one.

# %%
from helpers.explorers.cnn import receptive_field_explorer

rf_explorer = receptive_field_explorer(conv2d_forward, conv2d_backward, receptive_field, conv_output_size)
display(rf_explorer)

# %% [markdown]
# ## 10. Batch normalization for images
#
# Chapter 05's batch normalization normalises every *feature* of a batch $(N, D)$ over the
# batch. In a convolutional layer, the natural features are the *channels*: the same filter
# produced every pixel of a channel, so all of them share one mean, one variance and one pair
# $\gamma_c, \beta_c$. **Spatial batch normalization** therefore normalises channel $c$ over
# the batch *and* all positions, $N H W$ values:
#
# $$\mu_c = \frac{1}{NHW}\sum_{n,i,j} x_{ncij}, \qquad
#   \sigma_c^2 = \frac{1}{NHW}\sum_{n,i,j} (x_{ncij} - \mu_c)^2, \qquad
#   y_{ncij} = \gamma_c \frac{x_{ncij} - \mu_c}{\sqrt{\sigma_c^2 + \varepsilon}} + \beta_c .$$
#
# No new mathematics is needed: move the channel axis last, flatten to $(N H W, C)$, and that
# is exactly chapter 05's `batchnorm_forward` with $C$ features. The one trap is the
# reshape: `x.reshape(-1, C)` on an NCHW array does *not* give one channel per column — it
# mixes channels and positions. Transpose first, and transpose back after.
#
# **Exercise.** Write `spatial_batchnorm_forward` and `spatial_batchnorm_backward` with
# chapter 05's `batchnorm_forward` and `batchnorm_backward` (imported below from the course
# library).

# %% nbgrader="solution" grade_id="spatial_batchnorm" export=true
from dllib.ch05_optimization import batchnorm_backward, batchnorm_forward


def spatial_batchnorm_forward(x, gamma, beta, state, train=True):
    """Batch normalization of every channel over the batch and all positions.

    Args:
        x: float64 array of shape (N, C, H, W). Not modified.
        gamma, beta: float64 arrays of shape (C,). Not modified.
        state: dict from init_batchnorm_state(C); updated in training mode as in
            chapter 05's batchnorm_forward (over N H W values per channel).
        train: True: batch statistics (and update `state`); False: running statistics.

    Returns:
        out: float64 array of shape (N, C, H, W).
        cache: whatever spatial_batchnorm_backward needs.

    Raises:
        ValueError: in training mode with N H W < 2 (from batchnorm_forward).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    columns = x.transpose(0, 2, 3, 1).reshape(-1, C)                # (N H W, C): one channel per column
    out, cache = batchnorm_forward(columns, gamma, beta, state, train)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache
    ### END SOLUTION


def spatial_batchnorm_backward(dout, cache):
    """Gradients of spatial batch normalization.

    Args:
        dout: float64 array of shape (N, C, H, W), the upstream gradient.
        cache: the cache returned by spatial_batchnorm_forward.

    Returns:
        (dx, dgamma, dbeta): float64 arrays of shapes (N, C, H, W), (C,), (C,).
    """
    ### BEGIN SOLUTION
    N, C, H, W = dout.shape
    dcolumns, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)
    return dcolumns.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_spatial_batchnorm" points=3
# Two channels of a 1x2 image, batch of 2: channel 0 holds 0, 1, 2, 3 and channel 1 holds
# 10, 10, 30, 30 (in the order n, i, j); each is normalised over its own four values.
_x = np.array([[[[0.0, 1.0]], [[10.0, 10.0]]], [[[2.0, 3.0]], [[30.0, 30.0]]]])   # (2, 2, 1, 2)
_state = call(init_batchnorm_state, 2, momentum=0.5, eps=0.0)
_out, _cache = unpack(call_updating(spatial_batchnorm_forward, "state", _x, np.ones(2), np.zeros(2), _state, True),
                      2, "spatial_batchnorm_forward")
_label = "spatial_batchnorm_forward(x (2, 2, 1, 2), gamma = 1, beta = 0, train=True)"
assert_shape(_out, (2, 2, 1, 2), name=f"{_label}: out")
_z = np.array([-3.0, -1.0, 1.0, 3.0]) / np.sqrt(5.0)
assert_close(_out[:, 0].ravel(), _z, name=f"{_label}: channel 0 (mean 1.5, variance 1.25 over N, H and W)")
assert_close(_out[:, 1].ravel(), [-1.0, -1.0, 1.0, 1.0], name=f"{_label}: channel 1 (mean 20, variance 100)")
assert_close(_state["running_mean"], [0.75, 10.0], name=f"{_label}: running_mean (momentum 0.5)")
assert_close(_state["running_var"], [0.5 + 0.5 * 5.0 / 3.0, 0.5 + 0.5 * 400.0 / 3.0],
             name=f"{_label}: running_var (momentum 0.5, unbiased variance over the 4 values)")
# Eval mode: the running statistics, per channel.
_out, _ = call(spatial_batchnorm_forward, _x, np.array([1.0, 2.0]), np.array([0.0, -1.0]), _state, False)
assert_close(_out[:, 1].ravel(), 2.0 * (np.array([10.0, 10.0, 30.0, 30.0]) - 10.0) / np.sqrt(_state["running_var"][1])
             - 1.0, name="spatial_batchnorm_forward(train=False): channel 1 (running statistics)")
# The backward pass against numerical gradients, on a non-square batch.
_rng = np.random.default_rng(0)
_x, _gamma, _beta = _rng.normal(size=(2, 3, 2, 4)), _rng.normal(size=3), _rng.normal(size=3)
_dout = _rng.normal(size=_x.shape)


def _bn_out(x, gamma, beta):
    return spatial_batchnorm_forward(x, gamma, beta, init_batchnorm_state(3), True)[0]


_expected = [numerical_gradient_array(lambda x: _bn_out(x, _gamma, _beta), _x.copy(), _dout),
             numerical_gradient_array(lambda g: _bn_out(_x, g, _beta), _gamma.copy(), _dout),
             numerical_gradient_array(lambda b: _bn_out(_x, _gamma, b), _beta.copy(), _dout)]
_out, _cache = call_updating(spatial_batchnorm_forward, "state", _x, _gamma, _beta, init_batchnorm_state(3), True)
_grads = unpack(call(spatial_batchnorm_backward, _dout, _cache), 3, "spatial_batchnorm_backward")
for _g, _e, _what in zip(_grads, _expected, ["dx", "dgamma", "dbeta"], strict=True):
    assert_close(_g, _e, rtol=1e-5, atol=1e-7, name=f"spatial_batchnorm_backward (x (2, 3, 2, 4)): {_what} "
                 "against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn.functional as _F

_rng = np.random.default_rng(610)
for _shape, _momentum in [((1, 3, 4, 5), 0.1), ((4, 2, 1, 1), 0.3), ((2, 5, 3, 7), 0.1), ((3, 1, 6, 2), 0.9)]:
    _C = _shape[1]
    _x = _rng.normal(size=_shape) * 3 + 1
    _gamma, _beta = _rng.normal(size=_C), _rng.normal(size=_C)
    _dout = _rng.normal(size=_shape)
    _label = f"spatial_batchnorm_forward(x {_shape}, momentum {_momentum})"
    _ts = [_torch.tensor(a, requires_grad=True) for a in (_x, _gamma, _beta)]
    _rm, _rv = _torch.zeros(_C, dtype=_torch.float64), _torch.ones(_C, dtype=_torch.float64)
    _ref = _F.batch_norm(_ts[0], _rm, _rv, _ts[1], _ts[2], training=True, momentum=_momentum, eps=1e-5)
    _ref.backward(_torch.tensor(_dout))
    _state = init_batchnorm_state(_C, momentum=_momentum)
    _out, _cache = unpack(call_updating(spatial_batchnorm_forward, "state", _x, _gamma, _beta, _state, True),
                          2, "spatial_batchnorm_forward")
    assert_close(_out, _ref.detach().numpy(), rtol=1e-9, atol=1e-10, name=f"{_label}: out")
    assert_close(_state["running_mean"], _rm.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: running_mean")
    assert_close(_state["running_var"], _rv.numpy(), rtol=1e-9, atol=1e-12, name=f"{_label}: running_var")
    _grads = unpack(call(spatial_batchnorm_backward, _dout, _cache), 3, "spatial_batchnorm_backward")
    for _g, _t, _what in zip(_grads, _ts, ["dx", "dgamma", "dbeta"], strict=True):
        assert_close(_g, _t.grad.numpy(), rtol=1e-8, atol=1e-10, name=f"spatial_batchnorm_backward after {_label}: {_what}")
    # Eval mode with the updated running statistics.
    _ref = _F.batch_norm(_torch.tensor(_x), _rm, _rv, _torch.tensor(_gamma), _torch.tensor(_beta), training=False)
    _out, _ = call(spatial_batchnorm_forward, _x, _gamma, _beta, _state, False)
    assert_close(_out, _ref.numpy(), rtol=1e-9, atol=1e-10, name=f"{_label} then train=False: out")
### END HIDDEN TESTS

# %% [markdown]
# ## 11. A CNN for handwritten digits
#
# Time to put the layers together. The network below works on scikit-learn's $8 \times 8$
# digits (1797 images; 1347 for training, 450 kept for the test) and uses your `conv2d_*`,
# `spatial_batchnorm_*` and `max_pool2d_*` and, from earlier chapters, the affine layer, the
# ReLU and the softmax cross-entropy:
#
# | layer | output shape | parameters |
# |---|---|---|
# | input | $(N, 1, 8, 8)$ | |
# | conv $3 \times 3$, 32 filters, padding 1 | $(N, 32, 8, 8)$ | `W1`, `b1` |
# | spatial batch norm, ReLU | $(N, 32, 8, 8)$ | `gamma1`, `beta1`, state `"bn1"` |
# | max pool $2 \times 2$ | $(N, 32, 4, 4)$ | |
# | conv $3 \times 3$, 64 filters, padding 1 | $(N, 64, 4, 4)$ | `W2`, `b2` |
# | spatial batch norm, ReLU | $(N, 64, 4, 4)$ | `gamma2`, `beta2`, state `"bn2"` |
# | max pool $2 \times 2$ | $(N, 64, 2, 2)$ | |
# | flatten, affine | $(N, 10)$ | `W3` $(256, 10)$, `b3` |
#
# (The biases `b1` and `b2` are redundant: the batch norm right after subtracts the mean, so
# their gradients come out as zero, up to rounding. We keep them to match PyTorch's default
# layers.) Flatten in NCHW order, `h.reshape(N, -1)` (as `torch.flatten` does). The backward pass runs
# the layers in reverse and also returns the gradient with respect to the input images, which
# we use for saliency maps after the training.
#
# **Exercise.** Write `cnn_forward` and `cnn_backward`.

# %%
from dllib.ch03_mlp import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy_loss,
)


def init_cnn(rng, c1=32, c2=64, classes=10):
    """Parameters (Kaiming-normal weights, gamma = 1, beta = 0) and batch-norm states of the CNN."""
    params = {
        "W1": rng.normal(0.0, np.sqrt(2.0 / 9), size=(c1, 1, 3, 3)), "b1": np.zeros(c1),
        "gamma1": np.ones(c1), "beta1": np.zeros(c1),
        "W2": rng.normal(0.0, np.sqrt(2.0 / (9 * c1)), size=(c2, c1, 3, 3)), "b2": np.zeros(c2),
        "gamma2": np.ones(c2), "beta2": np.zeros(c2),
        "W3": rng.normal(0.0, np.sqrt(1.0 / (4 * c2)), size=(4 * c2, classes)), "b3": np.zeros(classes),
    }
    states = {"bn1": init_batchnorm_state(c1), "bn2": init_batchnorm_state(c2)}
    return params, states


# %% nbgrader="solution" grade_id="cnn"
def cnn_forward(params, states, x, train=True):
    """Class scores of the CNN above.

    Args:
        params: dict of float64 arrays, as made by init_cnn. Not modified.
        states: {"bn1": ..., "bn2": ...}, the batch-norm states (updated when train is True).
        x: float64 array of shape (N, 1, 8, 8).
        train: passed to both batch norms.

    Returns:
        scores: float64 array of shape (N, 10).
        cache: whatever cnn_backward needs.
    """
    ### BEGIN SOLUTION
    h, conv1 = conv2d_forward(x, params["W1"], params["b1"], padding=1)
    h, bn1 = spatial_batchnorm_forward(h, params["gamma1"], params["beta1"], states["bn1"], train)
    h, relu1 = relu_forward(h)
    h, pool1 = max_pool2d_forward(h, 2)
    h, conv2 = conv2d_forward(h, params["W2"], params["b2"], padding=1)
    h, bn2 = spatial_batchnorm_forward(h, params["gamma2"], params["beta2"], states["bn2"], train)
    h, relu2 = relu_forward(h)
    h, pool2 = max_pool2d_forward(h, 2)
    scores, fc = affine_forward(h.reshape(len(x), -1), params["W3"], params["b3"])
    return scores, (conv1, bn1, relu1, pool1, conv2, bn2, relu2, pool2, fc, h.shape)
    ### END SOLUTION


def cnn_backward(dscores, cache):
    """Gradients of the CNN, from dscores = dL/dscores.

    Args:
        dscores: float64 array of shape (N, 10).
        cache: the cache returned by cnn_forward.

    Returns:
        grads: dict with a float64 gradient for every key of params, of the same shape.
        dx: float64 array of shape (N, 1, 8, 8), the gradient with respect to the images.
    """
    ### BEGIN SOLUTION
    conv1, bn1, relu1, pool1, conv2, bn2, relu2, pool2, fc, pooled_shape = cache
    grads = {}
    dh, grads["W3"], grads["b3"] = affine_backward(dscores, fc)
    dh = relu_backward(max_pool2d_backward(dh.reshape(pooled_shape), pool2), relu2)
    dh, grads["gamma2"], grads["beta2"] = spatial_batchnorm_backward(dh, bn2)
    dh, grads["W2"], grads["b2"] = conv2d_backward(dh, conv2)
    dh = relu_backward(max_pool2d_backward(dh, pool1), relu1)
    dh, grads["gamma1"], grads["beta1"] = spatial_batchnorm_backward(dh, bn1)
    dx, grads["W1"], grads["b1"] = conv2d_backward(dh, conv1)
    return grads, dx
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_cnn" points=5
# A small batch through a small copy of the network (4 and 6 filters), against numerical gradients.
_rng = np.random.default_rng(1)
_params, _states = init_cnn(_rng, c1=4, c2=6)
for _key in ("b1", "b2", "gamma1", "beta1", "gamma2", "beta2", "b3"):
    _params[_key] = _params[_key] + 0.3 * _rng.normal(size=_params[_key].shape)   # nothing trivial
_x = _rng.uniform(0.0, 1.0, size=(3, 1, 8, 8))
_dscores = _rng.normal(size=(3, 10))
_scores, _cache = unpack(call_updating(cnn_forward, "states", _params, _states, _x, True), 2, "cnn_forward")
assert_shape(_scores, (3, 10), name="cnn_forward(params, states, x (3, 1, 8, 8)): scores")
assert_that(not np.allclose(_states["bn1"]["running_mean"], 0.0),
            "cnn_forward(..., train=True) left states['bn1']['running_mean'] at zero: pass states['bn1'] and "
            "train to the first batch norm")
_grads, _dx = unpack(call(cnn_backward, _dscores, _cache), 2, "cnn_backward")
assert_that(isinstance(_grads, dict) and set(_grads) == set(_params),
            f"cnn_backward must return a dict with the keys {sorted(_params)}, got "
            + (f"{sorted(_grads)}" if isinstance(_grads, dict) else type(_grads).__name__))
assert_shape(_dx, _x.shape, name="cnn_backward: dx")


def _scores_of(params, x):
    return cnn_forward(params, init_cnn(np.random.default_rng(0), c1=4, c2=6)[1], x, True)[0]


for _key in ("W3", "gamma2", "W2", "beta1", "W1"):
    def _f(value, key=_key):
        return _scores_of({**_params, key: value}, _x)
    _expected = numerical_gradient_array(_f, _params[_key].copy(), _dscores)
    assert_close(_grads[_key], _expected, rtol=1e-5, atol=1e-7,
                 name=f"cnn_backward: grads[{_key!r}] against the numerical gradient")
assert_close(_dx, numerical_gradient_array(lambda x: _scores_of(_params, x), _x.copy(), _dscores), rtol=1e-5,
             atol=1e-7, name="cnn_backward: dx against the numerical gradient")
### BEGIN HIDDEN TESTS
import torch as _torch
import torch.nn as _nn


def _torch_cnn(params, c1, c2):
    """The same network in PyTorch, with the parameters copied."""
    net = _nn.Sequential(
        _nn.Conv2d(1, c1, 3, padding=1), _nn.BatchNorm2d(c1), _nn.ReLU(), _nn.MaxPool2d(2),
        _nn.Conv2d(c1, c2, 3, padding=1), _nn.BatchNorm2d(c2), _nn.ReLU(), _nn.MaxPool2d(2),
        _nn.Flatten(), _nn.Linear(4 * c2, 10),
    ).double()
    with _torch.no_grad():
        for (layer, name), key in zip([(0, "weight"), (0, "bias"), (1, "weight"), (1, "bias"),
                                       (4, "weight"), (4, "bias"), (5, "weight"), (5, "bias"),
                                       (9, "weight"), (9, "bias")],
                                      ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"],
                                      strict=True):
            value = params[key].T if key == "W3" else params[key]
            getattr(net[layer], name).copy_(_torch.tensor(np.ascontiguousarray(value)))
    return net


_rng = np.random.default_rng(611)
_names = {"W1": (0, "weight"), "b1": (0, "bias"), "gamma1": (1, "weight"), "beta1": (1, "bias"),
          "W2": (4, "weight"), "b2": (4, "bias"), "gamma2": (5, "weight"), "beta2": (5, "bias"),
          "W3": (9, "weight"), "b3": (9, "bias")}
for _N, _c1, _c2 in [(1, 3, 2), (5, 4, 6), (8, 32, 64)]:
    _params, _states = init_cnn(_rng, c1=_c1, c2=_c2)
    for _key in ("b1", "b2", "gamma1", "beta1", "gamma2", "beta2", "b3"):
        _params[_key] = _params[_key] + 0.5 * _rng.normal(size=_params[_key].shape)
    _x = _rng.uniform(0.0, 1.0, size=(_N, 1, 8, 8))
    _dscores = _rng.normal(size=(_N, 10))
    _net = _torch_cnn(_params, _c1, _c2).train()
    _xt = _torch.tensor(_x, requires_grad=True)
    _ref = _net(_xt)
    _ref.backward(_torch.tensor(_dscores))
    _label = f"cnn_forward(x ({_N}, 1, 8, 8), {_c1} and {_c2} filters, train=True)"
    _scores, _cache = unpack(call_updating(cnn_forward, "states", _params, _states, _x, True), 2, "cnn_forward")
    assert_close(_scores, _ref.detach().numpy(), rtol=1e-8, atol=1e-9, name=f"{_label}: scores (PyTorch, same weights)")
    for _bn, _layer in (("bn1", 1), ("bn2", 5)):
        assert_close(_states[_bn]["running_mean"], _net[_layer].running_mean.numpy(), rtol=1e-8, atol=1e-10,
                     name=f"{_label}: states[{_bn!r}]['running_mean']")
    _grads, _dx = unpack(call(cnn_backward, _dscores, _cache), 2, "cnn_backward")
    for _key, (_layer, _name) in _names.items():
        _expected = getattr(_net[_layer], _name).grad.numpy()
        assert_close(_grads[_key], _expected.T if _key == "W3" else _expected, rtol=1e-7, atol=1e-9,
                     name=f"cnn_backward after {_label}: grads[{_key!r}]")
    assert_close(_dx, _xt.grad.numpy(), rtol=1e-7, atol=1e-9, name=f"cnn_backward after {_label}: dx")
    # Eval mode: the running statistics, and the states unchanged.
    _before = {k: v["running_mean"].copy() for k, v in _states.items()}
    _net.eval()
    _scores, _ = unpack(call(cnn_forward, _params, _states, _x, False), 2, "cnn_forward")
    with _torch.no_grad():
        assert_close(_scores, _net(_torch.tensor(_x)).numpy(), rtol=1e-8, atol=1e-9,
                     name=f"cnn_forward(x ({_N}, 1, 8, 8), train=False) after one training step: scores")
    for _bn in _states:
        assert_close(_states[_bn]["running_mean"], _before[_bn], rtol=0, atol=0,
                     name=f"states[{_bn!r}]['running_mean'] after cnn_forward(train=False) (unchanged)")
### END HIDDEN TESTS

# %% [markdown]
# Now train it. The training images are shifted by up to one pixel at random (**data
# augmentation**), which costs nothing and teaches the network that a digit moved by a pixel
# is still the same digit. Nothing to write here: run it (about 15 seconds).

# %%
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from dllib.ch05_optimization import Adam, cosine_lr, minibatches

threadpool_limits(1)  # small matrices: one BLAS thread is faster than several

digits_data = load_digits()
cnn_images, cnn_labels = (digits_data.images / 16.0)[:, None], digits_data.target    # (1797, 1, 8, 8)
X_train, X_test, y_train, y_test = train_test_split(cnn_images, cnn_labels, test_size=450, stratify=cnn_labels,
                                                    random_state=0)  # a fixed split, every digit in proportion


def random_shift(x, rng, max_shift=1):
    """Shift every image by up to max_shift pixels in each direction (zeros come in at the border)."""
    m, (height, width) = max_shift, x.shape[-2:]
    padded = np.pad(x, ((0, 0), (0, 0), (m, m), (m, m)))
    offsets = rng.integers(0, 2 * m + 1, size=(len(x), 2))
    return np.stack([padded[n, :, u:u + height, v:v + width] for n, (u, v) in enumerate(offsets)])


def accuracy(params, states, x, y):
    return float(np.mean(cnn_forward(params, states, x, train=False)[0].argmax(axis=1) == y))


def train_cnn(epochs=30, lr=3e-3, batch_size=32, seed=0):
    """Adam with a cosine learning-rate schedule; returns the parameters, states and history."""
    rng = np.random.default_rng(seed)
    params, states = init_cnn(rng)
    optimizer = Adam(params, lr=lr)
    steps = epochs * int(np.ceil(len(y_train) / batch_size))
    history = {"loss": [], "test_acc": []}
    step = 0
    for _ in (bar := tqdm(range(epochs), desc="training the CNN", unit="epoch")):
        losses = []
        for xb, yb in minibatches(X_train, y_train, batch_size, rng=rng):
            scores, caches = cnn_forward(params, states, random_shift(xb, rng))
            loss, dscores = softmax_cross_entropy_loss(scores, yb)
            grads, _ = cnn_backward(dscores, caches)
            optimizer.lr = cosine_lr(step, lr, steps)
            optimizer.step(grads)
            losses.append(loss)
            step += 1
        history["loss"].append(float(np.mean(losses)))
        history["test_acc"].append(accuracy(params, states, X_test, y_test))
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", test_acc=f"{history['test_acc'][-1]:.3f}")
    return params, states, history


start = time.perf_counter()
cnn_params, cnn_states, cnn_history = train_cnn()
cnn_seconds = time.perf_counter() - start
cnn_test_accuracy = accuracy(cnn_params, cnn_states, X_test, y_test)
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
# ## 12. What the network learned
#
# **Filters and feature maps.** The first layer's 32 filters are $3 \times 3$ images, and each
# turns a digit into a feature map. Below: the filters (red positive, blue negative), then one
# test digit and what eight of the filters make of it after batch norm and ReLU — your own
# layers, run with the trained weights.

# %%
def first_layer_maps(params, states, x):
    """Feature maps of the first conv - batch norm - ReLU block (eval mode), shape (N, 32, 8, 8)."""
    h, _ = conv2d_forward(x, params["W1"], params["b1"], padding=1)
    h, _ = spatial_batchnorm_forward(h, params["gamma1"], params["beta1"], states["bn1"], train=False)
    return np.maximum(h, 0.0)


filters = cnn_params["W1"][:, 0]                                    # (32, 3, 3)
fig, axes = plt.subplots(2, 16, figsize=(12, 1.8))
for ax, kernel in zip(axes.ravel(), filters, strict=True):
    limit = np.abs(kernel).max()
    ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set(xticks=[], yticks=[])
fig.suptitle("the 32 learned 3×3 filters of the first layer")
plt.show()

maps = first_layer_maps(cnn_params, cnn_states, X_test[:1])[0]     # (32, 8, 8)
strongest = np.argsort(maps.sum(axis=(1, 2)))[::-1][:8]            # the 8 most active filters
fig, axes = plt.subplots(2, 9, figsize=(12, 3))
axes[0, 0].imshow(X_test[0, 0], cmap="gray_r")
axes[0, 0].set_title(f"digit {y_test[0]}", fontsize=9)
axes[1, 0].axis("off")
for k, f in enumerate(strongest, start=1):
    limit = np.abs(filters[f]).max()
    axes[0, k].imshow(filters[f], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[0, k].set_title(f"filter {f}", fontsize=9)
    axes[1, k].imshow(maps[f], cmap="magma")
for ax in axes.ravel():
    ax.set(xticks=[], yticks=[])
axes[1, 1].set_ylabel("feature map")
plt.show()

# %% [markdown]
# Many filters are small edge detectors — positive on one side, negative on the other — and
# their maps light up along the strokes of one orientation: the same pictures as the
# handcrafted kernels in the convolution explorer, found by gradient descent.
#
# **Translation equivariance.** A convolution uses the same weights at every position, so
# shifting the input shifts the output by the same amount: $\text{conv}(\text{shift}(x)) =
# \text{shift}(\text{conv}(x))$, exactly, as long as nothing crosses the border. Check it on a
# digit placed in a larger empty canvas, with the trained first layer:

# %%
canvas = np.zeros((1, 1, 16, 16))
canvas[0, 0, 3:11, 3:11] = X_test[0, 0]
shifted = np.roll(canvas, (2, 3), axis=(2, 3))                     # 2 down, 3 right: still inside
maps_of_shifted = first_layer_maps(cnn_params, cnn_states, shifted)
shifted_maps = np.roll(first_layer_maps(cnn_params, cnn_states, canvas), (2, 3), axis=(2, 3))
print(f"conv(shift(x)) vs shift(conv(x)): largest difference {np.abs(maps_of_shifted - shifted_maps).max():.1e}")

# %% [markdown]
# Equal up to rounding. Max pooling then makes the features *approximately* invariant: a
# shift by one pixel usually keeps each window's maximum inside the same $2 \times 2$ window.
# The whole network is not exactly invariant, though — the digit is only $8 \times 8$, pooling
# twice leaves $2 \times 2$ positions, and the dense layer at the end knows where things are.
# How much does the test accuracy suffer when every test digit is shifted?

# %%
def shift_images(x, dy, dx):
    """Shift images by dy rows and dx columns (zeros come in, pixels leave at the border)."""
    height, width = x.shape[-2:]
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    return padded[:, :, 2 - dy:2 - dy + height, 2 - dx:2 - dx + width]


shifts = np.arange(-2, 3)
shift_accuracy = np.array([[accuracy(cnn_params, cnn_states, shift_images(X_test, dy, dx), y_test)
                            for dx in shifts] for dy in shifts])
fig, ax = plt.subplots(figsize=(4.2, 3.6))
image = ax.imshow(shift_accuracy, cmap="viridis", vmin=0.5, vmax=1.0)
for (i, j), value in np.ndenumerate(shift_accuracy):
    ax.text(j, i, f"{100 * value:.1f}", ha="center", va="center", fontsize=7, color="w" if value < 0.8 else "k")
ax.set(xticks=range(5), xticklabels=shifts, yticks=range(5), yticklabels=shifts,
       xlabel="shift right (pixels)", ylabel="shift down (pixels)", title="test accuracy (%) of shifted digits")
fig.colorbar(image)
plt.show()

# %% [markdown]
# Shifts of one pixel, which the augmentation showed the network, cost little; two pixels —
# a quarter of the image — cost much more. Invariance to larger shifts has to be learned from
# data (or built in further, e.g. with global average pooling, section 6).
#
# **Concept check 6.** Why does a $2 \times 2$ max pooling layer after a convolution make the
# features approximately invariant to small translations of the input?
#
# - `"a"`: because max pooling averages the shift away;
# - `"b"`: because a shift by a pixel usually keeps each window's largest value inside the same pooling window, so most pooled values do not change;
# - `"c"`: because the convolution before it is itself translation invariant;
# - `"d"`: because pooling makes the network exactly invariant to every translation.
#
# Which is it? Set `q6_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q6_pooling_invariance"
# q6_answer = ...
### BEGIN SOLUTION
q6_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q6_pooling_invariance" points=1
assert_that("q6_answer" in globals(), "q6_answer is not set yet: run its cell after answering")
assert_choice(q6_answer, ["a", "b", "c", "d"], name="q6_answer")
### BEGIN HIDDEN TESTS
assert_answer(q6_answer, "b", name="q6_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** A convolution layer *shares* its weights: the same filter is
# used at every position. Why is that the right prior for images — what does it assume about
# them, and what does it buy (think of parameters and of the data needed)? Name one kind of
# image where the assumption is weaker. Answer in two to four sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_weight_sharing" points=2
# *Model answer.* Weight sharing assumes that the local patterns that matter (edges, corners,
# strokes, textures) look the same and mean the same wherever they appear, so a detector
# learned at one position is useful at every other one. It makes the layer translation
# equivariant and cuts the parameters from one set per position to one per filter, so far
# less data is needed: every position of every training image is a training example for the
# same filter. The assumption is weaker for aligned images where position carries meaning —
# e.g. centred faces or medical scans in a fixed pose — where locally connected layers or
# position information help.

# %% [markdown]
# **Saliency maps.** Which pixels does the network look at? One simple answer is the gradient
# of the score of the correct class with respect to the input image,
# $\partial s_{y} / \partial x$: pixels where a small change moves the score a lot. It is the
# backward pass you already have, started from $d\text{scores}$ = 1 for the correct class and
# 0 elsewhere instead of the gradient of the loss. Red pixels raise the score when they get
# darker, blue ones lower it.

# %%
saliency_digits = X_test[:6]
scores, caches = cnn_forward(cnn_params, cnn_states, saliency_digits, train=False)
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
# them, where ink added or removed would turn the digit into another one. Smoothing such maps
# (averaging the gradients of many noisy copies of the image) and multiplying them by the
# input are the first steps of most visualization methods.
#
# ## 13. A 1-D CNN on MNIST-1D
#
# Convolutions are not only for images. **MNIST-1D** (Greydanus, 2020) turns each digit into a
# 1-D signal of length 40: a template of the digit's shape, padded, shifted, scaled, sheared
# and noised at random, so that where a pattern sits carries no information. It is small
# enough for a CPU and hard enough to tell models apart; its authors report these test
# accuracies: logistic regression 32 %, an MLP 68 %, a CNN 94 %. The `mnist1d` package
# generates the standard dataset (4000 training and 1000 test signals) offline.
#
# A 1-D convolution is a 2-D one on images of height 1: a signal batch $(N, C, L)$ becomes
# $(N, C, 1, L)$ and a kernel $(F, C, K)$ becomes $(F, C, 1, K)$. Padding must only be added
# along the length, so `conv1d_forward` pads itself and calls your `conv2d_forward` with
# padding 0. The network follows the published one: three convolutions of 32 channels with
# stride 2 (kernel sizes 5, 3, 3), ReLU, and an affine layer on the flattened $32 \times 5$
# features.

# %%
from mnist1d.data import get_dataset_args, make_dataset

mnist1d = make_dataset(get_dataset_args())                         # generated offline, seed 42
m1_train, m1_test = mnist1d["x"][:, None, None, :], mnist1d["x_test"][:, None, None, :]    # (N, 1, 1, 40)
m1_y_train, m1_y_test = mnist1d["y"], mnist1d["y_test"]

fig, axes = plt.subplots(1, 5, figsize=(12, 2), sharey=True)
for digit, ax in enumerate(axes):
    for k in np.flatnonzero(m1_y_train == digit)[:3]:
        ax.plot(m1_train[k, 0, 0], lw=1)
    ax.set(title=f"digit {digit}", xlabel="position")
plt.show()


def conv1d_forward(x, w, b, stride, padding):
    """1-D convolution of x (N, C, 1, L) with w (F, C, 1, K): padding along L only."""
    xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (padding, padding)))
    out, cache = conv2d_forward(xp, w, b, stride=stride)
    return out, (cache, padding)


def conv1d_backward(dout, cache):
    conv_cache, padding = cache
    dxp, dw, db = conv2d_backward(dout, conv_cache)
    return dxp[..., padding:dxp.shape[-1] - padding], dw, db


M1_LAYERS = [(5, 2, 1), (3, 2, 1), (3, 2, 1)]                      # (kernel, stride, padding) per conv


def init_cnn1d(rng, channels=32, classes=10):
    params, c_in = {}, 1
    for i, (k, _, _) in enumerate(M1_LAYERS, start=1):
        params[f"W{i}"] = rng.normal(0.0, np.sqrt(2.0 / (c_in * k)), size=(channels, c_in, 1, k))
        params[f"b{i}"] = np.zeros(channels)
        c_in = channels
    params["W4"] = rng.normal(0.0, np.sqrt(1.0 / (5 * channels)), size=(5 * channels, classes))
    params["b4"] = np.zeros(classes)
    return params


def cnn1d_forward(params, x):
    h, caches = x, []
    for i, (_, stride, padding) in enumerate(M1_LAYERS, start=1):
        h, conv = conv1d_forward(h, params[f"W{i}"], params[f"b{i}"], stride, padding)
        h, relu = relu_forward(h)
        caches.append((conv, relu))
    scores, fc = affine_forward(h.reshape(len(x), -1), params["W4"], params["b4"])
    return scores, (caches, fc, h.shape)


def cnn1d_backward(dscores, cache):
    caches, fc, shape = cache
    grads = {}
    dh, grads["W4"], grads["b4"] = affine_backward(dscores, fc)
    dh = dh.reshape(shape)
    for i in range(len(M1_LAYERS), 0, -1):
        conv, relu = caches[i - 1]
        dh, grads[f"W{i}"], grads[f"b{i}"] = conv1d_backward(relu_backward(dh, relu), conv)
    return grads


def shift_signals(x, rng, max_shift):
    """Augmentation: shift every signal by up to max_shift positions (edge values repeated)."""
    length, m = x.shape[-1], max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (0, 0), (m, m)), mode="edge")
    offsets = rng.integers(0, 2 * m + 1, size=len(x))
    return np.stack([padded[n, ..., o:o + length] for n, o in enumerate(offsets)])


def train_cnn1d(steps=4000, lr=1e-2, weight_decay=1e-3, max_shift=0, seed=0):
    """Adam (batch 100, cosine schedule); returns the parameters and the test accuracy every 250 steps."""
    rng = np.random.default_rng(seed)
    params = init_cnn1d(rng)
    optimizer = Adam(params, lr=lr, weight_decay=weight_decay)
    curve, step = [], 0
    with tqdm(total=steps, desc=f"1-D CNN, shifts up to {max_shift}", unit="step") as bar:
        while step < steps:
            for xb, yb in minibatches(m1_train, m1_y_train, 100, rng=rng):
                if max_shift:
                    xb = shift_signals(xb, rng, max_shift)
                scores, cache = cnn1d_forward(params, xb)
                loss, dscores = softmax_cross_entropy_loss(scores, yb)
                optimizer.lr = cosine_lr(step, lr, steps)
                optimizer.step(cnn1d_backward(dscores, cache))
                step += 1
                bar.update()
                if step % 250 == 0:
                    curve.append(float(np.mean(cnn1d_forward(params, m1_test)[0].argmax(axis=1) == m1_y_test)))
                    bar.set_postfix(loss=f"{loss:.3f}", test_acc=f"{curve[-1]:.3f}")
                if step == steps:
                    break
    return params, curve


start = time.perf_counter()
m1_plain, m1_plain_curve = train_cnn1d(max_shift=0)
m1_shifted, m1_shifted_curve = train_cnn1d(max_shift=4)
m1_seconds = time.perf_counter() - start

# %% [markdown]
# The network overfits quickly — its training loss goes to nearly zero — so the second run
# shows it every signal shifted by up to 4 positions at random (the same augmentation idea as
# for the digits). A logistic regression trained here gives the baseline on the same split:

# %%
from sklearn.linear_model import LogisticRegression

logistic = LogisticRegression(max_iter=2000).fit(mnist1d["x"], m1_y_train)
m1_results = {
    "logistic regression (here)": logistic.score(mnist1d["x_test"], m1_y_test),
    "1-D CNN (here)": m1_plain_curve[-1],
    "1-D CNN, shifted signals (here)": m1_shifted_curve[-1],
}
published = {"logistic regression": 0.32, "MLP": 0.68, "CNN": 0.94}
for name, value in m1_results.items():
    print(f"{name:34s} {value:6.1%}")
print("published:", ", ".join(f"{name} {value:.0%}" for name, value in published.items()))
print(f"(both CNNs trained in {m1_seconds:.0f} s)")

fig, ax = plt.subplots(figsize=(7, 3.5))
steps_axis = 250 * np.arange(1, len(m1_plain_curve) + 1)
ax.plot(steps_axis, m1_plain_curve, label="1-D CNN")
ax.plot(steps_axis, m1_shifted_curve, label="1-D CNN, shifted signals")
for (name, value), color in zip(published.items(), ["C2", "C3", "C4"], strict=True):
    ax.axhline(value, ls="--", color=color, lw=1, label=f"published {name}")
ax.set(xlabel="training step", ylabel="test accuracy", ylim=(0.2, 1.0), title="MNIST-1D")
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown]
# A linear model gets about a third of the signals right and an MLP two thirds; a small CNN
# with about 8000 weights does far better: the pattern that identifies a digit can sit
# anywhere in the signal, and a convolution looks for it everywhere with the same weights.
# Showing it shifted examples pushes it further still — past the published CNN figure, which
# was trained without augmentation.
