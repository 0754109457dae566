"""Checked exercises of lesson 10 (fine-tuning BERT for sentiment): the classification loss and accuracy from the
logits, and the linear warmup-and-decay learning-rate schedule."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, describe, namespaces


def loss_and_accuracy(logits, labels):
    """(cross-entropy, accuracy) of a batch: logits (B, C), labels (B,) class ids."""
    loss = F.cross_entropy(logits, labels)
    accuracy = (logits.argmax(dim=-1) == labels).float().mean()
    return loss, accuracy


def _classification_cases():
    # Square batches (as many reviews as classes), so that an argmax over the wrong axis still runs and can be named.
    g = torch.Generator().manual_seed(0)
    cases = []
    for n in (2, 3, 5, 4):
        logits = 2.0 * torch.randn(n, n, generator=g, dtype=torch.float64)
        labels = torch.randint(0, n, (n,), generator=g)
        cases.append((logits, labels))
    return cases


def _as_number(value):
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{describe(value)}; expected a single number (a 0-d tensor)")
        return float(value.detach().double())
    if isinstance(value, (int, float)):
        return float(value)
    raise ValueError(f"{describe(value)}; expected a number")


def _compare_pair(got, expected):
    """None when ``got`` is a (loss, accuracy) pair equal to ``expected`` (to 1e-6 relative); else what differs."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"expected a pair (loss, accuracy); got {describe(got)}"
    for name, g, e in zip(("loss", "accuracy"), got, expected, strict=True):
        try:
            value = _as_number(g)
        except ValueError as err:
            return f"the {name} is {err}"
        if not math.isclose(value, _as_number(e), rel_tol=1e-6, abs_tol=1e-9):
            return f"the {name} is {value:.6g}; expected {_as_number(e):.6g}"
    return None


def _softmax_first(logits, labels):
    loss = F.cross_entropy(logits.softmax(dim=-1), labels)
    return loss, (logits.argmax(dim=-1) == labels).float().mean()


def _nll_on_logits(logits, labels):
    loss = F.nll_loss(logits, labels)
    return loss, (logits.argmax(dim=-1) == labels).float().mean()


def _argmax_batch_axis(logits, labels):
    return F.cross_entropy(logits, labels), (logits.argmax(dim=0) == labels).float().mean()


def linear_warmup_factor(step, warmup_steps, total_steps):
    """The learning rate's multiplier at optimizer step ``step`` (0, 1, ...): up from 0 to 1 over ``warmup_steps``,
    then down to 0 at ``total_steps``, and 0 after (``transformers.get_linear_schedule_with_warmup``)."""
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def _schedule_cases():
    steps = (0, 1, 3, 4, 5, 20, 44, 45, 50)
    return [(s, 4, 45) for s in steps] + [(s, 0, 10) for s in (0, 5, 10)] + [(s, 30, 300) for s in (15, 30, 165)]


def _warmup_off_by_one(step, warmup_steps, total_steps):
    if step < warmup_steps:
        return (step + 1) / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def _decay_upwards(step, warmup_steps, total_steps):
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))


def _decay_over_whole_run(step, warmup_steps, total_steps):
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps))


def _no_floor(step, warmup_steps, total_steps):
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    return (total_steps - step) / max(1, total_steps - warmup_steps)


EXERCISES = [
    Exercise(
        key="q1",
        title="the loss and accuracy from the logits",
        reference=loss_and_accuracy,
        cases=_classification_cases,
        compare=_compare_pair,
        verified="your loss equals F.cross_entropy on the raw logits and your accuracy the share of argmax "
        "predictions equal to the labels, on 4 random float64 batches",
        hints=[
            "F.cross_entropy(logits, labels) takes the raw logits: it applies log-softmax itself. The prediction "
            "of each review is the class with the largest logit.",
            "accuracy = (logits.argmax(dim=-1) == labels).float().mean(): argmax over the classes (the last "
            "axis), one prediction per review; .float() because the mean of booleans is not defined.",
        ],
        mistakes=[
            Mistake(
                "softmax_before_cross_entropy",
                _softmax_first,
                "the logits go through softmax before F.cross_entropy, which applies log-softmax itself: the loss "
                "is computed on a softmax of probabilities, squashed towards log(C), with tiny gradients. Pass the "
                "raw logits.",
            ),
            Mistake(
                "nll_on_logits",
                _nll_on_logits,
                "F.nll_loss is given raw logits. nll_loss expects log-probabilities (after log_softmax); on logits "
                "it is just minus the label's logit, which can fall without bound. Use F.cross_entropy(logits, "
                "labels).",
            ),
            Mistake(
                "argmax_over_batch",
                _argmax_batch_axis,
                "the argmax runs over the batch axis (dim=0): for each class it picks the review with the largest "
                "logit. A prediction is one class per review: argmax(dim=-1).",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="linear warmup, then linear decay",
        reference=linear_warmup_factor,
        cases=_schedule_cases,
        verified="your factor equals transformers' get_linear_schedule_with_warmup at 15 steps of three "
        "schedules: before, at and after the warmup, at the end and past it, and with no warmup",
        hints=[
            "Two pieces. While step < warmup_steps the factor rises linearly from 0 (at step 0) towards 1. From "
            "warmup_steps on it falls linearly from 1 to 0 at total_steps, and stays 0 after that.",
            "step / max(1, warmup_steps) during warmup; then max(0.0, (total_steps - step) / max(1, total_steps "
            "- warmup_steps)). The max(1, ...) guards a warmup of 0 steps.",
        ],
        mistakes=[
            Mistake(
                "warmup_off_by_one",
                _warmup_off_by_one,
                "the warmup is off by one: (step + 1) / warmup_steps is already above 0 at step 0 and reaches 1 "
                "one step early. Step 0 is the first optimizer step, and its factor is 0: step / warmup_steps.",
            ),
            Mistake(
                "decay_upwards",
                _decay_upwards,
                "after the warmup the factor rises again instead of decaying: it should start at 1 right after "
                "the warmup and reach 0 at total_steps, (total_steps - step) / (total_steps - warmup_steps).",
            ),
            Mistake(
                "decay_over_whole_run",
                _decay_over_whole_run,
                "the decay divides by total_steps instead of total_steps - warmup_steps, so right after the "
                "warmup the factor drops below 1 (a jump down). The decay spans the steps left after the warmup.",
            ),
            Mistake(
                "no_floor_at_zero",
                _no_floor,
                "past total_steps the factor goes negative, a learning rate below zero that climbs the loss. "
                "Clamp it: max(0.0, ...).",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
