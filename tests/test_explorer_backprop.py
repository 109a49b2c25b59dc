"""The computation-graph stepper of chapter 02, driven like a student would, on the reference engine."""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from autograder.authoring import solution_namespace
from helpers.explorers.backprop import GraphStepper, graph_stepper

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "02_backprop.py")


@pytest.fixture
def stepper(ns):
    return graph_stepper(
        {"fan-out": ns["fan_out_graph"], "neuron": ns["neuron_graph"], "logistic": ns["logistic_graph"]},
        topological_order=ns["topological_order"],
        backward=ns["backward"],
    )


def test_starts_with_the_bare_graph(stepper):
    assert isinstance(stepper, GraphStepper)
    s = stepper.state
    assert (s["graph"], s["step"], s["phase"], s["error"]) == ("fan-out", 0, "start", None)
    assert s["n_nodes"] == 5  # a, b, a*b, a*b + a, (a*b + a)*a
    assert s["shown_values"] == {} and s["shown_grads"] == {}
    assert stepper.controls["step"].max == 10
    assert stepper.view.widget.value  # a PNG is shown


def test_forward_steps_reveal_values_in_topological_order(stepper, ns):
    draws, png = stepper.view.n_draws, stepper.view.widget.value
    stepper.next_button.click()
    s = stepper.state
    assert (s["step"], s["phase"], s["current"]) == (1, "forward", 0)
    assert len(s["shown_values"]) == 1
    assert stepper.view.n_draws == draws + 1 and stepper.view.widget.value != png
    stepper.go(5)
    s = stepper.state
    assert s["phase"] == "forward" and s["current"] == 4
    assert sorted(s["shown_values"].values()) == [2.0, 3.0, 6.0, 8.0, 16.0]
    assert s["shown_grads"] == {}
    assert "= 16" in s["status"]


def test_backward_steps_reveal_gradients_from_the_output_back(stepper):
    stepper.go(6)  # first backward step: the root
    s = stepper.state
    assert s["phase"] == "backward" and s["current"] == s["n_nodes"] - 1
    assert s["shown_grads"] == {4: 1.0}
    stepper.prev_button.click()
    assert stepper.state["phase"] == "forward" and stepper.state["shown_grads"] == {}
    stepper.end_button.click()
    s = stepper.state
    assert s["phase"] == "done" and len(s["shown_grads"]) == 5
    grads = {name: s["shown_grads"][i] for i, name in enumerate(s["names"])}
    assert grads["a"] == 16.0 and grads["b"] == 4.0  # L = a^2 b + a^2 at a = 2, b = 3
    stepper.start_button.click()
    assert stepper.state["phase"] == "start"


def test_buttons_stay_within_the_steps(stepper):
    stepper.prev_button.click()
    assert stepper.state["step"] == 0
    stepper.end_button.click()
    stepper.next_button.click()
    assert stepper.state["step"] == 10


def test_switching_graphs_rebuilds_and_restarts(stepper):
    stepper.go(7)
    stepper.controls["graph"].value = "logistic"
    s = stepper.state
    assert s["graph"] == "logistic" and s["step"] == 0 and s["phase"] == "start"
    assert s["n_nodes"] == 18
    assert stepper.controls["step"].max == 36
    stepper.set(graph="neuron", step=3)
    assert stepper.state["graph"] == "neuron" and stepper.state["step"] == 3
    stepper.end_button.click()
    assert stepper.state["step"] == 2 * stepper.state["n_nodes"]


def test_logistic_graph_shows_prediction_minus_target(stepper):
    stepper.set(graph="logistic")
    stepper.end_button.click()
    s = stepper.state
    index = s["names"].index("z (+)")
    p = 1 / (1 + 2.718281828459045 ** -0.1)  # z = 0.5 * 1 + 0.25 * -2 + 0.1
    assert abs(s["shown_grads"][index] - (p - 1.0)) < 1e-9


def test_updates_redraw_in_place_without_new_figures(stepper):
    before = plt.get_fignums()
    figure = stepper.view.figure
    for step in range(11):
        stepper.go(step)
    stepper.set(graph="logistic", step=20)
    assert plt.get_fignums() == before
    assert stepper.view.figure is figure and len(figure.axes) == 1


def test_errors_of_the_students_code_are_shown_not_raised(ns):
    def backward_todo(root):
        raise NotImplementedError()

    stepper = graph_stepper({"fan-out": ns["fan_out_graph"]},
                            topological_order=ns["topological_order"], backward=backward_todo)
    assert stepper.state["error"] == "backward_todo is not implemented yet"
    assert "not implemented" in stepper.status.value
    stepper.next_button.click()  # nothing to step through, but no exception either
    assert stepper.state["phase"] == "error"


def test_a_wrong_engine_is_shown_as_it_is(ns):
    topo = ns["topological_order"]

    def doubled_order(root):
        order = topo(root)
        return order + order[:1]  # a duplicate, and the root no longer last

    def no_backward(root):
        pass

    stepper = graph_stepper({"fan-out": ns["fan_out_graph"]}, topological_order=doubled_order,
                            backward=no_backward)
    assert stepper.state["n_nodes"] == 5
    assert "root last" in stepper.status.value
    stepper.end_button.click()
    assert set(stepper.state["shown_grads"].values()) == {0.0}


def test_empty_graph_dict_is_rejected(ns):
    with pytest.raises(ValueError, match="empty"):
        graph_stepper({}, topological_order=ns["topological_order"], backward=ns["backward"])


def font_awesome_icons() -> str:
    """The Font Awesome CSS that JupyterLab ships (the icons a widget button can show)."""
    static = Path(sys.prefix) / "share" / "jupyter" / "lab" / "static"
    return "".join(path.read_text(errors="ignore") for path in static.glob("*.js")
                   if "fa-step-forward" in path.read_text(errors="ignore"))


def test_buttons_show_icons_that_jupyterlab_ships(stepper):
    """Symbols such as ⏮ are missing from common fonts (empty boxes): each button shows a Font
    Awesome icon of JupyterLab's, or plain text, and says what it does in its tooltip."""
    css = font_awesome_icons()
    buttons = [stepper.start_button, stepper.prev_button, stepper.next_button, stepper.end_button]
    for button in buttons:
        assert button.tooltip
        if button.icon:
            assert f".fa-{button.icon}:before" in css, f"JupyterLab has no Font Awesome icon {button.icon!r}"
        else:
            assert button.description.isascii() and button.description.strip(), button.description
    assert len({b.icon or b.description for b in buttons}) == len(buttons)
