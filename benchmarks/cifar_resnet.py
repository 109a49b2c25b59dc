"""The CNN-architectures notebook's ResNet-9 on a GPU: training throughput, float32 eager vs tuned,
and (when CIFAR-10 is cached) the time to 94 % test accuracy.

    python benchmarks/cifar_resnet.py            # CUDA: the full configuration
    python benchmarks/cifar_resnet.py --smoke    # CPU, tiny: checks that the script runs (seconds)

The model, the blocks, the augmentation and the training loop are the notebook's own, read from
``solutions/p2_cnn_architectures.py`` (so the figures follow the solution). Throughput: images/s of
whole training steps (forward, backward, SGD step) on synthetic CIFAR-shaped batches (no data set
is needed), the median of several timed windows after a warm-up (which includes compiling), for
  * float32 eager, TF32 off (float32 as written),
  * float32 eager with PyTorch's defaults (TF32 convolutions allowed),
  * tuned: channels_last + bf16 autocast + torch.compile;
and the ratio tuned / float32. With CIFAR-10 in the course's cache (``helpers.data``), the notebook's
recipe is trained (tuned) and the test accuracy printed after every epoch, with the training time
so far (compilation excluded: a warm-up epoch on synthetic data compiles first).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.authoring import read_source

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "p2_cnn_architectures.py"


def notebook_namespace() -> dict:
    """The notebook's imports, blocks, augmentation, training loop and ResNet9 (nothing is trained)."""
    namespace: dict = {"__name__": "cifar_resnet"}
    for cell in read_source(SOURCE).cells:
        if cell.cell_type != "code":
            continue
        if cell.id == "cell-001" or cell.id in {"vgg", "residual", "augment", "train_eval"} \
                or "class ResNet9" in cell.source or "def to_tensors" in cell.source:
            source = cell.source
            if "def to_tensors" in source:      # the definitions only, not the data loading
                source = source.split("CIFAR_MEAN, CIFAR_STD =")[0]
            exec(compile(source, f"p2:{cell.id}", "exec"), namespace)
    return namespace


def throughput(ns, device, width, batch_size, steps, windows, mode):
    """Images/s of training steps; mode: "fp32" (TF32 off), "tf32" (defaults) or "tuned"."""
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = mode != "fp32"
    model = ns["ResNet9"](width).to(device).train()
    x = torch.randn(batch_size, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch_size,), device=device)
    tuned = mode == "tuned"
    if tuned:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    run = torch.compile(model) if tuned and device.type == "cuda" else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=tuned and device.type == "cuda"):
            loss = F.cross_entropy(run(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def window():
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    start = time.perf_counter()
    window()
    warmup = time.perf_counter() - start
    times = [window() for _ in range(windows)]
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    return batch_size * steps / statistics.median(times), warmup


def time_to_accuracy(ns, device, args):
    """Train the notebook's recipe on the real CIFAR-10 (if cached); print accuracy and time per epoch."""
    from helpers.data import load_images

    split = load_images("cifar10", download=False)
    if split.source != "real":
        print("CIFAR-10 is not cached here: no time-to-accuracy run (copy cifar-10-python.tar.gz into the cache)")
        return
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    x_train, y_train = (t.to(device) for t in ns["to_tensors"](split.X_train, split.y_train, mean, std))
    x_test, y_test = (t.to(device) for t in ns["to_tensors"](split.X_test, split.y_test, mean, std))
    x_train = x_train.contiguous(memory_format=torch.channels_last)
    x_test = x_test.contiguous(memory_format=torch.channels_last)
    train_loader = ns["batch_loader"](x_train, y_train, args.batch, shuffle=True)
    test_loader = ns["batch_loader"](x_test, y_test, 500, shuffle=False)
    torch.manual_seed(0)
    model = ns["ResNet9"](args.width).to(device).to(memory_format=torch.channels_last)
    run = torch.compile(model)
    # compile (train and eval graphs) on a synthetic epoch slice, then reset the weights
    warm_loader = ns["batch_loader"](torch.randn_like(x_train[: 4 * args.batch]), y_train[: 4 * args.batch],
                                     args.batch, shuffle=True)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    ns["train_one_epoch"](run, warm_loader, opt, device)
    ns["evaluate"](run, test_loader, device)
    model.load_state_dict(state)
    steps = args.epochs * len(train_loader)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: float(np.interp(s, [0, max(1, steps // 4), steps], [0.05, 1.0, 0.0])))
    generator = torch.Generator().manual_seed(0)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2)
    elapsed, reached = 0.0, None
    for epoch in range(1, args.epochs + 1):
        torch.cuda.synchronize()
        start = time.perf_counter()
        ns["train_one_epoch"](run, train_loader, optimizer, device, loss_fn, scheduler,
                              augment=lambda x: ns["random_crop_flip"](x, 4, generator))
        torch.cuda.synchronize()
        elapsed += time.perf_counter() - start
        _, acc = ns["evaluate"](run, test_loader, device)
        if acc >= 0.94 and reached is None:
            reached = elapsed
        print(f"  epoch {epoch:2d}: test accuracy {acc:.2%}, training time {elapsed:.1f} s", flush=True)
    print(f"CIFAR-10, ResNet-9 width {args.width}, {args.epochs} epochs, batch {args.batch}: final test accuracy "
          f"{acc:.2%}, training {elapsed:.1f} s; 94 % " + (f"reached after {reached:.1f} s" if reached else "not reached"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run on the CPU (checks the script)")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed window")
    parser.add_argument("--windows", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--lr", type=float, default=0.4)
    args = parser.parse_args()
    ns = notebook_namespace()
    if args.smoke:
        device = torch.device("cpu")
        args.width, args.batch, args.steps, args.windows = 4, 16, 2, 2
    else:
        if not torch.cuda.is_available():
            raise SystemExit("no GPU: run with --smoke, or on a CUDA machine")
        device = torch.device("cuda")
        torch.backends.cudnn.benchmark = True
        print(f"GPU: {torch.cuda.get_device_name()}, PyTorch {torch.__version__}")
    print(f"ResNet-9 width {args.width}: {sum(p.numel() for p in ns['ResNet9'](args.width).parameters()):,} "
          f"parameters; batch {args.batch}, median of {args.windows} windows of {args.steps} steps")
    results = {}
    for mode in ["fp32", "tf32", "tuned"] if device.type == "cuda" else ["fp32", "tuned"]:
        results[mode], warmup = throughput(ns, device, args.width, args.batch, args.steps, args.windows, mode)
        print(f"  {mode:6s} {results[mode]:12,.0f} images/s   (warm-up window {warmup:.1f} s)", flush=True)
    print(f"tuned / float32 eager: {results['tuned'] / results['fp32']:.2f}x"
          + (f"; tuned / float32 with TF32: {results['tuned'] / results['tf32']:.2f}x" if "tf32" in results else ""))
    if device.type == "cuda":
        time_to_accuracy(ns, device, args)


if __name__ == "__main__":
    main()
