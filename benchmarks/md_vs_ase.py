"""Benchmark: npsnn_edu's NVE molecular dynamics against ASE's VelocityVerlet + LennardJones.

Same physical system for both codes, in one process and in ASE units (eV, Angstrom, amu, ASE time):
liquid-argon start (FCC 3x3x3 = 108 atoms and 6x6x6 = 864 atoms, density 0.8442 sigma^-3, T = 1 epsilon/k_B
Maxwell-Boltzmann velocities with seed 0), Lennard-Jones sigma = 3.405 A, epsilon = 0.0103 eV, cutoff 2.5 sigma
with the pair energy shifted to zero at the cutoff (ASE's ``LennardJones(smooth=False)`` always shifts),
velocity Verlet, dt = 0.005 tau (about 10.8 fs), energies recorded at every step by both codes.

Usage::

    .venv/bin/python benchmarks/md_vs_ase.py [--quick] [--steps N] [--repeats R]

Prints a table, then as its LAST line one JSON object::

    {"benchmark": "md_vs_ase", "n_atoms": 108, "speedup_vs_ase": X, "n_atoms_large": 864,
     "speedup_vs_ase_large": Y, "energy_match": Z}

X, Y = (ASE seconds per step) / (npsnn_edu seconds per step), best of the repeats for each code (runs of the
two codes are interleaved, so load changes on a shared machine hit both);
Z = max over both sizes and all frames of |E_tot(ours) - E_tot(ASE)| / |E_tot(ASE)|.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.calculators.lj import LennardJones as AseLennardJones  # noqa: E402
from ase.md.verlet import VelocityVerlet as AseVelocityVerlet  # noqa: E402

from npsnn_edu.integrators import simulate  # noqa: E402
from npsnn_edu.potentials import LennardJones  # noqa: E402
from npsnn_edu.systems import lj_fcc_system  # noqa: E402
from npsnn_edu.units import ARGON  # noqa: E402

DT_REDUCED = 0.005
CUTOFF_REDUCED = 2.5


def initial_conditions(n_cells: int) -> dict:
    """The shared starting point, converted once from reduced to ASE units by :data:`npsnn_edu.units.ARGON`."""
    system = lj_fcc_system(n_cells=n_cells, density=0.8442, temperature=1.0, cutoff=CUTOFF_REDUCED, seed=0)
    n = len(system.positions)
    return {
        "positions": ARGON.to_ase_positions(system.positions),
        "velocities": ARGON.to_ase_velocities(system.velocities),
        "masses": np.full(n, ARGON.mass),
        "box": np.asarray(system.box) * ARGON.length,
        "sigma": ARGON.length,
        "epsilon": ARGON.energy,
        "cutoff": CUTOFF_REDUCED * ARGON.length,
        "dt": DT_REDUCED * ARGON.time,
    }


def run_ours(ic: dict, n_steps: int) -> tuple[float, np.ndarray]:
    """npsnn_edu: returns (seconds, total energy per step)."""
    pot = LennardJones(sigma=ic["sigma"], epsilon=ic["epsilon"], cutoff=ic["cutoff"], shift=True, box=ic["box"],
                       skin=0.3 * ic["sigma"])
    t0 = time.perf_counter()
    traj = simulate(pot, ic["positions"], ic["velocities"], dt=ic["dt"], n_steps=n_steps, masses=ic["masses"],
                    units="ase", progress=False)
    seconds = time.perf_counter() - t0
    return seconds, traj.total_energy


def run_ase(ic: dict, n_steps: int) -> tuple[float, np.ndarray]:
    """ASE: VelocityVerlet + LennardJones(smooth=False, i.e. shifted), energy recorded every step."""
    atoms = Atoms("Ar%d" % len(ic["positions"]), positions=ic["positions"], masses=ic["masses"],
                  cell=ic["box"], pbc=True)
    atoms.set_velocities(ic["velocities"])
    atoms.calc = AseLennardJones(sigma=ic["sigma"], epsilon=ic["epsilon"], rc=ic["cutoff"], smooth=False)
    energies: list[float] = []

    def record() -> None:
        energies.append(atoms.get_potential_energy() + atoms.get_kinetic_energy())

    dyn = AseVelocityVerlet(atoms, timestep=ic["dt"])
    dyn.attach(record, interval=1)
    t0 = time.perf_counter()
    dyn.run(n_steps)
    seconds = time.perf_counter() - t0
    return seconds, np.asarray(energies)


def measure(n_cells: int, n_steps: int, repeats: int, ase_repeats: int) -> dict:
    """Interleave the runs of both codes (ours, ASE, ours, ASE, ...) so that a change in machine load
    affects both alike; report per-step times of every repeat."""
    ic = initial_conditions(n_cells)
    run_ours(ic, 5)  # warm-up: imports, caches
    ours, ase_runs = [], []
    for rep in range(max(repeats, ase_repeats)):
        if rep < repeats:
            ours.append(run_ours(ic, n_steps))
        if rep < ase_repeats:
            ase_runs.append(run_ase(ic, n_steps))
    ours_ms = np.array([s for s, _ in ours]) / n_steps * 1e3
    ase_ms = np.array([s for s, _ in ase_runs]) / n_steps * 1e3
    # both record frame 0 (ASE calls observers before the first step) and every step after it
    e_ours = ours[0][1]
    e_ase = ase_runs[0][1]
    if len(e_ours) != len(e_ase):
        raise RuntimeError(f"frame counts differ: ours {len(e_ours)}, ASE {len(e_ase)}")
    m = len(e_ase)
    rel = np.abs(e_ours - e_ase) / np.abs(e_ase)
    # ours must be deterministic: every repeat gives the same numbers
    for _, e in ours[1:]:
        if not np.array_equal(e, e_ours):
            raise RuntimeError("npsnn_edu gave different energies for the same input")
    return {"n_atoms": len(ic["positions"]), "ours_ms": ours_ms, "ase_ms": ase_ms,
            "energy_match": float(rel.max()), "frames_compared": m,
            "drift_ours": float(np.max(np.abs(e_ours - e_ours[0])) / abs(e_ours[0]))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 steps; 5 runs of our core, 2 of ASE")
    parser.add_argument("--steps", type=int, default=None, help="steps per run (default 200, 1000 without --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="runs of our core (best is reported)")
    parser.add_argument("--ase-repeats", type=int, default=2, help="runs of ASE (best is reported)")
    args = parser.parse_args(argv)
    n_steps = args.steps or (200 if args.quick else 1000)
    repeats = args.repeats or 5

    results = [measure(3, n_steps, repeats, args.ase_repeats), measure(6, n_steps, repeats, args.ase_repeats)]

    print(f"LJ argon NVE, velocity Verlet, dt = {DT_REDUCED} tau, cutoff {CUTOFF_REDUCED} sigma (shifted), "
          f"{n_steps} steps, energies recorded every step")
    print(f"{'atoms':>6} {'npsnn_edu ms/step best/median/worst':>36} {'ASE ms/step best/worst':>24} {'speedup':>8} "
          f"{'max rel dE_tot vs ASE':>22}")
    for r in results:
        o, a = r["ours_ms"], r["ase_ms"]
        print(f"{r['n_atoms']:>6} {o.min():>16.3f} / {np.median(o):.3f} / {o.max():.3f} {a.min():>15.2f} / {a.max():.2f} "
              f"{a.min() / o.min():>8.1f} {r['energy_match']:>22.2e}")
    print("(speedup = best ASE time / best npsnn_edu time; the machine may be shared: timings are noisy)")
    small, large = results
    summary = {
        "benchmark": "md_vs_ase",
        "n_atoms": small["n_atoms"],
        "speedup_vs_ase": round(float(small["ase_ms"].min() / small["ours_ms"].min()), 2),
        "n_atoms_large": large["n_atoms"],
        "speedup_vs_ase_large": round(float(large["ase_ms"].min() / large["ours_ms"].min()), 2),
        "energy_match": float(max(small["energy_match"], large["energy_match"])),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
