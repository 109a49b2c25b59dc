"""The CNN-architectures notebook: its modules agree with torch.nn.functional and torchvision-style
references, its augmentation and training loop behave as stated, and the experiments (small
configuration, CPU) run and keep their promises.

The namespace comes from executing the notebook's source (tests cells excepted) once for the module,
in the small configuration, which trains the ResNet-9 on the (stand-in) CIFAR-10 and the transfer runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.authoring import read_source, solution_namespace

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "p2_cnn_architectures.py"


@pytest.fixture(scope="module")
def ns():
    old = os.environ.get("COURSE_SIZE"), os.environ.get("COURSE_DEVICE")
    os.environ["COURSE_SIZE"], os.environ["COURSE_DEVICE"] = "small", "cpu"
    try:
        return solution_namespace(SOURCE)
    finally:
        for key, value in zip(["COURSE_SIZE", "COURSE_DEVICE"], old, strict=True):
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_the_parameters_cell_is_tagged_for_papermill():
    cells = [c for c in read_source(SOURCE).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1 and 'SIZE = "auto"' in cells[0].source


def test_conv_bn_relu_is_torchs_conv_bn_relu_in_eval_mode_too(ns):
    torch.manual_seed(0)
    block = ns["conv_bn_relu"](3, 5, 3, 2).double()
    block(torch.randn(4, 3, 9, 9, dtype=torch.float64))        # running statistics move
    block.eval()
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    conv, bn = block[0], block[1]
    ref = F.relu(F.batch_norm(F.conv2d(x, conv.weight, stride=2, padding=1), bn.running_mean, bn.running_var,
                              bn.weight, bn.bias, training=False))
    assert torch.allclose(block(x), ref, rtol=1e-12, atol=1e-12)


def test_residual_block_is_resnets_basic_block(ns):
    """ResNet-18's BasicBlock (torchvision's layout: conv1/bn1/conv2/bn2, downsample = 1x1 conv + bn)."""
    torch.manual_seed(1)
    for c_in, c_out, stride in [(64, 64, 1), (64, 128, 2), (3, 8, 1), (8, 8, 2)]:
        block = ns["ResidualBlock"](c_in, c_out, stride).double()
        expected = 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out
        if stride != 1 or c_in != c_out:
            expected += c_in * c_out + 2 * c_out
            assert isinstance(block.shortcut[0], nn.Conv2d) and block.shortcut[0].kernel_size == (1, 1)
        else:
            assert isinstance(block.shortcut, nn.Identity)
        assert ns["count_params"](block) == expected
        x = torch.randn(2, c_in, 9, 7, dtype=torch.float64, requires_grad=True)
        out = block(x)
        assert out.shape == (2, c_out, (9 - 1) // stride + 1, (7 - 1) // stride + 1)
        out.sum().backward()
        assert x.grad.abs().sum() > 0
    assert ns["q2_answer"] == ns["count_params"](ns["ResidualBlock"](64, 128, 2))


def test_inception_and_unet_shapes(ns):
    block = ns["InceptionBlock"](192, 64, 96, 128, 16, 32, 32)      # GoogLeNet's inception (3a)
    assert block(torch.randn(1, 192, 28, 28)).shape == (1, 256, 28, 28)
    assert ns["q1_answer"] == pytest.approx((192 * 32 * 25) / (192 * 16 + 16 * 32 * 25))
    shapes = ns["unet"].shapes
    assert tuple(shapes["input"]) == (1, 3, 37, 45) and tuple(shapes["scores"]) == (1, 2, 36, 44)
    assert tuple(shapes["bottom"]) == (1, 32, 9, 11)
    x = torch.arange(30.0).reshape(1, 1, 5, 6)
    assert torch.equal(ns["center_crop"](x, 5, 6), x)


def test_random_crop_flip_matches_a_loop_reference(ns):
    x = torch.randn(50, 3, 8, 6, dtype=torch.float64)
    out = ns["random_crop_flip"](x, 3, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    offsets = torch.randint(0, 7, (50, 2), generator=g)
    flips = torch.rand(50, generator=g) < 0.5
    padded = F.pad(x, (3, 3, 3, 3))
    for n in range(50):
        dy, dx = offsets[n].tolist()
        window = padded[n, :, dy:dy + 8, dx:dx + 6]
        assert torch.equal(out[n], window.flip(-1) if flips[n] else window)
    assert out.dtype == torch.float64 and out.shape == x.shape


def test_the_training_loop_helpers_keep_their_promises(ns):
    model = ns["ResNet9"](4)
    assert ns["count_params"](model) > 0
    assert model(torch.randn(3, 3, 32, 32)).shape == (3, 10)
    frozen = ns["Frozen"](nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2)))
    frozen.train()
    assert not frozen.module.training and not any(p.requires_grad for p in frozen.parameters())
    loader = ns["batch_loader"](torch.arange(10.0)[:, None], torch.arange(10), 4, shuffle=True)
    batches = list(loader)
    assert len(batches) == 2 and all(len(x) == 4 and torch.equal(x[:, 0].long(), y) for x, y in batches)


def test_the_resnet_learns_and_the_checkpoint_restores_it(ns):
    history, cfg = ns["history"], ns["cfg"]
    assert ns["SIZE"] == "small" and len(history["test_acc"]) == cfg["epochs"]
    assert history["train_loss"][-1] < history["train_loss"][0]
    floor = 0.9 if ns["cifar"].source != "real" else 0.25  # the digit stand-in is easy; chance is 0.1
    assert ns["resnet_test_acc"] >= floor, ns["resnet_test_acc"]
    assert ns["restored_acc"] == ns["resnet_test_acc"]
    assert ns["extra"]["step"] == cfg["epochs"] * len(ns["train_loader"])


def test_the_pretrained_backbone_transfers(ns):
    """The notebook's claim: with 200 labels, frozen and fine-tuned runs beat the run from scratch."""
    curves, cfg = ns["transfer_curves"], ns["cfg"]
    assert set(curves) == {"scratch", "frozen", "finetune"}
    assert all(len(c) == cfg["transfer_epochs"] and all(0.0 <= a <= 1.0 for a in c) for c in curves.values())
    assert min(curves["frozen"][-1], curves["finetune"][-1]) > curves["scratch"][-1] + 0.1, curves


def test_torchvision_and_the_batched_augmentation_both_ran(ns):
    assert set(ns["augment_seconds"]) == {"torchvision, one image at a time", "random_crop_flip, the whole batch"}
    assert ns["torchvision_batch"].shape == ns["demo_batch"].shape == (256, 3, 32, 32)
