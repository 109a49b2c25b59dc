"""Chapter 06's convolution and receptive-field explorers, driven like a student would, on PyTorch."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.explorers.cnn import (
    IMAGES,
    KERNELS,
    STACKS,
    WEIGHT_BOXES,
    ConvolutionExplorer,
    convolution_explorer,
    make_image,
    make_kernel,
    receptive_field_explorer,
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


# ----------------------------------------------------------------------------- the editable kernel


def boxes(explorer):
    return np.array([[explorer.controls[f"w{u}{v}"].value for v in range(3)] for u in range(3)])


def test_a_preset_fills_the_nine_boxes_and_typing_makes_it_custom(explorer):
    assert WEIGHT_BOXES == ("w00", "w01", "w02", "w10", "w11", "w12", "w20", "w21", "w22")
    assert [explorer.controls[name].description for name in WEIGHT_BOXES[:4]] == ["w₀₀", "w₀₁", "w₀₂", "w₁₀"]
    assert boxes(explorer).tolist() == make_kernel("vertical edges").tolist()
    explorer.controls["kernel"].value = "blur"
    assert np.allclose(boxes(explorer), 0.111) and np.allclose(explorer.state["weights"], 1 / 9)
    before = explorer.state["output"]
    explorer.controls["w11"].value = 1.0  # what a student types into the centre box
    s = explorer.state
    assert explorer.controls["kernel"].value == "custom" and s["error"] is None
    expected = np.full((3, 3), 0.111)
    expected[1, 1] = 1.0
    assert s["weights"].tolist() == expected.tolist()
    assert not np.allclose(s["output"], before)
    x = make_image("digit 3")
    assert np.isclose(s["output"][2, 4], np.sum(x[2:5, 4:7] * expected))  # the student's conv on the boxes
    explorer.controls["w00"].value = 0.0  # already custom: stays custom, redraws
    assert explorer.state["weights"][0, 0] == 0.0 and explorer.controls["kernel"].value == "custom"
    explorer.controls["kernel"].value = "identity"
    assert boxes(explorer).tolist() == make_kernel("identity").tolist()
    assert np.allclose(explorer.state["output"], x[1:-1, 1:-1])


def test_the_boxes_design_a_kernel_from_scratch():
    explorer = convolution_explorer(torch_conv, image="cross", kernel="custom")
    assert boxes(explorer).tolist() == make_kernel("identity").tolist()  # a custom start: the identity
    for name, value in zip(WEIGHT_BOXES, [0, 1, 0, 1, -4, 1, 0, 1, 0], strict=True):  # a Laplacian
        explorer.controls[name].value = value
    s = explorer.state
    assert explorer.controls["kernel"].value == "custom"
    laplacian = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    expected = torch_conv(make_image("cross")[None, None], laplacian[None, None], np.zeros(1))[0][0, 0]
    assert np.allclose(s["output"], expected)


def test_a_rounded_preset_stays_the_preset_and_random_fills_the_boxes(explorer):
    explorer.controls["kernel"].value = "random"
    assert np.allclose(boxes(explorer), make_kernel("random"), atol=5e-4)
    assert np.array_equal(explorer.state["weights"], make_kernel("random"))  # exact, not rounded
    explorer.controls["w22"].value = explorer.controls["w22"].value  # no change: still "random"
    assert explorer.controls["kernel"].value == "random"


# ----------------------------------------------------------------------------- the receptive field


def torch_conv_backward(dout, cache):
    x, w, kw = cache
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv2d(xt, wt, **kw).backward(torch.tensor(dout))
    return xt.grad.numpy(), wt.grad.numpy(), dout.sum(axis=(0, 2, 3))


def torch_conv_with_cache(x, w, b, stride=1, padding=0, dilation=1):
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    return F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw).numpy(), (x, w, kw)


def receptive_field(layers):
    r, jump = 1, 1
    for k, s, d in layers:
        r, jump = r + d * (k - 1) * jump, jump * s
    return r


def conv_output_size(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def rf_explorer(rf=receptive_field, size=conv_output_size, **options):
    return receptive_field_explorer(torch_conv_with_cache, torch_conv_backward, rf, size, **options)


@pytest.mark.parametrize("stack", list(STACKS))
def test_backprop_and_formula_agree_on_every_stack(stack):
    explorer = rf_explorer(stack=stack, depth=6)
    s = explorer.state
    assert s["error"] is None, s["error"]
    assert s["measured"] == s["formula"] == receptive_field(s["layers"])
    assert [m for m, _ in s["growth"]] == [receptive_field(s["layers"][:i]) for i in range(1, 7)]
    assert s["sizes"] == s["formula_sizes"] and "they agree" in explorer.status.value
    assert s["input_size"] > s["measured"] + 1  # the field never touches the border


def test_the_effective_field_is_brightest_in_the_centre():
    s = rf_explorer(stack="3×3 convolutions", depth=4).state
    g = s["gradient"]
    centre = np.unravel_index(np.argmax(g), g.shape)
    rows = np.flatnonzero(g.sum(axis=1))
    assert s["measured"] == 9 and centre[0] == (rows[0] + rows[-1]) // 2
    assert g.max() > 10 * g[rows[0], rows[0]]  # many paths to the centre, one to the corner


def test_the_repeated_layer_sliders_and_depth():
    explorer = rf_explorer(stack="one layer repeated", depth=2)
    assert not any(explorer.controls[name].disabled for name in ("kernel", "stride", "dilation"))
    explorer.set(kernel=5, stride=2, dilation=2)
    assert explorer.state["layers"] == [(5, 2, 2), (5, 2, 2)] and explorer.state["measured"] == 1 + 8 + 16
    explorer.set(depth=5)
    assert explorer.state["measured"] == receptive_field([(5, 2, 2)] * 5)
    explorer.controls["stack"].value = "7×7 convolutions"  # a fixed stack: the sliders do nothing, greyed out
    assert explorer.state["layers"] == [(7, 1, 1)] * 5 and explorer.controls["stride"].disabled


def test_a_wrong_formula_is_shown_as_a_mismatch_and_errors_as_messages():
    def forgets_the_strides(layers):  # a typical mistake
        return 1 + sum(d * (k - 1) for k, _, d in layers)

    explorer = rf_explorer(forgets_the_strides, stack="3×3, stride 2 first", depth=3)
    s = explorer.state
    assert s["formula"] == 1 + 2 + 2 + 2 and s["measured"] == 1 + 2 + 2 * 2 + 2 * 2
    assert "formula <b>7</b> pixels, backprop <b>11</b> pixels" in explorer.status.value
    assert "they differ" in explorer.status.value

    def not_done(n, k, stride=1, padding=0, dilation=1):
        raise NotImplementedError()

    explorer = rf_explorer(size=not_done)
    assert "not_done is not implemented yet" in explorer.state["error"]

    def off_by_one(n, k, stride=1, padding=0, dilation=1):
        return conv_output_size(n, k, stride, padding, dilation) + 1

    explorer = rf_explorer(size=off_by_one)
    assert "conv_output_size gives" in explorer.status.value
