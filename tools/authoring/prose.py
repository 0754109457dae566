"""Prose that cannot contradict its run: every number a lesson's text quotes must be one the notebook prints or
one its code holds (a size it sets, a threshold it asserts).

    python -m tools.authoring.prose build                       # `make course`'s executed notebooks (tiny)
    python -m tools.authoring.prose build/full --rehearsal      # the rehearsal's (`make test-full`)

It also reads everything a learner sees (text, code and outputs) for the course's own machinery: no absolute path
of the machine that ran it, no CI, rehearsal, stand-in, test or draft talk (the rehearsal's own run card excepted).
"Draft" is flagged in any sense: speculative decoding's lesson says "guess" and "assistant model" (transformers'
own name), so the word never reads as the course's history.

Read from executed notebooks, so a number the run renders into Markdown (``display(Markdown(f"..."))``) counts as
printed. A quoted number matches a printed or coded one at the quoted precision, also as a fraction or a percentage
(``98%`` matches ``0.980`` and ``98.0%``; ``0.98`` matches ``98.0%``) and with thousands separators dropped. Left
out, since they are not measurements: LaTeX (``$...$``, formula constants), code spans and links, the generated
header, headings, list markers, integers up to 12 (counts written as digits), years, version numbers, numbers glued
to a word or a unit letter (``GPT-2``, ``135M``, ``d_k``), and the closing ``## Exercises`` (questions, not claims
about this run). Exit status 1 lists every number it could not find.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

_NUMBER = re.compile(r"(?<![\w.\-/^_])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?:e([-+]?\d+))?(\s?%)?(?![\w.]*\d)(?![A-Za-z_])")
_CODE_NUMBER = re.compile(r"(?<![\w.])(\d+(?:_\d+)*)(\.\d*)?(?:[eE]([-+]?\d+))?(%)?")
_STRIP = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"\$[^$\n]+\$"),  # inline math
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"<[^>\n]+>"),  # HTML tags
    re.compile(r"^\s*#+ .*$", re.M),  # headings
    re.compile(r"^\s*(?:\d+\.|[-*])\s", re.M),  # list markers
    re.compile(r"\b\d+\.\d+\.\d+\b"),  # versions
    re.compile(
        r"\b(?:notebooks?|lessons?|steps?|weeks?|exercises?|week-|Python|cells?|chapters?|sections?|"
        r"figures?|q)\s*\d+(?:(?:,\s*|\s+and\s+|\s+or\s+|-)\d+)*",
        re.I,
    ),
]


def quoted(text: str) -> list[tuple[str, float, int, bool]]:
    """``(as written, value, decimals, is_percent)`` for every number the prose quotes that could be a measurement."""
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    found = []
    for m in _NUMBER.finditer(text):
        whole, frac, exp, pct = m.group(1), m.group(2) or "", m.group(3), m.group(4)
        value = float(whole.replace(",", "") + frac + (f"e{exp}" if exp else ""))
        decimals = len(frac) - 1 if frac else 0
        if exp:
            decimals = max(0, decimals - int(exp))
        if not pct and not frac and not exp and (value <= 12 or (1900 <= value <= 2099 and "," not in whole)):
            continue
        found.append((m.group(0).strip(), value, decimals, bool(pct)))
    return found


def numbers_in(text: str, pattern: re.Pattern = _CODE_NUMBER) -> set[float]:
    values = set()
    for m in pattern.finditer(text.replace(",", "") if pattern is not _CODE_NUMBER else text):
        digits = m.group(1).replace("_", "").replace(",", "") + (m.group(2) or "")
        if digits.endswith("."):
            digits += "0"
        try:
            values.add(float(digits + (f"e{m.group(3)}" if m.group(3) else "")))
        except ValueError:
            continue
    return values


def matches(value: float, decimals: int, percent: bool, pool: set[float]) -> bool:
    """Does a number of ``pool`` round to ``value`` at the quoted precision, as itself, a fraction or a percentage?"""
    tolerance = 0.5 * 10 ** (-decimals) + 1e-9
    for w in pool:
        for scaled in (w, w * 100, w / 100) if percent or decimals else (w, w * 100):
            if abs(scaled - value) <= tolerance:
                return True
    return False


def outputs_text(nb: dict) -> str:
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append("".join(out.get("text", "")))
            for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                data = out.get("data", {}).get(mime)
                if data:
                    parts.append("".join(data) if isinstance(data, list) else data)
    return "\n".join(parts)


def unfound(nb: dict) -> list[str]:
    """``cell id: "number" in "...context..."`` for every quoted number the notebook neither prints nor holds."""
    cells = nb["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    pool = numbers_in(outputs_text(nb), re.compile(r"(?<![\w.])(\d[\d,]*)(\.\d+)?(?:e([-+]?\d+))?")) | numbers_in(code)
    problems = []
    for cell in cells:
        if cell["cell_type"] != "markdown" or cell.get("id") == "header":
            continue
        text = "".join(cell["source"]).split("## Exercises")[0]
        for written, value, decimals, percent in quoted(text):
            if not matches(value, decimals, percent, pool):
                at = text.find(written)
                context = " ".join(text[max(0, at - 50) : at + len(written) + 30].split())
                problems.append(f'{cell.get("id")}: {written!r} in "...{context}..."')
    return problems


MACHINERY = re.compile(
    r"(?<![\w.~])/(?:root|home|Users|tmp|work|var|opt)/\S*|[A-Z]:\\\\Users|\bCI\b|rehears|stand-in|"
    r"\bdraft|"
    r"during development|test machine|\bnbval\b|make test|pytest|test suite",
    re.I,
)


def machinery(nb: dict) -> list[str]:
    """Where the course's own machinery shows in what a learner reads."""
    found = []
    for cell in nb["cells"]:
        text = "".join(cell["source"]) + "\n" + outputs_text({"cells": [cell]})
        for m in MACHINERY.finditer(text):
            context = " ".join(text[max(0, m.start() - 40) : m.end() + 30].split())
            found.append(f'{cell.get("id")}: {m.group(0)!r} in "...{context}..."')
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="where the executed notebooks are (build, build/full)")
    parser.add_argument("--rehearsal", action="store_true", help="the rehearsal's notebooks: no machinery check")
    args = parser.parse_args(argv)
    paths = sorted(Path(args.folder).glob("week*/*.ipynb"))
    if not paths:
        print(f"error: no executed notebooks under {args.folder}/week*/; run `make course` first", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        nb = json.loads(path.read_text())
        if not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
            print(f"error: {path} has no outputs; expected an executed notebook", file=sys.stderr)
            return 2
        problems = unfound(nb) + ([] if args.rehearsal else machinery(nb))
        failed += len(problems)
        for problem in problems:
            print(f"{path.relative_to(args.folder)}: {problem}")
    print(
        f"prose check: {len(paths)} notebooks, {failed} problem(s): quoted numbers neither printed nor in the code"
        + ("" if args.rehearsal else ", course machinery in the learner's view")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
