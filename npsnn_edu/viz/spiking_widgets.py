"""Interactive training of the spiking PINN: start / pause / resume / reset with live plotly panels.

The widget drives a stepwise :class:`~npsnn_edu.spiking.Trainer` in chunks of ``chunk`` optimiser steps,
on a background thread (``background=True``, the notebook default) so the kernel stays responsive, or
synchronously (``step_chunk()``; what tests use).  Pausing stops after the current step; the model, the
optimiser state and the history are kept, and Resume continues from there.  Every refresh shows the
training loss NEXT TO the forward-output error (relative L2 on the dense evaluation grid) and the verdict of the
forward-output check (:mod:`npsnn_edu.spiking.check`: the forward output against a fine-step velocity-Verlet run
of the core, "trusted" or "DO NOT TRUST", in :attr:`SpikingTrainingWidget.verdict`).

Figures: plain plotly figures (``fig_loss``, ``fig_traj``, ``fig_raster``) redrawn into ipywidgets ``Output``
widgets on every refresh (a live ``FigureWidget`` drew no traces in JupyterLab 4.6 + anywidget 0.11, and updates
sent before the page attaches are lost; an Output's content always arrives). Before any training the panels show
the untrained network's forward output and its error at step 0 (one honest evaluation), so nothing is empty.

Layout: the figures have fixed widths (two panels of :data:`PANEL_WIDTH` side by side, the raster
:data:`WIDE_WIDTH`), at most :data:`MAX_WIDTH` px in all, so the widget fits a 1366 px screen without a
horizontal scrollbar.

Blocking: the buttons are served by the kernel, so a cell that blocks the kernel (``wait()``, or a long
training in the next cell) also blocks the buttons until it returns.  The notebook therefore never waits on
the widget: it starts nothing during Run All (``autostart=False``) and trains its own comparison models in
later cells; press Start whenever you like (the training runs on a background thread).
"""
from __future__ import annotations

import threading
from typing import Any, ClassVar

import numpy as np
import plotly.graph_objects as go

from ..device import resolve_device
from ..errors import InvalidParameterError
from ..spiking import NewtonProblem, Trainer
from ..spiking.training import METHODS
from ..validation import AtLeast, Boolean, Constraints, InstanceOf, Options, Rule, validate_params
from .plots import PALETTE, new_figure, show_figure_in

PANEL_WIDTH = 440  # px, each of the two side-by-side panels
WIDE_WIDTH = 880  # px, the raster (the same total width)
MAX_WIDTH = 900  # px, the widget box: a 1366 px screen leaves about 915 px for outputs in JupyterLab


class SpikingTrainingWidget:
    """Start/Pause/Resume/Reset buttons, progress bar, loss curves, trajectory vs reference, spike raster.

    Parameters
    ----------
    trainer : Trainer or None, default None
        An existing trainer (None: build one from ``problem``, ``method`` and ``config``).
    problem : str, default "harmonic"
        Problem name.
    method : str, default "continuous"
        Training method.
    total_steps : int, default 1000
        Optimiser steps of a full run.
    chunk : int, default 25
        Steps between display updates.
    background : bool, default True
        Train in a background thread (the buttons stay live).
    device : str or torch.device, default "cpu"
        Where to train.
    **config
        TrainConfig fields (only without ``trainer``: a trainer brings its own configuration).

    Raises
    ------
    InvalidParameterError
        A ``trainer`` that is not a Trainer, ``total_steps`` or ``chunk`` < 1, a flag that is not True/False, an
        unknown device, TrainConfig fields given together with a trainer.
    UnknownNameError
        An unknown method.
    DeviceUnavailableError
        ``device="cuda"`` on a machine without a GPU.
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "trainer": (None, InstanceOf(Trainer, hint="build one with npsnn_edu.spiking.Trainer(...) or pass None")),
        "problem": InstanceOf(str, NewtonProblem, hint="a problem name such as 'harmonic', or a NewtonProblem"),
        "method": Options(METHODS),
        "total_steps": AtLeast(1, integer=True),
        "chunk": AtLeast(1, integer=True, hint="optimiser steps between display updates"),
        "background": Boolean(),
        "device": Rule(lambda name, device: resolve_device(device), invalid="tpu"),
    }

    def __init__(self, trainer: "Trainer | None" = None, *, problem: str = "harmonic", method: str = "continuous",
                 total_steps: int = 1000, chunk: int = 25, background: bool = True, device: Any = "cpu",
                 **config: Any):
        import ipywidgets as w

        p = validate_params(self._parameter_constraints, {
            "trainer": trainer, "problem": problem, "method": method, "total_steps": total_steps, "chunk": chunk,
            "background": background, "device": device})
        if trainer is None:
            config.setdefault("total_steps", p["total_steps"])
            config.setdefault("eval_every", max(p["chunk"], 50))
            trainer = Trainer(problem, method=p["method"], device=p["device"], **config)
        elif config:
            raise InvalidParameterError(f"TrainConfig fields {sorted(config)} only apply when the widget builds its "
                                        "own trainer; set them on the trainer's config, or pass trainer=None")
        self.trainer = trainer
        self.total_steps = p["total_steps"]
        self.chunk = p["chunk"]
        self.background = p["background"]
        self._thread: threading.Thread | None = None
        self._pause = threading.Event()
        self.buttons = {name: w.Button(description=name, layout=w.Layout(width="90px"))
                        for name in ("Start", "Pause", "Resume", "Reset")}
        self.buttons["Start"].on_click(lambda _: self.start())
        self.buttons["Pause"].on_click(lambda _: self.pause())
        self.buttons["Resume"].on_click(lambda _: self.resume())
        self.buttons["Reset"].on_click(lambda _: self.reset())
        self.progress = w.IntProgress(value=0, min=0, max=self.total_steps, description="steps")
        self.status = w.HTML("not started")
        self.verdict = w.HTML("")  # the forward-output check, next to the loss
        self.fig_loss = new_figure("Training loss vs forward-output error", "optimiser step", "value (dimensionless)",
                                   log_y=True, height=320)
        self.fig_loss.update_layout(width=PANEL_WIDTH)
        self.fig_loss.update_yaxes(exponentformat="power")
        for k, name in enumerate(("training loss", "residual term", "forward-output rel. L2 (dense grid)")):
            self.fig_loss.add_trace(go.Scatter(x=[], y=[], name=name, mode="lines" if k < 2 else "lines+markers",
                                               line=dict(color=PALETTE[k])))
        self.fig_traj = new_figure("Forward output vs reference", "t (tau)", "x (sigma)", height=320)
        self.fig_traj.update_layout(width=PANEL_WIDTH)
        self.n_curves = min(self.trainer.problem.n_out, 3)
        for c in range(self.n_curves):
            self.fig_traj.add_trace(go.Scatter(x=[], y=[], name=f"reference {c}", mode="lines",
                                               line=dict(color=PALETTE[c], dash="dash")))
            self.fig_traj.add_trace(go.Scatter(x=[], y=[], name=f"network {c}", mode="lines",
                                               line=dict(color=PALETTE[c])))
        self.fig_raster = new_figure("Spike raster, last LIF layer (spikes per query/knot)", "t (tau)",
                                     "neuron (index)", height=300)
        self.fig_raster.update_layout(width=WIDE_WIDTH)
        self.fig_raster.add_trace(go.Heatmap(z=[[0]], colorscale="Greys", showscale=False))
        self.outputs = {name: w.Output() for name in ("loss", "traj", "raster")}
        box = w.Layout(max_width=f"{MAX_WIDTH}px", overflow="hidden")
        self.widget = w.VBox([w.HBox([*self.buttons.values(), self.progress]), self.verdict, self.status,
                              w.HBox([self.outputs["loss"], self.outputs["traj"]], layout=box),
                              self.outputs["raster"]],
                             layout=w.Layout(max_width=f"{MAX_WIDTH}px"))
        if self.trainer.last_eval is None:
            self.trainer.trajectory_errors()  # step 0: the untrained network's forward output and error
        self.refresh()

    # -- control --------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while training runs in the background."""
        return self._thread is not None and self._thread.is_alive()

    def step_chunk(self) -> int:
        """Train one chunk synchronously and refresh the panels; returns the steps done."""
        n = min(self.chunk, self.total_steps - self.trainer.step)
        if n <= 0:
            return 0
        before = self.trainer.step
        self.trainer.train(n)
        self.trainer.trajectory_errors()
        self.refresh()
        return self.trainer.step - before

    def _loop(self) -> None:
        while not self._pause.is_set() and self.trainer.step < self.total_steps:
            if self.step_chunk() == 0:
                break
        self.refresh()

    def start(self) -> None:
        """Train up to ``total_steps`` (on a thread when ``background``); a no-op while already running."""
        if self.running:
            return
        self._pause.clear()
        if self.background:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        else:
            self._loop()

    resume = start

    def pause(self, timeout: float | None = 30.0) -> None:
        """Stop after the current optimiser step; model and history are kept.

        Parameters
        ----------
        timeout : float or None, default 30.0
            Seconds to wait for the step to finish (None: no limit).
        """
        self._pause.set()
        self.trainer.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        self.refresh()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background training finishes (or ``timeout`` seconds).

        While this blocks, the kernel cannot serve the buttons (Pause included): use it in scripts and
        tests, not in a notebook cell that follows the widget.

        Parameters
        ----------
        timeout : float or None, default None
            Seconds to wait (None: no limit).
        """
        if self._thread is not None:
            self._thread.join(timeout)

    def reset(self) -> None:
        """Pause, then start again from a fresh model (same seed) with an empty history."""
        self.pause()
        self.trainer.reset()
        self.trainer.trajectory_errors()  # step 0 again
        self.refresh()

    # -- display --------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw the loss curves, the trajectory and the spike raster from the trainer's current state."""
        tr, h = self.trainer, self.trainer.history
        ev = tr.last_eval
        self.progress.value = min(tr.step, self.total_steps)
        if tr.step >= self.total_steps:
            state = "finished"
        elif self.running and not self._pause.is_set():
            state = "running"
        else:
            state = "paused" if tr.step else "not started"
        if h.loss and ev is not None:
            self.status.value = f"<b>{state}</b> &nbsp; {tr.report()}"
        else:
            self.status.value = f"<b>{state}</b> &nbsp; step {tr.step}"
        self.verdict.value = self._verdict_html(ev)
        with self.fig_loss.batch_update():
            self.fig_loss.data[0].x, self.fig_loss.data[0].y = h.step, h.loss
            self.fig_loss.data[1].x, self.fig_loss.data[1].y = h.step, h.residual
            self.fig_loss.data[2].x, self.fig_loss.data[2].y = h.eval_step, h.eval_rel_l2
        if ev is None:
            self._draw()
            return
        x, x_ref, t = ev["x"].reshape(len(ev["times"]), -1), ev["x_ref"].reshape(len(ev["times"]), -1), ev["times"]
        with self.fig_traj.batch_update():
            for c in range(self.n_curves):
                self.fig_traj.data[2 * c].x, self.fig_traj.data[2 * c].y = t, x_ref[:, c]
                self.fig_traj.data[2 * c + 1].x, self.fig_traj.data[2 * c + 1].y = t, x[:, c]
        spikes = getattr(tr.model, "last_spikes", [])
        if spikes:
            counts = spikes[-1].float().sum(0).cpu().numpy()  # (queries or knots, neurons)
            if counts.shape[0] > 200:
                counts = counts[:: int(np.ceil(counts.shape[0] / 200))]
            times = np.linspace(0, tr.problem.t_end, counts.shape[0])
            with self.fig_raster.batch_update():
                self.fig_raster.data[0].z = counts.T
                self.fig_raster.data[0].x = times
        self._draw()

    def _verdict_html(self, ev: "dict[str, Any] | None") -> str:
        """Training loss next to the check's verdict (green when trusted, red otherwise)."""
        h = self.trainer.history
        loss = f"train loss {h.loss[-1]:.2e}" if h.loss else "train loss -"
        if ev is None or "check" not in ev:
            return f"{loss} &nbsp;|&nbsp; check: not evaluated yet"
        chk = ev["check"]
        colour = "#1b7837" if chk["trusted"] else "#b2182b"
        word = "trusted" if chk["trusted"] else "DO NOT TRUST"
        return (f"{loss} &nbsp;|&nbsp; <span style='color:{colour}'><b>check vs fine velocity Verlet: error "
                f"{chk['error']:.2e} (tolerance {chk['tol']:.0e}): {word}</b></span>")

    def _draw(self) -> None:
        for name, fig in (("loss", self.fig_loss), ("traj", self.fig_traj), ("raster", self.fig_raster)):
            show_figure_in(self.outputs[name], fig)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
