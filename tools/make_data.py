"""Generate the course's two small synthetic datasets.

Writes, under ``shared/assets/`` (or ``--out DIR``):

* ``corpus.txt`` -- a small English corpus about a village "world" for
  language-model and word-embedding notebooks;
* ``corpus_categories.json`` -- ``{category: [words]}`` for the category
  words used in the corpus (for evaluating embedding neighbours);
* ``sentiment/{train,validation,test}.jsonl`` -- a tiny movie-review
  sentiment dataset in the IMDB schema (``{"text": str, "label": int}``,
  0 = negative, 1 = positive) where word order matters;
* ``sentiment/README.md`` -- its data card.

All text is written for this course (no existing corpus is copied). The
output is fully deterministic: one ``random.Random(0)`` drives everything,
so running the script twice gives byte-identical files. Pure standard
library; runs in well under a second.

Usage::

    python tools/make_data.py            # writes shared/assets/
    python tools/make_data.py --out DIR  # writes DIR/ instead
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from pathlib import Path

SEED = 0
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "shared" / "assets"

# ---------------------------------------------------------------------------
# Part 1: the language-model corpus
# ---------------------------------------------------------------------------

CATEGORIES: dict[str, list[str]] = {
    "animals": ["cat", "dog", "fox", "horse", "rabbit", "owl", "goat", "duck", "hen", "pig"],
    "colours": ["red", "blue", "green", "yellow", "brown", "white", "black", "grey"],
    "fruits": ["apple", "pear", "plum", "cherry", "peach", "lemon", "fig", "melon"],
    "foods": ["bread", "cheese", "soup", "honey", "butter", "cake", "pie", "porridge"],
    "tools": ["hammer", "rope", "ladder", "shovel", "axe", "basket", "lantern", "bucket"],
    "places": [
        "market",
        "river",
        "forest",
        "village",
        "harbour",
        "meadow",
        "mill",
        "bridge",
        "garden",
        "orchard",
    ],
    "weather": ["sunny", "rainy", "windy", "foggy", "snowy", "cloudy", "stormy", "frosty"],
    "days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "numbers": [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    ],
    "people": [
        "baker",
        "farmer",
        "teacher",
        "sailor",
        "miller",
        "fisherman",
        "doctor",
        "potter",
        "weaver",
        "shepherd",
        "smith",
        "carpenter",
    ],
    "motion": ["walked", "ran", "hurried", "wandered", "strolled", "rode", "marched", "crept"],
    "emotions": ["happy", "sad", "tired", "angry", "proud", "afraid", "cheerful", "worried"],
}

IRREGULAR_PLURALS = {
    "fox": "foxes",
    "cherry": "cherries",
    "peach": "peaches",
    "axe": "axes",
    "bucket": "buckets",
    "mouse": "mice",
    "sheep": "sheep",
}

MIN_CORPUS_COUNT = 30
CORPUS_TARGET_CHARS = 110_000

# Hand-written paragraphs about the world (original text for this course).
HANDWRITTEN = [
    "the village lies where the river bends twice before it reaches the sea. "
    "a stone bridge joins the two halves of the village, and under it the water is "
    "slow and brown. children throw sticks from one side and run to watch them come "
    "out on the other.",
    "every saturday the market fills the square. the baker brings bread still warm "
    "from the oven, the farmer brings cheese wrapped in cloth, and the potter sets out "
    "bowls in long rows. by noon the square is loud with voices, and by evening only "
    "the pigeons are left, looking for crumbs.",
    "in spring the meadow turns green almost overnight. the goats are let out of the "
    "barn, and they run in circles as if they had forgotten what grass was. the "
    "shepherd sits on a low wall and counts them twice, just to be sure.",
    "summer in the village is slow. the river is low and warm, the orchard is heavy "
    "with fruit, and the mill stops turning in the afternoon heat. people eat their "
    "supper outside and talk until the owls begin to call.",
    "autumn belongs to the orchard. the farmer and her sons climb the ladders with "
    "baskets on their arms, and the apples and pears go into the cellar in neat "
    "wooden boxes. whatever falls to the ground is left for the pigs.",
    "winter comes down from the hills. the first frosty morning covers the bridge in "
    "white, and the fisherman stays at home mending his nets by the fire. the "
    "lanterns are lit early, and the village smells of smoke and soup.",
    "the old mill stands at the edge of the forest. its wheel has turned for a "
    "hundred years, and the miller says it knows the river better than anyone. when "
    "the water is high, the wheel sings; when the water is low, it only mutters.",
    "the harbour is small, with room for six boats and a crooked wooden pier. the "
    "sailor who keeps the harbour light climbs the tower every evening, and every "
    "evening he stops halfway to look at the sea.",
    "the teacher walks to school along the river path. she knows every stone on the "
    "way, and she can tell the season by the colour of the water: green in spring, "
    "gold in summer, grey in autumn and almost black in winter.",
    "nobody in the village owns a clock that agrees with any other clock. the bell "
    "of the mill is the only one people trust. when it rings, the baker opens the "
    "shop, the smith lights the forge, and the day begins.",
    "a storm came in from the sea one night in late autumn. the wind tore the sails "
    "from two boats and knocked the weathervane off the mill. in the morning the "
    "whole village came out with ropes and hammers, and by evening everything was "
    "mended.",
    "the forest is dark and quiet, and the paths in it are older than the village. "
    "foxes live under the roots of the tallest trees, and owls sleep in the hollow "
    "branches. people who go in for firewood always come out before dusk.",
    "the doctor lives in the house with the blue door. she keeps honey in a jar on "
    "the windowsill, for coughs, and a basket of lemons on the table, for colds. "
    "most of her patients leave with a spoonful of one or the other.",
    "on the longest day of the year the village holds a fair in the meadow. there "
    "are races for the children, a contest for the best pie, and music until the "
    "stars come out. the carpenter builds the stage every year and takes it down the "
    "next morning.",
    "the weaver's cottage is full of colour. red and yellow threads hang from the "
    "beams, and a half-finished blanket waits on the loom. the weaver says that a "
    "good blanket takes a whole winter, and a very good one takes two.",
    "when the fog rolls in from the harbour, the whole village goes quiet. sounds "
    "carry strangely: a dog barking by the river seems to be right outside the "
    "window, and the bell of the mill seems to ring from far away.",
]


class Deck:
    """Draw words without replacement, reshuffling when empty (even coverage)."""

    def __init__(self, words: list[str], rng: random.Random):
        self.words = list(words)
        self.rng = rng
        self.pile: list[str] = []

    def draw(self, avoid: str | None = None) -> str:
        for _ in range(10):
            if not self.pile:
                self.pile = list(self.words)
                self.rng.shuffle(self.pile)
            word = self.pile.pop()
            if word != avoid:
                return word
            self.pile.insert(0, word)
        return word


def plural(noun: str) -> str:
    return IRREGULAR_PLURALS.get(noun, noun + "s")


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def count_phrase(number: str, noun_phrase_words: list[str]) -> str:
    """'three red apples' / 'one red apple' (the last word is the noun)."""
    words = list(noun_phrase_words)
    if number != "one":
        words[-1] = plural(words[-1])
    return " ".join([number, *words])


class World:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.decks = {name: Deck(words, rng) for name, words in CATEGORIES.items()}
        # Separate decks for plural uses, so that every word's singular form
        # (the form listed in CATEGORIES) is drawn equally often.
        for name in ("animals", "fruits", "tools"):
            self.decks[name + "_pl"] = Deck(CATEGORIES[name], rng)

    def __getattr__(self, name: str) -> str:
        short = {
            "a": "animals",
            "c": "colours",
            "f": "fruits",
            "food": "foods",
            "t": "tools",
            "pl": "places",
            "w": "weather",
            "d": "days",
            "n": "numbers",
            "p": "people",
            "m": "motion",
            "e": "emotions",
            "ap": "animals_pl",
            "fp": "fruits_pl",
            "tp": "tools_pl",
        }
        if name in short:
            return self.decks[short[name]].draw()
        raise AttributeError(name)

    def other(self, category: str, avoid: str) -> str:
        return self.decks[category].draw(avoid=avoid)


def sentence(world: World) -> str:
    """One sentence from one of the templates below."""
    w = world
    rng = w.rng
    p = w.p
    p2 = w.other("people", p)
    templates = [
        lambda: f"on {w.d} the {p} {w.m} to the {w.pl} with {with_article(w.c + ' ' + w.a)}.",
        lambda: f"the {w.a} slept near the {w.pl} because it was {w.w}.",
        lambda: f"{count_phrase(w.n, [w.c, w.fp])} lay on the table.",
        lambda: f"the {p} bought {count_phrase(w.n, [w.fp])} and some {w.food} at the {w.pl}.",
        lambda: f"it was {w.w} on {w.d}, so the {p} stayed at home and felt {w.e}.",
        lambda: f"the {p} felt {w.e} when the {w.a} {w.m} across the {w.pl}.",
        lambda: f"{with_article(w.c + ' ' + w.a)} {w.m} past the {w.pl} on {with_article(w.w)} morning.",
        lambda: f"the {p} carried {with_article(w.t)} to the {w.pl}.",
        lambda: f"every {w.d} the {p} sells {w.food} and {plural(w.fp)} near the {w.pl}.",
        lambda: f"the {p} needed {with_article(w.t)}, so the {p2} lent one.",
        lambda: f"on {with_article(w.w)} day the {w.pl} is quiet and the {w.a} is {w.e}.",
        lambda: f"the {p} asked the {p2} for {count_phrase(w.n, [w.tp])}.",
        lambda: f"the {w.c} {w.t} hung by the door of the {p}'s house.",
        lambda: f'"i am {w.e} today," said the {p}.',
        lambda: f"the {p} and the {p2} {w.m} to the {w.pl} on {w.d}.",
        lambda: f"there were {count_phrase(w.n, [w.ap])} near the {w.pl}.",
        lambda: f"the {p} made {w.food} with {plural(w.fp)} and {w.food}.",
        lambda: f"when it is {w.w}, the {w.a} hides under the {w.c} cart.",
        lambda: f"the {p} painted the {w.t} {w.c}.",
        lambda: f"on {w.d} the weather was {w.w} and the {p} was {w.e}.",
        lambda: f"the {w.a} ate {with_article(w.f)} and a little {w.food}.",
        lambda: f"after the {w.w} night, the {p} {w.m} home with {with_article(w.t)}.",
        lambda: f"the {p} counted {count_phrase(w.n, [w.c, w.ap])} in the {w.pl}.",
        lambda: f"why was the {p} so {w.e}? because the {w.a} had eaten all the {w.food}.",
        lambda: f"the {p} {w.m} to the {w.pl}, but the {w.pl} was {w.w}.",
        lambda: f"the {p} likes {w.food}, the {p2} likes {w.food}, and the {w.a} likes {plural(w.fp)}.",
        lambda: f"the {p} lost {with_article(w.t)} in the {w.pl} and found it on {w.d}.",
        lambda: f"the {p} keeps {with_article(w.t)} and {with_article(w.f)} in the {w.c} cart.",
        lambda: f"the {p} traded {with_article(w.t)} for {with_article(w.f)} at the {w.pl}.",
        lambda: f"the {p} gave the {w.a} {with_article(w.f)}, and the {w.a} was {w.e}.",
        lambda: f'"{with_article(w.c + " " + w.f)} is the best thing at the {w.pl}," said the {p}.',
        lambda: f"the {p} would rather eat {with_article(w.f)} than {with_article(w.f)}.",
        lambda: f"on {w.d} the {w.a} and the {w.a} played by the {w.pl}.",
        lambda: f"the {w.a} sniffed at the {w.t} and then at the {w.f}.",
        lambda: f"{with_article(w.f)} fell from a tree near the {w.pl}, and the {w.a} ate it.",
        lambda: f"the {p} cut {with_article(w.f)} in half and shared it with the {p2}.",
        lambda: f"the {p} woke at {w.n} o'clock and ate {with_article(w.f)} with some {w.food}.",
        lambda: f"at {w.n} o'clock the {p} {w.m} to the {w.pl} with {with_article(w.c + ' ' + w.f)}.",
    ]
    return rng.choice(templates)()


def story(world: World) -> str:
    w = world
    rng = w.rng
    p, a, pl, c, d = w.p, w.a, w.pl, w.c, w.d
    p2 = w.other("people", p)
    pl2 = w.other("places", pl)
    f, n, t, fp = w.f, w.n, w.t, w.fp
    stories = [
        lambda: (
            f"on {d} the {p} woke early. it was {w.w}, and the {p} felt {w.e}. "
            f"the {p} took {with_article(w.t)} and {w.m} to the {pl}. "
            f"there the {p} met {with_article(c + ' ' + a)}. the {a} looked {w.e}, "
            f"so the {p} gave it {with_article(f)}. then the {p} and the {a} {w.m} home together."
        ),
        lambda: (
            f"the {p} had {with_article(c + ' ' + a)}. every {d} they {w.m} to the {pl} "
            f"to buy {w.food}. on {with_article(w.w)} {w.d}, the {a} slipped away into the {pl2}. "
            f"the {p} was {w.e} and searched until evening. at last the {a} came back, "
            f"carrying {with_article(f)} in its mouth."
        ),
        lambda: (
            f"in the {pl} there lived a {p} who made {w.food}. the {p} needed "
            f"{with_article(t)}, so the {p} {w.m} to the {pl2} to borrow one from the {p2}. "
            f'the {p2} said, "take my {c} {t}, and bring me {count_phrase(n, [fp])} tomorrow." '
            f"the next day the {p} came back with {count_phrase(n, [fp])}, and the {p2} was {w.e}."
        ),
        lambda: (
            f"the {p} and the {p2} {w.m} to the {pl} at dawn. the {p} brought {w.food} "
            f"and the {p2} brought {count_phrase(n, [fp])}. they saw {count_phrase(w.n, [c, a])} "
            f'near the water. "what {with_article(w.w)} morning," said the {p}. '
            f"the {p2} smiled and felt {w.e}."
        ),
        lambda: days_story(w, p, pl, pl2),
    ]
    return rng.choice(stories)()


def days_story(w: World, p: str, pl: str, pl2: str) -> str:
    days = CATEGORIES["days"]
    i = w.rng.randrange(len(days))
    d1, d2, d3 = days[i], days[(i + 1) % 7], days[(i + 2) % 7]
    weather = w.w
    return (
        f"it was {weather} all week. on {d1} the {plural(w.ap)} stayed in the {pl}. "
        f"on {d2} the {p} {w.m} to the {pl2} with {with_article(w.t)}. "
        f"by {d3} the weather turned {w.other('weather', weather)}, and everyone felt {w.e}."
    )


def week(world: World) -> str:
    w = world
    p = w.p
    actions = [
        lambda: f"{w.m} to the {w.pl}",
        lambda: f"bought {count_phrase(w.n, [w.fp])}",
        lambda: f"mended {with_article(w.t)}",
        lambda: f"fed the {w.a}",
        lambda: f"made {w.food}",
        lambda: f"felt {w.e} because it was {w.w}",
        lambda: f"painted the {w.t} {w.c}",
        lambda: f"ate {with_article(w.f)} at {w.n} o'clock",
    ]
    parts = [f"this is the week of the {p}."]
    for day in CATEGORIES["days"]:
        parts.append(f"on {day} the {p} {w.rng.choice(actions)()}.")
    return " ".join(parts)


def counting(world: World) -> str:
    w = world
    numbers = CATEGORIES["numbers"]
    k = w.rng.randrange(2, len(numbers))  # index of the last number said
    kind = w.rng.choice(["fruits", "animals", "tools"])
    noun = w.decks[kind + "_pl"].draw()
    colour = w.c
    listed = ", ".join(numbers[: k + 1])
    return (
        f"the {w.p} counted the {plural(noun)}: {listed}. {count_phrase(numbers[k], [colour, noun])} in all."
    )


def make_corpus(rng: random.Random) -> tuple[str, dict[str, list[str]]]:
    world = World(rng)
    paragraphs: list[str] = []
    size = sum(len(h) + 2 for h in HANDWRITTEN)
    while size < CORPUS_TARGET_CHARS:
        r = rng.random()
        if r < 0.5:
            para = " ".join(sentence(world) for _ in range(rng.randint(2, 4)))
        elif r < 0.8:
            para = story(world)
        elif r < 0.9:
            para = week(world)
        else:
            para = counting(world)
        paragraphs.append(para)
        size += len(para) + 2
    for hand in HANDWRITTEN:
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), hand)
    text = "\n\n".join(paragraphs) + "\n"

    counts = Counter(re.findall(r"[a-z]+", text))
    low = {w: counts[w] for ws in CATEGORIES.values() for w in ws if counts[w] < MIN_CORPUS_COUNT}
    if low:
        raise RuntimeError(f"category words too rare in the corpus: {low}")
    return text, {k: list(v) for k, v in CATEGORIES.items()}


# ---------------------------------------------------------------------------
# Part 2: the sentiment dataset
# ---------------------------------------------------------------------------

SPLIT_SIZES = {"train": 2000, "validation": 400, "test": 400}
# Fraction of each split per pattern (each pattern is itself label-balanced).
PATTERN_MIX = {"simple": 0.35, "negation": 0.30, "contrast": 0.35}

ASPECTS = [
    "acting",
    "plot",
    "script",
    "soundtrack",
    "pacing",
    "cinematography",
    "dialogue",
    "ending",
    "characters",
    "effects",
    "direction",
    "cast",
]
PLURAL_ASPECTS = {"characters", "effects"}
FILMS = ["film", "movie"]
POSITIVE = [
    "good",
    "great",
    "wonderful",
    "brilliant",
    "excellent",
    "superb",
    "charming",
    "clever",
    "moving",
    "gripping",
    "beautiful",
    "delightful",
    "engaging",
    "stunning",
]
NEGATIVE = [
    "bad",
    "dull",
    "boring",
    "awful",
    "terrible",
    "weak",
    "clumsy",
    "lifeless",
    "tedious",
    "bland",
    "messy",
    "forgettable",
    "predictable",
    "dreadful",
]
INTENSIFIERS = ["really", "quite", "absolutely", "very", "rather", "truly", "fairly", "somewhat"]
OPENERS = ["honestly, ", "to be fair, ", "in my opinion, ", "overall, ", "frankly, ", "i think "]
LOVE = {1: ["loved", "adored", "enjoyed"], 0: ["hated", "disliked", "regretted"]}

# Words that mark each pattern (used by the tests and the data card to
# recover a review's pattern from its text alone).
NEGATION_WORDS = {"not", "never", "nobody", "wasn't", "weren't", "didn't", "isn't"}
CONTRAST_WORDS = {"but", "although", "though", "however", "despite", "yet", "while"}


def pattern_of(text: str) -> str:
    tokens = set(re.findall(r"[a-z']+", text))
    if tokens & CONTRAST_WORDS:
        return "contrast"
    if tokens & NEGATION_WORDS:
        return "negation"
    return "simple"


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


def make_sentiment(rng: random.Random) -> dict[str, list[dict]]:
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
                    rows += [{"text": neg, "label": label}, {"text": plain, "label": 1 - label}]
                    break
                if i >= n_pairs and fresh(neg):
                    rows.append({"text": neg, "label": label})
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
                    rows.append({"text": text, "label": label})
                    break
        # Contrast: mirrored pairs (same words, opposite labels).
        for i in range(n_con // 2):
            label = i % 2
            while True:
                text, mirror = rev.contrast(label)
                if fresh(text, mirror):
                    rows += [{"text": text, "label": label}, {"text": mirror, "label": 1 - label}]
                    break
        rng.shuffle(rows)
        splits[split] = rows
    return splits


def sentiment_card(splits: dict[str, list[dict]]) -> str:
    lines = [
        "# Synthetic movie-review sentiment (course dataset)",
        "",
        "A tiny sentiment dataset written for the course *Transformers with PyTorch",
        "Lightning in six weeks*. It uses the IMDB schema so that notebooks can swap",
        "it for `imdb` with no code changes.",
        "",
        "## How it was made",
        "",
        "Generated by `tools/make_data.py` (pure Python, `random.Random(0)`,",
        "deterministic: re-running it gives byte-identical files) from hand-written",
        "templates, 12 aspects (acting, plot, script, ...), 14 positive and 14",
        "negative adjectives, intensifiers/hedges (really, quite, absolutely, ...)",
        "and neutral openers (honestly, to be fair, ...). No real reviews were used.",
        "",
        "## Schema",
        "",
        "`{train,validation,test}.jsonl`, one JSON object per line:",
        "",
        "```json",
        '{"text": "the plot was dull, but the cast was great.", "label": 1}',
        "```",
        "",
        "`label`: 0 = negative, 1 = positive (IMDB's convention).",
        "",
        "Load with:",
        "",
        "```python",
        "from datasets import load_dataset",
        'files = {s: f"shared/assets/sentiment/{s}.jsonl" for s in ("train", "validation", "test")}',
        'ds = load_dataset("json", data_files=files)',
        "```",
        "",
        "## Sizes, balance and pattern mix",
        "",
        "| split | rows | negative | positive | simple | negation | contrast |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rows in splits.items():
        labels = Counter(r["label"] for r in rows)
        pats = Counter(pattern_of(r["text"]) for r in rows)
        lines.append(
            f"| {name} | {len(rows)} | {labels[0]} | {labels[1]} | {pats['simple']} "
            f"| {pats['negation']} | {pats['contrast']} |"
        )
    lines += [
        "",
        "Each split is exactly label-balanced, shuffled, free of duplicates, and no",
        "text appears in two splits. Within a split, contrast is label-balanced;",
        'negation is 2:1 negative, because (as in real reviews) negated praise ("not',
        'good") is more common than negated criticism ("not bad"); simple reviews are',
        "skewed positive to restore the overall balance.",
        "",
        "## Patterns (why word order matters)",
        "",
        "* **simple** -- the adjective's polarity is the label:",
        '  "the acting was wonderful." (1), "a dull, lifeless plot." (0).',
        '* **negation** -- a negated adjective: "the soundtrack was not bad." (1),',
        '  "the ending was not good at all." (0). Half of the negated reviews are',
        "  paired, in the same split, with a plain review that uses the same adjective",
        '  and has the opposite label ("the soundtrack was bad." (0)); every adjective',
        "  also appears plain with its own polarity.",
        "* **contrast** -- two clauses of opposite polarity; the main clause decides",
        '  (after "but"/"however"/"yet", the clause that is not introduced by',
        '  "although"/"even though"/"while"/"despite"). Contrast reviews come in',
        '  mirrored pairs with the same words and opposite labels: "great cast, but',
        '  the plot was dull." (0) / "dull plot, but the cast was great." (1).',
        "",
        "A review's pattern can be recovered from its text: it is *contrast* if it",
        "contains one of but/although/though/however/despite/yet/while, else",
        "*negation* if it contains not/never/nobody/wasn't/weren't/didn't/isn't,",
        "else *simple*.",
        "",
        "Because negation and contrast flip the meaning of the same words, a",
        "bag-of-words classifier cannot do well here: a bag-of-words logistic",
        "regression trained on `train` reaches about 65% test accuracy (about 80% on",
        "simple, 64% on negation, 52% on contrast; trained on simple reviews alone it",
        "gets 100% of them), while a 2-layer transformer trained from scratch on a CPU",
        "passes 85% within a few epochs.",
        "",
        "## Intended use and limits",
        "",
        "For teaching: fast experiments on a CPU, comparing bag-of-words models with",
        "sequence models, and showing what attention picks up. The text is synthetic",
        "and template-based, with a small vocabulary and no sarcasm, spelling errors,",
        "long reviews or real opinions. It is not representative of real reviews;",
        "do not use it to evaluate or claim anything about real-world sentiment",
        "analysis.",
        "",
        "## Licence",
        "",
        "CC-BY-4.0, as part of the course materials.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def generate(out: Path) -> list[Path]:
    rng = random.Random(SEED)
    corpus, categories = make_corpus(rng)
    splits = make_sentiment(rng)

    written = []
    out = Path(out)
    write_text(out / "corpus.txt", corpus)
    write_text(out / "corpus_categories.json", json.dumps(categories, indent=2) + "\n")
    written += [out / "corpus.txt", out / "corpus_categories.json"]
    for name, rows in splits.items():
        path = out / "sentiment" / f"{name}.jsonl"
        write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        written.append(path)
    write_text(out / "sentiment" / "README.md", sentiment_card(splits))
    written.append(out / "sentiment" / "README.md")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args()
    for path in generate(args.out):
        print(f"{path}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
