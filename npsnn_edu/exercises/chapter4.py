"""Self-checks for chapter 4 (spiking PINNs). Each check calls the student's function and never raises.

Every check recognises the usual mistakes of its exercise (sign, missing factor, one-sided or wrongly scaled
difference, a graph that was not kept, missing initial-condition rows, the kit's own solver used as a shortcut)
and answers each with a hint; no message writes out the solution. tests/test_exercises_ch4.py feeds every check
its catalogue of wrong answers and asserts the hint.

Exercises
---------
4.1 ``pinn_residual(x_fn, t, omega)`` (lab): the physics residual x'' + omega^2 x of a network output, with the
    second derivative taken by automatic differentiation (``torch.autograd.grad``).
4.2 ``derivatives_agree(x_fn, v_reported, t, h, rtol)`` (lab, predict then run): does a reported velocity agree
    with central finite differences of the FORWARD output? (the pitfall detector, applied to two networks).
4.3 ``kernel_coefficients_lstsq(kernel, t, omega, x0, v0, w_ic)`` (lab): the basis optimum by hand - the
    least-squares coefficients of the Gaussian basis for x'' = -omega^2 x.
4.4 ``clock_snn_operations(n_knots, num_steps, n_in, hidden, n_out, n_queries, spikes1, spikes2)`` (going further,
    04b): count the operations of one ClockSNN trajectory (MACs, synaptic accumulates, LIF updates, exponentials).
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from .feedback import CheckResult, call_student_function, checker, result


def _as_array(value: Any) -> np.ndarray:
    """A student's result as a float64 array (torch tensors are detached first)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _ref_residual_cases() -> list[tuple[str, Any, Any, float]]:
    """(description, x(t) as a torch function, exact x''(t) as a numpy function, omega)."""
    import torch

    return [
        ("x = cos(2t), omega = 2 (an exact solution)", lambda t: torch.cos(2 * t), lambda t: -4 * np.cos(2 * t), 2.0),
        ("x = t**3, omega = 1.5", lambda t: t**3, lambda t: 6 * t, 1.5),
        ("x = exp(-t) sin(3t), omega = 0.7", lambda t: torch.exp(-t) * torch.sin(3 * t),
         lambda t: np.exp(-t) * (-8 * np.sin(3 * t) - 6 * np.cos(3 * t)), 0.7),
    ]


@checker("Exercise 4.1: a PINN residual by automatic differentiation")
def check_pinn_residual(fn: Any) -> CheckResult:
    """Expect ``fn(x_fn, t, omega) -> r`` with r = x''(t) + omega^2 x(t) for x = x_fn(t), x'' by ``torch.autograd``.

    ``t`` is a float64 tensor of times (shape (n,)); ``x_fn`` maps it to positions of the same shape. The result may
    be a tensor or an array of shape (n,).
    """
    import torch

    name = "Exercise 4.1: a PINN residual by automatic differentiation"
    t_np = np.linspace(0.1, 3.0, 25)
    checks = []
    for label, x_fn, acc, omega in _ref_residual_cases():
        t = torch.tensor(t_np, dtype=torch.float64)
        ok, got, msg = call_student_function(name, fn, x_fn, t, omega)
        if not ok:
            hint = msg
            if "does not require grad" in msg or "not have a grad_fn" in msg:
                hint += (" | Hint: autograd can only differentiate what it recorded. Either t was not marked as "
                         "requiring gradients before x was computed, or the first derivative was computed without "
                         "keeping its own graph, so it cannot be differentiated a second time.")
            elif "only for scalar outputs" in msg:
                hint += (" | Hint: x holds one value per time; torch.autograd.grad needs a scalar or grad_outputs. "
                         "Each x_i depends only on its own t_i, so differentiating the sum gives every dx_i/dt_i.")
            elif "appears to not have been used" in msg:
                hint += " | Hint: differentiate with respect to the very tensor x was computed from."
            return CheckResult(name, False, [hint])
        r = _as_array(got).reshape(-1)
        tt = torch.tensor(t_np, dtype=torch.float64, requires_grad=True)
        xx = x_fn(tt)
        (vv,) = torch.autograd.grad(xx.sum(), tt, create_graph=True)
        x, v = xx.detach().numpy(), vv.detach().numpy()
        a = acc(t_np)
        want = a + omega**2 * x

        def near(candidate: np.ndarray, rtol: float = 1e-9, r: np.ndarray = r) -> bool:
            return bool(np.allclose(r, candidate, rtol=rtol, atol=rtol))

        if r.shape != t_np.shape:
            checks.append((False, f"{label}: return one residual per time ({t_np.shape}), got shape {r.shape}"))
            break
        if near(want):
            checks.append((True, ""))
            continue
        if near(a - omega**2 * x):
            hint = "check the sign of the force term: x'' = -omega^2 x, so the residual adds omega^2 x"
        elif near(a + omega * x):
            hint = "the restoring term should scale with omega squared (k/m = omega^2), not omega"
        elif near(a):
            hint = "your residual is only the acceleration: the force term is missing"
        elif near(v + omega**2 * x):
            hint = "that is the first derivative plus the force term: differentiate a second time"
        elif near(omega**2 * x):
            hint = "the second derivative is missing or zero: differentiate twice, keeping the first derivative's graph"
        elif near(want, rtol=1e-3):
            hint = ("close but not exact: this looks like a finite-difference estimate; automatic differentiation "
                    "gives x'' to machine precision")
        else:
            hint = f"your residual differs from x'' + omega^2 x by up to {np.max(np.abs(r - want)):.2e}"
        checks.append((False, f"{label}: {hint}"))
        break
    return result(name, checks or [(False, "no case was checked")],
                  "Your residual uses exact second derivatives from autograd: the core of every PINN loss.")


def _staircase(t: Any) -> Any:
    """A piecewise-constant output (what a spikes-only network gives): numpy or torch in, same out."""
    return np.floor(8 * np.asarray(t, dtype=float)) / 8


@checker("Exercise 4.2: do the reported derivatives belong to the forward output?")
def check_derivatives_agree(fn: Any) -> CheckResult:
    """Expect ``fn(x_fn, v_reported, t, h=1e-3, rtol=0.05) -> bool``: True iff

    max|v_reported - v_fd| <= rtol * max(max|v_fd|, max|v_reported|),  v_fd = (x_fn(t + h) - x_fn(t - h)) / (2 h),

    using only forward calls of ``x_fn`` (numpy arrays in and out).
    """
    name = "Exercise 4.2: do the reported derivatives belong to the forward output?"
    t = np.linspace(0.3, 5.7, 120)
    t_stairs = np.array([0.3, 0.61, 1.1, 2.05, 2.9, 3.33])  # away from the steps at multiples of 1/8
    cases = [
        ("exact derivative of a smooth output", (np.sin, np.cos(t), t, 1e-3, 0.05), True, "smooth_exact"),
        ("a staircase output whose model reports cos t", (_staircase, np.cos(t_stairs), t_stairs, 1e-3, 0.05),
         False, "staircase"),
        ("a reported velocity with the wrong sign", (np.sin, -np.cos(t), t, 1e-3, 0.05), False, "sign"),
        ("a reported velocity 3 % off, rtol = 0.05", (np.sin, 1.03 * np.cos(t), t, 1e-3, 0.05), True, "within"),
        ("x = 50 sin t with a reported velocity 3 % off, rtol = 0.05",
         (lambda s: 50 * np.sin(s), 51.5 * np.cos(t), t, 1e-3, 0.05), True, "within"),
        ("a reported velocity 3 % off, rtol = 0.01", (np.sin, 1.03 * np.cos(t), t, 1e-3, 0.01), False, "rtol"),
        ("the exact derivative of x = 2 t^2 checked with a coarse step h = 0.2",
         (lambda s: 2 * np.asarray(s) ** 2, 4 * t, t, 0.2, 0.01), True, "stencil"),
        ("an output flat everywhere whose model reports velocity 0", (lambda s: 0 * np.asarray(s) + 1.0,
                                                                    np.zeros_like(t), t, 1e-3, 0.05), True, "zero"),
    ]
    hints = {
        "smooth_exact": "the exact derivative of x = sin t is cos t, so this should be True: compare with the velocity "
                        "of the forward output estimated by a difference quotient (did you divide by the right step?)",
        "staircase": "the forward output is flat between steps (its difference quotient is 0) while the model "
                     "reports cos t: that is the pitfall, so return False",
        "sign": "the reported velocity has the wrong sign: compare signed values (the size of the difference), "
                "not absolute values",
        "within": "a 3 % difference is inside rtol = 0.05: scale the tolerance by the size of the velocities",
        "rtol": "with rtol = 0.01 a 3 % difference is too much: use the rtol argument",
        "stencil": "with a coarse step your difference quotient is not accurate enough: use the symmetric "
                   "(central) difference, whose error falls as h squared and vanishes for a parabola",
        "zero": "both velocities are exactly 0 here: guard the scale so that 0 <= rtol * 0 counts as agreement",
    }
    checks = []
    for label, args, want, key in cases:
        ok, got, msg = call_student_function(name, fn, *args)
        if not ok:
            return CheckResult(name, False, [msg])
        if not isinstance(got, (bool, np.bool_)):
            return CheckResult(name, False, [f"return True or False, got {type(got).__name__}"])
        if bool(got) != want:
            checks.append((False, f"{label}: expected {want}, you returned {bool(got)}. {hints[key]}"))
    return result(name, checks, "Your check tells exact derivatives from surrogate artefacts, from the forward "
                                "output alone.")


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


@checker("Exercise 4.3: the basis optimum by least squares")
def check_kernel_coefficients_lstsq(fn: Any) -> CheckResult:
    """Expect ``fn(kernel, t, omega, x0, v0, w_ic=10.0) -> y`` (K,) minimising

    sum_i (x''(t_i) + omega^2 x(t_i))^2 + w_ic ((x(0) - x0)^2 + (x'(0) - v0)^2),  x(t) = x0 + sum_k y_k G(t - t_k),

    where ``kernel(t, order)`` returns the (len(t), K) matrix of G^(order)(t_i - t_k).
    """
    name = "Exercise 4.3: the basis optimum by least squares"
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
            checks.append((False, "your x(t) satisfies the equation but misses the initial conditions: the system "
                                  "needs one row that pins x(0) and one that pins x'(0), each weighted by "
                                  "sqrt(w_ic) (x0 is already part of x(t) through the constant offset)"))
            break
        if ic < 1e-2 and res > 1e-2:
            checks.append((False, "the initial conditions hold but the residual x'' + omega^2 x is large: check the "
                                  "sign and the power of omega in the equation rows, and that the constant offset "
                                  "x0 (part of x, not of the basis) is accounted for on the right-hand side"))
            break
        checks.append((err < 1e-3, f"for omega = {omega}, x0 = {x0}, v0 = {v0} the relative L2 error of x(t) against "
                                   f"the analytic solution is {err:.1e}; the basis optimum reaches below 1e-4: are the "
                                   "initial-condition rows weighted and is the offset x0 included?"))
    return result(name, checks, "Your free-coefficient least squares is the lowest loss any model with this basis, "
                                "spiking or not, can reach.")


@checker("Exercise 4.4: count a ClockSNN's operations")
def check_clock_snn_operations(fn: Any) -> CheckResult:
    """Expect ``fn(n_knots, num_steps, n_in, hidden, n_out, n_queries, spikes1, spikes2) -> dict`` with keys
    ``mac``, ``ac``, ``neuron``, ``nonlinear`` for one trajectory of a two-layer ClockSNN with n_freq = 0
    (see the counting rules in the notebook); spikes1 / spikes2 are the total spike counts of layers 1 and 2.
    """
    name = "Exercise 4.4: count a ClockSNN's operations"
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
