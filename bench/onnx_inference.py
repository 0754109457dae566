"""Benchmark: inference latency of the fine-tuned sentiment classifier in PyTorch (eager) vs onnxruntime (fp32 and
dynamic int8), at batch 1 and batch 32.

    COURSE_PROFILE=tiny python -m bench.onnx_inference [--quick | --smoke] [--repeats N] [--threads N]

Model: the week-3 classifier (``shared.finetuned``; tiny profile: fine-tuned all-MiniLM-L6-v2), exported once with
``shared.deploy.exported_classifier`` and quantized here with ``shared.deploy.quantize_int8``. ``--smoke`` uses a
small random BERT instead (seconds, no fine-tuned checkpoint needed; its timings mean nothing).

Inputs: reviews from the course's test split, tokenized once with padding (batch 1: one review; batch 32: 32 reviews
padded to the longest). All three sides get the same arrays and return class probabilities (softmax included).
Before timing, the checks: onnxruntime fp32 must match PyTorch within 1e-4 and int8 must give the same label as
PyTorch on at least 90% of the batch of 32; otherwise the run fails (exit status 1) and prints no ratio.

Timed, per side and batch size: ``--calls`` calls in a row (wall clock), divided by the number of calls. Each side
runs once untimed first; then repeats are interleaved (torch, fp32, int8, torch, ...) and we report medians.
PyTorch runs under ``torch.inference_mode()``; both runtimes use ``--threads`` intra-op threads (default 1, the
fair setting on a shared machine).

Last line (machine readable): ``ort_int8_vs_torch_b1=<int8 onnxruntime latency / torch eager latency at batch 1>``
(target: <= 0.5).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.common import positive, sized_parser

BATCHES = (1, 32)


def parse_args(argv=None):
    parser = sized_parser(
        __doc__,
        quick="3 repeats (about 20 s on 2 CPU cores)",
        smoke="a small random BERT, 1 repeat of 2 calls",
    )
    parser.add_argument(
        "--repeats", type=positive(1), help="timed rounds per side, interleaved (default 7, quick 3, smoke 1)"
    )
    parser.add_argument("--calls", type=positive(1), help="calls per timed round (default 20, smoke 2)")
    parser.set_defaults(threads=1)  # intra-op threads for both runtimes: one, unless asked
    args = parser.parse_args(argv)
    size = "smoke" if args.smoke else "quick" if args.quick else "default"
    args.repeats = args.repeats or {"default": 7, "quick": 3, "smoke": 1}[size]
    args.calls = args.calls or (2 if args.smoke else 20)
    return args


def small_random_bert(tokenizer):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=128,
        num_labels=2,
    )
    return BertForSequenceClassification(config).eval()


def load_sides(args, folder: Path):
    """``(torch model, fp32 path, int8 path, tokenizer)``."""
    from shared import deploy
    from shared.models import load_tokenizer

    tokenizer = load_tokenizer("classifier")
    if args.smoke:
        model = small_random_bert(tokenizer)
        example = dict(tokenizer(["a good film", "a dull plot"], padding=True, return_tensors="pt"))
        fp32 = deploy.export_onnx(model, example, folder / "model.onnx")
    else:
        from shared.finetuned import load_sentiment_classifier

        module, tokenizer = load_sentiment_classifier()
        model, fp32 = module.model.eval(), deploy.exported_classifier()
    return deploy.ProbabilityModel(model).eval(), fp32, deploy.quantize_int8(fp32, folder / "int8.onnx"), tokenizer


def reviews(n: int) -> list[str]:
    from shared.data import sentiment_files

    lines = Path(sentiment_files()["test"]).read_text().splitlines()
    return [json.loads(line)["text"] for line in lines[:n]]


def check(outputs: dict) -> list[str]:
    """What makes the comparison unfair: the three sides must compute the same probabilities (int8: labels)."""
    problems = []
    for b, out in outputs.items():
        diff = float(np.abs(out["onnx fp32"] - out["torch"]).max())
        if diff > 1e-4:
            problems.append(f"batch {b}: onnxruntime fp32 differs from torch by {diff:.2e} (> 1e-4)")
        agree = float((out["onnx int8"].argmax(-1) == out["torch"].argmax(-1)).mean())
        if agree < 0.9:
            problems.append(f"batch {b}: int8 labels agree with torch on {agree:.0%} (< 90%)")
    return problems


def main(argv=None) -> None:
    args = parse_args(argv)
    from shared import deploy

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as tmp:
        model, fp32, int8, tokenizer = load_sides(args, Path(tmp))
        sessions = {"onnx fp32": deploy.session(fp32, args.threads), "onnx int8": deploy.session(int8, args.threads)}
        texts = reviews(max(BATCHES))
        inputs = {b: tokenizer(texts[:b], padding=True, return_tensors="np") for b in BATCHES}
        tensors = {b: {k: torch.from_numpy(v) for k, v in inputs[b].items()} for b in BATCHES}

        def torch_side(b):
            with torch.inference_mode():
                return model(tensors[b]["input_ids"], tensors[b]["attention_mask"]).numpy()

        sides = {
            "torch": torch_side,
            **{
                name: (lambda b, s=s: deploy.run_session(s, inputs[b]["input_ids"], inputs[b]["attention_mask"]))
                for name, s in sessions.items()
            },
        }
        print(
            f"threads={args.threads} load={os.getloadavg()[0]:.2f} torch {torch.__version__} "
            f"onnxruntime {__import__('onnxruntime').__version__} python {sys.version.split()[0]}"
        )
        print(
            f"model: {'small random BERT (smoke)' if args.smoke else 'fine-tuned sentiment classifier'}; sizes "
            f"fp32 {deploy.onnx_size(fp32) / 1e6:.1f} MB, int8 {deploy.onnx_size(int8) / 1e6:.1f} MB; "
            f"batch 1 x {inputs[1]['input_ids'].shape[1]} and 32 x {inputs[32]['input_ids'].shape[1]} tokens"
        )
        outputs = {b: {name: fn(b) for name, fn in sides.items()} for b in BATCHES}  # also the untimed warm-up
        problems = check(outputs)
        print(f"checks: same work on all sides={not problems}")
        if problems:
            sys.exit(
                "FAILED: the sides did not compute the same thing, so no ratio is reported:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        times = {(name, b): [] for name in sides for b in BATCHES}
        for _ in range(args.repeats):
            for b in BATCHES:
                for name, fn in sides.items():
                    start = time.perf_counter()
                    for _ in range(args.calls):
                        fn(b)
                    times[name, b].append((time.perf_counter() - start) / args.calls)
    med = {key: statistics.median(values) for key, values in times.items()}
    print(
        f"{'side':<11}" + "".join(f"{f'batch {b} ms':>14}" for b in BATCHES) + f"   (medians of {args.repeats} "
        f"rounds of {args.calls} calls, interleaved)"
    )
    for name in sides:
        print(f"{name:<11}" + "".join(f"{med[name, b] * 1e3:>14.2f}" for b in BATCHES))
    for b in BATCHES:
        print(
            f"batch {b}: fp32 / torch {med['onnx fp32', b] / med['torch', b]:.3f}, int8 / torch "
            f"{med['onnx int8', b] / med['torch', b]:.3f}"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}  (this machine is shared; high load = noisy)")
    print(f"ort_int8_vs_torch_b1={med['onnx int8', 1] / med['torch', 1]:.3f}")


if __name__ == "__main__":
    main()
