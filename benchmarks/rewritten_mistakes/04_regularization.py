"""Known mistakes of 04_regularization, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "penalties", "fails": "test_penalties",
     "mutant": "the L2 value has no 1/2 (lam * sum w^2) while the gradient is lam * w",
     "source": '''def l2_penalty(weights, lam):
    total = 0.0
    grads = {}
    for name in weights:
        w = weights[name]
        total += np.dot(w.ravel(), w.ravel())
        grads[name] = w * lam
    return float(lam * total), grads


def l1_penalty(weights, lam):
    total = 0.0
    grads = {}
    for name in weights:
        w = weights[name]
        total += np.abs(w).sum()
        grads[name] = np.where(w > 0, lam, np.where(w < 0, -lam, 0.0))
    return float(lam * total), grads
'''},
    {"cell": "weight_decay", "fails": "test_weight_decay",
     "mutant": "the shrink factor is 1 - decay, without the learning rate",
     "source": '''def weight_decay_step(params, grads, lr, decay, decay_keys):
    for name in params:
        w = params[name]
        g = grads[name]
        if name in decay_keys:
            w -= decay * w + lr * g
        else:
            w -= lr * g
'''},
    {"cell": "brightness_contrast", "fails": "test_brightness_contrast",
     "mutant": "the contrast works around each channel's mean, not the whole image's",
     "source": '''def brightness_contrast(x, rng, max_brightness, max_contrast):
    x = np.array(x, dtype=np.float64)
    N, C = x.shape[0], x.shape[1]
    b = rng.uniform(-max_brightness, max_brightness, N)
    c = rng.uniform(1.0 - max_contrast, 1.0 + max_contrast, N)
    out = np.empty_like(x)
    for i in range(N):
        for ch in range(C):
            m = x[i, ch].mean()
            out[i, ch] = c[i] * x[i, ch] + (1.0 - c[i]) * m + b[i]
    return out
'''},
    {"cell": "label_smoothing", "fails": "test_label_smoothing",
     "mutant": "eps is spread over the K - 1 wrong classes (the labelled class gets exactly 1 - eps)",
     "source": '''def label_smoothing_cross_entropy(scores, y, eps):
    N, K = scores.shape
    onehot = np.zeros((N, K), dtype=bool)
    onehot[np.arange(N), y] = True
    t = np.where(onehot, 1.0 - eps, eps / (K - 1))
    m = np.max(scores, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(scores - m), axis=1, keepdims=True))
    log_p = scores - lse
    loss = -np.mean(np.sum(t * log_p, axis=1))
    grad = (np.exp(log_p) - t) / N
    return float(loss), grad
'''},
]

FIXES = {0: ("return float(lam * total), grads\n\n\ndef l1", "return float(0.5 * lam * total), grads\n\n\ndef l1"),
         1: ("w -= decay * w + lr * g", "w -= lr * decay * w + lr * g"),
         2: ("m = x[i, ch].mean()", "m = x[i].mean()"),
         3: [("t = np.where(onehot, 1.0 - eps, eps / (K - 1))", "t = np.where(onehot, 1.0 - eps + eps / K, eps / K)")]}
