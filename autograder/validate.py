"""Course validation: every check that a chapter is fair to grade, as one list of problems."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import grading, mutants, release
from autograder.authoring import AuthoringError, cells_with_role, read_source, role
from autograder.course import Chapter, Course
from autograder.execute import cell_results, execute

REGION = re.compile(
    r"^[ \t]*#+ BEGIN (?P<kind>SOLUTION|HIDDEN TESTS)[^\n]*\n(?P<body>.*?)^[ \t]*#+ END (?P=kind)",
    re.MULTILINE | re.DOTALL,
)


def secret_lines(cell: NotebookNode) -> set[str]:
    """Lines only the instructor may see: solution and hidden-test regions, whole written answers."""
    if role(cell) == "answer" and cell.cell_type == "markdown" and "BEGIN SOLUTION" not in cell.source:
        body = cell.source
    else:
        body = "\n".join(m["body"] for m in REGION.finditer(cell.source + "\n"))
    outside = {line.strip() for line in REGION.sub("", cell.source + "\n").splitlines()}
    return {
        line.strip()
        for line in body.splitlines()
        if line.strip() and not line.strip().startswith("#") and line.strip() not in outside
    }


def leaks(source: NotebookNode, released: NotebookNode) -> list[str]:
    """Secret lines of ``source`` that appear in the ``released`` notebook."""
    by_id = {cell.id: cell for cell in released.cells}
    found = []
    for cell in cells_with_role(source, "solution", "tests", "answer"):
        shipped = by_id.get(cell.id)
        if shipped is None:
            continue
        visible = {line.strip() for line in shipped.source.splitlines()}
        found += [f"cell {cell.id}: {line!r}" for line in sorted(secret_lines(cell) & visible)]
    return found


def check_chapter(chapter: Chapter, *, with_mutants: bool = True) -> Iterator[str]:
    """Yield one message per problem found in a chapter."""
    try:
        source = read_source(chapter.source)
    except AuthoringError as err:
        yield str(err)
        return
    points = sum(float(c.metadata.nbgrader["points"]) for c in cells_with_role(source, "tests", "answer"))
    if abs(points - chapter.points) > 1e-9:
        yield f"cells add up to {points:g} points, course.toml says {chapter.points:g}"
    if not chapter.release.exists():
        yield f"release {chapter.release} is missing: run `autograder build`"
        return
    if release.build((chapter,), check=True).stale:
        yield f"release {chapter.release.name} is out of date with its source: run `autograder build`"
    released = nbformat.read(chapter.release, as_version=4)
    yield from (f"release leaks {leak}" for leak in leaks(source, released))
    for result in cell_results(execute(source)):
        if not result.passed:
            yield f"reference solution fails {result.grade_id}: {result.message}"
    yield from _blank_scores_zero(chapter)
    if with_mutants and chapter.mutants.exists():
        wrong = mutants.load_mutants(chapter.mutants)
        for mutant, result in zip(wrong, mutants.run_all(source, wrong), strict=True):
            if result.passed:
                yield f"mutant survives {mutant.fails}: {mutant.why}"


def _blank_scores_zero(chapter: Chapter) -> Iterator[str]:
    course = Course(chapter.root, "validate", (chapter,))
    with tempfile.TemporaryDirectory(prefix="dlcourse-blank-") as tmp:
        folder = Path(tmp) / "submissions" / "blank"
        folder.mkdir(parents=True)
        (folder / chapter.release.name).write_bytes(chapter.release.read_bytes())
        subs, _ = grading.find_submissions(folder.parent, course)
        (outcome,) = grading.autograde(course, subs, Path(tmp) / "course", progress=False)
        if outcome.status != "graded" or outcome.score != 0:
            yield f"blank release should score 0, got {outcome.score:g} ({outcome.status} {outcome.message})"


def validate(course: Course, chapters: tuple[Chapter, ...], *, with_mutants: bool = True,
             report: Callable[[str], None] = print) -> dict[str, list[str]]:
    """Problems per chapter id (empty lists when all is well)."""
    problems: dict[str, list[str]] = {}
    for chapter in chapters:
        report(f"validating {chapter.id} ...")
        problems[chapter.id] = list(check_chapter(chapter, with_mutants=with_mutants))
    return problems
