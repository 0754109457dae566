"""Callbacks the course's trainer uses: what was logged (``History``), a progress bar that cannot flood a browser
(``ProgressBar``), random states that make a resumed fit continue exactly (``RandomState``), and what worker
processes must hand back to the notebook (``WorkerState``)."""

from __future__ import annotations

import os
import random
import time

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import TQDMProgressBar
from pytorch_lightning.utilities import move_data_to_device, rank_zero_warn


class History(pl.Callback):
    """Records logged metrics: ``train`` rows per optimizer step, ``val`` rows per validation run.

    Each row is a dict with ``step`` plus the metric values as floats, e.g. ``history.val[-1]["val_loss"]``.
    The rows are this callback's ``state_dict``, so they come back from ``ddp_notebook`` workers (see
    ``shared.trainer``) and are saved in checkpoints: a resumed run keeps its earlier rows.
    """

    def __init__(self):
        self.train: list[dict] = []
        self.val: list[dict] = []

    @staticmethod
    def _row(trainer, prefix: str) -> dict:
        row = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith(prefix)}
        return {"step": trainer.global_step, **row}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.train.append(self._row(trainer, "train_"))

    def on_validation_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self.val.append(self._row(trainer, "val_"))

    def state_dict(self) -> dict:
        return {"train": self.train, "val": self.val}

    def load_state_dict(self, state_dict: dict) -> None:
        self.train, self.val = list(state_dict["train"]), list(state_dict["val"])

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one metric, from whichever list holds it."""
        rows = [r for r in (self.val if key.startswith("val_") else self.train) if key in r]
        if not rows:
            logged = sorted({k for r in self.train + self.val for k in r})
            raise KeyError(f"no logged values for {key!r}; logged keys: {logged}")
        return [r["step"] for r in rows], [r[key] for r in rows]


class ProgressBar(TQDMProgressBar):
    """Lightning's bar, redrawn at most every ``min_interval`` seconds (and at the end of each loop).

    The stock bar redraws every step: ~900 messages/s to the browser in a fast training cell, above the 1,000/s
    Jupyter drops ("IOPub message rate exceeded") and enough to make a headless harness miss a cell's end.
    """

    def __init__(self, min_interval: float = 0.5):
        super().__init__(refresh_rate=1)
        if not min_interval > 0:
            raise ValueError(f"min_interval={min_interval!r}; expected a positive number of seconds")
        self.min_interval = min_interval
        self._last_draw = float("-inf")

    def _should_update(self, current: int, total) -> bool:  # Lightning asks this before each redraw
        now = time.monotonic()
        if not self.is_enabled or (current != total and now - self._last_draw < self.min_interval):
            return False
        self._last_draw = now
        return True


class RandomState(pl.Callback):
    """Keeps the random number generators' states in every checkpoint and puts them back when a fit resumes from
    one (``fit(..., ckpt_path="last")``).

    Lightning restores the weights, the optimizer, the learning-rate schedule and the loop counters, but not the
    generators that shuffle the data and draw dropout masks, so a resumed run would continue differently from an
    uninterrupted one. Exact for checkpoints taken at the end of an epoch (Lightning's default), on one process or
    several (each rank's generators are saved and each rank gets its own back).

    When: at the start of training, after the sanity check (which draws numbers of its own). By then Lightning has
    already created the first epoch's data-loader iterator, which draws one number (its base seed) from the
    generator; in the uninterrupted run that draw came after the saved state, so it is made again here.
    tests/test_trainer.py checks that a resumed run ends with bit-identical weights.
    """

    def __init__(self):
        self._pending = None

    @staticmethod
    def _state() -> dict:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        return {
            "torch": torch.get_rng_state(),
            "python": random.getstate(),
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        }

    def on_save_checkpoint(self, trainer, pl_module, checkpoint):
        # Every rank draws its own dropout masks, so every rank's generators go into the checkpoint (rank 0 writes
        # it). Lightning calls this hook on all ranks together, so gathering here is safe.
        states = [self._state()]
        if trainer.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            states = [None] * trainer.world_size
            torch.distributed.all_gather_object(states, self._state())
        checkpoint["random_state"] = {"ranks": states}

    def on_load_checkpoint(self, trainer, pl_module, checkpoint):
        self._pending = checkpoint.get("random_state")

    def on_train_start(self, trainer, pl_module):
        if self._pending is None:
            return
        saved, self._pending = self._pending, None
        ranks = saved.get("ranks", [saved])
        if len(ranks) != trainer.world_size:
            rank_zero_warn(
                f"the checkpoint holds the random state of {len(ranks)} process(es), this run has "
                f"{trainer.world_size}: the resumed run continues with other random numbers"
            )
        state = ranks[trainer.global_rank % len(ranks)]
        torch.set_rng_state(state["torch"])
        random.setstate(state["python"])
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        if state["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])
        torch.empty((), dtype=torch.int64).random_()  # the data loader's base-seed draw (see the docstring)


class WorkerState(pl.Callback):
    """Makes a call that ``ddp_notebook``/``ddp_spawn`` runs in worker processes behave like one in the notebook.

    Going in: each worker starts from the notebook's random state at the time of the call (Lightning re-seeds
    workers with the global seed, so ``torch.manual_seed(1)`` before ``predict`` would otherwise be lost).
    Coming back: what the notebook reads after the call: every callback's state (best checkpoint path and score,
    early stopping, ``History``), the fit loop's counters (``trainer.global_step``) and predictions. Rank 0
    writes them to ``trainer.worker_file``; ``shared.trainer.Trainer`` restores them. (Lightning itself brings
    back only the weights and ``callback_metrics``.)
    """

    def __init__(self):
        self.predictions: list = []

    def _in_worker(self, trainer) -> bool:
        parent = getattr(trainer, "parent_pid", None)
        return parent is not None and os.getpid() != parent and trainer.is_global_zero

    def setup(self, trainer, pl_module, stage):
        parent = getattr(trainer, "parent_pid", None)
        if parent is not None and os.getpid() != parent and trainer.parent_rng is not None:
            torch_seed, torch_state, python_state = trainer.parent_rng
            torch.manual_seed(torch_seed)  # also seeds CUDA, as the notebook's manual_seed would have
            torch.set_rng_state(torch_state)
            random.setstate(python_state)

    def on_predict_start(self, trainer, pl_module):
        self.predictions = []

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if self._in_worker(trainer):
            self.predictions.append(move_data_to_device(outputs, "cpu"))

    def teardown(self, trainer, pl_module, stage):
        if not self._in_worker(trainer):
            return
        callbacks = {cb.state_key: cb.state_dict() for cb in trainer.callbacks if cb is not self and cb.state_dict()}
        state = {"callbacks": callbacks, "predictions": self.predictions if stage == "predict" else None}
        if stage == "fit":
            state["fit_loop"] = trainer.fit_loop.state_dict()
        torch.save(state, trainer.worker_file)
