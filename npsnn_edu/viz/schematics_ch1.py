"""Explanatory figures (schematics) of chapter 1: drawn with matplotlib, one function per figure.

* :func:`kick_drift_kick` - one velocity-Verlet step as half kick, drift, half kick on a time line, with the force
  evaluated once per step and reused by the next step;
* :func:`minimum_image` - a periodic box in 2D with its images: the nearest image of a partner atom is the one the
  minimum-image rule picks, and the cut-off sphere must fit into half the box;
* :func:`langevin_thermostat` - the three forces on an atom in Langevin dynamics (conservative, friction, random)
  and the balance that fixes the temperature.

Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or written to disk); the geometry
drawn is computed, not typed in (e.g. the nearest image comes from the same rule the kit's analysis uses), and
tests/test_schematics_ch1.py checks it. Lengths in the drawings are in arbitrary units.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidParameterError
from .plots import enable_inline_png

__all__ = ["kick_drift_kick", "minimum_image", "langevin_thermostat", "nearest_image", "enable_inline_png"]


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)  # no GUI window; enable_inline_png makes a notebook show the Figure
    from matplotlib.figure import Figure

    enable_inline_png()

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.add_subplot(1, 1, 1)


def kick_drift_kick() -> Any:
    """Figure 1.1: one velocity-Verlet step, v_n -> v_{n+1/2} -> v_{n+1} and x_n -> x_{n+1}, on a time line.

    Two rows (positions above, velocities below) against time t_n, t_n + dt/2, t_n + dt. Arrows: the first half
    kick uses F(x_n), the drift uses v_{n+1/2}, the second half kick uses F(x_{n+1}), which the next step reuses
    (one force evaluation per step). Returns the Figure.
    """
    fig, ax = _figure(8.0, 3.4)
    t = {"n": 0.0, "half": 1.0, "n1": 2.0}
    y_x, y_v = 1.0, 0.0
    dot = dict(marker="o", markersize=11, linestyle="none", zorder=3)
    ax.plot([t["n"], t["n1"]], [y_x, y_x], color="tab:blue", **dot)
    ax.plot([t["n"], t["half"], t["n1"]], [y_v, y_v, y_v], color="tab:orange", **dot)
    labels = [(t["n"], y_x, r"$x_n$"), (t["n1"], y_x, r"$x_{n+1}$"), (t["n"], y_v, r"$v_n$"),
              (t["half"], y_v, r"$v_{n+1/2}$"), (t["n1"], y_v, r"$v_{n+1}$")]
    for xx, yy, text in labels:
        ax.annotate(text, (xx, yy), xytext=(0, 14 if yy == y_x else -22), textcoords="offset points",
                    ha="center", fontsize=13)

    def arrow(a: tuple[float, float], b: tuple[float, float], color: str, text: str, offset: tuple[float, float],
              rad: float = 0.0) -> None:
        ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle="-|>", color=color, lw=2.2, shrinkA=9, shrinkB=9,
                                                        connectionstyle=f"arc3,rad={rad}"))
        mid = (0.5 * (a[0] + b[0]) + offset[0], 0.5 * (a[1] + b[1]) + offset[1])
        ax.text(*mid, text, color=color, ha="center", va="center", fontsize=11)

    arrow((t["n"], y_v), (t["half"], y_v), "tab:red", "1. half kick\n" + r"$+\frac{\Delta t}{2m}F(x_n)$",
          (0, -0.42))
    arrow((t["n"], y_x), (t["n1"], y_x), "tab:green", "2. drift " + r"$+\Delta t\, v_{n+1/2}$", (0, 0.42))
    ax.annotate("", xy=(t["n"] + 1.0, y_x - 0.08), xytext=(t["half"], y_v + 0.12),
                arrowprops=dict(arrowstyle="-|>", color="tab:green", lw=1.2, linestyle=":"))
    arrow((t["half"], y_v), (t["n1"], y_v), "tab:red", "3. half kick\n" + r"$+\frac{\Delta t}{2m}F(x_{n+1})$",
          (0, -0.42))
    ax.annotate("", xy=(t["n1"] - 0.03, y_v + 0.12), xytext=(t["n1"] - 0.03, y_x - 0.12),
                arrowprops=dict(arrowstyle="-|>", color="gray", lw=1.2, linestyle="--"))
    ax.text(t["n1"] + 0.08, 0.5, "force computed once\nat $x_{n+1}$, reused by\nthe next step's kick 1",
            color="dimgray", fontsize=10, va="center", ha="left")
    ax.set_xticks([t["n"], t["half"], t["n1"]], [r"$t_n$", r"$t_n + \Delta t/2$", r"$t_n + \Delta t$"], fontsize=12)
    ax.set_yticks([y_v, y_x], ["velocity", "position"], fontsize=12)
    ax.set_xlim(-0.35, 3.0)
    ax.set_ylim(-1.0, 1.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("One velocity-Verlet step: half kick, drift, half kick", fontsize=13)
    return fig


def nearest_image(xi: Any, xj: Any, box: Any) -> np.ndarray:
    """Position of the image of ``xj`` nearest to ``xi`` in a periodic orthorhombic box (minimum-image rule).

    ``xi``, ``xj``: coordinates (same length d); ``box``: the d edge lengths (> 0), same length unit. Returns
    ``xi + d`` with ``d = (xj - xi) - box * round((xj - xi) / box)``, each component of ``d`` in [-L/2, L/2].

    Parameters
    ----------
    xi, xj : array of shape (n_dim,)
        Coordinates.
    box : array of shape (n_dim,)
        Edge lengths (> 0).

    Returns
    -------
    array of shape (n_dim,)

    Raises
    ------
    InvalidParameterError
        Mismatched lengths or a non-positive box.
    """
    a, b, L = (np.asarray(v, dtype=float) for v in (xi, xj, box))
    if a.shape != b.shape or L.shape != a.shape or np.any(L <= 0):
        raise InvalidParameterError(f"xi, xj and box must have the same length and box > 0, got shapes {a.shape}, "
                                    f"{b.shape}, {L.shape} and box = {L}")
    d = b - a
    return a + d - L * np.round(d / L)


def minimum_image(*, box: float = 4.0, xi: tuple[float, float] = (0.8, 1.0),
                  xj: tuple[float, float] = (3.4, 2.2), cutoff: float = 2.0) -> Any:
    """Figure 1.2: the minimum-image rule in a periodic 2D box of edge ``box`` (arbitrary length units).

    The central box and its eight images; atom i at ``xi`` and atom j at ``xj``: the direct vector inside the box
    (dashed, long) and the vector to j's nearest image (solid, short, from :func:`nearest_image`), with the
    cut-off circle of radius ``cutoff`` around i. Needs ``cutoff <= box / 2`` (else an atom could see two images
    of the same partner). Returns the Figure.

    Parameters
    ----------
    box : float, default 4.0
        Box edge (arbitrary length units).
    xi : tuple of 2 floats, default (0.8, 1.0)
        Position of atom i.
    xj : tuple of 2 floats, default (3.4, 2.2)
        Position of atom j.
    cutoff : float, default 2.0
        Cut-off radius, at most box / 2.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    InvalidParameterError
        A cutoff outside (0, box / 2].
    """
    if not 0 < cutoff <= box / 2:
        raise InvalidParameterError(f"cutoff must be in (0, box/2] = (0, {box / 2}], got {cutoff}: with a larger "
                                    "cut-off an atom would interact with two images of the same partner")
    fig, ax = _figure(6.0, 6.0)
    from matplotlib.patches import Circle, Rectangle

    L = float(box)
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            central = i == 0 and j == 0
            ax.add_patch(Rectangle((i * L, j * L), L, L, fill=central, facecolor="#eef4ff" if central else "none",
                                   edgecolor="black" if central else "gray", lw=2.0 if central else 0.8,
                                   linestyle="-" if central else "--", zorder=0))
            ax.plot(xi[0] + i * L, xi[1] + j * L, "o", color="tab:blue", markersize=9 if central else 6,
                    alpha=1.0 if central else 0.35)
            ax.plot(xj[0] + i * L, xj[1] + j * L, "o", color="tab:orange", markersize=9 if central else 6,
                    alpha=1.0 if central else 0.35)
    near = nearest_image(xi, xj, (L, L))
    ax.annotate("", xy=xj, xytext=xi, arrowprops=dict(arrowstyle="-|>", color="gray", lw=1.5, linestyle="--"))
    ax.annotate("", xy=tuple(near), xytext=xi, arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=2.5))
    ax.add_patch(Circle(xi, cutoff, fill=False, edgecolor="tab:red", lw=1.2, linestyle=":"))
    ax.text(xi[0], xi[1] - 0.45, "i", color="tab:blue", fontsize=14, ha="center")
    ax.text(xj[0] + 0.15, xj[1] + 0.2, "j", color="tab:orange", fontsize=14)
    ax.text(near[0], near[1] + 0.3, "nearest image of j", color="tab:red", fontsize=11, ha="center")
    ang = float(np.arctan2(xj[1] - xi[1], xj[0] - xi[0]))
    ax.text(0.5 * (xi[0] + xj[0]) + 0.12 * np.sin(ang), 0.5 * (xi[1] + xj[1]) - 0.12 * np.cos(ang),
            "direct: longer than L/2", color="dimgray", fontsize=10, ha="center", va="top", rotation_mode="anchor",
            rotation=float(np.degrees(ang)))
    ax.text(0.5 * L, L + 0.15, "simulation box", ha="center", fontsize=11)
    ax.text(xi[0], xi[1] - cutoff - 0.3, r"cut-off sphere, $r_c \leq L/2$", color="tab:red", fontsize=10,
            ha="center")
    ax.set_xlim(-0.6 * L, 1.6 * L)
    ax.set_ylim(-0.6 * L, 1.6 * L)
    ax.set_aspect("equal")
    ax.set_xticks([0, L], ["0", "L"])
    ax.set_yticks([0, L], ["0", "L"])
    ax.set_title("Minimum image: each pair interacts through its nearest copy", fontsize=12)
    return fig


def langevin_thermostat() -> Any:
    """Figure 1.3: the three forces of Langevin dynamics on one atom and the balance that sets the temperature.

    An atom with velocity v feels the conservative force F = -dU/dx, a friction -m gamma v against its motion and
    random kicks of zero mean; friction removes kinetic energy in proportion to gamma T_kin, the kicks add it in
    proportion to gamma T (fluctuation-dissipation), so T_kin relaxes to T in about 1/gamma. Returns the Figure.
    """
    fig, ax = _figure(7.6, 3.6)
    from matplotlib.patches import Circle

    ax.add_patch(Circle((0.0, 0.0), 0.32, color="tab:blue", zorder=3))
    ax.text(0, 0, "atom", color="white", ha="center", va="center", fontsize=11, zorder=4)

    def arrow(dx: float, dy: float, color: str, text: str, where: tuple[float, float]) -> None:
        ax.annotate("", xy=(dx, dy), xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=color, lw=2.5,
                                                                     shrinkA=22), zorder=2)
        ax.text(*where, text, color=color, fontsize=11, ha="center", va="center")

    arrow(1.6, 0.0, "black", "velocity $v$", (1.2, 0.22))
    arrow(0.0, 1.3, "tab:green", r"$F = -\partial U/\partial x$" + "\n(as in Newton)", (0.0, 1.62))
    arrow(-1.35, 0.0, "tab:red", r"friction $-m\gamma v$" + "\n(removes energy)", (-1.45, 0.42))
    rng = np.random.default_rng(3)
    for angle in rng.uniform(0, 2 * np.pi, 5):
        r = rng.uniform(0.6, 0.95)
        ax.annotate("", xy=(r * np.cos(angle) * 1.0, r * np.sin(angle) * 1.0 - 0.1), xytext=(0, -0.1),
                    arrowprops=dict(arrowstyle="-|>", color="tab:purple", lw=1.0, shrinkA=20, alpha=0.7))
    ax.text(0.0, -1.35, r"random kicks, strength $\propto \sqrt{2 m \gamma k_B T}$ (adds energy)",
            color="tab:purple", fontsize=11, ha="center")
    ax.text(2.05, -0.6, "balance:\nenergy removed = energy added\nwhen the kinetic temperature is $T$",
            fontsize=10, ha="left", va="center", color="dimgray")
    ax.set_xlim(-2.4, 5.2)
    ax.set_ylim(-1.6, 2.0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Langevin dynamics: Newton + friction + random kicks", fontsize=12)
    return fig
