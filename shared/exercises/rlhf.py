"""Checked exercises of lesson 22 (RLHF): the Bradley–Terry loss, the DPO loss, GRPO's group-standardized advantages."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, difference, namespaces


def bradley_terry_loss(r_chosen, r_rejected):
    """mean over pairs of -log sigmoid(r_chosen - r_rejected)."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()


def _score_cases():
    g = torch.Generator().manual_seed(0)
    chosen, rejected = torch.randn(6, generator=g) * 2, torch.randn(6, generator=g) * 2
    far = torch.tensor([3.0, -150.0]), torch.tensor([0.0, 0.0])  # a pair ranked very wrongly: log(sigmoid) underflows
    return [(chosen, rejected), far, (torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0]))]


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    """mean over pairs of -log sigmoid(beta * [(log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))])."""
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


def _dpo_cases():
    g = torch.Generator().manual_seed(1)
    cases = []
    for beta, n in ((0.1, 5), (0.5, 3)):
        logprobs = [-20.0 + 6.0 * torch.randn(n, generator=g) for _ in range(4)]
        cases.append((*logprobs, beta))
    return cases


def group_advantages(rewards, eps=1e-4):
    """rewards (groups, k) -> (reward - group mean) / (group std + eps), the std torch's default (Bessel-corrected)."""
    mean = rewards.mean(dim=1, keepdim=True)
    std = rewards.std(dim=1, keepdim=True)
    return (rewards - mean) / (std + eps)


def _group_cases():
    g = torch.Generator().manual_seed(2)
    graded = torch.randn(3, 4, generator=g) + torch.tensor([[0.0], [3.0], [-2.0]])  # groups with different means
    verifiable = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 0.0]])  # one group flat
    return [(graded,), (verifiable,), (torch.tensor([[2.0, 4.0, 6.0, 8.0, 10.0, 0.0]]),)]


def _advantages_close(got, expected):
    """Where the eps goes (std + eps, sqrt(var + eps), a clamp) changes the result by about eps: accept all three."""
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.is_floating_point():
        if torch.equal(got.isnan(), expected.isnan()) and torch.allclose(got, expected, rtol=1e-3, atol=1e-3):
            return None
    return difference(got, expected)


EXERCISES = [
    Exercise(
        key="q1",
        title="the Bradley–Terry loss",
        reference=bradley_terry_loss,
        cases=_score_cases,
        verified="the loss equals mean(-log sigmoid(r_chosen - r_rejected)) on 3 batches of scores, among them "
        "a pair ranked the wrong way by 150 (loss 150, not infinity) and the by-hand pair (0.7201)",
        hints=[
            "The probability that chosen beats rejected is sigmoid(r_chosen - r_rejected). The loss is the negative "
            "log of that probability, averaged over the pairs.",
            "torch.nn.functional.logsigmoid(x) computes log(sigmoid(x)) without underflow: "
            "-F.logsigmoid(r_chosen - r_rejected).mean().",
        ],
        mistakes=[
            Mistake(
                "sign_flipped",
                lambda c, r: -F.logsigmoid(r - c).mean(),
                "the difference is r_rejected - r_chosen: minimizing this loss trains the reward model to prefer "
                "the rejected answers. The likelihood of a preference is sigmoid(r_chosen - r_rejected).",
            ),
            Mistake(
                "no_log",
                lambda c, r: -torch.sigmoid(c - r).mean(),
                "the loss is -sigmoid(margin), the probability itself, without the log. That is not a likelihood "
                "loss: its gradient vanishes for pairs ranked very wrongly (sigmoid is flat there), exactly the "
                "pairs with the most to learn. Take -log sigmoid(margin).",
            ),
            Mistake(
                "sum_not_mean",
                lambda c, r: -F.logsigmoid(c - r).sum(),
                "the loss is summed over the pairs: it grows with the batch size, and so does the step the optimizer "
                "takes. Average over the pairs (.mean()).",
            ),
            Mistake(
                "log_of_sigmoid",
                lambda c, r: -torch.log(torch.sigmoid(c - r)).mean(),
                "torch.log(torch.sigmoid(x)) underflows: for a pair ranked wrongly by 150, sigmoid(-150) is 0 in "
                "float32 and the loss becomes infinite. F.logsigmoid(x) computes the same value stably.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="the DPO loss",
        reference=dpo_loss,
        cases=_dpo_cases,
        verified="the loss equals mean(-log sigmoid(beta * margin of the log-ratios)) on 2 batches of summed "
        "log-probabilities, with beta = 0.1 and 0.5",
        hints=[
            "Each completion's implicit reward is beta * (log pi(y|x) - log ref(y|x)): the policy's log-probability "
            "minus the reference's, for the same completion. DPO is the Bradley–Terry loss on those rewards.",
            "margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected); "
            "loss = -F.logsigmoid(beta * margin).mean().",
        ],
        mistakes=[
            Mistake(
                "sign_flipped",
                lambda pc, pr, rc, rr, beta: -F.logsigmoid(-beta * ((pc - rc) - (pr - rr))).mean(),
                "the margin has the wrong sign (rejected minus chosen, or reference minus policy on both sides): "
                "this loss makes the rejected completions more likely. The chosen completion's log-ratio "
                "log pi - log ref comes first.",
            ),
            Mistake(
                "no_beta",
                lambda pc, pr, rc, rr, beta: -F.logsigmoid((pc - rc) - (pr - rr)).mean(),
                "beta is missing. It scales the implicit reward beta * log(pi / ref) and sets how far the policy "
                "may move from the reference: without it every beta trains the same policy.",
            ),
            Mistake(
                "beta_outside",
                lambda pc, pr, rc, rr, beta: -beta * F.logsigmoid((pc - rc) - (pr - rr)).mean(),
                "beta multiplies the loss instead of the margin inside the sigmoid. That only rescales the "
                "gradient (a learning-rate change); beta belongs inside: -log sigmoid(beta * margin).",
            ),
            Mistake(
                "reference_added",
                lambda pc, pr, rc, rr, beta: -F.logsigmoid(beta * ((pc - pr) + (rc - rr))).mean(),
                "the reference's margin is added: log(pi / ref) = log pi - log ref, so the reference's "
                "log-probabilities are subtracted, each from the policy's for the same completion.",
            ),
            Mistake(
                "no_reference",
                lambda pc, pr, rc, rr, beta: -F.logsigmoid(beta * (pc - pr)).mean(),
                "the reference is left out: the margin uses the policy's log-probabilities alone. DPO's reward is "
                "the log-ratio to the reference; without it nothing holds the policy near the SFT model.",
            ),
        ],
    ),
    Exercise(
        key="q3",
        title="GRPO's group-standardized advantages",
        reference=group_advantages,
        cases=_group_cases,
        compare=_advantages_close,
        verified="the advantages equal (r - group mean) / (group std + eps) on 3 batches of groups, among them a "
        "group whose rewards are all equal (advantage 0, not NaN)",
        hints=[
            "One row is one prompt's group of k samples. Standardize within each row: subtract the row's mean and "
            "divide by the row's standard deviation (keepdim=True keeps the shapes broadcastable).",
            "A group whose samples all get the same reward has std 0; add eps to the std so its advantages are "
            "0 / eps = 0: (rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + eps).",
        ],
        mistakes=[
            Mistake(
                "whole_batch",
                lambda r, eps=1e-4: (r - r.mean()) / (r.std() + eps),
                "the rewards are standardized over the whole batch, not per group. GRPO compares each sample with "
                "its siblings for the same prompt: an easy prompt would otherwise give all its samples a positive "
                "advantage. Use mean(dim=1, keepdim=True) and std(dim=1, keepdim=True).",
            ),
            Mistake(
                "no_eps",
                lambda r, eps=1e-4: (r - r.mean(1, keepdim=True)) / r.std(1, keepdim=True),
                "a group whose rewards are all equal (every sample passes, or every sample fails: common with a "
                "0/1 reward) has std 0, and 0 / 0 is NaN, which poisons the whole update. Add eps to the std.",
            ),
            Mistake(
                "no_centering",
                lambda r, eps=1e-4: r / (r.std(1, keepdim=True) + eps),
                "the group mean is not subtracted, so every sample with a positive reward gets a positive "
                "advantage. The baseline (the group mean) is what makes the better half go up and the worse half "
                "go down.",
            ),
            Mistake(
                "population_std",
                lambda r, eps=1e-4: (r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True, correction=0) + eps),
                "the std is the population std (correction=0 / unbiased=False). That only rescales every "
                "advantage by sqrt(k / (k - 1)), but GRPO (and TRL) use torch's default sample std: "
                "rewards.std(dim=1, keepdim=True).",
            ),
            Mistake(
                "not_scaled",
                lambda r, eps=1e-4: r - r.mean(1, keepdim=True),
                "the rewards are centered but not divided by the group's std. That is a real variant (Dr. GRPO "
                "drops the division), but GRPO standardizes so that every prompt's group speaks with the same "
                "weight whatever its reward spread.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
