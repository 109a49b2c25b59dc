"""What students receive: `./course bundle OUT --upto CHAPTER`.

The bundle is a folder to hand out (a repository of its own, or an archive) holding, for the
chapters released so far (up to and including CHAPTER, in course.toml's order):

- ``notebooks/``: the release notebooks, generated afresh from the chapters' sources;
- ``helpers/``: the shared utilities, as in the course, with the known-mistake tables
  (``helpers/diagnoses/``) of the released chapters only;
- ``dllib/``: the course library of the chapters *before* CHAPTER only (a chapter's own module
  holds its answers);
- ``autograder/``: :mod:`autograder.selfcheck` and the modules it imports, nothing else, so that
  ``./course check`` runs a notebook with the grader's own code;
- ``course`` (open, check) with the same environment set-up as the course's launcher,
  ``README.md``, the pinned ``requirements.txt`` and ``environment.yml``, and a ``pyproject.toml``
  that installs the three packages.

Nothing from ``solutions/`` (reference answers, hidden tests, mutants), ``tests/`` or the rest of
the autograder.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

from autograder import release
from autograder.course import Chapter, Course
from autograder.library import library_module, visible_modules

MARKER = ".course-bundle"  # lets a later bundle replace this folder
SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
CHECKER = "autograder.selfcheck"
BLOCK = re.compile(r"^# >>> environment[^\n]*\n(?P<body>.*?)^# <<< environment\n", re.MULTILINE | re.DOTALL)


class BundleError(RuntimeError):
    """The bundle cannot be written."""


def released(course: Course, upto: Chapter) -> tuple[Chapter, ...]:
    return course.chapters[: course.chapters.index(upto) + 1]


def checker_files(root: Path) -> list[Path]:
    """The autograder modules that the checker imports, directly or not (relative to ``root``)."""
    todo, found = [CHECKER], set()
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        tree = ast.parse((root / (name.replace(".", "/") + ".py")).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("autograder."):
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("autograder.")]
    return sorted(Path(name.replace(".", "/") + ".py") for name in found)


def environment_block(root: Path) -> str:
    """The environment set-up of the course's launcher (between its ``# >>> environment`` lines)."""
    match = BLOCK.search((root / "course").read_text())
    if match is None:
        raise BundleError(f"{root / 'course'} has no '# >>> environment' ... '# <<< environment' block")
    return match["body"]


def launcher(course: Course) -> str:
    return f"""#!/usr/bin/env bash
# {course.title}: your entry point. Creates .venv and installs the pinned packages when needed, then:
#   ./course open              open the course in JupyterLab
#   ./course check NOTEBOOK    run a notebook in a fresh kernel, as the grader will, and summarise its tests
set -euo pipefail
caller="$PWD"
cd "$(dirname "${{BASH_SOURCE[0]}}")"

{environment_block(course.root)}
command="${{1:-open}}"
[ $# -gt 0 ] && shift
case "$command" in
  open)
    ensure_env
    unset MPLBACKEND
    root_flag=(); [ "$(id -u)" = 0 ] && root_flag=(--allow-root)
    exec jupyter lab --notebook-dir=notebooks "${{root_flag[@]}}" "$@" ;;
  check)
    ensure_env
    cd "$caller"
    exec python -m {CHECKER} "$@" ;;
  *)
    echo "usage: ./course open | ./course check NOTEBOOK" >&2
    exit 2 ;;
esac
"""


def readme(course: Course, chapters: tuple[Chapter, ...]) -> str:
    example = f"notebooks/{chapters[-1].id}.ipynb"
    rows = "\n".join(f"| [{c.id[:2]} {c.title}](notebooks/{c.id}.ipynb) |" for c in chapters)
    return f"""# {course.title}

```bash
./course open    # set up on first use, then open the course in JupyterLab
./course check {example}    # run a notebook as the grader will
```

Each command creates `.venv` with Python 3.11 and installs the pinned packages
(`requirements.txt`) when they are missing or have changed. Set `PYTHON=/path/to/python3.11`
if `python3` is another version. With conda instead: `conda env create -f environment.yml`,
`conda activate dl-course`, then `jupyter lab`.

| chapter |
|---|
{rows}

1. `./course open`, then open the chapter's notebook in `notebooks/`.
2. Fill in each `raise NotImplementedError()` and each written answer. Run the test cell below
   each exercise: its checks say what is wrong (expected vs got). The grader runs more, hidden,
   checks; written answers are graded by hand.
3. Check the whole notebook in a fresh kernel, as the grader will: `./course check NOTEBOOK`
   (or the *Validate* button in JupyterLab).
4. Hand in the notebook file (`notebooks/NN_name.ipynb`) as your instructor asks; keep its name.

`helpers/` holds the course's utilities; `dllib/` the reference pieces of earlier chapters,
for later chapters to build on.
"""


PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "dl-course-student"
version = "0.1.0"
description = "{title}: the released chapters."
requires-python = ">=3.11,<3.12"
dynamic = ["dependencies"]

[tool.setuptools]
packages = ["helpers", "dllib", "autograder"]

[tool.setuptools.dynamic]
dependencies = {{ file = ["requirements.txt"] }}
"""


def _copy_tree(source: Path, target: Path, leave_out: set[Path] = frozenset()) -> list[Path]:
    written = []
    for path in sorted(source.rglob("*")):
        if path.is_file() and not SKIPPED & set(path.relative_to(source).parts) and path.suffix != ".pyc" \
                and path not in leave_out:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            written.append(destination)
    return written


def contents(course: Course, upto: Chapter) -> dict[str, str | Path]:
    """Every file of the bundle: its path in the bundle -> its text, or the file to copy."""
    chapters = released(course, upto)
    files: dict[str, str | Path] = {}
    for chapter, text in release.generate(chapters).items():
        files[f"notebooks/{chapter.id}.ipynb"] = text
    files["dllib/__init__.py"] = course.root / "dllib" / "__init__.py"
    visible = set(visible_modules(course, upto))
    for chapter in chapters:
        module = library_module(chapter)
        if module is not None and module[0].stem in visible:
            files[f"dllib/{module[0].name}"] = module[1]
    files["autograder/__init__.py"] = '"""The grader\'s notebook checker (`./course check`)."""\n'
    for path in checker_files(course.root):
        if path.name != "__init__.py":
            files[path.as_posix()] = course.root / path
    files["course"] = launcher(course)
    files["README.md"] = readme(course, chapters)
    files["pyproject.toml"] = PYPROJECT.format(title=course.title)
    for name in ("requirements.txt", "environment.yml"):
        files[name] = course.root / name
    return files


def build_bundle(course: Course, upto: Chapter, out: Path) -> list[Path]:
    """Write the bundle for the chapters up to ``upto`` into ``out``; returns the files written.

    ``out`` must be missing, empty or an earlier bundle (which is replaced).
    """
    out = out.resolve()
    if out == course.root or course.root in out.parents and out.parent != course.root:
        raise BundleError(f"{out} is inside the course folder's own files; choose another folder")
    if out.exists():
        if not out.is_dir():
            raise BundleError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise BundleError(f"{out} is not empty and not an earlier bundle; choose another folder")
    files = contents(course, upto)  # everything generated before anything is removed
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    later = course.chapters[course.chapters.index(upto) + 1:]  # their known-mistake tables wait too
    written = _copy_tree(course.root / "helpers", out / "helpers", {c.diagnoses for c in later})
    for name, content in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content)
        written.append(target)
    (out / "course").chmod(0o755)
    (out / MARKER).write_text(f"{course.title}: chapters up to {upto.id}\n")
    return sorted(written)
