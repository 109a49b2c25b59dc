"""Grade a whole class: in parallel, each submission in its own sandboxed kernel, resumably.

Workers grade; only the main process writes the gradebook (nbgrader's, any SQLAlchemy URL),
one student's chapter per transaction. A submission whose file is unchanged since it was
graded is skipped, so an interrupted run simply runs again. Jobs are plain data and
``grade_job`` a top-level function: any ``concurrent.futures.Executor`` can run them, a
distributed engine's included.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import multiprocessing.util
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import nbformat
from jupyter_core.utils import run_sync
from nbformat import NotebookNode
from nbgrader.utils import determine_grade  # here, so forked workers have it
from tqdm.auto import tqdm

from autograder.authoring import graded_end, read_source, role
from autograder.course import Course
from autograder.coursedir import prepare_course_dir, racing
from autograder.execute import death_reason, kernel_returncode
from autograder.judge import MAX_MESSAGE, SERVE, Connection, NotebookJudge, bootstrap
from autograder.library import forbidden_imports, forbidden_note, visible_modules
from autograder.outputs import BoundedClient, cell_failure, trim
from autograder.restore import reference_notebook, restore
from autograder.sandbox import (
    LimitedKernelManager,
    Limits,
    SandboxedKernelManager,
    sandbox_available,
    sweep_stale,
    work_folder,
)
from autograder.submissions import (
    MAX_SUBMISSION_BYTES,
    CellGrade,
    JobResult,
    Status,
    Submission,
    digest,
    read_submission,
)

GONE = "the kernel stopped serving the tests (did the notebook change how IPython runs cells?)"
SERVE_FACTOR = 3  # a test cell may take this many times the cell limit: the student's code, then the judge's
GRACE = 5  # seconds a kernel has to stop after its interrupt before it is killed
NOT_GRADED = ("The grader stopped before this cell: no cell from here on is graded, so these cells "
              "(the experiments) were not run. Their results are the ones you see when you run them.\n")
T = TypeVar("T")
# Imported while the kernel boots (so a spare kernel has it before its job starts), bound to no name.
PRELOAD = ["--IPKernelApp.exec_lines=import numpy as _preloaded; del _preloaded"]
# Run first in every grading kernel: figures reach the feedback as small PNGs, and no other
# image format is made. Drawing a figure is most of a plotting cell's time; what it costs is
# laying out text and ticks more than pixels, so one draw per figure (no "tight" bounding box,
# which draws twice) matters more than the resolution. Set before pyplot is imported, so the
# inline backend's own set-up uses it.
FIGURE_DPI = 72
FIGURES = f"""
def _figures():
    shell = get_ipython()
    for mime in ("image/jpeg", "image/svg+xml", "application/pdf"):
        shell.display_formatter.formatters[mime].enabled = False
    shell.config.InlineBackend.figure_formats = {{"png"}}
    shell.config.InlineBackend.print_figure_kwargs = {{"dpi": {FIGURE_DPI}, "bbox_inches": None}}
_figures()
del _figures
"""


@dataclass(frozen=True)
class Job:
    """Everything needed to grade one submission, as plain data."""

    student: str
    chapter: str
    submission: str  # the notebook file's text
    limits: Limits
    sandbox: bool = True
    library: tuple[str, ...] = ()  # the dllib modules the chapter may import (earlier chapters')
    judged: bool = True  # hidden tests run in the judge (else in the kernel, see Chapter.judged)
    warm_next: bool = False  # start the worker's next kernel while this job grades (see _start_spare)


# ----------------------------------------------------------------------------- worker side


def _explain(cell, title: str, why: str) -> None:
    """Say in a cell's outputs why it stopped (the feedback shows it where an empty cell stood);
    the KeyboardInterrupt of an interrupted cell is replaced."""
    cell["outputs"] = [o for o in cell.get("outputs", []) if o.get("ename") != "KeyboardInterrupt"]
    if not any(o.get("ename") == title for o in cell["outputs"]):
        cell["outputs"].append(nbformat.v4.new_output("error", ename=title, evalue=why,
                                                      traceback=[f"{title}: {why}"]))


def _kill(km) -> None:
    if hasattr(km, "kill_now"):
        km.kill_now()
    elif getattr(km, "provisioner", None) is not None and km.provisioner.process is not None:
        km.provisioner.process.kill()


def _alive(km) -> bool:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return process is not None and process.poll() is None


@dataclass
class _Kernel:
    """A grading kernel's manager and work folder, and what it was made for."""

    made_for: tuple  # (sandbox, limits, library) of the job
    km: Any
    workdir: Path


_spare: _Kernel | None = None  # this worker's next kernel, started while the current one grades
_made = 0  # kernels this worker has made: consecutive ones get different sandbox uids


def _made_for(job: Job) -> tuple:
    return (job.sandbox, job.limits, job.library)


def _new_kernel(job: Job) -> _Kernel:
    global _made
    if _made == 0 and job.sandbox:  # this worker's first: what dead workers on this machine left goes
        sweep_stale()
    workdir = work_folder()
    if not job.sandbox:
        return _Kernel(_made_for(job), LimitedKernelManager(limits=job.limits), workdir)
    _made += 1  # concurrent workers have distinct pids; a worker's spare and current kernel, distinct parities
    uid = 200_000 + 2 * (os.getpid() % 100_000) + _made % 2
    os.chown(workdir, uid, uid)
    return _Kernel(_made_for(job), SandboxedKernelManager(workdir=workdir, uid=uid, limits=job.limits,
                                                          library=job.library), workdir)


def _discard(kernel: _Kernel) -> None:
    """Stop a kernel and remove everything it had (idempotent)."""
    with contextlib.suppress(Exception):
        run_sync(kernel.km.shutdown_kernel)(now=True)
    if hasattr(kernel.km, "release"):  # the sandbox's mount and cgroup, whatever happened to the kernel
        kernel.km.release()
    shutil.rmtree(kernel.workdir, ignore_errors=True)


def _take_kernel(job: Job) -> _Kernel:
    """The spare kernel if it was made for this kind of job and still runs, else a new one (not started)."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None:
        with contextlib.suppress(Exception):
            if spare.made_for == _made_for(job) and run_sync(spare.km.is_alive)():
                return spare
        _discard(spare)
    return _new_kernel(job)


def _start_spare(job: Job) -> None:
    """Start the next job's kernel now, so that it boots while this job grades (a process of its own)."""
    global _spare
    if _spare is not None:
        return
    kernel = _new_kernel(job)
    try:
        run_sync(kernel.km.start_kernel)(cwd=str(kernel.workdir), extra_arguments=PRELOAD)
    except Exception:  # the next job starts its own
        _discard(kernel)
        return
    _spare = kernel


def _drop_spare() -> None:
    global _spare
    spare, _spare = _spare, None
    if spare is not None:
        _discard(spare)


# A worker leaves no kernel behind when it exits (run at the exit of any process importing this module).
multiprocessing.util.Finalize(None, _drop_spare, exitpriority=100)


def grade_job(job: Job, reference: dict) -> JobResult:
    """Grade one submission (runs in a worker process) against its chapter's reference notebook
    (release + hidden tests; one per chapter, sent to each worker once where the executor can),
    in three stages as nbgrader's autograde: restore, run, score."""
    start = time.monotonic()
    result = JobResult(job.student, job.chapter, Status.GRADED)
    restored = _restore(job, reference, result)
    if restored is not None:
        nb, students = restored
        replies, current = _run(job, nb, students, result)
        _score(nb, replies, current, result)
    result.seconds = time.monotonic() - start
    return result


def _restore(job: Job, reference: dict, result: JobResult) -> tuple[NotebookNode, Any] | None:
    """The submission read and its cells restored around the reference's (tests, locked cells and
    metadata from the reference), with notes; None when it is malformed (the result says why)."""
    if len(job.submission) > MAX_SUBMISSION_BYTES:
        result.status, result.notes = Status.MALFORMED, [f"file larger than {MAX_SUBMISSION_BYTES >> 20} MiB"]
        return None
    try:
        submitted = nbformat.reads(job.submission, as_version=4)
        if not isinstance(submitted.get("cells"), list):
            raise ValueError("no list of cells")
    except Exception as err:  # every unreadable file is reported, never raised
        result.status = Status.MALFORMED
        result.notes = [f"not a readable notebook: {type(err).__name__}: {str(err)[:200]}"]
        return None
    for cell in submitted.cells:  # giant outputs are dropped before anything else
        cell.pop("outputs", None)
        cell.pop("attachments", None)
    restored = restore(submitted, nbformat.from_dict(reference))
    result.notes = restored.notes
    if result.notes and any("missing" in n or "duplicate" in n for n in result.notes):
        result.status = Status.PARTIAL
    if forbidden := forbidden_imports(restored.notebook, job.library):
        result.notes.append(forbidden_note(forbidden, job.chapter))
    return restored.notebook, restored.students


def _run(job: Job, nb: NotebookNode, students: Any, result: JobResult) -> tuple[dict[int, bool], int | None]:
    """Run the notebook up to its last graded cell in a sandboxed kernel, each tests cell in the
    judge; the cells' outputs go into ``nb``. Returns whether each cell ran cleanly (by index) and
    the cell running when the kernel stopped, if it did."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    start = time.monotonic()
    replies: dict[int, bool] = {}
    end = graded_end(nb)
    kernel = _take_kernel(job)
    workdir, km = kernel.workdir, kernel.km
    client = BoundedClient(
        nb, km=km, timeout=job.limits.cell_timeout, allow_errors=True,
        interrupt_on_timeout=True, startup_timeout=60, shutdown_kernel="immediate", extra_arguments=PRELOAD,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(
            cell_index, execute_reply.get("content", {}).get("status") == "ok"),
    )
    current: int | None = None  # the cell running now
    killed: list[str] = []  # why the watchdog killed the kernel

    def run_own(source: str) -> NotebookNode:
        cell = nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)  # nbclient addresses outputs by index: give our cells their own
        try:
            client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
        finally:
            nb.cells.pop()
        return cell

    def watched(work: Callable[[], T], seconds: float) -> T:
        """Run ``work``; a kernel still busy GRACE seconds after its interrupt is killed."""
        def kill() -> None:
            killed.append(f"it ignored the interrupt at the time limit ({job.limits.cell_timeout} s) and was killed")
            _kill(client.km)
        timer = threading.Timer(seconds + GRACE, kill)
        timer.daemon = True
        timer.start()
        try:
            return work()
        finally:
            timer.cancel()

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.settimeout(15)
    conn: Connection | None = None

    def connect() -> socket.socket:
        run_own(f"_judge_agent.connect({str(workdir / 'judge.sock')!r}, {MAX_MESSAGE}, get_ipython().user_ns)")
        return listener.accept()[0]

    def session(work: Callable[[], T]) -> tuple[T | None, BaseException | None, list[dict], bool]:
        """Run ``work`` (the judge's side) while the kernel serves it: its value or error, the
        kernel's outputs meanwhile, and whether the student's code ran past the cell's limit."""
        assert conn is not None
        box: dict[str, Any] = {}

        def judge_side() -> None:
            try:
                box["value"] = work()
            except BaseException as err:  # noqa: BLE001 - reported to the caller
                box["error"] = err
            finally:
                conn.done()

        conn.budget = job.limits.cell_timeout  # the student's code's time; the judge's own is on top
        thread = threading.Thread(target=judge_side, daemon=True)
        thread.start()
        serve = nbformat.v4.new_code_cell(SERVE)
        nb.cells.append(serve)
        limit, client.timeout = client.timeout, SERVE_FACTOR * job.limits.cell_timeout
        try:
            watched(lambda: client.execute_cell(serve, len(nb.cells) - 1, store_history=False), client.timeout)
        except CellTimeoutError:
            pass
        finally:
            client.timeout = limit
            nb.cells.pop()
            thread.join(max(0.0, conn.budget or 0.0) + 1)
        timed_out = conn.broken in ("timed out", "interrupted") or "value" not in box and "error" not in box
        if (thread.is_alive() or conn.broken) and conn.broken != GONE:  # out of step: start over, once more
            conn.broken = conn.broken or "out of step"
            try:
                if not _alive(client.km):
                    raise TimeoutError
                conn.reset(connect())
            except TimeoutError:
                conn.broken = GONE
        kept = [o for o in serve.outputs if o.get("output_type") != "error"]
        return box.get("value"), box.get("error"), kept, timed_out

    deadline = threading.Timer(job.limits.wall_time, lambda: _kill(client.km))
    deadline.daemon = True
    try:
        with client.setup_kernel():
            deadline.start()
            listener.bind(str(workdir / "judge.sock"))  # once the kernel runs: its folder is ready
            os.chmod(workdir / "judge.sock", 0o777)  # the kernel runs as another user
            listener.listen(1)
            run_own(FIGURES)
            run_own(bootstrap(workdir / "judge.sock"))
            try:
                conn = Connection(listener.accept()[0])
            except TimeoutError:
                raise DeadKernelError("the grading kernel did not start properly") from None
            if job.warm_next:
                _start_spare(job)
            judge = NotebookJudge(nb, students, conn)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if index >= end:  # the closing experiments: nothing after the last graded cell scores
                    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=NOT_GRADED)]
                    break
                if time.monotonic() - start > job.limits.wall_time:
                    result.status = Status.TIMED_OUT
                    result.notes.append(f"stopped after {job.limits.wall_time} s for the whole notebook")
                    _explain(cell, "Not run", f"the notebook had used its {job.limits.wall_time} s (the time limit "
                             "per notebook) before this cell; it and the cells after it did not run")
                    break
                current, began, over = index, time.monotonic(), False
                try:
                    if role(cell) == "tests" and job.judged:
                        judged, error, kept, over = session(lambda index=index: judge.run_test(index))
                        if error is not None:
                            judged = [{"output_type": "error", "ename": type(error).__name__, "evalue": str(error),
                                       "traceback": [f"{type(error).__name__}: {error}"]}]
                        cell.outputs = [nbformat.from_dict(o) for o in kept + (judged or [])]
                        replies[index] = True
                    else:
                        watched(lambda cell=cell, index=index: client.execute_cell(cell, index), job.limits.cell_timeout)
                        over = time.monotonic() - began >= job.limits.cell_timeout
                        if role(cell) == "tests":
                            pass
                        elif judge.needs_kernel(index):
                            session(lambda index=index: judge.after_trusted(index))  # (the kernel is quick here)
                        else:
                            judge.after_trusted(index)
                except CellTimeoutError:
                    replies[index], over = False, True
                finally:
                    result.cell_seconds += time.monotonic() - began
                    trim(cell)
                    if role(cell) == "tests":  # a traceback would quote the hidden tests
                        for output in cell.outputs:
                            if output.get("output_type") == "error":
                                output["traceback"] = [f"{output.get('ename')}: {output.get('evalue')}"]
                if over:
                    result.status = Status.TIMED_OUT
                    result.notes.append(f"a cell ran longer than {job.limits.cell_timeout} s and was stopped")
                    _explain(cell, "Time limit", f"this cell ran longer than {job.limits.cell_timeout} s "
                             "(the time limit per cell) and was stopped")
    except DeadKernelError as err:
        if time.monotonic() - start >= job.limits.wall_time:
            result.status = Status.TIMED_OUT
            result.notes.append(f"stopped after {job.limits.wall_time} s for the whole notebook")
            if current is not None:
                _explain(nb.cells[current], "Time limit", f"the notebook ran longer than {job.limits.wall_time} s "
                         "(the time limit per notebook) during this cell; the cells after it did not run")
        elif killed and current is not None:
            result.status = Status.TIMED_OUT
            result.notes.append(f"cell {current + 1} {killed[0]}; later cells did not run")
            _explain(nb.cells[current], "Time limit", f"this cell ran longer than {job.limits.cell_timeout} s; "
                     f"{killed[0]}, so the cells after it did not run")
        else:
            result.status = Status.CRASHED
            reason = death_reason(kernel_returncode(client.km), sandboxed=job.sandbox) \
                if current is not None else f"did not start properly ({str(err)[:120]})"
            where = f" in cell {current + 1}" if current is not None else ""
            result.notes.append(f"the kernel {reason}{where}; later cells did not run")
            if current is not None:
                _explain(nb.cells[current], "Kernel died",
                         f"while this cell ran, the kernel {reason}; the cells after it did not run")
    except Exception as err:  # a kernel that cannot even start must not stop the batch
        result.status = Status.CRASHED
        result.notes.append(f"grading stopped: {type(err).__name__}: {str(err)[:200]}")
    finally:
        deadline.cancel()
        if conn is not None:
            conn.done()
        listener.close()
        with contextlib.suppress(Exception):
            client._cleanup_kernel()
        _discard(kernel)
    return replies, current


def _score(nb: NotebookNode, replies: dict[int, bool], current: int | None, result: JobResult) -> None:
    """Each graded cell's points: a tests cell's by its outcome, an answer's as nbgrader scores it
    (written answers wait for a hand grade)."""
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        points = float(meta["points"])
        if role(cell) == "tests":
            failure = cell_failure(cell.get("outputs", []), replies.get(index, False))
            if index not in replies:
                failure = "did not run: the kernel had died or time ran out"
                if index != current:
                    _explain(cell, "Not run", "the kernel had died or time had run out before this test cell")
            result.cells[cell.id] = CellGrade(0.0 if failure else points, points, message=failure or "")
        else:
            score, _ = determine_grade(cell)
            result.cells[cell.id] = CellGrade(score, points, needs_manual=score is None, auto=False)
    result.notebook = nb


# ----------------------------------------------------------------------------- main side


@contextlib.contextmanager
def exclusive(course_dir: Path) -> Iterator[None]:
    """One grading run per course directory at a time."""
    course_dir.mkdir(parents=True, exist_ok=True)
    with open(course_dir / ".grading.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise RuntimeError(f"another grading run is using {course_dir}") from err
        yield


def records(course_dir: Path, student: str, chapter: str) -> Path:
    """The batch grader's own files for one submission (report.json, the graded file's digest),
    kept outside autograded/, whose every file nbgrader copies into the student's feedback."""
    return course_dir / "grading" / student / chapter


def _marker(course_dir: Path, student: str, chapter: str) -> Path:
    return records(course_dir, student, chapter) / "graded-sha256"


def _submitted(course_dir: Path, student: str, chapter: str) -> Path:
    """Where nbgrader (and so formgrader) expects the file as the student handed it in."""
    return course_dir / "submitted" / student / chapter / f"{chapter}.ipynb"


def keep_submitted(course_dir: Path, student: str, chapter: str, data: bytes,
                   received: datetime.datetime | None = None) -> None:
    """Keep the submission in submitted/ with nbgrader's timestamp.txt (formgrader lists these)."""
    target = _submitted(course_dir, student, chapter)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    stamp = target.with_name("timestamp.txt")
    if received is None:
        stamp.unlink(missing_ok=True)
    else:
        stamp.write_text(received.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


def store(gb, course_dir: Path, result: JobResult, sha: str, submitted: bytes | None = None) -> None:
    """Replace this student's grades for this chapter with the result (one student at a time).

    ``submitted``: the student's file, kept in COURSE_DIR/submitted/ for nbgrader's formgrader.
    """
    from nbgrader.api import MissingEntry

    marker = _marker(course_dir, result.student, result.chapter)
    marker.unlink(missing_ok=True)
    racing(lambda: gb.update_or_create_student(result.student))
    with contextlib.suppress(MissingEntry):
        gb.remove_submission(result.chapter, result.student)
    received = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)  # nbgrader keeps naive UTC
    gb.add_submission(result.chapter, result.student, timestamp=received)
    if submitted is not None:
        keep_submitted(course_dir, result.student, result.chapter, submitted, received)
    graded = gb.find_submission_notebook(result.chapter, result.chapter, result.student)
    for grade in graded.grades:
        cell = result.cells.get(grade.name)
        grade.auto_score = cell.score if cell else 0.0
        grade.needs_manual_grade = bool(cell and cell.needs_manual)
    graded.flagged = bool(result.flags)
    gb.db.commit()
    folder = course_dir / "autograded" / result.student / result.chapter
    folder.mkdir(parents=True, exist_ok=True)
    if result.notebook is not None:
        nbformat.write(nbformat.from_dict(result.notebook), folder / f"{result.chapter}.ipynb")
    summary = {k: v for k, v in asdict(result).items() if k != "notebook"}
    marker.parent.mkdir(parents=True, exist_ok=True)
    (marker.parent / "report.json").write_text(json.dumps(summary, indent=1))
    marker.write_text(sha)


def grade_batch(
    course: Course,
    submissions: list[Submission],
    course_dir: Path,
    *,
    db_url: str | None = None,
    limits: Limits | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    share: Callable[[dict], Any] | None = None,
    sandbox: bool | None = None,
    force: bool = False,
    progress: bool = True,
    judged: bool | None = None,
) -> list[JobResult]:
    """Grade submissions in parallel; already graded, unchanged ones are skipped unless ``force``.

    ``judged``: run the hidden tests in the judge (True) or in the kernel (False) for every
    chapter; None follows each chapter's ``judged`` setting in course.toml. ``executor`` runs the
    jobs (a process per core by default); ``share`` turns each chapter's reference notebook into
    what its jobs receive, once per batch (``cluster.dask`` gives one that puts it on every worker).
    """
    from nbgrader.api import Gradebook

    sandbox = sandbox_available() if sandbox is None else sandbox
    if sandbox and not sandbox_available():
        raise RuntimeError("the sandbox needs bubblewrap and root: apt-get install bubblewrap")
    course_dir = course_dir.resolve()
    with exclusive(course_dir):
        chapters = tuple(c for c in course.chapters if any(s.chapter == c for s in submissions))
        references = {
            c.id: reference_notebook(nbformat.read(c.release, as_version=4), read_source(c.source))
            for c in chapters
        }
        todo, done, unreadable = [], [], []
        for sub in submissions:
            try:
                data = read_submission(sub.path)
            except ValueError as err:  # graded as malformed, its target never read
                unreadable.append(JobResult(sub.student, sub.chapter.id, Status.MALFORMED, notes=[str(err)]))
                continue
            sha = digest(data)
            marker = _marker(course_dir, sub.student, sub.chapter.id)
            if not force and marker.exists() and marker.read_text() == sha:
                if not _submitted(course_dir, sub.student, sub.chapter.id).exists():  # graded before submitted/ was kept
                    keep_submitted(course_dir, sub.student, sub.chapter.id, data)
                report = json.loads((marker.parent / "report.json").read_text())
                report["cells"] = {k: CellGrade(**v) for k, v in report["cells"].items()}
                done.append(JobResult(**{**report, "status": Status(report["status"])}))
                continue
            text = data.decode(errors="replace") if len(data) <= MAX_SUBMISSION_BYTES else "x" * (MAX_SUBMISSION_BYTES + 1)
            todo.append((Job(sub.student, sub.chapter.id, text, limits or Limits(), sandbox,
                             visible_modules(course, sub.chapter),
                             sub.chapter.judged if judged is None else judged),
                         sha, data))
        own = executor is None
        workers = workers or os.cpu_count() or 1
        # Each of our workers starts its next kernel while it grades (the last jobs have none to follow),
        # and stops it when it exits; workers of another executor may outlive the batch, so they do not.
        todo = [(replace(job, warm_next=own and i < len(todo) - workers), sha, data)
                for i, (job, sha, data) in enumerate(todo)]
        executor = executor or ProcessPoolExecutor(max_workers=workers)
        results = list(done)
        bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
        try:
            needed = {job.chapter for job, _, _ in todo}
            shared = {c: (share or (lambda r: r))(r) for c, r in references.items() if c in needed}
            futures = {executor.submit(grade_job, job, shared[job.chapter]): (job, sha, data)
                       for job, sha, data in todo}
            # The workers grade while the course directory is prepared: only storing needs it.
            api = prepare_course_dir(course_dir, chapters, db_url)
            with Gradebook(api.coursedir.db_url) as gb:
                for result in unreadable:
                    store(gb, course_dir, result, "")
                    results.append(result)
                for future in as_completed(futures):
                    job, sha, data = futures[future]
                    try:
                        result = future.result()
                    except Exception as err:  # a worker that died is one crashed submission
                        result = JobResult(job.student, job.chapter, Status.CRASHED,
                                           notes=[f"worker failed: {type(err).__name__}: {err}"])
                    store(gb, course_dir, result, sha, data)
                    results.append(result)
                    bar.update()
        finally:
            bar.close()
            if own:
                executor.shutdown(cancel_futures=True)
    return sorted(results, key=lambda r: (r.student, r.chapter))


def class_statistics(results: list[JobResult], chapters: list[str] | tuple[str, ...] = ()) -> dict[str, dict[str, float]]:
    """Per exercise (``chapter:grade_id``): mean score and share of students short of full marks.

    Over the submissions where the exercise has a score: answers awaiting hand-grading are
    counted as ``pending`` instead. In the order of ``chapters`` (the course's), then of the
    cells in the notebook.
    """
    rank = {chapter: i for i, chapter in enumerate(chapters)}
    stats: dict[str, dict[str, float]] = {}
    for result in sorted(results, key=lambda r: (rank.get(r.chapter, len(rank)), r.chapter)):
        for grade_id, cell in result.cells.items():
            entry = stats.setdefault(f"{result.chapter}:{grade_id}",
                                     {"n": 0, "sum": 0.0, "failed": 0, "max": cell.max_score, "pending": 0})
            if cell.needs_manual or cell.score is None:
                entry["pending"] += 1
                continue
            entry["n"] += 1
            entry["sum"] += cell.score
            entry["failed"] += cell.score < cell.max_score
    return {
        key: {"mean": e["sum"] / e["n"] if e["n"] else 0.0, "max": e["max"],
              "failing": e["failed"] / e["n"] if e["n"] else 0.0, "students": e["n"], "pending": e["pending"]}
        for key, e in stats.items()
    }
