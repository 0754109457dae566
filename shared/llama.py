"""A Llama-architecture decoder, written to be read, that loads a real checkpoint (lesson 12).

SmolLM2, Llama 2 and 3, Mistral and Qwen's dense models share one recipe: the Transformer decoder of week 2 with four
pieces swapped for newer ones, each here and checked against ``transformers`` (tests/test_llama.py):

* ``RMSNorm`` in place of LayerNorm: divide by the root mean square, no mean removed, no bias;
* rotary position embeddings (``rope_angles``, ``apply_rope``): queries and keys are rotated by angles that grow
  with their position, so a score depends only on the distance between query and key;
* the SwiGLU feed-forward network (``shared.moe.SwiGLU``: ``down(silu(gate(x)) * up(x))``);
* grouped-query attention (``GroupedQueryAttention``): fewer key/value heads than query heads, each K/V head shared by
  a group of query heads (``repeat_kv``), so the KV cache is smaller; the attention itself is the course's
  ``shared.layers.attention``.

``Llama`` stacks pre-norm ``Block`` s between a token embedding and an output layer that shares its weights. It is
driven by a checkpoint's ``config.json`` (``read_config``) and filled from its ``*.safetensors`` through an explicit
``name_map`` (``load_weights``: a clear error for a missing, unused or wrongly shaped tensor). ``KVCache`` keeps the
keys and values of the positions seen so far, so ``generate`` computes each new token's position only.

Shapes: B = batch, L = positions in this call, H = query heads, Hkv = key/value heads, Dh = head size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from shared.layers import attention
from shared.moe import SwiGLU


class RMSNorm(nn.Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last axis, computed in at least float32 (as transformers does
    for bf16/fp16 inputs), then cast back to the input's dtype before the weight multiplies it."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, eps={self.eps:g}"

    def forward(self, x):
        h = x.to(torch.promote_types(x.dtype, torch.float32))
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


def rope_angles(positions, head_dim: int, theta: float, dtype=torch.float32):
    """``(cos, sin)``, each (L, head_dim): position p turns pair i by ``p * theta^(-2i/head_dim)``.

    The pairs are (i, i + head_dim/2), the "rotate half" layout the checkpoints are stored in, so each angle appears
    twice. Computed in float32 as transformers does (the same numbers for the same checkpoint), then cast."""
    if head_dim % 2:
        raise ValueError(f"head_dim={head_dim}; rotary embeddings rotate pairs, so it must be even")
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim)
    angles = positions.float()[:, None] * inv_freq[None, :]  # (L, head_dim / 2)
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x):
    """(x1, x2) -> (-x2, x1) on the two halves of the last axis: each pair (i, i + D/2) turned by 90 degrees."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, cos, sin):
    """Rotate every pair of ``x`` (..., L, Dh) by its angle: ``x cos + rotate_half(x) sin``."""
    return x * cos + rotate_half(x) * sin


def repeat_kv(x, groups: int):
    """(B, Hkv, L, Dh) -> (B, Hkv * groups, L, Dh): each K/V head repeated for its group of consecutive query heads
    (query heads 0..groups-1 read K/V head 0, and so on)."""
    return x.repeat_interleave(groups, dim=1) if groups > 1 else x


class KVCache:
    """The keys and values of every layer for the positions computed so far: ``update`` appends the new positions'
    and returns all of them. Keys are stored already rotated, K/V heads before ``repeat_kv``."""

    def __init__(self):
        self.keys, self.values = {}, {}

    def __len__(self) -> int:
        """Positions cached."""
        return self.keys[0].size(-2) if self.keys else 0

    def update(self, layer: int, k, v):
        if layer in self.keys:
            k, v = torch.cat((self.keys[layer], k), dim=-2), torch.cat((self.values[layer], v), dim=-2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (*self.keys.values(), *self.values.values()))


class GroupedQueryAttention(nn.Module):
    """Multi-head attention with ``n_kv_heads`` key/value heads shared by ``n_heads`` query heads (``n_kv_heads ==
    n_heads``: ordinary multi-head attention; 1: multi-query attention). RoPE turns queries and keys; ``cache``
    (a ``KVCache``) adds the positions computed before; ``layer`` says which of its entries is this layer's."""

    def __init__(self, dim: int, n_heads: int, n_kv_heads: int, head_dim: int, layer: int = 0):
        super().__init__()
        if n_heads % n_kv_heads:
            raise ValueError(f"n_heads={n_heads} must be a multiple of n_kv_heads={n_kv_heads}")
        self.n_heads, self.n_kv_heads, self.head_dim, self.layer = n_heads, n_kv_heads, head_dim, layer
        self.q = nn.Linear(dim, n_heads * head_dim, bias=False)
        self.k = nn.Linear(dim, n_kv_heads * head_dim, bias=False)
        self.v = nn.Linear(dim, n_kv_heads * head_dim, bias=False)
        self.o = nn.Linear(n_heads * head_dim, dim, bias=False)

    def forward(self, x, cos, sin, mask=None, cache=None):
        """x (B, L, dim); cos, sin (L, Dh); mask (L, cached + L) bool, True = may attend. Returns (B, L, dim)."""
        q = self.q(x).unflatten(-1, (self.n_heads, self.head_dim)).transpose(1, 2)  # (B, H, L, Dh)
        k = self.k(x).unflatten(-1, (self.n_kv_heads, self.head_dim)).transpose(1, 2)  # (B, Hkv, L, Dh)
        v = self.v(x).unflatten(-1, (self.n_kv_heads, self.head_dim)).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            k, v = cache.update(self.layer, k, v)  # (B, Hkv, cached + L, Dh)
        groups = self.n_heads // self.n_kv_heads
        out, _ = attention(q, repeat_kv(k, groups), repeat_kv(v, groups), mask)  # (B, H, L, Dh)
        return self.o(out.transpose(1, 2).flatten(2))


@dataclass(frozen=True)
class Settings:
    """The sizes a checkpoint's ``config.json`` gives (``read_config``), in this module's names."""

    vocab_size: int
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_dim: int
    rope_theta: float
    norm_eps: float
    tied: bool
    init_std: float = 0.02


class Block(nn.Module):
    """One pre-norm decoder layer: ``x + attn(norm(x))``, then ``x + ff(norm(x))``."""

    def __init__(self, s: Settings, layer: int):
        super().__init__()
        self.attn_norm = RMSNorm(s.dim, s.norm_eps)
        self.attn = GroupedQueryAttention(s.dim, s.n_heads, s.n_kv_heads, s.head_dim, layer)
        self.ff_norm = RMSNorm(s.dim, s.norm_eps)
        self.ff = SwiGLU(s.dim, s.ffn_dim)

    def forward(self, x, cos, sin, mask, cache=None):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask, cache)
        return x + self.ff(self.ff_norm(x))


class Llama(nn.Module):
    """Token embedding, ``n_layers`` blocks, a final RMSNorm and the output layer (``lm_head``, the embedding's own
    weights when ``tied``). Weights start at N(0, init_std) as in transformers, norms at 1."""

    def __init__(self, s: Settings):
        super().__init__()
        self.settings, self.rope_theta = s, s.rope_theta
        self.embed = nn.Embedding(s.vocab_size, s.dim)
        self.blocks = nn.ModuleList(Block(s, layer) for layer in range(s.n_layers))
        self.norm = RMSNorm(s.dim, s.norm_eps)
        self.lm_head = nn.Linear(s.dim, s.vocab_size, bias=False)
        if s.tied:
            self.lm_head.weight = self.embed.weight
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=s.init_std)

    @property
    def device(self) -> torch.device:
        return self.embed.weight.device

    def forward(self, ids, cache=None, last_only: bool = False):
        """ids (B, L) -> next-token logits (B, L, vocab), or (B, 1, vocab) with ``last_only``. With a ``cache`` the
        ids continue the cached positions."""
        start, length = (len(cache) if cache is not None else 0), ids.size(1)
        positions = torch.arange(start, start + length, device=ids.device)
        cos, sin = rope_angles(positions, self.settings.head_dim, self.rope_theta, self.embed.weight.dtype)
        mask = positions[:, None] >= torch.arange(start + length, device=ids.device)  # causal: key <= query
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, cos, sin, mask, cache)
        x = self.norm(x[:, -1:] if last_only else x)
        return self.lm_head(x)


@torch.no_grad()
def generate(model: Llama, ids, max_new_tokens: int, cache: KVCache | None = None, eos_id: int | None = None):
    """Greedy decoding from a list of token ids: ``(new token ids, positions computed)``. With a ``cache`` (an empty
    ``KVCache``) each step feeds only the newest token; without one, the whole sequence again."""
    if not ids or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"expected prompt ids and max_new_tokens >= 1; got {len(ids or [])} ids, {max_new_tokens!r}")
    tokens, computed, step = list(ids), 0, list(ids)
    for _ in range(max_new_tokens):
        logits = model(torch.tensor([step], device=model.device), cache, last_only=True)
        computed += len(step)
        tokens.append(int(logits[0, -1].argmax()))
        if tokens[-1] == eos_id:
            break
        step = tokens[-1:] if cache is not None else tokens
    return tokens[len(ids) :], computed


@torch.no_grad()
def token_losses(model: Llama, blocks) -> torch.Tensor:
    """Cross-entropy (nats) of every next-token prediction in ``blocks`` (N, L) token ids: (N, L - 1), on the CPU."""
    ids = torch.as_tensor(blocks).to(model.device)
    if ids.dim() != 2 or ids.size(1) < 2:
        raise ValueError(f"expected (blocks, length >= 2) token ids; got shape {tuple(ids.shape)}")
    logits = model(ids[:, :-1]).float()
    return F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none").cpu()


def checkpoint_folder(source: str) -> Path:
    """A local folder holding ``config.json`` and ``*.safetensors``: ``source`` itself, or a Hub id's snapshot
    (downloaded once into the Hugging Face cache, as ``from_pretrained`` does)."""
    if Path(source).is_dir():
        return Path(source)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(source, allow_patterns=["config.json", "*.safetensors"]))


def read_config(folder) -> Settings:
    """A ``Settings`` from ``folder/config.json`` (a Llama-architecture checkpoint; older configs name the RoPE base
    ``rope_theta``, newer ones ``rope_parameters.rope_theta``)."""
    config = json.loads((Path(folder) / "config.json").read_text())
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    unsupported = {
        "model_type": (config.get("model_type"), ("llama", "mistral")),
        "hidden_act": (config.get("hidden_act", "silu"), ("silu",)),
        "rope type": (rope.get("rope_type", rope.get("type", "default")), ("default",)),
        "rope_interleaved": (config.get("rope_interleaved", False), (False,)),
        "attention_bias": (config.get("attention_bias", False), (False,)),
        "mlp_bias": (config.get("mlp_bias", False), (False,)),
    }
    for name, (value, allowed) in unsupported.items():
        if value not in allowed:
            raise ValueError(f"{folder}/config.json: {name}={value!r}; this decoder supports {allowed}")
    heads = config["num_attention_heads"]
    return Settings(
        vocab_size=config["vocab_size"],
        dim=config["hidden_size"],
        n_layers=config["num_hidden_layers"],
        n_heads=heads,
        n_kv_heads=config.get("num_key_value_heads") or heads,
        head_dim=config.get("head_dim") or config["hidden_size"] // heads,
        ffn_dim=config["intermediate_size"],
        rope_theta=float(rope.get("rope_theta", config.get("rope_theta", 10000.0))),
        norm_eps=config.get("rms_norm_eps", 1e-6),
        tied=config.get("tie_word_embeddings", False),
        init_std=config.get("initializer_range", 0.02),
    )


def name_map(s: Settings) -> list[tuple[str, str, slice | None]]:
    """``(checkpoint name, our parameter name, rows)`` for every tensor: rows is None, or the slice of our parameter
    the tensor fills (the gate and up projections share one matrix, ``ff.gate_up``)."""
    layer = [
        ("input_layernorm.weight", "attn_norm.weight", None),
        ("self_attn.q_proj.weight", "attn.q.weight", None),
        ("self_attn.k_proj.weight", "attn.k.weight", None),
        ("self_attn.v_proj.weight", "attn.v.weight", None),
        ("self_attn.o_proj.weight", "attn.o.weight", None),
        ("post_attention_layernorm.weight", "ff_norm.weight", None),
        ("mlp.gate_proj.weight", "ff.gate_up.weight", slice(0, s.ffn_dim)),
        ("mlp.up_proj.weight", "ff.gate_up.weight", slice(s.ffn_dim, 2 * s.ffn_dim)),
        ("mlp.down_proj.weight", "ff.down.weight", None),
    ]
    names = [("model.embed_tokens.weight", "embed.weight", None)]
    for i in range(s.n_layers):
        names += [(f"model.layers.{i}.{theirs}", f"blocks.{i}.{ours}", rows) for theirs, ours, rows in layer]
    names.append(("model.norm.weight", "norm.weight", None))
    if not s.tied:
        names.append(("lm_head.weight", "lm_head.weight", None))
    return names


def describe(entry) -> str:
    """``model.layers.0.mlp.up_proj.weight -> blocks.0.ff.gate_up.weight[1536:3072]``."""
    theirs, ours, rows = entry
    return f"{theirs} -> {ours}" + (f"[{rows.start}:{rows.stop}]" if rows else "")


def read_tensors(folder) -> dict[str, torch.Tensor]:
    """Every tensor of ``folder/*.safetensors`` (one file or shards), on the CPU. safetensors holds tensors only:
    loading it cannot run code."""
    from safetensors.torch import load_file

    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no *.safetensors in {folder}; expected a checkpoint saved with safetensors")
    return {name: t for file in files for name, t in load_file(file).items()}


@torch.no_grad()
def load_weights(model: Llama, tensors: dict, names) -> int:
    """Copy every checkpoint tensor into ``model`` by ``names`` (from ``name_map``), cast to the model's dtype.
    Checks everything before copying anything; returns the number of values copied."""
    params = dict(model.named_parameters(remove_duplicate=False))
    missing = [theirs for theirs, _, _ in names if theirs not in tensors]
    if missing:
        raise ValueError(f"the checkpoint has no tensor {missing[0]!r} ({len(missing)} missing of {len(names)})")
    unused = sorted(set(tensors) - {theirs for theirs, _, _ in names} - {"lm_head.weight"})
    if unused:
        raise ValueError(f"the name map leaves {len(unused)} checkpoint tensor(s) unused, e.g. {unused[0]!r}")
    for entry in names:
        theirs, ours, rows = entry
        target = params[ours] if rows is None else params[ours][rows]
        if tensors[theirs].shape != target.shape:
            raise ValueError(
                f"{describe(entry)}: the checkpoint's tensor has shape {tuple(tensors[theirs].shape)}, the model "
                f"expects {tuple(target.shape)}; was the model built from this checkpoint's config.json?"
            )
    for theirs, ours, rows in names:
        (params[ours] if rows is None else params[ours][rows]).copy_(tensors[theirs])
    return sum(tensors[theirs].numel() for theirs, _, _ in names)


def from_checkpoint(source: str) -> Llama:
    """A ``Llama`` built from a checkpoint's config.json and filled with its weights (a folder or a Hub id)."""
    folder = checkpoint_folder(source)
    settings = read_config(folder)
    model = Llama(settings)
    load_weights(model, read_tensors(folder), name_map(settings))
    return model.eval()
