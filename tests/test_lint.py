"""The style CI enforces is the one pre-commit and `make lint` apply (STYLE.md): ruff's checks and its formatter over
the package, tools, tests, benchmarks, scripts and notebooks (line length 120), and one spelling (codespell, American
English, as configured in pyproject.toml)."""

import fnmatch
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ["shared", "tools", "tests", "bench", "scripts", "solutions", *sorted(p.name for p in ROOT.glob("week*"))]


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_ruff_is_clean():
    out = run("ruff", "check", *FOLDERS)
    assert out.returncode == 0, out.stdout[-4000:]


def test_ruff_format_is_clean():
    out = run("ruff", "format", "--check", *FOLDERS)
    assert out.returncode == 0, f"run `ruff format` (make lint):\n{out.stdout[-4000:]}"


def spelled_files() -> list[str]:
    """The tracked files codespell reads: all but what [tool.codespell] skips (codespell applies its skip list to the
    folders it walks, not to files named on its command line)."""
    skip = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["codespell"]["skip"].split(",")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in tracked if (ROOT / f).is_file() and not any(fnmatch.fnmatch(f, pattern) for pattern in skip)]


def test_spelling_is_one_variant_and_clean():
    out = run("codespell_lib", *spelled_files())
    assert out.returncode == 0, f"codespell (pyproject.toml [tool.codespell]):\n{out.stdout[-4000:]}"


def test_the_spelling_check_can_fail(tmp_path):
    british = ["optimis" + "er", "normalis" + "es", "colo" + "ur", "tokenis" + "er"]  # split: this file is checked too
    sample = tmp_path / "sample.md"
    sample.write_text(f"The {british[0]} {british[1]} the {british[2]} of the {british[3]}.\n")
    out = run("codespell_lib", "--toml", str(ROOT / "pyproject.toml"), str(sample))
    found = {line.split(": ")[1].split(" ==>")[0] for line in out.stdout.splitlines()}
    assert out.returncode != 0 and found == set(british), out.stdout
