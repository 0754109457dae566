"""shared.layers must agree with PyTorch's own layers: outputs, input gradients, parameter gradients.

Comparisons run in float64 so tolerances can be tight. nn.TransformerEncoderLayer is compared in
training mode with dropout=0.0: training mode (and inputs that require grad) switches off its
inference "fast path", so every position, padded ones included, must match. A separate eval-mode test
lets the fast path run and compares only the non-padded positions (the fast path may write zeros at
padded positions).
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.layers import (
    FeedForward,
    LearnedPositionalEncoding,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    TransformerBlock,
    attention,
    causal_mask,
    copy_from_torch_encoder_layer,
    copy_from_torch_mha,
    padding_mask,
)

B, L, D, H = 2, 5, 16, 4
DT = torch.float64


def torch_name(name):
    """Our parameter name -> the matching nn.MultiheadAttention / nn.TransformerEncoderLayer name."""
    return name.replace("ff.", "").replace("in_proj.", "in_proj_")


def assert_same_grads(ours, theirs, atol=1e-10):
    theirs = dict(theirs.named_parameters())
    ours = {torch_name(n): p for n, p in ours.named_parameters()}
    assert ours.keys() == theirs.keys()
    for name, p in ours.items():
        assert p.grad is not None and theirs[name].grad is not None, name
        torch.testing.assert_close(p.grad, theirs[name].grad, atol=atol, rtol=0, msg=name)


def kpm(lengths, Lk):
    """key_padding_mask (True = PAD) for sequences of the given lengths."""
    return torch.arange(Lk)[None, :] >= torch.tensor(lengths)[:, None]


# ---------------------------------------------------------------- attention()


def qkv(Lq=L, Lk=L, requires_grad=False):
    g = torch.Generator().manual_seed(0)
    shapes = ((B, H, Lq, 8), (B, H, Lk, 8), (B, H, Lk, 6))
    return [torch.randn(*s, generator=g, dtype=DT, requires_grad=requires_grad) for s in shapes]


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal", "padding", "cross"])
def test_attention_matches_sdpa(kind):
    Lk = 7 if kind == "cross" else L
    q, k, v = qkv(L, Lk, requires_grad=True)
    q2, k2, v2 = (t.detach().clone().requires_grad_() for t in (q, k, v))
    g = torch.Generator().manual_seed(1)
    mask, sdpa_kw = None, {}
    if kind == "bool":
        mask = torch.rand(L, Lk, generator=g) > 0.3
        mask[:, 0] = True  # every query keeps at least one key
    elif kind == "float":
        mask = torch.randn(L, Lk, generator=g, dtype=DT)
    elif kind == "padding":
        mask = padding_mask(torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]))
    if kind == "causal":
        out, w = attention(q, k, v, mask=causal_mask(L))
        sdpa_kw = {"is_causal": True}
    else:
        out, w = attention(q, k, v, mask=mask)
        sdpa_kw = {"attn_mask": mask}
    ref = F.scaled_dot_product_attention(q2, k2, v2, **sdpa_kw)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    torch.testing.assert_close(w.sum(-1), torch.ones(B, H, L, dtype=DT))
    g_out = torch.randn(ref.shape, generator=g, dtype=DT)
    (out * g_out).sum().backward()
    (ref * g_out).sum().backward()
    for a, b in ((q, q2), (k, k2), (v, v2)):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-6, rtol=0)
    if kind == "causal":
        assert (w[..., 0, 1:] == 0).all() and (w.triu(1) == 0).all()


@pytest.mark.parametrize("float_mask", [False, True])
def test_attention_fully_masked_row_is_zero_like_sdpa(float_mask):
    q, k, v = qkv(requires_grad=True)
    mask = torch.ones(L, L, dtype=torch.bool)
    mask[2] = False  # query 2 may attend to nothing
    if float_mask:
        mask = torch.zeros(L, L, dtype=DT).masked_fill(~mask, float("-inf"))
    out, w = attention(q, k, v, mask=mask)
    assert (out[..., 2, :] == 0).all() and (w[..., 2, :] == 0).all()
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)
    out.sum().backward()
    assert all(t.grad.isfinite().all() for t in (q, k, v))


def test_attention_dropout_only_in_training():
    q, k, v = qkv()
    ref, _ = attention(q, k, v)
    torch.testing.assert_close(attention(q, k, v, dropout_p=0.5, training=False)[0], ref)
    torch.manual_seed(0)
    out, w = attention(q, k, v, dropout_p=0.5, training=True)
    assert (w == 0).any() and not torch.allclose(out, ref)


def test_causal_and_padding_masks():
    assert torch.equal(causal_mask(3), torch.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=torch.bool))
    m = padding_mask(torch.tensor([[1, 1, 0], [1, 0, 0]]))
    assert m.shape == (2, 1, 1, 3) and m.dtype == torch.bool
    assert m[:, 0, 0].tolist() == [[True, True, False], [True, False, False]]


# ---------------------------------------------------------------- MultiHeadAttention


def mha_pair(bias=True):
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(D, H, batch_first=True, bias=bias).to(DT)
    if bias:  # torch zero-initializes biases; randomize so a forgotten bias copy would be caught
        with torch.no_grad():
            theirs.in_proj_bias.normal_()
            theirs.out_proj.bias.normal_()
    return copy_from_torch_mha(MultiHeadAttention(D, H, bias=bias).to(DT), theirs), theirs


MHA_CASES = [
    "none",
    "key_padding",
    "causal_mask",
    "is_causal",
    "causal+padding",
    "float_mask+padding",
    "mask4d",
    "cross",
    "cross+padding",
    "no_bias",
]


@pytest.mark.parametrize("need_weights", [False, True])
@pytest.mark.parametrize("case", MHA_CASES)
def test_mha_matches_torch(case, need_weights):
    ours, theirs = mha_pair(bias=case != "no_bias")
    g = torch.Generator().manual_seed(1)
    Lk = 7 if case.startswith("cross") else L
    x = torch.randn(B, L, D, generator=g, dtype=DT, requires_grad=True)
    kv = torch.randn(B, Lk, D, generator=g, dtype=DT, requires_grad=True) if Lk != L else x
    mem = torch.randn(B, Lk, D, generator=g, dtype=DT, requires_grad=True) if Lk != L else x
    our_kw, their_kw = {}, {}
    if "padding" in case:
        pad = kpm([Lk, Lk - 2], Lk)
        our_kw["key_padding_mask"] = their_kw["key_padding_mask"] = pad
    if case.startswith("causal"):
        our_kw["attn_mask"], their_kw["attn_mask"] = causal_mask(L), ~causal_mask(L)  # torch: True = blocked
    if case == "is_causal":
        our_kw["is_causal"] = True
        their_kw.update(attn_mask=~causal_mask(L), is_causal=True)
    if case == "float_mask+padding":
        our_kw["attn_mask"] = their_kw["attn_mask"] = torch.randn(L, L, generator=g, dtype=DT)
        their_kw["key_padding_mask"] = torch.zeros(B, L, dtype=DT).masked_fill(pad, float("-inf"))
    if case == "mask4d":  # ours: (B, H, Lq, Lk); torch: (B * H, Lq, Lk)
        m = torch.randn(B, H, L, L, generator=g, dtype=DT)
        our_kw["attn_mask"], their_kw["attn_mask"] = m, m.reshape(B * H, L, L)

    out, w = ours(x, *((kv, mem) if Lk != L else ()), need_weights=need_weights, **our_kw)
    ref, ref_w = theirs(x, kv, mem, need_weights=need_weights, **their_kw)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=0)
    g_out = torch.randn(out.shape, generator=g, dtype=DT)
    loss, ref_loss = (out * g_out).sum(), (ref * g_out).sum()
    if need_weights:
        assert w.shape == (B, H, L, Lk)
        torch.testing.assert_close(w.mean(1), ref_w, atol=1e-10, rtol=0)  # torch averages over heads
        g_w = torch.randn(ref_w.shape, generator=g, dtype=DT)  # gradients must also flow through weights
        loss, ref_loss = loss + (w.mean(1) * g_w).sum(), ref_loss + (ref_w * g_w).sum()
    else:
        assert w is None and ref_w is None
    inputs = list({id(t): t for t in (x, kv, mem)}.values())  # x, kv, mem may be the same tensor
    grads = torch.autograd.grad(loss, inputs, retain_graph=True)
    ref_grads = torch.autograd.grad(ref_loss, inputs, retain_graph=True)
    for a, b in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    loss.backward()
    ref_loss.backward()
    assert_same_grads(ours, theirs)


def test_mha_per_head_weights_match_torch():
    ours, theirs = mha_pair()
    x = torch.randn(B, L, D, dtype=DT)
    pad = kpm([L, 3], L)
    _, w = ours(x, key_padding_mask=pad, need_weights=True)
    _, ref_w = theirs(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    torch.testing.assert_close(w, ref_w, atol=1e-10, rtol=0)
    assert (w[1, :, :, 3:] == 0).all()


def test_mha_fully_padded_sequence_is_finite_on_both_paths():
    ours, _ = mha_pair()
    x = torch.randn(B, L, D, dtype=DT)
    pad = kpm([L, 0], L)  # second sequence is all padding
    fast, _ = ours(x, key_padding_mask=pad)
    slow, w = ours(x, key_padding_mask=pad, need_weights=True)
    assert fast.isfinite().all() and (w[1] == 0).all()
    torch.testing.assert_close(fast, slow, atol=1e-10, rtol=0)
    torch.testing.assert_close(fast[1], ours.out_proj.bias.expand(L, D))  # attention output 0 -> bias


def test_mha_dropout_only_in_training():
    mha = MultiHeadAttention(D, H, dropout=0.5).to(DT).eval()
    x = torch.randn(B, L, D, dtype=DT)
    torch.testing.assert_close(mha(x)[0], mha(x, need_weights=True)[0], atol=1e-10, rtol=0)
    mha.train()
    assert not torch.allclose(mha(x)[0], mha(x)[0])
    assert (mha(x, need_weights=True)[1] == 0).any()


# ---------------------------------------------------------------- TransformerBlock


def block_pair(norm_first, activation, dropout=0.0):
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(
        D, H, dim_feedforward=32, dropout=dropout, activation=activation, batch_first=True, norm_first=norm_first
    )
    with torch.no_grad():  # non-trivial LayerNorm / attention biases so a missed copy shows
        for name, p in theirs.named_parameters():
            if name.endswith("bias") or name.startswith("norm"):
                p.normal_()
    ours = TransformerBlock(D, H, 32, dropout=dropout, activation=activation, norm_first=norm_first)
    return copy_from_torch_encoder_layer(ours, theirs), theirs


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_block_matches_torch_encoder_layer(norm_first, activation, padded):
    ours, theirs = (m.to(DT).train() for m in block_pair(norm_first, activation))  # train + dropout 0
    x = torch.randn(B, L, D, dtype=DT, requires_grad=True)
    pad = kpm([L, 3], L) if padded else None
    out = ours(x, key_padding_mask=pad)
    ref = theirs(x, src_key_padding_mask=pad)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=0)  # all positions, padded ones too
    g_out = torch.randn(out.shape, dtype=DT)
    (gx,) = torch.autograd.grad((out * g_out).sum(), x)
    (ref_gx,) = torch.autograd.grad((ref * g_out).sum(), x)
    torch.testing.assert_close(gx, ref_gx, atol=1e-10, rtol=0)
    ours(x, key_padding_mask=pad).mul(g_out).sum().backward()
    theirs(x, src_key_padding_mask=pad).mul(g_out).sum().backward()
    assert_same_grads(ours, theirs)


@pytest.mark.parametrize("norm_first", [False, True])
def test_block_causal_matches_torch(norm_first):
    ours, theirs = (m.to(DT).train() for m in block_pair(norm_first, "gelu"))
    x = torch.randn(B, L, D, dtype=DT)
    ref = theirs(x, src_mask=~causal_mask(L), is_causal=True)  # torch bool mask: True = blocked
    torch.testing.assert_close(ours(x, is_causal=True), ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(ours(x, attn_mask=causal_mask(L)), ref, atol=1e-10, rtol=0)


def test_block_eval_matches_torch_fast_path_on_real_tokens():
    ours, theirs = (m.eval() for m in block_pair(False, "relu", dropout=0.1))  # float32, eval, no grad
    x = torch.randn(B, L, D)
    pad = kpm([L, 3], L)
    with torch.no_grad():
        out, ref = ours(x, key_padding_mask=pad), theirs(x, src_key_padding_mask=pad)
    real = ~pad
    torch.testing.assert_close(out[real], ref[real], atol=1e-5, rtol=1e-5)
    assert not torch.equal(ours.train()(x), ours(x))  # dropout is active in training mode


def test_block_uses_post_norm_by_default():
    block = TransformerBlock(D, H, 32, dropout=0.0)
    out = block(torch.randn(B, L, D) * 10 + 3)
    torch.testing.assert_close(out.mean(-1), torch.zeros(B, L), atol=1e-5, rtol=0)  # LayerNorm came last
    torch.testing.assert_close(out.std(-1, unbiased=False), torch.ones(B, L), atol=1e-3, rtol=0)


def test_feed_forward_and_token_embedding():
    ff = FeedForward(D, 32, activation="gelu")
    x = torch.randn(B, L, D)
    torch.testing.assert_close(ff(x), ff.linear2(F.gelu(ff.linear1(x))))
    emb = TokenEmbedding(100, D, padding_idx=0)
    tokens = torch.tensor([[0, 5, 7]])
    torch.testing.assert_close(emb(tokens), emb.weight[tokens] * math.sqrt(D))
    assert (emb(tokens)[0, 0] == 0).all()
    # weights start at N(0, 1/D): after the sqrt(D) scaling, vectors have unit variance like the positions
    wide = TokenEmbedding(5000, 64)
    assert abs(wide(torch.arange(1, 5000)).std().item() - 1.0) < 0.05


# ---------------------------------------------------------------- positional encodings


def test_sinusoidal_positional_encoding_values():
    pe_mod = SinusoidalPositionalEncoding(D, max_len=50)
    pe = pe_mod.pe
    assert pe.shape == (50, D)
    assert (pe[0, 0::2] == 0).all() and (pe[0, 1::2] == 1).all()
    pos = torch.arange(50, dtype=torch.float32)
    torch.testing.assert_close(pe[:, 0], torch.sin(pos))
    torch.testing.assert_close(pe[:, 1], torch.cos(pos))
    i = 3  # general formula for one higher frequency pair
    torch.testing.assert_close(pe[:, 2 * i], torch.sin(pos / 10000 ** (2 * i / D)))
    torch.testing.assert_close(pe[:, 2 * i + 1], torch.cos(pos / 10000 ** (2 * i / D)))
    assert "pe" not in pe_mod.state_dict() and "pe" in dict(pe_mod.named_buffers())
    x = torch.randn(B, 7, D)
    torch.testing.assert_close(pe_mod(x), x + pe[:7])
    assert SinusoidalPositionalEncoding(7, max_len=4).pe.shape == (4, 7)  # odd d_model works


def test_learned_positional_encoding():
    mod = LearnedPositionalEncoding(D, max_len=10)
    x = torch.randn(B, 4, D)
    out = mod(x)
    torch.testing.assert_close(out, x + mod.pe[:4])
    out.sum().backward()
    assert mod.pe.grad[:4].eq(B).all() and mod.pe.grad[4:].eq(0).all()


@pytest.mark.parametrize("cls", [SinusoidalPositionalEncoding, LearnedPositionalEncoding])
def test_positional_encoding_too_long_raises(cls):
    mod = cls(D, max_len=8)
    mod(torch.zeros(1, 8, D))  # exactly max_len is fine
    with pytest.raises(ValueError, match=r"sequence length 9 exceeds max_len=8"):
        mod(torch.zeros(1, 9, D))


# ---------------------------------------------------------------- errors


def test_value_errors():
    with pytest.raises(ValueError, match=r"d_model=10 must be divisible by num_heads=3"):
        MultiHeadAttention(10, 3)
    mha = MultiHeadAttention(D, H)
    x = torch.randn(B, L, D)
    with pytest.raises(ValueError, match=r"query must be \(B, L, d_model=16\), got \(10, 16\)"):
        mha(x.reshape(B * L, D))
    with pytest.raises(ValueError, match=r"query must be \(B, L, d_model=16\), got \(2, 5, 8\)"):
        mha(x[..., :8])
    with pytest.raises(ValueError, match=r"key must be \(B, L, d_model=16\)"):
        mha(x, x[..., :8])
    with pytest.raises(ValueError, match=r"batch/length mismatch"):
        mha(x, x[:1])
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(Lq, Lk\)=\(5, 5\)"):
        mha(x, attn_mask=causal_mask(4))
    with pytest.raises(ValueError, match=r"\(B or 1, H or 1, Lq, Lk\)=\(2 or 1, 4 or 1, 5, 5\), got \(2, 5"):
        mha(x, attn_mask=torch.ones(B, L, L, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"attn_mask must be bool \(True = attend\).*got torch.int64"):
        mha(x, attn_mask=torch.ones(L, L, dtype=torch.long))
    with pytest.raises(ValueError, match=r"key_padding_mask must be bool of shape \(B, Lk\)=\(2, 5\)"):
        mha(x, key_padding_mask=torch.zeros(B, L + 1, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"key_padding_mask must be bool.*got torch.float32"):
        mha(x, key_padding_mask=torch.zeros(B, L))
    with pytest.raises(ValueError, match=r"activation must be one of \['gelu', 'relu'\], got 'tanh'"):
        FeedForward(D, 32, activation="tanh")
    with pytest.raises(ValueError, match=r"num_heads=4.*num_heads=2"):
        copy_from_torch_mha(mha, nn.MultiheadAttention(D, 2, batch_first=True))
    with pytest.raises(ValueError, match=r"norm_first differs"):
        copy_from_torch_encoder_layer(TransformerBlock(D, H, 32), nn.TransformerEncoderLayer(D, H, norm_first=True))
