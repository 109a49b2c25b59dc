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

from autograder.authoring import role
from autograder.execute import CellResult


@dataclass(frozen=True)
class Mutant:
    """A realistic mistake: ``source`` replaces solution cell ``cell``; tests cell ``fails`` must fail."""

    cell: str
    fails: str
    why: str
    source: str


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


def run_all(nb: NotebookNode, mutants: list[Mutant], *, timeout: int = 120) -> list[CellResult]:
    """The result of each mutant's targeted tests cell, in the order given (see the module doc)."""
    for mutant in mutants:
        apply(nb, mutant)  # clear errors for a mutant that names the wrong cells
    job = {
        "cells": [{"id": c.id, "role": role(c), "source": c.source} for c in nb.cells if c.cell_type == "code"],
        "mutants": [{"cell": m.cell, "fails": m.fails, "source": m.source} for m in mutants],
        "timeout": timeout,
    }
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory(prefix="dlcourse-mutants-") as tmp:
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        done = subprocess.run([sys.executable, "-m", "autograder.mutants", "job.json", "results.json"],
                              cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the mutant runner failed ({done.returncode}):\n{done.stderr[-3000:]}")
        outcomes = json.loads((Path(tmp) / "results.json").read_text())
    points = {c.metadata.nbgrader.get("grade_id"): float(c.metadata.nbgrader.get("points", 0))
              for c in nb.cells if role(c) == "tests"}
    return [CellResult(m.fails, points[m.fails], o["passed"], o["message"]) for m, o in zip(mutants, outcomes, strict=True)]


# ----------------------------------------------------------------------------- the runner process


def _execute(cell: dict, source: str, namespace: dict) -> str | None:
    """Run one cell's code in the namespace; the error it raised, if any, as a short message."""
    try:
        exec(compile(source, f"<cell {cell['id']}>", "exec"), namespace)
    except BaseException as err:  # noqa: BLE001 - a kernel survives whatever a cell raises
        if isinstance(err, KeyboardInterrupt):
            raise
        frames = traceback.extract_tb(err.__traceback__)
        return f"{type(err).__name__}: {err}"[:500] + (f" (line {frames[-1].lineno})" if frames else "")
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return None


def _run_mutant(cells: list[dict], start: int, mutant: dict, namespace: dict) -> dict:
    """In the forked child: the mutant's cell, then on up to its tests cell."""
    for index in range(start, len(cells)):
        cell = cells[index]
        failure = _execute(cell, mutant["source"] if index == start else cell["source"], namespace)
        if cell["id"] == mutant["fails"]:
            return {"passed": failure is None, "message": failure or ""}
    return {"passed": False, "message": f"tests cell {mutant['fails']} not found"}


def _fork(cells: list[dict], start: int, mutant: dict, namespace: dict, timeout: float) -> dict:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 0
        try:
            outcome = _run_mutant(cells, start, mutant, namespace)
            os.write(write_end, json.dumps(outcome).encode())
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
        return {"passed": False, "message": f"timed out after {timeout} s"}
    data = b"".join(chunks)
    return json.loads(data) if data else {"passed": False, "message": "the kernel died"}


def _main(job_file: str, results_file: str) -> None:
    job = json.loads(Path(job_file).read_text())
    cells, mutants = job["cells"], job["mutants"]
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - cell output is not needed
    from IPython.display import display

    namespace: dict = {"__name__": "__main__", "display": display}
    outcomes: dict[int, dict] = {}
    for index, cell in enumerate(cells):
        for number, mutant in enumerate(mutants):
            if mutant["cell"] == cell["id"]:
                outcomes[number] = _fork(cells, index, mutant, namespace, job["timeout"])
        _execute(cell, cell["source"], namespace)
    Path(results_file).write_text(json.dumps([outcomes[n] for n in range(len(mutants))]))


if __name__ == "__main__":
    _main(*sys.argv[1:3])
