"""A T4 budget per notebook, computed: peak GPU memory and minutes for every notebook in the full profile on Colab.

``python -m tools.build.t4_budget`` prints the table; ``--write`` regenerates ``tools/build/t4_budget.json`` (read by
``tools.authoring.headers`` for each notebook's header line "about N min on a Colab T4 (first run M min)");
``--check`` fails when the json is stale; ``--table`` prints the README table (Markdown).

What a notebook does on the GPU is declared in course.toml, after its ``[[step]]``, as ``[[step.t4]]`` tables:

- ``kind = "train"``: ``role``, ``steps``, ``batch``, ``length`` (AdamW fine-tuning under 16-mixed);
- ``kind = "forward"``: ``role``, ``calls``, ``batch``, ``length`` (inference; ``device = "cpu"`` for work that runs
  on Colab's CPU, such as onnxruntime);
- ``kind = "generate"``: ``role``, ``sequences``, ``batch`` (sequences per call), ``prompt``, ``new_tokens``;
- ``kind = "small"``: tiny models trained from scratch: a fixed minimum (``SMALL_SECONDS``, ``SMALL_PEAK``).

Optional: ``layers`` (a smaller copy of the role's architecture, e.g. a half-depth student), ``copies`` (further
copies of the role's fp32 weights kept on the GPU meanwhile: a frozen reference, a teacher), ``note``. A size may
name a key of the step's ``[step.config]`` instead of a number (its full-profile value is used). ``builds = [...]``
(in any of the step's t4 tables) names the cached artifacts the notebook needs on a fresh runtime: ``classifier``,
``corpus_lm``, ``trace_lm`` (their workloads come from the full-profile recipes in shared/finetuned.py and
shared/agents/traces.py).

Assumptions (each is a constant below; the README table's caption repeats them):

- The real architectures at full size, random weights, on the meta device (no memory, no data), from transformers
  configs with the checkpoints' dimensions: bert-base-uncased = ``BertConfig()`` (12 layers, 768 wide, 12 heads, FFN
  3072, vocabulary 30522: 110 M parameters); distilbert-base-uncased = ``DistilBertConfig()`` (6 layers, 768, 12
  heads, FFN 3072: 66 M); distilgpt2 = ``GPT2Config(n_layer=6)`` (768 wide, 12 heads, vocabulary 50257, 1024
  positions: 82 M); SmolLM2-360M-Instruct = ``LlamaConfig(hidden_size=960, intermediate_size=2560, 32 layers, 15
  heads, 5 KV heads, vocabulary 49152, tied embeddings)`` (362 M); clip-vit-base-patch32 = ``CLIPConfig()`` (text 12
  layers x 512, vision ViT-B/32 12 layers x 768 at 224 pixels, projection 512: 151 M). Eager attention (counts the
  attention matmuls; keeps the attention probabilities for backward, which the T4's memory-efficient SDPA does not:
  the activation estimate is an upper bound).
- FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` on one forward pass (forward + backward for training).
  Time of compute-bound work (training, prefill, inference): FLOPs / (``MFU`` x the T4's 65 TFLOP/s fp16 peak).
  Decoding is memory-bound: per new token, the fp32 weights plus the KV cache read once / (``BW_FRACTION`` x 320
  GB/s), plus ``DECODE_LAYER_S`` of kernel-launch overhead per layer (eager ``generate`` on a small model is
  launch-bound). The larger of compute and memory time counts. Training adds AdamW's pass over its state
  (``ADAM_BYTES_PER_PARAM`` at the same bandwidth) and ``STEP_OVERHEAD_S`` per step (Lightning, data loading).
- Memory under 16-mixed: fp32 weights, fp32 gradients, AdamW's two fp32 moments (16 bytes per parameter), autocast's
  fp16 weight copies (2 bytes), and the activations saved for backward (``saved_tensors_hooks`` on the meta device,
  in fp32, halved for fp16: most saved tensors are matmul inputs that autocast casts; layer norms and softmax keep
  fp32, so this is approximate); inference holds the weights plus ``INFERENCE_LAYERS`` layers' worth of those
  activations and the logits (generation: the last position's logits and the fp32 KV cache); ``CUDA_CONTEXT``
  for the CUDA context and the caching allocator's slack.
- Per notebook: ``NOTEBOOK_OVERHEAD_S`` (kernel start, imports, dataset loads); the first run on a fresh runtime adds
  the Colab setup cell (``INSTALL_S``), the Hub downloads of every checkpoint the notebook or its builds use (sizes
  in ``CHECKPOINT_MB``, at ``DOWNLOAD_MB_S``) and the builds themselves.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
JSON_PATH = Path(__file__).with_name("t4_budget.json")

T4_FP16_FLOPS = 65e12  # NVIDIA T4 datasheet: 65 TFLOP/s mixed precision (fp16 tensor cores)
T4_BANDWIDTH = 320e9  # bytes/s, datasheet
MFU = 0.25  # fraction of the fp16 peak that eager PyTorch reaches end to end on training and prefill
BW_FRACTION = 0.6  # fraction of the bandwidth that decoding reaches
CPU_FLOPS = 50e9  # Colab's two vCPUs, fp32, onnxruntime-class kernels
DECODE_LAYER_S = 0.4e-3  # launch overhead per layer per generated token (eager generate)
CALL_OVERHEAD_S = 0.01  # per forward call outside decoding (tokenization, transfer, Python)
STEP_OVERHEAD_S = 0.03  # per training step (Lightning's loop, data loading, logging)
ADAM_BYTES_PER_PARAM = 32  # AdamW step: read param, grad, two moments; write param, moments; fp16 copy
CUDA_CONTEXT = 0.5 * 2**30  # CUDA context (~0.3 GiB on a T4) + caching-allocator slack
INFERENCE_LAYERS = 2  # layers' worth of activations alive at once during inference
NOTEBOOK_OVERHEAD_S = 30  # kernel start, imports, loading datasets and checkpoints from the local cache
INSTALL_S = 60  # the Colab setup cell on a fresh runtime
DOWNLOAD_MB_S = 40  # Hub downloads on Colab
SMALL_SECONDS = 60  # "small": tiny models trained from scratch (weeks 1-2, 09, 21): a fixed minimum
SMALL_PEAK = 0.25 * 2**30
MAX_PEAK_GIB = 14  # a T4 has 15 GiB; leave room
MAX_MINUTES = 20

# Checkpoint download sizes (MB, the safetensors files on the Hub).
CHECKPOINT_MB = {"classifier": 440, "encoder": 268, "causal_lm": 353, "chat_lm": 724, "clip": 605}
KINDS = ("train", "forward", "generate", "small")
SIZE_KEYS = {
    "train": ("steps", "batch", "length"),
    "forward": ("calls", "batch", "length"),
    "generate": ("sequences", "batch", "prompt", "new_tokens"),
    "small": (),
}
OPTIONAL = {"kind", "role", "layers", "copies", "note", "builds", "device"}
BUILD_NAMES = ("classifier", "corpus_lm", "trace_lm")
TRACE_LENGTH = 96  # tokens per tool-use trace (header, question, calls, observations, answer), padded per batch


def config_for(role: str, layers: int | None = None):
    """The transformers config of the role's full-profile checkpoint (see the module docstring for the numbers)."""
    import transformers as tf

    if role == "classifier":
        config = tf.BertConfig(num_labels=2)
        key = "num_hidden_layers"
    elif role == "encoder":
        config, key = tf.DistilBertConfig(), "n_layers"
    elif role == "causal_lm":
        config, key = tf.GPT2Config(n_layer=6), "n_layer"
    elif role == "chat_lm":
        config = tf.LlamaConfig(
            hidden_size=960,
            intermediate_size=2560,
            num_hidden_layers=32,
            num_attention_heads=15,
            num_key_value_heads=5,
            vocab_size=49152,
            tie_word_embeddings=True,
            max_position_embeddings=8192,
        )
        key = "num_hidden_layers"
    elif role == "clip":
        config, key = tf.CLIPConfig(), None
    else:
        raise ValueError(f"unknown model role {role!r}; expected one of: {', '.join(CHECKPOINT_MB)}")
    if layers is not None:
        if key is None:
            raise ValueError(f"role {role!r} takes no 'layers'")
        setattr(config, key, layers)
    config._attn_implementation = "eager"
    return config


def _model_class(role: str):
    import transformers as tf

    return {
        "classifier": tf.BertForSequenceClassification,
        "encoder": tf.DistilBertModel,
        "causal_lm": tf.GPT2LMHeadModel,
        "chat_lm": tf.LlamaForCausalLM,
        "clip": tf.CLIPModel,
    }[role]


@functools.cache
def _meta_model(role: str, layers: int | None):
    import torch

    with torch.device("meta"):
        model = _model_class(role)(config_for(role, layers))
    return model


def n_layers(role: str, layers: int | None = None) -> int:
    config = config_for(role, layers)
    if role == "clip":
        return config.text_config.num_hidden_layers + config.vision_config.num_hidden_layers
    return config.num_hidden_layers


def kv_bytes_per_token(role: str) -> int:
    """fp32 keys and values of one token across the layers (grouped-query attention: the KV heads only)."""
    config = config_for(role)
    if role == "chat_lm":
        width = config.num_key_value_heads * (config.hidden_size // config.num_attention_heads)
    else:
        width = config.hidden_size
    return 2 * config.num_hidden_layers * width * 4


@functools.cache
def measure(role: str, batch: int, length: int, train: bool, layers: int | None = None, loss: bool = True) -> dict:
    """FLOPs of one forward pass (forward + backward when ``train``), the fp32 bytes of the tensors saved for
    backward, the parameter count and the logits' bytes, at (batch, length), on the meta device. ``loss=False``:
    no labels (the body's activations only, for the inference estimates)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = _meta_model(role, layers)
    model.train(train)
    params = list(model.parameters())
    param_ids = {id(p) for p in params}
    kwargs = {"input_ids": torch.zeros(batch, length, dtype=torch.long, device="meta")}
    if role == "clip":
        size = model.config.vision_config.image_size
        kwargs["pixel_values"] = torch.zeros(batch, 3, size, size, device="meta")
        kwargs["return_loss"] = True
    elif role == "classifier" and loss:
        kwargs["labels"] = torch.zeros(batch, dtype=torch.long, device="meta")
    elif role in ("causal_lm", "chat_lm") and loss:
        kwargs["labels"] = kwargs["input_ids"]
    seen: dict[int, int] = {}
    keep = []

    def pack(tensor):
        base = tensor._base if tensor._base is not None else tensor
        if id(base) not in param_ids and id(base) not in seen:
            seen[id(base)] = base.untyped_storage().nbytes()
            keep.append(base)  # alive until the end: no id is reused
        return tensor

    with torch.set_grad_enabled(train), FlopCounterMode(display=False) as counter:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = model(**kwargs)
        if getattr(out, "loss", None) is not None:
            total = out.loss
        else:  # sum's backward keeps nothing: only the body's saved tensors count
            total = (out.last_hidden_state if role == "encoder" else out[0]).float().sum()
        if train:
            total.backward()
    for p in params:
        p.grad = None
    logits = getattr(out, "logits", None)
    if role == "clip":
        logits = out.logits_per_image
    return {
        "flops": counter.get_total_flops(),
        "saved_bytes": sum(seen.values()),
        "params": sum(p.numel() for p in params),
        "logits_bytes": 0 if logits is None else logits.numel() * 4,
    }


def _size(spec: dict, key: str, config: dict, where: str) -> int:
    value = spec.get(key)
    if value is None:
        raise ValueError(f"{where}: kind {spec['kind']!r} needs {key!r}")
    if isinstance(value, str):
        if value not in config:
            raise ValueError(f"{where}: {key} = {value!r} names no key of [step.config] (keys: {sorted(config)})")
        value = config[value]
        value = value[-1] if isinstance(value, list) else value  # [tiny, full]: the full profile's value
    return int(value)


def validate(spec: dict, config: dict, where: str) -> dict:
    """The spec with every size resolved to a number; raises ValueError naming what is wrong."""
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}: kind {kind!r}; expected one of {KINDS}")
    unknown = set(spec) - OPTIONAL - set(SIZE_KEYS[kind])
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} for kind {kind!r}")
    out = {"kind": kind}
    if kind != "small":
        if spec.get("role") not in CHECKPOINT_MB:
            raise ValueError(f"{where}: unknown role {spec.get('role')!r}; expected one of {sorted(CHECKPOINT_MB)}")
        out["role"] = spec["role"]
        for key in SIZE_KEYS[kind]:
            out[key] = _size(spec, key, config, where)
        for key in ("layers", "copies"):
            if key in spec:
                out[key] = _size(spec, key, config, where)
        out["device"] = spec.get("device", "cuda")
        if out["device"] not in ("cuda", "cpu"):
            raise ValueError(f"{where}: device {out['device']!r}; expected 'cuda' or 'cpu'")
    for name in spec.get("builds", []):
        if name not in BUILD_NAMES:
            raise ValueError(f"{where}: unknown build {name!r}; expected one of {BUILD_NAMES}")
    return out


def workload(spec: dict) -> dict:
    """Seconds and peak bytes of one resolved spec."""
    kind = spec["kind"]
    if kind == "small":
        return {"seconds": SMALL_SECONDS, "peak": SMALL_PEAK}
    role, layers = spec["role"], spec.get("layers")
    compute = MFU * T4_FP16_FLOPS if spec["device"] == "cuda" else CPU_FLOPS
    if kind == "train":
        m = measure(role, spec["batch"], spec["length"], True, layers)
        p = m["params"]
        step = m["flops"] / compute + ADAM_BYTES_PER_PARAM * p / (BW_FRACTION * T4_BANDWIDTH) + STEP_OVERHEAD_S
        peak = 18 * p + m["saved_bytes"] / 2 + m["logits_bytes"]
        return {"seconds": spec["steps"] * step, "peak": peak + 4 * p * spec.get("copies", 0)}
    if kind == "forward":
        m = measure(role, spec["batch"], spec["length"], False, layers)
        grad = measure(role, spec["batch"], spec["length"], True, layers, loss=False)
        seconds = spec["calls"] * (m["flops"] / compute + CALL_OVERHEAD_S)
        acts = grad["saved_bytes"] / n_layers(role, layers) * INFERENCE_LAYERS / 2
        peak = 4 * m["params"] + acts + m["logits_bytes"] if spec["device"] == "cuda" else 0
        return {"seconds": seconds, "peak": peak + 4 * m["params"] * spec.get("copies", 0)}
    # generate: prefill (compute-bound) + decoding (memory- or launch-bound), per call of `batch` sequences
    calls = math.ceil(spec["sequences"] / spec["batch"])
    prefill = measure(role, spec["batch"], spec["prompt"], False, layers)
    one = measure(role, spec["batch"], 1, False, layers)
    total = spec["prompt"] + spec["new_tokens"]
    kv = kv_bytes_per_token(role) * spec["batch"] * total
    per_token = max(
        one["flops"] / compute, (4 * one["params"] + kv / 2) / (BW_FRACTION * T4_BANDWIDTH)
    ) + DECODE_LAYER_S * n_layers(role, layers)
    seconds = calls * (prefill["flops"] / compute + CALL_OVERHEAD_S + spec["new_tokens"] * per_token)
    grad = measure(role, spec["batch"], spec["prompt"], True, layers, loss=False)
    acts = grad["saved_bytes"] / n_layers(role, layers) * INFERENCE_LAYERS / 2
    # generate computes the prefill's logits at the last position only (logits_to_keep)
    peak = 4 * prefill["params"] + kv + acts + prefill["logits_bytes"] / spec["prompt"]
    return {"seconds": seconds, "peak": peak + 4 * prefill["params"] * spec.get("copies", 0)}


def build_specs() -> dict[str, list[dict]]:
    """The cached artifacts' workloads, from their full-profile recipes (shared/finetuned.py, shared/agents)."""
    from shared.agents.traces import TRACE_RECIPE
    from shared.data import IMDB_SIZES
    from shared.finetuned import CORPUS_LM_RECIPE, SENTIMENT_RECIPE

    s, c, t = SENTIMENT_RECIPE["full"], CORPUS_LM_RECIPE["full"], TRACE_RECIPE["full"]
    checks = s["max_steps"] // s["val_every"]
    return {
        "classifier": [
            {"kind": "train", "role": "classifier", "steps": s["max_steps"], "batch": s["batch_size"],
             "length": s["max_length"], "device": "cuda"},
            {"kind": "forward", "role": "classifier", "calls": checks * math.ceil(IMDB_SIZES["validation"] / 16),
             "batch": 16, "length": s["max_length"], "device": "cuda"},
        ],
        "corpus_lm": [
            {"kind": "train", "role": "causal_lm", "steps": c["max_steps"], "batch": c["batch_size"],
             "length": c["block_size"], "device": "cuda"},
        ],
        "trace_lm": [
            {"kind": "train", "role": "causal_lm", "steps": t["max_steps"], "batch": t["batch_size"],
             "length": TRACE_LENGTH, "device": "cuda"},
        ],
    }  # fmt: skip


BUILD_ROLES = {"classifier": {"classifier"}, "corpus_lm": {"causal_lm"}, "trace_lm": {"causal_lm"}}


def load_steps(root: Path = ROOT) -> list[dict]:
    return tomllib.loads((root / "course.toml").read_text())["step"]


def notebook_budget(step: dict, builds: dict | None = None) -> dict:
    """Peak GiB, minutes and first-run minutes of one course.toml step."""
    where = step["path"]
    specs = step.get("t4")
    if not specs:
        raise ValueError(f"{where}: no [[step.t4]] table (add one after the step; kind = 'small' for tiny models)")
    config = step.get("config", {})
    builds = build_specs() if builds is None else builds
    resolved = [validate(spec, config, f"{where} [[step.t4]] #{i + 1}") for i, spec in enumerate(specs)]
    results = [workload(spec) for spec in resolved]
    needed = sorted({name for spec in specs for name in spec.get("builds", [])})
    roles = {spec["role"] for spec in resolved if "role" in spec}
    build_seconds = 0.0
    for name in needed:
        parts = [workload(spec) for spec in builds[name]]
        build_seconds += sum(p["seconds"] for p in parts)
        results += [{"seconds": 0, "peak": p["peak"]} for p in parts]
        roles |= BUILD_ROLES[name]
    seconds = NOTEBOOK_OVERHEAD_S + sum(r["seconds"] for r in results)
    download = sum(CHECKPOINT_MB[r] for r in roles) / DOWNLOAD_MB_S
    first = seconds + INSTALL_S + download + build_seconds
    peak = max(r["peak"] for r in results) + CUDA_CONTEXT
    return {
        "peak_gib": round(peak / 2**30, 1),
        "minutes": max(1, math.ceil(seconds / 60)),
        "first_run_minutes": max(1, math.ceil(first / 60)),
        "builds": needed,
    }


def compute(root: Path = ROOT) -> dict:
    builds = build_specs()
    return {"notebooks": {step["path"]: notebook_budget(step, builds) for step in load_steps(root)}}


CAPTION = (
    "Projected for the full profile on a Colab T4 (16-mixed) by `python -m tools.build.t4_budget`: FLOPs counted by "
    f"PyTorch's FlopCounterMode on the real architectures (meta device) at {MFU:.0%} of the T4's 65 TFLOP/s fp16 "
    f"peak; decoding at {BW_FRACTION:.0%} of 320 GB/s plus {DECODE_LAYER_S * 1e3:.1f} ms per layer per token; "
    "memory = fp32 weights, gradients and AdamW state, fp16 weight copies, the activations saved for backward "
    f"(halved for fp16), {CUDA_CONTEXT / 2**30:.1f} GiB CUDA context; {NOTEBOOK_OVERHEAD_S} s per notebook. "
    f"First run (fresh runtime): + {INSTALL_S} s setup, Hub downloads at {DOWNLOAD_MB_S} MB/s and the cached "
    "builds (classifier, corpus LM, trace LM) the notebook needs; the peak includes those builds. Minutes are rounded "
    "up. Workloads: the [[step.t4]] tables in course.toml."
)


def table(budget: dict) -> str:
    lines = [
        "| notebook | peak GPU GiB | minutes | first run minutes | builds |",
        "|---|---:|---:|---:|---|",
    ]
    for path, b in budget["notebooks"].items():
        builds = ", ".join(b["builds"]) or "-"
        lines.append(f"| {path} | {b['peak_gib']} | {b['minutes']} | {b['first_run_minutes']} | {builds} |")
    return "\n".join(lines) + "\n\n" + CAPTION + "\n"


def dumps(budget: dict) -> str:
    return json.dumps(budget, indent=1, sort_keys=True) + "\n"


def load() -> dict:
    """The committed budget (tools/build/t4_budget.json)."""
    return json.loads(JSON_PATH.read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate tools/build/t4_budget.json")
    parser.add_argument("--check", action="store_true", help="fail when the json differs from a fresh computation")
    parser.add_argument("--table", action="store_true", help="print the README table (Markdown)")
    args = parser.parse_args(argv)
    budget = compute()
    if args.write:
        JSON_PATH.write_text(dumps(budget))
        print(f"wrote {JSON_PATH.relative_to(ROOT)}")
    if args.check and (not JSON_PATH.exists() or JSON_PATH.read_text() != dumps(budget)):
        print("t4_budget.json is stale: run python -m tools.build.t4_budget --write", file=sys.stderr)
        return 1
    if args.table or not (args.write or args.check):
        print(table(budget))
    over = [p for p, b in budget["notebooks"].items() if b["peak_gib"] > MAX_PEAK_GIB or b["minutes"] > MAX_MINUTES]
    if over:
        print(f"over the T4 budget ({MAX_PEAK_GIB} GiB, {MAX_MINUTES} min): {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
