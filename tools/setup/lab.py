"""Start JupyterLab on the course (what ``make lab`` runs): register the course kernel, then open the first notebook.

    .venv/bin/python -m tools.setup.lab [extra jupyter lab arguments, e.g. --no-browser --port 8899]

As root (a Docker container, many cloud VMs) Jupyter refuses to start without ``--allow-root``; it is passed only
when the user is root, as the Jupyter Docker images do (Windows has no root: never there). Jupyter prints the URL to
open (with its token). On Linux and macOS Jupyter replaces this process (Ctrl+C reaches it directly); Windows has no
such exec, so there Jupyter runs as a child and its exit code is passed on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST = "week1/01_environment_check.ipynb"
KERNEL = [
    "-m",
    "ipykernel",
    "install",
    "--user",
    "--name",
    "transformers-course",
    "--display-name",
    "Python (transformers course)",
]


def command(uid: int, extra: list[str], python: str = sys.executable) -> list[str]:
    """The ``jupyter lab`` command line for a user id (0 = root)."""
    root = ["--allow-root"] if uid == 0 else []
    return [python, "-m", "jupyterlab", f"--notebook-dir={ROOT}", *root, *extra, str(ROOT / FIRST)]


def user_id() -> int:
    """The effective user id; -1 where there is none (Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else -1


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, *KERNEL], check=True, stdout=subprocess.DEVNULL)
    cmd = command(user_id(), argv)
    print("Starting JupyterLab; open the http://127.0.0.1:... URL it prints below (Ctrl+C twice stops it).", flush=True)
    return replace_process(cmd)


def replace_process(cmd: list[str], posix: bool | None = None) -> int:
    """Run ``cmd`` in place of this process (POSIX), or as a child whose exit code is returned (Windows)."""
    if os.name != "nt" if posix is None else posix:
        os.execv(cmd[0], cmd)
    try:
        return subprocess.run(cmd).returncode
    except KeyboardInterrupt:  # Ctrl+C reached the child too; it has stopped
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
