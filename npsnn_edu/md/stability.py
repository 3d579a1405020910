"""Chapter 2: why a time step blows up, predicted before running and then measured.

Everything here is built on the core's integrators (:mod:`npsnn_edu.integrators`); no integrator is
written a second time.  The chapter's three questions and where they are answered:

1. **Linear stability** on the harmonic oscillator x'' = -omega^2 x.  Every one-step method of the kit is a
   *linear* map of (x, v) for a linear force, so one step is a 2 x 2 *amplification matrix* M(h) with
   h = omega * dt.  :func:`amplification_matrix` measures it by applying the core integrator's own ``step``
   to the unit basis vectors; :func:`analytic_amplification_matrix` writes it down on paper.  The method is
   stable when the spectral radius rho(M) <= 1 (:func:`spectral_radius`, :func:`find_stability_limit`):

   ==================== =========================== ==============================================
   integrator           analytic limit h = omega dt  why
   ==================== =========================== ==============================================
   ``euler``            never stable                 rho = sqrt(1 + h^2) > 1 for every h > 0
   ``symplectic_euler`` h < 2                        det M = 1, trace 2 - h^2
   ``velocity_verlet``  h < 2                        det M = 1, trace 2 - h^2
   ``rk4``              h < 2 sqrt(2)                |R(ih)|^2 = 1 - h^6/72 + h^8/576
   ``langevin``         h < 2 (any friction)         BAOAB: trace (1 + c)(1 - h^2/2), det c = e^{-gamma dt}
   ==================== =========================== ==============================================

2. **Accuracy**: phase error per step (:func:`phase_error`), Verlet's bounded energy oscillation around
   its shadow Hamiltonian (:func:`verlet_shadow_energy`, :func:`energy_error`, amplitude ~ dt^2) versus the
   secular drift of the non-symplectic methods (Euler grows by (1 + h^2) per step, RK4 decays slowly), and
   global convergence orders (:func:`convergence_study`).

3. **Real systems** (:func:`dt_scan`): energy drift versus dt for a Lennard-Jones liquid and a Morse
   oscillator at high energy, judged by two criteria that must not be confused:

   * **stability** (divergence): a run *diverges* when its energy becomes non-finite or moves by more than
     ``blowup_factor`` (default :data:`DIVERGENCE_FACTOR` = 100) times its initial energy scale (the core's
     :class:`~npsnn_edu.errors.SimulationDivergedError` gives the step).  A bounded error cannot do that:
     below the limit Verlet's relative energy oscillation is at most (omega dt)^2 / 4 < 1.
     :attr:`DtScanResult.largest_stable_dt` is the largest dt below the first divergence;
   * **accuracy** (a tolerance): a run is *accurate* when its largest relative energy error stays below
     ``energy_tolerance``.  :attr:`DtScanResult.largest_accurate_dt` is the largest dt below the first
     inaccurate one.  It is always <= the largest stable dt, usually far below.

   Both are compared with the linear estimate 2 / omega_fastest from the curvature at the potential minimum
   (:func:`fastest_vibration`) and with the curvature at the closest approach a run really reaches.

Units: h is dimensionless; dt and omega in the system's time units (reduced LJ: tau, 1/tau).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from ..analytic import harmonic_solution, morse_solution
from ..errors import InvalidParameterError, SimulationDivergedError, unknown_name
from ..integrators import INTEGRATORS, NVE_INTEGRATORS, Integrator, State, integrator_class, simulate
from ..potentials import Harmonic, PairPotential
from ..progress import progress_iter
from ..systems import System, morse_at_energy
from ..tables import results_table
from ..validation import at_least, positive

__all__ = [
    "ANALYTIC_STABILITY_LIMITS", "ALL_INTEGRATORS", "canonical_integrator", "StabilityLimit", "PhaseError",
    "EnergyErrorResult", "PowerLawFit", "DIVERGENCE_FACTOR", "DEFAULT_ENERGY_TOLERANCE",
    "ConvergenceResult", "DtScanResult", "amplification_matrix", "analytic_amplification_matrix", "spectral_radius",
    "spectral_radius_curve", "find_stability_limit", "stability_limits", "limits_table",
    "largest_stable_dt", "phase_error",
    "energy_factor_per_step", "verlet_shadow_energy", "energy_error", "verlet_energy_scaling", "fit_power_law",
    "convergence_study", "fastest_vibration", "pair_curvature", "min_pair_distance", "dt_scan", "morse_at_energy",
    "morse_solution", "morse_scans", "morse_limits_table",
]

#: Analytic stability limits h* = omega dt on the harmonic oscillator (0.0: no stable h > 0 at all).
ANALYTIC_STABILITY_LIMITS: dict[str, float] = {
    "euler": 0.0,
    "symplectic_euler": 2.0,
    "velocity_verlet": 2.0,
    "rk4": 2.0 * np.sqrt(2.0),
    "langevin": 2.0,
}
#: Divergence criterion of :func:`dt_scan`: a run has blown up when |E(t) - E(0)| exceeds this many times the
#: initial energy scale (or E is not finite).  A bounded (stable) error stays far below it.
DIVERGENCE_FACTOR: float = 100.0
#: Accuracy criterion of :func:`dt_scan`: the largest tolerated max |E(t) - E(0)| / |E(0)| (dimensionless).
DEFAULT_ENERGY_TOLERANCE: float = 1e-2
#: Every integrator of the core, in teaching order (the NVE ones, then the thermostats).
ALL_INTEGRATORS: tuple[str, ...] = (*NVE_INTEGRATORS, *(n for n in INTEGRATORS if n not in NVE_INTEGRATORS))


def canonical_integrator(integrator: "str | Integrator") -> str:
    """The core's name of an integrator given by name, alias (``"verlet"``, ``"baoab"``) or instance.

    Parameters
    ----------
    integrator : str or Integrator
        Name, alias or instance.

    Returns
    -------
    str

    Raises
    ------
    UnknownNameError
        Unknown name.
    """
    return integrator_class(integrator).name


def _make(integrator: str, dt: float, friction: float) -> Integrator:
    """The core integrator with noise switched off (temperature 0) so that its step is a linear map."""
    return integrator_class(integrator).deterministic(dt, friction=friction)


def _check_h(h: float) -> float:
    return float(positive("h = omega * dt", h))


# ------------------------------------------------------------------------------------------------
# 1. Linear stability: amplification matrices and spectral radius
# ------------------------------------------------------------------------------------------------
def amplification_matrix(integrator: "str | Integrator", h: float, *, omega: float = 1.0,
                         friction: float = 0.0) -> np.ndarray:
    """One step of the core integrator on x'' = -omega^2 x, as the 2 x 2 matrix M with (x, v)_new = M (x, v).

    Measured, not derived: the core integrator's ``step`` is applied to the unit vectors (x, v) = (1, 0) and
    (0, 1) (unit mass, spring constant k = omega^2, dt = h / omega); the map is linear, so the two results
    are the columns of M.  ``friction`` (1/time) is used by ``"langevin"`` only (its noise is switched off:
    temperature 0).

    Parameters
    ----------
    integrator : str or Integrator
        Name, alias or instance.
    h : float
        omega dt (dimensionless).
    omega : float, default 1.0
        Angular frequency (1/tau).
    friction : float, default 0.0
        Friction gamma (1/time), ``"langevin"`` only.

    Returns
    -------
    array of shape (2, 2)
        M with (x, v)_new = M (x, v).
    """
    h = _check_h(h)
    omega = positive("omega", omega, hint="angular frequency in 1/time")
    name = canonical_integrator(integrator)
    integ = _make(name, h / omega, float(friction))
    pot = Harmonic(k=omega**2)

    def force_fn(x: np.ndarray) -> tuple[float, np.ndarray]:
        e, f = pot.energy_and_forces(x)
        return float(e), f

    inv_mass = np.ones((1, 1))
    cols = []
    for x0, v0 in ((1.0, 0.0), (0.0, 1.0)):
        x = np.array([[x0]])
        pe, f = force_fn(x)
        new = integ.step(State(x, np.array([[v0]]), f, pe), force_fn, inv_mass)
        cols.append([new.positions[0, 0], new.velocities[0, 0]])
    return np.array(cols).T


def analytic_amplification_matrix(integrator: str, h: float, *, omega: float = 1.0,
                                  friction: float = 0.0) -> np.ndarray:
    """The amplification matrices derived on paper (for x'' = -omega^2 x, variables (x, v)).

    With omega = 1:  Euler [[1, h], [-h, 1]];  symplectic Euler (kick, drift) [[1 - h^2, h], [-h, 1]];
    velocity Verlet [[1 - h^2/2, h], [-h (1 - h^2/4), 1 - h^2/2]];  RK4 sum_{k<=4} (hA)^k / k! with
    A = [[0, 1], [-1, 0]];  BAOAB at temperature 0: B(h/2) A(h/2) O A(h/2) B(h/2) with O = diag(1, e^{-gamma dt}).
    Other omega: the same matrix in the variables (x, v / omega).

    Parameters
    ----------
    integrator : str
        ``"euler"``, ``"symplectic_euler"``, ``"velocity_verlet"``, ``"rk4"`` or ``"langevin"``.
    h : float
        omega dt.
    omega : float, default 1.0
        Angular frequency (1/tau).
    friction : float, default 0.0
        Friction gamma (1/time), ``"langevin"`` only.

    Returns
    -------
    array of shape (2, 2)

    Raises
    ------
    UnknownNameError
        An integrator without a derived matrix.
    """
    h = _check_h(h)
    name = canonical_integrator(integrator)
    if name not in _ANALYTIC_MATRICES:  # pragma: no cover - every core integrator is listed
        raise unknown_name("integrator", integrator, list(_ANALYTIC_MATRICES))
    m = _ANALYTIC_MATRICES[name](h, float(friction) * h / omega)
    scale = np.diag([1.0, float(omega)])
    return scale @ m @ np.linalg.inv(scale)


def _rk4_matrix(h: float, gamma_dt: float) -> np.ndarray:
    a = np.array([[0.0, 1.0], [-1.0, 0.0]])
    term, m = np.eye(2), np.eye(2)
    for k in range(1, 5):
        term = term @ (h * a) / k
        m = m + term
    return m


def _baoab_matrix(h: float, gamma_dt: float) -> np.ndarray:
    kick = np.array([[1.0, 0.0], [-h / 2, 1.0]])
    drift = np.array([[1.0, h / 2], [0.0, 1.0]])
    ou = np.array([[1.0, 0.0], [0.0, float(np.exp(-gamma_dt))]])
    return kick @ drift @ ou @ drift @ kick


#: The amplification matrices on paper (omega = 1), per integrator: f(h, friction * dt) -> M.
_ANALYTIC_MATRICES: dict[str, Callable[[float, float], np.ndarray]] = {
    "euler": lambda h, g: np.array([[1.0, h], [-h, 1.0]]),
    "symplectic_euler": lambda h, g: np.array([[1.0 - h * h, h], [-h, 1.0]]),
    "velocity_verlet": lambda h, g: np.array([[1.0 - h * h / 2, h], [-h * (1.0 - h * h / 4), 1.0 - h * h / 2]]),
    "rk4": _rk4_matrix,
    "langevin": _baoab_matrix,
}


def spectral_radius(matrix: Any) -> float:
    """Largest |eigenvalue| of a square matrix.

    For 2 x 2 matrices it uses trace t and determinant d (eigenvalues t/2 +- sqrt(t^2/4 - d)): exact to
    rounding even at the double eigenvalue -1 where symplectic methods lose stability, where a general
    eigensolver errs by ~sqrt(machine epsilon) ~ 1e-8.

    Parameters
    ----------
    matrix : array of shape (n, n)
        A square matrix.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        Not a square matrix.
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InvalidParameterError(f"spectral_radius needs a square matrix, got shape {m.shape}")
    if m.shape == (2, 2):
        t, d = m[0, 0] + m[1, 1], m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
        disc = 0.25 * t * t - d
        if disc < 0:
            return float(np.sqrt(d))  # complex pair: |lambda|^2 = det
        return float(abs(0.5 * t) + np.sqrt(disc))
    return float(np.max(np.abs(np.linalg.eigvals(m))))


def spectral_radius_curve(integrator: str, hs: Iterable[float], *, friction: float = 0.0) -> np.ndarray:
    """rho(M(h)) for each h = omega dt, from the numerically measured amplification matrices.

    Parameters
    ----------
    integrator : str
        Integrator name.
    hs : iterable of float
        Values of h = omega dt.
    friction : float, default 0.0
        Friction gamma, ``"langevin"`` only.

    Returns
    -------
    array of shape (n_hs,)
    """
    return np.array([spectral_radius(amplification_matrix(integrator, h, friction=friction)) for h in hs])


@dataclass
class StabilityLimit:
    """Largest stable h = omega dt of one integrator on the harmonic oscillator.

    ``h_numeric`` is 0.0 when no tested h > 0 is stable (explicit Euler); ``relative_error`` compares it
    with ``h_analytic`` (NaN when the analytic limit is 0).  ``h_min_tested`` is the smallest h examined.

    Parameters
    ----------
    integrator : str
        Integrator name.
    h_numeric : float
        Measured limit of h = omega dt.
    h_analytic : float
        Limit derived on paper.
    stable_anywhere : bool
        Whether any tested h > 0 is stable.
    h_min_tested : float
        Smallest h examined.
    tol : float
        Tolerance of the criterion rho <= 1 + tol.
    friction : float, default 0.0
        Friction gamma (BAOAB only).
    """

    integrator: str
    h_numeric: float
    h_analytic: float
    stable_anywhere: bool
    h_min_tested: float
    tol: float
    friction: float = 0.0

    @property
    def relative_error(self) -> float:
        """(h_numeric - h_analytic) / h_analytic (NaN when the analytic limit is 0)."""
        if self.h_analytic == 0.0:
            return 0.0 if self.h_numeric == 0.0 else float("nan")
        return abs(self.h_numeric - self.h_analytic) / self.h_analytic

    def as_row(self) -> dict[str, Any]:
        """The fields as one table row (see :func:`limits_table`)."""
        return {**asdict(self), "relative_error": self.relative_error}

    def __str__(self) -> str:
        if not self.stable_anywhere:
            return (f"{self.integrator:>16}: no stable h found (rho > 1 already at h = {self.h_min_tested:.2g}); "
                    "analytic: never stable")
        return (f"{self.integrator:>16}: numeric h* = {self.h_numeric:.6f}, analytic {self.h_analytic:.6f} "
                f"(rel. error {self.relative_error:.1e})")


def find_stability_limit(integrator: str, *, h_max: float = 4.0, n_grid: int = 400, tol: float = 1e-9,
                         friction: float = 0.0, bisection_tol: float = 1e-12) -> StabilityLimit:
    """Find the end of the stable interval [0, h*) numerically.

    A grid h_1 < ... < h_n = ``h_max`` is scanned for the first h with rho(M(h)) > 1 + ``tol``; bisection
    between it and its stable neighbour pins h* down to ``bisection_tol``.  ``tol`` matters for the
    marginal case: symplectic methods have |lambda| = 1 *exactly* inside their stable range, so the
    criterion must forgive rounding (~1e-16) but nothing more; beyond h* = 2 rho grows like
    1 + sqrt(2 (h - 2)), so the bisection still lands within ~tol^2 of h*.

    Parameters
    ----------
    integrator : str
        Integrator name.
    h_max : float, default 4.0
        End of the scanned range of h.
    n_grid : int, default 400
        Grid points of the scan.
    tol : float, default 1e-9
        Tolerance of rho <= 1 + tol.
    friction : float, default 0.0
        Friction gamma, ``"langevin"`` only.
    bisection_tol : float, default 1e-12
        Precision of the bisection in h.

    Returns
    -------
    StabilityLimit
    """
    name = canonical_integrator(integrator)
    h_max = positive("h_max", h_max)
    n_grid = at_least("n_grid", n_grid, 2, integer=True)
    grid = np.linspace(h_max / n_grid, h_max, n_grid)

    def stable(h: float) -> bool:
        return spectral_radius(amplification_matrix(name, h, friction=friction)) <= 1.0 + tol

    flags = [stable(h) for h in grid]
    analytic = ANALYTIC_STABILITY_LIMITS[name]
    if not flags[0]:
        return StabilityLimit(name, 0.0, analytic, False, float(grid[0]), tol, friction)
    if all(flags):
        return StabilityLimit(name, float(h_max), analytic, True, float(grid[0]), tol, friction)
    first_bad = flags.index(False)
    lo, hi = float(grid[first_bad - 1]), float(grid[first_bad])
    while hi - lo > bisection_tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if stable(mid) else (lo, mid)
    return StabilityLimit(name, lo, analytic, True, float(grid[0]), tol, friction)


def stability_limits(integrators: Sequence[str] = ALL_INTEGRATORS, **kwargs: Any) -> list[StabilityLimit]:
    """:func:`find_stability_limit` for several integrators (default: all of the core).

    Parameters
    ----------
    integrators : sequence of str
        Integrator names (default: the core's five).
    **kwargs
        Options of :func:`find_stability_limit`.

    Returns
    -------
    list of StabilityLimit
    """
    return [find_stability_limit(name, **kwargs) for name in integrators]


def limits_table(limits: "Sequence[StabilityLimit] | None" = None, **kwargs: Any) -> pd.DataFrame:
    """The stability limits as a table (one row per integrator; default: :func:`stability_limits` (``kwargs``)).

    Parameters
    ----------
    limits : sequence of StabilityLimit or None, default None
        The limits; None: :func:`stability_limits` (``**kwargs``).
    **kwargs
        Options of :func:`stability_limits`.

    Returns
    -------
    pandas.DataFrame
        One row per integrator.
    """
    rows = [lim.as_row() for lim in (stability_limits(**kwargs) if limits is None else limits)]
    return results_table(rows, columns=["integrator", "h_numeric", "h_analytic", "relative_error", "stable_anywhere"],
                         index="integrator", rename={"h_numeric": "numeric h*", "h_analytic": "analytic h*",
                                                     "relative_error": "relative error",
                                                     "stable_anywhere": "stable for some h"})


def largest_stable_dt(k: float, m: float, integrator: str = "velocity_verlet") -> float:
    """Analytic largest stable dt for a spring k (energy/length^2) and mass m: h* / omega with omega = sqrt(k/m).

    Velocity Verlet: 2 sqrt(m / k) = T / pi (T the period).  Raises for explicit Euler (never stable).

    Parameters
    ----------
    k : float
        Spring constant (epsilon/sigma^2).
    m : float
        Mass.
    integrator : str, default "velocity_verlet"
        Integrator name.

    Returns
    -------
    float
        Largest stable dt (tau).

    Raises
    ------
    InvalidParameterError
        Explicit Euler (never stable) or bad k, m.
    """
    k = positive("k", k, hint="spring constant in energy/length^2")
    m = positive("m", m, hint="mass")
    name = canonical_integrator(integrator)
    h = ANALYTIC_STABILITY_LIMITS[name]
    if h == 0.0:
        raise InvalidParameterError("explicit Euler has no stable time step on an oscillator (rho = sqrt(1 + h^2) > 1)")
    return h / float(np.sqrt(k / m))


# ------------------------------------------------------------------------------------------------
# 2. Accuracy: phase, energy, convergence
# ------------------------------------------------------------------------------------------------
@dataclass
class PhaseError:
    """Phase accuracy of one step at h = omega dt (harmonic oscillator).

    ``phase_per_step`` theta is the angle of the eigenvalue (exact: h); ``relative_frequency_error`` =
    theta/h - 1 (Verlet: ~ +h^2/24, Euler: ~ -h^2/3); ``phase_error_per_period`` = 2 pi (theta/h - 1) radians
    gained per exact period; ``amplitude_factor_per_period`` = rho^(2 pi / h) (1 for symplectic methods).

    Parameters
    ----------
    integrator : str
        Integrator name.
    h : float
        omega dt.
    phase_per_step : float
        Angle theta of the eigenvalue (radians).
    relative_frequency_error : float
        theta/h - 1.
    phase_error_per_period : float
        Radians gained per exact period.
    amplitude_factor_per_period : float
        rho^(2 pi / h).
    """

    integrator: str
    h: float
    phase_per_step: float
    relative_frequency_error: float
    phase_error_per_period: float
    amplitude_factor_per_period: float


def phase_error(integrator: str, h: float) -> PhaseError:
    """Phase and amplitude error from the eigenvalues of the measured amplification matrix (h below the limit).

    Parameters
    ----------
    integrator : str
        Integrator name.
    h : float
        omega dt, below the stability limit.

    Returns
    -------
    PhaseError

    Raises
    ------
    InvalidParameterError
        ``h`` not below the stability limit.
    """
    name = canonical_integrator(integrator)
    m = amplification_matrix(name, h)
    lam = np.linalg.eigvals(m)
    if np.all(np.abs(lam.imag) < 1e-14):
        raise InvalidParameterError(
            f"at h = {h} the eigenvalues of {name} are real: the numerical motion does not rotate any more "
            "(h is beyond the stability limit); use a smaller h"
        )
    lam_top = lam[np.argmax(lam.imag)]
    theta = float(np.angle(lam_top))
    rho = spectral_radius(m)
    rel = theta / h - 1.0
    return PhaseError(name, float(h), theta, rel, 2 * np.pi * rel, float(rho ** (2 * np.pi / h)))


def energy_factor_per_step(integrator: str, h: float) -> float:
    """Exact factor E_{n+1} / E_n for explicit Euler (1 + h^2) and RK4 (1 - h^6/72 + h^8/576) on the oscillator.

    Both matrices are alpha I + beta A with A antisymmetric, so they scale every (x, omega^{-1} v) circle
    uniformly: the energy changes by rho^2 each step, whatever the phase.  Symplectic methods have no
    such factor (their energy oscillates, see :func:`verlet_shadow_energy`).

    Parameters
    ----------
    integrator : {"euler", "rk4"}
        Integrator name.
    h : float
        omega dt.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        Another integrator (no constant factor).
    """
    name = canonical_integrator(integrator)
    h = _check_h(h)
    if name not in _ENERGY_FACTORS:
        raise InvalidParameterError(f"{name} has no constant energy factor per step (only 'euler' and 'rk4' do)")
    return _ENERGY_FACTORS[name](h)


#: Exact energy factor per step on the oscillator, for the methods that have one.
_ENERGY_FACTORS: dict[str, Callable[[float], float]] = {
    "euler": lambda h: 1.0 + h * h,
    "rk4": lambda h: 1.0 - h**6 / 72.0 + h**8 / 576.0,
}


def verlet_shadow_energy(x: Any, v: Any, *, k: float = 1.0, m: float = 1.0, dt: float) -> np.ndarray:
    r"""The quantity velocity Verlet conserves *exactly* on the harmonic oscillator (a shadow Hamiltonian).

    H_shadow = m v^2 / 2 + k (1 - (omega dt)^2 / 4) x^2 / 2, omega = sqrt(k/m).  The true energy
    E = H_shadow + (omega dt)^2 k x^2 / 8 therefore oscillates, bounded, with peak-to-peak (omega dt)^2 / 4
    relative to the shadow energy: amplitude ~ dt^2, no drift.

    .. math::

        \tilde H = \frac{m v^2}{2} + \left(1 - \frac{(\omega\, \Delta t)^2}{4}\right) \frac{k x^2}{2},
        \qquad \omega = \sqrt{k/m}

    Parameters
    ----------
    x : array of shape (n_frames,)
        Positions (sigma).
    v : array of shape (n_frames,)
        Velocities (sigma/tau).
    k : float, default 1.0
        Spring constant.
    m : float, default 1.0
        Mass.
    dt : float
        Time step (tau).

    Returns
    -------
    array of shape (n_frames,)
    """
    x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
    h2 = dt * dt * k / m
    return 0.5 * m * v * v + 0.5 * k * (1.0 - h2 / 4.0) * x * x


@dataclass
class EnergyErrorResult:
    """Relative energy error (E(t) - E0)/E0 of one run on the harmonic oscillator.

    ``peak_to_peak``: max - min of the relative error (Verlet: (omega dt)^2/4 from x0 = 1, v0 = 0);
    ``drift_per_period``: slope of a straight-line fit times the period 2 pi/omega (Verlet ~ 0, Euler > 0,
    RK4 < 0); ``final``: the relative error at the end; ``diverged_step``: set when the core stopped the run.

    Parameters
    ----------
    integrator : str
        Integrator name.
    dt : float
        Time step (tau).
    h : float
        omega dt.
    times : array of shape (n_frames,)
        Times (tau).
    relative_error : array of shape (n_frames,)
        (E(t) - E0)/E0.
    peak_to_peak : float
        max - min of the relative error.
    drift_per_period : float
        Fitted drift per period.
    final : float
        Relative error at the end.
    diverged_step : int or None, default None
        Step at which the core stopped the run.
    """

    integrator: str
    dt: float
    h: float
    times: np.ndarray
    relative_error: np.ndarray
    peak_to_peak: float
    drift_per_period: float
    final: float
    diverged_step: int | None = None


def energy_error(integrator: str, dt: float, *, k: float = 1.0, m: float = 1.0, n_periods: float = 20.0,
                 x0: float = 1.0, v0: float = 0.0, blowup_factor: float | None = 100.0) -> EnergyErrorResult:
    """Run the core integrator on the oscillator for ``n_periods`` periods and summarise its energy error.

    Thermostats run noise-free and without friction (``Integrator.deterministic``), so the energy error is the
    integrator's own.

    Parameters
    ----------
    integrator : str
        Integrator name.
    dt : float
        Time step (tau).
    k : float, default 1.0
        Spring constant.
    m : float, default 1.0
        Mass.
    n_periods : float, default 20.0
        Length of the run in periods.
    x0 : float, default 1.0
        Initial position.
    v0 : float, default 0.0
        Initial velocity.
    blowup_factor : float or None, default 100.0
        Divergence criterion of :func:`~npsnn_edu.integrators.simulate`.

    Returns
    -------
    EnergyErrorResult
    """
    dt = positive("dt", dt, hint="the time step, e.g. dt=0.1 on the oscillator with omega = 1")
    k, m = positive("k", k), positive("m", m)
    n_periods = positive("n_periods", n_periods)
    omega = float(np.sqrt(k / m))
    period = 2 * np.pi / omega
    n_steps = max(1, int(np.ceil(n_periods * period / dt)))
    name = canonical_integrator(integrator)
    step = None
    try:
        traj = simulate(Harmonic(k=k), [[x0]], [[v0]], dt=dt, n_steps=n_steps, integrator=_make(name, dt, 0.0),
                        masses=m, blowup_factor=blowup_factor)
    except SimulationDivergedError as exc:
        traj, step = exc.trajectory, exc.step
    e = traj.total_energy
    rel = (e - e[0]) / abs(e[0])
    slope = float(np.polyfit(traj.times, rel, 1)[0]) if len(rel) > 2 else float("nan")
    return EnergyErrorResult(name, float(dt), omega * dt, traj.times, rel, float(rel.max() - rel.min()),
                             slope * period, float(rel[-1]), step)


@dataclass
class PowerLawFit:
    """Straight-line fit log y = slope * log x + log prefactor (y ~ prefactor * x^slope).

    Parameters
    ----------
    x, y : array of shape (n_points,)
        The fitted data (positive).
    slope : float
        Fitted exponent.
    prefactor : float
        Fitted prefactor.
    """

    x: np.ndarray
    y: np.ndarray
    slope: float
    prefactor: float

    def predict(self, x: Any) -> np.ndarray:
        """prefactor * x**slope.

        Parameters
        ----------
        x : array_like
            Abscissae.

        Returns
        -------
        numpy.ndarray
        """
        return self.prefactor * np.asarray(x, dtype=float) ** self.slope


def fit_power_law(x: Any, y: Any) -> PowerLawFit:
    """Least-squares fit of log y against log x (all values must be positive).

    Parameters
    ----------
    x, y : array of shape (n_points,)
        Positive data, at least two points.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    InvalidParameterError
        Fewer than two points, unequal lengths, or non-positive values.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2 or x.ndim != 1:
        raise InvalidParameterError("fit_power_law needs two equally long arrays with at least 2 points")
    if np.any(x <= 0) or np.any(y <= 0) or not np.all(np.isfinite(y)):
        raise InvalidParameterError("a log-log fit needs positive finite values (an error of exactly 0 or NaN?)")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return PowerLawFit(x, y, float(slope), float(np.exp(intercept)))


def verlet_energy_scaling(dts: Sequence[float] = (0.4, 0.2, 0.1, 0.05), *, n_periods: float = 10.0,
                          integrator: str = "velocity_verlet") -> PowerLawFit:
    """Peak-to-peak energy oscillation of velocity Verlet on the oscillator (omega = 1) versus dt, fitted.

    Theory (shadow Hamiltonian): peak-to-peak = (omega dt)^2 / 4, slope 2.

    Parameters
    ----------
    dts : sequence of float, default (0.4, 0.2, 0.1, 0.05)
        Time steps (tau).
    n_periods : float, default 10.0
        Length of each run in periods.
    integrator : str, default "velocity_verlet"
        Integrator name.

    Returns
    -------
    PowerLawFit
        Peak-to-peak energy error against dt (slope 2 for Verlet).
    """
    amps = [energy_error(integrator, dt, n_periods=n_periods).peak_to_peak for dt in dts]
    return fit_power_law(dts, amps)


@dataclass
class ConvergenceResult:
    """Global error |(x, v)(T) - exact| at a fixed final time T versus dt, with the fitted order.

    Parameters
    ----------
    integrator : str
        Integrator name.
    dts : array of shape (n_dts,)
        Time steps used (tau).
    errors : array of shape (n_dts,)
        Global errors at T.
    order : float
        Fitted order (log-log slope).
    expected_order : int
        The method's order.
    t_final : float
        Final time T (tau).
    fit : PowerLawFit
        The log-log fit.
    """

    integrator: str
    dts: np.ndarray
    errors: np.ndarray
    order: float
    expected_order: int
    t_final: float
    fit: PowerLawFit = field(repr=False)


def convergence_study(integrators: Sequence[str] = NVE_INTEGRATORS, dts: Sequence[float] = (0.1, 0.05, 0.025, 0.0125),
                      *, t_final: float = 5.0, omega: float = 1.0, x0: float = 1.0, v0: float = 0.0,
                      progress: bool = False) -> dict[str, ConvergenceResult]:
    """Global error at ``t_final`` against :func:`~npsnn_edu.analytic.harmonic_solution` for each dt.

    Each dt is adjusted to t_final / round(t_final / dt) so the run ends exactly at ``t_final``.  The
    fitted log-log slope is the order of the method (euler 1, symplectic_euler 1, velocity_verlet 2, rk4 4).
    Pick dts small enough to be in the asymptotic regime and large enough to stay above rounding (RK4).

    Parameters
    ----------
    integrators : sequence of str
        Integrator names (default: the four NVE integrators).
    dts : sequence of float, default (0.1, 0.05, 0.025, 0.0125)
        Time steps (tau).
    t_final : float, default 5.0
        Final time T (tau).
    omega : float, default 1.0
        Angular frequency (1/tau).
    x0 : float, default 1.0
        Initial position.
    v0 : float, default 0.0
        Initial velocity.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    dict of str to ConvergenceResult
    """
    t_final = positive("t_final", t_final)
    xt, vt = harmonic_solution(np.array([t_final]), x0, v0, omega)
    out: dict[str, ConvergenceResult] = {}
    items = list(integrators)
    for name in progress_iter(items, "convergence", show=progress, total=len(items), unit="integrator"):
        canon = canonical_integrator(name)
        used, errs = [], []
        for dt in dts:
            n = max(1, int(round(t_final / positive("dt", dt))))
            h = t_final / n
            traj = simulate(Harmonic(k=omega**2), [[x0]], [[v0]], dt=h, n_steps=n, integrator=_make(canon, h, 0.0),
                            record_every=n, blowup_factor=None)
            err = float(np.hypot(traj.positions[-1, 0, 0] - xt[0], (traj.velocities[-1, 0, 0] - vt[0]) / omega))
            used.append(h)
            errs.append(err)
        fit = fit_power_law(used, errs)
        out[canon] = ConvergenceResult(canon, np.array(used), np.array(errs), fit.slope,
                                       integrator_class(canon).order, float(t_final), fit)
    return out


# ------------------------------------------------------------------------------------------------
# 3. Real systems: Morse at high energy, Lennard-Jones liquid
# ------------------------------------------------------------------------------------------------
def fastest_vibration(potential: Any, masses: Any) -> float:
    """Angular frequency omega = sqrt(k_eff / mu) of the stiffest *harmonic* estimate (1/time).

    Harmonic trap: k_eff = k, mu = the lightest mass.  Pair potentials (Lennard-Jones, Morse): k_eff =
    curvature at the minimum, mu = m/2 for two equal masses (the lightest pair is used).  This is the
    small-vibration frequency; anharmonic motion (the repulsive wall) can be much stiffer, see
    :func:`pair_curvature`.

    Parameters
    ----------
    potential : Potential
        Harmonic, Lennard-Jones or Morse.
    masses : float or array of shape (n_atoms,)
        Particle masses.

    Returns
    -------
    float
        omega (1/time).

    Raises
    ------
    InvalidParameterError
        A potential without a curvature at its minimum.
    """
    m = np.sort(np.atleast_1d(np.asarray(masses, dtype=float)))
    if isinstance(potential, Harmonic):
        return float(np.sqrt(potential.k / m[0]))
    curvature = getattr(potential, "curvature_at_minimum", None)
    if curvature is None:
        raise InvalidParameterError(f"{type(potential).__name__} has no curvature_at_minimum; give omega yourself")
    mu = m[0] * m[1] / (m[0] + m[1]) if m.size > 1 else m[0] / 2.0
    return float(np.sqrt(float(curvature) / mu))


def pair_curvature(potential: PairPotential, r: Any, *, eps: float = 1e-5) -> np.ndarray:
    """u''(r) of a pair potential by central finite differences of its force: u'' = -df/dr (energy/length^2).

    Parameters
    ----------
    potential : PairPotential
        The pair potential.
    r : array of shape (n,)
        Distances (sigma).
    eps : float, default 1e-5
        Finite-difference step (sigma).

    Returns
    -------
    array of shape (n,)
        u''(r) (epsilon/sigma^2).
    """
    r = np.asarray(r, dtype=float)
    return -(potential.pair_force(r + eps) - potential.pair_force(r - eps)) / (2 * eps)


def min_pair_distance(positions: np.ndarray, box: Any = None) -> float:
    """Smallest pair distance over all frames of ``positions`` (F, N, D) or one frame (N, D) (minimum image).

    Parameters
    ----------
    positions : array of shape (n_frames, n_atoms, n_dim) or (n_atoms, n_dim)
        Positions (sigma).
    box : array of shape (n_dim,) or None, default None
        Periodic box lengths.

    Returns
    -------
    float
    """
    x = np.asarray(positions, dtype=float)
    frames = x[None] if x.ndim == 2 else x
    i, j = np.triu_indices(frames.shape[1], k=1)
    best = np.inf
    for f in frames:
        d = f[i] - f[j]
        if box is not None:
            d -= np.asarray(box) * np.round(d / np.asarray(box))
        best = min(best, float(np.sqrt(np.min(np.einsum("ij,ij->i", d, d)))))
    return best


@dataclass
class DtScanResult:
    """Energy error, divergence and accuracy versus dt for one system and integrator.

    Two criteria, kept apart:

    * **divergence** (stability): ``diverged_step`` / ``diverged_time`` come from the core's
      SimulationDivergedError, raised when the energy moved by more than ``blowup_factor`` times the initial
      energy scale (None: the run survived).  :attr:`largest_stable_dt` is the largest dt below the smallest
      diverging dt (NaN if even the first diverged);
    * **accuracy**: ``drift`` = max |E(t) - E(0)| / |E(0)| of a run that survived
      (NaN for a diverged run).  A run is *accurate* when ``drift <= energy_tolerance``;
      :attr:`largest_accurate_dt` is the largest dt below the first inaccurate (or diverged) one.

    ``omega_fastest`` and ``dt_linear_limit`` = h*/omega_fastest are the harmonic prediction from the
    curvature at the potential minimum, ``h_linear_limit`` the integrator's h*.  Times in the system's units.

    Parameters
    ----------
    system : str
        System name.
    integrator : str
        Integrator name.
    dts : array of shape (n_dts,)
        Time steps (system's time unit).
    n_steps : array of shape (n_dts,)
        Steps per run.
    drift : array of shape (n_dts,)
        max |E(t) - E(0)| / |E(0)| (NaN for a diverged run).
    diverged_step : list of int or None
        Step of divergence per run.
    diverged_time : list of float or None
        Time of divergence per run.
    omega_fastest : float
        Fastest harmonic angular frequency (1/time).
    h_linear_limit : float
        The integrator's h*.
    blowup_factor : float or None
        Divergence criterion used.
    min_distance : array of shape (n_dts,) or None, default None
        Closest pair approach per run.
    curvature_at_closest_approach : float or None, default None
        u''(r_closest) of the smallest-dt run.
    reduced_mass : float or None, default None
        Reduced mass of the closest pair.
    energy_tolerance : float, default 1e-2
        Accuracy threshold on the drift.
    """

    system: str
    integrator: str
    dts: np.ndarray
    n_steps: np.ndarray
    drift: np.ndarray
    diverged_step: list[int | None]
    diverged_time: list[float | None]
    omega_fastest: float
    h_linear_limit: float
    blowup_factor: float | None
    min_distance: np.ndarray | None = None
    curvature_at_closest_approach: float | None = None
    reduced_mass: float | None = None
    energy_tolerance: float = DEFAULT_ENERGY_TOLERANCE

    @property
    def diverged(self) -> np.ndarray:
        """True where the run blew up (the divergence criterion fired)."""
        return np.array([s is not None for s in self.diverged_step])

    @property
    def accurate(self) -> np.ndarray:
        """True where the run survived AND its max relative energy error is <= ``energy_tolerance``."""
        with np.errstate(invalid="ignore"):
            return ~self.diverged & (np.nan_to_num(self.drift, nan=np.inf) <= self.energy_tolerance)

    @staticmethod
    def _largest_below_first_failure(dts: np.ndarray, ok: np.ndarray) -> float:
        bad = dts[~ok]
        good = dts[ok]
        if bad.size:
            good = good[good < bad.min()]
        return float(good.max()) if good.size else float("nan")

    @property
    def largest_stable_dt(self) -> float:
        """Largest dt below the first divergence (NaN if the smallest dt already diverged)."""
        return self._largest_below_first_failure(self.dts, ~self.diverged)

    @property
    def smallest_diverging_dt(self) -> float:
        """The smallest dt that diverged (NaN when none did)."""
        bad = self.dts[self.diverged]
        return float(bad.min()) if bad.size else float("nan")

    @property
    def largest_accurate_dt(self) -> float:
        """Largest dt below the first run that is inaccurate or diverged (NaN if the smallest dt fails)."""
        return self._largest_below_first_failure(self.dts, self.accurate)

    @property
    def smallest_inaccurate_dt(self) -> float:
        """The smallest dt that is not accurate (inaccurate or diverged; NaN when every run is accurate)."""
        bad = self.dts[~self.accurate]
        return float(bad.min()) if bad.size else float("nan")

    @property
    def dt_linear_limit(self) -> float:
        """Harmonic prediction of the largest stable dt: h* / omega_fastest."""
        return self.h_linear_limit / self.omega_fastest

    @property
    def omega_closest_approach(self) -> float:
        """sqrt(u''(r_closest) / mu) at the closest pair distance of the smallest-dt run (NaN without pairs)."""
        if self.curvature_at_closest_approach is None or self.reduced_mass is None:
            return float("nan")
        return float(np.sqrt(max(self.curvature_at_closest_approach, 0.0) / self.reduced_mass))

    @property
    def dt_limit_closest_approach(self) -> float:
        """h* / omega at the closest approach: the linear limit of the stiffest motion the run actually visits."""
        return self.h_linear_limit / self.omega_closest_approach

    def outcome(self, index: int) -> str:
        """The verdict on run ``index`` in words: "accurate", "inaccurate" or "diverged at step n".

        Parameters
        ----------
        index : int
            Index of the run in ``dts``.

        Returns
        -------
        str
        """
        if self.diverged_step[index] is not None:
            return f"diverged at step {self.diverged_step[index]}"
        return "accurate" if self.accurate[index] else "inaccurate"

    def limits_table(self) -> pd.DataFrame:
        """The predicted and measured time-step limits of this scan, one row each (time units of the system).

        Rows: the linear limit from the curvature at the minimum, the linear limit at the closest approach (pair
        potentials only), the first dt that blew up, the largest stable dt and the largest accurate dt. A limit
        the scan did not reach is written as text ("none up to <largest dt>"), never as NaN.
        """
        top = float(self.dts.max())

        def show(value: float, none: str) -> str:
            return f"{value:.4g}" if np.isfinite(value) else none

        rows = [("linear limit, curvature at the minimum", "prediction", f"{self.dt_linear_limit:.4g}")]
        if np.isfinite(self.omega_closest_approach):
            rows.append(("linear limit, curvature at the closest approach", "prediction",
                         f"{self.dt_limit_closest_approach:.4g}"))
        rows += [("first dt that blew up", "measured", show(self.smallest_diverging_dt, f"none up to {top:g}")),
                 ("largest stable dt (no blow-up)", "measured", show(self.largest_stable_dt, "none")),
                 (f"largest accurate dt (max |dE/E0| <= {self.energy_tolerance:g})", "measured",
                  show(self.largest_accurate_dt, "none"))]
        return results_table([{"limit": a, "kind": b, "dt": c} for a, b, c in rows], index="limit")

    def table(self) -> pd.DataFrame:
        """One row per dt: steps, max |dE/E0| as text ("blew up" for a diverged run) and the verdict in words.

        No NaN or None is shown: a diverged run has no meaningful maximum error, its row says where it blew up.
        """
        rows = [{"dt": float(dt), "steps": int(n),
                 "max |dE/E0|": (f"{d:.2e}" if s is None else "blew up"),
                 f"verdict (tolerance {self.energy_tolerance:g})": self.outcome(k)}
                for k, (dt, n, d, s) in enumerate(zip(self.dts, self.n_steps, self.drift, self.diverged_step))]
        return results_table(rows, index="dt")

    def report(self) -> str:
        """A few lines in words: the predicted limits and the measured stable and accurate dt."""
        lines = [f"{self.system} with {self.integrator}: omega_fastest = {self.omega_fastest:.4g} "
                 f"(period {2 * np.pi / self.omega_fastest:.4g}); linear limit dt* = {self.dt_linear_limit:.4g}"]
        for k, (dt, d) in enumerate(zip(self.dts, self.drift)):
            err = f"max|dE/E0| = {d:<10.3g}" if np.isfinite(d) else f"{'blew up':<22}"
            lines.append(f"  dt = {dt:<8.4g} {err} {self.outcome(k)}")
        if self.min_distance is not None:
            lines.append(f"  closest approach r = {self.min_distance[0]:.4g}: "
                         f"u'' = {self.curvature_at_closest_approach:.4g}, "
                         f"limit there dt* = {self.dt_limit_closest_approach:.4g}")
        lines.append(f"  largest stable dt tested (no blow-up): {_fmt_dt(self.largest_stable_dt)}")
        lines.append(f"  largest accurate dt tested (max |dE/E0| <= {self.energy_tolerance:g}): "
                     f"{_fmt_dt(self.largest_accurate_dt)}")
        return "\n".join(lines)


def _fmt_dt(value: float) -> str:
    return f"{value:.4g}" if np.isfinite(value) else "none (the smallest dt already failed)"


def _max_relative_energy_error(traj: Any) -> float:
    """max |E(t) - E(0)| / |E(0)| (the mean kinetic energy replaces |E(0)| when E(0) is zero)."""
    e = np.asarray(traj.total_energy, dtype=float)
    scale = abs(float(e[0]))
    if scale == 0.0:
        scale = max(float(np.mean(traj.kinetic_energy)), 1e-300)
    return float(np.max(np.abs(e - e[0])) / scale)


def dt_scan(system: System, dts: "Sequence[float] | np.ndarray", *, t_total: float | None = None,
            n_steps: int | None = None, integrator: str = "velocity_verlet",
            blowup_factor: float | None = DIVERGENCE_FACTOR, energy_tolerance: float = DEFAULT_ENERGY_TOLERANCE,
            progress: bool | None = True, track_min_distance: bool | None = None,
            **run_options: Any) -> DtScanResult:
    """Run ``system`` once per dt and record energy drift and blow-up (the core's divergence detection).

    Give either ``t_total`` (same physical time for every dt: n = round(t_total/dt), the fair comparison of
    drift) or ``n_steps``.  Two separate verdicts per run:

    * ``blowup_factor`` (divergence, passed to :func:`~npsnn_edu.integrators.simulate`; default
      :data:`DIVERGENCE_FACTOR` = 100): the run *diverged* once its energy moved by more than that many times
      its initial energy scale, or became non-finite.  ``None`` catches non-finite energies only.
    * ``energy_tolerance`` (accuracy, dimensionless, default 1e-2): a surviving run is *accurate* when
      max |E(t) - E(0)| / |E(0)| <= ``energy_tolerance``.  For a bound Morse molecule started at rest,
      |E(0)| is its binding energy, so ``energy_tolerance=1`` asks "does the bond survive the energy error?".

    ``track_min_distance`` (default: on for pair potentials) records the closest pair approach of each run;
    the smallest-dt run gives the curvature u''(r_closest) of the stiffest motion really visited and
    :attr:`DtScanResult.dt_limit_closest_approach`, usually a far better predictor than the curvature at the
    minimum.  A diverged run's ``drift`` is NaN (its energy error is, by definition, above the threshold).

    Parameters
    ----------
    system : System
        The system to run.
    dts : sequence of float
        Time steps (system's time unit), positive.
    t_total : float or None, default None
        Physical time of every run (give this or ``n_steps``).
    n_steps : int or None, default None
        Steps of every run.
    integrator : str, default "velocity_verlet"
        Integrator name.
    blowup_factor : float or None, default DIVERGENCE_FACTOR (100)
        Divergence criterion.
    energy_tolerance : float, default 1e-2
        Accuracy threshold on max |E(t) - E(0)| / |E(0)|.
    progress : bool or None, default True
        Show a progress bar.
    track_min_distance : bool or None, default None
        Record the closest pair approach (default: on for pair potentials).
    **run_options
        Further arguments of :func:`~npsnn_edu.integrators.simulate`.

    Returns
    -------
    DtScanResult

    Raises
    ------
    InvalidParameterError
        Both or neither of ``t_total``/``n_steps``, empty or non-positive ``dts``.
    """
    if (t_total is None) == (n_steps is None):
        raise InvalidParameterError("give exactly one of t_total (physical time) or n_steps")
    dt_values = np.asarray(sorted(positive("dt", d, hint="dts must be positive time steps") for d in dts))
    if dt_values.size == 0:
        raise InvalidParameterError("dts must be a non-empty list of positive time steps")
    energy_tolerance = positive("energy_tolerance", energy_tolerance,
                                hint="a relative energy error, e.g. energy_tolerance=1e-2 for 1 %")
    name = canonical_integrator(integrator)
    limit = ANALYTIC_STABILITY_LIMITS[name]
    omega = fastest_vibration(system.potential, system.masses)
    if track_min_distance is None:
        track_min_distance = isinstance(system.potential, PairPotential)
    steps: list[int] = []
    drifts: list[float] = []
    div_steps: list[int | None] = []
    div_times: list[float | None] = []
    dmin: list[float] = []
    for dt in progress_iter(dt_values, f"dt scan ({system.name}, {name})", show=bool(progress), total=len(dt_values),
                            unit="dt"):
        n = int(n_steps) if n_steps is not None else max(1, int(round(float(t_total or 0.0) / dt)))
        steps.append(n)
        try:
            traj = system.run(dt=float(dt), n_steps=n, integrator=name, blowup_factor=blowup_factor, progress=False,
                              **run_options)
            div_steps.append(None)
            div_times.append(None)
        except SimulationDivergedError as exc:
            traj = exc.trajectory
            div_steps.append(int(exc.step))
            div_times.append(float(exc.time))
        drifts.append(_max_relative_energy_error(traj) if div_steps[-1] is None else float("nan"))
        if track_min_distance:
            dmin.append(min_pair_distance(traj.positions, system.box))
    curv = mu = None
    if track_min_distance:
        if not isinstance(system.potential, PairPotential):
            raise InvalidParameterError("track_min_distance needs a pair potential (the curvature u''(r) at the "
                                        f"closest approach); {type(system.potential).__name__} is not one")
        curv = float(pair_curvature(system.potential, dmin[0]))
        m = np.sort(np.asarray(system.masses, dtype=float))
        mu = float(m[0] * m[1] / (m[0] + m[1]))
    return DtScanResult(system.name, name, dt_values, np.array(steps), np.array(drifts), div_steps, div_times, omega,
                        limit, blowup_factor, np.array(dmin) if track_min_distance else None, curv, mu,
                        float(energy_tolerance))


def morse_scans(fractions: Sequence[float] = (0.3, 0.5, 0.7, 0.9), *, dt_step: float = 0.04, dt_max: float = 1.1,
                n_periods: float = 10.0, energy_tolerance: float = 1.0) -> list[DtScanResult]:
    """One :func:`dt_scan` of a 1D Morse molecule (D_e = a = r_e = m = 1) per vibrational energy ``fraction`` of
    the well depth, started at rest on the inner wall; dts = ``dt_step``, 2 ``dt_step``, ... up to ``dt_max``,
    each run ``n_periods`` periods of the exact motion long.

    The default ``energy_tolerance=1`` makes "accurate" mean "the energy error stays below the binding energy
    |E0|": the bond survives. Divergence uses the kit's default criterion (:data:`DIVERGENCE_FACTOR`).

    Parameters
    ----------
    fractions : sequence of float, default (0.3, 0.5, 0.7, 0.9)
        Vibrational energies as fractions of the well depth.
    dt_step : float, default 0.04
        Smallest dt and the spacing of the dts (tau).
    dt_max : float, default 1.1
        Largest dt (tau).
    n_periods : float, default 10.0
        Length of each run in exact periods.
    energy_tolerance : float, default 1.0
        Accuracy threshold (1: the bond survives).

    Returns
    -------
    list of DtScanResult

    Raises
    ------
    InvalidParameterError
        ``dt_max`` below ``dt_step``.
    """
    dt_step = positive("dt_step", dt_step, hint="spacing of the dt grid in time units, e.g. 0.04")
    dt_max = positive("dt_max", dt_max)
    if dt_max < dt_step:
        raise InvalidParameterError(f"dt_max ({dt_max}) must be at least dt_step ({dt_step})")
    grid = np.round(np.arange(1, int(np.floor(dt_max / dt_step + 1e-9)) + 1) * dt_step, 10)
    scans = []
    for fraction in fractions:
        mol = morse_at_energy(float(fraction))
        scan = dt_scan(mol, grid, t_total=float(n_periods) * mol.info["period"], energy_tolerance=energy_tolerance,
                       progress=False)
        scan.system = f"Morse at {float(fraction):.0%} of D_e"
        scans.append(scan)
    return scans


def morse_limits_table(scans: Sequence[DtScanResult],
                       fractions: Sequence[float] = (0.3, 0.5, 0.7, 0.9)) -> pd.DataFrame:
    """One row per Morse scan of :func:`morse_scans`: the two predictions and the two measured limits.

    Columns: ``E / D_e`` (vibrational energy as a fraction of the well depth), the linear limit 2 / omega at the
    minimum and at the inner wall (closest approach), the largest dt at which the bond survives (accuracy,
    tolerance = the binding energy) and the first dt that blew up ("none up to ..." when none did).

    Parameters
    ----------
    scans : sequence of DtScanResult
        Output of :func:`morse_scans`.
    fractions : sequence of float, default (0.3, 0.5, 0.7, 0.9)
        The fraction of each scan.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InvalidParameterError
        Not one fraction per scan.
    """
    if len(scans) != len(fractions):
        raise InvalidParameterError(f"give one fraction per scan: {len(scans)} scans, {len(fractions)} fractions")
    rows = []
    for fraction, scan in zip(fractions, scans):
        blow = scan.smallest_diverging_dt
        rows.append({"E / D_e": f"{float(fraction):.0%}",
                     "limit at minimum": round(scan.dt_linear_limit, 3),
                     "limit at inner wall": round(scan.dt_limit_closest_approach, 3),
                     "bond survives up to": (f"{scan.largest_accurate_dt:.2f}" if np.isfinite(scan.largest_accurate_dt)
                                             else "none"),
                     "first blow-up": (f"{blow:.2f}" if np.isfinite(blow) else f"none up to {scan.dts.max():.2f}")})
    return results_table(rows, index="E / D_e")
