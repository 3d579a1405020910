"""Chapter 4: spiking PINN. References are analytic functions, finite differences and the core integrators."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from npsnn_edu.errors import DataFormatError, DeviceUnavailableError, InvalidParameterError, UnknownNameError
from npsnn_edu.spiking import (ClockSNN, MLPPINN, PointwiseSNN, TrainConfig, Trainer, derivative_consistency,
                               eval_times, evaluate, fit, make_problem, physics_loss, synaptic_energy,
                               time_derivatives, training_times)

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
    prob = make_problem("harmonic")
    cfg = TrainConfig(method="mlp", causal_eps=0.0, w_energy=1.0, **cfg)
    t = torch.as_tensor(training_times(prob, cfg.n_colloc), dtype=torch.float64)
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
    prob = make_problem("morse")
    x = torch.as_tensor(prob.x0[None], dtype=torch.float64)
    _, f = prob.potential.energy_and_forces(x)
    np.testing.assert_allclose(f[0].numpy(), prob.potential.forces(prob.x0), rtol=1e-12)


# -- problems and references -----------------------------------------------------------------------------
def test_references():
    h = make_problem("harmonic", periods=1)
    x, v = h.reference([0.0, math.pi / 2, math.pi])
    np.testing.assert_allclose(x[:, 0, 0], [1, 0, -1], atol=1e-12)
    m = make_problem("morse", periods=1)
    xm, _ = m.reference([0.0, m.t_end])  # exact anharmonic period (analytic.morse_period)
    np.testing.assert_allclose(xm[1], m.x0, atol=1e-4)
    lj = make_problem("lj3")
    xl, vl = lj.reference(np.linspace(0, lj.t_end, 50))
    np.testing.assert_allclose(vl.sum(1), 0.0, atol=1e-9)  # momentum conserved (from rest)
    assert eval_times(h).size == 1001
    grid = training_times(h, 256)
    assert np.min(np.abs(eval_times(h)[:, None] - grid[None])) > 1e-6  # evaluation grid not used in training


def test_bad_input_raises_typed_errors():
    with pytest.raises(UnknownNameError):
        make_problem("argon-crystal")
    for bad in (0.0, -1.0, float("nan"), "long"):
        with pytest.raises(InvalidParameterError):
            make_problem("harmonic", t_end=bad)
    with pytest.raises(InvalidParameterError):
        make_problem("morse", periods=-2)
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
    untrained = evaluate(Trainer("harmonic", method="continuous", **kw).model, make_problem("harmonic"))
    assert r1.metrics["rel_l2"] < 0.5 < untrained["rel_l2"]
    assert all(0.0 <= r <= 1.0 for r in r1.metrics["spike_rates"]) and len(r1.metrics["spike_rates"]) == 2
    assert r1.metrics["energy_pJ"] > 0


def test_short_mlp_training_reaches_loose_forward_error():
    r = fit("harmonic", "mlp", 300, n_colloc=128, eval_every=1000)
    assert r.metrics["rel_l2"] < 0.3
    assert r.metrics["spike_rates"] == []


def test_equal_parameter_budget():
    prob = make_problem("harmonic")
    n = {m: Trainer(prob, method=m).n_parameters for m in ("continuous", "naive", "mlp")}
    assert n["continuous"] == n["naive"]
    assert abs(n["mlp"] - n["continuous"]) / n["continuous"] < 0.05


def test_synaptic_energy_counts():
    prob = make_problem("harmonic")
    mlp = MLPPINN(prob.x0, prob.t_end, hidden=32, n_freq=4)
    e = synaptic_energy(mlp, 10)
    assert e["mac"] == 10 * (9 * 32 + 32 * 32 + 32 * 1) and e["ac"] == 0
    assert e["total_pJ"] == pytest.approx(4.6 * e["mac"])


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
    from npsnn_edu.spiking.compare import grid_dependence, markdown_table, verlet_dt_scan

    prob = make_problem("harmonic")
    rows = grid_dependence(Exact(torch.cos), prob, [0.5, 0.01])
    assert [r["points"] for r in rows] == [int(round(prob.t_end / 0.5)) + 1, int(round(prob.t_end / 0.01)) + 1]
    assert all(r["rel_l2"] < 1e-12 for r in rows)  # the exact solution has no grid dependence
    scan = verlet_dt_scan(prob, [0.1, 0.05, 2.1])
    assert scan[0]["rel_l2"] / scan[1]["rel_l2"] == pytest.approx(4.0, rel=0.05)  # second order
    assert scan[2]["status"].startswith("diverged")  # omega dt > 2
    table = markdown_table([{"a": 1.0, "b": "x"}, {"a": float("nan"), "b": "y"}])
    assert table.splitlines()[2] == "| 1 | x |" and "| - | y |" in table
