"""Feedback pages are safe and bounded, whatever the autograded notebook holds.

The autograded notebooks are written by hand (no kernel, no sandbox): markup that would run,
load or submit something in outputs and in cells a student added, files next to the notebook
that are not feedback, and cells that printed far too much.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import make_toy_course

from autograder import coursedir, feedback, grading
from autograder.feedback import (
    MAX_CELLS,
    MAX_IMAGE_CHARS,
    MAX_OUTPUTS_PER_CELL,
    MAX_PAGE_CHARS,
    MAX_SOURCE_CHARS,
    MAX_TEXT_CHARS,
    bound_notebook,
    sanitise_html,
    sanitise_page,
)

EVIL = "evil.example"
PAYLOADS = [
    '<script>alert("s")</script>',
    '<img src="x" onerror="alert(1)">',
    f'<img src="http://{EVIL}/pixel.png" alt="pixel">',
    f'<img src="//{EVIL}/p.png" srcset="http://{EVIL}/2x.png 2x">',
    '<a href="javascript:alert(1)">js link</a>',
    '<a href="&#106;avascript:alert(1)">entity link</a>',
    f'<a href="http://{EVIL}/" target="_blank">out link</a>',
    f'<iframe src="http://{EVIL}/"></iframe><iframe srcdoc="<script>alert(1)</script>"></iframe>',
    f'<object data="http://{EVIL}/x.swf"></object><embed src="http://{EVIL}/y">',
    f'<form action="http://{EVIL}/"><input name="q"><button formaction="http://{EVIL}/">go</button></form>',
    f'<svg onload="alert(1)"><script>alert(2)</script><image href="http://{EVIL}/i.png"/></svg>',
    f'<div style="background: url(http://{EVIL}/bg.png); color: red">styled</div>',
    f'<style>@import "http://{EVIL}/s.css"; body {{ background: url(http://{EVIL}/b) }}</style>',
    f'<link rel="stylesheet" href="http://{EVIL}/l.css"><meta http-equiv="refresh" content="0; url=http://{EVIL}/">',
    f'<base href="http://{EVIL}/">',
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=alert(1)&gt;">',
    '<details open ontoggle="alert(1)"><summary>s</summary></details>',
    f'<video src="http://{EVIL}/v.mp4" poster="http://{EVIL}/p.png"></video><audio src="http://{EVIL}/a"></audio>',
    '<p onclick="alert(1)" onmouseover="alert(1)">click</p>',
    f'<noscript><img src="http://{EVIL}/n.png"></noscript><template><script>alert(3)</script></template>',
    '<math href="javascript:alert(1)"><mi xlink:href="javascript:alert(1)">x</mi></math>',
    f'<table background="http://{EVIL}/t.png"><tr><td>t</td></tr></table>',
]
EVIL_HTML = "\n".join(PAYLOADS)
EVIL_MARKDOWN = EVIL_HTML + f"\n\n![pixel](http://{EVIL}/p.png) [link](http://{EVIL}/) [js](javascript:alert(1))\n"
# Tags a sanitised page's body never holds (the head is ours: it keeps its CSS).
FORBIDDEN_TAGS = {"script", "iframe", "frame", "object", "embed", "form", "input", "button", "style", "link",
                  "meta", "base", "svg", "noscript", "template", "video", "audio", "textarea", "select", "image"}
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082")).decode()


class Body(HTMLParser):
    """The tags, attributes and text of a page's body."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_body = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self._in_body = self._in_body or tag == "body"
        if self._in_body:
            self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._in_body:
            self.text.append(data)


def assert_safe(page: str) -> Body:
    """No script, event handler, frame, object, form or style sheet; links within the page,
    images as data: URIs, CSS without url(); nothing names the outside host."""
    assert "<script" not in page.lower()
    assert not re.search(r"<[a-z][^>\"']*\son[a-z]+\s*=", page, re.IGNORECASE), "an event handler"
    body = Body(page)
    assert body.tags, "no body"
    for tag, attrs in body.tags:
        assert tag not in FORBIDDEN_TAGS, (tag, attrs)
        for name, value in attrs.items():
            value = value or ""
            assert not name.startswith("on"), (tag, name)
            assert EVIL not in value and "javascript" not in value.lower(), (tag, name, value)
            assert name not in ("srcset", "srcdoc", "action", "formaction", "poster", "background", "target")
            if name == "href":
                assert value.startswith("#"), (tag, value)
            if name == "src":
                assert value.startswith("data:image/"), (tag, value[:80])
            if name == "style":
                assert "url" not in value.lower(), value
    return body


# ----------------------------------------------------------------------------- the sanitiser


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_is_made_inert(payload):
    clean = sanitise_html(f"<p>before</p>{payload}<p>after</p>")
    assert_safe(f"<body>{clean}</body>")
    assert "before" in clean and "after" in clean
    assert "alert" not in clean or "&lt;" in clean  # code only as escaped text, never as markup
    assert sanitise_html(clean) == clean  # a second pass changes nothing: nothing left to re-parse


def test_what_a_page_needs_survives():
    fragment = (f'<h2 id="intro">Intro<a class="anchor-link" href="#intro">¶</a></h2>'
                f'<div class="output_png"><img src="data:image/png;base64,{PNG}" width="40" alt="fig"></div>'
                '<table class="dataframe" border="1"><thead><tr style="text-align: right;"><th>a</th></tr></thead>'
                '<tbody><tr><td colspan="2">1</td></tr></tbody></table>'
                '<pre><span class="ansi-red-fg" style="color: rgb(200, 0, 0)">Error</span></pre>')
    clean = sanitise_html(fragment)
    assert 'href="#intro"' in clean and 'class="anchor-link"' in clean and 'id="intro"' in clean
    assert f'src="data:image/png;base64,{PNG}"' in clean and 'width="40"' in clean
    assert 'class="dataframe"' in clean and 'colspan="2"' in clean and "text-align: right" in clean
    assert "color: rgb(200, 0, 0)" in clean


def test_mathml_survives():
    pytest.importorskip("latex2mathml")
    for tex, display in [(r"\frac{a}{b} + \sqrt{x^2}", True), (r"\lVert Xw - y \rVert^2", False),
                         (r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}", True), (r"\hat{\theta}_i", False)]:
        mathml = feedback.tex_to_mathml(tex, display=display)
        assert mathml
        clean = sanitise_html(mathml)
        tags = lambda html: re.findall(r"<(m\w+|math)\b", html)  # noqa: E731
        assert tags(clean) == tags(mathml), tex  # every element, in order
        assert re.findall(r'(?:display|mathvariant|stretchy)="[^"]*"', clean) == \
            re.findall(r'(?:display|mathvariant|stretchy)="[^"]*"', mathml)


def test_only_the_body_is_sanitised():
    page = ("<!DOCTYPE html><html><head><style>pre { color: red }</style></head>"
            '<body><div class="x">ok</div><script>alert(1)</script>'
            "<pre>&lt;/body&gt;</pre></body>\n</html>\n")
    clean = sanitise_page(page)
    assert clean.startswith("<!DOCTYPE html><html><head><style>pre { color: red }</style></head><body>")
    assert clean.endswith("</body>\n</html>\n") and "<script" not in clean and 'class="x"' in clean


# ----------------------------------------------------------------------------- the bounds


def _cell(*outputs, **metadata) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("pass", metadata=metadata)
    cell.outputs = list(outputs)
    return cell


def _out(kind: str, **fields) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(kind, **fields)


def test_a_long_stream_is_cut_with_a_note():
    nb = nbformat.v4.new_notebook(cells=[_cell(_out("stream", name="stdout", text="line\n" * 10**6)),
                                         _cell(_out("stream", name="stderr", text="x" * 10**7))])
    bounded = bound_notebook(nb)
    for cell, total in zip(bounded.cells, (5 * 10**6, 10**7), strict=True):
        text = cell.outputs[0].text
        assert len(text) < MAX_TEXT_CHARS + 100 and f"{total - MAX_TEXT_CHARS:,} more characters not shown" in text
    assert len(nb.cells[0].outputs[0].text) == 5 * 10**6  # the notebook itself is left as it was


def test_outputs_of_a_cell_are_counted():
    outputs = [_out("stream", name="stdout", text="o\n") for _ in range(10_000)]
    outputs.append(_out("error", ename="AssertionError", evalue="the failure", traceback=["t"] * 10**5))
    (cell,) = bound_notebook(nbformat.v4.new_notebook(cells=[_cell(*outputs)])).cells
    assert len(cell.outputs) == MAX_OUTPUTS_PER_CELL + 2  # the first ones, the error, a note
    assert cell.outputs[-2].evalue == "the failure"
    assert sum(map(len, cell.outputs[-2].traceback)) < MAX_TEXT_CHARS + 100
    assert f"{10_000 - MAX_OUTPUTS_PER_CELL:,} more outputs" in cell.outputs[-1].text


def test_displays_keep_what_a_static_page_shows():
    big_html = "<b>x</b>" * MAX_TEXT_CHARS
    outputs = [
        _out("display_data", data={"text/html": big_html, "text/plain": "the plain form"}),
        _out("display_data", data={"text/html": big_html}),
        _out("display_data", data={"image/png": "A" * (MAX_IMAGE_CHARS + 4), "text/plain": "<Figure>"}),
        _out("display_data", data={"image/png": PNG}, metadata={"image/png": {"width": 50, "height": "9 onerror=x"},
                                                                 "filenames": {"image/png": f"http://{EVIL}/f.png"}}),
        _out("display_data", data={"image/png": 'x" onerror="alert(1)', "text/plain": "bad"}),
        _out("display_data", data={"application/javascript": "alert(1)",
                                   "application/vnd.jupyter.widget-view+json": {"model_id": "m"}}),
        _out("execute_result", data={"text/html": "<p>ok</p>"}, metadata={"text/html": {"isolated": True}},
             execution_count=3),
    ]
    cell = bound_notebook(nbformat.v4.new_notebook(cells=[_cell(*outputs)])).cells[0]
    data = [o.get("data", {}) for o in cell.outputs]
    assert data[0] == {"text/plain": "the plain form"}
    assert len(data[1]["text/html"]) < MAX_TEXT_CHARS + 100
    assert "image/png" not in data[2] and "<Figure>" in data[2]["text/plain"]
    assert data[3] == {"image/png": PNG} and cell.outputs[3].metadata == {"image/png": {"width": 50}}
    assert data[4] == {"text/plain": "bad"}
    assert data[5] == {} and "nothing a static page can show" in cell.outputs[5].text
    assert cell.outputs[6].metadata == {} and cell.outputs[6].execution_count == 3


def test_the_page_is_bounded_and_graded_cells_stay():
    graded = {"nbgrader": {"grade": True, "grade_id": "test_x", "points": 1, "solution": False}}
    image = _out("display_data", data={"image/png": "A" * MAX_IMAGE_CHARS})
    cells = [_cell(image) for _ in range(20)]
    cells.append(_cell(image, _out("error", ename="AssertionError", evalue="x is wrong", traceback=[]), **graded))
    cells += [nbformat.v4.new_markdown_cell("m" * (10 * MAX_SOURCE_CHARS)) for _ in range(3)]
    cells += [_cell() for _ in range(2 * MAX_CELLS)]
    bounded = bound_notebook(nbformat.v4.new_notebook(cells=cells))
    assert len(json.dumps(bounded)) < MAX_PAGE_CHARS + 10 * MAX_TEXT_CHARS
    assert len(bounded.cells) <= MAX_CELLS + 3
    (kept,) = [c for c in bounded.cells if c.metadata.get("nbgrader")]
    assert [o.output_type for o in kept.outputs] == ["error", "stream"] and kept.outputs[0].evalue == "x is wrong"
    assert all(len(c.source) < MAX_SOURCE_CHARS + 100 for c in bounded.cells)
    assert any("more cells not shown" in c.source for c in bounded.cells if c.cell_type == "markdown")


def test_a_long_test_cell_is_not_cut_into_its_hidden_part():
    tests = {"nbgrader": {"grade": True, "solution": False, "grade_id": "test_x", "points": 1}}
    source = "assert True\n### BEGIN HIDDEN TESTS\n" + "assert x\n" * MAX_SOURCE_CHARS + "### END HIDDEN TESTS\n"
    cells = [nbformat.v4.new_code_cell(source, metadata=tests), nbformat.v4.new_code_cell(source)]
    bounded = bound_notebook(nbformat.v4.new_notebook(cells=cells))
    assert "HIDDEN" not in bounded.cells[0].source and "not shown" in bounded.cells[0].source
    assert "more characters not shown" in bounded.cells[1].source  # a student's cell is cut


# ----------------------------------------------------------------------------- ./course feedback


def _add(nb: nbformat.NotebookNode, cell: nbformat.NotebookNode) -> None:
    nb.cells.insert(2, cell)  # after the imports, before the graded cells


def _evil(nb: nbformat.NotebookNode) -> None:
    _add(nb, nbformat.v4.new_markdown_cell("Kept: **bold** and $x^2$.\n\n" + EVIL_MARKDOWN,
                                           attachments={"a.html": {"text/html": base64.b64encode(b"<script>").decode()}}))
    _add(nb, _cell(
        _out("display_data", data={"text/html": EVIL_HTML + "<table><tr><td>table kept</td></tr></table>",
                                   "text/plain": "d"}),
        _out("display_data", data={"text/markdown": EVIL_MARKDOWN, "text/plain": "m"}),
        _out("execute_result", data={"text/html": EVIL_HTML}, metadata={"text/html": {"isolated": True}},
             execution_count=1),
        _out("display_data", data={"application/javascript": f"fetch('http://{EVIL}/')", "text/plain": "js"}),
        _out("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}}),
        _out("display_data", data={"image/png": PNG}, metadata={"filenames": {"image/png": f"http://{EVIL}/f.png"}}),
        _out("display_data", data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                                                    "<script>alert(1)</script></svg>"}),
        _out("error", ename="ValueError", evalue='<img src="x" onerror="alert(1)">',
             traceback=['ValueError: <img src="x" onerror="alert(1)">', EVIL_HTML]),
    ))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "why":  # the written answer
            cell.source = "My answer. " + EVIL_MARKDOWN


def _huge(nb: nbformat.NotebookNode) -> None:
    out = nbformat.v4.new_output
    nb.cells[2:2] = [
        _cell(out("stream", name="stdout", text="line\n" * 10**6)),
        _cell(out("stream", name="stdout", text="y" * 10**7)),
        _cell(out("display_data", data={"text/html": "<i>h</i>" * (60 * 2**20 // 8)})),
        _cell(*[out("stream", name="stdout", text="o\n") for _ in range(10**5)]),
        *[_cell(out("display_data", data={"image/png": "A" * MAX_IMAGE_CHARS})) for _ in range(20)],
        *[_cell(out("stream", name="stdout", text="c\n")) for _ in range(3 * MAX_CELLS)],
    ]


def _failing(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_mse":
            cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="mse([1], [1]): wrong",
                                                   traceback=["AssertionError: mse([1], [1]): wrong"])]


def _litter(folder: Path) -> None:
    """What else an autograded folder may hold: the grader's old records, a student's files."""
    (folder / "report.json").write_text('{"flags": ["tampered with the probe"]}')
    (folder / ".graded-sha256").write_text("0" * 64)
    (folder / "notes.txt").write_text("private")
    (folder / "data").mkdir()
    (folder / "data" / "secret.csv").write_text("1,2")
    (folder / "other.ipynb").write_text((folder / "toy.ipynb").read_text())
    (folder / "link").symlink_to("/etc/passwd")


STUDENTS = {"evil": [_evil, _failing], "huge": [_huge, _failing], "litter": [_failing]}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, float]:
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("safety")
    course = make_toy_course(root / "toy")
    course_dir = root / "course"
    coursedir.prepare_course_dir(course_dir, course.chapters)
    source = nbformat.read(course_dir / "source" / "toy" / "toy.ipynb", as_version=4)
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for student, edits in STUDENTS.items():
            nb = nbformat.from_dict(json.loads(json.dumps(source)))
            for edit in edits:
                edit(nb)
            folder = course_dir / "autograded" / student / "toy"
            folder.mkdir(parents=True)
            (folder / "toy.ipynb").write_text(json.dumps(nb))  # as stored; nbformat.write is slow at this size
            gb.update_or_create_student(student)
            gb.add_submission("toy", student)
    _litter(course_dir / "autograded" / "litter" / "toy")
    stale = course_dir / "feedback" / "litter" / "toy"
    (stale / "old").mkdir(parents=True)
    (stale / "report.json").write_text("{}")
    start = time.monotonic()
    paths = grading.generate_feedback(course, course_dir)
    elapsed = time.monotonic() - start
    assert [p.relative_to(course_dir / "feedback").as_posix() for p in paths] == \
        [f"{s}/toy/toy.html" for s in sorted(STUDENTS)]
    return course_dir / "feedback", elapsed


@pytest.mark.slow
def test_the_page_is_sanitised_and_readable(generated):
    page = (generated[0] / "evil" / "toy" / "toy.html").read_text()
    body = assert_safe(page)
    text = " ".join(body.text)
    assert "Kept:" in text and "table kept" in text and "My answer." in text  # the student's work still shows
    assert any(tag == "strong" for tag, _ in body.tags) and any(tag == "math" for tag, _ in body.tags)
    assert any(tag == "img" and (a.get("src") or "").startswith("data:image/png;base64,") for tag, a in body.tags)
    assert 'ValueError: &lt;img src="x" onerror="alert(1)"&gt;' in page  # an error's text is shown as text
    assert "mse([1], [1]): wrong" in text
    assert "white-space: pre-wrap" in page.split("<body")[0]  # the head keeps our CSS


@pytest.mark.slow
def test_only_the_page_is_in_the_feedback_folder(generated):
    for student in STUDENTS:
        folder = generated[0] / student / "toy"
        assert sorted(os.listdir(folder)) == ["toy.html"], student
    assert "tampered with the probe" not in (generated[0] / "litter" / "toy" / "toy.html").read_text()


@pytest.mark.slow
def test_a_huge_notebook_gives_a_bounded_page_quickly(generated):
    folder, elapsed = generated
    page = (folder / "huge" / "toy" / "toy.html").read_text()
    assert len(page) < MAX_PAGE_CHARS + 2**20, f"{len(page):,} characters"
    assert elapsed < 90, f"./course feedback took {elapsed:.0f} s"
    for note in ("more characters not shown", "more outputs of this cell not shown", "more cells not shown"):
        assert note in page
    assert "mse([1], [1]): wrong" in page  # the graded cell's failure is still shown
    assert_safe(page)
