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
# # PyTorch basics
#
# In chapters 01–07 you wrote every forward and backward pass yourself in numpy. From here on,
# the larger networks are built in **PyTorch**, which gives you the same arrays (called
# *tensors*), computes every backward pass for you (*autograd*), runs on a GPU when there is
# one, and comes with the machinery of real training: modules, datasets, data loaders,
# optimizers, mixed precision and checkpoints. This notebook is the bridge: each new tool is
# checked against something you built in numpy.
#
# **What you will build**
#
# | # | exercise | idea |
# |---|---|---|
# | 1 | `pairwise_sq_dists` | broadcasting with tensors, no loops |
# | 2 | `autograd_mlp_grads` | a two-layer network's gradients by autograd, checked against your chapter-03 layers |
# | 3 | `MLP` | an `nn.Module` whose parameters PyTorch can find |
# | 4 | `ImageDataset` | a `Dataset` that turns uint8 images into float tensors |
# | 5 | `train_one_epoch`, `evaluate` | the training loop every later notebook uses |
#
# On the way: a classifier trained on Fashion-MNIST with a `DataLoader`, saved and resumed from a
# checkpoint, the GPU and mixed precision, three concept checks and a written answer.
#
# **You need**: chapters 02 and 03 (backpropagation, affine layers, softmax cross-entropy).
#
# **Time**: about 3 hours.
#
# **How this notebook is graded.** Write your code where it says `# YOUR CODE HERE` (delete the
# `raise NotImplementedError()` line), then run the test cell below it: silence means the
# visible checks pass, a failure says what is wrong. The grader runs more (hidden) checks on
# random shapes, on a CPU, in the **small** configuration. Do not rename the functions or change
# their arguments.
#
# **GPU or CPU.** The notebook finds a GPU by itself. On a GPU it runs the **full**
# configuration; on a CPU a **small** one that finishes in about a minute and shows every plot.
# To choose, set `SIZE` in the next cell but one to `"small"` or `"full"`.

# %%
import copy
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from dllib.ch02_backprop import numeric_grad, rel_error
from dllib.ch03_mlp import (
    affine_backward,
    affine_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy_loss,
)
from helpers.data import load_images
from helpers.runtime import (
    autocast,
    describe,
    load_checkpoint,
    pick_device,
    pick_size,
    progress,
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
    call_updating,
)

plt.rcParams["figure.figsize"] = (7.0, 3.5)

# %% tags=["parameters"]
SIZE = "auto"  # "small": the CPU configuration (the grader's); "full": the GPU one; "auto": full on a GPU

# %%
device = pick_device()
SIZE = pick_size(SIZE, device)
CONFIG = {
    "small": {"n_train": 6000, "n_test": 1000, "epochs": 8, "hidden": (128,), "batch": 128},
    "full": {"n_train": 60000, "n_test": 10000, "epochs": 15, "hidden": (512, 256), "batch": 256},
}[SIZE]
print(describe(device, SIZE))

# %% [markdown]
# ## 1. Tensors and broadcasting
#
# A `torch.Tensor` is a numpy array with two extras: it remembers how it was computed (for
# autograd) and it lives on a **device** (the CPU or a GPU). Most numpy functions have a
# namesake: `np.exp` ↔ `torch.exp`, `x.sum(axis=0)` ↔ `x.sum(dim=0)`, `x.T` works in both,
# `x.reshape`, indexing and slicing are the same. Three differences catch everyone once:
#
# - PyTorch's default float is **float32** (numpy's is float64): `torch.tensor([1.0])` is
#   float32. Neural networks train well in float32 and GPUs are much faster at it; the tests
#   of this notebook use float64 where they compare digits.
# - `torch.from_numpy(a)` **shares memory** with `a`: change one and the other changes.
#   `torch.tensor(a)` copies.
# - A tensor that needs a gradient must be **detached** before `.numpy()`:
#   `t.detach().numpy()`.
#
# **Broadcasting** follows numpy's rules exactly: shapes are aligned from the right, and a
# dimension of size 1 (or a missing one) is stretched to match. `x[:, None]` inserts a
# dimension of size 1.

# %%
a = np.arange(6.0).reshape(2, 3)
t = torch.from_numpy(a)
t[0, 0] = 100.0  # shared memory: a changes too
print("numpy array after changing the tensor:\n", a)
print("default dtypes:", torch.tensor([1.0]).dtype, "vs", np.array([1.0]).dtype)
col, row = torch.arange(3.0)[:, None], torch.arange(4.0)[None, :]
print("(3, 1) + (1, 4) broadcasts to", tuple((col + row).shape))

# %% [markdown]
# **Exercise 1 (4 points).** Compute the squared Euclidean distance between every row of `X`
# (shape $(N, D)$) and every row of `Y` (shape $(M, D)$):
#
# $$\text{out}_{ij} = \lVert x_i - y_j \rVert^2 = \sum_{d} (x_{id} - y_{jd})^2 .$$
#
# Use broadcasting, no Python loops. (Two ways work: `X[:, None, :] - Y[None, :, :]` has shape
# $(N, M, D)$; or expand the square, $\lVert x\rVert^2 - 2 x \cdot y + \lVert y\rVert^2$, with a
# matrix product — less memory, but check for tiny negative values.) This is the core of
# k-nearest neighbours, k-means and the kernels of the later chapters.

# %% nbgrader="solution" grade_id="pairwise"
def pairwise_sq_dists(X, Y):
    """Squared Euclidean distances between the rows of X and the rows of Y.

    Args:
        X: tensor of shape (N, D).
        Y: tensor of shape (M, D), the same dtype as X.

    Returns:
        tensor of shape (N, M) and the dtype of X: out[i, j] = ||X[i] - Y[j]||^2.
        X and Y stay unchanged.
    """
    ### BEGIN SOLUTION
    diff = X[:, None, :] - Y[None, :, :]
    return (diff**2).sum(dim=-1)
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_pairwise" points=4
_X = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
_Y = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
_out = call(pairwise_sq_dists, _X, _Y)
assert_shape(_out, (3, 2), name="pairwise_sq_dists(X (3, 2), Y (2, 2))")
assert_close(_out, [[0.0, 2.0], [5.0, 1.0], [25.0, 13.0]], name="pairwise_sq_dists(X (3, 2), Y (2, 2))")
### BEGIN HIDDEN TESTS
_gen = torch.Generator().manual_seed(101)
for _N, _M, _D in [(1, 1, 1), (5, 3, 4), (2, 7, 1), (6, 6, 10), (1, 4, 3), (4, 1, 2)]:
    _X = torch.randn(_N, _D, generator=_gen, dtype=torch.float64) * 3
    _Y = torch.randn(_M, _D, generator=_gen, dtype=torch.float64) + 1
    _out = call(pairwise_sq_dists, _X, _Y)
    assert_shape(_out, (_N, _M), name=f"pairwise_sq_dists(X ({_N}, {_D}), Y ({_M}, {_D}))")
    assert_close(_out, torch.cdist(_X, _Y) ** 2, rtol=1e-9, atol=1e-9,
                 name=f"pairwise_sq_dists(X ({_N}, {_D}), Y ({_M}, {_D})) against torch.cdist(X, Y)**2")
_X = torch.randn(4, 3, generator=_gen, dtype=torch.float64)
assert_close(call(pairwise_sq_dists, _X, _X).diagonal(), torch.zeros(4, dtype=torch.float64), atol=1e-9,
             name="pairwise_sq_dists(X, X): the diagonal (a point's distance to itself)")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 1.** `u` has shape $(5, 1, 3)$ and `v` has shape $(4, 1)$. What shape does
# `u + v` have? Set `q1_answer` to a tuple of integers, or to `None` if the shapes do not broadcast.

# %% nbgrader="solution" grade_id="q1_broadcast"
# q1_answer = ...
### BEGIN SOLUTION
q1_answer = (5, 4, 3)
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q1_broadcast" points=1
assert_that("q1_answer" in globals(), "q1_answer is not set yet: run its cell after answering")
assert_that(q1_answer is None or (isinstance(q1_answer, tuple) and all(isinstance(k, int) for k in q1_answer)),
            f"q1_answer must be a tuple of integers or None, got {q1_answer!r}")
### BEGIN HIDDEN TESTS
assert_answer(q1_answer, (5, 4, 3), name="q1_answer")
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Autograd
#
# Mark a tensor with `requires_grad=True` and PyTorch records every operation on it in a graph,
# like the one you built in chapter 02. `loss.backward()` walks that graph backwards and *adds*
# each gradient into the `.grad` of the leaves:

# %%
w = torch.tensor([2.0, -1.0], requires_grad=True)
x = torch.tensor([3.0, 4.0])
loss = torch.tanh(w @ x) ** 2
loss.backward()
print("autograd:", w.grad, " by hand:", (2 * torch.tanh(w @ x) * (1 - torch.tanh(w @ x) ** 2) * x))
loss = torch.tanh(w @ x) ** 2
loss.backward()  # a second backward ADDS to w.grad: zero it between steps
print("after a second backward, w.grad doubled:", w.grad)

# %% [markdown]
# Two tools switch the recording off: `with torch.no_grad():` for code that needs no
# gradients (evaluation, parameter updates), and `t.detach()`, a tensor with the same values
# cut off from the graph.
#
# **Exercise 2 (6 points).** Chapter 03's two-layer network, with autograd instead of your
# backward functions: for a batch `x` $(N, D)$, labels `y` $(N,)$ and numpy parameters `W1`
# $(D, H)$, `b1` $(H,)$, `W2` $(H, C)$, `b2` $(C,)$ (chapter 03's layout, `x @ W + b`),
#
# $$\text{scores} = \text{ReLU}(x W_1 + b_1)\, W_2 + b_2, \qquad
#   L = \frac{1}{N} \sum_n -\log \operatorname{softmax}(\text{scores}_n)_{y_n} .$$
#
# Turn the arrays into float64 tensors (those that need a gradient with `requires_grad=True`),
# compute $L$ with torch operations (`F.cross_entropy` computes the mean softmax cross-entropy,
# stably), call `backward`, and return the loss as a Python float and the four gradients as
# float64 numpy arrays. The test compares them with your chapter-03 layers.

# %% nbgrader="solution" grade_id="autograd_mlp"
def autograd_mlp_grads(x, y, params):
    """Loss and parameter gradients of a two-layer ReLU network, by autograd.

    Args:
        x: float64 numpy array of shape (N, D).
        y: int numpy array of shape (N,), classes 0 <= y[n] < C.
        params: dict of float64 numpy arrays "W1" (D, H), "b1" (H,), "W2" (H, C), "b2" (C,).

    Returns:
        loss: Python float, the mean softmax cross-entropy of scores = relu(x W1 + b1) W2 + b2.
        grads: dict with the same keys as params: float64 numpy arrays of the same shapes,
            dloss/dparam. x, y and params stay unchanged.
    """
    ### BEGIN SOLUTION
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.int64)
    hidden = torch.relu(xt @ leaves["W1"] + leaves["b1"])
    scores = hidden @ leaves["W2"] + leaves["b2"]
    loss = F.cross_entropy(scores, yt)
    loss.backward()
    return loss.item(), {k: t.grad.numpy() for k, t in leaves.items()}
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_autograd_mlp" points=6
def _layers_loss_and_grads(x, y, p):
    """The same network with chapter 03's layers (the dllib reference)."""
    h, c1 = affine_forward(x, p["W1"], p["b1"])
    a, c2 = relu_forward(h)
    s, c3 = affine_forward(a, p["W2"], p["b2"])
    loss, ds = softmax_cross_entropy_loss(s, y)
    da, dW2, db2 = affine_backward(ds, c3)
    dx, dW1, db1 = affine_backward(relu_backward(da, c2), c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def _check_autograd_mlp(N, D, H, C, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(N, D)), rng.integers(0, C, size=N)
    p = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H) * 0.1,
         "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C) * 0.1}
    result = call(autograd_mlp_grads, x, y, p)
    assert_that(isinstance(result, tuple) and len(result) == 2,
                f"autograd_mlp_grads must return (loss, grads), got {type(result).__name__}")
    loss, grads = result
    ref_loss, ref_grads = _layers_loss_and_grads(x, y, p)
    what = f"autograd_mlp_grads(N={N}, D={D}, H={H}, C={C})"
    assert_scalar(loss, ref_loss, rtol=1e-10, name=f"{what}: loss")
    assert_that(isinstance(grads, dict) and set(grads) == set(p),
                f"{what}: grads must be a dict with keys {sorted(p)}, got "
                + (f"keys {sorted(grads)}" if isinstance(grads, dict) else type(grads).__name__))
    for k in ("W2", "b2", "W1", "b1"):
        assert_close(grads[k], ref_grads[k], rtol=1e-8, atol=1e-10, name=f"{what}: grads[{k!r}]")


_check_autograd_mlp(4, 3, 5, 3, seed=0)
### BEGIN HIDDEN TESTS
for _case in [(1, 1, 1, 2), (7, 2, 6, 4), (3, 5, 2, 3), (10, 4, 8, 10)]:
    _check_autograd_mlp(*_case, seed=sum(_case))
### END HIDDEN TESTS

# %% [markdown]
# Autograd and your layers agree to about 15 digits. And chapter 02's numerical gradient agrees
# with both, to the precision central differences allow:

# %%
rng = np.random.default_rng(1)
x_check, y_check = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
p_check = {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(5), "W2": rng.normal(size=(5, 3)), "b2": np.zeros(3)}
_, auto = autograd_mlp_grads(x_check, y_check, p_check)
for name in p_check:
    numeric = numeric_grad(lambda value, name=name: autograd_mlp_grads(x_check, y_check, {**p_check, name: value})[0],
                           p_check[name].copy())
    print(f"{name}: relative error autograd vs numerical {rel_error(auto[name], numeric):.1e}")

# %% [markdown]
# ## 3. Modules
#
# Writing every parameter by hand does not scale. An `nn.Module` holds its parameters and its
# sub-modules, and PyTorch finds them all: `model.parameters()` is what an optimizer updates,
# `model.to(device)` moves them, `model.state_dict()` saves them. PyTorch finds exactly the
# attributes that are `nn.Parameter`s or `nn.Module`s — a sub-module hidden in a plain Python
# list is invisible (use `nn.ModuleList` or `nn.Sequential`). Note also that `nn.Linear(D, M)`
# stores its weight as $(M, D)$ and computes $x W^\top + b$: the transpose of chapter 03's layout.
#
# **Exercise 3 (6 points).** Write a multi-layer perceptron as a module. `sizes` lists the
# widths, input first: `MLP([784, 128, 10])` is Linear(784→128), activation, Linear(128→10).
# Every hidden layer is followed by the activation and then, if `dropout > 0`, by
# `nn.Dropout(dropout)`; the last layer by nothing (it returns scores, called *logits*).
# `forward` flattens each input to a vector first, so that images of shape $(N, 1, 28, 28)$
# work as they are (`x.flatten(1)`).

# %% nbgrader="solution" grade_id="mlp_module"
class MLP(nn.Module):
    """Linear layers of the given widths with an activation (and dropout) between them.

    Args:
        sizes: sequence of ints [D, H1, ..., C], at least two: input width first, outputs last.
        activation: a module class called without arguments, e.g. nn.ReLU or nn.Tanh.
        dropout: float in [0, 1): the probability of nn.Dropout after each hidden activation
            (no dropout layer at all when 0).

    forward(x): x of shape (N, ...) with D numbers per sample; returns logits of shape (N, C).
    """

    def __init__(self, sizes, activation=nn.ReLU, dropout=0.0):
        super().__init__()
        ### BEGIN SOLUTION
        layers = []
        for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(d_in, d_out))
            if i < len(sizes) - 2:
                layers.append(activation())
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        self.net = nn.Sequential(*layers)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.net(x.flatten(1))
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_mlp_module" points=6
def _linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _manual_mlp(model, x, activation):
    """What the MLP must compute, from its own Linear layers in order (eval mode: no dropout)."""
    h = x.flatten(1)
    layers = _linears(model)
    for i, layer in enumerate(layers):
        h = h @ layer.weight.T + layer.bias
        if i < len(layers) - 1:
            h = activation(h)
    return h


def _check_mlp(sizes, activation, act_fn, seed):
    torch.manual_seed(seed)
    model = call(MLP, sizes, activation=activation)
    what = f"MLP({sizes}, activation={activation.__name__})"
    expected = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    found = sum(p.numel() for p in model.parameters())
    assert_that(found == expected, f"{what}: model.parameters() holds {found} numbers, expected {expected} "
                "(every Linear layer's weight and bias; a layer kept in a plain list is invisible to PyTorch)")
    shapes = [tuple(m.weight.shape) for m in _linears(model)]
    assert_that(shapes == [(b, a) for a, b in zip(sizes[:-1], sizes[1:], strict=False)],
                f"{what}: the Linear layers' weights have shapes {shapes}, expected "
                f"{[(b, a) for a, b in zip(sizes[:-1], sizes[1:], strict=False)]} in order")
    model.eval()
    x = torch.randn(5, *([sizes[0]] if seed % 2 else [1, sizes[0]]), generator=torch.Generator().manual_seed(seed))
    out = call(model.forward, x)
    assert_shape(out, (5, sizes[-1]), name=f"{what} on x {tuple(x.shape)}")
    assert_close(out, _manual_mlp(model, x, act_fn), rtol=1e-5, atol=1e-6,
                 name=f"{what} on x {tuple(x.shape)}: the logits (no activation after the last layer)")


_check_mlp([4, 8, 3], nn.ReLU, torch.relu, seed=1)
### BEGIN HIDDEN TESTS
_check_mlp([6, 5, 4, 2], nn.Tanh, torch.tanh, seed=2)
_check_mlp([3, 2], nn.ReLU, torch.relu, seed=3)
_check_mlp([5, 7, 7, 7, 4], nn.ReLU, torch.relu, seed=5)
torch.manual_seed(0)
_model = call(MLP, [10, 50, 50, 3], dropout=0.5)
_drops = [m for m in _model.modules() if isinstance(m, nn.Dropout)]
assert_that(len(_drops) == 2 and all(d.p == 0.5 for d in _drops),
            f"MLP([10, 50, 50, 3], dropout=0.5): expected 2 nn.Dropout(0.5) layers (one per hidden layer), "
            f"found {[d.p for d in _drops]}")
_x = torch.randn(64, 10, generator=torch.Generator().manual_seed(9))
_model.eval()
assert_close(_model(_x), _manual_mlp(_model, _x, torch.relu), rtol=1e-5, atol=1e-6,
             name="MLP([10, 50, 50, 3], dropout=0.5) in eval mode (dropout off)")
_model.train()
assert_that(not torch.allclose(_model(_x), _model(_x)),
            "MLP(..., dropout=0.5) in train mode gives the same output twice: is the dropout applied?")
assert_that(len([m for m in MLP([10, 50, 3], dropout=0.0).modules() if isinstance(m, nn.Dropout)]) == 0,
            "MLP(..., dropout=0.0) should have no dropout layer")
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Datasets and data loaders
#
# A `Dataset` answers two questions: how many samples (`__len__`) and what is sample `i`
# (`__getitem__`). A `DataLoader` draws samples from it, shuffles, stacks them into batches and
# can prepare the next batch in worker processes while the model computes.
#
# **Exercise 4 (5 points).** Wrap uint8 images — shape $(N, H, W)$ for grey images or
# $(N, H, W, 3)$ for colour (NHWC, as the data loaders give them) — and int labels. Sample `i`
# is the pair `(image, label)`: the image a float32 tensor of shape $(C, H, W)$ (channels
# first, $C = 1$ for grey) with values in $[0, 1]$ (divide by 255), passed through `transform`
# if one is given; the label an int64 tensor of shape $()$. (torchvision's
# `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])` does the same to one image;
# the tests compare with it. Its other transforms — `v2.Normalize`, `v2.RandomCrop` … — work on
# the result, so they make good `transform` arguments.)

# %% nbgrader="solution" grade_id="image_dataset"
class ImageDataset(Dataset):
    """uint8 images and int labels as (float32 image (C, H, W) in [0, 1], int64 label) samples.

    Args:
        images: uint8 numpy array (N, H, W) or (N, H, W, C).
        labels: int numpy array (N,).
        transform: None, or a function from a float32 tensor (C, H, W) to a tensor, applied to
            every image after scaling.
    """

    def __init__(self, images, labels, transform=None):
        ### BEGIN SOLUTION
        self.images, self.labels, self.transform = images, labels, transform
        ### END SOLUTION

    def __len__(self):
        ### BEGIN SOLUTION
        return len(self.images)
        ### END SOLUTION

    def __getitem__(self, i):
        ### BEGIN SOLUTION
        image = torch.from_numpy(self.images[i]).to(torch.float32) / 255.0
        image = image[None] if image.ndim == 2 else image.permute(2, 0, 1)
        if self.transform is not None:
            image = self.transform(image)
        return image, torch.tensor(self.labels[i], dtype=torch.int64)
        ### END SOLUTION


# %% nbgrader="tests" grade_id="test_image_dataset" points=5
_to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])


def _check_dataset(images, labels, what):
    ds = call(ImageDataset, images, labels)
    assert_equal_int(call(len, ds), len(images), name=f"len(ImageDataset({what}))")
    channels = images.shape[3] if images.ndim == 4 else 1
    for i in (0, len(images) - 1):
        sample = call(ds.__getitem__, i)
        assert_that(isinstance(sample, tuple) and len(sample) == 2,
                    f"ImageDataset({what})[{i}] must be a pair (image, label), got {type(sample).__name__}")
        image, label = sample
        assert_that(isinstance(image, torch.Tensor) and image.dtype == torch.float32,
                    f"ImageDataset({what})[{i}]: the image must be a float32 tensor, got "
                    + (str(image.dtype) if isinstance(image, torch.Tensor) else type(image).__name__))
        expected = _to_tensor(images[i])  # torchvision's conversion of one image
        assert_shape(image, expected.shape, name=f"ImageDataset({what})[{i}]: image (C, H, W) with C = {channels}")
        assert_close(image, expected, rtol=1e-6, atol=1e-7, name=f"ImageDataset({what})[{i}]: image / 255")
        assert_that(isinstance(label, torch.Tensor) and label.dtype == torch.int64 and label.shape == (),
                    f"ImageDataset({what})[{i}]: the label must be an int64 tensor of shape (), got "
                    + (f"{label.dtype} of shape {tuple(label.shape)}" if isinstance(label, torch.Tensor)
                       else type(label).__name__))
        assert_equal_int(int(label), int(labels[i]), name=f"ImageDataset({what})[{i}]: label")


_rng = np.random.default_rng(4)
_check_dataset(_rng.integers(0, 256, (3, 4, 5), dtype=np.uint8), np.array([2, 0, 1]), "3 grey 4x5 images")
### BEGIN HIDDEN TESTS
_check_dataset(_rng.integers(0, 256, (5, 3, 2, 3), dtype=np.uint8), np.array([9, 8, 7, 6, 5]), "5 colour 3x2 images")
_check_dataset(np.full((1, 2, 2), 255, dtype=np.uint8), np.array([3]), "one white 2x2 image")
_ds = ImageDataset(_rng.integers(0, 256, (4, 3, 3), dtype=np.uint8), np.arange(4), transform=lambda im: im * 2 - 1)
_image, _ = _ds[1]
assert_close(_image, torch.from_numpy(_ds.images[1].astype(np.float32) / 255)[None] * 2 - 1, rtol=1e-6, atol=1e-6,
             name="ImageDataset(..., transform=lambda im: im * 2 - 1)[1]: the transform applied to the scaled image")
_xb, _yb = next(iter(DataLoader(_ds, batch_size=4)))
assert_shape(_xb, (4, 1, 3, 3), name="a DataLoader batch of ImageDataset(4 grey 3x3 images)")
assert_that(_yb.dtype == torch.int64, f"a DataLoader batch's labels must be int64, got {_yb.dtype}")
### END HIDDEN TESTS

# %% [markdown]
# Now the real data. `load_images` gives Fashion-MNIST when it is in the cache or can be
# downloaded, and otherwise says so and gives a stand-in of the same shapes (digits), so the
# notebook always runs. Ten classes of clothes, 28 × 28 grey images:

# %%
split = load_images("fashion_mnist", n_train=CONFIG["n_train"], n_test=CONFIG["n_test"])
train_set, test_set = ImageDataset(split.X_train, split.y_train), ImageDataset(split.X_test, split.y_test)
pixels = split.X_train / 255.0
normalize = v2.Normalize([pixels.mean()], [pixels.std()])  # torchvision: (x - mean) / std, per channel
fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax, i in zip(axes.flat, range(16), strict=True):
    image, label = train_set[i]
    ax.imshow(image[0].numpy(), cmap="gray_r")
    ax.set_title(split.class_names[int(label)], fontsize=7)
    ax.axis("off")
fig.suptitle(f"{len(train_set)} training and {len(test_set)} test images"
             + ("" if split.source == "real" else " (a stand-in)"), fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. The training loop
#
# Every training loop in PyTorch has the same five lines per batch: move the batch to the
# device, compute the loss, `optimizer.zero_grad()` (gradients add up otherwise, as you saw),
# `loss.backward()`, `optimizer.step()`. Two switches matter around it:
#
# - `model.train()` / `model.eval()` set the mode of every sub-module: dropout drops units only in
#   training mode, batch norm uses batch statistics only in training mode.
# - `torch.no_grad()` stops recording the graph: evaluation needs no gradients, and recording
#   them costs memory and time.
#
# **Exercise 5 (8 points).** Write one epoch of training and an evaluation.
# `train_one_epoch` returns the mean loss **per sample** over the epoch: weight each batch's mean
# loss by its size (the last batch is often smaller). `evaluate` returns the mean loss per
# sample and the accuracy (the share of samples whose largest logit is the correct class), and
# must not change the model or its gradients.

# %% nbgrader="solution" grade_id="training_loop"
def train_one_epoch(model, loader, loss_fn, optimizer, device):
    """One pass over loader in training mode, one optimizer step per batch.

    Args:
        model: nn.Module on device, returning logits (N, C).
        loader: iterable of (x, y) batches (tensors on the CPU).
        loss_fn: function (logits, y) -> the mean loss over the batch, e.g. F.cross_entropy.
        optimizer: a torch.optim optimizer over model.parameters().
        device: torch.device to move every batch to.

    Returns:
        Python float: the mean loss per sample over the epoch, each batch weighted by its size.
    """
    ### BEGIN SOLUTION
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
    ### END SOLUTION


def evaluate(model, loader, loss_fn, device):
    """The model's mean loss per sample and accuracy on loader, in evaluation mode, without gradients.

    Returns:
        (loss, accuracy): Python floats; accuracy in [0, 1] is the share of samples whose
        largest logit is at the correct class. The model's parameters and their .grad stay unchanged.
    """
    ### BEGIN SOLUTION
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            total += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            count += len(y)
    return total / count, correct / count
    ### END SOLUTION


# %% nbgrader="tests" grade_id="test_training_loop" points=8
class _Probe(nn.Module):
    """A small network that records, at every forward, the mode it ran in and whether autograd recorded."""

    def __init__(self, d, c, dropout=0.0):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d, 6), nn.Tanh(), nn.Dropout(dropout), nn.Linear(6, c))
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, torch.is_grad_enabled()))
        return self.body(x)


def _batches(n, d, c, batch, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randint(0, c, (n,), generator=g)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def _reference_epoch(model, batches, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    total = 0.0
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(y)
    return total / sum(len(y) for _, y in batches)


def _check_train(n, d, c, batch, seed):
    torch.manual_seed(seed)
    model = _Probe(d, c).double()
    ref_model = copy.deepcopy(model)
    batches = _batches(n, d, c, batch, seed)
    what = f"train_one_epoch on {n} samples in batches of {batch}"
    model.eval()  # the function must switch to training mode itself
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss = call_updating(train_one_epoch, ("model", "optimizer"), model, batches, F.cross_entropy, opt,
                         torch.device("cpu"))
    expected = _reference_epoch(ref_model, batches, lr=0.5)
    assert_that(all(mode for mode, _ in model.seen), f"{what}: the model ran in evaluation mode; call model.train() first")
    assert_that(len(model.seen) == len(batches),
                f"{what}: expected {len(batches)} forward passes (one per batch), got {len(model.seen)}")
    assert_scalar(loss, expected, rtol=1e-9, name=f"{what}: the mean loss per sample")
    for (name, p), q in zip(model.named_parameters(), ref_model.parameters(), strict=True):
        assert_close(p.detach(), q.detach(), rtol=1e-9, atol=1e-12,
                     name=f"{what}: parameter {name} after the epoch (one SGD step per batch, gradients zeroed between)")


def _check_evaluate(n, d, c, batch, seed):
    torch.manual_seed(seed)
    model = _Probe(d, c, dropout=0.5).double()
    batches = _batches(n, d, c, batch, seed)
    model.train()
    before = copy.deepcopy(model.state_dict())
    result = call(evaluate, model, batches, F.cross_entropy, torch.device("cpu"))
    what = f"evaluate on {n} samples in batches of {batch}"
    assert_that(isinstance(result, tuple) and len(result) == 2,
                f"{what} must return (loss, accuracy), got {type(result).__name__}")
    assert_that(all(not mode for mode, _ in model.seen),
                f"{what}: the model ran in training mode (dropout on); call model.eval() first")
    assert_that(not any(grad for _, grad in model.seen),
                f"{what}: autograd recorded the forward passes; wrap them in `with torch.no_grad():`")
    assert_that(all(p.grad is None for p in model.parameters()), f"{what}: the parameters' .grad changed")
    assert_that(all(torch.equal(v, before[k]) for k, v in model.state_dict().items()),
                f"{what}: the model's parameters changed")
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model.body(x) for x, _ in batches])
    y = torch.cat([y for _, y in batches])
    assert_scalar(result[0], F.cross_entropy(logits, y).item(), rtol=1e-9, name=f"{what}: the mean loss per sample")
    assert_scalar(result[1], (logits.argmax(1) == y).double().mean().item(), rtol=1e-12,
                  name=f"{what}: the accuracy (share of samples whose largest logit is the label)")


_check_train(10, 3, 4, batch=4, seed=0)
_check_evaluate(10, 3, 4, batch=4, seed=1)
### BEGIN HIDDEN TESTS
_check_train(1, 2, 2, batch=4, seed=2)
_check_train(13, 5, 3, batch=5, seed=3)
_check_evaluate(1, 2, 3, batch=1, seed=4)
_check_evaluate(23, 4, 5, batch=10, seed=5)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training a classifier
#
# Everything together: data loaders (shuffled for training) over your dataset, with
# torchvision's `v2.Normalize` as the transform (pixels shifted and scaled to mean 0 and standard
# deviation 1, measured on the training images), the MLP, the Adam optimizer, your loop, a
# progress bar and the learning curves. On a CPU the small configuration takes a few seconds
# per epoch.

# %%
seed_everything(0)
train_loader = DataLoader(ImageDataset(split.X_train, split.y_train, transform=normalize),
                          batch_size=CONFIG["batch"], shuffle=True)
test_loader = DataLoader(ImageDataset(split.X_test, split.y_test, transform=normalize), batch_size=512)
model = MLP([28 * 28, *CONFIG["hidden"], 10], dropout=0.2).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
history = {"train loss": [], "test loss": [], "test accuracy": []}
started = time.perf_counter()
for _ in (bar := progress(range(CONFIG["epochs"]), desc="training the MLP", unit="epoch")):
    history["train loss"].append(train_one_epoch(model, train_loader, F.cross_entropy, optimizer, device))
    test_loss, test_accuracy = evaluate(model, test_loader, F.cross_entropy, device)
    history["test loss"].append(test_loss)
    history["test accuracy"].append(test_accuracy)
    bar.set_postfix(test_accuracy=f"{test_accuracy:.3f}")
train_seconds = time.perf_counter() - started
print(f"{CONFIG['epochs']} epochs in {train_seconds:.1f} s; test accuracy {history['test accuracy'][-1]:.1%}")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2)
epochs = range(1, CONFIG["epochs"] + 1)
ax_loss.plot(epochs, history["train loss"], "o-", label="train")
ax_loss.plot(epochs, history["test loss"], "o-", label="test")
ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
ax_loss.legend()
ax_acc.plot(epochs, history["test accuracy"], "o-", color="C2")
ax_acc.set(xlabel="epoch", ylabel="accuracy", title="test accuracy")
plt.tight_layout()
plt.show()

# %% [markdown]
# Where does it go wrong? A **confusion matrix** counts, for every true class (row), which
# class the model predicted (column). The off-diagonal cells show which classes look alike.

# %%
model.eval()
with torch.no_grad():
    predicted = torch.cat([model(x.to(device)).argmax(1).cpu() for x, _ in test_loader])
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (split.y_test, predicted.numpy()), 1)
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.imshow(confusion, cmap="Blues")
for (i, j), count in np.ndenumerate(confusion):
    if count:
        ax.text(j, i, count, ha="center", va="center", fontsize=6, color="white" if count > confusion.max() / 2 else "k")
ax.set_xticks(range(10), split.class_names, rotation=90, fontsize=7)
ax.set_yticks(range(10), split.class_names, fontsize=7)
ax.set(xlabel="predicted", ylabel="true", title="confusion matrix on the test set")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Saving, loading, resuming
#
# A long training run must survive an interrupted session. `model.state_dict()` is a dict of
# every parameter and buffer; the optimizer has one too (Adam's moment estimates). Saving both,
# with the epoch, lets a run resume exactly where it stopped. `helpers.runtime.save_checkpoint`
# writes them with `torch.save` (to a temporary name first, so that a crash mid-save keeps the
# last good file), and `load_checkpoint` puts them back:

# %%
checkpoint = Path(tempfile.mkdtemp()) / "mlp.pt"
save_checkpoint(checkpoint, model=model, optimizer=optimizer, epoch=CONFIG["epochs"], history=history)
restored = MLP([28 * 28, *CONFIG["hidden"], 10], dropout=0.2).to(device)
restored_optimizer = torch.optim.Adam(restored.parameters(), lr=1e-3)
extra = load_checkpoint(checkpoint, model=restored, optimizer=restored_optimizer, map_location=device)
saved_accuracy = evaluate(model, test_loader, F.cross_entropy, device)[1]
restored_accuracy = evaluate(restored, test_loader, F.cross_entropy, device)[1]
print(f"checkpoint of epoch {extra['epoch']}, {checkpoint.stat().st_size / 1e6:.1f} MB; test accuracy "
      f"saved {saved_accuracy:.2%}, restored {restored_accuracy:.2%}")
extra["history"]["train loss"].append(train_one_epoch(restored, train_loader, F.cross_entropy, restored_optimizer, device))
print(f"one more epoch after resuming: train loss {extra['history']['train loss'][-1]:.3f}")

# %% [markdown]
# ## 8. Devices and mixed precision
#
# A tensor lives on one device; an operation needs all its inputs on the same one, and
# `x.to(device)` copies between them. On a GPU, two more tricks pay off. **Mixed precision**:
# inside `torch.autocast`, matrix products and convolutions run in a 16-bit format, which GPUs
# compute many times faster, while sums and losses stay in float32. Of the two 16-bit formats,
# **bfloat16** keeps float32's 8 exponent bits (the same range) and only 7 bits of mantissa;
# **float16** has 5 exponent bits and 10 of mantissa (more precision, but values above 65504
# overflow and tiny gradients underflow, which is why float16 training needs a *gradient scaler*).

# %%
for dtype in (torch.float32, torch.bfloat16, torch.float16):
    info = torch.finfo(dtype)
    print(f"{str(dtype):15s} largest {info.max:9.3g}   smallest normal {info.tiny:9.3g}   "
          f"relative precision {info.eps:.1e}")
a, b = torch.randn(256, 256), torch.randn(256, 256)
exact = (a.double() @ b.double())
with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
    low = a @ b
print(f"under autocast a float32 product comes out as {low.dtype}; "
      f"its relative error {((low.double() - exact).norm() / exact.norm()).item():.1e}")

# %% [markdown]
# How much faster is the GPU? The same MLP's training steps, timed on the CPU and, when there
# is one, on the GPU in float32 and with bf16 autocast (`helpers.runtime.autocast` picks
# bf16 on a GPU and does nothing on a CPU):

# %%
def steps_per_second(device, mixed, batch=CONFIG["batch"], steps=30):
    """Training steps per second of the notebook's MLP on random data (after 5 warm-up steps)."""
    net = MLP([28 * 28, *CONFIG["hidden"], 10]).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 28 * 28, device=device), torch.randint(0, 10, (batch,), device=device)
    for i in range(steps + 5):
        if i == 5:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        with autocast(device) if mixed else torch.autocast(device.type, enabled=False):
            loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


speeds = {"CPU, float32": steps_per_second(torch.device("cpu"), mixed=False)}
if device.type == "cuda":
    speeds["GPU, float32"] = steps_per_second(device, mixed=False)
    speeds["GPU, bf16 autocast"] = steps_per_second(device, mixed=True)
for label, speed in speeds.items():
    print(f"{label:20s} {speed:8.0f} steps/s")

# %% [markdown]
# Measured once on an NVIDIA H200 (full configuration, batch 256): 349 steps/s on its CPU, 738 on
# the GPU in float32 and 482 with bf16 autocast. Only twice the CPU, and mixed precision is
# *slower*: an MLP this small gives the GPU a few tiny matrix products per step, so the time goes
# into launching kernels (and, under autocast, into the extra casts), not into arithmetic. The
# CNN architectures notebook trains a network big enough for the GPU to pay off.

# %% [markdown]
# **Concept check 2.** A model trains well in float32. Which 16-bit format can you switch
# matrix products to, under autocast, *without* a gradient scaler — and why?
#
# - `"a"`: float16, because it has more mantissa bits than bfloat16;
# - `"b"`: bfloat16, because it has the same exponent range as float32, so small gradients do not underflow to zero;
# - `"c"`: neither: 16-bit formats always need a gradient scaler;
# - `"d"`: float16, because it has the larger range.
#
# Set `q2_answer` to `"a"`, `"b"`, `"c"` or `"d"`.

# %% nbgrader="solution" grade_id="q2_bfloat16"
# q2_answer = ...
### BEGIN SOLUTION
q2_answer = "b"
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q2_bfloat16" points=1
assert_that("q2_answer" in globals(), "q2_answer is not set yet: run its cell after answering")
assert_choice(q2_answer, ["a", "b", "c", "d"], name="q2_answer")
### BEGIN HIDDEN TESTS
assert_answer(q2_answer, "b", name="q2_answer")
### END HIDDEN TESTS

# %% [markdown]
# **Concept check 3.** `w = torch.ones(3, requires_grad=True)`; then `(2 * w).sum().backward()`
# runs twice, without zeroing anything in between. What is `w.grad[0]` afterwards? Set
# `q3_answer` to that number.

# %% nbgrader="solution" grade_id="q3_accumulate"
# q3_answer = ...
### BEGIN SOLUTION
q3_answer = 4.0
### END SOLUTION

# %% nbgrader="tests" grade_id="test_q3_accumulate" points=1
assert_that("q3_answer" in globals(), "q3_answer is not set yet: run its cell after answering")
assert_scalar(q3_answer, name="q3_answer")
### BEGIN HIDDEN TESTS
assert_answer(q3_answer, 4.0, name="q3_answer", rtol=0.0, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Written answer (2 points).** Your `evaluate` calls `model.eval()` and runs inside
# `torch.no_grad()`. For each of the two, say what it changes, and what would go wrong — in the
# reported accuracy, in memory or in later training — if you forgot it. Answer in two to four
# sentences in the cell below.

# %% [markdown] nbgrader="answer" grade_id="written_eval_mode" points=2
# *Model answer.* `model.eval()` switches layers whose behaviour differs at test time: dropout
# stops dropping units and batch norm uses its running statistics instead of the batch's.
# Without it the accuracy is measured on a randomly thinned network (lower and different at
# every run), and batch norm would even update its running statistics on the test data.
# `torch.no_grad()` stops autograd from recording the graph: without it every evaluation batch
# keeps its activations in memory for a backward pass that never comes (slower, and large
# evaluations can run out of memory); the parameters' gradients do not change either way.

# %% [markdown]
# ## Summary
#
# - Tensors are numpy arrays with a device and a memory of how they were computed; broadcasting
#   is the same. Mind float32 and shared memory.
# - Autograd computes the gradients your backward functions did, to 15 digits; `backward`
#   *adds* into `.grad`, so zero it at every step.
# - `nn.Module` finds parameters in attributes (`nn.Sequential`, `nn.ModuleList`), not in lists.
# - `Dataset` + `DataLoader` feed batches; `train()`/`eval()` and `no_grad()` frame training and
#   evaluation.
# - Checkpoints hold the model's and the optimizer's state; bfloat16 autocast makes GPUs fast
#   with float32's range.
#
# Next: the CNN architectures notebook builds VGG, ResNet and U-Net blocks with these tools.
