"""Chapter 07 (recurrent networks): the gradient-flow explorer and the sampling explorer.

Both explorers only *call* the functions they are given (the student's ``rnn_forward`` /
``rnn_backward``, ``gru_*``, ``lstm_*``, ``sample_token`` and a ``next_logits`` closure over the
trained model); they contain no recurrent cell and no sampler of their own.

- :func:`gradient_flow_explorer`: how far back the gradient of a loss on the *last* hidden state
  reaches, for a vanilla RNN, a GRU and an LSTM, as the spectral radius of ``W_hh``, the
  sequence length, the input scale and the forget (update) gate bias change.
- :func:`sampling_explorer`: text generated one character at a time with a temperature and
  top-k, and the next-character distribution that the sampler draws from after the prefix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np

from helpers.explorers.cnn import describe_error
from helpers.widgets import Explorer, FigureView

__all__ = [
    "CELLS", "GATES", "GradientFlowExplorer", "SamplingExplorer", "gradient_flow_explorer", "recurrent_weights",
    "sampling_explorer", "show_char",
]

CELLS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # gate blocks of W_ih and W_hh, PyTorch's order
RADII = (0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0)
INPUT_SCALES = (0.0, 0.1, 0.3, 1.0, 3.0)
FLOOR = 1e-300  # a gradient norm below this (or exactly 0) is drawn at the floor


def recurrent_weights(cell: str, D: int, H: int, radius: float, gate_bias: float = 0.0,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters of one recurrent layer (PyTorch's layout) whose ``W_hh`` has a chosen spectral radius.

    Every H x H block of ``W_hh`` (one per gate) is ``radius`` times a random orthogonal matrix,
    so all its eigenvalues have modulus ``radius``. ``W_ih`` is normal with variance 1/D, the
    biases are zero except the forget gate's (LSTM, block f) or the update gate's (GRU, block z),
    which are ``gate_bias``: a large bias keeps the gate open and the old state flowing.
    A new float64 array for each key; deterministic in ``seed``.
    """
    if cell not in GATES:
        raise KeyError(f"unknown cell {cell!r}; known: {list(CELLS)}")
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    blocks = []
    for _ in range(G):
        q, r = np.linalg.qr(rng.normal(size=(H, H)))
        blocks.append(radius * q * np.sign(np.diag(r)))  # sign fix: uniformly distributed rotation
    params = {
        "W_ih": rng.normal(size=(G * H, D)) / np.sqrt(D),
        "W_hh": np.concatenate(blocks, axis=0),
        "b_ih": np.zeros(G * H),
        "b_hh": np.zeros(G * H),
    }
    if cell in ("gru", "lstm"):
        params["b_ih"][H:2 * H] = gate_bias  # GRU (r, z, n): z; LSTM (i, f, g, o): f
    return params


def _reach(norms: np.ndarray, fraction: float = 1e-3) -> int:
    """How many steps back from the last one the gradient keeps at least ``fraction`` of its size."""
    last = norms[-1]
    if not np.isfinite(last) or last == 0:
        return 0
    below = np.flatnonzero(~(norms[::-1] >= fraction * last))  # nan and inf count as "lost"
    return int(below[0]) - 1 if len(below) else len(norms) - 1


class GradientFlowExplorer(Explorer):
    """How far back the gradient of a loss on the last hidden state reaches, per cell type.

    A batch of random input sequences (N x T x D) runs through the student's ``*_forward`` from a
    zero state; the loss is ``L = sum_n v_n · h[n, T-1]`` for fixed random unit vectors ``v_n``,
    so ``dh`` is zero except at the last step. The student's ``*_backward`` gives ``dx``; the plot
    shows ``||dL/dx_t||`` (root mean square over the batch of each sequence's norm) on a log axis
    for every cell given, the selected one bold, and the selected cell's hidden state over time.

    There is no nonlinearity control: the chapter's cells have their nonlinearities fixed (tanh and
    the gates' sigmoids), as in PyTorch.

    ``state``: ``cell``, ``radius``, ``length``, ``input_scale``, ``gate_bias``, ``params`` (of the
    selected cell), ``x``, ``h`` (N, T, H hidden states of the selected cell), ``norms`` (cell ->
    (T,) array of gradient norms, for each cell that ran), ``ratio`` (``norms[0] / norms[T-1]``
    of the selected cell), ``reach`` (steps back with at least 1/1000 of the last step's norm),
    ``errors`` (cell -> message), ``error`` (the selected cell's, or ``None``), ``status``.
    """

    def __init__(
        self,
        cells: Mapping[str, tuple[Callable[..., Any], Callable[..., Any]]],
        *,
        cell: str | None = None,
        radius: float = 1.0,
        length: int = 50,
        input_scale: float = 1.0,
        gate_bias: float = 0.0,
        hidden: int = 32,
        inputs: int = 8,
        batch: int = 8,
        seed: int = 0,
    ) -> None:
        unknown = set(cells) - set(CELLS)
        if unknown or not cells:
            raise KeyError(f"cells must be a dict with keys among {list(CELLS)}, got {sorted(cells)}")
        self.cells = dict(cells)
        self.hidden, self.inputs, self.batch, self.seed = hidden, inputs, batch, seed
        names = [name for name in CELLS if name in self.cells]
        style = {"description_width": "initial"}
        controls = {
            "cell": widgets.ToggleButtons(options=names, value=cell or names[0], description="cell"),
            "radius": widgets.SelectionSlider(options=list(RADII), value=radius,
                                              description="spectral radius of W_hh",
                                              continuous_update=False, style=style),
            "length": widgets.IntSlider(value=length, min=10, max=200, step=10, description="length T",
                                        continuous_update=False, style=style),
            "input_scale": widgets.SelectionSlider(options=list(INPUT_SCALES), value=input_scale,
                                                   description="input scale", continuous_update=False,
                                                   style=style),
            "gate_bias": widgets.FloatSlider(value=gate_bias, min=-3.0, max=5.0, step=0.5,
                                             description="forget / update gate bias",
                                             continuous_update=False, style=style),
        }
        super().__init__(controls, FigureView(ncols=2, figsize=(11.0, 3.8)))
        self.widget.children = (
            widgets.HBox([controls["cell"], controls["length"]]),
            widgets.HBox([controls["radius"], controls["input_scale"], controls["gate_bias"]]),
            *self.widget.children[1:],
        )

    def _run(self, cell: str, radius: float, length: int, input_scale: float,
             gate_bias: float) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        """(params, x, h, gradient norms over t) of one cell through the student's functions."""
        N, T, D, H = self.batch, int(length), self.inputs, self.hidden
        params = recurrent_weights(cell, D, H, radius, gate_bias, self.seed)
        rng = np.random.default_rng(self.seed + 1)
        x = input_scale * rng.normal(size=(N, T, D))
        v = rng.normal(size=(N, H))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        h0 = np.zeros((N, H))
        forward, backward = self.cells[cell]
        if cell == "lstm":
            h, _, cache = forward(x, h0, h0.copy(), params)
        else:
            h, cache = forward(x, h0, params)
        h = np.asarray(h, dtype=float)
        if h.shape != (N, T, H):
            raise ValueError(f"{cell} forward: expected h of shape (N, T, H) = {(N, T, H)}, got {h.shape}")
        dh = np.zeros((N, T, H))
        dh[:, -1] = v
        dx = np.asarray(backward(dh, cache)[0], dtype=float)
        if dx.shape != x.shape:
            raise ValueError(f"{cell} backward: expected dx of shape (N, T, D) = {x.shape}, got {dx.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            norms = np.sqrt(np.mean(np.sum(dx**2, axis=2), axis=0))
        return params, x, h, norms

    def draw(self, *, cell: str, radius: float, length: int, input_scale: float,
             gate_bias: float) -> dict[str, Any]:
        ax_grad, ax_h = self.view.axes
        state: dict[str, Any] = {"cell": cell, "radius": radius, "length": int(length),
                                 "input_scale": input_scale, "gate_bias": gate_bias, "norms": {},
                                 "errors": {}, "error": None, "h": None, "ratio": None, "reach": None}
        runs = {}
        for name in self.cells:
            try:
                runs[name] = self._run(name, radius, length, input_scale, gate_bias)
            except Exception as exc:  # show the student's error in the widget, don't crash it
                state["errors"][name] = describe_error(exc) if not isinstance(exc, ValueError) or (
                    "expected" not in str(exc)) else str(exc)
            else:
                state["norms"][name] = runs[name][3]
        if cell not in runs:
            state["error"] = state["errors"][cell]
            for ax in (ax_grad, ax_h):
                ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                        transform=ax.transAxes, fontsize=9)
                ax.set(xticks=[], yticks=[])
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        params, x, h, norms = runs[cell]
        state.update(params=params, x=x, h=h)
        t = np.arange(int(length))
        for name, curve in state["norms"].items():
            shown = np.where(np.isfinite(curve), np.maximum(curve, FLOOR), np.nan)
            selected = name == cell
            ax_grad.semilogy(t, shown, color=f"C{CELLS.index(name)}", lw=2.2 if selected else 1.0,
                             alpha=1.0 if selected else 0.5, ls="-" if selected else "--", label=name)
        ax_grad.set(xlabel="time step t", ylabel="‖dL/dx_t‖", xlim=(0, int(length) - 1),
                    title="gradient of a loss on h at the last step")
        ax_grad.legend(fontsize=8, loc="lower right")
        for unit in range(min(6, h.shape[2])):
            ax_h.plot(t, h[0, :, unit], lw=1.2)
        ax_h.set(xlabel="time step t", ylabel="h_t (6 units, sequence 0)", xlim=(0, int(length) - 1),
                 ylim=(-1.05, 1.05), title=f"{cell}: hidden state over time")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = float(norms[0] / norms[-1])
        reach = _reach(norms)
        state.update(ratio=ratio, reach=reach)
        blocks = GATES[cell]
        radius_text = f"each of its {blocks} gate blocks has spectral radius {radius}" if blocks > 1 else (
            f"spectral radius {radius}")
        bias_text = {"lstm": f", forget gate bias {gate_bias:g}", "gru": f", update gate bias {gate_bias:g}",
                     "rnn": " (the gate bias does not apply to the vanilla RNN)"}[cell]
        if not np.all(np.isfinite(norms)):
            verdict = "<b style='color:#c00'>the gradient overflowed (inf or nan): it explodes</b>"
        else:
            verdict = (f"‖dL/dx_0‖ / ‖dL/dx_{{T−1}}‖ = <b>{ratio:.2g}</b>; the gradient keeps at least 1/1000 "
                       f"of its size for <b>{reach}</b> of {int(length) - 1} steps back")
        failed = "".join(f"<br><span style='color:#c00'>{name}: {message}</span>"
                         for name, message in state["errors"].items())
        state["status"] = f"{cell}: W_hh {radius_text}{bias_text}, T = {int(length)}<br>{verdict}{failed}"
        return state


def gradient_flow_explorer(
    cells: Mapping[str, tuple[Callable[..., Any], Callable[..., Any]]], **options: Any
) -> GradientFlowExplorer:
    """Build the gradient-flow explorer on your own recurrent layers.

    Args:
        cells: ``{"rnn": (rnn_forward, rnn_backward), "gru": (gru_forward, gru_backward),
            "lstm": (lstm_forward, lstm_backward)}``, any non-empty subset. ``rnn_forward(x, h0,
            params) -> (h, cache)``, ``rnn_backward(dh, cache) -> (dx, dh0, grads)``, the same for
            the GRU; ``lstm_forward(x, h0, c0, params) -> (h, c, cache)``, ``lstm_backward(dh,
            cache) -> (dx, dh0, dc0, grads)``.
        **options: ``cell`` (the first one given), ``radius`` (1.0; one of ``RADII``), ``length``
            (50; 10 … 200), ``input_scale`` (1.0; one of ``INPUT_SCALES``), ``gate_bias`` (0.0;
            −3 … 5), ``hidden`` (32), ``inputs`` (8), ``batch`` (8), ``seed`` (0).
    """
    return GradientFlowExplorer(cells, **options)


# ----------------------------------------------------------------------------- sampling

TEMPERATURES = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0)


def show_char(char: str) -> str:
    """A visible label for a character: '⏎' for a new line, '␣' for a space, '⇥' for a tab."""
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(char, char)


class SamplingExplorer(Explorer):
    """Text generated one character at a time by the trained model and the student's sampler.

    Generation starts from the prefix: ``next_logits(text)`` gives the model's scores for the next
    character, ``sample_token(scores[None], rng, temperature=, top_k=)`` picks it, it is appended,
    and so on ``length`` times, with ``rng = np.random.default_rng(seed)``. The "sample" button
    moves to the next seed. The bar chart shows, for the 20 characters the model finds likeliest
    after the prefix, how often the student's ``sample_token`` picks each of them in ``draws``
    draws at the current temperature and top-k (dots: the model's own probabilities, temperature 1).

    ``state``: ``prefix``, ``temperature``, ``top_k`` (``None`` when off), ``length``, ``seed``,
    ``logits`` (after the prefix), ``probabilities`` (softmax of the logits), ``frequencies``
    (share of the draws per vocabulary entry), ``shown`` (indices of the bars, likeliest first),
    ``generated`` (the new text), ``text`` (prefix + generated), ``error``, ``status``.
    """

    def __init__(
        self,
        next_logits: Callable[[str], np.ndarray],
        vocab: list[str],
        sample_token: Callable[..., Any],
        *,
        prefix: str = "",
        temperature: float = 1.0,
        top_k: int | None = None,
        length: int = 200,
        seed: int = 0,
        draws: int = 4000,
        bars: int = 20,
    ) -> None:
        self.next_logits, self.vocab, self.sample_token = next_logits, list(vocab), sample_token
        self.draws, self.bars = draws, bars
        self.index = {char: i for i, char in enumerate(self.vocab)}
        V = len(self.vocab)
        style = {"description_width": "initial"}
        controls = {
            "prefix": widgets.Text(value=prefix, description="prefix", continuous_update=False,
                                   layout=widgets.Layout(width="320px")),
            "temperature": widgets.SelectionSlider(options=list(TEMPERATURES), value=temperature,
                                                   description="temperature", continuous_update=False,
                                                   style=style),
            "top_k": widgets.SelectionSlider(options=[("off", 0)] + [(str(k), k) for k in range(1, V + 1)],
                                             value=top_k or 0, description="top-k",
                                             continuous_update=False, style=style),
            "length": widgets.IntSlider(value=length, min=10, max=1000, step=10, description="length",
                                        continuous_update=False, style=style),
            "seed": widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                           layout=widgets.Layout(width="160px")),
        }
        self.button = widgets.Button(description="sample", tooltip="a new sample: the next seed",
                                     icon="refresh")
        self.text = widgets.HTML()
        super().__init__(controls, FigureView(figsize=(11.0, 3.0)))
        self.button.on_click(self._next_seed)
        self.widget.children = (
            widgets.HBox([controls["prefix"], controls["length"], controls["seed"], self.button]),
            widgets.HBox([controls["temperature"], controls["top_k"]]),
            self.text,
            *self.widget.children[1:],
        )

    def _next_seed(self, _button: Any = None) -> None:
        self.controls["seed"].value += 1  # redraws through the control's observer

    def _logits(self, text: str) -> np.ndarray:
        logits = np.asarray(self.next_logits(text), dtype=float)
        if logits.shape != (len(self.vocab),):
            raise ValueError(f"next_logits must return one score per vocabulary entry, shape "
                             f"({len(self.vocab)},); got {logits.shape}")
        return logits

    def _sample(self, logits: np.ndarray, rng: np.random.Generator, temperature: float,
                top_k: int | None) -> np.ndarray:
        picked = np.asarray(self.sample_token(logits, rng, temperature=temperature, top_k=top_k))
        if picked.shape != (len(logits),) or not np.issubdtype(picked.dtype, np.integer):
            raise ValueError(f"sample_token must return int indices of shape (N,) = ({len(logits)},), got "
                             f"{picked.dtype} {picked.shape}")
        if picked.min() < 0 or picked.max() >= len(self.vocab):
            raise ValueError(f"sample_token returned an index outside 0 … {len(self.vocab) - 1}")
        return picked

    def draw(self, *, prefix: str, temperature: float, top_k: int, length: int, seed: int) -> dict[str, Any]:
        (ax,) = self.view.axes
        k = int(top_k) or None
        state: dict[str, Any] = {"prefix": prefix, "temperature": temperature, "top_k": k, "length": int(length),
                                 "seed": int(seed), "generated": None, "text": None, "error": None}
        unknown = sorted({char for char in prefix if char not in self.index})
        try:
            if unknown:
                raise ValueError("the prefix has characters the model does not know: "
                                 + ", ".join(repr(char) for char in unknown))
            logits = self._logits(prefix)
            tiled = np.tile(logits, (self.draws, 1))
            picked = self._sample(tiled, np.random.default_rng([int(seed), 1]), temperature, k)
            frequencies = np.bincount(picked, minlength=len(self.vocab)) / self.draws
            rng, text = np.random.default_rng(int(seed)), prefix
            for _ in range(int(length)):
                scores = logits if text == prefix else self._logits(text)
                text += self.vocab[int(self._sample(scores[None], rng, temperature, k)[0])]
        except Exception as exc:  # show the student's error in the widget, don't crash it
            state["error"] = str(exc) if isinstance(exc, ValueError) and (
                "prefix" in str(exc) or "must return" in str(exc) or "outside" in str(exc)) else describe_error(exc)
            ax.text(0.5, 0.5, state["error"], ha="center", va="center", color="C3", wrap=True,
                    transform=ax.transAxes, fontsize=9)
            ax.set(xticks=[], yticks=[])
            self.text.value = ""
            state["status"] = f"<b style='color:#c00'>{state['error']}</b>"
            return state
        shifted = np.exp(logits - logits.max())
        probabilities = shifted / shifted.sum()
        shown = np.argsort(-logits, kind="stable")[: self.bars]
        positions = np.arange(len(shown))
        ax.bar(positions, frequencies[shown], color="C0", label=f"your sample_token ({self.draws} draws)")
        ax.plot(positions, probabilities[shown], "o", color="C1", ms=5, label="model, temperature 1")
        ax.set_xticks(positions, [show_char(self.vocab[i]) for i in shown])
        ax.set(ylabel="probability", ylim=(0, 1.02),
               title=f"next character after the prefix (temperature {temperature:g}, "
                     f"top-k {k or 'off'}); the likeliest {len(shown)}")
        ax.legend(fontsize=8, loc="upper right")
        generated = text[len(prefix):]
        state.update(logits=logits, probabilities=probabilities, frequencies=frequencies, shown=shown,
                     generated=generated, text=text)
        escape = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
        self.text.value = (f"<pre style='white-space:pre-wrap; line-height:1.3'><b>{prefix.translate(escape)}</b>"
                           f"{generated.translate(escape)}</pre>")
        outside = 1.0 - float(frequencies[shown].sum())
        state["status"] = (f"{int(length)} characters, seed {int(seed)}; the bars cover "
                           f"{1 - outside:.1%} of the draws ({outside:.1%} went to other characters)")
        return state


def sampling_explorer(
    next_logits: Callable[[str], np.ndarray], vocab: list[str], sample_token: Callable[..., Any], **options: Any
) -> SamplingExplorer:
    """Build the sampling explorer on your trained model and your ``sample_token``.

    Args:
        next_logits: ``next_logits(text) -> scores`` of shape (V,): the model's logits for the
            character that follows ``text`` (called once per generated character with the text
            so far; keep the hidden state of the previous call to make it fast).
        vocab: the V characters, ``vocab[i]`` for index ``i``.
        sample_token: ``sample_token(logits, rng, temperature=1.0, top_k=None) -> idx`` (N,).
        **options: ``prefix`` (""), ``temperature`` (1.0; one of ``TEMPERATURES``), ``top_k``
            (``None`` = off, or 1 … V), ``length`` (200; 10 … 1000), ``seed`` (0), ``draws``
            (4000 draws for the bar chart), ``bars`` (20).
    """
    return SamplingExplorer(next_logits, vocab, sample_token, **options)
