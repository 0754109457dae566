"""shared.lightning_modules / shared.inference: the sentiment classifier's recipe, checkpoint round trip, input
checks."""

import shutil
import warnings

import pytest
import torch
from torch.utils.data import DataLoader
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from shared import data, models
from shared.callbacks import History
from shared.data import check_texts
from shared.inference import predict_sentiment
from shared.lightning_modules import SentimentClassifier, mean_pool
from shared.trainer import make_trainer


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    """A 2-layer, 32-wide BERT saved like a Hub checkpoint, with the MiniLM tokenizer beside it."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(models.minilm_path()).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tokenizer(tiny_source):
    return AutoTokenizer.from_pretrained(tiny_source)


def batches(tokenizer, n=64, batch_size=8, shuffle=True):
    texts = ["a wonderful film.", "a dreadful film."] * (n // 2)
    labels = [1, 0] * (n // 2)
    rows = list(zip(texts, labels, strict=True))

    def collate(rows):
        enc = tokenizer([t for t, _ in rows], padding=True, return_tensors="pt")
        enc["labels"] = torch.tensor([y for _, y in rows])
        return dict(enc)

    return DataLoader(rows, batch_size=batch_size, shuffle=shuffle, collate_fn=collate)


def test_mean_pool_ignores_padding():
    h = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert mean_pool(h, torch.tensor([[1, 1, 0]])).item() == 2.0
    with pytest.raises(ValueError, match="expected hidden"):
        mean_pool(h, torch.ones(1, 2))


@pytest.mark.filterwarnings("ignore:You defined a `validation_step` but have no `val_dataloader`")
def test_optimizer_groups_and_per_step_warmup(tiny_source, tokenizer, tmp_path):
    module = SentimentClassifier(tiny_source, lr=1e-3, weight_decay=0.1, warmup_ratio=0.5)
    lrs = []

    class RecordLR(History):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            lrs.append(trainer.optimizers[0].param_groups[0]["lr"])

    trainer = make_trainer(
        max_steps=8, logger=False, enable_checkpointing=False, callbacks=[RecordLR()], default_root_dir=str(tmp_path)
    )
    trainer.fit(module, batches(tokenizer))
    decayed, plain = trainer.optimizers[0].param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decayed["params"]) and all(p.ndim < 2 for p in plain["params"])
    names = {id(p): n for n, p in module.named_parameters()}
    assert any("LayerNorm.weight" in names[id(p)] for p in plain["params"])
    # warmup over 4 of 8 steps, then linear decay: 0, 1/4, 2/4, 3/4, 1, 3/4, 2/4, 1/4 of the peak
    assert lrs == pytest.approx([1e-3 * f for f in (0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25)])


def test_learns_and_round_trips_through_a_checkpoint(tiny_source, tokenizer, tmp_path):
    module = SentimentClassifier(tiny_source, lr=3e-3, warmup_ratio=0.1)
    loader = batches(tokenizer)
    trainer = make_trainer(max_steps=30, logger=False, enable_checkpointing=False, default_root_dir=str(tmp_path))
    trainer.fit(module, loader, batches(tokenizer, shuffle=False))
    assert trainer.callback_metrics["val_acc"] == 1.0, "two distinct words -> must be learnable in 30 steps"
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = SentimentClassifier.load_from_checkpoint(path, weights_only=True)
    assert restored.hparams["labels"] == ("neg", "pos") and restored.model.config.id2label == {0: "neg", 1: "pos"}
    batch = next(iter(loader))
    module.eval()
    restored.eval()
    torch.testing.assert_close(module(batch), restored(batch))
    probs = module.predict_step(batch, 0)
    torch.testing.assert_close(probs.sum(-1), torch.ones(len(probs)))


def test_a_checkpoint_that_stores_the_role_loads_in_another_clone(tiny_source, tokenizer, tmp_path, monkeypatch):
    """The cached fine-tune stores the role "classifier", not this machine's folder (a path into one clone's venv):
    loading finds the role's model where it lives now, with the trained weights."""
    monkeypatch.setattr(models, "source", lambda role: tiny_source)
    module = SentimentClassifier("classifier", lr=3e-3)
    trainer = make_trainer(max_steps=2, logger=False, enable_checkpointing=False, default_root_dir=str(tmp_path))
    trainer.fit(module, batches(tokenizer, n=16))
    trainer.save_checkpoint(tmp_path / "role.ckpt")
    moved = tmp_path / "another-clone"
    shutil.copytree(tiny_source, moved)
    monkeypatch.setattr(models, "source", lambda role: str(moved))
    restored = SentimentClassifier.load_from_checkpoint(tmp_path / "role.ckpt", weights_only=True)
    assert restored.hparams["source"] == "classifier" and restored.model.name_or_path == str(moved)
    batch = next(iter(batches(tokenizer)))
    torch.testing.assert_close(module.eval()(batch), restored.eval()(batch))


def test_bad_hyperparameters(tiny_source):
    with pytest.raises(ValueError, match="expected lr > 0"):
        SentimentClassifier(tiny_source, lr=0)
    with pytest.raises(ValueError, match="0 <= warmup_ratio < 1"):
        SentimentClassifier(tiny_source, warmup_ratio=1.5)


@pytest.mark.parametrize(
    "bad, match",
    [
        ("", "item 0 is empty"),
        (["ok", "  "], "item 1 is empty"),
        (["ok", 3], "item 1 has type int; expected every item to be a string"),
        ([], "non-empty list of strings; got list"),
        (None, "got NoneType"),
        ({"text": "x"}, "got dict"),
    ],
)
def test_check_texts_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        check_texts(bad)


def test_predict_sentiment_single_batch_and_truncation(tiny_source, tokenizer, tmp_path):
    module = SentimentClassifier(tiny_source)
    trainer = make_trainer(logger=False, enable_checkpointing=False, default_root_dir=str(tmp_path))
    one = predict_sentiment(module, tokenizer, "a fine film", trainer=trainer)
    assert set(one) == {"text", "label", "score", "probs", "truncated"} and one["label"] in ("neg", "pos")
    assert one["score"] == max(one["probs"].values()) and sum(one["probs"].values()) == pytest.approx(1.0)
    many = predict_sentiment(module, tokenizer, ["a fine film", "a poor film"], trainer=trainer)
    assert [r["text"] for r in many] == ["a fine film", "a poor film"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        long = predict_sentiment(module, tokenizer, ["short", "word " * 200], max_length=16, trainer=trainer)
    assert [r["truncated"] for r in long] == [False, True]
    assert any("truncated" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="expected an integer >= 8"):
        predict_sentiment(module, tokenizer, "x", max_length=2)


def test_pattern_of_follows_the_data_card():
    assert data.pattern_of("great cast, but the plot was dull.") == "contrast"
    assert data.pattern_of("although slow, it was moving.") == "contrast"
    assert data.pattern_of("the ending wasn't good.") == "negation"
    assert data.pattern_of("the acting was wonderful.") == "simple"
    with pytest.raises(ValueError, match="expected a review as a string"):
        data.pattern_of(None)
