"""Worked solutions that never rot: one notebook per lesson, `solutions/weekN/NN_name.ipynb`, with a generated header,
a generated `## Your turn qN` cell for every checked exercise of the lesson (a `### Your turn (qN): title` heading in
the lesson, followed by its starter cell), and a generated `## Exercise k` cell quoting each of the lesson's closing
exercises word for word.

`tools/authoring/headers.py` keeps them in line (it calls `sync` here): a new lesson gets a solution skeleton; an
exercise whose text changed, or an exercise added or removed, makes `python -m tools.authoring.headers --check` (and
the tests) fail until the solution notebook follows. What comes after each generated cell (code that solves the
exercise and asserts its answer) is written by hand; `tests/test_solutions.py` checks that every exercise has one
and every solution belongs to an exercise.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import tomllib

# The weeks whose solutions are written: tests/test_solutions.py checks their lessons and `make solutions` runs
# them. The remaining weeks are pending (their lessons are still being written); tools/authoring/headers.py keeps
# generating skeletons for every lesson, so a week joins by adding it here once its solutions pass.
SOLVED_WEEKS = (1, 2, 3, 4, 5, 6)

EXERCISES = "## Exercises"
_ITEM = re.compile(r"^(\d+)\.\s+(.*)$")
_YOUR_TURN = re.compile(r"^### Your turn \((q\d+)\): (.+)$", re.M)
_HEADING = re.compile(r"^## Exercise (\d+)\s*$", re.M)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def exercises(cells: list[dict]) -> list[str]:
    """The numbered items under the notebook's `## Exercises` heading, each as one text (continuation lines kept)."""
    text = next((_source(c) for c in reversed(cells) if c["cell_type"] == "markdown" and EXERCISES in _source(c)), None)
    if text is None:
        return []
    items: list[list[str]] = []
    for line in text.split(EXERCISES, 1)[1].splitlines():
        match = _ITEM.match(line)
        if match:
            if int(match.group(1)) != len(items) + 1:
                raise ValueError(f"exercise {match.group(1)} follows exercise {len(items)}; expected 1, 2, 3, ...")
            items.append([match.group(2).rstrip()])
        elif items and line.strip():
            items[-1].append(line.strip())
    return [" ".join(item) for item in items]


def checked(cells: list[dict]) -> list[tuple[str, str, str]]:
    """``(key, title, text)`` of every checked exercise in the lesson: a markdown cell with a heading
    ``### Your turn (q1): the attention weights``, the text being the rest of that cell."""
    found = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        for match in _YOUR_TURN.finditer(text):
            body = text[match.end() :].split("\n### ", 1)[0].strip()
            found.append((match.group(1), match.group(2).strip(), body))
    keys = [k for k, _, _ in found]
    if keys != [f"q{i}" for i in range(1, len(keys) + 1)]:
        raise ValueError(f"checked exercises {keys}; expected q1, q2, ... in order")
    return found


def solution_path(step: dict) -> str:
    return f"solutions/{step['path']}"


def header_cells(course: dict, step: dict, setup_source: str) -> list[dict]:
    meta = course["course"]
    path = solution_path(step)
    colab = f"https://colab.research.google.com/github/{meta['repo']}/blob/{meta['branch']}/{path}"
    lesson = f"{step['number']:02d} · {step['title']}"
    text = "\n".join(
        [
            f"# Solutions · {lesson}",
            "",
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})",
            "",
            f"*Worked solutions to the exercises of [{lesson}](../../{step['path']}). "
            "Try each exercise yourself first. Every solution runs on its own (it repeats what it needs "
            "from the lesson) and asserts its answer where the answer is a number or a property.*",
        ]
    )
    return [
        {"cell_type": "markdown", "id": "header", "metadata": {}, "source": text},
        {
            "cell_type": "code",
            "id": "setup",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": setup_source,
        },
    ]


def exercise_cell(k: int, text: str) -> dict:
    return {"cell_type": "markdown", "id": f"ex{k}", "metadata": {}, "source": f"## Exercise {k}\n\n> {text}"}


def checked_cell(key: str, title: str, text: str) -> dict:
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
    return {"cell_type": "markdown", "id": key, "metadata": {}, "source": f"## Your turn {key}: {title}\n\n{quoted}"}


def todo_cell(cell_id: str) -> dict:
    return {
        "cell_type": "code",
        "id": f"{cell_id}-todo",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": "# TODO: solve and assert",
    }


def skeleton(course: dict, step: dict, setup_source: str, items: list[str], metadata: dict, turns=()) -> dict:
    cells = header_cells(course, step, setup_source)
    for key, title, text in turns:
        cells += [checked_cell(key, title, text), todo_cell(key)]
    for k, text in enumerate(items, start=1):
        cells += [exercise_cell(k, text), todo_cell(f"ex{k}")]
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _synced(course: dict, step: dict, setup_source: str, items: list[str], nb: dict, turns=()) -> dict:
    """``nb`` with its generated cells rewritten: header, setup, one `qN` cell per checked exercise and one `ex{k}` cell
    per closing exercise (a new one gets a TODO cell after it, checked exercises before the first closing exercise;
    the cells of a removed one stay, so the test shows them as orphans)."""
    cells = [dict(c) for c in nb["cells"]]  # copies: the caller compares the result with ``nb``
    by_id = {c.get("id"): c for c in cells}
    body = [c for c in cells if c.get("id") not in ("header", "setup")]
    first_exercise = next((i for i, c in enumerate(body) if str(c.get("id", "")).startswith("ex")), len(body))
    new_turns = []
    for key, title, text in turns:
        wanted = checked_cell(key, title, text)
        if key in by_id:
            by_id[key]["source"] = wanted["source"]
        else:
            new_turns += [wanted, todo_cell(key)]
    body = body[:first_exercise] + new_turns + body[first_exercise:]
    for k, text in enumerate(items, start=1):
        wanted = exercise_cell(k, text)
        if f"ex{k}" in by_id:
            by_id[f"ex{k}"]["source"] = wanted["source"]
        else:
            body += [wanted, todo_cell(f"ex{k}")]
    return {**nb, "cells": header_cells(course, step, setup_source) + body, "metadata": {**nb.get("metadata", {})}}


def sync(root: Path, course: dict, setups: dict[str, str], dump, metadata: dict, check: bool = False) -> list[str]:
    """Bring every solution notebook in line with its lesson's exercises; return what differed.

    ``setups``: step path -> the lesson's setup cell source; ``dump``: how notebooks are serialized; ``metadata``:
    the notebook metadata (kernel) of a new skeleton."""
    drift = []
    for step in course["step"]:
        lesson = root / step["path"]
        if step.get("planned") or not lesson.exists():
            continue
        lesson_cells = json.loads(lesson.read_text())["cells"]
        items, turns = exercises(lesson_cells), checked(lesson_cells)
        path = root / solution_path(step)
        if not path.exists():
            drift.append(f"{solution_path(step)}: missing")
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(dump(skeleton(course, step, setups[step["path"]], items, metadata, turns)))
            continue
        nb = json.loads(path.read_text())
        want = _synced(course, step, setups[step["path"]], items, nb, turns)
        if [_source(c) for c in want["cells"]] != [_source(c) for c in nb["cells"]]:
            drift.append(f"{solution_path(step)}: header or exercise text differs from the lesson")
            if not check:
                path.write_text(dump(want))
    return drift


def week_of(lesson_path: str | Path) -> int:
    """The week of a lesson from its path: ``week3/10_x.ipynb`` -> 3."""
    return int(Path(lesson_path).parent.name.removeprefix("week"))


def solved(root: Path) -> list[str]:
    """The solution notebooks of SOLVED_WEEKS (paths relative to ``root``), in course order."""
    course = tomllib.loads((root / "course.toml").read_text())
    return [solution_path(s) for s in course["step"] if week_of(s["path"]) in SOLVED_WEEKS and not s.get("planned")]


if __name__ == "__main__":  # make solutions: python -m tools.authoring.solutions --solved
    if sys.argv[1:] != ["--solved"]:
        raise SystemExit("usage: python -m tools.authoring.solutions --solved   (prints the solution notebooks to run)")
    print(" ".join(solved(Path(__file__).resolve().parents[2])))
