"""A small Transformer text classifier trained from scratch on word ids, for experiments that need many cheap
training runs (notebook 18 trains three). It is notebook 09's encoder classifier, packaged: a word vocabulary
built from the training texts, token embeddings plus sinusoidal positions, pre-norm ``TransformerBlock``s, the
mean of the contextual vectors, a linear head.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from shared.baselines import words
from shared.layers import SinusoidalPositionalEncoding, TokenEmbedding, TransformerBlock

PAD, UNK = 0, 1


class Vocabulary:
    """Word -> id, built from training texts: 0 is padding, 1 an unknown word."""

    def __init__(self, texts):
        self.ids = {"[pad]": PAD, "[unk]": UNK}
        for text in texts:
            for w in words(text, punctuation=True):
                self.ids.setdefault(w, len(self.ids))
        if len(self.ids) == 2:
            raise ValueError("expected training texts with at least one word")

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, texts, max_len: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ids, mask)``, both (n, L) with L the longest text (at most ``max_len``); mask True on real words."""
        rows = [[self.ids.get(w, UNK) for w in words(t, punctuation=True)][:max_len] for t in texts]
        if not rows or min(map(len, rows)) == 0:
            raise ValueError("expected a non-empty list of texts, each with at least one word")
        ids = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        return ids, ids != PAD

    def dataset(self, texts, labels, max_len: int = 48) -> TensorDataset:
        ids, mask = self.encode(texts, max_len)
        if len(labels) != len(ids):
            raise ValueError(f"expected one label per text; got {len(labels)} labels for {len(ids)} texts")
        return TensorDataset(ids, mask, torch.as_tensor(list(labels), dtype=torch.long))


class WordClassifier(pl.LightningModule):
    """Batches ``(ids, mask, labels)``; logs ``train_loss``, ``val_acc``; ``predict_step`` gives class
    probabilities (n, num_classes)."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int = 2,
        d_model: int = 64,
        num_heads: int = 4,
        num_layers: int = 2,
        dropout: float = 0.1,
        lr: float = 2e-3,
    ):
        super().__init__()
        if vocab_size < 3 or num_classes < 2 or num_layers < 1 or not lr > 0:
            raise ValueError(
                f"vocab_size={vocab_size}, num_classes={num_classes}, num_layers={num_layers}, lr={lr}; "
                "expected vocab_size >= 3, num_classes >= 2, num_layers >= 1 and lr > 0"
            )
        self.save_hyperparameters()
        self.embed = TokenEmbedding(vocab_size, d_model, padding_idx=PAD)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len=128)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, num_heads, 2 * d_model, dropout=dropout, norm_first=True)
            for _ in range(num_layers)
        )
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.positions(self.embed(ids))
        for block in self.blocks:
            h = block(h, key_padding_mask=~mask)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return self.head(pooled)

    def training_step(self, batch, batch_idx):
        ids, mask, labels = batch
        loss = F.cross_entropy(self(ids, mask), labels)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        ids, mask, labels = batch
        self.log("val_acc", (self(ids, mask).argmax(-1) == labels).float().mean(), sync_dist=True)

    def predict_step(self, batch, batch_idx):
        ids, mask = batch[0], batch[1]
        return self(ids, mask).softmax(-1)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
