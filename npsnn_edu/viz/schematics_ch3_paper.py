"""Explanatory figures (schematics) of chapter 3's going-further notebook 03c (the paper's four molecules).

* :func:`backbone_torsions` - Figure 3.6: the backbone torsions phi and psi of a capped amino acid, and the
  Ramachandran plane with the basins the kit counts (:data:`npsnn_edu.gpr.protocols.BASINS`) and the two
  conformers of the optimisation test (:data:`npsnn_edu.gpr.peptides.CONFORMERS`);
* :func:`stretch_test` - Figure 3.7: the stretched-bond test: a Morse O-H bond pulled to 1.5 A feels a restoring
  force -dE/dr; the bond then oscillates and settles, and "settled" means the running mean stays within 0.05 A
  of the equilibrium length (:func:`npsnn_edu.gpr.claims.settle_time`, applied to the drawn curve).

Every function returns a matplotlib Figure that shows itself as a PNG when it is a cell's value (nothing is shown
or written to disk); tests/test_schematics_ch3_paper.py checks what is drawn against the kit's values.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from ..gpr.claims import settle_time
from ..gpr.paper_runs import SETTLE_WITHIN_A
from ..gpr.peptides import CONFORMERS
from ..gpr.protocols import BASINS
from ..units import KCAL_PER_MOL_EV

__all__ = ["OH_MORSE", "backbone_torsions", "morse_oh", "relaxing_bond", "stretch_test"]

#: An O-H-like Morse bond E(r) = D (1 - exp(-a (r - r_e)))^2 (eV, 1/A, A) for the drawing only.
OH_MORSE = {"D_eV": 4.6, "a_per_A": 2.3, "r_e_A": 0.97}


def _figure(width: float, height: float, ncols: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    class SchematicFigure(Figure):
        """A matplotlib Figure that shows itself as a PNG when it is a cell's value (no pyplot, no backend)."""

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=100)
            return buf.getvalue()

    fig = SchematicFigure(figsize=(width, height), dpi=100, layout="constrained")
    return fig, fig.subplots(1, ncols)


def backbone_torsions() -> Any:
    """Figure 3.6: the backbone C-N-CA-C-N with phi (about N-CA) and psi (about CA-C); the (phi, psi) plane with
    the basins and the C7eq and C5 conformers."""
    from matplotlib.patches import FancyArrowPatch, Rectangle

    fig, (ax, bx) = _figure(9.6, 3.9, 2)
    names = ["C (cap)", "N", "CA", "C", "N (cap)"]
    x = np.arange(5) * 1.0
    y = np.array([0.0, 0.5, 0.0, 0.5, 0.0])
    ax.plot(x, y, "-", color="0.3", lw=3)
    for xi, yi, n in zip(x, y, names):
        ax.plot([xi], [yi], "o", ms=16, color="#56B4E9" if n.startswith("N") else "0.6")
        ax.annotate(n, (xi, yi), xytext=(0, 14 if yi > 0 else -22), textcoords="offset points", ha="center")
    for (i, label, c) in ((1, "phi", "#D55E00"), (2, "psi", "#009E73")):
        mx, my = (x[i] + x[i + 1]) / 2, (y[i] + y[i + 1]) / 2
        ax.add_patch(FancyArrowPatch((mx - 0.18, my - 0.28), (mx + 0.18, my - 0.28), connectionstyle="arc3,rad=-0.8",
                                     arrowstyle="-|>", mutation_scale=14, color=c, lw=2))
        ax.text(mx, my - 0.62, label, color=c, ha="center", fontsize=12)
    ax.set_xlim(-0.6, 4.6)
    ax.set_ylim(-1.0, 1.1)
    ax.set_title("phi: rotation about N-CA; psi: about CA-C")
    ax.set_xlabel("backbone of Ace-X-NMe (schematic, no scale)")
    ax.set_ylabel("(drawing)")
    ax.set_xticks([])
    ax.set_yticks([])
    colors = ("#0072B2", "#D55E00", "#CC79A7")
    for (name, ((p0, p1), (s0, s1))), c in zip(BASINS.items(), colors):
        bx.add_patch(Rectangle((p0, s0), p1 - p0, s1 - s0, fill=False, ls=":", lw=2, ec=c, label=f"basin {name}"))
    for k, (name, (p, s)) in enumerate(CONFORMERS.items()):
        bx.plot([p], [s], "x", ms=12, mew=3, color=("#009E73", "#E69F00")[k % 2])
        bx.annotate(name, (p, s), xytext=(6, 6), textcoords="offset points")
    bx.set_xlim(-180, 180)
    bx.set_ylim(-180, 180)
    bx.set_xticks(range(-180, 181, 90))
    bx.set_yticks(range(-180, 181, 90))
    bx.set_xlabel("phi (degrees)")
    bx.set_ylabel("psi (degrees)")
    bx.set_title("Ramachandran plane: basins and the two conformers")
    bx.legend(loc="lower right", fontsize=8)
    return fig


def morse_oh(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Energy (eV) and the force along the bond -dE/dr (eV/A; positive pushes r up) of :data:`OH_MORSE`.

    Parameters
    ----------
    r : np.ndarray
        O-H distance(s) in A.
    """
    d, a, re = OH_MORSE["D_eV"], OH_MORSE["a_per_A"], OH_MORSE["r_e_A"]
    e = np.exp(-a * (np.asarray(r, float) - re))
    return d * (1.0 - e) ** 2, -2.0 * d * a * (1.0 - e) * e


def relaxing_bond(t: np.ndarray, start_A: float = 1.5, friction_per_fs: float = 0.02) -> np.ndarray:
    """A drawn bond-length trace (A): the O-H of :data:`OH_MORSE` (reduced mass of O-H) released at rest from
    ``start_A`` with the Langevin friction of the chapter's runs and no random kicks (scipy DOP853); for the figure
    only, not a molecule's simulation.

    Parameters
    ----------
    t : np.ndarray
        times in fs.
    start_A : float, default 1.5
        the stretched bond length at t = 0, in A.
    friction_per_fs : float, default 0.02
        Langevin friction in 1/fs.
    """
    from scipy.integrate import solve_ivp

    mu = 15.999 * 1.008 / (15.999 + 1.008)  # amu
    accel = 1.0 / 103.6427  # (eV/A) / amu -> A/fs^2
    t = np.asarray(t, float)

    def rhs(_: float, y: np.ndarray) -> list[float]:
        f = float(morse_oh(np.array([y[0]]))[1][0])
        return [y[1], f / mu * accel - friction_per_fs * y[1]]

    sol = solve_ivp(rhs, (0.0, float(t[-1])), [float(start_A), 0.0], t_eval=t, method="DOP853", rtol=1e-9,
                    atol=1e-12)
    return sol.y[0]


def stretch_test(start_A: float = 1.5) -> Any:
    """Figure 3.7: the Morse energy with the stretched start and its restoring force (left); a drawn relaxation
    with the settle band and the settle time the kit's rule gives for it (right).

    Parameters
    ----------
    start_A : float, default 1.5
        the stretched bond length at t = 0, in A.
    """
    fig, (ax, bx) = _figure(9.6, 3.6, 2)
    re = OH_MORSE["r_e_A"]
    r = np.linspace(0.75, 2.0, 300)
    e, _ = morse_oh(r)
    e0, f0 = morse_oh(np.array([start_A]))
    force = float(f0[0]) / KCAL_PER_MOL_EV
    ax.plot(r, e, color="0.3")
    ax.plot([start_A], [e0[0]], "o", color="#D55E00", ms=9)
    ax.annotate("", xy=(start_A - 0.3, e0[0]), xytext=(start_A, e0[0]),
                arrowprops=dict(arrowstyle="-|>", color="#D55E00", lw=2))
    ax.text(start_A - 0.3, e0[0] + 0.25, f"force {abs(force):.0f} kcal/mol/A\npulls the H back", color="#D55E00",
            fontsize=9)
    ax.axvline(re, color="0.5", ls="--", lw=1)
    ax.set_ylim(-0.2, 3.5)
    ax.set_xlabel("O-H distance r (A)")
    ax.set_ylabel("E(r) (eV)")
    ax.set_title(f"Stretched to {start_A:g} A: high on the wall")
    t = np.arange(0.0, 400.0, 1.0)
    rt = relaxing_bond(t, start_A)
    ts = settle_time(t.tolist(), rt.tolist(), re)
    bx.axhspan(re - SETTLE_WITHIN_A, re + SETTLE_WITHIN_A, color="0.85", label=f"within {SETTLE_WITHIN_A:g} A")
    bx.plot(t, rt, color="#0072B2", lw=1, label="bond length")
    if ts is not None:
        bx.axvline(ts, color="#009E73", ls="--", label=f"settled from t = {ts:.0f} fs")
    bx.set_xlabel("time (fs)")
    bx.set_ylabel("O-H (A)")
    bx.set_title("Relaxing: the running mean stays in the band")
    bx.legend(loc="upper right", fontsize=8)
    fig.settle_time_fs = ts
    fig.start_force_kcal_per_A = force
    return fig
