"""Notebook 03c's package code: the small live versions of the paper's protocols (npsnn_edu.gpr.paper_runs) and the
tables, figures and movies drawn from them or from the shipped result (npsnn_edu.viz.gpr_paper)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from npsnn_edu.errors import DataFormatError, InvalidParameterError, UnknownNameError
from npsnn_edu.gpr.experiments import crash_interval
from npsnn_edu.viz import gpr_paper as gp


def _row(mol, prior, T, runs, crashes, ps, median=None):
    return {"molecule": mol, "prior": prior, "temperature_K": T, "runs": runs, "crashes": crashes,
            "duration_ps": ps, "ci95_high": crash_interval(crashes, runs)[1], "median_time_to_crash_ps": median}


def _dist(mol, prior, **kw):
    t = np.arange(0.0, 101.0, 2.0)
    row = {"molecule": mol, "prior": prior, "bond": "O13-H16", "stretched_A": 1.5, "time_to_relax_fs": 40.0,
           "proton_transferred": False, "crashed": False, "force_at_start_kcal_per_A": 100.0,
           "peak_force_kcal_per_A": 120.0, "reference_A": 0.97, "times_fs": t, "bond_A": 0.97 + 0.5 * np.exp(-t / 10),
           "force_times_fs": t[t <= 50], "force_kcal_per_A": 100 * np.exp(-t[t <= 50] / 10),
           "movie_positions_A": np.zeros((5, 3, 3)) + np.arange(3)[None, :, None]}
    row.update(kw)
    return row


@pytest.fixture
def claims():
    return {"long_runs": [_row("capped_glycine", "MF5", 1000.0, 3, 3, 1000.0, 15.5),
                          _row("capped_glycine", "MF2", 1000.0, 3, 3, 1000.0, 1.3),
                          _row("capped_glycine", "xtb", 1000.0, 1, 0, 10.0),
                          _row("malondialdehyde", "MF5", 300.0, 3, 0, 100.0)],
            "distortion": [_dist("capped_serine", "MF5"), _dist("capped_serine", "MF2", crashed=True,
                                                                   time_to_relax_fs=None),
                           _dist("capped_serine", "xtb", proton_transferred=True, time_to_relax_fs=None),
                           _dist("malondialdehyde", "MF5", time_to_relax_fs=None)],
            "ramachandran": [{"molecule": "capped_glycine", "temperature_K": T, "source": s, "n_frames": 4,
                              "fractions": {"beyond": 0.25}, "phi_deg": np.array([-80.0, -150, 60, -70]),
                              "psi_deg": np.array([70.0, 160, 60, 80])} for T in (300.0, 1000.0)
                             for s in ("MF5", "xtb")],
            "ms_per_step": {"malondialdehyde": {"gp": 0.2, "xtb": 3.0, "ratio": 15.0}},
            "optimisation": {"c7eq_minus_c5_kcal": {"gp": 2.0, "xtb": -1.5}, "rmsd_A": {"C7eq": 0.3, "C5": 1.1},
                             "steps_to_1kcal": {"gp": {"C7eq": 30, "C5": None}, "xtb": {"C7eq": 20, "C5": 15}},
                             "minima": {"gp": {"C7eq": {"phi_deg": -80.0, "psi_deg": 70.0}},
                                        "xtb": {"C5": {"phi_deg": -157.0, "psi_deg": 165.0}}},
                             "training_phi_deg": np.array([-83.0, -80.0, -157.0, 60.0]),
                             "training_psi_deg": np.array([73.0, 90.0, 165.0, -60.0])},
            "symbols": {"capped_serine": ["O", "H", "C"]}}


def test_claims_data_reads_arrays_named_by_the_rows(claims):
    class Shipped:  # the shape of npsnn_edu.gpr.claims.ClaimsResult
        def __init__(self, data, arrays):
            self.data, self.arrays = data, arrays

    row = {k: v for k, v in claims["distortion"][0].items() if not isinstance(v, np.ndarray)}
    row["arrays"] = {"bond_A": "distortion/capped_serine/MF5/bond_A"}
    data = dict(claims, distortion=[row])
    out = gp.claims_data(Shipped(data, {"distortion/capped_serine/MF5/bond_A": np.arange(3.0)}))
    assert np.array_equal(out["distortion"][0]["bond_A"], np.arange(3.0))
    with pytest.raises(DataFormatError, match="not shipped"):
        gp.claims_data(Shipped(data, {"other": np.zeros(1)}))
    with pytest.raises(DataFormatError, match="lack"):
        gp.claims_data({"long_runs": []})
    with pytest.raises(DataFormatError):
        gp.claims_data([1, 2])


def test_long_run_table_cells_and_where_mf5_crashes(claims):
    table = gp.long_run_table(claims)
    assert list(table.columns) == ["molecule", "T (K)", "GP MF5", "GP MF2", "GFN2-xTB"]
    first = table.iloc[0]
    assert first["GP MF5"] == "3/3 in 1000 ps (95 %: 29-100 %), median crash at 15.5 ps"
    assert 100 * crash_interval(3, 3)[0] == pytest.approx(29.2, abs=0.05)  # 0.025 ** (1 / 3)
    assert first["GFN2-xTB"] == f"0/1 in 10 ps (95 %: 0-{100 * crash_interval(0, 1)[1]:.0f} %)"
    assert table.iloc[1]["GP MF2"] == "no runs" and table.iloc[1]["GP MF5"] == "0/3 in 100 ps (95 %: 0-71 %)"
    assert [(r["molecule"], r["temperature_K"]) for r in gp.mf5_crashes(claims)] == [("capped_glycine", 1000.0)]
    assert gp.long_run_verdicts(claims) == [
        "MF5 crashed: capped glycine (Ace-Gly-NMe) at 1000 K, 3 of 3 runs of 1000 ps (median crash at 15.5 ps); "
        "MF2 crashed in 3 of 3",
        "MF5 survived: malondialdehyde at 300 K, all 3 runs of 100 ps"]


def test_distortion_table_figure_and_movie(claims):
    table = gp.distortion_table(claims)
    assert list(table["outcome"]) == ["relaxed", "crashed", "H moved to the other O", "not settled in the run"]
    assert "other seeds: time to settle (fs)" not in table.columns
    seeds = [{"seed": 1, "time_to_relax_fs": 48.0}, {"seed": 2, "time_to_relax_fs": None, "crashed": True},
             {"seed": 3, "time_to_relax_fs": None, "proton_transferred": True}]
    more = dict(claims, distortion=[dict(claims["distortion"][0], other_seeds=seeds)])
    assert gp.distortion_table(more).iloc[0]["other seeds: time to settle (fs)"] == "48, crashed, H moved"
    fig = gp.distortion_figure(claims, "capped_serine")
    assert len(fig.data) == 6  # bond length and force per model
    assert np.allclose(fig.data[1].x, claims["distortion"][0]["force_times_fs"])
    assert fig.data[0].xaxis == "x" and fig.data[1].yaxis == "y2"
    view = gp.distortion_movie(claims, "capped_serine", "MF5")
    assert len(view.images) == 5 and view.images[0].get_chemical_symbols() == ["O", "H", "C"]
    with pytest.raises(UnknownNameError):
        gp.distortion_movie(claims, "capped_serine", "MF9")
    with pytest.raises(UnknownNameError):
        gp.distortion_figure(claims, "water")
    bare = dict(claims, distortion=[{k: v for k, v in claims["distortion"][0].items() if k != "movie_positions_A"}])
    with pytest.raises(DataFormatError, match="movie"):
        gp.distortion_movie(bare, "capped_serine")
    assert gp.molecules_in(claims, "distortion") == ["capped_serine", "malondialdehyde"]


def test_optimisation_table_and_training_coverage(claims):
    table = gp.optimisation_table(claims)
    assert table.iloc[0]["E(C7eq) - E(C5) (kcal/mol)"] == 2.0 and table.iloc[1]["E(C7eq) - E(C5) (kcal/mol)"] == -1.5
    assert table.iloc[0]["RMSD to xTB's C5 minimum (A)"] == 1.1 and table.iloc[0]["BFGS steps, C7eq start"] == 30
    assert pd.isna(table.iloc[0]["BFGS steps, C5 start"]) and pd.isna(table.iloc[1]["RMSD to xTB's C5 minimum (A)"])
    cov = gp.training_coverage(claims, radius_deg=20.0)
    # (-83, 73) and (-80, 90) lie within 20 deg of C7eq (-83, 73); only (-157, 165) of C5
    assert cov["near"] == {"C7eq": 0.5, "C5": 0.25} and cov["n"] == 4
    fig = gp.coverage_figure(claims, cov)
    names = [t.name for t in fig.data]
    assert "training geometries" in names and "GP MF5 minima" in names and "GFN2-xTB minima" in names
    assert len(fig.layout.shapes) == 3  # the three basins


def test_ramachandran_figure_panels(claims):
    fig = gp.ramachandran_figure(claims, "capped_glycine")
    assert len(fig.data) == 4 and len(fig.layout.shapes) == 12
    titles = [a.text for a in fig.layout.annotations]
    assert "GP MF5, 300 K: 4 frames, 25 % beyond" in titles and "GFN2-xTB, 1000 K: 4 frames, 25 % beyond" in titles
    thin = gp.ramachandran_figure(claims, "capped_glycine", max_points=2)
    assert [len(t.x) for t in thin.data] == [2, 2, 2, 2] and list(thin.data[0].x) == [-80.0, 60.0]
    with pytest.raises(UnknownNameError):
        gp.ramachandran_figure(claims, "aspirin")


def test_ensemble_hours_cost_and_ensemble_tables(claims):
    # 0.5 us at 0.5 fs = 1e9 steps; at 2 ms a step: 2e6 s on one core
    assert gp.ensemble_hours(2.0, 500.0, 0.5, 1) == pytest.approx(2e6 / 3600)
    assert gp.ensemble_hours(2.0, 500.0, 0.5, 50) == pytest.approx(2e6 / 3600 / 50)
    for bad in ({"ms_per_step": -1.0}, {"total_ns": 0.0}, {"dt_fs": float("nan")}, {"workers": 0}):
        kw = {"ms_per_step": 1.0, "total_ns": 1.0, "dt_fs": 0.5, "workers": 1, **bad}
        with pytest.raises(InvalidParameterError):
            gp.ensemble_hours(**kw)
    cost = gp.cost_table(claims)
    assert cost.iloc[0]["xTB / GP"] == 15.0
    assert cost.iloc[0]["500 ns on 50 runs, GP (h)"] == round(1e9 * 0.2e-3 / 3600 / 50, 1)
    ens = gp.ensemble_table(claims)
    one_run_h = 10.0 * 1e6 / 0.5 * 0.2e-3 / 3600
    assert dict(zip(ens["workers"], ens["wall time (h)"])) == {1: round(50 * one_run_h, 2),
                                                               2: round(25 * one_run_h, 2),
                                                               8: round(7 * one_run_h, 2), 50: round(one_run_h, 2)}
    shipped = dict(claims, ensemble_500K={"ms_per_step": 0.3, "wall_h_on_workers": {"1": 83.3, "50": 1.67},
                                          "cpu_days": 3.47, "source": "runs at 500 K", "n_runs": 50, "run_ns": 10})
    ens = gp.ensemble_table(shipped)
    assert list(ens["wall time (h)"]) == [83.3, 1.67] and "3.47 CPU days" in ens.attrs["note"]


def test_molecule_views_one_titled_view_each():
    grid = gp.molecule_views(["malondialdehyde", "aspirin"])
    assert len(grid.views) == 2 and "aspirin" in grid.children[1].children[0].value
    assert len(grid.views[1].images[0]) == 21
    with pytest.raises(InvalidParameterError):
        gp.molecule_views([])


def test_bond_force_is_the_slope_along_the_bond():
    from npsnn_edu.gpr import load
    from npsnn_edu.gpr.experiments import as_md_model, build_models
    from npsnn_edu.gpr.paper_runs import bond_force
    from npsnn_edu.units import KCAL_PER_MOL_EV

    data = load("malondialdehyde")
    model = build_models(data, "force_trained", priors=("MF5",), n_train=200, n_force=10)["MF5"]
    ref = data.reference_atoms()
    x = ref.positions.copy()
    i, j = 4, 8
    u = (x[j] - x[i]) / np.linalg.norm(x[j] - x[i])
    x[j] += 0.2 * u  # a stretched bond
    f = bond_force(model, ref, x[None], i, j)[0]
    md = as_md_model(model, ref)
    h = 1e-4

    def energy(d):
        y = x.copy()
        y[j] += d / 2 * u
        y[i] -= d / 2 * u
        return md.energy_and_forces(y)[0]

    slope = (energy(h) - energy(-h)) / (2 * h) / KCAL_PER_MOL_EV  # dE/dr: positive pulls the H back
    assert f == pytest.approx(slope, rel=1e-4, abs=1e-3) and f > 0


def test_live_claims_have_the_shipped_format_and_consistent_summaries():
    from npsnn_edu.gpr.claims import settle_time
    from npsnn_edu.gpr.paper_runs import live_claims

    out = live_claims(molecules=("malondialdehyde",), duration_fs=100.0, rama_temperatures=(300.0,),
                      n_train=200, n_force=10, optimise=False)
    assert {"long_runs", "distortion", "ramachandran", "ms_per_step", "symbols"} <= set(out)
    for r in out["long_runs"]:
        assert r["ci95_high"] == pytest.approx(crash_interval(r["crashes"], r["runs"])[1])
        assert 0 <= r["crashes"] <= r["runs"] == 1
    assert {r["prior"] for r in out["long_runs"]} == {"MF5", "MF2", "xtb"}
    assert out["ms_per_step"]["malondialdehyde"]["ratio"] == pytest.approx(
        out["ms_per_step"]["malondialdehyde"]["xtb"] / out["ms_per_step"]["malondialdehyde"]["gp"])
    for d in out["distortion"]:
        assert d["bond_A"][0] == pytest.approx(1.5) and len(d["times_fs"]) == len(d["bond_A"])
        if not (d["crashed"] or d["proton_transferred"]):
            assert d["time_to_relax_fs"] == settle_time(d["times_fs"], d["bond_A"], d["reference_A"])
        assert d["peak_force_kcal_per_A"] == pytest.approx(np.abs(d["force_kcal_per_A"]).max(), abs=0.05)
        assert d["movie_positions_A"].shape[1:] == (len(out["symbols"][d["molecule"]]), 3)
    r = out["ramachandran"][0]
    beyond = 1.0 - np.mean([((-180 <= p <= -100) and (90 <= s <= 180)) or ((-100 <= p <= -40) and (30 <= s <= 120))
                            or ((-100 <= p <= -40) and (-70 <= s <= -10)) for p, s in zip(r["phi_deg"], r["psi_deg"])])
    assert r["fractions"]["beyond"] == pytest.approx(beyond)
    gp.long_run_table(out), gp.distortion_table(out), gp.ramachandran_figure(out, r["molecule"])
    with pytest.raises(InvalidParameterError):
        live_claims(molecules=())
