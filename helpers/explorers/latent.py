"""Chapter 10 (PCA, autoencoders and VAEs): the latent-space explorer.

It only *calls* the decoder it is given (in the notebook, the trained VAE's decoder built from
the student's functions); it holds no model of its own.

- :func:`latent_explorer`: two sliders place a point in a 2-D code space, drawn over the codes of
  held-out examples coloured by class, and the decoder shows the image of that point; below,
  two held-out examples and a slider ``t`` walk the straight line between their codes, the
  decoded images of the whole walk in a strip and the one at ``t`` marked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np

from helpers.explorers.cnn import describe_error
from helpers.widgets import Explorer, FigureView

__all__ = ["STEPS", "LatentExplorer", "latent_explorer"]

STEPS = 9  # images in the interpolation strip


class LatentExplorer(Explorer):
    """A 2-D code space, decoded live, and the interpolation between two examples' codes.

    ``decode(z)`` maps codes (N, 2) to images (N, side * side) (or (N, side, side)), values in
    [0, 1]. ``codes`` (M, 2) are the codes of M held-out examples, ``labels`` (M,) their classes,
    ``images`` (M, side * side) the examples themselves (shown next to their codes' decodings).

    ``state``: ``z`` (the slider code, (2,)), ``image`` ((side, side), its decoding), ``nearest``
    (the index of the held-out code closest to ``z``) and ``nearest_label``, ``first``, ``second``,
    ``t``, ``path`` ((STEPS, 2), codes from the first example's to the second's), ``strip``
    ((STEPS, side, side)), ``t_code`` and ``t_image`` (the point at ``t`` and its decoding),
    ``error``, ``status``.
    """

    def __init__(
        self,
        decode: Callable[[np.ndarray], Any],
        codes: np.ndarray,
        labels: np.ndarray,
        *,
        images: np.ndarray | None = None,
        z1: float = 0.0,
        z2: float = 0.0,
        first: int = 0,
        second: int = 1,
        t: float = 0.5,
        limit: float = 3.0,
    ) -> None:
        self.decode = decode
        self.codes = np.asarray(codes, dtype=float)
        self.labels = np.asarray(labels)
        if self.codes.ndim != 2 or self.codes.shape[1] != 2 or len(self.codes) < 2:
            raise ValueError(f"codes must have shape (M >= 2, 2), got {self.codes.shape}")
        if self.labels.shape != (len(self.codes),):
            raise ValueError(f"labels must have shape ({len(self.codes)},), got {self.labels.shape}")
        self.images = None if images is None else np.asarray(images, dtype=float).reshape(len(self.codes), -1)
        M = len(self.codes)
        style = {"description_width": "initial"}
        slider = {"min": -limit, "max": limit, "step": 0.05, "continuous_update": True, "style": style}
        controls = {
            "z1": widgets.FloatSlider(value=z1, description="z₁", **slider),
            "z2": widgets.FloatSlider(value=z2, description="z₂", **slider),
            "first": widgets.IntSlider(value=first, min=0, max=M - 1, description="from example",
                                       continuous_update=False, style=style),
            "second": widgets.IntSlider(value=second, min=0, max=M - 1, description="to example",
                                        continuous_update=False, style=style),
            "t": widgets.FloatSlider(value=t, min=0.0, max=1.0, step=0.05, description="t",
                                     continuous_update=True, style=style),
        }
        self.limit = limit
        view = FigureView(nrows=2, ncols=2, figsize=(9.0, 6.4), freeze_layout=True)
        super().__init__(controls, view)
        self.widget.children = (
            widgets.HBox([controls["z1"], controls["z2"]]),
            widgets.HBox([controls["first"], controls["second"], controls["t"]]),
            *self.widget.children[1:],
        )

    def decoded(self, z: np.ndarray) -> np.ndarray:
        """The decoder's images of the codes z (N, 2), as (N, side, side)."""
        out = np.asarray(self.decode(np.asarray(z, dtype=float)), dtype=float)
        if out.ndim < 2 or out.shape[0] != len(z):
            raise ValueError(f"decode: expected {len(z)} images for {len(z)} codes, got an array of shape {out.shape}")
        out = out.reshape(len(z), -1)
        side = int(round(np.sqrt(out.shape[1])))
        if side * side != out.shape[1]:
            raise ValueError(f"decode: expected square images, got {out.shape[1]} pixels each")
        return out.reshape(len(z), side, side)

    def draw(self, *, z1: float, z2: float, first: int, second: int, t: float) -> dict[str, Any]:
        ax_codes, ax_image, ax_strip, ax_pair = self.view.axes
        z = np.array([z1, z2], dtype=float)
        first, second = int(first), int(second)
        path = self.codes[first] + np.linspace(0.0, 1.0, STEPS)[:, None] * (self.codes[second] - self.codes[first])
        t_code = self.codes[first] + t * (self.codes[second] - self.codes[first])
        nearest = int(np.argmin(np.sum((self.codes - z) ** 2, axis=1)))
        state: dict[str, Any] = {"z": z, "image": None, "nearest": nearest, "nearest_label": self.labels[nearest].item(),
                                 "first": first, "second": second, "t": float(t), "path": path, "strip": None,
                                 "t_code": t_code, "t_image": None, "error": None}
        try:
            images = self.decoded(np.vstack([z[None], path, t_code[None]]))
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and "expected" in str(exc) else describe_error(exc)
            for ax in self.view.axes:
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        state.update(image=images[0], strip=images[1:-1], t_image=images[-1])
        ax_codes.scatter(self.codes[:, 0], self.codes[:, 1], c=self.labels, cmap="tab10", s=8, vmin=0, vmax=9)
        ax_codes.plot(path[:, 0], path[:, 1], "k-", lw=1)
        ax_codes.plot(*t_code, "ko", ms=6)
        ax_codes.plot(*z, "rx", ms=12, mew=3)
        ax_codes.set(xlim=(-self.limit, self.limit), ylim=(-self.limit, self.limit), xlabel="z₁", ylabel="z₂",
                     title="codes of held-out examples")
        ax_image.imshow(images[0], cmap="gray_r", vmin=0, vmax=1)
        ax_image.set(xticks=[], yticks=[], title=f"decode(z₁ = {z1:.2f}, z₂ = {z2:.2f})")
        side = images.shape[1]
        ax_strip.imshow(np.hstack(list(images[1:-1])), cmap="gray_r", vmin=0, vmax=1)
        ax_strip.axvline((side * (STEPS - 1)) * t + side / 2 - 0.5, color="red", lw=1.5)
        ax_strip.set(xticks=[], yticks=[], title=f"from example {first} to example {second}")
        pair = [images[-1]] if self.images is None else [self.images[first].reshape(side, side), images[-1],
                                                          self.images[second].reshape(side, side)]
        ax_pair.imshow(np.hstack(pair), cmap="gray_r", vmin=0, vmax=1)
        ax_pair.set(xticks=[], yticks=[], title=f"t = {t:.2f}" + ("" if self.images is None else
                                                                  " (between the two examples)"))
        state["status"] = (f"code ({z1:.2f}, {z2:.2f}): the nearest held-out code is example {nearest} "
                           f"(class {state['nearest_label']}); the walk from example {first} (class "
                           f"{self.labels[first]}) to example {second} (class {self.labels[second]}) is at "
                           f"({t_code[0]:.2f}, {t_code[1]:.2f})")
        return state


def latent_explorer(decode: Callable[[np.ndarray], Any], codes: np.ndarray, labels: np.ndarray,
                    **options: Any) -> LatentExplorer:
    """Build the latent-space explorer on a decoder of 2-D codes.

    Args:
        decode: ``decode(z)`` with z of shape (N, 2) -> images (N, side * side) in [0, 1].
        codes: (M, 2) codes of held-out examples (for instance the encoder's means); labels: (M,) their classes.
        **options: ``images`` ((M, side * side) the examples, shown beside the interpolation), ``z1``,
            ``z2`` (0.0), ``first`` (0), ``second`` (1), ``t`` (0.5), ``limit`` (3.0, the sliders' range).
    """
    return LatentExplorer(decode, codes, labels, **options)
