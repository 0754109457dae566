"""The course's commands on any system: what ``make setup``, ``make lab`` and ``make test`` run, without make.

    python -m tools setup [--venv .venv] [--installer auto|uv|pip] [--torch-args "..."]
    python -m tools lab   [same options] [extra jupyter lab arguments, e.g. --no-browser --port 8899]
    python -m tools test  [same options] [--profile tiny|full] [paths, default: tests and every notebook]

Run it in the course folder with the Python the course should use (3.11 or newer): on Windows
``py -3.11 -m tools test``, on macOS and Linux ``python3 -m tools test``. Standard library only, no shell, no make:
it runs before ``.venv`` exists, on a stock python.org Python, and finds the venv's interpreter where that system puts
it (``.venv/bin/python``; ``.venv\\Scripts\\python.exe`` on Windows).

* ``setup``: tools/setup/install.py (torch first, then the exact lock, --no-deps), when ``.venv`` is missing or older
  than what it was built from (requirements.lock, pyproject.toml, the installer), as make's rule did.
* ``lab``: setup, then tools/setup/lab.py in the venv: registers the kernel, starts JupyterLab on the first notebook.
* ``test``: setup, then tools/build/prebuild.py and one pytest run over the unit tests and the notebooks (2 workers,
  one notebook per worker, one torch thread each), headless, tiny profile unless you ask for another.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tools.setup import install, lab

ROOT = install.ROOT
STAMP = ".course-installed"  # in the venv: the set-up finished; newer than INPUTS = up to date
INPUTS = ("requirements.lock", "pyproject.toml", "tools/setup/install.py")
NOTEBOOKS = ("week1", "week2", "week3", "week4", "week5", "week6")
# nbval and pytest options of every notebook run (the Makefile's PYTEST_NB is the same: tests/test_course_entry.py)
PYTEST_NB = ("-p", "no:cacheprovider", "--nbval-lax", "--nbval-cell-timeout=300", "--timeout=900")
WORKERS = ("-n", "2", "--dist", "loadfile")  # one notebook per worker (nbval's default splits a notebook's cells)


def up_to_date(venv: str) -> bool:
    stamp = Path(venv, STAMP)
    if not stamp.is_file():
        return False
    return all(stamp.stat().st_mtime >= (ROOT / name).stat().st_mtime for name in INPUTS)


def setup(venv: str, installer: str, torch_args: str) -> int:
    """Create or refresh ``venv`` (nothing to do when it is up to date)."""
    if up_to_date(venv):
        return 0
    code = install.main(["--venv", venv, "--installer", installer, "--torch-args", torch_args])
    if code:
        return code
    check = [
        install.venv_python(venv),
        "-c",
        "import importlib.metadata as m, shared; print('installed: torch', m.version('torch'))",
    ]
    if not install.run_all([check], {}):
        return 1
    Path(venv, STAMP).touch()
    return 0


def test_paths(paths: list[str]) -> list[str]:
    """What ``test`` runs: the paths given, or the unit tests and every notebook in course order."""
    if paths:
        return paths
    notebooks = [f"{week}/{nb.name}" for week in NOTEBOOKS for nb in sorted((ROOT / week).glob("*.ipynb"))]
    return ["tests", *notebooks]


def test_commands(python: str, profile: str, paths: list[str]) -> list[tuple[dict[str, str], list[str]]]:
    """``[(environment, command)]``: what several notebooks share built once, then one pytest run."""
    env = {"COURSE_HEADLESS": "1", "COURSE_PROFILE": profile}  # headless: no progress bars, whatever CI says
    return [
        (env, [python, "-m", "tools.build.prebuild"]),
        ({**env, "OMP_NUM_THREADS": "1"}, [python, "-m", "pytest", "-q", *WORKERS, *PYTEST_NB, *test_paths(paths)]),
    ]


def run(env: dict[str, str], cmd: list[str]) -> int:
    print("+", *(f"{k}={v}" for k, v in env.items()), shlex.join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, **env}).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("setup", "lab", "test"))
    parser.add_argument("--venv", default=".venv")
    parser.add_argument("--installer", default=os.environ.get("INSTALLER", "auto"), help="auto, uv or pip")
    parser.add_argument(
        "--torch-args",
        default=os.environ.get("TORCH_PIP_ARGS", ""),
        help="extra pip/uv arguments for torch (default: $TORCH_PIP_ARGS), e.g. "
        '"--index-url https://download.pytorch.org/whl/cpu"',
    )
    parser.add_argument("--profile", default="tiny", help="test: the course profile (tiny or full)")
    args, rest = parser.parse_known_args(argv)
    rest = rest[1:] if rest[:1] == ["--"] else rest
    if (args.command == "setup" and rest) or (args.command == "test" and any(a.startswith("-") for a in rest)):
        parser.error(f"unexpected arguments for {args.command}: {' '.join(rest)}")
    os.chdir(ROOT)  # relative paths (the venv, the notebooks) are the course folder's, as in make
    os.environ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # uv installs no bytecode; let Python cache what it imports (some images set PYTHONDONTWRITEBYTECODE=1, which
    # would make every kernel recompile torch and transformers: 12 s instead of 5 s per import).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    # UTF-8 for files and pipes in every process started from here (pytest, kernels, Jupyter): the course's files
    # are UTF-8, and Windows' default encoding is the locale's (cp1252). Linux and macOS use UTF-8 already.
    os.environ.setdefault("PYTHONUTF8", "1")
    code = setup(args.venv, args.installer, args.torch_args)
    if code or args.command == "setup":
        return code
    python = install.venv_python(args.venv)
    if args.command == "lab":
        return lab.replace_process([python, "-m", "tools.setup.lab", *rest])
    for env, cmd in test_commands(python, args.profile, rest):
        code = run(env, cmd)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
