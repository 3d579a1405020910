"""Benchmark: the physics-informed spiking operator (npsnn_edu.spiking.operator) on three families.

    .venv/bin/python benchmarks/npsnn_operator.py --quick --workers 2   # <= 5 min on 2 cores (1 worker: ~6.5 min)
    .venv/bin/python benchmarks/npsnn_operator.py --full --save      # <= 20 min; ships npsnn_operator_full.json
    .venv/bin/python benchmarks/npsnn_operator.py --gpu-scan [--device cuda]   # CPU vs GPU step time, batch 64..4096

Per family one operator is trained from the equations only (fresh batches of p every step, no data), then judged
on 64 held-out p (another seed) with the forward-output rule: relative L2 on a dense 1001-point grid in physical
time (not the training grid) against the analytic solution (harmonic) or a fine core velocity-Verlet run (Morse,
LJ).  Branches at (about) equal parameter count: spiking (spikes + membrane readout), spikes-only, tanh, all
with amplitude scaling (the state divided by its amplitude in, the coefficients times it out), and the spiking
branch without it ("unscaled", the ablation).
Readout solves (npsnn_edu.spiking.readout_solve, the equations only, Levenberg-Marquardt on fresh p), each at every
harmonic seed (and Morse in full mode): a spiking RESERVOIR (random LIF layers, only the linear readout solved; no
surrogate gradient; also judged on a second, fresh held-out draw), its spikes-only ablation (same readout width),
the reservoir at the trained width, the reservoir's width trained by surrogate gradients for the CPU time of its
solve, the tanh controls of equal parameter count at both widths (random tanh layers, solved readout: physics-
informed extreme learning machines), and the trained spiking operators refined by the solve ("solved").
Per-p baselines on the same basis: free coefficients (same loss, Adam), Gauss-Newton / least squares; and core
velocity Verlet (research/spiking_operator.py at the repository root, with the time-marching helpers; run this
script from anywhere: it puts the repository root on sys.path).  Costs: training seconds, amortised seconds per
new trajectory, operation counts.
The last line is JSON (per family: heldout_median_rel_l2, heldout_p90_rel_l2, n_heldout, tanh_*, spikes_only_*,
reservoir_* with reservoir_seed_*_rel_l2 over the seeds and reservoir_fresh_*, and the same for every solve row).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: optimiser steps per (mode, family, branch)
STEPS = {
    "quick": {"harmonic": {"spiking": 1000, "spikes_only": 500, "tanh": 1500},
              "morse": {"spiking": 800, "spikes_only": 400, "tanh": 1200},
              "lj3d": {"spiking": 500, "spikes_only": 300, "tanh": 800}},
    "full": {"harmonic": {"spiking": 2000, "spikes_only": 1200, "tanh": 3000},
             "morse": {"spiking": 2000, "spikes_only": 1000, "tanh": 2500},
             "lj3d": {"spiking": 1200, "spikes_only": 600, "tanh": 1500}},
}
FREE_STEPS = {"quick": 500, "full": 2000}
#: families where the spiking operator is also trained without amplitude scaling (same steps and seeds): the
#: ablation of that design choice (quick mode leaves out lj3d to stay within its time budget)
ABLATE_SCALING = {"quick": ("harmonic", "morse"), "full": ("harmonic", "morse", "lj3d")}
MARCH = {"quick": {"windows": 4, "steps": 300}, "full": {"windows": 4, "steps": 1500}}
#: spiking reservoirs (random LIF layers, readout solved from the equations by Levenberg-Marquardt on n_fit fresh
#: p; no surrogate gradient): hidden width, problems in the solve, solver iterations (harmonic: one exact step)
RESERVOIR = {
    "quick": {"harmonic": {"hidden": 512, "n_fit": 4096, "n_iter": 1},
              "morse": {"hidden": 512, "n_fit": 2048, "n_iter": 10},
              "lj3d": {"hidden": 128, "n_fit": 384, "n_iter": 3}},
    "full": {"harmonic": {"hidden": 1024, "n_fit": 8192, "n_iter": 1},
             "morse": {"hidden": 1024, "n_fit": 4096, "n_iter": 15},
             "lj3d": {"hidden": 256, "n_fit": 768, "n_iter": 8}},
}
#: families whose reservoir runs at every seed (the others at the first); and where the spikes-only reservoir
#: (the membrane ablated) runs
RESERVOIR_SEEDS = {"quick": ("harmonic",), "full": ("harmonic", "morse")}
RESERVOIR_SPIKES_ONLY = {"quick": ("harmonic",), "full": ("harmonic",)}
#: the rows of run_reservoirs (readout solves and their controls)
SOLVE_ROWS = ("reservoir", "spikes_only_reservoir", "small_reservoir", "trained_wide", "tanh_reservoir",
              "small_tanh_reservoir", "solved")
#: families where the reservoir's width is also trained by surrogate gradients for the CPU time of its solve
TRAINED_WIDE = {"quick": ("harmonic", "morse"), "full": ("harmonic", "morse")}


def _time_per_trajectory(model, p, repeats: int = 3) -> tuple[float, float]:
    """Seconds per new trajectory: (one batched branch pass for all of p, the kernel readout on 1001 points)."""
    import torch

    from npsnn_edu.spiking.basis import eval_times
    from npsnn_edu.spiking.operator import coefficients_to_trajectory

    t = eval_times(model.family.tau_end / model.family.omega(p))
    branch = readout = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.no_grad():
            y = model.coefficients(p)
        mid = time.perf_counter()
        coefficients_to_trajectory(model.family, model.basis, p, y, t)
        branch, readout = min(branch, mid - start), min(readout, time.perf_counter() - mid)
    return branch / len(p), readout / len(p)


def run_family(name: str, mode: str, device, seeds, n_heldout: int, log, scale: float = 1.0,
               reservoir_seeds=None) -> dict:
    import numpy as np

    from npsnn_edu.spiking.basis import eval_times
    from npsnn_edu.spiking.energy import operation_counts
    from npsnn_edu.spiking.operator import (
        OperatorConfig,
        OperatorTrainer,
        get_family,
        trajectory_errors_of_coefficients,
    )
    from research.spiking_operator import solve_free_coefficients, solve_gauss_newton, verlet_baseline

    fam = get_family(name)
    ph = fam.sample(n_heldout, seed=12345)
    t0 = time.perf_counter()
    x_ref = fam.reference(ph, eval_times(fam.tau_end / fam.omega(ph)))
    log(f"[{name}] reference for {n_heldout} held-out p in {time.perf_counter() - t0:.1f} s (metric {fam.metric})")
    out: dict = {"n_heldout": n_heldout, "metric": fam.metric}
    steps = {k: max(1, int(v * scale)) for k, v in STEPS[mode][name].items()}
    free_steps = max(1, int(FREE_STEPS[mode] * scale))
    trained_spiking: dict = {}  # the surrogate-trained spiking operators per seed (their readouts are solved later)
    # "unscaled": the spiking operator without amplitude scaling (the ablation of that design choice)
    for branch in ("spiking", "spikes_only", "tanh", *(("unscaled",) if name in ABLATE_SCALING[mode] else ())):
        for seed in (seeds if branch in ("spiking", "unscaled") else seeds[:1]):  # the ablation: the same seeds
            cfg = OperatorConfig(branch="spiking", amplitude_scaling=False) if branch == "unscaled" else \
                OperatorConfig(branch=branch)
            cfg.total_steps, cfg.seed = steps["spiking" if branch == "unscaled" else branch], seed
            tr = OperatorTrainer(fam, cfg, device=device)
            untrained = tr.trajectory_errors(ph, x_ref=x_ref)["median"]
            cpu0 = time.process_time()
            tr.train(cfg.total_steps)
            cpu = time.process_time() - cpu0
            ev = tr.trajectory_errors(ph, x_ref=x_ref)
            log(f"[{name}] {branch:11s} seed {seed}: {cfg.total_steps} steps in {tr.train_seconds:6.1f} s "
                f"({cpu:.1f} s CPU), "
                f"final loss {np.mean(tr.losses[-20:]):.2e}, held-out median {ev['median']:.2e} p90 {ev['p90']:.2e} "
                f"(untrained {untrained:.2e}), {tr.model.n_parameters} params")
            if branch == "spiking":
                trained_spiking[seed] = tr
            if seed != seeds[0]:
                tag = "seed" if branch == "spiking" else f"{branch}_seed"
                out.setdefault(f"{tag}_median_rel_l2", []).append(ev["median"])
                out.setdefault(f"{tag}_p90_rel_l2", []).append(ev["p90"])
                continue
            prefix = "heldout" if branch == "spiking" else branch
            out[f"{prefix}_median_rel_l2"] = ev["median"]
            out[f"{prefix}_p90_rel_l2"] = ev["p90"]
            out[f"{prefix}_train_seconds"] = tr.train_seconds
            out[f"{prefix}_train_cpu_seconds"] = cpu
            out[f"{prefix}_steps"] = cfg.total_steps
            out[f"{prefix}_params"] = tr.model.n_parameters
            out[f"{prefix}_untrained_median"] = untrained
            sec_branch, sec_readout = _time_per_trajectory(tr.model, ph)
            out[f"{prefix}_branch_seconds_per_trajectory"] = sec_branch
            out["readout_seconds_per_trajectory"] = sec_readout
            out[f"{prefix}_ops"] = operation_counts(tr.model, 1001, p=ph)
            if branch == "spiking":
                out["heldout_errors"] = [float(e) for e in ev["errors"]]
                out["example"] = {"t": ev["t"][0, ::10].tolist(), "x": ev["x"][0, ::10, 0, 0].tolist(),
                                  "x_ref": x_ref[0, ::10, 0, 0].tolist(), "p": ph[0].tolist()}
                spiking_trainer = tr
    if len(seeds) > 1:
        out["seed_median_rel_l2"] = [out["heldout_median_rel_l2"], *out.get("seed_median_rel_l2", [])]
        out["seed_p90_rel_l2"] = [out["heldout_p90_rel_l2"], *out.get("seed_p90_rel_l2", [])]
        out["seeds"] = list(seeds)
        if "unscaled_median_rel_l2" in out:
            for stat in ("median", "p90"):
                out[f"unscaled_seed_{stat}_rel_l2"] = [out[f"unscaled_{stat}_rel_l2"],
                                                       *out.get(f"unscaled_seed_{stat}_rel_l2", [])]
    free = solve_free_coefficients(fam, ph, n_steps=free_steps, device=device)
    ev = trajectory_errors_of_coefficients(fam, free["basis"], ph, free["y"], x_ref=x_ref)
    out.update(free_median_rel_l2=ev["median"], free_p90_rel_l2=ev["p90"], free_steps=free_steps,
               free_seconds_per_trajectory=free["seconds_per_problem"])
    log(f"[{name}] free coefficients per p ({free_steps} Adam steps, batched over p): median {ev['median']:.2e} "
        f"p90 {ev['p90']:.2e}, {free['seconds_per_problem'] * 1e3:.1f} ms per trajectory")
    sub = ph if name != "lj3d" else ph[:8]
    gn = solve_gauss_newton(fam, sub, n_iter=5, device=device)
    ev = trajectory_errors_of_coefficients(fam, gn["basis"], sub, gn["y"], x_ref=x_ref[: len(sub)])
    out.update(gauss_newton_median_rel_l2=ev["median"], gauss_newton_p90_rel_l2=ev["p90"],
               gauss_newton_n=len(sub), gauss_newton_seconds_per_trajectory=gn["seconds_per_problem"])
    log(f"[{name}] Gauss-Newton/least squares of the basis ({gn['iterations']} it, {len(sub)} p): median "
        f"{ev['median']:.2e} p90 {ev['p90']:.2e}, {gn['seconds_per_problem'] * 1e3:.1f} ms per trajectory")
    for n_v in (50, 200):
        vv = verlet_baseline(fam, ph[:16], n_steps=n_v)
        out[f"verlet{n_v}_median_rel_l2"] = vv["median"]
        out[f"verlet{n_v}_seconds_per_trajectory"] = vv["seconds_per_problem"]
        log(f"[{name}] velocity Verlet {n_v} steps/window (16 p): median {vv['median']:.2e}, "
            f"{vv['seconds_per_problem'] * 1e3:.1f} ms per trajectory")
    out.update(run_reservoirs(name, mode, device, reservoir_seeds or seeds, ph, x_ref, log, trained_spiking, scale))
    out["_trainer"] = spiking_trainer
    return out


def _record(out: dict, prefix: str, tr, ev: dict, ph, info: dict, cpu: float) -> None:
    from npsnn_edu.spiking.energy import operation_counts

    out[f"{prefix}_median_rel_l2"] = ev["median"]
    out[f"{prefix}_p90_rel_l2"] = ev["p90"]
    out[f"{prefix}_errors"] = [float(e) for e in ev["errors"]]
    out[f"{prefix}_train_cpu_seconds"] = cpu
    out[f"{prefix}_params"] = tr.model.n_parameters
    if info:  # a readout solve
        out[f"{prefix}_solve_seconds"] = info["seconds"]
        out[f"{prefix}_solved_params"] = info["n_solved_parameters"]
        out[f"{prefix}_solve_loss"] = info["losses"][-1]
        out[f"{prefix}_deployed_loss"] = info["deployed_loss"]
        for key in ("steps", "cg_iterations", "cg_capped", "n_features_kept"):
            out[f"{prefix}_solve_{key}"] = info[key]
    else:  # surrogate-gradient training
        out[f"{prefix}_steps"] = tr.step
    sec_branch, _ = _time_per_trajectory(tr.model, ph)
    out[f"{prefix}_branch_seconds_per_trajectory"] = sec_branch
    out[f"{prefix}_ops"] = operation_counts(tr.model, 1001, p=ph)


def run_reservoirs(name: str, mode: str, device, seeds, ph, x_ref, log, trained_spiking: dict,
                   scale: float = 1.0) -> dict:
    """Readout solves from the equations (npsnn_edu.spiking.readout_solve), each at the family's reservoir seeds:

    * ``reservoir``: random LIF layers of ``hidden`` neurons, readout solved (also judged on a second, fresh
      held-out draw: the reservoir sizes were chosen while looking at the first one);
    * ``spikes_only_reservoir``: the membrane ablated, at twice the width (the same number of readout inputs);
    * ``small_reservoir``: the reservoir at the trained operator's width (64);
    * ``trained_wide``: the reservoir's width trained by surrogate gradients for the CPU time of its solve (the
      same budget: does the solve help, or the width?);
    * ``tanh_reservoir`` / ``small_tanh_reservoir``: random tanh layers of equal total parameter count at both
      widths (physics-informed extreme learning machines: the controls);
    * ``solved``: the surrogate-trained spiking operators (their seeds) with the readout solved."""
    import numpy as np

    from npsnn_edu.spiking.basis import eval_times
    from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer, get_family

    spec = dict(RESERVOIR[mode][name])
    if scale != 1.0:  # --steps-scale (smoke tests): fewer problems in the solve and fewer solver iterations
        spec.update(n_fit=max(64, int(spec["n_fit"] * scale)), n_iter=max(1, int(spec["n_iter"] * scale)))
    fam = get_family(name)
    res_seeds = list(seeds if name in RESERVOIR_SEEDS[mode] else seeds[:1])
    fresh = fam.sample(len(ph), seed=54321)
    x_fresh = fam.reference(fresh, eval_times(fam.tau_end / fam.omega(fresh)))
    out: dict = {"reservoir_hidden": spec["hidden"], "reservoir_n_fit": spec["n_fit"],
                 "reservoir_n_iter": spec["n_iter"], "reservoir_seeds": res_seeds}
    small = OperatorConfig().hidden
    runs = [("reservoir", "spiking", spec["hidden"]), ("small_reservoir", "spiking", small),
            ("tanh_reservoir", "tanh", spec["hidden"]), ("small_tanh_reservoir", "tanh", small)]
    if name in RESERVOIR_SPIKES_ONLY[mode]:
        runs.insert(1, ("spikes_only_reservoir", "spikes_only", 2 * spec["hidden"]))
    solve_cpu: dict = {}
    for prefix, branch, hidden in runs:
        for seed in res_seeds:
            tr = OperatorTrainer(name, OperatorConfig(branch=branch, hidden=hidden, seed=seed), device=device)
            cpu0 = time.process_time()
            info = tr.solve_readout(spec["n_fit"], spec["n_iter"])
            cpu = time.process_time() - cpu0
            if prefix == "reservoir":
                solve_cpu[seed] = cpu
            _store(out, prefix, seed, res_seeds, tr, ph, x_ref, info, cpu, log, name)
            if prefix == "reservoir":
                ev = tr.trajectory_errors(fresh, x_ref=x_fresh)
                out.setdefault("reservoir_fresh_median_rel_l2", []).append(ev["median"])
                out.setdefault("reservoir_fresh_p90_rel_l2", []).append(ev["p90"])
                if seed == res_seeds[0]:
                    out["reservoir_spikes_per_neuron_step"] = {
                        k: v / (hidden * tr.model.branch.num_steps) for k, v in tr.model.branch.last_counts.items()}
    if name in TRAINED_WIDE[mode]:  # the reservoir's width trained for the CPU time of its solve
        for seed in res_seeds:
            probe = OperatorTrainer(name, OperatorConfig(hidden=spec["hidden"], seed=seed), device=device)
            cpu0 = time.process_time()
            probe.train(3)
            n_steps = max(3, int(solve_cpu[seed] / ((time.process_time() - cpu0) / 3)))
            tr = OperatorTrainer(name, OperatorConfig(hidden=spec["hidden"], seed=seed, total_steps=n_steps),
                                 device=device)
            cpu0 = time.process_time()
            tr.train(n_steps)
            _store(out, "trained_wide", seed, res_seeds, tr, ph, x_ref, {}, time.process_time() - cpu0, log, name)
    for seed in res_seeds:  # the trained operators of these seeds, their readouts solved
        if seed in trained_spiking:
            tr = copy.deepcopy(trained_spiking[seed])  # trained: the solve starts from its readout
            cpu0 = time.process_time()
            info = tr.solve_readout(spec["n_fit"], spec["n_iter"])
            _store(out, "solved", seed, [s for s in res_seeds if s in trained_spiking], tr, ph, x_ref, info,
                   time.process_time() - cpu0, log, name)
    for prefix in sorted({k[: -len("_seed_median_rel_l2")] for k in out if k.endswith("_seed_median_rel_l2")}):
        med = out[f"{prefix}_seed_median_rel_l2"]
        log(f"[{name}] {prefix} over {len(med)} seeds: median {np.median(med):.2e} [{min(med):.2e}, {max(med):.2e}], "
            f"p90 max {max(out[f'{prefix}_seed_p90_rel_l2']):.2e}")
    return out


def _store(out: dict, prefix: str, seed: int, seeds: list, tr, ph, x_ref, info: dict, cpu: float, log,
           name: str) -> None:
    """Judge one run on the held-out p; the first seed fills the ``prefix_*`` record, every seed the seed lists."""
    ev = tr.trajectory_errors(ph, x_ref=x_ref)
    how = (f"solve on {info['n_problems']} p, {info['steps']} steps" if info else f"{tr.step} surrogate steps")
    log(f"[{name}] {prefix:21s} seed {seed}: {how}, {cpu:6.1f} s CPU, held-out median {ev['median']:.2e} "
        f"p90 {ev['p90']:.2e}, {info.get('n_solved_parameters', tr.model.n_parameters)} fitted of "
        f"{tr.model.n_parameters} params")
    out.setdefault(f"{prefix}_seed_median_rel_l2", []).append(ev["median"])
    out.setdefault(f"{prefix}_seed_p90_rel_l2", []).append(ev["p90"])
    if seed == seeds[0]:
        _record(out, prefix, tr, ev, ph, info, cpu)


def run_march(mode: str, device, trainer, log, scale: float = 1.0) -> dict:
    """Harmonic: the 1-window spiking operator marched over W windows vs one operator trained on a W-times window."""
    import numpy as np

    from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer, relative_errors
    from research.spiking_operator import long_window_family, time_march

    w, steps = MARCH[mode]["windows"], max(1, int(MARCH[mode]["steps"] * scale))
    fam = trainer.family
    ph = fam.sample(64, seed=12345)
    march = time_march(trainer.model, ph, w, n_per_window=251)
    x_ref = fam.reference(ph, march["t"])
    err_m = relative_errors(fam, ph, march["x"], x_ref)[fam.metric]
    long_fam = long_window_family(fam, w)
    cfg = OperatorConfig(branch="spiking", total_steps=steps, n_knots=trainer.config.n_knots * w)
    lt = OperatorTrainer(long_fam, cfg, device=device)
    lt.train(steps)
    (x_long,) = lt.model.predict(ph, march["t"])
    err_l = relative_errors(fam, ph, x_long, x_ref)[fam.metric]
    per_win = lambda x: [float(np.median(np.linalg.norm((x - x_ref)[:, i * 251:(i + 1) * 251].reshape(64, -1), axis=1)  # noqa: E731
                                         / np.linalg.norm(x_ref[:, i * 251:(i + 1) * 251].reshape(64, -1), axis=1)))
                         for i in range(w)]
    log(f"[march] {w} windows marched: median {np.median(err_m):.2e}; one long window ({steps} steps, "
        f"{lt.train_seconds:.0f} s): median {np.median(err_l):.2e}")
    return {"windows": w, "marched_median_rel_l2": float(np.median(err_m)),
            "long_median_rel_l2": float(np.median(err_l)),
            "marched_per_window": per_win(march["x"]), "long_per_window": per_win(x_long), "long_steps": steps,
            "long_train_seconds": lt.train_seconds,
            "t": march["t"][0, ::5].tolist(), "x_marched": march["x"][0, ::5, 0, 0].tolist(),
            "x_long": x_long[0, ::5, 0, 0].tolist(), "x_ref": x_ref[0, ::5, 0, 0].tolist()}


def gpu_scan(device_arg: str, steps: int, log) -> dict:
    """Seconds per training step of the spiking operator (harmonic) for batch sizes 64..4096, CPU and GPU."""
    import torch

    from npsnn_edu.device import resolve_device
    from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer

    devices = [torch.device("cpu")]
    if device_arg != "cpu" and torch.cuda.is_available():
        devices.append(resolve_device("cuda"))
    elif device_arg == "cuda":
        resolve_device("cuda")  # raises DeviceUnavailableError with its message
    rows = []
    for dev in devices:
        for batch in (64, 256, 1024, 4096):
            tr = OperatorTrainer("harmonic", OperatorConfig(batch=batch, total_steps=steps), device=dev)
            tr.train(2)  # warm-up
            if dev.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            tr.train(steps)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            sec = (time.perf_counter() - start) / steps
            rows.append({"device": str(dev), "batch": batch, "seconds_per_step": sec, "p_per_second": batch / sec})
            log(f"[gpu-scan] {dev} batch {batch:5d}: {sec * 1e3:8.1f} ms/step, {batch / sec:9.0f} p/s")
    return {"benchmark": "npsnn_operator_gpu_scan", "rows": rows,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def run_family_and_march(name: str, mode: str, device_arg: str, seeds: list, n_heldout: int, scale: float,
                         march: bool, threads: int) -> dict:
    """One family's whole comparison (and, for harmonic, the marching comparison) in this process."""
    import torch

    from npsnn_edu.device import resolve_device

    torch.set_num_threads(threads)
    device = resolve_device(device_arg)

    def log(msg: str) -> None:
        print(msg, flush=True)

    res = run_family(name, mode, device, seeds if name == "harmonic" else seeds[:1], n_heldout, log, scale,
                     reservoir_seeds=seeds)
    trainer = res.pop("_trainer")
    if name == "harmonic" and march:
        res["march"] = run_march(mode, device, trainer, log, scale)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="quick mode (default): <= 5 min on 2 cores")
    g.add_argument("--full", action="store_true", help="full mode: <= 20 min")
    g.add_argument("--gpu-scan", action="store_true", help="time training steps for batch 64..4096 on CPU (and GPU)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--families", default="harmonic,morse,lj3d")
    ap.add_argument("--seeds", default=None, help="comma-separated seeds for the harmonic spiking operator "
                                                   "(default 0,1,2; the other families use the first)")
    ap.add_argument("--n-heldout", type=int, default=64)
    ap.add_argument("--scan-steps", type=int, default=10)
    ap.add_argument("--no-march", action="store_true", help="skip the time-marching comparison")
    ap.add_argument("--save", action="store_true", help="ship the result with npsnn_edu.precomputed.save_result")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1,
                    help="families run in this many processes at once (2 on a 2-core machine: quick mode in about "
                         "4 minutes; 1, the default, gives the cleanest timings)")
    ap.add_argument("--steps-scale", type=float, default=1.0, help="multiply every step count (smoke tests)")
    ap.add_argument("--save-tag", default="", help="suffix of the saved result names (e.g. _seeds for a seed run)")
    args = ap.parse_args()

    import torch

    from npsnn_edu.device import resolve_device
    from npsnn_edu.errors import DeviceUnavailableError

    torch.set_num_threads(args.threads)

    def log(msg: str) -> None:
        print(msg, flush=True)

    try:
        device = resolve_device(args.device)
        if args.gpu_scan:
            res = gpu_scan(args.device, args.scan_steps, log)
            if args.save:
                from npsnn_edu.precomputed import save_result

                save_result("npsnn_operator_gpu_scan", res, command="python " + " ".join(sys.argv))
            print(json.dumps(res))
            return
    except DeviceUnavailableError as exc:
        sys.exit(f"npsnn_operator: {exc}")
    mode = "full" if args.full else "quick"
    seeds = [int(s) for s in (args.seeds or "0,1,2").split(",")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    log(f"npsnn_operator {mode} mode, device {device}, torch threads {args.threads}, load average {load:.2f} "
        "(timings on a shared machine are noisy)")
    start = time.perf_counter()
    result: dict = {"benchmark": "npsnn_operator", "mode": mode, "device": str(device), "families": {}}
    names = [f.strip() for f in args.families.split(",") if f.strip()]
    job = dict(mode=mode, device_arg=args.device, seeds=seeds, n_heldout=args.n_heldout, scale=args.steps_scale,
               march=not args.no_march, threads=args.threads)
    if args.workers > 1 and len(names) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {name: pool.submit(run_family_and_march, name, **job) for name in names}
            result["families"] = {name: future.result() for name, future in futures.items()}
    else:
        for name in names:
            result["families"][name] = run_family_and_march(name, **job)
    result["seconds"] = time.perf_counter() - start
    if args.save:  # one file per family (families can run as separate processes)
        from npsnn_edu.precomputed import save_result

        for name, res in result["families"].items():
            save_result(f"npsnn_operator_{mode}_{name}{args.save_tag}", {**res, "mode": mode, "device": str(device)},
                        command="python " + " ".join(sys.argv), seeds=seeds if name == "harmonic" else seeds[:1],
                        notes="measured under load on a shared 2-core machine" if load > 2.5 else "")
    summary = {"benchmark": "npsnn_operator", "mode": mode, "device": str(device), "seconds": result["seconds"]}
    keep = ("n_heldout", "metric", "heldout_median_rel_l2", "heldout_p90_rel_l2", "spikes_only_median_rel_l2",
            "spikes_only_p90_rel_l2", "tanh_median_rel_l2", "tanh_p90_rel_l2", "free_median_rel_l2",
            "gauss_newton_median_rel_l2", "verlet50_median_rel_l2", "heldout_train_seconds", "tanh_train_seconds",
            "heldout_branch_seconds_per_trajectory", "readout_seconds_per_trajectory", "free_seconds_per_trajectory",
            "gauss_newton_seconds_per_trajectory", "verlet50_seconds_per_trajectory", "seed_median_rel_l2",
            "seed_p90_rel_l2", "unscaled_median_rel_l2", "unscaled_p90_rel_l2", "unscaled_seed_median_rel_l2",
            "unscaled_seed_p90_rel_l2", "reservoir_hidden", "reservoir_n_fit", "reservoir_seeds",
            "reservoir_solve_seconds", "reservoir_solved_params", "reservoir_fresh_median_rel_l2",
            "reservoir_fresh_p90_rel_l2", "tanh_reservoir_solve_seconds",
            *(f"{prefix}_{stat}" for prefix in SOLVE_ROWS for stat in (
                "median_rel_l2", "p90_rel_l2", "seed_median_rel_l2", "seed_p90_rel_l2")))
    for name, res in result["families"].items():
        summary[name] = {k: res[k] for k in keep if k in res}
        if "march" in res:
            summary[name]["march_marched_median"] = res["march"]["marched_median_rel_l2"]
            summary[name]["march_long_median"] = res["march"]["long_median_rel_l2"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
