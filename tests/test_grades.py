"""Grades after a batch: pending written answers, chapter statuses and flags, statistics in
course order, and hand-grading through nbgrader's formgrader on the same course directory.

Two toy chapters, listed in course.toml as ``b_first`` then ``a_second`` (so course order is not
alphabetical); in ``a_second`` the exercise is renamed ``z_test_mse`` (so cell order is not
alphabetical either). Each has ``mse`` (2 points), ``q1`` (1) and the written answer ``why`` (2);
``a_second`` closes with an experiment that would outlast the time limit if the grader ran it.
"""

from __future__ import annotations

import csv
import re

import nbformat
import pytest
from click.testing import CliRunner
from conftest import TOY_SOURCE

from autograder import batch, grading, lms, release
from autograder.cli import main
from autograder.course import Course
from autograder.coursedir import nbgrader_config
from autograder.sandbox import Limits
from autograder.submissions import find_submissions

pytestmark = pytest.mark.slow

GOOD = "import numpy as np\ndef mse(pred, target):\n    return float(np.mean((np.asarray(pred) - np.asarray(target))**2))"
ANSWER = 'q1_answer = "b"'
EXPERIMENT = "import time\ntime.sleep(600)  # a closing experiment: after the last graded cell, never run by the grader"
SECOND = TOY_SOURCE.replace('"test_mse"', '"z_test_mse"') + f"\n# %%\n{EXPERIMENT}\n"
SUBMISSIONS = {  # student -> chapter -> edits (cell id -> source), or raw text for a broken file
    "good": {"b_first": {"mse": GOOD, "q1": ANSWER, "why": "Because the variance grows."},
             "a_second": {"mse": GOOD, "q1": ANSWER, "why": "It overfits."}},
    "blank": {"b_first": {}, "a_second": {}},
    "partial": {"b_first": {"mse": None, "q1": ANSWER}},  # None: the cell deleted
    "crashed": {"b_first": {"mse": GOOD, "q1": "import os\nos._exit(3)"}},
    "timed_out": {"b_first": {"mse": GOOD, "q1": "while True:\n    pass"}},
    "tamperer": {"b_first": {"mse": "import numpy as np\nnp.allclose = lambda *a, **k: True\n" + GOOD, "q1": ANSWER}},
    "broken": {"b_first": '{"cells": ['},
}


def make_course(root) -> Course:
    (root / "solutions").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "solutions" / "b_first.py").write_text(TOY_SOURCE)
    (root / "solutions" / "a_second.py").write_text(SECOND)
    (root / "course.toml").write_text(
        '[course]\ntitle = "Toy"\n\n'
        '[[chapters]]\nid = "b_first"\ntitle = "First"\npoints = 5\n\n'
        '[[chapters]]\nid = "a_second"\ntitle = "Second"\npoints = 5\n')
    course = Course.load(root)
    release.build(course.chapters)
    return course


def write_submissions(course: Course, folder) -> None:
    for student, chapters in SUBMISSIONS.items():
        for chapter_id, edits in chapters.items():
            target = folder / student / f"{chapter_id}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(edits, str):
                target.write_text(edits)
                continue
            nb = nbformat.read(course.chapter(chapter_id).release, as_version=4)
            nb.cells = [c for c in nb.cells if edits.get(c.id, "") is not None]
            for cell in nb.cells:
                cell.source = edits.get(cell.id, cell.source)
            nbformat.write(nb, target)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grades")
    course = make_course(root / "course")
    folder = root / "submissions"
    write_submissions(course, folder)
    found, problems = find_submissions(folder, course)
    assert problems == [] and len(found) == 9
    course_dir = root / "grading"
    results = batch.grade_batch(course, found, course_dir, sandbox=False, workers=2, progress=False,
                                limits=Limits(cell_timeout=3, wall_time=60))
    return course, folder, course_dir, {(r.student, r.chapter): r for r in results}


def read_csv(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_batch_outcomes(graded):
    _, _, _, results = graded
    assert {key: r.status for key, r in results.items() if key[1] == "b_first"} == {
        ("good", "b_first"): "graded", ("blank", "b_first"): "graded", ("partial", "b_first"): "partial",
        ("crashed", "b_first"): "crashed", ("timed_out", "b_first"): "timed out",
        ("tamperer", "b_first"): "graded", ("broken", "b_first"): "malformed"}
    assert results["good", "b_first"].pending == 1 and results["blank", "b_first"].pending == 0


def test_cells_after_the_last_graded_cell_are_not_run_and_say_so(graded):
    _, _, _, results = graded
    good = results["good", "a_second"]
    assert (good.status, good.score) == ("graded", 3.0), good.notes
    last = good.notebook.cells[-1]
    assert last.source == EXPERIMENT and [o.get("text") for o in last.outputs] == [batch.NOT_GRADED]


def test_export_shows_pending_answers_statuses_and_flags(graded, tmp_path):
    course, _, course_dir, _ = graded
    out = tmp_path / "grades.csv"
    assert grading.export_grades(course, course_dir, out) == 7
    rows = {row["student"]: row for row in read_csv(out)}
    assert list(rows["good"]) == [
        "student",
        "b_first:test_mse", "b_first:test_q1", "b_first:why", "b_first:total", "b_first:status", "b_first:flags",
        "a_second:z_test_mse", "a_second:test_q1", "a_second:why", "a_second:total", "a_second:status",
        "a_second:flags", "total", "max_total", "pending"]
    good, blank = rows["good"], rows["blank"]
    assert good["b_first:why"] == "pending" and good["a_second:why"] == "pending"  # not 0: not graded yet
    assert float(good["b_first:total"]) == 3 and float(good["total"]) == 6 and good["pending"] == "2"
    assert float(good["max_total"]) == 10
    assert float(blank["b_first:why"]) == 0 and blank["pending"] == "0"  # an untouched answer is worth 0
    assert {student: row["b_first:status"] for student, row in rows.items()} == {
        "good": "graded", "blank": "graded", "partial": "partial", "crashed": "crashed",
        "timed_out": "timed out", "tamperer": "graded", "broken": "malformed"}
    # Patching numpy changes nothing the tests see (they run in the judge): nothing to flag.
    assert all(row["b_first:flags"] == "" for row in rows.values())
    assert rows["partial"]["a_second:status"] == "" and rows["partial"]["a_second:total"] == ""  # not submitted

    stats = read_csv(grading.stats_path(out))
    assert [s["exercise"] for s in stats] == [
        "b_first:test_mse", "b_first:test_q1", "b_first:why", "a_second:z_test_mse", "a_second:test_q1", "a_second:why"]
    why = {s["exercise"]: s for s in stats}["b_first:why"]
    assert why["pending"] == "1" and why["students"] == "5"  # good's waits; five are 0; broken has no notebook
    assert float(why["mean_score"]) == 0 and float(why["share_not_full_marks"]) == 1


def test_class_statistics_in_course_order_without_pending(graded):
    course, _, _, results = graded
    stats = batch.class_statistics(list(results.values()), [c.id for c in course.chapters])
    assert list(stats) == [
        "b_first:test_mse", "b_first:test_q1", "b_first:why", "a_second:z_test_mse", "a_second:test_q1", "a_second:why"]
    assert stats["a_second:why"] == {"mean": 0.0, "max": 2.0, "failing": 1.0, "students": 1, "pending": 1}
    assert stats["a_second:z_test_mse"]["mean"] == 1.0 and stats["a_second:z_test_mse"]["students"] == 2


def test_autograde_summary_is_ordered_and_aligned(graded, monkeypatch):
    course, folder, course_dir, _ = graded
    monkeypatch.setenv("DL_COURSE_ROOT", str(course.root))
    result = CliRunner().invoke(main, ["autograde", str(folder), "--course-dir", str(course_dir), "--no-sandbox"])
    assert result.exit_code == 1, result.output  # some submissions did not grade cleanly
    lines = result.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("exercise"))
    table = lines[start: start + 7]
    assert [line.split()[0] for line in table[1:]] == [
        "b_first:test_mse", "b_first:test_q1", "b_first:why", "a_second:z_test_mse", "a_second:test_q1", "a_second:why"]
    for column in ("mean", "max", "failing", "graded", "pending"):  # right-aligned under the header
        end = table[0].index(column) + len(column)
        assert all(line[end - 1] != " " and (len(line) == end or line[end] == " ") for line in table[1:]), column
    assert re.search(r"b_first:why\s+0\.00\s+2\s+100%\s+5\s+1$", table[3]), table[3]
    rows = lines[lines.index(next(line for line in lines if line.startswith("student"))):]
    good = [row for row in rows if row.startswith("good ")]
    assert re.search(r"^good\s+b_first\s+graded\s+3/5\s+1$", good[0]), good
    assert [row.split()[1] for row in good] == ["b_first", "a_second"]  # course order per student


def test_formgrader_lists_the_submissions_and_a_manual_grade_reaches_the_export(graded, tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course, folder, course_dir, _ = graded
    kept = course_dir / "submitted" / "good" / "b_first" / "b_first.ipynb"
    assert kept.read_bytes() == (folder / "good" / "b_first.ipynb").read_bytes()  # as received

    config = nbgrader_config(course_dir)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert api.get_assignment("b_first")["num_submissions"] == 7
    listed = {s["student"]: s for s in api.get_submissions("b_first")}
    assert set(listed) == {"good", "blank", "partial", "crashed", "timed_out", "tamperer", "broken"}
    assert all(s["autograded"] for s in listed.values())
    assert listed["good"]["needs_manual_grade"] and not listed["blank"]["needs_manual_grade"]
    assert {s["student"] for s in api.get_notebook_submissions("a_second", "a_second")} == {"good", "blank"}

    with Gradebook(config.CourseDirectory.db_url) as gb:  # what formgrader's grade API does on a save
        grade = gb.find_grade("why", "b_first", "b_first", "good")
        grade.manual_score = 1.5
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
        gb.db.commit()
    out = tmp_path / "grades.csv"
    grading.export_grades(course, course_dir, out)
    good = {row["student"]: row for row in read_csv(out)}["good"]
    assert float(good["b_first:why"]) == 1.5 and float(good["b_first:total"]) == 4.5
    assert float(good["total"]) == 7.5 and good["pending"] == "1" and good["a_second:why"] == "pending"
    assert not {s["student"]: s for s in api.get_submissions("b_first")}["good"]["needs_manual_grade"]

    # The LMS imports: a chapter's total once nothing in it waits for a hand grade, else empty.
    with lms.lms_path(out, "canvas").open() as handle:
        canvas = list(csv.reader(handle))
    assert canvas[:2] == [[*lms.CANVAS_IDENTITY, "b_first First", "a_second Second"],
                          ["Points Possible", "", "", "", "", "5", "5"]]
    by_login = {row[3]: row for row in canvas[2:]}
    assert by_login["good"] == ["good", "", "", "good", "", "4.5", ""]
    assert by_login["blank"][5:] == ["0", "0"] and by_login["partial"][5:] == ["1", ""]  # q1 answered; a_second not submitted
    moodle = {row["Username"]: row for row in read_csv(lms.lms_path(out, "moodle"))}
    assert list(moodle["good"].values()) == ["good", "4.5", ""] and len(moodle) == 7


def test_formgrade_command_starts_formgrader_on_the_course_dir(graded, tmp_path, monkeypatch):
    import os

    course, _, course_dir, _ = graded
    monkeypatch.setenv("DL_COURSE_ROOT", str(course.root))
    runner = CliRunner()
    result = runner.invoke(main, ["formgrade", "--course-dir", str(tmp_path / "nothing")])
    assert result.exit_code != 0 and "run `./course autograde SUBMISSIONS` first" in result.output
    started = []
    monkeypatch.setattr(os, "execv", lambda exe, argv: started.append((os.getcwd(), argv)))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["formgrade", "--course-dir", str(course_dir), "--no-browser"])
    assert result.exit_code == 0, result.output
    ((cwd, argv),) = started
    assert cwd == str(course_dir)  # formgrader reads nbgrader_config.py from where it starts
    assert argv[1:3] == ["-m", "jupyterlab"] and f"--notebook-dir={course_dir}" in argv
    assert "--LabApp.default_url=/formgrader" in argv and argv[-1] == "--no-browser"
