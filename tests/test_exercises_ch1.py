"""Chapter 1 self-checks: correct answers pass, stubs give NOT YET (no exception), typical mistakes get
their specific feedback. The references inside the checks are themselves tested against independent ones."""
from __future__ import annotations

import math

import numpy as np
import pytest

from npsnn_edu.analytic import morse_period
from npsnn_edu.exercises import CheckResult
from npsnn_edu.exercises.chapter1 import (
    _morse_wrong_answers,
    _time_unit_mistakes,
    _vv_mistakes,
    calls_into,
    check_diffusion_coefficient,
    check_kinetic_temperature,
    check_lj_minimum,
    check_morse_force,
    check_morse_period,
    check_period_prediction,
    check_radial_distribution,
    check_settled_temperature,
    check_time_unit,
    check_velocity_verlet_step,
    measure_period,
    morse_period_scan,
    settled_crystal_temperature,
)


def stub(*args, **kwargs):
    raise NotImplementedError()


def assert_not_yet(res: CheckResult, *fragments: str) -> None:
    assert isinstance(res, CheckResult)
    assert not res.passed and not bool(res)
    text = str(res)
    assert text.startswith("[NOT YET]")
    for fragment in fragments:
        assert fragment in text, text


# --- Morse force -----------------------------------------------------------------------------------
def morse_force(r, D_e, a, r_e):
    e = np.exp(-a * (r - r_e))
    return 2 * a * D_e * (e * e - e)


def test_morse_force_correct_passes_and_matches_finite_differences():
    res = check_morse_force(morse_force)
    assert res.passed, str(res)
    assert str(res).startswith("[PASS]")
    # the solution itself against an independent central difference of u(r)
    r, h = np.linspace(0.7, 3.0, 50), 1e-6
    u = lambda x: 1.3 * (np.exp(-2 * 1.7 * (x - 1.1)) - 2 * np.exp(-1.7 * (x - 1.1)))  # noqa: E731
    np.testing.assert_allclose(morse_force(r, 1.3, 1.7, 1.1), -(u(r + h) - u(r - h)) / (2 * h), rtol=1e-6, atol=1e-8)


def test_morse_force_stub_and_non_function():
    assert_not_yet(check_morse_force(stub), "not written yet", "NotImplementedError")
    assert_not_yet(check_morse_force(None), "expected a function")


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("wrong, fragment", [
    (lambda r, D, a, re: -morse_force(r, D, a, re), "Sign error"),
    (lambda r, D, a, re: 0.5 * morse_force(r, D, a, re), "half the correct force"),
    (lambda r, D, a, re: 2 * morse_force(r, D, a, re), "twice the correct force"),
    (lambda r, D, a, re: morse_force(r, D, a, re) / a, "chain-rule factor a"),
    (lambda r, D, a, re: D * (a * np.exp(-2 * a * (r - re)) - 2 * a * np.exp(-a * (r - re))), "repulsive term"),
    (lambda r, D, a, re: D * (2 * a * np.exp(-2 * a * (r - re)) - a * np.exp(-a * (r - re))), "attractive term"),
    (lambda r, D, a, re: 2 * a * D * (np.exp(-2 * a * r) - np.exp(-a * r)), "Wrong exponent"),
    (lambda r, D, a, re: D * (np.exp(-2 * a * (r - re)) - 2 * np.exp(-a * (r - re))), "the energy u(r)"),
    (lambda r, D, a, re: morse_force(r, D, a, re) / r, "f(r)/r"),
    (lambda r, D, a, re: 2 * a * D * (math.exp(-2 * a * (r[0] - re)) - math.exp(-a * (r[0] - re))),
     "element by element"),
    (lambda r, D, a, re: morse_force(r, D, a, re)[:-1], "shape"),
    (lambda r, D, a, re: morse_force(r, D, a, re) * np.sqrt(r - re), "NaN or inf"),
    (lambda r, D, a, re: 1 / 0, "ZeroDivisionError"),
])
def test_morse_force_typical_mistakes_get_specific_feedback(wrong, fragment):
    assert_not_yet(check_morse_force(wrong), fragment)


def test_morse_force_unknown_mistake_gets_generic_hints():
    res = check_morse_force(lambda r, D, a, re: morse_force(r, D, a, re) + 0.3)
    assert_not_yet(res, "expected", "must vanish")


# --- harmonic period -------------------------------------------------------------------------------
def test_period_prediction():
    assert check_period_prediction(lambda k, m: 2 * math.pi * math.sqrt(m / k)).passed
    assert check_period_prediction(lambda k, m: 2 * np.pi * np.sqrt(m / k)).passed  # numpy scalars too
    assert_not_yet(check_period_prediction(stub), "not written yet")
    assert_not_yet(check_period_prediction(lambda k, m: math.sqrt(k / m)), "angular frequency")
    assert_not_yet(check_period_prediction(lambda k, m: math.sqrt(k / m) / (2 * math.pi)), "frequency nu")
    assert_not_yet(check_period_prediction(lambda k, m: 2 * math.pi * math.sqrt(k / m)), "swapped")
    assert_not_yet(check_period_prediction(lambda k, m: math.pi * math.sqrt(m / k)), "half a period")
    assert_not_yet(check_period_prediction(lambda k, m: 2 * math.pi * m / k), "square root")
    assert_not_yet(check_period_prediction(lambda k, m: 6.0), "simulated oscillator", "(k, m) = (1.0, 1.0)")
    assert_not_yet(check_period_prediction(lambda k, m: "2 pi"), "not a number")


def test_measure_period_on_analytic_signals():
    t = np.linspace(0, 20, 4001)
    assert measure_period(t, 0.3 + np.cos(2 * np.pi * t / 1.7 + 0.4)) == pytest.approx(1.7, rel=1e-5)
    assert math.isnan(measure_period(t[:100], np.cos(t[:100])))


# --- Morse period ----------------------------------------------------------------------------------
def test_morse_period_exercise():
    correct = lambda D, a, m: 2 * math.pi * math.sqrt((m / 2) / (2 * a * a * D))  # noqa: E731
    assert check_morse_period(correct).passed
    assert_not_yet(check_morse_period(stub), "not written yet")
    assert_not_yet(check_morse_period(lambda D, a, m: 2 * math.pi * math.sqrt(m / (2 * a * a * D))), "REDUCED mass")
    assert_not_yet(check_morse_period(lambda D, a, m: 2 * math.pi * math.sqrt(m / (a * a * D))), "both off")
    assert_not_yet(check_morse_period(lambda D, a, m: math.sqrt(2 * a * a * D / (m / 2))), "angular frequency")


def test_morse_period_scan_agrees_with_exact_period():
    scan = morse_period_scan([0.2, 1.0], dt=0.005)
    np.testing.assert_allclose(scan["simulated"], scan["exact"], rtol=1e-4)
    # energy from the stretch, zero at dissociation: u(r_e + s) = e^{-2s} - 2 e^{-s}
    np.testing.assert_allclose(scan["energy"], np.exp(-2 * scan["stretch"]) - 2 * np.exp(-scan["stretch"]))
    assert scan["exact"][1] == pytest.approx(morse_period(scan["energy"][1], 1.0, 1.0, 0.5))
    assert scan["simulated"][1] > scan["simulated"][0]  # anharmonic: the period grows with the energy


# --- LJ minimum ------------------------------------------------------------------------------------
def test_lj_minimum_exercise():
    assert check_lj_minimum(lambda s, e: (2 ** (1 / 6) * s, -e)).passed
    assert_not_yet(check_lj_minimum(stub), "not written yet")
    assert_not_yet(check_lj_minimum(lambda s, e: (s, -e)), "u(r) = 0")
    assert_not_yet(check_lj_minimum(lambda s, e: (2 ** (1 / 6) * s, e)), "wrong sign")
    assert_not_yet(check_lj_minimum(lambda s, e: (1.1 * s, -e)), "r_min is off")
    assert_not_yet(check_lj_minimum(lambda s, e: 2 ** (1 / 6) * s), "two numbers")


# --- kinetic temperature (drift removed: D (N - 1) degrees of freedom) -----------------------------------
def kinetic_temperature(v, m):
    n, dim = v.shape
    return float(np.sum(m[:, None] * v * v) / (dim * (n - 1)))


def test_kinetic_temperature_exercise_and_trajectory_agree():
    assert check_kinetic_temperature(kinetic_temperature).passed
    from npsnn_edu.systems import lj_fcc_system

    traj = lj_fcc_system(temperature=1.2, seed=5).run(dt=0.005, n_steps=20)
    v, m = traj.velocities[-1], traj.masses
    assert abs(np.sum(v, axis=0)).max() < 1e-10  # the kit's runs have zero total momentum
    # Trajectory.temperature (like ASE) counts D N degrees of freedom: the two differ by N / (N - 1)
    assert kinetic_temperature(v, m) == pytest.approx(traj.temperature[-1] * 108 / 107, rel=1e-12)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda v, m: float(np.sum(m[:, None] * v * v) / v.size), "D (N - 1)"),
    (lambda v, m: 0.5 * kinetic_temperature(v, m), "factor 2"),
    (lambda v, m: float(np.sum(m[:, None] * v * v) / len(v)), "not N or N - 1"),
    (lambda v, m: float(np.sum(v * v) / (v.shape[1] * (len(v) - 1))), "own mass"),
    (lambda v, m: 0.5 * float(np.sum(m[:, None] * v * v)), "kinetic energy"),
    (lambda v, m: m[:, None] * v * v, "ONE number"),
    (lambda v, m: 1.1 * kinetic_temperature(v, m), "off by a factor"),
    (stub, "not written yet"),
])
def test_kinetic_temperature_mistakes(wrong, fragment):
    res = check_kinetic_temperature(wrong)
    assert_not_yet(res, fragment)
    assert "1.5" not in str(res) and "0.7" not in str(res)  # the temperatures are not given away


# --- velocity Verlet step --------------------------------------------------------------------------
def vv_step(x, v, f, force_fn, dt, m):
    v_half = v + 0.5 * dt * f / m
    x_new = x + dt * v_half
    f_new = force_fn(x_new)
    return x_new, v_half + 0.5 * dt * f_new / m, f_new


def test_velocity_verlet_step_correct_passes_and_is_used():
    res = check_velocity_verlet_step(vv_step)
    assert res.passed, str(res)
    assert "dt^2.0" in str(res) and "108-atom" in str(res)
    # the position-Verlet form of the same step passes too
    def other(x, v, f, force_fn, dt, m):
        x_new = x + dt * v + 0.5 * dt * dt * f / m
        f_new = force_fn(x_new)
        return x_new, v + 0.5 * dt * (f + f_new) / m, f_new
    assert check_velocity_verlet_step(other, use_on_liquid=False).passed


def _vv_twice(x, v, f, force_fn, dt, m):
    f = force_fn(x)  # recomputes the force it was given
    return vv_step(x, v, f, force_fn, dt, m)


def _vv_old_force(x, v, f, force_fn, dt, m):
    x_new = x + dt * v + 0.5 * dt * dt * f / m
    return x_new, v + dt * f / m, force_fn(x_new)


def _vv_no_half(x, v, f, force_fn, dt, m):
    vh = v + dt * f / m
    xn = x + dt * vh
    fn = force_fn(xn)
    return xn, vh + dt * fn / m, fn


def _vv_times_m(x, v, f, force_fn, dt, m):
    vh = v + 0.5 * dt * f * m
    xn = x + dt * vh
    fn = force_fn(xn)
    return xn, vh + 0.5 * dt * fn * m, fn


def _vv_no_mass(x, v, f, force_fn, dt, m):
    vh = v + 0.5 * dt * f
    xn = x + dt * vh
    fn = force_fn(xn)
    return xn, vh + 0.5 * dt * fn, fn


def _vv_old_v_drift(x, v, f, force_fn, dt, m):
    xn = x + dt * v
    fn = force_fn(xn)
    return xn, v + 0.5 * dt * (f + fn) / m, fn


def _euler(x, v, f, force_fn, dt, m):
    xn = x + dt * v
    return xn, v + dt * f / m, force_fn(xn)


def _symplectic_euler(x, v, f, force_fn, dt, m):
    vn = v + dt * f / m
    xn = x + dt * vn
    return xn, vn, force_fn(xn)


def _return_old_f(x, v, f, force_fn, dt, m):
    xn, vn, _ = vv_step(x, v, f, force_fn, dt, m)
    return xn, vn, f


def _kit_shortcut(x, v, f, force_fn, dt, m):
    from npsnn_edu.integrators import State, VelocityVerlet

    s = VelocityVerlet(dt).step(State(x, v, f, 0.0), lambda y: (0.0, force_fn(y)), 1.0 / m)
    return s.positions, s.velocities, s.forces


def _vv_signs(first: float, second: float, drift: float = 1.0):
    def step(x, v, f, force_fn, dt, m):
        vh = v + first * 0.5 * dt * f / m
        xn = x + drift * dt * vh
        fn = force_fn(xn)
        return xn, vh + second * 0.5 * dt * fn / m, fn
    return step


def _vv_stale_second_kick(x, v, f, force_fn, dt, m):
    """Computes the new force but kicks with the stale one (a classic ordering slip)."""
    vh = v + 0.5 * dt * f / m
    xn = x + dt * vh
    fn = force_fn(xn)
    return xn, vh + 0.5 * dt * f / m, fn


def _vv_unknown(x, v, f, force_fn, dt, m):
    xn, vn, fn = vv_step(x, v, f, force_fn, dt, m)
    return xn, 1.01 * vn, fn


def _vv_unknown_x(x, v, f, force_fn, dt, m):
    xn, vn, fn = vv_step(x, v, f, force_fn, dt, m)
    return xn + 1e-3, vn, fn


@pytest.mark.parametrize("wrong, fragment", [
    (_vv_signs(-1, -1), "Sign error in the kicks"),
    (_vv_signs(-1, +1), "Sign error in the first half kick"),
    (_vv_signs(+1, -1), "Sign error in the second half kick"),
    (_vv_signs(+1, +1, drift=0.5), "The drift is a full step"),
    (_vv_stale_second_kick, "NEW force"),
    (_vv_unknown, "look at the second half kick"),
    (_vv_unknown_x, "Your x_new differs"),
])
def test_velocity_verlet_sign_stale_force_and_unknown_mistakes_get_a_hint_not_the_solution(wrong, fragment):
    res = check_velocity_verlet_step(wrong, use_on_liquid=False)
    assert_not_yet(res, fragment)
    text = str(res)
    # the solution's lines never appear in the feedback
    for leak in ("v_half = v + (dt/2) f/m", "x_new = x + dt v_half", "f_new = force_fn(x_new)",
                 "v + 0.5 * dt * f / m", "x + dt * v_half"):
        assert leak not in text, text


@pytest.mark.parametrize("wrong, fragment", [
    (stub, "not written yet"),
    (_vv_twice, "needs ONE force evaluation"),
    (_vv_old_force, "NEW force"),
    (_vv_no_half, "HALF a step"),
    (_vv_times_m, "multiplied by the mass"),
    (_vv_no_mass, "each particle's mass"),
    (_vv_old_v_drift, "half-step velocity"),
    (_euler, "explicit Euler"),
    (_symplectic_euler, "symplectic Euler"),
    (_return_old_f, "f_new is not the force"),
    (lambda x, v, f, force_fn, dt, m: (x + dt * v, v), "three arrays"),
    (lambda x, v, f, force_fn, dt, m: (x, v, f), "never calls force_fn"),
    (lambda x, v, f, force_fn, dt, m: (x[:1], v, f), "shape"),
    (_kit_shortcut, "calls the kit's integrators"),
])
def test_velocity_verlet_step_mistakes(wrong, fragment):
    assert_not_yet(check_velocity_verlet_step(wrong, use_on_liquid=False), fragment)


# --- diffusion coefficient -------------------------------------------------------------------------
def diffusion(times, positions):
    msd = np.mean(np.sum((positions - positions[0]) ** 2, axis=-1), axis=-1)
    late = times >= 0.4 * times[-1]
    slope = np.polyfit(times[late], msd[late], 1)[0]
    return slope / (2 * positions.shape[-1])


def _msd(positions):
    return np.mean(np.sum((positions - positions[0]) ** 2, axis=-1), axis=-1)


def test_diffusion_coefficient_exercise():
    assert check_diffusion_coefficient(diffusion).passed


@pytest.mark.parametrize("wrong, fragment", [
    (stub, "not written yet"),
    (lambda t, x: 2 * x.shape[-1] * diffusion(t, x), "forgot to divide"),
    (lambda t, x: x.shape[-1] * diffusion(t, x), "divided the slope by 2, not"),
    (lambda t, x: diffusion(t, x) * x.shape[-1] / 3, "positions.shape[-1]"),
    (lambda t, x: np.polyfit(t, _msd(x), 1)[0] / (2 * x.shape[-1]), "ballistic"),
    (lambda t, x: _msd(x)[-1] / (2 * x.shape[-1] * t[-1]), "ballistic"),
    (lambda t, x: np.polyfit(t, np.mean(np.sum(np.abs(x - x[0]), -1), -1), 1)[0] / (2 * x.shape[-1]) * 0.01,
     "SQUARED"),
    (lambda t, x: 1.5 * diffusion(t, x), "off by a factor"),
    (lambda t, x: [1.0, 2.0], "ONE number"),
])
def test_diffusion_coefficient_mistakes(wrong, fragment):
    res = check_diffusion_coefficient(wrong)
    assert_not_yet(res, fragment)
    assert "0.6" not in str(res) and "0.3" not in str(res)  # the exact D values are not given away


def test_diffusion_coefficient_kit_shortcut_refused():
    from npsnn_edu.md.analysis import diffusion_coefficient, mean_squared_displacement

    def shortcut(t, x):
        return diffusion_coefficient(t, mean_squared_displacement(x, all_origins=False), dim=x.shape[-1]).D

    assert_not_yet(check_diffusion_coefficient(shortcut), "calls npsnn_edu.md.analysis")


# --- g(r) ------------------------------------------------------------------------------------------
def rdf(positions, box, r_max, n_bins):
    n = len(positions)
    i, j = np.triu_indices(n, k=1)
    d = positions[j] - positions[i]
    d -= box * np.round(d / box)
    edges = np.linspace(0, r_max, n_bins + 1)
    counts = np.histogram(np.sqrt((d * d).sum(-1)), bins=edges)[0]
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return 0.5 * (edges[1:] + edges[:-1]), counts / (0.5 * n * (n - 1) * shell / np.prod(box))


def test_radial_distribution_exercise():
    assert check_radial_distribution(rdf).passed

    def approx_shell(positions, box, r_max, n_bins):  # 4 pi r^2 dr instead of the exact shell: fine
        r, g = rdf(positions, box, r_max, n_bins)
        dr = r_max / n_bins
        return r, g * (4 / 3 * ((r + dr / 2) ** 3 - (r - dr / 2) ** 3)) / (4 * r * r * dr)
    assert check_radial_distribution(approx_shell).passed


def _rdf_no_mic(positions, box, r_max, n_bins):
    return rdf(positions, np.full(3, 1e9), r_max, n_bins)[0], \
        rdf(positions, np.full(3, 1e9), r_max, n_bins)[1] * np.prod(box) / 1e27


@pytest.mark.parametrize("wrong, fragment", [
    (stub, "not written yet"),
    (_rdf_no_mic, "minimum image"),
    (lambda p, b, r, n: (rdf(p, b, r, n)[0], 2 * rdf(p, b, r, n)[1]), "counted twice"),
    (lambda p, b, r, n: (rdf(p, b, r, n)[0], 0.5 * rdf(p, b, r, n)[1]), "Half the pairs"),
    (lambda p, b, r, n: (rdf(p, b, r, n)[0], rdf(p, b, r, n)[1] * (len(p) - 1) / len(p)), "not N^2"),
    (lambda p, b, r, n: (rdf(p, b, r, n)[0], rdf(p, b, r, n)[1] * np.prod(b) / b[0] ** 3), "three edges"),
    (lambda p, b, r, n: (np.linspace(0, r, n + 1), rdf(p, b, r, n)[1]), "EDGES"),
    (lambda p, b, r, n: (rdf(p, b, r, n)[0], rdf(p, b, r, n)[1][:-1]), "n_bins"),
    (lambda p, b, r, n: (rdf(p, b, r, n)[0], rdf(p, b, r, n)[1] * rdf(p, b, r, n)[0] ** 2), "differs"),
    (lambda p, b, r, n: 3.0, "two arrays"),
])
def test_radial_distribution_mistakes(wrong, fragment):
    assert_not_yet(check_radial_distribution(wrong), fragment)


def test_radial_distribution_kit_shortcut_refused():
    from npsnn_edu.md.analysis import radial_distribution

    res = check_radial_distribution(lambda p, b, r, n: radial_distribution(p, b, r_max=r, n_bins=n))
    assert_not_yet(res, "calls npsnn_edu.md.analysis")


def test_calls_into_sees_direct_imports_and_restores_the_profiler():
    import sys

    from npsnn_edu.md import analysis
    from npsnn_edu.md.analysis import measure_period as mp

    before = sys.getprofile()
    with calls_into(analysis) as spy:
        np.mean([1.0, 2.0])
    assert not spy.called
    with calls_into(analysis) as spy:
        mp(np.linspace(0, 10, 100), np.cos(np.linspace(0, 10, 100)))
    assert spy.called and sys.getprofile() is before


def test_checks_never_raise_on_weird_returns():
    weird = lambda *a: object()  # noqa: E731
    for check in (check_morse_force, check_period_prediction, check_morse_period, check_lj_minimum,
                  check_kinetic_temperature, check_velocity_verlet_step, check_diffusion_coefficient,
                  check_radial_distribution):
        res = check(weird)
        assert isinstance(res, CheckResult) and not res.passed


# --- time unit in seconds (exercise 1.4) ------------------------------------------------------------
ANG, EV, AMU = 1e-10, 1.602176634e-19, 1.66053906660e-27


def tau_si(s, e, m):
    return s * ANG * math.sqrt(m * AMU / (e * EV))


def test_time_unit_correct_passes_and_matches_the_kits_argon_units():
    from npsnn_edu.units import ARGON

    res = check_time_unit(tau_si)
    assert res.passed, str(res)
    assert tau_si(3.405, 0.0103, 39.948) == pytest.approx(ARGON.time_fs * 1e-15, rel=1e-9)
    # an independent route: scipy.constants
    from scipy.constants import angstrom, atomic_mass, electron_volt

    assert tau_si(3.405, 0.0103, 39.948) == pytest.approx(
        3.405 * angstrom * math.sqrt(39.948 * atomic_mass / (0.0103 * electron_volt)), rel=1e-9)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda s, e, m: s * ANG * math.sqrt(e * EV / (m * AMU)), "Inverted square root"),
    (lambda s, e, m: s * ANG * m * AMU / (e * EV), "square root is missing"),
    (lambda s, e, m: s * math.sqrt(m * AMU / (e * EV)), "still in Angstrom"),
    (lambda s, e, m: s * ANG**2 * math.sqrt(m * AMU / (e * EV)), "squared or not"),
    (lambda s, e, m: s * ANG * math.sqrt(m * AMU / e), "epsilon is still in eV"),
    (lambda s, e, m: s * ANG * math.sqrt(m / (e * EV)), "atomic mass units"),
    (lambda s, e, m: s * ANG * math.sqrt(m / e), "both missing"),
    (lambda s, e, m: tau_si(s, e, m) * 1e15, "femtoseconds"),
    (lambda s, e, m: tau_si(s, e, m) * 1e12, "picoseconds"),
    (lambda s, e, m: -tau_si(s, e, m), "positive"),
    (lambda s, e, m: 3 * tau_si(s, e, m), "Off by a factor 3"),
    (lambda s, e, m: "2 ps", "not a number"),
    (stub, "not written yet"),
])
def test_time_unit_mistakes_get_their_hint(wrong, fragment):
    res = check_time_unit(wrong)
    assert_not_yet(res, fragment)
    assert "sigma sqrt(m / epsilon) in SI" not in str(res)


# --- predict, then run: the settled crystal temperature (exercise 1.5) -------------------------------
def test_settled_temperature_reference_is_about_half_of_T0_and_the_prediction_passes():
    for T0 in (0.3, 0.6):
        ratio = settled_crystal_temperature(T0) / T0
        assert 0.5 < ratio < 0.56, ratio  # harmonic equipartition gives 1/2; anharmonicity raises it a little
    res = check_settled_temperature(lambda T0: 0.5 * T0)
    assert res.passed, str(res)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda T0: T0, "does not stay at T0"),
    (lambda T0: 2 * T0, "drops, it does not rise"),
    (lambda T0: T0 / 4, "Squared or not"),
    (lambda T0: T0 / 3, "not in three"),
    (lambda T0: 0 * T0, "does not vanish"),
    (lambda T0: 0.8 * T0, "settle clearly lower"),
    (lambda T0: 0.3 * T0, "settle clearly higher"),
    (lambda T0: 0.5 * T0 + 0.1, "not proportional to T0"),
    (lambda T0: [T0], "shape"),
    (settled_crystal_temperature, "PREDICTION"),
    (stub, "not written yet"),
])
def test_settled_temperature_mistakes_get_their_hint_and_never_the_ratio(wrong, fragment):
    res = check_settled_temperature(wrong)
    assert_not_yet(res, fragment)
    text = str(res)
    assert "0.5" not in text and "1/2" not in text and "half" not in text.lower()


# --- every catalogued mistake, fed to its check, gets exactly its own hint ---------------------------
_Z = np.zeros((3, 2))


@pytest.mark.parametrize("key", list(_vv_mistakes(_Z, _Z, _Z, lambda x: -x, 0.1, np.ones((3, 1)))))
def test_velocity_verlet_catalogue_entry_gets_its_own_hint(key):
    def wrong(x, v, f, force_fn, dt, m):
        xw, vw = _vv_mistakes(x, v, f, force_fn, dt, m)[key]
        return xw, vw, force_fn(xw)

    res = check_velocity_verlet_step(wrong, use_on_liquid=False)
    assert_not_yet(res, key)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("key", list(_morse_wrong_answers(np.linspace(0.5, 3, 5), 1.0, 1.5, 1.2)))
def test_morse_force_catalogue_entry_gets_its_own_hint(key):
    res = check_morse_force(lambda r, D, a, re: _morse_wrong_answers(r, D, a, re)[key])
    assert_not_yet(res, key)


@pytest.mark.parametrize("key", list(_time_unit_mistakes(3.405, 0.0103, 39.948)))
def test_time_unit_catalogue_entry_gets_its_own_hint(key):
    res = check_time_unit(lambda s, e, m: _time_unit_mistakes(s, e, m)[key])
    assert_not_yet(res, key)


def test_morse_period_too_fast_variant():
    assert_not_yet(check_morse_period(lambda D, a, m: 2 * math.pi * math.sqrt((m / 2) / (4 * a * a * D))),
                   "too fast")
