"""The course's layout: chapters from course.toml and where each of their files lives."""

from __future__ import annotations

import ast
import contextlib
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from traitlets.config import Config

from autograder import feedback
from autograder.execute import WARNING_LINES

MANIFEST = "course.toml"


class CourseError(Exception):
    """The course files are missing or inconsistent."""


@dataclass(frozen=True)
class Chapter:
    id: str
    title: str
    points: float
    root: Path
    # Hidden tests run in the judge, outside the student's kernel (autograder/judge.py); False
    # runs them in the sandboxed kernel, as before the judge existed (no chapter needs it now).
    judged: bool = True

    @property
    def source(self) -> Path:
        return self.root / "solutions" / f"{self.id}.py"

    @property
    def release(self) -> Path:
        return self.root / "notebooks" / f"{self.id}.ipynb"

    @property
    def mutants(self) -> Path:
        return self.root / "solutions" / "mutants" / f"{self.id}.py"

    @property
    def diagnoses(self) -> Path:
        """The known-mistake table that names a student's mistake (generated from the mutants)."""
        return self.root / "helpers" / "diagnoses" / f"{self.id}.json"


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    chapters: tuple[Chapter, ...]

    @classmethod
    def load(cls, root: str | Path | None = None) -> Course:
        root = Path(root) if root else find_root()
        try:
            data = tomllib.loads((root / MANIFEST).read_text())
            chapters = tuple(
                Chapter(str(c["id"]), str(c["title"]), float(c["points"]), root, bool(c.get("judged", True)))
                for c in data["chapters"]
            )
            title = str(data["course"]["title"])
        except FileNotFoundError as err:
            raise CourseError(f"no {MANIFEST} in {root}") from err
        except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as err:
            raise CourseError(f"{root / MANIFEST} is malformed: {err}") from err
        return cls(root, title, chapters)

    def chapter(self, chapter_id: str) -> Chapter:
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        known = ", ".join(c.id for c in self.chapters)
        raise CourseError(f"unknown chapter {chapter_id!r}; chapters are: {known}")

    def select(self, ids: tuple[str, ...] | list[str] | None) -> tuple[Chapter, ...]:
        return tuple(self.chapter(i) for i in ids) if ids else self.chapters


def find_root() -> Path:
    """``$DL_COURSE_ROOT``, else the nearest folder upwards from here holding course.toml."""
    if env := os.environ.get("DL_COURSE_ROOT"):
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / MANIFEST).is_file():
                return folder
    raise CourseError(f"cannot find {MANIFEST}; run from the course folder or set DL_COURSE_ROOT")


T = TypeVar("T")


def racing(write: Callable[[], T], attempts: int = 5) -> T:
    """A gradebook write, tried again when another grader made the same row or table first.

    Several autograde runs may share one database (PostgreSQL): the first to create the tables,
    the course or a student wins, and the others find it there on their next try.
    """
    from nbgrader.api import InvalidEntry
    from sqlalchemy.exc import IntegrityError

    for attempt in range(attempts):
        try:
            return write()
        except (InvalidEntry, IntegrityError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def nbgrader_config(course_dir: str | Path, db_url: str | None = None, timeout: int = 120) -> Config:
    """nbgrader settings for a course directory; the SQLite gradebook inside it by default."""
    course_dir = Path(course_dir).resolve()
    c = Config()
    c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.db_url = db_url or f"sqlite:///{course_dir / 'gradebook.db'}"
    # nbgrader's apps default to no course, its Gradebook to "default_course": one course row that
    # every assignment refers to, as PostgreSQL's foreign keys require (SQLite's go unchecked).
    c.CourseDirectory.course_id = "default_course"
    c.Execute.timeout = timeout
    # nbgrader zeroes a test cell that wrote anything to stderr; Python warnings alone are harmless.
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = WARNING_LINES
    # Feedback shows results and messages, never the hidden tests' source; our template names
    # each test by its exercise and renders maths as MathML (no script from the network).
    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "nbgrader.preprocessors.ClearHiddenTests",
        "autograder.preprocessors.ShortenTestTracebacks",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    # Scoped to feedback: formgrader's own HTMLExporter keeps its templates.
    exporter = c.GenerateFeedback.HTMLExporter
    exporter.template_name = feedback.TEMPLATE
    exporter.extra_template_basedirs = [str(feedback.TEMPLATES)]
    exporter.filters = {"markdown2mathml": "autograder.feedback.markdown2mathml"}
    return feedback.configure(c)  # sanitised and bounded pages, from formgrader and nbgrader's CLI too


def recorded_db_url(course_dir: str | Path) -> str | None:
    """The database server a course directory's nbgrader_config.py names (the ``--db`` autograde was
    given), so later commands find the same gradebook; None for SQLite or no config yet."""
    path = Path(course_dir) / "nbgrader_config.py"
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" = ")
        if key.strip() == "c.CourseDirectory.db_url":
            with contextlib.suppress(ValueError, SyntaxError):
                url = ast.literal_eval(value.strip())
                if isinstance(url, str) and not url.startswith("sqlite"):
                    return url
    return None


def write_nbgrader_config(config: Config, path: Path) -> None:
    """Write the settings as nbgrader_config.py, so nbgrader's own CLI and formgrader agree."""
    lines = ["# Generated by `autograder`; edits are overwritten.", "c = get_config()  # noqa: F821"]

    def settings(prefix: str, section: Config) -> list[str]:  # nested sections: Parent.Child.key
        return [line for key, value in section.items()
                for line in (settings(f"{prefix}.{key}", value) if isinstance(value, Config)
                             else [f"{prefix}.{key} = {value!r}"])]

    lines += settings("c", config)
    path.write_text("\n".join(lines) + "\n")
