"""Translation catalogs: Markdown files of entries ``<!-- KIND KEY en:HASH -->`` followed by the translation.

A hash is the first 12 hex digits of the SHA-256 of the exact English text the entry translates, so any edit of the
English, even one character, makes the entry stale.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MARKER = re.compile(r"^<!-- (cell|step|week|course|readme) (.*?) ?en:([0-9a-f]{12}) -->$", re.M)


def digest(english: str) -> str:
    return hashlib.sha256(english.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Entry:
    kind: str
    key: str
    english_hash: str
    text: str


def parse(text: str, where: str = "catalog") -> dict[tuple[str, str], Entry]:
    """``{(kind, key): Entry}`` from a catalog's text; a duplicated key is an error."""
    entries = {}
    marks = list(MARKER.finditer(text))
    if text[: marks[0].start() if marks else len(text)].strip():
        raise ValueError(f"{where}: text before the first entry marker")
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        entry = Entry(m.group(1), m.group(2).strip(), m.group(3), text[m.end() : end].strip("\n"))
        if (entry.kind, entry.key) in entries:
            raise ValueError(f"{where}: two entries for {entry.kind} {entry.key}")
        entries[(entry.kind, entry.key)] = entry
    return entries


def load(path: Path) -> dict[tuple[str, str], Entry]:
    return parse(path.read_text(encoding="utf-8"), str(path)) if path.exists() else {}


def render(entries: list[Entry]) -> str:
    """A catalog's text, entries in the given order."""
    blocks = [f"<!-- {e.kind} {e.key} en:{e.english_hash} -->\n{e.text.strip()}\n" for e in entries]
    return "\n".join(blocks)
