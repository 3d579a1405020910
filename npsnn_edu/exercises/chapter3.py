"""Self-checks for the chapter-3 exercises (GP potentials and prior means).

Each check calls the student's function through :func:`call_student_function` (an untouched stub gives a
NOT YET message, never a traceback) and compares with an independent reference on fresh random input.

1. :func:`check_rbf_kernel`: ``rbf_kernel(A, B, lengthscale)`` -> matrix ``exp(-|a - b|^2 / (2 l^2))``.
2. :func:`check_prior_constant`: ``prior_constant(name, train_energies, symbols, atom_energies)`` for
   "MF1" (zero), "MF2" (mean), "median", "MF5" (sum of isolated-atom energies).
2b. :func:`check_prior_weight`: ``prior_weight(K, k_star, noise)`` -> ``w = 1 - k_star^T (K + noise I)^-1 1``.
3. :func:`check_posterior_mean`: ``posterior_mean(K, k_star, y, m_train, m_star, noise)`` -> GP mean
   ``m_star + k_star^T (K + noise I)^-1 (y - m_train)``.
4. :func:`check_crash_prediction`: which priors crash at a short lengthscale (a prediction, checked
   against a dictionary of measured crash fractions the notebook computed).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from .feedback import CheckResult, call_student_function, checker, result


@checker("Exercise 3.1: RBF kernel")
def check_rbf_kernel(rbf_kernel: Callable[..., Any]) -> CheckResult:
    """Check ``rbf_kernel(A, B, lengthscale)`` on random descriptors (shapes (5, 4) and (3, 4))."""
    name = "Exercise 3.1: RBF kernel"
    rng = np.random.default_rng(31)
    A, B = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    l = 0.8
    ok, K, msg = call_student_function(name, rbf_kernel, A, B, l)
    if not ok:
        return CheckResult(name, False, [msg])
    ref = np.exp(-np.array([[np.sum((a - b) ** 2) for b in B] for a in A]) / (2 * l**2))
    K = np.asarray(K, dtype=float)
    if K.shape != ref.shape:
        return CheckResult(name, False, [f"the kernel matrix should have shape {ref.shape} (rows of A x rows of B), "
                                         f"got {K.shape}"])
    ok2, Kself, _ = call_student_function(name, rbf_kernel, A, A, l)
    Kself = np.asarray(Kself, dtype=float) if ok2 else np.zeros((5, 5))
    return result(name, [
        (np.allclose(K, ref, atol=1e-10), "values differ from exp(-|a - b|^2 / (2 l^2)): check the factor 2 and "
                                          "that l is squared"),
        (ok2 and np.allclose(np.diag(Kself), 1.0), "k(a, a) should be 1 (zero distance)"),
        (ok2 and np.allclose(Kself, Kself.T), "k(A, A) should be symmetric"),
    ], "Correct: k(a, b) = exp(-|a - b|^2 / (2 l^2)); 1 on the diagonal, -> 0 far apart.")


@checker("Exercise 3.2: prior means")
def check_prior_constant(prior_constant: Callable[..., Any]) -> CheckResult:
    """Check ``prior_constant(name, train_energies, symbols, atom_energies)`` for MF1, MF2, median and MF5."""
    name = "Exercise 3.2: prior means"
    rng = np.random.default_rng(32)
    E = -449.5 + 0.3 * rng.normal(size=50)
    symbols = ["C", "C", "C", "O", "O", "H", "H", "H", "H"]
    atom_e = {"H": -10.707, "C": -48.798, "O": -102.522}
    expected = {"MF1": 0.0, "MF2": float(E.mean()), "median": float(np.median(E)),
                "MF5": 4 * atom_e["H"] + 3 * atom_e["C"] + 2 * atom_e["O"]}
    hints = {"MF1": "MF1 is the zero prior", "MF2": "MF2 is the mean of the training energies",
             "median": "the median prior is the median of the training energies",
             "MF5": "MF5 sums the isolated-atom energy of EVERY atom (4 H, 3 C, 2 O here)"}
    checks = []
    for prior, value in expected.items():
        ok, got, msg = call_student_function(name, prior_constant, prior, E.copy(), list(symbols), dict(atom_e))
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            good = bool(np.isclose(float(got), value, atol=1e-8))
        except (TypeError, ValueError):
            good = False
        checks.append((good, f"{prior}: your value {got!r} is not right. Hint: {hints[prior]}."))
    return result(name, checks, f"Correct. Note MF5 = {expected['MF5']:.2f} eV sits "
                                f"~{expected['MF5'] - E.max():.0f} eV "
                                "above the highest training energy: far from data the GP climbs towards it.")


@checker("Exercise 3.4: the prior weight")
def check_prior_weight(prior_weight: Callable[..., Any]) -> CheckResult:
    """Check ``prior_weight(K, k_star, noise)`` -> ``1 - k_star (K + noise I)^-1 1`` (one value per test point)
    on hidden random inputs, a test point on top of a training point and one far from all data."""
    name = "Exercise 3.4: the prior weight"
    rng = np.random.default_rng(34)
    X = rng.normal(size=(15, 3))
    Xs = np.vstack([rng.normal(size=(3, 3)), X[4:5], [[40.0, 40.0, 40.0]]])
    K = np.exp(-0.5 * ((X[:, None] - X[None]) ** 2).sum(-1) / 0.8**2)
    ks = np.exp(-0.5 * ((Xs[:, None] - X[None]) ** 2).sum(-1) / 0.8**2)
    noise = 1e-2
    ones = np.ones(len(X))
    ref = 1.0 - ks @ np.linalg.solve(K + noise * np.eye(len(X)), ones)
    ok, got, msg = call_student_function(name, prior_weight, K.copy(), ks.copy(), noise)
    if not ok:
        return CheckResult(name, False, [msg])
    try:
        got = np.asarray(got, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return CheckResult(name, False, [f"return an array of numbers (one per test point), got {type(got).__name__}"])
    if got.shape != ref.shape:
        return CheckResult(name, False, [f"expected one weight per test point (shape {ref.shape}), got {got.shape}: "
                                         "k_star has one row per test point"])
    no_noise = 1.0 - ks @ np.linalg.solve(K + 1e-12 * np.eye(len(X)), ones)
    checks = [
        (not np.allclose(got, 1.0 - ref, atol=1e-6), "you returned k*^T (K + noise I)^-1 1, the weight of the DATA: "
                                                     "the prior weight is 1 minus that"),
        (not np.allclose(got, 1.0 - ks.sum(1), atol=1e-6), "k* . 1 is not enough: solve with (K + noise I) first"),
        (not (np.allclose(got, no_noise, atol=1e-4) and not np.allclose(got, ref, atol=1e-4)),
         "add the nugget: solve with K + noise * I, not K alone"),
        (np.allclose(got, ref, atol=1e-6), "values differ from 1 - k*^T (K + noise I)^-1 1"),
        (abs(got[-1] - 1.0) < 1e-6, "far from all data (k* = 0) the weight of the prior must be 1"),
    ]
    return result(name, checks, "Correct: w ~ 0 on top of data, w -> 1 far away. Only where w is not tiny can the "
                                "prior mean change what MD sees.")


@checker("Exercise 3.3: GP posterior mean with a prior")
def check_posterior_mean(posterior_mean: Callable[..., Any]) -> CheckResult:
    """Check ``posterior_mean(K, k_star, y, m_train, m_star, noise)`` against a direct solve."""
    name = "Exercise 3.3: GP posterior mean with a prior"
    rng = np.random.default_rng(33)
    X = rng.normal(size=(12, 3))
    Xs = rng.normal(size=(4, 3))
    K = np.exp(-0.5 * ((X[:, None] - X[None]) ** 2).sum(-1))
    ks = np.exp(-0.5 * ((Xs[:, None] - X[None]) ** 2).sum(-1))  # (4, 12)
    y = np.sin(X).sum(1) - 5.0
    m_train, m_star = np.full(12, -4.0), np.full(4, -4.0)
    noise = 1e-6
    ref = m_star + ks @ np.linalg.solve(K + noise * np.eye(12), y - m_train)
    ok, got, msg = call_student_function(name, posterior_mean, K, ks, y, m_train, m_star, noise)
    if not ok:
        return CheckResult(name, False, [msg])
    got = np.asarray(got, dtype=float)
    far = np.zeros((1, 12))  # a point far from all data: k_star = 0
    ok2, got_far, _ = call_student_function(name, posterior_mean, K, far, y, m_train, np.array([7.0]), noise)
    return result(name, [
        (got.shape == ref.shape, f"expected shape {ref.shape} (one energy per test point), got {got.shape}"),
        (got.shape == ref.shape and np.allclose(got, ref, atol=1e-6),
         "values differ from m* + k*^T (K + noise I)^-1 (y - m): subtract the prior from y BEFORE solving, "
         "add it back"),
        (ok2 and np.allclose(np.asarray(got_far, float), 7.0),
         "far from all data (k* = 0) the prediction must equal the prior mean m*"),
    ], "Correct: near data the GP follows the data, far from it the prediction returns to the prior mean.")


@checker("Exercise 3.5: which priors crash?")
def check_crash_prediction(prediction: Mapping[str, bool], measured: Mapping[str, float]) -> CheckResult:
    """``prediction`` maps prior name -> True if you expect it to crash at least once; ``measured`` maps prior
    name -> crash fraction from the notebook's own runs. Passes when every prediction matches."""
    name = "Exercise 3.5: which priors crash?"
    if callable(prediction):
        ok, prediction, msg = call_student_function(name, prediction)
        if not ok:
            return CheckResult(name, False, [msg])
    if not isinstance(prediction, Mapping) or not prediction:
        return CheckResult(name, False, ["give a dict such as {'MF1': True, 'MF2': False, ...} (True = crashes)"])
    checks = []
    for prior, frac in measured.items():
        if prior not in prediction:
            checks.append((False, f"you did not give a prediction for {prior}"))
            continue
        crashed = frac > 0
        checks.append((bool(prediction[prior]) == crashed,
                       f"{prior}: you predicted {'a crash' if prediction[prior] else 'stable'}, the runs gave crash "
                       f"fraction {frac:.2f}. Where does {prior} put the energy far from the data?"))
    return result(name, checks, "Your predictions match the measured runs.")
