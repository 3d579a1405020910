"""Hot-MD stability of GP potentials per prior mean (malondialdehyde, GFN2-xTB data, 1000 training geometries).

NVT with the kit's own Langevin integrator (BAOAB, :func:`npsnn_edu.integrators.simulate` in chunks), 0.5 fs,
friction 0.02/fs, from the relaxed geometry, seeded (the same seeds for every prior); crash = a bonded distance
deviating > 0.5 A from the relaxed reference or any pair closer than 0.5 A (checked every 10 fs). Three model
settings (:data:`npsnn_edu.gpr.experiments.MODEL_SETTINGS`):

* ``energy_only``: energies of 1000 geometries, validated lengthscale 1.5 / A: accurate, but the prior weight
  w(x) stays ~0 along the runs, so the prior cannot act: MF2 and MF5 crash alike.
* ``short_lengthscale``: l = 0.45: MF5 walls the model in (stable) while MF2 falls apart, at a cost in accuracy.
* ``force_trained``: energies of 1000 + forces of 100 geometries (3700 observations), l = 0.7: accurate AND the
  prior decides stability.

Modes (last line: one JSON object):
  --quick  force-trained model at 1000 K, 8 seeds x 10 ps, MF2 and MF5 runs (2 worker processes), energy MAE of
           every prior, Fisher exact p MF5 vs MF2, the shipped xTB control's crash fraction, ms per MD step.
  --full   the full crash table: 3 settings x 3 temperatures (--temperatures) x 8 seeds x 10 ps for MF2 and
           MF5 (--extras: also MF1, MF3, MF4 of the force-trained model at the hottest temperature); with --save
           writes npsnn_edu/data/results/gpr_crash_table.json via save_result after every setting.
  --long   MF5 and MF2 (force-trained) at 1000 K for 1000 ps each: outcome, wall time, ms/step.
  --thermostat nose_hoover   the same runs with ASE's NoseHooverChainNVT (ASE driver) instead of Langevin.
  --tune   re-validate the lengthscales/nuggets of the settings (prints the chosen values).
  --molecule aspirin   (--full / --tune) the 21-atom aspirin data instead: the force-trained setting only
           (:data:`npsnn_edu.gpr.experiments.MOLECULE_SETTINGS`), saved as gpr_crash_table_aspirin.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: research/ (not installed)

import numpy as np  # noqa: E402

from npsnn_edu.gpr import load  # noqa: E402
from npsnn_edu.gpr.experiments import (  # noqa: E402
    MODEL_SETTINGS,
    accuracy,
    build_models,
    fisher_p,
    load_xtb_control,
    model_settings,
    stretched_oh_test,
    summarize_runs,
    train_model,
)
from npsnn_edu.gpr.priors import PRIOR_NAMES  # noqa: E402
from research.gpr_runs import run_many  # noqa: E402

SEEDS = tuple(range(8))
COMMAND_FULL = "OMP_NUM_THREADS=1 python benchmarks/gpr_stability.py --full --save"


def _ms_per_step(recs: list[dict]) -> float:
    steps = sum(r["n_steps"] for r in recs)
    return 1e3 * sum(r["wall_s"] for r in recs) / max(steps, 1)


def quick(args: argparse.Namespace) -> dict:
    d = load("malondialdehyde")
    ref = d.reference_atoms()
    t0 = time.time()
    models = build_models(d, "force_trained", priors=PRIOR_NAMES)
    mae = {p: round(accuracy(m, d, n_force=100)["energy_mae_kcal"], 3) for p, m in models.items()}
    fmae = {p: round(accuracy(m, d, n_force=100)["force_mae_kcal_per_A"], 3) for p, m in models.items()}
    t_fit = time.time() - t0
    run_priors = {p: models[p] for p in ("MF2", "MF5")}
    md = {"thermostat": args.thermostat}
    seeds = SEEDS[:args.seeds]
    duration = 1000.0 * args.duration_ps
    recs = run_many(run_priors, ref, [1000.0], seeds, duration, workers=args.workers, **md)
    rows = summarize_runs(recs)
    frac = {r["prior"]: r["crash_fraction"] for r in rows}
    k = {r["prior"]: r["crashes"] for r in rows}
    ctrl = load_xtb_control()
    return {"benchmark": "gpr_stability", "mode": "quick", "setting": "force_trained",
            "model": {key: val for key, val in MODEL_SETTINGS["force_trained"].items()}, "temperature_K": 1000.0,
            "seeds": len(seeds), "duration_fs": duration, "thermostat": args.thermostat,
            "mae_kcal": mae, "force_mae_kcal_per_A": fmae, "crash_fraction": frac,
            "crash_ci95": {r["prior"]: [round(r["ci_low"], 3), round(r["ci_high"], 3)] for r in rows},
            "median_time_to_crash_fs": {r["prior"]: r["median_time_to_crash_fs"] for r in rows},
            "open_enol_fraction": {r["prior"]: r["open_enol_fraction"] for r in rows},
            "max_prior_weight": {r["prior"]: r["max_prior_weight"] for r in rows},
            "p_value": fisher_p(k["MF5"], len(seeds), k["MF2"], len(seeds)),
            "xtb_control_crash_fraction": None if ctrl is None else ctrl.get("crash_fraction"),
            "xtb_control_open_enol_fraction": None if ctrl is None else ctrl.get("open_enol_fraction"),
            "ms_per_md_step": round(_ms_per_step(recs), 4), "fit_and_accuracy_s": round(t_fit, 1),
            "workers": args.workers, "wall_s": round(time.time() - t0, 1)}


def full(args: argparse.Namespace) -> dict:
    d = load(args.molecule)
    settings = model_settings(args.molecule)
    ref = d.reference_atoms()
    t0 = time.time()
    temps = [float(t) for t in args.temperatures.split(",")]
    table: dict = {"seeds": list(SEEDS), "duration_fs": 10_000.0, "temperatures_K": temps, "settings": {},
                   "thermostat": args.thermostat}
    name = "gpr_crash_table" + ("" if args.molecule == "malondialdehyde" else f"_{args.molecule}") + \
        ("" if args.thermostat == "langevin" else "_nose_hoover")
    cmd = COMMAND_FULL + f" --temperatures {args.temperatures}" + (" --extras" if args.extras else "") + \
        ("" if args.thermostat == "langevin" else " --thermostat nose_hoover") + \
        ("" if args.molecule == "malondialdehyde" else f" --molecule {args.molecule}")
    previous = _previous_table(name, temps) if args.merge else None
    if previous is not None:
        cmd = previous.command + " && " + cmd + " --merge"
    for setting in [s for s in ("force_trained", "energy_only", "short_lengthscale") if s in settings]:
        priors = PRIOR_NAMES if (setting == "force_trained" and args.extras) else ("MF2", "MF5")
        models = build_models(d, setting, priors=priors)
        acc = {p: accuracy(m, d, n_force=100) for p, m in models.items()}
        main = {p: models[p] for p in ("MF2", "MF5")}
        recs = run_many(main, ref, temps, SEEDS, 10_000.0, workers=args.workers, thermostat=args.thermostat,
                        progress=True)
        extra = {p: m for p, m in models.items() if p not in main}
        if extra:  # the other public priors at the hottest temperature only
            recs += run_many(extra, ref, temps[-1:], SEEDS, 10_000.0, workers=args.workers,
                             thermostat=args.thermostat, progress=True)
        table["settings"][setting] = {"model": settings[setting],
                                      "accuracy": {p: {k: round(v, 4) for k, v in a.items()} for p, a in acc.items()},
                                      "rows": summarize_runs(recs),
                                      "runs": [{k: r[k] for k in ("prior", "temperature_K", "seed", "crashed",
                                                                  "time_to_crash_fs", "max_deviation_A",
                                                                  "max_prior_weight", "open_enol_fraction")}
                                               for r in recs],
                                      "ms_per_md_step": round(_ms_per_step(recs), 4)}
        if previous is not None and setting in previous.data["settings"]:
            _merge_setting(table["settings"][setting], previous.data["settings"][setting], temps)
        print(setting, json.dumps({r["prior"] + "@" + str(int(r["temperature_K"])): r["crash_fraction"]
                                   for r in table["settings"][setting]["rows"]}), flush=True)
        table["wall_s"] = round(time.time() - t0, 1)
        if previous is not None:
            table["temperatures_K"] = sorted(set(temps) | set(previous.data.get("temperatures_K", [])))
            table["wall_s"] = round(table["wall_s"] + previous.data.get("wall_s", 0.0), 1)
        if args.save:  # after every setting, so a partial table is usable
            from npsnn_edu.precomputed import save_result

            save_result(name, table, command=cmd, seeds=SEEDS,
                        notes=f"{args.molecule} GFN2-xTB data; crash = bonded deviation > 0.5 A or contact < 0.5 A; "
                              "settings present: " + ", ".join(table["settings"]))
    return {"benchmark": "gpr_stability", "mode": "full", "wall_s": table["wall_s"],
            "crash_fraction": {s: {r["prior"] + "@" + str(int(r["temperature_K"])): r["crash_fraction"]
                                   for r in v["rows"]} for s, v in table["settings"].items()}}


def _previous_table(name: str, temps: list[float]) -> Any:
    """The shipped table to extend with ``--merge`` (its rows at other temperatures are kept as they are)."""
    from npsnn_edu.precomputed import load_result

    prev = load_result(name)
    if prev.data.get("duration_fs") != 10_000.0 or prev.provenance.get("seeds") != list(SEEDS):
        raise SystemExit(f"--merge: the shipped {name} was made with other seeds or run length; rerun --full")
    return prev


def _merge_setting(block: dict, old: dict, temps: list[float]) -> None:
    """Keep ``old``'s rows and runs at temperatures not rerun now (same model, seeds and run length)."""
    if old["model"] != block["model"]:
        raise SystemExit(f"--merge: the shipped table's model {old['model']} differs from {block['model']}")
    keep_rows = [r for r in old["rows"] if r["temperature_K"] not in temps]
    keep_runs = [r for r in old["runs"] if r["temperature_K"] not in temps]
    block["rows"] = sorted(block["rows"] + keep_rows, key=lambda r: (r["temperature_K"], r["prior"]))
    block["runs"] = sorted(block["runs"] + keep_runs, key=lambda r: (r["temperature_K"], r["prior"], r["seed"]))
    block["accuracy"] = {**old["accuracy"], **block["accuracy"]}  # extras' accuracies (hottest T only) kept


def long(args: argparse.Namespace) -> dict:
    d = load("malondialdehyde")
    ref = d.reference_atoms()
    models = build_models(d, "force_trained", priors=("MF5", "MF2"))
    t0 = time.time()
    recs = run_many(models, ref, [1000.0], [0], args.long_ps * 1000.0, workers=args.workers,
                    thermostat=args.thermostat)
    out = {"benchmark": "gpr_stability", "mode": "long", "duration_ps": args.long_ps, "temperature_K": 1000.0,
           "seed": 0, "runs": {r["prior"]: {"crashed": r["crashed"], "time_to_crash_fs": r["time_to_crash_fs"],
                                            "max_deviation_A": r["max_deviation_A"], "wall_s": round(r["wall_s"], 1),
                                            "ms_per_step": round(1e3 * r["wall_s"] / max(r["n_steps"], 1), 4),
                                            "open_enol_fraction": r["open_enol_fraction"]} for r in recs}}
    oh = stretched_oh_test(models["MF5"], d)
    out["stretched_OH"] = {"start_A": 1.5, "reference_A": round(oh["reference_A"], 3),
                           "relaxed_by_fs": oh["relaxed_by_fs"], "final_oh_A": round(oh["final_oh_A"], 3),
                           "start_nearest_A": round(oh["start_nearest_A"], 3), "ends_on": oh["ends_on"]}
    out["wall_s"] = round(time.time() - t0, 1)
    return out


def tune(args: argparse.Namespace) -> dict:
    d = load(args.molecule)
    out = {}
    grid = (0.45, 0.7, 1.0, 1.5, 2.0) if args.molecule == "malondialdehyde" else (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0)
    noises = (1e-10, 1e-8, 1e-6) if args.molecule == "malondialdehyde" else (1e-8,)
    for setting, n_force in (("energy_only", 0), ("force_trained", 100)):
        if setting not in model_settings(args.molecule):
            continue
        m = train_model(d, "MF5", n_force=n_force, lengthscales=grid, noises=noises, noises_forces=(1e-6, 1e-4))
        out[setting] = {"lengthscale": float(m.lengthscale), "noise": m.noise, "noise_forces": m.noise_forces}
    return {"benchmark": "gpr_stability", "mode": "tune", "validated": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true")
    g.add_argument("--full", action="store_true")
    g.add_argument("--long", action="store_true")
    g.add_argument("--tune", action="store_true")
    ap.add_argument("--save", action="store_true", help="with --full: write the shipped crash table")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--long-ps", type=float, default=1000.0)
    ap.add_argument("--temperatures", default="300,600,1000", help="--full: temperatures (K)")
    ap.add_argument("--merge", action="store_true",
                    help="--full --save: keep the shipped table's rows at the other temperatures (same models)")
    ap.add_argument("--extras", action="store_true", help="--full: also MF1, MF3, MF4 (force-trained, hottest T)")
    ap.add_argument("--seeds", type=int, default=8, help="--quick: number of seeds (0..7)")
    ap.add_argument("--duration-ps", type=float, default=10.0, help="--quick: run length (ps)")
    ap.add_argument("--molecule", default="malondialdehyde", choices=("malondialdehyde", "aspirin"),
                    help="--full / --tune: the molecule (aspirin: the force-trained setting only)")
    ap.add_argument("--thermostat", default="langevin", choices=("langevin", "nose_hoover"))
    args = ap.parse_args()
    np.seterr(all="ignore")
    fn = full if args.full else long if args.long else tune if args.tune else quick
    print(json.dumps(fn(args)))


if __name__ == "__main__":
    main()
