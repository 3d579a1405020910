"""Notebook 03c (the GPR paper's four molecules) as a lesson: every number its prose and its quiz quote is the
paper's claim as the kit records it (``npsnn_edu.gpr.paper_runs.PAPER_CLAIMS``), a constant of the kit's protocol,
a value the kit's figures compute, or a value of the shipped result ``gpr_paper_claims``; and every statement about
the runs holds in the shipped result. (The template and its limits: tests/test_lesson_limits.py.)"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from npsnn_edu.gpr.paper_runs import PAPER_CLAIMS

REPO = Path(__file__).resolve().parents[1]
NB = REPO / "notebooks" / "03c_gpr_paper_molecules.ipynb"
QUIZ = REPO / "npsnn_edu" / "data" / "quizzes" / "03c_gpr_paper_molecules.json"


def _cells() -> list[dict]:
    return json.loads(NB.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _text() -> str:
    return " ".join(" ".join(_src(c).split()) for c in _cells() if c["cell_type"] == "markdown")


def test_stored_lean_and_without_outputs():
    for c in _cells():
        assert c["cell_type"] == "markdown" or (c.get("outputs", []) == [] and c.get("execution_count") is None)
    assert "TO FILL" not in _text()


def test_the_papers_claims_are_quoted_as_recorded():
    text, p = _text(), PAPER_CLAIMS
    assert f"sustained {p['long_run_ps']:.0f} ps simulations at {p['temperatures_K'][0]:.0f} K to " \
           f"{p['temperatures_K'][1]:.0f} K without crashes" in text
    assert (f"stretched to {p['stretched_A']:g} Å (equilibrium about {p['oh_equilibrium_A']:g} Å)" in text
            and f"relaxes within {p['relax_ps']:g} ps" in text
            and f"up to {p['peak_force_kcal_per_A']:.0f} kcal/mol/Å" in text)
    assert (f"C7eq as the global minimum, {p['c5_minus_c7eq_kcal']:g} kcal/mol below C5" in text
            and f"converged to {p['fmax_kcal_per_A']:g} kcal/mol/Å in {p['opt_steps']} steps" in text)
    assert (f"{p['ms_per_step'][0]:g}-{p['ms_per_step'][1]:g} ms per MD step" in text
            and f"{p['ensemble_runs']} runs of {p['run_ns']:g} ns at 500 K ({p['ensemble_us']:g} μs in all) in two "
                "CPU days" in text and p["cpu_days"] == 2.0)
    assert p["ensemble_runs"] * p["run_ns"] == pytest.approx(p["ensemble_us"] * 1000)


def test_theory_numbers_are_the_kits():
    from npsnn_edu.gpr.claims import settle_time
    from npsnn_edu.gpr.paper_runs import SETTLE_WITHIN_A
    from npsnn_edu.viz import schematics_ch3_paper as sch

    text = _text()
    # the O-H period of the drawn Morse bond: omega = a sqrt(2 D / mu)
    m = sch.OH_MORSE
    mu = 15.999 * 1.008 / (15.999 + 1.008)
    omega = m["a_per_A"] * math.sqrt(2 * m["D_eV"] / mu / 103.6427)  # 1/fs
    assert "a period of about 9 fs" in text and round(2 * math.pi / omega) == 9
    assert "over 20 fs (two vibrations)" in text and "±0.05 Å around the equilibrium length" in text
    assert SETTLE_WITHIN_A == 0.05
    t, r = np.arange(0.0, 200.0, 1.0), 0.97 + 0.05 * np.cos(2 * np.pi * np.arange(0.0, 200.0, 1.0) / 9)
    assert settle_time(t, r, 0.97) == 0.0  # the default window (20 fs) averages the vibration out
    fig = sch.stretch_test()
    assert "a force of about 100 kcal/mol/Å pulling the H back" in text
    assert round(abs(fig.start_force_kcal_per_A), -1) == 100


def test_quiz_numbers_are_right():
    from npsnn_edu.gpr.experiments import crash_interval

    quiz = json.loads(QUIZ.read_text(encoding="utf-8"))
    q1 = quiz[0]
    right = next(a for a in q1["answers"] if a.get("correct"))
    assert right["value"] == round(crash_interval(0, 3)[1], 2)
    one_sided = 1 - 0.05 ** (1 / 3)
    assert any(a.get("range") and a["range"][0] <= one_sided < a["range"][1] for a in q1["answers"]
               if not a.get("correct"))
    q3 = quiz[2]
    steps = PAPER_CLAIMS["ensemble_us"] * 1e9 / 0.5
    assert next(a for a in q3["answers"] if a.get("correct"))["value"] == steps
    fb = json.dumps(quiz)
    assert "about 23 days on one core" in fb and round(steps * 2e-3 / 86400) == 23
    assert "(period about 9 fs)" in fb and "a frame every 2 fs" in fb
    import inspect

    from npsnn_edu.gpr.experiments import stretched_bond_test

    assert "record_every_fs=2.0" in inspect.getsource(stretched_bond_test)
