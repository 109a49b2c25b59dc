"""Chapter 06's convolution layer, timed: vectorized numpy vs PyTorch on the CPU, and vs loops.

    python benchmarks/conv.py [--repeats 7]

Forward + backward of one layer: N=64, C=16, a 16×16 input, 32 filters 3×3, padding 1, float32
for both. The reference implementations are the chapter's own: the im2col version from
``dllib.ch06_cnn`` and the loop version from the ``conv_naive`` cell of ``solutions/06_cnn.py``.
The loop version is timed on a smaller batch and scaled linearly in N (said in the output).
Every figure is a median over the repeats; ratios come from this one run.
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
from dllib.ch06_cnn import conv2d_backward, conv2d_forward

ROOT = Path(__file__).resolve().parents[1]
N, C, H, W, F, K, PAD = 64, 16, 16, 16, 32, 3, 1
NAIVE_N = 2


def naive_layer() -> tuple[Callable, Callable]:
    """The loop version, from the chapter's source (it is not part of the course library)."""
    cell = next(c for c in read_source(ROOT / "solutions" / "06_cnn.py").cells if c.id == "conv_naive")
    namespace: dict = {"np": np}
    exec(compile(cell.source, "conv_naive", "exec"), namespace)
    return namespace["conv2d_forward_naive"], namespace["conv2d_backward_naive"]


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, C, H, W)).astype(np.float32)
    w = (0.1 * rng.normal(size=(F, C, K, K))).astype(np.float32)
    b = np.zeros(F, dtype=np.float32)
    dout = rng.normal(size=(N, F, H, W)).astype(np.float32)

    def numpy_step(x=x, dout=dout):
        out, cache = conv2d_forward(x, w, b, padding=PAD)
        return conv2d_backward(dout, cache)

    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdout = torch.tensor(dout)

    def torch_step():
        for t in (tx, tw, tb):
            t.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=PAD).backward(tdout)

    forward, backward = naive_layer()

    def naive_step():
        out, cache = forward(x[:NAIVE_N], w, b, padding=PAD)
        return backward(dout[:NAIVE_N], cache)

    print(f"conv2d forward+backward, x {N}×{C}×{H}×{W}, {F} filters {K}×{K}, padding {PAD}, float32; "
          f"median of {args.repeats}")
    for threads in (1, torch.get_num_threads()):
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            ours = median_seconds(numpy_step, args.repeats)
            theirs = median_seconds(torch_step, args.repeats)
        print(f"  {threads} thread(s): numpy im2col {ours * 1e3:8.1f} ms   torch {theirs * 1e3:8.1f} ms   "
              f"numpy / torch = {ours / theirs:.2f}×")
    with threadpool_limits(1):
        loops = median_seconds(naive_step, max(1, args.repeats // 3)) * N / NAIVE_N
        ours = median_seconds(numpy_step, args.repeats)
    print(f"  loops (timed on N={NAIVE_N}, scaled ×{N // NAIVE_N}): {loops:8.2f} s   "
          f"im2col is {loops / ours:.0f}× faster (1 thread)")


if __name__ == "__main__":
    main()
