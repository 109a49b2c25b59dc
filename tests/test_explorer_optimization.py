"""The chapter-05 explorers driven from tests: set controls, check what is drawn.

The optimizers given to the explorer here are thin adapters around ``torch.optim`` with the
chapter's interface (``Cls(params, lr=..., ...)``, ``step(grads)`` updating numpy arrays in
place), so these tests depend neither on the notebook nor on its reference solution.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
import torch

from helpers.explorers.optimization import (
    SURFACES,
    InitializationExplorer,
    OptimizerExplorer,
    initialization_explorer,
    lr_values,
    optimizer_explorer,
    run_trajectory,
)


def torch_adapter(torch_cls, rename=None, **fixed):
    """A class with the chapter's optimizer interface, backed by ``torch_cls``."""
    rename = rename or {}

    class Adapter:
        def __init__(self, params, lr, **hyper):
            self.params = params
            self.tensors = {k: torch.from_numpy(v) for k, v in params.items()}  # shares memory
            kwargs = {rename.get(k, k): v for k, v in hyper.items()}
            self.opt = torch_cls(list(self.tensors.values()), lr=lr, **fixed, **kwargs)

        @property
        def lr(self):
            return self.opt.param_groups[0]["lr"]

        @lr.setter
        def lr(self, value):
            for group in self.opt.param_groups:
                group["lr"] = value

        def step(self, grads):
            for k, t in self.tensors.items():
                t.grad = torch.from_numpy(np.array(grads[k], dtype=np.float64))
            self.opt.step()

    Adapter.__name__ = torch_cls.__name__
    return Adapter


SGD = torch_adapter(torch.optim.SGD)
MOMENTUM = torch_adapter(torch.optim.SGD)
NESTEROV = torch_adapter(torch.optim.SGD, nesterov=True)
ADAGRAD = torch_adapter(torch.optim.Adagrad)
RMSPROP = torch_adapter(torch.optim.RMSprop)
ADAM = torch_adapter(torch.optim.Adam)


def clip(grads, max_norm):
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values(), strict=True):
        t.grad = torch.from_numpy(g)  # shares memory: clipped in place
    return float(torch.nn.utils.clip_grad_norm_(tensors, max_norm))


def all_optimizers(**options):
    return optimizer_explorer(sgd=SGD, momentum=MOMENTUM, nesterov=NESTEROV, adagrad=ADAGRAD,
                              rmsprop=RMSPROP, adam=ADAM, clip_grad_norm=clip, **options)


@pytest.fixture
def explorer() -> OptimizerExplorer:
    return all_optimizers(surface="ravine", optimizers=("SGD", "momentum", "Adam"), lr=0.1)


# --------------------------------------------------------------------------- surfaces and runner


@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_gradients_match_finite_differences(name):
    surface = SURFACES[name]
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = np.array([rng.uniform(*surface.xlim), rng.uniform(*surface.ylim)])
        numeric = np.array([(surface.value(w + h) - surface.value(w - h)) / 2e-6
                            for h in (np.array([1e-6, 0.0]), np.array([0.0, 1e-6]))])
        np.testing.assert_allclose(surface.gradient(w), numeric, rtol=1e-5, atol=1e-6)
    for minimum in surface.minima:
        np.testing.assert_allclose(surface.gradient(np.array(minimum)), 0.0, atol=1e-6)
        assert surface.value(np.array(minimum)) == pytest.approx(surface.f_min, abs=1e-9)
    gx, gy, z = surface.grid(50)
    assert z.min() >= surface.f_min - 1e-9


def test_run_trajectory_is_gradient_descent_for_sgd():
    traj = run_trajectory(lambda p: SGD(p, lr=0.3), "bowl", (1.0, -2.0), steps=10)
    expected = np.array([(1.0 - 0.3) ** t * np.array([1.0, -2.0]) for t in range(11)])
    np.testing.assert_allclose(traj.points, expected, rtol=1e-12)
    np.testing.assert_allclose(traj.losses, 0.5 * np.sum(expected**2, axis=1), rtol=1e-12)
    assert traj.diverged_at is None and traj.error is None


def test_run_trajectory_marks_divergence_at_the_stability_limit():
    # On the bowl (curvature 1) gradient descent is stable for lr < 2 and diverges above.
    assert run_trajectory(lambda p: SGD(p, lr=1.9), "bowl", steps=300).diverged_at is None
    diverged = run_trajectory(lambda p: SGD(p, lr=2.2), "bowl", steps=300)
    assert diverged.diverged_at is not None and diverged.diverged_at < 300
    assert len(diverged.points) == diverged.diverged_at + 1  # the run stopped there


def test_run_trajectory_with_schedule_clipping_and_noise():
    lrs = []

    class Recorder(SGD):
        def step(self, grads):
            lrs.append(self.lr)
            super().step(grads)

    run_trajectory(lambda p: Recorder(p, lr=1.0), "bowl", steps=5, schedule=lambda t: 0.1 * (t + 1))
    assert lrs == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    clipped = run_trajectory(lambda p: SGD(p, lr=1.0), "cliff", steps=40, clip=1.0, clip_fn=clip)
    assert clipped.error is None and len(clipped.points) == 41
    steps = np.linalg.norm(np.diff(clipped.points, axis=0), axis=1)
    assert steps.max() <= 1.0 + 1e-9
    noisy = [run_trajectory(lambda p: SGD(p, lr=0.1), "bowl", steps=20, noise=0.5, seed=3) for _ in range(2)]
    np.testing.assert_array_equal(noisy[0].points, noisy[1].points)  # seeded: reproducible
    clean = run_trajectory(lambda p: SGD(p, lr=0.1), "bowl", steps=20)
    assert not np.allclose(noisy[0].points, clean.points)


def test_run_trajectory_reports_a_failing_optimizer():
    class Stub:
        def __init__(self, params, lr):
            raise NotImplementedError()

    class Broken:
        def __init__(self, params, lr):
            self.params = params

        def step(self, grads):
            raise ValueError("shapes do not match")

    stub = run_trajectory(lambda p: Stub(p, lr=0.1), "bowl", steps=5)
    assert stub.error is not None and "not implemented" in stub.error
    broken = run_trajectory(lambda p: Broken(p, lr=0.1), "bowl", steps=5)
    assert "ValueError" in broken.error and len(broken.points) == 1


def test_lr_values_are_one_two_five_per_decade():
    assert lr_values(-2, 0) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]


# --------------------------------------------------------------------------- the optimizer explorer


def test_explorer_draws_the_chosen_optimizers(explorer):
    state = explorer.state
    assert state["surface"] == "ravine" and state["optimizers"] == ("SGD", "momentum", "Adam")
    assert set(state["trajectories"]) == {"SGD", "momentum", "Adam"}
    assert state["diverged"] == {"SGD": None, "momentum": None, "Adam": None}
    assert explorer.view.widget.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(explorer.widget, widgets.VBox)
    assert explorer.view.widget in explorer.widget.children
    # The trajectories are the torch optimizers' own: momentum on the ravine beats plain SGD.
    assert state["final_loss"]["momentum"] < state["final_loss"]["SGD"]
    traj = state["trajectories"]["SGD"]
    assert traj.points.shape == (state["steps"] + 1, 2)
    np.testing.assert_allclose(traj.points[0], SURFACES["ravine"].start)


def test_moving_the_learning_rate_slider_redraws_in_place(explorer):
    figure, n_axes, draws = explorer.view.figure, len(explorer.view.figure.axes), explorer.view.n_draws
    png = explorer.view.widget.value
    before = explorer.state["trajectories"]["SGD"].points
    explorer.controls["lr"].value = 0.5  # as a user would
    assert explorer.view.n_draws == draws + 1
    assert explorer.state["lr"] == 0.5
    assert not np.allclose(explorer.state["trajectories"]["SGD"].points[1:3], before[1:3])
    assert explorer.view.widget.value != png
    for value in (0.01, 0.02, 0.05):
        explorer.controls["lr"].value = value
    assert explorer.view.figure is figure and len(figure.axes) == n_axes  # no stacked figures
    assert explorer.controls["lr"].options == tuple((label, v) for label, v in explorer.controls["lr"].options)


def test_divergence_is_detected_and_shown(explorer):
    explorer.set(surface="bowl", optimizers=("SGD", "momentum"), lr=5.0, steps=100)
    assert explorer.state["diverged"]["SGD"] is not None
    assert "diverged" in explorer.state["status"]
    ax_path, ax_loss = explorer.view.axes
    assert any("diverged" in t.get_text() for t in ax_path.get_legend().get_texts())
    assert any("diverged" in t.get_text() for t in ax_loss.texts)
    explorer.set(lr=1.0)
    assert explorer.state["diverged"] == {"SGD": None, "momentum": None}
    assert explorer.state["final_loss"]["SGD"] < 1e-12  # lr = 1/curvature: one step to the minimum


def test_changing_the_surface_moves_the_start(explorer):
    explorer.controls["surface"].value = "saddle"  # as a user would: one redraw, start reset
    assert explorer.state["surface"] == "saddle"
    assert explorer.state["start"] == pytest.approx(SURFACES["saddle"].start)
    assert (explorer.controls["x0"].value, explorer.controls["y0"].value) == pytest.approx(SURFACES["saddle"].start)
    explorer.set(surface="rosenbrock")
    assert explorer.state["start"] == pytest.approx(SURFACES["rosenbrock"].start)
    explorer.set(surface="bowl", x0=1.0, y0=0.5)  # an explicit start wins
    assert explorer.state["start"] == pytest.approx((1.0, 0.5))
    explorer.controls["y0"].value = -1.0
    assert explorer.state["start"] == pytest.approx((1.0, -1.0))


def test_several_optimizers_side_by_side_and_their_constants(explorer):
    explorer.set(surface="plateau", optimizers=tuple(explorer.factories), lr=0.1, steps=80)
    assert set(explorer.state["trajectories"]) == {"SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"}
    losses = explorer.state["final_loss"]
    assert losses["Adam"] < 0.01 < losses["SGD"]  # Adam crosses the plateau, SGD is stuck
    momentum_before = explorer.state["trajectories"]["momentum"].points.copy()
    adam_before = explorer.state["trajectories"]["Adam"].points.copy()
    explorer.controls["beta1"].value = 0.5
    assert not np.allclose(explorer.state["trajectories"]["momentum"].points, momentum_before)
    assert not np.allclose(explorer.state["trajectories"]["Adam"].points, adam_before)
    rms_before = explorer.state["trajectories"]["RMSProp"].points.copy()
    explorer.controls["beta2"].value = 0.9
    assert not np.allclose(explorer.state["trajectories"]["RMSProp"].points, rms_before)
    explorer.controls["steps"].value = 20
    assert all(len(t.points) == 21 for t in explorer.state["trajectories"].values())


def test_clipping_tames_the_cliff(explorer):
    explorer.set(surface="cliff", optimizers=("SGD",), lr=1.0, steps=40)
    wild = explorer.state["trajectories"]["SGD"].points
    assert wild[:, 0].min() < -5  # catapulted far out of the window
    explorer.controls["clip"].value = 1.0
    tame = explorer.state["trajectories"]["SGD"].points
    assert tame[:, 0].min() > SURFACES["cliff"].xlim[0]
    assert explorer.state["clip"] == 1.0


def test_gradient_noise_control(explorer):
    explorer.set(surface="bowl", optimizers=("SGD",), lr=0.1, steps=200)
    assert explorer.state["final_loss"]["SGD"] < 1e-6
    explorer.controls["noise"].value = 0.5
    assert explorer.state["final_loss"]["SGD"] > 1e-4  # constant lr + noise: no convergence


def test_explorer_shows_errors_of_unfinished_optimizers():
    class Stub:
        def __init__(self, params, lr, **hyper):
            raise NotImplementedError()

    ex = optimizer_explorer(sgd=SGD, adam=Stub, optimizers=("SGD", "Adam"))
    assert ex.state["errors"] == {"Adam": "Stub is not implemented yet"}
    assert ex.state["diverged"]["SGD"] is None
    assert "not implemented" in ex.state["status"]
    assert "clip" not in ex.controls  # no clipping function given: no control


def test_explorer_rejects_unknown_optimizers():
    with pytest.raises(ValueError, match="unknown optimizers"):
        optimizer_explorer(sgd=SGD, optimizers=("Adam",))
    with pytest.raises(ValueError):
        OptimizerExplorer({})


# --------------------------------------------------------------------------- the initialization explorer


def _xavier(n_in, n_out, rng, distribution="normal"):
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


def _kaiming(n_in, n_out, rng, distribution="normal"):
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


@pytest.fixture
def init_explorer() -> InitializationExplorer:
    return initialization_explorer(xavier=_xavier, kaiming=_kaiming, scheme="Kaiming",
                                   activation="ReLU", depth=10, width=128)


def test_initialization_explorer_statistics(init_explorer):
    state = init_explorer.state
    assert state["error"] is None and len(state["act_std"]) == 10 and len(state["grad_std"]) == 10
    assert 0.5 < state["act_std"][-1] / state["act_std"][0] < 2.0  # Kaiming keeps ReLU at scale
    assert 0.3 < state["flat_fraction"][-1] < 0.7  # about half of the ReLUs are zero
    init_explorer.controls["scheme"].value = "N(0, 0.01²)"
    assert init_explorer.state["act_std"][-1] < 1e-10  # the signal vanishes
    assert init_explorer.state["grad_std"][0] < 1e-8 * init_explorer.state["grad_std"][-1]
    init_explorer.set(scheme="N(0, 1)", activation="tanh")
    assert init_explorer.state["flat_fraction"].mean() > 0.5  # saturated tanh units
    init_explorer.set(scheme="Xavier", activation="tanh")
    assert init_explorer.state["flat_fraction"].mean() < 0.05
    init_explorer.controls["depth"].value = 4
    assert len(init_explorer.state["act_std"]) == 4


def test_initialization_explorer_redraws_in_place(init_explorer):
    figure, draws, png = init_explorer.view.figure, init_explorer.view.n_draws, init_explorer.view.widget.value
    init_explorer.controls["width"].value = 32
    init_explorer.controls["activation"].value = "sigmoid"
    assert init_explorer.view.n_draws == draws + 2
    assert init_explorer.view.figure is figure and len(figure.axes) == 3
    assert init_explorer.view.widget.value != png
    assert init_explorer.state["width"] == 32 and init_explorer.state["activation"] == "sigmoid"


def test_initialization_explorer_reports_errors():
    def stub(n_in, n_out, rng, distribution="normal"):
        raise NotImplementedError()

    def wrong_shape(n_in, n_out, rng, distribution="normal"):
        return np.zeros((n_out + 1, n_in))

    ex = initialization_explorer(xavier=stub, kaiming=wrong_shape, scheme="Xavier")
    assert "not implemented" in ex.state["error"]
    ex.controls["scheme"].value = "Kaiming"
    assert "shape" in ex.state["error"]
    ex.controls["scheme"].value = "N(0, 1)"
    assert ex.state["error"] is None


def test_weight_decay_control_pulls_the_end_point_towards_the_origin(explorer):
    explorer.set(surface="bowl", optimizers=("SGD", "Adam"), lr=0.1, steps=200, x0=1.0, y0=1.0)
    assert explorer.state["weight_decay"] == 0.0
    free = {n: t.points[-1] for n, t in explorer.state["trajectories"].items()}
    explorer.controls["weight_decay"].value = 0.1
    assert explorer.state["weight_decay"] == 0.1
    for name, traj in explorer.state["trajectories"].items():
        # bowl (w²/2) plus decay: gradient descent shrinks by (1 - lr (1 + wd)) per step
        assert np.linalg.norm(traj.points[-1]) < np.linalg.norm(free[name]) or np.allclose(free[name], 0), name
    sgd = explorer.state["trajectories"]["SGD"].points
    np.testing.assert_allclose(sgd[1], (1 - 0.1 * 1.1) * np.array([1.0, 1.0]), rtol=1e-12)


def test_classes_without_weight_decay_still_run_when_it_is_off():
    class Plain:
        def __init__(self, params, lr):
            self.params, self.lr = params, lr

        def step(self, grads):
            for key, grad in grads.items():
                self.params[key] -= self.lr * grad

    ex = optimizer_explorer(sgd=Plain, optimizers=("SGD",), surface="bowl", lr=0.1)
    assert ex.state["errors"] == {} and ex.state["final_loss"]["SGD"] < 1e-3
    ex.controls["weight_decay"].value = 0.01
    assert "SGD" in ex.state["errors"]  # the class takes no weight_decay: shown, not raised
