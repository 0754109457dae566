"""Lesson 01's environment check: the installed Python and packages against the lower bounds the course declares,
as rows of a verdict table (``OK``/``FAIL``, what was found, what is wanted)."""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

COURSE = "transformers-lightning-course"
SHOWN = ("torch", "pytorch-lightning", "transformers")  # one row each; the other dependencies share one row


@dataclass(frozen=True)
class Verdict:
    """One row of the table: ``check`` passed (``ok``) with ``found`` against ``wanted``."""

    check: str
    found: str
    wanted: str
    ok: bool

    def __str__(self) -> str:
        return f"{'OK' if self.ok else 'FAIL':<4}  {self.check:<28}  {self.found:<30}  {self.wanted}"


HEADER = f"{'':<4}  {'check':<28}  {'found':<30}  wanted"


def bounds(distribution: str = COURSE) -> dict[str, str]:
    """``{package: lower bound}`` of the course's required dependencies (not its optional extras), read from the
    installed package's metadata, so they are the ones ``pyproject.toml`` declares."""
    found = {}
    for line in importlib.metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if requirement.marker is not None:  # an optional extra ("; extra == 'dev'")
            continue
        lows = [s.version for s in requirement.specifier if s.operator == ">="]
        if lows:
            found[canonicalize_name(requirement.name)] = lows[0]
    return found


def at_least(installed: str, bound: str) -> bool:
    """Is ``installed`` (e.g. ``2.13.0+cpu``: the build tag after ``+`` is ignored) at or above ``bound``?"""
    return Version(installed).release >= Version(bound).release


def version_checks(distribution: str = COURSE) -> list[Verdict]:
    """The rows of the version table: Python, torch, Lightning, Transformers, then every other dependency at once."""
    low = bounds(distribution)
    python_bound = importlib.metadata.metadata(distribution)["Requires-Python"].removeprefix(">=")
    python = platform.python_version()
    rows = [Verdict("python", python, f">= {python_bound}", at_least(python, python_bound))]
    for name in SHOWN:
        installed = importlib.metadata.version(name)
        rows.append(Verdict(name, installed, f">= {low[name]}", at_least(installed, low[name])))
    others = {name: importlib.metadata.version(name) for name in low if name not in SHOWN}
    behind = [f"{name} {v} < {low[name]}" for name, v in others.items() if not at_least(v, low[name])]
    found = "; ".join(behind) or f"all {len(others)} at or above"
    rows.append(Verdict(f"the other {len(others)} dependencies", found, "each >= its bound", not behind))
    return rows
