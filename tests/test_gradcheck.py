"""Tests for helpers.gradcheck, against torch autograd."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import helpers.testing
from helpers.gradcheck import (
    GradientCheckResult,
    assert_gradient_close,
    compare_gradients,
    gradient_check,
    numerical_gradient,
    numerical_gradient_array,
    relative_error,
)

FAST = settings(max_examples=25, deadline=None)


@pytest.fixture(autouse=True)
def _no_recorded_calls():
    """assert_gradient_close fails through helpers.testing.fail: start every test without records."""
    helpers.testing.reset_record()
    yield
    helpers.testing.reset_record()
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
values = st.floats(-2.0, 2.0, allow_nan=False, width=64)
arrays = shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=values))

# smooth scalar functions written once for torch; numpy calls go through torch too
SMOOTH: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sum_sin_sq": lambda t: (torch.sin(t) ** 2).sum(),
    "logsumexp": lambda t: torch.logsumexp(t.reshape(-1), 0),
    "tanh_dot": lambda t: (torch.tanh(t) * t.cos()).sum() + (t**3).mean(),
}


def torch_grad(fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray) -> np.ndarray:
    t = torch.tensor(x, requires_grad=True)
    fn(t).backward()
    return t.grad.numpy()


def as_numpy(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[np.ndarray], float]:
    return lambda a: fn(torch.from_numpy(a)).item()


@FAST
@given(x=arrays, name=st.sampled_from(sorted(SMOOTH)))
def test_numerical_gradient_matches_autograd(x: np.ndarray, name: str) -> None:
    original = x.copy()
    numeric = numerical_gradient(as_numpy(SMOOTH[name]), x)
    assert numeric.shape == x.shape and numeric.dtype == np.float64
    np.testing.assert_allclose(numeric, torch_grad(SMOOTH[name], x), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, original)  # restored bit for bit


@FAST
@given(x=arrays, data=st.data())
def test_numerical_gradient_array_matches_autograd(x: np.ndarray, data: st.DataObject) -> None:
    dout = data.draw(hnp.arrays(np.float64, x.shape, elements=values))
    original = x.copy()

    def layer(a: np.ndarray) -> np.ndarray:
        return np.tanh(a) * 2.0 + a**2

    numeric = numerical_gradient_array(layer, x, dout)
    t = torch.tensor(x, requires_grad=True)
    (torch.tanh(t) * 2.0 + t**2).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(numeric, t.grad.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, original)


def test_x_is_perturbed_in_place_and_restored() -> None:
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    seen: list[float] = []

    def f(a: np.ndarray) -> float:
        assert a is x
        seen.append(float(x.sum()))
        return float((x**2).sum())

    numerical_gradient(f, x)
    assert len(seen) == 8 and x.tolist() == [[0.1, 0.2], [0.3, 0.4]]


def test_x_restored_when_f_raises() -> None:
    x = np.array([1.0, 2.0])

    def f(a: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert x.tolist() == [1.0, 2.0]


def test_non_contiguous_view() -> None:
    base = np.arange(12.0).reshape(3, 4)
    view = base[:, ::2]
    grad = numerical_gradient(lambda a: float((a**2).sum()), view)
    np.testing.assert_allclose(grad, 2 * view, rtol=1e-8)
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4))


def test_relative_error() -> None:
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_error(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    # Chapter 02's rel_error: below 1e-12 in size, a difference counts as an absolute one.
    assert relative_error(np.array([1e-300]), np.array([0.0])) == pytest.approx(1e-288)
    assert relative_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1.0)
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_compare_gradients_reports_worst_element() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = a.copy()
    b[1, 0] = 1.0
    result = compare_gradients(a, b)
    assert result == GradientCheckResult(0.5, (1, 0), 3.0, 1.0)
    assert not result.passed(1e-6) and result.passed(0.5)
    b[0, 1] = np.nan
    assert compare_gradients(a, b).index == (0, 1)
    assert not compare_gradients(a, b).passed(1.0)


def test_atol_ignores_round_off_at_zero() -> None:
    assert compare_gradients(np.array([0.0]), np.array([1e-12])).max_relative_error == 1.0
    assert compare_gradients(np.array([0.0]), np.array([1e-12]), atol=1e-10).passed(1e-6)


# --------------------------------------------------------------------------- assert_gradient_close


def matmul_case() -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], float], np.ndarray]:
    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(5, 3)), rng.normal(size=(3, 3))

    def loss(w: np.ndarray) -> float:
        return float(np.sum(np.tanh(X @ w)))

    grad = X.T @ (1 - np.tanh(X @ W) ** 2)
    return X, W, loss, grad


def test_assert_gradient_close_accepts_correct_gradient() -> None:
    _, W, loss, grad = matmul_case()
    before = W.copy()
    result = assert_gradient_close(loss, W, grad, name="W")
    assert result.max_relative_error < 1e-7
    np.testing.assert_array_equal(W, before)


@pytest.mark.parametrize(
    "mistake", [lambda g: 2 * g, lambda g: g.T, lambda g: -g], ids=["x2", "transposed", "sign"]
)
def test_assert_gradient_close_rejects_wrong_gradient(
    mistake: Callable[[np.ndarray], np.ndarray],
) -> None:
    _, W, loss, grad = matmul_case()
    wrong = np.ascontiguousarray(mistake(grad))
    with pytest.raises(AssertionError) as info:
        assert_gradient_close(loss, W, wrong, name="W")
    message = str(info.value)
    result = gradient_check(loss, W, wrong)
    assert message.startswith(
        f"gradient of 'W': max relative error {result.max_relative_error:.1e}"
    )
    assert f"at index {result.index}: analytic {result.analytic:.6g}, numerical" in message
    assert message.endswith("(tolerance 1e-06)")


def test_assert_gradient_close_with_dout() -> None:
    rng = np.random.default_rng(1)
    x, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert_gradient_close(np.sin, x, np.cos(x) * dout, dout=dout, name="x")
    with pytest.raises(AssertionError, match="gradient of 'x'"):
        assert_gradient_close(np.sin, x, np.cos(x), dout=dout)


def test_example_message() -> None:
    x = np.array([0.5])
    with pytest.raises(AssertionError) as info:
        assert_gradient_close(lambda a: float(a[0] ** 2), x, np.array([0.12]), name="b")
    assert str(info.value) == (
        "gradient of 'b': max relative error 7.9e-01 at index (0,): "
        "analytic 0.12, numerical 1 (tolerance 1e-06)"
    )


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize("bad", [np.ones(3, np.float32), np.ones(3, np.int64), [1.0, 2.0, 3.0]])
def test_rejects_non_float64(bad: object) -> None:
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda a: 0.0, bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float64"):
        relative_error(np.ones(3), bad)  # type: ignore[arg-type]


def test_rejects_torch_tensor_with_hint() -> None:
    with pytest.raises(TypeError, match=r"detach\(\)\.double\(\)\.numpy\(\)"):
        numerical_gradient(lambda a: 0.0, torch.ones(2))  # type: ignore[arg-type]


def test_shape_and_value_errors() -> None:
    x = np.ones((2, 3))
    with pytest.raises(
        ValueError, match=r"shape mismatch: analytic has shape \(3, 2\), x has \(2, 3\)"
    ):
        gradient_check(lambda a: float(a.sum()), x, np.ones((3, 2)))
    with pytest.raises(ValueError, match="shape mismatch"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="f must return a scalar"):
        numerical_gradient(lambda a: a * 2, x)
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(2, 3\), dout has \(3,\)"):
        numerical_gradient_array(lambda a: a * 2, x, np.ones(3))
    with pytest.raises(ValueError, match="positive"):
        numerical_gradient(lambda a: 0.0, x, h=0.0)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        numerical_gradient(lambda a: 0.0, x)


# --------------------------------------------------------------------------- built on chapter 02


def test_importing_the_module_does_not_import_chapter_02():
    """Every grading kernel imports helpers.gradcheck; a chapter-02 kernel cannot see dllib.ch02_backprop."""
    code = "import sys, helpers.gradcheck; print('dllib.ch02_backprop' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_central_difference_and_relative_error_are_chapter_02s(monkeypatch) -> None:
    import dllib.ch02_backprop as ch02

    seen: list[str] = []

    def numeric_grad(f, x, h=1e-5):
        seen.append("numeric_grad")
        return np.full(x.shape, 7.0)

    def rel_error(a, b):
        seen.append("rel_error")
        return 0.25

    monkeypatch.setattr(ch02, "numeric_grad", numeric_grad)
    monkeypatch.setattr(ch02, "rel_error", rel_error)
    assert numerical_gradient(lambda a: 0.0, np.ones(2)).tolist() == [7.0, 7.0]
    assert relative_error(np.ones(2), np.zeros(2)) == 0.25
    assert compare_gradients(np.ones(3), np.zeros(3)).max_relative_error == 0.25
    assert seen == ["numeric_grad", "rel_error", "rel_error", "rel_error", "rel_error"]


def test_without_chapter_02_the_error_says_why(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dllib.ch02_backprop", None)
    with pytest.raises(ImportError, match="chapter 02's numeric_grad and rel_error"):
        numerical_gradient(lambda a: 0.0, np.ones(2))
    with pytest.raises(ImportError, match="dllib.ch02_backprop"):
        relative_error(np.ones(2), np.ones(2))


def test_assert_gradient_close_names_a_known_mistake(monkeypatch) -> None:
    """It fails through helpers.testing.fail, which adds the diagnosis of the cell's calls."""
    monkeypatch.setattr(helpers.testing.diagnosis, "explain",
                        lambda record: "\nYour results match a known mistake: forgot the 2.")
    with pytest.raises(AssertionError) as info:
        assert_gradient_close(lambda a: float(a[0] ** 2), np.array([0.5]), np.array([0.5]), name="b")
    assert str(info.value).startswith("gradient of 'b': max relative error 3.3e-01")
    assert str(info.value).endswith("(tolerance 1e-06)\nYour results match a known mistake: forgot the 2.")



def test_array_version_with_outputs_that_all_depend_on_each_input() -> None:
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    numeric = numerical_gradient_array(lambda a: torch.softmax(torch.from_numpy(a), 1).numpy(), x, dout)
    t = torch.tensor(x, requires_grad=True)
    torch.softmax(t, 1).backward(torch.from_numpy(dout))
    np.testing.assert_allclose(numeric, t.grad.numpy(), rtol=1e-7, atol=1e-10)
