"""The trajectory type shared by every chapter.

A :class:`Trajectory` holds recorded frames of a run: times, positions and velocities ``(F, N, D)``,
kinetic and potential energy ``(F,)``, masses, and enough metadata (time step, integrator, units, box,
chemical symbols) to convert to ASE and back. Units are those of the run: ``units="reduced"`` (LJ units,
k_B = 1; ``lj_units`` tells how to convert to ASE) or ``units="ase"`` (eV, Angstrom, amu, ASE time).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataFormatError, InvalidParameterError, ShapeMismatchError
from .registry import adapter
from .units import LJUnits

_ARRAY_FIELDS = ("times", "positions", "velocities", "potential_energy", "kinetic_energy", "masses")
#: Fields with one entry per frame (what :meth:`Trajectory.select` slices; every other field is kept as is).
FRAME_FIELDS = ("times", "positions", "velocities", "potential_energy", "kinetic_energy")
#: Labels a run attaches to its trajectory (``simulate(..., metadata={...})`` takes these keys).
TRAJECTORY_LABELS = ("units", "lj_units", "symbols", "box", "info")


@dataclass
class Trajectory:
    """Recorded frames of a simulation. See the module docstring for units.

    Parameters
    ----------
    times : array of shape (n_frames,)
        Time of each frame (reduced: tau; ASE time units when ``units="ase"``).
    positions : array of shape (n_frames, n_atoms, n_dim)
        Positions (sigma, or A).
    velocities : array of shape (n_frames, n_atoms, n_dim)
        Velocities (sigma/tau, or A / ASE time).
    potential_energy : array of shape (n_frames,)
        Potential energy (epsilon, or eV).
    kinetic_energy : array of shape (n_frames,)
        Kinetic energy (epsilon, or eV).
    masses : array of shape (n_atoms,)
        Particle masses (reduced m, or amu).
    dt : float
        Integration time step of the run.
    integrator : str, default "unknown"
        Name of the integrator that produced it.
    kB : float, default 1.0
        Boltzmann constant of the units (1 reduced; 8.617e-5 eV/K).
    box : array of shape (n_dim,) or None, default None
        Periodic box lengths, None when not periodic.
    units : {"reduced", "ase"}, default "reduced"
        Unit system of every field.
    lj_units : LJUnits or None, default None
        Conversion of reduced units to ASE units.
    symbols : list of str or None, default None
        Chemical symbols, one per atom.
    info : dict, default {}
        Free-form labels.

    Raises
    ------
    ShapeMismatchError
        Fields whose shapes do not agree.
    """

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray
    potential_energy: np.ndarray
    kinetic_energy: np.ndarray
    masses: np.ndarray
    dt: float
    integrator: str = "unknown"
    kB: float = 1.0
    box: np.ndarray | None = None
    units: str = "reduced"
    lj_units: Any = None
    symbols: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _ARRAY_FIELDS:
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))
        if self.positions.ndim != 3:
            raise ShapeMismatchError(f"positions must be shaped (frames, N, D), got {self.positions.shape}")
        n_frames = self.positions.shape[0]
        if self.velocities.shape != self.positions.shape:
            raise ShapeMismatchError(f"velocities {self.velocities.shape} must match positions {self.positions.shape}")
        for name in ("times", "potential_energy", "kinetic_energy"):
            if getattr(self, name).shape != (n_frames,):
                raise ShapeMismatchError(
                    f"{name} must have one value per frame ({n_frames}), got {getattr(self, name).shape}")
        if self.masses.shape != (self.positions.shape[1],):
            raise ShapeMismatchError(
                f"masses must be shaped (N,) = ({self.positions.shape[1]},), got {self.masses.shape}")
        if self.units not in ("reduced", "ase"):
            raise InvalidParameterError(f"units must be 'reduced' or 'ase', got {self.units!r}")
        if self.box is not None:
            self.box = np.asarray(self.box, dtype=float)

    # -- derived quantities -------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        """Number of frames F."""
        return self.positions.shape[0]

    @property
    def n_atoms(self) -> int:
        """Number of particles N."""
        return self.positions.shape[1]

    @property
    def dim(self) -> int:
        """Number of spatial dimensions D."""
        return self.positions.shape[2]

    @property
    def total_energy(self) -> np.ndarray:
        """Kinetic + potential energy per frame."""
        return self.kinetic_energy + self.potential_energy

    @property
    def n_dof(self) -> int:
        """Degrees of freedom used for the temperature: D * N (as ASE's ``Atoms.get_temperature``)."""
        return self.dim * self.n_atoms

    @property
    def temperature(self) -> np.ndarray:
        """Instantaneous kinetic temperature 2 KE / (n_dof k_B) per frame (reduced units or Kelvin)."""
        return 2.0 * self.kinetic_energy / (self.n_dof * self.kB)

    def relative_energy_error(self) -> np.ndarray:
        """(E(t) - E(0)) / scale with scale = max(|E(0)|, mean kinetic energy): 0 for perfect conservation."""
        e = self.total_energy
        scale = max(abs(e[0]), float(np.mean(self.kinetic_energy)), 1e-300)
        return (e - e[0]) / scale

    def energy_drift(self) -> float:
        """Largest |relative energy error| over the run (see :meth:`relative_energy_error`)."""
        return float(np.max(np.abs(self.relative_energy_error())))

    def wrapped_positions(self) -> np.ndarray:
        """Positions folded into the periodic box [0, L) (for viewing); unchanged without a box."""
        if self.box is None:
            return self.positions.copy()
        return np.mod(self.positions, self.box)

    def select(self, frames: Any) -> "Trajectory":
        """The frames ``frames`` (indices, a slice or a boolean mask) as a new Trajectory; every other field
        (masses, dt, units, box, symbols, info and any field added later) is kept.

        Parameters
        ----------
        frames : int array, slice or bool array of shape (n_frames,)
            Frames to keep.

        Returns
        -------
        Trajectory
        """
        idx = np.arange(self.n_frames)[frames]
        idx = np.atleast_1d(idx)
        if idx.size == 0:
            raise InvalidParameterError("select(...) picked no frame; give at least one frame index")
        sliced = {name: getattr(self, name)[idx] for name in FRAME_FIELDS}
        return dataclasses.replace(self, **sliced, info=dict(self.info))

    def to_atoms(self, **kwargs: Any) -> list[Any]:
        """Frames as ASE ``Atoms`` (options: see ``trajectory_to_atoms`` of the ASE adapter module)."""
        return list(adapter("trajectory_to_atoms")(self, **kwargs))

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        return (f"Trajectory({self.n_frames} frames, {self.n_atoms} particles in {self.dim}D, "
                f"t = {self.times[0]:g}..{self.times[-1]:g}, integrator={self.integrator!r}, units={self.units!r})")

    # -- persistence --------------------------------------------------------------------------------
    def save_npz(self, path: "str | Path") -> Path:
        """Save every field to a compressed ``.npz`` (the lossless native format).

        Parameters
        ----------
        path : str or Path
            Output file (``.npz``).

        Returns
        -------
        Path
            The written file.
        """
        path = Path(path)
        meta = {"dt": self.dt, "integrator": self.integrator, "kB": self.kB, "units": self.units,
                "symbols": self.symbols, "info": self.info,
                "lj_units": None if self.lj_units is None else {
                    "sigma_angstrom": self.lj_units.sigma_angstrom, "epsilon_ev": self.lj_units.epsilon_ev,
                    "mass_amu": self.lj_units.mass_amu, "name": self.lj_units.name}}

        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        if self.box is not None:
            arrays["box"] = self.box
        try:
            meta_json = json.dumps(meta, default=_json_default)
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"cannot save trajectory metadata: {exc}") from exc
        np.savez_compressed(path, meta=np.array(meta_json), **arrays)
        return path

    @classmethod
    def load_npz(cls, path: "str | Path") -> "Trajectory":
        """Load a trajectory written by :meth:`save_npz`; malformed files raise DataFormatError.

        Parameters
        ----------
        path : str or Path
            A ``.npz`` written by :meth:`save_npz`.

        Returns
        -------
        Trajectory

        Raises
        ------
        DataFormatError
            The file is not a trajectory ``.npz``.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no trajectory file at {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [k for k in (*_ARRAY_FIELDS, "meta") if k not in data.files]
                if missing:
                    raise DataFormatError(f"{path} is not an npsnn_edu trajectory: missing {', '.join(missing)}")
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in _ARRAY_FIELDS}
                box = data["box"] if "box" in data.files else None
            missing = [k for k in ("dt", "integrator", "kB", "units") if k not in meta]
            if missing:
                raise DataFormatError(f"{path} has incomplete metadata: missing {', '.join(missing)}")
        except DataFormatError:
            raise
        except Exception as exc:  # zip errors, bad JSON, pickled objects...
            raise DataFormatError(f"could not read trajectory file {path}: {exc}") from exc
        lj = meta.get("lj_units")
        try:
            return cls(**arrays, dt=meta["dt"], integrator=meta["integrator"], kB=meta["kB"], units=meta["units"],
                       symbols=meta.get("symbols"), info=meta.get("info", {}), box=box,
                       lj_units=None if lj is None else LJUnits(**lj))
        except (ValueError, TypeError) as exc:  # the kit's shape/state errors are ValueErrors
            raise DataFormatError(f"{path} holds inconsistent trajectory fields ({exc}); write it again with "
                                  "Trajectory.save_npz") from exc

    def write(self, path: "str | Path", **kwargs: Any) -> Path:
        """Write to ``.npz`` (native) or any ASE format by extension (``.traj``, ``.xyz``, ``.extxyz``...).

        Parameters
        ----------
        path : str or Path
            Output file; its extension chooses the format.
        **kwargs
            Options of the ASE adapter's ``trajectory_to_atoms`` for ASE formats.

        Returns
        -------
        Path
        """
        path = Path(path)
        if path.suffix == ".npz":
            return self.save_npz(path)
        return Path(adapter("write_trajectory")(self, path, **kwargs))

    @classmethod
    def read(cls, path: "str | Path", **kwargs: Any) -> "Trajectory":
        """Read a trajectory from ``.npz`` or any file ASE can read (options: ``atoms_to_trajectory`` of the ASE
        adapter module).

        Parameters
        ----------
        path : str or Path
            A ``.npz`` or a file ASE can read.
        **kwargs
            Options of the ASE adapter's ``atoms_to_trajectory``.

        Returns
        -------
        Trajectory

        Raises
        ------
        DataFormatError
            A malformed file.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no trajectory file at {path}")
        if path.suffix == ".npz":
            return cls.load_npz(path)
        traj: Trajectory = adapter("read_trajectory")(path, **kwargs)
        return traj


def _json_default(value: Any) -> Any:
    """JSON for NumPy scalars and arrays found in ``info`` (stored as plain numbers and lists)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError("info values must be JSON-serialisable (numbers, strings, lists, dicts); "
                    f"got {type(value).__name__}")
