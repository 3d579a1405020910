"""Chapter 4 self-checks: right answers pass, stubs and wrong answers get NOT YET (never an exception)."""
from __future__ import annotations

import numpy as np

from npsnn_edu.exercises.chapter4 import (check_derivatives_are_honest, check_harmonic_residual,
                                          check_second_derivative_fd)


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
    good = lambda vm, vf, rtol=0.05: bool(np.max(np.abs(vm - vf)) <= rtol * max(np.max(np.abs(vf)), 1e-12))
    assert check_derivatives_are_honest(good)
    assert not check_derivatives_are_honest(lambda vm, vf, rtol=0.05: True)
    assert not check_derivatives_are_honest(lambda vm, vf, rtol=0.05: bool(np.max(np.abs(vm - vf)) <= 0.05))
    assert not check_derivatives_are_honest(stub)
