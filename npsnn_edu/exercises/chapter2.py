"""Self-checks for chapter 2 (Verlet stability).  Each check calls the student's function defensively
(:func:`~npsnn_edu.exercises.feedback.call_student_function`), never raises, and returns a
:class:`~npsnn_edu.exercises.feedback.CheckResult` with specific feedback.

Exercises (in notebook order)
-----------------------------
1. ``symplectic_euler_matrix(h)``: the 2 x 2 amplification matrix of symplectic Euler (kick then drift)
   at h = omega dt (omega = 1), compared with the matrix measured from the core integrator's own step.
2. ``largest_stable_dt(k, m1, m2)``: the largest stable velocity-Verlet time step for two atoms of masses m1, m2
   joined by a spring k (the reduced mass), verified by simulating the pair just below and just above it.
3. ``energy_error_exponent(integrator)``: the exponent p in |E(T) - E(0)| / E(0) ~ dt^p at a FIXED final time T
   for ``"rk4"`` and ``"euler"`` on the oscillator (derived from their energy factor per step); the check
   measures both by simulation.
4. ``baoab_radius(h, gamma_dt)``: the spectral radius of one noise-free BAOAB Langevin step on the oscillator
   (under-damped case), predicted on paper and then compared with the matrix measured from the core's step.
5. ``find_dt_limits(system, dts, t_total, tolerance)``: the experiment, run by the student's function on hidden
   systems (a stiff spring, a Morse molecule, a Lennard-Jones liquid): the largest STABLE dt (no blow-up: the kit's
   divergence detection, ``SimulationDivergedError``) and the largest ACCURATE dt (max relative energy error <=
   tolerance), both below the first failure; compared with hidden reference runs.
6. ``dt_limit_at_distance(r)``: the linear limit 2 / omega with omega = sqrt(u''(r) / mu) of a Lennard-Jones pair
   at distance r: the explanation of the liquid's limit (the closest approach, not the minimum).

Every check recognises the usual mistakes of its exercise (sign, factor, squared or not, shape, stale
velocity/force, wrong order, wrong criterion) and says which one with a hint; tests/test_exercises_ch2.py feeds each
check its catalogue of wrong answers.

No feedback prints the expected answer; answers that call the kit's :mod:`npsnn_edu.md.stability` (which computes
the answers of exercises 1 and 4) are refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from ..errors import SimulationDivergedError
from ..integrators import simulate
from ..md import stability
from ..md.stability import amplification_matrix, analytic_amplification_matrix, spectral_radius
from ..potentials import Harmonic, LennardJones
from ..systems import harmonic_oscillator, lj_fcc_system
from ..validation import Constraints, Positive, validate_params
from .feedback import CheckResult, call_student_function, calls_into, checker

__all__ = ["check_largest_stable_dt", "check_energy_error_exponent", "check_symplectic_euler_matrix",
           "check_find_dt_limits", "check_dt_limit_at_distance", "check_baoab_radius",
           "PairSpring"]

_SPRINGS = ((1.0, 1.0), (4.0, 1.0), (100.0, 1.0), (9.0, 4.0), (0.25, 2.0))


def _as_float(value: Any) -> float | None:
    try:
        out = float(np.asarray(value, dtype=float).reshape(()))
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _close(a: float, b: float, rtol: float = 1e-3) -> bool:
    return abs(a - b) <= rtol * abs(b)


class PairSpring:
    """Two atoms joined by a spring of stiffness k and rest length r0 (1D): u = k (x1 - x0 - r0)^2 / 2.

    Parameters
    ----------
    k : float
        Stiffness (epsilon/sigma^2).
    r0 : float, default 1.0
        Rest length (sigma).

    Raises
    ------
    InvalidParameterError
        ``k`` or ``r0`` not a positive finite number.
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "k": Positive(hint="stiffness in epsilon/sigma^2"),
        "r0": Positive(hint="rest length in sigma"),
    }

    def __init__(self, k: float, r0: float = 1.0):
        p = validate_params(self._parameter_constraints, {"k": k, "r0": r0})
        self.k, self.r0 = p["k"], p["r0"]

    def energy_and_forces(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Energy and forces of two atoms in 1D.

        Parameters
        ----------
        x : array of shape (2, 1)
            Positions (sigma).

        Returns
        -------
        energy : float
        forces : array of shape (2, 1)
        """
        x = np.asarray(x, dtype=float)
        s = x[1, 0] - x[0, 0] - self.r0
        f = np.zeros_like(x)
        f[0, 0], f[1, 0] = self.k * s, -self.k * s
        return 0.5 * self.k * s * s, f


_PAIRS = ((1.0, 1.0, 1.0), (4.0, 1.0, 3.0), (100.0, 2.0, 0.5), (9.0, 16.0, 1.0), (0.25, 2.0, 2.0))


def _simulate_pair(k: float, m1: float, m2: float, dt: float, n_steps: int = 2000) -> "int | None":
    """None if the pair stays bounded for n_steps, else the step where the kit's divergence detection fired."""
    try:
        simulate(PairSpring(k), [[0.0], [1.2]], [[0.0], [0.0]], dt=dt, n_steps=n_steps, masses=[m1, m2],
                 record_every=n_steps)
    except SimulationDivergedError as exc:
        return int(exc.step)
    return None


@checker("Exercise 2.2: largest stable time step of a diatomic")
def check_largest_stable_dt(fn: Callable[[float, float, float], float], verify: bool = True) -> CheckResult:
    """Check ``fn(k, m1, m2)``: the largest stable velocity-Verlet dt for two masses joined by a spring k.

    Reference: 2 sqrt(mu / k) with the reduced mass mu = m1 m2 / (m1 + m2); if right, the check simulates a
    hidden pair at 0.95x and 1.05x of the student's dt (bounded below, diverging above). Feedback names the
    mistake without printing the expected value.
    """
    name = "Exercise 2.2: largest stable time step of a diatomic"
    answers = {}
    for case in _PAIRS:
        ok, value, msg = call_student_function(name, fn, *case)
        if not ok:
            return CheckResult(name, False, [msg])
        val = _as_float(value)
        if val is None:
            return CheckResult(name, False, [f"largest_stable_dt{case} returned {value!r}; return one number (a time)"])
        answers[case] = val

    def mu(m1: float, m2: float) -> float:
        return m1 * m2 / (m1 + m2)

    wrong = [case for case, v in answers.items() if not _close(v, 2.0 * np.sqrt(mu(*case[1:]) / case[0]))]
    if wrong:
        patterns = [
            (lambda k, m1, m2: 2.0 * np.sqrt(m1 / k), "you used the mass of ONE atom. Both atoms move: the "
             "relative coordinate r = x2 - x1 oscillates with the REDUCED mass mu = m1 m2 / (m1 + m2)."),
            (lambda k, m1, m2: 2.0 * np.sqrt(min(m1, m2) / k), "the lighter mass alone is not enough: the relative "
             "coordinate oscillates with the reduced mass mu = m1 m2 / (m1 + m2), lighter than either atom."),
            (lambda k, m1, m2: 2.0 * np.sqrt((m1 + m2) / k), "that is the total mass; the vibration of the pair "
             "involves the REDUCED mass mu = m1 m2 / (m1 + m2)."),
            (lambda k, m1, m2: 2.0 * np.sqrt(k / mu(m1, m2)), "k and the mass are swapped: a STIFFER spring must "
             "need a SMALLER dt. omega = sqrt(k / mu), and the limit is omega dt < 2."),
            (lambda k, m1, m2: 2.0 * np.pi * np.sqrt(mu(m1, m2) / k), "that is the period T = 2 pi / omega. "
             "Verlet's limit is omega dt < 2: about a third of a period."),
            (lambda k, m1, m2: np.pi * np.sqrt(mu(m1, m2) / k), "that is half a period. The amplification matrix has "
             "trace 2 - h^2; it stays stable while |trace| <= 2."),
            (lambda k, m1, m2: np.sqrt(mu(m1, m2) / k), "that is 1/omega: a factor is missing (|2 - h^2| <= 2)."),
            (lambda k, m1, m2: 2.0 * np.sqrt(2.0) * np.sqrt(mu(m1, m2) / k), "2 sqrt(2) / omega is RK4's limit, "
             "not Verlet's."),
            (lambda k, m1, m2: 2.0 * mu(m1, m2) / k, "check the units: dt must be sqrt(mass / spring constant), so "
             "take a square root (omega = sqrt(k / mu))."),
        ]
        patterns.append((lambda k, m1, m2: -2.0 * np.sqrt(mu(m1, m2) / k), "check the sign: a time step is a "
                         "positive time."))
        for formula, hint in patterns:
            if all(_close(v, formula(*case)) for case, v in answers.items()):
                return CheckResult(name, False, [f"Not yet for (k, m1, m2) = {wrong[0]}: {hint}"])
        return CheckResult(name, False, [
            f"Not yet for (k, m1, m2) = {wrong[0]} (and {len(wrong) - 1} more of five pairs). Hint: write the "
            "equation of motion of r = x2 - x1, find its omega, and use Verlet's limit h = omega dt < 2."])
    messages = ["Your formula is right for all five pairs (equal and unequal masses)."]
    if verify:
        k, m1, m2 = 50.0, 1.0, 4.0
        dt_star = float(call_student_function(name, fn, k, m1, m2)[1])
        for factor in (0.95, 1.05):
            step = _simulate_pair(k, m1, m2, factor * dt_star)
            if step is None:
                messages.append(f"simulated a pair k = {k:g}, m = ({m1:g}, {m2:g}) at {factor:.2f} x your dt: "
                                "2000 steps, bounded")
            else:
                messages.append(f"simulated a pair k = {k:g}, m = ({m1:g}, {m2:g}) at {factor:.2f} x your dt: "
                                f"diverged at step {step}, as predicted")
    return CheckResult(name, True, messages)


def _fixed_time_energy_error(integrator: str, dts: "tuple[float, ...]", t_final: float) -> float:
    """Fitted exponent p of |E(T) - E(0)| / E(0) ~ dt^p on the oscillator at fixed final time T."""
    errs = []
    for dt in dts:
        n = int(round(t_final / dt))
        traj = simulate(Harmonic(k=1.0), [[1.0]], [[0.0]], dt=dt, n_steps=n, integrator=integrator, record_every=n,
                        blowup_factor=None)
        e = traj.total_energy
        errs.append(abs(e[-1] - e[0]) / e[0])
    return float(np.polyfit(np.log(dts), np.log(errs), 1)[0])


@checker("Exercise 2.3: energy-error exponents at a fixed time")
def check_energy_error_exponent(fn: Callable[[str], float], measure: bool = True) -> CheckResult:
    """Check ``fn(integrator)`` -> p in |E(T) - E(0)| / E(0) ~ dt^p at fixed T, for ``"rk4"`` and ``"euler"``.

    On the oscillator RK4 multiplies the energy by 1 - h^6/72 + ... per step and explicit Euler by 1 + h^2; a
    fixed time T takes T/h steps. The check measures both exponents by simulation (hidden T).
    """
    name = "Exercise 2.3: energy-error exponents at a fixed time"
    got = {}
    for integrator in ("rk4", "euler"):
        ok, value, msg = call_student_function(name, fn, integrator)
        if not ok:
            return CheckResult(name, False, [msg])
        val = _as_float(value)
        if val is None:
            return CheckResult(name, False, [f"energy_error_exponent({integrator!r}) returned {value!r}; "
                                             "return a number"])
        got[integrator] = val
    expected = {"rk4": 5.0, "euler": 1.0}
    hints = {
        ("rk4", 4.0): "4 is the order of RK4's TRAJECTORY error. The energy is a different quantity: on the "
                      "oscillator each step multiplies it by 1 - h^6/72 + ...; now count the steps to reach T.",
        ("rk4", 6.0): "h^6 is the energy error of ONE step; at a fixed final time T the number of steps T/h grows "
                      "as dt shrinks.",
        ("rk4", 7.0): "the local (one-step) error of the energy is O(h^6), not O(h^7); then count the steps.",
        ("rk4", 2.0): "2 belongs to Verlet's bounded oscillation; RK4's energy factor per step is 1 - h^6/72 + ...",
        ("euler", 2.0): "h^2 is the energy gain of ONE step, (1 + h^2); over T/h steps the gains add up.",
        ("euler", 3.0): "the one-step energy factor is 1 + h^2 (not h^3); then count the T/h steps.",
        ("euler", 0.0): "the error does shrink with dt: (1 + h^2)^(T/h) - 1 is small for small h.",
    }
    problems = []
    for integrator, val in got.items():
        if val < 0:
            problems.append(f"for {integrator} you answered {val:g}: check the sign. The error SHRINKS as dt shrinks, "
                            "so in error ~ dt^p the exponent p is positive.")
            continue
        if abs(val - expected[integrator]) > 1e-9:
            hint = hints.get((integrator, float(round(val))), "start from the energy factor per step and count "
                             "the T/dt steps to the fixed final time.")
            problems.append(f"for {integrator} you answered {val:g}: {hint}")
    if problems:
        return CheckResult(name, False, problems)
    messages = ["Correct: at fixed T, RK4's energy error ~ T h^5 / 72 and explicit Euler's ~ T h (for T h << 1)."]
    if measure:
        p_rk4 = _fixed_time_energy_error("rk4", (0.1, 0.2, 0.4), 7.0)
        p_euler = _fixed_time_energy_error("euler", (0.001, 0.002, 0.004), 7.0)
        messages.append(f"measured on the oscillator to T = 7: rk4 ~ dt^{p_rk4:.2f}, euler ~ dt^{p_euler:.2f}")
    return CheckResult(name, True, messages)


@checker("Exercise 2.1: amplification matrix of symplectic Euler")
def check_symplectic_euler_matrix(fn: Callable[[float], Any]) -> CheckResult:
    """Compare ``fn(h)`` with the matrix measured by applying the core's SymplecticEuler step to (1,0) and (0,1)."""
    name = "Exercise 2.1: amplification matrix of symplectic Euler"
    for h in (0.1, 0.7, 1.5, 2.5):
        with calls_into(stability) as spy:
            ok, value, msg = call_student_function(name, fn, h)
        if not ok:
            return CheckResult(name, False, [msg])
        if spy.called:
            return CheckResult(name, False, ["Your function calls npsnn_edu.md.stability (which measures the matrix "
                                             "for you): write the 2 x 2 matrix from v' = v - h x, x' = x + h v'."])
        try:
            mat = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return CheckResult(name, False, [f"symplectic_euler_matrix({h}) returned {value!r}; return a 2 x 2 array"])
        if mat.shape != (2, 2):
            return CheckResult(name, False, [f"symplectic_euler_matrix({h}) has shape {mat.shape}; it must be 2 x 2 "
                                             "(new (x, v) = M @ (x, v))"])
        ref = amplification_matrix("symplectic_euler", h)
        if np.allclose(mat, ref, rtol=1e-9, atol=1e-12):
            continue
        hint = "compare row by row: new x = M[0] @ (x, v), new v = M[1] @ (x, v), with omega = 1."
        if np.allclose(mat, ref.T, atol=1e-12):
            hint = "rows and columns are swapped: the FIRST ROW gives the new x from (x, v)."
        elif np.allclose(mat, analytic_amplification_matrix("euler", h), atol=1e-12):
            hint = ("that is explicit Euler's matrix (det 1 + h^2): your drift used the stale (OLD) velocity. "
                    "Symplectic Euler kicks first, v' = v - h x, and then drifts with the NEW velocity: x' = x + h v'.")
        elif np.allclose(mat, np.array([[1.0 + h * h, h], [h, 1.0]]), atol=1e-12):
            hint = "check the sign of the kick: the spring pulls back, the force is -k x, so v' = v - h x."
        elif np.allclose(mat, np.array([[1.0 - h * h / 2, h], [-h, 1.0]]), atol=1e-12) or np.allclose(
                mat, np.array([[1.0 - 2 * h * h, h], [-h, 1.0]]), atol=1e-12):
            hint = ("a factor is off in M[0, 0]: x' = x + h v' with v' = v - h x gives x' = x + h v - h^2 x, a full h "
                    "times a full h.")
        elif np.allclose(mat, analytic_amplification_matrix("velocity_verlet", h), atol=1e-12):
            hint = "that is velocity Verlet's matrix (half kicks); symplectic Euler does one full kick, then one drift."
        elif np.allclose(mat, np.array([[1.0, h], [-h, 1.0 - h * h]]), atol=1e-12):
            hint = ("that is the drift-then-kick variant (also symplectic); the core's SymplecticEuler kicks first: "
                    "v' = v - h x, x' = x + h v'.")
        bad = [f"M[{i}, {j}]" for i in range(2) for j in range(2) if not np.isclose(mat[i, j], ref[i, j])]
        return CheckResult(name, False, [f"at h = {h} your matrix differs from the one measured from the core's "
                                         f"step in {', '.join(bad)}: {hint}"])
    rho = [spectral_radius(amplification_matrix("symplectic_euler", h)) for h in (1.9, 2.1)]
    return CheckResult(name, True, [
        "Matches the matrix measured from the core's step at h = 0.1, 0.7, 1.5 and 2.5.",
        f"det M = 1 (area preserving) and trace 2 - h^2: |trace| <= 2 exactly while h <= 2; spectral radius "
        f"{rho[0]:.3f} at h = 1.9, {rho[1]:.3f} at h = 2.1."])


# ------------------------------------------------------------------------------------------------
# Exercise 2.5: the largest stable and the largest accurate dt, by experiment
# ------------------------------------------------------------------------------------------------
def _hidden_experiments() -> list[tuple[Any, list[float], float, float, str]]:
    """(system, dts, t_total, tolerance, label): the hidden experiments of exercise 2.4."""
    return [
        (harmonic_oscillator(k=25.0), [0.01, 0.03, 0.05, 0.07, 0.1, 0.2, 0.3, 0.38, 0.42, 0.5], 30.0, 0.01,
         "a stiff spring"),
        (stability.morse_at_energy(0.6), [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0], 20.0, 2.0,
         "a Morse molecule"),
        (lj_fcc_system(n_cells=3, temperature=2.0, seed=5), [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04,
                                                            0.05, 0.06], 0.6, 1e-3, "a Lennard-Jones liquid at T = 2"),
    ]


@dataclass
class _Record:
    """One hidden reference experiment: per dt (increasing) whether it diverged and its total energy E(t)."""

    dts: list[float]
    diverged: list[bool]
    energies: list["np.ndarray | None"]


def _record(system: Any, dts: list[float], t_total: float, blowup_factor: "float | None" = 100.0) -> _Record:
    out = _Record([], [], [])
    for dt in sorted(dts):
        try:
            traj = system.run(dt=dt, n_steps=int(round(t_total / dt)), blowup_factor=blowup_factor, progress=False)
            out.energies.append(np.asarray(traj.total_energy, dtype=float))
            out.diverged.append(False)
        except SimulationDivergedError:
            out.energies.append(None)
            out.diverged.append(True)
        out.dts.append(float(dt))
    return out


def _error(e: np.ndarray, variant: str) -> float:
    """The run's energy error as the right answer measures it, or as a typical mistake does."""
    if variant == "final":
        return float(abs(e[-1] - e[0]) / abs(e[0]))
    if variant == "signed":
        return float(np.max(e - e[0]) / abs(e[0]))
    if variant == "absolute":
        return float(np.max(np.abs(e - e[0])))
    return float(np.max(np.abs(e - e[0])) / abs(e[0]))


def _limits(rec: _Record, tolerance: float, variant: str = "right") -> tuple[float | None, float | None]:
    """(largest stable dt, largest accurate dt) of a record, computed right or with one typical mistake."""
    stable = accurate = None
    still_accurate = True
    for dt, div, e in zip(rec.dts, rec.diverged, rec.energies):
        if div:
            if variant == "diverging":
                stable = dt
            break
        stable = dt
        ok = _error(e, variant) <= tolerance
        if ok and (still_accurate or variant == "no_stop"):
            accurate = dt
        still_accurate = still_accurate and ok
    return stable, accurate


_ACCURACY_HINTS = {
    "final": "your accurate dt is judged by the error at the END of the run; take the largest error over the whole "
             "run (the energy oscillates: the end may land near a small value).",
    "signed": "check the sign: the energy error can be negative; compare the largest |E(t) - E(0)| (absolute value) "
              "with the tolerance.",
    "absolute": "the tolerance is RELATIVE: divide the energy error by |E(0)| before comparing.",
    "no_stop": "for the accurate dt stop at the FIRST dt whose error exceeds the tolerance; a larger dt that happens "
               "to look accurate again does not count (the error is not monotonic in dt).",
}


def _pair(value: Any) -> "tuple[float | None, float | None] | None":
    try:
        a, b = value
    except (TypeError, ValueError):
        return None
    conv = []
    for x in (a, b):
        if x is None:
            conv.append(None)
            continue
        f = _as_float(x)
        if f is None:
            return None
        conv.append(f)
    return conv[0], conv[1]


def _same(a: "float | None", b: "float | None") -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _close(a, b, 1e-9)


@checker("Exercise 2.5: the largest stable and the largest accurate time step, by experiment")
def check_find_dt_limits(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(system, dts, t_total, tolerance)`` -> ``(largest_stable_dt, largest_accurate_dt)``.

    Each run lasts ``t_total`` (n = round(t_total / dt) steps) with ``system.run(...)`` (the kit's divergence
    criterion: energy moved by more than 100 x its initial scale); a diverged run raises
    :class:`~npsnn_edu.errors.SimulationDivergedError`. A surviving run is accurate when max |E(t) - E(0)| / |E(0)|
    <= ``tolerance``. Both answers are the largest dt below the first failure (None if the smallest dt already
    fails). The student's function runs on hidden systems with hidden grids; mistakes are recognised by comparing
    with the same experiment done wrong in each usual way. Answers that call :mod:`npsnn_edu.md.stability` are refused.
    """
    name = "Exercise 2.5: the largest stable and the largest accurate time step, by experiment"
    for system, dts, t_total, tol, label in _hidden_experiments():
        where = f"(hidden system: {label})"
        with calls_into(stability) as spy:
            ok, value, msg = call_student_function(name, fn, system, list(dts), t_total, tol)
        if spy.called:
            return CheckResult(name, False, ["Your function calls npsnn_edu.md.stability (dt_scan does the experiment "
                                             "for you): run system.run(...) yourself for each dt."])
        if not ok:
            if "SimulationDivergedError" in msg:
                msg = ("A blow-up escaped from your function (SimulationDivergedError). A diverging run is a RESULT "
                       "of the experiment, not a failure: catch it with try/except SimulationDivergedError.")
            return CheckResult(name, False, [msg])
        got = _pair(value)
        if got is None:
            return CheckResult(name, False, [f"For {label} your function returned {value!r}; return a pair "
                                             "(largest_stable_dt, largest_accurate_dt) of two dts from the list."])
        rec = _record(system, dts, t_total)
        right = _limits(rec, tol)
        if _same(got[0], right[0]) and _same(got[1], right[1]):
            continue
        if _same(got[0], right[1]) and _same(got[1], right[0]) and not _same(right[0], right[1]):
            return CheckResult(name, False, ["The two answers are in the wrong order: return (largest_stable_dt, "
                                             "largest_accurate_dt); the accurate one can never be the larger.", where])
        if any(x is not None and not any(_close(x, d, 1e-9) for d in dts) for x in got):
            return CheckResult(name, False, [f"Return dts from the list you were given {where}."])
        problems = []
        if not _same(got[0], right[0]):
            if _same(got[0], _limits(rec, tol, "diverging")[0]):
                problems.append("Your stable dt blew up: return the largest dt that SURVIVED, the one just below "
                                "the first divergence.")
            elif got[0] is not None and right[0] is not None and got[0] < right[0] and _same(
                    got[0], _limits(_record(system, dts, t_total, 1.0), tol)[0]):
                problems.append("You called a run diverged when its energy changed by its whole initial scale "
                                "(blowup_factor=1): that is an accuracy threshold, not a blow-up. Use system.run's "
                                "default divergence detection for the stable dt.")
            elif got[0] is not None and right[0] is not None and got[0] < right[0]:
                problems.append("Your stable dt is too small: a larger dt still ran without blowing up. Does every "
                                "run last t_total (n_steps = round(t_total / dt)), and do you stop only at a "
                                "SimulationDivergedError (not at an inaccurate run)?")
            else:
                problems.append("Your stable dt is too large: a smaller dt already diverged. Scan the dts in "
                                "increasing order and stop at the first divergence.")
        if not _same(got[1], right[1]):
            hint = None
            if _same(got[1], got[0]):
                hint = ("your accurate dt equals your stable dt: a run that survives is not automatically accurate; "
                        "compare its largest relative energy error with the tolerance (mind the sign: take the "
                        "absolute value |E(t) - E(0)|).")
            hint = hint or next((h for variant, h in _ACCURACY_HINTS.items()
                                 if _same(got[1], _limits(rec, tol, variant)[1])), None)
            problems.append("Accurate dt: " + (hint or "not the reference's. Measure max |E(t) - E(0)| / |E(0)| over "
                                                       "each surviving run and stop at the first that exceeds the "
                                                       "tolerance."))
        return CheckResult(name, False, [*problems, where])
    return CheckResult(name, True, ["Your experiment finds the same two limits as hidden reference runs on three "
                                    "systems (a stiff spring, a Morse molecule, a hotter LJ liquid). Notice how far "
                                    "below the stability limit the accuracy limit lies."])


# ------------------------------------------------------------------------------------------------
# Exercise 2.6: explain the limit - the curvature at the closest approach
# ------------------------------------------------------------------------------------------------
_DISTANCES = (0.86, 0.9, 0.95, 1.0, 1.05, 1.12)


@checker("Exercise 2.6: the time-step limit of a colliding LJ pair")
def check_dt_limit_at_distance(fn: Callable[[float], Any], *, explain: bool = True) -> CheckResult:
    """Check ``fn(r)`` -> 2 / omega(r), omega = sqrt(u''(r) / mu), for a Lennard-Jones pair (sigma = epsilon = m = 1,
    mu = 1/2) at distances r inside the inflection point. Reference: finite differences of the kit's LJ force.
    On a pass, compares the formula at a liquid's closest approach with that liquid's measured limit."""
    name = "Exercise 2.6: the time-step limit of a colliding LJ pair"
    lj = LennardJones(cutoff=None, shift=False)
    got = []
    for r in _DISTANCES:
        ok, value, msg = call_student_function(name, fn, r)
        if not ok:
            return CheckResult(name, False, [msg])
        val = _as_float(value)
        if val is None:
            return CheckResult(name, False, [f"dt_limit_at_distance({r}) returned {value!r}; return one number"])
        got.append(val)
    got_arr = np.array(got)
    r = np.array(_DISTANCES)
    curv = stability.pair_curvature(lj, r)
    ref = 2.0 / np.sqrt(curv / 0.5)
    if np.allclose(got_arr, ref, rtol=1e-4):
        messages = ["Your limit 2 / sqrt(u''(r) / mu) matches finite differences of the LJ force at six distances."]
        if explain:
            system = lj_fcc_system(n_cells=3, temperature=2.0, seed=5)
            dts = [0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06]
            scan = stability.dt_scan(system, dts, t_total=0.6, progress=False)
            r_min = float(scan.min_distance[0])
            mine = _as_float(call_student_function(name, fn, r_min)[1])
            messages.append(f"A liquid at T = 2 comes as close as r = {r_min:.3f} sigma; there your formula gives "
                            f"dt* = {mine:.4f} tau, against {scan.dt_linear_limit:.3f} tau at the minimum. The run "
                            f"survived dt = {scan.largest_stable_dt:g} and blew up at "
                            f"{scan.smallest_diverging_dt:g}: the collisions, not the well, set the limit.")
        return CheckResult(name, True, messages)
    u2_min = float(lj.curvature_at_minimum)
    first = 4 * (-12 / r**13 + 6 / r**7)
    wrong = {
        "You used the mass m of one atom: two colliding atoms move against each other with the REDUCED mass "
        "mu = m/2.": 2.0 / np.sqrt(curv),
        "That is 1/omega: Verlet's limit is h = omega dt < 2.": 1.0 / np.sqrt(curv / 0.5),
        "Your answer does not depend on r: you used the curvature at the minimum. The limit must use u''(r) at the "
        "distance given, which is far stiffer on the repulsive wall.": np.full_like(r, 2.0 / np.sqrt(u2_min / 0.5)),
        "You used the slope u'(r) (minus the force), not the curvature u''(r).": 2.0 / np.sqrt(np.abs(first) / 0.5),
        "That is the period 2 pi / omega: Verlet's limit is omega dt < 2.": 2 * np.pi / np.sqrt(curv / 0.5),
        "Squared or not: omega is the SQUARE ROOT of u''(r) / mu.": 2.0 / (curv / 0.5),
        "Check the signs in u''(r): differentiating -r^-6 twice gives -42 r^-8 (a minus sign).":
            2.0 / np.sqrt(4 * (156 / r**14 + 42 / r**8) / 0.5),
    }
    for feedback, w in wrong.items():
        if np.allclose(got_arr, w, rtol=1e-4):
            return CheckResult(name, False, [feedback])
    k = int(np.argmax(np.abs(got_arr / ref - 1)))
    return CheckResult(name, False, [f"At r = {_DISTANCES[k]} your limit is off by a factor {got_arr[k] / ref[k]:.3g}. "
                                     "Differentiate u(r) = 4 (r^-12 - r^-6) twice, then omega = sqrt(u''(r) / mu), "
                                     "mu = 1/2, and dt* = 2 / omega."])


# ------------------------------------------------------------------------------------------------
# Exercise 2.4: BAOAB with friction (predict, then run)
# ------------------------------------------------------------------------------------------------
_BAOAB_CASES = ((0.5, 0.02), (1.0, 0.1), (1.5, 0.3), (0.8, 0.05), (1.2, 0.2))


def _baoab_reference(h: float, gamma_dt: float) -> float:
    """rho of the BAOAB matrix measured from the core's noise-free Langevin step (omega = 1, dt = h)."""
    return spectral_radius(amplification_matrix("langevin", h, friction=gamma_dt / h))


@checker("Exercise 2.4: the spectral radius of a BAOAB step")
def check_baoab_radius(fn: Callable[[float, float], Any], *, run: bool = True) -> CheckResult:
    """Check ``fn(h, gamma_dt)`` -> spectral radius of one noise-free BAOAB step at h = omega dt with
    c = exp(-gamma dt), in the under-damped case (complex eigenvalues). Reference: the matrix measured from the
    core's Langevin step. On a pass, runs the matrix just beyond h = 2 with friction: still unstable."""
    name = "Exercise 2.4: the spectral radius of a BAOAB step"
    got = []
    for h, g in _BAOAB_CASES:
        with calls_into(stability) as spy:
            ok, value, msg = call_student_function(name, fn, h, g)
        if spy.called:
            return CheckResult(name, False, ["Your function calls npsnn_edu.md.stability (which measures the matrix "
                                             "for you): predict the radius from det M and the eigenvalues."])
        if not ok:
            return CheckResult(name, False, [msg])
        val = _as_float(value)
        if val is None:
            shape = np.shape(value) if isinstance(value, (list, tuple, np.ndarray)) else None
            extra = f" (shape {shape}: the two eigenvalues?)" if shape else ""
            return CheckResult(name, False, [f"baoab_radius({h}, {g}) returned {value!r}{extra}; return ONE number, "
                                             "the largest |eigenvalue|."])
        got.append(val)
    got_arr = np.array(got)
    hs = np.array([c[0] for c in _BAOAB_CASES])
    gs = np.array([c[1] for c in _BAOAB_CASES])
    ref = np.array([_baoab_reference(h, g) for h, g in _BAOAB_CASES])
    if np.allclose(got_arr, ref, rtol=1e-9, atol=1e-12):
        messages = ["Matches the radius measured from the core's noise-free BAOAB step at five (h, gamma dt): "
                    "friction shrinks |lambda| below 1, the same at every h of the under-damped range."]
        if run:
            rho = _baoab_reference(2.05, 0.1)
            messages.append(f"Now the run: at h = 2.05 with the same friction the measured radius is {rho:.2f} > 1. "
                            "Friction does not move the stability limit h = 2.")
        return CheckResult(name, True, messages)
    c = np.exp(-gs)
    wrong = [
        (c, "squared or not: |lambda|^2 = det M = c for a complex pair, so |lambda| is the SQUARE ROOT of c."),
        (np.ones_like(c), "friction does change the answer: the O step multiplies v by c = exp(-gamma dt) < 1, so "
                          "det M = c < 1."),
        (np.exp(gs / 2), "check the sign of the exponent: friction removes energy, so |lambda| < 1."),
        (np.exp(gs), "check the sign of the exponent (and whether to take a square root)."),
        (np.exp(-gs / 4), "a factor is off in the exponent: det M = c = exp(-gamma dt) and |lambda| = sqrt(det M)."),
        (np.exp(-2 * gs), "a factor is off in the exponent: det M = c = exp(-gamma dt) and |lambda| = sqrt(det M)."),
        (0.5 * (1 + c) * np.abs(1 - hs**2 / 2), "that is |Re lambda| = |trace| / 2; a complex pair has "
                                                "|lambda| = sqrt(det M)."),
        (np.sqrt(1 - c**2), "that is the noise amplitude of the O step, not the damping of the velocity."),
    ]
    for w, hint in wrong:
        if np.allclose(got_arr, w, rtol=1e-6):
            return CheckResult(name, False, [hint])
    k = int(np.argmax(np.abs(got_arr / ref - 1)))
    return CheckResult(name, False, [f"At (h, gamma dt) = {_BAOAB_CASES[k]} your radius is off by a factor "
                                     f"{got_arr[k] / ref[k]:.3g}. Hint: the determinant of a product is the product "
                                     "of the determinants (B and A have det 1), and a complex pair has |lambda|^2 = "
                                     "det M."])
