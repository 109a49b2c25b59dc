"""The course library's visibility rules: a chapter uses the modules of earlier chapters only."""

import builtins
import dis
import importlib
import inspect

import nbformat

from autograder.course import Course
from autograder.library import forbidden_imports, library_module, module_name, visible_modules


def notebook(*sources: str):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_visible_modules_are_the_earlier_chapters(course: Course):
    ids = [c.id for c in course.chapters]
    assert visible_modules(course, course.chapter("01_ml_basics")) == ()
    assert visible_modules(course, course.chapter("04_regularization")) == tuple(f"ch{i}" for i in ids[:3])


def test_forbidden_imports_in_every_spelling():
    visible = ("ch01_ml_basics", "ch03_mlp")
    nb = notebook(
        "import dllib.ch03_mlp as ch03",  # allowed
        "from dllib.ch04_regularization import dropout_forward",
        "from dllib import (\n    ch05_optimization)",
        "x = __import__('importlib').import_module('dllib.ch06_cnn')",
    )
    assert forbidden_imports(nb, visible) == ["dllib.ch04_regularization", "dllib.ch05_optimization", "dllib.ch06_cnn"]
    assert forbidden_imports(notebook("import numpy as np", "# dllib is the course library"), ()) == []


def test_every_library_module_imports_and_resolves_its_global_names(course: Course):
    """A function exported from a chapter may only use what its module defines or imports."""
    for chapter in course.chapters:
        built = library_module(chapter)
        if built is None:
            continue
        module = importlib.import_module(f"dllib.{module_name(chapter)}")
        for name, function in vars(module).items():
            if not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            used = {i.argval for i in dis.get_instructions(function) if i.opname == "LOAD_GLOBAL"}
            missing = {n for n in used if n not in vars(module) and not hasattr(builtins, n)}
            assert not missing, f"dllib.{module_name(chapter)}.{name} uses {sorted(missing)}, which it does not import"
