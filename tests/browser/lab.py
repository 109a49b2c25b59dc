"""Drive the course's JupyterLab in headless Chromium (Playwright) for the browser tests.

- ``LabServer``: JupyterLab from this virtualenv on a free 127.0.0.1 port with a token, isolated
  settings (all cells attached to the DOM, no news/extension-manager network calls), the same
  server and lab extensions as ``./course open`` (widgets, nbgrader).
- ``launch_chromium``: Debian's Chromium (``$CHROMIUM`` or /usr/bin/chromium) through
  Playwright; never Playwright's own browser download.
- Page helpers: ``open_notebook``, ``run_all_cells`` (cell by cell, as a student would),
  ``wait_for_widgets``, ``widget_errors``, ``move_slider``, ``toggle_checkbox``,
  ``press_button`` (each waits until the plot next to the control has changed), ``validate``
  (nbgrader's Validate button) and ``screenshot`` (into ``test-artifacts/browser/``).

Actions go through the UI (toolbar buttons, keyboard, mouse); the page's JupyterLab application
(``--LabApp.expose_app_in_browser``) is only read, to wait on kernel and cell state.
"""

from __future__ import annotations

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def url(self, notebook: str) -> str:
        # A workspace of its own per page: no tabs restored from an earlier test.
        workspace = "t" + secrets.token_hex(6)
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}"

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


def open_notebook(page: Any, server: LabServer, name: str) -> None:
    """Open ``name`` (relative to the server's root) and wait for its kernel to be idle."""
    page.goto(server.url(name), wait_until="domcontentloaded")
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


def run_all_cells(page: Any, timeout_per_cell: float = CELL_TIMEOUT) -> None:
    """Run every cell from the top, one at a time, as a student pressing Shift+Enter would.

    (Unlike "Run All", a failing cell does not stop the cells after it.) Clicks the toolbar's
    run-and-advance button and waits for each code cell's execution count and an idle kernel.
    """
    count = cell_count(page)
    cell(page, 0).locator(".jp-InputPrompt").click()
    page.wait_for_function(f"() => {_PANEL}.content.activeCellIndex === 0")
    run_button = page.locator(
        f'{_VISIBLE} .jp-NotebookPanel-toolbar [data-command="notebook:run-cell-and-select-next"]'
    )
    for index in range(count):
        run_button.click()
        try:
            page.wait_for_function(
                f"""(i) => {{
                    const panel = {_PANEL};
                    const cell = panel.content.widgets[i];
                    const kernel = panel.sessionContext.session.kernel;
                    const done = cell.model.type !== 'code' || cell.model.executionCount !== null;
                    return done && panel.content.activeCellIndex > i && kernel.status === 'idle';
                }}""",
                arg=index,
                timeout=timeout_per_cell * 1000,
            )
        except Exception as err:
            raise AssertionError(
                f"cell {index} did not finish within {timeout_per_cell} s "
                f"(kernel {kernel_status(page)!r}): {err}"
            ) from err


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
            text: text.slice(0, 300),
        }};
    }});
}}"""


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
    assert not pending, f"widgets still loading after {timeout} s in cells {[o['cell'] for o in pending]}"
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


@dataclass
class Interaction:
    """What one interaction did: the control, its value before and after, the widget's area."""

    what: str
    before: str
    after: str
    area: Any


def _changes_plot(page: Any, what: str, control: Any, act: Callable[[], None],
                  read: Callable[[], str], timeout: float = PLOT_TIMEOUT) -> Interaction:
    """Do ``act`` on ``control``; wait until the plot next to it changed and the kernel is idle."""
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
        if signature != before_plot and stable >= 2:  # unchanged for 2 polls with an idle kernel
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


def _labelled(scope: Any, widget_class: str, label_selector: str, label: str) -> Any:
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    found = scope.locator(widget_class).filter(
        has=scope.locator(label_selector).filter(has_text=exact)
    )
    count = found.count()
    assert count == 1, f"expected one {widget_class} labelled {label!r}, found {count}"
    return found


def move_slider(page: Any, label: str, steps: int) -> Interaction:
    """Move the slider labelled ``label`` by ``steps`` (arrow keys on its handle, as a user)."""
    slider = _labelled(page, ".widget-slider", ".widget-label", label)
    handle = slider.locator(".noUi-handle").first
    readout = slider.locator(".widget-readout")

    def act() -> None:
        handle.focus()
        for _ in range(abs(steps)):
            handle.press("ArrowRight" if steps > 0 else "ArrowLeft")

    result = _changes_plot(
        page, f"slider {label!r} by {steps:+d}", slider, act, lambda: readout.inner_text().strip()
    )
    assert result.after != result.before, f"slider {label!r}: the readout did not change"
    return result


def toggle_checkbox(page: Any, label: str) -> Interaction:
    box = _labelled(page, ".widget-checkbox", "label", label)
    checkbox = box.locator("input[type=checkbox]")
    result = _changes_plot(
        page, f"checkbox {label!r}", box, checkbox.click, lambda: str(checkbox.is_checked())
    )
    assert result.after != result.before, f"checkbox {label!r}: did not toggle"
    return result


def press_button(page: Any, label: str) -> Interaction:
    button = page.locator("button.jupyter-button").filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    )
    assert button.count() == 1, f"expected one button {label!r}, found {button.count()}"
    return _changes_plot(page, f"button {label!r}", button, button.click, lambda: label)


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
    """A file-name-safe ASCII form of a label ("λ" -> "lamda")."""
    parts = []
    for char in text:
        if char.isascii():
            parts.append(char if char.isalnum() or char == "-" else "_")
        elif char.isalpha():
            parts.append(unicodedata.name(char, "x").split()[-1].lower())
        else:
            parts.append("_")
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

    kind: str  # "slider", "checkbox" or "button"
    label: str  # the control's description as shown
    steps: int = 0  # sliders: how many steps (negative: to the left)

    @property
    def name(self) -> str:
        return slug(f"{self.kind}-{self.label}")

    def __call__(self, page: Any) -> Interaction:
        if self.kind == "slider":
            return move_slider(page, self.label, self.steps)
        if self.kind == "checkbox":
            return toggle_checkbox(page, self.label)
        if self.kind == "button":
            return press_button(page, self.label)
        raise ValueError(f"unknown widget action {self.kind!r}")


def slider(label: str, steps: int) -> Action:
    return Action("slider", label, steps)


def checkbox(label: str) -> Action:
    return Action("checkbox", label)


def button(label: str) -> Action:
    return Action("button", label)
