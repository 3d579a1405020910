"""Chapter 3: Gaussian-process potentials with physics-informed prior means.

* :mod:`~npsnn_edu.gpr.data`: GFN2-xTB reference data (shipped; ``python -m npsnn_edu.gpr.data --regenerate``).
* :mod:`~npsnn_edu.gpr.descriptors`: inverse-distance descriptor with analytic Jacobian.
* :mod:`~npsnn_edu.gpr.priors`: prior means MF1 (zero), MF2 (constant = training mean), MF3 (anchored linear),
  MF4 (anchored quadratic), MF5 (physical: sum of free-atom energies), extras, or a callable.
* :mod:`~npsnn_edu.gpr.model`: :class:`GPRPotential` (RBF kernel, Cholesky, analytic forces, variance).
* :mod:`~npsnn_edu.gpr.calculator`: :class:`GPRCalculator` for ASE MD drivers and optimisers.
* :mod:`~npsnn_edu.gpr.experiments`: accuracy per prior, NVT crash statistics, bond-stretch profiles.
"""
from typing import Any

from .calculator import GPRCalculator
from .descriptors import PairDescriptor
from .model import GPRPotential, rbf_kernel
from .priors import (
    PRIOR_LABELS,
    PRIOR_NAMES,
    PRIORS,
    CallablePrior,
    FreeAtomPrior,
    LinearAnchoredPrior,
    MaxPrior,
    MeanPrior,
    MedianPrior,
    PriorMean,
    QuadraticAnchoredPrior,
    ZeroPrior,
    get_prior,
)

__all__ = ["GPRCalculator", "MoleculeData", "isolated_atom_energies", "load", "PairDescriptor", "GPRPotential",
           "rbf_kernel", "PRIOR_LABELS", "PRIOR_NAMES", "CallablePrior", "FreeAtomPrior", "LinearAnchoredPrior",
           "MaxPrior", "MeanPrior", "MedianPrior", "PriorMean", "QuadraticAnchoredPrior", "ZeroPrior", "get_prior",
           "PRIORS"]


def __getattr__(name: str) -> Any:
    # data names are imported lazily so that `python -m npsnn_edu.gpr.data` runs without a runpy warning
    if name in ("MoleculeData", "isolated_atom_energies", "load"):
        from . import data

        return getattr(data, name)
    raise AttributeError(f"module 'npsnn_edu.gpr' has no attribute {name!r}")
