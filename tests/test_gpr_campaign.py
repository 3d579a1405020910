"""Dask campaigns: every run stored as it finishes, a killed campaign resumes without redoing or losing runs, a dying
worker's run is retried once and then reported as failed, never dropped; GP and xTB under one protocol."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from npsnn_edu.errors import DataFormatError, InvalidParameterError
from npsnn_edu.gpr import campaign as cp

REPO = Path(__file__).resolve().parents[1]


def _fake_job(job: cp.Job) -> dict:
    """A stand-in run: deterministic, instant, JSON-able like run_job's summary."""
    return {"prior": job.prior, "temperature_K": job.temperature_K, "seed": job.seed, "duration_fs": job.duration_fs,
            "crashed": job.seed % 2 == 1, "time_to_crash_fs": 5.0 if job.seed % 2 else None, "reason": None,
            "max_deviation_A": 0.1, "max_prior_weight": None, "open_enol_fraction": None, "engine": "core",
            "thermostat": "langevin", "ms_per_step": 1.0, "n_steps": 10, "wall_s": 0.01}


def _dying_job(job: cp.Job) -> dict:
    """Kills its worker process: once for seed 1 (then succeeds), every time for seed 2."""
    marker = Path(os.environ["NPSNN_TEST_MARKERS"]) / f"seed{job.seed}"
    if job.seed == 2 or (job.seed == 1 and not marker.exists()):
        marker.touch()
        os._exit(1)
    return _fake_job(job)


def test_jobs_are_every_combination_with_the_same_seeds_for_every_prior():
    jobs = cp.make_jobs(["a", "b"], ["MF2", "MF5", "xtb"], [300, 1000], [0, 1, 2], 100.0)
    assert len(jobs) == 2 * 3 * 2 * 3 and len({j.key for j in jobs}) == len(jobs)
    assert {j.seed for j in jobs if j.prior == "xtb"} == {j.seed for j in jobs if j.prior == "MF2"}
    with pytest.raises(InvalidParameterError, match="no jobs"):
        cp.make_jobs([], ["MF5"], [300], [0], 100.0)
    with pytest.raises(InvalidParameterError, match="duration_fs"):
        cp.make_jobs(["a"], ["MF5"], [300], [0], -1.0)


def test_the_store_resumes_and_summarizes(tmp_path):
    jobs = cp.make_jobs(["m"], ["MF2", "MF5"], [1000], [0, 1, 2], 10.0)
    store = tmp_path / "c.jsonl"
    first = cp.run_campaign(jobs[:3], store, engine="loop", progress=False, job_fn=_fake_job)
    assert (first["done"], first["skipped"]) == (3, 0)
    again = cp.run_campaign(jobs, store, engine="loop", progress=False, job_fn=_fake_job)
    assert (again["done"], again["skipped"]) == (3, 3)
    lines = [json.loads(x) for x in store.read_text().splitlines()]
    assert sorted(r["key"] for r in lines) == sorted(j.key for j in jobs)  # each run exactly once
    rows = {(r["prior"], r["temperature_K"]): r for r in cp.summarize_store(store)}
    assert rows[("MF5", 1000.0)]["runs"] == 3 and rows[("MF5", 1000.0)]["crashes"] == 1
    # the exact Clopper-Pearson upper bound for 1 crash in 3 runs
    from scipy.stats import beta

    assert rows[("MF5", 1000.0)]["ci_high"] == pytest.approx(beta.ppf(0.975, 2, 2))


def test_a_torn_last_line_is_ignored_but_a_corrupt_store_is_refused(tmp_path):
    store = tmp_path / "c.jsonl"
    cp.run_campaign(cp.make_jobs(["m"], ["MF5"], [300], [0], 10.0), store, engine="loop", progress=False,
                    job_fn=_fake_job)
    with open(store, "a") as fh:
        fh.write('{"key": "m|trunc')
    assert len(cp.read_store(store)) == 1
    store.write_text("not json\n" + store.read_text())
    with pytest.raises(DataFormatError, match="line 1"):
        cp.read_store(store)


def test_a_dying_worker_is_retried_once_then_reported_failed(tmp_path, monkeypatch):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    monkeypatch.setenv("NPSNN_TEST_MARKERS", str(tmp_path))
    jobs = cp.make_jobs(["m"], ["MF5"], [300], [0, 1, 2, 3], 10.0)
    store = tmp_path / "c.jsonl"
    res = cp.run_campaign(jobs, store, workers=2, progress=False, job_fn=_dying_job)
    recs = cp.read_store(store)
    assert len(recs) == 4, "no run is silently dropped"
    by_seed = {r["job"]["seed"]: r for r in recs.values()}
    assert by_seed[1]["status"] == "done", "a worker that died once: the run is retried and finishes"
    assert by_seed[2]["status"] == "failed" and "KilledWorker" in by_seed[2]["error"]
    assert by_seed[0]["status"] == by_seed[3]["status"] == "done"
    assert res["failed"] == [by_seed[2]["key"]]


def test_a_killed_campaign_restarts_without_redoing_or_losing_runs(tmp_path):
    store = tmp_path / "c.jsonl"
    cmd = [sys.executable, "-m", "npsnn_edu.gpr.campaign", "--molecule", "malondialdehyde", "--priors", "MF5",
           "--temperatures", "1000", "--seeds", *map(str, range(8)), "--duration-ps", "0.6", "--n-train", "60",
           "--out", str(store), "--engine", "loop", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    k, deadline = 0, time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        k = len(store.read_text().splitlines()) if store.exists() else 0
        if k >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the campaign ended before it could be killed: {proc.stderr.read()[-2000:]!r}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = cp.read_store(store)
    k = len(before)
    assert 2 <= k < 8
    out = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["skipped"] == k and summary["done"] == 8 - k
    keys = [json.loads(x)["key"] for x in store.read_text().splitlines() if x.strip()]
    assert len(keys) == len(set(keys)) == 8, "every run exactly once: none redone, none lost"
    after = cp.read_store(store)
    assert all(after[key] == rec for key, rec in before.items())


def test_gp_and_xtb_run_under_one_protocol():
    """The reference method goes through the same integrator, random stream and crash check as a GP model: with
    the same seed, the first steps of both start from the same Maxwell-Boltzmann velocities, so the two
    trajectories agree closely at first (the GP reproduces xTB near the minimum)."""
    from npsnn_edu.gpr.data import load, make_calculator
    from npsnn_edu.gpr.experiments import build_models, run_nvt

    d = load("malondialdehyde")
    ref = d.reference_atoms()
    gp = build_models(d, "force_trained", priors=("MF5",))["MF5"]
    a = run_nvt(make_calculator(), ref, 600.0, duration_fs=20.0, seed=3, record_every_fs=5.0, check_every=10)
    b = run_nvt(gp, ref, 600.0, duration_fs=20.0, seed=3, record_every_fs=5.0, check_every=10)
    c = run_nvt(gp, ref, 600.0, duration_fs=20.0, seed=4, record_every_fs=5.0, check_every=10)
    assert a.prior == "xtb" and a.engine == b.engine == "core" and a.n_steps == b.n_steps == 40
    same_seed = np.abs(a.frames[1] - b.frames[1]).max()
    other_seed = np.abs(a.frames[1] - c.frames[1]).max()
    assert same_seed < 0.02 < other_seed
