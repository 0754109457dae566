"""shared.multimodal.shapes: deterministic scenes, the held-out pairs, captions, rendering and the data module's
batches."""

import pytest
import torch

from shared.multimodal import shapes


def test_pairs_split_every_color_and_shape_across_seen_and_unseen():
    seen, unseen = shapes.pairs(), shapes.pairs(seen=False)
    assert len(seen) == 12 and unseen == list(shapes.UNSEEN)
    assert {c for c, _ in seen} == set(shapes.COLORS) and {s for _, s in seen} == set(shapes.SHAPES)


def test_sample_is_deterministic_and_avoids_unseen_pairs():
    a = shapes.sample(200, torch.Generator().manual_seed(3))
    b = shapes.sample(200, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, shapes.sample(200, torch.Generator().manual_seed(4)))
    colors, names = list(shapes.COLORS), shapes.SHAPES
    drawn = {(colors[int(r[shapes.COLOR])], names[int(r[shapes.SHAPE])]) for r in a}
    assert drawn <= set(shapes.pairs()) and not drawn & set(shapes.UNSEEN)
    assert torch.equal(shapes.render(a[:4]), shapes.render(b[:4]))


def test_balanced_blocks_hold_each_caption_once():
    rows = shapes.sample(96, torch.Generator().manual_seed(0), balanced=True)
    ids = shapes.caption_ids(rows)
    assert len(set(ids[:48].tolist())) == 48 and len(set(ids[48:].tolist())) == 48


def test_captions_and_ids_agree():
    rows = shapes.grid(which=[("red", "square")])
    assert [shapes.caption(r) for r in rows] == [
        "a red square in the top left",
        "a red square in the top right",
        "a red square in the bottom left",
        "a red square in the bottom right",
    ]
    captions = shapes.all_captions()
    assert len(captions) == 64 and [captions[i] for i in shapes.caption_ids(rows)] == [shapes.caption(r) for r in rows]


def test_render_draws_the_color_in_the_right_corner():
    row = shapes.grid(which=[("blue", "square")])[3:4]  # bottom right, centered, untinted, background 0.5
    image = shapes.render(row, size=32)
    assert image.shape == (1, 3, 32, 32) and 0 <= image.min() and image.max() <= 1
    torch.testing.assert_close(image[0, :, 23, 23], torch.tensor(shapes.COLORS["blue"]), atol=1e-3, rtol=0)
    torch.testing.assert_close(image[0, :, 8, 8], torch.full((3,), 0.5), atol=1e-3, rtol=0)


@pytest.mark.parametrize("bad", [torch.zeros(3, 4), torch.zeros(0, shapes.WIDTH), [[0.0] * shapes.WIDTH]])
def test_render_rejects_bad_rows(bad):
    with pytest.raises(ValueError, match="scene rows"):
        shapes.render(bad)


def test_sample_rejects_bad_inputs():
    g = torch.Generator()
    with pytest.raises(ValueError, match="positive integer"):
        shapes.sample(0, g)
    with pytest.raises(ValueError, match="color, shape"):
        shapes.sample(4, g, which=[("purple", "circle")])


def test_normalize_by_hand():
    x = torch.full((1, 3, 2, 2), 0.5)
    out = shapes.normalize(x, [0.5, 0.25, 0.0], [1.0, 0.25, 0.5])
    assert out[0, :, 0, 0].tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="3 means"):
        shapes.normalize(x, [0.5], [1.0])
