"""Self-checks for chapter 4 (spiking PINNs). Each check calls the student's function and never raises.

Exercises
---------
1. ``harmonic_residual(x, a, k, m)``: the physics residual m a + k x of the harmonic oscillator.
2. ``second_derivative_fd(x_fn, t, h)``: central finite-difference second derivative of a FORWARD output.
3. ``derivatives_are_honest(v_model, v_fd, rtol)``: spot the pitfall - do reported derivatives agree with
   finite differences of the forward output?
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .feedback import CheckResult, call_student_function, checker, result


@checker("Exercise 4.1: harmonic residual")
def check_harmonic_residual(fn: Any) -> CheckResult:
    """Expect ``fn(x, a, k=1.0, m=1.0) = m * a + k * x`` (zero when m x'' = -k x holds), elementwise."""
    name = "Exercise 4.1: harmonic residual"
    t = np.linspace(0, 4 * np.pi, 50)
    ok, r_exact, msg = call_student_function(name, fn, np.cos(t), -np.cos(t), 1.0, 1.0)
    if not ok:
        return CheckResult(name, False, [msg])
    ok, r_stiff, msg = call_student_function(name, fn, np.cos(2 * t), -4 * np.cos(2 * t), 4.0, 1.0)
    ok2, r_wrong, msg2 = call_student_function(name, fn, np.cos(2 * t), -4 * np.cos(2 * t), 1.0, 1.0)
    ok3, r_mass, msg3 = call_student_function(name, fn, np.cos(t), -np.cos(t), 2.0, 2.0)
    if not (ok and ok2 and ok3):
        return CheckResult(name, False, [m for m in (msg, msg2, msg3) if m])
    r_exact, r_stiff, r_wrong, r_mass = (np.asarray(r, dtype=float) for r in (r_exact, r_stiff, r_wrong, r_mass))
    return result(name, [
        (r_exact.shape == t.shape, f"return one residual per time point (shape {t.shape}), got shape {r_exact.shape}"),
        (np.allclose(r_exact, 0, atol=1e-12), "x = cos t, a = -cos t solves x'' = -x: the residual should be 0"),
        (np.allclose(r_stiff, 0, atol=1e-12), "x = cos 2t with k = 4, m = 1 is exact: residual should be 0 (use k)"),
        (np.allclose(r_wrong, -3 * np.cos(2 * t), atol=1e-12),
         "x = cos 2t with k = m = 1 violates the equation: expected m a + k x = -3 cos 2t"),
        (np.allclose(r_mass, 0, atol=1e-12), "with k = m = 2 the residual m a + k x is still 0 (use m)"),
    ], "Your residual is zero exactly on solutions and measures the violation elsewhere.")


@checker("Exercise 4.2: finite-difference second derivative")
def check_second_derivative_fd(fn: Any) -> CheckResult:
    """Expect ``fn(x_fn, t, h) = (x_fn(t + h) - 2 x_fn(t) + x_fn(t - h)) / h**2`` using only forward calls."""
    name = "Exercise 4.2: finite-difference second derivative"
    t = np.linspace(0.5, 5.0, 40)
    ok, d2, msg = call_student_function(name, fn, np.sin, t, 1e-3)
    if not ok:
        return CheckResult(name, False, [msg])
    ok, d2_coarse, msg = call_student_function(name, fn, np.sin, t, 1e-1)
    staircase = lambda s: np.floor(4 * np.asarray(s)) / 4  # a piecewise-constant "spiking" output
    ok2, d2_stair, msg2 = call_student_function(name, fn, staircase, np.array([0.6, 1.1, 2.05]), 1e-3)
    if not (ok and ok2):
        return CheckResult(name, False, [m for m in (msg, msg2) if m])
    d2, d2_coarse, d2_stair = (np.asarray(v, dtype=float) for v in (d2, d2_coarse, d2_stair))
    err_fine = np.max(np.abs(d2 + np.sin(t)))
    err_coarse = np.max(np.abs(d2_coarse + np.sin(t)))
    return result(name, [
        (d2.shape == t.shape, f"return one value per time point (shape {t.shape}), got {d2.shape}"),
        (err_fine < 1e-5, f"for sin t the second derivative is -sin t; your max error is {err_fine:.2e} "
                          "(expected ~1e-7 with h = 1e-3): use (x(t+h) - 2 x(t) + x(t-h)) / h**2"),
        (abs(err_coarse - 0.1**2 / 12 * np.max(np.abs(np.sin(t)))) < 2e-4,
         f"with h = 0.1 the central-difference error should be about h^2/12 |x''''| = 8e-4, got {err_coarse:.2e}: "
         "use the symmetric three-point stencil"),
        (np.allclose(d2_stair, 0.0), "on a staircase (piecewise-constant output) away from the steps the forward "
                                     "output's second difference is exactly 0; only forward values may be used"),
    ], "Central differences see exactly what the network outputs, including a staircase's flat steps.")


@checker("Exercise 4.3: spot the pitfall")
def check_derivatives_are_honest(fn: Any) -> CheckResult:
    """Expect ``fn(v_model, v_fd, rtol=0.05) -> bool``: True iff max|v_model - v_fd| <= rtol * max(|v_fd|, 1e-12)."""
    name = "Exercise 4.3: spot the pitfall"
    t = np.linspace(0, 6, 200)
    v_true = -np.sin(t)
    cases = [
        ((v_true + 1e-4, v_true, 0.05), True, "derivatives equal to the finite differences (up to 1e-4) are honest"),
        ((v_true, np.zeros_like(t), 0.05), False,
         "a model reporting -sin t while its forward output is flat (finite differences 0) is the pitfall: "
         "return False (guard the scale with max(|v_fd|, 1e-12))"),
        ((v_true, np.where(t < 3, v_true, 0.0), 0.05), False,
         "half of the derivatives disagree with the forward output: return False"),
        ((1.02 * v_true, v_true, 0.05), True, "a 2 % difference is within rtol = 0.05: return True"),
        ((1.02 * v_true, v_true, 0.01), False, "with rtol = 0.01 a 2 % difference is too much: use rtol"),
    ]
    checks = []
    for args, want, msg in cases:
        ok, got, err = call_student_function(name, fn, *args)
        if not ok:
            return CheckResult(name, False, [err])
        checks.append((bool(got) == want and isinstance(got, (bool, np.bool_)), msg + f" (you returned {got!r})"))
    return result(name, checks, "You can tell an honest derivative from a surrogate artefact.")
