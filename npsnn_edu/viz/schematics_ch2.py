"""Explanatory figures (schematics) of chapter 2: drawn with matplotlib, one function per figure.

* :func:`eigenvalue_paths` - the two eigenvalues of velocity Verlet's amplification matrix M(h) in the complex
  plane as h = omega dt grows: on the unit circle while h < 2, meeting at -1 at h = 2, then real, one outside;
* :func:`stability_vs_accuracy` - the two questions one asks of a time step: does the energy error stay bounded
  (stability) and is it small enough (accuracy)? Verlet's bounded oscillation (omega dt)^2 / 4 against a
  tolerance and the stability limit;
* :func:`baoab_splitting` - one BAOAB Langevin step as five sub-steps on a time line (half kick, half drift,
  friction + noise, half drift, half kick).

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or written to disk). The curves are
computed from the kit (the eigenvalues come from the measured amplification matrix of the core integrator), not
typed in; tests/test_schematics_ch2.py checks them. h is dimensionless.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import InvalidParameterError
from ..md.stability import amplification_matrix
from ..validation import positive
from .plots import enable_inline_png

__all__ = ["eigenvalue_paths", "stability_vs_accuracy", "baoab_splitting", "verlet_eigenvalues"]


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)  # no GUI window; enable_inline_png makes a notebook show the Figure
    from matplotlib.figure import Figure

    enable_inline_png()
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = [fig.add_subplot(1, ncols, k + 1) for k in range(ncols)]
    return fig, (axes[0] if ncols == 1 else axes)


def verlet_eigenvalues(h: float) -> np.ndarray:
    """The two eigenvalues of velocity Verlet's measured amplification matrix at h = omega dt (complex array).

    Uses trace t and determinant d of :func:`~npsnn_edu.md.stability.amplification_matrix` (lambda = t/2 +-
    sqrt(t^2/4 - d)), exact to rounding even at the double eigenvalue h = 2.

    Parameters
    ----------
    h : float
        omega dt.

    Returns
    -------
    complex array of shape (2,)
    """
    m = amplification_matrix("velocity_verlet", positive("h", h, hint="h = omega * dt, e.g. h=1.0"))
    t, d = m[0, 0] + m[1, 1], m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    root = np.sqrt(complex(0.25 * t * t - d))
    return np.array([0.5 * t + root, 0.5 * t - root])


def eigenvalue_paths(marked: Sequence[float] = (0.5, 1.0, 1.5, 2.3)) -> Any:
    """Figure 2.1: where the eigenvalues of Verlet's M(h) sit in the complex plane as h grows from 0 to 2.4.

    The unit circle is drawn; each ``marked`` h gets its pair of eigenvalues as labelled dots (h < 2: a complex
    pair on the circle at angle +-theta; h > 2: two real eigenvalues, one outside the circle). Returns the Figure.

    Parameters
    ----------
    marked : sequence of float, default (0.5, 1.0, 1.5, 2.3)
        Values of h = omega dt whose eigenvalues are labelled.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    marked = [float(positive("h", h)) for h in marked]
    if not marked:
        raise InvalidParameterError("give at least one h to mark, e.g. marked=(1.0, 2.3)")
    fig, ax = _figure(6.4, 4.6)
    phi = np.linspace(0, 2 * np.pi, 361)
    ax.plot(np.cos(phi), np.sin(phi), color="0.6", lw=1.2, label="unit circle |lambda| = 1")
    hs = np.unique(np.concatenate([np.linspace(0.01, 2.0, 300), np.linspace(2.0, 2.4, 200)]))
    lam = np.array([verlet_eigenvalues(h) for h in hs])
    ax.plot(lam[:, 0].real, lam[:, 0].imag, color="tab:blue", lw=2, label="eigenvalue path, h from 0 to 2.4")
    ax.plot(lam[:, 1].real, lam[:, 1].imag, color="tab:blue", lw=2)
    colors = ["tab:green", "tab:olive", "tab:orange", "tab:red", "tab:purple", "tab:brown"]
    for k, h in enumerate(marked):
        pair = verlet_eigenvalues(h)
        ax.plot(pair.real, pair.imag, "o", color=colors[k % len(colors)], markersize=9, zorder=3,
                label=f"h = {h:g}: |lambda| = {np.max(np.abs(pair)):.2f}")
    ax.plot([1.0], [0.0], "k^", markersize=8, zorder=3)
    arrow = dict(arrowstyle="->", color="0.3")
    ax.annotate("h = 0: both at 1", (1.0, 0.0), xytext=(0.35, 1.2), fontsize=10, arrowprops=arrow)
    ax.annotate("h = 2: both at -1", (-1.0, 0.0), xytext=(-2.6, 0.7), fontsize=10, arrowprops=arrow)
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.set_aspect("equal")
    ax.set_xlim(-3.6, 1.6)
    ax.set_ylim(-1.45, 1.45)
    ax.set_xlabel("Re lambda")
    ax.set_ylabel("Im lambda")
    ax.set_title("Eigenvalues of velocity Verlet's one-step matrix M(h)")
    ax.legend(loc="lower left", fontsize=8, framealpha=0.95)
    return fig


def stability_vs_accuracy(tolerance: float = 0.1) -> Any:
    """Figure 2.2: two different questions about a time step, on the harmonic oscillator with velocity Verlet.

    Below the stability limit h = 2 the relative energy error is bounded by (omega dt)^2 / 4 (shadow
    Hamiltonian): the run is *stable*. It is *accurate* only where that bound is below ``tolerance``
    (dimensionless), i.e. h < 2 sqrt(tolerance). Beyond h = 2 the error grows every step without bound
    (*diverged*). Shaded: accurate, stable but inaccurate, diverged. Returns the Figure.

    Parameters
    ----------
    tolerance : float, default 0.1
        Accepted relative energy error.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    tolerance = float(positive("tolerance", tolerance, hint="a relative energy error, e.g. tolerance=0.1"))
    if tolerance >= 1.0:
        raise InvalidParameterError(f"tolerance must be below 1 (the bound reaches 1 at h = 2), got {tolerance!r}")
    fig, ax = _figure(7.2, 3.8)
    h = np.linspace(0.02, 1.999, 300)
    bound = h**2 / 4
    h_acc = 2.0 * np.sqrt(tolerance)
    ax.plot(h, bound, color="tab:blue", lw=2.2, label="bounded error (omega dt)^2 / 4 (stable)")
    ax.axhline(tolerance, color="tab:green", ls="--", lw=1.5, label=f"accuracy tolerance {tolerance:g}")
    ax.axvline(2.0, color="tab:red", ls=":", lw=1.8, label="stability limit h = 2")
    ax.axvspan(0.0, h_acc, color="tab:green", alpha=0.10)
    ax.axvspan(h_acc, 2.0, color="tab:orange", alpha=0.12)
    ax.axvspan(2.0, 2.8, color="tab:red", alpha=0.10)
    grow = np.linspace(2.0, 2.8, 50)
    ax.plot(grow, 1.0 + 30 * (grow - 2.0) ** 1.5, color="tab:red", lw=2.2, label="diverged: grows every step")
    ax.text(0.5 * h_acc, 1.6, "accurate", ha="center", fontsize=10, color="darkgreen")
    ax.text(0.5 * (h_acc + 2.0), 1.6, "stable,\nnot accurate", ha="center", fontsize=10, color="darkorange")
    ax.text(2.4, 1.6, "diverged", ha="center", fontsize=10, color="darkred")
    ax.set_xlim(0.0, 2.8)
    ax.set_ylim(0.0, 2.0)
    ax.set_xlabel("h = omega dt (dimensionless)")
    ax.set_ylabel("max relative energy error")
    ax.set_title("Stability and accuracy are two different limits")
    ax.legend(loc="center left", fontsize=8, framealpha=0.95)
    return fig


#: The five sub-steps of BAOAB: (letter, what it does, duration as a fraction of dt).
BAOAB_STEPS: tuple[tuple[str, str, float], ...] = (
    ("B", "half kick\nv += (dt/2) F/m", 0.5),
    ("A", "half drift\nx += (dt/2) v", 0.5),
    ("O", "friction + noise\nv = c v + sqrt(1-c^2) s xi", 1.0),
    ("A", "half drift\nx += (dt/2) v", 0.5),
    ("B", "half kick\nv += (dt/2) F/m", 0.5),
)


def baoab_splitting() -> Any:
    """Figure 2.3: one BAOAB Langevin step as five boxes in order, with the force computed once per step.

    B: half kick with the force; A: half drift; O: the exact Ornstein-Uhlenbeck update of the velocity with
    c = exp(-gamma dt) and s = sqrt(k_B T / m) (xi a standard normal number); A, B again. With the noise off
    (T = 0) every sub-step is linear, so the step is a 2 x 2 matrix like Verlet's. Returns the Figure.
    """
    fig, ax = _figure(8.6, 2.8)
    colors = {"B": "tab:orange", "A": "tab:blue", "O": "tab:green"}
    x = 0.0
    for k, (letter, text, _) in enumerate(BAOAB_STEPS):
        ax.add_patch(_box(x, colors[letter]))
        ax.text(x + 0.8, 0.72, letter, ha="center", va="center", fontsize=18, fontweight="bold", color="white")
        ax.text(x + 0.8, 0.22, text, ha="center", va="center", fontsize=8)
        if k < len(BAOAB_STEPS) - 1:
            ax.annotate("", xy=(x + 1.95, 0.72), xytext=(x + 1.65, 0.72),
                        arrowprops=dict(arrowstyle="-|>", color="0.3", lw=1.5))
        x += 2.0
    ax.text(0.8, 1.25, "uses F(x_n)", ha="center", fontsize=9)
    ax.text(8.8, 1.25, "uses F(x_n+1): one new force per step", ha="center", fontsize=9)
    ax.set_xlim(-0.2, 10.0)
    ax.set_ylim(-0.15, 1.45)
    ax.axis("off")
    ax.set_title("One BAOAB step of Langevin dynamics (c = exp(-gamma dt))")
    return fig


def _box(x: float, color: str) -> Any:
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, 0.45), 1.6, 0.55, boxstyle="round,pad=0.02", facecolor=color, edgecolor="0.2")
