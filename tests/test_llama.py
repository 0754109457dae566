"""shared/llama.py: each piece equals transformers' Llama module, a checkpoint saved by transformers loads through the
name map and gives the same logits, loss and greedy tokens, the KV cache changes the work and not the result, and
every bad config or checkpoint gets a clear error. Small random models, a few seconds in all."""

import json

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama as hf

from shared import llama

# A small model: 6 query heads in 3 groups sharing 2 key/value heads of size 8.
SIZES = dict(vocab_size=97, hidden_size=48, intermediate_size=80, max_position_embeddings=128, rms_norm_eps=1e-5)
SIZES |= dict(num_hidden_layers=2, num_attention_heads=6, num_key_value_heads=2, rope_theta=500.0)


def save_reference(folder, tied=True, **changes):
    """A random LlamaForCausalLM saved by transformers (config.json + model.safetensors) in ``folder``."""
    config = LlamaConfig(**{**SIZES, **changes}, tie_word_embeddings=tied)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder)
    return model


@pytest.fixture(scope="module", params=[True, False], ids=["tied", "untied"])
def pair(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama")
    reference = save_reference(folder, tied=request.param)
    return reference, llama.from_checkpoint(str(folder)), folder


def ids(n=11, seed=1):
    return torch.randint(0, SIZES["vocab_size"], (2, n), generator=torch.Generator().manual_seed(seed))


def test_read_config_gives_the_sizes(pair):
    _, model, folder = pair
    s = llama.read_config(folder)
    assert (s.dim, s.n_layers, s.n_heads, s.n_kv_heads, s.head_dim, s.ffn_dim) == (48, 2, 6, 2, 8, 80)
    assert s.rope_theta == 500.0 and s.norm_eps == 1e-5
    assert model.lm_head.weight is model.embed.weight if s.tied else model.lm_head.weight is not model.embed.weight


def test_same_logits_and_loss_as_transformers(pair):
    reference, model, _ = pair
    x = ids()
    with torch.no_grad():
        theirs = reference(x, labels=x)
        ours = model(x)
    torch.testing.assert_close(ours, theirs.logits, rtol=1e-5, atol=1e-5)
    assert llama.token_losses(model, x).mean().item() == pytest.approx(theirs.loss.item(), abs=1e-5)


def test_greedy_generation_with_and_without_cache_equals_transformers(pair):
    reference, model, _ = pair
    prompt = ids(5)[0].tolist()
    cached, cached_work = llama.generate(model, prompt, 12, llama.KVCache())
    plain, plain_work = llama.generate(model, prompt, 12)
    theirs = reference.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, eos_token_id=None)
    assert cached == plain == theirs[0, 5:].tolist()
    assert cached_work == 5 + 11 and plain_work == sum(range(5, 17))


def test_generation_stops_at_eos(pair):
    _, model, _ = pair
    prompt = ids(5)[0].tolist()
    first = llama.generate(model, prompt, 1)[0][0]
    assert llama.generate(model, prompt, 10, llama.KVCache(), eos_id=first)[0] == [first]
    with pytest.raises(ValueError, match="max_new_tokens"):
        llama.generate(model, prompt, 0)


def test_the_cache_holds_every_layers_keys_and_values(pair):
    _, model, _ = pair
    cache = llama.KVCache()
    with torch.no_grad():
        model(ids(7)[:1], cache)
        model(ids(1)[:1], cache)
    s = model.settings
    assert len(cache) == 8 and set(cache.keys) == set(range(s.n_layers))
    assert cache.nbytes() == 2 * s.n_layers * s.n_kv_heads * s.head_dim * 4 * 8


def test_pieces_equal_transformers_in_float64():
    config = LlamaConfig(**SIZES, attn_implementation="eager")
    x = torch.randn(2, 5, 48, dtype=torch.float64)
    norm, theirs = llama.RMSNorm(48, 1e-5).double(), torch.nn.RMSNorm(48, eps=1e-5).double()
    torch.testing.assert_close(norm(x), theirs(x), rtol=1e-12, atol=1e-12)

    positions = torch.arange(5)
    cos, sin = llama.rope_angles(positions, 8, 500.0, torch.float64)
    hf_cos, hf_sin = hf.LlamaRotaryEmbedding(config)(x, positions[None])
    torch.testing.assert_close((cos, sin), (hf_cos[0], hf_sin[0]), rtol=0, atol=0)

    ours = llama.GroupedQueryAttention(48, 6, 2, 8).double()
    attn = hf.LlamaAttention(config, layer_idx=0).double()
    with torch.no_grad():
        for name in "qkvo":
            getattr(attn, f"{name}_proj").weight.copy_(getattr(ours, name).weight)
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    additive = torch.zeros(5, 5, dtype=torch.float64).masked_fill(~mask, float("-inf"))[None, None]
    torch.testing.assert_close(ours(x, cos, sin, mask), attn(x, (hf_cos, hf_sin), additive)[0], rtol=1e-6, atol=1e-7)


def test_repeat_kv_matches_transformers_order():
    kv = torch.randn(2, 3, 4, 5)
    assert torch.equal(llama.repeat_kv(kv, 3), hf.repeat_kv(kv, 3))


def test_old_style_config_is_read(tmp_path):
    config = {
        "model_type": "llama",
        "vocab_size": 10,
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 4,
        "intermediate_size": 24,
        "rope_theta": 100000,
        "rope_scaling": None,
        "rope_interleaved": False,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    s = llama.read_config(tmp_path)
    assert (s.n_kv_heads, s.head_dim, s.rope_theta, s.tied) == (4, 4, 100000.0, False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, "rope type"),
        ({"rope_interleaved": True}, "rope_interleaved"),
        ({"hidden_act": "gelu"}, "hidden_act"),
        ({"attention_bias": True}, "attention_bias"),
        ({"model_type": "gpt2"}, "model_type"),
    ],
)
def test_unsupported_configs_are_refused(tmp_path, change, message):
    config = {"model_type": "llama", "hidden_size": 16, "num_attention_heads": 4, **change}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message):
        llama.read_config(tmp_path)


def test_bad_checkpoints_get_clear_errors_and_leave_the_model_alone(pair):
    _, model, folder = pair
    tensors, names = llama.read_tensors(folder), llama.name_map(model.settings)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    k_name = "model.layers.1.self_attn.k_proj.weight"
    cases = [
        ({k: v for k, v in tensors.items() if k != "model.norm.weight"}, "no tensor 'model.norm.weight'"),
        ({**tensors, "model.extra.weight": torch.zeros(1)}, "unused, e.g. 'model.extra.weight'"),
        ({**tensors, k_name: tensors[k_name].T}, r"blocks\.1\.attn\.k\.weight: the checkpoint's tensor has shape"),
    ]
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            llama.load_weights(model, bad, names)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert llama.load_weights(model, tensors, names) == sum(p.numel() for p in model.parameters())


def test_name_map_covers_every_parameter_once():
    s = llama.Settings(11, 8, 3, 2, 1, 4, 12, 100.0, 1e-6, tied=False)
    model, names = llama.Llama(s), llama.name_map(s)
    covered = {}
    for _, ours, rows in names:
        covered[ours] = covered.get(ours, 0) + (rows.stop - rows.start if rows else model.state_dict()[ours].size(0))
    assert covered == {name: p.size(0) for name, p in model.named_parameters()}
    assert llama.describe(names[7]) == "model.layers.0.mlp.gate_proj.weight -> blocks.0.ff.gate_up.weight[0:12]"


def test_checkpoint_folder_and_input_checks(tmp_path):
    assert llama.checkpoint_folder(str(tmp_path)) == tmp_path
    with pytest.raises(FileNotFoundError, match="no \\*.safetensors"):
        llama.read_tensors(tmp_path)
    with pytest.raises(ValueError, match="multiple of n_kv_heads"):
        llama.GroupedQueryAttention(16, 4, 3, 4)
    with pytest.raises(ValueError, match="even"):
        llama.rope_angles(torch.arange(3), 5, 100.0)
    with pytest.raises(ValueError, match="length >= 2"):
        llama.token_losses(llama.Llama(llama.Settings(11, 8, 1, 2, 1, 4, 12, 100.0, 1e-6, True)), [[1]])


def test_loss_is_cross_entropy_of_the_next_token():
    model = llama.Llama(llama.Settings(11, 8, 1, 2, 1, 4, 12, 100.0, 1e-6, True)).eval()
    x = torch.randint(0, 11, (3, 6), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(x)
    expected = F.cross_entropy(logits[:, :-1].flatten(0, 1), x[:, 1:].flatten(), reduction="none").view(3, 5)
    torch.testing.assert_close(llama.token_losses(model, x), expected)
