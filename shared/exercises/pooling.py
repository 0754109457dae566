"""Checked exercises of lesson 02 (a pretrained forward pass): mean pooling with the attention mask, and cosine
similarity."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, namespaces
from shared.lightning_modules import mean_pool


def _pool_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for batch, length, dim, lengths in ((2, 5, 4, (5, 3)), (3, 6, 8, (2, 6, 4))):
        hidden = torch.randn(batch, length, dim, generator=g, dtype=torch.float64) + 1  # padding vectors are not 0
        mask = (torch.arange(length) < torch.tensor(lengths)[:, None]).long()
        cases.append((hidden, mask))
    return cases


def _padding_averaged(hidden, attention_mask):
    return hidden.mean(dim=1)


def _full_length(hidden, attention_mask):
    return (hidden * attention_mask.unsqueeze(-1)).sum(dim=1) / hidden.size(1)


def _sum_only(hidden, attention_mask):
    return (hidden * attention_mask.unsqueeze(-1)).sum(dim=1)


def cosine_similarity(a, b):
    """(N, D), (M, D) -> (N, M): the cosine similarity of every row of ``a`` with every row of ``b``."""
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T


def _cosine_cases():
    g = torch.Generator().manual_seed(1)
    scales = torch.tensor([[0.5], [3.0], [1.0], [10.0]], dtype=torch.float64)  # rows of different lengths
    a = torch.randn(4, 6, generator=g, dtype=torch.float64) * scales
    b = torch.randn(4, 6, generator=g, dtype=torch.float64) * scales.flip(0)
    c = torch.randn(3, 5, generator=g, dtype=torch.float64) * 4
    return [(a, b), (a, a), (c, c)]


EXERCISES = [
    Exercise(
        key="q1",
        title="mean pooling with the attention mask",
        reference=mean_pool,
        cases=_pool_cases,
        verified="each sequence's vector is the mean of its real token vectors, on 2 batches with different "
        "amounts of padding, as shared.lightning_modules.mean_pool computes",
        hints=[
            "Zero the padding vectors first: multiply hidden by the mask, made (B, L, 1) with "
            "attention_mask.unsqueeze(-1) so that it broadcasts over the D features.",
            "Sum over the tokens (dim=1), then divide by each sequence's number of real tokens: "
            "attention_mask.sum(dim=1, keepdim=True), not by L.",
        ],
        mistakes=[
            Mistake(
                "padding_averaged",
                _padding_averaged,
                "the padding vectors are averaged in (hidden.mean(dim=1)). Padding "
                "positions get vectors too, meaningless ones, and a sentence's vector would change with how much "
                "the batch padded it. Multiply by the mask first.",
            ),
            Mistake(
                "divided_by_full_length",
                _full_length,
                "the sum over real tokens is divided by the padded length L. A "
                "padded sentence then gets a shorter vector than the same sentence unpadded: divide by its own "
                "number of real tokens, attention_mask.sum(dim=1, keepdim=True).",
            ),
            Mistake(
                "sum_not_mean",
                _sum_only,
                "that is the sum of the real token vectors, not their mean: longer "
                "sentences get longer vectors. Divide by the number of real tokens.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="cosine similarity",
        reference=cosine_similarity,
        cases=_cosine_cases,
        verified="every row of a against every row of b, on vectors of different lengths, including a matrix "
        "with itself (1 on the diagonal)",
        hints=[
            "cos(a_i, b_j) = a_i . b_j / (|a_i| |b_j|). Scale every row to length 1 first; then one matrix product "
            "gives all the dot products at once.",
            "F.normalize(a, dim=-1) scales each row (dim=-1: over the D features) to length 1. Then "
            "F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T is (N, M).",
        ],
        mistakes=[
            Mistake(
                "not_normalized",
                lambda a, b: a @ b.T,
                "that is the plain dot product: long vectors look similar to everything. "
                "Divide by both lengths (normalize each row to length 1) to keep only the angle.",
            ),
            Mistake(
                "normalized_wrong_dim",
                lambda a, b: F.normalize(a, dim=0) @ F.normalize(b, dim=0).T,
                "the vectors are normalized along dim=0, across the rows, so each feature column gets length 1 "
                "instead of each vector. Normalize over the features: dim=-1.",
            ),
            Mistake(
                "pairwise_only",
                lambda a, b: F.cosine_similarity(a, b, dim=-1),
                "F.cosine_similarity(a, b) pairs row i of a with row i of b only, giving N numbers. Every row with "
                "every row is an (N, M) matrix: normalize the rows, then a @ b.T.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
