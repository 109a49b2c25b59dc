"""Chapter 03's widgets, driven like a student would, on the reference solution's functions."""

import asyncio
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from autograder.authoring import solution_namespace
from helpers.explorers.mlp import (
    DATASETS,
    LEARNING_RATES,
    ActivationExplorer,
    DecisionBoundaryPlayground,
    activation_explorer,
    decision_boundary_playground,
    make_dataset,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(ROOT / "solutions" / "03_mlp.py")


# --------------------------------------------------------------------------- activation explorer


@pytest.fixture
def explorer(ns):
    return activation_explorer(
        ns["activations_for_explorer"],
        affine_forward=ns["affine_forward"],
        affine_backward=ns["affine_backward"],
        alpha={"leaky_relu": 0.1, "elu": 1.0, "prelu": 0.25},
        activation="sigmoid",
        depth=20,
    )


def test_activation_explorer_shows_function_and_derivative(explorer):
    assert isinstance(explorer, ActivationExplorer)
    s = explorer.state
    assert s["error"] is None and s["activation"] == "sigmoid"
    assert np.allclose(s["f"], 1 / (1 + np.exp(-s["x"])))
    assert abs(s["df"].max() - 0.25) < 1e-4  # sigma' peaks at 1/4, at x = 0
    assert explorer.controls["alpha"].disabled
    explorer.controls["activation"].value = "relu"
    s = explorer.state
    assert np.array_equal(s["df"], (s["x"] > 0).astype(float))
    assert np.array_equal(s["f"], np.maximum(s["x"], 0))


def test_alpha_slider_drives_the_parametric_activations(explorer):
    draws = explorer.view.n_draws
    explorer.controls["activation"].value = "leaky_relu"
    assert explorer.view.n_draws == draws + 1  # switching resets alpha with a single redraw
    assert not explorer.controls["alpha"].disabled
    assert explorer.state["alpha"] == 0.1
    assert np.isclose(explorer.state["f"][0], -0.5)  # x = -5, slope 0.1
    explorer.controls["alpha"].value = 0.3
    assert np.isclose(explorer.state["f"][0], -1.5) and np.isclose(explorer.state["df"][0], 0.3)
    explorer.controls["activation"].value = "elu"
    assert explorer.state["alpha"] == 1.0
    assert np.isclose(explorer.state["f"][0], np.expm1(-5.0))
    explorer.set(activation="prelu", alpha=0.5)
    assert np.isclose(explorer.state["f"][0], -2.5) and np.isclose(explorer.state["df"][0], 0.5)


def test_gradients_vanish_through_sigmoids_but_not_relus(explorer):
    explorer.set(activation="sigmoid", depth=20, scale=1.0)
    sigmoid = explorer.state
    assert len(sigmoid["grad_rms"]) == 20 and len(sigmoid["act_std"]) == 20
    assert sigmoid["ratio"] < 1e-6  # at most 1/4 per layer
    assert np.all(np.diff(sigmoid["grad_rms"]) > 0)  # smaller and smaller towards the bottom
    explorer.set(activation="relu", scale=1.4)
    relu = explorer.state
    assert 0.1 < relu["ratio"] < 10
    explorer.set(activation="tanh", scale=1.0)
    assert sigmoid["ratio"] < explorer.state["ratio"] < relu["ratio"]
    explorer.controls["depth"].value = 5
    assert len(explorer.state["grad_rms"]) == 5
    assert "bottom / at the top" in explorer.status.value


def test_activation_explorer_redraws_in_place(explorer):
    before, figure = plt.get_fignums(), explorer.view.figure
    png = explorer.view.widget.value
    for depth in (1, 7, 40):
        explorer.controls["depth"].value = depth
    assert explorer.view.widget.value != png
    assert plt.get_fignums() == before and explorer.view.figure is figure
    assert len(figure.axes) == 2


def test_activation_explorer_shows_errors(ns):
    def todo_forward(x):
        raise NotImplementedError()

    def todo_backward(dout, cache):
        raise NotImplementedError()

    explorer = activation_explorer(
        {"mine": (todo_forward, todo_backward), "relu": (ns["relu_forward"], ns["relu_backward"])},
        affine_forward=ns["affine_forward"], affine_backward=ns["affine_backward"])
    assert explorer.state["error"] == "todo_forward is not implemented yet"
    explorer.controls["activation"].value = "relu"
    assert explorer.state["error"] is None
    with pytest.raises(ValueError, match="empty"):
        activation_explorer({}, affine_forward=ns["affine_forward"], affine_backward=ns["affine_backward"])


# --------------------------------------------------------------------------- playground


@pytest.fixture
def playground(ns):
    return decision_boundary_playground(
        init=ns["init_mlp"], forward=ns["mlp_forward"], backward=ns["mlp_backward"],
        loss=ns["softmax_cross_entropy_loss"], activations=list(ns["ACTIVATIONS"]),
        dataset="moons", width=8, depth=2, activation="tanh", learning_rate=0.3,
    )


def test_datasets_are_standardised_two_class_problems():
    for name in DATASETS:
        X, y = make_dataset(name, 200, seed=1)
        assert X.shape == (200, 2) and y.shape == (200,)
        assert set(np.unique(y)) == {0, 1}
        assert np.allclose(X.mean(axis=0), 0, atol=1e-9) and np.allclose(X.std(axis=0), 1)
    with pytest.raises(KeyError):
        make_dataset("nope")


def test_playground_starts_untrained(playground):
    assert isinstance(playground, DecisionBoundaryPlayground)
    s = playground.state
    assert s["error"] is None and s["steps"] == 0 and s["losses"] == []
    assert s["sizes"] == (2, 8, 8, 2) and not s["running"]
    assert s["probability"].shape == (90, 90)
    assert playground.train_button.description == "▶ train"


def test_step_trains_and_updates_boundary_and_loss_curve(playground):
    draws = playground.view.n_draws
    first = playground.state["probability"].copy()
    playground.step_button.click()
    s = playground.state
    assert s["steps"] == 10 and len(s["losses"]) == 10
    assert playground.view.n_draws == draws + 1
    assert not np.allclose(s["probability"], first)
    for _ in range(40):
        playground.step()
    s = playground.state
    assert s["steps"] == 410
    assert s["losses"][-1] < 0.5 * s["losses"][0]
    assert s["accuracy"] > 0.9


def test_architecture_changes_restart_but_learning_rate_does_not(playground):
    for _ in range(3):
        playground.step()
    playground.controls["learning_rate"].value = 1.0
    assert playground.state["steps"] == 30 and playground.state["learning_rate"] == 1.0
    playground.step()
    assert playground.state["steps"] == 40
    playground.controls["width"].value = 3
    assert playground.state["steps"] == 0 and playground.state["sizes"] == (2, 3, 3, 2)
    playground.controls["depth"].value = 0
    assert playground.state["sizes"] == (2, 2)  # no hidden layer: a linear classifier
    playground.set(dataset="circles", depth=1, width=16, activation="relu")
    s = playground.state
    assert (s["dataset"], s["sizes"], s["activation"], s["steps"]) == ("circles", (2, 16, 2), "relu", 0)
    playground.step()
    playground.reset_button.click()
    assert playground.state["steps"] == 0
    assert set(LEARNING_RATES) >= {0.001, 0.3, 10.0}


def test_linear_model_cannot_fit_xor_but_a_hidden_layer_can(playground):
    playground.set(dataset="xor", depth=0, learning_rate=1.0)
    for _ in range(30):
        playground.step()
    linear = playground.state["accuracy"]
    playground.set(depth=1, width=8, activation="tanh")
    for _ in range(30):
        playground.step()
    assert linear < 0.75 < playground.state["accuracy"]


def test_train_toggle_runs_in_the_background_and_pauses(playground):
    async def scenario():
        playground.train_button.value = True  # what clicking "train" does
        assert playground.running and playground.train_button.description == "⏸ pause"
        await asyncio.sleep(0.4)
        assert playground.state["steps"] > 0  # trained while this coroutine was waiting
        playground.train_button.value = False
        await asyncio.sleep(0.1)
        steps = playground.state["steps"]
        await asyncio.sleep(0.2)
        return steps

    steps = asyncio.run(scenario())
    assert not playground.running and playground.state["steps"] == steps
    assert playground.train_button.description == "▶ train"


def test_pause_and_restart_at_once_leaves_one_training_loop(playground):
    async def scenario():
        playground.train_button.value = True
        await asyncio.sleep(0)
        playground.train_button.value = False  # pause and train again within one interval
        playground.train_button.value = True
        await asyncio.sleep(0.3)
        alive = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        running = playground.running
        playground.train_button.value = False
        await asyncio.sleep(0.1)
        return len(alive), running

    alive, running = asyncio.run(scenario())
    assert (alive, running) == (1, True)
    assert not playground.running


def test_training_stops_by_itself_at_max_steps(ns):
    pg = decision_boundary_playground(
        init=ns["init_mlp"], forward=ns["mlp_forward"], backward=ns["mlp_backward"],
        loss=ns["softmax_cross_entropy_loss"], activations=["relu"], max_steps=30, interval=0.0)

    async def scenario():
        pg.start()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not pg.running:
                break

    asyncio.run(scenario())
    assert pg.state["steps"] == 30 and not pg.running and not pg.train_button.value


def test_start_without_an_event_loop_trains_a_few_bursts(playground):
    playground.start()
    assert playground.state["steps"] == 100 and not playground.running


def test_divergence_and_student_errors_are_reported(ns):
    def nan_loss(scores, y):
        return float("nan"), np.zeros_like(scores)

    pg = decision_boundary_playground(
        init=ns["init_mlp"], forward=ns["mlp_forward"], backward=ns["mlp_backward"],
        loss=nan_loss, activations=["relu"])
    pg.step()
    assert pg.state["diverged"] and pg.state["steps"] == 1 and "diverged" in pg.status.value
    pg.step()
    assert pg.state["steps"] == 1

    def todo_backward(dscores, cache):
        raise NotImplementedError()

    pg = decision_boundary_playground(
        init=ns["init_mlp"], forward=ns["mlp_forward"], backward=todo_backward,
        loss=ns["softmax_cross_entropy_loss"], activations=["relu"])
    pg.step()
    assert pg.state["error"] == "todo_backward is not implemented yet"
    assert "not implemented" in pg.status.value
    with pytest.raises(ValueError, match="learning_rate"):
        decision_boundary_playground(init=ns["init_mlp"], forward=ns["mlp_forward"],
                                     backward=ns["mlp_backward"], loss=nan_loss,
                                     activations=["relu"], learning_rate=0.25)


def test_playground_redraws_in_place(playground):
    before, figure = plt.get_fignums(), playground.view.figure
    for _ in range(5):
        playground.step()
    playground.set(dataset="spiral")
    playground.step()
    assert plt.get_fignums() == before and playground.view.figure is figure
    assert len(figure.axes) == 2
