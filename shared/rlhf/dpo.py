"""Direct preference optimization (Rafailov et al., 2023): a policy trained on preference pairs directly, without a
reward model and without sampling, against a frozen copy of itself (the reference).

For a prompt ``x`` with a chosen completion ``y_w`` and a rejected one ``y_l``, with ``log pi(y|x)`` the summed
log-probability of a completion's tokens::

    loss = -log sigmoid( beta * [ (log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x)) ] )

``beta * (log pi(y|x) - log ref(y|x))`` is DPO's *implicit reward*: the loss is the Bradley–Terry loss of
``shared.rlhf.preference`` applied to it, and its optimum is the policy that maximizes that reward with a KL penalty
``beta`` to the reference. ``beta`` small: the policy may move far from the reference; large: it stays close.

Sequences use ``shared.rlhf.preference.pack``'s layout (left-padded prompt, right-padded completion).
"""

from __future__ import annotations

import copy

import pytorch_lightning as pl
import torch

from shared.models import disable_dropout
from shared.rlhf.preference import bradley_terry_loss


def completion_logprobs(model, batch: dict, per_token: bool = False) -> torch.Tensor:
    """``log pi(completion | prompt)`` under a causal LM for a ``pack``-ed batch: one sum per row (batch,), or with
    ``per_token=True`` each completion token's log-probability (batch, C), 0 at padding."""
    keys = {"input_ids", "attention_mask", "completion_mask"}
    if not isinstance(batch, dict) or not keys <= set(batch):
        raise ValueError(
            f"expected a packed batch with {sorted(keys)} (shared.rlhf.preference.pack); got "
            f"{sorted(batch) if isinstance(batch, dict) else type(batch).__name__}"
        )
    ids, mask, keep = batch["input_ids"], batch["attention_mask"], batch["completion_mask"]
    width = keep.size(1)
    prompt_len = ids.size(1) - width
    if prompt_len < 1:
        raise ValueError(f"expected at least one prompt token before the {width} completion columns")
    pos = batch.get("position_ids", (mask.long().cumsum(-1) - 1).clamp(min=0))
    logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits[:, prompt_len - 1 : -1]
    token = logits.float().log_softmax(-1).gather(-1, ids[:, prompt_len:].unsqueeze(-1)).squeeze(-1)
    token = token * keep
    return token if per_token else token.sum(-1)


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """DPO's loss (module docstring), averaged over pairs, from the four summed log-probabilities per pair."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
        raise ValueError(f"beta={beta!r}; expected a number > 0 (the strength of the pull towards the reference)")
    tensors = (policy_chosen, policy_rejected, ref_chosen, ref_rejected)
    if not all(isinstance(t, torch.Tensor) and t.is_floating_point() for t in tensors):
        raise ValueError("expected four float tensors of summed log-probabilities (one value per pair)")
    if len({tuple(t.shape) for t in tensors}) != 1:
        raise ValueError(f"expected four tensors of the same shape; got {[tuple(t.shape) for t in tensors]}")
    return bradley_terry_loss(beta * (policy_chosen - ref_chosen), beta * (policy_rejected - ref_rejected))


def frozen_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A deep copy in eval mode with every parameter frozen: the reference model."""
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


class DPOModule(pl.LightningModule):
    """Trains ``policy`` (a causal LM) with ``dpo_loss`` on ``shared.rlhf.preference.pair_loader`` batches, against a
    frozen copy taken when the module is built (or ``reference``). Dropout is switched off in both.

    Logs ``train_loss``, ``train_acc`` (the share of pairs whose implicit reward ranks chosen first) and
    ``train_margin`` (mean implicit-reward margin, chosen minus rejected).
    """

    def __init__(self, policy, beta: float = 0.1, lr: float = 1e-4, reference=None):
        super().__init__()
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0 or not lr > 0:
            raise ValueError(f"beta={beta!r}, lr={lr!r}; expected both > 0")
        self.policy = disable_dropout(policy).train()  # it may come in eval mode (after sampling from it)
        reference = self.policy if reference is None else disable_dropout(reference)
        # dropout is off, so train mode changes nothing in the frozen copy (and Lightning sees no module in eval mode)
        self.reference = frozen_copy(reference).train()
        self.beta, self.lr = beta, lr

    def training_step(self, batch, batch_idx):
        chosen, rejected = batch["chosen"], batch["rejected"]
        pc, pr = completion_logprobs(self.policy, chosen), completion_logprobs(self.policy, rejected)
        with torch.no_grad():
            rc, rr = completion_logprobs(self.reference, chosen), completion_logprobs(self.reference, rejected)
        loss = dpo_loss(pc, pr, rc, rr, self.beta)
        margin = self.beta * ((pc - rc) - (pr - rr)).detach()
        size = len(pc)
        self.log("train_loss", loss, prog_bar=True, batch_size=size)
        self.log("train_acc", (margin > 0).float().mean(), batch_size=size)
        self.log("train_margin", margin.mean(), batch_size=size)
        return loss

    def configure_optimizers(self):
        return torch.optim.AdamW(self.policy.parameters(), lr=self.lr, weight_decay=0.0)
