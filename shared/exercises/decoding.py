"""Checked exercises of lesson 13 (decoding strategies): temperature then top-k, and top-p (nucleus) filtering.

Both take next-token ``scores`` of shape (batch, vocab) and return new scores of the same shape, a removed token at
``-inf``, as transformers' logits processors do."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def temperature_top_k(scores, t, k):
    """Divide the scores by the temperature ``t``, then keep the ``k`` highest per row (ties with the k-th too)."""
    scores = scores / t
    kth = scores.topk(k, dim=-1).values[:, -1:]  # the k-th highest score of each row
    return scores.masked_fill(scores < kth, float("-inf"))


def _scores(seed, batch, vocab, spread=2.0):
    g = torch.Generator().manual_seed(seed)
    return spread * torch.randn(batch, vocab, generator=g, dtype=torch.float64)


def _top_k_cases():
    return [(_scores(0, 3, 20), 0.7, 5), (_scores(1, 2, 12), 2.0, 1), (_scores(2, 2, 16), 1.5, 16)]


def _multiplied(scores, t, k):
    scores = scores * t
    kth = scores.topk(k, dim=-1).values[:, -1:]
    return scores.masked_fill(scores < kth, float("-inf"))


def _one_too_many(scores, t, k):
    scores = scores / t
    ranked = scores.sort(dim=-1, descending=True).values
    kth = ranked[:, min(k, scores.size(-1) - 1)].unsqueeze(-1)  # index k is the (k+1)-th score: zero-based
    return scores.masked_fill(scores < kth, float("-inf"))


def _kth_removed(scores, t, k):
    scores = scores / t
    kth = scores.topk(k, dim=-1).values[:, -1:]
    return scores.masked_fill(scores <= kth, float("-inf"))


def top_p(scores, p):
    """Keep the smallest set of most likely tokens whose probabilities add up to at least ``p``: a token stays
    when the tokens more likely than it hold less than ``p``. The most likely token always stays."""
    probs, order = scores.softmax(dim=-1).sort(dim=-1, descending=True)
    mass_before = probs.cumsum(dim=-1) - probs  # probability held by the tokens more likely than this one
    drop_sorted = mass_before >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return scores.masked_fill(drop, float("-inf"))


def _top_p_cases():
    peaked = _scores(5, 2, 10)
    peaked[:, 3] += 8.0  # one token holds almost all the mass: it alone is above p
    return [(_scores(3, 3, 12), 0.9), (_scores(4, 2, 10), 0.5), (peaked, 0.3)]


def _crossing_dropped(scores, p):
    probs, order = scores.softmax(dim=-1).sort(dim=-1, descending=True)
    drop_sorted = probs.cumsum(dim=-1) > p  # drops the token whose probability carries the sum past p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return scores.masked_fill(drop, float("-inf"))


def _ascending(scores, p):
    probs, order = scores.softmax(dim=-1).sort(dim=-1)
    drop_sorted = probs.cumsum(dim=-1) - probs >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return scores.masked_fill(drop, float("-inf"))


def _renormalized(scores, p):
    probs, order = scores.softmax(dim=-1).sort(dim=-1, descending=True)
    drop_sorted = probs.cumsum(dim=-1) - probs >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    kept = scores.softmax(dim=-1).masked_fill(drop, 0.0)
    return (kept / kept.sum(dim=-1, keepdim=True)).log()


EXERCISES = [
    Exercise(
        key="q1",
        title="temperature, then top-k",
        reference=temperature_top_k,
        cases=_top_k_cases,
        verified="on 3 random float64 batches (k = 5, k = 1 and k = the whole vocabulary) the same tokens are kept, "
        "with scores divided by t",
        hints=[
            "Temperature first: scores / t (t < 1 sharpens, t > 1 flattens). Then find each row's k-th highest "
            "score: scores.topk(k, dim=-1).values[:, -1:] keeps the row axis for broadcasting.",
            "Remove what is strictly below the k-th score: scores.masked_fill(scores < kth, float('-inf')). "
            "Ties with the k-th score stay, as in transformers' TopKLogitsWarper.",
        ],
        mistakes=[
            Mistake(
                "multiplied",
                _multiplied,
                "the scores are multiplied by the temperature. Temperature divides: scores / t, so that t < 1 "
                "sharpens the distribution and t > 1 flattens it (multiplying does the opposite).",
            ),
            Mistake(
                "one_too_many",
                _one_too_many,
                "one token too many survives: the threshold is the score at index k of the sorted row, which is "
                "the (k+1)-th highest (indices start at 0). The k-th highest is at index k - 1, or "
                "topk(k).values[:, -1:].",
            ),
            Mistake(
                "kth_removed",
                _kth_removed,
                "the k-th token itself is removed, so only k - 1 stay (and with k = 1 none at all): mask the scores "
                "strictly below the k-th (<), not those below or equal to it (<=).",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="top-p (nucleus) filtering",
        reference=top_p,
        cases=_top_p_cases,
        verified="on 3 random float64 batches (p = 0.9, 0.5, and a row whose top token alone holds more than p) "
        "the same tokens are kept, the one that carries the sum past p included",
        hints=[
            "Work on probabilities sorted from most to least likely: probs, order = "
            "scores.softmax(-1).sort(dim=-1, descending=True). probs.cumsum(-1) - probs is the mass held by the "
            "tokens more likely than each one.",
            "Drop a token when that mass is already >= p (the token that crosses p stays). Put the mask back in "
            "vocabulary order with drop_sorted.scatter(-1, order, drop_sorted), then "
            "scores.masked_fill(drop, float('-inf')). Return scores, not probabilities.",
        ],
        mistakes=[
            Mistake(
                "crossing_dropped",
                _crossing_dropped,
                "the token that carries the cumulative probability past p is dropped (cumsum > p), so the kept "
                "set holds less than p, and none at all when the top token alone is above p. Compare the mass "
                "*before* each token with p: probs.cumsum(-1) - probs >= p.",
            ),
            Mistake(
                "ascending",
                _ascending,
                "the probabilities are sorted from least to most likely, so the nucleus is built from the "
                "unlikely tail. Sort with descending=True: the most likely tokens come first.",
            ),
            Mistake(
                "renormalized",
                _renormalized,
                "the kept probabilities are renormalized and returned (as log-probabilities). A logits transform "
                "returns scores with the removed tokens at -inf; the softmax that samples renormalizes, and the "
                "next transform in the chain expects scores.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
