"""Plain data between the judge and a student's kernel: no pickle, no eval, bounded sizes.

A message is a JSON tree plus raw byte buffers (array contents). Python's scalars (None, bool,
int, float, str) are JSON values; everything else is a one-key object: ``{"t": [...]}`` a tuple,
``{"a": [dtype, shape, buffer]}`` a numpy array, ``{"h": [id, type name, kind]}`` an object that
stays in the kernel (a handle), ``{"k": id}`` a function that stays in the judge (a callback) ...
Decoding checks every node: only the kinds below, numeric dtypes, buffer sizes that match the
shape, bounded depth and size. What does not fit is an error, never a guess.

This file is also sent, as source, into the student's kernel (it cannot import the autograder):
it needs numpy and nothing else of the course; torch is used when it is installed.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_DEPTH = 64
MAX_ITEMS = 2_000_000  # nodes in one message
MAX_HEADER = 64 * 2**20
DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                    "float16", "float32", "float64", "complex64", "complex128"})
TORCH_DTYPES = DTYPES | {"bfloat16"}
SCALARS = (type(None), bool, int, float, str)
BIT_GENERATORS = frozenset({"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"})
# Packages whose modules, functions and classes travel by name: each side uses its own copy.
TRUSTED = frozenset({"numpy", "scipy", "torch", "torchvision", "math", "cmath", "random", "statistics",
                     "itertools", "functools", "operator", "collections", "copy", "builtins", "helpers",
                     "dllib", "sklearn", "matplotlib", "time", "warnings", "typing", "string", "re"})
# Exceptions that end a program rather than report a failure: the other side sees a RuntimeError.
_FATAL = frozenset({"SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException"})


class WireError(ValueError):
    """A message that breaks the protocol (malformed, too large, of a kind not allowed)."""


def _torch():
    import sys

    return sys.modules.get("torch")  # only when the program already uses it: never import it here


def resolve_named(module: Any, qualname: Any) -> Any:
    """This side's own module, function or class ``module.qualname`` of a trusted package."""
    import importlib

    if type(module) is not str or type(qualname) is not str or module.split(".")[0] not in TRUSTED \
            or "<" in qualname or len(module) + len(qualname) > 300:
        raise WireError(f"{str(module)[:60]}.{str(qualname)[:60]} is not something that travels by name")
    try:
        found = importlib.import_module(module)
        for part in filter(None, qualname.split(".")):
            found = getattr(found, part)
    except (ImportError, AttributeError) as err:
        raise WireError(f"{module}.{qualname} is not there: {err}") from None
    return found


def exception_from(names: Any, message: Any) -> BaseException:
    """The exception to raise on this side for one raised on the other: the first built-in
    exception class in its ``names`` (its class's MRO), with the message."""
    import builtins

    if not isinstance(names, list) or not names or not all(type(n) is str for n in names) or type(message) is not str:
        return RuntimeError("malformed error report")
    for name in names:
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException) and name not in _FATAL:
            if name != names[0]:
                message = f"{names[0][:80]}: {message}"
            try:
                return cls(message)
            except Exception:  # e.g. UnicodeDecodeError wants five arguments
                return RuntimeError(f"{names[0][:80]}: {message}")
    return RuntimeError(f"{names[0][:80]}: {message}")


# ----------------------------------------------------------------------------- framing


def send(sock, tree: Any, buffers: list[bytes]) -> None:
    header = json.dumps({"m": tree, "b": [len(b) for b in buffers]}, allow_nan=True).encode()
    sock.sendall(struct.pack(">I", len(header)) + header)
    for buffer in buffers:
        sock.sendall(buffer)


def _read(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 2**22))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(sock, max_bytes: int) -> tuple[Any, list[bytes]]:
    (size,) = struct.unpack(">I", _read(sock, 4))
    if size > MAX_HEADER:
        raise WireError(f"message header of {size} bytes")
    try:
        header = json.loads(_read(sock, size))
        sizes = header["b"]
        tree = header["m"]
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise WireError(f"unreadable message ({type(err).__name__})") from None
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes) or sum(sizes) > max_bytes:
        raise WireError(f"message of more than {max_bytes} bytes")
    return tree, [_read(sock, n) for n in sizes]


# ----------------------------------------------------------------------------- encoding


def _plain_array(a: np.ndarray) -> np.ndarray:
    a = np.ndarray.view(a, np.ndarray)  # subclasses are sent as what they hold
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("="))
    return a if a.flags.c_contiguous else a.copy(order="C")  # (ascontiguousarray would make 0-d arrays 1-d)


class Encoder:
    """Turns a value into (tree, buffers); ``other`` encodes what is not plain data (or raises)."""

    def __init__(self, other: Callable[[Any], dict], sent: list | None = None,
                 register: Callable[[Any], int] | None = None):
        self.other = other
        self.buffers: list[bytes] = []
        self.sent = sent  # lists, dicts and generators sent, in the order the decoder sees them
        self.register = register  # numbers each array and tensor sent, to follow it while the other side keeps it

    def _sent(self, value: Any, node: dict) -> dict:
        ((tag, body),) = node.items()
        if tag in ("a", "T") and self.register is not None:
            body.append(self.register(value))
        elif self.sent is not None:
            self.sent.append(value)
        return node

    def buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value nested too deeply")
        kind = type(value)
        if kind in SCALARS:
            return value
        if isinstance(value, int | float | str) and not isinstance(value, np.generic):  # subclasses: the base value
            return str.__str__(value) if isinstance(value, str) else \
                float.__float__(value) if isinstance(value, float) else int.__int__(value)
        if isinstance(value, complex):
            return {"c": [complex.__complex__(value).real, complex.__complex__(value).imag]}
        if isinstance(value, bytes | bytearray):
            return {"y": self.buffer(bytes(value))}
        if isinstance(value, list | tuple | set | frozenset):
            tag = "l" if isinstance(value, list) else "t" if isinstance(value, tuple) else \
                "s" if isinstance(value, set) else "f"
            node = {tag: [self(v, depth + 1) for v in (list.__iter__(value) if tag == "l" else iter(value))]}
            return self._sent(value, node) if tag == "l" else node
        if isinstance(value, dict):
            return self._sent(value, {"d": [[self(k, depth + 1), self(v, depth + 1)] for k, v in dict.items(value)]})
        if isinstance(value, np.ndarray):
            if value.dtype.name in DTYPES:
                a = _plain_array(value)
                return self._sent(value, {"a": [a.dtype.name, list(a.shape), self.buffer(a.tobytes())]})
            if value.dtype == object:
                return {"o": [list(value.shape), [self(v, depth + 1) for v in value.ravel().tolist()]]}
        if isinstance(value, np.generic) and value.dtype.name in DTYPES:
            return {"g": [value.dtype.name, self.buffer(np.asarray(value).tobytes())]}
        if isinstance(value, np.dtype) and value.name in DTYPES:
            return {"D": value.name}
        if isinstance(value, type) and issubclass(value, np.generic) and np.dtype(value).name in DTYPES:
            return {"S": np.dtype(value).name}
        if isinstance(value, np.random.Generator):  # its state travels; the state it ends in comes back
            bits = value.bit_generator
            if type(bits).__name__ in BIT_GENERATORS:
                sent, self.sent = self.sent, None  # the state's own dicts are not copied back
                try:
                    state = self(bits.state, depth + 1)
                finally:
                    self.sent = sent
                return self._sent(value, {"G": [type(bits).__name__, state]})
        if kind is slice:
            return {"sl": [self(value.start, depth + 1), self(value.stop, depth + 1), self(value.step, depth + 1)]}
        if value is Ellipsis:
            return {"E": 0}
        if kind is range:
            return {"r": [value.start, value.stop, value.step]}
        torch = _torch()
        if torch is not None:
            if isinstance(value, torch.Tensor):
                node = self._sent(value, self.tensor(value, torch))
                if value.is_leaf and value.grad is not None and "T" in node:  # a leaf's .grad travels with it
                    return {"Tg": [node, self.tensor(value.grad, torch)]}
                return node
            if isinstance(value, torch.dtype):
                return {"TD": str(value).removeprefix("torch.")}
            if isinstance(value, torch.device):
                return {"dev": str(value)}
            if isinstance(value, torch.Generator) and value.device.type == "cpu":  # its state; copied back
                return self._sent(value, {"TG": self.buffer(value.get_state().numpy().tobytes())})
        return self.other(value)

    def tensor(self, t, torch) -> dict:
        grad = "graph" if t.requires_grad and t.grad_fn is not None else bool(t.requires_grad)  # "graph": not a leaf
        t = t.detach().to("cpu")
        name = str(t.dtype).removeprefix("torch.")
        if name not in TORCH_DTYPES:
            return self.other(t)
        data = t.contiguous().view(torch.int16) if name == "bfloat16" else t.contiguous()
        a = data.numpy()
        return {"T": [name, list(t.shape), self.buffer(a.tobytes()), grad]}


def encode(value: Any, other: Callable[[Any], dict], sent: list | None = None,
           register: Callable[[Any], int] | None = None) -> tuple[Any, list[bytes]]:
    encoder = Encoder(other, sent, register)
    return encoder(value), encoder.buffers


# ----------------------------------------------------------------------------- decoding


class Decoder:
    """Turns (tree, buffers) back into values; ``handle`` and ``callback`` resolve references."""

    def __init__(self, buffers: list[bytes], handle: Callable[[list], Any], callback: Callable[[Any], Any],
                 arrays: list | None = None, follow: Callable[[int, Any], None] | None = None):
        self.buffers, self.handle, self.callback = buffers, handle, callback
        self.items = 0
        self.arrays = arrays  # decoded lists, dicts and generators, in order (for copy-back), when a list
        self.follow = follow  # receives each numbered array or tensor with its number
        self.graph: list = []  # tensors that were part of a graph on the other side, in order

    def _numbered(self, value: Any, rest: list) -> Any:
        if rest:
            if len(rest) != 1 or type(rest[0]) is not int:
                raise WireError("malformed array number")
            if self.follow is not None:
                self.follow(rest[0], value)
        elif self.arrays is not None:
            self.arrays.append(value)
        return value

    def _buffer(self, index: Any) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise WireError("bad buffer reference")
        return self.buffers[index]

    def _array(self, dtype: Any, shape: Any, index: Any) -> np.ndarray:
        if dtype not in DTYPES or not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError(f"array of dtype {str(dtype)[:20]!r} or shape not allowed")
        data = self._buffer(index)
        if int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize != len(data):
            raise WireError("array buffer does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def __call__(self, node: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise WireError("message nested too deeply or too large")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is not dict or len(node) != 1:
            raise WireError("malformed node")
        ((tag, body),) = node.items()
        if tag in ("l", "t", "s", "f"):
            if type(body) is not list:
                raise WireError("malformed sequence")
            items = [self(v, depth + 1) for v in body]
            value = {"l": list, "t": tuple, "s": set, "f": frozenset}[tag](items)
            if tag == "l" and self.arrays is not None:
                self.arrays.append(value)
            return value
        if tag == "d":
            if type(body) is not list or not all(type(p) is list and len(p) == 2 for p in body):
                raise WireError("malformed dict")
            value = {self(k, depth + 1): self(v, depth + 1) for k, v in body}
            if self.arrays is not None:
                self.arrays.append(value)
            return value
        if tag == "a" and type(body) is list and len(body) in (3, 4):
            return self._numbered(self._array(*body[:3]), body[3:])
        if tag == "o" and type(body) is list and len(body) == 2 and type(body[1]) is list:
            shape = body[0]
            if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) \
                    or int(np.prod(shape, dtype=object)) != len(body[1]):
                raise WireError("object array does not match its shape")
            out = np.empty(len(body[1]), dtype=object)
            for i, v in enumerate(body[1]):
                out[i] = self(v, depth + 1)
            return out.reshape(shape)
        if tag == "g" and type(body) is list and len(body) == 2:
            return self._array(body[0], [], body[1])[()]
        if tag == "c" and type(body) is list and len(body) == 2 and all(type(v) is float for v in body):
            return complex(*body)
        if tag == "y":
            return self._buffer(body)
        if tag == "D" and body in DTYPES:
            return np.dtype(body)
        if tag == "S" and body in DTYPES:
            return np.dtype(body).type
        if tag == "sl" and type(body) is list and len(body) == 3:
            return slice(*(self(v, depth + 1) for v in body))
        if tag == "E":
            return Ellipsis
        if tag == "r" and type(body) is list and len(body) == 3 and all(type(v) is int for v in body):
            return range(*body)
        if tag == "Tg" and type(body) is list and len(body) == 2:
            tensor, grad = self(body[0], depth + 1), self(body[1], depth + 1)
            if not (hasattr(tensor, "grad") and hasattr(grad, "grad") and tensor.is_leaf and tensor.requires_grad):
                raise WireError("a gradient of something that is not a leaf tensor")
            try:
                tensor.grad = grad
            except RuntimeError as err:
                raise WireError(f"a gradient that does not fit its tensor: {str(err)[:80]}") from None
            return tensor
        if tag in ("T", "TD", "dev", "TG"):
            return self.torch(tag, body)
        if tag == "h" and type(body) is list and len(body) in (3, 4):
            return self.handle(body)
        if tag == "k":
            return self.callback(body)
        if tag == "G" and type(body) is list and len(body) == 2 and body[0] in BIT_GENERATORS:
            arrays, self.arrays = self.arrays, None  # the state's own dicts are not copied back
            try:
                bits = getattr(np.random, body[0])()
                bits.state = self(body[1], depth + 1)
            except (TypeError, ValueError, KeyError) as err:
                raise WireError(f"bad random generator state: {err}") from None
            finally:
                self.arrays = arrays
            value = np.random.Generator(bits)
            if self.arrays is not None:
                self.arrays.append(value)
            return value
        if tag == "n" and type(body) is list and len(body) == 2:
            return resolve_named(*body)
        raise WireError(f"node of kind {str(tag)[:20]!r} not allowed")

    def torch(self, tag: str, body: Any) -> Any:
        torch = _torch()
        if torch is None:
            import torch  # a tensor arrived: the other side uses torch, so this side may too
        if tag == "TD":
            if body not in TORCH_DTYPES:
                raise WireError("torch dtype not allowed")
            return getattr(torch, body)
        if tag == "TG":
            generator = torch.Generator()
            try:
                generator.set_state(torch.frombuffer(bytearray(self._buffer(body)), dtype=torch.uint8))
            except RuntimeError as err:
                raise WireError(f"bad torch generator state: {str(err)[:80]}") from None
            if self.arrays is not None:
                self.arrays.append(generator)
            return generator
        if tag == "dev":
            if type(body) is not str or body.split(":")[0] not in ("cpu", "cuda", "mps", "meta"):
                raise WireError("torch device not allowed")
            return torch.device(body)
        if type(body) is not list or len(body) not in (4, 5) or body[0] not in TORCH_DTYPES \
                or not (type(body[3]) is bool or body[3] == "graph"):
            raise WireError("malformed tensor")
        name, shape, index, grad = body[:4]
        if name == "bfloat16":
            t = torch.from_numpy(self._array("int16", shape, index)).view(torch.bfloat16)
        else:
            t = torch.from_numpy(self._array(name, shape, index))
        if grad:
            t.requires_grad_(True)
        if grad == "graph":
            self.graph.append(t)
        return self._numbered(t, body[4:])


# ----------------------------------------------------------------------------- autograd across


def map_tensors(value: Any, ids: set[int], replace: Callable[[Any], Any]) -> Any:
    """``value`` with each tensor whose id is in ``ids`` replaced, in the order the encoder meets them."""
    if isinstance(value, list):
        return [map_tensors(v, ids, replace) for v in value]
    if isinstance(value, tuple):
        return tuple(map_tensors(v, ids, replace) for v in value)
    if isinstance(value, dict):
        return {map_tensors(k, ids, replace): map_tensors(v, ids, replace) for k, v in value.items()}
    return replace(value) if id(value) in ids else value


_bridges: dict = {}


def bridge(ask: Callable[[int, list], list], key: int, value: Any, inputs: list, graph: list) -> Any:
    """``value``, an answer from the other side, with its tensors that were part of a graph there
    (``graph``, as decoded) made outputs of one autograd Function here. Its backward calls
    ``ask(key, upstream gradients)`` for the gradients of ``inputs``: the tensors that require grad
    which the question sent (the other side backpropagates into its own parameters meanwhile)."""
    import torch

    ids = {id(t) for t in graph}
    found: list = []
    map_tensors(value, ids, lambda t: found.append(t.detach()) or t)
    if not found:
        return value
    if "function" not in _bridges:
        class Bridge(torch.autograd.Function):
            @staticmethod
            def forward(ctx, ask, key, n, *tensors):
                ctx.ask, ctx.key, ctx.n, ctx.m = ask, key, n, len(tensors) - n - 1
                return tuple(t.clone() for t in tensors[n + 1:])

            @staticmethod
            def backward(ctx, *upstream):
                grads = ctx.ask(ctx.key, list(upstream))
                if not isinstance(grads, list) or len(grads) != ctx.n:
                    raise WireError("the other side answered a backward with something else")
                return (None, None, None, *grads, None, *([None] * ctx.m))

        # A leaf that requires grad: an answer that depends only on the other side's parameters
        # is still part of this side's graph.
        _bridges.update(function=Bridge, anchor=torch.zeros((), requires_grad=True))
    outputs = iter(_bridges["function"].apply(ask, key, len(inputs), *inputs, _bridges["anchor"], *found))
    return map_tensors(value, ids, lambda t: next(outputs))


def backpropagate(outputs: list, inputs: list, upstream: list) -> list:
    """Backpropagate ``upstream`` gradients of ``outputs`` (accumulating into the leaves they
    depend on, as ``.backward()`` does); the gradients of ``inputs``, which are then cleared."""
    import torch

    pairs = [(o, g) for o, g in zip(outputs, upstream, strict=True) if g is not None]
    if pairs:
        torch.autograd.backward([o for o, _ in pairs], [g.to(o.dtype) for o, g in pairs], retain_graph=True)
    found = [None if i.grad is None else i.grad.clone() for i in inputs]
    for i in inputs:
        i.grad = None
    return found


# ----------------------------------------------------------------------------- changes in place


def snapshot(obj: Any) -> Any:
    """What :func:`has_changed` compares against: a copy of an array or tensor, a generator's
    state, a list's or dict's items (by identity)."""
    if hasattr(obj, "get_state") and hasattr(obj, "manual_seed"):  # a torch.Generator
        return bytes(obj.get_state().numpy())
    if hasattr(obj, "bit_generator"):
        return _state_of(obj.bit_generator.state)
    if isinstance(obj, list | dict):
        return (len(obj), [id(v) for v in (obj.values() if isinstance(obj, dict) else obj)],
                list(obj) if isinstance(obj, dict) else None)
    if hasattr(obj, "detach"):
        return obj.detach().clone()
    return np.array(obj, copy=True)


def has_changed(obj: Any, before: Any) -> bool:
    """Whether ``obj`` changed since its :func:`snapshot` (NaN where NaN was is no change)."""
    if hasattr(obj, "get_state") and hasattr(obj, "manual_seed"):
        return bytes(obj.get_state().numpy()) != before
    if hasattr(obj, "bit_generator"):
        return _state_of(obj.bit_generator.state) != before
    if isinstance(obj, list | dict):
        return snapshot(obj) != before
    if hasattr(obj, "detach"):
        now = obj.detach()
        return now.shape != before.shape or not bool(((now == before) | (before != before)).all())
    return obj.shape != before.shape or not np.array_equal(obj, before, equal_nan=True)


def _state_of(value: Any) -> Any:
    return encode(value, lambda v: {"h": [id(v), "", ""]})
