"""Chapter 4: spiking PINN. References are analytic functions, finite differences and the core integrators."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from npsnn_edu.errors import (
    DataFormatError,
    DeviceUnavailableError,
    InvalidParameterError,
    InvalidStateError,
    UnknownNameError,
)
from npsnn_edu.spiking import (
    MLPPINN,
    ClockSNN,
    KernelCoefficients,
    PointwiseSNN,
    TrainConfig,
    Trainer,
    derivative_consistency,
    eval_times,
    fit,
    get_problem,
    operation_counts,
    physics_loss,
    time_derivatives,
    training_times,
    trajectory_errors,
)
from npsnn_edu.spiking.compare import hypothesis_h_scan, hypothesis_h_verdict, kernel_lstsq, seed_spread

torch.set_num_threads(1)


class Exact(nn.Module):
    """A 'model' whose forward output is a known smooth function x(t) = fn(t), shaped (B, 1, 1)."""

    spiking = False

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.register_buffer("x0", torch.ones(1, 1, dtype=torch.float64))

    def forward(self, t):
        return self.fn(t).reshape(-1, 1, 1)


T = torch.linspace(0.1, 3.0, 37, dtype=torch.float64)


# -- derivative modes ------------------------------------------------------------------------------------
def test_autograd_and_fdm_match_analytic_derivatives_of_smooth_function():
    model = Exact(lambda t: torch.sin(2 * t) + 0.5 * t**2)
    x, v, a = time_derivatives(model, T, "autograd")
    np.testing.assert_allclose(v[:, 0, 0].detach().numpy(), (2 * torch.cos(2 * T) + T).numpy(), atol=1e-12)
    np.testing.assert_allclose(a[:, 0, 0].detach().numpy(), (-4 * torch.sin(2 * T) + 1).numpy(), atol=1e-12)
    _, v_fd, a_fd = time_derivatives(model, T, "fdm", h=1e-3)
    # central differences: O(h^2) error, |x'''| <= 8 -> 8/6 h^2; |x''''| <= 16 -> 16/12 h^2 (+ rounding)
    np.testing.assert_allclose(v_fd[:, 0, 0].numpy(), v[:, 0, 0].detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(a_fd[:, 0, 0].numpy(), a[:, 0, 0].detach().numpy(), atol=1e-4)


def test_clock_snn_kernel_derivatives_are_those_of_the_forward_output():
    torch.manual_seed(1)
    model = ClockSNN(np.zeros((2, 1)), t_end=4.0, n_knots=16)
    t = np.linspace(0.05, 3.95, 41)
    for mode in ("analytic", "autograd"):
        c = derivative_consistency(model, t, mode, h=1e-3)
        assert c["max_abs_v"] > 1e-3  # the output does move
        assert c["max_abs_dv"] < 1e-5 * max(1.0, c["max_abs_v"]) + 1e-6
        assert c["max_abs_da"] < 1e-2 * max(1.0, c["max_abs_v"])
    # analytic kernel derivative of one Gaussian against the closed form
    g1 = model.kernel(torch.tensor([0.3], dtype=torch.float64), 1)[0]
    u = 0.3 - model.knots
    np.testing.assert_allclose(g1.numpy(), (-u / model.sigma**2 * torch.exp(-0.5 * u**2 / model.sigma**2)).numpy(),
                               rtol=1e-12)


def test_naive_autograd_through_spikes_disagrees_with_forward_output():
    torch.manual_seed(0)
    model = PointwiseSNN(np.zeros((1, 1)), t_end=2 * math.pi, num_steps=8)
    with torch.no_grad():  # make sure the layers spike
        model.fc1.bias.fill_(0.6)
    t = np.linspace(0.1, 6.0, 301)
    c = derivative_consistency(model, t, "autograd", h=1e-4)
    # the surrogate invents derivatives: mismatch with the forward output of the same order as v itself
    assert c["max_abs_dv"] > 0.2 * c["max_abs_v"]
    # the forward output jumps: its finite-difference derivative is huge somewhere (a jump / h)
    _, v_fd, _ = time_derivatives(model, torch.as_tensor(t), "fdm", h=1e-4)
    assert float(v_fd.detach().abs().max()) > 10 * c["max_abs_v"]


def test_unknown_derivative_mode_and_missing_analytic():
    with pytest.raises(UnknownNameError):
        time_derivatives(Exact(torch.sin), T, "magic")
    with pytest.raises(InvalidParameterError):
        time_derivatives(Exact(torch.sin), T, "analytic")
    with pytest.raises(InvalidParameterError):
        time_derivatives(Exact(torch.sin), T, "fdm", h=0.0)


# -- loss terms ------------------------------------------------------------------------------------------
def _loss(fn, **cfg):
    prob = get_problem("harmonic")
    cfg = TrainConfig(method="mlp", causal_eps=0.0, w_energy=1.0, **cfg)
    t = torch.as_tensor(training_times(prob.t_end, cfg.n_colloc), dtype=torch.float64)
    return {k: float(v.detach()) for k, v in physics_loss(Exact(fn), prob, t, cfg).items()}


def test_loss_terms_vanish_for_exact_solution():
    terms = _loss(torch.cos)
    assert terms["residual"] < 1e-20 and terms["ic"] < 1e-20 and terms["energy"] < 1e-20


def test_loss_terms_detect_wrong_initial_condition_and_wrong_frequency():
    terms = _loss(torch.sin)  # solves x'' = -x but x(0)=0, v(0)=1 instead of 1, 0
    assert terms["residual"] < 1e-20
    # (x(0) - 1)^2 / d^2 + (v(0) - 0)^2 / v^2 with d = v = 1 for k = m = 1 (scales from the IC, omega = 1)
    assert terms["ic"] == pytest.approx(2.0, rel=1e-9)
    terms = _loss(lambda t: torch.cos(2 * t))  # residual -4cos2t + cos2t = -3 cos 2t; mean of 9 cos^2 = 4.5
    assert terms["residual"] == pytest.approx(4.5, rel=1e-6)
    assert terms["ic"] < 1e-20


def test_force_comes_from_core_potential_for_pair_system():
    prob = get_problem("morse")
    x = torch.as_tensor(prob.x0[None], dtype=torch.float64)
    _, f = prob.potential.energy_and_forces(x)
    np.testing.assert_allclose(f[0].numpy(), prob.potential.forces(prob.x0), rtol=1e-12)


# -- problems and references -----------------------------------------------------------------------------
def test_references():
    h = get_problem("harmonic", periods=1)
    x, v = h.reference([0.0, math.pi / 2, math.pi])
    np.testing.assert_allclose(x[:, 0, 0], [1, 0, -1], atol=1e-12)
    m = get_problem("morse", periods=1)
    xm, _ = m.reference([0.0, m.t_end])  # exact anharmonic period (analytic.morse_period)
    np.testing.assert_allclose(xm[1], m.x0, atol=1e-4)
    lj = get_problem("lj3")
    xl, vl = lj.reference(np.linspace(0, lj.t_end, 50))
    np.testing.assert_allclose(vl.sum(1), 0.0, atol=1e-9)  # momentum conserved (from rest)
    assert eval_times(h.t_end).size == 1001
    grid = training_times(h.t_end, 256)
    assert np.min(np.abs(eval_times(h.t_end)[:, None] - grid[None])) > 1e-6  # evaluation grid not used in training


def test_bad_input_raises_typed_errors():
    with pytest.raises(UnknownNameError):
        get_problem("argon-crystal")
    for bad in (0.0, -1.0, float("nan"), "long"):
        with pytest.raises(InvalidParameterError):
            get_problem("harmonic", t_end=bad)
    with pytest.raises(InvalidParameterError):
        get_problem("morse", periods=-2)
    with pytest.raises(UnknownNameError):
        Trainer("harmonic", method="quantum")
    with pytest.raises(InvalidParameterError):
        Trainer("harmonic", n_colloc=0)
    with pytest.raises(InvalidParameterError):
        Trainer("harmonic", not_a_field=1)
    with pytest.raises(UnknownNameError):
        Trainer("harmonic", derivative="symbolic")
    with pytest.raises(UnknownNameError):
        fit("nope", "continuous", 1)


# -- training on the forward output ----------------------------------------------------------------------
def test_short_continuous_training_reaches_loose_forward_error_and_is_deterministic():
    kw = dict(n_knots=24, n_colloc=128, eval_every=1000, num_steps=16)
    r1 = fit("harmonic", "continuous", 250, **kw)
    r2 = fit("harmonic", "continuous", 250, **kw)
    assert r1.history.loss == r2.history.loss  # same seed -> same numbers on CPU
    untrained = trajectory_errors(Trainer("harmonic", method="continuous", **kw).model, get_problem("harmonic"))
    assert r1.metrics["rel_l2"] < 0.5 < untrained["rel_l2"]
    assert all(0.0 <= r <= 1.0 for r in r1.metrics["spike_rates"]) and len(r1.metrics["spike_rates"]) == 2
    assert r1.metrics["energy_pJ"] > 0


def test_short_mlp_training_reaches_loose_forward_error():
    r = fit("harmonic", "mlp", 300, n_colloc=128, eval_every=1000)
    assert r.metrics["rel_l2"] < 0.3
    assert r.metrics["spike_rates"] == []


def test_equal_parameter_budget():
    prob = get_problem("harmonic")
    n = {m: Trainer(prob, method=m).n_parameters for m in ("continuous", "naive", "mlp")}
    assert n["continuous"] == n["naive"]
    assert abs(n["mlp"] - n["continuous"]) / n["continuous"] < 0.05


def test_operation_counts_mlp_by_hand():
    prob = get_problem("harmonic")
    mlp = MLPPINN(prob.x0, prob.t_end, hidden=32, n_freq=4)
    e = operation_counts(mlp, 10)
    assert e["mac"] == 10 * (9 * 32 + 32 * 32 + 32 * 1) and e["ac"] == 0 and e["neuron"] == 0
    assert e["nonlinear"] == 10 * (2 * 32 + 2 * 4)  # tanh units + sin/cos features per query
    assert e["total_pJ"] == pytest.approx(4.6 * e["mac"] + 46.0 * e["nonlinear"])
    peer = operation_counts(mlp, 10, at_knots=5)  # MLP at 5 knots + the Gaussian kernel at 10 queries
    assert peer["mac"] == 5 * (9 * 32 + 32 * 32 + 32) + 10 * 5 * 1
    assert peer["nonlinear"] == 5 * (64 + 8) + 10 * 5
    fp = operation_counts(mlp, 10, constants="fpsnn")
    assert fp["mac_pJ"] == pytest.approx(3.1 * e["mac"])


def test_operation_counts_clock_snn_by_hand():
    """A tiny ClockSNN (2 inputs -> 2 LIF -> 2 LIF -> 1 output) with a hand-set spike record."""
    torch.manual_seed(0)
    model = ClockSNN(np.zeros((1, 1)), t_end=1.0, hidden=2, n_freq=0, n_knots=4, pad=1, num_steps=3)
    with torch.no_grad():
        model(torch.zeros(1, dtype=torch.float64))
    k = model.knots.shape[0]
    assert k == 6 and model.last_spikes[0].shape == (3, 6, 2)
    s1 = torch.zeros(3, 6, 2)
    s1[0, 0, 0] = s1[1, 2, 1] = s1[2, 5, 0] = 1.0  # 3 layer-1 spikes
    s2 = torch.zeros(3, 6, 2)
    s2[2, 3, 1] = 1.0  # 1 layer-2 spike
    model.last_spikes = [s1, s2]
    c = operation_counts(model, 7)
    # fc1: 6 knots x (1 input x 2); membrane readout: 3 steps x 6 knots x 2 x 1; kernel: 7 queries x 6 knots x 1
    assert c["mac"] == 6 * 2 + 3 * 6 * 2 + 7 * 6
    assert c["ac"] == 3 * 2 + 1 * 1  # each layer-1 spike fans out to 2 synapses, each layer-2 spike to 1 output
    assert c["neuron"] == 2 * 3 * 6 * 2  # two layers, 3 LIF steps, 6 knots, 2 neurons
    assert c["nonlinear"] == 7 * 6  # n_freq = 0: only the kernel exponentials
    assert c["total_pJ"] == pytest.approx(4.6 * c["mac"] + 0.9 * c["ac"] + 6.4 * c["neuron"] + 46 * c["nonlinear"])
    kern = KernelCoefficients(np.zeros((1, 1)), 1.0, n_knots=4, pad=1)
    assert operation_counts(kern, 7)["mac"] == 7 * 6 and operation_counts(kern, 7)["neuron"] == 0
    with pytest.raises(InvalidStateError):
        operation_counts(ClockSNN(np.zeros((1, 1)), 1.0, hidden=2, n_knots=4), 7)
    with pytest.raises(InvalidParameterError):
        operation_counts(nn.Linear(1, 1), 7)
    with pytest.raises(InvalidParameterError):
        operation_counts(kern, 0)


# -- device and checkpoints ------------------------------------------------------------------------------
def test_device_selection_and_cpu_fallback():
    tr = Trainer("harmonic", method="continuous", device="cpu", n_knots=8)
    assert tr.model.x0.device.type == "cpu" and tr.model.knots.device.type == "cpu"
    if torch.cuda.is_available():  # pragma: no cover - no GPU in CI
        assert Trainer("harmonic", device="cuda").model.x0.device.type == "cuda"
    else:
        with pytest.raises(DeviceUnavailableError):
            Trainer("harmonic", device="cuda")
        assert Trainer("harmonic", device="auto", n_knots=8).device.type == "cpu"


def test_checkpoint_round_trip_and_malformed(tmp_path):
    tr = Trainer("harmonic", method="continuous", n_knots=16, n_colloc=64)
    tr.train(5)
    tr.save(tmp_path / "ck")
    meta = json.loads((tmp_path / "ck" / "config.json").read_text())
    assert meta["config"]["n_knots"] == 16 and meta["step"] == 5
    back = Trainer.load(tmp_path / "ck")
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_array_equal(back.model(t).numpy(), tr.model(t).numpy())
    assert back.step == 5
    with pytest.raises(DataFormatError):
        Trainer.load(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    with pytest.raises(DataFormatError):
        Trainer.load(tmp_path / "bad")
    (tmp_path / "ck" / "weights.pt").write_bytes(b"garbage")
    with pytest.raises(DataFormatError):
        Trainer.load(tmp_path / "ck")


def test_stop_request_and_resume_keep_history():
    tr = Trainer("harmonic", method="mlp", n_colloc=32, eval_every=1000)
    tr.train(3, callback=lambda trainer: trainer.request_stop() if trainer.step == 2 else None)
    assert tr.step == 2 and len(tr.history.loss) == 2
    tr.train(3)
    assert tr.step == 5 and len(tr.history.loss) == 5
    tr.reset()
    assert tr.step == 0 and tr.history.loss == []


# -- comparison helpers ----------------------------------------------------------------------------------
def test_grid_dependence_and_verlet_scan():
    from npsnn_edu.spiking.compare import grid_dependence, verlet_dt_scan

    prob = get_problem("harmonic")
    rows = grid_dependence(Exact(torch.cos), prob, [0.5, 0.01])
    assert [r["points"] for r in rows] == [int(round(prob.t_end / 0.5)) + 1, int(round(prob.t_end / 0.01)) + 1]
    assert all(r["rel_l2"] < 1e-12 for r in rows)  # the exact solution has no grid dependence
    scan = verlet_dt_scan(prob, [0.1, 0.05, 2.1])
    assert scan[0]["rel_l2"] / scan[1]["rel_l2"] == pytest.approx(4.0, rel=0.05)  # second order
    assert scan[2]["status"].startswith("diverged")  # omega dt > 2


# -- parameterised problems, checkpoints, aliasing ----------------------------------------------------------
def test_parameterised_problems():
    p = get_problem("harmonic", omega=2.0, x0=0.5, v0=1.0, periods=1)
    assert p.potential.k == pytest.approx(4.0) and p.t_end == pytest.approx(math.pi)
    t = np.linspace(0, p.t_end, 9)
    x, v = p.reference(t)
    np.testing.assert_allclose(x[:, 0, 0], 0.5 * np.cos(2 * t) + 0.5 * np.sin(2 * t), atol=1e-12)
    assert get_problem("harmonic", k=9.0, mass=1.0).info["omega"] == pytest.approx(3.0)
    assert get_problem("Harmonic-Oscillator", omega=2.0).potential.k == pytest.approx(4.0)
    m = get_problem("morse", stretch=0.2, velocity=0.1, periods=1)
    np.testing.assert_allclose(m.v0[:, 0], [-0.05, 0.05])
    xm, _ = m.reference([0.0, m.t_end])  # period from the exact total energy (potential + kinetic)
    np.testing.assert_allclose(xm[1], m.x0, atol=1e-4)
    lj = get_problem("lj-trimer", velocity_scale=0.1, seed=3, t_end=1.0)
    assert lj.t_end == 1.0 and np.abs(lj.v0.sum(0)).max() < 1e-12 and np.abs(lj.v0).max() > 0
    with pytest.raises(InvalidParameterError):
        get_problem("harmonic", omega=-1.0)
    with pytest.raises(InvalidParameterError):
        get_problem("harmonic", omega=2.0, k=4.0)
    with pytest.raises(InvalidParameterError):
        get_problem("morse", stretch=3.0, velocity=5.0)  # unbound
    with pytest.raises(InvalidParameterError):
        get_problem("harmonic", spring=2.0)


def test_checkpoint_keeps_custom_problem(tmp_path):
    prob = get_problem("harmonic", omega=2.0, x0=0.5, v0=1.0, periods=1)
    tr = Trainer(prob, method="kernel", n_knots=12, n_colloc=48)
    tr.train(3)
    tr.save(tmp_path / "ck")
    back = Trainer.load(tmp_path / "ck")
    assert back.problem.potential.k == pytest.approx(4.0) and back.problem.t_end == pytest.approx(prob.t_end)
    np.testing.assert_array_equal(back.problem.v0, prob.v0)
    np.testing.assert_array_equal(back.problem.x0, prob.x0)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    with torch.no_grad():
        np.testing.assert_array_equal(back.model(t).numpy(), tr.model(t).numpy())


def test_model_x0_buffer_is_a_copy():
    prob = get_problem("harmonic")
    tr = Trainer(prob, method="continuous", n_knots=8, num_steps=2)
    with torch.no_grad():
        tr.model.x0.add_(5.0)
    assert prob.x0[0, 0] == 1.0
    prob.x0[0, 0] = 3.0
    assert float(tr.model.x0[0, 0]) == 6.0
    for cls in (MLPPINN, KernelCoefficients):
        arr = np.ones((1, 1))
        model = cls(arr, 1.0)
        arr[0, 0] = 7.0
        assert float(model.x0[0, 0]) == 1.0


def test_zero_budget_raises():
    with pytest.raises(InvalidParameterError, match="optimiser"):
        fit("harmonic", "mlp", 0)
    with pytest.raises(InvalidParameterError):
        Trainer("harmonic", method="mlp").train(0)


def test_one_spiking_pass_per_step_same_loss():
    """physics_loss evaluates the network once; the loss equals the two-call version."""
    tr = Trainer("harmonic", method="continuous", n_knots=8, num_steps=4, n_colloc=32, causal_eps=0.0)
    calls = []
    orig = tr.model.coefficients
    tr.model.coefficients = lambda: (calls.append(1), orig())[1]
    terms = physics_loss(tr.model, tr.problem, tr.t_train, tr.config)
    assert len(calls) == 1
    x, v, a = tr.model.derivatives(tr.t_train)
    x0, v0, _ = tr.model.derivatives(torch.zeros(1, dtype=torch.float64))
    res = ((a + x) / tr.scales.a).pow(2).mean()
    ic = ((x0[0] - 1.0) / tr.scales.d).pow(2).mean() + (v0[0] / tr.scales.v).pow(2).mean()
    assert float(terms["total"].detach()) == pytest.approx(float((res + 10.0 * ic).detach()), rel=1e-12)


# -- kernel-only, least squares, seeds, hypothesis H ---------------------------------------------------------
def test_kernel_lstsq_is_the_basis_optimum():
    prob = get_problem("harmonic", periods=1)
    ls = kernel_lstsq(prob, n_knots=16, n_colloc=128)
    assert ls.metrics["rel_l2"] < 1e-4  # independent reference: cos t
    tr = fit(prob, "kernel", 100, n_knots=16, n_colloc=128, eval_every=100, causal_eps=0.0)
    assert ls.history.loss[-1] <= tr.history.loss[-1]  # no Adam run on the same loss goes below the optimum
    gn = kernel_lstsq(get_problem("morse", periods=1), n_knots=16, n_colloc=128)
    assert gn.metrics["rel_l2"] < 1e-3 and len(gn.history.loss) >= 2  # Gauss-Newton iterations


def test_seed_spread_median_and_range():
    sp = seed_spread("harmonic", "kernel", 20, seeds=(0, 1, 2), n_knots=8, n_colloc=32, eval_every=20)
    assert len(sp["rel_l2"]) == 3 and len(set(sp["rel_l2"])) == 3  # the seed changes the initial y
    assert sp["rel_l2_min"] <= sp["rel_l2_median"] <= sp["rel_l2_max"]


def test_hypothesis_h_scan_small_case():
    rows = hypothesis_h_scan([0.5, 8.0], n_knots=(16,), t_end=2 * math.pi)
    lo, hi = rows
    assert lo["omega_h"] < 1 < 2 < hi["omega_h"]
    assert lo["lstsq_rel_l2"] < 1e-3 and hi["lstsq_rel_l2"] > 0.1  # the basis cannot resolve omega h >> 1
    assert lo["verlet_stable"] and not hi["verlet_stable"]  # Verlet: omega dt < 2 (chapter 2)
    h = 4 * math.pi / 31  # 32 knots on [0, 4 pi]: the basis' own limit sits near omega h = 2, like Verlet's
    near = hypothesis_h_scan([1.5 / h, 2.6 / h], n_knots=(32,), t_end=4 * math.pi)
    assert near[0]["lstsq_rel_l2"] < 1e-3 < 0.1 < near[1]["lstsq_rel_l2"]
    verdict = hypothesis_h_verdict(rows)
    assert verdict["last_ok_omega_h"] == pytest.approx(lo["omega_h"])
    assert verdict["first_bad_omega_h"] == pytest.approx(hi["omega_h"])


def test_readout_contributions_add_up():
    from npsnn_edu.spiking.compare import readout_contributions

    tr = Trainer("harmonic", method="continuous", n_knots=10, num_steps=6)
    parts = readout_contributions(tr.model)
    with torch.no_grad():
        y = tr.model.coefficients().numpy()
    np.testing.assert_allclose(parts["y_spike"] + parts["y_membrane"], y, atol=1e-5)
    assert 0.0 <= parts["spike_variance_fraction"] <= 1.0 and 0.0 <= parts["silent_fraction"] <= 1.0
    with pytest.raises(InvalidParameterError):
        readout_contributions(MLPPINN(np.ones((1, 1)), 1.0))


def test_benchmark_regeneration_subset(tmp_path):
    """The shipped npsnn_harmonic_seeds.json is regenerated by benchmarks/npsnn_train.py (tiny budget here)."""
    import importlib.util
    from pathlib import Path

    from npsnn_edu.precomputed import load_result

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "npsnn_train.py"
    spec = importlib.util.spec_from_file_location("npsnn_train_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--quick", "--steps", "3", "--naive-steps", "2", "--seeds", "0", "1", "2", "--save",
                    "--results-dir", str(tmp_path)])
    for key in ("kernel_only_rel_l2", "lstsq_rel_l2", "seed_rel_l2", "energy_uJ", "final_rel_l2"):
        assert key in out
    assert len(out["seed_rel_l2"]) == 3 and out["lstsq_rel_l2"] < 1e-4
    assert out["energy_uJ"]["npsnn"] > 0 and out["energy_uJ"]["mlp_at_knots"] > 0
    saved = load_result("npsnn_harmonic_seeds", directory=tmp_path)
    assert "npsnn_train.py" in saved.command and saved.provenance["seeds"] == [0, 1, 2]
    shipped = load_result("npsnn_harmonic_seeds")  # the file the notebook shows
    assert set(saved.data) == set(shipped.data) and len(shipped.data["seed_rel_l2"]) >= 3


def test_hand_built_problem_needs_to_be_passed_back(tmp_path):
    """A problem on a user's own Potential subclass cannot be rebuilt from JSON: load asks for it back.
    (A hand-built problem on a registered core potential round-trips by itself: tests/test_spiking_systems.py.)"""
    from npsnn_edu.potentials import Harmonic
    from npsnn_edu.spiking import NewtonProblem

    class MySpring(Harmonic):
        name = "my-spring"

    base = get_problem("harmonic", periods=1)
    prob = NewtonProblem("my-spring", MySpring(k=1.0), base.x0.copy(), base.v0.copy(), base.masses, base.t_end,
                         analytic=True)
    tr = Trainer(prob, method="mlp", n_colloc=16)
    tr.train(1)
    tr.save(tmp_path / "ck")
    with pytest.raises(DataFormatError, match="problem="):
        Trainer.load(tmp_path / "ck")
    assert Trainer.load(tmp_path / "ck", problem=prob).problem is prob


def test_npsnn_is_not_cheaper_than_mlp_at_knots_on_equal_terms():
    """LIF updates + membrane readout alone exceed an MLP at the same knots (whatever the spike counts)."""
    tr = Trainer("harmonic", method="continuous")
    with torch.no_grad():
        tr.model(torch.zeros(1, dtype=torch.float64))
    snn_ops = operation_counts(tr.model, 1001)
    k = int(tr.model.knots.shape[0])
    peer = operation_counts(Trainer("harmonic", method="mlp").model, 1001, at_knots=k)
    kernel = 1001 * k * (46.0 + 4.6)  # the shared Gaussian readout (exp + MAC per query and knot)
    assert snn_ops["neuron_pJ"] > peer["total_pJ"] - kernel
    assert snn_ops["total_pJ"] > peer["total_pJ"]
