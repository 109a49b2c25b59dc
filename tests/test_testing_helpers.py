"""The assertions every test cell uses: pass on good input, say precisely what is wrong otherwise."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from helpers.testing import (
    assert_answer,
    assert_array_equal,
    assert_choice,
    assert_close,
    assert_dtype,
    assert_equal_int,
    assert_scalar,
    assert_seeded,
    assert_shape,
    assert_that,
    call,
    call_updating,
    describe_call,
    implemented,
    unpack,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
float_arrays = arrays(np.float64, array_shapes(min_dims=0, max_dims=3, max_side=5), elements=finite)


class AlwaysEqual:
    """Claims to equal anything: must never pass an assertion."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


def fails(pattern: str):
    return pytest.raises(AssertionError, match=pattern)


# --------------------------------------------------------------------------- assert_close


@settings(max_examples=60, deadline=None)
@given(float_arrays)
def test_assert_close_accepts_equal_arrays_lists_and_tiny_errors(x):
    assert_close(x.copy(), x)
    assert_close(x.tolist(), x)
    assert_close(x * (1 + 1e-9), x, rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(float_arrays, st.data())
def test_assert_close_names_the_worst_element(x, data):
    if x.size == 0:
        return
    flat = data.draw(st.integers(0, x.size - 1))
    index = np.unravel_index(flat, x.shape)
    wrong = x.copy()
    wrong[index] += 1.0 + abs(wrong[index])
    if x.ndim == 0:
        pattern = r"^out: max relative error \S+: expected .*, got .* \(rtol=1e-06, atol=1e-08\)"
    else:
        where = re.escape(str(tuple(int(i) for i in index)))
        pattern = rf"^out: max relative error \S+ at index {where}: expected .*, got .*rtol=1e-06"
    with fails(pattern):
        assert_close(wrong, x, name="out")


def test_assert_close_message_matches_the_documented_example():
    expected = np.array([0.1, 0.2, 0.3, 0.52, 0.5])
    actual = expected.copy()
    actual[3] = 0.64
    message = (
        "fit_ridge(X, y, lam=0.1): max relative error 2.3e-01 at index (3,): expected 0.52, "
        "got 0.64 (rtol=1e-06, atol=1e-08); 1 of 5 values out of tolerance, max abs error 1.2e-01"
    )
    with fails(re.escape(message)):
        assert_close(actual, expected, name="fit_ridge(X, y, lam=0.1)")


@pytest.mark.parametrize(
    ("actual", "pattern"),
    [
        (np.zeros((2, 3)), r"^w: shape mismatch: expected shape \(3, 2\), got \(2, 3\) \(rows and columns swapped"),
        (np.zeros((3, 2, 1)), r"shape mismatch: expected shape \(3, 2\), got \(3, 2, 1\) \(an extra axis"),
        (np.zeros(6), r"shape mismatch: expected shape \(3, 2\), got \(6,\)"),
        (None, r"^w: expected an array of shape \(3, 2\), got None \(did you forget a `return`\?\)"),
        ([[0, 0], [0, 0], [0]], r"ragged"),
        (np.array([[np.nan, 0], [0, 0], [0, 0]]), r"^w: got NaN at index \(0, 0\) where 0 was expected"),
        (np.array([[0, 0], [0, np.inf], [0, 0]]), r"^w: got inf at index \(1, 1\)"),
        (np.array([[0, 0], [0, 0], [0, 1j]]), r"^w: expected real numbers, got complex values"),
    ],
)
def test_assert_close_explains_bad_outputs(actual, pattern):
    with fails(pattern):
        assert_close(actual, np.zeros((3, 2)), name="w")


def test_assert_close_checks_shape_before_values_and_nan_before_values():
    with fails("shape mismatch"):
        assert_close(np.full(4, np.nan), np.zeros(3))
    with fails("NaN"):
        assert_close([np.nan, 5.0], [0.0, 0.0])


def test_assert_close_tolerances_and_special_values():
    assert_close([1.0, 2.0], [1.0 + 1e-7, 2.0], rtol=1e-6)
    with fails("rtol=1e-09"):
        assert_close([1.0, 2.0], [1.0 + 1e-7, 2.0], rtol=1e-9, atol=0)
    assert_close([0.0], [1e-9])  # atol covers it
    with fails("at index"):
        assert_close([0.0], [1e-9], atol=0)
    assert_close([np.inf, -np.inf, np.nan], [np.inf, -np.inf, np.nan])  # matching specials
    with fails("got inf"):
        assert_close([np.inf], [-np.inf])
    with fails("expected nan, got 1"):
        assert_close([1.0], [np.nan])


def test_an_object_equal_to_everything_cannot_pass():
    for check in (
        lambda: assert_close(AlwaysEqual(), 1.0),
        lambda: assert_close([AlwaysEqual(), AlwaysEqual()], [1.0, 2.0]),
        lambda: assert_scalar(AlwaysEqual(), 1.0),
        lambda: assert_array_equal(AlwaysEqual(), np.arange(3)),
        lambda: assert_array_equal(np.array([AlwaysEqual()] * 3, dtype=object), np.arange(3)),
        lambda: assert_equal_int(AlwaysEqual(), 3),
        lambda: assert_answer(AlwaysEqual(), "b"),
        lambda: assert_answer(AlwaysEqual(), 768),
        lambda: assert_choice(AlwaysEqual(), ["a", "b"]),
    ):
        with fails("."):
            check()


def test_an_ndarray_subclass_with_a_lying_eq_is_compared_by_value():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, dtype=bool)

    liar = np.array([1.0, 2.0]).view(Liar)
    with fails("at index"):
        assert_close(liar, [5.0, 6.0])
    with fails("entries differ"):
        assert_array_equal(np.array([1, 2]).view(Liar), [5, 6])


# --------------------------------------------------------------------------- shapes and dtypes


@settings(max_examples=40, deadline=None)
@given(array_shapes(min_dims=0, max_dims=4, max_side=4))
def test_assert_shape_accepts_the_right_shape(shape):
    assert_shape(np.zeros(shape), shape)
    assert_shape(np.zeros(shape).tolist(), list(shape))


def test_assert_shape_messages():
    with fails(r"^w: shape mismatch: expected shape \(3,\), got \(4,\)$"):
        assert_shape(np.zeros(4), (3,), name="w")
    with fails(r"^output: expected an array of shape \(\), got None"):
        assert_shape(None, ())
    with fails(r"expected shape \(2,\), got \(\)"):
        assert_shape(1.0, (2,))


def test_assert_dtype():
    assert_dtype(np.zeros(2), "f")
    assert_dtype(np.arange(2), "i")
    assert_dtype(np.arange(2, dtype=np.uint8), "i")
    assert_dtype(np.zeros(2, dtype=bool), "b")
    with fails(r"^Phi: expected a floating-point array, got dtype int64$"):
        assert_dtype(np.arange(2, dtype=np.int64), "f", name="Phi")
    with pytest.raises(ValueError):
        assert_dtype(np.zeros(2), "x")


# --------------------------------------------------------------------------- scalars


@settings(max_examples=40, deadline=None)
@given(finite)
def test_assert_scalar_accepts_python_numpy_and_0d_numbers(value):
    for form in (value, np.float64(value), np.array(value)):
        assert_scalar(form, value, rtol=1e-6, atol=1e-6)
    assert_scalar(np.float32(value), value, rtol=1e-6, atol=1e-6, check_dtype=False)
    with fails("expected float64 values, got dtype float32"):
        assert_scalar(np.float32(value), value)
    assert_scalar(value)


def test_assert_scalar_messages():
    with fails(r"^mse: expected a single number, got an array of shape \(1,\)"):
        assert_scalar(np.array([0.5]), 0.5, name="mse")
    with fails(r"^mse: expected a number, got None \(did you forget a `return`\?\)"):
        assert_scalar(None, 0.5, name="mse")
    with fails(r"^mse: expected a number, got the boolean True"):
        assert_scalar(True, 1.0, name="mse")
    with fails(r"^mse: expected a single number, got str"):
        assert_scalar("0.5", 0.5, name="mse")
    with fails(r"^mse: expected a single number, got list"):
        assert_scalar([0.5], 0.5, name="mse")
    with fails(r"^mse: max relative error 2.5e-01: expected 0.4, got 0.5"):
        assert_scalar(0.5, 0.4, name="mse")
    with fails(r"^mse: expected a finite number, got nan"):
        assert_scalar(float("nan"), name="mse")
    with fails(r"^mse: got NaN where 0.4 was expected"):
        assert_scalar(float("nan"), 0.4, name="mse")


# --------------------------------------------------------------------------- exact arrays


@settings(max_examples=40, deadline=None)
@given(arrays(np.int64, array_shapes(max_dims=2, max_side=6), elements=st.integers(-50, 50)))
def test_assert_array_equal_accepts_equal_integer_arrays(x):
    assert_array_equal(x.copy(), x)
    assert_array_equal(x.astype(np.int32), x)


def test_assert_array_equal_messages():
    with fails(r"^folds: 1 of 3 entries differ; first at index \(2,\): expected 3, got 4$"):
        assert_array_equal(np.array([1, 2, 4]), np.array([1, 2, 3]), name="folds")
    with fails(r"^folds: expected integer indices, got dtype float64"):
        assert_array_equal(np.array([1.0, 2.0, 3.0]), np.array([1, 2, 3]), name="folds")
    with fails(r"^folds: shape mismatch: expected shape \(3,\), got \(2,\)"):
        assert_array_equal(np.array([1, 2]), np.array([1, 2, 3]), name="folds")
    with fails(r"expected an array of shape \(3,\), got None"):
        assert_array_equal(None, np.array([1, 2, 3]))
    assert_array_equal(np.array([0.5, 1.5]), np.array([0.5, 1.5]), integer=False)
    with fails("entries differ"):
        assert_array_equal(np.array([0.5, 1.5]), np.array([0.5, 1.25]), integer=False)


def test_assert_equal_int():
    assert_equal_int(3, 3)
    assert_equal_int(np.int64(3), 3)
    with fails(r"^number of folds: expected 3, got 4$"):
        assert_equal_int(4, 3, name="number of folds")
    with fails(r"^k: expected the integer 3, got 3.0$"):
        assert_equal_int(3.0, 3, name="k")
    with fails("expected the integer 1, got True"):
        assert_equal_int(True, 1)


# --------------------------------------------------------------------------- concept checks


def test_assert_choice():
    assert_choice("b", "abcd")
    assert_choice(" B ", ["a", "b"], name="q1")
    with fails(r"^q1: not answered yet; set it to one of \['a', 'b', 'c', 'd'\]$"):
        assert_choice(None, "abcd", name="q1")
    with fails(r"^q1: must be one of \['a', 'b', 'c', 'd'\], got 'e'$"):
        assert_choice("e", "abcd", name="q1")
    with fails("must be one of"):
        assert_choice(2, "abcd", name="q1")


def test_assert_answer_grades_without_revealing_the_answer():
    assert_answer(" B", "b", name="q2")
    assert_answer(768, 768)
    assert_answer(np.int64(768), 768)
    assert_answer(1.6000001, 1.6)
    for wrong in ("a", 767, 1.7):
        with pytest.raises(AssertionError) as info:
            assert_answer(wrong, "b" if isinstance(wrong, str) else 768, name="q2")
        assert str(info.value) == f"q2: {wrong!r} is not the right answer"
    with fails(r"^q5: expected a number, got 'x'$"):
        assert_answer("x", 1.6, name="q5")
    with fails(r"expected a number, got True"):
        assert_answer(True, 1.0)
    with fails("is not the right answer"):
        assert_answer(float("nan"), 1.6)


# --------------------------------------------------------------------------- not implemented


def test_call_turns_not_implemented_into_a_helpful_assertion():
    def mse(a, b):
        raise NotImplementedError()

    with fails(r"^mse is not implemented yet: replace `raise NotImplementedError\(\)` with your code"):
        call(mse, 1, 2)
    assert call(lambda a, *, b: a + b, 1, b=2) == 3
    with pytest.raises(ZeroDivisionError):  # other errors pass through unchanged
        call(lambda: 1 / 0)
    with fails(r"expected a function, got int"):
        call(3)


def test_implemented_context_manager():
    with fails(r"^fit_ridge is not implemented yet"), implemented("fit_ridge"):
        raise NotImplementedError
    with implemented("fit_ridge"):
        pass
    with pytest.raises(KeyError), implemented("fit_ridge"):
        raise KeyError("x")


def test_assert_that_and_describe_call():
    assert_that(True, "never shown")
    with fails("^custom message$"):
        assert_that(False, "custom message")
    label = describe_call("fit_ridge", np.zeros((5, 3)), np.zeros(5, dtype=np.int32), lam=0.1)
    assert label == "fit_ridge(<float64 (5, 3)>, <int32 (5,)>, lam=0.1)"
    assert describe_call("f", np.float64(2.0), fn=np.mean) == "f(np.float64(2.0), fn=mean)"
    assert describe_call("f", "x" * 100).endswith("...)")


# --------------------------------------------------------------------------- what call() rejects


def test_call_rejects_a_function_that_changes_its_arguments_in_place():
    def centre(x):
        x -= x.mean()
        return x

    def relu_backward(dout, x):
        dout[x <= 0] = 0
        return dout

    def scale_all(weights):
        weights["W"] *= 2
        return weights["W"]

    with fails(r"^centre changed its argument `x` in place"):
        call(centre, np.arange(3.0))
    with fails(r"^relu_backward changed its argument `dout` in place"):
        call(relu_backward, np.ones(3), np.array([-1.0, 0.0, 1.0]))
    with fails(r"changed its argument `weights`\['W'\] in place"):
        call(scale_all, {"W": np.ones(2)})
    x = np.arange(3.0)
    assert_close(call(lambda x: x - x.mean(), x), [-1.0, 0.0, 1.0])
    assert_close(x, [0.0, 1.0, 2.0])


def test_call_updating_allows_only_the_named_arguments_to_change():
    def step(params, grads, lr):
        for k, w in params.items():
            w -= lr * grads[k]

    def sloppy_step(params, grads, lr):
        for k, w in params.items():
            grads[k] *= lr
            w -= grads[k]

    params = {"w": np.ones(2)}
    call_updating(step, "params", params, {"w": np.ones(2)}, 0.5)
    assert_close(params["w"], [0.5, 0.5])
    with fails(r"^sloppy_step changed its argument `grads`\['w'\] in place"):
        call_updating(sloppy_step, ("params",), {"w": np.ones(2)}, {"w": np.ones(2)}, 0.5)


def test_call_rejects_draws_from_the_global_random_state():
    import random

    def noisy(x, rng):
        return x + np.random.normal(size=x.shape)

    def python_random(x, rng):
        return x + random.random()

    for fn in (noisy, python_random):
        with fails(rf"^{fn.__name__} drew random numbers from the global generator"):
            call(fn, np.zeros(2), np.random.default_rng(0))
    assert call(lambda x, rng: x + rng.normal(), 1.0, np.random.default_rng(0)) != 1.0


def test_assert_seeded_needs_the_given_rng_and_only_it():
    def good(x, rng):
        return x * (rng.random(x.shape) > 0.5)

    def own_generator(x, rng):
        return x * (np.random.default_rng().random(x.shape) > 0.5)

    def fixed_seed(x, rng):
        return x * (np.random.default_rng(0).random(x.shape) > 0.5)

    x = np.ones(50)
    out = assert_seeded(lambda rng: call(good, x, rng), "good")
    assert out.shape == (50,)
    with fails(r"^own_generator: the same seed gave two different results"):
        assert_seeded(lambda rng: call(own_generator, x, rng), "own_generator")
    with fails(r"^fixed_seed: two different seeds gave the same result"):
        assert_seeded(lambda rng: call(fixed_seed, x, rng), "fixed_seed")
    assert_seeded(lambda rng: call(fixed_seed, x, rng), "fixed_seed", must_vary=False)


def test_assert_close_names_a_float32_result_where_float64_is_expected():
    with fails(r"^out: expected float64 values, got dtype float32"):
        assert_close(np.ones(3, dtype=np.float32), np.ones(3), name="out")
    assert_close(np.ones(3, dtype=np.float32), np.ones(3), check_dtype=False)
    assert_close(np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32))
    assert_close([1, 2], [1.0, 2.0])  # integers and lists are fine


def test_messages_show_enough_digits_to_see_the_difference():
    with fails(r"expected 24\.43031, got 24\.43032 "):
        assert_close(24.43032, 24.43031, rtol=1e-9)
    with fails(r"expected 1\.0000000001, got 1\.0000000002 "):
        assert_close(np.array([1.0000000002]), [1.0000000001], rtol=1e-12, atol=0)


def test_failures_name_a_known_mistake_from_the_record(monkeypatch):
    import helpers.diagnosis as diagnosis
    import helpers.testing as testing

    def double(x):
        return 2 * x

    testing.reset_record()
    call(double, np.ones(2))
    (name, print_), = testing._RECORD
    assert name == "double"
    table = {"test_double": {"calls": [name], "reference": ["ref"],
                             "mistakes": [{"why": "doubles instead of halving", "seen": 1, "differs": {"0": print_}}]}}
    monkeypatch.setattr(diagnosis, "tables", lambda: (table,))
    with fails(r"^halve\(x\): wrong\nYour results match a known mistake: doubles instead of halving\.$"):
        assert_that(False, "halve(x): wrong")
    testing.reset_record()
    with fails(r"^halve\(x\): wrong$"):
        assert_that(False, "halve(x): wrong")


def test_the_record_keeps_what_a_result_shows_not_how_it_is_stored():
    import helpers.testing as testing

    def relu_forward(x):
        return np.maximum(x, 0), (x,)

    def own_cache_relu_forward(x):
        return np.maximum(x, 0), {"mask": x > 0}

    def strict(x):
        raise ValueError("no")

    def lstm_forward(x, c_scale=2.0):  # outputs (h, c) and a cache
        return np.tanh(x), c_scale * x, (x, np.tanh(x))

    def own_cache_lstm_forward(x):
        return np.tanh(x), 2.0 * x, {"gates": [x]}

    reference, student = {}, {}  # two notebooks, each with reparameterize and its backward
    exec("def reparameterize(x): return 2 * x, (x, 2.0)\ndef reparameterize_backward(dz, cache): ...", reference)
    exec("def reparameterize(x): return 2 * x, {'std': 2.0}\ndef reparameterize_backward(dz, cache): ...", student)

    testing.reset_record()
    x = np.array([-1.0, 2.0])
    call(relu_forward, x)
    call(own_cache_relu_forward, x)
    with pytest.raises(ValueError):
        call(strict, x)
    call(lstm_forward, x)
    call(own_cache_lstm_forward, x)
    call(lstm_forward, x, 3.0)
    call(reference["reparameterize"], x)
    call(student["reparameterize"], x)
    (_, a), (_, b), (_, c), (_, d), (_, e), (_, f), (_, g), (_, h) = testing._RECORD
    assert a == b != c  # the same output whatever the cache; raising is a result of its own
    assert d == e != f  # (h, c, cache): h and c count
    assert g == h  # a function with a backward (reparameterize_backward) returns a cache too

    def module(loss):
        class GPT:
            def forward(self, idx):
                return idx, loss
        return GPT()

    testing.reset_record()
    call(module(2.5).forward, x)
    call(module(3.5).forward, x)
    (name, a), (_, b) = testing._RECORD
    assert name == "GPT.forward" and a != b  # a module's (logits, loss): the loss counts


def test_torch_tensors_are_checked_like_arrays():
    """The PyTorch notebooks pass tensors (with grad, float32, 0-d) to the same assertions and to call."""
    import torch

    x = torch.randn(3, requires_grad=True)
    assert_close(x * 2, (x * 2).detach(), name="twice")
    assert_scalar(torch.tensor(1.5), 1.5, name="loss", check_dtype=False)
    assert_shape(torch.zeros(2, 3), (2, 3))
    with pytest.raises(AssertionError, match="max relative error"):
        assert_close(torch.ones(2), torch.full((2,), 2.0), name="ones")

    def grows(t):
        t.add_(1)
        return t

    with pytest.raises(AssertionError, match="changed its argument `t` in place"):
        call(grows, torch.zeros(2))
    with pytest.raises(AssertionError, match=r"changed its argument `ts`\[0\] in place"):
        call(lambda ts: grows(ts[0]), [torch.zeros(2)])


def test_assert_answer_compares_tuples_entry_by_entry_and_none_by_identity():
    assert_answer((5, 4, 3), (5, 4, 3))
    assert_answer([5, 4, 3], (5, 4, 3))
    assert_answer(None, None)
    for wrong in [(5, 3, 4), (5, 4), "(5, 4, 3)", None, (5.5, 4, 3)]:
        with pytest.raises(AssertionError, match="is not the right answer"):
            assert_answer(wrong, (5, 4, 3))
    with pytest.raises(AssertionError, match="is not the right answer"):
        assert_answer((), None)


def test_unpack_returns_the_items_and_names_what_came_back_instead():
    assert unpack((1, 2), 2, "f(x)") == (1, 2)
    assert unpack([1, 2, 3], 3, "f(x)") == [1, 2, 3]
    with pytest.raises(AssertionError, match=r"f\(x\) must return a tuple of 2 items, got 3 items"):
        unpack((1, 2, 3), 2, "f(x)")
    with pytest.raises(AssertionError, match="got ndarray"):
        unpack(np.zeros(2), 2, "f(x)")
    with pytest.raises(AssertionError, match="got None"):
        unpack(None, 2, "f(x)")
