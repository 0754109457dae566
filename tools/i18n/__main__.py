"""``python -m tools.i18n status|build|check``: see tools/i18n/__init__.py."""

from __future__ import annotations

import argparse
import sys
import textwrap

from tools.i18n.edition import ROOT, build, generate, stub


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The Chinese edition: status, build, check (tools/i18n).")
    parser.add_argument("action", choices=["status", "stub", "build", "check"])
    parser.add_argument("--full", action="store_true", help="status: print the whole English text of each entry")
    args = parser.parse_args(argv)
    if args.action == "status":
        _, drift = generate(ROOT)
        for kind, items in (("missing", drift.missing), ("stale", drift.stale)):
            for where, key, english in items:
                shown = english if args.full else textwrap.shorten(" ".join(english.split()), 160)
                print(f"{kind}: {where} | {key}\n    {shown}")
        for line in drift.glossary:
            print(f"glossary: {line}")
        print(f"status: {len(drift.missing)} missing, {len(drift.stale)} stale, {len(drift.glossary)} glossary")
        return 0
    if args.action == "stub":
        for where in stub(ROOT):
            print(f"stub: {where}")
        return 0
    drift = build(ROOT, check=args.action == "check")
    for line in drift.lines():
        print(line)
    if args.action == "build":
        print(
            f"build: {len(drift.generated)} file(s) written; {len(drift.missing)} missing, {len(drift.stale)} "
            f"stale translations, {len(drift.glossary)} glossary problems"
        )
        return 0
    print(f"check: {len(drift.lines())} problem(s)")
    return 1 if drift.lines() else 0


if __name__ == "__main__":
    sys.exit(main())
