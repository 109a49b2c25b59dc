"""Device, size and bookkeeping for the PyTorch notebooks.

Every PyTorch notebook picks its device and its size the same way::

    # %% tags=["parameters"]
    SIZE = "auto"  # papermill can set "small" or "full"

    device = pick_device()
    SIZE = pick_size(SIZE, device)

``"auto"`` means ``$COURSE_SIZE`` when it is set (the graders and the tests set ``small``), else the
full configuration on a GPU and the small one on a CPU. ``$COURSE_DEVICE`` forces a device.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from tqdm.auto import tqdm

__all__ = [
    "SIZES",
    "autocast",
    "describe",
    "epoch_batches",
    "load_checkpoint",
    "pick_device",
    "pick_size",
    "progress",
    "save_checkpoint",
    "seed_everything",
]

SIZES = ("small", "full")
T = TypeVar("T")


def pick_device(name: str | None = None) -> torch.device:
    """``name``, else ``$COURSE_DEVICE``, else CUDA when PyTorch sees a GPU, else the CPU."""
    name = name or os.environ.get("COURSE_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for, but PyTorch sees no GPU; use 'cpu'")
    return device


def pick_size(size: str = "auto", device: torch.device | None = None) -> str:
    """The configuration to run: ``"small"`` or ``"full"`` (``"auto"``: see the module docstring)."""
    if size == "auto":
        size = os.environ.get("COURSE_SIZE") or ("full" if (device or pick_device()).type == "cuda" else "small")
    if size not in SIZES:
        raise ValueError(f"SIZE must be 'auto', 'small' or 'full', got {size!r}")
    return size


def describe(device: torch.device, size: str) -> str:
    """One line saying where the notebook runs and at which size."""
    threads = torch.get_num_threads()
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else (
        f"the CPU ({threads} thread{'s' * (threads != 1)})")
    return f"PyTorch {torch.__version__} on {where}; {size} configuration"


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and PyTorch (all devices); return a CPU generator seeded the same."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on a GPU; on the CPU, float32 as it is (no context)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def progress(iterable: Iterable[T], **kwargs: Any) -> tqdm:
    """A tqdm progress bar over ``iterable`` (a widget in JupyterLab, text elsewhere)."""
    return tqdm(iterable, **kwargs)


def epoch_batches(loader: Iterable[T], epochs: int, desc: str) -> Iterator[tuple[int, T]]:
    """``(epoch, batch)`` for every batch of ``epochs`` passes over ``loader``, under one progress bar
    for the whole run (one bar per epoch would leave a pile of closed widgets in the notebook)."""
    with tqdm(total=epochs * len(loader), desc=desc, unit="step") as bar:  # type: ignore[arg-type]
        for epoch in range(epochs):
            bar.set_postfix(epoch=f"{epoch + 1}/{epochs}")
            for batch in loader:
                yield epoch, batch
                bar.update()


def save_checkpoint(path: str | os.PathLike[str], *, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None, **extra: Any) -> Path:
    """Save the model's (and optimizer's) state and ``extra`` values (step, losses …) to ``path``.

    The file is written next to its final name and renamed, so an interrupted save leaves the last good one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"model": model.state_dict(), "extra": extra}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    partial.replace(path)
    return path


def load_checkpoint(path: str | os.PathLike[str], *, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None,
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load what :func:`save_checkpoint` wrote into ``model`` (and ``optimizer``); return its ``extra``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: train first, or check the path")
    state = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if "optimizer" not in state:
            raise ValueError(f"{path} holds no optimizer state (it was saved without one)")
        optimizer.load_state_dict(state["optimizer"])
    return state["extra"]
