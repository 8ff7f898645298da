"""Runtime benchmark: execute every chapter from a fresh kernel and report time and memory.

Each notebook runs in its own child process (so peak memory is per chapter); the stored files are
not modified. Prints a Markdown table: chapter, wall seconds, peak resident memory of the kernel.
The budget is 40 s per chapter on 2 CPU cores; this is a measurement, not a test.

Usage: python tools/benchmark.py [--record] [book/part/chapter.ipynb ...]   (default: every chapter)

``--record`` writes each measured time to ``book/_execution_times.json`` (the ledger's column), for
times taken on a quiet machine rather than during a busy refresh.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

# run as a script, so its folder tools/ (and the refresh tool in it) is on sys.path
from refresh_outputs import execute, record_time

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 40


def run_one(path: Path) -> None:
    """Child mode: execute one notebook, print the kernel's peak memory as JSON."""
    execute(path)
    # The kernel is a reaped child of this process by now; ru_maxrss is in KiB on Linux.
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"peak_mib": peak_kib / 1024}))


def measure(path: Path) -> tuple[float, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--one", str(path)],
        capture_output=True, text=True, cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{path} failed to execute:\n{result.stderr[-2000:]}")
    return seconds, json.loads(result.stdout.strip().splitlines()[-1])["peak_mib"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--record", action="store_true",
                        help="store the times in book/_execution_times.json")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one)
        return 0
    notebooks = args.notebooks or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if not p.name.startswith(".refresh-"))
    for path in notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"not a notebook file: {path}")
    print(f"| chapter | wall s | peak memory MiB | within {BUDGET_S} s |")
    print("| --- | ---: | ---: | :---: |")
    total = 0.0
    for path in notebooks:
        seconds, peak = measure(path)
        total += seconds
        if args.record:
            record_time(path, seconds)
        name = path.resolve().relative_to(ROOT / "book").with_suffix("")
        print(f"| {name} | {seconds:.1f} | {peak:.0f} | {'yes' if seconds <= BUDGET_S else 'NO'} |",
              flush=True)
    print(f"| **whole book** | {total:.1f} | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
