"""Every chapter of course.toml: in sync, leak-free, solved by its reference, graded fairly by nbgrader."""

import time
from pathlib import Path

import nbformat
import pytest

from autograder import batch, grading, mutants, release
from autograder.authoring import cells_with_role, read_source
from autograder.course import Course
from autograder.execute import cell_results, execute
from autograder.sandbox import sandbox_available
from autograder.validate import leaks

pytestmark = pytest.mark.slow
COURSE = Course.load(Path(__file__).resolve().parents[1])
CHAPTERS = [pytest.param(c, id=c.id) for c in COURSE.chapters]


def auto_points(nb) -> dict[str, float]:
    return {c.id: float(c.metadata.nbgrader["points"]) for c in cells_with_role(nb, "tests")}


def solved(chapter, replace: dict[str, str] | None = None):
    """The release with every exercise answered as in the reference (and some cells replaced)."""
    answers = {c.id: c.source for c in cells_with_role(read_source(chapter.source), "solution", "answer")}
    answers.update(replace or {})
    nb = nbformat.read(chapter.release, as_version=4)
    for cell in nb.cells:
        if cell.id in answers:
            cell.source = answers[cell.id]
    return nb


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_is_in_sync_and_hides_solutions_and_hidden_tests(chapter):
    assert release.build((chapter,), check=True).stale == (), "run `./course build`"
    shipped = nbformat.read(chapter.release, as_version=4)
    assert leaks(read_source(chapter.source), shipped) == []
    text = chapter.release.read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_points_add_up_to_the_chapter_total(chapter):
    nb = read_source(chapter.source)
    total = sum(float(c.metadata.nbgrader["points"]) for c in cells_with_role(nb, "tests", "answer"))
    assert total == chapter.points
    assert any(c.cell_type == "markdown" for c in cells_with_role(nb, "answer")), "needs a written answer"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_reference_solution_runs_offline_and_passes_every_test(chapter):
    start = time.perf_counter()
    results = cell_results(execute(read_source(chapter.source)))
    elapsed = time.perf_counter() - start
    print(f"{chapter.id}: solution executed in {elapsed:.1f} s")
    assert results and [r for r in results if not r.passed] == []
    assert elapsed < 60


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_nbgrader_scores_blank_zero_solution_full_one_mistake_the_rest(chapter, tmp_path):
    points = auto_points(read_source(chapter.source))
    mistake = next(m for m in mutants.load_mutants(chapter.mutants))
    folder = tmp_path / "submissions"
    for student, nb in {
        "blank": nbformat.read(chapter.release, as_version=4),
        "solution": solved(chapter),
        "mistake": solved(chapter, {mistake.cell: mistake.source}),
    }.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / chapter.release.name)
    course = Course(COURSE.root, COURSE.title, (chapter,))
    found, problems = grading.find_submissions(folder, course)
    assert problems == []
    course_dir = tmp_path / "course"
    outcomes = {o.student: o for o in grading.autograde(course, found, course_dir, progress=False)}
    assert {o.status for o in outcomes.values()} == {"graded"}
    assert outcomes["blank"].score == 0
    assert outcomes["blank"].max_score == chapter.points
    written = [c.id for c in cells_with_role(read_source(chapter.source), "answer")]
    assert grading.cell_scores(course_dir, chapter.id, "solution") == {**points, **dict.fromkeys(written, 0.0)}
    assert outcomes["solution"].manual_pending == len(written)  # full marks once graded by hand
    assert outcomes["mistake"].score == sum(points.values()) - points[mistake.fails], mistake.why


@pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap and root: apt-get install bubblewrap")
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_sandboxed_batch_grader_offline_gives_solution_full_marks_and_blank_zero(chapter, tmp_path):
    """The sandbox has no network and no view of the chapter's own answers: the reference must not need them."""
    points = sum(auto_points(read_source(chapter.source)).values())
    folder = tmp_path / "submissions"
    for student, nb in {"blank": nbformat.read(chapter.release, as_version=4), "solution": solved(chapter)}.items():
        (folder / student).mkdir(parents=True)
        nbformat.write(nb, folder / student / chapter.release.name)
    found, _ = grading.find_submissions(folder, COURSE)
    results = {r.student: r for r in batch.grade_batch(COURSE, found, tmp_path / "course", workers=2, progress=False)}
    solution, blank = results["solution"], results["blank"]
    failures = {k: c.message for k, c in solution.cells.items() if c.auto and c.score != c.max_score}
    assert (solution.status, solution.flags, failures) == ("graded", [], {}), solution.notes
    assert solution.score == points and blank.score == 0 and blank.status == "graded"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_graded_function_has_three_mutants(chapter):
    cells = {c.id: c.source for c in cells_with_role(read_source(chapter.source), "solution")}
    counts = {name: 0 for source in cells.values() for name in mutants.graded_functions(source)}
    for mutant in mutants.load_mutants(chapter.mutants):
        changed = mutants.changed_functions(cells[mutant.cell], mutant)
        assert changed, f"mutant {mutant.why!r} changes no function of {mutant.cell}"
        for name in changed:
            counts[name] += 1
    assert counts
    assert {name: n for name, n in counts.items() if n < 3} == {}, "functions with fewer than 3 mutants"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_mutant_fails_its_tests(chapter):
    wrong = mutants.load_mutants(chapter.mutants)
    results = mutants.run_all(read_source(chapter.source), wrong)
    survivors = [f"{m.fails} accepts a wrong {m.cell}: {m.why}" for m, r in zip(wrong, results, strict=True) if r.passed]
    assert survivors == []


def test_a_mutant_fails_exactly_its_own_tests_cell():
    """The runner itself: a mutant is caught by the cell it targets, the reference is not."""
    chapter = COURSE.chapters[0]
    source = read_source(chapter.source)
    first = mutants.load_mutants(chapter.mutants)[0]
    reference = next(c.source for c in cells_with_role(source, "solution") if c.id == first.cell)
    honest = mutants.Mutant(first.cell, first.fails, "the reference itself", reference)
    caught, passed = mutants.run_all(source, [first, honest])
    assert (caught.passed, passed.passed) == (False, True), caught.message
    assert caught.grade_id == first.fails and caught.message
