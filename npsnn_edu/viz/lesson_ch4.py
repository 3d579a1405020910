"""Helpers of chapter 4's lab notebook (04_spiking_pinn): run sizes per mode, the comparison table of section 5,
the probe of Exercise 4.2, the omega grid of the hypothesis-H scan and a legend placement that reads at 1366 px.

The sizes live here (not in the notebook) so that tests/test_lesson_ch4.py runs exactly the classroom-size calls the
notebook makes and checks every ordering and threshold its text states. Times in tau (reduced LJ units), positions
in sigma; errors are relative L2 errors of the forward output on a dense grid not used in training.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..config import pick
from ..errors import InvalidParameterError
from ..precomputed import load_result

__all__ = ["LAB_SIZES", "lab_size", "omegas_for", "velocity_probe", "spike_comparison", "shipped_seed_rows",
           "display_rows", "legend_below", "H_WINDOW"]

#: Optimiser steps and scan grids of the lab, per run mode (full / classroom / fast).
LAB_SIZES: dict[str, dict[str, Any]] = {
    "steps": dict(full=400, classroom=120, fast=30),  # Adam steps of the spiking network (NP-SNN) and the tanh MLP
    "naive_steps": dict(full=200, classroom=60, fast=20),  # Adam steps of the naive spiking PINN
    "kernel_steps": dict(full=4000, classroom=1000, fast=200),  # free coefficients: cheap steps, many of them
    "omega_h": dict(full=(0.5, 1.0, 1.5, 1.8, 1.9, 2.0, 2.1, 2.2, 2.4, 3.0),
                    classroom=(0.5, 1.0, 1.5, 1.9, 2.0, 2.1, 2.3), fast=(0.5, 1.9, 2.1)),
    "h_knots": dict(full=(16, 32, 64), classroom=(32, 64), fast=(32,)),
}

#: The fixed time window of the hypothesis-H scan (tau): two periods of the omega = 1 oscillator.
H_WINDOW = 4 * math.pi


def lab_size(name: str, mode: "str | None" = None) -> Any:
    """The size ``name`` of :data:`LAB_SIZES` for ``mode`` (None: the mode in force, as ``config.pick``).

    Parameters
    ----------
    name : str
        A key of :data:`LAB_SIZES`.
    mode : str or None, default None
        Run mode (None: the mode in force).

    Returns
    -------
    object

    Raises
    ------
    InvalidParameterError
        An unknown size name or mode.
    """
    if name not in LAB_SIZES:
        raise InvalidParameterError(f"unknown lab size {name!r}; choose one of {sorted(LAB_SIZES)}")
    sizes = LAB_SIZES[name]
    if mode is None:
        return pick(full=sizes["full"], classroom=sizes["classroom"], fast=sizes["fast"])
    if mode not in sizes:
        raise InvalidParameterError(f"mode must be 'full', 'classroom' or 'fast', got {mode!r}")
    return sizes[mode]


def omegas_for(omega_h: Iterable[float], n_knots: int, t_end: float = H_WINDOW) -> list[float]:
    """Angular frequencies (1/tau) that put omega * h at the given values for ``n_knots`` knots on [0, t_end]
    (knot spacing h = t_end / (n_knots - 1), as in :func:`npsnn_edu.spiking.compare.hypothesis_h_scan`).

    Parameters
    ----------
    omega_h : iterable of float
        Target values of omega h.
    n_knots : int
        Knot count K.
    t_end : float, default 4 pi
        Window length (tau).

    Returns
    -------
    list of float
    """
    if n_knots < 4:
        raise InvalidParameterError(f"n_knots must be at least 4, got {n_knots}")
    h = float(t_end) / (n_knots - 1)
    return [float(v) / h for v in omega_h]


def velocity_probe(model: Any, t: Any, mode: str) -> tuple[Any, np.ndarray]:
    """For Exercise 4.2: ``(x_fn, v_reported)`` of a one-dimensional network output.

    ``x_fn(t)`` runs the FORWARD pass only (numpy times in tau -> numpy positions in sigma); ``v_reported`` is the
    velocity the model reports at ``t`` by ``mode`` (``"autograd"`` through the network, ``"analytic"`` for models
    with exact derivatives), as a numpy array.

    Parameters
    ----------
    model : torch.nn.Module
        A network with one output coordinate.
    t : array of shape (n_times,)
        Times (tau).
    mode : {"autograd", "analytic"}
        How the model reports its velocity.

    Returns
    -------
    x_fn : callable
        Forward pass, times (tau) to positions (sigma).
    v_reported : array of shape (n_times,)
        Reported velocity (sigma/tau).
    """
    import torch

    from ..spiking.derivatives import time_derivatives

    dev = model.x0.device

    def x_fn(s: Any) -> np.ndarray:
        with torch.no_grad():
            tt = torch.as_tensor(np.asarray(s, dtype=float), dtype=torch.float64, device=dev)
            return model(tt).double().cpu().numpy().reshape(len(tt), -1)[:, 0]

    tt = torch.as_tensor(np.asarray(t, dtype=float), dtype=torch.float64, device=dev)
    _, v, _ = time_derivatives(model, tt, mode)
    return x_fn, v.detach().double().cpu().numpy().reshape(len(tt), -1)[:, 0]


def spike_comparison(problem: Any, npsnn: Any, naive: Any, steps: int, kernel_steps: int, *, device: Any,
                     seed: int = 0) -> dict[str, Any]:
    """Section 5's table: what do the spikes add to the Gaussian basis?

    ``npsnn`` and ``naive`` are trained fits (:func:`npsnn_edu.spiking.fit`) of ``problem``. Trains the free
    coefficients of the same basis for ``steps`` and for ``kernel_steps`` Adam steps and the tanh MLP for ``steps``
    (same seed, loss and settings), solves the basis optimum and runs velocity Verlet. Returns ``{"rows": [...],
    "fits": {...}}``; each row has the method, the relative L2 error of the forward output and the training seconds.

    Parameters
    ----------
    problem : NewtonProblem
        The problem.
    npsnn : FitResult
        A trained NP-SNN fit.
    naive : FitResult
        A trained naive fit.
    steps : int
        Adam steps of the comparison fits.
    kernel_steps : int
        Second, longer budget of the free coefficients.
    device : str or torch.device
        Where to train.
    seed : int, default 0
        Seed.

    Returns
    -------
    dict
    """
    from ..spiking import fit
    from ..spiking.compare import kernel_lstsq, result_row, verlet_row

    fits = {
        "npsnn": npsnn,
        "kernel_same_steps": fit(problem, "kernel", steps, device=device, eval_every=steps, seed=seed),
        "kernel_more_steps": fit(problem, "kernel", kernel_steps, device=device, eval_every=kernel_steps, seed=seed),
        "optimum": kernel_lstsq(problem, device=device),
        "mlp": fit(problem, "mlp", steps, device=device, eval_every=steps, seed=seed),
        "naive": naive,
    }
    labels = {"npsnn": f"(a) spiking network (NP-SNN), {steps} steps",
              "kernel_same_steps": f"(b) free coefficients, {steps} steps",
              "kernel_more_steps": f"(b') free coefficients, {kernel_steps} steps",
              "optimum": "(c) basis optimum (one least-squares solve)",
              "mlp": f"(d) tanh MLP-PINN, {steps} steps",
              "naive": "(e) naive spiking PINN (autograd)"}
    rows = [result_row(labels[k], fits[k]) for k in labels]
    rows += [verlet_row(problem, 0.1), verlet_row(problem, 0.01)]
    return {"rows": rows, "fits": fits}


def shipped_seed_rows() -> dict[str, Any]:
    """The shipped 3-seed, 1000-step result (``npsnn_harmonic_seeds``) as table rows (median [min, max]) plus the
    ratio of the spiking network's median error to the free coefficients' median error, and its command."""
    shipped = load_result("npsnn_harmonic_seeds")
    d = shipped.data

    def spread(v: list[float]) -> str:
        return f"{np.median(v):.1e} [{min(v):.1e}, {max(v):.1e}]"

    rows = [{"method": "(a) spiking network (NP-SNN)", "rel L2 median [range]": spread(d["seed_rel_l2"])},
            {"method": "(b) free coefficients", "rel L2 median [range]": spread(d["kernel_only_seed_rel_l2"])},
            {"method": "(c) basis optimum", "rel L2 median [range]": f"{d['lstsq_rel_l2']:.1e}"},
            {"method": "(d) tanh MLP-PINN", "rel L2 median [range]": spread(d["mlp_seed_rel_l2"])},
            {"method": "(e) naive spiking PINN", "rel L2 median [range]": spread(d["naive_seed_rel_l2"])},
            {"method": "Verlet dt = 0.01", "rel L2 median [range]": f"{d['verlet_rel_l2']['0.01']:.1e}"}]
    ratio = float(np.median(d["seed_rel_l2"]) / np.median(d["kernel_only_seed_rel_l2"]))
    return {"rows": rows, "ratio": ratio, "steps": d["steps"], "seeds": shipped.provenance["seeds"],
            "command": shipped.command}


def legend_below(fig: Any, rows: int = 1) -> Any:
    """Move a plotly figure's legend to the bottom edge of the figure (horizontal, left-aligned, in container
    coordinates), under the x-axis title, so that it never covers the title, the axis titles or the curves; the
    bottom margin grows to hold ``rows`` rows of legend entries. Returns the figure.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (changed in place).
    rows : int, default 1
        Rows of legend entries.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if rows < 1:
        raise InvalidParameterError(f"rows must be at least 1, got {rows}")
    extra = 24 * rows
    fig.update_layout(legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.0, xanchor="left", x=0.0),
                      margin=dict(b=70 + extra), height=(fig.layout.height or 380) + extra)
    return fig


def display_rows(rows: Iterable[dict[str, Any]], nan_text: "dict[str, str] | None" = None,
                 default: str = "-") -> list[dict[str, Any]]:
    """Copies of ``rows`` for display: every NaN or None value becomes a word (``nan_text[column]``, else
    ``default``), so that a table never shows a raw NaN (e.g. ``{"verlet_rel_l2": "diverged"}``).

    Parameters
    ----------
    rows : iterable of dict
        Table rows.
    nan_text : dict of str to str or None, default None
        Word per column for missing values.
    default : str, default "-"
        Word for other missing values.

    Returns
    -------
    list of dict
    """
    words = dict(nan_text or {})
    out = []
    for row in rows:
        clean = {}
        for key, value in row.items():
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            clean[key] = words.get(key, default) if missing else value
        out.append(clean)
    return out
