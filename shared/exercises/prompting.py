"""Checked exercises of lesson 15 (prompt engineering): the messages of a few-shot chat prompt, and label-word
scores read from the next-token logits."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces


def chat_messages(user, system=None, examples=()):
    """The conversation a chat template turns into a prompt: an optional system turn, each (question, answer)
    example as a user turn and an assistant turn, then the user's message."""
    messages = [] if system is None else [{"role": "system", "content": system}]
    for question, answer in examples:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": user}]


SHOTS = (("Review: a dull plot.", "negative"), ("Review: a moving film.", "positive"))


def _message_cases():
    return [
        ("Review: great fun.",),
        ("Review: great fun.", "You label movie reviews.", SHOTS),
        ("Review: too long.", None, SHOTS[:1]),
    ]


def _examples_last(user, system=None, examples=()):
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages.append({"role": "user", "content": user})
    for question, answer in examples:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages


def _answers_as_user(user, system=None, examples=()):
    messages = [] if system is None else [{"role": "system", "content": system}]
    for question, answer in examples:
        messages += [{"role": "user", "content": question}, {"role": "user", "content": answer}]
    return messages + [{"role": "user", "content": user}]


def _empty_system(user, system=None, examples=()):
    messages = [{"role": "system", "content": system}]
    for question, answer in examples:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": user}]


def label_scores(logits, groups):
    """(N, labels) log-probabilities of each label as the next token, renormalized over the labels. ``logits``:
    (N, vocab) next-token scores; ``groups``: one list of token ids per label (its spellings), whose
    probabilities add up."""
    log_probs = logits.log_softmax(dim=-1)
    per_label = torch.stack([log_probs[:, ids].logsumexp(dim=-1) for ids in groups], dim=-1)
    return per_label.log_softmax(dim=-1)


def _label_cases():
    g = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(4, 30, generator=g, dtype=torch.float64)
    logits[:, 7] += 4.0  # " positive" with its leading space: the spelling a model usually writes after "Answer:"
    three = 3.0 * torch.randn(3, 25, generator=g, dtype=torch.float64)
    return [(logits, [[3, 11], [7, 2]]), (three, [[1, 4, 9], [5], [20, 21]]), (logits[:2], [[12, 13], [14, 15]])]


def _vocabulary_softmax(logits, groups):
    log_probs = logits.log_softmax(dim=-1)
    return torch.stack([log_probs[:, ids].logsumexp(dim=-1) for ids in groups], dim=-1)


def _first_spelling(logits, groups):
    log_probs = logits.log_softmax(dim=-1)
    return torch.stack([log_probs[:, ids[0]] for ids in groups], dim=-1).log_softmax(dim=-1)


def _logits_added(logits, groups):
    return torch.stack([logits[:, ids].sum(dim=-1) for ids in groups], dim=-1).log_softmax(dim=-1)


EXERCISES = [
    Exercise(
        key="q1",
        title="the messages of a few-shot chat prompt",
        reference=chat_messages,
        cases=_message_cases,
        verified="zero-shot, few-shot with a system prompt and one-shot without: the same turns in the same order, "
        "each with the right role",
        hints=[
            "A message is a dict {'role': ..., 'content': ...}; the roles are 'system', 'user' and 'assistant'. "
            "Start with the system turn only when a system prompt is given.",
            "Each example (question, answer) is a user turn followed by an assistant turn, before the real "
            "question: the model reads them as an earlier part of the same conversation. The user's message "
            "comes last.",
        ],
        mistakes=[
            Mistake(
                "examples_last",
                _examples_last,
                "the examples come after the question. The conversation must end with the question the model is "
                "to answer; the examples are earlier turns, in front of it.",
            ),
            Mistake(
                "answers_as_user",
                _answers_as_user,
                "the examples' answers are user turns. An answer is what the assistant said: role 'assistant', so "
                "that the model sees itself answering in the expected way.",
            ),
            Mistake(
                "empty_system",
                _empty_system,
                "a system turn is added even when system is None ({'role': 'system', 'content': None}). Leave it "
                "out: the template then uses its own default system prompt.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="label-word scores",
        reference=label_scores,
        cases=_label_cases,
        verified="on 3 random float64 batches (two labels with two spellings each, three labels with uneven "
        "spellings) each row is log P(label) renormalized over the labels, spellings' probabilities added",
        hints=[
            "Turn the scores into log-probabilities over the vocabulary first: logits.log_softmax(-1). A label's "
            "probability is the sum of its spellings' probabilities: log_probs[:, ids].logsumexp(-1) adds them "
            "in log space.",
            "Stack one column per label, then renormalize over the labels only: .log_softmax(-1) of the (N, "
            "labels) tensor, so that each row's probabilities sum to 1 over the labels.",
        ],
        mistakes=[
            Mistake(
                "vocabulary_softmax",
                _vocabulary_softmax,
                "the rows are log-probabilities over the whole vocabulary, not over the labels: they sum to much "
                "less than 1, and a prompt on which the model would rather write 'The' looks unsure of both labels. "
                "Renormalize over the label set: log_softmax over the (N, labels) tensor.",
            ),
            Mistake(
                "first_spelling",
                _first_spelling,
                "only the first spelling of each label counts. 'positive' and ' positive' (with a leading space) "
                "are different tokens, and after 'Answer:' the model puts most of its probability on the one with "
                "the space: add up every spelling's probability (logsumexp of the log-probabilities).",
            ),
            Mistake(
                "logits_added",
                _logits_added,
                "the spellings' logits are added. Adding scores multiplies probabilities; the probability of a "
                "label is the *sum* of its spellings' probabilities: logsumexp of their log-probabilities.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
