"""The GPR paper's claims on its four molecules, as small live runs in the shipped result's format.

The shipped result ``gpr_paper_claims`` (:func:`npsnn_edu.gpr.claims.load_claims`) holds the claims at full size
(``benchmarks/gpr_paper_claims.py``). :func:`live_claims` runs the same protocols at a size that fits a CI run (a
few hundred fs per run, smaller training sets) and returns a dict with the same keys, so that the going-further
notebook ``03c_gpr_paper_molecules`` draws the same tables and figures from either.

* :func:`distortion_run`: a bond stretched along its axis at the start of a 300 K NVT run (the paper's stretched
  O-H): the bond length and the force pulling the H back along the bond, per recorded frame, the time until the
  bond settles within 0.05 A of its equilibrium length (:func:`npsnn_edu.gpr.claims.settle_time`), and the frames
  for a movie.
* :func:`bond_force`: the force along a bond (kcal/mol/A, positive: pulls the second atom back to the first).
* :func:`live_claims`: long runs (crash counts with 95 % intervals), distortion, optimisation of alanine dipeptide,
  Ramachandran sampling and ms per MD step, all under the chapter's one protocol
  (:func:`~npsnn_edu.gpr.experiments.run_nvt`, GFN2-xTB included).

Units: A, fs, K; energies in kcal/mol and forces in kcal/mol/A in the results (eV inside).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import InvalidParameterError
from ..units import KCAL_PER_MOL_EV
from .claims import settle_time
from .data import load, make_calculator
from .experiments import as_md_model, build_models, crash_interval, run_nvt, stretched_bond_test
from .protocols import kabsch_rmsd, optimise_conformers, ramachandran

__all__ = ["PAPER_CLAIMS", "PAPER_MOLECULES", "OH_BONDS", "SETTLE_WITHIN_A", "bond_force", "distortion_run",
           "live_claims"]

#: The paper's claims as its summary states them (issue 21), which notebook 03c quotes: 1000 ps at 300-1000 K
#: without a crash; serine's O-H stretched to 1.5 A (equilibrium 0.98 A) relaxing within 1 ps under restoring forces
#: of up to 1000 kcal/mol/A; alanine dipeptide's C7eq 0.7 kcal/mol below C5, forces converged to 1 kcal/mol/A in 20
#: steps; 50 runs of 10 ns at 500 K (0.5 microseconds) in two CPU days; 2-4 ms per MD step; models trained on 1000
#: geometries from well-tempered metadynamics (the paper's methods).
PAPER_CLAIMS = {"long_run_ps": 1000.0, "temperatures_K": (300.0, 1000.0), "stretched_A": 1.5,
                "oh_equilibrium_A": 0.98, "relax_ps": 1.0, "peak_force_kcal_per_A": 1000.0,
                "c5_minus_c7eq_kcal": 0.7, "fmax_kcal_per_A": 1.0, "opt_steps": 20, "ensemble_runs": 50,
                "run_ns": 10.0, "ensemble_us": 0.5, "ensemble_temperature_K": 500.0, "cpu_days": 2.0,
                "ms_per_step": (2.0, 4.0), "training_geometries": 1000}
#: The paper's four molecules (alanine dipeptide is the optimisation test's molecule).
PAPER_MOLECULES = ("capped_glycine", "capped_serine", "malondialdehyde", "aspirin")
#: The stretched O-H bonds: molecule -> (O index, H index, the other oxygen the H can move to or None), in the
#: kit's atom order (capped serine's hydroxyl OG-HG, :func:`npsnn_edu.gpr.peptides.dipeptide`; malondialdehyde's
#: enol O-H, which points at the other oxygen).
OH_BONDS = {"capped_serine": (13, 16, None), "malondialdehyde": (4, 8, 3)}
#: "Relaxed": the bond's running mean stays within this distance (A) of its equilibrium length
#: (:func:`npsnn_edu.gpr.claims.settle_time`'s default).
SETTLE_WITHIN_A = 0.05


def bond_force(model: Any, reference: Any, frames: np.ndarray, i: int, j: int) -> np.ndarray:
    """Per frame (F, N, 3), the force along the bond i-j that pulls atom j back towards i, in kcal/mol/A (half the
    difference of the two atoms' forces projected on the bond; negative: pushes them apart).

    Parameters
    ----------
    model : Any
        a GP model or an ASE calculator (e.g. GFN2-xTB), run under the kit's protocol.
    reference : Any
        ase.Atoms: the molecule's reference geometry (A).
    frames : np.ndarray
        positions of shape (n_frames, n_atoms, 3), in A.
    i : int
        index of the heavy atom of the bond (e.g. the hydroxyl O).
    j : int
        index of the hydrogen of the bond.
    """
    md = as_md_model(model, reference)
    out = []
    for x in np.asarray(frames, float):
        _, f = md.energy_and_forces(x)
        u = (x[j] - x[i]) / np.linalg.norm(x[j] - x[i])
        out.append(-float((f[j] - f[i]) @ u) / 2.0)
    return np.array(out) / KCAL_PER_MOL_EV


def distortion_run(model: Any, data: Any, i: int, j: int, stretched_A: float = 1.5, *, name: str = "",
                   duration_fs: float = 1000.0, acceptor: int | None = None, seed: int = 0,
                   force_until_fs: float = 50.0, movie_fs: float = 200.0) -> dict[str, Any]:
    """Bond i-j of ``data``'s reference geometry stretched to ``stretched_A`` along the bond, then 300 K NVT with
    ``model`` (:func:`~npsnn_edu.gpr.experiments.stretched_bond_test`, frames every 2 fs).

    Returns a row of the shipped ``distortion`` table (``molecule``, ``prior``, ``bond``, ``stretched_A``,
    ``time_to_relax_fs`` (None if the bond never settles, the run crashed or the H moved to ``acceptor``),
    ``proton_transferred``, ``crashed``, ``force_at_start_kcal_per_A``, ``peak_force_kcal_per_A`` (largest
    |force| over the first ``force_until_fs``), ``reference_A``) with its arrays in place: ``times_fs``,
    ``bond_A``, ``force_times_fs``, ``force_kcal_per_A``, ``movie_times_fs`` and ``movie_positions_A`` (F, N, 3;
    the first ``movie_fs``) and, with an acceptor, ``acceptor_A``.

    Parameters
    ----------
    model : Any
        a GP model or an ASE calculator (e.g. GFN2-xTB), run under the kit's protocol.
    data : Any
        the result's tables (the JSON object of the interface keys).
    i : int
        index of the heavy atom of the bond (e.g. the hydroxyl O).
    j : int
        index of the hydrogen of the bond.
    stretched_A : float, default 1.5
        the bond length the hydrogen starts at, in A (the paper: 1.5).
    name : str, default ''
        the molecule's name, stored in the returned rows.
    duration_fs : float, default 1000.0
        run length in fs.
    acceptor : int | None, default None
        index of the other oxygen a transferred proton may reach, or None.
    seed : int, default 0
        seed of the Langevin random stream.
    force_until_fs : float, default 50.0
        the restoring force is evaluated on frames up to this time, in fs.
    movie_fs : float, default 200.0
        length of the trajectory kept for the movie, in fs.
    """
    ref = data.reference_atoms()
    out = stretched_bond_test(model, data, i, j, stretched_A, duration_fs=duration_fs, seed=seed)
    frames, t = out["run"].frames, np.asarray(out["times_fs"], float)
    transferred = acceptor is not None and bool(
        np.linalg.norm(frames[-1, j] - frames[-1, acceptor]) < out["bond_A"][-1])
    early = t <= force_until_fs
    force = bond_force(model, ref, frames[early], i, j)
    relax = None if transferred or out["crashed"] else settle_time(t.tolist(), list(out["bond_A"]), out["reference_A"])
    row = {"molecule": data.molecule, "prior": name or out["prior"],
           "bond": f"{ref[i].symbol}{i}-{ref[j].symbol}{j}", "stretched_A": float(stretched_A),
           "time_to_relax_fs": relax, "proton_transferred": transferred, "crashed": bool(out["crashed"]),
           "force_at_start_kcal_per_A": round(float(force[0]), 1),
           "peak_force_kcal_per_A": round(float(np.max(np.abs(force))), 1), "atoms": [int(i), int(j)],
           "acceptor": acceptor, "reference_A": float(out["reference_A"]), "duration_fs": float(duration_fs),
           "times_fs": t, "bond_A": np.asarray(out["bond_A"], float), "force_times_fs": t[early],
           "force_kcal_per_A": force, "movie_times_fs": t[t <= movie_fs], "movie_positions_A": frames[t <= movie_fs]}
    if acceptor is not None:
        row["acceptor_A"] = np.linalg.norm(frames[:, j] - frames[:, acceptor], axis=-1)
    return row


def _models(molecule: str, priors: Sequence[str], n_train: int | None, n_force: int | None,
            cache: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """The force-trained GP of each prior (and GFN2-xTB for "xtb"), built once per (molecule, prior) in ``cache``."""
    over = {} if n_force is None else {"n_force": int(n_force)}
    out: dict[str, Any] = {}
    for p in priors:
        if (molecule, p) not in cache:
            cache[(molecule, p)] = (make_calculator() if p == "xtb" else
                                    build_models(load(molecule), "force_trained", priors=(p,), n_train=n_train,
                                                 **over)[p])
        out[p] = cache[(molecule, p)]
    return out


def live_claims(*, molecules: Sequence[str] = PAPER_MOLECULES, temperatures: Sequence[float] = (1000.0,),
                seeds: Sequence[int] = (0,), duration_fs: float = 200.0, xtb_molecules: Sequence[str] =
                ("malondialdehyde",), rama_molecule: str = "capped_glycine",
                rama_temperatures: Sequence[float] = (300.0, 1000.0), rama_duration_fs: float = 100.0,
                n_train: int | None = None,
                n_force: int | None = 30, optimise: bool = True) -> dict[str, Any]:
    """The paper's claims as small live runs, in the format of the shipped ``gpr_paper_claims`` result.

    Every GP is the molecule's force-trained MF5 or MF2 model on the first ``n_train`` training geometries with the
    forces of ``n_force`` of them (None: the shipped settings); GFN2-xTB runs the same protocol on
    ``xtb_molecules``. Long runs: each molecule x prior x temperature x seed for ``duration_fs``; distortion: the
    O-H bonds of :data:`OH_BONDS` stretched to 1.5 A; optimisation: alanine dipeptide from C7eq and C5 (GP and
    xTB, ASE BFGS to 1 kcal/mol/A); Ramachandran: ``rama_molecule`` with MF5 and xTB at ``rama_temperatures`` for
    ``rama_duration_fs`` (a frame every 2 fs).

    Parameters
    ----------
    molecules : Sequence[str], default ('capped_glycine', 'capped_serine', 'malondialdehyde', 'aspirin')
        molecule names (shipped data sets).
    temperatures : Sequence[float], default (1000.0,)
        thermostat temperatures in K.
    seeds : Sequence[int], default (0,)
        seeds, the same for every prior.
    duration_fs : float, default 200.0
        run length in fs.
    xtb_molecules : Sequence[str], default ('malondialdehyde',)
        molecules also run with the GFN2-xTB reference.
    rama_molecule : str, default 'capped_glycine'
        the peptide whose (phi, psi) are sampled.
    rama_temperatures : Sequence[float], default (300.0, 1000.0)
        temperatures (K) of the Ramachandran runs.
    rama_duration_fs : float, default 100.0
        length of each Ramachandran run in fs.
    n_train : int | None, default None
        number of training energies of the small live models.
    n_force : int | None, default 30
        number of training frames whose forces are used.
    optimise : bool, default True
        also run the alanine-dipeptide optimisation (slow with xTB).
    """
    if not molecules:
        raise InvalidParameterError("give at least one molecule")
    cache: dict[tuple[str, str], Any] = {}
    long_runs: list[dict[str, Any]] = []
    speed: dict[str, dict[str, float]] = {}
    for mol in molecules:
        priors = ["MF5", "MF2"] + (["xtb"] if mol in xtb_molecules else [])
        models = _models(mol, priors, n_train, n_force, cache)
        ref = load(mol).reference_atoms()
        for prior, model in models.items():
            for T in temperatures:
                runs = [run_nvt(model, ref, float(T), duration_fs=duration_fs, seed=int(s)) for s in seeds]
                crashes = sum(r.crashed for r in runs)
                long_runs.append({"molecule": mol, "prior": prior, "temperature_K": float(T), "runs": len(runs),
                                  "crashes": crashes, "duration_ps": duration_fs / 1000.0,
                                  "ci95_low": crash_interval(crashes, len(runs))[0],
                                  "ci95_high": crash_interval(crashes, len(runs))[1],
                                  "median_time_to_crash_ps": (float(np.median([r.time_to_crash_fs for r in runs
                                                                               if r.crashed])) / 1000.0
                                                              if crashes else None),
                                  "ms_per_step": float(np.mean([r.ms_per_step for r in runs]))})
        by = {str(r["prior"]): float(r["ms_per_step"]) for r in long_runs if r["molecule"] == mol}
        if "xtb" in by:
            speed[mol] = {"gp": by["MF5"], "xtb": by["xtb"], "ratio": by["xtb"] / by["MF5"]}
    distortion = []
    for mol, (i, j, acc) in OH_BONDS.items():
        models = _models(mol, ["MF5", "MF2", "xtb"], n_train, n_force, cache)
        for prior, model in models.items():
            distortion.append(distortion_run(model, load(mol), i, j, 1.5, name=prior, duration_fs=duration_fs,
                                             acceptor=acc))
    rama = []
    models = _models(rama_molecule, ["MF5", "xtb"], n_train, n_force, cache)
    ref = load(rama_molecule).reference_atoms()
    for T in rama_temperatures:
        for prior, model in models.items():
            run = run_nvt(model, ref, float(T), duration_fs=rama_duration_fs, seed=0, record_every_fs=2.0)
            r = ramachandran(run.frames)
            rama.append({"molecule": rama_molecule, "temperature_K": float(T), "source": prior,
                         "n_frames": r["n_frames"], "seed": 0, "duration_ps": rama_duration_fs / 1000.0,
                         "record_every_fs": 2.0, "crashed": bool(run.crashed), "fractions": r["fractions"],
                         "phi_deg": r["phi"], "psi_deg": r["psi"]})
    used = set(molecules) | set(OH_BONDS) | {rama_molecule} | ({"alanine_dipeptide"} if optimise else set())
    out: dict[str, Any] = {"mode": "live", "molecules": list(molecules), "long_runs": long_runs,
                           "distortion": distortion, "ramachandran": rama, "ms_per_step": speed,
                           "symbols": {m: list(load(m).symbols) for m in sorted(used)},
                           "settings": {"duration_fs": float(duration_fs), "n_train": n_train, "n_force": n_force,
                                        "seeds": [int(s) for s in seeds], "dt_fs": 0.5}}
    if optimise:
        models = _models("alanine_dipeptide", ["MF5", "xtb"], n_train, n_force, cache)
        got, ref_opt = optimise_conformers(models["MF5"]), optimise_conformers(models["xtb"])
        train = ramachandran(load("alanine_dipeptide").subset("train")[0])
        out["optimisation"] = {
            "molecule": "alanine_dipeptide", "prior": "MF5",
            "c7eq_minus_c5_kcal": {"gp": got["gap_kcal"], "xtb": ref_opt["gap_kcal"]},
            "rmsd_A": {k: kabsch_rmsd(v["positions"], ref_opt["starts"][k]["positions"])
                       for k, v in got["starts"].items()},
            "steps_to_1kcal": {"gp": {k: v["steps"] for k, v in got["starts"].items()},
                               "xtb": {k: v["steps"] for k, v in ref_opt["starts"].items()}},
            "fmax_kcal_per_A": 1.0,
            "minima": {src: {k: {"energy_eV": v["energy_eV"], "phi_deg": v["phi"], "psi_deg": v["psi"],
                                 "steps": v["steps"]} for k, v in res["starts"].items()}
                       for src, res in (("gp", got), ("xtb", ref_opt))},
            "training_basin_fractions": train["fractions"], "training_phi_deg": train["phi"],
            "training_psi_deg": train["psi"]}
    return out
