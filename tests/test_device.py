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


def test_to_model_device_puts_a_batch_where_the_model_is():
    """Lessons 02 and 04 call their models directly after run.place(model): the inputs (a tokenizer's output, a
    batch of blocks) are made on the CPU and must reach the model on its device."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from shared.lightning_modules import CausalLMModule, to_model_device

    model = strict(GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_embd=16, n_layer=1, n_head=2)))
    ids = torch.randint(0, 50, (2, 8))
    batch = {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones(2, 8), "note": "kept"}
    with pytest.raises(WrongDevice):
        model(input_ids=ids)  # a batch made on the CPU, passed as it is
    moved = to_model_device(model, batch)
    assert moved["note"] == "kept" and {t.device.type for t in tensors(moved)} == {"meta"}
    calls_on_its_device(lambda: model(**moved))
    calls_on_its_device(lambda: CausalLMModule(model, tokenizer=None).loss(moved))
    with pytest.raises(ValueError, match="dict of tensors"):
        to_model_device(model, ids)


def test_llama_helpers_make_inputs_on_the_models_device():
    from shared import llama

    settings = llama.Settings(11, 8, 1, 2, 1, 4, 12, 100.0, 1e-6, tied=True)  # a one-block model
    model = strict(llama.Llama(settings))
    calls_on_its_device(lambda: llama.generate(model, [1, 2, 3], max_new_tokens=2))
    calls_on_its_device(lambda: llama.generate(model, [1, 2, 3], max_new_tokens=2, cache=llama.KVCache()))
    calls_on_its_device(lambda: llama.token_losses(model, [[1, 2, 3], [4, 5, 6]]))


def reached(model: torch.nn.Module) -> list:
    """A list that grows by one each time ``model``'s forward is called (so a test knows the device check ran)."""
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(1))
    return calls


def rlhf_models():
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model

    from shared.rlhf.preference import RewardModel

    config = GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2)
    return GPT2LMHeadModel(config), GPT2LMHeadModel(config), RewardModel(GPT2Model(config))


def test_rlhf_measure_scores_each_model_on_its_own_device():
    from shared.rlhf.policy import measure

    samples = {"prompt_ids": [[1, 2], [3]], "tokens": [[[4, 5]], [[6, 7, 8]]], "texts": [["a"], ["b"]]}
    for where in ("reward", "policy", "reference"):
        policy, reference, reward_model = rlhf_models()
        models = {"policy": policy, "reference": reference, "reward": reward_model}
        models[where] = strict(models[where])
        calls = reached(models[where])
        calls_on_its_device(lambda m=models: measure(samples, m["policy"], m["reference"], m["reward"], bool, pad_id=0))
        assert calls, f"measure never called the {where} model"


def test_rlhf_pair_accuracy_scores_on_the_models_device():
    from shared.rlhf.preference import pair_accuracy, pair_loader

    reward_model = strict(rlhf_models()[2])
    calls = reached(reward_model)
    loader = pair_loader([{"prompt": [1, 2], "chosen": [3, 4], "rejected": [5]}] * 2, pad_id=0, batch_size=2)
    calls_on_its_device(lambda: pair_accuracy(reward_model, loader))
    assert calls


def test_task_outputs_make_inputs_on_the_models_device():
    from shared.tasks import SequenceModel, outputs

    model = strict(SequenceModel(vocab_size=10, num_classes=2, d_model=8, num_heads=2, positions=False))
    ids = torch.randint(10, (3, 5))  # made on the CPU, as a data module makes them
    calls_on_its_device(lambda: outputs(model, ids))
    calls_on_its_device(lambda: outputs(model, ids, need_weights=True))


def test_class_logits_makes_its_inputs_on_the_classifiers_device(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification

    from shared.inference import class_logits
    from shared.lightning_modules import SentimentClassifier

    config = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    module = strict(SentimentClassifier(str(tmp_path)))
    batch = {"input_ids": torch.ones(2, 5, dtype=torch.long), "attention_mask": torch.ones(2, 5, dtype=torch.long)}
    calls_on_its_device(lambda: class_logits(module, batch))


def test_decoding_helpers_make_inputs_on_the_models_device(chat_lm):
    from shared.generation.decoding import encode, speculative_greedy

    model, tokenizer = chat_lm
    model = strict(model)
    calls_on_its_device(lambda: model(**encode(model, tokenizer, ["Hello there", "Hi"])))
    calls_on_its_device(lambda: speculative_greedy(model, encode(model, tokenizer, ["Hello"])["input_ids"], 3))


def test_token_logprobs_makes_inputs_on_the_models_device(chat_lm):
    from shared.evaluation.metrics import token_logprobs

    model, tokenizer = chat_lm
    calls_on_its_device(lambda: token_logprobs(strict(model), tokenizer, ["A short text."]))


def test_distillation_helpers_make_inputs_on_the_models_device():
    from transformers import BertConfig, BertForSequenceClassification

    from shared.distillation import forward_seconds, logits_of

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32)
    teacher, student = strict(BertForSequenceClassification(config)), strict(BertForSequenceClassification(config))
    batch = {"input_ids": torch.ones(2, 5, dtype=torch.long), "attention_mask": torch.ones(2, 5, dtype=torch.long)}
    calls_on_its_device(lambda: logits_of(teacher, {**batch, "labels": torch.zeros(2, dtype=torch.long)}))
    calls_on_its_device(lambda: forward_seconds({"teacher": teacher, "student": student}, [batch], repeats=1))
    with pytest.raises(ValueError, match="expected every model on one device"):
        forward_seconds({"teacher": teacher, "student": BertForSequenceClassification(config)}, [batch])


def test_interleaved_seconds_takes_turns_and_synchronizes(monkeypatch):
    from shared import runtime

    order, synced = [], []
    monkeypatch.setattr(runtime, "synchronize", lambda device: synced.append(str(device)))
    seconds = runtime.interleaved_seconds(
        {"a": lambda: order.append("a"), "b": lambda: order.append("b")}, "cuda", repeats=2, warmup=1
    )
    assert order == ["a", "b"] * 3 and {k: len(v) for k, v in seconds.items()} == {"a": 2, "b": 2}
    assert synced == ["cuda"] * 8, "the device is synchronized before and after every timed call"


def test_agents_make_their_inputs_on_the_models_device(chat_lm):
    from shared.agents.loop import ChatAgent, TextAgent
    from shared.agents.native import ToolCallAgent, tool_schemas
    from shared.agents.toolkit import calculator

    model, tokenizer = chat_lm
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = strict(model)
    calls = reached(model)
    system = "You answer questions with tools. " * 20  # a long shared prefix: run once, cached for the batch
    schemas = tool_schemas({"calculator": calculator})
    for agent, items in [
        (TextAgent(model, tokenizer, system + "\n"), [("What is 2 + 3?", ""), ("What is 4 * 5?", "")]),
        (ChatAgent(model, tokenizer, system), [("What is 2 + 3?", ""), ("What is 4 * 5?", "")]),
        (ToolCallAgent(model, tokenizer, schemas, system), [[{"role": "user", "content": "What is 2 + 3?"}]] * 2),
    ]:
        before = len(calls)
        calls_on_its_device(lambda agent=agent, items=items: agent(items))
        assert len(calls) > before, f"{type(agent).__name__} never reached the model"


def test_the_retrievers_sentence_encoder_makes_its_inputs_on_the_models_device():
    from transformers import BertConfig, BertModel

    from shared.agents import traces
    from shared.models import load_tokenizer

    tokenizer = load_tokenizer("encoder")
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    model = strict(BertModel(config))
    calls = reached(model)
    encode = traces.sentence_encoder(model, tokenizer)
    calls_on_its_device(lambda: encode(["on monday the doctor mended an axe.", "who likes porridge"]))
    assert calls, "the encoder was never reached"


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
