"""Start JupyterLab on the course (what ``make lab`` runs): register the course kernel, then open the first notebook.

    .venv/bin/python -m tools.setup.lab [extra jupyter lab arguments, e.g. --no-browser --port 8899]

As root (a Docker container, many cloud VMs) Jupyter refuses to start without ``--allow-root``; it is passed only
when the user is root, as the Jupyter Docker images do. Jupyter prints the URL to open (with its token).
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


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, *KERNEL], check=True, stdout=subprocess.DEVNULL)
    cmd = command(os.geteuid(), argv)
    print("Starting JupyterLab; open the http://127.0.0.1:... URL it prints below (Ctrl+C twice stops it).", flush=True)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
