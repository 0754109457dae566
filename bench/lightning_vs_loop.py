"""Benchmark: Lightning ``Trainer.fit`` vs a hand-written PyTorch training loop, same model, data and steps.

    python -m bench.lightning_vs_loop [--quick | --smoke] [--steps N] [--repeats N] [--threads N]

This is the one place in the course with a hand-written ``zero_grad`` / ``backward`` / ``step`` loop, on purpose:
it is the baseline that tells us what Lightning's loop costs on top of the bare minimum.

Workload: a small Transformer classifier (token embedding + 2 ``nn.TransformerEncoderLayer`` of width 128, 4 heads,
feed-forward 256, mean pooling, linear head; dropout 0 so both sides compute exactly the same numbers) on synthetic
token sequences (batch 32 x 32 tokens, vocabulary 1000, a learnable label). One step (forward, cross-entropy,
backward, AdamW) takes roughly 15-40 ms on a 2-core CPU: long enough that the comparison is about Lightning's
overhead per step and per ``fit``, not about timer resolution, yet short enough that any real overhead shows
(on a 1 ms step, the ~0.2 ms Lightning spends per step would read as 20%; a realistic step hides it completely).

What is timed, per side, wall clock:
* loop: creating the AdamW optimizer, moving the model to the device and running ``--steps`` steps;
* Lightning: constructing the ``Trainer`` and ``trainer.fit`` for ``max_steps=--steps`` (its set-up and tear-down
  included: that is what a user pays).
Both get the same freshly built model (same seed), the same DataLoader (same batches in the same order), the same
optimizer settings and device, fp32. Lightning is made lean the way a careful user would: ``logger=False``,
``enable_checkpointing=False``, ``enable_progress_bar=False``, ``enable_model_summary=False``,
``num_sanity_val_steps=0``, no validation (``limit_val_batches=0``), and ``training_step`` returns the loss without
``self.log`` (the loop does not log either). Before timing, each side runs once untimed (warm-up); then the repeats
are interleaved (L, loop, L, loop, ...) and we report medians. The final losses are compared: equal losses (to
1e-5 relative; on CPU they are bitwise equal) mean both sides did the same work. If they differ, the run fails
(exit status 1) and prints no ratio.

Lightning's own cost is measured too, on a trivial model (``nn.Linear(8, 2)``, same batch size and data loading),
where a step costs almost nothing: both sides run a short and a long ``fit`` (default 50 and 250 steps),
interleaved; the slope gives the cost per step and the intercept the fixed cost per ``fit``; Lightning minus loop is
Lightning's overhead, in wall time and in CPU time (the CPU time of this process is robust to other jobs on a shared
machine). The expected ratio on the real workload is then about
``1 + (steps x overhead per step + overhead per fit) / loop time`` (the script prints both).

Last line (machine readable): ``lightning_vs_loop_time=<Lightning time / loop time>`` (target: <= 1.10).
"""

from __future__ import annotations

import gc
import logging
import math
import os
import statistics
import sys
import tempfile
import time
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bench.common import EpochSeededSampler, positive, sized_parser, sync

VOCAB, SEQ, D_MODEL, HEADS, FF, LAYERS, CLASSES, N_SAMPLES = 1000, 32, 128, 4, 256, 2, 2, 4096
SEED, LR = 0, 1e-3
SKIP = 5  # steady-state time per step is measured after this many steps
LOSS_RTOL = 1e-5  # final losses of the two sides must agree to this (relative); on CPU they are bitwise equal
TRIVIAL_FEATURES = 8


def parse_args(argv=None):
    parser = sized_parser(
        __doc__,
        quick="3 repeats of 60 steps (under ~30 s on 2 CPU cores)",
        smoke="1 repeat of 6 steps, overhead fits of 6 and 12 steps",
    )
    parser.add_argument(
        "--steps", type=positive(SKIP + 1), help="optimizer steps per run (default 200, quick 60, smoke 6)"
    )
    parser.add_argument(
        "--repeats", type=positive(1), help="timed runs per side, interleaved (default 5, quick 3, smoke 1)"
    )
    parser.add_argument(
        "--overhead-steps",
        type=positive(SKIP + 1),
        nargs=2,
        metavar=("SHORT", "LONG"),
        help="steps of the short and the long trivial-model fit (default 50 250, smoke 6 12)",
    )
    parser.add_argument("--batch-size", type=positive(1), default=32)
    args = parser.parse_args(argv)
    size = "smoke" if args.smoke else "quick" if args.quick else "default"
    args.steps = args.steps or {"default": 200, "quick": 60, "smoke": 6}[size]
    args.repeats = args.repeats or {"default": 5, "quick": 3, "smoke": 1}[size]
    args.overhead_steps = args.overhead_steps or ([6, 12] if args.smoke else [50, 250])
    if not args.overhead_steps[0] < args.overhead_steps[1]:
        parser.error(
            f"argument --overhead-steps: {args.overhead_steps[0]} {args.overhead_steps[1]}: expected SHORT < LONG"
        )
    return args


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Parameter(torch.randn(SEQ, D_MODEL) * 0.02)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.head = nn.Linear(D_MODEL, CLASSES)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens) + self.pos).mean(1))


def synthetic_data() -> TensorDataset:
    """Token sequences; label 1 when more than half of the tokens come from the lower half of the vocabulary."""
    g = torch.Generator().manual_seed(SEED)
    tokens = torch.randint(0, VOCAB, (N_SAMPLES, SEQ), generator=g)
    labels = ((tokens < VOCAB // 2).sum(1) > SEQ // 2).long()
    return TensorDataset(tokens, labels)


def trivial_data() -> TensorDataset:
    """Features for the trivial model: 8 random numbers; label 1 when the first is positive."""
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(N_SAMPLES, TRIVIAL_FEATURES, generator=g)
    return TensorDataset(x, (x[:, 0] > 0).long())


def trivial_model() -> nn.Module:
    """A model whose step costs almost nothing, so what a fit costs beyond it is the framework's (or loop's)."""
    torch.manual_seed(SEED)
    return nn.Linear(TRIVIAL_FEATURES, CLASSES)


def loader(data: TensorDataset, batch_size: int) -> DataLoader:
    """The same DataLoader for both sides: same batches in the same order (seeded shuffle), no workers."""
    return DataLoader(data, batch_size=batch_size, sampler=EpochSeededSampler(data, SEED))


def fresh_model() -> TinyTransformer:
    torch.manual_seed(SEED)
    return TinyTransformer()


def make_lightning_module(model: nn.Module, marks: list, steps: int, device: torch.device):
    import pytorch_lightning as pl

    class Classifier(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model
            self.last_loss = None

        def training_step(self, batch, batch_idx):
            tokens, labels = batch
            loss = F.cross_entropy(self.model(tokens), labels)
            self.last_loss = loss.detach()
            return loss

        def on_train_batch_end(self, outputs, batch, batch_idx):
            if self.trainer.global_step in (SKIP, steps):  # batch_idx restarts every epoch; global_step does not
                sync(device)
                marks.append(time.perf_counter())

        def configure_optimizers(self):
            return torch.optim.AdamW(self.parameters(), lr=LR)

    return Classifier()


def run_lightning(data, args, device, steps: int, root: str, model_fn=fresh_model) -> tuple[float, float, float, float]:
    """(wall seconds, CPU seconds, steady seconds per step, final loss) of Trainer + fit."""
    import pytorch_lightning as pl

    marks: list[float] = []
    module = make_lightning_module(model_fn(), marks, steps, device)
    train = loader(data, args.batch_size)
    gc.collect()
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    trainer = pl.Trainer(
        accelerator=device.type,
        devices=1,
        precision="32-true",
        max_steps=steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        default_root_dir=root,
    )
    trainer.fit(module, train_dataloaders=train)
    sync(device)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if trainer.global_step != steps:
        sys.exit(f"FAILED: Lightning ran {trainer.global_step} optimizer steps instead of {steps}; no ratio reported")
    return wall, cpu, (marks[1] - marks[0]) / (steps - SKIP), float(module.last_loss)


def run_loop(data, args, device, steps: int, root: str, model_fn=fresh_model) -> tuple[float, float, float, float]:
    """(wall seconds, CPU seconds, steady seconds per step, final loss) of the hand-written loop."""
    model = model_fn()
    train = loader(data, args.batch_size)
    marks: list[float] = []
    gc.collect()
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    step = 0
    while step < steps:  # as many epochs as it takes, like max_steps
        for tokens, labels in train:
            tokens, labels = tokens.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(tokens), labels)
            loss.backward()
            optimizer.step()
            step += 1
            if step in (SKIP, steps):
                sync(device)
                marks.append(time.perf_counter())
            if step == steps:
                break
    sync(device)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, (marks[1] - marks[0]) / (steps - SKIP), float(loss.detach())


def main(argv=None) -> None:
    args = parse_args(argv)
    import pytorch_lightning as pl

    for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = synthetic_data()
    params = sum(p.numel() for p in fresh_model().parameters())
    gpu = f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""
    print(
        f"device={device}{gpu} threads={torch.get_num_threads()} load={os.getloadavg()[0]:.2f} "
        f"torch {torch.__version__} lightning "
        f"{pl.__version__} python {sys.version.split()[0]}"
    )
    print(
        f"model: tiny Transformer, {params / 1e6:.2f} M parameters; batch {args.batch_size} x {SEQ} tokens; "
        f"steps={args.steps} repeats={args.repeats} (interleaved Lightning, loop, ...)"
    )

    sides = {"Lightning": run_lightning, "loop": run_loop}
    results: dict[str, list[tuple]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory(prefix="bench-l-vs-loop-") as root:
        for fn in sides.values():  # warm-up, untimed
            fn(data, args, device, SKIP + 1, root)
        for r in range(args.repeats):
            for name, fn in sides.items():
                res = fn(data, args, device, args.steps, root)
                results[name].append(res)
                print(
                    f"  repeat {r + 1}/{args.repeats} {name:<10} {res[0]:7.3f} s  cpu {res[1]:7.3f} s  "
                    f"steady {res[2] * 1e3:7.2f} ms/step  final loss {res[3]:.6f}",
                    flush=True,
                )

    over = overhead(args, device)
    problems = [p for p in (same_loss("real workload", results), same_loss("trivial model", over["runs"])) if p]
    print(f"checks: same final loss on both sides={not problems}  threads after={torch.get_num_threads()}")
    if problems:
        sys.exit(
            "FAILED: the two sides did not do the same work, so no ratio is reported:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )

    med = {name: [statistics.median(res[i] for res in rs) for i in range(3)] for name, rs in results.items()}
    print(f"{'side':<12}{'time s':>9}{'cpu s':>9}{'ms/step':>9}{'fixed s':>9}   (medians of {args.repeats})")
    for name, (wall, cpu, per_step) in med.items():
        fixed = statistics.median(res[0] - args.steps * res[2] for res in results[name])
        print(f"{name:<12}{wall:>9.3f}{cpu:>9.3f}{per_step * 1e3:>9.2f}{fixed:>9.3f}")
    (wall_l, cpu_l, step_l), (wall_p, cpu_p, step_p) = med.values()
    paired = statistics.median(lt[0] / lp[0] for lt, lp in zip(results["Lightning"], results["loop"], strict=True))
    print(
        f"Lightning / loop: steady ms/step {step_l / step_p:.3f}, CPU time {cpu_l / cpu_p:.3f}, "
        f"median of per-repeat time ratios {paired:.3f}"
    )
    short, long = args.overhead_steps
    print(
        f"Lightning's own cost (trivial model Linear({TRIVIAL_FEATURES}, {CLASSES}), batch {args.batch_size}; fits "
        f"of {short} and {long} steps, interleaved, medians of {args.repeats}), and the ratio it predicts here:"
    )
    for clock, loop_s in (("wall", wall_p), ("cpu", cpu_p)):
        per_step, per_fit = over[clock]
        fit_cost = per_step * args.steps + per_fit
        print(
            f"  {clock + ' time':<9} {per_step * 1e3:6.3f} ms per step, {per_fit * 1e3:5.1f} ms per fit: "
            f"1 + {fit_cost * 1e3:.0f} ms / {loop_s * 1e3:.0f} ms = {1 + fit_cost / loop_s:.3f}"
        )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}  (this machine is shared; high load = noisy)")
    (step_w, fit_w), (step_c, fit_c) = over["wall"], over["cpu"]
    print(
        f"lightning_overhead_ms_per_step={step_w * 1e3:.3f} lightning_overhead_ms_per_fit={fit_w * 1e3:.1f} "
        f"cpu_ms_per_step={step_c * 1e3:.3f} cpu_ms_per_fit={fit_c * 1e3:.1f}"
    )
    print(f"lightning_vs_loop_time={wall_l / wall_p:.3f}")


def same_loss(label: str, results: dict[str, list[tuple]]) -> str | None:
    """None when every run of both sides ended with the same loss, else what differs."""
    losses = [res[3] for rs in results.values() for res in rs]
    if all(math.isclose(x, losses[0], rel_tol=LOSS_RTOL, abs_tol=1e-7) for x in losses):
        return None
    by_side = {name: [f"{res[3]:.7f}" for res in rs] for name, rs in results.items()}
    return f"{label}: the final losses differ: {by_side}"


def overhead(args, device) -> dict:
    """Lightning's own cost per step and per fit, from trivial-model fits of two lengths (Lightning minus loop)."""
    data, (short, long) = trivial_data(), args.overhead_steps
    sides = {"Lightning": run_lightning, "loop": run_loop}
    runs: dict[str, list[tuple]] = {name: [] for name in sides}
    estimates: dict[str, list[tuple[float, float]]] = {"wall": [], "cpu": []}  # (per step, per fit) per repeat
    with tempfile.TemporaryDirectory(prefix="bench-l-overhead-") as root:
        for fn in sides.values():  # warm-up, untimed
            fn(data, args, device, short, root, model_fn=trivial_model)
        for _ in range(args.repeats):
            took = {}
            for n in (short, long):
                for name, fn in sides.items():
                    res = fn(data, args, device, n, root, model_fn=trivial_model)
                    took[name, n] = {"wall": res[0], "cpu": res[1]}
                    if n == long:
                        runs[name].append(res)
            for clock, found in estimates.items():
                slope = {name: (took[name, long][clock] - took[name, short][clock]) / (long - short) for name in sides}
                fixed = {name: took[name, short][clock] - short * slope[name] for name in sides}
                found.append((slope["Lightning"] - slope["loop"], fixed["Lightning"] - fixed["loop"]))
    medians = {
        clock: tuple(statistics.median(e[i] for e in found) for i in range(2)) for clock, found in estimates.items()
    }
    return {"wall": medians["wall"], "cpu": medians["cpu"], "runs": runs}


if __name__ == "__main__":
    main()
