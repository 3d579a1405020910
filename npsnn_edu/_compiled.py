"""Compiled (numba) pair loop of the Lennard-Jones hot path: the same numbers as the NumPy code, one pass.

The NumPy version of :meth:`npsnn_edu.potentials.PairPotential._single_energy_and_forces` makes about fifteen
array passes per step; at a hundred atoms the per-call cost of each pass, not the arithmetic, sets the speed.
This loop visits each pair once (minimum image, cutoff, shifted energy, force on both partners), so the step
costs what the arithmetic costs. It is used by :class:`npsnn_edu.potentials.LennardJones` when numba imports
(``backend="auto"``, the default) and can be switched off with ``backend="numpy"``; both are tested against
each other and against ASE.

Compiled once per machine (numba's on-disk cache), a few seconds the first time. ``error_model="numpy"``: a
division by r = 0 gives inf, as in NumPy, and the caller reports the two particles (not a ZeroDivisionError).
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:  # numba is a dependency; a broken or missing install falls back to NumPy (same numbers, slower)
    from numba import njit

    AVAILABLE = True
except Exception:  # noqa: BLE001 - ImportError, or an llvmlite that does not load on this machine
    AVAILABLE = False

#: How a pair vector is made periodic: no box, minimum image, or shifts fixed at the neighbour-list build.
NO_BOX, MINIMUM_IMAGE, FIXED_SHIFTS = 0, 1, 2


def _lj_pairs(x: np.ndarray, i: np.ndarray, j: np.ndarray, shifts: np.ndarray, box: np.ndarray, mode: int,
              sigma2: float, epsilon: float, cutoff2: float, energy_shift: float) -> tuple[float, np.ndarray]:
    """Energy and forces of one configuration ``x`` (N, D) over the pairs ``(i[p], j[p])``, any D.

    ``cutoff2 <= 0`` means no cutoff. ``shifts`` (D, M) is read with ``mode == FIXED_SHIFTS``, ``box`` (D,) with
    ``MINIMUM_IMAGE`` (image = rint(d / box) computed as d * (1 / box), as the NumPy path does). Units are those of
    ``x``, ``sigma2`` (sigma squared) and ``epsilon``.
    """
    n, dim = x.shape
    forces = np.zeros((n, dim))
    inverse_box = 1.0 / box
    d = np.empty(dim)
    energy = 0.0
    for p in range(i.shape[0]):
        a = i[p]
        b = j[p]
        r2 = 0.0
        for k in range(dim):
            dk = x[a, k] - x[b, k]
            if mode == FIXED_SHIFTS:
                dk -= shifts[k, p]
            elif mode == MINIMUM_IMAGE:
                dk -= np.rint(dk * inverse_box[k]) * box[k]
            d[k] = dk
            r2 += dk * dk
        if cutoff2 > 0.0 and r2 >= cutoff2:
            continue
        inv = sigma2 / r2
        s6 = inv * inv * inv
        energy += 4.0 * epsilon * (s6 * s6 - s6) - energy_shift
        f_over_r = 24.0 * epsilon * (2.0 * s6 - 1.0) * s6 * inv / sigma2
        for k in range(dim):
            fk = f_over_r * d[k]
            forces[a, k] += fk
            forces[b, k] -= fk
    return energy, forces


def _lj_pairs_3d(x: np.ndarray, i: np.ndarray, j: np.ndarray, shifts: np.ndarray, box: np.ndarray, mode: int,
                 sigma2: float, epsilon: float, cutoff2: float, energy_shift: float) -> tuple[float, np.ndarray]:
    """:func:`_lj_pairs` for D = 3, written out per coordinate; the force on ``i[p]`` is summed in registers
    while ``i`` stays the same (pair lists are sorted by i), which is what makes it faster."""
    n = x.shape[0]
    forces = np.zeros((n, 3))
    bx, by, bz = box[0], box[1], box[2]
    ibx, iby, ibz = 1.0 / bx, 1.0 / by, 1.0 / bz
    scale = 24.0 * epsilon / sigma2
    energy = 0.0
    current = -1
    fx = fy = fz = 0.0
    for p in range(i.shape[0]):
        a = i[p]
        b = j[p]
        if a != current:
            if current >= 0:
                forces[current, 0] += fx
                forces[current, 1] += fy
                forces[current, 2] += fz
            fx = fy = fz = 0.0
            current = a
        dx = x[a, 0] - x[b, 0]
        dy = x[a, 1] - x[b, 1]
        dz = x[a, 2] - x[b, 2]
        if mode == FIXED_SHIFTS:
            dx -= shifts[0, p]
            dy -= shifts[1, p]
            dz -= shifts[2, p]
        elif mode == MINIMUM_IMAGE:
            dx -= np.rint(dx * ibx) * bx
            dy -= np.rint(dy * iby) * by
            dz -= np.rint(dz * ibz) * bz
        r2 = dx * dx + dy * dy + dz * dz
        if cutoff2 > 0.0 and r2 >= cutoff2:
            continue
        inv = sigma2 / r2
        s6 = inv * inv * inv
        energy += 4.0 * epsilon * (s6 * s6 - s6) - energy_shift
        f_over_r = scale * (2.0 * s6 - 1.0) * s6 * inv
        fx += f_over_r * dx
        fy += f_over_r * dy
        fz += f_over_r * dz
        forces[b, 0] -= f_over_r * dx
        forces[b, 1] -= f_over_r * dy
        forces[b, 2] -= f_over_r * dz
    if current >= 0:
        forces[current, 0] += fx
        forces[current, 1] += fy
        forces[current, 2] += fz
    return energy, forces


def _pairs_within_3d(x: np.ndarray, box: np.ndarray, periodic: bool,
                     radius2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs i < j (sorted by i, then j) closer than sqrt(radius2), by minimum image when ``periodic``, with
    the image shift rint(d / box) * box of each (zeros without a box): the Verlet list of
    :meth:`npsnn_edu.potentials.PairPotential._neighbour_pairs`, built in two passes (count, fill) over all
    pairs, which at a thousand atoms is several times faster than scipy's cKDTree.query_pairs."""
    n = x.shape[0]
    bx, by, bz = box[0], box[1], box[2]
    count = 0
    for a in range(n - 1):
        for b in range(a + 1, n):
            dx = x[a, 0] - x[b, 0]
            dy = x[a, 1] - x[b, 1]
            dz = x[a, 2] - x[b, 2]
            if periodic:
                dx -= np.rint(dx / bx) * bx
                dy -= np.rint(dy / by) * by
                dz -= np.rint(dz / bz) * bz
            if dx * dx + dy * dy + dz * dz <= radius2:
                count += 1
    i = np.empty(count, np.intp)
    j = np.empty(count, np.intp)
    shifts = np.zeros((3, count))
    c = 0
    for a in range(n - 1):
        for b in range(a + 1, n):
            dx = x[a, 0] - x[b, 0]
            dy = x[a, 1] - x[b, 1]
            dz = x[a, 2] - x[b, 2]
            sx = sy = sz = 0.0
            if periodic:
                sx = np.rint(dx / bx) * bx
                sy = np.rint(dy / by) * by
                sz = np.rint(dz / bz) * bz
            dx -= sx
            dy -= sy
            dz -= sz
            if dx * dx + dy * dy + dz * dz <= radius2:
                i[c] = a
                j[c] = b
                shifts[0, c] = sx
                shifts[1, c] = sy
                shifts[2, c] = sz
                c += 1
    return i, j, shifts


lj_pairs: Any = njit(cache=True, error_model="numpy")(_lj_pairs) if AVAILABLE else None
pairs_within_3d: Any = njit(cache=True, error_model="numpy")(_pairs_within_3d) if AVAILABLE else None
lj_pairs_3d: Any = njit(cache=True, error_model="numpy")(_lj_pairs_3d) if AVAILABLE else None


def lj_kernel(dim: int) -> Any:
    """The compiled loop for ``dim`` coordinates (None without numba)."""
    return lj_pairs_3d if dim == 3 else lj_pairs
