"""Reusable LightningModules. Lightning owns the loop, the devices and the precision; these only say what a step is."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each sequence, ignoring padding: (B, L, D), (B, L) -> (B, D)."""
    if hidden.dim() != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(f"expected hidden (B, L, D) and attention_mask (B, L); got {tuple(hidden.shape)} "
                         f"and {tuple(attention_mask.shape)}")
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class EncoderModule(pl.LightningModule):
    """A pretrained encoder behind ``trainer.predict``: token vectors and one unit-length vector per text."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def predict_step(self, batch, batch_idx):
        out = self.model(**batch)
        sentence = F.normalize(mean_pool(out.last_hidden_state, batch["attention_mask"]), dim=-1)
        return {"last_hidden_state": out.last_hidden_state, "attention_mask": batch["attention_mask"],
                "embedding": sentence}


class CausalLMModule(pl.LightningModule):
    """Next-token prediction around any ``AutoModelForCausalLM``; ``predict_step`` generates text.

    ``generation`` holds the keyword arguments for ``model.generate`` used by ``trainer.predict``.
    """

    def __init__(self, model, tokenizer, lr: float = 1e-3, weight_decay: float = 0.01):
        super().__init__()
        if lr <= 0:
            raise ValueError(f"lr={lr!r}; expected a positive learning rate")
        self.model, self.tokenizer = model.train(), tokenizer  # from_pretrained returns eval mode
        self.lr, self.weight_decay = lr, weight_decay
        self.generation: dict = {"max_new_tokens": 30, "do_sample": False}

    def _loss(self, batch):
        return self.model(input_ids=batch["input_ids"], labels=batch["labels"]).loss

    def training_step(self, batch, batch_idx):
        loss = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self._loss(batch), prog_bar=True)

    def predict_step(self, batch, batch_idx):
        ids = self.model.generate(**batch, pad_token_id=self.tokenizer.pad_token_id, **self.generation)
        new_tokens = ids[:, batch["input_ids"].shape[1]:]
        return self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
