"""shared.cache: built once per recipe, never half-built, and one build when two processes ask at once."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared import cache

ROOT = Path(__file__).resolve().parent.parent


def test_built_once_and_keyed_by_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "x.txt").write_text("made")

    first = cache.cached("thing", cache.recipe_key("v1"), build)
    assert cache.cached("thing", cache.recipe_key("v1"), build) == first and len(calls) == 1
    assert (first / "x.txt").read_text() == "made"
    assert cache.cached("thing", cache.recipe_key("v2"), build) != first and len(calls) == 2
    assert cache.recipe_key(b"bytes", {"a": 1}) == cache.recipe_key(b"bytes", {"a": 1}) != cache.recipe_key(b"b")


def test_a_failed_build_leaves_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))

    def broken(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        cache.cached("thing", "k", broken)
    assert not (tmp_path / "thing-k").exists()
    with pytest.raises(ValueError, match="expected a plain folder name"):
        cache.cached("a/b", "k", broken)


def test_two_processes_build_once(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        os.environ["COURSE_CACHE"] = {str(tmp_path)!r}
        sys.path.insert(0, {str(ROOT)!r})
        from shared import cache
        def build(folder):
            with open({str(tmp_path / "builds.log")!r}, "a") as log:
                log.write("built\\n")
            time.sleep(1.0)
        print(cache.cached("slow", "k", build))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60)[0].strip().splitlines() for p in procs]
    assert all(p.returncode == 0 for p in procs) and outs[0][-1] == outs[1][-1] == str(tmp_path / "slow-k")
    said = sorted(len(out) for out in outs)  # the builder says what it builds and how long it took; the other waits
    assert said == [1, 3] and any(out[0].startswith("building slow") for out in outs), outs
    assert (tmp_path / "builds.log").read_text() == "built\n"
