"""nbgrader's own sequential autograde (``--plain``), feedback pages and the grade exports.

Submissions are found and read in ``autograder.submissions``; our parallel grader is ``autograder.batch``.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from autograder import feedback
from autograder.course import Chapter, Course
from autograder.coursedir import nbgrader_config, prepare_course_dir
from autograder.execute import single_threaded
from autograder.submissions import CellGrade, JobResult, Status, Submission, check_readable


def autograde(
    course: Course,
    submissions: Iterable[Submission],
    course_dir: Path,
    *,
    db_url: str | None = None,
    progress: bool = True,
) -> list[JobResult]:
    """Autograde each submission with nbgrader into ``course_dir``'s gradebook (``--plain``)."""
    from nbgrader.api import Gradebook, MissingEntry

    submissions = list(submissions)
    chapters = tuple(c for c in course.chapters if any(s.chapter == c for s in submissions))
    api = prepare_course_dir(course_dir, chapters, db_url)
    db = api.coursedir.db_url
    outcomes = []
    for sub in tqdm(submissions, desc="autograding", unit="notebook", disable=not progress):
        if problem := check_readable(sub.path):
            outcomes.append(JobResult(sub.student, sub.chapter.id, Status.MALFORMED, notes=[problem]))
            continue
        target = course_dir / "submitted" / sub.student / sub.chapter.id
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sub.path, target / f"{sub.chapter.id}.ipynb")
        with single_threaded():  # as in the sandboxed grader: small matrices, a loaded machine
            result = api.autograde(sub.chapter.id, sub.student, force=True, create=True)
        if not result["success"]:
            error = (result.get("error") or result.get("log") or "unknown error").strip()
            outcomes.append(JobResult(sub.student, sub.chapter.id, Status.CRASHED, notes=[error.splitlines()[-1]]))
            continue
        with Gradebook(db) as gb:
            try:
                graded = gb.find_submission(sub.chapter.id, sub.student)
            except MissingEntry:
                outcomes.append(JobResult(sub.student, sub.chapter.id, Status.CRASHED, notes=["no grades recorded"]))
                continue
            cells = {g.name: CellGrade(None if g.needs_manual_grade else float(g.score), float(g.max_score),
                                       needs_manual=g.needs_manual_grade, auto=g.cell.cell_type == "code")
                     for nb in graded.notebooks for g in nb.grades}
            outcomes.append(JobResult(sub.student, sub.chapter.id, Status.GRADED, cells))
    return outcomes


def cell_scores(course_dir: Path, chapter_id: str, student: str, db_url: str | None = None) -> dict[str, float]:
    """Score of every graded cell of one student's chapter, by grade id."""
    from nbgrader.api import Gradebook

    with Gradebook(nbgrader_config(course_dir, db_url).CourseDirectory.db_url) as gb:
        graded = gb.find_submission_notebook(chapter_id, chapter_id, student)
        return {grade.name: float(grade.score) for grade in graded.grades}


def generate_feedback(course: Course, course_dir: Path, *, db_url: str | None = None) -> list[Path]:
    """HTML feedback for every autograded submission (hidden tests' source left out).

    Each page is bounded in size and sanitised (``autograder.feedback``); a student's folder
    ``feedback/<student>/<chapter>/`` holds that chapter's page and nothing else.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    for chapter in course.chapters:
        if not any((course_dir / "autograded").glob(f"*/{chapter.id}/{chapter.id}.ipynb")):
            continue
        config = feedback.configure(nbgrader_config(course_dir, db_url))
        config.CourseDirectory.notebook_id = chapter.id  # no page for any other notebook there
        # nbgrader copies every other file of autograded/<student>/<chapter>/ next to the page;
        # "*" matches that folder itself, so nothing is copied.
        config.CourseDirectory.ignore = ["*"]
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        result = api.generate_feedback(chapter.id)
        for folder in (course_dir / "feedback").glob(f"*/{chapter.id}"):
            _keep_only(folder, f"{chapter.id}.html")
        if not result["success"]:
            raise RuntimeError(f"feedback for {chapter.id} failed:\n{result.get('error')}")
    return sorted((course_dir / "feedback").glob("*/*/*.html"))


def _keep_only(folder: Path, name: str) -> None:
    """Remove everything in ``folder`` but the regular file ``name`` (links are removed, not followed)."""
    for path in folder.iterdir():
        if path.name == name and path.is_file() and not path.is_symlink():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


PENDING = "pending"  # a written answer not yet graded by hand, in the CSV


def _grade_order(chapter: Chapter) -> dict[str, int]:
    """Position of each graded cell (grade id) in the chapter's release notebook."""
    try:
        cells = nbformat.read(chapter.release, as_version=4).cells
    except (OSError, ValueError):
        return {}
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    return {grade_id: i for i, grade_id in enumerate(ids)}


def grading_report(course_dir: Path, student: str, chapter_id: str) -> dict:
    """The batch grader's report.json for one submission ({} when graded otherwise)."""
    try:
        return json.loads((course_dir / "grading" / student / chapter_id / "report.json").read_text())
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class ChapterGrade:
    """One student's graded chapter: each graded cell's score (``PENDING`` for a written answer
    not yet graded by hand), the grader's status and flags."""

    scores: dict[str, float | str]
    status: str
    flags: str

    @property
    def total(self) -> float:
        """The points of the cells graded so far."""
        return sum(v for v in self.scores.values() if v != PENDING)

    @property
    def pending(self) -> int:
        return sum(v == PENDING for v in self.scores.values())


@dataclass(frozen=True)
class GradeTable:
    """Everything the exports show, read once from the gradebook. ``chapters`` in course order,
    ``cells`` per chapter in notebook order; a student's missing chapter was not submitted."""

    chapters: list[Chapter]
    cells: dict[str, list[str]]
    max_points: dict[tuple[str, str], float]
    students: dict[str, dict[str, ChapterGrade]]

    def chapter_max(self, chapter_id: str) -> float:
        return sum(self.max_points[chapter_id, name] for name in self.cells[chapter_id])


def read_grades(course: Course, course_dir: Path, *, db_url: str | None = None) -> GradeTable:
    """The grades of every student in the gradebook, with the batch grader's statuses and flags."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(nbgrader_config(course_dir, db_url).CourseDirectory.db_url) as gb:
        assignments = {a.name for a in gb.assignments}
        chapters = [c for c in course.chapters if c.id in assignments]
        cells: dict[str, list[str]] = {}
        max_points: dict[tuple[str, str], float] = {}
        for chapter in chapters:
            order = _grade_order(chapter)
            found = gb.find_notebook(chapter.id, chapter.id).grade_cells
            cells[chapter.id] = sorted((c.name for c in found), key=lambda name: order.get(name, len(order)))
            max_points.update({(chapter.id, c.name): float(c.max_score) for c in found})
        students: dict[str, dict[str, ChapterGrade]] = {}
        for student in sorted(s.id for s in gb.students):
            students[student] = {}
            for chapter in chapters:
                try:
                    graded = gb.find_submission_notebook(chapter.id, chapter.id, student)
                except MissingEntry:
                    continue
                report = grading_report(course_dir, student, chapter.id)
                students[student][chapter.id] = ChapterGrade(
                    {g.name: PENDING if g.needs_manual_grade else float(g.score) for g in graded.grades},
                    report.get("status", "graded"),
                    "; ".join(report.get("flags", [])) or ("flagged" if graded.flagged else ""))
    return GradeTable(chapters, cells, max_points, students)


def export_grades(course: Course, course_dir: Path, out: Path, *, db_url: str | None = None) -> int:
    """Write one row per student, the class statistics and the LMS imports; returns the number of rows.

    Per chapter, in course order: one column per graded cell (in notebook order; ``pending``
    for a written answer not yet graded by hand), the chapter's total, its status (graded,
    partial, timed out, crashed, malformed; empty when not submitted) and flags; then the
    overall total, maximum and number of pending answers. Totals count graded cells only.
    The statistics, per graded cell in the same order, leave out pending answers and malformed
    submissions. ``lms.write_all`` adds the learning-management systems' grade imports.
    """
    from autograder import lms

    table = read_grades(course, course_dir, db_url=db_url)
    header = ["student"]
    for chapter in table.chapters:
        header += [f"{chapter.id}:{name}" for name in table.cells[chapter.id]]
        header += [f"{chapter.id}:{what}" for what in ("total", "status", "flags")]
    header += ["total", "max_total", "pending"]
    rows: list[list[float | str]] = []
    for student, grades in table.students.items():
        row: list[float | str] = [student]
        for chapter in table.chapters:
            if (grade := grades.get(chapter.id)) is None:
                row += [""] * (len(table.cells[chapter.id]) + 3)
                continue
            row += [grade.scores.get(name, "") for name in table.cells[chapter.id]]
            row += [grade.total, grade.status, grade.flags]
        rows.append([*row, sum(g.total for g in grades.values()), sum(table.max_points.values()),
                     sum(g.pending for g in grades.values())])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    with stats_path(out).open("w", newline="") as handle:  # which exercises the class finds hard
        writer = csv.writer(handle)
        writer.writerow(["exercise", "max_points", "mean_score", "share_not_full_marks", "students", "pending"])
        for chapter in table.chapters:
            marked = [grades[chapter.id] for grades in table.students.values()  # no notebook: says nothing
                      if chapter.id in grades and grades[chapter.id].status != "malformed"]
            for name in table.cells[chapter.id]:
                got = [g.scores[name] for g in marked if g.scores.get(name, PENDING) != PENDING]
                waiting = sum(g.scores.get(name) == PENDING for g in marked)
                top = table.max_points[(chapter.id, name)]
                mean = round(sum(got) / len(got), 4) if got else ""
                short = round(sum(score < top for score in got) / len(got), 4) if got else ""
                writer.writerow([f"{chapter.id}:{name}", top, mean, short, len(got), waiting])
    lms.write_all(table, out)
    return len(rows)


def stats_path(out: Path) -> Path:
    """Where export_grades writes the per-exercise class statistics next to ``out``."""
    return out.with_name(f"{out.stem}-stats.csv")
