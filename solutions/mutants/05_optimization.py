"""Plausible wrong solutions for chapter 05; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with a few exact replacements (``edit``), so it
differs from the reference in exactly the mistake its ``why`` names; ``why`` is shown to a
student whose results match it. The first mutant (Adam without bias correction) breaks its own
tests cell only: no later tests cell uses Adam.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import editor

edit = editor(Path(__file__).resolve().parents[1] / "05_optimization.py")

WD = "g = grads[name] + self.weight_decay * w"  # the weight-decay line every optimizer shares
WD_INTO_GRADS = "g = grads[name]\n            g += self.weight_decay * w"
WD_INTO_DICT = "grads[name] += self.weight_decay * w\n            g = grads[name]"

# --------------------------------------------------------------------------- minibatches

ORDER = "order = np.arange(n) if rng is None else rng.permutation(n)"
STOP = "stop = n - n % batch_size if drop_last else n"

MINIBATCHES = [
    edit("minibatches", "always drops the last partial batch, also without drop_last", (STOP, "stop = n - n % batch_size")),
    edit("minibatches", "shuffles X and y with two different permutations, so the labels no longer match",
         (ORDER, "order_y = np.arange(n) if rng is None else rng.permutation(n)\n"
                 "    order = np.arange(n) if rng is None else rng.permutation(n)"),
         ("batches.append((X[idx], y[idx]))", "batches.append((X[idx], y[order_y[start:start + batch_size]]))")),
    edit("minibatches", "ignores rng: never shuffles", (ORDER, "order = np.arange(n)"), kind="ignored"),
    edit("minibatches", "draws the order with replacement (rng.integers), so examples repeat or go missing",
         ("else rng.permutation(n)", "else rng.integers(0, n, size=n)")),
    edit("minibatches", "ignores drop_last: always keeps the partial batch", (STOP, "stop = n"), kind="ignored"),
    edit("minibatches", "shuffles with np.random.permutation instead of the rng it is given",
         ("else rng.permutation(n)", "else np.random.permutation(n)"), kind="rng"),
    edit("minibatches", "shuffles with a generator of its own (default_rng(0)), not the rng argument: "
         "every epoch gets the same order",
         ("else rng.permutation(n)", "else np.random.default_rng(0).permutation(n)"), kind="rng"),
    edit("minibatches", "shuffles the caller's X and y in place (X[:] = X[perm]) instead of indexing copies",
         (ORDER, "order = np.arange(n)\n    if rng is not None:\n        perm = rng.permutation(n)\n"
                 "        X[:], y[:] = X[perm], y[perm]"), kind="inplace"),
    edit("minibatches", "makes n // B + 1 batches: an extra (empty or too small) batch when B divides the "
         "number of examples kept",
         ("for start in range(0, stop, batch_size):",
          "for start in range(0, (stop // batch_size + 1) * batch_size, batch_size):"), kind="edge"),
]

# --------------------------------------------------------------------------- SGD

SGD = [
    edit("sgd", "gradient ascent: adds the gradient instead of subtracting it", ("w -= self.lr * g", "w += self.lr * g")),
    edit("sgd", "puts a new array into the dict instead of updating it in place (the model keeps the old one)",
         ("w -= self.lr * g", "self.params[name] = w - self.lr * g")),
    edit("sgd", "weight decay with the wrong sign (pushes weights away from 0)",
         (WD, "g = grads[name] - self.weight_decay * w")),
    edit("sgd", "weight decay as a shrink factor without the learning rate: w *= 1 - weight_decay",
         (WD + "\n            w -= self.lr * g", "w *= 1.0 - self.weight_decay\n            w -= self.lr * grads[name]")),
    edit("sgd", "ignores weight_decay", (WD, "g = grads[name]"), kind="ignored"),
    edit("sgd", "adds the weight decay into the caller's gradient array (g = grads[name]; g += ...)",
         (WD, WD_INTO_GRADS), kind="inplace"),
]

# --------------------------------------------------------------------------- momentum

MOMENTUM = [
    edit("momentum", "momentum with the sign flipped: v = mu v - g, then w -= lr v (climbs the loss)", ("v += g", "v -= g")),
    edit("momentum", "dampened (moving-average) velocity v = mu v + (1 - mu) g instead of torch's v = mu v + g",
         ("v += g", "v += (1.0 - self.momentum) * g")),
    edit("momentum", "learning rate inside the velocity (v = mu v + lr g; w -= v): wrong once lr changes",
         ("v += g", "v += self.lr * g"), ("w -= self.lr * v", "w -= v")),
    edit("momentum", "the velocity is not kept between steps (a fresh zero velocity each time: plain SGD)",
         ("v = self.velocity[name]", "v = np.zeros_like(w)")),
    edit("momentum", "weight decay added to the update after the momentum instead of to the gradient",
         (WD, "g = grads[name]"), ("w -= self.lr * v", "w -= self.lr * (v + self.weight_decay * w)")),
    edit("momentum", "uses momentum 0.9 whatever momentum is given", ("v *= self.momentum", "v *= 0.9"), kind="ignored"),
    edit("momentum", "adds the weight decay into the caller's gradient array (g = grads[name]; g += ...)",
         (WD, WD_INTO_GRADS), kind="inplace"),
]

# --------------------------------------------------------------------------- Nesterov

NESTEROV_STEP = "w -= self.lr * (g + self.momentum * v)"

NESTEROV = [
    edit("nesterov", "plain momentum: steps with v instead of g + mu v", (NESTEROV_STEP, "w -= self.lr * v")),
    edit("nesterov", "weight decay only in the velocity: the g in the step is the raw gradient",
         (NESTEROV_STEP, "w -= self.lr * (grads[name] + self.momentum * v)")),
    edit("nesterov", "learning rate inside the velocity: wrong once lr changes",
         ("v += g", "v += self.lr * g"), (NESTEROV_STEP, "w -= self.lr * g + self.momentum * v")),
    edit("nesterov", "ignores weight_decay", (WD, "g = grads[name]"), kind="ignored"),
    edit("nesterov", "adds the weight decay into the caller's gradient dict (grads[name] += ...)",
         (WD, WD_INTO_DICT), kind="inplace"),
]

# --------------------------------------------------------------------------- AdaGrad

ADAGRAD = [
    edit("adagrad", "forgets the square root: divides by the sum of squares", ("np.sqrt(s) + self.eps", "s + self.eps")),
    edit("adagrad", "eps inside the square root", ("np.sqrt(s) + self.eps", "np.sqrt(s + self.eps)")),
    edit("adagrad", "a moving average (RMSProp) instead of the running sum",
         ("s += g * g", "s *= 0.9\n            s += 0.1 * g * g")),
    edit("adagrad", "accumulates the raw gradient's square, without the weight decay term",
         ("s += g * g", "s += grads[name] ** 2")),
    edit("adagrad", "uses eps=1e-10 whatever eps is given", ("np.sqrt(s) + self.eps", "np.sqrt(s) + 1e-10"),
         kind="ignored"),
    edit("adagrad", "adds the weight decay into the caller's gradient array (g = grads[name]; g += ...)",
         (WD, WD_INTO_GRADS), kind="inplace"),
]

# --------------------------------------------------------------------------- RMSProp

RMS_AVG = "s *= self.alpha\n            s += (1.0 - self.alpha) * g * g"
RMS_STEP = "w -= self.lr * g / (np.sqrt(s) + self.eps)"

RMSPROP = [
    edit("rmsprop", "alpha and 1 - alpha swapped in the moving average",
         (RMS_AVG, "s *= 1.0 - self.alpha\n            s += self.alpha * g * g")),
    edit("rmsprop", "eps inside the square root", ("np.sqrt(s) + self.eps", "np.sqrt(s + self.eps)")),
    edit("rmsprop", "forgets the square root", ("np.sqrt(s) + self.eps", "s + self.eps")),
    edit("rmsprop", "adds Adam's bias correction, which torch's RMSprop does not have",
         ("self.avg_sq = {name: np.zeros_like(w) for name, w in params.items()}",
          "self.avg_sq = {name: np.zeros_like(w) for name, w in params.items()}\n        self.t = 0"),
         ("for name, w in self.params.items():", "self.t += 1\n        for name, w in self.params.items():"),
         (RMS_STEP, "w -= self.lr * g / (np.sqrt(s / (1.0 - self.alpha**self.t)) + self.eps)")),
    edit("rmsprop", "uses alpha=0.99 whatever alpha is given", (RMS_AVG, "s *= 0.99\n            s += 0.01 * g * g"),
         kind="ignored"),
    edit("rmsprop", "adds the weight decay into the caller's gradient dict (grads[name] += ...)",
         (WD, WD_INTO_DICT), kind="inplace"),
]

# --------------------------------------------------------------------------- Adam

ADAM = [
    edit("adam", "no bias correction: uses m and v directly",
         ("m_hat = m / (1.0 - self.beta1**self.t)", "m_hat = m"), ("v_hat = v / (1.0 - self.beta2**self.t)", "v_hat = v")),
    edit("adam", "eps inside the square root", ("np.sqrt(v_hat) + self.eps", "np.sqrt(v_hat + self.eps)")),
    edit("adam", "step counter incremented once per parameter instead of once per step",
         ("self.t += 1\n        for name, w in self.params.items():",
          "for name, w in self.params.items():\n            self.t += 1")),
    edit("adam", "bias correction only for m, not for v", ("v_hat = v / (1.0 - self.beta2**self.t)", "v_hat = v")),
    edit("adam", "decoupled weight decay (AdamW) instead of torch Adam's L2 term in the gradient",
         (WD, "g = grads[name]\n            w -= self.lr * self.weight_decay * w")),
    edit("adam", "uses the default betas (0.9, 0.999) whatever betas are given",
         ("self.beta1, self.beta2 = betas", "self.beta1, self.beta2 = 0.9, 0.999"), kind="ignored"),
    edit("adam", "adds the weight decay into the caller's gradient array (g = grads[name]; g += ...)",
         (WD, WD_INTO_GRADS), kind="inplace"),
]

# --------------------------------------------------------------------------- clipping

CLIP_SCALE = "scale = min(1.0, max_norm / (total + 1e-6))"
CLIP_LOOP = "    for g in grads.values():\n        g *= scale"

CLIP = [
    edit("clip_grad_norm", "clips every array by its own norm instead of the global norm",
         (CLIP_LOOP, "    for g in grads.values():\n        g *= min(1.0, max_norm / (np.linalg.norm(g) + 1e-6))")),
    edit("clip_grad_norm", "always rescales to max_norm, also scaling small gradients up",
         (CLIP_SCALE, "scale = max_norm / (total + 1e-6)")),
    edit("clip_grad_norm", "returns the norm after clipping", ("return total", "return total * scale")),
    edit("clip_grad_norm", "sum of absolute values (L1) instead of the Euclidean norm",
         ("float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))",
          "float(sum(np.sum(np.abs(g)) for g in grads.values()))")),
    edit("clip_grad_norm", "puts rescaled copies into the dict instead of rescaling the arrays in place",
         (CLIP_LOOP, "    for name in grads:\n        grads[name] = grads[name] * scale")),
    edit("clip_grad_norm", "clips to norm 1 whatever max_norm is given",
         (CLIP_SCALE, "scale = min(1.0, 1.0 / (total + 1e-6))"), kind="ignored"),
]

# --------------------------------------------------------------------------- schedules

COSINE = "lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * t / total_steps))"

SCHEDULES = [
    edit("schedules", "step decay with a float exponent t / step_size (a smooth exponential decay)",
         ("gamma ** (t // step_size)", "gamma ** (t / step_size)")),
    edit("schedules", "cosine annealing that ignores lr_min",
         (COSINE, "0.5 * lr0 * (1.0 + np.cos(np.pi * t / total_steps))"), kind="ignored"),
    edit("schedules", "warm-up starts at 0: t / warmup_steps instead of (t + 1) / warmup_steps",
         ("min(1.0, (t + 1) / warmup_steps)", "min(1.0, t / warmup_steps)")),
    edit("schedules", "exponential decay as lr0 * exp(-gamma t)", ("float(lr0 * gamma**t)", "float(lr0 * np.exp(-gamma * t))")),
    edit("schedules", "cosine over a full period cos(2 pi t / T): back at lr0 at the end",
         ("np.cos(np.pi * t / total_steps)", "np.cos(2 * np.pi * t / total_steps)")),
    edit("schedules", "step decay counted from 1: (t + 1) // step_size decays one step too early",
         ("gamma ** (t // step_size)", "gamma ** ((t + 1) // step_size)")),
    edit("schedules", "step decay rounds t / step_size instead of flooring it (decays half a block early)",
         ("gamma ** (t // step_size)", "gamma ** round(t / step_size)")),
    edit("schedules", "exponential decay off by one: gamma ** (t + 1), so step 0 is already decayed",
         ("float(lr0 * gamma**t)", "float(lr0 * gamma ** (t + 1))"), kind="edge"),
    edit("schedules", "exponential decay with the wrong base: (1 - gamma) ** t",
         ("float(lr0 * gamma**t)", "float(lr0 * (1.0 - gamma) ** t)")),
    edit("schedules", "cosine not held at lr_min after total_steps (the cosine climbs back up)",
         ("    if t >= total_steps:\n        return float(lr_min)\n    return float(lr_min +", "    return float(lr_min +"),
         kind="edge"),
    edit("schedules", "cosine adds lr_min on top: lr_min + 0.5 lr0 (1 + cos), starts at lr0 + lr_min",
         (COSINE, "lr_min + 0.5 * lr0 * (1.0 + np.cos(np.pi * t / total_steps))")),
    edit("schedules", "warm-up without the cap: (t + 1) / warmup_steps keeps growing past lr0",
         ("float(lr0 * min(1.0, (t + 1) / warmup_steps))", "float(lr0 * (t + 1) / warmup_steps)")),
    edit("schedules", "warm-up over warmup_steps + 1 steps: (t + 1) / (warmup_steps + 1), lr0 reached one step late",
         ("min(1.0, (t + 1) / warmup_steps)", "min(1.0, (t + 1) / (warmup_steps + 1))"), kind="edge"),
    edit("schedules", "step decay with gamma 0.1 whatever gamma is given",
         ("float(lr0 * gamma ** (t // step_size))", "float(lr0 * 0.1 ** (t // step_size))"), kind="ignored"),
]

# --------------------------------------------------------------------------- EMA of the weights

EMA = "a *= decay\n        a += (1.0 - decay) * params[name]"

EMA_UPDATE = [
    edit("ema_update", "decay and 1 - decay swapped: the new weights get the weight decay",
         (EMA, "a *= 1.0 - decay\n        a += decay * params[name]")),
    edit("ema_update", "puts new arrays into avg instead of updating the caller's arrays in place",
         (EMA, "avg[name] = decay * a + (1.0 - decay) * params[name]")),
    edit("ema_update", "forgets to shrink the old average (a += (1 - decay) * params only)",
         (EMA, "a += (1.0 - decay) * params[name]")),
    edit("ema_update", "uses torch's default decay 0.999 whatever decay is given",
         (EMA, "a *= 0.999\n        a += 0.001 * params[name]"), kind="ignored"),
    edit("ema_update", "scales the caller's parameter arrays in place (p *= 1 - decay)",
         (EMA, "p = params[name]\n        p *= 1.0 - decay\n        a *= decay\n        a += p"), kind="inplace"),
]

# --------------------------------------------------------------------------- Newton

NEWTON_STEP = "w = w - np.linalg.solve(hess_fn(w), grad_fn(w))"

NEWTON = [
    edit("newton_method", "diagonal Hessian only: divides the gradient by diag(H)",
         (NEWTON_STEP, "w = w - grad_fn(w) / np.diag(hess_fn(w))")),
    edit("newton_method", "sign flipped: w + H^-1 g", ("w = w - np.linalg.solve", "w = w + np.linalg.solve")),
    edit("newton_method", "multiplies by H instead of solving with it",
         ("np.linalg.solve(hess_fn(w), grad_fn(w))", "hess_fn(w) @ grad_fn(w)")),
    edit("newton_method", "the path leaves out the start w0", ("path = [w.copy()]", "path = []")),
    edit("newton_method", "updates the caller's w0 in place (w = np.asarray(w0); w -= ...)",
         ("w = np.array(w0, dtype=float)", "w = np.asarray(w0, dtype=float)"),
         (NEWTON_STEP, "w -= np.linalg.solve(hess_fn(w), grad_fn(w))"), kind="inplace"),
    edit("newton_method", "returns the path as float32", ("return np.array(path)", "return np.array(path, dtype=np.float32)"),
         kind="dtype"),
]

# --------------------------------------------------------------------------- L-BFGS

LBFGS = [
    edit("lbfgs_direction", "runs the first loop from the oldest pair to the newest (and the second in the same order)",
         ("for s, y in zip(reversed(s_list), reversed(y_list), strict=True):", "for s, y in zip(s_list, y_list, strict=True):"),
         ("zip(s_list, y_list, reversed(alphas), strict=True)", "zip(s_list, y_list, alphas, strict=True)")),
    edit("lbfgs_direction", "starts from the identity instead of gamma I (no scaling by s.y / y.y)", ("r = gamma * q", "r = q")),
    edit("lbfgs_direction", "takes gamma from the oldest pair instead of the newest",
         ("gamma = (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1]) if s_list else 1.0",
          "gamma = (s_list[0] @ y_list[0]) / (y_list[0] @ y_list[0]) if s_list else 1.0")),
    edit("lbfgs_direction", "returns H g instead of -H g (an uphill direction)", ("return -r", "return r")),
    edit("lbfgs_direction", "rho = 1 / (s.s) instead of 1 / (y.s)", ("rho = 1.0 / (y @ s)", "rho = 1.0 / (s @ s)")),
    edit("lbfgs_direction", "second loop with the sign of the correction flipped: (beta - alpha) s",
         ("r = r + (alpha - beta) * s", "r = r + (beta - alpha) * s")),
    edit("lbfgs_direction", "works on the caller's gradient array (q = grad; q -= alpha * y)",
         ("q = np.array(grad, dtype=float)", "q = grad"), ("q = q - alpha * y", "q -= alpha * y"), kind="inplace"),
    edit("lbfgs_direction", "computes in float32 (q = np.array(grad, dtype=np.float32))",
         ("q = np.array(grad, dtype=float)", "q = np.array(grad, dtype=np.float32)"), kind="dtype"),
]

# --------------------------------------------------------------------------- initialization

XAVIER_UNIFORM = "a = np.sqrt(6.0 / (n_in + n_out))\n        return rng.uniform(-a, a, size=(n_in, n_out))"
KAIMING_UNIFORM = "a = np.sqrt(6.0 / n_in)\n        return rng.uniform(-a, a, size=(n_in, n_out))"
XAVIER_NORMAL = "return rng.normal(0.0, std, size=(n_in, n_out))"
KAIMING_NORMAL = "return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))"

INIT = [
    edit("initialization", "Xavier normal with the variance as standard deviation (no square root)",
         ("std = np.sqrt(2.0 / (n_in + n_out))", "std = 2.0 / (n_in + n_out)")),
    edit("initialization", "Xavier uniform with the standard deviation as the bound (variance 3 times too small)",
         ("a = np.sqrt(6.0 / (n_in + n_out))", "a = np.sqrt(2.0 / (n_in + n_out))")),
    edit("initialization", "Xavier weights of shape (n_out, n_in), the PyTorch layout",
         (XAVIER_UNIFORM, XAVIER_UNIFORM.replace("size=(n_in, n_out)", "size=(n_out, n_in)")),
         (XAVIER_NORMAL, XAVIER_NORMAL.replace("size=(n_in, n_out)", "size=(n_out, n_in)"))),
    edit("initialization", "Xavier draws from np.random instead of the rng it is given",
         (XAVIER_UNIFORM, XAVIER_UNIFORM.replace("rng.uniform", "np.random.uniform")), kind="rng"),
    edit("initialization", "Xavier returns float32 weights (.astype(np.float32))",
         (XAVIER_UNIFORM, XAVIER_UNIFORM + ".astype(np.float32)"), kind="dtype"),
    edit("initialization", "Xavier ignores distribution: always uniform",
         ('if distribution == "uniform":\n        a = np.sqrt(6.0 / (n_in + n_out))',
          'if True:\n        a = np.sqrt(6.0 / (n_in + n_out))'), kind="ignored"),
    edit("initialization", "Kaiming with the fan-out instead of the fan-in",
         ("a = np.sqrt(6.0 / n_in)", "a = np.sqrt(6.0 / n_out)"), ("np.sqrt(2.0 / n_in), size", "np.sqrt(2.0 / n_out), size")),
    edit("initialization", "Kaiming without the factor 2 for ReLU (variance 1 / n_in)",
         ("a = np.sqrt(6.0 / n_in)", "a = np.sqrt(3.0 / n_in)"), ("np.sqrt(2.0 / n_in), size", "np.sqrt(1.0 / n_in), size")),
    edit("initialization", "Kaiming weights of shape (n_out, n_in), the PyTorch layout",
         (KAIMING_UNIFORM, KAIMING_UNIFORM.replace("size=(n_in, n_out)", "size=(n_out, n_in)")),
         (KAIMING_NORMAL, KAIMING_NORMAL.replace("size=(n_in, n_out)", "size=(n_out, n_in)"))),
    edit("initialization", "Kaiming draws from a generator of its own (default_rng(0)), not the rng argument",
         (KAIMING_NORMAL, KAIMING_NORMAL.replace("rng.normal", "np.random.default_rng(0).normal")), kind="rng"),
    edit("initialization", "Kaiming ignores distribution: always normal",
         ('if distribution == "uniform":\n        a = np.sqrt(6.0 / n_in)', 'if False:\n        a = np.sqrt(6.0 / n_in)'),
         kind="ignored"),
]

# --------------------------------------------------------------------------- batch norm

RUNNING_MEAN = '(1.0 - m) * state["running_mean"] + m * mean'
RUNNING_VAR = '(1.0 - m) * state["running_var"] + m * var * n / (n - 1)'
TRAIN_DX = "dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)"

BATCHNORM = [
    # init_batchnorm_state
    edit("batchnorm", "running variance initialised to zeros instead of ones",
         ('"running_var": np.ones(num_features),', '"running_var": np.zeros(num_features),')),
    edit("batchnorm", "running statistics as column vectors (num_features, 1): they broadcast to (D, D)",
         ('"running_mean": np.zeros(num_features),', '"running_mean": np.zeros((num_features, 1)),'),
         ('"running_var": np.ones(num_features),', '"running_var": np.ones((num_features, 1)),')),
    edit("batchnorm", "Keras' momentum convention as the default: momentum=0.9 (the weight of the old running value)",
         ("def init_batchnorm_state(num_features, momentum=0.1, eps=1e-5):",
          "def init_batchnorm_state(num_features, momentum=0.9, eps=1e-5):")),
    # batchnorm_forward
    edit("batchnorm", "eval mode normalises with the batch statistics instead of the running ones",
         ('mean, var = state["running_mean"], state["running_var"]', "mean, var = x.mean(axis=0), x.var(axis=0)")),
    edit("batchnorm", "running variance updated with the biased batch variance", ("m * var * n / (n - 1)", "m * var")),
    edit("batchnorm", "normalises with the unbiased variance (divides by N - 1)",
         ("var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)"), ("m * var * n / (n - 1)", "m * var")),
    edit("batchnorm", "momentum convention reversed: running = m * running + (1 - m) * batch",
         (RUNNING_MEAN, 'm * state["running_mean"] + (1.0 - m) * mean'),
         (RUNNING_VAR, 'm * state["running_var"] + (1.0 - m) * var * n / (n - 1)')),
    edit("batchnorm", "eps added outside the square root",
         ("inv_std = 1.0 / np.sqrt(var + eps)", "inv_std = 1.0 / (np.sqrt(var) + eps)")),
    edit("batchnorm", "subtracts the mean from the caller's x in place (x -= mean)",
         ("x_hat = (x - mean) * inv_std", "x -= mean\n    x_hat = x * inv_std"), kind="inplace"),
    edit("batchnorm", "accepts a training batch of one example (no ValueError): its variance is 0 and the "
         "running variance becomes NaN",
         ('        if n < 2:\n            raise ValueError(f"batch norm in training mode needs at least 2 examples '
          'per batch, got {n}")\n', ""), kind="edge"),
    edit("batchnorm", "the output forgets the shift beta: out = gamma * x_hat", ("out = gamma * x_hat + beta", "out = gamma * x_hat"),
         kind="order"),
    # batchnorm_backward
    edit("batchnorm", "backward treats the batch mean and variance as constants", (TRAIN_DX, "dx = dout * gamma * inv_std")),
    edit("batchnorm", "dgamma forgets x_hat: sums dout only",
         ("dgamma = np.sum(dout * x_hat, axis=0)", "dgamma = np.sum(dout, axis=0)")),
    edit("batchnorm", "eval-mode backward uses the training formula (as if the running statistics depended on x)",
         ("    if not train:\n        return dout * gamma * inv_std, dgamma, dbeta\n", "")),
    edit("batchnorm", "eval-mode dx forgets gamma: dout * inv_std",
         ("return dout * gamma * inv_std, dgamma, dbeta", "return dout * inv_std, dgamma, dbeta")),
    edit("batchnorm", "dbeta as the mean of dout over the batch instead of the sum",
         ("dbeta = dout.sum(axis=0)", "dbeta = dout.mean(axis=0)"),
         ("(n * dout - dbeta - x_hat * dgamma)", "(n * dout - n * dbeta - x_hat * dgamma)")),
    edit("batchnorm", "computes dx in the caller's dout array (dx = dout; dx *= n; ...)",
         (TRAIN_DX, "dx = dout\n    dx *= n\n    dx -= dbeta + x_hat * dgamma\n    dx *= gamma * inv_std / n"),
         kind="inplace"),
]

MUTANTS = [
    ADAM[0],
    *MINIBATCHES, *SGD, *MOMENTUM, *NESTEROV, *ADAGRAD, *RMSPROP, *ADAM[1:], *CLIP, *SCHEDULES,
    *EMA_UPDATE, *NEWTON, *LBFGS, *INIT, *BATCHNORM,
]
