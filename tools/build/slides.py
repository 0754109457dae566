"""Lecture slides from the executed notebooks: one reveal.js deck per notebook, everything it loads local.

    python -m tools.build.slides [--src build] [--out build/slides] [week1 week3/10_finetune_bert_sentiment.ipynb ...]

``make slides`` runs it on ``make course``'s output, then checks the decks in a headless browser
(tools/build/check_slides.py). The committed notebooks carry no slide metadata: a copy of each executed notebook gets
it here, from its headings.

- ``#``/``##`` headings start a slide, ``###`` a subslide (below); a markdown cell with several headings is split
  at them first. Other cells continue the slide; a slide that would grow taller than the screen continues on a
  subslide below, and a code cell too tall to share a slide with its outputs shows them on the subslide below it
  (an estimate in pixels; tools/build/check_slides.py measures the real heights and warns about any slide that
  overflows). A code cell taller than a slide scrolls inside its box.
- The header cell is the title slide (its Colab badge becomes a plain link: the deck loads nothing remote), with
  speaker notes that give the lecture's plan (minutes from course.toml, the ``##`` sections); the setup cell and
  its run card are skipped.
- Stream and plain-text outputs are cut to a dozen lines with a visible "…"; plots stay.
- Links between notebooks point at the other decks.

Everything a deck loads comes from ``vendor/`` next to it: reveal.js, require.js, jQuery and MathJax, fetched from
the npm registry once into ``.course_cache/slides-vendor/`` (``npm install``; needs Node's npm) and copied over.
"""

from __future__ import annotations

import argparse
import base64
import copy
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from tools.authoring.headers import load_course

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "tools" / "build" / "templates"
TEMPLATE = "course-slides"
CACHE = ROOT / ".course_cache" / "slides-vendor"

# What the decks load, pinned: nbconvert's reveal template is written for reveal.js 4.0.2 and MathJax 2.
VENDOR = {"reveal.js": "4.0.2", "requirejs": "2.3.8", "jquery": "3.7.1", "mathjax": "2.7.7"}
# The parts of each package a deck needs (MathJax is 70 MB with every font and output; CommonHTML needs these).
VENDOR_FILES = {
    "reveal.js": ["dist", "plugin/notes", "LICENSE"],
    "requirejs": ["require.js"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
    "mathjax": [
        "MathJax.js",
        "LICENSE",
        "config/TeX-AMS_CHTML-full.js",
        "config/Safe.js",
        "extensions",
        "jax/input/TeX",
        "jax/element",
        "jax/output/CommonHTML",
        "jax/output/PreviewHTML",
        "fonts/HTML-CSS/TeX/woff",
        "localization/en",
    ],
}
MATHJAX_CONFIG = "TeX-AMS_CHTML-full,Safe"

WIDTH, HEIGHT = 1280, 720  # reveal.js scales this 16:9 page to the screen
BUDGET = 660  # pixels of a slide's height the content may fill (see input_height)
PLOT_HEIGHT = 430  # plots are drawn at most this high (template CSS)
CODE_MAX = 620  # a code box scrolls beyond this height (template CSS)
CODE_LINES = 30  # longer code is shown in pieces, cut at blank lines
KEEP_LINES = 12  # stream and text outputs are cut to this many lines
OUTPUT_ONLY = "slides-output-only"  # tag on a code cell whose outputs go on their own subslide

_HEADING = re.compile(r"^(#{1,6})\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")
_NB_LINK = re.compile(r"\]\((?!https?://)([^)\s]*?)([^/)\s]+)\.ipynb(#[^)\s]*)?\)")


def deck_name(path: str | Path) -> str:
    """The deck a notebook becomes: week3/10_finetune_bert_sentiment.ipynb -> 10_finetune_bert_sentiment.slides.html"""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"{path}: expected a notebook (.ipynb)")
    return f"{path.stem}.slides.html"


def split_at_headings(source: str) -> list[str]:
    """A markdown cell's text cut before every heading line (outside code fences); one piece when there is none."""
    pieces: list[list[str]] = [[]]
    fenced = False
    for line in source.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and _HEADING.match(line) and any(s.strip() for s in pieces[-1]):
            pieces.append([])
        pieces[-1].append(line)
    return ["\n".join(p).strip("\n") for p in pieces if any(s.strip() for s in p)] or [source]


def heading_level(cell) -> int:
    """1-6 for a markdown cell whose first line is a heading, else 0."""
    if cell.cell_type != "markdown":
        return 0
    first = cell.source.lstrip("\n").split("\n", 1)[0]
    match = _HEADING.match(first)
    return len(match.group(1)) if match else 0


def trim_text(text: str, keep: int = KEEP_LINES) -> str:
    """At most ``keep`` lines; what was cut is announced on a last line "… (N more lines)"."""
    if keep < 1:
        raise ValueError(f"keep={keep}: expected at least one line")
    lines = text.rstrip("\n").split("\n")
    if len(lines) <= keep:
        return text
    return "\n".join(lines[:keep] + [f"… ({len(lines) - keep} more lines)"]) + "\n"


def trim_outputs(cell) -> None:
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            out.text = trim_text(out.text)
        elif (
            out.output_type in ("execute_result", "display_data")
            and "text/plain" in out.get("data", {})
            and len(out.data) == 1
        ):
            out.data["text/plain"] = trim_text(out.data["text/plain"])
        elif out.output_type == "error":
            out.traceback = out.traceback[-KEEP_LINES:]


def _lines(text: str, width: int) -> int:
    """Lines the text takes when wrapped at ``width`` characters."""
    return sum(max(1, -(-len(line) // width)) for line in text.rstrip("\n").split("\n")) if text.strip() else 0


def _image_height(data: dict) -> float:
    """A PNG's height on the slide: drawn at most the slide's width and PLOT_HEIGHT high (template CSS)."""
    png = base64.b64decode(data["image/png"][:64]) if "image/png" in data else b""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return PLOT_HEIGHT
    width, height = struct.unpack(">II", png[16:24])
    return min(PLOT_HEIGHT, height * min(1.0, (WIDTH - 64) / width))


def input_height(cell) -> float:
    """Pixels a cell's text or code takes on a slide (rough, and meant to be: it only decides where a long section
    continues on a subslide; the browser check measures the real thing)."""
    if cell.cell_type != "code":
        level = heading_level(cell)
        return 26 * _lines(cell.source, 100) + 18 + (24 if level else 0)
    return min(CODE_MAX, 19.5 * _lines(cell.source, 125)) + 20


def output_height(cell) -> float:
    height = 0.0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if out.output_type == "stream":
            height += 18.5 * _lines(out.text, 135) + 12
        elif any(m.startswith("image/") for m in data):
            height += _image_height(data) + 8
        elif "text/html" in data:
            height += min(18.5 * _lines(data["text/html"], 200), 450)
        elif "text/plain" in data:
            height += 18.5 * _lines(data["text/plain"], 135) + 12
        elif out.output_type == "error":
            height += 18.5 * len(out.traceback) + 12
    return height


def _title_slide(cell) -> str:
    """The header cell without its badge image (a link instead: decks load nothing remote)."""
    return _BADGE.sub(r'<a class="course-colab" href="\1">Open in Colab</a>', cell.source)


def _link_decks(text: str) -> str:
    return _NB_LINK.sub(lambda m: f"]({m.group(2)}.slides.html{m.group(3) or ''})", text)


def split_code(source: str, max_lines: int = CODE_LINES) -> list[str]:
    """Code longer than ``max_lines`` cut into pieces at blank lines before top-level statements, each piece as long
    as fits; a single block longer than that stays whole (its box scrolls)."""
    if max_lines < 1:
        raise ValueError(f"max_lines={max_lines}: expected a positive number of lines")
    lines = source.rstrip("\n").split("\n")
    if len(lines) <= max_lines:
        return [source]
    blocks, block = [], []
    for k, line in enumerate(lines):
        top_level = line.strip() and not line[0].isspace() and not line.startswith((")", "]", "}"))
        if block and top_level and k and not lines[k - 1].strip():
            blocks.append(block)
            block = []
        block.append(line)
    blocks.append(block)
    pieces: list[list[str]] = [[]]
    for block in blocks:
        if pieces[-1] and len(pieces[-1]) + len(block) > max_lines:
            pieces.append([])
        pieces[-1] += block
    return ["\n".join(p).strip("\n") for p in pieces]


def _pieces(nb) -> list:
    """The cells, each markdown cell cut at its headings, each long code cell at blank lines (outputs on the last
    piece)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("id") != "setup":
            pieces = split_code(cell.source)
            for k, piece in enumerate(pieces):
                part = copy.deepcopy(cell) if k < len(pieces) - 1 else cell
                part.source = piece
                if k < len(pieces) - 1:
                    part.outputs = []
                if k:
                    part.id = f"{cell.get('id', 'code')}-{k}"
                cells.append(part)
        elif cell.cell_type == "markdown":
            for k, piece in enumerate(split_at_headings(cell.source)):
                part = copy.deepcopy(cell)
                part.source = piece
                if k:
                    part.id = f"{cell.get('id', 'md')}-{k}"
                cells.append(part)
        else:
            cells.append(cell)
    return cells


def speaker_notes(nb, minutes: int | None = None) -> str:
    """The plan of the lecture for the speaker view: its time and its sections (the notebook's ``##`` headings)."""
    firsts = [
        piece.split("\n", 1)[0]
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for piece in split_at_headings(cell.source)
    ]
    sections = [line[3:].strip() for line in firsts if line.startswith("## ")]
    lines = [f"**Plan**{f' (about {minutes} minutes)' if minutes else ''}:", ""]
    return "\n".join(lines + [f"{k}. {title}" for k, title in enumerate(sections, start=1)])


def prepare(nb, minutes: int | None = None) -> nbformat.NotebookNode:
    """A copy of an executed notebook with reveal.js slide types set from its headings (see the module doc); the
    title slide's speaker notes give the plan (``minutes`` from course.toml, the sections)."""
    nb = copy.deepcopy(nb)
    notes = nbformat.v4.new_markdown_cell(speaker_notes(nb, minutes), id="speaker-notes")
    notes.metadata["slideshow"] = {"slide_type": "notes"}
    for cell in nb.cells:
        trim_outputs(cell)
        if cell.cell_type == "markdown":
            cell.source = _link_decks(cell.source)
    cells, used = [], None  # used: pixels filled on the current slide; None right after the title slide

    def add(cell, kind: str, height: float) -> None:
        nonlocal used
        if kind == "-" and used is None:
            kind = "slide"  # the title slide holds the header alone
        elif kind == "-" and used and used + height > BUDGET:
            kind = "subslide"  # the section goes on below
            cell.metadata.setdefault("tags", []).append("continued")
        used = height if kind != "-" else used + height
        cell.metadata["slideshow"] = {"slide_type": kind}
        cells.append(cell)

    for cell in _pieces(nb):
        cell.metadata.pop("slideshow", None)
        if cell.get("id") == "setup":
            cell.metadata["slideshow"] = {"slide_type": "skip"}
            cells.append(cell)
        elif cell.get("id") == "header":
            cell.source = _title_slide(cell)
            cell.metadata["slideshow"] = {"slide_type": "slide"}
            cells += [cell, notes]
            used = None
        elif cell.cell_type != "code":
            add(cell, {1: "slide", 2: "slide", 3: "subslide"}.get(heading_level(cell), "-"), input_height(cell))
        else:
            code, out = input_height(cell), output_height(cell)
            here = used or 0.0
            if not out or here + code + out <= BUDGET or (here + code > BUDGET and code + out <= BUDGET):
                add(cell, "-", code + out)  # with its outputs, here or on the next subslide
            else:
                # the code here (or on the next subslide when even that is full), its outputs on a subslide below
                shown = copy.deepcopy(cell)
                shown.outputs = []
                add(shown, "-", code)
                cell.id = f"{cell.get('id', 'code')}-out"
                cell.metadata.setdefault("tags", []).append(OUTPUT_ONLY)
                add(cell, "subslide", out)
    nb.cells = cells
    return nb


def _npm() -> str:
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit(
            "error: npm (Node.js) is needed once, to fetch reveal.js, require.js, jQuery and MathJax from "
            "the npm registry into .course_cache/slides-vendor/; install Node.js (e.g. apt-get install "
            "npm) and run make slides again"
        )
    return npm


def fetch_vendor(cache: Path = CACHE) -> Path:
    """reveal.js & co. in the cache (npm install, once); returns their node_modules folder."""
    modules = cache / "node_modules"
    missing = [
        n
        for n, v in VENDOR.items()
        if not (modules / n / "package.json").exists()
        or f'"version": "{v}"' not in (modules / n / "package.json").read_text()
    ]
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        specs = [f"{n}@{v}" for n, v in VENDOR.items()]
        print(f"slides: fetching {' '.join(specs)} from the npm registry into {cache}", flush=True)
        subprocess.run(
            [
                _npm(),
                "install",
                "--prefix",
                str(cache),
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                *specs,
            ],
            check=True,
        )
    return modules


def copy_vendor(modules: Path, out: Path) -> None:
    """The parts of each package the decks load, into out/vendor/<package>/."""
    for name, parts in VENDOR_FILES.items():
        for part in parts:
            src, dst = modules / name / part, out / "vendor" / name / part
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)


def nbconvert_args(out: Path) -> list[str]:
    vendor = "vendor"  # relative to the deck: the folder can be moved or served from anywhere
    return [
        "--to",
        "slides",
        "--output-dir",
        str(out),
        f"--TemplateExporter.extra_template_basedirs={TEMPLATES}",
        f"--template={TEMPLATE}",
        f"--SlidesExporter.reveal_url_prefix={vendor}/reveal.js",
        f"--SlidesExporter.reveal_width={WIDTH}",
        f"--SlidesExporter.reveal_height={HEIGHT}",
        "--TagRemovePreprocessor.enabled=True",
        f"--TagRemovePreprocessor.remove_input_tags={OUTPUT_ONLY}",
        "--SlidesExporter.reveal_number=c/t",
        "--SlidesExporter.reveal_transition=none",
        "--SlidesExporter.reveal_theme=white",
        f"--HTMLExporter.require_js_url={vendor}/requirejs/require.js",
        f"--HTMLExporter.jquery_url={vendor}/jquery/dist/jquery.min.js",
        f"--HTMLExporter.mathjax_url={vendor}/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
    ]


def executed(src: Path, selection: list[str], root: Path = ROOT) -> list[Path]:
    """The executed notebooks under src (src/weekN/NN_*.ipynb) of course.toml's steps, or of the selected weeks or
    notebooks; says which were not executed (``make course`` executes them)."""
    steps = [s["path"] for s in load_course(root)["step"] if not s.get("planned")]
    if selection:
        wanted = [
            p for p in steps if any(p == item.rstrip("/") or p.startswith(item.rstrip("/") + "/") for item in selection)
        ]
        if not wanted:
            raise SystemExit(
                f"error: {' '.join(selection)}: no notebook of course.toml there; expected week folders "
                "or notebooks, e.g. week1 or week3/10_finetune_bert_sentiment.ipynb"
            )
    else:
        wanted = steps
    found = [src / p for p in wanted if (src / p).exists()]
    missing = [p for p in wanted if not (src / p).exists()]
    if missing:
        print(
            f"slides: not executed in {os.path.relpath(src, root)}/, so no deck: {', '.join(missing)} "
            "(run `make course`)",
            file=sys.stderr,
        )
    if not found:
        raise SystemExit(f"error: no executed notebooks under {src}/; run `make course` first")
    return found


def build(paths: list[Path], out: Path, cache: Path = CACHE) -> list[Path]:
    """Prepare each notebook, convert them all in one nbconvert run, vendor what the decks load."""
    minutes = {Path(s["path"]).name: s.get("minutes") for s in load_course()["step"]}
    out.mkdir(parents=True, exist_ok=True)
    copy_vendor(fetch_vendor(cache), out)
    with tempfile.TemporaryDirectory(prefix="slides-") as tmp:
        copies = []
        for path in paths:
            target = Path(tmp) / path.name
            nbformat.write(prepare(nbformat.read(path, as_version=4), minutes.get(path.name)), target)
            copies.append(str(target))
        jupyter = [sys.executable, "-m", "nbconvert"]
        subprocess.run([*jupyter, *nbconvert_args(out), "--log-level=WARN", *copies], check=True)
    decks = [out / deck_name(p) for p in paths]
    for deck in decks:
        print(f"slides: {os.path.relpath(deck, ROOT)}")
    return decks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("selection", nargs="*", help="week folders or notebooks under --src (default: all)")
    parser.add_argument("--src", default="build", help="folder of executed notebooks (default: build)")
    parser.add_argument("--out", default="build/slides", help="folder for the decks (default: build/slides)")
    args = parser.parse_args()
    src, out = (ROOT / args.src).resolve(), (ROOT / args.out).resolve()
    build(executed(src, args.selection), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
