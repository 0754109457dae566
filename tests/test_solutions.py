"""Worked solutions: every exercise of every lesson has one, every solution belongs to an exercise, and each one
asserts its answer (or says why an answer cannot be asserted). The solutions run in `make solutions`."""

import json
import re
from pathlib import Path

import pytest

from tools.authoring import headers, solutions

ROOT = Path(__file__).resolve().parent.parent
# Only the weeks whose solutions are written (tools/authoring/solutions.py, SOLVED_WEEKS); the others are pending.
LESSONS = sorted(p for p in ROOT.glob("week*/*.ipynb") if solutions.week_of(p) in solutions.SOLVED_WEEKS)
FORBIDDEN = {
    r"trust_remote_code\s*=\s*True": "never trust remote code",
    r"weights_only\s*=\s*False": "torch.load must use weights_only=True",
    r"(?<![\w.])(eval|exec)\(": "no eval/exec",
    r"\.zero_grad\(|optimizer\.step\(": "Lightning owns the loop",
    r"\.to\(device\)|\.cuda\(\)": "Lightning moves tensors to the device",
}
WHY_NOT = "**Why no assert:**"


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def sections(cells) -> dict:
    """Exercise number (or checked-exercise key, "q1") -> the cells after its generated `## Exercise k` (`## Your turn
    q1: ...`) cell, up to the next one."""
    out, current = {}, None
    for cell in cells[2:]:
        text = source(cell) + "\n"
        match = (
            re.match(r"## (?:Exercise (\d+)\s*\n|Your turn (q\d+):)", text) if cell["cell_type"] == "markdown" else None
        )
        if match:
            current = int(match.group(1)) if match.group(1) else match.group(2)
            out[current] = []
        elif current is None:
            raise AssertionError(f"cell {cell.get('id')} comes before the first exercise")
        else:
            out[current].append(cell)
    return out


def test_solved_weeks_are_weeks_of_the_course():
    weeks = {solutions.week_of(p) for p in ROOT.glob("week*/*.ipynb")}
    assert solutions.SOLVED_WEEKS and set(solutions.SOLVED_WEEKS) <= weeks, solutions.SOLVED_WEEKS
    assert solutions.solved(ROOT) == [f"solutions/{p.relative_to(ROOT)}" for p in LESSONS], "make solutions runs them"


def test_solution_notebooks_follow_the_lessons():
    assert [d for d in headers.sync(ROOT, check=True) if d.startswith("solutions/")] == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_every_exercise_has_a_solution_and_every_solution_an_exercise(lesson):
    items = solutions.exercises(json.loads(lesson.read_text())["cells"])
    assert items, f"{lesson.name} has no exercises"
    path = ROOT / "solutions" / lesson.relative_to(ROOT)
    cells = json.loads(path.read_text())["cells"]
    parts = sections(cells)
    turns = [key for key, _, _ in solutions.checked(json.loads(lesson.read_text())["cells"])]
    numbered = sorted(k for k in parts if isinstance(k, int))
    assert numbered == list(range(1, len(items) + 1)), f"solutions for exercises {numbered}"
    assert [k for k in parts if isinstance(k, str)] == turns, f"solutions for checked exercises: {turns}"
    for key in turns:
        code = "\n".join(source(c) for c in parts[key] if c["cell_type"] == "code")
        assert re.search(rf"^assert check\.{key}\(", code, re.M), f"{key}: the solution asserts check.{key}(...)"
    for k, part in parts.items():
        code = "\n".join(source(c) for c in part if c["cell_type"] == "code")
        prose = "\n".join(source(c) for c in part if c["cell_type"] == "markdown")
        assert code.strip(), f"exercise {k}: no code"
        assert "TODO" not in code + prose, f"exercise {k}: still a TODO"
        assert re.search(r"^\s*assert ", code, re.M) or WHY_NOT in prose, (
            f"exercise {k}: assert the answer, or explain in a markdown cell starting {WHY_NOT!r}"
        )
        assert not re.search(r"^## ", prose, re.M), f"exercise {k}: a second-level heading that is no exercise"
    for cell in cells:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, "strip outputs"
            for pattern, why in FORBIDDEN.items():
                assert not re.search(pattern, source(cell), flags=re.M), f"{path.name}: {why}"
