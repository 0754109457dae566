"""Reusable LightningModules. Lightning owns the loop, the devices and the precision; these only say what a step is."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F


def to_model_device(model: torch.nn.Module, batch):
    """``batch`` (a dict of tensors, such as a tokenizer's output) with every tensor on the device of ``model``'s
    parameters, for a direct call ``model(**batch)`` after ``run.place(model)``."""
    if not hasattr(batch, "items"):
        raise ValueError(f"expected a dict of tensors (a tokenizer's output, a batch); got {type(batch).__name__}")
    device = next(model.parameters()).device
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each sequence, ignoring padding: (B, L, D), (B, L) -> (B, D)."""
    if hidden.dim() != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(
            f"expected hidden (B, L, D) and attention_mask (B, L); got {tuple(hidden.shape)} "
            f"and {tuple(attention_mask.shape)}"
        )
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
        return {
            "last_hidden_state": out.last_hidden_state,
            "attention_mask": batch["attention_mask"],
            "embedding": sentence,
        }


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

    def loss(self, batch):
        """The next-token loss of a batch: the model's own cross-entropy, which shifts ``labels`` by one position
        and skips the label -100."""
        return self.model(input_ids=batch["input_ids"], labels=batch["labels"]).loss

    def training_step(self, batch, batch_idx):
        loss = self.loss(batch)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.loss(batch), prog_bar=True, sync_dist=True)  # averaged over DDP ranks

    def predict_step(self, batch, batch_idx):
        ids = self.model.generate(**batch, pad_token_id=self.tokenizer.pad_token_id, **self.generation)
        new_tokens = ids[:, batch["input_ids"].shape[1] :]
        return self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)


class SentimentClassifier(pl.LightningModule):
    """Fine-tune ``AutoModelForSequenceClassification``: AdamW with grouped weight decay, linear warmup and decay
    stepped every optimizer step, accuracy and macro-F1 from torchmetrics.

    The model is built from ``source`` (a Hub id, a local folder, or a course role such as ``"classifier"``, which
    is found on whatever machine loads the checkpoint) inside ``__init__`` and every argument is saved as a
    hyperparameter, so ``SentimentClassifier.load_from_checkpoint(path)`` rebuilds it exactly.
    """

    FUSED_DEVICES = ("cpu", "cuda")  # where configure_optimizers asks for the fused AdamW kernel

    def __init__(
        self,
        source: str,
        labels: tuple = ("neg", "pos"),
        pretrained: bool = True,
        lr: float = 5e-5,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
    ):
        super().__init__()
        from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

        from shared.models import classifier_from

        if lr <= 0 or not 0 <= warmup_ratio < 1 or weight_decay < 0:
            raise ValueError(
                f"lr={lr}, warmup_ratio={warmup_ratio}, weight_decay={weight_decay}; expected lr > 0, "
                "0 <= warmup_ratio < 1 and weight_decay >= 0"
            )
        self.save_hyperparameters()
        labels = tuple(labels)
        num_labels = len(labels)
        self.model = classifier_from(source, pretrained=pretrained, labels=labels).train()
        self.metrics = torch.nn.ModuleDict(
            {
                f"{stage}_{name}": metric(num_classes=num_labels, average="macro" if name == "f1" else "micro")
                for stage in ("val", "test")
                for name, metric in (("acc", MulticlassAccuracy), ("f1", MulticlassF1Score))
            }
        )

    def forward(self, batch):
        return self.model(**{k: v for k, v in batch.items() if k != "labels"}).logits

    def training_step(self, batch, batch_idx):
        loss = F.cross_entropy(self(batch), batch["labels"])
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def _evaluate(self, batch, stage: str):
        logits = self(batch)
        self.log(f"{stage}_loss", F.cross_entropy(logits, batch["labels"]), prog_bar=True, sync_dist=True)
        for name in ("acc", "f1"):
            metric = self.metrics[f"{stage}_{name}"]
            metric(logits, batch["labels"])
            self.log(f"{stage}_{name}", metric, prog_bar=name == "acc")

    def validation_step(self, batch, batch_idx):
        self._evaluate(batch, "val")

    def test_step(self, batch, batch_idx):
        self._evaluate(batch, "test")

    def predict_step(self, batch, batch_idx):
        """Class probabilities, shape (batch, num_labels)."""
        return self(batch).softmax(dim=-1)

    def configure_optimizers(self):
        from transformers import get_linear_schedule_with_warmup

        # Biases and normalization weights (1-D tensors) get no weight decay, as in BERT's recipe.
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": self.hparams.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        # fused: one kernel updates every tensor. For MiniLM on a CPU the default (foreach) step costs as much as
        # the forward and backward passes together; the fused one about a quarter of that. Same update rule.
        fused = self.device.type in SentimentClassifier.FUSED_DEVICES or None  # also borrowed by DistillationModule
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.lr, fused=fused)
        total = self.trainer.estimated_stepping_batches
        schedule = get_linear_schedule_with_warmup(optimizer, int(self.hparams.warmup_ratio * total), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
