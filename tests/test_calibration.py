"""shared.evaluation.calibration: ECE equals torchmetrics' calibration error; temperature scaling recovers a known
temperature
and never changes the predicted class; bad inputs get clear errors."""

import pytest
import torch
from torchmetrics.classification import MulticlassCalibrationError

from shared.evaluation.calibration import expected_calibration_error, fit_temperature, reliability_bins


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_bins", [5, 10, 15])
def test_ece_equals_torchmetrics(seed, n_bins):
    g = torch.Generator().manual_seed(seed)
    classes = 2 + seed % 3
    probs = (torch.randn(300, classes, generator=g) * 2).softmax(-1)
    labels = torch.randint(classes, (300,), generator=g)
    reference = MulticlassCalibrationError(num_classes=classes, n_bins=n_bins, norm="l1")(probs, labels).item()
    assert expected_calibration_error(probs, labels, n_bins) == pytest.approx(reference, abs=1e-6)


def test_reliability_bins_by_hand():
    probs = torch.tensor([[0.95, 0.05], [0.9, 0.1], [0.35, 0.65], [0.4, 0.6]])
    labels = torch.tensor([0, 1, 1, 1])
    bins = reliability_bins(probs, labels, n_bins=5)  # bins [0, .2) [.2, .4) [.4, .6) [.6, .8) [.8, 1]
    assert bins["count"].tolist() == [0, 0, 0, 2, 2]
    assert bins["confidence"][3:].tolist() == pytest.approx([0.625, 0.925])
    assert bins["accuracy"][3:].tolist() == [1.0, 0.5]
    ece = 0.5 * abs(1.0 - 0.625) + 0.5 * abs(0.5 - 0.925)
    assert expected_calibration_error(probs, labels, n_bins=5) == pytest.approx(ece)
    perfect = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(perfect, torch.tensor([0, 1])) == 0.0


@pytest.mark.parametrize("true_t", [0.5, 2.0])
def test_temperature_scaling_recovers_a_known_temperature(true_t):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4000, 3, generator=g) * 3
    labels = torch.multinomial((logits / true_t).softmax(-1), 1, generator=g).squeeze(-1)
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(true_t, rel=0.1)
    scaled = (logits / t).softmax(-1)
    assert torch.equal(scaled.argmax(-1), logits.argmax(-1))  # the predicted class never changes
    assert expected_calibration_error(scaled, labels) < expected_calibration_error(logits.softmax(-1), labels)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: reliability_bins(torch.tensor([[0.5, 0.7]]), torch.tensor([0])), "rows that sum to 1"),
        (lambda: reliability_bins(torch.tensor([[0.5, 0.5]]), torch.tensor([0, 1])), "expected one label per row"),
        (lambda: reliability_bins(torch.tensor([[0.5, 0.5]]), torch.tensor([0]), n_bins=0), "integer >= 1"),
        (lambda: expected_calibration_error(torch.zeros(0, 2), torch.zeros(0).long()), "at least one row"),
        (lambda: fit_temperature(torch.zeros(3), torch.zeros(3).long()), r"shape \(N, classes >= 2\)"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()
