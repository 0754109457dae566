"""shared.tasks: the synthetic tasks give the right labels, the data module and model have the right shapes."""

import pytest
import torch

from shared.moe import SparseMoE, SwiGLU
from shared.tasks import (
    IGNORE,
    BlockModel,
    SequenceModel,
    TaskDataModule,
    ciphers,
    domain_cipher,
    lookup,
    present_elsewhere,
    reverse,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_reverse_labels_are_the_flipped_input():
    x, y = reverse(5, gen(), length=6, vocab_size=10)
    assert x.shape == y.shape == (5, 6)
    assert torch.equal(y, x.flip(1))
    assert all(len(set(row.tolist())) == 6 for row in x), "tokens in a sequence are distinct"
    assert x.min() >= 0 and x.max() < 10


def test_reverse_is_reproducible_with_a_generator():
    assert torch.equal(reverse(3, gen(1))[0], reverse(3, gen(1))[0])
    assert not torch.equal(reverse(3, gen(1))[0], reverse(3, gen(2))[0])


def test_present_elsewhere_on_a_hand_made_example(monkeypatch):
    x, y = present_elsewhere(200, gen(), length=5, vocab_size=4)
    for row, labels in zip(x.tolist(), y.tolist(), strict=True):
        assert labels == [int(row.count(t) > 1) for t in row]
    # a hand-made check of the labeling rule itself
    monkeypatch.setattr(torch, "randint", lambda *a, **k: torch.tensor([[3, 1, 3, 2, 1, 0]]))
    _, y = present_elsewhere(1, length=6, vocab_size=4)
    assert y.tolist() == [[1, 1, 1, 0, 1, 0]]


def test_lookup_one_query_labels_the_value_of_the_asked_key():
    K, V, P = 8, 5, 4
    x, y = lookup(50, gen(), pairs=P, num_keys=K, num_values=V)
    assert x.shape == (50, P + 1, 2) and y.shape == (50, P + 1)
    assert (y[:, :-1] == IGNORE).all() and y[:, -1].min() >= 0 and y[:, -1].max() < V
    assert (x[:, -1, 1] == K + V).all(), "the question's second token is '?'"
    for row, label in zip(x.tolist(), y[:, -1].tolist(), strict=True):
        table = dict(row[:-1])
        assert len(table) == P, "keys are distinct"
        assert table[row[-1][0]] - K == label


def test_lookup_two_queries_labels_both_values():
    K, V, P = 8, 5, 4
    x, y = lookup(50, gen(), pairs=P, num_keys=K, num_values=V, queries=2)
    for row, label in zip(x.tolist(), y[:, -1].tolist(), strict=True):
        table = dict(row[:-1])
        a, b = row[-1][0], row[-1][1] - K - V - 1
        assert a != b and a in table and b in table
        assert label == (table[a] - K) * V + (table[b] - K)
    assert x.max() < 2 * K + V + 1


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: reverse(0), "n=0"),
        (lambda: reverse(4, length=8, vocab_size=4), "vocab_size=4"),
        (lambda: reverse(4, length=2.5), "length=2.5"),
        (lambda: lookup(4, pairs=6, num_keys=3), "num_keys=3"),
        (lambda: lookup(4, queries=3), "queries=3"),
        (lambda: present_elsewhere(4, vocab_size=1), "vocab_size=1"),
        (lambda: TaskDataModule("sort"), "unknown task 'sort'"),
        (lambda: TaskDataModule("reverse", batch_size=0), "batch_size=0"),
        (lambda: SequenceModel(10, 2, attention=False, ffn=False), "nothing to learn"),
        (lambda: domain_cipher(4, vocab_size=1), "vocab_size=1"),
        (lambda: domain_cipher(4, domains=0), "domains=0"),
        (lambda: BlockModel(10, 4, aux_weight=0.1), "aux_weight=0.1"),
        (lambda: BlockModel(10, 4, num_experts=2, top_k=3), "top_k=3 > num_experts=2"),
        (lambda: BlockModel(10, 4, shared_d_ff=4), "shared expert needs routed experts"),
    ],
)
def test_bad_input_raises_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_data_module_and_model_shapes():
    data = TaskDataModule("lookup", n_train=32, n_val=16, batch_size=8, queries=2, num_keys=8, num_values=4)
    x, y = next(iter(data.train_dataloader()))
    assert x.shape == (8, 7, 2) and y.shape == (8, 7)
    assert len(data.val_set) == 16 and next(iter(data.val_dataloader()))[0].shape[0] == 16
    model = SequenceModel(vocab_size=2 * 8 + 4 + 1, num_classes=16, d_model=16, num_heads=2)
    logits, weights = model(x, need_weights=True)
    assert logits.shape == (8, 7, 16) and weights.shape == (8, 2, 7, 7)
    loss, acc = model._step((x, y))
    assert loss.ndim == 0 and 0.0 <= acc.item() <= 1.0


def test_model_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    model = SequenceModel(vocab_size=16, num_classes=16, d_model=16, num_heads=2, positions=False).eval()
    x, _ = reverse(4, gen(), length=6, vocab_size=16)
    perm = torch.tensor([5, 3, 1, 0, 2, 4])
    with torch.no_grad():
        assert torch.allclose(model(x[:, perm]), model(x)[:, perm], atol=1e-5)
        with_positions = SequenceModel(vocab_size=16, num_classes=16, d_model=16, num_heads=2).eval()
        assert not torch.allclose(with_positions(x[:, perm]), with_positions(x)[:, perm], atol=1e-3)


def test_domain_cipher_translates_each_token_with_its_domains_table():
    x, y = domain_cipher(50, gen(), length=5, domains=3, vocab_size=6)
    table = ciphers(3, 6)
    assert x.shape == (50, 5, 2) and y.shape == (50, 5)
    assert all(sorted(row.tolist()) == list(range(6)) for row in table), "each table is a permutation"
    assert not torch.equal(table[0], table[1])
    domain = x[:, :, 1] - 6
    assert (domain == domain[:, :1]).all() and domain.min() >= 0 and domain.max() < 3  # one domain per sequence
    for i in range(50):
        for t in range(5):
            assert y[i, t] == table[domain[i, t], x[i, t, 0]]
    assert torch.equal(ciphers(3, 6), table), "the tables do not depend on the draw"


def test_block_model_dense_and_experts():
    data = TaskDataModule("domain_cipher", n_train=32, n_val=16, batch_size=8, vocab_size=8, domains=2, length=4)
    batch = next(iter(data.train_dataloader()))
    dense = BlockModel(10, 8, d_model=16, d_ff=8)
    assert isinstance(dense.block.ff, SwiGLU) and dense.moe is None
    experts = BlockModel(10, 8, d_model=16, d_ff=8, num_experts=4, top_k=1, aux_weight=0.01)
    assert isinstance(experts.moe, SparseMoE)
    assert dense(batch[0]).shape == experts(batch[0]).shape == (8, 4, 8)
    loss, acc = experts._step(batch)
    assert experts.moe.tokens_per_expert.sum() == 32 and 0.0 <= acc.item() <= 1.0 and loss.ndim == 0
