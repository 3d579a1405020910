"""Potential energy models with analytic forces.

Every potential maps positions shaped ``(..., N, D)`` (any leading batch dimensions, N particles in D
dimensions) to an energy shaped ``(...)`` and forces shaped like the positions.  Units are whatever the
parameters are given in: the chapters use reduced Lennard-Jones units (sigma = epsilon = m = 1); ASE
interop converts in :mod:`npsnn_edu.units`.

The same code accepts NumPy arrays and PyTorch tensors.  With tensors the result is differentiable by
autograd, which is how the spiking-PINN chapter builds its physics residual ``m x'' = F(x)`` from these very
potentials (no second copy of a force field).

External (one-body) potentials: :class:`Harmonic`, :class:`DoubleWell`.
Pair potentials: :class:`LennardJones`, :class:`Morse` (cutoff, optional energy shift, periodic
orthorhombic box with the minimum-image convention, neighbour lists for large periodic systems).
"""
from __future__ import annotations

import abc
import inspect
import sys
import warnings
from typing import Any, ClassVar

import numpy as np

from .errors import InvalidParameterError, InvalidStateError, ShapeMismatchError
from .registry import Registry, adapter
from .validation import Boolean, Constraints, Finite, Options, Positive, Rule, validate_params

Array = Any  # numpy.ndarray or torch.Tensor


def _is_torch(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


class Potential(abc.ABC):
    """Base class: an energy model E(positions) with analytic forces F = -dE/dx.

    Subclasses implement :meth:`_energy_and_forces` for validated input. Public methods validate at the
    edge: positions must be shaped ``(..., N, D)`` and finite.

    Two entry points:

    * :meth:`energy_and_forces` (and :meth:`energy`, :meth:`forces`): validated; bad shapes, NaN/inf and
      coincident particles raise typed errors that say what to change;
    * :meth:`energy_and_forces_unchecked`: the unvalidated fast path for inner loops (``simulate`` calls it at every
      step after validating the start once). Give it a float array shaped ``(..., N, D)``; it does no checks.
    """

    name: str = "potential"
    #: Particle count the potential requires (None = any).
    n_particles: int | None = None

    # -- public API -------------------------------------------------------------------------------
    def energy_and_forces(self, positions: Array) -> tuple[Array, Array]:
        """Energy ``(...)`` and forces ``(..., N, D)`` for positions ``(..., N, D)``.

        Parameters
        ----------
        positions : array or tensor of shape (..., n_atoms, n_dim)
            Positions in the potential's length unit (reduced LJ units: sigma); any leading batch dimensions.

        Returns
        -------
        energy : array of shape (...)
            Potential energy (energy unit of the parameters; reduced: epsilon).
        forces : array of shape (..., n_atoms, n_dim)
            Forces -dE/dx (reduced: epsilon/sigma).

        Raises
        ------
        ShapeMismatchError
            ``positions`` is not shaped ``(..., N, D)`` or has the wrong particle count.
        InvalidStateError
            Non-finite positions, or coincident particles giving a non-finite energy.
        """
        x = self._validate(positions)
        if _is_torch(x):
            return self._energy_and_forces(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # non-finite: typed error below
            energy, forces = self._energy_and_forces(x)
        if not (np.all(np.isfinite(energy)) and np.all(np.isfinite(forces))):
            self._non_finite_result(x)
        return energy, forces

    def energy_and_forces_unchecked(self, positions: Array) -> tuple[Array, Array]:
        """Energy and forces WITHOUT validation: the fast path for inner loops (positions: a float array
        ``(..., N, D)`` already checked by the caller, e.g. once by :meth:`energy_and_forces`).

        Parameters
        ----------
        positions : array or tensor of shape (..., n_atoms, n_dim)
            Float positions already validated by the caller (reduced LJ units in chapters 1, 2, 4).

        Returns
        -------
        energy : array of shape (...)
        forces : array of shape (..., n_atoms, n_dim)
        """
        return self._energy_and_forces(positions)

    def energy(self, positions: Array) -> Array:
        """Potential energy, shape ``(...)`` for positions ``(..., N, D)``.

        Parameters
        ----------
        positions : array or tensor of shape (..., n_atoms, n_dim)
            Positions (reduced LJ units in chapters 1, 2, 4).

        Returns
        -------
        array of shape (...)
            Potential energy.
        """
        return self.energy_and_forces(positions)[0]

    def forces(self, positions: Array) -> Array:
        """Forces -dE/dx, shaped like the positions.

        Parameters
        ----------
        positions : array or tensor of shape (..., n_atoms, n_dim)
            Positions (reduced LJ units in chapters 1, 2, 4).

        Returns
        -------
        array of shape (..., n_atoms, n_dim)
            Forces -dE/dx.
        """
        return self.energy_and_forces(positions)[1]

    def as_ase_calculator(self, lj_units: Any = None) -> Any:
        """This potential as an ASE Calculator (the ``PotentialCalculator`` of the ASE adapter module).

        ``lj_units``: an :class:`~npsnn_edu.units.LJUnits` if the potential's parameters are in reduced
        units (ASE positions are divided by sigma, energies multiplied by epsilon); None if they are already
        in eV and Angstrom.

        Parameters
        ----------
        lj_units : LJUnits or None, default None
            Unit system of a potential given in reduced units (positions from ASE in A are divided by sigma, energies
            multiplied by epsilon in eV); None when the parameters are already in eV and A.

        Returns
        -------
        ase.calculators.calculator.Calculator
            Energies in eV, forces in eV/A.
        """
        return adapter("potential_calculator")(self, lj_units=lj_units)

    def params(self) -> dict[str, Any]:
        """Constructor parameters (for repr, checkpoints and widgets)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"

    # -- helpers ------------------------------------------------------------------------------------
    def _validate(self, positions: Array) -> Array:
        if _is_torch(positions):
            x = positions
        else:
            try:
                x = np.asarray(positions, dtype=float)
            except (TypeError, ValueError) as exc:
                raise InvalidStateError(
                    f"positions must be a numeric array shaped (N, D); got {type(positions).__name__}") from exc
            if not np.all(np.isfinite(x)):
                bad = np.argwhere(~np.isfinite(x))[0]
                raise InvalidStateError(
                    f"positions contain NaN or inf (first at index {tuple(int(i) for i in bad)}); "
                    "pass finite coordinates (a previous run may have diverged: reduce dt)"
                )
        if x.ndim < 2:
            raise ShapeMismatchError(
                f"positions must be shaped (..., N, D) with N particles in D dimensions; got shape {tuple(x.shape)}. "
                "For one particle in 1D use np.array([[x]])"
            )
        if self.n_particles is not None and x.shape[-2] != self.n_particles:
            raise ShapeMismatchError(
                f"{type(self).__name__} needs {self.n_particles} particles, got {x.shape[-2]} "
                f"(positions shape {tuple(x.shape)})"
            )
        return x

    def _non_finite_result(self, x: np.ndarray) -> None:
        """Raise the typed error for a non-finite energy or force (validated path only)."""
        raise InvalidStateError(
            f"{type(self).__name__} gave a non-finite energy or force for these positions; "
            "move the particles apart or check the potential's parameters")

    @abc.abstractmethod
    def _energy_and_forces(self, x: Array) -> tuple[Array, Array]:
        ...


# ------------------------------------------------------------------------------------------------
# One-body (external) potentials
# ------------------------------------------------------------------------------------------------
class Harmonic(Potential):
    r"""Harmonic trap: E = 1/2 k |x - center|^2 summed over particles and coordinates.

    One particle in 1D with mass m is the harmonic oscillator with angular frequency sqrt(k/m).
    Units: k in energy/length^2 (reduced: epsilon/sigma^2).

    .. math::

        E(\mathbf{x}) = \frac{k}{2} \sum_{i,d} (x_{id} - c)^2, \qquad \mathbf{F} = -k (\mathbf{x} - c)

    Parameters
    ----------
    k : float, default 1.0
        Spring constant (> 0), energy/length^2 (reduced: epsilon/sigma^2).
    center : float, default 0.0
        Position c of the minimum on every coordinate (length unit).

    Raises
    ------
    InvalidParameterError
        ``k`` not positive or ``center`` not finite.
    """

    name = "harmonic"
    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        "k": Positive(message="{name} (spring constant) must be a positive finite number, got {value!r}"),
        "center": Finite(),
    }

    def __init__(self, k: float = 1.0, center: float = 0.0):
        checked = validate_params(self._parameter_constraints, {"k": k, "center": center})
        self.k, self.center = checked["k"], checked["center"]

    def params(self) -> dict[str, Any]:
        return {"k": self.k, "center": self.center}

    def _energy_and_forces(self, x: Array) -> tuple[Array, Array]:
        d = x - self.center
        energy = 0.5 * self.k * (d * d).sum(-1).sum(-1)
        return energy, -self.k * d


class DoubleWell(Potential):
    r"""Quartic double well on every coordinate: E = barrier * ((x / x_min)^2 - 1)^2.

    Minima at x = +-x_min (E = 0), barrier of height ``barrier`` at x = 0.

    .. math::

        E(\mathbf{x}) = \Delta E \sum_{i,d} \left[\left(\frac{x_{id}}{x_0}\right)^2 - 1\right]^2

    Parameters
    ----------
    barrier : float, default 1.0
        Barrier height Delta E (> 0) at x = 0 (energy unit; reduced: epsilon).
    x_min : float, default 1.0
        Position x_0 (> 0) of the two minima +-x_0 (length unit; reduced: sigma).

    Raises
    ------
    InvalidParameterError
        ``barrier`` or ``x_min`` not positive.
    """

    name = "double-well"
    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {"barrier": Positive(), "x_min": Positive()}

    def __init__(self, barrier: float = 1.0, x_min: float = 1.0):
        checked = validate_params(self._parameter_constraints, {"barrier": barrier, "x_min": x_min})
        self.barrier, self.x_min = checked["barrier"], checked["x_min"]

    def params(self) -> dict[str, Any]:
        return {"barrier": self.barrier, "x_min": self.x_min}

    def _energy_and_forces(self, x: Array) -> tuple[Array, Array]:
        q = (x / self.x_min) ** 2 - 1.0
        energy = self.barrier * (q * q).sum(-1).sum(-1)
        forces = -4.0 * self.barrier * q * x / self.x_min**2
        return energy, forces


# ------------------------------------------------------------------------------------------------
# Pair potentials
# ------------------------------------------------------------------------------------------------
def _check_box(name: str, value: Any) -> np.ndarray:
    """``value`` as D positive finite box lengths (a 1-D float array; a number is one length)."""
    try:
        box = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be D positive box lengths (orthorhombic), got {value!r}") from exc
    if box.ndim != 1 or not np.all(np.isfinite(box)) or np.any(box <= 0):
        raise InvalidParameterError(f"{name} must be D positive box lengths (orthorhombic), got {value!r}")
    return box


#: The backends of a pair potential (:attr:`PairPotential.BACKENDS`).
_BACKENDS = ("auto", "numpy", "numba")

#: The constructor parameters every pair potential shares (its own come first in a subclass's table).
_PAIR_PARAMETERS: Constraints = {
    "cutoff": (None, Positive(hint="the cutoff radius, or None for all pairs")),
    "shift": Boolean(),
    "box": (None, Rule(_check_box, invalid=[5.0, -5.0, 5.0])),
    "skin": Positive(hint="the Verlet-list skin, e.g. 0.3"),
    "backend": Options(_BACKENDS, normalise=True),
}


class PairPotential(Potential):
    """Sum of a pair term u(r) over all pairs i < j, with optional cutoff, shift and periodic box.

    Parameters
    ----------
    cutoff : float or None
        Pairs at r >= cutoff contribute nothing. None: all pairs.
    shift : bool
        Subtract u(cutoff) from each pair inside the cutoff so the energy is continuous at the cutoff
        (forces are unchanged; this is what ASE's ``LennardJones`` does).
    box : sequence of D floats or None
        Orthorhombic periodic box lengths; pair vectors use the minimum-image convention, which needs
        cutoff <= box/2.
    skin : float
        Verlet-list skin for periodic systems with many particles (performance only, results unchanged).
    backend : "auto", "numpy" or "numba"
        "auto" (default): the compiled loops of :mod:`npsnn_edu._compiled` when numba imports (the Verlet-list
        builder for every pair potential, the pair loop for Lennard-Jones), else NumPy; "numpy": the array code
        only; "numba": compiled, an error without numba. Same numbers either way (performance only).
    """

    BACKENDS = _BACKENDS
    #: The module of compiled loops (:mod:`npsnn_edu._compiled`), set on the class at the first construction:
    #: a class attribute, so that potentials still pickle and copy (a module does not).
    _loops: Any = None

    #: Use a neighbour list (cKDTree + skin) above this many particles when a cutoff is set.
    neighbour_list_min_particles = 64

    #: Every ``__init__`` parameter's constraint; the dependencies between them (shift and box need a cutoff,
    #: the cutoff at most half the box, numba for backend="numba") are checked by ``__init__``.
    _parameter_constraints: ClassVar[Constraints] = _PAIR_PARAMETERS

    def __init__(self, cutoff: float | None = None, shift: bool = False, box: Any = None, skin: float = 0.3,
                 backend: str = "auto"):
        from . import _compiled  # imports numba (a few tenths of a second): only when a pair potential is made

        checked = validate_params(_PAIR_PARAMETERS, {"cutoff": cutoff, "shift": shift, "box": box, "skin": skin,
                                                     "backend": backend})
        self.backend = checked["backend"]
        if self.backend == "numba" and not _compiled.AVAILABLE:
            raise InvalidParameterError("backend='numba' needs numba, which does not import here: install it "
                                        "(`pip install numba`) or use backend='auto' or 'numpy' (same numbers)")
        self._compiled = self.backend != "numpy" and _compiled.AVAILABLE
        PairPotential._loops = _compiled
        self.cutoff: float | None = checked["cutoff"]
        if checked["shift"] and self.cutoff is None:
            raise InvalidParameterError("shift=True needs a cutoff: give cutoff=... or set shift=False")
        self.shift = checked["shift"]
        box_arr = checked["box"]
        if box_arr is None:
            self.box = None
        else:
            if self.cutoff is None:
                raise InvalidParameterError("a periodic box needs a cutoff (at most half the shortest box length)")
            if self.cutoff > 0.5 * box_arr.min() + 1e-12:
                raise InvalidParameterError(
                    f"cutoff {self.cutoff} exceeds half the shortest box length {box_arr.min()}/2: "
                    "the minimum-image convention would miss pairs; use a larger box or a smaller cutoff"
                )
            self.box = box_arr
            self._inverse_box = 1.0 / box_arr[:, None]  # (D, 1), for the minimum image of (D, M) pair vectors
            self._half_shortest_box = 0.5 * float(box_arr.min())
        self.skin = checked["skin"]
        self._pair_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._nlist: tuple[np.ndarray, np.ndarray] | None = None
        self._nlist_reference: np.ndarray | None = None
        self._nlist_shifts: np.ndarray | None = None
        self._segment_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._energy_shift = 0.0
        if self.shift and self.cutoff is not None:
            u_c, _ = self.pair_terms(np.array([self.cutoff**2]))
            self._energy_shift = float(u_c[0])

    def params(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff, "shift": self.shift, "box": None if self.box is None else self.box.tolist()}

    def _non_finite_result(self, x: np.ndarray) -> None:
        """Name the first pair of particles on top of each other (r = 0), where u(r) is infinite."""
        for b, frame in enumerate(x.reshape(-1, *x.shape[-2:])):
            i, j = self._all_pairs(frame.shape[0])
            d = frame[i] - frame[j]
            if self.box is not None:
                d -= self.box * np.round(d / self.box)
            same = np.flatnonzero(np.einsum("md,md->m", d, d) == 0.0)
            if same.size:
                where = f" in configuration {b}" if x.ndim > 2 else ""
                raise InvalidStateError(
                    f"particles {int(i[same[0]])} and {int(j[same[0]])} are on top of each other (r = 0){where}: "
                    f"{type(self).__name__} is infinite there; move the particles apart")
        super()._non_finite_result(x)

    @abc.abstractmethod
    def pair_terms(self, r2: Array) -> tuple[Array, Array]:
        """Return (u(r), f(r)/r) for squared distances r2, where f = -du/dr is the pair force magnitude.

        Parameters
        ----------
        r2 : array or tensor of shape (n_pairs,)
            Squared pair distances r^2 (length unit squared).

        Returns
        -------
        u : array of shape (n_pairs,)
            Pair energies u(r).
        f_over_r : array of shape (n_pairs,)
            Force magnitude over distance, f(r)/r with f = -du/dr.
        """

    def pair_energy(self, r: Array) -> Array:
        """Pair energy u(r) (unshifted, no cutoff), for plotting and teaching.

        Parameters
        ----------
        r : array of shape (n,)
            Pair distances (length unit; reduced: sigma).

        Returns
        -------
        array of shape (n,)
            u(r).
        """
        return self.pair_terms(np.asarray(r, dtype=float) ** 2)[0]

    def pair_force(self, r: Array) -> Array:
        """Pair force magnitude f(r) = -du/dr (positive = repulsive).

        Parameters
        ----------
        r : array of shape (n,)
            Pair distances (length unit; reduced: sigma).

        Returns
        -------
        array of shape (n,)
            f(r) = -du/dr.
        """
        r = np.asarray(r, dtype=float)
        return self.pair_terms(r**2)[1] * r

    # -- pair enumeration ---------------------------------------------------------------------------
    def _all_pairs(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """All pairs i < j, sorted by i (cached per particle count)."""
        if n not in self._pair_cache:
            i, j = np.triu_indices(n, k=1)
            self._pair_cache[n] = (i.astype(np.intp), j.astype(np.intp))
        return self._pair_cache[n]

    def _uses_neighbour_list(self, x: np.ndarray) -> bool:
        """A Verlet list pays only with a cutoff, many particles, and (periodic) cutoff + skin <= box/2."""
        if self.cutoff is None or x.shape[0] < self.neighbour_list_min_particles:
            return False
        if self.box is not None and self.cutoff + self.skin > self._half_shortest_box:
            return False  # the list would hold (almost) all pairs: plain all-pairs is faster
        return True

    def _neighbour_pairs(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Verlet list of pairs i < j within cutoff + skin (sorted by i), rebuilt when a particle moved more
        than skin/2 since the last build (so no pair can have crossed into the cutoff unseen)."""
        ref = self._nlist_reference
        if ref is not None and ref.shape == x.shape:
            disp = x - ref
            if float(np.max(np.einsum("ij,ij->i", disp, disp))) < (0.5 * self.skin) ** 2:
                return self._nlist  # type: ignore[return-value]
        radius = self.cutoff + self.skin
        if self._compiled and x.shape[-1] == 3 and x.dtype == np.float64 and \
                (self.box is None or self.box.shape[0] == 3):
            periodic = self.box is not None
            i, j, shifts = self._loops.pairs_within_3d(np.ascontiguousarray(x), self.box if periodic else
                                                       self._loops.UNIT_BOX_3D, periodic, radius * radius)
            self._nlist = (i, j)
            self._nlist_reference = x.copy()
            self._nlist_shifts = shifts if periodic else None
            return self._nlist
        from scipy.spatial import cKDTree

        if self.box is not None:
            box = self.box
            if x.shape[-1] != box.shape[0]:
                raise ShapeMismatchError(f"positions have D={x.shape[-1]} but the box has {box.shape[0]} lengths")
            if radius > 0.5 * box.min():
                # skin does not fit the minimum image convention: fall back to all pairs
                return self._all_pairs(x.shape[0])
            wrapped = np.mod(x, box)
            wrapped[wrapped >= box] = 0.0
            tree = cKDTree(wrapped, boxsize=box)
        else:
            tree = cKDTree(x)
        pairs = tree.query_pairs(radius, output_type="ndarray").astype(np.intp)
        n = x.shape[0]
        keys = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1])  # i < j
        keys.sort()  # sorted by i (for the segmented force sum), then j
        nlist = (keys // n, keys % n)
        self._nlist = nlist
        self._nlist_reference = x.copy()
        self._nlist_shifts = None
        if self.box is not None:
            # The image of each pair, fixed until the next build: while nobody moved more than skin/2, a listed
            # pair's vector in that image is shorter than cutoff + 2 skin, and any vector of length < cutoff is
            # the minimum image since cutoff + skin <= box/2 (the other images are >= box - cutoff away).
            xt = np.ascontiguousarray(x.T)
            d = np.take(xt, nlist[0], axis=1)
            d -= np.take(xt, nlist[1], axis=1)
            self._nlist_shifts = np.rint(d / self.box[:, None]) * self.box[:, None]
        return nlist

    # -- evaluation ---------------------------------------------------------------------------------
    def _energy_and_forces(self, x: Array) -> tuple[Array, Array]:
        if self.box is not None and x.shape[-1] != self.box.shape[0]:
            raise ShapeMismatchError(
                f"positions have D={x.shape[-1]} coordinates but the box has {self.box.shape[0]} lengths"
            )
        if _is_torch(x):
            return self._torch_energy_and_forces(x)
        if x.ndim == 2:
            return self._single_energy_and_forces(x)
        flat = x.reshape(-1, *x.shape[-2:])
        energies = np.empty(flat.shape[0])
        forces = np.empty_like(flat)
        for b in range(flat.shape[0]):
            energies[b], forces[b] = self._single_energy_and_forces(flat[b])
        return energies.reshape(x.shape[:-2]), forces.reshape(x.shape)

    def _single_energy_and_forces(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Energy and forces of one configuration ``(N, D)`` (the MD hot path, pure NumPy).

        Pair vectors are stored coordinate-major ``(D, M)`` so every gather and elementwise operation runs on
        contiguous 1D rows. Pairs outside the cutoff stay in the arrays with a zero pair term (no gather to drop
        them), so the pair indices and their segment boundaries are fixed per pair list and cached. With a
        Verlet list in a periodic box the minimum-image shift of every pair is fixed at the build (valid
        because cutoff + skin <= box/2, see :meth:`_neighbour_pairs`). The force on i (pairs sorted by i) is
        a segmented sum (``np.add.reduceat``), the reaction on j a ``np.bincount``.
        """
        n, dim = x.shape
        if n < 2:
            return 0.0, np.zeros_like(x)
        shifts = None
        if self._uses_neighbour_list(x):
            i, j = self._neighbour_pairs(x)
            shifts = self._nlist_shifts
        else:
            i, j = self._all_pairs(n)
        if len(i) == 0:
            return 0.0, np.zeros_like(x)
        xt = np.ascontiguousarray(x.T)
        rij = np.take(xt, i, axis=1)
        rij -= np.take(xt, j, axis=1)  # (D, M): x_i - x_j
        if shifts is not None:
            rij -= shifts
        elif self.box is not None:
            images = rij * self._inverse_box
            np.rint(images, out=images)
            images *= self.box[:, None]
            rij -= images  # minimum image
        r2 = np.einsum("dm,dm->m", rij, rij)
        energy, f_over_r = self._cutoff_terms(r2)
        rij *= f_over_r  # now the pair forces f_ij on i (and -f_ij on j), shape (D, M)
        starts, has = self._segments(i, n)
        forces = np.zeros((dim, n))
        forces[:, has] = np.add.reduceat(rij, starts, axis=1)
        for d in range(dim):
            forces[d] -= np.bincount(j, weights=rij[d], minlength=n)
        return energy, forces.T.copy()

    def _segments(self, i: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Start of each particle's run in the i-sorted pair list, and the particles that have one (cached)."""
        cached = self._segment_cache
        if cached is not None and cached[0] is i:
            return cached[1], cached[2]
        starts = np.searchsorted(i, np.arange(n))
        has = np.flatnonzero(starts < np.append(starts[1:], len(i)))
        self._segment_cache = (i, starts[has], has)
        return starts[has], has

    def _cutoff_terms(self, r2: np.ndarray) -> tuple[float, np.ndarray]:
        """Total (shifted) pair energy and f(r)/r for squared distances ``r2``, zero outside the cutoff."""
        if self.cutoff is None:
            u, f_over_r = self.pair_terms(r2)
            return float(u.sum()), f_over_r
        inside = r2 < self.cutoff**2
        n_inside = int(np.count_nonzero(inside))
        safe = np.where(inside, r2, self.cutoff**2)  # no overflow far outside
        u, f_over_r = self.pair_terms(safe)
        f_over_r *= inside
        return float(np.dot(u, inside)) - self._energy_shift * n_inside, f_over_r

    def _torch_energy_and_forces(self, x: Any) -> tuple[Any, Any]:
        import torch

        n = x.shape[-2]
        i_np, j_np = self._all_pairs(n)
        i = torch.as_tensor(i_np, device=x.device)
        j = torch.as_tensor(j_np, device=x.device)
        rij = x[..., i, :] - x[..., j, :]
        if self.box is not None:
            box = torch.as_tensor(self.box, dtype=x.dtype, device=x.device)
            rij = rij - box * torch.round(rij / box)
        r2 = (rij * rij).sum(-1)
        u, f_over_r = self.pair_terms(r2)
        if self.cutoff is not None:
            inside = (r2 < self.cutoff**2).to(x.dtype)
            u = (u - self._energy_shift) * inside
            f_over_r = f_over_r * inside
        energy = u.sum(-1)
        fij = f_over_r[..., None] * rij
        forces = torch.zeros_like(x).index_add(-2, i, fij).index_add(-2, j, -fij)
        return energy, forces


class LennardJones(PairPotential):
    r"""Lennard-Jones 12-6: u(r) = 4 epsilon [(sigma/r)^12 - (sigma/r)^6].

    Minimum -epsilon at r = 2^(1/6) sigma. Reduced units: sigma = epsilon = 1. The classic liquid-argon
    setting is cutoff 2.5 sigma with the energy shifted (``shift=True``), as in ASE's ``LennardJones``.

    .. math::

        u(r) = 4 \varepsilon \left[\left(\frac{\sigma}{r}\right)^{12} - \left(\frac{\sigma}{r}\right)^{6}\right],
        \qquad E = \sum_{i<j,\ r_{ij} < r_c} \left[u(r_{ij}) - u(r_c)\right]

    (the shift ``u(r_c)`` only with ``shift=True``), forces :math:`\mathbf{F}_i = -\nabla_i E`.

    Parameters
    ----------
    sigma : float, default 1.0
        Length scale sigma (> 0); 1 in reduced units (3.405 A for argon).
    epsilon : float, default 1.0
        Well depth epsilon (> 0); 1 in reduced units (0.0103 eV for argon).
    cutoff : float or None, default 2.5
        Cutoff radius r_c (length unit); None: all pairs.
    shift : bool, default True
        Subtract u(r_c) so that the energy is continuous at the cutoff (needs a cutoff).
    box : sequence of n_dim floats or None, default None
        Orthorhombic periodic box lengths (minimum image; needs cutoff <= box/2).
    skin : float, default 0.3
        Verlet-list skin (performance only).
    backend : {"auto", "numpy", "numba"}, default "auto"
        Compiled loops when numba imports ("auto"), NumPy only, or numba (an error without it).

    Raises
    ------
    InvalidParameterError
        A non-positive sigma/epsilon, ``shift`` without a cutoff, a bad box or backend.
    """

    name = "lennard-jones"
    #: Every ``__init__`` parameter's constraint (the pair potential's shared ones after its own).
    _parameter_constraints: ClassVar[Constraints] = {"sigma": Positive(), "epsilon": Positive(), **_PAIR_PARAMETERS}

    def __init__(self, sigma: float = 1.0, epsilon: float = 1.0, cutoff: float | None = 2.5, shift: bool = True,
                 box: Any = None, skin: float = 0.3, backend: str = "auto"):
        checked = validate_params(self._parameter_constraints, {"sigma": sigma, "epsilon": epsilon})
        self.sigma, self.epsilon = checked["sigma"], checked["epsilon"]
        super().__init__(cutoff=cutoff, shift=shift, box=box, skin=skin, backend=backend)

    def params(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "epsilon": self.epsilon, **super().params()}

    def _single_energy_and_forces(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """The compiled pair loop (same pairs, images and cutoff as the NumPy path), else the NumPy path."""
        if not self._compiled or x.dtype != np.float64:
            return super()._single_energy_and_forces(x)
        n, dim = x.shape
        if n < 2:
            return 0.0, np.zeros_like(x)
        try:
            energy, forces = self._compiled_energy_and_forces(x if x.flags.c_contiguous else np.ascontiguousarray(x))
        except Exception as exc:  # noqa: BLE001 - numba imports but cannot compile/run here: NumPy, same numbers
            warnings.warn(f"the compiled Lennard-Jones loop failed ({type(exc).__name__}: {exc}); using the NumPy "
                          "path (same results, slower). Pass backend='numpy' to skip the attempt.", RuntimeWarning,
                          stacklevel=2)
            self._compiled = False
            return super()._single_energy_and_forces(x)
        return float(energy), forces

    def _compiled_energy_and_forces(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Pick the loop of :mod:`npsnn_edu._compiled`: a Verlet list (3D), every pair (3D), or any D."""
        loops = self._loops
        dim = x.shape[1]
        box = self.box
        terms = (self.sigma * self.sigma, self.epsilon, 0.0 if self.cutoff is None else self.cutoff**2,
                 self._energy_shift)
        if self._uses_neighbour_list(x):
            i, j = self._neighbour_pairs(x)
            shifts = self._nlist_shifts
            mode = loops.FIXED_SHIFTS if shifts is not None else loops.NO_BOX
        else:
            if dim == 3:
                return loops.lj_all_pairs_3d(x, loops.UNIT_BOX_3D if box is None else box, box is not None, *terms)
            i, j = self._all_pairs(x.shape[0])
            shifts = None
            mode = loops.MINIMUM_IMAGE if box is not None else loops.NO_BOX
        placeholder = loops.NO_SHIFTS_3D if dim == 3 else np.zeros((dim, 0))
        if dim == 3:
            return loops.lj_pairs_3d(x, i, j, placeholder if shifts is None else shifts, mode == loops.FIXED_SHIFTS,
                                     *terms)
        return loops.lj_pairs(x, i, j, placeholder if shifts is None else shifts, np.ones(dim) if box is None else box,
                              mode, *terms)

    def _cutoff_terms(self, r2: np.ndarray) -> tuple[float, np.ndarray]:
        """The same numbers as the generic version with fewer array passes (the chapter-1 hot path):
        s6 = (sigma^2/r^2)^3 is zeroed outside the cutoff, which zeroes both the energy and f/r there."""
        inv = np.divide(self.sigma**2, r2)
        s6 = inv * inv
        s6 *= inv
        n_inside = len(r2)
        if self.cutoff is not None:
            inside = r2 < self.cutoff**2
            n_inside = int(np.count_nonzero(inside))
            s6 *= inside
        energy = 4.0 * self.epsilon * (float(np.dot(s6, s6)) - float(s6.sum())) - self._energy_shift * n_inside
        f_over_r = 2.0 * s6
        f_over_r -= 1.0
        f_over_r *= s6
        f_over_r *= inv
        f_over_r *= 24.0 * self.epsilon / self.sigma**2  # 24 eps (2 s12 - s6) / r^2
        return energy, f_over_r

    def pair_terms(self, r2: Array) -> tuple[Array, Array]:
        s6 = (self.sigma**2 / r2) ** 3
        s12 = s6 * s6
        u = 4.0 * self.epsilon * (s12 - s6)
        f_over_r = 24.0 * self.epsilon * (2.0 * s12 - s6) / r2
        return u, f_over_r

    @property
    def r_min(self) -> float:
        """Position of the minimum, 2^(1/6) sigma."""
        return 2.0 ** (1.0 / 6.0) * self.sigma

    @property
    def curvature_at_minimum(self) -> float:
        """u''(r_min) = 57.146... epsilon/sigma^2 (= 72 * 2^(-1/3) epsilon / sigma^2)."""
        return 72.0 * 2.0 ** (-1.0 / 3.0) * self.epsilon / self.sigma**2


class Morse(PairPotential):
    r"""Morse pair potential: u(r) = D_e [exp(-2a(r - r_e)) - 2 exp(-a(r - r_e))].

    Zero at infinite separation, minimum -D_e at r = r_e, curvature u''(r_e) = 2 a^2 D_e.
    (Same form as ASE's ``MorsePotential`` with epsilon = D_e, r0 = r_e, rho0 = a r_e.)

    .. math::

        u(r) = D_e \left[e^{-2a(r - r_e)} - 2 e^{-a(r - r_e)}\right], \qquad E = \sum_{i<j} u(r_{ij})

    Parameters
    ----------
    D_e : float, default 1.0
        Well depth (> 0), energy unit (reduced: epsilon).
    a : float, default 1.0
        Inverse width (> 0), 1/length.
    r_e : float, default 1.0
        Equilibrium distance (> 0), length unit.
    cutoff : float or None, default None
        Cutoff radius (length unit); None: all pairs.
    shift : bool, default False
        Subtract u(cutoff) so that the energy is continuous at the cutoff (needs a cutoff).
    box : sequence of n_dim floats or None, default None
        Orthorhombic periodic box lengths (minimum image; needs cutoff <= box/2).
    skin : float, default 0.3
        Verlet-list skin (performance only).
    backend : {"auto", "numpy", "numba"}, default "auto"
        Compiled loops when numba imports, NumPy only, or numba.

    Raises
    ------
    InvalidParameterError
        A non-positive D_e, a or r_e, ``shift`` without a cutoff, a bad box or backend.
    """

    name = "morse"
    #: Every ``__init__`` parameter's constraint (the pair potential's shared ones after its own).
    _parameter_constraints: ClassVar[Constraints] = {
        "D_e": Positive(message="{name} (well depth) must be a positive finite number, got {value!r}"),
        "a": Positive(message="{name} (inverse width) must be a positive finite number, got {value!r}"),
        "r_e": Positive(message="{name} (equilibrium distance) must be a positive finite number, got {value!r}"),
        **_PAIR_PARAMETERS,
    }

    def __init__(self, D_e: float = 1.0, a: float = 1.0, r_e: float = 1.0, cutoff: float | None = None,
                 shift: bool = False, box: Any = None, skin: float = 0.3, backend: str = "auto"):
        checked = validate_params(self._parameter_constraints, {"D_e": D_e, "a": a, "r_e": r_e})
        self.D_e, self.a, self.r_e = checked["D_e"], checked["a"], checked["r_e"]
        super().__init__(cutoff=cutoff, shift=shift, box=box, skin=skin, backend=backend)

    def params(self) -> dict[str, Any]:
        return {"D_e": self.D_e, "a": self.a, "r_e": self.r_e, **super().params()}

    def pair_terms(self, r2: Array) -> tuple[Array, Array]:
        r = r2**0.5
        e = (-self.a * (r - self.r_e)).exp() if _is_torch(r) else np.exp(-self.a * (r - self.r_e))
        u = self.D_e * (e * e - 2.0 * e)
        f_over_r = 2.0 * self.a * self.D_e * (e * e - e) / r
        return u, f_over_r

    @property
    def curvature_at_minimum(self) -> float:
        """u''(r_e) = 2 a^2 D_e."""
        return 2.0 * self.a**2 * self.D_e


#: Name table of the potentials (canonical name -> class), with aliases.
POTENTIALS: Registry[type[Potential]] = Registry("potential")
POTENTIALS.register("harmonic", Harmonic)
POTENTIALS.register("double-well", DoubleWell, aliases=("doublewell",))
POTENTIALS.register("lennard-jones", LennardJones, aliases=("lj", "lennardjones"))
POTENTIALS.register("morse", Morse)


def available_potentials() -> list[str]:
    """Names accepted by :func:`get_potential`."""
    return sorted(POTENTIALS.get(key).name for key in POTENTIALS)


def get_potential(name: str, **params: Any) -> Potential:
    """Build a potential by name, e.g. ``get_potential("morse", D_e=1.0, a=2.0)``.

    Raises :class:`~npsnn_edu.errors.UnknownNameError` for an unknown name and
    :class:`~npsnn_edu.errors.InvalidParameterError` for an unknown or invalid parameter.

    Parameters
    ----------
    name : str
        A name or alias from :func:`available_potentials` (``"harmonic"``, ``"double-well"``,
        ``"lennard-jones"``/``"lj"``, ``"morse"``).
    **params
        Constructor parameters of that potential (e.g. ``D_e``, ``a``, ``r_e`` for Morse).

    Returns
    -------
    Potential

    Raises
    ------
    UnknownNameError
        ``name`` is not a registered potential.
    InvalidParameterError
        A parameter the potential does not take, or an invalid value.
    """
    cls = POTENTIALS.get(name)
    try:
        return cls(**params)
    except TypeError as exc:
        valid = [p for p in inspect.signature(cls).parameters]
        raise InvalidParameterError(f"{exc}; {cls.name} accepts: {', '.join(valid)}") from exc
