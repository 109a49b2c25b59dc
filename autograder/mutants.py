"""Mutation testing of a chapter's tests: plausible wrong solutions must fail their tests cell."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.authoring import role
from autograder.execute import CellResult, cell_results, execute


@dataclass(frozen=True)
class Mutant:
    """A realistic mistake: ``source`` replaces solution cell ``cell``; tests cell ``fails`` must fail."""

    cell: str
    fails: str
    why: str
    source: str


def load_mutants(path: str | Path) -> list[Mutant]:
    """The ``MUTANTS`` list of a ``solutions/mutants/NN_name.py`` module."""
    spec = importlib.util.spec_from_file_location(f"mutants_{Path(path).stem}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.MUTANTS)


def apply(nb: NotebookNode, mutant: Mutant) -> NotebookNode:
    """A copy of the source notebook with the mutant in place, cut after the tests cell it targets."""
    nb = nbformat.from_dict(nb)
    ids = [cell.id for cell in nb.cells]
    for name, wanted in ((mutant.cell, "solution"), (mutant.fails, "tests")):
        if name not in ids or role(nb.cells[ids.index(name)]) != wanted:
            raise ValueError(f"mutant {mutant.why!r}: no {wanted} cell with grade_id {name!r}")
    nb.cells[ids.index(mutant.cell)].source = mutant.source
    nb.cells = nb.cells[: ids.index(mutant.fails) + 1]
    return nb


def run(nb: NotebookNode, mutant: Mutant, *, timeout: int = 120) -> CellResult:
    """Execute the mutated notebook and return the result of the tests cell the mutant targets."""
    results = {r.grade_id: r for r in cell_results(execute(apply(nb, mutant), timeout=timeout))}
    return results[mutant.fails]
