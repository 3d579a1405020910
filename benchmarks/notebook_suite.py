"""Benchmark: execute every chapter notebook headless on ONE core, per run mode; wall time and peak memory.

Each notebook runs in a fresh kernel (nbclient, as ``make notebooks-html`` and nbval do) with
``NPSNN_EDU_MODE=<mode>``, pinned to one core: this process binds itself to one CPU (``os.sched_setaffinity``,
the system call behind ``taskset -c 0``; the kernel inherits it) and every thread-count variable
(OMP/MKL/OpenBLAS/numexpr; torch reads OMP_NUM_THREADS) is 1. The kernel's resident memory (kernel process plus
its children) is sampled with psutil every 0.1 s. The peer a teacher would otherwise use is
``jupyter nbconvert --execute``: same nbclient engine, so the numbers are checked against the course goals
instead: full <= 300 s and classroom <= 120 s per notebook on one core, peak RSS <= 1500 MB (a 2 GB Binder pod
with the server); fast mode has no per-notebook goal (CI: well under a minute each on 2 cores).

Usage::

    .venv/bin/python benchmarks/notebook_suite.py [--mode fast|classroom|full | --all-modes] [--save] [NOTEBOOK ...]

``--save`` merges the measured modes into ``npsnn_edu/data/notebook_timings.json`` (or ``--timings-file``),
the file ``npsnn_edu.config.describe_mode`` reads for each notebook's banner, and rewrites the times each chapter
quotes in its first cell (``sync_time_sentences``; tests/test_notebook_runner.py checks that they agree)::

    {"notebooks": {"01_newtonian_md": {"fast": {"seconds": s, "peak_rss_mb": m}, ...}, ...},
     "measured": {"fast": {provenance: date, command, cpu, python, torch, ...}, ...}}

Prints a table per mode, then as its LAST line one JSON object::

    {"benchmark": "notebook_suite", "modes": {"fast": {"01_newtonian_md": {"seconds": s, "peak_rss_mb": m,
     "ok": true}, ...}}, "fast_seconds": S, "peak_rss_mb": M, "goals_met": true}

``--quick`` (as for the other benchmarks) is fast mode. The exit status is 1 when a notebook fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from npsnn_edu.config import MODES, TIMINGS_FILE  # noqa: E402
from npsnn_edu.course.notebook_runner import default_notebooks, format_summary, kernel_env, run_notebooks  # noqa: E402

GOAL_SECONDS = {"classroom": 120.0, "full": 300.0}
GOAL_RSS_MB = 1500.0


def pin_to_one_core(core: "int | None" = None) -> str:
    """Bind this process (and so the kernels it starts) to one CPU; return a description."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this system); threads = 1"
    allowed = sorted(os.sched_getaffinity(0))
    cpu = allowed[0] if core is None else core
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu} (sched_setaffinity, as taskset -c {cpu}); threads = 1"


def provenance(mode: str, pinning: str, argv: "list[str]") -> dict:
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = ""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": mode,
            "command": "python benchmarks/notebook_suite.py " + " ".join(argv), "cores": 1, "pinning": pinning,
            "cpu": cpu or platform.processor(), "machine_cpus": os.cpu_count(), "python": platform.python_version(),
            "torch": torch_version, "load_average": [round(x, 2) for x in os.getloadavg()]}


def save_timings(path: Path, measured: "dict[str, dict[str, dict]]", prov: "dict[str, dict]") -> dict:
    """Merge ``{mode: {notebook_stem: {"seconds", "peak_rss_mb"}}}`` into the timings file; return its data."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    notebooks = data.setdefault("notebooks", {})
    data.setdefault("measured", {}).update(prov)
    for mode, per_nb in measured.items():
        for stem, row in per_nb.items():
            notebooks.setdefault(stem, {})[mode] = {"seconds": row["seconds"], "peak_rss_mb": row["peak_rss_mb"]}
    data["notebooks"] = dict(sorted(notebooks.items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    return data


#: The sentence in each chapter's first cell that quotes the measured times (kept in step by ``--save``).
TIME_SENTENCE = re.compile(r"\s+".join([r"measured", r"(\d{4}-\d{2}-\d{2})\):", r"fast", r"mode", r"([^,]+),",
                                          r"classroom", r"mode", r"([^,]+),", r"full", r"mode", r"([^;]+);", r"the",
                                          r"kernel", r"peaks", r"at", r"(\d+)", r"MB"]))


def format_seconds(seconds: float) -> str:
    """How the chapters quote a run time: whole seconds below 100 s, else minutes to 0.1."""
    return f"{seconds:.0f} s" if seconds < 99.5 else f"{seconds / 60:.1f} min"


def time_sentence(timings: dict, date: str) -> str:
    """The quoted sentence for one notebook's entry of the timings file (all three modes present)."""
    peak = max(timings[m]["peak_rss_mb"] for m in ("fast", "classroom", "full"))
    return (f"measured {date}): fast mode {format_seconds(timings['fast']['seconds'])}, classroom mode "
            f"{format_seconds(timings['classroom']['seconds'])}, full mode {format_seconds(timings['full']['seconds'])}"
            f"; the kernel peaks at {peak:.0f} MB")


def sync_time_sentences(data: dict, notebooks_dir: Path = REPO / "notebooks") -> list[str]:
    """Rewrite each chapter's quoted times from the timings file ``data`` (line breaks kept where they were);
    returns the notebooks changed. Only notebooks measured in all three modes are touched."""
    changed = []
    date = max(p.get("date", "")[:10] for p in data.get("measured", {}).values()) or dt.date.today().isoformat()
    for path in sorted(notebooks_dir.glob("0*.ipynb")):
        entry = data.get("notebooks", {}).get(path.stem, {})
        if not all(m in entry for m in ("fast", "classroom", "full")):
            continue
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            m = TIME_SENTENCE.search(text)
            if cell["cell_type"] != "markdown" or m is None:
                continue
            new = time_sentence(entry, date)
            old = m.group(0)
            # keep the cell's line breaks: put them back at the same word positions
            words_old, words_new = old.split(), new.split()
            if len(words_old) == len(words_new):
                seps = re.findall(r"\s+", old)
                new = words_new[0] + "".join(sep + w for sep, w in zip(seps, words_new[1:]))
            if new != old:
                cell["source"] = (text[:m.start()] + new + text[m.end():]).splitlines(True)
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
                changed.append(path.name)
            break
    return changed


def main(argv: "list[str] | None" = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--mode", choices=MODES, default="fast", help="run mode (default fast)")
    parser.add_argument("--all-modes", action="store_true", help="fast, classroom and full, in that order")
    parser.add_argument("--quick", action="store_true", help="same as --mode fast")
    parser.add_argument("--save", action="store_true", help="merge the results into the timings file")
    parser.add_argument("--timings-file", type=Path, default=TIMINGS_FILE)
    parser.add_argument("--core", type=int, default=None, help="CPU to pin to (default: the first allowed)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench_notebooks")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or default_notebooks(REPO)
    if not notebooks:
        print("no notebooks found under notebooks/0*.ipynb", file=sys.stderr)
        return 2
    missing = [str(p) for p in notebooks if not Path(p).is_file()]
    if missing:
        print(f"notebook(s) not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    modes = list(MODES) if args.all_modes else ["fast" if args.quick else args.mode]
    pinning = pin_to_one_core(args.core)
    print(f"executing {len(notebooks)} notebook(s) in mode(s) {', '.join(modes)}; {pinning}", flush=True)
    measured: dict[str, dict[str, dict]] = {}
    prov: dict[str, dict] = {}
    failed: list[str] = []
    goals_met = True
    for mode in modes:
        env = kernel_env(mode=mode, threads=1)
        results = run_notebooks(notebooks, args.out / mode, mode=mode, env=env, html=False, timeout=args.timeout)
        print(f"\n== {mode} mode ==")
        print(format_summary(results))
        measured[mode] = {Path(r.notebook).stem: {"seconds": r.seconds, "peak_rss_mb": r.peak_rss_mb, "ok": r.ok}
                          for r in results}
        prov[mode] = provenance(mode, pinning, argv)
        failed += [f"{r.notebook} ({mode})" for r in results if not r.ok]
        goal = GOAL_SECONDS.get(mode)
        slow = [r.notebook for r in results if goal is not None and r.seconds > goal]
        heavy = [r.notebook for r in results if r.peak_rss_mb > GOAL_RSS_MB]
        goals_met = goals_met and not slow and not heavy
        time_goal = f"each <= {goal:.0f} s: {'met' if not slow else 'MISSED by ' + ', '.join(slow)}" if goal else \
            "no time goal in fast mode"
        print(f"goals ({mode}): {time_goal}; peak RSS <= {GOAL_RSS_MB:.0f} MB: "
              f"{'met' if not heavy else 'MISSED by ' + ', '.join(heavy)}")
    if args.save:
        ok_only = {m: {k: v for k, v in rows.items() if v["ok"]} for m, rows in measured.items()}
        data = save_timings(args.timings_file, ok_only, prov)
        print(f"timings of the notebooks that ran saved to {args.timings_file}")
        if args.timings_file.resolve() == TIMINGS_FILE.resolve():
            print("chapters whose quoted times were updated:", sync_time_sentences(data) or "none")
    if failed:
        print(f"FAILED notebooks: {', '.join(failed)}", file=sys.stderr)
    summary = {"benchmark": "notebook_suite", "modes": measured,
               "peak_rss_mb": max(v["peak_rss_mb"] for rows in measured.values() for v in rows.values()),
               "goals_met": goals_met and not failed}
    for mode in modes:
        summary[f"{mode}_seconds"] = round(sum(v["seconds"] for v in measured[mode].values()), 1)
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
