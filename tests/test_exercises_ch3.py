"""Chapter-3 self-checks: pass correct solutions, reject wrong ones and stubs, never raise."""
import numpy as np

from npsnn_edu.exercises.chapter3 import (
    check_crash_prediction,
    check_posterior_mean,
    check_prior_constant,
    check_prior_weight,
    check_rbf_kernel,
)


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
    return {"MF1": 0.0, "MF2": float(np.mean(E)), "median": float(np.median(E)),
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


def good_weight(K, ks, noise):
    return 1.0 - ks @ np.linalg.solve(K + noise * np.eye(len(K)), np.ones(len(K)))


def test_prior_weight_check():
    assert check_prior_weight(good_weight).passed
    r = check_prior_weight(stub)
    assert not r.passed and "NotImplementedError" in str(r)
    r = check_prior_weight(lambda K, ks, nz: 1.0 - good_weight(K, ks, nz))
    assert not r.passed and "1 minus" in str(r)
    r = check_prior_weight(lambda K, ks, nz: 1.0 - ks.sum(1))
    assert not r.passed and "solve" in str(r)
    r = check_prior_weight(lambda K, ks, nz: 1.0 - ks @ np.linalg.solve(K + 1e-12 * np.eye(len(K)), np.ones(len(K))))
    assert not r.passed and "nugget" in str(r)
    assert not check_prior_weight(lambda K, ks, nz: np.zeros(2)).passed
    assert not check_prior_weight(lambda K, ks, nz: "w").passed
    # the kit's model method is not a shortcut here: it needs a fitted GPRPotential, not (K, k*, noise)
    from npsnn_edu.gpr import GPRPotential

    assert not check_prior_weight(GPRPotential(["H", "H"]).prior_weight).passed


def test_prior_check_does_not_reveal_the_answer():
    r = check_prior_constant(lambda name, E, s, ae: 1.234)
    E = -449.5 + 0.3 * np.random.default_rng(32).normal(size=50)  # the check's hidden energies
    assert not r.passed and f"{E.mean():.4f}" not in str(r) and f"{np.median(E):.4f}" not in str(r)
