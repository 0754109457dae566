"""Contrastive language-image pretraining (CLIP) in a LightningModule: two towers, one shared space, one loss.

* ``info_nce``: the symmetric InfoNCE loss on a batch's image-text similarity logits (row i's positive is column i).
* ``recall_at_1``: image->text and text->image retrieval, where any item with the same caption counts as a hit.
* ``prompt_ensemble``: zero-shot classifier weights: per class, the mean embedding of the captions that name it.
* ``caption_loader``: tokenized captions in batches, for ``trainer.predict``.
* ``ContrastiveCLIP``: wraps a transformers ``CLIPModel``; trains with ``info_nce`` and CLIP's learned temperature
  (clamped at 1/100 as in the paper); ``predict_step`` returns unit-length image or text embeddings.
"""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

MAX_LOGIT_SCALE = math.log(100.0)  # CLIP clamps its learned scale at 100 (temperature 0.01)


def info_nce(logits_per_image: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE: the mean of cross-entropy over rows (each image picks its caption among the batch's
    captions) and over columns (each caption picks its image). ``logits_per_image`` (n, n): scaled similarities,
    image i and caption i a matching pair."""
    if logits_per_image.dim() != 2 or logits_per_image.size(0) != logits_per_image.size(1):
        raise ValueError(
            f"expected square (n, n) logits with matching pairs on the diagonal; got {tuple(logits_per_image.shape)}"
        )
    target = torch.arange(len(logits_per_image), device=logits_per_image.device)
    return (F.cross_entropy(logits_per_image, target) + F.cross_entropy(logits_per_image.t(), target)) / 2


def recall_at_1(similarity: torch.Tensor, image_ids, text_ids) -> tuple[float, float]:
    """``(image->text, text->image)`` recall@1 from a similarity matrix (n_images, n_texts).

    ``image_ids[i]`` names image i's caption, ``text_ids[j]`` text j's: retrieving any text (or image) with the
    right caption is a hit, so repeated captions are not counted as misses.
    """
    image_ids, text_ids = torch.as_tensor(image_ids), torch.as_tensor(text_ids)
    if similarity.dim() != 2 or similarity.shape != (len(image_ids), len(text_ids)):
        raise ValueError(
            f"expected similarity (n_images, n_texts) = ({len(image_ids)}, {len(text_ids)}); got "
            f"{tuple(similarity.shape)}"
        )
    image_ids, text_ids = image_ids.to(similarity.device), text_ids.to(similarity.device)
    i2t = (text_ids[similarity.argmax(dim=1)] == image_ids).float().mean().item()
    t2i = (image_ids[similarity.argmax(dim=0)] == text_ids).float().mean().item()
    return i2t, t2i


def prompt_ensemble(text_embeddings: torch.Tensor, captions, classes) -> torch.Tensor:
    """Zero-shot classifier weights (n_classes, d): for each class name (``"circle"``, ``"red square"``), the
    unit-length mean of the embeddings of the captions that contain it as whole words (CLIP's prompt ensembling).
    An image's class is then the argmax of its similarity to these rows."""
    captions, classes = list(captions), list(classes)
    if text_embeddings.dim() != 2 or len(text_embeddings) != len(captions) or not classes:
        raise ValueError(
            f"expected one embedding per caption and at least one class; got "
            f"{tuple(text_embeddings.shape)} for {len(captions)} captions and {len(classes)} classes"
        )
    rows = []
    for name in classes:
        hits = [i for i, c in enumerate(captions) if f" {name} " in f" {c} "]
        if not hits:
            raise ValueError(f"no caption mentions the class {name!r}")
        rows.append(F.normalize(text_embeddings[hits].mean(0), dim=-1))
    return torch.stack(rows)


def caption_loader(tokenizer, captions, batch_size: int = 128) -> DataLoader:
    """Batches ``{"input_ids", "attention_mask"}`` of ``captions`` (padded to the longest), for ``trainer.predict``
    with ``ContrastiveCLIP``."""
    captions = list(captions)
    if not captions or not all(isinstance(c, str) and c.strip() for c in captions):
        raise ValueError("expected a non-empty list of non-empty caption strings")
    tokens = tokenizer(captions, padding=True, return_tensors="pt")
    items = [
        {"input_ids": i, "attention_mask": m}
        for i, m in zip(tokens["input_ids"], tokens["attention_mask"], strict=True)
    ]
    return DataLoader(items, batch_size=batch_size)


class ContrastiveCLIP(pl.LightningModule):
    """Train a ``CLIPModel`` on image-caption batches (``pixel_values``, ``input_ids``, ``attention_mask``,
    ``caption_id``) with symmetric InfoNCE and the model's learned temperature.

    Logs ``train_loss``, ``train_temperature`` and, on validation batches, ``val_loss``, ``val_i2t`` and ``val_t2i``
    (in-batch recall@1). AdamW, no weight decay on 1-D parameters (biases, norms, the temperature), a linear
    warmup then cosine decay, stepped every optimizer step.
    """

    def __init__(self, model, lr: float = 1e-3, weight_decay: float = 0.1, warmup_ratio: float = 0.1):
        super().__init__()
        if not lr > 0 or weight_decay < 0 or not 0 <= warmup_ratio < 1:
            raise ValueError(
                f"lr={lr}, weight_decay={weight_decay}, warmup_ratio={warmup_ratio}; expected lr > 0, "
                "weight_decay >= 0 and 0 <= warmup_ratio < 1"
            )
        self.model = model.train()  # from_pretrained returns eval mode
        self.lr, self.weight_decay, self.warmup_ratio = lr, weight_decay, warmup_ratio

    def embed_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.model.get_image_features(pixel_values=pixel_values).pooler_output, dim=-1)

    def embed_texts(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
        return F.normalize(out.pooler_output, dim=-1)

    def logit_scale(self) -> torch.Tensor:
        return self.model.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()

    @property
    def temperature(self) -> float:
        """1 / logit scale: how sharply the softmax over similarities picks its top match."""
        return 1.0 / float(self.logit_scale().detach())

    def _logits(self, batch) -> torch.Tensor:
        images = self.embed_images(batch["pixel_values"])
        texts = self.embed_texts(batch["input_ids"], batch["attention_mask"])
        return self.logit_scale() * images @ texts.t()  # (n images, n texts)

    def training_step(self, batch, batch_idx):
        loss = info_nce(self._logits(batch))
        self.log("train_loss", loss, prog_bar=True)
        self.log("train_temperature", 1.0 / self.logit_scale())
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self._logits(batch)
        i2t, t2i = recall_at_1(logits, batch["caption_id"], batch["caption_id"])
        self.log("val_loss", info_nce(logits), prog_bar=True, sync_dist=True)
        self.log("val_i2t", i2t, sync_dist=True)
        self.log("val_t2i", t2i, sync_dist=True)

    def predict_step(self, batch, batch_idx):
        """Unit-length embeddings: of the images for a batch with ``pixel_values``, else of the texts."""
        if "pixel_values" in batch:
            return self.embed_images(batch["pixel_values"])
        return self.embed_texts(batch["input_ids"], batch["attention_mask"])

    def configure_optimizers(self):
        from transformers import get_cosine_schedule_with_warmup

        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": self.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.lr)
        total = self.trainer.estimated_stepping_batches
        schedule = get_cosine_schedule_with_warmup(optimizer, int(self.warmup_ratio * total), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
