"""Weight quantization written from its definitions (notebooks 17 and 20).

* ``affine_params`` / ``quantize`` / ``dequantize``: int8 with a scale and a zero point, x ≈ scale · (q − zero_point),
  symmetric (zero point 0, range ±127, what onnxruntime's dynamic int8 stores for weights) or asymmetric (uint8,
  0..255, the range [min, max] mapped onto it).
* ``NF4``: the 16 levels of QLoRA's 4-bit NormalFloat, computed from their definition (quantiles of a standard
  normal, normalized to [-1, 1], with an exact zero) by ``nf4_levels``.
* ``absmax_blocks``: block-wise absmax quantization onto a table of levels in [-1, 1] (NF4, or the 15 or 255 evenly
  spaced levels of a symmetric 4- or 8-bit integer): each block of ``block`` consecutive weights is divided by its
  largest magnitude and each value replaced by the nearest level. ``block=None`` is one scale for the whole tensor.
* ``ggml_q4_0``, ``ggml_q4_1``, ``ggml_q8_0``: the GGUF block formats of llama.cpp (blocks of 32 along a row, scales
  stored in fp16), quantize-then-dequantize, and ``GGML_BITS`` their bits per weight.
* ``reconstruction_error``: relative root-mean-square error of a quantized copy.
"""

from __future__ import annotations

import torch

NF4 = (  # QLoRA's table (bitsandbytes), to check nf4_levels() against
    -1.0,
    -0.6961928009986877,
    -0.5250730514526367,
    -0.39491748809814453,
    -0.28444138169288635,
    -0.18477343022823334,
    -0.09105003625154495,
    0.0,
    0.07958029955625534,
    0.16093020141124725,
    0.24611230194568634,
    0.33791524171829224,
    0.44070982933044434,
    0.5626170039176941,
    0.7229568362236023,
    1.0,
)
GGML_BITS = {"Q4_0": 4.5, "Q4_1": 5.0, "Q8_0": 8.5}  # per weight: 32 values + an fp16 scale (+ an fp16 minimum)


def affine_params(x: torch.Tensor, symmetric: bool) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """``(scale, zero_point, qmin, qmax)`` for one tensor. Symmetric: int8 in -127..127, scale = max|x| / 127, zero
    point 0. Asymmetric: uint8 in 0..255, the range [min(x, 0), max(x, 0)] spread over 255 steps, the zero point
    the integer that 0.0 maps to (rounded, so that 0 is represented exactly)."""
    if not torch.is_tensor(x) or not x.is_floating_point() or x.numel() == 0:
        raise ValueError(f"expected a non-empty floating-point tensor; got {type(x).__name__}")
    x = x.detach().float()
    if symmetric:
        scale = x.abs().max().clamp(min=1e-12) / 127
        return scale, torch.zeros((), dtype=torch.int64), -127, 127
    low, high = x.min().clamp(max=0.0), x.max().clamp(min=0.0)
    scale = ((high - low) / 255).clamp(min=1e-12)
    zero_point = torch.round(-low / scale).to(torch.int64)
    return scale, zero_point, 0, 255


def quantize(x: torch.Tensor, scale, zero_point, qmin: int, qmax: int) -> torch.Tensor:
    """q = clamp(round(x / scale) + zero_point, qmin, qmax), as integers (int64)."""
    return (torch.round(x.float() / scale) + zero_point).clamp(qmin, qmax).to(torch.int64)


def dequantize(q: torch.Tensor, scale, zero_point) -> torch.Tensor:
    """x ≈ scale · (q − zero_point)."""
    return scale * (q.float() - zero_point)


def nf4_levels() -> torch.Tensor:
    """The 16 NF4 levels from their definition (Dettmers et al., 2023): 8 positive levels at the normal quantiles of
    evenly spaced probabilities from 0.5 to ``offset``, 7 negative ones likewise, and an exact 0, all divided by
    the largest so that they span [-1, 1]. ``offset`` = 0.9677 (the mean of the 1 − 1/(2·15) and 1 − 1/(2·16)
    quantile probabilities) keeps the outermost level finite."""
    offset = 0.9677083
    normal = torch.distributions.Normal(0.0, 1.0)
    positive = normal.icdf(torch.linspace(offset, 0.5, 9, dtype=torch.float64)[:-1])
    negative = -normal.icdf(torch.linspace(offset, 0.5, 8, dtype=torch.float64)[:-1])
    levels = torch.cat([positive, negative, torch.zeros(1, dtype=torch.float64)]).sort().values
    return (levels / levels.max()).float()


def int_levels(bits: int) -> torch.Tensor:
    """The 2^bits − 1 evenly spaced levels of a symmetric integer (−(2^(b−1)−1) .. 2^(b−1)−1), divided into [-1, 1]."""
    if bits not in (2, 3, 4, 8):
        raise ValueError(f"bits={bits!r}; expected 2, 3, 4 or 8")
    top = 2 ** (bits - 1) - 1
    return torch.arange(-top, top + 1, dtype=torch.float32) / top


def absmax_blocks(w: torch.Tensor, levels: torch.Tensor, block: int | None = 64) -> torch.Tensor:
    """``w`` quantized and dequantized block-wise: each block of ``block`` consecutive values (in memory order) is
    divided by its absmax, every value replaced by the nearest of ``levels`` (sorted, in [-1, 1]) and multiplied
    back. ``block=None``: one absmax for the whole tensor (per-tensor scaling). ``w.numel()`` must be a multiple of
    ``block``."""
    if not torch.is_tensor(w) or not w.is_floating_point():
        raise ValueError("expected a floating-point tensor of weights")
    size = w.numel() if block is None else block
    if not isinstance(size, int) or size < 1 or w.numel() % size:
        raise ValueError(f"block={block!r}; expected a positive divisor of the {w.numel()} values, or None")
    blocks = w.detach().float().reshape(-1, size)
    absmax = blocks.abs().amax(dim=1, keepdim=True).clamp(min=1e-12)
    levels = levels.to(blocks)
    midpoints = (levels[1:] + levels[:-1]) / 2  # the nearest level, found by the interval between midpoints
    nearest = torch.bucketize(blocks / absmax, midpoints)
    return (levels[nearest] * absmax).reshape(w.shape).to(w.dtype)


def bits_per_weight(bits: int, block: int | None, numel: int, scale_bits: int = 32) -> float:
    """Storage per weight of a block-wise format: ``bits`` per value plus one ``scale_bits`` scale per block."""
    return bits + scale_bits / (numel if block is None else block)


def _rows(w: torch.Tensor, block: int = 32) -> torch.Tensor:
    if w.dim() < 1 or w.shape[-1] % block:
        raise ValueError(f"expected rows of a multiple of {block} values (GGUF blocks); got shape {tuple(w.shape)}")
    return w.detach().float().reshape(-1, block)


def _fp16(x: torch.Tensor) -> torch.Tensor:
    return x.half().float()  # GGUF stores each block's scale (and minimum) as fp16


def ggml_q8_0(w: torch.Tensor) -> torch.Tensor:
    """llama.cpp's Q8_0, quantized and dequantized: per block of 32, d = absmax / 127, q = round(x / d) in int8."""
    x = _rows(w)
    d = _fp16(x.abs().amax(dim=1, keepdim=True) / 127)
    q = torch.round(x / d.clamp(min=1e-30)).clamp(-127, 127)
    return (q * d).reshape(w.shape).to(w.dtype)


def ggml_q4_0(w: torch.Tensor) -> torch.Tensor:
    """llama.cpp's Q4_0: per block of 32, d = m / −8 with m the value of largest magnitude (sign kept), q = x / d + 8
    rounded into 0..15, dequantized as (q − 8) · d."""
    x = _rows(w)
    m = x.gather(1, x.abs().argmax(dim=1, keepdim=True))
    d = _fp16(m / -8)
    inverse = torch.where(d == 0, torch.zeros_like(d), 1 / d)
    q = torch.floor(x * inverse + 8.5).clamp(0, 15)
    return ((q - 8) * d).reshape(w.shape).to(w.dtype)


def ggml_q4_1(w: torch.Tensor) -> torch.Tensor:
    """llama.cpp's Q4_1: per block of 32, a minimum m and a step d = (max − m) / 15, q = (x − m) / d rounded into
    0..15, dequantized as q · d + m."""
    x = _rows(w)
    low, high = x.amin(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)
    d, m = _fp16((high - low) / 15), _fp16(low)
    inverse = torch.where(d == 0, torch.zeros_like(d), 1 / d)
    q = torch.floor((x - m) * inverse + 0.5).clamp(0, 15)
    return (q * d + m).reshape(w.shape).to(w.dtype)


def reconstruction_error(w: torch.Tensor, approx: torch.Tensor) -> float:
    """‖approx − w‖ / ‖w‖ (relative root-mean-square error)."""
    if w.shape != approx.shape:
        raise ValueError(f"expected two tensors of one shape; got {tuple(w.shape)} and {tuple(approx.shape)}")
    w, approx = w.detach().double(), approx.detach().double()
    return float((approx - w).norm() / w.norm().clamp(min=1e-30))


def quantize_linears(model: torch.nn.Module, method) -> float:
    """Replace, in place, the weight of every ``nn.Linear`` inside the model's Transformer layers by
    ``method(weight)`` (a quantize-then-dequantize function such as ``ggml_q4_0``), as llama.cpp does for a 4-bit
    file; embeddings and norms stay as they are. Returns the largest absolute change of any weight."""
    layers = [m for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and ".layers." in name]
    if not layers:
        raise ValueError("expected a model with nn.Linear modules inside its '.layers.' (a Llama-style decoder)")
    largest = 0.0
    with torch.no_grad():
        for layer in layers:
            approx = method(layer.weight)
            largest = max(largest, float((approx - layer.weight).abs().max()))
            layer.weight.copy_(approx)
    return largest


def perplexity(model: torch.nn.Module, ids: torch.Tensor, length: int) -> float:
    """exp(mean next-token cross-entropy) of a causal LM over the tokens ``ids`` (1-D), cut into rows of ``length``
    tokens (a remainder shorter than a row is left out); the rows are made on the model's device."""
    if ids.dim() != 1 or not isinstance(length, int) or not 2 <= length <= len(ids):
        raise ValueError(f"expected 1-D token ids and 2 <= length <= {len(ids)}; got {tuple(ids.shape)}, {length!r}")
    rows = ids[: len(ids) // length * length].reshape(-1, length).to(next(model.parameters()).device)
    with torch.no_grad():
        return float(model(input_ids=rows, labels=rows).loss.exp())


def gguf_origin():
    """The GGUF file the profile's chat model was converted from (the tiny profile's SmolLM2-135M, Q4_1), or None
    when the model came from a Hub checkpoint."""
    from shared.models import HUB_IDS, smollm_gguf, source

    return None if source("chat_lm") == HUB_IDS["chat_lm"] else smollm_gguf()


def gguf_summary(path) -> dict:
    """``{tensor type: {"tensors", "weights", "bytes"}}`` of a GGUF file, read with the ``gguf`` package."""
    from gguf import GGUFReader

    summary: dict = {}
    for tensor in GGUFReader(str(path)).tensors:
        row = summary.setdefault(tensor.tensor_type.name, {"tensors": 0, "weights": 0, "bytes": 0})
        row["tensors"] += 1
        row["weights"] += int(tensor.n_elements)
        row["bytes"] += int(tensor.n_bytes)
    return summary
