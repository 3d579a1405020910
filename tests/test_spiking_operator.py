"""Physics-informed spiking operator (npsnn_edu.spiking.operator): learning, exact derivatives, edges, marching."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from npsnn_edu.errors import DeviceUnavailableError, InvalidStateError, ShapeMismatchError, UnknownNameError
from npsnn_edu.spiking.basis import KernelBasis, gaussian_kernel
from npsnn_edu.spiking.energy import operation_counts
from npsnn_edu.spiking.models import ClockSNN
from npsnn_edu.spiking.operator import (
    OperatorConfig,
    OperatorTrainer,
    PhysicsOperator,
    get_family,
    trajectory_errors_of_coefficients,
)
from npsnn_edu.spiking.operator_families import available_families
from npsnn_edu.spiking.problems import morse_problem
from research.spiking_operator import solve_gauss_newton, time_march

SMALL = dict(hidden=32, num_steps=8, batch=64, n_colloc=64, total_steps=80, lr=1e-2)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_operator_beats_untrained_on_heldout_p():
    tr = OperatorTrainer("harmonic", OperatorConfig(branch="spiking", seed=0, **{**SMALL, "total_steps": 160}))
    fam = tr.family
    ph = fam.sample(64, seed=12345)
    before = tr.trajectory_errors(ph, n_eval=201)
    tr.train(160)
    after = tr.trajectory_errors(ph, n_eval=201)
    assert after["errors"].shape == (64,)
    assert after["median"] < 0.1 * before["median"], (before["median"], after["median"])
    assert after["median"] < 0.15


def test_amplitude_scaling_makes_the_harmonic_operator_scale_equivariant():
    """x'' = -omega^2 x is linear, so x(t; c x0, c v0) = c x(t; x0, v0).  With amplitude scaling the operator
    has this symmetry exactly, for any weights (here untrained); without it, it does not.  The unit state of
    every family has the size its amplitude promises."""
    t = np.linspace(0.0, 3.0, 40)
    for scaled in (True, False):
        model = PhysicsOperator("harmonic", OperatorConfig(hidden=16, num_steps=4, seed=1, amplitude_scaling=scaled))
        p = model.family.sample(5, seed=3)
        q = p.copy()
        q[:, :2] *= 1.7
        (x_p,) = model.predict(p, t)
        (x_q,) = model.predict(q, t, check_range=False)  # 1.7 x the amplitude leaves the trained range on purpose
        if scaled:
            np.testing.assert_allclose(x_q, 1.7 * x_p, rtol=1e-6, atol=1e-9)
        else:
            assert np.max(np.abs(x_q - 1.7 * x_p)) > 1e-3
    harmonic, lj = get_family("harmonic"), get_family("lj3d")
    np.testing.assert_allclose(np.linalg.norm(harmonic.unit_state(harmonic.sample(50, seed=1)), axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(lj.unit_state(lj.sample(50, seed=1)), axis=1), 3.0)  # sqrt(9) RMS 1
    assert harmonic.scaled_features(harmonic.sample(3)).shape[1] == 2  # scale invariant: no amplitude feature
    morse = get_family("morse")
    f = morse.scaled_features(morse.sample(200, seed=2))
    assert f.shape[1] == 3 and np.all(np.abs(f[:, 2]) < 1.0)  # amplitude relative to the family's median
    norms = np.linalg.norm(f[:, :2], axis=1)
    assert 0.8 < norms.min() and norms.max() < 1.25  # anharmonic: about 1


def test_kernel_is_the_clock_snn_kernel():
    model = ClockSNN(np.zeros((1, 1)), t_end=2 * np.pi, n_knots=24)
    basis = KernelBasis(2 * np.pi, n_knots=24)
    t = torch.linspace(0, 2 * np.pi, 50, dtype=torch.float64)
    for order in (0, 1, 2):
        assert torch.allclose(gaussian_kernel(t, basis.knots, basis.sigma, order), model.kernel(t, order))


@pytest.mark.parametrize("family", ["harmonic", "morse", "lj3d"])
def test_exact_derivatives_match_finite_differences_of_forward_output(family):
    model = PhysicsOperator(family, OperatorConfig(hidden=16, num_steps=4, seed=1))
    fam = model.family
    p = fam.sample(3, seed=5)
    t_end = fam.tau_end / fam.omega(p)
    t = np.linspace(0.05, 0.95, 40)[None, :] * t_end[:, None]
    x, v, a = model.predict(p, t, order=2)
    h = 1e-4 * t_end[:, None]
    (xp,), (xm,) = model.predict(p, t + h), model.predict(p, t - h)
    hh = h[..., None, None]
    scale = np.max(np.abs(v)) + 1e-12
    assert np.max(np.abs(v - (xp - xm) / (2 * hh))) < 2e-5 * scale
    assert np.max(np.abs(a - (xp - 2 * x + xm) / hh**2)) < 1e-3 * (np.max(np.abs(a)) + 1e-12)
    # the initial conditions are built in: x(0) = x0 and dx/dt(0) = v0 for any coefficients
    x0, v0 = fam.initial_state(p)
    z = np.zeros((3, 1))
    x_0, v_0 = model.predict(p, z, order=1)
    np.testing.assert_allclose(x_0[:, 0], x0, atol=1e-12)
    np.testing.assert_allclose(v_0[:, 0], v0, atol=1e-12)


def test_bad_input_gives_typed_errors(monkeypatch):
    model = PhysicsOperator("harmonic", OperatorConfig(hidden=8, num_steps=2))
    with pytest.raises(ShapeMismatchError, match="3 parameters"):
        model.coefficients(np.zeros((4, 2)))
    with pytest.raises(InvalidStateError):
        model.coefficients(np.array([[1.0, np.nan, 1.0]]))
    with pytest.raises(UnknownNameError) as info:
        get_family("pendulum")
    for name in available_families():
        assert name in str(info.value)
    with pytest.raises(UnknownNameError, match="tanh"):
        OperatorConfig(branch="transformer").validate()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailableError, match="cpu"):
        OperatorTrainer("harmonic", device="cuda")


def test_same_seed_same_numbers_on_cpu():
    runs = []
    for _ in range(2):
        tr = OperatorTrainer("morse", OperatorConfig(seed=3, **SMALL), device="cpu")
        losses = tr.train(4)
        runs.append((losses, tr.model.coefficients(tr.family.sample(5, seed=1)).detach()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])
    other = OperatorTrainer("morse", OperatorConfig(seed=4, **SMALL)).train(4)
    assert other != runs[0][0]


@pytest.mark.parametrize("family", ["harmonic", "morse"])
def test_time_marching_is_continuous(family):
    model = PhysicsOperator(family, OperatorConfig(hidden=16, num_steps=4, seed=2))
    fam = model.family
    p = fam.sample(4, seed=9)
    out = time_march(model, p, n_windows=3, n_per_window=21)
    assert out["x"].shape == (4, 63, fam.n_particles, fam.dim)
    for k in range(2):
        x_end, v_end = out["ends"][k]
        np.testing.assert_allclose(out["x"][:, (k + 1) * 21], x_end, atol=1e-12)  # next window starts there
        np.testing.assert_allclose(out["v"][:, (k + 1) * 21], v_end, atol=1e-12)
        np.testing.assert_allclose(out["t"][:, (k + 1) * 21], out["t"][:, (k + 1) * 21 - 1], atol=1e-12)
        # and the next window's p is that state (up to a rigid translation for Galilean families)
        x_p, v_p = fam.initial_state(out["p"][k + 1])
        shift = (x_end - x_p).mean(1, keepdims=True)
        np.testing.assert_allclose(x_p + shift, x_end, atol=1e-12)
        if family == "harmonic":
            np.testing.assert_allclose(x_p, x_end, atol=1e-12)
            np.testing.assert_allclose(v_p, v_end, atol=1e-12)


def test_basis_optimum_and_references_are_right():
    # least squares of the basis reaches the analytic harmonic solution (checks basis, scaling, reference)
    fam = get_family("harmonic")
    p = fam.sample(8, seed=3)
    gn = solve_gauss_newton(fam, p)
    ev = trajectory_errors_of_coefficients(fam, gn["basis"], p, gn["y"], n_eval=301)
    assert ev["max"] < 1e-3
    # Morse family: p = (0.3, 0) is the chapter's morse problem; its Verlet reference agrees
    mf = get_family("morse")
    prob = morse_problem(t_end=mf.tau_end / 2.0)
    t = np.linspace(0, prob.t_end, 101)
    x_fam = mf.reference(np.array([[0.3, 0.0]]), t[None])[0]
    np.testing.assert_allclose(x_fam, prob.reference(t)[0], atol=1e-5)
    # Gauss-Newton on the nonlinear Morse family converges
    pm = mf.sample(4, seed=2)
    gn = solve_gauss_newton(mf, pm)
    assert trajectory_errors_of_coefficients(mf, gn["basis"], pm, gn["y"], n_eval=301)["max"] < 1e-3


def test_operation_count_by_hand():
    model = PhysicsOperator("harmonic", OperatorConfig(hidden=4, num_steps=3, n_knots=6, pad=1))
    p = model.family.sample(5, seed=0)
    ops = operation_counts(model, 10, p=p)
    br = model.branch
    k = model.basis.size  # 8 knots, n_out 1
    assert k == 8
    assert ops["branch_mac"] == 2 * 4 + 4 * 8
    assert ops["branch_ac"] == pytest.approx(br.last_counts["spikes1"] * 4 + br.last_counts["spikes2"] * 8)
    assert ops["neuron_updates"] == 2 * 4 * 3
    assert ops["kernel_mac"] == 10 * 8 and ops["kernel_exp"] == 10 * 8
    tanh = PhysicsOperator("harmonic", OperatorConfig(branch="tanh", hidden=4, n_knots=6, pad=1))
    h = tanh.branch.net[0].out_features
    tanh_ops = operation_counts(tanh, 1, p=p)
    assert tanh_ops["branch_mac"] == 2 * h + h * h + h * 8
    # every operation priced on equal terms, by hand (Horowitz fp32: AC 0.9, MAC 4.6 pJ; LIF update 1 multiply +
    # 3 adds = 6.4 pJ; a tanh or exp = 10 MACs = 46 pJ)
    ac, mac = br.last_counts["spikes1"] * 4 + br.last_counts["spikes2"] * 8, 2 * 4 + 4 * 8 + 10 * 8
    assert ops["total_pJ"] == pytest.approx(0.9 * ac + 4.6 * mac + 6.4 * 2 * 4 * 3 + 46.0 * 10 * 8)
    assert tanh_ops["total_pJ"] == pytest.approx(4.6 * (tanh_ops["branch_mac"] + 8) + 46.0 * (2 * h + 8))
    assert tanh_ops["nonlinear"] == 2 * h + 8 and tanh_ops["neuron"] == 0


def test_benchmark_command_runs_on_a_subset(tmp_path):
    """The regeneration command (benchmarks/npsnn_operator.py) on a tiny subset: last line is the promised JSON."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, str(root / "benchmarks" / "npsnn_operator.py"), "--quick", "--families",
                          "harmonic,morse", "--steps-scale", "0.005", "--no-march", "--workers", "2"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    for family in ("harmonic", "morse"):  # each family ran in its own worker process
        res = summary[family]
        assert res["n_heldout"] >= 64
        for key in ("heldout_median_rel_l2", "heldout_p90_rel_l2", "tanh_median_rel_l2", "tanh_p90_rel_l2",
                    "spikes_only_median_rel_l2", "unscaled_median_rel_l2", "gauss_newton_median_rel_l2",
                    "free_median_rel_l2", "reservoir_median_rel_l2", "reservoir_p90_rel_l2",
                    "tanh_reservoir_median_rel_l2", "small_reservoir_median_rel_l2", "solved_median_rel_l2"):
            assert np.isfinite(res[key]), (family, key)
        assert res["gauss_newton_median_rel_l2"] < 1e-3  # the basis optimum is far below any trained operator here
    assert len(summary["harmonic"]["seed_median_rel_l2"]) == 3  # three seeds by default
    assert len(summary["harmonic"]["unscaled_seed_median_rel_l2"]) == 3  # the ablation at the same seeds
    assert len(summary["harmonic"]["reservoir_seed_median_rel_l2"]) == 3  # the reservoir at the same seeds
    assert np.isfinite(summary["harmonic"]["spikes_only_reservoir_median_rel_l2"])
    # a harmonic reservoir's readout solve is one exact linear step, whatever the scale: far below untrained
    assert summary["harmonic"]["reservoir_median_rel_l2"] < 0.1


def test_shipped_results_load_with_provenance():
    from npsnn_edu.spiking.operator import load_operator_results

    results = load_operator_results("best")
    assert set(results) == {"harmonic", "morse", "lj3d"}
    for data in results.values():
        assert data["n_heldout"] >= 64 and len(data["heldout_errors"]) == data["n_heldout"]
        assert "npsnn_operator.py" in data["_command"]
        assert data["heldout_median_rel_l2"] == pytest.approx(float(np.median(data["heldout_errors"])))


def _chapter4_verdict_text() -> str:
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "04b_spiking_operators.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"]]
    return " ".join(" ".join(c for c in cells if c.startswith(("### What the numbers show", "## Summary"))).split())


def test_chapter4_operator_verdicts_follow_the_shipped_results():
    """The sentences of chapter 4b's 'What the numbers show' are read off the shipped (full-mode) results: each
    claim is checked here against the numbers the notebook loads, and the figures it quotes against its text."""
    from npsnn_edu.spiking.operator import load_operator_results

    res = load_operator_results("best")
    h, m, lj = res["harmonic"], res["morse"], res["lj3d"]
    text = _chapter4_verdict_text()
    assert h["_mode"] == "full" and len(h["seed_median_rel_l2"]) == 3

    def span(values, digits=1):
        """'a to b' as the chapter writes a seed range (the two ends rounded to ``digits`` decimals)."""
        lo, hi = (f"{v:.{digits}e}".replace("e-0", "e-") for v in (min(values), max(values)))
        return f"{lo} to {hi}"

    # the spiking reservoir (1024 LIF per layer) meets p90 <= 1e-2 on harmonic and Morse in each of three seeds,
    # on the held-out draw and on a fresh one
    for d in (h, m):
        assert d["reservoir_seeds"] == [0, 1, 2] and d["reservoir_hidden"] == 1024
        assert max(d["reservoir_seed_p90_rel_l2"]) <= 1e-2 and max(d["reservoir_fresh_p90_rel_l2"]) <= 1e-2
        assert len(d["reservoir_fresh_median_rel_l2"]) == 3
    assert f"median of {span(h['reservoir_seed_median_rel_l2'])} (p90 {span(h['reservoir_seed_p90_rel_l2'])})" in text
    assert f"Morse problems to {span(m['reservoir_seed_median_rel_l2'])} " \
        f"(p90 {span(m['reservoir_seed_p90_rel_l2'])})" in text
    assert f"fresh draw: {span(h['reservoir_fresh_median_rel_l2'])} (p90 1.9e-3) and " \
        f"{span(m['reservoir_fresh_median_rel_l2'])} (p90 {span(m['reservoir_fresh_p90_rel_l2'])})" in text
    assert all(1.8e-3 <= x <= 1.95e-3 for x in h["reservoir_fresh_p90_rel_l2"])
    # the surrogate-trained spiking operator; the solve's CPU time and steps
    assert f"stays at {span(h['seed_median_rel_l2'])} on harmonic (p90 {span(h['seed_p90_rel_l2'])})" in text
    assert round(m["heldout_median_rel_l2"], 3) == 0.016 and m["heldout_p90_rel_l2"] > 1e-2
    assert 11 <= h["reservoir_train_cpu_seconds"] <= 13 and h["reservoir_solve_steps"] == 1
    assert 70 <= m["reservoir_train_cpu_seconds"] <= 78 and m["reservoir_solve_steps"] == 12
    for d in res.values():  # no solve hit the CG limit, and the deployed (float32) readout has the solved loss
        for k in ("reservoir", "small_reservoir", "tanh_reservoir", "small_tanh_reservoir", "solved"):
            assert d[f"{k}_solve_cg_capped"] == 0
            assert d[f"{k}_deployed_loss"] == pytest.approx(d[f"{k}_solve_loss"], rel=0.2)
    # width and solve together: small reservoir ~ trained; solving the trained readout gains little; the wide
    # network trained for the solve's CPU time is far off
    assert f"(harmonic {span(h['small_reservoir_seed_median_rel_l2'])}, Morse " \
        f"{span(m['small_reservoir_seed_median_rel_l2'])}, three seeds)" in text
    assert f"gains little (harmonic {span(h['solved_seed_median_rel_l2'])}, Morse 1.4e-2)" in text
    for d in (h, m):
        trained = d.get("seed_median_rel_l2", [d["heldout_median_rel_l2"]])
        assert min(d["small_reservoir_seed_median_rel_l2"]) > 0.85 * min(trained)
        assert min(d["solved_seed_median_rel_l2"]) > 0.8 * min(trained)
    assert h["trained_wide_steps"] == 54 and m["trained_wide_steps"] == 301
    assert f"harmonic median {min(h['trained_wide_seed_median_rel_l2']):.0f} to " \
        f"{max(h['trained_wide_seed_median_rel_l2']):.0f}" in text
    assert 0.085 <= min(m["trained_wide_seed_median_rel_l2"]) and max(m["trained_wide_seed_median_rel_l2"]) <= 0.175
    assert round(h["reservoir_solved_params"], -3) == 61_000 and round(m["reservoir_solved_params"], -3) == 123_000
    for d in (h, m):
        assert 1.05e6 <= d["reservoir_params"] <= 1.2e6 and 8000 <= d["heldout_params"] <= 12_500
        assert 0.75e-3 <= d["reservoir_branch_seconds_per_trajectory"] <= 0.95e-3
        assert d["heldout_branch_seconds_per_trajectory"] <= 0.125e-3
    # the tanh controls: at the per-p Gauss-Newton level; the small one ~290x / ~150x the spiking reservoir
    assert h["tanh_reservoir_median_rel_l2"] < 3e-6 and "Morse with the reservoir's parameter count" in text
    assert f"{span(m['tanh_reservoir_seed_median_rel_l2'])} on Morse" in text
    assert f"already {span(h['small_tanh_reservoir_seed_median_rel_l2'])} and " \
        f"{span(m['small_tanh_reservoir_seed_median_rel_l2'])} at the trained width" in text
    for d in (h, m):
        assert max(d["tanh_reservoir_seed_median_rel_l2"]) < 2 * d["gauss_newton_median_rel_l2"]
        assert max(d["small_tanh_reservoir_seed_median_rel_l2"]) < 5 * d["gauss_newton_median_rel_l2"]
        assert 2000 <= d["small_tanh_reservoir_solved_params"] <= 5000
        assert 0.005 <= d["small_tanh_reservoir_params"] / d["reservoir_params"] <= 0.011  # a hundredth
    assert 270 <= h["reservoir_median_rel_l2"] / h["small_tanh_reservoir_median_rel_l2"] <= 310
    assert 135 <= m["reservoir_median_rel_l2"] / m["small_tanh_reservoir_median_rel_l2"] <= 160
    # spikes-only at the same readout width: about 8x worse on harmonic
    assert h["spikes_only_reservoir_solved_params"] == h["reservoir_solved_params"]
    assert 7 <= h["spikes_only_reservoir_median_rel_l2"] / h["reservoir_median_rel_l2"] <= 9
    assert f"({span(h['spikes_only_reservoir_seed_median_rel_l2'])}, p90 " \
        f"{span(h['spikes_only_reservoir_seed_p90_rel_l2'])})" in text
    # energy with every operation priced: spiking reservoir 4.6 / 4.3 uJ; tanh reservoir 1.5-1.7x more; the small
    # tanh reservoir 2.5-2.9x less, mostly the kernel's exponentials
    for d, fam in ((h, "harmonic"), (m, "Morse")):
        spiking = d["reservoir_ops"]["total_uJ"]
        tanh = d["tanh_reservoir_ops"]["total_uJ"]
        small = d["small_tanh_reservoir_ops"]
        assert f"{spiking:.1f} uJ ({fam})" in text and 1.45 <= tanh / spiking <= 1.7
        assert 2.45 <= spiking / small["total_uJ"] <= 2.95 and small["nonlinear_pJ"] > 0.8 * small["total_pJ"]
        assert 0.135 <= d["reservoir_spikes_per_neuron_step"]["spikes1"] <= 0.18
        ops = d["reservoir_ops"]
        kernel_pj = ops["kernel_exp"] * 46.0 + ops["kernel_mac"] * 4.6
        assert ops["branch_ac"] * 0.9 > 0.5 * (spiking * 1e6 - kernel_pj)  # the branch's work: mostly accumulates
    # amplitude scaling (ablation at the same steps and seeds): 1.5-2x on harmonic in every seed, the seed ranges
    # apart; helps Morse a little, slightly worse on LJ (one seed each)
    scaled, unscaled = h["seed_median_rel_l2"], h["unscaled_seed_median_rel_l2"]
    assert len(unscaled) == 3 and all(1.4 <= u / s <= 2.1 for s, u in zip(scaled, unscaled))
    assert max(scaled) < min(unscaled)
    gain = {k: d["unscaled_median_rel_l2"] / d["heldout_median_rel_l2"] for k, d in res.items()}
    assert 1.05 <= gain["morse"] <= 1.3 and 0.8 <= gain["lj3d"] < 1.0
    assert h["unscaled_steps"] == h["heldout_steps"] and m["unscaled_steps"] == m["heldout_steps"]
    # trained branches: tanh about 8x the best spiking seed on harmonic; Morse close, neither meets the goal
    assert 6 <= min(h["seed_median_rel_l2"]) / h["tanh_median_rel_l2"] <= 10
    assert m["tanh_median_rel_l2"] < m["heldout_median_rel_l2"] and m["heldout_p90_rel_l2"] < m["tanh_p90_rel_l2"]
    assert m["tanh_p90_rel_l2"] > 1e-2
    # LJ: every operator off by 8-50 %, the trained spiking ones best; reservoirs about 0.18; direct methods 100x
    rows = ("heldout", "spikes_only", "unscaled", "solved", "reservoir", "small_reservoir", "tanh", "tanh_reservoir",
            "small_tanh_reservoir")
    ops_lj = {k: lj[f"{k}_median_rel_l2"] for k in rows}
    assert 0.08 <= min(ops_lj.values()) and max(ops_lj.values()) <= 0.5
    assert min(ops_lj, key=ops_lj.get) == "unscaled" and round(lj["heldout_median_rel_l2"], 3) == 0.093
    assert sorted(ops_lj, key=ops_lj.get)[:3] == ["unscaled", "solved", "heldout"]
    assert all(0.17 <= lj[f"{k}_median_rel_l2"] <= 0.19 for k in ("reservoir", "tanh_reservoir"))
    assert lj["reservoir_n_fit"] == 768
    assert max(lj["gauss_newton_median_rel_l2"], lj["free_median_rel_l2"], lj["verlet50_median_rel_l2"]) * 100 \
        < min(ops_lj.values())
    # per problem: Gauss-Newton ~5e-6 in 1.5-25 ms; Verlet-50 beats every spiking operator but the harmonic
    # reservoir, Verlet-200 all; the tanh reservoirs match the optimum in 0.01-0.06 ms per trajectory
    for d in (h, m):
        assert d["gauss_newton_median_rel_l2"] < 1e-5 and 1e-3 <= d["gauss_newton_seconds_per_trajectory"] <= 25e-3
        spiking_rows = [d[f"{k}_median_rel_l2"] for k in ("heldout", "spikes_only", "unscaled", "solved", "reservoir",
                                                          "small_reservoir", "trained_wide")
                        if f"{k}_median_rel_l2" in d]
        assert all(d["verlet200_median_rel_l2"] < x for x in spiking_rows)
        for k in ("tanh_reservoir", "small_tanh_reservoir"):
            assert 0.005e-3 <= d[f"{k}_branch_seconds_per_trajectory"] <= 0.065e-3
    assert h["reservoir_median_rel_l2"] < h["verlet50_median_rel_l2"] < h["heldout_median_rel_l2"]
    assert m["verlet50_median_rel_l2"] < m["reservoir_median_rel_l2"]
    # marching: error grows window by window; the long window (fewer steps) is about three times less accurate
    march = h["march"]
    assert all(a <= b for a, b in zip(march["marched_per_window"], march["marched_per_window"][1:]))
    assert march["long_steps"] < h["heldout_steps"]
    assert 2.5 <= march["long_median_rel_l2"] / march["marched_median_rel_l2"] <= 3.5


def test_a_trained_operator_can_be_deep_copied_and_the_copy_is_independent():
    """snnTorch keeps the last membrane as a buffer; the branch drops it after each call, so a trained trainer
    holds no autograd graph and deep-copies (the benchmark refines copies of trained operators)."""
    import copy

    tr = OperatorTrainer("harmonic", OperatorConfig(seed=0, **SMALL))
    tr.train(3)
    twin = copy.deepcopy(tr)
    p = tr.family.sample(4, seed=1)
    np.testing.assert_array_equal(twin.trajectory_errors(p, n_eval=51)["errors"],
                                  tr.trajectory_errors(p, n_eval=51)["errors"])
    twin.train(2)
    assert twin.step == 5 and tr.step == 3
    assert not np.array_equal(twin.trajectory_errors(p, n_eval=51)["errors"],
                              tr.trajectory_errors(p, n_eval=51)["errors"])
