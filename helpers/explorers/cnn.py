"""Chapter 06 (CNNs): the convolution explorer.

The explorer only *calls* the convolution it is given (the student's ``conv2d_forward``); it
contains no convolution of its own. It shows one image and one 3 x 3 kernel, the (padded)
input with the window that one output pixel sees, the kernel, the output feature map, and
the output-size formula with the current numbers.
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

__all__ = ["IMAGES", "KERNELS", "ConvolutionExplorer", "convolution_explorer", "make_image", "make_kernel"]

IMAGES = ("digit 0", "digit 3", "digit 7", "square", "cross", "stripes")
KERNELS = ("identity", "vertical edges", "horizontal edges", "blur", "sharpen", "random")


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

    ``state`` after each draw: ``image``, ``kernel``, ``stride``, ``padding``, ``dilation``,
    ``position`` (the slider), ``input`` (the image), ``weights`` (the kernel), ``output``
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
        controls = {
            "image": widgets.Dropdown(options=list(IMAGES), value=image, description="image"),
            "kernel": widgets.Dropdown(options=list(KERNELS), value=kernel, description="kernel"),
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
        self.widget.children = (
            widgets.HBox([controls["image"], controls["kernel"], controls["position"]]),
            widgets.HBox([controls["stride"], controls["padding"], controls["dilation"]]),
            *self.widget.children[1:],
        )

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

    def draw(self, *, image: str, kernel: str, stride: int, padding: int, dilation: int,
             position: int) -> dict[str, Any]:
        ax_in, ax_k, ax_out = self.view.axes
        x, w = make_image(image), make_kernel(kernel, self.seed)
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
            ax.text(v, u, f"{value:.2g}", ha="center", va="center", fontsize=9)
        ax.set(xticks=[], yticks=[], title=f"kernel: {name}")


def convolution_explorer(conv2d_forward: Callable[..., Any], **options: Any) -> ConvolutionExplorer:
    """Build the convolution explorer on your own convolution.

    Args:
        conv2d_forward: ``conv2d_forward(x, w, b, stride=, padding=, dilation=) -> (out, cache)``
            for x of shape (1, 1, H, W) and w of shape (1, 1, 3, 3).
        **options: ``image`` ("digit 3"; one of ``IMAGES``), ``kernel`` ("vertical edges"; one
            of ``KERNELS``), ``stride`` (1), ``padding`` (0), ``dilation`` (1), ``seed`` (0, for
            the random kernel).
    """
    return ConvolutionExplorer(conv2d_forward, **options)
