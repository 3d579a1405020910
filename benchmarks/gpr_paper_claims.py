"""The GPR prior-mean paper's claims as protocols: GP models (MF5, MF2) and the GFN2-xTB reference under ONE protocol.

Every run goes through :func:`npsnn_edu.gpr.experiments.run_nvt` (kit BAOAB Langevin, 0.5 fs, friction 0.02 / fs,
``default_rng(seed)``, crash check every 20 steps), the reference method included ("xtb"), on the molecules whose data
the kit ships. Prints a table per claim and, as its last line, one JSON object:

``{"molecules", "long_runs": [{"molecule", "prior", "temperature_K", "runs", "crashes", "duration_ps",
"ci95_high"}], "distortion": [{"molecule", "prior", "stretched_A", "time_to_relax_fs", "peak_force_kcal_per_A"}],
"optimisation": ..., "ramachandran": [...], "campaign": {"engine", "workers", "runs", "overhead_vs_loop",
"startup_s", "resume_skipped"}, "ms_per_step": {"<molecule>": {"gp", "xtb", "ratio"}}, "not_run": [...]}``

``not_run`` lists what has not been run (capped glycine and serine need data the kit does not ship yet; the paper's
run lengths): the Ramachandran entries stay empty rather than being filled with anything else.

Modes:
  --quick  malondialdehyde: long runs at 1000 K for MF5, MF2 and xTB (3 seeds x 1 ps), the enol O-H distortion,
           the Dask campaign overhead on 20 short runs, ms per step for malondialdehyde and aspirin, the alanine
           dipeptide optimisation (C7eq vs C5) with the shipped validated model (3-5 min).
  --full   the claims at the paper's size, written as the shipped result ``gpr_paper_claims``
           (:mod:`npsnn_edu.gpr.claims`: a JSON of tables + an npz of arrays) into ``--out-result DIR``:
           * long runs: read from the campaign store ``--store FILE`` (the paper-length plan PAPER_PLAN below, run
             by ``python -m npsnn_edu.gpr.campaign``); the plan's missing runs are run into the store first unless
             ``--long-runs read`` (read only; use it while the campaign runs elsewhere);
           * the protocols, each cached in ``--work DIR`` (rerun with the same DIR to reuse finished ones;
             ``--redo NAME ...`` runs some again): distortion (O-H stretched to 1.5 A, MF5 vs MF2 vs xTB, bond
             series and the first ``--movie-fs`` of positions kept), optimisation (alanine dipeptide), ramachandran
             (capped glycine and serine at 300 and 1000 K, MF5 ``--gp-rama-ps``, xTB ``--xtb-rama-ps``, (phi, psi)
             kept), ms_per_step (GP vs xTB in the same process), campaign_overhead (Dask vs the bare loop);
           * ``--assemble-only``: runs nothing; assembles the result from the store and the cached protocols.

Reproduce:
  ``OMP_NUM_THREADS=1 python benchmarks/gpr_paper_claims.py --quick``
  the shipped result (``make paper-claims``, after the campaign ``make paper-campaign`` has filled the store):
  ``python benchmarks/gpr_paper_claims.py --full --store build/paper_campaign.jsonl --long-runs read
  --work build/paper_claims --out-result npsnn_edu/data/results``
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from npsnn_edu.gpr import campaign as cp  # noqa: E402
from npsnn_edu.gpr.claims import settle_time  # noqa: E402
from npsnn_edu.gpr.data import load, make_calculator  # noqa: E402
from npsnn_edu.gpr.experiments import build_models, run_nvt, stretched_bond_test  # noqa: E402
from npsnn_edu.gpr.paper_runs import bond_force  # noqa: E402

ENOL_O, ENOL_H = 4, 8  # malondialdehyde's enol O2-H in the kit's atom order
SER_OG, SER_HG = 13, 16  # capped serine's hydroxyl O-H (npsnn_edu.gpr.peptides atom order)


def available_molecules() -> list[str]:
    """The kit's molecules whose data sets ship (or were regenerated into the package)."""
    from npsnn_edu.errors import DataFormatError
    from npsnn_edu.gpr.data import MOLECULES

    out = []
    for m in MOLECULES:
        try:
            load(m)
            out.append(m)
        except DataFormatError:
            pass
    return out

NOT_RUN = [
    "the long runs at the paper's length (1000 ps at 1000 K, 3 seeds, four molecules; 100 ps at 300/600 K) and the "
    "8 x 1 ns ensemble at 500 K: this benchmark runs 1 ps per run (--quick) or --duration-ps (--full)",
]


def not_run(available: list[str]) -> list[str]:
    missing = [m for m in ("capped_glycine", "capped_serine", "alanine_dipeptide") if m not in available]
    out = list(NOT_RUN)
    if missing:
        out.append(f"{', '.join(missing)}: data not shipped yet (make them with `python -m npsnn_edu.gpr.data "
                   "--regenerate --molecule NAME --out DIR`)")
    return out


def optimisation() -> dict[str, Any]:
    """Alanine dipeptide from C7eq- and C5-like starts (ASE BFGS to 1 kcal/mol/A): the validated force-trained MF5
    model against GFN2-xTB's own optimisation."""
    from npsnn_edu.gpr.protocols import kabsch_rmsd, optimise_conformers

    d = load("alanine_dipeptide")
    gp = build_models(d, "force_trained", priors=("MF5",))["MF5"]
    ref = optimise_conformers(make_calculator(), "ALA")
    got = optimise_conformers(gp, "ALA")
    return {"molecule": "alanine_dipeptide", "prior": "MF5",
            "c7eq_minus_c5_kcal": {"gp": round(got["gap_kcal"], 3), "xtb": round(ref["gap_kcal"], 3)},
            "rmsd_A": {k: round(kabsch_rmsd(v["positions"], ref["starts"][k]["positions"]), 3)
                       for k, v in got["starts"].items()},
            "steps_to_1kcal": {"gp": {k: v["steps"] for k, v in got["starts"].items()},
                               "xtb": {k: v["steps"] for k, v in ref["starts"].items()}}}


def long_runs(store: Path, molecules: list[str], temperatures: list[float], seeds: list[int], gp_ps: float,
              xtb_ps: float, workers: int) -> list[dict[str, Any]]:
    jobs = cp.make_jobs(molecules, ["MF5", "MF2"], temperatures, seeds, gp_ps * 1000.0)
    jobs += cp.make_jobs(molecules, [cp.REFERENCE], temperatures, seeds, xtb_ps * 1000.0)
    cp.run_campaign(jobs, store, workers=workers, progress=False)
    return [{"molecule": r["molecule"], "prior": r["prior"], "temperature_K": r["temperature_K"], "runs": r["runs"],
             "crashes": r["crashes"], "duration_ps": r["duration_fs"] / 1000.0, "ci95_high": round(r["ci_high"], 4),
             "ms_per_step": round(r["ms_per_step"], 4)} for r in cp.summarize_store(store)]


def distortion(data: Any, models: dict[str, Any], i: int, j: int, stretched_A: float, duration_fs: float,
               acceptor: int | None = None, arrays: dict[str, np.ndarray] | None = None,
               movie_fs: float = 200.0, seed: int = 0) -> list[dict[str, Any]]:
    """Bond i-j stretched to ``stretched_A`` along the bond, 300 K: the time for the bond to settle within 0.05 A of
    its equilibrium length, and the force pulling j back (kcal/mol/A). With ``acceptor`` (malondialdehyde's enol: the
    other oxygen), a run whose H ends nearer the acceptor is a proton transfer, not a relaxation. With ``arrays``
    (a dict), the series each row summarises are put there (bond length, force along the bond, the positions of the
    first ``movie_fs``) and named in the row's ``"arrays"``."""
    rows = []
    ref = data.reference_atoms()
    for name, model in models.items():
        out = stretched_bond_test(model, data, i, j, stretched_A, duration_fs=duration_fs, seed=seed)
        frames, t = out["run"].frames, out["times_fs"]
        transferred = acceptor is not None and bool(
            np.linalg.norm(frames[-1, j] - frames[-1, acceptor]) < out["bond_A"][-1])
        force = bond_force(model, ref, frames[t <= 50.0], i, j)
        row = {"molecule": data.molecule, "prior": name, "bond": f"{ref[i].symbol}{i}-{ref[j].symbol}{j}",
               "stretched_A": stretched_A, "time_to_relax_fs": None if transferred or out["crashed"] else
               settle_time(t, out["bond_A"], out["reference_A"], 0.05),
               "proton_transferred": transferred, "crashed": bool(out["crashed"]),
               "force_at_start_kcal_per_A": round(float(force[0]), 1),
               "peak_force_kcal_per_A": round(float(np.max(np.abs(force))), 1)}
        if arrays is not None:
            base = f"distortion/{data.molecule}/{name}" + (f"/seed{seed}" if seed else "")
            keys = {"times_fs": t.astype(float), "bond_A": out["bond_A"].astype(float),
                    "force_times_fs": t[t <= 50.0].astype(float), "force_kcal_per_A": force.astype(float),
                    "movie_times_fs": t[t <= movie_fs].astype(np.float32),
                    "movie_positions_A": frames[t <= movie_fs].astype(np.float32)}
            if seed:  # the movie only for seed 0
                del keys["movie_times_fs"], keys["movie_positions_A"]
            if acceptor is not None:
                keys["acceptor_A"] = np.linalg.norm(frames[:, j] - frames[:, acceptor], axis=-1)
            for k, v in keys.items():
                arrays[f"{base}/{k}"] = v
            row.update(atoms=[int(i), int(j)], acceptor=None if acceptor is None else int(acceptor),
                       reference_A=round(float(out["reference_A"]), 5), duration_fs=float(duration_fs),
                       seed=int(seed), temperature_K=300.0, within_A=0.05, settle_window_fs=20.0,
                       ms_per_step=round(out["run"].ms_per_step, 4),
                       arrays={k: f"{base}/{k}" for k in keys})
        rows.append(row)
    return rows


def ramachandran_rows(molecule: str, models: dict[str, Any], temperatures: list[float], duration_fs: float
                      ) -> list[dict[str, Any]]:
    """(phi, psi) sampling of a dipeptide: the fraction of frames in the C7eq, beta/C5 and alpha-R basins and beyond
    them, per model and temperature (one seeded run each, frames every 10 fs)."""
    from npsnn_edu.gpr.protocols import ramachandran

    data = load(molecule)
    ref = data.reference_atoms()
    rows = []
    for T in temperatures:
        for name, model in models.items():
            run = run_nvt(model, ref, T, duration_fs=duration_fs, seed=0)
            r = ramachandran(run.frames)
            rows.append({"molecule": molecule, "temperature_K": T, "source": name, "n_frames": r["n_frames"],
                         "crashed": bool(run.crashed),
                         "fractions": {k: round(v, 3) for k, v in r["fractions"].items()}})
    return rows


def ms_per_step(molecule: str, n_fs: float = 100.0) -> dict[str, float]:
    data = load(molecule)
    ref = data.reference_atoms()
    gp = build_models(data, "force_trained", priors=("MF5",))["MF5"]
    a = run_nvt(gp, ref, 300.0, duration_fs=n_fs, seed=0).ms_per_step
    b = run_nvt(make_calculator(), ref, 300.0, duration_fs=n_fs, seed=0).ms_per_step
    return {"gp": round(a, 4), "xtb": round(b, 4), "ratio": round(b / a, 2)}


def campaign_overhead(n_runs: int, duration_fs: float) -> dict[str, Any]:
    """The same n_runs jobs as a bare in-process loop and on Dask (1 worker): the extra wall time Dask costs per
    campaign, and a restart that must skip every finished run. Both engines first run one warm-up job (not timed):
    the worker's imports and model build are a one-time cost, reported apart with the cluster start-up."""
    from distributed import LocalCluster

    jobs = cp.make_jobs(["malondialdehyde"], ["MF5"], [600.0], list(range(n_runs)), duration_fs)
    warm = cp.make_jobs(["malondialdehyde"], ["MF5"], [600.0], [10_000], duration_fs)
    with tempfile.TemporaryDirectory() as tmp:
        cp.run_campaign(warm, Path(tmp) / "warm_loop.jsonl", engine="loop", progress=False)
        t0 = time.perf_counter()
        cp.run_campaign(jobs, Path(tmp) / "loop.jsonl", engine="loop", progress=False)
        loop_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=40) as cluster:
            cp.run_campaign(warm, Path(tmp) / "warm_dask.jsonl", scheduler=cluster.scheduler_address,
                            progress=False)
            startup = time.perf_counter() - t0
            t1 = time.perf_counter()
            res = cp.run_campaign(jobs, Path(tmp) / "dask.jsonl", scheduler=cluster.scheduler_address,
                                  progress=False)
            dask_s = time.perf_counter() - t1
            again = cp.run_campaign(jobs, Path(tmp) / "dask.jsonl", scheduler=cluster.scheduler_address,
                                    progress=False)
    return {"engine": "dask", "workers": 1, "runs": res["done"], "run_ps": duration_fs / 1000.0,
            "loop_s": round(loop_s, 2), "dask_s": round(dask_s, 2), "overhead_vs_loop": round(dask_s / loop_s - 1.0, 4),
            "startup_s": round(startup, 2), "resume_skipped": again["skipped"]}


# ----------------------------------------------------------------------------------------------- --full
#: The paper-length campaign (issue 21, claim a and e), in the order it runs: (molecules, priors, temperatures (K),
#: seeds, run length (ps)). ``make paper-campaign`` runs it into one store (resumable).
PAPER_MOLECULES = ["capped_glycine", "capped_serine", "malondialdehyde", "aspirin"]
PAPER_PLAN: list[tuple[list[str], list[str], list[float], list[int], float]] = [
    (PAPER_MOLECULES, ["xtb"], [1000.0], [0], 10.0),
    (PAPER_MOLECULES, ["MF5", "MF2"], [1000.0], [0, 1, 2], 1000.0),
    (PAPER_MOLECULES, ["MF5", "MF2"], [300.0, 600.0], [0, 1, 2], 100.0),
    (PAPER_MOLECULES, ["xtb"], [300.0, 600.0], [0], 10.0),
    (["malondialdehyde"], ["MF5"], [500.0], list(range(8)), 1000.0),
]
PROTOCOLS = ("distortion", "optimisation", "ramachandran", "ms_per_step", "campaign_overhead", "distortion_seeds")


def plan_jobs() -> list[cp.Job]:
    return [j for mols, priors, temps, seeds, ps in PAPER_PLAN
            for j in cp.make_jobs(mols, priors, temps, seeds, ps * 1000.0)]


def plan_status(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How much of :data:`PAPER_PLAN` the store holds: finished runs, failed ones, and what is missing per stage."""
    stages = []
    for mols, priors, temps, seeds, ps in PAPER_PLAN:
        jobs = cp.make_jobs(mols, priors, temps, seeds, ps * 1000.0)
        done = [j for j in jobs if records.get(j.key, {}).get("status") == "done"]
        failed = [j.key for j in jobs if records.get(j.key, {}).get("status") == "failed"]
        stages.append({"molecules": mols, "priors": priors, "temperatures_K": temps, "seeds": seeds,
                       "duration_ps": ps, "planned": len(jobs), "finished": len(done), "failed": failed})
    return {"planned": sum(st["planned"] for st in stages), "finished": sum(st["finished"] for st in stages),
            "failed": sum(len(st["failed"]) for st in stages), "stages": stages}


def _cache(work: Path, name: str) -> tuple[Path, Path]:
    return work / f"{name}.json", work / f"{name}.npz"


def save_protocol(work: Path, name: str, out: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    js, npz = _cache(work, name)
    np.savez_compressed(npz, **arrays)
    js.write_text(json.dumps(out, indent=1) + "\n")  # written last: its presence means the protocol is complete


def load_protocol(work: Path, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    js, npz = _cache(work, name)
    if not js.is_file() or not npz.is_file():
        return None
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(js.read_text()), arrays


def proto_distortion(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Capped serine's hydroxyl O-H and malondialdehyde's enol O-H stretched to 1.5 A, 300 K, MF5 vs MF2 vs xTB."""
    arrays: dict[str, np.ndarray] = {}
    rows = []
    for mol, (i, j), acceptor in (("capped_serine", (SER_OG, SER_HG), None),
                                  ("malondialdehyde", (ENOL_O, ENOL_H), 3)):
        data = load(mol)
        models = build_models(data, "force_trained", priors=("MF5", "MF2"))
        models["xtb"] = make_calculator()
        rows += distortion(data, models, i, j, 1.5, args.distortion_fs, acceptor=acceptor, arrays=arrays,
                           movie_fs=args.movie_fs)
    return {"rows": rows}, arrays


def proto_distortion_seeds(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The distortion protocol again with seeds ``--distortion-seeds`` (the thermostat's noise and the starting
    velocities differ): does the outcome of seed 0 hold? Bond series kept, no movie."""
    arrays: dict[str, np.ndarray] = {}
    rows = []
    for mol, (i, j), acceptor in (("capped_serine", (SER_OG, SER_HG), None),
                                  ("malondialdehyde", (ENOL_O, ENOL_H), 3)):
        data = load(mol)
        models = build_models(data, "force_trained", priors=("MF5", "MF2"))
        models["xtb"] = make_calculator()
        for seed in args.distortion_seeds:
            rows += distortion(data, models, i, j, 1.5, args.distortion_fs, acceptor=acceptor, arrays=arrays,
                               seed=seed)
    return {"rows": rows}, arrays


def proto_optimisation(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Alanine dipeptide from C7eq- and C5-like starts, GP (MF5) vs GFN2-xTB, plus the training data's coverage of
    the two basins (what the GP learnt from)."""
    from npsnn_edu.gpr.protocols import basin_fractions, kabsch_rmsd, optimise_conformers, ramachandran

    d = load("alanine_dipeptide")
    gp = build_models(d, "force_trained", priors=("MF5",))["MF5"]
    ref = optimise_conformers(make_calculator(), "ALA")
    got = optimise_conformers(gp, "ALA")
    train = ramachandran(d.subset("train")[0])
    arrays = {"optimisation/training_phi_deg": train["phi"].astype(np.float32),
              "optimisation/training_psi_deg": train["psi"].astype(np.float32)}
    minima: dict[str, Any] = {}
    for src, res in (("gp", got), ("xtb", ref)):
        for k, v in res["starts"].items():
            arrays[f"optimisation/{src}/{k}/positions_A"] = np.asarray(v["positions"], float)
            minima.setdefault(src, {})[k] = {"energy_eV": v["energy_eV"], "phi_deg": round(v["phi"], 2),
                                             "psi_deg": round(v["psi"], 2), "steps": v["steps"],
                                             "positions": f"optimisation/{src}/{k}/positions_A"}
    fr = {k: round(v, 4) for k, v in basin_fractions(arrays["optimisation/training_phi_deg"],
                                                     arrays["optimisation/training_psi_deg"]).items()}
    out = {"molecule": "alanine_dipeptide", "prior": "MF5",
           "c7eq_minus_c5_kcal": {"gp": round(got["gap_kcal"], 3), "xtb": round(ref["gap_kcal"], 3)},
           "rmsd_A": {k: round(kabsch_rmsd(v["positions"], ref["starts"][k]["positions"]), 3)
                      for k, v in got["starts"].items()},
           "steps_to_1kcal": {"gp": {k: v["steps"] for k, v in got["starts"].items()},
                              "xtb": {k: v["steps"] for k, v in ref["starts"].items()}},
           "fmax_kcal_per_A": 1.0, "optimizer": "ase.optimize.BFGS", "minima": minima,
           "training_basin_fractions": fr,
           "arrays": {"training_phi_deg": "optimisation/training_phi_deg",
                      "training_psi_deg": "optimisation/training_psi_deg"}}
    return out, arrays


def proto_ramachandran(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(phi, psi) of capped glycine and capped serine at 300 and 1000 K: MF5 ``--gp-rama-ps``, xTB
    ``--xtb-rama-ps`` (a frame every 10 fs); basin fractions from the float32 arrays that ship. A run that crashes
    is followed by the next seed (0, 1, 2, ...; at most ``--rama-max-runs``) until the asked length is simulated:
    the row counts the runs and crashes, and its frames are those of all its runs (each up to its crash)."""
    from npsnn_edu.gpr.peptides import backbone_dihedrals
    from npsnn_edu.gpr.protocols import basin_fractions

    arrays: dict[str, np.ndarray] = {}
    rows = []
    for mol in args.rama_molecules:
        data = load(mol)
        ref = data.reference_atoms()
        models = {"MF5": build_models(data, "force_trained", priors=("MF5",))["MF5"], "xtb": make_calculator()}
        for T in args.rama_temperatures:
            for src, model in models.items():
                ps = args.gp_rama_ps if src != "xtb" else args.xtb_rama_ps
                phis, psis, crash_times, seeds, steps, wall = [], [], [], [], 0, 0.0
                while steps * 0.5 < ps * 1000.0 - 1e-6 and len(seeds) < args.rama_max_runs:
                    seed = len(seeds)
                    run = run_nvt(model, ref, T, duration_fs=ps * 1000.0 - steps * 0.5, seed=seed,
                                  record_every_fs=10.0, record_prior_weight=False)
                    phi, psi = backbone_dihedrals(run.frames)
                    phis.append(np.atleast_1d(phi))
                    psis.append(np.atleast_1d(psi))
                    seeds.append(seed)
                    steps, wall = steps + run.n_steps, wall + run.wall_s
                    if run.crashed:
                        crash_times.append(run.time_to_crash_fs)
                    print(f"  ramachandran {mol} {T:g} K {src} seed {seed}: {run.n_steps} steps, {run.wall_s:.0f} s"
                          f"{', crashed' if run.crashed else ''}", flush=True)
                phi32 = np.concatenate(phis).astype(np.float32)
                psi32 = np.concatenate(psis).astype(np.float32)
                base = f"ramachandran/{mol}/{T:g}/{src}"
                arrays[f"{base}/phi_deg"], arrays[f"{base}/psi_deg"] = phi32, psi32
                rows.append({"molecule": mol, "temperature_K": T, "source": src, "n_frames": int(phi32.size),
                             "seeds": seeds, "runs": len(seeds), "crashes": len(crash_times),
                             "frames_per_run": [int(len(x)) for x in phis],
                             "crashed": bool(crash_times), "time_to_crash_fs": crash_times,
                             "duration_ps": ps, "simulated_ps": steps * 0.5 / 1000.0, "record_every_fs": 10.0,
                             "ms_per_step": round(1e3 * wall / max(steps, 1), 4),
                             "fractions": {k: round(v, 4) for k, v in basin_fractions(phi32, psi32).items()},
                             "arrays": {"phi_deg": f"{base}/phi_deg", "psi_deg": f"{base}/psi_deg"}})
    return {"rows": rows}, arrays


def proto_ms_per_step(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """ms per MD step, the validated MF5 model and GFN2-xTB one after the other in this process (300 K,
    ``--ms-per-step-fs``, same protocol), for the four paper molecules and alanine dipeptide."""
    out = {m: ms_per_step(m, args.ms_per_step_fs) for m in PAPER_MOLECULES + ["alanine_dipeptide"]}
    return {"per_molecule": out, "run_fs": args.ms_per_step_fs}, {}


def proto_campaign_overhead(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return campaign_overhead(args.campaign_runs, 4000.0), {}


def _commit() -> str:
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" (with uncommitted changes)" if dirty else "")


def assemble(args: argparse.Namespace, protocols: dict[str, tuple[dict[str, Any], dict[str, np.ndarray]]],
             wall_s: float) -> dict[str, Any]:
    """The shipped result from the store's records and the protocols' outputs."""
    from npsnn_edu.gpr.claims import ensemble_cost, long_run_rows, save_claims
    from npsnn_edu.gpr.data import MOLECULES
    from npsnn_edu.gpr.protocols import basin_fractions

    records = cp.read_store(args.store)
    plan_keys = {j.key for j in plan_jobs()}
    recs = [r for k, r in sorted(records.items()) if k in plan_keys and r.get("status") == "done"]
    rows = long_run_rows(recs)
    status = plan_status(records)
    arrays: dict[str, np.ndarray] = {}
    for _, arr in protocols.values():
        arrays.update(arr)
    missing = [p for p in PROTOCOLS if p not in protocols]
    not_complete = []
    if status["finished"] < status["planned"]:
        not_complete.append(f"long runs: {status['finished']} of {status['planned']} finished "
                            f"({status['failed']} failed); the rest of PAPER_PLAN had not finished when this was "
                            "assembled (resume: make paper-campaign, then make paper-claims)")
    if missing:
        not_complete.append(f"protocols not run: {', '.join(missing)}")
    ens = ensemble_cost(recs)
    if ens["temperatures_K"] != [500.0]:
        not_complete.append("the 8 x 1 ns ensemble at 500 K has not finished: its cost per ns is stated from "
                            + ("nothing yet" if ens["ms_per_step"] is None else ens["source"]))
    speed = protocols["ms_per_step"][0]["per_molecule"] if "ms_per_step" in protocols else {}
    distortion_rows = [dict(r) for r in protocols["distortion"][0]["rows"]] if "distortion" in protocols else []
    rama_rows = [dict(r) for r in protocols["ramachandran"][0]["rows"]] if "ramachandran" in protocols else []
    for r in rama_rows:  # the GP's first frames, as many as the xTB run of the same seed 0 has: like for like
        x = [o for o in rama_rows if o["source"] == "xtb" and (o["molecule"], o["temperature_K"]) ==
             (r["molecule"], r["temperature_K"])]
        if r["source"] != "xtb" and x and "frames_per_run" in r:
            n = min(x[0]["n_frames"], r["frames_per_run"][0])
            phi, psi = arrays[r["arrays"]["phi_deg"]][:n], arrays[r["arrays"]["psi_deg"]][:n]
            r["matched_frames"] = n
            r["fractions_matched"] = {k: round(v, 4) for k, v in basin_fractions(phi, psi).items()}
    more = protocols["distortion_seeds"][0]["rows"] if "distortion_seeds" in protocols else []
    for r in distortion_rows:
        r["other_seeds"] = [{k: o[k] for k in ("seed", "time_to_relax_fs", "proton_transferred", "crashed",
                                                "force_at_start_kcal_per_A", "peak_force_kcal_per_A", "arrays")}
                            for o in more if (o["molecule"], o["prior"]) == (r["molecule"], r["prior"])]
    by = {(r["molecule"], r["prior"], r["temperature_K"]): r for r in rows}
    speed_campaign = {}
    for m in PAPER_MOLECULES:
        gp, x = by.get((m, "MF5", 1000.0)), by.get((m, "xtb", 1000.0))
        if gp and x:
            speed_campaign[m] = {"gp": gp["ms_per_step"], "xtb": x["ms_per_step"],
                                 "ratio": round(x["ms_per_step"] / gp["ms_per_step"], 2)}
    symbols = {m: list(load(m).symbols) for m in PAPER_MOLECULES + ["alanine_dipeptide"] if m in MOLECULES}
    camp = dict(protocols["campaign_overhead"][0]) if "campaign_overhead" in protocols else {
        "engine": "dask", "workers": None, "runs": 0, "overhead_vs_loop": None, "resume_skipped": None}
    camp["paper_campaign"] = {"store": Path(args.store).name, "workers": 2, **status}
    data = {"mode": "full", "molecules": PAPER_MOLECULES + ["alanine_dipeptide"], "symbols": symbols,
            "long_runs": rows, "long_run_records": recs,
            "distortion": distortion_rows,
            "optimisation": protocols["optimisation"][0] if "optimisation" in protocols else {},
            "ramachandran": rama_rows,
            "campaign": camp, "ms_per_step": speed, "ms_per_step_campaign": speed_campaign,
            "ensemble_500K": ens, "not_complete": not_complete,
            "run_info": {"commit": _commit(), "campaign_code": args.campaign_code,
                         "protocol_wall_s": {p: o.get("wall_s") for p, (o, _) in protocols.items()},
                         "protocol_settings": {p: o.get("settings") for p, (o, _) in protocols.items()},
                         "assemble_wall_s": round(wall_s, 1), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                         "machine_note": args.machine_note}}
    command = ("python benchmarks/gpr_paper_claims.py --full --store STORE --long-runs read --work WORK "
               "--out-result npsnn_edu/data/results (campaign: make paper-campaign)")
    if args.out_result is not None:
        js, npz = save_claims(data, arrays, command=command, seeds=[0, 1, 2, 3, 4, 5, 6, 7],
                              notes="; ".join(not_complete) or "complete", directory=args.out_result)
        print(f"wrote {js} ({js.stat().st_size} bytes) and {npz} ({npz.stat().st_size} bytes)")
        if args.update_docs:
            from npsnn_edu.gpr.claims import load_claims, update_docs

            root = Path(__file__).resolve().parents[1]
            update_docs(load_claims(args.out_result).data, root / "docs" / "gpr_your_molecule.md",
                        root / "README.md")
            print("updated docs/gpr_your_molecule.md and README.md")
    return data


def run_full(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    if args.store is None:
        raise SystemExit("--full needs --store FILE (the campaign store, JSON lines)")
    if not args.assemble_only and args.long_runs == "run":
        cp.run_campaign(plan_jobs(), args.store, workers=args.workers, progress=True)
    work = args.work
    runners = {"distortion": proto_distortion, "distortion_seeds": proto_distortion_seeds,
               "optimisation": proto_optimisation,
               "ramachandran": proto_ramachandran, "ms_per_step": proto_ms_per_step,
               "campaign_overhead": proto_campaign_overhead}
    settings = {"distortion": {"duration_fs": args.distortion_fs, "movie_fs": args.movie_fs},
                "distortion_seeds": {"duration_fs": args.distortion_fs, "seeds": args.distortion_seeds},
                "ramachandran": {"gp_ps": args.gp_rama_ps, "xtb_ps": args.xtb_rama_ps,
                                 "max_runs": args.rama_max_runs, "molecules": args.rama_molecules,
                                 "temperatures_K": args.rama_temperatures},
                "ms_per_step": {"run_fs": args.ms_per_step_fs}, "campaign_overhead": {"runs": args.campaign_runs},
                "optimisation": {}}
    protocols: dict[str, tuple[dict[str, Any], dict[str, np.ndarray]]] = {}
    for name in PROTOCOLS:
        cached = None if work is None or name in args.redo else load_protocol(work, name)
        if cached is None and not args.assemble_only and name in args.protocols:
            print(f"running protocol {name} ...", flush=True)
            t1 = time.perf_counter()
            out, arr = runners[name](args)
            out["wall_s"], out["settings"] = round(time.perf_counter() - t1, 1), settings[name]
            if work is not None:
                save_protocol(work, name, out, arr)
            cached = (out, arr)
            print(f"  {name}: {out['wall_s']} s", flush=True)
        if cached is not None:
            protocols[name] = cached
    return assemble(args, protocols, time.perf_counter() - t0)


def print_full(out: dict[str, Any]) -> None:
    print(f"{'molecule':<16} {'prior':<5} {'T (K)':>6} {'runs':>4} {'crashes':>7} {'ps':>7} {'CI95 high':>9}")
    for r in out["long_runs"]:
        print(f"{r['molecule']:<16} {r['prior']:<5} {r['temperature_K']:>6.0f} {r['runs']:>4} {r['crashes']:>7} "
              f"{r['duration_ps']:>7.1f} {r['ci95_high']:>9.3f}")
    for r in out["distortion"]:
        what = "H transferred" if r["proton_transferred"] else f"settled by {r['time_to_relax_fs']} fs"
        print(f"distortion {r['molecule']:<16} {r['prior']:<4} {what}; peak {r['peak_force_kcal_per_A']} kcal/mol/A")
    for r in out["ramachandran"]:
        print(f"ramachandran {r['molecule']:<15} {r['temperature_K']:>6.0f} K {r['source']:<4} "
              f"{r['n_frames']:>6} frames {r['fractions']}")
    if out["optimisation"]:
        print(f"optimisation C7eq - C5: {out['optimisation']['c7eq_minus_c5_kcal']}")
    print(f"ms per step: {out['ms_per_step']}; in the campaign: {out['ms_per_step_campaign']}")
    print(f"ensemble 500 K: {out['ensemble_500K']}")
    print(f"not complete: {out['not_complete']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="write the JSON object there too")
    full = ap.add_argument_group("--full")
    full.add_argument("--store", type=Path, default=None, help="the campaign store (JSON lines) of PAPER_PLAN")
    full.add_argument("--long-runs", choices=["run", "read"], default="run",
                      help="run the plan's missing runs into the store first (run), or only read it (read)")
    full.add_argument("--assemble-only", action="store_true", help="run nothing: store + cached protocols")
    full.add_argument("--work", type=Path, default=None, help="folder caching each protocol's output")
    full.add_argument("--out-result", type=Path, default=None,
                      help="folder to write gpr_paper_claims.json/.npz into (npsnn_edu/data/results to ship)")
    full.add_argument("--protocols", nargs="*", choices=PROTOCOLS, default=list(PROTOCOLS),
                      help="the protocols to run when not cached (none: only the long runs)")
    full.add_argument("--redo", nargs="*", choices=PROTOCOLS, default=[])
    full.add_argument("--distortion-fs", type=float, default=1000.0)
    full.add_argument("--movie-fs", type=float, default=200.0)
    full.add_argument("--distortion-seeds", nargs="+", type=int, default=[1, 2],
                      help="further seeds of the distortion protocol (protocol distortion_seeds)")
    full.add_argument("--gp-rama-ps", type=float, default=100.0)
    full.add_argument("--xtb-rama-ps", type=float, default=4.0)
    full.add_argument("--rama-max-runs", type=int, default=5, help="seeds tried per Ramachandran row at most")
    full.add_argument("--rama-molecules", nargs="+", default=["capped_glycine", "capped_serine"])
    full.add_argument("--rama-temperatures", nargs="+", type=float, default=[300.0, 1000.0])
    full.add_argument("--ms-per-step-fs", type=float, default=1000.0)
    full.add_argument("--campaign-runs", type=int, default=20)
    full.add_argument("--campaign-code", default=None, help="the commit the campaign's workers ran (provenance)")
    full.add_argument("--machine-note", default="", help="load on the machine while measuring (provenance)")
    full.add_argument("--update-docs", action="store_true",
                      help="write the result's tables into docs/gpr_your_molecule.md and its row into README.md")
    args = ap.parse_args()
    t_start = time.perf_counter()
    if args.full:
        out = run_full(args)
        print_full(out)
        keys = ("mode", "molecules", "long_runs", "distortion", "optimisation", "ramachandran", "campaign",
                "ms_per_step", "ms_per_step_campaign", "ensemble_500K", "not_complete")
        print(json.dumps({k: out[k] for k in keys}))
        return
    molecules = ["malondialdehyde"]
    temps, seeds, gp_ps, xtb_ps, n_camp = [1000.0], [0, 1, 2], 1.0, 1.0, 20
    data = load("malondialdehyde")
    models = build_models(data, "force_trained", priors=("MF5", "MF2"))
    models["xtb"] = make_calculator()
    with tempfile.TemporaryDirectory() as tmp:
        runs = long_runs(Path(tmp) / "long.jsonl", molecules, temps, seeds, gp_ps, xtb_ps, args.workers)
    dist = distortion(data, models, ENOL_O, ENOL_H, 1.5, 1000.0, acceptor=3)
    rama = []
    for mol in [m for m in ("capped_glycine", "alanine_dipeptide", "capped_serine") if m in available_molecules()]:
        pep = load(mol)
        pep_models = build_models(pep, "force_trained", priors=("MF5", "MF2"))
        pep_models["xtb"] = make_calculator()
        if mol == "capped_serine":
            dist += distortion(pep, pep_models, SER_OG, SER_HG, 1.5, 1000.0)
        rama += ramachandran_rows(mol, {"MF5": pep_models["MF5"], "xtb": pep_models["xtb"]}, [300.0, 1000.0],
                                  1000.0)
        molecules.append(mol)
    camp = campaign_overhead(n_camp, 4000.0)
    opt = optimisation()
    speed = {m: ms_per_step(m) for m in ("malondialdehyde", "aspirin", "alanine_dipeptide")}
    print(f"{'molecule':<16} {'prior':<5} {'T (K)':>6} {'runs':>4} {'crashes':>7} {'ps':>6} {'CI95 high':>9}")
    for r in runs:
        print(f"{r['molecule']:<16} {r['prior']:<5} {r['temperature_K']:>6.0f} {r['runs']:>4} {r['crashes']:>7} "
              f"{r['duration_ps']:>6.1f} {r['ci95_high']:>9.3f}")
    print("\ndistortion (an O-H stretched to 1.5 A along the bond, 300 K, 1 ps):")
    for r in dist:
        what = "H transferred to the other O" if r["proton_transferred"] else f"settled by {r['time_to_relax_fs']} fs"
        print(f"  {r['molecule']:<16} {r['bond']:<7} {r['prior']:<4} {what}; force along the bond at the start "
              f"{r['force_at_start_kcal_per_A']:+.0f}, peak |force| {r['peak_force_kcal_per_A']:.0f} kcal/mol/A "
              "(+: pulls H back)")
    print("\nRamachandran basins (fraction of frames; one run each):")
    for r in rama:
        print(f"  {r['molecule']:<18} {r['temperature_K']:>6.0f} K {r['source']:<4} {r['fractions']}")
    print(f"\nDask campaign: {camp['runs']} runs, loop {camp['loop_s']} s, dask {camp['dask_s']} s "
          f"(overhead {100 * camp['overhead_vs_loop']:+.1f} %; cluster start, imports and model build once: "
          f"{camp['startup_s']} s), "
          f"restart skipped {camp['resume_skipped']}")
    for m, s in speed.items():
        print(f"ms per MD step, {m}: GP {s['gp']:.3f}, xTB {s['xtb']:.3f} (xTB/GP {s['ratio']:.1f}x; paper: 2-4 ms)")
    print(f"\nalanine dipeptide, C7eq - C5: GP {opt['c7eq_minus_c5_kcal']['gp']:+.2f}, xTB "
          f"{opt['c7eq_minus_c5_kcal']['xtb']:+.2f} kcal/mol; RMSD to xTB's minima {opt['rmsd_A']} A; BFGS steps to "
          f"1 kcal/mol/A {opt['steps_to_1kcal']}")
    skipped = not_run(available_molecules())
    print(f"\nNot run: {'; '.join(skipped)}")
    out = {"mode": "quick", "molecules": molecules, "long_runs": runs, "distortion": dist,
           "optimisation": opt,
           "ramachandran": rama, "campaign": camp, "ms_per_step": speed, "not_run": skipped,
           "wall_s": round(time.perf_counter() - t_start, 1)}
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
