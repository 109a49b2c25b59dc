"""Memory that no rlimit counts (memfd, SysV and POSIX shared memory) and the sandbox's disk use.

Each program runs in a real sandbox (bubblewrap, as root), with the memory cgroup where this
machine has one and with the seccomp fallback in any case.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.sandbox import Limits, Sandbox, SandboxedKernelManager, sandbox_available

needs_sandbox = pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap and root: apt-get install bubblewrap")
MiB = 2**20
LIMITS = Limits(memory=512 * MiB, scratch=32 * MiB, workdir_size=64 * MiB, file_size=48 * MiB)
UID = 300_000 + os.getpid() % 50_000

# Three times the memory limit, in memfds each under the file-size and address-space limits.
MEMFD = """
import os
chunk, fds = b"x" * 2**20, []
for _ in range({pieces}):
    fds.append(os.memfd_create("x"))
    for _ in range(32):
        os.write(fds[-1], chunk)
print("wrote all")
"""
SYSV = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.argtypes, libc.shmat.restype = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int], ctypes.c_void_p
libc.shmdt.argtypes = [ctypes.c_void_p]
size = 128 * 2**20
for _ in range(12):
    segment = libc.shmget(0, size, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    if segment < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, size)
    libc.shmdt(address)  # detached: no longer in the address space, still in memory
print("wrote all")
"""
FILL = """
import errno, json, os

def fill(path, mib):
    fd, written = os.open(path, os.O_WRONLY | os.O_CREAT), 0
    try:
        while written < mib:
            os.write(fd, b"x" * 2**20)
            written += 1
    except OSError as err:
        return errno.errorcode[err.errno], written
    finally:
        os.close(fd)
    return "ok", written

result = {"shm": fill("/dev/shm/a", 64), "tmp": fill("/tmp/a", 64), "big": fill("big", 64)}
os.remove("big")
result["first"], result["second"] = fill("a", 40), fill("b", 40)
print(json.dumps(result))
"""
NUMPY = """
import multiprocessing, tempfile
import numpy as np
a = np.random.default_rng(0).standard_normal((400, 400))
big = np.ones((50, 2**20))  # 400 MB
np.save("a.npy", a @ a.T)
with tempfile.TemporaryFile() as f:
    np.save(f, a)
multiprocessing.Lock()  # a POSIX semaphore in /dev/shm, as joblib makes
print(float(np.load("a.npy").trace() > 0), big.sum())
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    os.chown(folder, UID, UID)
    return folder


@pytest.fixture(params=["cgroup", "seccomp"])
def mode(request, monkeypatch) -> str:
    if request.param == "cgroup" and sandbox.memory_cgroups() is None:
        pytest.skip("no memory cgroup can be made on this machine")
    if request.param == "seccomp":
        monkeypatch.setattr(sandbox, "memory_cgroups", lambda: None)
    return request.param


def run(box: Sandbox, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(box.command([sys.executable, "-c", code]), capture_output=True, text=True, timeout=60)


@needs_sandbox
@pytest.mark.parametrize("program", [MEMFD.format(pieces=48), SYSV], ids=["memfd", "sysv"])
def test_shared_memory_counts_against_the_memory_limit(workdir, mode, program):
    with Sandbox(workdir, UID, LIMITS) as box:
        assert (box.cgroup is not None) == (mode == "cgroup")
        done = run(box, program)
    assert "wrote all" not in done.stdout
    if mode == "cgroup":  # OOM-killed: bwrap reports 128 + SIGKILL, or is killed with it (oom.group)
        assert done.returncode in (137, -9), done.stderr
    else:
        assert "Operation not permitted" in done.stderr


@needs_sandbox
def test_scratch_and_work_folder_are_size_limited(workdir, mode):
    with Sandbox(workdir, UID, LIMITS) as box:
        assert os.path.ismount(workdir)
        done = run(box, FILL)
        assert done.returncode == 0, done.stderr
        assert sorted(os.listdir(workdir)) == ["a", "b"]  # the host sees the kernel's files
        cgroup = box.cgroup
    result = json.loads(done.stdout)
    assert result["shm"] == result["tmp"] == ["ENOSPC", 32]
    assert result["big"] == ["EFBIG", 48]
    assert result["first"] == ["ok", 40]
    assert result["second"] == ["ENOSPC", 24]  # 64 MiB in all
    assert not os.path.ismount(workdir) and os.listdir(workdir) == []
    assert cgroup is None or not cgroup.exists()


@needs_sandbox
def test_numpy_work_runs_within_the_limits(workdir, mode):
    with Sandbox(workdir, UID, Limits(memory=2 * 2**30)) as box:
        done = run(box, NUMPY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1.0", str(float(50 * MiB))]


@needs_sandbox
def test_kernel_dies_of_a_memfd_bomb_and_its_sandbox_is_cleaned_up(workdir):
    if sandbox.memory_cgroups() is None:
        pytest.skip("no memory cgroup can be made on this machine")

    async def scenario() -> tuple[list[str], bool]:
        limits = Limits(memory=2**30)  # ipykernel needs more address space than LIMITS gives
        km = SandboxedKernelManager(workdir=workdir, uid=UID, limits=limits)
        await km.start_kernel()
        try:
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            outputs: list[str] = []
            reply = await client.execute_interactive(
                "import numpy as np, os; print(np.arange(4).sum(), os.getcwd())", timeout=30,
                output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
            assert reply["content"]["status"] == "ok"
            assert os.path.ismount(workdir) and km.sandbox.cgroup.is_dir()
            client.execute(MEMFD.format(pieces=3 * limits.memory // (32 * MiB)))
            for _ in range(200):
                if not await km.is_alive():
                    break
                await asyncio.sleep(0.05)
            alive = await km.is_alive()
            client.stop_channels()
            return outputs, alive
        finally:
            cgroup = km.sandbox.cgroup
            await km.shutdown_kernel(now=True)
            km.release()
            assert cgroup is not None and not cgroup.exists()
            assert not os.path.ismount(workdir)

    outputs, alive = asyncio.run(scenario())
    assert "".join(outputs).split() == ["6", str(workdir)]
    assert not alive


def test_no_memory_cgroup_is_warned_once_per_run(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOGRADER_SANDBOX_WARNED", raising=False)
    monkeypatch.setattr(sandbox, "_candidates", lambda: iter([(1, tmp_path / "missing")]))
    sandbox.memory_cgroups.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="no memory cgroup"):
            assert sandbox.memory_cgroups() is None
        sandbox.memory_cgroups.cache_clear()  # as in a worker process: found again, not warned again
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert sandbox.memory_cgroups() is None
    finally:
        sandbox.memory_cgroups.cache_clear()


@pytest.mark.parametrize("answer, status, score", [
    ('import numpy as np\nbig = np.ones(3 * 2**30 // 8)  # 3 GiB, over the 2 GiB\nq1_answer = "b"', "graded", 2.0),
    ("while True:\n    pass", "crashed", 2.0),  # 3 s of CPU, long before the cell's 20 s
], ids=["memory", "cpu"])
def test_without_the_sandbox_memory_and_cpu_stay_limited(tmp_path, answer, status, score):
    """--no-sandbox (no bubblewrap) still runs the kernel under prlimit's memory and CPU limits."""
    import nbformat
    from conftest import make_toy_course

    from autograder import batch, release
    from autograder.authoring import read_source
    from autograder.restore import reference_notebook

    course = make_toy_course(tmp_path / "toy")
    release.build(course.chapters)
    chapter = course.chapters[0]
    nb = nbformat.read(chapter.release, as_version=4)
    good = "import numpy as np\ndef mse(p, t):\n    return float(np.mean((np.asarray(p) - np.asarray(t))**2))"
    for cell in nb.cells:
        cell.source = {"mse": good, "q1": answer}.get(cell.id, cell.source)
    reference = reference_notebook(nbformat.read(chapter.release, as_version=4), read_source(chapter.source))
    limits = Limits(memory=2048 * MiB, cpu_time=3, cell_timeout=20, wall_time=60)
    result = batch.grade_job(batch.Job("s", chapter.id, nbformat.writes(nb), limits, sandbox=False), reference)
    assert (result.status, result.score) == (status, score), result.notes
    if status == "crashed":
        assert "more CPU time than allowed (SIGXCPU)" in result.notes[-1], result.notes


def _mount_points() -> set[str]:
    return {line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()}


@needs_sandbox
def test_what_a_killed_grader_left_is_swept_and_a_live_one_is_not():
    """A grading process killed mid-notebook cannot unmount its work folder or remove its cgroup;
    the next worker on the machine does, and leaves those of living graders alone."""
    program = ("import os; from autograder.sandbox import Limits, Sandbox, work_folder\n"
               f"box = Sandbox(work_folder(), {UID}, Limits()); box.setup()\n"
               "print(box.workdir, box.cgroup, flush=True); os.kill(os.getpid(), 9)")
    died = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    folder, cgroup = died.stdout.split()
    assert folder in _mount_points()
    living = Sandbox(sandbox.work_folder(), UID + 1, Limits())
    living.setup()
    try:
        assert sandbox.sweep_stale() >= 1
        assert folder not in _mount_points() and not Path(folder).exists()
        assert cgroup == "None" or not Path(cgroup).exists()
        assert str(living.workdir) in _mount_points()
        assert living.cgroup is None or living.cgroup.exists()
    finally:
        living.release()
        living.workdir.rmdir()
