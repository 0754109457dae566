"""make test-gpu (tools/build/gpu_run.py) as far as a CPU allows: it stops at once, with the reason, without CUDA;
the make target checks CUDA before anything else; the comparison table puts measurements next to the projection."""

import subprocess
from pathlib import Path

import pytest
import torch

from tools.build import gpu_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_it_stops_at_once_with_the_reason(capsys):
    assert gpu_run.main(["--require-cuda", "--card"]) == 2
    err = capsys.readouterr().err
    assert "needs a CUDA GPU" in err and "torch.cuda.is_available() is False" in err


def test_the_make_target_checks_cuda_first():
    recipe = subprocess.run(
        ["make", "-n", "test-gpu", "VENV=.venv"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    commands = [line for line in recipe if "python" in line and "tools setup" not in line]
    assert "tools.build.gpu_run --require-cuda" in commands[0], commands[:2]


def test_compare_puts_measurements_next_to_the_projection():
    budget = {"notebooks": {"week1/a.ipynb": {"minutes": 2, "peak_gib": 1.0, "first_run_minutes": 3, "builds": []}}}
    rows = [{"notebook": "week1/a.ipynb", "seconds": 60.0, "cuda_peak_mb": 512.0, "ok": True}]
    table = gpu_run.compare({"tiny": rows, "full": []}, budget)
    assert "| week1/a.ipynb | 2 | 1.0 | 60 | 0.50 | 512 | 0.50 | - | - | - | - |" in table
