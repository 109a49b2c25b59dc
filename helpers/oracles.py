"""PyTorch as the oracle: run the student's code next to PyTorch's and compare, step by step.

The tests of the optimization chapter (and of later chapters that build optimizers) need the
same loop again and again: build our optimizer and the matching ``torch.optim`` one on the same
start, feed both the same gradients, compare after every step. It lives here, once.

Everything expected comes from PyTorch (``torch.optim``, ``torch.optim.lr_scheduler``,
``torch.optim.swa_utils``); nothing in this module implements a graded function. The student's
code is always called through :func:`helpers.testing.call` (or ``call_updating``), so a gradient
dict changed in place, or a draw from the global random state, fails with a message that says
so, and every step leaves a fingerprint of what the caller observes (the parameter values), which
names a known mistake when a check fails.

Typical use in a hidden test::

    follow_torch_optimizer(Adam, {"lr": 0.01, "betas": (0.8, 0.99)}, torch.optim.Adam)

and in a visible one (no torch needed)::

    run = OptimizerRun(SGD, {"w": np.array([1.0])}, lr=0.1)
    after = run.step({"w": np.array([0.5])})        # a copy of the caller's arrays after the step
    assert_close(after["w"], [0.95], name="w after one SGD step")

``torch`` is imported only by the functions that need it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from helpers.testing import assert_close, assert_scalar, assert_that, call, call_updating, fail

__all__ = [
    "OptimizerRun",
    "follow_torch_ema",
    "follow_torch_optimizer",
    "follow_torch_schedule",
    "sample_gradient",
    "sample_start",
    "snapshot",
    "update_in_place",
]

Array = np.ndarray
GradFn = Callable[[str, Array], Array]

# The parameters the optimizer tests start from: a vector, a non-square matrix, a 3-D array of
# one element (names, shapes and curvatures; the curvature makes each entry's loss different).
_CURVATURE = {"a": np.array([0.5, 2.0, 1.0]), "W": np.linspace(0.2, 3.0, 12).reshape(3, 4),
              "s": np.array([[[1.5]]])}


def sample_start(seed: int = 0) -> dict[str, Array]:
    """A start for the optimizer tests: ``{"a": (3,), "W": (3, 4), "s": (1, 1, 1)}``, N(0, 1)."""
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=c.shape) for name, c in _CURVATURE.items()}


def sample_gradient(name: str, w: Array) -> Array:
    """The gradient of a convex test loss whose minimum lies near 0.5, away from 0 (so that
    weight decay changes the answer): ``c * (w - 0.5) + 0.1 * sin(w)``, per entry."""
    return _CURVATURE[name] * (w - 0.5) + 0.1 * np.sin(w)



def snapshot(arrays: Mapping[str, Array]) -> dict[str, Array]:
    """Copies of the arrays of a dict (what a caller holding those arrays sees now)."""
    return {name: np.array(value, copy=True) for name, value in arrays.items()}


class OptimizerRun:
    """An optimizer under test, built and stepped through :func:`helpers.testing.call`.

    ``OptimizerRun(cls, params, **hyper)`` calls ``cls(params, **hyper)``; ``step(grads)`` calls
    ``optimizer.step(grads)`` (which must leave ``grads`` unchanged) and returns copies of the
    arrays that ``params`` held when the run began: the arrays a model holds, which the optimizer
    must update in place. Replacing an array in the dict instead fails with a message. ``lr``
    reads and sets the optimizer's ``lr`` attribute (the learning rate may change between steps).

    The fingerprint of each call is what the caller observes (nothing for the constructor, the
    parameter values after each step), never the optimizer's private attributes, so a student's
    own attribute names do not hide a known mistake.
    """

    def __init__(self, cls: type, params: dict[str, Array], /, **hyper: Any) -> None:
        self.name = getattr(cls, "__name__", "optimizer")
        self.params = params
        self.arrays = dict(params)  # the caller's arrays, as they were handed over
        built: list[Any] = []

        @functools.wraps(cls, updated=())
        def construct(*args: Any, **kwargs: Any) -> None:
            built.append(cls(*args, **kwargs))

        call(construct, params, **hyper)
        self.optimizer = built[0]
        self.steps = 0

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self.optimizer.lr = value

    def step(self, grads: dict[str, Array]) -> dict[str, Array]:
        """One ``optimizer.step(grads)``; copies of the caller's parameter arrays afterwards."""
        __tracebackhide__ = True
        method = self.optimizer.step

        @functools.wraps(method, updated=())
        def stepped(*args: Any, **kwargs: Any) -> dict[str, Array]:
            method(*args, **kwargs)
            return snapshot(self.arrays)

        after = call(stepped, grads)
        self.steps += 1
        for name, array in self.arrays.items():
            assert_that(self.params.get(name) is array,
                        f"{self.name}.step replaced params[{name!r}] by a new array at step {self.steps}: "
                        "the model still holds the old one. Update it in place (w -= ..., not w = w - ...)")
        return after


def _describe(cls: type, hyper: Mapping[str, Any]) -> str:
    return f"{getattr(cls, '__name__', 'optimizer')}({', '.join(f'{k}={v!r}' for k, v in hyper.items())})"


def follow_torch_optimizer(
    cls: type,
    hyper: Mapping[str, Any],
    torch_cls: type,
    torch_hyper: Mapping[str, Any] | None = None,
    *,
    start: Mapping[str, Array] | None = None,
    grad_fn: GradFn = sample_gradient,
    steps: int = 100,
    scale: float = 1.0,
    lr_change: tuple[float, float] | None = (0.5, 0.3),
    resync: bool = True,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    label: str | None = None,
) -> dict[str, Array]:
    """Run ``cls(params, **hyper)`` next to ``torch_cls(tensors, **torch_hyper)`` and compare.

    Args:
        cls, hyper: our optimizer class and its keyword arguments.
        torch_cls, torch_hyper: the matching ``torch.optim`` class and its keyword arguments
            (default: the same as ``hyper``; e.g. ``{"momentum": 0.9, "nesterov": True}`` where
            the names differ).
        start: name -> float64 array, the start (default :func:`sample_start`); not modified.
        grad_fn: ``grad_fn(name, w) -> gradient`` of the same shape (default :func:`sample_gradient`),
            multiplied by ``scale`` (try 1e-3 and 1e4: an ignored ``eps`` or a wrong
            normalisation shows at one scale and hides at another).
        steps: number of steps.
        lr_change: ``(fraction, factor)``: after ``fraction * steps`` steps both learning rates are
            multiplied by ``factor`` (an optimizer that copied ``lr`` at construction, or folded
            it into its state, goes wrong there); ``None`` keeps them constant.
        resync: True: before each step torch's parameters are set to ours, so that every step
            is compared from the same point with the same gradient (a difference shows at the
            step that makes it); False: both follow their own trajectories and differences compound.
        rtol, atol: the tolerance of the comparison after each step.
        label: how the run is named in failure messages (default: the call, e.g. ``SGD(lr=0.1)``).

    Every call of our code goes through :func:`helpers.testing.call` (see :class:`OptimizerRun`):
    it fails when ``step`` changes the gradient dict it is given, when it replaces a parameter
    array instead of updating it in place, or when the parameters differ from torch's.

    Returns:
        copies of our parameters after the last step.
    """
    __tracebackhide__ = True
    import torch

    torch_hyper = dict(hyper if torch_hyper is None else torch_hyper)
    what = label or _describe(cls, hyper) + (f", gradients x{scale:g}" if scale != 1.0 else "")
    start = sample_start() if start is None else start
    ours = {name: np.array(value, dtype=np.float64, copy=True) for name, value in start.items()}
    theirs = {name: torch.tensor(value.copy(), dtype=torch.float64, requires_grad=True)
              for name, value in ours.items()}
    run = OptimizerRun(cls, ours, **hyper)
    reference = torch_cls(list(theirs.values()), **torch_hyper)
    change_at = None if lr_change is None else int(lr_change[0] * steps)
    after = snapshot(ours)
    for t in range(steps):
        if t == change_at:
            run.lr = run.lr * lr_change[1]
            for group in reference.param_groups:
                group["lr"] = group["lr"] * lr_change[1]
        grads = {name: scale * np.asarray(grad_fn(name, after[name]), dtype=float) for name in ours}
        for name, p in theirs.items():
            if resync:
                with torch.no_grad():
                    p.copy_(torch.from_numpy(after[name]))
            p.grad = torch.from_numpy(grads[name].copy() if resync else
                                      scale * np.asarray(grad_fn(name, p.detach().numpy().copy()), dtype=float))
        after = run.step(grads)
        reference.step()
        for name, p in theirs.items():
            assert_close(after[name], p.detach().numpy(), rtol=rtol, atol=atol,
                         name=f"{what}: params[{name!r}] after step {t + 1} (torch.optim agrees)")
    return after


def follow_torch_schedule(
    fn: Callable[..., float],
    args: Callable[[int], tuple],
    make_scheduler: Callable[[Any], Any],
    lr0: float,
    steps: int,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-14,
    label: str | None = None,
) -> None:
    """Compare a learning-rate schedule ``fn(*args(t))`` with a ``torch.optim.lr_scheduler``.

    ``make_scheduler(optimizer)`` builds the scheduler on an SGD optimizer with learning rate
    ``lr0``; the learning rate torch uses at step ``t = 0, ..., steps - 1`` (read before
    ``scheduler.step()``) must equal ``call(fn, *args(t))``, a Python float.
    """
    __tracebackhide__ = True
    import torch

    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(optimizer)
    name = getattr(fn, "__name__", "schedule")
    for t in range(steps):
        expected = optimizer.param_groups[0]["lr"]
        arguments = args(t)
        value = call(fn, *arguments)
        shown = label or f"{name}{arguments}"
        if not isinstance(value, float):
            fail(f"{shown} should return a Python float, got {type(value).__name__}")
        assert_scalar(value, expected, rtol=rtol, atol=atol, name=f"{shown} (torch: step {t})")
        optimizer.step()
        scheduler.step()


def update_in_place(fn: Callable[..., Any], argument: str, /, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)``, documented to update the arrays of its dict ``argument`` in place.

    Like ``call_updating(fn, argument, ...)`` (every other argument must stay unchanged), and
    also fails when ``fn`` puts new arrays into the dict instead of changing the caller's arrays
    (whoever holds those arrays would not see the update). The call's fingerprint holds the
    caller's arrays' values afterwards, so that mistake can be named too. Returns ``fn``'s result.
    """
    __tracebackhide__ = True
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):  # wrong arguments: let the call raise its own error
        bound = {}
    given = bound.get(argument)
    arrays = {k: v for k, v in given.items() if isinstance(v, np.ndarray)} if isinstance(given, dict) else {}

    @functools.wraps(fn, updated=())
    def updating(*a: Any, **k: Any) -> tuple[Any, dict[str, Array]]:
        return fn(*a, **k), snapshot(arrays)

    result, _ = call_updating(updating, argument, *args, **kwargs)
    name = getattr(fn, "__name__", "the function")
    for key, array in arrays.items():
        assert_that(given.get(key) is array,
                    f"{name} replaced {argument}[{key!r}] by a new array: update the caller's arrays in "
                    "place (a *= ..., a += ..., a[...] = ...), so that whoever holds them sees the change")
    return result


def follow_torch_ema(
    ema_update: Callable[..., Any],
    decay: float,
    *,
    shapes: Mapping[str, Sequence[int]] | None = None,
    steps: int = 30,
    seed: int = 0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> dict[str, Array]:
    """Compare ``ema_update(avg, params, decay)`` with ``torch.optim.swa_utils.AveragedModel``.

    The parameters follow a random walk for ``steps`` steps (from ``np.random.default_rng(seed)``).
    Torch's ``AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))`` copies the
    parameters at its first update and averages from then on; so does the caller here: ``avg``
    starts as a copy of the first parameters, and every later step calls
    ``update_in_place(ema_update, "avg", avg, params, decay)`` (``avg``'s arrays must be updated
    in place, ``params`` left unchanged) and compares ``avg`` with torch's averaged parameters.

    Returns:
        copies of the average after the last step.
    """
    __tracebackhide__ = True
    import torch
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    shapes = dict(shapes or {"W": (3, 4), "b": (4,), "s": (1,)})
    rng = np.random.default_rng(seed)
    model = torch.nn.Module()
    for name, shape in shapes.items():
        model.register_parameter(name, torch.nn.Parameter(torch.zeros(tuple(shape), dtype=torch.float64)))
    averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    params = {name: rng.normal(size=tuple(shape)) for name, shape in shapes.items()}
    avg: dict[str, Array] = {}
    for t in range(steps):
        if t:
            params = {name: p + rng.normal(size=p.shape) for name, p in params.items()}
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(torch.from_numpy(params[name]))
        averaged.update_parameters(model)
        expected = {name.removeprefix("module."): p.detach().numpy().copy()
                    for name, p in averaged.named_parameters()}
        if t == 0:
            avg = snapshot(params)
            continue
        update_in_place(ema_update, "avg", avg, params, decay)
        for name in shapes:
            assert_close(avg[name], expected[name], rtol=rtol, atol=atol,
                         name=f"avg[{name!r}] after {t + 1} steps of an EMA with decay={decay} "
                              "(torch.optim.swa_utils.AveragedModel agrees)")
    return snapshot(avg)
