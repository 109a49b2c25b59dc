"""Known mistakes of 02_backprop, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "logistic_regression", "fails": "test_logistic_regression",
     "mutant": "gradient summed over the batch instead of averaged",
     "source": '''def sigmoid(z):
    """The logistic sigmoid, stable for large |z|."""
    z = np.array(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def logistic_loss_grad(w, b, X, y):
    n = X.shape[0]
    logits = np.dot(X, w) + b
    # log(1 + exp(-|z|)) + max(z, 0) - y z, averaged
    losses = np.logaddexp(0.0, logits) - y * logits
    loss = losses.sum() / n
    dw = np.zeros_like(w, dtype=float)
    db = 0.0
    for i in range(n):
        err = sigmoid(logits[i]) - y[i]
        dw += err * X[i]
        db += err
    return float(loss), dw, float(db)
'''},
    {"cell": "gradient_check", "fails": "test_gradient_check",
     "mutant": "divides the central difference by h instead of 2h",
     "source": '''def numeric_grad(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=np.float64)
    flat_grad = grad.reshape(-1)
    for k in range(x.size):
        idx = np.unravel_index(k, x.shape)
        saved = x[idx]
        x[idx] = saved + h
        f_plus = f(x)
        x[idx] = saved - h
        f_minus = f(x)
        x[idx] = saved
        flat_grad[k] = (f_plus - f_minus) / h
    return grad


def rel_error(a, b):
    a = np.array(a, dtype=np.float64)
    b = np.array(b, dtype=np.float64)
    denom = np.abs(a) + np.abs(b)
    denom[denom < 1e-12] = 1e-12
    return float((np.abs(a - b) / denom).max())
'''},
    {"cell": "tensor_nodes", "fails": "test_tensor_nodes",
     "mutant": "weight gradient divided by the batch size",
     "source": '''class Affine(CompNode):
    def forward(self):
        x, W, b = self.parents
        self.value = np.einsum("nd,dm->nm", x.value, W.value) + b.value[None, :]

    def backward(self):
        x, W, b = self.parents
        G = self.grad
        n = x.value.shape[0]
        x.addgrad(np.einsum("nm,dm->nd", G, W.value))
        W.addgrad(np.einsum("nd,nm->dm", x.value, G) / n)
        b.addgrad(np.einsum("nm->m", G))


class Tanh(CompNode):
    def forward(self):
        (x,) = self.parents
        e2 = np.exp(-2.0 * np.abs(x.value))
        self.value = np.sign(x.value) * (1.0 - e2) / (1.0 + e2)

    def backward(self):
        (x,) = self.parents
        y = self.value
        x.addgrad(self.grad - self.grad * y * y)
'''},
    {"cell": "tensor_nodes", "fails": "test_tensor_nodes",
     "mutant": "Tanh's backward with the sigmoid's derivative y (1 - y)",
     "source": '''class Affine(CompNode):
    def forward(self):
        x, W, b = self.parents
        self.value = np.dot(x.value, W.value) + b.value

    def backward(self):
        x, W, b = self.parents
        upstream = self.grad
        x.addgrad(np.dot(upstream, W.value.T))
        W.addgrad(np.dot(x.value.T, upstream))
        b.addgrad(np.sum(upstream, axis=0))


class Tanh(CompNode):
    def forward(self):
        (x,) = self.parents
        self.value = np.tanh(x.value)

    def backward(self):
        (x,) = self.parents
        out = self.value
        local = out - out**2
        x.addgrad(local * self.grad)
'''},
    {"cell": "tensor_loss", "fails": "test_tensor_loss",
     "mutant": "gradient not divided by the number of entries (the value is a mean)",
     "source": '''class BCEWithLogitsLoss(CompNode):
    def forward(self):
        logits, y = self.parents
        z = logits.value
        t = y.value
        per_entry = np.logaddexp(0.0, z) - t * z
        self.value = per_entry.sum() / per_entry.size

    def backward(self):
        logits, y = self.parents
        z = logits.value
        t = y.value
        p = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
        dz = (p - t) * self.grad
        logits.addgrad(dz)
'''},
]

FIXES = {0: [("dw += err * X[i]", "dw += err * X[i] / n"), ("db += err\n", "db += err / n\n")],
         1: ("/ h\n", "/ (2 * h)\n"),
         2: ("/ n)", ")"),
         3: ("local = out - out**2", "local = 1 - out**2"),
         4: ("dz = (p - t) * self.grad", "dz = (p - t) * self.grad / z.size")}
