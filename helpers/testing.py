"""Assertions with clear failure messages, used by the test cells of every chapter.

Every check raises ``AssertionError`` with a message that says *what* is wrong (shape,
dtype, NaN, which element, by how much), never a bare assertion. Values are converted with
``np.asarray(..., dtype=float)`` before comparing, so an object that overrides ``__eq__``
cannot fake equality.

Typical use in a test cell::

    w = call(fit_ridge, X, y, 0.1)
    assert_shape(w, (3,), name="fit_ridge(X, y, lam=0.1)")
    assert_close(w, expected, name="fit_ridge(X, y, lam=0.1)")

``call`` does more than call: it fails when the function changes an argument in place or draws
from numpy's (or Python's) global random state, and it records a fingerprint of what the
function returned. When a check then fails, the fingerprints of the cell so far are compared
with those of the chapter's known mistakes (``helpers.diagnosis``) and a match is named in the
message. Frames of these helpers are hidden from IPython's tracebacks (``__tracebackhide__``),
so a student sees the failing line of the test cell and then the message.
"""

from __future__ import annotations

import inspect
import numbers
import random
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from helpers import diagnosis
from helpers.diagnosis import as_numpy

__all__ = [
    "assert_answer",
    "assert_array_equal",
    "assert_choice",
    "assert_close",
    "assert_dtype",
    "assert_equal_int",
    "assert_scalar",
    "assert_shape",
    "assert_seeded",
    "assert_that",
    "call",
    "call_updating",
    "describe_call",
    "fail",
    "implemented",
    "unpack",
]

T = TypeVar("T")


# --------------------------------------------------------------------------- formatting


def _fmt_index(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def _fmt_value(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return repr(value)


def _fmt_pair(expected: float, actual: float) -> tuple[str, str]:
    """Both numbers with the fewest digits (at least 6) that show they differ."""
    for digits in range(6, 18):
        e, a = f"{float(expected):.{digits}g}", f"{float(actual):.{digits}g}"
        if e != a:
            return e, a
    return e, a


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
    __tracebackhide__ = True
    actual = as_numpy(actual)
    if actual is None:
        fail(f"{name}: expected numbers, got None (did you forget a `return`?)")
    if isinstance(actual, str | bytes):
        fail(f"{name}: expected numbers, got the string {actual!r}")
    if np.iscomplexobj(actual):
        fail(f"{name}: expected real numbers, got complex values")
    try:
        return np.asarray(actual, dtype=float)
    except (TypeError, ValueError) as exc:
        fail(
            f"{name}: expected an array of numbers, got {_type_name(actual)} "
            f"that cannot be converted to floats ({exc})"
        )


def _shape_of(actual: Any) -> tuple[int, ...] | None:
    actual = as_numpy(actual)
    try:
        return tuple(np.shape(actual))
    except (TypeError, ValueError):  # ragged nested lists
        return None


# --------------------------------------------------------------------------- assertions


def fail(message: str) -> None:
    """Raise ``AssertionError(message)``, naming a known mistake when the cell's calls match one."""
    __tracebackhide__ = True
    raise AssertionError(message + diagnosis.explain(_RECORD)) from None


def assert_that(condition: bool, message: str) -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds (works under ``python -O``)."""
    __tracebackhide__ = True
    if not condition:
        fail(message)


def unpack(result: Any, n: int, name: str) -> Any:
    """``result`` if it is a tuple (or list) of ``n`` items, as a function returning several values
    gives them; else a failure saying what ``name`` returned instead."""
    __tracebackhide__ = True
    got = f"{len(result)} items" if isinstance(result, tuple | list) else _type_name(result)
    assert_that(isinstance(result, tuple | list) and len(result) == n, f"{name} must return a tuple of {n} items, got {got}")
    return result


def assert_shape(actual: Any, expected_shape: Sequence[int], name: str = "output") -> None:
    """Check that ``actual`` is array-like with exactly ``expected_shape``."""
    __tracebackhide__ = True
    expected = tuple(int(s) for s in expected_shape)
    if actual is None:
        fail(
            f"{name}: expected an array of shape {_fmt_index(expected)}, got None "
            "(did you forget a `return`?)"
        )
    shape = _shape_of(actual)
    if shape is None:
        fail(
            f"{name}: expected an array of shape {_fmt_index(expected)}, got a ragged "
            f"{_type_name(actual)} without a shape"
        )
    if shape != expected:
        hint = ""
        if len(shape) == len(expected) + 1 and 1 in shape:
            hint = " (an extra axis of length 1: return a 1-D array, e.g. with .ravel())"
        elif len(shape) == 2 and shape[::-1] == expected:
            hint = " (rows and columns swapped: a missing or extra transpose?)"
        fail(
            f"{name}: shape mismatch: expected shape {_fmt_index(expected)}, "
            f"got {_fmt_index(shape)}{hint}"
        )


def assert_dtype(actual: Any, kind: str, name: str = "output") -> None:
    """Check the dtype kind of an array: ``"f"`` floating, ``"i"`` integer, ``"b"`` boolean."""
    __tracebackhide__ = True
    kinds = {"f": "floating-point", "i": "integer", "b": "boolean"}
    if kind not in kinds:
        raise ValueError(f"kind must be one of {sorted(kinds)}, got {kind!r}")
    dtype = np.asarray(as_numpy(actual)).dtype
    ok = dtype.kind in ("iu" if kind == "i" else kind)
    if not ok:
        fail(f"{name}: expected a {kinds[kind]} array, got dtype {dtype}")


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    name: str = "output",
    check_dtype: bool = True,
) -> None:
    """Check ``|actual - expected| <= atol + rtol * |expected|`` element-wise.

    Order of checks: convertible to float, shape, precision (a float32/float16 array where
    float64 is expected fails, unless ``check_dtype=False``), NaN/inf, values. The value message names
    the worst element (largest error relative to the tolerance), e.g.
    ``fit(X): max relative error 2.3e-01 at index (3,): expected 0.52, got 0.64 (rtol=1e-06,
    atol=1e-08); 2 of 5 values out of tolerance, max abs error 1.2e-01``.
    """
    __tracebackhide__ = True
    actual, expected = as_numpy(actual), as_numpy(expected)
    exp = np.asarray(expected, dtype=float)
    assert_shape(actual, exp.shape, name=name)
    act = _as_float_array(actual, name)
    if check_dtype and np.asarray(expected).dtype == np.float64:
        dtype = getattr(actual, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            fail(f"{name}: expected float64 values, got dtype {dtype} (float32 loses about half the "
                 "digits: keep the computation in float64, no .astype(np.float32) or float32 constants)")

    bad_finite = ~np.isfinite(act) & ~((act == exp) | (np.isnan(act) & np.isnan(exp)))
    if bad_finite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        what = "NaN" if np.isnan(act[idx]) else "inf"
        where = f" at index {_fmt_index(idx)}" if act.ndim else ""
        fail(
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
    shown_e, shown_a = _fmt_pair(e, a)
    fail(
        f"{name}: max relative error {rel:.1e}{where}: expected {shown_e}, "
        f"got {shown_a} (rtol={rtol:.0e}, atol={atol:.0e}){count}, "
        f"max abs error {float(np.max(np.where(bad, err, 0.0))):.1e}"
    )


def assert_scalar(
    actual: Any,
    expected: float | None = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    name: str = "output",
    check_dtype: bool = True,
) -> None:
    """Check that ``actual`` is one real number (float, int, numpy scalar or 0-d array).

    With ``expected`` given, also check it is close to ``expected`` (see ``assert_close``);
    without it, check only that it is a finite number.
    """
    __tracebackhide__ = True
    actual = as_numpy(actual)
    if actual is None:
        fail(f"{name}: expected a number, got None (did you forget a `return`?)")
    if isinstance(actual, bool | np.bool_):
        fail(f"{name}: expected a number, got the boolean {actual!r}")
    if not isinstance(actual, numbers.Real | np.ndarray | np.generic):
        fail(f"{name}: expected a single number, got {_type_name(actual)}")
    shape = np.shape(actual)
    if shape != ():
        fail(
            f"{name}: expected a single number, got an array of shape {_fmt_index(shape)} "
            "(reduce it to one value, e.g. with .mean() or float(...))"
        )
    if expected is None:
        value = _as_float_array(actual, name)
        if not np.isfinite(value):
            fail(f"{name}: expected a finite number, got {float(value)}")
        return
    assert_close(actual, expected, rtol=rtol, atol=atol, name=name, check_dtype=check_dtype)


def assert_array_equal(
    actual: Any,
    expected: Any,
    *,
    name: str = "output",
    integer: bool = True,
) -> None:
    """Exact equality of arrays, e.g. index arrays; with ``integer`` the dtype must be integer."""
    __tracebackhide__ = True
    actual, exp = as_numpy(actual), np.asarray(as_numpy(expected))
    assert_shape(actual, exp.shape, name=name)
    act_raw = np.asarray(actual)
    if act_raw.dtype == object:
        fail(f"{name}: expected an array of numbers, got dtype object")
    if integer and act_raw.dtype.kind not in "iu":
        fail(
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
        fail(
            f"{name}: {int(diff.sum())} of {act.size} entries differ;{where}: "
            f"expected {shown_e!r}, got {shown_a!r}"
        )


def assert_equal_int(actual: Any, expected: int, name: str = "output") -> None:
    """Check that ``actual`` is the integer ``expected`` (a Python or numpy integer)."""
    __tracebackhide__ = True
    if isinstance(actual, bool | np.bool_) or not isinstance(actual, numbers.Integral):
        fail(f"{name}: expected the integer {expected}, got {actual!r}")
    if int(actual) != int(expected):
        fail(f"{name}: expected {expected}, got {int(actual)}")


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
    __tracebackhide__ = True
    opts = list(options)
    if answer is None:
        fail(f"{name}: not answered yet; set it to one of {opts!r}")
    if not any(_same_choice(answer, o) for o in opts):
        fail(f"{name}: must be one of {opts!r}, got {answer!r}")


def assert_answer(
    answer: Any,
    expected: Any,
    *,
    name: str = "answer",
    rtol: float = 1e-3,
    atol: float = 1e-9,
) -> None:
    """Grade a concept check without printing the right answer.

    Strings are compared after ``strip().lower()``; numbers with a tolerance; tuples (a shape, say)
    entry by entry, and ``None`` by identity.
    """
    __tracebackhide__ = True
    if expected is None or isinstance(expected, tuple):
        same = answer is None if expected is None else (
            isinstance(answer, tuple | list) and len(answer) == len(expected)
            and all(_same_choice(a, e) for a, e in zip(answer, expected, strict=True)))
        if not same:
            fail(f"{name}: {answer!r} is not the right answer")
        return
    if isinstance(expected, str):
        if not isinstance(answer, str) or _normalize_choice(answer) != _normalize_choice(expected):
            fail(f"{name}: {answer!r} is not the right answer")
        return
    if isinstance(answer, bool | np.bool_) or not isinstance(answer, numbers.Real | np.generic):
        fail(f"{name}: expected a number, got {answer!r}")
    value = float(answer)
    if not (np.isfinite(value) and abs(value - float(expected)) <= atol + rtol * abs(expected)):
        fail(f"{name}: {answer!r} is not the right answer")


# --------------------------------------------------------------------------- not implemented


def _not_implemented_message(name: str) -> str:
    return (
        f"{name} is not implemented yet: replace `raise NotImplementedError()` "
        "with your code and run its cell again"
    )


class implemented:  # noqa: N801 - used like a function: ``with implemented("fit"):``
    """Turn a ``NotImplementedError`` raised inside the block into a helpful AssertionError."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, tb: Any) -> bool:
        __tracebackhide__ = True
        if kind is not None and issubclass(kind, NotImplementedError):
            fail(_not_implemented_message(self.name))
        return False


# --------------------------------------------------------------------------- calling student code

# (function name, fingerprint) of every call through ``call`` in the current cell; reset before
# each cell (IPython's pre_run_cell) and read by ``fail`` to name a known mistake.
_RECORD: list[tuple[str, str]] = []


def reset_record(*_: Any) -> None:
    """Forget the calls recorded so far (done automatically before every notebook cell)."""
    _RECORD.clear()


def _without_helpers(tb: types.TracebackType | None) -> types.TracebackType | None:
    """The traceback without the frames of these helpers (those with ``__tracebackhide__``)."""
    frames, entry, total = [], tb, 0
    while entry is not None:
        total += 1
        if entry.tb_frame.f_locals.get("__tracebackhide__") is not True:  # IPython marks its own "__ipython_bottom__"
            frames.append(entry)
        entry = entry.tb_next
    if len(frames) == total:
        return tb
    trimmed = None
    for entry in reversed(frames):
        trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return trimmed


def _show_failure(shell: Any, kind: type, error: BaseException, tb: Any, tb_offset: int | None = None) -> list[str]:
    """IPython's display of a failed check: the message first, then the test cell's line."""
    trimmed = _without_helpers(tb)
    lines = shell.InteractiveTB.structured_traceback(kind, error, trimmed, tb_offset=tb_offset)
    if trimmed is not tb and len(lines) > 1:  # raised by these helpers: the message goes first
        lines = [lines[-1], *lines[:-1]]
    shell._showtraceback(kind, error, lines)  # IPython's run_code only calls this handler
    return lines


def _install_ipython_hooks() -> None:
    """Reset the record before every cell, and show failed checks without the helpers' frames."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing resets the record between "cells"
        return
    shell = get_ipython()
    if shell is None or reset_record in shell.events.callbacks.get("pre_run_cell", []):
        return
    shell.events.register("pre_run_cell", reset_record)
    if not shell.custom_exceptions:
        shell.set_custom_exc((AssertionError,), _show_failure)


_install_ipython_hooks()


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) or as_numpy(value) is not value  # numpy, or a torch tensor


def _arrays_in(value: Any) -> list[tuple[str, Any]]:
    """The arrays (numpy or torch) in an argument: itself, or the items of a dict, list or tuple (one level)."""
    if _is_array(value):
        return [("", value)]
    if isinstance(value, dict):
        return [(f"[{k!r}]", v) for k, v in value.items() if _is_array(v)]
    if isinstance(value, list | tuple):
        return [(f"[{i}]", v) for i, v in enumerate(value) if _is_array(v)]
    return []


def _snapshot(array: Any) -> np.ndarray:
    return np.array(as_numpy(array), copy=True)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _global_random_state() -> tuple[Any, ...]:
    state = np.random.get_state()
    return state[0], state[1].tobytes(), state[2], state[3], state[4], random.getstate()


def _observable(fn: Callable[..., Any], name: str, result: Any) -> Any:
    """What a result shows of a student's solution. A numpy layer's cache is the student's own
    business (its backward's results show the rest): ``*forward -> (out, cache)``, or ``f -> (out,
    cache)`` where ``f_backward`` exists, shows ``out``; a longer tuple shows its arrays and numbers
    (``h, c`` of ``lstm_forward -> (h, c, cache)``). A method (``GPT.forward -> (logits, loss)``)
    returns no cache."""
    layer = "." not in name and (name.endswith("forward") or f"{name}_backward" in getattr(fn, "__globals__", {}))
    if not (layer and isinstance(result, tuple)):
        return result
    if len(result) == 2:
        return result[0]
    return tuple(item for item in result if isinstance(as_numpy(item), np.ndarray | numbers.Number))


def _invoke(fn: Callable[..., T], updated: tuple[str, ...], args: tuple, kwargs: dict) -> T:
    __tracebackhide__ = True
    if not callable(fn):
        fail(f"expected a function, got {_type_name(fn)}: {fn!r}")
    name = (getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))).split("<locals>.")[-1]
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):  # wrong arguments: let the call itself raise the clear error
        bound = {f"#{i}": a for i, a in enumerate(args)} | kwargs
    watched = [(arg, where, array, _snapshot(array)) for arg, value in bound.items() if arg not in updated
               for where, array in _arrays_in(value)]
    before = _global_random_state()
    try:
        with implemented(name):
            result = fn(*args, **kwargs)
    except Exception as err:  # raising where the reference does not (or vice versa) is a result too
        _RECORD.append((name, diagnosis.fingerprint(("raised", type(err).__name__))))
        raise
    changed = [(arg, where) for arg, where, array, copy in watched if not _same(_snapshot(array), copy)]
    drew = _global_random_state() != before
    # a draw from the global generator makes the result unrepeatable: the draw itself is the print
    shown = ("drew from the global generator", changed) if drew else (
        _observable(fn, name, result), *(bound[a] for a in updated if a in bound), changed)
    _RECORD.append((name, diagnosis.fingerprint(shown)))
    for arg, where in changed:
        fail(f"{name} changed its argument `{arg}`{where} in place: leave the inputs as they were "
                 f"and compute new arrays (e.g. `d = dout * mask`, not `dout[mask] = 0` or `x -= mean`)")
    if drew:
        fail(f"{name} drew random numbers from the global generator (np.random.* or the random "
             "module): draw every random number from the `rng` it is given, so that the same seed "
             "gives the same result")
    return result


def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call student code as the tests do: ``fn(*args, **kwargs)``, checked.

    A ``NotImplementedError`` becomes "<fn> is not implemented yet"; an argument changed in
    place (arrays, and arrays held in dict/list/tuple arguments) or a draw from the global random
    state fails with a message that says so. Other exceptions propagate unchanged.
    """
    __tracebackhide__ = True
    return _invoke(fn, (), args, kwargs)


def call_updating(fn: Callable[..., T], updated: str | Sequence[str], /, *args: Any, **kwargs: Any) -> T:
    """Like :func:`call` for a function that updates the arguments named in ``updated`` in place
    (e.g. ``call_updating(weight_decay_step, "params", params, grads, 0.1, 0.5, ["W"])``); the
    other arguments must stay unchanged, and the updated ones are part of the fingerprint."""
    __tracebackhide__ = True
    return _invoke(fn, (updated,) if isinstance(updated, str) else tuple(updated), args, kwargs)


def assert_seeded(run: Callable[[np.random.Generator], Any], name: str, *, seed: int = 1234,
                  must_vary: bool = True) -> Any:
    """Check that ``run(rng)`` draws its randomness from ``rng`` only; returns its first result.

    ``run`` calls the student's function (through :func:`call`, which also rejects any draw
    from the global random state) with the generator it is given. The same seed must give the
    same result; with ``must_vary``, another seed must give another result (an ``rng`` that is
    ignored, or a generator of the function's own, fails).
    """
    __tracebackhide__ = True
    first = run(np.random.default_rng(seed))
    again = run(np.random.default_rng(seed))
    if diagnosis.fingerprint(first) != diagnosis.fingerprint(again):
        fail(f"{name}: the same seed gave two different results: draw every random number from "
             "the `rng` argument (not np.random.*, not a new default_rng())")
    if must_vary:
        other = run(np.random.default_rng(seed + 1))
        if diagnosis.fingerprint(first) == diagnosis.fingerprint(other):
            fail(f"{name}: two different seeds gave the same result: is the `rng` argument ignored "
                 "(a generator of your own, or a fixed seed)?")
    return first
