"""The language-model corpus: a small English text about a village "world" (``corpus.txt``), built from templates
over the category words so that each word occurs often enough to learn, plus hand-written paragraphs."""

from __future__ import annotations

import random
import re
from collections import Counter

from tools.data.words import CATEGORIES, HANDWRITTEN, IRREGULAR_PLURALS

MIN_CORPUS_COUNT = 30
CORPUS_TARGET_CHARS = 110_000


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
    return f"the {w.p} counted the {plural(noun)}: {listed}. {count_phrase(numbers[k], [colour, noun])} in all."


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
