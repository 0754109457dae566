"""tools/build/run_course.py: in the rehearsal a cell tagged 'learned' runs with its asserts relaxed and counted."""

import nbformat

from tools.build import run_course


def test_a_learned_cell_is_relaxed_and_counted_in_the_rehearsal(monkeypatch, tmp_path):
    folder = run_course.ROOT / "build" / "test-run-course"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "learned.ipynb"
    cell = nbformat.v4.new_code_cell("x = 1\nassert x == 2, 'stand-in weights learn nothing'\nprint('RESULT: x', x)")
    cell.metadata["tags"] = ["learned"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    monkeypatch.setenv("COURSE_REHEARSAL", "1")
    try:
        seconds, peak, result, ok, relaxed = run_course.execute(path, tmp_path, timeout=60)
    finally:
        path.unlink()
    assert ok and relaxed == 1 and result == "x 1", (ok, relaxed, result)
