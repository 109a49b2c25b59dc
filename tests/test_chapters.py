"""Every chapter of course.toml passes `autograder validate`, and the checker itself can fail."""

from pathlib import Path

import nbformat
import pytest

from autograder import mutants
from autograder.authoring import cells_with_role, read_source
from autograder.course import Course
from autograder.validate import check_chapter

pytestmark = pytest.mark.slow
COURSE = Course.load(Path(__file__).resolve().parents[1])
CHAPTERS = [pytest.param(c, id=c.id) for c in COURSE.chapters]


def solved(chapter):
    """The release with every exercise answered as in the reference."""
    answers = {c.id: c.source for c in cells_with_role(read_source(chapter.source), "solution", "answer")}
    nb = nbformat.read(chapter.release, as_version=4)
    for cell in nb.cells:
        cell.source = answers.get(cell.id, cell.source)
    return nb


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_validate_finds_no_problem(chapter):
    """Release in sync and leak-free, questions visible, reference passes, the batch grader (judge,
    sandbox, offline) scores blank 0 / solution full / one mistake the rest, every mutant caught,
    three per function by a check, known-mistake table current (see autograder/validate.py)."""
    notes: list[str] = []
    problems = list(check_chapter(chapter, notes=notes.append))
    print("\n".join(notes))
    assert problems == []


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


def test_validate_rejects_answer_cells_without_their_question_before_them(tmp_path):
    """A crafted chapter: its concept check and written answer follow code cells, so a student
    would see answer boxes with no question; with the questions in markdown cells, no problem."""
    from conftest import TOY_SOURCE, make_toy_course

    from autograder import release

    def problems(source: str, name: str) -> list[str]:
        (chapter,) = make_toy_course(tmp_path / name, source).chapters
        release.build((chapter,))
        return [p for p in check_chapter(chapter, with_mutants=False) if "question" in p]

    hidden = problems(TOY_SOURCE, "hidden")
    assert [p.split(":")[0] for p in hidden] == ["q1", "why"], hidden
    asked = TOY_SOURCE.replace(
        '# %% nbgrader="solution" grade_id="q1"',
        '# %% [markdown]\n# **Concept check.** Which option? Set `q1_answer` to "a", "b" or "c".\n\n'
        '# %% nbgrader="solution" grade_id="q1"').replace(
        '# %% [markdown] nbgrader="answer" grade_id="why"',
        '# %% [markdown]\n# **Written answer.** Why does it work?\n\n# %% [markdown] nbgrader="answer" grade_id="why"')
    assert problems(asked, "asked") == []
