"""shared.generation.decoding: each logits transform equals transformers' own processor on the same scores; the
diversity
measures match hand counts; GenerationModule's log-probabilities are the model's own; bad inputs are refused."""

import pytest
import torch
from transformers import (
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from shared import models
from shared.data import text_loader
from shared.generation import decoding
from shared.trainer import make_trainer


def random_scores(seed, batch=4, vocab=500, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, vocab, generator=g) * scale, torch.randint(vocab, (batch, 12), generator=g)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("t", [0.3, 0.7, 1.0, 1.8])
def test_temperature_equals_transformers(seed, t):
    scores, ids = random_scores(seed)
    assert torch.equal(decoding.temperature(scores, t), TemperatureLogitsWarper(t)(ids, scores.clone()))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 5, 50, 499, 500, 1000])
def test_top_k_equals_transformers(seed, k):
    scores, ids = random_scores(seed)
    ours = decoding.top_k(scores, k)
    assert torch.equal(ours, TopKLogitsWarper(k)(ids, scores.clone()))
    assert (ours > float("-inf")).sum(-1).tolist() == [min(k, 500)] * 4


def test_top_k_keeps_ties():
    scores = torch.tensor([[3.0, 2.0, 2.0, 1.0]])
    assert decoding.top_k(scores, 2).tolist() == [[3.0, 2.0, 2.0, float("-inf")]]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_top_p_equals_transformers(seed, p, scale):
    scores, ids = random_scores(seed, scale=scale)
    ours = decoding.top_p(scores, p)
    assert torch.equal(ours, TopPLogitsWarper(p)(ids, scores.clone()))
    kept = (ours > float("-inf")).float() * scores.softmax(-1)
    assert (kept.sum(-1) >= p - 1e-6).all()  # the nucleus holds at least p


def test_top_p_by_hand():
    scores = torch.tensor([[0.5, 0.3, 0.15, 0.05]]).log()
    assert (decoding.top_p(scores, 0.7) > float("-inf")).tolist() == [[True, True, False, False]]
    assert (decoding.top_p(scores, 0.8) > float("-inf")).tolist() == [[True, True, False, False]]  # 0.5+0.3 >= 0.8
    assert (decoding.top_p(scores, 0.81) > float("-inf")).tolist() == [[True, True, True, False]]
    assert (decoding.top_p(scores, 0.01) > float("-inf")).tolist() == [[True, False, False, False]]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("penalty", [0.8, 1.0, 1.3, 2.0])
def test_repetition_penalty_equals_transformers(seed, penalty):
    scores, ids = random_scores(seed)
    ours = decoding.repetition_penalty(scores, ids, penalty)
    assert torch.equal(ours, RepetitionPenaltyLogitsProcessor(penalty)(ids, scores.clone()))


def test_repetition_penalty_by_hand():
    scores = torch.tensor([[2.0, -2.0, 1.0]])
    assert decoding.repetition_penalty(scores, torch.tensor([[0, 1, 0]]), 2.0).tolist() == [[1.0, -4.0, 1.0]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s, i: decoding.temperature(s, 0), "expected a number > 0"),
        (lambda s, i: decoding.temperature(s, -1.0), "expected a number > 0"),
        (lambda s, i: decoding.top_k(s, 0), "expected an integer >= 1"),
        (lambda s, i: decoding.top_k(s, 2.5), "expected an integer >= 1"),
        (lambda s, i: decoding.top_p(s, 0.0), r"expected a number in \(0, 1\]"),
        (lambda s, i: decoding.top_p(s, 1.2), r"expected a number in \(0, 1\]"),
        (lambda s, i: decoding.repetition_penalty(s, i, 0.0), "expected a number > 0"),
        (lambda s, i: decoding.repetition_penalty(s, i[:1], 1.2), "expected input_ids of shape"),
        (lambda s, i: decoding.temperature(s[0], 1.0), r"expected scores as a float tensor of shape \(batch, vocab\)"),
    ],
)
def test_bad_inputs(call, message):
    scores, ids = random_scores(0)
    with pytest.raises(ValueError, match=message):
        call(scores, ids)


def test_diversity_measures_by_hand():
    assert decoding.ngrams([1, 2, 3], 2) == [(1, 2), (2, 3)]
    assert decoding.distinct_n([[1, 2, 3], [1, 2, 3]], 2) == 2 / 4  # the same sample twice
    assert decoding.distinct_n([[1, 2, 3], [3, 2, 1]], 2) == 1.0
    assert decoding.repeated_ngram_share([1, 2, 1, 2, 1, 2], 2) == 3 / 5  # (1,2) (2,1) new; then 3 repeats
    assert decoding.repeated_ngram_share([1, 2, 3, 4], 2) == 0.0
    with pytest.raises(ValueError, match="at least 3 tokens"):
        decoding.distinct_n([[1, 2], [3]], 3)
    with pytest.raises(ValueError, match="expected an integer >= 1"):
        decoding.ngrams([1, 2], 0)


def test_until_eos_keeps_the_first_end_token():
    tokens = torch.tensor([[5, 2, 2, 2], [5, 6, 7, 8], [2, 9, 2, 9]])
    assert decoding.until_eos(tokens, [2]).tolist() == [
        [True, True, False, False],
        [True] * 4,
        [True, False, False, False],
    ]


@pytest.fixture(scope="module")
def tiny_chat():
    tokenizer = AutoTokenizer.from_pretrained(models.smollm_path(), padding_side="left")
    if tokenizer.pad_token is None:  # as load_chat_lm does (transformers < 5.18 converts the GGUF without one)
        tokenizer.pad_token = tokenizer.eos_token
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval(), tokenizer


@pytest.mark.parametrize("beams", [1, 3])
def test_generation_module_gives_the_models_own_log_probabilities(tiny_chat, beams):
    model, tokenizer = tiny_chat
    module = decoding.GenerationModule(model, tokenizer, max_new_tokens=6, do_sample=False, num_beams=beams)
    loader = text_loader(tokenizer, ["the owl", "on monday the baker walked"], batch_size=2, padding_side="left")
    out = make_trainer(single_device=True, logger=False, enable_progress_bar=False).predict(module, loader)[0]
    for prompt, tokens, logprobs, text in zip(
        ["the owl", "on monday the baker walked"], out["tokens"], out["logprobs"], out["texts"], strict=True
    ):
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        alone = model.generate(ids, max_new_tokens=6, do_sample=False, num_beams=beams)[0, ids.shape[1] :]
        assert tokens == alone.tolist()[: len(tokens)]
        full = torch.cat([ids, torch.tensor([tokens])], dim=1)
        with torch.no_grad():
            again = model(full).logits[0, ids.shape[1] - 1 : -1].log_softmax(-1)
        expected = again.gather(-1, torch.tensor(tokens)[:, None]).squeeze(-1)
        assert torch.allclose(torch.tensor(logprobs), expected, atol=1e-4)
        assert text == tokenizer.decode(tokens, skip_special_tokens=True)


def test_prompt_lookup_proposes_what_followed_the_last_ngram_before():
    assert decoding.prompt_lookup([1, 2, 3, 4, 1, 2], k=2) == [3, 4]
    assert decoding.prompt_lookup([1, 2, 3, 1, 2, 9, 1, 2], k=3) == [9, 1, 2]  # the latest earlier occurrence
    assert decoding.prompt_lookup([1, 2, 3, 4], k=2) == []  # (3, 4) never occurred before
    assert decoding.prompt_lookup([5, 1, 2, 1, 2], k=4) == [1, 2]  # what is there, up to k


@pytest.mark.parametrize("prompt", ["the owl saw the owl saw the owl", "on monday the baker walked"])
@pytest.mark.parametrize("k", [1, 4])
def test_speculative_greedy_gives_greedys_tokens(tiny_chat, prompt, k):
    model, tokenizer = tiny_chat
    ids = decoding.encode(model, tokenizer, [prompt])["input_ids"]
    plain = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False)
    new, stats = decoding.speculative_greedy(model, ids, 12, k=k)
    assert new == plain[0, ids.shape[1] :].tolist()
    assert stats["accepted"] <= stats["proposed"] and 1 <= stats["passes"] <= len(new)
    assert len(new) - 1 == stats["accepted"] + stats["passes"] - 1  # each pass after the first: accepted + 1


def test_speculative_greedy_accepts_an_always_right_guess(tiny_chat):
    model, tokenizer = tiny_chat
    ids = decoding.encode(model, tokenizer, ["the owl"])["input_ids"]
    plain = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=10, do_sample=False)[0].tolist()

    def oracle(context, k):  # proposes greedy's own next tokens
        return plain[len(context) : len(context) + k]

    new, stats = decoding.speculative_greedy(model, ids, 10, guess=oracle, k=3)
    assert new == plain[ids.shape[1] :] and stats["accepted"] == stats["proposed"] and stats["passes"] < len(new)


def test_positions_counted_counts_the_work(tiny_chat):
    model, tokenizer = tiny_chat
    enc = decoding.encode(model, tokenizer, ["the owl saw"])
    length = enc["input_ids"].shape[1]
    for use_cache, expected in ((True, length + 4), (False, sum(length + i for i in range(5)))):
        with decoding.positions_counted(model) as counts:
            model.generate(**enc, max_new_tokens=5, min_new_tokens=5, do_sample=False, use_cache=use_cache)
        assert counts == {"calls": 5, "positions": expected}


def test_encode_refuses_a_bare_string(tiny_chat):
    model, tokenizer = tiny_chat
    with pytest.raises(ValueError, match="expected a non-empty list"):
        decoding.encode(model, tokenizer, "a string")
