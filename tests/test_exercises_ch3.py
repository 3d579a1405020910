"""Chapter-3 self-checks: pass correct solutions, recognise every catalogued mistake with its own hint, reject
stubs and unknown wrong answers with a hint that does not give the answer away, never raise.

Each wrong answer below is written the way a student would write it (independently of the check's own
catalogue); the test asserts that the check names exactly that mistake."""
import math

import numpy as np
import pytest

from npsnn_edu.exercises.chapter3 import (
    MISTAKES,
    check_posterior_mean,
    check_prior_constant,
    check_prior_weight_prediction,
    check_rbf_kernel,
    check_runs_needed,
    check_zero_crash_bound,
)


def stub(*args, **kwargs):
    raise NotImplementedError()


def _d2(A, B):
    A, B = np.asarray(A, float), np.asarray(B, float)
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


# ----------------------------------------------------------------------------------------- 3.1
def good_rbf(A, B, lengthscale):
    return np.exp(-_d2(A, B) / (2 * lengthscale**2))


WRONG_RBF = {
    "no_half": lambda A, B, l: np.exp(-_d2(A, B) / l**2),
    "l_not_squared": lambda A, B, l: np.exp(-_d2(A, B) / (2 * l)),
    "distance_not_squared": lambda A, B, l: np.exp(-np.sqrt(_d2(A, B)) / (2 * l**2)),
    "plus_sign": lambda A, B, l: np.exp(_d2(A, B) / (2 * l**2)),
    "mean_over_features": lambda A, B, l: np.exp(-((np.asarray(A)[:, None] - np.asarray(B)[None]) ** 2).mean(-1)
                                                 / (2 * l**2)),
    "transposed": lambda A, B, l: good_rbf(B, A, l),
    "per_feature": lambda A, B, l: np.exp(-(np.asarray(A)[:, None] - np.asarray(B)[None]) ** 2 / (2 * l**2)),
}

# ----------------------------------------------------------------------------------------- 3.2
def good_posterior(K, ks, y, m, ms, noise):
    return ms + ks @ np.linalg.solve(K + noise * np.eye(len(y)), y - m)


WRONG_POSTERIOR = {
    "prior_not_subtracted": lambda K, ks, y, m, ms, nz: ms + ks @ np.linalg.solve(K + nz * np.eye(len(y)), y),
    "prior_not_added": lambda K, ks, y, m, ms, nz: ks @ np.linalg.solve(K + nz * np.eye(len(y)), y - m),
    "no_prior": lambda K, ks, y, m, ms, nz: ks @ np.linalg.solve(K + nz * np.eye(len(y)), y),
    "no_nugget": lambda K, ks, y, m, ms, nz: ms + ks @ np.linalg.solve(K, y - m),
    "noise_squared": lambda K, ks, y, m, ms, nz: ms + ks @ np.linalg.solve(K + nz**2 * np.eye(len(y)), y - m),
    "sign": lambda K, ks, y, m, ms, nz: ms - ks @ np.linalg.solve(K + nz * np.eye(len(y)), y - m),
}

# ----------------------------------------------------------------------------------------- 3.3
def good_w(d, l, nugget):
    return 1.0 - math.exp(-d**2 / (2 * l**2)) / (1.0 + nugget)


WRONG_W = {
    "data_weight": lambda d, l, nz: math.exp(-d**2 / (2 * l**2)) / (1 + nz),
    "no_half": lambda d, l, nz: 1 - math.exp(-(d / l) ** 2) / (1 + nz),
    "distance_not_squared": lambda d, l, nz: 1 - math.exp(-0.5 * d / l) / (1 + nz),
    "no_nugget": lambda d, l, nz: 1 - math.exp(-d**2 / (2 * l**2)),
    "times_nugget": lambda d, l, nz: 1 - math.exp(-d**2 / (2 * l**2)) * (1 + nz),
}

# ----------------------------------------------------------------------------------------- 3.4
def good_prior(name, E, symbols, atom_energies):
    return {"MF1": 0.0, "MF2": float(np.mean(E)), "median": float(np.median(E)),
            "MF5": float(sum(atom_energies[s] for s in symbols))}[name]


def _swap(name_to_fix, fn):
    return lambda name, E, s, ae: fn(E, s, ae) if name == name_to_fix else good_prior(name, E, s, ae)


WRONG_PRIOR = {
    "MF5_per_element": _swap("MF5", lambda E, s, ae: sum(ae.values())),
    "MF5_average": _swap("MF5", lambda E, s, ae: np.mean([ae[x] for x in s])),
    "MF5_sign": _swap("MF5", lambda E, s, ae: -sum(ae[x] for x in s)),
    "MF2_median": _swap("MF2", lambda E, s, ae: np.median(E)),
    "median_mean": _swap("median", lambda E, s, ae: np.mean(E)),
    "MF1_nonzero": _swap("MF1", lambda E, s, ae: np.mean(E)),
}

# ----------------------------------------------------------------------------------------- 3.5
def good_bound(runs, confidence):
    return 1 - ((1 - confidence) / 2) ** (1 / runs)


WRONG_BOUND = {
    "one_sided": lambda n, c: 1 - (1 - c) ** (1 / n),
    "rule_of_three": lambda n, c: 3 / n,
    "wald": lambda n, c: 0.0 + 1.96 * math.sqrt(0.0 * 1.0 / n),
    "complement": lambda n, c: ((1 - c) / 2) ** (1 / n),
    "no_root": lambda n, c: 1 - (1 - c) / 2,
    "confidence_as_tail": lambda n, c: 1 - (c / 2) ** (1 / n),
}

# ----------------------------------------------------------------------------------------- 3.6
def good_runs(upper, confidence):
    n = 1
    while 1 - ((1 - confidence) / 2) ** (1 / n) > upper:  # brute force, independent of the log formula
        n += 1
    return n


WRONG_RUNS = {
    "rounded_down": lambda u, c: good_runs(u, c) - 1,
    "one_sided": lambda u, c: math.ceil(math.log(1 - c) / math.log(1 - u)),
    "rule_of_three": lambda u, c: math.ceil(3 / u),
    "not_integer": lambda u, c: math.log((1 - c) / 2) / math.log(1 - u),
}

CASES = {
    "3.1": (check_rbf_kernel, good_rbf, WRONG_RBF),
    "3.2": (check_posterior_mean, good_posterior, WRONG_POSTERIOR),
    "3.3": (check_prior_weight_prediction, good_w, WRONG_W),
    "3.4": (check_prior_constant, good_prior, WRONG_PRIOR),
    "3.5": (check_zero_crash_bound, good_bound, WRONG_BOUND),
    "3.6": (check_runs_needed, good_runs, WRONG_RUNS),
}


def test_every_catalogued_mistake_has_a_wrong_answer_here():
    assert set(CASES) | {"3.7"} == set(MISTAKES)  # 3.7 (the going-further notebook) is tested below
    for ex, (_, _, wrong) in CASES.items():
        assert set(wrong) == set(MISTAKES[ex]), ex


@pytest.mark.parametrize("ex", sorted(CASES))
def test_correct_solution_passes(ex):
    check, good, _ = CASES[ex]
    r = check(good)
    assert r.passed and r, str(r)


@pytest.mark.parametrize("ex,key", [(ex, k) for ex in sorted(CASES) for k in sorted(CASES[ex][2])])
def test_each_usual_mistake_gets_its_own_hint(ex, key):
    check, _, wrong = CASES[ex]
    r = check(wrong[key])
    assert not r.passed
    assert MISTAKES[ex][key] in str(r), f"{ex} {key}: {r}"
    others = [h for k, h in MISTAKES[ex].items() if k != key and h != MISTAKES[ex][key]]
    assert not any(h in str(r) for h in others), f"{ex} {key} got another mistake's hint: {r}"


@pytest.mark.parametrize("ex", sorted(CASES))
def test_stub_and_garbage_get_not_yet_without_traceback(ex):
    check = CASES[ex][0]
    r = check(stub)
    assert not r.passed and "NotImplementedError" in str(r) and "Traceback" not in str(r)
    r = check(lambda *a: "oops")
    assert not r.passed and "Traceback" not in str(r)
    assert not check(None).passed


def test_unrecognised_wrong_answers_get_a_generic_hint_that_does_not_give_the_answer():
    r = check_rbf_kernel(lambda A, B, l: 0.5 * good_rbf(A, B, l))
    assert not r.passed and "by hand" in str(r)
    r = check_posterior_mean(lambda K, ks, y, m, ms, nz: ms + 2.0)
    assert not r.passed and "three steps" in str(r)
    r = check_prior_weight_prediction(lambda d, l, nz: 0.5)
    assert not r.passed and "single training point" in str(r)
    r = check_zero_crash_bound(lambda n, c: 0.2)
    assert not r.passed and "(1 - p)^n" in str(r)
    r = check_runs_needed(lambda u, c: 1000)
    assert not r.passed and "smallest whole n" in str(r)
    # no message ever states an expected value
    for n, c in ((8, 0.95), (20, 0.95)):
        assert f"{good_bound(n, c):.3f}" not in str(check_zero_crash_bound(lambda n, c: 0.2))
    assert str(good_runs(0.05, 0.95)) not in str(check_runs_needed(lambda u, c: 1000))
    E = -449.5 + 0.3 * np.random.default_rng(32).gamma(2.0, size=51)  # the check's hidden energies
    r = check_prior_constant(lambda name, E, s, ae: 1.234)
    assert not r.passed and f"{E.mean():.3f}" not in str(r) and f"{np.median(E):.3f}" not in str(r)
    assert "-449" not in str(r) and "-444" not in str(r)


def test_posterior_check_rejects_a_mean_that_ignores_k_star_far_away():
    # right on the hidden inputs would need k_star; a function returning m_star only is the zero-data answer
    r = check_posterior_mean(lambda K, ks, y, m, ms, nz: np.asarray(ms))
    assert not r.passed


def test_kit_implementations_are_consistent_with_the_checked_formulas():
    """The kit's own GP (npsnn_edu.gpr.model.rbf_kernel, the 1-D primer GP) passes the same checks."""
    from npsnn_edu.gpr.model import rbf_kernel
    from npsnn_edu.viz.schematics_ch3 import gp_1d, zero_crash_upper_bound

    assert check_rbf_kernel(lambda A, B, l: rbf_kernel(A, B, l)).passed
    assert check_prior_weight_prediction(lambda d, l, nz: float(gp_1d([0.0], [1.0], [d], l, nugget=nz)["w"][0])).passed
    assert check_zero_crash_bound(zero_crash_upper_bound).passed


# ----------------------------------------------------------------------------------------- 3.7
def _hyper(ka, na, kb, nb):
    t = ka + kb
    js = range(max(0, t - nb), min(na, t) + 1)
    return {j: math.comb(na, j) * math.comb(nb, t - j) / math.comb(na + nb, t) for j in js}


def good_fisher(ka, na, kb, nb):
    probs = _hyper(ka, na, kb, nb)
    return sum(p for p in probs.values() if p <= probs[ka] * (1 + 1e-9))


WRONG_FISHER = {
    "point_probability": lambda ka, na, kb, nb: _hyper(ka, na, kb, nb)[ka],
    "one_sided": lambda ka, na, kb, nb: sum(p for j, p in _hyper(ka, na, kb, nb).items()
                                            if (j >= ka if ka / na >= kb / nb else j <= ka)),
    "strict_inequality": lambda ka, na, kb, nb: sum(p for p in _hyper(ka, na, kb, nb).values()
                                                    if p < _hyper(ka, na, kb, nb)[ka] * (1 - 1e-9)),
    "complement": lambda ka, na, kb, nb: 1 - good_fisher(ka, na, kb, nb),
}


def test_fisher_check_and_its_mistakes():
    from npsnn_edu.exercises.chapter3 import check_fisher_p

    assert set(WRONG_FISHER) == set(MISTAKES["3.7"])
    assert check_fisher_p(good_fisher).passed
    for key, fn in WRONG_FISHER.items():
        r = check_fisher_p(fn)
        assert not r.passed and MISTAKES["3.7"][key] in str(r), (key, str(r))
    r = check_fisher_p(stub)
    assert not r.passed and "NotImplementedError" in str(r)
    r = check_fisher_p(lambda *a: 0.5)
    assert not r.passed and "hypergeometric" in str(r)
    # the kit's own helper is the same test
    from npsnn_edu.gpr.experiments import fisher_p

    assert check_fisher_p(fisher_p).passed
