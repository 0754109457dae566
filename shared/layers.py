"""Transformer building blocks, written to be read.

Every layer here matches its PyTorch counterpart numerically (see tests/test_layers.py),
so you can learn from this file and trust it in the notebooks.

Shapes: B = batch, L = sequence length (Lq queries, Lk keys), D = d_model,
H = number of heads, Dh = D // H = size of one head.

Mask conventions (read twice, they differ between PyTorch APIs!):
  * ``attn_mask`` / ``mask`` (bool): True = "may attend", exactly like
    ``F.scaled_dot_product_attention``. NOTE: ``nn.MultiheadAttention`` uses the
    opposite for bool attn_mask (True = blocked); pass ``~mask`` there.
  * float masks are *added* to the scores: 0 keeps a position, -inf removes it.
  * ``key_padding_mask`` (bool, (B, Lk)): True = PAD = ignore, exactly like
    ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer``.
"""

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn


def attention(q, k, v, mask=None, dropout_p=0.0, training=False):
    """Scaled dot-product attention, spelled out: softmax(q k^T / sqrt(d_k) + mask) v.

    q: (..., Lq, Dk), k: (..., Lk, Dk), v: (..., Lk, Dv). ``mask`` is bool (True = may
    attend) or float (added to the scores), broadcastable to (..., Lq, Lk).
    Returns ``(out, weights)`` with out (..., Lq, Dv) and weights (..., Lq, Lk); the
    weights are the ones actually used, i.e. after dropout (only when ``training``).

    A query row whose keys are *all* masked has no sensible softmax (0/0 = NaN). Like
    ``F.scaled_dot_product_attention`` we give it all-zero weights, so its output is 0
    and no NaN leaks into the forward or backward pass.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (..., Lq, Lk)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    dead = scores.isneginf().all(dim=-1, keepdim=True)  # rows with nothing to attend to
    weights = scores.masked_fill(dead, 0.0).softmax(dim=-1).masked_fill(dead, 0.0)
    if training and dropout_p > 0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v, weights


def causal_mask(L, device=None):
    """(L, L) bool mask, True on and below the diagonal: position i sees positions <= i."""
    return torch.ones(L, L, dtype=torch.bool, device=device).tril()


def padding_mask(attention_mask):
    """HF-style (B, L) attention_mask (1 = token, 0 = pad) -> (B, 1, 1, L) bool, True = attend.

    The two singleton dims broadcast over heads and query positions. (For the
    ``key_padding_mask`` argument below use ``attention_mask == 0`` instead.)
    """
    return attention_mask.bool()[:, None, None, :]


class TokenEmbedding(nn.Embedding):
    """Token ids (B, L) -> vectors (B, L, D), multiplied by sqrt(D) as in "Attention Is All
    You Need". Weights start at N(0, 1/D), so the scaled vectors have unit variance: the same
    scale as the positional encodings they are added to (nn.Embedding's N(0, 1) would make them
    sqrt(D) times larger and drown the positions)."""

    def __init__(self, vocab_size, d_model, padding_idx=None):
        super().__init__(vocab_size, d_model, padding_idx=padding_idx)
        self.scale = math.sqrt(d_model)

    def reset_parameters(self):
        nn.init.normal_(self.weight, std=self.embedding_dim**-0.5)
        self._fill_padding_idx_with_zero()

    def forward(self, tokens):
        return super().forward(tokens) * self.scale


def _add_positions(x, pe, dropout):
    if x.size(1) > pe.size(0):
        raise ValueError(f"sequence length {x.size(1)} exceeds max_len={pe.size(0)}; use a larger max_len")
    return dropout(x + pe[: x.size(1)].to(x.dtype))


class SinusoidalPositionalEncoding(nn.Module):
    """Fixed sin/cos positions: pe[pos, 2i] = sin(pos / 10000^(2i/D)), pe[pos, 2i+1] = cos(same).

    ``self.pe`` (max_len, D) is a non-persistent buffer: it moves with ``.to(device)`` but is
    not saved in checkpoints (it is recomputed). forward: x (B, L, D) -> dropout(x + pe[:L]).
    """

    def __init__(self, d_model, max_len=512, dropout=0.0):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
        freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(pos * freq)
        pe[:, 1::2] = torch.cos(pos * freq[: d_model // 2])  # slice handles odd d_model
        self.register_buffer("pe", pe, persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return _add_positions(x, self.pe, self.dropout)


class LearnedPositionalEncoding(nn.Module):
    """One trainable vector per position (as in BERT/GPT); same interface as the sinusoidal one."""

    def __init__(self, d_model, max_len=512, dropout=0.0):
        super().__init__()
        self.pe = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return _add_positions(x, self.pe, self.dropout)


class MultiHeadAttention(nn.Module):
    """Multi-head attention: project to H heads of size D/H, attend in each, concatenate, project.

    Parameters mirror ``nn.MultiheadAttention`` one to one:
      ``in_proj.weight`` (3D, D) = ``in_proj_weight`` (rows: W_q, then W_k, then W_v),
      ``in_proj.bias`` = ``in_proj_bias``, ``out_proj`` = ``out_proj``
    (see ``copy_from_torch_mha``). Masks: see the module docstring; ``is_causal=True``
    really applies a causal mask (query i sees keys <= i), with or without other masks.
    """

    def __init__(self, d_model, num_heads, dropout=0.0, bias=True):
        super().__init__()
        if d_model % num_heads != 0:
            raise ValueError(f"d_model={d_model} must be divisible by num_heads={num_heads}")
        self.d_model, self.num_heads, self.dropout = d_model, num_heads, dropout
        self.in_proj = nn.Linear(d_model, 3 * d_model, bias=bias)  # q, k, v in one matmul
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self, query, key=None, value=None, *, attn_mask=None, key_padding_mask=None, is_causal=False, need_weights=False
    ):
        """query (B, Lq, D); key, value (B, Lk, D), default: self-attention (key = value = query).

        attn_mask: (Lq, Lk) or (B or 1, H or 1, Lq, Lk), bool (True = attend) or float (added).
        key_padding_mask: (B, Lk) bool, True = PAD (ignored) -- same as nn.MultiheadAttention.
        Returns ``(out (B, Lq, D), weights)``; weights is None unless ``need_weights``, then it is
        (B, H, Lq, Lk), one map per head (``.mean(1)`` gives nn.MultiheadAttention's average).
        Without weights we call the fused ``F.scaled_dot_product_attention``; with weights the
        explicit ``attention()`` above. Both compute the same thing.
        """
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.dim() != 3 or t.size(-1) != self.d_model:
                raise ValueError(f"{name} must be (B, L, d_model={self.d_model}), got {tuple(t.shape)}")
        B, Lq, _ = query.shape
        Lk, H = key.size(1), self.num_heads
        if key.shape[:2] != value.shape[:2] or key.size(0) != B:
            shapes = [tuple(t.shape) for t in (query, key, value)]
            raise ValueError(f"batch/length mismatch between query, key, value: {shapes}")

        if query is key and key is value:  # self-attention: one (B, L, D) x (D, 3D) matmul
            q, k, v = self.in_proj(query).chunk(3, dim=-1)
        else:  # cross-attention: same weights, applied to different inputs
            w = self.in_proj.weight.chunk(3)
            b = [None] * 3 if self.in_proj.bias is None else self.in_proj.bias.chunk(3)
            q, k, v = (F.linear(x, w[i], b[i]) for i, x in enumerate((query, key, value)))
        q, k, v = (t.unflatten(-1, (H, -1)).transpose(1, 2) for t in (q, k, v))  # (B, H, L, Dh)

        p = self.dropout if self.training else 0.0
        flag_only = is_causal and attn_mask is None and key_padding_mask is None and not need_weights
        mask = self._merge_masks(attn_mask, key_padding_mask, is_causal and not flag_only, B, Lq, Lk, query)
        if need_weights:
            out, weights = attention(q, k, v, mask, dropout_p=p, training=self.training)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=flag_only)
            weights = None
        return self.out_proj(out.transpose(1, 2).reshape(B, Lq, self.d_model)), weights

    def _merge_masks(self, attn_mask, key_padding_mask, is_causal, B, Lq, Lk, query):
        """Validate the masks and fold them into one, broadcastable to (B, H, Lq, Lk), or None."""
        masks = []
        if attn_mask is not None:
            H, shape = self.num_heads, tuple(attn_mask.shape)
            ok_4d = len(shape) == 4 and shape[0] in (1, B) and shape[1] in (1, H)
            if shape[-2:] != (Lq, Lk) or not (len(shape) == 2 or ok_4d):
                raise ValueError(
                    f"attn_mask must have shape (Lq, Lk)=({Lq}, {Lk}) or (B or 1, H or 1, Lq, "
                    f"Lk)=({B} or 1, {H} or 1, {Lq}, {Lk}), got {shape}"
                )
            if attn_mask.dtype != torch.bool and not attn_mask.is_floating_point():
                raise ValueError(f"attn_mask must be bool (True = attend) or float, got {attn_mask.dtype}")
            masks.append(attn_mask)
        if key_padding_mask is not None:
            if key_padding_mask.dtype != torch.bool or key_padding_mask.shape != (B, Lk):
                raise ValueError(
                    f"key_padding_mask must be bool of shape (B, Lk)=({B}, {Lk}), True = PAD; "
                    f"got {key_padding_mask.dtype} {tuple(key_padding_mask.shape)}"
                )
            masks.append(~key_padding_mask[:, None, None, :])  # (B, 1, 1, Lk), True = attend
        if is_causal:  # top-left aligned like SDPA's is_causal
            masks.append(torch.ones(Lq, Lk, dtype=torch.bool, device=query.device).tril())
        if not masks:
            return None
        if all(m.dtype == torch.bool for m in masks):
            return functools.reduce(torch.logical_and, masks)  # attend only where every mask allows
        # mixed bool/float: turn bool into 0 (attend) / -inf (blocked) and add everything up
        additive = [m if m.is_floating_point() else torch.where(m, 0.0, float("-inf")) for m in masks]
        return functools.reduce(torch.add, additive).to(query.dtype)


class FeedForward(nn.Module):
    """Position-wise MLP: linear1 -> activation -> dropout -> linear2, applied to every token
    independently (names match nn.TransformerEncoderLayer's linear1/dropout/linear2)."""

    ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU}

    def __init__(self, d_model, d_ff, dropout=0.0, activation="relu"):
        super().__init__()
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(self.ACTIVATIONS)}, got {activation!r}")
        self.linear1, self.activation = nn.Linear(d_model, d_ff), self.ACTIVATIONS[activation]()
        self.dropout, self.linear2 = nn.Dropout(dropout), nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


class TransformerBlock(nn.Module):
    """One encoder layer: self-attention and feed-forward, each wrapped in residual + LayerNorm.

    post-norm (default, original Transformer):  x = norm(x + sublayer(x))
    pre-norm  (``norm_first=True``, GPT-2 etc.): x = x + sublayer(norm(x))  -- easier to train deep.
    Mirrors ``nn.TransformerEncoderLayer(batch_first=True)``: self_attn, ff.linear1/ff.linear2
    (there: linear1/linear2), norm1, norm2, dropout1, dropout2 (see copy_from_torch_encoder_layer).
    ``ff``: a module to use in place of the dense ``FeedForward`` (then ``d_ff`` and ``activation`` are unused),
    e.g. ``shared.moe.SparseMoE``; it must map (B, L, d_model) to (B, L, d_model).
    """

    def __init__(
        self, d_model, num_heads, d_ff, dropout=0.1, activation="relu", norm_first=False, layer_norm_eps=1e-5, ff=None
    ):
        super().__init__()
        if ff is not None and not isinstance(ff, nn.Module):
            raise ValueError(f"ff={ff!r}; expected None (a dense FeedForward) or an nn.Module such as SparseMoE")
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=dropout)
        self.ff = FeedForward(d_model, d_ff, dropout=dropout, activation=activation) if ff is None else ff
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x, *, attn_mask=None, key_padding_mask=None, is_causal=False):
        def sa(h):
            return self.dropout1(
                self.self_attn(h, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal)[0]
            )

        if self.norm_first:
            x = x + sa(self.norm1(x))
            return x + self.dropout2(self.ff(self.norm2(x)))
        x = self.norm1(x + sa(x))
        return self.norm2(x + self.dropout2(self.ff(x)))


@torch.no_grad()
def copy_from_torch_mha(mha, torch_mha):
    """Copy weights of an ``nn.MultiheadAttention`` into our ``MultiHeadAttention`` (in place)."""
    same_shape = (mha.d_model, mha.num_heads) == (torch_mha.embed_dim, torch_mha.num_heads)
    if not same_shape or not torch_mha._qkv_same_embed_dim:
        raise ValueError(
            f"need embed_dim={mha.d_model}, num_heads={mha.num_heads} and no kdim/vdim, got "
            f"embed_dim={torch_mha.embed_dim}, num_heads={torch_mha.num_heads}"
        )
    if (mha.in_proj.bias is None) != (torch_mha.in_proj_bias is None) or torch_mha.bias_k is not None:
        raise ValueError("bias settings differ (bias=... / add_bias_kv is not supported)")
    mha.in_proj.weight.copy_(torch_mha.in_proj_weight)
    mha.out_proj.weight.copy_(torch_mha.out_proj.weight)
    if mha.in_proj.bias is not None:
        mha.in_proj.bias.copy_(torch_mha.in_proj_bias)
        mha.out_proj.bias.copy_(torch_mha.out_proj.bias)
    return mha


@torch.no_grad()
def copy_from_torch_encoder_layer(block, torch_layer):
    """Copy an ``nn.TransformerEncoderLayer`` into our ``TransformerBlock`` (in place).

    Mapping: self_attn -> self_attn, linear1/linear2 -> ff.linear1/ff.linear2, norm1/norm2 -> norm1/norm2.
    """
    if block.norm_first != torch_layer.norm_first:
        raise ValueError(f"norm_first differs: ours {block.norm_first}, torch {torch_layer.norm_first}")
    copy_from_torch_mha(block.self_attn, torch_layer.self_attn)
    for ours, theirs in (
        (block.ff.linear1, torch_layer.linear1),
        (block.ff.linear2, torch_layer.linear2),
        (block.norm1, torch_layer.norm1),
        (block.norm2, torch_layer.norm2),
    ):
        ours.load_state_dict(theirs.state_dict())
    return block
