"""Integrators against analytic solutions, time reversibility, energy conservation and thermostat statistics."""
from __future__ import annotations

import numpy as np
import pytest

from npsnn_edu.analytic import harmonic_solution, morse_period
from npsnn_edu.errors import InvalidParameterError, SimulationDivergedError
from npsnn_edu.integrators import (
    NVE_INTEGRATORS,
    Integrator,
    LangevinBAOAB,
    available_integrators,
    get_integrator,
    simulate,
)
from npsnn_edu.potentials import Harmonic
from npsnn_edu.systems import harmonic_oscillator, lj_fcc_system, morse_diatomic

OMEGA = 2.0  # k = 4, m = 1
X0, V0 = 1.0, 0.5


def max_phase_error(integrator: str, dt: float, t_end: float = 5.0) -> float:
    """Largest phase-space distance to the exact harmonic solution over [0, t_end]."""
    system = harmonic_oscillator(k=OMEGA**2, mass=1.0, x0=X0, v0=V0)
    traj = system.run(dt=dt, n_steps=int(round(t_end / dt)), integrator=integrator)
    x, v = harmonic_solution(traj.times, X0, V0, OMEGA)
    return float(np.max(np.hypot(traj.positions[:, 0, 0] - x, (traj.velocities[:, 0, 0] - v) / OMEGA)))


@pytest.mark.parametrize("integrator,expected,dts", [
    ("euler", 1, [0.004, 0.002, 0.001, 0.0005]),
    ("symplectic_euler", 1, [0.004, 0.002, 0.001, 0.0005]),
    ("velocity_verlet", 2, [0.04, 0.02, 0.01, 0.005]),
    ("rk4", 4, [0.1, 0.05, 0.025, 0.0125]),
])
def test_global_error_order_on_the_harmonic_oscillator(integrator: str, expected: int, dts: list[float]) -> None:
    errors = [max_phase_error(integrator, dt) for dt in dts]
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(slope - expected) < 0.1, f"{integrator}: fitted order {slope:.3f}, errors {errors}"
    assert get_integrator(integrator, 0.1).order == expected


def test_simulate_records_consistent_frames() -> None:
    system = morse_diatomic(stretch=0.2, dim=3)
    traj = system.run(dt=0.01, n_steps=103, record_every=10)
    np.testing.assert_array_equal(traj.times, np.r_[np.arange(0, 101, 10), 103] * 0.01)
    assert traj.positions.shape == (12, 2, 3)
    ke = 0.5 * np.einsum("n,fnd->f", traj.masses, traj.velocities**2)
    np.testing.assert_allclose(traj.kinetic_energy, ke, rtol=1e-14)
    pe = np.array([system.potential.energy(p) for p in traj.positions])
    np.testing.assert_allclose(traj.potential_energy, pe, rtol=1e-14)
    np.testing.assert_allclose(traj.temperature, 2 * ke / (3 * 2), rtol=1e-14)
    every = system.run(dt=0.01, n_steps=103)  # recording does not change the dynamics
    np.testing.assert_array_equal(every.positions[[0, 10, 50, 103]], traj.positions[[0, 1, 5, 11]])


def test_morse_period_matches_the_analytic_formula() -> None:
    """Morse dimer: the period measured from the Verlet trajectory equals 2 pi / (a sqrt(2 |E| / mu))."""
    D_e, a, mass = 1.0, 1.5, 1.0
    system = morse_diatomic(D_e=D_e, a=a, r_e=1.0, stretch=0.4, mass=mass)
    energy = float(system.potential.energy(system.positions))
    period = morse_period(energy, D_e, a, reduced_mass=mass / 2)
    traj = system.run(dt=period / 4000, n_steps=12_000)
    r = traj.positions[:, 1, 0] - traj.positions[:, 0, 0]
    # the bond starts at its outer turning point: maxima of r mark whole periods
    peaks = np.flatnonzero((r[1:-1] > r[:-2]) & (r[1:-1] >= r[2:])) + 1
    assert len(peaks) == 2
    measured = np.diff(np.r_[0.0, traj.times[peaks]])
    np.testing.assert_allclose(measured, period, rtol=1e-4)


# ------------------------------------------------------------------------------------------------
# time reversibility and energy conservation
# ------------------------------------------------------------------------------------------------
def run_back_and_forth(system, dt: float, n_steps: int) -> float:
    forward = system.run(dt=dt, n_steps=n_steps)
    backward = simulate(system.potential, forward.positions[-1], -forward.velocities[-1], dt=dt, n_steps=n_steps,
                        masses=system.masses)
    scale = max(np.max(np.abs(system.positions)), 1.0)
    assert np.max(np.abs(forward.positions[-1] - system.positions)) > 1e-3 * scale  # it did move
    dx = np.max(np.abs(backward.positions[-1] - system.positions)) / scale
    dv = np.max(np.abs(backward.velocities[-1] + system.velocities)) / max(np.max(np.abs(forward.velocities)), 1e-300)
    return max(dx, dv)


def test_verlet_is_time_reversible_on_harmonic_and_morse() -> None:
    assert run_back_and_forth(harmonic_oscillator(k=4.0, x0=1.0, v0=0.3), dt=0.01, n_steps=2000) < 1e-10
    assert run_back_and_forth(morse_diatomic(a=1.5, stretch=0.4, dim=3), dt=0.01, n_steps=2000) < 1e-10


def test_verlet_is_time_reversible_on_a_short_lj_run() -> None:
    # chaotic dynamics amplify round-off (Lyapunov exponent ~ a few per tau): 1 tau back and forth stays tiny
    assert run_back_and_forth(lj_fcc_system(3, temperature=1.0, seed=2), dt=0.005, n_steps=200) < 1e-7


def test_euler_is_not_time_reversible() -> None:
    system = harmonic_oscillator(k=4.0)
    fwd = system.run(dt=0.01, n_steps=200, integrator="euler")
    back = simulate(system.potential, fwd.positions[-1], -fwd.velocities[-1], dt=0.01, n_steps=200,
                    integrator="euler", masses=system.masses)
    assert abs(back.positions[-1, 0, 0] - X0) > 1e-3


def test_nve_energy_of_lj_argon_is_bounded_without_secular_drift() -> None:
    """108 LJ atoms, density 0.8442, T = 1, cutoff 2.5 (shifted), velocity Verlet dt = 0.005 for 1000 steps.

    Velocity Verlet conserves a shadow Hamiltonian that differs from E by O(dt^2): the total energy
    fluctuates by ~1e-4 |E| at dt = 0.005 (plus small jumps from forces switching off at the cutoff), it
    does not drift. Bound: 1e-3 |E0| (10 x margin). Secular drift test: the least-squares linear trend over
    the run is below 1e-4 |E0| (an unstable or non-symplectic scheme drifts linearly), and the error does not
    grow: the second half fluctuates no more than the first half (which includes the melting transient).
    """
    system = lj_fcc_system(3, density=0.8442, temperature=1.0, seed=0)
    traj = system.run(dt=0.005, n_steps=1000)
    rel = (traj.total_energy - traj.total_energy[0]) / abs(traj.total_energy[0])
    assert np.max(np.abs(rel)) < 1e-3
    trend = np.polyfit(traj.times, rel, 1)[0] * traj.times[-1]
    assert abs(trend) < 1e-4
    first, second = np.abs(rel[1:501]).max(), np.abs(rel[501:]).max()
    assert second < 2.0 * first
    # ... while the same run with explicit Euler is destroyed (the check above can fail)
    with pytest.raises(SimulationDivergedError):
        system.run(dt=0.005, n_steps=1000, integrator="euler", blowup_factor=0.01)


# ------------------------------------------------------------------------------------------------
# divergence detection
# ------------------------------------------------------------------------------------------------
def test_verlet_beyond_stability_limit_raises_with_step_and_partial_trajectory() -> None:
    system = harmonic_oscillator(k=1.0, mass=1.0)  # omega = 1
    dt = 2.1  # omega dt > 2
    with pytest.raises(SimulationDivergedError) as info:
        system.run(dt=dt, n_steps=500)
    err = info.value
    assert 1 <= err.step < 50
    assert err.time == pytest.approx(err.step * dt)
    assert f"step {err.step}" in str(err) and "dt" in str(err)
    part = err.trajectory
    assert part.n_frames == err.step  # frames 0 .. step-1, the last healthy ones
    assert np.all(np.isfinite(part.total_energy)) and np.all(np.isfinite(part.positions))
    np.testing.assert_allclose(part.times, np.arange(err.step) * dt)


def test_verlet_below_stability_limit_is_not_flagged() -> None:
    traj = harmonic_oscillator(k=1.0).run(dt=1.9, n_steps=5000)  # omega dt = 1.9 < 2: bounded
    assert traj.n_frames == 5001
    assert np.max(np.abs(traj.positions)) < 5.0  # bounded (|x| <= x0 / sqrt(1 - (h/2)^2) ~ 3.2)


def test_euler_divergence_is_caught_at_the_predicted_step() -> None:
    """Explicit Euler multiplies the harmonic energy by exactly (1 + h^2) per step: with the default
    blowup_factor 100 and E0 as the scale, the first flagged step is the first n with (1 + h^2)^n - 1 > 100."""
    h = 0.5
    with pytest.raises(SimulationDivergedError) as info:
        harmonic_oscillator(k=1.0).run(dt=h, n_steps=1000, integrator="euler")
    predicted = int(np.floor(np.log(101.0) / np.log(1 + h**2))) + 1
    assert info.value.step == predicted
    assert info.value.trajectory.n_frames == predicted


def test_lj_with_a_huge_time_step_is_caught() -> None:
    system = lj_fcc_system(3, temperature=1.0)
    with pytest.raises(SimulationDivergedError) as info:
        system.run(dt=0.1, n_steps=2000)
    err = info.value
    assert err.step >= 1 and err.time == pytest.approx(err.step * 0.1)
    assert err.trajectory.n_frames == err.step
    assert np.all(np.isfinite(err.trajectory.positions))


# ------------------------------------------------------------------------------------------------
# Langevin (BAOAB)
# ------------------------------------------------------------------------------------------------
def test_langevin_harmonic_temperature_statistics() -> None:
    """1000 independent 1D oscillators (omega = 1), friction 1: frames 5 time units apart are uncorrelated
    (correlations decay like exp(-gamma t / 2)^2 ~ 0.7 %), so the mean of K frame temperatures has standard
    error T sqrt(2 / (N K)); BAOAB samples x exactly for a harmonic system and p with O((omega dt)^2) bias
    (0.06 % here). Tolerance: 4 standard errors."""
    n, target, dt = 1000, 0.7, 0.05
    burn, every, samples = 200, 100, 20
    traj = simulate(Harmonic(k=1.0), np.zeros((n, 1)), None, dt=dt, n_steps=burn + every * samples,
                    integrator="langevin", temperature=target, friction=1.0, seed=11, record_every=every,
                    progress=False)
    after = traj.times > burn * dt + 1e-9
    kinetic_t = traj.temperature[after]
    potential_t = np.mean(traj.positions[:, :, 0] ** 2, axis=1)[after]  # k <x^2> = k_B T
    assert len(kinetic_t) == samples
    tolerance = 4 * target * np.sqrt(2.0 / (n * samples))
    assert abs(kinetic_t.mean() - target) < tolerance
    assert abs(potential_t.mean() - target) < tolerance


def test_langevin_lj_temperature_approaches_target() -> None:
    """108 LJ atoms started at T = 0.5, thermostatted to T = 1.2 (NVE would cool them to ~0.3).
    Frame temperatures fluctuate by T sqrt(2 / (3N)) = 7.9 %; 20 samples 1 tau apart give a standard
    error of ~1.8 % if uncorrelated. Tolerance 9 % (5 standard errors, allowing some correlation)."""
    system = lj_fcc_system(3, temperature=0.5, seed=4)
    target = 1.2
    traj = system.run(dt=0.005, n_steps=5000, integrator="langevin", temperature=target, friction=1.0, seed=1,
                      record_every=200)
    production = traj.temperature[traj.times >= 5.0 + 1e-9]
    assert len(production) == 20
    assert abs(production.mean() / target - 1) < 0.09


def test_langevin_same_seed_same_numbers() -> None:
    system = lj_fcc_system(3, temperature=1.0)
    kw = dict(dt=0.005, n_steps=50, integrator="langevin", temperature=1.0, friction=2.0)
    a = system.run(seed=7, **kw)
    b = system.run(seed=7, **kw)
    c = system.run(seed=8, **kw)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.velocities, b.velocities)
    assert not np.array_equal(a.positions, c.positions)


def test_langevin_without_temperature_damps_to_rest() -> None:
    traj = harmonic_oscillator(k=1.0).run(dt=0.05, n_steps=2000, integrator="langevin", temperature=0.0,
                                           friction=2.0)
    assert traj.total_energy[-1] < 1e-10 * traj.total_energy[0]


def test_deterministic_integrators_repeat_exactly() -> None:
    system = lj_fcc_system(3)
    for name in NVE_INTEGRATORS:
        a = system.run(dt=0.002, n_steps=20, integrator=name)
        b = system.run(dt=0.002, n_steps=20, integrator=name)
        np.testing.assert_array_equal(a.positions, b.positions)


def test_integrator_registry() -> None:
    assert set(available_integrators()) == {"euler", "symplectic_euler", "velocity_verlet", "rk4", "langevin"}
    assert get_integrator("Verlet", 0.1).name == "velocity_verlet"
    assert get_integrator("BAOAB", 0.1, temperature=1.0).symplectic is False
    integ = LangevinBAOAB(0.01, temperature=1.0)
    assert get_integrator(integ) is integ and isinstance(integ, Integrator)
    assert [get_integrator(n, 0.1).symplectic for n in NVE_INTEGRATORS] == [False, True, True, False]


# -- simulate in pieces, labels, chunked runs -----------------------------------------------------
def test_simulate_is_its_pieces() -> None:
    """initial_state + Recorder + DivergenceGuard + run_loop reproduce simulate exactly."""
    from npsnn_edu.integrators import DivergenceGuard, Recorder, initial_state, run_loop

    system = lj_fcc_system(n_cells=2, cutoff=1.6, temperature=1.0, seed=1)
    ref = system.run(dt=0.005, n_steps=30, record_every=7)
    state, m = initial_state(system.potential, system.positions, system.velocities, system.masses)
    integ = get_integrator("velocity_verlet", 0.005)
    rec = Recorder(state, m, 30, 7)
    guard = DivergenceGuard.for_state(state, rec.kinetic_energy[0], integ, 1.0)

    def force_fn(x):
        e, f = system.potential.energy_and_forces_unchecked(x)
        return float(e), f

    run_loop(integ, state, force_fn, (1.0 / m)[:, None], rec, guard)
    traj = rec.trajectory(integ.dt, integ.name, labels={"box": system.box})
    assert list(rec.frame_steps) == [0, 7, 14, 21, 28, 30]
    np.testing.assert_array_equal(traj.positions, ref.positions)
    np.testing.assert_array_equal(traj.total_energy, ref.total_energy)
    np.testing.assert_array_equal(traj.box, ref.box)
    assert not guard.diverged(float(ref.total_energy[-1])) and guard.diverged(float("nan"))


def test_energy_and_forces_unchecked_is_the_unvalidated_energy_and_forces() -> None:
    system = lj_fcc_system(n_cells=2, cutoff=1.6, temperature=1.0, seed=2)
    e1, f1 = system.potential.energy_and_forces(system.positions)
    e2, f2 = system.potential.energy_and_forces_unchecked(system.positions)
    assert e1 == e2
    np.testing.assert_array_equal(f1, f2)


def test_langevin_instance_continues_its_noise_across_chunks() -> None:
    """Passing the same Integrator instance again continues its random stream: two chunks == one run."""
    system = harmonic_oscillator(k=1.0, x0=1.0)
    whole = simulate(system.potential, system.positions, system.velocities, dt=0.05, n_steps=40,
                     integrator=LangevinBAOAB(0.05, temperature=0.5, seed=7))
    integ = LangevinBAOAB(0.05, temperature=0.5, seed=7)
    a = simulate(system.potential, system.positions, system.velocities, dt=0.05, n_steps=20, integrator=integ)
    b = simulate(system.potential, a.positions[-1], a.velocities[-1], dt=0.05, n_steps=20, integrator=integ)
    np.testing.assert_allclose(b.positions[-1], whole.positions[-1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(b.velocities[-1], whole.velocities[-1], rtol=0, atol=1e-13)


def test_labels_as_metadata_and_not_as_keywords() -> None:
    from npsnn_edu.units import ARGON

    system = lj_fcc_system(n_cells=2, cutoff=1.6, seed=0)
    traj = simulate(system.potential, system.positions, dt=0.005, n_steps=2,
                    metadata={"symbols": ["Ar"] * 32, "lj_units": ARGON, "info": {"run": 1}})
    assert traj.symbols == ["Ar"] * 32 and traj.lj_units is ARGON and traj.units == "reduced"
    np.testing.assert_array_equal(traj.box, system.box)  # the potential's box by default
    assert traj.info == {"run": 1}
    ase_labelled = simulate(Harmonic(), [[1.0]], dt=0.1, n_steps=1, metadata={"units": "ase"})
    assert ase_labelled.units == "ase"
    with pytest.raises(InvalidParameterError, match=r"lj_units, symbols label the trajectory.*metadata=\{'lj_units'"):
        simulate(system.potential, system.positions, dt=0.005, n_steps=2, symbols=["Ar"] * 32, lj_units=ARGON)


def test_integrator_classes_declare_what_they_are() -> None:
    from npsnn_edu.integrators import INTEGRATORS, integrator_class
    from npsnn_edu.registry import Registry

    assert isinstance(INTEGRATORS, Registry)
    assert integrator_class("BAOAB") is LangevinBAOAB
    assert integrator_class(" Velocity-Verlet ").name == "velocity_verlet"
    assert integrator_class(LangevinBAOAB(0.1, temperature=1.0)) is LangevinBAOAB
    assert LangevinBAOAB.thermostat and set(LangevinBAOAB.options) == {"temperature", "friction", "seed", "kB"}
    for name in available_integrators():
        cls = integrator_class(name)
        assert cls.name == name and isinstance(cls.options, tuple) and isinstance(cls.thermostat, bool)
        assert cls.thermostat == (name not in NVE_INTEGRATORS)
        quiet = cls.deterministic(0.1)
        assert isinstance(quiet, cls) and quiet.energy_scale(3, 1.0) == 0.0  # noise switched off
    assert [integrator_class(n).order for n in ("euler", "velocity_verlet", "rk4")] == [1, 2, 4]
    assert not integrator_class("euler").stable_on_oscillators and integrator_class("rk4").stable_on_oscillators
