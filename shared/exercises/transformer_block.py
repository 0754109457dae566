"""Checked exercises of lesson 09 (the Transformer block): layer normalization from its formula, and a pre-norm
block's forward pass from its parts."""

from __future__ import annotations

import torch
from torch import nn

from shared.exercises.core import Exercise, Mistake, namespaces


def layer_norm(x, weight, bias, eps=1e-5):
    """Normalize each vector along the last axis to mean 0 and variance 1, then scale by ``weight`` and shift by
    ``bias``: (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance (divide by d)."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def _norm_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for shape, eps in (((2, 5, 8), 1e-5), ((3, 4), 1e-5), ((2, 6, 4), 0.1)):
        d = shape[-1]
        x = 3.0 * torch.randn(*shape, generator=g, dtype=torch.float64) + 1.5
        if eps == 0.1:
            x = 0.05 * x  # a small spread, so that where eps goes shows
        weight = 1.0 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        bias = 0.5 * torch.randn(d, generator=g, dtype=torch.float64)
        cases.append((x, weight, bias, eps))
    return cases


def _unbiased(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(x.var(dim=-1, keepdim=True) + eps) * weight + bias


def _eps_outside(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / (torch.sqrt(var) + eps) * weight + bias


def _wrong_axis(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=0, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=0, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def _no_affine(x, weight, bias, eps=1e-5):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def pre_norm_block(x, attention, feed_forward, norm1, norm2):
    """A pre-norm block: each sub-layer reads a normalized copy of the stream and adds its output to the stream."""
    x = x + attention(norm1(x))
    return x + feed_forward(norm2(x))


class _Attention(nn.Module):
    """Self-attention as a function of the stream alone, (B, L, D) -> (B, L, D); no dropout."""

    def __init__(self, d_model, generator):
        super().__init__()
        self.mha = nn.MultiheadAttention(d_model, 2, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            for p in self.mha.parameters():
                p.copy_(0.3 * torch.randn(p.shape, generator=generator, dtype=torch.float64))

    def forward(self, h):
        return self.mha(h, h, h, need_weights=False)[0]

    def __repr__(self):
        return "attention"


class _Named(nn.Module):
    """A part of the block that calls ``module`` and shows as its name in a message."""

    def __init__(self, name, module):
        super().__init__()
        self.name, self.module = name, module

    def forward(self, h):
        return self.module(h)

    def __repr__(self):
        return self.name


def _block_parts(g, d_model):
    ffn = nn.Sequential(nn.Linear(d_model, 2 * d_model), nn.ReLU(), nn.Linear(2 * d_model, d_model)).double()
    norms = nn.LayerNorm(d_model).double(), nn.LayerNorm(d_model).double()
    with torch.no_grad():
        for p in (*ffn.parameters(), *norms[0].parameters(), *norms[1].parameters()):
            p.copy_(p + 0.3 * torch.randn(p.shape, generator=g, dtype=torch.float64))
    parts = _Named("feed_forward", ffn), _Named("norm1", norms[0]), _Named("norm2", norms[1])
    return _Attention(d_model, g), *parts


def _block_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for batch, length, d_model in ((2, 5, 8), (1, 3, 4)):
        x = 2.0 * torch.randn(batch, length, d_model, generator=g, dtype=torch.float64) + 1.0
        cases.append((x, *_block_parts(g, d_model)))
    return cases


def _post_norm(x, attention, feed_forward, norm1, norm2):
    x = norm1(x + attention(x))
    return norm2(x + feed_forward(x))


def _no_residual(x, attention, feed_forward, norm1, norm2):
    x = attention(norm1(x))
    return feed_forward(norm2(x))


def _normed_stream(x, attention, feed_forward, norm1, norm2):
    x = norm1(x)
    x = x + attention(x)
    x = norm2(x)
    return x + feed_forward(x)


def _norm_twice(x, attention, feed_forward, norm1, norm2):
    x = norm1(x + attention(norm1(x)))
    return norm2(x + feed_forward(norm2(x)))


EXERCISES = [
    Exercise(
        key="q1",
        title="layer normalization from its formula",
        reference=layer_norm,
        cases=_norm_cases,
        verified="your function equals (x - mean) / sqrt(var + eps) * weight + bias over the last axis, as "
        "nn.LayerNorm computes it, on 3 random float64 inputs (one with a small spread and eps = 0.1)",
        hints=[
            "Mean and variance are taken over the last axis (the features of one token), with keepdim=True so "
            "that they broadcast back: x.mean(dim=-1, keepdim=True).",
            "The variance is the biased one, the mean of (x - mean)**2 (torch's x.var(..., unbiased=False)). "
            "eps goes inside the square root: torch.sqrt(var + eps). Then * weight + bias.",
        ],
        mistakes=[
            Mistake(
                "unbiased_variance",
                _unbiased,
                "the variance is the unbiased one (x.var() divides by d - 1). LayerNorm divides by d, the number "
                "of features: take ((x - mean) ** 2).mean(-1) or x.var(-1, unbiased=False).",
            ),
            Mistake(
                "eps_outside_sqrt",
                _eps_outside,
                "eps is added after the square root. LayerNorm adds it to the variance, sqrt(var + eps): that is "
                "what keeps a nearly constant vector from being divided by almost zero.",
            ),
            Mistake(
                "wrong_axis",
                _wrong_axis,
                "the statistics are taken over the first axis (across the batch). LayerNorm normalizes each token "
                "vector on its own, over its features: the last axis, dim=-1.",
            ),
            Mistake(
                "no_affine",
                _no_affine,
                "weight and bias are not applied. After normalizing, LayerNorm scales by weight and shifts by "
                "bias (learned, one per feature), so the layer can undo the normalization where that helps.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="a pre-norm block from its parts",
        reference=pre_norm_block,
        cases=_block_cases,
        verified="your block computes x + attention(norm1(x)), then x + feed_forward(norm2(x)), on 2 random "
        "float64 inputs with random weights",
        hints=[
            "Pre-norm: each sub-layer reads a normalized copy of the stream, and its output is added to the "
            "stream itself (the residual), which is never normalized on the way through.",
            "Two lines: x = x + attention(norm1(x)), then return x + feed_forward(norm2(x)).",
        ],
        mistakes=[
            Mistake(
                "post_norm",
                _post_norm,
                "this is the post-norm order, norm(x + sublayer(x)): the norm sits on the stream after each "
                "sum. Pre-norm normalizes only the sub-layer's input: x + sublayer(norm(x)).",
            ),
            Mistake(
                "no_residual",
                _no_residual,
                "the residual is missing: each sub-layer's output replaces the stream instead of being added to "
                "it. Keep x and add: x = x + attention(norm1(x)).",
            ),
            Mistake(
                "normed_stream",
                _normed_stream,
                "the stream itself is normalized before each sum (x = norm(x); x = x + sublayer(x)), so the "
                "residual carries the normalized copy. Normalize only what goes into the sub-layer: "
                "x + sublayer(norm(x)).",
            ),
            Mistake(
                "norm_twice",
                _norm_twice,
                "the norm is applied twice: before the sub-layer and again to the stream after the sum. Pre-norm "
                "leaves the stream untouched; only the sub-layer's input is normalized.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
