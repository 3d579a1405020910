"""Chapter 2 widget: a time-step slider that reruns several integrators side by side.

:class:`DtSliderExplorer` shows, for the harmonic oscillator or a Morse molecule at high energy,
the trajectory, the phase portrait and the energy error of several core integrators at the slider's dt.
Moving the slider recomputes everything server side and updates the traces of ONE plotly FigureWidget in
place (no new figure).  A diverging integrator never raises: its partial trajectory is drawn and a message
names the step where the core's divergence detection stopped it.

Testable without a browser: call :meth:`DtSliderExplorer.update` (or set ``explorer.slider.value``) and
inspect ``explorer.figure.data`` and ``explorer.messages``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analytic import harmonic_solution
from ..errors import InvalidParameterError, SimulationDivergedError
from ..integrators import integrator_class, simulate
from ..md.stability import (
    ANALYTIC_STABILITY_LIMITS,
    canonical_integrator,
    fastest_vibration,
    morse_at_energy,
    morse_solution,
    spectral_radius_curve,
)
from ..potentials import Harmonic
from ..validation import AtLeast, Constraints, Interval, Options, Positive, Rule, check_param, validate_params
from .plots import PALETTE, TEMPLATE, line_figure, new_figure, readable_axes, show_figure_in

SYSTEMS = ("harmonic", "morse")
#: Floor for the energy error on the log axis (an exact zero cannot be drawn).
ENERGY_FLOOR = 1e-16


@dataclass
class SliderRun:
    """One integrator's run at one dt: coordinate q(t) (position or bond length), its velocity p(t), and the
    relative energy error |E - E0| / |E0|; ``diverged_step`` is set when the core stopped the run.

    Parameters
    ----------
    integrator : str
        Integrator name.
    times : array of shape (n_frames,)
        Times (tau).
    q : array of shape (n_frames,)
        Coordinate (sigma).
    p : array of shape (n_frames,)
        Its velocity (sigma/tau).
    energy_error : array of shape (n_frames,)
        |E - E0| / |E0|.
    diverged_step : int or None
        Step at which the core stopped the run.
    message : str
        What happened, in words.
    """

    integrator: str
    times: np.ndarray
    q: np.ndarray
    p: np.ndarray
    energy_error: np.ndarray
    diverged_step: int | None
    message: str


def _check_integrators(name: str, integrators: Any) -> list[str]:
    """Core names of a non-empty sequence of integrator names (a single name is refused: it is not a list)."""
    if isinstance(integrators, str) or not isinstance(integrators, (list, tuple)) or not integrators:
        raise InvalidParameterError(f"{name} must be a non-empty list of integrator names, got {integrators!r} "
                                    "(e.g. integrators=('velocity_verlet',))")
    return [canonical_integrator(n) for n in integrators]


def _window(values: np.ndarray, margin: float = 0.6, floor: float | None = None) -> tuple[float, float]:
    """Axis range around ``values`` with ``margin`` times their span added on each side."""
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = margin * max(hi - lo, 1e-12)
    lo, hi = lo - pad, hi + pad
    return (max(lo, floor) if floor is not None else lo), hi


class DtSliderExplorer:
    """Interactive dt slider: trajectory, phase portrait and energy error for several integrators.

    Parameters
    ----------
    system : {"harmonic", "morse"}, default "harmonic"
        Harmonic oscillator (k = m = 1, x0 = 1: omega = 1, period 2 pi) or 1D Morse diatomic (D_e = a = r_e = 1,
        unit masses, started at rest on the inner wall with ``morse_fraction`` of the well depth as energy).
    integrators : sequence of str, default ("euler", "velocity_verlet", "rk4")
        Core integrator names drawn side by side.
    dt : float, default 0.1
        Initial time step (reduced time units).
    n_steps : int, default 1000
        Steps per run (1000: what one slider move costs).
    morse_fraction : float, default 0.7
        Vibrational energy of the Morse start as a fraction of the well depth.
    dt_min, dt_max : float, default 0.01, 2.5
        Range of the slider (tau).
    blowup_factor : float or None, default 100.0
        Passed to :func:`~npsnn_edu.integrators.simulate` (its divergence detection).
    height : int, default 420
        Figure height (px).

    Raises
    ------
    UnknownNameError
        An unknown system or integrator.
    InvalidParameterError
        No integrator, ``n_steps`` < 1, a non-positive dt or one outside [``dt_min``, ``dt_max``] (the slider
        would clamp it), ``morse_fraction`` outside (0, 1) (a bound orbit), ``dt_min`` >= ``dt_max``.
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "system": Options(SYSTEMS, normalise=True),
        "integrators": Rule(_check_integrators, invalid=()),
        "dt": Positive(hint="the time step in tau, e.g. dt=0.1"),
        "n_steps": AtLeast(1, integer=True),
        "morse_fraction": Interval(0.0, 1.0, closed="neither", hint="fraction of the well depth: a bound orbit"),
        "dt_min": Positive(hint="the slider's smallest dt in tau"),
        "dt_max": Positive(hint="the slider's largest dt in tau"),
        "blowup_factor": (None, Positive(hint="or None to only stop on non-finite energies")),
        "height": AtLeast(200, integer=True, hint="figure height in px"),
    }

    def __init__(self, system: str = "harmonic", integrators: Sequence[str] = ("euler", "velocity_verlet", "rk4"),
                 dt: float = 0.1, n_steps: int = 1000, *, morse_fraction: float = 0.7, dt_min: float = 0.01,
                 dt_max: float = 2.5, blowup_factor: float | None = 100.0, height: int = 420):
        p = validate_params(self._parameter_constraints, {
            "system": system, "integrators": integrators, "dt": dt, "n_steps": n_steps,
            "morse_fraction": morse_fraction, "dt_min": dt_min, "dt_max": dt_max, "blowup_factor": blowup_factor,
            "height": height})
        if not p["dt_min"] < p["dt_max"]:
            raise InvalidParameterError(f"dt_min must be smaller than dt_max, got {dt_min} and {dt_max}")
        if not p["dt_min"] <= p["dt"] <= p["dt_max"]:
            raise InvalidParameterError(f"dt must lie in the slider's range [{dt_min:g}, {dt_max:g}], got {dt!r}; "
                                        "choose dt inside it or widen dt_min/dt_max")
        self.integrators, self.system, self.n_steps = p["integrators"], p["system"], p["n_steps"]
        self.morse_fraction, self.blowup_factor, self.dt = p["morse_fraction"], p["blowup_factor"], p["dt"]
        dt_min, dt_max, height = p["dt_min"], p["dt_max"], p["height"]
        self.messages: list[str] = []
        self.runs: dict[str, SliderRun] = {}
        import ipywidgets as w

        # a plain Figure updated in place and shown through an Output widget (plotly's mime renderer): a live
        # FigureWidget's updates can be lost before the front end attaches (Run All), and with anywidget 0.11 +
        # plotly 7.1 a FigureWidget rendered no traces at all in JupyterLab (measured in Chromium)
        self.figure = self._build_figure(height)
        self.figure_output = w.Output(layout=w.Layout(width="884px", max_width="100%", overflow="hidden"))
        self.message_box = w.HTML()
        self.update()
        self.slider, self.system_picker, _, self.widget = self._build_controls(dt_min, dt_max)

    # -- validation --------------------------------------------------------------------------------
    @classmethod
    def _check_system(cls, system: str) -> str:
        return check_param("system", system, cls._parameter_constraints["system"])

    @classmethod
    def _check_dt(cls, dt: float) -> float:
        return check_param("dt", dt, cls._parameter_constraints["dt"])

    # -- figure and controls ---------------------------------------------------------------------------
    def _build_figure(self, height: int) -> Any:
        # wide gaps between the panels: each has its own y title, which must not run into its neighbour
        base = make_subplots(rows=1, cols=3, horizontal_spacing=0.12,
                             subplot_titles=("trajectory q(t)", "phase portrait", "energy error"))
        fig = go.Figure(base)
        fig.update_layout(template=TEMPLATE, height=height, width=880, autosize=False,
                          margin=dict(l=60, r=20, t=90, b=50), title=dict(y=0.98, yanchor="top"),
                          legend=dict(orientation="h", yanchor="bottom", y=1.1, xanchor="left", x=0))
        for k, name in enumerate(self.integrators):
            color = PALETTE[k % len(PALETTE)]
            for col in (1, 2, 3):
                fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, legendgroup=name,
                                         showlegend=(col == 1), line=dict(color=color)), row=1, col=col)
        for col in (1, 2):
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name="exact", legendgroup="exact", showlegend=(col == 1),
                                     line=dict(color="black", dash="dot", width=1)), row=1, col=col)
        fig.update_xaxes(title_text="t (tau)", row=1, col=1)
        fig.update_yaxes(title_text="q (sigma)", row=1, col=1)
        fig.update_xaxes(title_text="q (sigma)", row=1, col=2)
        fig.update_yaxes(title_text="dq/dt (sigma/tau)", row=1, col=2)
        fig.update_xaxes(title_text="t (tau)", row=1, col=3)
        fig.update_yaxes(title_text="|E - E0| / |E0|", type="log", exponentformat="power", row=1, col=3)
        readable_axes(fig)
        return fig

    def _build_controls(self, dt_min: float, dt_max: float) -> tuple[Any, Any, Any, Any]:
        import ipywidgets as w

        slider = w.FloatSlider(value=self.dt, min=float(dt_min), max=float(dt_max), step=0.01, description="dt (tau)",
                               continuous_update=False, readout_format=".3f", layout=w.Layout(width="420px"))
        picker = w.Dropdown(options=list(SYSTEMS), value=self.system, description="system")
        box = self.message_box
        slider.observe(lambda change: self.update(dt=change["new"]), names="value")
        picker.observe(lambda change: self.update(system=change["new"]), names="value")
        return slider, picker, box, w.VBox([w.HBox([slider, picker]), box, self.figure_output])

    def _ipython_display_(self) -> None:  # pragma: no cover - needs a front end
        from IPython.display import display

        display(self.widget)

    # -- computation -------------------------------------------------------------------------------
    def _setup(self) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, float]:
        if self.system == "harmonic":
            pot, masses = Harmonic(k=1.0), np.array([1.0])
            return pot, np.array([[1.0]]), np.zeros((1, 1)), masses, fastest_vibration(pot, masses)
        sys = morse_at_energy(self.morse_fraction)
        return sys.potential, sys.positions, sys.velocities, sys.masses, fastest_vibration(sys.potential, sys.masses)

    def _observables(self, traj: Any) -> tuple[np.ndarray, np.ndarray]:
        if self.system == "harmonic":
            return traj.positions[:, 0, 0], traj.velocities[:, 0, 0]
        bond = traj.positions[:, 1, 0] - traj.positions[:, 0, 0]
        return bond, traj.velocities[:, 1, 0] - traj.velocities[:, 0, 0]

    def compute(self, dt: float | None = None) -> dict[str, SliderRun]:
        """Run every integrator for ``n_steps`` at ``dt`` (default: the current one); never raises on divergence.

        Parameters
        ----------
        dt : float or None, default None
            Time step (tau; None: the current one).

        Returns
        -------
        dict of str to SliderRun
        """
        dt = self.dt if dt is None else self._check_dt(dt)
        pot, x0, v0, masses, omega = self._setup()
        self._omega = omega
        runs: dict[str, SliderRun] = {}
        for name in self.integrators:
            step, message = None, ""
            try:
                traj = simulate(pot, x0, v0, dt=dt, n_steps=self.n_steps,
                                integrator=integrator_class(name).deterministic(dt), masses=masses,
                                blowup_factor=self.blowup_factor, progress=False)
            except SimulationDivergedError as exc:
                traj, step = exc.trajectory, exc.step
                h_star = ANALYTIC_STABILITY_LIMITS[name]
                if h_star == 0.0:
                    why = "explicit Euler is unstable at every dt on an oscillator"
                elif self.system == "harmonic":
                    why = f"omega*dt = {omega * dt:.3g}, beyond its stability limit {h_star:.3g}"
                else:
                    why = (f"omega*dt = {omega * dt:.3g} at the bottom of the well (limit {h_star:.3g}); the steep "
                           "inner wall is stiffer and sets the real limit")
                message = f"{name} diverged at step {exc.step} (t = {exc.time:.4g}): {exc.reason}. ({why})"
            q, p = self._observables(traj)
            e = traj.total_energy
            err = np.maximum(np.abs(e - e[0]) / max(abs(e[0]), 1e-300), ENERGY_FLOOR)
            if not message and self.system == "morse" and e[-1] > 0 > e[0]:
                message = (f"{name}: the energy error pushed E above 0: the molecule dissociated numerically "
                           f"(no blow-up, but wrong physics)")
            runs[name] = SliderRun(name, traj.times, q, p, err, step, message)
        return runs

    def exact(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The exact q(t), dq/dt(t) of the current system (harmonic or Morse closed form).

        Parameters
        ----------
        times : array of shape (n_frames,)
            Times (tau).

        Returns
        -------
        q, v : arrays of shape (n_frames,)
        """
        if self.system == "harmonic":
            return harmonic_solution(times, 1.0, 0.0, 1.0)
        return morse_solution(times, -(1.0 - self.morse_fraction))

    def update(self, dt: float | None = None, system: str | None = None) -> list[str]:
        """Recompute at ``dt`` / for ``system`` and update the figure's traces in place; returns the messages.

        Parameters
        ----------
        dt : float or None, default None
            Time step (tau; None: the current one).
        system : str or None, default None
            ``"harmonic"`` or ``"morse"`` (None: the current one).

        Returns
        -------
        list of str
        """
        if dt is not None:
            self.dt = self._check_dt(dt)
        if system is not None:
            self.system = self._check_system(system)
        self.runs = self.compute()
        self.redraw()
        return self.messages

    def redraw(self) -> None:
        """Push the current runs into the FigureWidget's existing traces and refresh the message box."""
        # the exact curve is sampled finely (>= 20 points per period), not at the integrator's steps, so that
        # it does not alias into a wrong-looking curve when dt is large
        t_end = self.n_steps * self.dt
        n_exact = int(min(20_000, max(self.n_steps + 1, np.ceil(20 * t_end * self._omega / (2 * np.pi)) + 1)))
        times = np.linspace(0.0, t_end, n_exact)
        qx, px = self.exact(times)
        fig = self.figure
        n = len(self.integrators)
        with fig.batch_update():
            for k, name in enumerate(self.integrators):
                run = self.runs[name]
                fig.data[3 * k].x, fig.data[3 * k].y = run.times, run.q
                fig.data[3 * k + 1].x, fig.data[3 * k + 1].y = run.q, run.p
                fig.data[3 * k + 2].x, fig.data[3 * k + 2].y = run.times, run.energy_error
            fig.data[3 * n].x, fig.data[3 * n].y = times, qx
            fig.data[3 * n + 1].x, fig.data[3 * n + 1].y = qx, px
            # fixed windows around the exact motion: a run that blows up or dissociates visibly leaves the box
            # instead of rescaling the axes until the stable runs become flat lines
            q_lo, q_hi = _window(qx, floor=0.0 if self.system == "morse" else None)
            p_lo, p_hi = _window(px)
            fig.layout.xaxis.range = [0.0, t_end]
            fig.layout.yaxis.range = [q_lo, q_hi]
            fig.layout.xaxis2.range = [q_lo, q_hi]
            fig.layout.yaxis2.range = [p_lo, p_hi]
            fig.layout.xaxis3.range = [0.0, t_end]
            fig.layout.title.text = (f"{self.system}: dt = {self.dt:.3g}, {self.n_steps} steps "
                                     f"(omega_min*dt = {self._omega * self.dt:.3g})")
        show_figure_in(self.figure_output, fig)
        self.messages = [r.message for r in self.runs.values() if r.message]
        if self.messages:
            items = "".join(f"<li>{m}</li>" for m in self.messages)
            self.message_box.value = f"<b style='color:#D55E00'>Warning</b><ul>{items}</ul>"
        else:
            self.message_box.value = "<span style='color:#009E73'>all integrators ran to the end</span>"


# ------------------------------------------------------------------------------------------------
# Static chapter-2 figures (built on the shared helpers of viz.plots)
# ------------------------------------------------------------------------------------------------
def stability_diagram_figure(hs: Any = None, integrators: Sequence[str] = ("euler", "symplectic_euler",
                                                                            "velocity_verlet", "rk4"),
                             *, friction: float = 0.0) -> Any:
    """Spectral radius of the measured amplification matrix versus h = omega dt, one curve per integrator,
    with the line rho = 1 and the analytic limits marked (2 and 2 sqrt 2).

    Parameters
    ----------
    hs : array or None, default None
        Values of h = omega dt (None: 320 points from 0.01 to 3.2).
    integrators : sequence of str
        Integrator names.
    friction : float, default 0.0
        Friction of ``"langevin"``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    hs = np.linspace(0.01, 3.2, 320) if hs is None else np.asarray(hs, dtype=float)
    curves = {name: spectral_radius_curve(name, hs, friction=friction if integrator_class(name).thermostat else 0.0)
              for name in integrators}
    fig = line_figure(hs, curves, "Stability diagram: spectral radius of one step", "h = omega dt (dimensionless)",
                      "spectral radius rho(M)", dash={"velocity_verlet": "dash"})
    fig.add_hline(y=1.0, line_color="gray", line_dash="dot")
    for h_star, label in ((2.0, "h = 2"), (2.0 * np.sqrt(2.0), "h = 2 sqrt 2")):
        fig.add_vline(x=h_star, line_color="gray", line_dash="dot", annotation_text=label)
    fig.update_yaxes(range=[0.0, 3.0])
    return legend_below(readable_axes(fig))


def legend_below(fig: Any, *, y: float = -0.28, bottom_margin: int = 120) -> Any:
    """Move a figure's legend below the x axis (horizontal), so it can overlap neither the title nor another
    legend at any screen width; adds ``bottom_margin`` pixels for it. Returns the figure.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (changed in place).
    y : float, default -0.28
        Legend position in paper coordinates.
    bottom_margin : int, default 120
        Bottom margin (px).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=y, xanchor="left", x=0.0),
                      margin=dict(b=bottom_margin, t=60))
    return fig


def energy_error_figure(runs: Mapping[str, Any], title: str = "Energy error versus time") -> Any:
    """|E(t) - E0| / |E0| on a log axis, one curve per run (objects with ``times`` and ``relative_error``, e.g.
    :class:`~npsnn_edu.md.stability.EnergyErrorResult`). The log axis fits every curve, from a bounded oscillation
    of 1e-3 to a drift that grows by many orders of magnitude; exact zeros are drawn at :data:`ENERGY_FLOOR`.

    Parameters
    ----------
    runs : mapping of str to EnergyErrorResult
        Runs by legend name.
    title : str, default "Energy error versus time"
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = new_figure(title, "t (tau)", "|E - E0| / |E0| (dimensionless)", log_y=True, height=460)
    tops, lows = [], []
    for k, (name, run) in enumerate(runs.items()):
        err = np.maximum(np.abs(np.asarray(run.relative_error, dtype=float)), ENERGY_FLOOR)
        fig.add_trace(go.Scatter(x=np.asarray(run.times), y=err, mode="lines", name=name,
                                 line=dict(color=PALETTE[k % len(PALETTE)], width=2)))
        tops.append(float(np.max(err)))
        nonzero = err[err > ENERGY_FLOOR]
        if nonzero.size:  # the bulk of each curve is shown; exact zeros (turning points) dip out at the bottom
            lows.append(float(np.percentile(nonzero, 5)))
    if tops:
        low = np.log10(min(lows)) - 0.5 if lows else np.log10(ENERGY_FLOOR)
        fig.update_yaxes(range=[max(low, np.log10(ENERGY_FLOOR)), np.log10(max(tops)) + 0.5],
                         exponentformat="power")
    return legend_below(readable_axes(fig))


def drift_scan_figure(scans: "Any | Sequence[Any]", title: str = "Energy error versus time step",
                      labels: "Sequence[str] | None" = None) -> Any:
    """max |dE/E0| versus dt for one or several :class:`~npsnn_edu.md.stability.DtScanResult` (log-log).

    One legend entry per scan (``labels``, default: the scans' system names); a diverged run is drawn as a cross
    at the top of the plot in its scan's colour (no extra legend entry; hover says where it blew up); each scan's
    accuracy tolerance is a dashed horizontal line, its linear limit at the minimum a dotted vertical line and
    at the closest approach a dash-dotted one (described in the axis note, not in the legend). Legend below the
    plot.

    Parameters
    ----------
    scans : DtScanResult or sequence of DtScanResult
        The scans.
    title : str, default "Energy error versus time step"
        Figure title.
    labels : sequence of str or None, default None
        Legend names (None: the systems' names).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    scans = [scans] if not isinstance(scans, (list, tuple)) else list(scans)
    labels = [s.system for s in scans] if labels is None else list(labels)
    if len(labels) != len(scans):
        raise InvalidParameterError(f"give one label per scan: {len(scans)} scans, {len(labels)} labels")
    fig = new_figure(title, "dt (tau)", "max |E(t) - E0| / |E0|", log_x=True, log_y=True,
                     height=440)
    finite = [d for s in scans for d in s.drift[np.isfinite(s.drift)] if d > 0]
    top = 10 * max(finite) if finite else 1.0
    low = min(finite) / 10 if finite else 1e-6
    for k, (scan, label) in enumerate(zip(scans, labels)):
        color = PALETTE[k % len(PALETTE)]
        ok = ~scan.diverged
        fig.add_trace(go.Scatter(x=scan.dts[ok], y=scan.drift[ok], mode="lines+markers", name=label,
                                 legendgroup=label, line=dict(color=color)))
        if scan.diverged.any():
            steps = [s for s in scan.diverged_step if s is not None]
            fig.add_trace(go.Scatter(x=scan.dts[~ok], y=np.full(int((~ok).sum()), top), mode="markers",
                                     name=f"{label}: blew up", legendgroup=label, showlegend=False,
                                     marker=dict(symbol="x", size=11, color=color),
                                     text=[f"blew up at step {s}" for s in steps], hoverinfo="x+text"))
        fig.add_vline(x=scan.dt_linear_limit, line_color=color, line_dash="dot")
        if np.isfinite(scan.omega_closest_approach):
            fig.add_vline(x=scan.dt_limit_closest_approach, line_color=color, line_dash="dashdot")
    for tol in sorted({s.energy_tolerance for s in scans}):
        fig.add_hline(y=tol, line_color="gray", line_dash="dash")
    fig.update_yaxes(range=[np.log10(low), np.log10(top) + 0.3], exponentformat="power")
    xs = [float(d) for s in scans for d in s.dts] + [s.dt_linear_limit for s in scans]
    xs += [s.dt_limit_closest_approach for s in scans if np.isfinite(s.omega_closest_approach)]
    fig.update_xaxes(range=[np.log10(min(xs)) - 0.1, np.log10(max(xs)) + 0.1])  # every point and limit line inside
    return legend_below(readable_axes(fig))
