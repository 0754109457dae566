"""A callback that keeps what was logged, so a notebook can plot it and assert on it."""

from __future__ import annotations

import pytorch_lightning as pl


class History(pl.Callback):
    """Records logged metrics: ``train`` rows per optimizer step, ``val`` rows per validation run.

    Each row is a dict with ``step`` plus the metric values as floats, e.g. ``history.val[-1]["val_loss"]``.
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

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """``(steps, values)`` of one metric, from whichever list holds it."""
        rows = [r for r in (self.val if key.startswith("val_") else self.train) if key in r]
        if not rows:
            logged = sorted({k for r in self.train + self.val for k in r})
            raise KeyError(f"no logged values for {key!r}; logged keys: {logged}")
        return [r["step"] for r in rows], [r[key] for r in rows]
