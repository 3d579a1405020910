"""Benchmark: chapter 4 on four systems it did not ship, and the remedies for a barrier crossing.

    .venv/bin/python benchmarks/npsnn_systems.py [--quick] [--save] [--device cpu|cuda|auto]

Systems (npsnn_edu.spiking.systems.SYSTEM_CASES, two periods each): harmonic started at its equilibrium point
(F(x0) = 0), a double well inside one well (F(x0) = 0), a double well across the barrier, Morse near dissociation.
Methods: NP-SNN (ClockSNN, "continuous"), kernel-only (free coefficients), the basis optimum (least squares /
Gauss-Newton), tanh MLP-PINN, velocity Verlet at 200 steps; trained methods at 3 seeds.  Every error is the
relative L2 of the FORWARD output against an independent scipy solve_ivp (DOP853) reference on a 1001-point grid;
every row also carries the forward-output check (error against a fine-step core velocity Verlet, relative to the
motion, and its verdict at tolerance 0.05).

Remedies (double well across the barrier): time-marching windows (basis optimum per window, 1-16 windows; the
kernel-only model and the NP-SNN marched over 4 windows), more knots (basis optimum, 32-256 knots), causal
weighting (kernel-only, eps 0-100), each with its CPU seconds, next to velocity Verlet.

--quick: 2 systems, 1 seed, 60 steps (make bench); the full run takes ~15 min on one core.
The last line is JSON.  --save ships npsnn_edu/data/results/npsnn_systems_<full|quick>.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def remedies(device: str, quick: bool, log) -> list[dict]:
    from npsnn_edu.spiking.systems import march_fit, rel_l2, solve_ivp_reference, system_problem

    prob = system_problem("double_well_across")
    out = []

    def add(remedy: str, setting: str, res: dict, seconds: float) -> None:
        row = {"remedy": remedy, "setting": setting, "rel_l2_ivp": res["rel_l2"], "check_error": res["check"]["error"],
               "trusted": res["check"]["trusted"], "seconds": seconds}
        out.append(row)
        log(f"[remedy] {remedy:34s} {setting:22s} rel L2 {row['rel_l2_ivp']:.2e} | check {row['check_error']:.2e} "
            f"{'trusted' if row['trusted'] else 'DO NOT TRUST'} | {seconds:.2f} s")

    for w in ((1, 4) if quick else (1, 2, 4, 8, 16)):
        r = march_fit(prob, w, "lstsq", device=device)
        add("time-marching, basis optimum", f"{w} windows", r, r["seconds"])
    for k in ((32, 64) if quick else (32, 64, 128, 256)):
        r = march_fit(prob, 1, "lstsq", device=device, n_knots=k, n_colloc=max(256, 8 * k))
        add("more knots, basis optimum", f"{k} knots", r, r["seconds"])
    n = 60 if quick else 1000
    for eps in ((0.0, 10.0) if quick else (0.0, 1.0, 10.0, 100.0)):
        r = march_fit(prob, 1, "kernel", n, device=device, causal_eps=eps, causal_chunks=16)
        add("causal weighting, kernel-only", f"eps {eps:g}, {n} steps", r, r["seconds"])
    r = march_fit(prob, 4, "kernel", n, device=device)
    add("time-marching, kernel-only", f"4 windows x {n} steps", r, r["seconds"])
    if not quick:
        r = march_fit(prob, 4, "continuous", 500, device=device)
        add("time-marching, NP-SNN", "4 windows x 500 steps", r, r["seconds"])
    from npsnn_edu.spiking.check import check_trajectory

    for n_steps in (200, 1000):
        start = time.perf_counter()
        traj = prob.verlet(prob.t_end / n_steps)
        sec = time.perf_counter() - start
        err = rel_l2(traj.positions, solve_ivp_reference(prob, traj.times))
        chk = check_trajectory(traj.positions, prob.check_reference(traj.times), prob.x0, warn=False)
        add("velocity Verlet", f"{n_steps} steps", {"rel_l2": err, "check": chk}, sec)
    return out


def main(argv: "list[str] | None" = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 systems, 1 seed, 60 steps (smoke test)")
    ap.add_argument("--systems", nargs="+", default=None, help="subset of SYSTEM_CASES")
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--steps", type=int, default=None, help="Adam steps of every trained method (default 1000)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-remedies", action="store_true")
    ap.add_argument("--save", action="store_true", help="ship npsnn_edu/data/results/npsnn_systems_<mode>.json")
    ap.add_argument("--results-dir", default=None)
    args = ap.parse_args(argv)

    import torch

    from npsnn_edu.device import resolve_device
    from npsnn_edu.precomputed import save_result
    from npsnn_edu.spiking.systems import SYSTEM_CASES, summarize_rows, system_rows

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    systems = args.systems or (["harmonic_at_equilibrium", "double_well_across"] if args.quick else list(SYSTEM_CASES))
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    n = args.steps or (60 if args.quick else 1000)
    start = time.perf_counter()
    rows = []
    for name in systems:
        rows += system_rows(name, seeds=seeds, steps={"continuous": n, "kernel": n, "mlp": n}, device=device,
                            log=lambda m: print(m, flush=True))
    rem = [] if args.no_remedies else remedies(str(device), args.quick, lambda m: print(m, flush=True))
    summary = summarize_rows(rows)
    print()
    for s in summary:
        print(f"{s['system']:24s} {s['method']:28s} rel L2 {s['rel L2 vs solve_ivp (median)']:.2e} "
              f"[{s['min']:.1e}, {s['max']:.1e}] | check {s['check error (median)']:.2e} trusted {s['trusted']}")
    mode = "quick" if args.quick else "full"
    out = {"benchmark": "npsnn_systems", "mode": mode, "device": str(device), "steps": n, "seeds": seeds,
           "systems": systems, "rows": rows, "summary": summary, "remedies": rem,
           "seconds": round(time.perf_counter() - start, 1)}
    if args.save:
        cmd = "python benchmarks/npsnn_systems.py" + (" --quick" if args.quick else "") + " --save"
        path = save_result(f"npsnn_systems_{mode}", out, command=cmd, seeds=seeds,
                           directory=Path(args.results_dir) if args.results_dir else None,
                           notes="timings measured on a shared 2-core machine (noisy)")
        print(f"saved {path}")
    print(json.dumps({k: v for k, v in out.items() if k not in ("rows", "summary", "remedies")} | {
        "median_rel_l2": {f"{s['system']}/{s['method']}": s["rel L2 vs solve_ivp (median)"] for s in summary}}))
    return out


if __name__ == "__main__":
    main()
