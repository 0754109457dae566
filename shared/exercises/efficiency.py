"""Checked exercises of lesson 17 (efficient training): the loss scaling of gradient accumulation, LoRA's start and
LoRA's forward pass."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, describe, namespaces


def lora_init(weight, r, generator):
    """LoRA's adapters for a frozen ``weight`` (d_out, d_in): A (r, d_in) random, B (d_out, r) zero, so that
    B @ A = 0 and the adapted layer starts as the pretrained one."""
    d_out, d_in = weight.shape
    A = torch.randn(r, d_in, generator=generator, dtype=weight.dtype) / math.sqrt(d_in)
    B = torch.zeros(d_out, r, dtype=weight.dtype)
    return A, B


def _init_cases():
    return [
        (torch.randn(48, 32, generator=torch.Generator().manual_seed(0)), 4, torch.Generator().manual_seed(1)),
        (torch.randn(16, 24, generator=torch.Generator().manual_seed(2)), 2, torch.Generator().manual_seed(3)),
    ]


def _init_shape(result) -> str | None:
    if not (isinstance(result, (tuple, list)) and len(result) == 2 and all(torch.is_tensor(t) for t in result)):
        return f"expected a pair of tensors (A, B); got {describe(result)}"
    return None


def _compare_init(got, expected) -> str | None:
    """A and B are compared by what matters, not by their random values: shapes, B zero, A random and non-zero."""
    if problem := _init_shape(got):
        return problem
    (A, B), (A0, B0) = got, expected
    if tuple(A.shape) != tuple(A0.shape) or tuple(B.shape) != tuple(B0.shape):
        want, got = (tuple(A0.shape), tuple(B0.shape)), (tuple(A.shape), tuple(B.shape))
        return f"expected A of shape {want[0]} and B of shape {want[1]}; got {got[0]} and {got[1]}"
    if bool((B != 0).any()) != bool((B0 != 0).any()):
        return "B should be all zeros, so that B @ A = 0 at the start" if (B0 == 0).all() else "B should not be zero"
    if bool((A != 0).any()) != bool((A0 != 0).any()) or not bool(A.isfinite().all()):
        return "A should hold random, finite, non-zero numbers"
    return None


def _init_both_random(weight, r, generator):
    d_out, d_in = weight.shape
    return torch.randn(r, d_in, generator=generator), torch.randn(d_out, r, generator=generator)


def _init_both_zero(weight, r, generator):
    d_out, d_in = weight.shape
    return torch.zeros(r, d_in), torch.zeros(d_out, r)


def _init_transposed(weight, r, generator):
    d_out, d_in = weight.shape
    return torch.randn(d_in, r, generator=generator), torch.zeros(r, d_out)


def lora_forward(x, weight, bias, A, B, alpha):
    """The adapted linear layer: x Wᵀ + b + (alpha / r) · x Aᵀ Bᵀ, with r = A.shape[0] (nn.Linear stores W as
    (d_out, d_in))."""
    r = A.shape[0]
    return x @ weight.t() + bias + (alpha / r) * (x @ A.t() @ B.t())


def _forward_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for n, d, r, alpha in ((5, 16, 4, 16.0), (3, 12, 2, 8.0)):
        x, W, b = torch.randn(n, d, generator=g), torch.randn(d, d, generator=g), torch.randn(d, generator=g)
        A, B = torch.randn(r, d, generator=g), torch.randn(d, r, generator=g)  # B after some training: not zero
        cases.append((x, W, b, A, B, alpha))
    return cases


EXERCISES = [
    Exercise(
        key="q2",
        title="LoRA's start",
        reference=lora_init,
        cases=_init_cases,
        compare=_compare_init,
        verified="A has shape (r, d_in) and random values, B has shape (d_out, r) and is all zeros, for two weights "
        "of different shapes: B @ A = 0, so the adapted model starts exactly as the pretrained one",
        hints=[
            "nn.Linear stores its weight as (d_out, d_in) and computes x @ W.T. The update B @ A must have that shape "
            "too: A is (r, d_in), B is (d_out, r).",
            "One of the two starts random (torch.randn(..., generator=generator)), the other at zero. Which one must "
            "be zero so that B @ A = 0, and why can't both be zero?",
        ],
        mistakes=[
            Mistake(
                "both_random",
                _init_both_random,
                "B is random, so B @ A is not zero: the adapted model does not start as the pretrained one, and "
                "fine-tuning begins by undoing a random change. Start B at zero (torch.zeros(d_out, r)).",
            ),
            Mistake(
                "both_zero",
                _init_both_zero,
                "A and B are both zero. Then the gradient of B, which is (dL/dy)ᵀ (x Aᵀ), is zero, and so is A's, "
                "which goes through B: neither ever moves. Keep A random and only B at zero.",
            ),
            Mistake(
                "transposed",
                _init_transposed,
                "A and B have the shapes of the x @ A @ B convention, A (d_in, r) and B (r, d_out). With nn.Linear's "
                "(d_out, d_in) weights the update is B @ A with A (r, d_in) and B (d_out, r).",
            ),
        ],
    ),
    Exercise(
        key="q3",
        title="LoRA's forward pass",
        reference=lora_forward,
        cases=_forward_cases,
        verified="on two random layers (rank 4 with alpha 16, rank 2 with alpha 8) your output equals "
        "x Wᵀ + b + (alpha / r) x Aᵀ Bᵀ",
        hints=[
            "Start from the frozen layer, x @ weight.T + bias, and add the low-rank path: x goes through A first "
            "(down to r numbers), then through B (back up to d_out).",
            "The low-rank path is scaled by alpha / r, with r = A.shape[0]: (alpha / r) * (x @ A.T @ B.T).",
        ],
        mistakes=[
            Mistake(
                "no_scale",
                lambda x, W, b, A, B, alpha: x @ W.t() + b + x @ A.t() @ B.t(),
                "the low-rank path is not scaled by alpha / r. The scale keeps the update's size the same when you "
                "change r, so a learning rate tuned at one rank still works at another.",
            ),
            Mistake(
                "inverted_scale",
                lambda x, W, b, A, B, alpha: x @ W.t() + b + (A.shape[0] / alpha) * (x @ A.t() @ B.t()),
                "the scale is r / alpha; LoRA multiplies the update by alpha / r.",
            ),
            Mistake(
                "wrong_order",
                lambda x, W, b, A, B, alpha: x @ W.t() + b + (alpha / A.shape[0]) * (x @ B @ A),
                "x goes through B @ A as if it were stored (d_in, d_out): x @ B @ A = x (B A), the transpose of the "
                "update. nn.Linear computes x Wᵀ, so the update is applied as x (B A)ᵀ = x Aᵀ Bᵀ.",
            ),
        ],
    ),
]


ACCUMULATION_SOLUTION = """def my_accumulated_gradient(weight, x, y, steps):
    weight = weight.detach().clone().requires_grad_(True)
    for xs, ys in zip(x.chunk(steps), y.chunk(steps), strict=True):
        loss = F.cross_entropy(xs @ weight, ys) / steps  # each micro-batch's mean, divided once
        loss.backward()  # adds into weight.grad
    return weight.grad
"""


def accumulated_gradient(weight, x, y, steps):
    """The gradient of the mean cross-entropy of ``x @ weight`` over the whole batch (what accumulating ``steps``
    equal micro-batches, each loss divided by ``steps``, gives), in closed form: xᵀ (softmax(x W) − onehot(y)) / n."""
    probs = (x @ weight).softmax(dim=-1)
    probs[torch.arange(len(y)), y] -= 1
    return x.t() @ probs / len(y)


def _accumulation_cases():
    g = torch.Generator().manual_seed(0)
    cases = []
    for n, d, k, steps in ((8, 5, 3, 2), (12, 4, 3, 4)):
        cases.append(
            (
                torch.randn(d, k, generator=g, dtype=torch.float64),
                torch.randn(n, d, generator=g, dtype=torch.float64),
                torch.randint(k, (n,), generator=g),
                steps,
            )
        )
    return cases


def _scaled_accumulation(divide_by):
    def accumulate(weight, x, y, steps):
        weight = weight.detach().clone().requires_grad_(True)
        for xs, ys in zip(x.chunk(steps), y.chunk(steps), strict=True):
            (F.cross_entropy(xs @ weight, ys) / divide_by(steps)).backward()
        return weight.grad

    return accumulate


EXERCISES.insert(
    0,
    Exercise(
        key="q1",
        title="the loss scaling of gradient accumulation",
        reference=accumulated_gradient,
        solution=ACCUMULATION_SOLUTION,
        cases=_accumulation_cases,
        verified="accumulating 2 and 4 micro-batches gives the gradient of the mean loss over the whole batch",
        hints=[
            "Make the weight a leaf that collects gradients: w = weight.detach().clone().requires_grad_(True). "
            "Every loss.backward() then adds into w.grad.",
            "Each micro-batch's loss is a mean over its own examples. The whole batch's mean loss is the average of "
            "the micro-batch means: divide each one by steps before backward, once.",
        ],
        mistakes=[
            Mistake(
                "not_divided",
                _scaled_accumulation(lambda steps: 1),
                "the micro-batch losses are not divided by the number of steps: the accumulated gradient is the sum of "
                "the micro-batch means, steps times the gradient of the batch's mean loss, as if the learning rate "
                "were steps times larger.",
            ),
            Mistake(
                "divided_twice",
                _scaled_accumulation(lambda steps: steps * steps),
                "each loss is divided by steps twice (steps²): the gradient is steps times too small. Lightning "
                "already divides by accumulate_grad_batches; a training_step that divides again does this.",
            ),
        ],
    ),
)

check, hint, solution = namespaces(EXERCISES)
