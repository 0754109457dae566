"""shared.efficiency.lora: which weights train (hand-counted), that training starts from the pretrained model, that the
hyperparameters rebuild the adapters, that merging changes nothing, input checks."""

import pytest
import torch

from shared.efficiency.lora import LoraSentimentClassifier, trainable_share
from shared.lightning_modules import SentimentClassifier

HIDDEN, LAYERS, RANK = 32, 2, 4


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from transformers import BertConfig, BertForMaskedLM

    folder = tmp_path_factory.mktemp("lora-bert")
    config = BertConfig(
        vocab_size=50,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
    )
    torch.manual_seed(0)
    BertForMaskedLM(config).save_pretrained(folder)
    return str(folder)


def _batch():
    torch.manual_seed(1)
    return {"input_ids": torch.randint(5, 50, (3, 7)), "attention_mask": torch.ones(3, 7, dtype=torch.long)}


def test_only_adapters_and_head_train(tiny_bert):
    lora = LoraSentimentClassifier(tiny_bert, r=RANK, alpha=8)
    trainable, total = trainable_share(lora)
    adapters = LAYERS * 2 * RANK * (HIDDEN + HIDDEN)  # query and value: A (r x in) and B (out x r)
    head = HIDDEN * 2 + 2
    plain = sum(p.numel() for p in SentimentClassifier(tiny_bert).parameters())
    assert trainable == adapters + head
    assert total == plain + adapters + head  # peft keeps the original head beside its trainable copy
    names = [name for name, p in lora.named_parameters() if p.requires_grad]
    assert all("lora_" in name or "classifier" in name for name in names)
    assert lora.hparams.r == RANK and lora.hparams.target_modules == ("query", "value")


def test_training_starts_from_the_pretrained_model_and_merging_changes_nothing(tiny_bert):
    torch.manual_seed(2)
    lora = LoraSentimentClassifier(tiny_bert, r=RANK, alpha=8).eval()
    base = lora.model.get_base_model()
    with torch.no_grad():
        before = lora(_batch())
        with lora.model.disable_adapter():
            assert torch.equal(lora(_batch()), before), "B = 0: the adapters add nothing at the start"
        for name, param in lora.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)  # as if trained
        adapted = lora(_batch())
        assert not torch.allclose(adapted, before)
        merged = lora.model.merge_and_unload()
        assert merged is base and not any("lora" in n for n, _ in merged.named_modules())
        inputs = _batch()
        assert torch.allclose(merged(**inputs).logits, adapted, atol=1e-5)


def test_checkpoint_round_trip_rebuilds_the_adapters(tiny_bert, tmp_path):
    import pytorch_lightning as pl

    lora = LoraSentimentClassifier(tiny_bert, r=RANK, alpha=8).eval()
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, accelerator="cpu")
    trainer.strategy.connect(lora)
    trainer.save_checkpoint(tmp_path / "lora.ckpt", weights_only=True)
    loaded = LoraSentimentClassifier.load_from_checkpoint(tmp_path / "lora.ckpt", weights_only=True).eval()
    with torch.no_grad():
        assert torch.equal(loaded(_batch()), lora(_batch()))
    assert trainable_share(loaded) == trainable_share(lora)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"r": 0}, "integer rank r >= 1"),
        ({"alpha": 0}, "alpha > 0"),
        ({"dropout": 1.0}, "0 <= dropout < 1"),
        ({"target_modules": "query"}, "non-empty list of module names"),
        ({"target_modules": ()}, "non-empty list of module names"),
    ],
)
def test_bad_arguments(tiny_bert, kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoraSentimentClassifier(tiny_bert, **kwargs)
