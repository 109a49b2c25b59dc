"""PyTorch basics: the notebook's claims hold on the reference solution, in the small configuration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ns():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_SIZE", "small")
        mp.setenv("COURSE_DEVICE", "cpu")
        return solution_namespace(ROOT / "solutions" / "p1_pytorch_basics.py")


def test_runs_the_small_configuration_on_the_cpu(ns):
    assert ns["SIZE"] == "small" and ns["device"].type == "cpu"
    assert len(ns["train_set"]) == ns["CONFIG"]["n_train"] and len(ns["test_set"]) == ns["CONFIG"]["n_test"]


def test_the_classifier_learns(ns):
    history = ns["history"]
    assert len(history["train loss"]) == ns["CONFIG"]["epochs"]
    assert history["train loss"][-1] < 0.6 * history["train loss"][0]
    floor = 0.8 if ns["split"].source == "real" else 0.75  # ten classes: chance is 0.1
    assert history["test accuracy"][-1] > floor, history["test accuracy"]


def test_the_checkpoint_restores_the_model_and_resumes(ns):
    assert ns["restored_accuracy"] == ns["saved_accuracy"] == ns["history"]["test accuracy"][-1]
    assert ns["extra"]["epoch"] == ns["CONFIG"]["epochs"]
    assert len(ns["extra"]["history"]["train loss"]) == ns["CONFIG"]["epochs"] + 1
    assert ns["restored_optimizer"].state_dict()["state"], "Adam's moments were restored"


def test_the_confusion_matrix_counts_every_test_image(ns):
    confusion = ns["confusion"]
    assert confusion.sum() == len(ns["test_set"])
    assert np.trace(confusion) / confusion.sum() == pytest.approx(ns["history"]["test accuracy"][-1])


def test_bfloat16_autocast_is_coarser_than_float32_but_close(ns):
    assert ns["low"].dtype == torch.bfloat16
    error = ((ns["low"].double() - ns["exact"]).norm() / ns["exact"].norm()).item()
    assert 1e-4 < error < 2e-2
