"""Generate the Chinese edition from the English notebooks and the catalogs, and find every drift."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.authoring import headers, solutions
from tools.i18n import catalog
from tools.i18n.catalog import Entry, digest

ROOT = Path(__file__).resolve().parents[2]
LANG = "zh"
WORDS = {
    "week": "*{course} · 第 {week} 周 · 约 {minutes} 分钟*",
    "t4": "*{course} · 第 {week} 周 · 约 {minutes} 分钟"
    " · 在 Colab 的 T4 上运行约 {t4} 分钟（首次运行 {t4_first} 分钟）*",
    "you_will": "**本节你将**",
    "previous": "上一节",
    "next": "下一节",
    "colon": "：",
}
README_SECTIONS = ("", "Quickstart")  # the README's learner-facing parts ("" = the opening paragraphs)
UNTRANSLATED = "[EN] "  # what `stub` writes before the English text of an entry that still needs translating
_LINK = re.compile(r"(\]\()([^)\s]+)(\))")


@dataclass
class Drift:
    """What stands between the catalogs and a complete, current edition."""

    missing: list[tuple[str, str, str]] = field(default_factory=list)  # (catalog, key, English text)
    stale: list[tuple[str, str, str]] = field(default_factory=list)
    glossary: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)  # files that differ from what build writes

    def lines(self) -> list[str]:
        return (
            [f"{c}: {k}: no translation" for c, k, _ in self.missing]
            + [f"{c}: {k}: the English changed since it was translated" for c, k, _ in self.stale]
            + self.glossary
            + [f"{g}: differs from what `python -m tools.i18n build` writes" for g in self.generated]
        )


# ---------------------------------------------------------------- glossary


def glossary(root: Path = ROOT, checked_only: bool = True) -> list[tuple[str, list[str]]]:
    """``(English term, [Chinese forms])`` from i18n/zh/TERMINOLOGY.md's table (alternatives separated by ' / '):
    the rows marked 是 in the 检查 column, or all of them."""
    rows = []
    for line in (root / "i18n" / LANG / "TERMINOLOGY.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0] or set(cells[0]) <= set("-: ") or cells[0] == "English":
            continue
        if cells[2] == "是" or not checked_only:
            rows.append((cells[0], [z.strip() for z in cells[1].split(" / ") if z.strip()]))
    return rows


def prose_only(text: str) -> str:
    """English prose without code, math, link targets and HTML, where a glossary term would be code otherwise."""
    for pattern in (r"```.*?```", r"`[^`\n]*`", r"\$\$.*?\$\$", r"\$[^$\n]+\$", r"\]\([^)]*\)", r"<[^>\n]+>"):
        text = re.sub(pattern, " ", text, flags=re.S)
    return text


def glossary_problems(where: str, english: str, chinese: str, terms) -> list[str]:
    problems = []
    prose = prose_only(english).lower()
    for term, forms in terms:
        if re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", prose) and not any(f in chinese for f in forms):
            problems.append(f"{where}: the English says '{term}', the translation has none of {' / '.join(forms)}")
    return problems


# ---------------------------------------------------------------- course texts (titles, goals, week names)


def course_entries(course: dict) -> list[tuple[str, str, str]]:
    """``(kind, key, English)`` for every course-level text: the course title, week names, step titles and goals."""
    out = [("course", "title", course["course"]["title"])]
    out += [("week", week, name) for week, name in course["weeks"].items()]
    out += [("step", s["path"], "\n".join([s["title"], *(f"- {g}" for g in s["goals"])])) for s in course["step"]]
    return out


def translations(root: Path, path: Path, wanted, drift: Drift, terms) -> dict[tuple[str, str], str]:
    """The translation of each wanted ``(kind, key, English)`` from the catalog at ``path``, or the English itself
    where there is none or it is stale (recorded in ``drift``)."""
    entries = catalog.load(path)
    rel = str(path.relative_to(root))
    out = {}
    for kind, key, english in wanted:
        entry: Entry | None = entries.get((kind, key))
        if entry is None or not entry.text.strip() or entry.text.startswith(UNTRANSLATED):
            drift.missing.append((rel, f"{kind} {key}", english))
            out[(kind, key)] = english
        elif entry.english_hash != digest(english):
            drift.stale.append((rel, f"{kind} {key}", english))
            out[(kind, key)] = entry.text
        else:
            out[(kind, key)] = entry.text
            drift.glossary += glossary_problems(f"{rel}: {kind} {key}", english, entry.text, terms)
    return out


def course_texts(root: Path, course: dict, drift: Drift, terms):
    """``texts(step) -> (title, goals, course title)`` in Chinese, and the week names."""
    got = translations(root, root / "i18n" / LANG / "course.md", course_entries(course), drift, terms)
    title = got[("course", "title")]
    weeks = {w: got[("week", w)] for w in course["weeks"]}

    def texts(step: dict):
        lines = got[("step", step["path"])].splitlines()
        return lines[0], [line.removeprefix("- ") for line in lines[1:] if line.startswith("- ")], title

    return texts, weeks


# ---------------------------------------------------------------- notebooks


def edition_files(root: Path, course: dict) -> list[str]:
    """The English notebooks that have a Chinese counterpart: every lesson and its worked solution."""
    found = []
    for step in course["step"]:
        if step.get("planned"):
            continue
        for rel in (step["path"], solutions.solution_path(step)):
            if (root / rel).exists():
                found.append(rel)
    return found


def mirrored(root: Path, course: dict) -> set[str]:
    """Repository paths that the Chinese edition has a copy of, under zh/."""
    weeks = {f"week{w}/README.md" for w in course["weeks"]}
    return set(edition_files(root, course)) | weeks | {"README.md"}


def relink(text: str, rel: str, mirror: set[str]) -> str:
    """Relative links of a text that sat at ``rel``, for its copy at ``zh/rel``: a link to a mirrored file keeps
    pointing at the copy, any other one at the repository's file."""

    def fix(m):
        target = m.group(2)
        if target.startswith("#") and rel == "README.md":  # a README section the edition does not translate
            return f"{m.group(1)}../README.md{target}{m.group(3)}"
        if re.match(r"^[a-z]+:|^#|^/", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
        if resolved in mirror:
            return m.group(0)
        new = posixpath.relpath(resolved, posixpath.join(LANG, posixpath.dirname(rel)))
        return f"{m.group(1)}{new}{'#' + anchor if anchor else ''}{m.group(3)}"

    return _LINK.sub(fix, text)


def solution_header(course: dict, step: dict, title: str) -> str:
    meta = course["course"]
    path = f"{LANG}/{solutions.solution_path(step)}"
    colab = f"https://colab.research.google.com/github/{meta['repo']}/blob/{meta['branch']}/{path}"
    lesson = f"{step['number']:02d} · {title}"
    return "\n".join(
        [
            f"# 解答 · {lesson}",
            "",
            f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})",
            "",
            f"*[{lesson}](../../{step['path']}) 的练习解答。请先自己动手做每道练习。"
            "每个解答都能单独运行（它重复了课程中用到的部分），答案是一个数或一条性质时，用断言检验。*",
        ]
    )


def translate_notebook(root: Path, rel: str, course: dict, texts, mirror: set[str], drift: Drift, terms) -> dict:
    en = json.loads((root / rel).read_text())
    step = next(s for s in course["step"] if rel in (s["path"], solutions.solution_path(s)))
    wanted = [
        ("cell", c["id"], "".join(c["source"]))
        for c in en["cells"]
        if c["cell_type"] == "markdown" and c.get("id") != "header"
    ]
    cat = root / "i18n" / LANG / Path(rel).with_suffix(".md")
    got = translations(root, cat, wanted, drift, terms)
    cells = []
    for cell in en["cells"]:
        cell = dict(cell)
        if cell.get("id") == "header":
            if rel == step["path"]:
                cell["source"] = headers.header_cells(course, step, WORDS, texts, prefix=f"{LANG}/")[0]["source"]
            else:
                cell["source"] = solution_header(course, step, texts(step)[0])
        elif cell["cell_type"] == "markdown":
            cell["source"] = relink(got[("cell", cell["id"])], rel, mirror)
        cells.append(cell)
    return {**en, "cells": cells, "metadata": {**en.get("metadata", {}), "language": LANG}}


# ---------------------------------------------------------------- READMEs


def week_readme(course: dict, week: int, texts, weeks: dict) -> str:
    steps = [s for s in course["step"] if s["week"] == week]
    out = [f"# 第 {week} 周：{weeks[str(week)]}", "", "| 笔记本 | 你将 | 时间 |", "|---|---|---|"]
    for s in steps:
        title, goals, _ = texts(s)
        if s.get("planned"):
            out.append(f"| {s['number']:02d} · {title} | 编写中 | - |")
            continue
        out.append(
            f"| [{s['number']:02d} · {title}]({Path(s['path']).name}) | {'<br>'.join(goals)} | "
            f"{s.get('minutes', '?')} 分钟 |"
        )
    out += [
        "",
        "按顺序学习；每个笔记本以运行卡片（run card）开始，以小结和练习结束。",
        "",
        f"[English](../../week{week}/README.md)",
    ]
    return "\n".join(out) + "\n"


def readme_sections(text: str) -> dict[str, str]:
    """The README's ``## `` sections by heading ("" = the opening paragraphs after the title)."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    out = {"": "\n".join(parts[0].splitlines()[1:]).strip()}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        out[heading.strip()] = body.strip()
    return out


def readme(root: Path, course: dict, texts, weeks: dict, drift: Drift, terms, mirror: set[str]) -> str:
    sections = readme_sections((root / "README.md").read_text())
    wanted = [
        ("readme", name or "intro", f"## {name}\n\n{sections[name]}" if name else sections[name])
        for name in README_SECTIONS
        if name in sections
    ]
    got = translations(root, root / "i18n" / LANG / "README.md", wanted, drift, terms)
    title = texts(course["step"][0])[2]
    out = [
        f"# {title}",
        "",
        relink(got[("readme", "intro")], "README.md", mirror),
        "",
        "*这是课程的中文版：说明文字是中文，代码与英文版逐字相同，运行时打印的输出（运行卡片、结果、检查信息）保持英文。"
        "[English](../README.md)*",
    ]
    for name in README_SECTIONS[1:]:
        if ("readme", name) in got:
            out += ["", relink(got[("readme", name)], "README.md", mirror)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the whole edition


def _dump(nb: dict) -> str:
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def generate(root: Path = ROOT) -> tuple[dict[str, str], Drift]:
    """``{path under the repository: text}`` of every file of the edition, and the drift found on the way."""
    course, drift, terms = headers.load_course(root), Drift(), glossary(root)
    texts, weeks = course_texts(root, course, drift, terms)
    mirror = mirrored(root, course)
    files = {}
    for rel in edition_files(root, course):
        files[f"{LANG}/{rel}"] = _dump(translate_notebook(root, rel, course, texts, mirror, drift, terms))
    for week in course["weeks"]:
        files[f"{LANG}/week{week}/README.md"] = week_readme(course, int(week), texts, weeks)
    files[f"{LANG}/README.md"] = readme(root, course, texts, weeks, drift, terms, mirror)
    return files, drift


def build(root: Path = ROOT, check: bool = False) -> Drift:
    """Write (or, with ``check``, compare) every generated file; return the drift. A file under zh/ that the edition
    no longer has is removed (reported in check mode)."""
    files, drift = generate(root)
    for rel, text in files.items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            drift.generated.append(rel)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in sorted((root / LANG).rglob("*")) if (root / LANG).exists() else []:
        rel = str(path.relative_to(root))
        if path.is_file() and rel not in files:
            drift.generated.append(rel)
            if not check:
                path.unlink()
    return drift


def stub(root: Path = ROOT) -> list[str]:
    """Add an entry for every missing or stale translation to its catalog, holding ``[EN] `` and the English text, for
    a translator to replace (an entry that still starts with ``[EN] `` counts as missing). Entries are kept in the
    English order; stale ones keep their old translation below the new English, to edit. Returns the catalogs
    written."""
    _, drift = generate(root)
    todo: dict[str, dict[str, str]] = {}
    for where, key, english in drift.missing + drift.stale:
        todo.setdefault(where, {})[key] = english
    course = headers.load_course(root)
    written = []
    for where, keys in todo.items():
        path = root / where
        entries = catalog.load(path)
        order = _order(root, course, where)
        merged = []
        for kind, key, english in order:
            old = entries.get((kind, key))
            if f"{kind} {key}" in keys:
                note = f"\n\n{old.text}" if old and not old.text.startswith(UNTRANSLATED) else ""
                merged.append(Entry(kind, key, digest(english), f"{UNTRANSLATED}{english}{note}"))
            elif old:
                merged.append(old)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(catalog.render(merged), encoding="utf-8")
        written.append(where)
    return written


def _order(root: Path, course: dict, where: str) -> list[tuple[str, str, str]]:
    """``(kind, key, English)`` of a catalog's entries, in the order of the English text."""
    rel = Path(where).relative_to(Path("i18n") / LANG)
    if str(rel) == "course.md":
        return course_entries(course)
    if str(rel) == "README.md":
        sections = readme_sections((root / "README.md").read_text())
        return [("readme", n or "intro", f"## {n}\n\n{sections[n]}" if n else sections[n]) for n in README_SECTIONS]
    en = json.loads((root / rel.with_suffix(".ipynb")).read_text())
    return [
        ("cell", c["id"], "".join(c["source"]))
        for c in en["cells"]
        if c["cell_type"] == "markdown" and c.get("id") != "header"
    ]
