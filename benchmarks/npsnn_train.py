"""Benchmark: the honest single-trajectory comparison of chapter 4, every row on the forward output.

    .venv/bin/python benchmarks/npsnn_train.py --system harmonic [--device cpu|cuda|auto] [--quick] [--save]

Rows (same Trainer, loss, learning rate, schedule and gradient clipping for every trained row; >= 3 seeds each,
median and range): (a) NP-SNN (ClockSNN, method "continuous"), (b) kernel-only = the same Gaussian basis with
free coefficients (method "kernel"), (c) the basis' least-squares / Gauss-Newton optimum (one row, deterministic),
(d) the naive spiking PINN (autograd through the surrogate: the pitfall), (e) the tanh MLP-PINN, (f) velocity
Verlet.  Errors: relative L2 on a dense 1001-point grid that is not the training grid, RMS finite-difference
residual, energy drift (npsnn_edu.spiking.trajectory_errors).  Energy: operations per 1001-point trajectory on equal
terms (npsnn_edu.spiking.energy.operation_counts), the NP-SNN next to a tanh MLP evaluated at the same knots plus
the same Gaussian kernel.

Default budget: 1000 optimiser steps for the NP-SNN, the kernel-only model and the MLP (the chapter's 2000 steps
times 3 seeds would take ~10 min on one idle core), 300 for the naive SNN; --steps changes it.

The last line is JSON: {"benchmark": "npsnn_train", "system", "device", "steps", "seeds", "final_rel_l2" (median
NP-SNN), "seed_rel_l2" [per seed], "kernel_only_rel_l2" (median), "kernel_only_seed_rel_l2", "lstsq_rel_l2",
"naive_rel_l2", "mlp_rel_l2", "verlet_rel_l2", "energy_uJ": {"npsnn", "mlp_at_knots", "mlp_per_query",
"kernel_only"}, "seconds_per_step": {...}, ...}.  --save writes npsnn_edu/data/results/npsnn_<system>_seeds.json.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: "list[str] | None" = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", default="harmonic", help="harmonic, morse or lj3")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--quick", action="store_true", help="few steps (smoke test)")
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps for NP-SNN, kernel-only and MLP")
    ap.add_argument("--naive-steps", type=int, default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these small nets)")
    ap.add_argument("--save", action="store_true",
                    help="ship the result as npsnn_edu/data/results/npsnn_<system>_seeds.json")
    ap.add_argument("--results-dir", default=None, help="where --save writes (default: the package's results folder)")
    args = ap.parse_args(argv)

    import torch

    from npsnn_edu.device import resolve_device
    from npsnn_edu.errors import DeviceUnavailableError
    from npsnn_edu.precomputed import save_result
    from npsnn_edu.spiking import get_problem, operation_counts
    from npsnn_edu.spiking.compare import kernel_lstsq, seed_spread, verlet_row

    torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except DeviceUnavailableError as exc:
        sys.exit(f"npsnn_train: {exc}")
    problem = get_problem(args.system)
    steps = args.steps or (60 if args.quick else 1000)
    naive_steps = args.naive_steps or (30 if args.quick else 300)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"system {problem.name}, t_end {problem.t_end:.4f} tau, device {device}, torch threads {args.threads}, "
          f"seeds {args.seeds}, load average {load:.2f} (timings on a shared machine are noisy)")

    spreads = {}
    for label, method, n in (("NP-SNN (ClockSNN)", "continuous", steps), ("kernel-only (free y_k)", "kernel", steps),
                             ("naive SNN (autograd)", "naive", naive_steps), ("MLP-PINN (tanh)", "mlp", steps)):
        t0 = time.perf_counter()
        sp = seed_spread(problem, method, n, args.seeds, device=device, eval_every=n)
        spreads[method] = sp
        print(f"{label:24s} steps {n:5d} | rel L2 median {sp['rel_l2_median']:.2e} [{sp['rel_l2_min']:.1e}, "
              f"{sp['rel_l2_max']:.1e}] | FD residual {sp['fd_residual_median']:.2e} | energy drift "
              f"{sp['energy_drift_median']:.2e} | train loss {sp['final_loss_median']:.2e} | "
              f"{sp['seconds_median'] / n * 1e3:.1f} ms/step | {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    ls = kernel_lstsq(problem, device=device)
    print(f"{'basis optimum (LS/GN)':24s} | rel L2 {ls.metrics['rel_l2']:.2e} | FD residual "
          f"{ls.metrics['fd_residual']:.2e} | energy drift {ls.metrics['energy_drift']:.2e} | "
          f"{time.perf_counter() - t0:.2f} s")
    verlet = {dt: verlet_row(problem, dt) for dt in (0.1, 0.01)}
    for dt, row in verlet.items():
        print(f"velocity Verlet dt={dt:<5g}     | rel L2 {row['rel L2 (forward)']:.2e} on its own steps, energy "
              f"drift {row['energy drift']:.2e} | {row['train s'] * 1e3:.1f} ms")

    snn = spreads["continuous"]["runs"][0].model
    n_knots = int(snn.knots.shape[0])
    mlp = spreads["mlp"]["runs"][0].model
    energy = {"npsnn": operation_counts(snn, 1001)["total_uJ"],
              "mlp_at_knots": operation_counts(mlp, 1001, at_knots=n_knots)["total_uJ"],
              "mlp_per_query": operation_counts(mlp, 1001)["total_uJ"],
              "kernel_only": operation_counts(spreads["kernel"]["runs"][0].model, 1001)["total_uJ"],
              "naive": operation_counts(spreads["naive"]["runs"][0].model, 1001)["total_uJ"]}
    print("energy per 1001-point trajectory (uJ, fp32 Horowitz 2014 constants): "
          + ", ".join(f"{k} {v:.2f}" for k, v in energy.items()))

    def med(method: str) -> float:
        return spreads[method]["rel_l2_median"]

    out = {"benchmark": "npsnn_train", "system": problem.name, "device": str(device), "steps": steps,
           "naive_steps": naive_steps, "seeds": args.seeds,
           "final_rel_l2": med("continuous"), "seed_rel_l2": spreads["continuous"]["rel_l2"],
           "final_loss": spreads["continuous"]["final_loss_median"],
           "kernel_only_rel_l2": med("kernel"), "kernel_only_seed_rel_l2": spreads["kernel"]["rel_l2"],
           "lstsq_rel_l2": ls.metrics["rel_l2"], "lstsq_seconds": round(ls.seconds, 4),
           "naive_rel_l2": med("naive"), "naive_seed_rel_l2": spreads["naive"]["rel_l2"],
           "naive_loss": spreads["naive"]["final_loss_median"],
           "mlp_rel_l2": med("mlp"), "mlp_seed_rel_l2": spreads["mlp"]["rel_l2"],
           "verlet_rel_l2": {str(dt): r["rel L2 (forward)"] for dt, r in verlet.items()},
           "fd_residual": {m: spreads[m]["fd_residual_median"] for m in spreads},
           "energy_drift": {m: spreads[m]["energy_drift_median"] for m in spreads},
           "energy_uJ": energy,
           "seconds": round(spreads["continuous"]["seconds_median"], 3),
           "seconds_per_step": {m: spreads[m]["seconds_median"] / spreads[m]["n_steps"] for m in spreads},
           "threads": args.threads, "load_average": round(load, 2)}
    if args.save:
        cmd = "python benchmarks/npsnn_train.py --system " + problem.name + f" --steps {steps} --save"
        path = save_result(f"npsnn_{problem.name}_seeds", {k: v for k, v in out.items()}, command=cmd,
                           seeds=args.seeds, directory=Path(args.results_dir) if args.results_dir else None,
                           notes="timings measured on a shared 2-core machine (noisy)")
        print(f"saved {path}")
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
