"""The judge: hidden tests run here, in the grader's process, never in the student's kernel.

The student's cells run in the sandboxed kernel. Each test cell's source runs in the judge, in a
namespace of its own, where the student's names are :class:`Remote` proxies: a call sends its
arguments into the kernel as plain data (``wire.py``) and brings the result back as plain data,
or as another proxy when it is not data (a layer, a graph node, an optimizer). The judge never
unpickles or evaluates anything that comes from the kernel, so nothing the student's code does
there (patched numpy, hooked IPython, forged probes, objects equal to anything, a rebound test
helper) can reach the tests.

Objects of the tests that are not data (a probe model, an optimizer, a data loader) go the other
way: the kernel gets a proxy of them. Autograd crosses in both directions (:func:`bridge` and
the agent's mirror of it): a tensor that is part of a graph on the other side becomes the output
of an autograd Function whose backward asks that side for the gradients of its inputs.

Names a test cell uses come from three places, decided from the notebook's source alone:
imports, functions and classes of the reference's own cells run here (so they are the judge's);
other values bound by the reference's cells are copied here right after their cell ran; names
bound by the student's cells are looked up in the kernel when the test cell starts.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import inspect
import io
import re
import socket
import time
import types
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from nbformat import NotebookNode

from autograder import wire
from autograder.authoring import role
from autograder.execute import defined_names, parse_code, used_names

AGENT_FILES = (Path(__file__).with_name("wire.py"), Path(__file__).with_name("agent.py"))
MAX_MESSAGE = 512 * 2**20  # bytes in one answer from the kernel
_IDENTIFIER = re.compile(r"\A[A-Za-z_]\w*\Z")
# Attributes with double underscores that a test may read on a student's object.
READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__", "__module__", "__dict__", "__enter__",
                              "__exit__", "__wrapped__", "__self__", "__func__", "__defaults__"})


class KernelGone(Exception):
    """The kernel stopped answering: it died, was interrupted or broke the protocol."""


def bootstrap(path: str | Path, max_bytes: int = MAX_MESSAGE) -> str:
    """The first cell run in a grading kernel: it loads the agent and connects it to ``path``."""
    source = "\n".join(p.read_text() for p in AGENT_FILES).replace("from __future__ import annotations\n", "")
    return (f"def _judge_boot():\n    import types\n    agent = types.ModuleType('_judge_agent')\n"
            f"    exec(compile({source!r}, '<judge agent>', 'exec'), agent.__dict__)\n"
            f"    agent.connect({str(path)!r}, {max_bytes}, get_ipython().user_ns)\n    return agent\n"
            "_judge_agent = _judge_boot()\ndel _judge_boot\n")


SERVE = "_judge_agent.serve()"


# ----------------------------------------------------------------------------- the connection


class Connection:
    """The judge's end of the socket: requests out, answers (and callbacks) in."""

    def __init__(self, sock: socket.socket, max_bytes: int = MAX_MESSAGE):
        self.sock, self.max_bytes = sock, max_bytes
        self.budget: float | None = None  # seconds the kernel may still take in this cell (the judge's own time is free)
        self.callbacks: dict[int, Callable] = {}
        self.released: list[int] = []
        self.remotes: weakref.WeakValueDictionary[int, Remote] = weakref.WeakValueDictionary()
        self.origins: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()  # arrays sent
        self.registered: list = []  # arrays and tensors of the message being encoded, in order
        self.graph: list = []  # tensors of the last message received that were part of a graph there
        self.received: list = []  # arrays and tensors of the last message received, in order
        self.numbered: list = []  # (number, value): those the kernel numbered (read from its objects)
        self.exported: dict[int, tuple[weakref.ref, Any]] = {}  # number -> (the judge's copy, its snapshot)
        self.fresh: list[tuple[int, Any, Any]] = []  # copies received since the last request
        self.graphs: dict[int, tuple[list, list]] = {}  # the judge's graphs the kernel may backpropagate
        self.broken: str | None = None

    # encoding what the judge sends
    def _other(self, value: Any) -> dict:
        if isinstance(value, types.FrameType | types.CodeType | types.TracebackType):
            raise TypeError(f"a {type(value).__name__} of the tests is not shown to the student's code")
        if isinstance(value, Remote):
            if object.__getattribute__(value, "_conn") is not self:
                raise TypeError("a proxy of another kernel")
            return {"h": [object.__getattribute__(value, "_key"), "", ""]}
        with contextlib.suppress(wire.WireError, TypeError):
            module, qualname = (value.__name__, "") if isinstance(value, types.ModuleType) else \
                (getattr(value, "__module__", None), getattr(value, "__qualname__", None))
            if wire.resolve_named(module, qualname) is value:
                return {"n": [module, qualname]}
        if isinstance(value, types.ModuleType):
            raise TypeError(f"module {value.__name__} of the tests is not shown to the student's code")
        key = len(self.callbacks) + 1
        self.callbacks[key] = value
        if inspect.isroutine(value) or isinstance(value, type | functools.partial):
            return {"k": key}  # a function: the kernel calls it
        return {"k": [key, "object"]}  # an object (a model, an optimizer, a loader): proxied there

    def _remote(self, body: list) -> Remote:
        key, name, kind, *rest = body
        if type(key) is not int or type(name) is not str or kind not in ("class", "callable", "object"):
            raise wire.WireError("malformed handle")
        cls = None  # the judge's own class of that name, for a trusted package's object (isinstance)
        if rest and isinstance(rest[0], list) and len(rest[0]) == 2:
            with contextlib.suppress(wire.WireError):
                cls = wire.resolve_named(*rest[0])
            cls = cls if isinstance(cls, type) else None
        if key in self.released:  # seen again before its release went out: keep it
            self.released.remove(key)
        remote = self.remotes.get(key)
        if remote is None:  # one proxy per object of the kernel, so that `is` means what it says
            remote = self.remotes[key] = remote_class(name, cls)(self, key, kind)
        return remote

    def _callback(self, key: Any) -> Callable:
        raise wire.WireError("the kernel may not send the judge's functions back")

    def _register(self, value: Any) -> int:
        number = len(self.origins) + 1
        while number in self.origins:
            number += 1
        self.origins[number] = value
        self.registered.append(value)
        return number

    def _send(self, message: tuple, sent: list | None = None, registered: list | None = None) -> None:
        saved, self.registered = self.registered, [] if registered is None else registered
        try:
            tree, buffers = wire.encode(message, self._other, sent, self._register)
        finally:
            self.registered = saved
        wire.send(self.sock, tree, buffers)

    def _receive(self) -> Any:
        began = time.monotonic()
        if self.budget is not None:
            if self.budget <= 0:
                raise TimeoutError("the student's code ran past the cell's time limit")
            self.sock.settimeout(self.budget)
        try:
            tree, buffers = wire.receive(self.sock, self.max_bytes)
            received: list = []
            decoder = wire.Decoder(buffers, self._remote, self._callback,
                                   follow=lambda n, v: received.append((n, v)))
            value = decoder(tree)
            self.graph, self.received = decoder.graph, [v for _, v in received]
            self.numbered = [(n, v) for n, v in received if n > 0]
            return value
        except TimeoutError:
            self.broken = "timed out"
            raise TimeoutError("the student's code ran past the cell's time limit") from None
        except (EOFError, OSError) as err:
            self.broken = "gone"
            raise KernelGone(f"the kernel stopped answering ({err})") from None
        except wire.WireError as err:
            self.broken = "protocol"
            raise KernelGone(f"the kernel sent something that is not plain data ({err})") from None
        finally:
            if self.budget is not None:
                self.budget -= time.monotonic() - began

    def request(self, *message: Any) -> Any:
        """Send a request, answer the kernel's callbacks meanwhile, return the answer's value."""
        if self.broken:
            raise KernelGone(f"the kernel is not answering any more ({self.broken})")
        if self.released:
            released, self.released = self.released, []
            self._send(("release", released))
            self._wait([], [])
        if updates := self._changed_copies():  # the tests changed a kernel object's array in place
            self._send(("update", updates))
            self._wait([], [])
        sent: list = []
        registered: list = []  # the arrays and tensors this message sends, in order
        try:
            self._send(message, sent, registered)
        except OSError as err:
            self.broken = "gone"
            raise KernelGone(f"the kernel stopped answering ({err})") from None
        return self._wait(sent, registered)

    def _wait(self, sent: list, registered: list) -> Any:
        while True:
            answer = self._receive()
            if not isinstance(answer, tuple) or not answer or not isinstance(answer[0], str):
                raise KernelGone("the kernel answered something that is not an answer")
            kind = answer[0]
            if kind == "ok" and len(answer) == 5 and isinstance(answer[2], list) and isinstance(answer[3], list):
                _copy_back(sent, answer[2])
                self._follow(answer[3])
                self._track()
                if type(answer[4]) is int:  # tensors of a graph the kernel keeps: gradients can flow back
                    inputs = [t for t in registered if _requires_grad(t)]
                    return wire.bridge(self._ask_backward, answer[4], answer[1], inputs, self.graph)
                return answer[1]
            if kind == "raise" and len(answer) == 3:
                raise wire.exception_from(answer[1], answer[2])
            if kind == "interrupted":
                self.broken = "interrupted"
                raise TimeoutError("the student's code was interrupted (time limit)")
            if kind == "callback" and len(answer) == 8 and type(answer[1]) is int and isinstance(answer[2], str) \
                    and isinstance(answer[3], tuple) and isinstance(answer[4], dict) and isinstance(answer[5], list) \
                    and isinstance(answer[6], list) and type(answer[7]) is bool:
                inputs = [t for t in self.received if _requires_grad(t)]
                _copy_back(sent, answer[5])  # e.g. an array perturbed in place that the callback reads
                self._follow(answer[6])
                self._answer_callback(answer[1], answer[2], answer[3], answer[4], answer[7], inputs)
                continue
            raise KernelGone("the kernel answered something that is not an answer")

    def _track(self) -> None:
        """Remember the arrays an attribute read brought (numbered by the kernel), to send back
        what the tests change in them."""
        # Held strongly until the next request: `block.bn2.weight.zero_()` drops its copy at once.
        self.fresh += [(number, value, wire.snapshot(value)) for number, value in self.numbered]

    def _changed_copies(self) -> list:
        updates = []
        for number, value, before in self.fresh:
            if wire.has_changed(value, before):
                updates.append([number, value])
                before = wire.snapshot(value)
            with contextlib.suppress(TypeError):  # (no weak reference: not followed further)
                self.exported[number] = (weakref.ref(value), before)
        self.fresh = []
        for number, (ref, before) in list(self.exported.items()):
            value = ref()
            if value is None:
                del self.exported[number]
            elif wire.has_changed(value, before):
                updates.append([number, value])
                self.exported[number] = (ref, wire.snapshot(value))
        return updates

    def _follow(self, changed: list) -> None:
        """Apply the kernel's changes to arrays the judge sent (and the kernel kept, e.g. a model's
        parameters handed to an optimizer) to the judge's own arrays."""
        for item in changed:
            if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int):
                raise KernelGone("a malformed report of changed arrays")
            original = self.origins.get(item[0])
            if original is not None:
                _copy_back([original], [[0, item[1]]])

    def _answer_callback(self, key: int, op: str, args: tuple, kwargs: dict, grad_mode: bool, inputs: list) -> None:
        """Run what the student's code asked of one of the judge's objects; send back the answer."""
        import sys

        target = key if op == "backward" else self.callbacks.get(key)  # backward: the graph's number
        torch = sys.modules.get("torch")
        try:
            if target is None:
                raise LookupError("that object of the tests is not available any more")
            with torch.set_grad_enabled(grad_mode) if torch is not None else contextlib.nullcontext():
                value = _JUDGE_OPS[op](self, target, *args, **kwargs)
            outputs = [t for t in _tensors(value) if getattr(t, "grad_fn", None) is not None]
            graph = None
            if outputs:  # part of the judge's graph: the kernel's backward will come back for it
                graph = len(self.graphs) + 1
                self.graphs[graph] = (outputs, inputs)
            self._send(("return", value, graph))
        except (KernelGone, TimeoutError):
            raise
        except Exception as err:
            self._send(("raiseback", [c.__name__ for c in type(err).__mro__], str(err)[:4000]))

    def _ask_backward(self, key: int, upstream: list) -> list:
        return self.request("backward", key, upstream)

    def _backward(self, key: int, upstream: list) -> list:
        return wire.backpropagate(*self.graphs[key], upstream)

    def reset(self, sock: socket.socket) -> None:
        """Go on over a new socket (after a timeout left the old one out of step)."""
        with contextlib.suppress(OSError):
            self.sock.close()
        self.sock, self.broken, self.budget = sock, None, None
        self.callbacks.clear()
        self.released.clear()
        self.fresh, self.exported, self.graphs = [], {}, {}

    def done(self) -> None:
        """End the kernel's serve() (no answer comes)."""
        if not self.broken:
            with contextlib.suppress(OSError):
                self._send(("done",))
        self.callbacks.clear()

    def get(self, names: Iterable[str]) -> dict[str, Any]:
        found = self.request("get", sorted(names))
        if not isinstance(found, dict):
            raise KernelGone("the kernel answered a lookup with something else")
        return found


# Attributes of the judge's objects that the student's code may not read or set: private ones and
# dunders (a function's __globals__), and the ways from a generator or traceback to the tests' frames.
_FRAME_ATTRIBUTES = frozenset({"gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_back",
                               "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next"})


def _public(name: Any) -> str:
    if type(name) is not str or name.startswith("_") or name in _FRAME_ATTRIBUTES:
        raise AttributeError(f"the tests' objects do not show {str(name)[:40]!r} to the student's code")
    return name


_UNARY_OPS = {"iter": iter, "next": next, "len": len, "bool": bool, "repr": repr}
_JUDGE_OPS: dict[str, Callable[..., Any]] = {
    "call": lambda conn, target, *args, **kwargs: target(*args, **kwargs),
    "attr": lambda conn, target, name: getattr(target, _public(name)),
    "setattr": lambda conn, target, name, value: setattr(target, _public(name), value),
    "op": lambda conn, target, name, *args: target[args[0]] if name == "getitem" else _UNARY_OPS[name](target),
    "backward": lambda conn, target, upstream: conn._backward(target, upstream),
}


def _tensors(value: Any) -> list:
    """Tensors in a value, in the order the encoder meets them."""
    if isinstance(value, list | tuple):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_tensors(k), *_tensors(v))]
    return [value] if hasattr(value, "grad_fn") else []


def _requires_grad(value: Any) -> bool:
    return getattr(value, "requires_grad", False) is True and hasattr(value, "grad_fn")


def _copy_back(sent: list, changed: list) -> None:
    """Apply, to the judge's own arguments, the changes the student's code made to its copies."""
    import sys

    for item in changed:
        if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is int and 0 <= item[0] < len(sent)):
            raise KernelGone("a malformed report of changed arguments")
        original, new = sent[item[0]], item[1]
        if isinstance(original, list) and isinstance(new, list):
            original[:] = new
        elif isinstance(original, dict) and isinstance(new, dict):
            original.clear()
            original.update(new)
        elif isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
            if new.shape == original.shape and original.flags.writeable:
                np.copyto(original, new, casting="unsafe")
        elif isinstance(original, np.random.Generator) and isinstance(new, np.random.Generator):
            if type(original.bit_generator) is type(new.bit_generator):
                original.bit_generator.state = new.bit_generator.state
        elif (torch := sys.modules.get("torch")) is not None and isinstance(original, torch.Tensor) \
                and isinstance(new, torch.Tensor) and new.shape == original.shape:
            with torch.no_grad():
                original.copy_(new)
        elif torch is not None and isinstance(original, torch.Generator) and isinstance(new, torch.Generator):
            original.set_state(new.get_state())


# ----------------------------------------------------------------------------- proxies


class Remote:
    """An object of the student's kernel, seen from the judge: every use is a request."""

    __slots__ = ("_conn", "_key", "_kind", "__weakref__")

    def __init__(self, conn: Connection, key: int, kind: str):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_kind", kind)
        weakref.finalize(self, _release, weakref.ref(conn), key)

    def _ask(self, *message: Any) -> Any:
        return object.__getattribute__(self, "_conn").request(*message)

    def __getattribute__(self, name: str) -> Any:
        if name in _OPERATOR_METHODS:  # x.__mul__ or Scalar.__mul__ written out: the student's own
            return object.__getattribute__(self, "_ask")("attr", self, name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") and name not in READABLE_DUNDERS:
            raise AttributeError(name)
        return self._ask("attr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask("setattr", self, name, value)

    def __delattr__(self, name: str) -> None:
        self._ask("delattr", self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", self, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        value = self._ask("op", "value", [self])
        return np.asarray(value, dtype=dtype)

    # Equality and truth are the proxy's own, never the student's: an object whose __eq__ says
    # yes to anything, or whose __bool__ says True, would pass `answer == expected` and `assert x`.
    def __hash__(self) -> int:
        return hash((Remote, object.__getattribute__(self, "_key")))

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __bool__(self) -> bool:
        return True

    def __instancecheck__(self, obj: Any) -> bool:
        return bool(self._ask("op", "isinstance", [obj, self]) is True)

    def __subclasscheck__(self, cls: Any) -> bool:
        return bool(self._ask("op", "issubclass", [cls, self]) is True)

    def __mro_entries__(self, bases: tuple) -> tuple:
        raise TypeError("a test's class cannot subclass a student's class here")

    def __deepcopy__(self, memo: dict) -> Any:
        return self._ask("op", "deepcopy", [self])

    def __copy__(self) -> Any:
        return self._ask("op", "copy", [self])

    def __enter__(self) -> Any:
        return self._ask("attr", self, "__enter__")()

    def __exit__(self, *exc: Any) -> Any:
        return self._ask("attr", self, "__exit__")(*(None,) * 3)

    def __format__(self, spec: str) -> str:
        return str(self._ask("op", "format", [self, spec]))

    def __repr__(self) -> str:
        try:
            return str(self._ask("op", "repr", [self]))[:2000]
        except Exception:
            return f"<the student's {type(self).__name__}>"


def _release(conn: weakref.ref, key: int) -> None:
    connection = conn()
    if connection is not None and key not in connection.remotes:
        connection.released.append(key)


def _unary(op: str) -> Callable:
    return lambda self: self._ask("op", op, [self])


def _binary(op: str, reflected: bool = False) -> Callable:
    if reflected:
        return lambda self, other: self._ask("op", op, [other, self])
    return lambda self, other, *more: self._ask("op", op, [self, other, *more])


_NAMES_UNARY = ("len", "iter", "next", "str", "float", "int", "index", "complex", "neg", "pos", "abs",
                "invert", "reversed", "dir")
_NAMES_BINARY = ("getitem", "delitem", "contains", "lt", "le", "gt", "ge")
_NAMES_ARITHMETIC = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
                     "lshift", "rshift")
for _name in _NAMES_UNARY:
    setattr(Remote, f"__{_name}__", _unary(_name))
Remote.__round__ = lambda self, n=None: self._ask("op", "round", [self] if n is None else [self, n])
for _name in _NAMES_BINARY:
    setattr(Remote, f"__{_name}__", _binary(_name))
Remote.__setitem__ = lambda self, key, value: self._ask("op", "setitem", [self, key, value])
for _name in _NAMES_ARITHMETIC:
    _op = f"{_name}_" if _name in ("and", "or") else _name
    setattr(Remote, f"__{_name}__", _binary(_op))
    setattr(Remote, f"__r{_name}__", _binary(_op, reflected=True))

_OPERATOR_METHODS = frozenset(name for name in vars(Remote) if name.startswith("__") and name.endswith("__")
                              and name[2:-2] in {*_NAMES_UNARY, *_NAMES_BINARY, "setitem", "round", "format"}
                              | {f"{p}{o}" for p in ("", "r") for o in _NAMES_ARITHMETIC})
_classes: dict[tuple[str, type | None], type] = {}


def remote_class(name: str, cls: type | None = None) -> type:
    """A Remote subclass named like the student's type (so messages can say what it is); for an
    object of a trusted package's class ``cls``, ``isinstance(proxy, cls)`` holds."""
    name = name if _IDENTIFIER.match(name) else "object"
    if (name, cls) not in _classes:
        body: dict[str, Any] = {"__slots__": ()}
        if cls is not None:
            body["__class__"] = property(lambda self: cls)
        _classes[name, cls] = type(name, (Remote,), body)
    return _classes[name, cls]


# ----------------------------------------------------------------------------- the notebook


def _string_names(tree: ast.AST) -> set[str]:
    """Identifiers written as strings (``"q1_answer" in globals()``)."""
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and _IDENTIFIER.match(n.value)}


# What the judge runs itself of the reference's cells. Classes stay in the kernel: the student's
# classes build on them (a graph framework's nodes), so their objects must live there too.
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Plan:
    """Which cell binds what, from the notebook's source: decided once per notebook."""

    kinds: dict[int, str] = field(default_factory=dict)  # code cell index -> student, trusted or tests
    trees: dict[int, ast.Module | None] = field(default_factory=dict)
    binds: dict[int, set[str]] = field(default_factory=dict)
    needed: set[str] = field(default_factory=set)  # names some test cell (or a trusted function) reads
    pinned: set[str] = field(default_factory=set)  # bound by a trusted import, def or class


@dataclass(frozen=True)
class _CellFacts:
    tree: ast.Module | None
    binds: frozenset[str]
    needed: frozenset[str]  # what the cell adds to Plan.needed
    pinned: frozenset[str]  # what it adds to Plan.pinned


@functools.lru_cache(maxsize=4096)
def _cell_facts(source: str, kind: str) -> _CellFacts:
    """A cell's parse and names, by its source: the reference's cells are the same in every
    submission of a chapter, so a worker parses them once (the trees are only read)."""
    tree = parse_code(source)
    if tree is None:
        return _CellFacts(None, frozenset(), frozenset(), frozenset())
    needed: set[str] = set()
    pinned: set[str] = set()
    if kind == "tests":
        needed = used_names(tree) | _string_names(tree)
    elif kind == "trusted":
        for stmt in tree.body:
            if isinstance(stmt, _DEFINITIONS):
                pinned |= defined_names(ast.Module([stmt], []))
                needed |= used_names(ast.Module([stmt], []))
    return _CellFacts(tree, frozenset(defined_names(tree)), frozenset(needed), frozenset(pinned))


def plan(nb: NotebookNode, students: set[str]) -> Plan:
    """``students``: ids of the cells whose source is the student's (answers and added cells)."""
    result = Plan()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kind = "tests" if role(cell) == "tests" else "student" if cell.id in students else "trusted"
        facts = _cell_facts(cell.source, kind)
        result.kinds[index], result.trees[index] = kind, facts.tree
        result.binds[index] = set(facts.binds)
        result.needed |= facts.needed
        result.pinned |= facts.pinned
    return result


class NotebookJudge:
    """Runs a notebook's test cells against one kernel, through one connection."""

    def __init__(self, nb: NotebookNode, students: set[str], conn: Connection):
        self.nb, self.conn = nb, conn
        self.plan = plan(nb, students)
        self.ns: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}

    # the reference's own cells
    def copies_after(self, index: int) -> set[str]:
        """Names the trusted cell at ``index`` binds by assignment that the tests need (copied
        from the kernel right after it ran)."""
        tree = self.plan.trees.get(index)
        if self.plan.kinds.get(index) != "trusted" or tree is None:
            return set()
        return (self.plan.binds[index] - self.plan.pinned) & self.plan.needed

    def needs_kernel(self, index: int) -> bool:
        """Whether :meth:`after_trusted` asks the kernel anything for this cell."""
        return bool(self.copies_after(index))

    def after_trusted(self, index: int) -> None:
        """Run the trusted cell's imports and definitions here, then copy what it computed."""
        tree = self.plan.trees.get(index)
        if self.plan.kinds.get(index) != "trusted" or tree is None:
            return
        for stmt in tree.body:
            if isinstance(stmt, _DEFINITIONS):
                with contextlib.suppress(Exception):  # e.g. an import only the kernel has: tests say so
                    self._exec(stmt, f"<cell {index + 1}>")
        names = self.copies_after(index)
        if names:
            self.ns.update(self.conn.get(names))

    def _live(self, index: int) -> set[str]:
        """Names of test cell ``index`` whose value is the student's: bound last by a student's
        cell (or by no cell at all)."""
        tree = self.plan.trees[index]
        wanted = (used_names(tree) | _string_names(tree) | self.plan.needed) - self.plan.pinned
        last: dict[str, str] = {}
        for i in sorted(k for k in self.plan.kinds if k < index):
            for name in self.plan.binds[i] & wanted:
                last[name] = self.plan.kinds[i]
        return {name for name in wanted if last.get(name, "student") == "student"
                and not hasattr(builtins, name)}

    def _exec(self, stmt: ast.stmt, filename: str) -> None:
        if isinstance(stmt, ast.ClassDef) and self._subclasses_student(stmt):
            source = ast.unparse(stmt)  # defined in the kernel, on the student's class
            self.ns[stmt.name] = self.conn.request("define", source, stmt.name)
            return
        exec(compile(ast.Module([stmt], []), filename, "exec"), self.ns)  # noqa: S102 - the tests' own code

    def _subclasses_student(self, stmt: ast.ClassDef) -> bool:
        for base in stmt.bases:
            try:
                value = eval(compile(ast.Expression(base), "<base>", "eval"), self.ns)  # noqa: S307 - the tests' code
            except Exception:
                continue
            if isinstance(value, Remote):
                return True
        return False

    def run_test(self, index: int) -> list[dict]:
        """Run test cell ``index`` here; its outputs (the judge's prints, then an error if it failed)."""
        cell = self.nb.cells[index]
        tree = self.plan.trees[index]
        out = io.StringIO()
        error: BaseException | None = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                if tree is None:
                    raise SyntaxError("the test cell is not valid Python")
                live = self._live(index)
                found = self.conn.get(live) if live else {}
                for name in live:
                    if name in found:
                        self.ns[name] = found[name]
                    else:
                        self.ns.pop(name, None)
                for stmt in tree.body:
                    self._exec(stmt, f"<{cell.metadata.get('nbgrader', {}).get('grade_id', 'test')}>")
            except Exception as err:
                error = err
        outputs: list[dict] = []
        if out.getvalue():
            outputs.append({"output_type": "stream", "name": "stdout", "text": out.getvalue()})
        if error is not None:  # one line: a traceback would quote the hidden tests
            name, text = type(error).__name__, str(error)
            outputs.append({"output_type": "error", "ename": name, "evalue": text, "traceback": [f"{name}: {text}"]})
        return outputs
