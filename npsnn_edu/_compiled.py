"""Compiled (numba) pair loops of the Lennard-Jones hot path: the same numbers as the NumPy code, one pass.

The NumPy version of :meth:`npsnn_edu.potentials.PairPotential._single_energy_and_forces` makes about fifteen
array passes per step; at a hundred atoms the per-call cost of each pass, not the arithmetic, sets the speed.
These loops visit each pair once (minimum image, cutoff, shifted energy, force on both partners), so the step
costs what the arithmetic costs. They are used by :class:`npsnn_edu.potentials.LennardJones` when numba
imports (``backend="auto"``, the default) and can be switched off with ``backend="numpy"``; both are tested
against each other and against ASE.

Three loops share one pair formula (:func:`_lj_pair`), one periodic image (:func:`_image`) and, in 3D,
one force update (:func:`_pair_force_3d`):

- :func:`lj_all_pairs_3d`: every pair i < j by two nested loops (no pair-index arrays to read): the path of a
  small periodic box, where cutoff + skin does not fit in half the box and a Verlet list would hold every pair;
- :func:`lj_pairs_3d`: the pairs of a Verlet list (sorted by i, image shifts fixed at the build);
- :func:`lj_pairs`: any number of coordinates D, any pair list (chapter 2's 1D and 2D systems).

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
#: Placeholder arguments of the 3D loops when there is no box or no shift to read (never written).
UNIT_BOX_3D, NO_SHIFTS_3D = np.ones(3), np.zeros((3, 0))


def _jit(function: Any, inline: bool = False) -> Any:
    """numba's njit with the kit's options (on-disk cache, NumPy's division semantics); None without numba.
    ``inline``: a small helper inlined into its callers at numba's level (no call in the pair loop)."""
    if not AVAILABLE:
        return None
    if inline:
        return njit(inline="always", error_model="numpy")(function)
    return njit(cache=True, error_model="numpy")(function)


def _lj_pair_py(r2: float, sigma2: float, epsilon: float, cutoff2: float,
                energy_shift: float) -> tuple[float, float]:
    """(u(r) - u(r_c), f(r)/r) of one pair at squared distance ``r2``; (0, 0) at or beyond the cutoff
    (``cutoff2 <= 0``: none). The formula of :meth:`npsnn_edu.potentials.LennardJones._cutoff_terms`."""
    if cutoff2 > 0.0 and r2 >= cutoff2:
        return 0.0, 0.0
    inv = sigma2 / r2
    s6 = inv * inv * inv
    return 4.0 * epsilon * (s6 * s6 - s6) - energy_shift, 24.0 * epsilon / sigma2 * (2.0 * s6 - 1.0) * s6 * inv


def _image_py(d: float, box_length: float, inverse_length: float) -> float:
    """The minimum image of one coordinate difference: d - rint(d / L) L, with d / L computed as d * (1 / L)
    as the NumPy path does (same rounding)."""
    return d - np.rint(d * inverse_length) * box_length


def _pair_force_3d_py(forces: np.ndarray, b: int, f_over_r: float, dx: float, dy: float, dz: float, fx: float,
                      fy: float, fz: float) -> tuple[float, float, float]:
    """Newton's third law for one pair: subtract the pair force from partner ``b``'s row of ``forces`` and
    return the running force (fx, fy, fz) on the other partner with it added."""
    forces[b, 0] -= f_over_r * dx
    forces[b, 1] -= f_over_r * dy
    forces[b, 2] -= f_over_r * dz
    return fx + f_over_r * dx, fy + f_over_r * dy, fz + f_over_r * dz


_lj_pair: Any = _jit(_lj_pair_py, inline=True)
_image: Any = _jit(_image_py, inline=True)
_pair_force_3d: Any = _jit(_pair_force_3d_py, inline=True)


def _lj_pairs(x: np.ndarray, i: np.ndarray, j: np.ndarray, shifts: np.ndarray, box: np.ndarray, mode: int,
              sigma2: float, epsilon: float, cutoff2: float, energy_shift: float) -> tuple[float, np.ndarray]:
    """Energy and forces of one configuration ``x`` (N, D) over the pairs ``(i[p], j[p])``, any D.

    ``cutoff2 <= 0`` means no cutoff. ``shifts`` (D, M) is read with ``mode == FIXED_SHIFTS``, ``box`` (D,) with
    ``MINIMUM_IMAGE``. Units are those of ``x``, ``sigma2`` (sigma squared) and ``epsilon``.
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
                dk = _image(dk, box[k], inverse_box[k])
            d[k] = dk
            r2 += dk * dk
        if cutoff2 > 0.0 and r2 >= cutoff2:
            continue  # (writing zero forces costs more than the test)
        u, f_over_r = _lj_pair(r2, sigma2, epsilon, cutoff2, energy_shift)
        energy += u
        for k in range(dim):
            fk = f_over_r * d[k]
            forces[a, k] += fk
            forces[b, k] -= fk
    return energy, forces


def _lj_pairs_3d(x: np.ndarray, i: np.ndarray, j: np.ndarray, shifts: np.ndarray, fixed_shifts: bool,
                 sigma2: float, epsilon: float, cutoff2: float, energy_shift: float) -> tuple[float, np.ndarray]:
    """:func:`_lj_pairs` for D = 3 over a Verlet list: pairs sorted by i, image ``shifts`` (3, M) fixed at the
    build and read when ``fixed_shifts`` (no box: False). The force on ``i[p]`` is summed in registers while
    ``i`` stays the same."""
    n = x.shape[0]
    forces = np.zeros((n, 3))
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
        if fixed_shifts:
            dx -= shifts[0, p]
            dy -= shifts[1, p]
            dz -= shifts[2, p]
        u, f_over_r = _lj_pair(dx * dx + dy * dy + dz * dz, sigma2, epsilon, cutoff2, energy_shift)
        energy += u
        fx, fy, fz = _pair_force_3d(forces, b, f_over_r, dx, dy, dz, fx, fy, fz)
    if current >= 0:
        forces[current, 0] += fx
        forces[current, 1] += fy
        forces[current, 2] += fz
    return energy, forces


def _lj_all_pairs_3d(x: np.ndarray, box: np.ndarray, periodic: bool, sigma2: float, epsilon: float,
                     cutoff2: float, energy_shift: float) -> tuple[float, np.ndarray]:
    """:func:`_lj_pairs` for D = 3 over every pair i < j (in the order of ``np.triu_indices``), by minimum
    image in ``box`` when ``periodic``: two nested loops, no pair list to read, which at a hundred atoms is
    about a quarter faster than the listed loop over the same pairs."""
    n = x.shape[0]
    forces = np.zeros((n, 3))
    bx, by, bz = box[0], box[1], box[2]
    ibx, iby, ibz = 1.0 / bx, 1.0 / by, 1.0 / bz
    energy = 0.0
    for a in range(n - 1):
        xa, ya, za = x[a, 0], x[a, 1], x[a, 2]
        fx = fy = fz = 0.0
        for b in range(a + 1, n):
            dx = xa - x[b, 0]
            dy = ya - x[b, 1]
            dz = za - x[b, 2]
            if periodic:
                dx = _image(dx, bx, ibx)
                dy = _image(dy, by, iby)
                dz = _image(dz, bz, ibz)
            u, f_over_r = _lj_pair(dx * dx + dy * dy + dz * dz, sigma2, epsilon, cutoff2, energy_shift)
            energy += u
            fx, fy, fz = _pair_force_3d(forces, b, f_over_r, dx, dy, dz, fx, fy, fz)
        forces[a, 0] += fx
        forces[a, 1] += fy
        forces[a, 2] += fz
    return energy, forces


def _pairs_within_3d(x: np.ndarray, box: np.ndarray, periodic: bool,
                     radius2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs i < j (sorted by i, then j) closer than sqrt(radius2), by minimum image when ``periodic``, with
    the image shift rint(d / box) * box of each (zeros without a box): the Verlet list of
    :meth:`npsnn_edu.potentials.PairPotential._neighbour_pairs`, built in two passes (count, then fill) over
    all pairs, which at a thousand atoms is several times faster than scipy's cKDTree.query_pairs."""
    n = x.shape[0]
    count = 0
    i = np.empty(0, np.intp)
    j = np.empty(0, np.intp)
    shifts = np.zeros((3, 0))
    for fill in (False, True):
        if fill:
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
                    sx = np.rint(dx / box[0]) * box[0]
                    sy = np.rint(dy / box[1]) * box[1]
                    sz = np.rint(dz / box[2]) * box[2]
                dx -= sx
                dy -= sy
                dz -= sz
                if dx * dx + dy * dy + dz * dz <= radius2:
                    if fill:
                        i[c] = a
                        j[c] = b
                        shifts[0, c] = sx
                        shifts[1, c] = sy
                        shifts[2, c] = sz
                    c += 1
        count = c
    return i, j, shifts


lj_pairs: Any = _jit(_lj_pairs)
lj_pairs_3d: Any = _jit(_lj_pairs_3d)
lj_all_pairs_3d: Any = _jit(_lj_all_pairs_3d)
pairs_within_3d: Any = _jit(_pairs_within_3d)
