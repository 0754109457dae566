"""shared.distillation: Hinton's loss by hand and in its T=1, no-label special case; students copied from the teacher's
layers; the distillation module trains the student and leaves the teacher untouched."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
)

from shared.distillation import DistillationModule, every_other_layer, hinton_loss, parameter_counts, shrink
from shared.trainer import make_trainer


def test_hinton_loss_by_hand():
    s, t, y = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([1])
    T = 2.0
    p_t = [math.exp(0) / (math.exp(0) + math.exp(0.5)), math.exp(0.5) / (math.exp(0) + math.exp(0.5))]
    p_s = [math.exp(0.5) / (math.exp(0.5) + 1), 1 / (math.exp(0.5) + 1)]
    kl = sum(a * math.log(a / b) for a, b in zip(p_t, p_s, strict=True))
    ce = -math.log(math.exp(0) / (math.exp(1) + math.exp(0)))
    assert hinton_loss(s, t, temperature=T).item() == pytest.approx(T * T * kl, rel=1e-6)
    assert hinton_loss(s, t, y, temperature=T, alpha=0.3).item() == pytest.approx(0.3 * T * T * kl + 0.7 * ce, rel=1e-6)
    assert hinton_loss(s, t, y, temperature=T).item() == pytest.approx(0.5 * T * T * kl + 0.5 * ce, rel=1e-6)
    assert hinton_loss(s, t, y, alpha=0.0).item() == pytest.approx(ce, rel=1e-6)  # labels only


@pytest.mark.parametrize("seed", range(3))
def test_reduces_to_the_plain_kl_at_temperature_one_without_labels(seed):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    seed_loss = F.kl_div(F.log_softmax(s, dim=-1), F.softmax(t, dim=-1), reduction="batchmean")
    assert torch.allclose(hinton_loss(s, t, temperature=1.0), seed_loss, atol=1e-6)
    assert hinton_loss(t, t, temperature=3.0).abs().item() < 1e-6  # a student equal to its teacher: no loss


def test_gradient_scale_is_kept_by_t_squared():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(64, 4, generator=g) * 0.1  # small logits: the high-temperature regime of Hinton's paper
    norms = []
    for T in (4.0, 8.0):
        s = (torch.randn(64, 4, generator=g) * 0.1).requires_grad_()
        hinton_loss(s, t, temperature=T).backward()
        norms.append(s.grad.norm().item())
    assert 0.2 < norms[0] / norms[1] < 5  # without T^2 the ratio would be about (8/4)^2 = 4 times larger


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(temperature=0.0), "expected a number > 0"),
        (dict(temperature=-1.0), "expected a number > 0"),
        (dict(alpha=1.5, labels=torch.tensor([0, 1])), "expected a weight between 0 and 1"),
        (dict(alpha=0.5), "no cross-entropy term to weight"),
        (dict(labels=torch.tensor([0])), "expected one label per row"),
    ],
)
def test_bad_inputs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hinton_loss(torch.zeros(2, 3), torch.zeros(2, 3), **kwargs)
    with pytest.raises(ValueError, match="of the same shape"):
        hinton_loss(torch.zeros(2, 3), torch.zeros(2, 4))


def tiny_bert(layers=4):
    config = BertConfig(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=2,
    )
    torch.manual_seed(0)
    return BertForSequenceClassification(config).eval()


def test_shrink_copies_the_chosen_layers(tmp_path):
    teacher = tiny_bert(4)
    student = shrink(teacher, [1, 3])
    assert student.config.num_hidden_layers == 2 and len(student.bert.encoder.layer) == 2
    assert teacher.config.num_hidden_layers == 4 and len(teacher.bert.encoder.layer) == 4  # the teacher is untouched
    for i, j in enumerate([1, 3]):
        a, b = student.bert.encoder.layer[i].state_dict(), teacher.bert.encoder.layer[j].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    student.bert.encoder.layer[0].output.dense.weight.data.zero_()  # a copy, not shared tensors
    assert teacher.bert.encoder.layer[1].output.dense.weight.abs().sum() > 0
    student.save_pretrained(tmp_path)
    again = BertForSequenceClassification.from_pretrained(tmp_path, use_safetensors=True).eval()
    ids = torch.randint(100, (2, 7))
    assert torch.allclose(again(ids).logits, student.eval()(ids).logits, atol=1e-6)


def test_shrink_works_for_distilbert_and_refuses_bad_layer_lists():
    config = DistilBertConfig(vocab_size=100, dim=16, n_layers=4, n_heads=2, hidden_dim=32, max_position_embeddings=32)
    student = shrink(DistilBertForSequenceClassification(config), every_other_layer(4))
    assert student.config.n_layers == 2 and len(student.distilbert.transformer.layer) == 2
    for keep in ([], [0, 0], [2, 1], [4], [0.5]):
        with pytest.raises(ValueError, match="expected increasing, distinct layer numbers"):
            shrink(tiny_bert(4), keep)
    assert every_other_layer(6) == [0, 2, 4] and every_other_layer(12) == [0, 2, 4, 6, 8, 10]
    with pytest.raises(ValueError, match="expected an integer >= 2"):
        every_other_layer(1)


def test_parameter_counts():
    model = tiny_bert(4)
    counts = parameter_counts(model)
    emb = model.bert.embeddings
    expected = (
        emb.word_embeddings.weight.numel()
        + emb.position_embeddings.weight.numel()
        + emb.token_type_embeddings.weight.numel()
        + 2 * 16
    )
    assert counts["embeddings"] == expected
    assert counts["total"] == sum(p.numel() for p in model.parameters()) == expected + counts["non_embedding"]
    layer = sum(p.numel() for p in model.bert.encoder.layer[0].parameters())
    assert counts["non_embedding"] - parameter_counts(shrink(model, [0, 2]))["non_embedding"] == 2 * layer


def batches(n=64, batch_size=16):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 100, (n, 6), generator=g)
    labels = (ids[:, 0] < 50).long()  # the first token decides the class

    def collate(rows):
        return {
            "input_ids": torch.stack([r[0] for r in rows]),
            "attention_mask": torch.ones(len(rows), 6).long(),
            "labels": torch.stack([r[1] for r in rows]),
        }

    return DataLoader(list(zip(ids, labels, strict=True)), batch_size=batch_size, collate_fn=collate)


@pytest.mark.parametrize("with_teacher", [True, False])
def test_distillation_module_trains_the_student_only(with_teacher):
    teacher = tiny_bert(4)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = shrink(teacher, [0, 2])
    start = student.classifier.weight.clone()
    module = DistillationModule(student, teacher if with_teacher else None, temperature=2.0, alpha=0.7, lr=1e-3)
    trainer = make_trainer(max_steps=4, logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.fit(module, batches())
    assert not torch.equal(module.student.classifier.weight, start)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    if with_teacher:
        assert not module.teacher.training and module.student.training
        assert not any(p.requires_grad for p in module.teacher.parameters())
    probs = torch.cat(
        make_trainer(single_device=True, logger=False, enable_progress_bar=False).predict(module, batches())
    )
    assert probs.shape == (64, 2) and torch.allclose(probs.sum(-1), torch.ones(64))
    with pytest.raises(ValueError, match="expected lr > 0"):
        DistillationModule(student, teacher, temperature=0.0)


def test_shrink_gives_a_trainable_student_of_a_frozen_teacher():
    teacher = tiny_bert(4).eval().requires_grad_(False)
    student = shrink(teacher, [0, 2])
    assert student.training and all(p.requires_grad for p in student.parameters())
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())


def test_distillation_on_unlabeled_batches_uses_the_soft_term_alone():
    teacher = tiny_bert(4)
    rows = [{k: v[i] for k, v in batch.items() if k != "labels"} for batch in batches() for i in range(16)]
    loader = DataLoader(rows, batch_size=16, collate_fn=lambda r: {k: torch.stack([x[k] for x in r]) for k in r[0]})
    module = DistillationModule(shrink(teacher, [0, 2]), teacher, temperature=2.0, alpha=0.3)
    batch = next(iter(loader))
    module.eval()  # no dropout: the two forward passes below agree
    with torch.no_grad():
        expected = hinton_loss(module(batch), teacher(**batch).logits, temperature=2.0)
        assert torch.allclose(module.training_step(batch, 0), expected)
    with pytest.raises(ValueError, match="expected labels to train on, or a teacher"):
        DistillationModule(shrink(teacher, [0, 2])).training_step(batch, 0)


def test_training_step_is_the_distillation_loss_and_logits_of_is_the_forward():
    from shared.distillation import batch_on, logits_of

    teacher = tiny_bert(4)
    module = DistillationModule(shrink(teacher, [0, 2]), teacher, temperature=2.0, alpha=0.3).eval()
    batch = next(iter(batches()))
    with torch.no_grad():
        assert torch.equal(module.distillation_loss(batch), module.training_step(batch, 0))
        unlabeled = {k: v for k, v in batch.items() if k != "labels"}
        assert torch.allclose(logits_of(teacher, batch), teacher(**unlabeled).logits)
    assert batch_on(teacher, batch).keys() == batch.keys()
