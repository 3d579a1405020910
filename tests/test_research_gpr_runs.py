"""research.gpr_runs.run_many (the benchmarks' batches of NVT runs): the same runs in one process and on Dask."""
import numpy as np
import pytest

from npsnn_edu.gpr.data import load
from npsnn_edu.gpr.experiments import run_nvt, train_model
from research.gpr_runs import run_many


@pytest.fixture(scope="module")
def ma():
    return load("malondialdehyde")


@pytest.fixture(scope="module")
def force_models(ma):
    return {p: train_model(ma, p, n_train=200, n_force=20, lengthscale=0.7) for p in ("MF2", "MF5")}


def test_run_many_matches_single_runs_and_parallel(ma, force_models):
    ref = ma.reference_atoms()
    one = run_many(force_models, ref, [1000.0], [0, 1], 40.0, workers=1)
    two = run_many(force_models, ref, [1000.0], [0, 1], 40.0, workers=2)
    assert [r["crashed"] for r in one] == [r["crashed"] for r in two]
    assert np.allclose([r["max_deviation_A"] for r in one], [r["max_deviation_A"] for r in two])
    assert [(r["prior"], r["seed"]) for r in one] == [("MF2", 0), ("MF2", 1), ("MF5", 0), ("MF5", 1)]
    # each summary is run_nvt's own, with its step count
    direct = run_nvt(force_models["MF5"], ref, 1000.0, duration_fs=40.0, seed=1)
    assert one[3]["max_deviation_A"] == direct.summary()["max_deviation_A"] and one[3]["n_steps"] == direct.n_steps
