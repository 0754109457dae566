"""shared.rlhf.grpo: group-standardized advantages on hand values and against TRL's code; the GRPO loss against TRL's
own ``GRPOTrainer._compute_loss`` on a hand-made batch (values and gradients, with the clip and the KL term active);
the rule reward; GRPOModule learns a verifiable reward and leaves the reference alone."""

from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from shared.rlhf.grpo import GRPOModule, RuleReward, group_advantages, grpo_loss


def tiny_lm(seed=0):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(config)


def test_group_advantages_hand_values():
    adv = group_advantages(torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]))
    std = (4 * 0.25 / 3) ** 0.5  # Bessel-corrected std of two 1s and two 0s
    assert torch.allclose(adv[0], torch.tensor([1.0, -1.0, -1.0, 1.0]) * 0.5 / (std + 1e-4))
    assert adv[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # a flat group: no signal, and no NaN
    with pytest.raises(ValueError, match="k >= 2"):
        group_advantages(torch.ones(4))


def trl_group_advantages(rewards, num_generations):
    """TRL 1.16's advantages (``GRPOTrainer._generate_and_score_completions``, one reward function,
    ``scale_rewards="group"``), re-read from its code with its own ``nanstd``."""
    from trl.trainer.utils import nanstd

    mean_grouped = torch.nanmean(rewards.view(-1, num_generations), dim=1).repeat_interleave(num_generations, dim=0)
    std_rewards = nanstd(rewards.view(-1, num_generations), dim=1).repeat_interleave(num_generations, dim=0)
    return (rewards - mean_grouped) / (std_rewards + 1e-4)


def test_group_advantages_equal_trls():
    g = torch.Generator().manual_seed(0)
    rewards = torch.cat([torch.randn(12, generator=g), torch.tensor([1.0, 1.0, 1.0, 1.0])])
    ours = group_advantages(rewards.view(-1, 4)).view(-1)
    assert torch.allclose(ours, trl_group_advantages(rewards, 4), atol=1e-6)


def trl_loss(logprobs, old_logprobs, ref_logprobs, advantages, mask, beta, clip):
    """TRL's own ``GRPOTrainer._compute_loss`` (loss_type="grpo", one step, no vLLM, no entropy bonus), run on a
    stand-in for the trainer: it needs the per-token log-probabilities (returned by the stubbed model call) and a
    few settings, and no model, accelerator or dataset."""
    from trl.trainer.grpo_trainer import GRPOTrainer

    identity = SimpleNamespace(gather=lambda x: x, reduce=lambda x, reduction="sum": x, sync_gradients=True)
    trainer = SimpleNamespace(
        _get_per_token_logps_and_entropies=lambda *a, **k: (logprobs, torch.zeros_like(logprobs), None),
        top_entropy_quantile=1.0,
        off_policy_mask_threshold=None,
        importance_sampling_level="token",
        beta=beta,
        loss_type="grpo",
        epsilon_low=clip,
        epsilon_high=clip,
        args=SimpleNamespace(delta=None, use_bias_correction_kl=False),
        use_vllm=False,
        model=SimpleNamespace(training=True),
        current_gradient_accumulation_steps=1,
        _entropy_bonus_enabled=False,
        aux_loss_enabled=False,
        _metrics=defaultdict(lambda: defaultdict(list)),
        accelerator=identity,
    )
    batch, width = mask.shape
    inputs = {
        "prompt_ids": torch.ones(batch, 2, dtype=torch.long),
        "prompt_mask": torch.ones(batch, 2, dtype=torch.long),
        "completion_ids": torch.ones(batch, width, dtype=torch.long),
        "completion_mask": mask.long(),
        "advantages": advantages,
        "old_per_token_logps": old_logprobs,
        "ref_per_token_logps": ref_logprobs,
    }
    return GRPOTrainer._compute_loss(trainer, None, inputs)


def hand_batch():
    """Four completions of up to 3 tokens: ratios inside and outside the clip range, both signs of advantage, a
    padded token, and a reference that disagrees with the policy (the KL term is not 0)."""
    logprobs = torch.tensor([[-1.0, -0.5, -2.0], [-0.2, -3.0, 0.0], [-1.5, -1.0, -0.1], [-0.7, -0.7, -0.7]])
    old = logprobs + torch.tensor([[0.0, -0.5, 0.1], [0.4, 0.0, 0.0], [-0.3, 0.05, 0.0], [0.2, -0.2, 0.0]])
    ref = logprobs + torch.tensor([[0.3, -0.2, 0.0], [0.1, 0.5, 0.0], [-0.4, 0.0, 0.2], [0.0, 0.6, -0.1]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 1], [1, 0, 0]], dtype=torch.bool)
    advantages = torch.tensor([1.2, -0.8, 0.5, -1.5])
    return logprobs, old, ref, advantages, mask


@pytest.mark.parametrize(("beta", "clip"), [(0.04, 0.2), (0.5, 0.1), (0.0, 0.2)])
def test_grpo_loss_equals_trls_value_and_gradient(beta, clip):
    logprobs, old, ref, advantages, mask = hand_batch()
    ours_lp, trl_lp = logprobs.clone().requires_grad_(), logprobs.clone().requires_grad_()
    ours = grpo_loss(ours_lp, old, ref, advantages, mask, beta=beta, clip=clip)
    theirs = trl_loss(trl_lp, old, ref, advantages, mask, beta, clip)
    ours.backward()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), abs=1e-6)
    assert torch.allclose(ours_lp.grad, trl_lp.grad, atol=1e-6)
    clipped = ((old - logprobs).abs() > clip) & mask  # a ratio outside the range: some token is clipped
    assert clipped.any()


def test_grpo_loss_clips_and_penalizes_by_hand():
    # one token, advantage 1, ratio e^0.5 = 1.65 > 1.2: the clipped term wins, constant, no gradient from it
    lp = torch.tensor([[0.0]], requires_grad=True)
    loss = grpo_loss(lp, torch.tensor([[-0.5]]), lp.detach(), torch.tensor([1.0]), torch.ones(1, 1), beta=0.0)
    loss.backward()
    assert loss.item() == pytest.approx(-1.2) and lp.grad.item() == 0.0
    # ratio 1 (one step per rollout): the gradient is -A, and the k3 KL is exp(d) - d - 1 for d = log ref - log pi
    lp = torch.tensor([[-1.0]], requires_grad=True)
    loss = grpo_loss(lp, lp.detach(), torch.tensor([[-0.5]]), torch.tensor([2.0]), torch.ones(1, 1), beta=0.1)
    loss.backward()
    k3 = torch.tensor(0.5).exp().item() - 0.5 - 1
    assert loss.item() == pytest.approx(-2.0 + 0.1 * k3)
    assert lp.grad.item() == pytest.approx(-2.0 + 0.1 * (1 - torch.tensor(0.5).exp().item()))


def test_grpo_loss_refuses_bad_inputs():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="one shape"):
        grpo_loss(x, x, x, torch.zeros(2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="one advantage per completion"):
        grpo_loss(x, x, x, torch.zeros(3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="clip"):
        GRPOModule(tiny_lm(), lambda packed: packed, pad_id=0, clip=1.5)


class Letters:
    """A tokenizer stand-in: token i decodes to the i-th letter."""

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(ord("a") + i % 26) for i in ids)


def test_rule_reward_decodes_the_completion_only():
    from shared.rlhf.preference import pack

    reward = RuleReward(Letters(), lambda text: text.count("h") == 1)
    packed = pack([[7], [1, 2]], [[7, 3], [3, 3, 7]], pad_id=0)  # the prompt's "h" must not count
    assert reward(packed).tolist() == [1.0, 1.0]
    assert RuleReward(Letters(), lambda text: "h" in text)(pack([[7]], [[1, 2]], pad_id=0)).tolist() == [0.0]


def test_grpo_module_learns_a_verifiable_reward_and_leaves_the_reference():
    from torch.utils.data import DataLoader

    from shared.rlhf.dpo import completion_logprobs
    from shared.rlhf.preference import pack
    from shared.trainer import make_trainer

    module = GRPOModule(
        tiny_lm(), RuleReward(Letters(), lambda t: "h" in t), pad_id=0, k=4, beta=0.0, lr=3e-2, max_new_tokens=4
    )
    assert module.automatic_optimization is False
    ref = [p.clone() for p in module.reference.parameters()]
    prompts = [{"input_ids": torch.tensor([[1, 2], [3, 4]]), "attention_mask": torch.ones(2, 2, dtype=torch.long)}]
    make_trainer(max_steps=30, logger=False, enable_checkpointing=False).fit(
        module, DataLoader(prompts * 30, batch_size=None)
    )
    assert all(torch.equal(a, b) for a, b in zip(ref, module.reference.parameters(), strict=True))
    probe = pack([[1, 2]], [[7, 7, 7, 7]], pad_id=0)  # token 7 decodes to "h"
    with torch.no_grad():
        gain = completion_logprobs(module.policy, probe) - completion_logprobs(module.reference, probe)
    assert gain.item() > 1.0  # the rewarded token became more likely
