"""Visual layer: plotly figures, nglview playback (messages the view queued, frames), the MD explorer widget.

Pixels are checked in the browser test; here we check the data the figures hold and what the viewer would
send to the front end, against quantities recomputed from the trajectory.
"""
from __future__ import annotations

import sys

import numpy as np
import plotly.graph_objects as go
import pytest

from npsnn_edu.errors import InvalidParameterError, UnknownNameError
from npsnn_edu.systems import harmonic_oscillator, lj_fcc_system, morse_diatomic
from npsnn_edu.units import ARGON
from npsnn_edu.viz import playback
from npsnn_edu.viz.md_widgets import MDExplorer, build_system, phase_coordinates
from npsnn_edu.viz.plots import energy_figure, phase_portrait, temperature_figure


@pytest.fixture(scope="module")
def lj_traj():
    return lj_fcc_system(temperature=1.5, seed=3).run(dt=0.005, n_steps=60, record_every=2)


@pytest.fixture(scope="module")
def ho_traj():
    return harmonic_oscillator(k=2.0, mass=0.5, x0=0.7).run(dt=0.01, n_steps=300)


# ---------------------------------------------------------------------------------------------------
# plotly figures
# ---------------------------------------------------------------------------------------------------
def test_energy_figure_holds_energies_recomputed_from_the_trajectory(lj_traj):
    fig = energy_figure(lj_traj)
    assert [t.name for t in fig.data] == ["kinetic", "potential", "total"]
    ke = 0.5 * np.einsum("n,fnd->f", lj_traj.masses, lj_traj.velocities**2)
    pe = np.array([lj_fcc_system(temperature=1.5, seed=3).potential.energy(x) for x in lj_traj.positions])
    np.testing.assert_allclose(fig.data[0].y, ke, rtol=1e-12)
    np.testing.assert_allclose(fig.data[1].y, pe, rtol=1e-10)
    np.testing.assert_allclose(fig.data[2].y, ke + pe, rtol=1e-10)
    np.testing.assert_allclose(fig.data[0].x, 0.005 * np.arange(0, 61, 2))


def test_temperature_figure_is_equipartition_temperature(lj_traj):
    fig = temperature_figure(lj_traj, target=1.0)
    v = lj_traj.velocities
    expected = np.sum(lj_traj.masses[None, :, None] * v * v, axis=(1, 2)) / (3 * lj_traj.n_atoms)
    np.testing.assert_allclose(fig.data[0].y, expected, rtol=1e-12)
    assert expected[0] == pytest.approx(1.5, rel=1e-12)  # exact_temperature rescaling of the initial velocities
    assert any(s.y0 == 1.0 for s in fig.layout.shapes)  # the target line


def test_phase_portrait_of_the_harmonic_oscillator_is_the_analytic_ellipse(ho_traj):
    fig = phase_portrait(ho_traj)
    x, v = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    np.testing.assert_array_equal(x, ho_traj.positions[:, 0, 0])
    omega = np.sqrt(2.0 / 0.5)
    # velocity Verlet keeps (x, v) on the ellipse x^2 + v^2/omega^2 = x0^2 up to O(dt^2)
    np.testing.assert_allclose(x**2 + (v / omega) ** 2, 0.7**2, rtol=1e-3)


def test_widget_figures_are_figure_widgets(ho_traj):
    assert isinstance(energy_figure(ho_traj, widget=True), go.FigureWidget)


# ---------------------------------------------------------------------------------------------------
# nglview playback
# ---------------------------------------------------------------------------------------------------
def test_select_frames_stride_and_cap():
    np.testing.assert_array_equal(playback.select_frames(10, stride=3), [0, 3, 6, 9])
    capped = playback.select_frames(1001, stride=1, max_frames=11)
    np.testing.assert_array_equal(capped, np.arange(0, 1001, 100))
    assert len(playback.select_frames(5000, stride=2, max_frames=300)) == 300
    assert playback.select_frames(5000, max_frames=None).size == 5000
    for bad in (dict(stride=0), dict(stride=1.5), dict(max_frames=0)):
        with pytest.raises(InvalidParameterError):
            playback.select_frames(10, **bad)


def _messages(view, method):
    return [m for m in view._ngl_msg_archive if m.get("methodName") == method]


def test_show_trajectory_one_frame_per_strided_frame_and_coordinates_in_angstrom(lj_traj):
    view = playback.show_trajectory(lj_traj, stride=4)
    expected = np.arange(0, lj_traj.n_frames, 4)
    np.testing.assert_array_equal(view.frame_indices, expected)
    assert view.max_frame == len(expected) - 1
    (load,) = _messages(view, "loadFile")
    assert load["kwargs"]["ext"] == "pdb"
    pdb = load["args"][0]["data"]
    assert pdb.startswith("CRYST1")  # the periodic cell travels with the structure
    box_angstrom = lj_traj.box[0] * ARGON.length
    assert float(pdb.split()[1]) == pytest.approx(box_angstrom, abs=1e-3)
    assert pdb.count("ATOM") == 108
    # what the front end receives when the player reaches frame k: wrapped positions converted to Angstrom
    k = 3
    wrapped = np.mod(lj_traj.positions[expected[k]], lj_traj.box) * ARGON.length
    np.testing.assert_allclose(view._trajlist[0].get_coordinates(k), wrapped, rtol=1e-12)
    view.frame = k
    np.testing.assert_allclose(view._coordinates_dict[0], wrapped, rtol=1e-12)
    assert np.all((view._coordinates_dict[0] >= 0) & (view._coordinates_dict[0] <= box_angstrom))


def test_show_trajectory_queues_spacefill_and_unit_cell(lj_traj):
    view = playback.show_trajectory(lj_traj)
    reps = _messages(view, "addRepresentation")
    assert [m["args"][0] for m in reps] == ["spacefill", "unitcell"]
    assert reps[0]["kwargs"]["radius"] == pytest.approx(0.5 * 3.405)  # sigma/2: spheres touch at contact
    # camera: orthographic, tilted, then zoomed to fit (autoView after the spins)
    assert view.camera == "orthographic"
    queued = [c._method_name for c in view._ngl_displayed_callbacks_before_loaded]  # sent once a browser shows it
    assert queued.count("spin") == 2 and queued.index("autoView") > max(i for i, n in enumerate(queued) if n == "spin")
    flat = playback.show_trajectory(lj_traj, tilt=False, camera="perspective")
    assert flat.camera == "perspective" and "spin" not in [m.get("methodName") for m in flat._ngl_msg_archive]
    with pytest.raises(UnknownNameError):
        playback.show_trajectory(lj_traj, camera="fisheye")



def test_views_queue_the_fit_when_shown_script(lj_traj):
    """Every kit view asks the browser to fit its canvas when first shown (tests/test_browser.py checks that it
    draws; here: the script is queued once, before any drawing call, for trajectories and single structures)."""
    for view in (playback.show_trajectory(lj_traj), playback.show_atoms(lj_traj.to_atoms()[0])):
        calls = [c._ngl_msg for c in view._ngl_displayed_callbacks_before_loaded]
        scripts = [m["args"][0] for m in calls if m.get("methodName") == "executeCode"]
        assert scripts == [playback._FIT_WHEN_SHOWN_JS] and "ResizeObserver" in scripts[0]
        assert calls[0].get("methodName") == "executeCode"

def test_show_trajectory_without_box_has_no_unit_cell_and_ball_and_stick():
    traj = morse_diatomic(stretch=0.2).run(dt=0.01, n_steps=40)
    view = playback.show_trajectory(traj, representation="ball+stick", radius=0.4, wrap=False)
    reps = _messages(view, "addRepresentation")
    assert [m["args"][0] for m in reps] == ["ball+stick"]
    assert reps[0]["kwargs"]["radius"] == 0.4
    assert view.max_frame == 40
    # 1D dimer padded to 3D: bond length in Angstrom from the x coordinates
    xyz = view._trajlist[0].get_coordinates(40)
    bond = (traj.positions[40, 1, 0] - traj.positions[40, 0, 0]) * ARGON.length
    assert xyz[1, 0] - xyz[0, 0] == pytest.approx(bond, rel=1e-12)
    np.testing.assert_array_equal(xyz[:, 1:], 0.0)


def test_frame_cap_keeps_first_and_last(lj_traj):
    view = playback.show_trajectory(lj_traj, max_frames=5)
    assert view.max_frame == 4
    assert view.frame_indices[0] == 0 and view.frame_indices[-1] == lj_traj.n_frames - 1
    last = np.mod(lj_traj.positions[-1], lj_traj.box) * ARGON.length
    np.testing.assert_allclose(view._trajlist[0].get_coordinates(4), last, rtol=1e-12)


def test_show_trajectory_bad_input(lj_traj):
    with pytest.raises(UnknownNameError, match="spacefill"):
        playback.show_trajectory(lj_traj, representation="cartoonish")
    with pytest.raises(InvalidParameterError, match="radius"):
        playback.show_trajectory(lj_traj, radius=-1.0)
    with pytest.raises(InvalidParameterError, match="Trajectory"):
        playback.show_trajectory("not a trajectory")


def test_show_atoms_and_list_of_atoms(lj_traj):
    atoms = lj_fcc_system().as_atoms()
    view = playback.show_atoms(atoms)
    assert [m["args"][0] for m in _messages(view, "addRepresentation")] == ["spacefill", "unitcell"]
    from npsnn_edu.ase_interop import trajectory_to_atoms

    images = trajectory_to_atoms(lj_traj)
    view2 = playback.show_trajectory(images, stride=10, symbols="Kr")
    assert view2.max_frame == len(range(0, len(images), 10)) - 1
    assert "Kr" in _messages(view2, "loadFile")[0]["args"][0]["data"]
    assert images[0].get_chemical_symbols()[0] == "Ar"  # the caller's frames are not modified


def test_missing_nglview_gives_clear_error_with_fallback(monkeypatch, lj_traj):
    monkeypatch.setitem(sys.modules, "nglview", None)  # makes `import nglview` raise ImportError
    with pytest.raises(playback.ViewerUnavailableError) as info:
        playback.show_trajectory(lj_traj)
    assert isinstance(info.value, ImportError)
    assert "nglview==3.1.4" in str(info.value) and 'viewer="x3d"' in str(info.value)


def test_x3d_fallback_renders_the_requested_frame(lj_traj):
    html = playback.show_trajectory_x3d(lj_traj, frame=-1).data
    assert "x3d" in html.lower()
    assert html.lower().count("<sphere") == 108  # one sphere per atom
    with pytest.raises(InvalidParameterError):
        playback.show_trajectory_x3d(lj_traj, frame=lj_traj.n_frames)


# ---------------------------------------------------------------------------------------------------
# MD explorer widget
# ---------------------------------------------------------------------------------------------------
def test_build_system_initial_conditions():
    assert build_system("harmonic", displacement=0.4).positions[0, 0] == 0.4
    m = build_system("morse", displacement=0.3)
    assert m.positions[1, 0] - m.positions[0, 0] == pytest.approx(1.3)
    assert build_system("double-well", displacement=-0.25).positions[0, 0] == pytest.approx(0.75)
    lj = build_system("lj", temperature=0.8)
    assert len(lj.positions) == 108
    assert np.sum(lj.velocities**2) / (3 * 108) == pytest.approx(0.8)
    with pytest.raises(UnknownNameError):
        build_system("coulomb")
    with pytest.raises(InvalidParameterError):
        build_system("lennard-jones", temperature=-1.0)


def test_explorer_run_updates_figures_in_place():
    ex = MDExplorer("harmonic", displacement=0.8, dt=0.05, n_steps=400, show_3d=False)
    figs = (ex.energy_fig, ex.temperature_fig, ex.phase_fig)
    traces = [list(f.data) for f in figs]
    traj = ex.run()
    assert traj is ex.trajectory and ex.error is None and ex.n_runs == 1
    assert (ex.energy_fig, ex.temperature_fig, ex.phase_fig) == figs  # same objects: updated in place
    assert [list(f.data) for f in figs] == traces
    np.testing.assert_allclose(ex.energy_fig.data[2].y, traj.total_energy)
    # harmonic oscillator released at rest: E = k x0^2 / 2 = 0.32, conserved by velocity Verlet to O(dt^2)
    np.testing.assert_allclose(ex.energy_fig.data[2].y, 0.32, rtol=2e-3)
    np.testing.assert_allclose(ex.phase_fig.data[0].x, traj.positions[:, 0, 0])
    assert ex.phase_fig.data[1].x == (0.8,)
    assert np.size(ex.temperature_fig.data[1].x) == 0  # no thermostat target for NVE
    assert "run 1" in ex.status.value

    ex.run_button.click()  # the button calls run() with the widget values
    assert ex.n_runs == 2


def test_explorer_diverging_run_shows_step_and_keeps_state():
    ex = MDExplorer("harmonic", show_3d=False)
    good = ex.run()
    before = np.array(ex.energy_fig.data[2].y)
    result = ex.run(dt=2.5)  # omega dt = 2.5 > 2: velocity Verlet is unstable
    assert result is None
    err = ex.error
    assert err is not None and err.step >= 1
    assert f"step {err.step}" in ex.status.value and "smaller time step" in ex.status.value
    assert ex.trajectory is good and ex.n_runs == 1
    np.testing.assert_array_equal(ex.energy_fig.data[2].y, before)
    assert not ex.run_button.disabled
    # explicit Euler blows up too, with a hint to change the integrator
    ex.run(integrator="euler", dt=1.5, n_steps=200)
    assert "velocity Verlet" in ex.status.value
    # and a good run afterwards works again
    assert ex.run(integrator="velocity_verlet", dt=0.05) is not None and ex.error is None


def test_explorer_bad_settings_never_raise():
    ex = MDExplorer("morse", show_3d=False)
    assert ex.run(potential="coulomb") is None
    assert "choose one of" in ex.status.value
    assert ex.run(nonsense=1) is None
    assert "unknown setting" in ex.status.value


def test_explorer_morse_phase_portrait_uses_bond_length():
    ex = MDExplorer("morse", displacement=0.4, show_3d=False)
    traj = ex.run(n_steps=300)
    r = traj.positions[:, 1, 0] - traj.positions[:, 0, 0]
    np.testing.assert_allclose(ex.phase_fig.data[0].x, r)
    np.testing.assert_allclose(ex.phase_fig.data[0].y, traj.velocities[:, 1, 0] - traj.velocities[:, 0, 0])
    assert "bond length" in ex.phase_fig.layout.xaxis.title.text
    q, v, _, _ = phase_coordinates(traj)
    assert q.max() == pytest.approx(1.4, rel=1e-9)  # released at rest from r_e + 0.4: the turning point


def test_explorer_lennard_jones_with_thermostat_and_3d_view():
    ex = MDExplorer("harmonic")
    ex.potential_dd.value = "lennard-jones"  # switching resets dt and steps to the liquid's defaults
    assert ex.dt_box.value == 0.005 and ex.displacement_sl.disabled and not ex.temperature_sl.disabled
    traj = ex.run(n_steps=60, integrator="langevin", temperature=0.9)
    assert traj is not None and traj.n_atoms == 108
    assert ex.temperature_fig.data[1].y == (0.9, 0.9)
    assert ex.view is not None and ex.view_box.children == (ex.view,)
    assert ex.view.max_frame == traj.n_frames - 1
    assert [m["args"][0] for m in _messages(ex.view, "addRepresentation")] == ["spacefill", "unitcell"]
    assert "thermostat" in ex.status.value


def test_explorer_rejects_unknown_names_at_construction():
    with pytest.raises(UnknownNameError):
        MDExplorer("harmonic", integrator="leapfrogger")
    with pytest.raises(UnknownNameError):
        MDExplorer("coulomb")


def test_explorer_divergence_inside_a_kernel_output_context(monkeypatch):
    """In a kernel, ipywidgets' Output context manager swallows exceptions: the explorer must still see them."""
    import ipywidgets.widgets.widget_output as wo

    class FakeShell:
        def showtraceback(self, *args, **kwargs):
            pass

    monkeypatch.setattr(wo, "get_ipython", lambda: FakeShell())
    ex = MDExplorer("lennard-jones", show_3d=False)
    ex.progress_threshold = 1  # force the progress-bar path through the Output widget
    good = ex.run(n_steps=20)
    assert good is not None
    assert ex.run(dt=0.05, n_steps=400) is None
    assert "blew up at step" in ex.status.value and "UnboundLocalError" not in ex.status.value
    assert ex.trajectory is good



def test_show_trajectory_size_sets_nglview_own_size_traits(lj_traj):
    # nglview 3.1.4 draws a 1-px blank canvas inside an HBox unless its own size traits are set before display
    view = playback.show_trajectory(lj_traj, size=("420px", "320px"))
    assert (view._view_width, view._view_height) == ("420px", "320px")
    default = playback.show_trajectory(lj_traj)
    assert default._view_width != "420px"


def test_trajectory_images_use_trajectory_select(lj_traj, monkeypatch) -> None:
    calls = []
    original = type(lj_traj).select

    def spy(self, frames):
        calls.append(np.asarray(frames).tolist())
        return original(self, frames)

    monkeypatch.setattr(type(lj_traj), "select", spy)
    images = playback.trajectory_images(lj_traj, max_frames=4)
    assert len(images) == 4 and calls and calls[0][0] == 0 and calls[0][-1] == lj_traj.n_frames - 1
    with pytest.raises(UnknownNameError, match="representation"):
        playback._style(None, "cartoonish", None, False, None)
    with pytest.raises(InvalidParameterError, match="radius"):
        playback._style(None, "spheres", -1.0, False, None)
