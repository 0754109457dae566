"""Small synthetic sequence tasks, each with a known answer, and one tiny model that learns them.

A task is a function ``task(n, generator, **options) -> (x, y)`` that draws ``n`` examples:
``x`` (n, L) token ids, or (n, L, 2) when a position holds two tokens (their embeddings are summed),
and ``y`` (n, L) the label of every position, with ``IGNORE`` (-100) where nothing is asked.

* ``reverse``: the label of position i is the token at position L-1-i. Needs order.
* ``lookup``: key:value pairs, then a query key; predict its value at the query position. Needs retrieval.
* ``present_elsewhere``: is this position's token also somewhere else in the sequence? Needs other positions.
* ``domain_cipher``: a domain tag, then tokens to translate with that domain's own substitution table. Several
  sub-tasks in one: the setting where a mixture of experts can give each domain its own experts.

``TaskDataModule`` serves a fixed train/validation draw of a task; ``SequenceModel`` is embedding ->
(positions) -> (self-attention) -> (feed-forward) -> linear head, each part switchable, trained with
cross-entropy on the labeled positions. ``BlockModel`` is one pre-norm ``TransformerBlock`` whose feed-forward is
a dense ``SwiGLU`` or a ``SparseMoE`` (week 6). ``outputs(model, x)`` calls a trained model directly, on the
model's own device.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from shared.layers import (
    FeedForward,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    TransformerBlock,
)
from shared.moe import SparseMoE, SwiGLU, load_cv

IGNORE = -100  # label of positions that are not scored (F.cross_entropy's ignore_index)


def _check(name, value, low):
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name}={value!r}; expected an integer >= {low}")


def reverse(n, generator=None, length=8, vocab_size=16):
    """``length`` distinct tokens from ``range(vocab_size)``; label of position i = token at length-1-i."""
    _check("n", n, 1)
    _check("length", length, 2)
    _check("vocab_size", vocab_size, length)
    x = torch.rand(n, vocab_size, generator=generator).argsort(dim=1)[:, :length]  # distinct tokens per row
    return x, x.flip(1)


def lookup(n, generator=None, pairs=6, num_keys=16, num_values=8, queries=1):
    """Positions 0..pairs-1 hold (key, value) pairs with distinct keys; the last position holds the question.

    Token ids: keys 0..K-1, values K..K+V-1 (K = num_keys, V = num_values). x: (n, pairs+1, 2).
    ``queries=1``: the question is (key a, "?" = K+V); its label is a's value, a class in ``range(V)``.
    ``queries=2``: the question is (key a, key b) with b written in a second id range K+V+1..2K+V, so the
    model can tell which key was asked first; the label is the pair of values as one class a_value * V +
    b_value in ``range(V * V)``. Vocabulary size: K + V + 1, or 2K + V + 1 with two queries.
    Only the last position is labeled.
    """
    _check("n", n, 1)
    _check("pairs", pairs, 2)
    _check("num_keys", num_keys, pairs)
    _check("num_values", num_values, 2)
    if queries not in (1, 2):
        raise ValueError(f"queries={queries!r}; expected 1 or 2")
    K, V = num_keys, num_values
    keys = torch.rand(n, K, generator=generator).argsort(dim=1)[:, :pairs]
    values = torch.randint(V, (n, pairs), generator=generator)
    pick = torch.rand(n, pairs, generator=generator).argsort(dim=1)[:, :2]  # two different pairs: a and b
    a, b = keys.gather(1, pick[:, :1]), keys.gather(1, pick[:, 1:])
    label = values.gather(1, pick[:, :1])[:, 0]
    if queries == 1:
        question = torch.cat([a, torch.full_like(a, K + V)], dim=1)
    else:
        question = torch.cat([a, b + K + V + 1], dim=1)
        label = label * V + values.gather(1, pick[:, 1:])[:, 0]
    x = torch.cat([torch.stack([keys, values + K], dim=-1), question[:, None]], dim=1)
    y = torch.full((n, pairs + 1), IGNORE)
    y[:, -1] = label
    return x, y


def present_elsewhere(n, generator=None, length=8, vocab_size=10):
    """Tokens drawn uniformly with repetition; label 1 where the token also occurs at another position.

    With the defaults about half the labels are 1, and a position's own token says nothing about its label.
    """
    _check("n", n, 1)
    _check("length", length, 2)
    _check("vocab_size", vocab_size, 2)
    x = torch.randint(vocab_size, (n, length), generator=generator)
    same = x[:, :, None] == x[:, None, :]  # (n, L, L)
    return x, (same.sum(-1) > 1).long()


def domain_cipher(n, generator=None, length=8, domains=4, vocab_size=16, cipher_seed=0):
    """Each sequence belongs to one of ``domains`` domains; every position holds (token, domain tag): a token from
    ``range(vocab_size)`` and the tag ``vocab_size + d`` (their embeddings are summed). The label of a position is
    the token's translation in its domain, ``ciphers(...)[d, token]`` (a fixed random permutation per domain).
    x: (n, length, 2), y: (n, length). The tables depend only on ``cipher_seed``: train and validation share them."""
    _check("n", n, 1)
    _check("length", length, 1)
    _check("domains", domains, 1)
    _check("vocab_size", vocab_size, 2)
    domain = torch.randint(domains, (n, 1), generator=generator).expand(n, length)
    tokens = torch.randint(vocab_size, (n, length), generator=generator)
    x = torch.stack([tokens, vocab_size + domain], dim=-1)
    return x, ciphers(domains, vocab_size, cipher_seed)[domain, tokens]


def ciphers(domains, vocab_size, cipher_seed=0):
    """The substitution tables of ``domain_cipher``: (domains, vocab_size), row d a permutation of the tokens."""
    g = torch.Generator().manual_seed(cipher_seed)
    return torch.stack([torch.randperm(vocab_size, generator=g) for _ in range(domains)])


def outputs(model, x, **kwargs):
    """``model(x, **kwargs)`` without gradients, computed where the model is (``x`` is moved to the model's device
    first) and returned on the CPU: a direct call that works on whatever device ``run.place`` put the model."""
    device = next(model.parameters()).device
    with torch.no_grad():
        out = model(x.to(device), **kwargs)
    if isinstance(out, tuple):
        return tuple(o.cpu() if isinstance(o, torch.Tensor) else o for o in out)
    return out.cpu()


TASKS = {"reverse": reverse, "lookup": lookup, "present_elsewhere": present_elsewhere, "domain_cipher": domain_cipher}


class TaskDataModule(pl.LightningDataModule):
    """A fixed draw of ``n_train`` training and ``n_val`` validation examples of a task from ``TASKS``.

    ``TaskDataModule("reverse", length=8)``: extra keyword arguments go to the task function.
    """

    def __init__(self, task, n_train=4096, n_val=1024, batch_size=64, seed=0, **options):
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of: {', '.join(TASKS)}")
        _check("batch_size", batch_size, 1)
        self.task, self.batch_size = task, batch_size
        g = torch.Generator().manual_seed(seed)
        self.train_set = TensorDataset(*TASKS[task](n_train, g, **options))
        self.val_set = TensorDataset(*TASKS[task](n_val, g, **options))

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=len(self.val_set))


class SequenceModel(pl.LightningModule):
    """tokens -> TokenEmbedding (+ sinusoidal positions) -> x + attention(x) -> x + FFN(x) -> linear head.

    ``positions``, ``attention`` and ``ffn`` switch the parts on and off, so notebooks can train the same model
    with and without one of them. Logs ``train_loss``, ``train_acc``, ``val_loss`` and ``val_acc`` (accuracy over
    the labeled positions only).
    """

    def __init__(
        self,
        vocab_size,
        num_classes,
        d_model=64,
        num_heads=4,
        positions=True,
        attention=True,
        ffn=True,
        lr=3e-3,
        max_len=64,
    ):
        super().__init__()
        if not (attention or ffn):
            raise ValueError("attention=False and ffn=False leave nothing to learn; expected at least one")
        self.save_hyperparameters()
        self.embed = TokenEmbedding(vocab_size, d_model)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len) if positions else nn.Identity()
        self.attn = MultiHeadAttention(d_model, num_heads) if attention else None
        self.ffn = FeedForward(d_model, 4 * d_model) if ffn else None
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x, need_weights=False):
        """x (B, L) or (B, L, 2) token ids -> logits (B, L, num_classes), and the attention weights if asked."""
        h = self.embed(x) if x.dim() == 2 else self.embed(x).sum(-2)
        h = self.positions(h)
        weights = None
        if self.attn is not None:
            a, weights = self.attn(h, need_weights=need_weights)
            h = h + a
        if self.ffn is not None:
            h = h + self.ffn(h)
        logits = self.head(h)
        return (logits, weights) if need_weights else logits

    def _step(self, batch):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=IGNORE)
        scored = y != IGNORE
        acc = (logits.argmax(-1) == y)[scored].float().mean()
        return loss, acc

    def training_step(self, batch, batch_idx):
        loss, acc = self._step(batch)
        self.log("train_loss", loss)
        self.log("train_acc", acc)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, acc = self._step(batch)
        self.log("val_loss", loss, sync_dist=True)  # under DDP each rank scores half: average them
        self.log("val_acc", acc, sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)


class BlockModel(pl.LightningModule):
    """tokens -> TokenEmbedding + sinusoidal positions -> one pre-norm ``TransformerBlock`` -> LayerNorm -> head.

    ``num_experts=None``: the block's feed-forward is a dense ``SwiGLU(d_model, d_ff)``. Otherwise a
    ``SparseMoE(d_model, d_ff, num_experts, top_k, capacity_factor, shared_d_ff)`` (each expert of size ``d_ff``;
    ``shared_d_ff``: a shared expert of that size beside the routed ones), and the loss adds ``aux_weight *
    aux_loss``. Logs ``train_loss``/``val_loss``/``val_acc`` and, with experts, ``train_aux``, ``train_cv``
    (coefficient of variation of tokens per expert) and ``train_load_<e>`` (expert e's share).
    """

    def __init__(
        self,
        vocab_size,
        num_classes,
        d_model=32,
        num_heads=2,
        d_ff=32,
        num_experts=None,
        top_k=1,
        aux_weight=0.0,
        capacity_factor=None,
        shared_d_ff=None,
        lr=3e-3,
        max_len=64,
    ):
        super().__init__()
        if aux_weight < 0 or (aux_weight > 0 and num_experts is None):
            raise ValueError(f"aux_weight={aux_weight!r}; expected 0, or a positive weight together with experts")
        if shared_d_ff is not None and num_experts is None:
            raise ValueError(f"shared_d_ff={shared_d_ff!r}; a shared expert needs routed experts (num_experts)")
        self.save_hyperparameters()
        self.embed = TokenEmbedding(vocab_size, d_model)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len)
        ff = (
            SwiGLU(d_model, d_ff)
            if num_experts is None
            else SparseMoE(d_model, d_ff, num_experts, top_k, capacity_factor=capacity_factor, shared_d_ff=shared_d_ff)
        )
        self.block = TransformerBlock(d_model, num_heads, d_ff, dropout=0.0, norm_first=True, ff=ff)
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, num_classes)

    @property
    def moe(self):
        """The block's ``SparseMoE``, or None for a dense model."""
        return self.block.ff if isinstance(self.block.ff, SparseMoE) else None

    def forward(self, x):
        """x (B, L) or (B, L, 2) token ids (two tokens at a position: embeddings summed) -> logits (B, L, C)."""
        h = self.embed(x) if x.dim() == 2 else self.embed(x).sum(-2)
        return self.head(self.norm(self.block(self.positions(h))))

    def _step(self, batch):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=IGNORE)
        scored = y != IGNORE
        return loss, (logits.argmax(-1) == y)[scored].float().mean()

    def training_step(self, batch, batch_idx):
        loss, _ = self._step(batch)
        self.log("train_loss", loss)
        if self.moe is None:
            return loss
        load = self.moe.tokens_per_expert.float()
        self.log("train_aux", self.moe.aux_loss)
        self.log("train_cv", load_cv(load))
        for e, share in enumerate(load / load.sum()):
            self.log(f"train_load_{e}", share)
        return loss + self.hparams.aux_weight * self.moe.aux_loss

    def validation_step(self, batch, batch_idx):
        loss, acc = self._step(batch)
        self.log("val_loss", loss, sync_dist=True)
        self.log("val_acc", acc, sync_dist=True)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
