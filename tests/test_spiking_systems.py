"""Chapter 4 for any system (issue 22): problems from any core potential, the loss scale, the forward-output
check, save/load, custom operator families, range edges, deep copies, the shipped systems table."""
from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest
import torch

from npsnn_edu.errors import DataFormatError, InvalidParameterError, ShapeMismatchError, UnknownNameError
from npsnn_edu.potentials import DoubleWell, Harmonic, Morse
from npsnn_edu.spiking import NewtonProblem, Trainer, fit, get_problem
from npsnn_edu.spiking.check import ForwardCheckWarning, check_trajectory
from npsnn_edu.spiking.compare import kernel_lstsq
from npsnn_edu.spiking.operator import (
    OperatorConfig,
    OperatorRangeWarning,
    OperatorTrainer,
    PhysicsOperator,
    check_operator,
)
from npsnn_edu.spiking.operator_families import PotentialFamily, family_from_potential, get_family
from npsnn_edu.spiking.systems import (
    METHOD_LABELS,
    SYSTEM_CASES,
    double_well_period,
    load_systems_results,
    march_fit,
    rel_l2,
    solve_ivp_reference,
    system_problem,
    system_rows,
)
from npsnn_edu.spiking.training import LossScales

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY_OP = dict(hidden=16, num_steps=4, batch=16, n_colloc=32, n_knots=8, pad=1)


# -- 1. any system, validated -------------------------------------------------------------------------------
def test_problem_from_any_core_potential_in_one_call():
    prob = NewtonProblem.from_potential(DoubleWell(), x0=1.5, v0=0.0, t_end=4.0)
    assert prob.x0.shape == (1, 1) and prob.v0.shape == (1, 1) and prob.masses.tolist() == [1.0]
    same = get_problem(DoubleWell(), x0=1.5, v0=0.0, t_end=4.0)
    np.testing.assert_array_equal(same.x0, prob.x0)
    by_name = NewtonProblem.from_potential("double-well", x0=[[1.5]], v0=[[0.0]], t_end=4.0)
    assert by_name.potential.params() == prob.potential.params()
    two = NewtonProblem.from_potential(Morse(), x0=[[0.0], [1.2]], v0=0.0, masses=[1.0, 2.0], t_end=3.0)
    assert two.v0.shape == (2, 1) and two.masses.tolist() == [1.0, 2.0]
    dw = get_problem("double-well")  # the core's default start: bottom of the right well, moving
    assert float(dw.potential.forces(dw.x0)[0, 0]) == 0.0 and dw.v0[0, 0] == 0.5


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(t_end=-1.0), InvalidParameterError, "t_end > 0"),
    (dict(masses=[1.0, 1.0]), ShapeMismatchError, "one per particle"),
    (dict(masses=-1.0), InvalidParameterError, "positive"),
    (dict(x0=[1.0, 2.0, 3.0]), ShapeMismatchError, r"\(N, D\)"),
    (dict(v0=[[0.0, 1.0]]), ShapeMismatchError, "shape of x0"),
    (dict(x0=float("nan")), InvalidParameterError, "finite"),
    (dict(x0="one"), InvalidParameterError, "numbers"),
])
def test_newton_problem_validates_its_inputs(kwargs, error, match):
    args = {"x0": 1.0, "v0": 0.0, "masses": 1.0, "t_end": 2.0, **kwargs}
    with pytest.raises(error, match=match):
        NewtonProblem("p", DoubleWell(), args["x0"], args["v0"], args["masses"], args["t_end"])


def test_bad_potential_and_unknown_fit_field_are_typed_errors():
    with pytest.raises(InvalidParameterError, match="core Potential"):
        NewtonProblem("p", lambda x: x, 1.0, 0.0, 1.0, 2.0)
    with pytest.raises(InvalidParameterError, match="problem name"):
        get_problem(3.0)
    with pytest.raises(InvalidParameterError, match="valid: .*n_colloc"):
        fit("harmonic", "mlp", 1, periods=3)
    with pytest.raises(UnknownNameError, match="double_well"):
        get_problem("pendulum")


# -- 2. the loss scale --------------------------------------------------------------------------------------
def test_loss_scale_does_not_depend_on_the_force_at_the_start():
    at_eq = LossScales(get_problem("harmonic", x0=0.0, v0=1.0))  # F(x0) = 0
    turning = LossScales(get_problem("harmonic", x0=1.0, v0=0.0))  # same energy, F(x0) = -1
    assert at_eq.a == pytest.approx(1.0) and turning.a == pytest.approx(1.0)
    assert (at_eq.d, at_eq.v) == pytest.approx((turning.d, turning.v))
    # the chapter's shipped case keeps exactly its old scales (so its shipped results are unchanged)
    s = LossScales(get_problem("harmonic"))
    assert (s.a, s.d, s.v, s.e) == (1.0, 1.0, 1.0, 0.5)
    # the double well's F(x0) = 0 start: scale of the motion (max |F| along it), far above the old 1e-3 floor
    dw = get_problem("double-well")
    traj = dw.verlet(dw.t_end / 4000)
    a_true = float(np.max(np.abs(dw.potential.forces(traj.positions))))
    assert LossScales(dw).a == pytest.approx(a_true, rel=0.05)


def test_starts_with_zero_force_now_train():
    prob = get_problem("harmonic", x0=0.0, v0=1.0, periods=2)
    assert kernel_lstsq(prob).metrics["rel_l2"] < 1e-4  # the basis optimum
    res = fit(prob, "kernel", 300, eval_every=1000)  # was rel L2 ~1 with the F(x0)-based scale
    assert res.metrics["rel_l2"] < 2e-2 and res.metrics["check"]["trusted"]
    dw = fit("double-well", "kernel", 300, eval_every=1000, check=False)
    assert dw.metrics["rel_l2_disp"] < 0.1


# -- 3. wrong answers said out loud ---------------------------------------------------------------------------
def test_check_reference_is_an_accurate_verlet_run():
    prob = system_problem("double_well_across")
    t = np.linspace(0.0, prob.t_end, 501)
    assert rel_l2(prob.check_reference(t), solve_ivp_reference(prob, t)) < 1e-5


def test_fit_warns_with_both_numbers_when_the_forward_output_is_wrong():
    prob = system_problem("double_well_across")
    with pytest.warns(ForwardCheckWarning, match=r"by \d\.\d+e[+-]\d+ .*tolerance 5\.00e-02.*training loss"):
        res = fit(prob, "kernel", 150, eval_every=1000)
    chk = res.metrics["check"]
    assert not chk["trusted"] and chk["error"] > 0.3 and "DO NOT TRUST" in chk["verdict"]
    assert "DO NOT TRUST" in res.trainer.report()
    good = kernel_lstsq(get_problem("harmonic", x0=0.0, v0=1.0))
    assert good.metrics["check"]["trusted"] and "trusted" in good.trainer.report()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a trusted result warns nothing
        check_trajectory(np.zeros((3, 1, 1)), np.array([[[0.0]], [[1.0]], [[2.0]]]) * 1e-9 + np.zeros((3, 1, 1)),
                         np.zeros((1, 1)), tol=1.0)


def test_check_tolerance_is_validated_and_used():
    x_ref = np.linspace(0, 1, 11).reshape(-1, 1, 1)
    out = check_trajectory(x_ref * 1.1, x_ref, np.zeros((1, 1)), tol=0.2, warn=False)
    assert out["trusted"] and out["error"] == pytest.approx(0.1)
    with pytest.warns(ForwardCheckWarning, match="1.00e-01.*5.00e-02"):
        check_trajectory(x_ref * 1.1, x_ref, np.zeros((1, 1)), tol=0.05)
    with pytest.raises(InvalidParameterError, match="tol"):
        check_trajectory(x_ref, x_ref, np.zeros((1, 1)), tol=0.0)


def test_operator_check_and_range_edges():
    tr = OperatorTrainer("harmonic", OperatorConfig(seed=0, **TINY_OP))
    p_in = tr.family.sample(3, seed=2)
    with pytest.warns(ForwardCheckWarning, match="tolerance"):  # untrained: wrong, said out loud
        ev = tr.trajectory_errors(p_in, n_eval=101, check=True)
    assert ev["check"]["errors"].shape == (3,) and not ev["check"]["trusted"].any()
    far = np.array([[5.0, 0.0, 1.0]])  # amplitude 5, trained on [0.5, 1.5]
    with pytest.warns(OperatorRangeWarning, match=r"amplitude .* in \[0.5, 1.5\]"):
        tr.model.predict(far, np.linspace(0, 1, 5))
    with pytest.raises(InvalidParameterError, match="outside what this operator was trained on"):
        tr.trajectory_errors(far, n_eval=11, strict=True)
    morse = get_family("morse")
    with pytest.raises(InvalidParameterError, match="energy between"):
        PhysicsOperator(morse, OperatorConfig(**TINY_OP)).predict([[0.05, 0.0]], np.linspace(0, 1, 5), strict=True)
    assert not get_family("lj3d").out_of_range(get_family("lj3d").sample(500, seed=1)).any()
    exact = check_operator(tr.family, p_in, *_exact_harmonic(tr.family, p_in), warn=False)
    assert exact["trusted"].all() and exact["errors"].max() < 1e-4


def _exact_harmonic(fam, p):
    from npsnn_edu.analytic import harmonic_solution

    t = np.linspace(0, 1, 101)[None] * (fam.tau_end / fam.omega(p))[:, None]
    x = np.stack([harmonic_solution(t[b], p[b, 0], p[b, 1], p[b, 2])[0] for b in range(len(p))])
    return t, x[..., None, None]


# -- 1 (operators). families, names --------------------------------------------------------------------------
def test_custom_family_from_a_potential_and_a_box_trains():
    fam = family_from_potential(DoubleWell(), x_box=(0.8, 1.2), v_box=(-0.3, 0.3), name="my-well")
    assert isinstance(fam, PotentialFamily) and fam.omega0 == pytest.approx(np.sqrt(8.0), rel=1e-4)
    p = fam.sample(64, seed=0)
    assert not fam.out_of_range(p).any() and fam.out_of_range([[1.5, 0.0]]).all()
    tr = OperatorTrainer(fam, OperatorConfig(seed=0, **TINY_OP))
    before = tr.trajectory_errors(p[:8], n_eval=101)["median"]
    tr.train(40)
    assert tr.trajectory_errors(p[:8], n_eval=101)["median"] < 0.5 * before
    with pytest.raises(InvalidParameterError, match="omega="):
        family_from_potential(DoubleWell(), x_box=(3**-0.5, 3**-0.5), v_box=(0, 0))  # U"(1/sqrt 3) = 0
    with pytest.raises(ShapeMismatchError):
        family_from_potential(Harmonic(), x_box=([[0.0, 0.0]], [[1.0]]), v_box=(0, 1))


def test_get_family_refuses_unused_keywords_and_old_names():
    fam = get_family("harmonic", omega_range=(0.5, 1.0))
    assert fam.omega_range == (0.5, 1.0)
    with pytest.raises(InvalidParameterError, match="cannot change a family instance"):
        get_family(fam, omega_range=(1.0, 2.0))
    with pytest.raises(InvalidParameterError, match="unexpected keyword"):
        get_family("harmonic", periods=3)
    with pytest.raises(UnknownNameError, match="'lj3d'"):
        get_family("lj3")
    with pytest.raises(InvalidParameterError, match="'tanh'"):
        OperatorConfig(branch="mlp").validate()
    assert get_problem("lj3_2d").dim == 2 and get_family("lj3d").dim == 3


# -- 4. save / load, LR schedule, deep copies -----------------------------------------------------------------
def test_single_trajectory_models_round_trip_bit_identically(tmp_path):
    prob = NewtonProblem.from_potential(DoubleWell(barrier=2.0), x0=0.9, v0=0.3, t_end=3.0)
    t = torch.linspace(0, 3.0, 57, dtype=torch.float64)
    for method in ("continuous", "kernel", "mlp", "naive"):
        tr = Trainer(prob, method=method, n_colloc=16, n_knots=8, eval_every=1000)
        tr.train(2)
        tr.save(tmp_path / method)
        back = Trainer.load(tmp_path / method)
        assert back.problem.potential.params() == prob.potential.params() and back.step == 2
        with torch.no_grad():
            assert torch.equal(back.model(t), tr.model(t)), method


def test_operators_round_trip_bit_identically_and_wrong_files_are_typed_errors(tmp_path):
    fam = family_from_potential(Morse(), x_box=([[-0.6], [0.5]], [[-0.5], [0.6]]), v_box=(-0.1, 0.1))
    for family, branch in (("harmonic", "spiking"), ("morse", "tanh"), (fam, "spiking")):
        tr = OperatorTrainer(family, OperatorConfig(seed=1, branch=branch, **TINY_OP))
        tr.train(3)
        path = tr.save(tmp_path / f"op_{branch}_{tr.family.name}")
        back = OperatorTrainer.load(path)
        p = tr.family.sample(5, seed=9)
        t = np.linspace(0.0, 1.0, 33)
        np.testing.assert_array_equal(back.model.predict(p, t)[0], tr.model.predict(p, t)[0])
        assert back.step == 3 and back.lr_at(3) == tr.lr_at(3)
    single = Trainer("harmonic", method="mlp", n_colloc=16)
    single.save(tmp_path / "single")
    with pytest.raises(DataFormatError, match="not a spiking-operator checkpoint"):
        OperatorTrainer.load(tmp_path / "single")
    with pytest.raises(DataFormatError, match="not a spiking-PINN checkpoint"):
        Trainer.load(path)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("[1, 2")
    with pytest.raises(DataFormatError):
        OperatorTrainer.load(tmp_path / "junk")
    meta = json.loads((path / "config.json").read_text())
    (path / "weights.pt").write_bytes(b"not a torch file")
    with pytest.raises(DataFormatError, match="weights"):
        OperatorTrainer.load(path)
    assert meta["format"] == "npsnn_edu.operator/1"


def test_operator_lr_schedule_is_tied_to_the_first_train_call():
    tr = OperatorTrainer("harmonic", OperatorConfig(seed=0, **TINY_OP))  # total_steps not given
    tr.train(10)
    cfg = tr.config
    assert tr.horizon == 10
    assert tr.lr_at(0) == cfg.lr and tr.lr_at(10) == pytest.approx(cfg.lr * cfg.lr_min_factor)
    assert tr.optimizer.param_groups[0]["lr"] < 0.05 * cfg.lr  # the last step ran near the end of the decay
    explicit = OperatorTrainer("harmonic", OperatorConfig(seed=0, total_steps=100, **TINY_OP))
    explicit.train(10)
    assert explicit.horizon == 100 and explicit.optimizer.param_groups[0]["lr"] > 0.9 * cfg.lr


@pytest.mark.parametrize("method", ["continuous", "naive", "mlp", "kernel"])
def test_trained_models_deep_copy_after_a_forward_and_backward_pass(method):
    tr = Trainer("harmonic", method=method, n_colloc=16, n_knots=8, eval_every=1000)
    tr.train(1)
    t = torch.linspace(0.0, 1.0, 7, dtype=torch.float64)
    tr.model(t).pow(2).sum().backward()  # outside the trainer
    twin = copy.deepcopy(tr.model)
    with torch.no_grad():
        assert torch.equal(twin(t), tr.model(t))
    op = OperatorTrainer("harmonic", OperatorConfig(seed=0, **TINY_OP))
    op.model.coefficients(op.family.sample(4, seed=0)).sum().backward()
    copy.deepcopy(op.model)


# -- remedies and the shipped table ---------------------------------------------------------------------------
def test_double_well_period_matches_the_reference_motion():
    x0 = 1.5
    period = double_well_period(x0)
    prob = NewtonProblem.from_potential(DoubleWell(), x0=x0, v0=0.0, t_end=period)
    x_end = solve_ivp_reference(prob, np.array([0.0, period]))[-1, 0, 0]
    assert x_end == pytest.approx(x0, abs=1e-6)
    inside = double_well_period(1.0, 0.5)
    assert 2 * np.pi / np.sqrt(8.0) < inside < 1.2 * 2 * np.pi / np.sqrt(8.0)  # anharmonic: a bit longer
    with pytest.raises(InvalidParameterError, match="infinite"):
        double_well_period(0.0, 0.0)


def test_time_marching_fixes_the_barrier_crossing():
    prob = system_problem("double_well_across")
    one = march_fit(prob, 1, "lstsq")
    four = march_fit(prob, 4, "lstsq")
    assert one["rel_l2"] > 0.5 and not one["check"]["trusted"]
    assert four["rel_l2"] < 1e-3 and four["check"]["trusted"]


def test_shipped_systems_table_is_complete_and_a_subset_reruns():
    data = load_systems_results("full")
    rows = data["rows"]
    assert set(r["system"] for r in rows) == set(SYSTEM_CASES)
    for name in SYSTEM_CASES:
        for method in METHOD_LABELS:
            sel = [r for r in rows if r["system"] == name and r["method"] == method]
            assert len(sel) == (1 if method in ("lstsq", "verlet") else 3), (name, method)
    assert "npsnn_systems.py" in data["_command"]
    # deterministic rows rerun: the basis optimum and Verlet on the zero-force start and the barrier crossing
    for name in ("harmonic_at_equilibrium", "double_well_across"):
        again = system_rows(name, methods=("lstsq", "verlet"))
        for row in again:
            shipped = next(r for r in rows if r["system"] == name and r["method"] == row["method"])
            assert row["rel_l2_ivp"] == pytest.approx(shipped["rel_l2_ivp"], rel=1e-3, abs=1e-9)
            assert row["trusted"] == shipped["trusted"]
    # one trained row reruns (kernel-only, seed 0, the zero-force start)
    shipped = next(r for r in rows if r["system"] == "harmonic_at_equilibrium" and r["method"] == "kernel"
                   and r["seed"] == 0)
    again = system_rows("harmonic_at_equilibrium", methods=("kernel",), seeds=(0,), steps={"kernel": shipped["steps"]})
    assert again[0]["rel_l2_ivp"] == pytest.approx(shipped["rel_l2_ivp"], rel=1e-3)
