"""shared.data: corpus blocks, sentiment data module, text loader validation."""

import pytest
import torch

from shared import data, models, runtime


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    runtime.profile.cache_clear()
    yield
    runtime.profile.cache_clear()


def test_corpus_blocks_shift_by_one_inside_the_model():
    _, tokenizer = models.load_causal_lm()
    dm = data.CorpusDataModule(tokenizer, block_size=32, batch_size=4)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert batch["input_ids"].shape == (4, 32)
    assert torch.equal(batch["input_ids"], batch["labels"])
    assert len(dm.splits["validation"]) > 0 and len(dm.splits["train"]) > 5 * len(dm.splits["validation"])


def test_sentiment_schema_and_dynamic_padding():
    _, tokenizer = models.load_classifier()
    dm = data.SentimentDataModule(tokenizer, batch_size=8)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.raw["train"].features["label"].names == ["neg", "pos"]
    assert {k: len(v) for k, v in dm.raw.items()} == {"train": 2000, "validation": 400, "test": 400}
    batch = next(iter(dm.val_dataloader()))
    assert set(batch) >= {"input_ids", "attention_mask", "labels"}
    lengths = batch["attention_mask"].sum(1)
    assert batch["input_ids"].shape[1] == lengths.max()  # padded to the longest in this batch only


@pytest.mark.parametrize("texts, match", [
    ([], "expected a string or a non-empty list of strings; got list"),
    (["ok", ""], "item 1 is empty"),
    (["ok", 3], "item 1 has type int"),
])
def test_text_loader_rejects_bad_input(texts, match):
    _, tokenizer = models.load_encoder()
    with pytest.raises(ValueError, match=match):
        data.text_loader(tokenizer, texts)


def test_describe():
    expected = "sentiment: train 2000 / validation 400 / test 400 (committed json, IMDB schema)"
    assert data.describe("sentiment") == expected
    assert data.describe("corpus").startswith("corpus: ")
    with pytest.raises(ValueError, match="expected one of: corpus, sentiment"):
        data.describe("imdb")
