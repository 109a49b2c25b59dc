"""The chapter source format: shorthand roles expand into nbgrader metadata, errors are clear."""

from pathlib import Path

import pytest
from conftest import TOY_SOURCE

from autograder.authoring import AuthoringError, read_source, role, solution_namespace


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chapter.py"
    path.write_text(text)
    return path


def test_roles_expand_to_nbgrader_metadata(tmp_path):
    nb = read_source(write(tmp_path, TOY_SOURCE))
    by_id = {cell.id: cell for cell in nb.cells}
    assert by_id["mse"].metadata.nbgrader == {
        "solution": True, "grade": False, "locked": False, "task": False,
        "grade_id": "mse", "schema_version": 3,
    }
    assert by_id["test_mse"].metadata.nbgrader["points"] == 2
    assert role(by_id["test_mse"]) == "tests"
    assert role(by_id["why"]) == "answer" and by_id["why"].cell_type == "markdown"
    assert [role(c) for c in nb.cells].count(None) == 2
    assert all("grade_id" not in c.metadata and "points" not in c.metadata for c in nb.cells)


def test_reading_is_deterministic(tmp_path):
    path = write(tmp_path, TOY_SOURCE)
    first, second = read_source(path), read_source(path)
    assert first == second
    assert [c.id for c in first.cells][:2] == ["cell-000", "cell-001"]
    assert first.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('# %% nbgrader="solutoin" grade_id="x"', "unknown role"),
        ('# %% nbgrader="tests" grade_id="x"', "needs points"),
        ('# %% nbgrader="tests" grade_id="x" points=0', "needs points"),
        ('# %% nbgrader="solution" grade_id="x" points=2', "points given for an ungraded"),
        ('# %% nbgrader="solution"', "needs grade_id"),
        ('# %% nbgrader="solution" grade_id="Bad-Id"', "needs grade_id"),
        ('# %% grade_id="x"', "without nbgrader"),
        ('# %% [markdown] nbgrader="tests" grade_id="x" points=1', "must be a code cell"),
    ],
)
def test_malformed_headers_are_rejected_with_the_cell_named(tmp_path, header, message):
    with pytest.raises(AuthoringError, match=message) as err:
        read_source(write(tmp_path, f"# %%\nimport numpy\n\n{header}\nx = 1\n"))
    assert "chapter.py, cell 2" in str(err.value)


def test_duplicate_grade_ids_are_rejected(tmp_path):
    text = '# %% nbgrader="solution" grade_id="f"\nx = 1\n\n# %% nbgrader="solution" grade_id="f"\ny = 2\n'
    with pytest.raises(AuthoringError, match="'f' used by cells 1 and 2"):
        read_source(write(tmp_path, text))


def test_missing_source_is_reported(tmp_path):
    with pytest.raises(AuthoringError, match="no such chapter source"):
        read_source(tmp_path / "nope.py")


def test_solution_namespace_runs_everything_but_the_tests(tmp_path):
    text = TOY_SOURCE + '\n# %% nbgrader="tests" grade_id="test_boom" points=1\nraise SystemExit("tests ran")\n'
    namespace = solution_namespace(write(tmp_path, text))
    assert namespace["mse"]([3.0], [1.0]) == 4.0
    assert namespace["q1_answer"] == "b"


def test_export_marks_solution_cells_only(tmp_path):
    nb = read_source(write(tmp_path, '# %% nbgrader="solution" grade_id="f" export=true\ndef f():\n    return 1\n'))
    assert nb.cells[0].metadata.export is True
    with pytest.raises(AuthoringError, match="export=true is only for solution cells"):
        read_source(write(tmp_path, '# %% nbgrader="tests" grade_id="t" points=1 export=true\nx = 1\n'))


def test_library_module_strips_solution_markers(tmp_path):
    from conftest import make_toy_course

    from autograder.library import library_module

    course = make_toy_course(tmp_path / "c", TOY_SOURCE.replace('grade_id="mse"', 'grade_id="mse" export=true'))
    path, text = library_module(course.chapters[0])
    assert path == course.root / "dllib" / "chtoy.py"
    assert "BEGIN SOLUTION" not in text and "return float(np.mean(diff**2))" in text
    namespace: dict = {}
    exec(text, namespace)
    assert namespace["mse"]([3.0], [1.0]) == 4.0
    assert library_module(make_toy_course(tmp_path / "d").chapters[0]) is None
