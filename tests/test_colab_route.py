"""tools/setup/colab.py, the route behind `make test-colab`: what it takes from the committed snapshot of Colab's
runtime, the commands it plans, the set-up cell's command it runs (recorded from the real cell), and how it reports
what the cell changed. Offline and without installing anything (the route itself runs in `make test-colab`)."""

import datetime
import importlib.metadata
import io
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_colab import cell_pip_argv
from tools.setup import bounds, colab

ROOT = Path(__file__).resolve().parent.parent
FREEZE = """\
# Do not modify this file directly
accelerate==1.14.0
google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz
huggingface_hub==1.27.0
nvidia-nccl-cu12==2.28.9
torch==2.11.0+cu128
triton==3.6.0
cuda-python==12.9.7
"""


def test_the_snapshot_is_colabs_python_313_runtime_with_its_source_and_date():
    snap = colab.snapshot()
    assert colab.python_version() == "3.13"
    assert snap["torch"] == ("torch", "2.11.0+cu128") and snap["transformers"][1] == "5.15.0"
    assert "pytorch-lightning" not in snap  # what the cell has to bring
    note = (colab.SNAPSHOT / "README.md").read_text()
    assert "googlecolab/backend-info" in note and "2026-08-19" in note


def test_freeze_lines_direct_references_and_build_labels():
    found = colab.read_freeze(FREEZE)
    assert found["huggingface-hub"] == ("huggingface_hub", "1.27.0") and "google-colab" not in found
    direct = colab.read_freeze(FREEZE, direct=True)["google-colab"]
    assert direct == ("google-colab", "@ file:///colabtools/dist/google_colab-1.0.0.tar.gz")
    assert colab.constraint_lines({"google-colab": direct}) == []
    assert colab.public("2.11.0+cu128") == "2.11.0"
    lines = colab.constraint_lines(found)  # the CUDA runtime is left to the torch build the route installs
    assert lines == ["accelerate==1.14.0", "huggingface_hub==1.27.0", "torch==2.11.0"]


def test_the_route_pins_colabs_version_of_what_the_course_touches():
    reqs, snap = bounds.requirements(), colab.snapshot()
    pins = dict(p.split("==") for p in colab.runtime_pins(snap, reqs))
    names = {bounds.normalize(n) for n in pins}
    assert {
        "transformers",
        "datasets",
        "huggingface-hub",
        "tokenizers",
        "accelerate",
        "peft",
        "numpy",
        "pandas",
        "matplotlib",
        "safetensors",
        "ipykernel",
        "jupyter-client",
        "ipython",
        "ipywidgets",
        "pip",
        "torch",
    } <= names
    for name, version in pins.items():
        assert colab.public(snap[bounds.normalize(name)][1]) == version
    assert not names & set(bounds.WEIGHT_WHEELS) and not any(colab.CUDA_RUNTIME.match(n) for n in names)


def test_plan_fresh_venv_torch_alone_then_colabs_versions():
    cpu = ["--index-url", "https://download.pytorch.org/whl/cpu"]
    snap, reqs = colab.snapshot(), bounds.requirements()
    cmds, _ = colab.plan("python3.13", ".venv-colab", "uv", {"find-links": ["/opt/wheels"]}, cpu, snap, reqs)
    create, torch, runtime = cmds
    assert create == ["uv", "venv", "-q", "--clear", "--seed", "--python", "python3.13", ".venv-colab"]
    assert torch[-4:] == ["--no-deps", "torch==2.11.0", *cpu]
    assert runtime[runtime.index("-c") + 1].endswith("colab-constraints.txt")
    assert runtime[runtime.index("-c") + 2 :] == colab.runtime_pins(snap, reqs) and "/opt/wheels" in runtime
    assert not any(a in ("-U", "--upgrade", "--reinstall") for c in cmds for a in c)
    with pytest.raises(ValueError, match="no torch"):
        colab.plan("python3.13", ".v", "uv", {}, [], {}, reqs)


def test_the_cells_command_is_recorded_from_the_real_cell():
    """The set-up cell's Colab part, run in an interpreter with google.colab faked: its pip command, with the
    installed torch distribution's version (what pip compares), and nothing run."""
    argv = colab.cell_command(sys.executable)
    assert argv == cell_pip_argv(importlib.metadata.version("torch"))
    with pytest.raises(SystemExit, match="ran 2 commands"):
        colab.cell_command(sys.executable, "import subprocess\nsubprocess.run(['a'])\nsubprocess.run(['b'])\n")


def test_the_cell_installs_the_course_from_the_checkout_copy(tmp_path):
    argv = ["py", "-m", "pip", "install", "-q", "pkg @ git+https://github.com/o/r@main", "torch==2.11.0"]
    out = colab.from_checkout(argv, "pkg", tmp_path)
    assert out == [*argv[:5], f"pkg @ {tmp_path.resolve().as_uri()}", "torch==2.11.0"]
    with pytest.raises(SystemExit, match="does not install 'other @ <url>' once"):
        colab.from_checkout(argv, "other", tmp_path)


def test_the_checkout_copy_has_what_a_clone_has(tmp_path):
    copy = colab.copy_checkout(tmp_path)
    assert (copy / "pyproject.toml").is_file() and (copy / "shared" / "__init__.py").is_file()
    assert not (copy / ".venv").exists() and not (copy / ".git").exists()


def test_what_the_cell_changed():
    before = {
        "numpy": ("numpy", "2.1.3"),
        "peft": ("peft", "0.20.0"),
        "torch": ("torch", "2.11.0"),
        "old": ("old", "1.0"),
    }
    after = {
        "numpy": ("numpy", "2.4.0"),
        "peft": ("peft", "0.13.0"),
        "torch": ("torch", "2.11.0"),
        "pytorch-lightning": ("pytorch-lightning", "2.6.6"),
        "course": ("course", "@ file:///src"),
    }
    diff = colab.changes(before, after)
    assert diff == {
        "upgraded": ["numpy 2.1.3 -> 2.4.0"],
        "downgraded": ["peft 0.20.0 -> 0.13.0"],
        "added": ["course @ file:///src", "pytorch-lightning==2.6.6"],
        "removed": ["old==1.0"],
    }
    assert colab.report(colab.changes(before, before)) == "nothing"
    assert colab.report(diff).startswith("upgraded: numpy 2.1.3 -> 2.4.0\n")


def test_the_harness_adds_only_what_the_venv_lacks():
    reqs = bounds.requirements()
    installed = {"ipykernel": ("ipykernel", "6.17.1"), "pytest": ("pytest", "8.4.2")}
    missing, weights = colab.harness(".v", ["uvpip"], ["--find-links", "/w"], installed, reqs)
    assert missing[:5] == ["uvpip", "--find-links", "/w", "-c", colab.os.path.join(".v", "colab-installed.txt")]
    assert "nbval>=0.11.0" in missing and any(r.startswith("gguf>=") for r in missing)
    assert not any(r.startswith(("ipykernel", "pytest>")) for r in missing)  # Colab's stay, even below a dev bound
    assert weights[weights.index("--no-deps") + 1 :] == bounds.split_weights(reqs)[1]


def test_find_python():
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert colab.find_python(here) == sys.executable
    assert colab.find_python("/opt/python3.13/bin/python") == "/opt/python3.13/bin/python"
    assert colab.find_python("python3.13") == "python3.13"
    assert colab.find_python("2.1") == "2.1"  # none here: uv is asked for one


def test_refresh_writes_googles_files_and_where_they_came_from(tmp_path, monkeypatch):
    fetched = []

    def urlopen(url, timeout):
        fetched.append(url)
        return io.BytesIO(f"from {url}\n".encode())

    monkeypatch.setattr(colab.urllib.request, "urlopen", urlopen)
    colab.refresh(tmp_path, base="https://example.test/", today=datetime.date(2027, 1, 2))
    assert fetched == [f"https://example.test/{name}" for name in colab.FILES]
    assert (tmp_path / "pip-freeze.gpu.txt").read_text() == "from https://example.test/pip-freeze.gpu.txt\n"
    assert "https://example.test/ (fetched 2027-01-02)" in (tmp_path / "README.md").read_text()


def test_dry_run_plans_and_installs_nothing(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.setup.colab",
            "--dry-run",
            "--venv",
            str(tmp_path / "v"),
            "--python",
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0 and "torch==2.11.0" in out.stdout and "transformers==5.15.0" in out.stdout
    assert not (tmp_path / "v").exists()


def test_make_and_ci_run_the_route():
    make = (ROOT / "Makefile").read_text()
    assert "-m tools.setup.colab --venv .venv-colab --python $(COLAB_PYTHON)" in make
    assert "$(call route_tests,.venv-colab)" in make
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "run: make test-colab" in workflow
