"""scripts/train_classifier.py (LightningCLI): real DDP over 2 CPU processes launched by the script itself, a
two-node run emulated on this machine with two torchrun launchers, and the CUDA-only configs (fsdp, deepspeed):
they parse, and on a machine without CUDA they stop with a clear message instead of a traceback.

The runs train a tiny random BERT (the full-profile rehearsal's stand-in recipe) for 3 steps: seconds, not minutes.
"""

import importlib.util
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "train_classifier.py"
CONFIGS = ROOT / "scripts" / "configs"
# not anchored to line starts: two ranks write to one stream, and a line may follow another rank's output
REPLICA = re.compile(r"replica rank=(\d+) world=(\d+) node=(\d+) step=(\d+) backend=([a-z]+) weights=([0-9a-f]{16})")
HARDWARE_ENV = ("COURSE_ACCELERATOR", "COURSE_DEVICES", "COURSE_STRATEGY", "COURSE_PRECISION")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A BERT with 2 layers of width 64 and a WordPiece tokenizer trained on the course's texts."""
    from tools.fixtures.stand_in_hub import bert

    folder = tmp_path_factory.mktemp("tiny-bert")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        bert(folder)
    return folder


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in HARDWARE_ENV}
    env.update(
        COURSE_PROFILE="tiny",
        COURSE_HEADLESS="1",
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def _short_run(tiny_bert, tmp_path) -> list[str]:
    """Flags for a 3-step fit of the tiny BERT that validates once on 2 batches and writes under ``tmp_path``."""
    return [
        "--model.source",
        str(tiny_bert),
        "--data.max_length",
        "32",
        "--trainer.accelerator",
        "cpu",
        "--trainer.max_steps",
        "3",
        "--trainer.val_check_interval",
        "3",
        "--trainer.limit_val_batches",
        "2",
        "--trainer.num_sanity_val_steps",
        "0",
        "--trainer.logger",
        "false",
        "--trainer.default_root_dir",
        str(tmp_path),
    ]


def _replicas(output: str) -> list[dict]:
    keys = ("rank", "world", "node", "step", "backend", "weights")
    return [dict(zip(keys, m, strict=True)) for m in REPLICA.findall(output)]


def _load_script():
    spec = importlib.util.spec_from_file_location("train_classifier", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ddp_on_two_cpu_processes_from_the_script(tiny_bert, tmp_path):
    """The script launches its second rank itself (Lightning's subprocess launcher), as on a 2-GPU machine."""
    args = [
        sys.executable,
        str(SCRIPT),
        "fit",
        "--config",
        str(CONFIGS / "ddp.yaml"),
        "--trainer.devices",
        "2",
        *_short_run(tiny_bert, tmp_path),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    replicas = _replicas(done.stdout)
    assert sorted(r["rank"] for r in replicas) == ["0", "1"], done.stdout[-2000:]
    assert {(r["world"], r["step"], r["backend"]) for r in replicas} == {("2", "3", "gloo")}
    assert len({r["weights"] for r in replicas}) == 1, "DDP keeps the two replicas identical"
    assert list(tmp_path.glob("checkpoints/*.ckpt")), "rank 0 saved a checkpoint"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_emulated_with_two_torchrun_launchers(tiny_bert, tmp_path):
    """What two machines run, on one: the same command with --node_rank 0 and 1, one process per node, meeting at
    the same address and port (the first node's, here 127.0.0.1). Lightning reads torchrun's environment."""
    port = _free_port()
    launchers = []
    for node_rank in (0, 1):
        args = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "2",
            "--nproc_per_node",
            "1",
            "--node_rank",
            str(node_rank),
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(port),
            str(SCRIPT),
            "fit",
            "--config",
            str(CONFIGS / "ddp.yaml"),
            "--trainer.num_nodes",
            "2",
            "--trainer.devices",
            "1",
            *_short_run(tiny_bert, tmp_path),
        ]
        launchers.append(
            subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
        )
    outputs = []
    try:
        for launcher in launchers:
            out, err = launcher.communicate(timeout=300)
            assert launcher.returncode == 0, err[-3000:]
            outputs.append(out)
    finally:
        for launcher in launchers:
            if launcher.poll() is None:
                launcher.kill()
    replicas = [_replicas(out) for out in outputs]
    assert [len(r) for r in replicas] == [1, 1], outputs
    (first,), (second,) = replicas
    assert (first["rank"], first["node"]) == ("0", "0") and (second["rank"], second["node"]) == ("1", "1")
    assert first["world"] == second["world"] == "2" and first["step"] == second["step"] == "3"
    assert first["weights"] == second["weights"], "both nodes end with the same weights"


@pytest.mark.parametrize("config, strategy", [("fsdp", "FSDPStrategy"), ("deepspeed_stage_2", "deepspeed_stage_2")])
def test_cuda_only_configs_parse(config, strategy, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    cli = _load_script()
    with pytest.raises(SystemExit) as stop:
        cli.main(["fit", "--config", str(CONFIGS / f"{config}.yaml"), "--print_config"])
    assert stop.value.code in (0, None)
    printed = capsys.readouterr().out
    assert strategy in printed and "accelerator: gpu" in printed and "source:" in printed


@pytest.mark.parametrize("config", ["fsdp", "deepspeed_stage_2"])
def test_cuda_only_configs_stop_with_a_clear_message_without_cuda(config, tiny_bert, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a GPU machine behaves like this one
    cli = _load_script()
    with pytest.raises(SystemExit) as stop:
        cli.main(["fit", "--config", str(CONFIGS / f"{config}.yaml"), "--model.source", str(tiny_bert)])
    message = str(stop.value.code)
    assert message.startswith("error: strategy") and "needs CUDA GPUs" in message and "ddp.yaml" in message
    if config.startswith("deepspeed") and importlib.util.find_spec("deepspeed") is None:
        assert "pip install deepspeed" in message


def test_a_cuda_only_config_ends_without_a_traceback(tiny_bert, tmp_path):
    env = {**_env(), "CUDA_VISIBLE_DEVICES": ""}  # no GPU for this process, whatever the machine has
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "fit", "--config", str(CONFIGS / "fsdp.yaml"), "--model.source", str(tiny_bert)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "error: strategy 'fsdp' needs CUDA GPUs" in done.stderr


def test_preflight_reads_every_way_of_naming_a_strategy(monkeypatch):
    cli = _load_script()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.strategy_name("deepspeed_stage_2") == "deepspeed"
    assert cli.strategy_name({"class_path": "pytorch_lightning.strategies.FSDPStrategy"}) == "fsdp"
    assert cli.strategy_name("ddp") == "ddp"
    assert cli.preflight({"strategy": "ddp", "accelerator": "cpu"}) == []
    assert cli.preflight({"strategy": "auto", "accelerator": "auto"}) == []
    assert "needs a CUDA GPU" in cli.preflight({"strategy": "ddp", "accelerator": "gpu"})[0]
    assert any(
        "cannot run on accelerator 'cpu'" in p for p in cli.preflight({"strategy": "fsdp", "accelerator": "cpu"})
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert cli.preflight({"strategy": "fsdp", "accelerator": "gpu"}) == []
    assert cli.course_precision("cpu") == "32-true"


def test_slurm_script_launches_the_cli_with_a_config_that_exists():
    script = ROOT / "scripts" / "slurm_train_classifier.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert "srun" in text and "scripts/train_classifier.py fit" in text
    for config in re.findall(r"scripts/configs/(\w+\.yaml)", text):
        assert (CONFIGS / config).is_file(), config
    assert "--trainer.num_nodes" in text and "#SBATCH --nodes=2" in text and "#SBATCH --ntasks-per-node=4" in text
