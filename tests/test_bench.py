"""The benchmark scripts stay runnable: each imports and explains itself (timing is their job, not the tests')."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))


def test_there_are_benchmarks():
    assert {p.name for p in SCRIPTS} >= {"attention.py", "lightning_vs_hf_trainer.py", "lightning_vs_loop.py", "moe.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_and_bad_arguments(script):
    ok = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "--quick" in ok.stdout, ok.stderr[-500:]
    bad = subprocess.run([sys.executable, str(script), "--no-such-flag"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr


def test_moe_benchmark_smoke_run():
    args = ["--quick", "--tokens", "64", "--d-model", "16", "--d-ff", "16", "--experts", "4", "--top-k", "2",
            "--threads", "1"]
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "moe.py"), *args], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-1000:]
    last = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"moe_vs_dense_active=\d+\.\d{3}", last), last
    assert "equal active" in out.stdout and "equal total" in out.stdout
    bad = subprocess.run([sys.executable, str(ROOT / "bench" / "moe.py"), "--experts", "2", "--top-k", "3"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "top-k" in bad.stderr
