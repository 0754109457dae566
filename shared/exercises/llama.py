"""Checked exercises of lesson 12 (your own LLM): RMSNorm, rotary position embeddings, and the K/V heads of
grouped-query attention."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def rms_norm(x, weight, eps):
    """x / sqrt(mean(x²) + eps) * weight, over the last axis."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def _norm_cases():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 16, generator=g, dtype=torch.float64) + 0.5  # a mean away from 0, as activations have
    weight = torch.rand(16, generator=g, dtype=torch.float64) + 0.5
    small = torch.randn(1, 4, 8, generator=g, dtype=torch.float64) * 1e-3  # eps matters only for small rows
    return [(x, weight, 1e-6), (small, torch.rand(8, generator=g, dtype=torch.float64) + 0.5, 1e-5)]


def _layer_norm(x, weight, eps):
    h = x - x.mean(-1, keepdim=True)
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps) * weight


def _eps_outside(x, weight, eps):
    return x / (x.pow(2).mean(-1, keepdim=True).sqrt() + eps) * weight


def _one_plus_weight(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1 + weight)


def _sum_not_mean(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).sum(-1, keepdim=True) + eps) * weight


def _angles(positions, dim, theta, dtype, exponent=None):
    i = torch.arange(0, dim, 2, dtype=dtype)
    inv_freq = theta ** (-(i if exponent is None else exponent) / dim)
    angles = positions.to(dtype)[:, None] * inv_freq[None, :]
    return torch.cat((angles, angles), dim=-1)


def _rotate(x, angles, sign=1):
    x1, x2 = x.chunk(2, dim=-1)
    return x * angles.cos() + sign * torch.cat((-x2, x1), dim=-1) * angles.sin()


def apply_rope(x, positions, theta):
    """Rotate each pair (i, i + D/2) of x (..., L, D) by positions[l] * theta^(-2i/D)."""
    dim = x.size(-1)
    inv_freq = theta ** (-torch.arange(0, dim, 2, dtype=x.dtype) / dim)  # (D/2,)
    angles = positions.to(x.dtype)[:, None] * inv_freq[None, :]  # (L, D/2)
    angles = torch.cat((angles, angles), dim=-1)  # pair i and pair i + D/2 share an angle
    x1, x2 = x.chunk(2, dim=-1)
    return x * angles.cos() + torch.cat((-x2, x1), dim=-1) * angles.sin()


def _rope_cases():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64)
    far = torch.randn(1, 2, 4, 64, generator=g, dtype=torch.float64)
    return [(x, torch.arange(5), 10000.0), (far, torch.tensor([3, 17, 250, 4000]), 100000.0)]


def _sign_flipped(x, positions, theta):
    return _rotate(x, _angles(positions, x.size(-1), theta, x.dtype), sign=-1)


def _half_exponent(x, positions, theta):
    dim = x.size(-1)
    return _rotate(x, _angles(positions, dim, theta, x.dtype, exponent=torch.arange(dim // 2, dtype=x.dtype)))


def _one_frequency(x, positions, theta):
    return _rotate(x, positions.to(x.dtype)[:, None].expand(-1, x.size(-1)))


def _interleaved(x, positions, theta):
    angles = _angles(positions, x.size(-1), theta, x.dtype)[:, : x.size(-1) // 2].repeat_interleave(2, dim=-1)
    turned = torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).flatten(-2)  # pairs (2i, 2i + 1)
    return x * angles.cos() + turned * angles.sin()


def repeat_kv(kv, num_heads):
    """(B, H_kv, L, Dh) -> (B, num_heads, L, Dh): query heads g*k .. g*k + g-1 read K/V head k, g = num_heads / H_kv."""
    return kv.repeat_interleave(num_heads // kv.size(1), dim=1)


def _kv_cases():
    g = torch.Generator().manual_seed(2)
    return [
        (torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64), 9),
        (torch.randn(1, 2, 3, 4, generator=g, dtype=torch.float64), 4),
    ]


EXERCISES = [
    Exercise(
        key="q1",
        title="RMSNorm",
        reference=rms_norm,
        cases=_norm_cases,
        verified="x / sqrt(mean(x²) + eps) * weight on 2 random float64 batches, one of them with rows so small "
        "that eps matters",
        hints=[
            "Mean of the squares over the last axis, keepdim=True so that it broadcasts back over the features: "
            "x.pow(2).mean(-1, keepdim=True).",
            "Add eps inside the square root: x * torch.rsqrt(ms + eps) * weight. No mean is subtracted and there is "
            "no bias.",
        ],
        mistakes=[
            Mistake(
                "layer_norm",
                _layer_norm,
                "the mean is subtracted first: that is LayerNorm. RMSNorm only rescales each vector by its root "
                "mean square; it never centers it.",
            ),
            Mistake(
                "eps_outside",
                _eps_outside,
                "eps is added after the square root, x / (sqrt(mean(x²)) + eps). Llama adds it inside, "
                "x / sqrt(mean(x²) + eps): the two differ for rows whose values are small, and the checkpoint was "
                "trained with the second.",
            ),
            Mistake(
                "one_plus_weight",
                _one_plus_weight,
                "the result is scaled by (1 + weight): Gemma's checkpoints store the weight that way, Llama's store "
                "the scale itself. Multiply by weight.",
            ),
            Mistake(
                "sum_not_mean",
                _sum_not_mean,
                "the squares are summed, not averaged: the result is the unit-length vector, sqrt(D) times smaller "
                "than RMSNorm's, whose entries have a root mean square of 1.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="rotary position embeddings",
        reference=apply_rope,
        cases=_rope_cases,
        verified="every pair (i, i + D/2) turns by position * theta^(-2i/D), on 2 random float64 batches, with "
        "head sizes 8 and 64 and positions up to 4000",
        hints=[
            "Frequencies: inv_freq = theta ** (-torch.arange(0, D, 2) / D), one per pair (D/2 of them). Angles: "
            "positions[:, None] * inv_freq[None, :], then torch.cat((angles, angles), -1) so that pair i and pair "
            "i + D/2 share one.",
            "With x1, x2 = x.chunk(2, -1), rotate_half(x) = torch.cat((-x2, x1), -1); the result is "
            "x * angles.cos() + rotate_half(x) * angles.sin().",
        ],
        mistakes=[
            Mistake(
                "sign_flipped",
                _sign_flipped,
                "every pair turns the wrong way: rotate_half must be cat((-x2, x1)), not cat((x2, -x1)). Scores "
                "still depend only on the distance, but the checkpoint was trained with the other direction.",
            ),
            Mistake(
                "half_exponent",
                _half_exponent,
                "the exponent is i/D for pair i; it is 2i/D (torch.arange(0, D, 2) / D), so the slowest pair turns "
                "by theta^(-(D-2)/D), nearly 1/theta. With i/D the frequencies only fall to 1/sqrt(theta).",
            ),
            Mistake(
                "one_frequency",
                _one_frequency,
                "every pair turns by the same angle (the position itself). Each pair needs its own frequency "
                "theta^(-2i/D): fast pairs tell near positions apart, slow pairs far ones.",
            ),
            Mistake(
                "interleaved",
                _interleaved,
                "the pairs are neighbors (2i, 2i + 1), as in the RoFormer paper. Llama checkpoints in the "
                "transformers format pair coordinate i with i + D/2 (rotate_half); with the wrong pairing the "
                "weights see scrambled positions.",
            ),
        ],
    ),
    Exercise(
        key="q3",
        title="sharing K/V heads",
        reference=repeat_kv,
        cases=_kv_cases,
        verified="(B, H_kv, L, Dh) becomes (B, num_heads, L, Dh) with each K/V head repeated for its consecutive "
        "group of query heads, for 3 K/V heads serving 9 query heads and 2 serving 4",
        hints=[
            "There are groups = num_heads // kv.size(1) query heads per K/V head; query heads 0..groups-1 read K/V "
            "head 0, the next group head 1, and so on.",
            "kv.repeat_interleave(groups, dim=1) repeats each head in place (0, 0, 0, 1, 1, 1, ...).",
        ],
        mistakes=[
            Mistake(
                "tiled",
                lambda kv, n: kv.repeat(1, n // kv.size(1), 1, 1),
                "the heads are tiled (0, 1, 2, 0, 1, 2, ...) by .repeat: query head 1 then reads K/V head 1 where "
                "the checkpoint trained it with K/V head 0. Repeat each head in place: repeat_interleave.",
            ),
            Mistake(
                "repeats_positions",
                lambda kv, n: kv.repeat_interleave(n // kv.size(1), dim=2),
                "the positions are repeated (dim=2), not the heads: the heads live on dim=1 of (B, H_kv, L, Dh).",
            ),
            Mistake(
                "num_heads_times",
                lambda kv, n: kv.repeat_interleave(n, dim=1),
                "each K/V head is repeated num_heads times, giving H_kv * num_heads heads. Repeat it "
                "num_heads // H_kv times: once per query head of its group.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
