"""Sphinx extension of the course website's API reference (``site/_config.yml`` loads it; docs/site.md).

The book tool runs in its own environment (``build/site-venv``), which does not hold the kit's packages. Autodoc
must import ``npsnn_edu`` all the same: ``python -m npsnn_edu.course.site prepare`` writes the kit's import paths (the
repository and the kit environment's site-packages) into ``kit_paths.json`` next to this file, and :func:`setup`
appends them to ``sys.path``, AFTER the book tool's own paths, so the book tool keeps its pinned versions of the
packages both environments hold.

The docstrings are written for readers of the source and for ``help()`` as well: they write absolute values as
``|x|``, which reStructuredText would read as a substitution reference, and some module docstrings have numpydoc
style headings of their own (``Exercises`` underlined), which would become sections of the page.
:func:`escape_pipes` escapes every ``|`` outside inline literals, roles and ``.. math::`` blocks, and
:func:`headings_to_rubrics` turns such headings into rubrics, before the page is parsed.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

#: inline literals, roles with their content (``:math:`...```) and interpreted text: their ``|`` stay as they are
_PROTECTED = re.compile(r"``.+?``|:[\w:+-]+:`[^`]*`|`[^`]*`")


def _escape(text: str) -> str:
    out, pos = [], 0
    for m in _PROTECTED.finditer(text):
        out.append(text[pos:m.start()].replace("|", r"\|"))
        out.append(m.group(0))
        pos = m.end()
    out.append(text[pos:].replace("|", r"\|"))
    return "".join(out)


def escape_pipes(lines: list[str]) -> list[str]:
    """Escape ``|`` in reStructuredText ``lines`` (in place; also returned) except inside inline literals, roles
    and the body of ``.. math::`` directives."""
    math_indent: int | None = None
    for i, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if math_indent is not None:
            if not line.strip() or indent > math_indent:
                continue
            math_indent = None
        if line.lstrip().startswith(".. math::"):
            math_indent = indent
            continue
        lines[i] = _escape(line)
    return lines


_UNDERLINE = re.compile(r"^\s*([-=~^])\1{2,}\s*$")


def headings_to_rubrics(lines: list[str]) -> list[str]:
    """Replace every underlined heading (a text line followed by a line of one repeated ``-=~^`` character at
    least as long) in reStructuredText ``lines`` by a ``.. rubric::`` (in place; also returned)."""
    i = 0
    while i + 1 < len(lines):
        title, under = lines[i], lines[i + 1]
        if title.strip() and _UNDERLINE.match(under) and len(under.strip()) >= len(title.strip()) \
                and not _UNDERLINE.match(title):
            indent = title[:len(title) - len(title.lstrip())]
            lines[i:i + 2] = [f"{indent}.. rubric:: {title.strip()}", ""]
        i += 1
    return lines


def _process_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    headings_to_rubrics(lines)
    escape_pipes(lines)


def setup(app: Any) -> dict[str, Any]:
    paths_file = Path(__file__).with_name("kit_paths.json")
    if paths_file.is_file():
        for path in json.loads(paths_file.read_text())["paths"]:
            if path not in sys.path:
                sys.path.append(path)
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
