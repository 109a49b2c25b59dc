"""helpers.runtime: how the PyTorch notebooks choose device and size, and keep checkpoints."""

from pathlib import Path

import pytest
import torch

from helpers import runtime


def test_size_auto_follows_the_environment_then_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_SIZE", raising=False)
    assert runtime.pick_size("auto", torch.device("cpu")) == "small"
    assert runtime.pick_size("auto", torch.device("cuda")) == "full"
    monkeypatch.setenv("COURSE_SIZE", "small")
    assert runtime.pick_size("auto", torch.device("cuda")) == "small"
    assert runtime.pick_size("full", torch.device("cpu")) == "full"  # an explicit choice wins


def test_bad_size_and_missing_gpu_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="'auto', 'small' or 'full'"):
        runtime.pick_size("tiny")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="sees no GPU"):
            runtime.pick_device("cuda")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert runtime.pick_device() == torch.device("cpu")
    assert "configuration" in runtime.describe(torch.device("cpu"), "small")


def test_checkpoint_round_trip_resumes_model_and_optimizer(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    path = runtime.save_checkpoint(tmp_path / "run" / "last.pt", model=model, optimizer=opt, step=7, losses=[1.0, 0.5])
    assert path.is_file() and not list(path.parent.glob("*.partial"))
    other = torch.nn.Linear(3, 2)
    other_opt = torch.optim.Adam(other.parameters(), lr=0.1)
    extra = runtime.load_checkpoint(path, model=other, optimizer=other_opt)
    assert extra == {"step": 7, "losses": [1.0, 0.5]}
    assert torch.equal(other.weight, model.weight)
    assert torch.equal(other_opt.state_dict()["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    with pytest.raises(FileNotFoundError, match="train first"):
        runtime.load_checkpoint(tmp_path / "none.pt", model=other)
    runtime.save_checkpoint(tmp_path / "model_only.pt", model=model)
    with pytest.raises(ValueError, match="no optimizer state"):
        runtime.load_checkpoint(tmp_path / "model_only.pt", model=other, optimizer=other_opt)


def test_seed_everything_repeats_draws_and_autocast_is_a_no_op_on_cpu() -> None:
    gen = runtime.seed_everything(3)
    first = torch.rand(2), torch.rand(2, generator=gen)
    gen = runtime.seed_everything(3)
    assert all(torch.equal(a, b) for a, b in zip(first, (torch.rand(2), torch.rand(2, generator=gen)), strict=True))
    with runtime.autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    assert list(runtime.progress(range(3), disable=True)) == [0, 1, 2]


def test_epoch_batches_yields_every_batch_of_every_epoch_under_one_bar() -> None:
    loader = [("a", 0), ("b", 1), ("c", 2)]
    seen = list(runtime.epoch_batches(loader, 2, "test"))
    assert seen == [(0, b) for b in loader] + [(1, b) for b in loader]
