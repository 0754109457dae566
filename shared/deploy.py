"""Deployment without PyTorch: export a sequence classifier to ONNX, run it with onnxruntime, quantize it to int8,
and serve it behind a function that checks its input.

* ``ProbabilityModel``: a Hugging Face sequence classifier as ``(input_ids, attention_mask) -> class probabilities``,
  the graph we export (softmax included, so every runtime returns the same thing).
* ``export_onnx``: ``torch.onnx.export(..., dynamo=True)`` with dynamic batch and sequence axes, then
  ``onnx.checker``.
* ``onnx_size``: bytes on disk, the graph plus its external weight file if any.
* ``session`` / ``run_session``: an onnxruntime CPU session and one call of it on tokenized numpy inputs.
* ``quantize_int8``: dynamic int8 quantization (weights stored as int8, activations quantized on the fly).
* ``Server``: texts in, labels and probabilities out; rejects what it cannot answer with a ``ValueError``.
* ``forward_on_device``: a Hugging Face model's logits for a batch moved to the model's device (timings too).
* ``exported_classifier``: the week-3 fine-tuned classifier exported once and cached (notebook 20, the benchmark).
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn

from shared.cache import cached, recipe_key
from shared.data import check_texts

INPUTS, OUTPUT = ("input_ids", "attention_mask"), "probs"


class ProbabilityModel(nn.Module):
    """``model(input_ids=..., attention_mask=...).logits`` followed by a softmax over classes."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits.softmax(-1)


def export_onnx(model: nn.Module, example: dict, path) -> Path:
    """Export ``ProbabilityModel(model)`` to ``path`` with the batch and sequence axes dynamic, and check the file.

    ``example``: tokenized inputs (``input_ids``, ``attention_mask``, (batch, length) tensors) that the exporter
    traces with; use at least 2 examples of at least 2 tokens, or the exporter may fix a size of 1 as a constant.
    """
    if not all(k in example and torch.is_tensor(example[k]) and example[k].dim() == 2 for k in INPUTS):
        raise ValueError(f"expected an example with (batch, length) tensors {INPUTS}; got {sorted(example)}")
    if min(example["input_ids"].shape) < 2:
        raise ValueError(
            f"expected an example batch of at least 2 texts of at least 2 tokens; got "
            f"{tuple(example['input_ids'].shape)}"
        )
    import onnx

    path = Path(path)
    wrapped = ProbabilityModel(model).eval()
    axes = {0: "batch", 1: "sequence"}
    exporter_log = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)  # "torchvision is not installed": its operators are not needed here
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*axis name.*will not be used")  # both inputs share the axes
            warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)  # torch internals
            torch.onnx.export(
                wrapped,
                tuple(example[k] for k in INPUTS),
                str(path),
                dynamo=True,
                input_names=list(INPUTS),
                output_names=[OUTPUT],
                dynamic_shapes=(axes, axes),
                verbose=False,
            )
    finally:
        exporter_log.setLevel(level)
    onnx.checker.check_model(str(path))  # a path: the checker also reads external weight files
    return path


def onnx_size(path) -> int:
    """Bytes of an ONNX model on disk: the graph file plus the external data file next to it, if any."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is not a file; expected an exported .onnx model")
    extra = path.with_name(path.name + ".data")
    return path.stat().st_size + (extra.stat().st_size if extra.is_file() else 0)


def session(path, threads: int | None = None):
    """An onnxruntime ``InferenceSession`` on the CPU (``threads``: intra-op threads, default onnxruntime's)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_session(sess, input_ids, attention_mask) -> np.ndarray:
    """Class probabilities (batch, classes) from a session made by ``session``; inputs as tensors or arrays."""
    feed = {
        name: np.asarray(value, dtype=np.int64) for name, value in zip(INPUTS, (input_ids, attention_mask), strict=True)
    }
    if feed["input_ids"].ndim != 2 or feed["input_ids"].shape != feed["attention_mask"].shape:
        raise ValueError(
            f"expected input_ids and attention_mask of the same (batch, length) shape; got "
            f"{feed['input_ids'].shape} and {feed['attention_mask'].shape}"
        )
    return sess.run([OUTPUT], feed)[0]


def quantize_int8(source, target) -> Path:
    """Dynamic int8 quantization of an ONNX model: MatMul/Gemm weights stored as int8 (per tensor), activations
    quantized at run time, so no calibration data is needed. Returns ``target``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = Path(source), Path(target)
    if not source.is_file() or source.resolve() == target.resolve():
        raise ValueError(f"expected an existing source model and a different target; got {source} -> {target}")
    import onnx

    # The exporter records intermediate shapes (value_info) that onnxruntime < 1.32's shape inference, run by the
    # quantizer, rejects ("Inferred shape and existing shape differ"): leave them out, it infers them again.
    model = onnx.load(str(source))
    del model.graph.value_info[:]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic's advice to pre-process first is for static quantization
    try:
        with tempfile.TemporaryDirectory() as folder:
            plain = Path(folder) / "model.onnx"
            onnx.save(model, str(plain))
            quantize_dynamic(str(plain), str(target), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return target


def forward_on_device(model: nn.Module, inputs: dict) -> torch.Tensor:
    """``model(**inputs).logits`` of a Hugging Face model (``labels`` left out), with the inputs moved to the model's
    device (the run card's, after ``run.place``), waiting for a GPU to finish, so that a clock around the call
    measures the forward pass."""
    if not isinstance(inputs, Mapping) or not all(torch.is_tensor(v) for v in inputs.values()):
        raise ValueError(f"expected a dict of tensors (a tokenized batch); got {type(inputs).__name__}")
    device = next(model.parameters()).device
    with torch.inference_mode():
        logits = model(**{k: v.to(device) for k, v in inputs.items() if k != "labels"}).logits
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return logits


class Server:
    """``server(texts)``: a text or a list of texts in, ``{"text", "label", "score", "probs"}`` out (a dict for one
    text, a list for a list). Rejects, with a ``ValueError`` that says what it expected: anything but a string or a
    list of strings, empty texts, and more than ``max_batch`` texts at once. Texts longer than ``max_length`` tokens
    are cut (``truncated`` says so)."""

    def __init__(self, sess, tokenizer, labels, max_batch: int = 32, max_length: int = 128):
        if not isinstance(max_batch, int) or max_batch < 1 or not isinstance(max_length, int) or max_length < 8:
            raise ValueError(
                f"max_batch={max_batch!r}, max_length={max_length!r}; expected max_batch >= 1 and max_length >= 8"
            )
        self.sess, self.tokenizer, self.labels = sess, tokenizer, list(labels)
        self.max_batch, self.max_length = max_batch, max_length

    def __call__(self, texts):
        items, single = check_texts(texts)
        if len(items) > self.max_batch:
            raise ValueError(
                f"{len(items)} texts in one request; expected at most {self.max_batch} (split the request into batches)"
            )
        tokens = self.tokenizer(
            items,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="np",
            return_overflowing_tokens=False,
            return_length=False,
        )
        lengths = [len(ids) for ids in self.tokenizer(items)["input_ids"]]
        probs = run_session(self.sess, tokens["input_ids"], tokens["attention_mask"])
        out = [
            {
                "text": t,
                "label": self.labels[int(p.argmax())],
                "score": float(p.max()),
                "probs": dict(zip(self.labels, map(float, p), strict=True)),
                "truncated": n > self.max_length,
            }
            for t, p, n in zip(items, probs, lengths, strict=True)
        ]
        return out[0] if single else out


def exported_classifier() -> Path:
    """The week-3 fine-tuned sentiment classifier (``shared.finetuned``) exported to ONNX once and cached."""
    import transformers

    from shared.finetuned import sentiment_checkpoint

    checkpoint = sentiment_checkpoint()
    key = recipe_key(str(checkpoint), checkpoint.stat().st_mtime_ns, torch.__version__, transformers.__version__)
    return cached("sentiment-onnx", key, _export_classifier, what="the classifier in ONNX") / "model.onnx"


def _export_classifier(folder: Path) -> None:
    from shared.finetuned import load_sentiment_classifier

    module, tokenizer = load_sentiment_classifier()
    example = tokenizer(["an example review to trace", "a second one"], padding=True, return_tensors="pt")
    export_onnx(module.model, dict(example), folder / "model.onnx")
