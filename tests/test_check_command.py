"""`./course check` on crafted small notebooks: a kernel that dies or hangs, concept checks, and
tests that fail only because an earlier exercise is unsolved."""

from __future__ import annotations

import signal
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from autograder import execute
from autograder.cli import main

pytestmark = pytest.mark.slow

ROLES = {
    "solution": {"solution": True, "grade": False, "locked": False, "task": False},
    "tests": {"solution": False, "grade": True, "locked": True, "task": False},
}


def cell(source: str, role: str | None = None, grade_id: str = "", points: float = 1):
    made = new_code_cell(source)
    if role:
        made.metadata["nbgrader"] = {**ROLES[role], "grade_id": grade_id, "schema_version": 3}
        if role == "tests":
            made.metadata["nbgrader"]["points"] = points
    return made


def notebook(tmp_path: Path, *cells) -> Path:
    path = tmp_path / "work.ipynb"
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(new_notebook(cells=list(cells), metadata={"kernelspec": kernelspec}), path)
    return path


def check(path: Path, timeout: int = 60) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(path), "--timeout", str(timeout)])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def a_cell_that(does: str, tmp_path: Path) -> tuple[int, str]:
    """A passing test, a cell that does ``does``, then a test that can no longer run."""
    return check(notebook(
        tmp_path,
        cell("x = 1"),
        cell("assert x == 1", "tests", "test_before"),
        cell(does),
        cell("assert x == 1", "tests", "test_after"),
    ))


def assert_summary_after_death(code: int, output: str) -> None:
    assert code == 1
    assert "Traceback" not in output and "DeadKernelError" not in output, output
    assert "PASS  test_before" in output and "test_after                       did not run" in output, output
    assert "cell 3 ('import " in output and "the 1 code cell after it did not run" in output, output
    assert "1/2 visible test cells pass" in output, output


def test_os_exit_is_named(tmp_path):
    code, output = a_cell_that("import os\nos._exit(3)", tmp_path)
    assert_summary_after_death(code, output)
    assert "the kernel exited with status 3 (os._exit" in output, output


def test_segfault_is_named(tmp_path):
    code, output = a_cell_that("import ctypes\nctypes.string_at(0)", tmp_path)
    assert_summary_after_death(code, output)
    assert "segmentation fault (SIGSEGV)" in output, output


def test_a_kernel_killed_for_memory_is_named(tmp_path):
    # What the kernel's out-of-memory killer does to a kernel that takes all the memory.
    code, output = a_cell_that("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", tmp_path)
    assert_summary_after_death(code, output)
    assert "killed (SIGKILL), most often because it used more memory than there is" in output, output


def test_a_memory_blow_up_under_a_limit_points_at_its_cell(tmp_path):
    blow_up = (
        "import resource\n"
        "import numpy as np\n"
        "_, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, hard))  # this kernel only\n"
        "big = np.ones(2**36)"
    )
    code, output = check(notebook(
        tmp_path,
        cell(blow_up),
        cell("assert big.sum() > 0", "tests", "test_big"),
    ))
    assert code == 1
    assert "NameError: name 'big' is not defined" in output, output
    assert "big is set by cell 1, which ran out of memory (MemoryError): fix that cell first" in output, output


def test_a_cell_past_the_timeout_is_interrupted_and_the_rest_runs(tmp_path):
    code, output = check(notebook(
        tmp_path,
        cell("import time\ntime.sleep(60)"),
        cell("assert 1 + 1 == 2", "tests", "test_after_sleep"),
    ), timeout=2)
    assert code == 1, output
    assert "cell 1 ('import time'): timed out after 2 s and was interrupted" in output, output
    assert "PASS  test_after_sleep" in output and "Traceback" not in output, output


def test_a_kernel_that_ignores_the_interrupt_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "INTERRUPT_GRACE", 2)
    code, output = check(notebook(
        tmp_path,
        cell("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(30)"),
        cell("assert True", "tests", "test_after_hang"),
    ), timeout=2)
    assert code == 1
    assert "timed out after 2 s and did not stop when interrupted" in output, output
    assert "test_after_hang                  did not run" in output, output


def test_concept_checks_are_recorded_not_passed(tmp_path):
    code, output = check(notebook(
        tmp_path,
        cell("def double(x):\n    return 2 * x", "solution", "double"),
        cell("assert double(2) == 4", "tests", "test_double", 2),
        cell("q1_answer = 'b'", "solution", "q1"),
        cell("assert_that = lambda ok, message: None\n"
             "assert_that('q1_answer' in globals(), 'answer q1')\n"
             "assert q1_answer in ('a', 'b', 'c')", "tests", "test_q1"),
    ))
    assert code == 0, output
    assert "PASS  test_double" in output
    assert "PASS  test_q1" not in output and "1/1" not in output.split("test_q1")[1].splitlines()[0]
    assert "ok    test_q1                          answer recorded: graded by the hidden check (1 point)" in output
    assert "1 concept-check answer is recorded; only the hidden checks say whether they are right" in output


def test_an_unsolved_exercise_that_later_cells_need_is_named(tmp_path):
    code, output = check(notebook(
        tmp_path,
        cell("import numpy as np"),
        cell("def features(x):\n    raise NotImplementedError()", "solution", "features"),
        cell("assert features(2) == 4", "tests", "test_features"),
        cell("def fit(x):\n    return x", "solution", "fit"),
        cell("assert fit(1) == 1", "tests", "test_fit"),
        cell("table = fit(np.array([features(i) for i in range(3)]))"),  # uses both exercises
        cell("score = table.sum()"),
        cell("assert score == 5", "tests", "test_score"),
        cell("# weights = ...\nraise NotImplementedError()", "solution", "weights"),
        cell("assert weights == 9", "tests", "test_weights"),
        cell("bias = features(1)", "solution", "bias"),  # solved, but needs features
        cell("assert bias == 1", "tests", "test_bias"),
    ))
    assert code == 1
    assert "PASS  test_fit" in output
    assert "NameError: name 'score' is not defined" in output, output
    assert "solve features first (score is computed from it)" in output, output  # fit is solved
    assert "solve weights first (it defines weights)" in output, output
    assert "solve features first (bias is computed from it)" in output, output


@pytest.mark.parametrize("status, sandboxed, words", [
    (-signal.SIGSEGV, False, "segmentation fault"),
    (128 + signal.SIGSEGV, True, "segmentation fault"),
    (128 + signal.SIGKILL, True, "memory"),
    (-signal.SIGABRT, False, "aborted"),
    (3, False, "exited with status 3"),
    (139, False, "exited with status 139"),
    (None, False, "out of memory, os._exit or a crash"),
])
def test_death_reasons(status, sandboxed, words):
    assert words in execute.death_reason(status, sandboxed=sandboxed)
