"""ASE Calculator around a trained :class:`~npsnn_edu.gpr.model.GPRPotential` (eV, Angstrom).

Works with ASE's MD drivers (VelocityVerlet, Langevin...) and optimisers (BFGS...). The atoms must be the
molecule the model was trained on: same atom count and order (else ShapeMismatchError); a geometry with
NaN/inf raises InvalidStateError. ``results["energy_std"]`` holds the GP's posterior standard deviation when
``with_std=True`` (slower: a triangular solve per call).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from ..errors import InvalidParameterError, InvalidStateError


class GPRCalculator(Calculator):
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
        ``model`` is not a GPRPotential.
    NotFittedError
        The model is not trained.
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, model: Any, with_std: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if not hasattr(model, "energy_and_forces") or not hasattr(model, "check_symbols"):
            raise InvalidParameterError("GPRCalculator needs a trained npsnn_edu.gpr.GPRPotential")
        model._require_fit()
        self.model = model
        self.with_std = bool(with_std)
        self._checked_numbers: np.ndarray | None = None

    def calculate(self, atoms: Any = None, properties: Sequence[str] = ("energy",),
                  system_changes: Sequence[str] = all_changes) -> None:
        """Compute ``energy`` (eV) and ``forces`` (eV/A) of ``atoms`` into ``self.results`` (ASE's protocol).

        Parameters
        ----------
        atoms : ase.Atoms or None, default None
            The molecule, same atoms in the same order as the model's.
        properties : sequence of str, default ("energy",)
            Properties asked for.
        system_changes : sequence of str
            What changed since the last call (ASE's ``all_changes``).

        Raises
        ------
        ShapeMismatchError
            Atoms that are not the model's molecule.
        InvalidStateError
            Non-finite positions.
        """
        super().calculate(atoms, properties, system_changes)
        if "numbers" in system_changes or self._checked_numbers is None or \
                len(self._checked_numbers) != len(self.atoms) or np.any(self._checked_numbers != self.atoms.numbers):
            self.model.check_symbols(self.atoms.get_chemical_symbols())
            self._checked_numbers = self.atoms.numbers.copy()
        pos = self.atoms.get_positions()
        if not np.all(np.isfinite(pos)):
            raise InvalidStateError("the atoms' positions contain NaN or inf; the geometry is unusable")
        energy, forces = self.model.energy_and_forces(pos)
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = forces
        if self.with_std:
            self.results["energy_std"] = float(self.model.predict(pos, return_std=True)[1])
