"""Checked exercises of lesson 20 (deployment and quantization): an asymmetric uint8 scale and zero point, and
block-wise absmax quantization onto a table of levels (NF4, or the levels of a 4-bit integer)."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces
from shared.quantization import int_levels, nf4_levels


def quantize_uint8(x):
    """Asymmetric uint8: the range [min(x, 0), max(x, 0)] spread over 0..255. Returns ``(q, scale, zero_point)``
    with q a uint8 tensor, x ≈ scale · (q − zero_point)."""
    low, high = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    scale = (high - low) / 255
    zero_point = int(round(-low / scale))
    q = (torch.round(x / scale) + zero_point).clamp(0, 255).to(torch.uint8)
    return q, scale, zero_point


def _uint8_cases():
    g = torch.Generator().manual_seed(0)
    return [
        (torch.randn(40, generator=g, dtype=torch.float64) * 0.05,),  # weights: small, around 0
        (torch.rand(30, generator=g, dtype=torch.float64) * 6.0,),  # ReLU outputs: all positive
        (
            torch.cat(
                [torch.tensor([-1.0, 1.0], dtype=torch.float64), torch.rand(10, generator=g, dtype=torch.float64)]
            ),
        ),
    ]


def _symmetric_uint8(x):
    scale = 2 * x.abs().max().item() / 255
    return (torch.round(x / scale) + 128).clamp(0, 255).to(torch.uint8), scale, 128


def _rounded_first(x):
    q, scale, zero_point = quantize_uint8(x)
    return (torch.round(x) / scale + zero_point).round().clamp(0, 255).to(torch.uint8), scale, zero_point


def _clamp_256(x):
    q, scale, zero_point = quantize_uint8(x)
    return (torch.round(x / scale) + zero_point).clamp(0, 256).to(torch.uint8), scale, zero_point


def absmax_blocks(w, levels, block):
    """Each block of ``block`` consecutive values of ``w`` divided by its absmax, every value replaced by the nearest
    of ``levels`` (sorted, in [-1, 1]), multiplied back by the absmax: the dequantized weights, shaped like w."""
    blocks = w.reshape(-1, block)
    absmax = blocks.abs().amax(dim=1, keepdim=True)
    nearest = (blocks / absmax).unsqueeze(-1).sub(levels).abs().argmin(dim=-1)
    return (levels[nearest] * absmax).reshape(w.shape)


def _block_cases():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 16, generator=g, dtype=torch.float64) * torch.tensor([[0.02], [0.5], [0.1], [3.0]])
    v = torch.randn(2, 12, generator=g, dtype=torch.float64)
    return [(w, nf4_levels().double(), 8), (v, int_levels(4).double(), 6), (v, nf4_levels().double(), 4)]


def _per_tensor(w, levels, block):
    return absmax_blocks(w, levels, w.numel())


def _uniform_rounding(w, levels, block):
    blocks = w.reshape(-1, block)
    absmax = blocks.abs().amax(dim=1, keepdim=True)
    index = torch.round((blocks / absmax + 1) / 2 * (len(levels) - 1)).long()
    return (levels[index] * absmax).reshape(w.shape)


def _not_rescaled(w, levels, block):
    blocks = w.reshape(-1, block)
    nearest = (blocks / blocks.abs().amax(dim=1, keepdim=True)).unsqueeze(-1).sub(levels).abs().argmin(dim=-1)
    return levels[nearest].reshape(w.shape)


EXERCISES = [
    Exercise(
        key="q1",
        title="an asymmetric uint8 scale and zero point",
        reference=quantize_uint8,
        cases=_uint8_cases,
        verified="on small weights, all-positive activations and a range of exactly [-1, 1], your q, scale and zero "
        "point equal the asymmetric uint8 ones, and no value wraps around",
        hints=[
            "The range must contain 0: low = min(x.min(), 0), high = max(x.max(), 0). 255 steps cover it: "
            "scale = (high - low) / 255. The zero point is the integer that 0.0 maps to: round(-low / scale).",
            "Divide by the scale first, then round, then add the zero point, then clamp into the 256 values of a "
            "uint8 (0..255) before .to(torch.uint8).",
        ],
        mistakes=[
            Mistake(
                "symmetric",
                _symmetric_uint8,
                "this is a symmetric range (±max|x|, zero point 128) stored in a uint8. For all-positive "
                "activations half of the 256 values are never used. Asymmetric quantization maps [min, max] "
                "itself onto 0..255: scale = (high - low) / 255, zero point = round(-low / scale).",
            ),
            Mistake(
                "rounded_before_scaling",
                _rounded_first,
                "x is rounded before it is divided by the scale: every weight smaller than 0.5 becomes 0 and lands "
                "on the zero point. Round x / scale, the position on the integer grid.",
            ),
            Mistake(
                "clamped_to_256",
                _clamp_256,
                "the clamp allows 256, which a uint8 cannot hold: .to(torch.uint8) wraps it to 0, and the largest "
                "value becomes the smallest. The 256 values of a byte are 0..255.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="block-wise absmax quantization",
        reference=absmax_blocks,
        cases=_block_cases,
        verified="with NF4 levels and with a 4-bit integer's levels, blocks of 8, 6 and 4, your dequantized weights "
        "equal nearest-level absmax quantization per block",
        hints=[
            "w.reshape(-1, block) gives one row per block; its absmax is blocks.abs().amax(dim=1, keepdim=True). "
            "Dividing by it puts every block into [-1, 1], the range of the levels.",
            "The nearest level of each value: (normalized.unsqueeze(-1) - levels).abs().argmin(dim=-1). Look the "
            "levels up, multiply by the absmax again, reshape like w.",
        ],
        mistakes=[
            Mistake(
                "per_tensor",
                _per_tensor,
                "one absmax for the whole tensor: a single large weight (or a row of large ones) squeezes every other "
                "block onto the few levels near 0. Compute the absmax per block.",
            ),
            Mistake(
                "uniform_rounding",
                _uniform_rounding,
                "the level is found by rounding as if the levels were evenly spaced. NF4's levels are not (they are "
                "denser near 0): pick the nearest level by distance, argmin of |x - level|.",
            ),
            Mistake(
                "not_rescaled",
                _not_rescaled,
                "the levels are returned without multiplying back by each block's absmax: every weight now lies in "
                "[-1, 1].",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
