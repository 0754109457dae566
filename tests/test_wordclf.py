"""shared.fairness.wordclf: the word vocabulary and the small classifier's shapes, padding and inputs."""

import pytest
import torch

from shared.baselines import words
from shared.fairness.wordclf import UNK, Vocabulary, WordClassifier


def test_vocabulary_encode_by_hand():
    vocab = Vocabulary(["A good film.", "a bad film"])
    assert words("A good film!", punctuation=True) == ["a", "good", "film", "!"]
    assert words("A good film!") == ["a", "good", "film"]
    assert vocab.ids == {"[pad]": 0, "[unk]": 1, "a": 2, "good": 3, "film": 4, ".": 5, "bad": 6}
    ids, mask = vocab.encode(["a great film", "bad"])
    assert ids.tolist() == [[2, UNK, 4], [6, 0, 0]]
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    assert vocab.encode(["a a a a"], max_len=2)[0].tolist() == [[2, 2]]


def test_vocabulary_rejects_bad_inputs():
    with pytest.raises(ValueError, match="at least one word"):
        Vocabulary(["", "  "])
    vocab = Vocabulary(["a film"])
    with pytest.raises(ValueError, match="at least one word"):
        vocab.encode(["a", ""])
    with pytest.raises(ValueError, match="one label per text"):
        vocab.dataset(["a", "film"], [1])
    with pytest.raises(ValueError, match="as a string"):
        words(3)


def test_classifier_ignores_padding():
    torch.manual_seed(0)
    model = WordClassifier(vocab_size=10, dropout=0.0).eval()
    ids, mask = torch.tensor([[2, 3, 4]]), torch.tensor([[True, True, True]])
    padded = torch.tensor([[2, 3, 4, 0, 0]]), torch.tensor([[True, True, True, False, False]])
    assert model(ids, mask).shape == (1, 2)
    torch.testing.assert_close(model(ids, mask), model(*padded))
    probs = model.predict_step((ids, mask), 0)
    torch.testing.assert_close(probs.sum(-1), torch.ones(1))


def test_classifier_rejects_bad_settings():
    with pytest.raises(ValueError, match="vocab_size >= 3"):
        WordClassifier(vocab_size=2)
    with pytest.raises(ValueError, match="lr > 0"):
        WordClassifier(vocab_size=10, lr=0)
