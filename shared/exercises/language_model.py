"""Checked exercises of lesson 04 (first text generation): the next-token loss of a padded batch, and perplexity."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, namespaces

IGNORE = -100  # the label that cross_entropy (and Hugging Face's models) skip


def next_token_loss(logits, input_ids, attention_mask):
    """Mean cross-entropy of predicting token t+1 from position t, over the real (unpadded) targets only.
    logits (B, L, V); input_ids and attention_mask (B, L), 1 = real token, 0 = padding."""
    targets = input_ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, IGNORE)
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def _not_shifted(logits, input_ids, attention_mask):
    targets = input_ids.masked_fill(attention_mask == 0, IGNORE)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def _padding_counted(logits, input_ids, attention_mask):
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), input_ids[:, 1:].flatten())


def _mask_not_shifted(logits, input_ids, attention_mask):
    targets = input_ids[:, 1:].masked_fill(attention_mask[:, :-1] == 0, IGNORE)
    return F.cross_entropy(logits[:, :-1].flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def _mean_of_rows(logits, input_ids, attention_mask):
    targets = input_ids[:, 1:].masked_fill(attention_mask[:, 1:] == 0, IGNORE)
    rows = [F.cross_entropy(lg[:-1], t, ignore_index=IGNORE) for lg, t in zip(logits, targets, strict=True)]
    return torch.stack(rows).mean()


def _loss_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for batch, length, vocab, lengths in ((2, 6, 11, (6, 4)), (3, 5, 7, (5, 3, 2))):
        logits = torch.randn(batch, length, vocab, generator=g, dtype=torch.float64) * 2
        ids = torch.randint(0, vocab, (batch, length), generator=g)
        mask = (torch.arange(length) < torch.tensor(lengths)[:, None]).long()  # right padding
        cases.append((logits, ids.masked_fill(mask == 0, 0), mask))  # pad id 0, as a tokenizer fills it
    return cases


def perplexity(token_losses):
    """exp(mean loss): the perplexity of a model whose per-token losses (in nats) are ``token_losses``."""
    return math.exp(float(token_losses.mean()))


def _perplexity_cases():
    g = torch.Generator().manual_seed(1)
    return [(torch.rand(n, generator=g, dtype=torch.float64) * 4,) for n in (5, 12, 40)]


EXERCISES = [
    Exercise(
        key="q1",
        title="the next-token loss of a padded batch",
        reference=next_token_loss,
        cases=_loss_cases,
        verified="the loss equals cross-entropy of each position against the next token, averaged over the real "
        "targets only, on 2 right-padded float64 batches",
        hints=[
            "Position t predicts token t+1: drop the last position of the logits (logits[:, :-1]) and the first "
            "token of the targets (input_ids[:, 1:]). Then flatten both for F.cross_entropy.",
            "A target is padding where attention_mask[:, 1:] is 0 (the mask follows the targets, so it is shifted "
            "too). Set those targets to -100 and pass ignore_index=-100: the mean runs over real targets only.",
        ],
        mistakes=[
            Mistake(
                "not_shifted",
                _not_shifted,
                "the labels are not shifted: each position is scored on its own input token, "
                "which it can simply copy. Position t must predict token t+1: logits[:, :-1] against input_ids[:, 1:].",
            ),
            Mistake(
                "padding_counted",
                _padding_counted,
                "the padding targets are counted: the model is scored on predicting the "
                "pad token after the end of each text. Set targets where attention_mask[:, 1:] == 0 to -100 and pass "
                "ignore_index=-100.",
            ),
            Mistake(
                "mask_not_shifted",
                _mask_not_shifted,
                "the mask is not shifted with the targets: attention_mask[:, :-1] "
                "marks the inputs, so each text's first padding target is counted. Target t+1 is real where "
                "attention_mask[:, 1:] is 1.",
            ),
            Mistake(
                "mean_of_rows",
                _mean_of_rows,
                "the loss is averaged per text and then over the batch, so a short text's "
                "tokens weigh more than a long text's. The loss is the mean over all real target tokens of the "
                "batch, as one cross_entropy over the flattened batch gives.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="perplexity from the loss",
        reference=perplexity,
        cases=_perplexity_cases,
        verified="exp of the mean loss in nats, on 3 sets of per-token losses",
        hints=[
            "The loss the model reports is a mean over tokens, in nats (natural logarithms). Perplexity undoes "
            "the logarithm of that mean.",
            "math.exp(token_losses.mean().item()): a mean, then exp, in base e.",
        ],
        mistakes=[
            Mistake(
                "exp_of_sum",
                lambda losses: math.exp(float(losses.sum())),
                "that is exp of the summed loss: the perplexity of "
                "the whole text as one event, which grows with its length. Perplexity is per token: exp of the mean.",
            ),
            Mistake(
                "base_two",
                lambda losses: 2 ** float(losses.mean()),
                "2 ** loss treats the loss as bits. PyTorch's cross-entropy "
                "uses natural logarithms (nats), so perplexity is e ** loss.",
            ),
            Mistake(
                "mean_of_exp",
                lambda losses: float(losses.exp().mean()),
                "that is the mean of each token's exp(loss): the rare "
                "tokens with a large loss dominate it, and it is always at least exp(mean). Average the losses first, "
                "then take exp.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
