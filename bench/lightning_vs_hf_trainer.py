"""Benchmark: fine-tuning with Lightning vs the Hugging Face ``transformers.Trainer``, same work on both sides.

    COURSE_PROFILE=tiny python -m bench.lightning_vs_hf_trainer [--quick | --smoke] [--steps N] [--repeats N]

Lightning side: the course's ``SentimentClassifier`` + ``SentimentDataModule`` + ``make_trainer`` (``Trainer.fit``).
HF side: the same ``AutoModelForSequenceClassification`` (``classifier_from(source("classifier"))``) trained by
``transformers.Trainer``. Both get, by construction and checked at run time:

* the same weights at the start (model built after the same seed; the new head's init is compared),
* the same tokenized data and the same ``DataCollatorWithPadding`` objects (tokenized once, up front),
* the same batches in the same order: HF (through accelerate) shuffles with a ``SeedableRandomSampler`` that
  re-seeds ``seed + epoch`` every epoch; the Lightning data module here uses a sampler doing exactly that
  (the first batch of each run is hashed and compared),
* the same optimizer: ``torch.optim.AdamW``, fused (HF ``optim="adamw_torch_fused"``, its default on torch >= 2.8;
  the course module fuses on CPU and CUDA; checked), the same lr, betas, eps and weight decay on the same
  parameters (no decay on biases and LayerNorm weights; the HF optimizer's groups are checked), the same linear
  warmup/decay stepped every optimizer step, no gradient accumulation,
* the same per-step extras: both clip the gradient norm to ``--clip`` (default 1.0, HF's own default; HF computes
  the global gradient norm every step whether it clips or not, so with ``--clip 0`` the Lightning side computes it
  too, unclipped), HF's per-step FLOP estimate is switched off through ``Trainer.floating_point_ops`` (the hook HF
  documents for overriding it), and both sides pay one full garbage collection inside the clock: HF's ``train()``
  starts with ``accelerator.free_memory()`` (a ``gc.collect()``, 0.2-0.5 s here), so the Lightning side calls the
  same ``accelerate.utils.release_memory()`` right after its clock starts,
* the same number of optimizer steps (checked), seed and precision (fp32 on CPU; on CUDA what ``trainer_kwargs``
  picks, ``bf16-mixed`` or ``16-mixed``, mapped to HF's ``bf16=True`` / ``fp16=True``), one device each,
* equally quiet: no progress bars, no checkpoints, no loggers/integrations (Lightning ``logger=False``, HF
  ``report_to=[]`` and ``logging_strategy="no"``), no evaluation during training, no pinned memory,
  ``num_workers=0``; each side still keeps its own per-step loss bookkeeping (Lightning's ``self.log`` in
  ``training_step``, HF's running ``tr_loss`` with its NaN/inf filter).

Fairness checks (the run fails, exit status 1 and no ratio line, if any of them fails): the same initial head and
the same first batch in every run, the same number of steps, the HF optimizer's decay groups, trained heads that
agree (largest difference at most ``--max-head-drift`` times how far training moved the head; on CPU it is 0 or
rounding, ~1e-9, because the two sides add up the gradient norm over the parameters in a different order), and
validation accuracies within 2 points.

What is timed: constructing the trainer plus ``fit``/``train`` (wall clock), i.e. everything a user waits for
after the model is loaded. Model loading, tokenization and the evaluation are outside the timed part. Before the
timed repeats each side runs once, untimed, for a few steps (lazy imports, allocator and kernel warm-up). Repeats
are interleaved (L, H, L, H, ...) and we report medians, so drift of this shared machine hits both sides alike.
We also report a steady-state throughput (from the end of step 2 to the end of the last step) that excludes the
fixed start-up cost of each framework, and the ratio of CPU seconds (robust to other jobs on the machine).
Validation accuracy comes from one shared plain-PyTorch loop, not from either framework, so it measures the
trained weights and nothing else.

``--hf-defaults`` measures something else on purpose: the HF Trainer as an HF user gets it (its FLOP estimate every
step, its ``gc.collect()`` not matched on the Lightning side, and with ``--clip 0`` its unclipped gradient norm
not matched either). Its last line has its own name, ``lightning_vs_hf_defaults_throughput=``, so it is never
mistaken for the like-for-like figure.

Last line (machine readable): ``lightning_vs_hf_throughput=<Lightning / HF samples/s, fit> acc_diff_points=<|acc
difference| in points>``. Targets: ratio >= 1.0, accuracy difference <= 2 points.

The HF Trainer needs ``accelerate>=1.1.0`` (transformers 5.x); the script says so and stops if it is missing.
"""

from __future__ import annotations

import gc
import hashlib
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import torch
from torch.utils.data import DataLoader

from bench.common import EpochSeededSampler, positive, sized_parser, sync
from shared.course import start
from shared.data import SentimentDataModule
from shared.runtime import quiet_libraries, trainer_kwargs
from shared.trainer import make_trainer

WEIGHT_DECAY, WARMUP_RATIO = 0.01, 0.1  # SentimentClassifier's defaults, passed to both sides
LR = 2e-4  # higher than the module's 5e-5 so that 40 steps reach a real accuracy (5e-5: still at chance)
CLIP = 1.0  # HF's default max_grad_norm; both sides clip to it
MAX_ACC_DIFF_POINTS = 2.0
HF_PRECISION = {"32-true": {}, "bf16-mixed": {"bf16": True}, "16-mixed": {"fp16": True}}
SKIP = 2  # steady-state throughput starts at the end of this step


def parse_args(argv=None):
    parser = sized_parser(
        __doc__,
        quick="1 repeat of 16 steps (under ~60 s on 2 CPU cores)",
        smoke="1 repeat of 3 steps, no warm-up, batch 8, max_length 32, 64 validation examples",
    )
    parser.add_argument(
        "--steps", type=positive(SKIP + 1), help="optimizer steps per run (default 40, quick 16, smoke 3)"
    )
    parser.add_argument("--repeats", type=positive(1), help="timed runs per side, interleaved (default 3, quick 1)")
    parser.add_argument(
        "--warmup-runs-steps",
        type=positive(0),
        default=None,
        help="steps of the untimed warm-up run per side (default 3, quick 2, smoke 0 = no warm-up)",
    )
    parser.add_argument("--batch-size", type=positive(1), help="default 16 (smoke 8)")
    parser.add_argument("--max-length", type=positive(8), help="default 64 (smoke 32)")
    parser.add_argument(
        "--val-examples", type=positive(1), help="validation examples for the accuracy (default all 400; smoke 64)"
    )
    parser.add_argument("--lr", type=float, default=LR, help=f"peak learning rate, both sides (default {LR})")
    parser.add_argument(
        "--clip",
        type=float,
        default=CLIP,
        help=f"gradient-norm clipping on both sides (default {CLIP}, HF's default; 0 = off)",
    )
    parser.add_argument(
        "--max-head-drift",
        type=float,
        default=0.01,
        help="largest allowed difference between the two trained heads, as a fraction of how far "
        "training moved the head (default 0.01; on CPU ~1e-9 or 0)",
    )
    parser.add_argument(
        "--hf-defaults",
        action="store_true",
        help="HF Trainer as an HF user gets it (FLOP estimate, its gc not matched): not like for "
        "like; reported as lightning_vs_hf_defaults_throughput=",
    )
    args = parser.parse_args(argv)
    if not args.lr > 0:
        parser.error(f"argument --lr: {args.lr} is not a positive learning rate")
    if not args.clip >= 0:
        parser.error(f"argument --clip: {args.clip} is negative; expected 0 (off) or a positive max norm")
    if not args.max_head_drift >= 0:
        parser.error(f"argument --max-head-drift: {args.max_head_drift} is negative; expected a fraction >= 0")
    size = "smoke" if args.smoke else "quick" if args.quick else "default"
    defaults = {
        "default": dict(steps=40, repeats=3, warmup_runs_steps=3, batch_size=16, max_length=64),
        "quick": dict(steps=16, repeats=1, warmup_runs_steps=2, batch_size=16, max_length=64),
        "smoke": dict(steps=3, repeats=1, warmup_runs_steps=0, batch_size=8, max_length=32, val_examples=64),
    }[size]
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def require_hf_trainer() -> str:
    """The accelerate version, or exit with what to install: ``transformers.Trainer`` cannot run without it."""
    from transformers.utils import import_utils

    minimum = getattr(import_utils, "ACCELERATE_MIN_VERSION", "1.1.0")
    if not import_utils.is_accelerate_available(minimum):
        sys.exit(
            f"error: transformers.Trainer needs accelerate>={minimum}, which is not installed here.\n"
            f"       Install it with: pip install 'accelerate>={minimum}'  (tested with accelerate 1.15.0)"
        )
    import accelerate

    return accelerate.__version__


class FirstBatchProbe:
    """Wraps the collator (on both sides): remembers a hash of the first batch of a run (every tensor in it)."""

    def __init__(self, collate):
        self.collate, self.first = collate, None

    def __call__(self, features):
        batch = self.collate(features)
        if self.first is None:
            digest = hashlib.sha256()
            for key in sorted(batch):
                digest.update(key.encode() + str(tuple(batch[key].shape)).encode())
                digest.update(batch[key].contiguous().numpy().tobytes())
            self.first = digest.hexdigest()[:16]
        return batch


class PreparedSentiment(SentimentDataModule):
    """The course's data module, tokenized once before anything is timed (the HF side's timed part never
    tokenizes either: ``fit``'s own ``setup`` call finds the splits tokenized and returns, and ``prepare_data``
    does nothing); training order from ``EpochSeededSampler``. Same DataLoader settings otherwise (batch size,
    collator, no workers, no pinning)."""

    def __init__(self, tokenizer, batch_size: int, max_length: int, seed: int, val_examples: int | None = None):
        super().__init__(tokenizer, batch_size=batch_size, max_length=max_length)
        self.setup("fit")
        if val_examples is not None and val_examples < len(self.splits["validation"]):
            self.splits["validation"] = self.splits["validation"].select(range(val_examples))
        self.collate = FirstBatchProbe(self.collate)
        self.seed = seed

    def prepare_data(self) -> None:
        pass

    def train_dataloader(self):
        train = self.splits["train"]
        return DataLoader(
            train, batch_size=self.batch_size, sampler=EpochSeededSampler(train, self.seed), collate_fn=self.collate
        )


@dataclass
class Clock:
    """Wall-clock marks at the end of step ``SKIP`` and of the last step (synchronized on CUDA only there)."""

    steps: int
    device: torch.device
    marks: dict = field(default_factory=dict)

    def step_ended(self, step: int) -> None:  # step counts from 1
        if step in (SKIP, self.steps):
            sync(self.device)
            self.marks[step] = time.perf_counter()

    def steady(self, batch_size: int) -> float:
        return (self.steps - SKIP) * batch_size / (self.marks[self.steps] - self.marks[SKIP])


@dataclass
class Result:
    fit_s: float
    cpu_s: float  # CPU seconds of this process during the fit (all threads): robust to other jobs' load
    steady_sps: float
    acc: float
    steps_done: int
    head_init: torch.Tensor
    first_batch: str
    head_after: torch.Tensor


@torch.no_grad()
def accuracy(model, loader, device, amp_dtype) -> float:
    """Validation accuracy with one plain loop for both sides (untimed)."""
    model.to(device).eval()
    correct = total = 0
    for batch in loader:
        batch = {k: v.to(device) for k, v in batch.items()}
        labels = batch.pop("labels")
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = model(**batch).logits
        correct += int((logits.argmax(-1) == labels).sum())
        total += len(labels)
    return correct / total


def head_of(model) -> torch.Tensor:
    return model.classifier.weight.detach().float().cpu().clone()


class Bench:
    def __init__(self, args, seed: int, device: torch.device, precision: str, src: str, dm: PreparedSentiment):
        self.args, self.seed, self.device, self.precision, self.src, self.dm = args, seed, device, precision, src, dm
        self.amp_dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
        from shared.lightning_modules import SentimentClassifier

        self.fused = device.type in SentimentClassifier.FUSED_DEVICES  # the AdamW kernel both sides must use
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-l-vs-hf-")

    def _finish(
        self, model, t0: tuple, clock: Clock, steps: int, steps_done: int, evaluate: bool, head_init: torch.Tensor
    ) -> Result:
        sync(self.device)
        fit_s, cpu_s = time.perf_counter() - t0[0], time.process_time() - t0[1]
        acc = accuracy(model, self.dm.val_dataloader(), self.device, self.amp_dtype) if evaluate else float("nan")
        steady = clock.steady(self.args.batch_size) if steps > SKIP and len(clock.marks) == 2 else float("nan")
        return Result(fit_s, cpu_s, steady, acc, steps_done, head_init, self.dm.collate.first, head_of(model))

    def lightning(self, steps: int, evaluate: bool = True) -> Result:
        import pytorch_lightning as pl
        from accelerate.utils import release_memory

        from shared.lightning_modules import SentimentClassifier

        torch.manual_seed(self.seed)
        module = SentimentClassifier(self.src, lr=self.args.lr, weight_decay=WEIGHT_DECAY, warmup_ratio=WARMUP_RATIO)
        head_init = head_of(module.model)
        clock = Clock(steps, self.device)

        class Tick(pl.Callback):
            def on_train_batch_end(self, trainer, *_):
                clock.step_ended(trainer.global_step)

        class GradNorm(pl.Callback):
            """What HF does every step when it does not clip: the global gradient norm, for its logs."""

            def on_before_optimizer_step(self, trainer, pl_module, optimizer):
                torch.nn.utils.clip_grad_norm_(pl_module.parameters(), float("inf"))

        callbacks = [Tick()]
        if not self.args.clip and not self.args.hf_defaults:
            callbacks.append(GradNorm())
        self.dm.collate.first = None
        gc.collect()  # same heap state for both sides before the clock starts (untimed)
        pl.seed_everything(self.seed, verbose=False)
        t0 = time.perf_counter(), time.process_time()
        if not self.args.hf_defaults:
            release_memory()  # HF's train() starts with accelerator.free_memory(), which is this call
        trainer = make_trainer(
            devices=1,
            strategy="auto",
            precision=self.precision,
            max_steps=steps,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            limit_val_batches=0,
            default_root_dir=self.tmp.name,
            callbacks=callbacks,
            gradient_clip_val=self.args.clip or None,
            gradient_clip_algorithm="norm",
        )
        trainer.fit(module, datamodule=self.dm)
        return self._finish(module.model, t0, clock, steps, trainer.global_step, evaluate, head_init)

    def hf(self, steps: int, evaluate: bool = True) -> Result:
        from transformers import Trainer, TrainerCallback, TrainingArguments

        from shared.models import classifier_from

        class NoFlopsTrainer(Trainer):
            """HF's Trainer without its per-step FLOP estimate (work the Lightning side does not do)."""

            def floating_point_ops(self, inputs) -> int:
                return 0

        torch.manual_seed(self.seed)
        model = classifier_from(self.src, num_labels=2, pretrained=True)
        head_init = head_of(model)
        clock = Clock(steps, self.device)

        class Tick(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                clock.step_ended(state.global_step)

        self.dm.collate.first = None
        gc.collect()  # same heap state for both sides before the clock starts (untimed)
        t0 = time.perf_counter(), time.process_time()
        args = TrainingArguments(
            output_dir=self.tmp.name,
            max_steps=steps,
            per_device_train_batch_size=self.args.batch_size,
            learning_rate=self.args.lr,
            weight_decay=WEIGHT_DECAY,
            warmup_steps=int(WARMUP_RATIO * steps),
            lr_scheduler_type="linear",
            optim="adamw_torch_fused" if self.fused else "adamw_torch",
            adam_beta1=0.9,
            adam_beta2=0.999,
            adam_epsilon=1e-8,
            max_grad_norm=self.args.clip,
            gradient_accumulation_steps=1,
            seed=self.seed,
            data_seed=self.seed,
            report_to=[],
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            disable_tqdm=True,
            dataloader_pin_memory=False,
            dataloader_num_workers=0,
            **HF_PRECISION[self.precision],
        )
        trainer_class = Trainer if self.args.hf_defaults else NoFlopsTrainer
        trainer = trainer_class(
            model=model,
            args=args,
            train_dataset=self.dm.splits["train"],
            data_collator=self.dm.collate,
            callbacks=[Tick()],
        )
        trainer.train()
        result = self._finish(model, t0, clock, steps, trainer.state.global_step, evaluate, head_init)
        self._check_hf_optimizer(trainer.optimizer, model, fused=self.fused)
        return result

    @staticmethod
    def _check_hf_optimizer(optimizer, model, fused: bool) -> None:
        """HF decides weight decay by name (bias, LayerNorm); the course module by shape (1-D). Same set here? And the
        same AdamW kernel (fused where SentimentClassifier.configure_optimizers fuses)?"""
        hf_decay = {id(p) for g in optimizer.param_groups if g["weight_decay"] > 0 for p in g["params"]}
        ours = {id(p) for p in model.parameters() if p.requires_grad and p.ndim >= 2}
        inner = optimizer.optimizer if hasattr(optimizer, "optimizer") else optimizer
        if hf_decay != ours or not isinstance(inner, torch.optim.AdamW) or bool(inner.defaults.get("fused")) != fused:
            sys.exit(
                "FAILED: the HF Trainer's optimizer differs from SentimentClassifier's (decay groups, class or "
                "fused kernel); the comparison would not be like for like, so no ratio is reported"
            )


def median(values):
    return statistics.median(values)


def fairness(results: dict[str, list[Result]], steps: int, max_head_drift: float) -> tuple[list[str], str]:
    """(problems, summary line): did both sides do the same work? Any problem fails the run."""
    lightning, hf = results["Lightning"], results["HF Trainer"]
    runs = lightning + hf
    problems = []
    same_head = all(torch.equal(r.head_init, runs[0].head_init) for r in runs)
    if not same_head:
        problems.append("the runs did not start from the same classifier head")
    batches = sorted({r.first_batch for r in runs})
    if len(batches) != 1:
        problems.append(f"the runs did not see the same first batch (hashes {batches})")
    done = {name: [r.steps_done for r in rs] for name, rs in results.items()}
    if any(n != steps for ns in done.values() for n in ns):
        problems.append(f"optimizer steps differ from {steps}: {done}")
    drift, moved = 0.0, 0.0
    for lt, h in zip(lightning, hf, strict=True):
        drift = max(drift, float((lt.head_after - h.head_after).abs().max()))
        moved = max(moved, float((lt.head_after - lt.head_init).abs().max()))
    relative = drift / moved if moved > 0 else (0.0 if drift == 0 else float("inf"))
    if not relative <= max_head_drift:
        problems.append(
            f"the trained heads differ by {drift:.2e}, {relative:.1%} of how far training moved the head "
            f"({moved:.2e}); allowed: {max_head_drift:.1%}"
        )
    acc_diff = abs(median([r.acc for r in lightning]) - median([r.acc for r in hf])) * 100
    if not acc_diff <= MAX_ACC_DIFF_POINTS:
        problems.append(f"validation accuracies differ by {acc_diff:.2f} points (allowed {MAX_ACC_DIFF_POINTS})")
    summary = (
        f"checks: same initial head={same_head}  same first batch={len(batches) == 1}  steps={done}  "
        f"max |head_L - head_H| after training={drift:.2e} ({relative:.2%} of the head's movement "
        f"{moved:.2e})  acc diff={acc_diff:.2f} points"
    )
    return problems, summary


def main(argv=None) -> None:
    args = parse_args(argv)
    if torch.cuda.is_available() and torch.cuda.device_count() > 1:
        sys.exit(
            "error: more than one GPU is visible; the HF Trainer would use DataParallel over all of them "
            "while Lightning uses one. Run with CUDA_VISIBLE_DEVICES=<one id>."
        )
    accelerate_version = require_hf_trainer()
    run = start(models=("classifier",), data=("sentiment",))
    quiet_libraries(tips=True, progress_bars=True)
    warnings.filterwarnings("ignore", message=".*(max_steps|does not have many workers|pin_memory).*")
    from transformers import AutoTokenizer

    from shared.models import source

    precision = trainer_kwargs(devices=1, strategy="auto")["precision"]
    if precision not in HF_PRECISION:
        sys.exit(
            f"error: precision {precision!r} has no HF Trainer equivalent here; expected one of "
            f"{', '.join(HF_PRECISION)} (set COURSE_PRECISION)"
        )
    device = torch.device("cuda" if trainer_kwargs(devices=1)["accelerator"] in ("gpu", "cuda") else "cpu")
    if device.type == "cpu" and torch.cuda.is_available():
        sys.exit("error: COURSE_ACCELERATOR asks for the CPU but the HF Trainer would use the GPU; unset it")
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    src = source("classifier")
    dm = PreparedSentiment(
        AutoTokenizer.from_pretrained(src), args.batch_size, args.max_length, run.seed, args.val_examples
    )
    train_size = len(dm.splits["train"])
    mode = "HF defaults (not like for like)" if args.hf_defaults else "like for like"
    print(
        f"device={device} precision={precision} threads={threads} load={os.getloadavg()[0]:.2f} "
        f"accelerate={accelerate_version} mode={mode} clip={args.clip} "
        f"steps={args.steps} batch={args.batch_size} max_length={args.max_length} repeats={args.repeats} "
        f"(interleaved L,H,...) train={train_size} val={len(dm.splits['validation'])}"
    )
    bench = Bench(args, run.seed, device, precision, src, dm)

    if args.warmup_runs_steps:
        bench.lightning(args.warmup_runs_steps, evaluate=False)
        bench.hf(args.warmup_runs_steps, evaluate=False)
    results: dict[str, list[Result]] = {"Lightning": [], "HF Trainer": []}
    for r in range(args.repeats):
        for name in results:
            res = bench.lightning(args.steps) if name == "Lightning" else bench.hf(args.steps)
            results[name].append(res)
            print(
                f"  repeat {r + 1}/{args.repeats} {name:<10} fit {res.fit_s:6.2f} s  "
                f"{args.steps * args.batch_size / res.fit_s:7.1f} samples/s  steady {res.steady_sps:7.1f} "
                f"samples/s  cpu {res.cpu_s:6.2f} s  val_acc {res.acc:.4f}",
                flush=True,
            )

    problems, summary = fairness(results, args.steps, args.max_head_drift)
    print(f"{summary}  threads after={torch.get_num_threads()}")
    if problems:
        sys.exit(
            "FAILED: the two sides did not do the same work, so no ratio is reported:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )

    samples = args.steps * args.batch_size
    rows = {}
    for name, rs in results.items():
        fit_s = median([r.fit_s for r in rs])
        # start-up + tear-down: what the fit took beyond its steps at the steady-state rate
        fixed_s = median([r.fit_s - samples / r.steady_sps for r in rs])
        rows[name] = (
            fit_s,
            samples / fit_s,
            median([r.steady_sps for r in rs]),
            fixed_s,
            median([r.cpu_s for r in rs]),
            median([r.acc for r in rs]),
        )
    print(
        f"{'trainer':<12}{'fit s':>9}{'samples/s':>11}{'steady/s':>10}{'fixed s':>9}{'cpu s':>8}{'val acc':>9}"
        f"   (medians of {args.repeats})"
    )
    for name, (fit_s, sps, steady, fixed_s, cpu_s, acc) in rows.items():
        print(f"{name:<12}{fit_s:>9.2f}{sps:>11.1f}{steady:>10.1f}{fixed_s:>9.2f}{cpu_s:>8.2f}{acc:>9.4f}")
    (_, sps_l, steady_l, _, cpu_l, acc_l), (_, sps_h, steady_h, _, cpu_h, acc_h) = rows.values()
    paired = median([h.fit_s / lt.fit_s for lt, h in zip(results["Lightning"], results["HF Trainer"], strict=True)])
    print(
        f"Lightning / HF: steady-state samples/s {steady_l / steady_h:.3f}, CPU-time throughput {cpu_h / cpu_l:.3f}, "
        f"median of per-repeat fit-throughput ratios {paired:.3f}"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}  (this machine is shared; high load = noisy)")
    key = "lightning_vs_hf_defaults_throughput" if args.hf_defaults else "lightning_vs_hf_throughput"
    print(f"{key}={sps_l / sps_h:.3f} acc_diff_points={abs(acc_l - acc_h) * 100:.2f}")


if __name__ == "__main__":
    main()
