"""Course data, loaded through the ``datasets`` library in both profiles.

* ``corpus``: a small original English corpus committed in this package (language-model and embedding demos).
* ``sentiment``: movie-review sentiment in the IMDB schema (``text``, ``label``: 0 = neg, 1 = pos).
  Full profile: IMDB subsets (``stanfordnlp/imdb``) from the Hub, or from a pre-filled offline cache (README,
  "Offline clusters"). Tiny profile: the course's committed set (below).
* ``course_sentiment``: the committed set itself, in both profiles: short reviews where negation and contrast
  decide the label, so word order matters (see ``assets/sentiment/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from shared.review_patterns import PATTERNS, pattern_of  # noqa: F401  (part of this module's API)
from shared.runtime import profile, rehearsal

ASSETS = Path(__file__).parent / "assets"
SPLITS = ("train", "validation", "test")
LABEL_NAMES = ("neg", "pos")
# Full profile: the IMDB subset sizes (train and validation both come from IMDB's train split). The rehearsal
# (make test-full) keeps the tiny profile's sizes.
IMDB_ID = "stanfordnlp/imdb"
IMDB_SIZES = {"train": 2000, "validation": 500, "test": 500}
REHEARSAL_SIZES = {"train": 2000, "validation": 400, "test": 400}
HUB_DATASETS = {"sentiment": IMDB_ID}  # every dataset id the full profile loads from the Hub
DATASETS = ("corpus", "sentiment", "course_sentiment")


def corpus_path() -> Path:
    return ASSETS / "corpus.txt"


def corpus_paragraphs() -> list[str]:
    """The corpus as a list of paragraphs (blank-line separated)."""
    text = corpus_path().read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def sentiment_files() -> dict[str, str]:
    return {split: str(ASSETS / "sentiment" / f"{split}.jsonl") for split in SPLITS}


def _lines(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def describe(name: str) -> str:
    """One run-card line for a dataset, without loading it."""
    if name == "corpus":
        paragraphs = corpus_paragraphs()
        words = sum(len(p.split()) for p in paragraphs)
        return f"corpus: {len(paragraphs)} paragraphs, {words} words (committed, {corpus_path().name})"
    if name == "sentiment" or name == "course_sentiment":
        if name == "sentiment" and profile().name == "full":
            sizes = imdb_sizes()
            where = f"{IMDB_ID} from the Hub" + (" (stand-in, offline)" if rehearsal() else "")
        else:
            sizes = {split: _lines(path) for split, path in sentiment_files().items()}
            where = "committed json, IMDB schema"
        return f"{name}: " + " / ".join(f"{k} {v}" for k, v in sizes.items()) + f" ({where})"
    raise ValueError(f"unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}")


def imdb_sizes() -> dict[str, int]:
    """How many IMDB reviews the full profile takes per split (the rehearsal: the tiny profile's sizes)."""
    return REHEARSAL_SIZES if rehearsal() else IMDB_SIZES


def load_corpus(val_fraction: float = 0.1, seed: int = 0):
    """``DatasetDict`` with ``train``/``validation`` splits of corpus paragraphs (column ``text``)."""
    from datasets import load_dataset

    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction={val_fraction!r}; expected a number strictly between 0 and 1")
    ds = load_dataset("text", data_files={"train": str(corpus_path())}, sample_by="paragraph")["train"]
    parts = ds.train_test_split(test_size=val_fraction, seed=seed)
    parts["validation"] = parts.pop("test")
    return parts


def load_sentiment(course: bool = False):
    """``DatasetDict`` with ``train``/``validation``/``test``; columns ``text`` and ``label`` (ClassLabel neg/pos).

    ``course=True`` loads the committed course set in every profile.
    """
    from datasets import ClassLabel, DatasetDict, load_dataset

    if profile().name == "full" and not course:
        imdb, sizes = load_dataset(IMDB_ID), imdb_sizes()
        train = imdb["train"].shuffle(seed=0)
        n_train, n_val = sizes["train"], sizes["validation"]
        ds = DatasetDict(
            train=train.select(range(n_train)),
            validation=train.select(range(n_train, n_train + n_val)),
            test=imdb["test"].shuffle(seed=0).select(range(sizes["test"])),
        )
    else:
        ds = load_dataset("json", data_files=sentiment_files())
    return ds.cast_column("label", ClassLabel(names=list(LABEL_NAMES)))


class CorpusDataModule(pl.LightningDataModule):
    """Causal-LM blocks: tokenize each paragraph, join with end-of-text, cut into ``block_size`` token blocks."""

    def __init__(self, tokenizer, block_size: int = 64, batch_size: int = 16, val_fraction: float = 0.1):
        super().__init__()
        if block_size < 2 or batch_size < 1:
            raise ValueError(
                f"block_size={block_size}, batch_size={batch_size}; expected block_size >= 2 and batch_size >= 1"
            )
        if tokenizer.eos_token is None:
            raise ValueError("the tokenizer has no eos_token; expected a causal-LM tokenizer")
        self.tokenizer, self.block_size, self.batch_size = tokenizer, block_size, batch_size
        self.val_fraction = val_fraction

    def setup(self, stage: str | None = None) -> None:
        eos, size = self.tokenizer.eos_token, self.block_size

        def to_blocks(batch):
            ids = [i for text in batch["text"] for i in self.tokenizer(text + eos)["input_ids"]]
            n = len(ids) // size * size
            blocks = [ids[i : i + size] for i in range(0, n, size)]
            return {"input_ids": blocks, "labels": blocks}

        parts = load_corpus(self.val_fraction)
        self.splits = parts.map(to_blocks, batched=True, remove_columns=["text"]).with_format("torch")

    def train_dataloader(self):
        return DataLoader(self.splits["train"], batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.splits["validation"], batch_size=self.batch_size)


class SentimentDataModule(pl.LightningDataModule):
    """Sentiment classification: tokenize once with ``.map(batched=True)``, pad each batch dynamically.

    ``tokenizer``: a tokenizer, or where to load one from (a Hub id or a folder, as for ``from_pretrained``): the
    command line (``scripts/train_classifier.py``) passes the model's source here.
    """

    def __init__(self, tokenizer, batch_size: int = 16, max_length: int = 128):
        super().__init__()
        if batch_size < 1 or max_length < 8:
            raise ValueError(
                f"batch_size={batch_size}, max_length={max_length}; expected batch_size >= 1 and max_length >= 8"
            )
        if isinstance(tokenizer, (str, Path)):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(tokenizer))
        if not callable(tokenizer) or not hasattr(tokenizer, "pad_token_id"):
            raise ValueError(
                f"tokenizer={tokenizer!r}; expected a Hugging Face tokenizer or a Hub id/folder to load one from"
            )
        self.tokenizer, self.batch_size, self.max_length = tokenizer, batch_size, max_length

    def prepare_data(self) -> None:
        load_sentiment()  # download once (full profile) / check the files are there (tiny profile)

    def setup(self, stage: str | None = None) -> None:
        from transformers import DataCollatorWithPadding

        if getattr(self, "_tokenized_for", None) == (self.tokenizer, self.max_length):
            return  # fit, validate and test each call setup: tokenize only the first time
        raw = load_sentiment()
        self.raw = raw
        self.splits = raw.map(
            lambda b: self.tokenizer(b["text"], truncation=True, max_length=self.max_length),
            batched=True,
            remove_columns=["text"],
        ).rename_column("label", "labels")
        self.collate = DataCollatorWithPadding(self.tokenizer, return_tensors="pt")
        self._tokenized_for = (self.tokenizer, self.max_length)

    def _loader(self, split: str, shuffle: bool = False):
        return DataLoader(self.splits[split], batch_size=self.batch_size, shuffle=shuffle, collate_fn=self.collate)

    def train_dataloader(self):
        return self._loader("train", shuffle=True)

    def val_dataloader(self):
        return self._loader("validation")

    def test_dataloader(self):
        return self._loader("test")

    def predict_dataloader(self):
        return self._loader("test")


def check_texts(texts) -> tuple[list[str], bool]:
    """Validate input: a non-empty string or a non-empty list of non-empty strings. Returns (list, was_single)."""
    single = isinstance(texts, str)
    items = [texts] if single else texts
    if not isinstance(items, (list, tuple)) or len(items) == 0:
        raise ValueError(
            f"expected a string or a non-empty list of strings; got {type(texts).__name__}"
            + (" (empty)" if isinstance(texts, (list, tuple)) else "")
        )
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise ValueError(
                f"item {i} has type {type(text).__name__}; expected every item to be a string "
                "(mixed lists are not accepted)"
            )
        if not text.strip():
            raise ValueError(f"item {i} is empty; expected text with at least one non-space character")
    return list(items), single


def text_loader(tokenizer, texts, batch_size: int = 8, padding_side: str = "right") -> DataLoader:
    """A DataLoader of tokenized texts for ``trainer.predict``; use ``padding_side="left"`` for generation.

    Texts longer than the tokenizer's ``model_max_length`` are truncated to it.
    """
    items, _ = check_texts(texts)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected a positive integer")
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side={padding_side!r}; expected 'left' or 'right'")

    def collate(batch):
        return tokenizer(list(batch), padding=True, truncation=True, return_tensors="pt", padding_side=padding_side)

    return DataLoader(items, batch_size=batch_size, collate_fn=collate)
