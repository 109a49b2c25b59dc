"""The benchmarks keep running: the GPU ones each in its --smoke mode, a tiny configuration on the CPU
(their full configurations need CUDA and are run by hand, see README)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["cifar_resnet.py", "generative.py", "gpt_char.py"])
def test_a_gpu_benchmark_runs_in_its_smoke_mode(script):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--smoke"], cwd=ROOT, timeout=600,
                          capture_output=True, text=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, f"{script} --smoke failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{script} --smoke printed no figures"


def test_known_mistakes_written_another_way_are_named():
    """benchmarks/diagnosis.py on one chapter: each rewritten mistake fails by a check, its fix passes,
    and the feedback names it (the fingerprints see through another order of operations)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "diagnosis.py"), "03_mlp"], cwd=ROOT,
                          timeout=600, capture_output=True, text=True)
    assert done.returncode == 0, f"diagnosis.py failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "3 of 3 rewritten mistakes named" in done.stdout, done.stdout
