"""Gradient checking by central differences, for testing hand-written backward passes.

All arrays must be float64: in float32 the rounding error of a finite difference is
larger than the errors these checks are meant to catch.

The central difference and the relative error are chapter 02's graded ``numeric_grad`` and
``rel_error``: this module takes them from the course library (``dllib.ch02_backprop``) when
a check first needs them, so it works in the chapters after 02 and never ships their answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from helpers.testing import fail

__all__ = [
    "GradientCheckResult",
    "assert_gradient_close",
    "compare_gradients",
    "gradient_check",
    "numerical_gradient",
    "numerical_gradient_array",
    "relative_error",
]

Array = NDArray[np.float64]


def _require_float64(name: str, a: object) -> Array:
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{name} must be a float64 numpy array, got {type(a).__name__} "
            "(convert with np.asarray(..., dtype=np.float64); for a torch tensor, t.detach().double().numpy())"
        )
    if a.dtype != np.float64:
        raise TypeError(
            f"{name} must have dtype float64, got {a.dtype}; "
            f"use {name}.astype(np.float64) (float32 is too imprecise for gradient checks)"
        )
    return a


def _require_writable(x: Array) -> Array:
    if not x.flags.writeable:
        raise ValueError("x must be writable: it is perturbed in place (pass x.copy())")
    return x


def _require_same_shape(name_a: str, a: Array, name_b: str, b: Array) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {name_a} has shape {a.shape}, {name_b} has {b.shape}")


def _require_step(h: float) -> None:
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"step h must be a positive finite number, got {h}")


def _scalar(value: Any) -> float:
    arr = np.asarray(value)
    if arr.shape != ():
        raise ValueError(f"f must return a scalar, got an array of shape {arr.shape}")
    return float(arr)


def _chapter_02():
    """Chapter 02's ``numeric_grad`` and ``rel_error`` from the course library, imported on first use.

    Imported here, not at module level: every grading kernel imports this module, and a
    chapter-02 kernel (whose students write these two functions) cannot see ``dllib.ch02_backprop``.
    """
    try:
        from dllib.ch02_backprop import numeric_grad, rel_error
    except ImportError as exc:
        raise ImportError(
            "helpers.gradcheck builds on chapter 02's numeric_grad and rel_error "
            "(dllib.ch02_backprop), which is not available here: run `./course build`, "
            "or, in chapter 02 itself, use your own functions"
        ) from exc
    return numeric_grad, rel_error


def numerical_gradient(f: Callable[[Array], Any], x: Array, h: float = 1e-5) -> Array:
    """Central-difference gradient of a scalar-valued ``f`` at ``x`` (any shape).

    ``x`` is perturbed in place, one element at a time, and restored exactly afterwards
    (also if ``f`` raises), so ``f`` may close over ``x``. Uses chapter 02's ``numeric_grad``.
    """
    x = _require_writable(_require_float64("x", x))
    _require_step(h)
    numeric_grad, _ = _chapter_02()
    saved = x.copy()
    try:
        return np.asarray(numeric_grad(lambda v: _scalar(f(v)), x, h), dtype=np.float64)
    finally:
        x[...] = saved


def numerical_gradient_array(
    f: Callable[[Array], Any], x: Array, dout: Array, h: float = 1e-5
) -> Array:
    """Central-difference gradient of ``sum(f(x) * dout)`` for an array-valued ``f``.

    ``dout`` is the upstream gradient and must have the shape of ``f(x)``. ``x`` is
    perturbed in place and restored exactly.
    """
    x = _require_writable(_require_float64("x", x))
    dout = _require_float64("dout", dout)
    _require_step(h)
    base = np.array(f(x), dtype=np.float64)  # a copy: f may reuse its output buffer
    _require_same_shape("f(x)", base, "dout", dout)

    def weighted(v: Array) -> float:
        out = np.array(f(v), dtype=np.float64)
        _require_same_shape("f(x)", out, "dout", dout)
        return float(np.sum((out - base) * dout))  # differences first, then the weighted sum

    return numerical_gradient(weighted, x, h)


def relative_error(a: Array, b: Array) -> float:
    """``max |a - b| / max(|a| + |b|, 1e-12)`` over all elements (0.0 for empty arrays).

    Chapter 02's ``rel_error``: below 1e-12 in size, differences count as absolute ones.
    """
    a, b = _require_float64("a", a), _require_float64("b", b)
    _require_same_shape("a", a, "b", b)
    if a.size == 0:
        return 0.0
    _, rel_error = _chapter_02()
    return float(rel_error(a, b))


def _elementwise_error(a: Array, b: Array) -> Array:
    """The relative error of each element (chapter 02's ``rel_error`` of one element at a time)."""
    _, rel_error = _chapter_02()
    errors = [rel_error(np.array([p]), np.array([q])) for p, q in zip(a.ravel(), b.ravel(), strict=True)]
    return np.array(errors, dtype=np.float64).reshape(a.shape)


@dataclass(frozen=True)
class GradientCheckResult:
    """Worst element of a gradient comparison."""

    max_relative_error: float
    index: tuple[int, ...]
    analytic: float
    numerical: float

    def passed(self, tol: float) -> bool:
        """True if the max relative error is at most ``tol`` (NaN never passes)."""
        return bool(self.max_relative_error <= tol)


def compare_gradients(
    analytic: Array, numerical: Array, *, atol: float = 0.0
) -> GradientCheckResult:
    """Compare two gradients element-wise and report the worst element.

    Elements whose absolute difference is at most ``atol`` count as equal; use a small
    ``atol`` (e.g. 1e-10) where the true gradient is zero and round-off dominates.
    """
    analytic = _require_float64("analytic", analytic)
    numerical = _require_float64("numerical", numerical)
    _require_same_shape("analytic", analytic, "numerical", numerical)
    if analytic.size == 0:
        return GradientCheckResult(0.0, (), float("nan"), float("nan"))
    errors = _elementwise_error(analytic, numerical)
    errors[np.abs(analytic - numerical) <= atol] = 0.0
    flat = int(np.argmax(errors))  # NaNs win, so a NaN gradient is reported
    index = tuple(int(i) for i in np.unravel_index(flat, analytic.shape))
    return GradientCheckResult(
        float(errors[index]), index, float(analytic[index]), float(numerical[index])
    )


def gradient_check(
    f: Callable[[Array], Any],
    x: Array,
    analytic: Array,
    *,
    dout: Array | None = None,
    h: float = 1e-5,
    atol: float = 0.0,
) -> GradientCheckResult:
    """Compare ``analytic`` with the numerical gradient of ``f`` at ``x``.

    Without ``dout``, ``f`` must be scalar-valued; with ``dout``, the gradient of
    ``sum(f(x) * dout)`` is checked (see :func:`numerical_gradient_array`).
    """
    x = _require_float64("x", x)
    analytic = _require_float64("analytic", analytic)
    _require_same_shape("analytic", analytic, "x", x)
    if dout is None:
        numerical = numerical_gradient(f, x, h)
    else:
        numerical = numerical_gradient_array(f, x, dout, h)
    return compare_gradients(analytic, numerical, atol=atol)


def assert_gradient_close(
    f: Callable[[Array], Any],
    x: Array,
    analytic: Array,
    *,
    name: str = "x",
    dout: Array | None = None,
    tol: float = 1e-6,
    h: float = 1e-5,
    atol: float = 0.0,
) -> GradientCheckResult:
    """Like :func:`gradient_check`, but raise AssertionError if the error exceeds ``tol``.

    The message names the gradient, the worst index and both values there; it is raised with
    ``helpers.testing.fail``, so a known mistake matching the cell's calls is named too.
    """
    __tracebackhide__ = True
    result = gradient_check(f, x, analytic, dout=dout, h=h, atol=atol)
    if not result.passed(tol):
        fail(
            f"gradient of {name!r}: max relative error {result.max_relative_error:.1e} "
            f"at index {result.index}: analytic {result.analytic:.6g}, "
            f"numerical {result.numerical:.6g} (tolerance {tol:.0e})"
        )
    return result
