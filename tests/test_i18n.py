"""The Chinese edition cannot drift: on the committed tree every English text has a current translation and zh/ is
exactly what the generator writes; on a copy, editing one English sentence, dropping a translation, breaking the
glossary or hand-editing a generated notebook each fails the check. Code cells stay byte-identical to the English."""

import json
import shutil
from pathlib import Path

import pytest

from tools.authoring import headers
from tools.i18n import catalog, edition

ROOT = Path(__file__).resolve().parent.parent
LESSON = "week1/03_scaled_dot_product_attention.ipynb"


def test_the_committed_edition_is_complete_and_current():
    drift = edition.build(ROOT, check=True)
    lines = drift.lines()
    assert not lines, (
        f"{len(lines)} problem(s), e.g.:\n  "
        + "\n  ".join(lines[:15])
        + ("\nRun `python -m tools.i18n status` (what to translate), `stub`, then `build`.")
    )


def test_code_cells_are_the_english_code():
    course = headers.load_course(ROOT)
    for rel in edition.edition_files(ROOT, course):
        en, zh = (json.loads((ROOT / p).read_text()) for p in (rel, f"zh/{rel}"))
        assert [c["source"] for c in en["cells"] if c["cell_type"] == "code"] == [
            c["source"] for c in zh["cells"] if c["cell_type"] == "code"
        ], rel
        assert [c.get("id") for c in en["cells"]] == [c.get("id") for c in zh["cells"]], rel


@pytest.fixture
def copy(tmp_path):
    """A repository with lesson 03 and its solution only, every text translated (a made-up translation that names
    each glossary term the English uses)."""
    for rel in ("course.toml", "README.md", LESSON, f"solutions/{LESSON}", "i18n/zh/TERMINOLOGY.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    terms = edition.glossary(tmp_path)
    course = headers.load_course(tmp_path)
    for where in {w for w, _, _ in edition.generate(tmp_path)[1].missing}:
        entries = []
        for kind, key, english in edition._order(tmp_path, course, where):
            named = " ".join(forms[0] for term, forms in terms if term.lower() in edition.prose_only(english).lower())
            text = f"中文译文 {key} {named}"
            if kind == "step":
                goals = [f"- 目标 {i} {named}" for i, _ in enumerate(english.splitlines()[1:])]
                text = "\n".join([f"标题 {key}", *goals])
            entries.append(catalog.Entry(kind, key, catalog.digest(english), text))
        (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / where).write_text(catalog.render(entries), encoding="utf-8")
    edition.build(tmp_path)
    assert edition.build(tmp_path, check=True).lines() == []
    return tmp_path


def test_editing_one_english_sentence_fails_the_check(copy):
    nb = json.loads((copy / LESSON).read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and c["id"] != "header")
    cell["source"] = "".join(cell["source"]).replace("Attention", "Attention really", 1)
    (copy / LESSON).write_text(json.dumps(nb))
    lines = edition.build(copy, check=True).lines()
    assert f"i18n/zh/{LESSON[:-6]}.md: cell {cell['id']}: the English changed since it was translated" in lines
    assert f"zh/{LESSON}: differs from what `python -m tools.i18n build` writes" not in lines  # text kept until fixed


def test_a_missing_translation_fails_the_check(copy):
    path = copy / "i18n" / "zh" / f"{LESSON[:-6]}.md"
    entries = catalog.load(path)
    first = next(iter(entries))
    path.write_text(catalog.render([e for k, e in entries.items() if k != first]), encoding="utf-8")
    assert f"i18n/zh/{LESSON[:-6]}.md: {first[0]} {first[1]}: no translation" in edition.build(copy, check=True).lines()


def test_a_stub_entry_counts_as_missing(copy):
    path = copy / "i18n" / "zh" / f"{LESSON[:-6]}.md"
    entries = catalog.load(path)
    key, entry = next(iter(entries.items()))
    entries[key] = catalog.Entry(entry.kind, entry.key, entry.english_hash, edition.UNTRANSLATED + "English")
    path.write_text(catalog.render(list(entries.values())), encoding="utf-8")
    assert any("no translation" in line for line in edition.build(copy, check=True).lines())


def test_a_glossary_term_rendered_otherwise_fails_the_check(copy):
    path = copy / "i18n" / "zh" / f"{LESSON[:-6]}.md"
    entries = catalog.load(path)
    key, entry = next((k, e) for k, e in entries.items() if "注意力" in e.text)
    entries[key] = catalog.Entry(entry.kind, entry.key, entry.english_hash, entry.text.replace("注意力", "关注"))
    path.write_text(catalog.render(list(entries.values())), encoding="utf-8")
    lines = edition.build(copy, check=True).lines()
    assert any("the English says 'attention'" in line and "注意力" in line for line in lines), lines


def test_a_hand_edited_generated_notebook_fails_the_check(copy):
    nb = json.loads((copy / "zh" / LESSON).read_text())
    nb["cells"][2]["source"] = "手改的文字"
    (copy / "zh" / LESSON).write_text(json.dumps(nb))
    assert (
        f"zh/{LESSON}: differs from what `python -m tools.i18n build` writes" in edition.build(copy, check=True).lines()
    )


def test_the_header_links_and_badge_point_at_the_chinese_edition(copy):
    nb = json.loads((copy / "zh" / LESSON).read_text())
    header = "".join(nb["cells"][0]["source"])
    assert f"/blob/main/zh/{LESSON})" in header and "本节你将" in header and "标题 " in header
    assert edition.relink("[map](../shared/README.md) [next](../week2/05_x.ipynb)", LESSON, {"week2/05_x.ipynb"}) == (
        "[map](../../shared/README.md) [next](../week2/05_x.ipynb)"
    )
    assert edition.relink("[versions](#supported-versions)", "README.md", set()) == (
        "[versions](../README.md#supported-versions)"
    )


def test_make_test_runs_one_chinese_lesson_per_week():
    from tools.__main__ import NOTEBOOKS, ZH_TESTED, test_paths

    assert [path.split("/")[1] for path in ZH_TESTED] == list(NOTEBOOKS)
    assert all((ROOT / path.removeprefix("zh/")).is_file() for path in ZH_TESTED), "a lesson was renamed"
    assert set(ZH_TESTED) <= set(test_paths([]))
