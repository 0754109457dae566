"""Checked exercises of lesson 06 (positional encoding): the sinusoidal encoding, and the rotation that moves it by
an offset."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def _frequencies(d, exponent=2):
    """omega_i = 10000^(-2i/d) for the d/2 pairs (``exponent=1``: the i/d mistake)."""
    return 10000 ** (-exponent * torch.arange(d // 2, dtype=torch.float64) / d)


def sinusoidal_encoding(max_len, d):
    """(max_len, d): PE[pos, 2i] = sin(pos * omega_i), PE[pos, 2i+1] = cos(pos * omega_i), omega_i = 10000^(-2i/d)."""
    pos = torch.arange(max_len).float()[:, None]  # (max_len, 1)
    freq = 10000 ** (-torch.arange(0, d, 2).float() / d)  # (d/2,): arange(0, d, 2) counts 2i
    pe = torch.zeros(max_len, d)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def _encoding(max_len, d, exponent=2, swapped=False, halves=False):
    angles = torch.arange(max_len, dtype=torch.float64)[:, None] * _frequencies(d, exponent)
    first, second = (torch.cos(angles), torch.sin(angles)) if swapped else (torch.sin(angles), torch.cos(angles))
    if halves:
        return torch.cat([first, second], dim=-1).float()
    return torch.stack([first, second], dim=-1).flatten(1).float()


def _encoding_cases():
    return [(10, 8), (7, 16), (50, 4)]


def shift_matrix(k, d):
    """(d, d): the block-diagonal rotation R with PE[pos + k] = R @ PE[pos] for every position pos."""
    angles = k * 10000 ** (-torch.arange(0, d, 2).float() / d)  # pair i turns by k * omega_i
    cos, sin = angles.cos().tolist(), angles.sin().tolist()
    blocks = [torch.tensor([[c, s], [-s, c]]) for c, s in zip(cos, sin, strict=True)]  # one 2x2 rotation per pair
    return torch.block_diag(*blocks)


def _rotation(k, d, transposed=False, frequencies=True):
    angles = k * (_frequencies(d) if frequencies else torch.ones(d // 2, dtype=torch.float64))
    c, s = torch.cos(angles), torch.sin(angles)
    blocks = [torch.stack([torch.stack([ci, si]), torch.stack([-si, ci])]) for ci, si in zip(c, s, strict=True)]
    return torch.block_diag(*(b.T if transposed else b for b in blocks)).float()


def _shift_cases():
    return [(1, 8), (5, 16), (-3, 4), (20, 6)]


EXERCISES = [
    Exercise(
        key="q1",
        title="the sinusoidal encoding",
        reference=sinusoidal_encoding,
        cases=_encoding_cases,
        verified="the encodings for (max_len, d) = (10, 8), (7, 16) and (50, 4) equal the formula: sines in the even "
        "columns, cosines in the odd ones, frequencies 10000^(-2i/d)",
        hints=[
            "Make the positions a column, torch.arange(max_len)[:, None], and the d/2 frequencies a row, "
            "10000 ** (-torch.arange(0, d, 2) / d): arange(0, d, 2) already counts 2i. Their product is "
            "(max_len, d/2), one angle per position and pair.",
            "Start from torch.zeros(max_len, d) and fill pe[:, 0::2] with the sines of the angles and pe[:, 1::2] "
            "with their cosines.",
        ],
        mistakes=[
            Mistake(
                "sin_cos_swapped",
                lambda max_len, d: _encoding(max_len, d, swapped=True),
                "sine and cosine are swapped: the even columns (2i) hold the sine, the odd ones (2i+1) the "
                "cosine. With the cosine first, position 0 is (1, 0, 1, 0, ...) instead of (0, 1, 0, 1, ...).",
            ),
            Mistake(
                "exponent_i_over_d",
                lambda max_len, d: _encoding(max_len, d, exponent=1),
                "the frequencies use 10000^(-i/d) with i the pair's index 0..d/2-1: the slowest pair then turns "
                "only down to 10000^(-1/2) = 1/100, not about 1/10000. The exponent is 2i/d: "
                "torch.arange(0, d, 2) / d, or 2 * torch.arange(d // 2) / d.",
            ),
            Mistake(
                "transposed",
                lambda max_len, d: sinusoidal_encoding(max_len, d).T,
                "positions and dimensions are transposed: the result is (d, max_len). One row per position, one "
                "column per dimension: (max_len, d), so that pe[pos] is the vector added to token pos.",
            ),
            Mistake(
                "halves_not_interleaved",
                lambda max_len, d: _encoding(max_len, d, halves=True),
                "all the sines come first and all the cosines after them ([sin | cos]). Some libraries lay it out "
                "that way, but the formula interleaves them: pe[:, 0::2] = sin, pe[:, 1::2] = cos.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="moving by an offset is a rotation",
        reference=shift_matrix,
        cases=_shift_cases,
        verified="the matrices for (k, d) = (1, 8), (5, 16), (-3, 4) and (20, 6) equal the block-diagonal rotation "
        "that moves every encoding k positions on",
        hints=[
            "Pair i holds (sin(pos ω_i), cos(pos ω_i)). The angle-addition rules give sin((pos + k) ω_i) = "
            "sin(pos ω_i) cos(k ω_i) + cos(pos ω_i) sin(k ω_i) and cos((pos + k) ω_i) = "
            "cos(pos ω_i) cos(k ω_i) - sin(pos ω_i) sin(k ω_i).",
            "So pair i's 2x2 block is [[cos(k ω_i), sin(k ω_i)], [-sin(k ω_i), cos(k ω_i)]], with "
            "ω_i = 10000^(-2i/d). torch.block_diag(*blocks) puts the d/2 blocks on the diagonal of a (d, d) matrix.",
        ],
        mistakes=[
            Mistake(
                "rotates_backwards",
                lambda k, d: _rotation(k, d, transposed=True),
                "the blocks are transposed: [[cos, -sin], [sin, cos]] rotates the other way, so it moves every "
                "encoding k positions back (PE[pos - k]). Work out sin((pos + k) ω) from the angle-addition rule: "
                "the sine row is (cos, +sin).",
            ),
            Mistake(
                "same_angle_for_every_pair",
                lambda k, d: _rotation(k, d, frequencies=False),
                "every block rotates by the same angle k. Pair i turns at its own frequency ω_i, so its block "
                "rotates by k ω_i = k * 10000^(-2i/d).",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
