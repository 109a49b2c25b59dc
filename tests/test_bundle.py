"""What students receive (`./course bundle`): the released chapters, nothing that gives answers
away, and a launcher that sets itself up and checks notebooks without the instructor's tools.

Also: helpers/ itself (shipped in every bundle) holds no working version of a graded function.
"""

from __future__ import annotations

import ast
import difflib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from autograder.authoring import cells_with_role, read_source, role
from autograder.bundle import MARKER, BundleError, build_bundle, checker_files
from autograder.course import Course
from autograder.library import library_module, module_name, visible_modules
from autograder.mutants import Mutant, graded_functions, run_all
from autograder.validate import leaks, secret_lines

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course.load(ROOT)
UPTO = COURSE.chapters[2]  # 03_mlp: two chapters before it, two after
RELEASED = COURSE.chapters[: COURSE.chapters.index(UPTO) + 1]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "for-students"
    build_bundle(COURSE, UPTO, out)
    return out


def bundle_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(errors="replace")
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_bundle_holds_the_released_chapters_and_the_earlier_library_only(bundle):
    files = bundle_files(bundle)
    assert sorted(n for n in files if n.startswith("notebooks/")) == [f"notebooks/{c.id}.ipynb" for c in RELEASED]
    for chapter in RELEASED:  # the release as `./course build` makes it
        assert files[f"notebooks/{chapter.id}.ipynb"] == chapter.release.read_text(), chapter.id
    earlier = {module_name(c) for c in COURSE.chapters[: COURSE.chapters.index(UPTO)] if library_module(c)}
    assert set(visible_modules(COURSE, UPTO)) >= earlier
    assert {n for n in files if n.startswith("dllib/")} == {"dllib/__init__.py", *(f"dllib/{m}.py" for m in earlier)}
    for later in COURSE.chapters[COURSE.chapters.index(UPTO):]:
        assert not any(module_name(later) in name for name in files), f"{later.id}'s library module is shipped"
    unreleased = {f"helpers/diagnoses/{c.id}.json" for c in COURSE.chapters if c not in RELEASED}
    helpers = {p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert {n for n in files if n.startswith("helpers/")} == helpers - unreleased
    assert {f"helpers/diagnoses/{c.id}.json" for c in RELEASED} & helpers <= set(files)
    shipped_autograder = {n for n in files if n.startswith("autograder/")}
    assert shipped_autograder == {"autograder/__init__.py", *(p.as_posix() for p in checker_files(ROOT))}
    assert {"autograder/selfcheck.py", "autograder/execute.py"} <= shipped_autograder
    assert not {"autograder/validate.py", "autograder/mutants.py", "autograder/batch.py"} & shipped_autograder
    top = {n.split("/")[0] for n in files}
    assert top == {"notebooks", "helpers", "dllib", "autograder", "course", "README.md", "requirements.txt",
                   "environment.yml", "pyproject.toml", MARKER}
    assert files["requirements.txt"] == (ROOT / "requirements.txt").read_text()
    assert files["environment.yml"] == (ROOT / "environment.yml").read_text()
    assert os.access(bundle / "course", os.X_OK)


@pytest.mark.slow
def test_bundle_gives_no_answer_hidden_test_or_mutant_away(bundle):
    """No reference line or hidden test of any chapter in any file, but where the course gives them:
    a chapter's own dllib module once a later chapter is out, and the later chapters' notebooks."""
    files = bundle_files(bundle)
    notebook_lines = {name: {line.strip() for cell in nbformat.reads(text, as_version=4).cells
                             for line in cell.source.splitlines()}
                      for name, text in files.items() if name.endswith(".ipynb")}
    public = {line.strip() for c in COURSE.chapters for cell in nbformat.read(c.release, as_version=4).cells
              for line in cell.source.splitlines()}  # what some release shows students anyway
    for index, chapter in enumerate(COURSE.chapters):
        source = read_source(chapter.source)
        own = f"notebooks/{chapter.id}.ipynb"
        if own in files:
            assert leaks(source, nbformat.reads(files[own], as_version=4)) == [], chapter.id
            assert "BEGIN SOLUTION" not in files[own] and "HIDDEN TESTS" not in files[own]
        given = set()
        if chapter in RELEASED[:-1]:
            given = {f"dllib/{module_name(chapter)}.py",
                     *(f"notebooks/{c.id}.ipynb" for c in COURSE.chapters[index + 1:])}
        secrets = {line for cell in cells_with_role(source, "solution", "tests", "answer")  # hidden tests too
                   for line in secret_lines(cell) if len(line) > 16} - public  # shorter ones can be any code
        for name, text in files.items():
            if name in given or name == own:  # a chapter's own notebook: leaks() above, cell by cell
                continue
            lines = notebook_lines.get(name) or {line.strip() for line in text.splitlines()}
            assert not lines & secrets, f"{name} holds secret lines of {chapter.id}: {sorted(lines & secrets)[:5]}"
    assert not [n for n in files if "mutant" in n.lower() or n.startswith(("solutions/", "tests/"))]
    assert not [n for n, text in files.items() if "MUTANTS" in text]


def test_bundle_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(BundleError, match="not empty"):
        build_bundle(COURSE, UPTO, tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    with pytest.raises(BundleError, match="inside the course"):
        build_bundle(COURSE, UPTO, ROOT / "helpers" / "x")


def overlay_venv(folder: Path) -> Path:
    """A fresh virtual environment that sees this run's installed packages but none of the course's."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    (site,) = (folder / "lib").glob("python3*/site-packages")
    (site / "installed-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return folder


@pytest.mark.slow
def test_bundle_sets_itself_up_and_checks_a_notebook_on_its_own(bundle, tmp_path):
    copy = tmp_path / "fresh"
    shutil.copytree(bundle, copy)
    venv = overlay_venv(tmp_path / "venv")
    env = {key: value for key, value in os.environ.items() if key != "DL_COURSE_ROOT"}
    env.update(COURSE_VENV=str(venv), PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")  # offline, no isolation
    readme = (copy / "README.md").read_text()
    commands = [line.split(" #")[0].strip() for block in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL)
                for line in block.splitlines() if line.startswith("./course ")]
    assert [c.split()[1] for c in commands] == ["open", "check"]  # the README's two commands
    done = subprocess.run(commands[1].split(), cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # the blank release's visible tests fail ...
    assert re.search(r"\n0/\d+ visible test cells pass", output), output  # ... and say so
    assert "FAIL" in output and "NotImplementedError" in output
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import autograder, helpers, dllib; print(autograder.__file__, helpers.__file__, dllib.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(copy) for p in where), where  # the bundle's own, installed by its set-up

    elsewhere = tmp_path / "elsewhere"  # check's path is relative to the student's folder
    elsewhere.mkdir()
    shutil.copyfile(copy / "notebooks" / f"{RELEASED[0].id}.ipynb", elsewhere / "mine.ipynb")
    done = subprocess.run([str(copy / "course"), "check", "mine.ipynb"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "visible test cells pass" in done.stdout, done.stdout + done.stderr
    done = subprocess.run([str(copy / "course"), "validate"], cwd=copy, env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr  # students have no instructor commands


# ----------------------------------------------------------------------------- helpers/


def graded_names() -> dict[str, tuple[str, str]]:
    """Every function or class a chapter grades -> (chapter id, grade id of its solution cell)."""
    names = {}
    for chapter in COURSE.chapters:
        for cell in cells_with_role(read_source(chapter.source), "solution"):
            try:
                names.update({name: (chapter.id, cell.id) for name in graded_functions(cell.source)})
            except SyntaxError:
                continue
    return names


def helper_definitions() -> list[tuple[Path, int, str, bool]]:
    """(file, line, name, top level) of every function, method and class under helpers/."""
    found = []
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        found += [(path, node.lineno, node.name, id(node) in top) for node in ast.walk(tree)
                  if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    return found


def test_helpers_define_no_graded_function_at_any_depth():
    graded = graded_names()
    offenders = [f"{path.relative_to(ROOT)}:{line} defines {name}, which {graded[name][0]} grades"
                 for path, line, name, _ in helper_definitions() if name in graded]
    assert not offenders, "helpers/ ships graded functions:\n" + "\n".join(offenders)


def _similar(a: str, b: str) -> bool:
    a, b = a.strip("_").lower(), b.strip("_").lower()
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.75


def working_namesakes() -> tuple[str, ...]:
    """Top-level helpers named like a graded function (``numerical_gradient`` ~ ``numeric_grad``,
    ``_sigmoid`` ~ ``sigmoid``) that pass that function's tests when put in its place."""
    graded = graded_names()
    candidates: dict[str, list[tuple[str, str, str, str]]] = {}
    for path, _, name, top in helper_definitions():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for target, (chapter_id, cell_id) in graded.items():
            if top and _similar(name, target) and name.strip("_")[:1].isupper() == target[:1].isupper():
                candidates.setdefault(chapter_id, []).append((cell_id, target, module, name))
    offenders = []
    for chapter_id, pairs in candidates.items():
        chapter = COURSE.chapter(chapter_id)
        hidden = sorted({f"dllib.{module_name(c)}" for c in COURSE.chapters} - {
            f"dllib.{m}" for m in visible_modules(COURSE, chapter)})
        as_students_have_it = f"import sys\nsys.modules.update(dict.fromkeys({hidden!r}))\n"  # no later dllib
        nb = read_source(chapter.source)
        ids = [cell.id for cell in nb.cells]
        mutants, labels = [], []
        for cell_id, target, module, name in pairs:
            start = ids.index(cell_id)
            tests = next((c for c in nb.cells[start:] if role(c) == "tests" and re.search(rf"\b{target}\b", c.source)), None)
            if tests is None:
                continue
            source = nb.cells[start].source + f"\n\n{as_students_have_it}from {module} import {name} as {target}\n"
            mutants.append(Mutant(cell_id, tests.id, f"{module}.{name} as {target}", source))
            labels.append(f"{module.replace('.', '/')}.py: {name} passes {chapter_id}'s {tests.id} as {target}")
        if mutants:
            nb.cells = nb.cells[: max(ids.index(m.fails) for m in mutants) + 1]  # no need to run further
            offenders += [label for label, result in zip(labels, run_all(nb, mutants), strict=True) if result.passed]
    return tuple(sorted(offenders))


@pytest.mark.slow
def test_helpers_hold_no_working_version_of_a_graded_function_under_another_name():
    """As a student of the chapter has them: the dllib modules of that chapter and later ones missing."""
    offenders = working_namesakes()
    assert not offenders, "helpers/ ships working versions of graded functions:\n" + "\n".join(offenders)


@pytest.mark.slow
def test_students_check_reports_as_the_instructors_check(toy_course, monkeypatch):
    """The bundle's checker and `autograder check` print the same report (until one calls the other)."""
    from click.testing import CliRunner

    from autograder import cli, release, selfcheck

    release.build(toy_course.chapters)
    notebook = str(toy_course.chapters[0].release)
    monkeypatch.setenv("DL_COURSE_ROOT", str(toy_course.root))
    theirs = CliRunner().invoke(selfcheck.main, [notebook])
    ours = CliRunner().invoke(cli.main, ["check", notebook])
    assert theirs.exit_code == ours.exit_code == 1
    assert theirs.output == ours.output and "0/2 visible test cells pass" in theirs.output, theirs.output
