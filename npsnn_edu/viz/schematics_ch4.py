"""Explanatory figures (schematics) of chapter 4: drawn with matplotlib, one function per figure.

Lab notebook (04_spiking_pinn):

* :func:`lif_neuron` - Figure 4.1: the leaky integrate-and-fire (LIF) neuron step by step: the membrane potential
  leaks, integrates a constant input current, fires a spike when it crosses the threshold and is reset by
  subtraction;
* :func:`surrogate_pitfall` - Figure 4.2: the pitfall: a network whose output reaches time only through spikes is a
  staircase in t (true derivative zero almost everywhere), while autograd reports the surrogate's smooth slope;
* :func:`clock_network` - Figure 4.3: the clock-driven spiking network (ClockSNN): the spiking network runs at fixed
  knot times and gives one coefficient per knot; a smooth non-spiking output neuron sums Gaussian bumps.

Going-further notebook (04b_spiking_operators):

* :func:`operator_branch_trunk` - Figure 4.4: a physics-informed operator: the branch maps problem parameters p to
  coefficients, the trunk (the same Gaussian basis) carries time;
* :func:`reservoir_readout` - Figure 4.5: training by surrogate gradients changes every weight; a reservoir keeps
  the random layers fixed and solves only the linear readout from the equations.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or written to disk). The curves drawn
are computed with the same rules the kit uses (the LIF update of snnTorch's ``Leaky`` with reset by subtraction,
snnTorch's ``atan`` surrogate, the ClockSNN's knots and Gaussian kernel); tests/test_schematics_ch4.py checks them.
Times and potentials in the drawings are in arbitrary units.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["lif_neuron", "surrogate_pitfall", "clock_network", "operator_branch_trunk", "reservoir_readout",
           "lif_trace", "atan_surrogate"]


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display needed; notebooks still render the Figure inline
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, ncols) if ncols > 1 else fig.add_subplot(1, 1, 1)
    return fig, axes


def lif_trace(current: float, n_steps: int, beta: float = 0.9, threshold: float = 1.0
              ) -> tuple[np.ndarray, np.ndarray]:
    r"""Membrane potential U_k and spikes S_k of one LIF neuron driven by a constant ``current``.

    The update is snnTorch's ``Leaky`` with reset by subtraction: ``S_k = [U_k > thr]``,
    ``U_{k+1} = beta U_k + I - S_k thr``, ``U_0 = 0``. Returns ``(U, S)`` of length ``n_steps`` (threshold units).

    .. math::

        S_k = \Theta(U_k - U_{\mathrm{thr}}), \qquad U_{k+1} = \beta U_k + I - S_k U_{\mathrm{thr}}, \qquad U_0 = 0

    Parameters
    ----------
    current : float
        Constant input current I.
    n_steps : int
        Steps.
    beta : float, default 0.9
        Membrane decay per step.
    threshold : float, default 1.0
        Threshold U_thr.

    Returns
    -------
    U : array of shape (n_steps,)
    S : array of shape (n_steps,)
    """
    if not 0.0 <= beta < 1.0:
        raise InvalidParameterError(f"beta is the leak factor per LIF step and must lie in [0, 1), got {beta}")
    if n_steps < 1:
        raise InvalidParameterError(f"n_steps must be a positive number of LIF steps, got {n_steps}")
    u, spikes, mem, spk = np.zeros(n_steps), np.zeros(n_steps), 0.0, 0.0
    for k in range(n_steps):
        mem = beta * mem + current - spk * threshold
        spk = float(mem > threshold)
        u[k], spikes[k] = mem, spk
    return u, spikes


def atan_surrogate(u: np.ndarray, alpha: float = 2.0) -> np.ndarray:
    """snnTorch's ``surrogate.atan(alpha)`` backward pass: dS/dU ~ (alpha/2) / (1 + (pi/2 alpha u)^2), u = U - thr.

    Parameters
    ----------
    u : array
        U - thr.
    alpha : float, default 2.0
        Slope.

    Returns
    -------
    numpy.ndarray
    """
    u = np.asarray(u, dtype=float)
    return 0.5 * alpha / (1.0 + (0.5 * math.pi * alpha * u) ** 2)


def lif_neuron(current: float = 0.3, beta: float = 0.9, n_steps: int = 30) -> Any:
    """Figure 4.1: one LIF neuron, membrane U_k (top) and spikes S_k (bottom) for a constant input current.

    Annotations mark the four parts of the update: integrate (U rises by the input), leak (factor beta per step),
    fire (U crosses the threshold: S = 1) and reset (the threshold is subtracted). Returns the Figure.

    Parameters
    ----------
    current : float, default 0.3
        Constant input current (threshold units).
    beta : float, default 0.9
        Membrane decay per step.
    n_steps : int, default 30
        Steps drawn.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    u, s = lif_trace(current, n_steps, beta)
    fig = _figure(8.0, 3.6)[0]
    fig.clear()
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    k = np.arange(n_steps)
    top.plot(k, u, "-o", color="#0072B2", markersize=4, label="membrane potential U")
    top.axhline(1.0, color="#D55E00", linestyle="--", label="threshold")
    first = int(np.argmax(s > 0))
    nxt = first + 1 + int(np.argmax(s[first + 1:] > 0))  # annotate the second cycle: first + 1 .. nxt + 1
    arrow = dict(arrowstyle="->", color="0.3")
    top.annotate("integrate: U grows by the input I", (first + 2, u[first + 2]), xytext=(-0.5, 1.5), fontsize=10,
                 arrowprops=arrow)
    top.annotate("leak: U shrinks by the factor beta each\nstep, so the rise slows near the threshold",
                 (nxt - 1, u[nxt - 1]), xytext=(first + 1, 1.9), fontsize=10, arrowprops=arrow)
    top.annotate("fire: U > threshold, S = 1", (nxt, u[nxt]), xytext=(nxt + 5, 1.5), fontsize=10,
                 arrowprops=dict(arrowstyle="->", color="#D55E00"))
    top.annotate("reset: the threshold is subtracted", (nxt + 1, u[nxt + 1]), xytext=(nxt + 3, -0.3), fontsize=10,
                 arrowprops=arrow)
    top.set_ylabel("U (threshold units)")
    top.set_ylim(-0.4, 2.3)
    top.legend(loc="upper right", fontsize=9, frameon=False)
    top.set_title(f"Leaky integrate-and-fire neuron, constant input I = {current:g}, beta = {beta:g}", fontsize=11)
    bottom.vlines(k[s > 0], 0, 1, color="#D55E00", lw=2)
    bottom.set_yticks([0, 1])
    bottom.set_ylabel("spike S")
    bottom.set_xlabel("LIF time step k")
    return fig


def surrogate_pitfall(alpha: float = 2.0) -> Any:
    """Figure 4.2: left, a staircase output x(t) (what a spikes-only network outputs) with its true derivative (zero
    on every step) and the slope autograd reports instead; right, the spike step S(U) and snnTorch's atan surrogate
    dS/dU used in its place by the backward pass. Returns the Figure.

    Parameters
    ----------
    alpha : float, default 2.0
        Slope of the atan surrogate.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig, (left, right) = _figure(10.0, 3.6, ncols=2)
    t = np.linspace(0.0, 2 * math.pi, 2001)
    smooth = np.cos(t)
    stairs = np.round(smooth * 4) / 4  # a few output levels, as a spike count would give
    left.plot(t, smooth, "--", color="0.5", label="what it should output: cos t")
    left.plot(t, stairs, color="#0072B2", lw=2, label="forward output (spikes only): a staircase")
    i = int(np.searchsorted(t, 1.0))
    left.annotate("true dx/dt = 0 on a step", (t[i], stairs[i]), xytext=(1.6, 1.1), fontsize=10,
                  arrowprops=dict(arrowstyle="->", color="0.3"))
    j = int(np.searchsorted(t, 3.9))
    left.annotate("autograd reports a smooth, non-zero\nslope instead: the surrogate's", (t[j], stairs[j]),
                  xytext=(0.0, -1.5), fontsize=10, arrowprops=dict(arrowstyle="->", color="#D55E00"))
    left.set_xlabel("time t")
    left.set_ylabel("x(t)")
    left.set_ylim(-1.6, 2.1)
    left.legend(loc="upper left", fontsize=8, frameon=False)
    left.set_title("Forward output vs what its derivative should be", fontsize=11)
    u = np.linspace(-2.0, 2.0, 801)
    right.plot(u, (u > 0).astype(float), color="#0072B2", lw=2, label="forward: spike S = step(U - thr)")
    right.plot(u, atan_surrogate(u, alpha), color="#D55E00", lw=2,
               label=f"backward: atan surrogate (alpha = {alpha:g})")
    right.set_xlabel("U - threshold")
    right.set_ylabel("S and dS/dU")
    right.set_ylim(-0.1, 1.6)
    right.legend(loc="upper left", fontsize=8, frameon=False)
    right.set_title("The step's true slope is 0 (or infinite)", fontsize=11)
    return fig


def clock_network(n_knots: int = 8, seed: int = 0) -> Any:
    """Figure 4.3: the ClockSNN. Top: the spiking network runs once per knot time t_k (a short LIF run whose input
    current encodes t_k) and returns a coefficient y_k. Bottom: the output neuron is smooth, x(t) = x0 + sum_k
    y_k G(t - t_k), with the Gaussian G of the kit (width = knot spacing): time reaches the output only through G.
    Returns the Figure.

    Parameters
    ----------
    n_knots : int, default 8
        Knots drawn.
    seed : int, default 0
        Seed of the illustrative coefficients.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if n_knots < 3:
        raise InvalidParameterError(f"n_knots must be at least 3 to draw the basis, got {n_knots}")
    import torch

    from ..spiking.basis import gaussian_kernel, make_knots

    t_end = 2 * math.pi
    knots, sigma = make_knots(t_end, n_knots, 1.0, pad=0)
    t = np.linspace(-0.5, t_end + 0.5, 600)
    g = gaussian_kernel(torch.as_tensor(t), torch.as_tensor(knots), sigma).numpy()
    y = np.random.default_rng(seed).normal(0.0, 0.6, n_knots)
    fig = _figure(9.0, 4.4)[0]
    fig.clear()
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 2])
    for k, tk in enumerate(knots):
        top.add_patch(_box(tk, 0.55, 0.35 * sigma, 0.5, "#E69F00"))
        top.annotate("", xy=(tk, 0.28), xytext=(tk, 0.0), arrowprops=dict(arrowstyle="-|>", color="0.3"))
        top.text(tk, 0.55, "LIF", ha="center", va="center", fontsize=8)
        top.annotate("", xy=(tk, 1.12), xytext=(tk, 0.82), arrowprops=dict(arrowstyle="-|>", color="0.3"))
        top.text(tk, 1.25, f"$y_{k}$", ha="center", va="bottom", fontsize=10)
    top.text(knots[0] - 0.45, 0.0, "knot $t_k$", ha="right", va="center", fontsize=9)
    top.set_ylim(-0.2, 1.7)
    top.set_yticks([])
    top.set_title("Spiking network on a clock: one short LIF run per knot time, one coefficient per knot",
                  fontsize=11)
    for k in range(n_knots):
        bottom.plot(t, y[k] * g[:, k], color="0.6", lw=1)
    bottom.plot(t, g @ y, color="#0072B2", lw=2.5, label="x(t) - x0 = sum of y_k G(t - t_k): smooth in t")
    bottom.plot(knots, np.zeros_like(knots), "|", color="k", markersize=12, label="knots t_k")
    bottom.plot([], [], color="0.6", lw=1, label="one bump y_k G(t - t_k)")
    bottom.set_xlabel("time t")
    bottom.set_ylabel("output")
    bottom.legend(loc="upper right", fontsize=8, frameon=False, ncols=3, bbox_to_anchor=(1.0, -0.28))
    return fig


def _box(x: float, y: float, half_w: float, h: float, color: str, **kw: Any) -> Any:
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x - half_w, y - h / 2), 2 * half_w, h, boxstyle="round,pad=0.02", fc=color, ec="0.2",
                          alpha=0.8, **kw)


def _block(ax: Any, x: float, y: float, text: str, color: str, w: float = 1.6, h: float = 0.7) -> None:
    ax.add_patch(_box(x, y, w / 2, h, color))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax: Any, a: tuple[float, float], b: tuple[float, float], text: str = "", color: str = "0.25") -> None:
    ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6))
    if text:
        ax.text(0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]) + 0.4, text, ha="center", va="bottom", fontsize=8,
                color=color)


def operator_branch_trunk() -> Any:
    """Figure 4.4: a physics-informed operator. Branch: problem parameters p -> LIF layers -> coefficients y(p).
    Trunk: the Gaussian basis G(tau - t_k) in scaled time tau. Output x(tau; p) = x0 + sum_k y_k(p) G_k(tau) (plus
    terms that build in the initial conditions); the loss is the residual of Newton's equation over many p.
    Returns the Figure.
    """
    fig, ax = _figure(9.0, 3.4)
    _block(ax, 0.8, 1.6, "parameters p\n(x0, v0, omega)", "#56B4E9")
    _block(ax, 3.2, 1.6, "branch: LIF layers\n(or tanh layers)", "#E69F00")
    _block(ax, 5.6, 1.6, "coefficients\ny_k(p)", "#CC79A7")
    _block(ax, 0.8, 0.0, "scaled time tau", "#56B4E9")
    _block(ax, 3.2, 0.0, "trunk: Gaussians\nG(tau - t_k)", "#009E73")
    _block(ax, 8.0, 0.8, "x(tau; p) =\nx0 + sum_k y_k G_k", "#0072B2", w=2.0, h=0.9)
    _arrow(ax, (1.6, 1.6), (2.4, 1.6), "scaled to [-1, 1]")
    _arrow(ax, (4.0, 1.6), (4.8, 1.6), "linear readout")
    _arrow(ax, (1.6, 0.0), (2.4, 0.0))
    _arrow(ax, (6.4, 1.5), (7.0, 1.0))
    _arrow(ax, (4.0, 0.0), (7.0, 0.6), "smooth: exact derivatives in tau")
    ax.text(4.4, -0.85, "loss: residual of Newton's equation at collocation times, averaged over a batch of p "
            "(no trajectory data)", ha="center", fontsize=9, style="italic")
    ax.set_xlim(-0.3, 9.3)
    ax.set_ylim(-1.1, 2.5)
    ax.axis("off")
    ax.set_title("One network for a family of problems: branch (depends on p) times trunk (depends on time)",
                 fontsize=11)
    return fig


def reservoir_readout() -> Any:
    """Figure 4.5: left, surrogate-gradient training changes every weight by small steps; right, a reservoir keeps
    the random LIF layers fixed and finds the linear readout W in one least-squares solve of the residual (exact for
    a linear equation, a few Levenberg-Marquardt steps otherwise). Returns the Figure.
    """
    fig, (left, right) = _figure(10.0, 3.4, ncols=2)
    for ax, title, fixed in ((left, "Trained operator", False), (right, "Reservoir with a solved readout", True)):
        _block(ax, 0.8, 1.0, "p", "#56B4E9", w=0.9)
        _block(ax, 2.6, 1.0, "LIF layer 1", "0.8" if fixed else "#E69F00", w=1.4)
        _block(ax, 4.5, 1.0, "LIF layer 2", "0.8" if fixed else "#E69F00", w=1.4)
        _block(ax, 6.5, 1.0, "readout W\n-> y(p)", "#CC79A7", w=1.6)
        _arrow(ax, (1.25, 1.0), (1.9, 1.0))
        _arrow(ax, (3.3, 1.0), (3.8, 1.0))
        _arrow(ax, (5.2, 1.0), (5.7, 1.0))
        if fixed:
            ax.text(3.55, 0.2, "random weights, never changed", ha="center", fontsize=9, color="0.35")
            ax.text(6.5, 0.2, "one least-squares solve\nof the residual", ha="center", va="top", fontsize=9,
                    color="#CC79A7")
        else:
            ax.text(4.5, 0.2, "every weight: many small gradient steps\nthrough the surrogate", ha="center",
                    va="top", fontsize=9, color="#D55E00")
        ax.set_xlim(0, 7.9)
        ax.set_ylim(-0.6, 1.8)
        ax.axis("off")
        ax.set_title(title, fontsize=11)
    return fig
