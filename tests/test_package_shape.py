"""The shape of the course package `shared` (STYLE.md): small modules with one job each, imports that flow one way
with `runtime` at the bottom, and a map (shared/README.md) that lists every module with the notebooks using it."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "shared"
MAP = PACKAGE / "README.md"
MAX_LINES = 400
# The local `evaluate` modules are loaded by path (evaluate.load), not imported: not part of the import graph.
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "metric_modules" not in p.parts)


def dotted(path: Path) -> str:
    """shared/rlhf/dpo.py -> rlhf.dpo; shared/rlhf/__init__.py -> rlhf."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {dotted(p) for p in SOURCES if p.name != "__init__.py"}


def course_imports(path: Path, modules: set = MODULES) -> set:
    """The `shared` modules that the file at `path` imports (at any depth in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            if module == "shared" or module.startswith("shared."):
                base = module.removeprefix("shared").removeprefix(".")
                found.add(base)
                found.update(f"{base}.{a.name}".lstrip(".") for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the course writes `from shared.x import y`")
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("shared.") for a in node.names if a.name.startswith("shared."))
    own = {dotted(path)} if PACKAGE in path.parents else set()
    return found & modules - own


def graph() -> dict:
    return {dotted(p): course_imports(p) for p in SOURCES if p.name != "__init__.py"}


def cycle(edges: dict):
    """One import cycle as a list of module names, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt) :] + [nxt]  # the open nodes are the trail
            if nxt not in state and (found := visit(nxt, trail + [nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def map_rows() -> dict:
    """``{module: used-by text}`` from the map's tables."""
    rows = {}
    for line in MAP.read_text().splitlines():
        if match := re.fullmatch(r"\|\s*`([\w.]+)`\s*\|[^|]+\|\s*([^|]+?)\s*\|", line):
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice in shared/README.md"
            rows[match.group(1)] = match.group(2)
    return rows


def notebook_users() -> dict:
    """``{module: set of lesson numbers}``: which lesson notebooks import each module (code cells only)."""
    users = {m: set() for m in MODULES}
    for path in sorted(ROOT.glob("week*/*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        found = set()
        for line in code.splitlines():
            line = line.strip()
            if match := re.match(r"from shared(\.[\w.]+)? import ([\w, ()]+)", line):
                base = (match.group(1) or "").lstrip(".")
                found.add(base)
                found.update(f"{base}.{n.strip(' ()')}".lstrip(".") for n in match.group(2).split(","))
            elif match := re.match(r"import shared\.([\w.]+)", line):
                found.add(match.group(1))
        for module in found & MODULES:
            users[module].add(path.name[:2])
    return users


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small_and_say_what_they_are(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"shared/{path.relative_to(PACKAGE)} has {lines} lines; split it by topic"
    assert ast.get_docstring(ast.parse(path.read_text())), f"shared/{path.relative_to(PACKAGE)}: no docstring"


def test_imports_flow_one_way():
    edges = graph()
    assert edges["runtime"] == set(), f"shared.runtime is the bottom layer; it imports {edges['runtime']}"
    assert cycle(edges) is None, f"import cycle in shared: {' -> '.join(cycle(edges))}"


def test_the_cycle_check_can_fail():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_map_lists_every_module_and_its_notebooks():
    rows, users = map_rows(), notebook_users()
    assert set(rows) == MODULES, (
        f"shared/README.md: missing {sorted(MODULES - set(rows))}, stale {sorted(set(rows) - MODULES)}"
    )
    every = {p.name[:2] for p in ROOT.glob("week*/*.ipynb")}
    wrong = []
    for module, text in sorted(rows.items()):
        listed = every if text == "all" else set() if text == "-" else set(text.split())
        if listed != users[module]:
            found = " ".join(sorted(users[module])) or "-"
            wrong.append(f"{module}: map says {text!r}, notebooks importing it: {found}")
    assert not wrong, "shared/README.md is out of date:\n  " + "\n  ".join(wrong)


def test_no_two_names_a_newcomer_could_confuse():
    """No module or folder of `shared` shares its name with a top-level folder of the repository (``shared/tools.py``
    next to ``tools/``), and no two modules differ by a letter or two (``models`` / ``modules``)."""
    top = {p.name for p in ROOT.iterdir() if p.is_dir()}
    names = {part for m in MODULES for part in m.split(".")}
    assert not names & top, f"shared modules named like repository folders: {sorted(names & top)}"
    import difflib

    close = [
        (a, b)
        for a in sorted(names)
        for b in sorted(names)
        if a < b and difflib.SequenceMatcher(None, a, b).ratio() > 0.85
    ]
    assert not close, f"confusable module names: {close}"


def test_the_import_scanner_sees_every_form(tmp_path):
    src = tmp_path / "x.py"
    src.write_text(
        "from shared.rlhf import dpo\nfrom shared.data import load\nimport shared.rlhf.policy\n"
        "def f():\n    from shared import models\n"
    )
    assert course_imports(src, {"rlhf.dpo", "rlhf.policy", "data", "models", "runtime"}) == {
        "rlhf.dpo",
        "rlhf.policy",
        "data",
        "models",
    }
