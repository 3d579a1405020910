"""Chapter-3 experiments and widgets: NVT runs with crash detection, bond-stretch profile, explorer panel."""
import numpy as np
import pytest

from npsnn_edu.errors import InvalidParameterError, SimulationDivergedError, UnknownNameError
from npsnn_edu.gpr import load
from npsnn_edu.units import KCAL_PER_MOL_EV as KCAL
from npsnn_edu.gpr.experiments import (accuracy, bond_stretch_profile, run_nvt, stability_table, stretched_bond_test,
                                       train_model)


@pytest.fixture(scope="module")
def ma():
    return load("malondialdehyde")


@pytest.fixture(scope="module")
def short_models(ma):
    return {p: train_model(ma, p, n_train=300, lengthscale=0.2) for p in ("MF1", "MF5")}


def test_validated_model_is_accurate_on_held_out_data(ma):
    m = train_model(ma, "MF5", n_train=300, lengthscales=(0.5, 1.5), noises=(1e-8,))
    acc = accuracy(m, ma, n_test=200, n_force=20)
    # a constant predictor (training mean) has MAE ~ 0.3 eV ~ 7 kcal/mol on this set
    naive = np.abs(ma.subset("test", 200)[1] - ma.subset("train")[1].mean()).mean() / KCAL
    assert acc["energy_mae_kcal"] < 0.3 * naive and acc["energy_mae_kcal"] < 2.0
    assert acc["force_mae_kcal_per_A"] < 5.0


def test_nvt_run_records_trajectory_and_detects_a_crash(ma, short_models):
    ref = ma.reference_atoms()
    bad = run_nvt(short_models["MF1"], ref, 1000.0, duration_fs=100.0, seed=0)
    assert bad.crashed and 0 < bad.time_to_crash_fs <= 100.0
    assert isinstance(bad.error, SimulationDivergedError) and bad.error.time == bad.time_to_crash_fs
    good = run_nvt(short_models["MF5"], ref, 1000.0, duration_fs=100.0, seed=0, record_every_fs=10.0)
    assert not good.crashed and good.time_to_crash_fs is None and len(good.images) == 11
    traj = good.trajectory()
    assert traj.positions.shape == (11, 9, 3) and traj.units == "ase"
    with pytest.raises(InvalidParameterError):
        run_nvt(short_models["MF5"], ref, -5.0)


def test_stability_table_counts(ma, short_models):
    rows, runs = stability_table(short_models, ma.reference_atoms(), temperatures=(1000,), seeds=(0, 1),
                                 duration_fs=60.0)
    assert len(runs) == 4 and len(rows) == 2
    for r in rows:
        sel = [x for x in runs if x.prior == r["prior"]]
        assert r["crashes"] == sum(x.crashed for x in sel) and r["crash_fraction"] == r["crashes"] / 2


def test_bond_stretch_profile_and_prior_far_field(ma, short_models):
    prof = bond_stretch_profile(short_models, ma, 1, 5, [1.08, 2.0, 4.0])
    assert abs(prof["reference"][0]) < 0.02  # relaxed C-H length: reference energy ~ relaxed energy
    assert prof["reference"][2] > prof["reference"][1] > 1.0  # breaking C-H costs energy
    # far outside the training range each GP heads to its prior: MF5 (free atoms) way up, MF1 (zero) even further
    assert prof["priors"]["MF5"]["mean"][2] > 10.0
    assert prof["priors"]["MF5"]["std"][2] > prof["priors"]["MF5"]["std"][0]
    lo, hi = prof["train_range"]
    assert lo < 1.08 < hi < 2.0


def test_stretched_bond_is_pulled_back_by_mf5(ma, short_models):
    res = stretched_bond_test(short_models["MF5"], ma, 1, 5, 1.5, duration_fs=200.0)
    assert not res["crashed"] and res["first_return_fs"] is not None and res["first_return_fs"] < 100
    assert res["times_fs"].shape == res["bond_A"].shape and np.isclose(res["bond_A"][0], 1.5)


def test_explorer_widget_runs_without_browser(ma):
    from npsnn_edu.viz.gpr_widgets import GPRMDExplorer, bond_stretch_figure, crash_table_html

    ex = GPRMDExplorer(ma, n_train=200, prior="MF5", lengthscale=0.2, duration_fs=50, show_3d=False)
    run = ex.run()
    assert run is not None and ex.n_runs == 1 and ex.error is None
    assert len(ex.deviation_fig.data[0].x) == len(run.images)
    ex.prior_dd.value = "MF1"
    ex.run_button.click()
    assert ex.last_run.prior == "MF1" and ex.last_run.crashed and "crashed" in ex.status.value
    ex.duration_box.value = 10
    ex.temperature_sl.value = 300
    assert ex.run() is not None
    with pytest.raises(UnknownNameError):
        GPRMDExplorer(ma, prior="MF9")
    rows, _ = stability_table({"MF5": ex.get_model("MF5", 0.2)}, ma.reference_atoms(), (300,), (0,), 20.0)
    assert "MF5" in crash_table_html(rows) and "0/1" in crash_table_html(rows)
    prof = bond_stretch_profile({"MF5": ex.get_model("MF5", 0.2)}, ma, 1, 5, [1.0, 1.5], reference_energies=False)
    fig = bond_stretch_figure(prof)
    assert len(fig.data) == 2
