"""An interactive MD explorer for chapter 1 (ipywidgets + plotly FigureWidgets + nglview).

Pick a potential (harmonic, Morse, Lennard-Jones liquid, double well), the initial condition (a displacement
for the one-particle/diatomic systems, a temperature for the liquid), the integrator, the time step and the
number of steps, then press *Run*.  The figures (energy, temperature, phase portrait) are updated in place and,
for the liquid, the 3D view shows the new trajectory.

Everything is in reduced units (sigma = epsilon = m = k_B = 1; time in tau).  A run that blows up (too large a
time step, explicit Euler...) shows a friendly message naming the step, and keeps the previous results: the
kernel never crashes.  The logic lives in :class:`MDExplorer` and does not need a browser:
``explorer.run()`` (or ``explorer.run_button.click()``) runs synchronously and returns the trajectory.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import numpy as np

from ..errors import InvalidParameterError, NpsnnError, ShapeMismatchError, SimulationDivergedError, unknown_name
from ..integrators import integrator_class, simulate
from ..systems import SYSTEMS, System, double_well_particle, harmonic_oscillator, lj_fcc_system, morse_diatomic
from ..trajectory import Trajectory
from ..validation import AtLeast, Boolean, Constraints, Interval, Rule, check_param, validate_params
from .playback import ViewerUnavailableError, show_trajectory
from .plots import PALETTE, energy_figure, line_figure, new_figure, readable_axes, show_figure_in

#: Potentials offered by the explorer: label shown in the dropdown -> key.
POTENTIAL_CHOICES = {"Harmonic oscillator": "harmonic", "Morse diatomic": "morse",
                     "Lennard-Jones liquid (108 atoms)": "lennard-jones", "Double well": "double-well"}
#: Integrators offered (label -> name understood by npsnn_edu.integrators.get_integrator).
INTEGRATOR_CHOICES = {"velocity Verlet": "velocity_verlet", "symplectic Euler": "symplectic_euler",
                      "explicit Euler": "euler", "RK4": "rk4", "Langevin (BAOAB, NVT)": "langevin"}
#: Ranges of the panel's controls (reduced units): the explorer refuses a value outside them (a widget would
#: silently clamp it).  dt in tau, displacement in sigma, temperature in epsilon/k_B.
DT_RANGE = (1e-5, 5.0)
DISPLACEMENT_RANGE = (-0.9, 3.0)
TEMPERATURE_RANGE = (0.0, 4.0)


@dataclass(frozen=True)
class Defaults:
    """Teaching defaults for one potential (reduced units).

    Parameters
    ----------
    dt : float
        Time step (tau).
    n_steps : int
        Steps.
    displacement : float, default 0.0
        Initial displacement (sigma).
    temperature : float, default 1.0
        Initial reduced temperature.
    """

    dt: float
    n_steps: int
    displacement: float = 0.0
    temperature: float = 1.0


DEFAULTS = {
    # omega = 1, period 2 pi: dt = 0.05 is ~125 steps per period
    "harmonic": Defaults(dt=0.05, n_steps=1000, displacement=1.0),
    # D_e = 1, a = 1, m = 1 (reduced mass 1/2): small-amplitude period pi
    "morse": Defaults(dt=0.02, n_steps=1000, displacement=0.5),
    # melts from the FCC crystal at T0 = 1.5 (ends near T = 0.75)
    "lennard-jones": Defaults(dt=0.005, n_steps=1000, temperature=1.5),
    # barrier 1, minima at +-1; a displacement of 0.5 from the right minimum crosses the barrier
    "double-well": Defaults(dt=0.02, n_steps=1000, displacement=0.5),
}


def _key(potential: str) -> str:
    label = POTENTIAL_CHOICES.get(potential, potential)
    key = SYSTEMS.resolve(label).replace("_", "-") if label in SYSTEMS else str(label)
    if key not in DEFAULTS:
        raise unknown_name("potential", potential, list(DEFAULTS))
    return key


def _check_potential(name: str, potential: Any) -> str:
    """The explorer's key of ``potential`` (a key, a dropdown label or a core system name)."""
    return _key(potential)


def _check_integrator(name: str, integrator: Any) -> str:
    """The core name of one of the explorer's integrators (a name or a dropdown label)."""
    integ = integrator_class(INTEGRATOR_CHOICES.get(integrator, integrator)).name
    if integ not in INTEGRATOR_CHOICES.values():
        raise unknown_name("integrator", integrator, list(INTEGRATOR_CHOICES.values()))
    return integ


def build_system(potential: str, *, displacement: float | None = None, temperature: float | None = None,
                 seed: int = 0) -> System:
    """The explorer's system for ``potential`` with the given initial condition (reduced units).

    * harmonic: one particle (k = m = 1) released at x0 = displacement;
    * morse: a D_e = a = r_e = 1 dimer released at r = r_e + displacement;
    * double-well: one particle released at x0 = x_min + displacement (barrier 1, x_min = 1);
    * lennard-jones: 108 atoms, FCC at density 0.8442, Maxwell-Boltzmann velocities at ``temperature``.

    Parameters
    ----------
    potential : str
        ``"harmonic"``, ``"morse"``, ``"double-well"`` or ``"lennard-jones"``.
    displacement : float or None, default None
        Initial displacement (sigma; None: the default).
    temperature : float or None, default None
        Initial temperature of the liquid (reduced; None: the default).
    seed : int, default 0
        Seed of the velocities.

    Returns
    -------
    System

    Raises
    ------
    UnknownNameError
        An unknown potential.
    InvalidParameterError
        A non-finite displacement, a Morse stretch that puts the atoms on top of each other, or a negative
        temperature.
    """
    key = _key(potential)
    d = DEFAULTS[key]
    disp = d.displacement if displacement is None else float(displacement)
    temp = d.temperature if temperature is None else float(temperature)
    if not np.isfinite(disp):
        raise InvalidParameterError(f"displacement must be a finite number, got {displacement!r}")
    if key == "harmonic":
        return harmonic_oscillator(x0=disp)
    if key == "morse":
        if disp <= -1.0:
            raise InvalidParameterError(f"a Morse stretch of {disp} would put the atoms on top of each other; "
                                        "use a displacement > -1 (r = 1 + displacement)")
        return morse_diatomic(stretch=disp)
    if key == "double-well":
        return double_well_particle(x0=1.0 + disp, v0=0.0)
    if not np.isfinite(temp) or temp < 0:
        raise InvalidParameterError(f"temperature must be >= 0 (reduced units, 1 = epsilon/k_B), got {temperature!r}")
    return lj_fcc_system(n_cells=3, temperature=temp, seed=seed)


def phase_coordinates(traj: Trajectory) -> tuple[np.ndarray, np.ndarray, str, str]:
    """What the explorer plots in its phase portrait: (q, p-like velocity, q label, v label).

    A dimer uses the bond length r = |x1 - x0| and dr/dt; otherwise particle 0's x coordinate and velocity.

    Parameters
    ----------
    traj : Trajectory
        The run.

    Returns
    -------
    q : array of shape (n_frames,)
    v : array of shape (n_frames,)
    q_label, v_label : str
    """
    if traj.n_atoms == 2 and traj.box is None:
        d = traj.positions[:, 1] - traj.positions[:, 0]
        r = np.linalg.norm(d, axis=-1)
        dv = traj.velocities[:, 1] - traj.velocities[:, 0]
        vr = np.einsum("fd,fd->f", d, dv) / np.maximum(r, 1e-300)
        return r, vr, "bond length r (sigma)", "dr/dt (sigma/tau)"
    return traj.positions[:, 0, 0], traj.velocities[:, 0, 0], "x of particle 0 (sigma)", "v_x (sigma/tau)"


class MDExplorer:
    """Widget panel: choose a potential, initial condition, integrator, dt and steps; Run; see the results.

    Attributes after a run: ``trajectory`` (the last successful :class:`Trajectory`), ``settings`` (the
    parameters it was run with), ``error`` (the last exception, None after a success), ``n_runs``.
    Figures: ``energy_fig``, ``temperature_fig``, ``phase_fig`` (plotly ``FigureWidget``), updated in place;
    ``view_box`` holds the nglview view of the liquid. Display the panel with ``display(explorer)``.

    Parameters
    ----------
    potential : str, default "harmonic"
        Initial potential.
    integrator : str, default "velocity_verlet"
        Initial integrator.
    dt : float or None, default None
        Time step (tau; None: the potential's default).
    n_steps : int or None, default None
        Steps (None: the default).
    displacement : float or None, default None
        Initial displacement (sigma).
    temperature : float or None, default None
        Initial temperature of the liquid (reduced).
    show_3d : bool, default True
        Show the nglview view.
    max_steps : int, default 20000
        Largest number of steps the controls allow.
    auto_run : bool, default False
        Run once on construction.
    seed : int, default 0
        Seed of the initial velocities.

    Raises
    ------
    UnknownNameError
        An unknown potential or integrator.
    InvalidParameterError
        A value outside the range of its control (:data:`DT_RANGE`, :data:`DISPLACEMENT_RANGE`,
        :data:`TEMPERATURE_RANGE`; ``n_steps`` in [1, ``max_steps``]), a flag that is not True/False, a negative
        seed.  :meth:`run` and :meth:`current_settings` check their overrides the same way.
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "potential": Rule(_check_potential, invalid="no_such_potential"),
        "integrator": Rule(_check_integrator, invalid="no_such_integrator"),
        "dt": (None, Interval(*DT_RANGE, hint="time step in tau, the range of the dt box")),
        "n_steps": (None, AtLeast(1, integer=True)),
        "displacement": (None, Interval(*DISPLACEMENT_RANGE, hint="sigma, the range of the displacement slider")),
        "temperature": (None, Interval(*TEMPERATURE_RANGE, hint="epsilon/k_B, the range of the temperature slider")),
        "show_3d": Boolean(),
        "max_steps": AtLeast(1, integer=True),
        "auto_run": Boolean(),
        "seed": AtLeast(0, integer=True),
    }

    #: Above this many particle-steps a tqdm progress bar is shown during a run.
    progress_threshold = 100_000
    #: The 3D view gets at most this many frames.
    max_view_frames = 200
    #: Width of each figure and of the 3D view, in pixels (two side by side: 2 x 410 px plus the controls' column
    #: fit a 1366 px laptop screen with JupyterLab's side bar open).
    figure_width = 410
    figure_height = 300

    def __init__(self, potential: str = "harmonic", *, integrator: str = "velocity_verlet", dt: float | None = None,
                 n_steps: int | None = None, displacement: float | None = None, temperature: float | None = None,
                 show_3d: bool = True, max_steps: int = 20_000, auto_run: bool = False, seed: int = 0):
        import ipywidgets as w

        p = validate_params(self._parameter_constraints, {
            "potential": potential, "integrator": integrator, "dt": dt, "n_steps": n_steps,
            "displacement": displacement, "temperature": temperature, "show_3d": show_3d, "max_steps": max_steps,
            "auto_run": auto_run, "seed": seed})
        key, integ, max_steps = p["potential"], p["integrator"], p["max_steps"]
        d = DEFAULTS[key]
        dt, displacement, temperature = p["dt"], p["displacement"], p["temperature"]
        n_steps = d.n_steps if p["n_steps"] is None else p["n_steps"]
        if n_steps > max_steps:
            raise InvalidParameterError(f"n_steps must be <= max_steps ({max_steps}), got {n_steps}; "
                                        f"pass max_steps={n_steps} to allow longer runs")
        self.show_3d = p["show_3d"]
        self.seed = p["seed"]
        self.trajectory: Trajectory | None = None
        self.settings: dict[str, Any] | None = None
        self.error: Exception | None = None
        self.n_runs = 0
        self.view: Any = None
        self._log_used = False

        style = {"description_width": "110px"}
        layout = w.Layout(width="340px")
        self.potential_dd = w.Dropdown(options=list(POTENTIAL_CHOICES.items()), value=key, description="potential",
                                       style=style, layout=layout)
        self.integrator_dd = w.Dropdown(options=list(INTEGRATOR_CHOICES.items()), value=integ,
                                        description="integrator", style=style, layout=layout)
        self.displacement_sl = w.FloatSlider(value=d.displacement if displacement is None else displacement,
                                             min=DISPLACEMENT_RANGE[0], max=DISPLACEMENT_RANGE[1], step=0.05,
                                             description="displacement", style=style, layout=layout,
                                             continuous_update=False)
        self.temperature_sl = w.FloatSlider(value=d.temperature if temperature is None else temperature,
                                            min=TEMPERATURE_RANGE[0], max=TEMPERATURE_RANGE[1], step=0.05,
                                            description="temperature T0", style=style, layout=layout,
                                            continuous_update=False)
        self.dt_box = w.BoundedFloatText(value=d.dt if dt is None else dt, min=DT_RANGE[0], max=DT_RANGE[1],
                                         step=0.001, description="dt (tau)", style=style, layout=layout)
        self.steps_box = w.BoundedIntText(value=n_steps, min=1, max=max_steps,
                                          step=100, description="steps", style=style, layout=layout)
        self.run_button = w.Button(description="Run", button_style="primary", icon="play",
                                   tooltip="run the simulation with these settings")
        self.status = w.HTML(value="<i>Choose the settings and press Run.</i>")
        self.log = w.Output()  # progress bars of long runs
        self.potential_dd.observe(self._on_potential_change, names="value")
        self.integrator_dd.observe(lambda change: self._sync_enabled(), names="value")
        self.run_button.on_click(lambda _button: self.run())
        self._sync_enabled()

        h = self.figure_height
        # The figures are plain plotly Figures, updated in place and shown through Output widgets (the plotly
        # mime renderer). Live FigureWidgets came up empty in JupyterLab: under Run All their restyle messages can
        # be lost (chapter 1's empty Energy plot), and with anywidget 0.11 + plotly 7.1 even a fresh FigureWidget
        # rendered no traces (measured in Chromium). An Output widget's content is widget STATE, never lost.
        self.energy_fig = line_figure([], {"kinetic": [], "potential": [], "total": []}, "Energy", "t (tau)",
                                      "E (epsilon)", height=h)
        self.temperature_fig = line_figure([], {"T(t)": [], "thermostat target": []}, "Kinetic temperature",
                                           "t (tau)", "T (epsilon/k_B)", height=h, dash={"thermostat target": "dash"})
        self.phase_fig = new_figure("Phase portrait", "x (sigma)", "v (sigma/tau)", height=h)
        self.phase_fig.add_trace(dict(type="scatter", x=[], y=[], mode="lines", name="trajectory",
                                      line=dict(color=PALETTE[0])))
        self.phase_fig.add_trace(dict(type="scatter", x=[], y=[], mode="markers", name="start",
                                      marker=dict(color=PALETTE[1], size=9)))
        for fig in (self.energy_fig, self.temperature_fig, self.phase_fig):
            # fixed size (no autosize inside a flex box: a figure drawn before its box had its width came up
            # clipped), room for the legend above the plot, readable axes
            fig.update_layout(width=self.figure_width, height=h, autosize=False, margin=dict(l=60, r=15, t=70, b=45),
                              title=dict(y=0.97, yanchor="top"), legend=dict(y=1.0, yanchor="bottom"))
            readable_axes(fig)
        self.figure_outputs = [w.Output() for _ in range(3)]
        self.view_box = w.Box(layout=w.Layout(width=f"{self.figure_width}px", height=f"{h}px", flex="0 0 auto"))
        if auto_run:
            self.run()
        else:
            self._show_figures()

        def cell(child: Any) -> Any:  # a box of exactly the figure's size that never shrinks
            return w.Box([child], layout=w.Layout(width=f"{self.figure_width + 4}px", height=f"{h + 4}px",
                                                  flex="0 0 auto", overflow="hidden"))

        controls = w.VBox([self.potential_dd, self.displacement_sl, self.temperature_sl, self.integrator_dd,
                           self.dt_box, self.steps_box, w.HBox([self.run_button]), self.status, self.log],
                          layout=w.Layout(max_width="100%"))
        e_out, t_out, p_out = self.figure_outputs
        plots = w.VBox([w.HBox([cell(e_out), cell(t_out)]), w.HBox([cell(p_out), self.view_box])])
        self.panel = w.VBox([controls, plots], layout=w.Layout(max_width="100%", overflow="hidden"))

    # -- widget plumbing --------------------------------------------------------------------------
    @property
    def potential(self) -> str:
        """The potential selected in the panel."""
        return str(self.potential_dd.value)

    def _on_potential_change(self, change: dict[str, Any]) -> None:
        d = DEFAULTS[change["new"]]
        self.dt_box.value = d.dt
        self.steps_box.value = d.n_steps
        if change["new"] == "lennard-jones":
            self.temperature_sl.value = d.temperature
        else:
            self.displacement_sl.value = d.displacement
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        liquid = self.potential == "lennard-jones"
        self.displacement_sl.disabled = liquid
        self.temperature_sl.disabled = not liquid and not integrator_class(self.integrator_dd.value).thermostat

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.panel)

    # -- the run ------------------------------------------------------------------------------------
    def current_settings(self, **overrides: Any) -> dict[str, Any]:
        """The settings the next run would use (widget values, with ``overrides`` applied to the widgets).

        An override is checked against the class's ``_parameter_constraints`` first, as at construction: a value
        outside its control's range raises :class:`InvalidParameterError` instead of being clamped by the widget,
        and the widgets keep their values.
        """
        widgets = {"potential": self.potential_dd, "integrator": self.integrator_dd, "dt": self.dt_box,
                   "n_steps": self.steps_box, "displacement": self.displacement_sl, "temperature": self.temperature_sl}
        if "potential" in overrides:  # first: changing the potential resets dt and steps to its defaults
            overrides = {"potential": overrides.pop("potential"), **overrides}
        checked = {}
        for name, value in overrides.items():
            if name not in widgets:
                raise InvalidParameterError(f"unknown setting {name!r}; choose from {', '.join(widgets)}")
            declaration = self._parameter_constraints[name]
            rules = tuple(c for c in (declaration if isinstance(declaration, tuple) else (declaration,))
                          if c is not None)  # an override sets a widget: None is no value
            checked[name] = check_param(name, value, rules)
        if "n_steps" in checked and checked["n_steps"] > self.steps_box.max:
            raise InvalidParameterError(f"n_steps must be <= {self.steps_box.max} (the explorer's max_steps), "
                                        f"got {checked['n_steps']}; build the explorer with a larger max_steps")
        for name, value in checked.items():  # all checked before any widget changes
            widgets[name].value = value
        return {name: wid.value for name, wid in widgets.items()}

    def run(self, **overrides: Any) -> Trajectory | None:
        """Run with the current widget values (``overrides`` set widgets first, e.g. ``run(dt=0.5)``).

        Returns the trajectory, or None when the run failed: the status line then explains why (a diverged
        run names the step and time) and the previous trajectory and figures are kept. Never raises for a
        simulation problem.
        """
        self.run_button.disabled = True
        try:
            settings = self.current_settings(**overrides)
            system = build_system(settings["potential"], displacement=settings["displacement"],
                                  temperature=settings["temperature"], seed=self.seed)
            traj = self._simulate(system, settings)
        except SimulationDivergedError as exc:
            self.error = exc
            self._show_error(
                f"The simulation blew up at step {exc.step} (t = {exc.time:.4g} tau) with "
                f"{settings['integrator'].replace('_', ' ')} and dt = {settings['dt']:g}: {exc.reason}. "
                + ("Explicit Euler gains energy at every step on any oscillation: try velocity Verlet. "
                   if not integrator_class(settings["integrator"]).stable_on_oscillators
                   else "Try a smaller time step. ")
                + "The plots still show the previous run.")
            return None
        except NpsnnError as exc:
            self.error = exc
            self._show_error(f"{exc} (the plots still show the previous run)")
            return None
        except Exception as exc:  # keep the kernel and the panel alive whatever happens
            self.error = exc
            self._show_error(f"unexpected {type(exc).__name__}: {exc} (the plots still show the previous run)")
            return None
        finally:
            self.run_button.disabled = False
        self.error = None
        self.trajectory, self.settings = traj, settings
        self.n_runs += 1
        self._update_figures(traj, settings)
        self._update_view(traj)
        drift = traj.energy_drift()
        colour = PALETTE[2]
        if integrator_class(settings["integrator"]).thermostat:
            energy_note = "thermostat on: the total energy is not conserved (it exchanges heat with a bath)"
        else:
            energy_note = f"max relative energy error {drift:.2e}"
            if drift > 0.05:
                colour = PALETTE[4]
                energy_note += " (energy NOT conserved: try a smaller dt or a symplectic integrator)"
        self.status.value = (f"<span style='color:{colour}'>&#10003; run {self.n_runs}: {traj.n_frames} frames, "
                             f"t = {traj.times[-1]:.4g} tau; {html.escape(energy_note)}</span>")
        return traj

    def _simulate(self, system: System, settings: dict[str, Any]) -> Trajectory:
        n_steps = int(settings["n_steps"])
        n_particles = len(system.positions)
        record_every = max(1, n_steps // 2000) if n_particles < 10 else max(1, n_steps // 400)
        options: dict[str, Any] = {}
        if integrator_class(settings["integrator"]).thermostat:
            options = {"temperature": float(settings["temperature"]), "friction": 1.0, "seed": self.seed}
        show_progress = n_steps * n_particles >= self.progress_threshold
        if show_progress or self._log_used:
            self.log.clear_output()
            self._log_used = show_progress
        outcome: dict[str, Any] = {}
        # The progress bar goes to the panel's Output widget. An exception must not escape inside that context:
        # in a kernel, Output.__exit__ prints the traceback and SWALLOWS the exception.
        with self.log:
            try:
                outcome["trajectory"] = simulate(
                    system.potential, system.positions, system.velocities, dt=float(settings["dt"]),
                    n_steps=n_steps, integrator=settings["integrator"], masses=system.masses,
                    record_every=record_every, progress=show_progress,
                    metadata={"lj_units": system.lj_units, "symbols": system.symbols}, **options)
            except Exception as exc:
                outcome["error"] = exc
        if "error" in outcome:
            if show_progress:
                self.log.clear_output()  # a half-filled progress bar would only confuse
                self._log_used = False
            raise outcome["error"]
        return outcome["trajectory"]

    def _show_error(self, message: str) -> None:
        self.status.value = f"<span style='color:{PALETTE[1]}'>&#9888; {html.escape(message)}</span>"

    def _update_figures(self, traj: Trajectory, settings: dict[str, Any]) -> None:
        t = traj.times
        with self.energy_fig.batch_update():
            for trace, y in zip(self.energy_fig.data, (traj.kinetic_energy, traj.potential_energy, traj.total_energy)):
                trace.x, trace.y = t, y
        with self.temperature_fig.batch_update():
            self.temperature_fig.data[0].x, self.temperature_fig.data[0].y = t, traj.temperature
            target = integrator_class(settings["integrator"]).thermostat
            self.temperature_fig.data[1].x = t[[0, -1]] if target else []
            self.temperature_fig.data[1].y = [settings["temperature"]] * 2 if target else []
        q, v, q_label, v_label = phase_coordinates(traj)
        with self.phase_fig.batch_update():
            self.phase_fig.data[0].x, self.phase_fig.data[0].y = q, v
            self.phase_fig.data[1].x, self.phase_fig.data[1].y = q[:1], v[:1]
            self.phase_fig.layout.xaxis.title.text = q_label
            self.phase_fig.layout.yaxis.title.text = v_label
        self._show_figures()

    def _show_figures(self) -> None:
        for out, fig in zip(self.figure_outputs, (self.energy_fig, self.temperature_fig, self.phase_fig)):
            show_figure_in(out, fig)

    def _update_view(self, traj: Trajectory) -> None:
        if not self.show_3d:
            return
        import ipywidgets as w

        if traj.n_atoms < 3:
            self.view = None
            self.view_box.children = (w.HTML("<i>3D view: for the Lennard-Jones liquid.</i>"),)
            return

        try:
            size = (f"{self.figure_width}px", f"{self.figure_height}px")
            self.view = show_trajectory(traj, max_frames=self.max_view_frames, size=size)
            self.view.layout = w.Layout(width=size[0], height=size[1])
        except ViewerUnavailableError as exc:
            self.view = None
            self.view_box.children = (w.HTML(f"<i>{html.escape(str(exc))}</i>"),)
            return
        self.view_box.children = (self.view,)


# ------------------------------------------------------------------------------------------------
# Static chapter-1 figures: the shared helpers of viz.plots with reduced-unit axis titles and readable ticks
# ------------------------------------------------------------------------------------------------
def lines(x: Any, ys: Any, title: str, xaxis: str, yaxis: str, **kwargs: Any) -> Any:
    """:func:`~npsnn_edu.viz.plots.line_figure` with readable axes (log ticks as 10^-4, room for the titles).

    Parameters
    ----------
    x : array of shape (n,)
        Abscissae.
    ys : mapping of str to array of shape (n,)
        Curves by legend name.
    title : str
        Figure title.
    xaxis, yaxis : str
        Axis titles.
    **kwargs
        Options of :func:`~npsnn_edu.viz.plots.line_figure`.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    return readable_axes(line_figure(x, ys, title, xaxis, yaxis, **kwargs))


def energy_plot(traj: Trajectory, title: str, *, relative: bool = False) -> Any:
    """Energies (or the relative energy error) of ``traj`` versus time, axes in reduced units.

    Parameters
    ----------
    traj : Trajectory
        The run.
    title : str
        Figure title.
    relative : bool, default False
        Plot the relative energy error only.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = energy_figure(traj, title, relative=relative)
    fig.update_xaxes(title_text="t (tau)")
    fig.update_yaxes(title_text="(E - E0) / scale (dimensionless)" if relative else "E (epsilon)")
    return readable_axes(fig)


def rdf_figure(curves: Any, title: str = "Radial distribution function", *,
               shells: "Sequence[float] | None" = None) -> Any:
    """g(r) curves: ``curves`` maps a legend name to ``(r, g)`` (r in sigma); the ideal gas g = 1 dotted.

    ``shells``: distances (sigma) of a perfect lattice's neighbour shells, drawn as thin vertical lines instead
    of the lattice's own g(r), whose delta-like peaks would squash the other curves. The y axis spans 0 to 1.1
    times the highest curve.

    Parameters
    ----------
    curves : mapping of str to (r, g)
        Curves by legend name, r in sigma.
    title : str, default "Radial distribution function"
        Figure title.
    shells : sequence of float or None, default None
        Lattice shell distances (sigma) drawn as vertical lines.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    curves = dict(curves)
    fig = lines(None, curves, title, "r (sigma)", "g(r) (dimensionless)")
    fig.add_hline(y=1.0, line_color="gray", line_dash="dot")
    top = max([float(np.max(g)) for _, g in curves.values()] + [1.0])
    if shells is not None:
        for r0 in shells:
            fig.add_vline(x=float(r0), line_color="black", line_width=1, line_dash="dash", opacity=0.5)
        fig.add_annotation(x=float(shells[0]), y=1.05 * top, text="dashed: perfect-crystal neighbour shells",
                           showarrow=False, xanchor="left", yanchor="top", font=dict(size=11))
    fig.update_yaxes(range=[0.0, 1.1 * top])
    return fig


def lattice_shells(positions: Any, box: Any, r_max: float, *, decimals: int = 6) -> np.ndarray:
    """Distinct minimum-image pair distances (sigma) below ``r_max`` of one configuration ``positions`` (N, 3) in
    the periodic orthorhombic ``box``: the neighbour shells of a perfect lattice, sorted ascending.

    Parameters
    ----------
    positions : array of shape (n_atoms, 3)
        One configuration (sigma).
    box : array of shape (3,)
        Box lengths (sigma).
    r_max : float
        Largest distance (sigma).
    decimals : int, default 6
        Rounding that merges equal distances.

    Returns
    -------
    numpy.ndarray
    """
    x = np.asarray(positions, dtype=float)
    L = np.asarray(box, dtype=float)
    if x.ndim != 2 or x.shape[1] != L.shape[0]:
        raise ShapeMismatchError(f"positions must be (N, {L.shape[0]}) for this box, got {x.shape}")
    i, j = np.triu_indices(len(x), k=1)
    d = x[j] - x[i]
    d -= L * np.round(d / L)
    r = np.sqrt(np.sum(d * d, axis=-1))
    return np.unique(np.round(r[r < r_max], decimals))
