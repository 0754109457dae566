"""On-policy optimization (notebook 22): REINFORCE with a leave-one-out baseline (RLOO; Kool et al., 2019, Ahmadian
et al., 2024) and a KL penalty to a frozen reference, on the machinery it shares with GRPO (``shared.rlhf.grpo``).

Each training step samples ``k`` completions per prompt from the current policy and scores each with

    R(y) = reward(x, y) - beta * KL(y),    KL(y) = sum over y's tokens of (log pi(token) - log ref(token))

(the sampled, per-sequence estimate of KL(pi || ref)), and pushes up the log-probability of completions that beat
their siblings: the advantage of sample ``i`` is ``R_i`` minus the mean of the other ``k - 1`` samples' ``R`` for
the same prompt, and the loss is ``-mean(advantage * log pi(y))``. The baseline needs no value network (PPO's
critic) and keeps the gradient unbiased.

Sampling happens inside ``training_step``, between the policy's updates, so the modules use Lightning's manual
optimization (``automatic_optimization = False``): rollout, then ``self.manual_backward(loss)`` and a step of the
optimizer from ``self.optimizers()``. Sequences use ``shared.rlhf.preference.pack``'s layout.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch

from shared.generation.decoding import until_eos
from shared.models import disable_dropout
from shared.rlhf.dpo import completion_logprobs, frozen_copy
from shared.rlhf.preference import on_device, pack, positions


def rloo_advantages(rewards: torch.Tensor) -> torch.Tensor:
    """Leave-one-out advantages for ``rewards`` of shape (prompts, k): each sample's reward minus the mean reward of
    the other ``k - 1`` samples of the same prompt (rows sum to 0)."""
    if not isinstance(rewards, torch.Tensor) or rewards.dim() != 2 or rewards.size(1) < 2:
        got = tuple(rewards.shape) if isinstance(rewards, torch.Tensor) else type(rewards).__name__
        raise ValueError(f"expected rewards of shape (prompts, k) with k >= 2 samples per prompt; got {got}")
    k = rewards.size(1)
    others = (rewards.sum(1, keepdim=True) - rewards) / (k - 1)
    return rewards - others


def sequence_kl(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-sequence sampled KL estimate ``sum_t (log pi - log ref)`` from per-token log-probabilities (batch, T)
    that are 0 at padding (``completion_logprobs(..., per_token=True)``)."""
    if not isinstance(logprobs, torch.Tensor) or logprobs.shape != getattr(ref_logprobs, "shape", None):
        raise ValueError("expected two per-token log-probability tensors of the same shape (batch, tokens)")
    return (logprobs - ref_logprobs).sum(-1)


class OnPolicyModule(pl.LightningModule):
    """What RLOO and GRPO share: a policy (a causal LM) trained with manual optimization, its frozen reference, a
    frozen ``reward(packed) -> scores`` (a reward model, or a function such as ``shared.rlhf.grpo.RuleReward``), and
    ``rollout``: ``k`` sampled completions per prompt with their rewards. Subclasses write ``training_step``.

    Batches are left-padded prompts (``shared.data.text_loader(..., padding_side="left")``)."""

    def __init__(self, policy, reward, pad_id: int, k=4, beta=0.05, lr=1e-4, max_new_tokens=16, reference=None):
        super().__init__()
        if not isinstance(k, int) or k < 2:
            raise ValueError(f"k={k!r}; expected at least 2 samples per prompt (a baseline from the siblings)")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta < 0 or not lr > 0:
            raise ValueError(f"beta={beta!r}, lr={lr!r}; expected beta >= 0 and lr > 0")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1 or not isinstance(pad_id, int):
            raise ValueError(f"max_new_tokens={max_new_tokens!r}, pad_id={pad_id!r}; expected positive integers")
        if not callable(reward):
            raise ValueError(f"expected a reward model or function, reward(packed) -> scores; got {reward!r}")
        self.automatic_optimization = False  # a rollout between updates: Lightning's manual optimization
        self.policy = disable_dropout(policy).train()  # it may come in eval mode (after sampling from it)
        # frozen copies without dropout: train mode changes nothing in them (and Lightning sees no module in eval mode)
        self.reference = frozen_copy(self.policy if reference is None else disable_dropout(reference)).train()
        if isinstance(reward, torch.nn.Module):
            reward = frozen_copy(disable_dropout(reward)).train()
        self.reward = reward
        self.pad_id, self.k, self.beta, self.lr, self.max_new_tokens = pad_id, k, beta, lr, max_new_tokens

    def rollout(self, batch) -> dict:
        """``k`` sampled completions per prompt, packed, with their rewards and the reference's per-token
        log-probabilities (no gradients)."""
        ids, mask = batch["input_ids"], batch["attention_mask"]
        eos = self.policy.generation_config.eos_token_id
        with torch.no_grad():
            sequences = self.policy.generate(
                input_ids=ids,
                attention_mask=mask,
                do_sample=True,
                top_k=0,
                top_p=1.0,
                temperature=1.0,
                max_new_tokens=self.max_new_tokens,
                num_return_sequences=self.k,
                pad_token_id=self.pad_id,
            )
            keep = until_eos(sequences[:, ids.size(1) :], eos if isinstance(eos, (list, tuple)) else [eos])
            full = torch.cat([mask.repeat_interleave(self.k, 0), keep.to(mask.dtype)], dim=1)
            packed = {"input_ids": sequences, "attention_mask": full, "position_ids": positions(full)}
            packed["completion_mask"] = keep
            reward = self.reward(packed).float()
            ref = completion_logprobs(self.reference, packed, per_token=True)
        return {"packed": packed, "reward": reward, "ref_logprobs": ref}

    def step(self, loss: torch.Tensor) -> None:
        """One optimizer step on ``loss``, by hand: Lightning's manual optimization."""
        optimizer = self.optimizers()
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()

    def log_step(self, batch, loss, reward, kl) -> None:
        """Logs ``train_loss``, ``train_reward`` (the mean reward of the step's samples) and ``train_kl`` (the mean
        KL estimate to the reference, nats per completion)."""
        size = len(batch["input_ids"])
        self.log("train_loss", loss.detach(), batch_size=size)
        self.log("train_reward", reward.mean(), prog_bar=True, batch_size=size)
        self.log("train_kl", kl.mean(), prog_bar=True, batch_size=size)

    def configure_optimizers(self):
        return torch.optim.AdamW(self.policy.parameters(), lr=self.lr, weight_decay=0.0)


class RLOOModule(OnPolicyModule):
    """RLOO with a KL penalty (module docstring); ``reward`` is frozen (``shared.rlhf.preference.RewardModel``)."""

    def training_step(self, batch, batch_idx):
        roll = self.rollout(batch)
        logprobs = completion_logprobs(self.policy, roll["packed"], per_token=True)
        kl = sequence_kl(logprobs.detach(), roll["ref_logprobs"])
        objective = roll["reward"] - self.beta * kl
        advantages = rloo_advantages(objective.view(-1, self.k)).view(-1)
        loss = -(advantages * logprobs.sum(-1)).mean()
        self.step(loss)
        self.log_step(batch, loss, roll["reward"], kl)


def sample(model, tokenizer, prompts, n: int = 1, max_new_tokens: int = 16, batch_size: int = 64) -> dict:
    """``n`` completions per prompt sampled from ``model``'s own distribution (temperature 1, no top-k or top-p),
    through ``trainer.predict`` (``shared.generation.decoding.GenerationModule``).

    Returns per-prompt lists: ``prompt_ids`` (one list each), and ``tokens``, ``texts`` (``n`` each: completion
    token ids up to end-of-text, and their text)."""
    from shared.data import text_loader
    from shared.generation.decoding import GenerationModule
    from shared.trainer import make_trainer

    if isinstance(prompts, str) or not prompts or not all(isinstance(p, str) and p for p in prompts):
        raise ValueError("expected a non-empty list of non-empty prompt strings")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r}; expected a positive number of samples per prompt")
    module = GenerationModule(
        model, tokenizer, max_new_tokens=max_new_tokens, do_sample=True, top_k=0, top_p=1.0, temperature=1.0
    )
    repeated = [p for p in prompts for _ in range(n)]
    trainer = make_trainer(single_device=True, logger=False, enable_checkpointing=False)
    batches = trainer.predict(module, text_loader(tokenizer, repeated, batch_size=batch_size, padding_side="left"))
    flat = {key: [x for b in batches for x in b[key]] for key in ("tokens", "texts")}
    flat["tokens"] = [t if t else [tokenizer.eos_token_id] for t in flat["tokens"]]  # never empty (pack needs one)
    out = {key: [flat[key][i * n : (i + 1) * n] for i in range(len(prompts))] for key in flat}
    out["prompt_ids"] = [tokenizer(p)["input_ids"] for p in prompts]
    return out


@torch.no_grad()
def measure(samples: dict, policy, reference, reward_model, rule, pad_id: int, batch_size: int = 128) -> dict:
    """For ``sample(...)``'s output: per completion the reward model's score, the rule's verdict and the KL estimate
    ``log pi - log ref`` (both computed here, in full precision, each on its model's device). Returns flat tensors
    ``reward``, ``rule`` (0/1), ``kl`` and the flat ``texts``."""
    if not {"prompt_ids", "tokens", "texts"} <= set(samples):
        raise ValueError("expected the output of shared.rlhf.policy.sample (prompt_ids, tokens, texts)")
    prompts = [p for p, row in zip(samples["prompt_ids"], samples["tokens"], strict=True) for _ in row]
    tokens = [t for row in samples["tokens"] for t in row]
    texts = [t for row in samples["texts"] for t in row]
    rewards, kl = [], []
    for start in range(0, len(tokens), batch_size):
        packed = pack(prompts[start : start + batch_size], tokens[start : start + batch_size], pad_id)
        rewards.append(reward_model(on_device(packed, reward_model)).float().cpu())
        lp = completion_logprobs(policy, on_device(packed, policy)).cpu()
        kl.append(lp - completion_logprobs(reference, on_device(packed, reference)).cpu())
    return {
        "reward": torch.cat(rewards),
        "rule": torch.tensor([float(rule(t)) for t in texts]),
        "kl": torch.cat(kl),
        "texts": texts,
    }
