"""npsnn_edu: a Jupyter-first kit for Newtonian MD, integrator stability, GPR potentials and spiking PINNs.

Core (no torch import): :mod:`~npsnn_edu.potentials`, :mod:`~npsnn_edu.integrators`,
:mod:`~npsnn_edu.trajectory`, :mod:`~npsnn_edu.systems`, :mod:`~npsnn_edu.units`, with the shared vocabulary
(:mod:`~npsnn_edu.validation`, :mod:`~npsnn_edu.registry`, :mod:`~npsnn_edu.config`). The ASE adapter
:mod:`~npsnn_edu.ase_interop` builds on the core and registers its converters in
:data:`npsnn_edu.registry.ADAPTERS` when the package is imported (the core never imports it).
Chapters build on it: :mod:`~npsnn_edu.md` (chapters 1-2: analysis, stability), :mod:`~npsnn_edu.gpr` (3),
:mod:`~npsnn_edu.spiking` (4). Plots, 3D playback and widgets sit on top in :mod:`~npsnn_edu.viz`, with the
exercises' self-checks in :mod:`~npsnn_edu.exercises`; course tooling (nbgrader, hub links, the website) in
:mod:`~npsnn_edu.course` on top of everything.
Imports sit at the top of each module; the few kept inside functions (heavy or optional dependencies) are
listed, with the reason for each, in :data:`npsnn_edu._lazy.LAZY_IMPORTS`.
"""
from . import ase_interop  # noqa: F401  (registers the ASE converters used by Trajectory.write/read etc.)
from .config import fast_mode, mode, pick, set_mode
from .errors import (
                     DataFormatError,
                     DeviceUnavailableError,
                     InvalidParameterError,
                     InvalidStateError,
                     NotFittedError,
                     NpsnnError,
                     ShapeMismatchError,
                     SimulationDivergedError,
                     UnknownNameError,
)
from .integrators import available_integrators, get_integrator, integrator_class, simulate
from .potentials import DoubleWell, Harmonic, LennardJones, Morse, available_potentials, get_potential
from .systems import System, fcc_lattice, get_system, maxwell_boltzmann_velocities
from .trajectory import Trajectory
from .units import ARGON, LJUnits

__version__ = "0.1.0"

__all__ = [
    "ARGON", "DataFormatError", "DeviceUnavailableError", "DoubleWell", "Harmonic", "InvalidParameterError",
    "InvalidStateError", "LJUnits", "LennardJones", "Morse", "NotFittedError", "NpsnnError", "ShapeMismatchError",
    "SimulationDivergedError", "System", "Trajectory", "UnknownNameError", "available_integrators",
    "available_potentials", "fast_mode", "fcc_lattice", "get_integrator", "get_potential", "get_system",
    "integrator_class", "maxwell_boltzmann_velocities", "mode", "pick", "set_mode", "simulate",
]
