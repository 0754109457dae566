"""Generate every notebook's header (title, Colab badge, goals, time, setup cell), the week READMEs and the
solution notebooks' generated cells (tools/authoring/solutions.py) from one template and ``course.toml``, so the
notebooks and their solutions never drift.

    python -m tools.authoring.headers           # write headers, READMEs, solution skeletons (what a new step needs)
    python -m tools.authoring.headers --check   # exit 1 and list what drifted
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import tomllib

from tools.authoring import solutions

ROOT = Path(__file__).resolve().parents[2]
HEADER_IDS = ("header", "setup")

SETUP = """\
# Setup. On Colab: install the course package and keep Colab's own torch. Locally, `make lab` did this.
import sys

if "google.colab" in sys.modules:
    import importlib.metadata
    import subprocess
    import time

    course = "{package} @ git+https://github.com/{repo}@{branch}"
    keep_torch = f"torch=={{importlib.metadata.version('torch')}}"  # pip must never replace Colab's torch
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", course, keep_torch], check=True)
    print(f"installed the course package in {{time.perf_counter() - began:.0f}} s")

from shared.course import start

{start}"""


def start_call(step: dict) -> str:
    """``run = start(...)`` for a step: its models, data and ``[step.config]`` (each value ``[tiny, full]``), laid
    out as ruff format would."""
    args = [f"models={json.dumps(step.get('models', []))}", f"data={json.dumps(step.get('data', []))}"]
    config = step.get("config", {})
    for name, value in config.items():
        if not (isinstance(value, list) and len(value) == 2):
            raise ValueError(f"{step['path']}: config {name} = {value!r}; expected [tiny value, full value]")
    if config:
        items = [f"{json.dumps(k)}: ({_py(v[0])}, {_py(v[1])})" for k, v in config.items()]
        args.append("config={" + ", ".join(items) + "}")
    line = f"run = start({', '.join(args)})"
    if len(line) <= 120:
        return line
    inner = [f"    {a}," for a in args]
    if config and len(inner[-1]) > 120:
        inner[-1:] = ["    config={", *[f"        {i}," for i in items], "    },"]
    return "\n".join(["run = start(", *inner, ")"])


def _py(value) -> str:
    """A config value as Python source: numbers as written in course.toml, strings quoted."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


KERNEL = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def load_course(root: Path = ROOT) -> dict:
    with open(root / "course.toml", "rb") as fh:
        course = tomllib.load(fh)
    for number, step in enumerate(course["step"], start=1):
        step["number"] = number
        step["week"] = int(step["path"].split("/")[0].removeprefix("week"))
    return course


# What a header says, in English; the Chinese edition (tools/i18n) passes its own words and titles.
WORDS = {
    "week": "*Week {week} of {course} · about {minutes} minutes*",
    "t4": "*Week {week} of {course} · about {minutes} minutes"
    " · runs in about {t4} min on a Colab T4 (first run {t4_first} min)*",
    "you_will": "**In this notebook you will**",
    "previous": "Previous",
    "next": "Next",
}


def _label(step: dict, title: str | None = None) -> str:
    return f"{step['number']:02d} · {title or step['title']}"


def _link(src: dict, dst: dict, title: str | None = None) -> str:
    rel = os.path.relpath(dst["path"], os.path.dirname(src["path"]))
    return f"[{_label(dst, title)}]({rel})"


def t4_budget() -> dict:
    """Each notebook's projected minutes on a Colab T4: tools/build/t4_budget.json (python -m tools.build.t4_budget)."""
    path = ROOT / "tools" / "build" / "t4_budget.json"
    return json.loads(path.read_text())["notebooks"] if path.exists() else {}


def _week_line(course_title: str, step: dict, words: dict) -> str:
    budget = t4_budget().get(step["path"])
    if budget is None or "t4" not in words:
        return words["week"].format(week=step["week"], course=course_title, minutes=step["minutes"])
    return words["t4"].format(
        week=step["week"],
        course=course_title,
        minutes=step["minutes"],
        t4=budget["minutes"],
        t4_first=budget["first_run_minutes"],
    )


def header_cells(course: dict, step: dict, words: dict = WORDS, texts=None, prefix: str = "") -> list[dict]:
    """The generated header (title, Colab badge, time, goals, links to the neighbors) and setup cell of a step.
    ``texts(step) -> (title, goals, course title)`` and ``words`` give another language's; ``prefix`` is the folder
    the notebooks of that edition live in (``zh/``), for the Colab badge."""
    meta, steps = course["course"], course["step"]
    texts = texts or (lambda s: (s["title"], s["goals"], meta["title"]))
    title, goals, course_title = texts(step)
    colab = f"https://colab.research.google.com/github/{meta['repo']}/blob/{meta['branch']}/{prefix}{step['path']}"
    ready = [s for s in steps if not s.get("planned")]  # links skip planned steps: they have no notebook yet
    before = [s for s in ready if s["number"] < step["number"]]
    after = [s for s in ready if s["number"] > step["number"]]
    nav = []
    if before:
        nav.append(f"{words['previous']}{words.get('colon', ': ')}" + _link(step, before[-1], texts(before[-1])[0]))
    if after:
        nav.append(f"{words['next']}{words.get('colon', ': ')}" + _link(step, after[0], texts(after[0])[0]))
    lines = [
        f"# {_label(step, title)}",
        "",
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})",
        "",
        _week_line(course_title, step, words),
        "",
        words["you_will"],
        *[f"- {goal}" for goal in goals],
    ]
    if nav:
        lines += ["", "*" + " · ".join(nav) + "*"]
    setup = SETUP.format(
        package=meta["package"],
        repo=meta["repo"],
        branch=meta["branch"],
        start=start_call(step),
    )
    return [
        {"cell_type": "markdown", "id": "header", "metadata": {}, "source": "\n".join(lines)},
        {"cell_type": "code", "id": "setup", "metadata": {}, "execution_count": None, "outputs": [], "source": setup},
    ]


def colab_branch(course: dict | None = None) -> str:
    """The set-up cell's Colab part, as every notebook has it: the code that installs the course with pip and pins
    the runtime's torch (tests/test_colab.py and tools/setup/colab.py run it with ``google.colab`` faked)."""
    course = load_course() if course is None else course
    code = header_cells(course, course["step"][0])[1]["source"]
    return code.split("from shared.course import start")[0]


def skeleton(course: dict, step: dict) -> dict:
    tail = [
        {"cell_type": "markdown", "id": "recap", "metadata": {}, "source": "## Recap\n\n- TODO"},
        {"cell_type": "markdown", "id": "exercises", "metadata": {}, "source": "## Exercises\n\n1. TODO"},
    ]
    return {"cells": header_cells(course, step) + tail, "metadata": KERNEL, "nbformat": 4, "nbformat_minor": 5}


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def with_header(course: dict, step: dict, nb: dict) -> dict:
    body = [c for c in nb["cells"] if c.get("id") not in HEADER_IDS]
    return {**nb, "cells": header_cells(course, step) + body, "metadata": {**nb.get("metadata", {}), **KERNEL}}


def week_readme(course: dict, week: int) -> str:
    steps = [s for s in course["step"] if s["week"] == week]
    out = [f"# Week {week}: {course['weeks'][str(week)]}", ""]
    if all(s.get("planned") for s in steps):
        out += ["Planned steps (notebooks not written yet):", ""]
        out += [f"- {_label(s)}" for s in steps]
    else:
        out += ["| Notebook | You will | Time |", "|---|---|---|"]
        for s in steps:
            goals = "<br>".join(s.get("goals", [])) or "planned"
            name = Path(s["path"]).name
            out.append(f"| [{_label(s)}]({name}) | {goals} | {s.get('minutes', '?')} min |")
        out += ["", "Run them in order; each starts with a run card and ends with a recap and exercises."]
    return "\n".join(out) + "\n"


def _dump(nb: dict) -> str:
    """Serialize as nbformat does (and so as nbstripout leaves it): no churn between the tools."""
    import nbformat

    return nbformat.writes(nbformat.from_dict(nb)) + "\n"


def sync(root: Path = ROOT, check: bool = False) -> list[str]:
    """Bring headers, solution notebooks and week READMEs in line with course.toml; return what differed."""
    course = load_course(root)
    drift = []
    for step in course["step"]:
        path = root / step["path"]
        if step.get("planned"):
            continue
        if not path.exists():
            drift.append(f"{step['path']}: missing")
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(_dump(skeleton(course, step)))
            continue
        nb = json.loads(path.read_text())
        cells = nb["cells"][:2]
        want = header_cells(course, step)
        if [c.get("id") for c in cells] != list(HEADER_IDS) or any(
            _source(a) != b["source"] for a, b in zip(cells, want, strict=True)
        ):
            drift.append(f"{step['path']}: header differs from the template")
            if not check:
                path.write_text(_dump(with_header(course, step, nb)))
    setups = {s["path"]: header_cells(course, s)[1]["source"] for s in course["step"] if not s.get("planned")}
    drift += solutions.sync(root, course, setups, _dump, KERNEL, check=check)
    for week in sorted({s["week"] for s in course["step"]}):
        path = root / f"week{week}" / "README.md"
        text = week_readme(course, week)
        if not path.exists() or path.read_text() != text:
            drift.append(f"{path.relative_to(root)}: differs from the template")
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return drift


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args()
    drift = sync(check=args.check)
    for line in drift:
        print(("drift: " if args.check else "updated: ") + line)
    return 1 if (args.check and drift) else 0


if __name__ == "__main__":
    sys.exit(main())
