"""The one table helper of the kit: rows of results -> a pandas DataFrame (what notebook users expect).

``results_table(rows, columns=..., index=..., rename=..., missing=...)`` takes a list of dicts (or a dict of columns)
and returns a :class:`ResultsTable` (a DataFrame); in a notebook it renders as an HTML table, in a terminal as text,
and ``.to_markdown()``-free :func:`markdown` gives plain Markdown for READMEs and notes without extra dependencies.

Readable for a student: a missing value (``None``, ``NaN``, ``pd.NA``) shows as :data:`MISSING` (a dash, or the
``missing`` text given), never as a raw ``NaN``/``None``; every column is shown with its full name (no ``...``
column elision, no cut cell text), and long header names wrap instead of widening the table past the screen.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .errors import InvalidParameterError, ShapeMismatchError

__all__ = ["MISSING", "ResultsTable", "markdown", "results_table"]

#: What a missing value (None, NaN, pd.NA) looks like in a table.
MISSING = "-"
#: Header cells wrap between words (long names stay whole but do not widen the table past the screen).
_TABLE_CSS = ("<style>.npsnn-table th {white-space: normal; overflow-wrap: normal; word-break: normal; "
              "text-align: right; vertical-align: bottom; max-width: 14em;}"
              "</style>")


class ResultsTable(pd.DataFrame):
    """A DataFrame that displays missing values as ``missing`` (default :data:`MISSING`) and every column whole.

    It behaves as a DataFrame in every other respect (indexing, arithmetic, ``.loc``); only its display changes.
    """

    @property
    def missing(self) -> str:
        """What an absent value shows as (kept in ``attrs``, so it survives slicing and copies)."""
        return str(self.attrs.get("npsnn_missing", MISSING))

    @property
    def _constructor(self):  # keeps the type (and ``missing``) through slicing and other operations
        return ResultsTable

    def _display_options(self) -> pd.option_context:
        return pd.option_context("display.max_columns", None, "display.max_colwidth", None,
                                 "display.width", 10_000)

    def _display_frame(self) -> pd.DataFrame:
        """A plain copy for display: absent values of non-float columns (None, pd.NA) replaced by ``missing``
        (float columns keep their number formatting; their NaN become ``missing`` through ``na_rep``)."""
        out = pd.DataFrame(self).copy()
        for k in range(out.shape[1]):
            col = out.iloc[:, k]
            if not pd.api.types.is_float_dtype(col.dtype) and col.isna().any():
                out.isetitem(k, col.astype(object).where(col.notna(), self.missing))
        return out

    def to_html(self, *args: Any, **kwargs: Any) -> str:
        """The table as HTML, absent values shown as :attr:`missing` (options of pandas' ``DataFrame.to_html``)."""
        kwargs.setdefault("na_rep", self.missing)
        with self._display_options():
            return self._display_frame().to_html(*args, **kwargs)

    def _repr_html_(self) -> str:
        return f'<div class="npsnn-table">{_TABLE_CSS}{self.to_html(max_cols=None, max_rows=200)}</div>'

    def to_string(self, *args: Any, **kwargs: Any) -> str:
        kwargs.setdefault("na_rep", self.missing)
        with self._display_options():
            return self._display_frame().to_string(*args, **kwargs)

    def __repr__(self) -> str:
        return self.to_string(max_rows=200)


def results_table(rows: "Iterable[Mapping[str, Any]] | Mapping[str, Sequence[Any]]", *,
                  columns: "Sequence[str] | None" = None, index: "str | None" = None,
                  rename: "Mapping[str, str] | None" = None, missing: str = MISSING) -> "ResultsTable":
    """A :class:`ResultsTable` (DataFrame) from a list of row dicts (or a dict of columns).

    ``columns`` selects and orders columns (missing ones are an error naming them); ``index`` makes that column
    the index; ``rename`` maps column names to display names (e.g. ``{"mae_kcal": "MAE (kcal/mol)"}``);
    ``missing`` is what an absent value (None, NaN) shows as (e.g. ``"not run"``).

    Parameters
    ----------
    rows : iterable of mappings, or mapping of column sequences
        Row dicts, or a dict of columns.
    columns : sequence of str or None, default None
        Columns to keep, in order.
    index : str or None, default None
        Column to use as index.
    rename : mapping or None, default None
        Display names of columns.
    missing : str, default "-"
        Text of absent values.

    Returns
    -------
    ResultsTable

    Raises
    ------
    ShapeMismatchError
        A requested column that the rows do not have.
    InvalidParameterError
        ``missing`` is not a string.
    """
    if not isinstance(missing, str):
        raise InvalidParameterError(f"missing is the text shown for an absent value, e.g. '-' or 'n/a'; got "
                                    f"{missing!r}")
    frame = pd.DataFrame(rows if isinstance(rows, Mapping) else list(rows))
    if columns is not None:
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise ShapeMismatchError(f"the rows have no column(s) {absent}; available: {list(frame.columns)}")
        frame = frame[list(columns)]
    if index is not None:
        frame = frame.set_index(index)
    if rename:
        frame = frame.rename(columns=dict(rename))
        if index is not None and index in rename:
            frame.index.name = rename[index]
    table = ResultsTable(frame)
    table.attrs["npsnn_missing"] = missing
    return table


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays, lists: not a single missing value
        return False


def _cell(value: Any, float_format: str, missing: str = MISSING) -> str:
    if _is_missing(value):
        return missing
    if isinstance(value, float):
        return format(value, float_format)
    return str(value)


def markdown(frame: pd.DataFrame, *, float_format: str = ".3g", index: bool = False,
             missing: "str | None" = None) -> str:
    """A Markdown table of ``frame`` (no tabulate dependency); absent values show as ``missing`` (default: the
    table's own, else :data:`MISSING`).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    float_format : str, default ".3g"
        Format of floats.
    index : bool, default False
        Include the index column.
    missing : str or None, default None
        Text of absent values (default: the table's own, else :data:`MISSING`).

    Returns
    -------
    str
    """
    if missing is None:
        missing = getattr(frame, "missing", MISSING)
    data = frame.reset_index() if index else frame
    header = [str(c) for c in data.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in data.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, float_format, missing) for v in row) + " |")
    return "\n".join(lines)
