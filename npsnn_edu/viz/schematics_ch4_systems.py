"""Explanatory figures (schematics) of chapter 4's going-further notebook 04c (any system, and when to trust it).

* :func:`zero_force_scale` - Figure 4c.1: why the loss scale cannot come from the force at the start: a start at
  the bottom of a well has F(x0) = 0, yet the motion it starts reaches forces as large as any other start of the
  same energy; the scale is taken from the largest |F| along a cheap probe run instead;
* :func:`barrier_windows` - Figure 4c.3: a trajectory that crosses a barrier within one window (too many turns for
  one smooth basis) and the same trajectory cut into time-marching windows, each started from the previous
  window's end state;
* :func:`forward_output_check` - Figure 4c.2: the forward-output check: the network's output next to a fine-step
  velocity Verlet run, the error relative to the motion, and the verdict against a tolerance.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or written to disk).  The curves are
computed with the kit's own rules (the core double well, scipy's solve_ivp for the drawn trajectories, the check's
formula of :mod:`npsnn_edu.spiking.check`); tests/test_schematics_ch4_systems.py checks them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..potentials import DoubleWell

__all__ = ["barrier_windows", "forward_output_check", "double_well_trajectory", "zero_force_scale"]


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use(matplotlib.get_backend())  # keep the notebook's inline backend
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def double_well_trajectory(x0: float, v0: float, t_end: float, n: int = 801, barrier: float = 1.0
                           ) -> tuple[np.ndarray, np.ndarray]:
    """(t, x) of one particle (m = 1) in the core double well E = barrier (x^2 - 1)^2 (scipy DOP853).

    Parameters
    ----------
    x0 : float
        Initial position (sigma).
    v0 : float
        Initial velocity (sigma/tau).
    t_end : float
        Length (tau).
    n : int, default 801
        Output points.
    barrier : float, default 1.0
        Barrier height (epsilon).

    Returns
    -------
    t : array of shape (n,)
    x : array of shape (n,)
    """
    from scipy.integrate import solve_ivp

    pot = DoubleWell(barrier=barrier)
    t = np.linspace(0.0, t_end, n)

    def rhs(_: float, y: np.ndarray) -> list[float]:
        return [y[1], float(pot.forces(np.array([[y[0]]]))[0, 0])]

    sol = solve_ivp(rhs, (0.0, t_end), [x0, v0], t_eval=t, method="DOP853", rtol=1e-10, atol=1e-12)
    return t, sol.y[0]


def zero_force_scale() -> Any:
    """Figure 4c.1: a start with F(x0) = 0 and the forces along the motion it starts (harmonic well, k = m = 1)."""
    fig, (ax_u, ax_f) = _figure(9.0, 3.4, 2)
    x = np.linspace(-1.4, 1.4, 300)
    ax_u.plot(x, 0.5 * x**2, color="0.3")
    ax_u.axhline(0.5, color="tab:orange", ls="--", lw=1)
    ax_u.plot([0.0], [0.0], "o", color="tab:red", ms=9, label="start x0 = 0, v0 = 1: F(x0) = 0")
    ax_u.plot([1.0], [0.5], "s", color="tab:blue", ms=8, label="start x0 = 1, v0 = 0: |F(x0)| = 1")
    ax_u.annotate("same energy", (1.25, 0.5), (0.55, 0.8), arrowprops=dict(arrowstyle="->", color="tab:orange"),
                  color="tab:orange")
    ax_u.set(title="Two starts, one motion", xlabel="x (sigma)", ylabel="U(x) (epsilon)", ylim=(-0.1, 1.05))
    ax_u.legend(loc="upper center", fontsize=8, frameon=False)
    t = np.linspace(0.0, 2 * np.pi, 200)
    force = -np.sin(t)  # x = sin t from the red start: F = -x
    ax_f.plot(t, np.abs(force), color="tab:red", label="|F(x(t))| along the motion")
    ax_f.axhline(1e-3, color="0.5", ls=":", label="old scale: |F(x0)|, floored")
    ax_f.axhline(np.max(np.abs(force)), color="tab:green", ls="--", label="new scale: max |F| of a probe run")
    ax_f.set(title="The scale the residual is divided by", xlabel="t (tau)", ylabel="|F| (epsilon / sigma)",
             yscale="log", ylim=(5e-4, 3.0))
    ax_f.legend(loc="lower right", fontsize=8, frameon=False)
    return fig


def barrier_windows(n_windows: int = 4) -> Any:
    """Figure 4c.3: a barrier crossing in one window, and cut into ``n_windows`` time-marching windows.

    Parameters
    ----------
    n_windows : int, default 4
        Time-marching windows.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from ..spiking.systems import double_well_period

    t_end = 2.0 * double_well_period(1.5, 0.0)
    t, x = double_well_trajectory(1.5, 0.0, t_end)
    fig, (ax_u, ax_t) = _figure(9.6, 3.4, 2)
    xs = np.linspace(-1.7, 1.7, 300)
    ax_u.plot(xs, (xs**2 - 1) ** 2, color="0.3")
    ax_u.axhline(1.5625, color="tab:orange", ls="--", lw=1, label="energy of the start (above the barrier)")
    ax_u.plot([1.5], [1.5625], "o", color="tab:red", ms=8)
    ax_u.set(title="Double well: the start crosses the barrier", xlabel="x (sigma)", ylabel="U(x) (epsilon)",
             ylim=(-0.1, 2.2))
    ax_u.legend(loc="upper center", fontsize=8, frameon=False)
    ax_t.plot(t, x, color="tab:blue", lw=1.8, label="x(t): four turns in one window")
    edges = np.linspace(0.0, t_end, n_windows + 1)
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        ax_t.axvspan(lo, hi, color="0.92" if k % 2 else "0.84", zorder=0)
        if k:
            xi = float(np.interp(lo, t, x))
            ax_t.plot([lo], [xi], "o", color="tab:red", ms=6)
    ax_t.annotate("end state = next window's start", (edges[1], float(np.interp(edges[1], t, x))),
                  (edges[1] + 0.3, 1.75), arrowprops=dict(arrowstyle="->", color="tab:red"), color="tab:red",
                  fontsize=8)
    ax_t.set(title=f"Time-marching: {n_windows} windows, each a short problem", xlabel="t (tau)", ylabel="x (sigma)",
             ylim=(-2.0, 2.2))
    ax_t.legend(loc="lower left", fontsize=8, frameon=False)
    return fig


def forward_output_check(tol: float = 0.05) -> Any:
    """Figure 4c.2: a wrong network output stays in one well while the fine Verlet run crosses: the check's error
    (relative to the motion) and its verdict.

    Parameters
    ----------
    tol : float, default 0.05
        Tolerance of the check.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from ..spiking.check import check_trajectory
    from ..spiking.systems import double_well_period

    t_end = 2.0 * double_well_period(1.5, 0.0)
    t, x = double_well_trajectory(1.5, 0.0, t_end)
    _, x_wrong = double_well_trajectory(1.5, -0.9, t_end, barrier=1.6)  # a plausible-looking wrong answer
    chk = check_trajectory(x_wrong[:, None, None], x[:, None, None], np.array([[1.5]]), tol=tol, warn=False)
    fig, ax = _figure(8.0, 3.2)
    ax.plot(t, x, color="0.2", lw=2.2, label="fine-step velocity Verlet (the check's reference)")
    ax.plot(t, x_wrong, color="tab:red", lw=1.6, label="network forward output (small training loss)")
    ax.fill_between(t, x, x_wrong, color="tab:red", alpha=0.15)
    word = "trusted" if chk["trusted"] else "DO NOT TRUST"
    ax.text(0.99, 0.04, f"error ||x - x_V|| / ||x_V - x0|| = {chk['error']:.2f} > tolerance {tol:g}: {word}",
            transform=ax.transAxes, ha="right", fontsize=9, color="tab:red")
    ax.set(title="The forward-output check", xlabel="t (tau)", ylabel="x (sigma)", ylim=(-2.3, 2.4))
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig
