"""Results tables read well: missing values never show as raw NaN/None, column names and cell text are never cut,
and a ResultsTable still behaves as a DataFrame."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.tables import MISSING, ResultsTable, markdown, results_table

LONG = "largest time step before the energy error exceeds ten percent (reduced units)"
ROWS = [{"integrator": "velocity Verlet", LONG: 1.9, "note": None, "count": 3},
        {"integrator": "forward Euler", LONG: np.nan, "note": "diverged " * 12, "count": pd.NA}]


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.S)]


def test_html_shows_missing_values_readably_and_every_name_whole():
    table = results_table(ROWS, index="integrator")
    html = table._repr_html_()
    cells = _cells(html)
    assert not {"NaN", "nan", "None", "<NA>", "NA"} & set(cells), cells
    assert cells.count(MISSING) == 3  # None, NaN and pd.NA
    assert LONG in cells and "note" in cells and "count" in cells  # full column names
    assert ("diverged " * 12).strip() in cells  # cell text not cut with "..."
    assert "..." not in html and "white-space: normal" in html  # headers wrap instead of widening the table
    # a plain DataFrame of the same rows shows the raw values this replaces (the control)
    plain = _cells(pd.DataFrame(ROWS).set_index("integrator")._repr_html_())
    assert "NaN" in plain and "&lt;NA&gt;" in plain


def test_many_columns_are_all_shown():
    wide = results_table([{f"column number {k}": k for k in range(40)}])
    cells = _cells(wide._repr_html_())
    assert all(f"column number {k}" in cells for k in range(40))
    assert "..." not in cells
    with pd.option_context("display.max_columns", 5):
        assert "column number 20" in repr(wide)
        assert "..." in repr(pd.DataFrame(wide))  # plain pandas elides columns (the control)
    assert "..." not in repr(wide)


def test_text_and_markdown_show_missing_values_readably():
    table = results_table(ROWS, columns=["integrator", LONG, "note"], missing="not run")
    text = repr(table)
    assert "NaN" not in text and "None" not in text and text.count("not run") == 2
    md = markdown(table)
    assert md.count("| not run |") == 2 and "nan" not in md and "None" not in md
    plain = pd.DataFrame([{"a": None, "b": float("nan")}])
    assert markdown(plain) == f"| a | b |\n|---|---|\n| {MISSING} | {MISSING} |"


def test_it_is_still_a_dataframe():
    table = results_table(ROWS, index="integrator", rename={LONG: "dt max"})
    assert isinstance(table, pd.DataFrame) and isinstance(table, ResultsTable)
    assert table.loc["velocity Verlet", "dt max"] == 1.9 and np.isnan(table.loc["forward Euler", "dt max"])
    part = table[["dt max"]]
    assert isinstance(part, ResultsTable) and part.missing == MISSING
    assert "NaN" not in part._repr_html_()


def test_missing_must_be_text():
    with pytest.raises(InvalidParameterError, match="missing is the text"):
        results_table(ROWS, missing=None)
