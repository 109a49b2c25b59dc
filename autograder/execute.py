"""Execute notebooks in a fresh kernel and read the result of every autograded test cell."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from autograder.authoring import role
from autograder.outputs import cell_failure

# Calls in a concept check's visible test that check only the answer's form, never its value.
FORMAT_CHECKS = frozenset({"assert_that", "assert_choice", "assert_scalar", "globals", "isinstance", "len"})
# A commented-out assignment, as the release shows what an answer cell must define.
_TEMPLATE = re.compile(r"^[ \t]*#[ \t]*([A-Za-z_]\w*)[ \t]*=[^=]", re.MULTILINE)
# A kernel that does not answer this long after an interrupt is stuck: the run stops there.
INTERRUPT_GRACE = 10


@dataclass(frozen=True)
class CellResult:
    """Outcome of one autograded test cell, as nbgrader would score it.

    ``concept``: a concept check whose visible test only checks the answer's form (its value is
    graded by the hidden test); ``hint``: what to do first (an unsolved exercise it depends on);
    ``ran``: False when the kernel had died or stopped before the cell.
    """

    grade_id: str
    points: float
    passed: bool
    message: str = ""
    concept: bool = False
    hint: str = ""
    ran: bool = True

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0


@dataclass(frozen=True)
class Stop:
    """A cell that did not finish: it timed out (and was interrupted) or the kernel died in it.

    ``reason`` says what happened to the cell; ``fatal``: the kernel is gone or stuck, so the
    cells after it did not run.
    """

    index: int
    reason: str
    fatal: bool


@dataclass
class Run:
    """An executed notebook and the cells that did not finish normally."""

    notebook: NotebookNode
    stops: list[Stop]
    timeout: int


# Our matrices are small: one BLAS thread is as fast as several on an idle machine and much
# faster on a loaded one (reference runs, mutants and validation all use it).
SINGLE_THREADED = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Kernels started inside (nbgrader's too) inherit SINGLE_THREADED; os.environ is restored after."""
    saved = {key: os.environ.get(key) for key in SINGLE_THREADED}
    os.environ.update(SINGLE_THREADED)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(nb: NotebookNode, *, timeout: int = 120, cwd: str | Path | None = None) -> NotebookNode:
    """Run every cell in a fresh single-threaded kernel (errors do not stop the run, as in
    nbgrader) and return the notebook."""
    nb = nbformat.from_dict(nb)  # never touch the caller's copy
    with tempfile.TemporaryDirectory(prefix="dlcourse-run-") as tmp:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(cwd or tmp)}},
        )
        client.execute(env={**os.environ, **SINGLE_THREADED})
    return nb


SIGNAL_REASONS = {
    signal.SIGKILL: "was killed (SIGKILL), most often because it used more memory than there is",
    signal.SIGSEGV: "crashed with a segmentation fault (SIGSEGV), e.g. from ctypes or a C extension",
    signal.SIGBUS: "crashed with a bus error (SIGBUS)",
    signal.SIGABRT: "aborted (SIGABRT), e.g. a C library gave up",
    signal.SIGFPE: "crashed with a floating-point exception (SIGFPE)",
    signal.SIGILL: "crashed with an illegal instruction (SIGILL)",
    signal.SIGXCPU: "was stopped for using more CPU time than allowed (SIGXCPU)",
    signal.SIGXFSZ: "was stopped for writing a file larger than allowed (SIGXFSZ)",
}
UNKNOWN_DEATH = "died (out of memory, os._exit or a crash)"


def death_reason(returncode: int | None, *, sandboxed: bool = False) -> str:
    """Why a kernel process ended, from its exit status: "<the kernel> ..." continues it.

    Popen reports a signal as a negative status; bubblewrap, which runs sandboxed kernels,
    exits with 128 + the signal's number.
    """
    if returncode is None:
        return UNKNOWN_DEATH
    number = -returncode if returncode < 0 else returncode - 128 if sandboxed and returncode > 128 else 0
    if number:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return SIGNAL_REASONS.get(number, f"was stopped by {name}")
    return f"exited with status {returncode} (os._exit or a fatal error in a library)"


def kernel_returncode(km) -> int | None:
    """The kernel process's exit status, where its kernel manager still has the process."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None:
        return None
    for _ in range(20):  # the process may take a moment to be reaped after its sockets closed
        code = process.poll()
        if code is not None:
            return code
        time.sleep(0.05)
    return None


def run(nb: NotebookNode, *, timeout: int = 120, cwd: str | Path | None = None) -> Run:
    """Run every cell as :func:`execute` does, but never raise for a dead or stuck kernel.

    A cell that runs longer than ``timeout`` seconds is interrupted and the run goes on; if the
    kernel does not answer after the interrupt, or dies, the run stops there. Each such cell
    is recorded as a :class:`Stop`.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict(nb)
    stops: list[Stop] = []
    timed_out = {"ename": "TimeoutError", "evalue": f"the cell ran longer than {timeout} s", "traceback": []}
    with tempfile.TemporaryDirectory(prefix="dlcourse-run-") as tmp:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", allow_errors=True,
            interrupt_on_timeout=True, error_on_timeout=timed_out,
            resources={"metadata": {"path": str(cwd or tmp)}},
        )
        with client.setup_kernel(stderr=subprocess.DEVNULL):  # the kernel's own log is no news to students
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                began = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                    if time.monotonic() - began < timeout:
                        continue
                    if _responds(client, nb):
                        stops.append(Stop(index, f"timed out after {timeout} s and was interrupted", False))
                        continue
                    stops.append(Stop(index, f"timed out after {timeout} s and did not stop when interrupted", True))
                    client.shutdown_kernel = "immediate"  # a stuck kernel would not answer a shutdown request
                except DeadKernelError:
                    reason = death_reason(kernel_returncode(client.km))
                    stops.append(Stop(index, f"while it ran, the kernel {reason}", True))
                except CellTimeoutError:
                    stops.append(Stop(index, f"timed out after {timeout} s", True))
                break
    return Run(nb, stops, timeout)


def _responds(client: NotebookClient, nb: NotebookNode) -> bool:
    """Whether the kernel runs a trivial cell within :data:`INTERRUPT_GRACE` seconds."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    probe = nbformat.v4.new_code_cell("pass")
    nb.cells.append(probe)  # nbclient addresses a cell by its index
    saved, client.timeout = client.timeout, INTERRUPT_GRACE
    began = time.monotonic()
    try:
        client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
        return time.monotonic() - began < INTERRUPT_GRACE
    except (CellTimeoutError, DeadKernelError):
        return False
    finally:
        client.timeout = saved
        nb.cells.pop()


def cell_results(nb: NotebookNode, stops: Sequence[Stop] = ()) -> list[CellResult]:
    """Results of the executed notebook's autograded test cells, in notebook order.

    With the ``stops`` of a :func:`run`: a timed-out test cell says so, the test cells after a
    fatal stop did not run, and a NameError names the unsolved exercise to solve first.
    """
    stopped = {stop.index: stop for stop in stops}
    fatal = min((stop.index for stop in stops if stop.fatal), default=len(nb.cells))
    unsolved = unsolved_exercises(nb)
    results = []
    for index, cell in enumerate(nb.cells):
        if role(cell) != "tests":
            continue
        meta = cell.metadata["nbgrader"]
        result = CellResult(meta["grade_id"], float(meta["points"]), False, concept=is_concept_check(nb, index))
        if index > fatal:
            results.append(replace(result, message="did not run: the run had stopped before it", ran=False))
            continue
        failure = stopped[index].reason if index in stopped else cell_failure(cell.get("outputs", []))
        hint = ""
        if failure and (missing := re.search(r"NameError: name '(\w+)' is not defined", failure)):
            hint = solve_first(nb, index, missing.group(1), unsolved)
        results.append(replace(result, passed=failure is None, message=failure or "", hint=hint))
    return results


# ----------------------------------------------------------------------------- which cell needs which


def _tree(cell: NotebookNode) -> ast.Module | None:
    return parse_code(cell.source)


def parse_code(source: str) -> ast.Module | None:
    """A code cell's source as Python (IPython's magics and shell escapes turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return None


def defined_names(tree: ast.Module) -> set[str]:
    """Names a cell binds at the top level (assignments, loops, imports, functions, classes)."""
    names: set[str] = set()
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        todo.extend(ast.iter_child_nodes(node))
    return names


def used_names(tree: ast.Module) -> set[str]:
    """Every name a cell reads, function bodies included (a function uses what it calls)."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _previous_code_cell(nb: NotebookNode, index: int) -> NotebookNode | None:
    return next((c for c in reversed(nb.cells[:index]) if c.cell_type == "code"), None)


def is_concept_check(nb: NotebookNode, index: int) -> bool:
    """Whether the test cell at ``index`` only checks the form of a concept check's answer.

    A concept check is a solution cell with a plain answer (no function or class) right before
    its test cell; a visible test that calls only form checks (``assert_choice``,
    ``assert_scalar``, ``assert_that(... in globals())``, ``assert``) leaves the value to the
    hidden test.
    """
    answer = _previous_code_cell(nb, index)
    if answer is None or role(answer) != "solution" or (tree := _tree(answer)) is None:
        return False
    if any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for n in ast.walk(tree)):
        return False
    test = _tree(nb.cells[index])
    calls = {n.func.id for n in ast.walk(test) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)} \
        if test is not None else {"?"}
    return calls <= FORMAT_CHECKS


def exercises(nb: NotebookNode) -> dict[str, list[int]]:
    """Each exercise (solution cell's grade id) and the indices of its test cells: those that
    follow its solution cell with no other code cell in between."""
    found: dict[str, list[int]] = {}
    current = None
    for index, cell in enumerate(nb.cells):
        if role(cell) == "solution":
            current = cell.metadata["nbgrader"]["grade_id"]
            found.setdefault(current, [])
        elif role(cell) == "tests" and current is not None:
            found[current].append(index)
        elif cell.cell_type == "code":
            current = None
    return found


def unsolved_exercises(nb: NotebookNode) -> set[str]:
    """Exercises of an executed notebook whose own cell raised or one of whose tests failed."""
    unsolved = set()
    for cell in nb.cells:
        if role(cell) == "solution" and any(o.output_type == "error" for o in cell.get("outputs", [])):
            unsolved.add(cell.metadata["nbgrader"]["grade_id"])
    for grade_id, tests in exercises(nb).items():
        if any(cell_failure(nb.cells[i].get("outputs", [])) is not None for i in tests):
            unsolved.add(grade_id)
    return unsolved


def origins(nb: NotebookNode, upto: int) -> dict[str, tuple[int, set[str]]]:
    """For each name bound before cell ``upto``: the cell that last binds it and the exercises
    its value comes from (the cell's own exercise, and those of every name the cell reads)."""
    found: dict[str, tuple[int, set[str]]] = {}
    for index, cell in enumerate(nb.cells[:upto]):
        if cell.cell_type != "code" or role(cell) == "tests" or (tree := _tree(cell)) is None:
            continue
        sources = {cell.metadata["nbgrader"]["grade_id"]} if role(cell) == "solution" else set()
        for name in used_names(tree):
            if name in found:
                sources |= found[name][1]
        names = defined_names(tree)
        if role(cell) == "solution":  # the release's template of an answer: "# q1_answer = ..."
            names |= set(_TEMPLATE.findall(cell.source))
        for name in names:
            found[name] = (index, sources)
    return found


def solve_first(nb: NotebookNode, index: int, name: str, unsolved: set[str]) -> str:
    """The sentence that says which unsolved exercise to solve before the cell at ``index``."""
    origin = origins(nb, index).get(name)
    if origin is None:
        return ""
    where, sources = origin
    defining = nb.cells[where]
    own = defining.metadata["nbgrader"]["grade_id"] if role(defining) == "solution" else None
    order = {grade_id: i for i, grade_id in enumerate(exercises(nb))}
    todo = sorted(sources & unsolved - {own}, key=lambda g: order.get(g, len(order)))
    if not todo and own in unsolved:  # nothing it needs is unsolved: the exercise itself is
        return f"solve {own} first (it defines {name})"
    if not todo:
        failed = next((o for o in defining.get("outputs", []) if o.output_type == "error"), None)
        if failed is None:
            return ""
        why = "ran out of memory (MemoryError)" if failed.ename == "MemoryError" else f"failed with {failed.ename}"
        return f"{name} is set by cell {where + 1}, which {why}: fix that cell first"
    shown = todo[0] if len(todo) == 1 else ", ".join(todo[:-1][:3]) + f" and {todo[-1]}"
    return f"solve {shown} first ({name} is computed from {'it' if len(todo) == 1 else 'them'})"
