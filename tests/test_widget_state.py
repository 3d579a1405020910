"""The chapter-1 and chapter-2 widgets show plain plotly figures through Output widgets whose STATE holds the
current figure (no FigureWidget restyle messages that a late front end can miss: chapter 1's Energy plot once
came up empty under Run All). Static figures get readable log ticks (10^-4, not "100u")."""
from __future__ import annotations

import base64
import json

import numpy as np

from npsnn_edu.viz.md_widgets import MDExplorer, energy_plot, lines
from npsnn_edu.viz.plots import readable_axes
from npsnn_edu.viz.stability_widgets import DtSliderExplorer, drift_scan_figure


def _shown(out):
    (bundle,) = out.outputs
    return json.loads(json.dumps(bundle["data"]["application/vnd.plotly.v1+json"]))


def _n_points(y):
    """Points of a plotly array: a list, or a typed-array spec {dtype, bdata} (base64)."""
    if isinstance(y, list):
        return len(y)
    return len(np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]))


def test_md_explorer_initial_state_holds_the_first_run():
    ex = MDExplorer("harmonic", auto_run=True, show_3d=False)
    traj = ex.trajectory
    shown = _shown(ex.figure_outputs[0])
    assert [t["name"] for t in shown["data"]] == ["kinetic", "potential", "total"]
    assert _n_points(shown["data"][2]["y"]) == traj.n_frames
    assert _shown(ex.figure_outputs[2])["layout"]["xaxis"]["title"]["text"] == "x of particle 0 (sigma)"
    ex.run(dt=0.02, n_steps=300)  # later runs update the same figures and the shown output
    np.testing.assert_allclose(ex.energy_fig.data[2].y, ex.trajectory.total_energy)
    assert _n_points(_shown(ex.figure_outputs[0])["data"][2]["y"]) == ex.trajectory.n_frames == 301
    for fig in (ex.energy_fig, ex.temperature_fig, ex.phase_fig):
        assert fig.layout.width == ex.figure_width and fig.layout.autosize is False
        assert fig.layout.xaxis.title.text and "(" in fig.layout.yaxis.title.text  # units


def test_dt_slider_initial_state_and_axis_titles():
    ex = DtSliderExplorer("harmonic", ("euler", "velocity_verlet"), dt=0.1, n_steps=200)
    assert _n_points(_shown(ex.figure_output)["data"][3]["y"]) == 201
    ex.update(dt=0.3)
    np.testing.assert_allclose(ex.figure.data[3].y, ex.runs["velocity_verlet"].q)
    assert "dt = 0.3" in _shown(ex.figure_output)["layout"]["title"]["text"]
    lay = ex.figure.layout
    assert lay.yaxis.title.text == "q (sigma)" and lay.yaxis2.title.text == "dq/dt (sigma/tau)"
    assert lay.yaxis3.exponentformat == "power" and lay.xaxis.title.text == "t (tau)"
    # the panels do not overlap: gaps between the x domains leave room for each panel's y title
    assert lay.xaxis2.domain[0] - lay.xaxis.domain[1] > 0.1 and lay.xaxis3.domain[0] - lay.xaxis2.domain[1] > 0.1


def test_static_figures_have_units_and_power_ticks():
    t = np.linspace(0.1, 1, 10)
    fig = lines(t, {"a": t}, "title", "t (tau)", "x (sigma)", log_y=True)
    assert fig.layout.yaxis.exponentformat == "power" and fig.layout.xaxis.title.text == "t (tau)"
    from npsnn_edu.systems import harmonic_oscillator

    fig = energy_plot(harmonic_oscillator().run(dt=0.1, n_steps=10), "E")
    assert fig.layout.xaxis.title.text == "t (tau)" and fig.layout.yaxis.title.text == "E (epsilon)"
    from npsnn_edu.md import stability as st
    from npsnn_edu.systems import harmonic_oscillator as ho

    scan = st.dt_scan(ho(), [0.5, 2.5], n_steps=50, progress=False)
    fig = drift_scan_figure(scan)
    assert fig.layout.xaxis.exponentformat == "power" and fig.layout.xaxis.title.text == "dt (tau)"
    assert readable_axes(fig) is fig
