"""Knowledge distillation (Hinton, Vinyals and Dean, 2015; DistilBERT, Sanh et al., 2019): a small student learns
from a large teacher's softened predictions as well as from the labels.

* ``hinton_loss``: ``alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, labels)``, where ``_T``
  means softmax(logits / T). The T^2 keeps the soft term's gradients on the same scale whatever T is. Without
  labels and at T = 1 it is the plain KL between the two distributions.
* ``shrink``: a student with a subset of the teacher's layers, copied from it (DistilBERT took one layer in two).
* ``parameter_counts``: total, embedding and non-embedding parameters.
* ``batch_on``, ``logits_of`` and ``forward_seconds``: direct calls, made where the model is
  (``run.place(model)``): a batch moved there, its logits, and the time of forward passes over the same batches,
  model after model, the device synchronized.
* ``DistillationModule``: trains a student with ``hinton_loss`` (or with labels only, ``teacher=None``), with the
  same optimizer recipe as ``shared.lightning_modules.SentimentClassifier``.
"""

from __future__ import annotations

import copy

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from shared.lightning_modules import SentimentClassifier
from shared.runtime import interleaved_seconds


def hinton_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor | None = None,
    temperature: float = 2.0,
    alpha: float | None = None,
) -> torch.Tensor:
    """Distillation loss, averaged over the batch.

    ``alpha`` weights the soft (teacher) term, ``1 - alpha`` the hard (label) term; default 0.5 with labels.
    ``labels=None``: the soft term alone (alpha must then be 1 or None).
    """
    if student_logits.dim() != 2 or student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"expected student and teacher logits of the same shape (batch, classes); got "
            f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}"
        )
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature={temperature!r}; expected a number > 0")
    if alpha is not None and not 0 <= alpha <= 1:
        raise ValueError(f"alpha={alpha!r}; expected a weight between 0 and 1")
    if labels is None and alpha not in (None, 1, 1.0):
        raise ValueError(
            f"alpha={alpha!r} without labels: there is no cross-entropy term to weight; expected "
            "labels, or alpha=None/1"
        )
    t = temperature
    soft = (
        F.kl_div(
            F.log_softmax(student_logits / t, dim=-1),
            F.log_softmax(teacher_logits.detach() / t, dim=-1),
            reduction="batchmean",
            log_target=True,
        )
        * t
        * t
    )
    if labels is None:
        return soft
    if labels.shape != student_logits.shape[:1]:
        raise ValueError(f"expected one label per row ({student_logits.shape[0]}); got shape {tuple(labels.shape)}")
    alpha = 0.5 if alpha is None else alpha
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def _layer_list(model) -> str:
    """The name of the model's stack of Transformer layers: the ModuleList with one entry per hidden layer."""
    n = model.config.num_hidden_layers
    names = [name for name, m in model.named_modules() if isinstance(m, nn.ModuleList) and len(m) == n]
    if len(names) != 1:
        raise ValueError(f"expected exactly one ModuleList of {n} layers in {type(model).__name__}; found {names}")
    return names[0]


def every_other_layer(n_layers: int) -> list[int]:
    """DistilBERT's choice of teacher layers: 0, 2, 4, ... (half of them, rounded up)."""
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 2:
        raise ValueError(f"n_layers={n_layers!r}; expected an integer >= 2")
    return list(range(0, n_layers, 2))


def shrink(model, keep) -> nn.Module:
    """A copy of ``model`` (any Hugging Face encoder with one ModuleList of layers) that keeps only the layers
    numbered in ``keep``, in order; embeddings, pooler and head are copied as they are. The copy is in training
    mode with every parameter trainable, whatever the state of ``model`` (a frozen teacher, say)."""
    name = _layer_list(model)
    n = model.config.num_hidden_layers
    keep = list(keep)
    if not keep or any(not isinstance(i, int) or not 0 <= i < n for i in keep) or keep != sorted(set(keep)):
        raise ValueError(f"keep={keep!r}; expected increasing, distinct layer numbers in range({n})")
    student = copy.deepcopy(model)
    parent, _, attr = name.rpartition(".")
    layers = student.get_submodule(name)
    setattr(student.get_submodule(parent) if parent else student, attr, nn.ModuleList([layers[i] for i in keep]))
    student.config.num_hidden_layers = len(keep)
    return student.train().requires_grad_(True)  # a student to train, even when the teacher was frozen


def parameter_counts(model) -> dict[str, int]:
    """``total``, ``embeddings`` (token, position and type embeddings with their norm) and ``non_embedding``."""
    embeddings = getattr(model.base_model, "embeddings", None)
    embeddings = model.get_input_embeddings() if embeddings is None else embeddings
    total = sum(p.numel() for p in model.parameters())
    emb = sum(p.numel() for p in embeddings.parameters())
    return {"total": total, "embeddings": emb, "non_embedding": total - emb}


def batch_on(model, batch) -> dict:
    """A tokenized ``batch`` (a dict of tensors) on the model's device, for direct calls."""
    device = next(model.parameters()).device
    return {k: v.to(device) for k, v in batch.items()}


def _inputs_on(model, batch) -> dict:
    return {k: v for k, v in batch_on(model, batch).items() if k != "labels"}


@torch.no_grad()
def logits_of(model, batch) -> torch.Tensor:
    """The model's logits for a tokenized ``batch`` (its ``labels``, if any, left out), computed on the model's
    device, in evaluation mode."""
    return model.eval()(**_inputs_on(model, batch)).logits


def forward_seconds(models: dict, batches, repeats: int = 3) -> dict[str, list[float]]:
    """Seconds each model (``{name: model}``, all on one device) takes for forward passes over ``batches``: the
    batches are moved to the device first, then the models take turns, the device synchronized around each."""
    devices = {next(m.parameters()).device for m in models.values()}
    if len(devices) != 1:
        raise ValueError(f"expected every model on one device (run.place each); got {sorted(map(str, devices))}")
    batches = [_inputs_on(next(iter(models.values())), b) for b in batches]

    def forward(model):
        def run():
            with torch.inference_mode():
                for batch in batches:
                    model(**batch)

        return run

    calls = {name: forward(model.eval()) for name, model in models.items()}
    return interleaved_seconds(calls, devices.pop(), repeats=repeats)


class DistillationModule(pl.LightningModule):
    """Train ``student`` (an ``AutoModelForSequenceClassification``) with labels and, when a ``teacher`` is given,
    with ``hinton_loss`` against the teacher's logits. The teacher is frozen and stays in evaluation mode.
    With a teacher, training batches may come without ``labels`` (unlabeled text, Hinton's "transfer set"): the
    student then learns from the soft term alone.

    Logs ``train_loss`` and ``val_acc``/``test_acc``; ``predict_step`` returns class probabilities. The optimizer
    (AdamW, no decay on biases and norms, linear warmup and decay) is ``SentimentClassifier``'s.
    """

    configure_optimizers = SentimentClassifier.configure_optimizers

    def __init__(
        self,
        student,
        teacher=None,
        temperature: float = 2.0,
        alpha: float = 0.5,
        lr: float = 1e-4,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
        hidden_weight: float = 0.0,
    ):
        super().__init__()
        from torchmetrics.classification import MulticlassAccuracy

        if lr <= 0 or not 0 <= warmup_ratio < 1 or weight_decay < 0 or not 0 <= alpha <= 1 or not temperature > 0:
            raise ValueError(
                f"lr={lr}, warmup_ratio={warmup_ratio}, weight_decay={weight_decay}, alpha={alpha}, "
                f"temperature={temperature}; expected lr > 0, 0 <= warmup_ratio < 1, weight_decay >= 0, "
                "0 <= alpha <= 1 and temperature > 0"
            )
        self.save_hyperparameters(ignore=["student", "teacher"])
        self.student = student.train()
        self.teacher = teacher.eval().requires_grad_(False) if teacher is not None else None
        classes = student.config.num_labels
        self.metrics = nn.ModuleDict({f"{s}_acc": MulticlassAccuracy(num_classes=classes) for s in ("val", "test")})

    def train(self, mode: bool = True):
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()  # no dropout in the teacher: its predictions are the targets
        return self

    @staticmethod
    def _inputs(batch):
        return {k: v for k, v in batch.items() if k != "labels"}

    def forward(self, batch):
        return self.student(**self._inputs(batch)).logits

    def distillation_loss(self, batch):
        """The loss of one training batch: cross-entropy with the labels alone without a teacher; with one,
        ``hinton_loss`` against its logits (the soft term alone for a batch without labels), plus DistilBERT's
        cosine term on the last hidden states when ``hidden_weight`` > 0."""
        hidden = self.teacher is not None and self.hparams.hidden_weight > 0
        out = self.student(**self._inputs(batch), output_hidden_states=hidden)
        labels = batch.get("labels")
        if self.teacher is None:
            if labels is None:
                raise ValueError("a batch without labels and no teacher: expected labels to train on, or a teacher")
            loss = F.cross_entropy(out.logits, labels)
        else:
            with torch.no_grad():
                target = self.teacher(**self._inputs(batch), output_hidden_states=hidden)
            alpha = self.hparams.alpha if labels is not None else None  # unlabeled text: the soft term alone
            loss = hinton_loss(out.logits, target.logits, labels, self.hparams.temperature, alpha)
            if hidden:  # DistilBERT's cosine loss: align the last hidden states, token by token
                mask = batch["attention_mask"].bool()
                cos = F.cosine_similarity(out.hidden_states[-1][mask], target.hidden_states[-1][mask], dim=-1)
                loss = loss + self.hparams.hidden_weight * (1 - cos).mean()
        return loss

    def training_step(self, batch, batch_idx):
        loss = self.distillation_loss(batch)
        self.log("train_loss", loss)
        return loss

    def _evaluate(self, batch, stage: str):
        metric = self.metrics[f"{stage}_acc"]
        metric(self(batch), batch["labels"])
        self.log(f"{stage}_acc", metric)

    # evaluated and predicted like the classifier it distills (each calls this module's own _evaluate and forward)
    validation_step = SentimentClassifier.validation_step
    test_step = SentimentClassifier.test_step
    predict_step = SentimentClassifier.predict_step
