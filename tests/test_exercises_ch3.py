"""Chapter-3 self-checks: pass correct solutions, reject wrong ones and stubs, never raise."""
import numpy as np

from npsnn_edu.exercises.chapter3 import (check_crash_prediction, check_posterior_mean, check_prior_constant,
                                          check_rbf_kernel)


def good_rbf(A, B, lengthscale):
    d2 = ((np.asarray(A)[:, None, :] - np.asarray(B)[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * lengthscale**2))


def stub(*args, **kwargs):
    raise NotImplementedError()


def test_rbf_check():
    assert check_rbf_kernel(good_rbf).passed
    assert not check_rbf_kernel(lambda A, B, l: np.exp(-((np.asarray(A)[:, None] - np.asarray(B)[None]) ** 2)
                                                        .sum(-1) / l**2)).passed  # factor 2 missing
    r = check_rbf_kernel(stub)
    assert not r.passed and "NotImplementedError" in str(r)
    assert not check_rbf_kernel(lambda A, B, l: np.zeros((2, 2))).passed
    assert not check_rbf_kernel(None).passed


def good_prior(name, E, symbols, atom_energies):
    return {"MF1": 0.0, "MF2": float(np.mean(E)), "MF3": float(np.max(E)),
            "MF5": float(sum(atom_energies[s] for s in symbols))}[name]


def test_prior_check():
    assert check_prior_constant(good_prior).passed
    wrong = lambda name, E, s, ae: float(sum(ae.values())) if name == "MF5" else good_prior(name, E, s, ae)  # noqa: E731
    r = check_prior_constant(wrong)
    assert not r.passed and "MF5" in str(r)
    assert not check_prior_constant(stub).passed
    assert not check_prior_constant(lambda *a: "oops").passed


def good_posterior(K, ks, y, m, ms, noise):
    return ms + ks @ np.linalg.solve(K + noise * np.eye(len(y)), y - m)


def test_posterior_check():
    assert check_posterior_mean(good_posterior).passed
    no_prior = lambda K, ks, y, m, ms, noise: ks @ np.linalg.solve(K + noise * np.eye(len(y)), y)  # noqa: E731
    assert not check_posterior_mean(no_prior).passed
    assert not check_posterior_mean(stub).passed


def test_crash_prediction_check():
    measured = {"MF2": 1.0, "MF5": 0.0}
    assert check_crash_prediction({"MF2": True, "MF5": False}, measured).passed
    assert not check_crash_prediction({"MF2": False, "MF5": False}, measured).passed
    assert not check_crash_prediction({"MF2": True}, measured).passed
    assert not check_crash_prediction(stub, measured).passed
    assert check_crash_prediction(lambda: {"MF2": True, "MF5": False}, measured).passed
    assert not check_crash_prediction("MF5", measured).passed
