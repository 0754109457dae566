"""What the benchmark scripts share: argument checking, device synchronization, interleaved timing and a sampler
whose order is the same whichever framework iterates it."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.data import RandomSampler


def positive(minimum: int):
    """An argparse type: an integer >= ``minimum``, with an error that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small; expected an integer >= {minimum}")
        return value

    return parse


def sized_parser(doc: str, quick: str, smoke: str) -> argparse.ArgumentParser:
    """The benchmarks' command line: the docstring's first line as the description, and ``--quick`` / ``--smoke``
    (a few seconds of work that still runs every check: what the tests use), with this benchmark's help texts, and
    ``--threads`` (torch's CPU threads, for both sides)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help=quick)
    sizes.add_argument(
        "--smoke", action="store_true", help=f"seconds of work that run every check, no timing value: {smoke}"
    )
    parser.add_argument(
        "--threads", type=positive(1), default=None, help="torch.set_num_threads (default: leave torch's setting alone)"
    )
    return parser


def sync(device: torch.device) -> None:
    """Wait for the device's queued work, so a clock read afterwards measures it (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_interleaved(fns: dict, device: torch.device, repeats: int, inner: int, budget_s: float = float("inf")):
    """Median seconds per call for each fn, measured in interleaved rounds (at least 3 rounds; stops early once
    ``budget_s`` is spent, so --quick stays quick on a busy machine). Interleaving gives both sides the same load."""
    times = {name: [] for name in fns}
    start = time.perf_counter()
    for r in range(repeats):
        if r >= 3 and time.perf_counter() - start > budget_s:
            break
        for name, fn in fns.items():
            sync(device)
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            sync(device)
            times[name].append((time.perf_counter() - t0) / inner)
    return {name: statistics.median(ts) for name, ts in times.items()}


class EpochSeededSampler(RandomSampler):
    """Shuffle with a generator re-seeded to ``seed + epoch`` at every epoch, so the order does not depend on how
    often a framework calls ``iter()`` on the DataLoader (with a plain ``generator=``, Lightning's and a loop's
    second epochs came out in different orders). It is also the order accelerate's ``SeedableRandomSampler`` gives
    the HF Trainer; Lightning calls ``set_epoch`` too."""

    def __init__(self, data_source, seed: int):
        super().__init__(data_source, generator=torch.Generator())
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        self.generator.manual_seed(self.seed + self.epoch)
        yield from super().__iter__()
        self.epoch += 1
