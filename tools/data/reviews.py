"""The sentiment dataset (``sentiment/*.jsonl``, IMDB schema) and its data card: reviews where word order matters
(simple, negated and contrasted), each pattern label-balanced, splits without duplicates or overlap."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from string import Template

from shared.review_patterns import pattern_of
from tools.data.corpus import with_article
from tools.data.words import ASPECTS, FILMS, INTENSIFIERS, LOVE, NEGATIVE, OPENERS, PLURAL_ASPECTS, POSITIVE

SPLIT_SIZES = {"train": 2000, "validation": 400, "test": 400}
# Fraction of each split per pattern (each pattern is itself label-balanced).
PATTERN_MIX = {"simple": 0.35, "negation": 0.30, "contrast": 0.35}


class Reviews:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def adj(self, polarity: int) -> str:
        return self.rng.choice(POSITIVE if polarity else NEGATIVE)

    def aspect(self, avoid: str | None = None) -> str:
        while True:
            a = self.rng.choice(ASPECTS)
            if a != avoid:
                return a

    def maybe_int(self, p: float = 0.35) -> str:
        return self.rng.choice(INTENSIFIERS) + " " if self.rng.random() < p else ""

    def opener(self, p: float = 0.15) -> str:
        return self.rng.choice(OPENERS) if self.rng.random() < p else ""

    @staticmethod
    def be(aspect: str) -> str:
        return "were" if aspect in PLURAL_ASPECTS else "was"

    # -- simple: the adjective's own polarity is the label ---------------
    def simple(self, label: int) -> str:
        r = self.rng
        a = self.aspect()
        adj = self.adj(label)
        film = r.choice(FILMS)
        templates = [
            lambda: f"the {a} {self.be(a)} {self.maybe_int()}{adj}.",
            lambda: f"{with_article(adj)}, {self.other_adj(label, adj)} {a}.",
            lambda: f"what {with_article(adj)} {film}!",
            lambda: f"{self.maybe_int(0.7)}{adj} {a} in this {film}.",
            lambda: f"i found the {a} {self.maybe_int()}{adj}.",
            lambda: f"the {film} was {self.maybe_int()}{adj} from start to finish.",
            lambda: f"i {r.choice(LOVE[label])} the {a}.",
            lambda: f"the {a} {self.be(a)} {adj} and {self.second_clause(label, a, adj)}.",
            lambda: f"{with_article(adj)} {film} with {with_article(self.other_adj(label, adj))} {a}.",
            lambda: f"the {a} in this {film} {self.be(a)} {self.maybe_int()}{adj}.",
        ]
        return self.opener() + r.choice(templates)()

    def second_clause(self, polarity: int, first_aspect: str, first_adj: str) -> str:
        a2 = self.aspect(first_aspect)
        return f"the {a2} {self.be(a2)} {self.maybe_int()}{self.other_adj(polarity, first_adj)}"

    def other_adj(self, polarity: int, avoid: str) -> str:
        while True:
            x = self.adj(polarity)
            if x != avoid:
                return x

    # -- negation: a negated adjective of the opposite polarity ------------
    def negation(self, label: int) -> tuple[str, str]:
        """Return (negated review, plain review with the same adjective and the
        opposite label)."""
        r = self.rng
        a = self.aspect()
        adj = self.adj(1 - label)  # the adjective's own polarity is flipped
        film = r.choice(FILMS)
        be = self.be(a)
        neg_be = "weren't" if be == "were" else "wasn't"
        templates = [
            f"the {a} {be} not {adj}.",
            f"the {a} {be} not {adj} at all.",
            f"the {a} {be} not at all {adj}.",
            f"the {a} {neg_be} {adj}.",
            f"i would not call the {a} {adj}.",
            f"i would not call this {film} {adj}.",
            f"the {film} was never {adj}.",
            f"nobody could say the {a} {be} {adj}.",
            f"i did not find the {a} {adj}.",
            f"the {a} didn't feel {adj}.",
            f"this {film} is not {adj}.",
            f"the {a} in this {film} {be} not {adj}.",
        ]
        plain = [
            f"the {a} {be} {adj}.",
            f"i found the {a} {adj}.",
            f"the {film} was {adj}.",
            f"i would call the {a} {adj}.",
            f"the {a} felt {adj}.",
            f"this {film} is {adj}.",
        ]
        opener = self.opener()
        return opener + r.choice(templates), self.opener() + r.choice(plain)

    # -- contrast: the main clause decides ---------------------------------
    def contrast(self, label: int) -> tuple[str, str]:
        """Return (review with ``label``, the same words reordered so that the
        opposite label holds)."""
        r = self.rng
        a1 = self.aspect()  # aspect of the deciding clause
        a2 = self.aspect(a1)  # aspect of the conceded clause
        adj1, adj2 = self.adj(label), self.adj(1 - label)
        i1, i2 = self.maybe_int(0.25), self.maybe_int(0.25)

        def cl(a: str, adj: str, i: str) -> str:
            return f"the {a} {self.be(a)} {i}{adj}"

        def forms(d_a: str, d_adj: str, d_i: str, c_a: str, c_adj: str, c_i: str) -> list[str]:
            """Templates where clause (d_*) decides and (c_*) is conceded."""
            dec, con = cl(d_a, d_adj, d_i), cl(c_a, c_adj, c_i)
            return [
                f"{con}, but {dec}.",
                f"{c_i}{c_adj} {c_a}, but {dec}.",
                f"although {con}, {dec}.",
                f"{dec}, although {con}.",
                f"even though {con}, {dec}.",
                f"{dec}, even though {con}.",
                f"{con}. however, {dec}.",
                f"while {con}, {dec}.",
                f"{con}, yet {dec}.",
                f"despite the {c_i}{c_adj} {c_a}, {dec}.",
                f"{dec}, despite the {c_i}{c_adj} {c_a}.",
            ]

        k = r.randrange(len(forms("", "", "", "", "", "")))
        text = forms(a1, adj1, i1, a2, adj2, i2)[k]
        mirror = forms(a2, adj2, i2, a1, adj1, i1)[k]
        opener = self.opener()
        return opener + text, opener + mirror


def row(text: str, label: int, pattern: str) -> dict:
    """One review; ``pattern`` is the template family it was built from (not written: the files keep IMDB's schema)."""
    return {"text": text, "label": label, "pattern": pattern}


def make_sentiment(rng: random.Random) -> dict[str, list[dict]]:
    """``{split: rows}``; each row ``{"text", "label", "pattern"}``."""
    rev = Reviews(rng)
    seen: set[str] = set()
    splits: dict[str, list[dict]] = {}

    def fresh(*texts: str) -> bool:
        if any(t in seen for t in texts) or len(set(texts)) != len(texts):
            return False
        seen.update(texts)
        return True

    for split, size in SPLIT_SIZES.items():
        n_neg = round(size * PATTERN_MIX["negation"])
        n_con = round(size * PATTERN_MIX["contrast"])
        n_simple = size - n_neg - n_con
        assert n_neg % 3 == 0 and n_con % 4 == 0 and n_simple % 2 == 0
        rows: list[dict] = []
        # Negation: as in real reviews, negated praise ("not good", label 0)
        # is twice as common as negated criticism ("not bad", label 1). Half
        # of the negated reviews come with a plain partner (same adjective,
        # opposite label); partners count toward "simple".
        n_pairs = n_neg // 2
        for i in range(n_neg):
            label = 1 if i % 3 == 2 else 0
            while True:
                neg, plain = rev.negation(label)
                if i < n_pairs and fresh(neg, plain):
                    rows += [row(neg, label, "negation"), row(plain, 1 - label, "simple")]
                    break
                if i >= n_pairs and fresh(neg):
                    rows.append(row(neg, label, "negation"))
                    break
        # Simple: fill up so that the whole split is exactly balanced
        # (contrast pairs below are balanced by construction).
        have = Counter(r["label"] for r in rows)
        n_pos = (size - n_con) // 2 - have[1]
        n_free = n_simple - n_pairs
        assert 0 <= n_pos <= n_free
        for i in range(n_free):
            label = 1 if i * n_pos // n_free != (i + 1) * n_pos // n_free else 0
            while True:
                text = rev.simple(label)
                if fresh(text):
                    rows.append(row(text, label, "simple"))
                    break
        # Contrast: mirrored pairs (same words, opposite labels).
        for i in range(n_con // 2):
            label = i % 2
            while True:
                text, mirror = rev.contrast(label)
                if fresh(text, mirror):
                    rows += [row(text, label, "contrast"), row(mirror, 1 - label, "contrast")]
                    break
        rng.shuffle(rows)
        splits[split] = rows
    return splits


CARD = Path(__file__).with_name("sentiment_card.md")


def sentiment_card(splits: dict[str, list[dict]]) -> str:
    """The data card (``sentiment_card.md``) with this draw's table of sizes, balance and pattern mix."""
    rows = []
    for name, split in splits.items():
        labels = Counter(r["label"] for r in split)
        pats = Counter(pattern_of(r["text"]) for r in split)
        rows.append(
            f"| {name} | {len(split)} | {labels[0]} | {labels[1]} | {pats['simple']} "
            f"| {pats['negation']} | {pats['contrast']} |"
        )
    return Template(CARD.read_text()).substitute(table="\n".join(rows))
