"""Checks for the generated course datasets under shared/assets/.

The committed files must be exactly what ``python -m tools.data`` produces, so
the first test re-runs the generator into a temporary folder and compares
bytes. Run ``python -m tools.data`` after changing the generator.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from shared.review_patterns import pattern_of as pattern
from tools.data.reviews import make_sentiment

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "shared" / "assets"
SENTIMENT = ASSETS / "sentiment"
SPLITS = {"train": 2000, "validation": 400, "test": 400}
GENERATED = [
    "corpus.txt",
    "corpus_categories.json",
    "sentiment/train.jsonl",
    "sentiment/validation.jsonl",
    "sentiment/test.jsonl",
    "sentiment/README.md",
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def read_split(name: str) -> list[dict]:
    with open(SENTIMENT / f"{name}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {name: read_split(name) for name in SPLITS}


def test_every_review_reads_back_as_the_pattern_it_was_built_from():
    """The generator builds each review from one template family; the data card's rule (shared.review_patterns, which
    shared.data uses) must name that family from the text alone, for every committed review."""
    import random

    from tools.data.__main__ import SEED
    from tools.data.corpus import make_corpus

    rng = random.Random(SEED)
    make_corpus(rng)  # the corpus draws first, as in the generator
    built = [r for rows in make_sentiment(rng).values() for r in rows]
    committed = [r for name in SPLITS for r in read_split(name)]
    assert [(r["text"], r["label"]) for r in built] == [(r["text"], r["label"]) for r in committed]
    wrong = [(r["text"], r["pattern"], pattern(r["text"])) for r in built if pattern(r["text"]) != r["pattern"]]
    assert not wrong, f"{len(wrong)} reviews read back as another pattern, e.g. {wrong[:3]}"


def test_regeneration_is_identical(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "tools.data", "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )
    produced = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert produced == sorted(GENERATED)
    for rel in GENERATED:
        assert (ASSETS / rel).read_bytes() == (tmp_path / rel).read_bytes(), (
            f"{rel} differs from the generator's output; run python -m tools.data"
        )


def test_split_sizes_balance_and_schema(splits):
    for name, size in SPLITS.items():
        rows = splits[name]
        assert len(rows) == size, name
        assert all(set(r) == {"text", "label"} for r in rows), name
        assert all(isinstance(r["text"], str) and r["text"].strip() for r in rows), name
        assert all(type(r["label"]) is int and r["label"] in (0, 1) for r in rows), name
        assert Counter(r["label"] for r in rows) == {0: size // 2, 1: size // 2}, name
        lengths = sorted(len(r["text"].split()) for r in rows)
        assert lengths[0] >= 3 and lengths[-1] <= 30, name
        assert 5 <= lengths[len(lengths) // 2] <= 25, name


def test_splits_are_shuffled(splits):
    for name, rows in splits.items():
        labels = [r["label"] for r in rows]
        half = len(labels) // 2
        # Not sorted by label, and not a strict alternation either.
        assert labels[:half].count(0) not in (0, half), name
        changes = sum(a != b for a, b in zip(labels[:-1], labels[1:], strict=True))
        assert 0.3 < changes / (len(labels) - 1) < 0.7, name


def test_no_duplicates_and_no_overlap(splits):
    texts = {name: [r["text"] for r in rows] for name, rows in splits.items()}
    for name, ts in texts.items():
        assert len(set(ts)) == len(ts), f"duplicates in {name}"
    names = list(texts)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not set(texts[a]) & set(texts[b]), f"{a} and {b} share texts"


def test_pattern_mix_and_labels(splits):
    target = {"simple": 0.35, "negation": 0.30, "contrast": 0.35}
    for name, rows in splits.items():
        by_pattern = Counter(pattern(r["text"]) for r in rows)
        for pat, share in target.items():
            assert abs(by_pattern[pat] / len(rows) - share) <= 0.05, (name, pat, by_pattern)
        pairs = Counter((pattern(r["text"]), r["label"]) for r in rows)
        for pat in target:
            for label in (0, 1):
                assert pairs[(pat, label)] > 0, (name, pat, label)


def test_contrast_has_mirrored_pairs(splits):
    # The same words in another order must carry the opposite label.
    for name, rows in splits.items():
        bags: dict[tuple, set[int]] = {}
        for r in rows:
            if pattern(r["text"]) == "contrast":
                bags.setdefault(tuple(sorted(words(r["text"]))), set()).add(r["label"])
        mirrored = sum(labels == {0, 1} for labels in bags.values())
        n_contrast = sum(pattern(r["text"]) == "contrast" for r in rows)
        assert mirrored >= n_contrast // 4, (name, mirrored, n_contrast)


def test_negated_adjectives_also_appear_plain_with_opposite_label(splits):
    rows = splits["train"]
    plain: dict[str, set[int]] = {}
    for r in rows:
        if pattern(r["text"]) == "simple":
            for w in words(r["text"]):
                plain.setdefault(w, set()).add(r["label"])
    checked = 0
    for r in rows:
        if pattern(r["text"]) != "negation":
            continue
        last = words(r["text"])[-1]
        adj = words(r["text"])[-3] if last == "all" else last  # "... not good at all."
        if adj in ("film", "movie"):
            continue
        checked += 1
        assert 1 - r["label"] in plain.get(adj, set()), (r, adj)
    assert checked >= 100


def test_sentiment_card():
    card = (SENTIMENT / "README.md").read_text(encoding="utf-8")
    for needle in ("CC-BY-4.0", "label", "synthetic", "2000", "400", "negation", "contrast"):
        assert needle.lower() in card.lower(), needle


def test_load_with_datasets(tmp_path):
    import datasets  # a dependency of the course: missing, this must fail, not skip

    files = {name: str(SENTIMENT / f"{name}.jsonl") for name in SPLITS}
    ds = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path))
    for name, size in SPLITS.items():
        assert ds[name].column_names == ["text", "label"]
        assert ds[name].num_rows == size
    assert ds["train"].features["label"].dtype.startswith("int")
    assert ds["test"][0] == read_split("test")[0]


def test_corpus_categories_and_counts():
    text = (ASSETS / "corpus.txt").read_text(encoding="utf-8")
    categories = json.loads((ASSETS / "corpus_categories.json").read_text(encoding="utf-8"))
    assert 60_000 <= len(text.encode("utf-8")) <= 120_000
    assert 8 <= len(categories) <= 12
    all_words = [w for ws in categories.values() for w in ws]
    assert len(all_words) == len(set(all_words)), "a word is in two categories"
    for cat, ws in categories.items():
        assert 6 <= len(ws) <= 12, cat
    counts = Counter(words(text))
    rare = {w: counts[w] for w in all_words if counts[w] < 30}
    assert not rare, f"category words seen fewer than 30 times: {rare}"


def test_corpus_shape():
    text = (ASSETS / "corpus.txt").read_text(encoding="utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text == text.lower()
    paragraphs = text.strip("\n").split("\n\n")
    assert len(paragraphs) >= 200
    assert all(p.strip() and "\n" not in p for p in paragraphs)
    assert len(set(paragraphs)) >= 0.95 * len(paragraphs)
    for mark in (".", ",", "?", '"', "'"):
        assert mark in text, mark
    assert "the village lies where the river bends" in text  # a hand-written paragraph
