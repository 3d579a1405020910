"""Chapter 3 as a lesson: the lab and its going-further notebook follow the lesson template, stay within the lab's
limits, every number the prose quotes is the kit's computed or shipped value, and what the text says about the
runs holds in the numbers a classroom-mode run prints.

The classroom checks compute exactly what the notebooks' cells compute in classroom mode (same models, seeds,
durations: ``pick(classroom=...)``), without starting a kernel.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from npsnn_edu.precomputed import load_result

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
LAB, RESEARCH = NB_DIR / "03_gpr_prior_mean.ipynb", NB_DIR / "03b_gpr_research.ipynb"
K_B_EV = 8.617333262e-5  # Boltzmann constant, eV/K (CODATA)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _text(path: Path) -> str:
    return " ".join(" ".join(_src(c).split()) for c in _cells(path) if c["cell_type"] == "markdown")


# Counting rule of the lesson template: a number has a decimal point, an exponent, a % sign or two digits or more;
# headings, years, chapter numbers, figure/exercise labels and the References section do not count.
_NUM = re.compile(r"(?<![\w.])(?:\d+\.\d+|\d+(?:\.\d+)?[eE][-+]?\d+|\d+(?:\.\d+)?\s?%|\d{2,})(?![\w])")


def prose_numbers(path: Path) -> list[str]:
    out = []
    for c in _cells(path):
        if c["cell_type"] != "markdown" or _src(c).lstrip().startswith("## References"):
            continue
        for line in _src(c).splitlines():
            if line.lstrip().startswith("#"):
                continue
            line = re.sub(r"\b(19|20)\d\d\b", "", line)
            line = re.sub(r"\]\([^)]*\)", "]", line)
            line = re.sub(r"(Chapter|chapter|Figure|Exercises?) \d+(\.\d+)?(-\d+(\.\d+)?)?", "", line)
            out += _NUM.findall(line)
    return out


# ------------------------------------------------------------------------------------------- template
@pytest.mark.parametrize("path", [LAB, RESEARCH], ids=["lab", "03b"])
def test_notebook_follows_the_lesson_template(path):
    cells = _cells(path)
    first = _src(cells[0])
    assert first.startswith("# Chapter 3 · ")
    for marker in ("**Aim.**", "**Time.** reading ~", "**Prerequisites.**", "**Contents.**", "*Theory*",
                   "*Practical*"):
        assert marker in first, marker
    heads = [line for c in cells if c["cell_type"] == "markdown" for line in _src(c).splitlines()
             if line.startswith("## ")]
    order = [next(i for i, h in enumerate(heads) if h.startswith(k)) for k in
             ("## Theory", "## Practical", "## Discussion", "## Quiz", "## Key points", "## What next",
              "## References")]
    assert order == sorted(order), heads
    # explanatory figures: a one-line cell drawing a schematic, then a caption "**Figure 3.k.** ..."
    figures = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "sch." in _src(c)
               and len(_src(c).splitlines()) <= 2]
    assert len(figures) >= 2
    for i in figures:
        assert re.match(r"\*\*Figure 3\.\d\.\*\* \S", _src(cells[i + 1])), _src(cells[i + 1])[:40]
    assert sum(1 for c in cells if c["cell_type"] == "code" and "show_quiz(" in _src(c)) == 1
    keys = next(_src(c) for c in cells if _src(c).startswith("## Key points"))
    assert 3 <= keys.count("\n* ") + keys.startswith("* ") <= 5
    for c in cells:  # no code cell over 15 lines (a cell of only imports aside)
        lines = [x for x in _src(c).splitlines() if x.strip()]
        if c["cell_type"] == "code" and not all(x.startswith(("import ", "from ", " ")) or x.startswith(")")
                                                for x in lines):
            assert len(lines) <= 15, _src(c)[:60]
    for c in cells:  # stored without outputs or widget state
        assert c.get("outputs", []) == [] and c.get("execution_count") is None
    assert "widgets" not in json.loads(path.read_text())["metadata"]
    assert path.stat().st_size < 500_000


def test_lab_limits_and_exercises():
    text = _text(LAB)
    assert len(text.split()) <= 2500
    assert len(prose_numbers(LAB)) <= 30, prose_numbers(LAB)
    heads = re.findall(r"### Exercise 3\.(\d) · ([^\n]*?)(?= [A-Z`(]|$)", "\n".join(
        _src(c) for c in _cells(LAB) if c["cell_type"] == "markdown"), flags=re.M)
    assert [h[0] for h in heads] == ["1", "2", "3", "4", "5", "6"]
    assert "(predict, then run)" in text
    # each exercise sits right after what it practises: its heading is followed by its function and its check
    cells = _cells(LAB)
    for i, c in enumerate(cells):
        if c["cell_type"] == "markdown" and "### Exercise" in _src(c):
            sol, chk = _src(cells[i + 1]), _src(cells[i + 2])
            assert "### BEGIN SOLUTION" in sol and chk.strip().startswith("check_"), (i, chk)


def test_no_provenance_or_retired_claims_in_student_text():
    for path in (LAB, RESEARCH):
        text = _text(path)
        for bad in ("measured on", "make bench", "DOI not verified", "could not verify", "No GPU", "this kit's authors",
                    "is also how", "sGDML", "1752", "reproduced at 1000 K", "no data-region holes", "~54 eV",
                    "56 eV", "relaxed by 0"):
            assert bad not in text, (path.name, bad)


# ---------------------------------------------------------------------------------- numbers in prose
@pytest.fixture(scope="module")
def shipped():
    return load_result("gpr_crash_table").data


@pytest.fixture(scope="module")
def ma():
    from npsnn_edu.gpr import load

    return load("malondialdehyde")


def test_lab_numbers_are_the_kits_values(shipped, ma):
    text = _text(LAB)
    e_mean = float(ma.subset("train")[1].mean())
    gap = ma.free_atom_sum - e_mean
    assert f"MF5 lies {gap:.1f} eV above the mean training energy" in text and f"{gap:.1f}" == "55.5"
    # "where w is only one percent, the difference is already about half an eV, some twenty times k_B T at room T"
    assert "one percent, the difference is already about half an eV, some twenty times $k_B T$" in text
    assert 0.45 < 0.01 * gap < 0.6 and 18 < 0.01 * gap / (K_B_EV * 300.0) < 25
    settings = shipped["settings"]
    ratio = settings["energy_only"]["model"]["lengthscale"] / settings["short_lengthscale"]["model"]["lengthscale"]
    assert "a lengthscale about three times shorter" in text and 2.5 < ratio < 3.5
    maes = [a["energy_mae_kcal"] for b in settings.values() for p, a in b["accuracy"].items() if p in ("MF2", "MF5")]
    assert "accurate to about a kcal/mol or better" in text and max(maes) < 1.0
    acc = settings["short_lengthscale"]["accuracy"]
    assert "its test error is larger than MF2's" in text
    assert acc["MF5"]["energy_mae_kcal"] > acc["MF2"]["energy_mae_kcal"]
    # "Eight runs of 10 ps per model, prior and temperature", the same seeds for both priors
    assert "Eight runs of 10 ps per model, prior and temperature" in text and "eight seeds" in text
    assert shipped["seeds"] == list(range(8)) and shipped["duration_fs"] == 10_000.0
    assert "three temperatures" in text and shipped["temperatures_K"] == [300.0, 600.0, 1000.0]
    # "At 300 K nothing crashes" (energy only)
    rows = {(s, r["prior"], r["temperature_K"]): r for s, b in settings.items() for r in b["rows"]}
    assert "At 300 K nothing crashes" in text
    assert all(rows[(s, p, 300.0)]["crashes"] == 0 for s in settings for p in ("MF2", "MF5"))
    # short lengthscale and force trained at 1000 K: MF2 crashes in every run and MF5 in none
    for s in ("short_lengthscale", "force_trained"):
        assert rows[(s, "MF2", 1000.0)]["crashes"] == 8 and rows[(s, "MF5", 1000.0)]["crashes"] == 0
    assert "at 1000 K MF2 crashes in every run and MF5 in none" in text
    # "Fisher's test: a split this uneven is very unlikely by chance"
    assert "a split this uneven is very unlikely by chance" in text
    assert rows[("force_trained", "MF2", 1000.0)]["p_vs_MF5"] < 1e-3
    # the crash criterion's threshold ("half an angstrom") is the kit's
    from npsnn_edu.gpr.experiments import CrashCriterion

    crit = CrashCriterion(ma.reference_atoms())
    assert "by more than half an ångström, or two atoms come closer than that" in " ".join(text.split())
    assert crit.tolerance == 0.5 and crit.min_distance == 0.5
    # the interval definitions: 95 % two-sided, 2.5 % per tail; the 5 % target of Exercise 3.6
    assert "at confidence 95 % holds every $p$" in text and "at most 2.5 % in each tail" in text
    assert "to 5 % or below" in text


def test_lab_numbers_in_the_figures_and_in_the_run_cell():
    from npsnn_edu.viz import schematics_ch3 as sch

    r, _ = sch.toy_bond_data()
    assert len(r) == 6 and "Six energies of one bond" in _text(LAB)


def test_quiz_numbers_are_right():
    from npsnn_edu.exercises.chapter3 import _runs
    from npsnn_edu.gpr.experiments import crash_interval
    from npsnn_edu.viz.quiz import load_quiz

    lab, research = load_quiz("03_gpr_prior_mean"), load_quiz("03b_gpr_research")
    assert len(lab) >= 4 and len(research) >= 3
    fb = json.dumps(lab)
    assert "0.8^8, about 17 %" in fb and abs(0.8**8 - 0.17) < 0.005
    assert "one in four would give 0/8 in about one try in ten" in fb and abs(0.75**8 - 0.10) < 0.005
    assert "the exact 95 % bound is near 37 %" in fb and abs(crash_interval(0, 8)[1] - 0.37) < 0.005
    assert "hundreds of crash-free runs" in fb and 100 < _runs(0.01, 0.95) < 1000
    assert "0.01 x 55.5 eV" in fb
    numeric = next(q for q in lab if q["type"] == "numeric")
    right = next(a for a in numeric["answers"] if a.get("correct"))
    from npsnn_edu.gpr import load

    d = load("malondialdehyde")
    gap = d.free_atom_sum - float(d.subset("train")[1].mean())
    assert right["range"][0] <= 0.01 * gap < right["range"][1]
    rfb = json.dumps(research)
    assert "about four times MF5's" in rfb and "Fisher p = 1" in rfb and "about 450 eV ABOVE" in rfb


def test_research_numbers_are_the_kits_values(shipped, ma):
    text = _text(RESEARCH)
    assert "(purple) keeps its curvature" in text
    from npsnn_edu.gpr.experiments import build_models

    beta = build_models(ma, "force_trained", priors=("MF4",))["MF4"].prior.beta
    assert (beta < 0).any() and "a negative one opens a downhill direction" in text
    x = ma.reference_positions
    h = x[4] + 1.5 * (x[8] - x[4]) / np.linalg.norm(x[8] - x[4])
    assert np.linalg.norm(h - x[3]) < 1.5 and "the H is already closer to the other oxygen than to its own" in text
    ctrl = [load_result("xtb_control_malondialdehyde").data]
    assert ctrl and "The reference passes the criterion at every temperature" in text
    from npsnn_edu.gpr.experiments import load_xtb_control

    for T in shipped["temperatures_K"]:
        c = load_xtb_control("malondialdehyde", T)
        assert c is not None and c["crash_fraction"] == 0.0
    nh = load_result("gpr_crash_table_nose_hoover").data["settings"]["force_trained"]["rows"]
    asp = load_result("gpr_crash_table_aspirin").data["settings"]["force_trained"]["rows"]
    assert "one crash with Nosé-Hoover, one for aspirin" in text
    assert [r["crashes"] for r in nh if r["prior"] == "MF5"] == [1]
    assert sum(r["crashes"] for r in asp if r["prior"] == "MF5") == 1
    assert "cannot exclude a crash probability of a few tens of percent" in text
    assert 0.2 < (1 - 0.025 ** (1 / 8)) < 0.5


# ------------------------------------------------------------------------------------ classroom runs
@pytest.fixture(scope="module")
def classroom():
    from npsnn_edu import config

    previous = config._session_mode
    config.set_mode("classroom")
    yield config
    config._session_mode = previous


def test_classroom_energy_only_runs_show_w_tiny_until_the_crash(classroom, ma):
    """Lab: "w stays tiny until shortly before a crash" in the live energy-only runs at 1000 K."""
    from npsnn_edu.gpr.experiments import build_models, run_nvt

    assert "$w$ stays tiny until shortly before a crash" in _text(LAB)
    dur = classroom.pick(full=3000.0, classroom=2000.0, fast=1000.0)
    assert dur == 2000.0
    models = build_models(ma, "energy_only", priors=("MF2", "MF5"))
    runs = [run_nvt(m, ma.reference_atoms(), 1000.0, duration_fs=dur, seed=0) for m in models.values()]
    assert any(r.crashed for r in runs)  # the lesson needs one crash in the live runs
    for r in runs:
        w = r.prior_weight[: len(r.times_fs)]
        end = r.time_to_crash_fs if r.crashed else r.times_fs[-1]
        early = w[r.times_fs[: len(w)] < end - 200.0]
        assert len(early) > 10 and np.median(w) < 1e-3 and early.max() < 1e-2, (r.prior, early.max())


def test_classroom_replay_crashes_with_mf2_only(classroom, ma, shipped):
    """Lab: the replayed seed crashes with MF2 at the shipped time and not with MF5 over the classroom duration."""
    from npsnn_edu.gpr.experiments import build_models, run_nvt

    runs = [r for r in shipped["settings"]["force_trained"]["runs"]
            if r["prior"] == "MF2" and r["temperature_K"] == 1000.0 and r["crashed"]]
    first = min(runs, key=lambda r: r["time_to_crash_fs"])
    dur = classroom.pick(full=10_000.0, classroom=first["time_to_crash_fs"] + 500.0, fast=0.0)
    models = build_models(ma, "force_trained", priors=("MF2", "MF5"))
    a, b = (run_nvt(models[p], ma.reference_atoms(), 1000.0, duration_fs=dur, seed=first["seed"])
            for p in ("MF2", "MF5"))
    assert a.crashed and math.isclose(a.time_to_crash_fs, first["time_to_crash_fs"]) and not b.crashed
    assert np.allclose(a.frames[0], b.frames[0])


def test_classroom_stretched_oh_is_a_proton_transfer(classroom, ma):
    """03b and its quiz: stretched to 1.5 A the H starts nearer the other oxygen and binds there within about ten
    femtoseconds; the O-H length at the end is the relaxed one."""
    from npsnn_edu.gpr.experiments import build_models, stretched_oh_test

    model = build_models(ma, "force_trained", priors=("MF5",))["MF5"]
    oh = stretched_oh_test(model, ma, 1.5, duration_fs=classroom.pick(full=1000.0, classroom=1000.0, fast=400.0))
    assert math.isclose(oh["donor_A"][0], 1.5) and oh["acceptor_A"][0] < oh["donor_A"][0]
    assert not oh["crashed"] and oh["ends_on"] == "acceptor"
    assert oh["relaxed_by_fs"] is not None and 0 < oh["relaxed_by_fs"] <= 20.0
    assert abs(oh["final_oh_A"] - oh["reference_A"]) < 0.05
    assert "the stretch hands the proton over" in _text(RESEARCH)
    assert "within about ten femtoseconds" in json.dumps(json.loads(
        (Path(__file__).resolve().parents[1] / "npsnn_edu" / "data" / "quizzes" / "03b_gpr_research.json").read_text()))


def test_instructor_guide_quotes_the_kits_answers():
    """docs/instructor/ch3.md gives the expected answers: they must be the kit's values."""
    from npsnn_edu.exercises.chapter3 import _cp_upper, _runs
    from npsnn_edu.gpr import load
    from npsnn_edu.gpr.experiments import fisher_p
    from npsnn_edu.viz.schematics_ch3 import gp_1d

    guide = (Path(__file__).resolve().parents[1] / "docs" / "instructor" / "ch3.md").read_text(encoding="utf-8")
    guide = " ".join(guide.split())
    assert f"for 0/8 at 95 %: {_cp_upper(8, 0.95):.3f}" in guide
    assert f"{_runs(0.05, 0.95)} runs for 5 % at 95 %" in guide
    assert f"one-sided bound ({1 - 0.05 ** (1 / 8):.3f} for n = 8)" in guide
    w = gp_1d([0.0], [1.0], [0.0, 1.0, 2.0, 3.0], 1.0, nugget=0.01)["w"]
    assert "prints " + ", ".join(f"{x:.4f}" for x in w) + " at d = 0, 1, 2, 3 l" in guide
    assert "2/12870 = 1.55e-4" in guide and abs(fisher_p(8, 8, 0, 8) - 2 / 12870) < 1e-12
    d = load("malondialdehyde")
    gap = d.free_atom_sum - float(d.subset("train")[1].mean())
    assert f"= {gap:.2f} eV" in guide and f"| 03 lab | {len(_text(LAB).split())} |" in guide
    assert f"| 03b going further | {len(_text(RESEARCH).split())} |" in guide
