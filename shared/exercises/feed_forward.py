"""Checked exercises of lesson 08 (the position-wise feed-forward network): the FFN from its formula, and where a
Transformer layer's parameters are."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, namespaces


def feed_forward(x, w1, b1, w2, b2):
    """W2 ReLU(W1 x + b1) + b2 at every position; weights as nn.Linear stores them: w1 (d_ff, d), w2 (d, d_ff)."""
    return F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)


def _ffn_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for shape, d, d_ff in (((2, 5), 8, 32), ((1, 3), 4, 16), ((3, 7), 6, 12)):
        x = torch.randn(*shape, d, generator=g, dtype=torch.float64)
        w1, b1 = (
            torch.randn(d_ff, d, generator=g, dtype=torch.float64),
            torch.randn(d_ff, generator=g, dtype=torch.float64),
        )
        w2, b2 = (
            torch.randn(d, d_ff, generator=g, dtype=torch.float64),
            torch.randn(d, generator=g, dtype=torch.float64),
        )
        cases.append((x, w1, b1, w2, b2))
    return cases


def _activation_last(x, w1, b1, w2, b2):
    return F.relu(F.linear(F.linear(x, w1, b1), w2, b2))


def _no_activation(x, w1, b1, w2, b2):
    return F.linear(F.linear(x, w1, b1), w2, b2)


def _bias_after_relu(x, w1, b1, w2, b2):
    return F.linear(F.relu(x @ w1.T) + b1, w2, b2)


def _gelu(x, w1, b1, w2, b2):
    return F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2)


def layer_parameters(d, d_ff):
    """(FFN parameters, multi-head attention parameters) of one Transformer layer, biases included."""
    ffn = d * d_ff + d_ff + d_ff * d + d  # linear1 (d -> d_ff) and linear2 (d_ff -> d), weights and biases
    attention = 4 * (d * d + d)  # W_q, W_k, W_v and the output projection W_o, each d x d plus a bias
    return ffn, attention


def _parameter_cases():
    return [(32, 128), (512, 2048), (64, 100), (768, 3072)]


EXERCISES = [
    Exercise(
        key="q1",
        title="the feed-forward network",
        reference=feed_forward,
        cases=_ffn_cases,
        verified="on 3 random float64 batches (d = 4 to 8, d_ff = 12 to 32) the output equals "
        "W2 ReLU(W1 x + b1) + b2 at every position",
        hints=[
            "nn.Linear stores its weight as (out, in), and F.linear(x, w, b) computes x @ w.T + b on the last "
            "axis, at every position at once.",
            "Expand to d_ff with (w1, b1), apply F.relu, project back to d with (w2, b2). The activation sits "
            "between the two layers, never after the second.",
        ],
        mistakes=[
            Mistake(
                "activation_after_second_layer",
                _activation_last,
                "the ReLU comes after the second layer, so every output entry is >= 0 and half the directions of "
                "the residual stream can never be written. The activation goes between the two layers: "
                "W2 ReLU(W1 x + b1) + b2.",
            ),
            Mistake(
                "no_activation",
                _no_activation,
                "there is no activation: two linear layers in a row are one linear layer (W2 W1 x + ...), and the "
                "extra d_ff width buys nothing. Apply F.relu to the hidden layer.",
            ),
            Mistake(
                "bias_after_relu",
                _bias_after_relu,
                "b1 is added after the ReLU. It belongs inside: ReLU(W1 x + b1), so that the bias moves each "
                "hidden unit's threshold (where it switches on).",
            ),
            Mistake(
                "gelu_instead_of_relu",
                _gelu,
                "this uses GELU. GELU is what BERT and GPT-2 use, but this lesson's FFN (and the original "
                "Transformer's) uses ReLU: F.relu.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="where the parameters are",
        reference=layer_parameters,
        cases=_parameter_cases,
        verified="the counts for (d, d_ff) = (32, 128), (512, 2048), (64, 100) and (768, 3072) equal the FFN's two "
        "layers and attention's four projections, biases included",
        hints=[
            "A linear layer from n to m features has an (m, n) weight and m biases: m * n + m parameters. The FFN "
            "has two: d -> d_ff and d_ff -> d.",
            "Multi-head attention has four d -> d projections (queries, keys, values and the output projection W_o), "
            "whatever the number of heads: the heads split the features, they do not add weights.",
        ],
        mistakes=[
            Mistake(
                "no_biases",
                lambda d, d_ff: (2 * d * d_ff, 4 * d * d),
                "the biases are missing: each linear layer also has one bias per output feature (nn.Linear's "
                "bias=True). The FFN adds d_ff + d, attention 4 d.",
            ),
            Mistake(
                "no_output_projection",
                lambda d, d_ff: (2 * d * d_ff + d_ff + d, 3 * (d * d + d)),
                "attention counts only W_q, W_k and W_v. After the heads are concatenated, the output projection "
                "W_o (d x d, plus its bias) mixes them: four projections in all.",
            ),
            Mistake(
                "one_ffn_layer",
                lambda d, d_ff: (d * d_ff + d_ff, 4 * (d * d + d)),
                "the FFN counts one layer only. It has two: up to d_ff (d * d_ff + d_ff) and back down to d "
                "(d_ff * d + d).",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
