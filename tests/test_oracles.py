"""helpers.oracles: the torch oracles accept correct code and reject each kind of mistake with a
message that says what is wrong; the calls they make leave fingerprints of what the caller sees."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from helpers import testing
from helpers.oracles import (
    OptimizerRun,
    follow_torch_ema,
    follow_torch_optimizer,
    follow_torch_schedule,
    sample_gradient,
    sample_start,
    snapshot,
    update_in_place,
)


def fails(pattern: str):
    return pytest.raises(AssertionError, match=pattern)


# --------------------------------------------------------------------------- optimizers for the tests


class GoodSGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params, self.lr, self.momentum, self.weight_decay = params, lr, momentum, weight_decay
        self.velocity = {k: np.zeros_like(w) for k, w in params.items()}

    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name] + self.weight_decay * w
            v = self.velocity[name]
            v *= self.momentum
            v += g
            w -= self.lr * v


class Ascent(GoodSGD):
    def step(self, grads):
        for name, w in self.params.items():
            w += self.lr * grads[name]


class Replacing(GoodSGD):
    def step(self, grads):
        for name, w in self.params.items():
            self.params[name] = w - self.lr * grads[name]


class ChangesGrads(GoodSGD):
    def step(self, grads):
        for name, w in self.params.items():
            g = grads[name]
            g += self.weight_decay * w
            w -= self.lr * g


class FrozenLR(GoodSGD):
    def __init__(self, params, lr, **kwargs):
        super().__init__(params, lr, **kwargs)
        self._lr = lr

    def step(self, grads):
        for name, w in self.params.items():
            w -= self._lr * (grads[name] + self.weight_decay * w)


class DrawsGlobally(GoodSGD):
    def step(self, grads):
        super().step({k: g + 0.0 * np.random.normal() for k, g in grads.items()})


def test_optimizer_run_steps_and_returns_copies_of_the_callers_arrays():
    params = {"w": np.array([1.0, 2.0])}
    run = OptimizerRun(GoodSGD, params, lr=0.5)
    after = run.step({"w": np.array([1.0, -1.0])})
    np.testing.assert_allclose(after["w"], [0.5, 2.5])
    np.testing.assert_allclose(params["w"], [0.5, 2.5])
    assert after["w"] is not params["w"]  # a copy: later steps do not change it
    run.lr = 0.1
    assert run.optimizer.lr == 0.1 and run.lr == 0.1
    run.step({"w": np.array([1.0, 1.0])})
    np.testing.assert_allclose(after["w"], [0.5, 2.5])


def test_optimizer_run_rejects_replaced_arrays_changed_grads_and_global_draws():
    with fails(r"Replacing\.step replaced params\['w'\] by a new array at step 1"):
        OptimizerRun(Replacing, {"w": np.ones(2)}, lr=0.1).step({"w": np.ones(2)})
    with fails(r"ChangesGrads\.step changed its argument `grads`\['w'\] in place"):
        OptimizerRun(ChangesGrads, {"w": np.ones(2)}, lr=0.1, weight_decay=0.5).step({"w": np.ones(2)})
    with fails("drew random numbers from the global generator"):
        OptimizerRun(DrawsGlobally, {"w": np.ones(2)}, lr=0.1).step({"w": np.ones(2)})


def test_optimizer_run_reports_an_unimplemented_step():
    class Stub(GoodSGD):
        def step(self, grads):
            raise NotImplementedError()

    with fails("step is not implemented yet"):
        OptimizerRun(Stub, {"w": np.ones(1)}, lr=0.1).step({"w": np.ones(1)})


def test_fingerprints_hold_the_parameters_not_the_private_state():
    """Two correct optimizers with different attribute names leave the same record; a wrong
    update leaves another one, and the replaced-array mistake is visible too."""

    class Renamed(GoodSGD):
        def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
            super().__init__(params, lr, momentum, weight_decay)
            self.my_own_velocity_name = self.__dict__.pop("velocity")
            self.velocity = self.my_own_velocity_name

    def record(cls):
        testing.reset_record()
        run = OptimizerRun(cls, {"w": np.array([1.0, 2.0])}, lr=0.1, momentum=0.5)
        with contextlib.suppress(AssertionError):
            for _ in range(2):
                run.step({"w": np.array([0.3, -0.2])})
        return [fp for _, fp in testing._RECORD], [name for name, _ in testing._RECORD]

    good, names = record(GoodSGD)
    assert names == ["GoodSGD", "GoodSGD.step", "GoodSGD.step"]
    assert record(Renamed)[0] == good
    assert record(Ascent)[0][1] != good[1]
    assert record(Replacing)[0][1] != good[1]


def test_follow_torch_optimizer_accepts_a_correct_optimizer_and_returns_the_final_parameters():
    final = follow_torch_optimizer(GoodSGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, torch.optim.SGD,
                                   steps=40)
    assert set(final) == set(sample_start())
    follow_torch_optimizer(GoodSGD, {"lr": 0.05}, torch.optim.SGD, steps=100, resync=False, scale=1e3,
                           rtol=1e-8)


@pytest.mark.parametrize(("cls", "message"), [
    (Ascent, r"Ascent\(lr=0\.05, weight_decay=0\.1\): params\['a'\] after step 1 \(torch\.optim agrees\)"),
    (FrozenLR, r"after step 6 \(torch\.optim agrees\)"),  # wrong only once lr changes (after 5 of 10 steps)
    (Replacing, r"replaced params\['a'\]"),
    (ChangesGrads, r"changed its argument `grads`\['a'\] in place"),
])
def test_follow_torch_optimizer_names_the_mistake(cls, message):
    with fails(message):
        follow_torch_optimizer(cls, {"lr": 0.05, "weight_decay": 0.1}, torch.optim.SGD, steps=10)


def test_follow_torch_optimizer_compares_every_shape_and_does_not_modify_the_start():
    start = {"x": np.linspace(-1, 1, 6).reshape(2, 3), "y": np.array([0.5])}
    before = snapshot(start)
    follow_torch_optimizer(GoodSGD, {"lr": 0.1}, torch.optim.SGD, start=start, steps=5,
                           grad_fn=lambda name, w: 2.0 * w)
    for k in start:
        np.testing.assert_array_equal(start[k], before[k])
    with fails(r"^different rates: params\['x'\] after step 1"):
        follow_torch_optimizer(GoodSGD, {"lr": 0.1}, torch.optim.SGD, {"lr": 0.2}, start=start, steps=5,
                               grad_fn=lambda name, w: 2.0 * w, lr_change=None, label="different rates")


def test_sample_gradient_has_its_minimum_away_from_zero():
    start = sample_start(1)
    assert {k: v.shape for k, v in start.items()} == {"a": (3,), "W": (3, 4), "s": (1, 1, 1)}
    for name, w in start.items():
        assert sample_gradient(name, w).shape == w.shape
        assert np.all(sample_gradient(name, np.zeros_like(w)) < 0)  # the minimum lies at w > 0


# --------------------------------------------------------------------------- update_in_place


def clip(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        g *= min(1.0, max_norm / (total + 1e-6))
    return total


def clip_copies(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for k in grads:
        grads[k] = grads[k] * min(1.0, max_norm / (total + 1e-6))
    return total


def test_update_in_place_returns_the_result_and_allows_the_named_argument_to_change():
    grads = {"a": np.array([3.0, 4.0])}
    assert update_in_place(clip, "grads", grads, 1.0) == 5.0
    np.testing.assert_allclose(grads["a"], [3.0 / 5.000001, 4.0 / 5.000001])


def test_update_in_place_rejects_new_arrays_and_changes_of_other_arguments():
    with fails(r"clip_copies replaced grads\['a'\] by a new array"):
        update_in_place(clip_copies, "grads", {"a": np.array([3.0, 4.0])}, 1.0)

    def scales_params(avg, params, decay):
        for k, a in avg.items():
            params[k] *= 1.0 - decay
            a *= decay
            a += params[k]

    with fails(r"changed its argument `params`\['w'\] in place"):
        update_in_place(scales_params, "avg", {"w": np.ones(2)}, {"w": np.ones(2)}, 0.5)


def test_update_in_place_fingerprint_tells_copies_from_in_place_updates():
    def fingerprint(fn):
        testing.reset_record()
        with contextlib.suppress(AssertionError):
            update_in_place(fn, "grads", {"a": np.array([3.0, 4.0])}, 1.0)
        return testing._RECORD[-1]

    assert fingerprint(clip)[0] == "clip" and fingerprint(clip_copies)[0] == "clip_copies"
    assert fingerprint(clip)[1] != fingerprint(clip_copies)[1]


# --------------------------------------------------------------------------- schedules and EMA


def test_follow_torch_schedule_accepts_a_correct_schedule_and_names_a_wrong_one():
    def step_lr(t, lr0, step_size, gamma=0.1):
        return float(lr0 * gamma ** (t // step_size))

    make = lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)  # noqa: E731
    follow_torch_schedule(step_lr, lambda t: (t, 0.2, 3, 0.5), make, 0.2, 12)
    wrong = _named("step_lr", lambda t, lr0, s, g: float(lr0 * g ** ((t + 1) // s)))
    with fails(r"step_lr\(2, 0\.2, 3, 0\.5\) \(torch: step 2\)"):
        follow_torch_schedule(wrong, lambda t: (t, 0.2, 3, 0.5), make, 0.2, 12)
    with fails("should return a Python float, got int"):
        follow_torch_schedule(_named("step_lr", lambda t, lr0, s, g: 1), lambda t: (t, 1, 3, 0.5), make, 1.0, 3)


def _named(name, fn):
    fn.__name__ = fn.__qualname__ = name
    return fn


def ema(avg, params, decay):
    for name, a in avg.items():
        a *= decay
        a += (1.0 - decay) * params[name]


def test_follow_torch_ema_accepts_a_correct_average():
    final = follow_torch_ema(ema, 0.9, steps=10)
    assert set(final) == {"W", "b", "s"}
    follow_torch_ema(ema, 0.0, steps=3)
    follow_torch_ema(ema, 1.0, shapes={"x": (2, 2, 2)}, steps=5)


def test_follow_torch_ema_rejects_swapped_decay_and_new_arrays():
    def swapped(avg, params, decay):
        for name, a in avg.items():
            a *= 1.0 - decay
            a += decay * params[name]

    def rebinds(avg, params, decay):
        for name in avg:
            avg[name] = decay * avg[name] + (1.0 - decay) * params[name]

    with fails(r"avg\['W'\] after 2 steps of an EMA with decay=0\.9"):
        follow_torch_ema(swapped, 0.9)
    with fails(r"rebinds replaced avg\['W'\] by a new array"):
        follow_torch_ema(rebinds, 0.9)
