"""Grade one batch of a chapter's submissions with plain nbgrader and with our grader (hidden tests in
the judge, and for comparison in the student's kernel); print figures.

    python benchmarks/grading.py [--chapter 01_ml_basics] [--students 24]
    python benchmarks/grading.py --growth --students 120   # ours only, batches of 15 .. 120


The batch mixes correct, partly wrong (the chapter's mutants) and blank submissions. Both runs
happen here, one after the other, on the same files. Overhead per notebook is each grader's
wall time per notebook (per worker for ours) beyond executing the notebook's own cells, as
each measured them (nbclient's timing metadata for plain nbgrader).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import nbformat

from autograder import grading, mutants
from autograder.authoring import cells_with_role, read_source
from autograder.batch import grade_batch
from autograder.course import Course
from autograder.sandbox import sandbox_available
from autograder.submissions import find_submissions


def make_batch(course: Course, chapter_id: str, students: int, folder: Path) -> None:
    chapter = course.chapter(chapter_id)
    answers = {c.id: c.source for c in cells_with_role(read_source(chapter.source), "solution", "answer")}
    wrong = mutants.load_mutants(chapter.mutants) if chapter.mutants.exists() else []
    for i in range(students):
        nb = nbformat.read(chapter.release, as_version=4)
        kind = ("correct", "partial", "blank")[i % 3]
        edits = {} if kind == "blank" else dict(answers)
        if kind == "partial" and wrong:
            mutant = wrong[i % len(wrong)]
            edits[mutant.cell] = mutant.source
        for cell in nb.cells:
            if cell.id in edits:
                cell.source = edits[cell.id]
        target = folder / f"student{i:03d}" / chapter.release.name
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)


def cell_seconds(notebook: Path) -> float:
    """Time spent executing the cells of a notebook nbclient ran (its timing metadata)."""
    total = 0.0
    for cell in nbformat.read(notebook, as_version=4).cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.status.busy" in timing and "shell.execute_reply" in timing:
            began, ended = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                            for k in ("iopub.status.busy", "shell.execute_reply"))
            total += (ended - began).total_seconds()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", default="01_ml_basics")
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--growth", action="store_true",
                        help="only our grader, on batches of 1/8, 1/4, 1/2 and all of --students")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*not in session")  # nbgrader's SQLAlchemy noise
    course = Course.load()
    if args.growth:
        growth(course, args.chapter, args.students, args.workers)
        return
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        root = Path(tmp)
        make_batch(course, args.chapter, args.students, root / "submissions")
        found, _ = find_submissions(root / "submissions", course)

        start = time.perf_counter()
        plain = grading.autograde(course, found, root / "plain", progress=False)
        plain_wall = time.perf_counter() - start
        plain_cells = statistics.median(
            cell_seconds(path) for path in (root / "plain" / "autograded").glob("*/*/*.ipynb"))

        start = time.perf_counter()
        ours = grade_batch(course, found, root / "ours", workers=args.workers, progress=False, judged=True)
        ours_wall = time.perf_counter() - start

        start = time.perf_counter()  # the same grader with the hidden tests in the student's kernel
        in_kernel = grade_batch(course, found, root / "in-kernel", workers=args.workers, progress=False, judged=False)
        in_kernel_wall = time.perf_counter() - start

    plain_scores = {(o.student, o.chapter): o.score for o in plain}
    ours_scores = {(r.student, r.chapter): r.score for r in ours}
    kernel_scores = {(r.student, r.chapter): r.score for r in in_kernel}
    differ = {k: (plain_scores[k], ours_scores.get(k), kernel_scores.get(k)) for k in plain_scores
              if not plain_scores[k] == ours_scores.get(k) == kernel_scores.get(k)}
    n = len(found)
    cells = statistics.median(r.cell_seconds for r in ours)
    print(f"chapter {args.chapter}: {n} submissions (correct, partly wrong, blank), sandbox={sandbox_available()}")
    print(f"plain nbgrader autograde : {plain_wall:7.1f} s   {plain_wall / n:5.2f} s/notebook")
    print(f"our grader               : {ours_wall:7.1f} s   {ours_wall / n:5.2f} s/notebook")
    print(f"tests in the kernel      : {in_kernel_wall:7.1f} s   {in_kernel_wall / n:5.2f} s/notebook")
    print(f"speed-up                 : {plain_wall / ours_wall:7.2f} x over plain nbgrader")
    print(f"cost of the judge        : {ours_wall / in_kernel_wall:7.2f} x the tests run in the kernel")
    print(f"median cell execution    : plain {plain_cells:5.2f} s/notebook, ours {cells:5.2f} s/notebook "
          "(ours renders no figures)")
    print(f"overhead beyond cells    : plain {plain_wall / n - plain_cells:5.2f} s/notebook, "
          f"ours {statistics.median(r.seconds for r in ours) - cells:5.2f} s/notebook (per worker)")
    print(f"identical scores         : {'yes' if not differ else f'NO, {len(differ)} differ: {differ}'}")
    sys.exit(1 if differ else 0)


def growth(course: Course, chapter: str, students: int, workers: int | None) -> None:
    """Time per notebook and overhead per notebook per worker as the batch grows."""
    workers = workers or os.cpu_count() or 1
    print(f"chapter {chapter}, our grader, {workers} workers, sandbox={sandbox_available()}")
    print(f"{'notebooks':>9}  {'wall s':>7}  {'s/notebook':>10}  {'overhead/notebook/worker':>24}  {'median job overhead':>19}")
    for n in sorted({max(1, students // 8), max(1, students // 4), max(1, students // 2), students}):
        with tempfile.TemporaryDirectory(prefix="grading-growth-") as tmp:
            make_batch(course, chapter, n, Path(tmp) / "submissions")
            found, _ = find_submissions(Path(tmp) / "submissions", course)
            start = time.perf_counter()
            results = grade_batch(course, found, Path(tmp) / "ours", workers=workers, progress=False)
            wall = time.perf_counter() - start
        busy = sum(r.cell_seconds for r in results)  # every worker's time in cells
        print(f"{n:9d}  {wall:7.1f}  {wall / n:10.2f}  {(wall * workers - busy) / n:24.2f}  "
              f"{statistics.median(r.seconds - r.cell_seconds for r in results):19.2f}")


if __name__ == "__main__":
    main()
