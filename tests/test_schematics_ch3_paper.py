"""Notebook 03c schematics: each renders as a PNG, fits a notebook column, and draws what the kit computes."""
from __future__ import annotations

import numpy as np
import pytest

from npsnn_edu.gpr.claims import settle_time
from npsnn_edu.gpr.paper_runs import SETTLE_WITHIN_A
from npsnn_edu.gpr.peptides import CONFORMERS
from npsnn_edu.gpr.protocols import BASINS
from npsnn_edu.units import KCAL_PER_MOL_EV
from npsnn_edu.viz import schematics_ch3_paper as sch


@pytest.mark.parametrize("name", ["backbone_torsions", "stretch_test"])
def test_figure_renders_and_fits(name):
    fig = getattr(sch, name)()
    png = fig._repr_png_()
    assert png[:4] == b"\x89PNG"
    width, height = fig.get_size_inches()
    assert width * fig.dpi <= 1000 and height * fig.dpi <= 420
    assert all(ax.get_title() and "(" in ax.get_ylabel() for ax in fig.axes)


def test_torsion_map_draws_the_kits_basins_and_conformers():
    fig = sch.backbone_torsions()
    ax = fig.axes[1]
    boxes = sorted((p.get_x(), p.get_x() + p.get_width(), p.get_y(), p.get_y() + p.get_height())
                   for p in ax.patches)
    assert boxes == sorted((p0, p1, s0, s1) for (p0, p1), (s0, s1) in BASINS.values())
    points = sorted((float(line.get_xdata()[0]), float(line.get_ydata()[0])) for line in ax.lines)
    assert points == sorted(CONFORMERS.values())


def test_stretch_figure_force_and_settle_time_are_the_kits():
    fig = sch.stretch_test(1.5)
    # the restoring force at 1.5 A is -dE/dr of the Morse curve (finite difference), in kcal/mol/A
    h = 1e-5
    e = lambda r: sch.morse_oh(np.array([r]))[0][0]  # noqa: E731
    fd = -(e(1.5 + h) - e(1.5 - h)) / (2 * h) / KCAL_PER_MOL_EV
    assert fig.start_force_kcal_per_A == pytest.approx(fd, rel=1e-6) and fd < 0  # pulls r back down
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert f"force {abs(fd):.0f} kcal/mol/A" in text
    t = np.arange(0.0, 400.0, 1.0)
    r = sch.relaxing_bond(t, 1.5)
    assert r[0] == pytest.approx(1.5) and abs(r[-50:].mean() - sch.OH_MORSE["r_e_A"]) < SETTLE_WITHIN_A
    ts = settle_time(t, r, sch.OH_MORSE["r_e_A"])
    assert ts == fig.settle_time_fs and 0 < ts < 400
    labels = fig.axes[1].get_legend_handles_labels()[1]
    assert f"settled from t = {ts:.0f} fs" in labels
