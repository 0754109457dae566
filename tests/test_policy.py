"""shared.rlhf.policy: leave-one-out advantages and the KL estimate on hand values; RLOOModule uses manual optimization,
moves the policy towards what the reward prefers and never the frozen parts; sampling and measuring; input checks."""

import pytest
import torch

from shared.rlhf.policy import RLOOModule, rloo_advantages, sequence_kl


def tiny_lm(seed=0):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(config)


class CountsToken(torch.nn.Module):
    """A reward 'model': how often token 7 occurs in the completion."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, batch):
        width = batch["completion_mask"].size(1)
        return ((batch["input_ids"][:, -width:] == 7) & batch["completion_mask"]).sum(-1).float()


def test_rloo_advantages_hand_values():
    adv = rloo_advantages(torch.tensor([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    assert adv.tolist() == [[-1.5, 0.0, 1.5], [0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="k >= 2"):
        rloo_advantages(torch.ones(3, 1))
    with pytest.raises(ValueError, match="k >= 2"):
        rloo_advantages(torch.ones(3))


def test_sequence_kl():
    assert sequence_kl(torch.tensor([[-1.0, -2.0, 0.0]]), torch.tensor([[-1.5, -1.0, 0.0]])).tolist() == [-0.5]
    with pytest.raises(ValueError, match="same shape"):
        sequence_kl(torch.zeros(1, 2), torch.zeros(1, 3))


def test_rloo_module_learns_the_reward_and_leaves_frozen_parts():
    from torch.utils.data import DataLoader

    from shared.rlhf.dpo import completion_logprobs
    from shared.rlhf.preference import pack
    from shared.trainer import make_trainer

    module = RLOOModule(tiny_lm(), CountsToken(), pad_id=0, k=4, beta=0.0, lr=3e-2, max_new_tokens=4)
    assert module.automatic_optimization is False
    ref = [p.clone() for p in module.reference.parameters()]
    prompts = [{"input_ids": torch.tensor([[1, 2], [3, 4]]), "attention_mask": torch.ones(2, 2, dtype=torch.long)}]
    loader = DataLoader(prompts * 30, batch_size=None)
    make_trainer(max_steps=30, logger=False, enable_checkpointing=False).fit(module, loader)
    assert all(torch.equal(a, b) for a, b in zip(ref, module.reference.parameters(), strict=True))
    probe = pack([[1, 2]], [[7, 7, 7, 7]], pad_id=0)
    with torch.no_grad():
        gain = completion_logprobs(module.policy, probe) - completion_logprobs(module.reference, probe)
    assert gain.item() > 1.0  # the rewarded token became more likely


def test_rloo_module_refuses_bad_settings():
    with pytest.raises(ValueError, match="at least 2 samples"):
        RLOOModule(tiny_lm(), CountsToken(), pad_id=0, k=1)
    with pytest.raises(ValueError, match="beta"):
        RLOOModule(tiny_lm(), CountsToken(), pad_id=0, beta=-0.1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        RLOOModule(tiny_lm(), CountsToken(), pad_id=0, max_new_tokens=0)
    with pytest.raises(ValueError, match="reward model or function"):
        RLOOModule(tiny_lm(), "reward", pad_id=0)


def test_sample_and_measure():
    from transformers import PreTrainedTokenizerFast

    from shared.rlhf.dpo import frozen_copy
    from shared.rlhf.policy import measure, sample

    tokenizer = _tokenizer()
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    model = tiny_lm().eval()
    out = sample(model, tokenizer, ["a b", "c"], n=3, max_new_tokens=3)
    assert len(out["tokens"]) == 2 and all(len(row) == 3 for row in out["tokens"])
    m = measure(out, model, frozen_copy(model), CountsToken(), lambda t: True, pad_id=tokenizer.pad_token_id)
    assert m["reward"].shape == (6,) and m["rule"].sum() == 6
    assert m["kl"].abs().max() == 0.0  # the reference is a copy of the policy, and both are computed the same way
    with pytest.raises(ValueError, match="prompt strings"):
        sample(model, tokenizer, "a b")
    with pytest.raises(ValueError, match="output of shared.rlhf.policy.sample"):
        measure({}, model, model, CountsToken(), bool, pad_id=0)


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<eos>": 0, **{chr(ord("a") + i): i + 1 for i in range(26)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<eos>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>", unk_token="<eos>")
