"""The shared plumbing of the course command lines (``python -m npsnn_edu.course.<tool>``).

Every tool's ``main(argv)`` takes its docstring from :func:`command_line` (the one ``Parameters``/``Returns`` text
of all of them), builds its parser with :func:`parser`, turns the typed errors it expects into an exit status with
:func:`guarded`, and, where it reads notebooks, checks the list it was given with :func:`checked_notebooks`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence, TypeVar

_Main = TypeVar("_Main", bound=Callable[..., int])

_MAIN_DOC = """{summary}

Parameters
----------
argv : sequence of str or None, default None
    Arguments (None: ``sys.argv[1:]``).

Returns
-------
int
    Exit status.
"""


def command_line(summary: str) -> Callable[[_Main], _Main]:
    """Decorator of a tool's ``main(argv)``: its docstring, ``summary`` followed by the shared Parameters/Returns.

    Parameters
    ----------
    summary : str
        First line of the docstring (what the command line does).

    Returns
    -------
    callable
        The decorator (returns ``main`` itself, documented).
    """
    def document(main: _Main) -> _Main:
        main.__doc__ = _MAIN_DOC.format(summary=summary)
        return main
    return document


def parser(module: str, description: str) -> argparse.ArgumentParser:
    """The argument parser of ``python -m <module>``.

    Parameters
    ----------
    module : str
        Dotted module name (the ``prog`` shown in ``--help`` is ``python -m <module>``).
    description : str
        Text of ``--help`` under the usage line.

    Returns
    -------
    argparse.ArgumentParser
    """
    return argparse.ArgumentParser(prog=f"python -m {module}", description=description)


def guarded(action: Callable[[], int], errors: tuple[type[BaseException], ...], *, prefix: str = "error",
            status: int = 2) -> int:
    """Run ``action``; a typed error it raises becomes ``<prefix>: <message>`` on stderr and exit status ``status``.

    Parameters
    ----------
    action : callable
        The command's work, returning its exit status.
    errors : tuple of exception types
        The errors that are the user's (bad arguments, unreadable input), not bugs.
    prefix : str, default "error"
        Start of the message.
    status : int, default 2
        Exit status on such an error.

    Returns
    -------
    int
        Exit status.
    """
    try:
        return action()
    except errors as exc:
        print(f"{prefix}: {exc}", file=sys.stderr)
        return status


def checked_notebooks(given: Sequence[Path], default: Callable[[], list[Path]],
                      exists: Callable[[Path], bool] = Path.is_file) -> list[Path] | None:
    """The notebooks a command works on: ``given``, or ``default()``; None (after a message on stderr) if none is.

    Parameters
    ----------
    given : sequence of Path
        Notebooks named on the command line (may be empty).
    default : callable
        The chapter notebooks, used when ``given`` is empty.
    exists : callable, default Path.is_file
        The test a notebook must pass to count as found.

    Returns
    -------
    list of Path or None
        The notebooks; None when there are none or some are missing (the caller exits with status 2).
    """
    notebooks = list(given) or default()
    if not notebooks:
        print("no notebooks found (expected notebooks/0*.ipynb; run from the repository root)", file=sys.stderr)
        return None
    missing = [str(p) for p in notebooks if not exists(Path(p))]
    if missing:
        print(f"notebook(s) not found: {', '.join(missing)}", file=sys.stderr)
        return None
    return notebooks
