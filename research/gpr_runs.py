"""Batches of chapter-3 NVT runs for the benchmarks (``benchmarks/gpr_stability.py``): :func:`run_many`.

Every (prior, temperature, seed) job runs :func:`npsnn_edu.gpr.experiments.run_nvt` (the kit's ONE NVT crash
loop) with the SAME seeds for every prior, in this process or on a Dask ``LocalCluster``. A user's resumable
campaign over molecules (a store, restarts, retries, a cluster address) is :mod:`npsnn_edu.gpr.campaign`, in the
package; this helper only serves the benchmarks' fixed, small batches.
"""
from __future__ import annotations

from typing import Any, Sequence

from npsnn_edu.gpr.experiments import run_nvt
from npsnn_edu.progress import progress_iter

__all__ = ["run_many", "run_summary"]


def run_summary(model: Any, reference: Any, T: float, seed: int, duration_fs: float, md: dict) -> dict[str, Any]:
    """One run's :meth:`~npsnn_edu.gpr.experiments.MDRun.summary` plus ``n_steps`` and ``wall_s`` (s)."""
    run = run_nvt(model, reference, T, duration_fs=duration_fs, seed=seed, **md)
    out = run.summary()
    out["n_steps"], out["wall_s"] = run.n_steps, run.wall_s
    return out


def run_many(models: dict[str, Any], reference: Any, temperatures: Sequence[float], seeds: Sequence[int],
             duration_fs: float, *, workers: int = 1, progress: bool = False, **md: Any) -> list[dict[str, Any]]:
    """Run every (prior, temperature, seed) job (the SAME seeds for every prior) and return the run summaries
    (dicts, with ``n_steps`` and ``wall_s``), in job order.

    Parameters
    ----------
    models : dict of str to GPRPotential (or anything run_nvt drives)
        One model per prior name.
    reference : ase.Atoms
        Start geometry and bonded reference of the crash criterion.
    temperatures : sequence of float
        Thermostat temperatures (K).
    seeds : sequence of int
        Seeds of the runs (``numpy.random.default_rng(seed)`` in run_nvt).
    duration_fs : float
        Length of each run (fs); a run stops at its first crash.
    workers : int
        ``> 1``: a Dask ``LocalCluster`` of that many processes (each model sent to each worker once).
    progress : bool
        Show a progress bar.
    **md
        Further keyword arguments of :func:`~npsnn_edu.gpr.experiments.run_nvt` (e.g. ``thermostat``).
    """
    jobs = [(p, float(T), int(s)) for p in models for T in temperatures for s in seeds]
    if workers <= 1:
        return [run_summary(models[p], reference, T, s, float(duration_fs), md)
                for p, T, s in progress_iter(jobs, desc="NVT runs", show=progress)]
    from distributed import Client, LocalCluster  # heavy optional dependency: only when workers > 1

    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        remote = client.scatter(dict(models), broadcast=True)  # {prior: future}, each model sent once per worker
        ref = client.scatter(reference, broadcast=True)
        futures = [client.submit(run_summary, remote[p], ref, T, s, float(duration_fs), md, pure=False)
                   for p, T, s in jobs]
        return list(progress_iter((f.result() for f in futures), desc="NVT runs", show=progress, total=len(futures)))
