"""`python -m tools setup|lab|test` (tools/__main__.py): the commands a learner without make types (Windows), and
what `make setup|lab|test` run. Checked without installing anything: on Windows' venv layout (sys.platform faked),
against the Makefile, and for code that would only run on Linux or macOS."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tools.__main__ as course
from tools.setup import install, lab

ROOT = Path(__file__).resolve().parent.parent
# What a learner runs through python -m tools lab|test, before and after the venv exists.
LEARNER_CODE = ["tools/__main__.py", "tools/setup/install.py", "tools/setup/lab.py", "tools/build/prebuild.py"]


def test_the_venv_python_is_where_each_system_puts_it(monkeypatch):
    assert install.venv_python(".venv", windows=False) == os.path.join(".venv", "bin", "python")
    assert install.venv_python(".venv", windows=True) == os.path.join(".venv", "Scripts", "python.exe")
    monkeypatch.setattr(sys, "platform", "win32")
    assert install.venv_python(".venv") == os.path.join(".venv", "Scripts", "python.exe")
    assert install.executable("uv-home/bin", "uv") == os.path.join("uv-home/bin", "uv.exe")


def test_the_install_plan_on_windows(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    vpy = os.path.join(".venv", "Scripts", "python.exe")
    _, cmds, _ = install.plan("pip", "py.exe", ".venv", None, {}, [])
    assert cmds[0] == ["py.exe", "-m", "venv", ".venv"] and all(c[0] == vpy for c in cmds[1:])
    _, cmds, _ = install.plan("uv", "py.exe", ".venv", None, {}, [], bootstrap="venv")  # uv inside the venv
    assert cmds[1][0] == vpy and cmds[2][0] == os.path.join(".venv", "Scripts", "uv.exe")
    _, cmds, _ = install.plan("uv", "py.exe", ".venv", None, {}, [], bootstrap="target")
    assert cmds[1][0].endswith("uv.exe") and all(c[c.index("--python") + 1] == vpy for c in cmds[2:])


def test_test_runs_prebuild_then_one_pytest_over_tests_and_every_notebook():
    (env1, prebuild), (env2, pytest_run) = course.test_commands("PY", "tiny", [])
    assert prebuild == ["PY", "-m", "tools.build.prebuild"]
    assert env1 == {"COURSE_HEADLESS": "1", "COURSE_PROFILE": "tiny"} and env2 == {**env1, "OMP_NUM_THREADS": "1"}
    notebooks = [
        str(p.relative_to(ROOT).as_posix()) for week in course.NOTEBOOKS for p in sorted((ROOT / week).glob("*.ipynb"))
    ]
    assert pytest_run == [
        "PY",
        "-m",
        "pytest",
        "-q",
        "-n",
        "2",
        "--dist",
        "loadfile",
        *course.PYTEST_NB,
        "tests",
        *notebooks,
    ]
    assert len(notebooks) >= 22 and notebooks[0].startswith("week1/01_")
    assert course.test_commands("PY", "full", ["tests", "week1"])[1][1][-2:] == ["tests", "week1"]


def test_make_setup_lab_test_run_this_entry_point():
    """One code path: the three Makefile targets call python -m tools, with the same pytest options as the rest."""
    make = (ROOT / "Makefile").read_text()
    recipes = {t: make.split(f"\n{t}:", 1)[1].split("\n\n")[0] for t in ("setup", "lab", "test")}
    assert recipes["setup"].strip() == "$(PYTHON) -m tools setup $(SETUP_ARGS)"
    assert recipes["lab"].strip() == "$(PYTHON) -m tools lab $(SETUP_ARGS) $(LAB_ARGS)"
    assert recipes["test"].strip() == "$(PYTHON) -m tools test $(SETUP_ARGS) --profile $(TEST_PROFILE)"
    pytest_nb = next(line for line in make.splitlines() if line.startswith("PYTEST_NB :="))
    assert pytest_nb.split(":=")[1].split() == list(course.PYTEST_NB)
    assert "$(STAMP)" not in make  # the up-to-date rule lives in tools/__main__.py now


def test_setup_is_skipped_while_the_venv_is_newer_than_its_inputs(tmp_path):
    venv = tmp_path / "venv"
    assert not course.up_to_date(str(venv))
    venv.mkdir()
    stamp = venv / course.STAMP
    stamp.touch()
    newest = max((ROOT / name).stat().st_mtime for name in course.INPUTS)
    os.utime(stamp, (newest + 10, newest + 10))
    assert course.up_to_date(str(venv))
    os.utime(stamp, (newest - 10, newest - 10))  # the lock changed after the install: set up again
    assert not course.up_to_date(str(venv))


@pytest.fixture
def recorded(monkeypatch):
    """tools/__main__.py with every install and every process recorded instead of run (Windows layout)."""
    calls = []
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(install, "main", lambda argv: calls.append(("install", argv)) or 0)
    monkeypatch.setattr(install, "run_all", lambda cmds, env: calls.extend(("run", c) for c in cmds) or True)
    monkeypatch.setattr(
        course.subprocess,
        "run",
        lambda cmd, cwd, env: calls.append(("run", cmd, env)) or subprocess.CompletedProcess(cmd, 0),
    )
    monkeypatch.setattr(lab, "replace_process", lambda cmd: calls.append(("lab", cmd)) or 0)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")  # main() sets these for its children; restored after
    monkeypatch.delenv("PYTHONUTF8", raising=False)
    monkeypatch.chdir(ROOT)  # main() changes to the course folder; come back there afterwards
    return calls


def test_python_m_tools_test_on_windows(recorded, tmp_path):
    venv = str(tmp_path / "venv")
    (tmp_path / "venv").mkdir()
    assert course.main(["test", "--venv", venv, "--torch-args", "", "tests/test_x.py"]) == 0
    vpy = os.path.join(venv, "Scripts", "python.exe")
    assert recorded[0] == ("install", ["--venv", venv, "--installer", "auto", "--torch-args", ""])
    assert recorded[1] == ("run", [vpy, "-c", recorded[1][1][2]]) and (tmp_path / "venv" / course.STAMP).is_file()
    prebuild, tests = recorded[2], recorded[3]
    assert prebuild[1] == [vpy, "-m", "tools.build.prebuild"] and tests[1][:3] == [vpy, "-m", "pytest"]
    assert tests[1][-1] == "tests/test_x.py" and tests[2]["OMP_NUM_THREADS"] == "1"
    assert "PYTHONDONTWRITEBYTECODE" not in tests[2]  # kernels may cache bytecode (make unexports it too)
    assert tests[2]["PYTHONUTF8"] == "1"  # the course's UTF-8 files read as UTF-8 on Windows too
    recorded.clear()
    assert course.main(["test", "--venv", venv]) == 0  # set up already: straight to the tests
    assert [c[0] for c in recorded] == ["run", "run"]


def test_python_m_tools_lab_passes_jupyter_options_on(recorded, tmp_path):
    venv = str(tmp_path / "venv")
    (tmp_path / "venv").mkdir()
    assert course.main(["lab", "--venv", venv, "--no-browser", "--port", "8899"]) == 0
    assert recorded[-1] == (
        "lab",
        [os.path.join(venv, "Scripts", "python.exe"), "-m", "tools.setup.lab", "--no-browser", "--port", "8899"],
    )
    with pytest.raises(SystemExit):
        course.main(["setup", "--venv", venv, "extra"])


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


@pytest.mark.parametrize("path", LEARNER_CODE)
def test_learner_code_runs_on_windows_and_macos(path):
    """No POSIX-only module or call, no shell, no hard-coded /tmp or bin/python in what python -m tools runs."""
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"fcntl", "signal", "resource", "pwd", "grp", "termios", "pty"}, imported
    for call in _calls(tree):
        assert not any(k.arg == "shell" for k in call.keywords), f"{path}: shell=True"
        name = ast.unparse(call.func)
        assert name not in ("os.fork", "os.system", "os.killpg", "os.setsid"), f"{path}: {name}"
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(n) is not None
    }
    strings = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]
    assert not [s for s in strings if "/tmp" in s or "bin/python" in s or s.startswith(("rm ", "mktemp"))]


@pytest.mark.parametrize("path", ["tools/__main__.py", "tools/setup/install.py", "tools/setup/lab.py"])
def test_learner_entry_needs_only_the_standard_library(path):
    """It runs on a stock Python before the venv exists."""
    tree = ast.parse((ROOT / path).read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert modules - {"tools"} <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)


def test_python_m_tools_help_runs_with_a_plain_interpreter():
    base = getattr(sys, "_base_executable", sys.executable)  # the interpreter the venv was made from
    out = subprocess.run(
        [base, "-E", "-s", "-m", "tools", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "py -3.11 -m tools test" in out.stdout
