"""shared.generation.prompting: label-word scores with the shared prefix cached equal scoring each full prompt on its
own;
prompts follow the chat template; parsing finds exactly one label or none; bad inputs are refused."""

import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from shared import models
from shared.generation.prompting import chat_prompt, greedy_answers, label_logprobs, label_token_ids, parse_label

LABELS = {"negative": ["negative", "Negative"], "positive": ["positive", "Positive"]}


@pytest.fixture(scope="module")
def tiny_chat():
    tokenizer = AutoTokenizer.from_pretrained(models.smollm_path())
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config).eval(), tokenizer


def by_hand(model, tokenizer, prompt):
    """The label scores of one prompt, run whole: log-sum-exp over each label's spellings, renormalized."""
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        last = model(input_ids=ids).logits[0, -1].log_softmax(-1)
    scores = torch.stack([last[g].logsumexp(-1) for g in label_token_ids(tokenizer, LABELS)])
    return scores.log_softmax(-1)


def test_chat_prompt_ends_where_the_answer_begins(tiny_chat):
    _, tokenizer = tiny_chat
    prompt = chat_prompt(
        tokenizer,
        "Is this review positive?",
        system="Answer in one word.",
        examples=[("A fine film.", "positive")],
        answer_prefix="Answer:",
    )
    assert prompt.startswith("<|im_start|>system\nAnswer in one word.<|im_end|>")
    assert "<|im_start|>assistant\npositive<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\nAnswer:")


@pytest.mark.parametrize("batch_size", [1, 2, 16])
def test_cached_prefix_scores_equal_whole_prompts(tiny_chat, batch_size):
    model, tokenizer = tiny_chat
    reviews = ["A dull film.", "Wonderful acting and a moving, surprising ending.", "Fine."]
    prompts = [
        chat_prompt(tokenizer, f"Review: {r}\nPositive or negative?", system="You label reviews.") for r in reviews
    ]
    scores = label_logprobs(model, tokenizer, prompts, LABELS, batch_size=batch_size)
    assert scores.shape == (3, 2)
    assert torch.allclose(scores.exp().sum(-1), torch.ones(3), atol=1e-5)
    expected = torch.stack([by_hand(model, tokenizer, p) for p in prompts])
    assert torch.allclose(scores, expected, atol=1e-4)


def test_prompts_that_share_no_prefix_score_as_whole_prompts(tiny_chat):
    model, tokenizer = tiny_chat
    prompts = ["Great film. Sentiment:", "Awful, long and dull. Sentiment:"]
    expected = torch.stack([by_hand(model, tokenizer, p) for p in prompts])
    assert torch.allclose(label_logprobs(model, tokenizer, prompts, LABELS, batch_size=2), expected, atol=1e-4)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_cached_greedy_answers_equal_generate(tiny_chat, batch_size):
    model, tokenizer = tiny_chat
    reviews = ["A dull film.", "Wonderful acting and a moving, surprising ending.", "Fine."]
    prompts = [chat_prompt(tokenizer, f"Review: {r}", system="You label reviews.") for r in reviews]
    expected = []
    for prompt in prompts:
        ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        out = model.generate(input_ids=ids, max_new_tokens=5, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        expected.append(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
    assert greedy_answers(model, tokenizer, prompts, max_new_tokens=5, batch_size=batch_size) == expected


def test_parse_label_needs_exactly_one_label():
    assert parse_label("Positive.", LABELS) == "positive"
    assert parse_label("I'd say it is NEGATIVE overall", LABELS) == "negative"
    assert parse_label("positive or negative?", LABELS) is None
    assert parse_label("It is a great film", LABELS) is None
    assert parse_label("non-positive", LABELS) == "positive"  # a word match, not a judgment: parsing is fragile


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, t: chat_prompt(t, "  "), "non-empty user message"),
        (lambda m, t: label_logprobs(m, t, [], LABELS), "non-empty list"),
        (lambda m, t: label_logprobs(m, t, ["a", ""], LABELS), "non-empty list"),
        (lambda m, t: label_logprobs(m, t, ["a"], LABELS, batch_size=0), "integer >= 1"),
        (lambda m, t: greedy_answers(m, t, ["a"], max_new_tokens=0), "integer >= 1"),
        (lambda m, t: greedy_answers(m, t, []), "non-empty list"),
        (lambda m, t: label_token_ids(t, {"positive": ["positive"]}), "at least two labels"),
        (lambda m, t: label_token_ids(t, {"a": ["positive"], "b": ["positive"]}), "differ across labels"),
    ],
)
def test_bad_inputs(tiny_chat, call, message):
    with pytest.raises(ValueError, match=message):
        call(*tiny_chat)


def test_chat_prompt_is_the_template_of_chat_messages(tiny_chat):
    from shared.generation.prompting import chat_messages

    _, tokenizer = tiny_chat
    turns = chat_messages("Q?", system="Be brief.", examples=[("A?", "a")])
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert chat_messages("Q?") == [{"role": "user", "content": "Q?"}]
    written = tokenizer.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)
    assert chat_prompt(tokenizer, "Q?", system="Be brief.", examples=[("A?", "a")], answer_prefix="X") == written + "X"


def test_label_scores_add_spellings_and_renormalize_over_labels():
    from shared.generation.prompting import label_scores

    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]]))
    scores = label_scores(logits, [[0, 1], [3]]).exp()  # 0.3 and 0.4 of the mass, renormalized: 3/7 and 4/7
    assert torch.allclose(scores, torch.tensor([[3 / 7, 4 / 7]]))
