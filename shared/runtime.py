"""Runtime selection, the bottom of the package: which profile, which seed, which hardware settings for Lightning,
and whether this is a headless run. Nothing here imports another ``shared`` module.

Profiles (``COURSE_PROFILE``):
  * ``full``: real checkpoints from the Hugging Face Hub and real data (IMDB subsets).
  * ``tiny``: offline and fast: small models and committed data loaded through the same calls.
  * ``auto`` (default): ``tiny`` when ``CI`` is set or the Hub cannot be reached, otherwise ``full``.

Hardware (``trainer_kwargs``): chosen from what torch sees, overridable with ``COURSE_ACCELERATOR``,
``COURSE_DEVICES``, ``COURSE_STRATEGY`` and ``COURSE_PRECISION``.

Headless (``COURSE_HEADLESS=1``): the test harness and ``make course`` say so explicitly; no progress bars then.
Rehearsal (``COURSE_REHEARSAL=1``, ``make test-full``): the full profile's code path offline, with stand-in
checkpoints under the real Hub ids and the tiny profile's sizes.
Whether ``CI`` is set only ever changes the profile choice, never how a run behaves.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import subprocess
import sys
import threading
import warnings
from dataclasses import dataclass
from urllib.parse import urlparse

import torch

PROFILES = ("tiny", "full", "auto")
ACCELERATORS = ("cpu", "gpu", "cuda", "mps", "auto")
STRATEGIES = ("auto", "single_device", "ddp", "ddp_spawn", "ddp_notebook", "fsdp", "deepspeed")
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true", "transformer-engine")
DEFAULT_SEED = 42
HUB_TIMEOUT_S = 1.5

_OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    value = str(value).strip().lower()
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not valid; expected one of: {', '.join(choices)}")
    return value


def in_ci() -> bool:
    """True under continuous integration (the ``CI`` variable is set to anything but empty/0/false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def headless() -> bool:
    """True when the harness runs notebooks unattended (``COURSE_HEADLESS=1``, set by ``make test``/``make course``
    and the test suite): progress bars off. Interactive runs keep a throttled bar."""
    return _flag("COURSE_HEADLESS")


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "0").strip().lower()
    if raw not in ("", "0", "1", "true", "false", "yes", "no"):
        raise ValueError(f"{name}={raw!r} is not valid; expected 1 (on) or 0 (off)")
    return raw in ("1", "true", "yes")


def rehearsal() -> bool:
    """True in the full-profile rehearsal (``COURSE_REHEARSAL=1``): stand-in checkpoints (random weights) under
    the real Hub ids in an offline cache, sizes capped to the tiny profile's. Only sizes (``run.config``) and the
    asserts in cells tagged ``learned`` change; which code runs does not."""
    return _flag("COURSE_REHEARSAL")


def in_notebook() -> bool:
    """True inside Jupyter or an interactive interpreter: the same test Lightning uses to refuse ``ddp``."""
    return hasattr(sys, "ps1") or bool(sys.flags.interactive)


@functools.cache
def hub_reachable(timeout: float = HUB_TIMEOUT_S) -> bool:
    """Can we open a TCP connection to the Hub? Decided once per process, in at most ~``timeout`` seconds.

    The probe runs in a daemon thread so that a slow DNS lookup cannot hold the notebook.
    """
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme != "http" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.25)
    return bool(result and result[0])


@dataclass(frozen=True)
class Profile:
    name: str  # "tiny" or "full"
    reason: str  # why this profile was chosen, for the run card


@functools.cache
def profile() -> Profile:
    """The profile for this process (cached). ``tiny`` also switches the Hugging Face libraries offline."""
    asked = _choice("COURSE_PROFILE", os.environ.get("COURSE_PROFILE", "auto"), PROFILES)
    if asked != "auto":
        chosen = Profile(asked, "COURSE_PROFILE")
    elif in_ci():
        chosen = Profile("tiny", "auto: CI is set")
    elif os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes"):
        chosen = Profile("tiny", "auto: HF_HUB_OFFLINE is set")
    elif not hub_reachable():
        chosen = Profile("tiny", "auto: the Hub is unreachable")
    else:
        chosen = Profile("full", "auto: the Hub is reachable")
    if chosen.name == "tiny":
        go_offline()
    return chosen


def go_offline() -> None:
    """Set the Hugging Face offline switches, also in libraries that were imported before (they read them once)."""
    for name in _OFFLINE_SWITCHES:
        os.environ[name] = "1"
    if "huggingface_hub" in sys.modules:
        sys.modules["huggingface_hub"].constants.HF_HUB_OFFLINE = True
    if "datasets" in sys.modules:
        sys.modules["datasets"].config.HF_HUB_OFFLINE = True
        sys.modules["datasets"].config.HF_DATASETS_OFFLINE = True


def seed() -> int:
    """The course seed: ``COURSE_SEED`` or 42."""
    raw = os.environ.get("COURSE_SEED", str(DEFAULT_SEED))
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"COURSE_SEED={raw!r} is not valid; expected an integer such as 42") from None


def _devices(value) -> int | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1 and n != -1:
        raise ValueError(f"devices={value!r} is not valid; expected a positive integer, -1 (all) or 'auto'")
    return n


def _gpu_count() -> int:
    # device_count() asks NVML and leaves CUDA uninitialized (is_available() would not): ddp_notebook forks the
    # kernel, and forked workers cannot use CUDA once the parent has initialized it.
    return torch.cuda.device_count()


@functools.cache
def gpu_info() -> tuple[str, tuple[int, int]] | None:
    """``(name, compute capability)`` of GPU 0, or None without a GPU.

    With 2+ GPUs the answer comes from a subprocess, so this notebook's CUDA stays uninitialized for ddp_notebook.
    """
    n = _gpu_count()
    if n == 0:
        return None
    if n == 1:
        return torch.cuda.get_device_name(0), tuple(torch.cuda.get_device_capability(0))
    code = "import torch; print(torch.cuda.get_device_name(0)); print(*torch.cuda.get_device_capability(0))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    name, capability = out.stdout.strip().splitlines()[-2:]
    return name, tuple(int(v) for v in capability.split())


def precision_for(accelerator: str, capability: tuple[int, int] | None = None) -> str:
    """The course's precision rule: ``32-true`` on a CPU or Apple's MPS; on a CUDA GPU ``bf16-mixed`` from compute
    capability 8.0 (Ampere) on, else ``16-mixed`` (fp16 with a loss scaler: Colab's T4 is 7.5).
    (torch.cuda.is_bf16_supported() also counts slow emulation, so it says yes on a T4.)"""
    if accelerator in ("cpu", "mps"):
        return "32-true"
    if accelerator not in ("gpu", "cuda") or capability is None:
        raise ValueError(
            f"accelerator={accelerator!r}, capability={capability!r}; expected 'cpu' or 'mps', or 'gpu' with a "
            "compute capability such as (7, 5)"
        )
    return "bf16-mixed" if tuple(capability) >= (8, 0) else "16-mixed"


def _cuda_precision() -> str:
    info = gpu_info()
    return precision_for("gpu", info[1] if info else (0, 0))


def _detected() -> dict:
    """What the hardware suggests, before any override."""
    n_cuda = _gpu_count()
    if n_cuda >= 2:
        strategy = "ddp_notebook" if in_notebook() else "ddp"
        return dict(accelerator="gpu", devices=n_cuda, strategy=strategy, precision=_cuda_precision())
    if n_cuda == 1:
        return dict(accelerator="gpu", devices=1, strategy="auto", precision=_cuda_precision())
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return _single("mps")
    return _single("cpu")


def _single(accelerator: str) -> dict:
    return dict(accelerator=accelerator, devices=1, strategy="auto", precision=precision_for(accelerator))


def trainer_kwargs(**overrides) -> dict:
    """``accelerator``, ``devices``, ``strategy`` and ``precision`` for ``lightning.Trainer``.

    Chosen from the hardware (2+ GPUs: all of them with DDP; 1 GPU; Apple MPS; else CPU), then overridden by
    ``COURSE_ACCELERATOR/DEVICES/STRATEGY/PRECISION`` and finally by keyword arguments. Choosing another
    accelerator (e.g. ``cpu`` on a GPU machine) also resets the other three to that accelerator's defaults.
    Several devices with strategy ``auto`` get ``ddp_notebook`` in Jupyter and ``ddp`` in a script.
    """
    unknown = set(overrides) - {"accelerator", "devices", "strategy", "precision"}
    if unknown:
        raise ValueError(
            f"unknown trainer_kwargs override(s) {sorted(unknown)}; expected accelerator, devices, strategy, precision"
        )
    asked = {}
    for key in ("accelerator", "devices", "strategy", "precision"):
        env = os.environ.get(f"COURSE_{key.upper()}")
        if key in overrides:
            asked[key] = overrides[key]
        elif env:
            asked[key] = env
    chosen = _detected()
    if "accelerator" in asked:
        accelerator = _choice("accelerator", asked["accelerator"], ACCELERATORS)
        if accelerator in ("cpu", "mps") and accelerator != chosen["accelerator"]:
            chosen = _single(accelerator)
        elif accelerator != "auto":
            chosen["accelerator"] = accelerator
    chosen.update({k: v for k, v in asked.items() if k != "accelerator"})
    chosen["devices"] = _devices(chosen["devices"])
    chosen["strategy"] = _choice("strategy", chosen["strategy"], STRATEGIES)
    several = chosen["devices"] == -1 and _gpu_count() > 1 or chosen["devices"] not in (1, -1, "auto")
    if several and chosen["strategy"] == "auto":  # e.g. COURSE_DEVICES=2 on CPU: the same DDP as on 2 GPUs
        chosen["strategy"] = "ddp_notebook" if in_notebook() else "ddp"
    chosen["precision"] = _choice("precision", chosen["precision"], PRECISIONS)
    if chosen["strategy"] == "ddp" and in_notebook():
        raise ValueError("strategy='ddp' cannot run inside Jupyter; expected 'ddp_notebook' there")
    return chosen


def quiet_libraries(tips: bool = True, progress_bars: bool = True) -> None:
    """Silence what drowns small notebooks: Lightning's tips and info lines and Hugging Face warnings
    (``tips=True``), and the Hugging Face progress bars (``progress_bars=True``)."""
    warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*defined a `validation_step` but have no `val_dataloader`.*")
    # transformers 5.23 renamed gradient checkpointing to activation checkpointing; the course keeps the old
    # names, which every transformers it supports (>= 5.6) has
    warnings.filterwarnings(
        "ignore", message=".*`(is_)?gradient_checkpointing(_enable)?` is deprecated.*", category=FutureWarning
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    if tips:
        for name in ("pytorch_lightning.utilities.rank_zero", "lightning_fabric.utilities.rank_zero"):
            logging.getLogger(name).setLevel(logging.WARNING)
        transformers.utils.logging.set_verbosity_error()
        datasets.logging.set_verbosity_error()
    if progress_bars:
        transformers.utils.logging.disable_progress_bar()
        datasets.disable_progress_bars()


def synchronize(device) -> None:
    """Wait until ``device`` has done the work queued on it. CUDA and MPS run asynchronously: a timing that does not
    wait measures only how long it took to queue the work. Nothing to wait for on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def interleaved_seconds(calls: dict, device, repeats: int = 3, warmup: int = 1) -> dict[str, list[float]]:
    """Wall seconds of each call (``{name: function of no arguments}``) on ``device``, ``repeats`` times each.

    The calls take turns (a busy moment of the machine falls on all of them alike), each after ``warmup`` untimed
    calls (first-call costs: memory allocation, kernel selection), and the device is synchronized before and after
    every timed call."""
    import time

    if not calls or not all(callable(f) for f in calls.values()):
        raise ValueError(f"expected a dict of functions to time; got {calls!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats={repeats!r}; expected an integer >= 1")
    for _ in range(warmup):
        for call in calls.values():
            call()
    seconds = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            synchronize(device)
            began = time.perf_counter()
            call()
            synchronize(device)
            seconds[name].append(time.perf_counter() - began)
    return seconds
