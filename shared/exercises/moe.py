"""Checked exercises of lesson 21 (mixture of experts): a router's top-k gates, and the load-balancing loss."""

from __future__ import annotations

import torch

from shared.exercises.core import Exercise, Mistake, namespaces
from shared.moe import load_balancing_loss


def top_k_gates(logits, k, renormalize):
    """Each token's ``k`` best experts (best first) and their gate weights, from router logits (N tokens, E experts):
    the softmax over all E experts, then the k largest per token; with ``renormalize`` they are rescaled to sum to 1."""
    gates, experts = logits.softmax(dim=-1).topk(k, dim=-1)
    if renormalize:
        gates = gates / gates.sum(dim=-1, keepdim=True)
    return gates, experts


def _gate_cases():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=g, dtype=torch.float64) * 2
    wide = torch.randn(5, 8, generator=g, dtype=torch.float64) * 2
    return [(logits, 2, True), (logits, 1, False), (wide, 2, False), (wide, 3, True)]


def _softmax_after_top_k(logits, k, renormalize):
    best, experts = logits.topk(k, dim=-1)
    return best.softmax(dim=-1), experts


def _not_renormalized(logits, k, renormalize):
    return logits.softmax(dim=-1).topk(k, dim=-1)


def _top_k_over_tokens(logits, k, renormalize):
    gates, experts = logits.softmax(dim=-1).topk(k, dim=0)
    if renormalize:
        gates = gates / gates.sum(dim=0, keepdim=True)
    return gates, experts


def _aux_cases():
    g = torch.Generator().manual_seed(1)
    skewed = torch.randn(12, 4, generator=g, dtype=torch.float64) + torch.tensor([2.0, 0.0, 0.0, -1.0])
    return [(skewed, 1), (skewed, 2), (torch.randn(16, 6, generator=g, dtype=torch.float64) * 3, 2)]


def _no_num_experts(router_logits, top_k):
    probs = router_logits.softmax(dim=-1)
    chosen = torch.zeros_like(probs).scatter_(1, probs.topk(top_k, dim=-1).indices, 1.0)
    return (chosen.mean(0) * probs.mean(0)).sum()


def _share_from_probabilities(router_logits, top_k):
    probs = router_logits.softmax(dim=-1)
    return router_logits.size(1) * (probs.mean(0) * probs.mean(0)).sum()


def _share_from_top_1(router_logits, top_k):
    probs = router_logits.softmax(dim=-1)
    chosen = torch.zeros_like(probs).scatter_(1, probs.argmax(dim=-1, keepdim=True), 1.0)
    return router_logits.size(1) * (chosen.mean(0) * probs.mean(0)).sum()


EXERCISES = [
    Exercise(
        key="q1",
        title="a router's top-k gates",
        reference=top_k_gates,
        cases=_gate_cases,
        verified="the gates and experts equal the softmax over all experts, then the top k per token, renormalized "
        "only when asked, on 4 float64 cases (k = 1, 2, 3; 4 and 8 experts)",
        hints=[
            "Probabilities first: logits.softmax(dim=-1) over the E experts of each token. Then .topk(k, dim=-1) "
            "gives the k largest per token, best first: (gates, experts).",
            "With renormalize, divide the k gates by their sum over the last axis (keepdim=True) so that each "
            "token's gates sum to 1; without it, keep the probabilities as they are (Switch's top-1 gate).",
        ],
        mistakes=[
            Mistake(
                "softmax_after_top_k",
                _softmax_after_top_k,
                "the softmax is taken over the k chosen logits only. That always "
                "renormalizes the gates (with k = 1 every gate is exactly 1, and the router learns nothing from the "
                "task). Take the softmax over all E experts first, then the top k.",
            ),
            Mistake(
                "not_renormalized",
                _not_renormalized,
                "the gates are not renormalized when renormalize is True: Mixtral "
                "divides the k chosen probabilities by their sum, so each token's gates sum to 1.",
            ),
            Mistake(
                "top_k_over_tokens",
                _top_k_over_tokens,
                "top-k runs over the tokens (dim=0): that picks the k tokens that "
                "like each expert most (expert choice), not each token's k best experts. Use dim=-1.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="the load-balancing loss",
        reference=load_balancing_loss,
        cases=_aux_cases,
        verified="the loss equals E * sum_e f_e P_e on 3 float64 batches of router logits (top-1 and top-2, 4 and 6 "
        "experts)",
        hints=[
            "P_e is the mean router probability of expert e over the tokens: router_logits.softmax(-1).mean(0). "
            "f_e is the share of tokens whose top k contains e: mark each token's k chosen experts with 1 "
            "(torch.zeros_like(probs).scatter_(1, indices, 1.0)) and take the mean over the tokens.",
            "Multiply f and P, sum over the experts, and multiply by E = router_logits.size(1), so that an even "
            "load gives k whatever the number of experts.",
        ],
        mistakes=[
            Mistake(
                "no_num_experts",
                _no_num_experts,
                "the factor E (the number of experts) is missing. Without it an "
                "even load gives k / E, so the loss and its best weight change with the number of experts; with it "
                "an even load gives k.",
            ),
            Mistake(
                "share_from_probabilities",
                _share_from_probabilities,
                "f, the share of tokens sent to each expert, is computed from the "
                "probabilities (it equals P here). f counts the experts each token was really routed to: the top-k "
                "choices, as 0/1 marks.",
            ),
            Mistake(
                "share_from_top_1",
                _share_from_top_1,
                "f counts only each token's best expert. With top_k > 1 a token "
                "goes to k experts, and f counts all of them (the shares sum to k).",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
