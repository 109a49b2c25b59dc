"""Chapter 06's convolution layer, timed: vectorized numpy vs PyTorch on the CPU, and vs loops.

    python benchmarks/conv.py [--repeats 15] [--threads 1 2] [--source solutions/06_cnn.py]

Forward + backward of one layer: N=64, C=16, a 16×16 input, 32 filters 3×3, padding 1, in
float32 for both (the goal: numpy within 3× of torch at one thread), and once more in float64.
The implementations are the chapter's own, read from its source (so the figures follow the
solution even before a build; ``--source`` times another copy, e.g. an older one from
``git show HEAD:solutions/06_cnn.py > /tmp/06_old.py``): the im2col version of the
``conv_fast`` cell (what ``./course build`` exports to ``dllib.ch06_cnn``) and the loop version
of the ``conv_naive`` cell. The loop version is timed on a smaller batch and scaled linearly in
N (said in the output).
numpy and torch take turns within each repeat, so a busy machine slows both alike; every
figure is a median over the repeats, and ratios come from this one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "06_cnn.py"
N, C, H, W, F, K, PAD = 64, 16, 16, 16, 32, 3, 1
NAIVE_N = 2


def chapter_functions(path: Path, cell_id: str) -> dict:
    """The names defined by one solution cell of the chapter's jupytext source at `path`."""
    cell = next(c for c in read_source(path).cells if c.id == cell_id)
    namespace: dict = {"np": np}
    exec(compile(cell.source, cell_id, "exec"), namespace)
    return namespace


def median_seconds(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time of each run; the runs take turns, after one warm-up each."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def layer_steps(path: Path, dtype: type) -> tuple[Callable[[], object], ...]:
    """(im2col, torch, loops) forward + backward steps on the same random layer in `dtype`."""
    fast, naive = chapter_functions(path, "conv_fast"), chapter_functions(path, "conv_naive")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, C, H, W)).astype(dtype)
    w = (0.1 * rng.normal(size=(F, C, K, K))).astype(dtype)
    b = np.zeros(F, dtype=dtype)
    dout = rng.normal(size=(N, F, H, W)).astype(dtype)

    def numpy_step():
        out, cache = fast["conv2d_forward"](x, w, b, padding=PAD)
        return fast["conv2d_backward"](dout, cache)

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdout = torch.tensor(dout)

    def torch_step():
        for t in (tx, tw, tb):
            t.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=PAD).backward(tdout)

    def naive_step():
        out, cache = naive["conv2d_forward_naive"](x[:NAIVE_N], w, b, padding=PAD)
        return naive["conv2d_backward_naive"](dout[:NAIVE_N], cache)

    changed = {g.dtype.name for g in numpy_step()} - {np.dtype(dtype).name}
    if changed:
        print(f"  note: from {np.dtype(dtype).name} inputs, im2col returns {', '.join(sorted(changed))} "
              "gradients (the input's dtype is not kept)")
    return numpy_step, torch_step, naive_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--source", type=Path, default=SOURCE, help="the chapter's jupytext source")
    args = parser.parse_args()
    print(f"conv2d forward+backward, x {N}×{C}×{H}×{W}, {F} filters {K}×{K}, padding {PAD}; "
          f"median of {args.repeats}; {args.source}")
    for dtype in (np.float32, np.float64):
        numpy_step, torch_step, naive_step = layer_steps(args.source, dtype)
        for threads in args.threads:
            torch.set_num_threads(threads)
            with threadpool_limits(threads):
                t = median_seconds({"numpy": numpy_step, "torch": torch_step}, args.repeats)
            print(f"  {dtype.__name__}, {threads} thread(s): numpy im2col {t['numpy'] * 1e3:7.1f} ms   "
                  f"torch {t['torch'] * 1e3:7.1f} ms   numpy / torch = {t['numpy'] / t['torch']:.2f}×")
        if dtype is np.float32:
            with threadpool_limits(1):
                t = median_seconds({"loops": naive_step, "numpy": numpy_step}, max(1, args.repeats // 5))
            loops = t["loops"] * N / NAIVE_N
            print(f"  float32, loops (timed on N={NAIVE_N}, scaled ×{N // NAIVE_N}): {loops:7.2f} s   "
                  f"im2col is {loops / t['numpy']:.0f}× faster (1 thread)")


if __name__ == "__main__":
    main()
