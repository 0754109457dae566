"""tools/setup/install.py: which installer runs, with which commands, and pip's package sources handed to uv."""

import subprocess
import sys
from pathlib import Path

import pytest

from tools.setup import install

ROOT = Path(__file__).resolve().parent.parent
PIP_CONFIG = """\
:env:.find-links='/opt/wheels'
global.cert='/etc/ssl/certs/ca-certificates.crt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/ignored/because/env/wins'
global.index-url='https://mirror.example/simple'
global.timeout='60'
"""


@pytest.fixture(autouse=True)
def posix_layout(monkeypatch):
    """The plans below are written with Linux's and macOS's venv layout (.venv/bin/python), on every system;
    tests/test_course_entry.py checks Windows' (.venv\\Scripts\\python.exe)."""
    monkeypatch.setattr(sys, "platform", "linux")


def test_pip_settings_follow_pips_precedence():
    settings = install.pip_settings(PIP_CONFIG)
    assert settings == {
        "find-links": ["/opt/wheels"],
        "cert": ["/etc/ssl/certs/ca-certificates.crt"],
        "extra-index-url": ["file:///opt/pypi/simple", "file:///opt/pypi-more/simple"],
        "index-url": ["https://mirror.example/simple"],
    }


def test_uv_gets_the_same_sources_as_pip():
    args, env = install.uv_source_args(install.pip_settings(PIP_CONFIG))
    assert args == [
        "--index-url",
        "https://mirror.example/simple",
        "--extra-index-url",
        "file:///opt/pypi/simple",
        "--extra-index-url",
        "file:///opt/pypi-more/simple",
        "--find-links",
        "/opt/wheels",
        "--index-strategy",
        "unsafe-best-match",
    ]
    assert env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"}
    assert install.uv_source_args({}) == ([], {})
    assert "--no-index" in install.uv_source_args({"no-index": ["true"]})[0]


def _steps(cmds):
    return [" ".join(c) for c in cmds]


def _check_torch_first_then_lock_without_deps(cmds):
    """The guarantee of every route: torch at the locked version first, then the lock and the package, --no-deps."""
    lines = _steps(cmds)
    torch_step = next(i for i, c in enumerate(lines) if "torch==2.13.0" in c)
    lock_step = next(i for i, c in enumerate(lines) if "-r requirements.lock" in c)
    assert torch_step < lock_step == len(lines) - 2
    assert "--no-deps" in cmds[lock_step] and cmds[-1][-3:] == ["--no-deps", "-e", "."]
    assert not any("--upgrade" in c or " -U " in c for c in lines)


def test_uv_on_path_creates_the_venv_with_uv(monkeypatch):
    monkeypatch.setattr(install.shutil, "which", lambda name: "/usr/local/bin/uv")
    installer, uv, _ = install.choose("auto", ".venv")
    assert (installer, uv) == ("uv", "/usr/local/bin/uv")
    route, cmds, _ = install.plan(installer, "/usr/bin/python3", ".venv", uv, {}, [])
    assert route == "uv"
    assert cmds[0] == ["/usr/local/bin/uv", "venv", "-q", "--seed", "--python", "/usr/bin/python3", ".venv"]
    assert all(c[:4] == ["/usr/local/bin/uv", "pip", "install", "-q"] for c in cmds[1:])
    _check_torch_first_then_lock_without_deps(cmds)


def test_uv_absent_is_bootstrapped_with_pip(monkeypatch, tmp_path):
    monkeypatch.setattr(install.shutil, "which", lambda name: None)
    monkeypatch.setattr(install, "uv_home", lambda: tmp_path / "uv-home")
    installer, uv, how = install.choose("auto", str(tmp_path / "venv"))
    assert (installer, uv, how) == ("uv", None, "target")  # this interpreter has pip
    route, cmds, _ = install.plan(installer, sys.executable, ".venv", uv, {}, [], bootstrap=how)
    assert cmds[0] == [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--target",
        str(tmp_path / "uv-home"),
        f"uv=={install.UV_VERSION}",
    ]
    assert cmds[1][0] == str(tmp_path / "uv-home" / "bin" / "uv") and cmds[1][1] == "venv"
    _check_torch_first_then_lock_without_deps(cmds)
    # An interpreter without pip of its own: make the venv first and bootstrap uv inside it.
    _, cmds, _ = install.plan("uv", sys.executable, ".venv", None, {}, [], bootstrap="venv")
    assert _steps(cmds[:2]) == [
        f"{sys.executable} -m venv .venv",
        f".venv/bin/python -m pip install -q uv=={install.UV_VERSION}",
    ]
    assert cmds[2][0] == ".venv/bin/uv"


def test_installer_pip_on_request(monkeypatch):
    monkeypatch.setattr(install.shutil, "which", lambda name: "/usr/local/bin/uv")  # even with uv around
    installer, uv, _ = install.choose("pip", ".venv")
    route, cmds, env = install.plan(
        installer,
        "python3",
        ".venv",
        uv,
        install.pip_settings(PIP_CONFIG),
        ["--index-url", "https://download.pytorch.org/whl/cpu"],
    )
    assert route == "pip" and env == {}
    assert _steps(cmds) == [
        "python3 -m venv .venv",
        ".venv/bin/python -m pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
        ".venv/bin/python -m pip install -q --no-deps -r requirements.lock",
        ".venv/bin/python -m pip install -q --no-deps -e .",
    ]
    with pytest.raises(SystemExit, match="expected auto, uv or pip"):
        install.choose("conda", ".venv")


def test_torchs_own_index_replaces_the_configured_index_for_torch_only():
    settings = install.pip_settings(PIP_CONFIG)
    cpu = ["--index-url", "https://download.pytorch.org/whl/cpu"]
    _, cmds, _ = install.plan("uv", "python3", ".venv", "uv", settings, cpu, venv_exists=True)
    torch_step, lock_step = cmds[0], cmds[1]
    assert torch_step.count("--index-url") == 1 and torch_step[-2:] == cpu
    assert "https://mirror.example/simple" in lock_step


def test_the_lock_pins_the_torch_that_every_route_installs():
    assert install.locked_torch() == "torch==2.13.0"


def test_dry_run_prints_a_plan_and_installs_nothing(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "tools.setup.install", "--dry-run", "--installer", "pip", "--venv", str(tmp_path / "v")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0 and out.stdout.startswith("route: pip")
    assert not (tmp_path / "v").exists()
