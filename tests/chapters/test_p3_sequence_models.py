"""Sequence models: the notebook's claims hold on the reference solution, in the small configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from autograder.authoring import solution_namespace

ROOT = Path(__file__).resolve().parents[2]
BIGRAM_BITS = 3.58  # chapter 07's bigram baseline on the same validation text


@pytest.fixture(scope="module")
def ns():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSE_SIZE", "small")
        mp.setenv("COURSE_DEVICE", "cpu")
        return solution_namespace(ROOT / "solutions" / "p3_sequence_models.py")


def test_runs_the_small_configuration_on_the_cpu(ns):
    assert ns["SIZE"] == "small" and ns["device"].type == "cpu"
    assert ns["vocab_size"] == 65 and len(ns["train_data"]) + len(ns["val_data"]) == len(ns["text"])


def test_both_models_beat_the_bigram_baseline(ns):
    for name in ("gpt_history", "lstm_history"):
        history = ns[name]
        assert history["val"][-1] < BIGRAM_BITS - 0.3, (name, history["val"])
        assert history["val"][-1] < history["val"][0] - 2.0, (name, history["val"])


def test_the_checkpoint_restores_the_model_and_resumes(ns):
    assert ns["restored_bits"] == pytest.approx(ns["gpt_history"]["val"][-1], abs=1e-6)
    assert ns["extra"]["step"] == ns["CONFIG"]["steps"] - 1
    assert ns["restored_optimizer"].state_dict()["state"], "AdamW's moments were restored"
    assert ns["resumed_history"]["val"][-1] < ns["restored_bits"] + 0.05


def test_the_attention_maps_are_causal_distributions(ns):
    maps = ns["maps"]
    T = len(ns["snippet"])
    assert maps.shape == (ns["CONFIG"]["n_heads"], T, T)
    assert torch.allclose(maps.sum(-1), torch.ones(maps.shape[:2]), atol=1e-5)
    assert maps.triu(1).abs().max() == 0


def test_attention_weights_helper_matches_the_block(ns):
    """The plotted weights, applied to the values, give the block's attention output."""
    torch.manual_seed(0)
    block = ns["Block"](12, 3).double()
    x = torch.randn(1, 5, 12, dtype=torch.float64)
    weights = ns["attention_weights"](block, x).double()
    _, _, v = block.attn.qkv(block.ln1(x)).split(12, dim=-1)
    v = v.view(1, 5, 3, 4).transpose(1, 2)[0]
    out = block.attn.proj((weights @ v).transpose(0, 1).reshape(1, 5, 12))
    assert torch.allclose(out, block.attn(block.ln1(x)), atol=1e-5)


def test_generate_is_seeded_and_greedy_is_deterministic(ns):
    generate, gpt = ns["generate"], ns["gpt"]
    a = generate(gpt, "ROMEO:", 20, 1.0, None, seed=3)
    b = generate(gpt, "ROMEO:", 20, 1.0, None, seed=3)
    assert a == b and a.startswith("ROMEO:") and len(a) == 26
    assert generate(gpt, "ROMEO:", 20, 0.0, None, seed=1) == generate(gpt, "ROMEO:", 20, 0.0, None, seed=2)


def test_learning_rate_schedule_warms_up_and_decays(ns):
    f = ns["learning_rate_factor"]
    assert f(0, 100, 10) == pytest.approx(0.1) and f(9, 100, 10) == pytest.approx(1.0)
    assert f(10, 100, 10) == pytest.approx(1.0) and f(100, 100, 10) == pytest.approx(0.1)
    assert all(f(s, 100, 10) >= f(s + 1, 100, 10) for s in range(10, 100))


def test_the_gpt_parameter_count_matches_the_concept_check(ns):
    block = ns["gpt"].blocks[0]
    assert sum(p.numel() for p in block.parameters()) == ns["q1_answer"]
    assert ns["gpt"].head.weight is ns["gpt"].tok_emb.weight


def test_the_block_equals_chapter_08s_numpy_block(ns):
    """With a ReLU, the torch block and chapter 08's block_forward are one function."""
    assert abs(ns["ours"] - ns["numpy_out"]).max() < 1e-12
    torch.manual_seed(1)
    block = ns["Block"](12, 3).double()  # with its GELU the two differ: the comparison can fail
    x = torch.randn(1, 4, 12, dtype=torch.float64)
    with torch.no_grad():
        gelu_out = block(x).numpy()
    relu_out, _ = ns["numpy_block_forward"](x.numpy(), ns["chapter08_params"](block), num_heads=3, causal=True)
    assert abs(gelu_out - relu_out).max() > 1e-3
