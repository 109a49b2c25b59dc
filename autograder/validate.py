"""Course validation: every check that a chapter is fair to grade, in one place.

``check_chapter`` yields one message per problem; ``notes`` receives what an author wants to
see even when all is well (run time, mutants per function and how each was caught, tests
cells a mutant breaks besides its own, the share of mistakes the feedback names). The test
suite asserts that it finds no problem in any chapter.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import batch, mutants, release
from autograder.authoring import AuthoringError, cells_with_role, graded_part, read_source, role
from autograder.course import Chapter, Course, CourseError
from autograder.execute import cell_results, execute
from autograder.submissions import find_submissions

REGION = re.compile(
    r"^[ \t]*#+ BEGIN (?P<kind>SOLUTION|HIDDEN TESTS)[^\n]*\n(?P<body>.*?)^[ \t]*#+ END (?P=kind)",
    re.MULTILINE | re.DOTALL,
)
QUESTION = re.compile(r"\?|\banswer\b|\bexplain\b", re.IGNORECASE)
MUTANTS_PER_FUNCTION = 3
NAMED = re.compile(r"match a known mistake: (?P<why>.*)\.(?: \(line \d+\))?\Z", re.DOTALL)
Notes = Callable[[str], None]


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


def is_concept_check(cell: NotebookNode, source: NotebookNode) -> bool:
    """A solution cell that sets an answer instead of defining functions (``q1_answer = "c"``)."""
    reference = next((c for c in source.cells if c.id == cell.id), cell)
    return role(cell) == "solution" and cell.cell_type == "code" and not mutants.graded_functions(reference.source)


def hidden_questions(released: NotebookNode, source: NotebookNode) -> list[str]:
    """Answer cells and concept checks of a release without their question in a markdown cell before."""
    found = []
    for index, cell in enumerate(released.cells):
        if not (role(cell) == "answer" or is_concept_check(cell, source)):
            continue
        before = released.cells[index - 1] if index else None
        if before is None or before.cell_type != "markdown" or role(before) or not QUESTION.search(before.source[-400:]):
            found.append(f"{cell.id}: a student sees this answer cell without its question (put the "
                         "question in a markdown cell of its own just before it)")
    return found


def check_chapter(chapter: Chapter, *, with_mutants: bool = True, notes: Notes = lambda _: None,
                  verbose: bool = False) -> Iterator[str]:
    """Yield one message per problem found in a chapter (``verbose``: a note per mutant too)."""
    try:
        source = read_source(chapter.source)
    except AuthoringError as err:
        yield str(err)
        return
    points = sum(float(c.metadata.nbgrader["points"]) for c in cells_with_role(source, "tests", "answer"))
    if abs(points - chapter.points) > 1e-9:
        yield f"cells add up to {points:g} points, course.toml says {chapter.points:g}"
    if not any(c.cell_type == "markdown" for c in cells_with_role(source, "answer")):
        yield "no written answer graded by hand"
    if not chapter.release.exists():
        yield f"release {chapter.release} is missing: run `./course build`"
        return
    for path in release.build((chapter,), check=True).stale:
        yield f"{path.relative_to(chapter.root)} is out of date with its source: run `./course build {chapter.id}`"
    released = nbformat.read(chapter.release, as_version=4)
    yield from (f"release leaks {leak}" for leak in leaks(source, released))
    yield from hidden_questions(released, source)
    started = time.perf_counter()
    for result in cell_results(execute(graded_part(source))):  # the experiments have their own tests
        if not result.passed:
            yield f"reference solution fails {result.grade_id}: {result.message}"
    notes(f"reference solution runs in {time.perf_counter() - started:.1f} s")
    wrong = mutants.load_mutants(chapter.mutants) if chapter.mutants.exists() else []
    yield from _graded(chapter, source, wrong[0] if wrong else None)
    if with_mutants:
        yield from _check_mutants(chapter, source, wrong, notes, verbose)


def _graded(chapter: Chapter, source: NotebookNode, mistake: mutants.Mutant | None) -> Iterator[str]:
    """The batch grader (hidden tests in the judge; in a sandbox where bubblewrap is there), as a
    class is graded: blank release 0, reference full marks, one mistake loses one cell."""
    points = {c.id: float(c.metadata.nbgrader["points"]) for c in cells_with_role(source, "tests")}
    answers = {c.id: c.source for c in cells_with_role(source, "solution", "answer")}
    try:  # the whole course, so that the grader shows the chapter the library of the chapters before it
        course = Course.load(chapter.root)
        course.chapter(chapter.id)
    except (CourseError, KeyError, ValueError):
        course = Course(chapter.root, "validate", (chapter,))
    with tempfile.TemporaryDirectory(prefix="dlcourse-validate-") as tmp:
        folder = Path(tmp) / "submissions"
        students = {"blank": {}, "solution": answers}
        if mistake is not None:
            students["mistake"] = {**answers, mistake.cell: mistake.source}
        for student, replace in students.items():
            nb = nbformat.read(chapter.release, as_version=4)
            for cell in nb.cells:
                cell.source = replace.get(cell.id, cell.source)
            (folder / student).mkdir(parents=True)
            nbformat.write(nb, folder / student / chapter.release.name)
        subs, _ = find_submissions(folder, course)
        outcomes = {r.student: r for r in batch.grade_batch(course, subs, Path(tmp) / "course", progress=False)}
        for student, outcome in outcomes.items():
            if outcome.status != "graded":
                yield f"the grader could not grade the {student} submission: {outcome.status} {outcome.notes}"
            if failed := {k: c.message for k, c in outcome.cells.items() if student == "solution" and c.auto
                          and c.score != c.max_score}:
                yield f"the reference solution fails under the grader: {failed}"
        if (blank := outcomes.get("blank")) and blank.score != 0:
            yield f"blank release should score 0, got {blank.score:g}"
        full = sum(points.values())
        if (solution := outcomes.get("solution")) and solution.score != full:
            yield f"reference solution scores {solution.score:g} of the {full:g} automatic points under the grader"
        if mistake and (one := outcomes.get("mistake")) and one.score != full - points[mistake.fails]:
            yield (f"the first mutant ({mistake.why}) should lose exactly {mistake.fails}'s "
                   f"{points[mistake.fails]:g} points, but scores {one.score:g} of {full:g}")


def _check_mutants(chapter: Chapter, source: NotebookNode, wrong: list[mutants.Mutant], notes: Notes,
                   verbose: bool) -> Iterator[str]:
    text = chapter.mutants.read_text() if chapter.mutants.exists() else ""
    if "Mutant(" in text or "editor(" not in text:
        yield (f"{chapter.mutants.name}: write every mutant as an edit of the solution "
               "(autograder.mutants.editor), never as a copy of reference code")
    cells = {c.id: c.source for c in cells_with_role(source, "solution")}
    result = mutants.run(source, wrong, cross=True)
    by_check: Counter[str] = Counter()
    raised: Counter[str] = Counter()
    kinds: defaultdict[str, set[str]] = defaultdict(set)
    for outcome in result.outcomes:
        mutant = outcome.mutant
        changed = mutants.changed_functions(cells[mutant.cell], mutant)
        if not changed:
            yield f"mutant {mutant.why!r} changes no function of {mutant.cell}"
        if outcome.passed:
            yield f"mutant survives {mutant.fails}: {mutant.why}"
        for name in changed:
            (by_check if outcome.caught_by_a_check else raised)[name] += 1
            kinds[name].add(mutant.kind)
        if outcome.breaks:
            notes(f"mutant of {mutant.cell} ({mutant.why}) also fails {', '.join(outcome.breaks)}")
    if wrong and result.outcomes[0].breaks:
        yield f"the first mutant ({wrong[0].why}) must break only {wrong[0].fails}, not {', '.join(result.outcomes[0].breaks)}"
    for cell_id, cell_source in cells.items():
        for name in sorted(mutants.graded_functions(cell_source)):
            notes(f"{name}: {by_check[name]} mutant(s) caught by a check, {raised[name]} only by raising; "
                  f"kinds {', '.join(sorted(kinds[name])) or '-'}")
            if by_check[name] < MUTANTS_PER_FUNCTION:
                yield (f"{name} ({cell_id}) has {by_check[name]} mutant(s) caught by a check, "
                       f"needs {MUTANTS_PER_FUNCTION}")
    table = mutants.diagnosis_table(result)
    current = chapter.diagnoses.exists() and release.diagnosis_is_current(chapter)
    if current and json.loads(chapter.diagnoses.read_text())["cells"] != table:
        yield f"{chapter.diagnoses.relative_to(chapter.root)} differs from what the mutants give: run `./course build {chapter.id}`"
    # With the committed table current, the mutants' own failure messages (the text a student
    # would read) say whether the mistake was named; otherwise the records are looked up.
    named = 0
    for outcome in result.outcomes:
        if current:
            said = NAMED.search(outcome.message)
            told = [said["why"]] if said else []
        else:
            told = diagnosed(outcome.record, table.get(outcome.mutant.fails))
        named += told == [outcome.mutant.why]
        if verbose:
            how = ("survives" if outcome.passed else "caught by a check" if outcome.caught_by_a_check
                   else f"only raised {outcome.error}")
            said = "named" if told == [outcome.mutant.why] else f"told {told}" if told else "not named"
            notes(f"  {outcome.mutant.cell} [{outcome.mutant.kind}] {outcome.mutant.why}: {how}, {said}")
    if wrong:
        notes(f"feedback names the mistake of {named} of {len(wrong)} mutants ({named / len(wrong):.0%})")
    wrongly = [cell for cell, record in result.reference.items() if diagnosed(record, table.get(cell))]
    notes(f"reference results given a diagnosis: {len(wrongly)} of {len(result.reference)} tests cells")
    if wrongly:
        yield f"the reference's own results match a known mistake in {', '.join(wrongly)}"


def diagnosed(record, entry: dict | None) -> list[str]:
    """The known mistakes a student whose calls left ``record`` would be told about."""
    from helpers.diagnosis import matches

    return matches(record, entry) if entry else []


def validate(course: Course, chapters: tuple[Chapter, ...], *, with_mutants: bool = True,
             report: Notes = print, verbose: bool = False) -> dict[str, list[str]]:
    """Problems per chapter id (empty lists when all is well); notes go to ``report``."""
    problems: dict[str, list[str]] = {}
    for chapter in chapters:
        report(f"validating {chapter.id} ...")
        problems[chapter.id] = list(check_chapter(chapter, with_mutants=with_mutants, verbose=verbose,
                                                  notes=lambda line: report(f"  {line}")))
    return problems
