"""A worker starts its next grading kernel while the current job grades (less time per notebook):
the next job of the same kind uses it, another kind gets a fresh one, nothing is left behind."""

from __future__ import annotations

import nbformat
import pytest
from conftest import make_toy_course

from autograder import batch, release
from autograder.authoring import read_source
from autograder.restore import reference_notebook
from autograder.sandbox import Limits, sandbox_available

pytestmark = pytest.mark.slow
GOOD = {"mse": "import numpy as np\ndef mse(pred, target):\n    return float(np.mean((np.asarray(pred) - "
               "np.asarray(target))**2))", "q1": 'q1_answer = "b"'}


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    course = make_toy_course(tmp_path_factory.mktemp("spare") / "toy")
    release.build(course.chapters)
    chapter = course.chapters[0]
    nb = nbformat.read(chapter.release, as_version=4)
    for cell in nb.cells:
        cell.source = GOOD.get(cell.id, cell.source)
    return chapter, nbformat.writes(nb), reference_notebook(nbformat.read(chapter.release, as_version=4),
                                                           read_source(chapter.source))


@pytest.mark.parametrize("sandbox", [pytest.param(True, id="sandboxed"), pytest.param(False, id="plain")])
def test_the_next_job_runs_on_the_kernel_started_during_the_previous_one(toy, sandbox):
    if sandbox and not sandbox_available():
        pytest.skip("bubblewrap and root are needed for the sandbox")
    chapter, submission, reference = toy
    job = batch.Job("s", chapter.id, submission, Limits(cell_timeout=10, wall_time=60), sandbox, warm_next=True)
    try:
        assert batch.grade_job(job, reference).score == 3
        spare = batch._spare
        assert spare is not None and spare.workdir.is_dir()
        last = batch.grade_job(batch.Job(**{**job.__dict__, "warm_next": False}), reference)
        assert last.score == 3 and batch._spare is None
        assert not spare.workdir.exists()  # used, then cleaned up like any kernel

        batch.grade_job(job, reference)  # leaves a spare ...
        spare = batch._spare
        other = batch.Job(**{**job.__dict__, "limits": Limits(cell_timeout=11, wall_time=60), "warm_next": False})
        assert batch.grade_job(other, reference).score == 3  # ... that a job with other limits does not use
        assert batch._spare is None and not spare.workdir.exists()
    finally:
        batch._drop_spare()


def test_consecutive_sandboxed_kernels_of_a_worker_never_share_a_user_id(toy):
    """The spare boots while the current kernel runs student code: they must not share a uid."""
    if not sandbox_available():
        pytest.skip("bubblewrap and root are needed for the sandbox")
    chapter, submission, _ = toy
    job = batch.Job("s", chapter.id, submission, Limits(), True)
    kernels = [batch._new_kernel(job) for _ in range(3)]
    try:
        uids = [k.km._uid for k in kernels]
        assert uids[0] != uids[1] != uids[2] and uids[0] == uids[2]
    finally:
        for kernel in kernels:
            batch._discard(kernel)
