"""shared.exercises.transformer_block: the references are the library's own computations."""

import torch
from torch import nn

from shared.exercises.transformer_block import layer_norm, pre_norm_block
from shared.layers import TransformerBlock


def test_layer_norm_is_torchs():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    norm = nn.LayerNorm(8, eps=1e-3).double()
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    assert torch.allclose(layer_norm(x, norm.weight, norm.bias, eps=1e-3), norm(x))


def test_pre_norm_block_is_the_shared_block_without_dropout():
    torch.manual_seed(0)
    block = TransformerBlock(16, 4, 32, dropout=0.0, norm_first=True).double().eval()
    x = torch.randn(2, 6, 16, dtype=torch.float64)
    ours = pre_norm_block(x, lambda h: block.self_attn(h)[0], block.ff, block.norm1, block.norm2)
    assert torch.allclose(ours, block(x))
