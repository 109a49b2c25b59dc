"""The judge's wire format: plain data round-trips exactly; anything else is refused, never guessed."""

from __future__ import annotations

import json
import socket
import struct

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder import wire


def roundtrip(value, other=None):
    tree, buffers = wire.encode(value, other or (lambda v: pytest.fail(f"not plain data: {v!r}")))
    tree = json.loads(json.dumps(tree))  # what travels is JSON
    return wire.Decoder(buffers, lambda body: ("handle", body[0]), lambda body: ("callback", body))(tree)


def decode(tree, buffers=()):
    return wire.Decoder(list(buffers), lambda body: body, lambda body: body)(tree)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
plain = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


@given(plain)
def test_plain_values_round_trip_with_their_exact_types(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("array", [np.arange(6.0).reshape(2, 3), np.zeros((0, 4), np.int32), np.array(3.5),
                                   np.ones((2, 2), bool), np.arange(10, dtype=np.uint8)[::3],
                                   np.array([1 + 2j], np.complex64), np.arange(4.0).astype(">f8")])
def test_arrays_round_trip_as_base_ndarrays(array):
    back = roundtrip(array)
    assert type(back) is np.ndarray and back.shape == array.shape and back.dtype == array.dtype.newbyteorder("=")
    assert np.array_equal(back, array)


def test_subclasses_arrive_as_their_base_values():
    class Liar(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    class Sticky(np.ndarray):
        def __eq__(self, other):
            return np.ones(1, bool)

    class Text(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    back = roundtrip([Liar(2.5), np.arange(3.0).view(Sticky), Text("b"), np.float32(1.5)])
    assert [type(v) for v in back] == [float, np.ndarray, str, np.float32]
    assert back[0] != 3.0 and back[2] != "a"


def test_tensors_generators_and_dtypes_round_trip():
    t = torch.arange(6, dtype=torch.bfloat16).reshape(2, 3)
    g = torch.Generator().manual_seed(3)
    back = roundtrip([t, torch.float64, torch.device("cpu"), g, np.random.default_rng(4), np.float64])
    assert torch.equal(back[0], t) and back[0].dtype == torch.bfloat16
    assert back[1] is torch.float64 and back[2] == torch.device("cpu") and back[5] is np.float64
    assert torch.equal(torch.rand(3, generator=back[3]), torch.rand(3, generator=torch.Generator().manual_seed(3)))
    assert back[4].random() == np.random.default_rng(4).random()


def test_trusted_functions_travel_by_name_and_others_by_reference():
    back = roundtrip([np.mean, torch.nn.Linear, len], other=lambda v: {"n": [v.__module__, v.__qualname__]})
    assert back == [np.mean, torch.nn.Linear, len]
    assert wire.resolve_named("numpy", "mean") is np.mean
    with pytest.raises(wire.WireError):
        wire.resolve_named("os", "system")  # not a package that travels by name
    with pytest.raises(wire.WireError):
        wire.resolve_named("numpy", "<lambda>")


@pytest.mark.parametrize("tree, buffers", [
    ({"a": ["object", [1], 0]}, [b"12345678"]),  # object dtype
    ({"a": ["float64", [2], 0]}, [b"12345678"]),  # buffer shorter than the shape
    ({"a": ["float64", [-1], 0]}, [b""]),
    ({"a": ["float64", [1], 5]}, [b"12345678"]),  # no such buffer
    ({"p": "pickle"}, []),  # an unknown kind
    ({"l": [1], "t": [2]}, []),  # two kinds in one node
    ({"n": ["os", "system"]}, []),
    ({"T": ["float64", [1], 0, "yes"]}, [b"12345678"]),
    ({"G": ["PCG64", {"d": [["state", "nonsense"]]}]}, []),
    ([1, 2], []),  # a bare JSON list is not a value
])
def test_malformed_nodes_are_refused(tree, buffers):
    with pytest.raises(wire.WireError):
        decode(tree, buffers)


def test_deep_nesting_and_huge_messages_are_refused():
    tree: object = 1
    for _ in range(wire.MAX_DEPTH + 5):
        tree = {"l": [tree]}
    with pytest.raises(wire.WireError):
        decode(tree)
    a, b = socket.socketpair()
    a.sendall(struct.pack(">I", 20) + json.dumps({"m": 1, "b": [2**40]}).encode().ljust(20))
    with pytest.raises(wire.WireError):
        wire.receive(b, max_bytes=2**20)


def test_errors_map_to_builtin_exceptions_only():
    assert type(wire.exception_from(["MyError", "ValueError", "Exception"], "bad")) is ValueError
    assert str(wire.exception_from(["MyError", "ValueError"], "bad")) == "MyError: bad"
    assert type(wire.exception_from(["SystemExit", "BaseException"], "bye")) is RuntimeError
    assert type(wire.exception_from("nonsense", None)) is RuntimeError
