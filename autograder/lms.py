"""Grades in the import formats of learning-management systems: Canvas and Moodle.

Both take one row per student and one column per chapter (its total so far). A chapter with a
written answer not yet graded by hand is left empty, like one not submitted: an LMS keeps the
last value it imported, and an empty cell there means "no grade yet", never 0.

- Canvas, Gradebook > Import: the columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, then one per assignment; a second row ``Points Possible`` gives each assignment's
  maximum. Columns Canvas does not know become new assignments. Our student ids go in as
  ``SIS Login ID`` (the login the submissions were collected under), the other identity columns
  stay empty and Canvas matches on the login.
- Moodle, Grades > Import > CSV file: any header; on import the ``Username`` column is mapped to
  the user field "username" and each chapter column to a grade item (or a new one).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from autograder.grading import GradeTable

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _chapter_cells(table: GradeTable, student: str) -> list[float | str]:
    """The student's total per chapter, empty where not submitted or waiting for hand-grading."""
    cells: list[float | str] = []
    for chapter in table.chapters:
        grade = table.students[student].get(chapter.id)
        cells.append("" if grade is None or grade.pending else f"{grade.total:g}")
    return cells


def _titles(table: GradeTable) -> list[str]:
    return [f"{chapter.id} {chapter.title}" for chapter in table.chapters]


def canvas_rows(table: GradeTable) -> list[list[float | str]]:
    """Header, the ``Points Possible`` row, then one row per student."""
    rows: list[list[float | str]] = [CANVAS_IDENTITY + _titles(table),
                                     ["Points Possible", "", "", "", ""] + [f"{table.chapter_max(c.id):g}" for c in table.chapters]]
    rows += [[student, "", "", student, "", *_chapter_cells(table, student)] for student in table.students]
    return rows


def moodle_rows(table: GradeTable) -> list[list[float | str]]:
    """Header, then one row per student."""
    return [["Username", *_titles(table)]] + [[student, *_chapter_cells(table, student)] for student in table.students]


FORMATS: dict[str, Callable[[GradeTable], list[list[float | str]]]] = {"canvas": canvas_rows, "moodle": moodle_rows}


def lms_path(out: Path, name: str) -> Path:
    """Where ``write_all`` puts an LMS's file next to the export ``out`` (grades.csv -> grades-canvas.csv)."""
    return out.with_name(f"{out.stem}-{name}.csv")


def write_all(table: GradeTable, out: Path) -> list[Path]:
    """Write every LMS format next to ``out``; the paths written."""
    written = []
    for name, rows in FORMATS.items():
        path = lms_path(out, name)
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows(table))
        written.append(path)
    return written
