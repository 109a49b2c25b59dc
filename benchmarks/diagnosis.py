"""How often the feedback names a known mistake that a student wrote in their own way.

    python benchmarks/diagnosis.py [CHAPTER ...]

``benchmarks/rewritten_mistakes/<chapter>.py`` holds, for some of a chapter's mutants, the whole
solution cell rewritten as a student might (loops, einsum, other but equal formulas, functional
calls) with the mutant's mistake and no other: ``VARIANTS`` (``cell``, ``fails``: its tests cell,
``mutant``: the mutant's ``why``, ``source``) and ``FIXES`` (variant index -> the ``(old, new)``
replacement, or a list of them, that corrects it). Each variant and its fix run like mutants
(``autograder.mutants.run``); the variant must fail its tests cell by a check, the fix must pass
it, and the variant is *named* when the failure message ends with the mutant's ``why``.
The tables in ``helpers/diagnoses`` must be current (``./course build``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from autograder import mutants
from autograder.authoring import read_source
from autograder.course import Course
from autograder.release import diagnosis_is_current

HERE = Path(__file__).resolve().parent / "rewritten_mistakes"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"rewritten_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fixed(source: str, fix: tuple[str, str] | list[tuple[str, str]]) -> str:
    for old, new in [fix] if isinstance(fix, tuple) else fix:
        if source.count(old) != 1:
            raise ValueError(f"fix {old!r} does not occur exactly once")
        source = source.replace(old, new)
    return source


def check_chapter(course: Course, chapter_id: str) -> list[tuple[str, str, str]]:
    """(cell, mutant's why, verdict) per rewritten mistake; verdict is named, unnamed or a problem."""
    module = _load(HERE / f"{chapter_id}.py")
    variants, fixes = module.VARIANTS, module.FIXES
    if missing := [i for i in range(len(variants)) if i not in fixes]:
        raise ValueError(f"{chapter_id}: no FIXES entry for variants {missing}")
    runs = [mutants.Mutant(v["cell"], v["fails"], v["mutant"], v["source"]) for v in variants]
    runs += [mutants.Mutant(v["cell"], v["fails"], "fixed", _fixed(v["source"], fixes[i])) for i, v in enumerate(variants)]
    outcomes = mutants.run(read_source(course.chapter(chapter_id).source), runs).outcomes
    rows = []
    for variant, wrong, fixed in zip(variants, outcomes[:len(variants)], outcomes[len(variants):], strict=True):
        if not wrong.caught_by_a_check:
            verdict = f"PROBLEM: not failed by a check ({wrong.error or 'passed'})"
        elif not fixed.passed:
            verdict = f"PROBLEM: its fix fails too: {fixed.message[:120]}"
        else:
            _, said, named = wrong.message.rpartition("Your results match")
            verdict = "named" if said and variant["mutant"] in named else "unnamed"
        rows.append((variant["cell"], variant["mutant"], verdict))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter ids (default: every file in rewritten_mistakes/)")
    args = parser.parse_args()
    course = Course.load()
    chapters = args.chapters or sorted(p.stem for p in HERE.glob("*.py"))
    stale = [c for c in chapters if not diagnosis_is_current(course.chapter(c))]
    if stale:
        sys.exit(f"the known-mistake tables of {', '.join(stale)} are stale: run ./course build first")
    counts = {"named": 0, "unnamed": 0, "problem": 0}
    for chapter_id in chapters:
        for cell, why, verdict in check_chapter(course, chapter_id):
            counts[verdict if verdict in counts else "problem"] += 1
            print(f"{chapter_id:22s} {cell:22s} {verdict:8s} {why[:70]}")
    total = sum(counts.values())
    print(f"\n{counts['named']} of {total} rewritten mistakes named, {counts['unnamed']} not"
          + (f"; {counts['problem']} PROBLEMS (see above)" if counts["problem"] else ""))
    sys.exit(1 if counts["problem"] else 0)


if __name__ == "__main__":
    main()
