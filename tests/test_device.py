"""Every direct model call uses the device the run card names: a helper that calls a model makes its inputs where
the model is. Tested without a GPU by putting the model on PyTorch's ``meta`` device (shapes, no data) behind a hook
that fails loudly when an input arrives from another device; any other failure (a meta tensor cannot become a
Python number) happens after the device check and is not what this tests."""

import pytest
import torch

from shared.course import Run


class WrongDevice(AssertionError):
    pass


def tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from tensors(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from tensors(v)


def strict(model: torch.nn.Module, device: str = "meta") -> torch.nn.Module:
    """``model`` on ``device``; its forward raises WrongDevice for any tensor input that is elsewhere."""
    model = model.to(device)

    def check(module, args, kwargs):
        where = {t.device.type for t in tensors((args, kwargs))}
        if where - {device}:
            raise WrongDevice(f"{type(module).__name__} got inputs on {sorted(where)} while it is on {device}")

    model.register_forward_pre_hook(check, with_kwargs=True)
    return model


def calls_on_its_device(call) -> None:
    """Run ``call``; fail only if an input reached the model from another device."""
    try:
        call()
    except WrongDevice:
        raise
    except Exception:  # noqa: S110  (a meta tensor has no values: what comes after the forward cannot run)
        pass


def test_the_check_itself_catches_an_input_made_on_the_cpu():
    model = strict(torch.nn.Linear(3, 2))
    with pytest.raises(WrongDevice):
        model(torch.ones(1, 3))
    model(torch.ones(1, 3, device="meta"))


@pytest.fixture(scope="module")
def chat_lm():
    from transformers import LlamaConfig, LlamaForCausalLM

    from shared.models import load_tokenizer

    tokenizer = load_tokenizer("chat_lm")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
    )
    return LlamaForCausalLM(config), tokenizer


def test_prompting_helpers_make_inputs_on_the_models_device(chat_lm):
    from shared.generation.prompting import greedy_answers, label_logprobs

    model, tokenizer = chat_lm
    model = strict(model)
    prompts = ["Review: great.\nSentiment:", "Review: dull.\nSentiment:"]
    calls_on_its_device(lambda: label_logprobs(model, tokenizer, prompts, {"pos": ["positive"], "neg": ["negative"]}))
    calls_on_its_device(lambda: greedy_answers(model, tokenizer, prompts, max_new_tokens=2))


def test_run_device_follows_the_run_card():
    cpu = Run("tiny", "test", 42, {"accelerator": "cpu", "devices": 1, "strategy": "auto", "precision": "32-true"})
    assert cpu.device == torch.device("cpu")
    several = Run("full", "test", 42, {"accelerator": "gpu", "devices": 2, "strategy": "ddp_notebook"})
    assert several.device == torch.device("cpu"), "with several GPUs the notebook's process must not touch CUDA"
    model = cpu.place(torch.nn.Dropout(0.5).train())
    assert not model.training


def test_quantization_perplexity_makes_its_rows_on_the_models_device(chat_lm):
    from shared.quantization import perplexity

    model, _ = chat_lm
    model = strict(model)
    calls_on_its_device(lambda: perplexity(model, torch.arange(40) % 32, 16))


def test_deploy_forward_on_device_moves_the_batch_to_the_model():
    from transformers import BertConfig, BertForSequenceClassification

    from shared.deploy import forward_on_device

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    model = strict(BertForSequenceClassification(config))
    batch = {"input_ids": torch.ones(2, 5, dtype=torch.long), "attention_mask": torch.ones(2, 5, dtype=torch.long)}
    calls_on_its_device(lambda: forward_on_device(model, batch))
