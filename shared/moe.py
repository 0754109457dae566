"""A sparse mixture-of-experts (MoE) feed-forward layer, written to be read and checked against Mixtral.

A dense feed-forward network runs every token through the same weights. A mixture of experts keeps ``E``
feed-forward networks (the *experts*) and a *router* (one linear layer) that scores them for each token; the token
goes through its ``k`` best-scored experts only, and their outputs are mixed with the router's softmax weights:

    p = softmax(x W_r^T)                          (E router probabilities per token)
    y = sum over the top-k experts e of  g_e * expert_e(x),   g = top-k of p (renormalized to sum to 1 if k > 1)

So a token costs ``k`` experts' compute while the layer holds ``E`` experts' parameters. The experts here are
SwiGLU networks (``SwiGLU`` below: Llama's and Mixtral's feed-forward), stored as 3-D tensors in Mixtral's layout,
so ``copy_from_mixtral`` copies a ``transformers`` ``MixtralSparseMoeBlock`` one to one (tests/test_moe.py checks
that the outputs and router logits are equal).

The router learns from the task loss through the gate weights ``g`` and, to keep it from sending every token to
the same few experts, from an auxiliary **load-balancing loss** (Switch Transformer, eq. 4-6; Mixtral's form):

    aux = E * sum_e f_e * P_e,   f_e = share of tokens that chose expert e (among their k),  P_e = mean_tokens p_e

It is ``k`` when the load is perfectly even and grows as the router concentrates. An optional **capacity limit**
(``capacity_factor``) caps how many tokens an expert takes per batch, ``ceil(capacity_factor * N * k / E)``; the
tokens beyond it (later ones first) skip that expert: their output from it is 0 and a residual connection carries
them on, as in the Switch Transformer. A **shared expert** (``shared_d_ff``, DeepSeek-MoE) is a dense SwiGLU that
every token goes through beside its routed experts, with no gate: ``y = shared(x) + sum_e g_e * expert_e(x)``.

Speed: the tokens are sorted by expert, so each expert runs one matrix multiplication on a contiguous block of its
tokens (a loop over the E experts, never over tokens); ``bench/moe.py`` measures it against dense layers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _positive_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}={value!r}; expected a positive integer")
    return value


class SwiGLU(nn.Module):
    """The gated feed-forward network of Llama and Mixtral: ``down(silu(gate(x)) * up(x))``, no biases.

    ``gate_up`` holds the gate and the up projection stacked (rows 0..d_ff-1: gate, then up), as Mixtral stores each
    expert. Parameters: 3 * d_model * d_ff.
    """

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        _positive_int("d_model", d_model)
        _positive_int("d_ff", d_ff)
        self.gate_up = nn.Linear(d_model, 2 * d_ff, bias=False)
        self.down = nn.Linear(d_ff, d_model, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


def load_balancing_loss(router_logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """Switch Transformer / Mixtral auxiliary loss from router logits (N tokens, E experts): ``E * sum_e f_e P_e``.

    ``f_e``: the share of tokens whose top-k contains expert e (the shares sum to k); ``P_e``: the mean router
    probability of e. Even load gives ``k``; everything on k experts with probability near 1 gives ``E``. The
    gradient flows through ``P`` (``f`` counts discrete choices). Equals ``transformers``'
    ``load_balancing_loss_func`` for one layer without an attention mask.
    """
    if router_logits.dim() != 2:
        raise ValueError(f"router_logits: expected (tokens, experts); got shape {tuple(router_logits.shape)}")
    num_experts = router_logits.size(1)
    if not isinstance(top_k, int) or not 1 <= top_k <= num_experts:
        raise ValueError(f"top_k={top_k!r}; expected an integer between 1 and the number of experts ({num_experts})")
    probs = router_logits.softmax(dim=-1)
    chosen = probs.topk(top_k, dim=-1).indices
    share = torch.zeros_like(probs).scatter_(1, chosen, 1.0).mean(0)  # f_e
    return num_experts * (share * probs.mean(0)).sum()


def load_cv(tokens_per_expert) -> float:
    """Coefficient of variation (population std / mean) of the tokens each expert received: 0 = perfectly even."""
    counts = torch.as_tensor(tokens_per_expert, dtype=torch.float64)
    if counts.dim() != 1 or counts.numel() < 2 or counts.sum() <= 0 or (counts < 0).any():
        raise ValueError("expected a 1-D sequence of at least 2 non-negative counts with a positive total")
    return float(counts.std(unbiased=False) / counts.mean())


class SparseMoE(nn.Module):
    """A top-k mixture of ``num_experts`` SwiGLU experts: a drop-in for the dense feed-forward network.

    ``forward(x)`` maps (..., d_model) to the same shape, so it fits ``shared.layers.TransformerBlock(ff=...)``.
    After each call the layer keeps, for the training step and for plots:

    - ``router_logits`` (N, E), N = tokens in the batch;
    - ``aux_loss``: ``load_balancing_loss(router_logits, top_k)`` (add ``coefficient * aux_loss`` to the loss);
    - ``tokens_per_expert`` (E,): how many of the N * k assignments each expert received (before the capacity cut);
    - ``dropped``: the share of assignments the capacity limit dropped (0 without a limit).

    Parameters (Mixtral's layout): ``router.weight`` (E, d_model), ``gate_up`` (E, 2 * d_ff, d_model) with each
    expert's gate rows before its up rows, ``down`` (E, d_model, d_ff). ``renormalize`` (default: True for k > 1,
    False for k = 1) rescales the k gate weights to sum to 1, as Mixtral does; with k = 1 that would make the gate
    always 1 and leave the router nothing to learn from the task, so Switch keeps the raw probability.
    ``shared_d_ff``: add a **shared expert** (DeepSeek-MoE), a ``SwiGLU(d_model, shared_d_ff)`` that every token goes
    through with no gate, beside the routed ones (``shared``; None without one).
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        num_experts: int = 4,
        top_k: int = 2,
        capacity_factor: float | None = None,
        renormalize: bool | None = None,
        shared_d_ff: int | None = None,
    ):
        super().__init__()
        for name, value in (("d_model", d_model), ("d_ff", d_ff), ("num_experts", num_experts), ("top_k", top_k)):
            _positive_int(name, value)
        if top_k > num_experts:
            raise ValueError(f"top_k={top_k} > num_experts={num_experts}; a token cannot use more experts than exist")
        if capacity_factor is not None and not (isinstance(capacity_factor, (int, float)) and capacity_factor > 0):
            raise ValueError(f"capacity_factor={capacity_factor!r}; expected None (no limit) or a positive number")
        self.d_model, self.d_ff, self.num_experts, self.top_k = d_model, d_ff, num_experts, top_k
        self.capacity_factor = capacity_factor
        self.renormalize = top_k > 1 if renormalize is None else bool(renormalize)
        self.router = nn.Linear(d_model, num_experts, bias=False)
        self.gate_up = nn.Parameter(torch.empty(num_experts, 2 * d_ff, d_model))
        self.down = nn.Parameter(torch.empty(num_experts, d_model, d_ff))
        self.shared = None if shared_d_ff is None else SwiGLU(d_model, _positive_int("shared_d_ff", shared_d_ff))
        self.reset_parameters()
        self.router_logits = self.aux_loss = self.tokens_per_expert = None
        self.dropped = 0.0

    def reset_parameters(self) -> None:
        """Each expert initialized like ``nn.Linear`` (uniform in +-1/sqrt(fan_in)), as a dense ``SwiGLU`` is."""
        nn.init.uniform_(self.gate_up, -(self.d_model**-0.5), self.d_model**-0.5)
        nn.init.uniform_(self.down, -(self.d_ff**-0.5), self.d_ff**-0.5)

    def capacity(self, num_tokens: int) -> int | None:
        """Most assignments one expert takes from a batch of ``num_tokens`` tokens (None: no limit)."""
        if self.capacity_factor is None:
            return None
        return max(1, math.ceil(self.capacity_factor * num_tokens * self.top_k / self.num_experts))

    def route(self, x: torch.Tensor):
        """Router for (N, d_model) tokens: ``(logits (N, E), gate weights (N, k), expert indices (N, k))``."""
        logits = self.router(x)
        weights, experts = logits.softmax(dim=-1).topk(self.top_k, dim=-1)
        if self.renormalize:
            weights = weights / weights.sum(dim=-1, keepdim=True)
        return logits, weights, experts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or x.size(-1) != self.d_model:
            raise ValueError(f"expected input (..., d_model={self.d_model}); got shape {tuple(x.shape)}")
        shape, x = x.shape, x.reshape(-1, self.d_model)
        logits, weights, experts = self.route(x)
        flat = experts.flatten()  # the N * k (token, expert) assignments, token-major
        order = torch.sort(flat, stable=True).indices  # grouped by expert; token order kept inside each group
        counts = torch.bincount(flat, minlength=self.num_experts)
        kept = counts
        limit = self.capacity(x.size(0))
        if limit is not None:  # an assignment's rank inside its expert's group decides whether it fits
            starts = (counts.cumsum(0) - counts).repeat_interleave(counts)
            fits = torch.arange(flat.numel(), device=x.device) - starts < limit
            order, kept = order[fits], counts.clamp(max=limit)
        token = order // self.top_k
        blocks = x[token].split(kept.tolist())  # one contiguous block of tokens per expert
        outputs = [self._expert(e, block) for e, block in enumerate(blocks) if block.size(0)]
        mixed = torch.cat(outputs) * weights.flatten()[order, None] if outputs else x.new_zeros(0, self.d_model)
        y = x.new_zeros(x.shape).index_add(0, token, mixed)
        if self.shared is not None:  # DeepSeek-MoE's shared expert: every token, no gate
            y = y + self.shared(x)
        self.router_logits, self.tokens_per_expert = logits, counts
        self.aux_loss = load_balancing_loss(logits, self.top_k)
        self.dropped = 1.0 - order.numel() / flat.numel()
        return y.reshape(shape)

    def _expert(self, e: int, tokens: torch.Tensor) -> torch.Tensor:
        gate, up = F.linear(tokens, self.gate_up[e]).chunk(2, dim=-1)
        return F.linear(F.silu(gate) * up, self.down[e])

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, d_ff={self.d_ff}, num_experts={self.num_experts}, top_k={self.top_k}, "
            f"capacity_factor={self.capacity_factor}, renormalize={self.renormalize}, "
            f"shared_d_ff={None if self.shared is None else self.shared.down.in_features}"
        )


@torch.no_grad()
def copy_from_mixtral(moe: SparseMoE, block) -> SparseMoE:
    """Copy a ``transformers`` ``MixtralSparseMoeBlock`` into ``moe`` (in place): router ``gate.weight`` ->
    ``router.weight``, ``experts.gate_up_proj`` -> ``gate_up``, ``experts.down_proj`` -> ``down``."""
    theirs = {"router": block.gate.weight, "gate_up": block.experts.gate_up_proj, "down": block.experts.down_proj}
    ours = {"router": moe.router.weight, "gate_up": moe.gate_up, "down": moe.down}
    for name, tensor in theirs.items():
        if tensor.shape != ours[name].shape:
            raise ValueError(
                f"{name}: Mixtral's block has shape {tuple(tensor.shape)}, ours "
                f"{tuple(ours[name].shape)}; expected the same d_model, d_ff and num_experts"
            )
    if moe.shared is not None:
        raise ValueError("Mixtral's block has no shared expert; expected a SparseMoE with shared_d_ff=None")
    if block.top_k != moe.top_k or not moe.renormalize:
        raise ValueError(
            f"Mixtral routes to top_k={block.top_k} with renormalized gates; ours has top_k={moe.top_k},"
            f" renormalize={moe.renormalize}"
        )
    probe = torch.linspace(-4, 4, 9, dtype=moe.down.dtype, device=moe.down.device)
    if not torch.allclose(block.experts.act_fn(probe), F.silu(probe)):
        raise ValueError(f"Mixtral's experts use {block.experts.act_fn}; expected SiLU (hidden_act='silu')")
    for name, tensor in theirs.items():
        ours[name].copy_(tensor)
    return moe
