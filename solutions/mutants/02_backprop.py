"""Plausible wrong solutions for chapter 02; each must make its named tests cell fail.

Each mutant is the reference solution cell with one realistic mistake edited in (the edits
are applied to the cell's source, and must match exactly once, so a changed reference
solution is noticed). The first mutant is also used as "the student with one mistake" in the
grading test, so it must break its own tests cell only: no later tests cell uses
``numeric_grad``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.authoring import read_source
from autograder.mutants import Mutant

_SOURCE = {cell.id: cell.source
           for cell in read_source(Path(__file__).resolve().parents[1] / "02_backprop.py").cells}


def _edit(cell: str, why: str, *replacements: tuple[str, str]) -> Mutant:
    source = _SOURCE[cell]
    for old, new in replacements:
        if source.count(old) != 1:
            raise ValueError(f"mutant of {cell} ({why}): {old!r} occurs {source.count(old)} times")
        source = source.replace(old, new)
    return Mutant(cell=cell, fails=f"test_{cell}", why=why, source=source)


GRADIENT_CHECK = [
    _edit("gradient_check", "one-sided (forward) difference instead of the central difference",
          ("        x[i] = original - h\n        lower = float(f(x))\n",
           "        x[i] = original\n        lower = float(f(x))\n"),
          ("grad[i] = (upper - lower) / (2.0 * h)", "grad[i] = (upper - lower) / h")),
    _edit("gradient_check", "does not restore the perturbed entry (x is left at x - h)",
          ("        x[i] = original\n        grad[i]", "        grad[i]")),
    _edit("gradient_check", "divides the central difference by h instead of 2h",
          ("grad[i] = (upper - lower) / (2.0 * h)", "grad[i] = (upper - lower) / h")),
    _edit("gradient_check", "perturbs all entries at once (a directional derivative)",
          ("        x[i] = original + h\n        upper = float(f(x))\n"
           "        x[i] = original - h\n        lower = float(f(x))\n        x[i] = original\n",
           "        upper = float(f(x + h))\n        lower = float(f(x - h))\n")),
    _edit("gradient_check", "relative error without the absolute value of the difference",
          ("np.max(np.abs(a - b) /", "np.max((a - b) /")),
    _edit("gradient_check", "relative error measured against |a| only (inf or nan where a = 0)",
          ("np.maximum(np.abs(a) + np.abs(b), 1e-12)", "np.abs(a)")),
    _edit("gradient_check", "relative error averaged over the entries instead of the largest one",
          ("float(np.max(np.abs(a - b) /", "float(np.mean(np.abs(a - b) /")),
    _edit("gradient_check", "relative error without the 1e-12 guard: 0 / 0 = nan when a = b = 0",
          ("np.maximum(np.abs(a) + np.abs(b), 1e-12)", "(np.abs(a) + np.abs(b))")),
    _edit("gradient_check", "max taken before dividing: max |a - b| / max(|a| + |b|), not the largest ratio",
          ("np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12))",
           "np.max(np.abs(a - b)) / np.maximum(np.max(np.abs(a) + np.abs(b)), 1e-12)")),
]

LOGISTIC_REGRESSION = [
    _edit("logistic_regression", "gradient summed over the batch instead of averaged",
          ("dz = (sigmoid(z) - y) / len(y)", "dz = sigmoid(z) - y")),
    _edit("logistic_regression", "gradient with the sign flipped (y - prediction)",
          ("dz = (sigmoid(z) - y) / len(y)", "dz = (y - sigmoid(z)) / len(y)")),
    _edit("logistic_regression", "BCE computed from probabilities without clipping (log 0 = -inf)",
          ("loss = np.mean(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z))))",
           "p = sigmoid(z)\n    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))")),
    _edit("logistic_regression", "naive sigmoid exp(z) / (1 + exp(z)): inf / inf = nan for large z",
          ("    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "    return np.exp(z) / (1.0 + np.exp(z))")),
    _edit("logistic_regression", "sigmoid with the sign flipped: 1 / (1 + exp(z))",
          ("np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))", "np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))")),
    _edit("logistic_regression", "stable sigmoid with the branch test reversed (z <= 0)",
          ("np.where(z >= 0, 1.0 / (1.0 + e)", "np.where(z <= 0, 1.0 / (1.0 + e)")),
    _edit("logistic_regression", "bias gradient not summed: one entry per sample",
          ("return float(loss), X.T @ dz, float(dz.sum())", "return float(loss), X.T @ dz, dz")),
    _edit("logistic_regression", "z clipped to [-500, 500] before 1 / (1 + exp(-z)): wrong tiny values below -500",
          ("    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
           "    z = np.clip(z, -500.0, 500.0)\n    return 1.0 / (1.0 + np.exp(-z))")),
]

SCALAR_OPS = [
    _edit("scalar_ops", "multiplication's local gradients swapped (d/da = a instead of b)",
          ("(other.value, self.value), \"*\")", "(self.value, other.value), \"*\")")),
    _edit("scalar_ops", "power rule without lowering the exponent: n x^n",
          ("(n * self.value ** (n - 1),)", "(n * self.value**n,)")),
    _edit("scalar_ops", "tanh's local gradient from the input: 1 - x^2 instead of 1 - tanh(x)^2",
          ("(1.0 - t * t,)", "(1.0 - self.value * self.value,)")),
    _edit("scalar_ops", "ReLU derivative 1 at the kink x = 0 (>= instead of >)",
          ("1.0 if self.value > 0 else 0.0", "1.0 if self.value >= 0 else 0.0")),
    _edit("scalar_ops", "log's local gradient -1/x^2 (the derivative of 1/x) instead of 1/x",
          ("(1.0 / self.value,)", "(-1.0 / self.value**2,)")),
]

SCALAR_BACKWARD = [
    _edit("scalar_backward", "gradients are not reset: a second call adds to the first",
          ("    for node in order:\n        node.grad = 0.0\n", "")),
    _edit("scalar_backward", "assigns instead of accumulating: a reused node keeps one path only",
          ("parent.grad += local * node.grad", "parent.grad = local * node.grad")),
    _edit("scalar_backward", "no visited set: a node reachable along two paths is listed twice",
          ("        if id(node) in placed:\n            return\n", "")),
    _edit("scalar_backward", "pre-order: a node is listed before its parents",
          ("        placed.add(id(node))\n        for parent in node.parents:\n            place(parent)\n        order.append(node)\n",
           "        placed.add(id(node))\n        order.append(node)\n        for parent in node.parents:\n            place(parent)\n")),
    _edit("scalar_backward", "lists only the root's direct parents, not the whole graph",
          ("        for parent in node.parents:\n            place(parent)\n        order.append(node)\n",
           "        for parent in node.parents:\n            if id(parent) not in placed:\n                placed.add(id(parent))\n                order.append(parent)\n        order.append(node)\n")),
    _edit("scalar_backward", "visits the nodes in topological instead of reverse topological order",
          ("for node in reversed(order):", "for node in order:")),
    _edit("scalar_backward", "resets only the leaves, so inner nodes accumulate across calls",
          ("    for node in order:\n        node.grad = 0.0\n",
           "    for node in order:\n        if not node.parents:\n            node.grad = 0.0\n")),
    _edit("scalar_backward", "topological_order returns the order reversed (root first)",
          ("    place(root)\n    return order\n", "    place(root)\n    return order[::-1]\n")),
]

TENSOR_NODES = [
    _edit("tensor_nodes", "bias gradient not summed over the batch",
          ("b.addgrad(self.grad.sum(axis=0))", "b.addgrad(self.grad)")),
    _edit("tensor_nodes", "Affine does not pass the gradient on to its input x",
          ("        x.addgrad(self.grad @ W.value.T)\n", "")),
    _edit("tensor_nodes", "weight gradient divided by the batch size",
          ("W.addgrad(x.value.T @ self.grad)", "W.addgrad(x.value.T @ self.grad / len(self.grad))")),
    _edit("tensor_nodes", "Tanh's derivative from the input: 1 - x^2 instead of 1 - tanh(x)^2",
          ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(self.grad * (1.0 - x.value**2))")),
    _edit("tensor_nodes", "Tanh's backward forgets the upstream gradient",
          ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(1.0 - self.value**2)")),
    _edit("tensor_nodes", "Tanh's backward with the sigmoid's derivative y (1 - y)",
          ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(self.grad * self.value * (1.0 - self.value))")),
    _edit("tensor_nodes", "missing transpose in the input gradient: G W instead of G W^T",
          ("x.addgrad(self.grad @ W.value.T)", "x.addgrad(self.grad @ W.value)")),
    _edit("tensor_nodes", "Tanh's derivative 1 - tanh(x) (missing square)",
          ("x.addgrad(self.grad * (1.0 - self.value**2))", "x.addgrad(self.grad * (1.0 - self.value))")),
    _edit("tensor_nodes", "Tanh from exponentials (e^x - e^-x) / (e^x + e^-x): nan for large |x|",
          ("self.value = np.tanh(x.value)",
           "self.value = (np.exp(x.value) - np.exp(-x.value)) / (np.exp(x.value) + np.exp(-x.value))")),
]

TENSOR_LOSS = [
    _edit("tensor_loss", "loss from probabilities without clipping (log 0 = -inf, 0 * inf = nan)",
          ("self.value = np.mean(np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z))))",
           "p = sigmoid(z)\n        self.value = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))")),
    _edit("tensor_loss", "loss from probabilities clipped to [1e-7, 1 - 1e-7] (wrong for big logits)",
          ("self.value = np.mean(np.maximum(z, 0.0) - t * z + np.log1p(np.exp(-np.abs(z))))",
           "p = np.clip(sigmoid(z), 1e-7, 1 - 1e-7)\n"
           "        self.value = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))")),
    _edit("tensor_loss", "gradient not divided by the number of entries (the value is a mean)",
          ("logits.addgrad(self.grad * (sigmoid(z) - t) / z.size)",
           "logits.addgrad(self.grad * (sigmoid(z) - t))")),
    _edit("tensor_loss", "ignores the upstream gradient self.grad",
          ("logits.addgrad(self.grad * (sigmoid(z) - t) / z.size)",
           "logits.addgrad((sigmoid(z) - t) / z.size)")),
    _edit("tensor_loss", "gradient with the sign flipped",
          ("logits.addgrad(self.grad * (sigmoid(z) - t) / z.size)",
           "logits.addgrad(self.grad * (t - sigmoid(z)) / z.size)")),
]

MUTANTS: list[Mutant] = [
    *GRADIENT_CHECK,
    *LOGISTIC_REGRESSION,
    *SCALAR_OPS,
    *SCALAR_BACKWARD,
    *TENSOR_NODES,
    *TENSOR_LOSS,
]
