"""Chapter 1 self-checks (Newtonian MD) and the small analysis helpers the notebook uses.

Exercises of the lab (the student writes the function; the check never raises, names the mistake it recognises
with a hint, and never prints the solution):

* 1.1 :func:`check_velocity_verlet_step` - ``velocity_verlet_step(x, v, f, force_fn, dt, m)``: one step, tested for
  one force call per step, second order and time reversibility on a hidden potential (sign slips in either kick,
  a stale force, half or full kicks, mass factors, Euler variants recognised);
* 1.2 :func:`check_morse_force` - ``morse_force(r, D_e, a, r_e)``: the Morse pair force f(r) = -du/dr;
* 1.3 :func:`check_morse_period` - ``morse_small_period(D_e, a, m)``: small-oscillation period of a Morse dimer;
* 1.4 :func:`check_time_unit` - ``time_unit_seconds(sigma_angstrom, epsilon_ev, mass_amu)``: the LJ time unit
  tau = sigma sqrt(m / epsilon) in seconds (unit conversions missing, doubled or squared recognised);
* 1.5 :func:`check_settled_temperature` - ``predicted_temperature(T0)`` (predict, then run): the kinetic
  temperature a perfect crystal started at its lattice sites settles at, against simulated crystals;
* 1.6 :func:`check_diffusion_coefficient` - ``diffusion_coefficient(times, positions)``: D from the MSD of hidden
  trajectories (free Langevin particles, D = k_B T / (m gamma) exactly);
* 1.7 :func:`check_radial_distribution` - ``radial_distribution(positions, box, r_max, n_bins)``: g(r) of hidden
  configurations, compared with :func:`npsnn_edu.md.analysis.radial_distribution`.

Kept for other material (no longer in the lab): :func:`check_period_prediction` (harmonic period),
:func:`check_lj_minimum`, :func:`check_kinetic_temperature`.

The checks of 1.1, 1.6 and 1.7 refuse answers that call the kit's own implementation
(:func:`npsnn_edu.exercises.feedback.calls_into`).

References are computed independently of the student's formula: the core potentials and finite differences
of their energies, simulations with the core's integrators, the closed forms of :mod:`npsnn_edu.analytic`.
All quantities are in reduced LJ units (sigma = epsilon = m = k_B = 1).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import integrators, systems
from ..analytic import morse_period
from ..errors import InvalidParameterError
from ..integrators import simulate
from ..md import analysis
from ..md.analysis import measure_period, morse_period_scan, radial_distribution  # re-exported (they used to live here)
from ..potentials import Harmonic, LennardJones, Morse
from ..systems import lj_fcc_system, maxwell_boltzmann_velocities
from ..units import ARGON
from .feedback import CheckResult, call_guarded, call_student_function, calls_into, checker

__all__ = ["check_morse_force", "check_period_prediction", "check_morse_period", "check_lj_minimum",
           "check_time_unit", "check_settled_temperature", "settled_crystal_temperature",
           "check_kinetic_temperature", "check_velocity_verlet_step", "check_diffusion_coefficient",
           "check_radial_distribution", "calls_into", "measure_period", "morse_period_scan"]


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
    assert got is not None  # _collect_scalars returns values when nothing failed
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
    assert got is not None  # _collect_scalars returns values when nothing failed
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
        res = minimize_scalar(lambda r, pot=pot: float(pot.pair_energy(np.array([r]))[0]),
                              bounds=(0.9 * sigma, 2 * sigma),
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
# Exercise: the kinetic temperature (drift removed: D (N - 1) degrees of freedom)
# ------------------------------------------------------------------------------------------------
@checker("Kinetic temperature")
def check_kinetic_temperature(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(velocities, masses)`` -> T = sum_i m_i |v_i|^2 / (D (N - 1) k_B) with k_B = 1.

    ``velocities`` (N, D) have zero total momentum (the centre-of-mass drift was removed, as in every MD run of
    the kit), which fixes D of the D N velocity components: D (N - 1) degrees of freedom remain. ``masses``
    (N,). Tested on velocities the student has not seen, with unequal masses, in 3D, 2D and 1D.
    """
    name = "Kinetic temperature"
    for n, dim, temperature, seed in ((108, 3, 1.5, 11), (50, 2, 0.7, 12), (5, 1, 0.3, 13)):
        masses = np.linspace(1.0, 2.0, n)
        v = maxwell_boltzmann_velocities(masses, dim, temperature, seed=seed, remove_drift=True)
        two_ke = float(np.sum(masses[:, None] * v * v))
        ref = two_ke / (dim * (n - 1))
        ok, value, msg = call_student_function(name, fn, v.copy(), masses.copy())
        if not ok:
            return CheckResult(name, False, [msg])
        got, why = _as_float_array(value, ())
        if got is None:
            return CheckResult(name, False, [f"kinetic_temperature(velocities, masses) for N={n}, D={dim}: {why} "
                                             "(the temperature is ONE number)."])
        got = float(got)
        if abs(got - ref) <= 1e-8 * ref:
            continue
        unweighted = float(np.sum(v * v))
        wrong = {
            f"You divide by D N = {dim * n}. The drift was removed: the total momentum is fixed at zero, which "
            f"takes away D = {dim} degrees of freedom, leaving D (N - 1) = {dim * (n - 1)}.":
                (two_ke / (dim * n), two_ke / (dim * n) / 2),
            "Off by a factor 2: the kinetic energy is (1/2) sum m v^2 and equipartition gives KE = (N_dof / 2) k_B T, "
            "so T = 2 KE / (N_dof k_B).": (ref / 2, ref * 2),
            f"Count the degrees of freedom: D (N - 1) = {dim * (n - 1)} (D = {dim} coordinates per particle, minus "
            "the D fixed components of the total momentum), not N or N - 1.":
                (two_ke / n, two_ke / (n - 1)),
            "Each particle has its own mass: weight m_i v_i^2 by the particle's mass.":
                (unweighted / (dim * (n - 1)), unweighted / (dim * n), unweighted / (dim * (n - 1)) / 2),
            "You returned the kinetic energy; divide it by (N_dof k_B / 2) to get the temperature.":
                (two_ke / 2,),
        }
        for feedback, values in wrong.items():
            if any(abs(got - w) <= 1e-6 * abs(w) for w in values):
                return CheckResult(name, False, [feedback, f"(failed for N={n} particles in D={dim})"])
        return CheckResult(name, False, [f"For N={n} particles in D={dim} (total momentum zero) your temperature "
                                         f"is off by a factor {got / ref:.4g}. Use T = sum_i m_i |v_i|^2 / "
                                         "(N_dof k_B) with the right number of degrees of freedom N_dof."])
    return CheckResult(name, True, ["T = 2 KE / (D (N - 1) k_B): correct in 3D, 2D and 1D with unequal masses "
                                    "(the drift-free velocities have D (N - 1) degrees of freedom)."])


# ------------------------------------------------------------------------------------------------
# Exercise: one velocity-Verlet step
# ------------------------------------------------------------------------------------------------
class _HiddenPotential:
    """3 particles in 2D: anharmonic traps plus harmonic springs between all pairs (not shown to students)."""

    k, b, kappa = np.array([1.0, 2.5, 0.7]), 0.3, 0.8

    def __init__(self) -> None:
        self.n_calls = 0

    def energy(self, x: np.ndarray) -> float:
        d = x[:, None, :] - x[None, :, :]
        return float(0.5 * np.sum(self.k[:, None] * x * x) + 0.25 * self.b * np.sum(x**4)
                     + 0.25 * self.kappa * np.sum(d * d))

    def forces(self, x: np.ndarray) -> np.ndarray:
        self.n_calls += 1
        x = np.asarray(x, dtype=float)
        return -(self.k[:, None] * x + self.b * x**3 + self.kappa * (len(x) * x - x.sum(0)))


_VV_MASSES = np.array([[1.0], [2.0], [0.5]])
_VV_X0 = np.array([[0.8, -0.3], [-0.4, 0.5], [0.1, 0.9]])
_VV_V0 = np.array([[0.2, 0.6], [-0.5, 0.1], [0.3, -0.4]])


def _vv_reference(x: np.ndarray, v: np.ndarray, f: np.ndarray, force: Any, dt: float, m: np.ndarray) -> tuple:
    v_half = v + 0.5 * dt * f / m
    x_new = x + dt * v_half
    f_new = force(x_new)
    return x_new, v_half + 0.5 * dt * f_new / m, f_new


def _vv_mistakes(x: np.ndarray, v: np.ndarray, f: np.ndarray, force: Any, dt: float, m: np.ndarray) -> dict:
    """Typical wrong steps -> feedback. Compared on (x_new, v_new)."""
    h = 0.5 * dt
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    xe = x + dt * v + h * dt * f / m
    out["The second half kick must use the NEW force F(x_{n+1}), evaluated at the new positions; you used the old "
        "force twice."] = (xe, v + dt * f / m)
    vh = v + dt * f / m
    xw = x + dt * vh
    out["Each kick is HALF a step: v_{n+1/2} = v_n + (dt/2) F/m, and the same for the second kick."] = (
        xw, vh + dt * force(xw) / m)
    vh = v + h * f * m
    xm = x + dt * vh
    out["Newton: the acceleration is F / m. You multiplied by the mass instead of dividing."] = (
        xm, vh + h * force(xm) * m)
    vh = v + h * f
    xn = x + dt * vh
    out["The particles have different masses: divide the force by each particle's mass m (shape (N, 1))."] = (
        xn, vh + h * force(xn))
    xd = x + dt * v
    out["The drift must use the half-step velocity v_{n+1/2} (after the first half kick), not v_n."] = (
        xd, v + h * f / m + h * force(xd) / m)
    vh = v - h * f / m
    xs = x + dt * vh
    out["Sign error in the kicks: a kick ADDS (dt/2) F/m to the velocity (Newton: m dv/dt = +F); you subtracted "
        "it."] = (xs, vh - h * force(xs) / m)
    out["Sign error in the first half kick: it must ADD (dt/2) F(x_n)/m to v_n (your second kick looks right)."] = (
        xs, vh + h * force(xs) / m)
    vh = v + h * f / m
    xk = x + dt * vh
    out["Sign error in the second half kick: it must ADD (dt/2) F(x_{n+1})/m to v_{n+1/2} (your first kick and the "
        "drift look right)."] = (xk, vh - h * force(xk) / m)
    out["The drift is a full step: x_{n+1} = x_n + dt v_{n+1/2}; you moved the positions by only half of it."] = (
        x + h * vh, vh + h * force(x + h * vh) / m)
    out["That is explicit Euler (x and v both from the old state): velocity Verlet kicks, drifts, kicks."] = (
        x + dt * v, v + dt * f / m)
    vs = v + dt * f / m
    out["That is symplectic Euler (one full kick, one drift): velocity Verlet splits the kick into two halves "
        "around the drift."] = (x + dt * vs, vs)
    return out


def _unpack_step(value: Any, shape: tuple[int, ...]) -> "tuple[tuple[np.ndarray, ...] | None, str]":
    try:
        parts = tuple(np.asarray(p, dtype=float) for p in value)
    except (TypeError, ValueError):
        return None, f"it must return three arrays (x_new, v_new, f_new); it returned {type(value).__name__}"
    if len(parts) != 3:
        return None, f"it must return three arrays (x_new, v_new, f_new); it returned {len(parts)} values"
    for label, p in zip(("x_new", "v_new", "f_new"), parts):
        if p.shape != shape:
            return None, f"{label} has shape {p.shape}, expected {shape} (the shape of x)"
        if not np.all(np.isfinite(p)):
            return None, f"{label} contains NaN or inf"
    return parts, ""


@checker("Exercise 1.1: one velocity-Verlet step")
def check_velocity_verlet_step(fn: Callable[..., Any], *, use_on_liquid: bool = True) -> CheckResult:
    """Check ``fn(x, v, f, force_fn, dt, m)`` -> ``(x_new, v_new, f_new)``: one velocity-Verlet step.

    ``x, v, f`` (N, D); ``force_fn(x)`` returns the forces (N, D); ``m`` (N, 1). On a hidden potential (3
    particles in 2D, anharmonic, coupled, unequal masses) the check counts force evaluations per step (one),
    compares the step with velocity Verlet, measures the order of the global error (2) from runs with dt, dt/2,
    dt/4, and runs forward then backward (time reversibility). If all pass, the step is used for 200 steps of the
    108-atom LJ liquid and compared with the kit's run. Answers that call the kit's integrators are refused.
    """
    name = "Exercise 1.1: one velocity-Verlet step"
    pot = _HiddenPotential()
    x, v, m, dt = _VV_X0.copy(), _VV_V0.copy(), _VV_MASSES.copy(), 0.07
    f = pot.forces(x)
    pot.n_calls = 0
    ok, value, msg, used_kit = call_guarded(name, fn, [integrators], x.copy(), v.copy(), f.copy(), pot.forces, dt,
                                             m.copy())
    if not ok:
        return CheckResult(name, False, [msg])
    if used_kit:
        return CheckResult(name, False, ["Your step calls the kit's integrators (npsnn_edu.integrators): write the "
                                         "half kick, drift and half kick yourself, with NumPy only."])
    parts, why = _unpack_step(value, x.shape)
    if parts is None:
        return CheckResult(name, False, [f"velocity_verlet_step: {why}."])
    calls = pot.n_calls
    ref = _vv_reference(x, v, f, _HiddenPotential().forces, dt, m)
    x_new, v_new, f_new = parts
    good = [bool(np.allclose(p, r, rtol=1e-9, atol=1e-12)) for p, r in zip(parts, ref)]
    if calls == 0 and not good[2]:
        return CheckResult(name, False, ["Your step never calls force_fn: the second half kick needs the force at "
                                         "the NEW positions, F(x_{n+1}), and you must return it as f_new."])
    if not (good[0] and good[1]):
        for feedback, (xw, vw) in _vv_mistakes(x, v, f, _HiddenPotential().forces, dt, m).items():
            if np.allclose(x_new, xw, rtol=1e-9, atol=1e-12) and np.allclose(v_new, vw, rtol=1e-9, atol=1e-12):
                return CheckResult(name, False, [feedback, "(tested on a potential you have not seen, 3 particles "
                                                           "in 2D with unequal masses)"])
        if good[0]:
            hint = ("Your x_new is right, so the first half kick and the drift are fine; v_new is not: look at the "
                    "second half kick (which force, which factor, which sign, divided by which mass?).")
        else:
            hint = ("Your x_new differs from velocity Verlet after one step. The drift moves x with the velocity "
                    "AFTER the first half kick: check that kick (factor, sign, mass) and the length of the drift.")
        return CheckResult(name, False, [hint, "Figure 1.1 shows the order of the three updates. (Tested on a "
                                               "hidden potential: 3 particles in 2D with unequal masses.)"])
    if not good[2]:
        return CheckResult(name, False, ["x_new and v_new are right, but f_new is not the force at x_new: return "
                                         "force_fn(x_new), the f of the next step."])
    if calls > 1:
        return CheckResult(name, False, [f"Your step is correct but calls force_fn {calls} times. Velocity Verlet "
                                         "needs ONE force evaluation per step (the expensive part of MD): the f_new "
                                         "you return is next step's f, so never recompute force_fn(x)."])
    # behaviour over many steps: order 2 and time reversibility, with the student's own step
    messages = []

    def run(step_fn: Any, x0: np.ndarray, v0: np.ndarray, h: float, n: int) -> tuple[np.ndarray, np.ndarray, int]:
        p = _HiddenPotential()
        xx, vv, ff = x0.copy(), v0.copy(), p.forces(x0)
        p.n_calls = 0
        for _ in range(n):
            xx, vv, ff = (np.asarray(a, dtype=float) for a in step_fn(xx, vv, ff, p.forces, h, m))
        return xx, vv, p.n_calls

    t_end = 2.0
    x_exact, v_exact, _ = run(lambda *a: _vv_reference(*a), _VV_X0, _VV_V0, t_end / 4096, 4096)
    errors, n_calls = [], 0
    for n in (20, 40, 80):
        xx, vv, c = run(fn, _VV_X0, _VV_V0, t_end / n, n)
        n_calls += c
        errors.append(float(np.linalg.norm(np.concatenate([(xx - x_exact).ravel(), (vv - v_exact).ravel()]))))
    if n_calls != 140:
        return CheckResult(name, False, [f"Over 140 steps your function called force_fn {n_calls} times: it must be "
                                         "exactly once per step."])
    order = float(np.polyfit(np.log([1, 0.5, 0.25]), np.log(errors), 1)[0])
    if not 1.8 < order < 2.2:  # pragma: no cover - cannot happen once the step matches the reference
        return CheckResult(name, False, [f"The global error of your integrator shrinks like dt^{order:.2f}; velocity "
                                         "Verlet is second order."])
    xf, vf, _ = run(fn, _VV_X0, _VV_V0, 0.05, 100)
    xb, vb, _ = run(fn, xf, -vf, 0.05, 100)
    back = float(max(np.abs(xb - _VV_X0).max(), np.abs(-vb - _VV_V0).max()))
    messages.append(f"One force evaluation per step; global error ~ dt^{order:.2f} (halving dt twice on a hidden "
                    f"anharmonic potential); 100 steps forward then 100 back return to the start within {back:.1e}.")
    if use_on_liquid:
        system = lj_fcc_system(n_cells=3, temperature=1.5, seed=21)
        kit = simulate(system.potential, system.positions, system.velocities, dt=0.005, n_steps=200, record_every=200)
        xx, vv, ff = system.positions.copy(), system.velocities.copy(), system.potential.forces(system.positions)
        mm = np.ones((len(xx), 1))
        for _ in range(200):
            xx, vv, ff = (np.asarray(a, dtype=float) for a in fn(xx, vv, ff, system.potential.forces, 0.005, mm))
        e0 = kit.total_energy[0]
        e1 = float(system.potential.energy(xx)) + 0.5 * float(np.sum(vv * vv))
        messages.append(f"Used for 200 steps of the 108-atom LJ liquid (dt = 0.005 tau): your positions agree with "
                        f"the kit's run to {np.abs(xx - kit.positions[-1]).max():.1e} sigma, energy drift "
                        f"{abs(e1 - e0) / abs(e0):.1e}.")
    return CheckResult(name, True, messages)


# ------------------------------------------------------------------------------------------------
# Exercise: the diffusion coefficient from the mean squared displacement
# ------------------------------------------------------------------------------------------------
class _Free:
    def energy_and_forces(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        return 0.0, np.zeros_like(x)


def _langevin_walkers(n: int, dim: int, temperature: float, friction: float, t_total: float, seed: int) -> Any:
    x0 = np.random.default_rng(seed).uniform(-3, 3, size=(n, dim))
    return simulate(_Free(), x0, None, dt=0.01, n_steps=int(round(t_total / 0.01)), integrator="langevin",
                    temperature=temperature, friction=friction, seed=seed, record_every=5, progress=False)


#: (N, D, T, gamma, t_total, seed) of the hidden trajectories: D = T / gamma exactly (m = 1)
_WALKERS = ((3000, 3, 1.2, 1.0, 8.0, 31), (2000, 2, 0.6, 0.5, 16.0, 32))


@checker("Exercise 1.6: diffusion coefficient from the MSD")
def check_diffusion_coefficient(fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``fn(times, positions)`` -> D (length^2 / time) from the mean squared displacement.

    ``positions`` are unwrapped, shaped (frames, N, D). Hidden trajectories: free Langevin particles in 3D and 2D,
    whose exact D = k_B T / (m gamma) the check knows; the student's D must agree within 7 % with both that and
    :func:`npsnn_edu.md.analysis.diffusion_coefficient` on the same data. Answers calling the kit's analysis are
    refused.
    """
    name = "Exercise 1.6: diffusion coefficient from the MSD"
    for n, dim, temperature, friction, t_total, seed in _WALKERS:
        traj = _langevin_walkers(n, dim, temperature, friction, t_total, seed)
        exact = temperature / friction
        kit = analysis.diffusion_coefficient(traj.times, analysis.mean_squared_displacement(traj.positions,
                                             all_origins=False), dim=dim).D
        if abs(kit / exact - 1) > 0.08:  # pragma: no cover - guards the reference
            return CheckResult(name, False, ["internal reference failed (kit D vs k_B T / (m gamma)); please report"])
        ok, value, msg, used_kit = call_guarded(name, fn, [analysis], traj.times.copy(), traj.positions.copy())
        if not ok:
            return CheckResult(name, False, [msg])
        if used_kit:
            return CheckResult(name, False, ["Your function calls npsnn_edu.md.analysis: compute the MSD and fit its "
                                             "slope yourself, with NumPy (np.mean, np.polyfit)."])
        got, why = _as_float_array(value, ())
        if got is None:
            return CheckResult(name, False, [f"diffusion_coefficient(times, positions): {why} (D is ONE number)."])
        ratio = float(got) / exact
        where = f"(hidden trajectory: {n} particles in {dim}D)"
        if abs(ratio - 1) <= 0.07:
            continue
        known = [(2 * dim, "You forgot to divide the slope by 2 d (Einstein: MSD -> 2 d D t in d dimensions)."),
                 (dim, "You divided the slope by 2, not by 2 d: in d dimensions MSD -> 2 d D t."),
                 (2.0, "You divided the slope by d, not by 2 d: in d dimensions MSD -> 2 d D t."),
                 (dim / 3.0, "In this run d = 2: take the dimension from positions.shape[-1] instead of assuming 3."),
                 (1 / dim, "You divided by 2 d twice, or by 2 d^2: D = slope / (2 d).")]
        for factor, feedback in known:
            if abs(factor - 1) > 0.2 and abs(ratio / factor - 1) <= 0.07:
                return CheckResult(name, False, [feedback, where])
        if 0.55 < ratio < 0.93:
            return CheckResult(name, False, ["Your D is too small. Is the early, ballistic part (MSD ~ <v^2> t^2, "
                                             "before the velocities decorrelate) in your fit, or did you use MSD/t? "
                                             "Fit a straight line to the LATE, linear part of MSD(t) only.", where])
        if abs(ratio) < 0.2:
            return CheckResult(name, False, ["Your D is far too small: the MSD is the mean of SQUARED displacements "
                                             "|x(t) - x(0)|^2, summed over the d coordinates.", where])
        return CheckResult(name, False, [f"Your D is off by a factor {ratio:.3g} {where}. Steps: MSD(t) = mean over "
                                         "particles of |x(t) - x(0)|^2; fit a line to its late part; D = slope/(2 d)."])
    return CheckResult(name, True, ["Within 7 % of the exact D = k_B T / (m gamma) and of the kit's fit, for hidden "
                                    "free Langevin particles in 3D and 2D."])


# ------------------------------------------------------------------------------------------------
# Exercise: the radial distribution function g(r)
# ------------------------------------------------------------------------------------------------
def _hidden_configurations() -> list[tuple[np.ndarray, np.ndarray, float, int, str]]:
    system = lj_fcc_system(n_cells=3, temperature=1.4, seed=41)
    liquid = system.run(dt=0.005, n_steps=300, record_every=300)
    rng = np.random.default_rng(42)
    box = np.array([7.0, 9.0, 8.0])
    gas = rng.uniform(size=(40, 3)) * box
    return [(liquid.positions[-1], np.asarray(system.box), 0.5 * float(system.box[0]), 40, "the LJ liquid (108 atoms)"),
            (gas, box, 3.5, 14, "40 random points in a 7 x 9 x 8 box")]


def _rdf_variants(pos: np.ndarray, box: np.ndarray, r_max: float, n_bins: int) -> dict[str, np.ndarray]:
    _, g = radial_distribution(pos, box, r_max=r_max, n_bins=n_bins)
    n = len(pos)
    edges = np.linspace(0, r_max, n_bins + 1)
    iu, ju = np.triu_indices(n, k=1)
    d = pos[ju] - pos[iu]
    raw = np.histogram(np.sqrt(np.sum(d * d, -1)), bins=edges)[0]
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return {
        "Pairs across the periodic boundary are missing: use the minimum image, d -= L * np.round(d / L), before "
        "taking the distance.": raw / (0.5 * n * (n - 1) * shell / np.prod(box)),
        "Each pair is counted twice (i-j and j-i) but normalised as N (N - 1) / 2 pairs: count i < j only, or "
        "normalise by N (N - 1).": 2 * g,
        "Half the pairs are missing: with N (N - 1) / 2 pairs (i < j) the ideal-gas count in a shell is "
        "N (N - 1) / 2 * shell volume / V.": 0.5 * g,
        "Normalise by N (N - 1) pairs (an atom is not its own neighbour), not N^2.": g * (n - 1) / n,
        "The volume of this box is the product of its three edges, not the cube of the first one.":
            g * np.prod(box) / box[0] ** 3,
    }


@checker("Exercise 1.7: radial distribution function g(r)")
def check_radial_distribution(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(positions, box, r_max, n_bins)`` -> ``(r, g)``: g(r) of one periodic 3D configuration.

    Bins: edges ``np.linspace(0, r_max, n_bins + 1)``, r = bin centres; g normalised so that an ideal gas gives 1.
    Hidden configurations: a frame of the LJ liquid and random points in a non-cubic box, compared with
    :func:`npsnn_edu.md.analysis.radial_distribution` (within 0.5 % of the peak, bins beyond the first five).
    Answers calling the kit's analysis are refused.
    """
    name = "Exercise 1.7: radial distribution function g(r)"
    for pos, box, r_max, n_bins, label in _hidden_configurations():
        r_ref, g_ref = analysis.radial_distribution(pos, box, r_max=r_max, n_bins=n_bins)
        ok, value, msg, used_kit = call_guarded(name, fn, [analysis], pos.copy(), box.copy(), r_max, n_bins)
        if not ok:
            return CheckResult(name, False, [msg])
        if used_kit:
            return CheckResult(name, False, ["Your function calls npsnn_edu.md.analysis: histogram the pair distances "
                                             "and normalise them yourself (np.histogram)."])
        try:
            r_got, g_got = (np.asarray(a, dtype=float) for a in value)
        except (TypeError, ValueError):
            return CheckResult(name, False, ["radial_distribution must return two arrays (r, g)."])
        if r_got.shape == (n_bins + 1,):
            return CheckResult(name, False, [f"You returned the {n_bins + 1} bin EDGES as r: return the {n_bins} bin "
                                             "centres, 0.5 * (edges[1:] + edges[:-1])."])
        if r_got.shape != (n_bins,) or g_got.shape != (n_bins,):
            return CheckResult(name, False, [f"r and g must each have n_bins = {n_bins} values; you returned shapes "
                                             f"{r_got.shape} and {g_got.shape}."])
        if not np.allclose(r_got, r_ref, rtol=1e-9, atol=1e-12):
            return CheckResult(name, False, ["r must be the bin centres of np.linspace(0, r_max, n_bins + 1)."])
        if not np.all(np.isfinite(g_got)):
            return CheckResult(name, False, ["g contains NaN or inf (a division by a zero shell volume at r = 0?)."])
        tol = 0.005 * float(g_ref.max())
        sel = slice(5, None)
        if np.all(np.abs(g_got[sel] - g_ref[sel]) <= tol):
            continue
        for feedback, wrong in _rdf_variants(pos, box, r_max, n_bins).items():
            if np.all(np.abs(g_got[sel] - wrong[sel]) <= 0.25 * tol):
                return CheckResult(name, False, [feedback, f"(hidden configuration: {label})"])
        far = g_got[-max(3, n_bins // 5):].mean()
        hint = (f"At large r, g(r) of this configuration should be close to 1; yours averages {far:.3g} there. "
                if abs(far - 1) > 0.2 else "")
        return CheckResult(name, False, [f"{hint}Your g(r) differs from the reference for {label}. Steps: "
                                         "minimum-image pair distances (i < j); histogram them; divide each "
                                         "count by the ideal count N (N-1)/2 * (4/3) pi (r_hi^3 - r_lo^3) / V."])
    return CheckResult(name, True, ["Your g(r) matches the kit's (minimum image, exact shell volumes) on a hidden LJ "
                                    "liquid frame and on random points in a non-cubic box (g ~ 1)."])


# ------------------------------------------------------------------------------------------------
# Exercise: the LJ time unit in seconds (reduced units -> SI)
# ------------------------------------------------------------------------------------------------
#: (sigma in Angstrom, epsilon in eV, mass in u) of the hidden cases: argon, neon-like, krypton-like
_GASES = ((3.405, 0.0103, 39.948), (2.75, 0.0031, 20.18), (3.60, 0.0141, 83.80))
_ANGSTROM, _EV, _AMU = 1e-10, 1.602176634e-19, 1.66053906660e-27  # m, J, kg (CODATA 2018 exact / recommended)


def _time_unit_mistakes(sigma: float, epsilon: float, mass: float) -> dict[str, float]:
    """Typical wrong values of tau (in the units the student returned) -> feedback."""
    s, e, m = sigma * _ANGSTROM, epsilon * _EV, mass * _AMU
    tau = s * np.sqrt(m / e)
    return {
        "Inverted square root: tau = sigma sqrt(m / epsilon) (a heavier atom moves more slowly, so its time unit is "
        "LONGER).": s * np.sqrt(e / m),
        "The square root is missing: from [epsilon] = kg m^2 / s^2, sigma sqrt(m / epsilon) has units of seconds, "
        "sigma m / epsilon does not.": s * m / e,
        "sigma is still in Angstrom: 1 Angstrom = 1e-10 m.": tau / _ANGSTROM,
        "sigma converted twice (squared or not?): sigma enters tau once, so multiply by 1e-10 once.": tau * _ANGSTROM,
        "epsilon is still in eV: 1 eV = 1.602176634e-19 J.": tau * np.sqrt(_EV),
        "The mass is still in atomic mass units: 1 u = 1.66053906660e-27 kg.": tau / np.sqrt(_AMU),
        "The eV and u conversions are both missing: energies in J and masses in kg.": tau * np.sqrt(_EV / _AMU),
        "You returned femtoseconds: the exercise asks for seconds (1 fs = 1e-15 s).": tau * 1e15,
        "You returned picoseconds: the exercise asks for seconds (1 ps = 1e-12 s).": tau * 1e12,
    }


@checker("Exercise 1.4: the time unit tau in seconds")
def check_time_unit(fn: Callable[[float, float, float], Any]) -> CheckResult:
    """Check ``fn(sigma_angstrom, epsilon_ev, mass_amu)`` -> tau = sigma sqrt(m / epsilon) in seconds.

    Reference: SI constants (Angstrom, eV, u) written out here, independent of :mod:`npsnn_edu.units`, and
    compared with it for argon. Three hidden (sigma, epsilon, m) sets; typical mistakes (unit conversions missing
    or doubled, inverted root, fs or ps returned) are named.
    """
    name = "Exercise 1.4: the time unit tau in seconds"
    argon = _ANGSTROM * 3.405 * np.sqrt(39.948 * _AMU / (0.0103 * _EV))
    if abs(argon / (ARGON.time_fs * 1e-15) - 1) > 1e-6:  # pragma: no cover - guards the reference
        return CheckResult(name, False, ["internal reference failed (SI tau vs npsnn_edu.units); please report"])
    got, failed = _collect_scalars(name, fn, _GASES, "time_unit_seconds")
    if failed is not None:
        return failed
    assert got is not None  # _collect_scalars returns values when nothing failed
    for (sigma, epsilon, mass), value in zip(_GASES, got):
        ref = sigma * _ANGSTROM * np.sqrt(mass * _AMU / (epsilon * _EV))
        if abs(value / ref - 1) <= 1e-4:
            continue
        where = f"(sigma = {sigma} Angstrom, epsilon = {epsilon} eV, m = {mass} u)"
        for feedback, wrong in _time_unit_mistakes(sigma, epsilon, mass).items():
            if abs(value / wrong - 1) <= 1e-4:
                return CheckResult(name, False, [feedback, where])
        if value <= 0:
            return CheckResult(name, False, [f"A time unit is positive; you returned {value:.3g} {where}."])
        return CheckResult(name, False, [f"Off by a factor {value / ref:.3g} {where}. Convert each quantity to SI "
                                         "first (m, J, kg), then combine them so the result has units of seconds."])
    return CheckResult(name, True, [f"tau = sigma sqrt(m / epsilon) in SI units for three gases; for argon it is "
                                    f"{argon * 1e12:.3f} ps, so a step of 0.005 tau is about "
                                    f"{0.005 * argon * 1e15:.0f} fs."])


# ------------------------------------------------------------------------------------------------
# Exercise (predict, then run): the temperature a perfect crystal settles at
# ------------------------------------------------------------------------------------------------
#: initial temperatures of the hidden crystal runs (low enough that the 108-atom FCC crystal does not melt)
_CRYSTAL_T0 = (0.3, 0.6)
_CRYSTAL_STEPS = 1500


def settled_crystal_temperature(T0: float, *, n_steps: int = _CRYSTAL_STEPS, seed: int = 42) -> float:
    """Mean kinetic temperature (epsilon / k_B) over the second half of an NVE run of the 108-atom FCC crystal
    (rho* = 0.8442, dt = 0.005 tau) started at its lattice sites with Maxwell-Boltzmann velocities at ``T0``.

    Parameters
    ----------
    T0 : float
        Initial temperature (epsilon / k_B).
    n_steps : int, default 1500
        Steps of the NVE run.
    seed : int, default 42
        Seed of the velocities.

    Returns
    -------
    float
    """
    if not T0 > 0:
        raise InvalidParameterError(f"T0 must be > 0 (epsilon / k_B), got {T0}")
    run = lj_fcc_system(n_cells=3, density=0.8442, temperature=T0, seed=seed).run(dt=0.005, n_steps=int(n_steps),
                                                                                  record_every=10)
    return float(run.temperature[run.n_frames // 2:].mean())


@checker("Exercise 1.5: where does the kinetic energy go?")
def check_settled_temperature(fn: Callable[[float], Any]) -> CheckResult:
    """Check ``fn(T0)`` -> the predicted temperature a perfect crystal started at its lattice sites settles at.

    Reference: NVE runs of the 108-atom LJ crystal (:func:`settled_crystal_temperature`) at T0 = 0.3 and 0.6;
    a prediction within 12 % of both passes (equipartition for a harmonic crystal gives T0 / 2; the simulated
    ratio is a little higher, about 0.53, because the real crystal is anharmonic).
    """
    name = "Exercise 1.5: where does the kinetic energy go?"
    ok, _, msg, used_kit = call_guarded(name, fn, [integrators, systems], _CRYSTAL_T0[0])
    if not ok:
        return CheckResult(name, False, [msg])
    if used_kit:
        return CheckResult(name, False, ["Your function runs a simulation: this exercise asks for a PREDICTION "
                                         "from physics (a formula in T0), which the check then compares with "
                                         "simulated crystals."])
    got, failed = _collect_scalars(name, fn, [(t,) for t in _CRYSTAL_T0], "predicted_temperature")
    if failed is not None:
        return failed
    assert got is not None  # _collect_scalars returns values when nothing failed
    simulated = np.array([settled_crystal_temperature(t) for t in _CRYSTAL_T0])
    T0 = np.array(_CRYSTAL_T0)
    ratio = got / T0
    if np.all(np.abs(got / simulated - 1) <= 0.12):
        return CheckResult(name, True, [f"Simulated: T0 = {T0[0]} settles at {simulated[0]:.3f}, T0 = {T0[1]} at "
                                        f"{simulated[1]:.3f}, your prediction {got[0]:.3f} and {got[1]:.3f}. Half the "
                                        "kinetic energy became potential energy of the vibrations."])
    known = [(1.0, "The temperature does not stay at T0: the atoms start at the bottom of their potential wells, "
                   "so as they move away from the lattice sites kinetic energy turns into potential energy."),
             (2.0, "The temperature drops, it does not rise: the crystal starts with zero potential energy "
                   "(all atoms at their lattice sites) and the total energy is fixed."),
             (0.25, "Squared or not? For a harmonic vibration the time-averaged kinetic and potential energies are "
                    "EQUAL, so the kinetic energy (not its square root or square) is shared in two."),
             (1 / 3, "Kinetic and potential energy share the total in two equal parts (virial theorem for a "
                     "harmonic vibration), not in three."),
             (0.0, "The kinetic energy does not vanish: the atoms keep vibrating, the total energy is conserved.")]
    for factor, feedback in known:
        if np.all(np.abs(ratio - factor) <= 0.02 * max(factor, 0.05)):
            return CheckResult(name, False, [feedback])
    if np.any(np.abs(np.diff(ratio)) > 0.05):
        return CheckResult(name, False, ["Your prediction is not proportional to T0; for small vibrations the "
                                         "fraction of energy that stays kinetic does not depend on T0."])
    side = "higher" if np.mean(got / simulated) < 1 else "lower"
    return CheckResult(name, False, [f"Not yet: the simulated crystals settle clearly {side} than you predict. Hint: "
                                     "for a harmonic vibration compare the time-averaged kinetic and potential "
                                     "energy, and remember where the atoms start."])
