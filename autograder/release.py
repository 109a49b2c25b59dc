"""Build the student release: chapter sources -> nbgrader source -> generate_assignment -> notebooks/."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.authoring import read_source
from autograder.course import Chapter
from autograder.coursedir import prepare_course_dir
from autograder.library import library_module


def normalized(nb: NotebookNode) -> str:
    """The committed form of a release notebook: stable key order and no run-time metadata."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("export", None)
    return nbformat.writes(nb) + "\n"


def generate(chapters: tuple[Chapter, ...]) -> dict[Chapter, str]:
    """Release notebooks (as committed text) for the chapters, built in a scratch course dir."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-release-") as tmp:
        prepare_course_dir(Path(tmp), chapters)
        return {
            chapter: normalized(nbformat.read(Path(tmp) / "release" / chapter.id / f"{chapter.id}.ipynb", 4))
            for chapter in chapters
        }


@dataclass(frozen=True)
class SyncReport:
    written: tuple[Path, ...]
    stale: tuple[Path, ...]


def diagnosis_inputs(chapter: Chapter) -> str:
    """A digest of everything a chapter's known-mistake table depends on."""
    helpers = chapter.root / "helpers"
    files = [chapter.source, chapter.mutants, helpers / "testing.py", helpers / "diagnosis.py",
             *sorted(m for m in (chapter.root / "dllib").glob("ch*.py") if m.stem < f"ch{chapter.id}")]
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def diagnosis_text(chapter: Chapter, table: dict) -> str:
    """The committed form of a chapter's known-mistake table (helpers.diagnosis reads it)."""
    return json.dumps({"chapter": chapter.id, "inputs": diagnosis_inputs(chapter), "cells": table},
                      indent=1, sort_keys=True) + "\n"


def diagnosis_is_current(chapter: Chapter) -> bool:
    try:
        return json.loads(chapter.diagnoses.read_text())["inputs"] == diagnosis_inputs(chapter)
    except (OSError, ValueError, KeyError):
        return False


def diagnosis_table(chapter: Chapter) -> dict:
    """Run the chapter's mutants and tabulate what each one's calls returned."""
    from autograder import mutants

    wrong = mutants.load_mutants(chapter.mutants)
    return mutants.diagnosis_table(mutants.run(read_source(chapter.source), wrong))


def build(chapters: tuple[Chapter, ...], *, check: bool = False) -> SyncReport:
    """Regenerate ``notebooks/``, ``dllib/`` and ``helpers/diagnoses/``; with ``check``, only
    report what is out of date (a known-mistake table is out of date when its inputs changed)."""
    written, stale = [], []
    targets = {chapter.release: text for chapter, text in generate(chapters).items()}
    for chapter in chapters:
        if (module := library_module(chapter)) is not None:
            targets[module[0]] = module[1]
    for chapter in chapters:  # after dllib is written: the tables depend on it
        if chapter.mutants.exists() and not diagnosis_is_current(chapter):
            if check:
                stale.append(chapter.diagnoses)
            else:
                targets[chapter.diagnoses] = None  # computed below, once dllib is current
    tables = {c.diagnoses: c for c in chapters if targets.get(c.diagnoses, "") is None}
    for path, text in targets.items():
        if path in tables:
            continue
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    for path, chapter in tables.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(diagnosis_text(chapter, diagnosis_table(chapter)))
        stale.append(path)
        written.append(path)
    return SyncReport(tuple(written), tuple(stale))
