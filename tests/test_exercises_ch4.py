"""Chapter 4 self-checks: right answers pass, stubs and wrong answers get NOT YET (never an exception)."""
from __future__ import annotations

import numpy as np

from npsnn_edu.exercises.chapter4 import (
    check_clock_snn_operations,
    check_derivatives_are_honest,
    check_harmonic_residual,
    check_kernel_coefficients_lstsq,
    check_second_derivative_fd,
)


def stub(*args, **kwargs):
    raise NotImplementedError()


def test_harmonic_residual():
    assert check_harmonic_residual(lambda x, a, k=1.0, m=1.0: m * a + k * x)
    assert not check_harmonic_residual(lambda x, a, k=1.0, m=1.0: a + x)  # ignores k and m
    assert not check_harmonic_residual(lambda x, a, k=1.0, m=1.0: m * a - k * x)  # sign error
    r = check_harmonic_residual(stub)
    assert not r and "not written yet" in str(r)


def test_second_derivative_fd():
    assert check_second_derivative_fd(lambda f, t, h: (f(t + h) - 2 * f(t) + f(t - h)) / h**2)
    assert not check_second_derivative_fd(lambda f, t, h: (f(t + 2 * h) - 2 * f(t + h) + f(t)) / h**2)  # one-sided
    assert not check_second_derivative_fd(lambda f, t, h: -np.sin(t))  # does not use the forward output
    assert not check_second_derivative_fd(stub)
    assert not check_second_derivative_fd(lambda f, t, h: 1 / 0)  # student error -> message, no traceback
    assert not check_second_derivative_fd(None)


def test_spot_the_pitfall():
    def good(vm, vf, rtol=0.05):
        return bool(np.max(np.abs(vm - vf)) <= rtol * max(np.max(np.abs(vf)), 1e-12))

    assert check_derivatives_are_honest(good)
    assert not check_derivatives_are_honest(lambda vm, vf, rtol=0.05: True)
    assert not check_derivatives_are_honest(lambda vm, vf, rtol=0.05: bool(np.max(np.abs(vm - vf)) <= 0.05))
    assert not check_derivatives_are_honest(stub)


def lstsq_ref(kernel, t, omega, x0, v0, w_ic=10.0):
    a = np.vstack([kernel(t, 2) + omega**2 * kernel(t, 0), np.sqrt(w_ic) * kernel([0.0], 0),
                   np.sqrt(w_ic) * kernel([0.0], 1)])
    b = np.concatenate([-omega**2 * x0 * np.ones(len(t)), [0.0], [np.sqrt(w_ic) * v0]])
    return np.linalg.lstsq(a, b, rcond=None)[0]


def test_kernel_lstsq_exercise():
    assert check_kernel_coefficients_lstsq(lstsq_ref)
    r = check_kernel_coefficients_lstsq(stub)
    assert not r and "not written yet" in str(r)

    def no_ic(kernel, t, omega, x0, v0, w_ic=10.0):  # forgets the initial-condition rows
        return np.linalg.lstsq(kernel(t, 2) + omega**2 * kernel(t, 0), -omega**2 * x0 * np.ones(len(t)),
                               rcond=None)[0]
    r = check_kernel_coefficients_lstsq(no_ic)
    assert not r and "initial conditions" in str(r)

    def no_offset(kernel, t, omega, x0, v0, w_ic=10.0):  # forgets that x0 is part of x in the residual
        a = np.vstack([kernel(t, 2) + omega**2 * kernel(t, 0), np.sqrt(w_ic) * kernel([0.0], 0),
                       np.sqrt(w_ic) * kernel([0.0], 1)])
        b = np.concatenate([np.zeros(len(t)), [0.0], [np.sqrt(w_ic) * v0]])
        return np.linalg.lstsq(a, b, rcond=None)[0]
    r = check_kernel_coefficients_lstsq(no_offset)
    assert not r and "residual" in str(r)
    assert not check_kernel_coefficients_lstsq(lambda kernel, t, omega, x0, v0, w_ic=10.0: np.zeros(3))

    def shortcut(kernel, t, omega, x0, v0, w_ic=10.0):
        from npsnn_edu.spiking import compare
        return compare.kernel_lstsq("harmonic", omega=omega).model.y.detach().numpy()[:, 0]
    r = check_kernel_coefficients_lstsq(shortcut)
    assert not r and "your own" in str(r)


def ops_ref(n_knots, num_steps, n_in, hidden, n_out, n_queries, spikes1, spikes2):
    return {"mac": n_knots * n_in * hidden + num_steps * n_knots * hidden * n_out + n_queries * n_knots * n_out,
            "ac": spikes1 * hidden + spikes2 * n_out, "neuron": 2 * num_steps * n_knots * hidden,
            "nonlinear": n_queries * n_knots}


def test_operation_count_exercise():
    assert check_clock_snn_operations(ops_ref)
    assert not check_clock_snn_operations(stub)

    def fc1_every_step(*args):
        d = ops_ref(*args)
        n_knots, steps, n_in, hidden = args[:4]
        d["mac"] += (steps - 1) * n_knots * n_in * hidden
        return d
    r = check_clock_snn_operations(fc1_every_step)
    assert not r and "fc1 once per knot" in str(r)

    def no_neurons(*args):
        return {**ops_ref(*args), "neuron": 0}
    r = check_clock_snn_operations(no_neurons)
    assert not r and "LIF updates" in str(r)

    def ac_for_membrane(*args):  # charges the graded membrane readout as accumulates
        d = ops_ref(*args)
        n_knots, steps, _, hidden, n_out = args[:5]
        d["mac"] -= steps * n_knots * hidden * n_out
        d["ac"] += steps * n_knots * hidden * n_out
        return d
    r = check_clock_snn_operations(ac_for_membrane)
    assert not r and "membrane readout" in str(r)
    assert not check_clock_snn_operations(lambda *a: [1, 2])
