"""Every checked exercise (shared/exercises/*): the reference passes; each cataloged mistake, written as code, gets
its own diagnosis; the untouched starter reports "not attempted" without raising; a wrong type or a wrong shape gets a
clear message; at least two cataloged mistakes each; every check runs in under two seconds. The checking layer
itself (shared/exercises/core.py) is tested on hand-made cases at the end."""

import importlib
import json
import pkgutil
import re
import time
from pathlib import Path

import pytest
import torch

import shared.exercises
from shared.exercises.core import CORRECT, NOT_ATTEMPTED, WRONG, Exercise, Mistake, difference, is_starter

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(m.name for m in pkgutil.iter_modules(shared.exercises.__path__) if m.name != "core")
ALL = [
    (name, exercise) for name in MODULES for exercise in importlib.import_module(f"shared.exercises.{name}").EXERCISES
]
IDS = [f"{name}.{exercise.key}" for name, exercise in ALL]


def starter(*args):
    """What a starter cell defines before the learner writes anything."""
    ...


def raises_not_implemented(*args):
    raise NotImplementedError


@pytest.mark.parametrize(("module", "exercise"), ALL, ids=IDS)
def test_the_reference_passes_quickly(module, exercise):
    start = time.perf_counter()
    result = exercise.check(exercise.reference)
    assert result.status == CORRECT, result.message
    assert time.perf_counter() - start < 2.0, f"{module}.{exercise.key}: a check must take under two seconds"


@pytest.mark.parametrize(("module", "exercise"), ALL, ids=IDS)
def test_each_cataloged_mistake_gets_its_own_diagnosis(module, exercise):
    assert len(exercise.mistakes) >= 2, f"{module}.{exercise.key}: catalog at least two mistakes learners make"
    for mistake in exercise.mistakes:
        result = exercise.check(mistake.wrong)
        assert result.status == WRONG and result.mistake == mistake.name, (mistake.name, result.message)
        assert mistake.message in result.message


@pytest.mark.parametrize(("module", "exercise"), ALL, ids=IDS)
def test_the_starter_is_not_attempted_and_never_raises(module, exercise):
    for untouched in (starter, raises_not_implemented, None):
        result = exercise.check(untouched)
        assert result.status == NOT_ATTEMPTED and "not attempted" in result.message, result.message


@pytest.mark.parametrize(("module", "exercise"), ALL, ids=IDS)
def test_a_wrong_type_or_result_gets_a_clear_message(module, exercise):
    result = exercise.check(42)
    assert result.status == WRONG and "expected your function" in result.message, result.message
    result = exercise.check(lambda *args: "not a tensor")
    assert result.status == WRONG and "expected" in result.message, result.message

    def crashes(*args):
        raise IndexError("index 9 is out of bounds")

    result = exercise.check(crashes)
    assert result.status == WRONG and "IndexError: index 9 is out of bounds" in result.message, result.message


@pytest.mark.parametrize(("module", "exercise"), ALL, ids=IDS)
def test_hints_and_solution(module, exercise):
    assert len(exercise.hints) >= 2, "tiered hints: at least two"
    assert exercise.hint(1).startswith(f"Hint 1 of {len(exercise.hints)}") and "hint." in exercise.hint(1)
    assert "has hints 1 to" in exercise.hint(len(exercise.hints) + 1)
    assert "def " in exercise.solution_text() or exercise.solution


def lessons_using(module: str) -> list[Path]:
    pattern = re.compile(rf"from shared\.exercises\.{module} import")
    return [p for p in sorted(ROOT.glob("week*/*.ipynb")) if pattern.search(p.read_text())]


@pytest.mark.parametrize("module", MODULES)
def test_every_exercise_module_belongs_to_one_lesson_that_uses_all_its_exercises(module):
    lessons = lessons_using(module)
    assert len(lessons) == 1, f"shared.exercises.{module} is imported by {lessons}; expected one lesson"
    cells = json.loads(lessons[0].read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    keys = [e.key for e in importlib.import_module(f"shared.exercises.{module}").EXERCISES]
    for key in keys:
        assert re.search(rf"^check\.{key}\(", code, re.M), f"{lessons[0].name} never calls check.{key}(...)"


# ---------------------------------------------------------------- the checking layer itself


def square(x):
    return x * x


EXAMPLE = Exercise(
    key="q1",
    title="square",
    reference=square,
    cases=lambda: [(torch.arange(6.0).reshape(2, 3),)],
    verified="squares",
    hints=["multiply", "x * x"],
    mistakes=[Mistake("doubled", lambda x: x + x, "you doubled"), Mistake("same", lambda x: x, "you returned x")],
)


def test_the_layer_reports_the_three_outcomes():
    assert EXAMPLE.check(square).status == CORRECT
    assert bool(EXAMPLE.check(square)) and not EXAMPLE.check(lambda x: x + x)
    assert EXAMPLE.check(lambda x: x + x).mistake == "doubled"
    unknown = EXAMPLE.check(lambda x: x * 3)
    assert unknown.status == WRONG and unknown.mistake is None
    assert "largest difference 10 at position (1, 2)" in unknown.message, unknown.message
    assert EXAMPLE.check(starter).status == NOT_ATTEMPTED
    assert repr(EXAMPLE.check(square)).startswith("✓")


def test_the_learners_inputs_are_copies():
    def in_place(x):
        return x.mul_(x)

    assert EXAMPLE.check(in_place).status == CORRECT  # the reference's expected values are not changed by it


def test_difference_describes_shape_dtype_and_position():
    a = torch.zeros(2, 3)
    assert difference(a, a.clone()) is None
    assert "expected shape (2, 3); got (3, 2)" in difference(torch.zeros(3, 2), a)
    assert "expected dtype torch.bool" in difference(torch.zeros(2, 2), torch.zeros(2, 2, dtype=torch.bool))
    assert "NaN" in difference(torch.tensor([float("nan")]), torch.tensor([1.0]))
    assert difference(1.0 + 1e-9, 1.0) is None and "expected 1" in difference(2.0, 1.0)
    assert "item 1" in difference((a, a), (a, a + 1))


def test_is_starter():
    def written(x):
        """doc"""
        return x

    def passes(x):
        pass

    assert is_starter(starter) and is_starter(passes) and is_starter(raises_not_implemented)
    assert not is_starter(written) and not is_starter(len)
