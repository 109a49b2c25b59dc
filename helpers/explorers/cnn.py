"""Chapter 06 (CNNs): the convolution explorer and the receptive-field explorer.

The explorers only *call* the functions they are given (the student's ``conv2d_forward``,
``conv2d_backward``, ``receptive_field`` and ``conv_output_size``); they contain no convolution
of their own. The convolution explorer shows one image and one editable 3 x 3 kernel, the
(padded) input with the window that one output pixel sees, the kernel, the output feature map,
and the output-size formula with the current numbers. The receptive-field explorer stacks
layers and compares the student's formula with the field measured by backpropagation.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from functools import cache
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from helpers.widgets import Explorer, FigureView

__all__ = [
    "IMAGES", "KERNELS", "STACKS", "WEIGHT_BOXES", "ConvolutionExplorer", "ReceptiveFieldExplorer",
    "convolution_explorer", "make_image", "make_kernel", "receptive_field_explorer",
]

IMAGES = ("digit 0", "digit 3", "digit 7", "square", "cross", "stripes")
KERNELS = ("identity", "vertical edges", "horizontal edges", "blur", "sharpen", "random")
_SUBSCRIPTS = "₀₁₂"
# The control names of the kernel's nine number boxes, row by row, and the labels they show (w₀₀ … w₂₂).
WEIGHT_BOXES = tuple(f"w{u}{v}" for u in range(3) for v in range(3))


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target


def make_image(name: str) -> np.ndarray:
    """A float64 image with values in [0, 1]: an 8 x 8 digit or a simple pattern (a new array)."""
    if name.startswith("digit "):
        images, target = _digits()
        return images[int(np.flatnonzero(target == int(name.split()[1]))[0])] / 16.0
    if name == "square":
        image = np.zeros((9, 9))
        image[2:7, 2:7] = 1.0
        return image
    if name == "cross":
        image = np.zeros((9, 9))
        image[4, 1:8] = image[1:8, 4] = 1.0
        return image
    if name == "stripes":
        return np.tile([1.0, 1.0, 0.0, 0.0], (8, 3))[:, :11]  # 8 x 11: not square
    raise KeyError(f"unknown image {name!r}; known: {list(IMAGES)}")


def make_kernel(name: str, seed: int = 0) -> np.ndarray:
    """A 3 x 3 float64 kernel by name (``random``: standard normal, seeded)."""
    sobel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    kernels = {
        "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
        "vertical edges": sobel,
        "horizontal edges": sobel.T.copy(),
        "blur": np.full((3, 3), 1.0 / 9.0),
        "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    }
    if name == "random":
        return np.random.default_rng(seed).normal(size=(3, 3))
    if name == "custom":
        raise KeyError("the custom kernel has no fixed weights: type them into the explorer")
    if name not in kernels:
        raise KeyError(f"unknown kernel {name!r}; known: {list(KERNELS)}")
    return kernels[name]


def describe_error(exc: BaseException) -> str:
    """A one-line description of an exception raised by the student's code."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].name if frames else "your code"
    if isinstance(exc, NotImplementedError):
        return f"{where} is not implemented yet"
    return f"{where} raised {type(exc).__name__}: {exc}"


class ConvolutionExplorer(Explorer):
    """One image, one 3 x 3 kernel, and the student's convolution with stride, padding, dilation.

    The kernel is shown in nine number boxes (controls ``w00`` … ``w22``, labelled w₀₀ … w₂₂):
    choosing a preset fills them (rounded to 3 decimals; the preset's exact weights are used),
    and typing a different number into any box makes the kernel "custom" (the boxes' weights).

    ``state`` after each draw: ``image``, ``kernel``, ``stride``, ``padding``, ``dilation``,
    ``position`` (the slider), ``input`` (the image), ``weights`` (the 3 x 3 kernel used), ``output``
    (the feature map returned by the given function, or ``None``), ``out_shape`` (its
    (H', W')), ``pixel`` (the output pixel (i, j) whose window is drawn), ``window`` (the
    (row, col) input coordinates, in the unpadded image, of its 3 x 3 taps), ``formula``,
    ``error`` (``None`` or the message shown) and ``status``.
    """

    def __init__(
        self,
        conv2d_forward: Callable[..., Any],
        *,
        image: str = "digit 3",
        kernel: str = "vertical edges",
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        max_positions: int = 121,
        seed: int = 0,
    ) -> None:
        self.conv2d_forward, self.seed = conv2d_forward, seed
        style = {"description_width": "initial"}
        preset = make_kernel("identity" if kernel == "custom" else kernel, seed)
        boxes = {
            name: widgets.FloatText(value=round(float(preset[int(name[1]), int(name[2])]), 3), step=0.1,
                                    description=f"w{_SUBSCRIPTS[int(name[1])]}{_SUBSCRIPTS[int(name[2])]}",
                                    continuous_update=False, style={"description_width": "24px"},
                                    layout=widgets.Layout(width="104px"))
            for name in WEIGHT_BOXES
        }
        controls = {
            "image": widgets.Dropdown(options=list(IMAGES), value=image, description="image"),
            "kernel": widgets.Dropdown(options=[*KERNELS, "custom"], value=kernel, description="kernel"),
            **boxes,
            "stride": widgets.IntSlider(value=stride, min=1, max=3, description="stride",
                                        continuous_update=False, style=style),
            "padding": widgets.IntSlider(value=padding, min=0, max=3, description="padding",
                                         continuous_update=False, style=style),
            "dilation": widgets.IntSlider(value=dilation, min=1, max=3, description="dilation",
                                          continuous_update=False, style=style),
            "position": widgets.IntSlider(value=0, min=0, max=max_positions - 1,
                                          description="output pixel", continuous_update=False,
                                          style=style),
        }
        super().__init__(controls, FigureView(ncols=3, figsize=(11.0, 3.8)))
        grid = widgets.VBox([widgets.HBox([boxes[f"w{u}{v}"] for v in range(3)]) for u in range(3)],
                            layout=widgets.Layout(margin="0 0 0 12px"))
        self.widget.children = (
            widgets.HBox([widgets.VBox([controls["image"], controls["kernel"], controls["position"]]), grid]),
            widgets.HBox([controls["stride"], controls["padding"], controls["dilation"]]),
            *self.widget.children[1:],
        )

    def _boxes(self) -> np.ndarray:
        """The 3 x 3 kernel typed in the number boxes."""
        return np.array([[float(self.controls[f"w{u}{v}"].value) for v in range(3)] for u in range(3)])

    def _on_change(self, change: Any) -> None:
        """A preset fills the number boxes; a box that no longer matches the preset makes it "custom"."""
        kernel = self.controls["kernel"]
        if change["owner"] is kernel and change["new"] != "custom":
            preset = make_kernel(change["new"], self.seed)
            for name in WEIGHT_BOXES:
                self._quietly(self.controls[name], round(float(preset[int(name[1]), int(name[2])]), 3))
        elif (any(change["owner"] is self.controls[name] for name in WEIGHT_BOXES) and kernel.value != "custom"
              and not np.allclose(self._boxes(), make_kernel(kernel.value, self.seed), atol=5e-4)):
            self._quietly(kernel, "custom")
        self.update()

    def _quietly(self, control: Any, value: Any) -> None:
        control.unobserve(self._on_change, names="value")
        try:
            control.value = value
        finally:
            control.observe(self._on_change, names="value")

    def _convolve(self, x: np.ndarray, w: np.ndarray, stride: int, padding: int,
                  dilation: int) -> np.ndarray:
        result = self.conv2d_forward(x[None, None], w[None, None], np.zeros(1), stride=stride,
                                     padding=padding, dilation=dilation)
        if isinstance(result, tuple | list):
            result = result[0]
        out = np.asarray(result, dtype=float)
        if out.ndim != 4 or out.shape[:2] != (1, 1):
            raise ValueError(f"expected an output of shape (1, 1, H', W'), got {out.shape}")
        return out[0, 0]

    def draw(self, *, image: str, kernel: str, stride: int, padding: int, dilation: int, position: int,
             **weights: float) -> dict[str, Any]:
        ax_in, ax_k, ax_out = self.view.axes
        x = make_image(image)
        if kernel == "custom":
            w = np.array([[float(weights[f"w{u}{v}"]) for v in range(3)] for u in range(3)])
        else:
            w = make_kernel(kernel, self.seed)
        s, p, d = int(stride), int(padding), int(dilation)
        H, W = x.shape
        extent = d * (w.shape[0] - 1) + 1
        state: dict[str, Any] = {"image": image, "kernel": kernel, "stride": s, "padding": p,
                                 "dilation": d, "position": int(position), "input": x,
                                 "weights": w, "output": None, "out_shape": None, "pixel": None,
                                 "window": None, "error": None}
        formula = (f"H' = ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1 = ⌊({H} + 2·{p} − {d}·2 − 1) / {s}⌋ + 1, "
                   f"W' = ⌊({W} + 2·{p} − {d}·2 − 1) / {s}⌋ + 1")
        state["formula"] = formula
        self._draw_input(ax_in, x, p)
        self._draw_kernel(ax_k, w, kernel)
        if extent > min(H, W) + 2 * p:
            state["error"] = (f"the dilated kernel spans {extent} pixels, more than the padded image "
                              f"({H + 2 * p} x {W + 2 * p}): no output")
        else:
            try:
                out = self._convolve(x, w, s, p, d)
            except Exception as exc:  # show the student's error in the widget, don't crash it
                state["error"] = describe_error(exc)
            else:
                state["output"], state["out_shape"] = out, out.shape
        if state["error"] is not None:
            ax_out.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax_out.transAxes, fontsize=9)
            ax_out.set(xticks=[], yticks=[], title="output")
            state["status"] = f"<b style='color:#c00'>{state['error']}</b><br>{formula}"
            return state
        out = state["output"]
        Ho, Wo = out.shape
        index = min(int(position), Ho * Wo - 1)
        i, j = divmod(index, Wo)
        rows = [i * s - p + d * u for u in range(w.shape[0])]
        cols = [j * s - p + d * v for v in range(w.shape[1])]
        state["pixel"], state["window"] = (i, j), (rows, cols)
        self._draw_window(ax_in, rows, cols, extent)
        limit = float(np.abs(out).max()) or 1.0
        ax_out.imshow(out, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax_out.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="C2", lw=2.5))
        ax_out.set(xticks=[], yticks=[], title=f"output {Ho} x {Wo}, pixel ({i}, {j}) = {out[i, j]:.2f}")
        state["status"] = (f"input {H} x {W}, kernel 3 x 3, stride {s}, padding {p}, dilation {d} "
                           f"→ output <b>{Ho} x {Wo}</b><br>{formula} = {Ho}, {Wo}")
        return state

    @staticmethod
    def _draw_input(ax: Any, x: np.ndarray, p: int) -> None:
        H, W = x.shape
        shown = np.full((H + 2 * p, W + 2 * p), np.nan)
        shown[p:p + H, p:p + W] = x
        ax.imshow(np.ones_like(shown), cmap="Greys", vmin=0, vmax=8,
                  extent=(-p - 0.5, W + p - 0.5, H + p - 0.5, -p - 0.5))  # the padding: light grey
        ax.imshow(shown, cmap="gray_r", vmin=0, vmax=1,
                  extent=(-p - 0.5, W + p - 0.5, H + p - 0.5, -p - 0.5))
        ax.add_patch(Rectangle((-0.5, -0.5), W, H, fill=False, ec="0.4", lw=1, ls="--"))
        ax.set(xticks=[], yticks=[], title=f"input {H} x {W}" + (f", padding {p}" if p else ""))

    @staticmethod
    def _draw_window(ax: Any, rows: list[int], cols: list[int], extent: int) -> None:
        ax.add_patch(Rectangle((cols[0] - 0.5, rows[0] - 0.5), extent, extent, fill=False, ec="C2",
                               lw=2))
        ax.plot(*np.meshgrid(cols, rows), "o", color="C2", ms=5)

    @staticmethod
    def _draw_kernel(ax: Any, w: np.ndarray, name: str) -> None:
        limit = float(np.abs(w).max()) or 1.0
        ax.imshow(w, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (u, v), value in np.ndenumerate(w):
            ax.text(v, u, f"{value:.2g}", ha="center", va="center", fontsize=9,
                    color="white" if abs(value) > 0.6 * limit else "black")
        ax.set(xticks=[], yticks=[], title=f"kernel: {name}")


def convolution_explorer(conv2d_forward: Callable[..., Any], **options: Any) -> ConvolutionExplorer:
    """Build the convolution explorer on your own convolution.

    Args:
        conv2d_forward: ``conv2d_forward(x, w, b, stride=, padding=, dilation=) -> (out, cache)``
            for x of shape (1, 1, H, W) and w of shape (1, 1, 3, 3).
        **options: ``image`` ("digit 3"; one of ``IMAGES``), ``kernel`` ("vertical edges"; one
            of ``KERNELS``, or "custom": the weights typed into the explorer's nine boxes),
            ``stride`` (1), ``padding`` (0), ``dilation`` (1), ``seed`` (0, for the random kernel).
    """
    return ConvolutionExplorer(conv2d_forward, **options)


# ----------------------------------------------------------------------------- receptive field

STACKS: dict[str, list[tuple[int, int, int]]] = {  # (kernel, stride, dilation) per layer, first layer first
    "3×3 convolutions": [(3, 1, 1)] * 6,
    "7×7 convolutions": [(7, 1, 1)] * 6,
    "3×3, stride 2 first": [(3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)],
    "conv 3×3 + pool 2×2": [(3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1)],
    "dilations 1, 2, 4, 8 …": [(3, 1, 2 ** i) for i in range(6)],
    "one layer repeated": [],  # kernel, stride and dilation from the sliders
}


class ReceptiveFieldExplorer(Explorer):
    """Which input pixels one output unit of a stack of layers sees: formula vs backpropagation.

    Every layer is a one-channel convolution without padding and with all weights 1 (a pooling
    layer has the same receptive field as such a convolution). The student's ``conv2d_forward``
    runs the stack on an empty image; the student's ``conv2d_backward`` then sends a gradient of 1
    from the centre unit of the last layer back to the input. The input pixels that receive a
    gradient are the unit's receptive field, measured; their gradient (the number of paths from
    the pixel to the unit) is the *effective* receptive field. The student's ``receptive_field``
    gives the width by the formula; ``conv_output_size`` the size of every layer.

    ``state``: ``layers`` (the (k, stride, dilation) tuples used), ``input_size``, ``sizes``
    (measured H of every layer), ``formula_sizes``, ``gradient`` (the input gradient, 2-D),
    ``measured`` (width of the region with a gradient), ``formula`` (from receptive_field),
    ``growth`` (measured and formula widths after each layer), ``error``, ``status``.
    """

    MAX_INPUT = 512

    def __init__(
        self,
        conv2d_forward: Callable[..., Any],
        conv2d_backward: Callable[..., Any],
        receptive_field: Callable[[list[tuple[int, int, int]]], int],
        conv_output_size: Callable[..., int],
        *,
        stack: str = "3×3 convolutions",
        depth: int = 3,
    ) -> None:
        self.functions = (conv2d_forward, conv2d_backward, receptive_field, conv_output_size)
        style = {"description_width": "initial"}
        controls = {
            "stack": widgets.Dropdown(options=list(STACKS), value=stack, description="layers"),
            "depth": widgets.IntSlider(value=depth, min=1, max=6, description="depth",
                                       continuous_update=False, style=style),
            "kernel": widgets.Dropdown(options=[1, 2, 3, 5, 7], value=3, description="kernel",
                                       style=style, layout=widgets.Layout(width="110px")),
            "stride": widgets.IntSlider(value=1, min=1, max=3, description="stride",
                                        continuous_update=False, style=style),
            "dilation": widgets.IntSlider(value=1, min=1, max=4, description="dilation",
                                          continuous_update=False, style=style),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(11.0, 4.2)))
        self.widget.children = (
            widgets.HBox([controls["stack"], controls["depth"]]),
            widgets.HBox([widgets.HTML("<i>one layer repeated:</i>", layout=widgets.Layout(width="150px")),
                          controls["kernel"], controls["stride"],
                          controls["dilation"]]),
            *self.widget.children[1:],
        )

    def _stack(self, stack: str, depth: int, kernel: int, stride: int, dilation: int) -> list[tuple[int, int, int]]:
        layers = STACKS[stack] or [(int(kernel), int(stride), int(dilation))] * 6
        return layers[: int(depth)]

    def _backprop(self, layers: list[tuple[int, int, int]], n: int) -> tuple[np.ndarray, list[int]]:
        """The input gradient of the centre unit, and the measured size of every layer, for an n x n input."""
        forward, backward = self.functions[:2]
        h, caches, sizes = np.zeros((1, 1, n, n)), [], [n]
        for kernel, step, spread in layers:
            result = forward(h, np.ones((1, 1, kernel, kernel)), np.zeros(1), stride=step, padding=0,
                             dilation=spread)
            h, cache = result
            h = np.asarray(h, dtype=float)
            caches.append(cache)
            sizes.append(h.shape[-1])
        grad = np.zeros(h.shape)
        grad[0, 0, h.shape[2] // 2, h.shape[3] // 2] = 1.0
        for cache in reversed(caches):
            grad = np.asarray(backward(grad, cache)[0], dtype=float)
        return grad[0, 0], sizes

    def draw(self, *, stack: str, depth: int, kernel: int, stride: int, dilation: int) -> dict[str, Any]:
        ax_in, ax_growth = self.view.axes
        _, _, receptive_field, conv_output_size = self.functions
        layers = self._stack(stack, depth, kernel, stride, dilation)
        for name in ("kernel", "stride", "dilation"):  # they only shape "one layer repeated"
            self.controls[name].disabled = bool(STACKS[stack])
        state: dict[str, Any] = {"layers": layers, "error": None}
        try:
            n = 16
            while True:  # grow the input until the gradient stays away from its border
                if any(d * (k - 1) + 1 > size for (k, _, d), size in zip(layers, self._sizes_upper(layers, n),
                                                                         strict=True)):
                    gradient = None
                else:
                    gradient, sizes = self._backprop(layers, n)
                    rows = np.flatnonzero(np.abs(gradient).sum(axis=1))
                    if len(rows) and rows[0] > 0 and rows[-1] < n - 1:
                        break
                if n >= self.MAX_INPUT:
                    raise ValueError(f"the receptive field does not fit in {self.MAX_INPUT} x {self.MAX_INPUT} pixels")
                n *= 2
            growth = []
            for depth_so_far in range(1, len(layers) + 1):
                partial, _ = self._backprop(layers[:depth_so_far], n)
                measured_rows = np.flatnonzero(np.abs(partial).sum(axis=1))
                growth.append((int(measured_rows[-1] - measured_rows[0] + 1),
                               int(receptive_field(layers[:depth_so_far]))))
            formula_sizes = [n]
            for kernel, step, spread in layers:
                formula_sizes.append(int(conv_output_size(formula_sizes[-1], kernel, step, 0, spread)))
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = exc.args[0] if isinstance(exc, ValueError) and "does not fit" in str(exc) else (
                describe_error(exc))
            for ax in (ax_in, ax_growth):
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        measured, formula = growth[-1]
        state.update(input_size=n, sizes=sizes, formula_sizes=formula_sizes, gradient=gradient,
                     measured=measured, formula=formula, growth=growth)
        rows = np.flatnonzero(np.abs(gradient).sum(axis=1))
        centre = (rows[0] + rows[-1]) / 2
        ax_in.imshow(np.sqrt(np.abs(gradient)), cmap="magma")
        top = centre - (formula - 1) / 2 - 0.5
        ax_in.add_patch(Rectangle((top, top), formula, formula, fill=False, ec="C2", lw=2, ls="--"))
        ax_in.set(xticks=[], yticks=[])
        ax_in.set_title(f"input {n} x {n}: gradient of the centre unit\n(square root; brighter = more paths)",
                        fontsize=10)
        depths = np.arange(1, len(growth) + 1)
        ax_growth.plot(depths, [g[1] for g in growth], "-", color="C2", label="receptive_field (formula)")
        ax_growth.plot(depths, [g[0] for g in growth], "o", color="C1", label="measured by backprop")
        ax_growth.set(xlabel="layers", ylabel="receptive field (pixels)", xticks=depths,
                      title="growth with depth")
        ax_growth.legend(fontsize=8)
        layer_text = ", ".join(f"{k}×{k}" + (f"/s{s}" if s > 1 else "") + (f"/d{d}" if d > 1 else "")
                               for (k, s, d) in layers)
        verdict = ("<b>they agree</b>" if measured == formula else
                   f"<b style='color:#c00'>they differ: check receptive_field for the layers {layers}</b>")
        sizes_text = " → ".join(map(str, sizes))
        size_check = "" if formula_sizes == sizes else (
            f"<br><b style='color:#c00'>conv_output_size gives {' → '.join(map(str, formula_sizes))}, but the "
            f"layers produced {sizes_text}</b>")
        state["status"] = (f"layers {layer_text}; sizes {sizes_text}<br>receptive field: formula "
                           f"<b>{formula}</b> pixels, backprop <b>{measured}</b> pixels: {verdict}{size_check}")
        return state

    @staticmethod
    def _sizes_upper(layers: list[tuple[int, int, int]], n: int) -> list[int]:
        """The input size of every layer (no padding), to skip inputs too small for the stack."""
        sizes = []
        for kernel, step, spread in layers:
            sizes.append(n)
            n = max((n - spread * (kernel - 1) - 1) // step + 1, 0)
        return sizes


def receptive_field_explorer(
    conv2d_forward: Callable[..., Any],
    conv2d_backward: Callable[..., Any],
    receptive_field: Callable[[list[tuple[int, int, int]]], int],
    conv_output_size: Callable[..., int],
    **options: Any,
) -> ReceptiveFieldExplorer:
    """Build the receptive-field explorer on your own functions.

    Args:
        conv2d_forward, conv2d_backward: your vectorized convolution (section 4).
        receptive_field, conv_output_size: your formulas (section 3).
        **options: ``stack`` (one of ``STACKS``), ``depth`` (1 … 6).
    """
    return ReceptiveFieldExplorer(conv2d_forward, conv2d_backward, receptive_field, conv_output_size, **options)
