"""Closed-form reference solutions used to check simulations (and students)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidParameterError
from .validation import positive

__all__ = ["harmonic_solution", "morse_period", "morse_solution"]


def harmonic_solution(t: np.ndarray, x0: float = 1.0, v0: float = 0.0,
                      omega: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact x(t), v(t) of x'' = -omega^2 x with x(0) = x0, x'(0) = v0.

    .. math::

        x(t) = x_0 \cos \omega t + \frac{v_0}{\omega} \sin \omega t, \qquad
        v(t) = -x_0 \omega \sin \omega t + v_0 \cos \omega t

    Parameters
    ----------
    t : array of shape (n_times,)
        Times (reduced: tau).
    x0 : float, default 1.0
        Initial position.
    v0 : float, default 0.0
        Initial velocity.
    omega : float, default 1.0
        Angular frequency sqrt(k/m) (1/tau).

    Returns
    -------
    x, v : arrays of shape (n_times,)
    """
    omega = positive("omega", omega, hint="angular frequency in 1/time")
    t = np.asarray(t, dtype=float)
    x = x0 * np.cos(omega * t) + v0 / omega * np.sin(omega * t)
    v = -x0 * omega * np.sin(omega * t) + v0 * np.cos(omega * t)
    return x, v


def morse_period(energy: float, D_e: float, a: float, reduced_mass: float) -> float:
    """Exact period of a Morse oscillator u(r) = D_e[e^{-2a(r-r_e)} - 2e^{-a(r-r_e)}] at total energy E.

    E is measured with the potential's own zero (at dissociation), so -D_e < E < 0:
    T = 2 pi / (a sqrt(2 (-E) / mu)).  Small-amplitude limit: 2 pi / (a sqrt(2 D_e / mu)).

    Parameters
    ----------
    energy : float
        Total energy E, -D_e < E < 0 (reduced: epsilon).
    D_e : float
        Well depth.
    a : float
        Inverse width (1/sigma).
    reduced_mass : float
        Reduced mass mu of the two atoms.

    Returns
    -------
    float
        Period T (reduced: tau).

    Raises
    ------
    InvalidParameterError
        E outside (-D_e, 0) (not a bound orbit).
    """
    if not (-D_e < energy < 0):
        raise InvalidParameterError(f"a bound Morse orbit needs -D_e < E < 0, got E = {energy} (D_e = {D_e})")
    return float(2.0 * np.pi / (a * np.sqrt(2.0 * (-energy) / reduced_mass)))


def morse_solution(t: Any, energy: float, *, D_e: float = 1.0, a: float = 1.0, r_e: float = 1.0,
                   reduced_mass: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Exact bond length r(t) and dr/dt of a Morse oscillator started at rest at its inner turning point.

    With eps = -E/D_e and omega_E = a sqrt(2 (-E) / mu):  exp(a (r - r_e)) = (1 - sqrt(1 - eps) cos(omega_E t)) / eps.
    (Period 2 pi / omega_E, as :func:`morse_period`.)

    Parameters
    ----------
    t : array of shape (n_times,)
        Times (reduced: tau).
    energy : float
        Total energy E, -D_e < E < 0.
    D_e : float, default 1.0
        Well depth.
    a : float, default 1.0
        Inverse width.
    r_e : float, default 1.0
        Equilibrium distance.
    reduced_mass : float, default 0.5
        Reduced mass mu (two unit masses: 0.5).

    Returns
    -------
    r, dr_dt : arrays of shape (n_times,)
        Bond length and its rate of change.

    Raises
    ------
    InvalidParameterError
        E outside (-D_e, 0) (not a bound orbit).
    """
    if not (-D_e < energy < 0):
        raise InvalidParameterError(f"a bound Morse orbit needs -D_e < E < 0, got E = {energy}")
    t = np.asarray(t, dtype=float)
    eps = -energy / D_e
    s = np.sqrt(1.0 - eps)
    w = a * np.sqrt(2.0 * (-energy) / reduced_mass)
    g = 1.0 - s * np.cos(w * t)
    r = r_e + np.log(g / eps) / a
    rdot = s * w * np.sin(w * t) / (a * g)
    return r, rdot
