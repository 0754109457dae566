"""Checked exercises of lesson 18 (ethics and fairness): the counterfactual audit's probability gap and flip rate,
on a table ``p`` of p(positive) with one row per template and one column per term, and ``in_group`` (bool, one per
term) marking the terms of the audited group."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def probability_gap(p, in_group):
    """gap(g) = mean over templates of [mean of p over the group's terms − mean of p over the other terms]."""
    per_template = p[:, in_group].mean(dim=1) - p[:, ~in_group].mean(dim=1)
    return per_template.mean()


def flip_rate(p, in_group, threshold=0.5):
    """The fraction of counterfactual pairs (a template, a term of the group, a term of another group) whose predicted
    labels differ."""
    labels = p >= threshold
    mine, others = labels[:, in_group], labels[:, ~in_group]
    flips = mine.unsqueeze(2) != others.unsqueeze(1)  # (templates, group terms, other terms)
    return flips.float().mean()


def _cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for templates, terms, group in ((6, 5, (0, 1)), (4, 6, (2, 3, 5))):
        p = torch.rand(templates, terms, generator=g, dtype=torch.float64)
        in_group = torch.zeros(terms, dtype=torch.bool)
        in_group[list(group)] = True
        cases.append((p, in_group))
    # a group favored on some templates and disfavored on more: the signed gap is negative
    p = torch.tensor([[0.9, 0.8, 0.3, 0.2], [0.2, 0.3, 0.6, 0.7], [0.1, 0.2, 0.55, 0.6]], dtype=torch.float64)
    cases.append((p, torch.tensor([True, True, False, False])))
    return cases


EXERCISES = [
    Exercise(
        key="q1",
        title="the probability gap",
        reference=probability_gap,
        cases=_cases,
        verified="on three tables, one where the group is favored by some templates and disfavored by more, your "
        "gap equals the mean over templates of (group mean − other terms' mean), sign included",
        hints=[
            "Per template (row): the mean of p over the group's columns, p[:, in_group].mean(dim=1), minus the mean "
            "over the other columns, p[:, ~in_group].mean(dim=1).",
            "Then the mean over templates, keeping the sign: positive means the group's terms make the model more "
            "positive, negative less.",
        ],
        mistakes=[
            Mistake(
                "absolute",
                lambda p, g: (p[:, g].mean(dim=1) - p[:, ~g].mean(dim=1)).abs().mean(),
                "you average the absolute per-template gaps. That loses the direction, and gaps of opposite sign on "
                "different templates no longer cancel: noise adds up to a 'bias'. The audit's gap is signed; take "
                "abs() only when you compare sizes.",
            ),
            Mistake(
                "versus_everyone",
                lambda p, g: (p[:, g].mean(dim=1) - p.mean(dim=1)).mean(),
                "the group is compared with the mean over all terms, its own included: the baseline moves towards "
                "the group and the gap shrinks. Compare with the other terms only (~in_group).",
            ),
            Mistake(
                "reversed",
                lambda p, g: (p[:, ~g].mean(dim=1) - p[:, g].mean(dim=1)).mean(),
                "the sign is reversed: gap(g) is the group's mean minus the others', so that a positive gap means "
                "the model is more positive when a term of g fills the slot.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="the flip rate",
        reference=flip_rate,
        cases=_cases,
        verified="on three tables your flip rate is the fraction of (template, group term, other term) pairs whose "
        "labels differ",
        hints=[
            "Labels first: p >= threshold. A counterfactual pair is one template with a term of the group and a term "
            "of another group: the same sentence, only the group term swapped.",
            "labels[:, in_group].unsqueeze(2) != labels[:, ~in_group].unsqueeze(1) compares every group term with "
            "every other term, per template; the flip rate is the mean of that (templates x group x others) table.",
        ],
        mistakes=[
            Mistake(
                "all_pairs",
                lambda p, g, threshold=0.5: (
                    ((p >= threshold).unsqueeze(2) != (p >= threshold).unsqueeze(1)).float().sum()
                    / (p.shape[0] * p.shape[1] * (p.shape[1] - 1))
                ),
                "you compare every pair of probes of a template, two terms of the same group included. A flip is "
                "a swap of the group term for another group's term: pair each term of the group with each term "
                "outside it only.",
            ),
            Mistake(
                "per_probe",
                lambda p, g, threshold=0.5: (
                    ((p[:, g] >= threshold).unsqueeze(2) != (p[:, ~g] >= threshold).unsqueeze(1)).float().sum()
                    / p[:, g].numel()
                ),
                "you count the flipped pairs but divide by the number of the group's probes, not by the number of "
                "pairs: with several other terms per template the 'rate' can exceed 1. Divide by templates x group "
                "terms x other terms.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
