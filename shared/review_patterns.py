"""The rule that names a course review's pattern (the sentiment data card's rule), in one place: the data generator
(``python -m tools.data``) builds reviews to it and ``shared.data.pattern_of`` reads it back. Standard library only."""

from __future__ import annotations

import re

PATTERNS = ("simple", "negation", "contrast")
CONTRAST_WORDS = ("but", "although", "though", "however", "despite", "yet", "while")
NEGATION_WORDS = ("not", "never", "nobody", "wasn't", "weren't", "didn't", "isn't")
_WORD = re.compile(r"[a-z']+")


def pattern_of(text: str) -> str:
    """``contrast`` if the review has a contrast word, else ``negation`` if it has a negation word, else ``simple``."""
    if not isinstance(text, str):
        raise ValueError(f"expected a review as a string; got {type(text).__name__}")
    words = set(_WORD.findall(text.lower()))
    if words.intersection(CONTRAST_WORDS):
        return "contrast"
    return "negation" if words.intersection(NEGATION_WORDS) else "simple"
