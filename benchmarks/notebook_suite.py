"""Benchmark: execute every chapter notebook headless in fast mode; wall time and kernel memory.

Each notebook runs in a fresh kernel (nbclient, as ``make notebooks-html`` and nbval do) with
``NPSNN_EDU_FAST=1``; the kernel's resident memory (kernel process plus its children) is sampled with psutil
every 0.1 s. The peer a teacher would otherwise use is ``jupyter nbconvert --execute``: same nbclient engine,
so there is nothing faster to compare against; the numbers are checked against the course goals instead
(fast suite <= 300 s on 2 cores, kernel <= 1500 MB so it fits a 2 GB Binder pod with the server).

Usage::

    .venv/bin/python benchmarks/notebook_suite.py [--quick] [NOTEBOOK ...]

``--quick`` is accepted for symmetry with the other benchmarks (the suite is always the fast-mode one).
Prints a table, then as its LAST line one JSON object::

    {"benchmark": "notebook_suite", "fast_seconds": S, "peak_rss_mb": M}

S = total wall time of the executions (sum over notebooks, kernel start-up included), M = the largest peak RSS
of any notebook's kernel.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from npsnn_edu.notebook_runner import default_notebooks, format_summary, run_notebooks  # noqa: E402

GOAL_SECONDS = 300.0
GOAL_RSS_MB = 1500.0


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--quick", action="store_true", help="same as the default (fast mode)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench_notebooks")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or default_notebooks(REPO)
    if not notebooks:
        print("no notebooks found under notebooks/0*.ipynb", file=sys.stderr)
        return 2
    print(f"executing {len(notebooks)} notebook(s) in fast mode on {os.cpu_count()} CPU(s) ...", flush=True)
    results = run_notebooks(notebooks, args.out, fast=True, html=False)
    print()
    print(format_summary(results))
    seconds = sum(r.seconds for r in results)
    peak = max(r.peak_rss_mb for r in results)
    failed = [r.notebook for r in results if not r.ok]
    print(f"\ngoals: fast suite <= {GOAL_SECONDS:.0f} s ({'met' if seconds <= GOAL_SECONDS else 'MISSED'}), "
          f"kernel peak <= {GOAL_RSS_MB:.0f} MB ({'met' if peak <= GOAL_RSS_MB else 'MISSED'})")
    if failed:
        print(f"FAILED notebooks: {', '.join(failed)}", file=sys.stderr)
    print(json.dumps({"benchmark": "notebook_suite", "fast_seconds": round(seconds, 1), "peak_rss_mb": round(peak, 1)}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
