"""The students' feedback pages: a template of our own and maths that needs no network.

nbgrader's feedback is nbconvert's HTML export with its "feedback" template, which loads MathJax
from a CDN. Ours (``templates/feedback``, found before nbgrader's) renders each formula to
MathML here, with ``latex2mathml``; browsers display MathML themselves, so the page is one
self-contained file. Where that package is missing the TeX source is shown as written.

nbgrader renders the page with ``FeedbackExporter`` (``configure``), which first bounds the
notebook (``bound_notebook``: every output and source cut to a size, scripts and widgets
dropped), then sanitises the page's body (``sanitise_page``: what a student wrote can neither
run, load nor submit anything), whatever the autograded notebook holds.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import nbformat
from jinja2 import pass_context
from nbformat import NotebookNode
from traitlets.config import Config

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "feedback"  # the name nbgrader asks for; ours comes first


def tex_to_mathml(tex: str, *, display: bool) -> str | None:
    """MathML for a TeX formula, or None where it cannot be converted."""
    try:
        from latex2mathml.converter import convert
    except ImportError:
        return None
    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types on TeX it does not know
        return None


@cache
def _renderer_class():
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class MathMLRenderer(IPythonRenderer):
        """nbconvert's Markdown renderer, each formula as MathML instead of TeX for MathJax."""

        def block_math(self, body: str) -> str:
            return tex_to_mathml(body, display=True) or super().block_math(body)

        def inline_math(self, body: str) -> str:
            return tex_to_mathml(body, display=False) or super().inline_math(body)

        def latex_environment(self, name: str, body: str) -> str:
            tex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
            return tex_to_mathml(tex, display=True) or super().latex_environment(name, body)

    return MathMLRenderer


@pass_context
def markdown2mathml(context, source: str) -> str:
    """Jinja filter: Markdown to HTML as nbconvert's ``markdown2html`` does, maths as MathML."""
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    cell = context.get("cell", {})
    renderer = _renderer_class()(escape=False, attachments=cell.get("attachments", {}),
                                 path=context.get("resources", {}).get("metadata", {}).get("path", ""))
    return MarkdownWithMath(renderer=renderer).render(source)


# ----------------------------------------------------------------------------- bounds
# A feedback page is read by a person: what a cell printed beyond these bounds is cut, with a
# note saying how much. They hold whatever the autograded notebook holds (an old or hand-made
# one included), so rendering a page takes seconds and the page stays a few MB.

MAX_TEXT_CHARS = 20_000  # one output's text: a stream, text/plain, HTML, Markdown, LaTeX, an error
MAX_SOURCE_CHARS = 50_000  # one cell's source (the longest reference cell is about 6,000)
MAX_IMAGE_CHARS = 2_000_000  # one image or attachment as base64 (about 1.5 MB of PNG)
MAX_OUTPUTS_PER_CELL = 20  # outputs of one cell, error outputs apart
MAX_ERRORS_PER_CELL = 3  # error outputs of one cell (a failure and why the cell stopped)
MAX_CELLS = 1_000  # cells shown (the longest chapter has about 100); graded cells always are
MAX_PAGE_CHARS = 8_000_000  # sources and outputs of the page; past it other cells are left out

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
TEXT_TYPES = ("text/html", "text/markdown", "text/latex", "image/svg+xml", "text/plain")  # plain last
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_SIZE = re.compile(r"\d{1,5}(\.\d+)?(px|%)?")


def _text(value: object) -> str:
    """A notebook string field, which JSON may hold as a list of lines."""
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def _cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... ({len(text) - limit:,} more characters not shown)\n"


def _note(text: str) -> NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=f"({text})\n")


def _bound_error(output: NotebookNode) -> NotebookNode:
    lines, used = [], 0
    traceback = output.get("traceback")
    for line in traceback if isinstance(traceback, list) else []:
        line = _cut(_text(line), MAX_TEXT_CHARS - used)
        lines.append(line)
        used += len(line)
        if used >= MAX_TEXT_CHARS:
            if len(traceback) > len(lines):
                lines.append(f"... ({len(traceback) - len(lines):,} more traceback lines not shown)")
            break
    return nbformat.v4.new_output("error", ename=_cut(_text(output.get("ename", "")), 200),
                                  evalue=_cut(_text(output.get("evalue", ""))), traceback=lines)


def _bound_data(output: NotebookNode) -> NotebookNode:
    """A display's representations that a static page shows, bounded; no scripts or widgets."""
    data, metadata, notes = {}, {}, []
    raw = output.get("data") if isinstance(output.get("data"), dict) else {}
    for mime in IMAGE_TYPES:
        if mime in raw:
            value = _text(raw[mime])
            if len(value) > MAX_IMAGE_CHARS:
                notes.append(f"an image of {len(value) * 3 // 4:,} bytes not shown: over the size limit")
            elif _BASE64.fullmatch(value):
                data[mime] = value
                given = (output.get("metadata") or {}).get(mime)
                given = given if isinstance(given, dict) else {}
                sizes = {k: v for k, v in given.items() if k in ("width", "height") and _SIZE.fullmatch(str(v))}
                if sizes:
                    metadata[mime] = sizes
            break  # one image is shown; the rest are the same picture
    for mime in TEXT_TYPES:
        value = _text(raw[mime]) if mime in raw else None
        if value is None:
            continue
        if mime == "image/svg+xml":  # an image (nbconvert shows it as a data: URI): whole or not at all
            if len(value) <= MAX_IMAGE_CHARS:
                data[mime] = value
            else:
                notes.append(f"an SVG image of {len(value):,} characters not shown: over the size limit")
        elif len(value) <= MAX_TEXT_CHARS or mime == "text/plain" or "text/plain" not in raw:
            data[mime] = _cut(value)
        # else too long as rich text: its plain form stands in
    if notes and "text/plain" not in data:
        data["text/plain"] = "(" + "; ".join(notes) + ")"
    if not data:
        return _note("a display with nothing a static page can show")
    if output.get("output_type") == "execute_result":
        count = output.get("execution_count")
        return nbformat.v4.new_output("execute_result", data=data, metadata=metadata,
                                      execution_count=count if isinstance(count, int) else None)
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


def _bound_outputs(outputs: list) -> list[NotebookNode]:
    kept, others, errors, left_out = [], 0, 0, 0
    for output in outputs:
        kind = output.get("output_type") if isinstance(output, dict) else None
        if kind == "error" and errors < MAX_ERRORS_PER_CELL:
            errors += 1
            kept.append(_bound_error(output))
        elif kind in ("stream", "display_data", "execute_result") and others < MAX_OUTPUTS_PER_CELL:
            others += 1
            if kind == "stream":
                name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
                text = _cut(_text(output.get("text", "")))
                kept.append(nbformat.v4.new_output("stream", name=name, text=text))
            else:
                kept.append(_bound_data(output))
        else:
            left_out += 1
    if left_out:
        kept.append(_note(f"{left_out:,} more outputs of this cell not shown"))
    return kept


def _bound_attachments(attachments: object) -> dict:
    """A Markdown cell's images: base64 PNG, JPEG or GIF under the size limit."""
    kept = {}
    for name, bundle in (attachments.items() if isinstance(attachments, dict) else ()):
        for mime in IMAGE_TYPES:
            value = _text(bundle.get(mime, "")) if isinstance(bundle, dict) else ""
            if value and len(value) <= MAX_IMAGE_CHARS and _BASE64.fullmatch(value):
                kept[str(name)] = {mime: value}
                break
    return kept


def _bound_source(cell: NotebookNode) -> str:
    source = _text(cell.get("source", ""))
    info = cell.get("metadata", {}).get("nbgrader", {})
    if len(source) > MAX_SOURCE_CHARS and info.get("grade") and not info.get("solution"):
        # A test cell is cut by nbgrader's ClearHiddenTests later: cut here, its hidden part could show.
        return f"# (this test cell's source of {len(source):,} characters is not shown)"
    return _cut(source, MAX_SOURCE_CHARS)


def _size(cell: NotebookNode) -> int:
    """Characters of the cell's source, outputs and attachments."""
    return len(cell.source) + len(json.dumps(cell.get("outputs", []))) \
        + len(json.dumps(cell.get("attachments", {})))


def _omitted(count: int) -> NotebookNode:
    text = f"*({count:,} more cells not shown: the feedback page's size limit)*"
    return nbformat.v4.new_markdown_cell(text)


def bound_notebook(nb: NotebookNode) -> NotebookNode:
    """What a feedback page shows of ``nb``, within the bounds above (``nb`` is left as it is).

    Every cell's source and outputs are bounded; scripts, widgets and linked files are dropped.
    nbgrader's cells (graded, answers, tests, locked) are always kept, a graded cell past the
    page's limit with its error outputs only; other cells are left out past ``MAX_CELLS`` or
    ``MAX_PAGE_CHARS``, with a note where they stood.
    """
    cells, used, skipped = [], 0, 0
    for old in nb.cells:
        cell = NotebookNode({**old, "source": _bound_source(old)})
        if cell.get("cell_type") == "code":
            cell.outputs = _bound_outputs(old["outputs"] if isinstance(old.get("outputs"), list) else [])
        if "attachments" in cell:
            cell.attachments = _bound_attachments(cell.attachments)
        ours, size = bool(cell.get("metadata", {}).get("nbgrader")), _size(cell)
        if not ours and (used + size > MAX_PAGE_CHARS or len(cells) >= MAX_CELLS):
            skipped += 1
            continue
        if used + size > MAX_PAGE_CHARS and cell.get("outputs"):
            cell.outputs = [o for o in cell.outputs if o.output_type == "error"]
            cell.outputs.append(_note("other outputs not shown: the feedback page's size limit"))
            size = _size(cell)
        if skipped:
            cells.append(_omitted(skipped))
            skipped = 0
        cells.append(cell)
        used += size
    if skipped:
        cells.append(_omitted(skipped))
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k != "widgets"}
    return NotebookNode({**nb, "metadata": NotebookNode(metadata), "cells": cells})


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ----------------------------------------------------------------------------- sanitising
# Everything on the page's body that a student could have written (outputs, Markdown, code,
# attachments) passes an allow-list: no script, event handler, frame, object, form or style
# sheet; links only to anchors on the page, images only as data: URIs, CSS without url().
# The page's head (our template and nbconvert's CSS) is left as it is.

HTML_TAGS = _names("""a abbr b blockquote br caption cite code col colgroup dd del details dfn div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li main mark ol p pre q s samp section small span strong
    sub summary sup table tbody td tfoot th thead tr tt u ul var""")
MATHML_TAGS = _names("""math semantics annotation mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt
    mroot mover munder munderover mtable mtr mtd mlabeledtr mstyle menclose mpadded mphantom merror mfenced
    mmultiscripts mprescripts none""")
# Left out together with their content (a stripped <script>'s code would otherwise show as text).
DROPPED_WITH_CONTENT = _names("""script style noscript template iframe frame frameset object embed applet
    noembed noframes xmp plaintext textarea select title svg annotation-xml head""")
COMMON_ATTRIBUTES = frozenset({"class", "id", "title", "lang", "dir", "align", "valign", "style"})
TAG_ATTRIBUTES = {"a": {"name"}, "img": {"alt"}, "td": {"colspan", "rowspan"},
                  "th": {"colspan", "rowspan", "scope"}, "ol": {"start", "type"}, "li": {"value"},
                  "table": {"border"}, "col": {"span"}, "colgroup": {"span"}}
MATHML_ATTRIBUTES = _names("""display displaystyle mathvariant mathcolor mathbackground mathsize scriptlevel
    stretchy fence form separator lspace rspace largeop movablelimits accent accentunder symmetric minsize maxsize
    linethickness notation width height depth voffset columnalign columnspacing columnlines rowalign rowspacing
    rowlines frame framespacing linebreak encoding""")
CSS_PROPERTIES = _names("""color background-color text-align vertical-align font-weight font-style font-size
    font-family text-decoration white-space line-height padding padding-left padding-right padding-top
    padding-bottom margin margin-left margin-right margin-top margin-bottom border border-left border-right
    border-top border-bottom border-color border-style border-width border-collapse width height max-width
    min-width""")
CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla"})
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*")


def _plain_css(tokens) -> bool:
    """No url(), image-set() or other function but colours, at any depth."""
    for token in tokens:
        if token.type == "url" or (token.type == "function" and token.lower_name not in CSS_FUNCTIONS):
            return False
        if getattr(token, "arguments", None) is not None and not _plain_css(token.arguments):
            return False
        if getattr(token, "content", None) is not None and not isinstance(token.content, str) \
                and not _plain_css(token.content):
            return False
    return True


class InlineStyle:
    """bleach's CSS sanitiser interface: declarations of allowed properties, without url()."""

    def sanitize_css(self, style: str) -> str:
        import tinycss2

        kept = [d for d in tinycss2.parse_declaration_list(style, skip_whitespace=True, skip_comments=True)
                if d.type == "declaration" and d.lower_name in CSS_PROPERTIES and _plain_css(d.value)]
        return "; ".join(f"{d.lower_name}: {tinycss2.serialize(d.value).strip()}" for d in kept)


def allowed_attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: no event handlers, links within the page, images as data: URIs."""
    if tag in MATHML_TAGS:
        return name in MATHML_ATTRIBUTES or name in ("class", "id")
    if tag == "a" and name == "href":
        return value.startswith("#")
    if tag == "img" and name == "src":
        return DATA_IMAGE.fullmatch(value) is not None
    if tag == "img" and name in ("width", "height"):
        return _SIZE.fullmatch(value) is not None
    return name in COMMON_ATTRIBUTES or name in TAG_ATTRIBUTES.get(tag, ())


@cache
def _sanitiser():
    """bleach's parser, filter and serializer, with elements dropped together with their content."""
    from bleach import html5lib_shim
    from bleach.sanitizer import BleachSanitizerFilter

    tags = HTML_TAGS | MATHML_TAGS

    class Sanitiser(BleachSanitizerFilter):
        def sanitize_stream(self, token_iterator):
            inside = 0  # depth in dropped elements
            for token in token_iterator:
                kind = token["type"]
                if kind in ("StartTag", "EndTag", "EmptyTag") and token["name"] in DROPPED_WITH_CONTENT:
                    inside = max(inside + {"StartTag": 1, "EndTag": -1}.get(kind, 0), 0)
                elif not inside:
                    for kept in super().sanitize_stream([token]):
                        if kept.get("name") != "img" or (None, "src") in kept.get("data", {}):
                            yield kept  # an image whose source was removed is left out

    # The parser must see the dropped elements as elements (bleach's own turns unknown tags into text).
    parser = html5lib_shim.BleachHTMLParser(tags=tags | DROPPED_WITH_CONTENT, strip=True,
                                            consume_entities=False, namespaceHTMLElements=False)
    serializer = html5lib_shim.BleachHTMLSerializer(quote_attr_values="always", omit_optional_tags=False,
                                                    escape_lt_in_attrs=True, resolve_entities=False,
                                                    sanitize=False, alphabetical_attributes=False)
    walker = html5lib_shim.getTreeWalker("etree")

    def sanitise(fragment: str) -> str:
        stream = Sanitiser(source=walker(parser.parseFragment(fragment)), allowed_tags=tags,
                           attributes=allowed_attribute, allowed_protocols={"data"},
                           strip_disallowed_tags=True, strip_html_comments=True,
                           css_sanitizer=InlineStyle())
        return serializer.render(stream)

    return sanitise


def sanitise_html(fragment: str) -> str:
    """An HTML fragment with nothing that runs, loads or submits anything (see the allow-lists above)."""
    return _sanitiser()(fragment) if fragment else ""


def sanitise_page(page: str) -> str:
    """The page with its body sanitised; a page without a body is sanitised whole."""
    start, end = re.search(r"<body\b[^>]*>", page), page.rfind("</body>")
    if start is None or end < start.end():
        return sanitise_html(page)
    return page[:start.end()] + sanitise_html(page[start.end():end]) + page[end:]


# ----------------------------------------------------------------------------- exporter


@cache
def _exporter_class():
    from nbconvert.exporters import HTMLExporter

    class FeedbackExporter(HTMLExporter):
        """nbgrader's feedback exporter: the notebook bounded before it is rendered (before
        nbgrader's preprocessors too), the page's body sanitised after, in this one place."""

        def default_filters(self):
            yield from super().default_filters()
            yield "markdown2mathml", markdown2mathml

        def from_notebook_node(self, nb, resources=None, **kw):
            output, resources = super().from_notebook_node(bound_notebook(nb), resources, **kw)
            return sanitise_page(output), resources

    return FeedbackExporter


def __getattr__(name: str):
    # nbconvert is imported only when the exporter is asked for (by its dotted name, from configuration).
    if name == "FeedbackExporter":
        return _exporter_class()
    raise AttributeError(name)


EXPORTER = f"{__name__}.FeedbackExporter"


def configure(config: Config) -> Config:
    """nbgrader settings that make its feedback bounded and sanitised (GenerateFeedback's exporter)."""
    config.GenerateFeedback.exporter_class = EXPORTER
    return config
