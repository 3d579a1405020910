"""Self-checks of notebook 04c: a correct answer passes, an untouched stub gets NOT YET, each typical mistake gets
its hint, the solution is never printed."""
from __future__ import annotations

import numpy as np
import pytest

from npsnn_edu.exercises.chapter4_systems import check_my_double_well, check_trust_forward_output
from npsnn_edu.potentials import DoubleWell, Harmonic
from npsnn_edu.spiking import NewtonProblem


def good_well(x0, v0, t_end):
    return NewtonProblem.from_potential(DoubleWell(barrier=2.0, x_min=1.0), x0=x0, v0=v0, t_end=t_end)


def good_trust(x_net, x_verlet, x0, tol):
    err = np.linalg.norm(x_net - x_verlet) / np.linalg.norm(x_verlet - x0[None])
    return float(err), bool(err <= tol)


def stub(*args):
    raise NotImplementedError()


def test_correct_answers_pass_and_stubs_do_not():
    assert check_my_double_well(good_well) and check_trust_forward_output(good_trust)
    for check in (check_my_double_well, check_trust_forward_output):
        out = check(stub)
        assert not out and "NOT YET" in str(out) and "NotImplementedError" in str(out)
    assert not check_my_double_well(42) and "expected a function" in str(check_my_double_well(42))


@pytest.mark.parametrize("wrong, hint", [
    (lambda x0, v0, t: NewtonProblem.from_potential(DoubleWell(), x0=x0, v0=v0, t_end=t), "the default"),
    (lambda x0, v0, t: NewtonProblem.from_potential(DoubleWell(barrier=2.0), x0=v0, v0=x0, t_end=t), "swapped"),
    (lambda x0, v0, t: NewtonProblem.from_potential(DoubleWell(barrier=2.0), x0=1.0, v0=0.5, t_end=t),
     "not fixed numbers"),
    (lambda x0, v0, t: NewtonProblem.from_potential(DoubleWell(barrier=2.0), x0=x0, v0=v0, t_end=10.0), "t_end on"),
    (lambda x0, v0, t: NewtonProblem.from_potential(Harmonic(k=2.0), x0=x0, v0=v0, t_end=t), "quartic double well"),
    (lambda x0, v0, t: NewtonProblem.from_potential(DoubleWell(barrier=2.0), x0=x0, v0=v0, t_end=t, masses=2.0),
     "m = 1"),
    (lambda x0, v0, t: DoubleWell(barrier=2.0), "returned a DoubleWell"),
    (lambda x0, v0, t: NewtonProblem.from_potential(DoubleWell(barrier=2.0, x_min=2.0), x0=x0, v0=v0, t_end=t),
     "minima"),
])
def test_my_double_well_mistakes_get_their_hint(wrong, hint):
    out = check_my_double_well(wrong)
    assert not out and hint in str(out), str(out)
    assert "from_potential(DoubleWell(barrier=2" not in str(out)  # the solution is never printed


def _norm(a):
    return np.linalg.norm(a)


@pytest.mark.parametrize("wrong, hint", [
    (lambda xn, xv, x0, tol: (_norm(xn - xv) / _norm(xv), _norm(xn - xv) / _norm(xv) <= tol), "MOTION"),
    (lambda xn, xv, x0, tol: ((_norm(xn - xv) / _norm(xv - x0)) ** 2, True), "square root"),
    (lambda xn, xv, x0, tol: (np.max(np.abs(xn - xv)) / np.max(np.abs(xv - x0)), True), "largest deviation"),
    (lambda xn, xv, x0, tol: (_norm(xn - xv) / np.sqrt((xn - xv).size), True), "absolute RMS"),
    (lambda xn, xv, x0, tol: (good_trust(xn, xv, x0, tol)[0], not good_trust(xn, xv, x0, tol)[1]), "at most"),
    (lambda xn, xv, x0, tol: good_trust(xn, xv, x0, tol)[0], "return two things"),
    (lambda xn, xv, x0, tol: (0.5, True), "expected one"),
])
def test_trust_mistakes_get_their_hint(wrong, hint):
    out = check_trust_forward_output(wrong)
    assert not out and hint in str(out), str(out)
    assert "linalg.norm" not in str(out)
