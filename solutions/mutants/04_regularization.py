"""Plausible wrong solutions for chapter 04; each must make its named tests cell fail.

The first mutant is also used as "the student with one mistake" in the grading test, so it
must break its own tests cell only (dropout without rescaling: only test_dropout checks
dropout).

Most mutants are one small edit of a correct solution (``_edit``), so that each differs from
the reference in exactly the mistake it names.
"""

from __future__ import annotations

import textwrap

from autograder.mutants import Mutant


def _src(code: str) -> str:
    return textwrap.dedent(code).strip() + "\n"


def _edit(base: str, *replacements: tuple[str, str]) -> str:
    """``base`` with each ``old`` replaced by ``new`` (every ``old`` must occur)."""
    text = _src(base)
    for old, new in replacements:
        old, new = textwrap.dedent(old).strip("\n"), textwrap.dedent(new).strip("\n")
        for width in range(0, 17, 4):  # multi-line edits: find the block at its indentation
            shifted = textwrap.indent(old, " " * width) if width else old
            if shifted in text:
                text = text.replace(shifted, textwrap.indent(new, " " * width) if width else new)
                break
        else:
            raise ValueError(f"mutant edit: {old!r} not found")
    return text


def _mutants(cell: str, cases: list[tuple[str, str]]) -> list[Mutant]:
    return [Mutant(cell=cell, fails=f"test_{cell}", why=why, source=source) for why, source in cases]


# --------------------------------------------------------------------------- penalties

PENALTIES_OK = """
def l2_penalty(weights, lam):
    value = 0.5 * lam * sum(float(np.sum(w * w)) for w in weights.values())
    grads = {name: lam * w for name, w in weights.items()}
    return float(value), grads


def l1_penalty(weights, lam):
    value = lam * sum(float(np.sum(np.abs(w))) for w in weights.values())
    grads = {name: lam * np.sign(w) for name, w in weights.items()}
    return float(value), grads
"""

PENALTIES = _mutants("penalties", [
    ("L2 value without the 1/2 (lam * sum w^2) while the gradient is lam * w", _edit(
        PENALTIES_OK, ("value = 0.5 * lam * sum", "value = lam * sum"))),
    ("L2 penalty on the norms, not the squared norms: lam/2 * sum ||W||", _edit(
        PENALTIES_OK, ("value = 0.5 * lam * sum(float(np.sum(w * w)) for w in weights.values())",
                       "value = 0.5 * lam * sum(float(np.linalg.norm(w)) for w in weights.values())"))),
    ("L1 gradient lam * w (the L2 gradient) instead of lam * sign(w)", _edit(
        PENALTIES_OK, ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
                       "grads = {name: lam * w for name, w in weights.items()}"))),
    ("L1 value without the absolute value (sum of signed weights)", _edit(
        PENALTIES_OK, ("value = lam * sum(float(np.sum(np.abs(w))) for w in weights.values())",
                       "value = lam * sum(float(np.sum(w)) for w in weights.values())"))),
    ("penalties averaged over the entries instead of summed", _edit(
        PENALTIES_OK, ("0.5 * lam * sum(float(np.sum(w * w))", "0.5 * lam * sum(float(np.mean(w * w))"),
        ("lam * sum(float(np.sum(np.abs(w)))", "lam * sum(float(np.mean(np.abs(w)))"),
        ("grads = {name: lam * w for name, w in weights.items()}",
         "grads = {name: lam * w / w.size for name, w in weights.items()}"),
        ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
         "grads = {name: lam * np.sign(w) / w.size for name, w in weights.items()}"))),
])

# --------------------------------------------------------------------------- weight decay

WEIGHT_DECAY_OK = """
def weight_decay_step(params, grads, lr, decay, decay_keys):
    for name, w in params.items():
        if name in decay_keys:
            w *= 1.0 - lr * decay
        w -= lr * grads[name]
"""

WEIGHT_DECAY = _mutants("weight_decay", [
    ("decays the biases too (ignores decay_keys)", _edit(
        WEIGHT_DECAY_OK, ("""
            if name in decay_keys:
                w *= 1.0 - lr * decay
        """, """
            w *= 1.0 - lr * decay
        """))),
    ("shrink factor 1 - decay, without the learning rate", _edit(
        WEIGHT_DECAY_OK, ("w *= 1.0 - lr * decay", "w *= 1.0 - decay"))),
    ("decays after the gradient step: (1 - lr decay)(w - lr g)", _edit(
        WEIGHT_DECAY_OK, ("""
            if name in decay_keys:
                w *= 1.0 - lr * decay
            w -= lr * grads[name]
        """, """
            w -= lr * grads[name]
            if name in decay_keys:
                w *= 1.0 - lr * decay
        """))),
    ("puts new arrays into the dict instead of updating in place", _src("""
        def weight_decay_step(params, grads, lr, decay, decay_keys):
            for name in list(params):
                factor = 1.0 - lr * decay if name in decay_keys else 1.0
                params[name] = factor * params[name] - lr * grads[name]
    """)),
])

# --------------------------------------------------------------------------- early stopping

EARLY_OK = """
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = np.inf
        self.best_epoch = None
        self.best_params = None
        self.bad_epochs = 0
        self.epoch = -1

    def step(self, val_loss, params):
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_epoch = self.epoch
            self.best_params = {name: w.copy() for name, w in params.items()}
            self.bad_epochs = 0
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, params):
        for name, w in params.items():
            w[...] = self.best_params[name]
"""

EARLY = _mutants("early_stopping", [
    ("saves references instead of copies: restore gives the last weights", _edit(
        EARLY_OK, ("self.best_params = {name: w.copy() for name, w in params.items()}",
                   "self.best_params = dict(params)"))),
    ("restore keeps the last weights (does nothing)", _edit(
        EARLY_OK, ("""
            for name, w in params.items():
                w[...] = self.best_params[name]
        """, """
            return None
        """))),
    ("patience off by one: stops only after patience + 1 bad epochs", _edit(
        EARLY_OK, ("return self.bad_epochs >= self.patience", "return self.bad_epochs > self.patience"))),
    ("the bad-epoch counter is not reset by an improvement", _edit(
        EARLY_OK, ("""
            self.bad_epochs = 0
            return False
        """, """
            return False
        """))),
    ("ignores min_delta (any decrease counts as an improvement)", _edit(
        EARLY_OK, ("if val_loss < self.best_loss - self.min_delta:", "if val_loss < self.best_loss:"))),
    ("a tie counts as an improvement (<= instead of <)", _edit(
        EARLY_OK, ("if val_loss < self.best_loss - self.min_delta:",
                   "if val_loss <= self.best_loss - self.min_delta:"))),
])

# --------------------------------------------------------------------------- dropout

DROPOUT_OK = """
def dropout_forward(x, p, train=True, rng=None, mask=None):
    if not train:
        return x, (None, p, False)
    if mask is None:
        mask = rng.random(x.shape) >= p
    out = x * mask / (1.0 - p)
    return out, (mask, p, True)


def dropout_backward(dout, cache):
    mask, p, train = cache
    if not train:
        return dout
    return dout * mask / (1.0 - p)
"""

DROPOUT = _mutants("dropout", [
    ("no rescaling: x * mask in training (and dout * mask backwards)", _edit(
        DROPOUT_OK, ("out = x * mask / (1.0 - p)", "out = x * mask"),
        ("return dout * mask / (1.0 - p)", "return dout * mask"))),
    ("p used as the keep probability: units survive with probability p", _edit(
        DROPOUT_OK, ("mask = rng.random(x.shape) >= p", "mask = rng.random(x.shape) < p"),
        ("out = x * mask / (1.0 - p)", "out = x * mask / p"),
        ("return dout * mask / (1.0 - p)", "return dout * mask / p"))),
    ("classic (non-inverted) dropout: no rescaling in training, multiply by 1 - p at eval", _edit(
        DROPOUT_OK, ("return x, (None, p, False)", "return x * (1.0 - p), (None, p, False)"),
        ("out = x * mask / (1.0 - p)", "out = x * mask"),
        ("""
            if not train:
                return dout
            return dout * mask / (1.0 - p)
        """, """
            if not train:
                return dout * (1.0 - p)
            return dout * mask
        """))),
    ("backward ignores the mask: dout / (1 - p) everywhere", _edit(
        DROPOUT_OK, ("return dout * mask / (1.0 - p)", "return dout / (1.0 - p)"))),
    ("eval mode still drops units", _edit(
        DROPOUT_OK, ("""
            if not train:
                return x, (None, p, False)
            if mask is None:
        """, """
            if mask is None:
        """), ("return out, (mask, p, True)", "return out, (mask, p, train)"))),
    ("ignores a given mask and always draws its own", _edit(
        DROPOUT_OK, ("""
            if mask is None:
                mask = rng.random(x.shape) >= p
        """, """
            rng = rng if rng is not None else np.random.default_rng()
            mask = rng.random(x.shape) >= p
        """))),
])

# --------------------------------------------------------------------------- bagging

BAGGING_OK = """
def bagging_predict(fit, predict, X, y, X_new, n_models, rng):
    n = len(X)
    predictions = []
    for _ in range(n_models):
        idx = rng.integers(0, n, size=n)
        model = fit(X[idx], y[idx])
        predictions.append(np.asarray(predict(model, X_new), dtype=float))
    return np.mean(predictions, axis=0)
"""

BAGGING = _mutants("bagging", [
    ("samples without replacement (a permutation): every model sees the same data", _edit(
        BAGGING_OK, ("idx = rng.integers(0, n, size=n)", "idx = rng.permutation(n)"))),
    ("one bootstrap sample shared by all models", _edit(
        BAGGING_OK, ("""
            predictions = []
            for _ in range(n_models):
                idx = rng.integers(0, n, size=n)
        """, """
            predictions = []
            idx = rng.integers(0, n, size=n)
            for _ in range(n_models):
        """))),
    ("X and y indexed with two different draws (labels no longer match their inputs)", _edit(
        BAGGING_OK, ("model = fit(X[idx], y[idx])", "model = fit(X[idx], y[rng.integers(0, n, size=n)])"))),
    ("median of the predictions instead of the mean", _edit(
        BAGGING_OK, ("return np.mean(predictions, axis=0)", "return np.median(predictions, axis=0)"))),
    ("trains every model on the full data set (no bootstrap)", _edit(
        BAGGING_OK, ("model = fit(X[idx], y[idx])", "model = fit(X, y)"))),
])

# --------------------------------------------------------------------------- flip and crop

FLIP_CROP_OK = """
def random_flip(x, rng, p=0.5):
    flip = rng.random(len(x)) < p
    out = np.array(x, dtype=float, copy=True)
    out[flip] = out[flip][..., ::-1]
    return out


def random_crop(x, rng, pad):
    N, C, H, W = x.shape
    padded = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    offsets = rng.integers(0, 2 * pad + 1, size=(N, 2))
    out = np.empty((N, C, H, W))
    for n, (i, j) in enumerate(offsets):
        out[n] = padded[n, :, i:i + H, j:j + W]
    return out
"""

FLIP_CROP = _mutants("flip_and_crop", [
    ("one coin for the whole batch: all images flipped or none", _edit(
        FLIP_CROP_OK, ("flip = rng.random(len(x)) < p", "flip = np.full(len(x), rng.random() < p)"))),
    ("flips upside down (axis -2) instead of left-right", _edit(
        FLIP_CROP_OK, ("out[flip] = out[flip][..., ::-1]", "out[flip] = out[flip][..., ::-1, :]"))),
    ("crop offsets 0 .. 2 pad - 1: the last offset never occurs", _edit(
        FLIP_CROP_OK, ("rng.integers(0, 2 * pad + 1, size=(N, 2))", "rng.integers(0, max(2 * pad, 1), size=(N, 2))"))),
    ("one crop offset for the whole batch", _edit(
        FLIP_CROP_OK, ("offsets = rng.integers(0, 2 * pad + 1, size=(N, 2))",
                       "offsets = np.repeat(rng.integers(0, 2 * pad + 1, size=(1, 2)), N, axis=0)"))),
    ("puts the flipped images first (concatenates flipped and unflipped): image n no longer matches label n",
     _edit(FLIP_CROP_OK, ("""
         out = np.array(x, dtype=float, copy=True)
         out[flip] = out[flip][..., ::-1]
         return out
     """, """
         x = np.asarray(x, dtype=float)
         return np.concatenate([x[flip][..., ::-1], x[~flip]])
     """))),
    ("pads only the top and left (offsets 0 .. pad): shifts in one direction only", _edit(
        FLIP_CROP_OK, ("((0, 0), (0, 0), (pad, pad), (pad, pad))", "((0, 0), (0, 0), (pad, 0), (pad, 0))"),
        ("rng.integers(0, 2 * pad + 1, size=(N, 2))", "rng.integers(0, pad + 1, size=(N, 2))"))),
    ("np.pad(x, pad) pads every axis, the batch and channel axes too", _edit(
        FLIP_CROP_OK, ("np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
                       "np.pad(np.asarray(x, dtype=float), pad)"),
        ("out[n] = padded[n, :, i:i + H, j:j + W]", "out[n] = padded[n, :C, i:i + H, j:j + W]"))),
    ("crops into the caller's array (writes the windows back into x)", _edit(
        FLIP_CROP_OK, ("""
            out = np.empty((N, C, H, W))
            for n, (i, j) in enumerate(offsets):
                out[n] = padded[n, :, i:i + H, j:j + W]
            return out
        """, """
            for n, (i, j) in enumerate(offsets):
                x[n] = padded[n, :, i:i + H, j:j + W]
            return x
        """))),
    ("shuffles the cropped batch (like a data loader would): image n no longer matches label n", _edit(
        FLIP_CROP_OK, ("""
                out[n] = padded[n, :, i:i + H, j:j + W]
            return out
        """, """
                out[n] = padded[n, :, i:i + H, j:j + W]
            return out[rng.permutation(N)]
        """))),
    ("flips the caller's array in place", _src("""
        def random_flip(x, rng, p=0.5):
            flip = rng.random(len(x)) < p
            x[flip] = x[flip][..., ::-1]
            return x


        def random_crop(x, rng, pad):
            N, C, H, W = x.shape
            padded = np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            offsets = rng.integers(0, 2 * pad + 1, size=(N, 2))
            out = np.empty((N, C, H, W))
            for n, (i, j) in enumerate(offsets):
                out[n] = padded[n, :, i:i + H, j:j + W]
            return out
    """)),
    ("pads with the border values (mode='edge') instead of zeros", _edit(
        FLIP_CROP_OK, ("(pad, pad), (pad, pad)))", "(pad, pad), (pad, pad)), mode=\"edge\")"))),
    ("crops grouped by offset: the batch comes back sorted by window and no longer matches y", _edit(
        FLIP_CROP_OK, ("""
            out = np.empty((N, C, H, W))
            for n, (i, j) in enumerate(offsets):
                out[n] = padded[n, :, i:i + H, j:j + W]
            return out
        """, """
            pieces = []
            for i in range(2 * pad + 1):
                for j in range(2 * pad + 1):
                    chosen = (offsets[:, 0] == i) & (offsets[:, 1] == j)
                    pieces.append(padded[chosen, :, i:i + H, j:j + W])
            return np.concatenate(pieces)
        """))),
])

# --------------------------------------------------------------------------- affine

AFFINE_OK = """
def affine_warp(x, matrices, offsets):
    N, C, H, W = x.shape
    x = np.asarray(x, dtype=float)
    center = np.array([(H - 1) / 2.0, (W - 1) / 2.0])
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    grid = np.stack([rows.ravel(), cols.ravel()]).astype(float) - center[:, None]
    src = np.asarray(matrices, dtype=float) @ grid + (center + np.asarray(offsets, dtype=float))[:, :, None]
    r0, c0 = np.floor(src[:, 0]).astype(int), np.floor(src[:, 1]).astype(int)
    out = np.zeros((N, C, H * W))
    images = np.arange(N)[:, None]
    for rr in (r0, r0 + 1):
        for cc in (c0, c0 + 1):
            weight = (1.0 - np.abs(src[:, 0] - rr)) * (1.0 - np.abs(src[:, 1] - cc))
            inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)
            values = x[images, :, np.clip(rr, 0, H - 1), np.clip(cc, 0, W - 1)]
            out += (np.where(inside, weight, 0.0)[:, :, None] * values).transpose(0, 2, 1)
    return out.reshape(N, C, H, W)
"""

AFFINE = _mutants("affine", [
    ("transforms about the corner (0, 0) instead of the image centre", _edit(
        AFFINE_OK, ("center = np.array([(H - 1) / 2.0, (W - 1) / 2.0])", "center = np.zeros(2)"))),
    ("applies the transposed matrix (rotates the wrong way)", _edit(
        AFFINE_OK, ("src = np.asarray(matrices, dtype=float) @ grid",
                    "src = np.asarray(matrices, dtype=float).transpose(0, 2, 1) @ grid"))),
    ("nearest neighbour (rounding) instead of bilinear interpolation", _src("""
        def affine_warp(x, matrices, offsets):
            N, C, H, W = x.shape
            x = np.asarray(x, dtype=float)
            center = np.array([(H - 1) / 2.0, (W - 1) / 2.0])
            rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
            grid = np.stack([rows.ravel(), cols.ravel()]).astype(float) - center[:, None]
            src = np.asarray(matrices, dtype=float) @ grid + (center + np.asarray(offsets, dtype=float))[:, :, None]
            rr, cc = np.rint(src[:, 0]).astype(int), np.rint(src[:, 1]).astype(int)
            inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)
            values = x[np.arange(N)[:, None], :, np.clip(rr, 0, H - 1), np.clip(cc, 0, W - 1)]
            out = (np.where(inside, 1.0, 0.0)[:, :, None] * values).transpose(0, 2, 1)
            return out.reshape(N, C, H, W)
    """)),
    ("edge padding: neighbours outside the image repeat the border instead of 0", _edit(
        AFFINE_OK, ("inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)", "inside = np.ones_like(rr, dtype=bool)"))),
    ("rows and columns swapped in the sampling (x/y confusion)", _edit(
        AFFINE_OK, ("r0, c0 = np.floor(src[:, 0]).astype(int), np.floor(src[:, 1]).astype(int)",
                    "src = src[:, ::-1]\n    r0, c0 = np.floor(src[:, 0]).astype(int), np.floor(src[:, 1]).astype(int)"))),
])

# --------------------------------------------------------------------------- noise and cutout

NOISE_CUTOUT_OK = """
def add_gaussian_noise(x, rng, sigma):
    return np.asarray(x, dtype=float) + sigma * rng.standard_normal(np.shape(x))


def cutout(x, rng, size):
    N, C, H, W = x.shape
    out = np.array(x, dtype=float, copy=True)
    centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])
    for n, (cr, cc) in enumerate(centres):
        r0, c0 = cr - size // 2, cc - size // 2
        out[n, :, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
    return out
"""

NOISE_CUTOUT = _mutants("noise_and_cutout", [
    ("noise with variance sigma (standard deviation sqrt(sigma))", _edit(
        NOISE_CUTOUT_OK, ("sigma * rng.standard_normal(np.shape(x))", "np.sqrt(sigma) * rng.standard_normal(np.shape(x))"))),
    ("the same noise pattern for every image in the batch", _edit(
        NOISE_CUTOUT_OK, ("sigma * rng.standard_normal(np.shape(x))", "sigma * rng.standard_normal(np.shape(x)[1:])"))),
    ("one cutout square for the whole batch", _edit(
        NOISE_CUTOUT_OK, ("centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])",
                          "centres = np.repeat([[rng.integers(0, H), rng.integers(0, W)]], N, axis=0)"))),
    ("an independent square in every channel", _src("""
        def add_gaussian_noise(x, rng, sigma):
            return np.asarray(x, dtype=float) + sigma * rng.standard_normal(np.shape(x))


        def cutout(x, rng, size):
            N, C, H, W = x.shape
            out = np.array(x, dtype=float, copy=True)
            for n in range(N):
                for ch in range(C):
                    cr, cc = rng.integers(0, H), rng.integers(0, W)
                    r0, c0 = cr - size // 2, cc - size // 2
                    out[n, ch, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
            return out
    """)),
    ("squares kept inside the image: centres never near the border", _edit(
        NOISE_CUTOUT_OK, ("centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])",
                          "centres = np.column_stack([rng.integers(size // 2, H - (size - 1 - size // 2), N), "
                          "rng.integers(size // 2, W - (size - 1 - size // 2), N)])"))),
    ("uniform noise in [-sigma, sigma] instead of Gaussian", _edit(
        NOISE_CUTOUT_OK, ("sigma * rng.standard_normal(np.shape(x))", "sigma * rng.uniform(-1.0, 1.0, np.shape(x))"))),
    ("uniform noise scaled to standard deviation sigma (right spread, wrong distribution)", _edit(
        NOISE_CUTOUT_OK, ("sigma * rng.standard_normal(np.shape(x))",
                          "sigma * np.sqrt(3.0) * rng.uniform(-1.0, 1.0, np.shape(x))"))),
    ("noise standard deviation sigma ** 2 (sigma taken as the variance the other way round)", _edit(
        NOISE_CUTOUT_OK, ("sigma * rng.standard_normal(np.shape(x))", "sigma**2 * rng.standard_normal(np.shape(x))"))),
    ("adds the noise in place: the caller's x (the training set) changes", _edit(
        NOISE_CUTOUT_OK, ("return np.asarray(x, dtype=float) + sigma * rng.standard_normal(np.shape(x))",
                          "x += sigma * rng.standard_normal(np.shape(x))\n    return x"))),
    ("returns the batch in a shuffled order: image n no longer matches label n", _edit(
        NOISE_CUTOUT_OK, ("""
                out[n, :, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
            return out
        """, """
                out[n, :, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
            return out[rng.permutation(N)]
        """))),
    ("square one pixel too large (size + 1)", _edit(
        NOISE_CUTOUT_OK, ("max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)]",
                          "max(r0, 0):max(r0 + size + 1, 0), max(c0, 0):max(c0 + size + 1, 0)]"))),
    ("collects the images with insert(0, ...): the batch comes back reversed and no longer matches y", _edit(
        NOISE_CUTOUT_OK, ("""
            out = np.array(x, dtype=float, copy=True)
            centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])
            for n, (cr, cc) in enumerate(centres):
                r0, c0 = cr - size // 2, cc - size // 2
                out[n, :, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
            return out
        """, """
            images = []
            centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])
            for n, (cr, cc) in enumerate(centres):
                image = np.array(x[n], dtype=float, copy=True)
                r0, c0 = cr - size // 2, cc - size // 2
                image[:, max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)] = 0.0
                images.insert(0, image)
            return np.stack(images)
        """))),
])

MUTANTS = [
    DROPOUT[0],
    *PENALTIES, *WEIGHT_DECAY, *EARLY, *DROPOUT[1:], *BAGGING, *FLIP_CROP, *AFFINE, *NOISE_CUTOUT,
]
