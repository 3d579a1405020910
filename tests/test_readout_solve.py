"""The physics-informed readout solve (npsnn_edu.spiking.readout_solve): exact optimum on the linear family,
checked against a dense least-squares solve built by autograd; Levenberg-Marquardt on Morse; the force Jacobian
against finite differences; reservoirs learn; only the readout moves; clear errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.spiking.operator import (
    OperatorConfig,
    OperatorTrainer,
    PhysicsOperator,
    _residual_loss,
    _state_tensors,
    training_taus,
)
from npsnn_edu.spiking.readout_solve import _force_jacobian, branch_features, readout_layer, solve_readout

TINY = dict(hidden=6, num_steps=4, n_knots=8, pad=1, n_colloc=24)


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _plain_loss(model: PhysicsOperator, p: np.ndarray) -> float:
    """The mean squared residual of the model's forward output on the training grid (the solve's objective)."""
    design = model.basis.design(training_taus(model.family.tau_end, model.config.n_colloc))
    x0, w0, om, amp = _state_tensors(model.family, p, "cpu")
    with torch.no_grad():
        _, per_problem = _residual_loss(model.family, design, x0, w0, om, amp, model.coefficients(p), 0.0, 1)
    return float(per_problem.mean())


@pytest.mark.parametrize("branch", ["spiking", "tanh"])
def test_linear_family_one_step_is_the_dense_least_squares_optimum(branch):
    """Harmonic: the residual is linear in the readout.  Build the full Jacobian of every residual with respect to
    every readout weight by autograd (no structure used), solve the least-squares problem densely with NumPy, and
    compare with the kit's one matrix-free step.  The features are float32: feature directions below float32
    resolution (singular values under 1e-7 of the largest) are rounding noise, and both solves leave them out."""
    model = PhysicsOperator("harmonic", OperatorConfig(branch=branch, **TINY))
    fam = model.family
    p = fam.sample(40, seed=4)
    design = model.basis.design(training_taus(fam.tau_end, model.config.n_colloc))
    x0, w0, om, amp = _state_tensors(fam, p, "cpu")
    feats = torch.as_tensor(model._features(p), dtype=torch.float32)
    hidden = model.branch.hidden_features(feats).double().detach()
    with_bias = torch.cat([hidden, torch.ones(len(p), 1, dtype=torch.float64)], 1)
    _, sing, vt = torch.linalg.svd(with_bias, full_matrices=False)
    basis_z = vt[sing > 1e-7 * sing[0]].T  # significant feature directions (F + 1, r)
    z = with_bias @ basis_z

    def residuals(theta: torch.Tensor) -> torch.Tensor:
        from npsnn_edu.spiking.operator import _trajectory

        y = (amp[:, None] * (z @ theta.T)).reshape(len(p), model.basis.size, 1)
        x, _, a = _trajectory(design, x0, w0, y, order=2)
        return ((a + x) / amp[:, None, None]).reshape(-1)  # x'' = -x in tau

    theta0 = torch.zeros(model.basis.size, z.shape[1], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(residuals, theta0).reshape(-1, theta0.numel()).numpy()
    r0 = residuals(theta0).numpy()
    dense, *_ = np.linalg.lstsq(jac, -r0, rcond=None)
    dense_loss = float(np.mean((r0 + jac @ dense) ** 2))

    info = solve_readout(model, p, zero_start=True)
    assert len(info["losses"]) == 2  # one step
    assert info["losses"][-1] == pytest.approx(dense_loss, rel=1e-4, abs=1e-12)
    assert _plain_loss(model, p) == pytest.approx(dense_loss, rel=1e-4, abs=1e-12)
    assert info["losses"][-1] < 0.1 * info["losses"][0]


@pytest.mark.parametrize("family", ["morse", "lj3d"])
def test_force_jacobian_matches_finite_differences(family):
    fam = PhysicsOperator(family, OperatorConfig(**TINY)).family
    x0, _ = fam.initial_state(fam.sample(3, seed=1))
    x = torch.as_tensor(x0.reshape(3, 1, -1), dtype=torch.float64).repeat(1, 2, 1)
    x[:, 1] += 0.01
    om2 = torch.as_tensor(fam.omega(fam.sample(3, seed=1)) ** 2, dtype=torch.float64)
    h = _force_jacobian(fam, x, om2)
    c = x.shape[2]
    eps = 1e-6
    for j in range(c):
        dx = torch.zeros_like(x)
        dx[..., j] = eps
        acc = lambda y: fam.accel(y.reshape(3, 2, fam.n_particles, fam.dim), om2).reshape(3, 2, c)  # noqa: E731
        fd = (acc(x + dx) - acc(x - dx)) / (2 * eps)
        torch.testing.assert_close(h[..., j], fd, rtol=1e-5, atol=1e-6)


def test_levenberg_marquardt_on_morse_lowers_the_loss_step_by_step_and_moves_only_the_readout():
    tr = OperatorTrainer("morse", OperatorConfig(**{**TINY, "hidden": 32}, seed=2))
    before = copy.deepcopy(tr.model.branch.state_dict())
    p = tr.family.sample(64, seed=8)
    info = solve_readout(tr.model, p, n_iter=8, zero_start=True)
    losses = info["losses"]
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.02 * losses[0]
    assert _plain_loss(tr.model, p) == pytest.approx(losses[-1], rel=1e-3)  # the model now holds the solution
    after = tr.model.branch.state_dict()
    for name, value in before.items():
        if name.startswith("readout."):
            assert not torch.equal(value, after[name]), name
        else:
            assert torch.equal(value, after[name]), name  # the hidden (spiking) layers are untouched


def test_spiking_reservoir_learns_held_out_problems_with_no_surrogate_gradient():
    tr = OperatorTrainer("harmonic", OperatorConfig(hidden=64, num_steps=8, seed=0))
    held = tr.family.sample(64, seed=12345)
    untrained = tr.evaluate(held, n_eval=201)["median"]
    info = tr.solve_readout(512)
    after = tr.evaluate(held, n_eval=201)
    assert tr.step == 0 and tr.solve_seconds == info["seconds"] > 0
    assert after["median"] < 0.05 and after["median"] < 0.05 * untrained, (untrained, after["median"])
    # the same seed gives the same numbers
    again = OperatorTrainer("harmonic", OperatorConfig(hidden=64, num_steps=8, seed=0))
    again.solve_readout(512)
    np.testing.assert_array_equal(again.evaluate(held, n_eval=201)["errors"], after["errors"])


def test_refining_a_trained_operator_keeps_or_lowers_its_loss():
    tr = OperatorTrainer("morse", OperatorConfig(hidden=16, num_steps=4, batch=32, n_colloc=48, seed=1))
    tr.train(30)
    p = tr.family.sample(128, seed=3)
    start = _plain_loss(tr.model, p)
    info = solve_readout(tr.model, p, n_iter=4)
    assert info["losses"][0] == pytest.approx(start, rel=1e-6)  # started from the trained readout
    assert info["losses"][-1] < start


def test_features_and_bad_input():
    model = PhysicsOperator("harmonic", OperatorConfig(branch="spikes_only", **TINY))
    z = branch_features(model, model.family.sample(5, seed=0))
    assert z.shape == (5, TINY["hidden"]) and z.dtype == torch.float64
    assert torch.all((z >= 0) & (z <= 1))  # spike rates
    with pytest.raises(InvalidParameterError, match="at least 2 rows"):
        solve_readout(model, model.family.sample(1, seed=0))
    with pytest.raises(InvalidParameterError, match="n_iter"):
        solve_readout(model, model.family.sample(4, seed=0), n_iter=0)
    with pytest.raises(InvalidParameterError, match="no final linear readout"):
        readout_layer(torch.nn.Identity())
    with pytest.raises(InvalidParameterError, match="n_problems"):
        OperatorTrainer("harmonic", OperatorConfig(**TINY)).solve_readout(1)
