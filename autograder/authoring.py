"""From a chapter's source (Jupytext percent format) to an nbgrader source notebook.

Chapters are written as ``solutions/NN_name.py``. A cell's role is a one-word shorthand in its
header, expanded here into nbgrader's cell metadata::

    # %% nbgrader="solution" grade_id="fit_ridge"                 exercise (solution regions inside)
    # %% nbgrader="tests" grade_id="test_fit_ridge" points=3      autograded tests (visible + hidden)
    # %% [markdown] nbgrader="answer" grade_id="why" points=2     written answer, graded by hand
    # %% nbgrader="readonly"                                      locked cell
    # %% nbgrader="solution" grade_id="affine_forward" export=true   also goes to dllib (see library.py)

Everything else is an ordinary cell. Cell ids are derived from grade ids and positions so that
the generated notebooks are byte-for-byte reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbformat import NotebookNode

NBGRADER_SCHEMA_VERSION = 3

ROLES: dict[str, dict[str, bool]] = {
    "solution": {"solution": True, "grade": False, "locked": False, "task": False},
    "tests": {"solution": False, "grade": True, "locked": True, "task": False},
    "answer": {"solution": True, "grade": True, "locked": False, "task": False},
    "readonly": {"solution": False, "grade": False, "locked": True, "task": False},
}

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class AuthoringError(ValueError):
    """A chapter source breaks the authoring conventions."""


def role(cell: NotebookNode) -> str | None:
    """The shorthand role of a cell of an nbgrader notebook (``None`` for ordinary cells)."""
    meta = cell.metadata.get("nbgrader")
    if not meta:
        return None
    for name, flags in ROLES.items():
        if all(meta.get(key, False) == value for key, value in flags.items()):
            return name
    return None


def _expand(cell: NotebookNode, index: int, where: str) -> None:
    kind = cell.metadata.pop("nbgrader", None)
    grade_id = cell.metadata.pop("grade_id", None)
    points = cell.metadata.pop("points", None)
    export = cell.metadata.pop("export", None)
    cell.metadata.pop("lines_to_next_cell", None)
    here = f"{where}, cell {index + 1}"
    if export is not None:
        if kind != "solution" or export is not True:
            raise AuthoringError(f"{here}: export=true is only for solution cells")
        cell.metadata["export"] = True
    if kind is None:
        if grade_id is not None or points is not None:
            raise AuthoringError(f"{here}: grade_id/points given without nbgrader=\"...\" role")
        cell.id = f"cell-{index:03d}"
        return
    if kind not in ROLES:
        raise AuthoringError(f"{here}: unknown role nbgrader={kind!r}; use one of {sorted(ROLES)}")
    flags = ROLES[kind]
    if kind == "readonly":
        grade_id = grade_id or f"readonly_{index:03d}"
    if not isinstance(grade_id, str) or not GRADE_ID.match(grade_id):
        raise AuthoringError(f"{here}: role {kind!r} needs grade_id=\"snake_case_name\", got {grade_id!r}")
    meta: dict[str, Any] = {**flags, "grade_id": grade_id, "schema_version": NBGRADER_SCHEMA_VERSION}
    if flags["grade"]:
        if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
            raise AuthoringError(f"{here}: role {kind!r} needs points=N with N > 0, got {points!r}")
        meta["points"] = points
    elif points is not None:
        raise AuthoringError(f"{here}: points given for an ungraded {kind!r} cell")
    if kind == "tests" and cell.cell_type != "code":
        raise AuthoringError(f"{here}: a tests cell must be a code cell")
    cell.metadata["nbgrader"] = meta
    cell.id = grade_id


def read_source(path: str | Path) -> NotebookNode:
    """Read a chapter source and return the nbgrader source notebook (deterministic)."""
    path = Path(path)
    if not path.is_file():
        raise AuthoringError(f"{path}: no such chapter source")
    try:
        nb = jupytext.read(path, fmt="py:percent")
    except Exception as err:  # jupytext raises many exception types on bad input
        raise AuthoringError(f"{path}: cannot be read as a Jupytext percent script: {err}") from err
    for index, cell in enumerate(nb.cells):
        _expand(cell, index, path.name)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.id in seen:
            raise AuthoringError(
                f"{path.name}: grade_id {cell.id!r} used by cells {seen[cell.id] + 1} and {index + 1}"
            )
        seen[cell.id] = index
    nb.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def cells_with_role(nb: NotebookNode, *roles: str) -> Iterable[NotebookNode]:
    return (cell for cell in nb.cells if role(cell) in roles)


def graded_end(nb: NotebookNode) -> int:
    """The number of cells up to and including the last graded one (tests or answer).

    The cells after it (a chapter's closing experiments) can change no score, so the grader, the
    reference run of ``validate`` and the mutant runner stop there.
    """
    graded = [i for i, cell in enumerate(nb.cells) if cell.metadata.get("nbgrader", {}).get("grade")]
    return graded[-1] + 1 if graded else len(nb.cells)


def graded_part(nb: NotebookNode) -> NotebookNode:
    """A copy of the notebook cut after its last graded cell (see ``graded_end``)."""
    part = nbformat.from_dict(nb)
    part.cells = part.cells[: graded_end(nb)]
    return part


def solution_namespace(path: str | Path, *, experiments: bool = True) -> dict[str, Any]:
    """Execute a chapter's code cells, tests excepted, and return the resulting namespace.

    Gives tests the reference implementations; ``experiments=False`` stops at the last graded
    cell. Plots go to the non-interactive Agg backend.
    """
    import matplotlib

    matplotlib.use("Agg")
    from IPython.display import display

    nb = read_source(path)
    if not experiments:
        nb = graded_part(nb)
    namespace: dict[str, Any] = {"__name__": "__solution__", "display": display}
    for cell in nb.cells:
        if cell.cell_type == "code" and role(cell) != "tests":
            exec(compile(cell.source, f"<{Path(path).name}:{cell.id}>", "exec"), namespace)
    return namespace
