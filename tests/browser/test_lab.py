"""The course end to end in a real browser: JupyterLab from .venv, driven in headless Chromium.

For every chapter of course.toml whose release notebook is built:

- ``test_release_runs_visible_tests``: the student's release, run cell by cell: every cell runs,
  the visible tests fail with their error shown (exercises still raise NotImplementedError),
  the page and kernel survive, and widgets render.
- ``test_chapter_widgets``: the release with the reference solutions put back: no cell fails
  (the visible tests pass), every widget renders without "Error displaying widget ...", and each
  interaction declared in ``WIDGETS`` changes the plot; a screenshot of the widget after each one
  goes to test-artifacts/browser/.

``test_validate_button_on_a_release`` presses nbgrader's Validate on the first chapter's release
(failures listed). Two chapter-independent tests check the harness itself on small generated
notebooks: an ipywidgets slider + button redrawing a matplotlib plot in an Output, and nbgrader's
lab extension (menu, Validate button, a validation that passes).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.authoring import role
from autograder.course import Chapter, Course

pytest.register_assert_rewrite("lab")  # before its import, as for the plugin it also is

import lab  # noqa: E402
from lab import button, checkbox, dropdown, slider, text, toggle_buttons  # noqa: E402

pytestmark = pytest.mark.browser
pytest_plugins = ["lab"]  # its fixtures: chromium, lab_server, lab_page, page

# The interactions to check on each chapter's widgets, in order; each must change the plot next
# to the control. A chapter whose notebook displays widgets needs an entry, one item per control:
# slider(label, steps), checkbox(label), button(text, or tooltip of an icon), dropdown(label, option),
# text(label, typed) or toggle_buttons(label, option); widget=N looks only in the notebook's N-th widget (1-based),
# for labels that several widgets use.
WIDGETS: dict[str, list[lab.Action]] = {
    "01_ml_basics": [slider("degree", +4), slider("λ", +3), checkbox("show test points")],
    "02_backprop": [slider("step", +3), button("one step forward"), button("back to the start"),
                    dropdown("graph", "logistic")],
    "03_mlp": [
        # the activation explorer
        dropdown("activation", "relu", widget=1),
        slider("depth", -10, widget=1),
        slider("weight scale", +8, widget=1),
        # the decision-boundary playground (its "▶ train" runs on and on: use "step")
        dropdown("data", "circles"),
        slider("width", +8),
        button("step"),
    ],
    "04_regularization": [
        slider("λ", +3),
        toggle_buttons("penalty", "L1"),
        slider("dropout p", +5),
        slider("training points", +2),
    ],
    "05_optimization": [
        # the optimizer explorer
        dropdown("surface", "bowl"),
        slider("learning rate", -2),
        slider("momentum / β₁", +10),
        slider("weight decay", +3),
        # the initialization explorer
        dropdown("init", "Kaiming"),
        dropdown("activation", "ReLU"),
        slider("layers", +5),
    ],
    "06_cnn": [
        # the convolution explorer
        dropdown("kernel", "blur", widget=1),
        text("w₁₁", "-4"),  # one of the kernel's nine number boxes: the kernel becomes "custom"
        dropdown("kernel", "random", widget=1),  # a preset fills the boxes again
        slider("stride", +1, widget=1),
        slider("padding", +1),
        slider("dilation", +1, widget=1),
        slider("output pixel", +5),
        dropdown("image", "cross"),
        # the receptive-field explorer
        dropdown("layers", "dilations 1, 2, 4, 8 …"),
        slider("depth", +2),
        dropdown("layers", "one layer repeated"),
        dropdown("kernel", "5", widget=2),
        slider("stride", +1, widget=2),
        slider("dilation", +1, widget=2),
    ],
    "07_rnn": [
        # the gradient-flow explorer
        toggle_buttons("cell", "lstm"),
        slider("spectral radius of W_hh", +2),
        slider("length T", +3),
        slider("forget / update gate bias", +3),
        # the sampling explorer
        slider("temperature", -3),
        slider("top-k", +5),
        text("prefix", "JULIET:"),
    ],
    "08_attention": [
        # the attention explorer
        toggle_buttons("layer", "layer 2"),
        slider("query position", -2),
        slider("temperature", +1),
        checkbox("causal mask"),
        slider("padded keys at the end", +2),
        # the positional-encoding viewer
        slider("width E", -2),
        slider("positions T", +3),
        slider("position t₀", +5),
    ],
    "09_gnn": [slider("training epoch", -3), slider("layer", -1)],
    "10_autoencoders": [slider("z₁", +5), slider("z₂", -5), slider("from example", +3), slider("to example", +3),
                        slider("t", +4)],
    "11_generative": [
        # the GAN training scrubber
        dropdown("run", "balanced"),
        slider("snapshot", -5),
        # the diffusion explorer
        slider("step t", -30),
        dropdown("reverse", "DDIM, 20 steps"),
        checkbox("paths of 10 points"),
    ],
    "12_rl": [
        dropdown("map", "8x8 lake"),
        slider("discount γ", -2),
        slider("slip", +2),
        slider("step reward", -2),
        slider("ε", +3),
        slider("sweeps", +5),
        button("+1 sweep"),
        button("converge"),
    ],
}

CHAPTERS = Course.load(lab.ROOT).chapters


def released(chapter: Chapter) -> Path:
    if not chapter.release.exists():
        pytest.skip(f"{chapter.release.relative_to(lab.ROOT)} is not built yet (./course build)")
    return chapter.release


def test_widget_entries_name_chapters():
    unknown = set(WIDGETS) - {chapter.id for chapter in CHAPTERS}
    assert not unknown, f"WIDGETS names chapters that course.toml does not have: {sorted(unknown)}"


# ----------------------------------------------------------------------------- the harness itself

TOY_WIDGET = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

frequency = widgets.IntSlider(value=1, min=1, max=8, description="frequency")
shift = widgets.Button(description="shift phase")
out = widgets.Output()
phase = 0.0


def draw(*_):
    with out:
        out.clear_output(wait=True)
        x = np.linspace(0, 2 * np.pi, 200)
        fig, ax = plt.subplots(figsize=(5, 2.5))
        ax.plot(x, np.sin(frequency.value * x + phase))
        ax.set_title(f"frequency {frequency.value}, phase {phase:.1f}")
        plt.show()


def on_shift(_):
    global phase
    phase += 1.0
    draw()


frequency.observe(draw, names="value")
shift.on_click(on_shift)
display(widgets.VBox([widgets.HBox([frequency, shift]), out]))
draw()
"""


def test_slider_and_button_redraw_a_plot(page: Any, lab_server: lab.LabServer):
    lab.clean_artifacts("harness-")
    lab.write_notebook(
        lab_server.root_dir / "harness_widgets.ipynb",
        [("markdown", "# Widgets"), ("code", TOY_WIDGET), ("code", "assert frequency.value == 1")],
    )
    lab.open_notebook(page, lab_server, "harness_widgets.ipynb")
    lab.run_all_cells(page)
    assert lab.error_outputs(page) == {}
    assert lab.wait_for_widgets(page) == 1

    moved = lab.move_slider(page, "frequency", +2)
    assert (moved.before, moved.after) == ("1", "3")
    lab.screenshot(moved.area, "harness-1-slider-frequency")
    lab.screenshot(lab.press_button(page, "shift phase").area, "harness-2-button-shift_phase")
    assert lab.widget_errors(page) == []


def test_buttons_without_a_visible_label_are_found(page: Any, lab_server: lab.LabServer):
    """A symbol the fonts lack shows as an empty box: such a button counts as unlabelled."""
    lab.write_notebook(
        lab_server.root_dir / "harness_buttons.ipynb",
        [("code", "import ipywidgets as widgets\n"
                  "widgets.HBox([widgets.Button(description='\u23ee', tooltip='missing glyph'),\n"
                  "              widgets.Button(description='', tooltip='nothing at all'),\n"
                  "              widgets.Button(description='', icon='fast-backward', tooltip='an icon'),\n"
                  "              widgets.Button(description='\u25b6 train', tooltip='text')])")],
    )
    lab.open_notebook(page, lab_server, "harness_buttons.ipynb")
    lab.run_all_cells(page)
    assert lab.wait_for_widgets(page) == 1
    found = lab.unlabelled_buttons(page)
    assert sorted(button["title"] for button in found) == ["missing glyph", "nothing at all"], found


def test_nbgrader_extension_validates(page: Any, lab_server: lab.LabServer):
    lab.write_notebook(
        lab_server.root_dir / "harness_validate.ipynb",
        [("code", "answer = 42"), ("code", "assert answer == 42")],
    )
    lab.open_notebook(page, lab_server, "harness_validate.ipynb")
    menu = page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^\s*Nbgrader\s*$"))
    menu.click()
    items = page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts()
    page.keyboard.press("Escape")
    assert any("Assignment List" in item for item in items), f"Nbgrader menu items: {items}"

    message = lab.validate(page)
    assert "Success! Your notebook passes all the tests." in message.inner_text()
    lab.screenshot(page.locator(".jp-Dialog-content"), "harness-validate")
    lab.close_dialog(page)


# ----------------------------------------------------------------------------- chapters


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.id)
def test_release_runs_visible_tests(page: Any, lab_server: lab.LabServer, chapter: Chapter):
    release = released(chapter)
    name = lab.copy_into(lab_server, release, f"release_{chapter.id}.ipynb")
    lab.open_notebook(page, lab_server, name)
    lab.run_all_cells(page)

    assert lab.kernel_status(page) == "idle", "the kernel did not survive the release notebook"
    assert lab.unexecuted_code_cells(page) == []
    tests = [i for i, cell in enumerate(nbformat.read(release, 4).cells) if role(cell) == "tests"]
    assert tests, f"{chapter.id}: no visible test cells"
    shown = {i: lab.output_area(page, i).inner_text() for i in tests}
    silent = [i for i, text in shown.items() if "Traceback" not in text]
    assert not silent, f"visible tests that show no failure on the unsolved release: cells {silent}"
    assert any("NotImplementedError" in text for text in shown.values()), (
        "no visible test shows NotImplementedError on the unsolved release"
    )
    lab.wait_for_widgets(page)
    assert lab.unlabelled_buttons(page) == [], "buttons that show neither text nor an icon"
    lab.screenshot(page, f"{chapter.id}-release")


def test_validate_button_on_a_release(page: Any, lab_server: lab.LabServer):
    """nbgrader's Validate on an unsolved release: the failing tests are listed (one chapter:
    validating runs the notebook again, and the other chapters' runs add nothing here)."""
    chapter = CHAPTERS[0]
    name = lab.copy_into(lab_server, released(chapter), f"validate_{chapter.id}.ipynb")
    lab.open_notebook(page, lab_server, name)
    message = lab.validate(page)
    assert "validation-failed" in (message.get_attribute("class") or "")
    assert "NotImplementedError" in message.inner_text()
    lab.screenshot(page.locator(".jp-Dialog-content"), f"{chapter.id}-release-validate")
    lab.close_dialog(page)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.id)
def test_chapter_widgets(page: Any, lab_server: lab.LabServer, chapter: Chapter):
    released(chapter)
    lab.clean_artifacts(f"{chapter.id}-widget")
    name = f"solved_{chapter.id}.ipynb"
    lab.solved_notebook(chapter, lab_server.root_dir / name)
    lab.open_notebook(page, lab_server, name)
    lab.run_all_cells(page)

    assert lab.error_outputs(page) == {}, "cells fail with the reference solutions"
    views = lab.wait_for_widgets(page)
    actions = WIDGETS.get(chapter.id, [])
    explorers = views - lab.progress_bars(page)
    assert actions or explorers == 0, (
        f"{chapter.id} displays {explorers} widget(s) besides progress bars: declare their controls in "
        "WIDGETS in tests/browser/test_lab.py"
    )
    assert lab.unlabelled_buttons(page) == [], "buttons that show neither text nor an icon"
    for number, action in enumerate(actions, start=1):
        result = action(page)
        lab.screenshot(result.area, f"{chapter.id}-widget-{number}-{action.name}")
