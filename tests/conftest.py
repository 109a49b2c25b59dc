import os
import textwrap
from pathlib import Path

from autograder.execute import SINGLE_THREADED

# One thread per process, set before numpy or torch loads: the test workers share the cores, and
# with them the kernels and JupyterLab servers they start (which inherit it); threads of a math
# library that spin while a neighbour holds their core made a notebook's training cell 17x slower.
for _name, _value in SINGLE_THREADED.items():
    os.environ.setdefault(_name, _value)

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

from autograder.course import Course  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

TOY_SOURCE = textwrap.dedent('''\
    # %% [markdown]
    # # A toy chapter

    # %%
    import numpy as np
    from helpers.testing import assert_close

    # %% nbgrader="solution" grade_id="mse"
    def mse(pred, target):
        """Mean squared error of two float arrays of equal shape."""
        ### BEGIN SOLUTION
        diff = np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)
        return float(np.mean(diff**2))
        ### END SOLUTION

    # %% nbgrader="tests" grade_id="test_mse" points=2
    assert_close(mse([1.0], [1.0]), 0.0, name="mse([1], [1])")
    ### BEGIN HIDDEN TESTS
    assert_close(mse([2.0, 0.0], [0.0, 0.0]), 2.0, name="mse([2, 0], [0, 0])")
    ### END HIDDEN TESTS

    # %% nbgrader="solution" grade_id="q1"
    ### BEGIN SOLUTION
    q1_answer = "b"
    ### END SOLUTION

    # %% nbgrader="tests" grade_id="test_q1" points=1
    assert q1_answer in ("a", "b", "c"), "answer with 'a', 'b' or 'c'"
    ### BEGIN HIDDEN TESTS
    assert q1_answer == "b", "not quite: reread the section on ..."
    ### END HIDDEN TESTS

    # %% [markdown] nbgrader="answer" grade_id="why" points=2
    # The model answer: because the hidden reasoning sentence.
    ''')


@pytest.fixture(scope="session")
def course() -> Course:
    return Course.load(ROOT)


def make_toy_course(root: Path, source: str = TOY_SOURCE) -> Course:
    (root / "solutions").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "solutions" / "toy.py").write_text(source)
    (root / "course.toml").write_text(
        '[course]\ntitle = "Toy"\n\n[[chapters]]\nid = "toy"\ntitle = "Toy"\npoints = 5\n'
    )
    return Course.load(root)


@pytest.fixture
def toy_course(tmp_path: Path) -> Course:
    return make_toy_course(tmp_path / "toy")


def library_namespace(chapter_id: str) -> dict:
    """A chapter's dllib module as `./course build` writes it from the exported cells, run in a
    fresh namespace: it must need nothing but numpy (and earlier chapters' modules)."""
    from autograder.library import library_module

    found = library_module(Course.load().chapter(chapter_id))
    assert found is not None, f"{chapter_id} exports nothing"
    path, text = found
    namespace: dict = {}
    exec(compile(text, str(path), "exec"), namespace)  # noqa: S102 - the course's own reference code
    return namespace
