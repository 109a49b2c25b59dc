"""A student's `./course check NOTEBOOK`: run the notebook as the grader will, summarise its tests.

The student bundle (autograder/bundle.py) ships this module with exactly the modules it imports
(autograder.execute and what that needs), so students check with the grader's own code. The
report is the one the instructor's `autograder check` prints.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import nbformat

from autograder.authoring import role
from autograder.execute import cell_results, run


def describe_cell(nb: nbformat.NotebookNode, index: int) -> str:
    """How a student finds a cell: its number, and its exercise or its first line of code."""
    cell = nb.cells[index]
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
    if role(cell) == "solution":
        return f"cell {index + 1} (exercise {grade_id})"
    if role(cell) == "tests":
        return f"cell {index + 1} ({grade_id})"
    first = next((line.strip() for line in cell.source.splitlines()
                  if line.strip() and not line.strip().startswith("#")), "")
    return f"cell {index + 1} ({first[:40] + ('...' if len(first) > 40 else '')!r})"


def report(nb: nbformat.NotebookNode, name: str, *, timeout: int = 120, cwd: Path | None = None) -> bool:
    """Run the notebook in a fresh kernel and print one line per test cell; True when all pass."""
    click.echo(f"running {name} in a fresh kernel ...")
    outcome = run(nb, timeout=timeout, cwd=cwd)
    results = cell_results(outcome.notebook, outcome.stops)
    if not results:
        raise click.ClickException(f"{name} has no autograded test cells")
    for r in results:
        if not r.ran:
            click.echo(f"  {click.style('----', fg='yellow')}  {r.grade_id:<32} did not run")
        elif r.passed and r.concept:
            click.echo(f"  {click.style('ok', fg='green')}    {r.grade_id:<32} answer recorded: "
                       f"graded by the hidden check ({r.points:g} point{'s' if r.points != 1 else ''})")
        elif r.passed:
            click.echo(f"  {click.style('PASS', fg='green')}  {r.grade_id:<32} {r.score:g}/{r.points:g}")
        else:
            click.echo(f"  {click.style('FAIL', fg='red')}  {r.grade_id:<32} {r.score:g}/{r.points:g}")
            lines = r.message.splitlines()
            for line in lines[:8] + (["..."] if len(lines) > 8 else []):
                click.echo(f"        {line}")
            if r.hint:
                click.echo("        " + click.style(r.hint, fg="yellow"))
    cells = outcome.notebook.cells
    for stop in outcome.stops:
        later = sum(1 for c in cells[stop.index + 1:] if c.cell_type == "code" and c.source.strip())
        after = f"; the {later} code cell{'s' if later != 1 else ''} after it did not run" if stop.fatal and later else ""
        click.echo(click.style(f"{describe_cell(outcome.notebook, stop.index)}: {stop.reason}{after}",
                               fg="red" if stop.fatal else "yellow"))
    passed = sum(r.passed for r in results)
    earned, total = sum(r.score for r in results), sum(r.points for r in results)
    click.echo(f"{passed}/{len(results)} visible test cells pass ({earned:g}/{total:g} points if the hidden tests agree)")
    if answered := sum(r.passed and r.concept for r in results):
        click.echo(f"{answered} concept-check answer{'s are' if answered != 1 else ' is'} recorded; "
                   "only the hidden checks say whether they are right")
    return passed == len(results) and not outcome.stops


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--timeout", default=120, show_default=True, help="Seconds allowed per cell.")
def main(notebook: Path, timeout: int) -> None:
    """Run a notebook's visible tests in a fresh kernel and summarise them (the file is not changed)."""
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as err:  # any reason a file cannot be read as a notebook
        raise click.ClickException(f"{notebook} is not a readable notebook: {err}") from err
    sys.exit(0 if report(nb, notebook.name, timeout=timeout, cwd=notebook.parent.resolve()) else 1)


if __name__ == "__main__":
    main(prog_name="./course check")
