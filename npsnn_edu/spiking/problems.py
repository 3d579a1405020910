"""Initial-value problems m x'' = F(x) for the spiking PINN, each with an independent reference.

Reduced LJ units throughout (sigma = epsilon = m = 1, time in tau). The force F comes from the core
potentials (:mod:`npsnn_edu.potentials`), which accept torch tensors and are differentiable: the physics
residual of chapter 4 uses the very same force field as chapters 1-3.

Systems
-------
``harmonic``  one particle, 1D, m x'' = -k x (default k = m = 1, omega = 1; ``omega``, ``k``, ``mass``, ``x0``,
              ``v0``, ``periods`` / ``t_end`` are parameters); reference: the analytic solution.
``morse``     Morse diatomic (D_e = 1, a = 1, r_e = 1) stretched by 0.3 off its minimum, atoms at rest;
              reference: velocity Verlet from the core at a small dt (cubic-Hermite interpolated).
``lj3``       three Lennard-Jones atoms in 2D (no cutoff), an equilateral triangle at r_min with one atom
              pushed outwards by 0.05 sigma; reference: velocity Verlet at a small dt.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..analytic import harmonic_solution, morse_period
from ..errors import InvalidParameterError
from ..integrators import simulate
from ..potentials import LennardJones, Potential
from ..registry import Registry, build
from ..systems import harmonic_oscillator, morse_diatomic
from ..validation import at_least, finite, positive


@dataclass
class NewtonProblem:
    """``m x'' = F(x)`` on ``[0, t_end]`` with ``x(0) = x0`` and ``x'(0) = v0`` (arrays ``(N, D)``).

    ``reference(t)`` returns positions ``(len(t), N, D)`` and velocities from an independent solver
    (analytic where it exists, else velocity Verlet at ``ref_dt``).
    """

    name: str
    potential: Potential
    x0: np.ndarray
    v0: np.ndarray
    masses: np.ndarray
    t_end: float
    ref_dt: float = 1e-3
    analytic: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # builder keywords: get_problem(name, **params) rebuilds it
    _ref_cache: Any = field(default=None, repr=False)

    @property
    def n_particles(self) -> int:
        return int(self.x0.shape[0])

    @property
    def dim(self) -> int:
        return int(self.x0.shape[1])

    @property
    def n_out(self) -> int:
        """Number of scalar outputs of a model for this problem (N * D)."""
        return self.n_particles * self.dim

    def initial_energy(self) -> float:
        """Total energy E(0) = 1/2 sum m v0^2 + U(x0)."""
        return float(0.5 * np.sum(self.masses[:, None] * self.v0**2) + self.potential.energy(self.x0))

    def reference(self, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Reference positions and velocities, each ``(len(t), N, D)``, at times ``t`` (in tau)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(t < -1e-12) or np.any(t > self.t_end * (1 + 1e-9) + 1e-12):
            raise InvalidParameterError(f"reference times must lie in [0, {self.t_end:g}]")
        if self.analytic:  # harmonic: omega^2 = k / m
            omega = float(np.sqrt(self.potential.k / self.masses[0]))
            x, v = harmonic_solution(t, float(self.x0[0, 0]), float(self.v0[0, 0]), omega)
            return x.reshape(-1, 1, 1), v.reshape(-1, 1, 1)
        return _hermite(self._verlet(), t)

    def verlet(self, dt: float, t_end: float | None = None) -> Any:
        """A core velocity-Verlet :class:`~npsnn_edu.trajectory.Trajectory` of this problem at step ``dt``."""
        t_end = self.t_end if t_end is None else float(t_end)
        n = int(np.floor(t_end / dt + 1e-9))  # last frame at or before t_end (the reference's range)
        return simulate(self.potential, self.x0, self.v0, dt=dt, n_steps=n, masses=self.masses, progress=False)

    def _verlet(self) -> Any:
        if self._ref_cache is None:
            n = int(np.ceil(self.t_end / self.ref_dt))
            self._ref_cache = simulate(self.potential, self.x0, self.v0, dt=self.t_end / n, n_steps=n,
                                       masses=self.masses, progress=False)
        return self._ref_cache

    def config(self) -> dict[str, Any]:
        """JSON-able description (used in checkpoints): the name and the builder's keyword arguments.

        ``get_problem(cfg["name"], **cfg["params"])`` rebuilds the same problem.  A problem built by hand
        (not by a registered builder) also stores its arrays, so that it round-trips too.
        """
        out: dict[str, Any] = {"name": self.name, "t_end": self.t_end, "params": dict(self.params)}
        if not self.params:
            out["arrays"] = {"x0": self.x0.tolist(), "v0": self.v0.tolist(), "masses": self.masses.tolist()}
        return out


def _hermite(traj: Any, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cubic Hermite interpolation of a trajectory (positions + velocities + accelerations from forces)."""
    times = traj.times
    h = times[1] - times[0]
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    s = ((t - times[idx]) / h)[:, None, None]
    p0, p1 = traj.positions[idx], traj.positions[idx + 1]
    m0, m1 = traj.velocities[idx] * h, traj.velocities[idx + 1] * h
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    x = h00 * p0 + h10 * m0 + h01 * p1 + h11 * m1
    dh00, dh10, dh01, dh11 = 6 * s**2 - 6 * s, 3 * s**2 - 4 * s + 1, -6 * s**2 + 6 * s, 3 * s**2 - 2 * s
    v = (dh00 * p0 + dh10 * m0 + dh01 * p1 + dh11 * m1) / h
    return x, v


def harmonic_problem(periods: float = 2.0, t_end: float | None = None, x0: float = 1.0, v0: float = 0.0,
                     omega: float | None = None, k: float | None = None, mass: float = 1.0) -> NewtonProblem:
    """1D harmonic oscillator m x'' = -k x over ``periods`` periods (2 pi / omega each), analytic reference.

    Give the stiffness either as ``omega`` (then k = m omega^2) or as ``k`` (omega = sqrt(k / m)); default
    omega = 1.  ``t_end`` (tau) overrides ``periods``.
    """
    mass = positive("mass", mass)
    if omega is not None and k is not None:
        raise InvalidParameterError("give either omega or k for the harmonic problem, not both")
    if omega is not None:
        k = mass * positive("omega", omega) ** 2
    k = 1.0 if k is None else positive("k", k)
    om = float(np.sqrt(k / mass))
    sys_ = harmonic_oscillator(k=k, mass=mass, x0=finite("x0", x0), v0=finite("v0", v0))
    period = 2 * np.pi / om
    t_end = period * positive("periods", periods) if t_end is None else t_end
    params = {"periods": float(periods), "t_end": None, "x0": float(x0), "v0": float(v0), "k": float(k),
              "mass": float(mass)}
    return NewtonProblem("harmonic", sys_.potential, sys_.positions, sys_.velocities, sys_.masses,
                         _check_span(t_end), analytic=True, info={"period": period, "omega": om},
                         params={**params, "t_end": _check_span(t_end)})


def morse_problem(periods: float = 2.0, t_end: float | None = None, stretch: float = 0.3, velocity: float = 0.0,
                  mass: float = 1.0, D_e: float = 1.0, a: float = 1.0, r_e: float = 1.0) -> NewtonProblem:
    """Morse diatomic in 1D started ``stretch`` off its minimum with relative velocity ``velocity``.

    The atoms move apart at +-velocity/2 (centre of mass at rest); ``periods`` exact anharmonic periods
    (bound states only: the total energy must stay below zero, the dissociation limit).
    """
    mass = positive("mass", mass)
    sys_ = morse_diatomic(D_e=positive("D_e", D_e), a=positive("a", a), r_e=positive("r_e", r_e),
                          stretch=finite("stretch", stretch), mass=mass, dim=1)
    pot = sys_.potential
    vel = sys_.velocities.copy()
    vel[0, 0], vel[1, 0] = -0.5 * finite("velocity", velocity), 0.5 * float(velocity)
    mu = 0.5 * mass
    energy = float(pot.energy(sys_.positions)) + 0.5 * mu * float(velocity) ** 2
    if energy >= 0:
        raise InvalidParameterError(f"the Morse problem must be bound (total energy {energy:.3g} >= 0, the "
                                    "dissociation limit): use a smaller stretch or velocity")
    period = morse_period(energy, pot.D_e, pot.a, reduced_mass=mu)
    t_end = period * positive("periods", periods) if t_end is None else t_end
    params = {"periods": float(periods), "t_end": _check_span(t_end), "stretch": float(stretch),
              "velocity": float(velocity), "mass": float(mass), "D_e": float(D_e), "a": float(a), "r_e": float(r_e)}
    return NewtonProblem("morse", pot, sys_.positions, vel, sys_.masses, _check_span(t_end),
                         info={"period": period, "energy": energy}, params=params)


def lj3_problem(t_end: float = 2.0, push: float = 0.05, mass: float = 1.0, velocity_scale: float = 0.0,
                seed: int = 0) -> NewtonProblem:
    """Three LJ atoms in 2D (no cutoff): equilateral triangle of side r_min, atom 0 pushed out by ``push``.

    ``velocity_scale`` > 0 adds random Gaussian velocities of that standard deviation (seeded by ``seed``),
    with the centre-of-mass velocity removed.  The centre of mass stays at rest; the small-amplitude
    vibration period is about 0.6 tau.
    """
    mass = positive("mass", mass)
    pot = LennardJones(cutoff=None, shift=False)
    r = pot.r_min
    x0 = np.array([[0.0, r / np.sqrt(3.0)], [-r / 2, -r / (2 * np.sqrt(3.0))], [r / 2, -r / (2 * np.sqrt(3.0))]])
    x0[0, 1] += finite("push", push)
    x0 -= x0.mean(0)
    v0 = np.zeros_like(x0)
    if at_least("velocity_scale", velocity_scale, 0.0) > 0:
        v0 = np.random.default_rng(int(seed)).normal(0.0, float(velocity_scale), size=x0.shape)
        v0 -= v0.mean(0)
    params = {"t_end": _check_span(t_end), "push": float(push), "mass": float(mass),
              "velocity_scale": float(velocity_scale), "seed": int(seed)}
    return NewtonProblem("lj3", pot, x0, v0, np.full(3, mass), _check_span(t_end), ref_dt=5e-4, params=params)


PROBLEMS: Registry[Callable[..., NewtonProblem]] = Registry("system")
PROBLEMS.register("harmonic", harmonic_problem, aliases=("harmonic-oscillator", "harmonic_oscillator"))
PROBLEMS.register("morse", morse_problem, aliases=("morse-diatomic", "morse_diatomic"))
PROBLEMS.register("lj3", lj3_problem, aliases=("lj-trimer", "lj_trimer", "lj-3"))


def available_problems() -> list[str]:
    """Names accepted by :func:`get_problem`."""
    return sorted(PROBLEMS.names())


def get_problem(name: "str | NewtonProblem", **params: Any) -> NewtonProblem:
    """Build a problem by name: ``harmonic``, ``morse`` (alias ``morse-diatomic``), ``lj3`` (alias ``lj-trimer``).

    Keyword arguments go to the builder, e.g. ``get_problem("harmonic", omega=2, x0=0.5, v0=1, periods=3)``,
    ``get_problem("morse", stretch=0.2, velocity=0.1)``, ``get_problem("lj3", t_end=1.5)``.  A non-positive time
    span raises :class:`~npsnn_edu.errors.InvalidParameterError`; an unknown name raises
    :class:`~npsnn_edu.errors.UnknownNameError`.  A :class:`NewtonProblem` passes through unchanged (no
    keyword arguments allowed then).
    """
    if isinstance(name, NewtonProblem):
        if params:
            raise InvalidParameterError("parameters can only be given with a problem name, not with a NewtonProblem")
        return name
    return build(PROBLEMS.get(name), **params)


def make_problem(name: "str | NewtonProblem", **params: Any) -> NewtonProblem:
    """Deprecated alias of :func:`get_problem` (kept for old notebooks; same arguments and result)."""
    return get_problem(name, **params)


def _check_span(t_end: Any) -> float:
    try:
        t_end = float(t_end)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"t_end must be a positive number (tau), got {t_end!r}") from exc
    if not np.isfinite(t_end) or t_end <= 0:
        raise InvalidParameterError(f"the time span must be positive (t_end > 0 in tau), got {t_end!r}")
    return t_end
