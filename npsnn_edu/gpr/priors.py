"""Prior mean functions m(d) of the GP potential (the function the GP falls back to far from data).

The GP models the residual ``E - m(d)``; prediction is ``E*(d) = m(d) + k(d)^T alpha``. Close to training
data the prior barely matters; FAR from data ``k(d) -> 0`` so ``E* -> m(d)`` and the forces from the kernel
part vanish. Where ``m`` sits relative to the data therefore decides what an MD run sees when it wanders
off: a prior BELOW/INSIDE the data range makes unexplored regions look attractive (the molecule can fall into
a spurious low-energy "hole"); a prior far ABOVE (MF5) makes them look like a high wall.

Our five named priors (the FFLUX paper's exact formulas are not public; these follow the FEREBUS options):

=====  ==============  ===================================================================================
name   alias           definition (energies in eV, ``d`` the descriptor)
=====  ==============  ===================================================================================
MF1    ``zero``        ``m = 0`` (simple kriging). For absolute xTB energies (~ -449 eV for malondialdehyde)
                       0 is hundreds of eV ABOVE the data.
MF2    ``mean``        ``m = mean(E_train)`` (ordinary kriging; sklearn's ``normalize_y=True``).
MF3    ``max``         ``m = max(E_train)``: top of the sampled range, still data-centred.
MF4    ``linear``      ``m(d) = E_min + w . (d - d_min)``: linear least squares in the descriptor, anchored at
                       the lowest-energy training point ``(d_min, E_min)``; ``w`` by (ridge-regularised) least
                       squares of ``E - E_min`` on ``d - d_min``. Extrapolates linearly, may go DOWN.
MF5    ``free_atoms``  ``m = sum_a E_atom(Z_a)``: sum of isolated-atom energies from the SAME method
                       (GFN2-xTB: H -10.707, C -48.798, O -102.522 eV): the energy of the dissociated molecule,
                       tens of eV above the bound-molecule data (54 eV for malondialdehyde, 13 eV for water):
                       the physical "far" value.
=====  ==============  ===================================================================================

A user-supplied callable ``f(D) -> energies`` (``D`` shaped (M, P)) is accepted as well: :class:`CallablePrior`.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import InvalidParameterError, unknown_name

PRIOR_NAMES = ("MF1", "MF2", "MF3", "MF4", "MF5")
ALIASES = {"zero": "MF1", "mean": "MF2", "max": "MF3", "linear": "MF4", "free_atoms": "MF5"}
PRIOR_LABELS = {"MF1": "MF1 zero", "MF2": "MF2 mean", "MF3": "MF3 max", "MF4": "MF4 linear (anchored)",
                "MF5": "MF5 free atoms"}


class PriorMean:
    """Base class. ``fit(D, E, symbols)`` sets parameters; ``value(D)`` (M,) and ``gradient(d)`` (P,)."""

    name = "prior"

    def fit(self, D: np.ndarray, E: np.ndarray, symbols: Sequence[str] | None = None) -> "PriorMean":
        return self

    def value(self, D: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def gradient(self, d: np.ndarray) -> np.ndarray:
        """dm/dd at one descriptor vector (P,)."""
        return np.zeros(np.shape(d)[-1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class ConstantPrior(PriorMean):
    """``m = c``; ``c`` fixed (``constant=``) or computed at fit time by a subclass."""

    name = "constant"

    def __init__(self, constant: float | None = None):
        self.constant = None if constant is None else float(constant)

    def value(self, D: np.ndarray) -> np.ndarray:
        if self.constant is None:
            raise InvalidParameterError(f"{self.name} prior is not fitted yet: call fit() (the model does it)")
        return np.full(np.shape(D)[:-1], self.constant)


class ZeroPrior(ConstantPrior):
    """MF1: ``m = 0``."""

    name = "MF1"

    def __init__(self) -> None:
        super().__init__(0.0)


class MeanPrior(ConstantPrior):
    """MF2: ``m = mean(E_train)``."""

    name = "MF2"

    def fit(self, D, E, symbols=None):
        self.constant = float(np.mean(E))
        return self


class MaxPrior(ConstantPrior):
    """MF3: ``m = max(E_train)``."""

    name = "MF3"

    def fit(self, D, E, symbols=None):
        self.constant = float(np.max(E))
        return self


class LinearAnchoredPrior(PriorMean):
    """MF4: ``m(d) = E_min + w . (d - d_min)``, anchored at the lowest-energy training point.

    ``w = argmin |(E - E_min) - (D - d_min) w|^2 + ridge * |w|^2`` (``ridge`` in eV^2 * descriptor^-2 units,
    small, only to keep the solve well-posed when features are collinear).
    """

    name = "MF4"

    def __init__(self, ridge: float = 1e-6):
        self.ridge = float(ridge)
        self.w: np.ndarray | None = None

    def fit(self, D, E, symbols=None):
        k = int(np.argmin(E))
        self.e_min, self.d_min = float(E[k]), np.array(D[k], dtype=float)
        A = D - self.d_min
        b = E - self.e_min
        self.w = np.linalg.solve(A.T @ A + self.ridge * len(E) * np.eye(A.shape[1]), A.T @ b)
        return self

    def value(self, D):
        if self.w is None:
            raise InvalidParameterError("MF4 prior is not fitted yet: call fit() (the model does it)")
        return self.e_min + (np.asarray(D) - self.d_min) @ self.w

    def gradient(self, d):
        return self.w.copy()


class FreeAtomPrior(ConstantPrior):
    """MF5: ``m = sum of isolated-atom energies`` of the molecule's atoms (same reference method).

    ``atom_energies`` maps element symbol -> energy (eV); default: GFN2-xTB values computed with tblite
    (stored in the shipped data files' provenance).
    """

    name = "MF5"

    def __init__(self, atom_energies: Mapping[str, float] | None = None):
        super().__init__(None)
        self.atom_energies = dict(atom_energies) if atom_energies is not None else None

    def fit(self, D, E, symbols=None):
        if symbols is None:
            raise InvalidParameterError("MF5 needs the element symbols of the molecule (fit(..., symbols=...))")
        energies = self.atom_energies
        if energies is None:
            from .data import isolated_atom_energies
            energies = self.atom_energies = isolated_atom_energies(symbols)
        missing = sorted(set(symbols) - set(energies))
        if missing:
            raise InvalidParameterError(f"no isolated-atom energy for {missing}; pass atom_energies={{...}}")
        self.constant = float(sum(energies[s] for s in symbols))
        return self


class CallablePrior(PriorMean):
    """A user-supplied prior ``fn(D) -> energies (M,)`` for descriptors ``D`` (M, P).

    ``grad(d) -> (P,)`` gives dm/dd; without it a central finite difference (step ``h``) is used.
    """

    name = "callable"

    def __init__(self, fn: Callable[[np.ndarray], Any], grad: Callable[[np.ndarray], Any] | None = None,
                 h: float = 1e-5):
        if not callable(fn):
            raise InvalidParameterError("a custom prior must be callable: fn(D) -> energies")
        self.fn, self.grad, self.h = fn, grad, float(h)

    def value(self, D):
        D = np.atleast_2d(np.asarray(D, dtype=float))
        out = np.asarray(self.fn(D), dtype=float).reshape(-1)
        if out.shape != (D.shape[0],):
            out = np.broadcast_to(out, (D.shape[0],)).copy()
        return out

    def gradient(self, d):
        if self.grad is not None:
            return np.asarray(self.grad(np.asarray(d, dtype=float)), dtype=float)
        d = np.asarray(d, dtype=float)
        E = np.eye(len(d)) * self.h
        return (self.value(d + E) - self.value(d - E)) / (2 * self.h)


_CLASSES = {"MF1": ZeroPrior, "MF2": MeanPrior, "MF3": MaxPrior, "MF4": LinearAnchoredPrior, "MF5": FreeAtomPrior}


def canonical_prior_name(name: str) -> str:
    """'MF2', 'mf2' or 'mean' -> 'MF2'; unknown -> UnknownNameError."""
    key = str(name)
    if key.upper() in _CLASSES:
        return key.upper()
    if key.lower() in ALIASES:
        return ALIASES[key.lower()]
    raise unknown_name("prior", name, list(PRIOR_NAMES) + list(ALIASES))


def get_prior(prior: "str | PriorMean | Callable[[np.ndarray], Any]", **options: Any) -> PriorMean:
    """A prior from a name (MF1..MF5 or alias), an existing PriorMean, or a callable ``fn(D)``."""
    if isinstance(prior, PriorMean):
        return prior
    if isinstance(prior, str):
        return _CLASSES[canonical_prior_name(prior)](**options)
    if callable(prior):
        return CallablePrior(prior, **options)
    raise InvalidParameterError(f"prior must be a name ({', '.join(PRIOR_NAMES)}), a PriorMean or a callable, "
                                f"got {type(prior).__name__}")
