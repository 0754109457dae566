"""tools/build/slides.py: slide breaks from headings, what is skipped, trimmed and split, where the decks load
from. (The decks themselves are checked in a headless browser by `make slides`, not here: that needs Chromium.)"""

import base64
import struct
import zlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools.build import slides

ROOT = Path(__file__).resolve().parent.parent


def _png(width: int, height: int) -> str:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + b"\0" * width for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


def _notebook(*cells):
    header = new_markdown_cell(
        "# 02 · A title\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/o/r/blob/main/week1/02_x.ipynb)\n\n"
        "*Previous: [01 · Env](01_env.ipynb) · Next: [05 · Emb](../week2/05_emb.ipynb)*",
        id="header",
    )
    setup = new_code_cell(
        "run = start()", id="setup", outputs=[new_output("stream", name="stdout", text="RUN CARD\nprofile tiny\n")]
    )
    return new_notebook(cells=[header, setup, *cells])


def _kinds(nb):
    return [(c.get("id"), c.metadata["slideshow"]["slide_type"]) for c in nb.cells]


def test_headings_start_slides_and_subslides_and_the_setup_cell_is_skipped():
    nb = slides.prepare(
        _notebook(
            new_markdown_cell("Some intro.", id="c01"),
            new_code_cell("x = 1", id="c02"),
            new_markdown_cell("## Part A\n\nText.", id="c03"),
            new_code_cell("y = 2", id="c04"),
            new_markdown_cell("### A detail", id="c05"),
            new_markdown_cell("## Recap\n\n- one\n\n## Exercises\n\n1. Do it.", id="c06"),
        )
    )
    assert _kinds(nb) == [
        ("header", "slide"),
        ("speaker-notes", "notes"),
        ("setup", "skip"),
        ("c01", "slide"),
        ("c02", "-"),
        ("c03", "slide"),
        ("c04", "-"),
        ("c05", "subslide"),
        ("c06", "slide"),
        ("c06-1", "slide"),
    ]
    assert nb.cells[-1].source.startswith("## Exercises") and "## Exercises" not in nb.cells[-2].source
    assert nb.cells[1].source == "**Plan**:\n\n1. Part A\n2. Recap\n3. Exercises"
    assert slides.prepare(_notebook(), minutes=25).cells[1].source.startswith("**Plan** (about 25 minutes):")


def test_the_title_slide_links_to_colab_and_to_the_other_decks_without_loading_anything():
    header = slides.prepare(_notebook()).cells[0].source
    assert (
        "colab-badge.svg" not in header and '<a class="course-colab" href="https://colab.research.google.com' in header
    )
    assert "(01_env.slides.html)" in header and "(05_emb.slides.html)" in header


def test_the_committed_notebooks_are_not_touched():
    nb = _notebook(new_markdown_cell("## A\n\nB", id="c01"))
    before = nbformat.writes(nb)
    slides.prepare(nb)
    assert nbformat.writes(nb) == before


def test_long_outputs_are_cut_with_a_visible_ellipsis():
    text = "".join(f"line {k}\n" for k in range(40))
    assert slides.trim_text(text, 12).splitlines() == [f"line {k}" for k in range(12)] + ["… (28 more lines)"]
    assert slides.trim_text("a\nb\n", 12) == "a\nb\n"
    with pytest.raises(ValueError, match="at least one line"):
        slides.trim_text("a", 0)
    nb = slides.prepare(
        _notebook(
            new_code_cell(
                "print(...)",
                id="c01",
                outputs=[
                    new_output("stream", name="stdout", text=text),
                    new_output("execute_result", data={"text/plain": text}, execution_count=1),
                ],
            )
        )
    )
    outputs = nb.cells[3].outputs
    assert outputs[0].text.count("\n") == 13 and outputs[1].data["text/plain"].endswith("(28 more lines)\n")


def test_headings_inside_code_fences_do_not_split():
    text = "## Real\n\n```python\n# not a heading\n```\n\n### Also real"
    assert slides.split_at_headings(text) == ["## Real\n\n```python\n# not a heading\n```", "### Also real"]
    assert slides.split_at_headings("no heading") == ["no heading"]


def test_long_code_is_cut_at_blank_lines_before_top_level_statements():
    blocks = ["def f(x):\n" + "".join(f"    x += {k}\n" for k in range(12)) + "\n    return x"] * 3
    source = "\n\n".join(blocks)
    pieces = slides.split_code(source, max_lines=30)
    assert len(pieces) == 3 and all(p.startswith("def f") for p in pieces)
    assert "\n\n".join(pieces) == source
    assert slides.split_code("a = 1\nb = 2", max_lines=30) == ["a = 1\nb = 2"]
    with pytest.raises(ValueError, match="positive"):
        slides.split_code("a", max_lines=0)


def test_a_plot_too_tall_for_its_code_slide_goes_on_the_subslide_below():
    code = "\n".join(f"a{k} = {k}" for k in range(25))
    plot = new_output("display_data", data={"image/png": _png(1000, 500), "text/plain": "<Figure>"})
    nb = slides.prepare(
        _notebook(new_markdown_cell("## Plot\n\nText.", id="c01"), new_code_cell(code, id="c02", outputs=[plot]))
    )
    assert _kinds(nb)[3:] == [("c01", "slide"), ("c02", "-"), ("c02-out", "subslide")]
    assert nb.cells[4].outputs == [] and nb.cells[5].outputs[0].data["image/png"]
    assert slides.OUTPUT_ONLY in nb.cells[5].metadata["tags"]


def test_a_short_cell_with_its_plot_stays_on_the_slide():
    plot = new_output("display_data", data={"image/png": _png(600, 300), "text/plain": "<Figure>"})
    nb = slides.prepare(
        _notebook(new_markdown_cell("## Plot", id="c01"), new_code_cell("plot()", id="c02", outputs=[plot]))
    )
    assert _kinds(nb)[3:] == [("c01", "slide"), ("c02", "-")]


def test_deck_names_and_bad_input():
    assert slides.deck_name("week3/10_finetune_bert_sentiment.ipynb") == "10_finetune_bert_sentiment.slides.html"
    with pytest.raises(ValueError, match="expected a notebook"):
        slides.deck_name("week3/README.md")


def test_decks_load_everything_from_the_local_vendor_folder():
    args = " ".join(slides.nbconvert_args(Path("out")))
    for option in (
        "reveal_url_prefix=vendor/reveal.js",
        "require_js_url=vendor/requirejs/require.js",
        "jquery_url=vendor/jquery/",
        "mathjax_url=vendor/mathjax/MathJax.js",
    ):
        assert option in args
    assert "http" not in args
    template = (slides.TEMPLATES / slides.TEMPLATE / "index.html.j2").read_text()
    assert "block html_head_js_mermaidjs" in template  # the stock template imports mermaid from a CDN
    for name, parts in slides.VENDOR_FILES.items():
        assert name in slides.VENDOR and parts


def test_make_slides_builds_then_checks_in_a_browser():
    make = (ROOT / "Makefile").read_text()
    assert "-m tools.build.slides" in make and "-m tools.build.check_slides" in make
