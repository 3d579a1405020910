"""Closed-form reference solutions used to check simulations (and students)."""
from __future__ import annotations

import numpy as np

from .errors import InvalidParameterError


def harmonic_solution(t: np.ndarray, x0: float = 1.0, v0: float = 0.0, omega: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exact x(t), v(t) of x'' = -omega^2 x with x(0) = x0, x'(0) = v0."""
    if not np.isfinite(omega) or omega <= 0:
        raise InvalidParameterError(f"omega must be positive, got {omega!r}")
    t = np.asarray(t, dtype=float)
    x = x0 * np.cos(omega * t) + v0 / omega * np.sin(omega * t)
    v = -x0 * omega * np.sin(omega * t) + v0 * np.cos(omega * t)
    return x, v


def morse_period(energy: float, D_e: float, a: float, reduced_mass: float) -> float:
    """Exact period of a Morse oscillator u(r) = D_e[e^{-2a(r-r_e)} - 2e^{-a(r-r_e)}] at total energy E.

    E is measured with the potential's own zero (at dissociation), so -D_e < E < 0:
    T = 2 pi / (a sqrt(2 (-E) / mu)).  Small-amplitude limit: 2 pi / (a sqrt(2 D_e / mu)).
    """
    if not (-D_e < energy < 0):
        raise InvalidParameterError(f"a bound Morse orbit needs -D_e < E < 0, got E = {energy} (D_e = {D_e})")
    return float(2.0 * np.pi / (a * np.sqrt(2.0 * (-energy) / reduced_mass)))
