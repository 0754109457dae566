"""shared.multimodal.clip: InfoNCE and recall@1 on hand values; the tiny CLIP builds, tokenizes captions and trains a
step."""

import math

import pytest
import torch

from shared import models, runtime
from shared.multimodal import clip, shapes


def test_info_nce_by_hand():
    logits = torch.tensor([[2.0, 0.0], [1.0, 3.0]])
    rows = (-math.log(math.e**2 / (math.e**2 + 1)) - math.log(math.e**3 / (math.e + math.e**3))) / 2
    cols = (-math.log(math.e**2 / (math.e**2 + math.e)) - math.log(math.e**3 / (1 + math.e**3))) / 2
    assert clip.info_nce(logits).item() == pytest.approx((rows + cols) / 2, rel=1e-6)
    # a perfect, confident matrix has a loss near 0; a constant one has log(n)
    assert clip.info_nce(torch.eye(4) * 100).item() < 1e-6
    assert clip.info_nce(torch.zeros(4, 4)).item() == pytest.approx(math.log(4))
    with pytest.raises(ValueError, match="square"):
        clip.info_nce(torch.zeros(2, 3))


def test_recall_at_1_counts_equal_captions_as_hits():
    sim = torch.tensor([[0.9, 0.1, 0.0], [0.8, 0.2, 0.1], [0.0, 0.3, 0.2]])
    # image 1 retrieves text 0, which has image 1's caption (ids 5, 5): a hit; image 2 retrieves text 1: a miss
    i2t, t2i = clip.recall_at_1(sim, [5, 5, 7], [5, 5, 7])
    assert i2t == pytest.approx(2 / 3)  # images 0, 1 hit; 2 misses (picks text 1, id 5)
    assert t2i == pytest.approx(2 / 3)  # texts 0, 1 pick image 0 (id 5): hits; text 2 picks image 1 (id 5): miss
    with pytest.raises(ValueError, match="n_images, n_texts"):
        clip.recall_at_1(sim, [1, 2], [1, 2, 3])


def test_prompt_ensemble_by_hand():
    emb = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    weights = clip.prompt_ensemble(emb, ["a red circle", "a blue circle", "a red square"], ["circle", "red square"])
    torch.testing.assert_close(weights, torch.tensor([[0.5**0.5, 0.5**0.5], [0.5**0.5, 0.5**0.5]]))
    weights = clip.prompt_ensemble(emb, ["a red circle", "a blue circle", "a red square"], ["red"])
    torch.testing.assert_close(weights, torch.tensor([[2 / 5**0.5, 1 / 5**0.5]]))
    with pytest.raises(ValueError, match="no caption mentions"):
        clip.prompt_ensemble(emb, ["a red circle", "a blue circle", "a red square"], ["circ"])  # whole words only
    with pytest.raises(ValueError, match="one embedding per caption"):
        clip.prompt_ensemble(emb, ["a red circle"], ["red"])


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    runtime.profile.cache_clear()
    yield
    runtime.profile.cache_clear()


def test_tiny_clip_tokenizes_captions_into_words(tiny):
    model, tokenizer = models.load_clip()
    tokens = tokenizer(shapes.all_captions(), padding=True)
    lengths = {len(ids) for ids in tokens["input_ids"]}
    assert lengths == {9}  # start, 7 words ("top left" is two), end: every word one token
    ids = tokens["input_ids"][0]
    assert ids[0] == tokenizer.bos_token_id == model.config.text_config.bos_token_id
    assert ids[-1] == tokenizer.eos_token_id == model.config.text_config.eos_token_id
    assert model.config.vision_config.image_size == models.TINY_CLIP["image_size"]


def test_contrastive_clip_step_and_embeddings(tiny):
    model, tokenizer = models.load_clip()
    data = shapes.ShapesDataModule(tokenizer, 32, [0.5] * 3, [0.25] * 3, n_train=8, n_val=8, batch_size=4)
    data.setup()
    batch = next(iter(data.train_dataloader()))
    assert batch["pixel_values"].shape == (4, 3, 32, 32) and batch["input_ids"].shape == (4, 9)
    module = clip.ContrastiveCLIP(model)
    loss = clip.info_nce(module._logits(batch))
    loss.backward()
    assert torch.isfinite(loss) and model.logit_scale.grad is not None
    images = module.predict_step({"pixel_values": batch["pixel_values"]}, 0)
    texts = module.predict_step({k: batch[k] for k in ("input_ids", "attention_mask")}, 0)
    torch.testing.assert_close(images.norm(dim=-1), torch.ones(4))
    torch.testing.assert_close(texts.norm(dim=-1), torch.ones(4))
    assert module.temperature == pytest.approx(1 / math.exp(model.logit_scale.item()))
    torch.testing.assert_close(module._logits(batch), module.logit_scale() * images @ texts.t())
    loader = clip.caption_loader(tokenizer, shapes.all_captions()[:3], batch_size=2)
    first = next(iter(loader))
    assert first["input_ids"].shape == (2, 9) and len(loader) == 2
    with pytest.raises(ValueError, match="non-empty caption"):
        clip.caption_loader(tokenizer, ["a red circle", ""])
    with pytest.raises(ValueError, match="lr > 0"):
        clip.ContrastiveCLIP(model, lr=0)
