"""Reference data for chapter 3: GFN2-xTB energies and forces of hot molecules, generated locally.

Nothing is downloaded. The shipped files ``npsnn_edu/data/gpr_<molecule>.npz`` were produced by
``python -m npsnn_edu.gpr.data --regenerate`` and carry their provenance (method, temperatures, seeds,
tblite/ASE/numpy versions, date) inside the file.

Recipe (per molecule)
---------------------
1. Build a rough geometry by hand (:data:`MOLECULES`) and relax it with GFN2-xTB (ASE BFGS, fmax 1e-3 eV/A);
   the relaxed structure is the *reference geometry* (bonded distances for the crash criterion).
2. Run several independent NVT chains with ASE's :class:`~ase.md.langevin.Langevin` driver (dt 0.5 fs,
   friction 0.02 / fs) at each temperature of :data:`TEMPERATURES_K` (300, 600, 1000 K), each seeded
   (Maxwell-Boltzmann start + Langevin noise from ``numpy.random.RandomState(seed)``). After
   ``n_equil`` equilibration steps, one frame is kept every ``stride`` steps (10 fs apart).
3. All frames are pooled and split at random (seeded) into train / validation / test.

Any molecule
------------
:func:`generate` runs the same recipe on a molecule of your own: an ``ase.Atoms``, any file ASE can read
(xyz, pdb, mol, ...), a name of :data:`MOLECULES` or a name ``ase.build.molecule`` knows (e.g. ``"CH3CH2OH"``),
with an optional total charge. Each finished chain is checkpointed next to the output file, so an interrupted
generation resumes where it stopped; the final file appears only when complete (written to a temporary name,
then renamed). From the command line::

    python -m npsnn_edu.gpr.data generate CH3CH2OH --frames-per-chain 50 --out ethanol.npz
    python -m npsnn_edu.gpr.data generate my_molecule.xyz --charge -1 --out mine.npz

and ``gpr.data.load(path="ethanol.npz")`` reads it back.

Energies are in eV, positions in Angstrom, forces in eV/Angstrom. Generation is deterministic for a given
tblite build when run single-threaded (the command sets ``OMP_NUM_THREADS=1`` before tblite is loaded).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import shutil
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
from ase import Atoms, units
from ase.data import atomic_numbers

from ..errors import DataFormatError, InvalidParameterError, NpsnnError, UnknownNameError, unknown_name
from ..validation import AtLeast, Constraints, Integer, Positive, Rule, positive, validate_fields
from .peptides import CONFORMERS, dipeptide

METHOD = "GFN2-xTB"
TEMPERATURES_K: tuple[float, ...] = (300.0, 600.0, 1000.0)
#: Hund's-rule ground-state spin multiplicities of the free atoms used for the MF5 prior (the shipped files' elements;
#: any other element gets :func:`hund_multiplicity`).
ATOM_MULTIPLICITY = {"H": 2, "C": 3, "N": 4, "O": 3}
#: Heaviest element GFN2-xTB is parametrised for (radon, Z = 86).
MAX_ATOMIC_NUMBER = 86
#: Closest approach (Angstrom) below which two atoms of an input geometry count as overlapping.
MIN_INTERATOMIC_DISTANCE_A = 0.5
# Aufbau (Madelung) filling order: (n, l) of each subshell.
_AUFBAU = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (4, 0), (3, 2), (4, 1), (5, 0), (4, 2), (5, 1), (6, 0), (4, 3),
           (5, 2), (6, 1)]


def hund_multiplicity(atomic_number: int) -> int:
    """Spin multiplicity 2S + 1 of a free atom's ground state by Hund's first rule on the Aufbau configuration.

    The last, partly filled subshell of angular momentum ``l`` holds ``k`` electrons in ``2l + 1`` orbitals:
    ``min(k, 2(2l + 1) - k)`` of them are unpaired. Aufbau exceptions (Cr, Cu, ...) are not modelled; for the MF5
    prior only the order of magnitude matters (the free atoms sit tens of eV above a bound molecule).

    Parameters
    ----------
    atomic_number : int
        Z (>= 1).

    Returns
    -------
    int
    """
    if not 1 <= int(atomic_number) <= MAX_ATOMIC_NUMBER:
        raise InvalidParameterError(f"atomic number must be 1..{MAX_ATOMIC_NUMBER} (GFN2-xTB), got {atomic_number}")
    left = int(atomic_number)
    unpaired = 0
    for _, l in _AUFBAU:
        cap = 2 * (2 * l + 1)
        k = min(left, cap)
        unpaired = min(k, cap - k)
        left -= k
        if left == 0:
            break
    return unpaired + 1

# Rough starting geometries (Angstrom); relaxed with GFN2-xTB before use.
_MA_RING = {  # enol malondialdehyde O=CH-CH=CH-OH, planar, intramolecular O-H...O hydrogen bond
    "C2": (0.0, 1.30, 0.0), "C1": (1.22, 0.65, 0.0), "C3": (-1.22, 0.65, 0.0),
    "O1": (1.30, -0.62, 0.0), "O2": (-1.26, -0.66, 0.0),
}
MOLECULES: dict[str, dict[str, Any]] = {
    "malondialdehyde": {
        "symbols": ["C", "C", "C", "O", "O", "H", "H", "H", "H"],
        "positions": [
            _MA_RING["C1"], _MA_RING["C2"], _MA_RING["C3"], _MA_RING["O1"], _MA_RING["O2"],
            (0.0, 2.39, 0.0),      # H on central C2
            (2.15, 1.23, 0.0),     # H on C1 (aldehyde)
            (-2.14, 1.24, 0.0),    # H on C3
            (-0.32, -1.05, 0.0),   # enol H on O2, pointing at O1
        ],
    },
    "water": {
        "symbols": ["O", "H", "H"],
        "positions": [(0.0, 0.0, 0.0), (0.757, 0.586, 0.0), (-0.757, 0.586, 0.0)],
    },
    # Aspirin (2-acetoxybenzoic acid, C9H8O4), built from standard internal coordinates (ring C-C 1.39, C-H 1.08,
    # ring-COOH 1.48, C=O 1.22/1.20, C-OH 1.35, O-H 0.97, ring-O 1.40, O-C(=O) 1.36, C-CH3 1.50 A; acetyl
    # rotated ~90 deg out of the ring plane), then relaxed with GFN2-xTB. Heavy-atom bonds of the relaxed
    # geometry (ASE natural cutoffs) are checked against aspirin's graph in tests/test_gpr_data_aspirin.py.
    "aspirin": {
        "symbols": ["C"] * 9 + ["O"] * 4 + ["H"] * 8,
        "positions": [
            (0.000, 1.390, 0.000), (1.204, 0.695, 0.000), (1.204, -0.695, 0.000),     # ring C1 (COOH), C2 (ester), C3
            (0.000, -1.390, 0.000), (-1.204, -0.695, 0.000), (-1.204, 0.695, 0.000),  # ring C4, C5, C6
            (0.000, 2.870, 0.000),     # C7 carboxyl C
            (2.969, 1.714, -1.201),    # C8 ester carbonyl C
            (4.256, 2.457, -0.992),    # C9 methyl C
            (-1.023, 3.534, 0.000),    # O1 carboxyl C=O
            (1.243, 3.397, 0.000),     # O2 carboxyl O-H
            (2.416, 1.395, 0.000),     # O3 ester O (ring-O-C)
            (2.465, 1.423, -2.250),    # O4 ester C=O
            (1.124, 4.360, 0.000),     # H on O2 (acid)
            (2.139, -1.235, 0.000), (0.000, -2.470, 0.000),   # ring H on C3, C4
            (-2.139, -1.235, 0.000), (-2.139, 1.235, 0.000),  # ring H on C5, C6
            (4.951, 1.831, -0.433), (4.691, 2.709, -1.959), (4.061, 3.372, -0.433),  # methyl H
        ],
    },
}
# The GPR paper's peptides (Ace-X-NMe), built at the C7eq backbone torsions from standard internal coordinates
# (npsnn_edu.gpr.peptides) and relaxed with GFN2-xTB like the others.
for _name, _res in (("capped_glycine", "GLY"), ("alanine_dipeptide", "ALA"), ("capped_serine", "SER")):
    _sym, _pos = dipeptide(_res, *CONFORMERS["C7eq"])
    MOLECULES[_name] = {"symbols": _sym, "positions": [tuple(r) for r in _pos.round(4)]}
#: Fixed per-molecule index for the chain seeds (seed + 1000 * index + chain); fixed so that adding a molecule
#: never changes the seeds of the others.
SEED_INDEX = {"malondialdehyde": 0, "water": 1, "aspirin": 2, "capped_glycine": 3, "alanine_dipeptide": 4,
              "capped_serine": 5}


def _check_temperatures(name: str, value: Any) -> tuple[float, ...]:
    """At least one temperature, each a positive number of kelvin."""
    try:
        temps = tuple(value)
    except TypeError:
        temps = ()
    if not temps:
        raise InvalidParameterError(f"{name} must list at least one temperature in K, e.g. (300.0, 600.0), "
                                    f"got {value!r}")
    return tuple(positive(f"{name}[{i}]", t, hint="a temperature in K") for i, t in enumerate(temps))


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings (times in fs, temperatures in K).

    Parameters
    ----------
    temperatures_K : tuple of float, default (300.0, 600.0, 1000.0)
        Sampling temperatures (K).
    chains_per_temperature : int, default 2
        Independent Langevin chains per temperature.
    frames_per_chain : int, default 292
        Frames kept per chain.
    n_equil : int, default 400
        Equilibration steps before the first frame.
    stride : int, default 20
        Steps between kept frames.
    dt_fs : float, default 0.5
        Time step (fs).
    friction_per_fs : float, default 0.02
        Langevin friction (1/fs).
    seed : int, default 2025
        Base seed of the chains.
    n_train, n_val, n_test : int, default 1000, 250, 500
        Sizes of the splits.
    """

    temperatures_K: tuple[float, ...] = TEMPERATURES_K
    chains_per_temperature: int = 2
    frames_per_chain: int = 292  # 3 T x 2 chains x 292 = 1752 frames >= 1000 + 250 + 500
    n_equil: int = 400
    stride: int = 20
    dt_fs: float = 0.5
    friction_per_fs: float = 0.02
    seed: int = 2025
    n_train: int = 1000
    n_val: int = 250
    n_test: int = 500

    #: Every field's constraint, checked at construction (values are kept as given: they enter the fingerprint).
    _parameter_constraints: ClassVar[Constraints] = {
        "temperatures_K": Rule(_check_temperatures, invalid=(300.0, -5.0)),
        "chains_per_temperature": AtLeast(1, integer=True),
        "frames_per_chain": AtLeast(1, integer=True, message="frames_per_chain must be >= 1, got {value}"),
        "n_equil": AtLeast(0, integer=True),
        "stride": AtLeast(1, integer=True),
        "dt_fs": Positive(hint="the Langevin time step in fs, e.g. 0.5"),
        "friction_per_fs": AtLeast(0.0, hint="the Langevin friction in 1/fs, e.g. 0.02"),
        "seed": Integer(),
        "n_train": AtLeast(1, integer=True),
        "n_val": AtLeast(0, integer=True),
        "n_test": AtLeast(0, integer=True),
    }

    def __post_init__(self) -> None:
        validate_fields(self, store=False)

    def chain_seed(self, molecule_index: int, chain_index: int) -> int:
        """The seed of one chain: ``seed + 1000 * molecule_index + chain_index``.

        Parameters
        ----------
        molecule_index : int
            Index of the molecule.
        chain_index : int
            Index of the chain.

        Returns
        -------
        int
        """
        return int(self.seed + 1000 * molecule_index + chain_index)

    @classmethod
    def sized(cls, frames_per_chain: int, **overrides: Any) -> "GenerationSettings":
        """Settings with ``frames_per_chain`` and a train/validation/test split of all frames in the kit's
        proportions 1000 : 250 : 500 (unless ``n_train``/``n_val``/``n_test`` are given).

        Parameters
        ----------
        frames_per_chain : int
            Frames kept per chain.
        **overrides
            Other fields (e.g. ``n_train``).

        Returns
        -------
        GenerationSettings
        """
        base = cls(frames_per_chain=int(frames_per_chain),
                   **{k: v for k, v in overrides.items() if k not in ("n_train", "n_val", "n_test")})
        total = len(base.temperatures_K) * base.chains_per_temperature * base.frames_per_chain
        n_train = overrides.get("n_train", max(1, round(total * 4 / 7)))
        n_val = overrides.get("n_val", round(total / 7))
        n_test = overrides.get("n_test", total - n_train - n_val)
        return cls(**(base.__dict__ | {"n_train": n_train, "n_val": n_val, "n_test": n_test}))


def _ensure_single_thread() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def make_calculator(charge: int = 0, multiplicity: int | None = None) -> Any:
    """A fresh GFN2-xTB calculator (tblite, quiet).

    Parameters
    ----------
    charge : int
        Total charge of the molecule in units of e (0: neutral).
    multiplicity : int or None
        Spin multiplicity 2S + 1; None lets tblite choose (singlet for an even electron count).
    """
    _ensure_single_thread()
    from tblite.ase import TBLite

    if charge == 0 and multiplicity is None:
        return TBLite(method=METHOD, verbosity=0)
    return TBLite(method=METHOD, verbosity=0, charge=float(charge), multiplicity=multiplicity)


def _known_names() -> list[str]:
    from ase.collections import g2

    return sorted(set(MOLECULES) | set(g2.names))


def resolve_molecule(molecule: Any, charge: int = 0) -> tuple[Any, str]:
    """Turn ``molecule`` into ``(ase.Atoms, name)`` and check that GFN2-xTB can do it.

    Parameters
    ----------
    molecule : ase.Atoms, str or path
        An ``ase.Atoms``; a path to any file ``ase.io.read`` understands (xyz, pdb, mol, cif, ...); a name of
        :data:`MOLECULES`; or a name ``ase.build.molecule`` knows (the G2 set, e.g. ``"CH3CH2OH"``).
    charge : int
        Total charge in units of e.

    Raises
    ------
    UnknownNameError
        A string that is neither a file nor a known name (the message lists the names).
    DataFormatError
        An empty or unreadable file.
    InvalidParameterError
        An element GFN2-xTB has no parameters for (Z > 86), overlapping atoms (closer than
        :data:`MIN_INTERATOMIC_DISTANCE_A`), a periodic cell, or a charge that leaves no electrons.
    """
    if isinstance(molecule, Atoms):
        atoms, name = molecule.copy(), molecule.get_chemical_formula()
    elif isinstance(molecule, (str, Path)) and Path(molecule).is_file():
        path = Path(molecule)
        if path.stat().st_size == 0:
            raise DataFormatError(f"{path} is empty: give a structure file ASE can read (xyz, pdb, mol, cif, ...)")
        try:
            import ase.io

            atoms = ase.io.read(path)
        except Exception as exc:  # ASE raises many types for a bad file
            raise DataFormatError(f"ASE could not read {path} ({type(exc).__name__}: {exc}); give a structure "
                                  "file in a format ASE reads (xyz, pdb, mol, cif, ...), with the right extension"
                                  ) from None
        if not isinstance(atoms, Atoms) or len(atoms) == 0:
            raise DataFormatError(f"{path} holds no atoms")
        name = path.stem
    elif isinstance(molecule, str) and molecule in MOLECULES:
        spec = MOLECULES[molecule]
        atoms, name = Atoms(spec["symbols"], positions=spec["positions"]), molecule
    elif isinstance(molecule, str):
        from ase.collections import g2

        if molecule not in g2.names:
            raise UnknownNameError(f"{molecule!r} is neither a file nor a known molecule name; give a path to a "
                                   "structure file, an ase.Atoms, or one of: " + ", ".join(_known_names()))
        from ase.build import molecule as build_molecule

        atoms, name = build_molecule(molecule), molecule
    else:
        raise InvalidParameterError(f"molecule must be an ase.Atoms, a file path or a name, got "
                                    f"{type(molecule).__name__}")
    check_molecule(atoms, charge)
    # charge and spin come from `charge` alone (tblite would otherwise read ASE's initial moments and charges)
    atoms.set_initial_magnetic_moments(np.zeros(len(atoms)))
    atoms.set_initial_charges(np.zeros(len(atoms)))
    atoms.pbc = False
    atoms.cell = None
    atoms.calc = None
    return atoms, name


def check_molecule(atoms: Any, charge: int = 0) -> None:
    """Raise :class:`InvalidParameterError` when GFN2-xTB cannot treat ``atoms`` with total ``charge``.

    Parameters
    ----------
    atoms : ase.Atoms
        The molecule.
    charge : int, default 0
        Total charge.

    Raises
    ------
    InvalidParameterError
        Elements GFN2-xTB does not cover, a periodic structure, or non-finite coordinates.
    """
    z = atoms.get_atomic_numbers()
    bad = sorted({s for s, zi in zip(atoms.get_chemical_symbols(), z) if zi < 1 or zi > MAX_ATOMIC_NUMBER})
    if bad:
        raise InvalidParameterError(f"GFN2-xTB has parameters for elements H to Rn (Z = 1..{MAX_ATOMIC_NUMBER}) only; "
                                    f"remove or replace {', '.join(bad)}")
    if atoms.pbc.any():
        raise InvalidParameterError("the structure is periodic; give an isolated molecule (atoms.pbc = False)")
    pos = atoms.get_positions()
    if not np.isfinite(pos).all():
        raise InvalidParameterError("the structure has NaN or infinite coordinates")
    if len(atoms) > 1:
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(len(atoms)) * 1e9
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] < MIN_INTERATOMIC_DISTANCE_A:
            raise InvalidParameterError(
                f"atoms {i} ({atoms[i].symbol}) and {j} ({atoms[j].symbol}) are {d[i, j]:.3f} A apart (overlapping; "
                f"closer than {MIN_INTERATOMIC_DISTANCE_A} A): fix the geometry or its units (Angstrom)")
    if int(charge) != charge:
        raise InvalidParameterError(f"charge must be a whole number of e, got {charge}")
    if int(z.sum()) - int(charge) < 1:
        raise InvalidParameterError(f"a charge of {charge} leaves no electrons")


def molecule_multiplicity(atoms: Any, charge: int = 0) -> int | None:
    """Doublet for an odd electron count, else None (tblite's singlet).

    Parameters
    ----------
    atoms : ase.Atoms
        The molecule.
    charge : int, default 0
        Total charge.

    Returns
    -------
    int or None
    """
    return 2 if (int(atoms.get_atomic_numbers().sum()) - int(charge)) % 2 else None


def isolated_atom_energies(symbols: Sequence[str] = ("H", "C", "O")) -> dict[str, float]:
    """GFN2-xTB energies (eV) of free atoms in their Hund's-rule ground-state multiplicity (H 2, C 3, O 3).

    Note: GFN2-xTB without spin polarisation puts the C and O singlets ~0.05 eV *lower*; we follow the
    physical ground state. Either choice sits tens of eV above the bound molecule (54 eV for
    malondialdehyde), which is what MF5 needs.

    Parameters
    ----------
    symbols : sequence of str, default ("H", "C", "O")
        Elements.

    Returns
    -------
    dict of str to float
        Energy per element (eV).
    """
    _ensure_single_thread()
    from tblite.ase import TBLite

    out = {}
    for s in sorted(set(symbols)):
        if s not in atomic_numbers:
            raise unknown_name("element", s, [k for k in atomic_numbers if k != "X"])
        atom = Atoms(s)
        atom.calc = TBLite(method=METHOD, verbosity=0, multiplicity=atom_multiplicity(s))
        out[s] = float(atom.get_potential_energy())
    return out


def atom_multiplicity(symbol: str) -> int:
    """Ground-state multiplicity of a free atom: :data:`ATOM_MULTIPLICITY`, else :func:`hund_multiplicity`.

    Parameters
    ----------
    symbol : str
        Element symbol.

    Returns
    -------
    int
    """
    return ATOM_MULTIPLICITY.get(symbol) or hund_multiplicity(atomic_numbers[symbol])


def relaxed_geometry(molecule: Any, charge: int = 0) -> Any:
    """The GFN2-xTB-relaxed reference geometry of ``molecule`` as ase.Atoms (no calculator attached).

    ``molecule``: anything :func:`resolve_molecule` accepts. BFGS to fmax 1e-3 eV/A (at most 500 steps; a
    warning says so when it stops before).

    Parameters
    ----------
    molecule : str, ase.Atoms or path
        Anything :func:`resolve_molecule` accepts.
    charge : int, default 0
        Total charge.

    Returns
    -------
    ase.Atoms
        Positions in A.
    """
    from ase.optimize import BFGS

    atoms, name = resolve_molecule(molecule, charge)
    atoms.calc = make_calculator(charge, molecule_multiplicity(atoms, charge))
    converged = BFGS(atoms, logfile=None).run(fmax=1e-3, steps=500)
    if not converged:
        warnings.warn(f"the relaxation of {name} stopped after 500 BFGS steps above fmax 1e-3 eV/A; the reference "
                      "geometry is not a minimum", RuntimeWarning, stacklevel=2)
    atoms.calc = None
    return atoms


def thermalized_langevin(atoms: Any, temperature_K: float, seed: int, dt_fs: float, friction_per_fs: float) -> Any:
    """Maxwell-Boltzmann velocities (no drift, no rotation) and an ASE Langevin driver sharing one seeded RNG.

    Used for the reference sampling and for the GP-model NVT runs alike (same protocol, same seed semantics).

    Parameters
    ----------
    atoms : ase.Atoms
        The molecule (its velocities are set).
    temperature_K : float
        Temperature (K).
    seed : int
        Seed of the shared RNG.
    dt_fs : float
        Time step (fs).
    friction_per_fs : float
        Langevin friction (1/fs).

    Returns
    -------
    ase.md.langevin.Langevin
    """
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

    rs = np.random.RandomState(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ASE 3.29 renames it thermalize_momenta
        MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rs)
    Stationary(atoms)
    ZeroRotation(atoms)
    return Langevin(atoms, dt_fs * units.fs, temperature_K=temperature_K, friction=friction_per_fs / units.fs,
                    fixcm=False, rng=rs)


def run_chain(atoms0: Any, temperature_K: float, seed: int, n_frames: int, settings: GenerationSettings,
              progress: Any = None, charge: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One seeded Langevin chain; returns (positions (F,N,3) A, energies (F,) eV, forces (F,N,3) eV/A).

    Parameters
    ----------
    atoms0 : ase.Atoms
        Start geometry.
    temperature_K : float
        Temperature (K).
    seed : int
        Chain seed.
    n_frames : int
        Frames to keep.
    settings : GenerationSettings
        Equilibration, stride, dt and friction.
    progress : progress bar or None, default None
        Advanced once per frame.
    charge : int, default 0
        Total charge.

    Returns
    -------
    positions : array of shape (n_frames, n_atoms, 3)
        A.
    energies : array of shape (n_frames,)
        eV.
    forces : array of shape (n_frames, n_atoms, 3)
        eV/A.
    """
    atoms = atoms0.copy()
    atoms.calc = make_calculator(charge, molecule_multiplicity(atoms, charge))
    dyn = thermalized_langevin(atoms, temperature_K, seed, settings.dt_fs, settings.friction_per_fs)
    dyn.run(settings.n_equil)
    pos, ene, frc = [], [], []
    for _ in range(n_frames):
        dyn.run(settings.stride)
        pos.append(atoms.get_positions())
        ene.append(atoms.get_potential_energy())
        frc.append(atoms.get_forces())
        if progress is not None:
            progress.update(1)
    return np.array(pos), np.array(ene), np.array(frc)


def _versions() -> dict[str, str]:
    return {"tblite": version("tblite"), "ase": version("ase"), "numpy": np.__version__,
            "python": sys.version.split()[0]}


def generate(molecule: Any, settings: GenerationSettings | None = None, *, charge: int = 0, progress: bool = True,
             checkpoint_dir: "str | Path | None" = None, command: str | None = None) -> dict[str, Any]:
    """Generate a GFN2-xTB data set of ``molecule`` by the kit's recipe (minutes per molecule on one core).

    Parameters
    ----------
    molecule : ase.Atoms, str or path
        Anything :func:`resolve_molecule` accepts (a kit molecule, an ASE/G2 name, a structure file, an Atoms).
    settings : GenerationSettings, optional
        Temperatures, chains, frames per chain, strides (fs) and the train/validation/test sizes.
    charge : int
        Total charge in units of e.
    progress : bool
        Show a tqdm progress bar over the frames.
    checkpoint_dir : path, optional
        Folder where each finished chain is stored (``chain_<k>.npz``); a later call with the same molecule and
        settings reuses the finished chains and runs only the missing ones. Stale checkpoints (other molecule or
        settings) are ignored with a warning.
    command : str, optional
        The command to record in the provenance (the CLI passes its own).

    Returns
    -------
    dict of arrays: symbols (N,), numbers (N,), reference_positions (N, 3) A, reference_energy eV,
    positions (F, N, 3) A, energies (F,) eV, forces (F, N, 3) eV/A, temperature_K (F,), chain (F,),
    frame_in_chain (F,), split (F,) (0 train, 1 validation, 2 test, -1 unused), provenance (JSON string).
    """
    from tqdm.auto import tqdm

    settings = settings or GenerationSettings()
    atoms_in, name = resolve_molecule(molecule, charge)
    need = settings.n_train + settings.n_val + settings.n_test
    n_chains = len(settings.temperatures_K) * settings.chains_per_temperature
    if n_chains * settings.frames_per_chain < need:
        raise InvalidParameterError(
            f"{n_chains} chains x {settings.frames_per_chain} frames = {n_chains * settings.frames_per_chain} frames "
            f"for {need} requested (train + validation + test); raise frames_per_chain or lower the split sizes")
    mol_index = SEED_INDEX.get(name, 0)
    fingerprint = _fingerprint(atoms_in, charge, settings)
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt is not None:
        ckpt.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    ref = relaxed_geometry(atoms_in, charge)
    ref_c = ref.copy()
    ref_c.calc = make_calculator(charge, molecule_multiplicity(ref, charge))
    ref_energy = float(ref_c.get_potential_energy())
    bar = tqdm(total=n_chains * settings.frames_per_chain, desc=f"xTB MD {name}", disable=not progress)
    pos, ene, frc, temp, chain, frame = [], [], [], [], [], []
    resumed = []
    for c in range(n_chains):
        T = settings.temperatures_K[c // settings.chains_per_temperature]
        done = _read_chain(ckpt, c, fingerprint) if ckpt is not None else None
        if done is not None:
            p, e, f = done
            bar.update(len(e))
            resumed.append(c)
        else:
            p, e, f = run_chain(ref, T, settings.chain_seed(mol_index, c), settings.frames_per_chain, settings, bar,
                                charge=charge)
            if ckpt is not None:
                _write_chain(ckpt, c, fingerprint, p, e, f)
        pos.append(p), ene.append(e), frc.append(f)
        temp.append(np.full(len(e), T)), chain.append(np.full(len(e), c)), frame.append(np.arange(len(e)))
    bar.close()
    pos, ene, frc = np.concatenate(pos), np.concatenate(ene), np.concatenate(frc)
    n = len(ene)
    perm = np.random.default_rng(settings.seed).permutation(n)
    split = np.full(n, -1, dtype=np.int8)  # 0 train, 1 val, 2 test, -1 unused
    split[perm[: settings.n_train]] = 0
    split[perm[settings.n_train: settings.n_train + settings.n_val]] = 1
    split[perm[settings.n_train + settings.n_val: need]] = 2
    atom_e = isolated_atom_energies(ref.get_chemical_symbols())
    if name in MOLECULES:
        regenerate = f"OMP_NUM_THREADS=1 python -m npsnn_edu.gpr.data --regenerate --molecule {name} --out DIR"
    else:
        regenerate = command or f"npsnn_edu.gpr.data.generate({name!r}, charge={charge})"
    provenance = {
        "molecule": name, "method": METHOD, "charge": int(charge),
        "multiplicity": molecule_multiplicity(ref, charge) or 1,
        "calculator": "tblite.ase.TBLite(method='GFN2-xTB', verbosity=0)",
        "sampling": "ASE Langevin NVT, Maxwell-Boltzmann start, Stationary+ZeroRotation, RandomState(seed)",
        "settings": settings.__dict__ | {"temperatures_K": list(settings.temperatures_K)},
        "chain_seeds": [settings.chain_seed(mol_index, k) for k in range(n_chains)],
        "versions": _versions(), "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "generation_seconds": round(time.time() - t0, 1), "resumed_chains": resumed,
        "input_fingerprint": fingerprint,
        "isolated_atom_energies_eV": atom_e,
        "isolated_atom_multiplicity": {s: atom_multiplicity(s) for s in atom_e},
        "units": {"positions": "Angstrom", "energies": "eV", "forces": "eV/Angstrom"},
        "command": command or regenerate,
        "regenerate": regenerate,
    }
    return {
        "symbols": np.array(ref.get_chemical_symbols()), "numbers": ref.get_atomic_numbers(),
        "reference_positions": ref.get_positions(), "reference_energy": np.array(ref_energy),
        "positions": pos, "energies": ene, "forces": frc, "temperature_K": np.concatenate(temp),
        "chain": np.concatenate(chain), "frame_in_chain": np.concatenate(frame), "split": split,
        "provenance": np.array(json.dumps(provenance, indent=1)),
    }


def generate_file(molecule: Any, out: "str | Path", settings: GenerationSettings | None = None, *, charge: int = 0,
                  progress: bool = True, command: str | None = None) -> Path:
    """:func:`generate` into the file ``out`` (.npz), resumable: chains are checkpointed in ``<out>.partial/``.

    The file appears only when the data set is complete (written under a temporary name, then renamed), and the
    checkpoint folder is removed then; an interrupted call leaves only ``<out>.partial/``, which the next call with
    the same arguments resumes. Returns the path written.

    Parameters
    ----------
    molecule : str, ase.Atoms or path
        Anything :func:`resolve_molecule` accepts.
    out : str or Path
        Output ``.npz``.
    settings : GenerationSettings or None, default None
        Sampling settings (None: the kit's).
    charge : int, default 0
        Total charge.
    progress : bool, default True
        Show a progress bar.
    command : str or None, default None
        Command recorded in the provenance.

    Returns
    -------
    Path
    """
    out = Path(out)
    if out.suffix != ".npz":
        raise InvalidParameterError(f"the output file must end in .npz, got {out.name}")
    if out.parent.exists() and not out.parent.is_dir():
        raise InvalidParameterError(f"{out.parent} is not a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    data = generate(molecule, settings, charge=charge, progress=progress, checkpoint_dir=partial, command=command)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **data)
    os.replace(tmp, out)
    shutil.rmtree(partial, ignore_errors=True)
    return out


def _fingerprint(atoms: Any, charge: int, settings: GenerationSettings) -> str:
    key = {"symbols": atoms.get_chemical_symbols(), "positions": np.round(atoms.get_positions(), 6).tolist(),
           "charge": int(charge), "settings": settings.__dict__ | {"temperatures_K": list(settings.temperatures_K)}}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def _write_chain(folder: Path, c: int, fingerprint: str, p: np.ndarray, e: np.ndarray, f: np.ndarray) -> None:
    tmp = folder / f"chain_{c}.npz.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, positions=p, energies=e, forces=f, fingerprint=np.array(fingerprint))
    os.replace(tmp, folder / f"chain_{c}.npz")


def _read_chain(folder: Path, c: int, fingerprint: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    path = folder / f"chain_{c}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fingerprint:
                warnings.warn(f"{path} was made for another molecule or other settings; recomputing that chain",
                              RuntimeWarning, stacklevel=3)
                return None
            return z["positions"], z["energies"], z["forces"]
    except (OSError, ValueError, KeyError):
        warnings.warn(f"{path} is unreadable (interrupted write?); recomputing that chain", RuntimeWarning,
                      stacklevel=3)
        return None


def data_dir() -> Path:
    """Folder of the shipped data files (inside the installed package)."""
    return Path(str(resources.files("npsnn_edu") / "data"))


def data_path(molecule: str) -> Path:
    """Path of the shipped data file of ``molecule``.

    Parameters
    ----------
    molecule : str
        A shipped molecule name.

    Returns
    -------
    Path

    Raises
    ------
    UnknownNameError
        Not a shipped molecule.
    """
    if molecule not in MOLECULES:
        raise unknown_name("molecule", molecule, list(MOLECULES))
    return data_dir() / f"gpr_{molecule}.npz"


def save(data: dict[str, Any], path: "str | Path") -> Path:
    """Write the arrays of ``data`` to a compressed ``.npz`` at ``path`` (parent folders created).

    Parameters
    ----------
    data : dict of str to array
        Fields of the data set.
    path : str or Path
        Output file.

    Returns
    -------
    Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    return path


REQUIRED_KEYS = ("symbols", "reference_positions", "positions", "energies", "forces", "split", "provenance",
                 "temperature_K", "chain", "frame_in_chain")


@dataclass(repr=False)
class MoleculeData:
    """A loaded data set. Arrays in eV / Angstrom; ``split`` 0 train, 1 validation, 2 test.

    Parameters
    ----------
    molecule : str
        Molecule name.
    symbols : list of str
        Element symbols in atom order.
    reference_positions : array of shape (n_atoms, 3)
        GFN2-xTB-relaxed geometry (A).
    positions : array of shape (n_frames, n_atoms, 3)
        Sampled geometries (A).
    energies : array of shape (n_frames,)
        GFN2-xTB energies (eV).
    forces : array of shape (n_frames, n_atoms, 3)
        GFN2-xTB forces (eV/A).
    split : array of int of shape (n_frames,)
        0 train, 1 validation, 2 test.
    temperature_K : array of shape (n_frames,)
        Sampling temperature of each frame (K).
    chain : array of int of shape (n_frames,)
        Langevin chain of each frame.
    frame_in_chain : array of int of shape (n_frames,)
        Index of each frame within its chain.
    provenance : dict
        Command, seeds, versions and settings that produced the data.
    """

    molecule: str
    symbols: list[str]
    reference_positions: np.ndarray
    positions: np.ndarray
    energies: np.ndarray
    forces: np.ndarray
    split: np.ndarray
    temperature_K: np.ndarray
    chain: np.ndarray
    frame_in_chain: np.ndarray
    provenance: dict[str, Any]

    def __repr__(self) -> str:
        counts = [int((self.split == k).sum()) for k in (0, 1, 2)]
        return (f"MoleculeData({self.molecule}, {''.join(self.symbols)}, {len(self.energies)} geometries, "
                f"train/val/test {counts}, {self.provenance.get('method')}, "
                f"T = {sorted(set(self.temperature_K.tolist()))} K)")

    def subset(self, which: str, n: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(positions, energies, forces) of ``which`` in {"train", "val", "test"}, the first ``n`` of them.

        Parameters
        ----------
        which : {"train", "val", "test"}
            The split.
        n : int or None, default None
            Keep the first ``n`` (None: all).

        Returns
        -------
        positions : array of shape (n, n_atoms, 3)
            Geometries (A).
        energies : array of shape (n,)
            Energies (eV).
        forces : array of shape (n, n_atoms, 3)
            Forces (eV/A).

        Raises
        ------
        UnknownNameError
            An unknown split.
        InvalidParameterError
            ``n`` outside 1..size of the split.
        """
        codes = {"train": 0, "val": 1, "validation": 1, "test": 2}
        if which not in codes:
            raise unknown_name("split", which, list(codes))
        idx = np.flatnonzero(self.split == codes[which])
        if n is not None:
            if n < 1 or n > len(idx):
                raise InvalidParameterError(f"n must be between 1 and {len(idx)} for the {which} split, got {n}")
            idx = idx[:n]
        return self.positions[idx], self.energies[idx], self.forces[idx]

    @property
    def isolated_atom_energies(self) -> dict[str, float]:
        """Free-atom energies (eV) per element, from the data's provenance (the MF5 prior's input)."""
        return dict(self.provenance["isolated_atom_energies_eV"])

    @property
    def free_atom_sum(self) -> float:
        """Sum of isolated-atom energies over the molecule's atoms (eV): the MF5 prior constant."""
        e = self.isolated_atom_energies
        return float(sum(e[s] for s in self.symbols))

    def reference_atoms(self) -> Any:
        """The reference geometry as ase.Atoms (positions in A, no calculator)."""
        return Atoms(self.symbols, positions=self.reference_positions)


def load(molecule: str = "malondialdehyde", path: "str | Path | None" = None) -> MoleculeData:
    """Load a shipped (or regenerated) data set.

    Parameters
    ----------
    molecule : str, default "malondialdehyde"
        A shipped molecule name.
    path : str, Path or None, default None
        A data file (e.g. made by :func:`generate_file`) instead of the shipped one.

    Returns
    -------
    MoleculeData

    Raises
    ------
    UnknownNameError
        An unknown molecule name.
    DataFormatError
        A missing, unreadable or incomplete file.
    """
    path = Path(path) if path is not None else data_path(molecule)
    if not path.exists():
        raise DataFormatError(f"{path} does not exist; regenerate it with "
                              f"`python -m npsnn_edu.gpr.data --regenerate --molecule {molecule} --out DIR`")
    regen = f"`python -m npsnn_edu.gpr.data --regenerate --molecule {molecule} --out DIR`"
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{path} is not a readable .npz archive ({type(exc).__name__}: {exc}); pass the path "
                              f"of a file written by {regen}") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise DataFormatError(f"{path} holds a single array, not an .npz archive with the fields "
                              f"{list(REQUIRED_KEYS)}; regenerate it with {regen}")
    with z:
        missing = [k for k in REQUIRED_KEYS if k not in z.files]
        if missing:
            raise DataFormatError(f"{path} misses the fields {missing}; regenerate it with {regen}")
        try:
            prov = json.loads(str(z["provenance"]))
            data = MoleculeData(prov.get("molecule", molecule), [str(s) for s in z["symbols"]],
                                z["reference_positions"], z["positions"], z["energies"], z["forces"], z["split"],
                                z["temperature_K"], z["chain"], z["frame_in_chain"], prov)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as exc:
            raise DataFormatError(f"{path}: a field could not be read ({type(exc).__name__}: {exc}); regenerate "
                                  f"the file with {regen}") from None
    n = len(data.energies)
    shapes_ok = (data.positions.ndim == 3 and data.positions.shape[0] == n and data.forces.shape == data.positions.shape
                 and data.positions.shape[1:] == (len(data.symbols), 3) and len(data.split) == n)
    if not shapes_ok:
        raise DataFormatError(f"{path}: inconsistent shapes (positions {data.positions.shape}, forces "
                              f"{data.forces.shape}, energies {data.energies.shape}, {len(data.symbols)} symbols); "
                              f"positions and forces must be (n_frames, n_atoms, 3); regenerate with {regen}")
    return data


def regenerate_frames(data: MoleculeData, chain: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-run chain ``chain`` from its seed for its first ``n_frames`` frames; returns (positions, energies).

    Used by the reproducibility test: compare with the shipped frames of that chain.

    Parameters
    ----------
    data : MoleculeData
        The shipped data set.
    chain : int
        Chain index.
    n_frames : int
        Frames to regenerate.

    Returns
    -------
    positions : array of shape (n_frames, n_atoms, 3)
        A.
    energies : array of shape (n_frames,)
        eV.
    """
    s = dict(data.provenance["settings"])
    s["temperatures_K"] = tuple(s["temperatures_K"])
    settings = GenerationSettings(**s)
    seed = int(data.provenance["chain_seeds"][chain])
    T = settings.temperatures_K[chain // settings.chains_per_temperature]
    ref = Atoms(data.symbols, positions=data.reference_positions)
    p, e, _ = run_chain(ref, T, seed, n_frames, settings)
    return p, e


def write_manifest(folder: "str | Path | None" = None) -> Path:
    """Write ``gpr_datasets.json`` next to the data files: per file its sha256, size, shape and provenance.

    Parameters
    ----------
    folder : str, Path or None, default None
        Data folder (None: the package's).

    Returns
    -------
    Path
    """
    folder = Path(folder) if folder is not None else data_dir()
    manifest: dict[str, Any] = {"description": "Chapter-3 GFN2-xTB reference data (generated locally, never "
                                               "downloaded). Regenerate: OMP_NUM_THREADS=1 python -m "
                                               "npsnn_edu.gpr.data --regenerate", "files": {}}
    for m in sorted(MOLECULES):
        f = folder / f"gpr_{m}.npz"
        if not f.exists():
            continue
        d = load(m, f)
        manifest["files"][f.name] = {
            "sha256": hashlib.sha256(f.read_bytes()).hexdigest(), "bytes": f.stat().st_size,
            "geometries": int(len(d.energies)), "atoms": "".join(d.symbols),
            "split_counts": {"train": int((d.split == 0).sum()), "val": int((d.split == 1).sum()),
                             "test": int((d.split == 2).sum())},
            "provenance": d.provenance}
    out = folder / "gpr_datasets.json"
    out.write_text(json.dumps(manifest, indent=1) + "\n")
    return out


def _generate_main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m npsnn_edu.gpr.data generate",
        description="Generate a GFN2-xTB data set (energies + forces of Langevin MD frames) for any molecule. "
                    "Interrupted runs resume from <out>.partial/.")
    ap.add_argument("molecule", help="a structure file ASE reads (xyz, pdb, mol, ...), a kit molecule "
                                     f"({', '.join(sorted(MOLECULES))}) or an ase.build name (e.g. CH3CH2OH)")
    ap.add_argument("--out", required=True, type=Path, help="output file (.npz)")
    ap.add_argument("--frames-per-chain", type=int, default=GenerationSettings.frames_per_chain)
    ap.add_argument("--charge", type=int, default=0, help="total charge in e (default 0)")
    ap.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES_K), metavar="K")
    ap.add_argument("--chains-per-temperature", type=int, default=GenerationSettings.chains_per_temperature)
    ap.add_argument("--seed", type=int, default=GenerationSettings.seed)
    ap.add_argument("--n-train", type=int, default=None, help="default: 4/7 of all frames")
    ap.add_argument("--n-val", type=int, default=None, help="default: 1/7 of all frames")
    ap.add_argument("--n-test", type=int, default=None, help="default: the rest")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    split = {k: v for k, v in (("n_train", args.n_train), ("n_val", args.n_val), ("n_test", args.n_test))
             if v is not None}
    settings = GenerationSettings.sized(args.frames_per_chain, temperatures_K=tuple(args.temperatures),
                                        chains_per_temperature=args.chains_per_temperature, seed=args.seed, **split)
    command = "OMP_NUM_THREADS=1 python -m npsnn_edu.gpr.data generate " + " ".join(argv)
    out = generate_file(args.molecule, args.out, settings, charge=args.charge, progress=not args.no_progress,
                        command=command)
    d = load(path=out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {d!r}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``generate MOLECULE --out FILE.npz`` for any molecule; ``--regenerate --out DIR`` for the
    kit's shipped molecules; no arguments: list the shipped data sets.

    Parameters
    ----------
    argv : sequence of str or None, default None
        Command-line arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["generate"]:
            return _generate_main(argv[1:])
        return _legacy_main(argv)
    except NpsnnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _legacy_main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(description="The chapter-3 GFN2-xTB reference data. `generate MOLECULE --out "
                                             "FILE.npz` makes a data set for any molecule (see `generate -h`).")
    ap.add_argument("--regenerate", action="store_true", help="rerun the shipped molecules' generation")
    ap.add_argument("--molecule", choices=sorted(MOLECULES) + ["all"], default="all")
    ap.add_argument("--out", default=None, type=Path,
                    help="output folder (required with --regenerate; copy the files into the package yourself)")
    args = ap.parse_args(argv)
    if not args.regenerate:
        for m in sorted(MOLECULES):
            try:
                d = load(m)
                print(m, d.positions.shape, json.dumps(d.provenance["versions"]), d.provenance["date_utc"])
            except DataFormatError as exc:
                print(m, "missing:", exc)
        return 0
    if args.out is None:
        ap.error("--regenerate needs --out DIR (the command never writes into the installed package)")
    mols = sorted(MOLECULES) if args.molecule == "all" else [args.molecule]
    for m in mols:
        out = generate_file(m, args.out / f"gpr_{m}.npz")
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    print("wrote", write_manifest(args.out))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
