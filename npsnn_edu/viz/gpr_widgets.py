"""Chapter 3 figures and the GP-potential MD explorer (ipywidgets + plotly + nglview).

* :func:`bond_stretch_figure`: energy along a stretched bond, GFN2-xTB reference vs the GP of each prior with
  +-2 sigma uncertainty bands, and the bond's range in the training data shaded.
* :func:`render_crash_table`: crash statistics per prior and temperature as a results table (DataFrame).
* :func:`prior_weight_figure`: the prior weight w(x) along NVT runs.
* :func:`bond_trace_figure`: bond length vs time of stretched-bond runs.
* :func:`deviation_figure`: the largest bonded-distance deviation along NVT runs, with the crash threshold.
* :func:`crash_overview`: the shipped crash counts of every model setting and prior in one table.
* :func:`proton_trace_figure`: the stretched enol O-H run: H to its own and to the other oxygen.
* :func:`side_by_side`: two runs played together with one play control.
* :class:`GPRMDExplorer`: choose prior, lengthscale, temperature (and duration, seed), press *Run*: the GP is
  trained (cached), an ASE Langevin NVT run is made, and the status, the largest bonded-distance deviation and
  the potential energy versus time are shown, plus an nglview playback. ``explorer.run()`` works without a
  browser and returns the :class:`~npsnn_edu.gpr.experiments.MDRun`.

Units: energies in eV (plots relative to the reference-geometry energy), distances in Angstrom, times in fs.
"""
from __future__ import annotations

import html
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from ase import units

from ..errors import InvalidParameterError, NpsnnError, unknown_name
from ..gpr.data import MOLECULES, MoleculeData, load
from ..gpr.experiments import CrashCriterion, run_nvt, train_model
from ..gpr.priors import PRIOR_LABELS, PRIOR_NAMES, canonical_prior_name
from ..tables import results_table
from ..validation import AtLeast, Boolean, Constraints, InstanceOf, Interval, Options, Rule, validate_params
from .playback import show_trajectory
from .plots import PALETTE, line_figure, new_figure

PRIOR_COLORS = {p: PALETTE[k] for k, p in enumerate(PRIOR_NAMES)}
#: Lengthscales offered by the explorer (1/Angstrom, inverse-distance descriptor); None = chosen on validation.
LENGTHSCALE_CHOICES = (0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.5)
#: Ranges of the explorer's temperature slider (K) and duration box (fs): a value outside is refused, not clamped.
TEMPERATURE_RANGE_K = (100, 1500)
DURATION_RANGE_FS = (10, 20_000)


def _check_prior(name: str, prior: Any) -> str:
    return canonical_prior_name(prior)


def _check_lengthscale(name: str, lengthscale: Any) -> float:
    """One of :data:`LENGTHSCALE_CHOICES` (the slider's stops)."""
    try:
        value = float(lengthscale)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(lengthscale, bool) or value not in LENGTHSCALE_CHOICES:
        raise unknown_name(name, lengthscale, [str(v) for v in LENGTHSCALE_CHOICES])
    return value


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


def bond_stretch_figure(profile: Mapping[str, Any], title: str = "", *, n_sigma: float = 2.0,
                        y_range: Sequence[float] | None = (-1.0, 8.0), height: int = 430) -> go.Figure:
    """Energy (eV, relative to the relaxed geometry) along a stretched bond, from
    :func:`npsnn_edu.gpr.experiments.bond_stretch_profile`: reference, GP mean per prior, +-n_sigma bands.

    Parameters
    ----------
    profile : mapping
        Output of :func:`~npsnn_edu.gpr.experiments.bond_stretch_profile`.
    title : str, default ""
        Figure title.
    n_sigma : float, default 2.0
        Half-width of the uncertainty bands in standard deviations.
    y_range : sequence of 2 floats or None, default (-1.0, 8.0)
        Energy axis range (eV); None: automatic.
    height : int, default 430
        Figure height (px).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    r = np.asarray(profile["distances"])
    fig = new_figure(title or "Energy along a stretched bond", "bond length (A)", "E - E(relaxed) (eV)",
                     height=height)
    lo, hi = profile["train_range"]
    fig.add_vrect(x0=lo, x1=hi, fillcolor="rgba(0,0,0,0.06)", line_width=0, annotation_text="training range",
                  annotation_position="top left")
    for name, p in profile["priors"].items():
        c = PRIOR_COLORS.get(name, PALETTE[-1])
        mean, std = np.asarray(p["mean"]), np.asarray(p["std"])
        fig.add_trace(go.Scatter(x=np.r_[r, r[::-1]], y=np.r_[mean + n_sigma * std, (mean - n_sigma * std)[::-1]],
                                 fill="toself", fillcolor=_rgba(c, 0.12), line=dict(width=0), hoverinfo="skip",
                                 showlegend=False, legendgroup=name))
        fig.add_trace(go.Scatter(x=r, y=mean, name=PRIOR_LABELS.get(name, name), line=dict(color=c),
                                 legendgroup=name))
    if "reference" in profile:
        fig.add_trace(go.Scatter(x=r, y=profile["reference"], name="GFN2-xTB reference",
                                 line=dict(color="#000000", dash="dash", width=3)))
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    return fig


def render_crash_table(rows: Sequence[Mapping[str, Any]], reference_prior: str = "MF5") -> Any:
    """Crash statistics rows (:func:`npsnn_edu.gpr.experiments.summarize_runs`) as a results table (DataFrame):
    crashes/runs, 95 % Clopper-Pearson interval, Fisher p vs ``reference_prior``, median time to crash,
    open-enol fraction, largest bonded deviation and largest prior weight.

    Parameters
    ----------
    rows : sequence of mappings
        Rows of :func:`~npsnn_edu.gpr.experiments.summarize_runs`.
    reference_prior : str, default "MF5"
        Prior the Fisher p-values compare with.

    Returns
    -------
    ResultsTable
    """
    pkey = "p_vs_" + reference_prior
    out = []
    for r in rows:
        out.append({"prior": PRIOR_LABELS.get(r["prior"], r["prior"]), "T (K)": int(r["temperature_K"]),
                    "crashed / runs": f"{r['crashes']}/{r['runs']}",
                    "95% CI": f"{r['ci_low']:.2f}-{r['ci_high']:.2f}",
                    f"Fisher p vs {reference_prior}": _or_dash(r.get(pkey), ".2g"),
                    "median time to crash (fs)": _or_dash(r.get("median_time_to_crash_fs"), ".0f"),
                    "open enol (fraction of time)": _or_dash(r.get("open_enol_fraction"), ".3f"),
                    "max bond deviation (A)": _or_dash(r["max_deviation_A"], ".2f"),
                    "max prior weight w": _or_dash(r.get("max_prior_weight"), ".2g")})
    return results_table(out)


def _or_dash(value: Any, fmt: str) -> str:
    """A table cell: the number formatted, or an en dash where there is none (no raw None/NaN in tables)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "\u2013"
    return format(float(value), fmt)


def crash_overview(result: Any, priors: Sequence[str] = ("MF2", "MF5")) -> Any:
    """One table of the shipped crash statistics (``load_result("gpr_crash_table")``): a row per model setting and
    prior, a column per temperature, each cell "crashes/runs"; plus the test energy MAE (kcal/mol) of the model.

    Parameters
    ----------
    result : PrecomputedResult
        ``load_result("gpr_crash_table")``.
    priors : sequence of str, default ("MF2", "MF5")
        Priors shown.

    Returns
    -------
    ResultsTable
    """
    data = result.data
    rows = []
    for setting, block in data["settings"].items():
        by = {(r["prior"], r["temperature_K"]): r for r in block["rows"]}
        for p in priors:
            row: dict[str, Any] = {"model": setting.replace("_", " "), "prior": PRIOR_LABELS.get(p, p),
                                   "energy MAE (kcal/mol)": _or_dash(block["accuracy"][p]["energy_mae_kcal"], ".2f")}
            for T in data["temperatures_K"]:
                r = by.get((p, T))
                row[f"crashes at {T:g} K"] = "\u2013" if r is None else f"{r['crashes']}/{r['runs']}"
            rows.append(row)
    return results_table(rows)


def proton_trace_figure(result: Mapping[str, Any], title: str = "Stretched enol O-H") -> go.Figure:
    """The H's distance (A) to its own (donor) oxygen and to the other (acceptor) oxygen vs time (fs), from
    :func:`npsnn_edu.gpr.experiments.stretched_oh_test`, with the reference O-H length dashed.

    Parameters
    ----------
    result : mapping
        Output of :func:`~npsnn_edu.gpr.experiments.stretched_oh_test`.
    title : str, default "Stretched enol O-H"
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = new_figure(title, "time (fs)", "H-O distance (A)")
    t = result["times_fs"]
    fig.add_trace(go.Scatter(x=t, y=result["donor_A"], name="H to its own O (stretched bond)",
                             line=dict(color=PALETTE[0])))
    fig.add_trace(go.Scatter(x=t, y=result["acceptor_A"], name="H to the other O", line=dict(color=PALETTE[3])))
    fig.add_hline(y=result["reference_A"], line_dash="dash", line_color="#000000")
    _legend_below(fig)
    return fig


def shipped_crash_table(result: Any, setting: str) -> Any:
    """The crash table of one model setting from the shipped result (``load_result("gpr_crash_table")``); a
    one-row table saying how to regenerate it when the shipped file does not contain that setting.

    Parameters
    ----------
    result : PrecomputedResult
        ``load_result("gpr_crash_table")``.
    setting : str
        Model setting (e.g. ``"force_trained"``).

    Returns
    -------
    ResultsTable
    """
    block = result.data.get("settings", {}).get(setting)
    if block is None:
        return results_table([{"setting": setting, "note": "not in the shipped table; regenerate with: "
                                                           + result.command}])
    return render_crash_table(block["rows"])


def prior_weight_figure(runs: Sequence[Any], title: str = "Prior weight along NVT runs") -> go.Figure:
    """Prior weight w(x) (log axis) vs time (fs) for MDRuns: w ~ 0 means the prior cannot act.

    Parameters
    ----------
    runs : sequence of MDRun
        NVT runs with recorded prior weights.
    title : str, default "Prior weight along NVT runs"
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = new_figure(title, "time (fs)", "prior weight w = 1 - k*^T C^-1 e")
    for k, run in enumerate(runs):
        label = f"{PRIOR_LABELS.get(run.prior, run.prior)} seed {run.seed}" + (" (crashed)" if run.crashed else "")
        w = np.clip(np.asarray(run.prior_weight, float), 1e-12, None)
        fig.add_trace(go.Scatter(x=run.times_fs[:len(w)], y=w, name=label,
                                 line=dict(color=PRIOR_COLORS.get(run.prior, PALETTE[k % len(PALETTE)]))))
    fig.update_yaxes(type="log", exponentformat="power")
    _legend_below(fig)
    return fig


def _legend_below(fig: go.Figure) -> None:
    """Legend at the bottom edge of the figure, below the x-axis title (the whole legend dict is set, so no
    partial update can inherit its container coordinates): never over the title, an axis title or the curves."""
    fig.update_layout(legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", xanchor="left",
                                  x=0.0), margin=dict(b=100))


def deviation_figure(runs: Sequence[Any], reference: Any, title: str = "Largest bonded-distance deviation",
                     threshold_A: float = 0.5) -> go.Figure:
    """Largest bonded-distance deviation (A) from ``reference`` (ase.Atoms) vs time (fs) for MDRuns, with the
    crash threshold dashed (:class:`npsnn_edu.gpr.experiments.CrashCriterion`).

    Parameters
    ----------
    runs : sequence of MDRun
        NVT runs.
    reference : ase.Atoms
        Reference geometry of the bonded distances.
    title : str, default "Largest bonded-distance deviation"
        Figure title.
    threshold_A : float, default 0.5
        Crash threshold (A).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    crit = CrashCriterion(reference, tolerance=threshold_A)
    fig = new_figure(title, "time (fs)", "deviation (A)")
    for k, run in enumerate(runs):
        label = PRIOR_LABELS.get(run.prior, run.prior) + (" (crashed)" if run.crashed else "")
        fig.add_trace(go.Scatter(x=run.times_fs, y=[crit.max_deviation(x) for x in run.frames], name=label,
                                 line=dict(color=PRIOR_COLORS.get(run.prior, PALETTE[k % len(PALETTE)]))))
    fig.add_hline(y=threshold_A, line_dash="dash", line_color="#000000", annotation_text="crash threshold",
                  annotation_position="top left")
    _legend_below(fig)
    return fig


def bond_trace_figure(results: Sequence[Mapping[str, Any]], title: str = "Stretched bond: pulled back?") -> go.Figure:
    """Bond length (A) vs time (fs) for results of :func:`npsnn_edu.gpr.experiments.stretched_bond_test`.

    Parameters
    ----------
    results : sequence of mappings
        Outputs of :func:`~npsnn_edu.gpr.experiments.stretched_bond_test`.
    title : str, default "Stretched bond: pulled back?"
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = new_figure(title, "time (fs)", "bond length (A)")
    for res in results:
        c = PRIOR_COLORS.get(res["prior"], PALETTE[-1])
        label = PRIOR_LABELS.get(res["prior"], res["prior"]) + (" (crashed)" if res["crashed"] else "")
        fig.add_trace(go.Scatter(x=res["times_fs"], y=res["bond_A"], name=label, line=dict(color=c)))
    if results:
        fig.add_hline(y=results[0]["reference_A"], line_dash="dash", line_color="#000000",
                      annotation_text="relaxed bond length")
    return fig


class GPRMDExplorer:
    """Widget panel for chapter 3: prior x lengthscale x temperature -> GP-driven NVT run.

    Attributes after a run: ``last_run`` (MDRun), ``model`` (the GPRPotential used), ``error`` (None after a
    success), ``n_runs``. Figures ``deviation_fig`` and ``energy_fig`` are FigureWidgets updated in place;
    ``view_box`` holds the nglview playback (``show_3d=True``). Display with ``display(explorer)``.

    Parameters
    ----------
    data : MoleculeData or None, default None
        Data set (None: load ``molecule``).
    molecule : str, default "malondialdehyde"
        Shipped molecule.
    n_train : int, default 1000
        Training geometries.
    prior : str, default "MF2"
        Initial prior.
    lengthscale : float, default 0.2
        Initial lengthscale (1/A).
    temperature_K : float, default 1000.0
        Initial temperature (K).
    duration_fs : float, default 1000.0
        Length of a run (fs).
    seed : int, default 0
        Seed of the runs.
    show_3d : bool, default True
        Show the nglview playback.
    auto_run : bool, default False
        Run once on construction.

    Raises
    ------
    UnknownNameError
        An unknown molecule or prior, a lengthscale that is not one of :data:`LENGTHSCALE_CHOICES`.
    InvalidParameterError
        ``data`` that is not a MoleculeData, ``n_train`` < 1 or more than the training set holds, a temperature
        or duration outside the controls' ranges (:data:`TEMPERATURE_RANGE_K`, :data:`DURATION_RANGE_FS`), a
        negative seed, a flag that is not True/False.
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "data": (None, InstanceOf(MoleculeData, hint="load one with npsnn_edu.gpr.data.load(...)")),
        "molecule": Options(MOLECULES),
        "n_train": AtLeast(1, integer=True),
        "prior": Rule(_check_prior, invalid="MF9"),
        "lengthscale": Rule(_check_lengthscale, invalid=0.123),
        "temperature_K": Interval(*TEMPERATURE_RANGE_K, hint="K, the range of the temperature slider"),
        "duration_fs": Interval(*DURATION_RANGE_FS, hint="fs, the range of the duration box"),
        "seed": AtLeast(0, integer=True),
        "show_3d": Boolean(),
        "auto_run": Boolean(),
    }

    def __init__(self, data: Any = None, *, molecule: str = "malondialdehyde", n_train: int = 1000,
                 prior: str = "MF2", lengthscale: float = 0.2, temperature_K: float = 1000.0,
                 duration_fs: float = 1000.0, seed: int = 0, show_3d: bool = True, auto_run: bool = False):
        import ipywidgets as w

        p = validate_params(self._parameter_constraints, {
            "data": data, "molecule": molecule, "n_train": n_train, "prior": prior, "lengthscale": lengthscale,
            "temperature_K": temperature_K, "duration_fs": duration_fs, "seed": seed, "show_3d": show_3d,
            "auto_run": auto_run})
        self.data = p["data"] if p["data"] is not None else load(p["molecule"])
        n_available = int((self.data.split == 0).sum())
        if p["n_train"] > n_available:
            raise InvalidParameterError(f"n_train must be <= {n_available} (the training geometries of "
                                        f"{self.data.molecule}), got {n_train}")
        self.reference = self.data.reference_atoms()
        self.criterion = CrashCriterion(self.reference)
        self.n_train = p["n_train"]
        self.show_3d = p["show_3d"]
        self.last_run: Any = None
        self.model: Any = None
        self.error: Exception | None = None
        self.n_runs = 0
        self._models: dict[tuple[str, float], Any] = {}
        prior, lengthscale = p["prior"], p["lengthscale"]

        style = {"description_width": "120px"}
        layout = w.Layout(width="360px")
        self.prior_dd = w.Dropdown(options=[(PRIOR_LABELS[p], p) for p in PRIOR_NAMES], value=prior,
                                   description="prior mean", style=style, layout=layout)
        self.lengthscale_sl = w.SelectionSlider(options=list(LENGTHSCALE_CHOICES), value=float(lengthscale),
                                                description="lengthscale (1/A)", style=style, layout=layout,
                                                continuous_update=False)
        self.temperature_sl = w.IntSlider(value=round(p["temperature_K"]), min=TEMPERATURE_RANGE_K[0],
                                          max=TEMPERATURE_RANGE_K[1], step=50,
                                          description="temperature (K)", style=style, layout=layout,
                                          continuous_update=False)
        self.duration_box = w.BoundedIntText(value=round(p["duration_fs"]), min=DURATION_RANGE_FS[0],
                                             max=DURATION_RANGE_FS[1], step=100,
                                             description="duration (fs)", style=style, layout=layout)
        self.seed_box = w.BoundedIntText(value=p["seed"], min=0, max=2**31 - 1, description="seed", style=style,
                                         layout=layout)
        self.run_button = w.Button(description="Run MD", button_style="primary", icon="play")
        self.status = w.HTML(value="<i>Choose a prior, a lengthscale and a temperature, then press Run MD.</i>")
        self.run_button.on_click(lambda _b: self.run())
        self.deviation_fig = line_figure([], {"largest bond deviation": []}, "Largest bonded-distance deviation",
                                         "time (fs)", "deviation (A)", widget=True, height=300)
        self.deviation_fig.add_hline(y=self.criterion.tolerance, line_dash="dash", line_color=PALETTE[1],
                                     annotation_text="crash threshold")
        self.energy_fig = line_figure([], {"GP potential energy": []}, "GP potential energy", "time (fs)",
                                      "E - E(relaxed) (eV)", widget=True, height=300)
        self.view_box = w.Box(layout=w.Layout(width="100%"))
        controls = w.VBox([self.prior_dd, self.lengthscale_sl, self.temperature_sl, self.duration_box, self.seed_box,
                           self.run_button, self.status])
        self.panel = w.VBox([w.HBox([controls, self.view_box]), w.HBox([self.deviation_fig, self.energy_fig])])
        if p["auto_run"]:
            self.run()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.panel)

    def get_model(self, prior: str, lengthscale: float) -> Any:
        """The GP for (prior, lengthscale) on the first ``n_train`` training geometries (cached).

        Parameters
        ----------
        prior : str
            Prior name.
        lengthscale : float
            Lengthscale (1/A).

        Returns
        -------
        GPRPotential
        """
        key = (canonical_prior_name(prior), float(lengthscale))
        if key not in self._models:
            self._models[key] = train_model(self.data, key[0], n_train=self.n_train, lengthscale=key[1])
        return self._models[key]

    def run(self) -> Any:
        """Run with the current widget values; never raises (errors go to ``status`` and ``error``)."""
        prior, ell = self.prior_dd.value, float(self.lengthscale_sl.value)
        T, dur, seed = float(self.temperature_sl.value), float(self.duration_box.value), int(self.seed_box.value)
        self.status.value = f"<i>training {html.escape(prior)} (l = {ell:g}) and running {dur:g} fs at {T:g} K...</i>"
        try:
            self.model = self.get_model(prior, ell)
            run = run_nvt(self.model, self.reference, T, duration_fs=dur, seed=seed, criterion=self.criterion)
        except (NpsnnError, ValueError, FloatingPointError) as exc:
            self.error = exc
            self.status.value = f"<b style='color:#D55E00'>Could not run:</b> {html.escape(str(exc))}"
            return None
        self.error = None
        self.last_run = run
        self.n_runs += 1
        self._update(run)
        return run

    def _update(self, run: Any) -> None:
        t = np.array([a.info["time"] / units.fs for a in run.images])
        dev = np.array([self.criterion.max_deviation(a.positions) for a in run.images])
        e = np.array([a.get_potential_energy() for a in run.images])
        e_ref = float(self.model.predict(self.reference.positions))
        with self.deviation_fig.batch_update():
            self.deviation_fig.data[0].x, self.deviation_fig.data[0].y = t, dev
        with self.energy_fig.batch_update():
            self.energy_fig.data[0].x, self.energy_fig.data[0].y = t, e - e_ref
        label = html.escape(PRIOR_LABELS[run.prior])
        if run.crashed:
            self.status.value = (f"<b style='color:#D55E00'>{label}: crashed after {run.time_to_crash_fs:.0f} fs</b> "
                                 f"at {run.temperature_K:g} K ({html.escape(run.reason)}).")
        else:
            self.status.value = (f"<b style='color:#009E73'>{label}: stable for {run.duration_fs:g} fs</b> at "
                                 f"{run.temperature_K:g} K (largest bond deviation {dev.max():.2f} A).")
        if self.show_3d:
            try:
                self.view_box.children = (show_trajectory(run.images, representation="ball+stick",
                                                          size=("420px", "320px")),)
            except Exception as exc:  # no viewer here: keep the panel alive
                import ipywidgets as w

                self.view_box.children = (w.HTML(f"<i>3D view unavailable: {html.escape(str(exc))}</i>"),)


def side_by_side(runs: Sequence[Any], titles: Sequence[str] | None = None, max_frames: int = 400) -> Any:
    """nglview playbacks of MD runs next to each other, driven by ONE play control and frame slider (frames
    linked in the browser), so runs that start from the same frame can be watched diverging. A run that
    crashed earlier stays on its last (crash) frame.

    Parameters
    ----------
    runs : sequence of MDRun
        The runs.
    titles : sequence of str or None, default None
        A title per run.
    max_frames : int, default 400
        Most frames per playback.

    Returns
    -------
    ipywidgets.Widget
    """
    import ipywidgets as w

    images = [list(run.images) for run in runs]
    n = max(len(im) for im in images)
    stride = max(1, int(np.ceil(n / max_frames)))
    images = [(im + [im[-1]] * (n - len(im)))[::stride] for im in images]
    n = len(images[0])
    play = w.Play(value=0, min=0, max=n - 1, step=1, interval=60, description="play")
    slider = w.IntSlider(value=0, min=0, max=n - 1, description="frame", continuous_update=True)
    w.jslink((play, "value"), (slider, "value"))
    boxes = []
    for k, (run, im) in enumerate(zip(runs, images)):
        title = titles[k] if titles else (f"{PRIOR_LABELS.get(run.prior, run.prior)}: "
                                          + (f"crashed at {run.time_to_crash_fs:.0f} fs" if run.crashed
                                             else f"stable {run.duration_fs:g} fs"))
        view = show_trajectory(im, representation="ball+stick", size=("420px", "320px"), max_frames=None)
        w.jslink((slider, "value"), (view, "frame"))
        boxes.append(w.VBox([w.HTML(f"<b>{html.escape(title)}</b>"), view]))
    panel = w.VBox([w.HBox([play, slider]), w.HBox(boxes)])
    panel.play, panel.slider = play, slider
    return panel
