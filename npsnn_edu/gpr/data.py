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

Energies are in eV, positions in Angstrom, forces in eV/Angstrom. Generation is deterministic for a given
tblite build when run single-threaded (the command sets ``OMP_NUM_THREADS=1`` before tblite is loaded).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import DataFormatError, InvalidParameterError, unknown_name

METHOD = "GFN2-xTB"
TEMPERATURES_K: tuple[float, ...] = (300.0, 600.0, 1000.0)
#: Hund's-rule ground-state spin multiplicities of the free atoms used for the MF5 prior.
ATOM_MULTIPLICITY = {"H": 2, "C": 3, "N": 4, "O": 3}

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
#: Fixed per-molecule index for the chain seeds (seed + 1000 * index + chain); fixed so that adding a molecule
#: never changes the seeds of the others.
SEED_INDEX = {"malondialdehyde": 0, "water": 1, "aspirin": 2}


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings (times in fs, temperatures in K)."""

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

    def chain_seed(self, molecule_index: int, chain_index: int) -> int:
        return int(self.seed + 1000 * molecule_index + chain_index)


def _ensure_single_thread() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def make_calculator() -> Any:
    """A fresh GFN2-xTB calculator (tblite, quiet)."""
    _ensure_single_thread()
    from tblite.ase import TBLite

    return TBLite(method=METHOD, verbosity=0)


def isolated_atom_energies(symbols: Sequence[str] = ("H", "C", "O")) -> dict[str, float]:
    """GFN2-xTB energies (eV) of free atoms in their Hund's-rule ground-state multiplicity (H 2, C 3, O 3).

    Note: GFN2-xTB without spin polarisation puts the C and O singlets ~0.05 eV *lower*; we follow the
    physical ground state. Either choice sits tens of eV above the bound molecule (54 eV for
    malondialdehyde), which is what MF5 needs.
    """
    _ensure_single_thread()
    from ase import Atoms
    from tblite.ase import TBLite

    out = {}
    for s in sorted(set(symbols)):
        if s not in ATOM_MULTIPLICITY:
            raise unknown_name("element", s, list(ATOM_MULTIPLICITY))
        atom = Atoms(s)
        atom.calc = TBLite(method=METHOD, verbosity=0, multiplicity=ATOM_MULTIPLICITY[s])
        out[s] = float(atom.get_potential_energy())
    return out


def relaxed_geometry(molecule: str) -> Any:
    """The GFN2-xTB-relaxed reference geometry of ``molecule`` as ase.Atoms (no calculator attached)."""
    from ase import Atoms
    from ase.optimize import BFGS

    if molecule not in MOLECULES:
        raise unknown_name("molecule", molecule, list(MOLECULES))
    spec = MOLECULES[molecule]
    atoms = Atoms(spec["symbols"], positions=spec["positions"])
    atoms.calc = make_calculator()
    BFGS(atoms, logfile=None).run(fmax=1e-3, steps=500)
    atoms.calc = None
    return atoms


def thermalized_langevin(atoms: Any, temperature_K: float, seed: int, dt_fs: float, friction_per_fs: float) -> Any:
    """Maxwell-Boltzmann velocities (no drift, no rotation) and an ASE Langevin driver sharing one seeded RNG.

    Used for the reference sampling and for the GP-model NVT runs alike (same protocol, same seed semantics).
    """
    from ase import units
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
              progress: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One seeded Langevin chain; returns (positions (F,N,3), energies (F,), forces (F,N,3))."""
    atoms = atoms0.copy()
    atoms.calc = make_calculator()
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
    from importlib.metadata import version

    return {"tblite": version("tblite"), "ase": version("ase"), "numpy": np.__version__,
            "python": sys.version.split()[0]}


def generate(molecule: str, settings: GenerationSettings | None = None, *, progress: bool = True) -> dict[str, Any]:
    """Generate the full data set of ``molecule`` (several minutes on one core). Returns a dict of arrays."""
    from tqdm.auto import tqdm

    settings = settings or GenerationSettings()
    if molecule not in MOLECULES:
        raise unknown_name("molecule", molecule, list(MOLECULES))
    mol_index = SEED_INDEX[molecule]
    t0 = time.time()
    ref = relaxed_geometry(molecule)
    calc = make_calculator()
    ref_c = ref.copy()
    ref_c.calc = calc
    ref_energy = float(ref_c.get_potential_energy())
    n_chains = len(settings.temperatures_K) * settings.chains_per_temperature
    bar = tqdm(total=n_chains * settings.frames_per_chain, desc=f"xTB MD {molecule}", disable=not progress)
    pos, ene, frc, temp, chain, frame = [], [], [], [], [], []
    c = 0
    for T in settings.temperatures_K:
        for _ in range(settings.chains_per_temperature):
            p, e, f = run_chain(ref, T, settings.chain_seed(mol_index, c), settings.frames_per_chain, settings, bar)
            pos.append(p), ene.append(e), frc.append(f)
            temp.append(np.full(len(e), T)), chain.append(np.full(len(e), c)), frame.append(np.arange(len(e)))
            c += 1
    bar.close()
    pos, ene, frc = np.concatenate(pos), np.concatenate(ene), np.concatenate(frc)
    n = len(ene)
    need = settings.n_train + settings.n_val + settings.n_test
    if n < need:
        raise InvalidParameterError(f"only {n} frames for {need} requested; raise frames_per_chain")
    perm = np.random.default_rng(settings.seed).permutation(n)
    split = np.full(n, -1, dtype=np.int8)  # 0 train, 1 val, 2 test, -1 unused
    split[perm[: settings.n_train]] = 0
    split[perm[settings.n_train: settings.n_train + settings.n_val]] = 1
    split[perm[settings.n_train + settings.n_val: need]] = 2
    atom_e = isolated_atom_energies(ref.get_chemical_symbols())
    provenance = {
        "molecule": molecule, "method": METHOD, "calculator": "tblite.ase.TBLite(method='GFN2-xTB', verbosity=0)",
        "sampling": "ASE Langevin NVT, Maxwell-Boltzmann start, Stationary+ZeroRotation, RandomState(seed)",
        "settings": settings.__dict__ | {"temperatures_K": list(settings.temperatures_K)},
        "chain_seeds": [settings.chain_seed(mol_index, k) for k in range(n_chains)],
        "versions": _versions(), "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "generation_seconds": round(time.time() - t0, 1),
        "isolated_atom_energies_eV": atom_e,
        "isolated_atom_multiplicity": {s: ATOM_MULTIPLICITY[s] for s in atom_e},
        "units": {"positions": "Angstrom", "energies": "eV", "forces": "eV/Angstrom"},
        "regenerate": f"OMP_NUM_THREADS=1 python -m npsnn_edu.gpr.data --regenerate --molecule {molecule}",
    }
    return {
        "symbols": np.array(ref.get_chemical_symbols()), "numbers": ref.get_atomic_numbers(),
        "reference_positions": ref.get_positions(), "reference_energy": np.array(ref_energy),
        "positions": pos, "energies": ene, "forces": frc, "temperature_K": np.concatenate(temp),
        "chain": np.concatenate(chain), "frame_in_chain": np.concatenate(frame), "split": split,
        "provenance": np.array(json.dumps(provenance, indent=1)),
    }


def data_dir() -> Path:
    """Folder of the shipped data files (inside the installed package)."""
    return Path(str(resources.files("npsnn_edu") / "data"))


def data_path(molecule: str) -> Path:
    if molecule not in MOLECULES:
        raise unknown_name("molecule", molecule, list(MOLECULES))
    return data_dir() / f"gpr_{molecule}.npz"


def save(data: dict[str, Any], path: "str | Path") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    return path


REQUIRED_KEYS = ("symbols", "reference_positions", "positions", "energies", "forces", "split", "provenance",
                 "temperature_K", "chain", "frame_in_chain")


@dataclass(repr=False)
class MoleculeData:
    """A loaded data set. Arrays in eV / Angstrom; ``split`` 0 train, 1 validation, 2 test."""

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
        """(positions, energies, forces) of ``which`` in {"train", "val", "test"}, the first ``n`` of them."""
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
        return dict(self.provenance["isolated_atom_energies_eV"])

    @property
    def free_atom_sum(self) -> float:
        """Sum of isolated-atom energies over the molecule's atoms (eV): the MF5 prior constant."""
        e = self.isolated_atom_energies
        return float(sum(e[s] for s in self.symbols))

    def reference_atoms(self) -> Any:
        from ase import Atoms

        return Atoms(self.symbols, positions=self.reference_positions)


def load(molecule: str = "malondialdehyde", path: "str | Path | None" = None) -> MoleculeData:
    """Load a shipped (or regenerated) data set."""
    path = Path(path) if path is not None else data_path(molecule)
    if not path.exists():
        raise DataFormatError(f"{path} does not exist; regenerate it with "
                              f"`python -m npsnn_edu.gpr.data --regenerate --molecule {molecule}`")
    regen = f"`python -m npsnn_edu.gpr.data --regenerate --molecule {molecule}`"
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
    """
    from ase import Atoms

    s = dict(data.provenance["settings"])
    s["temperatures_K"] = tuple(s["temperatures_K"])
    settings = GenerationSettings(**s)
    seed = int(data.provenance["chain_seeds"][chain])
    T = settings.temperatures_K[chain // settings.chains_per_temperature]
    ref = Atoms(data.symbols, positions=data.reference_positions)
    p, e, _ = run_chain(ref, T, seed, n_frames, settings)
    return p, e


def write_manifest(folder: "str | Path | None" = None) -> Path:
    """Write ``gpr_datasets.json`` next to the data files: per file its sha256, size, shape and provenance."""
    import hashlib

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


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate the chapter-3 GFN2-xTB reference data")
    ap.add_argument("--regenerate", action="store_true", help="run the generation (minutes per molecule)")
    ap.add_argument("--molecule", choices=sorted(MOLECULES) + ["all"], default="all")
    ap.add_argument("--out", default=None, help="output folder (default: the package's data folder)")
    args = ap.parse_args(argv)
    if not args.regenerate:
        for m in sorted(MOLECULES):
            try:
                d = load(m)
                print(m, d.positions.shape, json.dumps(d.provenance["versions"]), d.provenance["date_utc"])
            except DataFormatError as exc:
                print(m, "missing:", exc)
        return 0
    mols = sorted(MOLECULES) if args.molecule == "all" else [args.molecule]
    for m in mols:
        data = generate(m)
        out = Path(args.out) / f"gpr_{m}.npz" if args.out else data_path(m)
        save(data, out)
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    print("wrote", write_manifest(Path(args.out) if args.out else None))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
