"""Run-time configuration: the run mode (fast / classroom / full), and seeded random generators.

Three modes size every notebook:

``fast``
    CI smoke test: tiny step counts and trainings, the whole suite in minutes on 2 cores (``make test``).
``classroom``
    A lecture-length run (about two minutes per notebook on one core) that still shows each chapter's main result.
``full``
    Research size: the full simulations, trainings and statistics (minutes per notebook).

The mode is read, first match wins, from

1. :func:`set_mode` called in the notebook (``npsnn_edu.config.set_mode("classroom")``);
2. the environment variable ``NPSNN_EDU_MODE`` (``fast``/``classroom``/``full``), or the older
   ``NPSNN_EDU_FAST=1`` (= ``fast``);
3. a file ``npsnn_edu_mode.txt`` (one word) in the current directory or one of its parents (e.g. the course or
   Binder folder: ``echo classroom > npsnn_edu_mode.txt``), which works where no environment can be set
   (Binder's postBuild writes one saying ``classroom``; an nbgrader course folder holds one for autograde);
4. the default, ``full``.

The measured run time per notebook and mode that :func:`describe_mode` shows comes from
``benchmarks/notebook_suite.py --all-modes --save`` (one core).

Notebooks size their runs with :func:`pick`: ``n_steps = pick(full=20_000, classroom=4_000, fast=500)``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

import numpy as np

from .errors import DataFormatError, InvalidParameterError
from .validation import one_of

T = TypeVar("T")

MODES = ("fast", "classroom", "full")
MODE_ENV_VAR = "NPSNN_EDU_MODE"
FAST_ENV_VAR = "NPSNN_EDU_FAST"
MODE_FILE = "npsnn_edu_mode.txt"
DEFAULT_MODE = "full"

_session_mode: "str | None" = None

__all__ = ["MODES", "describe_mode", "fast_mode", "mode", "mode_source", "pick", "rng", "set_mode"]

#: Measured run time and memory of every notebook per mode, written by ``benchmarks/notebook_suite.py --save``.
TIMINGS_FILE = Path(__file__).resolve().parent / "data" / "notebook_timings.json"


def check_mode(value: object, where: str) -> str:
    try:
        return one_of("mode", value, MODES)
    except KeyError as exc:  # UnknownNameError
        raise InvalidParameterError(f"{exc} (read from {where})") from None


def set_mode(value: "str | None") -> str:
    """Set the mode for this Python session (a notebook kernel); ``None`` goes back to the environment/file.

    Returns the mode now in force.

    Parameters
    ----------
    value : {"full", "classroom", "fast"} or None
        Mode for this session; None: back to the environment variable / config file.

    Returns
    -------
    str

    Raises
    ------
    InvalidParameterError
        Not a mode (the message names the valid ones).
    """
    global _session_mode
    _session_mode = None if value is None else check_mode(value, "set_mode")
    return mode()


def _mode_file(start: "Path | None" = None) -> "Path | None":
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / MODE_FILE
        if candidate.is_file():
            return candidate
    return None


def mode_source() -> tuple[str, str]:
    """``(mode, where it came from)``: ``"set_mode()"``, the environment variable, the file's path, or ``"default"``."""
    if _session_mode is not None:
        return _session_mode, "set_mode()"
    env = os.environ.get(MODE_ENV_VAR, "").strip()
    if env:
        return check_mode(env, f"${MODE_ENV_VAR}"), f"${MODE_ENV_VAR}"
    if os.environ.get(FAST_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}:
        return "fast", f"${FAST_ENV_VAR}"
    path = _mode_file()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8").strip().split()
        except UnicodeDecodeError:
            raise DataFormatError(f"{path} is not a text file; it must hold one word, the run mode "
                                  f"({' | '.join(MODES)}): rewrite or delete it") from None
        return check_mode(text[0] if text else "", str(path)), str(path)
    return DEFAULT_MODE, "default"


def mode() -> str:
    """The run mode in force: ``"fast"``, ``"classroom"`` or ``"full"`` (see the module docstring)."""
    return mode_source()[0]


def fast_mode() -> bool:
    """True in fast (CI) mode."""
    return mode() == "fast"


def pick(full: T, fast: T, classroom: "T | None" = None) -> T:
    """The value for the mode in force: ``pick(full=20_000, classroom=4_000, fast=500)``.

    ``classroom`` defaults to ``full`` when not given (a run that is already short needs no third size).

    Parameters
    ----------
    full : object
        Value in ``"full"`` mode (the paper-size run).
    fast : object
        Value in ``"fast"`` mode (tests, CI).
    classroom : object or None, default None
        Value in ``"classroom"`` mode; None: ``full``.

    Returns
    -------
    object
        The value for the mode in force.
    """
    current = mode()
    if current == "fast":
        return fast
    if current == "classroom":
        return full if classroom is None else classroom
    return full


def describe_mode(notebook: str) -> str:
    """One line for the top of a notebook: the mode in force, where it came from, how to switch, and the measured
    run time of ``notebook`` (e.g. ``"01_newtonian_md"``) in each mode on one core (from :data:`TIMINGS_FILE`).

    Parameters
    ----------
    notebook : str
        Notebook stem, e.g. ``"01_newtonian_md"``.

    Returns
    -------
    str
    """
    current, source = mode_source()
    line = f"Run mode: {current} (from {source}). Switch with npsnn_edu.config.set_mode('fast'|'classroom'|'full')."
    try:
        timings = json.loads(TIMINGS_FILE.read_text()).get("notebooks", {}).get(notebook, {})
    except (OSError, ValueError):
        timings = {}
    if timings:
        parts = [f"{m} {timings[m]['seconds'] / 60:.1f} min" for m in MODES if m in timings]
        line += " Measured on one core: " + ", ".join(parts) + "."
    return line


def rng(seed: "int | np.random.Generator | None" = 0) -> np.random.Generator:
    """A NumPy Generator from a seed (``None`` gives fresh entropy; a Generator is passed through).

    Parameters
    ----------
    seed : int, numpy.random.Generator or None, default 0
        Seed; a Generator is returned unchanged; None: fresh entropy.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
