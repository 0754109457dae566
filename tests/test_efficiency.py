"""shared.efficiency.measure: exact saved-tensor bytes (hand-counted), the step and gradient callbacks inside a real
Lightning fit, gradient accumulation's equivalence, per-device model-state arithmetic, input checks."""

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from shared.efficiency.measure import (
    GradientSnapshot,
    SavedTensors,
    StepMeter,
    gradient_gap,
    model_state_bytes,
)
from shared.models import disable_dropout


def test_saved_tensors_counts_each_storage_once_and_skips_excluded():
    a = torch.randn(10, requires_grad=True)
    b = torch.randn(10)
    with SavedTensors() as saved:
        (a * b).sum()  # mul keeps b (for a's gradient): 10 floats
        (a * b[:]).sum()  # a view of the same storage: no new bytes
        a.exp()  # exp keeps its result: 10 new floats
    assert saved.bytes == 2 * 10 * 4 and len(saved.storages) == 2

    linear = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with SavedTensors(exclude=linear.parameters()) as saved:
        linear(x)  # keeps its input x (for the weight's gradient); the weight itself is excluded
    assert saved.bytes == 2 * 4 * 4
    with SavedTensors() as saved:
        linear(x).sum()
    assert saved.bytes == 2 * 4 * 4  # the weight is not saved when x needs no gradient: only x


def test_saved_tensors_sees_bf16_autocast_and_refuses_nesting():
    linear = torch.nn.Linear(64, 64)
    x = torch.randn(8, 64)
    with SavedTensors(exclude=linear.parameters()) as fp32:
        linear(x)
    with SavedTensors(exclude=linear.parameters()) as bf16, torch.autocast("cpu", dtype=torch.bfloat16):
        linear(x)
    assert fp32.bytes == 8 * 64 * 4 and fp32.copy_bytes == 0
    assert bf16.bytes == 8 * 64 * 2  # the input, cast to bf16 by autocast: half the bytes
    assert bf16.copy_bytes == 0  # x needs no gradient, so the weight is not needed for backward
    hidden = torch.randn(8, 64, requires_grad=True)  # as inside a network: the input's gradient needs the weight
    with SavedTensors(exclude=linear.parameters()) as fp32, torch.autocast("cpu", dtype=torch.bfloat16):
        linear(hidden)
    assert fp32.bytes == 8 * 64 * 2  # the input's bf16 copy is an activation (hidden is no excluded tensor)
    assert fp32.copy_bytes == 64 * 64 * 2  # the weight's bf16 copy: a copy of a parameter, counted apart
    with SavedTensors() as nothing_excluded, torch.autocast("cpu", dtype=torch.bfloat16):
        linear(hidden)
    assert nothing_excluded.copy_bytes == 0 and nothing_excluded.bytes == 8 * 64 * 2 + 64 * 64 * 2
    meter = SavedTensors()
    with meter, pytest.raises(ValueError, match="already counting"):
        meter.__enter__()


class _Line(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 1, bias=False)
        torch.nn.init.zeros_(self.linear.weight)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.linear(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(batch_size, accumulate, callbacks, x, y, steps=1, module=None):
    trainer = pl.Trainer(
        max_steps=steps,
        accumulate_grad_batches=accumulate,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
    )
    trainer.fit(module or _Line(), DataLoader(TensorDataset(x, y), batch_size=batch_size))
    return trainer


def test_callbacks_inside_a_fit_match_hand_computed_values():
    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    meter, grads = StepMeter(), GradientSnapshot()
    _fit(4, 1, [meter, grads], x, y, steps=2)
    assert len(meter.rows) == 2
    # linear keeps the batch's x (4 x 3 floats); mse_loss keeps the prediction and the target (4 floats each)
    assert meter.rows[0]["saved_bytes"] == 4 * 3 * 4 + 2 * 4 * 4
    assert meter.rows[0]["loss"] == pytest.approx(y[:4].pow(2).mean().item())  # zero weights predict 0
    assert meter.median("seconds") > 0 and meter.median("loss", skip=0) > 0
    expected = (-2 * y[:4] * x[:4]).mean(0, keepdim=True)  # d/dw mean((xw - y)^2) at w = 0
    assert torch.allclose(grads.grads["linear.weight"], expected, atol=1e-6)
    restored = StepMeter()
    restored.load_state_dict(meter.state_dict())
    assert restored.rows == meter.rows
    with pytest.raises(ValueError, match="no 'memory' recorded"):
        meter.median("memory")


def test_gradient_accumulation_gives_the_gradient_of_the_whole_batch():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    whole, accumulated = GradientSnapshot(), GradientSnapshot()
    _fit(32, 1, [whole], x, y)
    _fit(8, 4, [accumulated], x, y)
    gap = gradient_gap(accumulated.grads, whole.grads)
    assert gap["max_abs"] < 1e-6 and gap["cosine"] == pytest.approx(1.0)
    not_divided = {k: 4 * v for k, v in accumulated.grads.items()}  # had Lightning not divided each loss by 4
    assert gradient_gap(not_divided, whole.grads)["max_rel"] > 1


class _Overflows(pl.Callback):
    """The first optimizer step's gradients set to ``value``: inf, as a float16 overflow under 16-mixed makes them
    (before the snapshot), then 0, so that the step changes nothing, as the gradient scaler's skip does (after)."""

    def __init__(self, value):
        self.value = value

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        if trainer.global_step == 0:
            for p in pl_module.parameters():
                p.grad.fill_(self.value)


def test_a_snapshot_skips_steps_whose_gradients_overflowed_and_can_stop_the_fit():
    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    meter, grads = StepMeter(), GradientSnapshot(stop=True)
    _fit(8, 1, [_Overflows(float("inf")), grads, _Overflows(0.0), meter], x, y, steps=4)
    assert grads.skipped == 1 and all(g.isfinite().all() for g in grads.grads.values())
    assert len(meter.rows) == 2, "stopped after the first finite step"


def test_gradient_gap_values_and_checks():
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.0])}
    b = {"w": torch.tensor([1.0, 2.5]), "b": torch.tensor([0.0])}
    gap = gradient_gap(a, b)
    assert gap["max_abs"] == pytest.approx(0.5) and gap["max_rel"] == pytest.approx(0.2)
    assert gap["cosine"] == pytest.approx((1 + 5) / (5**0.5 * 7.25**0.5))
    with pytest.raises(ValueError, match="same parameters"):
        gradient_gap(a, {"w": b["w"]})


def test_disable_dropout():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5), torch.nn.Dropout(0.1))
    assert disable_dropout(model) is model
    assert all(m.p == 0 for m in model.modules() if isinstance(m, torch.nn.Dropout))
    x = torch.randn(4, 2)
    assert model.training and torch.equal(model(x), model(x))


def test_model_state_bytes_per_strategy():
    assert model_state_bytes(100, "ddp", 4) == {"weights": 400, "grads": 400, "adam": 800, "total": 1600}
    assert model_state_bytes(100, "ddp_notebook", 4)["total"] == 1600
    assert model_state_bytes(100, "deepspeed_stage_2", 4) == {"weights": 400, "grads": 100, "adam": 200, "total": 700}
    assert model_state_bytes(100, "fsdp", 4)["total"] == 400
    with pytest.raises(ValueError, match="expected one of: ddp_notebook, ddp"):
        model_state_bytes(100, "zero3", 4)
    with pytest.raises(ValueError, match="positive integers"):
        model_state_bytes(100, "ddp", 0)


def test_callbacks_kept_after_a_fit_do_not_keep_the_module_alive():
    import gc
    import weakref

    x, y = torch.randn(8, 3), torch.randn(8, 1)
    meter, grads = StepMeter(), GradientSnapshot()
    module = _Line()
    alive = weakref.ref(module)
    trainer = _fit(8, 1, [meter, grads], x, y, module=module)
    del trainer, module
    gc.collect()
    assert alive() is None and meter.rows and grads.grads, "the records stay, the module goes"
