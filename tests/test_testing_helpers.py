"""The assertions every test cell uses: pass on good input, say precisely what is wrong otherwise."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from helpers.testing import (
    assert_array_equal,
    assert_choice,
    assert_close,
    assert_scalar,
    assert_shape,
    call,
)

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(arrays(np.float64, array_shapes(max_dims=3, max_side=5), elements=finite))
def test_assert_close_accepts_equal_arrays_and_names_the_worst_element(x):
    assert_close(x.copy(), x)
    if x.size:
        wrong = x.copy()
        index = np.unravel_index(x.size - 1, x.shape)
        wrong[index] += 1.0 + abs(wrong[index])
        with pytest.raises(AssertionError, match=r"out: max relative error .* at index"):
            assert_close(wrong, x, name="out")


@pytest.mark.parametrize(
    ("actual", "pattern"),
    [
        (np.zeros((2, 3)), r"shape|\(3, 2\)"),
        (np.array([[np.nan, 0, 0], [0, 0, 0]]).T, "NaN"),
        (None, "None"),
        ("text", "number|numeric|float|shape"),
    ],
)
def test_assert_close_explains_bad_outputs(actual, pattern):
    with pytest.raises(AssertionError, match=pattern):
        assert_close(actual, np.zeros((3, 2)))


def test_an_object_equal_to_everything_cannot_pass():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for check in (lambda: assert_close(AlwaysEqual(), 1.0), lambda: assert_scalar(AlwaysEqual(), 1.0),
                  lambda: assert_array_equal(AlwaysEqual(), np.arange(3))):
        with pytest.raises(AssertionError):
            check()


def test_shape_choice_and_not_implemented_messages():
    with pytest.raises(AssertionError, match=r"w: shape mismatch: expected shape \(3,\), got \(4,\)"):
        assert_shape(np.zeros(4), (3,), name="w")
    with pytest.raises(AssertionError, match="not answered yet"):
        assert_choice(None, "abcd", name="q1")
    with pytest.raises(AssertionError, match="must be one of"):
        assert_choice("e", "abcd", name="q1")
    assert_choice("b", "abcd")

    def mse(a, b):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="mse"):
        call(mse, 1, 2)
    with pytest.raises(AssertionError, match=r"expected 3, got|not equal|index"):
        assert_array_equal(np.array([1, 2, 4]), np.array([1, 2, 3]), name="folds")
