"""Plausible wrong solutions for chapter 03; each must make its named tests cell fail.

Each mutant is the reference solution cell with one realistic mistake edited in (the edits
are applied to the cell's source, and must match exactly once, so a changed reference
solution is noticed). The first mutant is also used as "the student with one mistake" in the
grading test, so it must break its own tests cell only: nothing after it uses
``multiclass_hinge_loss``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.authoring import read_source
from autograder.mutants import Mutant

_SOURCE = {cell.id: cell.source
           for cell in read_source(Path(__file__).resolve().parents[1] / "03_mlp.py").cells}


def _edit(cell: str, why: str, *replacements: tuple[str, str]) -> Mutant:
    source = _SOURCE[cell]
    for old, new in replacements:
        if source.count(old) != 1:
            raise ValueError(f"mutant of {cell} ({why}): {old!r} occurs {source.count(old)} times")
        source = source.replace(old, new)
    return Mutant(cell=cell, fails=f"test_{cell}", why=why, source=source)


HINGE = [
    _edit("hinge", "sums over all classes, the correct one included (each sample pays the margin)",
          ("    margins[rows, y] = 0.0\n", "")),
    _edit("hinge", "no gradient for the correct class",
          ("    violated[rows, y] = -violated.sum(axis=1)\n", "")),
    _edit("hinge", "sum over the batch instead of the mean",
          ("return float(margins.sum() / n), violated / n", "return float(margins.sum()), violated")),
    _edit("hinge", "a term exactly at the margin counts as violated (>= instead of >)",
          ("    violated = (margins > 0).astype(float)\n",
           "    violated = (scores - scores[rows, y][:, None] + margin >= 0).astype(float)\n"
           "    violated[rows, y] = 0.0\n")),
    _edit("hinge", "gradient not divided by the batch size (the loss is)",
          ("return float(margins.sum() / n), violated / n", "return float(margins.sum() / n), violated")),
]

AFFINE = [
    _edit("affine", "bias gradient not summed over the batch",
          ("db = dout.sum(axis=0)", "db = dout")),
    _edit("affine", "weight gradient averaged over the batch",
          ("dW = x.T @ dout", "dW = x.T @ dout / x.shape[0]")),
    _edit("affine", "missing transpose in dx: dout @ W",
          ("dx = dout @ W.T", "dx = dout @ W")),
    _edit("affine", "returns the gradients in the wrong order (dW, dx, db)",
          ("return dx, dW, db", "return dW, dx, db")),
    _edit("affine", "forward forgets the bias: out = x @ W",
          ("    out = x @ W + b\n", "    out = x @ W\n")),
    _edit("affine", "forward with the weights transposed (PyTorch's (M, D) layout): x @ W.T",
          ("    out = x @ W + b\n", "    out = x @ W.T + b\n")),
    _edit("affine", "cache holds the output instead of the input, so dW = out.T @ dout",
          ("cache = (x, W, b)", "cache = (out, W, b)")),
    _edit("affine", "forward subtracts the bias",
          ("    out = x @ W + b\n", "    out = x @ W - b\n")),
]

RELU = [
    _edit("relu", "derivative 1 at x = 0 (>= instead of >)",
          ("return dout * (x > 0)", "return dout * (x >= 0)")),
    _edit("relu", "modifies x in place in the forward pass",
          ("    out = np.maximum(x, 0.0)\n    return out, x",
           "    x[x < 0] = 0.0\n    return x, x")),
    _edit("relu", "backward returns the local derivative without multiplying by dout",
          ("return dout * (x > 0)", "return (x > 0).astype(float)")),
    _edit("relu", "np.max(x, 0) (a reduction over axis 0) instead of the element-wise np.maximum",
          ("out = np.maximum(x, 0.0)", "out = np.max(x, 0)")),
    _edit("relu", "backward tests the output against >= 0, which holds everywhere",
          ("    out = np.maximum(x, 0.0)\n    return out, x", "    out = np.maximum(x, 0.0)\n    return out, out"),
          ("return dout * (x > 0)", "return dout * (x >= 0)")),
]

SIGMOID_TANH = [
    _edit("sigmoid_tanh", "naive sigmoid exp(x) / (1 + exp(x)): inf / inf = nan for large x",
          ("    e = np.exp(-np.abs(x))\n    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
           "    out = np.exp(x) / (1.0 + np.exp(x))\n")),
    _edit("sigmoid_tanh", "sigmoid derivative evaluated at the input: x (1 - x)",
          ("    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    return out, out",
           "    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    return out, x")),
    _edit("sigmoid_tanh", "sigmoid backward forgets the upstream gradient",
          ("return dout * out * (1.0 - out)", "return out * (1.0 - out)")),
    _edit("sigmoid_tanh", "tanh from exponentials (e^x - e^-x) / (e^x + e^-x): nan for large |x|",
          ("out = np.tanh(x)", "out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))")),
    _edit("sigmoid_tanh", "tanh derivative 1 - tanh(x) (missing square)",
          ("return dout * (1.0 - out**2)", "return dout * (1.0 - out)")),
    _edit("sigmoid_tanh", "stable sigmoid with the two branches swapped",
          ("out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "out = np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))")),
    _edit("sigmoid_tanh", "sigmoid as 1 / (1 + exp(-|x|)) for every x (the x >= 0 branch only)",
          ("out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "out = 1.0 / (1.0 + e)")),
    _edit("sigmoid_tanh", "sigmoid derivative s instead of s (1 - s)",
          ("return dout * out * (1.0 - out)", "return dout * out")),
    _edit("sigmoid_tanh", "sigmoid derivative 1 - s instead of s (1 - s)",
          ("return dout * out * (1.0 - out)", "return dout * (1.0 - out)")),
    _edit("sigmoid_tanh", "sigmoid derivative 1 - s^2 (the tanh formula)",
          ("return dout * out * (1.0 - out)", "return dout * (1.0 - out**2)")),
    _edit("sigmoid_tanh", "tanh as 2 sigmoid(x) - 1 (the 2 inside the sigmoid forgotten)",
          ("out = np.tanh(x)", "out = 2.0 * sigmoid_forward(x)[0] - 1.0")),
    _edit("sigmoid_tanh", "tanh as (1 - e^-2x) / (1 + e^-2x): inf / inf = nan for very negative x",
          ("out = np.tanh(x)", "out = (1.0 - np.exp(-2.0 * x)) / (1.0 + np.exp(-2.0 * x))")),
    _edit("sigmoid_tanh", "tanh backward forgets the upstream gradient",
          ("return dout * (1.0 - out**2)", "return 1.0 - out**2")),
    _edit("sigmoid_tanh", "tanh derivative (1 - tanh)^2 instead of 1 - tanh^2",
          ("return dout * (1.0 - out**2)", "return dout * (1.0 - out) ** 2")),
    _edit("sigmoid_tanh", "tanh derivative out (1 - out) (the sigmoid formula)",
          ("return dout * (1.0 - out**2)", "return dout * out * (1.0 - out)")),
    _edit("sigmoid_tanh", "tanh derivative from the input: 1 - x^2",
          ("    out = np.tanh(x)\n    return out, out", "    out = np.tanh(x)\n    return out, x")),
]

LEAKY_RELU_ELU = [
    _edit("leaky_relu_elu", "leaky ReLU derivative 1 at x = 0 (>= instead of >)",
          ("return np.where(x > 0, dout, alpha * dout)", "return np.where(x >= 0, dout, alpha * dout)")),
    _edit("leaky_relu_elu", "leaky ReLU backward ignores alpha and uses the default 0.01",
          ("return np.where(x > 0, dout, alpha * dout)", "return np.where(x > 0, dout, 0.01 * dout)")),
    _edit("leaky_relu_elu", "leaky ReLU backward forgets the upstream gradient",
          ("return np.where(x > 0, dout, alpha * dout)", "return np.where(x > 0, 1.0, alpha)")),
    _edit("leaky_relu_elu", "leaky ReLU with the slope on the positive side",
          ("out = np.where(x > 0, x, alpha * x)", "out = np.where(x > 0, alpha * x, x)")),
    _edit("leaky_relu_elu", "leaky ReLU forward ignores alpha and uses the default 0.01",
          ("out = np.where(x > 0, x, alpha * x)", "out = np.where(x > 0, x, 0.01 * x)")),
    _edit("leaky_relu_elu", "leaky ReLU as max(x, alpha x), which is wrong for alpha > 1",
          ("out = np.where(x > 0, x, alpha * x)", "out = np.maximum(x, alpha * x)")),
    _edit("leaky_relu_elu", "leaky ReLU cache without alpha; backward falls back to 0.01",
          ("return out, (x, alpha)", "return out, x"),
          ("    x, alpha = cache\n    return np.where(x > 0, dout, alpha * dout)",
           "    x = cache\n    return np.where(x > 0, dout, 0.01 * dout)")),
    _edit("leaky_relu_elu", "ELU derivative alpha (e^x - 1) (the output) instead of alpha e^x",
          ("return np.where(x > 0, dout, dout * (out + alpha))", "return np.where(x > 0, dout, dout * out)")),
    _edit("leaky_relu_elu", "ELU forward without alpha: e^x - 1",
          ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
           "out = np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))")),
    _edit("leaky_relu_elu", "ELU forward alpha e^x, without the - 1",
          ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
           "out = np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))")),
    _edit("leaky_relu_elu", "ELU forward with alpha inside the exponential: e^(alpha x) - 1",
          ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
           "out = np.where(x > 0, x, np.expm1(alpha * np.minimum(x, 0.0)))")),
    _edit("leaky_relu_elu", "ELU forward with the branches swapped (x for x < 0, the exponential for x > 0)",
          ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
           "out = np.where(x < 0, x, alpha * np.expm1(np.minimum(x, 0.0)))")),
    _edit("leaky_relu_elu", "ELU derivative for x <= 0 taken as the constant alpha",
          ("return np.where(x > 0, dout, dout * (out + alpha))", "return np.where(x > 0, dout, dout * alpha)")),
    _edit("leaky_relu_elu", "ELU derivative 1 at x = 0 (>= instead of >)",
          ("return np.where(x > 0, dout, dout * (out + alpha))",
           "return np.where(x >= 0, dout, dout * (out + alpha))")),
]

PRELU = [
    _edit("prelu", "slope gradient not summed over the batch",
          ("    da = np.sum(np.where(x > 0, 0.0, x) * dout, axis=0)\n    if a.shape == (1,):\n"
           "        da = np.array([da.sum()])\n",
           "    da = np.where(x > 0, 0.0, x) * dout\n")),
    _edit("prelu", "a shared slope of shape (1,) gets one gradient per feature",
          ("    if a.shape == (1,):\n        da = np.array([da.sum()])\n", "")),
    _edit("prelu", "forward as max(x, a x), which is wrong for slopes a > 1",
          ("out = np.where(x > 0, x, a * x)", "out = np.maximum(x, a * x)")),
    _edit("prelu", "slope on the positive side",
          ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, a * x, x)")),
    _edit("prelu", "forward uses only the first slope a[0] for every feature",
          ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, x, a[0] * x)")),
    _edit("prelu", "one slope per sample (a[:, None]) instead of one per feature",
          ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, x, a[:, None] * x)")),
    _edit("prelu", "forward does not use a: the negative side is 0 (a plain ReLU)",
          ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, x, 0.0)")),
    _edit("prelu", "slope gradient summed over all entries, positive ones included",
          ("da = np.sum(np.where(x > 0, 0.0, x) * dout, axis=0)", "da = np.sum(x * dout, axis=0)")),
    _edit("prelu", "dx ignores the slope (the ReLU derivative)",
          ("dx = np.where(x > 0, dout, a * dout)", "dx = np.where(x > 0, dout, 0.0)")),
]

MAXOUT = [
    _edit("maxout", "the gradient flows into every piece, not only the winning one",
          ("dz = (np.arange(K)[:, None, None] == winner[None]) * dout[None]",
           "dz = np.ones((K, 1, 1)) * dout[None]")),
    _edit("maxout", "bias gradient not summed over the batch",
          ("db = dz.sum(axis=1)", "db = dz")),
    _edit("maxout", "max over the output units instead of over the pieces",
          ("    winner = z.argmax(axis=0)\n    out = np.take_along_axis(z, winner[None], axis=0)[0]\n",
           "    winner = z.argmax(axis=-1)\n    out = np.take_along_axis(z, winner[..., None], axis=-1)[..., 0]\n")),
    _edit("maxout", "forward returns the mean of the pieces instead of the maximum",
          ("    out = np.take_along_axis(z, winner[None], axis=0)[0]\n", "    out = z.mean(axis=0)\n")),
    _edit("maxout", "forward returns the index of the winning piece instead of its value",
          ("out = np.take_along_axis(z, winner[None], axis=0)[0]", "out = z.argmax(axis=0)")),
    _edit("maxout", "forward forgets the biases of the pieces",
          ("z = x @ W + b[:, None, :]", "z = x @ W")),
    _edit("maxout", "bias added without the batch axis: b instead of b[:, None, :]",
          ("z = x @ W + b[:, None, :]", "z = x @ W + b")),
    _edit("maxout", "dx only through the first piece",
          ("dx = np.sum(dz @ W.transpose(0, 2, 1), axis=0)", "dx = dz[0] @ W[0].T")),
]

REGRESSION_LOSSES = [
    _edit("regression_losses", "MSE gradient without the factor 2",
          ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
           "return float(np.mean(diff**2)), diff / diff.size")),
    _edit("regression_losses", "MSE divided by the batch size only, not by the number of entries",
          ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
           "return float(np.sum(diff**2) / len(diff)), 2.0 * diff / len(diff)")),
    _edit("regression_losses", "MSE gradient with the sign flipped",
          ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
           "return float(np.mean(diff**2)), -2.0 * diff / diff.size")),
    _edit("regression_losses", "L1 gradient not divided by the number of entries",
          ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
           "return float(np.mean(np.abs(diff))), np.sign(diff)")),
    _edit("regression_losses", "L1 subgradient 1 at pred == y instead of 0",
          ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
           "return float(np.mean(np.abs(diff))), np.where(diff >= 0, 1.0, -1.0) / diff.size")),
    _edit("regression_losses", "L1 loss summed instead of averaged",
          ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
           "return float(np.sum(np.abs(diff))), np.sign(diff)")),
]

BCE_LOGITS = [
    _edit("bce_logits", "BCE from probabilities without clipping (log 0 = -inf)",
          ("    loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))\n"
           "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
           "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n"
           "    loss = -np.mean(y * np.log(prob) + (1 - y) * np.log(1 - prob))\n")),
    _edit("bce_logits", "BCE from probabilities clipped to [1e-7, 1 - 1e-7] (wrong for big logits)",
          ("    loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))\n"
           "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
           "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n"
           "    p = np.clip(prob, 1e-7, 1 - 1e-7)\n"
           "    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))\n")),
    _edit("bce_logits", "log(1 + exp(-s)) evaluated directly: overflows for very negative s",
          ("loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))",
           "loss = np.mean(np.log1p(np.exp(-s)) + (1 - y) * s)")),
    _edit("bce_logits", "gradient not divided by the number of entries",
          ("return float(loss), (prob - y) / s.size", "return float(loss), prob - y")),
    _edit("bce_logits", "gradient with the sign flipped",
          ("return float(loss), (prob - y) / s.size", "return float(loss), (y - prob) / s.size")),
]

SOFTMAX = [
    _edit("softmax", "softmax over the batch (axis 0) instead of the classes",
          ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n"
           "    out = e / e.sum(axis=1, keepdims=True)\n",
           "    shifted = x - x.max(axis=0, keepdims=True)\n    e = np.exp(shifted)\n"
           "    out = e / e.sum(axis=0, keepdims=True)\n")),
    _edit("softmax", "softmax without subtracting the maximum (overflow: nan)",
          ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n",
           "    e = np.exp(x)\n")),
    _edit("softmax", "softmax backward with the diagonal of the Jacobian only: p (1 - p) dout",
          ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))", "return p * (1.0 - p) * dout")),
    _edit("softmax", "softmax divided by the sum over the whole batch",
          ("out = e / e.sum(axis=1, keepdims=True)", "out = e / e.sum()")),
    _edit("softmax", "softmax normalised by the row sums without keepdims (broadcast over the wrong axis)",
          ("out = e / e.sum(axis=1, keepdims=True)", "out = e / e.sum(axis=1)")),
    _edit("softmax", "softmax subtracts the maximum of the whole batch (rows far below it underflow: nan)",
          ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n",
           "    shifted = x - x.max()\n    e = np.exp(shifted)\n")),
    _edit("softmax", "softmax backward: p dout - sum(dout p) (the second p forgotten)",
          ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
           "return p * dout - np.sum(dout * p, axis=1, keepdims=True)")),
    _edit("softmax", "softmax backward sums over the batch (axis 0)",
          ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
           "return p * (dout - np.sum(dout * p, axis=0, keepdims=True))")),
    _edit("softmax", "softmax backward without the leading factor p",
          ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
           "return dout - np.sum(dout * p, axis=1, keepdims=True)")),
    _edit("softmax", "log-softmax as the log of the softmax (log 0 = -inf for extreme scores)",
          ("    out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
           "    e = np.exp(shifted)\n    out = np.log(e / e.sum(axis=1, keepdims=True))\n")),
    _edit("softmax", "log-softmax backward without the softmax term (dx = dout)",
          ("return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)", "return dout")),
    _edit("softmax", "log-softmax backward without the sum over the classes: dout - p dout",
          ("return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)", "return dout - np.exp(log_p) * dout")),
    _edit("softmax", "log-softmax backward with the log-probabilities instead of the probabilities",
          ("return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)",
           "return dout - log_p * dout.sum(axis=1, keepdims=True)")),
    _edit("softmax", "log-softmax without subtracting the maximum (overflow)",
          ("    shifted = x - x.max(axis=1, keepdims=True)\n    out = shifted - np.log(",
           "    shifted = x\n    out = shifted - np.log(")),
    _edit("softmax", "log-softmax: the log-sum-exp of the shifted scores subtracted from the unshifted ones",
          ("out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
           "out = x - np.log(np.exp(shifted).sum(axis=1, keepdims=True))")),
]

SOFTMAX_CE = [
    _edit("softmax_ce", "gradient not divided by the batch size",
          ("    dscores /= n\n", "")),
    _edit("softmax_ce", "no max-subtraction: exp overflows for large scores",
          ("shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores")),
    _edit("softmax_ce", "softmax over the batch (axis 0) instead of the classes",
          ("shifted = scores - scores.max(axis=1, keepdims=True)",
           "shifted = scores - scores.max(axis=0, keepdims=True)"),
          ("log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
           "log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))")),
    _edit("softmax_ce", "log of the softmax probabilities (log 0 = -inf when a probability underflows)",
          ("log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
           "log_probs = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))")),
    _edit("softmax_ce", "loss summed over the batch instead of averaged",
          ("loss = -log_probs[np.arange(n), y].mean()", "loss = -log_probs[np.arange(n), y].sum()")),
]

MLP = [
    _edit("mlp", "activation after the last layer too",
          ("        if layer < len(params) - 1:\n            h, act_cache = act_forward(h)\n",
           "        h, act_cache = act_forward(h)\n")),
    _edit("mlp", "off by one: no activation after the second-to-last layer either",
          ("if layer < len(params) - 1:", "if layer < len(params) - 2:")),
    _edit("mlp", "forward leaves out the last layer (loops over params[:-1])",
          ("for layer, (W, b) in enumerate(params):", "for layer, (W, b) in enumerate(params[:-1]):")),
    _edit("mlp", "backward skips the activation's derivative",
          ("        if act_cache is not None:\n            d = act_backward(d, act_cache)\n", "")),
    _edit("mlp", "gradients returned last layer first",
          ("    grads = [None] * len(caches)\n", "    grads = []\n"),
          ("        grads[layer] = (dW, db)\n", "        grads.append((dW, db))\n")),
    _edit("mlp", "always uses the ReLU, whatever activation is asked for",
          ("act_forward, _ = ACTIVATIONS[activation]", "act_forward, _ = ACTIVATIONS[\"relu\"]"),
          ("_, act_backward = ACTIVATIONS[activation]", "_, act_backward = ACTIVATIONS[\"relu\"]")),
    _edit("mlp", "backward reuses the first layer's cache for the activation of every layer",
          ("            d = act_backward(d, act_cache)\n", "            d = act_backward(d, caches[0][1])\n")),
]

MUTANTS: list[Mutant] = [
    *HINGE,
    *AFFINE,
    *RELU,
    *SIGMOID_TANH,
    *LEAKY_RELU_ELU,
    *PRELU,
    *MAXOUT,
    *REGRESSION_LOSSES,
    *BCE_LOGITS,
    *SOFTMAX,
    *SOFTMAX_CE,
    *MLP,
]
