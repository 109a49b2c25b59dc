"""Execute notebooks in a fresh kernel and read the result of every autograded test cell."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

from autograder.authoring import role

# Python's warning lines ("file:12: RuntimeWarning: overflow ...\n  source line\n"): harmless on stderr.
WARNING_LINES = r"\A(?:[^\n]*:\d+: [A-Za-z]*Warning: [^\n]*\n(?:[ \t]+[^\n]*(?:\n|\Z))*)+\Z"
_WARNINGS = re.compile(WARNING_LINES)


def is_harmless_stderr(text: str) -> bool:
    """True when a stderr stream holds nothing but Python warnings."""
    return bool(_WARNINGS.match(text))


@dataclass(frozen=True)
class CellResult:
    """Outcome of one autograded test cell, as nbgrader would score it."""

    grade_id: str
    points: float
    passed: bool
    message: str = ""

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0


def execute(nb: NotebookNode, *, timeout: int = 120, cwd: str | Path | None = None) -> NotebookNode:
    """Run every cell (errors do not stop the run, as in nbgrader) and return the notebook."""
    nb = nbformat.from_dict(nb)  # never touch the caller's copy
    with tempfile.TemporaryDirectory(prefix="dlcourse-run-") as tmp:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(cwd or tmp)}},
        )
        client.execute()
    return nb


def _failure(cell: NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return f"{output.ename}: {output.evalue}".strip()
        if output.output_type == "stream" and output.name == "stderr" and not is_harmless_stderr(output.text):
            return f"wrote to stderr: {output.text.strip()[:300]}"
    return None


def cell_results(nb: NotebookNode) -> list[CellResult]:
    """Results of the executed notebook's autograded test cells, in notebook order."""
    results = []
    for cell in nb.cells:
        if role(cell) == "tests":
            meta = cell.metadata["nbgrader"]
            failure = _failure(cell)
            results.append(
                CellResult(meta["grade_id"], float(meta["points"]), failure is None, failure or "")
            )
    return results
