"""Reproducible randomness for the notebooks."""

from __future__ import annotations

import random

import numpy as np

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, numpy's global RNG and torch (if installed).

    Returns ``np.random.default_rng(seed)``, the generator new code should use.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # legacy global RNG, still used by some libraries
    try:
        import torch  # deferred: importing torch is slow and it is optional here
    except ImportError:
        pass
    else:
        torch.manual_seed(seed)  # also seeds every CUDA device
    return np.random.default_rng(seed)
