"""The gradebook in a real PostgreSQL server: autograde, feedback, export and formgrader end to
end, the same export as with SQLite, and two autograde runs into one database at once.

The server is Debian's PostgreSQL (``apt-get install postgresql``; `.ci/run` installs it), started
for this module on a free loopback port with trust authentication; as root (which PostgreSQL
refuses) it runs as the ``postgres`` user. Without it the tests skip, saying why.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from test_grades import make_course, write_submissions

from autograder import batch, grading
from autograder.coursedir import nbgrader_config, recorded_db_url
from autograder.sandbox import Limits
from autograder.submissions import find_submissions

pytestmark = pytest.mark.slow
LIMITS = Limits(cell_timeout=5, wall_time=60)
STUDENTS = ("good", "blank", "partial", "broken")


def _bindir() -> Path | None:
    if found := shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return installed[-1].parent if installed else None


@pytest.fixture(scope="module")
def server():
    """``postgresql://postgres@127.0.0.1:PORT``, a fresh server for this module."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    owner: dict = {}
    folder = Path(tempfile.mkdtemp(prefix="dlcourse-postgres-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("PostgreSQL refuses to run as root and there is no `postgres` user")
        os.chown(folder, account.pw_uid, account.pw_gid)
        owner = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data, log = folder / "data", folder / "server.log"

    def run(*command: str | Path) -> None:
        done = subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd=folder, **owner)
        assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}{done.stderr}"

    run(bindir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(bindir / "pg_ctl", "-D", data, "-l", log, "-w", "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {folder}", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=folder, **owner)
        shutil.rmtree(folder, ignore_errors=True)


def database(server: str, name: str) -> str:
    """A new, empty database on the server (nbgrader creates its tables, not the database)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:  # not in a transaction
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    root = tmp_path_factory.mktemp("postgres")
    course = make_course(root / "course")
    write_submissions(course, root / "all")
    found, problems = find_submissions(root / "all", course)
    assert not problems
    return course, [s for s in found if s.student in STUDENTS], root


def rows(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_autograde_feedback_export_and_formgrader_on_postgresql_match_sqlite(server, classes):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course, found, root = classes
    url = database(server, "term")
    exports = {}
    for name, db_url in (("sqlite", None), ("postgresql", url)):
        course_dir = root / name
        results = batch.grade_batch(course, found, course_dir, db_url=db_url, workers=2, limits=LIMITS,
                                    progress=False)
        assert len(results) == 6
        grading.export_grades(course, course_dir, root / f"{name}.csv", db_url=db_url)
        exports[name] = rows(root / f"{name}.csv")
        pages = grading.generate_feedback(course, course_dir, db_url=db_url)
        assert {p.parent.parent.name for p in pages} == {"good", "blank", "partial"}, pages
    assert exports["postgresql"] == exports["sqlite"] and len(exports["sqlite"]) == 4

    # feedback, export and formgrade find the server autograde was given in the course directory
    assert recorded_db_url(root / "postgresql") == url and recorded_db_url(root / "sqlite") is None
    config = nbgrader_config(root / "postgresql", recorded_db_url(root / "postgresql"))
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert {s["student"] for s in api.get_submissions("b_first")} == set(STUDENTS)


def test_two_autograde_runs_into_one_database_at_once_lose_and_duplicate_nothing(server, classes):
    from nbgrader.api import Gradebook

    course, found, root = classes
    url = database(server, "together")
    errors: list[BaseException] = []

    def grade(chapter: str) -> None:
        try:
            batch.grade_batch(course, [s for s in found if s.chapter.id == chapter], root / f"dir-{chapter}",
                              db_url=url, workers=1, limits=LIMITS, progress=False)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    runs = [threading.Thread(target=grade, args=(c.id,)) for c in course.chapters]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert not errors, errors
    with Gradebook(url) as gb:
        assert sorted(s.id for s in gb.students) == sorted(STUDENTS)
        submitted = sorted((s.assignment.name, s.student.id) for a in gb.assignments for s in a.submissions)
    expected = sorted((s.chapter.id, s.student) for s in found)
    assert submitted == expected  # every submission once
