"""ASE Calculator around a trained :class:`~npsnn_edu.gpr.model.GPRPotential` (eV, Angstrom).

A subclass of the kit's one calculator base, :class:`npsnn_edu.ase_interop.EnergyForcesCalculator` (ASE's
``Calculator`` protocol).

Works with ASE's MD drivers (VelocityVerlet, Langevin...) and optimisers (BFGS...). The atoms must be the
molecule the model was trained on: same atom count and order (else ShapeMismatchError); a geometry with
NaN/inf raises InvalidStateError. ``results["energy_std"]`` holds the GP's posterior standard deviation when
``with_std=True`` (slower: a triangular solve per call).
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
from ase.calculators.calculator import all_changes

from ..ase_interop import EnergyForcesCalculator
from ..errors import InvalidParameterError
from ..validation import Boolean, Constraints, Rule, validate_params


def _check_model(name: str, value: Any) -> Any:
    """``value`` if it is a trained GP potential (duck-typed: ``energy_and_forces`` and ``check_symbols``)."""
    if not hasattr(value, "energy_and_forces") or not hasattr(value, "check_symbols"):
        raise InvalidParameterError(f"GPRCalculator needs a trained npsnn_edu.gpr.GPRPotential: {name} must be one, "
                                    f"got {type(value).__name__}")
    value._require_fit()
    return value


class GPRCalculator(EnergyForcesCalculator):
    """ASE calculator: energy (eV) and forces (eV/A) from a trained GP potential.

    Parameters
    ----------
    model : GPRPotential
        A trained model (positions in A, energies in eV).
    with_std : bool, default False
        Also store the predictive standard deviation (eV) in ``results["energy_std"]``.
    **kwargs
        Options of ASE's ``Calculator``.

    Raises
    ------
    InvalidParameterError
        ``model`` is not a GPRPotential, or ``with_std`` is not True/False.
    NotFittedError
        The model is not trained.
    """

    #: Every ``__init__`` parameter's constraint (``kwargs`` are ASE's and checked by ASE).
    _parameter_constraints: ClassVar[Constraints] = {
        "model": Rule(_check_model, invalid="a GP"),
        "with_std": Boolean(),
    }

    def __init__(self, model: Any, with_std: bool = False, **kwargs: Any):
        checked = validate_params(self._parameter_constraints, {"model": model, "with_std": with_std})
        super().__init__(**kwargs)
        self.model = checked["model"]
        self.with_std = checked["with_std"]
        self._checked_numbers: np.ndarray | None = None

    def energy_and_forces_of(self, atoms: Any) -> tuple[float, np.ndarray]:
        """The GP's posterior-mean energy (eV) and its forces (eV/A) at ``atoms``.

        Parameters
        ----------
        atoms : ase.Atoms
            The molecule the model was trained on (same atom count and order, else ShapeMismatchError).

        Returns
        -------
        energy : float
            Posterior-mean energy in eV.
        forces : ndarray of shape (n_atoms, 3)
            Minus its gradient, in eV/A.
        """
        if self._checked_numbers is None or len(self._checked_numbers) != len(atoms) or \
                np.any(self._checked_numbers != atoms.numbers):
            self.model.check_symbols(atoms.get_chemical_symbols())
            self._checked_numbers = atoms.numbers.copy()
        energy, forces = self.model.energy_and_forces(atoms.get_positions())
        return float(energy), forces

    def calculate(self, atoms: Any = None, properties: Sequence[str] = ("energy",),
                  system_changes: Sequence[str] = all_changes) -> None:
        """ASE's entry point: energy, free energy and forces (the base class), plus ``energy_std`` if asked.

        Parameters
        ----------
        atoms : ase.Atoms or None
            The atoms to compute (None: the attached ones).
        properties : sequence of str
            What ASE asks for.
        system_changes : sequence of str
            What changed since the last call (ASE's bookkeeping).
        """
        super().calculate(atoms, properties, system_changes)
        if self.with_std:
            self.results["energy_std"] = float(self.model.predict(self.atoms.get_positions(), return_std=True)[1])
