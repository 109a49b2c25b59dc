"""Cell outputs: what counts as a failure (harmless warnings do not), and bounds on what is kept.

A tests cell fails when it raised or wrote to stderr anything but Python's warning lines.

A submission can print a million lines or display sixty megabytes; the graded notebook, the
grader's memory and the feedback page must not grow with it. While a cell runs,
:class:`BoundedClient` stops collecting its outputs past :data:`MAX_CELL_CHARS`; after it ran,
:func:`trim` cuts long texts, drops large images and keeps at most :data:`MAX_OUTPUTS` outputs.
"""

from __future__ import annotations

import re
from typing import Any

import nbformat
from nbclient import NotebookClient

MAX_TEXT_CHARS = 20_000  # one text output (stream, text/plain, text/html, a traceback)
MAX_IMAGE_CHARS = 1_000_000  # one base64 image (about 750 kB)
MAX_OUTPUTS = 50  # outputs of one cell
MAX_CELL_CHARS = 4_000_000  # everything one cell may hand the grader while it runs
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
# Python's warning lines ("file:12: RuntimeWarning: overflow ...\n  source line\n"): harmless on stderr.
WARNING_LINES = r"\A(?:[^\n]*:\d+: [A-Za-z]*Warning: [^\n]*\n(?:[ \t]+[^\n]*(?:\n|\Z))*)+\Z"
_WARNINGS = re.compile(WARNING_LINES)


def is_harmless_stderr(text: str) -> bool:
    """True when a stderr stream holds nothing but Python warnings."""
    return bool(_WARNINGS.match(text))


def cell_failure(outputs: list[dict], reply_ok: bool = True) -> str | None:
    """Why a cell failed, from its outputs (an error, or stderr beyond warnings); None if it passed.
    ``reply_ok``: whether the kernel's reply said the cell finished normally."""
    for output in outputs:
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}".strip()
        if output.get("output_type") == "stream" and output.get("name") == "stderr" \
                and not is_harmless_stderr(output.get("text", "")):
            return "wrote to stderr: " + output.get("text", "").strip()[:300]
    return None if reply_ok else "the cell did not finish normally"


def _size(content: dict[str, Any]) -> int:
    data = content.get("data") or {}
    return len(content.get("text", "")) + sum(len(v) if isinstance(v, str) else 1000 for v in data.values()) \
        + sum(len(line) for line in content.get("traceback", []))


def _cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit:,} more characters left out)\n"


class BoundedClient(NotebookClient):
    """nbclient's client that stops keeping a cell's outputs once they pass MAX_CELL_CHARS."""

    def output(self, outs, msg, display_id, cell_index):
        used = sum(_size(o) for o in outs)
        if used > MAX_CELL_CHARS:
            return None
        if used + _size(msg.get("content", {})) > MAX_CELL_CHARS:
            out = nbformat.v4.new_output("stream", name="stdout",
                                         text="\n... (the cell's further output was left out: too large)\n")
            outs.append(out)
            return out
        return super().output(outs, msg, display_id, cell_index)


def trim(cell: dict) -> None:
    """Bound a cell's stored outputs (texts cut, large images dropped, at most MAX_OUTPUTS)."""
    outputs = cell.get("outputs")
    if not outputs:
        return
    if len(outputs) > MAX_OUTPUTS:
        left = len(outputs) - MAX_OUTPUTS
        outputs[MAX_OUTPUTS:] = [nbformat.v4.new_output(
            "stream", name="stdout", text=f"... ({left} more outputs left out)\n")]
    for output in outputs:
        if isinstance(output.get("text"), str):
            output["text"] = _cut(output["text"])
        if output.get("output_type") == "error":
            output["evalue"] = _cut(str(output.get("evalue", "")))
            lines, kept, size = output.get("traceback", []), [], 0
            for line in lines:
                size += len(line)
                if size > MAX_TEXT_CHARS:
                    kept.append(f"... ({len(lines) - len(kept)} more traceback lines left out)")
                    break
                kept.append(line)
            output["traceback"] = kept
        data = output.get("data")
        if isinstance(data, dict):
            for mime in list(data):
                value = data[mime]
                if mime in TEXT_TYPES and isinstance(value, str):
                    data[mime] = _cut(value)
                elif not isinstance(value, str) or len(value) > MAX_IMAGE_CHARS:
                    del data[mime]
                    data.setdefault("text/plain", f"({mime} output of {len(str(value)):,} characters left out)")
