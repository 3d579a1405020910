"""Notebook 03c's self-check (Exercise 3.8, the cost of the paper's ensemble): passes a correct answer, names each
usual mistake (written as a student would, independently of the check's catalogue), rejects the stub and an
unknown wrong answer without giving the answer away, never raises."""
import pytest

from npsnn_edu.exercises.chapter3_paper import MISTAKES, check_ensemble_hours
from npsnn_edu.viz.gpr_paper import ensemble_hours


def stub(*args, **kwargs):
    raise NotImplementedError()


def good(ms_per_step, total_ns, dt_fs, workers):
    steps = total_ns * 1e6 / dt_fs          # 1 ns = 1e6 fs
    return steps * ms_per_step / 1000 / 3600 / workers


WRONG = {
    "ms_as_s": lambda ms, ns, dt, w: ns * 1e6 / dt * ms / 3600 / w,
    "no_dt": lambda ms, ns, dt, w: ns * 1e6 * ms / 1000 / 3600 / w,
    "dt_multiplied": lambda ms, ns, dt, w: ns * 1e6 * dt * ms / 1000 / 3600 / w,
    "ns_as_ps": lambda ms, ns, dt, w: ns * 1e3 / dt * ms / 1000 / 3600 / w,
    "no_workers": lambda ms, ns, dt, w: ns * 1e6 / dt * ms / 1000 / 3600,
    "minutes": lambda ms, ns, dt, w: ns * 1e6 / dt * ms / 1000 / 60 / w,
    "seconds": lambda ms, ns, dt, w: ns * 1e6 / dt * ms / 1000 / w,
}


def test_correct_answer_passes_and_the_kit_agrees():
    res = check_ensemble_hours(good)
    assert res.passed, res
    assert ensemble_hours(0.25, 500.0, 0.5, 50) == pytest.approx(good(0.25, 500.0, 0.5, 50))
    # the paper's scale: 0.5 microseconds = 1e9 steps of 0.5 fs; at 2 ms per step on one core, 556 h
    assert good(2.0, 500.0, 0.5, 1) == pytest.approx(1e9 * 2e-3 / 3600)


@pytest.mark.parametrize("key", sorted(WRONG))
def test_each_mistake_gets_its_own_hint(key):
    res = check_ensemble_hours(WRONG[key])
    assert not res.passed and res.messages == [MISTAKES[key]], (key, res)


def test_the_catalogue_is_covered():
    assert set(WRONG) == set(MISTAKES)


def test_stub_unknown_answer_and_bad_return_never_raise_nor_reveal():
    res = check_ensemble_hours(stub)
    assert not res.passed and "not written yet" in res.messages[0]
    res = check_ensemble_hours(lambda *a: 42.0)
    assert not res.passed and "42" not in str(res) and "not yet" in res.messages[0]
    res = check_ensemble_hours(lambda *a: "many")
    assert not res.passed and "one number" in res.messages[0]
    assert not check_ensemble_hours(None).passed
