"""`make lab` starts JupyterLab as root (with --allow-root) and as a normal user (without), and the notebook page
answers. Run for real here, without a browser, on a free local port."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.setup import lab

ROOT = Path(__file__).resolve().parent.parent


def test_allow_root_only_for_root():
    as_root, as_user = lab.command(0, []), lab.command(1000, ["--no-browser"])
    assert "--allow-root" in as_root and "--allow-root" not in as_user
    assert as_user[-2] == "--no-browser" and as_user[-1].endswith(lab.FIRST)


def test_no_root_on_windows(monkeypatch):
    monkeypatch.delattr(lab.os, "geteuid", raising=False)  # Windows' os has no geteuid
    assert lab.user_id() == -1 and "--allow-root" not in lab.command(lab.user_id(), [])


def test_make_lab_runs_the_launcher():
    make = (ROOT / "Makefile").read_text()
    assert "$(PYTHON) -m tools lab $(SETUP_ARGS) $(LAB_ARGS)" in make
    assert '"-m", "tools.setup.lab"' in (ROOT / "tools" / "__main__.py").read_text()


def test_on_windows_jupyter_runs_as_a_child_and_its_exit_code_is_passed_on(monkeypatch):
    calls = []
    monkeypatch.setattr(lab.subprocess, "run", lambda cmd: calls.append(cmd) or subprocess.CompletedProcess(cmd, 3))
    assert lab.replace_process(["jupyter", "lab"], posix=False) == 3 and calls == [["jupyter", "lab"]]


def test_lab_starts_and_serves_the_first_notebook(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "HOME": str(tmp_path),
    }
    args = ["--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=course-test"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.setup.lab", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=os.name != "nt",
    )
    url = f"http://127.0.0.1:{port}/lab/tree/{lab.FIRST}?token=course-test"
    try:
        status, deadline = None, time.monotonic() + 90
        while status != 200 and time.monotonic() < deadline and proc.poll() is None:
            try:
                status = urllib.request.urlopen(url, timeout=5).status
            except OSError:
                time.sleep(0.5)
        assert status == 200, f"JupyterLab did not answer (exit code {proc.poll()})"
        assert (tmp_path / "data" / "kernels" / "transformers-course" / "kernel.json").is_file()
    finally:
        stop(proc)
        proc.communicate(timeout=30)


def stop(proc: subprocess.Popen) -> None:
    """Stop the launcher and JupyterLab under it: its process group (Linux, macOS), its process tree (Windows)."""
    if os.name == "nt":
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(proc.pid)], capture_output=True)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
