"""shared.exercises.inference: the references are what the course's tokenizer and predict_sentiment compute."""

import torch

from shared.exercises.inference import encode_batch, labels_with_probabilities
from shared.models import load_tokenizer


def test_encode_batch_is_the_tokenizers_layout():
    tokenizer = load_tokenizer("classifier")
    texts = ["a dull plot.", "the acting was wonderful and the ending was moving.", "fine."]
    for max_length in (6, 8, 64):
        want = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        plain = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        specials = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
        ids, mask = encode_batch(plain, max_length, *specials)
        assert torch.equal(ids, want["input_ids"]) and torch.equal(mask, want["attention_mask"]), max_length


def test_labels_with_probabilities():
    pairs = labels_with_probabilities(torch.tensor([[0.0, 0.0], [0.0, 2.0]]), {0: "neg", 1: "pos"})
    assert pairs[0] == ("neg", 0.5) and pairs[1][0] == "pos"
    assert abs(pairs[1][1] - torch.tensor([0.0, 2.0]).softmax(-1)[1].item()) < 1e-7
