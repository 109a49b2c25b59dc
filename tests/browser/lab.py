"""Drive the course's JupyterLab in headless Chromium (Playwright): helpers and pytest fixtures.

- ``LabServer``: JupyterLab from this virtualenv on a free 127.0.0.1 port with a token, isolated
  settings (all cells attached to the DOM, no news/extension-manager network calls), the same
  server and lab extensions as ``./course open`` (widgets, nbgrader).
- ``launch_chromium``: Debian's Chromium (``$CHROMIUM`` or /usr/bin/chromium) through
  Playwright; never Playwright's own browser download.
- Page helpers: ``open_notebook``, ``run_all_cells`` (cell by cell, as a student would),
  ``wait_for_widgets``, ``widget_errors``, ``unlabelled_buttons``, ``move_slider``, ``toggle_checkbox``,
  ``press_button``, ``select_option``, ``choose_toggle`` (each waits until the plot next to the
  control has changed), ``validate`` (nbgrader's Validate button) and ``screenshot`` (into
  ``test-artifacts/browser/``).
- Fixtures (test modules load them with ``pytest_plugins = ["lab"]``; a conftest.py here would
  shadow tests/conftest.py, which other tests import as ``conftest``): ``chromium``,
  ``lab_server``, ``lab_page`` (one of each per test process, i.e. per xdist worker) and
  ``page`` (that JupyterLab page, cleaned up after each test; a screenshot if it failed).

Actions go through the UI (toolbar, keyboard, mouse) or JupyterLab's own commands; the page's
JupyterLab application (``--LabApp.expose_app_in_browser``) is otherwise only read, to wait on
kernel and cell state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOW_TO_ENABLE = (
    "install Debian's Chromium (`apt-get install chromium`; .ci/run does this) "
    "or point $CHROMIUM at a Chromium binary"
)
# Seconds. Generous: CI machines run the rest of the suite beside these tests.
SERVER_START_TIMEOUT = 90
CELL_TIMEOUT = 180
WIDGET_TIMEOUT = 60
PLOT_TIMEOUT = 60
VALIDATE_TIMEOUT = 300

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# JupyterLab user settings for the test server (nothing is read from ~/.jupyter).
LAB_SETTINGS = {
    # Attach every cell to the DOM, so all outputs can be inspected and screenshotted.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
WIDGET_ERROR_TEXTS = (
    "Error displaying widget",
    "model not found",
    "Failed to load model class",
    "Failed to load view class",
    "Could not create a view",
    "Error rendering output item",
)


# ----------------------------------------------------------------------------- browser


def chromium_path() -> str:
    return os.environ.get("CHROMIUM") or DEFAULT_CHROMIUM


def launch_chromium(playwright: Any) -> Any:
    """Launch Chromium, or raise ``RuntimeError`` saying why it cannot run here."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"no Chromium at {path}")
    try:
        return playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
    except Exception as err:  # Playwright raises its own Error (and TimeoutError) types
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RuntimeError(f"Chromium at {path} does not start: {first_line}") from err


# ----------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab server serving ``root_dir``; ``work`` holds its settings, runtime and log."""

    def __init__(self, root_dir: Path, work: Path, log: Path) -> None:
        self.root_dir, self.work, self.log_path = Path(root_dir), Path(work), Path(log)
        self.token = secrets.token_hex(16)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The test suite forces the Agg backend; kernels must use the inline one, as for students.
        env.pop("MPLBACKEND", None)
        for name in ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(name, None)
        settings = self.work / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env.update(
            JUPYTER_CONFIG_DIR=str(self.work / "config"),
            JUPYTER_RUNTIME_DIR=str(self.work / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.work / "workspaces"),
            IPYTHONDIR=str(self.work / "ipython"),
            DL_COURSE_ROOT=str(ROOT),
            PYDEVD_DISABLE_FILE_VALIDATION="1",
        )
        return env

    def start(self) -> None:
        bindir = Path(sys.executable).parent
        command = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        env = self._env()
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # another process may take the free port before we bind it
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [*command, f"--ServerApp.port={self.port}"],
                    cwd=self.root_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_until_up():
                return
            self.stop()
        raise RuntimeError(f"JupyterLab did not start; see {self.log_path}:\n{self._log_tail()}")

    def _wait_until_up(self) -> bool:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                self.api("GET", "/api/status")
                return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        return False

    def _log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            self.base_url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Close every notebook session (and its kernel); the next test starts clean."""
        try:
            for session in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{session['id']}")
            for kernel in self.api("GET", "/api/kernels"):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass

    def url(self, notebook: str | None = None) -> str:
        # A workspace of its own per page load: no tabs restored from an earlier one.
        workspace = "t" + secrets.token_hex(6)
        tree = f"/tree/{notebook}" if notebook else ""
        return f"{self.base_url}/lab/workspaces/{workspace}{tree}?token={self.token}"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the server and its kernels
            process.wait(timeout=10)


# ----------------------------------------------------------------------------- notebooks


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """Write a notebook of ``(kind, source)`` cells, kind ``"code"`` or ``"markdown"``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    make = {"code": new_code_cell, "markdown": new_markdown_cell}
    nb = new_notebook(
        cells=[make[kind](source) for kind, source in cells],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )
    nbformat.write(nb, path)
    return path


def solved_notebook(chapter: Any, dest: Path) -> Path:
    """The chapter's release with each exercise's reference solution put back (cell ids match)."""
    import nbformat

    from autograder.authoring import cells_with_role, read_source

    answers = {
        cell.id: cell.source
        for cell in cells_with_role(read_source(chapter.source), "solution", "answer")
    }
    nb = nbformat.read(chapter.release, as_version=4)
    if answers and not any(cell.get("id") in answers for cell in nb.cells):
        raise AssertionError(f"{chapter.release}: no cell ids in common with {chapter.source}")
    for cell in nb.cells:
        if cell.get("id") in answers:
            cell.source = answers[cell.id]
    nbformat.write(nb, dest)
    return dest


# ----------------------------------------------------------------------------- page: state

_PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_KERNEL = f"""(() => {{
    const panel = {_PANEL};
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return session ? session.kernel : null;
}})()"""
_VISIBLE = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def kernel_status(page: Any) -> str | None:
    return page.evaluate(f"() => {{ const k = {_KERNEL}; return k ? k.status : null; }}")


def wait_for_kernel_idle(page: Any, timeout: float = CELL_TIMEOUT) -> None:
    page.wait_for_function(
        f"() => {{ const k = {_KERNEL}; return !!k && k.status === 'idle'; }}",
        timeout=timeout * 1000,
    )


def open_lab(page: Any, server: LabServer) -> None:
    """Load JupyterLab in ``page`` (a fresh workspace) and wait until it has started."""
    page.goto(server.url(), wait_until="domcontentloaded")
    page.wait_for_function("() => !!window.jupyterapp", timeout=SERVER_START_TIMEOUT * 1000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")


def lab_is_usable(page: Any) -> bool:
    if page.is_closed():
        return False
    try:
        return bool(page.evaluate("() => !!(window.jupyterapp && window.jupyterapp.shell)"))
    except Exception:  # a crashed or navigating page
        return False


def close_everything(page: Any) -> None:
    """Dismiss dialogs and close every tab without saving (between tests)."""
    for _ in range(5):
        if page.locator(".jp-Dialog").count() == 0:
            break
        page.keyboard.press("Escape")
        page.wait_for_timeout(100)
    page.evaluate(
        """() => {
            for (const widget of Array.from(window.jupyterapp.shell.widgets('main'))) {
                if (widget.context && widget.context.model) widget.context.model.dirty = false;
                widget.dispose();
            }
        }"""
    )


def open_notebook(page: Any, server: LabServer, name: str) -> None:
    """Open ``name`` (relative to the server's root) as the file browser does; wait for its kernel.

    Uses the JupyterLab already loaded in ``page`` (see ``open_lab``), else loads it.
    """
    if not lab_is_usable(page):
        open_lab(page, server)
    page.evaluate(
        "async (path) => { await window.jupyterapp.commands.execute('docmanager:open', {path}); }",
        name,
    )
    page.wait_for_function(
        f"""() => {{
            const panel = {_PANEL};
            return !!(panel && panel.context && panel.context.path === {json.dumps(name)}
                      && panel.context.isReady && panel.content.widgets.length > 0);
        }}""",
        timeout=SERVER_START_TIMEOUT * 1000,
    )
    wait_for_kernel_idle(page, timeout=SERVER_START_TIMEOUT)


def notebook_json(page: Any) -> dict[str, Any]:
    """The open notebook as nbformat JSON, outputs included (what the page holds, not the file)."""
    return page.evaluate(f"() => {_PANEL}.content.model.toJSON()")


def cell_count(page: Any) -> int:
    return page.evaluate(f"() => {_PANEL}.content.widgets.length")


def cell(page: Any, index: int) -> Any:
    """Locator of the index-th cell of the open notebook (0-based, as in the .ipynb)."""
    return page.locator(f"{_VISIBLE} .jp-Notebook .jp-Cell").nth(index)


def output_area(page: Any, index: int) -> Any:
    return cell(page, index).locator(".jp-Cell-outputArea")


# ----------------------------------------------------------------------------- page: running


_RUN_CELLS_JS = f"""async (timeoutMs) => {{
    const panel = {_PANEL};
    const notebook = panel.content;
    const kernel = () => panel.sessionContext.session && panel.sessionContext.session.kernel;
    const count = notebook.widgets.length;
    for (let index = 0; index < count; index++) {{
        const cell = notebook.widgets[index];
        notebook.mode = 'command';
        notebook.activeCellIndex = index;
        notebook.deselectAll();
        await window.jupyterapp.commands.execute('notebook:run-cell-and-select-next');
        const deadline = Date.now() + timeoutMs;
        for (;;) {{
            const done = cell.model.type !== 'code' || cell.model.executionCount !== null;
            if (done && kernel() && kernel().status === 'idle') break;
            if (Date.now() > deadline) {{
                return {{index, kernel: kernel() ? kernel().status : 'gone'}};
            }}
            await new Promise((resolve) => setTimeout(resolve, 10));
        }}
    }}
    return null;
}}"""


def run_all_cells(page: Any, timeout_per_cell: float = CELL_TIMEOUT) -> None:
    """Run every cell from the top, one at a time, as a student pressing Shift+Enter would.

    Each cell goes through JupyterLab's own "run cell and select next" command (Shift+Enter);
    unlike "Run All", a failing cell does not stop the cells after it. Each code cell must get
    its execution count, with the kernel idle again, before the next one starts.
    """
    stuck = page.evaluate(_RUN_CELLS_JS, timeout_per_cell * 1000)
    if stuck:
        raise AssertionError(
            f"cell {stuck['index']} did not finish within {timeout_per_cell} s "
            f"(kernel {stuck['kernel']})"
        )


def error_outputs(page: Any) -> dict[int, list[str]]:
    """Cell index -> ``"Ename: evalue"`` of each error output (from the page's notebook model)."""
    errors: dict[int, list[str]] = {}
    for index, cell_json in enumerate(notebook_json(page)["cells"]):
        for output in cell_json.get("outputs", []):
            if output.get("output_type") == "error":
                errors.setdefault(index, []).append(f"{output['ename']}: {output['evalue']}")
    return errors


def unexecuted_code_cells(page: Any) -> list[int]:
    return [
        index
        for index, cell_json in enumerate(notebook_json(page)["cells"])
        if cell_json["cell_type"] == "code"
        and cell_json["source"].strip()
        and cell_json.get("execution_count") is None
    ]


# ----------------------------------------------------------------------------- page: widgets

_WIDGET_OUTPUTS_JS = f"""() => {{
    const outputs = document.querySelectorAll(
        '{_VISIBLE} .jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output');
    const cells = [...document.querySelectorAll('{_VISIBLE} .jp-Notebook .jp-Cell')];
    return [...outputs].map((node) => {{
        const text = (node.innerText || '').trim();
        const view = node.querySelector(':scope > .jupyter-widgets');
        return {{
            cell: cells.findIndex((c) => c.contains(node)),
            loading: text.startsWith('Loading widget'),
            view: !!view,
            progress: !!(view && view.querySelector('[class*="progress"]')),
            text: text.slice(0, 300),
        }};
    }});
}}"""


def progress_bars(page: Any) -> int:
    """How many of the rendered widget views are progress bars (tqdm's, in training cells)."""
    return sum(1 for o in page.evaluate(_WIDGET_OUTPUTS_JS) if o["view"] and o["progress"])


def widget_view_outputs(page: Any) -> list[int]:
    """Cell index of each widget output in the page's notebook model (one per displayed widget)."""
    mime = "application/vnd.jupyter.widget-view+json"
    return [
        index
        for index, cell_json in enumerate(notebook_json(page)["cells"])
        for output in cell_json.get("outputs", [])
        if mime in output.get("data", {})
    ]


def widget_errors(page: Any) -> list[str]:
    """Widget error messages visible in the notebook ("Error displaying widget: ...", ...)."""
    found = page.evaluate(
        f"""(texts) => {{
            const root = document.querySelector('{_VISIBLE}');
            if (!root) return ['no notebook open'];
            const errors = [...root.querySelectorAll('.jupyter-widgets-error-widget')]
                .map((node) => 'widget error view: ' + (node.innerText || '').trim().slice(0, 200));
            for (const node of root.querySelectorAll('.jp-OutputArea-output')) {{
                const text = node.innerText || '';
                for (const needle of texts) {{
                    if (text.includes(needle) && !node.querySelector('.jp-OutputArea-output')) {{
                        errors.push(text.trim().slice(0, 300));
                        break;
                    }}
                }}
            }}
            return errors;
        }}""",
        list(WIDGET_ERROR_TEXTS),
    )
    return list(dict.fromkeys(found))


_UNLABELLED_BUTTONS_JS = f"""() => {{
    // A glyph is drawn when its image differs from that of a code point no font has (the
    // "tofu" box a missing glyph becomes) and is not blank.
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const context = canvas.getContext('2d', {{willReadFrequently: true}});
    const image = (font, text) => {{
        context.clearRect(0, 0, 64, 64);
        context.font = font;
        context.textBaseline = 'top';
        context.fillText(text, 8, 8);
        return context.getImageData(0, 0, 64, 64).data.join(',');
    }};
    const drawn = (style, text) => {{
        const font = `${{style.fontStyle}} ${{style.fontWeight}} 32px ${{style.fontFamily}}`;
        const picture = image(font, text);
        return picture !== image(font, '\\u{{10FFFD}}') && /[1-9]/.test(picture);
    }};
    const problems = [];
    const cells = [...document.querySelectorAll('{_VISIBLE} .jp-Notebook .jp-Cell')];
    for (const button of document.querySelectorAll('{_VISIBLE} button.jupyter-button')) {{
        const box = button.getBoundingClientRect();
        if (!box.width || !box.height) continue;  // not shown
        const text = (button.innerText || '').replace(/\\s+/g, '');
        const textDrawn = text.length > 0 && [...text].every((c) => drawn(getComputedStyle(button), c));
        let iconDrawn = false;
        for (const icon of button.querySelectorAll('i')) {{
            const before = getComputedStyle(icon, '::before');
            const glyph = (before.content || '').replace(/^["']|["']$/g, '');
            const shape = icon.getBoundingClientRect();
            iconDrawn ||= glyph.length > 0 && before.content !== 'none' && shape.width > 0
                && drawn(before, glyph);
        }}
        if (!textDrawn && !iconDrawn) {{
            problems.push({{
                cell: cells.findIndex((c) => c.contains(button)),
                text: button.innerText, title: button.title,
                icon: [...button.querySelectorAll('i')].map((i) => i.className).join(' '),
            }});
        }}
    }}
    return problems;
}}"""


def unlabelled_buttons(page: Any) -> list[dict[str, Any]]:
    """Widget buttons that show neither text nor an icon: empty, or drawn as missing-glyph boxes
    (a symbol the system's fonts lack) or an icon whose font did not load."""
    page.evaluate("async () => { await document.fonts.ready; }")
    return page.evaluate(_UNLABELLED_BUTTONS_JS)


def wait_for_widgets(page: Any, timeout: float = WIDGET_TIMEOUT) -> int:
    """Wait until every widget output of the notebook shows a widget view; return their number.

    Fails with the cells whose widget is still loading, shows an error or shows no view.
    """
    expected = widget_view_outputs(page)
    deadline = time.monotonic() + timeout
    while True:
        rendered = [o for o in page.evaluate(_WIDGET_OUTPUTS_JS) if o["view"] and not o["loading"]]
        pending = [o for o in page.evaluate(_WIDGET_OUTPUTS_JS) if o["loading"]]
        errors = widget_errors(page)
        if errors or (len(rendered) >= len(expected) and not pending):
            break
        if time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert not errors, f"widget errors in the notebook: {errors}"
    assert not pending, (
        f"widgets still loading after {timeout} s in cells {[o['cell'] for o in pending]}"
    )
    assert len(rendered) >= len(expected), (
        f"{len(expected)} widget outputs (cells {expected}) but only {len(rendered)} widget views "
        f"rendered (cells {[o['cell'] for o in rendered]})"
    )
    return len(rendered)


_PLOT_SIGNATURE_JS = """async (root) => {
    const hex = (buffer) => [...new Uint8Array(buffer)]
        .map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 16);
    const parts = [];
    for (const img of root.querySelectorAll('img')) {
        let bytes;
        if (img.src.startsWith('blob:')) {
            bytes = await (await fetch(img.src)).arrayBuffer();
        } else {
            bytes = new TextEncoder().encode(img.src);
        }
        parts.push('img:' + hex(await crypto.subtle.digest('SHA-256', bytes)));
    }
    for (const svg of root.querySelectorAll('.jp-RenderedSVG svg, svg.main-svg')) {
        const bytes = new TextEncoder().encode(svg.outerHTML);
        parts.push('svg:' + hex(await crypto.subtle.digest('SHA-256', bytes)));
    }
    return parts.join(',');
}"""


def plot_signature(area: Any) -> str:
    """A digest of every image (and SVG plot) inside ``area``: changes iff a plot changed."""
    return area.evaluate(_PLOT_SIGNATURE_JS)


def _control_area(control: Any) -> Any:
    """The cell output area that holds a widget control (so its plot sits inside it)."""
    return control.locator("xpath=ancestor::div[contains(@class, 'jp-Cell-outputArea')][1]")


def _page_of(scope: Any) -> Any:
    """The page of a scope: a Page, or a Locator within one."""
    return getattr(scope, "page", scope)


def widget_output(page: Any, number: int) -> Any:
    """Locator of the notebook's ``number``-th displayed widget (1-based, in notebook order)."""
    outputs = page.locator(
        f"{_VISIBLE} .jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output"
    ).filter(has=page.locator(":scope > .jupyter-widgets"))
    count = outputs.count()
    assert 1 <= number <= count, f"widget {number} asked for; the notebook shows {count}"
    return outputs.nth(number - 1)


@dataclass
class Interaction:
    """What one interaction did: the control, its value before and after, the widget's area."""

    what: str
    before: str
    after: str
    area: Any


def _changes_plot(
    scope: Any,
    what: str,
    control: Any,
    act: Callable[[], None],
    read: Callable[[], str],
    timeout: float = PLOT_TIMEOUT,
) -> Interaction:
    """Do ``act`` on ``control``; wait until the plot next to it changed and the kernel is idle.

    "Changed": the digest of the images in the control's cell output differs from before and
    has stayed the same for two polls with an idle kernel (so the last redraw has arrived).
    """
    page = _page_of(scope)
    control.scroll_into_view_if_needed()
    area = _control_area(control)
    wait_for_kernel_idle(page)
    before_value, before_plot = read(), plot_signature(area)
    assert before_plot, f"{what}: no plot (image) in the widget's output to compare"
    act()
    deadline = time.monotonic() + timeout
    last, stable = None, 0
    while True:
        signature = plot_signature(area)
        idle = kernel_status(page) == "idle"
        stable = stable + 1 if (signature == last and idle) else 0
        last = signature
        if signature != before_plot and stable >= 2:
            break
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: the plot did not change within {timeout} s "
                f"(value {before_value!r} -> {read()!r}, kernel {kernel_status(page)!r}; "
                f"widget errors: {widget_errors(page)})"
            )
        page.wait_for_timeout(150)
    errors = widget_errors(page)
    assert not errors, f"{what}: widget errors after the interaction: {errors}"
    return Interaction(what, before_value, read(), area)


def _exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def _labelled(scope: Any, widget_class: str, label_selector: str, label: str) -> Any:
    found = scope.locator(widget_class).filter(
        has=_page_of(scope).locator(label_selector).filter(has_text=_exactly(label))
    )
    count = found.count()
    assert count == 1, f"expected one {widget_class} labelled {label!r}, found {count}" + (
        " (give the action widget=N to pick one widget)" if count > 1 else ""
    )
    return found


def move_slider(scope: Any, label: str, steps: int) -> Interaction:
    """Move the slider labelled ``label`` by ``steps`` (arrow keys on its handle, as a user).

    ``scope``: the page, or a locator (e.g. ``widget_output(page, 2)``) to look in.
    """
    slider = _labelled(scope, ".widget-slider", ".widget-label", label)
    handle = slider.locator(".noUi-handle").first
    readout = slider.locator(".widget-readout")

    def act() -> None:
        handle.focus()
        for _ in range(abs(steps)):
            handle.press("ArrowRight" if steps > 0 else "ArrowLeft")

    result = _changes_plot(
        scope, f"slider {label!r} by {steps:+d}", slider, act, lambda: readout.inner_text().strip()
    )
    assert result.after != result.before, f"slider {label!r}: the readout did not change"
    return result


def toggle_checkbox(scope: Any, label: str) -> Interaction:
    box = _labelled(scope, ".widget-checkbox", "label", label)
    checkbox = box.locator("input[type=checkbox]")
    result = _changes_plot(
        scope, f"checkbox {label!r}", box, checkbox.click, lambda: str(checkbox.is_checked())
    )
    assert result.after != result.before, f"checkbox {label!r}: did not toggle"
    return result


def press_button(scope: Any, label: str) -> Interaction:
    """Click the button (or toggle button) whose text is ``label``, or, for a button that shows
    only an icon, whose tooltip is ``label``."""
    buttons = scope.locator("button.jupyter-button")
    button = buttons.filter(has_text=_exactly(label))
    if button.count() == 0:
        button = scope.locator(f"button.jupyter-button[title={json.dumps(label)}]")
    count = button.count()
    assert count == 1, f"expected one button {label!r}, found {count}"
    return _changes_plot(scope, f"button {label!r}", button, button.click, lambda: label)


def select_option(scope: Any, label: str, option: str) -> Interaction:
    """Choose ``option`` in the dropdown labelled ``label``."""
    dropdown = _labelled(scope, ".widget-dropdown", ".widget-label", label)
    select = dropdown.locator("select")
    result = _changes_plot(
        scope,
        f"dropdown {label!r} -> {option!r}",
        dropdown,
        lambda: select.select_option(label=option),
        lambda: select.evaluate("(s) => s.options[s.selectedIndex]?.text ?? ''").replace("\xa0", " "),
    )  # ipywidgets shows the spaces of an option as no-break spaces
    assert result.after == option, f"dropdown {label!r} shows {result.after!r}, not {option!r}"
    return result


def type_text(scope: Any, label: str, typed: str) -> Interaction:
    """Replace the text of the text box labelled ``label`` by ``typed`` and press Enter."""
    box = _labelled(scope, ".widget-text", ".widget-label", label)
    field = box.locator("input")

    def act() -> None:
        field.fill(typed)
        field.press("Enter")

    result = _changes_plot(scope, f"text {label!r} <- {typed!r}", box, act, field.input_value)
    assert result.after == typed, f"text {label!r} shows {result.after!r}, not {typed!r}"
    return result


def choose_toggle(scope: Any, label: str, option: str) -> Interaction:
    """Press ``option`` among the toggle buttons labelled ``label`` (ipywidgets ToggleButtons)."""
    group = _labelled(scope, ".widget-toggle-buttons", ".widget-label", label)
    choice = group.locator("button").filter(has_text=_exactly(option))
    assert choice.count() == 1, f"toggle buttons {label!r}: no single option {option!r}"
    selected = group.locator("button.mod-active")
    result = _changes_plot(
        scope,
        f"toggle buttons {label!r} -> {option!r}",
        group,
        choice.click,
        lambda: selected.inner_text().strip() if selected.count() else "",
    )
    assert result.after == option, f"toggle buttons {label!r} show {result.after!r}, not {option!r}"
    return result


# ----------------------------------------------------------------------------- page: nbgrader


def validate(page: Any, timeout: float = VALIDATE_TIMEOUT) -> Any:
    """Press nbgrader's Validate button; return the "Validation Results" dialog's message node."""
    button = page.locator(f"{_VISIBLE} .jp-NotebookPanel-toolbar jp-button").filter(
        has_text=re.compile(r"^\s*Validate\s*$")
    )
    button.click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for(timeout=timeout * 1000)
    return dialog.locator("#validation-message")


def close_dialog(page: Any) -> None:
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


# ----------------------------------------------------------------------------- artifacts


def slug(text: str) -> str:
    """A file-name-safe ASCII form of a label ("λ" -> "lamda", "▶" -> "u25b6")."""
    parts = []
    for char in text:
        if char.isascii():
            parts.append(char if char.isalnum() or char == "-" else "_")
        elif char.isalpha():
            parts.append(unicodedata.name(char, "x").split()[-1].lower())
        elif char.isspace():
            parts.append("_")
        else:
            parts.append(f"u{ord(char):04x}")
    return re.sub(r"_+", "_", "".join(parts)).strip("_") or "x"


def screenshot(target: Any, name: str) -> Path:
    """Save a PNG of a page or an element as ``test-artifacts/browser/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{slug(name)}.png"
    target.screenshot(path=str(path))
    return path


def clean_artifacts(prefix: str) -> None:
    """Remove this test's screenshots from an earlier run (never other tests')."""
    if ARTIFACTS.is_dir():
        for path in ARTIFACTS.glob(f"{slug(prefix)}*.png"):
            path.unlink(missing_ok=True)


def copy_into(server: LabServer, source: Path, name: str) -> str:
    """Copy a notebook into the server's root (the repository's copy is never touched)."""
    shutil.copyfile(source, server.root_dir / name)
    return name


# ----------------------------------------------------------------------------- declared actions


@dataclass(frozen=True)
class Action:
    """One interaction with a chapter's widget, declared in test_lab.WIDGETS."""

    kind: str  # "slider", "checkbox", "button", "dropdown", "text" or "toggle_buttons"
    label: str  # the control's description (a button's text) as shown
    value: int | str = 0  # sliders: steps (negative: to the left); dropdowns etc.: the option
    widget: int | None = None  # look only in the notebook's N-th widget (when labels repeat)

    @property
    def name(self) -> str:
        value = f"-{self.value}" if self.kind in ("dropdown", "text", "toggle_buttons") else ""
        return slug(f"{self.kind}-{self.label}{value}")

    def __call__(self, page: Any) -> Interaction:
        scope = page if self.widget is None else widget_output(page, self.widget)
        if self.kind == "slider":
            return move_slider(scope, self.label, int(self.value))
        if self.kind == "checkbox":
            return toggle_checkbox(scope, self.label)
        if self.kind == "button":
            return press_button(scope, self.label)
        if self.kind == "dropdown":
            return select_option(scope, self.label, str(self.value))
        if self.kind == "toggle_buttons":
            return choose_toggle(scope, self.label, str(self.value))
        if self.kind == "text":
            return type_text(scope, self.label, str(self.value))
        raise ValueError(f"unknown widget action {self.kind!r}")


def slider(label: str, steps: int, *, widget: int | None = None) -> Action:
    return Action("slider", label, steps, widget)


def checkbox(label: str, *, widget: int | None = None) -> Action:
    return Action("checkbox", label, 0, widget)


def button(label: str, *, widget: int | None = None) -> Action:
    return Action("button", label, 0, widget)


def dropdown(label: str, option: str, *, widget: int | None = None) -> Action:
    return Action("dropdown", label, option, widget)


def text(label: str, typed: str, *, widget: int | None = None) -> Action:
    return Action("text", label, typed, widget)


def toggle_buttons(label: str, option: str, *, widget: int | None = None) -> Action:
    return Action("toggle_buttons", label, option, widget)


# ----------------------------------------------------------------------------- fixtures


class PlaywrightLoop:
    """Keeps Playwright's event loop from leaking into the other tests of the process.

    Between two calls, Playwright's sync API leaves its loop marked as the thread's running
    loop for as long as Playwright is alive; ``asyncio.run`` in any later test of the same
    process (or xdist worker) would then fail. ``hide()`` unmarks it while no browser code
    runs; ``active()`` marks it again around Playwright calls.
    """

    def __init__(self) -> None:
        self.loop = asyncio._get_running_loop()

    def hide(self) -> None:
        if self.loop is not None and asyncio._get_running_loop() is self.loop:
            asyncio._set_running_loop(None)

    def show(self) -> None:
        if self.loop is not None and asyncio._get_running_loop() is None:
            asyncio._set_running_loop(self.loop)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        self.show()
        try:
            yield
        finally:
            self.hide()


@dataclass
class Chromium:
    browser: Any
    loop: PlaywrightLoop


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """Chromium through Playwright, or a skip that says how to get it."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "browser tests need the playwright package (.venv/bin/pip install -r requirements.txt)"
        )
    playwright = sync_playwright().start()
    loop = PlaywrightLoop()
    try:
        browser = launch_chromium(playwright)
    except RuntimeError as err:
        with loop.active():
            playwright.stop()
        pytest.skip(f"browser tests skipped: {err}; to run them, {HOW_TO_ENABLE}")
    finally:
        loop.hide()
    yield Chromium(browser, loop)
    with loop.active():
        browser.close()
        playwright.stop()


@pytest.fixture(scope="session")
def lab_server(chromium: Chromium, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on a free port (after ``chromium``: no server when the tests skip)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = LabServer(
        root_dir=tmp_path_factory.mktemp("lab-root"),
        work=tmp_path_factory.mktemp("lab-work"),
        log=ARTIFACTS / f"jupyterlab-{worker}.log",
    )
    server.log_path.unlink(missing_ok=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab_page(chromium: Chromium, lab_server: LabServer) -> Iterator[Any]:
    """A browser page with JupyterLab loaded (loading it takes seconds: done once)."""
    with chromium.loop.active():
        context = chromium.browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.page_errors = []
        page.on("pageerror", lambda error: page.page_errors.append(str(error)))
        open_lab(page, lab_server)
    yield page
    with chromium.loop.active():
        context.close()


@pytest.fixture
def page(
    chromium: Chromium, lab_page: Any, lab_server: LabServer, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """The JupyterLab page with no tab open; a screenshot of it is kept if the test fails."""
    failed_before = request.session.testsfailed
    failed_shot = f"FAILED-{request.node.name}"
    clean_artifacts(failed_shot)
    with chromium.loop.active():
        if not lab_is_usable(lab_page):
            open_lab(lab_page, lab_server)
        lab_page.page_errors.clear()
        try:
            yield lab_page
        finally:
            if request.session.testsfailed > failed_before:
                try:
                    screenshot(lab_page, failed_shot)
                except Exception as err:  # the page may be gone; the failure matters more
                    print(f"could not save a screenshot of the failed page: {err}")
                if lab_page.page_errors:
                    print("JavaScript errors on the page:\n" + "\n".join(lab_page.page_errors))
            with contextlib.suppress(Exception):  # a broken page is reloaded by the next test
                close_everything(lab_page)
    lab_server.shutdown_kernels()
