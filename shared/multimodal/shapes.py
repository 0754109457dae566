"""Synthetic images with captions, drawn in code: a colored shape in one of four corners of a gray canvas, and a
caption that says what and where ("a red circle in the top left"). The data of notebook 19 (CLIP).

A scene is one row of numbers (``sample``): color, shape and position indices, a small offset, a radius, a tint
and a background gray. ``render`` draws rows as images at any
resolution (geometry is continuous, so 32 or 224 pixels show the same scene), ``caption`` writes their text.
Everything is drawn from a ``torch.Generator``: the same seed gives the same scenes, bit for bit.

Four color-shape pairs (``UNSEEN``) never appear in training: each color and each shape is seen, but not
together, so a model that composes "red" and "square" can still name a red square.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

COLORS = {
    "red": (0.85, 0.15, 0.15),
    "green": (0.15, 0.70, 0.25),
    "blue": (0.20, 0.35, 0.90),
    "yellow": (0.95, 0.85, 0.15),
}
SHAPES = ("circle", "square", "triangle", "cross")
POSITIONS = {
    "top left": (-0.45, -0.45),
    "top right": (0.45, -0.45),
    "bottom left": (-0.45, 0.45),
    "bottom right": (0.45, 0.45),
}
UNSEEN = (("red", "square"), ("green", "triangle"), ("blue", "cross"), ("yellow", "circle"))
# the columns of a scene row
COLOR, SHAPE, POSITION, DX, DY, RADIUS, TINT, BACKGROUND = 0, 1, 2, 3, 4, 5, 6, 9
WIDTH = 10


def pairs(seen: bool = True) -> list[tuple[str, str]]:
    """The color-shape pairs of the training images (``seen=True``, 12) or the held-out ones (4)."""
    every = [(c, s) for c in COLORS for s in SHAPES]
    return [p for p in every if (p not in UNSEEN) == seen]


def sample(n: int, generator: torch.Generator, which=None, balanced: bool = False) -> torch.Tensor:
    """``n`` scene rows (n, 10) for the color-shape pairs ``which`` (default: the seen ones), each pair and
    position equally likely. ``balanced=True``: every block of len(which) * 4 rows holds each pair at each
    position once, in a random order (a batch of that size then has no repeated caption)."""
    which = pairs() if which is None else list(which)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r}; expected a positive integer")
    if not which or any(c not in COLORS or s not in SHAPES for c, s in which):
        raise ValueError(
            f"which={which!r}; expected a non-empty list of (color, shape) from {list(COLORS)} and {list(SHAPES)}"
        )
    colors, shapes, k = list(COLORS), list(SHAPES), len(POSITIONS)
    if balanced:
        blocks = -(-n // (len(which) * k))
        combo = torch.cat([torch.randperm(len(which) * k, generator=generator) for _ in range(blocks)])[:n]
    else:
        combo = torch.randint(len(which) * k, (n,), generator=generator)
    pick = combo // k
    rows = torch.zeros(n, WIDTH)
    rows[:, COLOR] = torch.tensor([colors.index(which[i][0]) for i in pick.tolist()], dtype=torch.float)
    rows[:, SHAPE] = torch.tensor([shapes.index(which[i][1]) for i in pick.tolist()], dtype=torch.float)
    rows[:, POSITION] = (combo % k).float()
    rows[:, DX : DY + 1] = (torch.rand(n, 2, generator=generator) - 0.5) * 0.2  # offset within +-0.1
    rows[:, RADIUS] = 0.3 + 0.08 * torch.rand(n, generator=generator)
    rows[:, TINT : TINT + 3] = (torch.rand(n, 3, generator=generator) - 0.5) * 0.16  # color jitter within +-0.08
    rows[:, BACKGROUND] = 0.35 + 0.3 * torch.rand(n, generator=generator)
    return rows


def grid(n_per_pair: int = 1, which=None) -> torch.Tensor:
    """Scene rows with every pair of ``which`` (default: seen) at every position, ``n_per_pair`` times, centered and
    untinted: a tidy set for a similarity matrix."""
    which = pairs() if which is None else list(which)
    colors, shapes = list(COLORS), list(SHAPES)
    rows = [
        [colors.index(c), shapes.index(s), p, 0, 0, 0.34, 0, 0, 0, 0.5]
        for c, s in which
        for p in range(len(POSITIONS))
        for _ in range(n_per_pair)
    ]
    return torch.tensor(rows, dtype=torch.float)


def _check_rows(rows) -> torch.Tensor:
    if not isinstance(rows, torch.Tensor) or rows.dim() != 2 or rows.size(1) != WIDTH or len(rows) == 0:
        shape = tuple(rows.shape) if isinstance(rows, torch.Tensor) else type(rows).__name__
        raise ValueError(f"expected scene rows of shape (n, {WIDTH}) from shapes.sample; got {shape}")
    return rows


_EDGES = (  # signed distance-like functions of (u, v) relative to the center and radius r: > 0 inside
    lambda u, v, r: r - (u * u + v * v).sqrt(),  # circle
    lambda u, v, r: r - torch.maximum(u.abs(), v.abs()),  # square: its corners stick out of the circle
    lambda u, v, r: torch.minimum(0.7 * r - v, ((v + r) / 1.7 - u.abs()) * 0.86),  # triangle, apex up
    lambda u, v, r: torch.maximum(
        torch.minimum(r / 3 - u.abs(), r - v.abs()), torch.minimum(r / 3 - v.abs(), r - u.abs())
    ),  # cross
)


def render(rows: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Draw scene rows as images (n, 3, size, size) with values in [0, 1].

    Each pixel's distance to the shape's edge goes through a steep sigmoid, so edges are smooth at any size.
    """
    rows = _check_rows(rows)
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size={size!r}; expected an integer >= 8 pixels")
    axis = (torch.arange(size) + 0.5) / size * 2 - 1  # pixel centers in [-1, 1]
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    centers = torch.tensor(list(POSITIONS.values()))[rows[:, POSITION].long()] + rows[:, DX : DY + 1]
    u = x[None] - centers[:, 0, None, None]  # (n, size, size), relative to the shape's center
    v = y[None] - centers[:, 1, None, None]
    r = rows[:, RADIUS, None, None]
    kind = rows[:, SHAPE].long()
    inside = torch.empty_like(u)  # > 0 inside the shape; each image computes only its own shape
    for k, edge in enumerate(_EDGES):
        pick = kind == k
        if pick.any():
            inside[pick] = edge(u[pick], v[pick], r[pick])
    alpha = torch.sigmoid(inside * size * 1.5)[:, None]  # (n, 1, size, size)
    color = torch.tensor(list(COLORS.values()))[rows[:, COLOR].long()] + rows[:, TINT : TINT + 3]
    background = rows[:, BACKGROUND, None, None, None].expand(-1, 3, 1, 1)
    image = alpha * color.clamp(0, 1)[:, :, None, None] + (1 - alpha) * background
    return image.clamp(0, 1)


def caption_ids(rows: torch.Tensor) -> torch.Tensor:
    """Each row's caption as an index into ``all_captions()``."""
    rows = _check_rows(rows).long()
    return (rows[:, COLOR] * len(SHAPES) + rows[:, SHAPE]) * len(POSITIONS) + rows[:, POSITION]


def caption(row) -> str:
    """The caption of one scene row: "a red circle in the top left"."""
    row = _check_rows(torch.as_tensor(row, dtype=torch.float).reshape(1, -1))[0]
    return describe(list(COLORS)[int(row[COLOR])], SHAPES[int(row[SHAPE])], list(POSITIONS)[int(row[POSITION])])


def describe(color: str, shape: str, position: str) -> str:
    return f"a {color} {shape} in the {position}"


def all_captions() -> list[str]:
    """Every caption the data can produce, seen pairs or not (a tokenizer's training text; caption ids)."""
    return [describe(c, s, p) for c in COLORS for s in SHAPES for p in POSITIONS]


def normalize(images: torch.Tensor, mean, std) -> torch.Tensor:
    """(n, 3, H, W) in [0, 1] -> CLIP's pixel values: per channel (x - mean) / std."""
    mean, std = torch.as_tensor(mean, dtype=images.dtype), torch.as_tensor(std, dtype=images.dtype)
    if images.dim() != 4 or images.size(1) != 3 or mean.shape != (3,) or std.shape != (3,):
        raise ValueError(
            f"expected images (n, 3, H, W) and 3 means and stds; got {tuple(images.shape)}, "
            f"{tuple(mean.shape)}, {tuple(std.shape)}"
        )
    return (images - mean[:, None, None]) / std[:, None, None]


class ShapesDataModule(pl.LightningDataModule):
    """Scene rows for training and validation, drawn once from ``seed``; each batch is rendered, normalized and
    tokenized when it is served: ``pixel_values``, ``input_ids``, ``attention_mask`` and ``caption_id`` (equal
    captions get equal ids, so retrieval can count any image with the right caption as a hit)."""

    def __init__(
        self,
        tokenizer,
        image_size: int,
        mean,
        std,
        n_train: int = 2048,
        n_val: int = 256,
        batch_size: int = 64,
        seed: int = 0,
        balanced: bool = False,
    ):
        super().__init__()
        for name, value, low in (
            ("image_size", image_size, 8),
            ("n_train", n_train, 1),
            ("n_val", n_val, 1),
            ("batch_size", batch_size, 2),
        ):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name}={value!r}; expected an integer >= {low}")
        self.tokenizer, self.image_size, self.mean, self.std = tokenizer, image_size, mean, std
        self.batch_size, self.balanced = batch_size, balanced
        g = torch.Generator().manual_seed(seed)
        self.train_rows, self.val_rows = sample(n_train, g, balanced=balanced), sample(n_val, g)

    def setup(self, stage: str | None = None) -> None:
        # every caption tokenized once (they all have the same length); batches pick rows by caption id
        self.tokens = dict(self.tokenizer(all_captions(), padding=True, return_tensors="pt"))

    def collate(self, rows) -> dict:
        rows = torch.stack(list(rows))
        ids = caption_ids(rows)
        batch = {k: v[ids] for k, v in self.tokens.items()}
        batch["pixel_values"] = normalize(render(rows, self.image_size), self.mean, self.std)
        batch["caption_id"] = ids
        return batch

    def train_dataloader(self):
        return DataLoader(
            self.train_rows,
            batch_size=self.batch_size,
            shuffle=not self.balanced,
            drop_last=True,
            collate_fn=self.collate,
        )

    def val_dataloader(self):
        return DataLoader(self.val_rows, batch_size=self.batch_size, collate_fn=self.collate)


def image_loader(rows: torch.Tensor, image_size: int, mean, std, batch_size: int = 128) -> DataLoader:
    """Batches ``{"pixel_values": ...}`` of scene rows, rendered and normalized, for ``trainer.predict``."""
    rows = _check_rows(rows)

    def collate(batch):
        return {"pixel_values": normalize(render(torch.stack(batch), image_size), mean, std)}

    return DataLoader(list(rows), batch_size=batch_size, collate_fn=collate)
