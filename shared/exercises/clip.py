"""Checked exercises of lesson 19 (CLIP): symmetric InfoNCE on a batch of embeddings, and retrieval recall@1 when
several items share a caption."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, namespaces


def symmetric_info_nce(image_embeddings, text_embeddings, temperature):
    """Unit-length (n, d) image and text embeddings, image i matching text i: logits = similarities / temperature,
    the mean of the cross-entropy over rows (images pick texts) and over columns (texts pick images)."""
    logits = image_embeddings @ text_embeddings.t() / temperature
    target = torch.arange(len(logits))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


def _nce_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for n, d, temperature in ((6, 8, 0.07), (4, 5, 0.5)):
        images = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)
        texts = F.normalize(images + 0.8 * torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)
        cases.append((images, texts, temperature))
    return cases


def recall_at_1(similarity, image_ids, text_ids):
    """``(image→text, text→image)`` recall@1 for a (n_images, n_texts) similarity matrix; ``image_ids[i]`` and
    ``text_ids[j]`` name each item's caption, and retrieving any item with the right caption is a hit."""
    i2t = (text_ids[similarity.argmax(dim=1)] == image_ids).float().mean()
    t2i = (image_ids[similarity.argmax(dim=0)] == text_ids).float().mean()
    return i2t, t2i


def _recall_cases():
    g = torch.Generator().manual_seed(1)
    cases = []
    for n_images, n_texts, n_captions in ((10, 4, 4), (12, 6, 5)):
        image_ids = torch.randint(n_captions, (n_images,), generator=g)
        text_ids = torch.randperm(n_texts, generator=g) % n_captions  # captions repeat among the texts
        similarity = torch.randn(n_images, n_texts, generator=g, dtype=torch.float64)
        similarity += 1.5 * (image_ids.unsqueeze(1) == text_ids.unsqueeze(0))
        cases.append((similarity, image_ids, text_ids))
    return cases


def _index_recall(similarity, image_ids, text_ids):
    n = min(similarity.shape)
    i2t = (similarity.argmax(dim=1)[:n] == torch.arange(n)).float().mean()
    t2i = (similarity.argmax(dim=0)[:n] == torch.arange(n)).float().mean()
    return i2t, t2i


def _wrong_axis_recall(similarity, image_ids, text_ids):
    i2t = (image_ids[similarity.argmax(dim=0)] == text_ids).float().mean()
    t2i = (text_ids[similarity.argmax(dim=1)] == image_ids).float().mean()
    return i2t, t2i


EXERCISES = [
    Exercise(
        key="q1",
        title="symmetric InfoNCE",
        reference=symmetric_info_nce,
        cases=_nce_cases,
        verified="on two random batches (temperatures 0.07 and 0.5) your loss equals the mean of the image→text and "
        "text→image cross-entropies of the similarities divided by the temperature",
        hints=[
            "logits = image_embeddings @ text_embeddings.T / temperature: row i scores image i against every text, "
            "and the right text is on the diagonal, so the target of row i is i: torch.arange(n).",
            "Both directions: F.cross_entropy(logits, target) for the images, F.cross_entropy(logits.T, target) for "
            "the texts, and their mean.",
        ],
        mistakes=[
            Mistake(
                "one_direction",
                lambda im, tx, t: F.cross_entropy(im @ tx.t() / t, torch.arange(len(im))),
                "only the images pick their texts (rows). Symmetric InfoNCE also makes each text pick its image: "
                "add the cross-entropy of logits.T and take the mean of the two.",
            ),
            Mistake(
                "temperature_multiplied",
                lambda im, tx, t: symmetric_info_nce(im, tx, 1 / t),
                "the similarities are multiplied by the temperature. Dividing by a small temperature (0.07) "
                "sharpens the softmax; multiplying flattens it, and every caption looks alike.",
            ),
            Mistake(
                "labels_not_diagonal",
                lambda im, tx, t: (
                    (
                        F.cross_entropy(im @ tx.t() / t, torch.zeros(len(im), dtype=torch.long))
                        + F.cross_entropy((im @ tx.t() / t).t(), torch.zeros(len(im), dtype=torch.long))
                    )
                    / 2
                ),
                "the targets are not the diagonal: image i's caption is text i, so the labels are "
                "torch.arange(n), not a constant class.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="recall@1 with repeated captions",
        reference=recall_at_1,
        cases=_recall_cases,
        verified="on two similarity matrices with repeated captions, both directions count a hit when the retrieved "
        "item has the right caption",
        hints=[
            "image→text: for each image (row) the most similar text is similarity.argmax(dim=1); it is a hit when "
            "that text's caption id equals the image's: text_ids[best] == image_ids.",
            "text→image: the most similar image of each text (column) is similarity.argmax(dim=0); compare "
            "image_ids[best] with text_ids. Return the two means.",
        ],
        mistakes=[
            Mistake(
                "by_index",
                _index_recall,
                "you count a hit only when the retrieved item has the same index (argmax == i). Several items share "
                "a caption here, and images and texts are not in matching order: compare caption ids.",
            ),
            Mistake(
                "axes_swapped",
                _wrong_axis_recall,
                "the directions are swapped: image→text takes, for each image (a row), the best text: "
                "argmax over dim=1.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
