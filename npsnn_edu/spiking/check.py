"""Wrong answers said out loud: check a forward output against a fine-step velocity-Verlet run of the core.

A physics-informed network can reach a small training loss with a wrong trajectory (chapter 4's pitfall: a
barrier crossing that the time basis cannot hold, autograd through spikes).  The check costs one velocity-Verlet
run of the core (:func:`npsnn_edu.integrators.simulate`) at a step much finer than the grid, recorded on the
grid where the network is evaluated, and compares the two::

    error = ||x_net - x_verlet|| / ||x_verlet - x0||      (relative to the motion, over grid and coordinates)

(relative to the displacement from the start, so that a network that stays at x0 cannot pass by the size of
x0 alone).  Above ``tol`` the verdict is "do not trust" and a :class:`ForwardCheckWarning` names both numbers
(the error and the tolerance, with the training loss when given).  The velocity-Verlet run is an independent
method: the network never sees it in training.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..integrators import simulate
from ..validation import at_least, positive

__all__ = ["DEFAULT_TOL", "ForwardCheckWarning", "check_trajectory", "verlet_on_grid"]

#: Default tolerance of the check (relative L2 error against the motion): a trajectory within 5% is trusted.
DEFAULT_TOL = 0.05
#: Velocity-Verlet steps per window of the check's reference (at least; a multiple of the grid intervals).
CHECK_STEPS = 20_000


class ForwardCheckWarning(UserWarning):
    """The forward output of a trained network disagrees with a fine-step velocity-Verlet run of the core."""


def verlet_on_grid(potential: Any, x0: np.ndarray, v0: np.ndarray, masses: np.ndarray, t: np.ndarray,
                   min_steps: int = CHECK_STEPS) -> np.ndarray:
    """Core velocity Verlet recorded on the uniform grid ``t`` (t[0] = 0, ``(T,)`` in tau), sub-stepped to at
    least ``min_steps`` steps over the window.  Returns positions ``(T, N, D)`` (sigma).

    Parameters
    ----------
    potential : Potential
        Core potential.
    x0 : array of shape (n_atoms, n_dim)
        Initial positions (sigma).
    v0 : array of shape (n_atoms, n_dim)
        Initial velocities (sigma/tau).
    masses : array of shape (n_atoms,)
        Masses.
    t : array of shape (n_times,)
        Uniform grid from 0 (tau).
    min_steps : int, default 20000
        Least number of Verlet steps over the window.

    Returns
    -------
    array of shape (n_times, n_atoms, n_dim)
    """
    t = np.asarray(t, dtype=float)
    n_int = at_least("grid points", len(t), 2, integer=True) - 1
    sub = max(1, int(np.ceil(at_least("min_steps", min_steps, 1, integer=True) / n_int)))
    dt = float(t[-1] - t[0]) / (n_int * sub)
    traj = simulate(potential, x0, v0, dt=dt, n_steps=n_int * sub, masses=masses, record_every=sub, progress=False)
    return traj.positions[: len(t)]


def check_trajectory(x: np.ndarray, x_verlet: np.ndarray, x0: np.ndarray, *, tol: float = DEFAULT_TOL,
                     loss: float | None = None, label: str = "the network", warn: bool = True,
                     stacklevel: int = 2) -> dict[str, Any]:
    """Compare a forward output ``x`` ``(T, N, D)`` with the check's Verlet run on the same grid.

    Returns ``{"error", "tol", "trusted", "verdict", "reference"}``; warns (:class:`ForwardCheckWarning`) with
    both numbers when ``error > tol`` and ``warn`` (``stacklevel``: as in :func:`warnings.warn`, counted from the
    caller of this function).

    Parameters
    ----------
    x : array of shape (n_times, n_atoms, n_dim)
        Forward output (sigma).
    x_verlet : array of shape (n_times, n_atoms, n_dim)
        The check's Verlet run on the same grid.
    x0 : array of shape (n_atoms, n_dim)
        Initial positions (the error is relative to the motion x - x0).
    tol : float, default 0.05
        Tolerance.
    loss : float or None, default None
        Training loss, quoted in the warning.
    label : str, default "the network"
        Name in the warning.
    warn : bool, default True
        Warn when the check fails.
    stacklevel : int, default 2
        As in :func:`warnings.warn`.

    Returns
    -------
    dict
    """
    tol = positive("tol", tol, hint="the largest relative L2 error (against the motion) you accept, e.g. 0.05")
    x, x_verlet = np.asarray(x, dtype=float), np.asarray(x_verlet, dtype=float)
    motion = float(np.linalg.norm(x_verlet - np.asarray(x0)[None]))
    scale = max(motion, 1e-9 * max(float(np.linalg.norm(x_verlet)), 1.0))
    err = float(np.linalg.norm(x - x_verlet) / scale)
    trusted = bool(np.isfinite(err) and err <= tol)
    verdict = (f"check vs fine velocity Verlet: error {err:.2e} <= tolerance {tol:.0e}: trusted" if trusted else
               f"check vs fine velocity Verlet: error {err:.2e} > tolerance {tol:.0e}: DO NOT TRUST")
    if not trusted and warn:
        extra = f" although its training loss is {loss:.2e}" if loss is not None else ""
        warnings.warn(ForwardCheckWarning(
            f"{label}: the forward output differs from a fine-step velocity-Verlet run of the core by {err:.2e} "
            f"(relative L2 against the motion), above the tolerance {tol:.2e}{extra}; do not trust this "
            "trajectory (more knots, time-marching windows or a plain integrator fix it: see notebook 04c)"),
            stacklevel=stacklevel + 1)
    return {"error": err, "tol": float(tol), "trusted": trusted, "verdict": verdict,
            "reference": "velocity Verlet (core), >= 20000 steps per window"}
