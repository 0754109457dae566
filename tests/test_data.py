"""shared.data: corpus blocks, sentiment data module, text loader validation."""

import pytest
import torch
import torch.nn.functional as F

from shared import data, models, runtime


@pytest.fixture(autouse=True)
def tiny(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    runtime.profile.cache_clear()
    yield
    runtime.profile.cache_clear()


def test_corpus_blocks_shift_by_one_inside_the_model():
    """Blocks carry labels == input_ids; the model shifts them: its loss is the cross-entropy of the logits at
    positions 0..L-2 against the tokens at 1..L-1 (and not the unshifted one)."""
    model, tokenizer = models.load_causal_lm()
    dm = data.CorpusDataModule(tokenizer, block_size=32, batch_size=4)
    dm.setup()
    torch.manual_seed(0)  # the shuffled first batch and the perturbation below are the same every run
    batch = next(iter(dm.train_dataloader()))
    assert batch["input_ids"].shape == (4, 32)
    assert torch.equal(batch["input_ids"], batch["labels"])
    assert len(dm.splits["validation"]) > 0 and len(dm.splits["train"]) > 5 * len(dm.splits["validation"])
    with torch.no_grad():  # move the untrained model off its near-uniform predictions, so the two losses differ
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    model.eval()
    with torch.no_grad():
        out = model(input_ids=batch["input_ids"], labels=batch["labels"])
    vocab = out.logits.shape[-1]
    shifted = F.cross_entropy(out.logits[:, :-1].reshape(-1, vocab), batch["input_ids"][:, 1:].reshape(-1))
    unshifted = F.cross_entropy(out.logits.reshape(-1, vocab), batch["input_ids"].reshape(-1))
    torch.testing.assert_close(out.loss, shifted, rtol=1e-5, atol=1e-6)
    assert abs(shifted - unshifted) > 0.1, (shifted, unshifted)  # the check can tell a missing shift


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


def test_sentiment_setup_tokenizes_once_per_tokenizer_and_length():
    """fit, validate and test each call setup: the second call must not map the dataset again (it cost 1-2 s per
    call in the lessons), while a new max_length must."""
    _, tokenizer = models.load_classifier()
    dm = data.SentimentDataModule(tokenizer, batch_size=8, max_length=16)
    dm.setup("fit")
    first = dm.splits
    dm.setup("test")
    assert dm.splits is first
    dm.max_length = 8
    dm.setup("test")
    assert dm.splits is not first and max(len(ids) for ids in dm.splits["test"]["input_ids"]) == 8


@pytest.mark.parametrize(
    "texts, match",
    [
        ([], "expected a string or a non-empty list of strings; got list"),
        (["ok", ""], "item 1 is empty"),
        (["ok", 3], "item 1 has type int"),
    ],
)
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
