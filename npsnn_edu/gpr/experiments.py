"""Chapter-3 experiments: accuracy per prior, hot-MD stability, bond-stretch profiles.

Crash criterion (FFLUX-style, see :class:`CrashCriterion`): during MD a run has *crashed* as soon as
  * a bonded distance deviates by more than ``tolerance`` (0.5 A) from its value in the reference geometry, or
  * any two atoms come closer than ``min_distance`` (0.5 A).
Bonds are detected in the relaxed reference geometry with ASE's natural cutoffs. For a hydrogen the "bond" is
its distance to the NEAREST heavy atom: in malondialdehyde the enol proton hops between the two oxygens at
high temperature (it does so in the GFN2-xTB reference data), which is chemistry, not a crash.

MD: ASE's Langevin driver (NVT), time step 0.5 fs, friction 0.02 / fs, Maxwell-Boltzmann start from the
reference geometry, seeded. A crash is reported, not raised: the record carries a
:class:`~npsnn_edu.errors.SimulationDivergedError` (step, time in fs, reason, partial trajectory) like the
core's integrators.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import InvalidParameterError, InvalidStateError, SimulationDivergedError
from ..units import KCAL_PER_MOL_EV
from .data import MoleculeData
from .model import GPRPotential
from .priors import PRIOR_NAMES


# ----------------------------------------------------------------------------- training helpers
def train_model(data: MoleculeData, prior: Any = "MF5", *, n_train: int | None = None,
                lengthscale: float | None = None, noise: float = 1e-8, tune: str = "validation",
                lengthscales: Sequence[float] = (0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.5, 2.0, 3.0),
                noises: Sequence[float] = (1e-10, 1e-8, 1e-6)) -> GPRPotential:
    """A GP model of ``data`` with ``prior`` on the first ``n_train`` training geometries.

    With ``lengthscale`` given the model uses it (and ``noise``) as is; otherwise the lengthscale and noise
    are chosen on the validation split (``tune="validation"``) or by marginal likelihood (``"likelihood"``).
    """
    X, E, _ = data.subset("train", n_train)
    model = GPRPotential(data.symbols, prior=prior, atom_energies=data.isolated_atom_energies)
    if lengthscale is not None:
        model.set_hyperparameters(lengthscale, noise)
        return model.fit(X, E)
    Xv, Ev, _ = data.subset("val")
    model.tune(X, E, val_positions=Xv, val_energies=Ev, lengthscales=lengthscales, noises=noises, method=tune)
    return model


def accuracy(model: GPRPotential, data: MoleculeData, n_test: int | None = None,
             n_force: int | None = None) -> dict[str, float]:
    """Test-set MAE/RMSE of energies (kcal/mol) and force components (kcal/mol/A) on the first ``n_force`` test
    geometries (all by default; 0 skips the forces: NaN)."""
    X, E, F = data.subset("test", n_test)
    e = model.predict(X)
    nf = len(X) if n_force is None else min(n_force, len(X))
    f = np.array([model.energy_and_forces(x)[1] for x in X[:nf]])
    k = KCAL_PER_MOL_EV
    return {"energy_mae_kcal": float(np.abs(e - E).mean() / k),
            "energy_rmse_kcal": float(np.sqrt(np.mean((e - E) ** 2)) / k),
            "force_mae_kcal_per_A": float(np.abs(f - F[:nf]).mean() / k) if nf else float("nan"),
            "n_test": int(len(X))}


def accuracy_table(data: MoleculeData, priors: Iterable[str] = PRIOR_NAMES, *, n_train: int | None = None,
                   lengthscale: float | None = None, progress: bool = False) -> list[dict[str, Any]]:
    """One row per prior: hyperparameters and test MAEs (kcal/mol, kcal/mol/A)."""
    rows = []
    for p in _maybe_tqdm(list(priors), progress, "accuracy"):
        m = train_model(data, p, n_train=n_train, lengthscale=lengthscale)
        rows.append({"prior": m.prior_name, "lengthscale": float(m.lengthscale), "noise": m.noise,
                     "n_train": len(m.y_train), **accuracy(m, data)})
    return rows


def _maybe_tqdm(it: Any, progress: bool, desc: str) -> Any:
    if not progress:
        return it
    from tqdm.auto import tqdm
    return tqdm(it, desc=desc)


# ----------------------------------------------------------------------------- crash criterion
class CrashCriterion:
    """Bond / close-contact crash test relative to a reference geometry (see module docstring)."""

    def __init__(self, reference: Any, tolerance: float = 0.5, min_distance: float = 0.5):
        from ase.neighborlist import natural_cutoffs, neighbor_list

        self.symbols = reference.get_chemical_symbols()
        self.tolerance, self.min_distance = float(tolerance), float(min_distance)
        x = reference.get_positions()
        i, j = neighbor_list("ij", reference, natural_cutoffs(reference))
        heavy = np.array([s != "H" for s in self.symbols])
        self.heavy_idx = np.flatnonzero(heavy)
        self.h_idx = np.flatnonzero(~heavy)
        pairs = {(a, b) for a, b in zip(i, j) if a < b and heavy[a] and heavy[b]}
        self.heavy_bonds = np.array(sorted(pairs), dtype=int).reshape(-1, 2)
        r = np.linalg.norm(x[:, None] - x[None], axis=-1)
        self.heavy_ref = r[self.heavy_bonds[:, 0], self.heavy_bonds[:, 1]] if len(self.heavy_bonds) else np.zeros(0)
        self.h_ref = r[np.ix_(self.h_idx, self.heavy_idx)].min(axis=1)
        self.iu = np.triu_indices(len(self.symbols), 1)

    def max_deviation(self, positions: np.ndarray) -> float:
        """Largest |bonded distance - reference| (A) of one geometry (H: distance to nearest heavy atom)."""
        x = np.asarray(positions, float)
        r = np.linalg.norm(x[:, None] - x[None], axis=-1)
        dev = [0.0]
        if len(self.heavy_bonds):
            dev.append(float(np.abs(r[self.heavy_bonds[:, 0], self.heavy_bonds[:, 1]] - self.heavy_ref).max()))
        dev.append(float(np.abs(r[np.ix_(self.h_idx, self.heavy_idx)].min(axis=1) - self.h_ref).max()))
        return max(dev)

    def check(self, positions: np.ndarray) -> str | None:
        """None if fine, else a reason string."""
        x = np.asarray(positions, float)
        if not np.all(np.isfinite(x)):
            return "non-finite positions"
        r = np.linalg.norm(x[:, None] - x[None], axis=-1)
        if r[self.iu].min() < self.min_distance:
            return f"two atoms closer than {self.min_distance} A"
        if len(self.heavy_bonds):
            dev = np.abs(r[self.heavy_bonds[:, 0], self.heavy_bonds[:, 1]] - self.heavy_ref)
            k = int(np.argmax(dev))
            if dev[k] > self.tolerance:
                a, b = self.heavy_bonds[k]
                return f"bond {self.symbols[a]}{a}-{self.symbols[b]}{b} deviates {dev[k]:.2f} A from reference"
        dh = np.abs(r[np.ix_(self.h_idx, self.heavy_idx)].min(axis=1) - self.h_ref)
        k = int(np.argmax(dh))
        if dh[k] > self.tolerance:
            return f"H{self.h_idx[k]} bond to nearest heavy atom deviates {dh[k]:.2f} A from reference"
        return None


# ----------------------------------------------------------------------------- NVT runs
@dataclass
class MDRun:
    """Result of one NVT run. Times in fs; ``images`` are ase.Atoms snapshots (with energies)."""

    prior: str
    temperature_K: float
    seed: int
    duration_fs: float
    crashed: bool
    time_to_crash_fs: float | None
    reason: str | None
    images: list = field(default_factory=list, repr=False)
    error: SimulationDivergedError | None = field(default=None, repr=False)

    def trajectory(self) -> Any:
        """The snapshots as an npsnn_edu Trajectory (ASE units) for playback/plots."""
        from ..ase_interop import atoms_to_trajectory

        return atoms_to_trajectory(self.images)


def run_nvt(model: GPRPotential, reference: Any, temperature_K: float, *, duration_fs: float = 1000.0,
            seed: int = 0, dt_fs: float = 0.5, friction_per_fs: float = 0.02, check_every: int = 4,
            record_every_fs: float = 10.0, criterion: CrashCriterion | None = None,
            start_positions: np.ndarray | None = None) -> MDRun:
    """Langevin NVT with the GP model (ASE driver) from ``reference`` (ase.Atoms); stops at the first crash."""
    from ase import units
    from ase.calculators.singlepoint import SinglePointCalculator
    from .data import thermalized_langevin

    if temperature_K <= 0 or duration_fs <= 0 or dt_fs <= 0:
        raise InvalidParameterError("temperature_K, duration_fs and dt_fs must be positive")
    criterion = criterion or CrashCriterion(reference)
    atoms = reference.copy()
    if start_positions is not None:
        atoms.set_positions(start_positions)
    atoms.calc = model.as_ase_calculator()
    dyn = thermalized_langevin(atoms, temperature_K, seed, dt_fs, friction_per_fs)
    n_steps = int(round(duration_fs / dt_fs))
    rec = max(1, int(round(record_every_fs / dt_fs)))
    images: list = []

    def snapshot() -> None:
        a = atoms.copy()
        a.calc = SinglePointCalculator(a, energy=atoms.get_potential_energy())
        a.info["time"] = dyn.nsteps * dt_fs * units.fs
        images.append(a)

    snapshot()
    crash_step, reason = None, None
    step = 0
    while step < n_steps:
        chunk = min(check_every, n_steps - step)
        try:
            dyn.run(chunk)
        except (InvalidStateError, FloatingPointError, ValueError) as exc:
            crash_step, reason = step + chunk, f"model evaluation failed: {exc}"
            break
        step += chunk
        if step % rec < chunk:
            snapshot()
        reason = criterion.check(atoms.get_positions())
        if reason is not None:
            crash_step = step
            snapshot()
            break
    crashed = crash_step is not None
    t_crash = crash_step * dt_fs if crashed else None
    run = MDRun(getattr(model, "prior_name", "?"), float(temperature_K), int(seed), float(duration_fs), crashed,
                t_crash, reason, images)
    if crashed:
        run.error = SimulationDivergedError(f"GP MD crashed at {t_crash:.1f} fs: {reason}", step=crash_step,
                                            time=t_crash, reason=reason, trajectory=None)
    return run


def stability_table(models: dict[str, GPRPotential], reference: Any, temperatures: Sequence[float] = (300, 600, 1000),
                    seeds: Sequence[int] = (0, 1, 2, 3), duration_fs: float = 1000.0, progress: bool = False,
                    keep_images: bool = False, **md: Any) -> tuple[list[dict[str, Any]], list[MDRun]]:
    """Crash fraction and mean time to crash (fs) per prior and temperature. Returns (rows, runs)."""
    runs: list[MDRun] = []
    jobs = [(p, T, s) for p in models for T in temperatures for s in seeds]
    for p, T, s in _maybe_tqdm(jobs, progress, "NVT runs"):
        r = run_nvt(models[p], reference, T, duration_fs=duration_fs, seed=s, **md)
        if not keep_images:
            r.images = r.images[-1:]
        runs.append(r)
    rows = []
    for p in models:
        for T in temperatures:
            sel = [r for r in runs if r.prior == models[p].prior_name and r.temperature_K == T]
            times = [r.time_to_crash_fs for r in sel if r.crashed]
            rows.append({"prior": models[p].prior_name, "temperature_K": float(T), "runs": len(sel),
                         "crashes": len(times), "crash_fraction": len(times) / max(len(sel), 1),
                         "mean_time_to_crash_fs": float(np.mean(times)) if times else None,
                         "duration_fs": float(duration_fs)})
    return rows, runs


# ----------------------------------------------------------------------------- bond stretch
def stretch_geometries(reference: Any, i: int, j: int, distances: Sequence[float]) -> np.ndarray:
    """Geometries (M, N, 3) with atom ``j`` moved along the i->j bond to each distance (A); others fixed."""
    x = reference.get_positions()
    u = x[j] - x[i]
    u /= np.linalg.norm(u)
    out = np.repeat(x[None], len(distances), axis=0)
    out[:, j] = x[i] + np.asarray(distances, float)[:, None] * u
    return out


def bond_stretch_profile(models: dict[str, GPRPotential], data: MoleculeData, i: int, j: int,
                         distances: Sequence[float], reference_energies: bool = True) -> dict[str, Any]:
    """Energy (eV, relative to the reference-geometry xTB energy) along a stretched bond: per prior the GP mean
    and std, and the GFN2-xTB reference (computed here), plus the bond's range in the training data."""
    ref = data.reference_atoms()
    X = stretch_geometries(ref, i, j, distances)
    e0 = None
    out: dict[str, Any] = {"distances": np.asarray(distances, float), "pair": (i, j), "priors": {}}
    if reference_energies:
        from .data import make_calculator
        calc = make_calculator()
        ref_e = []
        for x in X:
            a = ref.copy()
            a.set_positions(x)
            a.calc = calc
            ref_e.append(a.get_potential_energy())
        a = ref.copy()
        a.calc = calc
        e0 = float(a.get_potential_energy())
        out["reference"] = np.array(ref_e) - e0
    e0 = e0 if e0 is not None else float(data.energies.min())
    out["zero_eV"] = e0
    for p, m in models.items():
        mean, std = m.predict(X, return_std=True)
        out["priors"][m.prior_name] = {"mean": mean - e0, "std": std}
    Xt = data.subset("train")[0]
    r = np.linalg.norm(Xt[:, i] - Xt[:, j], axis=-1)
    out["train_range"] = (float(r.min()), float(r.max()))
    return out


def stretched_bond_test(model: GPRPotential, data: MoleculeData, i: int, j: int, start_distance: float = 1.5,
                        *, temperature_K: float = 300.0, duration_fs: float = 1000.0, seed: int = 0,
                        within: float = 0.1) -> dict[str, Any]:
    """Start MD with bond i-j stretched to ``start_distance`` (A); does the model pull it back?

    Returns the bond length trace (fs, A), the first time it comes within ``within`` A of its reference value,
    and the mean bond length over the last 200 fs (None if the run crashed).
    """
    ref = data.reference_atoms()
    x0 = stretch_geometries(ref, i, j, [start_distance])[0]
    crit = CrashCriterion(ref, tolerance=10.0)  # only catch collapse (< 0.5 A), not the stretched start itself
    run = run_nvt(model, ref, temperature_K, duration_fs=duration_fs, seed=seed, start_positions=x0,
                  record_every_fs=2.0, criterion=crit)
    from ase import units
    t = np.array([a.info["time"] / units.fs for a in run.images])
    r = np.array([np.linalg.norm(a.positions[i] - a.positions[j]) for a in run.images])
    r_ref = float(np.linalg.norm(ref.positions[i] - ref.positions[j]))
    back = np.flatnonzero(np.abs(r - r_ref) < within)
    last = r[t >= t[-1] - 200.0] if len(t) else r
    return {"prior": model.prior_name, "times_fs": t, "bond_A": r, "reference_A": r_ref,
            "start_A": float(start_distance), "first_return_fs": float(t[back[0]]) if len(back) else None,
            "final_mean_A": None if run.crashed else float(last.mean()), "crashed": run.crashed,
            "pulled_back": (not run.crashed) and abs(float(last.mean()) - r_ref) < within, "run": run}
