"""The course's layout: chapters from course.toml and where each of their files lives."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

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
