"""shared.trainer / shared.course: make_trainer's settings, the single-device rule, progress bars, the run card.
(Results coming back from ddp_notebook workers are checked in tests/notebooks/ddp_two_cpu_processes.ipynb.)"""

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from shared import course, runtime
from shared.callbacks import ProgressBar, WorkerState
from shared.trainer import Trainer, make_trainer
from tests.test_runtime import clean_env, fake_hardware  # noqa: F401  (clean_env: autouse fixture)


@pytest.fixture(autouse=True)
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path))


def test_make_trainer_uses_course_settings(monkeypatch, tmp_path):
    fake_hardware(monkeypatch)
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    trainer = make_trainer(max_steps=3, precision="bf16-mixed")
    assert isinstance(trainer, Trainer) and trainer.max_steps == 3
    assert trainer.precision == "bf16-mixed"
    assert trainer.progress_bar_callback is None  # headless: no bar
    assert trainer.default_root_dir == str(tmp_path)
    assert sum(isinstance(c, WorkerState) for c in trainer.callbacks) == 1


def test_interactive_runs_get_the_throttled_bar_even_under_ci(monkeypatch):
    fake_hardware(monkeypatch)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("COURSE_HEADLESS", raising=False)
    assert isinstance(make_trainer(logger=False).progress_bar_callback, ProgressBar)
    assert make_trainer(logger=False, enable_progress_bar=False).progress_bar_callback is None


@pytest.mark.parametrize(
    "strategy, notebook, single", [("ddp_spawn", False, "auto"), ("ddp_notebook", True, "ddp_notebook")]
)
def test_single_device_trainer_for_predict_and_test(monkeypatch, strategy, notebook, single):
    """Under ddp_notebook a single-device trainer still runs in one forked worker (CUDA stays out of the kernel)."""
    fake_hardware(monkeypatch, notebook=notebook)
    monkeypatch.setenv("COURSE_DEVICES", "2")
    monkeypatch.setenv("COURSE_STRATEGY", strategy)
    assert make_trainer(logger=False).num_devices == 2
    one = make_trainer(single_device=True, logger=False)
    assert one.num_devices == 1 and one.world_size == 1
    assert (type(one.strategy).__name__ == "DDPStrategy") == (single == "ddp_notebook")


def test_logger_version_is_decided_before_the_call(monkeypatch, tmp_path):
    """Workers and the notebook must agree on the log folder: the version is fixed in this process first."""
    fake_hardware(monkeypatch)
    trainer = make_trainer(max_steps=1)
    assert trainer.logger._version is None
    trainer.validate(_Tiny(), _loader())
    assert trainer.logger._version == 0 and trainer.logger.log_dir.endswith("version_0")


def test_run_profile_and_card(monkeypatch):
    fake_hardware(monkeypatch)
    monkeypatch.setenv("COURSE_SEED", "7")
    run = course.Run("tiny", "COURSE_PROFILE", runtime.seed(), runtime.trainer_kwargs())
    assert run.seed == 7 and run.tiny and not course.Run("full", "x", 1, {}).tiny
    card = course.run_card(run, models=["encoder"], data=["sentiment"])
    for needle in (
        "profile   tiny",
        "seed      7",
        "accelerator=cpu devices=1 strategy=auto precision=32-true",
        "all-MiniLM-L6-v2",
        "sentiment: train 2000 / validation 400 / test 400",
        "torch 2.",
    ):
        assert needle in card, needle


def _loader():
    x = torch.ones(4, 1)
    return DataLoader(TensorDataset(x, x), batch_size=2)


class _Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", (self.layer(batch[0]) - batch[1]).pow(2).mean())


def test_rehearsal_flag_is_checked(monkeypatch):
    fake_hardware(monkeypatch)
    monkeypatch.setenv("COURSE_REHEARSAL", "maybe")
    with pytest.raises(ValueError, match="COURSE_REHEARSAL='maybe' is not valid"):
        runtime.rehearsal()
    monkeypatch.setenv("COURSE_REHEARSAL", "1")  # with the tiny profile (this module's fixture): a mistake
    with pytest.raises(ValueError, match="expected COURSE_PROFILE=full with it"):
        course.start()


class _Noisy(pl.LightningModule):
    """Dropout and shuffled batches: a resumed run matches an uninterrupted one only if the RNGs come back too."""

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 1)
        )

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


class _StopAfter(pl.Callback):
    def __init__(self, epochs):
        self.epochs = epochs

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch + 1 == self.epochs:
            trainer.should_stop = True  # as if the session were cut off here


def _fit(tmp_path, name, stop=None, resume=False, random_state=True):
    pl.seed_everything(0, verbose=False)
    x = torch.randn(64, 4)
    loader = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8, shuffle=True)
    model = _Noisy()
    trainer = make_trainer(
        max_epochs=4, logger=False, default_root_dir=str(tmp_path / name), callbacks=[_StopAfter(stop)] if stop else []
    )
    if not random_state:
        trainer.callbacks = [c for c in trainer.callbacks if type(c).__name__ != "RandomState"]
    trainer.fit(model, loader, ckpt_path="last" if resume else None)
    return model, trainer


@pytest.mark.filterwarnings("ignore:Checkpoint directory .* exists and is not empty")
def test_an_interrupted_fit_resumes_exactly(monkeypatch, tmp_path):
    fake_hardware(monkeypatch)
    whole, _ = _fit(tmp_path, "whole")
    _, cut = _fit(tmp_path, "cut", stop=2)
    assert cut.current_epoch == 2 and (tmp_path / "cut" / "checkpoints" / "last.ckpt").exists()
    resumed, trainer = _fit(tmp_path, "cut", resume=True)
    assert trainer.current_epoch == 4 and trainer.global_step == 32
    for a, b in zip(whole.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b), "the resumed run must end with exactly the uninterrupted run's weights"


@pytest.mark.filterwarnings("ignore:Checkpoint directory .* exists and is not empty")
def test_without_the_random_state_the_resumed_run_drifts(monkeypatch, tmp_path):
    """The control: Lightning alone restores weights and optimizer, not the RNGs (dropout, shuffling)."""
    fake_hardware(monkeypatch)
    whole, _ = _fit(tmp_path, "whole")
    _fit(tmp_path, "cut", stop=2, random_state=False)
    resumed, _ = _fit(tmp_path, "cut", resume=True, random_state=False)
    assert not all(torch.equal(a, b) for a, b in zip(whole.parameters(), resumed.parameters(), strict=True))
