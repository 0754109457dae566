"""shared.exercises.fine_tuning: the references are what Lightning's classifier and transformers' schedule compute."""

import torch
import torch.nn.functional as F
from transformers import get_linear_schedule_with_warmup

from shared.exercises.fine_tuning import linear_warmup_factor, loss_and_accuracy


def test_loss_and_accuracy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0]])
    labels = torch.tensor([0, 0, 0])
    loss, accuracy = loss_and_accuracy(logits, labels)
    assert torch.isclose(loss, F.cross_entropy(logits, labels)) and abs(accuracy.item() - 2 / 3) < 1e-6


def test_linear_warmup_factor_is_transformers_schedule():
    for warmup, total in ((4, 45), (0, 10), (30, 300), (10, 10)):
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        expected = get_linear_schedule_with_warmup(optimizer, warmup, total).lr_lambdas[0]
        for step in range(total + 5):
            assert linear_warmup_factor(step, warmup, total) == expected(step), (warmup, total, step)
