"""ASE interoperability, both ways.

* :class:`EnergyForcesCalculator`: the kit's ONE ASE ``Calculator`` base (energy, free energy, forces from one
  method); :class:`PotentialCalculator` (any npsnn_edu potential) and
  :class:`npsnn_edu.gpr.calculator.GPRCalculator` (a trained GP) derive from it, so ASE's MD drivers,
  optimisers and viewers work with every model of the kit.
* :class:`AseCalculatorPotential` and :func:`simulate_atoms`: run npsnn_edu's integrators on an
  ``ase.Atoms`` with ANY ASE calculator (EMT, LennardJones, tblite's GFN2-xTB, a GPR model...).
* :func:`trajectory_to_atoms` / :func:`atoms_to_trajectory`: convert a :class:`Trajectory` to a list of
  ``Atoms`` (readable by ``ase.io`` and nglview) and back.

* :func:`write_trajectory` / :func:`read_trajectory`: any file format ASE knows.

This module depends on the core, never the other way round: it registers its converters in
:data:`npsnn_edu.registry.ADAPTERS` (``import npsnn_edu`` imports it), and the core's thin wrappers
(``Potential.as_ase_calculator``, ``Trajectory.write/read/to_atoms``, ``System.as_atoms``) look them up there.

ASE units are eV, Angstrom, amu and ASE's time unit (``ase.units.fs`` per femtosecond).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
from ase import Atoms
from ase import units as ase_units
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator

from .errors import DataFormatError, InvalidParameterError, InvalidStateError, ShapeMismatchError
from .integrators import integrator_class, simulate
from .potentials import Potential
from .registry import ADAPTERS
from .trajectory import Trajectory
from .units import ARGON, KB_EV_PER_K, LJUnits
from .validation import Constraints, InstanceOf, Rule, positive, validate_params


def _check_energy_model(name: str, value: Any) -> Any:
    """``value`` if it has an ``energy_and_forces`` method (a Potential, or anything shaped like one)."""
    if not hasattr(value, "energy_and_forces"):
        raise InvalidParameterError(f"{name} must have an energy_and_forces(positions) method")
    return value


def _check_dim(name: str, value: Any) -> int:
    """``value`` as 1, 2 or 3 (the Cartesian coordinates a potential sees)."""
    if isinstance(value, bool) or value not in (1, 2, 3):
        raise InvalidParameterError(f"{name} must be 1, 2 or 3, got {value}")
    return int(value)


def _check_calculator(name: str, value: Any) -> Any:
    """``value`` if it is shaped like an ASE calculator (a ``get_potential_energy`` method)."""
    if not hasattr(value, "get_potential_energy"):
        raise InvalidParameterError(f"{name} must be an ASE calculator (with get_potential_energy), "
                                    f"got {type(value).__name__}")
    return value


class EnergyForcesCalculator(Calculator):
    """The kit's ASE calculator base (ASE's ``Calculator`` protocol): energy and forces from ONE method.

    A subclass implements :meth:`energy_and_forces_of` (``atoms`` -> energy in eV, forces in eV/A of shape
    (n_atoms, 3)); this base attaches the atoms (ASE's caching of unchanged geometries included), refuses a
    calculation without atoms (:class:`~npsnn_edu.errors.InvalidParameterError`) or with NaN/inf positions
    (:class:`~npsnn_edu.errors.InvalidStateError`), and stores ``energy``, ``free_energy`` (= energy: no
    electronic entropy) and ``forces`` in ``results``. Subclasses: :class:`PotentialCalculator`,
    :class:`npsnn_edu.gpr.calculator.GPRCalculator`.
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def calculate(self, atoms: Atoms | None = None, properties: Sequence[str] = ("energy",),
                  system_changes: Sequence[str] = all_changes) -> None:
        """ASE's entry point: compute every implemented property of ``atoms`` (or of the attached atoms).

        Parameters
        ----------
        atoms : ase.Atoms or None
            The atoms to compute (None: the attached ones).
        properties : sequence of str
            What ASE asks for; every implemented property is computed in one pass.
        system_changes : sequence of str
            What changed since the last call (ASE's bookkeeping).

        Raises
        ------
        InvalidParameterError
            No atoms attached.
        InvalidStateError
            NaN or inf positions.
        """
        super().calculate(atoms, properties, system_changes)
        if self.atoms is None:
            raise InvalidParameterError("no atoms to calculate: attach the calculator to an ase.Atoms first")
        if not np.all(np.isfinite(self.atoms.get_positions())):
            raise InvalidStateError("the atoms' positions contain NaN or inf; the geometry is unusable")
        energy, forces = self.energy_and_forces_of(self.atoms)
        self.results["energy"] = float(energy)
        self.results["free_energy"] = self.results["energy"]
        self.results["forces"] = np.asarray(forces, dtype=float).reshape(len(self.atoms), 3)

    def energy_and_forces_of(self, atoms: Atoms) -> tuple[float, np.ndarray]:
        """Energy (eV) and forces (eV/A) of ``atoms``: what a subclass implements.

        Parameters
        ----------
        atoms : ase.Atoms
            The geometry (positions in A), already checked to be finite.

        Returns
        -------
        energy : float
            Potential energy in eV.
        forces : ndarray of shape (n_atoms, 3)
            Forces in eV/A (minus the gradient of the energy).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement energy_and_forces_of(atoms)")


class PotentialCalculator(EnergyForcesCalculator):
    """ASE Calculator around an npsnn_edu :class:`~npsnn_edu.potentials.Potential`.

    If ``lj_units`` is given, the potential's parameters are in reduced units: positions are divided by
    sigma before evaluation, energies multiplied by epsilon (eV) and forces by epsilon/sigma (eV/A).
    Low-dimensional potentials (D = 1 or 2) see only the first D Cartesian coordinates.

    Parameters
    ----------
    potential : Potential
        The npsnn_edu energy model.
    lj_units : LJUnits or None, default None
        Units of a potential with reduced parameters; None: parameters in eV and A.
    dim : int, default 3
        Coordinates the potential sees (1, 2 or 3).
    **kwargs
        Options of ASE's ``Calculator``.
    """

    implemented_properties = ["energy", "free_energy", "forces"]
    #: Every ``__init__`` parameter's constraint (``kwargs`` are ASE's and checked by ASE).
    _parameter_constraints: ClassVar[Constraints] = {
        "potential": Rule(_check_energy_model, invalid=3.0),
        "lj_units": (None, InstanceOf(LJUnits, hint="e.g. npsnn_edu.units.ARGON, or None for eV and A")),
        "dim": Rule(_check_dim, invalid=4),
    }

    def __init__(self, potential: Potential, lj_units: LJUnits | None = None, dim: int = 3, **kwargs: Any):
        checked = validate_params(self._parameter_constraints, {"potential": potential, "lj_units": lj_units,
                                                                "dim": dim})
        super().__init__(**kwargs)
        self.potential = checked["potential"]
        self.lj_units = checked["lj_units"]
        self.dim = checked["dim"]

    def energy_and_forces_of(self, atoms: Atoms) -> tuple[float, np.ndarray]:
        """The potential's energy (eV) and forces (eV/A) at ``atoms``' positions (reduced units converted).

        Parameters
        ----------
        atoms : ase.Atoms
            The geometry; only the first ``dim`` Cartesian coordinates are seen by the potential.

        Returns
        -------
        energy : float
            Potential energy in eV.
        forces : ndarray of shape (n_atoms, 3)
            Forces in eV/A (zero along the coordinates the potential does not see).
        """
        pos = atoms.get_positions()[:, : self.dim]
        length = 1.0 if self.lj_units is None else self.lj_units.length
        energy_unit = 1.0 if self.lj_units is None else self.lj_units.energy
        box = getattr(self.potential, "box", None)
        if box is not None and atoms.pbc.any():
            cell = np.diag(atoms.cell.array)[: self.dim] / length
            if not np.allclose(cell, box, rtol=1e-8):
                raise ShapeMismatchError(
                    f"the atoms' cell {cell * length} does not match the potential's periodic box {box * length}; "
                    "build the potential with box=atoms.cell lengths (in the potential's units)"
                )
        energy, forces = self.potential.energy_and_forces(pos / length)
        f3 = np.zeros((len(atoms), 3))
        f3[:, : self.dim] = np.asarray(forces) * energy_unit / length
        return float(energy) * energy_unit, f3


class AseCalculatorPotential(Potential):
    """An ASE calculator seen as an npsnn_edu potential (positions in Angstrom, energy in eV).

    ``atoms`` is a template giving symbols, cell and pbc; its calculator (or ``calculator``) is used.

    Parameters
    ----------
    atoms : ase.Atoms
        Template structure (symbols, cell, pbc); positions are replaced at every call.
    calculator : ase Calculator or None, default None
        The calculator; None: ``atoms.calc``.

    Raises
    ------
    InvalidParameterError
        Neither ``calculator`` nor ``atoms.calc`` is set.
    """

    name = "ase-calculator"
    #: Every ``__init__`` parameter's constraint (that one of the two brings a calculator is checked by ``__init__``).
    _parameter_constraints: ClassVar[Constraints] = {
        "atoms": InstanceOf(Atoms),
        "calculator": (None, Rule(_check_calculator, invalid=3.0)),
    }

    def __init__(self, atoms: Atoms, calculator: Any = None):
        checked = validate_params(self._parameter_constraints, {"atoms": atoms, "calculator": calculator})
        atoms, calculator = checked["atoms"], checked["calculator"]
        self.atoms = atoms.copy()
        self.atoms.calc = calculator if calculator is not None else atoms.calc
        if self.atoms.calc is None:
            raise InvalidParameterError("the Atoms have no calculator: set atoms.calc = ... or pass calculator=")
        self.n_particles = len(atoms)
        self.box = None

    def _energy_and_forces(self, x: Any) -> tuple[Any, Any]:
        x = np.asarray(x, dtype=float)
        if x.ndim == 2:
            if x.shape[1] != 3:
                raise ShapeMismatchError(f"ASE calculators need positions shaped (N, 3), got {x.shape}")
            self.atoms.set_positions(x)
            return float(self.atoms.get_potential_energy()), self.atoms.get_forces()
        flat = x.reshape(-1, *x.shape[-2:])
        out = [self.energy_and_forces_unchecked(f) for f in flat]
        return (np.array([e for e, _ in out]).reshape(x.shape[:-2]),
                np.array([f for _, f in out]).reshape(x.shape))


def simulate_atoms(atoms: Atoms, *, dt_fs: float, n_steps: int, integrator: str = "velocity_verlet",
                   temperature_K: float | None = None, friction_per_fs: float = 0.01, seed: int = 0,
                   record_every: int = 1, calculator: Any = None, **kwargs: Any) -> Trajectory:
    """Run an npsnn_edu integrator on ``atoms`` with its ASE calculator; returns a Trajectory in ASE units.

    ``dt_fs`` is the time step in femtoseconds; ``temperature_K`` and ``friction_per_fs`` (1/fs) are used by
    ``integrator="langevin"``. Initial velocities are ``atoms.get_velocities()``. The returned trajectory's
    times are in ASE time units (divide by ``ase.units.fs`` for fs).

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure with a calculator (positions in A).
    dt_fs : float
        Time step in fs.
    n_steps : int
        Number of steps.
    integrator : str, default "velocity_verlet"
        A name from :func:`~npsnn_edu.integrators.available_integrators`.
    temperature_K : float or None, default None
        Bath temperature in K (``"langevin"``).
    friction_per_fs : float, default 0.01
        Langevin friction in 1/fs.
    seed : int, default 0
        Seed of the thermostat noise.
    record_every : int, default 1
        Keep every k-th frame.
    calculator : ase Calculator or None, default None
        Calculator to use instead of ``atoms.calc``.
    **kwargs
        Further arguments of :func:`~npsnn_edu.integrators.simulate`.

    Returns
    -------
    Trajectory
        In ASE units (A, eV, amu, ASE time).
    """
    dt_fs = positive("dt_fs", dt_fs, hint="the time step in femtoseconds, e.g. dt_fs=1.0")
    pot = AseCalculatorPotential(atoms, calculator)
    options: dict[str, Any] = {}
    if integrator_class(integrator).thermostat:
        if temperature_K is None:
            raise InvalidParameterError(f"integrator={integrator!r} is a thermostat: it needs temperature_K")
        options = {"temperature": temperature_K, "friction": friction_per_fs / ase_units.fs, "seed": seed}
    cell = atoms.cell.array
    box = np.diag(cell).copy() if atoms.pbc.all() and np.allclose(cell, np.diag(np.diag(cell))) else None
    metadata = {"units": "ase", "symbols": atoms.get_chemical_symbols(), "box": box, **kwargs.pop("metadata", {})}
    return simulate(pot, atoms.get_positions(), atoms.get_velocities(), dt=dt_fs * ase_units.fs, n_steps=n_steps,
                    integrator=integrator, masses=atoms.get_masses(), record_every=record_every, kB=KB_EV_PER_K,
                    metadata=metadata, **options, **kwargs)


def trajectory_to_atoms(traj: Trajectory, symbols: "str | Sequence[str] | None" = None,
                        lj_units: LJUnits | None = None, wrap: bool = False) -> list[Atoms]:
    """Frames of ``traj`` as ASE Atoms (Angstrom, ASE velocities), with energies attached.

    Reduced-unit trajectories are converted with ``lj_units`` (default: the trajectory's own, else argon).
    Low-dimensional trajectories are padded with zeros to 3D; ``info["dim"]`` keeps the original D and
    ``info["time"]`` the frame time in ASE time units (reduced times are multiplied by tau).

    Parameters
    ----------
    traj : Trajectory
        Frames of shape (n_frames, n_atoms, n_dim).
    symbols : str, sequence of str or None, default None
        Chemical symbols (default: the trajectory's, else argon).
    lj_units : LJUnits or None, default None
        Conversion of a reduced-unit trajectory (default: its own, else argon).
    wrap : bool, default False
        Wrap positions into the periodic box.

    Returns
    -------
    list of ase.Atoms
        One per frame, positions in A.
    """
    if traj.units == "reduced":
        units = lj_units or traj.lj_units or ARGON
        length, velocity, energy, time = units.length, units.velocity, units.energy, units.time
        default_symbol = "Ar"
    else:
        length = velocity = energy = time = 1.0
        default_symbol = "X"
    if symbols is None:
        symbols = traj.symbols or [default_symbol] * traj.n_atoms
    elif isinstance(symbols, str):
        symbols = [symbols] * traj.n_atoms
    if len(symbols) != traj.n_atoms:
        raise ShapeMismatchError(f"{len(symbols)} symbols for {traj.n_atoms} particles")
    d = traj.dim
    cell = None
    if traj.box is not None:
        cell = np.zeros(3)
        cell[:d] = traj.box * length
        cell[d:] = max(float(cell[:d].max()), 1.0)
    positions = traj.wrapped_positions() if wrap else traj.positions
    images = []
    for k in range(traj.n_frames):
        pos = np.zeros((traj.n_atoms, 3))
        vel = np.zeros((traj.n_atoms, 3))
        pos[:, :d] = positions[k] * length
        vel[:, :d] = traj.velocities[k] * velocity
        masses = traj.masses * (units.mass if traj.units == "reduced" else 1.0)
        atoms = Atoms(symbols=list(symbols), positions=pos, masses=masses,
                      cell=cell, pbc=[True] * d + [False] * (3 - d) if cell is not None else False)
        atoms.set_velocities(vel)
        # info["time"] is in ASE time units (as everywhere ASE frames carry a time in this kit)
        atoms.info.update({"time": float(traj.times[k]) * time, "dim": d, "units_converted_from": traj.units})
        atoms.calc = SinglePointCalculator(atoms, energy=float(traj.potential_energy[k]) * energy)
        images.append(atoms)
    return images


def atoms_to_trajectory(images: "Sequence[Atoms] | Atoms", *, dt: float | None = None,
                        lj_units: LJUnits | None = None, dim: int | None = None) -> Trajectory:
    """A Trajectory from ASE Atoms frames (e.g. ``ase.io.read(path, ":")``).

    With ``lj_units`` the result is in reduced units, else in ASE units. Potential energies come from the
    frames' calculators (NaN where a frame has none); times from ``info["time"]`` (ASE time units, as
    written by :func:`trajectory_to_atoms`) when present, else ``dt`` (default 1, in the result's units)
    per frame. ``dim`` (default ``info["dim"]`` or 3) keeps only the first D coordinates.

    Parameters
    ----------
    images : ase.Atoms or sequence of ase.Atoms
        The frames.
    dt : float or None, default None
        Time between frames when ``info["time"]`` is absent (result's units; default 1).
    lj_units : LJUnits or None, default None
        Convert to reduced units with these; None: keep ASE units.
    dim : int or None, default None
        Keep the first D coordinates (default ``info["dim"]`` or 3).

    Returns
    -------
    Trajectory

    Raises
    ------
    DataFormatError
        No frames.
    ShapeMismatchError
        Frames with different atom counts.
    """
    if isinstance(images, Atoms):
        images = [images]
    images = list(images)
    if not images or not all(isinstance(a, Atoms) for a in images):
        raise DataFormatError("atoms_to_trajectory needs a non-empty list of ase.Atoms")
    n = len(images[0])
    if any(len(a) != n for a in images):
        raise ShapeMismatchError("all frames must have the same number of atoms")
    d = int(dim or images[0].info.get("dim", 3))
    length = velocity = energy = mass = time = 1.0
    if lj_units is not None:
        length, velocity, energy, mass = lj_units.length, lj_units.velocity, lj_units.energy, lj_units.mass
        time = lj_units.time
    pos = np.array([a.get_positions()[:, :d] for a in images]) / length
    vel = np.array([a.get_velocities()[:, :d] for a in images]) / velocity
    pe = []
    for a in images:
        try:
            pe.append(a.get_potential_energy() / energy)
        except Exception:
            pe.append(np.nan)
    masses = images[0].get_masses() / mass
    ke = 0.5 * np.einsum("n,fnd->f", masses, vel**2)
    times: np.ndarray
    if all("time" in a.info for a in images):
        times = np.array([a.info["time"] for a in images], dtype=float) / time  # info["time"]: ASE time units
        step = float(times[1] - times[0]) if len(times) > 1 else (dt or 1.0)
    else:
        step = float(dt or 1.0)
        times = np.arange(len(images)) * step
    box = None
    if images[0].pbc[:d].all():
        cell = images[0].cell.array
        if np.allclose(cell, np.diag(np.diag(cell))):
            box = np.diag(cell)[:d] / length
    return Trajectory(times=times, positions=pos, velocities=vel, potential_energy=np.array(pe), kinetic_energy=ke,
                      masses=masses, dt=step if dt is None else float(dt), integrator="from-ase",
                      kB=1.0 if lj_units is not None else KB_EV_PER_K, box=box,
                      units="reduced" if lj_units is not None else "ase", lj_units=lj_units,
                      symbols=images[0].get_chemical_symbols())


def write_trajectory(traj: Trajectory, path: "str | Path", **kwargs: Any) -> Path:
    """Write ``traj`` to any file format ASE knows (by extension: ``.traj``, ``.xyz``, ``.extxyz``...).

    Parameters
    ----------
    traj : Trajectory
        The frames.
    path : str or Path
        Output file.
    **kwargs
        Options of :func:`trajectory_to_atoms`.

    Returns
    -------
    Path
    """
    import ase.io
    from ase.io.formats import UnknownFileTypeError

    path = Path(path)
    try:
        ase.io.write(str(path), trajectory_to_atoms(traj, **kwargs))
    except UnknownFileTypeError as exc:
        raise DataFormatError(
            f"no file format for {path.name!r} ({exc}); use .npz (lossless), .traj, .extxyz or .xyz"
        ) from exc
    return path


def read_trajectory(path: "str | Path", **kwargs: Any) -> Trajectory:
    """Read every frame of a file ASE can read as a Trajectory (options of :func:`atoms_to_trajectory`).

    Parameters
    ----------
    path : str or Path
        Input file.
    **kwargs
        Options of :func:`atoms_to_trajectory`.

    Returns
    -------
    Trajectory

    Raises
    ------
    DataFormatError
        A file ASE cannot read as frames.
    """
    import ase.io

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no trajectory file at {path}")
    try:
        images = ase.io.read(str(path), index=":")
    except Exception as exc:
        raise DataFormatError(f"ASE could not read {path} as a trajectory: {exc}") from exc
    return atoms_to_trajectory(images, **kwargs)


for _name, _function in (("potential_calculator", PotentialCalculator), ("trajectory_to_atoms", trajectory_to_atoms),
                         ("write_trajectory", write_trajectory), ("read_trajectory", read_trajectory)):
    ADAPTERS.register(_name, _function, replace=True)
