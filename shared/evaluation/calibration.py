"""Calibration: does a classifier's confidence match how often it is right?

* ``reliability_bins``: group predictions by confidence (the top probability) into equal-width bins and compare
  each bin's mean confidence with its accuracy: the data of a reliability diagram.
* ``expected_calibration_error`` (ECE; Naeini et al., 2015; Guo et al., 2017): the bins' |accuracy - confidence|
  gaps, weighted by the share of predictions in each bin. 0 = perfectly calibrated. Equal to torchmetrics'
  ``MulticlassCalibrationError(norm="l1")``.
* ``fit_temperature``: temperature scaling (Guo et al., 2017): one number T, fitted on held-out logits by
  minimizing the negative log-likelihood of softmax(logits / T). T > 1 softens over-confident predictions, T < 1
  sharpens under-confident ones; the predicted class never changes, so accuracy stays the same.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(probs_or_logits: torch.Tensor, labels: torch.Tensor, what: str) -> None:
    if probs_or_logits.dim() != 2 or probs_or_logits.size(1) < 2:
        raise ValueError(f"expected {what} of shape (N, classes >= 2); got {tuple(probs_or_logits.shape)}")
    if probs_or_logits.size(0) == 0:
        raise ValueError(f"expected at least one row of {what}; got none")
    if labels.shape != probs_or_logits.shape[:1]:
        raise ValueError(f"expected one label per row ({probs_or_logits.size(0)}); got shape {tuple(labels.shape)}")


def reliability_bins(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 10) -> dict[str, torch.Tensor]:
    """Per confidence bin [i/n, (i+1)/n): ``count``, mean ``confidence`` and ``accuracy`` (0 where empty), and
    the bin ``edges``. ``probs``: (N, classes) probabilities; ``labels``: (N,) class ids."""
    _check(probs, labels, "probabilities")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins={n_bins!r}; expected an integer >= 1")
    if probs.min() < 0 or not torch.allclose(probs.sum(-1), torch.ones(len(probs), dtype=probs.dtype), atol=1e-4):
        raise ValueError("expected probabilities: non-negative rows that sum to 1 (apply softmax to logits first)")
    confidence, predicted = probs.max(dim=-1)
    correct = (predicted == labels).to(probs.dtype)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=probs.dtype)
    which = (torch.bucketize(confidence, edges, right=True) - 1).clamp(0, n_bins - 1)  # 1.0 goes in the last bin
    count = torch.bincount(which, minlength=n_bins).to(probs.dtype)
    total_conf = torch.zeros(n_bins, dtype=probs.dtype).index_add_(0, which, confidence)
    total_acc = torch.zeros(n_bins, dtype=probs.dtype).index_add_(0, which, correct)
    safe = count.clamp(min=1)
    return {"count": count, "confidence": total_conf / safe, "accuracy": total_acc / safe, "edges": edges}


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 10) -> float:
    """ECE = sum over bins of (bin size / N) * |accuracy(bin) - confidence(bin)|."""
    bins = reliability_bins(probs, labels, n_bins)
    return float((bins["count"] / bins["count"].sum() * (bins["accuracy"] - bins["confidence"]).abs()).sum())


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, max_iter: int = 100) -> float:
    """The temperature T > 0 that minimizes the cross-entropy of ``logits / T`` on (held-out) ``labels``.

    Optimized over log T (so T stays positive) with L-BFGS; the loss is convex in 1/T, so there is one optimum.
    """
    _check(logits, labels, "logits")
    logits, labels = logits.detach().double(), labels.detach()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())
