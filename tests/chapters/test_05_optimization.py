"""Chapter 05: the reference agrees with PyTorch and scipy, and the notebook's claims hold.

The reference implementations come from executing the chapter's source (tests cells
excepted). Every optimizer is run for many steps next to the matching ``torch.optim``
optimizer (``helpers.oracles``), on parameters of several shapes, with weight decay and a
learning-rate change half-way; both runs follow their own trajectories, so any difference
compounds. The experiments' statements in the prose (ravine, saddle, plateau, cliff, the race,
grid versus random search, the averaged weights, L-BFGS against scipy, the deep network with
batch norm) and the concept checks' answers are checked against what the code computes.
Mutants, release sync and the tests cells themselves are checked course-wide
(``autograder validate``, tests/test_chapters.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from autograder.authoring import read_source, role, solution_namespace
from autograder.course import Chapter
from autograder.library import library_module
from helpers.oracles import follow_torch_ema, follow_torch_optimizer, follow_torch_schedule

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = Chapter("05_optimization", "Optimization", 60, ROOT)


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(CHAPTER.source)


# --------------------------------------------------------------------------- optimizers vs torch.optim

SHAPES = {"W": (4, 3), "b": (3,), "s": (1,)}


def grad_fn(name, w):
    """Gradient of a smooth non-convex loss, different per parameter, with its minimum near 4:
    far enough from the start that the adaptive methods are still travelling after 300 steps
    (near a minimum their sign-like steps would amplify rounding differences)."""
    c = {"W": 1.5, "b": 0.7, "s": 2.0}[name]
    return c * (w - 4.0) + 0.5 * np.sin(3.0 * w)


OPTIMIZERS = [
    ("SGD", dict(lr=0.05), dict(lr=0.05), torch.optim.SGD),
    ("SGD", dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, weight_decay=0.1), torch.optim.SGD),
    ("SGDMomentum", dict(lr=0.02, momentum=0.9), dict(lr=0.02, momentum=0.9), torch.optim.SGD),
    ("SGDMomentum", dict(lr=0.02, momentum=0.5, weight_decay=0.05),
     dict(lr=0.02, momentum=0.5, weight_decay=0.05), torch.optim.SGD),
    ("Nesterov", dict(lr=0.02, momentum=0.9), dict(lr=0.02, momentum=0.9, nesterov=True), torch.optim.SGD),
    ("Nesterov", dict(lr=0.02, momentum=0.7, weight_decay=0.1),
     dict(lr=0.02, momentum=0.7, nesterov=True, weight_decay=0.1), torch.optim.SGD),
    ("AdaGrad", dict(lr=0.1), dict(lr=0.1), torch.optim.Adagrad),
    ("AdaGrad", dict(lr=0.1, eps=1e-3, weight_decay=0.1), dict(lr=0.1, eps=1e-3, weight_decay=0.1),
     torch.optim.Adagrad),
    ("RMSProp", dict(lr=0.003), dict(lr=0.003), torch.optim.RMSprop),
    ("RMSProp", dict(lr=0.003, alpha=0.9, eps=1e-4, weight_decay=0.1),
     dict(lr=0.003, alpha=0.9, eps=1e-4, weight_decay=0.1), torch.optim.RMSprop),
    ("Adam", dict(lr=0.003), dict(lr=0.003), torch.optim.Adam),
    ("Adam", dict(lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     dict(lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), torch.optim.Adam),
]


@pytest.mark.parametrize(("name", "ours_kw", "torch_kw", "torch_cls"), OPTIMIZERS,
                         ids=[f"{o[0]}-{i}" for i, o in enumerate(OPTIMIZERS)])
def test_optimizer_follows_torch_for_300_steps(ns, name, ours_kw, torch_kw, torch_cls):
    rng = np.random.default_rng(0)
    start = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    follow_torch_optimizer(ns[name], ours_kw, torch_cls, torch_kw, start=start, grad_fn=grad_fn, steps=300,
                           lr_change=(0.5, 0.5), resync=False, rtol=1e-6, atol=1e-8)


def test_optimizers_reduce_a_loss_they_can(ns):
    """Sanity: every optimizer at a sensible lr lowers the loss sum((w - 0.3)^2) a thousandfold."""
    for name, lr in [("SGD", 0.1), ("SGDMomentum", 0.05), ("Nesterov", 0.05), ("AdaGrad", 0.5),
                     ("RMSProp", 0.01), ("Adam", 0.05)]:
        params = {"w": np.full(5, 3.0)}
        opt = ns[name](params, lr=lr)
        for t in range(900):
            if t == 600:
                opt.lr = lr / 10  # settle (adaptive methods hover at a distance ~ lr)
            opt.step({"w": 2.0 * (params["w"] - 0.3)})
        assert np.sum((params["w"] - 0.3) ** 2) < 1e-3 * np.sum((3.0 - 0.3) ** 2 * np.ones(5)), name


def test_clip_grad_norm_matches_torch(ns):
    rng = np.random.default_rng(1)
    for scale, max_norm in [(0.1, 1.0), (10.0, 1.0), (3.0, 5.0)]:
        arrays = [scale * rng.normal(size=s) for s in [(3,), (2, 4), (1,)]]
        grads = {str(i): a.copy() for i, a in enumerate(arrays)}
        tensors = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
        for t, a in zip(tensors, arrays, strict=True):
            t.grad = torch.tensor(a)
        expected = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm))
        assert ns["clip_grad_norm"](grads, max_norm) == pytest.approx(expected, rel=1e-12)
        for g, t in zip(grads.values(), tensors, strict=True):
            np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_schedules_match_torch(ns):
    sch = torch.optim.lr_scheduler
    follow_torch_schedule(ns["step_lr"], lambda t: (t, 0.4, 7, 0.3), lambda o: sch.StepLR(o, 7, 0.3), 0.4, 40)
    follow_torch_schedule(ns["exponential_lr"], lambda t: (t, 0.4, 0.93), lambda o: sch.ExponentialLR(o, 0.93), 0.4, 40)
    follow_torch_schedule(ns["cosine_lr"], lambda t: (t, 0.4, 30, 0.01), lambda o: sch.CosineAnnealingLR(o, 30, 0.01),
                          0.4, 31, rtol=1e-10, atol=1e-14)
    follow_torch_schedule(ns["warmup_lr"], lambda t: (t, 0.4, 8),
                          lambda o: sch.LinearLR(o, 1 / 8, 1.0, total_iters=7), 0.4, 30, rtol=1e-10, atol=1e-14)


def test_minibatches_match_a_torch_dataloader(ns):
    from torch.utils.data import DataLoader, TensorDataset

    X, y = np.arange(46.0).reshape(23, 2), np.arange(23)
    for drop_last in (False, True):
        order = np.random.default_rng(5).permutation(23)
        loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=5,
                            sampler=order.tolist(), drop_last=drop_last)
        ours = list(ns["minibatches"](X, y, 5, rng=np.random.default_rng(5), drop_last=drop_last))
        assert len(ours) == len(loader) == (4 if drop_last else 5)
        for (xb, yb), (xt, yt) in zip(ours, loader, strict=True):
            np.testing.assert_array_equal(xb, xt.numpy())
            np.testing.assert_array_equal(yb, yt.numpy())


def test_initializations_match_torch_statistics(ns):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    t = torch.empty(300, 600, dtype=torch.float64)  # torch layout (out, in): n_in = 600, n_out = 300
    for ours, dist, ref in [
        (ns["xavier_init"], "uniform", torch.nn.init.xavier_uniform_),
        (ns["xavier_init"], "normal", torch.nn.init.xavier_normal_),
        (ns["kaiming_init"], "normal", lambda x: torch.nn.init.kaiming_normal_(x, nonlinearity="relu")),
        (ns["kaiming_init"], "uniform", lambda x: torch.nn.init.kaiming_uniform_(x, nonlinearity="relu")),
    ]:
        W, R = ours(600, 300, rng, dist), ref(t).numpy()
        assert W.shape == (600, 300) and W.dtype == np.float64
        assert np.std(W) == pytest.approx(np.std(R), rel=0.02)
        if dist == "uniform":
            assert np.abs(W).max() == pytest.approx(np.abs(R).max(), rel=0.01)


def test_newton_solves_a_quadratic_in_one_step(ns):
    A = np.array([[100.0, 3.0], [3.0, 0.5]])
    b = np.array([1.0, 2.0])
    path = ns["newton_method"](lambda w: A @ w - b, lambda w: A, np.zeros(2), 2)
    np.testing.assert_allclose(path[1:], [np.linalg.solve(A, b)] * 2, rtol=1e-12)


# --------------------------------------------------------------------------- EMA and L-BFGS


@pytest.mark.parametrize("decay", [0.0, 0.5, 0.9, 0.999, 1.0])
def test_ema_update_matches_torch_averaged_model(ns, decay):
    follow_torch_ema(ns["ema_update"], decay, steps=40, seed=3)


_A = torch.tensor([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]], dtype=torch.float64)
_C = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


def _convex(w):
    """Strictly convex, not quadratic: every pair has y.s > 0, so torch keeps them all."""
    return 0.5 * w @ _A @ w + torch.sum(torch.log(torch.cosh(2.0 * (w - _C))))


@pytest.mark.parametrize("max_iter", [2, 3, 6, 10, 25])
def test_lbfgs_direction_is_torch_lbfgs_direction(ns, max_iter):
    """torch.optim.LBFGS keeps its pairs (old_stps = s, old_dirs = y, oldest first) and the
    gradient its last direction d was computed from: our two-loop recursion gives the same d."""
    w = torch.tensor([2.0, 1.0, -3.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=0.5, max_iter=max_iter, history_size=4, line_search_fn=None,
                            tolerance_grad=1e-14, tolerance_change=1e-16)

    def closure():
        opt.zero_grad()
        loss = _convex(w)
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[w]
    s_list = [s.numpy().copy() for s in state["old_stps"]]
    y_list = [y.numpy().copy() for y in state["old_dirs"]]
    g = state["prev_flat_grad"].numpy().copy()
    ours = ns["lbfgs_direction"](g, s_list, y_list)
    np.testing.assert_allclose(ours, state["d"].numpy(), rtol=1e-10, atol=1e-12)
    assert max_iter < 6 or len(s_list) == 4  # a full memory in the longer runs


def test_lbfgs_matches_scipy_on_rosenbrock_and_leaves_gradient_descent_behind(ns):
    rosen = ns["rosen"]
    ours, scipy_result, gd = ns["lbfgs_path"], ns["scipy_result"], ns["gd_path"]
    assert rosen.value(ours[-1]) < 1e-12 and scipy_result.fun < 1e-12  # "to 1e-13 or better"
    assert abs((len(ours) - 1) - scipy_result.nit) <= 0.5 * scipy_result.nit  # "about as many as scipy's"
    assert len(ours) - 1 < 100  # "a few dozen iterations"
    assert len(gd) - 1 == 2000 and rosen.value(gd[-1]) > 1e-3  # "still far from it after 2000"
    # scipy agrees on where the minimum is
    np.testing.assert_allclose(ours[-1], minimize(rosen.value, np.array(rosen.start), jac=rosen.gradient,
                                                  method="L-BFGS-B").x, atol=1e-4)


# --------------------------------------------------------------------------- batch norm vs torch


@pytest.mark.parametrize("batch", [2, 7, 64])
def test_batchnorm_matches_torch_in_both_modes(ns, batch):
    rng = np.random.default_rng(batch)
    D = 5
    bn = torch.nn.BatchNorm1d(D, momentum=0.2, eps=1e-4, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(rng.normal(size=D) + 1.0))
        bn.bias.copy_(torch.tensor(rng.normal(size=D)))
    gamma, beta = bn.weight.detach().numpy().copy(), bn.bias.detach().numpy().copy()
    state = ns["init_batchnorm_state"](D, momentum=0.2, eps=1e-4)
    for mode in ["train"] * 4 + ["eval"] * 2 + ["train", "eval"]:
        n = batch if mode == "train" else 1 + batch // 2
        x = 3.0 + 2.0 * rng.normal(size=(n, D))
        dout = rng.normal(size=(n, D))
        bn.train(mode == "train")
        xt = torch.tensor(x, requires_grad=True)
        yt = bn(xt)
        yt.backward(torch.tensor(dout))
        out, cache = ns["batchnorm_forward"](x, gamma, beta, state, mode == "train")
        np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(state["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(state["running_var"], bn.running_var.numpy(), rtol=1e-12)
        dx, dgamma, dbeta = ns["batchnorm_backward"](dout, cache)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-9, atol=1e-10)
        bn.zero_grad()


def test_batchnorm_rejects_a_training_batch_of_one_like_torch(ns):
    bn = torch.nn.BatchNorm1d(3, dtype=torch.float64).train()
    with pytest.raises(ValueError):
        bn(torch.ones(1, 3, dtype=torch.float64))
    state = ns["init_batchnorm_state"](3)
    with pytest.raises(ValueError):
        ns["batchnorm_forward"](np.ones((1, 3)), np.ones(3), np.zeros(3), state, True)
    out, _ = ns["batchnorm_forward"](np.ones((1, 3)), np.ones(3), np.zeros(3), state, False)  # eval: fine
    np.testing.assert_allclose(out, 1.0 / np.sqrt(1.0 + 1e-5) * np.ones((1, 3)))


def test_batchnorm_train_output_is_normalised_and_eval_is_affine(ns):
    rng = np.random.default_rng(3)
    x = 5.0 + 10.0 * rng.normal(size=(200, 4))
    state = ns["init_batchnorm_state"](4, eps=0.0)
    out, _ = ns["batchnorm_forward"](x, np.ones(4), np.zeros(4), state, True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-10)
    # eval: row i of the output depends on row i of the input only
    one, _ = ns["batchnorm_forward"](x[:1], np.ones(4), np.zeros(4), state, False)
    many, _ = ns["batchnorm_forward"](x, np.ones(4), np.zeros(4), state, False)
    np.testing.assert_allclose(one[0], many[0], rtol=1e-14)


# --------------------------------------------------------------------------- the experiments' claims


def _runs(ns, surface, steps=80):
    """The section 6 runs on one surface, as Trajectory objects, with the loss above the minimum."""
    f_min = ns["SURFACES"][surface].f_min
    runs = {label: ns["run_trajectory"](make, surface, steps=steps) for label, make in ns["experiments"][surface].items()}
    assert all(t.diverged_at is None and t.error is None for t in runs.values()), surface
    return runs, {label: t.final_loss - f_min for label, t in runs.items()}


def _escape_step(trajectory, threshold=0.5):
    """The first step at which w2 is past the threshold (off the saddle's ridge), None if never."""
    past = np.flatnonzero(trajectory.points[:, 1] > threshold)
    return int(past[0]) if past.size else None


@pytest.mark.parametrize(("surface", "curvature"), [("bowl", 1.0), ("ravine", 2.0)])
def test_sgd_diverges_above_two_over_the_largest_curvature(ns, surface, curvature):
    """Section 7 and the written answer: the bowl has a = 1 (limit 2), the ravine a = 2 (limit 1);
    on the explorer's slider (1, 2, 5 per decade) the first diverging values are 5 and 2."""
    limit = 2.0 / curvature
    for lr in [0.5 * limit, 0.95 * limit]:
        assert ns["run_trajectory"](ns["make"](ns["SGD"], lr=lr), surface, steps=200).diverged_at is None
    assert ns["run_trajectory"](ns["make"](ns["SGD"], lr=1.05 * limit), surface, steps=200).diverged_at is not None
    at_limit = ns["run_trajectory"](ns["make"](ns["SGD"], lr=limit), surface, steps=200)
    assert at_limit.diverged_at is None and at_limit.final_loss > 0.1  # neither converges nor diverges
    from helpers.explorers.optimization import lr_values

    first = min(v for v in lr_values() if ns["run_trajectory"](ns["make"](ns["SGD"], lr=v), surface,
                                                               steps=100).diverged_at is not None)
    assert first == {"bowl": 5.0, "ravine": 2.0}[surface]


def test_adam_reaches_the_rosenbrock_minimum_in_500_steps_at_some_slider_rate(ns):
    from helpers.explorers.optimization import lr_values

    final = {lr: ns["run_trajectory"](ns["make"](ns["Adam"], lr=lr), "rosenbrock", steps=500).final_loss
             for lr in lr_values()}
    assert min(final.values()) < 1e-3, final


def test_ravine_momentum_and_adam_are_far_ahead_of_sgd(ns):
    runs, gap = _runs(ns, "ravine")
    sgd, slow, momentum, adam = gap["SGD η=0.9"], gap["SGD η=0.1"], gap["momentum η=0.5"], gap["Adam η=0.1"]
    assert momentum < sgd / 30, gap  # "a hundred times lower loss after 80 steps"
    assert adam < sgd / 10, gap
    assert slow > 3 * sgd, gap  # a smaller learning rate crawls even slower
    # SGD at 0.9 bounces from wall to wall (w2 changes sign every step); at 0.1 it does not.
    w2 = runs["SGD η=0.9"].points[:21, 1]
    assert np.all(w2[1:] * w2[:-1] < 0)
    assert np.all(runs["SGD η=0.1"].points[:, 1] > 0)


def test_saddle_adam_and_momentum_escape_long_before_sgd(ns):
    runs, gap = _runs(ns, "saddle")
    steps = {label: _escape_step(t) for label, t in runs.items()}
    assert None not in steps.values(), steps
    assert steps["SGD η=0.1"] >= 50, steps  # about 70 steps
    assert steps["momentum η=0.1"] <= min(40, steps["SGD η=0.1"] - 20), steps  # about 25
    assert steps["Adam η=0.1"] <= 12, steps  # a handful
    assert gap["Adam η=0.1"] < gap["momentum η=0.1"] < gap["SGD η=0.1"], gap


def test_plateau_sgd_barely_moves_while_adam_crosses_it(ns):
    runs, gap = _runs(ns, "plateau")
    sgd = runs["SGD η=0.1"]
    assert np.linalg.norm(sgd.points[-1] - sgd.points[0]) < 0.1
    assert gap["SGD η=0.1"] > 0.9, gap
    assert gap["Adam η=0.1"] < 0.01, gap


def test_cliff_throws_sgd_out_and_clipping_keeps_it_at_the_foot(ns):
    f_min, xlim = ns["SURFACES"]["cliff"].f_min, ns["SURFACES"]["cliff"].xlim
    plain, clipped = ns["cliff_runs"]["SGD η=1"], ns["cliff_runs"]["SGD η=1, clipped at 1"]
    assert np.abs(plain.points[:, 0]).max() > 2 * max(abs(v) for v in xlim)  # far out of the picture
    assert plain.final_loss - f_min > 1.0
    assert clipped.final_loss - f_min < 0.05
    assert np.linalg.norm(np.diff(clipped.points, axis=0), axis=1).max() <= 1.0 + 1e-9  # no step longer than lr


def test_optimizer_race_learning_rate_matters_as_much_as_the_optimizer(ns):
    final = {name: float(losses[-ns["steps_per_epoch"]:].mean()) for name, (losses, _) in ns["results"].items()}
    val_acc = {name: float(acc[-1]) for name, (_, acc) in ns["results"].items()}
    assert min(val_acc.values()) > 0.93, val_acc  # every optimizer gets to a good model
    for name in ("momentum η=0.05", "Nesterov η=0.05", "AdaGrad η=0.05"):
        assert final[name] < 0.5 * final["SGD η=0.1"], final
    assert min(final, key=final.get) == "Adam η=1e-2", final  # the fastest ...
    assert max(final, key=final.get) == "Adam η=1e-3", final  # ... and, ten times slower, the slowest


def test_random_search_explores_the_learning_rate_more_finely_than_the_grid(ns):
    (grid, grid_loss), (rand, rand_loss) = ns["search"]["grid"], ns["search"]["random"]
    assert len(grid) == len(rand) == 9
    assert len({lr for lr, _ in grid}) == 3 and len({lr for lr, _ in rand}) == 9
    assert rand_loss.min() < grid_loss.min()  # this draw: random search finds the better run
    # the good region lies between the grid's learning rates: the fine sweep's best beats the grid's best
    sweep_lrs, sweep = ns["sweep_lrs"], ns["sweep"]
    good = sweep_lrs[sweep < 0.25]
    assert good.size and not any(good.min() <= lr <= good.max() for lr, _ in grid)
    # weight decay hardly matters in its range: at a fixed learning rate the grid's losses differ little
    by_lr = grid_loss.reshape(3, 3)
    assert np.all(by_lr.max(axis=1) - by_lr.min(axis=1) < 0.1 * (grid_loss.max() - grid_loss.min()))
    # "drawn with other seeds, the random search beat this grid 9 times out of 10"
    wins = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        lrs = 10 ** rng.uniform(*np.log10(ns["lr_range"]), 9)
        wds = 10 ** rng.uniform(*np.log10(ns["wd_range"]), 9)
        wins += min(ns["search_trial"](lr, wd) for lr, wd in zip(lrs, wds, strict=True)) < grid_loss.min()
    assert wins >= 9, wins


def test_ema_weights_are_smoother_and_better_in_the_second_half(ns):
    record = {k: np.array(v) for k, v in ns["ema_record"].items()}
    half = len(record["raw"]) // 2
    raw, ema = record["raw"][half:], record["EMA"][half:]
    assert ema[-1] < raw[-1] and ema.mean() < raw.mean()
    assert np.abs(np.diff(ema)).mean() < np.abs(np.diff(raw)).mean() / 10  # "moves more than ten times less"
    assert np.mean(ema < raw) >= 0.75  # "the lower one at about four measurements out of five"
    assert record["EMA"][0] > record["raw"][0]  # early on, the average lags behind


def test_deep_net_with_tiny_init_trains_only_with_batch_norm(ns):
    runs = ns["deep_runs"]
    (kaiming, kaiming_acc), (plain, plain_acc), (bn, bn_acc) = (
        runs["Kaiming, no batch norm"], runs["N(0, 0.01²), no batch norm"], runs["N(0, 0.01²), with batch norm"])
    # Plain with N(0, 0.01^2): stuck at the loss of guessing, log 10, and at chance accuracy.
    assert abs(plain[-20:].mean() - np.log(10)) < 0.05
    assert plain.min() > 2.2
    assert plain_acc < 0.2
    # The same initialization with batch norm trains, as well as the Kaiming network.
    assert bn[-20:].mean() < 0.5
    assert bn_acc > 0.9
    assert kaiming_acc > 0.85
    assert bn_acc >= kaiming_acc - 0.03
    assert bn[-20:].mean() < 1.5 * kaiming[-20:].mean()  # and as fast


# --------------------------------------------------------------------------- concept checks


def test_concept_check_answers_follow_from_the_code(ns):
    # q1: iterations per epoch for N = 1000, B = 64, keeping the last partial batch
    assert len(ns["minibatches"](np.zeros((1000, 1)), np.zeros(1000), 64)) == ns["q1_answer"]
    # q2: gradient descent on 5 w^2 diverges above 0.2 and not below
    for lr, diverges in [(0.19, False), (0.21, True)]:
        w = 1.0
        for _ in range(300):
            w -= lr * 10.0 * w
        assert (abs(w) > 1.0) == diverges
    assert ns["q2_answer"] == pytest.approx(0.2)
    # q3: Adam's first step with g = 250, lr = 0.01
    params = {"w": np.array([0.0])}
    ns["Adam"](params, lr=0.01).step({"w": np.array([250.0])})
    assert abs(params["w"][0]) == pytest.approx(ns["q3_answer"], rel=1e-6)
    # q4: 9 log-uniform trials, the good tenth of the range: simulate
    rng = np.random.default_rng(0)
    hits = (rng.uniform(size=(200_000, 9)) < 0.1).any(axis=1).mean()
    assert hits == pytest.approx(ns["q4_answer"], abs=5e-3)
    # q5: an EMA started at zero, decay 0.9, updated twice with w = 4
    avg = {"w": np.zeros(1)}
    for _ in range(2):
        ns["ema_update"](avg, {"w": np.array([4.0])}, 0.9)
    assert avg["w"][0] == pytest.approx(ns["q5_answer"])
    # q6: m pairs of two vectors of d numbers
    assert ns["q6_answer"] == 2 * 10 * 10**6
    # q7: Kaiming normal for n_in = 512
    assert np.std(ns["kaiming_init"](512, 128, np.random.default_rng(0))) == pytest.approx(ns["q7_answer"], rel=0.02)
    # q8: eval mode uses the running statistics
    assert ns["q8_answer"] == "b"


# --------------------------------------------------------------------------- library and release


def test_exported_library_has_the_reusable_pieces():
    path, text = library_module(CHAPTER)
    assert path.name == "ch05_optimization.py"
    module: dict = {}
    exec(compile(text, str(path), "exec"), module)  # self-contained apart from numpy
    for name in ["minibatches", "SGD", "SGDMomentum", "Nesterov", "AdaGrad", "RMSProp", "Adam",
                 "clip_grad_norm", "step_lr", "cosine_lr", "warmup_lr", "ema_update", "xavier_init", "kaiming_init",
                 "init_batchnorm_state", "batchnorm_forward", "batchnorm_backward"]:
        assert name in module, name
    assert "newton_method" not in module and "lbfgs_direction" not in module  # not building blocks
    assert "BEGIN SOLUTION" not in text
    params = {"w": np.ones(2)}
    module["Adam"](params, lr=0.1).step({"w": np.array([1.0, -1.0])})
    np.testing.assert_allclose(params["w"], [0.9, 1.1], rtol=1e-6)


def test_torch_is_imported_only_in_hidden_tests():
    source = CHAPTER.source.read_text()
    visible = source.split("### BEGIN HIDDEN TESTS")
    assert "import torch" not in visible[0]
    for part in visible[1:]:
        assert "import torch" not in part.split("### END HIDDEN TESTS", 1)[1]


def test_every_question_has_a_markdown_cell_of_its_own_before_it():
    cells = read_source(CHAPTER.source).cells
    for i, cell in enumerate(cells):
        if role(cell) == "answer" or (role(cell) == "solution" and "_answer = " in cell.source):
            before = cells[i - 1]
            assert before.cell_type == "markdown" and role(before) is None, cell.id
            assert "Concept check" in before.source or "Written answer" in before.source, cell.id
