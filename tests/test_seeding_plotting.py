"""Tests for helpers.seeding and helpers.plotting (headless, Agg backend)."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from helpers.plotting import COURSE_STYLE, plot_curves, use_course_style  # noqa: E402
from helpers.seeding import seed_everything  # noqa: E402

# --------------------------------------------------------------------------- seeding


def draw() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_is_reproducible() -> None:
    rng = seed_everything(123)
    first, first_rng = draw(), rng.random(3)
    rng = seed_everything(123)
    assert draw() == first
    np.testing.assert_array_equal(rng.random(3), first_rng)
    seed_everything(124)
    assert draw() != first


def test_seed_everything_returns_default_rng() -> None:
    rng = seed_everything()
    assert isinstance(rng, np.random.Generator)
    np.testing.assert_array_equal(rng.random(4), np.random.default_rng(0).random(4))


@pytest.mark.parametrize(
    ("seed", "error"), [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_seed_everything_rejects_bad_seeds(seed: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="seed"):
        seed_everything(seed)  # type: ignore[arg-type]


def test_seeding_module_does_not_import_torch() -> None:
    code = "import sys, helpers.seeding; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


# --------------------------------------------------------------------------- plotting


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_use_course_style_is_idempotent() -> None:
    with matplotlib.rc_context():
        use_course_style()
        once = dict(matplotlib.rcParams)
        use_course_style()
        assert dict(matplotlib.rcParams) == once
        assert matplotlib.rcParams["axes.grid"] is True
        assert tuple(matplotlib.rcParams["figure.figsize"]) == COURSE_STYLE["figure.figsize"]


def test_plot_curves() -> None:
    ax = plot_curves(
        {"train": [1.0, 0.5, 0.25], "validation": [1.2, 0.8, 0.7]},
        xlabel="epoch",
        ylabel="loss",
        logy=True,
    )
    assert [line.get_label() for line in ax.get_lines()] == ["train", "validation"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()) == ("epoch", "loss", "log")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
    ax.figure.canvas.draw()  # renders headless


def test_plot_curves_on_given_axes_with_x() -> None:
    _, (left, right) = plt.subplots(1, 2)
    ax = plot_curves(
        {"test error": [0.3, 0.2, 0.25]}, x=[1, 10, 100], xlabel="width", ylabel="error", ax=right
    )
    assert ax is right and not left.get_lines() and ax.get_yscale() == "linear"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 10, 100])


@pytest.mark.parametrize(
    ("curves", "kwargs", "match"),
    [
        ({}, {}, "curves is empty"),
        ({"a": [1.0, 0.0]}, {"logy": True}, "values <= 0"),
        ({"a": [1.0, 2.0]}, {"x": [1.0]}, "has 2 values but x has 1"),
        ({"a": [[1.0]]}, {}, "must be 1-D"),
    ],
)
def test_plot_curves_errors(curves: dict, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        plot_curves(curves, xlabel="x", ylabel="y", **kwargs)
