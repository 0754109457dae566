"""A callback that keeps what was logged, so a notebook can plot it and assert on it."""

from __future__ import annotations

import json
import os
import tempfile

import pytorch_lightning as pl


class History(pl.Callback):
    """Records logged metrics: ``train`` rows per optimizer step, ``val`` rows per validation run.

    Each row is a dict with ``step`` plus the metric values as floats, e.g. ``history.val[-1]["val_loss"]``.
    Under ``ddp_notebook`` training runs in forked processes; rank 0 saves the rows to a file at the end of
    training and this object (in the notebook's process) reads them back, so plots work on several GPUs too.
    """

    def __init__(self):
        self._rows: dict[str, list[dict]] = {"train": [], "val": []}
        fd, self._file = tempfile.mkstemp(prefix="history-", suffix=".json")
        os.close(fd)

    @property
    def train(self) -> list[dict]:
        return self._sync()["train"]

    @property
    def val(self) -> list[dict]:
        return self._sync()["val"]

    def _sync(self) -> dict[str, list[dict]]:
        if not any(self._rows.values()) and os.path.getsize(self._file) > 0:
            with open(self._file) as fh:
                self._rows = json.load(fh)
        return self._rows

    @staticmethod
    def _row(trainer, prefix: str) -> dict:
        row = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith(prefix)}
        return {"step": trainer.global_step, **row}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._rows["train"].append(self._row(trainer, "train_"))

    def on_validation_end(self, trainer, pl_module):
        if not trainer.sanity_checking:
            self._rows["val"].append(self._row(trainer, "val_"))

    def on_train_end(self, trainer, pl_module):
        if trainer.world_size > 1 and trainer.is_global_zero:
            with open(self._file, "w") as fh:
                json.dump(self._rows, fh)

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one metric, from whichever list holds it."""
        rows = [r for r in (self.val if key.startswith("val_") else self.train) if key in r]
        if not rows:
            logged = sorted({k for r in self.train + self.val for k in r})
            raise KeyError(f"no logged values for {key!r}; logged keys: {logged}")
        return [r["step"] for r in rows], [r[key] for r in rows]
