"""Self-checks for the chapter-3 exercises (GP potentials and prior means).

Every check calls the student's function through :func:`call_student_function` (an untouched stub gives a
NOT YET message, never a traceback), compares it with an independent reference on hidden inputs, and, when
the answer is wrong, compares it with a catalogue of the usual mistakes (:data:`MISTAKES`): a recognised
mistake gets its own hint; anything else gets a hint that points at the idea. No message prints the solution
or the expected value.

3.1 :func:`check_rbf_kernel`
    ``rbf_kernel(A, B, lengthscale)`` -> ``exp(-|a - b|^2 / (2 l^2))`` for rows of A, B
3.2 :func:`check_posterior_mean`
    ``posterior_mean(K, k_star, y, m_train, m_star, noise)`` ->
    ``m_star + k_star (K + noise I)^-1 (y - m_train)``
3.3 :func:`check_prior_weight_prediction`
    ``predicted_prior_weight(distance, lengthscale, nugget)``: the prior
    weight w at ``distance`` from ONE training point (predict, then run)
3.4 :func:`check_prior_constant`
    ``prior_constant(name, train_energies, symbols, atom_energies)`` for "MF1" (zero),
    "MF2" (mean), "median" and "MF5" (sum of the isolated-atom energies)
3.5 :func:`check_zero_crash_bound`
    ``zero_crash_upper_bound(runs, confidence)``: the exact (Clopper-Pearson)
    upper bound of the crash probability after 0 crashes in ``runs`` runs
3.6 :func:`check_runs_needed`
    ``runs_needed(upper, confidence)``: the fewest crash-free runs that push that
    bound to ``upper`` or below
3.7 :func:`check_fisher_p`
    ``fisher_p_value(crashes_a, runs_a, crashes_b, runs_b)``: two-sided Fisher
    exact test of two crash counts (going-further notebook 03b)

Units: energies in eV, distances and lengthscales in the unit of the inputs, probabilities as fractions.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from .feedback import CheckResult, call_student_function, checker, result

__all__ = ["MISTAKES", "check_rbf_kernel", "check_posterior_mean", "check_prior_weight_prediction",
           "check_prior_constant", "check_zero_crash_bound", "check_runs_needed", "check_fisher_p"]

#: Per exercise: mistake key -> the hint a student who made it reads (tests/test_exercises_ch3.py feeds each one).
MISTAKES: dict[str, dict[str, str]] = {
    "3.1": {
        "no_half": "The factor 1/2 is missing: the exponent is minus the squared distance divided by TWO l squared.",
        "l_not_squared": "Divide by l SQUARED (times 2), not by l: the exponent must be dimensionless.",
        "distance_not_squared": "Use the SQUARED distance |a - b|^2 (the sum of squared differences), not |a - b|.",
        "plus_sign": "Sign: k must fall from 1 (same point) towards 0 (far apart): the exponent is negative.",
        "mean_over_features": "Sum the squared differences over the features; you averaged them.",
        "transposed": "Your matrix is the transpose: row i must belong to row i of A, column j to row j of B.",
        "per_feature": "You returned one kernel per feature: sum the squared differences over the last axis first.",
    },
    "3.2": {
        "prior_not_subtracted": "Subtract the prior at the training points (y - m_train) BEFORE solving: the GP "
                                "learns the difference between the data and the prior.",
        "prior_not_added": "Add the prior at the test points (m_star) back after the solve.",
        "no_prior": "The prior is ignored altogether (that is a zero prior): subtract m_train before the solve and "
                    "add m_star after it.",
        "no_nugget": "Add the nugget to the diagonal: solve with K + noise * I, not with K alone.",
        "noise_squared": "The nugget enters as noise * I, not noise squared: noise is already a variance.",
        "sign": "Sign: the data term is ADDED to the prior mean (m_star + ...), not subtracted.",
    },
    "3.3": {
        "data_weight": "That is the weight of the DATA point at the test point; the prior gets what the data leave.",
        "no_half": "The kernel's exponent has a 1/2: k = exp(-d^2 / (2 l^2)).",
        "distance_not_squared": "The kernel uses the SQUARED distance over l squared, (d / l)^2, not d / l.",
        "no_nugget": "With one training point C is a 1 x 1 matrix: k(x0, x0) plus the nugget. Divide by it.",
        "times_nugget": "C^-1 is one over (1 + nugget): divide by it, do not multiply.",
    },
    "3.4": {
        "MF5_per_element": "MF5 counts every ATOM of the molecule, not every element once: here 4 H, 3 C and 2 O.",
        "MF5_average": "MF5 is the SUM of the isolated-atom energies (the energy of all atoms pulled apart), not "
                       "their average.",
        "MF5_sign": "Sign: the isolated-atom energies are negative, and so is their sum.",
        "MF2_median": "MF2 is the MEAN of the training energies; the median is its own prior.",
        "median_mean": "The median prior is the median of the training energies, not their mean.",
        "MF1_nonzero": "MF1 is the zero prior: it returns 0 whatever the data.",
    },
    "3.5": {
        "one_sided": "That is the ONE-sided bound: a two-sided 95 % interval leaves 2.5 % in each tail, so set "
                     "(1 - p)^n equal to (1 - confidence) / 2.",
        "rule_of_three": "3 / n is the 'rule of three', an approximation of the one-sided bound for many runs; "
                         "solve (1 - p)^n = (1 - confidence) / 2 exactly instead.",
        "wald": "Zero: the normal (Wald) approximation p +- 1.96 sqrt(p (1 - p) / n) collapses at 0 crashes and "
                "rules out nothing useful. Use the exact binomial chance of 0 crashes, (1 - p)^n.",
        "complement": "You solved for 1 - p, the chance that one run SURVIVES: the bound is on the crash "
                      "probability p.",
        "no_root": "(1 - p)^n involves the n-th power: solve for p with the n-th root (power 1 / n).",
        "confidence_as_tail": "The tail probability is (1 - confidence) / 2, not confidence / 2.",
    },
    "3.6": {
        "rounded_down": "Round UP: with the number you returned the bound is still above the target.",
        "one_sided": "You used the one-sided tail (1 - confidence); the two-sided interval's tail is "
                     "(1 - confidence) / 2.",
        "rule_of_three": "3 / upper is the rule-of-three approximation; use the exact condition "
                         "(1 - upper)^n <= (1 - confidence) / 2.",
        "not_integer": "A number of runs is a whole number: round the solution of the equation up to an integer.",
    },
    "3.7": {
        "point_probability": "That is the probability of the observed table alone; the p-value adds every table "
                             "that is at most as probable as the observed one.",
        "one_sided": "You summed only the tail on the observed side: the two-sided test also counts the tables as "
                     "improbable on the other side.",
        "strict_inequality": "Include the observed table itself (tables at most as probable, <=, not <).",
        "complement": "You returned 1 minus the p-value: a small p-value must mean a split unlikely by chance.",
    },
}


def _hint(exercise: str, key: str) -> str:
    return MISTAKES[exercise][key]


def _match(got: np.ndarray, candidates: Mapping[str, np.ndarray], rtol: float = 1e-6,
           atol: float = 1e-9) -> "str | None":
    """The key of the first wrong-answer array ``got`` equals (same shape, close values), else None."""
    for key, wrong in candidates.items():
        wrong = np.asarray(wrong, dtype=float)
        if got.shape == wrong.shape and np.allclose(got, wrong, rtol=rtol, atol=atol):
            return key
    return None


def _as_array(value: Any) -> "np.ndarray | None":
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


# --------------------------------------------------------------------------------------------- 3.1
@checker("Exercise 3.1: RBF kernel")
def check_rbf_kernel(rbf_kernel: Callable[..., Any]) -> CheckResult:
    """Check ``rbf_kernel(A, B, lengthscale)`` on hidden descriptors (shapes (5, 4) and (3, 4), l = 0.8)."""
    name = "Exercise 3.1: RBF kernel"
    rng = np.random.default_rng(31)
    A, B = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    l = 0.8
    ok, K, msg = call_student_function(name, rbf_kernel, A.copy(), B.copy(), l)
    if not ok:
        return CheckResult(name, False, [msg])
    diff2 = (A[:, None, :] - B[None, :, :]) ** 2
    d2 = diff2.sum(-1)
    ref = np.exp(-d2 / (2 * l**2))
    K = _as_array(K)
    if K is None:
        return CheckResult(name, False, ["return a NumPy array of numbers (the kernel matrix)"])
    if K.shape != ref.shape:
        key = _match(K, {"transposed": ref.T, "per_feature": np.exp(-diff2 / (2 * l**2))})
        if key:
            return CheckResult(name, False, [_hint("3.1", key)])
        return CheckResult(name, False, [f"the kernel matrix should have one row per row of A and one column per "
                                         f"row of B, shape {ref.shape}; yours has shape {K.shape}"])
    if np.allclose(K, ref, atol=1e-10):
        ok2, Kself, _ = call_student_function(name, rbf_kernel, A.copy(), A.copy(), l)
        Kself = _as_array(Kself) if ok2 else None
        return result(name, [(Kself is not None and Kself.shape == (5, 5) and np.allclose(np.diag(Kself), 1.0),
                              "k(a, a) should be 1 (zero distance): call it with the same array twice")],
                      "Correct: k(a, b) = exp(-|a - b|^2 / (2 l^2)); 1 on the diagonal, -> 0 far apart.")
    with np.errstate(over="ignore"):
        wrong = {"no_half": np.exp(-d2 / l**2), "l_not_squared": np.exp(-d2 / (2 * l)),
                 "distance_not_squared": np.exp(-np.sqrt(d2) / (2 * l**2)), "plus_sign": np.exp(d2 / (2 * l**2)),
                 "mean_over_features": np.exp(-diff2.mean(-1) / (2 * l**2))}
    key = _match(K, wrong)
    if key:
        return CheckResult(name, False, [_hint("3.1", key)])
    return CheckResult(name, False, ["values differ from exp(-|a - b|^2 / (2 l^2)): compute |a - b|^2 for ONE "
                                     "pair by hand and compare with your matrix entry"])


# --------------------------------------------------------------------------------------------- 3.2
@checker("Exercise 3.2: GP posterior mean with a prior")
def check_posterior_mean(posterior_mean: Callable[..., Any]) -> CheckResult:
    """Check ``posterior_mean(K, k_star, y, m_train, m_star, noise)`` against a direct solve, on hidden inputs with
    a prior that is NOT constant (so that m_train and m_star differ) and a nugget large enough to matter."""
    name = "Exercise 3.2: GP posterior mean with a prior"
    rng = np.random.default_rng(33)
    X, Xs = rng.normal(size=(12, 3)), rng.normal(size=(4, 3))
    K = np.exp(-0.5 * ((X[:, None] - X[None]) ** 2).sum(-1))
    ks = np.exp(-0.5 * ((Xs[:, None] - X[None]) ** 2).sum(-1))  # (4, 12)
    y = np.sin(X).sum(1) - 5.0
    m_train, m_star = -4.0 + 0.3 * X[:, 0], -4.0 + 0.3 * Xs[:, 0]
    noise = 1e-2
    solve = lambda mat, b: np.linalg.solve(mat, b)  # noqa: E731
    C = K + noise * np.eye(12)
    ref = m_star + ks @ solve(C, y - m_train)
    ok, got, msg = call_student_function(name, posterior_mean, K.copy(), ks.copy(), y.copy(), m_train.copy(),
                                         m_star.copy(), noise)
    if not ok:
        return CheckResult(name, False, [msg])
    got = _as_array(got)
    if got is None or got.shape != ref.shape:
        shape = None if got is None else got.shape
        return CheckResult(name, False, [f"expected one energy per test point (shape {ref.shape}), got "
                                         f"{shape}: k_star has one row per test point"])
    if np.allclose(got, ref, atol=1e-8):
        ok2, got_far, _ = call_student_function(name, posterior_mean, K, np.zeros((1, 12)), y, m_train,
                                                np.array([7.0]), noise)
        return result(name, [(ok2 and np.allclose(np.asarray(got_far, float), 7.0),
                              "far from all data (k* = 0) the prediction must equal the prior mean m*")],
                      "Correct: near data the GP follows the data, far from it the prediction returns to the prior "
                      "mean.")
    wrong = {"prior_not_subtracted": m_star + ks @ solve(C, y), "prior_not_added": ks @ solve(C, y - m_train),
             "no_prior": ks @ solve(C, y), "no_nugget": m_star + ks @ solve(K, y - m_train),
             "noise_squared": m_star + ks @ solve(K + noise**2 * np.eye(12), y - m_train),
             "sign": m_star - ks @ solve(C, y - m_train)}
    key = _match(got, wrong, rtol=1e-6, atol=1e-8)
    if key:
        return CheckResult(name, False, [_hint("3.2", key)])
    return CheckResult(name, False, ["values differ from the posterior mean: three steps, subtract the prior at the "
                                     "training points, solve with (K + noise I), add the prior at the test points"])


# --------------------------------------------------------------------------------------------- 3.3
_W_CASES = ((0.0, 1.0, 0.05), (1.0, 1.0, 0.05), (2.0, 1.0, 0.05), (0.6, 0.3, 0.2), (3.0, 1.5, 0.01))


@checker("Exercise 3.3: the prior weight next to one data point")
def check_prior_weight_prediction(predicted_prior_weight: Callable[..., Any]) -> CheckResult:
    """Check ``predicted_prior_weight(distance, lengthscale, nugget)``: w = 1 - k C^-1 for ONE training point with
    k = exp(-d^2 / (2 l^2)) and C = 1 + nugget, on several hidden (distance, lengthscale, nugget)."""
    name = "Exercise 3.3: the prior weight next to one data point"
    got = []
    for d, l, nz in _W_CASES:
        ok, value, msg = call_student_function(name, predicted_prior_weight, d, l, nz)
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            got.append(float(value))
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"return one number (the weight w), got {type(value).__name__}"])
    g = np.array(got)
    d, l, nz = (np.array(c, float) for c in zip(*_W_CASES))
    k = np.exp(-d**2 / (2 * l**2))
    ref = 1.0 - k / (1.0 + nz)
    if np.allclose(g, ref, atol=1e-9):
        return CheckResult(name, True, ["Correct: w = 0 only where a noise-free data point sits, and w -> 1 within "
                                        "a few lengthscales. Now run the next cell and compare with your prediction."])
    wrong = {"data_weight": k / (1 + nz), "no_half": 1 - np.exp(-d**2 / l**2) / (1 + nz),
             "distance_not_squared": 1 - np.exp(-d / (2 * l)) / (1 + nz), "no_nugget": 1 - k,
             "times_nugget": 1 - k * (1 + nz)}
    key = _match(g, wrong, atol=1e-9)
    if key:
        return CheckResult(name, False, [_hint("3.3", key)])
    return CheckResult(name, False, ["not yet: write w = 1 - k_*^T C^-1 1 for a single training point (every matrix "
                                     "is then a single number) and check it gives w -> 1 far away"])


# --------------------------------------------------------------------------------------------- 3.4
@checker("Exercise 3.4: prior means")
def check_prior_constant(prior_constant: Callable[..., Any]) -> CheckResult:
    """Check ``prior_constant(name, train_energies, symbols, atom_energies)`` for MF1, MF2, median and MF5 on
    hidden energies (eV) of a molecule with the composition of malondialdehyde."""
    name = "Exercise 3.4: prior means"
    rng = np.random.default_rng(32)
    E = -449.5 + 0.3 * rng.gamma(2.0, size=51)  # skewed, so that the mean and the median differ
    symbols = ["C", "C", "C", "O", "O", "H", "H", "H", "H"]
    atom_e = {"H": -10.707, "C": -48.798, "O": -102.522}
    mf5 = float(sum(atom_e[s] for s in symbols))
    expected = {"MF1": 0.0, "MF2": float(E.mean()), "median": float(np.median(E)), "MF5": mf5}
    wrong_by_prior = {
        "MF1": {"MF1_nonzero": [float(E.mean()), float(np.median(E)), mf5]},
        "MF2": {"MF2_median": [float(np.median(E))]},
        "median": {"median_mean": [float(E.mean())]},
        "MF5": {"MF5_per_element": [float(sum(atom_e.values()))], "MF5_average": [mf5 / len(symbols)],
                "MF5_sign": [-mf5]},
    }
    messages = []
    for prior, value in expected.items():
        ok, got, msg = call_student_function(name, prior_constant, prior, E.copy(), list(symbols), dict(atom_e))
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            got_f = float(got)
        except (TypeError, ValueError):
            messages.append(f"{prior}: return one number in eV, got {type(got).__name__}")
            continue
        if np.isclose(got_f, value, rtol=0, atol=1e-8):
            continue
        key = next((k for k, vals in wrong_by_prior[prior].items() if any(np.isclose(got_f, v, atol=1e-8)
                                                                          for v in vals)), None)
        messages.append(f"{prior}: " + (_hint("3.4", key) if key else "not this value; reread the definition of "
                                        "this prior above"))
    if messages:
        return CheckResult(name, False, messages)
    return CheckResult(name, True, ["Correct. MF5 lies far above every training energy: far from the data the "
                                    "model climbs towards it."])


# --------------------------------------------------------------------------------------------- 3.5
_CP_CASES = ((8, 0.95), (20, 0.95), (72, 0.95), (8, 0.9), (3, 0.99))


def _cp_upper(n: float, c: float) -> float:
    return 1.0 - ((1.0 - c) / 2.0) ** (1.0 / n)


@checker("Exercise 3.5: what zero crashes cannot rule out")
def check_zero_crash_bound(zero_crash_upper_bound: Callable[..., Any]) -> CheckResult:
    """Check ``zero_crash_upper_bound(runs, confidence)`` (the exact two-sided Clopper-Pearson upper bound after
    0 crashes in ``runs``) on hidden (runs, confidence) pairs."""
    name = "Exercise 3.5: what zero crashes cannot rule out"
    got = []
    for n, c in _CP_CASES:
        ok, value, msg = call_student_function(name, zero_crash_upper_bound, n, c)
        if not ok:
            return CheckResult(name, False, [msg])
        if isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.size > 1):
            return CheckResult(name, False, ["return only the UPPER bound (one number); the lower bound after 0 "
                                             "crashes is 0 anyway"])
        try:
            got.append(float(value))
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"return one number (a probability), got {type(value).__name__}"])
    g = np.array(got)
    n, c = (np.array(v, float) for v in zip(*_CP_CASES))
    ref = _cp_upper(n, c)
    if np.allclose(g, ref, atol=1e-9):
        return CheckResult(name, True, ["Correct: after 0 crashes in n runs every crash probability below this bound "
                                        "is still compatible with what you saw."])
    wrong = {"one_sided": 1 - (1 - c) ** (1 / n), "rule_of_three": 3 / n, "wald": np.zeros_like(n),
             "complement": ((1 - c) / 2) ** (1 / n), "no_root": 1 - (1 - c) / 2,
             "confidence_as_tail": 1 - (c / 2) ** (1 / n)}
    key = _match(g, wrong, atol=1e-9)
    if key:
        return CheckResult(name, False, [_hint("3.5", key)])
    return CheckResult(name, False, ["not yet: if one run crashes with probability p, n runs all survive with "
                                     "probability (1 - p)^n; find the p at which that chance falls to the tail "
                                     "probability (Figure 3.3)"])


# --------------------------------------------------------------------------------------------- 3.6
_RUNS_CASES = ((0.05, 0.95), (0.1, 0.95), (0.2, 0.9), (0.01, 0.95), (0.5, 0.95))


@checker("Exercise 3.6: how many runs?")
def check_runs_needed(runs_needed: Callable[..., Any]) -> CheckResult:
    """Check ``runs_needed(upper, confidence)``: the smallest n with 1 - ((1 - c) / 2)^(1 / n) <= upper."""
    name = "Exercise 3.6: how many runs?"
    got = []
    for u, c in _RUNS_CASES:
        ok, value, msg = call_student_function(name, runs_needed, u, c)
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            got.append(float(value))
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"return one whole number (runs), got {type(value).__name__}"])
    g = np.array(got)
    ref = np.array([_runs(u, c) for u, c in _RUNS_CASES], float)
    if np.array_equal(g, ref):
        bounds_ok = all(_cp_upper(n, c) <= u + 1e-12 < _cp_upper(n - 1, c) if n > 1 else True
                        for n, (u, c) in zip(ref, _RUNS_CASES))
        return result(name, [(bounds_ok, "internal check failed")],
                      "Correct: the bound shrinks only like 1/n, so a small crash probability needs many runs.")
    exact = np.array([math.log((1 - c) / 2) / math.log(1 - u) for u, c in _RUNS_CASES])
    wrong = {"rounded_down": np.floor(exact), "not_integer": exact,
             "one_sided": np.array([math.ceil(math.log(1 - c) / math.log(1 - u)) for u, c in _RUNS_CASES], float),
             "rule_of_three": np.array([math.ceil(3 / u) for u, _ in _RUNS_CASES], float)}
    key = _match(g, wrong, atol=1e-9)
    if key:
        return CheckResult(name, False, [_hint("3.6", key)])
    return CheckResult(name, False, ["not yet: find the smallest whole n for which the bound of Exercise 3.5 is at "
                                     "most `upper` (solve the inequality for n with logarithms)"])


def _runs(upper: float, confidence: float) -> int:
    n = math.ceil(math.log((1 - confidence) / 2) / math.log(1 - upper) - 1e-12)
    while _cp_upper(n, confidence) > upper:  # guard against rounding at an exact integer
        n += 1
    return int(n)


# --------------------------------------------------------------------------------------------- 3.7
_FISHER_CASES = ((8, 8, 0, 8), (6, 8, 1, 8), (3, 8, 2, 8), (7, 8, 0, 8), (2, 10, 5, 6))


def _table_probs(ka: int, na: int, kb: int, nb: int) -> tuple[np.ndarray, int]:
    """Hypergeometric probabilities of every possible crash count of A with the margins fixed, and the
    observed count's index (computed with exact integer binomials)."""
    total = ka + kb
    lo, hi = max(0, total - nb), min(na, total)
    probs = np.array([math.comb(na, j) * math.comb(nb, total - j) for j in range(lo, hi + 1)], float)
    return probs / math.comb(na + nb, total), ka - lo


@checker("Exercise 3.7: Fisher's exact test")
def check_fisher_p(fisher_p_value: Callable[..., Any]) -> CheckResult:
    """Check ``fisher_p_value(crashes_a, runs_a, crashes_b, runs_b)`` (two-sided) on hidden crash counts against
    scipy.stats.fisher_exact."""
    from scipy.stats import fisher_exact

    name = "Exercise 3.7: Fisher's exact test"
    got = []
    for ka, na, kb, nb in _FISHER_CASES:
        ok, value, msg = call_student_function(name, fisher_p_value, ka, na, kb, nb)
        if not ok:
            return CheckResult(name, False, [msg])
        try:
            got.append(float(value))
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"return one number (the p-value), got {type(value).__name__}"])
    g = np.array(got)
    ref = np.array([fisher_exact([[ka, na - ka], [kb, nb - kb]])[1] for ka, na, kb, nb in _FISHER_CASES])
    if np.allclose(g, ref, rtol=1e-6, atol=1e-12):
        return CheckResult(name, True, ["Correct: the same p-value as scipy.stats.fisher_exact."])
    wrong: dict[str, list[float]] = {k: [] for k in MISTAKES["3.7"]}
    for ka, na, kb, nb in _FISHER_CASES:
        probs, i = _table_probs(ka, na, kb, nb)
        p_obs = probs[i]
        tie = p_obs * (1 + 1e-7)
        side = probs[i:] if ka / na >= kb / nb else probs[: i + 1]
        wrong["point_probability"].append(p_obs)
        wrong["one_sided"].append(float(side.sum()))
        wrong["strict_inequality"].append(float(probs[probs < p_obs * (1 - 1e-7)].sum()))
        wrong["complement"].append(1.0 - float(probs[probs <= tie].sum()))
    key = _match(g, {k: np.array(v) for k, v in wrong.items()}, rtol=1e-6, atol=1e-12)
    if key:
        return CheckResult(name, False, [_hint("3.7", key)])
    return CheckResult(name, False, ["not yet: with the total number of crashes fixed, list every way they could "
                                     "split between A and B, give each its hypergeometric probability, and add up "
                                     "those at most as probable as the observed split"])
