"""The course's ``Trainer``: Lightning's, with the course's hardware settings, a throttled progress bar and results
that come back from worker processes.

``make_trainer(...)`` is the one way notebooks build a trainer. On a machine with several GPUs a notebook trains
with ``ddp_notebook``: Lightning forks one worker per GPU and the notebook's own process waits. Lightning then
brings back the trained weights and ``trainer.callback_metrics``; ``Trainer`` below also brings back what a
notebook reads next: the best checkpoint's path and score, early stopping's state, ``History``, ``global_step``
and predictions (see ``shared.callbacks.WorkerState``).
"""

from __future__ import annotations

import os
import random
import tempfile

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger

from shared.callbacks import ProgressBar, RandomState, WorkerState
from shared.runtime import headless, profile, trainer_kwargs

HARDWARE = ("accelerator", "devices", "strategy", "precision")


class Trainer(pl.Trainer):
    """``pl.Trainer`` whose ``fit``/``validate``/``test``/``predict`` return the same state under ``ddp_notebook``
    and ``ddp_spawn`` as in a single process."""

    def __init__(self, *args, **kwargs):
        callbacks = kwargs.get("callbacks") or []
        callbacks = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
        kwargs["callbacks"] = [*callbacks, RandomState(), WorkerState()]
        super().__init__(*args, **kwargs)
        self.parent_pid, self.worker_file, self.parent_rng = None, None, None

    def fit(self, *args, **kwargs):
        return self._launch(super().fit, args, kwargs)

    def validate(self, *args, **kwargs):
        return self._launch(super().validate, args, kwargs)

    def test(self, *args, **kwargs):
        return self._launch(super().test, args, kwargs)

    def predict(self, *args, **kwargs):
        if self.world_size > 1:
            raise ValueError(
                f"predict on {self.world_size} processes would give each one a shard of the data; "
                "expected a single-device trainer: make_trainer(single_device=True)"
            )
        return self._launch(super().predict, args, kwargs)

    def _launch(self, method, args, kwargs):
        for logger in self.loggers:
            logger.version  # noqa: B018  (decide the log folder here, so workers and this process agree)
        fd, self.worker_file = tempfile.mkstemp(prefix="course-worker-", suffix=".pt")
        os.close(fd)
        self.parent_pid = os.getpid()
        self.parent_rng = (torch.initial_seed(), torch.get_rng_state(), random.getstate())
        try:
            result = method(*args, **kwargs)
            if os.path.getsize(self.worker_file) > 0:  # the call ran in worker processes: take back their state
                state = torch.load(self.worker_file, weights_only=True)
                self._restore(state)
                if state["predictions"] is not None:
                    result = state["predictions"]
            return result
        finally:
            os.remove(self.worker_file)
            self.parent_pid, self.worker_file, self.parent_rng = None, None, None

    def _restore(self, state: dict) -> None:
        for callback in self.callbacks:
            saved = state["callbacks"].get(callback.state_key)
            if saved is None:
                continue
            if getattr(callback, "dirpath", "absent") is None:  # ModelCheckpoint reloads only for the same folder
                callback.dirpath = saved.get("dirpath")
            callback.load_state_dict(saved)
        if "fit_loop" in state:
            self.fit_loop.load_state_dict(state["fit_loop"])


def make_trainer(single_device: bool = False, **kwargs) -> Trainer:
    """A ``Trainer`` with the course's hardware settings (``shared.runtime.trainer_kwargs``); your keyword
    arguments win.

    ``single_device=True``: one device, every batch seen once. Use it for ``predict``, ``test`` and ``validate``,
    which on several processes would each see only a shard. Under ``ddp_notebook`` it still runs in one forked
    worker, so the notebook's own process never initializes CUDA (a later ``ddp_notebook`` fit could not fork).

    Defaults: a throttled progress bar (none when headless), model summary only in the full profile, CSV logs
    under ``runs/`` (``COURSE_RUNS_DIR``) every 10 steps, and, unless you pass your own ``ModelCheckpoint`` or
    ``enable_checkpointing=False``, the latest checkpoint also reachable as ``last.ckpt`` (a link, so it costs
    nothing), so an interrupted fit resumes with ``trainer.fit(..., ckpt_path="last")``.
    """
    hardware = {k: kwargs.pop(k) for k in list(kwargs) if k in HARDWARE}
    settings = trainer_kwargs(**hardware)
    if single_device:
        settings["devices"] = 1
        settings["strategy"] = "ddp_notebook" if settings["strategy"] == "ddp_notebook" else "auto"
    root = os.environ.get("COURSE_RUNS_DIR", "runs")
    settings.update(
        enable_progress_bar=not headless(),
        enable_model_summary=profile().name == "full",
        default_root_dir=root,
        log_every_n_steps=10,
    )
    settings.update(kwargs)
    if settings.get("logger", True) is True:
        settings["logger"] = CSVLogger(settings["default_root_dir"])
    callbacks = settings.get("callbacks") or []
    callbacks = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
    if settings["enable_progress_bar"] and not any(isinstance(c, pl.callbacks.ProgressBar) for c in callbacks):
        callbacks.append(ProgressBar())
    if settings.get("enable_checkpointing", True) and not any(isinstance(c, ModelCheckpoint) for c in callbacks):
        callbacks.append(ModelCheckpoint(save_last="link"))  # what Lightning saves anyway, plus last.ckpt
    settings["callbacks"] = callbacks
    return Trainer(**settings)
