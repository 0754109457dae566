"""Execute every notebook into an output folder (outputs kept) and print: notebook, seconds, peak memory, result.

    python tools/run_course.py --out build [week1 week3/10_finetune_bert_sentiment.ipynb ...]

Instructors use it to preview a lecture; CI uploads the executed notebooks as artifacts. The "result" column is
the last line a notebook printed that starts with ``RESULT:``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent


def notebooks(selection: list[str]) -> list[Path]:
    if not selection:
        return sorted(ROOT.glob("week*/*.ipynb"))
    found = []
    for item in selection:
        path = (ROOT / item).resolve()
        if path.is_dir():
            found += sorted(path.glob("*.ipynb"))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise SystemExit(f"error: {item!r} is neither a week folder nor a notebook; expected e.g. week1 or "
                             "week1/01_environment_check.ipynb")
    return found


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's peak resident memory (Linux VmHWM), read before the kernel shuts down."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def result_line(nb) -> str:
    lines = [line for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
             if out.get("output_type") == "stream" for line in out.get("text", "").splitlines()]
    results = [line.removeprefix("RESULT:").strip() for line in lines if line.startswith("RESULT:")]
    return results[-1] if results else "-"


def execute(path: Path, out_dir: Path, timeout: int) -> tuple[float, float | None, str, bool]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak, ok = None, True
    start = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid if client.km.provisioner else None
        try:
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
        except CellExecutionError as err:
            ok = False
            print(f"\n{path.relative_to(ROOT)} failed:\n{str(err)[-1500:]}", file=sys.stderr)
        if pid:
            peak = peak_rss_mb(pid)
    seconds = time.perf_counter() - start
    target = out_dir / path.relative_to(ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return seconds, peak, result_line(nb) if ok else "FAILED", ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("selection", nargs="*", help="week folders or notebooks (default: all)")
    parser.add_argument("--out", default="build", help="folder for executed notebooks (default: build)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default: 600)")
    args = parser.parse_args()
    os.environ["COURSE_HEADLESS"] = "1"  # nobody watches these kernels: no progress bars
    out_dir = (ROOT / args.out).resolve()
    rows, total = [], time.perf_counter()
    for path in notebooks(args.selection):
        seconds, peak, result, ok = execute(path, out_dir, args.timeout)
        rows.append((str(path.relative_to(ROOT)), seconds, peak, result, ok))
        print(f"  {rows[-1][0]}: {seconds:.1f} s", file=sys.stderr)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>7}  {'peak MB':>7}  key result")
    for name, seconds, peak, result, _ in rows:
        print(f"{name:<{width}}  {seconds:7.1f}  {peak or 0:7.0f}  {result}")
    print(f"{'total':<{width}}  {time.perf_counter() - total:7.1f}")
    print(f"executed notebooks (with outputs) are in {out_dir}/")
    return 0 if all(r[4] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
