"""Chapter 08 (language models and attention): the attention explorer and the positional-encoding viewer.

Both only *call* the functions they are given (the student's ``attention_forward`` and
``positional_encoding``); they contain no attention and no encoding of their own.

- :func:`attention_explorer`: the attention weights of every head of a trained model on its own
  inputs (queries and keys computed in the notebook), recomputed by the student's
  ``attention_forward`` with a temperature, a causal mask and padding; one query highlighted.
- :func:`positional_encoding_viewer`: the encodings of positions 0 .. T-1 and the dot product of
  one position's encoding with every other's, which depends only on their distance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Rectangle

from helpers.explorers.cnn import describe_error
from helpers.widgets import Explorer, FigureView

__all__ = ["TEMPERATURES", "WIDTHS", "AttentionExplorer", "PositionalEncodingViewer", "attention_explorer",
           "positional_encoding_viewer"]

TEMPERATURES = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
WIDTHS = (4, 8, 16, 32, 64, 128, 256)


def _entropy(p: np.ndarray) -> float:
    """Entropy in bits of a distribution (0 log 0 = 0)."""
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


class AttentionExplorer(Explorer):
    """Heat maps of each head's attention weights on one input, through the student's attention_forward.

    ``examples`` maps a name to ``{"tokens": [str, ...], "layers": [(q, k), ...]}`` with ``q``
    and ``k`` arrays (heads, T, d) of one layer (the trained model's queries and keys on that
    input). The explorer calls ``attention_forward(q[None], k[None], k[None], mask=..., causal=...,
    scale=1 / (temperature * sqrt(d)))``: the temperature divides the scores, the padding control
    hides the last keys (a padding mask of shape (1, 1, 1, T)).

    ``state``: ``example``, ``layer``, ``query``, ``temperature``, ``causal``, ``padding``,
    ``weights`` ((heads, T, T) or None), ``row`` ((heads, T), the query's weights), ``entropy``
    (bits per head of the query's row), ``top`` (the key each head attends to most), ``error``, ``status``.
    """

    def __init__(
        self,
        attention_forward: Callable[..., Any],
        examples: Mapping[str, Mapping[str, Any]],
        *,
        example: str | None = None,
        layer: int = 0,
        query: int | None = None,
        temperature: float = 1.0,
        causal: bool = True,
        padding: int = 0,
    ) -> None:
        if not examples:
            raise ValueError("examples must hold at least one input")
        self.attention_forward = attention_forward
        self.examples = {name: {"tokens": list(ex["tokens"]),
                                "layers": [(np.asarray(q, dtype=float), np.asarray(k, dtype=float))
                                           for q, k in ex["layers"]]}
                         for name, ex in examples.items()}
        for name, ex in self.examples.items():
            T = len(ex["tokens"])
            for q, k in ex["layers"]:
                if q.ndim != 3 or q.shape != k.shape or q.shape[1] != T:
                    raise ValueError(f"example {name!r}: q and k must both be (heads, T={T}, d), got {q.shape}, "
                                     f"{k.shape}")
        first = self.examples[example or next(iter(self.examples))]
        T, n_layers = len(first["tokens"]), len(first["layers"])
        self.heads = first["layers"][0][0].shape[0]
        style = {"description_width": "initial"}
        controls = {
            "example": widgets.Dropdown(options=list(self.examples), value=example or next(iter(self.examples)),
                                        description="input"),
            "layer": widgets.ToggleButtons(options=[(f"layer {i + 1}", i) for i in range(n_layers)], value=layer,
                                           description="layer"),
            "query": widgets.IntSlider(value=T - 1 if query is None else query, min=0, max=T - 1,
                                       description="query position", continuous_update=False, style=style),
            "temperature": widgets.SelectionSlider(options=list(TEMPERATURES), value=temperature,
                                                   description="temperature", continuous_update=False, style=style),
            "causal": widgets.Checkbox(value=causal, description="causal mask"),
            "padding": widgets.IntSlider(value=padding, min=0, max=T, description="padded keys at the end",
                                         continuous_update=False, style=style),
        }
        super().__init__(controls, FigureView(ncols=self.heads, figsize=(4.2 * self.heads, 4.2),
                                              freeze_layout=True))
        self.widget.children = (
            widgets.HBox([controls["example"], controls["layer"]]),
            widgets.HBox([controls["query"], controls["temperature"]]),
            widgets.HBox([controls["causal"], controls["padding"]]),
            *self.widget.children[1:],
        )

    def weights(self, example: str, layer: int, temperature: float, causal: bool, padding: int) -> np.ndarray:
        """Every head's weights (heads, T, T) from the student's attention_forward."""
        q, k = self.examples[example]["layers"][layer]
        heads, T, d = q.shape
        mask = np.ones((1, 1, 1, T), dtype=bool)
        if padding:
            mask[..., T - padding:] = False
        result = self.attention_forward(q[None], k[None], k[None], mask=mask, causal=causal,
                                        scale=1.0 / (temperature * np.sqrt(d)))
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise ValueError("attention_forward: expected (out, weights, cache)")
        w = np.asarray(result[1], dtype=float)
        if w.shape != (1, heads, T, T):
            raise ValueError(f"attention_forward: expected weights of shape {(1, heads, T, T)}, got {w.shape}")
        return w[0]

    def draw(self, *, example: str, layer: int, query: int, temperature: float, causal: bool,
             padding: int) -> dict[str, Any]:
        tokens = self.examples[example]["tokens"]
        T = len(tokens)
        query, padding = min(int(query), T - 1), min(int(padding), T)
        state: dict[str, Any] = {"example": example, "layer": layer, "query": query, "temperature": temperature,
                                 "causal": causal, "padding": padding, "weights": None, "row": None,
                                 "entropy": None, "top": None, "error": None}
        try:
            w = self.weights(example, layer, temperature, causal, padding)
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and "expected" in str(exc) else describe_error(exc)
            for ax in self.view.axes:
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        row = w[:, query]
        state.update(weights=w, row=row, entropy=[_entropy(r) for r in row], top=[int(np.argmax(r)) for r in row])
        for head, ax in enumerate(self.view.axes):
            ax.imshow(w[head], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.add_patch(Rectangle((-0.5, query - 0.5), T, 1, fill=False, edgecolor="red", lw=1.5))
            ax.set_xticks(range(T), tokens, fontsize=7)
            ax.set_yticks(range(T), tokens, fontsize=7)
            ax.set(xlabel="key", ylabel="query", title=f"layer {layer + 1}, head {head + 1}")
        masked = "" if padding == 0 else f", the last {padding} keys padded"
        rows = "<br>".join(
            f"head {h + 1}: query {query} ({tokens[query]!r}) looks most at key {state['top'][h]} "
            f"({tokens[state['top'][h]]!r}, weight {row[h, state['top'][h]]:.2f}); entropy "
            f"{state['entropy'][h]:.2f} bits" for h in range(len(row)))
        empty = "" if row.sum() > 0 else "<br><b>every key of this query is masked: its weights are all 0</b>"
        state["status"] = (f"temperature {temperature:g} (scores divided by {temperature:g}), "
                           f"{'causal' if causal else 'no causal mask'}{masked}<br>{rows}{empty}")
        return state


def attention_explorer(attention_forward: Callable[..., Any], examples: Mapping[str, Mapping[str, Any]],
                       **options: Any) -> AttentionExplorer:
    """Build the attention explorer on your ``attention_forward`` and a model's queries and keys.

    Args:
        attention_forward: ``attention_forward(q, k, v, mask=None, causal=False, scale=None) ->
            (out, weights, cache)``.
        examples: name -> ``{"tokens": [...], "layers": [(q, k), ...]}``, q and k (heads, T, d).
        **options: ``example`` (the first), ``layer`` (0), ``query`` (the last position),
            ``temperature`` (1.0; one of ``TEMPERATURES``), ``causal`` (True), ``padding`` (0).
    """
    return AttentionExplorer(attention_forward, examples, **options)


class PositionalEncodingViewer(Explorer):
    """The sinusoidal encodings of T positions and the dot products of one position's with all others.

    ``state``: ``width``, ``length``, ``position``, ``pe`` ((T, E) from the student's function),
    ``dots`` ((T,) the dot products of row ``position`` with every row), ``symmetric`` (whether
    the dots at equal distance before and after the position agree), ``error``, ``status``.
    """

    def __init__(self, positional_encoding: Callable[[int, int], Any], *, width: int = 64, length: int = 100,
                 position: int = 40) -> None:
        self.positional_encoding = positional_encoding
        style = {"description_width": "initial"}
        controls = {
            "width": widgets.SelectionSlider(options=list(WIDTHS), value=width, description="width E",
                                             continuous_update=False, style=style),
            "length": widgets.IntSlider(value=length, min=10, max=400, step=10, description="positions T",
                                        continuous_update=False, style=style),
            "position": widgets.IntSlider(value=position, min=0, max=399, description="position t₀",
                                          continuous_update=False, style=style),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(11.0, 3.8)))

    def draw(self, *, width: int, length: int, position: int) -> dict[str, Any]:
        ax_pe, ax_dot = self.view.axes
        position = min(int(position), int(length) - 1)
        state: dict[str, Any] = {"width": width, "length": int(length), "position": position, "pe": None,
                                 "dots": None, "symmetric": None, "error": None}
        try:
            pe = np.asarray(self.positional_encoding(int(length), int(width)), dtype=float)
            if pe.shape != (int(length), int(width)):
                raise ValueError(f"positional_encoding: expected shape {(int(length), int(width))}, got {pe.shape}")
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and "expected" in str(exc) else describe_error(exc)
            for ax in (ax_pe, ax_dot):
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        dots = pe @ pe[position]
        reach = min(position, int(length) - 1 - position)
        symmetric = bool(np.allclose(dots[position - reach:position][::-1], dots[position + 1:position + reach + 1],
                                     atol=1e-9)) if reach else True
        state.update(pe=pe, dots=dots, symmetric=symmetric)
        ax_pe.imshow(pe, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax_pe.axhline(position, color="k", lw=1)
        ax_pe.set(xlabel="column (pairs: sin, cos)", ylabel="position t", title=f"PE of {int(length)} positions, "
                  f"E = {width}")
        ax_dot.plot(np.arange(int(length)), dots, lw=1.5)
        ax_dot.axvline(position, color="k", lw=1, ls=":")
        ax_dot.axhline(width / 2, color="gray", lw=0.8, ls="--")
        ax_dot.set(xlabel="position t", ylabel="PE[t₀] · PE[t]", title=f"dot products with position {position}")
        state["status"] = (f"PE[t₀] · PE[t₀] = {dots[position]:.3g} (about E / 2 = {width / 2:g}); the dot product "
                           f"falls off with the distance |t − t₀| and is "
                           f"{'the same' if symmetric else '<b>not</b> the same'} at equal distances before and after "
                           "t₀: it is a sum of cos(ω (t − t₀)), a function of the offset only")
        return state


def positional_encoding_viewer(positional_encoding: Callable[[int, int], Any], **options: Any
                               ) -> PositionalEncodingViewer:
    """Build the positional-encoding viewer on your ``positional_encoding(T, E) -> (T, E)``.

    Args:
        positional_encoding: the function to show.
        **options: ``width`` (64; one of ``WIDTHS``), ``length`` (100; 10 … 400), ``position`` (40).
    """
    return PositionalEncodingViewer(positional_encoding, **options)

