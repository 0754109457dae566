"""tools/build/run_course.py in the rehearsal: a cell tagged ``learned`` has its failing asserts turned into counted
``REHEARSAL: relaxed`` lines, and the notebook still passes; an untagged failing assert still fails it."""

import nbformat
import pytest

from tools.build import run_course


def notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    for source, tags in cells:
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": tags} if tags else {}))
    nbformat.write(nb, path)
    return path


def test_a_learned_cell_is_relaxed_in_the_rehearsal(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_REHEARSAL", "1")
    monkeypatch.setattr(run_course, "ROOT", tmp_path)
    path = notebook(
        tmp_path / "learned.ipynb",
        ("x = 1", []),
        ('assert x == 2, "x should have learned to be 2"\nprint("RESULT: x =", x)', ["learned"]),
    )
    seconds, _, _, result, ok, relaxed = run_course.execute(path, tmp_path / "out", timeout=60)
    assert ok and relaxed == 1 and result == "x = 1"
    assert "x should have learned to be 2" in (tmp_path / "out" / "learned.ipynb").read_text()


@pytest.mark.parametrize("tags", [[], ["other"]])
def test_an_untagged_assert_still_fails(tmp_path, monkeypatch, tags):
    monkeypatch.setenv("COURSE_REHEARSAL", "1")
    monkeypatch.setattr(run_course, "ROOT", tmp_path)
    path = notebook(tmp_path / "plain.ipynb", ("assert 1 == 2", tags))
    *_, ok, relaxed = run_course.execute(path, tmp_path / "out", timeout=60)
    assert not ok and relaxed == 0


def test_the_cuda_probe_reads_the_peak_and_is_not_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(run_course, "ROOT", tmp_path)
    path = notebook(tmp_path / "probe.ipynb", ("x = 1", []))
    _, _, cuda_peak, _, ok, _ = run_course.execute(path, tmp_path / "out", timeout=60)
    assert ok and cuda_peak is None  # no CUDA used here: no column value
    monkeypatch.setattr(run_course, "CUDA_PROBE", "print('CUDA_PEAK_MB', 12.5)")  # as a CUDA kernel would print
    _, _, cuda_peak, _, ok, _ = run_course.execute(path, tmp_path / "out", timeout=60)
    assert ok and cuda_peak == 12.5
    saved = nbformat.read(tmp_path / "out" / "probe.ipynb", as_version=4)
    assert [c.source for c in saved.cells] == ["x = 1"]  # the learner's notebook, without the probe
