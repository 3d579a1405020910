"""What one dt-slider move costs, server side (chapter 2 widget).

One move of :class:`npsnn_edu.viz.stability_widgets.DtSliderExplorer` = rerun 1000 steps of the harmonic
oscillator with three core integrators (explicit Euler, velocity Verlet, RK4) and update the traces of the
plotly FigureWidget in place.  Measured as the median over repeated moves at dt values where all three
integrators run all 1000 steps (the worst case: a diverging Euler stops early and costs less).

Peers, for context (what a user might reach for instead): the same 1000 velocity-Verlet steps with ASE's
``VelocityVerlet`` on a 1-atom harmonic calculator, and scipy's ``solve_ivp`` (RK45, rtol 1e-8) over the
same time span with 1001 output points.

Usage: .venv/bin/python benchmarks/dt_slider_latency.py [--quick]
Last line: {"benchmark": "dt_slider_update", "ms": X}  (goal X <= 200)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def median_ms(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeats = 5 if args.quick else 21

    from npsnn_edu.viz.stability_widgets import DtSliderExplorer

    explorer = DtSliderExplorer("harmonic", ("euler", "velocity_verlet", "rk4"), dt=0.05, n_steps=1000)
    dts = iter(np.tile(np.linspace(0.02, 0.06, 7), 1000))

    def move() -> None:
        explorer.slider.value = float(next(dts))  # exactly what the browser's slider does (observer -> update)
        assert not explorer.messages, explorer.messages  # all three ran the full 1000 steps

    move()  # warm-up
    ms, all_ms = median_ms(move, repeats)
    compute_ms, _ = median_ms(lambda: explorer.compute(0.05), repeats)
    draw_ms, _ = median_ms(explorer.redraw, repeats)

    # peer 1: ASE VelocityVerlet, 1000 steps, one atom in a harmonic trap
    from ase import Atoms
    from ase import units as ase_units
    from ase.md.verlet import VelocityVerlet

    from npsnn_edu.potentials import Harmonic

    def ase_run() -> None:
        atoms = Atoms("Ar", positions=[[1.0, 0.0, 0.0]])
        atoms.calc = Harmonic(k=1.0).as_ase_calculator()
        VelocityVerlet(atoms, timestep=0.5 * ase_units.fs).run(1000)

    ase_run()
    ase_ms, _ = median_ms(ase_run, max(3, repeats // 3))

    # peer 2: scipy solve_ivp on the same oscillator and time span
    from scipy.integrate import solve_ivp

    def scipy_run() -> None:
        t_end = 1000 * 0.05
        solve_ivp(lambda t, y: [y[1], -y[0]], (0.0, t_end), [1.0, 0.0], rtol=1e-8, atol=1e-10,
                  t_eval=np.linspace(0.0, t_end, 1001))

    scipy_ms, _ = median_ms(scipy_run, max(3, repeats // 3))

    print(f"slider move (3 integrators x 1000 steps + FigureWidget update): median {ms:.1f} ms "
          f"(min {min(all_ms):.1f}, max {max(all_ms):.1f}, {repeats} moves)")
    print(f"  parts, timed separately: recomputation {compute_ms:.1f} ms, FigureWidget trace update {draw_ms:.1f} ms "
          "(server side; no browser attached, so no comm traffic is included)")
    print(f"peer ASE VelocityVerlet, 1000 steps, 1 atom: {ase_ms:.1f} ms  -> 3 integrators' worth {3 * ase_ms:.1f} ms; "
          f"ratio ours/ASE(x3) = {ms / (3 * ase_ms):.2f}")
    print(f"peer scipy solve_ivp RK45 (rtol 1e-8) same span, 1001 outputs: {scipy_ms:.1f} ms; "
          f"ratio ours/scipy(x3) = {ms / (3 * scipy_ms):.2f}")
    print(f"goal: <= 200 ms per move -> {'met' if ms <= 200 else 'NOT met'} (machine shared: timings are noisy)")
    print(json.dumps({"benchmark": "dt_slider_update", "ms": round(ms, 2)}))


if __name__ == "__main__":
    main()
