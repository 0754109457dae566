"""Checked exercises of lesson 07 (multi-head attention): splitting the features into heads, and merging the heads
back."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def split_heads(x, num_heads):
    """(B, L, D) -> (B, H, L, D/H): head h gets features h*Dh .. (h+1)*Dh - 1 of every position."""
    B, L, D = x.shape
    return x.view(B, L, num_heads, D // num_heads).transpose(1, 2)


def merge_heads(x):
    """(B, H, L, Dh) -> (B, L, H*Dh): the heads' outputs of a position side by side, head 0 first."""
    B, H, L, Dh = x.shape
    return x.transpose(1, 2).reshape(B, L, H * Dh)


def _split_cases():
    g = torch.Generator().manual_seed(0)
    return [
        (torch.randn(2, 5, 12, generator=g, dtype=torch.float64), 3),
        (torch.randn(1, 4, 8, generator=g, dtype=torch.float64), 2),
        (torch.randn(3, 6, 16, generator=g, dtype=torch.float64), 4),
    ]


def _merge_cases():
    g = torch.Generator().manual_seed(1)
    return [
        (torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64),),
        (torch.randn(1, 2, 4, 4, generator=g, dtype=torch.float64),),
        (torch.randn(3, 4, 6, 2, generator=g, dtype=torch.float64),),
    ]


def _view_without_transpose(x, num_heads):
    B, L, D = x.shape
    return x.reshape(B, num_heads, L, D // num_heads)


def _strided_features(x, num_heads):
    B, L, D = x.shape
    return x.view(B, L, D // num_heads, num_heads).permute(0, 3, 1, 2)


def _reshape_without_transpose(x):
    B, H, L, Dh = x.shape
    return x.reshape(B, L, H * Dh)


def _features_interleaved(x):
    B, H, L, Dh = x.shape
    return x.permute(0, 2, 3, 1).reshape(B, L, H * Dh)


EXERCISES = [
    Exercise(
        key="q1",
        title="split the features into heads",
        reference=split_heads,
        cases=_split_cases,
        verified="on 3 random batches with 2 to 4 heads, head h holds features h*Dh to (h+1)*Dh - 1 of every "
        "position, in the shape (B, H, L, Dh)",
        hints=[
            "First cut the last axis into heads without moving anything: x.view(B, L, H, D // H). Position l's "
            "features are still together, now as H rows of Dh.",
            "Then bring the head axis before the positions: .transpose(1, 2) gives (B, H, L, Dh), so that each "
            "head is a (L, Dh) sequence of its own for attention.",
        ],
        mistakes=[
            Mistake(
                "view_without_transpose",
                _view_without_transpose,
                "the result has the right shape, but x.view(B, H, L, Dh) (or reshape) reads the numbers in memory "
                "order, so a 'head' is a run of consecutive features across several positions: heads mix "
                "positions. View as (B, L, H, Dh) first, then transpose(1, 2).",
            ),
            Mistake(
                "strided_features",
                _strided_features,
                "head h gets every H-th feature (h, h + H, ...) because the last axis was cut as (Dh, H) instead "
                "of (H, Dh). The merge and the output projection assume contiguous blocks: view(B, L, H, Dh).",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="merge the heads",
        reference=merge_heads,
        cases=_merge_cases,
        verified="on 3 random (B, H, L, Dh) tensors, each position's output is the heads' outputs side by side, "
        "head 0 first: the exact inverse of the split",
        hints=[
            "Undo the split in reverse order: first put the positions back before the heads, x.transpose(1, 2), "
            "which gives (B, L, H, Dh).",
            "Then join the last two axes: .reshape(B, L, H * Dh). (view fails here, because the transpose left the "
            "tensor non-contiguous in memory; reshape copies when it must.)",
        ],
        mistakes=[
            Mistake(
                "reshape_without_transpose",
                _reshape_without_transpose,
                "x.reshape(B, L, D) straight from (B, H, L, Dh) reads head 0's whole sequence first, so a "
                "'position' of the result holds several positions of one head. Transpose to (B, L, H, Dh) first.",
            ),
            Mistake(
                "merged_in_wrong_order",
                _features_interleaved,
                "the features are interleaved (feature 0 of every head, then feature 1, ...) because the axes were "
                "merged as (Dh, H). Concatenate whole heads: (B, L, H, Dh) -> (B, L, H * Dh).",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
