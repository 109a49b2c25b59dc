"""Crafted submissions against the batch grader, each with the outcome it must get.

The toy chapter: `mse` (2 points), a multiple-choice `q1` (1 point), a written answer (2, by
hand). A correct submission therefore scores 3 automatically.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from conftest import make_toy_course

from autograder import batch, grading, release
from autograder.authoring import read_source
from autograder.restore import reference_notebook
from autograder.sandbox import Limits, sandbox_available
from autograder.submissions import find_submissions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap and root: apt-get install bubblewrap"),
]

GOOD = "import numpy as np\ndef mse(pred, target):\n    return float(np.mean((np.asarray(pred, dtype=float) - np.asarray(target, dtype=float))**2))"
ANSWER = 'q1_answer = "b"'
WRONG = "def mse(pred, target):\n    return 0.0"
# Replaces the kernel's replies: errors become "ok" and error outputs are dropped.
SENDER = """k = get_ipython().kernel
_orig = k.session.send
def _send(stream, msg_or_type, content=None, *args, **kwargs):
    if isinstance(msg_or_type, dict):
        if msg_or_type.get('msg_type') == 'error':
            return None
        msg_or_type.get('content', {}).update(status='ok')
    if msg_or_type == 'error':
        return None
    if isinstance(content, dict) and content.get('status') == 'error':
        content = {**content, 'status': 'ok'}
    return _orig(stream, msg_or_type, content, *args, **kwargs)
k.session.send = _send
"""
# Replaces the judge's agent with one that answers every request with 2.0 (mse's hidden value).
FORGE = """_judge_agent._do = lambda request: 2.0 if request[0] == 'call' else _judge_agent.__dict__['OPERATORS']['bool'](0)
"""
# Returns an object that looks for the checker's expected value on the stack.
FRAMES = """import sys
class Sneaky:
    def __array__(self, dtype=None, copy=None):
        import numpy as np
        f = sys._getframe()
        while f is not None:
            for name in ('expected', 'desired', 'b'):
                if name in f.f_locals:
                    return np.asarray(f.f_locals[name], dtype=float)
            f = f.f_back
        return np.asarray(-1.0)
    def __float__(self):
        return float(self.__array__())
def mse(pred, target):
    return Sneaky()
"""
LIMITS = Limits(cell_timeout=4, wall_time=40, memory=2 * 2**30, processes=64)


def leak_probe(action: str) -> str:
    """A correct mse that turns wrong if ``action`` succeeds, so a breach costs visible points."""
    return f"{GOOD}\ntry:\n    {action}\n    mse = lambda pred, target: -1.0\nexcept Exception:\n    pass"


@dataclass
class Case:
    student: str
    edits: dict[str, str]  # grade id or "+after:<id>" (extra code cell) -> source
    status: str
    score: float
    flagged: bool = False
    raw: str | None = None  # the file's bytes instead of a notebook
    mutate: object = None  # callable(nb) applied to the notebook


def _extra(nb, after: str, source: str) -> None:
    index = [c.id for c in nb.cells].index(after)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))


def cases(course_dir: Path, other: Path, port: int) -> list[Case]:
    ok = {"mse": GOOD, "q1": ANSWER}
    return [
        Case("correct", ok, "graded", 3),
        Case("blank", {}, "graded", 0),
        Case("wrong_answer", {"mse": GOOD, "q1": 'q1_answer = "a"'}, "graded", 2),
        Case("noisy_warnings", {"mse": GOOD.replace("    return", "    import warnings; warnings.warn('overflow', RuntimeWarning)\n    return"), "q1": ANSWER}, "graded", 3),
        Case("infinite_loop", {"mse": GOOD, "q1": "while True:\n    pass"}, "timed out", 2),
        Case("sleeps_forever", {"mse": GOOD, "q1": "import time\ntime.sleep(10**6)"}, "timed out", 2),
        Case("memory_bomb", {**ok, "+after:mse": "x = bytearray(64 * 2**30)"}, "graded", 3),
        Case("os_exit", {"mse": "import os\nos._exit(3)", "q1": ANSWER}, "crashed", 0),
        Case("segfault_after_first_test", {"mse": GOOD, "q1": "import ctypes\nctypes.string_at(0)"}, "crashed", 2),
        Case("fork_storm", {"mse": GOOD, "q1": "import os\nwhile True:\n    os.fork()"}, "*", 2),
        Case("huge_output", {**ok, "+after:mse": "print('x' * 20_000_000)"}, "graded", 3),
        Case("always_equal", {"mse": "class Eq(float):\n    def __eq__(self, other): return True\ndef mse(pred, target):\n    return Eq(42)", "q1": ANSWER}, "graded", 1),
        Case("always_equal_array", {"mse": "import numpy as np\nclass A(np.ndarray):\n    def __eq__(self, o): return np.ones(1, bool).view(A)\ndef mse(pred, target):\n    return np.array(5.0).view(A)", "q1": ANSWER}, "graded", 1),
        # Cheats on a blank submission (a wrong mse, q1 unanswered) score 0: the tests run in the judge.
        Case("patch_allclose", {"mse": "import numpy as np\nnp.allclose = lambda *a, **k: True\n" + WRONG}, "graded", 0),
        Case("patch_np_testing", {"mse": "import numpy.testing as npt\nnpt.assert_allclose = lambda *a, **k: None\n" + WRONG}, "graded", 0),
        Case("patch_test_helper", {"mse": "import helpers.testing as t\nt.assert_close = lambda *a, **k: None\n" + WRONG}, "graded", 0),
        Case("patch_helper_defaults", {"mse": "import helpers.testing as t\nt.assert_close.__defaults__ = tuple(1e9 if isinstance(d, float) else d for d in t.assert_close.__defaults__)\n" + WRONG}, "graded", 0),
        Case("patch_helper_private", {"mse": "import helpers.testing as t\nfor n in dir(t):\n    if n.startswith('_') and callable(getattr(t, n)) and not n.startswith('__'):\n        setattr(t, n, lambda *a, **k: None)\nt.fail = lambda *a, **k: None\n" + WRONG}, "graded", 0),
        Case("rebind_test_names", {"mse": "assert_close = lambda *a, **k: None\n" + WRONG}, "graded", 0),
        Case("patch_builtin", {"mse": "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\n" + WRONG}, "graded", 0),
        Case("patch_sys_exit", {"mse": "import sys\nsys.exit = lambda *a: None\n" + WRONG}, "graded", 0),
        Case("hide_tracebacks", {"mse": "get_ipython().showtraceback = lambda *a, **k: None\n" + WRONG}, "graded", 0),
        Case("cell_hook", {"mse": "get_ipython().events.register('post_run_cell', lambda result: setattr(result, 'error_in_exec', None))\n" + WRONG}, "graded", 0),
        # Cheats that stop the kernel from serving the judge lose every test after them.
        Case("input_transformer", {"mse": "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n" + WRONG, "q1": ANSWER}, "*", 0),
        Case("ast_transformer", {"mse": "import ast\nclass NoAsserts(ast.NodeTransformer):\n    def visit_Call(self, node):\n        return ast.Constant(None)\n    def visit_Assert(self, node):\n        return ast.Pass()\nget_ipython().ast_transformers.append(NoAsserts())\n" + WRONG, "q1": ANSWER}, "*", 0),
        Case("kernel_sender", {"mse": SENDER + WRONG}, "graded", 0),
        Case("trace_hook", {"mse": "import sys\nsys.settrace(lambda *a: None)\nsys.setprofile(lambda *a: None)\n" + WRONG}, "graded", 0),
        Case("forge_agent", {"mse": FORGE + WRONG, "q1": ANSWER}, "graded", 0),
        Case("frame_reader", {"mse": FRAMES}, "graded", 0),
        Case("equal_object", {"mse": "class Yes:\n    def __eq__(self, o): return True\n    def __bool__(self): return True\n"
                              "def mse(pred, target):\n    return Yes()", "q1": "class Yes:\n    def __eq__(self, o): return True\nq1_answer = Yes()"}, "graded", 0),
        Case("equal_str", {"mse": WRONG, "q1": "class S(str):\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n    __hash__ = str.__hash__\nq1_answer = S('zzz')"}, "graded", 0),
        # Correct answers with odd company keep full marks.
        Case("correct_beside_patches", {"mse": "import numpy as np\nnp.allclose = lambda *a, **k: False\nassert_close = None\n" + GOOD, "q1": ANSWER}, "graded", 3),
        Case("correct_subclasses", {"mse": "import numpy as np\nclass F(float):\n    pass\ndef mse(pred, target):\n    return F(np.mean((np.asarray(pred, dtype=float) - np.asarray(target, dtype=float))**2))", "q1": "class S(str):\n    pass\nq1_answer = S('b')"}, "graded", 3),
        Case("reads_history", {**ok, "+after:test_mse": "print(In)\nprint(get_ipython().history_manager.input_hist_raw)"}, "graded", 3),
        Case("ignores_sigint", {"mse": GOOD, "q1": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"}, "timed out", 2),
        Case("catches_interrupt", {"mse": GOOD, "q1": "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"}, "timed out", 2),
        Case("huge_ungraded_output", {**ok, "+after:mse": "for _ in range(200_000):\n    print('x' * 100)"}, "graded", 3),
        Case("read_gradebook", {"mse": leak_probe(f"open({str(course_dir / 'gradebook.db')!r}).read()"), "q1": ANSWER}, "graded", 3),
        Case("read_solutions", {"mse": leak_probe(f"open({str(Path(__file__).parents[1] / 'solutions' / 'toy.py')!r}).read()"), "q1": ANSWER}, "graded", 3),
        Case("read_course_source", {"mse": leak_probe(f"open({str(course_dir / 'source' / 'toy' / 'toy.ipynb')!r}).read()"), "q1": ANSWER}, "graded", 3),
        Case("read_other_student", {"mse": leak_probe(f"open({str(other)!r}).read()"), "q1": ANSWER}, "graded", 3),
        Case("network", {"mse": leak_probe(f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=2)"), "q1": ANSWER}, "graded", 3),
        Case("write_outside", {"mse": leak_probe(f"open({str(course_dir / 'planted.txt')!r}, 'w').write('x')"), "q1": ANSWER}, "graded", 3),
        Case("edited_test_cell", {"mse": "def mse(pred, target):\n    return 0.0", "test_mse": "pass", "q1": ANSWER}, "graded", 1),
        Case("fake_points_cell", {**ok, "+after:q1": "bonus = 1"}, "graded", 3,
             mutate=lambda nb: next(c for c in nb.cells if c.source == "bonus = 1").metadata.update({"nbgrader": {"grade": True, "points": 100, "grade_id": "test_mse", "solution": False, "locked": True, "schema_version": 3}})),
        Case("deleted_test_cell", ok, "graded", 3, mutate=lambda nb: nb.cells.pop([c.id for c in nb.cells].index("test_mse"))),
        # Two copies of an exercise: the first counts, as in nbgrader.
        Case("duplicated_cells", ok, "partial", 2, mutate=lambda nb: nb.cells.insert(0, nbformat.from_dict({**nb.cells[[c.id for c in nb.cells].index("q1")], "id": "dup", "source": 'q1_answer = "c"'}))),
        Case("retyped_cell", ok, "graded", 3, mutate=lambda nb: nb.cells[[c.id for c in nb.cells].index("mse")].update({"cell_type": "markdown"})),
        Case("reordered", ok, "graded", 3, mutate=lambda nb: nb.cells.reverse()),
        Case("metadata_stripped", ok, "graded", 3, mutate=lambda nb: [c.metadata.clear() for c in nb.cells]),
        Case("old_nbformat", ok, "graded", 3, mutate="v4.2"),
        Case("invalid_json", {}, "malformed", 0, raw='{"cells": [ {"cell_type": '),
        Case("empty_file", {}, "malformed", 0, raw=""),
        # Files that are not regular files are never opened (a link's target never reaches a note).
        Case("link_to_source", {}, "malformed", 0, mutate=f"link:{course_dir / 'source' / 'toy' / 'toy.ipynb'}"),
        Case("link_to_passwd", {}, "malformed", 0, mutate="link:/etc/passwd"),
        Case("fifo", {}, "malformed", 0, mutate="fifo"),
    ]


def write_case(case: Case, release_path: Path, folder: Path) -> None:
    target = folder / case.student / release_path.name
    target.parent.mkdir(parents=True)
    if isinstance(case.mutate, str) and case.mutate.startswith("link:"):
        target.symlink_to(case.mutate.removeprefix("link:"))
        return
    if case.mutate == "fifo":
        os.mkfifo(target)
        return
    if case.raw is not None:
        target.write_text(case.raw)
        return
    nb = nbformat.read(release_path, as_version=4)
    for key, source in case.edits.items():
        if key.startswith("+after:"):
            _extra(nb, key.split(":", 1)[1], source)
    for cell in nb.cells:
        if cell.id in case.edits:
            cell.source = case.edits[cell.id]
    if case.mutate == "v4.2":
        text = nbformat.writes(nb)
        old = json.loads(text)
        old["nbformat_minor"] = 2
        for cell in old["cells"]:
            cell.pop("id", None)
        target.write_text(json.dumps(old))
        return
    if callable(case.mutate):
        case.mutate(nb)
    target.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("adversarial")
    course = make_toy_course(root / "toy")
    release.build(course.chapters)
    course_dir = root / "course"
    folder = root / "submissions"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    all_cases = cases(course_dir, folder / "correct" / "toy.ipynb", server.getsockname()[1])
    for case in all_cases:
        write_case(case, course.chapters[0].release, folder)
    found, problems = find_submissions(folder, course)
    assert problems == []
    start = time.perf_counter()
    results = batch.grade_batch(course, found, course_dir, limits=LIMITS, workers=2, progress=False)
    print(f"adversarial batch: {len(results)} submissions in {time.perf_counter() - start:.1f} s")
    server.close()
    return {r.student: r for r in results}, {c.student: c for c in all_cases}, course_dir


def test_there_are_at_least_25_crafted_submissions(graded):
    results, expected, _ = graded
    assert len(expected) >= 25 and set(results) == set(expected)


@pytest.mark.parametrize("student", [c.student for c in cases(Path("/x"), Path("/y"), 1)])
def test_outcome(graded, student):
    results, expected, _ = graded
    result, case = results[student], expected[student]
    detail = f"{student}: {result.status} {result.score:g} flags={result.flags} notes={result.notes} " + str(
        {k: (v.score, v.message[:80]) for k, v in result.cells.items()})
    if case.status != "*":
        assert result.status == case.status, detail
    assert result.score == case.score, detail
    assert bool(result.flags) == case.flagged, detail


def test_links_and_fifos_are_not_read(graded):
    results, _, _ = graded
    for student in ("link_to_source", "link_to_passwd", "fifo"):
        notes = " ".join(results[student].notes)
        assert "not a notebook file" in notes or "not a regular file" in notes, notes
        assert "root:" not in notes and "nbgrader" not in notes


def test_no_hidden_test_reaches_the_kernel(graded):
    results, _, _ = graded
    cell = next(c for c in results["reads_history"].notebook.cells if c.source.startswith("print(In)"))
    printed = json.dumps(cell.outputs)
    assert "assert_close(mse([1.0]" not in printed  # the visible test is not in the kernel's history either ...
    assert "mse([2.0, 0.0]" not in printed  # ... nor the hidden one


def test_outputs_of_every_cell_are_bounded(graded):
    results, _, _ = graded
    assert len(json.dumps(results["huge_ungraded_output"].notebook)) < 500_000


def test_a_cell_that_ignores_the_interrupt_is_stopped(graded):
    results, _, _ = graded
    for student in ("ignores_sigint", "catches_interrupt"):
        result = results[student]
        assert result.seconds < LIMITS.cell_timeout + 20, result.seconds
        assert any("did not run" in c.message or "Time limit" in c.message or "time" in c.message
                   for c in result.cells.values() if c.score == 0 and c.auto), result.cells


def test_nothing_escaped_the_sandbox(graded):
    _, _, course_dir = graded
    assert not (course_dir / "planted.txt").exists()


def test_the_gradebook_holds_every_submission_once(graded):
    results, _, course_dir = graded
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        stored = {(s.student.id, s.assignment.name) for s in gb.assignment_submissions("toy")}
        assert stored == {(student, "toy") for student in results}
        assert gb.find_submission("toy", "correct").score == 3


def test_class_statistics(graded):
    results, _, _ = graded
    stats = batch.class_statistics(list(results.values()))
    assert list(stats) == ["toy:test_mse", "toy:test_q1", "toy:why"]  # notebook order
    assert stats["toy:test_mse"]["students"] == sum(1 for r in results.values() if r.status != "malformed")
    assert 0 < stats["toy:test_mse"]["failing"] < 1


def test_feedback_names_failures_without_hidden_source(graded, tmp_path):
    results, _, course_dir = graded
    course = make_toy_course(tmp_path / "toy")
    pages = grading.generate_feedback(course, course_dir)
    assert len(pages) == sum(r.status != "malformed" for r in results.values())  # malformed: no notebook to show
    page = (course_dir / "feedback" / "edited_test_cell" / "toy" / "toy.html").read_text()
    assert "expected 2, got 0" in page  # why the hidden check failed ...
    assert "HIDDEN TESTS" not in page and "mse([2.0, 0.0]" not in page  # ... but not its source


def run_cli(root: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DL_COURSE_ROOT": str(root)}
    return subprocess.Popen([sys.executable, "-m", "autograder.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def test_kill_and_resume_gives_the_grades_of_an_uninterrupted_run(tmp_path):
    course = make_toy_course(tmp_path / "toy")
    release.build(course.chapters)
    folder = tmp_path / "submissions"
    for i in range(STUDENTS := 24):  # more than the workers grade while the course directory is prepared
        write_case(Case(f"s{i}", {"mse": GOOD if i % 2 else "", "q1": ANSWER if i % 3 else 'q1_answer = "c"'}, "", 0),
                   course.chapters[0].release, folder)
    common = [str(folder), "--workers", "2", "--cell-timeout", "10"]

    reference = run_cli(course.root, "autograde", *common, "--course-dir", str(tmp_path / "whole"))
    reference.wait(timeout=300)
    interrupted = run_cli(course.root, "autograde", *common, "--course-dir", str(tmp_path / "resumed"))
    markers = tmp_path / "resumed" / "grading"
    deadline = time.time() + 120
    while time.time() < deadline and not list(markers.glob("*/toy/graded-sha256")):
        time.sleep(0.05)
    os.killpg(interrupted.pid, signal.SIGKILL)
    interrupted.wait()
    done_before = len(list(markers.glob("*/toy/graded-sha256")))
    assert 1 <= done_before < STUDENTS, "the run should have been stopped part-way"

    resumed = run_cli(course.root, "autograde", *common, "--course-dir", str(tmp_path / "resumed"))
    out = resumed.communicate(timeout=300)[0].decode()
    for name in ("whole", "resumed"):
        code = run_cli(course.root, "export", str(tmp_path / f"{name}.csv"), "--course-dir", str(tmp_path / name)).wait()
        assert code == 0
    assert (tmp_path / "whole.csv").read_text() == (tmp_path / "resumed.csv").read_text(), out
    assert len((tmp_path / "whole.csv").read_text().splitlines()) == STUDENTS + 1


@pytest.mark.parametrize("library, score", [((), 1), (("ch03_mlp",), 3)])
def test_a_chapter_sees_only_earlier_chapters_of_the_course_library(tmp_path, library, score):
    """dllib.ch03_mlp holds chapter 03's answers: graded as chapter 03 it is not there."""
    course = make_toy_course(tmp_path / "toy")
    release.build(course.chapters)
    chapter = course.chapters[0]
    nb = nbformat.read(chapter.release, as_version=4)
    for cell in nb.cells:
        cell.source = {"mse": "from dllib.ch03_mlp import affine_forward\n" + GOOD, "q1": ANSWER}.get(cell.id, cell.source)
    reference = reference_notebook(nbformat.read(chapter.release, as_version=4), read_source(chapter.source))
    job = batch.Job("s", chapter.id, nbformat.writes(nb), LIMITS, library=library)
    result = batch.grade_job(job, reference)
    assert result.score == score, (result.notes, {k: v.message for k, v in result.cells.items()})
    assert any("dllib.ch03_mlp" in note for note in result.notes) == (not library), result.notes
