"""Comparison helpers for the chapter-4 notebook: method table, time-grid dependence, Verlet dt scan."""
from __future__ import annotations

import time
from typing import Any, Iterable

import numpy as np
import torch

from ..errors import SimulationDivergedError
from .problems import NewtonProblem, make_problem
from .training import FitResult


def result_row(label: str, res: FitResult) -> dict[str, Any]:
    """One table row of a trained PINN (all errors from the forward output)."""
    m = res.metrics
    return {"method": label, "train loss": res.history.loss[-1] if res.history.loss else float("nan"),
            "rel L2 (forward)": m["rel_l2"], "FD residual": m["fd_residual"], "energy drift": m["energy_drift"],
            "train s": res.seconds, "spike rates": ", ".join(f"{r:.3f}" for r in m["spike_rates"]) or "-",
            "energy uJ / 1001 pts": m["energy_pJ"] / 1e6, "params": res.trainer.n_parameters}


def verlet_row(problem: "str | NewtonProblem", dt: float) -> dict[str, Any]:
    """Velocity Verlet (the core integrator) on the same problem: error against the reference at its steps."""
    problem = make_problem(problem)
    t0 = time.perf_counter()
    traj = problem.verlet(dt)
    wall = time.perf_counter() - t0
    x_ref, _ = problem.reference(traj.times)
    err = float(np.linalg.norm(traj.positions - x_ref) / np.linalg.norm(x_ref))
    return {"method": f"velocity Verlet dt={dt:g}", "train loss": float("nan"), "rel L2 (forward)": err,
            "FD residual": float("nan"), "energy drift": traj.energy_drift(), "train s": wall, "spike rates": "-",
            "energy uJ / 1001 pts": float("nan"), "params": 0}


def markdown_table(rows: Iterable[dict[str, Any]]) -> str:
    """Rows of dicts as a Markdown table (floats in 3 significant digits)."""
    rows = list(rows)
    cols = list(rows[0])
    fmt = lambda v: (f"{v:.3g}" if np.isfinite(v) else "-") if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def grid_dependence(model: torch.nn.Module, problem: "str | NewtonProblem", spacings: Iterable[float]
                    ) -> list[dict[str, float]]:
    """Relative L2 error of the forward output evaluated on uniform grids of different spacing.

    A trained PINN is a function of continuous time: there is no time step, so (unlike an integrator)
    its error should not depend on the grid it is sampled on.
    """
    problem = make_problem(problem)
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
    """Velocity Verlet error and energy drift versus dt; ``diverged`` where the core raises."""
    problem = make_problem(problem)
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
