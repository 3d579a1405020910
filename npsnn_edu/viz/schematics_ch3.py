"""Explanatory figures (schematics) of chapter 3: drawn with matplotlib, one function per figure.

* :func:`gp_two_priors` - Figure 3.1: a one-dimensional GP fitted to a few energies of a stretched bond, with two
  constant prior means (the mean of the data; the dissociation limit): near the data both curves follow the
  data, far from it each returns to its own prior mean;
* :func:`prior_weight_schematic` - Figure 3.2: the prior weight w(x) of the same data for a long and a short
  lengthscale: w ~ 0 near data (the data speak), w -> 1 far away (the prior speaks), and a short lengthscale
  lets w rise between data points too;
* :func:`prior_shapes` - Figure 3.4 (going further): the GP of the same toy data under the public prior means:
  constant ones go flat far away, the anchored linear mean keeps its slope (downhill on one side), the anchored
  quadratic one keeps its curvature;
* :func:`stretched_oh_geometry` - Figure 3.5 (going further): malondialdehyde's enol ring in its own plane with
  the H moved along its O-H bond to 1.5 A, and its distances to both oxygens;
* :func:`zero_crash_bound` - Figure 3.3: the probability (1 - p)^n of seeing no crash in n runs when each run
  crashes with probability p; where it falls below 2.5 % lies the exact (Clopper-Pearson) 95 % upper bound.

The curves are computed, not drawn by hand: :func:`gp_1d` is a plain one-dimensional GP (the formulas of the
chapter's primer), and tests/test_schematics_ch3.py checks it against scikit-learn's GaussianProcessRegressor
and the closed forms. Every function returns a :class:`matplotlib.figure.Figure` (nothing is shown or saved).
Units of the toy: bond length in Angstrom, energy in eV.
"""
from __future__ import annotations

import io
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["gp_1d", "toy_bond_data", "morse_toy", "anchored_prior", "gp_two_priors", "prior_weight_schematic",
           "zero_crash_bound", "zero_crash_upper_bound", "prior_shapes", "stretched_oh_geometry"]

#: The toy bond of the primer: a Morse curve E(r) = D (1 - exp(-a (r - r_e)))^2 (eV, A).
TOY_BOND = {"D_eV": 4.5, "a_per_A": 2.2, "r_e_A": 1.0}


def schematic_figure(width: float, height: float) -> Any:
    """An empty matplotlib Figure of ``width`` x ``height`` inches that a notebook cell shows as a PNG.

    Parameters
    ----------
    width, height : float
        Size (inches).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    class SchematicFigure(Figure):
        """A matplotlib Figure that shows itself as a PNG when it is a cell's value (no pyplot, no backend)."""

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=100)
            return buf.getvalue()

    return SchematicFigure(figsize=(width, height), dpi=100, layout="constrained")


def _figure(width: float, height: float) -> tuple[Any, Any]:
    fig = schematic_figure(width, height)
    return fig, fig.add_subplot(1, 1, 1)


def toy_bond_data(n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """``n`` training points (bond length in A, energy in eV) of the toy Morse bond, spread over the thermally
    visited well 0.9-1.15 A. Returns ``(r, E)``.

    Parameters
    ----------
    n : int, default 6
        Number of points.

    Returns
    -------
    r : array of shape (n,)
        Bond lengths (A).
    E : array of shape (n,)
        Energies (eV).
    """
    if int(n) < 2:
        raise InvalidParameterError(f"n must be at least 2 training points, got {n}")
    r = np.linspace(0.9, 1.15, int(n))
    return r, morse_toy(r)


def morse_toy(r: "np.ndarray | float") -> np.ndarray:
    """The toy bond's true energy (eV) at bond length ``r`` (A).

    Parameters
    ----------
    r : float or array
        Bond length (A).

    Returns
    -------
    numpy.ndarray
        Energy (eV).
    """
    b = TOY_BOND
    return b["D_eV"] * (1.0 - np.exp(-b["a_per_A"] * (np.asarray(r, float) - b["r_e_A"]))) ** 2


def gp_1d(x_train: Sequence[float], y_train: Sequence[float], x: Sequence[float], lengthscale: float,
          prior_mean: "float | Callable[[np.ndarray], np.ndarray]" = 0.0, nugget: float = 1e-6,
          variance: float = 1.0) -> dict[str, np.ndarray]:
    """A one-dimensional GP with the RBF kernel k(x, x') = s^2 exp(-(x - x')^2 / (2 l^2)) and a prior mean.

    Parameters
    ----------
    x_train, y_train : training inputs (same unit as ``lengthscale``) and targets (any unit, e.g. eV).
    x : where to predict.
    lengthscale : l (same unit as x), > 0.
    prior_mean : the constant m (unit of y), or a function m(x) returning an array (e.g. an anchored line).
    nugget : relative noise sigma^2 / s^2 added to the diagonal (dimensionless, > 0).
    variance : s^2 (unit of y squared), > 0.

    Returns a dict with ``mean`` = m + k_*^T C^-1 (y - m), ``std`` (posterior standard deviation, unit of y)
    and ``w`` = 1 - k_*^T C^-1 1 (the prior weight, dimensionless), with C = s^2 (R + nugget I).
    """
    xt, yt, xs = (np.asarray(v, float).reshape(-1) for v in (x_train, y_train, x))
    if xt.shape != yt.shape or not len(xt):
        raise InvalidParameterError(f"x_train and y_train must be 1-D of the same non-zero length, got {xt.shape} "
                                    f"and {yt.shape}")
    for name, val in (("lengthscale", lengthscale), ("nugget", nugget), ("variance", variance)):
        if not np.isfinite(val) or val <= 0:
            raise InvalidParameterError(f"{name} must be a positive number, got {val}")
    k = lambda a, b: variance * np.exp(-0.5 * (a[:, None] - b[None, :]) ** 2 / lengthscale**2)  # noqa: E731
    C = k(xt, xt) + variance * nugget * np.eye(len(xt))
    ks = k(xs, xt)
    L = np.linalg.cholesky(C)
    solve = lambda b: np.linalg.solve(L.T, np.linalg.solve(L, b))  # noqa: E731
    m_of = prior_mean if callable(prior_mean) else (lambda v: np.full(v.shape, float(prior_mean)))
    mean = m_of(xs) + ks @ solve(yt - m_of(xt))
    w = 1.0 - ks @ solve(np.ones_like(yt))
    v = np.linalg.solve(L, ks.T)
    std = np.sqrt(np.maximum(variance - (v**2).sum(0), 0.0))
    return {"mean": mean, "std": std, "w": w}


def _toy_bond_frame(ax: Any, r: np.ndarray, r_tr: np.ndarray, e_tr: np.ndarray, ylim: tuple[float, float],
                    title: str, ncol: int) -> None:
    """The toy bond's GP panel around its curves: training energies, the data span, limits, labels, legend."""
    ax.plot(r_tr, e_tr, "ko", ms=7, zorder=4, label="training energies")
    ax.axvspan(r_tr.min(), r_tr.max(), color="0.9", zorder=0)
    ax.set_xlim(r[0], r[-1])
    ax.set_ylim(*ylim)
    ax.set_xlabel("bond length r (Å)")
    ax.set_ylabel("energy (eV)")
    ax.set_title(title, fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=ncol, fontsize=9, frameon=False)


def gp_two_priors(lengthscale: float = 0.12) -> Any:
    """Figure 3.1: the toy bond's true curve, six training energies in the well, and the GP mean (eV) against
    bond length (A) for two constant prior means: the mean of the training energies (low, flat far away) and
    the dissociation limit D (high). Near the data the two GPs coincide; away from the data each returns to its
    own prior: the low one leaves a flat plateau (no force pulls the bond back, and at short r no repulsion),
    the high one a wall on both sides. Returns the Figure.

    Parameters
    ----------
    lengthscale : float, default 0.12
        GP lengthscale (A).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    r_tr, e_tr = toy_bond_data()
    r = np.linspace(0.55, 2.2, 400)
    low, high = float(e_tr.mean()), TOY_BOND["D_eV"]
    fig, ax = _figure(8.0, 4.0)
    ax.plot(r, morse_toy(r), color="0.55", lw=1.5, ls=":", label="true curve (reference method)")
    styles = ((low, "tab:blue", "prior = mean of the data"), (high, "tab:red", "prior = dissociation limit"))
    for m, color, label in styles:
        g = gp_1d(r_tr, e_tr, r, lengthscale, prior_mean=m)
        ax.plot(r, g["mean"], color=color, lw=2.2, label=f"GP mean, {label}")
        ax.axhline(m, color=color, lw=0.8, ls="--")
    _toy_bond_frame(ax, r, r_tr, e_tr, (-0.5, 6.5), "A GP returns to its prior mean away from the data", ncol=2)
    ax.text(r_tr.mean(), 5.6, "data", ha="center", va="bottom", fontsize=10)
    ax.text(1.9, high + 0.15, "high prior: a wall", color="tab:red", ha="center", va="bottom", fontsize=10)
    ax.text(1.9, low + 0.15, "low prior: flat, zero force", color="tab:blue", ha="center", va="bottom", fontsize=10)
    return fig


def prior_weight_schematic(lengthscales: Sequence[float] = (0.12, 0.015)) -> Any:
    """Figure 3.2: the prior weight w(r) = 1 - k_*^T C^-1 1 (dimensionless) of the toy data for a long and a short
    lengthscale (A). w ~ 0 at and between the data for the long one, rising to 1 away from them; the short one
    lets w rise between neighbouring data points as well. Returns the Figure.

    Parameters
    ----------
    lengthscales : sequence of float, default (0.12, 0.015)
        Lengthscales compared (A).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    r_tr, e_tr = toy_bond_data()
    r = np.linspace(0.55, 1.6, 500)
    fig, ax = _figure(8.0, 3.6)
    ax.axhspan(0.9, 1.05, color="tab:red", alpha=0.08, zorder=0)
    ax.axhspan(-0.05, 0.1, color="tab:green", alpha=0.08, zorder=0)
    for l, color in zip(lengthscales, ("tab:purple", "tab:orange")):
        ax.plot(r, gp_1d(r_tr, e_tr, r, l)["w"], color=color, lw=2.2, label=f"lengthscale l = {l:g} Å")
    ax.plot(r_tr, np.zeros_like(r_tr), "ko", ms=7, zorder=4, clip_on=False, label="training points")
    ax.text(1.025, 0.95, "w near 1: the prior mean speaks", color="tab:red", ha="center", va="center", fontsize=10)
    ax.text(0.56, 0.05, "w near 0: the data speak", color="tab:green", va="center", fontsize=10)
    ax.set_xlim(r[0], r[-1])
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("bond length r (Å)")
    ax.set_ylabel("prior weight w(r)")
    ax.set_title("Where can the prior mean act?", fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=9, frameon=False)
    return fig


def zero_crash_upper_bound(runs: int, confidence: float = 0.95) -> float:
    """Exact (Clopper-Pearson) upper bound of a crash probability after 0 crashes in ``runs`` runs:
    the p at which (1 - p)^runs = (1 - confidence) / 2, i.e. 1 - ((1 - confidence) / 2)^(1 / runs).

    Parameters
    ----------
    runs : int
        Runs without a crash (>= 1).
    confidence : float, default 0.95
        Confidence level in (0, 1).

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        A non-positive run count or a confidence outside (0, 1).
    """
    if int(runs) != runs or runs < 1:
        raise InvalidParameterError(f"runs must be a positive whole number, got {runs}")
    if not 0.0 < confidence < 1.0:
        raise InvalidParameterError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95), got {confidence}")
    return float(1.0 - ((1.0 - confidence) / 2.0) ** (1.0 / runs))


def zero_crash_bound(runs: Sequence[int] = (8, 30)) -> Any:
    """Figure 3.3: the chance (1 - p)^n of n runs without a crash, against the crash probability p of one run,
    for a few n. Where a curve crosses 2.5 % (dashed) lies the exact 95 % upper bound of p after 0/n crashes
    (marked): every p left of the mark could still have produced 0/n. Returns the Figure.

    Parameters
    ----------
    runs : sequence of int, default (8, 30)
        Run counts n.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    p = np.linspace(0.0, 0.6, 400)
    fig, ax = _figure(8.0, 3.6)
    for n, color in zip(runs, ("tab:blue", "tab:green", "tab:purple")):
        ax.plot(p, (1.0 - p) ** n, color=color, lw=2.2, label=f"n = {n} runs")
        ub = zero_crash_upper_bound(n)
        ax.plot([ub], [0.025], "o", color=color, ms=8, zorder=4)
        ax.annotate(f"p = {ub:.2f}", (ub, 0.025), xytext=(ub + 0.01, 0.2), color=color, fontsize=10,
                    arrowprops=dict(arrowstyle="->", color=color))
    ax.axhline(0.025, color="0.3", ls="--", lw=1)
    ax.text(0.59, 0.045, "2.5 %", ha="right", va="bottom", fontsize=10, color="0.3")
    ax.set_xlim(0.0, 0.6)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("crash probability p of one run")
    ax.set_ylabel("P(no crash in n runs)")
    ax.set_title("What zero crashes cannot rule out", fontsize=11)
    ax.legend(loc="upper right", fontsize=9)
    return fig


def anchored_prior(x_train: Sequence[float], y_train: Sequence[float],
                   power: int) -> Callable[[np.ndarray], np.ndarray]:
    """The FEREBUS/ICHOR anchored mean in one dimension: m(x) = y_min + beta (x - x_min)^power (power 1: linear,
    2: quadratic), anchored at the lowest training target, beta by least squares. Returns m as a function.

    Parameters
    ----------
    x_train : sequence of float
        Training inputs.
    y_train : sequence of float
        Training targets.
    power : {1, 2}
        Linear or quadratic.

    Returns
    -------
    callable

    Raises
    ------
    InvalidParameterError
        Another power.
    """
    if power not in (1, 2):
        raise InvalidParameterError(f"power must be 1 (linear) or 2 (quadratic), got {power}")
    xt, yt = np.asarray(x_train, float), np.asarray(y_train, float)
    k = int(np.argmin(yt))
    phi = (xt - xt[k]) ** power
    beta = float(phi @ (yt - yt[k]) / (phi @ phi))
    return lambda v: yt[k] + beta * (np.asarray(v, float) - xt[k]) ** power


def prior_shapes(lengthscale: float = 0.12) -> Any:
    """Figure 3.4: the toy bond's GP mean (eV) far from its data under four prior means: the data mean (MF2),
    the anchored linear (MF3) and quadratic (MF4) means of the public code, and a high constant (MF5-like, the
    dissociation limit). Constant priors go flat; the linear one keeps a slope that runs downhill on one side;
    the quadratic one keeps rising in one dimension. Returns the Figure.

    Parameters
    ----------
    lengthscale : float, default 0.12
        GP lengthscale (A).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    r_tr, e_tr = toy_bond_data()
    r = np.linspace(0.4, 2.2, 400)
    priors = (("MF2: mean of the data", float(e_tr.mean()), "tab:blue"),
              ("MF3: anchored linear", anchored_prior(r_tr, e_tr, 1), "tab:green"),
              ("MF4: anchored quadratic", anchored_prior(r_tr, e_tr, 2), "tab:purple"),
              ("MF5-like: dissociation limit", TOY_BOND["D_eV"], "tab:red"))
    fig, ax = _figure(8.0, 4.0)
    ax.plot(r, morse_toy(r), color="0.55", lw=1.5, ls=":", label="true curve")
    for label, m, color in priors:
        ax.plot(r, gp_1d(r_tr, e_tr, r, lengthscale, prior_mean=m)["mean"], color=color, lw=2.0, label=label)
    _toy_bond_frame(ax, r, r_tr, e_tr, (-3.0, 7.0), "Far from the data each GP follows its own prior mean", ncol=3)
    return fig


def stretched_oh_geometry(positions: np.ndarray, symbols: Sequence[str], donor: int = 4, hydrogen: int = 8,
                          acceptor: int = 3, start_distance: float = 1.5) -> Any:
    """Figure 3.5: the molecule (positions in A, shape (N, 3)) drawn in its own best-fit plane, with the H moved
    along its bond from the ``donor`` oxygen to ``start_distance`` (A) (open circle) and its distances to both
    oxygens written on dashed lines. Returns the Figure.

    Parameters
    ----------
    positions : array of shape (n_atoms, 3)
        Geometry (A).
    symbols : sequence of str
        Element symbols.
    donor : int, default 4
        Index of the donor oxygen.
    hydrogen : int, default 8
        Index of the moved H.
    acceptor : int, default 3
        Index of the acceptor oxygen.
    start_distance : float, default 1.5
        Donor O-H distance after the move (A).

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    InvalidParameterError
        Positions of the wrong shape or a non-positive distance.
    """
    x = np.asarray(positions, float)
    if x.ndim != 2 or x.shape[1] != 3 or len(x) != len(symbols):
        raise InvalidParameterError(f"positions must have shape (len(symbols), 3) = ({len(symbols)}, 3), got "
                                    f"{x.shape}")
    if not start_distance > 0:
        raise InvalidParameterError(f"start_distance must be a positive length in A, got {start_distance}")
    c = x.mean(0)
    _, _, vt = np.linalg.svd(x - c)
    plane = lambda p: (np.asarray(p, float) - c) @ vt[:2].T  # noqa: E731
    u = (x[hydrogen] - x[donor]) / np.linalg.norm(x[hydrogen] - x[donor])
    h_new = x[donor] + start_distance * u
    xy, h2 = plane(x), plane(h_new)
    colors = {"C": "0.3", "O": "tab:red", "H": "0.75"}
    fig, ax = _figure(6.5, 4.6)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            if np.linalg.norm(x[i] - x[j]) < 1.6 and {i, j} != {donor, hydrogen}:
                ax.plot(*xy[[i, j]].T, color="0.6", lw=2, zorder=1)
    for i, s in enumerate(symbols):
        ax.plot(*xy[i], "o", ms=22 if s != "H" else 14, color=colors.get(s, "0.5"), mec="k", zorder=3,
                alpha=0.35 if i == hydrogen else 1.0)
        ax.annotate(s, xy[i], ha="center", va="center", fontsize=9, zorder=4)
    ax.plot(*h2, "o", ms=14, mfc="white", mec="k", zorder=3)
    for o, name in ((donor, "own O"), (acceptor, "other O")):
        d = float(np.linalg.norm(h_new - x[o]))
        ax.plot(*np.c_[xy[o], h2], "k--", lw=1.2, zorder=2)
        mid = (xy[o] + h2) / 2
        right = xy[o][0] > h2[0]
        ax.annotate(f"{d:.2f} Å to {name}", mid, xytext=(25 if right else -25, -28), textcoords="offset points",
                    fontsize=10, ha="left" if right else "right", arrowprops=dict(arrowstyle="-", color="0.5"))
    ax.annotate("relaxed H (faded)", xy[hydrogen], xytext=(-70, 45), textcoords="offset points", fontsize=9,
                arrowprops=dict(arrowstyle="->", color="0.4"))
    ax.annotate("stretched H", h2, xytext=(0, -30), textcoords="offset points", fontsize=9, ha="center",
                arrowprops=dict(arrowstyle="->", color="0.4"))
    ax.set_aspect("equal")
    ax.margins(0.25)
    ax.set_xlabel("in-plane coordinate (Å)")
    ax.set_ylabel("in-plane coordinate (Å)")
    ax.set_title(f"Enol O-H stretched to {start_distance:g} Å along its bond", fontsize=11)
    return fig
