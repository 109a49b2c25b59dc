"""Chapter 05: the reference solution agrees with PyTorch, and its tests reject the mutants.

The reference implementations come from executing the chapter's source (tests cells
excepted). Every optimizer is run for many steps next to the matching ``torch.optim``
optimizer, on parameters of several shapes, with weight decay and a learning-rate change
half-way; both runs follow their own trajectories, so any difference compounds.

The last test replays every mutant of ``solutions/mutants/05_optimization.py`` in-process
against its tests cell (a fast stand-in for the kernel-based check that tests/test_chapters.py
runs once the chapter is listed in course.toml).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.authoring import read_source, role, solution_namespace
from autograder.course import Chapter
from autograder.library import library_module
from autograder.mutants import load_mutants

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = Chapter("05_optimization", "Optimization", 50, ROOT)


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
    ours = {k: v.copy() for k, v in start.items()}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    opt = ns[name](ours, **ours_kw)
    topt = torch_cls(list(theirs.values()), **torch_kw)
    for t in range(300):
        if t == 150:
            opt.lr *= 0.5
            for group in topt.param_groups:
                group["lr"] *= 0.5
        opt.step({k: grad_fn(k, w) for k, w in ours.items()})
        for k, p in theirs.items():
            p.grad = torch.from_numpy(grad_fn(k, p.detach().numpy().copy()))
        topt.step()
        for k in ours:
            np.testing.assert_allclose(ours[k], theirs[k].detach().numpy(), rtol=1e-6, atol=1e-8,
                                       err_msg=f"{name}({ours_kw}) {k} at step {t + 1}")


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
    def lrs(make, n, lr0=0.4):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
        sched = make(opt)
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    sch = torch.optim.lr_scheduler
    cases = [
        (lambda o: sch.StepLR(o, 7, 0.3), lambda t: ns["step_lr"](t, 0.4, 7, 0.3), 40),
        (lambda o: sch.ExponentialLR(o, 0.93), lambda t: ns["exponential_lr"](t, 0.4, 0.93), 40),
        (lambda o: sch.CosineAnnealingLR(o, 30, 0.01), lambda t: ns["cosine_lr"](t, 0.4, 30, 0.01), 31),
        (lambda o: sch.LinearLR(o, 1 / 8, 1.0, total_iters=7), lambda t: ns["warmup_lr"](t, 0.4, 8), 30),
    ]
    for make, ours, n in cases:
        np.testing.assert_allclose([ours(t) for t in range(n)], lrs(make, n), rtol=1e-10, atol=1e-14)


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
        assert W.shape == (600, 300)
        assert np.std(W) == pytest.approx(np.std(R), rel=0.02)
        if dist == "uniform":
            assert np.abs(W).max() == pytest.approx(np.abs(R).max(), rel=0.01)


def test_newton_solves_a_quadratic_in_one_step(ns):
    A = np.array([[100.0, 3.0], [3.0, 0.5]])
    b = np.array([1.0, 2.0])
    path = ns["newton_method"](lambda w: A @ w - b, lambda w: A, np.zeros(2), 2)
    np.testing.assert_allclose(path[1:], [np.linalg.solve(A, b)] * 2, rtol=1e-12)


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


# --------------------------------------------------------------------------- the experiments (sections 6, 9, 12)


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


# --------------------------------------------------------------------------- library and mutants


def test_exported_library_has_the_reusable_pieces():
    path, text = library_module(CHAPTER)
    assert path.name == "ch05_optimization.py"
    module: dict = {}
    exec(compile(text, str(path), "exec"), module)  # self-contained apart from numpy
    for name in ["minibatches", "SGD", "SGDMomentum", "Nesterov", "AdaGrad", "RMSProp", "Adam",
                 "clip_grad_norm", "step_lr", "cosine_lr", "warmup_lr", "xavier_init", "kaiming_init",
                 "init_batchnorm_state", "batchnorm_forward", "batchnorm_backward"]:
        assert name in module, name
    assert "newton_method" not in module  # not a building block for later chapters
    assert "BEGIN SOLUTION" not in text
    params = {"w": np.ones(2)}
    module["Adam"](params, lr=0.1).step({"w": np.array([1.0, -1.0])})
    np.testing.assert_allclose(params["w"], [0.9, 1.1], rtol=1e-6)


MUTANTS = load_mutants(ROOT / "solutions" / "mutants" / "05_optimization.py")
TESTS = {c.id: c.source for c in read_source(CHAPTER.source).cells if role(c) == "tests"}


def test_mutants_cover_every_graded_cell_three_times():
    cells = [c for c in read_source(CHAPTER.source).cells if role(c) == "solution" and "def " in c.source]
    counts = {c.id: sum(m.cell == c.id for m in MUTANTS) for c in cells}
    assert counts and min(counts.values()) >= 3, counts
    assert MUTANTS[0].cell == "adam"


@pytest.mark.parametrize("index", range(len(MUTANTS)), ids=[f"{m.cell}:{i}" for i, m in enumerate(MUTANTS)])
def test_mutant_is_rejected_by_its_tests_cell(ns, index):
    mutant = MUTANTS[index]
    namespace = dict(ns)
    exec(compile(mutant.source, f"<mutant {mutant.cell}>", "exec"), namespace)
    with pytest.raises(Exception):  # noqa: B017 - any failure of the tests cell rejects the mutant
        exec(compile(TESTS[mutant.fails], f"<{mutant.fails}>", "exec"), namespace)


def test_reference_passes_every_tests_cell_in_process(ns):
    for grade_id, source in TESTS.items():
        exec(compile(source, f"<{grade_id}>", "exec"), dict(ns))


def test_torch_is_imported_only_in_hidden_tests():
    source = CHAPTER.source.read_text()
    visible = source.split("### BEGIN HIDDEN TESTS")
    assert "import torch" not in visible[0]
    for part in visible[1:]:
        assert "import torch" not in part.split("### END HIDDEN TESTS", 1)[1]
