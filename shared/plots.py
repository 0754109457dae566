"""The course's plots: small functions that draw onto a matplotlib Axes and return it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch


def _ax(ax):
    return ax if ax is not None else plt.subplots(figsize=(5, 4))[1]


def heatmap(
    matrix,
    xlabels=None,
    ylabels=None,
    title="",
    ax=None,
    cmap="viridis",
    vmin=None,
    vmax=None,
    annotate=False,
    label="",
):
    """A labeled heatmap of a 2-D tensor/array (attention weights, similarities, encodings); ``label`` names what
    the color bar measures."""
    m = torch.as_tensor(matrix).detach().float().cpu()
    if m.dim() != 2:
        raise ValueError(f"expected a 2-D matrix; got shape {tuple(m.shape)}")
    ax = _ax(ax)
    image = ax.imshow(m.numpy(), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    for labels, set_ticks, set_labels, n in (
        (xlabels, ax.set_xticks, ax.set_xticklabels, m.shape[1]),
        (ylabels, ax.set_yticks, ax.set_yticklabels, m.shape[0]),
    ):
        if labels is not None:
            if len(labels) != n:
                raise ValueError(f"expected {n} labels for this axis; got {len(labels)}")
            set_ticks(range(n))
            set_labels(labels, rotation=90 if set_ticks == ax.set_xticks else 0, fontsize=8)
    if annotate:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_title(title)
    plt.colorbar(image, ax=ax, fraction=0.046, label=label or None)
    return ax


def curves(history, keys, ax=None, title="", ylabel=""):
    """Plot logged metrics (from ``shared.callbacks.History``) against the optimizer step."""
    ax = _ax(ax)
    for key in keys:
        steps, values = history.series(key)
        ax.plot(steps, values, marker="o" if key.startswith("val_") else None, ms=3, label=key)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


def scatter_words(points, words, ax=None, title="", groups=None):
    """A 2-D scatter of word vectors with their labels; ``groups`` (one name per word) sets the colors."""
    p = torch.as_tensor(points).detach().float().cpu()
    if p.dim() != 2 or p.shape[1] != 2 or len(words) != p.shape[0]:
        raise ValueError(f"expected points of shape (N, 2) and N words; got {tuple(p.shape)} and {len(words)}")
    ax = _ax(ax)
    names = sorted(set(groups)) if groups else [None]
    for name in names:
        idx = [i for i in range(len(words)) if groups is None or groups[i] == name]
        ax.scatter(p[idx, 0], p[idx, 1], s=14, label=name)
        for i in idx:
            ax.annotate(words[i], (p[i, 0], p[i, 1]), fontsize=7)
    if groups:
        ax.legend(fontsize=7)
    ax.set_title(title)
    return ax
