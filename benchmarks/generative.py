"""PyTorch notebook 4 (generative models) on a GPU: training speed and sample quality of the VAE,
the DCGAN and the DDPM in the notebook's full configuration.

    python benchmarks/generative.py            # CUDA: full widths, T = 1000, shortened epochs
    python benchmarks/generative.py --full     # CUDA: the notebook's full configuration, all epochs
    python benchmarks/generative.py --smoke    # CPU, tiny, a few seconds: checks that it runs

The models, losses, training loops, sampler and judge are the notebook's own: the definitions
(functions, classes, imports) of every code cell of ``solutions/p4_generative_models.py`` except
the tests, read without jupytext, so the script needs only torch and numpy. The data is
Fashion-MNIST when ``helpers.data`` finds it in its cache, else its offline stand-in (needs
scikit-learn and scipy), else synthetic images made here (ten classes of random smooth shapes at
random positions): the GPU machine has no network. Prints the GPU, per model the time per epoch
and training images per second, the DDPM's sampling time, and the judge's accuracy, confidence
and classifier score on real and generated images.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "solutions" / "p4_generative_models.py"
HEADER = re.compile(r"^# %%(?P<meta>.*)$", re.M)


def notebook_definitions(path: Path) -> dict:
    """The imports, functions and classes of the notebook's code cells (tests cells excepted)."""
    text = path.read_text()
    heads = list(HEADER.finditer(text))
    namespace: dict = {"__name__": "p4_generative_models", "torch": torch, "nn": nn, "F": F, "math": math,
                       "np": np, "time": time}
    for head, nxt in zip(heads, heads[1:] + [None], strict=True):
        meta = head["meta"]
        if "[markdown]" in meta or 'nbgrader="tests"' in meta:
            continue
        body = text[head.end():nxt.start() if nxt else len(text)]
        for node in ast.parse(body).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                with contextlib.suppress(ImportError):  # helpers.* may be missing bits on a bare machine
                    exec(compile(ast.Module([node], []), str(path), "exec"), namespace)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                exec(compile(ast.Module([node], []), str(path), "exec"), namespace)
    return namespace


def synthetic_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten classes of 20x20 random smooth shapes, placed at random positions on 28x28, uint8."""
    g = torch.Generator().manual_seed(1234)  # the same ten shapes for train and test
    fields = F.interpolate(torch.randn(10, 1, 5, 5, generator=g), size=(20, 20), mode="bicubic", align_corners=False)
    shapes = (fields > 0.3).float()
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    offsets = torch.randint(0, 9, (n, 2), generator=g)
    images = torch.zeros(n, 28, 28)
    for i in range(n):
        r, c = offsets[i].tolist()
        images[i, r:r + 20, c:c + 20] = shapes[labels[i], 0]
    images = (images + 0.05 * torch.randn(n, 28, 28, generator=g)).clamp(0, 1)
    return (images * 255).round().to(torch.uint8).numpy(), labels.numpy()


def load_data(n_train: int, n_test: int):
    try:
        from helpers.data import load_images

        split = load_images("fashion_mnist", n_train=n_train, n_test=n_test, download=False)
        return split.X_train, split.y_train, split.X_test, split.y_test, getattr(split, "source", "real")
    except Exception as exc:  # noqa: BLE001 - no scikit-learn/scipy on the machine: synthetic data
        x_train, y_train = synthetic_images(n_train, 0)
        x_test, y_test = synthetic_images(n_test, 1)
        return x_train, y_train, x_test, y_test, f"synthetic shapes ({type(exc).__name__}: {exc})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny, on the CPU, in seconds")
    parser.add_argument("--full", action="store_true", help="all the epochs of the notebook's full configuration")
    args = parser.parse_args()

    nb = notebook_definitions(SOURCE)
    device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
    full = dict(n_train=60000, n_test=10000, batch_size=128, judge_epochs=4, vae_epochs=20, gan_epochs=20,
                ddpm_epochs=30, T=1000, judge_width=32, width=64, ddpm_width=64, latent=16, ema=0.999, n_samples=100)
    if args.smoke:
        cfg = dict(full, n_train=256, n_test=128, batch_size=64, judge_epochs=1, vae_epochs=1, gan_epochs=1,
                   ddpm_epochs=1, T=20, judge_width=8, width=8, ddpm_width=8, latent=4, ema=0.9, n_samples=16)
        size = "small"
    elif args.full:
        cfg, size = full, "full"
    else:  # full models and data, fewer epochs: the time per epoch is what counts
        cfg, size = dict(full, judge_epochs=3, vae_epochs=5, gan_epochs=5, ddpm_epochs=8), "full"
    torch.manual_seed(0)

    x_train, y_train, x_test, y_test, source = load_data(cfg["n_train"], cfg["n_test"])
    x_train = torch.tensor(x_train, dtype=torch.float32).div(255).unsqueeze(1)
    x_test = torch.tensor(x_test, dtype=torch.float32).div(255).unsqueeze(1)
    y_train, y_test = torch.as_tensor(y_train), torch.as_tensor(y_test)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=cfg["batch_size"],
                                         shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(0))
    T = cfg["T"]
    betas, alphas, alpha_bars = nb["ddpm_schedule"](T, 1e-4 * 1000 / T, min(0.02 * 1000 / T, 0.5))
    nb.update(device=device, cfg=cfg, SIZE=size, train_loader=loader, T=T, betas=betas, alphas=alphas,
              alpha_bars=alpha_bars, progress=lambda iterable, **_: iter(iterable),
              autocast=lambda d: torch.autocast("cuda", dtype=torch.bfloat16) if d.type == "cuda"
              else contextlib.nullcontext())

    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"PyTorch {torch.__version__} on {where}; data: {source}")
    print(f"{len(x_train)} training images, batch {cfg['batch_size']}, {len(loader)} steps per epoch; "
          f"widths {cfg['width']} (VAE, GAN) and {cfg['ddpm_width']} (U-Net), T = {T}")

    def timed(fn, *a):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn(*a)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return out, time.perf_counter() - start

    images_per_epoch = len(loader) * cfg["batch_size"]
    rows = []
    judge, seconds = timed(nb["train_judge"], cfg["judge_epochs"])
    nb["judge"] = judge
    rows.append(("judge", cfg["judge_epochs"], seconds))
    with torch.no_grad():
        accuracy = torch.cat([judge(x.to(device)).argmax(1).cpu() for x in x_test.split(500)]).eq(y_test).float().mean()
    reports = {"real test images": nb["judge_report"](x_test), "uniform noise": nb["judge_report"](torch.rand(500, 1, 28, 28))}

    (vae, _, vae_history), seconds = timed(nb["train_vae"], cfg["vae_epochs"])
    rows.append(("VAE", cfg["vae_epochs"], seconds))
    vae.eval()
    reports["VAE"] = nb["judge_report"](vae.sample(cfg["n_samples"]).cpu())

    (gen, _, _, _, _), seconds = timed(nb["train_gan"], cfg["gan_epochs"])
    rows.append(("DCGAN", cfg["gan_epochs"], seconds))
    gen.eval()
    with torch.no_grad():
        reports["GAN"] = nb["judge_report"]((gen(torch.randn(cfg["n_samples"], gen.nz, device=device)).float().cpu() + 1) / 2)

    (_, ema, _, ddpm_history), seconds = timed(nb["train_ddpm"], cfg["ddpm_epochs"])
    rows.append(("DDPM", cfg["ddpm_epochs"], seconds))
    (samples, _), sample_seconds = timed(nb["ddpm_sample"], ema.module.eval(), cfg["n_samples"])
    reports["DDPM"] = nb["judge_report"]((samples.cpu() + 1) / 2)

    print(f"\n{'model':<8}{'epochs':>7}{'s/epoch':>10}{'images/s':>11}{'total s':>9}")
    for name, epochs, secs in rows:
        print(f"{name:<8}{epochs:>7}{secs / epochs:>10.2f}{epochs * images_per_epoch / secs:>11.0f}{secs:>9.1f}")
    if not args.full and not args.smoke:
        epochs = dict(judge=full["judge_epochs"], VAE=full["vae_epochs"], DCGAN=full["gan_epochs"], DDPM=full["ddpm_epochs"])
        total = sum(secs / e * epochs[name] for name, e, secs in rows)
        print(f"projected training time of the notebook's full configuration: {total:.0f} s")
    print(f"DDPM sampling: {cfg['n_samples']} images x {T} steps in {sample_seconds:.1f} s; "
          f"final DDPM loss {np.mean(ddpm_history[-50:]):.4f}, VAE loss {np.mean(vae_history['loss'][-50:]):.1f}")
    print(f"\njudge test accuracy {accuracy:.1%}")
    print(f"{'images':<18}{'confidence':>11}{'score':>7}  class histogram")
    for label, report in reports.items():
        hist = " ".join(f"{v:.2f}" for v in report["histogram"])
        print(f"{label:<18}{report['confidence']:>11.2f}{report['score']:>7.2f}  {hist}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
