"""Units: reduced Lennard-Jones units for teaching, ASE units (eV, Angstrom, amu, ASE time) for ASE.

This module is the ONE place where unit conversions live.

In reduced LJ units lengths are in sigma, energies in epsilon, masses in m, temperatures in epsilon/k_B
(so k_B = 1), and time in tau = sigma * sqrt(m / epsilon).  ASE uses eV, Angstrom, amu, and its own time
unit (``ase.units.fs`` of them make one femtosecond); k_B = ``ase.units.kB`` eV/K.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from ase import units as ase_units

from .validation import Constraints, InstanceOf, Positive, validate_fields

#: Boltzmann constant in eV/K (ASE's value).
KB_EV_PER_K: float = float(ase_units.kB)
#: 1 kcal/mol in eV.
KCAL_PER_MOL_EV: float = float(ase_units.kcal / ase_units.mol)


@dataclass(frozen=True)
class LJUnits:
    """A reduced-unit system defined by sigma (Angstrom), epsilon (eV) and the particle mass (amu).

    Multiply a reduced quantity by the matching attribute to get ASE units, divide to go back.

    Parameters
    ----------
    sigma_angstrom : float
        Length unit sigma in A (> 0); 3.405 for argon.
    epsilon_ev : float
        Energy unit epsilon in eV (> 0); 0.0103 for argon.
    mass_amu : float
        Particle mass in amu (> 0); 39.948 for argon.
    name : str, default "custom"
        Label of the unit system.

    Raises
    ------
    InvalidParameterError
        A non-positive or non-finite unit.
    """

    sigma_angstrom: float
    epsilon_ev: float
    mass_amu: float
    name: str = "custom"

    #: Every field's constraint, checked at construction (messages name ``LJUnits.<field>``).
    _parameter_constraints: ClassVar[Constraints] = {
        "sigma_angstrom": Positive(), "epsilon_ev": Positive(), "mass_amu": Positive(), "name": InstanceOf(str)}

    def __post_init__(self) -> None:
        validate_fields(self, prefix="LJUnits.")

    @property
    def length(self) -> float:
        """One reduced length in Angstrom."""
        return self.sigma_angstrom

    @property
    def energy(self) -> float:
        """One reduced energy in eV."""
        return self.epsilon_ev

    @property
    def mass(self) -> float:
        """One reduced mass in amu."""
        return self.mass_amu

    @property
    def time(self) -> float:
        """One reduced time tau = sigma sqrt(m/epsilon), in ASE time units."""
        return self.sigma_angstrom * np.sqrt(self.mass_amu / self.epsilon_ev)

    @property
    def time_fs(self) -> float:
        """One reduced time in femtoseconds."""
        return self.time / ase_units.fs

    @property
    def velocity(self) -> float:
        """One reduced velocity (sigma/tau) in ASE units (Angstrom per ASE time unit)."""
        return self.length / self.time

    @property
    def force(self) -> float:
        """One reduced force (epsilon/sigma) in eV/Angstrom."""
        return self.energy / self.length

    @property
    def temperature_kelvin(self) -> float:
        """One reduced temperature (epsilon/k_B) in Kelvin."""
        return self.epsilon_ev / KB_EV_PER_K

    # explicit helpers -------------------------------------------------------------------------
    def to_ase_positions(self, positions_reduced: np.ndarray) -> np.ndarray:
        """Reduced positions (sigma) to Angstrom.

        Parameters
        ----------
        positions_reduced : array of shape (..., n_atoms, 3)
            Positions in units of sigma.

        Returns
        -------
        array of shape (..., n_atoms, 3)
            Positions in A.
        """
        return np.asarray(positions_reduced, dtype=float) * self.length

    def from_ase_positions(self, positions_angstrom: np.ndarray) -> np.ndarray:
        """Positions in Angstrom to reduced units (sigma).

        Parameters
        ----------
        positions_angstrom : array of shape (..., n_atoms, 3)
            Positions in A.

        Returns
        -------
        array of shape (..., n_atoms, 3)
            Positions in units of sigma.
        """
        return np.asarray(positions_angstrom, dtype=float) / self.length

    def to_ase_velocities(self, velocities_reduced: np.ndarray) -> np.ndarray:
        """Reduced velocities (sigma/tau) to ASE velocity units (A per ASE time unit).

        Parameters
        ----------
        velocities_reduced : array of shape (..., n_atoms, 3)
            Velocities in sigma/tau.

        Returns
        -------
        array of shape (..., n_atoms, 3)
            Velocities in A / ASE time unit (multiply by ``ase.units.fs`` for A/fs).
        """
        return np.asarray(velocities_reduced, dtype=float) * self.velocity

    def from_ase_velocities(self, velocities_ase: np.ndarray) -> np.ndarray:
        """ASE velocities (A per ASE time unit) to reduced units (sigma/tau).

        Parameters
        ----------
        velocities_ase : array of shape (..., n_atoms, 3)
            Velocities in A / ASE time unit.

        Returns
        -------
        array of shape (..., n_atoms, 3)
            Velocities in sigma/tau.
        """
        return np.asarray(velocities_ase, dtype=float) / self.velocity

    def kelvin_to_reduced(self, temperature_kelvin: float) -> float:
        """A temperature in kelvin as reduced temperature k_B T / epsilon.

        Parameters
        ----------
        temperature_kelvin : float
            Temperature in K.

        Returns
        -------
        float
            k_B T / epsilon.
        """
        return float(temperature_kelvin) / self.temperature_kelvin

    def reduced_to_kelvin(self, temperature_reduced: float) -> float:
        """A reduced temperature k_B T / epsilon in kelvin.

        Parameters
        ----------
        temperature_reduced : float
            Temperature in units of epsilon / k_B.

        Returns
        -------
        float
            Temperature in K.
        """
        return float(temperature_reduced) * self.temperature_kelvin


#: Argon: sigma = 3.405 A, epsilon = 0.0103 eV (about 119.5 K), m = 39.948 amu (Rahman 1964 parameters).
ARGON = LJUnits(sigma_angstrom=3.405, epsilon_ev=0.0103, mass_amu=39.948, name="argon")

