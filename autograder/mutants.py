"""Mutation testing of a chapter's tests: plausible wrong solutions must fail their tests cell.

All of a chapter's mutants run in one pass over the notebook. A runner process executes the
reference cells in order; at each solution cell that has mutants it forks once per mutant, and
the child runs the mutant's code instead, then the following cells up to the tests cell the
mutant targets, and reports that cell's result. Every child starts from exactly the state a
fresh kernel would have reached, without re-running (or re-plotting) the notebook before it.
Cells run as in a kernel that keeps going after errors; figures use Agg and are closed after
each cell, as the inline backend does.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.authoring import graded_part, role
from autograder.execute import SINGLE_THREADED, CellResult

KINDS = {
    "value": "a wrong formula or value",
    "inplace": "changes an input in place",
    "rng": "draws randomness from somewhere else than the rng it is given",
    "ignored": "ignores an argument (or uses a default instead)",
    "dtype": "returns the wrong dtype (e.g. float32 for float64)",
    "edge": "wrong at an edge case: ties, batch size 1, non-square shapes, extreme inputs",
    "order": "the value is wrong and so is everything after it (which half is wrong)",
    "graph": "a graph engine that assigns gradients instead of accumulating them, or misses fan-out",
}


@dataclass(frozen=True)
class Mutant:
    """A realistic mistake: ``source`` replaces solution cell ``cell``; tests cell ``fails`` must fail.

    ``why`` is written for the student who made the mistake ("divides by N-1 instead of N"):
    it is shown to them when their results match this mutant's. ``kind`` is one of ``KINDS``.
    """

    cell: str
    fails: str
    why: str
    source: str
    kind: str = "value"


class MutantError(ValueError):
    """A mutant that does not apply to its chapter's source."""


def editor(chapter_source: str | Path):
    """Return ``edit(cell, why, *replacements, fails=None, kind="value") -> Mutant`` for a chapter.

    A mutant is the chapter's own solution cell with each ``(old, new)`` replacement applied;
    every ``old`` must occur exactly once in that cell, so a mutant can never drift from the
    reference it breaks. ``fails`` defaults to ``test_<cell>``.
    """
    from autograder.authoring import read_source

    cells = {cell.id: cell.source for cell in read_source(chapter_source).cells}

    def edit(cell: str, why: str, *replacements: tuple[str, str], fails: str | None = None,
             kind: str = "value") -> Mutant:
        if cell not in cells:
            raise MutantError(f"mutant {why!r}: {Path(chapter_source).name} has no cell {cell!r}")
        if kind not in KINDS:
            raise MutantError(f"mutant {why!r}: kind {kind!r} is not one of {sorted(KINDS)}")
        if not replacements:
            raise MutantError(f"mutant {why!r}: no edit")
        source = cells[cell]
        for old, new in replacements:
            if source.count(old) != 1:
                raise MutantError(f"mutant of {cell} ({why}): {old!r} occurs {source.count(old)} times")
            source = source.replace(old, new)
        return Mutant(cell=cell, fails=fails or f"test_{cell}", why=why, source=source, kind=kind)

    return edit


def _definitions(source: str) -> dict[str, str]:
    """Top-level functions and classes of a cell, as ASTs without docstrings and comments."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return {node.name: ast.dump(node) for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def graded_functions(reference: str) -> set[str]:
    """The functions and classes a solution cell asks students to write."""
    return set(_definitions(reference))


def changed_functions(reference: str, mutant: Mutant) -> set[str]:
    """The reference cell's functions and classes that the mutant implements differently."""
    ours, theirs = _definitions(reference), _definitions(mutant.source)
    return {name for name, tree in ours.items() if name in theirs and theirs[name] != tree}


def load_mutants(path: str | Path) -> list[Mutant]:
    """The ``MUTANTS`` list of a ``solutions/mutants/NN_name.py`` module."""
    spec = importlib.util.spec_from_file_location(f"mutants_{Path(path).stem}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def apply(nb: NotebookNode, mutant: Mutant) -> NotebookNode:
    """A copy of the source notebook with the mutant in place, cut after the tests cell it targets."""
    nb = nbformat.from_dict(nb)
    ids = [cell.id for cell in nb.cells]
    for name, wanted in ((mutant.cell, "solution"), (mutant.fails, "tests")):
        if name not in ids or role(nb.cells[ids.index(name)]) != wanted:
            raise ValueError(f"mutant {mutant.why!r}: no {wanted} cell with grade_id {name!r}")
    if ids.index(mutant.cell) > ids.index(mutant.fails):
        raise ValueError(f"mutant {mutant.why!r}: tests cell {mutant.fails!r} comes before {mutant.cell!r}")
    nb.cells[ids.index(mutant.cell)].source = mutant.source
    nb.cells = nb.cells[: ids.index(mutant.fails) + 1]
    return nb


@dataclass(frozen=True)
class Outcome:
    """What happened to one mutant: its tests cell's result, how it failed, what ``call`` saw."""

    mutant: Mutant
    passed: bool
    message: str
    error: str  # the exception's type name ("AssertionError" when a check caught it), "" if passed
    record: tuple[tuple[str, str], ...]  # (function, fingerprint) of each call in the tests cell
    breaks: tuple[str, ...] = ()  # other tests cells that fail with this mutant (see run's ``cross``)

    @property
    def caught_by_a_check(self) -> bool:
        """Rejected by a test's own check, not only because the mutant's code raised."""
        return self.error == "AssertionError"


@dataclass(frozen=True)
class Run:
    outcomes: list[Outcome]
    reference: dict[str, tuple[tuple[str, str], ...]]  # tests cell -> the reference's record


CROSS_TIMEOUT = 20  # seconds for a mutant's run of the later tests cells (a note, not a verdict)


def run(nb: NotebookNode, mutants: list[Mutant], *, timeout: int = 120, cross: bool = False) -> Run:
    """Run every mutant (see the module doc) and the reference, recording the calls of tests cells.

    With ``cross``, also find the other tests cells each mutant breaks: from the state at the end
    of the reference run, the mutant's cell is run again and then every later tests cell that
    uses (directly or through the notebook's functions) a name the mutant's cell defines.
    """
    for mutant in mutants:
        apply(nb, mutant)  # clear errors for a mutant that names the wrong cells
    job = {
        "cells": [{"id": c.id, "role": role(c), "source": c.source}
                  for c in graded_part(nb).cells if c.cell_type == "code"],
        "mutants": [{"cell": m.cell, "fails": m.fails, "source": m.source} for m in mutants],
        "timeout": timeout,
        "cross": cross,
    }
    env = {**os.environ, **SINGLE_THREADED, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory(prefix="dlcourse-mutants-") as tmp:
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        done = subprocess.run([sys.executable, "-m", "autograder.mutants", "job.json", "results.json"],
                              cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the mutant runner failed ({done.returncode}):\n{done.stderr[-3000:]}")
        results = json.loads((Path(tmp) / "results.json").read_text())
    outcomes = [Outcome(m, o["passed"], o["message"], o["error"], tuple(map(tuple, o["record"])),
                        tuple(o.get("breaks", ())))
                for m, o in zip(mutants, results["mutants"], strict=True)]
    return Run(outcomes, {k: tuple(map(tuple, v)) for k, v in results["reference"].items()})


def run_all(nb: NotebookNode, mutants: list[Mutant], *, timeout: int = 120) -> list[CellResult]:
    """The result of each mutant's targeted tests cell, in the order given."""
    points = {c.metadata.nbgrader.get("grade_id"): float(c.metadata.nbgrader.get("points", 0))
              for c in nb.cells if role(c) == "tests"}
    return [CellResult(o.mutant.fails, points[o.mutant.fails], o.passed, o.message)
            for o in run(nb, mutants, timeout=timeout).outcomes]


def diagnosis_table(result: Run) -> dict[str, dict]:
    """Per tests cell: the reference's calls and fingerprints, and each mutant's differences.

    The form ``helpers.diagnosis`` reads (see there). Mutants that their tests did not reject,
    or whose tests cell recorded no call that differs from the reference, are left out.
    """
    table: dict[str, dict] = {}
    for outcome in result.outcomes:
        reference = result.reference.get(outcome.mutant.fails, ())
        names = [name for name, _ in reference]
        record = outcome.record
        if outcome.passed or not record or [name for name, _ in record] != names[: len(record)]:
            continue
        differs = {str(i): fp for i, (_, fp) in enumerate(record) if fp != reference[i][1]}
        if not differs:
            continue
        entry = table.setdefault(outcome.mutant.fails, {
            "calls": names, "reference": [fp for _, fp in reference], "mistakes": []})
        entry["mistakes"].append({"why": outcome.mutant.why, "seen": len(record), "differs": differs})
    return dict(sorted(table.items()))


# ----------------------------------------------------------------------------- the runner process


def _execute(cell: dict, source: str, namespace: dict) -> tuple[str, str] | None:
    """Run one cell's code in the namespace; the error it raised, if any: (type name, message)."""
    try:
        exec(compile(source, f"<cell {cell['id']}>", "exec"), namespace)
    except BaseException as err:  # noqa: BLE001 - a kernel survives whatever a cell raises
        if isinstance(err, KeyboardInterrupt):
            raise
        frames = traceback.extract_tb(err.__traceback__)
        where = f" (line {frames[-1].lineno})" if frames else ""
        return type(err).__name__, f"{type(err).__name__}: {err}"[:2000] + where
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return None


def _record() -> list:
    testing = sys.modules.get("helpers.testing")
    return [list(item) for item in testing._RECORD] if testing else []


def _reset() -> None:
    if testing := sys.modules.get("helpers.testing"):
        testing.reset_record()


def _run_mutant(cells: list[dict], start: int, mutant: dict, namespace: dict) -> dict:
    """In the forked child: the mutant's cell, then on up to its tests cell."""
    for index in range(start, len(cells)):
        cell = cells[index]
        _reset()
        failure = _execute(cell, mutant["source"] if index == start else cell["source"], namespace)
        if cell["id"] == mutant["fails"]:
            error, message = failure or ("", "")
            return {"passed": failure is None, "message": message, "error": error, "record": _record()}
    return {"passed": False, "message": f"tests cell {mutant['fails']} not found", "error": "", "record": []}


def _fork(cells: list[dict], start: int, mutant: dict, namespace: dict, timeout: float) -> dict:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 0
        try:
            outcome = _run_mutant(cells, start, mutant, namespace)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(json.dumps(outcome).encode())
        except BaseException:  # noqa: BLE001 - never return into the parent's loop
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], timeout)
        if ready:
            chunks.append(pipe.read())
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    if not ready:
        return {"passed": False, "message": f"timed out after {timeout} s", "error": "Timeout", "record": []}
    data = b"".join(chunks)
    if not data:
        return {"passed": False, "message": "the kernel died", "error": "DeadKernel", "record": []}
    return json.loads(data)


def _main(job_file: str, results_file: str) -> None:
    job = json.loads(Path(job_file).read_text())
    cells, mutants = job["cells"], job["mutants"]
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - cell output is not needed
    from IPython.display import display

    namespace: dict = {"__name__": "__main__", "display": display}
    outcomes: dict[int, dict] = {}
    reference: dict[str, list] = {}
    for index, cell in enumerate(cells):
        for number, mutant in enumerate(mutants):
            if mutant["cell"] == cell["id"]:
                outcomes[number] = _fork(cells, index, mutant, namespace, job["timeout"])
        _reset()
        _execute(cell, cell["source"], namespace)
        if cell["role"] == "tests":
            reference[cell["id"]] = _record()
    if job.get("cross"):
        for number, mutant in enumerate(mutants):
            found = _fork_cross(cells, mutant, namespace, min(job["timeout"], CROSS_TIMEOUT))
            outcomes[number]["breaks"] = found
    Path(results_file).write_text(json.dumps(
        {"mutants": [outcomes[n] for n in range(len(mutants))], "reference": reference}))


def _names(code) -> set[str]:
    """Global names a code object (and the code nested in it) refers to."""
    found = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            found |= _names(const)
    return found


def _uses(namespace: dict) -> dict[str, set[str]]:
    """For each function or class of the notebook, the global names it uses, transitively."""
    direct: dict[str, set[str]] = {}
    for name, obj in namespace.items():
        if getattr(obj, "__module__", None) != "__main__":
            continue
        if hasattr(obj, "__code__"):
            direct[name] = _names(obj.__code__)
        elif isinstance(obj, type):
            direct[name] = set().union(*(_names(f.__code__) for f in vars(obj).values() if hasattr(f, "__code__")))
    closure = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            for used in direct.get(todo.pop(), ()):
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
        closure[name] = seen
    return closure


def _fork_cross(cells: list[dict], mutant: dict, namespace: dict, timeout: float) -> list[str]:
    """The tests cells other than its own that a mutant makes fail (from the end state)."""
    ids = [c["id"] for c in cells]
    defined = set(_definitions(mutant["source"])) if mutant["source"].strip() else set()
    try:
        defined |= {n.id for n in ast.walk(ast.parse(mutant["source"])) if isinstance(n, ast.Name)
                    and isinstance(n.ctx, ast.Store)}
    except SyntaxError:
        return []
    uses = _uses(namespace)
    later = []
    for cell in cells[ids.index(mutant["cell"]) + 1:]:
        if cell["role"] != "tests" or cell["id"] == mutant["fails"]:
            continue
        try:
            names = {n.id for n in ast.walk(ast.parse(cell["source"])) if isinstance(n, ast.Name)}
        except SyntaxError:
            continue
        reach = names.union(*(uses.get(n, set()) for n in names))
        if reach & defined:
            later.append(cell)
    if not later:
        return []
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            _execute({"id": mutant["cell"]}, mutant["source"], namespace)
            broken = [c["id"] for c in later if _execute(c, c["source"], namespace) is not None]
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(json.dumps(broken).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], timeout)
        data = pipe.read() if ready else b""
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return json.loads(data) if data else ["(timed out or died while checking other tests cells)"]


if __name__ == "__main__":
    _main(*sys.argv[1:3])
