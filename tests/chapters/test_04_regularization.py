"""Chapter 04: the reference solution agrees with PyTorch / SciPy / independent code, and the
claims of its experiments and concept checks hold.

The reference implementations come from executing the chapter's source (tests cells
excepted). Mutants, the blank release and the release's sync are checked course-wide
(``autograder validate``, tests/test_chapters.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import ndimage

from autograder.authoring import solution_namespace
from autograder.course import Chapter
from autograder.library import library_module

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = Chapter("04_regularization", "Regularization", 45, ROOT)


@pytest.fixture(scope="module")
def ns():
    return solution_namespace(CHAPTER.source)


# --------------------------------------------------------------------------- penalties and weight decay


@pytest.mark.parametrize("lam", [0.0, 1e-3, 0.7])
def test_penalties_match_torch_autograd(ns, lam):
    rng = np.random.default_rng(int(lam * 1000))
    weights = {"W1": rng.normal(size=(5, 4)), "W2": rng.normal(size=(4,)), "W3": np.zeros((2, 2))}
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in weights.items()}
    for fn, torch_fn in [(ns["l2_penalty"], lambda t: 0.5 * lam * (t**2).sum()),
                         (ns["l1_penalty"], lambda t: lam * t.abs().sum())]:
        for t in tensors.values():
            t.grad = None
        total = sum(torch_fn(t) for t in tensors.values())
        total.backward()
        value, grads = fn(weights, lam)
        assert value == pytest.approx(float(total.detach()), rel=1e-12, abs=1e-300)
        for k, t in tensors.items():
            np.testing.assert_allclose(grads[k], t.grad.numpy(), rtol=1e-12, atol=0)


def test_weight_decay_is_torch_sgd_weight_decay_for_300_steps(ns):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 5))
    target = rng.normal(size=(8, 2))
    ours = {"W": rng.normal(size=(5, 2)), "b": rng.normal(size=2)}
    tw = torch.tensor(ours["W"].copy(), requires_grad=True)
    tb = torch.tensor(ours["b"].copy(), requires_grad=True)
    opt = torch.optim.SGD([{"params": [tw], "weight_decay": 0.3}, {"params": [tb]}], lr=0.02)
    At, Tt = torch.tensor(A), torch.tensor(target)

    def loss_np(params):
        residual = A @ params["W"] + params["b"] - target
        return {"W": A.T @ residual, "b": residual.sum(axis=0)}

    for _ in range(300):
        ns["weight_decay_step"](ours, loss_np(ours), 0.02, 0.3, ["W"])
        opt.zero_grad()
        (0.5 * ((At @ tw + tb - Tt) ** 2).sum()).backward()
        opt.step()
    np.testing.assert_allclose(ours["W"], tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours["b"], tb.detach().numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- early stopping


def reference_early_stopping(losses, patience, min_delta):
    best, best_epoch, bad = np.inf, None, 0
    for epoch, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch, bad = loss, epoch, 0
        else:
            bad += 1
            if bad >= patience:
                return epoch, best_epoch
    return None, best_epoch


@pytest.mark.parametrize("seed", range(20))
def test_early_stopping_matches_a_reference_on_random_curves(ns, seed):
    rng = np.random.default_rng(seed)
    losses = np.round(np.cumsum(rng.normal(0.0, 1.0, size=60)) + 100, 1)  # ties happen after rounding
    patience, min_delta = int(rng.integers(1, 6)), float(rng.choice([0.0, 0.0, 0.5]))
    stop, best_epoch = reference_early_stopping(losses, patience, min_delta)
    stopper = ns["EarlyStopping"](patience, min_delta)
    params = {"w": np.zeros(3)}
    stopped = None
    for epoch, loss in enumerate(losses):
        params["w"][:] = epoch
        if stopper.step(float(loss), params):
            stopped = epoch
            break
    assert (stopped, stopper.best_epoch) == (stop, best_epoch)
    stopper.restore(params)
    np.testing.assert_array_equal(params["w"], best_epoch)


# --------------------------------------------------------------------------- dropout


def test_dropout_matches_torch_exactly_given_the_mask_and_statistically_without(ns):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    for p in (0.1, 0.5, 0.75):
        x = rng.normal(size=(300, 40)) + 5.0
        xt = torch.tensor(x, requires_grad=True)
        yt = F.dropout(xt, p, training=True)
        dout = rng.normal(size=x.shape)
        yt.backward(torch.tensor(dout))
        mask = yt.detach().numpy() != 0
        out, cache = ns["dropout_forward"](x, p, train=True, mask=mask)
        np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(ns["dropout_backward"](dout, cache), xt.grad.numpy(), rtol=1e-14)
        ours, _ = ns["dropout_forward"](x, p, train=True, rng=np.random.default_rng(1))
        assert np.mean(ours != 0) == pytest.approx(np.mean(mask), abs=0.01)
        assert np.mean(ours) == pytest.approx(np.mean(x), rel=0.02)
        module = torch.nn.Dropout(p).eval()
        np.testing.assert_array_equal(ns["dropout_forward"](x, p, train=False)[0], module(torch.tensor(x)).numpy())


# --------------------------------------------------------------------------- bagging


def test_bagging_follows_the_documented_protocol_and_reduces_variance(ns):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 1))
    y = np.sin(3 * X[:, 0]) + 0.3 * rng.normal(size=40)
    X_new = np.linspace(-1, 1, 7)[:, None]

    from sklearn.tree import DecisionTreeRegressor

    def fit(Xs, ys):  # a fully grown tree: the classic high-variance model
        return DecisionTreeRegressor(random_state=0).fit(Xs, ys)

    def predict(tree, Xn):
        return tree.predict(Xn)

    ref_rng, preds = np.random.default_rng(5), []
    for _ in range(30):
        idx = ref_rng.integers(0, 40, size=40)
        preds.append(predict(fit(X[idx], y[idx]), X_new))
    np.testing.assert_allclose(ns["bagging_predict"](fit, predict, X, y, X_new, 30, np.random.default_rng(5)),
                               np.mean(preds, axis=0), rtol=1e-12)
    # Variance over training sets: the bag of trees varies less than a single tree.
    singles, bags = [], []
    for seed in range(15):
        r = np.random.default_rng(100 + seed)
        Xs = r.uniform(-1, 1, size=(40, 1))
        ys = np.sin(3 * Xs[:, 0]) + 0.3 * r.normal(size=40)
        singles.append(predict(fit(Xs, ys), X_new))
        bags.append(ns["bagging_predict"](fit, predict, Xs, ys, X_new, 25, r))
    assert np.var(bags, axis=0).mean() < np.var(singles, axis=0).mean()


# --------------------------------------------------------------------------- augmentations


def test_flip_and_crop_against_torch_and_numpy(ns):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3, 5, 6))
    flipped = ns["random_flip"](x, np.random.default_rng(1), 1.0)
    np.testing.assert_array_equal(flipped, torch.flip(torch.tensor(x), dims=[-1]).numpy())
    out = ns["random_crop"](x, np.random.default_rng(2), 2)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    windows = np.stack([padded[..., i:i + 5, j:j + 6] for i in range(5) for j in range(6 - 1)])
    assert all(any(np.array_equal(out[n], w[n]) for w in windows) for n in range(len(x)))


def test_affine_warp_matches_scipy(ns):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 2, 9, 7))
    angles = rng.uniform(-1, 1, 6)
    matrices = np.stack([[[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]] for a in angles]) * 1.1
    offsets = rng.uniform(-2, 2, (6, 2))
    out = ns["affine_warp"](x, matrices, offsets)
    m = np.array([4.0, 3.0])
    for n in range(6):
        for c in range(2):
            expected = ndimage.affine_transform(x[n, c], matrices[n], offset=m - matrices[n] @ m + offsets[n],
                                                order=1, mode="grid-constant", cval=0.0)
            np.testing.assert_allclose(out[n, c], expected, rtol=1e-10, atol=1e-12)


def test_noise_and_cutout_properties(ns):
    x = np.ones((400, 2, 6, 6))
    noisy = ns["add_gaussian_noise"](x, np.random.default_rng(0), 0.2)
    assert np.std(noisy - x) == pytest.approx(0.2, rel=0.03)
    out = ns["cutout"](x, np.random.default_rng(0), 3)
    zero = out == 0
    assert np.array_equal(zero[:, 0], zero[:, 1])
    sizes = zero[:, 0].sum(axis=(1, 2))
    assert sizes.max() == 9 and sizes.min() >= 4  # full squares inside, clipped (2 x 2 at least) at corners
    np.testing.assert_array_equal(x, 1.0)


# --------------------------------------------------------------------------- the experiments (sections 0 and 7)


def _accuracies(ns, params):
    return {split: ns["evaluate"](params, ns[f"X_{split}"], ns[f"y_{split}"])[1] for split in ("train", "val", "test")}


def test_the_baseline_overfits_memorising_the_wrong_labels(ns):
    baseline = ns["baseline"]
    val_loss = np.asarray(baseline["val_loss"])
    best = int(np.argmin(val_loss))
    assert _accuracies(ns, ns["baseline_params"])["train"] >= 0.98  # 25 of the 100 labels are wrong
    assert baseline["train_loss"][-1] < 0.1
    assert 5 <= best <= 75, "the validation loss should have an early minimum"
    assert val_loss[-1] > 1.2 * val_loss[best], "the validation loss should climb after its minimum"
    assert max(baseline["val_acc"]) - baseline["val_acc"][-1] >= 0.04


def test_early_stopping_stops_early_and_restores_the_best_validation_weights(ns):
    stopper, history, baseline = ns["stopper"], ns["es_history"], ns["baseline"]
    epochs = len(history["val_loss"])
    # Same seed, same updates: early stopping only cuts the baseline run short ...
    np.testing.assert_allclose(history["val_loss"], baseline["val_loss"][:epochs], rtol=1e-10)
    assert epochs < len(baseline["val_loss"]) // 2
    assert stopper.best_epoch == int(np.argmin(history["val_loss"]))
    assert epochs == stopper.best_epoch + stopper.patience + 1
    # ... and hands back the weights of its best validation epoch, not the last ones.
    restored_loss = ns["evaluate"](ns["es_params"], ns["X_val"], ns["y_val"])[0]
    assert restored_loss == pytest.approx(history["val_loss"][stopper.best_epoch], rel=1e-10)
    assert restored_loss == pytest.approx(stopper.best_loss, rel=1e-10)
    assert restored_loss < history["val_loss"][-1] - 0.02  # better than the weights it stopped with
    assert restored_loss < baseline["val_loss"][-1] - 0.15  # and much better than training on to the end


def test_every_regularizer_beats_the_unregularized_run_on_validation_and_test(ns):
    cure = ns["cure"]
    assert set(cure) >= {"none", "early stopping", "L2 penalty λ=0.01", "weight decay λ=0.01", "dropout p=0.5",
                         "augmentation", "augmentation + dropout"}
    acc = {name: _accuracies(ns, params) for name, (params, _) in cure.items()}
    val_loss = {name: ns["evaluate"](params, ns["X_val"], ns["y_val"])[0] for name, (params, _) in cure.items()}
    for name in cure:
        if name not in ("none", "label smoothing ε=0.1"):
            assert acc[name]["val"] >= acc["none"]["val"] + 0.02, (name, acc[name], acc["none"])
            assert acc[name]["test"] >= acc["none"]["test"] + 0.02, (name, acc[name], acc["none"])
            assert val_loss[name] < val_loss["none"] - 0.1, (name, val_loss[name], val_loss["none"])
    # The combination is the best cure, by a wide margin, and does not fit the wrong labels.
    best = "augmentation + dropout"
    assert max(acc, key=lambda n: acc[n]["val"]) == best
    assert max(acc, key=lambda n: acc[n]["test"]) == best
    assert acc[best]["val"] >= acc["none"]["val"] + 0.08
    assert acc[best]["test"] >= acc["none"]["test"] + 0.08
    assert acc[best]["train"] <= 0.85


def test_label_smoothing_lowers_the_validation_loss_but_still_memorises(ns):
    """What the text says: less over-confident (lower validation loss), but no better accuracy."""
    cure = ns["cure"]
    (p_ls, h_ls), (p_none, h_none) = cure["label smoothing ε=0.1"], cure["none"]
    acc_ls, acc_none = _accuracies(ns, p_ls), _accuracies(ns, p_none)
    assert acc_ls["train"] >= 0.98  # the wrong labels are memorised all the same
    assert acc_ls["val"] <= acc_none["val"] + 0.01
    assert h_ls["val_loss"][-1] < h_none["val_loss"][-1] - 0.08
    # less confident: the mean largest probability on the validation set is lower
    def confidence(params):
        scores = ns["mlp_forward_backward"](params, ns["X_val"])
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        return np.mean(p.max(axis=1) / p.sum(axis=1))

    assert confidence(p_ls) < confidence(p_none) - 0.02


def test_l2_penalty_and_weight_decay_runs_are_the_same_update(ns):
    (p_l2, h_l2), (p_wd, h_wd) = ns["cure"]["L2 penalty λ=0.01"], ns["cure"]["weight decay λ=0.01"]
    np.testing.assert_allclose(h_l2["val_loss"], h_wd["val_loss"], rtol=1e-8)
    for name in p_l2:
        np.testing.assert_allclose(p_l2[name], p_wd[name], rtol=1e-8, atol=1e-12)


# --------------------------------------------------------------------------- colour, label smoothing


def test_brightness_contrast_is_a_per_image_affine_map_of_the_documented_law(ns):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 3, 4, 5)) + rng.uniform(0, 5, (3000, 1, 1, 1))
    out = ns["brightness_contrast"](x, np.random.default_rng(1), 0.4, 0.25)
    np.testing.assert_array_equal(x, x.copy())
    m = x.mean(axis=(1, 2, 3))
    shift = out.mean(axis=(1, 2, 3)) - m
    centred, centred_out = x - m[:, None, None, None], out - out.mean(axis=(1, 2, 3), keepdims=True)
    factor = np.sum(centred * centred_out, axis=(1, 2, 3)) / np.sum(centred**2, axis=(1, 2, 3))
    np.testing.assert_allclose(centred_out, factor[:, None, None, None] * centred, atol=1e-12)
    # uniform laws: range, mean and variance (b^2 / 3), independence of b and c
    assert np.abs(shift).max() <= 0.4 and np.abs(factor - 1).max() <= 0.25
    assert np.std(shift) == pytest.approx(0.4 / np.sqrt(3), rel=0.05)
    assert np.std(factor) == pytest.approx(0.25 / np.sqrt(3), rel=0.05)
    assert abs(np.corrcoef(shift, factor)[0, 1]) < 0.06
    # with a single channel and no brightness change it is torchvision's contrast formula
    # (blend with the image's mean): c * x + (1 - c) * mean
    x1 = rng.uniform(0, 1, (5, 1, 6, 6))
    out1 = ns["brightness_contrast"](x1, np.random.default_rng(2), 0.0, 0.5)
    c = (out1 - out1.mean(axis=(1, 2, 3), keepdims=True))[:, 0, 0, 0] / (x1 - x1.mean(axis=(1, 2, 3), keepdims=True))[:, 0, 0, 0]
    blended = c[:, None, None, None] * x1 + (1 - c[:, None, None, None]) * x1.mean(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out1, blended, atol=1e-12)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.37, 1.0])
@pytest.mark.parametrize("shape", [(1, 2), (7, 3), (32, 10)])
@pytest.mark.parametrize("scale", [1.0, 50.0, 1e4])
def test_label_smoothing_matches_torch_in_float64(ns, eps, shape, scale):
    rng = np.random.default_rng(int(1000 * eps) + shape[1])
    scores = scale * rng.normal(size=shape)
    y = rng.integers(0, shape[1], shape[0])
    st = torch.tensor(scores, requires_grad=True)
    ref = F.cross_entropy(st, torch.tensor(y), label_smoothing=eps)
    ref.backward()
    loss, dscores = ns["label_smoothing_cross_entropy"](scores.copy(), y, eps)
    assert isinstance(loss, float) and dscores.dtype == np.float64
    assert loss == pytest.approx(float(ref.detach()), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dscores, st.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_label_smoothing_minimum_is_the_target_entropy_and_q7(ns):
    """The loss is smallest at softmax(scores) = t, where it equals the entropy of t (concept check 7)."""
    K, eps = 4, 0.2
    t = (1 - eps) * np.eye(K)[0] + eps / K
    loss, dscores = ns["label_smoothing_cross_entropy"](np.log(t)[None], np.array([0]), eps)
    np.testing.assert_allclose(dscores, 0.0, atol=1e-15)
    assert loss == pytest.approx(-np.sum(t * np.log(t)), rel=1e-12)
    assert ns["q7_answer"] == pytest.approx(loss, rel=1e-9)
    # any other scores give a larger loss
    rng = np.random.default_rng(0)
    for _ in range(50):
        assert ns["label_smoothing_cross_entropy"](np.log(t)[None] + rng.normal(size=(1, K)), np.array([0]), eps)[0] > loss


# --------------------------------------------------------------------------- double descent (section 10)


def test_double_descent_peaks_at_the_interpolation_threshold_and_descends_again(ns):
    widths, n = ns["widths"], ns["n_train"]
    mn, ridge = ns["dd"]["min-norm least squares"], ns["dd"]["ridge λ = 0.1"]
    peak = int(np.argmax(mn["test"]))
    assert 0.8 * n <= widths[peak] <= 1.25 * n
    assert mn["train"][widths >= 1.2 * n].max() < 1e-10  # interpolation beyond the threshold
    assert mn["train"][widths < 0.8 * n].min() > 0.01
    classical = mn["test"][widths < n].min()
    assert mn["test"][peak] > 20 * classical  # the peak
    assert mn["test"][-1] < 0.5 * classical  # the second descent ends below the best small model
    assert mn["error"][-1] < mn["error"][widths < n].min() - 0.05
    assert mn["norm"][peak] == mn["norm"].max()  # the interpolating solution needs huge weights there
    assert ridge["test"].max() < 1.0 < mn["test"][peak]  # a little L2 removes the peak
    # min-norm least squares is the lambda -> 0 limit of ridge (checked on one width past the threshold)
    rng = np.random.default_rng(0)
    F_ = np.maximum(rng.normal(size=(20, 60)), 0)
    Y = rng.normal(size=(20, 3))
    w_min = np.linalg.lstsq(F_, Y, rcond=None)[0]
    w_ridge = F_.T @ np.linalg.solve(F_ @ F_.T + 1e-10 * np.eye(20), Y)
    np.testing.assert_allclose(w_ridge, w_min, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- concept checks


def test_concept_answers_follow_from_the_reference(ns):
    # q2: one step of weight decay from w with zero gradient multiplies by 1 - lr * decay
    params = {"W": np.array([1.0])}
    ns["weight_decay_step"](params, {"W": np.array([0.0])}, 0.1, 0.01, ["W"])
    assert ns["q2_answer"] == pytest.approx(params["W"][0])
    # q3: the stopper on the losses of the question
    stopper, params = ns["EarlyStopping"](patience=3), {"w": np.zeros(1)}
    losses = [0.90, 0.70, 0.72, 0.65, 0.66, 0.67, 0.69, 0.64]
    for loss in losses:
        params["w"][:] = loss
        if stopper.step(loss, params):
            break
    stopper.restore(params)
    assert ns["q3_answer"] == pytest.approx(params["w"][0])
    # q4: the kept units' scale
    out, _ = ns["dropout_forward"](np.ones((1, 1)), 0.2, train=True, mask=np.ones((1, 1), dtype=bool))
    assert ns["q4_answer"] == pytest.approx(out[0, 0])
    # q5: by simulation of bootstrap samples of size 10
    draws = np.random.default_rng(0).integers(0, 10, size=(200_000, 10))
    assert ns["q5_answer"] == pytest.approx(np.mean(~np.any(draws == 0, axis=1)), abs=0.005)
    # q1: L1 prefers the sparse w_a, L2 the spread-out w_b
    wa, wb = np.array([0.0, 0.75, 0.0]), np.array([0.25, 0.5, 0.25])
    assert np.abs(wa).sum() < np.abs(wb).sum() and (wb**2).sum() < (wa**2).sum() and ns["q1_answer"] == "c"


# --------------------------------------------------------------------------- library


def test_exported_library_has_the_reusable_pieces():
    path, text = library_module(CHAPTER)
    assert path.name == "ch04_regularization.py"
    module: dict = {}
    exec(compile(text, str(path), "exec"), module)  # self-contained apart from numpy
    for name in ["l2_penalty", "l1_penalty", "weight_decay_step", "EarlyStopping", "dropout_forward",
                 "dropout_backward", "bagging_predict", "random_flip", "random_crop", "affine_warp",
                 "add_gaussian_noise", "cutout", "brightness_contrast", "label_smoothing_cross_entropy"]:
        assert name in module, name
    assert "BEGIN SOLUTION" not in text
    out, _ = module["dropout_forward"](np.ones((2, 2)), 0.5, train=True, mask=np.eye(2, dtype=bool))
    np.testing.assert_array_equal(out, 2 * np.eye(2))


def test_torch_is_imported_only_in_hidden_tests():
    parts = CHAPTER.source.read_text().split("### BEGIN HIDDEN TESTS")
    assert "import torch" not in parts[0]
    for part in parts[1:]:
        assert "import torch" not in part.split("### END HIDDEN TESTS", 1)[1]
