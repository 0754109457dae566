"""shared.quantization: each format written from its definition, checked against a reference it must equal."""

import pytest
import torch

from shared import quantization as qz


def test_nf4_levels_from_the_definition_equal_bitsandbytes_table():
    levels = qz.nf4_levels()
    assert levels.shape == (16,) and levels[7] == 0 and levels[0] == -1 and levels[-1] == 1
    assert torch.allclose(levels, torch.tensor(qz.NF4), atol=1e-6)


def test_affine_params_symmetric_and_asymmetric():
    x = torch.tensor([-0.5, 0.0, 0.25, 1.0])
    scale, zero, low, high = qz.affine_params(x, symmetric=True)
    assert (low, high, int(zero)) == (-127, 127, 0) and torch.isclose(scale, torch.tensor(1.0 / 127))
    q = qz.quantize(x, scale, zero, low, high)
    assert q.tolist() == [-64, 0, 32, 127]
    scale, zero, low, high = qz.affine_params(torch.tensor([0.5, 2.0]), symmetric=False)
    assert (low, high, int(zero)) == (0, 255, 0), "the range is stretched to include 0"
    assert torch.allclose(
        qz.dequantize(qz.quantize(x, scale, zero, low, high), scale, zero).clamp(min=0), x.clamp(min=0), atol=scale
    )
    with pytest.raises(ValueError, match="floating-point"):
        qz.affine_params(torch.tensor([1, 2]), symmetric=True)


def test_absmax_blocks_per_block_and_per_tensor():
    w = torch.tensor([[0.1, -0.2, 0.05, 0.2], [10.0, -5.0, 2.5, 0.0]])
    levels = qz.int_levels(2)  # -1, 0, 1
    assert torch.allclose(
        qz.absmax_blocks(w, levels, 4), torch.tensor([[0.0, -0.2, 0.0, 0.2], [10.0, -10.0, 0.0, 0.0]])
    )
    assert qz.absmax_blocks(w, levels, None)[0].abs().sum() == 0, "one scale: the small row is rounded away"
    with pytest.raises(ValueError, match="divisor"):
        qz.absmax_blocks(w, levels, 3)


def test_nf4_beats_uniform_4_bits_on_normal_weights():
    w = torch.randn(64, 256, generator=torch.Generator().manual_seed(0))
    nf4 = qz.reconstruction_error(w, qz.absmax_blocks(w, qz.nf4_levels(), 64))
    int4 = qz.reconstruction_error(w, qz.absmax_blocks(w, qz.int_levels(4), 64))
    tensor = qz.reconstruction_error(w, qz.absmax_blocks(w, qz.nf4_levels(), None))
    assert nf4 < int4 < tensor


def test_ggml_formats():
    w = torch.randn(8, 64, generator=torch.Generator().manual_seed(1))
    q41 = qz.ggml_q4_1(w)
    assert torch.equal(qz.ggml_q4_1(q41), q41), "a Q4_1 tensor is a fixed point of Q4_1 with the same blocks"
    errors = [qz.reconstruction_error(w, f(w)) for f in (qz.ggml_q8_0, qz.ggml_q4_1, qz.ggml_q4_0)]
    assert errors[0] < 0.01 < errors[1] < 0.15 and errors[2] < 0.15
    assert (qz.ggml_q4_0(w).reshape(-1, 32) / qz.ggml_q4_0(w).reshape(-1, 32).abs().amax(1, keepdim=True) * 8).sub(
        (qz.ggml_q4_0(w).reshape(-1, 32) / qz.ggml_q4_0(w).reshape(-1, 32).abs().amax(1, keepdim=True) * 8).round()
    ).abs().max() < 1e-3, "Q4_0 values lie on a grid of 16 steps of the block's scale"
    with pytest.raises(ValueError, match="multiple of 32"):
        qz.ggml_q8_0(torch.zeros(3, 10))


def test_quantize_linears_and_perplexity_on_a_tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    model = LlamaForCausalLM(config).eval()
    ids = torch.randint(64, (40,))
    before = qz.perplexity(model, ids, 16)
    assert 1 < before < 1000
    change = qz.quantize_linears(model, qz.ggml_q8_0)
    assert 0 < change < 0.01 and qz.quantize_linears(model, qz.ggml_q8_0) < 1e-6
    assert abs(qz.perplexity(model, ids, 16) / before - 1) < 0.05
    with pytest.raises(ValueError, match="length"):
        qz.perplexity(model, ids, 100)
