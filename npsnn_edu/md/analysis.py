"""Trajectory analysis: mean squared displacement, diffusion coefficient, radial distribution function g(r),
velocity autocorrelation, and the period of an oscillation.

Units are those of the input; in the kit's reduced Lennard-Jones units lengths are in sigma, times in
tau = sigma sqrt(m / epsilon), so an MSD is in sigma^2, a diffusion coefficient in sigma^2 / tau, a velocity
autocorrelation in (sigma / tau)^2, and g(r) is dimensionless.

Positions must be *unwrapped* (not folded back into the periodic box) for the MSD: the kit's
:func:`~npsnn_edu.integrators.simulate` records them unwrapped. g(r) uses the minimum-image convention in an
orthorhombic box (the box must be at least ``2 r_max`` wide in every direction).

Every function is tested against an independent reference (tests/test_analysis.py): ballistic motion
(MSD = v^2 t^2), a harmonic oscillator (VACF = cos(omega t) / 2 per coordinate), free Langevin particles
(D = k_B T / (m gamma)), and ASE's :func:`ase.geometry.rdf.get_rdf`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..analytic import morse_period
from ..errors import InvalidParameterError, ShapeMismatchError
from ..systems import morse_diatomic

__all__ = ["mean_squared_displacement", "DiffusionFit", "diffusion_coefficient", "DiffusionReport", "diffusion_report",
           "radial_distribution",
           "velocity_autocorrelation", "measure_period", "morse_period_scan"]


def _frames(positions: Any, name: str = "positions") -> np.ndarray:
    x = np.asarray(positions, dtype=float)
    if x.ndim != 3:
        raise ShapeMismatchError(f"{name} must be shaped (frames, N, D), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InvalidParameterError(f"{name} contain NaN or inf; analyse a finite (non-diverged) trajectory")
    return x


def _lag_average(x: np.ndarray, max_lag: int, fn: Any) -> np.ndarray:
    """Average of fn(x[i], x[i + k]) (an (N,)-shaped array per pair of frames) over origins i and atoms."""
    out = np.empty(max_lag + 1)
    n_frames = x.shape[0]
    for k in range(max_lag + 1):
        out[k] = float(np.mean(fn(x[: n_frames - k], x[k:])))
    return out


def mean_squared_displacement(positions: Any, *, max_lag: int | None = None, all_origins: bool = True) -> np.ndarray:
    """MSD(k) = < |x_i(t0 + k) - x_i(t0)|^2 >, averaged over atoms i and time origins t0 (in length^2).

    ``positions``: unwrapped, shaped (frames, N, D) and equally spaced in time; MSD[k] belongs to the lag of k
    frames (multiply k by the frame spacing for the time). ``max_lag`` defaults to frames - 1.
    ``all_origins=False`` uses the first frame as the only origin (the textbook definition, noisier).

    Parameters
    ----------
    positions : array of shape (n_frames, n_atoms, n_dim)
        Unwrapped positions, equally spaced in time (reduced: sigma).
    max_lag : int or None, default None
        Largest lag in frames; None: n_frames - 1.
    all_origins : bool, default True
        Average over every time origin (False: the first frame only).

    Returns
    -------
    array of shape (max_lag + 1,)
        MSD per lag (length^2; reduced: sigma^2).
    """
    x = _frames(positions)
    n = x.shape[0]
    max_lag = n - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n:
        raise InvalidParameterError(f"max_lag must be between 0 and frames - 1 = {n - 1}, got {max_lag}")
    if not all_origins:
        return np.mean(np.sum((x[: max_lag + 1] - x[0]) ** 2, axis=-1), axis=-1)
    return _lag_average(x, max_lag, lambda a, b: np.sum((b - a) ** 2, axis=-1))


@dataclass(frozen=True)
class DiffusionFit:
    """Einstein fit MSD(t) ~ 2 D d t + c on ``t_min <= t <= t_max``: D in length^2 / time (sigma^2 / tau).

    Parameters
    ----------
    D : float
        Diffusion coefficient (sigma^2/tau).
    slope : float
        Slope of the fitted line, 2 d D.
    intercept : float
        Intercept c (sigma^2).
    t_min, t_max : float
        Fit window (tau).
    dim : int
        Number of dimensions d.
    """

    D: float
    slope: float
    intercept: float
    t_min: float
    t_max: float
    dim: int

    def __str__(self) -> str:
        return (f"D = {self.D:.4g} (slope {self.slope:.4g} / 2d, d = {self.dim}, fit on t = {self.t_min:.3g} .. "
                f"{self.t_max:.3g})")


def diffusion_coefficient(times: Any, msd: Any, *, dim: int = 3, fit_from: float = 0.3,
                          fit_to: float = 1.0) -> DiffusionFit:
    """Diffusion coefficient from the Einstein relation MSD(t) -> 2 d D t (d = ``dim``) at long times.

    A straight line is fitted to MSD(t) for ``fit_from * t_end <= t <= fit_to * t_end`` (the early, ballistic
    part MSD ~ <v^2> t^2 is left out by the default 0.3). ``times`` are the lags of ``msd`` (e.g.
    ``np.arange(len(msd)) * frame_spacing``). Units: D in length^2 / time (sigma^2 / tau in reduced units).

    Parameters
    ----------
    times : array of shape (n_lags,)
        Lag times of ``msd`` (reduced: tau).
    msd : array of shape (n_lags,)
        Mean squared displacement (sigma^2).
    dim : int, default 3
        Number of dimensions d.
    fit_from : float, default 0.3
        Start of the fit window as a fraction of the last time.
    fit_to : float, default 1.0
        End of the fit window as a fraction of the last time.

    Returns
    -------
    DiffusionFit

    Raises
    ------
    ShapeMismatchError
        ``times`` and ``msd`` not 1D arrays of equal length.
    InvalidParameterError
        A bad ``dim`` or fit window, or fewer than two points in it.
    """
    t = np.asarray(times, dtype=float)
    y = np.asarray(msd, dtype=float)
    if t.shape != y.shape or t.ndim != 1:
        raise ShapeMismatchError(f"times and msd must be 1D arrays of equal length, got {t.shape} and {y.shape}")
    if int(dim) < 1:
        raise InvalidParameterError(f"dim must be >= 1, got {dim}")
    if not 0 <= fit_from < fit_to <= 1:
        raise InvalidParameterError(f"need 0 <= fit_from < fit_to <= 1 (fractions of the run), "
                                    f"got {fit_from}, {fit_to}")
    t_end = float(t[-1])
    mask = (t >= fit_from * t_end - 1e-12) & (t <= fit_to * t_end + 1e-12)
    if mask.sum() < 2:
        raise InvalidParameterError("fewer than two MSD points in the fit window; record more frames")
    slope, intercept = np.polyfit(t[mask], y[mask], 1)
    return DiffusionFit(D=float(slope) / (2 * int(dim)), slope=float(slope), intercept=float(intercept),
                        t_min=float(t[mask][0]), t_max=float(t[mask][-1]), dim=int(dim))


@dataclass(frozen=True)
class DiffusionReport:
    """What an MSD curve says about diffusion: a measured D, or an upper bound when the MSD levels off.

    ``diffusing`` is True when the MSD grows by at least ``growth_factor`` over the fit window (then ``fit.D``,
    in length^2 / time, is the measurement); otherwise the atoms stay in their cages and ``upper_bound`` =
    max MSD / (2 d t_end) is all this run can say (a fitted slope of a plateau is noise and can be negative).

    Parameters
    ----------
    fit : DiffusionFit
        The Einstein fit.
    diffusing : bool
        Whether the MSD grows by at least the growth factor.
    growth : float
        MSD(t_end) / MSD(fit_from * t_end).
    upper_bound : float
        max MSD / (2 d t_end), an upper bound on D (sigma^2/tau).
    plateau : float
        Mean MSD over the fit window (sigma^2).
    """

    fit: DiffusionFit
    diffusing: bool
    growth: float
    upper_bound: float
    plateau: float

    @property
    def value(self) -> float:
        """D when diffusing, else 0.0 (not resolved; see ``upper_bound``), in length^2 / time."""
        return self.fit.D if self.diffusing else 0.0

    def __str__(self) -> str:
        if self.diffusing:
            return f"D = {self.fit.D:.3g} (MSD grows {self.growth:.1f}-fold over the fit window)"
        return f"no diffusion: MSD levels off near {self.plateau:.3g}, so D < {self.upper_bound:.1g}"


def diffusion_report(times: Any, msd: Any, *, dim: int = 3, fit_from: float = 0.3,
                     growth_factor: float = 2.0) -> DiffusionReport:
    """Einstein fit of :func:`diffusion_coefficient` plus the verdict whether the MSD grows at all.

    ``times`` (lags, time units) and ``msd`` (length^2) as for :func:`diffusion_coefficient`. The MSD grows by
    ``growth = MSD(t_end) / MSD(fit_from * t_end)``; with ``growth >= growth_factor`` the run is diffusing and
    the fit's D is reported, else the atoms rattle in place (a solid) and only the bound
    ``D < max(MSD) / (2 d t_end)`` is reported.

    Parameters
    ----------
    times : array of shape (n_lags,)
        Lag times (reduced: tau).
    msd : array of shape (n_lags,)
        Mean squared displacement (sigma^2).
    dim : int, default 3
        Number of dimensions d.
    fit_from : float, default 0.3
        Start of the fit window as a fraction of the last time.
    growth_factor : float, default 2.0
        Growth of the MSD over the window that counts as diffusion.

    Returns
    -------
    DiffusionReport
    """
    if not growth_factor > 1:
        raise InvalidParameterError(f"growth_factor must be > 1, got {growth_factor}")
    fit = diffusion_coefficient(times, msd, dim=dim, fit_from=fit_from)
    t = np.asarray(times, dtype=float)
    y = np.asarray(msd, dtype=float)
    start = float(y[t >= fit.t_min - 1e-12][0])
    growth = float(y[-1] / start) if start > 0 else float("inf")
    window = y[t >= fit.t_min - 1e-12]
    return DiffusionReport(fit=fit, diffusing=growth >= growth_factor, growth=growth,
                           upper_bound=float(y.max() / (2 * int(dim) * t[-1])), plateau=float(window.mean()))


def radial_distribution(positions: Any, box: Any, *, r_max: float, n_bins: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Radial distribution function g(r) of a periodic 3D system, averaged over frames (minimum image).

    ``positions`` (N, 3) or (frames, N, 3) in length units (sigma); ``box`` the three edge lengths of the
    orthorhombic box (each >= 2 ``r_max``). Bins have edges ``np.linspace(0, r_max, n_bins + 1)``; returns
    ``(r, g)`` with r the bin centres. Normalisation: g = (pair counts in the shell) / (N (N - 1) / 2 *
    shell volume / V), the exact shell volume 4 pi (r_hi^3 - r_lo^3) / 3, so an ideal gas gives g = 1.
    (ASE's get_rdf divides by N^2 / V instead: its g is ours times (N - 1) / N.)

    Parameters
    ----------
    positions : array of shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Positions (sigma).
    box : sequence of 3 floats
        Orthorhombic box lengths (sigma), each >= 2 r_max.
    r_max : float
        Largest distance (sigma).
    n_bins : int, default 100
        Number of bins.

    Returns
    -------
    r : array of shape (n_bins,)
        Bin centres (sigma).
    g : array of shape (n_bins,)
        g(r), 1 for an ideal gas.

    Raises
    ------
    ShapeMismatchError
        Positions that are not 3D.
    InvalidParameterError
        Fewer than two particles, a box shorter than 2 r_max or bad parameters.
    """
    x = np.asarray(positions, dtype=float)
    x = x[None] if x.ndim == 2 else x
    x = _frames(x)
    if x.shape[2] != 3:
        raise ShapeMismatchError(f"radial_distribution is for 3D systems, got D = {x.shape[2]}")
    n = x.shape[1]
    if n < 2:
        raise InvalidParameterError("g(r) needs at least two particles")
    L = np.broadcast_to(np.asarray(box, dtype=float), (3,))
    if not np.all(np.isfinite(L)) or np.any(L <= 0):
        raise InvalidParameterError(f"box must be three positive edge lengths, got {box!r}")
    r_max = float(r_max)
    if not 0 < r_max <= 0.5 * L.min() + 1e-12:
        raise InvalidParameterError(f"r_max must be in (0, half the shortest box edge = {0.5 * L.min():.4g}], "
                                    f"got {r_max}: beyond it the minimum image misses pairs")
    if int(n_bins) < 1:
        raise InvalidParameterError(f"n_bins must be >= 1, got {n_bins}")
    edges = np.linspace(0.0, r_max, int(n_bins) + 1)
    iu, ju = np.triu_indices(n, k=1)
    counts = np.zeros(int(n_bins))
    for frame in x:
        d = frame[ju] - frame[iu]
        d -= L * np.round(d / L)
        r = np.sqrt(np.sum(d * d, axis=-1))
        counts += np.histogram(r, bins=edges)[0]
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    ideal = 0.5 * n * (n - 1) * shell / float(np.prod(L))
    return 0.5 * (edges[1:] + edges[:-1]), counts / (x.shape[0] * ideal)


def velocity_autocorrelation(velocities: Any, *, max_lag: int | None = None, normalize: bool = False) -> np.ndarray:
    """VACF C(k) = < v_i(t0) . v_i(t0 + k) >, averaged over atoms and time origins ((length/time)^2).

    ``velocities`` (frames, N, D), equally spaced; ``normalize=True`` divides by C(0). Its time integral is
    d times the diffusion coefficient (Green-Kubo: D = (1/d) int_0^inf C(t) dt).

    Parameters
    ----------
    velocities : array of shape (n_frames, n_atoms, n_dim)
        Velocities, equally spaced in time (sigma/tau).
    max_lag : int or None, default None
        Largest lag in frames; None: n_frames - 1.
    normalize : bool, default False
        Divide by C(0).

    Returns
    -------
    array of shape (max_lag + 1,)
        C(k) in (sigma/tau)^2, or dimensionless when normalised.
    """
    v = _frames(velocities, "velocities")
    n = v.shape[0]
    max_lag = n - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n:
        raise InvalidParameterError(f"max_lag must be between 0 and frames - 1 = {n - 1}, got {max_lag}")
    c = _lag_average(v, max_lag, lambda a, b: np.sum(a * b, axis=-1))
    if normalize:
        if c[0] == 0:
            raise InvalidParameterError("all velocities are zero: the VACF cannot be normalised")
        c = c / c[0]
    return c


# ------------------------------------------------------------------------------------------------
# Periods (chapter 1)
# ------------------------------------------------------------------------------------------------
def measure_period(times: Any, signal: Any) -> float:
    """Period of an oscillating signal from its upward mean crossings (linear interpolation).

    Needs at least two full oscillations in the record; returns NaN otherwise. Units: those of ``times``.

    Parameters
    ----------
    times : array of shape (n_times,)
        Sample times.
    signal : array of shape (n_times,)
        The oscillating signal.

    Returns
    -------
    float
        Period in the units of ``times``; NaN with fewer than two oscillations.
    """
    t = np.asarray(times, dtype=float)
    s = np.asarray(signal, dtype=float)
    if t.shape != s.shape or t.ndim != 1:
        raise InvalidParameterError(f"times and signal must be 1D arrays of equal length, got {t.shape} and {s.shape}")
    s = s - 0.5 * (s.max() + s.min())
    up = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    if len(up) < 2:
        return float("nan")
    crossings = t[up] - s[up] * (t[up + 1] - t[up]) / (s[up + 1] - s[up])
    return float((crossings[-1] - crossings[0]) / (len(crossings) - 1))


def morse_period_scan(stretches: Sequence[float], *, D_e: float = 1.0, a: float = 1.0, r_e: float = 1.0,
                      mass: float = 1.0, dt: float = 0.005, n_periods: float = 4.0) -> dict[str, np.ndarray]:
    """Simulate a Morse dimer released from rest at r_e + stretch, for each stretch; measure its period.

    Returns arrays ``stretch`` (sigma), ``energy`` (total energy, zero at dissociation, in D_e's unit),
    ``simulated`` (period measured from r(t) with velocity Verlet) and ``exact``
    (:func:`~npsnn_edu.analytic.morse_period`), times in tau. Each run lasts about ``n_periods`` exact periods.

    Parameters
    ----------
    stretches : sequence of float
        Initial stretches r - r_e (sigma).
    D_e : float, default 1.0
        Well depth (epsilon).
    a : float, default 1.0
        Inverse width (1/sigma).
    r_e : float, default 1.0
        Equilibrium distance (sigma).
    mass : float, default 1.0
        Mass of each atom.
    dt : float, default 0.005
        Time step (tau).
    n_periods : float, default 4.0
        Length of each run in exact periods.

    Returns
    -------
    dict of str to array of shape (n_stretches,)
        ``stretch``, ``energy``, ``simulated``, ``exact``.
    """
    out: dict[str, list[float]] = {"stretch": [], "energy": [], "simulated": [], "exact": []}
    mu = 0.5 * mass
    for stretch in stretches:
        system = morse_diatomic(D_e=D_e, a=a, r_e=r_e, stretch=float(stretch), mass=mass)
        energy = float(system.potential.energy(system.positions))
        exact = morse_period(energy, D_e, a, mu)
        n_steps = int(np.ceil(n_periods * exact / dt))
        traj = system.run(dt=dt, n_steps=n_steps)
        r = traj.positions[:, 1, 0] - traj.positions[:, 0, 0]
        out["stretch"].append(float(stretch))
        out["energy"].append(energy)
        out["simulated"].append(measure_period(traj.times, r))
        out["exact"].append(exact)
    return {k: np.asarray(v) for k, v in out.items()}
