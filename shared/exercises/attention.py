"""Checked exercises of lesson 03 (scaled dot-product attention): the attention weights and the causal mask."""

from __future__ import annotations

import math

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def attention_weights(q, k, mask=None):
    """softmax(q kᵀ / sqrt(d_k)) over the keys; ``mask`` (bool, True = may attend) hides keys before the softmax."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1)


def _weight_cases():
    g = torch.Generator().manual_seed(0)
    q, k = (
        torch.randn(2, 5, 16, generator=g, dtype=torch.float64),
        torch.randn(2, 6, 16, generator=g, dtype=torch.float64),
    )
    keep = torch.rand(2, 5, 6, generator=g) > 0.3
    keep[..., 0] = True  # every query may look at one key at least
    square = torch.randn(1, 4, 64, generator=g, dtype=torch.float64)
    return [(q, k), (q, k, keep), (square, square, torch.ones(4, 4, dtype=torch.bool).tril())]


def _no_scale(q, k, mask=None):
    scores = q @ k.transpose(-2, -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1)


def _wrong_axis(q, k, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-2)


def _mask_inverted(q, k, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    return scores.softmax(dim=-1)


def _mask_after_softmax(q, k, mask=None):
    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).softmax(dim=-1)
    return weights if mask is None else weights.masked_fill(~mask, 0.0)


def _scaled_by_d(q, k, mask=None):
    scores = q @ k.transpose(-2, -1) / q.size(-1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1)


def causal_mask(length):
    """(length, length) bool: True where query i may look at key j, that is j <= i."""
    return torch.ones(length, length, dtype=torch.bool).tril()


EXERCISES = [
    Exercise(
        key="q1",
        title="the attention weights",
        reference=attention_weights,
        cases=_weight_cases,
        verified="the weights equal softmax(q kᵀ / sqrt(d_k)) on 3 random float64 batches, with and without a mask, "
        "and every masked key gets exactly zero weight",
        hints=[
            "Scores first: q @ k.transpose(-2, -1) has one row per query and one column per key. Divide by "
            "sqrt(d_k), where d_k = q.size(-1).",
            "Hide masked keys before the softmax: scores.masked_fill(~mask, float('-inf')). Then softmax over the "
            "last axis, the keys, so that each query's weights sum to 1.",
        ],
        mistakes=[
            Mistake(
                "no_scale",
                _no_scale,
                "the scores are not divided by sqrt(d_k). With d_k = 64 their spread is 8 "
                "times too wide and the softmax saturates: nearly all weight on one key, tiny gradients.",
            ),
            Mistake(
                "wrong_axis",
                _wrong_axis,
                "the softmax runs over the queries (dim=-2). Each query's weights "
                "must sum to 1 over the keys: softmax(dim=-1).",
            ),
            Mistake(
                "mask_inverted",
                _mask_inverted,
                "the mask is inverted: True means 'may attend', so fill the "
                "scores where the mask is False (~mask) with -inf.",
            ),
            Mistake(
                "mask_after_softmax",
                _mask_after_softmax,
                "the mask is applied after the softmax: the kept "
                "weights no longer sum to 1. Fill the masked scores with -inf before the softmax.",
            ),
            Mistake(
                "scaled_by_d",
                _scaled_by_d,
                "the scores are divided by d_k instead of sqrt(d_k): their spread "
                "shrinks as d_k grows and the weights flatten towards uniform.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="the causal mask",
        reference=causal_mask,
        cases=lambda: [(1,), (4,), (7,)],
        verified="the masks for lengths 1, 4 and 7 are bool, True on and below the diagonal",
        hints=[
            "Query i may look at keys 0..i: that is the diagonal and everything below it.",
            "torch.ones(length, length, dtype=torch.bool).tril() keeps the lower triangle.",
        ],
        mistakes=[
            Mistake(
                "future_allowed",
                lambda n: torch.ones(n, n, dtype=torch.bool).triu(),
                "this mask lets every "
                "token see the future (True above the diagonal) and hides the past: use the lower triangle.",
            ),
            Mistake(
                "no_diagonal",
                lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1),
                "the diagonal is False, "
                "so a token cannot look at itself, and the first token has no key left at all (its softmax row "
                "is NaN). Keep the diagonal: tril() with no offset.",
            ),
            Mistake(
                "not_bool",
                lambda n: torch.ones(n, n).tril(),
                "the mask holds floats. masked_fill and SDPA read "
                "a bool mask (True = may attend); a float mask is added to the scores instead. Use "
                "dtype=torch.bool.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
