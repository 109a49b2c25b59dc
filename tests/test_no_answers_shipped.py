"""What ships to students (helpers/, notebooks/) never contains a chapter's graded functions."""

import ast
import re
from pathlib import Path

import pytest

from autograder.authoring import cells_with_role, read_source
from autograder.course import Course
from autograder.validate import secret_lines

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course.load(ROOT)
SHIPPED = sorted((ROOT / "helpers").rglob("*.py"))


def defined_names(source: str) -> set[str]:
    """Top-level functions and classes of a module or cell (methods such as __init__ aside)."""
    return {
        node.name
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


@pytest.mark.parametrize("chapter", COURSE.chapters, ids=lambda c: c.id)
def test_helpers_define_no_graded_function_and_contain_no_solution_line(chapter):
    cells = list(cells_with_role(read_source(chapter.source), "solution"))
    graded = set().union(*(defined_names(c.source) for c in cells))
    secrets = {line for c in cells for line in secret_lines(c) if len(line) > 24}
    for path in SHIPPED:
        text = path.read_text()
        assert not graded & defined_names(text), f"{path} defines graded {sorted(graded & defined_names(text))}"
        found = {line for line in secrets if line in text}
        assert not found, f"{path} contains solution lines of {chapter.id}: {sorted(found)}"


@pytest.mark.parametrize("chapter", COURSE.chapters, ids=lambda c: c.id)
def test_dllib_of_a_chapter_is_used_only_by_later_chapters(chapter):
    from autograder.library import module_name

    module = f"dllib.{module_name(chapter)}"
    imports = re.compile(rf"^\s*(from|import)\s+{re.escape(module)}\b", re.MULTILINE)
    index = COURSE.chapters.index(chapter)
    for earlier in COURSE.chapters[: index + 1]:
        assert not imports.search(earlier.source.read_text()), f"{earlier.id} imports {module}"


def test_dllib_modules_import_cleanly():
    import importlib

    for path in sorted((ROOT / "dllib").glob("ch*.py")):
        importlib.import_module(f"dllib.{path.stem}")
