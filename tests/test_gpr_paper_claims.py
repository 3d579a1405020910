"""The shipped result ``gpr_paper_claims`` (issue 21: the paper's claims at full size): it loads, holds every
interface key, and every number it summarises is recomputed here from what it ships (the campaign records, the bond
series, the (phi, psi) arrays, the optimised geometries), with independent formulas where one exists. Plus small live
versions of the helpers and of the benchmark's --full assembly."""
from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import beta

from npsnn_edu.errors import DataFormatError, InvalidParameterError, UnknownNameError
from npsnn_edu.gpr import campaign as cp
from npsnn_edu.gpr.claims import (
    INTERFACE_KEYS,
    RESULT_NAME,
    STEPS_PER_NS,
    ensemble_cost,
    load_claims,
    long_run_rows,
    save_claims,
    settle_time,
)
from npsnn_edu.precomputed import load_result

REPO = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("gpr_paper_claims_bench", REPO / "benchmarks" / "gpr_paper_claims.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def shipped():
    return load_claims()


def _cp_high(k: int, n: int) -> float:
    """Exact (Clopper-Pearson) 95 % upper bound, from the beta distribution directly."""
    return 1.0 if k == n else float(beta.ppf(0.975, k + 1, n - k))


# ------------------------------------------------------------------------------------------ the shipped result
def test_the_shipped_result_loads_with_every_interface_key_and_its_arrays(shipped):
    plain = load_result(RESULT_NAME)
    for key in INTERFACE_KEYS:
        assert key in plain.data and key in shipped.data
    assert shipped.data["molecules"][:4] == ["capped_glycine", "capped_serine", "malondialdehyde", "aspirin"]
    meta = shipped.data["arrays_file"]
    npz = REPO / "npsnn_edu" / "data" / "results" / meta["name"]
    assert npz.stat().st_size == meta["bytes"] and len(shipped.arrays) == meta["n_arrays"] > 0
    json_path = REPO / "npsnn_edu" / "data" / "results" / f"{RESULT_NAME}.json"
    assert json_path.stat().st_size + npz.stat().st_size < 1_000_000  # the whole under ~1 MB
    for section in ("command", "seeds", "versions", "date"):
        assert section in shipped.provenance
    assert shipped.data["run_info"]["commit"]
    with pytest.raises(UnknownNameError):
        shipped.array("no/such/array")
    # every array a row names is shipped
    named = [v for r in shipped.data["distortion"] + shipped.data["ramachandran"] for v in r["arrays"].values()]
    named += list(shipped.data["optimisation"]["arrays"].values())
    named += [m["positions"] for src in shipped.data["optimisation"]["minima"].values() for m in src.values()]
    assert named and all(k in shipped.arrays for k in named)


def test_long_run_rows_are_what_the_shipped_records_say(shipped, tmp_path):
    bench = _bench()
    rows, recs = shipped.data["long_runs"], shipped.data["long_run_records"]
    assert rows and recs
    plan = {j.key for j in bench.plan_jobs()}
    assert all(r["key"] in plan and r["status"] == "done" for r in recs)
    assert sum(r["runs"] for r in rows) == len(recs)
    for r in rows:
        assert 0 <= r["crashes"] <= r["runs"] == len(r["seeds"])
        assert r["prior"] in ("MF5", "MF2", "xtb")
        assert r["ci95_high"] == pytest.approx(_cp_high(r["crashes"], r["runs"]), abs=1e-4)
        sel = [x["result"] for x in recs if x["job"]["molecule"] == r["molecule"] and x["job"]["prior"] == r["prior"]
               and x["job"]["temperature_K"] == r["temperature_K"]
               and x["job"]["duration_fs"] == 1000.0 * r["duration_ps"]]
        assert len(sel) == r["runs"] and sum(x["crashed"] for x in sel) == r["crashes"]
        # a finished run lasted its full length; a crashed one ended at its crash
        for x in sel:
            assert x["n_steps"] * 0.5 == pytest.approx(x["time_to_crash_fs"] if x["crashed"] else x["duration_fs"])
    # the campaign's own summary of the same records agrees row for row
    store = tmp_path / "store.jsonl"
    store.write_text("".join(json.dumps(r) + "\n" for r in recs))
    theirs = {(r["molecule"], r["prior"], r["temperature_K"]): r for r in cp.summarize_store(store)}
    for r in rows:
        t = theirs[(r["molecule"], r["prior"], r["temperature_K"])]
        if t["runs"] == r["runs"]:  # one run length per (molecule, prior, T), as in the plan
            assert (t["crashes"], t["duration_fs"]) == (r["crashes"], 1000.0 * r["duration_ps"])
            assert t["ci_high"] == pytest.approx(r["ci95_high"], abs=1e-4)
    status = shipped.data["campaign"]["paper_campaign"]
    assert status["finished"] == len(recs) <= status["planned"] == len(plan)
    assert any(("of %d finished" % status["planned"]) in s for s in shipped.data["not_complete"]) == (
        status["finished"] < status["planned"])


def test_the_live_store_holds_every_shipped_record_when_given(shipped):
    """With NPSNN_EDU_CLAIMS_STORE=/path/to/store.jsonl (the campaign that made the result), every shipped record is
    in it unchanged; without it, the shipped records are checked against a store rebuilt from them."""
    path = os.environ.get("NPSNN_EDU_CLAIMS_STORE")
    recs = shipped.data["long_run_records"]
    live = cp.read_store(path) if path else {r["key"]: r for r in recs}
    for r in recs:
        assert live[r["key"]]["result"] == r["result"]


def test_distortion_times_and_forces_are_recomputed_from_the_shipped_series(shipped):
    rows = shipped.data["distortion"]
    assert {(r["molecule"], r["prior"]) for r in rows} == {
        (m, p) for m in ("capped_serine", "malondialdehyde") for p in ("MF5", "MF2", "xtb")}
    # seed 0 (with its movie) and the other seeds (series only) are checked the same way
    runs = [r for r in rows] + [{**r, **o} for r in rows for o in r.get("other_seeds", [])]
    assert len({(r["molecule"], r["prior"], r["seed"]) for r in runs}) == len(runs)
    for r in runs:
        a = {k: shipped.array(v) for k, v in r["arrays"].items()}
        t, b = a["times_fs"], a["bond_A"]
        assert b[0] == pytest.approx(r["stretched_A"], abs=1e-9) and t[0] == 0.0
        assert t[-1] == pytest.approx(r["duration_fs"]) or r["crashed"]
        i, j = r["atoms"]
        if r["seed"] == 0:
            x = a["movie_positions_A"]
            assert np.linalg.norm(x[0, j] - x[0, i]) == pytest.approx(r["stretched_A"], abs=1e-5)
            np.testing.assert_allclose(np.linalg.norm(x[:, j] - x[:, i], axis=-1), b[: len(x)], atol=1e-4)
        assert a["force_kcal_per_A"][0] == pytest.approx(r["force_at_start_kcal_per_A"], abs=0.051)
        assert np.abs(a["force_kcal_per_A"]).max() == pytest.approx(r["peak_force_kcal_per_A"], abs=0.051)
        if r["acceptor"] is not None:
            assert r["proton_transferred"] == bool(a["acceptor_A"][-1] < b[-1])
        if r["proton_transferred"] or r["crashed"]:
            assert r["time_to_relax_fs"] is None
            continue
        got = r["time_to_relax_fs"]
        assert got == settle_time(t, b, r["reference_A"], r["within_A"], r["settle_window_fs"])
        if got is not None:  # the definition, checked by hand: every window from `got` on is within, the one before not
            w, ref, tol = r["settle_window_fs"], r["reference_A"], r["within_A"]

            def mean_from(s: float, t=t, b=b, w=w) -> float:
                return float(b[(t >= s) & (t <= s + w)].mean())

            starts = t[t <= t[-1] - w]
            assert all(abs(mean_from(s) - ref) < tol for s in starts[starts >= got])
            before = starts[starts < got]
            assert before.size == 0 or abs(mean_from(before[-1]) - ref) >= tol


def test_ramachandran_fractions_are_recomputed_from_the_shipped_angles(shipped):
    rows = shipped.data["ramachandran"]
    assert {(r["molecule"], r["temperature_K"], r["source"]) for r in rows} == {
        (m, T, s) for m in ("capped_glycine", "capped_serine") for T in (300.0, 1000.0) for s in ("MF5", "xtb")}
    boxes = {"beta_C5": ((-180, -100), (90, 180)), "C7eq": ((-100, -40), (30, 120)),
             "alpha_R": ((-100, -40), (-70, -10))}  # degrees, written out here independently of the package
    for r in rows:
        phi = shipped.array(r["arrays"]["phi_deg"]).astype(float)
        psi = shipped.array(r["arrays"]["psi_deg"]).astype(float)
        assert phi.shape == psi.shape == (r["n_frames"],)
        assert np.all(np.abs(phi) <= 180.0) and np.all(np.abs(psi) <= 180.0)
        # one frame every record_every_fs from t = 0 to the end of each run (a crashed run: to its crash, and the
        # next seed runs); an uncrashed row is one run of the asked length
        assert sum(r["frames_per_run"]) == r["n_frames"] and len(r["frames_per_run"]) == r["runs"]
        assert r["crashes"] == len(r["time_to_crash_fs"]) <= r["runs"] == len(r["seeds"])
        if not r["crashed"]:
            assert r["runs"] == 1 and r["simulated_ps"] == pytest.approx(r["duration_ps"])
            assert r["n_frames"] == 1 + round(1000.0 * r["simulated_ps"] / r["record_every_fs"])
        else:
            assert r["simulated_ps"] == pytest.approx(r["duration_ps"]) or r["runs"] == r["crashes"]
        inside = np.zeros(phi.size, bool)
        for name, ((p0, p1), (s0, s1)) in boxes.items():
            m = (phi >= p0) & (phi <= p1) & (psi >= s0) & (psi <= s1)
            inside |= m
            assert r["fractions"][name] == pytest.approx(m.mean(), abs=6e-5)
        assert r["fractions"]["beyond"] == pytest.approx((~inside).mean(), abs=6e-5)
        if "fractions_matched" in r:  # the GP's first frames, as many as the xTB run has (same seed 0)
            x = [o for o in rows if o["source"] == "xtb" and o["molecule"] == r["molecule"]
                 and o["temperature_K"] == r["temperature_K"]][0]
            n = r["matched_frames"]
            assert n == min(x["n_frames"], r["frames_per_run"][0])
            (p0, p1), (s0, s1) = boxes["C7eq"]
            c7 = (phi[:n] >= p0) & (phi[:n] <= p1) & (psi[:n] >= s0) & (psi[:n] <= s1)
            assert r["fractions_matched"]["C7eq"] == pytest.approx(c7.mean(), abs=6e-5)


def test_optimisation_numbers_are_recomputed_from_the_shipped_minima(shipped):
    from npsnn_edu.gpr.peptides import backbone_dihedrals
    from npsnn_edu.units import KCAL_PER_MOL_EV

    o = shipped.data["optimisation"]
    mins = o["minima"]
    for src in ("gp", "xtb"):
        gap = (mins[src]["C7eq"]["energy_eV"] - mins[src]["C5"]["energy_eV"]) / KCAL_PER_MOL_EV
        assert o["c7eq_minus_c5_kcal"][src] == pytest.approx(gap, abs=6e-4)
        for start in ("C7eq", "C5"):
            x = shipped.array(mins[src][start]["positions"])
            phi, psi = backbone_dihedrals(x)
            assert (float(phi), float(psi)) == pytest.approx((mins[src][start]["phi_deg"], mins[src][start]["psi_deg"]),
                                                              abs=0.006)
            assert o["steps_to_1kcal"][src][start] == mins[src][start]["steps"]
    for start in ("C7eq", "C5"):  # Kabsch RMSD, computed here with scipy's rotation fit
        from scipy.spatial.transform import Rotation

        a = shipped.array(mins["gp"][start]["positions"])
        b = shipped.array(mins["xtb"][start]["positions"])
        a, b = a - a.mean(0), b - b.mean(0)
        rot, _ = Rotation.align_vectors(b, a)
        rmsd = float(np.sqrt(np.mean(np.sum((rot.apply(a) - b) ** 2, axis=1))))
        assert o["rmsd_A"][start] == pytest.approx(rmsd, abs=6e-4)
    phi, psi = shipped.array(o["arrays"]["training_phi_deg"]), shipped.array(o["arrays"]["training_psi_deg"])
    c5 = (phi >= -180) & (phi <= -100) & (psi >= 90) & (psi <= 180)
    assert phi.size == 1000 and o["training_basin_fractions"]["beta_C5"] == pytest.approx(c5.mean(), abs=6e-5)


def test_speed_and_the_ensemble_cost_follow_from_the_shipped_numbers(shipped):
    for s in shipped.data["ms_per_step"].values():
        assert s["gp"] > 0 and s["xtb"] > 0 and s["ratio"] == pytest.approx(s["xtb"] / s["gp"], rel=0.01)
    for s in shipped.data["ms_per_step_campaign"].values():
        assert s["ratio"] == pytest.approx(s["xtb"] / s["gp"], rel=0.01)
    e = shipped.data["ensemble_500K"]
    recs = [r["result"] for r in shipped.data["long_run_records"]
            if r["job"]["molecule"] == "malondialdehyde" and r["job"]["prior"] == "MF5"
            and r["job"]["temperature_K"] in e["temperatures_K"]]
    assert len(recs) == e["runs_measured"]
    if recs:
        ms = sum(r["wall_s"] for r in recs) * 1e3 / sum(r["n_steps"] for r in recs)
        assert e["ms_per_step"] == pytest.approx(ms, rel=1e-4)
        assert e["s_per_ns"] == pytest.approx(ms * 2000.0, abs=0.051)  # 2e6 steps of 0.5 fs per ns
        assert e["cpu_days"] == pytest.approx(500 * ms * 2000.0 / 86400.0, abs=6e-4)
        assert e["wall_h_on_workers"]["50"] == pytest.approx(10 * ms * 2000.0 / 3600.0, abs=0.006)
        assert e["wall_h_on_workers"]["8"] == pytest.approx(7 * 10 * ms * 2000.0 / 3600.0, abs=0.006)
    else:
        assert e["ms_per_step"] is None and any("500 K" in s for s in shipped.data["not_complete"])


# ------------------------------------------------------------------------------------------ helpers, live
def _rec(mol: str, prior: str, T: float, seed: int, dur: float, crashed: bool, wall: float = 1.0) -> dict:
    job = cp.Job(mol, prior, T, seed, dur)
    steps = int(dur / 0.5 / 2) if crashed else int(dur / 0.5)
    res = {"prior": prior, "temperature_K": T, "seed": seed, "duration_fs": dur, "crashed": crashed,
           "time_to_crash_fs": steps * 0.5 if crashed else None, "reason": "x" if crashed else None,
           "max_deviation_A": 0.2 + 0.1 * seed, "max_prior_weight": None, "open_enol_fraction": None,
           "engine": "core", "thermostat": "langevin", "molecule": mol, "n_steps": steps, "wall_s": wall,
           "ms_per_step": 1e3 * wall / steps}
    return {"key": job.key, "status": "done", "job": {**job.__dict__}, "result": res}


def test_long_run_rows_count_crashes_with_exact_intervals_and_ignore_failed_runs():
    recs = [_rec("m", "MF2", 1000.0, s, 100.0, s < 2) for s in range(3)]
    recs += [_rec("m", "MF5", 1000.0, s, 100.0, False) for s in range(3)]
    recs.append({**_rec("m", "MF5", 1000.0, 9, 100.0, True), "status": "failed"})
    rows = {r["prior"]: r for r in long_run_rows(recs)}
    assert (rows["MF2"]["runs"], rows["MF2"]["crashes"]) == (3, 2)
    assert (rows["MF5"]["runs"], rows["MF5"]["crashes"]) == (3, 0)
    assert rows["MF5"]["ci95_high"] == pytest.approx(1 - 0.025 ** (1 / 3), abs=1e-4)  # closed form for 0/n
    assert rows["MF2"]["ci95_high"] == pytest.approx(_cp_high(2, 3), abs=1e-4)
    assert rows["MF2"]["median_time_to_crash_ps"] == pytest.approx(0.05)
    assert rows["MF5"]["median_time_to_crash_ps"] is None and rows["MF5"]["seeds"] == [0, 1, 2]


def test_ensemble_cost_uses_the_500K_runs_or_says_it_fell_back():
    fall = ensemble_cost([_rec("malondialdehyde", "MF5", 1000.0, s, 1000.0, False, wall=0.2) for s in range(2)]
                         + [_rec("malondialdehyde", "MF2", 1000.0, 0, 1000.0, False, wall=50.0)])
    assert fall["temperatures_K"] == [1000.0] and "no MF5 run at 500 K" in fall["source"]
    assert fall["ms_per_step"] == pytest.approx(0.1) and fall["s_per_ns"] == pytest.approx(0.1e-3 * STEPS_PER_NS)
    assert fall["wall_h_on_workers"]["1"] == pytest.approx(50 * 10 * 200.0 / 3600.0, abs=0.006)
    recs = [_rec("malondialdehyde", "MF5", 500.0, 0, 1000.0, False, wall=0.4),
            _rec("malondialdehyde", "MF5", 500.0, 1, 1000.0, True, wall=0.2),  # counts with the steps it made
            _rec("malondialdehyde", "MF5", 1000.0, 1, 1000.0, False, wall=90.0)]
    got = ensemble_cost(recs)
    assert got["temperatures_K"] == [500.0] and got["runs_measured"] == 2
    assert got["ms_per_step"] == pytest.approx(0.6e3 / 3000)
    assert ensemble_cost([])["ms_per_step"] is None


def test_settle_time_on_a_damped_bond_and_on_one_that_never_settles():
    t = np.arange(0.0, 1000.0, 2.0)
    # a stretch decaying as 0.5 exp(-t / 50 fs) plus a 10-fs vibration, sampled every 2 fs: the mean of the 11
    # samples in [a, a + 20] is 0.5 exp(-a / 50) S + 0.05 cos(2 pi a / 10) / 11 with S = mean_k exp(-2k / 50), in
    # closed form (the vibration's full periods cancel, one endpoint sample is left)
    r = 0.97 + 0.5 * np.exp(-t / 50.0) + 0.05 * np.cos(2 * np.pi * t / 10.0)
    got = settle_time(t, r, 0.97, 0.05, 20.0)
    a = t[t <= t[-1] - 20.0]
    m = 0.5 * np.exp(-a / 50.0) * np.mean(np.exp(-2.0 * np.arange(11) / 50.0)) + 0.05 * np.cos(2 * np.pi * a / 10) / 11
    bad = np.flatnonzero(np.abs(m) >= 0.05)
    assert got == a[bad[-1] + 1] and 100.0 < got < 120.0
    assert settle_time(t, np.full_like(t, 1.3), 0.97) is None
    assert settle_time(t, np.full_like(t, 0.97), 0.97) == 0.0
    with pytest.raises(InvalidParameterError, match="same length"):
        settle_time(t, r[:-1], 0.97)


def test_save_and_load_claims_round_trip_and_refuse_a_foreign_array_file(tmp_path):
    data = {k: [] for k in INTERFACE_KEYS}
    arrays = {"a/b": np.arange(3.0), "c": np.ones((2, 3), np.float32)}
    js, npz = save_claims(data, arrays, command="cmd", seeds=[0], directory=tmp_path)
    got = load_claims(tmp_path)
    np.testing.assert_array_equal(got.array("a/b"), arrays["a/b"])
    assert got.array("c").dtype == np.float32 and got.provenance["command"] == "cmd"
    np.savez_compressed(npz, x=np.zeros(1))
    with pytest.raises(DataFormatError, match="SHA-256"):
        load_claims(tmp_path)
    npz.unlink()
    with pytest.raises(DataFormatError, match="missing"):
        load_claims(tmp_path)
    with pytest.raises(InvalidParameterError, match="interface keys"):
        save_claims({"molecules": []}, {}, command="cmd", directory=tmp_path)


def test_full_assembly_reads_the_store_and_cached_protocols_and_runs_nothing(tmp_path, monkeypatch):
    """--full --assemble-only: the result is made from the store (only the plan's finished runs) and the work
    folder's cached protocols; no campaign is started, no protocol runs."""
    import subprocess
    import sys

    bench = _bench()
    plan = bench.plan_jobs()
    store = tmp_path / "store.jsonl"
    recs = [_rec(j.molecule, j.prior, j.temperature_K, j.seed, j.duration_fs, j.seed == 1) for j in plan[:7]]
    recs.append(_rec("not_in_plan", "MF5", 300.0, 0, 10.0, False))
    store.write_text("".join(json.dumps(r) + "\n" for r in recs))
    work = tmp_path / "work"
    t = np.arange(0.0, 40.0, 2.0)
    row = {"molecule": "capped_serine", "prior": "MF5", "proton_transferred": False, "time_to_relax_fs": 10.0,
           "peak_force_kcal_per_A": 1.0, "arrays": {"times_fs": "distortion/x/times_fs"}}
    bench.save_protocol(work, "distortion", {"rows": [row],
                                             "wall_s": 1.0, "settings": {}}, {"distortion/x/times_fs": t})
    out_dir = tmp_path / "res"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    p = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpr_paper_claims.py"), "--full", "--store",
                        str(store), "--assemble-only", "--work", str(work), "--out-result", str(out_dir)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    last = json.loads(p.stdout.strip().splitlines()[-1])
    assert last["mode"] == "full" and all(k in last for k in INTERFACE_KEYS)
    assert store.read_text().count("\n") == len(recs)  # nothing was run into the store
    got = load_claims(out_dir)
    assert len(got.data["long_run_records"]) == 7 and sum(r["runs"] for r in got.data["long_runs"]) == 7
    assert got.data["campaign"]["paper_campaign"]["finished"] == 7
    assert any(f"7 of {len(plan)} finished" in s for s in got.data["not_complete"])
    assert any("optimisation" in s for s in got.data["not_complete"])  # protocols not cached are said, not faked
    np.testing.assert_array_equal(got.array("distortion/x/times_fs"), t)
    assert got.data["ensemble_500K"]["ms_per_step"] is None or math.isfinite(got.data["ensemble_500K"]["ms_per_step"])


def test_a_live_distortion_run_ships_series_that_reproduce_its_row():
    """The distortion protocol itself, small: malondialdehyde's enol O-H at 1.5 A, MF5, 60 fs."""
    from npsnn_edu.gpr.data import load
    from npsnn_edu.gpr.experiments import build_models

    bench = _bench()
    data = load("malondialdehyde")
    models = build_models(data, "force_trained", priors=("MF5",))
    arrays: dict = {}
    (row,) = bench.distortion(data, models, bench.ENOL_O, bench.ENOL_H, 1.5, 60.0, acceptor=3, arrays=arrays,
                              movie_fs=20.0)
    a = {k: arrays[v] for k, v in row["arrays"].items()}
    assert a["bond_A"][0] == pytest.approx(1.5) and a["times_fs"][-1] == pytest.approx(60.0)
    assert a["movie_positions_A"].shape == (11, 9, 3) and a["movie_positions_A"].dtype == np.float32
    assert row["peak_force_kcal_per_A"] == pytest.approx(np.abs(a["force_kcal_per_A"]).max(), abs=0.051)
    assert row["force_at_start_kcal_per_A"] == pytest.approx(a["force_kcal_per_A"][0], abs=0.051)
    # a stretched O-H is pulled back (the sign convention: + pulls H towards its O)
    assert row["force_at_start_kcal_per_A"] > 0


def test_the_docs_and_the_readme_quote_the_shipped_result(shipped):
    """docs/gpr_your_molecule.md's tables and the README's row are the shipped result rendered
    (`benchmarks/gpr_paper_claims.py --full ... --update-docs` writes them): every quoted number is the result's."""
    from npsnn_edu.gpr.claims import DOC_BEGIN, DOC_END, markdown_report, readme_row

    doc = (REPO / "docs" / "gpr_your_molecule.md").read_text()
    block = doc.split(DOC_BEGIN, 1)[1].split(DOC_END, 1)[0]
    assert block.strip() == markdown_report(shipped.data).strip()
    assert readme_row(shipped.data) in (REPO / "README.md").read_text().splitlines()
    # the rendering says what the numbers say (spot checks against the data, not the renderer)
    for r in shipped.data["long_runs"]:
        assert f"| {r['crashes']}/{r['runs']} | {r['ci95_high']:.2f} |" in block
    ser = [r for r in shipped.data["distortion"] if r["molecule"] == "capped_serine" and r["prior"] == "MF5"][0]
    assert f"relaxed by {ser['time_to_relax_fs']:g} fs" in block


def test_update_docs_refuses_a_doc_without_markers_and_adds_the_readme_row(tmp_path, shipped):
    from npsnn_edu.gpr.claims import README_CELL, update_docs

    doc, readme = tmp_path / "doc.md", tmp_path / "README.md"
    doc.write_text("# no markers\n")
    readme.write_text("| `benchmarks/gpr_paper_claims.py --quick` | x | y |\n| other | a | b |\n")
    with pytest.raises(DataFormatError, match="markers"):
        update_docs(shipped.data, doc, readme)
    doc.write_text("a\n<!-- gpr_paper_claims:begin -->\nold\n<!-- gpr_paper_claims:end -->\nb\n")
    update_docs(shipped.data, doc, readme)
    update_docs(shipped.data, doc, readme)  # idempotent: one row, one block
    lines = readme.read_text().splitlines()
    assert [ln.startswith(README_CELL) for ln in lines] == [False, True, False]
    assert doc.read_text().count("gpr_paper_claims:begin") == 1 and "old" not in doc.read_text()


def test_ramachandran_runs_repeat_the_campaign_runs_of_the_same_seed(shipped):
    """One protocol: a Ramachandran run and the campaign's long run of the same (molecule, model, T, seed) are the
    same trajectory, so a crash happens at the same time in both (the campaign ran in other processes, on Dask)."""
    recs = {(r["job"]["molecule"], r["job"]["prior"], r["job"]["temperature_K"], r["job"]["seed"]): r["result"]
            for r in shipped.data["long_run_records"]}
    compared = 0
    for r in shipped.data["ramachandran"]:
        # every run but the last was followed by the next seed because it crashed; the last crashed if all did
        ends = list(r["time_to_crash_fs"]) + [None] * (r["runs"] - r["crashes"])
        for seed, n, crash in zip(r["seeds"], r["frames_per_run"], ends):
            store = recs.get((r["molecule"], r["source"], r["temperature_K"], seed))
            if store is None:
                continue
            compared += 1
            if crash is not None:
                assert store["crashed"] and store["time_to_crash_fs"] == crash
            else:  # ran its length (n - 1 frames apart) without a crash: the campaign's run lasted at least as long
                length = (n - 1) * r["record_every_fs"]
                assert not store["crashed"] or store["time_to_crash_fs"] > length
    assert compared > 0


def test_a_live_ramachandran_row_follows_a_crash_with_the_next_seed():
    """The Ramachandran protocol, small: capped glycine's MF5 model at 1000 K for 2 ps. Seed 0 crashes at 1.43 ps
    (as in the campaign's 1000 ps run of seed 0), so seed 1 runs the remaining 0.57 ps; xTB 10 fs."""
    import argparse

    bench = _bench()
    args = argparse.Namespace(rama_molecules=["capped_glycine"], rama_temperatures=[1000.0], gp_rama_ps=2.0,
                              xtb_rama_ps=0.01, rama_max_runs=5)
    out, arrays = bench.proto_ramachandran(args)
    gp, xtb = out["rows"]
    assert (gp["source"], xtb["source"]) == ("MF5", "xtb")
    assert gp["seeds"] == [0, 1] and gp["crashes"] == 1 and gp["time_to_crash_fs"] == [1430.0]
    assert gp["simulated_ps"] == pytest.approx(2.0) and gp["frames_per_run"] == [144, 58]
    assert xtb["seeds"] == [0] and not xtb["crashed"] and xtb["n_frames"] == 2
    phi, psi = arrays[gp["arrays"]["phi_deg"]], arrays[gp["arrays"]["psi_deg"]]
    assert phi.dtype == np.float32 and phi.shape == psi.shape == (202,)
    from npsnn_edu.gpr.protocols import basin_fractions

    assert gp["fractions"] == {k: round(v, 4) for k, v in basin_fractions(phi, psi).items()}
