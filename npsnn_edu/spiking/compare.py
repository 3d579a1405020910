"""Comparison helpers for chapter 4: honest rows, the basis optimum, seed spreads, time-grid dependence,
the Verlet dt scan and chapter 2's hypothesis H.

Every number is measured on the FORWARD output (:func:`~npsnn_edu.spiking.training.trajectory_errors`).

* :func:`kernel_lstsq` - the least-squares (harmonic: one linear solve) / Gauss-Newton (Morse, lj3) optimum of
  the training loss over the coefficients of the NP-SNN's Gaussian basis: the ceiling of any model whose
  output lies in that basis, spiking or not;
* :func:`seed_spread` - train one method over several seeds: median and range of every metric;
* :func:`hypothesis_h_scan` - vary omega and the knot spacing h: where the continuous-time model's accuracy
  falls, next to velocity Verlet at dt = h (stable only for omega dt < 2).
"""
from __future__ import annotations

import math
import time
from typing import Any, Iterable

import numpy as np
import torch

from ..errors import InvalidParameterError, SimulationDivergedError
from ..validation import at_least, positive
from .basis import training_times
from .gauss_newton import damped_gauss_newton_step, levenberg_marquardt_step
from .models import ClockSNN, lif_steps
from .problems import NewtonProblem, get_problem
from .training import FitResult, LossScales, TrainConfig, Trainer, fit


def result_row(label: str, res: FitResult) -> dict[str, Any]:
    """One table row of a trained PINN (all errors from the forward output).

    Parameters
    ----------
    label : str
        Row label.
    res : FitResult
        A trained PINN.

    Returns
    -------
    dict
    """
    m = res.metrics
    return {"method": label, "train loss": res.history.loss[-1] if res.history.loss else float("nan"),
            "rel L2 (forward)": m["rel_l2"], "FD residual": m["fd_residual"], "energy drift": m["energy_drift"],
            "train s": res.seconds, "spike rates": ", ".join(f"{r:.3f}" for r in m["spike_rates"]) or "-",
            "energy uJ / 1001 pts": m["energy_pJ"] / 1e6, "params": res.trainer.n_parameters}


def verlet_row(problem: "str | NewtonProblem", dt: float) -> dict[str, Any]:
    """Velocity Verlet (the core integrator) on the same problem: error against the reference at its steps.

    Parameters
    ----------
    problem : str or NewtonProblem
        The problem.
    dt : float
        Time step (tau).

    Returns
    -------
    dict
    """
    problem = get_problem(problem)
    t0 = time.perf_counter()
    traj = problem.verlet(dt)
    wall = time.perf_counter() - t0
    x_ref, _ = problem.reference(traj.times)
    err = float(np.linalg.norm(traj.positions - x_ref) / np.linalg.norm(x_ref))
    return {"method": f"velocity Verlet dt={dt:g}", "train loss": float("nan"), "rel L2 (forward)": err,
            "FD residual": float("nan"), "energy drift": traj.energy_drift(), "train s": wall, "spike rates": "-",
            "energy uJ / 1001 pts": float("nan"), "params": 0}


def grid_dependence(model: torch.nn.Module, problem: "str | NewtonProblem", spacings: Iterable[float]
                    ) -> list[dict[str, float]]:
    """Relative L2 error of the forward output evaluated on uniform grids of different spacing.

    A trained PINN is a function of continuous time: there is no time step, so (unlike an integrator)
    its error should not depend on the grid it is sampled on.

    Parameters
    ----------
    model : torch.nn.Module
        A trained PINN.
    problem : str or NewtonProblem
        Its problem.
    spacings : iterable of float
        Grid spacings (tau).

    Returns
    -------
    list of dict
    """
    problem = get_problem(problem)
    rows = []
    for dt in spacings:
        n = int(round(problem.t_end / dt)) + 1
        t = np.linspace(0.0, problem.t_end, n)
        with torch.no_grad():
            x = model(torch.as_tensor(t, dtype=torch.float64, device=model.x0.device)).cpu().numpy()
        x_ref, _ = problem.reference(t)
        rows.append({"spacing": float(dt), "points": n,
                     "rel_l2": float(np.linalg.norm(x - x_ref) / np.linalg.norm(x_ref))})
    return rows


def verlet_dt_scan(problem: "str | NewtonProblem", dts: Iterable[float]) -> list[dict[str, Any]]:
    """Velocity Verlet error and energy drift versus dt; ``diverged`` where the core raises.

    Parameters
    ----------
    problem : str or NewtonProblem
        The problem.
    dts : iterable of float
        Time steps (tau).

    Returns
    -------
    list of dict
    """
    problem = get_problem(problem)
    rows = []
    for dt in dts:
        try:
            row = verlet_row(problem, dt)
            rows.append({"dt": float(dt), "rel_l2": row["rel L2 (forward)"], "energy_drift": row["energy drift"],
                         "status": "ok"})
        except SimulationDivergedError as exc:
            rows.append({"dt": float(dt), "rel_l2": float("nan"), "energy_drift": float("nan"),
                         "status": f"diverged at t = {exc.time:.3g}"})
    return rows


# -- the basis optimum ----------------------------------------------------------------------------------
def kernel_lstsq(problem: "str | NewtonProblem", config: "TrainConfig | None" = None, *, max_iter: int = 50,
                 tol: float = 1e-8, device: Any = "cpu", **overrides: Any) -> FitResult:
    """Least-squares / Gauss-Newton optimum of the training loss over the NP-SNN basis' coefficients.

    Minimises exactly the training loss of :func:`~npsnn_edu.spiking.training.physics_loss` (residual at the
    same collocation times + weighted initial conditions; causal weighting off, since at the optimum of a
    consistent problem it does not matter, and w_energy ignored) over y in x(t) = x0 + sum_k y_k G(t - t_k),
    for the knots and kernel width of ``config`` (``n_knots``, ``kernel_width``, ``n_colloc``, ``w_res``,
    ``w_ic``).  The residual is linear in y for the harmonic oscillator (the first Gauss-Newton step is the
    exact least-squares solve), nonlinear for Morse / LJ (Levenberg-Marquardt damped Gauss-Newton, at most
    ``max_iter`` iterations).  Returns a :class:`FitResult` whose model is a :class:`KernelCoefficients`
    holding the optimum, evaluated on the forward output like every other row; ``history.loss`` holds the
    loss after each iteration.

    Parameters
    ----------
    problem : str or NewtonProblem
        The problem.
    config : TrainConfig or None, default None
        Knots, kernel width, collocation and weights (None: defaults).
    max_iter : int, default 50
        Largest number of Gauss-Newton iterations.
    tol : float, default 1e-8
        Relative loss decrease that stops the iteration.
    device : str or torch.device, default "cpu"
        Where to solve.
    **overrides
        TrainConfig fields.

    Returns
    -------
    FitResult
    """
    problem = get_problem(problem)
    cfg = TrainConfig(**{**(config.__dict__ if config is not None else {}), "method": "kernel", **overrides})
    cfg = cfg.validate()
    max_iter = positive("max_iter", max_iter, integer=True)
    t_start = time.perf_counter()
    trainer = Trainer(problem, cfg, device=device)
    model = trainer.model
    scales = LossScales(problem)
    dev = trainer.device
    t = torch.as_tensor(training_times(problem.t_end, cfg.n_colloc), dtype=torch.float64, device=dev)
    t_all = torch.cat([t, torch.zeros(1, dtype=torch.float64, device=dev)])
    g0, g2 = model.kernel(t_all, 0), model.kernel(t_all, 2)
    g1_0 = model.kernel(t_all[-1:], 1)
    m = torch.as_tensor(problem.masses, dtype=torch.float64, device=dev)[:, None]
    x0 = model.x0
    v0 = torch.as_tensor(problem.v0, dtype=torch.float64, device=dev)
    n, n_out, shape = len(t), model.n_out, model.shape
    w_r = math.sqrt(cfg.w_res / (n * n_out))
    w_i = math.sqrt(cfg.w_ic / n_out)

    def residuals(y: torch.Tensor) -> torch.Tensor:
        x = x0 + (g0 @ y).reshape(-1, *shape)
        a = (g2 @ y).reshape(-1, *shape)
        _, f = problem.potential.energy_and_forces(x[:-1])
        r = ((m * a[:-1] - f) / scales.a).reshape(-1) * w_r
        r_x = ((x[-1] - x0) / scales.d).reshape(-1) * w_i
        r_v = (((g1_0 @ y).reshape(*shape) - v0) / scales.v).reshape(-1) * w_i
        return torch.cat([r, r_x, r_v])

    y = torch.zeros_like(model.y.detach())
    lam, losses = 1e-9, []
    r = residuals(y)
    loss = float(r @ r)

    def sum_of_squares(y_new: torch.Tensor) -> float:
        r_new = residuals(y_new)
        return float(r_new @ r_new)

    for _ in range(max_iter):
        jac = torch.autograd.functional.jacobian(residuals, y, vectorize=True).reshape(len(r), -1)
        jtj, jtr = jac.T @ jac, jac.T @ r
        accepted = levenberg_marquardt_step(
            lambda damping, jtj=jtj, jtr=jtr, y=y: y + damped_gauss_newton_step(jtj, jtr, damping).reshape(y.shape),
            sum_of_squares, loss, lam, max_tries=30, min_damping=1e-12)
        if accepted is None:
            break
        y_new, loss_new, lam = accepted
        rel = (loss - loss_new) / max(loss, 1e-300)
        y, r, loss = y_new, residuals(y_new), loss_new
        losses.append(loss)
        if rel < tol or loss < 1e-30:
            break
    with torch.no_grad():
        model.y.copy_(y)
    trainer.history.loss.extend(losses or [loss])
    trainer.history.step.extend(range(1, len(losses or [loss]) + 1))
    trainer.train_seconds = time.perf_counter() - t_start
    trainer.step = len(losses)
    metrics = trainer.trajectory_errors()
    return FitResult(trainer, metrics, trainer.train_seconds)


# -- seeds ----------------------------------------------------------------------------------------------
SPREAD_METRICS = ("rel_l2", "fd_residual", "energy_drift")


def seed_spread(problem: "str | NewtonProblem", method: str, n_steps: int, seeds: Iterable[int] = (0, 1, 2), *,
                device: Any = "cpu", **config: Any) -> dict[str, Any]:
    """Train ``method`` once per seed (same budget); median, min and max of each forward-output metric.

    Returns ``{"method", "seeds", "runs": [FitResult], "<metric>": [per seed], "<metric>_median", "_min",
    "_max", "seconds_median", "final_loss_median"}`` for the metrics rel_l2, fd_residual, energy_drift.

    Parameters
    ----------
    problem : str or NewtonProblem
        The problem.
    method : str
        A :func:`~.training.fit` method.
    n_steps : int
        Optimiser steps per run.
    seeds : iterable of int, default (0, 1, 2)
        Seeds.
    device : str or torch.device, default "cpu"
        Where to train.
    **config
        TrainConfig fields.

    Returns
    -------
    dict
    """
    seeds = [int(s) for s in seeds]
    if len(seeds) < 1:
        raise InvalidParameterError("seed_spread needs at least one seed (the house rule is >= 3)")
    problem = get_problem(problem)
    runs = [fit(problem, method, n_steps, device=device, seed=s, **config) for s in seeds]
    out: dict[str, Any] = {"method": method, "seeds": seeds, "runs": runs, "n_steps": int(n_steps)}
    for key in SPREAD_METRICS:
        vals = [float(r.metrics[key]) for r in runs]
        out[key] = vals
        out[f"{key}_median"], out[f"{key}_min"], out[f"{key}_max"] = (float(np.median(vals)), float(np.min(vals)),
                                                                       float(np.max(vals)))
    out["seconds"] = [float(r.seconds) for r in runs]
    out["seconds_median"] = float(np.median(out["seconds"]))
    out["final_loss_median"] = float(np.median([r.history.loss[-1] for r in runs]))
    return out


# -- hypothesis H ---------------------------------------------------------------------------------------
def hypothesis_h_scan(omegas: Iterable[float], n_knots: Iterable[int] = (32,), *, t_end: float = 4 * math.pi,
                      colloc_per_knot: int = 8, train_steps: int = 0, device: Any = "cpu") -> list[dict[str, Any]]:
    """Chapter 2's hypothesis H: does a continuous-time model escape the stiffness limit of a time step?

    For x'' = -omega^2 x, x(0) = 1, v(0) = 0 on a FIXED window [0, t_end] and each knot count K (knot
    spacing h = t_end / (K - 1)), report for every omega:

    * ``lstsq_rel_l2``: the forward-output error of the basis optimum (:func:`kernel_lstsq`): no model with
      this basis (NP-SNN, free coefficients) can do better on this loss;
    * ``kernel_rel_l2`` (only with ``train_steps`` > 0): the free coefficients trained with Adam (seed 0);
    * ``verlet_rel_l2`` and ``verlet_stable``: velocity Verlet at dt = h (the same time resolution);
    * ``omega_h``: omega * h, the number chapter 2 puts the limit on (Verlet: omega dt < 2).

    Collocation: ``colloc_per_knot`` points per knot spacing (so the loss itself resolves the oscillation).

    Parameters
    ----------
    omegas : iterable of float
        Angular frequencies (1/tau).
    n_knots : iterable of int, default (32,)
        Knot counts K.
    t_end : float, default 4 pi
        Window length (tau).
    colloc_per_knot : int, default 8
        Collocation points per knot spacing.
    train_steps : int, default 0
        Adam steps of the free coefficients (0: skip).
    device : str or torch.device, default "cpu"
        Where to solve.

    Returns
    -------
    list of dict
    """
    at_least("colloc_per_knot", colloc_per_knot, 1, integer=True)
    at_least("train_steps", train_steps, 0, integer=True)
    rows = []
    for k in n_knots:
        k = at_least("n_knots", k, 4, integer=True)
        h = float(t_end) / (k - 1)
        for om in omegas:
            om = positive("omega", om)
            prob = get_problem("harmonic", omega=om, t_end=t_end)
            cfg = dict(n_knots=k, n_colloc=colloc_per_knot * (k - 1), causal_eps=0.0)
            ls = kernel_lstsq(prob, **cfg, max_iter=2, device=device)
            row = {"omega": om, "n_knots": k, "h": h, "omega_h": om * h, "lstsq_rel_l2": ls.metrics["rel_l2"],
                   "lstsq_energy_drift": ls.metrics["energy_drift"]}
            if train_steps:
                row["kernel_rel_l2"] = fit(prob, "kernel", int(train_steps), device=device,
                                           eval_every=int(train_steps), **cfg).metrics["rel_l2"]
            try:
                v = verlet_row(prob, h)
                err = v["rel L2 (forward)"]
                row["verlet_rel_l2"], row["verlet_stable"] = err, bool(np.isfinite(err))
            except SimulationDivergedError:
                row["verlet_rel_l2"], row["verlet_stable"] = float("nan"), False
            if row["verlet_stable"] and row["verlet_rel_l2"] > 1e3:
                row["verlet_stable"] = False
            rows.append(row)
    return rows


def hypothesis_h_verdict(rows: list[dict[str, Any]], threshold: float = 1e-2) -> dict[str, Any]:
    """Where the accuracy falls: the largest omega h with lstsq error <= ``threshold`` and the smallest above it.

    Returns ``{"threshold", "last_ok_omega_h", "first_bad_omega_h", "verlet_limit": 2.0,
    "verlet_first_unstable_omega_h", "text"}`` (omega h over all knot counts).

    Parameters
    ----------
    rows : list of dict
        Output of :func:`hypothesis_h_scan`.
    threshold : float, default 0.01
        Error threshold.

    Returns
    -------
    dict
    """
    ok = [r["omega_h"] for r in rows if r["lstsq_rel_l2"] <= threshold]
    bad = [r["omega_h"] for r in rows if r["lstsq_rel_l2"] > threshold]
    unstable = [r["omega_h"] for r in rows if not r["verlet_stable"]]
    last_ok = max(ok) if ok else float("nan")
    first_bad = min(bad) if bad else float("nan")
    first_unstable = min(unstable) if unstable else float("nan")
    text = (f"the Gaussian-basis model (its best possible coefficients) stays below rel L2 {threshold:g} up to "
            f"omega h = {last_ok:.3g} and exceeds it from omega h = {first_bad:.3g}; velocity Verlet at dt = h "
            f"becomes unstable from omega h = {first_unstable:.3g} (theory: 2)")
    return {"threshold": threshold, "last_ok_omega_h": last_ok, "first_bad_omega_h": first_bad, "verlet_limit": 2.0,
            "verlet_first_unstable_omega_h": first_unstable, "text": text}


# -- what the spikes carry ------------------------------------------------------------------------------
def readout_contributions(model: Any) -> dict[str, Any]:
    """Split a (non-recurrent) ClockSNN's coefficients y_k into the part read from layer-2 SPIKES and the part
    read from layer-2 MEMBRANES (graded, non-binary), at its knots.

    Returns ``y_spike``, ``y_membrane`` (K, n_out; y = y_spike + y_membrane, bias in the membrane part),
    ``spike_variance_fraction`` = var(y_spike) / (var(y_spike) + var(y_membrane)) over knots and outputs,
    ``silent_fraction`` (layer-2 neurons that never fire at any knot and step) and ``spikes_layer2`` (total).

    Parameters
    ----------
    model : ClockSNN
        A trained, non-recurrent clock SNN.

    Returns
    -------
    dict
    """
    if not isinstance(model, ClockSNN) or model.recurrent:
        raise InvalidParameterError("readout_contributions needs a non-recurrent ClockSNN (method 'continuous')")
    hid = model.fc2.out_features
    with torch.no_grad():
        cur1 = model.fc1(model.encoding(model.knots))
        w = model.readout.weight
        y_s = torch.zeros(cur1.shape[0], w.shape[0], dtype=cur1.dtype, device=cur1.device)
        y_m = torch.zeros_like(y_s)
        fired = torch.zeros(hid, dtype=torch.bool, device=cur1.device)
        n_spikes = 0.0
        for _, s2, mem2 in lif_steps(model, cur1):
            y_s += s2 @ w[:, :hid].T
            y_m += mem2 @ w[:, hid:].T + model.readout.bias
            fired |= s2.bool().any(0)
            n_spikes += float(s2.sum())
        y_s, y_m = (y_s / model.num_steps).double(), (y_m / model.num_steps).double()
        check = model.coefficients()
    if not torch.allclose(y_s + y_m, check, atol=1e-5, rtol=1e-4):  # pragma: no cover - consistency guard
        raise RuntimeError("readout split does not add up to the model's coefficients")
    vs, vm = float(y_s.var()), float(y_m.var())
    return {"y_spike": y_s.cpu().numpy(), "y_membrane": y_m.cpu().numpy(),
            "spike_variance_fraction": vs / max(vs + vm, 1e-300), "silent_fraction": float(1 - fired.float().mean()),
            "spikes_layer2": n_spikes}
