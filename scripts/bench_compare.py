"""Compare two ``make bench`` logs value by value: which figures are identical, which changed, which are timings.

    python scripts/bench_compare.py BEFORE.log AFTER.log [--rtol 0] [--all]

A ``make bench`` log holds, for each of its commands (``.venv/bin/python benchmarks/NAME.py ...``), a table and one
or more JSON lines.  Every JSON value of both logs is flattened to a path (``npsnn_operator[0].harmonic.seed_0``)
and matched with the same path in the other log.  A path is a *timing* when one of its keys names a duration, a
speed or a machine resource (``*_s``, ``*_ms``, ``ms_per_*``, ``wall``, ``speedup``, ``overhead``, ``rss``, ...):
those follow the machine's load and are listed with their ratio.  Every other value (errors, crash counts, energies,
verdicts) is reported as identical or different (``--rtol`` sets a relative tolerance for numbers, default exact),
and values present in one log only are listed too.  The last line is a JSON summary.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path
from typing import Any, Iterator

#: a make-bench command line (what make echoes before running it)
COMMAND_RE = re.compile(r"^\S*python\S*\s+benchmarks/(?P<name>[\w.-]+)\.py\b(?P<args>.*)$")
#: keys that name a duration, a speed or a resource of the machine (matched against each key of a path)
TIMING_KEY_RE = re.compile(
    r"(^|_)(s|ms|us|sec|secs|seconds|minutes|wall|walltime|elapsed|latency|speedup|overhead|rss|mb|load|cpu)($|_)"
    r"|ms_per|s_per|per_step_ms|steps_per_s|throughput|timing|^time_s")
#: timing keys whose names do not say so (a time ratio against a peer program)
TIMING_KEYS = {"openmm_ratio", "openmm_ratio_large"}


def parse_log(text: str) -> dict[str, list[Any]]:
    """The JSON records of a make-bench log, per benchmark command (``name`` or ``name args`` when a benchmark runs
    more than once), in order.

    Parameters
    ----------
    text : str
        The log's text.

    Returns
    -------
    dict of str to list
        Command label -> the JSON objects printed under it.
    """
    records: dict[str, list[Any]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = COMMAND_RE.match(line.strip())
        if match:
            current = match["name"]
            if current in records:  # the same benchmark again, with other arguments
                current = f"{match['name']} {match['args'].strip()}"
            records.setdefault(current, [])
            continue
        stripped = line.strip()
        if current is not None and stripped.startswith("{") and stripped.endswith("}"):
            try:
                records[current].append(json.loads(stripped))
            except json.JSONDecodeError:
                continue
    return records


def flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf value) pairs of a JSON value; lists are indexed ``[k]``, dicts joined with dots.

    Parameters
    ----------
    value : object
        A JSON value.
    path : str, default ""
        Prefix of the paths.

    Yields
    ------
    tuple of (str, object)
    """
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from flatten(item, f"{path}[{k}]")
    else:
        yield path, value


def is_timing(path: str) -> bool:
    """Whether a flattened path names a timing or a machine resource (one of its keys matches the pattern).

    Parameters
    ----------
    path : str
        A flattened path.

    Returns
    -------
    bool
    """
    keys = re.split(r"[.\[\]]+", path.lower())
    return any(key in TIMING_KEYS or TIMING_KEY_RE.search(key) for key in keys if key and not key.isdigit())


def _same(a: Any, b: Any, rtol: float) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b or abs(a - b) <= rtol * max(abs(a), abs(b))
    return bool(a == b)


def compare(before: dict[str, list[Any]], after: dict[str, list[Any]], *, rtol: float = 0.0) -> dict[str, Any]:
    """Match every value of two parsed logs.

    Parameters
    ----------
    before, after : dict of str to list
        Outputs of :func:`parse_log`.
    rtol : float, default 0.0
        Relative tolerance under which two numbers count as identical.

    Returns
    -------
    dict
        ``identical`` (count per benchmark), ``different`` and ``timings`` (lists of (path, before, after)),
        ``only_before`` and ``only_after`` (paths).
    """
    def table(records: dict[str, list[Any]]) -> dict[str, Any]:
        return {f"{name}[{k}].{p}" if p else f"{name}[{k}]": v
                for name, objs in records.items() for k, obj in enumerate(objs) for p, v in flatten(obj)}

    a, b = table(before), table(after)
    out: dict[str, Any] = {"identical": {}, "different": [], "timings": [], "only_before": sorted(set(a) - set(b)),
                           "only_after": sorted(set(b) - set(a))}
    for path in [p for p in a if p in b]:
        bench, inner = path.split("[", 1)
        if is_timing(inner.split("]", 1)[1]):  # the keys inside the record, not the benchmark's own name
            out["timings"].append((path, a[path], b[path]))
        elif _same(a[path], b[path], rtol):
            out["identical"][bench] = out["identical"].get(bench, 0) + 1
        else:
            out["different"].append((path, a[path], b[path]))
    return out


def _ratio(x: Any, y: Any) -> str:
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool) and x:
        return f"{y / x:.3g}x"
    return ""


def main(argv: list[str] | None = None) -> int:
    """Print the comparison of two logs; exit status 0 (2 when a log holds no benchmark output).

    Parameters
    ----------
    argv : list of str or None, default None
        Command-line arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for numbers (default: exact)")
    parser.add_argument("--all", action="store_true", help="list every timing, not only the first 40")
    args = parser.parse_args(argv)
    before, after = (parse_log(path.read_text(errors="replace")) for path in (args.before, args.after))
    for path, records in ((args.before, before), (args.after, after)):
        if not any(records.values()):
            print(f"{path}: no benchmark JSON found (is it the output of `make bench`?)", file=sys.stderr)
            return 2
    result = compare(before, after, rtol=args.rtol)
    n_identical = sum(result["identical"].values())
    print(f"non-timing values: {n_identical} identical, {len(result['different'])} different"
          + (f" (rtol {args.rtol:g})" if args.rtol else ""))
    print("identical per benchmark: " + ", ".join(f"{k} {v}" for k, v in result["identical"].items()))
    for title, rows in (("different", result["different"]), ("timings", result["timings"])):
        print(f"\n{title} ({len(rows)}):")
        for path, x, y in rows if (args.all or title == "different") else rows[:40]:
            print(f"  {path}: {x!r} -> {y!r} {_ratio(x, y)}")
    for title in ("only_before", "only_after"):
        if result[title]:
            print(f"\n{title.replace('_', ' ')} ({len(result[title])}): " + ", ".join(result[title][:20])
                  + (" ..." if len(result[title]) > 20 else ""))
    print(json.dumps({"identical": n_identical, "different": len(result["different"]),
                      "timings": len(result["timings"]), "only_before": len(result["only_before"]),
                      "only_after": len(result["only_after"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
