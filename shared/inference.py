"""Sentiment predictions for people: one text or a list in, labels with probabilities out; and the classifier's
logits for a tokenized batch, for a direct look at what the model computes."""

from __future__ import annotations

import warnings

import torch
from torch.utils.data import DataLoader

from shared.data import check_texts


def predict_sentiment(module, tokenizer, texts, max_length: int = 128, batch_size: int = 32, trainer=None):
    """Labels and probabilities from a fine-tuned ``SentimentClassifier``, through ``trainer.predict``.

    Returns a dict for one string, a list of dicts for a list: ``text``, ``label``, ``score`` (probability of the
    label), ``probs`` ({label: probability}) and ``truncated`` (True when the text exceeded ``max_length`` tokens
    and only its beginning was read; a warning says so too).
    """
    from shared.trainer import make_trainer

    items, single = check_texts(texts)
    if not isinstance(max_length, int) or max_length < 8:
        raise ValueError(f"max_length={max_length!r}; expected an integer >= 8")
    lengths = [len(ids) for ids in tokenizer(items)["input_ids"]]
    truncated = [n > max_length for n in lengths]
    if any(truncated):
        longest = max(lengths)
        warnings.warn(
            f"{sum(truncated)} text(s) longer than {max_length} tokens (longest {longest}) were "
            f"truncated: only their first {max_length} tokens were read",
            stacklevel=2,
        )

    def collate(batch):
        return tokenizer(batch, truncation=True, max_length=max_length, padding=True, return_tensors="pt")

    trainer = trainer or make_trainer(
        single_device=True, logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    probs = torch.cat(trainer.predict(module, DataLoader(items, batch_size=batch_size, collate_fn=collate)))
    names = module.model.config.id2label
    results = [
        {
            "text": text,
            "label": names[int(p.argmax())],
            "score": float(p.max()),
            "probs": {names[i]: float(v) for i, v in enumerate(p)},
            "truncated": cut,
        }
        for text, p, cut in zip(items, probs, truncated, strict=True)
    ]
    return results[0] if single else results


@torch.no_grad()
def class_logits(module, batch) -> torch.Tensor:
    """The logits (B, num_labels) of a ``SentimentClassifier`` for a tokenized batch (the tokenizer's dict of
    tensors), computed on the device ``module`` is on (put it there with ``run.place``), returned on the CPU."""
    if not hasattr(batch, "keys") or "input_ids" not in batch:
        raise ValueError(f"batch={type(batch).__name__}; expected the tokenizer's output, a dict with input_ids")
    device = next(module.parameters()).device
    return module({k: v.to(device) for k, v in batch.items()}).float().cpu()
