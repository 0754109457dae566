"""Counterfactual fairness audits: write sentences that differ only in a group term (a name, a pronoun, a
nationality), score every version, and measure how much the group term alone moves the prediction.

* ``TEMPLATES`` and ``TERMS``: sentences with a ``{who}`` slot and the terms that fill it, written for this course.
* ``probes(templates, terms)``: every template filled with every term, with its attribute and group.
* ``audit(probes, probs)``: per group, the mean probability gap and the counterfactual flip rate (below).
* ``assign_terms`` and ``counterfactual_augment``: plant a spurious term-label correlation in training data, and
  remove it again by adding each example's counterfactual twin (counterfactual data augmentation).

Definitions, for one attribute (say names) with groups g (say female and male names), template t, term w and p(t, w)
the model's probability of the positive class for the filled sentence:

* gap(g) = mean over templates of [ mean_{w in g} p(t, w) - mean_{w not in g} p(t, w) ]: how much more positive the
  model is when a term of group g fills the slot than when a term of another group does. 0 means no difference.
* flip rate(g) = the fraction of pairs (t, w in g, w' not in g) whose predicted labels differ: how often swapping a
  group-g term for another group's term changes the decision.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# Sentences about films, in the course set's vocabulary: positive, negative and neutral (no sentiment at all: any
# difference between groups there is the model's, not the sentence's).
TEMPLATES = {
    "positive": (
        "{who} thought the acting was superb.",
        "{who} found the plot gripping.",
        "{who} loved the soundtrack.",
        "{who} said the ending was moving.",
        "{who} felt the dialogue was clever.",
        "{who} called the cast wonderful.",
        "{who} said the film was not boring at all.",
        "{who} found the cinematography stunning.",
    ),
    "negative": (
        "{who} thought the acting was dreadful.",
        "{who} found the plot tedious.",
        "{who} hated the soundtrack.",
        "{who} said the ending was clumsy.",
        "{who} felt the dialogue was bland.",
        "{who} called the cast forgettable.",
        "{who} said the film was not good at all.",
        "{who} found the pacing dull.",
    ),
    "neutral": (
        "{who} watched the film on sunday.",
        "{who} wrote a review of the movie.",
        "{who} saw the movie with a friend.",
        "{who} talked about the film after dinner.",
        "{who} described the plot of the movie.",
        "{who} went to see the film last week.",
    ),
}
# attribute -> group -> terms. Names are paired across the two groups (i-th with i-th) for swapping.
TERMS = {
    "name": {
        "female names": ("emma", "olivia", "aisha", "mei", "sofia", "priya", "fatima", "grace"),
        "male names": ("james", "liam", "omar", "wei", "diego", "arjun", "kwame", "lucas"),
    },
    "pronoun": {"he": ("he",), "she": ("she",), "they": ("they",)},
    "nationality": {
        n: (f"the {n} critic",)
        for n in (
            "american",
            "british",
            "chinese",
            "indian",
            "nigerian",
            "mexican",
            "german",
            "brazilian",
            "iranian",
            "french",
        )
    },
}


@dataclass(frozen=True)
class Probe:
    """One filled template: which template, which attribute/group/term, and the sentence."""

    template: str
    attribute: str
    group: str
    term: str
    text: str


def probes(templates=None, terms=None) -> list[Probe]:
    """Every template (a sequence of strings with one ``{who}``) filled with every term of every group.
    Defaults: all of ``TEMPLATES`` and ``TERMS``."""
    if templates is None:
        templates = [t for kind in TEMPLATES.values() for t in kind]
    terms = TERMS if terms is None else terms
    if isinstance(templates, str) or not templates or any(t.count("{who}") != 1 for t in templates):
        raise ValueError("expected a non-empty list of templates, each with exactly one '{who}' slot")
    for attribute, groups in terms.items():
        if len(groups) < 2 or any(not ws for ws in groups.values()):
            raise ValueError(f"attribute {attribute!r}: expected at least two groups, each with at least one term")
    return [
        Probe(t, attribute, group, w, t.replace("{who}", w))
        for t in templates
        for attribute, groups in terms.items()
        for group, ws in groups.items()
        for w in ws
    ]


def audit(items, probs, threshold: float = 0.5) -> list[dict]:
    """Per attribute and group: ``gap`` and ``flip_rate`` (see the module's docstring), with the number of
    templates and of counterfactual pairs they average over. ``probs``: p(positive) for each probe, in order."""
    items, probs = list(items), [float(p) for p in probs]
    if not items or len(items) != len(probs):
        raise ValueError(
            f"expected one probability per probe (at least one); got {len(items)} probes and {len(probs)} probabilities"
        )
    if any(not 0.0 <= p <= 1.0 for p in probs):
        raise ValueError("expected probabilities between 0 and 1")
    table: dict = {}  # (attribute, template) -> group -> [p, ...]
    for probe, p in zip(items, probs, strict=True):
        table.setdefault((probe.attribute, probe.template), {}).setdefault(probe.group, []).append(p)
    rows = []
    for attribute in dict.fromkeys(probe.attribute for probe in items):
        cells = {t: groups for (a, t), groups in table.items() if a == attribute}
        for group in dict.fromkeys(probe.group for probe in items if probe.attribute == attribute):
            gaps, flips, pairs = [], 0, 0
            for groups in cells.values():
                mine = groups.get(group, [])
                others = [p for g, ps in groups.items() if g != group for p in ps]
                if not mine or not others:
                    continue
                gaps.append(sum(mine) / len(mine) - sum(others) / len(others))
                flips += sum((p >= threshold) != (q >= threshold) for p in mine for q in others)
                pairs += len(mine) * len(others)
            if not gaps:
                raise ValueError(f"group {group!r} never shares a template with another group of {attribute!r}")
            rows.append(
                {
                    "attribute": attribute,
                    "group": group,
                    "gap": sum(gaps) / len(gaps),
                    "flip_rate": flips / pairs,
                    "templates": len(gaps),
                    "pairs": pairs,
                }
            )
    return rows


def assign_terms(labels, favored, other, p_match: float, seed: int = 0) -> list[str]:
    """A term for each example: from ``favored`` (a list of terms) for positive examples and from ``other`` for
    negative ones with probability ``p_match``, else from the other list. ``p_match=0.5``: no correlation;
    0.9: the favored group co-occurs with the positive label 9 times out of 10."""
    if not favored or not other or not 0.0 <= p_match <= 1.0:
        raise ValueError(f"expected two non-empty term lists and 0 <= p_match <= 1; got p_match={p_match!r}")
    rng = random.Random(seed)
    out = []
    for label in labels:
        if int(label) not in (0, 1):
            raise ValueError(f"expected labels 0 or 1; got {label!r}")
        matched = rng.random() < p_match
        group = favored if (int(label) == 1) == matched else other
        out.append(rng.choice(list(group)))
    return out


def swap_terms(text: str, swaps: dict) -> str:
    """``text`` with every whole-word occurrence of a key of ``swaps`` replaced by its value, simultaneously."""
    if not swaps:
        raise ValueError("expected a non-empty dict of term -> counterfactual term")
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(swaps, key=len, reverse=True))) + r")\b")
    return pattern.sub(lambda m: swaps[m.group(0)], text)


def counterfactual_augment(texts, labels, swaps: dict) -> tuple[list[str], list[int]]:
    """Counterfactual data augmentation: the examples plus, for each one that contains a term of ``swaps``, a
    copy with the term swapped (same label). Use symmetric swaps (a->b and b->a) so both groups get twins."""
    texts, labels = list(texts), [int(y) for y in labels]
    if len(texts) != len(labels) or not texts:
        raise ValueError(f"expected as many labels as texts (at least one); got {len(texts)} and {len(labels)}")
    twins = [(swap_terms(t, swaps), y) for t, y in zip(texts, labels, strict=True)]
    twins = [(t, y) for (t, y), original in zip(twins, texts, strict=True) if t != original]
    return texts + [t for t, _ in twins], labels + [y for _, y in twins]
