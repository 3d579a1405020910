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
     "speedup_vs_ase_large": Y, "energy_match": Z, "openmm_ratio": R, "openmm_ratio_large": S,
     "openmm_energy_match": W}

X, Y = (ASE seconds per step) / (npsnn_edu seconds per step), best of the repeats for each code (runs of the
codes are interleaved, so load changes on a shared machine hit all alike);
Z = max over both sizes and all frames of |E_tot(ours) - E_tot(ASE)| / |E_tot(ASE)|.

OpenMM peer (when ``openmm`` is importable; ``make bench`` installs it through the ``bench`` extra): the same
system on OpenMM's CPU platform with ONE thread (``Threads=1``), ``openmm.VerletIntegrator`` (velocity Verlet)
with the same dt, a ``NonbondedForce`` with ``CutoffPeriodic`` at the same cutoff, no switching function, no
dispersion correction and zero charges (its fastest path). OpenMM truncates LJ without shifting it, so its
potential energy is the kit's plus u(r_c) per pair inside the cutoff (forces are identical); that constant is
added back before comparing. Before timing, the script checks that the potential energy and the forces of the
starting configuration agree with the kit's, and after the timed run that the total energies at the end agree
(OpenMM's CPU platform computes forces in single precision): W = the largest of these relative differences,
required below 1e-3. R, S = (npsnn_edu seconds per step) / (OpenMM seconds per step), best of the repeats: below
1 means the kit is faster. Without OpenMM the three keys are null.
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
    pot = _kit_potential(ic)
    t0 = time.perf_counter()
    traj = simulate(pot, ic["positions"], ic["velocities"], dt=ic["dt"], n_steps=n_steps, masses=ic["masses"],
                    metadata={"units": "ase"}, progress=False)
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


# ----------------------------------------------------------------------------------------------
# OpenMM peer
# ----------------------------------------------------------------------------------------------
OPENMM_TOLERANCE = 1e-3


def have_openmm() -> bool:
    try:
        import openmm  # noqa: F401
    except Exception:
        return False
    return True


def _openmm_context(ic: dict) -> tuple:
    """An OpenMM Context for ``ic`` (CPU platform, 1 thread) in OpenMM units: nm, kJ/mol, ps, dalton."""
    import openmm
    from ase import units as ase_units
    from openmm import unit

    ev_to_kj = 1.0 / (ase_units.kJ / ase_units.mol)  # kJ/mol per eV
    ps = 1000.0 * ase_units.fs  # ASE time units per picosecond
    n = len(ic["positions"])
    system = openmm.System()
    for m in ic["masses"]:
        system.addParticle(float(m))
    box_nm = ic["box"] / 10.0
    system.setDefaultPeriodicBoxVectors(openmm.Vec3(box_nm[0], 0, 0), openmm.Vec3(0, box_nm[1], 0),
                                        openmm.Vec3(0, 0, box_nm[2]))
    force = openmm.NonbondedForce()
    force.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)
    force.setCutoffDistance(ic["cutoff"] / 10.0)
    force.setUseSwitchingFunction(False)
    force.setUseDispersionCorrection(False)
    for _ in range(n):
        force.addParticle(0.0, ic["sigma"] / 10.0, ic["epsilon"] * ev_to_kj)
    system.addForce(force)
    integrator = openmm.VerletIntegrator(ic["dt"] / ps)
    platform = openmm.Platform.getPlatformByName("CPU")
    context = openmm.Context(system, integrator, platform, {"Threads": "1"})
    context.setPositions(ic["positions"] / 10.0 * unit.nanometer)
    context.setVelocities(ic["velocities"] * ps / 10.0 * unit.nanometer / unit.picosecond)
    return context, integrator, ev_to_kj


def _openmm_energies(context: object, ev_to_kj: float) -> tuple[float, float, np.ndarray]:
    """(potential eV, kinetic eV, forces eV/A) of the context's current state."""
    from openmm import unit

    state = context.getState(getEnergy=True, getForces=True)  # type: ignore[attr-defined]
    pe = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) / ev_to_kj
    ke = state.getKineticEnergy().value_in_unit(unit.kilojoule_per_mole) / ev_to_kj
    f = np.asarray(state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer))
    return pe, ke, f / ev_to_kj / 10.0


def _kit_potential(ic: dict) -> LennardJones:
    return LennardJones(sigma=ic["sigma"], epsilon=ic["epsilon"], cutoff=ic["cutoff"], shift=True, box=ic["box"],
                        skin=0.3 * ic["sigma"])


def _pairs_inside(positions: np.ndarray, box: np.ndarray, cutoff: float) -> int:
    i, j = np.triu_indices(len(positions), k=1)
    d = positions[i] - positions[j]
    d -= box * np.round(d / box)
    return int(np.count_nonzero(np.einsum("md,md->m", d, d) < cutoff**2))


def _shift_correction(ic: dict, pot: LennardJones, positions: np.ndarray) -> float:
    """OpenMM's unshifted energy minus the kit's shifted one: u(r_c) per pair inside the cutoff (eV)."""
    return float(pot.pair_energy(ic["cutoff"])) * _pairs_inside(positions, ic["box"], ic["cutoff"])


def check_openmm(ic: dict, n_steps: int, kit_final_energy: float) -> float:
    """Largest relative difference kit vs OpenMM: start energy, start forces, total energy after n_steps."""
    pot = _kit_potential(ic)
    context, integrator, ev_to_kj = _openmm_context(ic)
    pe_mm, _, f_mm = _openmm_energies(context, ev_to_kj)
    pe_kit, f_kit = pot.energy_and_forces(ic["positions"])
    pe_mm -= _shift_correction(ic, pot, ic["positions"])
    rel_pe = abs(pe_mm - pe_kit) / abs(pe_kit)
    # relative to the force scale epsilon/sigma (a perfect lattice has forces ~ 0 on every atom)
    rel_f = float(np.max(np.abs(f_mm - f_kit)) / max(float(np.max(np.abs(f_kit))), ic["epsilon"] / ic["sigma"]))
    integrator.step(n_steps)
    from openmm import unit

    end = context.getState(getPositions=True, enforcePeriodicBox=False).getPositions(asNumpy=True)
    pe_end, ke_end, _ = _openmm_energies(context, ev_to_kj)
    pe_end -= _shift_correction(ic, pot, np.asarray(end.value_in_unit(unit.nanometer)) * 10.0)
    rel_end = abs(pe_end + ke_end - kit_final_energy) / abs(kit_final_energy)
    worst = max(rel_pe, rel_f, rel_end)
    if not worst < OPENMM_TOLERANCE:
        raise RuntimeError(f"OpenMM and npsnn_edu disagree: start energy {rel_pe:.2e}, forces {rel_f:.2e}, "
                           f"end total energy {rel_end:.2e} (tolerance {OPENMM_TOLERANCE:g}): not the same system")
    return worst


def run_openmm(ic: dict, n_steps: int) -> float:
    """Seconds for n_steps of OpenMM velocity Verlet from the shared start (no reporting inside the run)."""
    from ase import units as ase_units
    from openmm import unit

    context, integrator, _ = _openmm_context(ic)
    integrator.step(5)  # warm-up: kernels, neighbour list; then back to the shared start
    context.setPositions(ic["positions"] / 10.0 * unit.nanometer)
    context.setVelocities(ic["velocities"] * (1000.0 * ase_units.fs) / 10.0 * unit.nanometer / unit.picosecond)
    t0 = time.perf_counter()
    integrator.step(n_steps)
    context.getState(getEnergy=True)  # make sure the work is done
    return time.perf_counter() - t0


def measure(n_cells: int, n_steps: int, repeats: int, ase_repeats: int) -> dict:
    """Interleave the runs of both codes (ours, ASE, ours, ASE, ...) so that a change in machine load
    affects both alike; report per-step times of every repeat."""
    ic = initial_conditions(n_cells)
    run_ours(ic, 5)  # warm-up: imports, caches
    openmm = have_openmm()
    ours, ase_runs, mm_runs = [], [], []
    for rep in range(max(repeats, ase_repeats)):
        if rep < repeats:
            ours.append(run_ours(ic, n_steps))
            if openmm:
                mm_runs.append(run_openmm(ic, n_steps))
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
    result = {"n_atoms": len(ic["positions"]), "ours_ms": ours_ms, "ase_ms": ase_ms,
              "energy_match": float(rel.max()), "frames_compared": m,
              "drift_ours": float(np.max(np.abs(e_ours - e_ours[0])) / abs(e_ours[0])),
              "openmm_ms": None, "openmm_energy_match": None}
    if openmm:
        result["openmm_energy_match"] = check_openmm(ic, n_steps, float(e_ours[-1]))
        result["openmm_ms"] = np.array(mm_runs) / n_steps * 1e3
    return result


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
        print(f"{r['n_atoms']:>6} {o.min():>16.3f} / {np.median(o):.3f} / {o.max():.3f} "
              f"{a.min():>15.2f} / {a.max():.2f} {a.min() / o.min():>8.1f} {r['energy_match']:>22.2e}")
    print("(speedup = best ASE time / best npsnn_edu time; the machine may be shared: timings are noisy)")
    if all(r["openmm_ms"] is not None for r in results):
        print(f"{'atoms':>6} {'OpenMM CPU 1 thread ms/step best/worst':>40} {'npsnn_edu / OpenMM':>20} "
              f"{'max rel diff vs OpenMM':>24}")
        for r in results:
            mm, o = r["openmm_ms"], r["ours_ms"]
            print(f"{r['n_atoms']:>6} {mm.min():>28.3f} / {mm.max():.3f} {o.min() / mm.min():>20.2f} "
                  f"{r['openmm_energy_match']:>24.2e}")
        print("(ratio = best npsnn_edu time / best OpenMM time; below 1: the kit is faster)")
    else:
        print("OpenMM is not installed: no OpenMM row (make bench installs it through the 'bench' extra)")
    small, large = results

    def ratio(r: dict) -> float | None:
        return None if r["openmm_ms"] is None else round(float(r["ours_ms"].min() / r["openmm_ms"].min()), 3)

    summary = {
        "benchmark": "md_vs_ase",
        "n_atoms": small["n_atoms"],
        "speedup_vs_ase": round(float(small["ase_ms"].min() / small["ours_ms"].min()), 2),
        "n_atoms_large": large["n_atoms"],
        "speedup_vs_ase_large": round(float(large["ase_ms"].min() / large["ours_ms"].min()), 2),
        "energy_match": float(max(small["energy_match"], large["energy_match"])),
        "openmm_ratio": ratio(small),
        "openmm_ratio_large": ratio(large),
        "openmm_energy_match": (None if small["openmm_energy_match"] is None
                                else float(max(small["openmm_energy_match"], large["openmm_energy_match"]))),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
