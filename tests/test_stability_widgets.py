"""The dt-slider widget, driven without a browser: a slider move must recompute and update the SAME
FigureWidget's traces in place, and divergence must show a message instead of raising."""
import numpy as np
import pytest

from npsnn_edu.analytic import harmonic_solution
from npsnn_edu.errors import InvalidParameterError, UnknownNameError
from npsnn_edu.md.stability import analytic_amplification_matrix
from npsnn_edu.viz.stability_widgets import DtSliderExplorer


def test_slider_move_updates_same_figure_in_place():
    ex = DtSliderExplorer(dt=0.05, n_steps=300)
    fig, traces = ex.figure, list(ex.figure.data)
    n_traces = len(traces)
    assert n_traces == 3 * 3 + 2
    before = np.array(fig.data[3].y)  # velocity Verlet x(t)
    ex.slider.value = 0.5  # what a user's slider move does (observer -> update)
    assert ex.figure is fig and len(fig.data) == n_traces
    assert all(a is b for a, b in zip(fig.data, traces))  # same trace objects, new data
    assert ex.dt == 0.5
    after_t, after_x = np.array(fig.data[3].x), np.array(fig.data[3].y)
    assert not np.array_equal(before, after_x)
    assert after_t[-1] == pytest.approx(0.5 * 300)
    # the plotted velocity-Verlet trajectory is the real one: x_n = (M^n (1, 0))[0] with the analytic matrix
    m = analytic_amplification_matrix("velocity_verlet", 0.5)
    z, ref = np.array([1.0, 0.0]), []
    for _ in range(301):
        ref.append(z[0])
        z = m @ z
    np.testing.assert_allclose(after_x, ref, rtol=1e-9, atol=1e-12)
    # and its phase portrait trace carries (x, v) of the same run
    np.testing.assert_allclose(np.array(fig.data[4].x), after_x)
    # the exact reference trace follows the new dt
    t_exact = np.array(fig.data[9].x)
    assert t_exact[-1] == pytest.approx(150.0) and np.diff(t_exact).max() <= 2 * np.pi / 20 + 1e-12
    np.testing.assert_allclose(np.array(fig.data[9].y), harmonic_solution(t_exact)[0])
    assert "dt = 0.5" in fig.layout.title.text


def test_divergence_shows_message_not_exception():
    ex = DtSliderExplorer(dt=0.1, n_steps=1000)
    # explicit Euler: E grows by (1 + h^2) per step -> 100x threshold at step ln(101)/ln(1.01) = 463.8
    assert len(ex.messages) == 1 and "euler diverged at step 464" in ex.messages[0]
    assert "Warning" in ex.message_box.value
    assert len(ex.figure.data[0].x) < 1001  # partial trajectory drawn
    msgs = ex.update(dt=2.1)  # beyond Verlet's h* = 2 as well
    assert any(m.startswith("velocity_verlet diverged at step") for m in msgs)
    assert any("beyond its stability limit 2" in m for m in msgs)
    assert not any(m.startswith("rk4") for m in msgs)  # RK4 is still stable at h = 2.1 < 2 sqrt(2)
    msgs = ex.update(dt=0.15)
    # only Euler, which is never stable: threshold at step ln(101)/ln(1 + 0.15^2) = 207.4
    assert len(msgs) == 1 and "euler diverged at step 208" in msgs[0]
    ex2 = DtSliderExplorer(integrators=("velocity_verlet", "rk4"), dt=0.05, n_steps=200)
    assert ex2.messages == [] and "ran to the end" in ex2.message_box.value


def test_morse_system_and_picker():
    ex = DtSliderExplorer(dt=0.02, n_steps=500, morse_fraction=0.7, integrators=("velocity_verlet",))
    ex.system_picker.value = "morse"
    assert ex.system == "morse"
    t = np.array(ex.figure.data[0].x)
    r = np.array(ex.figure.data[0].y)
    from npsnn_edu.md.stability import morse_solution

    r_exact, _ = morse_solution(t, -0.3)
    assert np.max(np.abs(r - r_exact)) < 0.01
    msgs = ex.update(dt=1.2)  # far beyond every limit: the first step from the inner wall explodes
    assert msgs and ("diverged at step" in msgs[0] or "dissociated" in msgs[0])


def test_bad_input():
    with pytest.raises(UnknownNameError):
        DtSliderExplorer(system="pendulum")
    with pytest.raises(InvalidParameterError):
        DtSliderExplorer(dt=-1)
    with pytest.raises(UnknownNameError):
        DtSliderExplorer(integrators=("leapfrogg",))


# --------------------------------------------------------------- chapter 2's static figures ----
def _legend_entries(fig):
    return [t.name for t in fig.data if t.showlegend is not False]


def test_drift_scan_figure_one_legend_entry_per_scan_below_the_plot():
    from npsnn_edu.md import stability as st
    from npsnn_edu.systems import harmonic_oscillator
    from npsnn_edu.viz.stability_widgets import drift_scan_figure

    scans = [st.dt_scan(harmonic_oscillator(k=k), [0.1, 0.3, 0.5], n_steps=200, progress=False) for k in (1, 25)]
    fig = drift_scan_figure(scans, "t", labels=["soft spring", "stiff spring"])
    # the stiff spring blows up at 0.5 (h = 2.5): its crosses join its group without a legend entry of their own
    assert _legend_entries(fig) == ["soft spring", "stiff spring"]
    assert any(t.legendgroup == "stiff spring" and t.marker.symbol == "x" for t in fig.data)
    assert fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"  # below the axis: never over the title
    # the y range covers every finite point and the crosses
    lo, hi = fig.layout.yaxis.range
    finite = np.concatenate([s.drift[np.isfinite(s.drift)] for s in scans])
    assert 10**lo <= finite.min() and 10**hi >= finite.max()
    x0, x1 = fig.layout.xaxis.range
    for s in scans:  # every dt and every limit line inside the x range
        assert 10**x0 < s.dts.min() and 10**x1 > max(s.dts.max(), s.dt_linear_limit)
    with pytest.raises(InvalidParameterError):
        drift_scan_figure(scans, labels=["only one"])


def test_energy_error_figure_fits_a_bounded_and_a_growing_error():
    from npsnn_edu.md import stability as st
    from npsnn_edu.viz.stability_widgets import energy_error_figure

    runs = {name: st.energy_error(name, 0.3, n_periods=10, blowup_factor=None) for name in ("euler", "velocity_verlet")}
    fig = energy_error_figure(runs)
    lo, hi = fig.layout.yaxis.range
    for run in runs.values():
        err = np.abs(run.relative_error)
        assert 10**hi >= err.max()  # nothing cut at the top (the old fixed +-0.1 range cut Euler's curve)
    assert 10**lo <= np.percentile(np.abs(runs["velocity_verlet"].relative_error), 50)
    assert fig.layout.yaxis.type == "log" and fig.layout.legend.y < 0
    assert _legend_entries(fig) == ["euler", "velocity_verlet"]


def test_stability_diagram_legend_below():
    from npsnn_edu.viz.stability_widgets import stability_diagram_figure

    fig = stability_diagram_figure(np.linspace(0.1, 3.0, 30))
    assert fig.layout.legend.y < 0 and len(_legend_entries(fig)) == 4
