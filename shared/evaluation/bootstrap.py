"""How sure is a measured score? The bootstrap (Efron, 1979): re-draw the test set with replacement many times,
recompute the score each time, and read the spread.

* ``bootstrap_ci``: a percentile confidence interval for the mean of per-example scores (e.g. 1/0 for correct,
  so the mean is the accuracy).
* ``paired_bootstrap``: two models scored on the *same* examples. Resampling examples (not each model on its own)
  keeps the pairing: an easy example is easy for both, so the difference is measured far more precisely than two
  separate intervals suggest (Koehn, 2004).
"""

from __future__ import annotations

import torch


def _scores(values, what: str) -> torch.Tensor:
    v = torch.as_tensor(values, dtype=torch.float64).flatten()
    if v.numel() == 0:
        raise ValueError(f"{what}: expected at least one per-example score; got none")
    return v


def _resample_means(v: torch.Tensor, n_resamples: int, seed: int) -> torch.Tensor:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 100:
        raise ValueError(f"n_resamples={n_resamples!r}; expected an integer >= 100")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(v), (n_resamples, len(v)), generator=g)
    return v[idx].mean(dim=1)


def _interval(stats: torch.Tensor, confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r}; expected a number strictly between 0 and 1")
    tail = (1 - confidence) / 2
    low, high = torch.quantile(stats, torch.tensor([tail, 1 - tail], dtype=stats.dtype)).tolist()
    return low, high


def bootstrap_ci(values, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """``mean`` of the per-example ``values`` and its percentile interval ``low``..``high``."""
    v = _scores(values, "bootstrap_ci")
    low, high = _interval(_resample_means(v, n_resamples, seed), confidence)
    return {"mean": float(v.mean()), "low": low, "high": high}


def paired_bootstrap(a, b, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict[str, float]:
    """Model A minus model B on the same examples: the mean ``difference``, its interval ``low``..``high``, and
    ``p_not_better``: the share of resamples where A does not beat B (a one-sided bootstrap p-value)."""
    va, vb = _scores(a, "paired_bootstrap"), _scores(b, "paired_bootstrap")
    if va.shape != vb.shape:
        raise ValueError(
            f"paired_bootstrap: expected both models scored on the same examples; got {len(va)} and {len(vb)} scores"
        )
    diffs = _resample_means(va - vb, n_resamples, seed)
    low, high = _interval(diffs, confidence)
    return {
        "difference": float((va - vb).mean()),
        "low": low,
        "high": high,
        "p_not_better": float((diffs <= 0).double().mean()),
    }
