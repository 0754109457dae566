"""Create the course's virtualenv and install the exact lock: uv when it is there (or can be bootstrapped), pip else.

    python3 -m tools.setup.install [--venv .venv] [--installer auto|uv|pip] [--torch-args "..."] [--dry-run]

Same guarantees on both routes: torch first at the locked version, then requirements.lock with no dependency
resolution (--no-deps), then this package in editable mode, so nothing can pull a newer torch.

``auto`` uses ``uv`` from PATH; without one it installs uv with pip into ``.course_cache/uv-<version>`` (one 18 MB
wheel, ~3 s); if that fails it falls back to pip. uv does not read pip's configuration, so the
index URL, extra index URLs, find-links, trusted hosts and certificate that pip is set up with (environment
variables or pip.conf, as ``pip config list`` reports them) are passed to uv explicitly; with extra indexes uv is
told to compare versions across all of them, as pip does. Only the standard library is used: this runs before the
venv exists.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UV_VERSION = "0.13.9"
MIN_PYTHON = (3, 11)
# pip settings that change where packages come from, and uv's equivalent flag (None: handled separately)
PIP_KEYS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "trusted-host": "--allow-insecure-host",
    "no-index": None,
    "cert": None,
}


def pip_settings(config_list: str) -> dict[str, list[str]]:
    """Parse ``pip config list`` output (``section.key='value'`` lines; ``:env:`` = PIP_* variables).

    Environment variables win over the ``install`` section, which wins over ``global``, as in pip.
    """
    rank = {"global": 0, "install": 1, ":env:": 2}
    found: dict[str, tuple[int, list[str]]] = {}
    for line in config_list.splitlines():
        name, sep, value = line.partition("=")
        section, _, key = name.strip().rpartition(".")
        if not sep or key not in PIP_KEYS or section not in rank:
            continue
        values = shlex.split(value.strip().strip("'\""))
        if key not in found or rank[section] >= found[key][0]:
            found[key] = (rank[section], values)
    return {key: values for key, (_, values) in found.items()}


def uv_source_args(settings: dict[str, list[str]]) -> tuple[list[str], dict[str, str]]:
    """uv flags and environment that give uv the package sources pip is configured with."""
    args: list[str] = []
    env: dict[str, str] = {}
    for key, flag in PIP_KEYS.items():
        for value in settings.get(key, []):
            if flag:
                args += [flag, value]
    if settings.get("extra-index-url"):
        args += ["--index-strategy", "unsafe-best-match"]  # pip's rule: best version across all indexes
    if any(v.lower() in ("1", "true", "yes", "on") for v in settings.get("no-index", [])):
        args.append("--no-index")
    if settings.get("cert"):
        env["SSL_CERT_FILE"] = settings["cert"][0]
    return args, env


def _without_index_url(args: list[str]) -> list[str]:
    """Drop ``--index-url X`` (torch's own index, e.g. PyTorch's CPU index, replaces the configured one)."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--index-url":
            skip = True
        else:
            out.append(arg)
    return out


def _windows(windows: bool | None) -> bool:
    return sys.platform == "win32" if windows is None else windows


def executable(folder: str | Path, name: str, windows: bool | None = None) -> str:
    """``folder/name``, with Windows' ``.exe``: ``uv`` -> ``uv.exe``."""
    return os.path.join(folder, f"{name}.exe" if _windows(windows) else name)


def venv_bin(venv: str | Path, windows: bool | None = None) -> str:
    """A virtualenv's folder of programs: ``bin`` (Linux, macOS), ``Scripts`` (Windows, python.org's layout)."""
    return os.path.join(venv, "Scripts" if _windows(windows) else "bin")


def venv_python(venv: str | Path, windows: bool | None = None) -> str:
    """A virtualenv's interpreter: ``.venv/bin/python``, or ``.venv\\Scripts\\python.exe`` on Windows."""
    return executable(venv_bin(venv, windows), "python", windows)


def locked_torch(lock: Path = ROOT / "requirements.lock") -> str:
    for line in lock.read_text().splitlines():
        if line.startswith("torch=="):
            return line.strip()
    raise SystemExit(f"error: {lock} has no torch==<version> line; expected the lock to pin torch")


def uv_home(version: str = UV_VERSION) -> Path:
    """Where a bootstrapped uv lives: the repository's ignored cache folder, one copy per uv version."""
    return ROOT / ".course_cache" / f"uv-{version}"


def plan(
    installer: str,
    python: str,
    venv: str,
    uv: str | None,
    settings: dict[str, list[str]],
    torch_args: list[str],
    venv_exists: bool = False,
    bootstrap: str = "target",
) -> tuple[str, list, dict]:
    """The commands that set up ``venv``: ``(route, commands, extra environment)``.

    ``installer``: ``uv`` or ``pip`` (already resolved from ``auto``). ``uv``: the uv executable, or None to
    bootstrap it with pip: ``bootstrap="target"`` installs it into ``.course_cache/`` with the interpreter's own
    pip; ``"venv"`` (an interpreter without pip) creates the venv first and installs uv inside it.
    """
    vpy = venv_python(venv)
    torch = locked_torch()
    install_lock = ["--no-deps", "-r", "requirements.lock"]
    if installer == "pip":
        cmds = [] if venv_exists else [[python, "-m", "venv", venv]]
        pip = [vpy, "-m", "pip", "install", "-q"]
        cmds += [pip + [torch, *torch_args], pip + install_lock, pip + ["--no-deps", "-e", "."]]
        return "pip", cmds, {}
    if installer != "uv":
        raise ValueError(f"installer={installer!r}; expected 'uv' or 'pip'")
    cmds = []
    if uv is None and bootstrap == "venv":
        if not venv_exists:
            cmds.append([python, "-m", "venv", venv])
        cmds.append([vpy, "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"])
        uv, venv_exists = executable(venv_bin(venv), "uv"), True
    elif uv is None:
        home = uv_home()
        cmds.append([python, "-m", "pip", "install", "-q", "--target", str(home), f"uv=={UV_VERSION}"])
        uv = executable(home / "bin", "uv")  # pip --target puts programs in bin/, on Windows too
    if not venv_exists:
        cmds.append([uv, "venv", "-q", "--seed", "--python", python, venv])  # --seed: pip stays available
    sources, env = uv_source_args(settings)
    torch_sources = _without_index_url(sources) if "--index-url" in torch_args else sources
    uvpip = [uv, "pip", "install", "-q", "--python", vpy]
    # torch alone (--no-deps: its dependencies are in the lock), so the lock step resolves and downloads nothing twice
    cmds += [
        uvpip + torch_sources + ["--no-deps", torch, *torch_args],
        uvpip + sources + install_lock,
        uvpip + ["--no-deps", "-e", "."],
    ]
    return "uv", cmds, env


def choose(installer: str, venv: str, python: str = sys.executable) -> tuple[str, str | None, str]:
    """Resolve ``auto``: ``(installer, uv executable or None = bootstrap it, how to bootstrap)``."""
    if installer not in ("auto", "uv", "pip"):
        raise SystemExit(f"error: INSTALLER={installer!r} is not valid; expected auto, uv or pip")
    if installer == "pip":
        return "pip", None, ""
    on_path = shutil.which("uv")
    if on_path:
        return "uv", on_path, ""
    for candidate in (executable(uv_home() / "bin", "uv"), executable(venv_bin(venv), "uv")):  # bootstrapped earlier
        if os.path.isfile(candidate):
            return "uv", candidate, ""
    has_pip = subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0
    return "uv", None, "target" if has_pip else "venv"


def run_all(cmds: list[list[str]], env: dict[str, str]) -> bool:
    for cmd in cmds:
        print("+", shlex.join(cmd), flush=True)
        full_env = {**os.environ, "PIP_ROOT_USER_ACTION": "ignore", **env}
        if subprocess.run(cmd, cwd=ROOT, env=full_env).returncode != 0:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=".venv")
    parser.add_argument("--installer", default=os.environ.get("INSTALLER", "auto"))
    parser.add_argument(
        "--torch-args",
        default="",
        help='extra pip/uv arguments for torch, e.g. "--index-url https://download.pytorch.org/whl/cpu"',
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    if sys.version_info < MIN_PYTHON:
        raise SystemExit(
            f"error: the locked versions need Python >= {'.'.join(map(str, MIN_PYTHON))}; this is "
            f"{sys.version.split()[0]}. Run: make PYTHON=python3.11 ... (without make: "
            f"py -3.11 -m tools ... on Windows, python3.11 -m tools ... elsewhere)"
        )
    python, venv = sys.executable, args.venv
    torch_args = shlex.split(args.torch_args)
    installer, uv, bootstrap = choose(args.installer, venv, python)
    config = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    route, cmds, env = plan(
        installer,
        python,
        venv,
        uv,
        pip_settings(config),
        torch_args,
        venv_exists=os.path.exists(venv_python(venv)),
        bootstrap=bootstrap,
    )
    if args.dry_run:
        print(f"route: {route}" + (" (bootstrap uv with pip)" if route == "uv" and uv is None else ""))
        for cmd in cmds:
            print(shlex.join(cmd))
        return 0
    print(
        f"setting up {venv} with {route}" + (" (bootstrapping uv with pip)" if route == "uv" and uv is None else ""),
        flush=True,
    )
    if run_all(cmds, env):
        return 0
    if route == "uv" and args.installer == "auto":
        print(
            "uv could not finish the install; falling back to pip (or run: make setup INSTALLER=pip)",
            file=sys.stderr,
            flush=True,
        )
        _, cmds, _ = plan("pip", python, venv, None, {}, torch_args, venv_exists=os.path.exists(venv_python(venv)))
        if run_all(cmds, {}):
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
