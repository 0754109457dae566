"""shared.moe: the sparse MoE layer equals transformers' Mixtral block, the auxiliary loss has its hand-computed
values, the capacity limit drops what it should, and bad configurations fail clearly."""

import math

import pytest
import torch
from transformers import MixtralConfig
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock, load_balancing_loss_func

from shared.layers import TransformerBlock
from shared.moe import SparseMoE, SwiGLU, copy_from_mixtral, load_balancing_loss, load_cv


def mixtral_pair(d_model=16, d_ff=24, experts=4, top_k=2, seed=0):
    torch.manual_seed(seed)
    config = MixtralConfig(
        hidden_size=d_model, intermediate_size=d_ff, num_local_experts=experts, num_experts_per_tok=top_k
    )
    block = MixtralSparseMoeBlock(config).double()
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.3)
    ours = copy_from_mixtral(SparseMoE(d_model, d_ff, experts, top_k, renormalize=True).double(), block)
    return ours, block


@pytest.mark.parametrize("experts, top_k", [(4, 2), (8, 2), (4, 1), (3, 3)])
def test_equals_mixtral_sparse_moe_block_float64(experts, top_k):
    ours, block = mixtral_pair(experts=experts, top_k=top_k)
    x = torch.randn(3, 7, 16, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    out, ref = ours(x), block(x_ref)
    # Mixtral takes its router softmax in float32 even for float64 inputs: gates agree to ~1e-7, not 1e-15.
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-6)
    router_logits = block.gate(x_ref.reshape(-1, 16))[0]
    torch.testing.assert_close(ours.router_logits, router_logits, atol=1e-12, rtol=0)
    grad = torch.randn_like(out)
    out.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(x.grad, x_ref.grad, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours.down.grad, block.experts.down_proj.grad, atol=1e-6, rtol=1e-6)


def test_sorted_dispatch_equals_a_per_token_loop():
    torch.manual_seed(1)
    moe = SparseMoE(8, 6, num_experts=5, top_k=2).double()
    x = torch.randn(20, 8, dtype=torch.float64)
    with torch.no_grad():
        y = moe(x)
        probs = moe.router(x).softmax(-1)
        expected = torch.zeros_like(x)
        for t in range(20):
            weights, experts = probs[t].topk(2)
            for w, e in zip(weights / weights.sum(), experts.tolist(), strict=True):
                expected[t] += w * moe._expert(e, x[t : t + 1])[0]
    torch.testing.assert_close(y, expected)
    assert moe.tokens_per_expert.sum() == 40 and moe.dropped == 0.0


def test_top1_keeps_the_raw_router_probability_like_switch():
    torch.manual_seed(2)
    moe = SparseMoE(8, 6, num_experts=3, top_k=1)
    assert not moe.renormalize
    x = torch.randn(5, 8)
    with torch.no_grad():
        y = moe(x)
        p, e = moe.router(x).softmax(-1).max(-1)
        expected = torch.stack([p[t] * moe._expert(int(e[t]), x[t : t + 1])[0] for t in range(5)])
    torch.testing.assert_close(y, expected)


def test_aux_loss_hand_values():
    # 2 tokens, 2 experts, top-1. Both prefer expert 0 with p = (0.75, 0.25): f = (1, 0), P = (0.75, 0.25).
    skewed = torch.tensor([[math.log(3.0), 0.0], [math.log(3.0), 0.0]])
    assert load_balancing_loss(skewed, 1).item() == pytest.approx(2 * (1 * 0.75 + 0 * 0.25))  # 1.5
    # One token each way: f = (0.5, 0.5), P = (0.5, 0.5): the minimum, 1 = k.
    even = torch.tensor([[math.log(3.0), 0.0], [0.0, math.log(3.0)]])
    assert load_balancing_loss(even, 1).item() == pytest.approx(1.0)
    # Everything confidently on one of 4 experts approaches E = 4.
    collapsed = torch.tensor([[30.0, 0.0, 0.0, 0.0]] * 6)
    assert load_balancing_loss(collapsed, 1).item() == pytest.approx(4.0, abs=1e-6)


@pytest.mark.parametrize("top_k", [1, 2, 3])
def test_aux_loss_equals_transformers(top_k):
    logits = torch.randn(50, 6, generator=torch.Generator().manual_seed(top_k))
    ours = load_balancing_loss(logits, top_k)
    theirs = load_balancing_loss_func((logits,), num_experts=6, top_k=top_k)
    torch.testing.assert_close(ours, theirs)


def test_aux_loss_is_stored_and_has_a_gradient_for_the_router():
    moe = SparseMoE(8, 4, num_experts=4, top_k=2)
    moe(torch.randn(2, 5, 8))
    assert moe.router_logits.shape == (10, 4)
    torch.testing.assert_close(moe.aux_loss, load_balancing_loss(moe.router_logits, 2))
    moe.aux_loss.backward()
    assert moe.router.weight.grad.abs().sum() > 0 and moe.down.grad is None


def test_capacity_limit_drops_later_tokens():
    moe = SparseMoE(4, 3, num_experts=2, top_k=1, capacity_factor=1.0)
    with torch.no_grad():
        moe.router.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]]))  # x[0] > 0 -> expert 0
    x = torch.tensor([[1.0, 0.5, 0, 0], [2.0, 0, 1, 0], [1.5, 0, 0, 1], [3.0, 1, 1, 1]])
    assert moe.capacity(4) == 2  # ceil(1.0 * 4 tokens * k=1 / 2 experts)
    with torch.no_grad():
        y = moe(x)
        unlimited = SparseMoE(4, 3, num_experts=2, top_k=1)
        unlimited.load_state_dict(moe.state_dict())
        full = unlimited(x)
    assert moe.tokens_per_expert.tolist() == [4, 0] and moe.dropped == 0.5
    torch.testing.assert_close(y[:2], full[:2])  # the first two tokens fit
    assert torch.equal(y[2:], torch.zeros(2, 4))  # the last two skip the expert (a residual carries them)


def test_load_cv():
    assert load_cv([5, 5, 5, 5]) == 0.0
    assert load_cv([2, 0]) == pytest.approx(1.0)
    assert load_cv(torch.tensor([3, 1])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="non-negative counts"):
        load_cv([0, 0])


def test_moe_in_the_transformer_block():
    torch.manual_seed(0)
    moe = SparseMoE(16, 8, num_experts=4, top_k=2)
    block = TransformerBlock(16, 2, d_ff=999, dropout=0.0, norm_first=True, ff=moe)
    assert block.ff is moe
    out = block(torch.randn(2, 5, 16))
    assert out.shape == (2, 5, 16) and moe.router_logits.shape == (10, 4)
    (out.sum() + moe.aux_loss).backward()
    assert moe.router.weight.grad is not None and moe.gate_up.grad is not None


def test_swiglu_counts_and_values():
    ff = SwiGLU(8, 5)
    assert sum(p.numel() for p in ff.parameters()) == 3 * 8 * 5
    x = torch.randn(3, 8)
    gate, up = ff.gate_up.weight[:5], ff.gate_up.weight[5:]
    expected = (torch.nn.functional.silu(x @ gate.T) * (x @ up.T)) @ ff.down.weight.T
    torch.testing.assert_close(ff(x), expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_experts=2, top_k=3), "top_k=3 > num_experts=2"),
        (dict(top_k=0), "top_k=0; expected a positive integer"),
        (dict(num_experts=0), "num_experts=0"),
        (dict(capacity_factor=0), "capacity_factor=0"),
        (dict(d_ff=2.5), "d_ff=2.5"),
        (dict(shared_d_ff=0), "shared_d_ff=0"),
    ],
)
def test_bad_configurations_raise(kwargs, match):
    config = dict(d_model=8, d_ff=4, num_experts=4, top_k=2) | kwargs
    with pytest.raises(ValueError, match=match):
        SparseMoE(**config)


def test_bad_inputs_raise():
    moe = SparseMoE(8, 4)
    with pytest.raises(ValueError, match="d_model=8"):
        moe(torch.randn(3, 7))
    with pytest.raises(ValueError, match="top_k=5"):
        load_balancing_loss(torch.randn(4, 3), 5)
    with pytest.raises(ValueError, match="expected \\(tokens, experts\\)"):
        load_balancing_loss(torch.randn(4), 1)
    with pytest.raises(ValueError, match="ff="):
        TransformerBlock(8, 2, 16, ff="moe")
    _, block = mixtral_pair(d_model=16, d_ff=24)
    with pytest.raises(ValueError, match="same d_model, d_ff and num_experts"):
        copy_from_mixtral(SparseMoE(16, 12, 4, 2).double(), block)
    with pytest.raises(ValueError, match="top_k=1"):
        copy_from_mixtral(SparseMoE(16, 24, 4, 1).double(), block)
    with pytest.raises(ValueError, match="no shared expert"):
        copy_from_mixtral(SparseMoE(16, 24, 4, 2, shared_d_ff=8).double(), block)


def test_a_shared_expert_adds_an_ungated_swiglu_for_every_token():
    torch.manual_seed(3)
    moe = SparseMoE(8, 6, num_experts=3, top_k=1, shared_d_ff=4).double()
    routed = SparseMoE(8, 6, num_experts=3, top_k=1).double()
    routed.load_state_dict({k: v for k, v in moe.state_dict().items() if not k.startswith("shared.")})
    x = torch.randn(7, 8, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(moe(x), routed(x) + moe.shared(x))
    assert sum(p.numel() for p in moe.shared.parameters()) == 3 * 8 * 4 and routed.shared is None
    assert "shared_d_ff=4" in repr(moe)
