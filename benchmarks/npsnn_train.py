"""Benchmark: train the honest NP-SNN, the naive spiking PINN and a tanh MLP-PINN on one system.

    .venv/bin/python benchmarks/npsnn_train.py --system harmonic [--device cpu|cuda] [--quick]

Every error is measured on the FORWARD output on a dense grid not used in training (npsnn_edu.spiking.evaluate).
Velocity Verlet (core integrator) is printed alongside as the classical baseline.  The last line is JSON:
{"benchmark": "npsnn_train", "system": ..., "device": ..., "seconds": S, "final_rel_l2": E, "naive_rel_l2": N,
 "mlp_rel_l2": M, "mlp_seconds": T, ...}
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", default="harmonic", help="harmonic, morse or lj3")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--quick", action="store_true", help="few steps (smoke test)")
    ap.add_argument("--steps", type=int, default=None, help="optimiser steps for the NP-SNN and the MLP")
    ap.add_argument("--naive-steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these small nets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ablation", action="store_true",
                    help="also train the NP-SNN without the LR schedule / causal weighting / Fourier features")
    args = ap.parse_args()

    import numpy as np
    import torch

    from npsnn_edu.device import resolve_device
    from npsnn_edu.errors import DeviceUnavailableError
    from npsnn_edu.spiking import fit, make_problem

    torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except DeviceUnavailableError as exc:
        sys.exit(f"npsnn_train: {exc}")
    problem = make_problem(args.system)
    steps = args.steps or (300 if args.quick else 2000)
    naive_steps = args.naive_steps or (100 if args.quick else 1000)
    common = dict(device=device, seed=args.seed, eval_every=max(steps // 4, 1))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"system {problem.name}, t_end {problem.t_end:.4f} tau, device {device}, torch threads {args.threads}, "
          f"load average {load:.2f} (timings on a shared machine are noisy)")

    runs = {}
    for label, method, n in (("NP-SNN continuous", "continuous", steps), ("naive SNN (autograd)", "naive", naive_steps),
                             ("MLP-PINN (tanh)", "mlp", steps)):
        t0 = time.perf_counter()
        res = fit(problem, method, n, **{**common, "eval_every": max(n // 4, 1)})
        wall = time.perf_counter() - t0
        runs[method] = (res, wall)
        m = res.metrics
        print(f"{label:22s} steps {n:5d} params {res.trainer.n_parameters:5d} | train loss {res.history.loss[-1]:.2e} | "
              f"forward rel L2 {m['rel_l2']:.2e} (vs displacement {m['rel_l2_disp']:.2e}) FD residual "
              f"{m['fd_residual']:.2e} energy drift {m['energy_drift']:.2e} | spike rates "
              f"{[round(r, 3) for r in m['spike_rates']]} | {m['energy_pJ'] / 1e6:.2f} uJ per 1001-point trajectory | "
              f"{wall:.1f} s")

    for dt in (0.1, 0.01):
        t0 = time.perf_counter()
        traj = problem.verlet(dt)
        wall = time.perf_counter() - t0
        x_ref_v, _ = problem.reference(traj.times)
        err = np.linalg.norm(traj.positions - x_ref_v) / np.linalg.norm(x_ref_v)
        print(f"velocity Verlet dt={dt:<5g}        | rel L2 {err:.2e} on its own steps, energy drift "
              f"{traj.energy_drift():.2e} | {wall * 1e3:.1f} ms")

    if args.ablation:
        for label, kw in (("no LR schedule", {"lr_schedule": "none"}), ("no causal weighting", {"causal_eps": 0.0}),
                          ("no Fourier features", {"n_freq": 0}), ("no gradient clipping", {"grad_clip": None})):
            r = fit(problem, "continuous", steps, **{**common, **kw})
            print(f"ablation NP-SNN, {label:22s} | train loss {r.history.loss[-1]:.2e} | forward rel L2 "
                  f"{r.metrics['rel_l2']:.2e} | {r.seconds:.1f} s")

    res, wall = runs["continuous"]
    print(json.dumps({"benchmark": "npsnn_train", "system": problem.name, "device": str(device),
                      "seconds": round(res.seconds, 3), "wall_seconds": round(wall, 3),
                      "final_rel_l2": res.metrics["rel_l2"], "final_loss": res.history.loss[-1],
                      "naive_rel_l2": runs["naive"][0].metrics["rel_l2"], "naive_loss": runs["naive"][0].history.loss[-1],
                      "mlp_rel_l2": runs["mlp"][0].metrics["rel_l2"], "mlp_seconds": round(runs["mlp"][0].seconds, 3),
                      "final_rel_l2_disp": res.metrics["rel_l2_disp"],
                      "naive_rel_l2_disp": runs["naive"][0].metrics["rel_l2_disp"],
                      "mlp_rel_l2_disp": runs["mlp"][0].metrics["rel_l2_disp"],
                      "steps": steps, "threads": args.threads, "load_average": round(load, 2)}))


if __name__ == "__main__":
    main()
