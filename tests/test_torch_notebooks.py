"""The PyTorch notebooks (ids p*) choose their size the same way, and papermill can set it."""

from pathlib import Path

import nbformat
import papermill
import pytest

from autograder.authoring import read_source
from autograder.course import Course

COURSE = Course.load(Path(__file__).resolve().parents[1])
TORCH = [pytest.param(c, id=c.id) for c in COURSE.chapters if c.id.startswith("p")]


def parameters_cells(nb):
    return [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]


def test_there_are_pytorch_notebooks():
    assert TORCH


@pytest.mark.parametrize("chapter", TORCH)
def test_one_parameters_cell_sets_size_before_it_is_used(chapter):
    source = read_source(chapter.source)
    cells = parameters_cells(source)
    assert len(cells) == 1, f"{chapter.id}: expected one cell tagged 'parameters', found {len(cells)}"
    (index,) = cells
    assert source.cells[index].source.startswith('SIZE = "auto"')
    uses = [i for i, cell in enumerate(source.cells) if "pick_size(SIZE" in cell.source]
    assert uses and min(uses) > index, f"{chapter.id}: pick_size(SIZE, ...) must follow the parameters cell"


@pytest.mark.parametrize("chapter", TORCH)
def test_papermill_injects_the_size_after_the_parameters_cell(chapter, tmp_path):
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(chapter.release), str(out), parameters={"SIZE": "small"},
                               prepare_only=True, progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    (index,) = parameters_cells(nb)
    injected = nb.cells[index + 1]
    assert "injected-parameters" in injected.metadata.get("tags", [])
    assert 'SIZE = "small"' in injected.source
