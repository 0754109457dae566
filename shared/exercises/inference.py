"""Checked exercises of lesson 11 (inference): labels with probabilities for a batch of logits, and a batch of
token ids truncated, framed and padded with its attention mask, as a tokenizer returns it."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def labels_with_probabilities(logits, id2label):
    """[(label, probability of that label), ...], one pair per row of ``logits`` (B, C); names from ``id2label``."""
    probs = logits.softmax(dim=-1)
    best = probs.argmax(dim=-1)
    return [(id2label[int(i)], float(probs[row, i])) for row, i in enumerate(best)]


def _prediction_cases():
    g = torch.Generator().manual_seed(0)
    logits = [1.5 * torch.randn(n, 2, generator=g, dtype=torch.float64) for n in (5, 1, 4)]
    names = [{0: "neg", 1: "pos"}, {0: "NEGATIVE", 1: "POSITIVE"}, {0: "pos", 1: "neg"}]
    return list(zip(logits, names, strict=True))


def _softmax_over_batch(logits, id2label):
    probs = logits.softmax(dim=0)
    best = probs.argmax(dim=-1)
    return [(id2label[int(i)], float(probs[row, i])) for row, i in enumerate(best)]


def _score_is_logit(logits, id2label):
    best = logits.argmax(dim=-1)
    return [(id2label[int(i)], float(logits[row, i])) for row, i in enumerate(best)]


def _hard_coded_names(logits, id2label):
    probs = logits.softmax(dim=-1)
    best = probs.argmax(dim=-1)
    return [(("neg", "pos")[int(i)], float(probs[row, i])) for row, i in enumerate(best)]


def _probability_of_positive(logits, id2label):
    probs = logits.softmax(dim=-1)
    best = probs.argmax(dim=-1)
    return [(id2label[int(i)], float(probs[row, 1])) for row, i in enumerate(best)]


def encode_batch(token_ids, max_length, cls_id, sep_id, pad_id):
    """``(input_ids, attention_mask)``, int64 tensors (B, L): each text's ids truncated so that, framed as
    [CLS] ids [SEP], it fits ``max_length``; padded on the right to the longest framed text; mask 1 on real tokens."""
    rows = [[cls_id, *ids[: max_length - 2], sep_id] for ids in token_ids]
    longest = max(len(r) for r in rows)
    input_ids = torch.tensor([r + [pad_id] * (longest - len(r)) for r in rows])
    attention_mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in rows])
    return input_ids, attention_mask


def _encode_cases():
    g = torch.Generator().manual_seed(0)

    def text(n):
        return tuple(int(t) for t in torch.randint(1000, 3000, (n,), generator=g))

    return [
        ((text(3), text(9), text(5)), 8, 101, 102, 0),
        ((text(2), text(4)), 16, 101, 102, 0),
        ((text(12),), 10, 2, 3, 1),
    ]


def _specials_not_counted(token_ids, max_length, cls_id, sep_id, pad_id):
    return encode_batch(token_ids, max_length + 2, cls_id, sep_id, pad_id)


def _keeps_the_end(token_ids, max_length, cls_id, sep_id, pad_id):
    keep = max_length - 2
    ends = [ids[-keep:] if len(ids) > keep else ids for ids in token_ids]
    return encode_batch(ends, max_length, cls_id, sep_id, pad_id)


def _mask_inverted(token_ids, max_length, cls_id, sep_id, pad_id):
    input_ids, attention_mask = encode_batch(token_ids, max_length, cls_id, sep_id, pad_id)
    return input_ids, 1 - attention_mask


def _padded_to_max_length(token_ids, max_length, cls_id, sep_id, pad_id):
    rows = [[cls_id, *ids[: max_length - 2], sep_id] for ids in token_ids]
    input_ids = torch.tensor([r + [pad_id] * (max_length - len(r)) for r in rows])
    attention_mask = torch.tensor([[1] * len(r) + [0] * (max_length - len(r)) for r in rows])
    return input_ids, attention_mask


EXERCISES = [
    Exercise(
        key="q1",
        title="labels with probabilities for a batch",
        reference=labels_with_probabilities,
        cases=_prediction_cases,
        verified="your pairs name each row's most probable class through id2label and give its softmax "
        "probability, on 3 random float64 batches (one of a single review, one whose id2label lists 'pos' first)",
        hints=[
            "softmax over the classes (the last axis) turns each row of logits into probabilities that sum to 1. "
            "The label is the class with the largest probability, named by id2label, not by a list you type.",
            "probs = logits.softmax(dim=-1); best = probs.argmax(dim=-1); then for each row: "
            "(id2label[int(best[row])], float(probs[row, best[row]])).",
        ],
        mistakes=[
            Mistake(
                "softmax_over_batch",
                _softmax_over_batch,
                "the softmax runs over the batch (dim=0): each class's probabilities sum to 1 across the reviews, "
                "so a review's probability depends on the others in its batch (a batch of one gets 1.0). Softmax "
                "over the classes: dim=-1.",
            ),
            Mistake(
                "score_is_a_logit",
                _score_is_logit,
                "the score is the largest logit, not a probability: logits are unbounded scores. Apply softmax "
                "over the classes and report the probability of the chosen class.",
            ),
            Mistake(
                "hard_coded_names",
                _hard_coded_names,
                "the names come from a list typed by hand, ('neg', 'pos'), not from id2label: a model whose "
                "config orders or spells its classes differently gets the wrong names. Use id2label[index].",
            ),
            Mistake(
                "probability_of_positive",
                _probability_of_positive,
                "the score is always the probability of class 1, whatever the label: for a review predicted as "
                "class 0 it is below 0.5. Report the probability of the predicted class.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="truncate, frame and pad a batch",
        reference=encode_batch,
        cases=_encode_cases,
        verified="your input_ids and attention_mask equal the tokenizer's layout ([CLS] ids [SEP], truncated to "
        "max_length, right-padded to the longest, mask 1 on real tokens) on 3 batches, two of them with texts "
        "too long",
        hints=[
            "Each row is [cls_id] + ids + [sep_id], and the two special tokens count towards max_length: keep at "
            "most max_length - 2 ids, from the beginning of the text.",
            "Pad every row on the right with pad_id up to the longest row of this batch (not to max_length); "
            "attention_mask is 1 for each real token (special tokens included) and 0 for each pad. Build both "
            "with torch.tensor(list of lists): int64.",
        ],
        mistakes=[
            Mistake(
                "specials_not_counted",
                _specials_not_counted,
                "rows are up to max_length + 2 tokens long: the text was truncated to max_length before [CLS] and "
                "[SEP] were added. The special tokens count: keep max_length - 2 ids.",
            ),
            Mistake(
                "keeps_the_end",
                _keeps_the_end,
                "truncation kept the end of the text. The tokenizer (truncation=True, right side) keeps the "
                "beginning: ids[: max_length - 2].",
            ),
            Mistake(
                "mask_inverted",
                _mask_inverted,
                "the attention mask is inverted: 1 must mark the real tokens (the model attends to them) and 0 "
                "the padding.",
            ),
            Mistake(
                "padded_to_max_length",
                _padded_to_max_length,
                "every row is padded to max_length. padding=True pads to the longest row of the batch, which "
                "saves the work on pads when all texts are short.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
