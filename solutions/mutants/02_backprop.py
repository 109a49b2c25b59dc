"""Plausible wrong solutions for chapter 02; each must make its tests cell fail.

Each mutant is the reference solution cell with one realistic mistake edited in. The first
mutant is also used as "the student with one mistake" in the grading test, so it must break
its own tests cell only: no later tests cell uses ``numeric_grad``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import editor

edit = editor(Path(__file__).resolve().parents[1] / "02_backprop.py")

_CENTRAL = ("        x[i] = original + h\n        upper = float(f(x))\n"
            "        x[i] = original - h\n        lower = float(f(x))\n        x[i] = original\n")
_REL = "float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))"

GRADIENT_CHECK = [
    edit("gradient_check", "uses the one-sided difference (f(x + h) - f(x)) / h instead of the central one",
         ("        x[i] = original - h\n        lower = float(f(x))\n",
          "        x[i] = original\n        lower = float(f(x))\n"),
         ("grad[i] = (upper - lower) / (2.0 * h)", "grad[i] = (upper - lower) / h")),
    edit("gradient_check", "does not put the perturbed entry back: x is left at x - h",
         ("        x[i] = original\n        grad[i]", "        grad[i]"), kind="inplace"),
    edit("gradient_check", "restores x by adding h back instead of assigning the saved value: "
                           "rounding leaves x slightly changed",
         (_CENTRAL, "        x[i] += h\n        upper = float(f(x))\n        x[i] -= 2 * h\n"
                    "        lower = float(f(x))\n        x[i] += h\n"), kind="inplace"),
    edit("gradient_check", "divides the central difference by h instead of 2h",
         ("grad[i] = (upper - lower) / (2.0 * h)", "grad[i] = (upper - lower) / h")),
    edit("gradient_check", "adds h to every entry at once (a directional derivative, not a partial one)",
         (_CENTRAL, "        upper = float(f(x + h))\n        lower = float(f(x - h))\n")),
    edit("gradient_check", "ignores the argument h and always steps by 1e-5",
         ("    grad = np.zeros(x.shape)\n", "    h = 1e-5\n    grad = np.zeros(x.shape)\n"), kind="ignored"),
    edit("gradient_check", "stores the gradient in a float32 array",
         ("grad = np.zeros(x.shape)", "grad = np.zeros(x.shape, dtype=np.float32)"), kind="dtype"),
    edit("gradient_check", "loops over range(len(x)): for a 2-D x it perturbs whole rows",
         ("    it = np.nditer(x, flags=[\"multi_index\"])\n    for _ in it:\n        i = it.multi_index\n"
          "        original = x[i]\n",
          "    for i in range(len(x)):\n        original = x[i].copy()\n"), kind="edge"),
    edit("gradient_check", "relative error without the absolute value of the difference",
         ("np.max(np.abs(a - b) /", "np.max((a - b) /")),
    edit("gradient_check", "relative error measured against |a| only (inf or nan where a = 0)",
         ("np.maximum(np.abs(a) + np.abs(b), 1e-12)", "np.abs(a)"), kind="edge"),
    edit("gradient_check", "relative error averaged over the entries instead of the largest one",
         ("float(np.max(np.abs(a - b) /", "float(np.mean(np.abs(a - b) /")),
    edit("gradient_check", "relative error without the 1e-12 floor: 0 / 0 = nan where a = b = 0",
         ("np.maximum(np.abs(a) + np.abs(b), 1e-12)", "(np.abs(a) + np.abs(b))"), kind="edge"),
    edit("gradient_check", "takes the maxima before dividing: max |a - b| / max(|a| + |b|), "
                           "not the largest ratio",
         (_REL, "float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))")),
    edit("gradient_check", "computes the relative error in float32 and returns a numpy float32",
         ("a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)",
          "a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)"),
         (_REL, "np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), np.float32(1e-12)))"), kind="dtype"),
]

_SIGMOID = "    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"

LOGISTIC_REGRESSION = [
    edit("logistic_regression", "naive sigmoid exp(z) / (1 + exp(z)): inf / inf = nan for large z",
         (_SIGMOID, "    return np.exp(z) / (1.0 + np.exp(z))"), kind="edge"),
    edit("logistic_regression", "sigmoid with the sign flipped: 1 / (1 + exp(z))",
         ("np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))")),
    edit("logistic_regression", "stable sigmoid with exp(z) where exp(-|z|) belongs: wrong for z > 0",
         ("e = np.exp(-np.abs(z))", "e = np.exp(z)")),
    edit("logistic_regression", "sigmoid of z clipped to [-500, 500]: wrong tiny values below -500",
         (_SIGMOID, "    z = np.clip(z, -500.0, 500.0)\n    return 1.0 / (1.0 + np.exp(-z))"), kind="edge"),
    edit("logistic_regression", "sigmoid clips z in place (z[z < -700] = -700): the caller's array changes",
         (_SIGMOID, "    z[z < -700] = -700.0\n    return 1.0 / (1.0 + np.exp(-z))"), kind="inplace"),
    edit("logistic_regression", "sigmoid computed in float32",
         ("z = np.asarray(z, dtype=float)", "z = np.asarray(z, dtype=np.float32)"), kind="dtype"),
    edit("logistic_regression", "gradient summed over the batch instead of averaged",
         ("dz = (sigmoid(z) - y) / len(y)", "dz = sigmoid(z) - y")),
    edit("logistic_regression", "gradient with the sign flipped (y - prediction)",
         ("dz = (sigmoid(z) - y) / len(y)", "dz = (y - sigmoid(z)) / len(y)")),
    edit("logistic_regression", "BCE computed from probabilities without clipping (log 0 = -inf)",
         ("loss = np.mean(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))))",
          "p = sigmoid(z)\n    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))"), kind="edge"),
    edit("logistic_regression", "loss summed over the samples instead of averaged (the gradient is a mean)",
         ("loss = np.mean(np.maximum(z, 0.0)", "loss = np.sum(np.maximum(z, 0.0)"), kind="order"),
    edit("logistic_regression", "bias gradient not summed: one entry per sample",
         ("return float(loss), X.T @ dz, float(dz.sum())", "return float(loss), X.T @ dz, dz")),
    edit("logistic_regression", "ignores the bias b: z = X @ w",
         ("    z = X @ w + b\n    loss", "    z = X @ w\n    loss"), kind="ignored"),
    edit("logistic_regression", "`dz = y` does not copy: updating dz in place changes the labels y",
         ("dz = (sigmoid(z) - y) / len(y)", "dz = y\n    dz -= sigmoid(z)\n    dz /= -len(y)"), kind="inplace"),
]

SCALAR_OPS = [
    edit("scalar_ops", "multiplication's local gradients swapped (d/da = a instead of b)",
         ("(other.value, self.value), \"*\")", "(self.value, other.value), \"*\")")),
    edit("scalar_ops", "power rule without lowering the exponent: n x^n",
         ("(n * self.value ** (n - 1),)", "(n * self.value**n,)")),
    edit("scalar_ops", "power rule written n * x**n - 1 (precedence: the 1 is subtracted last)",
         ("(n * self.value ** (n - 1),)", "(n * self.value**n - 1,)")),
    edit("scalar_ops", "power rule for a square only: 2x whatever n is",
         ("(n * self.value ** (n - 1),)", "(2 * self.value,)"), kind="ignored"),
    edit("scalar_ops", "power rule written n x^n / x: division by zero at x = 0",
         ("(n * self.value ** (n - 1),)", "(n * self.value**n / self.value,)"), kind="edge"),
    edit("scalar_ops", "exp with math.exp only: OverflowError instead of inf for large inputs",
         ("        try:\n            e = math.exp(self.value)\n        except OverflowError:\n"
          "            e = math.inf\n", "        e = math.exp(self.value)\n"), kind="edge"),
    edit("scalar_ops", "tanh's local gradient from the input: 1 - x^2 instead of 1 - tanh(x)^2",
         ("(1.0 - t * t,)", "(1.0 - self.value * self.value,)")),
    edit("scalar_ops", "log's local gradient -1/x^2 (the derivative of 1/x) instead of 1/x",
         ("(1.0 / self.value,)", "(-1.0 / self.value**2,)")),
    edit("scalar_ops", "ReLU derivative 1 at the kink x = 0 (>= instead of >)",
         ("1.0 if self.value > 0 else 0.0", "1.0 if self.value >= 0 else 0.0"), kind="edge"),
    edit("scalar_ops", "relu clamps its input node in place (self.value = max(self.value, 0)) first",
         ("        return Scalar(max(self.value, 0.0), (self,)",
          "        self.value = max(self.value, 0.0)\n        return Scalar(self.value, (self,)"), kind="inplace"),
]

_ORDER = ("        placed.add(id(node))\n        for parent in node.parents:\n            place(parent)\n"
          "        order.append(node)\n")
_ACCUMULATE = ("    for node in reversed(order):\n"
               "        for parent, local in zip(node.parents, node.local_grads, strict=True):\n"
               "            parent.grad += local * node.grad\n")

SCALAR_BACKWARD = [
    edit("scalar_backward", "gradients are not reset: a second call adds to the first",
         ("    for node in order:\n        node.grad = 0.0\n", "")),
    edit("scalar_backward", "assigns instead of accumulating (parent.grad = ...): a node used twice keeps "
                            "only the contribution handed over last",
         ("parent.grad += local * node.grad", "parent.grad = local * node.grad"), kind="graph"),
    edit("scalar_backward", "recursive backward: a node passes its gradient on as soon as it receives a "
                            "contribution, so an inner node used twice passes it on twice",
         (_ACCUMULATE, "    def send(node):\n"
                       "        for parent, local in zip(node.parents, node.local_grads, strict=True):\n"
                       "            parent.grad += local * node.grad\n            send(parent)\n\n"
                       "    send(root)\n"), kind="graph"),
    edit("scalar_backward", "resets only the leaves, so inner nodes accumulate across calls",
         ("    for node in order:\n        node.grad = 0.0\n",
          "    for node in order:\n        if not node.parents:\n            node.grad = 0.0\n"), kind="graph"),
    edit("scalar_backward", "visits the nodes in topological instead of reverse topological order",
         ("for node in reversed(order):", "for node in order:"), kind="order"),
    edit("scalar_backward", "no set of placed nodes: a node reachable along two paths is listed twice",
         ("        if id(node) in placed:\n            return\n", ""), kind="graph"),
    edit("scalar_backward", "pre-order: a node is listed before its parents",
         (_ORDER, "        placed.add(id(node))\n        order.append(node)\n        for parent in node.parents:\n"
                  "            place(parent)\n")),
    edit("scalar_backward", "lists only the root's direct parents, not the whole graph",
         ("        for parent in node.parents:\n            place(parent)\n        order.append(node)\n",
          "        for parent in node.parents:\n            if id(parent) not in placed:\n"
          "                placed.add(id(parent))\n                order.append(parent)\n"
          "        order.append(node)\n")),
    edit("scalar_backward", "topological_order returns the order reversed (root first)",
         ("    place(root)\n    return order\n", "    place(root)\n    return order[::-1]\n")),
]

TENSOR_NODES = [
    edit("tensor_nodes", "bias gradient not summed over the batch",
         ("b.addgrad(self.grad.sum(axis=0))", "b.addgrad(self.grad)")),
    edit("tensor_nodes", "Affine does not pass the gradient on to its input x",
         ("        x.addgrad(self.grad @ W.value.T)\n", "")),
    edit("tensor_nodes", "weight gradient divided by the batch size",
         ("W.addgrad(x.value.T @ self.grad)", "W.addgrad(x.value.T @ self.grad / len(self.grad))")),
    edit("tensor_nodes", "input gradient without the transpose: G W instead of G W^T (works only for square W)",
         ("x.addgrad(self.grad @ W.value.T)", "x.addgrad(self.grad @ W.value)"), kind="edge"),
    edit("tensor_nodes", "Affine forgets the bias: value = x W",
         ("self.value = x.value @ W.value + b.value", "self.value = x.value @ W.value"), kind="ignored"),
    edit("tensor_nodes", "Affine.forward returns its result instead of storing it in self.value",
         ("self.value = x.value @ W.value + b.value", "return x.value @ W.value + b.value"), kind="order"),
    edit("tensor_nodes", "Affine assigns x.grad = G W^T instead of adding with addgrad: a hidden node that "
                         "feeds several nodes keeps one contribution",
         ("x.addgrad(self.grad @ W.value.T)", "x.grad = self.grad @ W.value.T"), kind="graph"),
    edit("tensor_nodes", "Affine assigns W.grad and b.grad instead of adding: a weight used by two layers "
                         "keeps one contribution",
         ("W.addgrad(x.value.T @ self.grad)", "W.grad = x.value.T @ self.grad"),
         ("b.addgrad(self.grad.sum(axis=0))", "b.grad = self.grad.sum(axis=0)"), kind="graph"),
    edit("tensor_nodes", "Tanh's derivative from the input: 1 - x^2 instead of 1 - tanh(x)^2",
         ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(self.grad * (1.0 - x.value**2))")),
    edit("tensor_nodes", "Tanh's backward forgets the upstream gradient",
         ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(1.0 - self.value**2)"), kind="ignored"),
    edit("tensor_nodes", "Tanh's backward with the sigmoid's derivative y (1 - y)",
         ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(self.grad * self.value * (1.0 - self.value))")),
    edit("tensor_nodes", "Tanh's derivative 1 - tanh(x) (missing square)",
         ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(self.grad * (1.0 - self.value))")),
    edit("tensor_nodes", "Tanh from exponentials (e^x - e^-x) / (e^x + e^-x): nan for large |x|",
         ("self.value = np.tanh(x.value)",
          "self.value = (np.exp(x.value) - np.exp(-x.value)) / (np.exp(x.value) + np.exp(-x.value))"), kind="edge"),
    edit("tensor_nodes", "Tanh assigns x.grad = ... instead of adding with addgrad: a hidden node that feeds "
                         "several nodes keeps one contribution",
         ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.grad = self.grad * (1.0 - self.value**2)"),
         kind="graph"),
    edit("tensor_nodes", "Tanh multiplies its own grad in place (self.grad *= 1 - y^2) before passing it on",
         ("x.addgrad(self.grad * (1.0 - self.value**2))",
          "self.grad *= 1.0 - self.value**2\n        x.addgrad(self.grad)"), kind="inplace"),
]

_BCE_VALUE = "self.value = np.mean(np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z))))"
_BCE_GRAD = "logits.addgrad(self.grad * (sigmoid(z) - t) / z.size)"

TENSOR_LOSS = [
    edit("tensor_loss", "loss from probabilities without clipping (log 0 = -inf, 0 * inf = nan)",
         (_BCE_VALUE, "p = sigmoid(z)\n        self.value = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))"),
         kind="edge"),
    edit("tensor_loss", "loss from probabilities clipped to [1e-7, 1 - 1e-7] (wrong for big logits)",
         (_BCE_VALUE, "p = np.clip(sigmoid(z), 1e-7, 1 - 1e-7)\n"
                      "        self.value = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))"), kind="edge"),
    edit("tensor_loss", "loss value summed over the entries instead of averaged",
         ("self.value = np.mean(", "self.value = np.sum("), kind="order"),
    edit("tensor_loss", "gradient not divided by the number of entries (the value is a mean)",
         (_BCE_GRAD, "logits.addgrad(self.grad * (sigmoid(z) - t))")),
    edit("tensor_loss", "ignores the upstream gradient self.grad",
         (_BCE_GRAD, "logits.addgrad((sigmoid(z) - t) / z.size)"), kind="ignored"),
    edit("tensor_loss", "gradient with the sign flipped",
         (_BCE_GRAD, "logits.addgrad(self.grad * (t - sigmoid(z)) / z.size)")),
    edit("tensor_loss", "divides its own grad in place (self.grad /= N) before passing it on",
         (_BCE_GRAD, "self.grad /= z.size\n        logits.addgrad(self.grad * (sigmoid(z) - t))"), kind="inplace"),
]

MUTANTS = [
    *GRADIENT_CHECK,
    *LOGISTIC_REGRESSION,
    *SCALAR_OPS,
    *SCALAR_BACKWARD,
    *TENSOR_NODES,
    *TENSOR_LOSS,
]
