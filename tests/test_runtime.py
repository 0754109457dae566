"""shared.runtime: hardware selection table, overrides, profiles, Hub probe, run card."""

import socket
import subprocess
import sys
import threading
import time

import pytest
import torch

from shared import runtime

ENV = (
    "COURSE_ACCELERATOR",
    "COURSE_DEVICES",
    "COURSE_STRATEGY",
    "COURSE_PRECISION",
    "COURSE_PROFILE",
    "COURSE_SEED",
    "CI",
    "HF_HUB_OFFLINE",
)


PROFILE, HUB_REACHABLE = runtime.profile, runtime.hub_reachable


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    PROFILE.cache_clear()
    HUB_REACHABLE.cache_clear()
    yield
    PROFILE.cache_clear()
    HUB_REACHABLE.cache_clear()


def fake_hardware(monkeypatch, gpus=0, bf16=True, mps=False, notebook=False):
    """bf16=True: an Ampere-class GPU (compute capability 8.0); False: a Turing T4 (7.5)."""
    monkeypatch.setattr(runtime, "_gpu_count", lambda: gpus)
    monkeypatch.setattr(runtime, "gpu_info", lambda: ("Fake GPU", (8, 0) if bf16 else (7, 5)) if gpus else None)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(runtime, "in_notebook", lambda: notebook)


@pytest.mark.parametrize(
    "gpus, bf16, mps, notebook, expected",
    [
        (4, True, False, True, ("gpu", 4, "ddp_notebook", "bf16-mixed")),
        (2, True, False, False, ("gpu", 2, "ddp", "bf16-mixed")),
        (2, False, False, True, ("gpu", 2, "ddp_notebook", "16-mixed")),
        (1, True, False, True, ("gpu", 1, "auto", "bf16-mixed")),
        (1, False, False, False, ("gpu", 1, "auto", "16-mixed")),  # Colab's T4
        (0, False, True, True, ("mps", 1, "auto", "32-true")),
        (0, False, False, True, ("cpu", 1, "auto", "32-true")),
    ],
)
def test_selection_table(monkeypatch, gpus, bf16, mps, notebook, expected):
    fake_hardware(monkeypatch, gpus, bf16, mps, notebook)
    got = runtime.trainer_kwargs()
    assert (got["accelerator"], got["devices"], got["strategy"], got["precision"]) == expected
    assert set(got) == {"accelerator", "devices", "strategy", "precision"}


def test_gpu_info_with_several_gpus_leaves_cuda_uninitialized(monkeypatch):
    """ddp_notebook forks the kernel: asking the GPU's capability in-process would break the forked workers."""
    runtime.gpu_info.cache_clear()
    monkeypatch.setattr(runtime, "_gpu_count", lambda: 2)

    def in_process(*args, **kwargs):
        raise AssertionError("CUDA must not be initialized in the notebook process")

    monkeypatch.setattr(torch.cuda, "get_device_capability", in_process)
    monkeypatch.setattr(torch.cuda, "get_device_name", in_process)
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="Tesla T4\n7 5\n", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    try:
        assert runtime.gpu_info() == ("Tesla T4", (7, 5))
        assert runtime._cuda_precision() == "16-mixed"
        assert len(calls) == 1 and calls[0][0] == sys.executable
    finally:
        runtime.gpu_info.cache_clear()


def test_choosing_cpu_on_a_gpu_machine_resets_the_other_settings(monkeypatch):
    fake_hardware(monkeypatch, gpus=2, bf16=False, notebook=True)
    monkeypatch.setenv("COURSE_ACCELERATOR", "cpu")
    assert runtime.trainer_kwargs() == dict(accelerator="cpu", devices=1, strategy="auto", precision="32-true")
    monkeypatch.setenv("COURSE_PRECISION", "bf16-mixed")
    assert runtime.trainer_kwargs()["precision"] == "bf16-mixed"
    monkeypatch.setenv("COURSE_ACCELERATOR", "auto")
    assert runtime.trainer_kwargs()["devices"] == 2


def test_env_overrides_then_kwargs(monkeypatch):
    fake_hardware(monkeypatch, gpus=0)
    monkeypatch.setenv("COURSE_ACCELERATOR", "CPU")
    monkeypatch.setenv("COURSE_DEVICES", "2")
    monkeypatch.setenv("COURSE_STRATEGY", "ddp_spawn")
    monkeypatch.setenv("COURSE_PRECISION", "bf16-mixed")
    assert runtime.trainer_kwargs() == dict(accelerator="cpu", devices=2, strategy="ddp_spawn", precision="bf16-mixed")
    assert runtime.trainer_kwargs(precision="32-true")["precision"] == "32-true"


@pytest.mark.parametrize(
    "var, value, message",
    [
        ("COURSE_ACCELERATOR", "tpu-ish", "accelerator='tpu-ish' is not valid; expected one of: cpu, gpu"),
        ("COURSE_STRATEGY", "magic", "strategy='magic' is not valid; expected one of: auto"),
        ("COURSE_PRECISION", "fp8", "precision='fp8' is not valid; expected one of: 32-true"),
        ("COURSE_DEVICES", "zero", "devices='zero' is not valid; expected a positive integer"),
        ("COURSE_DEVICES", "0", "devices='0' is not valid"),
        ("COURSE_PROFILE", "huge", "COURSE_PROFILE='huge' is not valid; expected one of: tiny, full, auto"),
        ("COURSE_SEED", "abc", "COURSE_SEED='abc' is not valid; expected an integer"),
    ],
)
def test_invalid_values_name_the_choices(monkeypatch, var, value, message):
    fake_hardware(monkeypatch)
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        runtime.seed() if var == "COURSE_SEED" else (
            runtime.profile() if var == "COURSE_PROFILE" else runtime.trainer_kwargs()
        )


def test_unknown_override_and_ddp_in_notebook(monkeypatch):
    fake_hardware(monkeypatch, notebook=True)
    with pytest.raises(ValueError, match="expected accelerator, devices, strategy, precision"):
        runtime.trainer_kwargs(max_epochs=3)
    with pytest.raises(ValueError, match="expected 'ddp_notebook'"):
        runtime.trainer_kwargs(strategy="ddp")


@pytest.mark.parametrize(
    "env, reachable, expected",
    [
        ({"COURSE_PROFILE": "full", "CI": "true"}, False, ("full", "COURSE_PROFILE")),
        ({"COURSE_PROFILE": "tiny"}, True, ("tiny", "COURSE_PROFILE")),
        ({"CI": "true"}, True, ("tiny", "auto: CI is set")),
        ({"CI": "false"}, True, ("full", "auto: the Hub is reachable")),
        ({}, False, ("tiny", "auto: the Hub is unreachable")),
        ({"HF_HUB_OFFLINE": "1"}, True, ("tiny", "auto: HF_HUB_OFFLINE is set")),
    ],
)
def test_profile_decision(monkeypatch, env, reachable, expected):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(runtime, "hub_reachable", lambda: reachable)
    monkeypatch.setattr(runtime, "go_offline", lambda: None)
    got = runtime.profile()
    assert (got.name, got.reason) == expected


def test_tiny_profile_sets_offline_switches_even_after_import(monkeypatch):
    import datasets
    import huggingface_hub

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(name, "0")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    assert runtime.profile().name == "tiny"
    import os

    assert all(os.environ[n] == "1" for n in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"))
    assert huggingface_hub.constants.HF_HUB_OFFLINE is True
    assert datasets.config.HF_HUB_OFFLINE is True


def test_hub_probe_is_fast_when_refused(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port on this machine: refused at once
    t0 = time.perf_counter()
    assert runtime.hub_reachable() is False
    assert time.perf_counter() - t0 < 2.0


def test_hub_probe_gives_up_on_a_hanging_connection(monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(30)
        raise OSError("connection timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    t0 = time.perf_counter()
    try:
        assert runtime.hub_reachable() is False
        assert time.perf_counter() - t0 < 2.0
    finally:
        release.set()


def test_hub_probe_true_for_a_listening_endpoint(monkeypatch):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert runtime.hub_reachable() is True
    finally:
        server.close()


@pytest.mark.parametrize("notebook, strategy", [(True, "ddp_notebook"), (False, "ddp")])
def test_several_devices_choose_ddp_by_themselves(monkeypatch, notebook, strategy):
    """COURSE_DEVICES=2 on CPU gets the same DDP a 2-GPU machine gets; one device keeps 'auto'."""
    fake_hardware(monkeypatch, gpus=0, notebook=notebook)
    monkeypatch.setenv("COURSE_ACCELERATOR", "cpu")
    monkeypatch.setenv("COURSE_DEVICES", "2")
    assert runtime.trainer_kwargs() == dict(accelerator="cpu", devices=2, strategy=strategy, precision="32-true")
    assert runtime.trainer_kwargs(devices=1)["strategy"] == "auto"
    assert runtime.trainer_kwargs(strategy="ddp_spawn")["strategy"] == "ddp_spawn"


def test_the_precision_rule():
    assert runtime.precision_for("cpu") == runtime.precision_for("mps") == "32-true"
    assert runtime.precision_for("gpu", (7, 5)) == "16-mixed"  # Colab's T4: no fast bf16
    assert runtime.precision_for("gpu", (8, 0)) == runtime.precision_for("cuda", (9, 0)) == "bf16-mixed"
    with pytest.raises(ValueError, match="compute capability"):
        runtime.precision_for("gpu")
