"""Hot-MD stability of GP potentials per prior mean (malondialdehyde, GFN2-xTB data, 1000 training geometries).

Setting (justified in the chapter): NVT (ASE Langevin, 0.5 fs, friction 0.02/fs) at 1000 K, crash = a bonded
distance deviating > 0.5 A from the relaxed reference or any pair closer than 0.5 A.
* headline: isotropic lengthscale l = 0.2 1/A (inverse-distance descriptor), i.e. SHORTER than the validated
  one. This is the regime of the FFLUX finding: the GP's correlation dies off quickly away from the data, so
  the MD meets regions where the model has reverted to its prior mean. A data-centred prior (MF2/MF3/MF4)
  makes those regions as low as the bound molecule (or lower), MF5 makes them ~54 eV higher
  (the GFN2-xTB free-atom sum of malondialdehyde).
* control: the validation-tuned lengthscale (1.5 1/A), where all priors are expected to behave alike.

Usage: .venv/bin/python benchmarks/gpr_stability.py [--quick]   (quick: 4 seeds x 1 ps; full: 8 seeds x 10 ps)
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from npsnn_edu.gpr import load  # noqa: E402
from npsnn_edu.gpr.experiments import stability_table, train_model  # noqa: E402
from npsnn_edu.gpr.priors import PRIOR_NAMES  # noqa: E402


def table(models, ref, T, seeds, duration_fs):
    rows, _ = stability_table(models, ref, temperatures=[T], seeds=seeds, duration_fs=duration_fs, progress=True)
    return ({r["prior"]: r["crash_fraction"] for r in rows},
            {r["prior"]: (None if r["mean_time_to_crash_fs"] is None else round(r["mean_time_to_crash_fs"], 1))
             for r in rows})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--lengthscale", type=float, default=0.2)
    ap.add_argument("--temperature", type=float, default=1000.0)
    args = ap.parse_args()
    seeds = list(range(4 if args.quick else 8))
    duration = 1000.0 if args.quick else 10_000.0
    d = load("malondialdehyde")
    ref = d.reference_atoms()
    t0 = time.time()
    short = {p: train_model(d, p, n_train=1000, lengthscale=args.lengthscale) for p in PRIOR_NAMES}
    cf, ttc = table(short, ref, args.temperature, seeds, duration)
    print(f"l = {args.lengthscale}: crash fraction {cf}, mean time to crash (fs) {ttc}")
    tuned = {p: train_model(d, p, n_train=1000) for p in PRIOR_NAMES}
    l_val = {p: float(m.lengthscale) for p, m in tuned.items()}
    cf_val, ttc_val = table(tuned, ref, args.temperature, seeds, duration)
    print(f"validated lengthscales {l_val}: crash fraction {cf_val}")
    out = {"benchmark": "gpr_stability", "temperature_K": args.temperature, "crash_fraction": cf,
           "mean_time_to_crash_fs": ttc, "lengthscale": args.lengthscale, "n_train": 1000, "seeds": len(seeds),
           "duration_fs": duration, "dt_fs": 0.5, "control_validated_lengthscale": l_val,
           "crash_fraction_validated_lengthscale": cf_val, "mf5_below_mf2": cf["MF5"] < cf["MF2"],
           "wall_s": round(time.time() - t0, 1)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
