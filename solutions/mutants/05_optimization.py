"""Plausible wrong solutions for chapter 05; each must make its named tests cell fail.

The first mutant is also used as "the student with one mistake" in the grading test, so it
must break its own tests cell only (Adam without bias correction: only test_adam uses Adam).

Most mutants are written as one small edit of a correct solution (``_edit``), so that each
differs from the reference in exactly the mistake it names.
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


# --------------------------------------------------------------------------- minibatches

MINIBATCHES_OK = """
def minibatches(X, y, batch_size, rng=None, drop_last=False):
    n = len(X)
    order = np.arange(n) if rng is None else rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    batches = []
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        batches.append((X[idx], y[idx]))
    return batches
"""

MINIBATCHES = _mutants("minibatches", [
    ("always drops the last partial batch (range(n // B) batches)", _edit(
        MINIBATCHES_OK, ("stop = n - n % batch_size if drop_last else n", "stop = n - n % batch_size"))),
    ("shuffles X and y with two different permutations", _src("""
        def minibatches(X, y, batch_size, rng=None, drop_last=False):
            n = len(X)
            if rng is not None:
                X = X[rng.permutation(n)]
                y = y[rng.permutation(n)]
            stop = n - n % batch_size if drop_last else n
            return [(X[s:s + batch_size], y[s:s + batch_size]) for s in range(0, stop, batch_size)]
    """)),
    ("ignores rng: never shuffles", _edit(
        MINIBATCHES_OK, ("order = np.arange(n) if rng is None else rng.permutation(n)", "order = np.arange(n)"))),
    ("draws the order with replacement (rng.integers), so examples repeat or go missing", _edit(
        MINIBATCHES_OK, ("rng.permutation(n)", "rng.integers(0, n, size=n)"))),
    ("ignores drop_last: always keeps the partial batch", _edit(
        MINIBATCHES_OK, ("stop = n - n % batch_size if drop_last else n", "stop = n"))),
])

# --------------------------------------------------------------------------- SGD

SGD_OK = """
class SGD:
    def __init__(self, params, lr, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.weight_decay = weight_decay

    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            w -= self.lr * g
"""

SGD = _mutants("sgd", [
    ("gradient ascent: adds the gradient instead of subtracting it", _edit(
        SGD_OK, ("w -= self.lr * g", "w += self.lr * g"))),
    ("puts a new array into the dict instead of updating in place (the model keeps the old one)", _edit(
        SGD_OK, ("w -= self.lr * g", "self.params[name] = w - self.lr * g"))),
    ("weight decay with the wrong sign (pushes weights away from 0)", _edit(
        SGD_OK, ("g = grads[name] + self.weight_decay * w", "g = grads[name] - self.weight_decay * w"))),
    ("weight decay as a shrink factor without the learning rate: w *= 1 - weight_decay", _edit(
        SGD_OK, ("""
            g = grads[name] + self.weight_decay * w
            w -= self.lr * g
        """, """
            w *= 1.0 - self.weight_decay
            w -= self.lr * grads[name]
        """))),
])

# --------------------------------------------------------------------------- momentum

MOMENTUM_OK = """
class SGDMomentum:
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {name: np.zeros_like(w) for name, w in params.items()}

    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            v = self.velocity[name]
            v *= self.momentum
            v += g
            w -= self.lr * v
"""

MOMENTUM = _mutants("momentum", [
    ("momentum with the sign flipped: v = mu v - g, then w -= lr v (climbs the loss)", _edit(
        MOMENTUM_OK, ("v += g", "v -= g"))),
    ("dampened (moving-average) velocity v = mu v + (1 - mu) g instead of torch's v = mu v + g", _edit(
        MOMENTUM_OK, ("v += g", "v += (1.0 - self.momentum) * g"))),
    ("learning rate inside the velocity (v = mu v + lr g; w -= v): wrong once lr changes", _edit(
        MOMENTUM_OK, ("v += g", "v += self.lr * g"), ("w -= self.lr * v", "w -= v"))),
    ("the velocity is not kept between steps (a fresh zero velocity each time: plain SGD)", _edit(
        MOMENTUM_OK, ("v = self.velocity[name]", "v = np.zeros_like(w)"))),
    ("weight decay added to the update after the momentum instead of to the gradient", _edit(
        MOMENTUM_OK, ("g = grads[name] + self.weight_decay * w", "g = grads[name]"),
        ("w -= self.lr * v", "w -= self.lr * (v + self.weight_decay * w)"))),
    ("one velocity shared by all parameters (a single array, reset to each parameter's shape)", _src("""
        class SGDMomentum:
            def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
                self.params = params
                self.lr = lr
                self.momentum = momentum
                self.weight_decay = weight_decay
                self.velocity = 0.0

            def step(self, grads):
                for name, w in self.params.items():
                    g = grads[name] + self.weight_decay * w
                    v = self.momentum * np.mean(self.velocity) + g
                    self.velocity = v
                    w -= self.lr * v
    """)),
])

# --------------------------------------------------------------------------- Nesterov

NESTEROV_OK = """
class Nesterov:
    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {name: np.zeros_like(w) for name, w in params.items()}

    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            v = self.velocity[name]
            v *= self.momentum
            v += g
            w -= self.lr * (g + self.momentum * v)
"""

NESTEROV = _mutants("nesterov", [
    ("plain momentum: steps with v instead of g + mu v", _edit(
        NESTEROV_OK, ("w -= self.lr * (g + self.momentum * v)", "w -= self.lr * v"))),
    ("look-ahead with the old velocity (step taken before the velocity is updated)", _edit(
        NESTEROV_OK, ("""
            v *= self.momentum
            v += g
            w -= self.lr * (g + self.momentum * v)
        """, """
            w -= self.lr * (g + self.momentum * v)
            v *= self.momentum
            v += g
        """))),
    ("weight decay only in the velocity: the g in the step is the raw gradient", _edit(
        NESTEROV_OK, ("w -= self.lr * (g + self.momentum * v)",
                      "w -= self.lr * (grads[name] + self.momentum * v)"))),
    ("learning rate inside the velocity: wrong once lr changes", _edit(
        NESTEROV_OK, ("v += g", "v += self.lr * g"),
        ("w -= self.lr * (g + self.momentum * v)", "w -= self.lr * g + self.momentum * v"))),
])

# --------------------------------------------------------------------------- AdaGrad

ADAGRAD_OK = """
class AdaGrad:
    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.eps = eps
        self.weight_decay = weight_decay
        self.sum_sq = {name: np.zeros_like(w) for name, w in params.items()}

    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            s = self.sum_sq[name]
            s += g * g
            w -= self.lr * g / (np.sqrt(s) + self.eps)
"""

ADAGRAD = _mutants("adagrad", [
    ("forgets the square root: divides by the sum of squares", _edit(
        ADAGRAD_OK, ("np.sqrt(s) + self.eps", "s + self.eps"))),
    ("eps inside the square root", _edit(
        ADAGRAD_OK, ("np.sqrt(s) + self.eps", "np.sqrt(s + self.eps)"))),
    ("a moving average (RMSProp) instead of the running sum", _edit(
        ADAGRAD_OK, ("s += g * g", "s *= 0.9\n            s += 0.1 * g * g"))),
    ("accumulates the raw gradient's square, without the weight decay term", _edit(
        ADAGRAD_OK, ("s += g * g", "s += grads[name] ** 2"))),
])

# --------------------------------------------------------------------------- RMSProp

RMSPROP_OK = """
class RMSProp:
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.avg_sq = {name: np.zeros_like(w) for name, w in params.items()}

    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            s = self.avg_sq[name]
            s *= self.alpha
            s += (1.0 - self.alpha) * g * g
            w -= self.lr * g / (np.sqrt(s) + self.eps)
"""

RMSPROP = _mutants("rmsprop", [
    ("alpha and 1 - alpha swapped in the moving average", _edit(
        RMSPROP_OK, ("s *= self.alpha", "s *= 1.0 - self.alpha"),
        ("s += (1.0 - self.alpha) * g * g", "s += self.alpha * g * g"))),
    ("eps inside the square root", _edit(
        RMSPROP_OK, ("np.sqrt(s) + self.eps", "np.sqrt(s + self.eps)"))),
    ("forgets the square root", _edit(
        RMSPROP_OK, ("np.sqrt(s) + self.eps", "s + self.eps"))),
    ("adds Adam's bias correction, which torch's RMSprop does not have", _src("""
        class RMSProp:
            def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
                self.params = params
                self.lr = lr
                self.alpha = alpha
                self.eps = eps
                self.weight_decay = weight_decay
                self.t = 0
                self.avg_sq = {name: np.zeros_like(w) for name, w in params.items()}

            def step(self, grads):
                self.t += 1
                for name, w in self.params.items():
                    g = grads[name] + self.weight_decay * w
                    s = self.avg_sq[name]
                    s *= self.alpha
                    s += (1.0 - self.alpha) * g * g
                    s_hat = s / (1.0 - self.alpha**self.t)
                    w -= self.lr * g / (np.sqrt(s_hat) + self.eps)
    """)),
])

# --------------------------------------------------------------------------- Adam

ADAM_OK = """
class Adam:
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = {name: np.zeros_like(w) for name, w in params.items()}
        self.v = {name: np.zeros_like(w) for name, w in params.items()}

    def step(self, grads):
        self.t += 1
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            m, v = self.m[name], self.v[name]
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            m_hat = m / (1.0 - self.beta1**self.t)
            v_hat = v / (1.0 - self.beta2**self.t)
            w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
"""

ADAM = _mutants("adam", [
    ("no bias correction: uses m and v directly", _edit(
        ADAM_OK, ("m_hat = m / (1.0 - self.beta1**self.t)", "m_hat = m"),
        ("v_hat = v / (1.0 - self.beta2**self.t)", "v_hat = v"))),
    ("eps inside the square root", _edit(
        ADAM_OK, ("np.sqrt(v_hat) + self.eps", "np.sqrt(v_hat + self.eps)"))),
    ("step counter incremented once per parameter instead of once per step", _edit(
        ADAM_OK, ("""
        self.t += 1
        for name, w in self.params.items():
        """, """
        for name, w in self.params.items():
            self.t += 1
        """))),
    ("bias correction only for m, not for v", _edit(
        ADAM_OK, ("v_hat = v / (1.0 - self.beta2**self.t)", "v_hat = v"))),
    ("decoupled weight decay (AdamW) instead of torch Adam's L2 term in the gradient", _edit(
        ADAM_OK, ("g = grads[name] + self.weight_decay * w", "g = grads[name]\n            w -= self.lr * self.weight_decay * w"))),
])

# --------------------------------------------------------------------------- clipping

CLIP_OK = """
def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    scale = min(1.0, max_norm / (total + 1e-6))
    for g in grads.values():
        g *= scale
    return total
"""

CLIP = _mutants("clip_grad_norm", [
    ("clips every array by its own norm instead of the global norm", _src("""
        def clip_grad_norm(grads, max_norm):
            total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
            for g in grads.values():
                g *= min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))
            return total
    """)),
    ("always rescales to max_norm, also scaling small gradients up", _edit(
        CLIP_OK, ("scale = min(1.0, max_norm / (total + 1e-6))", "scale = max_norm / (total + 1e-6)"))),
    ("returns the norm after clipping", _edit(
        CLIP_OK, ("return total", "return total * scale"))),
    ("sum of absolute values (L1) instead of the Euclidean norm", _edit(
        CLIP_OK, ("float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))",
                  "float(sum(np.sum(np.abs(g)) for g in grads.values()))"))),
    ("puts rescaled copies into the dict instead of rescaling in place", _src("""
        def clip_grad_norm(grads, max_norm):
            total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
            scale = min(1.0, max_norm / (total + 1e-6))
            for name in grads:
                grads[name] = grads[name] * scale
            return total
    """)),
])

# --------------------------------------------------------------------------- schedules

SCHEDULES_OK = """
def step_lr(t, lr0, step_size, gamma=0.1):
    return float(lr0 * gamma ** (t // step_size))


def exponential_lr(t, lr0, gamma):
    return float(lr0 * gamma**t)


def cosine_lr(t, lr0, total_steps, lr_min=0.0):
    if t >= total_steps:
        return float(lr_min)
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * t / total_steps)))


def warmup_lr(t, lr0, warmup_steps):
    return float(lr0 * min(1.0, (t + 1) / warmup_steps))
"""

SCHEDULES = _mutants("schedules", [
    ("step decay with a float exponent t / step_size (a smooth exponential decay)", _edit(
        SCHEDULES_OK, ("gamma ** (t // step_size)", "gamma ** (t / step_size)"))),
    ("cosine annealing that ignores lr_min", _edit(
        SCHEDULES_OK, ("lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * t / total_steps))",
                       "0.5 * lr0 * (1.0 + np.cos(np.pi * t / total_steps))"))),
    ("warm-up starts at 0: t / warmup_steps instead of (t + 1) / warmup_steps", _edit(
        SCHEDULES_OK, ("min(1.0, (t + 1) / warmup_steps)", "min(1.0, t / warmup_steps)"))),
    ("exponential decay as lr0 * exp(-gamma t)", _edit(
        SCHEDULES_OK, ("float(lr0 * gamma**t)", "float(lr0 * np.exp(-gamma * t))"))),
    ("cosine over a full period cos(2 pi t / T): back at lr0 at the end", _edit(
        SCHEDULES_OK, ("np.cos(np.pi * t / total_steps)", "np.cos(2 * np.pi * t / total_steps)"))),
    ("step decay counted from 1: (t + 1) // step_size decays one step too early", _edit(
        SCHEDULES_OK, ("gamma ** (t // step_size)", "gamma ** ((t + 1) // step_size)"))),
    ("step decay rounds t / step_size instead of flooring it (decays half a block early)", _edit(
        SCHEDULES_OK, ("gamma ** (t // step_size)", "gamma ** round(t / step_size)"))),
    ("exponential decay off by one: gamma ** (t + 1), so step 0 is already decayed", _edit(
        SCHEDULES_OK, ("float(lr0 * gamma**t)", "float(lr0 * gamma ** (t + 1))"))),
    ("exponential decay with the wrong base: (1 - gamma) ** t", _edit(
        SCHEDULES_OK, ("float(lr0 * gamma**t)", "float(lr0 * (1.0 - gamma) ** t)"))),
    ("cosine not held at lr_min after total_steps (the cosine climbs back up)", _edit(
        SCHEDULES_OK, ("""
            if t >= total_steps:
                return float(lr_min)
            return float(lr_min +""", """
            return float(lr_min +"""))),
    ("cosine adds lr_min on top: lr_min + 0.5 lr0 (1 + cos), starts at lr0 + lr_min", _edit(
        SCHEDULES_OK, ("lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * t / total_steps))",
                       "lr_min + 0.5 * lr0 * (1.0 + np.cos(np.pi * t / total_steps))"))),
    ("warm-up without the cap: (t + 1) / warmup_steps keeps growing past lr0", _edit(
        SCHEDULES_OK, ("float(lr0 * min(1.0, (t + 1) / warmup_steps))", "float(lr0 * (t + 1) / warmup_steps)"))),
    ("warm-up over warmup_steps + 1 steps: (t + 1) / (warmup_steps + 1), lr0 reached one step late", _edit(
        SCHEDULES_OK, ("min(1.0, (t + 1) / warmup_steps)", "min(1.0, (t + 1) / (warmup_steps + 1))"))),
])

# --------------------------------------------------------------------------- Newton

NEWTON_OK = """
def newton_method(grad_fn, hess_fn, w0, n_steps):
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for _ in range(n_steps):
        w = w - np.linalg.solve(hess_fn(w), grad_fn(w))
        path.append(w.copy())
    return np.array(path)
"""

NEWTON = _mutants("newton_method", [
    ("diagonal Hessian only: divides the gradient by diag(H)", _edit(
        NEWTON_OK, ("w = w - np.linalg.solve(hess_fn(w), grad_fn(w))",
                    "w = w - grad_fn(w) / np.diag(hess_fn(w))"))),
    ("sign flipped: w + H^-1 g", _edit(
        NEWTON_OK, ("w = w - np.linalg.solve", "w = w + np.linalg.solve"))),
    ("multiplies by H instead of solving with it", _edit(
        NEWTON_OK, ("np.linalg.solve(hess_fn(w), grad_fn(w))", "hess_fn(w) @ grad_fn(w)"))),
    ("the path leaves out the start w0", _edit(
        NEWTON_OK, ("path = [w.copy()]", "path = []"))),
])

# --------------------------------------------------------------------------- initialization

INIT_OK = """
def xavier_init(n_in, n_out, rng, distribution="uniform"):
    if distribution == "uniform":
        a = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))
    std = np.sqrt(2.0 / (n_in + n_out))
    return rng.normal(0.0, std, size=(n_in, n_out))


def kaiming_init(n_in, n_out, rng, distribution="normal"):
    if distribution == "uniform":
        a = np.sqrt(6.0 / n_in)
        return rng.uniform(-a, a, size=(n_in, n_out))
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
"""

INIT = _mutants("initialization", [
    ("Xavier normal with the variance as standard deviation (no square root)", _edit(
        INIT_OK, ("std = np.sqrt(2.0 / (n_in + n_out))", "std = 2.0 / (n_in + n_out)"))),
    ("Kaiming with the fan-out instead of the fan-in", _edit(
        INIT_OK, ("a = np.sqrt(6.0 / n_in)", "a = np.sqrt(6.0 / n_out)"),
        ("np.sqrt(2.0 / n_in)", "np.sqrt(2.0 / n_out)"))),
    ("Xavier uniform with the standard deviation as the bound (variance 3 times too small)", _edit(
        INIT_OK, ("a = np.sqrt(6.0 / (n_in + n_out))", "a = np.sqrt(2.0 / (n_in + n_out))"))),
    ("Kaiming without the factor 2 for ReLU (variance 1 / n_in)", _edit(
        INIT_OK, ("a = np.sqrt(6.0 / n_in)", "a = np.sqrt(3.0 / n_in)"),
        ("np.sqrt(2.0 / n_in)", "np.sqrt(1.0 / n_in)"))),
    ("weights of shape (n_out, n_in), the PyTorch layout", _src(
        _edit(INIT_OK, ("size=(n_in, n_out))", "size=(n_out, n_in))")))),
])

# --------------------------------------------------------------------------- batch norm

BATCHNORM_OK = """
def init_batchnorm_state(num_features, momentum=0.1, eps=1e-5):
    return {
        "running_mean": np.zeros(num_features),
        "running_var": np.ones(num_features),
        "momentum": momentum,
        "eps": eps,
    }


def batchnorm_forward(x, gamma, beta, state, train=True):
    eps = state["eps"]
    if train:
        n = x.shape[0]
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        m = state["momentum"]
        state["running_mean"] = (1.0 - m) * state["running_mean"] + m * mean
        state["running_var"] = (1.0 - m) * state["running_var"] + m * var * n / (n - 1)
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, inv_std, train)


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, train = cache
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    if not train:
        return dout * gamma * inv_std, dgamma, dbeta
    n = dout.shape[0]
    dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
"""

BATCHNORM = _mutants("batchnorm", [
    ("eval mode normalises with the batch statistics instead of the running ones", _edit(
        BATCHNORM_OK, ("mean, var = state[\"running_mean\"], state[\"running_var\"]",
                       "mean, var = x.mean(axis=0), x.var(axis=0)"))),
    ("running variance updated with the biased batch variance", _edit(
        BATCHNORM_OK, ("m * var * n / (n - 1)", "m * var"))),
    ("normalises with the unbiased variance (divides by N - 1)", _edit(
        BATCHNORM_OK, ("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"),
        ("m * var * n / (n - 1)", "m * var"))),
    ("momentum convention reversed: running = m * running + (1 - m) * batch", _edit(
        BATCHNORM_OK,
        ("(1.0 - m) * state[\"running_mean\"] + m * mean", "m * state[\"running_mean\"] + (1.0 - m) * mean"),
        ("(1.0 - m) * state[\"running_var\"] + m * var * n / (n - 1)",
         "m * state[\"running_var\"] + (1.0 - m) * var * n / (n - 1)"))),
    ("backward treats the batch mean and variance as constants", _edit(
        BATCHNORM_OK, ("dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)",
                       "dx = dout * gamma * inv_std"))),
    ("eps added outside the square root", _edit(
        BATCHNORM_OK, ("inv_std = 1.0 / np.sqrt(var + eps)", "inv_std = 1.0 / (np.sqrt(var) + eps)"))),
    ("dgamma forgets x_hat: sums dout only", _edit(
        BATCHNORM_OK, ("dgamma = np.sum(dout * x_hat, axis=0)", "dgamma = np.sum(dout, axis=0)"))),
    ("eval-mode backward uses the training formula (as if the running statistics depended on x)", _edit(
        BATCHNORM_OK, ("""
            if not train:
                return dout * gamma * inv_std, dgamma, dbeta
            n = dout.shape[0]
        """, """
            n = dout.shape[0]
        """))),
    ("eval-mode dx forgets gamma: dout * inv_std", _edit(
        BATCHNORM_OK, ("return dout * gamma * inv_std, dgamma, dbeta", "return dout * inv_std, dgamma, dbeta"))),
    ("dbeta as the mean of dout over the batch instead of the sum", _edit(
        BATCHNORM_OK, ("dbeta = dout.sum(axis=0)", "dbeta = dout.mean(axis=0)"),
        ("(n * dout - dbeta - x_hat * dgamma)", "(n * dout - n * dbeta - x_hat * dgamma)"))),
    ("running variance initialised to zeros instead of ones", _edit(
        BATCHNORM_OK, ("\"running_var\": np.ones(num_features),", "\"running_var\": np.zeros(num_features),"))),
    ("running statistics as column vectors (num_features, 1): they broadcast to (D, D)", _edit(
        BATCHNORM_OK, ("\"running_mean\": np.zeros(num_features),", "\"running_mean\": np.zeros((num_features, 1)),"),
        ("\"running_var\": np.ones(num_features),", "\"running_var\": np.ones((num_features, 1)),"))),
    ("Keras' momentum convention as the default: momentum=0.9 (the weight of the old running value)", _edit(
        BATCHNORM_OK, ("def init_batchnorm_state(num_features, momentum=0.1, eps=1e-5):",
                       "def init_batchnorm_state(num_features, momentum=0.9, eps=1e-5):"))),
])

MUTANTS = [
    ADAM[0],
    *MINIBATCHES, *SGD, *MOMENTUM, *NESTEROV, *ADAGRAD, *RMSPROP, *ADAM[1:], *CLIP, *SCHEDULES,
    *NEWTON, *INIT, *BATCHNORM,
]
