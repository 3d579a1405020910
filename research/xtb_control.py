"""The GFN2-xTB control: the reference method itself under the NVT protocol the GP models are judged with.

A crash criterion is only meaningful if the reference method passes it. :func:`run_control` runs GFN2-xTB
(tblite, :func:`npsnn_edu.gpr.data.make_calculator`) through :func:`npsnn_edu.gpr.experiments.run_nvt`, the ONE
NVT crash loop of the kit: the kit's BAOAB Langevin integrator, dt 0.5 fs, friction 0.02 / fs, from the relaxed
reference geometry of the shipped data set, Maxwell-Boltzmann start drawn from ``numpy.random.default_rng(seed)``
(the same stream as the GP runs of the same seed), and the kit's
:class:`~npsnn_edu.gpr.experiments.CrashCriterion` checked every ``check_every`` steps (20, as the GP runs). It
records whether the run crashed, the largest bonded deviation (A), and for malondialdehyde the time spent in each
enol conformer (:func:`enol_conformer`) and the number of proton transfers.

This is a research driver (``research/`` at the repository root, not installed with npsnn_edu): the benchmarks
and their tests call it; the notebooks read its shipped output with
:func:`npsnn_edu.gpr.experiments.load_xtb_control`. Run from the repository root::

    OMP_NUM_THREADS=1 python -m research.xtb_control --molecule malondialdehyde --temperatures 1000 \\
        --seeds 0 1 --duration-ps 10 --out DIR

which writes (or merges by seed into) ``DIR/xtb_control_<molecule>.json`` (load it with
``npsnn_edu.precomputed.load_result("xtb_control_malondialdehyde", directory=DIR)``).

The SHIPPED files ``npsnn_edu/data/results/xtb_control_{malondialdehyde,aspirin}.json`` were made by the retired
driver ``npsnn_edu.gpr.control`` (ASE's Langevin, ``numpy.random.RandomState(seed)``, a check every 4 steps);
their provenance says so. Their numbers are a valid control of the criterion (the reference does not crash), but
the trajectories are not those this module produces for the same seed.

Enol conformer of malondialdehyde (atom order of :data:`npsnn_edu.gpr.data.MOLECULES`: C1 C2 C3 O1 O2, H on C2,
H on C1, H on C3, enol H = atom 8; O1 is bonded to C1, O2 to C3):
* **carrier**: the oxygen nearest to the enol H (0 = O1, atom 3; 1 = O2, atom 4).
* **closed / open**: closed enol = the enol H is hydrogen-bonded to the other oxygen, H...O(other) <=
  ``hbond_cutoff_A`` (2.5 A, the usual H-bond cutoff; 1.72 A in the relaxed geometry). Open enol = that H bond is
  broken, either because the O-H is rotated away or because the backbone opened the O...O distance.
* **rotated**: the O-H rotamer itself, torsion H-O(carrier)-C(carrier)-C2 with |torsion| >= 90 deg (~0 in the
  closed minimum, ~180 in the rotated-away enol). Every rotated geometry is open; in the shipped 1000 K data the
  torsion stays below 60 deg and the open geometries are backbone openings (H...O up to 3.4 A).
* **proton transfer**: the enol H moves from one oxygen to the other; counted with hysteresis (the H must come
  within ``commit_A`` = 1.15 A of the new oxygen) so that a proton rattling at the midpoint is not counted twice.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from npsnn_edu.errors import DataFormatError, InvalidParameterError, ShapeMismatchError, unknown_name
from npsnn_edu.gpr.data import MOLECULES, load, make_calculator
from npsnn_edu.gpr.experiments import ENOL_H, ENOL_OXYGENS, HBOND_CUTOFF_A, MDRun, run_nvt
from npsnn_edu.precomputed import load_result, save_result
from npsnn_edu.validation import at_least, positive

__all__ = ["ENOL_ATOMS", "EnolConformer", "enol_conformer", "conformer_statistics", "run_control", "run_record",
           "aggregate", "control_table", "merge_into", "PROTOCOL", "RESULT_NAME", "main"]

#: Atom indices of malondialdehyde's enol unit in the kit's atom order.
#: the enol H and oxygens (and the H-bond cutoff) are the ones experiments.enol_acceptor_distance uses: one definition
ENOL_ATOMS = {"h": ENOL_H, "oxygens": ENOL_OXYGENS, "carbons": (0, 2), "central": 1}
RESULT_NAME = "xtb_control_{molecule}"
_COMMIT_A = 1.15


@dataclass(frozen=True)
class EnolConformer:
    """Enol conformer of one geometry (scalars) or of a series of geometries (arrays of shape (F,)).

    ``carrier``: 0 if the enol H sits on O1 (atom 3), 1 if on O2 (atom 4); ``open``: True if the O-H...O hydrogen
    bond is broken (``acceptor_A`` > the cutoff); ``rotated``: True if |torsion| >= 90 deg; ``torsion_deg``:
    H-O(carrier)-C(carrier)-C2 in degrees (-180, 180]; ``donor_A``: H-O(carrier) distance;
    ``acceptor_A``: H-O(other) distance (the hydrogen-bond length in the closed enol).
    """

    carrier: Any
    open: Any
    rotated: Any
    torsion_deg: Any
    donor_A: Any
    acceptor_A: Any

    @property
    def label(self) -> Any:
        """"closed-O1", "closed-O2", "open-O1" or "open-O2" (array of str for a series)."""
        lab = np.char.add(np.where(self.open, "open-O", "closed-O"), (np.asarray(self.carrier) + 1).astype(str))
        return str(lab) if lab.ndim == 0 else lab


def _torsion(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    b0, b1, b2 = a - b, c - b, d - c
    b1n = b1 / np.linalg.norm(b1, axis=-1, keepdims=True)
    v = b0 - np.sum(b0 * b1n, axis=-1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, axis=-1, keepdims=True) * b1n
    x = np.sum(v * w, axis=-1)
    y = np.sum(np.cross(b1n, v) * w, axis=-1)
    return np.degrees(np.arctan2(y, x))


def enol_conformer(positions: Any, hbond_cutoff_A: float = HBOND_CUTOFF_A) -> EnolConformer:
    """Enol conformer of malondialdehyde geometries ``positions`` (9, 3) or (F, 9, 3), Angstrom.

    See the module docstring for the definitions. Works on any geometry in the kit's atom order (shipped data,
    GP or xTB trajectories).
    """
    positive("hbond_cutoff_A", hbond_cutoff_A)
    x = np.asarray(positions, dtype=float)
    if x.ndim not in (2, 3) or x.shape[-2:] != (9, 3):
        raise ShapeMismatchError(f"enol_conformer expects malondialdehyde positions of shape (9, 3) or (F, 9, 3) "
                                 f"in the kit's atom order, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError("enol_conformer got non-finite positions")
    h = x[..., ENOL_ATOMS["h"], :]
    o = x[..., list(ENOL_ATOMS["oxygens"]), :]          # (..., 2, 3)
    c = x[..., list(ENOL_ATOMS["carbons"]), :]
    mid = x[..., ENOL_ATOMS["central"], :]
    d = np.linalg.norm(o - h[..., None, :], axis=-1)    # (..., 2)
    carrier = np.argmin(d, axis=-1)
    take = carrier[..., None, None]
    oc = np.take_along_axis(o, take, axis=-2)[..., 0, :]
    cc = np.take_along_axis(c, take, axis=-2)[..., 0, :]
    tors = _torsion(h, oc, cc, mid)
    donor = np.take_along_axis(d, carrier[..., None], axis=-1)[..., 0]
    acceptor = np.take_along_axis(d, 1 - carrier[..., None], axis=-1)[..., 0]
    rotated = np.abs(tors) >= 90.0
    is_open = acceptor > hbond_cutoff_A
    if x.ndim == 2:
        return EnolConformer(int(carrier), bool(is_open), bool(rotated), float(tors), float(donor), float(acceptor))
    return EnolConformer(carrier.astype(int), is_open, rotated, tors, donor, acceptor)


def conformer_statistics(positions: Any, commit_A: float = _COMMIT_A,
                         hbond_cutoff_A: float = HBOND_CUTOFF_A) -> dict[str, Any]:
    """Time fractions of the enol conformers and the proton-transfer count along a series (F, 9, 3).

    Returns ``open_enol_fraction``, ``rotated_enol_fraction``, ``carrier_fractions`` [O1, O2],
    ``label_fractions`` (per label), ``n_samples`` and ``proton_transfers`` (hysteresis: the H must come
    within ``commit_A`` of the new oxygen).
    """
    positive("commit_A", commit_A)
    x = np.asarray(positions, dtype=float)
    if x.ndim != 3:
        raise ShapeMismatchError(f"conformer_statistics expects a series (F, 9, 3), got {x.shape}")
    conf = enol_conformer(x, hbond_cutoff_A)
    state, transfers = int(conf.carrier[0]), 0
    for car, don in zip(conf.carrier, conf.donor_A):
        if car != state and don < commit_A:
            state, transfers = int(car), transfers + 1
    labels = conf.label
    return {"open_enol_fraction": float(np.mean(conf.open)), "rotated_enol_fraction": float(np.mean(conf.rotated)),
            "carrier_fractions": [float(np.mean(conf.carrier == 0)), float(np.mean(conf.carrier == 1))],
            "label_fractions": {k: float(np.mean(labels == k)) for k in
                                ("closed-O1", "closed-O2", "open-O1", "open-O2")},
            "proton_transfers": int(transfers), "n_samples": int(len(x))}


# ----------------------------------------------------------------------------- the control run
#: The GP runs' crash-check interval (steps): :func:`npsnn_edu.gpr.experiments.run_nvt`'s default.
CHECK_EVERY = 20
#: The time (fs) at which each run's positions are stored in the record (a fingerprint of the trajectory).
CHECKPOINT_FS = 100.0


def run_control(molecule: str = "malondialdehyde", temperature_K: float = 1000.0, *, seed: int = 0,
                duration_fs: float = 10_000.0, dt_fs: float = 0.5, friction_per_fs: float = 0.02,
                check_every: int = CHECK_EVERY) -> MDRun:
    """GFN2-xTB NVT of ``molecule`` from its shipped relaxed geometry, under the GP runs' protocol.

    Parameters
    ----------
    molecule : str
        A shipped data set (:data:`npsnn_edu.gpr.data.MOLECULES`); its relaxed reference geometry is the start and
        the bonded reference of the crash criterion.
    temperature_K, duration_fs, dt_fs, friction_per_fs : float
        Thermostat temperature (K), run length (fs), time step (fs) and Langevin friction (1/fs).
    seed : int
        Seed of ``numpy.random.default_rng`` (velocities and thermostat noise), as in the GP runs.
    check_every : int
        Steps between two crash checks; the positions are recorded at every check.

    Returns
    -------
    MDRun
        :func:`npsnn_edu.gpr.experiments.run_nvt`'s record (``prior == "xtb"``); the run stops at its first crash.
        Deterministic for a given seed (single-threaded tblite).
    """
    if molecule not in MOLECULES:
        raise unknown_name("molecule", molecule, list(MOLECULES))
    positive("temperature_K", temperature_K)
    positive("duration_fs", duration_fs)
    positive("dt_fs", dt_fs)
    positive("friction_per_fs", friction_per_fs)
    at_least("check_every", check_every, 1, integer=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    ref = load(molecule).reference_atoms()
    return run_nvt(make_calculator(), ref, float(temperature_K), duration_fs=float(duration_fs), seed=int(seed),
                   dt_fs=float(dt_fs), friction_per_fs=float(friction_per_fs), check_every=int(check_every),
                   record_every_fs=int(check_every) * float(dt_fs), record_prior_weight=False)


def _checkpoint(run: MDRun, at_fs: float) -> list | None:
    k = np.flatnonzero(np.isclose(run.times_fs, at_fs))
    return run.frames[k[0]].round(10).tolist() if len(k) else None


def run_record(run: MDRun, molecule: str, dt_fs: float) -> dict[str, Any]:
    """The JSON record of one control run of ``molecule`` with time step ``dt_fs`` (see :func:`main` for the keys).

    ``mean_temperature_K`` is None: :func:`~npsnn_edu.gpr.experiments.run_nvt` records no velocities (the
    thermostat's temperature of the kit's BAOAB is tested in tests/test_integrators.py).
    """
    conf = conformer_statistics(run.frames) if molecule == "malondialdehyde" else None
    return {"seed": run.seed, "crashed": bool(run.crashed), "time_to_crash_fs": run.time_to_crash_fs,
            "reason": run.reason, "max_bonded_deviation_A": round(float(run.max_deviation_A), 6),
            "open_enol_fraction": None if conf is None else conf["open_enol_fraction"],
            "rotated_enol_fraction": None if conf is None else conf["rotated_enol_fraction"],
            "carrier_fractions": None if conf is None else conf["carrier_fractions"],
            "label_fractions": None if conf is None else conf["label_fractions"],
            "proton_transfers": None if conf is None else conf["proton_transfers"],
            "mean_temperature_K": None, "simulated_ps": run.n_steps * float(dt_fs) / 1e3,
            "ms_per_step": round(run.ms_per_step, 3), "checkpoint_positions_A": _checkpoint(run, CHECKPOINT_FS)}


def aggregate(temperature_K: float, records: Sequence[dict[str, Any]], *, duration_fs: float, dt_fs: float,
              friction_per_fs: float, check_every: int) -> dict[str, Any]:
    """One temperature's entry from its per-run records (sorted by seed); keys listed in :func:`main`."""
    runs = sorted(records, key=lambda r: r["seed"])
    crashes = [r["crashed"] for r in runs]
    enol = runs[0]["open_enol_fraction"] is not None
    per = {k: [r[k] for r in runs] for k in runs[0]}
    return {
        "temperature_K": float(temperature_K), "seeds": per["seed"], "n_runs": len(runs), "crashes": crashes,
        "n_crashes": int(sum(crashes)), "crash_fraction": float(np.mean(crashes)),
        "time_to_crash_fs": per["time_to_crash_fs"], "crash_reasons": per["reason"],
        "max_bonded_deviation_A": per["max_bonded_deviation_A"],
        "max_bonded_deviation_A_max": float(max(per["max_bonded_deviation_A"])),
        "open_enol_fraction": per["open_enol_fraction"] if enol else None,
        "open_enol_fraction_mean": float(np.mean(per["open_enol_fraction"])) if enol else None,
        "rotated_enol_fraction": per["rotated_enol_fraction"] if enol else None,
        "carrier_fractions": per["carrier_fractions"] if enol else None,
        "label_fractions": per["label_fractions"] if enol else None,
        "proton_transfers": per["proton_transfers"] if enol else None,
        "mean_temperature_K": per["mean_temperature_K"], "duration_ps": float(duration_fs) / 1e3,
        "simulated_ps": per["simulated_ps"], "dt_fs": float(dt_fs), "friction_per_fs": float(friction_per_fs),
        "check_every_steps": int(check_every), "ms_per_step": per["ms_per_step"],
        "ms_per_step_median": round(float(np.median(per["ms_per_step"])), 3),
        "checkpoint_fs": CHECKPOINT_FS, "checkpoint_positions_A": per["checkpoint_positions_A"], "runs": runs,
    }


def control_table(molecule: str, temperatures: Sequence[float], seeds: Sequence[int], *, duration_fs: float,
                  dt_fs: float = 0.5, friction_per_fs: float = 0.02, check_every: int = CHECK_EVERY
                  ) -> dict[str, Any]:
    """Run the control for every temperature x seed; returns ``{"<T>": entry}`` (see :func:`main` for keys)."""
    out: dict[str, Any] = {}
    for T in temperatures:
        recs = [run_record(run_control(molecule, T, seed=s, duration_fs=duration_fs, dt_fs=dt_fs,
                                       friction_per_fs=friction_per_fs, check_every=check_every), molecule, dt_fs)
                for s in seeds]
        out[f"{float(T):g}"] = aggregate(T, recs, duration_fs=duration_fs, dt_fs=dt_fs,
                                         friction_per_fs=friction_per_fs, check_every=check_every)
    return out


#: What the records of a file written by this driver were produced with (a file holding another protocol is
#: never merged into: the seeds would mean other trajectories).
PROTOCOL = {"driver": "research.xtb_control -> npsnn_edu.gpr.experiments.run_nvt (the GP runs' NVT crash loop)",
            "method": "GFN2-xTB (tblite.ase.TBLite via npsnn_edu.gpr.data.make_calculator, OMP_NUM_THREADS=1)",
            "thermostat": "the kit's BAOAB Langevin (npsnn_edu.integrators.LangevinBAOAB), engine 'core'",
            "start": "relaxed reference geometry of npsnn_edu/data/gpr_<molecule>.npz; Maxwell-Boltzmann "
                     "velocities without centre-of-mass drift from numpy default_rng(seed), the same stream as the "
                     "thermostat noise and as the GP runs of that seed",
            "criterion": "npsnn_edu.gpr.experiments.CrashCriterion (tolerance 0.5 A, min_distance 0.5 A), "
                         "checked every check_every_steps; a run stops at its first crash",
            "enol_conformer": "research.xtb_control.enol_conformer (open: H...O(other) > 2.5 A; rotated: "
                              "|H-O-C-C2 torsion| >= 90 deg), sampled every check_every_steps"}

_SAME_ENTRY = ("duration_ps", "dt_fs", "friction_per_fs", "check_every_steps")


def command_line(molecule: str, temperatures: Sequence[float], seeds: Sequence[int], duration_ps: float,
                 out: "str | Path", check_every: int = CHECK_EVERY) -> str:
    """The command (run from the repository root) that writes these runs into ``out``."""
    every = "" if int(check_every) == CHECK_EVERY else f" --check-every {int(check_every)}"
    return (f"OMP_NUM_THREADS=1 python -m research.xtb_control --molecule {molecule} --temperatures "
            f"{' '.join(f'{float(t):g}' for t in temperatures)} --seeds {' '.join(str(s) for s in seeds)} "
            f"--duration-ps {duration_ps:g}{every} --out {out}")


def merge_into(out: "str | Path", molecule: str, table: dict[str, Any], command: str) -> Path:
    """Merge ``table`` (from :func:`control_table`) into ``<out>/xtb_control_<molecule>.json`` and return its path.

    Entries of a temperature with the same settings are merged by seed (later commands add seeds); a file lock
    makes concurrent commands merge instead of overwriting each other. A file written under another protocol
    (e.g. the shipped files of the retired ASE-Langevin driver) raises :class:`DataFormatError`: choose another
    ``out``.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    name = RESULT_NAME.format(molecule=molecule)
    with open(folder / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old: dict[str, Any] = {"temperatures": {}, "commands": [], "protocol": PROTOCOL, "molecule": molecule}
        if (folder / f"{name}.json").exists():
            old = load_result(name, directory=folder).data
            if not isinstance(old, dict) or old.get("protocol") != PROTOCOL or old.get("molecule") != molecule:
                raise DataFormatError(f"{folder / (name + '.json')} holds runs of another protocol or molecule (its "
                                      "seeds would mean other trajectories); pass another --out folder, or move "
                                      "that file away first")
        temps = dict(old.get("temperatures", {}))
        for T, entry in table.items():
            prev = temps.get(T)
            if prev is not None and all(prev[k] == entry[k] for k in _SAME_ENTRY):
                recs = {r["seed"]: r for r in prev["runs"]} | {r["seed"]: r for r in entry["runs"]}
                entry = aggregate(entry["temperature_K"], list(recs.values()), duration_fs=1e3 * entry["duration_ps"],
                                  dt_fs=entry["dt_fs"], friction_per_fs=entry["friction_per_fs"],
                                  check_every=entry["check_every_steps"])
            temps[T] = entry
        commands = [c for c in old.get("commands", []) if c != command] + [command]
        seeds = sorted({s for e in temps.values() for s in e["seeds"]})
        data = {"molecule": molecule, "protocol": PROTOCOL, "commands": commands, "temperatures": temps}
        return save_result(name, data, command=" && ".join(commands), seeds=seeds, directory=folder,
                           notes="timings measured under load (shared 2-core machine)")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: run the control and merge it into ``--out``/xtb_control_<molecule>.json (``--out`` is required).

    Data keys: ``molecule``, ``protocol`` (dict of str), ``commands`` (list), ``temperatures`` {"<T>": entry};
    per entry: temperature_K, seeds, n_runs, crashes (bool per run), n_crashes, crash_fraction, time_to_crash_fs,
    crash_reasons, max_bonded_deviation_A (per run), max_bonded_deviation_A_max, open_enol_fraction (per run),
    open_enol_fraction_mean, rotated_enol_fraction (per run), carrier_fractions, label_fractions,
    proton_transfers (enol keys None for molecules other than malondialdehyde), mean_temperature_K (None per run
    for this driver), duration_ps, simulated_ps, dt_fs, friction_per_fs, check_every_steps, ms_per_step (per
    run), ms_per_step_median, checkpoint_fs, checkpoint_positions_A, runs (the per-run records of
    :func:`run_record`). The printed JSON line holds the molecule, the command, the file written and a summary.
    """
    ap = argparse.ArgumentParser(prog="python -m research.xtb_control",
                                 description="GFN2-xTB control under the chapter-3 NVT protocol (run_nvt)")
    ap.add_argument("--molecule", choices=sorted(MOLECULES), default="malondialdehyde")
    ap.add_argument("--temperatures", type=float, nargs="+", default=[1000.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--duration-ps", type=float, default=10.0)
    ap.add_argument("--check-every", type=int, default=CHECK_EVERY)
    ap.add_argument("--out", required=True, help="folder of the result file xtb_control_<molecule>.json (merged by "
                                                 "seed when it exists)")
    args = ap.parse_args(argv)
    if args.duration_ps <= 0:
        raise InvalidParameterError(f"--duration-ps must be positive, got {args.duration_ps}")
    table = control_table(args.molecule, args.temperatures, args.seeds, duration_fs=1000.0 * args.duration_ps,
                          check_every=args.check_every)
    command = command_line(args.molecule, args.temperatures, args.seeds, args.duration_ps, args.out, args.check_every)
    path = merge_into(args.out, args.molecule, table, command)
    summary = {T: {k: e[k] for k in ("n_runs", "crash_fraction", "max_bonded_deviation_A_max",
                                     "open_enol_fraction_mean", "proton_transfers", "ms_per_step_median")}
               for T, e in table.items()}
    print(json.dumps({"molecule": args.molecule, "command": command, "wrote": str(path), "summary": summary}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
