"""Chapter 1 self-checks: correct answers pass, stubs give NOT YET (no exception), typical mistakes get
their specific feedback. The references inside the checks are themselves tested against independent ones."""
from __future__ import annotations

import math

import numpy as np
import pytest

from npsnn_edu.analytic import morse_period
from npsnn_edu.exercises import CheckResult
from npsnn_edu.exercises.chapter1 import (check_kinetic_temperature, check_lj_minimum, check_morse_force,
                                          check_morse_period, check_period_prediction, measure_period,
                                          morse_period_scan)


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
    (lambda r, D, a, re: 2 * a * D * (math.exp(-2 * a * (r[0] - re)) - math.exp(-a * (r[0] - re))), "element by element"),
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


# --- kinetic temperature ---------------------------------------------------------------------------
def kinetic_temperature(v, m):
    return float(np.sum(m[:, None] * v * v) / v.size)


def test_kinetic_temperature_exercise_and_trajectory_agree():
    assert check_kinetic_temperature(kinetic_temperature).passed
    from npsnn_edu.systems import lj_fcc_system

    traj = lj_fcc_system(temperature=1.2, seed=5).run(dt=0.005, n_steps=20)
    v, m = traj.velocities[-1], traj.masses
    assert kinetic_temperature(v, m) == pytest.approx(traj.temperature[-1], rel=1e-12)


@pytest.mark.parametrize("wrong, fragment", [
    (lambda v, m: 0.5 * kinetic_temperature(v, m), "factor 2"),
    (lambda v, m: float(np.sum(m[:, None] * v * v) / len(v)), "degrees of freedom"),
    (lambda v, m: float(np.sum(v * v) / v.size), "own mass"),
    (lambda v, m: 0.5 * float(np.sum(m[:, None] * v * v)), "kinetic energy"),
    (lambda v, m: m[:, None] * v * v, "ONE number"),
    (stub, "not written yet"),
])
def test_kinetic_temperature_mistakes(wrong, fragment):
    assert_not_yet(check_kinetic_temperature(wrong), fragment)


def test_checks_never_raise_on_weird_returns():
    weird = lambda *a: object()  # noqa: E731
    for check in (check_morse_force, check_period_prediction, check_morse_period, check_lj_minimum,
                  check_kinetic_temperature):
        res = check(weird)
        assert isinstance(res, CheckResult) and not res.passed
