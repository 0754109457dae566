"""Worked solutions that never rot: one notebook per lesson, `solutions/weekN/NN_name.ipynb`, with a generated header
and, for every exercise of the lesson, a generated `## Exercise k` cell quoting the exercise word for word.

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


def skeleton(course: dict, step: dict, setup_source: str, items: list[str], metadata: dict) -> dict:
    cells = header_cells(course, step, setup_source)
    for k, text in enumerate(items, start=1):
        cells.append(exercise_cell(k, text))
        cells.append(
            {
                "cell_type": "code",
                "id": f"ex{k}-todo",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": "# TODO: solve and assert",
            }
        )
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _synced(course: dict, step: dict, setup_source: str, items: list[str], nb: dict) -> dict:
    """``nb`` with its generated cells rewritten: header, setup, and one `ex{k}` cell per exercise (a new exercise
    gets a TODO cell after it; the cells of a removed one stay, so the test shows them as orphans)."""
    cells = [dict(c) for c in nb["cells"]]  # copies: the caller compares the result with ``nb``
    by_id = {c.get("id"): c for c in cells}
    body = [c for c in cells if c.get("id") not in ("header", "setup")]
    for k, text in enumerate(items, start=1):
        wanted = exercise_cell(k, text)
        if f"ex{k}" in by_id:
            by_id[f"ex{k}"]["source"] = wanted["source"]
        else:
            body += [
                wanted,
                {
                    "cell_type": "code",
                    "id": f"ex{k}-todo",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": "# TODO: solve and assert",
                },
            ]
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
        items = exercises(json.loads(lesson.read_text())["cells"])
        path = root / solution_path(step)
        if not path.exists():
            drift.append(f"{solution_path(step)}: missing")
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(dump(skeleton(course, step, setups[step["path"]], items, metadata)))
            continue
        nb = json.loads(path.read_text())
        want = _synced(course, step, setups[step["path"]], items, nb)
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
