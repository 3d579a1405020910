"""The widgets refuse a value outside their controls' ranges instead of letting ipywidgets clamp it silently.

Before their ``_parameter_constraints`` tables (issue 19 item 5), ``MDExplorer(dt=10)`` ran at dt = 5 (the dt box's
maximum), ``MDExplorer(dt=-1)`` at 1e-5, ``explorer.run(dt=-3)`` at 1e-5, ``MDExplorer(show_3d="no")`` showed the
3D view, ``GPRMDExplorer(temperature_K=5000)`` ran at 1500 K and ``SpikingTrainingWidget(chunk=0)`` trained in
chunks of 1, all without a word.  Each case below failed that way before.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from npsnn_edu.errors import DeviceUnavailableError, InvalidParameterError, UnknownNameError
from npsnn_edu.exercises.chapter2 import PairSpring
from npsnn_edu.gpr.data import load
from npsnn_edu.viz.gpr_widgets import GPRMDExplorer
from npsnn_edu.viz.md_widgets import DT_RANGE, MDExplorer
from npsnn_edu.viz.quiz import QuizView, load_quiz
from npsnn_edu.viz.spiking_widgets import SpikingTrainingWidget
from npsnn_edu.viz.stability_widgets import DtSliderExplorer

torch.set_num_threads(1)


@functools.lru_cache(maxsize=1)
def _malondialdehyde():
    return load("malondialdehyde")


@pytest.mark.parametrize("kwargs, message", [
    ({"dt": 10.0}, "dt must lie in [1e-05, 5], got 10.0"),
    ({"dt": -1.0}, "dt must lie in [1e-05, 5], got -1.0"),
    ({"displacement": 5.0}, "displacement must lie in [-0.9, 3], got 5.0"),
    ({"potential": "lennard-jones", "temperature": -1.0}, "temperature must lie in [0, 4], got -1.0"),
    ({"n_steps": 50_000}, "n_steps must be <= max_steps (20000), got 50000; pass max_steps=50000"),
    ({"show_3d": "no"}, "show_3d must be True or False"),
    ({"seed": -1}, "seed must be"),
])
def test_md_explorer_refuses_values_its_controls_would_clamp(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        MDExplorer(**{"show_3d": False, **kwargs})
    assert message in str(info.value)


def test_md_explorer_accepts_the_edges_of_its_ranges_and_the_dropdown_labels():
    ex = MDExplorer("Morse diatomic", integrator="RK4", dt=DT_RANGE[1], n_steps=50_000, max_steps=50_000,
                    displacement=-0.9, show_3d=False, seed=np.int64(3))
    assert (ex.potential, ex.integrator_dd.value, ex.dt_box.value) == ("morse", "rk4", 5.0)
    assert ex.steps_box.value == 50_000 and ex.displacement_sl.value == -0.9 and ex.seed == 3
    assert ex.current_settings(integrator="explicit Euler")["integrator"] == "euler"


def test_a_refused_override_changes_no_widget_and_keeps_the_last_run():
    ex = MDExplorer("harmonic", n_steps=200, show_3d=False)
    good = ex.run()
    assert good is not None and ex.n_runs == 1
    before = ex.current_settings()
    # run() never raises: the status line says what to change, the previous trajectory and figures stay
    assert ex.run(dt=-3.0) is None
    assert isinstance(ex.error, InvalidParameterError) and "dt must lie in [1e-05, 5], got -3.0" in ex.status.value
    assert ex.trajectory is good and ex.n_runs == 1
    # every override is checked before any widget changes: a good n_steps next to a bad dt is not applied
    with pytest.raises(InvalidParameterError, match="dt must lie in"):
        ex.current_settings(n_steps=7, dt=99.0)
    with pytest.raises(InvalidParameterError, match=r"n_steps must be <= 20000 \(the explorer's max_steps\)"):
        ex.current_settings(n_steps=20_001)
    with pytest.raises(UnknownNameError):
        ex.current_settings(integrator="leapfrogger")
    assert ex.current_settings() == before
    assert ex.run(dt=0.1, n_steps=100) is not None and ex.settings["dt"] == 0.1


@pytest.mark.parametrize("kwargs, error, message", [
    ({"dt": 3.0}, InvalidParameterError, "dt must lie in the slider's range [0.01, 2.5], got 3.0"),
    ({"dt_min": 1.0, "dt_max": 0.5, "dt": 0.7}, InvalidParameterError, "dt_min must be smaller than dt_max"),
    ({"integrators": "velocity_verlet"}, InvalidParameterError, "integrators must be a non-empty list"),
    ({"integrators": ()}, InvalidParameterError, "integrators must be a non-empty list"),
    ({"morse_fraction": 1.0}, InvalidParameterError, "morse_fraction must lie in (0, 1)"),
    ({"n_steps": 0}, InvalidParameterError, "n_steps must be"),
    ({"system": "pendulum"}, UnknownNameError, "unknown system 'pendulum'"),
])
def test_dt_slider_refuses_what_its_slider_would_clamp(kwargs, error, message):
    with pytest.raises(error) as info:
        DtSliderExplorer(**{"n_steps": 20, **kwargs})
    assert message in str(info.value)


def test_dt_slider_normalises_names_and_starts_where_asked():
    ex = DtSliderExplorer(" Harmonic ", ["Velocity-Verlet"], dt=2.5, n_steps=20)
    assert ex.system == "harmonic" and ex.integrators == ["velocity_verlet"]
    assert ex.slider.value == ex.dt == 2.5


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature_K": 5000.0}, "temperature_K must lie in [100, 1500], got 5000.0"),
    ({"duration_fs": 50_000.0}, "duration_fs must lie in [10, 20000], got 50000.0"),
    ({"n_train": 10**6}, "n_train must be <= "),
    ({"data": "malondialdehyde"}, "data must be a MoleculeData, got str"),
])
def test_gpr_explorer_refuses_values_its_controls_would_clamp(kwargs, message):
    with pytest.raises(InvalidParameterError) as info:
        GPRMDExplorer(**{"data": _malondialdehyde(), "show_3d": False, **kwargs})
    assert message in str(info.value)


def test_gpr_explorer_keeps_a_large_seed_and_its_temperature():
    ex = GPRMDExplorer(_malondialdehyde(), n_train=50, temperature_K=1450.0, seed=123_456, show_3d=False)
    assert ex.seed_box.value == 123_456 and ex.temperature_sl.value == 1450 and ex.n_train == 50


def test_spiking_widget_refuses_a_zero_chunk_and_config_it_would_ignore():
    with pytest.raises(InvalidParameterError, match="chunk must be"):
        SpikingTrainingWidget(method="mlp", total_steps=2, chunk=0, background=False, n_colloc=8, n_eval=21)
    wdg = SpikingTrainingWidget(method="mlp", total_steps=2, chunk=1, background=False, n_colloc=8, n_eval=21)
    with pytest.raises(InvalidParameterError, match=r"TrainConfig fields \['lr'\] only apply"):
        SpikingTrainingWidget(wdg.trainer, lr=1e-2)
    assert SpikingTrainingWidget(wdg.trainer, total_steps=4).trainer is wdg.trainer


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_spiking_widget_asked_for_an_absent_gpu_says_so():
    with pytest.raises(DeviceUnavailableError, match="use device='cpu'"):
        SpikingTrainingWidget(method="mlp", device="cuda", background=False)


def test_quiz_view_and_pair_spring_check_their_parameters():
    questions = load_quiz("01_newtonian_md")
    with pytest.raises(InvalidParameterError, match=r"give an integer in \[200, 2000\], got 100"):
        QuizView(questions, max_width=100)
    assert QuizView(questions, max_width=np.int64(640)).max_width == 640
    with pytest.raises(InvalidParameterError, match="k must be a positive finite number, got 0.0"):
        PairSpring(0.0)
    assert PairSpring(np.float32(2.0)).energy_and_forces(np.array([[0.0], [1.5]]))[0] == pytest.approx(0.25)
