"""Chapter 4 on systems it did not ship: four test cases, an independent reference, remedies for a barrier crossing.

* :data:`SYSTEM_CASES` - a start where the force vanishes (harmonic, x0 = 0, v0 = 1), a double well inside one
  well (the core's default start, also F(x0) = 0), a double well crossed over its barrier (x0 = 1.5 at rest,
  energy 1.5625 above the barrier 1), a Morse bond near dissociation (stretched to 90% of the well depth);
  :func:`system_problem` builds one (two periods each).
* :func:`solve_ivp_reference` - an independent reference: scipy's DOP853 Runge-Kutta at tight tolerances (not the
  core's velocity Verlet that the forward-output check uses).
* :func:`march_fit` - time-marching windows: the window is cut into ``n_windows`` pieces, each solved from the
  previous piece's end state (positions and exact derivative of the forward output).  The remedy that lets a
  Gaussian basis follow a barrier crossing.
* :func:`system_rows` - one system x {continuous, kernel, basis optimum, MLP, Verlet}, seeds, relative L2 of the
  forward output against :func:`solve_ivp_reference` and the check's verdict (what ``benchmarks/npsnn_systems.py``
  runs); :func:`load_systems_results` - the shipped full run.
"""
from __future__ import annotations

import time
from typing import Any, Iterable

import numpy as np
import torch
from scipy.integrate import quad, solve_ivp

from ..errors import InvalidParameterError, unknown_name
from ..precomputed import load_result
from ..validation import at_least, one_of
from .basis import eval_times
from .check import DEFAULT_TOL, check_trajectory
from .compare import kernel_lstsq
from .problems import NewtonProblem, get_problem
from .training import fit

__all__ = ["METHOD_LABELS", "SYSTEM_CASES", "double_well_period", "load_systems_results", "march_fit",
           "rel_l2", "solve_ivp_reference", "system_problem", "system_rows"]


def double_well_period(x0: float, v0: float = 0.0, barrier: float = 1.0, x_min: float = 1.0,
                       mass: float = 1.0) -> float:
    """Period (tau) of one particle in the double well E = barrier ((x / x_min)^2 - 1)^2 at energy
    E = 1/2 m v0^2 + U(x0) (quadrature of dt = dx / v between the turning points; above the barrier the motion
    spans both wells).  Raises InvalidParameterError at exactly the barrier energy (an infinite period).

    Parameters
    ----------
    x0 : float
        Initial position (sigma).
    v0 : float, default 0.0
        Initial velocity (sigma/tau).
    barrier : float, default 1.0
        Barrier height (epsilon).
    x_min : float, default 1.0
        Position of the minima (sigma).
    mass : float, default 1.0
        Mass.

    Returns
    -------
    float
        Period (tau).

    Raises
    ------
    InvalidParameterError
        Energy exactly at the barrier.
    """
    def u(x: float) -> float:
        return barrier * ((x / x_min) ** 2 - 1.0) ** 2

    e = 0.5 * mass * v0**2 + u(x0)
    if abs(e - barrier) < 1e-9 * barrier:
        raise InvalidParameterError("at exactly the barrier energy the period is infinite: change x0 or v0")
    x_out = x_min * np.sqrt(1.0 + np.sqrt(e / barrier))  # outer turning point
    if e > barrier:  # across: 4 * (time from 0 to the outer turning point)
        def f(th: float) -> float:
            x = x_out * np.sin(th)
            return x_out * np.cos(th) / np.sqrt(max(2.0 / mass * (e - u(x)), 1e-300))
        return 4.0 * quad(f, 0.0, np.pi / 2, limit=200)[0]
    x_in = x_min * np.sqrt(max(1.0 - np.sqrt(e / barrier), 0.0))  # inside one well: between x_in and x_out
    mid, half = 0.5 * (x_in + x_out), 0.5 * (x_out - x_in)

    def g(th: float) -> float:
        x = mid + half * np.sin(th)
        return half * np.cos(th) / np.sqrt(max(2.0 / mass * (e - u(x)), 1e-300))
    return 2.0 * quad(g, -np.pi / 2, np.pi / 2, limit=200)[0]


#: name -> (description, builder keywords of get_problem); the span is two periods of each motion.
SYSTEM_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "harmonic_at_equilibrium": ("harmonic, x0 = 0, v0 = 1: F(x0) = 0", {"name": "harmonic", "x0": 0.0, "v0": 1.0,
                                                                        "periods": 2.0}),
    "double_well_inside": ("double well, x0 = 1, v0 = 0.5: inside one well, F(x0) = 0",
                           {"name": "double-well", "x0": 1.0, "v0": 0.5}),
    "double_well_across": ("double well, x0 = 1.5 at rest: across the barrier",
                           {"name": "double-well", "x0": 1.5, "v0": 0.0}),
    "morse_near_dissociation": ("Morse, stretched 2.9 at rest: E = 0.89 D_e above the minimum",
                                {"name": "morse", "stretch": 2.9, "velocity": 0.0, "periods": 2.0}),
}

#: method key -> row label of the table.
METHOD_LABELS = {"continuous": "NP-SNN (ClockSNN)", "kernel": "kernel-only (free y_k)",
                 "lstsq": "basis optimum (LS/GN)", "mlp": "MLP-PINN (tanh)", "verlet": "velocity Verlet, 200 steps"}


def system_problem(name: str) -> NewtonProblem:
    """The problem of a :data:`SYSTEM_CASES` entry over two periods of its motion.

    Parameters
    ----------
    name : str
        A key of :data:`SYSTEM_CASES`.

    Returns
    -------
    NewtonProblem

    Raises
    ------
    UnknownNameError
        An unknown case.
    """
    if name not in SYSTEM_CASES:
        raise unknown_name("system case", name, list(SYSTEM_CASES))
    kw = dict(SYSTEM_CASES[name][1])
    builder = kw.pop("name")
    if builder == "double-well":
        kw["t_end"] = 2.0 * double_well_period(kw["x0"], kw["v0"])
    return get_problem(builder, **kw)


def solve_ivp_reference(problem: NewtonProblem, t: Any) -> np.ndarray:
    """Positions ``(T, N, D)`` at times ``t`` (tau, from 0) by scipy DOP853 (rtol 1e-11, atol 1e-12 sigma): an
    independent reference for every problem (the core velocity Verlet is what the forward-output check uses).

    Parameters
    ----------
    problem : NewtonProblem
        The problem.
    t : array of shape (n_times,)
        Times (tau), from 0.

    Returns
    -------
    array of shape (n_times, n_atoms, n_dim)
    """
    t = np.asarray(t, dtype=float)
    n = problem.x0.size
    shape = problem.x0.shape
    inv_m = np.repeat(1.0 / problem.masses, shape[1])

    def rhs(_: float, y: np.ndarray) -> np.ndarray:
        f = problem.potential.forces(y[:n].reshape(shape)).reshape(-1)
        return np.concatenate([y[n:], f * inv_m])

    y0 = np.concatenate([problem.x0.reshape(-1), problem.v0.reshape(-1)])
    sol = solve_ivp(rhs, (0.0, float(t[-1])), y0, method="DOP853", t_eval=t, rtol=1e-11, atol=1e-12)
    if not sol.success:  # pragma: no cover - DOP853 on these smooth problems
        raise InvalidParameterError(f"solve_ivp failed: {sol.message}")
    return sol.y[:n].T.reshape(len(t), *shape)


def rel_l2(x: np.ndarray, x_ref: np.ndarray) -> float:
    """||x - x_ref|| / ||x_ref|| over grid and coordinates.

    Parameters
    ----------
    x : array of shape (n_times, n_atoms, n_dim)
        Trajectory.
    x_ref : array of shape (n_times, n_atoms, n_dim)
        Reference.

    Returns
    -------
    float
    """
    return float(np.linalg.norm(np.asarray(x) - x_ref) / np.linalg.norm(x_ref))


def march_fit(problem: NewtonProblem, n_windows: int, method: str = "lstsq", n_steps: int = 1000, *,
              n_eval: int = 1001, tol: float = DEFAULT_TOL, device: Any = "cpu", **config: Any) -> dict[str, Any]:
    """Time-marching windows: solve ``[0, t_end]`` as ``n_windows`` consecutive windows, each started from the
    previous window's end state (the forward output and its exact time derivative there).

    ``method``: ``"lstsq"`` (the basis optimum per window, :func:`~.compare.kernel_lstsq`) or a ``fit`` method
    (``"kernel"``, ``"continuous"``, ``"mlp"``; ``n_steps`` Adam steps per window); ``config``: TrainConfig fields
    for every window (e.g. ``n_knots``).  Returns the forward output on ``n_eval`` uniform times over the whole
    span, its relative L2 against :func:`solve_ivp_reference`, the check's verdict against the fine Verlet, and the
    seconds spent.

    Parameters
    ----------
    problem : NewtonProblem
        The problem.
    n_windows : int
        Consecutive windows.
    method : str, default "lstsq"
        ``"lstsq"`` or a :func:`~.training.fit` method.
    n_steps : int, default 1000
        Adam steps per window (trained methods).
    n_eval : int, default 1001
        Points of the output grid.
    tol : float, default 0.05
        Tolerance of the forward-output check.
    device : str or torch.device, default "cpu"
        Where to train.
    **config
        TrainConfig fields for every window.

    Returns
    -------
    dict
    """
    n_windows = at_least("n_windows", n_windows, 1, integer=True)
    t_all = eval_times(problem.t_end, n_eval)
    t_win = problem.t_end / n_windows
    x_all = np.empty((n_eval, *problem.x0.shape))
    x0, v0 = problem.x0.copy(), problem.v0.copy()
    start = time.perf_counter()
    for w in range(n_windows):
        sub = NewtonProblem(f"{problem.name} window {w}", problem.potential, x0, v0, problem.masses, t_win,
                            ref_dt=problem.ref_dt)
        if method == "lstsq":
            res = kernel_lstsq(sub, device=device, **config)
        else:
            res = fit(sub, method, n_steps, device=device, check=False, eval_every=n_steps, **config)
        model = res.model
        lo, hi = w * t_win, (w + 1) * t_win
        mask = (t_all >= lo - 1e-12) & ((t_all < hi - 1e-12) if w < n_windows - 1 else (t_all <= hi + 1e-12))
        t_loc = torch.as_tensor(np.clip(t_all[mask] - lo, 0.0, t_win), dtype=torch.float64, device=model.x0.device)
        t_end = torch.tensor([t_win], dtype=torch.float64, device=model.x0.device)
        with torch.no_grad():
            x_all[mask] = model(t_loc).cpu().numpy()
        x0, v0 = _end_state(model, t_end, t_win)
    seconds = time.perf_counter() - start
    x_ref = solve_ivp_reference(problem, t_all)
    chk = check_trajectory(x_all, problem.check_reference(t_all), problem.x0, tol=tol, warn=False)
    return {"n_windows": n_windows, "method": method, "times": t_all, "x": x_all, "x_ref": x_ref,
            "rel_l2": rel_l2(x_all, x_ref), "check": chk, "seconds": seconds}


def _end_state(model: torch.nn.Module, t_end: torch.Tensor, t_win: float) -> tuple[np.ndarray, np.ndarray]:
    """Position and velocity of the forward output at the window's end (exact kernel derivative where the model
    has one, else a one-sided 4th-order finite difference of the forward output)."""
    if hasattr(model, "derivatives"):
        with torch.no_grad():
            x, v, _ = model.derivatives(t_end)
        return x[0].cpu().numpy().copy(), v[0].cpu().numpy().copy()
    h = 1e-3 * t_win
    ts = t_end - h * torch.arange(5, dtype=torch.float64, device=t_end.device)
    with torch.no_grad():
        xs = model(ts).cpu().numpy()
    v = (25 * xs[0] - 48 * xs[1] + 36 * xs[2] - 16 * xs[3] + 3 * xs[4]) / (12 * h)
    return xs[0].copy(), v


def system_rows(name: str, methods: Iterable[str] = tuple(METHOD_LABELS), seeds: Iterable[int] = (0, 1, 2), *,
                steps: "dict[str, int] | None" = None, verlet_steps: int = 200, tol: float = DEFAULT_TOL,
                device: Any = "cpu", log: Any = None) -> list[dict[str, Any]]:
    """One row per (method, seed) of :data:`SYSTEM_CASES` ``name``: relative L2 of the forward output against the
    solve_ivp reference on the 1001-point grid, the check's error and verdict (fine Verlet), final training
    loss, seconds.  ``steps``: Adam steps per trained method (default 1000 each).

    Parameters
    ----------
    name : str
        A key of :data:`SYSTEM_CASES`.
    methods : iterable of str
        Methods (``"continuous"``, ``"kernel"``, ``"lstsq"``, ``"mlp"``, ``"verlet"``).
    seeds : iterable of int, default (0, 1, 2)
        Seeds.
    steps : dict of str to int or None, default None
        Adam steps per trained method (default 1000).
    verlet_steps : int, default 200
        Verlet steps over the window.
    tol : float, default 0.05
        Tolerance of the check.
    device : str or torch.device, default "cpu"
        Where to train.
    log : callable or None, default None
        Receives progress lines.

    Returns
    -------
    list of dict
    """
    problem = system_problem(name)
    steps = {"continuous": 1000, "kernel": 1000, "mlp": 1000, **(steps or {})}
    t = eval_times(problem.t_end, 1001)
    x_ref = solve_ivp_reference(problem, t)
    rows = []
    for method in methods:
        if method not in METHOD_LABELS:
            raise unknown_name("method", method, list(METHOD_LABELS))
        for seed in ([0] if method in ("lstsq", "verlet") else seeds):
            start = time.perf_counter()
            if method == "verlet":
                traj = problem.verlet(problem.t_end / verlet_steps)
                x, tt, loss = traj.positions, traj.times, float("nan")
                err = rel_l2(x, solve_ivp_reference(problem, tt))
            else:
                res = kernel_lstsq(problem, device=device) if method == "lstsq" else fit(
                    problem, method, steps[method], device=device, check=False, seed=int(seed),
                    eval_every=steps[method])
                x, tt, loss = res.metrics["x"], t, float(res.history.loss[-1])
                err = rel_l2(x, x_ref)
            chk = check_trajectory(x, problem.check_reference(tt), problem.x0, tol=tol, warn=False)
            row = {"system": name, "method": method, "label": METHOD_LABELS[method], "seed": int(seed),
                   "rel_l2_ivp": err, "check_error": chk["error"], "trusted": chk["trusted"], "train_loss": loss,
                   "seconds": time.perf_counter() - start,
                   "steps": 0 if method in ("lstsq", "verlet") else int(steps[method])}
            rows.append(row)
            if log is not None:
                log(f"[{name}] {row['label']:28s} seed {seed}: rel L2 (solve_ivp) {err:.2e} | check "
                    f"{chk['error']:.2e} {'trusted' if chk['trusted'] else 'DO NOT TRUST'} | loss {loss:.2e} | "
                    f"{row['seconds']:.1f} s")
    return rows


def summarize_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median and range over seeds per (system, method), with the verdicts."""
    out = []
    keys = list(dict.fromkeys((r["system"], r["method"]) for r in rows))
    for sys_, meth in keys:
        sel = [r for r in rows if r["system"] == sys_ and r["method"] == meth]
        errs = [r["rel_l2_ivp"] for r in sel]
        out.append({"system": sys_, "method": METHOD_LABELS[meth], "seeds": len(sel),
                    "rel L2 vs solve_ivp (median)": float(np.median(errs)), "min": float(np.min(errs)),
                    "max": float(np.max(errs)), "check error (median)": float(np.median([r["check_error"]
                                                                                         for r in sel])),
                    "trusted": f"{sum(r['trusted'] for r in sel)}/{len(sel)}",
                    "train loss (median)": float(np.median([r["train_loss"] for r in sel]))})
    return out


def load_systems_results(mode: str = "full") -> dict[str, Any]:
    """The shipped result of ``benchmarks/npsnn_systems.py`` (``mode`` "full" or "quick"): ``{"rows", "remedies",
    "_command"}``.

    Parameters
    ----------
    mode : {"full", "quick"}, default "full"
        Which shipped result.

    Returns
    -------
    dict
    """
    res = load_result(f"npsnn_systems_{one_of('mode', mode, ('full', 'quick'))}")
    return {**res.data, "_command": res.command, "_date": res.provenance.get("date", "")}
