"""The one table helper of the kit: rows of results -> a pandas DataFrame (what notebook users expect).

``results_table(rows, columns=..., formats=...)`` takes a list of dicts (or a dict of columns) and returns a
DataFrame; in a notebook it renders as an HTML table, in a terminal as text, and ``.to_markdown()``-free
:func:`markdown` gives plain Markdown for READMEs and notes without extra dependencies.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

__all__ = ["markdown", "results_table"]


def results_table(rows: "Iterable[Mapping[str, Any]] | Mapping[str, Sequence[Any]]", *,
                  columns: "Sequence[str] | None" = None, index: "str | None" = None,
                  rename: "Mapping[str, str] | None" = None) -> pd.DataFrame:
    """A DataFrame from a list of row dicts (or a dict of columns).

    ``columns`` selects and orders columns (missing ones are an error naming them); ``index`` makes that column
    the index; ``rename`` maps column names to display names (e.g. ``{"mae_kcal": "MAE (kcal/mol)"}``).
    """
    frame = pd.DataFrame(rows if isinstance(rows, Mapping) else list(rows))
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            from .errors import ShapeMismatchError

            raise ShapeMismatchError(f"the rows have no column(s) {missing}; available: {list(frame.columns)}")
        frame = frame[list(columns)]
    if index is not None:
        frame = frame.set_index(index)
    if rename:
        frame = frame.rename(columns=dict(rename))
        if index is not None and index in rename:
            frame.index.name = rename[index]
    return frame


def _cell(value: Any, float_format: str) -> str:
    if isinstance(value, float):
        return format(value, float_format)
    return str(value)


def markdown(frame: pd.DataFrame, *, float_format: str = ".3g", index: bool = False) -> str:
    """A Markdown table of ``frame`` (no tabulate dependency)."""
    data = frame.reset_index() if index else frame
    header = [str(c) for c in data.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in data.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, float_format) for v in row) + " |")
    return "\n".join(lines)
