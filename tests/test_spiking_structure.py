"""The shared pieces of npsnn_edu.spiking (issue 19): every model deep-copies after a forward and backward pass
outside any trainer; the one LIF loop against the neuron's equation by hand; the one damped Gauss-Newton /
Levenberg-Marquardt step against least squares; the one pair of time grids; the one operation count."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.spiking import fit
from npsnn_edu.spiking.basis import KernelBasis, eval_times, make_knots, training_times
from npsnn_edu.spiking.derivatives import time_derivatives
from npsnn_edu.spiking.energy import operation_counts, priced_counts
from npsnn_edu.spiking.gauss_newton import damped_gauss_newton_step, levenberg_marquardt_step
from npsnn_edu.spiking.models import (
    MLPPINN,
    ClockSNN,
    KernelCoefficients,
    PointwiseSNN,
    SpikingBranch,
    TanhBranch,
    lif_steps,
)
from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer, PhysicsOperator

pytestmark = pytest.mark.usefixtures("one_torch_thread")

X0 = np.array([[1.0]])
T = torch.linspace(0.0, 6.0, 7, dtype=torch.float64)
TINY_OP = dict(hidden=6, num_steps=4, n_knots=8, pad=1, n_colloc=24, batch=8)


def _single_models():
    torch.manual_seed(0)
    return {"ClockSNN": ClockSNN(X0, 6.0, hidden=8, n_knots=8, num_steps=4),
            "ClockSNN recurrent": ClockSNN(X0, 6.0, hidden=8, n_knots=8, recurrent=True),
            "PointwiseSNN": PointwiseSNN(X0, 6.0, hidden=8, num_steps=4),
            "KernelCoefficients": KernelCoefficients(X0, 6.0, n_knots=8),
            "MLPPINN": MLPPINN(X0, 6.0, hidden=8)}


def _assert_independent_copy(model: torch.nn.Module, run) -> None:
    clone = copy.deepcopy(model)
    with torch.no_grad():
        np.testing.assert_array_equal(run(clone).numpy(), run(model).numpy())
        first = next(clone.parameters())
        first.add_(1.0)  # the copy owns its parameters
        assert not torch.equal(first, next(model.parameters()))


@pytest.mark.parametrize("name", list(_single_models()))
@pytest.mark.parametrize("mode", ["plain", "autograd"])
def test_every_single_trajectory_model_deep_copies_after_forward_and_backward(name, mode):
    model = _single_models()[name]
    if mode == "plain":
        model(T).sum().backward()
    else:  # derivatives in t through autograd (create_graph: the naive method's second-order graph)
        x, v, a = time_derivatives(model, T.clone(), "autograd")
        (x.sum() + v.sum() + a.sum()).backward()
    _assert_independent_copy(model, lambda m: m(T))


@pytest.mark.parametrize("branch", ["spiking", "spikes_only", "tanh"])
def test_every_operator_deep_copies_after_forward_and_backward(branch):
    model = PhysicsOperator("harmonic", OperatorConfig(branch=branch, hidden=6, num_steps=4, n_knots=8, pad=1))
    p = model.family.sample(5, seed=0)
    model.coefficients(p).pow(2).sum().backward()
    _assert_independent_copy(model, lambda m: m.coefficients(p))


@pytest.mark.parametrize("branch_cls", [SpikingBranch, TanhBranch])
def test_branches_deep_copy_after_forward_and_backward(branch_cls):
    torch.manual_seed(0)
    branch = branch_cls(3, 5, 8)
    feats = torch.randn(4, 3)
    branch(feats).sum().backward()
    _assert_independent_copy(branch, lambda b: b(feats))


def test_trainers_and_fit_results_deep_copy():
    res = fit("harmonic", "continuous", 2, check=False, hidden=8, num_steps=4, n_knots=8, n_colloc=16,
              eval_every=2, n_eval=51)
    clone = copy.deepcopy(res)
    assert clone.trainer is not res.trainer and clone.trainer._lock is not res.trainer._lock
    clone.trainer.train(1)  # the copy trains on, with its own lock and stop flag
    assert clone.trainer.step == 3 and res.trainer.step == 2
    op = OperatorTrainer("harmonic", **TINY_OP)
    op.train(2)
    op_clone = copy.deepcopy(op)
    op_clone.train(1)
    assert (op_clone.step, op.step) == (3, 2)


# -- the one LIF loop ---------------------------------------------------------------------------------
def test_lif_steps_follows_the_neuron_equation_by_hand():
    """U <- beta U + I - S_prev thr (subtract reset, threshold 1), S = [U > thr], two layers, by hand in NumPy."""
    torch.manual_seed(1)
    branch = SpikingBranch(2, 3, hidden=5, num_steps=6, beta=0.8)
    cur1 = 1.5 * torch.rand(4, 5)
    got = [tuple(t.detach().numpy() for t in step) for step in lif_steps(branch, cur1)]
    assert len(got) == 6
    w2, b2 = branch.fc2.weight.detach().numpy().astype(float), branch.fc2.bias.detach().numpy().astype(float)
    i1 = cur1.numpy().astype(float)
    u1, u2 = np.zeros_like(i1), np.zeros((4, 5))
    for s1_got, s2_got, u2_got in got:
        r1 = (u1 > 1.0).astype(float)  # reset from the previous step's membrane
        u1 = 0.8 * u1 + i1 - r1
        s1 = (u1 > 1.0).astype(float)
        r2 = (u2 > 1.0).astype(float)
        u2 = 0.8 * u2 + (s1 @ w2.T + b2) - r2
        s2 = (u2 > 1.0).astype(float)
        np.testing.assert_array_equal(s1_got, s1)
        np.testing.assert_array_equal(s2_got, s2)
        np.testing.assert_allclose(u2_got, u2, atol=1e-5)
    assert s1.sum() > 0  # the check saw spikes


# -- the one damped Gauss-Newton step -----------------------------------------------------------------
def test_damped_gauss_newton_step_is_least_squares_and_damps():
    rng = np.random.default_rng(0)
    jac = torch.as_tensor(rng.normal(size=(3, 20, 4)))  # a batch of 3 problems
    r = torch.as_tensor(rng.normal(size=(3, 20)))
    jtj, jtr = jac.transpose(1, 2) @ jac, (jac.transpose(1, 2) @ r[..., None])[..., 0]
    for scaling in ("marquardt", "levenberg"):
        step = damped_gauss_newton_step(jtj, jtr, 0.0, scaling=scaling)
        for b in range(3):  # undamped: the least-squares step, -pinv(J) r
            want = -np.linalg.lstsq(jac[b].numpy(), r[b].numpy(), rcond=None)[0]
            np.testing.assert_allclose(step[b].numpy(), want, rtol=1e-8, atol=1e-10)
        big = damped_gauss_newton_step(jtj, jtr, 1e6, scaling=scaling)
        assert float(big.norm()) < 1e-4 * float(step.norm())  # heavy damping: a tiny (gradient) step
    with pytest.raises(InvalidParameterError, match="scaling must be 'marquardt' or 'levenberg'"):
        damped_gauss_newton_step(jtj, jtr, 1.0, scaling="newton")


def test_levenberg_marquardt_step_accepts_only_descent_and_adapts_damping():
    tried = []

    def propose(damping):  # a candidate that only improves once the damping is large enough
        tried.append(damping)
        return 1.0 if damping >= 1.0 else 5.0

    accepted = levenberg_marquardt_step(propose, lambda c: c, 2.0, 1e-3, shrink=3.0)
    assert accepted == (1.0, 1.0, pytest.approx(tried[-1] / 3.0))
    np.testing.assert_allclose(tried, [1e-3, 1e-2, 1e-1, 1.0])
    assert levenberg_marquardt_step(lambda d: 5.0, lambda c: c, 2.0, 1e-3, max_tries=4) is None
    assert levenberg_marquardt_step(lambda d: float("nan"), lambda c: c, 2.0, 1.0, max_damping=1e3) is None
    assert levenberg_marquardt_step(lambda d: 2.0, lambda c: c, 2.0, 1.0, accept_equal=False, max_tries=2) is None
    solved = None
    x, loss, lam = np.array([-1.0, 2.0]), None, 1e-3  # Rosenbrock's valley, r = (10 (x2 - x1^2), 1 - x1)

    def res(x):
        return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])

    loss = float(res(x) @ res(x))
    for _ in range(100):
        j = torch.as_tensor([[-20 * x[0], 10.0], [-1.0, 0.0]])
        r = torch.as_tensor(res(x))
        solved = levenberg_marquardt_step(
            lambda d, j=j, r=r, x=x: x + damped_gauss_newton_step(j.T @ j, j.T @ r, d).numpy(),
            lambda c: float(res(c) @ res(c)), loss, lam, min_damping=1e-12)
        if solved is None:
            break
        x, loss, lam = solved
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-6)


# -- the one pair of time grids and the kernel basis ----------------------------------------------------
def test_time_grids_one_window_or_one_per_problem():
    assert training_times(2.0, 4).tolist() == [0.25, 0.75, 1.25, 1.75]
    np.testing.assert_array_equal(eval_times(2.0, 5), [0.0, 0.5, 1.0, 1.5, 2.0])
    per = eval_times(np.array([1.0, 4.0]), 3)
    np.testing.assert_array_equal(per, [[0.0, 0.5, 1.0], [0.0, 2.0, 4.0]])
    assert np.min(np.abs(eval_times(2 * np.pi)[:, None] - training_times(2 * np.pi, 96)[None])) > 1e-6
    basis = KernelBasis(2 * np.pi, n_knots=10, kernel_width=1.5, pad=2)
    knots, sigma = make_knots(2 * np.pi, 10, 1.5, 2)
    np.testing.assert_array_equal(basis.knots.numpy(), knots)
    assert basis.sigma == sigma == pytest.approx(1.5 * 2 * np.pi / 9)


# -- the one operation count --------------------------------------------------------------------------
def test_operation_counts_of_an_operator_need_p_and_price_like_every_model():
    model = PhysicsOperator("harmonic", OperatorConfig(hidden=4, num_steps=3, n_knots=6, pad=1))
    with pytest.raises(InvalidParameterError, match="needs p"):
        operation_counts(model, 10)
    p = model.family.sample(3, seed=0)
    ops = operation_counts(model, 10, p=p)
    assert priced_counts(ops) == {k: ops[k] for k in priced_counts(ops)}  # the record re-prices to itself
    d1 = operation_counts(model, 10, p=p, derivatives=1)
    assert d1["kernel_mac"] == 2 * ops["kernel_mac"] and d1["mac"] - ops["mac"] == ops["kernel_mac"]
    fp = operation_counts(model, 10, p=p, constants="fpsnn")
    assert fp["ac_pJ"] == pytest.approx(0.1 * ops["ac"]) and fp["mac_pJ"] == pytest.approx(3.1 * ops["mac"])
