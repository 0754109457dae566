"""Trivial baselines that every learned result is measured against, in the same notebook: the majority class,
word counts (naive Bayes) and count-based n-gram language models. A trained model that cannot beat these by a
margin has not shown that it learned anything."""

from __future__ import annotations

import math
import re
from collections import Counter

import torch

_WORD = re.compile(r"[a-z']+")
_WORD_OR_MARK = re.compile(r"[a-z']+|[.,!?]")


def _check_pairs(texts, labels, what: str) -> None:
    if len(texts) == 0 or len(texts) != len(labels):
        raise ValueError(
            f"{what}: expected as many labels as texts (at least one); got {len(texts)} texts and {len(labels)} labels"
        )


def majority_accuracy(train_labels, test_labels) -> float:
    """Accuracy on ``test_labels`` of always predicting the most frequent class of ``train_labels``."""
    train, test = list(map(int, train_labels)), list(map(int, test_labels))
    if not train or not test:
        raise ValueError("expected non-empty train and test labels")
    majority = Counter(train).most_common(1)[0][0]
    return sum(label == majority for label in test) / len(test)


def words(text: str, punctuation: bool = False) -> list[str]:
    """Lower-cased word tokens (letters and apostrophes); with ``punctuation=True`` also the marks . , ! ?"""
    if not isinstance(text, str):
        raise ValueError(f"expected a text as a string; got {type(text).__name__}")
    return (_WORD_OR_MARK if punctuation else _WORD).findall(text.lower())


def naive_bayes(train_texts, train_labels, test_texts, alpha: float = 1.0) -> list[int]:
    """Multinomial naive Bayes on word counts: the bag-of-words classifier that needs no training loop.

    It sees which words occur and how often, never their order, so "not bad" and "bad" differ only by "not".
    """
    _check_pairs(train_texts, train_labels, "naive_bayes")
    if not alpha > 0:
        raise ValueError(f"alpha={alpha!r}; expected a positive smoothing constant")
    classes = sorted(set(map(int, train_labels)))
    counts = {c: Counter() for c in classes}
    docs = Counter(map(int, train_labels))
    for text, label in zip(train_texts, train_labels, strict=True):
        counts[int(label)].update(words(text))
    vocab = set().union(*counts.values())
    totals = {c: sum(counts[c].values()) + alpha * len(vocab) for c in classes}
    prior = {c: math.log(docs[c] / len(train_labels)) for c in classes}

    def score(c, ws):
        return prior[c] + sum(math.log((counts[c][w] + alpha) / totals[c]) for w in ws if w in vocab)

    return [max(classes, key=lambda c: score(c, words(text))) for text in test_texts]


def ngram_losses(train: torch.Tensor, val: torch.Tensor, vocab_size: int) -> tuple[float, float]:
    """Validation loss (nats per token) of two count-based language models fitted on ``train``.

    ``train``, ``val``: (blocks, length) token ids; every position predicts the next token, as a causal LM does.
    unigram: p(token) = its frequency (add-one smoothed). bigram: p(token | previous token) from pair counts,
    mixed with the unigram for unseen pairs; the mixing weight is the best of a few on ``val`` (which only
    flatters the baseline).
    """
    if train.dim() != 2 or val.dim() != 2 or val.size(1) < 2:
        raise ValueError(f"expected (blocks, length >= 2) token ids; got {tuple(train.shape)} and {tuple(val.shape)}")
    if int(max(train.max(), val.max())) >= vocab_size:
        raise ValueError(f"token ids must be < vocab_size={vocab_size}")
    unigram_counts = torch.bincount(train.flatten(), minlength=vocab_size).double() + 1
    p_unigram = unigram_counts / unigram_counts.sum()
    prev, nxt = val[:, :-1].flatten(), val[:, 1:].flatten()
    unigram = -p_unigram[nxt].log().mean().item()
    pairs, counts = (train[:, :-1] * vocab_size + train[:, 1:]).flatten().unique(return_counts=True)
    seen = torch.bincount(train[:, :-1].flatten(), minlength=vocab_size).double().clamp(min=1)
    asked = prev * vocab_size + nxt
    at = torch.searchsorted(pairs, asked).clamp(max=len(pairs) - 1)
    p_pair = torch.where(pairs[at] == asked, counts[at], 0).double() / seen[prev]
    bigram = min(-(w * p_pair + (1 - w) * p_unigram[nxt]).log().mean().item() for w in (0.5, 0.7, 0.8, 0.9, 0.95))
    return unigram, bigram


def unigram_loss(targets, vocab_size: int) -> float:
    """Cross-entropy (nats) of predicting ``targets`` by their own frequencies (add-one smoothed): the loss of a
    model that ignores its input entirely."""
    t = torch.as_tensor(targets).flatten()
    if t.numel() == 0 or int(t.max()) >= vocab_size or int(t.min()) < 0:
        raise ValueError(f"expected a non-empty set of ids in [0, {vocab_size})")
    counts = torch.bincount(t, minlength=vocab_size).double() + 1
    return -(counts / counts.sum())[t].log().mean().item()
