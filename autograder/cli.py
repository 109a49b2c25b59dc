"""`autograder`: the instructor's command line (and the students' self-check)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click
import nbformat

from autograder import grading, release
from autograder.course import Course, CourseError
from autograder.execute import cell_results, execute
from autograder.library import forbidden_imports, forbidden_note, visible_modules


def _course() -> Course:
    try:
        return Course.load()
    except CourseError as err:
        raise click.ClickException(str(err)) from err


def _chapters(course: Course, ids: tuple[str, ...]):
    try:
        return course.select(ids)
    except CourseError as err:
        raise click.ClickException(str(err)) from err


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Build, validate and grade the course."""
    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy notices from nbgrader's gradebook


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("--check", is_flag=True, help="Only report releases that are out of date (exit 1 if any).")
def build(chapters: tuple[str, ...], check: bool) -> None:
    """Generate the student release in notebooks/ from solutions/ (all chapters by default)."""
    course = _course()
    report = release.build(_chapters(course, chapters), check=check)
    for path in report.written:
        click.echo(f"wrote {path.relative_to(course.root)}")
    if check and report.stale:
        for path in report.stale:
            click.echo(f"out of date: {path.relative_to(course.root)}", err=True)
        sys.exit(1)
    if not report.stale:
        click.echo("release is up to date")


@main.command()
@click.argument("chapters", nargs=-1)
@click.option("--no-mutants", is_flag=True, help="Skip the plausible-mistake (mutant) runs.")
def validate(chapters: tuple[str, ...], no_mutants: bool) -> None:
    """Check that every chapter is fair to grade: solution passes, blank scores 0, release in sync."""
    from autograder.validate import validate as run_validation

    course = _course()
    problems = run_validation(course, _chapters(course, chapters), with_mutants=not no_mutants, report=click.echo)
    for chapter_id, found in problems.items():
        mark = click.style("ok", fg="green") if not found else click.style(f"{len(found)} problem(s)", fg="red")
        click.echo(f"{chapter_id}: {mark}")
        for problem in found:
            click.echo(f"  - {problem}")
    if any(problems.values()):
        sys.exit(1)


def _options(func):
    func = click.option("--course-dir", type=click.Path(path_type=Path), default=Path("course"),
                        show_default=True, help="nbgrader course directory (created if missing).")(func)
    return click.option("--db", "db_url", default=None,
                        help="Gradebook SQLAlchemy URL [default: SQLite gradebook.db in the course dir].")(func)


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_options
@click.option("--workers", type=int, default=None, help="Submissions graded at once [default: one per core].")
@click.option("--cell-timeout", type=int, default=60, show_default=True, help="Seconds per cell.")
@click.option("--wall-time", type=int, default=600, show_default=True, help="Seconds per submission.")
@click.option("--memory-gb", type=float, default=6.0, show_default=True, help="Memory per submission.")
@click.option("--force", is_flag=True, help="Regrade submissions already graded and unchanged.")
@click.option("--no-sandbox", is_flag=True, help="Run student code unisolated (only where bubblewrap is missing).")
@click.option("--plain", is_flag=True, help="Use nbgrader's own sequential autograde instead.")
def autograde(submissions: Path, course_dir: Path, db_url: str | None, workers: int | None,
              cell_timeout: int, wall_time: int, memory_gb: float, force: bool, no_sandbox: bool,
              plain: bool) -> None:
    """Grade a folder of submissions (SUBMISSIONS/<student>/<chapter>.ipynb) into the gradebook.

    Parallel, each submission in its own sandboxed kernel with limits; an interrupted run
    picks up where it stopped. Exit status 1 when any submission did not grade cleanly.
    """
    from autograder.batch import class_statistics, grade_batch
    from autograder.sandbox import Limits

    course = _course()
    found, problems = grading.find_submissions(submissions, course)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if not found:
        raise click.ClickException(f"no chapter notebooks found under {submissions}")
    if plain:
        outcomes = grading.autograde(course, found, course_dir.resolve(), db_url=db_url)
        rows = [(o.student, o.chapter, o.status, o.score, o.max_score, o.message) for o in outcomes]
        clean = all(o.status == "graded" for o in outcomes)
    else:
        from autograder.sandbox import sandbox_available

        limits = Limits(cell_timeout=cell_timeout, wall_time=wall_time, memory=int(memory_gb * 2**30))
        if not no_sandbox and not sandbox_available():
            raise click.ClickException(
                "student code must run sandboxed: install bubblewrap (apt-get install bubblewrap) and "
                "run as root, or pass --no-sandbox to grade without isolation"
            )
        try:
            results = grade_batch(course, found, course_dir, db_url=db_url, limits=limits, workers=workers,
                                  sandbox=False if no_sandbox else None, force=force)
        except RuntimeError as err:
            raise click.ClickException(str(err)) from err
        rows = [(r.student, r.chapter, r.status, r.score, r.max_score, "; ".join(r.flags + r.notes)) for r in results]
        clean = all(r.status == "graded" and not r.flags for r in results)
        click.echo(f"\n{'exercise':<40} {'mean':>8} {'failing':>8}")
        for key, stat in class_statistics(results).items():
            click.echo(f"{key:<40} {stat['mean']:>5.2f}/{stat['max']:<3g}{stat['failing']:>7.0%}")
    click.echo(f"\n{'student':<20} {'chapter':<20} {'status':<10} {'score':>10}  note")
    for student, chapter, status, score, max_score, note in rows:
        click.echo(f"{student:<20} {chapter:<20} {status:<10} {f'{score:g}/{max_score:g}':>10}  {note[:100]}")
    if not clean:
        sys.exit(1)


@main.command()
@_options
def feedback(course_dir: Path, db_url: str | None) -> None:
    """Write HTML feedback for every autograded submission into COURSE_DIR/feedback/."""
    paths = grading.generate_feedback(_course(), course_dir.resolve(), db_url=db_url)
    click.echo(f"{len(paths)} feedback file(s) in {course_dir / 'feedback'}")


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path), default=Path("grades.csv"))
@_options
def export(out: Path, course_dir: Path, db_url: str | None) -> None:
    """Export grades as CSV: one row per student, one column per exercise."""
    rows = grading.export_grades(_course(), course_dir.resolve(), out, db_url=db_url)
    click.echo(f"wrote {rows} student row(s) to {out} and class statistics to {grading.stats_path(out)}")


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeout", default=120, show_default=True, help="Seconds allowed per cell.")
def check(notebook: Path, timeout: int) -> None:
    """Run a notebook's visible tests in a fresh kernel and summarise them (the file is not changed)."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as err:
        raise click.ClickException(f"{notebook} is not a readable notebook: {err}") from err
    try:
        course: Course | None = Course.load()
    except CourseError:  # a notebook checked outside the course folder
        course = None
    chapter = next((c for c in course.chapters if c.id == notebook.stem), None) if course else None
    if course and chapter and (forbidden := forbidden_imports(nb, visible_modules(course, chapter))):
        click.echo(click.style("warning: ", fg="yellow") + forbidden_note(forbidden, chapter.id), err=True)
    click.echo(f"running {notebook.name} in a fresh kernel ...")
    results = cell_results(execute(nb, timeout=timeout, cwd=notebook.parent.resolve()))
    if not results:
        raise click.ClickException(f"{notebook} has no autograded test cells")
    for r in results:
        mark = click.style("PASS", fg="green") if r.passed else click.style("FAIL", fg="red")
        click.echo(f"  {mark}  {r.grade_id:<32} {r.score:g}/{r.points:g}")
        if not r.passed:
            click.echo(f"        {r.message.splitlines()[0] if r.message else ''}")
    passed = sum(r.passed for r in results)
    earned, total = sum(r.score for r in results), sum(r.points for r in results)
    click.echo(f"{passed}/{len(results)} visible test cells pass ({earned:g}/{total:g} points if the hidden tests agree)")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
