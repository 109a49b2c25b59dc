"""Plausible wrong solutions for chapter 03; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: nothing after it uses ``multiclass_hinge_loss``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "03_mlp.py")

HINGE = [
    edit("hinge", "sums over all classes, the correct one included (each sample pays the margin once more)",
         ("    margins[rows, y] = 0.0\n", ""), kind="order"),
    edit("hinge", "no gradient for the correct class (it should get minus the number of violating classes)",
         ("    violated[rows, y] = -violated.sum(axis=1)\n", "")),
    edit("hinge", "sums the loss and the gradient over the batch instead of averaging",
         ("return float(margins.sum() / n), violated / n", "return float(margins.sum()), violated"), kind="order"),
    edit("hinge", "a term exactly at the margin counts as violated (>= instead of >)",
         ("    violated = (margins > 0).astype(float)\n",
          "    violated = (scores - scores[rows, y][:, None] + margin >= 0).astype(float)\n"
          "    violated[rows, y] = 0.0\n"), kind="edge"),
    edit("hinge", "gradient not divided by the batch size (the loss is)",
         ("return float(margins.sum() / n), violated / n", "return float(margins.sum() / n), violated")),
    edit("hinge", "uses the margin 1 whatever margin it is given",
         ("scores - scores[rows, y][:, None] + margin)", "scores - scores[rows, y][:, None] + 1.0)"),
         kind="ignored"),
    edit("hinge", "subtracts the correct-class scores from `scores` in place (scores -= ...), changing the "
                  "caller's array",
         ("    margins = np.maximum(0.0, scores - scores[rows, y][:, None] + margin)\n",
          "    scores -= scores[rows, y][:, None]\n    margins = np.maximum(0.0, scores + margin)\n"),
         kind="inplace"),
    edit("hinge", "builds the gradient in float32 (.astype(np.float32)): keep results in float64",
         ("violated = (margins > 0).astype(float)", "violated = (margins > 0).astype(np.float32)"), kind="dtype"),
]

AFFINE = [
    edit("affine", "bias gradient not summed over the batch (db = dout)",
         ("db = dout.sum(axis=0)", "db = dout")),
    edit("affine", "bias gradient averaged over the batch instead of summed",
         ("db = dout.sum(axis=0)", "db = dout.mean(axis=0)")),
    edit("affine", "bias gradient keeps the batch axis (keepdims=True): shape (1, M) instead of (M,)",
         ("db = dout.sum(axis=0)", "db = dout.sum(axis=0, keepdims=True)")),
    edit("affine", "weight gradient as the outer product np.outer(x, dout): right for a single sample only",
         ("dW = x.T @ dout", "dW = np.outer(x, dout)"), kind="edge"),
    edit("affine", "weight gradient averaged over the batch",
         ("dW = x.T @ dout", "dW = x.T @ dout / x.shape[0]")),
    edit("affine", "returns the gradients in the wrong order (dW, dx, db)",
         ("return dx, dW, db", "return dW, dx, db")),
    edit("affine", "forward forgets the bias: out = x @ W",
         ("    out = x @ W + b\n", "    out = x @ W\n"), kind="ignored"),
    edit("affine", "forward subtracts the bias",
         ("    out = x @ W + b\n", "    out = x @ W - b\n")),
    edit("affine", "cache holds the output instead of the input, so dW = out.T @ dout",
         ("cache = (x, W, b)", "cache = (out, W, b)")),
    edit("affine", "squeezes the output (np.squeeze): a batch of one, or one output unit, loses an axis",
         ("    out = x @ W + b\n", "    out = np.squeeze(x @ W + b)\n"), kind="edge"),
]

RELU = [
    edit("relu", "derivative 1 at x = 0 (x >= 0 instead of x > 0)",
         ("return dout * (x > 0)", "return dout * (x >= 0)"), kind="edge"),
    edit("relu", "sets the negative entries of x to 0 in place (x[x < 0] = 0), changing the caller's array",
         ("    out = np.maximum(x, 0.0)\n    return out, x", "    x[x < 0] = 0.0\n    return x, x"), kind="inplace"),
    edit("relu", "np.max(x, 0) (a reduction over axis 0) instead of the element-wise np.maximum",
         ("out = np.maximum(x, 0.0)", "out = np.max(x, 0)")),
    edit("relu", "computes ReLU as (x + |x|) / 2, which overflows to inf for huge x",
         ("out = np.maximum(x, 0.0)", "out = (x + np.abs(x)) / 2"), kind="edge"),
    edit("relu", "caches the output and tests it with >= 0 in the backward pass, which holds everywhere",
         ("    out = np.maximum(x, 0.0)\n    return out, x", "    out = np.maximum(x, 0.0)\n    return out, out"),
         ("return dout * (x > 0)", "return dout * (x >= 0)")),
    edit("relu", "backward returns the local derivative without multiplying by dout",
         ("return dout * (x > 0)", "return (x > 0).astype(float)")),
    edit("relu", "backward uses sign(x) as the derivative (-1 instead of 0 for negative inputs)",
         ("return dout * (x > 0)", "return dout * np.sign(x)")),
    edit("relu", "backward zeroes dout in place (dout[x <= 0] = 0), changing the caller's array",
         ("    return dout * (x > 0)", "    dout[x <= 0] = 0.0\n    return dout"), kind="inplace"),
]

SIGMOID_TANH = [
    # sigmoid_forward
    edit("sigmoid_tanh", "naive sigmoid exp(x) / (1 + exp(x)): inf / inf = nan for large x",
         ("    e = np.exp(-np.abs(x))\n    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
          "    out = np.exp(x) / (1.0 + np.exp(x))\n"), kind="edge"),
    edit("sigmoid_tanh", "stable sigmoid with the two branches swapped",
         ("out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
          "out = np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))")),
    edit("sigmoid_tanh", "sigmoid as 1 / (1 + exp(-|x|)) for every x (the x >= 0 branch only)",
         ("out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "out = 1.0 / (1.0 + e)")),
    edit("sigmoid_tanh", "sigmoid caches the input, so its derivative is evaluated as x (1 - x)",
         ("    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    return out, out",
          "    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n    return out, x")),
    edit("sigmoid_tanh", "clips x in place (np.clip(..., out=x)) against overflow, changing the caller's array",
         ("    e = np.exp(-np.abs(x))\n", "    np.clip(x, -500.0, 500.0, out=x)\n    e = np.exp(-np.abs(x))\n"),
         kind="inplace"),
    edit("sigmoid_tanh", "computes the sigmoid in float32 (x.astype(np.float32)): keep results in float64",
         ("    e = np.exp(-np.abs(x))\n", "    x = x.astype(np.float32)\n    e = np.exp(-np.abs(x))\n"),
         kind="dtype"),
    # sigmoid_backward
    edit("sigmoid_tanh", "sigmoid backward forgets the upstream gradient",
         ("return dout * out * (1.0 - out)", "return out * (1.0 - out)")),
    edit("sigmoid_tanh", "sigmoid derivative s instead of s (1 - s)",
         ("return dout * out * (1.0 - out)", "return dout * out")),
    edit("sigmoid_tanh", "sigmoid derivative 1 - s instead of s (1 - s)",
         ("return dout * out * (1.0 - out)", "return dout * (1.0 - out)")),
    edit("sigmoid_tanh", "sigmoid derivative 1 - s^2 (the tanh formula)",
         ("return dout * out * (1.0 - out)", "return dout * (1.0 - out**2)")),
    edit("sigmoid_tanh", "sigmoid backward multiplies dout in place (dout *= ...), changing the caller's array",
         ("    return dout * out * (1.0 - out)", "    dout *= out * (1.0 - out)\n    return dout"), kind="inplace"),
    # tanh_forward
    edit("sigmoid_tanh", "tanh from exponentials (e^x - e^-x) / (e^x + e^-x): nan for large |x|",
         ("out = np.tanh(x)", "out = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))"), kind="edge"),
    edit("sigmoid_tanh", "tanh as 2 sigmoid(x) - 1 (the 2 inside the sigmoid forgotten)",
         ("out = np.tanh(x)", "out = 2.0 * sigmoid_forward(x)[0] - 1.0")),
    edit("sigmoid_tanh", "tanh as (1 - e^-2x) / (1 + e^-2x): inf / inf = nan for very negative x",
         ("out = np.tanh(x)", "out = (1.0 - np.exp(-2.0 * x)) / (1.0 + np.exp(-2.0 * x))"), kind="edge"),
    edit("sigmoid_tanh", "tanh caches the input, so its derivative is evaluated as 1 - x^2",
         ("    out = np.tanh(x)\n    return out, out", "    out = np.tanh(x)\n    return out, x")),
    edit("sigmoid_tanh", "tanh written into x (np.tanh(x, out=x)), changing the caller's array",
         ("out = np.tanh(x)", "out = np.tanh(x, out=x)"), kind="inplace"),
    # tanh_backward
    edit("sigmoid_tanh", "tanh backward forgets the upstream gradient",
         ("return dout * (1.0 - out**2)", "return 1.0 - out**2")),
    edit("sigmoid_tanh", "tanh derivative 1 - tanh(x) (missing square)",
         ("return dout * (1.0 - out**2)", "return dout * (1.0 - out)")),
    edit("sigmoid_tanh", "tanh derivative (1 - tanh)^2 instead of 1 - tanh^2",
         ("return dout * (1.0 - out**2)", "return dout * (1.0 - out) ** 2")),
    edit("sigmoid_tanh", "tanh derivative out (1 - out) (the sigmoid formula)",
         ("return dout * (1.0 - out**2)", "return dout * out * (1.0 - out)")),
    edit("sigmoid_tanh", "tanh backward multiplies dout in place (dout *= ...), changing the caller's array",
         ("    return dout * (1.0 - out**2)", "    dout *= 1.0 - out**2\n    return dout"), kind="inplace"),
]

LEAKY_RELU_ELU = [
    # leaky_relu_forward
    edit("leaky_relu_elu", "leaky ReLU with the slope on the positive side",
         ("out = np.where(x > 0, x, alpha * x)", "out = np.where(x > 0, alpha * x, x)")),
    edit("leaky_relu_elu", "leaky ReLU forward ignores alpha and uses the default 0.01",
         ("out = np.where(x > 0, x, alpha * x)", "out = np.where(x > 0, x, 0.01 * x)"), kind="ignored"),
    edit("leaky_relu_elu", "leaky ReLU as max(x, alpha x), which is wrong for alpha > 1",
         ("out = np.where(x > 0, x, alpha * x)", "out = np.maximum(x, alpha * x)"), kind="edge"),
    edit("leaky_relu_elu", "leaky ReLU cache without alpha; the backward pass falls back to 0.01",
         ("return out, (x, alpha)", "return out, x"),
         ("    x, alpha = cache\n    return np.where(x > 0, dout, alpha * dout)",
          "    x = cache\n    return np.where(x > 0, dout, 0.01 * dout)"), kind="ignored"),
    edit("leaky_relu_elu", "leaky ReLU scales the negative entries of x in place (x[x <= 0] *= alpha), changing "
                           "the caller's array",
         ("    out = np.where(x > 0, x, alpha * x)\n    return out, (x, alpha)",
          "    x[x <= 0] *= alpha\n    return x, (x, alpha)"), kind="inplace"),
    # leaky_relu_backward
    edit("leaky_relu_elu", "leaky ReLU derivative 1 at x = 0 (>= instead of >)",
         ("return np.where(x > 0, dout, alpha * dout)", "return np.where(x >= 0, dout, alpha * dout)"), kind="edge"),
    edit("leaky_relu_elu", "leaky ReLU backward ignores alpha and uses the default 0.01",
         ("return np.where(x > 0, dout, alpha * dout)", "return np.where(x > 0, dout, 0.01 * dout)"),
         kind="ignored"),
    edit("leaky_relu_elu", "leaky ReLU backward forgets the upstream gradient",
         ("return np.where(x > 0, dout, alpha * dout)", "return np.where(x > 0, 1.0, alpha)")),
    edit("leaky_relu_elu", "leaky ReLU backward scales dout in place (dout[x <= 0] *= alpha), changing the "
                           "caller's array",
         ("    return np.where(x > 0, dout, alpha * dout)", "    dout[x <= 0] *= alpha\n    return dout"),
         kind="inplace"),
    # elu_forward
    edit("leaky_relu_elu", "ELU forward without alpha: e^x - 1",
         ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
          "out = np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))"), kind="ignored"),
    edit("leaky_relu_elu", "ELU forward alpha e^x, without the - 1",
         ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
          "out = np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))")),
    edit("leaky_relu_elu", "ELU forward with alpha inside the exponential: e^(alpha x) - 1",
         ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
          "out = np.where(x > 0, x, np.expm1(alpha * np.minimum(x, 0.0)))")),
    edit("leaky_relu_elu", "ELU forward with the branches swapped (x for x < 0, the exponential for x > 0)",
         ("out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))",
          "out = np.where(x < 0, x, alpha * np.expm1(np.minimum(x, 0.0)))")),
    edit("leaky_relu_elu", "ELU writes its negative side into x (x[x <= 0] = ...), changing the caller's array",
         ("    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))\n    return out, (x, out, alpha)",
          "    x[x <= 0] = alpha * np.expm1(x[x <= 0])\n    return x, (x, x, alpha)"), kind="inplace"),
    # elu_backward
    edit("leaky_relu_elu", "ELU derivative alpha (e^x - 1) (the output) instead of alpha e^x",
         ("return np.where(x > 0, dout, dout * (out + alpha))", "return np.where(x > 0, dout, dout * out)")),
    edit("leaky_relu_elu", "ELU derivative for x <= 0 taken as the constant alpha",
         ("return np.where(x > 0, dout, dout * (out + alpha))", "return np.where(x > 0, dout, dout * alpha)")),
    edit("leaky_relu_elu", "ELU derivative 1 at x = 0 (>= instead of >)",
         ("return np.where(x > 0, dout, dout * (out + alpha))",
          "return np.where(x >= 0, dout, dout * (out + alpha))"), kind="edge"),
    edit("leaky_relu_elu", "ELU derivative out + 1 on the negative side (alpha = 1 assumed)",
         ("return np.where(x > 0, dout, dout * (out + alpha))", "return np.where(x > 0, dout, dout * (out + 1.0))"),
         kind="ignored"),
    edit("leaky_relu_elu", "ELU backward scales dout in place (dout[x <= 0] *= ...), changing the caller's array",
         ("    return np.where(x > 0, dout, dout * (out + alpha))",
          "    dout[x <= 0] *= out[x <= 0] + alpha\n    return dout"), kind="inplace"),
]

PRELU = [
    # prelu_forward
    edit("prelu", "forward as max(x, a x), which is wrong for slopes a > 1",
         ("out = np.where(x > 0, x, a * x)", "out = np.maximum(x, a * x)"), kind="edge"),
    edit("prelu", "slope on the positive side",
         ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, a * x, x)")),
    edit("prelu", "forward uses only the first slope a[0] for every feature",
         ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, x, a[0] * x)"), kind="ignored"),
    edit("prelu", "forward does not use a: the negative side is 0 (a plain ReLU)",
         ("out = np.where(x > 0, x, a * x)", "out = np.where(x > 0, x, 0.0)"), kind="ignored"),
    edit("prelu", "forward scales x in place (x *= ...), changing the caller's array",
         ("    out = np.where(x > 0, x, a * x)\n    return out, (x, a)",
          "    x *= np.where(x > 0, 1.0, a)\n    return x, (x, a)"), kind="inplace"),
    # prelu_backward
    edit("prelu", "slope gradient not summed over the batch",
         ("    da = np.sum(np.where(x > 0, 0.0, x) * dout, axis=0)\n    if a.shape == (1,):\n"
          "        da = np.array([da.sum()])\n",
          "    da = np.where(x > 0, 0.0, x) * dout\n")),
    edit("prelu", "slope gradient averaged over the batch instead of summed",
         ("da = np.sum(np.where(x > 0, 0.0, x) * dout, axis=0)", "da = np.mean(np.where(x > 0, 0.0, x) * dout, axis=0)")),
    edit("prelu", "a shared slope of shape (1,) gets one gradient per feature",
         ("    if a.shape == (1,):\n        da = np.array([da.sum()])\n", ""), kind="edge"),
    edit("prelu", "slope gradient summed over all entries, positive ones included",
         ("da = np.sum(np.where(x > 0, 0.0, x) * dout, axis=0)", "da = np.sum(x * dout, axis=0)")),
    edit("prelu", "dx ignores the slope (the ReLU derivative)",
         ("dx = np.where(x > 0, dout, a * dout)", "dx = np.where(x > 0, dout, 0.0)")),
    edit("prelu", "backward scales dout in place (dout *= ...), changing the caller's array",
         ("    dx = np.where(x > 0, dout, a * dout)\n", "    dout *= np.where(x > 0, 1.0, a)\n    dx = dout\n"),
         kind="inplace"),
]

MAXOUT = [
    # maxout_forward
    edit("maxout", "max over the output units instead of over the pieces",
         ("    winner = z.argmax(axis=0)\n    out = np.take_along_axis(z, winner[None], axis=0)[0]\n",
          "    winner = z.argmax(axis=-1)\n    out = np.take_along_axis(z, winner[..., None], axis=-1)[..., 0]\n")),
    edit("maxout", "forward returns the mean of the pieces instead of the maximum",
         ("    out = np.take_along_axis(z, winner[None], axis=0)[0]\n", "    out = z.mean(axis=0)\n")),
    edit("maxout", "forward returns the index of the winning piece instead of its value",
         ("out = np.take_along_axis(z, winner[None], axis=0)[0]", "out = z.argmax(axis=0)")),
    edit("maxout", "forward forgets the biases of the pieces",
         ("z = x @ W + b[:, None, :]", "z = x @ W"), kind="ignored"),
    edit("maxout", "at a tie, the last maximal piece wins (the convention is the first, as np.argmax)",
         ("winner = z.argmax(axis=0)", "winner = z.shape[0] - 1 - z[::-1].argmax(axis=0)"), kind="edge"),
    edit("maxout", "at a tie, every maximal piece gets the whole gradient (a mask z == max counts it twice)",
         ("return out, (x, W, winner)", "return out, (x, W, z == out[None])"),
         ("dz = (np.arange(K)[:, None, None] == winner[None]) * dout[None]", "dz = winner * dout[None]"),
         kind="edge"),
    # maxout_backward
    edit("maxout", "the gradient flows into every piece, not only the winning one",
         ("dz = (np.arange(K)[:, None, None] == winner[None]) * dout[None]",
          "dz = np.ones((K, 1, 1)) * dout[None]")),
    edit("maxout", "bias gradient not summed over the batch",
         ("db = dz.sum(axis=1)", "db = dz")),
    edit("maxout", "bias gradient summed over the pieces instead of over the batch",
         ("db = dz.sum(axis=1)", "db = dz.sum(axis=0)")),
    edit("maxout", "dx only through the first piece",
         ("dx = np.sum(dz @ W.transpose(0, 2, 1), axis=0)", "dx = dz[0] @ W[0].T")),
]

REGRESSION_LOSSES = [
    # mse_loss
    edit("regression_losses", "MSE gradient without the factor 2",
         ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
          "return float(np.mean(diff**2)), diff / diff.size")),
    edit("regression_losses", "MSE divided by the batch size only, not by the number of entries",
         ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
          "return float(np.sum(diff**2) / len(diff)), 2.0 * diff / len(diff)"), kind="order"),
    edit("regression_losses", "MSE summed over the entries instead of averaged",
         ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
          "return float(np.sum(diff**2)), 2.0 * diff"), kind="order"),
    edit("regression_losses", "MSE gradient with the sign flipped",
         ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
          "return float(np.mean(diff**2)), -2.0 * diff / diff.size")),
    edit("regression_losses", "MSE subtracts y from pred in place (diff = pred; diff -= y), changing the "
                              "caller's array",
         ("    diff = pred - y\n    return float(np.mean(diff**2))", "    diff = pred\n    diff -= y\n"
          "    return float(np.mean(diff**2))"), kind="inplace"),
    # l1_loss
    edit("regression_losses", "L1 gradient not divided by the number of entries",
         ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
          "return float(np.mean(np.abs(diff))), np.sign(diff)")),
    edit("regression_losses", "L1 subgradient 1 at pred == y instead of 0",
         ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
          "return float(np.mean(np.abs(diff))), np.where(diff >= 0, 1.0, -1.0) / diff.size"), kind="edge"),
    edit("regression_losses", "L1 gradient as diff / |diff|: nan where pred == y",
         ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
          "return float(np.mean(np.abs(diff))), diff / np.abs(diff) / diff.size"), kind="edge"),
    edit("regression_losses", "L1 loss summed instead of averaged",
         ("return float(np.mean(np.abs(diff))), np.sign(diff) / diff.size",
          "return float(np.sum(np.abs(diff))), np.sign(diff)"), kind="order"),
    edit("regression_losses", "L1 subtracts y from pred in place (diff = pred; diff -= y), changing the "
                              "caller's array",
         ("    diff = pred - y\n    return float(np.mean(np.abs(diff)))", "    diff = pred\n    diff -= y\n"
          "    return float(np.mean(np.abs(diff)))"), kind="inplace"),
]

BCE_LOGITS = [
    edit("bce_logits", "BCE from probabilities without clipping (log 0 = -inf)",
         ("    loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))\n"
          "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
          "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n"
          "    loss = -np.mean(y * np.log(prob) + (1 - y) * np.log(1 - prob))\n"), kind="edge"),
    edit("bce_logits", "BCE from probabilities clipped to [1e-7, 1 - 1e-7] (wrong for big logits)",
         ("    loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))\n"
          "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n",
          "    e = np.exp(-np.abs(s))\n    prob = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))\n"
          "    p = np.clip(prob, 1e-7, 1 - 1e-7)\n"
          "    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))\n"), kind="edge"),
    edit("bce_logits", "log(1 + exp(-s)) evaluated directly: overflows for very negative s",
         ("loss = np.mean(np.maximum(s, 0.0) - y * s + np.log1p(np.exp(-np.abs(s))))",
          "loss = np.mean(np.log1p(np.exp(-s)) + (1 - y) * s)"), kind="edge"),
    edit("bce_logits", "loss summed over the entries instead of averaged",
         ("loss = np.mean(np.maximum(s, 0.0)", "loss = np.sum(np.maximum(s, 0.0)"), kind="order"),
    edit("bce_logits", "gradient not divided by the number of entries",
         ("return float(loss), (prob - y) / s.size", "return float(loss), prob - y")),
    edit("bce_logits", "gradient with the sign flipped",
         ("return float(loss), (prob - y) / s.size", "return float(loss), (y - prob) / s.size")),
    edit("bce_logits", "rounds soft targets to 0/1 (y > 0.5): targets in between must be used as they are",
         ("    s = scores\n", "    s = scores\n    y = (y > 0.5).astype(float)\n"), kind="ignored"),
    edit("bce_logits", "clips the logits in place (np.clip(..., out=scores)), changing the caller's array",
         ("    s = scores\n", "    s = scores\n    np.clip(s, -100.0, 100.0, out=s)\n"), kind="inplace"),
]

SOFTMAX = [
    # softmax_forward
    edit("softmax", "softmax over the batch (axis 0) instead of the classes",
         ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n"
          "    out = e / e.sum(axis=1, keepdims=True)\n",
          "    shifted = x - x.max(axis=0, keepdims=True)\n    e = np.exp(shifted)\n"
          "    out = e / e.sum(axis=0, keepdims=True)\n")),
    edit("softmax", "softmax without subtracting the maximum (overflow: nan)",
         ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n",
          "    e = np.exp(x)\n"), kind="edge"),
    edit("softmax", "softmax divided by the sum over the whole batch",
         ("out = e / e.sum(axis=1, keepdims=True)", "out = e / e.sum()")),
    edit("softmax", "softmax subtracts the maximum of the whole batch (rows far below it underflow: nan)",
         ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n",
          "    shifted = x - x.max()\n    e = np.exp(shifted)\n"), kind="edge"),
    edit("softmax", "softmax subtracts the row maxima from x in place (x -= ...), changing the caller's array",
         ("    shifted = x - x.max(axis=1, keepdims=True)\n    e = np.exp(shifted)\n",
          "    x -= x.max(axis=1, keepdims=True)\n    e = np.exp(x)\n"), kind="inplace"),
    # softmax_backward
    edit("softmax", "softmax backward with the diagonal of the Jacobian only: p (1 - p) dout",
         ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))", "return p * (1.0 - p) * dout")),
    edit("softmax", "softmax backward: p dout - sum(dout p) (the second p forgotten)",
         ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
          "return p * dout - np.sum(dout * p, axis=1, keepdims=True)")),
    edit("softmax", "softmax backward sums over the batch (axis 0)",
         ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
          "return p * (dout - np.sum(dout * p, axis=0, keepdims=True))")),
    edit("softmax", "softmax backward without the leading factor p",
         ("return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
          "return dout - np.sum(dout * p, axis=1, keepdims=True)")),
    edit("softmax", "softmax backward subtracts from dout in place (dout -= ...), changing the caller's array",
         ("    return p * (dout - np.sum(dout * p, axis=1, keepdims=True))",
          "    dout -= np.sum(dout * p, axis=1, keepdims=True)\n    return p * dout"), kind="inplace"),
    # log_softmax_forward
    edit("softmax", "log-softmax as the log of the softmax (log 0 = -inf for extreme scores)",
         ("    out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n",
          "    e = np.exp(shifted)\n    out = np.log(e / e.sum(axis=1, keepdims=True))\n"), kind="edge"),
    edit("softmax", "log-softmax without subtracting the maximum (overflow)",
         ("    shifted = x - x.max(axis=1, keepdims=True)\n    out = shifted - np.log(",
          "    shifted = x\n    out = shifted - np.log("), kind="edge"),
    edit("softmax", "log-softmax: the log-sum-exp of the shifted scores subtracted from the unshifted ones",
         ("out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
          "out = x - np.log(np.exp(shifted).sum(axis=1, keepdims=True))")),
    edit("softmax", "log-softmax subtracts the row maxima from x in place (x -= ...), changing the caller's array",
         ("    shifted = x - x.max(axis=1, keepdims=True)\n    out = shifted - np.log(",
          "    x -= x.max(axis=1, keepdims=True)\n    shifted = x\n    out = shifted - np.log("), kind="inplace"),
    # log_softmax_backward
    edit("softmax", "log-softmax backward without the softmax term (dx = dout)",
         ("return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)", "return dout")),
    edit("softmax", "log-softmax backward without the sum over the classes: dout - p dout",
         ("return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)", "return dout - np.exp(log_p) * dout")),
    edit("softmax", "log-softmax backward with the log-probabilities instead of the probabilities",
         ("return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)",
          "return dout - log_p * dout.sum(axis=1, keepdims=True)")),
    edit("softmax", "log-softmax backward subtracts from dout in place (dout -= ...), changing the caller's array",
         ("    return dout - np.exp(log_p) * dout.sum(axis=1, keepdims=True)",
          "    dout -= np.exp(log_p) * dout.sum(axis=1, keepdims=True)\n    return dout"), kind="inplace"),
]

SOFTMAX_CE = [
    edit("softmax_ce", "gradient not divided by the batch size",
         ("    dscores /= n\n", "")),
    edit("softmax_ce", "no max-subtraction: exp overflows for large scores",
         ("shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"), kind="edge"),
    edit("softmax_ce", "softmax over the batch (axis 0) instead of the classes",
         ("shifted = scores - scores.max(axis=1, keepdims=True)",
          "shifted = scores - scores.max(axis=0, keepdims=True)"),
         ("log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
          "log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))")),
    edit("softmax_ce", "log of the softmax probabilities (log 0 = -inf when a probability underflows)",
         ("log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
          "log_probs = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))"), kind="edge"),
    edit("softmax_ce", "loss summed over the batch instead of averaged",
         ("loss = -log_probs[np.arange(n), y].mean()", "loss = -log_probs[np.arange(n), y].sum()"), kind="order"),
    edit("softmax_ce", "log_probs[:, y] picks an N x N block instead of one entry per row",
         ("loss = -log_probs[np.arange(n), y].mean()", "loss = -log_probs[:, y].mean()"), kind="order"),
    edit("softmax_ce", "subtracts the row maxima from scores in place (shifted = scores; shifted -= ...), "
                       "changing the caller's array",
         ("shifted = scores - scores.max(axis=1, keepdims=True)",
          "shifted = scores\n    shifted -= scores.max(axis=1, keepdims=True)"), kind="inplace"),
]

MLP = [
    # mlp_forward
    edit("mlp", "activation after the last layer too",
         ("        if layer < len(params) - 1:\n            h, act_cache = act_forward(h)\n",
          "        h, act_cache = act_forward(h)\n")),
    edit("mlp", "off by one: no activation after the second-to-last layer either",
         ("if layer < len(params) - 1:", "if layer < len(params) - 2:")),
    edit("mlp", "forward leaves out the last layer (loops over params[:-1])",
         ("for layer, (W, b) in enumerate(params):", "for layer, (W, b) in enumerate(params[:-1]):")),
    edit("mlp", "always uses the ReLU, whatever activation is asked for",
         ("act_forward, _ = ACTIVATIONS[activation]", "act_forward, _ = ACTIVATIONS[\"relu\"]"),
         ("_, act_backward = ACTIVATIONS[activation]", "_, act_backward = ACTIVATIONS[\"relu\"]"), kind="ignored"),
    edit("mlp", "casts the inputs and parameters to float32 (.astype(np.float32)): keep the network in float64",
         ("    h = X\n", "    h = X.astype(np.float32)\n"),
         ("for layer, (W, b) in enumerate(params):",
          "for layer, (W, b) in enumerate(params):\n        W, b = W.astype(np.float32), b.astype(np.float32)"),
         kind="dtype"),
    # mlp_backward
    edit("mlp", "backward skips the activation's derivative",
         ("        if act_cache is not None:\n            d = act_backward(d, act_cache)\n", "")),
    edit("mlp", "gradients returned last layer first",
         ("    grads = [None] * len(caches)\n", "    grads = []\n"),
         ("        grads[layer] = (dW, db)\n", "        grads.append((dW, db))\n")),
    edit("mlp", "backward reuses the first layer's cache for the activation of every layer",
         ("            d = act_backward(d, act_cache)\n", "            d = act_backward(d, caches[0][1])\n")),
    edit("mlp", "backward always uses the ReLU's derivative, whatever activation the forward pass used",
         ("_, act_backward = ACTIVATIONS[activation]", "_, act_backward = ACTIVATIONS[\"relu\"]"), kind="ignored"),
]

SYMMETRY = [
    edit("symmetry", "reorders the units' incoming weights and biases but not their outgoing weights (W_out)",
         ("W_out_new = W_out[perm, :]", "W_out_new = W_out.copy()")),
    edit("symmetry", "reorders W_out with the inverse permutation (np.argsort(perm))",
         ("W_out_new = W_out[perm, :]", "W_out_new = W_out[np.argsort(perm), :]")),
    edit("symmetry", "forgets to reorder the biases",
         ("b_in_new = b_in[perm]", "b_in_new = b_in.copy()")),
    edit("symmetry", "reorders the columns of W_out instead of its rows",
         ("W_out_new = W_out[perm, :]", "W_out_new = W_out[:, perm]")),
    edit("symmetry", "reorders the rows of W_in (the inputs) instead of its columns (the units)",
         ("W_in_new = W_in[:, perm]", "W_in_new = W_in[perm, :]")),
    edit("symmetry", "moves unit j to position perm[j] (the inverse permutation, applied to all three)",
         ("    W_in_new = W_in[:, perm]\n", "    perm = np.argsort(perm)\n    W_in_new = W_in[:, perm]\n")),
    edit("symmetry", "ignores perm and returns the layer unchanged",
         ("    W_in_new = W_in[:, perm]\n    b_in_new = b_in[perm]\n    W_out_new = W_out[perm, :]\n",
          "    W_in_new, b_in_new, W_out_new = W_in.copy(), b_in.copy(), W_out.copy()\n"), kind="ignored"),
    edit("symmetry", "reorders W_in, b_in and W_out in place (W_in[:] = ...), changing the caller's arrays",
         ("    W_in_new = W_in[:, perm]\n    b_in_new = b_in[perm]\n    W_out_new = W_out[perm, :]\n",
          "    W_in[:] = W_in[:, perm]\n    b_in[:] = b_in[perm]\n    W_out[:] = W_out[perm, :]\n"
          "    W_in_new, b_in_new, W_out_new = W_in, b_in, W_out\n"), kind="inplace"),
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
    *SYMMETRY,
]
