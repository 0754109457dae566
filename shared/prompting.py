"""Prompting an instruction-tuned LM for a classification task, two ways:

* **label-word scores** (robust): the log-probability the model gives each label word (e.g. "positive",
  "negative") as the first token of its answer. Every prompt gets an answer, one of the labels.
* **parsing a generation** (fragile): let the model write, then look for a label word in what it wrote
  (``parse_label``); an answer that names no label, or both, counts as unparsed.

``label_logprobs`` runs the tokens that all prompts share (system prompt, instruction, few-shot examples) once and
reuses their keys and values (the KV cache of notebook 12) for every prompt's own tokens; the result equals
running each full prompt (tests/test_prompting.py checks it).
"""

from __future__ import annotations

import copy
import re

import torch


def chat_prompt(tokenizer, user: str, system: str | None = None, examples=(), answer_prefix: str = "") -> str:
    """A prompt in the model's chat format, ending where the assistant's answer begins.

    ``examples``: (user, assistant) pairs shown as earlier turns of the conversation (few-shot prompting).
    ``system=None`` keeps the template's default system prompt, if it has one. ``answer_prefix`` is text the
    answer is made to start with.
    """
    if not isinstance(user, str) or not user.strip():
        raise ValueError("expected a non-empty user message")
    messages = [{"role": "system", "content": system}] if system is not None else []
    for question, answer in examples:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": user})
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + answer_prefix


def label_token_ids(tokenizer, labels: dict[str, list[str]]) -> list[list[int]]:
    """The first token of each spelling of each label; spellings of different labels must not share it."""
    if len(labels) < 2:
        raise ValueError(f"expected at least two labels, each with its spellings; got {labels!r}")
    ids = [[tokenizer(word, add_special_tokens=False)["input_ids"][0] for word in words] for words in labels.values()]
    flat = [i for group in ids for i in group]
    if any(not words for words in labels.values()) or len(set(flat)) != len(flat):
        raise ValueError(f"expected spellings whose first tokens differ across labels; got {labels!r}")
    return ids


@torch.no_grad()
def label_logprobs(model, tokenizer, prompts, labels: dict[str, list[str]], batch_size: int = 16) -> torch.Tensor:
    """(prompts, labels) log-probabilities, renormalised over the labels, of each label being the next token.

    A label's probability is the sum over its spellings (e.g. "positive" and "Positive"). The shared token
    prefix of all prompts is run once; each batch continues from a copy of its cache.
    """
    if len(prompts) == 0 or any(not isinstance(p, str) or not p for p in prompts):
        raise ValueError("expected a non-empty list of non-empty prompts")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected an integer >= 1")
    groups = label_token_ids(tokenizer, labels)
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    shared = 0  # length of the common prefix, leaving every prompt at least one token of its own
    while shared < min(map(len, ids)) - 1 and all(x[shared] == ids[0][shared] for x in ids):
        shared += 1
    model.eval()
    cache = model(input_ids=torch.tensor([ids[0][:shared]]), use_cache=True).past_key_values if shared else None
    rows = []
    for start in range(0, len(ids), batch_size):
        rest = [x[shared:] for x in ids[start:start + batch_size]]
        width = max(map(len, rest))  # right-padded: padding comes after the last real token, so nothing sees it
        tokens = torch.tensor([r + [tokenizer.pad_token_id] * (width - len(r)) for r in rest])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rest])
        past = None
        if cache is not None:
            past = copy.deepcopy(cache)
            past.batch_repeat_interleave(len(rest))
            mask = torch.cat([torch.ones(len(rest), shared, dtype=mask.dtype), mask], dim=1)
        logits = model(input_ids=tokens, attention_mask=mask, past_key_values=past).logits
        last = logits[torch.arange(len(rest)), torch.tensor([len(r) - 1 for r in rest])].float().log_softmax(-1)
        rows.append(torch.stack([last[:, g].logsumexp(-1) for g in groups], dim=-1))
    scores = torch.cat(rows)
    return scores.log_softmax(-1)


def parse_label(text: str, labels: dict[str, list[str]]) -> str | None:
    """The one label whose spelling appears as a word in ``text`` (case-insensitive), else None (no label, or
    more than one: "positive or negative?" is not an answer)."""
    found = {name for name, words in labels.items()
             if any(re.search(rf"\b{re.escape(w.strip().lower())}\b", text.lower()) for w in words)}
    return found.pop() if len(found) == 1 else None
