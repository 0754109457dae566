"""Execute every notebook into an output folder (outputs kept) and print: notebook, seconds, peak memory, result.

    python -m tools.build.run_course --out build [--jobs 2] [week1 week3/10_finetune_bert_sentiment.ipynb ...]

Instructors use it to preview a lecture; CI uploads the executed notebooks as artifacts. The "result" column is
the last line a notebook printed that starts with ``RESULT:``. In the full-profile rehearsal (``make test-full``)
it also counts the learned-result asserts each notebook relaxed (``run.learned``), and lists them at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[2]


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


RELAXED = "REHEARSAL: relaxed a learned-result assert"  # printed by shared.course.Run.learned


def printed(nb) -> list[str]:
    return [line for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
            if out.get("output_type") == "stream" for line in out.get("text", "").splitlines()]


def result_line(nb) -> str:
    results = [line.removeprefix("RESULT:").strip() for line in printed(nb) if line.startswith("RESULT:")]
    return results[-1] if results else "-"


def execute(path: Path, out_dir: Path, timeout: int) -> tuple[float, float | None, str, bool, int]:
    nb = nbformat.read(path, as_version=4)
    # The kernel's own log at ERROR: ipykernel warns "running over TCP without encryption" for every notebook
    # (the kernel listens on localhost only); what the notebooks print is not affected.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
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
    relaxed = sum(line.startswith(RELAXED) for line in printed(nb))
    return seconds, peak, result_line(nb) if ok else "FAILED", ok, relaxed


def _one(path: Path, out_dir: Path, timeout: int) -> tuple:
    row = (str(path.relative_to(ROOT)), *execute(path, out_dir, timeout))
    print(f"  {row[0]}: {row[1]:.1f} s" + ("" if row[4] else "  FAILED"), file=sys.stderr, flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("selection", nargs="*", help="week folders or notebooks (default: all)")
    parser.add_argument("--out", default="build", help="folder for executed notebooks (default: build)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default: 600)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at a time, one kernel each (default: 1)")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: expected a positive number of parallel kernels")
    os.environ["COURSE_HEADLESS"] = "1"  # nobody watches these kernels: no progress bars
    out_dir = (ROOT / args.out).resolve()
    paths, total = notebooks(args.selection), time.perf_counter()

    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(_one, paths, [out_dir] * len(paths), [args.timeout] * len(paths)))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>7}  {'peak MB':>7}  key result")
    for name, seconds, peak, result, _, _ in rows:
        print(f"{name:<{width}}  {seconds:7.1f}  {peak or 0:7.0f}  {result}")
    print(f"{'total':<{width}}  {time.perf_counter() - total:7.1f}")
    relaxed = [(r[0], r[5]) for r in rows if r[5]]
    if os.environ.get("COURSE_REHEARSAL") in ("1", "true", "yes"):
        print(f"rehearsal: {sum(n for _, n in relaxed)} learned-result assert(s) relaxed for stand-in weights"
              + (": " + ", ".join(f"{name} ({n})" for name, n in relaxed) if relaxed else ""))
    print(f"executed notebooks (with outputs) are in {out_dir}/")
    failed = [r[0] for r in rows if not r[4]]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
