"""Chapter-3 tables and figures: the crash overview, the deviation and proton-transfer figures (labelled axes, a
legend below the plot, no raw None in tables)."""
import numpy as np
import pytest

from npsnn_edu.gpr import load
from npsnn_edu.gpr.experiments import CrashCriterion, train_model
from npsnn_edu.precomputed import load_result
from npsnn_edu.viz.gpr_widgets import crash_overview, deviation_figure, proton_trace_figure, render_crash_table


@pytest.fixture(scope="module")
def ma():
    return load("malondialdehyde")


def test_crash_overview_is_one_row_per_setting_and_prior_with_counts_from_the_shipped_table():
    res = load_result("gpr_crash_table")
    table = crash_overview(res)
    settings = res.data["settings"]
    assert len(table) == 2 * len(settings)
    row = table[(table["model"] == "force trained") & table["prior"].str.startswith("MF2")].iloc[0]
    hot = next(r for r in settings["force_trained"]["rows"] if r["prior"] == "MF2" and r["temperature_K"] == 1000.0)
    assert row["crashes at 1000 K"] == f"{hot['crashes']}/{hot['runs']}"
    assert row["energy MAE (kcal/mol)"] == f"{settings['force_trained']['accuracy']['MF2']['energy_mae_kcal']:.2f}"
    text = table.to_string() + render_crash_table(settings["force_trained"]["rows"]).to_string()
    assert "None" not in text and "NaN" not in text and "nan" not in text


def test_deviation_and_proton_figures(ma):
    from npsnn_edu.gpr.experiments import run_nvt, stretched_oh_test

    model = train_model(ma, "MF5", n_train=200, n_force=20, lengthscale=0.7)
    ref = ma.reference_atoms()
    run = run_nvt(model, ref, 300.0, duration_fs=60.0, seed=1)
    fig = deviation_figure([run], ref, "deviation")
    crit = CrashCriterion(ref)
    assert np.allclose(fig.data[0].y, [crit.max_deviation(x) for x in run.frames])
    assert fig.layout.xaxis.title.text == "time (fs)" and fig.layout.yaxis.title.text == "deviation (A)"
    legend = fig.layout.legend  # at the bottom edge of the figure, below the axis title; threshold line at 0.5 A
    assert legend.yref == "container" and legend.y == 0 and legend.yanchor == "bottom"
    assert fig.layout.shapes[0].y0 == 0.5
    oh = stretched_oh_test(model, ma, 1.5, duration_fs=60.0)
    pf = proton_trace_figure(oh)
    assert np.allclose(pf.data[0].y, oh["donor_A"]) and np.allclose(pf.data[1].y, oh["acceptor_A"])
    assert pf.data[0].y[0] == pytest.approx(1.5) and pf.layout.legend.yref == "container"
