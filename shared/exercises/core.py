"""Checked exercises: a learner writes a function in a starter cell, then ``check.q1(fn)`` says, in one short message
without a traceback, whether it is right, not attempted yet, or wrong and why.

An ``Exercise`` holds the reference solution, seeded test cases, tiered hints and a catalog of the mistakes learners
really make, each written as code. ``check`` runs the learner's function on every case and compares it with the
reference. When it differs, the answer is run against each cataloged mistake on the same cases: a match names the
mistake and the line of thought behind it ("the weights are not scaled by 1/sqrt(d_k) ..."); no match says what
differs and where (largest difference, position, shape and dtype). A starter left as it is (a body of ``...``, or
``raise NotImplementedError``) is reported as not attempted and never raises, so a lesson runs top to bottom as
committed. ``hint.q1(2)`` gives the second hint; ``solution.q1()`` shows the reference.

Nothing leaves the machine; each check takes well under two seconds on a CPU. Every exercise is tested
(``tests/test_exercises.py``): the reference passes, each cataloged mistake gets its diagnosis, the starter reports
"not attempted" and a wrong type or shape gets a clear message.
"""

from __future__ import annotations

import ast
import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

CORRECT, NOT_ATTEMPTED, WRONG = "correct", "not attempted", "wrong"


class NotAttempted(Exception):
    """Raised by the checker when the answer is still the starter."""


@dataclass(frozen=True)
class Mistake:
    """A mistake learners make: ``wrong`` is that mistake written as code, ``message`` says what went wrong and why."""

    name: str
    wrong: Callable
    message: str


@dataclass
class Result:
    """What ``check`` found: truthy only when correct, so a worked solution can ``assert check.q1(fn)``."""

    status: str
    message: str
    mistake: str | None = None

    def __bool__(self) -> bool:
        return self.status == CORRECT

    def __repr__(self) -> str:
        mark = {CORRECT: "✓", NOT_ATTEMPTED: "·", WRONG: "✗"}[self.status]
        return f"{mark} {self.message}"


def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing results computed in ``dtype`` by two different but correct orders of operations."""
    return {
        torch.float64: (1e-7, 1e-9),
        torch.float32: (1e-4, 1e-5),
        torch.bfloat16: (2e-2, 2e-2),
        torch.float16: (2e-3, 1e-3),
    }.get(dtype, (0.0, 0.0))


def describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}: " + ", ".join(describe(v) for v in value[:4])
    return f"{type(value).__name__} {value!r}"[:80]


def difference(got, expected, where: str = "") -> str | None:
    """None when ``got`` equals ``expected`` (tensors within the dtype's tolerance, numbers within 1e-6 relative,
    anything else by ``==``); otherwise one sentence that says what differs and where."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{where}expected {describe(expected)}; got {describe(got)}"
        if got.shape != expected.shape:
            return f"{where}expected shape {tuple(expected.shape)}; got {tuple(got.shape)}"
        kind = (got.dtype.is_floating_point, got.dtype == torch.bool)
        if kind != (expected.dtype.is_floating_point, expected.dtype == torch.bool):
            return f"{where}expected dtype {expected.dtype}; got {got.dtype}"
        got_, exp_ = got.detach().to(torch.float64), expected.detach().to(torch.float64)
        if exp_.numel() == 0:
            return None
        if (got_.isnan() != exp_.isnan()).any():
            index = tuple(int(i) for i in (got_.isnan() != exp_.isnan()).nonzero()[0])
            return f"{where}NaN where a number is expected (or the reverse), first at position {index}"
        rtol, atol = tolerance(expected.dtype)
        close = torch.isclose(got_, exp_, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return None
        gap = (got_ - exp_).abs().nan_to_num(0.0)
        index = tuple(int(i) for i in divmod_index(int(gap.argmax()), tuple(exp_.shape)))
        return (
            f"{where}largest difference {gap.max().item():.3g} at position {index} (yours "
            f"{got_[index].item():.4g}, expected {exp_[index].item():.4g}); "
            f"{int((~close).sum())} of {close.numel()} values differ"
        )
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"{where}expected {describe(expected)}; got {describe(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            if found := difference(g, e, f"{where}item {i}: "):
                return found
        return None
    if isinstance(expected, float) and isinstance(got, (int, float, torch.Tensor)):
        got = float(got)
        if math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            return None
        return f"{where}expected {expected:.6g}; got {got:.6g}"
    return None if got == expected else f"{where}expected {expected!r}; got {got!r}"[:200]


def divmod_index(flat: int, shape: tuple) -> tuple:
    index = []
    for size in reversed(shape):
        flat, rest = divmod(flat, size)
        index.append(rest)
    return tuple(reversed(index))


def is_starter(fn) -> bool:
    """A function whose body is only a docstring, ``...``, ``pass`` or ``raise NotImplementedError``."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return False
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not funcs:
        return False
    body = [s for s in funcs[0].body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Raise) and "NotImplementedError" in ast.unparse(s)) for s in body
    )


@dataclass
class Exercise:
    """One write-it exercise. ``cases()`` returns argument tuples (seeded, small, a few edge cases among them);
    ``compare(got, expected)`` returns None or what differs (default: ``difference``); ``verified`` says, for the
    "correct" message, what a pass means."""

    key: str
    title: str
    reference: Callable
    cases: Callable[[], list[tuple]]
    verified: str
    hints: list[str]
    mistakes: list[Mistake] = field(default_factory=list)
    compare: Callable = difference
    solution: str | None = None  # shown by solution.qN(); default: the reference's source

    def _run(self, fn, args):
        clones = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)  # a learner may edit in place
        return fn(*clones)

    def _expected(self) -> list:
        return [(args, self._run(self.reference, args)) for args in self.cases()]

    def check(self, fn) -> Result:
        if fn is None or fn is Ellipsis:
            return Result(NOT_ATTEMPTED, f"{self.key} not attempted yet: write the function, then run the cell again.")
        if not callable(fn):
            return Result(
                WRONG,
                f"{self.key}: expected your function itself (e.g. check.{self.key}(my_function)); got {describe(fn)}",
            )
        if is_starter(fn):
            return Result(
                NOT_ATTEMPTED,
                f"{self.key} not attempted yet: replace the body of {fn.__name__} "
                "with your code, then run the cell again.",
            )
        expected = self._expected()
        outputs = []
        for args, _ in expected:
            try:
                got = self._run(fn, args)
            except NotImplementedError:
                return Result(NOT_ATTEMPTED, f"{self.key} not attempted yet: {fn.__name__} raises NotImplementedError.")
            except Exception as err:  # the learner's code: say what happened, without a traceback
                shapes = ", ".join(describe(a) for a in args)
                return Result(WRONG, f"{self.key}: your function raised {type(err).__name__}: {err} (inputs: {shapes})")
            if got is None:
                return Result(
                    NOT_ATTEMPTED,
                    f"{self.key} not attempted yet: {fn.__name__} returns None (did you forget the return?).",
                )
            outputs.append(got)
        problems = [self.compare(got, want) for got, (_, want) in zip(outputs, expected, strict=True)]
        if not any(problems):
            return Result(CORRECT, f"{self.key} correct: {self.verified}.")
        for mistake in self.mistakes:
            wrong = [self._run(mistake.wrong, args) for args, _ in expected]
            if all(self.compare(got, w) is None for got, w in zip(outputs, wrong, strict=True)):
                return Result(WRONG, f"{self.key} not yet: {mistake.message}", mistake.name)
        first = next(p for p in problems if p)
        case = problems.index(first) + 1
        return Result(WRONG, f"{self.key} not yet: on test case {case} of {len(problems)}, {first}.")

    def hint(self, level: int = 1) -> str:
        if not isinstance(level, int) or not 1 <= level <= len(self.hints):
            last = len(self.hints)
            return f"{self.key} has hints 1 to {last}: hint.{self.key}(1) ... hint.{self.key}({last})"
        more = f" (more: hint.{self.key}({level + 1}))" if level < len(self.hints) else ""
        return f"Hint {level} of {len(self.hints)} for {self.key}: {self.hints[level - 1]}{more}"

    def solution_text(self) -> str:
        return self.solution or textwrap.dedent(inspect.getsource(self.reference))


class _Shown(str):
    """Text a notebook shows as itself, without quotes (a hint, a solution)."""

    def __repr__(self) -> str:
        return str(self)


class _Namespace:
    def __init__(self, exercises: dict, action: Callable):
        self._exercises, self._action = exercises, action

    def __getattr__(self, key: str):
        if key.startswith("_"):
            raise AttributeError(key)
        if key not in self._exercises:
            raise AttributeError(f"no exercise {key!r} here; expected one of: {', '.join(self._exercises)}")
        exercise = self._exercises[key]
        return lambda *args, **kwargs: self._action(exercise, *args, **kwargs)

    def __dir__(self):
        return list(self._exercises)


def _check(exercise: Exercise, fn=None) -> Result:
    return exercise.check(fn)


def namespaces(exercises: list[Exercise]):
    """``check``, ``hint`` and ``solution`` for a lesson's exercises: ``check.q1(fn)``, ``hint.q1(2)``,
    ``solution.q1()``."""
    keys = [e.key for e in exercises]
    if len(set(keys)) != len(keys):
        raise ValueError(f"exercise keys must be unique; got {keys}")
    table = {e.key: e for e in exercises}
    return (
        _Namespace(table, _check),
        _Namespace(table, lambda e, level=1: _Shown(e.hint(level))),
        _Namespace(table, lambda e: _Shown(e.solution_text())),
    )
