"""The T4 budget (tools/build/t4_budget.py): the committed json is fresh, every notebook has a spec, specs fail
clearly, the FLOP counter agrees with a hand count, and every notebook fits a Colab T4 (peak and minutes)."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tools.build import t4_budget


@pytest.fixture(scope="module")
def fresh():
    return t4_budget.compute()


def test_json_equals_a_fresh_computation(fresh):
    # Drift: course.toml's [[step.t4]] tables, a recipe in shared/ or a constant changed without --write.
    assert t4_budget.JSON_PATH.read_text() == t4_budget.dumps(fresh), (
        "tools/build/t4_budget.json is stale: run python -m tools.build.t4_budget --write, then "
        "python -m tools.authoring.headers"
    )


def test_every_step_has_a_spec():
    missing = [s["path"] for s in t4_budget.load_steps() if not s.get("t4")]
    assert not missing, f"steps without [[step.t4]] tables in course.toml: {missing}"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "train", "role": "teacher", "steps": 1, "batch": 1, "length": 8}, "unknown role 'teacher'"),
        ({"kind": "train", "role": "classifier", "steps": "n", "batch": 1, "length": 8}, "'n' names no key"),
        ({"kind": "fit", "role": "classifier"}, "kind 'fit'"),
        ({"kind": "forward", "role": "encoder", "calls": 1, "batch": 1}, "needs 'length'"),
        ({"kind": "forward", "role": "encoder", "calls": 1, "batch": 1, "length": 8, "sequences": 2}, "unknown keys"),
        ({"kind": "small", "builds": ["tokenizer"]}, "unknown build 'tokenizer'"),
    ],
)
def test_a_bad_spec_fails_clearly(spec, message):
    with pytest.raises(ValueError, match=message):
        t4_budget.validate(spec, {"lr": [1e-3, 1e-5]}, "weekX/test.ipynb")


def test_a_size_may_name_a_config_key_and_takes_its_full_value():
    spec = {"kind": "train", "role": "causal_lm", "steps": "steps", "batch": 4, "length": 8}
    assert t4_budget.validate(spec, {"steps": [10, 300]}, "here")["steps"] == 300
    with pytest.raises(ValueError, match="no \\[\\[step.t4\\]\\] table"):
        t4_budget.notebook_budget({"path": "weekX/none.ipynb"})


def test_flop_counter_counts_a_linear_layer_as_2mnk():
    m, k, n = 7, 32, 24
    layer = torch.nn.Linear(k, n, bias=False, device="meta")
    with FlopCounterMode(display=False) as counter:
        layer(torch.zeros(m, k, device="meta"))
    assert counter.get_total_flops() == 2 * m * n * k
    with FlopCounterMode(display=False) as counter:  # backward: grad of input and of weight, 2mnk each
        layer(torch.zeros(m, k, device="meta", requires_grad=True)).sum().backward()
    assert counter.get_total_flops() == 3 * 2 * m * n * k


def test_the_architectures_have_the_checkpoints_sizes():
    # Parameter counts of the Hub checkpoints (model cards; bert-base 110 M, SmolLM2-360M 362 M, CLIP B/32 151 M).
    expected = {"classifier": 109.5e6, "encoder": 66.4e6, "causal_lm": 81.9e6, "chat_lm": 361.8e6, "clip": 151.3e6}
    for role, count in expected.items():
        params = t4_budget.measure(role, 1, 8, False)["params"]
        assert abs(params - count) / count < 0.01, (role, params)


def test_every_notebook_fits_a_colab_t4(fresh):
    for path, budget in fresh["notebooks"].items():
        assert budget["peak_gib"] <= t4_budget.MAX_PEAK_GIB, f"{path}: projected peak {budget['peak_gib']} GiB"
        assert budget["minutes"] <= t4_budget.MAX_MINUTES, f"{path}: projected {budget['minutes']} min"
