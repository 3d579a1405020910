"""NVT campaigns on Dask: every (molecule x prior x temperature x seed) run, resumable, on one machine or a cluster.

A *campaign* is a list of :class:`Job` s, each one :func:`~npsnn_edu.gpr.experiments.run_nvt` run under the
chapter's protocol (kit BAOAB Langevin, ``numpy.random.default_rng(seed)``, the crash check every 20 steps). The
prior ``"xtb"`` runs the reference method (GFN2-xTB) itself under that same protocol.

Engine: `Dask distributed <https://distributed.dask.org>`_. By default a ``LocalCluster`` of ``workers`` processes
(one thread each) is started and stopped for you (nothing to set up); with ``scheduler="tcp://HOST:PORT"`` the jobs go
to a cluster you already run (``dask scheduler`` + ``dask worker`` on each machine, or dask-jobqueue's
``SLURMCluster`` on an HPC system: ``cluster.scheduler_address`` is the address to pass).

Guarantees:

* **Nothing lost, nothing redone.** Each finished run's summary is appended to the store (a JSON-lines file) the
  moment it finishes (flushed and fsync'ed). Restarting the same campaign skips every job already in the store, so a
  killed campaign resumes where it stopped.
* **A dying worker is not a lost run.** A job whose worker dies is retried once on another worker; if that dies too it
  is stored with ``"status": "failed"`` and the error, never silently dropped (a failed job is run again when the
  campaign is restarted). A run that raises is stored as failed with its error.
* A progress bar (tqdm) counts finished runs.

Command line::

    python -m npsnn_edu.gpr.campaign --molecule malondialdehyde --priors MF2 MF5 xtb --temperatures 300 1000 \\
        --seeds 0 1 2 --duration-ps 10 --out campaign.jsonl [--workers 2 | --scheduler tcp://HOST:8786]

Then ``summarize_store("campaign.jsonl")`` gives the crash table (counts with 95 % Clopper-Pearson intervals).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Sequence

from ..errors import DataFormatError, InvalidParameterError, NpsnnError
from ..tables import results_table
from ..validation import AtLeast, Constraints, InstanceOf, Integer, Positive, at_least, validate_fields
from .data import MOLECULES, load, make_calculator
from .experiments import build_models, run_nvt, summarize_runs

__all__ = ["Job", "make_jobs", "run_job", "run_campaign", "read_store", "summarize_store", "main"]

#: Name of the reference method as a "prior" of a campaign (GFN2-xTB under the GP runs' protocol).
REFERENCE = "xtb"


@dataclass(frozen=True)
class Job:
    """One NVT run. ``molecule`` is a shipped molecule name or the path of a data file made by
    :func:`npsnn_edu.gpr.data.generate_file`; ``prior`` a GP prior name (MF1..MF5 ...) or ``"xtb"``;
    ``setting`` a model setting of :func:`~npsnn_edu.gpr.experiments.model_settings`; times in fs.

    Parameters
    ----------
    molecule : str
        Shipped molecule name or data-file path.
    prior : str
        GP prior name or ``"xtb"``.
    temperature_K : float
        Temperature (K).
    seed : int
        Seed of the run.
    duration_fs : float
        Length of the run (fs).
    setting : str, default "force_trained"
        Model setting.
    n_train : int or None, default None
        Training-set size (None: the setting's).
    """

    molecule: str
    prior: str
    temperature_K: float
    seed: int
    duration_fs: float
    setting: str = "force_trained"
    n_train: int | None = None

    #: Every field's constraint, checked at construction (numbers are stored converted: float, int).
    _parameter_constraints: ClassVar[Constraints] = {
        "molecule": InstanceOf(str), "prior": InstanceOf(str), "temperature_K": Positive(), "seed": Integer(),
        "duration_fs": Positive(hint="e.g. 10000 for 10 ps"), "setting": InstanceOf(str),
        "n_train": (None, AtLeast(1, integer=True))}

    def __post_init__(self) -> None:
        validate_fields(self)

    @property
    def key(self) -> str:
        """A unique string of the job's fields (the key of its record in a store)."""
        return (f"{self.molecule}|{self.setting}|{self.n_train}|{self.prior}|{self.temperature_K:g}|{self.seed}|"
                f"{self.duration_fs:g}")


def make_jobs(molecules: Iterable[str], priors: Iterable[str], temperatures: Iterable[float], seeds: Iterable[int],
              duration_fs: float, *, setting: str = "force_trained", n_train: int | None = None) -> list[Job]:
    """Every (molecule, prior, temperature, seed) combination (the SAME seeds for every prior).

    Parameters
    ----------
    molecules : iterable of str
        Molecule names or data files.
    priors : iterable of str
        Prior names (or ``"xtb"``).
    temperatures : iterable of float
        Temperatures (K).
    seeds : iterable of int
        Seeds, shared by every prior.
    duration_fs : float
        Length of each run (fs).
    setting : str, default "force_trained"
        Model setting.
    n_train : int or None, default None
        Training-set size.

    Returns
    -------
    list of Job
    """
    jobs = [Job(str(m), str(p), T, s, duration_fs, setting, n_train)
            for m in molecules for p in priors for T in temperatures for s in seeds]
    if not jobs:
        raise InvalidParameterError("the campaign has no jobs: give at least one molecule, prior, temperature, seed")
    return jobs


@lru_cache(maxsize=16)
def _data(molecule: str) -> Any:
    return load(molecule) if molecule in MOLECULES else load(path=molecule)


@lru_cache(maxsize=32)
def _model(molecule: str, setting: str, n_train: int | None, prior: str) -> Any:
    """The job's model, built once per worker process (cached): a GP model, or GFN2-xTB for ``"xtb"``."""
    if prior == REFERENCE:
        return make_calculator()

    return build_models(_data(molecule), setting, priors=(prior,), n_train=n_train)[prior]


def run_job(job: Job) -> dict[str, Any]:
    """Run one job (in whatever process calls it) and return its JSON-able summary.

    Parameters
    ----------
    job : Job
        The job.

    Returns
    -------
    dict
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    data = _data(job.molecule)
    model = _model(job.molecule, job.setting, job.n_train, job.prior)
    run = run_nvt(model, data.reference_atoms(), job.temperature_K, duration_fs=job.duration_fs, seed=job.seed)
    out = run.summary()
    out.update({"molecule": job.molecule, "prior": job.prior, "n_steps": run.n_steps, "wall_s": round(run.wall_s, 4),
                "ms_per_step": round(run.ms_per_step, 5)})
    return out


def read_store(path: "str | Path") -> dict[str, dict[str, Any]]:
    """The records of a campaign store by job key (the last record of a key wins). A torn last line (a campaign
    killed while writing) is ignored; any other unreadable line raises :class:`DataFormatError`.

    Parameters
    ----------
    path : str or Path
        A JSON-lines store.

    Returns
    -------
    dict of str to dict

    Raises
    ------
    DataFormatError
        An unreadable line other than a torn last one.
    """
    path = Path(path)
    if not path.exists():
        return {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataFormatError(f"{path} is not a text file; a campaign store is a JSON-lines file written by "
                              "npsnn_edu.gpr.campaign: pass the store's path (or a new path to start one)") from None
    out: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            key = rec["key"]
            if not isinstance(key, str) or not isinstance(rec["status"], str) or not isinstance(rec["job"], dict):
                raise TypeError("key, status or job of the wrong type")
            if rec["status"] == "done" and not isinstance(rec["result"], dict):
                raise TypeError("a finished run without its result")
        except (json.JSONDecodeError, KeyError, TypeError):
            if n == len(lines) - 1:
                continue
            raise DataFormatError(f"{path}, line {n + 1}: not a campaign record; the store is a JSON-lines file "
                                  "written by npsnn_edu.gpr.campaign (do not edit it by hand)") from None
        out[key] = rec
    return out


def _append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _record(job: Job, status: str, result: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {"key": job.key, "status": status, "job": asdict(job)}
    if result is not None:
        rec["result"] = result
    if error is not None:
        rec["error"] = error
    rec["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return rec


def run_campaign(jobs: Sequence[Job], store: "str | Path", *, workers: int = 1, scheduler: str | None = None,
                 engine: str = "dask", progress: bool = True, job_fn: Callable[[Job], dict[str, Any]] = run_job,
                 worker_retries: int = 1) -> dict[str, Any]:
    """Run ``jobs``, appending each finished run to ``store``; jobs already done in ``store`` are skipped.

    Parameters
    ----------
    jobs : sequence of Job
    store : path
        JSON-lines file (created if missing). Restart with the same store to resume.
    workers : int
        Worker processes of the LocalCluster (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``) to use instead of a LocalCluster.
    engine : {"dask", "loop"}
        ``"loop"`` runs the jobs one after the other in this process (the bare loop Dask is measured against).
    progress : bool, default True
        Show a progress bar.
    job_fn : callable
        What runs one job (default :func:`run_job`); must be importable by the workers.
    worker_retries : int
        How many times a job whose worker died is tried again before it is stored as failed.

    Returns
    -------
    dict with ``done`` (runs finished now), ``skipped`` (already in the store), ``failed`` (keys), ``wall_s``.
    """
    from tqdm.auto import tqdm

    store = Path(store)
    store.parent.mkdir(parents=True, exist_ok=True)
    at_least("workers", workers, 1, integer=True)
    if engine not in ("dask", "loop"):
        raise InvalidParameterError(f"engine must be 'dask' or 'loop', got {engine!r}")
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise InvalidParameterError("the campaign lists the same job twice")
    previous = read_store(store)
    todo = [j for j in jobs if previous.get(j.key, {}).get("status") != "done"]
    summary: dict[str, Any] = {"done": 0, "skipped": len(jobs) - len(todo), "failed": [], "engine": engine}
    t0 = time.perf_counter()
    bar = tqdm(total=len(jobs), initial=summary["skipped"], desc="NVT runs", disable=not progress)
    if engine == "loop" or not todo:
        for job in todo:
            try:
                _append(store, _record(job, "done", job_fn(job)))
                summary["done"] += 1
            except Exception as exc:  # noqa: BLE001 - a failing run is recorded, never dropped
                _append(store, _record(job, "failed", error=f"{type(exc).__name__}: {exc}"))
                summary["failed"].append(job.key)
            bar.update(1)
    else:
        _run_dask(todo, store, workers, scheduler, job_fn, worker_retries, summary, bar)
    bar.close()
    summary["wall_s"] = time.perf_counter() - t0
    return summary


def _run_dask(todo: Sequence[Job], store: Path, workers: int, scheduler: str | None,
              job_fn: Callable[[Job], dict[str, Any]], worker_retries: int, summary: dict[str, Any], bar: Any) -> None:
    import dask
    from distributed import Client, LocalCluster, as_completed

    # A task whose worker dies is rescheduled `allowed-failures` times, then raises KilledWorker. Worker saturation
    # 1.0: a worker holds only the task it runs, so a dying worker takes no innocent queued task down with it.
    with dask.config.set({"distributed.scheduler.allowed-failures": int(worker_retries),
                          "distributed.scheduler.worker-saturation": 1.0,
                          "distributed.worker.daemon": False}):
        cluster = None
        if scheduler is None:
            cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
        client = Client(cluster if cluster is not None else scheduler)
        try:
            futures = {client.submit(job_fn, job, key=f"nvt-{i}-{job.key}", pure=False): job
                       for i, job in enumerate(todo)}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    _append(store, _record(job, "done", fut.result()))
                    summary["done"] += 1
                except Exception as exc:  # noqa: BLE001 - KilledWorker or the run's own error: stored as failed
                    _append(store, _record(job, "failed", error=f"{type(exc).__name__}: {exc}"))
                    summary["failed"].append(job.key)
                bar.update(1)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def summarize_store(store: "str | Path") -> list[dict[str, Any]]:
    """Crash table of a store's finished runs, one row per (molecule, prior, temperature): runs, crashes, the
    95 % Clopper-Pearson interval, duration (:func:`~npsnn_edu.gpr.experiments.summarize_runs`), ms per step.

    Parameters
    ----------
    store : str or Path
        A JSON-lines store.

    Returns
    -------
    list of dict
    """
    recs = [r for r in read_store(store).values() if r["status"] == "done"]
    rows = []
    try:
        for mol in sorted({r["job"]["molecule"] for r in recs}):
            sub = [r["result"] for r in recs if r["job"]["molecule"] == mol]
            for row in summarize_runs(sub):
                sel = [r for r in sub if r["prior"] == row["prior"] and r["temperature_K"] == row["temperature_K"]]
                row["molecule"] = mol
                row["ms_per_step"] = sum(r["ms_per_step"] for r in sel) / len(sel)
                rows.append(row)
    except (KeyError, TypeError) as exc:
        raise DataFormatError(f"{store}: a finished run's record lacks {exc} (not written by npsnn_edu.gpr.campaign?); "
                              "remove that line, or rerun the campaign into a new store") from None
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the campaign runner (``python -m npsnn_edu.gpr.campaign --help``).

    Parameters
    ----------
    argv : sequence of str or None, default None
        Command-line arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    ap = argparse.ArgumentParser(prog="python -m npsnn_edu.gpr.campaign",
                                 description="Resumable NVT crash campaigns of GP models and GFN2-xTB on Dask")
    ap.add_argument("--molecule", nargs="+", required=True,
                    help="shipped molecule names or data files made by `python -m npsnn_edu.gpr.data generate`")
    ap.add_argument("--priors", nargs="+", default=["MF2", "MF5"], help=f"GP priors and/or {REFERENCE!r}")
    ap.add_argument("--temperatures", nargs="+", type=float, default=[1000.0], metavar="K")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--duration-ps", type=float, default=10.0)
    ap.add_argument("--setting", default="force_trained")
    ap.add_argument("--n-train", type=int, default=None)
    ap.add_argument("--out", required=True, type=Path, help="the store (JSON lines); rerun with it to resume")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 0))
    ap.add_argument("--scheduler", default=None, help="address of a running Dask scheduler, tcp://HOST:PORT")
    ap.add_argument("--engine", choices=["dask", "loop"], default="dask")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        jobs = make_jobs(args.molecule, args.priors, args.temperatures, args.seeds, args.duration_ps * 1000.0,
                         setting=args.setting, n_train=args.n_train)
        res = run_campaign(jobs, args.out, workers=args.workers, scheduler=args.scheduler, engine=args.engine,
                           progress=not args.no_progress)
    except NpsnnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(results_table(summarize_store(args.out)).to_string(index=False))
    print(json.dumps({"done": res["done"], "skipped": res["skipped"], "failed": res["failed"],
                      "wall_s": round(res["wall_s"], 2)}))
    return 1 if res["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
