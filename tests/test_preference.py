"""shared.rlhf.preference: the true rule, pair making, the packed layout, the Bradley–Terry loss on hand values, a
reward
model that reads the last real token whatever the padding, pair accuracy, input checks."""

import math

import pytest
import torch

from shared.rlhf.preference import (
    RewardModel,
    bradley_terry_loss,
    count_word,
    make_pairs,
    mentions_once,
    pack,
    pair_accuracy,
    pair_loader,
    sentence_starts,
)


def tiny_backbone():
    from transformers import GPT2Config, GPT2Model

    torch.manual_seed(0)
    return GPT2Model(GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2))


def test_count_word_whole_words_any_case():
    assert count_word("Felt, then he felt it; felted felts", "felt") == 2
    assert mentions_once("the doctor felt sad", "felt") and not mentions_once("felt felt", "felt")
    assert not mentions_once("nothing here", "felt")
    with pytest.raises(ValueError, match="single word"):
        count_word("text", "two words")


def test_make_pairs_pairs_passing_with_failing_completions():
    prompts = [[1, 2], [3]]
    comps = [[[10], [11], [12]], [[13], [14]]]
    texts = [["felt it", "no", "felt felt"], ["no", "nope"]]
    pairs = make_pairs(prompts, comps, texts, lambda t: mentions_once(t, "felt"), max_pairs_per_prompt=5)
    assert sorted((p["chosen"], p["rejected"]) for p in pairs) == [([10], [11]), ([10], [12])]
    assert all(p["prompt"] == [1, 2] for p in pairs)  # the second prompt has no passing completion
    assert len(make_pairs(prompts, comps, texts, lambda t: "felt" in t, max_pairs_per_prompt=1)) == 1
    with pytest.raises(ValueError, match="one entry per prompt"):
        make_pairs(prompts, comps[:1], texts, bool)
    with pytest.raises(ValueError, match="as many texts"):
        make_pairs([[1]], [[[1], [2]]], [["a"]], bool)


def test_pack_layout_by_hand():
    batch = pack([[5, 6, 7], [8]], [[1], [2, 3]], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 1, 0], [0, 0, 8, 2, 3]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 0], [0, 0, 1, 1, 1]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 3], [0, 0, 0, 1, 2]]
    assert batch["completion_mask"].tolist() == [[True, False], [True, True]]
    with pytest.raises(ValueError, match="non-empty"):
        pack([[1]], [[]], pad_id=0)
    with pytest.raises(ValueError, match="as many prompts"):
        pack([[1], [2]], [[3]], pad_id=0)
    with pytest.raises(ValueError, match="pad_id"):
        pack([[1]], [[2]], pad_id=None)


def test_bradley_terry_loss_hand_values():
    # -(log sigmoid(2) + log sigmoid(-1)) / 2 = (log(1 + e^-2) + log(1 + e^1)) / 2
    expected = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(1))) / 2
    loss = bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0]))
    assert loss.item() == pytest.approx(expected, abs=1e-6) and expected == pytest.approx(0.72009, abs=1e-5)
    assert bradley_terry_loss(torch.zeros(3), torch.zeros(3)).item() == pytest.approx(math.log(2))
    assert bradley_terry_loss(torch.tensor([100.0]), torch.tensor([0.0])).item() == pytest.approx(0.0, abs=1e-6)


def test_bradley_terry_loss_refuses_bad_inputs():
    with pytest.raises(ValueError, match="same shape|one chosen and one rejected"):
        bradley_terry_loss(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="float tensor"):
        bradley_terry_loss(torch.tensor([1, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="float tensor"):
        bradley_terry_loss([1.0], torch.tensor([0.0]))


def test_reward_model_reads_last_real_token_whatever_the_padding():
    model = RewardModel(tiny_backbone()).eval()
    alone = model(pack([[5, 6]], [[7, 8]], pad_id=0))
    padded = model(pack([[5, 6], [1, 2, 3, 4]], [[7, 8], [9, 9, 9, 9]], pad_id=0))
    assert padded.shape == (2,) and torch.allclose(alone, padded[:1], atol=1e-5)
    with pytest.raises(ValueError, match="hidden_size"):
        RewardModel(torch.nn.Linear(2, 2))


def test_reward_model_learns_a_pair_and_pair_accuracy():
    from shared.trainer import make_trainer

    pairs = [{"prompt": [1, 2], "chosen": [10, 11], "rejected": [20, 21]}] * 8
    model = RewardModel(tiny_backbone(), lr=1e-2)
    loader = pair_loader(pairs, pad_id=0, batch_size=4)
    make_trainer(max_steps=10, logger=False, enable_checkpointing=False, limit_val_batches=0).fit(model, loader)
    assert pair_accuracy(model.eval(), loader) == 1.0
    assert pair_accuracy(lambda b: torch.zeros(len(b["input_ids"])), loader) == 0.5  # ties count half
    with pytest.raises(ValueError, match="non-empty list of pairs"):
        pair_loader([], pad_id=0)


def test_sentence_starts():
    starts = sentence_starts(["one two three four five six. a b c. seven eight nine ten eleven twelve"], words=2)
    assert sorted(starts) == ["one two", "seven eight"]
    with pytest.raises(ValueError, match="words"):
        sentence_starts(["x"], words=0)
