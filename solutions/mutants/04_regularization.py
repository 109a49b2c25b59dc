"""Plausible wrong solutions for chapter 04; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with a few exact replacements (``edit``). The
first one is also "the student with one mistake" of the grading test: it breaks test_dropout
only.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import editor

edit = editor(Path(__file__).resolve().parents[1] / "04_regularization.py")

# --------------------------------------------------------------------------- penalties

PENALTIES = [
    edit("penalties", "the L2 value has no 1/2 (lam * sum w^2) while the gradient is lam * w",
         ("value = 0.5 * lam * sum", "value = lam * sum")),
    edit("penalties", "the L2 penalty uses the norms, not the squared norms: lam/2 * sum ||W||",
         ("sum(float(np.sum(w * w)) for w", "sum(float(np.linalg.norm(w)) for w")),
    edit("penalties", "the penalties are averaged over the entries instead of summed",
         ("0.5 * lam * sum(float(np.sum(w * w))", "0.5 * lam * sum(float(np.mean(w * w))"),
         ("grads = {name: lam * w for name, w in weights.items()}",
          "grads = {name: lam * w / w.size for name, w in weights.items()}"),
         ("lam * sum(float(np.sum(np.abs(w)))", "lam * sum(float(np.mean(np.abs(w)))"),
         ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
          "grads = {name: lam * np.sign(w) / w.size for name, w in weights.items()}"), kind="order"),
    edit("penalties", "the L2 gradient is built in the weight arrays themselves (g = w; g *= lam changes the weights)",
         ("grads = {name: lam * w for name, w in weights.items()}",
          "grads = {}\n    for name, w in weights.items():\n        grads[name] = w\n        grads[name] *= lam"),
         kind="inplace"),
    edit("penalties", "only the arrays whose names start with 'W' are penalised (the caller decides what to penalise)",
         ("grads = {name: lam * w for name, w in weights.items()}",
          "weights = {name: w for name, w in weights.items() if name.startswith(\"W\")}\n"
          "    grads = {name: lam * w for name, w in weights.items()}"),
         ("value = 0.5 * lam * sum(float(np.sum(w * w)) for w in weights.values())",
          "value = 0.5 * lam * sum(float(np.sum(w * w)) for n, w in weights.items() if n.startswith(\"W\"))"),
         kind="ignored"),
    edit("penalties", "the L2 gradient is computed in float32",
         ("grads = {name: lam * w for name, w in weights.items()}",
          "grads = {name: lam * w.astype(np.float32) for name, w in weights.items()}"), kind="dtype"),
    edit("penalties", "the L1 gradient is lam * w (the L2 gradient) instead of lam * sign(w)",
         ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
          "grads = {name: lam * w for name, w in weights.items()}")),
    edit("penalties", "the L1 value has no absolute value (a sum of signed weights)",
         ("lam * sum(float(np.sum(np.abs(w))) for w", "lam * sum(float(np.sum(w)) for w")),
    edit("penalties", "the L1 subgradient at w = 0 is taken as +lam instead of 0 (sign(0) = 0)",
         ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
          "grads = {name: np.where(w >= 0, lam, -lam) for name, w in weights.items()}"), kind="edge"),
    edit("penalties", "the L1 gradient is written into the weight arrays (g = w; g[g > 0] = lam ...)",
         ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
          "grads = {}\n    for name, w in weights.items():\n        g = w\n        g[...] = lam * np.sign(g)\n"
          "        grads[name] = g"), kind="inplace"),
    edit("penalties", "the L1 gradient forgets the factor lam (sign(w) only)",
         ("grads = {name: lam * np.sign(w) for name, w in weights.items()}",
          "grads = {name: np.sign(w) for name, w in weights.items()}"), kind="ignored"),
]

# --------------------------------------------------------------------------- weight decay

WEIGHT_DECAY = [
    edit("weight_decay", "every parameter is decayed, the biases too (decay_keys is ignored)",
         ("        if name in decay_keys:\n            w *= 1.0 - lr * decay", "        w *= 1.0 - lr * decay"),
         kind="ignored"),
    edit("weight_decay", "the parameters whose names start with 'W' are decayed instead of those in decay_keys",
         ("if name in decay_keys:", "if name.startswith(\"W\"):"), kind="ignored"),
    edit("weight_decay", "the shrink factor is 1 - decay, without the learning rate",
         ("w *= 1.0 - lr * decay", "w *= 1.0 - decay")),
    edit("weight_decay", "the weights are decayed after the gradient step: (1 - lr decay)(w - lr g)",
         ("        if name in decay_keys:\n            w *= 1.0 - lr * decay\n        w -= lr * grads[name]",
          "        w -= lr * grads[name]\n        if name in decay_keys:\n            w *= 1.0 - lr * decay")),
    edit("weight_decay", "the decay term is added to the gradient array in place (g += decay * w changes grads)",
         ("        if name in decay_keys:\n            w *= 1.0 - lr * decay\n        w -= lr * grads[name]",
          "        g = grads[name]\n        if name in decay_keys:\n            g += decay * w\n        w -= lr * g"),
         kind="inplace"),
    edit("weight_decay", "new arrays are put into the dict instead of updating the model's arrays in place",
         ("        if name in decay_keys:\n            w *= 1.0 - lr * decay\n        w -= lr * grads[name]",
          "        factor = 1.0 - lr * decay if name in decay_keys else 1.0\n"
          "        params[name] = factor * w - lr * grads[name]"), kind="inplace"),
]

# --------------------------------------------------------------------------- early stopping

EARLY = [
    edit("early_stopping", "the best weights are saved as references, not copies: restore gives the last weights",
         ("self.best_params = {name: w.copy() for name, w in params.items()}", "self.best_params = dict(params)"),
         kind="inplace"),
    edit("early_stopping", "restore puts the saved arrays into the dict instead of copying their values into the "
         "model's arrays (training on then changes the saved copy)",
         ("w[...] = self.best_params[name]", "params[name] = self.best_params[name]"), kind="inplace"),
    edit("early_stopping", "restore does nothing: the last weights are kept",
         ("w[...] = self.best_params[name]", "pass")),
    edit("early_stopping", "patience is off by one: it stops only after patience + 1 bad epochs",
         ("return self.bad_epochs >= self.patience", "return self.bad_epochs > self.patience")),
    edit("early_stopping", "the bad-epoch counter is not reset by an improvement",
         ("            self.bad_epochs = 0\n            return False", "            return False")),
    edit("early_stopping", "min_delta is ignored: any decrease counts as an improvement",
         ("if val_loss < self.best_loss - self.min_delta:", "if val_loss < self.best_loss:"), kind="ignored"),
    edit("early_stopping", "a fixed tolerance of 1e-3 is used instead of min_delta",
         ("if val_loss < self.best_loss - self.min_delta:", "if val_loss < self.best_loss - 1e-3:"),
         kind="ignored"),
    edit("early_stopping", "min_delta is used as a fraction of the best loss, not as an absolute decrease",
         ("if val_loss < self.best_loss - self.min_delta:",
          "if val_loss < self.best_loss * (1.0 - self.min_delta):")),
    edit("early_stopping", "a tie with the best loss counts as an improvement (<= instead of <)",
         ("if val_loss < self.best_loss - self.min_delta:", "if val_loss <= self.best_loss - self.min_delta:"),
         kind="edge"),
    edit("early_stopping", "the epochs are counted from 1 instead of 0 (best_epoch is one too large)",
         ("self.epoch = -1", "self.epoch = 0")),
]

# --------------------------------------------------------------------------- dropout

DROPOUT = [
    edit("dropout", "no rescaling: x * mask in training (and dout * mask backwards)",
         ("out = x * mask / (1.0 - p)", "out = x * mask"), ("return dout * mask / (1.0 - p)", "return dout * mask")),
    edit("dropout", "p is used as the keep probability: units survive with probability p",
         ("mask = rng.random(x.shape) >= p", "mask = rng.random(x.shape) < p"),
         ("out = x * mask / (1.0 - p)", "out = x * mask / p"), ("return dout * mask / (1.0 - p)", "return dout * mask / p")),
    edit("dropout", "classic (non-inverted) dropout: no rescaling in training, a factor 1 - p in eval mode",
         ("return x, (None, p, False)", "return x * (1.0 - p), (None, p, False)"),
         ("out = x * mask / (1.0 - p)", "out = x * mask"),
         ("        return dout\n    return dout * mask / (1.0 - p)",
          "        return dout * (1.0 - p)\n    return dout * mask")),
    edit("dropout", "the backward pass ignores the mask: dout / (1 - p) everywhere",
         ("return dout * mask / (1.0 - p)", "return dout / (1.0 - p)")),
    edit("dropout", "eval mode still drops units (the train flag is ignored)",
         ("    if not train:\n        return x, (None, p, False)\n", ""),
         ("return out, (mask, p, True)", "return out, (mask, p, train)"), kind="ignored"),
    edit("dropout", "a given mask is ignored: a new one is always drawn",
         ("    if mask is None:\n        mask = rng.random(x.shape) >= p",
          "    rng = rng if rng is not None else np.random.default_rng()\n    mask = rng.random(x.shape) >= p"),
         kind="ignored"),
    edit("dropout", "the mask is drawn with np.random instead of the rng argument",
         ("mask = rng.random(x.shape) >= p", "mask = np.random.rand(*x.shape) >= p"), kind="rng"),
    edit("dropout", "the forward pass masks x in place (x *= mask): the layer's input changes",
         ("    out = x * mask / (1.0 - p)\n", "    x *= mask / (1.0 - p)\n    out = x\n"), kind="inplace"),
    edit("dropout", "the backward pass masks dout in place (dout *= mask)",
         ("    return dout * mask / (1.0 - p)", "    dout *= mask / (1.0 - p)\n    return dout"), kind="inplace"),
]

# --------------------------------------------------------------------------- bagging

BAGGING = [
    edit("bagging", "samples without replacement (a permutation): every model sees the same data",
         ("idx = rng.integers(0, n, size=n)", "idx = rng.permutation(n)")),
    edit("bagging", "one bootstrap sample is shared by all models",
         ("    for _ in range(n_models):\n        idx = rng.integers(0, n, size=n)\n",
          "    idx = rng.integers(0, n, size=n)\n    for _ in range(n_models):\n")),
    edit("bagging", "X and y are indexed with two different draws (labels no longer match their inputs)",
         ("model = fit(X[idx], y[idx])", "model = fit(X[idx], y[rng.integers(0, n, size=n)])")),
    edit("bagging", "the median of the predictions instead of the mean",
         ("return np.mean(predictions, axis=0)", "return np.median(predictions, axis=0)")),
    edit("bagging", "every model is trained on the full data set (no bootstrap)",
         ("model = fit(X[idx], y[idx])", "model = fit(X, y)")),
    edit("bagging", "the indices are drawn from 0 .. n - 2: the last example is never in a sample",
         ("idx = rng.integers(0, n, size=n)", "idx = rng.integers(0, n - 1, size=n)"), kind="edge"),
    edit("bagging", "the bootstrap indices come from np.random instead of the rng argument",
         ("idx = rng.integers(0, n, size=n)", "idx = np.random.randint(0, n, size=n)"), kind="rng"),
]

# --------------------------------------------------------------------------- flip and crop

FLIP_CROP = [
    edit("flip_and_crop", "one coin for the whole batch: all images flipped or none",
         ("flip = rng.random(len(x)) < p", "flip = np.full(len(x), rng.random() < p)")),
    edit("flip_and_crop", "flips upside down (axis -2) instead of left-right",
         ("out[flip] = out[flip][..., ::-1]", "out[flip] = out[flip][..., ::-1, :]")),
    edit("flip_and_crop", "the flip probability p is ignored (always 0.5)",
         ("flip = rng.random(len(x)) < p", "flip = rng.random(len(x)) < 0.5"), kind="ignored"),
    edit("flip_and_crop", "the flipped images are put first (concatenated): image n no longer matches label n",
         ("    out = np.array(x, dtype=float, copy=True)\n    out[flip] = out[flip][..., ::-1]\n    return out",
          "    x = np.asarray(x, dtype=float)\n    return np.concatenate([x[flip][..., ::-1], x[~flip]])")),
    edit("flip_and_crop", "flips the caller's array in place",
         ("    out = np.array(x, dtype=float, copy=True)\n    out[flip] = out[flip][..., ::-1]\n    return out",
          "    x[flip] = x[flip][..., ::-1]\n    return x"), kind="inplace"),
    edit("flip_and_crop", "the coins come from np.random instead of the rng argument",
         ("flip = rng.random(len(x)) < p", "flip = np.random.rand(len(x)) < p"), kind="rng"),
    edit("flip_and_crop", "crop offsets 0 .. 2 pad - 1: the last offset never occurs",
         ("rng.integers(0, 2 * pad + 1, size=(N, 2))", "rng.integers(0, max(2 * pad, 1), size=(N, 2))"),
         kind="edge"),
    edit("flip_and_crop", "one crop offset for the whole batch",
         ("offsets = rng.integers(0, 2 * pad + 1, size=(N, 2))",
          "offsets = np.repeat(rng.integers(0, 2 * pad + 1, size=(1, 2)), N, axis=0)")),
    edit("flip_and_crop", "np.pad(x, pad) pads every axis, the batch and channel axes too",
         ("np.pad(np.asarray(x, dtype=float), ((0, 0), (0, 0), (pad, pad), (pad, pad)))",
          "np.pad(np.asarray(x, dtype=float), pad)"),
         ("out[n] = padded[n, :, i:i + H, j:j + W]", "out[n] = padded[n, :C, i:i + H, j:j + W]")),
    edit("flip_and_crop", "crops into the caller's array (writes the windows back into x)",
         ("    out = np.empty((N, C, H, W))\n    for n, (i, j) in enumerate(offsets):\n"
          "        out[n] = padded[n, :, i:i + H, j:j + W]\n    return out",
          "    for n, (i, j) in enumerate(offsets):\n        x[n] = padded[n, :, i:i + H, j:j + W]\n    return x"),
         kind="inplace"),
    edit("flip_and_crop", "the cropped batch is shuffled (like a data loader would): image n no longer matches label n",
         ("        out[n] = padded[n, :, i:i + H, j:j + W]\n    return out",
          "        out[n] = padded[n, :, i:i + H, j:j + W]\n    return out[rng.permutation(N)]")),
    edit("flip_and_crop", "pads with the border values (mode='edge') instead of zeros",
         ("(pad, pad), (pad, pad)))", "(pad, pad), (pad, pad)), mode=\"edge\")")),
    edit("flip_and_crop", "the crop offsets come from np.random instead of the rng argument",
         ("offsets = rng.integers(0, 2 * pad + 1, size=(N, 2))",
          "offsets = np.random.randint(0, 2 * pad + 1, size=(N, 2))"), kind="rng"),
]

# --------------------------------------------------------------------------- affine

AFFINE = [
    edit("affine", "transforms about the corner (0, 0) instead of the image centre",
         ("center = np.array([(H - 1) / 2.0, (W - 1) / 2.0])", "center = np.zeros(2)")),
    edit("affine", "the centre is (H / 2, W / 2) instead of ((H - 1) / 2, (W - 1) / 2)",
         ("center = np.array([(H - 1) / 2.0, (W - 1) / 2.0])", "center = np.array([H / 2.0, W / 2.0])")),
    edit("affine", "applies the transposed matrix (rotates the wrong way)",
         ("src = np.asarray(matrices, dtype=float) @ grid", "src = np.asarray(matrices, dtype=float).transpose(0, 2, 1) @ grid")),
    edit("affine", "neighbours outside the image repeat the border instead of counting as 0",
         ("inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)", "inside = np.ones_like(rr, dtype=bool)")),
    edit("affine", "the last row and column count as outside the image (< H - 1 instead of < H)",
         ("inside = (rr >= 0) & (rr < H) & (cc >= 0) & (cc < W)",
          "inside = (rr >= 0) & (rr < H - 1) & (cc >= 0) & (cc < W - 1)"), kind="edge"),
    edit("affine", "rows and columns swapped in the sampling (x/y confusion)",
         ("    r0, c0 = np.floor(src[:, 0])", "    src = src[:, ::-1]\n    r0, c0 = np.floor(src[:, 0])")),
    edit("affine", "the offsets array is shifted in place (offsets += centre changes the caller's array)",
         ("src = np.asarray(matrices, dtype=float) @ grid + (center + np.asarray(offsets, dtype=float))[:, :, None]",
          "offsets += center\n    src = np.asarray(matrices, dtype=float) @ grid + offsets[:, :, None]"),
         kind="inplace"),
    edit("affine", "the output is accumulated in a float32 array",
         ("out = np.zeros((N, C, H * W))", "out = np.zeros((N, C, H * W), dtype=np.float32)"), kind="dtype"),
]

# --------------------------------------------------------------------------- noise and cutout

NOISE_CUTOUT = [
    edit("noise_and_cutout", "noise with variance sigma (standard deviation sqrt(sigma))",
         ("sigma * rng.standard_normal(np.shape(x))", "np.sqrt(sigma) * rng.standard_normal(np.shape(x))")),
    edit("noise_and_cutout", "the same noise pattern for every image in the batch",
         ("sigma * rng.standard_normal(np.shape(x))", "sigma * rng.standard_normal(np.shape(x)[1:])")),
    edit("noise_and_cutout", "uniform noise in [-sigma, sigma] instead of Gaussian",
         ("sigma * rng.standard_normal(np.shape(x))", "sigma * rng.uniform(-1.0, 1.0, np.shape(x))")),
    edit("noise_and_cutout", "uniform noise scaled to standard deviation sigma (right spread, wrong distribution)",
         ("sigma * rng.standard_normal(np.shape(x))", "sigma * np.sqrt(3.0) * rng.uniform(-1.0, 1.0, np.shape(x))")),
    edit("noise_and_cutout", "noise standard deviation sigma ** 2",
         ("sigma * rng.standard_normal(np.shape(x))", "sigma**2 * rng.standard_normal(np.shape(x))")),
    edit("noise_and_cutout", "adds the noise in place: the caller's x (the training set) changes",
         ("return np.asarray(x, dtype=float) + sigma * rng.standard_normal(np.shape(x))",
          "x += sigma * rng.standard_normal(np.shape(x))\n    return x"), kind="inplace"),
    edit("noise_and_cutout", "the noise comes from np.random instead of the rng argument",
         ("sigma * rng.standard_normal(np.shape(x))", "np.random.normal(0.0, sigma, np.shape(x))"), kind="rng"),
    edit("noise_and_cutout", "the noisy images are returned in float32",
         ("return np.asarray(x, dtype=float) + sigma", "return np.asarray(x, dtype=np.float32) + np.float32(sigma)"),
         ("rng.standard_normal(np.shape(x))", "rng.standard_normal(np.shape(x), dtype=np.float32)"), kind="dtype"),
    edit("noise_and_cutout", "one cutout square for the whole batch",
         ("centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])",
          "centres = np.repeat([[rng.integers(0, H), rng.integers(0, W)]], N, axis=0)")),
    edit("noise_and_cutout", "an independent square in every channel",
         ("    centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])\n"
          "    for n, (cr, cc) in enumerate(centres):\n        r0, c0 = cr - size // 2, cc - size // 2\n"
          "        out[n, :, max(r0, 0)",
          "    for n, ch in np.ndindex(N, C):\n        cr, cc = rng.integers(0, H), rng.integers(0, W)\n"
          "        r0, c0 = cr - size // 2, cc - size // 2\n        out[n, ch, max(r0, 0)")),
    edit("noise_and_cutout", "squares kept inside the image: centres never near the border",
         ("centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])",
          "centres = np.column_stack([rng.integers(size // 2, H - (size - 1 - size // 2), N), "
          "rng.integers(size // 2, W - (size - 1 - size // 2), N)])"), kind="edge"),
    edit("noise_and_cutout", "the square is one pixel too large (size + 1)",
         ("max(r0, 0):max(r0 + size, 0), max(c0, 0):max(c0 + size, 0)]",
          "max(r0, 0):max(r0 + size + 1, 0), max(c0, 0):max(c0 + size + 1, 0)]")),
    edit("noise_and_cutout", "the batch is returned in a shuffled order: image n no longer matches label n",
         ("    return out\n", "    return out[rng.permutation(N)]\n")),
    edit("noise_and_cutout", "cuts the square out of the caller's array (no copy)",
         ("out = np.array(x, dtype=float, copy=True)", "out = x"), kind="inplace"),
    edit("noise_and_cutout", "the centres come from np.random instead of the rng argument",
         ("centres = np.column_stack([rng.integers(0, H, N), rng.integers(0, W, N)])",
          "centres = np.column_stack([np.random.randint(0, H, N), np.random.randint(0, W, N)])"), kind="rng"),
]

# --------------------------------------------------------------------------- brightness and contrast

BRIGHTNESS_CONTRAST = [
    edit("brightness_contrast", "one brightness shift and one contrast factor for the whole batch",
         ("rng.uniform(-max_brightness, max_brightness, n)", "rng.uniform(-max_brightness, max_brightness, 1)"),
         ("rng.uniform(1.0 - max_contrast, 1.0 + max_contrast, n)", "rng.uniform(1.0 - max_contrast, 1.0 + max_contrast, 1)")),
    edit("brightness_contrast", "the contrast scales around 0 (c * x + b) instead of around the image's mean",
         ("return factor * (x - mean) + mean + shift", "return factor * x + shift")),
    edit("brightness_contrast", "the contrast works around the mean of the whole batch, not of each image",
         ("mean = x.mean(axis=(1, 2, 3), keepdims=True)", "mean = x.mean()")),
    edit("brightness_contrast", "the contrast works around each channel's mean, not the whole image's",
         ("mean = x.mean(axis=(1, 2, 3), keepdims=True)", "mean = x.mean(axis=(2, 3), keepdims=True)")),
    edit("brightness_contrast", "the brightness shift is drawn with max_contrast instead of max_brightness",
         ("rng.uniform(-max_brightness, max_brightness, n)", "rng.uniform(-max_contrast, max_contrast, n)"),
         kind="ignored"),
    edit("brightness_contrast", "the result is clipped to [0, 1]",
         ("return factor * (x - mean) + mean + shift", "return np.clip(factor * (x - mean) + mean + shift, 0.0, 1.0)"),
         kind="edge"),
    edit("brightness_contrast", "the images are changed in place (x -= mean; x *= c; ...)",
         ("    return factor * (x - mean) + mean + shift",
          "    x -= mean\n    x *= factor\n    x += mean + shift\n    return x"), kind="inplace"),
    edit("brightness_contrast", "the shifts and factors come from np.random instead of the rng argument",
         ("rng.uniform(-max_brightness, max_brightness, n)", "np.random.uniform(-max_brightness, max_brightness, n)"),
         ("rng.uniform(1.0 - max_contrast, 1.0 + max_contrast, n)",
          "np.random.uniform(1.0 - max_contrast, 1.0 + max_contrast, n)"), kind="rng"),
]

# --------------------------------------------------------------------------- label smoothing

LABEL_SMOOTHING = [
    edit("label_smoothing", "eps is spread over the K - 1 wrong classes (the labelled class gets exactly 1 - eps)",
         ("targets = np.full((N, K), eps / K)", "targets = np.full((N, K), eps / (K - 1))"),
         ("targets[np.arange(N), y] += 1.0 - eps", "targets[np.arange(N), y] = 1.0 - eps")),
    edit("label_smoothing", "the smoothing is applied twice ((1 - eps) t + eps / K on already smoothed targets)",
         ("targets[np.arange(N), y] += 1.0 - eps",
          "targets[np.arange(N), y] += 1.0 - eps\n    targets = (1.0 - eps) * targets + eps / K")),
    edit("label_smoothing", "the gradient is not divided by N (the loss is the mean over the batch)",
         ("dscores = (np.exp(log_probs) - targets) / N", "dscores = np.exp(log_probs) - targets")),
    edit("label_smoothing", "the loss and its gradient are summed over the batch instead of averaged",
         ("loss = -np.sum(targets * log_probs) / N", "loss = -np.sum(targets * log_probs)"),
         ("dscores = (np.exp(log_probs) - targets) / N", "dscores = np.exp(log_probs) - targets"), kind="order"),
    edit("label_smoothing", "eps is ignored: the targets stay one-hot",
         ("targets = np.full((N, K), eps / K)", "targets = np.zeros((N, K))"),
         ("targets[np.arange(N), y] += 1.0 - eps", "targets[np.arange(N), y] = 1.0"), kind="ignored"),
    edit("label_smoothing", "no max-subtraction: exp overflows for large scores",
         ("shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"), kind="edge"),
    edit("label_smoothing", "the scores are shifted in place (scores -= max changes the caller's array)",
         ("shifted = scores - scores.max(axis=1, keepdims=True)",
          "scores -= scores.max(axis=1, keepdims=True)\n    shifted = scores"), kind="inplace"),
    edit("label_smoothing", "the computation is done in float32",
         ("    N, K = scores.shape\n", "    N, K = scores.shape\n    scores = scores.astype(np.float32)\n"),
         ("targets = np.full((N, K), eps / K)", "targets = np.full((N, K), eps / K, dtype=np.float32)"),
         kind="dtype"),
]

MUTANTS = [
    DROPOUT[0],
    *PENALTIES, *WEIGHT_DECAY, *EARLY, *DROPOUT[1:], *BAGGING, *FLIP_CROP, *AFFINE, *NOISE_CUTOUT,
    *BRIGHTNESS_CONTRAST, *LABEL_SMOOTHING,
]
