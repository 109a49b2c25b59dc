"""The students' feedback pages, from a small batch graded in the sandbox: each test named by its
exercise, failure messages whole, a stopped or crashed cell saying why, the student's figures as
images, maths without the network, no sandbox noise and no hidden test source."""

from __future__ import annotations

import os
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import make_toy_course

from autograder import batch, grading, release
from autograder.sandbox import Limits, sandbox_available
from autograder.submissions import find_submissions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox_available(), reason="needs bubblewrap and root (the sandboxed grader)"),
]

LONG_NAME = "scaled([1, 2], factor=3), " + ", ".join(f"element {i} of the long list" for i in range(12))

SOURCE = textwrap.dedent(f'''\
    # %% [markdown]
    # # Feedback chapter
    #
    # The loss is $L(w) = \\lVert Xw - y \\rVert^2$, and its gradient
    # $$\\nabla L = 2 X^\\top (Xw - y).$$

    # %%
    import joblib  # its import checks for POSIX semaphores, which need a writable /dev/shm
    import matplotlib.pyplot as plt
    import numpy as np
    from helpers.testing import assert_close

    # %% nbgrader="solution" grade_id="scaled"
    def scaled(values, factor):
        """values times factor, as a float array."""
        ### BEGIN SOLUTION
        return np.asarray(values, dtype=float) * factor
        ### END SOLUTION

    # %% nbgrader="tests" grade_id="test_scaled" points=3
    assert_close(scaled([1, 2], 3), [3.0, 6.0], name="{LONG_NAME}")
    ### BEGIN HIDDEN TESTS
    assert_close(scaled([0.5], 4), [2.0], name="hidden check of scaled")
    ### END HIDDEN TESTS

    # %%
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [0, 1, 4])
    ax.set_title("a parabola")
    plt.show()

    # %% nbgrader="solution" grade_id="q1"
    # q1_answer = ...
    ### BEGIN SOLUTION
    q1_answer = "b"
    ### END SOLUTION

    # %% nbgrader="tests" grade_id="test_q1" points=1
    assert q1_answer in ("a", "b", "c"), "answer with 'a', 'b' or 'c'"
    ### BEGIN HIDDEN TESTS
    assert q1_answer == "b", "not quite: reread the section on scaling"
    ### END HIDDEN TESTS
    ''')
HIDDEN_LINE = "hidden check of scaled"
WRONG = "def scaled(values, factor):\n    return np.asarray(values, dtype=float) * factor + 1"
RIGHT = "def scaled(values, factor):\n    return np.asarray(values, dtype=float) * factor"
STUDENTS = {
    "mistake": {"scaled": WRONG, "q1": 'q1_answer = "b"'},
    "sleeper": {"scaled": RIGHT, "q1": "import time\ntime.sleep(60)"},
    "crasher": {"scaled": RIGHT, "q1": "import ctypes\nctypes.string_at(0)"},
}


class Page(HTMLParser):
    """What a feedback page holds: its text, scripts, images, MathML and CSS."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.words: list[str] = []
        self.scripts: list[str] = []
        self.images: list[str] = []
        self.maths = 0
        self.css: list[str] = []
        self._in: list[str] = []
        self.feed(text)
        self.text = re.sub(r"\s+", " ", " ".join(self.words))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in.append(tag)
        if tag == "script":
            self.scripts.append(attrs.get("src") or "")
        elif tag == "img":
            self.images.append(attrs.get("src") or "")
        elif tag == "math":
            self.maths += 1
        elif tag == "link":
            self.scripts.append(attrs.get("href") or "")

    def handle_endtag(self, tag):
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data):
        if self._in and self._in[-1] == "style":
            self.css.append(data)
        elif not self._in or self._in[-1] != "script":
            self.words.append(data)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Page]:
    root = tmp_path_factory.mktemp("feedback")
    course = make_toy_course(root / "toy", SOURCE)
    release.build(course.chapters)
    chapter = course.chapters[0]
    for student, edits in STUDENTS.items():
        nb = nbformat.read(chapter.release, as_version=4)
        for cell in nb.cells:
            cell.source = edits.get(cell.id, cell.source)
        (root / "subs" / student).mkdir(parents=True)
        nbformat.write(nb, root / "subs" / student / chapter.release.name)
    found, problems = find_submissions(root / "subs", course)
    assert not problems
    course_dir = root / "graded"
    results = batch.grade_batch(course, found, course_dir, limits=Limits(cell_timeout=4), workers=2,
                                progress=False)
    assert {r.student: r.status for r in results} == {"mistake": "graded", "sleeper": "timed out",
                                                       "crasher": "crashed"}
    paths = grading.generate_feedback(course, course_dir)
    assert len(paths) == len(STUDENTS)
    return {path.parent.parent.name: Page(path.read_text()) for path in paths}


def test_each_test_is_named_by_its_exercise(pages):
    page = pages["mistake"]
    assert "scaled: 0/3" in page.text and "q1: 1/1" in page.text, page.text[:2000]
    assert "Test cell" not in page.text and "Score:" not in page.text
    assert "toy: 1/4" in page.text  # the notebook's total


def test_the_failure_message_is_whole_and_wraps(pages):
    page = pages["mistake"]
    assert f"AssertionError: {LONG_NAME}:" in page.text  # not cut mid-word
    wraps = r"output[\w-]*\s+pre[^{]*\{[^}]*white-space:\s*pre-wrap"  # an output's <pre> wraps its lines
    assert re.search(wraps, " ".join(page.css)), "long lines of an output must wrap"


def test_a_timed_out_cell_says_so(pages):
    page = pages["sleeper"]
    assert "Time limit: this cell ran longer than 4 s (the time limit per cell) and was stopped" in page.text
    assert "KeyboardInterrupt" not in page.text


def test_a_crashed_cell_says_why_and_later_tests_did_not_run(pages):
    page = pages["crasher"]
    assert "Kernel died: while this cell ran, the kernel crashed with a segmentation fault (SIGSEGV)" in page.text
    assert "Not run: the kernel had died or time had run out before this test cell" in page.text
    assert "scaled: 3/3" in page.text and "q1: 0/1" in page.text


def test_the_students_figure_is_an_image(pages):
    for student, page in pages.items():
        assert any(src.startswith("data:image/png;base64,") for src in page.images), student


def test_no_sandbox_noise(pages):
    for page in pages.values():
        assert "Permission denied" not in page.text and "serial mode" not in page.text


def test_no_hidden_test_source(pages):
    for page in pages.values():
        assert HIDDEN_LINE not in page.text and "HIDDEN TESTS" not in page.text
        assert "reread the section on scaling" not in page.text  # q1's hidden check passed: no message


def test_no_script_and_only_the_page_in_each_folder(pages, tmp_path_factory):
    for student, page in pages.items():
        assert page.scripts == [], student  # no <script> and no <link> at all
    folders = sorted(tmp_path_factory.getbasetemp().glob("feedback[0-9]*/graded/feedback/*/toy"))
    assert [f.name for f in folders] == ["toy"] * len(STUDENTS)
    for folder in folders:  # the grader's report.json and digest stay out of it
        assert os.listdir(folder) == ["toy.html"], folder


def test_maths_render_without_network(pages):
    pytest.importorskip("latex2mathml", reason="maths become MathML with latex2mathml")
    for page in pages.values():
        assert not [s for s in page.scripts if re.match(r"(https?:)?//", s)], page.scripts
        assert "mathjax" not in " ".join(page.scripts).lower()
        assert page.maths >= 2  # the inline formula and the displayed one
        assert "$L(w)" not in page.text


def test_the_page_is_read_whole_in_a_browser(pages, tmp_path_factory):
    """In Chromium with every request blocked: maths laid out, the message not cut off."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not os.access(chromium, os.X_OK):
        pytest.skip(f"no Chromium at {chromium}")
    pytest.importorskip("latex2mathml")
    path = next(Path(p) for p in tmp_path_factory.getbasetemp().glob("feedback*/graded/feedback/mistake/toy/toy.html"))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 900, "height": 900})
        requested: list[str] = []
        page.route("**/*", lambda route: (requested.append(route.request.url), route.continue_()
                                          if route.request.url.startswith(("file:", "data:")) else route.abort()))
        page.goto(path.as_uri())
        box = page.locator("math").first.bounding_box()
        error = page.locator(".output_error pre").first
        cut = error.evaluate("(pre) => pre.scrollWidth > pre.clientWidth + 1")
        shown = error.inner_text()
        browser.close()
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []
    assert box and box["width"] > 0 and box["height"] > 0
    assert LONG_NAME in re.sub(r"\s+", " ", shown) and not cut


@pytest.mark.parametrize("scope", ["feedback", "other"])
def test_only_feedback_uses_the_feedback_template(tmp_path, scope):
    """Our template is configured for nbgrader's feedback only: formgrader's exporter keeps its own."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback

    from autograder.coursedir import nbgrader_config

    config = nbgrader_config(tmp_path)
    parent = GenerateFeedback(config=config) if scope == "feedback" else None
    exporter = HTMLExporter(config=config, parent=parent)
    assert (exporter.template_name == "feedback" and "markdown2mathml" in exporter.filters) == (scope == "feedback")
