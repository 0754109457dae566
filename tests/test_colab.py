"""What the notebooks' Colab set-up cell installs, on a runtime that has each dependency missing, below, at or above
the course's lower bound. The cell's real pip command line runs (pip's own resolver, --dry-run) against fake
installed packages and a folder of fake wheels: offline, and in seconds. README, Supported versions, says the same."""

import importlib.metadata
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.authoring import headers
from tools.setup import bounds, install

TORCH_ON_COLAB = "2.6.0+cu124"  # any version: the cell pins whatever torch the runtime has


def setup_pip_argv(monkeypatch, torch_version: str = TORCH_ON_COLAB) -> list[str]:
    """Run the generated setup cell's Colab branch with a fake ``google.colab`` and capture its pip command."""
    colab_part = headers.colab_branch()
    calls = []
    version = importlib.metadata.version

    with monkeypatch.context() as patch:  # undone on leaving: the simulation below runs the real pip
        patch.setitem(sys.modules, "google.colab", object())
        patch.setattr(subprocess, "run", lambda argv, **kw: calls.append((argv, kw)))
        patch.setattr(importlib.metadata, "version", lambda name: torch_version if name == "torch" else version(name))
        exec(compile(colab_part, "setup-cell", "exec"), {})
    assert len(calls) == 1 and calls[0][1].get("check") is True, calls
    return calls[0][0]


def cell_pip_argv(torch_version: str) -> list[str]:
    """The one pip command the set-up cell runs on Colab: the course's package, and the runtime's own torch."""
    meta = headers.load_course()["course"]
    package = f"{meta['package']} @ git+https://github.com/{meta['repo']}@{meta['branch']}"
    return [sys.executable, "-m", "pip", "install", "-q", package, f"torch=={torch_version}"]


def test_the_cell_installs_the_course_and_pins_the_runtimes_torch(monkeypatch):
    argv = setup_pip_argv(monkeypatch)
    assert argv == cell_pip_argv(TORCH_ON_COLAB)
    # No -U/--upgrade (nothing that satisfies a bound is touched, so --upgrade-strategy has nothing to decide), no
    # --force-reinstall, no --no-deps (missing dependencies must come), no constraint that could move torch.
    assert not {"-U", "--upgrade", "--force-reinstall", "--no-deps", "-c", "--constraint"} & set(argv)


def test_every_dependency_of_the_package_has_a_lower_bound_and_no_upper_bound():
    """What the cell relies on: pip only ever moves a package that is missing or below a bound."""
    for req in bounds.requirements(extras=())["dependencies"]:
        name, op, _ = bounds.parse(req)
        assert op == ">=", f"{req}: the course declares lower bounds only, so Colab keeps what it has"


# --- pip's behavior, offline -------------------------------------------------------------------------------------


def below(version: str) -> str:
    """A release just under ``version``: 5.0.0 -> 4.99.99, 0.1.2 -> 0.1.1."""
    parts = [int(p) for p in version.split(".")]
    i = max(k for k, p in enumerate(parts) if p > 0)
    return ".".join(map(str, parts[:i] + [parts[i] - 1] + [99] * (len(parts) - i - 1)))


def above(version: str) -> str:
    return f"{int(version.split('.')[0]) + 1}.0.0"


def metadata(name: str, version: str, requires=()) -> str:
    return "".join(
        [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", *(f"Requires-Dist: {r}\n" for r in requires)]
    )


def fake_wheel(folder: Path, name: str, version: str, requires=()) -> None:
    stem = f"{name.replace('-', '_')}-{version}"
    with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{stem}.dist-info/METADATA", metadata(name, version, requires))
        whl.writestr(
            f"{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        whl.writestr(f"{stem}.dist-info/RECORD", "")


def fake_installed(site: Path, name: str, version: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(metadata(name, version))
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory):
    """An empty Python environment (a Colab runtime to fill with fake packages) and the course's requirements."""
    root = tmp_path_factory.mktemp("colab")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True, timeout=120)
    return root


def simulate(runtime_dir: Path, name: str, state: str, monkeypatch, extra_wheels=()) -> dict[str, str]:
    """What the cell's pip command would install (``{normalized name: version}``), with every dependency ``state``."""
    reqs = bounds.requirements(extras=())["dependencies"]
    lowers = {bounds.normalize(n): v for n, _, v in map(bounds.parse, reqs) if bounds.normalize(n) != "torch"}
    case = runtime_dir / name
    wheels, venv = case / "wheels", runtime_dir / "venv"
    wheels.mkdir(parents=True)
    site = case / "site"
    for pkg, low in lowers.items():
        for version in (below(low), low, above(low)):
            fake_wheel(wheels, pkg, version)
        if state != "missing":
            fake_installed(site, pkg, {"below": below(low), "at": low, "above": above(low)}[state])
    fake_installed(site, "torch", TORCH_ON_COLAB)
    fake_wheel(wheels, "torch", "99.0.0")  # a newer torch on the index: the cell must not take it
    fake_wheel(wheels, "transformers-lightning-course", "0.1.0", reqs)
    for args in extra_wheels:
        fake_wheel(wheels, *args)
    argv = setup_pip_argv(monkeypatch)
    pip_args = argv[argv.index("install") + 1 :]
    pip_args = [
        "transformers-lightning-course" if a.startswith("transformers-lightning-course @") else a for a in pip_args
    ]
    report = case / "report.json"
    env = {"PYTHONPATH": str(site), "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            install.venv_python(venv),
            "install",
            "--dry-run",
            "--no-index",
            "--find-links",
            str(wheels),
            "--report",
            str(report),
            *pip_args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**_base_env(), **env},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    items = json.loads(report.read_text())["install"]
    return {bounds.normalize(i["metadata"]["name"]): i["metadata"]["version"] for i in items}


def _base_env() -> dict[str, str]:
    """This environment without pip's settings (no index, no find-links of the machine) and without PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}


@pytest.mark.parametrize("state", ["missing", "below", "at", "above"])
def test_what_the_cell_installs(runtime_dir, state, monkeypatch):
    reqs = bounds.requirements(extras=())["dependencies"]
    lowers = {bounds.normalize(n): v for n, _, v in map(bounds.parse, reqs) if bounds.normalize(n) != "torch"}
    installs = simulate(runtime_dir, state, state, monkeypatch)
    assert installs.pop("transformers-lightning-course") == "0.1.0"
    assert "torch" not in installs, "the cell must never replace the runtime's torch"
    if state in ("missing", "below"):  # pip takes the newest release it finds, not the bound
        assert installs == {pkg: above(low) for pkg, low in lowers.items()}
    else:  # at or above its bound: Colab's own version stays
        assert installs == {}


def test_a_release_that_needs_a_newer_torch_is_passed_over(runtime_dir, monkeypatch):
    """torch is pinned to the runtime's: pip takes an older release of a dependency rather than a new torch."""
    low = dict(map(lambda r: bounds.parse(r)[::2], bounds.requirements(extras=())["dependencies"]))["peft"]
    newest = f"{int(above(low).split('.')[0]) + 1}.0.0"
    installs = simulate(
        runtime_dir, "torch-hungry", "missing", monkeypatch, extra_wheels=[("peft", newest, ["torch>=99"])]
    )
    assert installs["peft"] == above(low) and "torch" not in installs
