"""Checked exercises of lesson 16 (evaluation metrics): expected calibration error, and a bootstrap percentile
interval."""

from __future__ import annotations

from functools import partial

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def ece(probs, labels, n_bins=10):
    """Expected calibration error: predictions grouped by confidence (the top probability) into ``n_bins`` equal
    bins [i/n, (i+1)/n), the last one closed at 1.0; the bins' |accuracy - mean confidence| gaps, weighted by the
    share of predictions in each."""
    confidence, predicted = probs.max(dim=-1)
    correct = (predicted == labels).to(probs.dtype)
    which = (confidence * n_bins).long().clamp(max=n_bins - 1)  # a confidence of exactly 1.0 goes in the last bin
    total = confidence.new_zeros(())
    for b in range(n_bins):
        in_bin = which == b
        if in_bin.any():
            gap = (correct[in_bin].mean() - confidence[in_bin].mean()).abs()
            total = total + in_bin.to(probs.dtype).mean() * gap
    return float(total)


def _calibration_case(seed, n, sure=0):
    """``n`` two-class predictions, the first ``sure`` of them with probability exactly 1.0 (and some of those
    wrong), confidences spread over the bins, classes predicted both ways."""
    g = torch.Generator().manual_seed(seed)
    p1 = torch.rand(n, generator=g, dtype=torch.float64)
    p1[:sure] = (torch.arange(sure) % 2).to(torch.float64)  # confidence exactly 1.0, for class 0 and class 1
    probs = torch.stack([1 - p1, p1], dim=-1)
    labels = (torch.rand(n, generator=g, dtype=torch.float64) < 0.35 + 0.4 * p1).long()
    return probs, labels


def _ece_cases():
    three = torch.rand(40, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64).softmax(-1)
    return [
        (*_calibration_case(0, 60, sure=8), 10),
        (*_calibration_case(1, 50), 5),
        (three, torch.arange(40) % 3, 10),
    ]


def _ece_variant(probs, labels, n_bins=10, *, weighted=True, class_one=False, closed_at_one=True):
    """ECE with one of the cataloged mistakes switched on."""
    confidence = probs[:, 1] if class_one else probs.max(dim=-1).values  # class_one: P(class 1), not confidence
    correct = (probs.argmax(dim=-1) == labels).to(probs.dtype)
    which = (confidence * n_bins).long()
    which = which.clamp(max=n_bins - 1) if closed_at_one else which  # else 1.0 lands in bin n_bins: never visited
    used = [b for b in range(n_bins) if (which == b).any()]
    gaps = torch.stack([(correct[which == b].mean() - confidence[which == b].mean()).abs() for b in used])
    shares = torch.stack([(which == b).to(probs.dtype).mean() for b in used])
    return float((gaps * shares).sum() if weighted else gaps.mean())


def bootstrap_interval(values, n_resamples=1000, confidence=0.95, seed=0):
    """The percentile interval (low, high) of the mean of ``values`` over ``n_resamples`` resamples drawn with
    replacement: ``torch.randint(n, (n_resamples, n), generator=torch.Generator().manual_seed(seed))``."""
    n = len(values)
    idx = torch.randint(n, (n_resamples, n), generator=torch.Generator().manual_seed(seed))
    means = values[idx].mean(dim=1)
    tail = (1 - confidence) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=means.dtype)).tolist()
    return low, high


def _bootstrap_cases():
    g = torch.Generator().manual_seed(7)
    right = (torch.rand(60, generator=g) < 0.8).to(torch.float64)
    scores = torch.randn(35, generator=g, dtype=torch.float64).exp()
    return [(right, 500, 0.95, 0), (scores, 400, 0.9, 3), (right[:20], 300, 0.8, 1)]


def _without_replacement(values, n_resamples=1000, confidence=0.95, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.stack([torch.randperm(len(values), generator=g) for _ in range(n_resamples)])
    means = values[idx].mean(dim=1)
    tail = (1 - confidence) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=means.dtype)).tolist()
    return low, high


def _from_std(values, n_resamples=1000, confidence=0.95, seed=0):
    n = len(values)
    means = values[torch.randint(n, (n_resamples, n), generator=torch.Generator().manual_seed(seed))].mean(dim=1)
    z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(1 - (1 - confidence) / 2)).item()
    center, spread = values.mean().item(), means.std().item()
    return center - z * spread, center + z * spread


def _tail_not_halved(values, n_resamples=1000, confidence=0.95, seed=0):
    n = len(values)
    means = values[torch.randint(n, (n_resamples, n), generator=torch.Generator().manual_seed(seed))].mean(dim=1)
    low, high = torch.quantile(means, torch.tensor([1 - confidence, confidence], dtype=means.dtype)).tolist()
    return low, high


EXERCISES = [
    Exercise(
        key="q1",
        title="expected calibration error",
        reference=ece,
        cases=_ece_cases,
        verified="on 3 seeded sets (two classes with confidences of exactly 1.0 among them, 5 and 10 bins, three "
        "classes) the bins' gaps weighted by their share of the predictions",
        hints=[
            "confidence, predicted = probs.max(-1): the confidence is the probability of the predicted class, "
            "whichever it is. Bin b holds the confidences in [b/n, (b+1)/n): (confidence * n_bins).long(), with "
            "1.0 put in the last bin (.clamp(max=n_bins - 1)).",
            "For each non-empty bin: |mean correctness - mean confidence|, weighted by (predictions in the bin) / "
            "(all predictions). Sum over the bins.",
        ],
        mistakes=[
            Mistake(
                "unweighted",
                partial(_ece_variant, weighted=False),
                "every non-empty bin counts the same: a bin of 2 predictions weighs as much as one of 200. ECE "
                "weights each bin's gap by its share of the predictions, so it is the expected gap of a random "
                "prediction.",
            ),
            Mistake(
                "class_one",
                partial(_ece_variant, class_one=True),
                "the confidence is taken as P(class 1), probs[:, 1]. A prediction of class 0 with P(class 1) = 0.1 "
                "is 90% confident, not 10%: use the probability of the predicted class, probs.max(-1).",
            ),
            Mistake(
                "one_left_out",
                partial(_ece_variant, closed_at_one=False),
                "predictions made with confidence exactly 1.0 are left out: (confidence * n_bins).long() puts them "
                "in bin n_bins, past the last one. The last bin is closed on the right, [0.9, 1.0]: clamp the bin "
                "index to n_bins - 1.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="a bootstrap percentile interval",
        reference=bootstrap_interval,
        cases=_bootstrap_cases,
        verified="on 3 seeded score sets (correct/wrong, continuous, a small one) at 95%, 90% and 80% the same "
        "resamples and the same percentiles",
        hints=[
            "Draw all resamples at once, with replacement: idx = torch.randint(n, (n_resamples, n), "
            "generator=torch.Generator().manual_seed(seed)); values[idx].mean(dim=1) is one mean per resample.",
            "The interval is read off those means: the (1 - confidence) / 2 and 1 - (1 - confidence) / 2 "
            "quantiles (torch.quantile), 2.5% and 97.5% for 95%. Return (low, high) as two floats.",
        ],
        mistakes=[
            Mistake(
                "without_replacement",
                _without_replacement,
                "the resamples are drawn without replacement (a permutation): every resample holds each example "
                "exactly once, so every mean is the same and the interval has width 0. Draw with replacement: "
                "torch.randint.",
            ),
            Mistake(
                "from_std",
                _from_std,
                "the interval is mean ± z · std of the resampled means: a normal approximation, symmetric by "
                "construction. The percentile bootstrap reads the interval off the resampled means themselves "
                "(torch.quantile), so it follows their shape (skewed near 0% or 100% accuracy).",
            ),
            Mistake(
                "tail_not_halved",
                _tail_not_halved,
                "the quantiles are 1 - confidence and confidence (5% and 95% for a 95% interval): that interval "
                "holds only 90%. Split what is left out over both tails: (1 - confidence) / 2 on each side.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
