"""``make test-gpu``: every notebook on a CUDA GPU, then the measurements next to the T4 projection.

    python -m tools.build.gpu_run --require-cuda       # exit 2 at once, with the reason, where there is no CUDA
    python -m tools.build.gpu_run --card               # the run card's hardware and gpu lines on this machine
    python -m tools.build.gpu_run --compare build/gpu/tiny.json build/gpu/full.json ...

make test-gpu runs ``--require-cuda``, the card, every notebook in the tiny profile (``tools.build.run_course``, one
kernel at a time, ``--json build/gpu/tiny.json``), the full rehearsal (``make test-full``'s offline stand-ins,
``--json build/gpu/rehearsal.json``), with ``GPU_FULL=1`` also the real full profile (needs the Hub:
``build/gpu/full.json``), and then ``--compare``: per notebook and run, seconds and peak CUDA memory measured, the
T4 projection (tools/build/t4_budget.json) and their ratios. The tiny profile and the rehearsal run tiny sizes, so
their ratios are far below 1; only the full profile's ratios test the projection (on a T4; other GPUs are faster).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NO_CUDA = (
    "make test-gpu needs a CUDA GPU, and torch.cuda.is_available() is False on this machine ({why}). "
    "Run it on a machine with an NVIDIA GPU and a CUDA build of torch (Colab: Runtime > Change runtime type > T4 GPU); "
    "here, use make test (CPU)."
)


def cuda_problem() -> str | None:
    """Why CUDA cannot be used here, or None when it can."""
    import torch

    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build"
    if not torch.cuda.is_available():
        return "no CUDA device is visible"
    return None


def card_lines() -> list[str]:
    """The run card's hardware and gpu lines as a notebook on this machine would print them (tiny profile)."""
    import contextlib
    import io

    from shared.course import run_card, start

    with contextlib.redirect_stdout(io.StringIO()):  # start() prints the whole card; keep its hardware lines
        card = run_card(start())
    return [line for line in card.splitlines() if line.startswith(("hardware", "gpu", "versions"))]


def compare(runs: dict[str, list[dict]], budget: dict) -> str:
    """A table: notebook, then per run seconds and CUDA MB with their ratio to the T4 projection."""
    names = list(runs)
    header = ["notebook", "T4 min", "T4 GiB"] + [f"{n} {col}" for n in names for col in ("s", "ratio", "MB", "ratio")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    projected = budget["notebooks"]
    by_run = {name: {row["notebook"]: row for row in rows} for name, rows in runs.items()}
    for path in sorted(set(projected) | {p for rows in by_run.values() for p in rows}):
        p = projected.get(path)
        cells = [path, str(p["minutes"]) if p else "-", str(p["peak_gib"]) if p else "-"]
        for name in names:
            row = by_run[name].get(path)
            if row is None:
                cells += ["-"] * 4
                continue
            mb = row.get("cuda_peak_mb")
            seconds_ratio = f"{row['seconds'] / (p['minutes'] * 60):.2f}" if p else "-"
            mb_ratio = f"{mb / (p['peak_gib'] * 1024):.2f}" if p and mb else "-"
            failed = "" if row.get("ok", True) else " FAILED"
            cells += [f"{row['seconds']:.0f}{failed}", seconds_ratio, f"{mb:.0f}" if mb else "-", mb_ratio]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require-cuda", action="store_true", help="exit 2 with the reason where CUDA is missing")
    parser.add_argument("--card", action="store_true", help="print the run card's hardware lines")
    parser.add_argument("--compare", nargs="*", default=[], help="run_course --json files (name = file stem)")
    args = parser.parse_args(argv)
    if args.require_cuda:
        problem = cuda_problem()
        if problem:
            print(NO_CUDA.format(why=problem), file=sys.stderr)
            return 2
    if args.card:
        print("\n".join(card_lines()))
    if args.compare:
        from tools.build import t4_budget

        runs = {Path(f).stem: json.loads(Path(f).read_text()) for f in args.compare if Path(f).exists()}
        print(compare(runs, t4_budget.load()))
        print("\nratios: measured / projected for a Colab T4 in the full profile (tiny and rehearsal: tiny sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
