"""Check the decks in a real headless browser: every deck opens, every slide is visited, with no console errors,
page errors or failed requests (a deck that reached for the internet would fail here); a few slides are saved as
PNGs in build/slides/screenshots/ (each deck's title slide and its first slide with a plot).

    python -m tools.build.check_slides [--slides build/slides] [--all] [deck.slides.html ...]

Needs Chromium (Debian/Ubuntu: ``apt-get install chromium``; or set CHROMIUM=/path/to/chrome) and Node.js: the
browser is driven by Node's playwright-core, installed once from the npm registry into
``.course_cache/slides-check/`` (it downloads no browser). The decks are served on 127.0.0.1 by
``python -m http.server`` for the length of the check. Slides taller than the page are listed as warnings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.build.slides import HEIGHT, WIDTH

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".course_cache" / "slides-check"
PLAYWRIGHT = "playwright-core@1.65.1"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str:
    path = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if not path or not Path(path).exists():
        raise SystemExit(
            "error: the slides' browser check needs Chromium: `apt-get install chromium` (Debian/Ubuntu, "
            "as root) or set CHROMIUM=/path/to/chrome; `make slides SLIDES_CHECK=0` builds the decks "
            "without checking them"
        )
    return path


def playwright_core() -> Path:
    """playwright-core (the driver only, no browser download) in the cache; returns its package folder."""
    package = CACHE / "node_modules" / "playwright-core"
    version = PLAYWRIGHT.rsplit("@", 1)[1]
    manifest = package / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != version:
        npm = shutil.which("npm")
        if not npm:
            raise SystemExit("error: the slides' browser check needs Node.js and npm (apt-get install npm)")
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"check_slides: installing {PLAYWRIGHT} into {CACHE} (no browser download)", flush=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                PLAYWRIGHT,
            ],
            check=True,
            env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"},
        )
    return package


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``python -m http.server`` on 127.0.0.1 for the folder, stopped on exit."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.proc = folder, free_port(), None

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).close()
                return url
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise SystemExit(f"error: could not serve {self.folder} on {url}") from None
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def check(slides: Path, decks: list[str], all_slides: bool = False, timeout: int = 600) -> list[dict]:
    node = shutil.which("node")
    if not node:
        raise SystemExit("error: the slides' browser check needs Node.js (apt-get install nodejs npm)")
    chromium, package = find_chromium(), playwright_core()
    shots = slides / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with Server(slides) as base:
        cfg = {
            "playwright": str(package),
            "chromium": chromium,
            "base": base,
            "decks": decks,
            "shots": str(shots),
            "all": all_slides,
            "width": WIDTH,
            "height": HEIGHT,
        }
        out = subprocess.run(
            [node, str(ROOT / "tools" / "build" / "check_slides.mjs"), json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if out.returncode != 0:
        raise SystemExit(f"error: the browser check itself failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("decks", nargs="*", help="deck file names in --slides (default: all *.slides.html)")
    parser.add_argument("--slides", default="build/slides", help="folder of decks (default: build/slides)")
    parser.add_argument("--all", action="store_true", help="screenshot every slide, not a few")
    args = parser.parse_args()
    slides = (ROOT / args.slides).resolve()
    decks = args.decks or sorted(p.name for p in slides.glob("*.slides.html"))
    if not decks:
        raise SystemExit(f"error: no decks in {slides}; run `make slides` (after `make course`)")
    start = time.perf_counter()
    report = check(slides, decks, args.all)
    failed = 0
    for entry in report:
        verdict = "FAIL" if entry["errors"] else "ok"
        print(
            f"{verdict:4}  {entry['deck']}: {entry['slides']} slides, {len(entry['errors'])} console errors, "
            f"{len(entry['shots'])} screenshots"
        )
        for error in entry["errors"]:
            print(f"      {error[:300]}")
        for o in entry["overflow"]:
            print(
                f"      warning: slide {o['h']}/{o['v']} ({o['title'] or 'untitled'}) is {o['height']} px tall, "
                f"the page {HEIGHT}"
            )
        failed += bool(entry["errors"])
    shots = os.path.relpath(slides / "screenshots", ROOT)
    print(
        f"check_slides: {len(report) - failed}/{len(report)} decks without console errors "
        f"({time.perf_counter() - start:.0f} s); screenshots in {shots}/"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
