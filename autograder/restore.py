"""Rebuild a submission around the reference structure, whatever the student did to the cells.

The reference is the release notebook with the hidden tests put back. From the submission we
take only what students write: the source of each exercise and answer cell (found by grade id,
or by cell id when the metadata was changed) and any extra cells they added, kept after the
cell they followed. Tests, locked cells, metadata and checksums always come from the reference,
so deleted, reordered, duplicated, retyped or edited cells cannot change what is graded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from autograder.authoring import cells_with_role, role


def reference_notebook(release: NotebookNode, source: NotebookNode) -> NotebookNode:
    """The release (metadata, checksums, stubs) with the source's complete test cells."""
    tests = {cell.id: cell.source for cell in cells_with_role(source, "tests")}
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        if cell.id in tests:
            cell.source = tests[cell.id]
    return nb


@dataclass
class Restored:
    notebook: NotebookNode
    notes: list[str] = field(default_factory=list)
    students: set[str] = field(default_factory=set)  # ids of the cells whose source is the student's


def _key(cell: NotebookNode) -> str | None:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return grade_id or cell.get("id")


def restore(submission: NotebookNode, reference: NotebookNode) -> Restored:
    """The reference notebook filled with the student's answers and extra cells."""
    ref_ids = [cell.id for cell in reference.cells]
    answers = {cell.id for cell in cells_with_role(reference, "solution", "answer")}
    taken: dict[str, str] = {}
    extras: dict[str | None, list[NotebookNode]] = {}
    notes: list[str] = []
    anchor: str | None = None
    for cell in submission.cells:
        key = _key(cell)
        if key in answers:
            if key in taken:
                notes.append(f"duplicate of {key} ignored")
            else:
                taken[key] = cell.get("source", "")
            anchor = key
        elif key in ref_ids:
            anchor = key  # a reference cell: always taken from the reference
        elif cell.get("cell_type") in ("code", "markdown", "raw"):
            extra = nbformat.from_dict({k: v for k, v in cell.items() if k != "id"})
            extra.metadata = {}
            extra.setdefault("source", "")
            if extra.cell_type == "code":
                extra.outputs, extra.execution_count = [], None
            extras.setdefault(anchor, []).append(extra)
    cells = list(extras.get(None, []))
    for ref in reference.cells:
        cell = nbformat.from_dict(ref)
        if ref.id in taken:
            cell.source = taken[ref.id]
        elif ref.id in answers:
            notes.append(f"{ref.id} missing, graded as blank")
        cells.append(cell)
        cells.extend(extras.get(ref.id, []))
    added = {id(cell) for group in extras.values() for cell in group}
    for index, cell in enumerate(cells):
        if role(cell) is None:
            cell.id = f"cell-{index:03d}"
    nb = nbformat.from_dict(reference)
    nb.cells = cells
    order = [_key(c) for c in submission.cells if _key(c) in answers]
    if order != sorted(order, key=ref_ids.index):
        notes.append("cells were reordered; restored the original order")
    students = {c.id for c in cells if id(c) in added or c.id in answers}
    return Restored(nb, notes, students)
