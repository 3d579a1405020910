"""Chapter 1 self-checks (Newtonian MD) and the small analysis helpers the notebook uses.

Exercises (the student writes the function; the check never raises and says what is wrong):

* :func:`check_morse_force` - ``morse_force(r, D_e, a, r_e)``: the Morse pair force f(r) = -du/dr;
* :func:`check_period_prediction` - ``harmonic_period(k, m)``: the period of a mass on a spring;
* :func:`check_morse_period` - ``morse_small_period(D_e, a, m)``: small-oscillation period of a Morse dimer;
* :func:`check_lj_minimum` - ``lj_minimum(sigma, epsilon)``: position and depth of the LJ minimum;
* :func:`check_kinetic_temperature` - ``kinetic_temperature(velocities, masses)``: T from equipartition.

References are computed independently of the student's formula: the core potentials and finite differences
of their energies, simulations with the core's integrators, the closed forms of :mod:`npsnn_edu.analytic`.
All quantities are in reduced LJ units (sigma = epsilon = m = k_B = 1).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..analysis import measure_period, morse_period_scan  # re-exported (they used to live here)
from ..analytic import morse_period
from ..integrators import simulate
from ..potentials import Harmonic, LennardJones, Morse
from ..systems import maxwell_boltzmann_velocities
from .feedback import CheckResult, call_student_function, checker

__all__ = ["check_morse_force", "check_period_prediction", "check_morse_period", "check_lj_minimum",
           "check_kinetic_temperature", "measure_period", "morse_period_scan"]


def _as_float_array(value: Any, shape: tuple[int, ...]) -> "tuple[np.ndarray | None, str]":
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None, f"it returned {type(value).__name__}, which is not a number or an array of numbers"
    if arr.shape != shape:
        if arr.ndim == 0 and shape != ():
            return None, ("it returned one number for an array of inputs: write it with NumPy operations "
                          "(np.exp, **, *) so that it works element by element on arrays")
        return None, f"it returned shape {arr.shape}, expected {shape}"
    if not np.all(np.isfinite(arr)):
        return None, "it returned NaN or inf for some inputs (a division by zero? a log of a negative number?)"
    return arr, ""


def _close(x: np.ndarray, ref: np.ndarray, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    return bool(np.allclose(x, ref, rtol=rtol, atol=atol))


# ------------------------------------------------------------------------------------------------
# Exercise: the Morse force
# ------------------------------------------------------------------------------------------------
_MORSE_CASES = ((1.0, 1.5, 1.2), (0.5, 2.0, 1.0), (2.0, 0.8, 1.5))  # (D_e, a, r_e): a != 1, r_e != 1 on purpose


def _morse_wrong_answers(r: np.ndarray, D_e: float, a: float, r_e: float) -> dict[str, np.ndarray]:
    """Typical mistakes, each with the feedback that explains it."""
    e = np.exp(-a * (r - r_e))
    f = 2 * a * D_e * (e * e - e)
    u = D_e * (e * e - 2 * e)
    e0 = np.exp(-a * r)
    return {
        "Sign error: you returned du/dr, the slope of the potential. The force is MINUS the slope: it must be "
        "positive (repulsive) for r < r_e and negative (attractive) for r > r_e.": -f,
        "Factor 2 off: you have half the correct force. The chain rule gives d/dr e^{-2a(r-r_e)} = -2a e^{-2a(r-r_e)} "
        "and d/dr [-2 e^{-a(r-r_e)}] = 2a e^{-a(r-r_e)}.": 0.5 * f,
        "Factor 2 off: you have twice the correct force; check the prefactors 2a and 2 of the two terms.": 2 * f,
        "The chain-rule factor a is missing: d/dr e^{-a(r-r_e)} = -a e^{-a(r-r_e)}.": f / a,
        "The repulsive term is off: d/dr e^{-2a(r-r_e)} = -2a e^{-2a(r-r_e)} (the 2 in the exponent comes down).":
            D_e * (a * e * e - 2 * a * e),
        "The attractive term is off: d/dr [-2 D_e e^{-a(r-r_e)}] = +2 a D_e e^{-a(r-r_e)} (keep the factor 2).":
            D_e * (2 * a * e * e - a * e),
        "Wrong exponent: the exponentials must be of -a (r - r_e), measured from the equilibrium distance r_e, "
        "not from r = 0.": 2 * a * D_e * (e0 * e0 - e0),
        "You returned the energy u(r), not the force f(r) = -du/dr.": u,
        "You returned f(r)/r (the factor used to build force vectors); return the force magnitude f(r) itself.": f / r,
    }


@checker("Morse force f(r) = -du/dr")
def check_morse_force(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(r, D_e, a, r_e)`` -> f(r) = -du/dr of u(r) = D_e[e^{-2a(r-r_e)} - 2 e^{-a(r-r_e)}].

    ``r`` is a NumPy array of distances (sigma); f > 0 means repulsion. Compared with the core's Morse
    force, itself checked against central finite differences of the Morse energy, at 200 distances for three
    parameter sets.
    """
    name = "Morse force f(r) = -du/dr"
    for D_e, a, r_e in _MORSE_CASES:
        r = np.linspace(0.6 * r_e, 3.0 * r_e, 200)
        pot = Morse(D_e=D_e, a=a, r_e=r_e)
        ref = pot.pair_force(r)
        h = 1e-6
        fd = -(pot.pair_energy(r + h) - pot.pair_energy(r - h)) / (2 * h)
        if not _close(ref, fd, rtol=1e-5, atol=1e-7):  # pragma: no cover - guards the reference itself
            return CheckResult(name, False, ["internal reference failed its finite-difference check; please report"])
        ok, value, msg = call_student_function(name, fn, r.copy(), D_e, a, r_e)
        if not ok:
            return CheckResult(name, False, [msg])
        got, why = _as_float_array(value, r.shape)
        if got is None:
            return CheckResult(name, False, [f"morse_force(r, D_e={D_e}, a={a}, r_e={r_e}): {why}."])
        if _close(got, ref):
            continue
        for feedback, wrong in _morse_wrong_answers(r, D_e, a, r_e).items():
            if _close(got, wrong):
                return CheckResult(name, False, [feedback, f"(tested with D_e={D_e}, a={a}, r_e={r_e})"])
        k = int(np.argmax(np.abs(got - ref)))
        hints = [f"For D_e={D_e}, a={a}, r_e={r_e} your force differs from -du/dr (by finite differences of u): "
                 f"at r = {r[k]:.3f} you return {got[k]:.6g}, expected {ref[k]:.6g}."]
        try:
            at_min = float(np.asarray(call_student_function(name, fn, np.array([r_e]), D_e, a, r_e)[1]).ravel()[0])
        except (TypeError, ValueError, IndexError):
            at_min = 0.0
        if abs(at_min) > 1e-8:
            hints.append(f"At the minimum r = r_e the force must vanish; yours is {at_min:.3g}.")
        if got[0] <= 0:
            hints.append("At short distance (r < r_e) the atoms repel: f must be positive there.")
        if abs(got[-1]) > 0.1 * abs(ref).max():
            hints.append("Far away (r = 3 r_e) the force should almost vanish (the exponentials decay).")
        return CheckResult(name, False, hints)
    return CheckResult(name, True, ["Your force equals -du/dr (finite differences of the Morse energy) to 1e-6 "
                                    "for three parameter sets. It vanishes at r_e, repels inside, attracts outside."])


# ------------------------------------------------------------------------------------------------
# Exercise: the harmonic period
# ------------------------------------------------------------------------------------------------
_SPRINGS = ((1.0, 1.0), (4.0, 1.0), (1.0, 3.0), (2.5, 0.7))  # (k, m)


def _simulated_harmonic_period(k: float, m: float) -> float:
    """Period measured from a velocity Verlet run (about 3 periods, ~600 steps per period)."""
    period_guess = 2 * np.pi * np.sqrt(m / k)
    dt = period_guess / 600
    traj = simulate(Harmonic(k=k), [[1.0]], [[0.0]], dt=dt, n_steps=1850, masses=m)
    return measure_period(traj.times, traj.positions[:, 0, 0])


def _collect_scalars(name: str, fn: Callable[..., Any], cases: Sequence[tuple[float, ...]],
                     label: str) -> "tuple[np.ndarray | None, CheckResult | None]":
    """Call ``fn(*case)`` for every case; a NOT YET result if a call fails or returns a non-number."""
    values = []
    for case in cases:
        ok, value, msg = call_student_function(name, fn, *case)
        if not ok:
            return None, CheckResult(name, False, [msg])
        got, why = _as_float_array(value, ())
        if got is None:
            return None, CheckResult(name, False, [f"{label}{case}: {why}."])
        values.append(float(got))
    return np.array(values), None


def _diagnose(name: str, got: np.ndarray, ref: np.ndarray, rtol: float, cases: Sequence[tuple[float, ...]],
              params: str, wrong: dict[str, np.ndarray], generic: str) -> CheckResult | None:
    """None if ``got`` matches ``ref``; else the feedback of the mistake that explains ALL cases, or generic."""
    bad = np.abs(got - ref) > rtol * np.abs(ref)
    if not bad.any():
        return None
    for feedback, w in wrong.items():
        if np.allclose(got, w, rtol=1e-6, atol=0):
            k = int(np.argmax(bad))
            return CheckResult(name, False, [feedback, f"({params} = {cases[k]}: you gave {got[k]:.6g}, "
                                                       f"expected {ref[k]:.6g})"])
    k = int(np.argmax(bad))
    return CheckResult(name, False, [f"For {params} = {cases[k]} you predict {got[k]:.6g}, expected {ref[k]:.6g} "
                                     f"(ratio {got[k] / ref[k]:.4g}). {generic}"])


@checker("Period of a harmonic oscillator")
def check_period_prediction(fn: Callable[[float, float], Any]) -> CheckResult:
    """Check ``fn(k, m)`` -> the period T of a mass m on a spring k (reduced units).

    The reference is the period measured in a velocity Verlet simulation of m x'' = -k x (it agrees with the
    textbook formula to ~1e-5), for four (k, m) pairs.
    """
    name = "Period of a harmonic oscillator"
    got, failed = _collect_scalars(name, fn, _SPRINGS, "harmonic_period")
    if failed is not None:
        return failed
    measured = np.array([_simulated_harmonic_period(k, m) for k, m in _SPRINGS])
    k, m = np.array(_SPRINGS).T
    omega = np.sqrt(k / m)
    wrong = {
        "You returned the angular frequency omega = sqrt(k/m) (radians per time); the period is 2 pi / omega.": omega,
        "You returned the frequency nu = omega / (2 pi) (oscillations per time); the period is its inverse.":
            omega / (2 * np.pi),
        "You returned 1/omega = sqrt(m/k); one full oscillation takes 2 pi / omega.": 1 / omega,
        "That is half a period (pi / omega): the particle is back at its start only after 2 pi / omega.": np.pi / omega,
        "The square root is missing: omega = sqrt(k/m), so T = 2 pi sqrt(m/k).": 2 * np.pi * m / k,
        "k and m are swapped (that is 2 pi omega): a heavier mass oscillates more SLOWLY, T = 2 pi sqrt(m/k).":
            2 * np.pi * omega,
    }
    verdict = _diagnose(name, got, measured, 1e-3, _SPRINGS, "(k, m)", wrong,
                        "(The reference is a simulated oscillator.) Hint: put x(t) = A cos(omega t) into "
                        "m x'' = -k x to find omega.")
    if verdict is not None:  # (a failed CheckResult is falsy: no `or` here)
        return verdict
    return CheckResult(name, True, ["Your period matches simulations of m x'' = -k x for four (k, m) pairs "
                                    "(it does not depend on the amplitude: that is special to the harmonic force)."])


# ------------------------------------------------------------------------------------------------
# Exercise: the small-amplitude period of a Morse dimer
# ------------------------------------------------------------------------------------------------
_DIMERS = ((1.0, 1.0, 1.0), (2.0, 1.5, 1.0), (0.5, 2.0, 3.0))  # (D_e, a, m)


@checker("Small-amplitude period of a Morse dimer")
def check_morse_period(fn: Callable[[float, float, float], Any]) -> CheckResult:
    """Check ``fn(D_e, a, m)`` -> small-oscillation period of two atoms of mass m bound by a Morse potential.

    Reference: the exact Morse period (:func:`npsnn_edu.analytic.morse_period`) in the limit E -> -D_e,
    confirmed by a velocity Verlet simulation of the dimer with a small stretch.
    """
    name = "Small-amplitude period of a Morse dimer"
    got, failed = _collect_scalars(name, fn, _DIMERS, "morse_small_period")
    if failed is not None:
        return failed
    exact = []
    for D_e, a, m in _DIMERS:
        period = morse_period(-D_e * (1 - 1e-12), D_e, a, 0.5 * m)
        scan = morse_period_scan([0.01 / a], D_e=D_e, a=a, mass=m, dt=period / 400, n_periods=3)
        if not abs(float(scan["simulated"][0]) - period) < 5e-3 * period:  # pragma: no cover - guards the reference
            return CheckResult(name, False, ["internal reference failed (simulation vs analytic); please report"])
        exact.append(period)
    D_e, a, m = np.array(_DIMERS).T
    mu, k = 0.5 * m, 2 * a * a * D_e
    wrong = {
        "Off by a factor sqrt(2), too slow: did you use the mass m of one atom? Two atoms vibrate against each "
        "other with the REDUCED mass mu = m m / (m + m) = m/2. (Or check the curvature: u''(r_e) = 2 a^2 D_e.)":
            2 * np.pi * np.sqrt(m / k),
        "Off by a factor sqrt(2), too fast: the reduced mass is mu = m/2 (not m/4) and the curvature "
        "u''(r_e) = 2 a^2 D_e (not 4 a^2 D_e).": 2 * np.pi * np.sqrt(mu / (2 * k)),
        "Reduced mass and curvature both off: T = 2 pi sqrt(mu / u''(r_e)) with mu = m/2 and u''(r_e) = 2 a^2 D_e.":
            2 * np.pi * np.sqrt(m / (a * a * D_e)),
        "You returned the angular frequency omega = sqrt(u''(r_e)/mu); the period is 2 pi / omega.": np.sqrt(k / mu),
    }
    verdict = _diagnose(name, got, np.array(exact), 2e-3, _DIMERS, "(D_e, a, m)", wrong,
                        "Hint: near r_e the Morse well is a spring of stiffness u''(r_e) acting on the reduced mass.")
    if verdict is not None:  # (a failed CheckResult is falsy: no `or` here)
        return verdict
    return CheckResult(name, True, ["Your small-amplitude period matches the exact Morse period as E -> -D_e "
                                    "and a simulated dimer, for three parameter sets."])


# ------------------------------------------------------------------------------------------------
# Exercise: the Lennard-Jones minimum
# ------------------------------------------------------------------------------------------------
@checker("Minimum of the Lennard-Jones potential")
def check_lj_minimum(fn: Callable[[float, float], Any]) -> CheckResult:
    """Check ``fn(sigma, epsilon)`` -> ``(r_min, u_min)``, the position and value of the LJ pair minimum.

    Reference: a numerical minimisation of the core's LJ pair energy (no cutoff).
    """
    from scipy.optimize import minimize_scalar

    name = "Minimum of the Lennard-Jones potential"
    for sigma, epsilon in ((1.0, 1.0), (3.405, 0.0103), (2.0, 0.5)):
        ok, value, msg = call_student_function(name, fn, sigma, epsilon)
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            r_got, u_got = (float(v) for v in value)
        except Exception:
            return CheckResult(name, False, [f"lj_minimum({sigma}, {epsilon}) must return two numbers "
                                             f"(r_min, u_min); it returned {value!r}."])
        pot = LennardJones(sigma=sigma, epsilon=epsilon, cutoff=None, shift=False)
        res = minimize_scalar(lambda r: float(pot.pair_energy(np.array([r]))[0]), bounds=(0.9 * sigma, 2 * sigma),
                              method="bounded", options={"xatol": 1e-10 * sigma})
        r_ref, u_ref = float(res.x), float(res.fun)
        msgs = []
        if abs(r_got - r_ref) > 1e-5 * r_ref:
            if abs(r_got - sigma) < 1e-9 * sigma:
                msgs.append("r = sigma is where u(r) = 0, not the minimum: solve du/dr = 0 instead.")
            else:
                msgs.append(f"r_min is off: for sigma={sigma} you give {r_got:.6g}, the minimum is at {r_ref:.6g}. "
                            "Set du/dr = 0: it gives (sigma/r)^6 = 1/2.")
        if abs(u_got - u_ref) > 1e-6 * abs(u_ref):
            if abs(u_got + u_ref) < 1e-9 * abs(u_ref):
                msgs.append("u_min has the wrong sign: the well is a dip below zero, u_min = -epsilon.")
            else:
                msgs.append(f"u_min is off: for epsilon={epsilon} you give {u_got:.6g}, the minimum value is "
                            f"{u_ref:.6g}. Put (sigma/r)^6 = 1/2 into u(r).")
        if msgs:
            return CheckResult(name, False, msgs)
    return CheckResult(name, True, ["r_min = 2^(1/6) sigma and u_min = -epsilon, as a numerical minimisation finds."])


# ------------------------------------------------------------------------------------------------
# Exercise: the kinetic temperature
# ------------------------------------------------------------------------------------------------
@checker("Kinetic temperature")
def check_kinetic_temperature(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(velocities, masses)`` -> T = sum_i m_i |v_i|^2 / (D N k_B) with k_B = 1.

    ``velocities`` is shaped (N, D), ``masses`` (N,). Reference: Maxwell-Boltzmann velocities drawn at a
    known temperature and rescaled to it exactly (and the Trajectory's own temperature).
    """
    name = "Kinetic temperature"
    for n, dim, temperature, seed in ((108, 3, 1.5, 1), (50, 2, 0.7, 2), (1, 1, 0.3, 3)):
        masses = np.linspace(1.0, 2.0, n) if n > 1 else np.array([1.7])
        v = maxwell_boltzmann_velocities(masses, dim, temperature, seed=seed, remove_drift=False)
        ok, value, msg = call_student_function(name, fn, v.copy(), masses.copy())
        if not ok:
            return CheckResult(name, False, [msg])
        got, why = _as_float_array(value, ())
        if got is None:
            return CheckResult(name, False, [f"kinetic_temperature(velocities, masses) for N={n}, D={dim}: {why} "
                                             "(the temperature is ONE number)."])
        got = float(got)
        if abs(got - temperature) <= 1e-8 * temperature:
            continue
        ke = 0.5 * np.sum(masses[:, None] * v * v)
        wrong = {
            "Off by a factor 2: the kinetic energy is (1/2) sum m v^2 and equipartition gives KE = (D N / 2) k_B T, "
            "so T = 2 KE / (D N k_B).": (temperature / 2, temperature * 2),
            f"Count the degrees of freedom: D N = {dim * n} (D = {dim} coordinates for each of N = {n} particles), "
            f"not N = {n}.": (temperature * dim, temperature / dim),
            "Each particle has its own mass: weight m_i v_i^2 by the particle's mass.":
                (float(np.sum(v * v)) / (dim * n), float(np.sum(v * v)) / (dim * n) / 2),
            "You returned the kinetic energy; divide by (D N k_B / 2) to get the temperature.": (ke,),
        }
        for feedback, values in wrong.items():
            if any(abs(got - w) <= 1e-6 * abs(w) for w in values) and dim * n > 1:
                return CheckResult(name, False, [feedback, f"(N={n}, D={dim}: you gave {got:.6g}, expected "
                                                           f"{temperature:.6g})"])
        return CheckResult(name, False, [f"For N={n} particles in D={dim} with velocities drawn at T = {temperature} "
                                         f"you return {got:.6g}. Use T = sum_i m_i |v_i|^2 / (D N k_B)."])
    return CheckResult(name, True, ["T = 2 KE / (D N k_B): correct for 3D, 2D and a single 1D particle, "
                                    "with unequal masses."])
