"""Chapter 2 self-checks: a correct solution passes, the untouched stub gives NOT YET (no exception), typical
wrong answers get specific feedback, no feedback prints the expected answer, kit shortcuts are refused."""
import numpy as np
import pytest

from npsnn_edu.errors import SimulationDivergedError
from npsnn_edu.exercises.chapter2 import (
    PairSpring,
    _simulate_pair,
    check_baoab_radius,
    check_dt_limit_at_distance,
    check_energy_error_exponent,
    check_find_dt_limits,
    check_largest_stable_dt,
    check_symplectic_euler_matrix,
)
from npsnn_edu.md import stability as st


def stub(*args):
    raise NotImplementedError()


def mu(m1, m2):
    return m1 * m2 / (m1 + m2)


# --- 2.2 ---------------------------------------------------------------------------------------------
def test_largest_stable_dt_correct_passes_and_is_verified():
    res = check_largest_stable_dt(lambda k, m1, m2: 2.0 * np.sqrt(mu(m1, m2) / k))
    assert res.passed
    text = str(res)
    assert "[PASS]" in text and "diverged at step" in text and "bounded" in text


def test_pair_spring_limit_is_the_reduced_mass_one():
    # independent of the check's formula: the simulated pair blows up between 0.95 and 1.05 x 2 sqrt(mu/k)
    k, m1, m2 = 7.0, 1.5, 0.5
    dt = 2 * np.sqrt(mu(m1, m2) / k)
    assert _simulate_pair(k, m1, m2, 0.97 * dt) is None and _simulate_pair(k, m1, m2, 1.03 * dt) is not None
    e, f = PairSpring(2.0).energy_and_forces(np.array([[0.0], [1.5]]))
    assert e == pytest.approx(0.25) and f[0, 0] == pytest.approx(1.0) and f[1, 0] == pytest.approx(-1.0)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda k, m1, m2: 2.0 * np.sqrt(m1 / k), "ONE atom"),
    (lambda k, m1, m2: 2.0 * np.sqrt(min(m1, m2) / k), "lighter mass"),
    (lambda k, m1, m2: 2.0 * np.sqrt((m1 + m2) / k), "total mass"),
    (lambda k, m1, m2: 2.0 * np.sqrt(k / mu(m1, m2)), "swapped"),
    (lambda k, m1, m2: 2.0 * np.pi * np.sqrt(mu(m1, m2) / k), "period"),
    (lambda k, m1, m2: np.sqrt(mu(m1, m2) / k), "1/omega"),
    (lambda k, m1, m2: 2.0 * mu(m1, m2) / k, "square root"),
    (lambda k, m1, m2: -2.0 * np.sqrt(mu(m1, m2) / k), "sign"),
    (lambda k, m1, m2: 0.5, "Hint"),
])
def test_largest_stable_dt_wrong_answers_do_not_print_the_answer(wrong, phrase):
    res = check_largest_stable_dt(wrong, verify=False)
    assert not res.passed and phrase in str(res), str(res)
    assert "expected" not in str(res) and "1.414" not in str(res) and "0.707" not in str(res)


def test_largest_stable_dt_stub_and_garbage():
    res = check_largest_stable_dt(stub)
    assert not res.passed and "NOT YET" in str(res) and "NotImplementedError" in str(res)
    assert "return one number" in str(check_largest_stable_dt(lambda k, m1, m2: "small"))
    assert "ZeroDivisionError" in str(check_largest_stable_dt(lambda k, m1, m2: 1 / 0))
    assert not check_largest_stable_dt(None).passed
    # the single-mass rule printed on screen (dt < 2 / omega with omega = sqrt(k/m)) is not enough
    assert not check_largest_stable_dt(lambda k, m1, m2: st.largest_stable_dt(k, m1)).passed


# --- 2.3 ---------------------------------------------------------------------------------------------
def test_energy_exponent():
    right = {"rk4": 5, "euler": 1}
    res = check_energy_error_exponent(lambda name: right[name])
    assert res.passed and "rk4 ~ dt^5.0" in str(res) and "euler ~ dt^1.0" in str(res)
    res = check_energy_error_exponent(lambda name: 4 if name == "rk4" else 1, measure=False)
    assert not res.passed and "TRAJECTORY error" in str(res) and "euler" not in str(res).split("\n", 1)[1]
    res = check_energy_error_exponent(lambda name: 6 if name == "rk4" else 2, measure=False)
    assert "ONE step" in str(res) and "(1 + h^2)" in str(res)
    # the exponents printed in the notebook (Verlet 2, symplectic Euler 1) are not the answer
    assert not check_energy_error_exponent(lambda name: {"rk4": 2, "euler": 1}[name], measure=False).passed
    assert "NOT YET" in str(check_energy_error_exponent(stub))
    res = check_energy_error_exponent(lambda name: {"rk4": -5, "euler": -1}[name], measure=False)
    assert not res.passed and "check the sign" in str(res)


# --- 2.1 ---------------------------------------------------------------------------------------------
def test_symplectic_euler_matrix():
    assert check_symplectic_euler_matrix(lambda h: np.array([[1 - h * h, h], [-h, 1.0]])).passed
    wrong = {
        "explicit Euler": lambda h: np.array([[1.0, h], [-h, 1.0]]),
        "swapped": lambda h: np.array([[1 - h * h, -h], [h, 1.0]]),
        "drift-then-kick": lambda h: np.array([[1.0, h], [-h, 1 - h * h]]),
        "Verlet": lambda h: np.array([[1 - h * h / 2, h], [-h * (1 - h * h / 4), 1 - h * h / 2]]),
        "2 x 2": lambda h: [1.0, h],
        "calls npsnn_edu.md.stability": lambda h: st.amplification_matrix("symplectic_euler", h),
        "M[0, 1]": lambda h: np.array([[1 - h * h, 2 * h], [-h, 1.0]]),
        "stale (OLD) velocity": lambda h: np.array([[1.0, h], [-h, 1.0]]),
        "sign of the kick": lambda h: np.array([[1 + h * h, h], [h, 1.0]]),
        "factor is off": lambda h: np.array([[1 - 2 * h * h, h], [-h, 1.0]]),
    }
    for phrase, fn in wrong.items():
        res = check_symplectic_euler_matrix(fn)
        assert not res.passed and phrase in str(res), (phrase, str(res))
        assert "0.99" not in str(res)  # the matrix itself is never printed (1 - 0.1^2 = 0.99)
    assert "NOT YET" in str(check_symplectic_euler_matrix(stub))


# --- 2.4 ---------------------------------------------------------------------------------------------
def _experiment(system, dts, t_total, tolerance, *, error="right", stop_accurate=True, catch=True, steps=None,
                blowup_factor=100.0, keep_diverging=False, order="stable-first"):
    """The experiment done right, or with one typical mistake (independent of the check's own code)."""
    stable = accurate = None
    still = True
    for dt in sorted(dts):
        n = int(round(t_total / dt)) if steps is None else steps
        try:
            traj = system.run(dt=dt, n_steps=n, blowup_factor=blowup_factor)
        except SimulationDivergedError:
            if not catch:
                raise
            if keep_diverging:
                stable = dt
            break
        stable = dt
        e = traj.total_energy
        err = {"right": np.max(np.abs(e - e[0])) / abs(e[0]), "final": abs(e[-1] - e[0]) / abs(e[0]),
               "signed": np.max(e - e[0]) / abs(e[0]), "absolute": np.max(np.abs(e - e[0])),
               "squared": (np.max(np.abs(e - e[0])) / abs(e[0])) ** 2}[error]
        ok = err <= tolerance
        if ok and (still or not stop_accurate):
            accurate = dt
        still = still and ok
    return (stable, accurate) if order == "stable-first" else (accurate, stable)


def find_dt_limits(system, dts, t_total, tolerance):
    return _experiment(system, dts, t_total, tolerance)


def test_find_dt_limits_correct_passes():
    res = check_find_dt_limits(find_dt_limits)
    assert res.passed, str(res)


def _kit(system, dts, t_total, tolerance):
    scan = st.dt_scan(system, dts, t_total=t_total, progress=False, energy_tolerance=tolerance)
    return scan.largest_stable_dt, scan.largest_accurate_dt


def _v(**kw):
    return lambda system, dts, t_total, tolerance: _experiment(system, dts, t_total, tolerance, **kw)


#: the catalogue of wrong answers of exercise 2.4 and the hint each must get
CATALOGUE_24 = [
    (stub, "not written yet"),
    (_v(keep_diverging=True), "SURVIVED"),
    (_v(catch=False), "catch it"),
    (_kit, "calls npsnn_edu.md.stability"),
    (lambda system, dts, t_total, tolerance: (0.0123, 0.0123), "from the list"),
    (lambda system, dts, t_total, tolerance: None, "return a pair"),
    (lambda system, dts, t_total, tolerance: 0.38, "return a pair"),
    (_v(order="accurate-first"), "wrong order"),
    (_v(error="final"), "END of the run"),
    (_v(error="signed"), "sign"),
    (_v(error="absolute"), "RELATIVE"),
    (_v(stop_accurate=False), "FIRST dt whose error exceeds"),
    (_v(blowup_factor=1.0), "accuracy threshold, not a blow-up"),
    (_v(steps=100), "t_total"),
    (lambda system, dts, t_total, tolerance: (_experiment(system, dts, t_total, tolerance)[0],) * 2,
     "not automatically accurate"),
]


@pytest.mark.parametrize("wrong, phrase", CATALOGUE_24)
def test_find_dt_limits_mistakes_get_their_hint(wrong, phrase):
    res = check_find_dt_limits(wrong)
    assert not res.passed and phrase in str(res), str(res)


def test_find_dt_limits_squared_error_is_not_accepted():
    # squaring a relative error below 1 makes it smaller: more dts look accurate; the check must not pass it
    assert not check_find_dt_limits(_v(error="squared")).passed


# --- 2.5 ---------------------------------------------------------------------------------------------
def lj_u2(r):
    return 4 * (156 / r**14 - 42 / r**8)


def test_dt_limit_at_distance():
    res = check_dt_limit_at_distance(lambda r: 2 / np.sqrt(lj_u2(r) / 0.5))
    assert res.passed and "blew up at" in str(res), str(res)
    # u''(r) formula against a central difference of the LJ energy (independent of the kit)
    r, h = 0.93, 1e-4
    u = lambda x: 4 * (x**-12 - x**-6)  # noqa: E731
    assert lj_u2(r) == pytest.approx((u(r + h) - 2 * u(r) + u(r - h)) / h**2, rel=1e-6)


@pytest.mark.parametrize("wrong, phrase", [
    (stub, "not written yet"),
    (lambda r: 2 / np.sqrt(lj_u2(r)), "REDUCED mass"),
    (lambda r: 1 / np.sqrt(lj_u2(r) / 0.5), "1/omega"),
    (lambda r: 2 / np.sqrt(lj_u2(2 ** (1 / 6)) / 0.5), "curvature at the minimum"),
    (lambda r: 2 / np.sqrt(abs(4 * (-12 / r**13 + 6 / r**7)) / 0.5), "slope"),
    (lambda r: 2 * np.pi / np.sqrt(lj_u2(r) / 0.5), "period"),
    (lambda r: 1.3 * 2 / np.sqrt(lj_u2(r) / 0.5), "off by a factor"),
    (lambda r: 2 / (lj_u2(r) / 0.5), "SQUARE ROOT"),
    (lambda r: 2 / np.sqrt(4 * (156 / r**14 + 42 / r**8) / 0.5), "signs"),
])
def test_dt_limit_at_distance_mistakes(wrong, phrase):
    res = check_dt_limit_at_distance(wrong, explain=False)
    assert not res.passed and phrase in str(res), str(res)


# --- 2.6 ---------------------------------------------------------------------------------------------
def test_baoab_radius_right_answer_passes_and_runs_beyond_two():
    res = check_baoab_radius(lambda h, g: np.exp(-g / 2))
    assert res.passed and "h = 2.05" in str(res) and "> 1" in str(res), str(res)
    # independent reference: the product of the five BAOAB sub-step matrices, by hand (omega = 1, dt = h)
    h, g = 1.2, 0.2
    b = np.array([[1.0, 0.0], [-h / 2, 1.0]])
    a = np.array([[1.0, h / 2], [0.0, 1.0]])
    o = np.diag([1.0, np.exp(-g)])
    m = b @ a @ o @ a @ b
    assert np.max(np.abs(np.linalg.eigvals(m))) == pytest.approx(np.exp(-g / 2), rel=1e-12)


CATALOGUE_26 = [
    (stub, "not written yet"),
    (lambda h, g: np.exp(-g), "SQUARE ROOT"),
    (lambda h, g: 1.0, "friction does change"),
    (lambda h, g: np.exp(g / 2), "sign of the exponent"),
    (lambda h, g: np.exp(-g / 4), "factor is off"),
    (lambda h, g: np.exp(-2 * g), "factor is off"),
    (lambda h, g: 0.5 * (1 + np.exp(-g)) * abs(1 - h * h / 2), "|Re lambda|"),
    (lambda h, g: np.sqrt(1 - np.exp(-2 * g)), "noise amplitude"),
    (lambda h, g: [np.exp(-g / 2), np.exp(-g / 2)], "ONE number"),
    (lambda h, g: st.spectral_radius(st.amplification_matrix("langevin", h, friction=g / h)),
     "calls npsnn_edu.md.stability"),
    (lambda h, g: 0.9 * np.exp(-g / 2), "off by a factor"),
]


@pytest.mark.parametrize("wrong, phrase", CATALOGUE_26)
def test_baoab_radius_mistakes_get_their_hint(wrong, phrase):
    res = check_baoab_radius(wrong, run=False)
    assert not res.passed and phrase in str(res), str(res)
    assert "0.95" not in str(res) and "exp(-gamma dt / 2)" not in str(res)  # never the answer itself


def test_no_check_prints_a_solution_for_any_catalogued_mistake():
    # the answers' tell-tale numbers never appear in feedback to a wrong answer
    for wrong, _ in CATALOGUE_24[:3]:
        text = str(check_find_dt_limits(wrong))
        assert "0.38" not in text and "(0.38" not in text
