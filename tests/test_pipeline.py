"""Release, autograde, feedback and export on a small toy course, through nbgrader itself."""

import csv
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from conftest import make_toy_course

from autograder import grading, release
from autograder.authoring import read_source
from autograder.cli import main
from autograder.sandbox import sandbox_available
from autograder.submissions import find_submissions
from autograder.validate import leaks, secret_lines

pytestmark = pytest.mark.slow


def submit(course, folder: Path, student: str, edits: dict[str, str]) -> None:
    """Save a copy of the release with some cells' sources replaced, as a student would."""
    chapter = course.chapters[0]
    nb = nbformat.read(chapter.release, as_version=4)
    for cell in nb.cells:
        if cell.id in edits:
            cell.source = edits[cell.id]
    (folder / student).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / student / chapter.release.name)


GOOD_MSE = "import numpy as np\ndef mse(pred, target):\n    return float(np.mean((np.asarray(pred) - np.asarray(target))**2))"
WRONG_MSE = "import numpy as np\ndef mse(pred, target):\n    return float(np.sum((np.asarray(pred) - np.asarray(target))**2))"


@pytest.fixture
def released(tmp_path):
    course = make_toy_course(tmp_path / "toy")
    report = release.build(course.chapters)
    assert report.written == (course.chapters[0].release,)
    return course


def test_release_is_stripped_deterministic_and_in_sync(released):
    chapter = released.chapters[0]
    text = chapter.release.read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "np.mean(diff**2)" not in text and "q1_answer == " not in text and "hidden reasoning" not in text
    assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text
    assert release.build(released.chapters, check=True).stale == ()
    assert chapter.release.read_text() == text  # rebuilding changes nothing

    chapter.source.write_text(chapter.source.read_text().replace("points=1", "points=1.5"))
    assert release.build(released.chapters, check=True).stale == (chapter.release,)


def test_leak_detector_finds_solution_and_hidden_lines(released):
    chapter = released.chapters[0]
    source = read_source(chapter.source)
    shipped = nbformat.read(chapter.release, as_version=4)
    assert leaks(source, shipped) == []
    mse_cell = next(c for c in source.cells if c.id == "mse")
    assert "return float(np.mean(diff**2))" in secret_lines(mse_cell)
    next(c for c in shipped.cells if c.id == "test_mse").source += "\nassert_close(mse([2.0, 0.0], [0.0, 0.0]), 2.0, name=\"mse([2, 0], [0, 0])\")"
    assert len(leaks(source, shipped)) == 1


def test_autograde_blank_good_one_mistake_and_malformed(released, tmp_path):
    folder = tmp_path / "submissions"
    submit(released, folder, "blank", {})
    submit(released, folder, "good", {"mse": GOOD_MSE, "q1": 'q1_answer = "b"', "why": "Because."})
    submit(released, folder, "mistake", {"mse": WRONG_MSE, "q1": 'q1_answer = "b"'})
    submit(released, folder, "noisy", {
        "mse": "import warnings\n" + GOOD_MSE.replace("    return", "    warnings.warn('harmless', RuntimeWarning)\n    return"),
        "q1": 'q1_answer = "b"',
    })
    (folder / "broken").mkdir()
    (folder / "broken" / "toy.ipynb").write_text('{"cells": [')
    (folder / "stray").mkdir()
    (folder / "stray" / "other.ipynb").write_text("{}")

    found, problems = find_submissions(folder, released)
    assert len(found) == 5 and len(problems) == 1 and "other.ipynb" in problems[0]
    course_dir = tmp_path / "course"
    outcomes = {o.student: o for o in grading.autograde(released, found, course_dir, progress=False)}

    assert outcomes["broken"].status == "malformed" and "JSON" in outcomes["broken"].notes[0]
    assert (outcomes["blank"].score, outcomes["blank"].max_score) == (0, 5)
    assert outcomes["good"].score == 3 and outcomes["good"].pending == 1
    assert outcomes["mistake"].score == 1  # exactly the points of the other exercise
    assert outcomes["noisy"].score == 3  # warnings on stderr cost nothing
    assert grading.cell_scores(course_dir, "toy", "mistake") == {"test_mse": 0.0, "test_q1": 1.0, "why": 0.0}

    out = tmp_path / "grades.csv"
    assert grading.export_grades(released, course_dir, out) == 4
    rows = {row["student"]: row for row in csv.DictReader(out.open())}
    assert list(rows["good"]) == ["student", "toy:test_mse", "toy:test_q1", "toy:why", "toy:total", "toy:status",
                                  "toy:flags", "total", "max_total", "pending"]
    assert float(rows["mistake"]["toy:test_mse"]) == 0 and float(rows["mistake"]["toy:test_q1"]) == 1
    assert float(rows["good"]["total"]) == 3 and float(rows["good"]["max_total"]) == 5
    stats = {row["exercise"]: row for row in csv.DictReader(grading.stats_path(out).open())}
    assert float(stats["toy:test_mse"]["share_not_full_marks"]) == 0.5  # blank and mistake of 4
    assert float(stats["toy:test_q1"]["mean_score"]) == 0.75

    pages = grading.generate_feedback(released, course_dir)
    assert len(pages) == 4
    page = (course_dir / "feedback" / "mistake" / "toy" / "toy.html").read_text()
    assert "mse([2, 0], [0, 0])" in page  # the failure message reaches the student
    assert not re.search(r"BEGIN HIDDEN TESTS", page)


def test_regrading_a_student_replaces_only_their_grades(released, tmp_path):
    folder = tmp_path / "submissions"
    submit(released, folder, "ann", {"mse": WRONG_MSE, "q1": 'q1_answer = "b"'})
    submit(released, folder, "ben", {"mse": GOOD_MSE, "q1": 'q1_answer = "b"'})
    course_dir = tmp_path / "course"
    found, _ = find_submissions(folder, released)
    grading.autograde(released, found, course_dir, progress=False)
    submit(released, folder, "ann", {"mse": GOOD_MSE, "q1": 'q1_answer = "a"'})
    found, _ = find_submissions(folder, released)
    (ann,) = grading.autograde(released, [s for s in found if s.student == "ann"], course_dir, progress=False)
    assert ann.score == 2
    assert grading.cell_scores(course_dir, "toy", "ben")["test_mse"] == 2


def test_cli_build_check_autograde_export_and_self_check(released, tmp_path, monkeypatch):
    monkeypatch.setenv("DL_COURSE_ROOT", str(released.root))
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--check"])
    assert result.exit_code == 0, result.output

    folder = tmp_path / "subs"
    submit(released, folder, "good", {"mse": GOOD_MSE, "q1": 'q1_answer = "c"'})
    isolation = [] if sandbox_available() else ["--no-sandbox"]
    result = runner.invoke(main, ["autograde", str(folder), "--course-dir", str(tmp_path / "cd"), *isolation])
    assert result.exit_code == 0, result.output
    assert re.search(r"good\s+toy\s+graded\s+2/5", result.output)
    result = runner.invoke(main, ["export", str(tmp_path / "g.csv"), "--course-dir", str(tmp_path / "cd")])
    assert result.exit_code == 0 and "1 student row" in result.output

    result = runner.invoke(main, ["check", str(released.chapters[0].release)])
    assert result.exit_code == 1
    assert "FAIL  test_mse" in result.output and "NotImplementedError" in result.output
    assert "0/2 visible test cells pass" in result.output
    student = folder / "good" / "toy.ipynb"
    result = runner.invoke(main, ["check", str(student)])
    assert result.exit_code == 0 and "2/2 visible test cells pass" in result.output, result.output
    assert "warning" not in result.output
    submit(released, folder, "peeker", {"mse": "import dllib.chtoy\n" + GOOD_MSE})
    result = runner.invoke(main, ["check", str(folder / "peeker" / "toy.ipynb")])
    assert "warning: uses dllib.chtoy" in result.output, result.output


def test_cli_reports_bad_input_clearly(released, tmp_path, monkeypatch):
    monkeypatch.setenv("DL_COURSE_ROOT", str(released.root))
    runner = CliRunner()
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    result = runner.invoke(main, ["check", str(bad)])
    assert result.exit_code != 0 and "not a readable notebook" in result.output
    result = runner.invoke(main, ["build", "nope"])
    assert result.exit_code != 0 and "unknown chapter 'nope'" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["autograde", str(empty), "--course-dir", str(tmp_path / "cd")])
    assert result.exit_code != 0 and "no chapter notebooks" in result.output
    shutil.rmtree(released.root / "notebooks")
