"""Chapter 2's text against the kit's numbers.

1. Every number in the lab's prose (counting rule of npsnn_edu.course.lesson_stats) is listed here and checked against a
   value the kit computes or ships: a new number in the text fails until it gets a check.
2. Every ordering or threshold the text states about the Morse and Lennard-Jones scans holds in a CLASSROOM-size
   run, with the classroom parameters read from the notebook's own parameter cell.
3. The quiz's correct answers are the kit's values.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from npsnn_edu import config
from npsnn_edu.course.lesson_stats import lesson_stats, numbers_in_prose, read_notebook
from npsnn_edu.md import stability as st
from npsnn_edu.potentials import LennardJones
from npsnn_edu.systems import harmonic_oscillator, lj_fcc_system
from npsnn_edu.units import ARGON

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "02_verlet_stability.ipynb"
QUIZ = REPO / "npsnn_edu" / "data" / "quizzes" / "02_verlet_stability.json"
MORSE_FRACTIONS = (0.3, 0.5, 0.7, 0.9)


def _cells():
    return read_notebook(NOTEBOOK)["cells"]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _markdown() -> str:
    """All markdown of the lab, whitespace collapsed (a phrase may wrap across lines)."""
    return " ".join(" ".join(_source(c) for c in _cells() if c["cell_type"] == "markdown").split())


def _classroom_parameters() -> dict:
    """Execute the notebook's parameter cell (the one defining LJ_TIME) in classroom mode."""
    cell = next(_source(c) for c in _cells() if c["cell_type"] == "code" and "LJ_TIME = pick(" in _source(c))
    config.set_mode("classroom")
    try:
        namespace = {"pick": config.pick, "describe_mode": lambda name: ""}
        exec(compile(cell, "<parameter cell>", "exec"), namespace)  # noqa: S102 - our own notebook cell
    finally:
        config.set_mode(None)
    return namespace


@pytest.fixture(scope="module")
def classroom():
    return _classroom_parameters()


@pytest.fixture(scope="module")
def lj_scan(classroom):
    # the notebook's cell: same system, grid, run length and tolerance
    assert "energy_tolerance=1e-3" in "".join(_source(c) for c in _cells())
    return st.dt_scan(lj_fcc_system(n_cells=3, temperature=1.0, seed=0), classroom["LJ_DTS"],
                      t_total=classroom["LJ_TIME"], energy_tolerance=1e-3, progress=False)


@pytest.fixture(scope="module")
def morse(classroom):
    return st.morse_scans(MORSE_FRACTIONS, dt_step=classroom["MORSE_DT_STEP"])


# ---------------------------------------------------------------------------- 1. numbers in prose ----
def _lj_atoms():
    assert len(lj_fcc_system(n_cells=3).positions) == 108
    return True


def _lj_density():
    system = lj_fcc_system(n_cells=3)
    n, volume = len(system.positions), float(np.prod(system.box))
    assert system.info["density"] == 0.8442 and n / volume == pytest.approx(0.8442, rel=1e-12)
    return True


def _production_dt():
    # the production time step quoted is the one chapter 1 runs, and it sits below the classroom accuracy limit
    params = _classroom_parameters()
    scan = st.dt_scan(lj_fcc_system(n_cells=3, temperature=1.0, seed=0), [0.005], t_total=params["LJ_TIME"],
                      energy_tolerance=1e-3, progress=False)
    assert bool(scan.accurate[0])
    return True


def _argon_fs():
    assert round(0.005 * ARGON.time_fs) == 11
    return True


def _lj_exponent_twelve():
    # u(r) = 4 (r^-12 - r^-6) in reduced units is the kit's LJ pair energy (no cut-off, no shift)
    lj = LennardJones(cutoff=None, shift=False)
    r = np.array([0.9, 1.0, 1.3])
    assert np.allclose(lj.pair_energy(r), 4 * (r**-12 - r**-6), rtol=1e-12)
    return True


def _rk4_energy_factor():
    # RK4's energy factor per step on the oscillator: 1 - h^6/72 + h^8/576 = |R(ih)|^2 of its amplification matrix
    for h in (0.3, 0.7, 1.1):
        m = st.analytic_amplification_matrix("rk4", h)
        assert np.linalg.det(m) == pytest.approx(1 - h**6 / 72 + h**8 / 576, rel=1e-12)
    return True


#: every number the lab's prose quotes -> its check
CHECKED = {
    "108": _lj_atoms,
    "0.8442": _lj_density,
    "0.005": _production_dt,
    "11": _argon_fs,
    "12": _lj_exponent_twelve,
    "72": _rk4_energy_factor,
}


def test_every_number_in_prose_has_a_check():
    quoted = {number for _, number in numbers_in_prose(_cells())}
    assert quoted <= set(CHECKED), f"numbers in the text without a check: {sorted(quoted - set(CHECKED))}"


@pytest.mark.parametrize("number", sorted(CHECKED))
def test_number_in_prose_matches_the_kit(number):
    assert CHECKED[number]()


def test_worded_numbers_match_the_kit():
    text = _markdown()
    # "more than a hundred times its initial energy scale" is the kit's divergence criterion
    assert "a hundred times its initial energy scale" in text and st.DIVERGENCE_FACTOR == 100.0
    # "one part in a thousand of the total energy" is the LJ cell's energy_tolerance=1e-3 (checked in lj_scan)
    assert "one part in a thousand" in text
    # "(limit 2/ω = 1 here)" for the Morse molecule: D_e = a = r_e = m = 1
    assert "limit 2/ω = 1 here" in text
    assert st.morse_at_energy(0.5) is not None and st.dt_scan(
        st.morse_at_energy(0.5), [0.1], n_steps=2, progress=False).dt_linear_limit == pytest.approx(1.0)


def test_no_uncited_claim_and_no_provenance_in_the_student_text():
    text = _markdown().lower()
    assert "avoid time-step limits" not in text and "pinn papers" not in text
    for phrase in ("make bench", "measured on", "not verified", "how the widget is tested", "peak rss", "one core",
                   "-core"):
        assert phrase not in text, phrase
    assert "largest stable dt found" not in text and "blowup_factor=1" not in text
    # chapter 4 tests "hypothesis H", stated here (as a hypothesis, not attributed to papers)
    assert "hypothesis h" in text and "ω δt > 2" in text


# ----------------------------------------------------------------- 2. statements at classroom size ----
def test_lj_statements_hold_at_classroom_size(lj_scan):
    text = _markdown()
    # "The curvature at the LJ minimum is several times too optimistic"
    assert "several times too optimistic" in text
    assert lj_scan.dt_linear_limit / lj_scan.smallest_diverging_dt >= 3
    # "the linear limit at the closest approach lands near the first blow-up"
    assert 0.5 < lj_scan.dt_limit_closest_approach / lj_scan.smallest_diverging_dt < 1.5
    # the scan does find a blow-up, and stability and accuracy limits are apart: accuracy "well below" (<= half)
    assert np.isfinite(lj_scan.smallest_diverging_dt)
    assert lj_scan.largest_accurate_dt <= 0.5 * lj_scan.largest_stable_dt
    assert lj_scan.largest_stable_dt < lj_scan.smallest_diverging_dt
    # "u'' is far larger" at the closest approach than at the minimum
    assert lj_scan.curvature_at_closest_approach > 10 * LennardJones(cutoff=None, shift=False).curvature_at_minimum
    # rule of thumb: "keep dt below about a tenth of the period of the fastest motion actually performed (in the
    # liquid above, the accurate dt does)": the period of the pair vibration at the closest approach
    assert "below about a tenth of the period" in text
    period = 2 * np.pi / lj_scan.omega_closest_approach
    assert lj_scan.largest_accurate_dt < period / 10 and 0.005 < period / 10
    # the tables the student reads carry no raw NaN / None
    for table in (lj_scan.table(), lj_scan.limits_table()):
        assert "NaN" not in table.to_string() and "None" not in table.to_string()


def test_morse_statements_hold_at_classroom_size(morse):
    survive = np.array([s.largest_accurate_dt for s in morse])
    wall = np.array([s.dt_limit_closest_approach for s in morse])
    minimum = np.array([s.dt_linear_limit for s in morse])
    assert np.all(np.isfinite(survive))
    # "The curvature at the minimum is too optimistic at every energy"
    assert np.all(survive < minimum)
    # "the inner wall's is the better guide"
    assert np.all(np.abs(survive - wall) < np.abs(survive - minimum))
    # "The higher the energy, the smaller the dt at which the bond survives"
    assert np.all(np.diff(survive) < 0)
    # "Any blow-up comes later, if at all"
    for s in morse:
        assert not np.isfinite(s.smallest_diverging_dt) or s.smallest_diverging_dt > s.largest_accurate_dt
    table = st.morse_limits_table(morse, MORSE_FRACTIONS)
    assert "NaN" not in table.to_string() and "None" not in table.to_string()


def test_theory_statements():
    # Figure 2.2: the bounded error h^2/4 meets a tolerance eps at h = 2 sqrt(eps); checked against a real run
    for eps in (0.01, 0.1):
        h_acc = 2 * np.sqrt(eps)
        assert st.energy_error("velocity_verlet", 0.97 * h_acc, n_periods=30).peak_to_peak <= eps
        assert st.energy_error("velocity_verlet", 1.03 * h_acc, n_periods=30).peak_to_peak > eps
    # explicit Euler: |lambda| = sqrt(1 + h^2) for every h
    for h in (0.01, 0.5, 2.0):
        assert st.spectral_radius(st.amplification_matrix("euler", h)) == pytest.approx(np.sqrt(1 + h * h))
    # "A thermostat ... cannot rescue a time step that is too large"
    assert st.spectral_radius(st.amplification_matrix("langevin", 2.05, friction=1.0)) > 1


def test_lab_counts_for_the_report():
    stats = lesson_stats(NOTEBOOK)
    assert stats.kind == "lab" and stats.words <= 2500 and len(stats.numbers) <= 30
    assert len(stats.figures) >= 2 and stats.quiz_questions is not None and stats.quiz_questions >= 4
    assert len(stats.exercises) >= 3 and len(stats.predict) >= 1


# ------------------------------------------------------------------------------------------ 3. quiz ----
def _quiz():
    return json.loads(QUIZ.read_text(encoding="utf-8"))


def test_quiz_q1_verlet_limit_at_omega_ten():
    q = _quiz()[0]
    correct = [a["answer"] for a in q["answers"] if a["correct"]]
    assert correct == ["0.19 τ"]
    sys10 = harmonic_oscillator(k=100.0)  # omega = 10 / tau
    assert st.largest_stable_dt(100.0, 1.0) == pytest.approx(0.2)
    sys10.run(dt=0.19, n_steps=3000)  # survives (raises otherwise)
    scan = st.dt_scan(sys10, [0.19, 0.21, 0.28], n_steps=3000, progress=False)
    assert list(scan.diverged) == [False, True, True]
    assert st.largest_stable_dt(100.0, 1.0, "rk4") > 0.28  # the distractor is RK4's range
    assert 2 * np.pi / 10 == pytest.approx(0.63, abs=0.005)


def test_quiz_q2_peak_to_peak():
    q = _quiz()[1]
    right = [a["value"] for a in q["answers"] if a.get("correct")]
    assert right == [0.04]
    assert st.energy_error("velocity_verlet", 0.4, n_periods=40).peak_to_peak == pytest.approx(0.04, rel=0.01)


def test_quiz_q6_morse_bond_breaks_before_blow_up(morse):
    q = _quiz()[5]
    assert q["answers"][0]["correct"] and q["answers"][0]["answer"].startswith("The bond breaks")
    near = morse[-1]  # 90 % of D_e
    assert not np.isfinite(near.smallest_diverging_dt) or near.smallest_diverging_dt > near.largest_accurate_dt
