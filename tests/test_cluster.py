"""Grading on a real Dask LocalCluster (two worker processes on the loopback address): the same
grades as a local run, and a worker killed mid-batch loses nothing."""

from __future__ import annotations

import os
import signal
import threading
import time

import nbformat
import pytest
from conftest import make_toy_course

from autograder import batch, cluster, release
from autograder.sandbox import Limits
from autograder.submissions import find_submissions

pytestmark = pytest.mark.slow
GOOD = "import numpy as np\ndef mse(pred, target):\n    return float(np.mean((np.asarray(pred) - np.asarray(target))**2))"
SLOW = 'import time\ntime.sleep(4)\nq1_answer = "{}"'  # long enough for a worker to die mid-job
STUDENTS = {f"s{i}": {"mse": GOOD if i % 2 else "", "q1": SLOW.format("ab"[i % 2])} for i in range(6)}
LIMITS = Limits(cell_timeout=20, wall_time=120)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    course = make_toy_course(root / "course")
    release.build(course.chapters)
    for student, edits in STUDENTS.items():
        nb = nbformat.read(course.chapters[0].release, as_version=4)
        for cell in nb.cells:
            cell.source = edits.get(cell.id, cell.source)
        (root / "subs" / student).mkdir(parents=True)
        nbformat.write(nb, root / "subs" / student / "toy.ipynb")
    found, problems = find_submissions(root / "subs", course)
    assert not problems and len(found) == len(STUDENTS)
    return course, found, root


def grades(results):
    return {r.student: (r.status, r.score, {k: c.score for k, c in r.cells.items()}) for r in results}


def test_a_dask_cluster_grades_as_a_local_run_and_survives_a_killed_worker(submissions):
    from distributed import default_client

    course, found, root = submissions
    local = batch.grade_batch(course, found, root / "local", workers=2, limits=LIMITS, progress=False)
    expected = {f"s{i}": 3.0 if i % 2 else 0.0 for i in range(6)}  # s1, s3, s5 solve both exercises
    assert {r.student: r.score for r in local} == expected, [(r.student, r.notes) for r in local]

    killed: list[int] = []
    with cluster.dask("local", workers=2) as (executor, share):
        client = default_client()
        assert all(address.startswith("tcp://127.0.0.1:") for address in client.scheduler_info()["workers"])

        def kill_a_busy_worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [address for address, tasks in client.processing().items() if tasks]
                if busy:
                    time.sleep(2)  # well inside the first job's sleeping cell
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.1)

        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        remote = batch.grade_batch(course, found, root / "remote", executor=executor, share=share,
                                   limits=LIMITS, progress=False)
        killer.join()
    assert killed, "no worker was ever busy"
    assert grades(remote) == grades(local)
    assert all(r.status == "graded" for r in remote), [(r.student, r.notes) for r in remote]


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"), \
            cluster.dask("tcp://127.0.0.1:9", timeout=2):
        pass
