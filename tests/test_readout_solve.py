"""The physics-informed readout solve (npsnn_edu.spiking.readout_solve): exact optimum on the linear family,
checked against a dense least-squares solve built by autograd; Levenberg-Marquardt on Morse; the force Jacobian
against finite differences; reservoirs learn; only the readout moves; clear errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.spiking.basis import basis_trajectory, state_tensors, training_times
from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer, PhysicsOperator, residual_loss
from npsnn_edu.spiking.readout_solve import _force_jacobian, branch_features, readout_layer, solve_readout

TINY = dict(hidden=6, num_steps=4, n_knots=8, pad=1, n_colloc=24)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _plain_loss(model: PhysicsOperator, p: np.ndarray) -> float:
    """The mean squared residual of the model's forward output on the training grid (the solve's objective)."""
    design = model.basis.design(training_times(model.family.tau_end, model.config.n_colloc))
    x0, w0, om, amp = state_tensors(model.family, p, "cpu")
    with torch.no_grad():
        _, per_problem = residual_loss(model.family, design, x0, w0, om, amp, model.coefficients(p), 0.0, 1)
    return float(per_problem.mean())


def _independent_residuals(model: PhysicsOperator, p: np.ndarray):
    """The residual of every problem and collocation time as a function of the readout, built from the forward
    pass of the kit's pieces (features, trajectory, the family's force), with no structure of the solver: the
    readout acts on the significant feature directions only (float32 features: directions with singular values
    under 1e-7 of the largest are rounding noise, and the kit's solve leaves them out too)."""

    fam = model.family
    design = model.basis.design(training_times(fam.tau_end, model.config.n_colloc))
    x0, w0, om, amp = state_tensors(fam, p, "cpu")
    feats = torch.as_tensor(model.branch_inputs(p), dtype=torch.float32)
    hidden = model.branch.hidden_features(feats).double().detach()
    with_bias = torch.cat([hidden, torch.ones(len(p), 1, dtype=torch.float64)], 1)
    _, sing, vt = torch.linalg.svd(with_bias, full_matrices=False)
    z = with_bias @ vt[sing > 1e-7 * sing[0]].T  # (B, r)
    scale = amp if model.config.amplitude_scaling else torch.full_like(amp, model.out_scale)

    def residuals(theta: torch.Tensor) -> torch.Tensor:
        y = (scale[:, None] * (z @ theta.T)).reshape(len(p), model.basis.size, fam.n_out)
        x, _, a = basis_trajectory(design, x0, w0, y, order=2)
        b, t_n, _ = x.shape
        acc = fam.accel(x.reshape(b, t_n, fam.n_particles, fam.dim), om * om).reshape(b, t_n, -1)
        return ((a - acc) / amp[:, None, None]).reshape(-1)

    return residuals, torch.zeros(model.basis.size * fam.n_out, z.shape[1], dtype=torch.float64)


@pytest.mark.parametrize("branch", ["spiking", "tanh"])
@pytest.mark.parametrize("scaled", [True, False])
def test_linear_family_one_step_is_the_dense_least_squares_optimum(branch, scaled):
    """Harmonic: the residual is linear in the readout.  Build the full Jacobian of every residual with respect to
    every readout weight by autograd, solve the least-squares problem densely with NumPy, and compare with the
    kit's one matrix-free step, with and without amplitude scaling (without it the per-problem blocks differ and
    the preconditioner is no longer exact)."""
    model = PhysicsOperator("harmonic", OperatorConfig(branch=branch, amplitude_scaling=scaled, **TINY))
    p = model.family.sample(40, seed=4)
    residuals, theta0 = _independent_residuals(model, p)
    jac = torch.autograd.functional.jacobian(residuals, theta0, vectorize=True).reshape(-1, theta0.numel()).numpy()
    r0 = residuals(theta0).numpy()
    dense, *_ = np.linalg.lstsq(jac, -r0, rcond=None)
    dense_loss = float(np.mean((r0 + jac @ dense) ** 2))

    info = solve_readout(model, p, zero_start=True)
    assert info["steps"] == 1 and info["cg_capped"] == 0
    assert info["losses"][-1] == pytest.approx(dense_loss, rel=1e-4, abs=1e-12)
    assert _plain_loss(model, p) == pytest.approx(dense_loss, rel=1e-4, abs=1e-12)
    assert info["deployed_loss"] == pytest.approx(_plain_loss(model, p), rel=1e-4)  # the branch runs in float32
    assert info["losses"][-1] < 0.1 * info["losses"][0]


def test_levenberg_marquardt_on_morse_reaches_the_optimum_scipy_finds():
    """Morse (nonlinear): the kit's solve from a zero readout and scipy's trust-region least squares (with the
    exact Jacobian by autograd) on the same residuals end at the same loss."""
    from scipy.optimize import least_squares

    model = PhysicsOperator("morse", OperatorConfig(**TINY, seed=2))
    p = model.family.sample(32, seed=8)
    residuals, theta0 = _independent_residuals(model, p)
    shape = theta0.shape

    def fun(v: np.ndarray) -> np.ndarray:
        return residuals(torch.as_tensor(v).reshape(shape)).numpy()

    def jac(v: np.ndarray) -> np.ndarray:
        return torch.autograd.functional.jacobian(residuals, torch.as_tensor(v).reshape(shape), vectorize=True).reshape(
            -1, theta0.numel()).numpy()

    ref = least_squares(fun, theta0.numpy().ravel(), jac=jac, method="trf", xtol=1e-14, ftol=1e-14, gtol=1e-14)
    ref_loss = float(np.mean(ref.fun**2))
    info = solve_readout(model, p, n_iter=40, zero_start=True, tol=1e-9)
    assert info["losses"][-1] == pytest.approx(ref_loss, rel=1e-3)
    assert info["losses"][-1] < 0.1 * info["losses"][0]


def test_blocks_of_problems_do_not_change_the_solve():
    runs = []
    for chunk in (7, 512):
        model = PhysicsOperator("morse", OperatorConfig(**TINY, seed=3))
        info = solve_readout(model, model.family.sample(30, seed=1), n_iter=3, zero_start=True, chunk=chunk)
        runs.append((info["losses"], readout_layer(model.branch).weight.detach().clone()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-10)
    torch.testing.assert_close(runs[0][1], runs[1][1], rtol=1e-5, atol=1e-7)


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


def test_the_solve_moves_only_the_readout():
    tr = OperatorTrainer("morse", OperatorConfig(**{**TINY, "hidden": 32}, seed=2))
    before = copy.deepcopy(tr.model.branch.state_dict())
    p = tr.family.sample(64, seed=8)
    info = solve_readout(tr.model, p, n_iter=8, zero_start=True)
    assert info["losses"][-1] < 0.02 * info["losses"][0]
    assert _plain_loss(tr.model, p) == pytest.approx(info["deployed_loss"], rel=1e-4)  # the model holds it
    after = tr.model.branch.state_dict()
    for name, value in before.items():
        if name.startswith("readout."):
            assert not torch.equal(value, after[name]), name
        else:
            assert torch.equal(value, after[name]), name  # the hidden (spiking) layers are untouched


def test_spiking_reservoir_learns_held_out_problems_with_no_surrogate_gradient():
    tr = OperatorTrainer("harmonic", OperatorConfig(hidden=64, num_steps=8, seed=0))
    held = tr.family.sample(64, seed=12345)
    untrained = tr.trajectory_errors(held, n_eval=201)["median"]
    info = tr.solve_readout(512)
    after = tr.trajectory_errors(held, n_eval=201)
    assert tr.step == 0 and tr.solve_seconds == info["seconds"] > 0
    assert after["median"] < 0.05 and after["median"] < 0.05 * untrained, (untrained, after["median"])
    # the same seed gives the same numbers
    again = OperatorTrainer("harmonic", OperatorConfig(hidden=64, num_steps=8, seed=0))
    again.solve_readout(512)
    np.testing.assert_array_equal(again.trajectory_errors(held, n_eval=201)["errors"], after["errors"])
    # a second solve draws new problems: its starting loss is not the first solve's final loss
    second = again.solve_readout(512)
    assert second["losses"][0] != pytest.approx(info["losses"][-1], rel=1e-6)


def test_refining_a_trained_operator_starts_from_its_readout():
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
