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
4. ``find_largest_stable_dt(system, dts, t_total)``: the experiment, run by the student's function on hidden
   systems (a Lennard-Jones liquid, a Morse molecule, a stiff spring) and compared with a hidden bracketing run.
5. ``dt_limit_at_distance(r)``: the linear limit 2 / omega with omega = sqrt(u''(r) / mu) of a Lennard-Jones pair
   at distance r: the explanation of the liquid's limit (the closest approach, not the minimum).

No feedback prints the expected answer; answers that call the kit's :mod:`npsnn_edu.stability` (which computes
the answers of exercises 1 and 4) are refused.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import stability
from ..errors import SimulationDivergedError
from ..integrators import simulate
from ..potentials import Harmonic, LennardJones
from ..stability import amplification_matrix, analytic_amplification_matrix, spectral_radius
from .feedback import CheckResult, call_student_function, calls_into, checker

__all__ = ["check_largest_stable_dt", "check_energy_error_exponent", "check_symplectic_euler_matrix",
           "check_find_largest_stable_dt", "check_dt_limit_at_distance", "PairSpring"]

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
    """Two atoms joined by a spring of stiffness k and rest length r0 (1D): u = k (x1 - x0 - r0)^2 / 2."""

    def __init__(self, k: float, r0: float = 1.0):
        self.k, self.r0 = float(k), float(r0)

    def energy_and_forces(self, x: np.ndarray) -> tuple[float, np.ndarray]:
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
            return CheckResult(name, False, ["Your function calls npsnn_edu.stability (which measures the matrix "
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
            hint = ("that is explicit Euler's matrix (det 1 + h^2). Symplectic Euler kicks first, v' = v - h x, and "
                    "then drifts with the NEW velocity: x' = x + h v'.")
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
# Exercise 2.4: the largest stable dt by experiment
# ------------------------------------------------------------------------------------------------
def _hidden_experiments() -> list[tuple[Any, list[float], float, str]]:
    from ..systems import harmonic_oscillator, lj_fcc_system

    return [
        (lj_fcc_system(n_cells=3, temperature=2.0, seed=5), [0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06],
         0.6, "a Lennard-Jones liquid at T = 2"),
        (stability.morse_at_energy(0.6), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0], 20.0, "a Morse molecule"),
        (harmonic_oscillator(k=25.0), [0.1, 0.2, 0.3, 0.38, 0.42, 0.5, 0.6], 30.0, "a stiff spring"),
    ]


def _bracket(system: Any, dts: list[float], t_total: float, blowup_factor: float = 1.0) -> tuple[float, float]:
    """The hidden bracketing run: (largest stable dt below the first divergence, first diverging dt)."""
    scan = stability.dt_scan(system, dts, t_total=t_total, progress=False, blowup_factor=blowup_factor,
                             track_min_distance=False)
    return scan.largest_stable_dt, scan.smallest_diverging_dt


@checker("Exercise 2.4: the largest stable time step, by experiment")
def check_find_largest_stable_dt(fn: Callable[..., Any]) -> CheckResult:
    """Check ``fn(system, dts, t_total)`` -> the largest dt of ``dts`` whose run survives, below the first blow-up.

    Each run lasts ``t_total`` (n = round(t_total / dt) steps) with ``system.run(..., blowup_factor=1.0)``; a run
    diverges when the kit raises :class:`~npsnn_edu.errors.SimulationDivergedError`. The student's function runs
    on hidden systems (a hotter LJ liquid, a Morse molecule, a stiff spring) with hidden grids; the answer must
    equal the hidden bracketing run's. Answers that call :mod:`npsnn_edu.stability` (``dt_scan``) are refused.
    """
    name = "Exercise 2.4: the largest stable time step, by experiment"
    for system, dts, t_total, label in _hidden_experiments():
        with calls_into(stability) as spy:
            ok, value, msg = call_student_function(name, fn, system, list(dts), t_total)
        if spy.called:
            return CheckResult(name, False, ["Your function calls npsnn_edu.stability (dt_scan does the experiment "
                                             "for you): run system.run(...) yourself for each dt."])
        if not ok:
            if "SimulationDivergedError" in msg:
                msg = ("A blow-up escaped from your function (SimulationDivergedError). A diverging run is a RESULT "
                       "of the experiment, not a failure: catch it with try/except SimulationDivergedError.")
            return CheckResult(name, False, [msg])
        got = _as_float(value)
        if got is None:
            return CheckResult(name, False, [f"For {label} your function returned {value!r}; return one dt from "
                                             "the list."])
        stable, diverging = _bracket(system, dts, t_total)
        if _close(got, stable, 1e-9):
            continue
        where = f"(hidden system: {label})"
        if not any(_close(got, d, 1e-9) for d in dts):
            return CheckResult(name, False, [f"Return one of the dts you were given (the largest that survived) "
                                             f"{where}."])
        if _close(got, diverging, 1e-9):
            return CheckResult(name, False, ["That dt blew up: return the largest dt that SURVIVED, the one just "
                                             "below the first divergence.", where])
        if np.isfinite(diverging) and got > diverging:
            loose = _bracket(system, dts, t_total, blowup_factor=100.0)[0]
            if _close(got, loose, 1e-9):
                return CheckResult(name, False, ["Pass blowup_factor=1.0 to system.run: with the default (100) a run "
                                                 "that has gained far more than its whole energy scale still counts "
                                                 "as alive (a liquid can boil to T ~ 45 and stay finite).", where])
            return CheckResult(name, False, ["A smaller dt diverged before this one: stop at the FIRST divergence "
                                             "(scan the dts in increasing order).", where])
        return CheckResult(name, False, ["Your dt is too small: a larger dt in the list still survived. Does every "
                                         "run last t_total (n_steps = round(t_total / dt)), not a fixed number of "
                                         "steps?", where])
    return CheckResult(name, True, ["Your experiment finds the same limit as a hidden bracketing run on three systems "
                                    "(a hotter LJ liquid, a Morse molecule, a stiff spring)."])


# ------------------------------------------------------------------------------------------------
# Exercise 2.5: explain the limit - the curvature at the closest approach
# ------------------------------------------------------------------------------------------------
_DISTANCES = (0.86, 0.9, 0.95, 1.0, 1.05, 1.12)


@checker("Exercise 2.5: the time-step limit of a colliding LJ pair")
def check_dt_limit_at_distance(fn: Callable[[float], Any], *, explain: bool = True) -> CheckResult:
    """Check ``fn(r)`` -> 2 / omega(r), omega = sqrt(u''(r) / mu), for a Lennard-Jones pair (sigma = epsilon = m = 1,
    mu = 1/2) at distances r inside the inflection point. Reference: finite differences of the kit's LJ force.
    On a pass, compares the formula at a liquid's closest approach with that liquid's measured limit."""
    name = "Exercise 2.5: the time-step limit of a colliding LJ pair"
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
            from ..systems import lj_fcc_system

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
    }
    for feedback, w in wrong.items():
        if np.allclose(got_arr, w, rtol=1e-4):
            return CheckResult(name, False, [feedback])
    k = int(np.argmax(np.abs(got_arr / ref - 1)))
    return CheckResult(name, False, [f"At r = {_DISTANCES[k]} your limit is off by a factor {got_arr[k] / ref[k]:.3g}. "
                                     "Differentiate u(r) = 4 (r^-12 - r^-6) twice, then omega = sqrt(u''(r) / mu), "
                                     "mu = 1/2, and dt* = 2 / omega."])
