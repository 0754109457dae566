"""Decoding: the logits transforms that turn a language model's next-token scores into a choice, each written from
its formula, plus the measures notebook 13 uses to compare decoding settings and a LightningModule that generates
a batch of prompts through ``trainer.predict``.

Every transform takes ``scores`` of shape (batch, vocab) (the model's logits for the next token) and returns new
scores of the same shape; a token removed from the candidates gets ``-inf``, so softmax gives it probability 0.
transformers applies the same transforms in ``generate`` (its ``LogitsProcessor`` classes); ``HF_EQUIVALENT``
names them so a notebook can show that both give the same scores.

* ``temperature(scores, t)``: ``scores / t``. t < 1 sharpens the distribution, t > 1 flattens it.
* ``top_k(scores, k)``: keep the k highest scores (and any tied with the k-th).
* ``top_p(scores, p)``: nucleus sampling: keep the smallest set of most likely tokens whose probabilities add
  up to at least p: a token stays when the tokens more likely than it hold less than p.
* ``repetition_penalty(scores, input_ids, penalty)``: CTRL's penalty on every token already in the sequence:
  a positive score is divided by ``penalty``, a negative one multiplied by it (both make the token less likely).

Direct calls: ``encode`` makes a batch of prompts where the model is (``run.place(model)``), ``positions_counted``
counts the token positions a model runs (the work a KV cache saves), and ``speculative_greedy`` decodes greedily
with a cheap guess of the next tokens (``prompt_lookup``) checked by one forward pass per block, counting what
the model accepted.
"""

from __future__ import annotations

import contextlib

import pytorch_lightning as pl
import torch

HF_EQUIVALENT = {
    "temperature": "TemperatureLogitsWarper",
    "top_k": "TopKLogitsWarper",
    "top_p": "TopPLogitsWarper",
    "repetition_penalty": "RepetitionPenaltyLogitsProcessor",
}


def _check_scores(scores) -> None:
    if not isinstance(scores, torch.Tensor) or scores.dim() != 2 or not scores.is_floating_point():
        got = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"expected scores as a float tensor of shape (batch, vocab); got {got}")


def temperature(scores: torch.Tensor, t: float) -> torch.Tensor:
    """``scores / t`` for a temperature ``t > 0`` (t -> 0 approaches greedy decoding, t = 1 changes nothing)."""
    _check_scores(scores)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        raise ValueError(f"temperature={t!r}; expected a number > 0 (for greedy decoding use do_sample=False)")
    return scores / t


def top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` highest scores per row (ties with the k-th are kept too); the rest become ``-inf``."""
    _check_scores(scores)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"top_k={k!r}; expected an integer >= 1")
    kth = scores.topk(min(k, scores.size(-1)), dim=-1).values[:, -1:]  # the k-th highest score of each row
    return scores.masked_fill(scores < kth, float("-inf"))


def top_p(scores: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probabilities sum to at least ``p`` (0 < p <= 1)."""
    _check_scores(scores)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"top_p={p!r}; expected a number in (0, 1]")
    if p == 1:
        return scores.clone()  # the whole vocabulary (summing probabilities in float may fall short of 1)
    probs, order = scores.softmax(dim=-1).sort(dim=-1, descending=True)
    mass_before = probs.cumsum(dim=-1) - probs  # probability of the tokens more likely than this one
    drop_sorted = mass_before >= p
    drop_sorted[:, 0] = False  # the most likely token always stays
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return scores.masked_fill(drop, float("-inf"))


def repetition_penalty(scores: torch.Tensor, input_ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """Make every token that occurs in ``input_ids`` (batch, length) less likely: s / penalty if s > 0, else
    s * penalty. ``penalty`` > 1 discourages repeats, 1 changes nothing."""
    _check_scores(scores)
    if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not penalty > 0:
        raise ValueError(f"repetition_penalty={penalty!r}; expected a number > 0 (1.0 = no penalty)")
    if input_ids.dim() != 2 or input_ids.size(0) != scores.size(0):
        raise ValueError(f"expected input_ids of shape (batch={scores.size(0)}, length); got {tuple(input_ids.shape)}")
    seen = torch.zeros_like(scores, dtype=torch.bool).scatter(-1, input_ids, True)
    penalized = torch.where(scores > 0, scores / penalty, scores * penalty)
    return torch.where(seen, penalized, scores)


def ngrams(tokens, n: int) -> list[tuple]:
    """The n-grams of one sequence (a list of tokens or words)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r}; expected an integer >= 1")
    tokens = list(tokens)
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(sequences, n: int = 2) -> float:
    """Diversity across samples: distinct n-grams / all n-grams, pooled over ``sequences`` (Li et al., 2016).

    1.0: no n-gram occurs twice anywhere; 1/len(sequences) when every sample is the same text."""
    grams = [g for seq in sequences for g in ngrams(seq, n)]
    if not grams:
        raise ValueError(f"expected sequences with at least {n} tokens in total; got none")
    return len(set(grams)) / len(grams)


def repeated_ngram_share(sequence, n: int = 3) -> float:
    """Repetition within one text: the share of its n-grams that already occurred earlier in it (0 = none)."""
    grams = ngrams(sequence, n)
    if not grams:
        raise ValueError(f"expected a sequence of at least {n} tokens; got {len(list(sequence))}")
    seen, repeats = set(), 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)


def until_eos(tokens: torch.Tensor, eos_ids) -> torch.Tensor:
    """Mask (batch, new_tokens) of generated positions up to and including each row's first end-of-sequence
    token; what follows is padding that ``generate`` adds once a row has finished."""
    eos = torch.isin(tokens, torch.as_tensor(list(eos_ids), dtype=tokens.dtype))
    finished_before = (eos.cumsum(-1) - eos.long()) > 0
    return ~finished_before


class GenerationModule(pl.LightningModule):
    """Batched generation behind ``trainer.predict``: each batch (left-padded prompts) goes through
    ``model.generate(**batch, **self.generation)``.

    ``predict_step`` returns, per batch: ``texts`` (the new text of each sequence), ``tokens`` (the new token ids
    of each, up to its end-of-sequence token) and ``logprobs`` (each new token's log-probability under the model's
    own distribution, before any temperature, top-k or top-p: how likely the model finds what was written). The
    log-probabilities come from one more forward pass over prompt + answer, so they mean the same thing for every
    decoding method, beam search included (whose per-step scores belong to beams, not to the chosen sequence).
    """

    def __init__(self, model, tokenizer, **generation):
        super().__init__()
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer has no pad token; expected one (shared.models.load_chat_lm sets it)")
        self.model, self.tokenizer = model, tokenizer
        self.generation = {"max_new_tokens": 20, "do_sample": False, **generation}

    def predict_step(self, batch, batch_idx):
        prompt_len = batch["input_ids"].shape[1]
        sequences = self.model.generate(**batch, **self.generation, pad_token_id=self.tokenizer.pad_token_id)
        new = sequences[:, prompt_len:]
        eos = self.model.generation_config.eos_token_id
        keep = until_eos(new, eos if isinstance(eos, (list, tuple)) else [eos])
        mask = torch.cat([batch["attention_mask"], keep.to(batch["attention_mask"].dtype)], dim=1)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: each row's positions start at 0
        with torch.no_grad():
            logits = self.model(input_ids=sequences, attention_mask=mask, position_ids=positions).logits
        logprobs = logits[:, prompt_len - 1 : -1].float().log_softmax(-1).gather(-1, new.unsqueeze(-1)).squeeze(-1)
        return {
            "texts": self.tokenizer.batch_decode(new, skip_special_tokens=True),
            "tokens": [row[m].tolist() for row, m in zip(new, keep, strict=True)],
            "logprobs": [row[m].tolist() for row, m in zip(logprobs, keep, strict=True)],
        }


def encode(model, tokenizer, texts):
    """``tokenizer(texts)`` as tensors on the model's device (padded on the tokenizer's side), for direct calls:
    ``model(**encode(model, tokenizer, prompts))`` or ``model.generate(**...)``."""
    if isinstance(texts, str) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise ValueError("expected a non-empty list of non-empty texts")
    device = next(model.parameters()).device
    return tokenizer(list(texts), return_tensors="pt", padding=True).to(device)


@contextlib.contextmanager
def positions_counted(model):
    """Count what ``model``'s forward passes run inside the block: ``{"calls": ..., "positions": ...}``, positions
    being the input tokens of every call summed (the work; a KV cache means fewer of them)."""
    counts = {"calls": 0, "positions": 0}

    def count(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        counts["calls"] += 1
        counts["positions"] += int(ids.shape[-1]) if ids is not None else int(kwargs["inputs_embeds"].shape[-2])

    handle = model.register_forward_pre_hook(count, with_kwargs=True)
    try:
        yield counts
    finally:
        handle.remove()


def prompt_lookup(ids: list[int], k: int, ngram: int = 2) -> list[int]:
    """A guess of the next tokens without an assistant model: find the last ``ngram`` tokens of ``ids`` earlier in
    ``ids`` (the latest such place) and propose the ``k`` tokens that followed it there; none when the n-gram did not
    occur before."""
    tail = ids[-ngram:]
    for start in range(len(ids) - ngram - 1, -1, -1):
        if ids[start : start + ngram] == tail:
            return ids[start + ngram : start + ngram + k]
    return []


@torch.no_grad()
def speculative_greedy(model, input_ids: torch.Tensor, max_new_tokens: int, guess=prompt_lookup, k: int = 4):
    """Greedy decoding of one prompt (``input_ids`` of shape (1, length)) with guesses: each step, ``guess(ids,
    k)`` proposes up to ``k`` tokens, one forward pass scores them all, and the longest prefix that greedy decoding
    would have chosen is kept, plus the model's own next token. The tokens are greedy's; the work is fewer passes.

    Returns ``(new_tokens, stats)``: the new tokens up to the end-of-sequence token, and ``proposed``,
    ``accepted`` guessed tokens and forward ``passes`` (the prompt's included)."""
    from transformers import DynamicCache

    if input_ids.dim() != 2 or input_ids.size(0) != 1:
        raise ValueError(f"expected input_ids of shape (1, length); got {tuple(input_ids.shape)}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens={max_new_tokens!r}; expected an integer >= 1")
    eos = model.generation_config.eos_token_id
    eos = set(eos if isinstance(eos, (list, tuple)) else [eos])
    ids, cache = input_ids[0].tolist(), DynamicCache()
    new = [int(model(input_ids=input_ids, past_key_values=cache, use_cache=True).logits[0, -1].argmax())]
    stats = {"proposed": 0, "accepted": 0, "passes": 1}
    while len(new) < max_new_tokens and new[-1] not in eos:
        guessed = guess(ids + new, min(k, max_new_tokens - len(new) - 1))
        block = torch.tensor([[new[-1], *guessed]], device=input_ids.device)
        choice = model(input_ids=block, past_key_values=cache, use_cache=True).logits[0].argmax(-1).tolist()
        n = 0
        while n < len(guessed) and guessed[n] == choice[n]:  # the guess agrees with greedy's choice
            n += 1
        new += guessed[:n] + [choice[n]]
        stats["proposed"] += len(guessed)
        stats["accepted"] += n
        stats["passes"] += 1
        extra = cache.get_seq_length() - (len(ids) + len(new) - 1)  # keys and values of rejected guesses
        if extra > 0:
            cache.crop(-extra)
    end = next((i + 1 for i, t in enumerate(new) if t in eos), len(new))
    return new[:end], stats
