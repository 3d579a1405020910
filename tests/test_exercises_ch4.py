"""Chapter 4 self-checks: right answers pass; every usual mistake of the catalogue gets NOT YET with its own hint,
and no message writes out the solution; stubs and raising functions get a message, never an exception."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from npsnn_edu.exercises.chapter4 import (
    check_clock_snn_operations,
    check_derivatives_agree,
    check_kernel_coefficients_lstsq,
    check_pinn_residual,
)


def stub(*args, **kwargs):
    raise NotImplementedError()


def no_solution_in(text: str) -> bool:
    """No message writes out a solution: neither code nor the formula of an answer."""
    leaks = ("autograd.grad(", "create_graph=True", "(x_fn(t + h)", "/ (2 * h)", "/ (2h)", "np.linalg.lstsq(",
             "kernel(t, 2) +", "G''(t_i - t_k) + omega^2", "sqrt(w_ic) * kernel", "return np.", "return (")
    return not any(leak in text for leak in leaks)


# ---------------------------------------------------------------------------------------- 4.1 autograd residual
def residual_ref(x_fn, t, omega):
    t = t.detach().clone().requires_grad_(True)
    x = x_fn(t)
    (v,) = torch.autograd.grad(x.sum(), t, create_graph=True)
    (a,) = torch.autograd.grad(v.sum(), t, create_graph=True)
    return a + omega**2 * x


def _second(x_fn, t, graph=True):
    t = t.detach().clone().requires_grad_(True)
    x = x_fn(t)
    (v,) = torch.autograd.grad(x.sum(), t, create_graph=graph)
    (a,) = torch.autograd.grad(v.sum(), t, create_graph=True)
    return x, v, a


RESIDUAL_MISTAKES = {
    "sign": (lambda f, t, w: (lambda x, v, a: a - w**2 * x)(*_second(f, t)), "sign"),
    "omega not squared": (lambda f, t, w: (lambda x, v, a: a + w * x)(*_second(f, t)), "omega squared"),
    "no force term": (lambda f, t, w: _second(f, t)[2], "force term is missing"),
    "first derivative only": (lambda f, t, w: (lambda x, v, a: v + w**2 * x)(*_second(f, t)), "second time"),
    "graph not kept": (lambda f, t, w: _second(f, t, graph=False)[2] + w**2 * f(t), "own graph"),
    "t not marked for gradients": (
        lambda f, t, w: torch.autograd.grad(f(t).sum(), t, create_graph=True)[0], "requiring gradients"),
    "non-scalar grad": (
        lambda f, t, w: torch.autograd.grad(f(t.requires_grad_(True)), t)[0], "one value per time"),
    "finite differences": (
        lambda f, t, w: (f(t + 1e-3) - 2 * f(t) + f(t - 1e-3)) / 1e-6 + w**2 * f(t), "finite-difference"),
    "wrong shape": (lambda f, t, w: residual_ref(f, t, w)[:3], "one residual per time"),
}


def test_pinn_residual_passes_and_accepts_numpy_results():
    assert check_pinn_residual(residual_ref)
    assert check_pinn_residual(lambda f, t, w: residual_ref(f, t, w).detach().numpy())
    r = check_pinn_residual(stub)
    assert not r and "not written yet" in str(r)


@pytest.mark.parametrize("mistake", sorted(RESIDUAL_MISTAKES))
def test_pinn_residual_recognises_each_usual_mistake(mistake):
    fn, hint = RESIDUAL_MISTAKES[mistake]
    r = check_pinn_residual(fn)
    assert not r, mistake
    assert hint in str(r), (mistake, str(r))
    assert no_solution_in(str(r)), str(r)


# ---------------------------------------------------------------------------------------- 4.2 derivative check
def agree_ref(x_fn, v_reported, t, h=1e-3, rtol=0.05):
    v_fd = (x_fn(t + h) - x_fn(t - h)) / (2 * h)
    scale = max(np.max(np.abs(v_fd)), np.max(np.abs(v_reported)))
    return bool(np.max(np.abs(v_reported - v_fd)) <= rtol * scale)


AGREE_MISTAKES = {
    "always True": (lambda x_fn, v, t, h=1e-3, rtol=0.05: True, "that is the pitfall"),
    "one-sided difference": (
        lambda x_fn, v, t, h=1e-3, rtol=0.05: bool(np.max(np.abs(v - (x_fn(t + h) - x_fn(t)) / h))
                                                    <= rtol * max(np.max(np.abs(v)), 1e-300)), "central"),
    "divides by h, not 2h": (
        lambda x_fn, v, t, h=1e-3, rtol=0.05: bool(np.max(np.abs(v - (x_fn(t + h) - x_fn(t - h)) / h))
                                                    <= rtol * np.max(np.abs(v))), "right step"),
    "absolute values": (
        lambda x_fn, v, t, h=1e-3, rtol=0.05: bool(np.max(np.abs(np.abs(v) - np.abs((x_fn(t + h) - x_fn(t - h))
                                                                                      / (2 * h))))
                                                    <= rtol * np.max(np.abs(v))), "signed"),
    "ignores rtol": (lambda x_fn, v, t, h=1e-3, rtol=0.05: agree_ref(x_fn, v, t, h, 0.05), "rtol argument"),
    "absolute tolerance": (
        lambda x_fn, v, t, h=1e-3, rtol=0.05: bool(np.max(np.abs(v - (x_fn(t + h) - x_fn(t - h)) / (2 * h)))
                                                    <= rtol), "scale the tolerance"),
    "no zero guard": (
        lambda x_fn, v, t, h=1e-3, rtol=0.05: bool(np.max(np.abs(v - (x_fn(t + h) - x_fn(t - h)) / (2 * h)))
                                                    < rtol * np.max(np.abs(v))), "guard the scale"),
}


def test_derivatives_agree_passes_the_reference():
    assert check_derivatives_agree(agree_ref)
    assert not check_derivatives_agree(stub)
    r = check_derivatives_agree(lambda *a, **k: 1)
    assert not r and "True or False" in str(r)


@pytest.mark.parametrize("mistake", sorted(AGREE_MISTAKES))
def test_derivatives_agree_recognises_each_usual_mistake(mistake):
    fn, hint = AGREE_MISTAKES[mistake]
    r = check_derivatives_agree(fn)
    assert not r, mistake
    assert hint in str(r), (mistake, str(r))
    assert no_solution_in(str(r)), str(r)


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


LSTSQ_MISTAKES = {
    "sign in the equation rows": ("sign", -1.0, 2, True, True),
    "omega not squared": ("power of omega", 1.0, 1, True, True),
    "no initial-condition rows": ("initial conditions", 1.0, 2, False, True),
    "offset x0 forgotten": ("offset", 1.0, 2, True, False),
}


@pytest.mark.parametrize("mistake", sorted(LSTSQ_MISTAKES))
def test_kernel_lstsq_recognises_each_usual_mistake(mistake):
    hint, sign, power, with_ic, with_offset = LSTSQ_MISTAKES[mistake]

    def wrong(kernel, t, omega, x0, v0, w_ic=10.0):
        rows = [kernel(t, 2) + sign * omega**power * kernel(t, 0)]
        rhs = [-sign * omega**power * x0 * np.ones(len(t)) if with_offset else np.zeros(len(t))]
        if with_ic:
            rows += [np.sqrt(w_ic) * kernel([0.0], 0), np.sqrt(w_ic) * kernel([0.0], 1)]
            rhs += [[0.0], [np.sqrt(w_ic) * v0]]
        return np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)[0]

    r = check_kernel_coefficients_lstsq(wrong)
    assert not r and hint in str(r), (mistake, str(r))
    assert no_solution_in(str(r)), str(r)


def test_operation_count_hints_never_write_out_the_formula():
    def all_wrong(*args):
        return {"mac": 0, "ac": 0, "neuron": 0, "nonlinear": 0}
    r = check_clock_snn_operations(all_wrong)
    assert not r and no_solution_in(str(r))
    assert all(key in str(r) for key in ("MACs", "ACs", "LIF updates", "exponentials"))
