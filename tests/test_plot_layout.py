"""The kit's plotly figures keep their legend clear of the title: horizontal, at the bottom edge of the figure
(tests/test_browser.py measures the bounding boxes in Chromium)."""
from __future__ import annotations

from npsnn_edu.viz.plots import LEGEND_BELOW, line_figure, new_figure


def test_new_figures_put_the_legend_below_the_plot():
    for fig in (new_figure("A title", "x", "y"), line_figure([0, 1], {"a": [0, 1], "b": [1, 0]}, "T", "x", "y")):
        legend = fig.layout.legend
        assert legend.orientation == "h" and legend.yref == "container"
        assert legend.y == 0 and legend.yanchor == "bottom" and legend.xanchor == "left"
    assert LEGEND_BELOW["yref"] == "container"
