"""Assertions with clear failure messages, used by the test cells of every chapter.

Every check raises ``AssertionError`` with a message that says *what* is wrong (shape,
dtype, NaN, which element, by how much), never a bare assertion. Values are converted with
``np.asarray(..., dtype=float)`` before comparing, so an object that overrides ``__eq__``
cannot fake equality.

Typical use in a test cell::

    w = call(fit_ridge, X, y, 0.1)
    assert_shape(w, (3,), name="fit_ridge(X, y, lam=0.1)")
    assert_close(w, expected, name="fit_ridge(X, y, lam=0.1)")
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "assert_answer",
    "assert_array_equal",
    "assert_choice",
    "assert_close",
    "assert_dtype",
    "assert_equal_int",
    "assert_scalar",
    "assert_shape",
    "assert_that",
    "call",
    "describe_call",
    "implemented",
]

T = TypeVar("T")


# --------------------------------------------------------------------------- formatting


def _fmt_index(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _fmt_value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return repr(value)


def _type_name(obj: Any) -> str:
    return "None" if obj is None else type(obj).__name__


def describe_call(fn_name: str, *args: Any, **kwargs: Any) -> str:
    """A short label for a call, for failure messages: arrays appear as dtype and shape.

    >>> describe_call("fit_ridge", np.zeros((5, 3)), np.zeros(5), lam=0.1)
    'fit_ridge(<float64 (5, 3)>, <float64 (5,)>, lam=0.1)'
    """

    def one(value: Any) -> str:
        if isinstance(value, np.ndarray):
            return f"<{value.dtype} {_fmt_index(value.shape) if value.shape else '()'}>"
        if callable(value):
            return getattr(value, "__name__", type(value).__name__)
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."

    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return f"{fn_name}({', '.join(parts)})"


def _as_float_array(actual: Any, name: str) -> np.ndarray:
    """Convert to a float ndarray or explain why the value is not an array of numbers."""
    if actual is None:
        raise AssertionError(f"{name}: expected numbers, got None (did you forget a `return`?)")
    if isinstance(actual, str | bytes):
        raise AssertionError(f"{name}: expected numbers, got the string {actual!r}")
    if np.iscomplexobj(actual):
        raise AssertionError(f"{name}: expected real numbers, got complex values")
    try:
        return np.asarray(actual, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"{name}: expected an array of numbers, got {_type_name(actual)} "
            f"that cannot be converted to floats ({exc})"
        ) from None


def _shape_of(actual: Any) -> tuple[int, ...] | None:
    try:
        return tuple(np.shape(actual))
    except (TypeError, ValueError):  # ragged nested lists
        return None


# --------------------------------------------------------------------------- assertions


def assert_that(condition: bool, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds (works under ``python -O``)."""
    if not condition:
        raise AssertionError(message)


def assert_shape(actual: Any, expected_shape: Sequence[int], name: str = "output") -> None:
    """Check that ``actual`` is array-like with exactly ``expected_shape``."""
    expected = tuple(int(s) for s in expected_shape)
    if actual is None:
        raise AssertionError(
            f"{name}: expected an array of shape {_fmt_index(expected)}, got None "
            "(did you forget a `return`?)"
        )
    shape = _shape_of(actual)
    if shape is None:
        raise AssertionError(
            f"{name}: expected an array of shape {_fmt_index(expected)}, got a ragged "
            f"{_type_name(actual)} without a shape"
        )
    if shape != expected:
        hint = ""
        if len(shape) == len(expected) + 1 and 1 in shape:
            hint = " (an extra axis of length 1: return a 1-D array, e.g. with .ravel())"
        elif len(shape) == 2 and shape[::-1] == expected:
            hint = " (rows and columns swapped: a missing or extra transpose?)"
        raise AssertionError(
            f"{name}: shape mismatch: expected shape {_fmt_index(expected)}, "
            f"got {_fmt_index(shape)}{hint}"
        )


def assert_dtype(actual: Any, kind: str, name: str = "output") -> None:
    """Check the dtype kind of an array: ``"f"`` floating, ``"i"`` integer, ``"b"`` boolean."""
    kinds = {"f": "floating-point", "i": "integer", "b": "boolean"}
    if kind not in kinds:
        raise ValueError(f"kind must be one of {sorted(kinds)}, got {kind!r}")
    dtype = np.asarray(actual).dtype
    ok = dtype.kind in ("iu" if kind == "i" else kind)
    if not ok:
        raise AssertionError(f"{name}: expected a {kinds[kind]} array, got dtype {dtype}")


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    name: str = "output",
) -> None:
    """Check ``|actual - expected| <= atol + rtol * |expected|`` element-wise.

    Order of checks: convertible to float, shape, NaN/inf, values. The value message names
    the worst element (largest error relative to the tolerance), e.g.
    ``fit(X): max relative error 2.3e-01 at index (3,): expected 0.52, got 0.64 (rtol=1e-06,
    atol=1e-08); 2 of 5 values out of tolerance, max abs error 1.2e-01``.
    """
    exp = np.asarray(expected, dtype=float)
    assert_shape(actual, exp.shape, name=name)
    act = _as_float_array(actual, name)

    bad_finite = ~np.isfinite(act) & ~((act == exp) | (np.isnan(act) & np.isnan(exp)))
    if bad_finite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        what = "NaN" if np.isnan(act[idx]) else "inf"
        where = f" at index {_fmt_index(idx)}" if act.ndim else ""
        raise AssertionError(
            f"{name}: got {what}{where} where {_fmt_value(exp[idx])} was expected "
            f"({int(bad_finite.sum())} of {act.size} values are NaN or inf)"
        )

    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(act - exp)
        both_nan = np.isnan(act) & np.isnan(exp)
        same_inf = np.isinf(exp) & (act == exp)
        err = np.where(both_nan | same_inf, 0.0, err)
        tol = atol + rtol * np.abs(np.where(np.isfinite(exp), exp, 0.0))
        bad = err > tol
        if np.isnan(exp).any():  # expected NaN but got a number
            bad |= np.isnan(exp) & ~np.isnan(act)
    if not bad.any():
        return

    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(bad, err / np.where(tol > 0, tol, np.finfo(float).tiny), -1.0)
        excess = np.where(np.isnan(excess), np.inf, excess)
    idx = np.unravel_index(int(np.argmax(excess)), act.shape) if act.ndim else ()
    e, a = exp[idx], act[idx]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel = float(abs(a - e) / abs(e)) if e != 0 else np.inf
    where = f" at index {_fmt_index(idx)}" if act.ndim else ""
    count = f"; {int(bad.sum())} of {act.size} values out of tolerance" if act.size > 1 else ""
    raise AssertionError(
        f"{name}: max relative error {rel:.1e}{where}: expected {_fmt_value(e)}, "
        f"got {_fmt_value(a)} (rtol={rtol:.0e}, atol={atol:.0e}){count}, "
        f"max abs error {float(np.max(np.where(bad, err, 0.0))):.1e}"
    )


def assert_scalar(
    actual: Any,
    expected: float | None = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    name: str = "output",
) -> None:
    """Check that ``actual`` is one real number (float, int, numpy scalar or 0-d array).

    With ``expected`` given, also check it is close to ``expected`` (see ``assert_close``);
    without it, check only that it is a finite number.
    """
    if actual is None:
        raise AssertionError(f"{name}: expected a number, got None (did you forget a `return`?)")
    if isinstance(actual, bool | np.bool_):
        raise AssertionError(f"{name}: expected a number, got the boolean {actual!r}")
    if not isinstance(actual, numbers.Real | np.ndarray | np.generic):
        raise AssertionError(f"{name}: expected a single number, got {_type_name(actual)}")
    shape = np.shape(actual)
    if shape != ():
        raise AssertionError(
            f"{name}: expected a single number, got an array of shape {_fmt_index(shape)} "
            "(reduce it to one value, e.g. with .mean() or float(...))"
        )
    if expected is None:
        value = _as_float_array(actual, name)
        if not np.isfinite(value):
            raise AssertionError(f"{name}: expected a finite number, got {float(value)}")
        return
    assert_close(actual, expected, rtol=rtol, atol=atol, name=name)


def assert_array_equal(
    actual: Any,
    expected: Any,
    *,
    name: str = "output",
    integer: bool = True,
) -> None:
    """Exact equality of arrays, e.g. index arrays; with ``integer`` the dtype must be integer."""
    exp = np.asarray(expected)
    assert_shape(actual, exp.shape, name=name)
    act_raw = np.asarray(actual)
    if act_raw.dtype == object:
        raise AssertionError(f"{name}: expected an array of numbers, got dtype object")
    if integer and act_raw.dtype.kind not in "iu":
        raise AssertionError(
            f"{name}: expected integer indices, got dtype {act_raw.dtype} "
            "(use np.arange or .astype(int))"
        )
    act = _as_float_array(actual, name)
    expf = exp.astype(float)
    diff = ~((act == expf) | (np.isnan(act) & np.isnan(expf)))
    if diff.any():
        idx = tuple(int(i) for i in np.argwhere(diff)[0])
        where = f" first at index {_fmt_index(idx)}" if act.ndim else ""
        shown_e = exp[idx].item() if exp.ndim else exp.item()
        shown_a = act_raw[idx].item() if act_raw.ndim else act_raw.item()
        raise AssertionError(
            f"{name}: {int(diff.sum())} of {act.size} entries differ;{where}: "
            f"expected {shown_e!r}, got {shown_a!r}"
        )


def assert_equal_int(actual: Any, expected: int, name: str = "output") -> None:
    """Check that ``actual`` is the integer ``expected`` (a Python or numpy integer)."""
    if isinstance(actual, bool | np.bool_) or not isinstance(actual, numbers.Integral):
        raise AssertionError(f"{name}: expected the integer {expected}, got {actual!r}")
    if int(actual) != int(expected):
        raise AssertionError(f"{name}: expected {expected}, got {int(actual)}")


def _normalize_choice(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _same_choice(answer: Any, option: Any) -> bool:
    """Equality that an object with a lying ``__eq__`` cannot fake."""
    if isinstance(option, str):
        return isinstance(answer, str) and _normalize_choice(answer) == _normalize_choice(option)
    if isinstance(option, numbers.Real) and not isinstance(option, bool):
        return (
            isinstance(answer, numbers.Real | np.integer | np.floating)
            and not isinstance(answer, bool | np.bool_)
            and float(answer) == float(option)
        )
    return answer is option


def assert_choice(answer: Any, options: Iterable[Any], name: str = "answer") -> None:
    """Check that a multiple-choice answer is one of ``options`` (does not say which is right).

    Strings are compared after ``strip().lower()``, so ``" B"`` counts as ``"b"``.
    """
    opts = list(options)
    if answer is None:
        raise AssertionError(f"{name}: not answered yet; set it to one of {opts!r}")
    if not any(_same_choice(answer, o) for o in opts):
        raise AssertionError(f"{name}: must be one of {opts!r}, got {answer!r}")


def assert_answer(
    answer: Any,
    expected: Any,
    *,
    name: str = "answer",
    rtol: float = 1e-3,
    atol: float = 1e-9,
) -> None:
    """Grade a concept check without printing the right answer.

    Strings are compared after ``strip().lower()``; numbers with a tolerance.
    """
    if isinstance(expected, str):
        if not isinstance(answer, str) or _normalize_choice(answer) != _normalize_choice(expected):
            raise AssertionError(f"{name}: {answer!r} is not the right answer")
        return
    if isinstance(answer, bool | np.bool_) or not isinstance(answer, numbers.Real | np.generic):
        raise AssertionError(f"{name}: expected a number, got {answer!r}")
    value = float(answer)
    if not (np.isfinite(value) and abs(value - float(expected)) <= atol + rtol * abs(expected)):
        raise AssertionError(f"{name}: {answer!r} is not the right answer")


# --------------------------------------------------------------------------- not implemented


def _not_implemented_message(name: str) -> str:
    return (
        f"{name} is not implemented yet: replace `raise NotImplementedError()` "
        "with your code and run its cell again"
    )


@contextlib.contextmanager
def implemented(name: str) -> Iterator[None]:
    """Turn a ``NotImplementedError`` raised inside the block into a helpful AssertionError."""
    try:
        yield
    except NotImplementedError:
        raise AssertionError(_not_implemented_message(name)) from None


def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call ``fn(*args, **kwargs)``; a ``NotImplementedError`` becomes an AssertionError
    "<fn> is not implemented yet". Other exceptions propagate unchanged."""
    if not callable(fn):
        raise AssertionError(f"expected a function, got {_type_name(fn)}: {fn!r}")
    with implemented(getattr(fn, "__name__", repr(fn))):
        return fn(*args, **kwargs)
