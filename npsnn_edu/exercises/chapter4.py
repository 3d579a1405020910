"""Self-checks for chapter 4 (spiking PINNs). Each check calls the student's function and never raises.

Exercises
---------
1. ``harmonic_residual(x, a, k, m)``: the physics residual m a + k x of the harmonic oscillator.
2. ``second_derivative_fd(x_fn, t, h)``: central finite-difference second derivative of a FORWARD output.
3. ``derivatives_are_honest(v_model, v_fd, rtol)``: spot the pitfall - do reported derivatives agree with
   finite differences of the forward output?
4. ``kernel_coefficients_lstsq(kernel, t, omega, x0, v0, w_ic)``: the kernel-only ablation by hand - the
   least-squares coefficients of the Gaussian basis for x'' = -omega^2 x (the ceiling of the NP-SNN).
5. ``clock_snn_operations(n_knots, num_steps, n_in, hidden, n_out, n_queries, spikes1, spikes2)``: count the
   operations of one ClockSNN trajectory (MACs, synaptic accumulates, LIF updates, kernel exponentials).
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
    def staircase(s: Any) -> np.ndarray:  # a piecewise-constant "spiking" output
        return np.floor(4 * np.asarray(s)) / 4

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


def _gauss(knots: np.ndarray, sigma: float):
    def kernel(t: Any, order: int = 0) -> np.ndarray:
        u = np.asarray(t, dtype=float).reshape(-1, 1) - knots[None, :]
        g = np.exp(-0.5 * u * u / sigma**2)
        if order == 0:
            return g
        if order == 1:
            return -u / sigma**2 * g
        if order == 2:
            return (u * u / sigma**4 - 1.0 / sigma**2) * g
        raise ValueError("order must be 0, 1 or 2")
    return kernel


def _kit_blocked(name: str):
    """Context manager: the kit's own basis solver raises while a student's function runs (no shortcut)."""
    import contextlib

    @contextlib.contextmanager
    def block():
        from ..spiking import compare

        saved = compare.kernel_lstsq

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"{name} asks for your own least-squares system: build it with numpy "
                               "(np.linalg.lstsq), not npsnn_edu.spiking.compare.kernel_lstsq")

        compare.kernel_lstsq = refuse
        try:
            yield
        finally:
            compare.kernel_lstsq = saved
    return block()


@checker("Exercise 4.4: the kernel-only ablation by least squares")
def check_kernel_coefficients_lstsq(fn: Any) -> CheckResult:
    """Expect ``fn(kernel, t, omega, x0, v0, w_ic=10.0) -> y`` (K,) minimising

    sum_i (x''(t_i) + omega^2 x(t_i))^2 + w_ic ((x(0) - x0)^2 + (x'(0) - v0)^2),  x(t) = x0 + sum_k y_k G(t - t_k),

    where ``kernel(t, order)`` returns the (len(t), K) matrix of G^(order)(t_i - t_k).
    """
    name = "Exercise 4.4: the kernel-only ablation by least squares"
    checks = []
    for omega, x0, v0, t_end, n_knots in ((1.7, 0.8, -0.6, 5.0, 30), (0.6, -1.2, 0.4, 12.0, 26)):
        h = t_end / (n_knots - 1)
        knots = h * (np.arange(n_knots + 6) - 3)
        kernel = _gauss(knots, h)
        t = (np.arange(8 * n_knots) + 0.5) * t_end / (8 * n_knots)
        with _kit_blocked(name):
            ok, y, msg = call_student_function(name, fn, kernel, t, omega, x0, v0, 10.0)
        if not ok:
            return CheckResult(name, False, [msg])
        y = np.asarray(y, dtype=float).reshape(-1)
        if y.shape != (len(knots),):
            return CheckResult(name, False, [f"return one coefficient per knot, shape ({len(knots)},), got {y.shape}"])
        tt = np.linspace(0, t_end, 401)
        x = x0 + kernel(tt, 0) @ y
        a = kernel(tt, 2) @ y
        x_ref = x0 * np.cos(omega * tt) + v0 / omega * np.sin(omega * tt)
        scale = max(abs(x0), abs(v0) / omega)
        res = np.max(np.abs(a + omega**2 * x)) / (omega**2 * scale)
        ic = max(abs(float((kernel([0.0], 0) @ y)[0])), abs(float((kernel([0.0], 1) @ y)[0]) - v0) / omega) / scale
        err = np.linalg.norm(x - x_ref) / np.linalg.norm(x_ref)
        if res < 1e-2 and ic > 1e-2:
            checks.append((False, "your x(t) satisfies the equation but misses the initial conditions: add the two "
                                  "rows sqrt(w_ic) G(0 - t_k) y = 0 (x(0) = x0 already holds through the offset) "
                                  "and sqrt(w_ic) G'(0 - t_k) y = v0"))
            break
        if ic < 1e-2 and res > 1e-2:
            checks.append((False, "the initial conditions hold but the residual x'' + omega^2 x is large: the rows "
                                  "are G''(t_i - t_k) + omega^2 G(t_i - t_k) and the right-hand side is "
                                  "-omega^2 x0 (the constant offset x0 is part of x)"))
            break
        checks.append((err < 1e-3, f"for omega = {omega}, x0 = {x0}, v0 = {v0} the relative L2 error of x(t) against "
                                   f"the analytic solution is {err:.1e} (the basis optimum reaches < 1e-4)"))
    return result(name, checks, "Your free-coefficient least squares is the ceiling any model with this basis, "
                                "spiking or not, can reach on this loss.")


@checker("Exercise 4.5: count a ClockSNN's operations")
def check_clock_snn_operations(fn: Any) -> CheckResult:
    """Expect ``fn(n_knots, num_steps, n_in, hidden, n_out, n_queries, spikes1, spikes2) -> dict`` with keys
    ``mac``, ``ac``, ``neuron``, ``nonlinear`` for one trajectory of a two-layer ClockSNN with n_freq = 0
    (see the counting rules in the notebook); spikes1 / spikes2 are the total spike counts of layers 1 and 2.
    """
    name = "Exercise 4.5: count a ClockSNN's operations"
    import torch

    from ..spiking.energy import operation_counts
    from ..spiking.models import ClockSNN

    checks = []
    for seed, (n_knots, steps, hidden, n_out, n_q) in enumerate(((7, 5, 3, 2, 11), (9, 4, 5, 1, 23))):
        torch.manual_seed(seed)
        model = ClockSNN(np.zeros((n_out, 1)), t_end=1.0, hidden=hidden, n_freq=0, n_knots=n_knots, pad=0,
                         num_steps=steps)
        rng = np.random.default_rng(seed)
        s1 = torch.as_tensor(rng.random((steps, n_knots, hidden)) < 0.3, dtype=torch.float32)
        s2 = torch.as_tensor(rng.random((steps, n_knots, hidden)) < 0.2, dtype=torch.float32)
        model.last_spikes = [s1, s2]
        want = operation_counts(model, n_q)
        ok, got, msg = call_student_function(name, fn, n_knots, steps, 1, hidden, n_out, n_q, int(s1.sum()),
                                             int(s2.sum()))
        if not ok:
            return CheckResult(name, False, [msg])
        if not isinstance(got, dict) or not {"mac", "ac", "neuron", "nonlinear"} <= set(got):
            return CheckResult(name, False, ["return a dict with the keys 'mac', 'ac', 'neuron', 'nonlinear'"])
        g = {k: float(got[k]) for k in ("mac", "ac", "neuron", "nonlinear")}
        hints = {"mac": "MACs: fc1 once per knot (the current is held over the LIF steps), the membrane readout at "
                        "every LIF step of every knot, and the kernel sum at every query",
                 "ac": "ACs: each spike of layer 1 reaches `hidden` synapses of fc2, each spike of layer 2 reaches "
                       "`n_out` readout synapses",
                 "neuron": "LIF updates: both layers, every neuron, every LIF step, every knot",
                 "nonlinear": "exponentials: one Gaussian per query and knot (n_freq = 0: no Fourier features)"}
        for key in ("mac", "ac", "neuron", "nonlinear"):
            checks.append((g[key] == want[key], hints[key] + f" (case {seed + 1})"))
    return result(name, checks, "Your count matches the kit's counter: the energy comparison is on equal terms.")
