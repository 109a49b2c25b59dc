"""The README's commands, exactly as written, in a fresh copy of the repository.

The copy holds what a clone of the working tree would (tracked and untracked files that git does
not ignore, committed or not) and uses this test run's virtual environment through COURSE_VENV,
whose install stamp must already match, so nothing is installed. Every ``./course`` line of the
README's ``bash`` blocks runs from the copy's root, in the README's order, except ``open`` (an
interactive JupyterLab) and ``test`` (this suite); ``formgrade`` runs until its server answers.
``sh`` blocks show commands that need what a test cannot have (a database server of the reader's).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.authoring import read_source

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
NOT_RUN = {"open": "starts an interactive JupyterLab", "test": "runs this test suite"}
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_commands(text: str) -> list[str]:
    """The ``./course`` lines of the README's bash blocks, comments removed, in order."""
    lines = [line.split(" #")[0].strip() for block in BLOCK.findall(text) for line in block.splitlines()]
    return [line for line in lines if line.startswith("./course ")]


def fresh_clone(target: Path) -> Path:
    """Copy what ``git clone`` of the working tree would hold (uncommitted changes included)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is not there
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def course_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DL_COURSE_ROOT", "PYTEST_XDIST_WORKER")}
    return {**env, "COURSE_VENV": str(VENV), "BROWSER": "true"}  # BROWSER: formgrade opens none


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    clone = fresh_clone(tmp_path_factory.mktemp("clone") / "dl-course")
    stamp = hashlib.sha256((clone / "requirements.txt").read_bytes() + (clone / "pyproject.toml").read_bytes())
    if not (VENV / f".installed-{stamp.hexdigest()[:16]}").exists():
        pytest.skip(f"{VENV} was not set up for this requirements.txt and pyproject.toml: run ./course once")
    return clone


def make_submissions(clone: Path, folder: Path, *, reference: bool = True) -> None:
    """A blank submission (the release) and a correct one (the reference) of the first chapter."""
    chapter = re.search(r'^id = "(.+)"', (clone / "course.toml").read_text(), re.MULTILINE)[1]
    (folder / "blank").mkdir(parents=True)
    shutil.copyfile(clone / "notebooks" / f"{chapter}.ipynb", folder / "blank" / f"{chapter}.ipynb")
    if not reference:
        return
    (folder / "reference").mkdir()
    nbformat.write(read_source(clone / "solutions" / f"{chapter}.py"), folder / "reference" / f"{chapter}.ipynb")


def get_json(url: str, wait: float = 30):
    """GET a JSON answer, retrying while the server is not listening yet (it logs its URL first)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as reply:
                return json.load(reply)
        except urllib.error.URLError as err:
            if not isinstance(err.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_formgrade(command: list[str], cwd: Path, chapter: str) -> str:
    """Start formgrader, ask its API for the chapter's submissions, stop it; returns its log."""
    process = subprocess.Popen(command, cwd=cwd, env=course_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    log, url = [], None
    try:
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            try:
                log.append(lines.get(timeout=1))
            except queue.Empty:
                continue
            found = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)/formgrader\?token=(\w+)", log[-1])
            url = found and found.groups()
        assert url, "formgrade did not start, at /formgrader:\n" + "".join(log)
        port, token = url
        base = f"http://127.0.0.1:{port}"
        assignment = get_json(f"{base}/formgrader/api/assignment/{chapter}?token={token}")
        submissions = get_json(f"{base}/formgrader/api/submissions/{chapter}?token={token}")
        assert assignment["num_submissions"] == 2, assignment
        assert sorted(s["student"] for s in submissions) == ["blank", "reference"], submissions
        assert all(s["autograded"] for s in submissions), submissions
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return "".join(log)


def test_readme_lists_every_instructor_and_student_command():
    names = [line.split()[1] for line in readme_commands((ROOT / "README.md").read_text())]
    assert set(names) >= {"open", "test", "build", "validate", "bundle", "autograde", "formgrade",
                          "feedback", "export", "check"}, names


def test_every_readme_command_runs_as_written(clone):
    commands = readme_commands((clone / "README.md").read_text())
    chapter = re.search(r'^id = "(.+)"', (clone / "course.toml").read_text(), re.MULTILINE)[1]
    ran = []
    for line in commands:
        words = line.split()
        if words[1] in NOT_RUN:
            continue
        if words[1] == "autograde":  # the folder the README names, from the release as built by then
            make_submissions(clone, clone / words[2])
        start = time.monotonic()
        if words[1] == "formgrade":
            run_formgrade(words, clone, chapter)
            ran.append((line, time.monotonic() - start))
            print(f"{ran[-1][1]:6.1f} s  {line}", flush=True)
            continue
        done = subprocess.run(words, cwd=clone, env=course_env(), capture_output=True, text=True, timeout=300)
        output = done.stdout + done.stderr
        ran.append((line, time.monotonic() - start))
        print(f"{ran[-1][1]:6.1f} s  {line}", flush=True)
        if words[1] == "check":  # a blank notebook's tests fail: exit status 1, with the summary
            assert done.returncode in (0, 1) and "visible test cells pass" in output, f"{line}:\n{output}"
        else:
            assert done.returncode == 0, f"{line} failed ({done.returncode}):\n{output[-4000:]}"
        if words[1] == "autograde":
            assert re.search(rf"reference\s+{chapter}\s+graded", output), output
            assert (clone / "grading" / "gradebook.db").is_file()
            assert (clone / "grading" / "submitted" / "blank" / chapter / f"{chapter}.ipynb").is_file()
        if words[1] == "bundle":
            bundle = (clone / words[2]).resolve()
            assert (bundle / "course").is_file() and (bundle / "notebooks" / f"{chapter}.ipynb").is_file()
            assert not (bundle / "solutions").exists()
        if words[1] == "export":
            text = (clone / words[2]).read_text()
            assert text.count("\n") == 3 and "pending" in text, text  # header, blank, reference
        if words[1] == "feedback":
            assert (clone / "grading" / "feedback" / "reference" / chapter / f"{chapter}.html").is_file()
    assert {line.split()[1] for line, _ in ran} >= {"build", "validate", "bundle", "autograde", "formgrade",
                                                    "feedback", "export", "check"}


def test_paths_are_relative_to_the_callers_folder(clone, tmp_path):
    chapter = re.search(r'^id = "(.+)"', (clone / "course.toml").read_text(), re.MULTILINE)[1]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(clone / "notebooks" / f"{chapter}.ipynb", elsewhere / "relative.ipynb")
    launcher = str(clone / "course")
    done = subprocess.run([launcher, "check", "relative.ipynb"], cwd=elsewhere, env=course_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "visible test cells pass" in done.stdout, done.stdout + done.stderr

    make_submissions(clone, elsewhere / "subs", reference=False)
    done = subprocess.run([launcher, "autograde", "subs", "--course-dir", "graded"], cwd=elsewhere,
                          env=course_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (elsewhere / "graded" / "gradebook.db").is_file()
    done = subprocess.run([launcher, "export", "out.csv", "--course-dir", "graded"], cwd=elsewhere,
                          env=course_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (elsewhere / "out.csv").is_file(), done.stdout + done.stderr
