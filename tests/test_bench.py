"""The benchmark scripts stay runnable: each imports and explains itself (timing is their job, not the tests')."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "bench").glob("*.py") if not p.name.startswith("_"))


def test_there_are_benchmarks():
    assert {p.name for p in SCRIPTS} >= {"attention.py", "lightning_vs_hf_trainer.py", "lightning_vs_loop.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_and_bad_arguments(script):
    ok = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "--quick" in ok.stdout, ok.stderr[-500:]
    bad = subprocess.run([sys.executable, str(script), "--no-such-flag"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr
