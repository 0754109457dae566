"""Checked exercises of lesson 01 (the environment check): the precision rule, and how many optimizer steps a fit
takes on one device or several."""

from __future__ import annotations

import math

from shared.exercises.core import Exercise, Mistake, namespaces
from shared.runtime import precision_for


def _bf16_on_every_gpu(accelerator, capability=None):
    return "32-true" if accelerator in ("cpu", "mps") else "bf16-mixed"


def _volta_counted(accelerator, capability=None):
    if accelerator in ("cpu", "mps"):
        return "32-true"
    return "bf16-mixed" if capability[0] >= 7 else "16-mixed"


def _ampere_excluded(accelerator, capability=None):
    if accelerator in ("cpu", "mps"):
        return "32-true"
    return "bf16-mixed" if capability > (8, 0) else "16-mixed"


def _mixed_on_cpu(accelerator, capability=None):
    if accelerator in ("cpu", "mps"):
        return "16-mixed"
    return "bf16-mixed" if capability >= (8, 0) else "16-mixed"


# what a CPU, a Mac, a P100, a V100, Colab's T4, an A100, an RTX 3090 and an H100 get
_MACHINES = [("cpu", None), ("mps", None), ("gpu", (6, 0)), ("gpu", (7, 0)), ("gpu", (7, 5)), ("gpu", (8, 0))]
_MACHINES += [("gpu", (8, 6)), ("gpu", (9, 0))]


def optimizer_steps(examples, batch_size, epochs, devices=1):
    """Optimizer steps of a fit: each of the ``devices`` processes gets ceil(examples / devices) examples (DDP's
    sampler pads the shards to equal size) and takes one step per batch, the last batch smaller."""
    per_device = math.ceil(examples / devices)
    return epochs * math.ceil(per_device / batch_size)


def _last_batch_dropped(examples, batch_size, epochs, devices=1):
    return epochs * (math.ceil(examples / devices) // batch_size)


def _devices_ignored(examples, batch_size, epochs, devices=1):
    return epochs * math.ceil(examples / batch_size)


def _devices_added_up(examples, batch_size, epochs, devices=1):
    return devices * epochs * math.ceil(math.ceil(examples / devices) / batch_size)


EXERCISES = [
    Exercise(
        key="q1",
        title="the precision rule",
        reference=precision_for,
        cases=lambda: _MACHINES,
        verified="a CPU and a Mac get 32-true, GPUs before compute capability 8.0 (P100, V100, T4) 16-mixed, and "
        "the A100, RTX 3090 and H100 bf16-mixed, as shared.runtime.precision_for decides",
        hints=[
            "Three answers: '32-true' where there is no CUDA GPU ('cpu', 'mps'); on a 'gpu' it depends only on the "
            "compute capability, a tuple such as (7, 5).",
            "Tuples compare element by element: (7, 5) < (8, 0) <= (8, 6). bf16 starts at (8, 0), Ampere, "
            "itself included: capability >= (8, 0).",
        ],
        mistakes=[
            Mistake(
                "bf16_on_every_gpu",
                _bf16_on_every_gpu,
                "every GPU gets bf16-mixed, the T4 (compute capability 7.5) included. "
                "torch.cuda.is_bf16_supported() says yes there, but the T4 only emulates bf16, slowly: GPUs before "
                "Ampere (8.0) get 16-mixed, fp16 with a loss scaler.",
            ),
            Mistake(
                "volta_counted",
                _volta_counted,
                "GPUs of compute capability 7.x (V100, T4) get bf16-mixed: their tensor "
                "cores do fp16, and bf16 arrives with Ampere, 8.0. Compare the whole tuple: capability >= (8, 0).",
            ),
            Mistake(
                "ampere_excluded",
                _ampere_excluded,
                "the A100 (compute capability exactly 8.0) gets 16-mixed: bf16 starts at "
                "Ampere, 8.0 itself included. Use >= (8, 0), not > (8, 0).",
            ),
            Mistake(
                "mixed_on_cpu",
                _mixed_on_cpu,
                "a CPU (or a Mac) gets 16-mixed. Mixed precision pays off on a GPU's tensor "
                "cores; a CPU computes fp16 no faster, often slower, and loses precision: 32-true there.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="optimizer steps on one device or several",
        reference=optimizer_steps,
        cases=lambda: [(512, 32, 10, 1), (500, 32, 10, 1), (512, 32, 10, 2), (500, 32, 3, 2), (100, 16, 2, 3)],
        verified="the step counts of 5 fits, on 1 to 3 devices, with and without a smaller last batch",
        hints=[
            "One device: an epoch is one step per batch, and the last batch may be smaller than batch_size "
            "(a DataLoader keeps it): math.ceil(examples / batch_size) steps.",
            "Several devices: DDP gives each process its own shard of ceil(examples / devices) examples, and the "
            "processes step together, so global_step counts the steps of one process.",
        ],
        mistakes=[
            Mistake(
                "last_batch_dropped",
                _last_batch_dropped,
                "the last, smaller batch is not counted (// rounds down). A DataLoader "
                "keeps it unless drop_last=True: round up with math.ceil.",
            ),
            Mistake(
                "devices_ignored",
                _devices_ignored,
                "every process is given all the examples. Under DDP each of the devices "
                "gets 1/devices of them (DistributedSampler), so each takes fewer steps per epoch, each step "
                "averaging the gradients of all the devices' batches.",
            ),
            Mistake(
                "devices_added_up",
                _devices_added_up,
                "the processes' steps are added up. They step together: one "
                "optimizer step updates the same weights in every process, so global_step counts one process's steps.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
