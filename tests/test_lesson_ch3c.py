"""Notebook 03c (the GPR paper's four molecules) as a lesson: every number its prose and its quiz quote is the
paper's claim as the kit records it (``npsnn_edu.gpr.paper_runs.PAPER_CLAIMS``), a constant of the kit's protocol,
a value the kit's figures compute, or a value of the shipped result ``gpr_paper_claims``; and every statement about
the runs holds in the shipped result. (The template and its limits: tests/test_lesson_limits.py.)"""
from __future__ import annotations

import inspect
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
    q3 = next(q for q in quiz if "How many MD steps" in q["question"])
    steps = PAPER_CLAIMS["ensemble_us"] * 1e9 / 0.5
    assert next(a for a in q3["answers"] if a.get("correct"))["value"] == steps
    fb = json.dumps(quiz)
    assert "about 23 days on one core" in fb and round(steps * 2e-3 / 86400) == 23
    assert "(period about 9 fs)" in fb and "a frame every 2 fs" in fb
    import inspect

    from npsnn_edu.gpr.experiments import stretched_bond_test

    assert "record_every_fs=2.0" in inspect.getsource(stretched_bond_test)


# ------------------------------------------------------------------------------------ the shipped result
@pytest.fixture(scope="module")
def shipped():
    from npsnn_edu.gpr.claims import load_claims
    from npsnn_edu.viz.gpr_paper import claims_data

    return claims_data(load_claims())


def test_long_run_text_is_what_the_shipped_runs_show(shipped):
    text = _text()
    rows = {(r["molecule"], r["prior"], r["temperature_K"]): r for r in shipped["long_runs"]}
    assert "at 1000 K MF5 crashed in all three runs of capped glycine and of capped serine" in text
    assert "every crash within the first 60 ps of the 1000 ps asked" in text
    medians = {}
    for mol in ("capped_glycine", "capped_serine"):
        for prior in ("MF5", "MF2"):
            r = rows[(mol, prior, 1000.0)]
            assert r["runs"] == r["crashes"] == 3 and r["duration_ps"] == PAPER_CLAIMS["long_run_ps"]
            medians[(mol, prior)] = r["median_time_to_crash_ps"]
        crash_fs = [r["result"]["time_to_crash_fs"] for r in shipped["long_run_records"] if r["job"]["molecule"] == mol
                    and r["job"]["prior"] == "MF5" and r["job"]["temperature_K"] == 1000.0]
        assert len(crash_fs) == 3 and max(crash_fs) < 60_000.0
    quoted = (f"median crash times of {medians[('capped_glycine', 'MF5')]:.3g} and "
              f"{medians[('capped_serine', 'MF5')]:.3g} ps against {medians[('capped_glycine', 'MF2')]:.2g} and "
              f"{medians[('capped_serine', 'MF2')]:.2g} ps")
    assert quoted in text, quoted
    ratios = [medians[(m, "MF5")] / medians[(m, "MF2")] for m in ("capped_glycine", "capped_serine")]
    assert "at least ten times longer than MF2" in text and min(ratios) > 10
    xtb = [r for r in shipped["long_runs"] if r["prior"] == "xtb"]
    assert "GFN2-xTB under the same protocol passed the criterion in every run (10 ps each" in text
    assert xtb and all(r["crashes"] == 0 and r["duration_ps"] == 10.0 for r in xtb)
    # the notebook prints the notes of what has not finished; the text says so
    assert "whether MF5 crashed or survived every run" in text
    assert "the notes printed at the top say which runs of the campaign had not finished" in text


def test_distortion_text_is_what_the_shipped_runs_show(shipped):
    text = _text()
    d = {(r["molecule"], r["prior"]): r for r in shipped["distortion"]}
    ser = {p: d[("capped_serine", p)] for p in ("MF5", "MF2", "xtb")}
    assert all(r["stretched_A"] == PAPER_CLAIMS["stretched_A"] and not r["crashed"] for r in ser.values())
    t = {p: r["time_to_relax_fs"] for p, r in ser.items()}
    assert (f"after about 50 fs with either prior (MF5 {t['MF5']:.0f} fs, MF2 {t['MF2']:.0f} fs) and after "
            f"{t['xtb']:.0f} fs with GFN2-xTB" in text)
    assert abs(t["MF5"] - 50) <= 10 and abs(t["MF2"] - 50) <= 10 and t["xtb"] < 1000 * PAPER_CLAIMS["relax_ps"]
    f0 = {p: r["force_at_start_kcal_per_A"] for p, r in ser.items()}
    peak = {p: r["peak_force_kcal_per_A"] for p, r in ser.items()}
    assert f"about 150 kcal/mol/Å at the start against xTB's {f0['xtb']:.0f}" in text
    assert all(abs(f0[p] - 150) < 10 for p in ("MF5", "MF2"))
    assert f"up to about 590 kcal/mol/Å over the first 50 fs against xTB's {peak['xtb']:.0f}" in text
    assert all(abs(peak[p] - 590) < 15 for p in ("MF5", "MF2"))
    assert "the GP's force is larger than its own reference's" in text and min(f0["MF5"], f0["MF2"]) > f0["xtb"]
    # the running mean rule, recomputed from the shipped series
    from npsnn_edu.gpr.claims import settle_time

    for r in ser.values():
        assert settle_time(r["times_fs"], r["bond_A"], r["reference_A"]) == r["time_to_relax_fs"]
        assert r["force_times_fs"][-1] <= 50.0 and np.abs(r["force_kcal_per_A"]).max() == pytest.approx(
            r["peak_force_kcal_per_A"], abs=0.05)
    mal = [d[("malondialdehyde", p)] for p in ("MF5", "MF2", "xtb")]
    assert all(r["proton_transferred"] and r["time_to_relax_fs"] is None for r in mal)


def test_distortion_paragraph_on_malondialdehyde(shipped):
    text = _text()
    assert "For malondialdehyde's enol H the other oxygen is close: there the H may bind to it" in text


def test_optimisation_and_coverage_text(shipped):
    text = _text()
    opt = shipped["optimisation"]
    gap = opt["c7eq_minus_c5_kcal"]
    assert f"GFN2-xTB puts C7eq {-gap['xtb']:.1f} kcal/mol below C5" in text and gap["xtb"] < 0
    assert f"The GP reverses it and puts C5 {gap['gp']:.1f} kcal/mol below C7eq" in text and gap["gp"] > 0
    assert f"Its C7eq minimum is xTB's (RMSD {opt['rmsd_A']['C7eq']:.3f} Å)" in text
    assert f"its C5 minimum is not ({opt['rmsd_A']['C5']:.1f} Å" in text
    psi_gp, psi_x = opt["minima"]["gp"]["C5"]["psi_deg"], opt["minima"]["xtb"]["C5"]["psi_deg"]
    assert f"$\\psi$ at {psi_gp:.0f}° where xTB has {psi_x:.0f}°" in text
    steps = opt["steps_to_1kcal"]
    assert f"it needs {steps['gp']['C5']} BFGS steps to converge there against xTB's {steps['xtb']['C5']}" in text
    # the coverage: basin fractions of the training geometries, recomputed from the shipped (phi, psi)
    from npsnn_edu.gpr.protocols import basin_fractions
    from npsnn_edu.viz.gpr_paper import training_coverage

    frac = basin_fractions(opt["training_phi_deg"], opt["training_psi_deg"])
    assert frac["C7eq"] == pytest.approx(opt["training_basin_fractions"]["C7eq"], abs=1e-3)
    assert f"They fill the C7eq box ({100 * frac['C7eq']:.0f} % of them)" in text
    assert f"{100 * frac['beta_C5']:.0f} % lie in the β/C5 box" in text
    cov = training_coverage(shipped)
    assert "under 2 % near the C5 torsions, against more than half near C7eq" in text
    assert cov["near"]["C5"] < 0.02 and cov["near"]["C7eq"] > 0.5 and cov["radius_deg"] == 30.0
    assert "The training geometries come from MD that started at C7eq" in text
    from npsnn_edu.gpr import load
    from npsnn_edu.gpr.peptides import CONFORMERS, backbone_dihedrals

    phi, psi = backbone_dihedrals(load("alanine_dipeptide").reference_positions)
    assert abs(phi - CONFORMERS["C7eq"][0]) < 30 and abs(psi - CONFORMERS["C7eq"][1]) < 30


def test_ramachandran_and_cost_text(shipped):
    text = _text()
    rows = {(r["molecule"], r["temperature_K"], r["source"]): r for r in shipped["ramachandran"]}
    assert "the GFN2-xTB runs are far shorter than MF5's" in text and "(one every 10 fs)" in text
    assert "At 1000 K GFN2-xTB itself spends a good part of its time outside every box" in text
    for mol in ("capped_glycine", "capped_serine"):
        for T in (300.0, 1000.0):
            assert rows[(mol, T, "xtb")]["n_frames"] < rows[(mol, T, "MF5")]["n_frames"]
            assert all(rows[(mol, T, s)].get("record_every_fs", 10.0) == 10.0 for s in ("MF5", "xtb"))
        cold, hot = (rows[(mol, T, "xtb")]["fractions"]["beyond"] for T in (300.0, 1000.0))
        assert hot > 0.15 and hot > cold + 0.1, mol
    assert "at 1000 K MF5 did not last" in text
    assert any(rows[(m, 1000.0, "MF5")]["crashed"] for m in ("capped_glycine", "capped_serine"))
    assert all(r["crashes"] == r["runs"] for r in shipped["long_runs"]
               if r["prior"] == "MF5" and r["temperature_K"] == 1000.0 and r["molecule"].startswith("capped"))
    speed = shipped["ms_per_step"]
    assert "A GP step costs less than the paper's 2 ms for every molecule here" in text
    assert max(s["gp"] for s in speed.values()) < PAPER_CLAIMS["ms_per_step"][0] == 2.0
    assert "GFN2-xTB's step costs more than ten times as much" in text
    assert min(s["xtb"] / s["gp"] for s in speed.values()) > 10


def test_quiz_question_on_the_long_runs_is_what_the_runs_show(shipped):
    quiz = json.loads(QUIZ.read_text(encoding="utf-8"))
    q = next(q for q in quiz if "capped serine" in q["question"])
    assert "MF5 crashed in all three 1000 ps runs of capped serine (median crash after about 20 ps), MF2 in all " \
           "three within about a picosecond, and GFN2-xTB passed the same criterion" in q["question"]
    rows = {(r["molecule"], r["prior"], r["temperature_K"]): r for r in shipped["long_runs"]}
    mf5, mf2 = rows[("capped_serine", "MF5", 1000.0)], rows[("capped_serine", "MF2", 1000.0)]
    assert mf5["crashes"] == mf5["runs"] == 3 and abs(mf5["median_time_to_crash_ps"] - 20) < 5
    crash_fs = [r["result"]["time_to_crash_fs"] for r in shipped["long_run_records"]
                if r["job"]["molecule"] == "capped_serine" and r["job"]["prior"] == "MF2"
                and r["job"]["temperature_K"] == 1000.0]
    assert mf2["crashes"] == 3 and len(crash_fs) == 3 and max(crash_fs) < 1500.0
    assert rows[("capped_serine", "xtb", 1000.0)]["crashes"] == 0
    assert "tens of times longer" in json.dumps(q)
    assert mf5["median_time_to_crash_ps"] / mf2["median_time_to_crash_ps"] > 20


def test_every_number_in_the_prose_is_accounted_for(shipped):
    """Each number the prose shows (the lesson template's counting rule) is one of: the paper's claims as recorded,
    a constant of the kit's protocol or figures, or a value of the shipped result, each checked above; nothing
    else can slip in unchecked."""
    from npsnn_edu.course.lesson_stats import lesson_stats
    from npsnn_edu.gpr.experiments import crash_interval, run_nvt

    p = PAPER_CLAIMS
    paper = {p["long_run_ps"], *p["temperatures_K"], p["stretched_A"], p["oh_equilibrium_A"],
             p["peak_force_kcal_per_A"], p["c5_minus_c7eq_kcal"], p["opt_steps"], p["ensemble_runs"], p["run_ns"],
             p["ensemble_us"], p["ensemble_temperature_K"], p["ensemble_us"] * 1000, p["training_geometries"]}
    # the protocol: 0.5 fs steps, 95 % intervals, 20 fs window and 0.05 A band, 300 K for the stretched bond,
    # 50 fs force window, 60 ps bound of the crash times, 50 workers in the cost table; the figure's 100 kcal/mol/A
    assert inspect.signature(run_nvt).parameters["dt_fs"].default == 0.5
    assert crash_interval(0, 3)[1] == pytest.approx(1 - 0.025 ** (1 / 3))
    assert all(r["temperature_K"] == 300.0 for r in shipped["distortion"])
    assert {r["temperature_K"] for r in shipped["ramachandran"]} == {300.0, 1000.0}
    from npsnn_edu.viz.gpr_paper import cost_table

    assert "500 ns on 50 runs, GP (h)" in cost_table(shipped).columns
    kit = {0.5, 95.0, 20.0, 0.05, 300.0, 50.0, 60.0, 100.0, 180.0}
    d = {(r["molecule"], r["prior"]): r for r in shipped["distortion"] if r["molecule"] == "capped_serine"}
    opt = shipped["optimisation"]
    rows = {(r["molecule"], r["prior"]): r for r in shipped["long_runs"] if r["temperature_K"] == 1000.0}
    values = {round(v, 3) for v in (
        *(rows[(m, q)]["median_time_to_crash_ps"] for m in ("capped_glycine", "capped_serine") for q in ("MF5", "MF2")),
        *(r["time_to_relax_fs"] for r in d.values()), d[("capped_serine", "xtb")]["force_at_start_kcal_per_A"],
        d[("capped_serine", "xtb")]["peak_force_kcal_per_A"], 150.0, 590.0,
        -opt["c7eq_minus_c5_kcal"]["xtb"], opt["c7eq_minus_c5_kcal"]["gp"], opt["rmsd_A"]["C7eq"],
        opt["rmsd_A"]["C5"], abs(opt["minima"]["gp"]["C5"]["psi_deg"]), opt["minima"]["xtb"]["C5"]["psi_deg"],
        opt["steps_to_1kcal"]["gp"]["C5"], opt["steps_to_1kcal"]["xtb"]["C5"],
        100 * opt["training_basin_fractions"]["C7eq"], 100 * opt["training_basin_fractions"]["beta_C5"], 2.0)}
    allowed = {round(float(v), 3) for v in paper | kit} | values

    def close(shown: str) -> bool:  # a quoted number is a value rounded to the digits shown
        digits = shown.replace("%", "").strip()
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        return any(abs(float(digits) - v) <= 0.5 * 10 ** -decimals + 1e-9 for v in allowed)

    stats = lesson_stats(NB)
    bad = [(c, n) for c, n in stats.numbers if not close(n)]
    assert not bad, f"numbers in 03c's prose with no check: {bad}"


def test_instructor_notes_quote_the_shipped_result(shipped):
    guide = " ".join((REPO / "docs" / "instructor" / "ch3.md").read_text(encoding="utf-8").split())
    part = guide[guide.index("## 8. Going further: the paper's four molecules"):]
    from npsnn_edu.course.lesson_stats import lesson_stats

    stats = lesson_stats(NB)
    assert f"| 03c going further | {stats.words} | {len(stats.numbers)} (no limit" in part
    assert f"| 2 | {len(json.loads(QUIZ.read_text(encoding='utf-8')))} | 1 (Exercise 3.8) | 1 |" in part
    records = [r for r in shipped["long_run_records"] if r["job"]["temperature_K"] == 1000.0]
    mf5 = [r["result"]["time_to_crash_fs"] / 1000 for r in records if r["job"]["prior"] == "MF5"
           and r["job"]["molecule"] in ("capped_glycine", "capped_serine")]
    assert f"(crash times {min(mf5):.1f}-{max(mf5):.0f} ps, medians 15.5 and 21.6 ps)" in part
    assert "GFN2-xTB 0/1 x 10 ps on all four molecules" in part
    assert {r["molecule"] for r in shipped["long_runs"] if r["prior"] == "xtb" and r["temperature_K"] == 1000.0
            and r["runs"] == 1 and r["crashes"] == 0 and r["duration_ps"] == 10.0} == {
        "capped_glycine", "capped_serine", "malondialdehyde", "aspirin"}
    d = {r["prior"]: r for r in shipped["distortion"] if r["molecule"] == "capped_serine"}
    assert (f"at {d['MF5']['time_to_relax_fs']:.0f} fs (MF5), {d['MF2']['time_to_relax_fs']:.0f} fs (MF2), "
            f"{d['xtb']['time_to_relax_fs']:.0f} fs (xTB)") in part
    assert "/".join(f"{d[p]['force_at_start_kcal_per_A']:.0f}" for p in ("MF5", "MF2", "xtb")) in part
    assert "/".join(f"{d[p]['peak_force_kcal_per_A']:.0f}" for p in ("MF5", "MF2", "xtb")) in part
    opt = shipped["optimisation"]
    assert (f"xTB E(C7eq) - E(C5) = {opt['c7eq_minus_c5_kcal']['xtb']:.2f} kcal/mol, the GP "
            f"+{opt['c7eq_minus_c5_kcal']['gp']:.2f}") in part
    assert f"C7eq RMSD {opt['rmsd_A']['C7eq']:.3f} Å, C5 {opt['rmsd_A']['C5']:.3f} Å" in part
    st = opt["steps_to_1kcal"]
    assert f"BFGS steps GP {st['gp']['C7eq']}/{st['gp']['C5']}, xTB {st['xtb']['C7eq']}/{st['xtb']['C5']}" in part
    tb = opt["training_basin_fractions"]
    assert f"{100 * tb['C7eq']:.1f} % in the C7eq box, {100 * tb['beta_C5']:.1f} % in the β/C5 box" in part
    from npsnn_edu.viz.gpr_paper import ensemble_hours, training_coverage

    cov = training_coverage(shipped)
    assert f"within 30° of the C5 torsions {100 * cov['near']['C5']:.1f} %, of C7eq {100 * cov['near']['C7eq']:.1f} %" \
        in part
    assert shipped["ms_per_step"]["malondialdehyde"]["gp"] < 1.0  # "a fraction of a millisecond"
    assert (f"at 0.5 ms per step 0.5 μs = 10⁹ steps takes 5e5 s = {ensemble_hours(0.5, 500.0, 0.5, 1) / 24:.1f} days "
            f"on one core and {ensemble_hours(0.5, 500.0, 0.5, 50):.1f} h on 50 cores") in part
    assert "classroom 21.3 s, peak RSS 232 MB" in part
