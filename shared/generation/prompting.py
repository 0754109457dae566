"""Prompting an instruction-tuned LM for a classification task, two ways:

* **label-word scores** (robust): the log-probability the model gives each label word (e.g. "positive",
  "negative") as the first token of its answer (``label_scores`` from the next-token logits), renormalized over
  the labels. Every prompt gets an answer, one of the labels.
* **parsing a generation** (fragile): let the model write, then look for a label word in what it wrote
  (``parse_label``); an answer that names no label, or both, counts as unparsed. ``greedy_answers`` writes them.

``label_logprobs`` runs the tokens that all prompts share (system prompt, instruction, few-shot examples) once and
reuses their keys and values (the KV cache of notebook 13) for every prompt's own tokens; ``greedy_answers`` does
the same. Both equal running each full prompt on its own (tests/test_prompting.py checks it), and both make their
inputs on the model's device. ``chat_messages`` is the conversation ``chat_prompt`` hands to the chat template.
"""

from __future__ import annotations

import copy
import re

import torch


def chat_messages(user: str, system: str | None = None, examples=()) -> list[dict[str, str]]:
    """The conversation a chat template writes out: an optional system turn, each (question, answer) example as a
    user turn and an assistant turn (few-shot prompting), then the user's message."""
    if not isinstance(user, str) or not user.strip():
        raise ValueError("expected a non-empty user message")
    messages = [{"role": "system", "content": system}] if system is not None else []
    for question, answer in examples:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": user})
    return messages


def chat_prompt(tokenizer, user: str, system: str | None = None, examples=(), answer_prefix: str = "") -> str:
    """A prompt in the model's chat format, ending where the assistant's answer begins.

    ``examples``: (user, assistant) pairs shown as earlier turns of the conversation (few-shot prompting).
    ``system=None`` keeps the template's default system prompt, if it has one. ``answer_prefix`` is text the
    answer is made to start with.
    """
    messages = chat_messages(user, system, examples)
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


def label_scores(logits: torch.Tensor, groups: list[list[int]]) -> torch.Tensor:
    """(N, labels) log-probabilities of each label being the next token, renormalized over the labels, from the
    next-token ``logits`` (N, vocab); ``groups`` holds each label's token ids (its spellings), whose probabilities
    add up."""
    log_probs = logits.log_softmax(dim=-1)
    return torch.stack([log_probs[:, ids].logsumexp(dim=-1) for ids in groups], dim=-1).log_softmax(dim=-1)


def _common_prefix(ids: list[list[int]]) -> int:
    """Length of the token prefix all prompts share, leaving every prompt at least one token of its own."""
    shared = 0
    while shared < min(map(len, ids)) - 1 and all(x[shared] == ids[0][shared] for x in ids):
        shared += 1
    return shared


def _batches(model, tokenizer, prompts, batch_size: int):
    """Run the shared prefix once; yield each batch's own tokens, left-padded, with the mask, positions and a copy
    of the prefix's cache that continue it. Left padding puts every prompt's last token in the last column (the
    pads sit between the prefix and the prompt's own tokens, masked, so no real token sees them)."""
    if len(prompts) == 0 or any(not isinstance(p, str) or not p for p in prompts):
        raise ValueError("expected a non-empty list of non-empty prompts")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected an integer >= 1")
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token; expected one (shared.models.load_chat_lm sets it)")
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    shared = _common_prefix(ids)
    model.eval()
    device = next(model.parameters()).device  # every input is made where the model is (run.place(model))
    prefix = torch.tensor([ids[0][:shared]], device=device)
    cache = model(input_ids=prefix, use_cache=True).past_key_values if shared else None
    for start in range(0, len(ids), batch_size):
        rest = [x[shared:] for x in ids[start : start + batch_size]]
        width = max(map(len, rest))
        tokens = torch.tensor([[tokenizer.pad_token_id] * (width - len(r)) + r for r in rest], device=device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rest], device=device)
        positions = (shared + mask.cumsum(-1) - 1).clamp(min=shared)
        past = None
        if cache is not None:
            past = copy.deepcopy(cache)
            past.batch_repeat_interleave(len(rest))
            mask = torch.cat([torch.ones(len(rest), shared, dtype=mask.dtype, device=device), mask], dim=1)
        yield tokens, mask, positions, past


@torch.no_grad()
def label_logprobs(model, tokenizer, prompts, labels: dict[str, list[str]], batch_size: int = 16) -> torch.Tensor:
    """(prompts, labels) log-probabilities, renormalized over the labels, of each label being the next token.

    A label's probability is the sum over its spellings (e.g. "positive" and "Positive"). The shared token
    prefix of all prompts is run once; each batch continues from a copy of its cache, and only the last
    position's scores over the vocabulary are computed (``logits_to_keep=1``).
    """
    groups = label_token_ids(tokenizer, labels)
    rows = []
    for tokens, mask, positions, past in _batches(model, tokenizer, prompts, batch_size):
        logits = model(
            input_ids=tokens, attention_mask=mask, position_ids=positions, past_key_values=past, logits_to_keep=1
        ).logits
        rows.append(label_scores(logits[:, -1].float(), groups))
    return torch.cat(rows)


@torch.no_grad()
def greedy_answers(model, tokenizer, prompts, max_new_tokens: int = 4, batch_size: int = 16) -> list[str]:
    """Each prompt's greedy continuation, ``max_new_tokens`` at most, cut at the end-of-sequence token.

    The same shared-prefix cache as ``label_logprobs``; each step feeds every row its last chosen token. A row
    that has finished keeps stepping (cheaper than reshaping the batch) and what it writes is dropped.
    """
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens={max_new_tokens!r}; expected an integer >= 1")
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, (list, tuple)) else [eos])
    answers = []
    for tokens, mask, positions, past in _batches(model, tokenizer, prompts, batch_size):
        new = []
        for _ in range(max_new_tokens):
            out = model(
                input_ids=tokens,
                attention_mask=mask,
                position_ids=positions,
                past_key_values=past,
                use_cache=True,
                logits_to_keep=1,
            )
            tokens, past = out.logits[:, -1].argmax(-1, keepdim=True), out.past_key_values
            new.append(tokens)
            mask = torch.cat([mask, torch.ones_like(tokens)], dim=1)
            positions = positions[:, -1:] + 1
        for row in torch.cat(new, dim=1).tolist():
            cut = next((i for i, t in enumerate(row) if t in eos), len(row))
            answers.append(tokenizer.decode(row[:cut], skip_special_tokens=True))
    return answers


def parse_label(text: str, labels: dict[str, list[str]]) -> str | None:
    """The one label whose spelling appears as a word in ``text`` (case-insensitive), else None (no label, or
    more than one: "positive or negative?" is not an answer)."""
    found = {
        name
        for name, words in labels.items()
        if any(re.search(rf"\b{re.escape(w.strip().lower())}\b", text.lower()) for w in words)
    }
    return found.pop() if len(found) == 1 else None
