"""The shape of the course package `shared` (DEVELOPERS' style rules, checked instead of hoped for): small modules
with one job each, and imports that flow one way, with `runtime` at the bottom importing nothing of the course."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "shared"
MAX_LINES = 400


def course_imports(path: Path) -> set:
    """The `shared` modules that the file at `path` imports (absolute or relative, at any depth in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level and module:  # from .x import y
                found.add(module.split(".")[0])
            elif node.level or module == "shared":  # from . import x / from shared import x
                found.update(alias.name for alias in node.names)
            elif module.startswith("shared."):  # from shared.x import y
                found.add(module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("shared."))
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return found & modules - {path.stem}


def graph() -> dict:
    return {p.stem: course_imports(p) for p in sorted(PACKAGE.glob("*.py")) if p.stem != "__init__"}


def cycle(edges: dict):
    """One import cycle as a list of module names, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt):] + [nxt]  # the open nodes are the trail
            if nxt not in state and (found := visit(nxt, trail + [nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"shared/{path.name} has {lines} lines; split it by topic (at most {MAX_LINES})"


def test_imports_flow_one_way():
    edges = graph()
    assert edges["runtime"] == set(), f"shared.runtime is the bottom layer; it imports {edges['runtime']}"
    assert cycle(edges) is None, f"import cycle in shared: {' -> '.join(cycle(edges))}"


def test_the_cycle_check_can_fail():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
