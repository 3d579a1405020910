"""Prior mean functions m(d) of the GP potential (the function the GP falls back to far from data).

The GP models the residual ``E - m(d)``; prediction is ``E*(d) = m(d) + k(d)^T alpha``. Close to training
data the prior barely matters; FAR from data ``k(d) -> 0`` so ``E* -> m(d)``: the kernel part of the forces
vanishes and what remains is the prior's own force ``-dm/dx``: zero for a constant prior (zero, constant,
physical), NOT zero for the linear and quadratic priors, which keep pulling along their fitted slope. Where
``m`` sits relative to the data therefore decides what an MD run sees when it wanders off: a prior inside
or below the data range makes unexplored regions look flat or attractive; the physical prior, far ABOVE,
makes them look like a high wall. How far the model is from data is measured by the prior weight
``w(x)`` (:meth:`npsnn_edu.gpr.model.GPRPotential.prior_weight`).

The FFLUX paper (Isamura & Popelier, Commun. Chem. 2025) numbers its priors MF1..MF5; that numbering is not
in any public code we found. The kit's MF names map onto the prior means of the group's PUBLIC code as
follows (this table is the one place that says so; the notebook repeats it):

=====  ==================  ====================================================  ===================================
name   aliases             definition (energies in eV, ``d`` the descriptor)      public source
=====  ==================  ====================================================  ===================================
MF1    zero                ``m = 0`` (simple kriging); absolute xTB energies       FEREBUS-v7 ``src/mean`` zero mean;
                           (~ -449 eV) lie hundreds of eV below it                 ICHOR ``models/mean`` ZeroMean
MF2    constant, mean      ``m = mean(E_train)`` (ordinary kriging)                FEREBUS constant mean; ICHOR
                                                                                   ConstantMean
MF3    linear              ``m = E_min + beta . (d - d_min)``, anchored at the     FEREBUS linear mean; ICHOR
                           lowest-energy training point, beta least squares        LinearMean
MF4    quadratic           ``m = E_min + sum_k beta_k (d_k - d_min,k)^2``,         FEREBUS quadratic mean; ICHOR
                           same anchor, beta least squares                         QuadraticMean
MF5    physical,           ``m = f * sum_a E_atom(Z_a)`` (f = 1): isolated-atom    pyFEREBUS (called from ICHOR)
       free_atoms          energies of the same method (GFN2-xTB: H -10.707,       "physical" mean,
                           C -48.798, O -102.522 eV), tens of eV above the data    ``iqa_deviation_factor``
=====  ==================  ====================================================  ===================================

Extras (no claim to a public source beyond the one named): ``median`` (median of the training energies;
listed among ICHOR's means), ``training_max`` (maximum of the training energies; a kit teaching extra, the top
of the sampled range). A user callable ``f(D) -> energies`` is accepted as well (:class:`CallablePrior`).

scikit-learn's ``GaussianProcessRegressor(normalize_y=True)`` is MF2 with an extra twist: it also divides
the targets by their standard deviation (the signal variance is then learned on the scaled targets);
without ``normalize_y`` it is MF1. Names resolve through :data:`PRIORS` (a :class:`~npsnn_edu.registry.Registry`).
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from ..errors import InvalidParameterError
from ..registry import Registry, build
from ..validation import AtLeast, Constraints, Finite, InstanceOf, IsCallable, Positive, validate_params

PRIOR_NAMES = ("MF1", "MF2", "MF3", "MF4", "MF5")
EXTRA_PRIOR_NAMES = ("median", "training_max")
PRIOR_LABELS = {"MF1": "MF1 zero", "MF2": "MF2 constant (mean)", "MF3": "MF3 linear (anchored)",
                "MF4": "MF4 quadratic (anchored)", "MF5": "MF5 physical (free atoms)", "median": "median",
                "training_max": "training max"}
PRIOR_SOURCES = {"MF1": "FEREBUS-v7 src/mean zero; ICHOR models/mean",
                 "MF2": "FEREBUS-v7 src/mean constant; ICHOR models/mean",
                 "MF3": "FEREBUS-v7 src/mean linear; ICHOR models/mean",
                 "MF4": "FEREBUS-v7 src/mean quadratic; ICHOR models/mean",
                 "MF5": "pyFEREBUS physical mean (via ICHOR), iqa_deviation_factor",
                 "median": "ICHOR models/mean (median of targets)",
                 "training_max": "kit teaching extra (no public source)"}


class PriorMean:
    """Base class. ``fit(D, E, symbols)`` sets parameters; ``value(D)`` (M,) and ``gradient(d)`` (P,)."""

    name = "prior"

    def fit(self, D: np.ndarray, E: np.ndarray, symbols: Sequence[str] | None = None) -> "PriorMean":
        """Set the prior's parameters from the training data; returns ``self``.

        Parameters
        ----------
        D : array of shape (n_train, n_features)
            Training descriptors.
        E : array of shape (n_train,)
            Training energies (eV).
        symbols : sequence of str or None, default None
            Element symbols (MF5 needs them).

        Returns
        -------
        PriorMean
        """
        return self

    def value(self, D: np.ndarray) -> np.ndarray:
        """Prior energies m(d) (eV) at each row of ``D``.

        Parameters
        ----------
        D : array of shape (n, n_features)
            Descriptors.

        Returns
        -------
        array of shape (n,)
        """
        raise NotImplementedError

    def gradient(self, d: np.ndarray) -> np.ndarray:
        """dm/dd at one descriptor vector (P,).

        Parameters
        ----------
        d : array of shape (n_features,)
            One descriptor vector.

        Returns
        -------
        array of shape (n_features,)
        """
        return np.zeros(np.shape(d)[-1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class ConstantPrior(PriorMean):
    """``m = c``; ``c`` fixed (``constant=``) or computed at fit time by a subclass.

    Parameters
    ----------
    constant : float or None, default None
        The constant c (eV); None: set at fit time.
    """

    name = "constant"

    _parameter_constraints: ClassVar[Constraints] = {"constant": (None, Finite(hint="the prior energy in eV"))}

    def __init__(self, constant: float | None = None):
        self.constant = validate_params(ConstantPrior._parameter_constraints, {"constant": constant})["constant"]

    def value(self, D: np.ndarray) -> np.ndarray:
        if self.constant is None:
            raise InvalidParameterError(f"{self.name} prior is not fitted yet: call fit() (the model does it)")
        return np.full(np.shape(D)[:-1], self.constant)


class ZeroPrior(ConstantPrior):
    """MF1: ``m = 0`` (simple kriging)."""

    name = "MF1"

    _parameter_constraints: ClassVar[Constraints] = {}

    def __init__(self) -> None:
        super().__init__(0.0)


class MeanPrior(ConstantPrior):
    """MF2: ``m = mean(E_train)`` (ordinary kriging)."""

    name = "MF2"

    def fit(self, D, E, symbols=None):
        self.constant = float(np.mean(E))
        return self


class MedianPrior(ConstantPrior):
    """Extra: ``m = median(E_train)``."""

    name = "median"

    def fit(self, D, E, symbols=None):
        self.constant = float(np.median(E))
        return self


class MaxPrior(ConstantPrior):
    """Extra ``training_max``: ``m = max(E_train)`` (top of the sampled range; no public source)."""

    name = "training_max"

    def fit(self, D, E, symbols=None):
        self.constant = float(np.max(E))
        return self


class _AnchoredPrior(PriorMean):
    """Shared code of the anchored least-squares means: features ``phi(d - d_min)``, ``m = E_min + phi . beta``.

    ``beta = argmin |(E - E_min) - Phi beta|^2 + ridge * n * |beta|^2`` (``ridge`` small, only to keep the solve
    well-posed when features are collinear, as pair features of one molecule are).
    """

    _parameter_constraints: ClassVar[Constraints] = {"ridge": AtLeast(0.0, hint="a small ridge, e.g. 1e-8")}

    def __init__(self, ridge: float = 1e-8):
        self.ridge = validate_params(_AnchoredPrior._parameter_constraints, {"ridge": ridge})["ridge"]
        self.beta: np.ndarray | None = None

    def _phi(self, delta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, D, E, symbols=None):
        k = int(np.argmin(E))
        self.e_min, self.d_min = float(E[k]), np.array(D[k], dtype=float)
        A = self._phi(np.asarray(D, float) - self.d_min)
        b = np.asarray(E, float) - self.e_min
        self.beta = np.linalg.solve(A.T @ A + self.ridge * len(E) * np.eye(A.shape[1]), A.T @ b)
        return self

    def _check(self) -> np.ndarray:
        if self.beta is None:
            raise InvalidParameterError(f"{self.name} prior is not fitted yet: call fit() (the model does it)")
        return self.beta

    def value(self, D):
        beta = self._check()
        return self.e_min + self._phi(np.asarray(D, float) - self.d_min) @ beta

    @property
    def w(self) -> np.ndarray | None:
        return self.beta


class LinearAnchoredPrior(_AnchoredPrior):
    """MF3: ``m(d) = E_min + beta . (d - d_min)`` (FEREBUS/ICHOR linear mean). Its force never vanishes."""

    name = "MF3"

    def _phi(self, delta):
        return delta

    def gradient(self, d):
        return self._check().copy()


class QuadraticAnchoredPrior(_AnchoredPrior):
    """MF4: ``m(d) = E_min + sum_k beta_k (d_k - d_min,k)^2`` (FEREBUS/ICHOR quadratic mean)."""

    name = "MF4"

    def _phi(self, delta):
        return delta**2

    def gradient(self, d):
        return 2.0 * self._check() * (np.asarray(d, float) - self.d_min)


class FreeAtomPrior(ConstantPrior):
    """MF5 (physical): ``m = factor * sum of isolated-atom energies`` of the molecule's atoms (same method).

    ``atom_energies`` maps element symbol -> energy (eV); default: GFN2-xTB values computed with tblite
    (stored in the shipped data files' provenance). ``factor`` is pyFEREBUS's ``iqa_deviation_factor`` (1).

    Parameters
    ----------
    atom_energies : mapping of str to float or None, default None
        Isolated-atom energies (eV) per element.
    factor : float, default 1.0
        Scale f of the sum.
    """

    name = "MF5"

    _parameter_constraints: ClassVar[Constraints] = {
        "atom_energies": (None, InstanceOf(Mapping, hint="element symbol -> isolated-atom energy in eV")),
        "factor": Finite(hint="pyFEREBUS's iqa_deviation_factor, 1 by default")}

    def __init__(self, atom_energies: Mapping[str, float] | None = None, factor: float = 1.0):
        super().__init__(None)
        checked = validate_params(self._parameter_constraints, {"atom_energies": atom_energies, "factor": factor})
        self.atom_energies = dict(atom_energies) if atom_energies is not None else None
        self.factor = checked["factor"]

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
        self.constant = self.factor * float(sum(energies[s] for s in symbols))
        return self


class CallablePrior(PriorMean):
    """A user-supplied prior ``fn(D) -> energies (M,)`` for descriptors ``D`` (M, P).

    ``grad(d) -> (P,)`` gives dm/dd; without it a central finite difference (step ``h``) is used.

    Parameters
    ----------
    fn : callable
        ``fn(D) -> energies`` for descriptors of shape (M, P), energies of shape (M,) in eV.
    grad : callable or None, default None
        ``grad(d) -> (P,)``, dm/dd at one descriptor vector.
    h : float, default 1e-5
        Finite-difference step without ``grad``.

    Raises
    ------
    InvalidParameterError
        ``fn`` is not callable.
    """

    name = "callable"
    _parameter_constraints: ClassVar[Constraints] = {
        "fn": IsCallable(message="a custom prior must be callable: fn(D) -> energies"),
        "grad": (None, IsCallable(hint="grad(d) -> dm/dd of shape (P,)")),
        "h": Positive(hint="the finite-difference step in descriptor units, e.g. 1e-5"),
    }

    def __init__(self, fn: Callable[[np.ndarray], Any], grad: Callable[[np.ndarray], Any] | None = None,
                 h: float = 1e-5):
        checked = validate_params(self._parameter_constraints, {"fn": fn, "grad": grad, "h": h})
        self.fn, self.grad, self.h = fn, grad, checked["h"]

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


#: The prior names (canonical names are lower-case in the registry; :func:`canonical_prior_name` gives MF1..).
PRIORS: Registry[type] = Registry("prior")
PRIORS.register("MF1", ZeroPrior, aliases=("zero", "simple_kriging"))
PRIORS.register("MF2", MeanPrior, aliases=("constant", "mean", "ordinary_kriging"))
PRIORS.register("MF3", LinearAnchoredPrior, aliases=("linear",))
PRIORS.register("MF4", QuadraticAnchoredPrior, aliases=("quadratic",))
PRIORS.register("MF5", FreeAtomPrior, aliases=("physical", "free_atoms"))
PRIORS.register("median", MedianPrior)
PRIORS.register("training_max", MaxPrior, aliases=("max",))
_DISPLAY = {n.lower(): n for n in PRIOR_NAMES + EXTRA_PRIOR_NAMES}


def canonical_prior_name(name: str) -> str:
    """'MF2', 'mf2', 'constant' or 'mean' -> 'MF2'; unknown -> UnknownNameError listing the choices.

    Parameters
    ----------
    name : str
        A prior name or alias.

    Returns
    -------
    str

    Raises
    ------
    UnknownNameError
        Unknown name.
    """
    return _DISPLAY[PRIORS.resolve(name)]


def get_prior(prior: "str | PriorMean | Callable[[np.ndarray], Any]", **options: Any) -> PriorMean:
    """A prior from a name (see :data:`PRIORS`), an existing PriorMean, or a callable ``fn(D)``.

    ``atom_energies`` is used by MF5 only (ignored by the others, so a model can pass it for any prior).

    Parameters
    ----------
    prior : str, PriorMean or callable
        Name, prior or ``fn(D)``.
    **options
        Options of the prior (``atom_energies`` for MF5; ignored by the others).

    Returns
    -------
    PriorMean

    Raises
    ------
    UnknownNameError
        Unknown name.
    InvalidParameterError
        Neither a name, a PriorMean nor a callable.
    """
    if isinstance(prior, PriorMean):
        return prior
    if isinstance(prior, str):
        cls = PRIORS.get(prior)
        atom_energies = options.pop("atom_energies", None)
        if cls is FreeAtomPrior:
            options["atom_energies"] = atom_energies
        return build(cls, **options)
    if callable(prior):
        options.pop("atom_energies", None)
        return CallablePrior(prior, **options)
    raise InvalidParameterError(f"prior must be a name ({', '.join(PRIORS.names())}), a PriorMean or a callable, "
                                f"got {type(prior).__name__}")
