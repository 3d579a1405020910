"""Plotly figures shared by every chapter (one plotting style, written once).

Static figures are ``go.Figure``; pass ``widget=True`` for a ``go.FigureWidget`` that a slider or a
training loop can update in place (needs ``anywidget``): assign ``fig.data[k].y = ...`` inside
``with fig.batch_update():``.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..trajectory import Trajectory

#: A colour-blind-safe palette (Okabe-Ito), used in this order by every figure of the kit.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
TEMPLATE = "plotly_white"


def new_figure(title: str = "", xaxis: str = "", yaxis: str = "", *, widget: bool = False, height: int = 380,
               log_x: bool = False, log_y: bool = False) -> go.Figure:
    """An empty figure in the kit's style (``widget=True`` gives a live FigureWidget).

    Parameters
    ----------
    title : str, default ""
        Figure title.
    xaxis, yaxis : str, default ""
        Axis titles.
    widget : bool, default False
        Return a FigureWidget.
    height : int, default 380
        Height (px).
    log_x, log_y : bool, default False
        Logarithmic axes.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.FigureWidget() if widget else go.Figure()
    fig.update_layout(template=TEMPLATE, title=title, height=height, margin=dict(l=60, r=20, t=50, b=50),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1))
    fig.update_xaxes(title_text=xaxis, type="log" if log_x else "linear")
    fig.update_yaxes(title_text=yaxis, type="log" if log_y else "linear")
    return fig


def line_figure(x: Any, ys: Mapping[str, Any], title: str = "", xaxis: str = "", yaxis: str = "", *,
                widget: bool = False, log_x: bool = False, log_y: bool = False, dash: Mapping[str, str] | None = None,
                markers: bool = False, height: int = 380) -> go.Figure:
    """Several named curves y(x) on one axis. ``ys`` maps legend names to arrays (or (x, y) pairs).

    Parameters
    ----------
    x : array of shape (n,)
        Abscissae.
    ys : mapping of str to array of shape (n,) or (x, y) pair
        Curves by legend name.
    title : str, default ""
        Figure title.
    xaxis, yaxis : str, default ""
        Axis titles.
    widget : bool, default False
        Return a FigureWidget.
    log_x, log_y : bool, default False
        Logarithmic axes.
    dash : mapping of str to str or None, default None
        Dash style per curve.
    markers : bool, default False
        Draw markers.
    height : int, default 380
        Height (px).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = new_figure(title, xaxis, yaxis, widget=widget, log_x=log_x, log_y=log_y, height=height)
    for k, (name, y) in enumerate(ys.items()):
        xx, yy = (y if isinstance(y, tuple) else (x, y))
        fig.add_trace(go.Scatter(x=np.asarray(xx), y=np.asarray(yy), name=name,
                                 mode="lines+markers" if markers else "lines",
                                 line=dict(color=PALETTE[k % len(PALETTE)], dash=(dash or {}).get(name, "solid"))))
    return fig


def energy_figure(traj: Trajectory, title: str = "Energy", *, relative: bool = False,
                  widget: bool = False) -> go.Figure:
    """Kinetic, potential and total energy vs time (``relative=True``: relative total-energy error only).

    Parameters
    ----------
    traj : Trajectory
        The run.
    title : str, default "Energy"
        Figure title.
    relative : bool, default False
        Relative total-energy error only.
    widget : bool, default False
        Return a FigureWidget.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if relative:
        return line_figure(traj.times, {"(E - E0) / scale": traj.relative_energy_error()}, title,
                           "time", "relative energy error", widget=widget)
    return line_figure(traj.times, {"kinetic": traj.kinetic_energy, "potential": traj.potential_energy,
                                    "total": traj.total_energy}, title, "time", "energy", widget=widget)


def temperature_figure(traj: Trajectory, title: str = "Temperature", *, target: float | None = None,
                       widget: bool = False) -> go.Figure:
    """Instantaneous kinetic temperature vs time, with an optional target line.

    Parameters
    ----------
    traj : Trajectory
        The run.
    title : str, default "Temperature"
        Figure title.
    target : float or None, default None
        Target temperature line.
    widget : bool, default False
        Return a FigureWidget.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = line_figure(traj.times, {"T(t)": traj.temperature}, title, "time", "temperature", widget=widget)
    if target is not None:
        fig.add_hline(y=target, line_dash="dash", line_color=PALETTE[1], annotation_text=f"target {target:g}")
    return fig


def phase_portrait(trajs: "Trajectory | Mapping[str, Trajectory]", particle: int = 0, coord: int = 0,
                   title: str = "Phase portrait", *, widget: bool = False) -> go.Figure:
    """Velocity vs position of one coordinate, for one or several named trajectories.

    Parameters
    ----------
    trajs : Trajectory or mapping of str to Trajectory
        Runs by legend name.
    particle : int, default 0
        Particle index.
    coord : int, default 0
        Coordinate index.
    title : str, default "Phase portrait"
        Figure title.
    widget : bool, default False
        Return a FigureWidget.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if isinstance(trajs, Trajectory):
        trajs = {traj_label(trajs): trajs}
    fig = new_figure(title, "position x", "velocity v", widget=widget)
    for k, (name, t) in enumerate(trajs.items()):
        fig.add_trace(go.Scatter(x=t.positions[:, particle, coord], y=t.velocities[:, particle, coord], name=name,
                                 mode="lines", line=dict(color=PALETTE[k % len(PALETTE)])))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def traj_label(traj: Trajectory) -> str:
    """A short legend label of a run: its integrator and time step.

    Parameters
    ----------
    traj : Trajectory
        The run.

    Returns
    -------
    str
    """
    return f"{traj.integrator}, dt={traj.dt:g}"


def subplots(rows: int, cols: int, titles: Sequence[str] = (), *, widget: bool = False, height: int = 420) -> go.Figure:
    """A grid of panels in the kit's style (plotly ``make_subplots``).

    Parameters
    ----------
    rows, cols : int
        Grid size.
    titles : sequence of str, default ()
        Panel titles.
    widget : bool, default False
        Return a FigureWidget.
    height : int, default 420
        Height (px).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles))
    if widget:
        fig = go.FigureWidget(fig)
    fig.update_layout(template=TEMPLATE, height=height, margin=dict(l=60, r=20, t=60, b=50))
    return fig


def loglog_fit_figure(fits: Mapping[str, Any], title: str = "", xaxis: str = "", yaxis: str = "", *,
                      slope_label: str = "slope", widget: bool = False, height: int = 400) -> go.Figure:
    """Log-log data points with their fitted power laws y = prefactor * x^slope (dashed).

    ``fits`` maps legend names to objects with ``x``, ``y``, ``slope`` and ``prefactor`` attributes (e.g.
    :class:`npsnn_edu.md.stability.PowerLawFit`); the fitted slope is written in the legend.

    Parameters
    ----------
    fits : mapping of str to PowerLawFit
        Fits by legend name.
    title : str, default ""
        Figure title.
    xaxis, yaxis : str, default ""
        Axis titles.
    slope_label : str, default "slope"
        Word before the slope in the legend.
    widget : bool, default False
        Return a FigureWidget.
    height : int, default 400
        Height (px).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = new_figure(title, xaxis, yaxis, widget=widget, log_x=True, log_y=True, height=height)
    for k, (name, fit) in enumerate(fits.items()):
        color = PALETTE[k % len(PALETTE)]
        x, y = np.asarray(fit.x, dtype=float), np.asarray(fit.y, dtype=float)
        fig.add_trace(go.Scatter(x=x, y=y, mode="markers", name=f"{name} ({slope_label} {fit.slope:.2f})",
                                 legendgroup=name, marker=dict(color=color, size=9)))
        xs = np.geomspace(x.min(), x.max(), 20)
        fig.add_trace(go.Scatter(x=xs, y=fit.prefactor * xs**fit.slope, mode="lines", name=f"{name} fit",
                                 legendgroup=name, showlegend=False, line=dict(color=color, dash="dash")))
    return fig


def readable_axes(fig: go.Figure) -> go.Figure:
    """Readable axes on every panel: log axes tick as 10^-4 (``exponentformat="power"``, never "100u" / "10f"),
    titles and tick labels get room (``automargin``). Returns ``fig``.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure (changed in place).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.type == "log":
            axis.update(exponentformat="power", showexponent="all")
        axis.update(automargin=True)
    return fig


def show_figure_in(out: Any, fig: Any) -> None:
    """Replace the content of the ipywidgets ``Output`` ``out`` by the plotly figure ``fig`` (its plotly JSON
    mime bundle, drawn by JupyterLab's plotly renderer). Works with or without a kernel: the output is set as
    the widget's state, which reaches a front end that attaches later (Run All) intact.

    Parameters
    ----------
    out : ipywidgets.Output
        The output widget.
    fig : plotly.graph_objects.Figure
        The figure.
    """
    bundle = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.plotly.v1+json": {**json.loads(fig.to_json()), "config": {"responsive": False}},
                       "text/plain": f"<plotly figure: {fig.layout.title.text or ''}>"}}
    out.outputs = (bundle,)


def enable_inline_png() -> bool:
    """Make a running IPython kernel show a returned :class:`matplotlib.figure.Figure` as a PNG image.

    Without ``%matplotlib inline`` (or a pyplot import) IPython has no image formatter for a bare Figure and
    shows only its text repr ``<Figure size ...>``. Registers the PNG formatter (what ``%matplotlib inline``
    does for figures); returns False outside IPython (scripts, tests), where nothing is needed.
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return False
    shell = get_ipython()
    if shell is None:
        return False
    select_figure_formats(shell, {"png"})
    return True
