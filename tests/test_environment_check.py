"""Lesson 01's version table (shared/environment_check.py): bounds read from the installed package, build tags
ignored, a package below its bound reported as FAIL with what was found."""

import importlib.metadata

from shared import environment_check
from shared.environment_check import Verdict, at_least, bounds, version_checks


def test_build_tags_are_ignored_and_bounds_compare_as_versions():
    assert at_least("2.13.0+cpu", "2.5") and at_least("2.5.0", "2.5") and at_least("10.0", "9.9")
    assert not at_least("2.4.1+cu121", "2.5")


def test_bounds_are_the_required_dependencies_only():
    found = bounds()
    assert {"torch", "pytorch-lightning", "transformers"} <= set(found)
    assert "pytest" not in found  # the dev extra


def test_every_row_passes_in_the_course_environment():
    rows = version_checks()
    assert [r.check for r in rows[:4]] == ["python", "torch", "pytorch-lightning", "transformers"]
    assert all(r.ok for r in rows) and str(rows[0]).startswith("OK")


def test_a_package_below_its_bound_fails(monkeypatch):
    real = importlib.metadata.requires

    def raised(name):
        return [r.replace("numpy>=", "numpy>=999.") if r.startswith("numpy>=") else r for r in real(name)]

    monkeypatch.setattr(environment_check.importlib.metadata, "requires", raised)
    others = version_checks()[-1]
    assert isinstance(others, Verdict) and not others.ok and "numpy" in others.found
    assert str(others).startswith("FAIL")
