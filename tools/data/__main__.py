"""``python -m tools.data [--out DIR]``: write the corpus and the sentiment set (see ``tools/data/__init__.py``)."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from tools.data.corpus import make_corpus
from tools.data.reviews import make_sentiment, sentiment_card

SEED = 0
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "shared" / "assets"


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def generate(out: Path) -> list[Path]:
    rng = random.Random(SEED)
    corpus, categories = make_corpus(rng)
    splits = make_sentiment(rng)

    written = []
    out = Path(out)
    write_text(out / "corpus.txt", corpus)
    write_text(out / "corpus_categories.json", json.dumps(categories, indent=2) + "\n")
    written += [out / "corpus.txt", out / "corpus_categories.json"]
    for name, rows in splits.items():
        path = out / "sentiment" / f"{name}.jsonl"
        write_text(
            path, "".join(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n" for r in rows)
        )
        written.append(path)
    write_text(out / "sentiment" / "README.md", sentiment_card(splits))
    written.append(out / "sentiment" / "README.md")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the course's corpus and sentiment set.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args()
    for path in generate(args.out):
        print(f"{path}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
