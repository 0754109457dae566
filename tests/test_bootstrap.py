"""shared.evaluation.bootstrap: intervals that cover, narrow with more data, are reproducible, and a paired comparison
that
sees a difference two separate intervals would miss."""

import pytest
import torch

from shared.evaluation.bootstrap import bootstrap_ci, paired_bootstrap


def test_interval_brackets_the_mean_and_narrows_with_more_data():
    g = torch.Generator().manual_seed(0)
    small, large = ((torch.rand(n, generator=g) < 0.8).float() for n in (100, 1600))
    a, b = bootstrap_ci(small), bootstrap_ci(large)
    assert a["low"] < a["mean"] < a["high"] and b["low"] < b["mean"] < b["high"]
    assert (b["high"] - b["low"]) < 0.5 * (a["high"] - a["low"])  # about 1/sqrt(16) as wide
    assert bootstrap_ci(small, seed=3) == bootstrap_ci(small, seed=3)  # reproducible
    assert bootstrap_ci([1.0] * 20) == {"mean": 1.0, "low": 1.0, "high": 1.0}


def test_paired_comparison():
    g = torch.Generator().manual_seed(0)
    easy = torch.rand(400, generator=g) < 0.7  # examples both models get right
    a = easy | (torch.rand(400, generator=g) < 0.15)  # model A also gets some of the rest
    paired = paired_bootstrap(a.float(), easy.float())
    assert paired["difference"] == pytest.approx((a.float() - easy.float()).mean().item())
    assert 0 < paired["low"] <= paired["difference"] <= paired["high"] and paired["p_not_better"] < 0.01
    same = paired_bootstrap(easy.float(), easy.float())
    assert same["difference"] == same["low"] == same["high"] == 0.0 and same["p_not_better"] == 1.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: bootstrap_ci([]), "expected at least one per-example score"),
        (lambda: bootstrap_ci([1.0, 0.0], confidence=1.0), "strictly between 0 and 1"),
        (lambda: bootstrap_ci([1.0, 0.0], n_resamples=10), "expected an integer >= 100"),
        (lambda: paired_bootstrap([1.0, 0.0], [1.0]), "the same examples"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()
