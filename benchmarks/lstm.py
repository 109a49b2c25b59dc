"""Chapter 07's LSTM layer, timed: numpy (dllib.ch07_rnn) vs PyTorch's nn.LSTM on the CPU.

    python benchmarks/lstm.py [--repeats 15] [--module path/to/file.py]

Forward + backward of one LSTM layer over a whole sequence: N=32, T=50, D=64, H=128, in float32
for both (the goal: numpy within 3× of torch), at one thread and at all threads. The numpy
``lstm_forward`` / ``lstm_backward`` come from ``dllib.ch07_rnn`` (what ``./course build``
exports from solutions/07_rnn.py); ``--module`` reads them from another Python file instead (for
example an older copy, or tests/test_explorer_rnn.py's reference). torch gets the same weights
(``weight_ih_l0`` etc.), and the numpy results are checked against torch's before timing. numpy
and torch run alternately, so that both see the same load on a shared machine; every figure is
a median over the repeats, and ratios come from this one run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from threadpoolctl import threadpool_limits

N, T, D, H = 32, 50, 64, 128
TORCH_NAMES = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}


def load_module(path: Path | None) -> ModuleType:
    """dllib.ch07_rnn, or the Python file at `path`."""
    if path is None:
        try:
            return importlib.import_module("dllib.ch07_rnn")
        except ModuleNotFoundError as exc:
            raise SystemExit(f"{exc}: build chapter 07 first (./course build), or pass --module FILE") from exc
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def median_seconds(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each run, the runs taking turns (after one warm-up each)."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def layer_steps(module: ModuleType, dtype: type = np.float32) -> dict[str, Callable[[], object]]:
    """One forward + backward pass of the layer in numpy and in torch, in `dtype`, checked to agree."""
    forward, backward = module.lstm_forward, module.lstm_backward
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(H)
    params = {key: rng.uniform(-bound, bound, size=shape).astype(dtype)
              for key, shape in (("W_ih", (4 * H, D)), ("W_hh", (4 * H, H)), ("b_ih", (4 * H,)),
                                 ("b_hh", (4 * H,)))}
    x = rng.normal(size=(N, T, D)).astype(dtype)
    h0, c0 = np.zeros((N, H), dtype=dtype), np.zeros((N, H), dtype=dtype)
    dh = rng.normal(size=(N, T, H)).astype(dtype)

    def numpy_step():
        h, c, cache = forward(x, h0, c0, params)
        return h, backward(dh, cache)

    layer = torch.nn.LSTM(D, H, batch_first=True).to(torch.float32 if dtype == np.float32 else torch.float64)
    with torch.no_grad():
        for key, name in TORCH_NAMES.items():
            getattr(layer, name).copy_(torch.from_numpy(params[key]))
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0[None], c0[None]))
    tdh = torch.tensor(dh)

    def torch_step():
        for t in (tx, th0, tc0, *layer.parameters()):
            t.grad = None
        out, _ = layer(tx, (th0, tc0))
        out.backward(tdh)
        return out

    h, (dx, dh0, dc0, grads) = numpy_step()
    out = torch_step()
    tol = 1e-3 if dtype == np.float32 else 1e-8
    for name, ours, theirs in (("h", h, out.detach()), ("dx", dx, tx.grad), ("dW_hh", grads["W_hh"],
                               layer.weight_hh_l0.grad), ("dW_ih", grads["W_ih"], layer.weight_ih_l0.grad)):
        assert np.asarray(ours).dtype == np.dtype(dtype), f"{name}: expected {np.dtype(dtype)}, got {ours.dtype}"
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=tol, atol=tol, err_msg=f"numpy {name} != torch")
    return {"numpy": numpy_step, "torch": torch_step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--module", type=Path, default=None,
                        help="a Python file defining lstm_forward and lstm_backward (default: dllib.ch07_rnn)")
    args = parser.parse_args()
    module = load_module(args.module)
    print(f"LSTM forward+backward, N={N}, T={T}, D={D}, H={H}, float32; numpy from {module.__name__}; "
          f"median of {args.repeats}")
    steps = layer_steps(module, np.float32)
    all_threads = torch.get_num_threads()
    for threads in sorted({1, all_threads}):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            t = median_seconds(steps, args.repeats)
        print(f"  {threads} thread(s): numpy {t['numpy'] * 1e3:7.1f} ms   torch {t['torch'] * 1e3:7.1f} ms   "
              f"numpy / torch = {t['numpy'] / t['torch']:.2f}×")
    torch.set_num_threads(all_threads)


if __name__ == "__main__":
    main()
