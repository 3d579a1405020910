"""Notebook 04c schematics: each renders, fits a notebook column, and draws what the kit computes."""
from __future__ import annotations

import io

import numpy as np
import pytest

from npsnn_edu.viz import schematics_ch4_systems as sch

FIGURES = ("zero_force_scale", "barrier_windows", "forward_output_check")


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_with_titles_and_fits_a_notebook(name):
    fig = getattr(sch, name)()
    assert type(fig).__name__ == "Figure"
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    width, height = fig.get_size_inches()
    assert width * fig.dpi <= 1100 and height * fig.dpi <= 500
    assert all(ax.get_title() and "(" in ax.get_ylabel() for ax in fig.axes)  # titles, units on the axes


def test_drawn_double_well_trajectory_crosses_and_conserves_energy():
    from npsnn_edu.spiking.systems import double_well_period

    t_end = 2 * double_well_period(1.5, 0.0)
    t, x = sch.double_well_trajectory(1.5, 0.0, t_end)
    assert x.min() < -1.4 and x.max() == pytest.approx(1.5, abs=1e-3)  # it visits the other well and comes back
    assert x[-1] == pytest.approx(1.5, abs=1e-5)  # after two periods


def test_check_figure_shows_a_failing_verdict():
    fig = sch.forward_output_check()
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "DO NOT TRUST" in text and "tolerance 0.05" in text


def test_zero_force_figure_marks_both_scales():
    fig = sch.zero_force_scale()
    lines = fig.axes[1].get_lines()
    levels = sorted(float(np.mean(line.get_ydata())) for line in lines if len(set(line.get_ydata())) == 1)
    assert levels[0] == pytest.approx(1e-3) and levels[-1] == pytest.approx(1.0, abs=1e-3)
