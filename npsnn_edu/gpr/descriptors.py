"""Rotation- and translation-invariant descriptors of a molecule, with analytic Jacobians.

A descriptor maps Cartesian positions ``(N, 3)`` (Angstrom) to a feature vector ``d`` of the
``P = N (N - 1) / 2`` atom pairs ``i < j`` (always in the same pair order):

* ``"inverse"`` (default): ``d_p = 1 / r_ij`` in 1/Angstrom. Large for close pairs, smooth, and it makes
  far-apart atoms look alike (``1/r -> 0``), the usual choice for GP/kernel potentials (sGDML, FCHL...).
* ``"distance"``: ``d_p = r_ij`` in Angstrom.

Both are invariant to rotations and translations (they depend only on interatomic distances); they are NOT
permutation invariant (atoms are labelled), which is fine for one molecule with a fixed atom order.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidStateError, ShapeMismatchError
from ..validation import Constraints, Options, Rule, validate_params

DESCRIPTORS = ("inverse", "distance")


def _check_n_atoms(name: str, value: Any) -> int:
    """``value`` as an atom count of at least 2 (a ShapeMismatchError otherwise: the molecule is too small)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if isinstance(value, bool) or n < 2 or n != value:
        raise ShapeMismatchError(f"a pair descriptor needs at least 2 atoms: {name} must be an integer >= 2, "
                                 f"got {value!r}")
    return n


class PairDescriptor:
    """Pair-distance descriptor (``kind`` = "inverse" or "distance") for molecules of ``n_atoms`` atoms.

    Parameters
    ----------
    n_atoms : int
        Number of atoms N (>= 2); P = N (N - 1) / 2 features.
    kind : {"inverse", "distance"}, default "inverse"
        Features 1/r_ij (1/A) or r_ij (A).

    Raises
    ------
    UnknownNameError
        Unknown kind.
    ShapeMismatchError
        Fewer than two atoms.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        "n_atoms": Rule(_check_n_atoms, invalid=1),
        "kind": Options(DESCRIPTORS, kind="descriptor"),
    }

    def __init__(self, n_atoms: int, kind: str = "inverse"):
        checked = validate_params(self._parameter_constraints, {"n_atoms": n_atoms, "kind": kind})
        self.kind = checked["kind"]
        self.n_atoms = checked["n_atoms"]
        self.i, self.j = np.triu_indices(self.n_atoms, k=1)
        self.n_features = len(self.i)
        # signed incidence matrix (P, N): +1 at atom i, -1 at atom j of each pair, for a fast pullback
        self._incidence = np.zeros((self.n_features, self.n_atoms))
        self._incidence[np.arange(self.n_features), self.i] = 1.0
        self._incidence[np.arange(self.n_features), self.j] = -1.0

    def _check(self, positions: np.ndarray) -> np.ndarray:
        x = np.asarray(positions, dtype=float)
        if x.shape[-2:] != (self.n_atoms, 3):
            raise ShapeMismatchError(f"positions must be shaped (..., {self.n_atoms}, 3) for this model, got "
                                     f"{x.shape}; pass the same molecule (atom count and order) it was trained on")
        if not np.all(np.isfinite(x)):
            raise InvalidStateError("positions contain NaN or inf; check the geometry (did the MD blow up?)")
        return x

    def transform(self, positions: np.ndarray) -> np.ndarray:
        """Features ``(..., P)`` for positions ``(..., N, 3)``.

        Parameters
        ----------
        positions : array of shape (..., n_atoms, 3)
            Positions (A).

        Returns
        -------
        array of shape (..., n_pairs)

        Raises
        ------
        ShapeMismatchError
            Wrong atom count or shape.
        InvalidStateError
            Non-finite positions or coincident atoms.
        """
        x = self._check(positions)
        r = np.linalg.norm(x[..., self.i, :] - x[..., self.j, :], axis=-1)
        if np.any(r <= 0):
            raise InvalidStateError("two atoms sit on top of each other (distance 0); the descriptor is undefined")
        return 1.0 / r if self.kind == "inverse" else r

    def transform_with_jacobian(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features ``d`` (P,) and the per-pair derivative ``dd_p/dx_i`` (P, 3) of one geometry.

        ``dd_p / dx_j = - dd_p / dx_i`` for pair ``p = (i, j)``; :meth:`pullback` uses that.

        Parameters
        ----------
        positions : array of shape (n_atoms, 3)
            One geometry (A).

        Returns
        -------
        d : array of shape (n_pairs,)
        jac : array of shape (n_pairs, 3)
            dd_p/dx_i for the first atom i of each pair.
        diff : array of shape (n_pairs, 3)
            Pair vectors x_i - x_j (A).
        """
        x = self._check(positions)
        diff = x[self.i] - x[self.j]                      # (P, 3)
        r = np.sqrt((diff * diff).sum(1))
        if not r.min() > 0:
            raise InvalidStateError("two atoms sit on top of each other (distance 0); the descriptor is undefined")
        if self.kind == "inverse":
            d = 1.0 / r
            jac = -diff * (d**3)[:, None]                 # d(1/r)/dx_i = -(x_i - x_j) / r^3
        else:
            d = r
            jac = diff / r[:, None]                       # dr/dx_i = (x_i - x_j) / r
        return d, jac, diff

    def pullback(self, grad_d: np.ndarray, jac: np.ndarray) -> np.ndarray:
        """Cartesian gradient ``dE/dx`` (N, 3) from ``dE/dd`` (P,) by the chain rule.

        Parameters
        ----------
        grad_d : array of shape (n_pairs,)
            dE/dd.
        jac : array of shape (n_pairs, 3)
            Per-pair derivative from :meth:`transform_with_jacobian`.

        Returns
        -------
        array of shape (n_atoms, 3)
            dE/dx.
        """
        return self._incidence.T @ (grad_d[:, None] * jac)

    def jacobian_matrix(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Features ``d`` (P,) and the full Jacobian ``dd/dx`` (P, 3N) of one geometry (x flattened atom-major).

        Parameters
        ----------
        positions : array of shape (n_atoms, 3)
            One geometry (A).

        Returns
        -------
        d : array of shape (n_pairs,)
        J : array of shape (n_pairs, 3 * n_atoms)
        """
        d, jac, _ = self.transform_with_jacobian(positions)
        J = np.zeros((self.n_features, self.n_atoms, 3))
        rows = np.arange(self.n_features)
        J[rows, self.i] = jac
        J[rows, self.j] = -jac
        return d, J.reshape(self.n_features, 3 * self.n_atoms)

