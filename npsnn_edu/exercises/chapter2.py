"""Self-checks for chapter 2 (Verlet stability).  Each check calls the student's function defensively
(:func:`~npsnn_edu.exercises.feedback.call_student_function`), never raises, and returns a
:class:`~npsnn_edu.exercises.feedback.CheckResult` with specific feedback.

Exercises (in notebook order)
-----------------------------
1. ``symplectic_euler_matrix(h)``: the 2 x 2 amplification matrix of symplectic Euler (kick then drift)
   at h = omega dt (omega = 1), compared with the matrix measured from the core integrator's own step.
2. ``largest_stable_dt(k, m)``: the largest stable velocity-Verlet time step for a spring k and mass m,
   predicted on paper, then verified here by simulation just below and just above it.
3. ``energy_error_exponent(integrator)``: the exponent p in (energy oscillation) ~ dt^p for
   ``"velocity_verlet"`` and ``"symplectic_euler"``; the check measures both by simulation.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import SimulationDivergedError
from ..integrators import simulate
from ..potentials import Harmonic
from ..stability import amplification_matrix, analytic_amplification_matrix, spectral_radius, verlet_energy_scaling
from .feedback import CheckResult, call_student_function, checker

__all__ = ["check_largest_stable_dt", "check_energy_error_exponent", "check_symplectic_euler_matrix"]

_SPRINGS = ((1.0, 1.0), (4.0, 1.0), (100.0, 1.0), (9.0, 4.0), (0.25, 2.0))


def _as_float(value: Any) -> float | None:
    try:
        out = float(np.asarray(value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _fmt(mat: np.ndarray) -> str:
    return np.array2string(mat, precision=4, separator=", ").replace("\n", "")


def _close(a: float, b: float, rtol: float = 1e-3) -> bool:
    return abs(a - b) <= rtol * abs(b)


@checker("Exercise 2.2: largest stable time step of velocity Verlet")
def check_largest_stable_dt(fn: Callable[[float, float], float], verify: bool = True) -> CheckResult:
    """Check ``fn(k, m)`` against 2 sqrt(m/k) and, if right, verify by simulating at 0.95x and 1.05x of it."""
    name = "Exercise 2.2: largest stable time step of velocity Verlet"
    answers = {}
    for k, m in _SPRINGS:
        ok, value, msg = call_student_function(name, fn, k, m)
        if not ok:
            return CheckResult(name, False, [msg])
        val = _as_float(value)
        if val is None:
            return CheckResult(name, False, [f"largest_stable_dt({k}, {m}) returned {value!r}; "
                                             "return one number (a time)"])
        answers[(k, m)] = val
    wrong = {key: v for key, v in answers.items() if not _close(v, 2.0 * np.sqrt(key[1] / key[0]))}
    if wrong:
        (k, m), got = next(iter(wrong.items()))
        expected = 2.0 * np.sqrt(m / k)
        # recognise the usual mistakes on every spring, not just one
        patterns = [
            (lambda k, m: 2.0 * np.sqrt(k / m), "k and m are swapped: a STIFFER spring (larger k) must need a SMALLER "
             "dt. omega = sqrt(k/m), and the limit is omega*dt < 2."),
            (lambda k, m: 2.0 * np.pi * np.sqrt(m / k), "that is the period T = 2 pi / omega. Verlet's limit is "
             "omega*dt < 2, i.e. dt < T / pi: about a third of a period."),
            (lambda k, m: np.pi * np.sqrt(m / k), "that is half a period. The amplification matrix has trace 2 - h^2; "
             "it stays stable while |trace| <= 2, i.e. h = omega*dt <= 2."),
            (lambda k, m: np.sqrt(m / k), "that is 1/omega: a factor 2 is missing (|2 - h^2| <= 2 gives h <= 2)."),
            (lambda k, m: 2.0 * np.sqrt(2.0) * np.sqrt(m / k), "2 sqrt(2) / omega is RK4's limit, not Verlet's."),
            (lambda k, m: 2.0 * m / k, "check the units: dt must be sqrt(mass / spring constant), so take a square "
             "root (omega = sqrt(k/m))."),
            (lambda k, m: 2.0 / k, "the mass is missing and the square root too: omega = sqrt(k/m)."),
        ]
        for formula, hint in patterns:
            if all(_close(v, formula(kk, mm)) for (kk, mm), v in answers.items()):
                return CheckResult(name, False, [f"for k={k}, m={m} you returned {got:.4g}, "
                                                 f"expected {expected:.4g}: {hint}"])
        return CheckResult(name, False, [
            f"for k={k}, m={m} you returned {got:.4g}, expected {expected:.4g}. Hint: write h = omega*dt with "
            "omega = sqrt(k/m) and use the stability limit h < 2 of velocity Verlet."])
    messages = ["Your formula matches 2 sqrt(m/k) = T/pi for all five springs."]
    if verify:
        k, m = 100.0, 1.0
        dt_star = answers[(k, m)]
        for factor in (0.95, 1.05):
            dt = factor * dt_star
            try:
                traj = simulate(Harmonic(k=k), [[1.0]], [[0.0]], dt=dt, n_steps=2000, masses=m, record_every=10)
                messages.append(f"simulated k={k:g}, m={m:g} at {factor:.2f} x your dt ({dt:.4g}): 2000 steps, bounded "
                                f"(max |dE/E| = {traj.energy_drift():.2g}: large but it does not grow)")
            except SimulationDivergedError as exc:
                messages.append(f"simulated k={k:g}, m={m:g} at {factor:.2f} x your dt ({dt:.4g}): diverged at step "
                                f"{exc.step}, as predicted")
    return CheckResult(name, True, messages)


@checker("Exercise 2.3: energy-error scaling exponents")
def check_energy_error_exponent(fn: Callable[[str], float], measure: bool = True) -> CheckResult:
    """Check ``fn("velocity_verlet") == 2`` and ``fn("symplectic_euler") == 1``; optionally measure both."""
    name = "Exercise 2.3: energy-error scaling exponents"
    got = {}
    for integrator in ("velocity_verlet", "symplectic_euler"):
        ok, value, msg = call_student_function(name, fn, integrator)
        if not ok:
            return CheckResult(name, False, [msg])
        val = _as_float(value)
        if val is None:
            return CheckResult(name, False, [f"energy_error_exponent({integrator!r}) returned {value!r}; "
                                             "return a number"])
        got[integrator] = val
    expected = {"velocity_verlet": 2.0, "symplectic_euler": 1.0}
    hints = {
        ("velocity_verlet", 3.0): "3 is the LOCAL error of one Verlet step; the energy error is governed by the "
                                  "shadow Hamiltonian H + O(dt^2), so it oscillates with amplitude ~ dt^2.",
        ("velocity_verlet", 1.0): "first order belongs to (symplectic) Euler; Verlet is second order and its "
                                  "shadow Hamiltonian differs from H by O(dt^2).",
        ("velocity_verlet", 4.0): "4 is RK4's order; Verlet's shadow Hamiltonian differs from H by O(dt^2).",
        ("velocity_verlet", 0.0): "the energy error is not dt-independent: halve dt and it shrinks 4-fold.",
        ("symplectic_euler", 2.0): "symplectic Euler is only first order: its shadow Hamiltonian is H + O(dt).",
        ("symplectic_euler", 0.0): "symplectic Euler has no drift, but its bounded oscillation still shrinks "
                                   "linearly with dt.",
    }
    problems = []
    for integrator, val in got.items():
        if abs(val - expected[integrator]) > 1e-9:
            hint = hints.get((integrator, round(val)), "think of the order of the method and its shadow Hamiltonian.")
            problems.append(f"for {integrator} you answered {val:g}: {hint}")
    if problems:
        return CheckResult(name, False, problems)
    messages = ["Correct: Verlet's energy error oscillates with amplitude ~ dt^2, symplectic Euler's ~ dt."]
    if measure:
        for integrator in ("velocity_verlet", "symplectic_euler"):
            fit = verlet_energy_scaling((0.2, 0.1, 0.05), n_periods=5, integrator=integrator)
            messages.append(f"measured on the oscillator: {integrator} peak-to-peak energy error ~ dt^{fit.slope:.2f}")
    return CheckResult(name, True, messages)


@checker("Exercise 2.1: amplification matrix of symplectic Euler")
def check_symplectic_euler_matrix(fn: Callable[[float], Any]) -> CheckResult:
    """Compare ``fn(h)`` with the matrix measured by applying the core's SymplecticEuler step to (1,0) and (0,1)."""
    name = "Exercise 2.1: amplification matrix of symplectic Euler"
    for h in (0.1, 0.7, 1.5, 2.5):
        ok, value, msg = call_student_function(name, fn, h)
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            mat = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"symplectic_euler_matrix({h}) returned {value!r}; return a 2 x 2 array"])
        if mat.shape != (2, 2):
            return CheckResult(name, False, [f"symplectic_euler_matrix({h}) has shape {mat.shape}; it must be 2 x 2 "
                                             "(new (x, v) = M @ (x, v))"])
        ref = amplification_matrix("symplectic_euler", h)
        if np.allclose(mat, ref, rtol=1e-9, atol=1e-12):
            continue
        hint = "compare row by row: new x = M[0] @ (x, v), new v = M[1] @ (x, v), with omega = 1."
        if np.allclose(mat, ref.T, atol=1e-12):
            hint = "rows and columns are swapped: the FIRST ROW gives the new x from (x, v)."
        elif np.allclose(mat, analytic_amplification_matrix("euler", h), atol=1e-12):
            hint = ("that is explicit Euler's matrix (det 1 + h^2). Symplectic Euler kicks first, v' = v - h x, and "
                    "then drifts with the NEW velocity: x' = x + h v'.")
        elif np.allclose(mat, analytic_amplification_matrix("velocity_verlet", h), atol=1e-12):
            hint = "that is velocity Verlet's matrix (half kicks); symplectic Euler does one full kick, then one drift."
        elif np.allclose(mat, np.array([[1.0, h], [-h, 1.0 - h * h]]), atol=1e-12):
            hint = ("that is the drift-then-kick variant (also symplectic); the core's SymplecticEuler kicks first: "
                    "v' = v - h x, x' = x + h v'.")
        return CheckResult(name, False, [f"at h = {h} you returned {_fmt(mat)}, the core's "
                                         f"step gives {_fmt(ref)}: {hint}"])
    rho = [spectral_radius(amplification_matrix("symplectic_euler", h)) for h in (1.9, 2.1)]
    return CheckResult(name, True, [
        "Matches the matrix measured from the core's step at h = 0.1, 0.7, 1.5 and 2.5.",
        f"det M = 1 (area preserving) and trace 2 - h^2: |trace| <= 2 exactly while h <= 2; spectral radius "
        f"{rho[0]:.3f} at h = 1.9, {rho[1]:.3f} at h = 2.1."])
