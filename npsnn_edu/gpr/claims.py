"""The GPR paper's claims, measured: the shipped result ``gpr_paper_claims`` and the helpers that build and check it.

The result is written by ``benchmarks/gpr_paper_claims.py --full`` (see its docstring for the commands) as two files
in ``npsnn_edu/data/results/``:

* ``gpr_paper_claims.json``: the tables (JSON, the format of :mod:`npsnn_edu.precomputed`, with provenance);
* ``gpr_paper_claims.npz``: the arrays the tables summarise (bond-length series and the first frames of the
  distortion runs, the (phi, psi) of the Ramachandran runs, the optimised geometries), named by the keys the JSON rows
  give in their ``"arrays"`` entries. The JSON records the npz's size and SHA-256.

:func:`load_claims` reads both. The helpers below are what the benchmark computes the tables with, so a test can
recompute every summarised number from the shipped records and arrays: :func:`settle_time` (time to relax),
:func:`long_run_rows` (crash table of the campaign store's records), :func:`ensemble_cost` (cost per ns and the wall
time of the paper's 50 x 10 ns ensemble). Units: fs, A, K, kcal/mol, kcal/mol/A, seconds.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import DataFormatError, InvalidParameterError, unknown_name
from ..precomputed import RESULTS_DIR, load_result, save_result
from .experiments import crash_interval

__all__ = ["RESULT_NAME", "INTERFACE_KEYS", "ClaimsResult", "settle_time", "long_run_rows", "ensemble_cost",
           "save_claims", "load_claims", "STEPS_PER_NS", "markdown_report", "readme_row", "update_docs"]

#: Name of the shipped result (``npsnn_edu.precomputed.load_result(RESULT_NAME)``).
RESULT_NAME = "gpr_paper_claims"
#: Keys every version of the result holds (issue 21's interface; ``benchmarks/gpr_paper_claims.py --quick`` prints
#: the same keys on its last line).
INTERFACE_KEYS = ("molecules", "long_runs", "distortion", "optimisation", "ramachandran", "campaign", "ms_per_step")
#: MD steps per ns at the chapter's 0.5 fs time step.
STEPS_PER_NS = 2_000_000


@dataclass(frozen=True)
class ClaimsResult:
    """The shipped claims: ``data`` (the JSON tables), ``provenance`` and ``arrays`` (name -> numpy array).

    Parameters
    ----------
    data : dict
        the result's tables (the JSON object of the interface keys).
    provenance : dict
        commands, commit, versions, seeds and wall times that produced the result.
    arrays : Mapping[str, np.ndarray], default <factory>
        the companion arrays (bond series, movie frames, (phi, psi) in degrees, geometries in A), by name.
    """

    data: dict
    provenance: dict
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)

    def array(self, key: str) -> np.ndarray:
        """The array named ``key`` (as given in a row's ``"arrays"`` entry).

        Parameters
        ----------
        key : str
            Name of the array, e.g. ``"distortion/capped_serine/MF5/bond_A"``.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        UnknownNameError
            When no such array was shipped (the message lists a few that were).
        """
        if key not in self.arrays:
            raise unknown_name("array of gpr_paper_claims", key, sorted(self.arrays)[:20])
        return self.arrays[key]


def settle_time(times_fs: Sequence[float], r: Sequence[float], r_ref: float, within: float = 0.05,
                window_fs: float = 20.0) -> float | None:
    """When a stretched bond has relaxed: the first recorded time after which the running mean of ``r`` over
    ``window_fs`` (about two O-H vibrations) stays within ``within`` of ``r_ref``.

    Parameters
    ----------
    times_fs : array of shape (n,)
        Recorded times (fs), increasing.
    r : array of shape (n,)
        Bond length (A) at those times.
    r_ref : float
        Equilibrium bond length (A).
    within : float
        Tolerance (A), 0.05 in the paper's claim.
    window_fs : float
        Averaging window (fs).

    Returns
    -------
    float or None
        The time (fs), or None when the mean never settles within the run (or the run is shorter than the window).
    """
    t, x = np.asarray(times_fs, float), np.asarray(r, float)
    if t.shape != x.shape or t.ndim != 1:
        raise InvalidParameterError(f"times_fs and r must be 1-D of the same length, got {t.shape} and {x.shape}")
    starts = t[t <= t[-1] - window_fs] if t.size else t
    ok = np.array([abs(x[(t >= a) & (t <= a + window_fs)].mean() - r_ref) < within for a in starts], bool)
    if not ok.size or not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return float(starts[0 if bad.size == 0 else bad[-1] + 1])


def long_run_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Crash table of campaign records (``npsnn_edu.gpr.campaign`` store lines with ``"status": "done"``).

    One row per (molecule, prior, temperature, run length): ``runs``, ``crashes``, the 95 % Clopper-Pearson
    interval ``ci95_low``/``ci95_high``, ``duration_ps``, ``seeds``, the median time to crash (ps, None without
    crashes), the largest bonded deviation (A) and the mean ms per MD step of the runs.

    Parameters
    ----------
    records : iterable of dict
        Store records (``{"key", "status", "job", "result"}``); records not ``"done"`` are ignored.

    Returns
    -------
    list of dict
        Sorted by molecule, prior, temperature, duration.
    """
    groups: dict[tuple[str, str, float, float], list[dict[str, Any]]] = {}
    for rec in records:
        if rec.get("status") != "done":
            continue
        job, res = rec["job"], rec["result"]
        k = (str(job["molecule"]), str(job["prior"]), float(job["temperature_K"]), float(job["duration_fs"]))
        groups.setdefault(k, []).append(dict(res))
    rows = []
    for (mol, prior, T, dur), sel in sorted(groups.items()):
        n, n_crash = len(sel), sum(bool(r["crashed"]) for r in sel)
        lo, hi = crash_interval(n_crash, n)
        times = [r["time_to_crash_fs"] for r in sel if r["crashed"]]
        rows.append({"molecule": mol, "prior": prior, "temperature_K": T, "runs": n, "crashes": int(n_crash),
                     "duration_ps": dur / 1000.0, "ci95_low": round(lo, 4), "ci95_high": round(hi, 4),
                     "seeds": sorted(int(r["seed"]) for r in sel),
                     "median_time_to_crash_ps": float(np.median(times)) / 1000.0 if times else None,
                     "max_deviation_A": float(max(r["max_deviation_A"] for r in sel)),
                     "ms_per_step": round(float(np.mean([r["ms_per_step"] for r in sel])), 4)})
    return rows


def ensemble_cost(records: Iterable[Mapping[str, Any]], molecule: str = "malondialdehyde", prior: str = "MF5",
                  temperature_K: float = 500.0, workers: Sequence[int] = (1, 2, 8, 50), n_runs: int = 50,
                  run_ns: float = 10.0) -> dict[str, Any]:
    """Cost per ns of ``prior`` MD on ``molecule`` measured from finished campaign runs, and the wall time of the
    paper's ensemble (``n_runs`` x ``run_ns``) stated from it (not run).

    The cost is the runs' own wall time (crash checks included, in the campaign's workers) over their MD steps, for
    the finished runs at ``temperature_K``; without any, for the finished runs of ``molecule`` and ``prior`` at any
    temperature (a step costs the same at any temperature; ``"source"`` says which runs). Crashed runs count with the
    steps they made. Wall time on N workers: ceil(n_runs / N) rounds of one run each.

    Parameters
    ----------
    records : iterable of dict
        Campaign store records.
    molecule, prior : str
        Which runs.
    temperature_K : float
        Temperature of the ensemble (K).
    workers : sequence of int
        Worker counts to state the wall time for.
    n_runs, run_ns : int, float
        The paper's ensemble: 50 runs of 10 ns.

    Returns
    -------
    dict
        ``source``, ``temperatures_K`` (of the runs measured), ``runs_measured``, ``simulated_ns``, ``ms_per_step``,
        ``s_per_ns``, ``cpu_days`` (the whole ensemble on one core), ``wall_h_on_workers`` ({"N": hours}) and the
        ensemble's ``n_runs``/``run_ns``; ``ms_per_step`` None when no run is available.
    """
    mine = [r for r in records if r.get("status") == "done" and r["job"]["molecule"] == molecule
            and r["job"]["prior"] == prior]
    sel = [r for r in mine if float(r["job"]["temperature_K"]) == float(temperature_K)]
    source = f"the finished {prior} runs at {temperature_K:g} K"
    if not sel:
        sel = mine
        temps = sorted({float(r["job"]["temperature_K"]) for r in sel})
        source = (f"no {prior} run at {temperature_K:g} K has finished yet: the finished {prior} runs at "
                  f"{', '.join(f'{T:g}' for T in temps)} K (a step costs the same at any temperature)" if temps else
                  f"no {prior} run of {molecule} has finished yet")
    res = [r["result"] for r in sel]
    out: dict[str, Any] = {"molecule": molecule, "prior": prior, "ensemble_temperature_K": float(temperature_K),
                           "n_runs": int(n_runs), "run_ns": float(run_ns), "source": source,
                           "temperatures_K": sorted({float(r["job"]["temperature_K"]) for r in sel}),
                           "runs_measured": len(res),
                           "simulated_ns": round(sum(r["n_steps"] for r in res) / STEPS_PER_NS, 4)}
    if not res:
        out.update(ms_per_step=None, s_per_ns=None, cpu_days=None, wall_h_on_workers={})
        return out
    ms = float(sum(r["wall_s"] for r in res) * 1e3 / sum(r["n_steps"] for r in res))
    s_per_ns = ms * 1e-3 * STEPS_PER_NS
    out.update(ms_per_step=round(ms, 5), s_per_ns=round(s_per_ns, 1),
               cpu_days=round(n_runs * run_ns * s_per_ns / 86400.0, 3),
               wall_h_on_workers={str(int(w)): round(math.ceil(n_runs / int(w)) * run_ns * s_per_ns / 3600.0, 2)
                                  for w in workers})
    return out


def _sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def save_claims(data: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *, command: str,
                seeds: Iterable[int] | None = None, notes: str = "", directory: Path | str | None = None
                ) -> tuple[Path, Path]:
    """Write the result as ``<directory>/gpr_paper_claims.json`` (via :func:`npsnn_edu.precomputed.save_result`)
    and its arrays as ``gpr_paper_claims.npz`` (compressed; size and SHA-256 recorded in the JSON).

    Parameters
    ----------
    data : dict
        The tables; must hold every key of :data:`INTERFACE_KEYS`.
    arrays : dict of str to array
        The arrays the rows refer to.
    command, seeds, notes
        Provenance (see :func:`npsnn_edu.precomputed.save_result`).
    directory : path, optional
        Where to write (default: the package's results folder).

    Returns
    -------
    (Path, Path)
        The JSON and npz paths.
    """
    missing = [k for k in INTERFACE_KEYS if k not in data]
    if missing:
        raise InvalidParameterError(f"the claims result lacks the interface keys {missing}; compute them first")
    folder = Path(directory) if directory is not None else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
    blob = buf.getvalue()
    npz = folder / f"{RESULT_NAME}.npz"
    npz.write_bytes(blob)
    payload = dict(data)
    payload["arrays_file"] = {"name": npz.name, "bytes": len(blob), "sha256": _sha256(blob), "n_arrays": len(arrays)}
    path = save_result(RESULT_NAME, json.loads(json.dumps(payload)), command=command, seeds=seeds, notes=notes,
                       directory=folder)
    return path, npz


def load_claims(directory: Path | str | None = None) -> ClaimsResult:
    """The shipped result ``gpr_paper_claims`` with its arrays.

    Parameters
    ----------
    directory : path, optional
        Folder holding ``gpr_paper_claims.json`` and ``.npz`` (default: the package's results folder).

    Returns
    -------
    ClaimsResult

    Raises
    ------
    UnknownNameError
        When the JSON is not there.
    DataFormatError
        When the JSON lacks an interface key, or the npz is missing or is not the file the JSON was written with.
    """
    res = load_result(RESULT_NAME, None if directory is None else Path(directory))
    data = res.data
    if not isinstance(data, dict) or any(k not in data for k in INTERFACE_KEYS):
        raise DataFormatError(f"{RESULT_NAME}.json lacks interface keys {list(INTERFACE_KEYS)}; regenerate it with "
                              f"the command in its provenance: {res.command}")
    arrays: dict[str, np.ndarray] = {}
    meta = data.get("arrays_file")
    if meta:
        folder = Path(directory) if directory is not None else RESULTS_DIR
        npz = folder / meta["name"]
        if not npz.is_file():
            raise DataFormatError(f"{npz} is missing (the arrays of {RESULT_NAME}); regenerate both files with: "
                                  f"{res.command}")
        blob = npz.read_bytes()
        if _sha256(blob) != meta["sha256"]:
            raise DataFormatError(f"{npz} is not the array file {RESULT_NAME}.json was written with (SHA-256 "
                                  f"differs); regenerate both files with: {res.command}")
        with np.load(io.BytesIO(blob)) as z:
            arrays = {k: z[k] for k in z.files}
    return ClaimsResult(data=data, provenance=res.provenance, arrays=arrays)


# ----------------------------------------------------------------------------------------------- reports
#: Markers of the block :func:`markdown_report` fills in docs/gpr_your_molecule.md.
DOC_BEGIN, DOC_END = "<!-- gpr_paper_claims:begin -->", "<!-- gpr_paper_claims:end -->"
#: First cell of the README's benchmark row that :func:`readme_row` writes.
README_CELL = "| `benchmarks/gpr_paper_claims.py --full` (shipped `gpr_paper_claims`; `make paper-claims`) |"

_NAMES = {"capped_glycine": "capped glycine", "capped_serine": "capped serine", "malondialdehyde": "malondialdehyde",
          "aspirin": "aspirin", "alanine_dipeptide": "alanine dipeptide"}


def _g(x: Any, fmt: str = "{:g}") -> str:
    return "-" if x is None else fmt.format(x)


def markdown_report(data: Mapping[str, Any]) -> str:
    """The shipped claims as markdown tables (what docs/gpr_your_molecule.md shows between :data:`DOC_BEGIN` and
    :data:`DOC_END`; a test checks the doc against this text).

    Parameters
    ----------
    data : dict
        ``load_claims().data``.

    Returns
    -------
    str
    """
    out = []
    st = data["campaign"].get("paper_campaign", {})
    out.append(f"**Long runs** ({st.get('finished', 0)} of {st.get('planned', 0)} planned runs finished; kit BAOAB "
               "Langevin 0.5 fs, crash = a bonded distance 0.5 A off its reference, checked every 20 steps):\n")
    out.append("| molecule | model | T (K) | runs x length (ps) | crashes | 95 % upper bound "
               "| median time to crash (ps) |")
    out.append("|---|---|---|---|---|---|---|")
    for r in data["long_runs"]:
        out.append(f"| {_NAMES.get(r['molecule'], r['molecule'])} | {r['prior']} | {r['temperature_K']:g} | "
                   f"{r['runs']} x {r['duration_ps']:g} | {r['crashes']}/{r['runs']} | {r['ci95_high']:.2f} | "
                   f"{_g(r['median_time_to_crash_ps'], '{:.2f}')} |")
    out.append("\n**Distortion** (an O-H stretched to 1.5 A along the bond, 300 K, 1 ps, seed 0; relaxed = the 20-fs "
               "mean bond length stays within 0.05 A of equilibrium; force along the bond, + pulls H back):\n")
    out.append("| molecule | model | outcome | force at the start (kcal/mol/A) | peak force, first 50 fs | "
               "other seeds |")
    out.append("|---|---|---|---|---|---|")

    def outcome(r: Mapping[str, Any]) -> str:
        return ("proton transferred to the other O" if r["proton_transferred"] else "crashed" if r["crashed"]
                else f"relaxed by {_g(r['time_to_relax_fs'])} fs")

    for r in data["distortion"]:
        others = "; ".join(f"seed {o['seed']}: {outcome(o)}, peak {o['peak_force_kcal_per_A']:.0f}"
                           for o in r.get("other_seeds", [])) or "-"
        out.append(f"| {_NAMES.get(r['molecule'], r['molecule'])} | {r['prior']} | {outcome(r)} | "
                   f"{r['force_at_start_kcal_per_A']:+.0f} | {r['peak_force_kcal_per_A']:.0f} | {others} |")
    o = data["optimisation"]
    if o:
        out.append(f"\n**Optimisation** (alanine dipeptide, ASE BFGS to 1 kcal/mol/A from C7eq- and C5-like starts): "
                   f"C7eq - C5 = {o['c7eq_minus_c5_kcal']['gp']:+.1f} kcal/mol with the MF5 model, "
                   f"{o['c7eq_minus_c5_kcal']['xtb']:+.1f} with GFN2-xTB (the paper's DFT: -0.7); the GP's minima are "
                   f"{o['rmsd_A']['C7eq']:.3f} A (C7eq) and {o['rmsd_A']['C5']:.2f} A (C5) RMSD from xTB's; BFGS "
                   f"steps GP {o['steps_to_1kcal']['gp']['C7eq']} / {o['steps_to_1kcal']['gp']['C5']}, xTB "
                   f"{o['steps_to_1kcal']['xtb']['C7eq']} / {o['steps_to_1kcal']['xtb']['C5']} (C7eq / C5); "
                   f"{100 * o['training_basin_fractions']['beta_C5']:.0f} % of the training frames are in the C5 "
                   "basin.")
    if data["ramachandran"]:
        out.append("\n**Ramachandran** (fraction of frames per basin; a frame every 10 fs; a crashed run is followed "
                   "by the next seed):\n")
        out.append("| molecule | T (K) | model | simulated (ps) | runs (crashed) | C7eq | beta/C5 | alpha-R | beyond "
                   "| beyond, MF5's first frames as long as xTB's run |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for r in data["ramachandran"]:
            f = r["fractions"]
            m = r.get("fractions_matched")
            ps = None if m is None else (r["matched_frames"] - 1) * r["record_every_fs"] / 1000
            same = "-" if m is None else f"{m['beyond']:.2f} ({ps:g} ps)"
            out.append(f"| {_NAMES.get(r['molecule'], r['molecule'])} | {r['temperature_K']:g} | {r['source']} | "
                       f"{r['simulated_ps']:.1f} | {r.get('runs', 1)} ({r.get('crashes', int(r['crashed']))}) | "
                       f"{f['C7eq']:.2f} | {f['beta_C5']:.2f} | {f['alpha_R']:.2f} | {f['beyond']:.2f} | {same} |")
    if data["ms_per_step"]:
        out.append("\n**ms per MD step** (MF5 model and GFN2-xTB one after the other in one process, one core; the "
                   "paper: 2-4 ms for FFLUX):\n")
        out.append("| molecule | GP | GFN2-xTB | xTB / GP |")
        out.append("|---|---|---|---|")
        for m, s in data["ms_per_step"].items():
            out.append(f"| {_NAMES.get(m, m)} | {s['gp']:.2f} | {s['xtb']:.1f} | {s['ratio']:.0f}x |")
    e = data.get("ensemble_500K", {})
    if e.get("ms_per_step") is not None:
        out.append(f"\n**The paper's 50 x 10 ns at 500 K** (stated, not run), from {e['source']}: "
                   f"{e['ms_per_step']:.2f} ms per step, {e['s_per_ns'] / 60:.1f} min per ns, "
                   f"{e['cpu_days']:.1f} CPU days in all (the paper: two), "
                   f"{e['wall_h_on_workers']['8']:.1f} h on 8 workers, {e['wall_h_on_workers']['50']:.1f} h on 50.")
    note = data.get("run_info", {}).get("machine_note")
    if note:
        out.append(f"\nMachine: {note}.")
    if data.get("not_complete"):
        out.append("\nNot complete: " + "; ".join(data["not_complete"]) + ".")
    return "\n".join(out) + "\n"


def readme_row(data: Mapping[str, Any]) -> str:
    """The README's benchmark row for the shipped result (one line; a test checks the README holds it).

    Parameters
    ----------
    data : dict
        ``load_claims().data``.

    Returns
    -------
    str
    """
    st = data["campaign"].get("paper_campaign", {})
    mf5 = [r for r in data["long_runs"] if r["prior"] == "MF5"]
    crashed = sorted({f"{_NAMES.get(r['molecule'], r['molecule'])} at {r['temperature_K']:g} K "
                      f"({r['crashes']}/{r['runs']})" for r in mf5 if r["crashes"]})
    stable = sorted({f"{_NAMES.get(r['molecule'], r['molecule'])} at {r['temperature_K']:g} K "
                     f"({r['runs']} x {r['duration_ps']:g} ps)" for r in mf5 if not r["crashes"]})
    parts = [f"long runs {st.get('finished', 0)} of {st.get('planned', 0)} finished: MF5 crashed on "
             + (", ".join(crashed) or "none") + "; MF5 without a crash on " + (", ".join(stable) or "none")]
    ser = {r["prior"]: r for r in data["distortion"] if r["molecule"] == "capped_serine"}
    if ser:
        parts.append("serine's O-H at 1.5 A relaxed by " + " / ".join(
            f"{_g(ser[p]['time_to_relax_fs'])} fs" for p in ("MF5", "MF2", "xtb") if p in ser)
            + " (MF5 / MF2 / xTB), peak force " + " / ".join(
            f"{ser[p]['peak_force_kcal_per_A']:.0f}" for p in ("MF5", "MF2", "xtb") if p in ser) + " kcal/mol/A")
    o = data["optimisation"]
    if o:
        parts.append(f"alanine dipeptide C7eq - C5: GP {o['c7eq_minus_c5_kcal']['gp']:+.1f}, xTB "
                     f"{o['c7eq_minus_c5_kcal']['xtb']:+.1f} kcal/mol")
    e = data.get("ensemble_500K", {})
    if e.get("ms_per_step") is not None:
        parts.append(f"the paper's 50 x 10 ns: {e['cpu_days']:.1f} CPU days, {e['wall_h_on_workers']['50']:.1f} h "
                     "on 50 workers")
    return (README_CELL + " the paper's claims at full size (long runs from the Dask campaign store, distortion, "
            "optimisation, Ramachandran maps, ms per step), arrays for movies and maps | " + "; ".join(parts)
            + "; tables: `docs/gpr_your_molecule.md` |")


def update_docs(data: Mapping[str, Any], doc: Path | str, readme: Path | str) -> None:
    """Write :func:`markdown_report` between the markers of ``doc`` and :func:`readme_row` into ``readme`` (replacing
    the row that starts with :data:`README_CELL`, or adding it after the ``--quick`` row of the same benchmark).

    Parameters
    ----------
    data : dict
        ``load_claims().data``.
    doc, readme : path
        docs/gpr_your_molecule.md and README.md.
    """
    doc, readme = Path(doc), Path(readme)
    text = doc.read_text()
    if DOC_BEGIN not in text or DOC_END not in text:
        raise DataFormatError(f"{doc} has no {DOC_BEGIN} ... {DOC_END} block; add the two markers where the "
                              "tables go")
    head, rest = text.split(DOC_BEGIN, 1)
    tail = rest.split(DOC_END, 1)[1]
    doc.write_text(head + DOC_BEGIN + "\n" + markdown_report(data) + DOC_END + tail)
    lines = readme.read_text().splitlines(keepends=True)
    row = readme_row(data) + "\n"
    idx = [i for i, ln in enumerate(lines) if ln.startswith(README_CELL)]
    if idx:
        lines[idx[0]] = row
    else:
        quick = [i for i, ln in enumerate(lines) if ln.startswith("| `benchmarks/gpr_paper_claims.py --quick`")]
        if not quick:
            raise DataFormatError(f"{readme} has no benchmark row of gpr_paper_claims.py --quick to add the row after")
        lines.insert(quick[0] + 1, row)
    readme.write_text("".join(lines))
