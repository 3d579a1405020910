"""Tables, figures and 3D views of the going-further notebook ``03c_gpr_paper_molecules`` (the GPR paper's claims
on its four molecules).

Every function takes the claims as the shipped result (``load_result("gpr_paper_claims")``) or the dict of a small
live run (:func:`npsnn_edu.gpr.paper_runs.live_claims`); :func:`claims_data` reads either into one form.

* :func:`molecule_views`: the paper's molecules in 3D (nglview), side by side.
* :func:`long_run_table`, :func:`mf5_crashes`: the long-run crash table (crashes / runs, 95 % upper bound) per
  molecule and temperature, MF5 vs MF2 vs GFN2-xTB; where MF5 crashed.
* :func:`distortion_table`, :func:`distortion_figure`, :func:`distortion_movie`: the stretched O-H runs.
* :func:`optimisation_table`, :func:`coverage_figure`, :func:`training_coverage`: alanine dipeptide's C7eq and C5
  minima, GP vs xTB, and the training data's (phi, psi) next to them.
* :func:`ramachandran_figure`: (phi, psi) maps, MF5 vs xTB, per temperature, with the basins of
  :data:`npsnn_edu.gpr.protocols.BASINS`.
* :func:`ensemble_hours`, :func:`cost_table`: ms per MD step and what the paper's 0.5 microsecond ensemble costs.

Units: A, fs, ps, K, kcal/mol, kcal/mol/A, degrees.
"""
from __future__ import annotations

import html
import math
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from ase import Atoms
from plotly.subplots import make_subplots

from ..config import mode
from ..errors import DataFormatError, InvalidParameterError, unknown_name
from ..gpr.claims import load_claims
from ..gpr.data import load
from ..gpr.experiments import crash_interval
from ..gpr.paper_runs import live_claims
from ..gpr.peptides import CONFORMERS, backbone_dihedrals
from ..gpr.protocols import BASINS
from ..tables import results_table
from .playback import show_trajectory
from .plots import PALETTE, TEMPLATE

__all__ = ["MOLECULE_TITLES", "SOURCE_LABELS", "claims_data", "molecule_views", "long_run_table", "mf5_crashes",
           "long_run_verdicts",
           "distortion_table", "distortion_figure", "distortion_movie", "optimisation_table", "training_coverage",
           "coverage_figure", "ramachandran_figure", "ensemble_hours", "cost_table", "ensemble_table", "molecules_in",
           "notebook_claims"]

#: Display names of the kit's molecules.
MOLECULE_TITLES = {"capped_glycine": "capped glycine (Ace-Gly-NMe)", "capped_serine": "capped serine (Ace-Ser-NMe)",
                   "malondialdehyde": "malondialdehyde", "aspirin": "aspirin",
                   "alanine_dipeptide": "alanine dipeptide (Ace-Ala-NMe)"}
#: Display names of the models (GP priors and the reference method).
SOURCE_LABELS = {"MF5": "GP MF5", "MF2": "GP MF2", "xtb": "GFN2-xTB", "gp": "GP MF5"}
SOURCE_COLORS = {"MF5": PALETTE[0], "MF2": PALETTE[1], "xtb": "#000000", "gp": PALETTE[0]}
_KEYS = ("long_runs", "distortion", "ramachandran", "ms_per_step")


def _resolve(row: Mapping[str, Any], arrays: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name, key in (row.get("arrays") or {}).items():
        if key not in arrays:
            raise DataFormatError(f"the claims name an array {key!r} that is not shipped; regenerate the result "
                                  "with the command in its provenance")
        out[name] = np.asarray(arrays[key])
    return out


def claims_data(claims: Any) -> dict[str, Any]:
    """The claims as one dict with every array in place: ``claims`` is the shipped result with its arrays
    (:func:`npsnn_edu.gpr.claims.load_claims`: each row's ``"arrays"`` entry names its arrays in the npz, read
    here into the row under the same names), the tables alone (``load_result("gpr_paper_claims")``), or a dict of
    live runs (:func:`npsnn_edu.gpr.paper_runs.live_claims`, arrays already in the rows). Raises
    :class:`DataFormatError` naming missing keys.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    """
    data = getattr(claims, "data", claims)
    arrays = getattr(claims, "arrays", None) or {}
    if not isinstance(data, Mapping):
        raise DataFormatError(f"expected the gpr_paper_claims result or a dict of claims, got {type(claims).__name__}")
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise DataFormatError(f"the claims lack {missing}; load them with npsnn_edu.gpr.claims.load_claims() or "
                              "make them with npsnn_edu.gpr.paper_runs.live_claims()")
    out = dict(data)
    if arrays:
        for key in ("distortion", "ramachandran"):
            out[key] = [_resolve(r, arrays) for r in data[key]]
        if data.get("optimisation"):
            out["optimisation"] = _resolve(data["optimisation"], arrays)
    return out


def _title(molecule: str) -> str:
    return MOLECULE_TITLES.get(molecule, molecule.replace("_", " "))


def molecule_views(molecules: Sequence[str], *, size: tuple[str, str] = ("300px", "240px"), columns: int = 3) -> Any:
    """The reference geometries of ``molecules`` (shipped molecule names) in 3D, ``columns`` per row, each titled.

    Returns an ipywidgets GridBox; ``.views`` holds the nglview widgets.

    Parameters
    ----------
    molecules : Sequence[str]
        molecule names (shipped data sets).
    size : tuple[str, str], default ('300px', '240px')
        width and height of each view in pixels.
    columns : int, default 3
        number of views per row.
    """
    import ipywidgets as w

    if not molecules:
        raise InvalidParameterError("give at least one molecule name, e.g. 'capped_serine'")
    cells, views = [], []
    for mol in molecules:
        atoms = load(mol).reference_atoms()
        view = show_trajectory(atoms, representation="ball+stick", size=size)
        views.append(view)
        cells.append(w.VBox([w.HTML(f"<b>{html.escape(_title(mol))}</b> ({len(atoms)} atoms)"), view]))
    grid = w.GridBox(cells, layout=w.Layout(grid_template_columns=f"repeat({int(columns)}, {size[0]})",
                                            grid_gap="8px"))
    grid.views = views
    return grid


def _cell(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "no runs"
    low = row.get("ci95_low")
    if low is None:
        low = crash_interval(int(row["crashes"]), int(row["runs"]))[0]
    text = (f"{row['crashes']}/{row['runs']} in {row['duration_ps']:g} ps "
            f"(95 %: {100 * low:.0f}-{100 * row['ci95_high']:.0f} %)")
    median = row.get("median_time_to_crash_ps")
    if row["crashes"] and median is not None:
        text += f", median crash at {median:.3g} ps"
    return text


def _long_runs(claims: Any) -> dict[tuple[str, float, str], dict[str, Any]]:
    """The long-run rows of ``claims`` by (molecule, temperature in K, prior)."""
    return {(r["molecule"], float(r["temperature_K"]), r["prior"]): r for r in claims_data(claims)["long_runs"]}


def _molecule_then_temperature(key: tuple[Any, ...]) -> tuple[int, float]:
    """Sort key of a (molecule, temperature, ...) key: the molecules in the book's order, then the temperature."""
    return (list(MOLECULE_TITLES).index(key[0]) if key[0] in MOLECULE_TITLES else 99, key[1])


def long_run_table(claims: Any) -> Any:
    """One row per molecule and temperature; per model "crashes/runs in L ps (the exact 95 % interval of the crash
    probability per run, in %)" and, where runs crashed, the median time to the crash.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    """
    by = _long_runs(claims)
    keys = sorted({key[:2] for key in by}, key=_molecule_then_temperature)
    out = [{"molecule": _title(m), "T (K)": int(T), **{SOURCE_LABELS[p]: _cell(by.get((m, T, p)))
                                                      for p in ("MF5", "MF2", "xtb")}} for m, T in keys]
    return results_table(out)


def mf5_crashes(claims: Any) -> list[dict[str, Any]]:
    """The long-run rows in which MF5 crashed at least once (empty if it never did).

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    """
    return [r for r in claims_data(claims)["long_runs"] if r["prior"] == "MF5" and r["crashes"] > 0]


def long_run_verdicts(claims: Any) -> list[str]:
    """One sentence per molecule and temperature with MF5 runs: whether MF5 crashed (in how many runs, the median
    time to the crash) or survived every run, next to MF2's count.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    """
    by = _long_runs(claims)
    out = []
    for (mol, T, prior), r in sorted(by.items(), key=lambda kv: _molecule_then_temperature(kv[0])):
        if prior != "MF5":
            continue
        if r["crashes"]:
            text = (f"MF5 crashed: {_title(mol)} at {T:g} K, {r['crashes']} of {r['runs']} runs of "
                    f"{r['duration_ps']:g} ps")
            if r.get("median_time_to_crash_ps") is not None:
                text += f" (median crash at {r['median_time_to_crash_ps']:.3g} ps)"
        else:
            text = f"MF5 survived: {_title(mol)} at {T:g} K, all {r['runs']} runs of {r['duration_ps']:g} ps"
        mf2 = by.get((mol, T, "MF2"))
        if mf2 is not None:
            text += f"; MF2 crashed in {mf2['crashes']} of {mf2['runs']}"
        out.append(text)
    return out


def _distortion_rows(claims: Any, molecule: str | None = None) -> list[dict[str, Any]]:
    rows = claims_data(claims)["distortion"]
    if molecule is None:
        return list(rows)
    sel = [r for r in rows if r["molecule"] == molecule]
    if not sel:
        raise unknown_name("molecule of the distortion test", molecule, sorted({r["molecule"] for r in rows}))
    return sel


def distortion_table(claims: Any) -> Any:
    """The stretched O-H runs: what happened, the time to settle within 0.05 A, the force along the bond (seed 0);
    when the claims hold further seeds (``other_seeds``), their settle times in one more column.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    """
    out = []
    for r in _distortion_rows(claims):
        if r.get("crashed"):
            what = "crashed"
        elif r.get("proton_transferred"):
            what = "H moved to the other O"
        elif r.get("time_to_relax_fs") is None:
            what = "not settled in the run"
        else:
            what = "relaxed"
        row = {"molecule": _title(r["molecule"]), "model": SOURCE_LABELS.get(r["prior"], r["prior"]),
               "bond": r.get("bond"), "outcome": what, "time to settle (fs)": r.get("time_to_relax_fs"),
               "force at the start (kcal/mol/A)": r.get("force_at_start_kcal_per_A"),
               "peak |force| (kcal/mol/A)": r.get("peak_force_kcal_per_A")}
        if r.get("other_seeds"):
            row["other seeds: time to settle (fs)"] = ", ".join(
                "crashed" if o.get("crashed") else "H moved" if o.get("proton_transferred") else
                "not settled" if o.get("time_to_relax_fs") is None else f"{o['time_to_relax_fs']:g}"
                for o in r["other_seeds"])
        out.append(row)
    return results_table(out)


def _series(row: Mapping[str, Any], key: str) -> np.ndarray:
    if key not in row:
        raise DataFormatError(f"the distortion row of {row.get('molecule')} / {row.get('prior')} has no {key!r} "
                              "series; the shipped result or live_claims() provides it")
    return np.asarray(row[key], float)


def distortion_figure(claims: Any, molecule: str, *, height: int = 560) -> go.Figure:
    """Bond length (top) and the force pulling the H back along the bond (bottom) against time, one curve per
    model; the equilibrium length dashed and the +-0.05 A band that counts as settled shaded.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    molecule : str
        the molecule's name as in the result.
    height : int, default 560
        figure height in pixels.
    """
    rows = _distortion_rows(claims, molecule)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("bond length", "force along the bond (positive pulls the H back)"))
    for r in rows:
        c = SOURCE_COLORS.get(r["prior"], PALETTE[4])
        name = SOURCE_LABELS.get(r["prior"], r["prior"])
        t = _series(r, "times_fs")
        fig.add_trace(go.Scatter(x=t, y=_series(r, "bond_A"), name=name, legendgroup=name, line=dict(color=c)),
                      row=1, col=1)
        f = _series(r, "force_kcal_per_A")
        tf = _series(r, "force_times_fs") if "force_times_fs" in r else t[:len(f)]
        fig.add_trace(go.Scatter(x=tf, y=f, name=name, legendgroup=name, showlegend=False,
                                 line=dict(color=c)), row=2, col=1)
    r_eq = float(rows[0]["reference_A"])
    fig.add_hrect(y0=r_eq - 0.05, y1=r_eq + 0.05, fillcolor="rgba(0,0,0,0.08)", line_width=0, row=1, col=1)
    fig.add_hline(y=r_eq, line_dash="dash", line_color="#000000", row=1, col=1)
    fig.add_hline(y=0.0, line_color="#999999", line_width=1, row=2, col=1)
    fig.update_layout(template=TEMPLATE, height=height, title=f"{_title(molecule)}: O-H stretched to "
                      f"{rows[0]['stretched_A']:g} A, 300 K", margin=dict(l=60, r=20, t=80, b=100),
                      legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0))
    fig.update_yaxes(title_text="O-H (A)", row=1, col=1)
    fig.update_yaxes(title_text="kcal/mol/A", row=2, col=1)
    fig.update_xaxes(title_text="time (fs)", row=2, col=1)
    return fig


def distortion_movie(claims: Any, molecule: str, prior: str = "MF5", *, max_frames: int = 150) -> Any:
    """An nglview movie of the first frames (``movie_positions_A``) of the stretched-O-H run of ``molecule`` with
    ``prior`` ("MF5", "MF2" or "xtb").

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    molecule : str
        the molecule's name as in the result.
    prior : str, default 'MF5'
        ``"MF5"``, ``"MF2"`` or ``"xtb"``.
    max_frames : int, default 150
        at most this many frames are shown (evenly thinned).
    """
    data = claims_data(claims)
    rows = [r for r in _distortion_rows(data, molecule) if r["prior"] == prior]
    if not rows:
        raise unknown_name("model of the distortion test", prior,
                           [r["prior"] for r in _distortion_rows(data, molecule)])
    frames = np.asarray(rows[0].get("movie_positions_A", []), float)
    if frames.ndim != 3 or not len(frames):
        raise DataFormatError(f"no movie frames stored for {molecule} / {prior}; load the result with "
                              "npsnn_edu.gpr.claims.load_claims() (the arrays) or make it with live_claims()")
    symbols = (data.get("symbols") or {}).get(molecule)
    if symbols is None:
        symbols = list(load(molecule).symbols)
    images = [Atoms(symbols, positions=x) for x in frames]
    return show_trajectory(images, representation="ball+stick", max_frames=max_frames)


def optimisation_table(claims: Any) -> Any:
    """Alanine dipeptide: the C7eq - C5 energy gap (kcal/mol), BFGS steps to 1 kcal/mol/A and the RMSD of each GP
    minimum to xTB's, GP vs GFN2-xTB.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    """
    opt = claims_data(claims).get("optimisation")
    if not opt:
        raise DataFormatError("the claims hold no optimisation; make it with live_claims(optimise=True)")
    steps = opt.get("steps_to_1kcal", {})
    rows = []
    for src in ("gp", "xtb"):
        row: dict[str, Any] = {"model": SOURCE_LABELS[src],
                               "E(C7eq) - E(C5) (kcal/mol)": round(float(opt["c7eq_minus_c5_kcal"][src]), 2)}
        for k in CONFORMERS:
            s = steps.get(src, {}).get(k) if isinstance(steps, Mapping) else None
            row[f"BFGS steps, {k} start"] = s
            row[f"RMSD to xTB's {k} minimum (A)"] = round(float(opt["rmsd_A"][k]), 3) if src == "gp" else None
        rows.append(row)
    return results_table(rows)


def training_coverage(claims: Any = None, radius_deg: float = 30.0) -> dict[str, Any]:
    """(phi, psi) of alanine dipeptide's training geometries (from the claims' optimisation arrays
    ``training_phi_deg``/``training_psi_deg`` when given, else from the shipped data set) and, per conformer of
    :data:`~npsnn_edu.gpr.peptides.CONFORMERS`, the fraction of them within ``radius_deg`` of its standard torsions
    (periodic distance in the (phi, psi) plane).

    Parameters
    ----------
    claims : Any, default None
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    radius_deg : float, default 30.0
        half-width of the box around each basin centre, in degrees.
    """
    opt = claims_data(claims).get("optimisation") if claims is not None else None
    if opt and "training_phi_deg" in opt:
        phi, psi = np.asarray(opt["training_phi_deg"], float), np.asarray(opt["training_psi_deg"], float)
    else:
        phi, psi = backbone_dihedrals(load("alanine_dipeptide").subset("train")[0])
    near = {}
    for name, (p0, s0) in CONFORMERS.items():
        dp = (phi - p0 + 180.0) % 360.0 - 180.0
        ds = (psi - s0 + 180.0) % 360.0 - 180.0
        near[name] = float(np.mean(np.hypot(dp, ds) <= radius_deg))
    return {"phi": phi, "psi": psi, "near": near, "radius_deg": float(radius_deg), "n": int(phi.size)}


def _basin_boxes(fig: go.Figure, row: int | None = None, col: int | None = None) -> None:
    for k, ((p0, p1), (s0, s1)) in enumerate(BASINS.values()):
        kw = {} if row is None else {"row": row, "col": col}
        fig.add_shape(type="rect", x0=p0, x1=p1, y0=s0, y1=s1, line=dict(color=PALETTE[2 + k], dash="dot"), **kw)


def coverage_figure(claims: Any = None, coverage: Mapping[str, Any] | None = None) -> go.Figure:
    """The training geometries of alanine dipeptide in the (phi, psi) plane, the C7eq and C5 starts, and (from the
    claims' optimisation, when it stores them) where the GP and xTB minima lie.

    Parameters
    ----------
    claims : Any, default None
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    coverage : Mapping[str, Any] | None, default None
        the output of :func:`training_coverage` (computed from ``claims`` when None).
    """
    cov = coverage if coverage is not None else training_coverage(claims)
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=cov["phi"], y=cov["psi"], mode="markers", name="training geometries",
                               marker=dict(size=4, color="rgba(0,114,178,0.35)")))
    for k, (name, (p, s)) in enumerate(CONFORMERS.items()):
        fig.add_trace(go.Scatter(x=[p], y=[s], mode="markers+text", name=f"{name} start", text=[name],
                                 textposition="top center", marker=dict(size=14, symbol="x", color=PALETTE[1 + k])))
    opt = claims_data(claims).get("optimisation") if claims is not None else None
    minima = (opt or {}).get("minima", {})
    for src, symbol in (("gp", "circle-open"), ("xtb", "diamond-open")):
        pts = minima.get(src, {})
        if pts:
            fig.add_trace(go.Scatter(x=[v["phi_deg"] for v in pts.values()], y=[v["psi_deg"] for v in pts.values()],
                                     mode="markers", name=f"{SOURCE_LABELS[src]} minima",
                                     text=list(pts), marker=dict(size=16, symbol=symbol, color=SOURCE_COLORS[src],
                                                                 line_width=2)))
    _basin_boxes(fig)
    fig.update_layout(template=TEMPLATE, height=480, width=560, title="Where the training data lie",
                      margin=dict(l=60, r=20, t=50, b=110),
                      legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", x=0.0))
    fig.update_xaxes(title_text="phi (degrees)", range=[-180, 180], dtick=60)
    fig.update_yaxes(title_text="psi (degrees)", range=[-180, 180], dtick=60)
    return fig


def ramachandran_figure(claims: Any, molecule: str, *, sources: Sequence[str] = ("MF5", "xtb"),
                        height: int = 620, max_points: int = 2000) -> go.Figure:
    """(phi, psi) of the frames of each run of ``molecule``: a row per temperature, a column per model, the
    basins of :data:`~npsnn_edu.gpr.protocols.BASINS` dotted; the panel title gives the number of frames and the
    fraction beyond the basins (of all frames). At most ``max_points`` evenly spaced frames are drawn per panel.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    molecule : str
        the molecule's name as in the result.
    sources : Sequence[str], default ('MF5', 'xtb')
        which runs to show: ``"MF5"`` and/or ``"xtb"``.
    height : int, default 620
        figure height in pixels.
    max_points : int, default 2000
        at most this many (phi, psi) points per panel.
    """
    rows = [r for r in claims_data(claims)["ramachandran"] if r["molecule"] == molecule and r["source"] in sources]
    if not rows:
        raise unknown_name("molecule of the Ramachandran runs", molecule,
                           sorted({r["molecule"] for r in claims_data(claims)["ramachandran"]}))
    temps = sorted({float(r["temperature_K"]) for r in rows})
    by = {(float(r["temperature_K"]), r["source"]): r for r in rows}
    titles = []
    for T in temps:
        for s in sources:
            r = by.get((T, s))
            frac = (r or {}).get("fractions", {}).get("beyond")
            titles.append(f"{SOURCE_LABELS.get(s, s)}, {T:g} K" + ("" if r is None else
                          f": {r['n_frames']} frames, {100 * frac:.0f} % beyond" if frac is not None else ""))
    fig = make_subplots(rows=len(temps), cols=len(sources), subplot_titles=titles, horizontal_spacing=0.1,
                        vertical_spacing=0.14)
    for i, T in enumerate(temps, start=1):
        for j, s in enumerate(sources, start=1):
            r = by.get((T, s))
            if r is not None and "phi_deg" in r:
                stride = max(1, int(np.ceil(len(r["phi_deg"]) / int(max_points))))
                fig.add_trace(go.Scattergl(x=np.asarray(r["phi_deg"])[::stride], y=np.asarray(r["psi_deg"])[::stride],
                                           mode="markers",
                                           showlegend=False, marker=dict(size=3, color=SOURCE_COLORS.get(s))),
                              row=i, col=j)
            _basin_boxes(fig, i, j)
            fig.update_xaxes(range=[-180, 180], dtick=90, title_text="phi (deg)" if i == len(temps) else None,
                             row=i, col=j)
            fig.update_yaxes(range=[-180, 180], dtick=90, title_text="psi (deg)" if j == 1 else None, row=i, col=j)
    fig.update_layout(template=TEMPLATE, height=height, title=f"Ramachandran map: {_title(molecule)}",
                      margin=dict(l=60, r=20, t=90, b=50))
    return fig


def ensemble_hours(ms_per_step: float, total_ns: float = 500.0, dt_fs: float = 0.5, workers: int = 1) -> float:
    """Wall time (hours) of ``total_ns`` of MD at ``ms_per_step`` per step of ``dt_fs``, spread evenly over
    ``workers`` independent runs in parallel: steps = total_ns * 1e6 / dt_fs.

    Parameters
    ----------
    ms_per_step : float
        cost of one MD step in ms.
    total_ns : float, default 500.0
        total simulated time of the ensemble in ns (the paper: 50 x 10 ns = 500).
    dt_fs : float, default 0.5
        time step in fs.
    workers : int, default 1
        number of parallel workers (one run each).
    """
    for name, v in (("ms_per_step", ms_per_step), ("total_ns", total_ns), ("dt_fs", dt_fs)):
        if not (np.isfinite(v) and v > 0):
            raise InvalidParameterError(f"{name} must be a positive number, got {v}")
    if int(workers) < 1:
        raise InvalidParameterError(f"workers must be at least 1, got {workers}")
    steps = float(total_ns) * 1e6 / float(dt_fs)
    return steps * float(ms_per_step) / 1000.0 / 3600.0 / int(workers)


def cost_table(claims: Any, *, total_ns: float = 500.0, workers: int = 50, dt_fs: float = 0.5) -> Any:
    """Per molecule: ms per MD step for the GP and for GFN2-xTB (the same runs' protocol), their ratio, and the
    wall time of ``total_ns`` on ``workers`` parallel runs (:func:`ensemble_hours`).

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    total_ns : float, default 500.0
        total simulated time of the ensemble in ns (the paper: 50 x 10 ns = 500).
    workers : int, default 50
        number of parallel workers (one run each).
    dt_fs : float, default 0.5
        time step in fs.
    """
    rows = []
    speed = claims_data(claims)["ms_per_step"]
    order = [m for m in MOLECULE_TITLES if m in speed] + sorted(set(speed) - set(MOLECULE_TITLES))
    for mol, s in ((m, speed[m]) for m in order):
        gp, xtb = float(s["gp"]), float(s["xtb"])
        rows.append({"molecule": _title(mol), "GP ms/step": round(gp, 3), "xTB ms/step": round(xtb, 2),
                     "xTB / GP": round(xtb / gp, 1),
                     f"{total_ns:g} ns on {workers} runs, GP (h)": round(ensemble_hours(gp, total_ns, dt_fs, workers),
                                                                        1),
                     f"{total_ns:g} ns on {workers} runs, xTB (h)": round(ensemble_hours(xtb, total_ns, dt_fs,
                                                                                        workers), 1)})
    return results_table(rows)


def molecules_in(claims: Any, key: str) -> list[str]:
    """The molecules that the claims' ``key`` table ("long_runs", "distortion", "ramachandran") holds, in the
    order of :data:`MOLECULE_TITLES`.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    key : str
        the result's table to read the molecule names from.
    """
    rows = claims_data(claims).get(key)
    if not isinstance(rows, list):
        raise unknown_name("table of the claims", key, ["long_runs", "distortion", "ramachandran"])
    found = {r["molecule"] for r in rows}
    return [m for m in MOLECULE_TITLES if m in found] + sorted(found - set(MOLECULE_TITLES))


def notebook_claims() -> tuple[dict[str, Any], str]:
    """What notebook 03c shows, and where it comes from: the shipped result ``gpr_paper_claims`` in classroom and
    full mode; small live runs of the same protocols (:func:`npsnn_edu.gpr.paper_runs.live_claims`) in fast mode."""
    if mode() == "fast":
        return live_claims(), ("small live runs (fast mode: 200 fs per run, smaller training sets); the numbers "
                               "differ from the shipped result")
    result = load_claims()
    command = result.provenance.get("command")
    return claims_data(result), f"the shipped result gpr_paper_claims (regenerate with: {command})"


def ensemble_table(claims: Any, workers: Sequence[int] = (1, 2, 8, 50)) -> Any:
    """The paper's ensemble (50 runs of 10 ns at 500 K) stated from the measured GP cost per step: hours of wall
    time on each number of workers (whole runs per worker: ceil(50 / N) rounds of one 10 ns run), and CPU days.
    From the shipped ``ensemble_500K`` when the claims hold it, else from ``ms_per_step`` of malondialdehyde.

    Parameters
    ----------
    claims : Any
        the shipped result (``gpr.claims.load_claims()``) or one of its format (``live_claims()``).
    workers : Sequence[int], default (1, 2, 8, 50)
        number of parallel workers (one run each).
    """
    data = claims_data(claims)
    ens = data.get("ensemble_500K")
    if ens and ens.get("ms_per_step"):
        hours = {int(k): float(v) for k, v in ens["wall_h_on_workers"].items()}
        ms, days, source = float(ens["ms_per_step"]), ens.get("cpu_days"), str(ens.get("source", ""))
        n_runs, run_ns = int(ens.get("n_runs", 50)), float(ens.get("run_ns", 10.0))
    else:
        speed = data["ms_per_step"].get("malondialdehyde")
        if not speed:
            raise DataFormatError("the claims hold neither ensemble_500K nor a cost per step of malondialdehyde")
        ms, n_runs, run_ns, source = float(speed["gp"]), 50, 10.0, "GP MF5 ms per step of malondialdehyde"
        hours = {int(w): math.ceil(n_runs / int(w)) * ensemble_hours(ms, run_ns) for w in workers}
        days = n_runs * ensemble_hours(ms, run_ns) / 24.0
    rows = [{"workers": w, "wall time (h)": round(h, 2)} for w, h in sorted(hours.items())]
    table = results_table(rows)
    table.attrs["note"] = (f"{n_runs} x {run_ns:g} ns at {ms:.3f} ms per step ({source}); "
                           f"on one core: {float(days):.2f} CPU days" if days is not None else source)
    return table
