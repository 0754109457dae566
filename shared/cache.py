"""Things that take a while to make and that several notebooks need (a tokenizer trained on the corpus, a model
converted from GGUF, a fine-tuned checkpoint) are made once and kept under ``COURSE_CACHE``
(default ``~/.cache/transformers-lightning-course``), one folder per recipe.

A folder's name carries a hash of everything it was made from, so a changed recipe makes a new folder and never
reuses a stale one. A file lock makes a second process (two notebooks at once, two test workers) wait for the
first one's build instead of doing it twice (``filelock``, on every operating system); a build that fails leaves
nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock


def cache_dir() -> Path:
    """Where built artifacts live: ``COURSE_CACHE`` or ``~/.cache/transformers-lightning-course``."""
    path = Path(os.environ.get("COURSE_CACHE", Path.home() / ".cache" / "transformers-lightning-course"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def recipe_key(*parts) -> str:
    """A short, stable hash of what an artifact is made from (JSON-able values, or bytes such as file contents)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


def cached(name: str, key: str, build: Callable[[Path], None], done: str = "DONE", what: str | None = None) -> Path:
    """The folder ``<cache>/<name>-<key>``, made by ``build(folder)`` the first time (under a lock).

    ``build`` writes into the folder it is given; the folder counts as made only once ``build`` returns (a marker
    file ``done`` is written then), so an interrupted build is redone next time. A build says what it makes (``what``,
    default the name) and, when done, how long it took, so a learner on a fresh machine (a new Colab runtime) sees
    where the minutes go; later runs find the folder and print nothing.
    """
    if not name or "/" in name:
        raise ValueError(f"name={name!r}; expected a plain folder name")
    root = cache_dir()
    target = root / f"{name}-{key}"
    if (target / done).is_file():
        return target
    # filelock works on Linux, macOS and Windows; the lock is the operating system's, so it is released if the
    # process holding it dies. A second process waits here until the first has finished.
    with FileLock(root / f".{name}-{key}.lock"):
        if not (target / done).is_file():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            print(f"building {what or name} (once on this machine, then cached) ...", flush=True)
            began = time.perf_counter()
            try:
                build(target)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
            (target / done).write_text(key)
            print(f"built {what or name} in {time.perf_counter() - began:.0f} s", flush=True)
    return target
