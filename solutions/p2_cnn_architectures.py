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
# # CNN architectures in PyTorch
#
# Chapter 06 built a convolutional network from numpy loops. The networks that won ImageNet
# between 2014 and 2016 are made of the same layers, arranged in a few ideas that are still
# everywhere: **stack small convolutions** (VGG), **run several filter sizes side by side**
# (Inception), **add a shortcut around every pair of layers** (ResNet), and for dense
# predictions **go down and come back up, with skip connections** (U-Net). In this notebook you
# write each of them as a PyTorch module, then train a ResNet on CIFAR-10, reuse it for
# another task and make it fast.
#
# **What you will build** (every image batch in the layout **NCHW**: batch, channels, height, width):
#
# | # | what | idea |
# |---|---|---|
# | 1 | `conv_bn_relu`, `vgg_block` | convolution, batch norm, ReLU: the brick of every modern CNN |
# | 2 | `ResidualBlock` | $y = \text{ReLU}(F(x) + \text{shortcut}(x))$, identity or $1 \times 1$ projection |
# | 3 | `InceptionBlock` | four branches in parallel, concatenated along the channels |
# | 4 | `center_crop`, `UNetUp` | the U-Net's way up: upsample, crop the skip, concatenate |
# | 5 | `random_crop_flip` | data augmentation on a batch of tensors, seeded |
# | 6 | `train_one_epoch`, `evaluate` | the training loop, with the train and eval modes right |
#
# Then, nothing to write: a ResNet trained on CIFAR-10 with learning curves, a checkpoint saved
# and resumed, transfer of the trained backbone to Fashion-MNIST, and the throughput tricks
# (`channels_last`, bf16 autocast, `torch.compile`) measured.
#
# **You need**: chapter 06 (convolution, pooling, batch norm) and the PyTorch basics notebook
# (`nn.Module`, autograd, `DataLoader`, the training loop).
#
# **Time**: about 3 hours. On a laptop CPU the notebook runs in its small configuration (a
# narrow ResNet, a thousand images, a minute); on a GPU in its full one (the whole of CIFAR-10).
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete
# the `raise NotImplementedError()` line). Run the test cell after each exercise: silence
# means the visible checks pass; a failure says what is wrong. The grader runs more (hidden)
# checks, in float64 on the CPU, against references built from `torch.nn.functional` with
# your own weights: other channel counts, strides, odd and non-square image sizes. Keep the
# attribute names the docstrings give: the tests look for them.

# %%
import copy
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)
from torchvision.transforms import v2
from tqdm.auto import tqdm

from helpers.data import load_images
from helpers.runtime import (
    autocast,
    load_checkpoint,
    pick_device,
    pick_size,
    save_checkpoint,
    seed_everything,
)
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

plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% tags=["parameters"]
SIZE = "auto"  # "small": the CPU configuration (the graders use it); "full": the GPU one

# %%
device = pick_device()
SIZE = pick_size(SIZE, device)
CONFIGS = {
    # CIFAR-10 images, ResNet width, epochs, batch size, peak learning rate, augmentation on or
    # off; the transfer task; the throughput measurement (batch size, timed windows of steps)
    "small": dict(n_train=2000, n_test=500, width=8, epochs=6, batch_size=64, lr=0.2, augment=False,
                  transfer_n=200, transfer_epochs=4, bench_batch=64, bench_steps=3, bench_windows=3),
    "full": dict(n_train=50_000, n_test=10_000, width=64, epochs=14, batch_size=512, lr=0.4, augment=True,
                 transfer_n=1000, transfer_epochs=12, bench_batch=512, bench_steps=20, bench_windows=5),
}
cfg = CONFIGS[SIZE]
print(f"device {device}, configuration {SIZE!r}: {cfg}")


def count_params(module):
    """The number of parameters of a module (used by the tests)."""
    return sum(p.numel() for p in module.parameters())


def set_weights(module, seed=0):
    """Give every parameter and batch-norm statistic a seeded random value, in float64 (used by
    the tests, so that results do not depend on the order in which you create the layers)."""
    generator = torch.Generator().manual_seed(seed)
    module.double()
    with torch.no_grad():
        for name, tensor in sorted([*module.named_parameters(), *module.named_buffers()], key=lambda item: item[0]):
            if tensor.dtype.is_floating_point:
                values = torch.randn(tensor.shape, generator=generator, dtype=torch.float64)
                tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)
    return module


def module_output(module, *inputs):
    """module(*inputs) as a float64 numpy array, checking that the inputs are left unchanged (used by the tests)."""
    copies = [x.clone() for x in inputs]
    out = module(*inputs)
    for k, (x, before) in enumerate(zip(inputs, copies, strict=True)):
        assert_that(torch.equal(x, before), f"{type(module).__name__} changed its input #{k} in place: "
                    "compute new tensors (no x += ..., no in-place ReLU on the block's input)")
    assert_that(isinstance(out, torch.Tensor), f"{type(module).__name__} returned {type(out).__name__}, not a tensor")
    return out.detach().numpy()


# %% [markdown]
# ## 1. The brick: convolution, batch norm, ReLU
#
# Since 2015 nearly every convolution in a CNN is followed by **batch normalization** (chapter
# 05: normalize each channel over the batch and the positions, then scale by $\gamma$ and shift
# by $\beta$) and a ReLU. The convolution then needs no bias: batch norm subtracts the channel's
# mean, bias included, and its $\beta$ plays the bias's role.
#
# **VGG** (Simonyan and Zisserman, 2014) showed that depth made of this one brick is enough:
# only $3 \times 3$ convolutions with padding 1, so the image size stays, a few of them in a
# row, then a $2 \times 2$ max pooling that halves the height and width. Two $3 \times 3$
# convolutions see a $5 \times 5$ window, three see $7 \times 7$, with fewer weights than one
# big filter ($2 \cdot 9 C^2$ vs $25 C^2$) and a ReLU in between.
#
# **Exercise.** Write `conv_bn_relu` (any odd kernel size, padding that keeps the size when the
# stride is 1) and `vgg_block`. Use `nn.Conv2d`, `nn.BatchNorm2d`, `nn.ReLU` and
# `nn.MaxPool2d` inside `nn.Sequential`.

# %% nbgrader="solution" grade_id="vgg"
def conv_bn_relu(c_in, c_out, kernel_size=3, stride=1):
    """Convolution (no bias, padding kernel_size // 2), batch norm, ReLU.

    Args:
        c_in, c_out: input and output channels.
        kernel_size: an odd int; stride: an int >= 1.

    Returns:
        nn.Sequential(conv, batch norm, ReLU), mapping (N, c_in, H, W) to (N, c_out, H', W') with
        H' = (H - 1) // stride + 1, and W' alike (H' = H for stride 1).
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )
    ### END SOLUTION


def vgg_block(c_in, c_out, n_convs=2):
    """n_convs conv_bn_relu layers with 3x3 kernels (the first c_in -> c_out, the others c_out -> c_out),
    then a 2x2 max pooling with stride 2.

    Returns:
        nn.Sequential mapping (N, c_in, H, W) to (N, c_out, H // 2, W // 2).
    """
    ### BEGIN SOLUTION
    layers = [conv_bn_relu(c_in if i == 0 else c_out, c_out) for i in range(n_convs)]
    return nn.Sequential(*layers, nn.MaxPool2d(2))
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_vgg" points=4
def _reference_cbr(block, x, stride=1):
    """conv -> batch norm (batch statistics) -> ReLU with the block's own weights, by torch.nn.functional."""
    (conv,) = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    (bn,) = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
    k = conv.weight.shape[-1]
    h = F.conv2d(x, conv.weight, None, stride=stride, padding=k // 2)
    return F.relu(F.batch_norm(h, None, None, bn.weight, bn.bias, training=True, eps=1e-5))


torch.manual_seed(0)
_x = torch.randn(2, 3, 6, 7, dtype=torch.float64)
_block = call(conv_bn_relu, 3, 8)
assert_that(isinstance(_block, nn.Module), f"conv_bn_relu must return an nn.Module, got {type(_block).__name__}")
assert_equal_int(count_params(_block), 3 * 8 * 9 + 2 * 8,
                 name="number of parameters of conv_bn_relu(3, 8) (3x3 conv without bias, then gamma and beta)")
set_weights(_block, seed=1)
_out = call(module_output, _block, _x)
assert_shape(_out, (2, 8, 6, 7), name="conv_bn_relu(3, 8) on x (2, 3, 6, 7)")
with torch.no_grad():
    assert_close(_out, _reference_cbr(_block, _x).numpy(), rtol=1e-10, atol=1e-10,
                 name="conv_bn_relu(3, 8) on x (2, 3, 6, 7) (conv, then batch norm, then ReLU)")
_block = call(vgg_block, 3, 4, 2)
assert_equal_int(count_params(_block), 3 * 4 * 9 + 8 + 4 * 4 * 9 + 8, name="number of parameters of vgg_block(3, 4, 2)")
set_weights(_block, seed=2)
_out = call(module_output, _block, _x)
assert_shape(_out, (2, 4, 3, 3), name="vgg_block(3, 4, 2) on x (2, 3, 6, 7)")
### BEGIN HIDDEN TESTS
for _c_in, _c_out, _k, _s, _shape in [(2, 5, 3, 2, (3, 2, 7, 4)), (4, 3, 1, 1, (1, 4, 5, 5)), (3, 2, 5, 1, (2, 3, 6, 9)),
                                      (1, 2, 3, 3, (2, 1, 8, 10))]:
    _x = torch.randn(_shape, dtype=torch.float64)
    _label = f"conv_bn_relu({_c_in}, {_c_out}, kernel_size={_k}, stride={_s}) on x {_shape}"
    _block = call(conv_bn_relu, _c_in, _c_out, _k, _s)
    assert_equal_int(count_params(_block), _c_in * _c_out * _k * _k + 2 * _c_out, name=f"parameters of {_label}")
    set_weights(_block, seed=3)
    _out = call(module_output, _block, _x)
    _expected = (_shape[0], _c_out, (_shape[2] - 1) // _s + 1, (_shape[3] - 1) // _s + 1)
    assert_shape(_out, _expected, name=_label)
    with torch.no_grad():
        assert_close(_out, _reference_cbr(_block, _x, _s).numpy(), rtol=1e-10, atol=1e-10, name=_label)
for _c_in, _c_out, _n, _shape in [(3, 4, 2, (2, 3, 6, 7)), (2, 3, 3, (1, 2, 9, 4)), (3, 5, 1, (2, 3, 4, 4))]:
    _x = torch.randn(_shape, dtype=torch.float64)
    _label = f"vgg_block({_c_in}, {_c_out}, {_n}) on x {_shape}"
    _block = call(vgg_block, _c_in, _c_out, _n)
    assert_equal_int(count_params(_block), _c_in * _c_out * 9 + (_n - 1) * _c_out * _c_out * 9 + 2 * _c_out * _n,
                     name=f"parameters of {_label}")
    set_weights(_block, seed=4)
    _out = call(module_output, _block, _x)
    assert_shape(_out, (_shape[0], _c_out, _shape[2] // 2, _shape[3] // 2), name=_label)
    _convs = [m for m in _block.modules() if isinstance(m, nn.Conv2d)]
    _bns = [m for m in _block.modules() if isinstance(m, nn.BatchNorm2d)]
    assert_equal_int(len(_convs), _n, name=f"number of convolutions in {_label}")
    with torch.no_grad():
        _h = _x
        for _conv, _bn in zip(_convs, _bns, strict=True):
            _h = F.relu(F.batch_norm(F.conv2d(_h, _conv.weight, padding=1), None, None, _bn.weight, _bn.bias,
                                     training=True))
        assert_close(_out, F.max_pool2d(_h, 2).numpy(), rtol=1e-10, atol=1e-10, name=f"{_label} (convs, then max pooling)")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. The residual block
#
# Stacking more VGG layers stops helping at about 20: deeper plain networks train *worse*, on
# the training set too. He et al. (2015) let every pair of layers learn a correction to its
# input instead of a whole new representation:
#
# $$y = \text{ReLU}\big(F(x) + \text{shortcut}(x)\big), \qquad
# F(x) = \text{BN}(\text{conv}_2(\text{ReLU}(\text{BN}(\text{conv}_1(x))))).$$
#
# When input and output have the same shape, the shortcut is the **identity**: the block can
# pass its input through unchanged by setting $F$ to zero, and in the backward pass the
# gradient reaches $x$ through the "+" without passing through any weight. When the block
# changes the number of channels, or halves the size with stride 2 in its first convolution,
# the shortcut must change the shape too: a **projection**, a $1 \times 1$ convolution with the
# same stride (no bias) followed by batch norm.
#
# **Exercise.** Write `ResidualBlock` (the "basic block" of ResNet-18 and ResNet-34) with
# the attribute names of the docstring.

# %% nbgrader="solution" grade_id="residual"
class ResidualBlock(nn.Module):
    """The basic residual block: ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)).

    Attributes (the tests use these names):
        conv1: 3x3 convolution c_in -> c_out, stride `stride`, padding 1, no bias; bn1: its batch norm.
        conv2: 3x3 convolution c_out -> c_out, stride 1, padding 1, no bias; bn2: its batch norm.
        shortcut: nn.Identity() when stride == 1 and c_in == c_out; otherwise
            nn.Sequential(1x1 convolution c_in -> c_out with stride `stride` and no bias, batch norm).

    forward maps (N, c_in, H, W) to (N, c_out, (H - 1) // stride + 1, (W - 1) // stride + 1).
    """

    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
        else:
            self.shortcut = nn.Identity()
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_residual" points=8
def _bn(h, bn):
    return F.batch_norm(h, None, None, bn.weight, bn.bias, training=True, eps=1e-5)


def _reference_residual(block, x, stride):
    """The basic block by torch.nn.functional, with the block's own weights."""
    h = F.relu(_bn(F.conv2d(x, block.conv1.weight, stride=stride, padding=1), block.bn1))
    h = _bn(F.conv2d(h, block.conv2.weight, padding=1), block.bn2)
    shortcut = [m for m in block.shortcut.modules() if isinstance(m, nn.Conv2d | nn.BatchNorm2d)]
    if shortcut:
        conv, bn = shortcut
        x = _bn(F.conv2d(x, conv.weight, stride=stride), bn)
    return F.relu(h + x)


def _check_residual(c_in, c_out, stride, shape, seed):
    label = f"ResidualBlock({c_in}, {c_out}, stride={stride}) on x {shape}"
    block = call(ResidualBlock, c_in, c_out, stride)
    for name in ["conv1", "bn1", "conv2", "bn2", "shortcut"]:
        assert_that(hasattr(block, name), f"ResidualBlock has no attribute {name!r}: keep the names of the docstring")
    projection = stride != 1 or c_in != c_out
    expected = 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out + (c_in * c_out + 2 * c_out) * projection
    assert_equal_int(count_params(block.shortcut), (c_in * c_out + 2 * c_out) * projection,
                     name=f"parameters of the shortcut of ResidualBlock({c_in}, {c_out}, stride={stride})"
                          + (" (a 1x1 convolution without bias and a batch norm)" if projection else " (the identity)"))
    assert_equal_int(count_params(block), expected, name=f"parameters of ResidualBlock({c_in}, {c_out}, stride={stride})")
    set_weights(block, seed)
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    out = call(module_output, block, x)
    assert_shape(out, (shape[0], c_out, (shape[2] - 1) // stride + 1, (shape[3] - 1) // stride + 1), name=label)
    with torch.no_grad():
        assert_close(out, _reference_residual(block, x, stride).numpy(), rtol=1e-10, atol=1e-10, name=label)


def _shortcut_gradient(c_in, c_out, stride):
    """Gradient of sum(block(x)) w.r.t. x when the residual branch is switched off (gamma2 = beta2 = 0)."""
    block = set_weights(call(ResidualBlock, c_in, c_out, stride), seed=5)
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
    x = torch.randn(2, c_in, 5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6), requires_grad=True)
    block(x).sum().backward()
    return x, x.grad


_check_residual(4, 4, 1, (2, 4, 5, 6), seed=10)
_check_residual(3, 6, 2, (2, 3, 7, 6), seed=11)
_x, _grad = _shortcut_gradient(3, 3, 1)
assert_close(_grad.numpy(), (_x > 0).double().numpy(), rtol=1e-12, atol=1e-12,
             name="d sum(ResidualBlock(3, 3)(x)) / dx with the residual branch switched off (bn2's gamma = beta = 0): "
                  "the gradient through the identity shortcut, 1 where x > 0")
### BEGIN HIDDEN TESTS
_check_residual(2, 5, 1, (3, 2, 4, 7), seed=12)
_check_residual(5, 5, 2, (1, 5, 8, 5), seed=13)
_check_residual(3, 3, 1, (2, 3, 1, 1), seed=14)
_check_residual(4, 2, 3, (2, 4, 9, 7), seed=15)
_x, _grad = _shortcut_gradient(2, 4, 2)
assert_that(float(_grad.abs().sum()) > 0,
            "ResidualBlock(2, 4, stride=2) with the residual branch switched off: no gradient reaches x (the shortcut is missing?)")
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The Inception block
#
# Which filter size is right, $1 \times 1$, $3 \times 3$ or $5 \times 5$? GoogLeNet (Szegedy
# et al., 2014) does not choose: its **Inception block** runs four branches on the same input
# and concatenates their outputs along the channels. The expensive branches first **reduce** the
# channels with a $1 \times 1$ convolution (chapter 06, concept check 5: a dense layer applied
# to every pixel), which cuts their cost several times over. Every branch keeps the height and
# width, so the outputs can be stacked.
#
# **Exercise.** Write `InceptionBlock` from your `conv_bn_relu`.

# %% nbgrader="solution" grade_id="inception"
class InceptionBlock(nn.Module):
    """Four branches on the same input, concatenated along the channels in this order.

    Attributes (the tests use these names), each an nn.Module:
        branch1: conv_bn_relu 1x1, c_in -> c1.
        branch3: conv_bn_relu 1x1, c_in -> c3_reduce, then conv_bn_relu 3x3, c3_reduce -> c3.
        branch5: conv_bn_relu 1x1, c_in -> c5_reduce, then conv_bn_relu 5x5, c5_reduce -> c5.
        branch_pool: 3x3 max pooling with stride 1 and padding 1, then conv_bn_relu 1x1, c_in -> c_pool.

    forward maps (N, c_in, H, W) to (N, c1 + c3 + c5 + c_pool, H, W).
    """

    def __init__(self, c_in, c1, c3_reduce, c3, c5_reduce, c5, c_pool):
        super().__init__()
        ### BEGIN SOLUTION
        self.branch1 = conv_bn_relu(c_in, c1, 1)
        self.branch3 = nn.Sequential(conv_bn_relu(c_in, c3_reduce, 1), conv_bn_relu(c3_reduce, c3, 3))
        self.branch5 = nn.Sequential(conv_bn_relu(c_in, c5_reduce, 1), conv_bn_relu(c5_reduce, c5, 5))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn_relu(c_in, c_pool, 1))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        branches = [self.branch1, self.branch3, self.branch5, self.branch_pool]
        return torch.cat([branch(x) for branch in branches], dim=1)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_inception" points=5
def _reference_branch(branch, x, pool=False):
    """conv_bn_relu layers in order (kernel sizes from the weights), after a 3x3 max pooling for the pool branch."""
    convs = [m for m in branch.modules() if isinstance(m, nn.Conv2d)]
    bns = [m for m in branch.modules() if isinstance(m, nn.BatchNorm2d)]
    h = F.max_pool2d(x, 3, stride=1, padding=1) if pool else x
    for conv, bn in zip(convs, bns, strict=True):
        h = F.relu(_bn(F.conv2d(h, conv.weight, padding=conv.weight.shape[-1] // 2), bn))
    return h


def _check_inception(args, shape, seed):
    c_in, c1, c3r, c3, c5r, c5, cp = args
    label = f"InceptionBlock{args} on x {shape}"
    block = call(InceptionBlock, *args)
    names = ["branch1", "branch3", "branch5", "branch_pool"]
    for name in names:
        assert_that(hasattr(block, name), f"InceptionBlock has no attribute {name!r}: keep the names of the docstring")
    expected = {"branch1": c_in * c1 + 2 * c1, "branch3": c_in * c3r + 2 * c3r + 9 * c3r * c3 + 2 * c3,
                "branch5": c_in * c5r + 2 * c5r + 25 * c5r * c5 + 2 * c5, "branch_pool": c_in * cp + 2 * cp}
    for name in names:
        assert_equal_int(count_params(getattr(block, name)), expected[name], name=f"parameters of {name} of {label}")
    set_weights(block, seed)
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    out = call(module_output, block, x)
    assert_shape(out, (shape[0], c1 + c3 + c5 + cp, shape[2], shape[3]), name=label)
    with torch.no_grad():
        parts = [_reference_branch(getattr(block, name), x, pool=name == "branch_pool") for name in names]
        assert_close(out, torch.cat(parts, dim=1).numpy(), rtol=1e-10, atol=1e-10,
                     name=f"{label} (branches 1, 3, 5, pool concatenated along the channels, in this order)")


_check_inception((3, 2, 2, 4, 1, 2, 2), (2, 3, 6, 5), seed=20)
### BEGIN HIDDEN TESTS
_check_inception((4, 3, 2, 5, 2, 3, 1), (3, 4, 7, 9), seed=21)
_check_inception((2, 1, 1, 1, 1, 1, 3), (1, 2, 4, 4), seed=22)
_check_inception((5, 2, 3, 2, 2, 4, 2), (2, 5, 3, 8), seed=23)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** A $5 \times 5$ convolution maps 192 channels to 32 on a $28 \times 28$
# feature map (stride 1, padding 2). The Inception block instead first reduces the 192
# channels to 16 with a $1 \times 1$ convolution, then applies the $5 \times 5$ convolution
# $16 \to 32$. How many times fewer multiply-adds does the Inception way need (ignore biases
# and batch norm)? Set `q1_answer` to that ratio (a number, three significant digits are enough).

# %% nbgrader="solution" grade_id="q1_inception_cost"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = (192 * 32 * 25) / (192 * 16 + 16 * 32 * 25)
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_inception_cost" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_scalar(q1_answer, name="q1_answer")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, 153600 / 15872, name="q1_answer", rtol=5e-3, atol=0.0)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The U-Net's way up
#
# A classifier ends with one vector per image; **segmentation** needs one label per pixel.
# The **U-Net** (Ronneberger et al., 2015) goes down like a classifier — convolutions and
# poolings, fewer pixels and more channels at each level — and comes back up the same number of
# levels. Each step up doubles the height and width with a **transposed convolution** (chapter
# 06, section 7: kernel 2, stride 2), then **concatenates** the feature map of the same level
# on the way down (the skip connection, which still knows where the edges were) and applies
# two conv_bn_relu layers.
#
# The two maps must have the same size to be concatenated. Pooling an odd size rounds down
# ($15 \to 7$), so coming back up gives $14$ where the skip has $15$: the skip is
# **centre-cropped** to the upsampled size (the original U-Net, with unpadded convolutions,
# crops at every level).
#
# **Exercise.** Write `center_crop` (when an odd number of rows must go, the extra one goes at
# the bottom, and the extra column at the right) and `UNetUp`.

# %% nbgrader="solution" grade_id="unet"
def center_crop(x, height, width):
    """The central height x width window of every image.

    Args:
        x: tensor of shape (N, C, H, W) with H >= height and W >= width.

    Returns:
        x[:, :, top:top + height, left:left + width] with top = (H - height) // 2 and
        left = (W - width) // 2.
    """
    ### BEGIN SOLUTION
    top, left = (x.shape[-2] - height) // 2, (x.shape[-1] - width) // 2
    return x[:, :, top:top + height, left:left + width]
    ### END SOLUTION


class UNetUp(nn.Module):
    """One step up in a U-Net.

    Attributes (the tests use these names):
        up: nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2) (with bias).
        conv: nn.Sequential(conv_bn_relu(c_out + c_skip, c_out), conv_bn_relu(c_out, c_out)).

    forward(x, skip): x (N, c_in, h, w) from the level below, skip (N, c_skip, H, W) from the way
    down, with H >= 2h and W >= 2w. Upsample x to (N, c_out, 2h, 2w), centre-crop skip to 2h x 2w,
    concatenate [cropped skip, upsampled x] along the channels (the skip first), apply conv.
    Returns (N, c_out, 2h, 2w).
    """

    def __init__(self, c_in, c_skip, c_out):
        super().__init__()
        ### BEGIN SOLUTION
        self.up = nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2)
        self.conv = nn.Sequential(conv_bn_relu(c_out + c_skip, c_out), conv_bn_relu(c_out, c_out))
        ### END SOLUTION

    def forward(self, x, skip):
        ### BEGIN SOLUTION
        up = self.up(x)
        skip = center_crop(skip, up.shape[-2], up.shape[-1])
        return self.conv(torch.cat([skip, up], dim=1))
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_unet" points=6
def _crop_output(x, height, width):
    return center_crop(x, height, width).numpy()


_x = torch.arange(2 * 1 * 5 * 6, dtype=torch.float64).reshape(2, 1, 5, 6)
_out = call(_crop_output, _x, 3, 2)
assert_shape(_out, (2, 1, 3, 2), name="center_crop(x (2, 1, 5, 6), height=3, width=2)")
assert_close(_out, _x[:, :, 1:4, 2:4].numpy(), rtol=0, atol=0,
             name="center_crop(x (2, 1, 5, 6), height=3, width=2) (rows 1:4 and columns 2:4)")


def _reference_up(block, x, skip):
    up = F.conv_transpose2d(x, block.up.weight, block.up.bias, stride=2)
    h, w = up.shape[-2:]
    top, left = (skip.shape[-2] - h) // 2, (skip.shape[-1] - w) // 2
    return _reference_branch(block.conv, torch.cat([skip[:, :, top:top + h, left:left + w], up], dim=1))


def _check_up(c_in, c_skip, c_out, x_shape, skip_hw, seed):
    label = f"UNetUp({c_in}, {c_skip}, {c_out}) on x {x_shape} and skip of {skip_hw[0]}x{skip_hw[1]}"
    block = call(UNetUp, c_in, c_skip, c_out)
    for name in ["up", "conv"]:
        assert_that(hasattr(block, name), f"UNetUp has no attribute {name!r}: keep the names of the docstring")
    assert_that(isinstance(block.up, nn.ConvTranspose2d), f"UNetUp.up must be an nn.ConvTranspose2d, got {type(block.up).__name__}")
    assert_equal_int(count_params(block), 4 * c_in * c_out + c_out + 9 * (c_out + c_skip) * c_out + 9 * c_out * c_out
                     + 4 * c_out, name=f"parameters of UNetUp({c_in}, {c_skip}, {c_out})")
    set_weights(block, seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(x_shape, dtype=torch.float64, generator=generator)
    skip = torch.randn((x_shape[0], c_skip, *skip_hw), dtype=torch.float64, generator=generator)
    out = call(module_output, block, x, skip)
    assert_shape(out, (x_shape[0], c_out, 2 * x_shape[2], 2 * x_shape[3]), name=label)
    with torch.no_grad():
        assert_close(out, _reference_up(block, x, skip).numpy(), rtol=1e-10, atol=1e-10,
                     name=f"{label} (upsample, crop the skip, concatenate [skip, up], two conv_bn_relu)")


_check_up(4, 2, 3, (2, 4, 3, 3), (7, 7), seed=30)
### BEGIN HIDDEN TESTS
for _args in [((4, 1, 7, 5), 4, 5), ((1, 3, 9, 8), 2, 3), ((2, 2, 4, 4), 4, 4)]:
    _x = torch.arange(np.prod(_args[0]), dtype=torch.float64).reshape(_args[0])
    _out = call(_crop_output, _x, _args[1], _args[2])
    _t, _l = (_args[0][2] - _args[1]) // 2, (_args[0][3] - _args[2]) // 2
    assert_close(_out, _x[:, :, _t:_t + _args[1], _l:_l + _args[2]].numpy(), rtol=0, atol=0,
                 name=f"center_crop(x {_args[0]}, height={_args[1]}, width={_args[2]})")
_check_up(3, 5, 2, (1, 3, 2, 4), (5, 9), seed=31)
_check_up(2, 2, 4, (2, 2, 3, 2), (6, 4), seed=32)
_check_up(5, 3, 3, (1, 5, 1, 3), (4, 7), seed=33)
### END HIDDEN TESTS

# %% [markdown]
# With your two pieces, a small U-Net: two levels down, two up, and a $1 \times 1$ convolution
# that gives two scores per pixel. Feed it an image of odd size and follow the shapes.

# %%
class TinyUNet(nn.Module):
    def __init__(self, c_in=3, classes=2, width=8):
        super().__init__()
        w = width
        self.down1 = nn.Sequential(conv_bn_relu(c_in, w), conv_bn_relu(w, w))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), conv_bn_relu(w, 2 * w), conv_bn_relu(2 * w, 2 * w))
        self.bottom = nn.Sequential(nn.MaxPool2d(2), conv_bn_relu(2 * w, 4 * w), conv_bn_relu(4 * w, 4 * w))
        self.up2 = UNetUp(4 * w, 2 * w, 2 * w)
        self.up1 = UNetUp(2 * w, w, w)
        self.head = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        s1 = self.down1(x)
        s2 = self.down2(s1)
        h = self.bottom(s2)
        self.shapes = {"input": x.shape, "down1": s1.shape, "down2": s2.shape, "bottom": h.shape}
        h = self.up2(h, s2)
        self.shapes["up2"] = h.shape
        h = self.up1(h, s1)
        self.shapes["up1"] = h.shape
        out = self.head(h)
        self.shapes["scores"] = out.shape
        return out


try:
    unet = TinyUNet()
    with torch.no_grad():
        unet_scores = unet(torch.randn(1, 3, 37, 45))
    for name, shape in unet.shapes.items():
        print(f"{name:7s} {tuple(shape)}")
    levels = {"input": 0, "down1": 0, "down2": 1, "bottom": 2, "up2": 1, "up1": 0, "scores": 0}
    fig, ax = plt.subplots(figsize=(8, 3))
    for k, (name, shape) in enumerate(unet.shapes.items()):
        ax.add_patch(plt.Rectangle((k - 0.35, -levels[name] - 0.3), 0.7, 0.6, color=f"C{levels[name]}", alpha=0.3))
        ax.text(k, -levels[name], f"{name}\n{shape[1]}×{shape[2]}×{shape[3]}", ha="center", va="center", fontsize=8)
    for a, b in [(1, 5), (2, 4)]:
        ax.annotate("", xy=(b - 0.35, -levels["down1" if a == 1 else "down2"]),
                    xytext=(a + 0.35, -levels["down1" if a == 1 else "down2"]),
                    arrowprops=dict(arrowstyle="->", color="gray", ls="--"))
    ax.set(xlim=(-0.6, 6.6), ylim=(-2.6, 0.6), xticks=[], yticks=[], title="TinyUNet: channels × height × width "
           "(dashed: skip connections)")
    plt.show()
except NotImplementedError:
    print("solve conv_bn_relu, center_crop and UNetUp first")

# %% [markdown]
# The $37 \times 45$ input comes out as $36 \times 44$ scores: pooling 37 rounds down to 18,
# and the crop in `up1` cuts a row and a column of the skip. Real U-Nets pad the input to a
# multiple of $2^\text{levels}$, or crop the labels to the output as the original paper did.
#
# ## 5. Data augmentation on tensors
#
# Chapter 04 augmented numpy images one at a time. On a GPU, augmentation must happen on the
# whole batch at once, on the device, or it becomes the bottleneck. The two augmentations that
# every CIFAR-10 recipe uses:
#
# - **random crop with padding**: pad each image with `padding` zeros on all four sides, then cut
#   out an $H \times W$ window at a random offset $(d_y, d_x)$, each uniform in $0, \dots, 2p$ —
#   the image moves by up to $p$ pixels in each direction;
# - **horizontal flip**: mirror each image left–right with probability 1/2 (a cat facing left is
#   still a cat; a vertical flip would give an upside-down cat, which the test set never shows).
#
# Every image draws its own offsets and its own coin. All randomness comes from the
# `torch.Generator` passed in: the same seed must give the same batch, and torch's global
# random state must stay untouched. Avoid a Python loop over the images if you can:
# advanced indexing with a row index per image and a column index per image does it in one go.

# %% nbgrader="solution" grade_id="augment"
def random_crop_flip(x, padding, generator):
    """Random crop with zero padding and random horizontal flip, each image independently.

    Args:
        x: float tensor of shape (N, C, H, W), on any device; left unchanged.
        padding: int >= 0, the largest shift in each direction.
        generator: a torch.Generator (on the CPU): the only source of randomness.

    Returns:
        tensor of x's shape, dtype and device: image n is the window of x[n] padded with zeros, at
        a uniformly random offset (dy, dx) in {0, ..., 2 padding}^2, mirrored left-right with
        probability 1/2.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    offsets = torch.randint(0, 2 * padding + 1, (N, 2), generator=generator)
    flips = torch.rand(N, generator=generator) < 0.5
    rows = offsets[:, :1] + torch.arange(H)                       # (N, H)
    cols = offsets[:, 1:] + torch.arange(W)                       # (N, W)
    cols = torch.where(flips[:, None], cols.flip(1), cols)
    rows, cols = rows.to(x.device), cols.to(x.device)
    images = torch.arange(N, device=x.device)[:, None, None]
    out = padded[images, :, rows[:, :, None], cols[:, None, :]]   # (N, H, W, C)
    return out.permute(0, 3, 1, 2)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_augment" points=7
def _augmented(x, padding, seed):
    """random_crop_flip(x, padding, a generator seeded with seed), as numpy; torch's global state must stay."""
    state = torch.random.get_rng_state()
    out = random_crop_flip(x, padding, torch.Generator().manual_seed(seed))
    assert_that(torch.equal(state, torch.random.get_rng_state()),
                "random_crop_flip drew from torch's global random state (torch.rand/randint without "
                "generator=...): draw every random number from the generator it is given")
    assert_that(isinstance(out, torch.Tensor), f"random_crop_flip must return a tensor, got {type(out).__name__}")
    assert_that(out.dtype == x.dtype, f"random_crop_flip(x of dtype {x.dtype}) returned dtype {out.dtype}: keep x's dtype")
    return out.numpy()


def _windows(x, padding):
    """For every image of x (a numpy array), all (dy, dx, flipped) -> window of the zero-padded image."""
    p, (H, W) = padding, x.shape[-2:]
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    return [{(dy, dx, flip): (w[..., ::-1] if flip else w) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
             for flip in (False, True) for w in [padded[n, :, dy:dy + H, dx:dx + W]]} for n in range(len(x))]


def _which_windows(x, out, padding, label):
    """The (dy, dx, flipped) of every output image; fails when an image is no such window."""
    found = []
    for n, windows in enumerate(_windows(x.numpy(), padding)):
        match = [key for key, w in windows.items() if np.array_equal(w, out[n])]
        assert_that(bool(match), f"{label}: image {n} is not a window of the zero-padded image at an offset in "
                    f"0..{2 * padding}, mirrored left-right or not (a vertical flip? reflection instead of zero "
                    "padding? the offset out of range?)")
        found.append(match[0])
    return found


_x = torch.randn(6, 3, 5, 7, generator=torch.Generator().manual_seed(40))
_x_copy = _x.clone()
_out = call(_augmented, _x, 2, 0)
assert_shape(_out, (6, 3, 5, 7), name="random_crop_flip(x (6, 3, 5, 7), padding=2)")
assert_that(torch.equal(_x, _x_copy), "random_crop_flip changed its input x in place")
_which_windows(_x, _out, 2, "random_crop_flip(x (6, 3, 5, 7), padding=2)")
assert_close(call(_augmented, _x, 2, 0), _out, rtol=0, atol=0,
             name="random_crop_flip(x, padding=2) twice with generators seeded alike", check_dtype=False)
_out = call(_augmented, _x, 0, 1)
assert_that(all(key[:2] == (0, 0) for key in _which_windows(_x, _out, 0, "random_crop_flip(x, padding=0)")),
            "random_crop_flip(x, padding=0) moved an image")
### BEGIN HIDDEN TESTS
_x = torch.randn(300, 1, 4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(41))
_x_copy = _x.clone()
_label = "random_crop_flip(x (300, 1, 4, 6) float64, padding=2)"
_out = call(_augmented, _x, 2, 7)
assert_that(torch.equal(_x, _x_copy), "random_crop_flip changed its input x in place")
_keys = _which_windows(_x, _out, 2, _label)
_dys, _dxs, _flips = (np.array([k[i] for k in _keys]) for i in range(3))
for _what, _values in [("row offset dy", _dys), ("column offset dx", _dxs)]:
    _counts = np.bincount(_values, minlength=5)
    assert_that(np.all(_counts >= 25) and len(_counts) == 5,
                f"{_label}: the {_what} of the 300 images was 0, 1, 2, 3, 4 this many times: {_counts.tolist()}; "
                "each should come about 60 times (every image its own uniform offset in 0..2 padding)")
assert_that(90 <= _flips.sum() <= 210, f"{_label}: {int(_flips.sum())} of 300 images flipped; about 150 expected "
            "(every image its own coin, probability 1/2)")
assert_that(not np.array_equal(call(_augmented, _x, 2, 8), _out),
            f"{_label}: two different seeds gave the same batch: is the generator ignored?")
_x = torch.randn(4, 2, 3, 3, generator=torch.Generator().manual_seed(42))
_out = call(_augmented, _x, 1, 3)
assert_shape(_out, (4, 2, 3, 3), name="random_crop_flip(x (4, 2, 3, 3), padding=1)")
_which_windows(_x, _out, 1, "random_crop_flip(x (4, 2, 3, 3), padding=1)")
_x = torch.randn(1, 3, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(43))
_which_windows(_x, call(_augmented, _x, 3, 4), 3, "random_crop_flip(x (1, 3, 2, 5), padding=3)")
### END HIDDEN TESTS

# %% [markdown]
# Eight CIFAR-10 images (or their offline stand-ins, see section 7) and four augmented copies
# of each:

# %%
cifar = load_images("cifar10", n_train=cfg["n_train"], n_test=cfg["n_test"])
print("CIFAR-10 source:", cifar.source)
try:
    sample = torch.tensor(cifar.X_train[:8]).permute(0, 3, 1, 2).float() / 255   # (8, 3, 32, 32)
    generator = torch.Generator().manual_seed(0)
    copies = [sample] + [random_crop_flip(sample, 4, generator) for _ in range(4)]
    fig, axes = plt.subplots(5, 8, figsize=(10, 6.5))
    for row, batch in enumerate(copies):
        for col in range(8):
            axes[row, col].imshow(batch[col].permute(1, 2, 0).numpy())
            axes[row, col].set(xticks=[], yticks=[])
        axes[row, 0].set_ylabel("original" if row == 0 else f"augmented {row}", fontsize=8)
    plt.show()
except NotImplementedError:
    print("solve random_crop_flip first")

# %% [markdown]
# torchvision has both augmentations as per-image transforms, `v2.RandomCrop(32, padding=4)` and
# `v2.RandomHorizontalFlip()`, meant for a `Dataset` whose samples a `DataLoader` collects on the
# CPU. The same work, one image at a time, against your function on the whole batch:

# %%
per_image = v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()])
demo_batch = torch.tensor(cifar.X_train[:256]).permute(0, 3, 1, 2).float() / 255
augment_seconds = {}
start = time.perf_counter()
torchvision_batch = torch.stack([per_image(image) for image in demo_batch])
augment_seconds["torchvision, one image at a time"] = time.perf_counter() - start
try:
    start = time.perf_counter()
    random_crop_flip(demo_batch, 4, torch.Generator().manual_seed(0))
    augment_seconds["random_crop_flip, the whole batch"] = time.perf_counter() - start
except NotImplementedError:
    print("solve random_crop_flip first")
for label, took in augment_seconds.items():
    print(f"{label:35s} {took * 1e3:7.1f} ms for {len(demo_batch)} images")

# %% [markdown]
# ## 6. The training loop, with the modes right
#
# Two things make a network behave differently in training and in evaluation: batch norm (batch
# statistics, and the running averages updated, in training; the running averages in
# evaluation) and dropout. `model.train()` and `model.eval()` switch every layer; forgetting
# them is the classic silent bug. Three more details of a good loop:
#
# - `optimizer.zero_grad()` before each `backward()`: PyTorch *adds* gradients into `.grad`;
# - a scheduler that changes the learning rate during training is stepped after every
#   optimizer step (here: once per batch);
# - evaluation under `torch.no_grad()`, which saves the memory and time of recording the graph;
# - no `.item()` on every batch: on a GPU it waits until the GPU has finished. Sum the losses
#   as tensors and convert once at the end.
#
# The forward pass goes inside `with autocast(device):` (bf16 on a GPU, nothing on the CPU;
# section 9). Losses are averaged over **samples**, not batches: the last batch may be smaller.
#
# **Exercise.** Write `train_one_epoch` and `evaluate`.

# %% nbgrader="solution" grade_id="train_eval"
def train_one_epoch(model, loader, optimizer, device, loss_fn=F.cross_entropy, scheduler=None, augment=None):
    """One pass over loader in training mode.

    Args:
        model: an nn.Module mapping images to class scores.
        loader: yields (x, y) batches; they are moved to `device`.
        optimizer: a torch.optim optimizer over model's parameters.
        device: a torch.device or a string.
        loss_fn: loss_fn(scores, y) -> the batch's mean loss.
        scheduler: None, or a learning-rate scheduler stepped after every optimizer step.
        augment: None, or a function applied to each x batch (on the device) before the model.

    Returns:
        float: the mean of loss_fn over the epoch's samples (each batch's loss weighted by its size).
    """
    ### BEGIN SOLUTION
    device = torch.device(device)
    model.train()
    total, count = torch.zeros((), dtype=torch.float64, device=device), 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if augment is not None:
            x = augment(x)
        with autocast(device):
            loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.detach().double() * len(y)
        count += len(y)
    return total.item() / count
    ### END SOLUTION


def evaluate(model, loader, device):
    """Mean cross-entropy and accuracy over loader, in evaluation mode, without recording gradients.

    Returns:
        (loss, accuracy): two floats, each averaged over the samples.
    """
    ### BEGIN SOLUTION
    device = torch.device(device)
    model.eval()
    total, correct, count = torch.zeros((), dtype=torch.float64, device=device), 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with autocast(device):
                scores = model(x)
            total += F.cross_entropy(scores.double(), y, reduction="sum")
            correct += (scores.argmax(dim=1) == y).sum()
            count += len(y)
    return total.item() / count, int(correct) / count
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_train_eval" points=7
class _GradProbe(nn.Module):
    """Records whether gradients were being recorded during each forward pass."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(torch.is_grad_enabled())
        return x


def _tiny_model(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3), _GradProbe()).double()
    return model


def _tiny_loader(n, batch_size, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, dtype=torch.float64, generator=generator)
    y = torch.randint(0, 3, (n,), generator=generator)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def _reference_epoch(model, loader, optimizer, scheduler=None, augment=None):
    model.train()
    losses, sizes = [], []
    for x, y in loader:
        x = augment(x) if augment is not None else x
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
        sizes.append(len(y))
    return float(np.dot(losses, sizes) / np.sum(sizes))


def _state(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _check_epoch(seed, n, batch_size, with_scheduler, augment):
    label = (f"train_one_epoch on {n} samples in batches of {batch_size}" + (", with a scheduler" if with_scheduler else "")
             + (", with augment" if augment else ""))
    model, loader = _tiny_model(seed), _tiny_loader(n, batch_size, seed)
    model.eval()  # train_one_epoch must switch to training mode itself
    reference = copy.deepcopy(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5) if with_scheduler else None
    ref_sched = torch.optim.lr_scheduler.StepLR(ref_opt, 1, gamma=0.5) if with_scheduler else None
    expected = _reference_epoch(reference, loader, ref_opt, ref_sched, augment)
    loss = call(train_one_epoch, model, loader, opt, "cpu", scheduler=sched, augment=augment)
    assert_scalar(loss, expected, rtol=1e-10, atol=1e-12,
                  name=f"{label}: the returned loss (the mean over samples, each batch weighted by its size)")
    got, want = _state(model), _state(reference)
    assert_close(got["1.running_mean"], want["1.running_mean"], rtol=1e-10, atol=1e-12,
                 name=f"{label}: batch norm's running mean afterwards (updated only in training mode: model.train())")
    for key in ["0.weight", "3.weight", "3.bias"]:
        assert_close(got[key], want[key], rtol=1e-8, atol=1e-10,
                     name=f"{label}: parameter {key} after the epoch (zero_grad, backward, step, scheduler.step per batch)")
    if with_scheduler:
        assert_equal_int(sched.last_epoch, len(loader), name=f"{label}: scheduler steps taken (one per batch)")


def _check_evaluate(seed, n, batch_size):
    label = f"evaluate on {n} samples in batches of {batch_size}"
    model, loader = _tiny_model(seed), _tiny_loader(n, batch_size, seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    _reference_epoch(model, loader, opt)       # running statistics away from their initial values
    model.train()                              # evaluate must switch to evaluation mode itself
    before = _state(model)
    x, y = loader.dataset.tensors
    model.eval()
    with torch.no_grad():
        scores = model(x)
    model.train()
    model[-1].seen.clear()
    result = call(evaluate, model, loader, "cpu")
    assert_that(isinstance(result, tuple | list) and len(result) == 2,
                f"evaluate must return (loss, accuracy), got {type(result).__name__}")
    assert_that(model[-1].seen and not any(model[-1].seen),
                f"{label}: the model ran with gradients recorded: wrap the loop in `with torch.no_grad():`")
    after = _state(model)
    assert_close(after["1.running_mean"], before["1.running_mean"], rtol=0, atol=0,
                 name=f"{label}: batch norm's running mean (evaluation must not change it: model.eval())")
    assert_scalar(result[0], F.cross_entropy(scores, y).item(), rtol=1e-10, atol=1e-12,
                  name=f"{label}: loss (cross-entropy in evaluation mode, averaged over samples)")
    assert_scalar(result[1], (scores.argmax(1) == y).double().mean().item(), rtol=1e-12, atol=1e-12,
                  name=f"{label}: accuracy (fraction of samples whose largest score is the label's)")


_check_epoch(seed=50, n=10, batch_size=4, with_scheduler=False, augment=None)
_check_evaluate(seed=51, n=10, batch_size=4)
### BEGIN HIDDEN TESTS
_check_epoch(seed=52, n=11, batch_size=3, with_scheduler=True, augment=None)
_check_epoch(seed=53, n=7, batch_size=7, with_scheduler=False, augment=lambda x: 2.0 * x)
_check_epoch(seed=54, n=8, batch_size=3, with_scheduler=True, augment=lambda x: x.flip(1))
_check_evaluate(seed=55, n=13, batch_size=5)
_check_evaluate(seed=56, n=4, batch_size=4)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. A ResNet on CIFAR-10
#
# **CIFAR-10**: 60 000 colour images of $32 \times 32$ pixels in ten classes (airplane,
# automobile, bird, cat, deer, dog, frog, horse, ship, truck), 50 000 for training and 10 000
# for testing. `helpers.data.load_images` downloads it once (170 MB, checksum verified) into
# the course's cache; without a network
# it says so and returns a **stand-in** of the same shapes built from scikit-learn's $8 \times 8$
# digits, so that everything below still runs (the accuracies are then those of digits, not of
# CIFAR-10).
#
# The network is a **ResNet-9** in the style of the DAWNBench winners (Page, 2018): your
# `conv_bn_relu`, three `vgg_block`s with one convolution each that halve the size
# ($32 \to 16 \to 8 \to 4$), two `ResidualBlock`s, a global max pooling and one linear layer.
# With width 64 it has 6.6 M parameters and reaches 94 % on the CIFAR-10 test set in a
# dozen epochs; the small configuration uses width 8 (0.1 M).

# %%
class ResNet9(nn.Module):
    """conv_bn_relu, then three stages halving the size, two with a residual block; max pool; linear."""

    def __init__(self, width=64, classes=10):
        super().__init__()
        w = width
        self.backbone = nn.Sequential(
            conv_bn_relu(3, w),                                          # 32 x 32
            vgg_block(w, 2 * w, n_convs=1), ResidualBlock(2 * w, 2 * w),  # 16 x 16
            vgg_block(2 * w, 4 * w, n_convs=1),                           # 8 x 8
            vgg_block(4 * w, 8 * w, n_convs=1), ResidualBlock(8 * w, 8 * w),  # 4 x 4
            nn.AdaptiveMaxPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(8 * w, classes, bias=False)

    def forward(self, x):
        return self.head(self.backbone(x)) * 0.125   # small initial scores: a calmer start


# %%
def to_tensors(images, labels, mean, std):
    """uint8 images (N, H, W, C) -> normalized float32 (N, C, H, W); labels -> int64."""
    x = torch.tensor(images, dtype=torch.float32).permute(0, 3, 1, 2) / 255
    x = (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    return x.contiguous(), torch.tensor(labels, dtype=torch.int64)


def batch_loader(x, y, batch_size, shuffle, seed=0):
    """A DataLoader that takes whole batches by indexing the tensors once (no per-image Python),
    from tensors already on the device; drops the last incomplete batch when shuffling."""
    dataset = TensorDataset(x, y)
    sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(sampler, batch_size, drop_last=shuffle), batch_size=None)


CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
x_train, y_train = to_tensors(cifar.X_train, cifar.y_train, CIFAR_MEAN, CIFAR_STD)
x_test, y_test = to_tensors(cifar.X_test, cifar.y_test, CIFAR_MEAN, CIFAR_STD)
x_train, y_train, x_test, y_test = (t.to(device) for t in (x_train, y_train, x_test, y_test))
train_loader = batch_loader(x_train, y_train, cfg["batch_size"], shuffle=True)
test_loader = batch_loader(x_test, y_test, cfg["batch_size"], shuffle=False)
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, {len(train_loader)} batches per epoch")

# %% [markdown]
# The recipe: SGD with Nesterov momentum and weight decay, a learning rate that rises linearly
# for the first quarter of the steps and falls linearly to zero (a "one-cycle" schedule),
# label smoothing 0.2 (the targets are 0.82 for the right class and 0.02 for each other: the
# network is not pushed to infinite confidence), and your augmentation with padding 4. On a
# GPU the model is stored **channels_last** and compiled (section 10 explains both). The
# progress bar shows the loss and test accuracy after every epoch.
#
# In the small configuration augmentation is off: the network sees each image only six times,
# and a regularizer that makes the task harder only pays in longer runs (and on the offline
# stand-in, made of digits, a mirrored 2 is no longer a 2).

# %%
def make_optimizer(params, lr, steps, weight_decay=5e-4):
    """SGD with Nesterov momentum and a linear warm-up / linear decay schedule stepped every batch.
    params: the parameters, or groups of them (dicts, each with its own "lr" if it likes)."""
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    warm = max(1, steps // 4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: float(np.interp(step, [0, warm, steps], [0.05, 1.0, 0.0])))
    return optimizer, scheduler


def prepare(model):
    """On a GPU: channels_last memory layout; the compiled model is returned next to the plain one."""
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
        return model, torch.compile(model)
    return model, model


def fit(model, run, train_loader, test_loader, epochs, lr, seed=0, label_smoothing=0.2, padding=4,
        augment=cfg["augment"], desc="training"):
    """Train `run` (the model, or its compiled version) with the recipe above; returns the history."""
    optimizer, scheduler = make_optimizer(model.parameters(), lr, epochs * len(train_loader))
    generator = torch.Generator().manual_seed(seed)
    history = {"train_loss": [], "test_loss": [], "test_acc": [], "seconds": []}
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    bar = tqdm(range(epochs), desc=desc, unit="epoch")
    for _ in bar:
        start = time.perf_counter()
        loss = train_one_epoch(run, train_loader, optimizer, device, loss_fn, scheduler,
                               augment=(lambda x: random_crop_flip(x, padding, generator)) if augment else None)
        if device.type == "cuda":
            torch.cuda.synchronize()
        history["seconds"].append(time.perf_counter() - start)
        test_loss, test_acc = evaluate(run, test_loader, device)
        history["train_loss"].append(loss)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        bar.set_postfix(loss=f"{loss:.3f}", test_acc=f"{test_acc:.3f}")
    return history, optimizer, scheduler


seed_everything(0)
resnet, resnet_run = prepare(ResNet9(cfg["width"]))
print(f"ResNet-9, width {cfg['width']}: {count_params(resnet):,} parameters")
history, optimizer, scheduler = fit(resnet, resnet_run, train_loader, test_loader, cfg["epochs"], cfg["lr"])
resnet_test_loss, resnet_test_acc = evaluate(resnet_run, test_loader, device)
train_seconds = sum(history["seconds"])
print(f"test accuracy {resnet_test_acc:.2%} after {cfg['epochs']} epochs; training took {train_seconds:.1f} s "
      f"({train_seconds - history['seconds'][0]:.1f} s without the first epoch, which includes compiling on a GPU)")

# %%
def evaluate_with_flips(model, loader):
    """Test-time augmentation: the average of the scores of each image and of its mirror image."""
    model.eval()
    correct, count = 0, 0
    with torch.no_grad(), autocast(device):
        for x, y in loader:
            scores = model(x).float().softmax(1) + model(x.flip(3)).float().softmax(1)
            correct += (scores.argmax(1) == y).sum().item()
            count += len(y)
    return correct / count


resnet_tta_acc = evaluate_with_flips(resnet_run, test_loader)
print(f"test accuracy with flip test-time augmentation: {resnet_tta_acc:.2%}")

epochs_axis = np.arange(1, cfg["epochs"] + 1)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
ax_loss.plot(epochs_axis, history["train_loss"], label="training (augmented, label smoothing)")
ax_loss.plot(epochs_axis, history["test_loss"], label="test")
ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Learning curves")
ax_loss.legend(fontsize=8)
ax_acc.plot(epochs_axis, history["test_acc"], color="C1", marker="o")
ax_acc.axhline(0.94, color="gray", ls="--", lw=1, label="94 %")
ax_acc.set(xlabel="epoch", ylabel="test accuracy",
           title="Test accuracy, " + ("CIFAR-10" if cifar.source == "real" else "offline stand-in"))
ax_acc.legend(fontsize=8)
plt.show()

# %% [markdown]
# The training loss sits above the test loss: it is measured on augmented images and with
# smoothed targets, which never let it reach zero. On the real CIFAR-10 with the full
# configuration the test accuracy passes 94 % in the last epochs (the learning rate's descent
# to zero does much of the work at the end); averaging the scores of each image and its mirror
# adds a few tenths of a percent for free.
#
# ## 8. Checkpoints: save, load, resume
#
# Training runs get interrupted. A **checkpoint** holds everything needed to carry on as if
# nothing had happened: the model's `state_dict` (weights *and* batch-norm statistics), the
# optimizer's (momentum buffers), the scheduler's and the step reached.
# `helpers.runtime.save_checkpoint` writes them with `torch.save`; `load_checkpoint` puts them
# back into a fresh model and optimizer. Below: save, load into a new model, check that it
# scores exactly the same, and train one more epoch from there with a small learning rate.

# %%
checkpoint_path = Path(tempfile.gettempdir()) / "dl-course" / "p2_resnet9.pt"
checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
save_checkpoint(checkpoint_path, model=resnet, optimizer=optimizer, step=cfg["epochs"] * len(train_loader),
                scheduler=scheduler.state_dict(), history=history)

restored = ResNet9(cfg["width"]).to(device)
restored_optimizer, restored_scheduler = make_optimizer(restored.parameters(), cfg["lr"], cfg["epochs"] * len(train_loader))
extra = load_checkpoint(checkpoint_path, model=restored, optimizer=restored_optimizer)
restored_scheduler.load_state_dict(extra["scheduler"])
restored_loss, restored_acc = evaluate(restored, test_loader, device)
print(f"checkpoint {checkpoint_path.name}: {checkpoint_path.stat().st_size / 1e6:.1f} MB, step {extra['step']}; "
      f"test accuracy of the restored model {restored_acc:.2%} (the trained one: {resnet_test_acc:.2%})")

for group in restored_optimizer.param_groups:                  # resume with a small constant learning rate
    group["lr"] = 0.01 * cfg["lr"]
generator = torch.Generator().manual_seed(1)
resumed_loss = train_one_epoch(restored, train_loader, restored_optimizer, device,
                               nn.CrossEntropyLoss(label_smoothing=0.2),
                               augment=(lambda x: random_crop_flip(x, 4, generator)) if cfg["augment"] else None)
resumed_acc = evaluate(restored, test_loader, device)[1]
print(f"one more epoch from the checkpoint: training loss {resumed_loss:.3f}, test accuracy {resumed_acc:.2%}")

# %% [markdown]
# **Concept check 2.** How many parameters has `ResidualBlock(64, 128, stride=2)` (with its
# projection shortcut)? Set `q2_answer` to that number (an integer).

# %% nbgrader="solution" grade_id="q2_block_params"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = 64 * 128 * 9 + 128 * 128 * 9 + 4 * 128 + 64 * 128 + 2 * 128
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_block_params" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_scalar(q2_answer, name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, 230144, name="q2_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** Why do the convolutions in `conv_bn_relu` and `ResidualBlock` have no bias?
#
# - `"a"`: biases make the training unstable with ReLU;
# - `"b"`: batch norm subtracts each channel's batch mean, which removes any constant the convolution adds, and its own β takes the bias's place;
# - `"c"`: to save memory on the GPU: biases are stored in float32;
# - `"d"`: a bias would break the translation equivariance of the convolution.
#
# Which is it? Set `q3_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q3_no_bias"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_no_bias" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_choice(q3_answer, ["a", "b", "c", "d"], name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, "b", name="q3_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Consider a deep stack of residual blocks
# $x_{l+1} = x_l + F_l(x_l)$ (identity shortcuts; ignore the final ReLU). Use the chain rule to
# write $\partial L / \partial x_l$ in terms of $\partial L / \partial x_{l+1}$, and explain why the
# gradient reaching the first blocks does not vanish even when every $\partial F_l / \partial x_l$
# is small. Why can the shortcut not be the identity when a block halves the size or changes
# the number of channels? Answer in three to five sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_shortcut" points=2
# *Model answer.* $\partial L / \partial x_l = \partial L / \partial x_{l+1}\,(I + \partial F_l /
# \partial x_l)$, so unrolled over the blocks the gradient at $x_l$ is the gradient at the top
# plus terms through the residual branches: the identity term carries the top gradient down
# unchanged, whatever the weights. In a plain network the gradient is a product of Jacobians,
# which shrinks geometrically when they are small; here it is a sum that always contains the
# direct path, so early blocks keep learning. The addition needs $x$ and $F(x)$ of the same
# shape: when the block changes the channels or the resolution, $x$ has to be mapped to the new
# shape, the cheapest learned way being a strided $1 \times 1$ convolution (with batch norm).

# %% [markdown]
# ## 9. Transfer: reuse the trained backbone
#
# Features learned on one data set help on another: edges, textures and parts are everywhere.
# Take the trained ResNet, cut off its head (the last linear layer), and use the backbone for
# **Fashion-MNIST** (clothes in $28 \times 28$ grey levels, padded to $32 \times 32$ and copied
# into three channels) with only a few hundred labelled images. Three ways:
#
# - **from scratch**: the same architecture, randomly initialized, trained on the few images;
# - **frozen backbone, new head**: `requires_grad_(False)` on the backbone, only the new linear
#   head learns. The backbone's batch norms must stay in evaluation mode too — `model.train()`
#   would otherwise update their statistics — hence the small `Frozen` wrapper;
# - **fine-tuning**: the whole network learns, starting from the trained weights, with a
#   smaller learning rate for the backbone than for the new head.

# %%
class Frozen(nn.Module):
    """A module whose parameters do not learn and whose batch norms stay in evaluation mode."""

    def __init__(self, module):
        super().__init__()
        self.module = module.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        self.module.eval()
        return self

    def forward(self, x):
        return self.module(x)


fashion = load_images("fashion_mnist", n_train=cfg["transfer_n"], n_test=cfg["n_test"])
print("Fashion-MNIST source:", fashion.source)


def grey_to_rgb(images):
    """uint8 (N, 28, 28) -> uint8 (N, 32, 32, 3): zero-padded by 2, the grey level in all three channels."""
    return np.repeat(np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None], 3, axis=-1)


fashion_train = grey_to_rgb(fashion.X_train)
fashion_mean = tuple(float(v) for v in fashion_train.reshape(-1, 3).mean(0) / 255)
fashion_std = tuple(float(v) for v in fashion_train.reshape(-1, 3).std(0) / 255)
fx_train, fy_train = (t.to(device) for t in to_tensors(fashion_train, fashion.y_train, fashion_mean, fashion_std))
fx_test, fy_test = (t.to(device) for t in to_tensors(grey_to_rgb(fashion.X_test), fashion.y_test, fashion_mean, fashion_std))
transfer_batch = min(cfg["batch_size"], 100)
fashion_train_loader = batch_loader(fx_train, fy_train, transfer_batch, shuffle=True, seed=1)
fashion_test_loader = batch_loader(fx_test, fy_test, cfg["batch_size"], shuffle=False)


def transfer_run(kind, epochs=cfg["transfer_epochs"], lr=0.1):
    """Train on the small Fashion-MNIST subset; kind: "scratch", "frozen" or "finetune"."""
    seed_everything(1)
    model = ResNet9(cfg["width"]).to(device)
    if kind != "scratch":
        model.backbone.load_state_dict(resnet.backbone.state_dict())
    if kind == "frozen":
        model.backbone = Frozen(model.backbone)
    if kind == "finetune":   # the backbone learns ten times slower than the new head
        params = [{"params": model.head.parameters()}, {"params": model.backbone.parameters(), "lr": lr / 10}]
    else:                    # (the frozen parameters get no gradient: SGD skips them)
        params = model.parameters()
    optimizer, scheduler = make_optimizer(params, lr, epochs * len(fashion_train_loader))
    curve = []
    generator = torch.Generator().manual_seed(2)
    for _ in tqdm(range(epochs), desc=f"transfer: {kind}", unit="epoch"):
        train_one_epoch(model, fashion_train_loader, optimizer, device, nn.CrossEntropyLoss(label_smoothing=0.1),
                        scheduler, augment=(lambda x: random_crop_flip(x, 2, generator)) if cfg["augment"] else None)
        curve.append(evaluate(model, fashion_test_loader, device)[1])
    return curve


transfer_curves = {kind: transfer_run(kind) for kind in ["scratch", "frozen", "finetune"]}
labels = {"scratch": "from scratch", "frozen": "frozen backbone, new head", "finetune": "fine-tuned"}
fig, ax = plt.subplots(figsize=(7, 3.5))
for kind, curve in transfer_curves.items():
    ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", label=f"{labels[kind]}: {curve[-1]:.1%}")
ax.set(xlabel="epoch", ylabel="test accuracy", title=f"Fashion-MNIST from {cfg['transfer_n']} labelled images")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# What to look for: with few labels, the pretrained runs pull ahead of the one from scratch,
# since their features are useful from the start. (In the small configuration offline, both data
# sets are digit stand-ins, so the backbone transfers very well: about 52 % frozen and 55 %
# fine-tuned against 24 % from scratch after four epochs on 200 images.) A frozen backbone
# trains only $8w \times 10$ weights — fast, and safe against overfitting — but cannot adapt
# its features to the new images; fine-tuning can, at the cost of training everything.
#
# **Written answer (2 points).** From your curves: when would you freeze the backbone and
# train only a new head, and when fine-tune the whole network? Think of how many labelled
# images you have and how similar the new images are to those the backbone learned from.
# Answer in two to four sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_transfer" points=2
# *Model answer.* With very few labels, or images close to the pretraining data, a frozen
# backbone with a new head is the safe choice: few parameters to fit, little overfitting, and
# cheap (the features can even be computed once). With more labels, or a domain that differs
# (grey clothes vs colour photos), fine-tuning pays: the features adapt to the new images, with
# a small learning rate for the backbone so that what it learned is not destroyed in the first
# steps. Training from scratch only wins when there is as much data as for pretraining.

# %% [markdown]
# ## 10. Making it fast
#
# On a GPU three switches, none of which changes the model, multiply the training throughput:
#
# - **`channels_last`**: store activations as (N, H, W, C) in memory (the shape stays NCHW).
#   The tensor cores' convolution kernels want the channels contiguous; otherwise every
#   convolution pays for transposes. `model.to(memory_format=torch.channels_last)`.
# - **bf16 autocast**: `torch.autocast("cuda", dtype=torch.bfloat16)` runs convolutions and
#   matrix products in bfloat16 (8 bits of mantissa, float32's range, so no loss scaling is
#   needed), at several times the float32 speed, while the weights, the optimizer and the
#   reductions stay in float32. `helpers.runtime.autocast(device)` does this on CUDA and nothing
#   on the CPU.
# - **`torch.compile`**: traces the model into a graph and generates fused kernels (batch norm,
#   ReLU and the addition of a residual block in one pass over memory instead of three). It
#   pays for long runs: compiling takes tens of seconds, once. On the CPU it helps little for
#   convolutions, so this notebook does not compile there.
#
# The measurement: images per second of a whole training step (forward, backward, SGD step) on
# a synthetic batch, the median of several timed windows after warm-up, for the plain float32
# model (TF32 off, so that "float32" means float32) and for the tuned one.

# %%
def training_throughput(model, batch_size, steps, windows, tuned):
    """Images per second of full training steps; tuned: channels_last + bf16 autocast + torch.compile (CUDA)."""
    model = copy.deepcopy(model).to(device).train()
    x = torch.randn(batch_size, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    if tuned and device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    run = torch.compile(model) if tuned and device.type == "cuda" else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True)

    def step():
        with autocast(device) if tuned else torch.autocast(device.type, enabled=False):
            loss = F.cross_entropy(run(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def timed_window():
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    timed_window()                                   # warm-up (and compilation)
    return batch_size * steps / statistics.median(timed_window() for _ in range(windows))


throughput = {}
if device.type == "cuda":
    torch.backends.cudnn.benchmark = True
    tf32 = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    throughput["float32, eager"] = training_throughput(ResNet9(cfg["width"]), cfg["bench_batch"], cfg["bench_steps"],
                                                       cfg["bench_windows"], tuned=False)
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = tf32
    throughput["channels_last + bf16 + compile"] = training_throughput(
        ResNet9(cfg["width"]), cfg["bench_batch"], cfg["bench_steps"], cfg["bench_windows"], tuned=True)
    print(f"GPU: {torch.cuda.get_device_name()}")
else:
    throughput["float32, eager"] = training_throughput(ResNet9(cfg["width"]), cfg["bench_batch"], cfg["bench_steps"],
                                                       cfg["bench_windows"], tuned=False)
    print("CPU: only the float32 eager figure. bf16 autocast and channels_last are GPU tricks, and torch.compile "
          "would spend far longer compiling than this notebook trains; run it on a GPU to see the ratio.")
for name, value in throughput.items():
    print(f"ResNet-9 width {cfg['width']}, batch {cfg['bench_batch']}, {name:32s} {value:10,.0f} images/s")
if len(throughput) == 2:
    values = list(throughput.values())
    print(f"tuned / float32 eager: {values[1] / values[0]:.1f}x")

fig, ax = plt.subplots(figsize=(6, 0.8 + 0.5 * len(throughput)))
ax.barh(list(throughput), list(throughput.values()), color=["C0", "C2"][: len(throughput)])
ax.set(xlabel="training images per second", title=f"ResNet-9 training throughput on {device.type}")
plt.show()

# %% [markdown]
# **Concept check 4.** What does `torch.autocast("cuda", dtype=torch.bfloat16)` do inside the
# training step?
#
# - `"a"`: it converts the model's weights to bfloat16 for good, halving their memory;
# - `"b"`: it runs operations such as convolutions and matrix products in bfloat16, while the weights, their gradients and the optimizer stay in float32;
# - `"c"`: it scales the loss so that small gradients do not underflow;
# - `"d"`: it compiles the model into fused GPU kernels.
#
# Which is it? Set `q4_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q4_autocast"
# q4_answer = ...
### BEGIN SOLUTION
q4_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q4_autocast" points=1
assert_that("q4_answer" in globals(), "q4_answer is not set yet: run its cell after answering")
assert_choice(q4_answer, ["a", "b", "c", "d"], name="q4_answer")
### BEGIN HIDDEN TESTS
assert_answer(q4_answer, "b", name="q4_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## What you have built
#
# The four ideas behind most image networks — stacks of small convolutions with batch norm,
# parallel branches, residual shortcuts and the U-shaped encoder–decoder with skips — as
# PyTorch modules, checked against `torch.nn.functional`; batched, seeded augmentation; a
# training loop with the modes right; a ResNet trained on CIFAR-10, checkpointed, resumed and
# transferred; and the three switches that make it fast on a GPU. The next notebooks use the
# same loop for sequence models and generative models.
