"""Chapter 06's convolution explorer, driven like a student would, on PyTorch's convolution."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.explorers.cnn import (
    IMAGES,
    KERNELS,
    ConvolutionExplorer,
    convolution_explorer,
    make_image,
    make_kernel,
)


def torch_conv(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """A stand-in for the student's conv2d_forward: (out, cache)."""
    out = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=padding,
                   dilation=dilation, groups=groups)
    return out.numpy(), None


@pytest.fixture
def explorer():
    return convolution_explorer(torch_conv, image="digit 3", kernel="vertical edges")


def test_images_and_kernels():
    for name in IMAGES:
        image = make_image(name)
        assert image.dtype == np.float64 and image.ndim == 2
        assert image.min() >= 0.0 and image.max() <= 1.0 and image.max() > 0
    assert make_image("stripes").shape == (8, 11)
    for name in KERNELS:
        assert make_kernel(name).shape == (3, 3)
    assert np.array_equal(make_kernel("random", seed=1), make_kernel("random", seed=1))
    assert not np.array_equal(make_kernel("random", seed=1), make_kernel("random", seed=2))
    with pytest.raises(KeyError):
        make_image("nope")
    with pytest.raises(KeyError):
        make_kernel("nope")


def test_explorer_shows_the_given_functions_output(explorer):
    assert isinstance(explorer, ConvolutionExplorer)
    s = explorer.state
    assert s["error"] is None and s["out_shape"] == (6, 6)
    expected = torch_conv(s["input"][None, None], s["weights"][None, None], np.zeros(1))[0][0, 0]
    assert np.allclose(s["output"], expected)
    assert s["pixel"] == (0, 0) and s["window"] == ([0, 1, 2], [0, 1, 2])
    assert "6 x 6" in explorer.status.value and "⌊(8 + 2·0 − 1·2 − 1) / 1⌋ + 1" in explorer.status.value


def test_identity_kernel_with_padding_one_gives_back_the_image(explorer):
    explorer.set(kernel="identity", padding=1)
    s = explorer.state
    assert s["out_shape"] == s["input"].shape
    assert np.allclose(s["output"], s["input"])
    explorer.controls["image"].value = "stripes"  # not square
    assert explorer.state["out_shape"] == (8, 11)
    assert np.allclose(explorer.state["output"], make_image("stripes"))


def test_stride_padding_and_dilation_sliders_change_the_shape_and_the_window(explorer):
    explorer.controls["padding"].value = 1
    assert explorer.state["out_shape"] == (8, 8)
    explorer.controls["stride"].value = 2
    assert explorer.state["out_shape"] == (4, 4)
    explorer.controls["dilation"].value = 2
    s = explorer.state
    assert s["out_shape"] == (3, 3)  # (8 + 2 - 4 - 1) // 2 + 1
    explorer.controls["position"].value = 5  # output pixel (1, 2)
    s = explorer.state
    assert s["pixel"] == (1, 2)
    assert s["window"] == ([1, 3, 5], [3, 5, 7])  # i s - p + d u, j s - p + d v
    x = np.pad(s["input"], 1)
    rows, cols = (np.array(r) + 1 for r in s["window"])
    assert np.isclose(s["output"][1, 2], np.sum(x[np.ix_(rows, cols)] * s["weights"]))
    explorer.controls["position"].value = 100  # beyond the last output pixel: the last one
    assert explorer.state["pixel"] == (2, 2)


def test_every_kernel_and_image_draws(explorer):
    for image, kernel in zip(IMAGES, KERNELS, strict=True):
        explorer.set(image=image, kernel=kernel)
        assert explorer.state["error"] is None, (image, kernel)
        assert explorer.state["output"].shape == (make_image(image).shape[0] - 2, make_image(image).shape[1] - 2)
    explorer.set(image="cross", kernel="blur", padding=0)
    assert np.isclose(explorer.state["output"][3, 3], make_image("cross")[3:6, 3:6].mean())


def test_a_kernel_larger_than_the_image_is_explained(explorer):
    explorer.set(image="digit 0", dilation=3, padding=0)  # spans 7 of 8 pixels: fits
    assert explorer.state["error"] is None and explorer.state["out_shape"] == (2, 2)
    explorer.set(image="stripes", dilation=3)  # 8 x 11: still fits
    assert explorer.state["error"] is None
    explorer.set(image="stripes", dilation=3, stride=3)
    assert explorer.state["out_shape"] == (1, 2)
    explorer.view.clear()
    s = explorer.draw(image="digit 0", kernel="blur", stride=1, padding=0, dilation=5, position=0)
    assert s["output"] is None and "spans 11 pixels, more than the padded image (8 x 8)" in s["error"]


def test_student_errors_are_shown_not_raised():
    def todo(x, w, b, stride=1, padding=0, dilation=1, groups=1):
        raise NotImplementedError()

    explorer = convolution_explorer(todo)
    assert explorer.state["error"] == "todo is not implemented yet"
    assert "not implemented" in explorer.status.value and explorer.state["output"] is None
    explorer.controls["stride"].value = 2  # still alive
    assert explorer.state["error"] == "todo is not implemented yet"

    def wrong_shape(x, w, b, stride=1, padding=0, dilation=1, groups=1):
        return np.zeros((3, 3)), None

    explorer = convolution_explorer(wrong_shape)
    assert "expected an output of shape (1, 1, H', W')" in explorer.state["error"]

    def broken(x, w, b, stride=1, padding=0, dilation=1, groups=1):
        return x[0, 0, 99], None

    explorer = convolution_explorer(broken)
    assert explorer.state["error"].startswith("broken raised IndexError")


def test_explorer_redraws_in_place(explorer):
    before, figure = plt.get_fignums(), explorer.view.figure
    png = explorer.view.widget.value
    for stride in (2, 3, 1):
        explorer.controls["stride"].value = stride
    explorer.controls["kernel"].value = "blur"
    assert explorer.view.widget.value != png
    assert plt.get_fignums() == before and explorer.view.figure is figure
    assert len(figure.axes) == 3
