"""Detect student code that tampers with what the tests rely on.

A probe runs in the kernel before any student code (the baseline) and after every test cell.
It fingerprints the objects the tests trust: numpy's comparison functions, the course's test
helpers, builtins, ``sys.exit``, the traceback display and the kernel's cell hooks. Any
difference from the baseline, or a probe that does not answer properly, marks the test cell as
tampered with: it scores 0 and the submission is flagged.
"""

from __future__ import annotations

import json

MARK = "@@integrity@@"

PROBE = r'''
def _integrity_probe():
    import builtins, json, sys, threading
    import numpy, numpy.testing
    import helpers.testing, helpers.gradcheck
    shell = get_ipython()
    watched = {
        "builtins": builtins, "numpy": numpy, "numpy.testing": numpy.testing,
        "helpers.testing": helpers.testing, "helpers.gradcheck": helpers.gradcheck,
    }
    names = {
        "builtins": ["abs", "all", "any", "isinstance", "issubclass", "float", "int", "len", "max",
                     "min", "round", "sum", "type", "id", "repr", "str", "getattr", "hasattr",
                     "AssertionError", "Exception", "NotImplementedError", "print", "__import__"],
        "numpy": ["allclose", "isclose", "array_equal", "asarray", "array", "abs", "max", "all",
                  "any", "isfinite", "isnan", "argmax", "unravel_index", "errstate", "testing"],
        "numpy.testing": ["assert_allclose", "assert_array_equal", "assert_array_almost_equal",
                          "assert_equal", "assert_almost_equal"],
    }
    prints = {}
    for module, mod in watched.items():
        keys = names.get(module) or [k for k in dir(mod) if not k.startswith("_")]
        for key in keys:
            obj = getattr(mod, key, None)
            code = getattr(obj, "__code__", None)
            prints[f"{module}.{key}"] = [id(obj), hash(code.co_code) if code else 0]
    prints["sys.exit"] = [id(sys.exit), 0]
    prints["sys.trace"] = [id(sys.gettrace()), id(sys.getprofile())]
    prints["sys.modules.numpy"] = [id(sys.modules.get("numpy")), 0]
    prints["sys.modules.helpers.testing"] = [id(sys.modules.get("helpers.testing")), 0]
    for attr in ("showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async",
                 "run_ast_nodes", "run_code", "ex", "ev"):
        prints[f"shell.{attr}"] = [id(getattr(type(shell), attr, None)), int(attr in vars(shell))]
    hooks = sorted(
        f"{event}:{getattr(cb, '__module__', '?')}.{getattr(cb, '__qualname__', '?')}"
        for event, callbacks in shell.events.callbacks.items() for cb in callbacks
        if not str(getattr(cb, "__module__", "")).startswith(("IPython", "ipykernel", "matplotlib"))
    )
    prints["hooks"] = hooks
    prints["threads"] = [threading.active_count() > 50, 0]
    sys.stdout.write("@@integrity@@" + json.dumps(prints, sort_keys=True) + "\n")
    sys.stdout.flush()

_integrity_probe()
del _integrity_probe
'''


def read_probe(outputs: list[dict]) -> dict | None:
    """The fingerprint a probe cell printed, or None when it did not answer properly."""
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    for line in text.splitlines():
        if line.startswith(MARK):
            try:
                return json.loads(line[len(MARK):])
            except ValueError:
                return None
    return None


def differences(baseline: dict, current: dict | None) -> list[str]:
    """What changed since the baseline (an unanswered probe counts as a change)."""
    if current is None:
        return ["the integrity probe was silenced (output or execution tampered with)"]
    changed = [key for key in sorted(baseline) if baseline[key] != current.get(key)]
    changed += [key for key in sorted(current) if key not in baseline]
    return [f"{key} was replaced or hooked" for key in changed]
