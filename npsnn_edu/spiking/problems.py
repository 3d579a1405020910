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
              pushed outwards by 0.05 sigma; reference: velocity Verlet at a small dt.  (Alias ``lj3_2d``: the
              operator family ``lj3d`` is the 3-D trimer.)
``double-well`` one particle in the core quartic double well E = barrier ((x / x_min)^2 - 1)^2, started at
              the core's default (x0 = 1, v0 = 0.5: at the bottom of the right well, where F(x0) = 0).

Any system: :meth:`NewtonProblem.from_potential` (or ``get_problem(potential, x0=..., v0=..., t_end=...)``) builds
a problem from any core potential (:mod:`npsnn_edu.potentials`), with validated inputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np

from ..analytic import harmonic_solution, morse_period
from ..errors import InvalidParameterError, ShapeMismatchError, SimulationDivergedError
from ..integrators import simulate
from ..potentials import POTENTIALS, DoubleWell, LennardJones, Potential, get_potential
from ..registry import Registry, build
from ..systems import harmonic_oscillator, morse_diatomic
from ..validation import Boolean, Constraints, InstanceOf, Positive, Rule, at_least, finite, positive, validate_fields
from .check import verlet_on_grid


def _mass_values(name: str, value: Any) -> np.ndarray:
    """``value`` as an array of positive finite masses (any shape; :func:`_masses` fits it to the particles)."""
    try:
        m = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a positive number or one positive number per particle (m), "
                                    f"got {type(value).__name__}") from exc
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise InvalidParameterError(f"{name} must be positive and finite (m), got {m.tolist()}")
    return m


@dataclass
class NewtonProblem:
    r"""``m x'' = F(x)`` on ``[0, t_end]`` with ``x(0) = x0`` and ``x'(0) = v0`` (arrays ``(N, D)``).

    .. math::

        m_i\, \ddot{\mathbf{x}}_i(t) = \mathbf{F}_i(\mathbf{x}(t)) = -\nabla_i U(\mathbf{x}(t)), \qquad
        \mathbf{x}(0) = \mathbf{x}_0, \quad \dot{\mathbf{x}}(0) = \mathbf{v}_0, \qquad 0 \le t \le t_{\mathrm{end}}

    The PINNs of this package minimise the residual of this equation (:func:`~npsnn_edu.spiking.training.physics_loss`).

    ``reference(t)`` returns positions ``(len(t), N, D)`` and velocities from an independent solver
    (analytic where it exists, else velocity Verlet at ``ref_dt``).

    Parameters
    ----------
    name : str
        A label (a registered name when built by :func:`get_problem`).
    potential : Potential
        Any core potential (:mod:`npsnn_edu.potentials`); F = -dU/dx in epsilon / sigma.
    x0, v0 : array-like of shape (N, D)
        Initial positions (sigma) and velocities (sigma / tau); a scalar is one particle in 1D.
    masses : float or array-like of shape (N,)
        Particle masses (m); a scalar is the same mass for every particle.
    t_end : float
        Length of the time window (tau), > 0.
    ref_dt : float, default 1e-3
        Step (tau) of the velocity-Verlet reference of a non-analytic problem, > 0.
    analytic : bool, default False
        Whether the reference is an exact solution.
    info : dict, default {}
        Free-form labels.
    params : dict, default {}
        Builder keywords: ``get_problem(name, **params)`` rebuilds the problem.

    Raises
    ------
    InvalidParameterError, ShapeMismatchError
        Bad input, with what to change.
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
    _ref_cache: Any = field(default=None, repr=False, compare=False)
    _probe_cache: Any = field(default=None, repr=False, compare=False)
    _check_cache: dict = field(default_factory=dict, repr=False, compare=False)

    #: Every public field's constraint, checked at construction; the checks that tie fields together (shapes of
    #: v0 and masses against x0, the potential's particle count) follow in ``__post_init__``.
    _parameter_constraints: ClassVar[Constraints] = {
        "name": InstanceOf(str),
        "potential": InstanceOf(Potential, message="potential must be a core Potential (npsnn_edu.potentials, e.g. "
                                                   "DoubleWell()), got {type}"),
        "x0": Rule(lambda name, value: _state_array(name, value), invalid="x"),
        "v0": Rule(lambda name, value: _state_array(name, value), invalid=[[np.inf]]),
        "masses": Rule(_mass_values, invalid=-1.0),
        "t_end": Rule(lambda name, value: _check_span(value), invalid=0.0),
        "ref_dt": Positive(hint="the reference's velocity-Verlet step in tau, e.g. 1e-3"),
        "analytic": Boolean(),
        "info": InstanceOf(dict),
        "params": InstanceOf(dict),
    }

    def __post_init__(self) -> None:
        validate_fields(self)
        if self.v0.shape != self.x0.shape:
            raise ShapeMismatchError(f"v0 must have the shape of x0 {self.x0.shape} (N particles, D dimensions), "
                                     f"got {self.v0.shape}")
        self.masses = _masses(self.masses, self.x0.shape[0])
        if self.potential.n_particles is not None and self.potential.n_particles != self.x0.shape[0]:
            raise ShapeMismatchError(f"{type(self.potential).__name__} needs {self.potential.n_particles} particles, "
                                     f"x0 has {self.x0.shape[0]}")
        self.potential.energy_and_forces(self.x0)  # typed error for a start the potential cannot evaluate

    @classmethod
    def from_potential(cls, potential: "Potential | str", x0: Any, v0: Any = 0.0, *, masses: Any = 1.0,
                       t_end: float = 10.0, name: str | None = None, ref_dt: float = 1e-3) -> "NewtonProblem":
        """A problem ``m x'' = F(x)`` from any core potential, in one call.

        Parameters
        ----------
        potential : Potential or str
            A core potential instance (``DoubleWell(barrier=1)``) or a registered name (``"double-well"``,
            built with its default parameters by :func:`~npsnn_edu.potentials.get_potential`).
        x0 : float or array-like of shape (N, D)
            Initial positions (sigma); a scalar is one particle in 1D.
        v0 : float or array-like of shape (N, D)
            Initial velocities (sigma / tau); a scalar is broadcast to the shape of x0.
        masses : float or array-like of shape (N,)
            Masses (m).
        t_end : float
            Window length (tau).
        name : str, optional
            A label (default: the potential's name).
        ref_dt : float
            Velocity-Verlet step of the reference (tau).

        Example::

            prob = NewtonProblem.from_potential(DoubleWell(), x0=1.5, v0=0.0, t_end=8.0)
        """
        if isinstance(potential, str):
            potential = get_potential(potential)
        x0a = _state_array("x0", x0)
        v0a = np.broadcast_to(np.asarray(v0, dtype=float), x0a.shape).copy() if np.ndim(v0) == 0 else v0
        label = name or getattr(potential, "name", "custom")
        return cls(str(label), potential, x0a, v0a, masses, t_end, ref_dt=ref_dt)

    def acceleration_scale(self) -> float:
        """The largest |F / m| (sigma / tau^2) along the motion: what the loss divides the residual by.

        Analytic harmonic problems: k A / m with A the exact amplitude sqrt(x0^2 + (v0 / omega)^2).  Otherwise a
        cheap probe: a coarse velocity-Verlet run of the core over the window (at most 400 steps), max |F / m|
        along it (including the start).  It does not depend on the force at the start alone, so a start at an
        equilibrium point (F(x0) = 0) gets the scale of the motion it starts.
        """
        return self.motion_scales()["a"]

    def check_reference(self, t: np.ndarray) -> np.ndarray:
        """Positions ``(T, N, D)`` of the forward-output check on the uniform grid ``t`` (from 0): a core
        velocity-Verlet run at >= 20000 steps over the window (:func:`~npsnn_edu.spiking.check.verlet_on_grid`),
        cached per grid.

        Parameters
        ----------
        t : array of shape (n_times,)
            Uniform grid from 0 (tau).

        Returns
        -------
        array of shape (n_times, n_atoms, n_dim)
        """
        t = np.asarray(t, dtype=float)
        key = (len(t), float(t[-1]))
        if key not in self._check_cache:
            self._check_cache[key] = verlet_on_grid(self.potential, self.x0, self.v0, self.masses, t)
        return self._check_cache[key]

    def motion_scales(self) -> dict[str, float]:
        """Scales of the motion (cached): ``a`` the largest |F / m|, ``amp`` the amplitude and ``omega`` the angular
        frequency; exact for analytic harmonic problems, else from the coarse probe of :meth:`acceleration_scale`.

        Returns
        -------
        dict of str to float
            ``a`` (sigma / tau^2), ``amp`` (sigma), ``omega`` (1 / tau).
        """
        if self._probe_cache is not None:
            return self._probe_cache
        m = self.masses[:, None]
        f0 = np.abs(self.potential.forces(self.x0) / m)
        if self.analytic:
            omega = float(np.sqrt(self.potential.k / self.masses[0]))
            amp = float(np.hypot(self.x0[0, 0] - getattr(self.potential, "center", 0.0), self.v0[0, 0] / omega))
            out = {"a": omega**2 * amp, "amp": amp, "omega": omega}
        else:
            n = 400
            try:
                traj = simulate(self.potential, self.x0, self.v0, dt=self.t_end / n, n_steps=n, masses=self.masses,
                                progress=False)
                pos = traj.positions
            except SimulationDivergedError as exc:  # keep what ran before it diverged
                pos = exc.trajectory.positions if exc.trajectory is not None else self.x0[None]
            f = np.abs(self.potential.forces(pos) / m[None])
            a = float(max(np.max(f0), np.max(f)))
            amp = float(np.max(0.5 * (pos.max(0) - pos.min(0))))
            omega = float(np.sqrt(a / amp)) if amp > 0 and a > 0 else 2 * np.pi / self.t_end
            out = {"a": a, "amp": amp, "omega": omega}
        self._probe_cache = out
        return out

    @property
    def n_particles(self) -> int:
        """Number of particles N."""
        return int(self.x0.shape[0])

    @property
    def dim(self) -> int:
        """Number of dimensions D."""
        return int(self.x0.shape[1])

    @property
    def n_out(self) -> int:
        """Number of scalar outputs of a model for this problem (N * D)."""
        return self.n_particles * self.dim

    def initial_energy(self) -> float:
        """Total energy E(0) = 1/2 sum m v0^2 + U(x0)."""
        return float(0.5 * np.sum(self.masses[:, None] * self.v0**2) + self.potential.energy(self.x0))

    def reference(self, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Reference positions and velocities, each ``(len(t), N, D)``, at times ``t`` (in tau).

        Parameters
        ----------
        t : array of shape (n_times,)
            Times (tau).

        Returns
        -------
        positions, velocities : arrays of shape (n_times, n_atoms, n_dim)
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        if np.any(t < -1e-12) or np.any(t > self.t_end * (1 + 1e-9) + 1e-12):
            raise InvalidParameterError(f"reference times must lie in [0, {self.t_end:g}]")
        if self.analytic:  # harmonic: omega^2 = k / m
            omega = float(np.sqrt(self.potential.k / self.masses[0]))
            x, v = harmonic_solution(t, float(self.x0[0, 0]), float(self.v0[0, 0]), omega)
            return x.reshape(-1, 1, 1), v.reshape(-1, 1, 1)
        return _hermite(self._verlet(), t)

    def verlet(self, dt: float, t_end: float | None = None) -> Any:
        """A core velocity-Verlet :class:`~npsnn_edu.trajectory.Trajectory` of this problem at step ``dt``.

        Parameters
        ----------
        dt : float
            Time step (tau).
        t_end : float or None, default None
            Length of the run (None: the problem's).

        Returns
        -------
        Trajectory
        """
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
            pot = _stored_potential(self.potential)
            if pot is not None:  # a core potential with plain parameters: the problem round-trips by itself
                out["potential"] = pot
            out["ref_dt"] = self.ref_dt
            out["analytic"] = bool(self.analytic)
            out["info"] = {k: float(v) for k, v in self.info.items() if isinstance(v, (int, float))}
        return out

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "NewtonProblem":
        """Rebuild a problem from :meth:`config` (registered builders, or a core potential with its arrays).

        Parameters
        ----------
        cfg : dict
            Output of :meth:`config`.

        Returns
        -------
        NewtonProblem

        Raises
        ------
        InvalidParameterError
            A hand-built problem whose potential could not be stored (pass the problem again).
        """
        if cfg.get("params"):
            return get_problem(cfg["name"], **cfg["params"])
        pot = cfg.get("potential")
        if pot is None or "arrays" not in cfg:
            raise InvalidParameterError(f"problem {cfg.get('name')!r} was built by hand from a potential that could "
                                        "not be stored: pass the problem again when loading")
        arr = cfg["arrays"]
        return cls(cfg["name"], get_potential(pot["name"], **pot["params"]), np.array(arr["x0"]),
                   np.array(arr["v0"]), np.array(arr["masses"]), cfg["t_end"], ref_dt=cfg.get("ref_dt", 1e-3),
                   analytic=bool(cfg.get("analytic", False)), info=dict(cfg.get("info", {})))


def _stored_potential(potential: Potential) -> "dict[str, Any] | None":
    """``{"name", "params"}`` of a registered core potential with plain (JSON) parameters that rebuilds an object
    of the same class; None otherwise (a user's own Potential subclass: pass the problem again when loading)."""
    params = potential.params()
    if any(v is not None and not isinstance(v, (int, float, str, bool)) for v in params.values()):
        return None
    try:
        same = POTENTIALS.get(potential.name) is type(potential)
    except KeyError:
        return None
    return {"name": potential.name, "params": dict(params)} if same else None


def _state_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be numbers shaped (N, D) (sigma or sigma / tau), "
                                    f"got {type(value).__name__}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.ndim != 2 or arr.size == 0:
        raise ShapeMismatchError(f"{name} must be shaped (N, D): N particles in D dimensions (one particle in 1D: "
                                 f"[[x]] or a plain number), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def _masses(value: Any, n: int) -> np.ndarray:
    m = _mass_values("masses", value)
    if m.ndim == 0:
        m = np.full(n, float(m))
    if m.shape != (n,):
        raise ShapeMismatchError(f"masses must be one number or one per particle (shape ({n},)), got shape {m.shape}")
    return m


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

    Parameters
    ----------
    periods : float, default 2.0
        Length of the window in periods.
    t_end : float or None, default None
        Length in tau (overrides ``periods``).
    x0 : float, default 1.0
        Initial position (sigma).
    v0 : float, default 0.0
        Initial velocity (sigma/tau).
    omega : float or None, default None
        Angular frequency (1/tau).
    k : float or None, default None
        Spring constant (epsilon/sigma^2), instead of ``omega``.
    mass : float, default 1.0
        Mass.

    Returns
    -------
    NewtonProblem
        One particle in 1D, x0 of shape (1, 1).

    Raises
    ------
    InvalidParameterError
        Both ``omega`` and ``k``, or a non-positive time span.
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

    Parameters
    ----------
    periods : float, default 2.0
        Length in exact anharmonic periods.
    t_end : float or None, default None
        Length in tau (overrides ``periods``).
    stretch : float, default 0.3
        Initial r - r_e (sigma).
    velocity : float, default 0.0
        Initial relative velocity (sigma/tau).
    mass : float, default 1.0
        Mass of each atom.
    D_e : float, default 1.0
        Well depth (epsilon).
    a : float, default 1.0
        Inverse width (1/sigma).
    r_e : float, default 1.0
        Equilibrium distance (sigma).

    Returns
    -------
    NewtonProblem
        Two atoms in 1D, x0 of shape (2, 1).

    Raises
    ------
    InvalidParameterError
        An unbound start (total energy >= 0).
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

    Parameters
    ----------
    t_end : float, default 2.0
        Length of the window (tau).
    push : float, default 0.05
        Outward displacement of atom 0 (sigma).
    mass : float, default 1.0
        Mass of each atom.
    velocity_scale : float, default 0.0
        Standard deviation of random initial velocities (sigma/tau).
    seed : int, default 0
        Seed of those velocities.

    Returns
    -------
    NewtonProblem
        Three atoms in 2D, x0 of shape (3, 2).
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


def double_well_problem(t_end: float = 8.0, x0: float = 1.0, v0: float = 0.5, barrier: float = 1.0,
                        x_min: float = 1.0, mass: float = 1.0) -> NewtonProblem:
    """One particle in the core double well E = barrier ((x / x_min)^2 - 1)^2 over ``t_end`` (tau).

    The default start (x0 = 1, v0 = 0.5) is the core's: the bottom of the right well (F(x0) = 0), moving; its
    energy (0.125) is below the barrier (1), so it stays in that well.  A start with E > barrier crosses it.
    Reference: velocity Verlet at a small dt.

    Parameters
    ----------
    t_end : float, default 8.0
        Length of the window (tau).
    x0 : float, default 1.0
        Initial position (sigma).
    v0 : float, default 0.5
        Initial velocity (sigma/tau).
    barrier : float, default 1.0
        Barrier height (epsilon).
    x_min : float, default 1.0
        Position of the minima (sigma).
    mass : float, default 1.0
        Mass.

    Returns
    -------
    NewtonProblem
        One particle in 1D.
    """
    pot = DoubleWell(barrier=positive("barrier", barrier), x_min=positive("x_min", x_min))
    params = {"t_end": _check_span(t_end), "x0": float(finite("x0", x0)), "v0": float(finite("v0", v0)),
              "barrier": float(barrier), "x_min": float(x_min), "mass": float(positive("mass", mass))}
    return NewtonProblem("double-well", pot, np.array([[float(x0)]]), np.array([[float(v0)]]), np.array([mass]),
                         params["t_end"], params=params)


PROBLEMS: Registry[Callable[..., NewtonProblem]] = Registry("problem")
PROBLEMS.register("harmonic", harmonic_problem, aliases=("harmonic-oscillator", "harmonic_oscillator"))
PROBLEMS.register("morse", morse_problem, aliases=("morse-diatomic", "morse_diatomic"))
PROBLEMS.register("lj3", lj3_problem, aliases=("lj-trimer", "lj_trimer", "lj-3", "lj3_2d", "lj-trimer-2d"))
PROBLEMS.register("double-well", double_well_problem, aliases=("double_well", "doublewell"))


def available_problems() -> list[str]:
    """Names accepted by :func:`get_problem`."""
    return sorted(PROBLEMS.names())


def get_problem(name: "str | NewtonProblem | Potential", **params: Any) -> NewtonProblem:
    """Build a problem by name: ``harmonic``, ``morse`` (alias ``morse-diatomic``), ``lj3`` (the 2-D LJ trimer,
    alias ``lj-trimer``, ``lj3_2d``), ``double-well``; or from any core potential instance:
    ``get_problem(DoubleWell(), x0=1.5, v0=0.0, t_end=8.0)`` (see :meth:`NewtonProblem.from_potential`).

    Keyword arguments go to the builder, e.g. ``get_problem("harmonic", omega=2, x0=0.5, v0=1, periods=3)``,
    ``get_problem("morse", stretch=0.2, velocity=0.1)``, ``get_problem("lj3", t_end=1.5)``.  A non-positive time
    span raises :class:`~npsnn_edu.errors.InvalidParameterError`; an unknown name raises
    :class:`~npsnn_edu.errors.UnknownNameError`.  A :class:`NewtonProblem` passes through unchanged (no
    keyword arguments allowed then).

    Parameters
    ----------
    name : str, NewtonProblem or Potential
        Registered name, a problem (returned unchanged) or a core potential.
    **params
        Builder arguments (e.g. ``omega``, ``x0``, ``v0``, ``periods``, ``t_end``).

    Returns
    -------
    NewtonProblem

    Raises
    ------
    UnknownNameError
        Unknown name.
    InvalidParameterError
        A non-positive time span, or keyword arguments with a NewtonProblem.
    """
    if isinstance(name, NewtonProblem):
        if params:
            raise InvalidParameterError("parameters can only be given with a problem name, not with a NewtonProblem")
        return name
    if isinstance(name, Potential):
        return build(NewtonProblem.from_potential, name, **params)
    if not isinstance(name, str):
        raise InvalidParameterError(f"give a problem name ({', '.join(available_problems())}), a NewtonProblem or a "
                                    f"core Potential, got {type(name).__name__}")
    return build(PROBLEMS.get(name), **params)


def _check_span(t_end: Any) -> float:
    try:
        t_end = float(t_end)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"t_end must be a positive number (tau), got {t_end!r}") from exc
    if not np.isfinite(t_end) or t_end <= 0:
        raise InvalidParameterError(f"the time span must be positive (t_end > 0 in tau), got {t_end!r}")
    return t_end
