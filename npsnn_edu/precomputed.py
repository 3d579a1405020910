"""Small precomputed results shipped with the package, each with its provenance.

Slow results (a full crash table, a long training) can be shipped as a small JSON file in
``npsnn_edu/data/results/`` so that a student sees the full-size result in seconds; the file records the command
that regenerates it, the seed(s) and the package versions, and a test regenerates a subset in CI.

    save_result("gpr_crash_table", data, command="python benchmarks/gpr_stability.py --full --save", seeds=range(8))
    result = load_result("gpr_crash_table");  result.data, result.provenance
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from .errors import DataFormatError, unknown_name

RESULTS_DIR = Path(__file__).resolve().parent / "data" / "results"

__all__ = ["PrecomputedResult", "available_results", "load_result", "save_result"]

_VERSIONED = ("numpy", "scipy", "torch", "snntorch", "ase", "tblite", "npsnn_edu")


@dataclass(frozen=True)
class PrecomputedResult:
    """``data`` (JSON types) and ``provenance`` (command, seeds, versions, date, machine).

    Parameters
    ----------
    name : str
        Name of the result (its file stem).
    data : object
        The result (JSON types).
    provenance : dict
        Command, seeds, versions, date and machine that produced it.
    """

    name: str
    data: Any
    provenance: dict

    @property
    def command(self) -> str:
        """The command that reproduces this result."""
        return str(self.provenance.get("command", ""))


def _versions() -> dict[str, str]:
    out = {}
    for package in _VERSIONED:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    out["python"] = platform.python_version()
    return out


def save_result(name: str, data: Any, *, command: str, seeds: "Iterable[int] | None" = None,
                notes: str = "", directory: "Path | None" = None) -> Path:
    """Write ``data`` with its provenance to ``<directory>/<name>.json`` (default: the package's results folder).

    Parameters
    ----------
    name : str
        Result name (file stem).
    data : object
        The result (JSON types).
    command : str
        The command that reproduces it.
    seeds : iterable of int or None, default None
        Seeds used.
    notes : str, default ""
        Free text.
    directory : Path or None, default None
        Results folder; None: the package's.

    Returns
    -------
    Path
        The written JSON file.
    """
    folder = Path(directory) if directory is not None else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    provenance = {"command": command, "seeds": None if seeds is None else [int(s) for s in seeds],
                  "versions": _versions(), "date": _dt.date.today().isoformat(),
                  "machine": f"{platform.machine()} {platform.system()}", "notes": notes}
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"name": name, "provenance": provenance, "data": data}, indent=1, sort_keys=True))
    return path


def available_results(directory: "Path | None" = None) -> list[str]:
    """Names of the shipped results.

    Parameters
    ----------
    directory : Path or None, default None
        Results folder; None: the package's ``data/results``.

    Returns
    -------
    list of str
    """
    folder = Path(directory) if directory is not None else RESULTS_DIR
    return sorted(p.stem for p in folder.glob("*.json"))


def load_result(name: str, directory: "Path | None" = None) -> PrecomputedResult:
    """Load a shipped result; :class:`UnknownNameError` lists the available ones.

    Parameters
    ----------
    name : str
        Result name (see :func:`available_results`).
    directory : Path or None, default None
        Results folder; None: the package's.

    Returns
    -------
    PrecomputedResult

    Raises
    ------
    UnknownNameError
        No result of that name.
    DataFormatError
        A malformed result file.
    """
    folder = Path(directory) if directory is not None else RESULTS_DIR
    path = folder / f"{name}.json"
    if not path.is_file():
        raise unknown_name("precomputed result", name, available_results(folder) or ["(none shipped)"])
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload["provenance"], dict):
            raise TypeError("its provenance is not a JSON object")
        return PrecomputedResult(name=payload["name"], data=payload["data"], provenance=payload["provenance"])
    except (ValueError, KeyError, TypeError) as exc:  # ValueError: bad JSON or not UTF-8 text
        raise DataFormatError(f"{path} is not a precomputed-result file ({exc}); regenerate it with the command "
                              "recorded in its provenance") from exc



