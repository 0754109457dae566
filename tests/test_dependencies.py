"""What the course needs from each declared dependency that the week 1-3 notebooks do not exercise yet: the metrics
(week 4), LoRA with peft, ONNX export and runtime (week 5), and the Hugging Face Trainer of the benchmark (the GGUF
instruct LM of the tiny profile is read in tests/test_models.py). Small and offline; they are what `make test-min`
and `make test-latest` hold the lower bounds in pyproject.toml and the newest releases to (README, Supported
versions)."""

import pytest
import torch


def tiny_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=32, n_embd=32, n_layer=1, n_head=2)).eval()


def test_sacrebleu_scores_a_corpus():
    import sacrebleu

    refs = ["the cat sat on the mat", "a film worth seeing twice"]
    assert sacrebleu.corpus_bleu(refs, [refs]).score == pytest.approx(100.0)
    partial = sacrebleu.corpus_bleu(["the cat sat on a mat"], [["the cat sat on the mat"]]).score
    assert 0 < partial < 100


def test_rouge_score_scores_a_summary():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    same = scorer.score("the cat sat on the mat", "the cat sat on the mat")
    assert same["rouge1"].fmeasure == pytest.approx(1.0) and same["rougeL"].fmeasure == pytest.approx(1.0)
    half = scorer.score("the cat sat", "the cat ran away")
    assert half["rouge1"].precision == pytest.approx(2 / 4) and half["rouge1"].recall == pytest.approx(2 / 3)


def test_evaluate_loads_a_local_metric(tmp_path):
    """The course's own metric module loaded by path (no Hub, no remote code): evaluate's loader and its use of
    datasets' Features work together at the installed versions."""
    import evaluate

    (tmp_path / "hit_rate.py").write_text("""
import datasets
import evaluate


class HitRate(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(description="share of exact hits", citation="", inputs_description="",
                                   features=datasets.Features({"predictions": datasets.Value("int64"),
                                                               "references": datasets.Value("int64")}))

    def _compute(self, predictions, references):
        return {"hit_rate": sum(p == r for p, r in zip(predictions, references)) / len(references)}
""")
    metric = evaluate.load(str(tmp_path / "hit_rate.py"))
    assert metric.compute(predictions=[1, 0, 1, 1], references=[1, 1, 1, 0]) == {"hit_rate": 0.5}


def test_peft_lora_trains_only_the_adapters_and_merges():
    from peft import LoraConfig, get_peft_model

    base = tiny_gpt2()
    ids = torch.randint(0, 64, (2, 8), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = base(ids).logits
    model = get_peft_model(
        base, LoraConfig(r=4, lora_alpha=8, target_modules=["c_attn"], fan_in_fan_out=True, task_type="CAUSAL_LM")
    )
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    with torch.no_grad():  # LoRA's B starts at zero: the adapted model starts as the base model
        torch.testing.assert_close(model(input_ids=ids).logits, before)
    model(input_ids=ids, labels=ids).loss.backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if n in trainable)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.fill_(0.05)
        adapted = model(input_ids=ids).logits
        merged = model.merge_and_unload()
        torch.testing.assert_close(merged(ids).logits, adapted, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(adapted, before)


def test_onnx_export_with_dynamo_runs_in_onnxruntime(tmp_path):
    """torch.onnx.export(dynamo=True) (needs onnx and onnxscript), then onnxruntime gives the same numbers."""
    import onnx
    import onnxruntime

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.LayerNorm(16), torch.nn.Linear(16, 2)
    ).eval()
    x = torch.randn(3, 8)
    path = tmp_path / "model.onnx"
    torch.onnx.export(
        model, (x,), str(path), dynamo=True, input_names=["x"], output_names=["logits"], dynamic_shapes=({0: "batch"},)
    )
    onnx.checker.check_model(onnx.load(str(path)))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x5 = torch.randn(5, 8)  # another batch size: the batch axis is dynamic
    (got,) = session.run(["logits"], {"x": x5.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), model(x5).detach(), atol=1e-5, rtol=1e-4)


def test_hf_trainer_runs_with_accelerate(tmp_path):
    """bench/lightning_vs_hf_trainer.py's other side: transformers.Trainer needs accelerate (the bench extra)."""
    from transformers import Trainer, TrainingArguments

    model = tiny_gpt2().train()
    data = [{"input_ids": torch.arange(8) % 64, "labels": torch.arange(8) % 64} for _ in range(8)]
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=3,
        per_device_train_batch_size=4,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        learning_rate=1e-2,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data)
    result = trainer.train()
    assert result.global_step == 3 and result.training_loss > 0
