"""Bad input gives the typed errors of npsnn_edu.errors, with messages that say what to change."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from npsnn_edu.errors import (
    DataFormatError,
    InvalidParameterError,
    InvalidStateError,
    NpsnnError,
    ShapeMismatchError,
    SimulationDivergedError,
    UnknownNameError,
)
from npsnn_edu.integrators import LangevinBAOAB, get_integrator, simulate
from npsnn_edu.potentials import DoubleWell, Harmonic, LennardJones, Morse, Potential, get_potential
from npsnn_edu.systems import fcc_lattice, get_system, maxwell_boltzmann_velocities, morse_diatomic
from npsnn_edu.trajectory import Trajectory
from npsnn_edu.units import LJUnits

X1 = np.array([[1.0]])


class TwoBody(Potential):
    """A potential defined for exactly two particles."""

    n_particles = 2

    def _energy_and_forces(self, x):
        return 0.0, 0 * x


def raises(exc: type, *fragments: str):
    """pytest.raises that also checks the message mentions every fragment (case-insensitive)."""

    class _Ctx:
        def __enter__(self):
            self._ctx = pytest.raises(exc)
            self.info = self._ctx.__enter__()
            return self.info

        def __exit__(self, *a):
            out = self._ctx.__exit__(*a)
            msg = str(self.info.value).lower()
            for frag in fragments:
                assert frag.lower() in msg, f"{frag!r} not in message {msg!r}"
            assert isinstance(self.info.value, NpsnnError)
            return out

    return _Ctx()


@pytest.mark.parametrize("dt", [0.0, -0.01, np.nan, np.inf])
def test_non_positive_or_non_finite_time_step(dt: float) -> None:
    with raises(InvalidParameterError, "dt", "positive"):
        simulate(Harmonic(), X1, dt=dt, n_steps=10)
    with raises(InvalidParameterError, "dt"):
        get_integrator("rk4", dt)


def test_missing_time_step() -> None:
    with raises(InvalidParameterError, "dt"):
        simulate(Harmonic(), X1, n_steps=10)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_positions_and_velocities(bad: float) -> None:
    x = np.array([[0.0, 0.0, 0.0], [1.2, 0.0, bad]])
    with raises(InvalidStateError, "nan or inf"):
        simulate(LennardJones(), x, dt=0.001, n_steps=1)
    with raises(InvalidStateError, "nan or inf", "(1, 2)"):  # the potential names the first bad index
        LennardJones().energy(x)
    with raises(InvalidStateError, "velocities"):
        simulate(Harmonic(), X1, [[bad]], dt=0.01, n_steps=1)


def test_overlapping_particles_are_rejected_before_the_run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # only the typed error, no numpy warning spam
        with raises(InvalidStateError, "apart"):
            simulate(LennardJones(), np.zeros((2, 3)), dt=0.001, n_steps=1)


def test_shape_mismatches() -> None:
    with raises(ShapeMismatchError, "velocities", "(1, 2)", "(1, 1)"):
        simulate(Harmonic(), X1, [[1.0, 2.0]], dt=0.1, n_steps=1)
    with raises(ShapeMismatchError, "masses", "(2,)"):
        simulate(Harmonic(), [[1.0], [2.0]], dt=0.1, n_steps=1, masses=[1.0, 2.0, 3.0])
    with raises(ShapeMismatchError, "box", "D=2"):
        simulate(LennardJones(box=[6.0, 6.0, 6.0]), [[0.0, 0.0], [1.1, 0.0]], dt=0.01, n_steps=1)
    with raises(ShapeMismatchError, "(N, D)", "[[x"):
        simulate(Harmonic(), [1.0, 2.0], dt=0.1, n_steps=1)
    with raises(ShapeMismatchError, "(..., N, D)"):
        Harmonic().energy(np.array([1.0]))
    with raises(ShapeMismatchError, "2 particles"):
        TwoBody().energy(np.zeros((3, 1)))  # a potential with a fixed particle count (like an ASE-backed one)
    with raises(ShapeMismatchError, "frames"):
        Trajectory(times=[0.0, 1.0], positions=np.zeros((2, 3)), velocities=np.zeros((2, 3)),
                   potential_energy=[0, 0], kinetic_energy=[0, 0], masses=[1, 1], dt=1.0)


def test_invalid_masses() -> None:
    with raises(InvalidParameterError, "masses", "positive"):
        simulate(Harmonic(), [[1.0], [2.0]], dt=0.1, n_steps=1, masses=[1.0, -2.0])


@pytest.mark.parametrize("getter,kind", [
    (lambda: get_potential("lenard-jones"), "potential"),
    (lambda: get_integrator("leapfrog", 0.1), "integrator"),
    (lambda: get_system("argon-gas"), "system"),
    (lambda: simulate(Harmonic(), X1, dt=0.1, n_steps=1, integrator="verlett"), "integrator"),
])
def test_unknown_names_list_the_valid_ones(getter, kind: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        getter()
    msg = str(info.value)
    assert f"unknown {kind}" in msg and "choose one of" in msg
    assert isinstance(info.value, KeyError)  # also a KeyError, as a Python user would expect


def test_unknown_parameters_list_the_accepted_ones() -> None:
    with raises(InvalidParameterError, "accepts", "D_e"):
        get_potential("morse", depth=1.0)
    with raises(InvalidParameterError, "temperature"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=1, integrator="langevin")  # forgot temperature


@pytest.mark.parametrize("temperature", [-1.0, np.nan])
def test_negative_temperature(temperature: float) -> None:
    with raises(InvalidParameterError, "temperature"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=1, integrator="langevin", temperature=temperature)
    with raises(InvalidParameterError, "temperature"):
        LangevinBAOAB(0.1, temperature=temperature)
    with raises(InvalidParameterError, "temperature"):
        maxwell_boltzmann_velocities(np.ones(4), 3, temperature)
    with raises(InvalidParameterError, "temperature"):
        get_system("lennard-jones", temperature=temperature)


def test_negative_friction_and_steps() -> None:
    with raises(InvalidParameterError, "friction"):
        LangevinBAOAB(0.1, temperature=1.0, friction=-1.0)
    with raises(InvalidParameterError, "n_steps", ">= 0"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=-1)
    with raises(InvalidParameterError, "record_every"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=10, record_every=0)
    with raises(InvalidParameterError, "blowup_factor"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=10, blowup_factor=-1.0)
    zero = simulate(Harmonic(), X1, dt=0.1, n_steps=0)  # zero steps is fine: just the initial frame
    assert zero.n_frames == 1


@pytest.mark.parametrize("make", [
    lambda: Harmonic(k=0.0), lambda: Harmonic(k=-1.0), lambda: Harmonic(center=np.nan),
    lambda: DoubleWell(barrier=-1.0), lambda: DoubleWell(x_min=0.0),
    lambda: LennardJones(sigma=0.0), lambda: LennardJones(epsilon=-1.0), lambda: LennardJones(cutoff=-2.5),
    lambda: LennardJones(cutoff=None, shift=True), lambda: LennardJones(cutoff=3.0, box=[5.0, 5.0, 5.0]),
    lambda: LennardJones(box=[5.0, -5.0, 5.0]), lambda: LennardJones(cutoff=None, shift=False, box=[9.0, 9.0, 9.0]),
    lambda: Morse(D_e=0.0), lambda: Morse(a=-1.0), lambda: Morse(r_e=np.inf),
    lambda: fcc_lattice(0), lambda: fcc_lattice(3, density=-0.8), lambda: LJUnits(-1.0, 1.0, 1.0),
    lambda: morse_diatomic(stretch=-5.0), lambda: morse_diatomic(dim=4),
])
def test_invalid_potential_and_system_parameters(make) -> None:
    with pytest.raises(InvalidParameterError):
        make()


def test_divergence_error_carries_step_time_reason_and_partial_trajectory() -> None:
    with pytest.raises(SimulationDivergedError) as info:
        simulate(Harmonic(k=1.0), X1, dt=2.1, n_steps=100)
    err = info.value
    assert isinstance(err, FloatingPointError) and isinstance(err, NpsnnError)
    assert err.step >= 1 and err.time == pytest.approx(2.1 * err.step)
    assert "exceeds" in err.reason and "reduce dt" in str(err).lower()
    assert isinstance(err.trajectory, Trajectory) and err.trajectory.n_frames == err.step


def test_missing_and_malformed_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        Trajectory.read(tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError):
        Trajectory.read(tmp_path / "nothing.traj")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a zip file")
    with raises(DataFormatError, "junk.npz"):
        Trajectory.read(junk)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    with raises(DataFormatError, "missing", "positions"):
        Trajectory.load_npz(other)
    with pytest.raises(FileNotFoundError):
        Trajectory.load_npz(tmp_path / "nothing.npz")
    no_meta = tmp_path / "no_meta.npz"
    traj = simulate(Harmonic(), X1, dt=0.1, n_steps=2)
    arrays = {k: getattr(traj, k) for k in ("times", "positions", "velocities", "potential_energy",
                                             "kinetic_energy", "masses")}
    np.savez(no_meta, meta=np.array("{}"), **arrays)
    with raises(DataFormatError, "metadata", "dt"):
        Trajectory.load_npz(no_meta)
    with raises(DataFormatError, ".npz", ".traj"):
        traj.write(tmp_path / "run.unknownformat")
    traj.info["object"] = object()
    with raises(DataFormatError, "json"):
        traj.save_npz(tmp_path / "meta.npz")
    bad_traj = tmp_path / "bad.traj"
    bad_traj.write_text("not an ASE trajectory\n")
    with raises(DataFormatError, "bad.traj"):
        Trajectory.read(bad_traj)


def test_energy_error_with_zero_or_bad_time_step() -> None:
    from npsnn_edu.md import stability as st

    for dt in (0.0, -0.1, np.nan):
        with raises(InvalidParameterError, "dt", "positive"):  # not a bare ZeroDivisionError
            st.energy_error("velocity_verlet", dt)


@pytest.mark.parametrize("potential", [LennardJones(), Morse(), LennardJones(cutoff=2.5, box=[6.0, 6.0, 6.0])])
def test_particles_on_top_of_each_other_give_a_typed_error(potential) -> None:
    x = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [1.1, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no inf + RuntimeWarning, only the typed error
        with raises(InvalidStateError, "particles 1 and 2", "r = 0", "apart"):
            potential.energy_and_forces(x)
        with raises(InvalidStateError, "particles 1 and 2"):
            potential.energy(np.stack([x + 0.5, x]))  # batched: the second configuration
        with raises(InvalidStateError, "apart"):
            simulate(potential, x, dt=0.001, n_steps=1)


def test_undeclared_integrator_options_and_metadata() -> None:
    with raises(InvalidParameterError, "velocity_verlet", "temperature", "no options"):
        get_integrator("velocity_verlet", 0.1, temperature=1.0)
    with raises(InvalidParameterError, "frictoin", "accepts", "friction"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=1, integrator="langevin", temperature=1.0, frictoin=1.0)
    with raises(InvalidParameterError, "metadata", "colour", "symbols"):
        simulate(Harmonic(), X1, dt=0.1, n_steps=1, metadata={"colour": "red"})
