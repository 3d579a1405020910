"""Self-check for chapter 3's going-further notebook 03c (the paper's four molecules).

The check calls the student's function through :func:`call_student_function` (an untouched stub gives a NOT YET
message), compares it with an independent reference on hidden inputs and, when the answer is wrong, with the usual
mistakes of :data:`MISTAKES` (each gets its own hint). No message prints the solution or the expected value;
tests/test_exercises_ch3_paper.py feeds the check a correct answer, the stub and every listed mistake.

3.8 :func:`check_ensemble_hours` ``ensemble_hours(ms_per_step, total_ns, dt_fs, workers)``: the wall time in hours
    of ``total_ns`` nanoseconds of MD with a time step of ``dt_fs`` femtoseconds at ``ms_per_step`` milliseconds
    per step, shared evenly by ``workers`` runs going at the same time (predict, then run).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .feedback import CheckResult, call_student_function, checker

__all__ = ["MISTAKES", "check_ensemble_hours"]

NAME = "Exercise 3.8: the paper's ensemble on your computer"
#: Hidden inputs (ms_per_step, total_ns, dt_fs, workers): the time steps and worker counts differ, so each
#: mistake gives a different number.
_CASES = ((0.25, 500.0, 0.5, 50), (3.0, 10.0, 1.0, 1), (12.0, 2.0, 0.25, 8), (0.8, 100.0, 2.0, 4))

#: mistake key -> the hint a student who made it reads.
MISTAKES: dict[str, str] = {
    "ms_as_s": "Your times are 1000 times too long: a millisecond is 1/1000 of a second; convert before dividing "
               "by 3600.",
    "no_dt": "Count the steps: a nanosecond is a million femtoseconds, and each step advances the clock by dt_fs, "
             "so divide the simulated time by the time step.",
    "dt_multiplied": "The number of steps is the simulated time DIVIDED by the time step, not multiplied by it.",
    "ns_as_ps": "A nanosecond is 1e6 femtoseconds (1e3 picoseconds, each 1e3 fs); your factor is 1000 too small.",
    "no_workers": "The runs go at the same time: the ensemble's wall time is shared by the workers (divide by "
                  "workers).",
    "minutes": "Your answer is in minutes: divide the seconds by 3600 for hours.",
    "seconds": "Your answer is in seconds: the function returns hours.",
}


def _hours(ms: float, ns: float, dt: float, workers: int) -> float:
    return ns * 1e6 / dt * ms * 1e-3 / 3600.0 / workers


def _wrong(ms: float, ns: float, dt: float, workers: int) -> dict[str, float]:
    right = _hours(ms, ns, dt, workers)
    return {"ms_as_s": right * 1e3, "no_dt": right * dt, "dt_multiplied": right * dt * dt,
            "ns_as_ps": right * 1e-3, "no_workers": right * workers, "minutes": right * 60.0,
            "seconds": right * 3600.0}


@checker(NAME)
def check_ensemble_hours(ensemble_hours: Callable[..., Any]) -> CheckResult:
    """Check ``ensemble_hours(ms_per_step, total_ns, dt_fs, workers)`` (hours) on hidden inputs."""
    got = []
    for case in _CASES:
        ok, value, msg = call_student_function(NAME, ensemble_hours, *case)
        if not ok:
            return CheckResult(NAME, False, [msg])
        try:
            got.append(float(value))
        except (TypeError, ValueError):
            return CheckResult(NAME, False, [f"return one number (hours), got {type(value).__name__}"])
    g = np.array(got)
    ref = np.array([_hours(*c) for c in _CASES])
    if np.allclose(g, ref, rtol=1e-6):
        return CheckResult(NAME, True, ["Correct: steps = simulated time / time step, times the cost per step, "
                                        "shared by the workers."])
    for key in MISTAKES:
        cand = np.array([_wrong(*c)[key] for c in _CASES])
        if np.allclose(g, cand, rtol=1e-6):
            return CheckResult(NAME, False, [MISTAKES[key]])
    return CheckResult(NAME, False, ["not yet: count the MD steps (simulated time over the time step, both in fs), "
                                     "multiply by the seconds per step, divide by the workers and by 3600"])
