# ruff: noqa: F821 - wire.py's names: its source runs before this file's in the kernel
"""The judge's agent inside the student's kernel: it runs what the judge asks and answers in data.

Sent as source into the kernel after ``wire.py`` (same namespace) by the first cell the grader
runs. ``serve()`` answers the judge's requests until it says "done": look up a name, get or set
an attribute, call, apply an operator. Values go back as plain data; every other object stays
here behind a numbered handle. Nothing here is trusted by the judge: it only ever reads data.
"""

import builtins as _builtins
import copy as _copy
import operator as _operator
import socket as _socket
import types as _types
import weakref as _weakref

_state = {"sock": None, "ns": {}, "max": 0, "next": 0}
_handles: dict = {}  # handle -> object
_keys: dict = {}  # id(object) -> handle (the object stays alive in _handles, so its id is its own)
_active: list = []  # (arguments, their snapshots) of the requests being run, innermost last
_followed: dict = {}  # number -> (weak reference, snapshot) of each array or tensor the judge sent
_graphs: dict = {}  # number -> (output tensors, input tensors) of results the judge may differentiate
_exported: dict = {}  # number -> weak reference to an array or tensor the judge read as an attribute

OPERATORS = {
    **{name: getattr(_operator, name) for name in (
        "getitem", "setitem", "delitem", "contains", "add", "sub", "mul", "truediv", "floordiv", "mod",
        "pow", "matmul", "and_", "or_", "xor", "lshift", "rshift", "eq", "ne", "lt", "le", "gt", "ge",
        "neg", "pos", "abs", "invert", "index")},
    **{name: getattr(_builtins, name) for name in (
        "len", "iter", "next", "bool", "repr", "str", "format", "hash", "float", "int", "complex", "round",
        "isinstance", "issubclass", "dir", "vars", "reversed")},
    "deepcopy": _copy.deepcopy, "copy": _copy.copy,
    "value": lambda obj: __import__("numpy").asarray(obj),
}


def connect(path, max_bytes, namespace):
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.connect(path)
    _state.update(sock=sock, ns=namespace, max=max_bytes)


def _named(obj):
    """A module, function or class of a trusted package, sent by name (the judge uses its own)."""
    if isinstance(obj, _types.ModuleType):
        module, qualname = obj.__name__, ""
    else:
        module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    try:
        return {"n": [module, qualname]} if resolve_named(module, qualname) is obj else None
    except Exception:
        return None


def _keep(obj):
    named = _named(obj)
    if named is not None:
        return named
    key = _keys.get(id(obj))
    if key is None:
        _state["next"] += 1
        key = _keys[id(obj)] = _state["next"]
        _handles[key] = obj
    kind = "class" if isinstance(obj, type) else "callable" if callable(obj) else "object"
    try:
        name = type.__getattribute__(obj, "__name__") if kind == "class" else type(obj).__name__
    except Exception:
        name = "object"
    typeref = None  # a trusted class (torch.nn.Linear ...): the judge's isinstance knows it
    if kind != "class":
        cls = type(obj)
        try:
            if resolve_named(cls.__module__, cls.__qualname__) is cls:
                typeref = [cls.__module__, cls.__qualname__]
        except Exception:
            pass
    return {"h": [key, str.__str__(name)[:80] if isinstance(name, str) else "object", kind, typeref]}


def _lookup(body):
    key = body[0]
    if type(key) is not int or key not in _handles:
        raise LookupError("the judge referred to an object that is gone")
    return _handles[key]


def _send(message, register=None):
    tree, buffers = encode(message, _keep, None, register)
    send(_state["sock"], tree, buffers)


def _export(value):
    """Number an array or tensor read from one of the student's objects: the judge sends back
    what it changes in place there (``block.bn2.weight.zero_()``)."""
    _state["next"] += 1
    _exported[_state["next"]] = _weakref.ref(value)
    return _state["next"]


def _update(changes):
    import numpy

    for number, value in changes:
        ref = _exported.get(number)
        target = ref() if ref is not None else None
        if target is None:
            continue
        if isinstance(target, numpy.ndarray):
            numpy.copyto(target, value, casting="unsafe")
        else:
            import torch

            with torch.no_grad():
                target.copy_(value)
    return None


def _follow(number, value):
    _followed[number] = (_weakref.ref(value), snapshot(value))


def _followed_changes():
    """The judge's arrays that changed here since last reported (those still alive here)."""
    changed = []
    for number, (ref, before) in list(_followed.items()):
        value = ref()
        if value is None:
            del _followed[number]
        elif has_changed(value, before):
            changed.append([number, value])
            _followed[number] = (ref, snapshot(value))
    return changed


def _receive(collected, grads):
    """The next message; ``collected`` gets its lists, dicts and generators, ``grads`` its
    tensors that require grad (the inputs of a graph the judge may differentiate)."""
    def follow(number, value):
        _follow(number, value)
        if getattr(value, "requires_grad", False):
            grads.append(value)

    tree, buffers = receive(_state["sock"], _state["max"])
    decoder = Decoder(buffers, _lookup, _stub, collected, follow)
    message = decoder(tree)
    _state["graph"] = decoder.graph
    return message


def _tensors(value, found):
    """Tensors that require grad in a result, in the order the encoder meets them."""
    if isinstance(value, list | tuple):
        for item in value:
            _tensors(item, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _tensors(key, found)
            _tensors(item, found)
    elif getattr(value, "requires_grad", False) is True and getattr(value, "grad_fn", None) is not None:
        found.append(value)
    return found


def _graph(value, grads):
    """Keep the graph of a result that requires grad: the judge's backward comes back for it."""
    outputs = _tensors(value, [])
    if not outputs:
        return None
    _state["next"] += 1
    _graphs[_state["next"]] = (outputs, grads)
    return _state["next"]


def _backward(key, upstream):
    """Backpropagate the judge's gradients of a result's tensors; the gradients of the judge's inputs."""
    return backpropagate(*_graphs[key], upstream)


def _ask(key, op, args, kwargs=None):
    """Ask the judge about one of its objects (call it, read an attribute ...); its answer."""
    changed = []
    if _active:  # the judge's copies catch up first (a function perturbing x in place, then calling f)
        collected, before = _active[-1]
        changed = _changes(collected, before)
        before[:] = [snapshot(obj) for obj in collected]
    torch = __import__("sys").modules.get("torch")
    grad_mode = bool(torch.is_grad_enabled()) if torch is not None else True
    sent = []  # the tensors this message sends (a graph's inputs, when the answer is part of one)

    def register(value):
        sent.append(value)
        return 0

    tree, buffers = encode(("callback", key, op, args, kwargs or {}, changed, _followed_changes(), grad_mode),
                           _keep, None, register)
    send(_state["sock"], tree, buffers)
    return _wait([t for t in sent if getattr(t, "requires_grad", False)])


class _Judged:
    """An object of the judge's (a model, an optimizer, a data loader), seen from here."""

    __slots__ = ("_key",)

    def __init__(self, key):
        object.__setattr__(self, "_key", key)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _ask(object.__getattribute__(self, "_key"), "attr", (name,))

    def __setattr__(self, name, value):
        _ask(self._key, "setattr", (name, value))

    def __call__(self, *args, **kwargs):
        return _ask(self._key, "call", args, kwargs)

    def __iter__(self):
        return _ask(self._key, "op", ("iter",))

    def __next__(self):
        return _ask(self._key, "op", ("next",))

    def __len__(self):
        return _ask(self._key, "op", ("len",))

    def __getitem__(self, item):
        return _ask(self._key, "op", ("getitem", item))

    def __bool__(self):
        return _ask(self._key, "op", ("bool",))

    def __repr__(self):
        return str(_ask(self._key, "op", ("repr",)))


def _stub(body):
    """A function of the judge's (or, for [key, kind], an object), passed to the student's code."""
    if isinstance(body, list) and len(body) == 2 and type(body[0]) is int:
        return _Judged(body[0])
    if type(body) is not int:
        raise LookupError("a malformed reference to the judge's function")

    def callback(*args, **kwargs):
        return _ask(body, "call", args, kwargs)
    return callback


def _raise(names, message):
    raise exception_from(names, message)


def _do(request):
    op, *args = request
    if op == "get":
        return {name: _state["ns"][name] for name in args[0] if name in _state["ns"]}
    if op == "attr":
        return getattr(args[0], args[1])
    if op == "setattr":
        return setattr(args[0], args[1], args[2])
    if op == "delattr":
        return delattr(args[0], args[1])
    if op == "call":
        return args[0](*args[1], **args[2])
    if op == "op":
        return OPERATORS[args[0]](*args[1])
    if op == "define":
        namespace = dict(_state["ns"])
        exec(compile(args[0], "<test cell>", "exec"), namespace)
        return namespace[args[1]]
    if op == "backward":
        return _backward(args[0], args[1])
    if op == "update":
        return _update(args[0])
    if op == "release":
        for key in args[0]:
            obj = _handles.pop(key, None)
            _keys.pop(id(obj), None)
        return None
    raise ValueError(f"unknown request {op!r}")


def _wait(inputs=()):
    """Serve the judge's requests until it answers ours (``inputs``: the tensors that require
    grad that our question sent) or says it is done."""
    while True:
        collected, grads = [], []
        message = _receive(collected, grads)
        if message[0] == "done":
            return None
        if message[0] == "return":
            if len(message) == 3 and type(message[2]) is int:
                ask = lambda key, upstream: _ask(key, "backward", (upstream,))  # noqa: E731
                return bridge(ask, message[2], message[1], list(inputs), _state.get("graph", []))
            return message[1]
        if message[0] == "raiseback":
            _raise(message[1], message[2])
        before = [snapshot(obj) for obj in collected]
        _active.append((collected, before))
        try:
            value = _do(message)
            graph = _graph(value, grads) if message[0] in ("call", "op", "attr") else None
            _send(("ok", value, _changes(collected, before), _followed_changes(), graph),
                  _export if message[0] in ("attr", "op") else None)
        except KeyboardInterrupt:
            _send(("interrupted",))
            raise
        except BaseException as err:  # noqa: BLE001 - every failure of the student's code is reported
            try:
                text = str(err)[:4000]
            except BaseException:  # noqa: BLE001
                text = "(its message could not be read)"
            _send(("raise", [c.__name__ for c in type(err).__mro__ if isinstance(c.__name__, str)], text))
        finally:
            _active.pop()


def _changes(collected, before):
    return [[i, obj] for i, (obj, b) in enumerate(zip(collected, before, strict=True)) if has_changed(obj, b)]


def serve():
    """Answer the judge until it is done (run as a cell of its own by the grader)."""
    _wait()
