"""`autograder`: the instructor's command line (and the students' self-check)."""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

import click
import nbformat

from autograder import grading, release
from autograder.course import Course, CourseError
from autograder.coursedir import recorded_db_url
from autograder.library import forbidden_imports, forbidden_note, visible_modules
from autograder.sandbox import Limits
from autograder.selfcheck import report
from autograder.submissions import Status, find_submissions


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
@click.option("--verbose", "-v", is_flag=True, help="Also list every mutant: how it was caught, whether feedback names it.")
def validate(chapters: tuple[str, ...], no_mutants: bool, verbose: bool) -> None:
    """Check that every chapter is fair to grade: release in sync and leak-free, questions visible,
    solution passes, blank scores 0, every mutant caught (three per function by a check)."""
    from autograder.validate import validate as run_validation

    course = _course()
    problems = run_validation(course, _chapters(course, chapters), with_mutants=not no_mutants,
                              report=click.echo, verbose=verbose)
    for chapter_id, found in problems.items():
        mark = click.style("ok", fg="green") if not found else click.style(f"{len(found)} problem(s)", fg="red")
        click.echo(f"{chapter_id}: {mark}")
        for problem in found:
            click.echo(f"  - {problem}")
    if any(problems.values()):
        sys.exit(1)


COURSE_DIR = "grading"  # the nbgrader course directory's default name, inside the course folder


def _course_dir_option(func):
    """--course-dir: relative to the caller's folder; by default grading/ in the course folder."""
    def default(ctx, param, value: Path | None) -> Path:
        return (value or _course().root / COURSE_DIR).resolve()

    return click.option("--course-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        callback=default, help=f"nbgrader course directory, created if missing "
                        f"[default: {COURSE_DIR}/ in the course folder].")(func)


def _options(func):
    func = _course_dir_option(func)
    return click.option("--db", "db_url", default=None,
                        help="Gradebook SQLAlchemy URL [default: the server autograde was last given for this "
                        "course dir, else SQLite gradebook.db in it].")(func)


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_options
@click.option("--workers", type=int, default=None, help="Submissions graded at once [default: one per core].")
@click.option("--cell-timeout", type=int, default=Limits.cell_timeout, show_default=True, help="Seconds per cell.")
@click.option("--wall-time", type=int, default=Limits.wall_time, show_default=True, help="Seconds per submission.")
@click.option("--memory-gb", type=float, default=Limits.memory / 2**30, show_default=True, help="Memory per submission.")
@click.option("--force", is_flag=True, help="Regrade submissions already graded and unchanged.")
@click.option("--no-sandbox", is_flag=True,
              help="Run student code unisolated, with the memory and CPU limits (only where bubblewrap is missing).")
@click.option("--plain", is_flag=True, help="Use nbgrader's own sequential autograde instead.")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Grade on the Dask scheduler at ADDRESS (tcp://host:8786), or `local` for a LocalCluster.")
def autograde(submissions: Path, course_dir: Path, db_url: str | None, workers: int | None,
              cell_timeout: int, wall_time: int, memory_gb: float, force: bool, no_sandbox: bool,
              plain: bool, dask_address: str | None) -> None:
    """Grade a folder of submissions (SUBMISSIONS/<student>/<chapter>.ipynb) into the gradebook.

    Parallel, each submission in its own sandboxed kernel with limits; an interrupted run
    picks up where it stopped. Exit status 1 when any submission did not grade cleanly.
    """
    from autograder.batch import class_statistics, grade_batch

    course = _course()
    db_url = db_url or recorded_db_url(course_dir)
    found, problems = find_submissions(submissions, course)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    if not found:
        raise click.ClickException(f"no chapter notebooks found under {submissions}")
    if plain:
        results = grading.autograde(course, found, course_dir, db_url=db_url)
    else:
        from autograder.sandbox import sandbox_available

        limits = Limits(cell_timeout=cell_timeout, wall_time=wall_time, memory=int(memory_gb * 2**30))
        if not no_sandbox and not sandbox_available():
            raise click.ClickException(
                "student code must run sandboxed: install bubblewrap (apt-get install bubblewrap) and "
                "run as root, or pass --no-sandbox to grade without isolation"
            )
        try:
            with contextlib.ExitStack() as stack:
                executor = share = None
                if dask_address:
                    from autograder import cluster

                    executor, share = stack.enter_context(cluster.dask(dask_address, workers=workers))
                results = grade_batch(course, found, course_dir, db_url=db_url, limits=limits, workers=workers,
                                      executor=executor, share=share, sandbox=False if no_sandbox else None,
                                      force=force)
        except RuntimeError as err:
            raise click.ClickException(str(err)) from err
    rows = [(r.student, r.chapter, r.status, r.score, r.max_score, r.pending, "; ".join(r.flags + r.notes))
            for r in results]
    clean = all(r.status == Status.GRADED and not r.flags for r in results)
    stats = class_statistics(results, [c.id for c in course.chapters])
    click.echo("\n" + _table(
        ["exercise", "mean", "max", "failing", "graded", "pending"], "<>>>>>",
        [(key, f"{st['mean']:.2f}" if st["students"] else "-", f"{st['max']:g}",
          f"{st['failing']:.0%}" if st["students"] else "-", st["students"], st["pending"])
         for key, st in stats.items()]))
    click.echo("(mean and failing over the graded submissions; answers awaiting hand-grading are pending)")
    order = {c.id: i for i, c in enumerate(course.chapters)}
    rows.sort(key=lambda row: (row[0], order.get(row[1], len(order))))
    click.echo("\n" + _table(
        ["student", "chapter", "status", "score", "pending", "notes"], "<<<>><",
        [(student, chapter, status, f"{score:g}/{max_score:g}", pending, note[:100])
         for student, chapter, status, score, max_score, pending, note in rows]))
    if not clean:
        sys.exit(1)


def _table(header: list[str], align: str, rows: list[tuple]) -> str:
    """Rows as text columns, each as wide as its widest entry (``align``: one < or > per column)."""
    cells = [header, *([str(value) for value in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(f"{value:{a}{w}}" for value, a, w in zip(row, align, widths, strict=True)).rstrip()
                     for row in cells)


@main.command()
@_options
def feedback(course_dir: Path, db_url: str | None) -> None:
    """Write HTML feedback for every autograded submission into COURSE_DIR/feedback/."""
    paths = grading.generate_feedback(_course(), course_dir.resolve(), db_url=db_url or recorded_db_url(course_dir))
    click.echo(f"{len(paths)} feedback file(s) in {course_dir / 'feedback'}")


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path), default=Path("grades.csv"))
@_options
def export(out: Path, course_dir: Path, db_url: str | None) -> None:
    """Export grades as CSV: one row per student, one column per exercise; and for Canvas and Moodle."""
    from autograder import lms

    rows = grading.export_grades(_course(), course_dir.resolve(), out, db_url=db_url or recorded_db_url(course_dir))
    click.echo(f"wrote {rows} student row(s) to {out} and class statistics to {grading.stats_path(out)}")
    click.echo("grade imports (one column per chapter): "
               + ", ".join(f"{name.title()} {lms.lms_path(out, name)}" for name in lms.FORMATS))


@main.command(context_settings={"ignore_unknown_options": True})
@_course_dir_option
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
def formgrade(course_dir: Path, jupyter_args: tuple[str, ...]) -> None:
    """Grade the written answers by hand: nbgrader's formgrader on the course directory.

    Starts JupyterLab on COURSE_DIR at /formgrader (JUPYTER_ARGS go to JupyterLab, e.g. --no-browser).
    """
    import os

    if not (course_dir / "nbgrader_config.py").is_file():
        raise click.ClickException(f"nothing graded in {course_dir} yet: run `./course autograde SUBMISSIONS` first")
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={course_dir}",
               "--LabApp.default_url=/formgrader", *(["--allow-root"] if os.geteuid() == 0 else []), *jupyter_args]
    os.chdir(course_dir)  # formgrader reads nbgrader_config.py from the folder it starts in
    os.execv(sys.executable, command)


@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--upto", "upto", required=True, help="The last chapter released to students (its id).")
def bundle(out: Path, upto: str) -> None:
    """Write what students receive for the chapters up to UPTO into the folder OUT.

    Release notebooks, helpers, the course library of the chapters before UPTO, the pinned
    requirements, a launcher (open, check) and a README; no solutions, hidden tests or mutants.
    """
    from autograder.bundle import BundleError, build_bundle

    course = _course()
    try:
        files = build_bundle(course, course.chapter(upto), out)
    except (BundleError, CourseError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"wrote {len(files)} files to {out}: give students this folder (`./course open` inside it)")


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
    sys.exit(0 if report(nb, notebook.name, timeout=timeout, cwd=notebook.parent.resolve()) else 1)


if __name__ == "__main__":
    main()
