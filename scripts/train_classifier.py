"""Fine-tune the course's sentiment classifier from the command line, on one device, several GPUs or several nodes.

``LightningCLI`` over the course's own classes: ``shared.data.SentimentDataModule`` (the data) and
``shared.lightning_modules.SentimentClassifier`` (the model). Every constructor argument of both, and of Lightning's
``Trainer``, is a command-line flag and a YAML key; the defaults are notebook 10's recipe for this profile
(``shared.finetuned.sentiment_recipe``) and the course's classifier (``shared.models.source("classifier")``).
The configs in ``scripts/configs/`` only say which hardware and which strategy:

    python scripts/train_classifier.py fit --config scripts/configs/single_device.yaml
    python scripts/train_classifier.py fit --config scripts/configs/ddp.yaml --trainer.devices 2      # 2 GPUs
    python scripts/train_classifier.py fit --config scripts/configs/fsdp.yaml                         # CUDA only
    python scripts/train_classifier.py fit --config scripts/configs/deepspeed_stage_2.yaml            # CUDA + deepspeed
    python scripts/train_classifier.py fit --config scripts/configs/ddp.yaml --print_config           # show it all

Two nodes with 4 GPUs each: start the same command on both, with torchrun (Lightning reads its environment):

    torchrun --nnodes 2 --nproc_per_node 4 --node_rank 0 --master_addr NODE0 --master_port 29500 \\
        scripts/train_classifier.py fit --config scripts/configs/ddp.yaml --trainer.num_nodes 2 --trainer.devices 4
    # ... and --node_rank 1 on the second node

or with SLURM: ``sbatch scripts/slurm_train_classifier.sh`` (srun starts one process per GPU; Lightning reads
SLURM's variables). The CPU can stand in for GPUs to try it all on a laptop: ``--trainer.accelerator cpu
--trainer.devices 2`` trains with DDP over two processes (gloo instead of NCCL).

At the end every process prints one ``replica`` line: its rank, the step reached and a fingerprint of its weights.
Under DDP and DeepSpeed ZeRO-2 every rank holds a full copy of the weights, so all fingerprints agree; under FSDP
each rank holds only its shard, so they differ.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `shared` from this checkout, also without `pip install -e .`

import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from pytorch_lightning.cli import LightningCLI  # noqa: E402

from shared.data import SentimentDataModule  # noqa: E402
from shared.lightning_modules import SentimentClassifier  # noqa: E402

CONFIGS = Path(__file__).resolve().parent / "configs"
CUDA_ONLY = {"fsdp": "FSDP shards parameters, gradients and optimizer state over NCCL", "deepspeed": "DeepSpeed"}


class ReplicaFingerprint(pl.Callback):
    """After ``fit``, every process prints its rank, the step reached, the collective backend and a hash of the
    parameters it holds, so the replicas of a DDP run can be compared (tests do; so can you, in the logs)."""

    def on_fit_end(self, trainer, pl_module):
        digest = hashlib.sha256()
        for name, param in pl_module.named_parameters():  # local: no collective call, safe under any strategy
            digest.update(name.encode())
            digest.update(param.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        backend = torch.distributed.get_backend() if torch.distributed.is_initialized() else "none"
        line = (
            f"replica rank={trainer.global_rank} world={trainer.world_size} node={trainer.node_rank} "
            f"step={trainer.global_step} backend={backend} weights={digest.hexdigest()[:16]}\n"
        )
        sys.stdout.write(line)  # one write, line and newline together: the ranks share this stream
        sys.stdout.flush()


def strategy_name(strategy) -> str:
    """``"fsdp"``, ``"deepspeed"`` or the lower-cased name of any other strategy, from a registry name
    (``"deepspeed_stage_2"``), a ``class_path`` config or a strategy object."""
    if isinstance(strategy, dict) or hasattr(strategy, "class_path"):
        strategy = strategy["class_path"] if isinstance(strategy, dict) else strategy.class_path
    elif not isinstance(strategy, str):
        strategy = type(strategy).__name__
    name = str(strategy).rsplit(".", 1)[-1].lower()
    return next((family for family in CUDA_ONLY if family in name), name)


def preflight(trainer_config) -> list[str]:
    """What stops this configuration on this machine, as sentences (empty: nothing). Checked before anything is
    built, so a CUDA-only setup on a machine without CUDA ends with these sentences instead of a traceback."""
    strategy = strategy_name(trainer_config.get("strategy", "auto"))
    accelerator = trainer_config.get("accelerator", "auto")
    accelerator = str(accelerator if isinstance(accelerator, str) else type(accelerator).__name__).lower()
    cuda = torch.cuda.is_available()  # asks the driver; never imports anything GPU-only
    problems = []
    if strategy in CUDA_ONLY and not cuda:
        problems.append(
            f"strategy {strategy!r} needs CUDA GPUs ({CUDA_ONLY[strategy]}) and this machine has none. "
            f"Run it on a GPU machine, or use {CONFIGS.name}/ddp.yaml with --trainer.accelerator cpu "
            "--trainer.devices 2 to try distributed training on CPU processes"
        )
    if strategy in CUDA_ONLY and "cpu" in accelerator:
        problems.append(f"strategy {strategy!r} cannot run on accelerator 'cpu'; expected 'gpu'")
    if strategy == "deepspeed" and importlib.util.find_spec("deepspeed") is None:
        problems.append(
            "strategy 'deepspeed' needs the deepspeed package, which is not installed: "
            "pip install deepspeed (on a Linux machine with CUDA and a compiler)"
        )
    if accelerator in ("gpu", "cuda") and not cuda and strategy not in CUDA_ONLY:
        problems.append(
            f"accelerator {accelerator!r} needs a CUDA GPU and this machine has none; "
            "expected --trainer.accelerator cpu here"
        )
    return problems


def course_precision(accelerator) -> str:
    """The course's precision for an accelerator (``shared.runtime``): bf16-mixed on Ampere or newer GPUs,
    16-mixed on older ones, 32-true on CPU and MPS; ``COURSE_PRECISION`` overrides it."""
    from shared.runtime import trainer_kwargs

    name = accelerator if isinstance(accelerator, str) else "auto"
    return trainer_kwargs(accelerator=name if name in ("cpu", "mps") else "auto")["precision"]


class CourseCLI(LightningCLI):
    """The course's defaults on top of ``LightningCLI``; see the module docstring."""

    def add_arguments_to_parser(self, parser):
        from shared.finetuned import sentiment_recipe
        from shared.models import source

        recipe = sentiment_recipe()
        parser.link_arguments("model.source", "data.tokenizer")  # the data module loads the model's tokenizer
        parser.set_defaults(
            {
                "model.source": source("classifier"),
                "model.lr": recipe["lr"],
                "model.warmup_ratio": recipe["warmup_ratio"],
                "data.batch_size": recipe["batch_size"],
                "data.max_length": recipe["max_length"],
                "trainer.max_steps": recipe["max_steps"],
                "trainer.val_check_interval": recipe["val_every"],
                "trainer.check_val_every_n_epoch": None,
            }
        )

    def before_instantiate_classes(self):
        config = self.config[self.subcommand] if self.subcommand else self.config
        problems = preflight(config.trainer)
        if problems:
            raise SystemExit("error: " + "\nerror: ".join(problems))
        if config.trainer.get("precision") is None:
            config.trainer.precision = course_precision(config.trainer.get("accelerator", "auto"))


def main(args=None, run: bool = True) -> CourseCLI:
    """Parse ``args`` (default: the command line) and run the subcommand (``fit``, ``validate``, ``test``)."""
    from shared.runtime import headless, quiet_libraries, seed

    quiet_libraries(progress_bars=headless())
    defaults = {
        "logger": {"class_path": "pytorch_lightning.loggers.CSVLogger", "init_args": {"save_dir": "runs/cli"}},
        "default_root_dir": "runs/cli",
        "callbacks": [ReplicaFingerprint()],
        "enable_progress_bar": not headless(),
        "log_every_n_steps": 10,
    }
    return CourseCLI(
        SentimentClassifier,
        SentimentDataModule,
        trainer_defaults=defaults,
        seed_everything_default=seed(),
        auto_configure_optimizers=False,
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
    )


if __name__ == "__main__":
    main()
