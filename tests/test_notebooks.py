"""Every notebook: generated header, no outputs, explains before code, ends with recap + exercises, safe calls."""

import json
import re
import shutil
from pathlib import Path

import pytest

from tools import headers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("week*/*.ipynb"))
FORBIDDEN = {
    r"trust_remote_code\s*=\s*True": "never trust remote code",
    r"weights_only\s*=\s*False": "torch.load must use weights_only=True",
    r"(?<![\w.])(eval|exec)\(": "no eval/exec",
    r"\.zero_grad\(|optimizer\.step\(": "Lightning owns the loop",
    r"\.to\(device\)|\.cuda\(\)": "Lightning moves tensors to the device",
    r"loss\s*=\s*\w+\.mean\(\)\s*$": "a fake objective teaches nothing",
}


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_course_lists_every_notebook():
    listed = {s["path"] for s in headers.load_course()["step"] if not s.get("planned")}
    assert listed == {str(p.relative_to(ROOT)) for p in NOTEBOOKS}


def test_headers_and_readmes_match_the_template():
    assert headers.sync(ROOT, check=True) == []


def test_header_drift_is_detected(tmp_path):
    shutil.copy(ROOT / "course.toml", tmp_path)
    for p in NOTEBOOKS:
        (tmp_path / p.parent.name).mkdir(exist_ok=True)
        shutil.copy(p, tmp_path / p.relative_to(ROOT))
    for readme in ROOT.glob("week*/README.md"):
        (tmp_path / readme.parent.name).mkdir(exist_ok=True)
        shutil.copy(readme, tmp_path / readme.relative_to(ROOT))
    assert headers.sync(tmp_path, check=True) == []
    victim = tmp_path / NOTEBOOKS[0].relative_to(ROOT)
    nb = json.loads(victim.read_text())
    nb["cells"][0]["source"] = "# A hand-edited title"
    victim.write_text(json.dumps(nb))
    assert headers.sync(tmp_path, check=True) == [f"{NOTEBOOKS[0].relative_to(ROOT)}: header differs from the template"]
    headers.sync(tmp_path)  # write mode repairs it
    assert headers.sync(tmp_path, check=True) == []


def test_colab_setup_never_upgrades_torch():
    course = headers.load_course()
    setup = headers.header_cells(course, course["step"][0])[1]["source"]
    assert 'f"torch=={torch.__version__}"' in setup  # pins Colab's own torch while installing the package
    assert "--upgrade" not in setup and "-U" not in setup.split()
    assert setup.count(course["course"]["repo"]) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    nb = cells(path)
    assert [c.get("id") for c in nb[:2]] == ["header", "setup"]
    for c in nb:
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, "strip outputs before committing"
    assert nb[2]["cell_type"] == "markdown", "explain before the first code cell after the setup"
    tail = " ".join(source(c) for c in nb[-2:])
    assert "## Recap" in tail and "## Exercises" in tail
    assert "TODO" not in " ".join(source(c) for c in nb)
    code = "\n".join(source(c) for c in nb if c["cell_type"] == "code")
    for pattern, why in FORBIDDEN.items():
        assert not re.search(pattern, code, flags=re.M), f"{path.name}: {why} ({pattern})"
    assert "assert " in code, "every notebook proves what it teaches"
    assert "RESULT:" in code, "print one RESULT line for the course table (make course)"
