"""tools/build/website.py: the Sphinx project it generates from course.toml gives every notebook a page in its week's
navigation, and its link crawler finds what is broken. The full Sphinx build and the crawl of the real site run in
`make site` (about 10 s of CPU, longer on a loaded machine: too slow for `make test`)."""

import ast
import re
from pathlib import Path

import pytest

from tools.authoring.headers import load_course
from tools.build import website

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    src = tmp_path_factory.mktemp("site") / "src"
    report = website.generate(src, executed=None)
    return src, report


def _toctree_entries(page: Path) -> list[str]:
    entries = []
    for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), flags=re.S):
        entries += [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(":")]
    return entries


def test_every_notebook_and_solution_is_a_page_in_its_weeks_toctree(project):
    src, report = project
    course = load_course()
    ready = [s for s in course["step"] if not s.get("planned")]
    assert ready, "course.toml lists no notebook"
    for step in ready:
        assert (src / step["path"]).exists(), step["path"]
        entries = _toctree_entries(src / f"week{step['week']}" / "index.md")
        assert "/" + step["path"].removesuffix(".ipynb") in entries, step["path"]
        solution = "solutions/" + step["path"]
        if (ROOT / solution).exists():
            assert "/" + solution.removesuffix(".ipynb") in entries, solution
    assert _toctree_entries(src / "index.md") == [f"week{w}/index" for w in course["weeks"]]
    assert report["executed"] == [] and len(report["unexecuted"]) >= len(ready)


def test_the_index_has_the_course_intro_and_a_row_per_week(project):
    src, _ = project
    index = (src / "index.md").read_text()
    course = load_course()
    assert index.startswith(f"# {course['course']['title']}\n") and "PyTorch Lightning" in index
    for week in course["weeks"]:
        assert f"](week{week}/index.md)" in index


def test_conf_never_executes_and_uses_the_book_theme(project):
    src, _ = project
    conf = (src / "conf.py").read_text()
    namespace = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(conf).body
        if isinstance(node, ast.Assign)
    }  # every value in conf.py is a literal
    assert namespace["nb_execution_mode"] == "off"
    assert namespace["html_theme"] == "sphinx_book_theme" and namespace["extensions"] == ["myst_nb"]
    repo = load_course()["course"]["repo"]
    assert namespace["html_theme_options"]["repository_url"] == f"https://github.com/{repo}"


def test_links_between_notebooks_resolve_inside_the_project(project):
    """The notebooks' relative links (previous/next, solution -> lesson) name files the project has."""
    src, _ = project
    for nb in src.rglob("*.ipynb"):
        for target in re.findall(r"\]\(((?!https?://)[^)#\s]+\.ipynb)", nb.read_text()):
            assert (nb.parent / target).resolve().exists(), f"{nb.relative_to(src)} links to {target}"


def test_executed_notebooks_are_preferred(tmp_path):
    step = next(s for s in load_course()["step"] if not s.get("planned"))
    executed = tmp_path / "build"
    (executed / step["path"]).parent.mkdir(parents=True)
    (executed / step["path"]).write_text((ROOT / step["path"]).read_text())
    report = website.generate(tmp_path / "src", executed=executed)
    assert report["executed"] == [step["path"]]


def test_the_crawler_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/page.html#there">ok</a> <a href="a/page.html#nowhere">x</a>'
        '<img src="_images/gone.png"> <a href="https://example.org/x">ext</a>'
        '<a href="#top">self</a><span id="top"></span>'
    )
    (tmp_path / "a" / "page.html").write_text(
        '<h1 id="there">T</h1><a href="../missing.html">m</a><a href="../">up</a>'
    )
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "macro.html").write_text('<a href="{{ pathto(x) }}">template, not a page</a>')
    assert website.broken_links(tmp_path) == [
        "a/page.html: ../missing.html (no such file)",
        "index.html: _images/gone.png (no such file)",
        "index.html: a/page.html#nowhere (no such anchor)",
    ]


def test_missing_pages_are_reported(tmp_path):
    step = next(s for s in load_course()["step"] if not s.get("planned"))
    assert step["path"] in website.missing_pages(tmp_path)


def test_make_site_builds_and_crawls():
    make = (ROOT / "Makefile").read_text()
    assert "-m tools.build.website" in make
