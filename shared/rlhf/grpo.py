"""GRPO (group relative policy optimization; Shao et al., 2024) with a verifiable reward (notebook 22).

Where the rule that defines a good answer can be checked by a program, the policy can be trained on that check
directly, with no reward model to fool. GRPO samples a *group* of ``k`` completions per prompt, scores each (here 1
if the rule accepts it, else 0) and standardizes the rewards within the group, so no value network is needed:

    A_i = (r_i - mean(r_group)) / (std(r_group) + eps)

The loss is TRL's ``GRPOTrainer`` loss (``loss_type="grpo"``, ``tests/test_grpo.py`` checks it against TRL's own
code): per completion token, the clipped policy-ratio surrogate of PPO plus ``beta`` times the k3 estimate of
KL(pi || ref), averaged over each completion's tokens and then over the completions::

    ratio = exp(log pi - log pi_old),    d = log ref - log pi
    loss_t = -min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A) + beta * (exp(d) - d - 1)

Unlike RLOO, the KL enters the loss (not the reward), and with one optimizer step per rollout (TRL's default) the
ratio is exactly 1 when the gradient is taken, so the clip only acts when a rollout is reused for several steps.
"""

from __future__ import annotations

import torch

from shared.rlhf.dpo import completion_logprobs
from shared.rlhf.policy import OnPolicyModule, sequence_kl


def group_advantages(rewards: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """GRPO's advantages for ``rewards`` of shape (groups, k): each reward minus its group's mean, divided by the
    group's standard deviation (torch's default, Bessel-corrected, as TRL) plus ``eps``. A group whose rewards are
    all equal gets advantage 0: it carries no signal about which of its samples is better."""
    if not isinstance(rewards, torch.Tensor) or rewards.dim() != 2 or rewards.size(1) < 2:
        got = tuple(rewards.shape) if isinstance(rewards, torch.Tensor) else type(rewards).__name__
        raise ValueError(f"expected rewards of shape (groups, k) with k >= 2 samples per group; got {got}")
    return (rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + eps)


def grpo_loss(logprobs, old_logprobs, ref_logprobs, advantages, mask, beta: float = 0.04, clip: float = 0.2):
    """TRL's GRPO loss (module docstring) from per-token log-probabilities (completions, T) of the policy, of the
    policy that sampled (``old_logprobs``, no gradient) and of the reference, ``advantages`` (completions,) and the
    completion ``mask`` (completions, T)."""
    if not logprobs.shape == old_logprobs.shape == ref_logprobs.shape == mask.shape:
        raise ValueError(
            f"expected per-token tensors of one shape (completions, tokens); got {tuple(logprobs.shape)}, "
            f"{tuple(old_logprobs.shape)}, {tuple(ref_logprobs.shape)} and mask {tuple(mask.shape)}"
        )
    if advantages.shape != logprobs.shape[:1] or not beta >= 0 or not 0 < clip < 1:
        raise ValueError(f"expected one advantage per completion, beta >= 0, 0 < clip < 1; got {beta=}, {clip=}")
    ratio = torch.exp(logprobs - old_logprobs)
    adv = advantages.unsqueeze(1)
    surrogate = torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    log_ref_ratio = ref_logprobs - logprobs
    kl = torch.exp(log_ref_ratio) - log_ref_ratio - 1  # k3: unbiased, >= 0 per token
    per_token = -surrogate + beta * kl
    mask = mask.to(per_token.dtype)
    return ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()


class RuleReward:
    """A verifiable reward: ``reward(packed)`` is 1.0 for each completion whose decoded text ``rule`` accepts, else
    0.0 (a tensor on the ids' device). Nothing is learned, so nothing can be fooled but the rule itself."""

    def __init__(self, tokenizer, rule):
        if not callable(rule) or not hasattr(tokenizer, "decode"):
            raise ValueError(f"expected a tokenizer and a rule(text) -> bool; got {tokenizer!r}, {rule!r}")
        self.tokenizer, self.rule = tokenizer, rule

    def __call__(self, packed: dict) -> torch.Tensor:
        keep = packed["completion_mask"]
        ids = packed["input_ids"][:, -keep.size(1) :]
        texts = [
            self.tokenizer.decode(row[m].tolist(), skip_special_tokens=True) for row, m in zip(ids, keep, strict=True)
        ]
        return torch.tensor([float(self.rule(t)) for t in texts], device=ids.device)


class GRPOModule(OnPolicyModule):
    """GRPO (module docstring) on ``shared.rlhf.policy.OnPolicyModule``'s rollout; ``reward`` is typically a
    ``RuleReward``. Logs what ``OnPolicyModule.log_step`` logs and ``train_flat``, the share of groups whose rewards
    are all equal (no signal)."""

    def __init__(self, policy, reward, pad_id: int, clip: float = 0.2, **kwargs):
        super().__init__(policy, reward, pad_id, **kwargs)
        if not 0 < clip < 1:
            raise ValueError(f"clip={clip!r}; expected 0 < clip < 1 (PPO's clip range, 0.2 in TRL)")
        self.clip = clip

    def training_step(self, batch, batch_idx):
        roll = self.rollout(batch)
        logprobs = completion_logprobs(self.policy, roll["packed"], per_token=True)
        groups = roll["reward"].view(-1, self.k)
        advantages = group_advantages(groups).view(-1)
        mask = roll["packed"]["completion_mask"]
        loss = grpo_loss(logprobs, logprobs.detach(), roll["ref_logprobs"], advantages, mask, self.beta, self.clip)
        self.step(loss)
        self.log_step(batch, loss, roll["reward"], sequence_kl(logprobs.detach(), roll["ref_logprobs"]))
        flat = (groups.std(1) == 0).float().mean()
        self.log("train_flat", flat, batch_size=len(groups))
