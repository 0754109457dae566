"""Measuring what efficient-training techniques buy, exactly, inside Lightning's own loop (notebook 17).

* ``SavedTensors``: the bytes autograd keeps for the backward pass while it is active, counted exactly through
  ``torch.autograd.graph.saved_tensors_hooks``: what mixed precision and activation checkpointing shrink.
* ``StepMeter``: a callback that records, for every training batch, its seconds, those saved bytes and the loss.
* ``GradientSnapshot``: a callback that keeps the gradients of the first optimizer step, as the optimizer gets
  them (after gradient accumulation, before the update).
* ``gradient_gap``: how far two such snapshots are apart.
* ``release_memory``: free what finished fits left behind, between measurements.
* ``model_state_bytes``: per-device memory of weights, gradients and Adam state under each distributed strategy.

The callbacks keep their records in ``state_dict``, so they come back from ``ddp_notebook`` workers like
``History`` does (``shared.trainer``).
"""

from __future__ import annotations

import statistics
import time

import pytorch_lightning as pl
import torch

STRATEGIES = ("ddp_notebook", "ddp", "deepspeed_stage_2", "fsdp")
_VIEWS = {
    "TBackward0",
    "TransposeBackward0",
    "PermuteBackward0",
    "ViewBackward0",
    "UnsafeViewBackward0",
    "ExpandBackward0",
}


class SavedTensors:
    """``with SavedTensors(exclude=model.parameters()) as saved: loss = model(x)...`` then ``saved.bytes``.

    Every tensor an operation keeps for its backward pass goes through the pack hook of
    ``torch.autograd.graph.saved_tensors_hooks``. Each distinct storage counts once, with its full size (a tensor
    kept by two operations, or two views of one tensor, are one allocation); storages in ``exclude`` (the
    parameters, which autograd keeps by reference and which exist anyway) do not count. Low-precision copies of
    those parameters (what autocast makes of a weight, ``ToCopyBackward`` straight from the parameter) are
    counted apart, in ``copy_bytes``: they exist once per forward pass whatever the batch size, while ``bytes``
    (the activations) grows with it. The tensors themselves are left untouched. Saved tensors stay alive until
    the backward pass, so no address is reused meanwhile.
    """

    def __init__(self, exclude=()):
        self._exclude = {t.untyped_storage().data_ptr() for t in exclude}
        self.storages: dict[int, int] = {}
        self.copies: dict[int, int] = {}
        self._hooks = None

    def _is_parameter_copy(self, tensor: torch.Tensor) -> bool:
        """A cast (``ToCopyBackward0``) of an excluded leaf, possibly seen through views (``weight.t()``)."""
        fn, cast = tensor.grad_fn, False
        while fn is not None and fn.name() in _VIEWS | {"ToCopyBackward0"} and len(fn.next_functions) == 1:
            cast = cast or fn.name() == "ToCopyBackward0"
            fn = fn.next_functions[0][0]
        source = getattr(fn, "variable", None)  # AccumulateGrad holds the leaf it feeds
        return cast and source is not None and source.untyped_storage().data_ptr() in self._exclude

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in self._exclude:
            kept = self.copies if self._is_parameter_copy(tensor) else self.storages
            kept[storage.data_ptr()] = storage.nbytes()
        return tensor

    def __enter__(self) -> SavedTensors:
        if self._hooks is not None:
            raise ValueError("this SavedTensors is already counting; expected one `with` block at a time")
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        hooks, self._hooks = self._hooks, None
        if hooks is not None:
            hooks.__exit__(*exc)

    @property
    def bytes(self) -> int:
        return sum(self.storages.values())

    @property
    def copy_bytes(self) -> int:
        return sum(self.copies.values())


class _KeptAfterFit(pl.Callback):
    """A callback whose records are read after the fit. Lightning lends every callback the module's ``log`` and
    ``log_dict`` (bound methods) when a fit starts; dropping them at teardown keeps a callback that outlives its fit
    from keeping the whole module, its optimizer state and its trainer alive too."""

    def teardown(self, trainer, pl_module, stage):
        for name in ("log", "log_dict"):
            self.__dict__.pop(name, None)


class StepMeter(_KeptAfterFit):
    """Per training batch: ``seconds`` (forward, backward and optimizer step), ``saved_bytes`` (the activations
    the forward pass kept for backward, ``SavedTensors.bytes``), ``copy_bytes`` (low-precision copies of the
    parameters it kept, ``SavedTensors.copy_bytes``) and ``loss``, as rows in ``meter.rows``.

    ``saved_bytes`` is counted from ``on_train_batch_start`` to ``on_before_backward``: the whole forward pass,
    under whatever precision and checkpointing the module and trainer use.
    """

    def __init__(self):
        self.rows: list[dict] = []
        self._saved, self._start = None, None

    @staticmethod
    def _sync(pl_module) -> None:
        if pl_module.device.type == "cuda":  # CUDA runs asynchronously: wait for it before reading the clock
            torch.cuda.synchronize(pl_module.device)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._sync(pl_module)
        self._saved = SavedTensors(exclude=pl_module.parameters()).__enter__()
        self._start = time.perf_counter()

    def on_before_backward(self, trainer, pl_module, loss):
        if self._saved is not None:
            self._saved.__exit__(None, None, None)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._sync(pl_module)
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.rows.append(
            {
                "seconds": time.perf_counter() - self._start,
                "saved_bytes": self._saved.bytes,
                "copy_bytes": self._saved.copy_bytes,
                "loss": float(loss),
            }
        )
        self._saved = None

    def on_exception(self, trainer, pl_module, exception):
        if self._saved is not None:
            self._saved.__exit__(None, None, None)

    def median(self, key: str, skip: int = 1) -> float:
        """The median of one column over the rows after the first ``skip`` (the first steps warm up caches)."""
        if not self.rows or key not in self.rows[0]:
            raise ValueError(f"no {key!r} recorded; expected one of seconds, saved_bytes, copy_bytes, loss after a fit")
        values = [row[key] for row in self.rows[skip:]] or [self.rows[-1][key]]
        return statistics.median(values)

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = list(state_dict["rows"])


class GradientSnapshot(_KeptAfterFit):
    """The gradients of the first optimizer step whose gradients are all finite, by parameter name (on the CPU, in
    float32): what the optimizer receives, after Lightning has accumulated and (under 16-mixed) unscaled them.

    Under ``16-mixed`` the gradient scaler starts with a large scale, and a first step whose float16 gradients
    overflow (inf) is skipped: the weights do not change, and the next step on the same batch, at a lower scale,
    gives the gradient we want. ``stop=True`` ends the fit once the gradients are kept, so a fit of a few steps at
    most costs one step where none is skipped."""

    def __init__(self, stop: bool = False):
        self.grads: dict[str, torch.Tensor] = {}
        self.stop = stop
        self.skipped = 0  # steps whose gradients were not finite

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        if self.grads:
            return
        grads = {
            name: p.grad.detach().float().cpu().clone()
            for name, p in pl_module.named_parameters()
            if p.grad is not None
        }
        if all(bool(g.isfinite().all()) for g in grads.values()):
            self.grads = grads
            trainer.should_stop = trainer.should_stop or self.stop
        else:
            self.skipped += 1

    def state_dict(self) -> dict:
        return {"grads": self.grads, "skipped": self.skipped}

    def load_state_dict(self, state_dict: dict) -> None:
        self.grads, self.skipped = dict(state_dict["grads"]), state_dict.get("skipped", 0)


def release_memory() -> None:
    """Collect finished fits (a Trainer and its module refer to each other, so only the cycle collector frees them)
    and hand the freed memory back to the operating system (glibc's ``malloc_trim``), so that a notebook that trains
    many copies of a model does not keep the memory of every one of them."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows): the memory is reused, not returned
        pass


def gradient_gap(a: dict, b: dict) -> dict:
    """How far two gradient snapshots are apart: ``max_abs`` (largest absolute difference of any entry),
    ``max_rel`` (that, relative to the largest gradient entry in ``b``) and ``cosine`` (of the flattened
    gradients; 1.0 means the same direction)."""
    if not a or set(a) != set(b):
        raise ValueError(
            f"expected two snapshots of the same parameters; got {len(a)} and {len(b)} names, "
            f"{len(set(a) ^ set(b))} not in both"
        )
    max_abs, max_b, dot, norm_a, norm_b = 0.0, 0.0, 0.0, 0.0, 0.0
    for name in sorted(a):  # one parameter at a time: no copy of the whole model's gradients
        x, y = a[name].double(), b[name].double()
        max_abs = max(max_abs, (x - y).abs().max().item())
        max_b = max(max_b, y.abs().max().item())
        dot += (x * y).sum().item()
        norm_a += (x * x).sum().item()
        norm_b += (y * y).sum().item()
    return {
        "max_abs": max_abs,
        "max_rel": max_abs / max(max_b, 1e-30),
        "cosine": dot / max((norm_a * norm_b) ** 0.5, 1e-30),
    }


def model_state_bytes(n_params: int, strategy: str, devices: int) -> dict:
    """Bytes per device for the model state of fp32 training with Adam: weights (4 per parameter), gradients (4)
    and Adam's two moments (8), before activations. ``ddp``/``ddp_notebook`` keep everything on every device;
    ``deepspeed_stage_2`` (ZeRO-2) shards gradients and optimizer state over the devices; ``fsdp`` (full
    sharding, ZeRO-3) shards all three. (Mixed precision adds a 2-byte copy of the weights for compute.)"""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r}; expected one of: {', '.join(STRATEGIES)}")
    if not isinstance(n_params, int) or n_params < 1 or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"n_params={n_params!r}, devices={devices!r}; expected positive integers")
    weights, grads, adam = 4 * n_params, 4 * n_params, 8 * n_params
    if strategy == "deepspeed_stage_2":
        grads, adam = grads / devices, adam / devices
    elif strategy == "fsdp":
        weights, grads, adam = weights / devices, grads / devices, adam / devices
    return {"weights": weights, "grads": grads, "adam": adam, "total": weights + grads + adam}
