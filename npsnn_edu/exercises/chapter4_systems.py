"""Self-checks for chapter 4's going-further notebook 04c (a system of your own, and when to trust the answer).

Each check calls the student's function, never raises and never prints the solution; each usual mistake gets its
own hint.  tests/test_exercises_ch4_systems.py feeds every check a correct answer, the untouched stub and its
catalogue of wrong answers.

Exercises
---------
4c.1 ``my_double_well(x0, v0, t_end)``: the problem m x'' = F(x) of one particle (m = 1) in the core's double well
     with barrier height 2 (epsilon) and minima at x = +-1 (sigma), started at x0 with velocity v0, over
     [0, t_end], built with ``NewtonProblem.from_potential``.
4c.2 ``trust_forward_output(x_net, x_verlet, x0, tol)``: the forward-output check by hand: the relative L2 error
     of a network's trajectory against a fine-step velocity-Verlet run, relative to the MOTION
     (||x_net - x_verlet|| / ||x_verlet - x0||, over all times and coordinates), and whether it is within ``tol``.
     Returns ``(error, trusted)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..potentials import DoubleWell
from .feedback import CheckResult, call_student_function, checker, result

BARRIER = 2.0
X_MIN = 1.0
_CASES_4C1 = ((1.2, 0.0, 3.0), (0.0, 2.5, 5.0), (-1.1, 0.3, 2.0))


@checker("Exercise 4c.1: a double well of your own")
def check_my_double_well(fn: Any) -> CheckResult:
    """Expect ``fn(x0, v0, t_end)`` -> a :class:`~npsnn_edu.spiking.NewtonProblem` for one particle of mass 1 in
    ``DoubleWell(barrier=2, x_min=1)`` started at ``x0`` (sigma) with velocity ``v0`` (sigma / tau), window
    ``t_end`` (tau)."""
    from ..spiking import NewtonProblem

    name = "Exercise 4c.1: a double well of your own"
    for x0, v0, t_end in _CASES_4C1:
        ok, prob, msg = call_student_function(name, fn, x0, v0, t_end)
        if not ok:
            return CheckResult(name, False, [msg])
        case = f"for x0 = {x0}, v0 = {v0}, t_end = {t_end}"
        if not isinstance(prob, NewtonProblem):
            return CheckResult(name, False, [f"{case} your function returned a {type(prob).__name__}; return the "
                                             "problem object that NewtonProblem.from_potential builds"])
        pot = prob.potential
        if not isinstance(pot, DoubleWell):
            return CheckResult(name, False, [f"{case} the potential is {type(pot).__name__}: the task asks for the "
                                             "core's quartic double well (npsnn_edu.potentials)"])
        if not np.isclose(pot.barrier, BARRIER) or not np.isclose(pot.x_min, X_MIN):
            hint = (" (that is the default: give the barrier height explicitly)" if np.isclose(pot.barrier, 1.0)
                    else "")
            return CheckResult(name, False, [f"{case} your double well has barrier {pot.barrier:g} and minima at "
                                             f"+-{pot.x_min:g}; read the task's barrier height and minima again"
                                             f"{hint}"])
        got_x, got_v = float(np.ravel(prob.x0)[0]), float(np.ravel(prob.v0)[0])
        if prob.x0.shape != (1, 1):
            return CheckResult(name, False, [f"{case} x0 has shape {prob.x0.shape}: one particle in 1D"])
        if np.isclose(got_x, v0) and np.isclose(got_v, x0) and not np.isclose(x0, v0):
            return CheckResult(name, False, [f"{case} the start position and velocity are swapped: check the order "
                                             "of the arguments you pass"])
        if not (np.isclose(got_x, x0) and np.isclose(got_v, v0)):
            return CheckResult(name, False, [f"{case} the problem starts at x0 = {got_x:g}, v0 = {got_v:g}: use the "
                                             "arguments of your function, not fixed numbers"])
        if not np.isclose(prob.t_end, t_end):
            return CheckResult(name, False, [f"{case} the window is t_end = {prob.t_end:g}: pass your function's "
                                             "t_end on"])
        if not np.allclose(prob.masses, 1.0):
            return CheckResult(name, False, [f"{case} the mass is {prob.masses.tolist()}: the task uses m = 1"])
    return CheckResult(name, True, ["Your problem matches the task for every start tried. Train on it next, and "
                                    "let the check decide whether to trust the result."])


def _reference_check(x_net: np.ndarray, x_verlet: np.ndarray, x0: np.ndarray, tol: float) -> tuple[float, bool]:
    err = float(np.linalg.norm(x_net - x_verlet) / np.linalg.norm(x_verlet - x0[None]))
    return err, err <= tol


def _cases_4c2() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, float]]:
    t = np.linspace(0.0, 6.0, 301)
    motion = (1.0 + 0.5 * np.cos(2.0 * t))[:, None, None]
    x0 = motion[0].copy()
    two = np.stack([np.cos(t) + 2.0, 0.3 * np.sin(3 * t) - 1.0], 1)[:, :, None]
    rng = np.random.default_rng(3)
    return [
        ("a near-perfect network", motion + 1e-4 * rng.normal(size=motion.shape), motion, x0, 0.05),
        ("a network that never leaves x0", np.broadcast_to(x0, motion.shape).copy(), motion, x0, 0.05),
        ("a network 20% off the motion", x0 + 1.2 * (motion - x0), motion, x0, 0.1),
        ("two particles, phase-shifted", np.stack([np.cos(t + 0.1) + 2.0, 0.3 * np.sin(3 * t + 0.1) - 1.0], 1)[
            :, :, None], two, two[0].copy(), 0.05),
    ]


@checker("Exercise 4c.2: when to trust a trained network")
def check_trust_forward_output(fn: Any) -> CheckResult:
    """Expect ``fn(x_net, x_verlet, x0, tol)`` -> ``(error, trusted)`` with error = ||x_net - x_verlet|| /
    ||x_verlet - x0|| over all times and coordinates (arrays ``(T, N, D)``, x0 ``(N, D)``) and trusted =
    error <= tol."""
    name = "Exercise 4c.2: when to trust a trained network"
    checks = []
    for label, x_net, x_ver, x0, tol in _cases_4c2():
        ok, out, msg = call_student_function(name, fn, x_net.copy(), x_ver.copy(), x0.copy(), tol)
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            err, trusted = out
            err = float(err)
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"return two things, the error (a number) and the verdict (True or "
                                             f"False); got {type(out).__name__}"])
        want, want_trust = _reference_check(x_net, x_ver, x0, tol)
        diff = x_net - x_ver
        if not np.isclose(err, want, rtol=1e-6, atol=1e-12):
            if np.isclose(err, np.linalg.norm(diff) / np.linalg.norm(x_ver), rtol=1e-6):
                hint = ("you divide by the size of the reference trajectory; divide by the size of its MOTION "
                        "(its displacement from x0), or a network that never moves can look accurate")
            elif np.isclose(err, want**2, rtol=1e-6):
                hint = "your error is the square of the expected one: take the square root of the sums of squares"
            elif np.isclose(err, np.max(np.abs(diff)) / np.max(np.abs(x_ver - x0[None])), rtol=1e-6):
                hint = "you use the largest deviation; the check uses the L2 norm over all times and coordinates"
            elif np.isclose(err, np.linalg.norm(diff) / np.sqrt(diff.size), rtol=1e-6):
                hint = "that is an absolute RMS error; the check is relative (divided by the size of the motion)"
            else:
                hint = f"your error is {err:.4g}, the expected one {want:.4g}"
            checks.append((False, f"{label}: {hint}"))
            break
        if bool(trusted) != want_trust:
            word = "trusted" if trusted else "not trusted"
            checks.append((False, f"{label}: error {err:.3g} with tolerance {tol:g}, and you say {word}: trust a "
                                  "result only when its error is at most the tolerance"))
            break
    return result(name, checks, "Your check agrees with the kit's for every case: it names the wrong answers that a "
                                "small training loss hides.")
