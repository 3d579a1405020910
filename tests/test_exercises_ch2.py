"""Chapter 2 self-checks: a correct solution passes, the untouched stub gives NOT YET (no exception),
typical wrong answers get specific feedback."""
import numpy as np
import pytest

from npsnn_edu.exercises.chapter2 import (check_energy_error_exponent, check_largest_stable_dt,
                                          check_symplectic_euler_matrix)


def stub(*args):
    raise NotImplementedError()


def test_largest_stable_dt_correct_passes_and_is_verified():
    res = check_largest_stable_dt(lambda k, m: 2.0 * np.sqrt(m / k))
    assert res.passed
    text = str(res)
    assert "[PASS]" in text and "diverged at step" in text and "bounded" in text


@pytest.mark.parametrize("wrong, phrase", [
    (lambda k, m: 2.0 * np.sqrt(k / m), "swapped"),
    (lambda k, m: 2.0 * np.pi * np.sqrt(m / k), "period"),
    (lambda k, m: np.sqrt(m / k), "factor 2"),
    (lambda k, m: 2.0 * m / k, "square"),
    (lambda k, m: 0.5, "Hint"),
])
def test_largest_stable_dt_wrong_answers(wrong, phrase):
    res = check_largest_stable_dt(wrong, verify=False)
    assert not res.passed
    assert phrase in str(res)


def test_largest_stable_dt_stub_and_garbage():
    res = check_largest_stable_dt(stub)
    assert not res.passed and "NOT YET" in str(res) and "NotImplementedError" in str(res)
    res = check_largest_stable_dt(lambda k, m: "small")
    assert not res.passed and "return one number" in str(res)
    res = check_largest_stable_dt(lambda k, m: 1 / 0)
    assert not res.passed and "ZeroDivisionError" in str(res)
    assert not check_largest_stable_dt(None).passed


def test_energy_exponent():
    right = {"velocity_verlet": 2, "symplectic_euler": 1}
    res = check_energy_error_exponent(lambda name: right[name])
    assert res.passed and "dt^2.0" in str(res)
    res = check_energy_error_exponent(lambda name: 3 if name == "velocity_verlet" else 1, measure=False)
    assert not res.passed and "LOCAL error" in str(res)
    res = check_energy_error_exponent(lambda name: 2, measure=False)
    assert not res.passed and "first order" in str(res) and "velocity_verlet" not in str(res)
    res = check_energy_error_exponent(stub)
    assert not res.passed and "NOT YET" in str(res)


def test_symplectic_euler_matrix():
    res = check_symplectic_euler_matrix(lambda h: np.array([[1 - h * h, h], [-h, 1.0]]))
    assert res.passed
    wrong = {
        "explicit Euler": lambda h: np.array([[1.0, h], [-h, 1.0]]),
        "swapped": lambda h: np.array([[1 - h * h, -h], [h, 1.0]]),
        "drift-then-kick": lambda h: np.array([[1.0, h], [-h, 1 - h * h]]),
        "Verlet": lambda h: np.array([[1 - h * h / 2, h], [-h * (1 - h * h / 4), 1 - h * h / 2]]),
        "2 x 2": lambda h: [1.0, h],
    }
    for phrase, fn in wrong.items():
        res = check_symplectic_euler_matrix(fn)
        assert not res.passed and phrase in str(res), (phrase, str(res))
    res = check_symplectic_euler_matrix(stub)
    assert not res.passed and "NOT YET" in str(res)
