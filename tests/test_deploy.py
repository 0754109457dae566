"""shared.deploy: ONNX round trip of a tiny BERT classifier across batch sizes and lengths, int8 quantization,
file sizes, and the server's input checks."""

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from shared import deploy, models, runtime


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import os

    saved = os.environ.get("COURSE_PROFILE")
    os.environ["COURSE_PROFILE"] = "tiny"
    runtime.profile.cache_clear()
    try:
        tokenizer = models.load_tokenizer("classifier")
    finally:
        if saved is None:
            os.environ.pop("COURSE_PROFILE")
        else:
            os.environ["COURSE_PROFILE"] = saved
        runtime.profile.cache_clear()
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
    )
    model = BertForSequenceClassification(config).eval()
    folder = tmp_path_factory.mktemp("onnx")
    example = dict(tokenizer(["a good film", "a dull and tedious plot"], padding=True, return_tensors="pt"))
    path = deploy.export_onnx(model, example, folder / "model.onnx")
    return model, tokenizer, path


TEXTS = ["superb.", "the plot was tedious and the acting was not good at all, sadly", "fine", "a clever film"]


@pytest.mark.parametrize("n", [1, 3, 4])
def test_onnx_matches_pytorch_across_batch_sizes_and_lengths(exported, n):
    model, tokenizer, path = exported
    sess = deploy.session(path, threads=1)
    tokens = tokenizer(TEXTS[:n], padding=True, return_tensors="pt")
    with torch.no_grad():
        reference = deploy.ProbabilityModel(model)(tokens["input_ids"], tokens["attention_mask"]).numpy()
    got = deploy.run_session(sess, tokens["input_ids"], tokens["attention_mask"])
    assert got.shape == (n, 2)
    np.testing.assert_allclose(got, reference, atol=1e-5)
    np.testing.assert_allclose(got.sum(-1), np.ones(n), atol=1e-6)


def test_quantized_model_is_smaller_and_close(exported, tmp_path):
    model, tokenizer, path = exported
    target = deploy.quantize_int8(path, tmp_path / "int8.onnx")
    assert deploy.onnx_size(target) < 0.5 * deploy.onnx_size(path)
    tokens = tokenizer(TEXTS, padding=True, return_tensors="np")
    fp32 = deploy.run_session(deploy.session(path), tokens["input_ids"], tokens["attention_mask"])
    int8 = deploy.run_session(deploy.session(target), tokens["input_ids"], tokens["attention_mask"])
    assert np.abs(fp32 - int8).max() < 0.05
    with pytest.raises(ValueError, match="different target"):
        deploy.quantize_int8(path, path)


def test_server_answers_and_rejects(exported):
    _, tokenizer, path = exported
    server = deploy.Server(deploy.session(path), tokenizer, ["neg", "pos"], max_batch=3, max_length=8)
    one = server("a clever film")
    assert set(one) == {"text", "label", "score", "probs", "truncated"} and one["label"] in ("neg", "pos")
    assert one["score"] == pytest.approx(max(one["probs"].values())) and not one["truncated"]
    assert [r["text"] for r in server(TEXTS[:3])] == TEXTS[:3] and server(TEXTS[1])["truncated"]
    for bad, message in (
        (42, "expected a string"),
        ("  ", "empty"),
        (["ok", None], "expected every item"),
        ([], "non-empty list"),
        (TEXTS, "at most 3"),
    ):
        with pytest.raises(ValueError, match=message):
            server(bad)
    with pytest.raises(ValueError, match="max_batch >= 1"):
        deploy.Server(None, tokenizer, ["neg", "pos"], max_batch=0)


def test_export_and_inputs_are_checked(exported, tmp_path):
    model, tokenizer, path = exported
    with pytest.raises(ValueError, match="at least 2 texts"):
        deploy.export_onnx(model, dict(tokenizer(["one"], return_tensors="pt")), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="tensors"):
        deploy.export_onnx(model, {"input_ids": torch.ones(2, 3)}, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="same"):
        deploy.run_session(deploy.session(path), np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="not a file"):
        deploy.onnx_size(tmp_path / "missing.onnx")
