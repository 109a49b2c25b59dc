"""Submissions: finding them in a class's folder, reading them safely, and how grading one ended.

A class's submissions are laid out one folder per student, holding the chapters' notebooks under
their release names, either flat or in a folder per chapter::

    submissions/alice/01_ml_basics.ipynb
    submissions/bob/01_ml_basics/01_ml_basics.ipynb
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import nbformat

from autograder.course import Chapter, Course

MAX_SUBMISSION_BYTES = 64 * 2**20


class Status(StrEnum):
    """How grading a submission ended (the gradebook export and the summary show the value)."""

    GRADED = "graded"
    PARTIAL = "partial"  # cells deleted or duplicated: graded around them
    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    MALFORMED = "malformed"  # not a readable notebook: nothing graded


STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")


@dataclass
class CellGrade:
    """A graded cell's score (None: a written answer awaiting its hand grade) out of its points."""

    score: float | None
    max_score: float
    needs_manual: bool = False
    message: str = ""
    auto: bool = True  # False for answers graded by hand


@dataclass
class JobResult:
    """How grading one submission ended: per graded cell, statuses, flags and notes (both graders)."""

    student: str
    chapter: str
    status: Status
    cells: dict[str, CellGrade] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    notebook: dict | None = None
    seconds: float = 0.0
    cell_seconds: float = 0.0  # time spent executing the notebook's own cells

    @property
    def score(self) -> float:
        return sum(c.score or 0.0 for c in self.cells.values())

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.cells.values())

    @property
    def pending(self) -> int:
        """Answers awaiting hand-grading (they count for nothing until graded)."""
        return sum(c.needs_manual for c in self.cells.values())


@dataclass(frozen=True)
class Submission:
    student: str
    chapter: Chapter
    path: Path


def find_submissions(folder: Path, course: Course) -> tuple[list[Submission], list[str]]:
    """The submissions in ``folder`` and a list of problems with what was skipped."""
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    found, problems = [], []
    by_name = {f"{c.id}.ipynb": c for c in course.chapters}
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not STUDENT_ID.match(student_dir.name):
            problems.append(f"{student_dir}: not a valid student id (letters, digits, _ . @ -)")
            continue
        notebooks = sorted(student_dir.glob("*.ipynb")) + sorted(student_dir.glob("*/*.ipynb"))
        for path in notebooks:
            if ".ipynb_checkpoints" in path.parts:
                continue
            chapter = by_name.get(path.name)
            if chapter is None:
                problems.append(f"{path}: not a chapter notebook of this course (expected {', '.join(by_name)})")
            elif any(s.student == student_dir.name and s.chapter == chapter for s in found):
                problems.append(f"{path}: a second copy of {path.name} for {student_dir.name}; ignored")
            else:
                found.append(Submission(student_dir.name, chapter, path))
    return found, problems


def check_readable(path: Path) -> str | None:
    """Why a notebook file cannot be graded (nbgrader's own autograde path), or None."""
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # any reason a notebook cannot be read is reported, not raised
        return f"not a valid notebook: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return None


def read_submission(path: Path) -> bytes:
    """The bytes of a submission that is a regular file (never through a link, never a device or
    fifo), at most one byte past MAX_SUBMISSION_BYTES; ValueError names what it is instead."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        kind = "a symbolic link" if path.is_symlink() else f"unreadable ({err.strerror})"
        raise ValueError(f"the submitted file is {kind}, not a notebook file") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError("the submitted file is not a regular file (a device, fifo or socket)")
        return handle.read(MAX_SUBMISSION_BYTES + 1)


def digest(data: bytes) -> str:
    """A submission's fingerprint: graded again only when it changes."""
    return hashlib.sha256(data).hexdigest()
