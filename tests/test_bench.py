"""The benchmark scripts run for real in a smoke size, so their own checks (both sides do the same work) run in CI;
a run whose two sides do different work must fail, with no ratio. Timing is their job, not the tests'."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if p.stem not in ("__init__", "common"))
# The last line each script prints: what the README's table quotes.
LAST_LINE = {
    "attention.py": r"mha_vs_torch=\d+\.\d{3}",
    "lightning_vs_hf_trainer.py": r"lightning_vs_hf_throughput=\d+\.\d{3} acc_diff_points=\d+\.\d{2}",
    "lightning_vs_loop.py": r"lightning_vs_loop_time=\d+\.\d{3}",
    "onnx_inference.py": r"ort_int8_vs_torch_b1=\d+\.\d{3}",
    "moe.py": r"moe_vs_dense_active=\d+\.\d{3}",
}
RATIO = re.compile(r"^(mha_vs_torch|lightning_vs_\w+|ort_int8_vs_torch_b1|moe_vs_dense_active)=", flags=re.M)


@pytest.fixture
def restore_environ():
    """main() seeds and configures libraries through environment variables: leave none behind."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def one_thread():
    """In-process runs use one torch thread, as `make test` does (two threads on two busy cores crawl)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load(name: str):
    """A benchmark script as a module, for in-process runs."""
    return importlib.import_module(f"bench.{Path(name).stem}")


def test_every_benchmark_has_a_smoke_test():
    assert {p.name for p in SCRIPTS} == set(LAST_LINE)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_and_bad_arguments(script, capsys):
    module = load(script.name)
    with pytest.raises(SystemExit) as ok:
        module.parse_args(["--help"])
    assert ok.value.code == 0 and "--smoke" in capsys.readouterr().out
    with pytest.raises(SystemExit) as bad:
        module.parse_args(["--no-such-flag"])
    assert bad.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
    with pytest.raises(SystemExit) as both:
        module.parse_args(["--quick", "--smoke"])
    assert both.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_smoke_run_passes_its_checks(script):
    """The real command line, a few steps: exit status 0, checks passed, the machine-readable last line."""
    env = {**os.environ, "COURSE_PROFILE": "tiny", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-m", f"bench.{script.stem}", "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "FAILED" not in out.stdout + out.stderr
    assert re.fullmatch(LAST_LINE[script.name], out.stdout.splitlines()[-1]), out.stdout[-500:]
    if script.name != "attention.py":
        checks = next(line for line in out.stdout.splitlines() if line.startswith("checks:"))
        assert "=True" in checks and "=False" not in checks, checks


def run_main(module, argv, capsys) -> tuple[str, str]:
    """main() of a benchmark that must fail: returns (stdout, the exit message)."""
    with pytest.raises(SystemExit) as failed:
        module.main(argv)
    message = failed.value.code
    assert isinstance(message, str) and message.startswith("FAILED"), message  # exit status 1 as a script
    return capsys.readouterr().out, message


def test_attention_bench_fails_when_the_layers_differ(monkeypatch, capsys):
    module = load("attention.py")
    monkeypatch.setattr(module, "copy_from_torch_mha", lambda ours, theirs: ours)  # weights left uncopied
    out, message = run_main(module, ["--smoke"], capsys)
    assert "mha: outputs differ" in message and not RATIO.search(out)


def test_onnx_bench_fails_when_the_exported_model_differs(monkeypatch, capsys, restore_environ):
    import copy

    from shared import deploy

    module = load("onnx_inference.py")
    honest = deploy.export_onnx

    def perturbed(model, example, path):
        other = copy.deepcopy(model)
        with torch.no_grad():
            other.classifier.bias.add_(torch.tensor([1.0, -1.0]))  # another model than the one torch runs
        return honest(other, example, path)

    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    monkeypatch.setattr(deploy, "export_onnx", perturbed)
    out, message = run_main(module, ["--smoke"], capsys)
    assert "onnxruntime fp32 differs from torch" in message
    assert "same work on all sides=False" in out and not RATIO.search(out)


def test_loop_bench_fails_when_the_loop_trains_on_other_labels(monkeypatch, capsys):
    module = load("lightning_vs_loop.py")
    honest = module.run_loop

    def flipped(data, *args, **kwargs):
        features, labels = data.tensors
        return honest(torch.utils.data.TensorDataset(features, 1 - labels), *args, **kwargs)

    monkeypatch.setattr(module, "run_loop", flipped)
    out, message = run_main(module, ["--smoke"], capsys)
    assert "real workload: the final losses differ" in message and "trivial model" in message
    assert "same final loss on both sides=False" in out and not RATIO.search(out)


def test_hf_bench_fails_when_the_hf_side_trains_differently(monkeypatch, capsys, restore_environ):
    """The HF side gets twice the learning rate: same start, same batches, but the trained heads drift apart."""
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    module = load("lightning_vs_hf_trainer.py")
    honest = module.Bench.hf

    def faster(self, steps, evaluate=True):
        lr = self.args.lr
        self.args.lr = 2 * lr
        try:
            return honest(self, steps, evaluate)
        finally:
            self.args.lr = lr

    monkeypatch.setattr(module.Bench, "hf", faster)
    out, message = run_main(module, ["--smoke"], capsys)
    assert "the trained heads differ" in message and "same classifier head" not in message
    assert "same initial head=True  same first batch=True" in out and not RATIO.search(out)


def _result(module, head_init=0.0, batch="b0", steps=3, head_after=1.0, acc=0.9):
    return module.Result(
        fit_s=1.0,
        cpu_s=1.0,
        steady_sps=1.0,
        acc=acc,
        steps_done=steps,
        head_init=torch.full((2, 4), head_init),
        first_batch=batch,
        head_after=torch.full((2, 4), head_after),
    )


@pytest.mark.parametrize(
    "hf_run, problem",
    [
        ({}, None),
        (
            {"head_after": 1.0 + 1e-9},
            None,
        ),  # rounding-level drift: the two sides sum the gradient norm in another order
        ({"head_init": 0.5}, "same classifier head"),
        ({"batch": "b1"}, "same first batch"),
        ({"steps": 2}, "optimizer steps differ from 3"),
        ({"head_after": 1.02}, "the trained heads differ by 2.00e-02, 2.0% of how far training moved the head"),
        ({"acc": 0.87}, "validation accuracies differ by 3.00 points"),
    ],
)
def test_hf_fairness_checks_each_catch_their_mismatch(hf_run, problem):
    module = load("lightning_vs_hf_trainer.py")
    results = {"Lightning": [_result(module)], "HF Trainer": [_result(module, **hf_run)]}
    problems, summary = module.fairness(results, steps=3, max_head_drift=0.01)
    assert summary.startswith("checks: ")
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_moe_bench_fails_when_the_dispatch_is_wrong(monkeypatch, capsys):
    module = load("moe.py")
    honest = module.SparseMoE.forward
    monkeypatch.setattr(module.SparseMoE, "forward", lambda self, x: 1.01 * honest(self, x))
    out, message = run_main(module, ["--smoke"], capsys)
    assert "outputs differ from the per-token reference" in message and not RATIO.search(out)


def test_moe_bench_refuses_top_k_above_experts(capsys):
    with pytest.raises(SystemExit) as bad:
        load("moe.py").parse_args(["--experts", "2", "--top-k", "3"])
    assert bad.value.code == 2 and "top-k" in capsys.readouterr().err
