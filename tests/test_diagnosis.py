"""Naming a student's mistake: fingerprints, the lookup, and the whole path on a crafted chapter."""

import json
import os
import textwrap

import nbformat
import numpy as np
import pytest
from conftest import make_toy_course

from autograder import release
from autograder.authoring import read_source
from autograder.execute import execute
from helpers.diagnosis import fingerprint, matches


def test_fingerprints_ignore_rounding_noise_but_not_mistakes():
    x = np.random.default_rng(0).normal(size=(4, 5))
    assert fingerprint(x) == fingerprint(x * (1 + 1e-13)) == fingerprint(x.copy())
    assert fingerprint(x) != fingerprint(x * (1 + 1e-4))
    assert fingerprint(x) != fingerprint(x.astype(np.float32))  # a dtype mistake is a mistake
    assert fingerprint(x) != fingerprint(x.T)
    assert fingerprint(np.array([1.0, 1e-20])) == fingerprint(np.array([1.0, 0.0]))  # cancellation
    assert fingerprint((x, {"b": 1, "a": 2.0})) == fingerprint((x, {"a": 2.0, "b": 1}))
    assert fingerprint(np.array([np.nan, np.inf])) != fingerprint(np.array([np.inf, np.nan]))


def test_the_same_formula_written_another_way_has_the_same_fingerprint():
    """A student's mistake is named when their results match the mutant's: their code orders
    its sums differently, and their CPU may run other BLAS kernels than the build machine's."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        x, w = rng.normal(size=(16, 32)), rng.normal(size=(32, 8))
        assert fingerprint(x @ w) == fingerprint(np.einsum("ik,kj->ij", x, w))
        z = 3 * rng.normal(size=(8, 10))
        shifted = np.exp(z - z.max(axis=1, keepdims=True))
        assert fingerprint(shifted / shifted.sum(1, keepdims=True)) == fingerprint(np.exp(z) / np.exp(z).sum(1)[:, None])
    # a gradient that is zero in exact arithmetic (a bias before batch norm) is noise beside the rest
    grads = {"W": rng.normal(size=(3, 4)), "b": np.zeros(4)}
    assert fingerprint(grads) == fingerprint({**grads, "b": np.full(4, 3e-16)}) == fingerprint({**grads, "b": -grads["b"]})
    assert fingerprint(np.ones(3)) == fingerprint(np.nextafter(np.ones(3), 0))  # round values and their neighbours
    assert fingerprint(0.5) == fingerprint(0.49999999999999994)
    assert fingerprint(np.ones(3)) != fingerprint(np.full(3, 1 - 1e-4))
    assert fingerprint(x) != fingerprint(2 * x) != fingerprint(x / 4)  # sum vs mean over 4 rows, a lost 1/2


def test_float32_results_are_compared_at_float32_precision():
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        x, w = torch.randn(8, 64, generator=generator), torch.randn(64, 10, generator=generator)
        assert fingerprint(x @ w) == fingerprint((x[:, :, None] * w[None]).sum(1))
        s = 3 * torch.randn(4, 16, 16, generator=generator)
        assert fingerprint(torch.softmax(s, -1)) == fingerprint(s.exp() / s.exp().sum(-1, keepdim=True))
    assert fingerprint(x @ w) != fingerprint(1.02 * (x @ w))  # a mistake of a few percent still shows


def test_a_record_matches_a_mistake_only_where_it_differs_from_the_reference():
    entry = {"calls": ["f", "f", "g"], "reference": ["r0", "r1", "r2"],
             "mistakes": [{"why": "adds one", "seen": 2, "differs": {"1": "m1"}},
                          {"why": "wrong g", "seen": 3, "differs": {"2": "m2"}}]}
    assert matches([("f", "r0"), ("f", "m1")], entry) == ["adds one"]
    assert matches([("f", "r0")], entry) == []  # the mistake has not shown yet
    assert matches([("f", "x"), ("f", "m1")], entry) == []  # another mistake too
    assert matches([("f", "r0"), ("f", "r1"), ("g", "m2")], entry) == ["wrong g"]
    assert matches([("h", "r0")], entry) == []  # another cell


TOY = textwrap.dedent('''\
    # %%
    import numpy as np
    from helpers.testing import assert_close, call

    # %% nbgrader="solution" grade_id="center"
    def center(x):
        """x (N, D) float64 minus its column means; x is not modified."""
        ### BEGIN SOLUTION
        return x - x.mean(axis=0)
        ### END SOLUTION

    # %% nbgrader="tests" grade_id="test_center" points=2
    _x = np.arange(6.0).reshape(3, 2) ** 2
    assert_close(call(center, _x), _x - _x.mean(axis=0), name="center(x)")
    ### BEGIN HIDDEN TESTS
    _x = np.random.default_rng(1).normal(size=(5, 3))
    assert_close(call(center, _x), _x - _x.mean(axis=0), name="center(x) on random x")
    ### END HIDDEN TESTS

    # %% [markdown]
    # **Written answer.** Why center?

    # %% [markdown] nbgrader="answer" grade_id="why" points=1
    # Because.
    ''')

MUTANTS = textwrap.dedent('''\
    from pathlib import Path

    from autograder.mutants import editor

    edit = editor(Path(__file__).resolve().parents[1] / "toy.py")
    MUTANTS = [
        edit("center", "subtracts the row means instead of the column means",
             ("x.mean(axis=0)", "x.mean(axis=1, keepdims=True)")),
        edit("center", "subtracts the mean of all entries", ("x.mean(axis=0)", "x.mean()")),
        edit("center", "centres x in place (x -= mean), changing the caller's array",
             ("return x - x.mean(axis=0)", "x -= x.mean(axis=0)\\n    return x"), kind="inplace"),
    ]
    ''')


@pytest.mark.slow
def test_a_student_is_told_the_known_mistake_their_results_match(tmp_path, monkeypatch):
    course = make_toy_course(tmp_path / "toy", TOY)
    (chapter,) = course.chapters
    chapter.mutants.parent.mkdir(parents=True)
    chapter.mutants.write_text(MUTANTS)
    monkeypatch.setenv("DL_COURSE_DIAGNOSES", str(chapter.diagnoses.parent))
    release.build((chapter,))
    table = json.loads(chapter.diagnoses.read_text())["cells"]["test_center"]
    assert [m["why"] for m in table["mistakes"]][:2] == ["subtracts the row means instead of the column means",
                                                         "subtracts the mean of all entries"]
    assert "x.mean" not in chapter.diagnoses.read_text()  # hashes and sentences, never code

    def message(body: str) -> str:
        nb = read_source(chapter.source)
        next(c for c in nb.cells if c.id == "center").source = body
        cell = next(c for c in execute(nb, cwd=tmp_path).cells if c.id == "test_center")
        errors = [o for o in cell.outputs if o.output_type == "error"]
        return errors[0].evalue if errors else ""

    reference = next(c.source for c in read_source(chapter.source).cells if c.id == "center")
    wrong_axis = reference.replace("x.mean(axis=0)", "x.mean(axis=1, keepdims=True)")
    assert message(wrong_axis).endswith("Your results match a known mistake: subtracts the row means "
                                        "instead of the column means.")
    in_place = reference.replace("return x - x.mean(axis=0)", "x -= x.mean(axis=0)\n    return x")
    assert "changed its argument `x` in place" in message(in_place)
    assert message(reference) == ""
    unknown = reference.replace("x.mean(axis=0)", "2 * x.mean(axis=0)")
    assert message(unknown) and "known mistake" not in message(unknown)
    correct_otherwise = "def center(x):\n    return x - np.sum(x, axis=0) / len(x)\n"
    assert message(correct_otherwise) == ""
    os.environ.pop("DL_COURSE_DIAGNOSES", None)


@pytest.mark.slow
def test_test_failures_show_the_cell_and_the_message_not_the_course_helpers(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\nfrom helpers.testing import assert_close, call\n"
        "def f(x):\n    raise NotImplementedError()\n"),
        nbformat.v4.new_code_cell("assert_close(np.ones(2), np.zeros(2), name='f(x)')"),
        nbformat.v4.new_code_cell("call(f, 1.0)")]
    for cell in execute(nb, cwd=tmp_path).cells[1:]:
        (error,) = [o for o in cell.outputs if o.output_type == "error"]
        shown = "\n".join(error.traceback)
        assert "helpers/testing.py" not in shown and "contextlib" not in shown, shown
        assert error.ename == "AssertionError"
