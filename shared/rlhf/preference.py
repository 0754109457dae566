"""Preference data with a known truth, and a reward model trained on it with the Bradley–Terry loss (notebook 22).

The truth is a rule a program checks (``mentions_once``: the continuation uses a given word exactly once), so every
preference pair is labeled without a human, and every later claim (the reward model agrees with the rule, the
optimized policy follows the rule more often, the reward model can be fooled) can be measured exactly.

Sequences share one layout everywhere in notebook 22 (``pack``): the prompt left-padded to the batch's longest
prompt ``P``, then the completion right-padded::

    [pad pad p1 p2 p3 | c1 c2 c3 pad]     attention_mask 0 0 1 1 1 1 1 1 0,  completion_mask 1 1 1 0

so a completion always starts at column ``P``, the layout ``model.generate`` leaves for left-padded prompts. Position
ids count real tokens only (``positions``), so padding never shifts a token's position.

* ``bradley_terry_loss(r_chosen, r_rejected)``: ``-log sigmoid(r_chosen - r_rejected)``, averaged: the negative
  log-likelihood of the observed preferences when P(a preferred to b) = sigmoid(r(a) - r(b)) (Bradley & Terry, 1952;
  the reward-model loss of InstructGPT).
* ``RewardModel``: a transformer backbone (the SFT policy's, without its language-model head) and a linear head that
  reads the hidden state of the last real token: one score per sequence.
"""

from __future__ import annotations

import random
import re

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader


def count_word(text: str, word: str) -> int:
    """How often ``word`` occurs in ``text`` as a whole word, ignoring case (``felt`` in "Felt," counts; in
    "felted" it does not)."""
    if not isinstance(text, str) or not isinstance(word, str) or not re.fullmatch(r"[A-Za-z']+", word):
        raise ValueError(f"expected a text and a single word of letters; got {text!r}, {word!r}")
    return len(re.findall(rf"(?<![A-Za-z']){re.escape(word.lower())}(?![A-Za-z'])", text.lower()))


def mentions_once(text: str, word: str) -> bool:
    """The true rule of notebook 22: the text uses ``word`` exactly once (not at all, or twice or more, fails)."""
    return count_word(text, word) == 1


def make_pairs(prompt_ids, completions, texts, rule, max_pairs_per_prompt: int = 4, seed: int = 0) -> list[dict]:
    """Preference pairs from several completions per prompt: each pair is one completion the ``rule`` accepts
    (``chosen``) and one it rejects (``rejected``), for the same prompt.

    ``prompt_ids``: one list of token ids per prompt; ``completions``/``texts``: per prompt, a list of completions
    (token-id lists) and their decoded texts; ``rule(text) -> bool``. Prompts whose completions all pass or all fail
    give no pair. Returns dicts with ``prompt``, ``chosen``, ``rejected`` (token ids) and ``chosen_text``,
    ``rejected_text``.
    """
    if not len(prompt_ids) == len(completions) == len(texts):
        raise ValueError(
            f"expected one entry per prompt in prompt_ids, completions and texts; got "
            f"{len(prompt_ids)}, {len(completions)}, {len(texts)}"
        )
    if not callable(rule) or not isinstance(max_pairs_per_prompt, int) or max_pairs_per_prompt < 1:
        raise ValueError(
            f"expected a callable rule and max_pairs_per_prompt >= 1; got {rule!r}, {max_pairs_per_prompt!r}"
        )
    rng = random.Random(seed)
    pairs = []
    for prompt, comps, txts in zip(prompt_ids, completions, texts, strict=True):
        if len(comps) != len(txts):
            raise ValueError(f"expected as many texts as completions for each prompt; got {len(txts)} and {len(comps)}")
        good = [i for i, t in enumerate(txts) if rule(t)]
        bad = [i for i, t in enumerate(txts) if not rule(t)]
        combos = [(g, b) for g in good for b in bad]
        rng.shuffle(combos)
        pairs += [
            {
                "prompt": list(prompt),
                "chosen": list(comps[g]),
                "rejected": list(comps[b]),
                "chosen_text": txts[g],
                "rejected_text": txts[b],
            }
            for g, b in combos[:max_pairs_per_prompt]
        ]
    return pairs


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids that count real tokens only: 0 at each row's first real token (left padding gets 0)."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def on_device(batch: dict, model) -> dict:
    """``batch``'s tensors on the device of ``model``'s parameters (as they are for a function without any)."""
    params = model.parameters() if isinstance(model, torch.nn.Module) else iter(())
    device = next(params, torch.empty(0)).device
    return {key: v.to(device) if isinstance(v, torch.Tensor) else v for key, v in batch.items()}


def pack(prompts, completions, pad_id: int) -> dict:
    """The shared layout (module docstring): ``input_ids``, ``attention_mask``, ``position_ids`` (batch, P + C) and
    ``completion_mask`` (batch, C) for lists of prompt and completion token ids (every completion non-empty)."""
    if len(prompts) != len(completions) or not prompts:
        raise ValueError(
            f"expected as many prompts as completions, at least one; got {len(prompts)} and {len(completions)}"
        )
    if any(len(p) == 0 for p in prompts) or any(len(c) == 0 for c in completions):
        raise ValueError("expected non-empty prompts and completions (token-id lists)")
    if not isinstance(pad_id, int):
        raise ValueError(f"pad_id={pad_id!r}; expected the tokenizer's pad token id (an integer)")
    width_p, width_c = max(map(len, prompts)), max(map(len, completions))
    ids = torch.full((len(prompts), width_p + width_c), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, (p, c) in enumerate(zip(prompts, completions, strict=True)):
        ids[row, width_p - len(p) : width_p] = torch.tensor(p)
        ids[row, width_p : width_p + len(c)] = torch.tensor(c)
        mask[row, width_p - len(p) : width_p + len(c)] = 1
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "position_ids": positions(mask),
        "completion_mask": mask[:, width_p:].bool(),
    }


def pair_loader(pairs, pad_id: int, batch_size: int = 16, shuffle: bool = False) -> DataLoader:
    """Batches ``{"chosen": pack(...), "rejected": pack(...)}`` of preference pairs (from ``make_pairs``)."""
    if not pairs or not all({"prompt", "chosen", "rejected"} <= set(p) for p in pairs):
        raise ValueError("expected a non-empty list of pairs with 'prompt', 'chosen' and 'rejected' (make_pairs)")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r}; expected a positive integer")

    def collate(batch):
        prompts = [p["prompt"] for p in batch]
        return {
            "chosen": pack(prompts, [p["chosen"] for p in batch], pad_id),
            "rejected": pack(prompts, [p["rejected"] for p in batch], pad_id),
        }

    return DataLoader(pairs, batch_size=batch_size, shuffle=shuffle, collate_fn=collate)


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """``mean(-log sigmoid(r_chosen - r_rejected))`` for two float tensors of the same shape (one score per pair)."""
    for name, r in (("r_chosen", r_chosen), ("r_rejected", r_rejected)):
        if not isinstance(r, torch.Tensor) or not r.is_floating_point() or r.numel() == 0:
            raise ValueError(f"{name}: expected a non-empty float tensor of scores; got {r!r}")
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(
            f"expected one chosen and one rejected score per pair; got shapes {tuple(r_chosen.shape)} "
            f"and {tuple(r_rejected.shape)}"
        )
    return -F.logsigmoid(r_chosen - r_rejected).mean()


class RewardModel(pl.LightningModule):
    """A scalar reward for a packed sequence: ``backbone`` (a Hugging Face base model such as ``GPT2Model``, e.g.
    ``AutoModel.from_pretrained(sft_folder)``) plus ``Linear(hidden, 1)`` on the last real token's hidden state.

    Trained on ``pair_loader`` batches with ``bradley_terry_loss``; logs ``train_loss``, ``train_acc``, ``val_loss``
    and ``val_acc`` (pair accuracy: the share of pairs whose chosen sequence gets the higher score).
    """

    def __init__(self, backbone: torch.nn.Module, lr: float = 1e-3, weight_decay: float = 0.01):
        super().__init__()
        hidden = getattr(getattr(backbone, "config", None), "hidden_size", None)
        if not isinstance(hidden, int):
            raise ValueError(
                "expected a Hugging Face base model (with config.hidden_size) as the backbone; got "
                f"{type(backbone).__name__}"
            )
        if not lr > 0:
            raise ValueError(f"lr={lr!r}; expected a learning rate > 0")
        # from_pretrained leaves models in eval mode; a module about to be trained starts in train mode
        self.backbone, self.head = backbone.train(), torch.nn.Linear(hidden, 1)
        self.lr, self.weight_decay = lr, weight_decay

    def forward(self, batch: dict) -> torch.Tensor:
        mask = batch["attention_mask"]
        hidden = self.backbone(
            input_ids=batch["input_ids"], attention_mask=mask, position_ids=batch.get("position_ids", positions(mask))
        ).last_hidden_state
        last = mask.size(1) - 1 - mask.flip(-1).argmax(-1)  # each row's last real token (right padding)
        return self.head(hidden[torch.arange(len(last), device=last.device), last]).squeeze(-1).float()

    def _step(self, batch, stage: str) -> torch.Tensor:
        chosen, rejected = self(batch["chosen"]), self(batch["rejected"])
        loss = bradley_terry_loss(chosen, rejected)
        size = len(chosen)
        self.log(f"{stage}_loss", loss, prog_bar=True, batch_size=size, sync_dist=stage != "train")
        self.log(f"{stage}_acc", (chosen > rejected).float().mean(), batch_size=size, sync_dist=stage != "train")
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)


@torch.no_grad()
def pair_accuracy(scorer, loader) -> float:
    """The share of a ``pair_loader``'s pairs for which ``scorer(packed) -> scores`` ranks chosen above rejected
    (ties count as half: a constant scorer gets 0.5). A model scores on its own device."""
    right, total = 0.0, 0
    for batch in loader:
        chosen, rejected = scorer(on_device(batch["chosen"], scorer)), scorer(on_device(batch["rejected"], scorer))
        right += (chosen > rejected).sum().item() + 0.5 * (chosen == rejected).sum().item()
        total += len(chosen)
    if total == 0:
        raise ValueError("expected a loader with at least one pair")
    return right / total


def sentence_starts(paragraphs, words: int = 3, min_words: int = 6, seed: int = 0) -> list[str]:
    """Distinct prompts made of the first ``words`` words of every sentence with at least ``min_words`` words,
    shuffled with ``seed`` (split them into train / validation / evaluation prompts by slicing)."""
    if isinstance(paragraphs, str) or not paragraphs or not isinstance(words, int) or not 1 <= words < min_words:
        raise ValueError(
            f"expected a list of paragraphs and 1 <= words < min_words; got words={words!r}, min_words={min_words!r}"
        )
    sentences = [s.split() for p in paragraphs for s in re.split(r"[.!?]", p)]
    starts = sorted({" ".join(s[:words]) for s in sentences if len(s) >= min_words})
    random.Random(seed).shuffle(starts)
    return starts
