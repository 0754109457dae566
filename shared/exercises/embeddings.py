"""Checked exercises of lesson 05 (word embeddings): the skip-gram (center, context) pairs and cosine nearest
neighbors."""

from __future__ import annotations

import collections

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, namespaces


def skipgram_pairs(paragraphs, window):
    """Every (center, context) pair of word ids: context words at most ``window`` positions from the center, in the
    same paragraph, the center itself excluded."""
    pairs = []
    for ids in paragraphs:
        for i, center in enumerate(ids):
            for j in range(max(0, i - window), min(len(ids), i + window + 1)):
                if j != i:
                    pairs.append((center, ids[j]))
    return pairs


def _pair_cases():
    g = torch.Generator().manual_seed(0)

    def paragraph(n):  # a few ids only, so that words repeat within a paragraph
        return torch.randint(6, (n,), generator=g).tolist()

    return [
        ([paragraph(7), paragraph(5)], 2),
        ([paragraph(9), paragraph(2), paragraph(6)], 1),
        ([paragraph(12), paragraph(4)], 3),
    ]


def _as_pairs(value):
    """A list of (center, context) pairs as a Counter of int tuples, or None when it is not one."""
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        return None
    found = collections.Counter()
    for pair in value:
        if isinstance(pair, torch.Tensor):
            pair = pair.tolist()
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return None
        try:
            found[(int(pair[0]), int(pair[1]))] += 1
        except (TypeError, ValueError):
            return None
    return found


def compare_pairs(got, expected) -> str | None:
    """None when ``got`` holds the same pairs as ``expected``, in any order; otherwise what is missing or extra."""
    mine, want = _as_pairs(got), _as_pairs(expected)
    if mine is None:
        return f"expected a list of (center, context) pairs of ints; got {type(got).__name__} {str(got)[:60]!r}"
    if mine == want:
        return None
    missing, extra = want - mine, mine - want
    parts = [f"{len(want)} pairs expected, {sum(mine.values())} returned"]
    if missing:
        parts.append(f"missing e.g. {next(iter(missing))}")
    if extra:
        parts.append(f"not expected e.g. {next(iter(extra))}")
    return "; ".join(parts)


def _with_itself(paragraphs, window):
    return [
        (c, ids[j])
        for ids in paragraphs
        for i, c in enumerate(ids)
        for j in range(max(0, i - window), min(len(ids), i + window + 1))
    ]


def _window_short(paragraphs, window):
    return [
        (c, ids[j])
        for ids in paragraphs
        for i, c in enumerate(ids)
        for j in range(max(0, i - window), min(len(ids), i + window))
        if j != i
    ]


def _across_paragraphs(paragraphs, window):
    return skipgram_pairs([[w for ids in paragraphs for w in ids]], window)


def _same_word_skipped(paragraphs, window):
    return [(c, o) for c, o in skipgram_pairs(paragraphs, window) if o != c]


def _negative_wraps(paragraphs, window):
    return [
        (c, ids[j])
        for ids in paragraphs
        for i, c in enumerate(ids)
        for j in range(i - window, min(len(ids), i + window + 1))
        if j != i
    ]


def cosine_neighbors(vectors, k):
    """(N, k) indices: for each row of ``vectors`` (N, d), the k other rows of highest cosine similarity, most similar
    first."""
    v = F.normalize(vectors, dim=-1)
    sim = v @ v.T
    sim.fill_diagonal_(float("-inf"))  # a word is not its own neighbor
    return sim.topk(k, dim=-1).indices


def _neighbor_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for n, d, k in ((12, 6, 3), (30, 8, 5), (9, 4, 1)):
        lengths = torch.exp(1.5 * torch.randn(n, 1, generator=g))  # lengths vary, as word frequencies make them
        cases.append((torch.randn(n, d, generator=g, dtype=torch.float64) * lengths, k))
    return cases


def _dot_product(vectors, k):
    sim = vectors @ vectors.T
    sim.fill_diagonal_(float("-inf"))
    return sim.topk(k, dim=-1).indices


def _itself_included(vectors, k):
    v = F.normalize(vectors, dim=-1)
    return (v @ v.T).topk(k, dim=-1).indices


def _normalized_columns(vectors, k):
    v = F.normalize(vectors, dim=0)
    sim = v @ v.T
    sim.fill_diagonal_(float("-inf"))
    return sim.topk(k, dim=-1).indices


def _euclidean(vectors, k):
    dist = torch.cdist(vectors, vectors)
    dist.fill_diagonal_(float("inf"))
    return dist.topk(k, dim=-1, largest=False).indices


EXERCISES = [
    Exercise(
        key="q1",
        title="the skip-gram pairs",
        reference=skipgram_pairs,
        cases=_pair_cases,
        compare=compare_pairs,
        verified="the (center, context) pairs of 3 sets of paragraphs, windows 1 to 3, with repeated words, short "
        "paragraphs and paragraph ends, are exactly the expected ones",
        hints=[
            "Loop over the paragraphs, then over the positions i of a paragraph. The context positions j run from "
            "i - window to i + window inclusive, clipped to the paragraph: range(max(0, i - window), "
            "min(len(ids), i + window + 1)).",
            "Skip j == i (the center is not its own context), but keep a context word that happens to be the same "
            "word as the center at another position. Append (ids[i], ids[j]).",
        ],
        mistakes=[
            Mistake(
                "center_included",
                _with_itself,
                "every center is paired with itself (j == i is not skipped). Predicting the center from the "
                "center is trivial and teaches nothing about its company: skip j == i.",
            ),
            Mistake(
                "window_short",
                _window_short,
                "the window stops one word short on the right: range(i - window, i + window) leaves out i + window. "
                "Python ranges exclude their end, so write i + window + 1.",
            ),
            Mistake(
                "across_paragraphs",
                _across_paragraphs,
                "pairs cross paragraph boundaries: the last words of one paragraph become context for the first "
                "words of the next, which they never stood beside. Build the pairs inside each paragraph.",
            ),
            Mistake(
                "same_word_skipped",
                _same_word_skipped,
                "a context word equal to the center word is skipped (the test compares ids, not positions). "
                "'very very' is a real pair: skip the position j == i, not the word.",
            ),
            Mistake(
                "negative_index",
                _negative_wraps,
                "near the start of a paragraph j goes below 0, and ids[-1] is the paragraph's last word: "
                "Python's negative indexing wraps around silently. Start the range at max(0, i - window).",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="cosine nearest neighbors",
        reference=cosine_neighbors,
        cases=_neighbor_cases,
        verified="the neighbors of 3 random float64 tables whose row lengths differ a lot, k = 1, 3 and 5, equal "
        "the k rows of highest cosine similarity, most similar first, each row's own index left out",
        hints=[
            "Cosine similarity is the dot product of unit vectors: v = F.normalize(vectors, dim=-1) divides each "
            "row by its length; then v @ v.T holds every pair's similarity.",
            "A row is most similar to itself (similarity 1): set the diagonal to -inf with sim.fill_diagonal_(...) "
            "before sim.topk(k, dim=-1).indices, which lists the largest first.",
        ],
        mistakes=[
            Mistake(
                "not_normalized",
                _dot_product,
                "the rows are not normalized, so this ranks by dot product: a long vector (a frequent word) "
                "becomes everyone's neighbor. Divide each row by its length first: F.normalize(vectors, dim=-1).",
            ),
            Mistake(
                "itself_included",
                _itself_included,
                "each word is its own first neighbor (its similarity with itself is 1). Fill the diagonal with -inf "
                "before the top-k.",
            ),
            Mistake(
                "normalized_wrong_axis",
                _normalized_columns,
                "the normalization runs over the words (dim=0), not over each vector's entries: the rows still "
                "have different lengths. Use dim=-1.",
            ),
            Mistake(
                "euclidean",
                _euclidean,
                "this ranks by Euclidean distance, which mixes length with direction: two words with the same "
                "direction but different frequencies end up far apart. Compare the angle: cosine similarity.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
