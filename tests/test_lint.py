"""The code style CI enforces is the one pre-commit and `make lint` apply: ruff over the package, tools, tests,
benchmarks and notebooks (line length 120, pyflakes, bugbear, import order, pyupgrade)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    folders = [
        "shared",
        "tools",
        "tests",
        "bench",
        *sorted(p.name for p in ROOT.glob("week*")),
        *(["scripts"] if (ROOT / "scripts").is_dir() else []),
        "solutions",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *folders], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout[-4000:]
