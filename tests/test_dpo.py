"""shared.rlhf.dpo: the DPO loss on hand-computed values, summed completion log-probabilities equal a manual count and
ignore padding, DPOModule trains the policy and leaves the reference alone, input checks."""

import math

import pytest
import torch

from shared.models import disable_dropout
from shared.rlhf.dpo import DPOModule, completion_logprobs, dpo_loss, frozen_copy
from shared.rlhf.preference import pack, pair_loader


def tiny_lm(seed=0):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    return GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2))


def test_dpo_loss_hand_values():
    # pair 1: beta * ((-10 - -11) - (-12 - -11)) = 0.5 * 2 = 1     -> -log sigmoid(1)    = log(1 + e^-1)  = 0.31326
    # pair 2: beta * ((-5 - -5) - (-4 - -5))   = 0.5 * -1 = -0.5   -> -log sigmoid(-0.5) = log(1 + e^0.5) = 0.97408
    loss = dpo_loss(
        torch.tensor([-10.0, -5.0]),
        torch.tensor([-12.0, -4.0]),
        torch.tensor([-11.0, -5.0]),
        torch.tensor([-11.0, -5.0]),
        beta=0.5,
    )
    expected = (math.log(1 + math.exp(-1)) + math.log(1 + math.exp(0.5))) / 2
    assert loss.item() == pytest.approx(expected, abs=1e-6) and expected == pytest.approx(0.64367, abs=1e-5)


def test_dpo_loss_is_log2_when_policy_equals_reference():
    lp = torch.tensor([-3.0, -7.5, -1.0])
    assert dpo_loss(lp, lp - 2, lp, lp - 2, beta=0.1).item() == pytest.approx(math.log(2))


def test_dpo_loss_refuses_bad_inputs():
    x = torch.zeros(2)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(x, x, x, x, beta=0)
    with pytest.raises(ValueError, match="same shape"):
        dpo_loss(x, x, x, torch.zeros(3))
    with pytest.raises(ValueError, match="float tensors"):
        dpo_loss(x, x, x, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="beta"):
        DPOModule(tiny_lm(), beta=-1.0)


def test_completion_logprobs_by_hand_and_padding_free():
    model = tiny_lm().eval()
    prompt, completion = [3, 4, 5], [6, 7]
    with torch.no_grad():
        logits = model(torch.tensor([prompt + completion])).logits[0].log_softmax(-1)
        manual = logits[2, 6] + logits[3, 7]
        alone = completion_logprobs(model, pack([prompt], [completion], pad_id=0))
        padded = completion_logprobs(model, pack([[1], prompt], [[2, 2, 2], completion], pad_id=0))
        tokens = completion_logprobs(model, pack([prompt], [completion], pad_id=0), per_token=True)
    assert alone.item() == pytest.approx(manual.item(), abs=1e-5)
    assert padded[1].item() == pytest.approx(manual.item(), abs=1e-4)
    assert tokens.shape == (1, 2) and tokens.sum().item() == pytest.approx(manual.item(), abs=1e-5)
    with pytest.raises(ValueError, match="packed batch"):
        completion_logprobs(model, {"input_ids": torch.zeros(1, 2, dtype=torch.long)})


def test_dpo_module_prefers_chosen_and_keeps_reference_frozen():
    from shared.trainer import make_trainer

    pairs = [{"prompt": [1, 2], "chosen": [10, 11], "rejected": [20, 21]}] * 8
    module = DPOModule(tiny_lm(), beta=0.5, lr=1e-2)
    before = [p.clone() for p in module.reference.parameters()]
    batch = next(iter(pair_loader(pairs, pad_id=0, batch_size=8)))
    make_trainer(max_steps=5, logger=False, enable_checkpointing=False).fit(module, pair_loader(pairs, 0, 4))
    assert all(torch.equal(a, b) for a, b in zip(before, module.reference.parameters(), strict=True))
    with torch.no_grad():
        margin = (
            completion_logprobs(module.policy, batch["chosen"]) - completion_logprobs(module.reference, batch["chosen"])
        ) - (
            completion_logprobs(module.policy, batch["rejected"])
            - completion_logprobs(module.reference, batch["rejected"])
        )
    assert (margin > 0).all()


def test_frozen_copy_and_disable_dropout():
    model = disable_dropout(tiny_lm())
    assert all(m.p == 0 for m in model.modules() if isinstance(m, torch.nn.Dropout))
    ref = frozen_copy(model)
    assert not ref.training and not any(p.requires_grad for p in ref.parameters())
    assert all(p.requires_grad for p in model.parameters())
