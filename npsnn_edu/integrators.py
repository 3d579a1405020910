"""Time integrators for Newton's equations m x'' = F(x), and :func:`simulate`, which runs them.

Integrators (all take the time step ``dt`` in the units of the system: tau in reduced LJ units, ASE time
units when driven through ``simulate_atoms`` of the ASE adapter module):

==================== ===== =========== =======================================================
name                 order symplectic  stability limit on the harmonic oscillator (h = omega dt)
==================== ===== =========== =======================================================
``euler``            1     no          never stable (|lambda| = sqrt(1 + h^2) > 1)
``symplectic_euler`` 1     yes         h < 2
``velocity_verlet``  2     yes         h < 2
``rk4``              4     no          h < 2 sqrt(2)
``langevin``         2     (NVT)       BAOAB splitting of Leimkuhler & Matthews; h < 2 without friction
==================== ===== =========== =======================================================

Each integrator advances a :class:`State` (positions, velocities, forces, potential energy) by one step.
:func:`simulate` is made of four small pieces, each usable on its own: :func:`initial_state` (validated
start: positions, velocities, masses, first force call), a :class:`Recorder` (which steps become frames, and the
preallocated frame arrays), a :class:`DivergenceGuard` (stops with
:class:`~npsnn_edu.errors.SimulationDivergedError`, naming the step, when the energy becomes non-finite or
explodes) and a short loop (:func:`run_loop`).

Every integrator class declares what it is and what it accepts (class attributes, no instance needed):
``name``, ``order``, ``symplectic``, ``thermostat`` (True: samples a heat bath, the energy is not conserved) and
``options`` (the keyword options of its constructor besides ``dt``).  :func:`integrator_class` resolves a
name or alias through the :data:`INTEGRATORS` registry, so callers ask ``integrator_class(name).thermostat``
instead of comparing names.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from .config import rng as make_rng
from .errors import InvalidParameterError, InvalidStateError, ShapeMismatchError, SimulationDivergedError
from .progress import progress_bar
from .registry import Registry
from .trajectory import TRAJECTORY_LABELS, Trajectory
from .validation import (
    AtLeast,
    Constraints,
    Finite,
    InstanceOf,
    Integer,
    Positive,
    Rule,
    at_least,
    finite_array,
    validate_params,
)

ForceFn = Callable[[np.ndarray], "tuple[float, np.ndarray]"]


@dataclass
class State:
    """Phase-space point: positions and velocities ``(N, D)``, forces at the positions, potential energy.

    Parameters
    ----------
    positions : array of shape (n_atoms, n_dim)
        Positions (reduced LJ units: sigma).
    velocities : array of shape (n_atoms, n_dim)
        Velocities (sigma/tau).
    forces : array of shape (n_atoms, n_dim)
        Forces at ``positions`` (epsilon/sigma).
    potential_energy : float
        Potential energy at ``positions`` (epsilon).
    """

    positions: np.ndarray
    velocities: np.ndarray
    forces: np.ndarray
    potential_energy: float


class Integrator(abc.ABC):
    """One-step map of Newton's equations. ``inv_mass`` is 1/m shaped ``(N, 1)``.

    Class attributes (read them on the class, through :func:`integrator_class`; nothing needs building):
    ``name``, ``order`` (global order of accuracy), ``symplectic``, ``thermostat`` (couples to a heat bath:
    the total energy is not conserved, its guard allows k_B T per degree of freedom), ``options`` (keyword
    options accepted besides ``dt``) and ``divergence_hint`` (what to change when a run with it blows up).

    Parameters
    ----------
    dt : float
        Time step (> 0), reduced units (tau) in chapters 1, 2, 4.

    Raises
    ------
    InvalidParameterError
        ``dt`` not positive and finite.
    """

    name: ClassVar[str] = "integrator"
    order: ClassVar[int] = 0
    symplectic: ClassVar[bool] = False
    thermostat: ClassVar[bool] = False
    options: ClassVar[tuple[str, ...]] = ()
    #: False when no time step at all is stable on a harmonic oscillation (explicit Euler).
    stable_on_oscillators: ClassVar[bool] = True
    divergence_hint: ClassVar[str] = ("Reduce dt (see chapter 2 for the stability limit) or check the starting "
                                      "configuration")
    #: Every ``__init__`` parameter's constraint (a subclass with more parameters extends it).
    _parameter_constraints: ClassVar[Constraints] = {
        "dt": Positive(hint="e.g. dt=0.005 in reduced LJ units",
                       message="time step {name} must be a positive finite number, got {value!r} ({hint})"),
    }

    def __init__(self, dt: float):
        self.dt = validate_params(Integrator._parameter_constraints, {"dt": dt})["dt"]

    @abc.abstractmethod
    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        """Advance ``state`` by one time step ``dt``.

        Parameters
        ----------
        state : State
            Current positions, velocities, forces and potential energy, arrays of shape (n_atoms, n_dim).
        force_fn : callable
            ``force_fn(positions) -> (potential_energy, forces)``, positions of shape (n_atoms, n_dim).
        inv_mass : array of shape (n_atoms, 1)
            Inverse masses 1/m.

        Returns
        -------
        State
            The state one step ``dt`` later.
        """

    def energy_scale(self, n_dof: int, kB: float) -> float:
        """Energy the integrator may legitimately inject (thermostat); 0 for NVE integrators.

        Parameters
        ----------
        n_dof : int
            Number of degrees of freedom (n_atoms * n_dim).
        kB : float
            Boltzmann constant in the energy unit per temperature unit (1 in reduced units).

        Returns
        -------
        float
            Energy allowance added to the divergence guard's scale.
        """
        return 0.0

    @classmethod
    def deterministic(cls, dt: float, *, friction: float = 0.0) -> "Integrator":
        """This integrator with any noise switched off, so that one step is a linear map of (x, v) for a linear
        force (chapter 2's amplification matrices). ``friction`` only exists for thermostats.

        Parameters
        ----------
        dt : float
            Time step (reduced: tau).
        friction : float, default 0.0
            Friction gamma (1/time) of a thermostat integrator; must be 0 for the others.

        Returns
        -------
        Integrator

        Raises
        ------
        InvalidParameterError
            ``friction`` given to an integrator without a thermostat.
        """
        if friction != 0.0:
            raise InvalidParameterError(f"friction applies to thermostat integrators only; {cls.name!r} has none "
                                        "(use friction=0)")
        return cls(dt)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dt={self.dt!r})"


class ExplicitEuler(Integrator):
    r"""x' = x + dt v, v' = v + dt F(x)/m. First order; unstable on every oscillator (energy grows).

    .. math::

        x_{n+1} = x_n + h\, v_n, \qquad v_{n+1} = v_n + h \frac{F(x_n)}{m}

    Parameters
    ----------
    dt : float
        Time step h (> 0), reduced units (tau).
    """

    name, order, symplectic = "euler", 1, False
    stable_on_oscillators = False
    divergence_hint = ("Explicit Euler gains energy at every step on any oscillation, whatever dt: use velocity "
                       "Verlet (a smaller dt only delays the blow-up)")

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        x = state.positions + self.dt * state.velocities
        v = state.velocities + self.dt * state.forces * inv_mass
        pe, f = force_fn(x)
        return State(x, v, f, pe)


class SymplecticEuler(Integrator):
    r"""Kick then drift: v' = v + dt F(x)/m, x' = x + dt v'. First order, symplectic (Euler-Cromer).

    .. math::

        v_{n+1} = v_n + h \frac{F(x_n)}{m}, \qquad x_{n+1} = x_n + h\, v_{n+1}

    Parameters
    ----------
    dt : float
        Time step h (> 0), reduced units (tau).
    """

    name, order, symplectic = "symplectic_euler", 1, True

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        v = state.velocities + self.dt * state.forces * inv_mass
        x = state.positions + self.dt * v
        pe, f = force_fn(x)
        return State(x, v, f, pe)


class VelocityVerlet(Integrator):
    r"""Half kick, drift, half kick. Second order, symplectic, time reversible; one force call per step.

    .. math::

        v_{n+1/2} = v_n + \frac{h}{2} \frac{F(x_n)}{m}, \qquad
        x_{n+1} = x_n + h\, v_{n+1/2}, \qquad
        v_{n+1} = v_{n+1/2} + \frac{h}{2} \frac{F(x_{n+1})}{m}

    with h = ``dt``. On the harmonic oscillator it is stable for :math:`\omega h < 2`.

    Parameters
    ----------
    dt : float
        Time step h (> 0), reduced units (tau) in chapters 1, 2, 4.
    """

    name, order, symplectic = "velocity_verlet", 2, True

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        half = 0.5 * self.dt
        v_half = state.velocities + half * state.forces * inv_mass
        x = state.positions + self.dt * v_half
        pe, f = force_fn(x)
        v = v_half + half * f * inv_mass
        return State(x, v, f, pe)


class RK4(Integrator):
    """Classical fourth-order Runge-Kutta on (x, v). Not symplectic: energy drifts (slowly) at small dt.

    Parameters
    ----------
    dt : float
        Time step (> 0), reduced units (tau).
    """

    name, order, symplectic = "rk4", 4, False

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        dt = self.dt
        x0, v0 = state.positions, state.velocities
        k1x, k1v = v0, state.forces * inv_mass
        k2x = v0 + 0.5 * dt * k1v
        k2v = force_fn(x0 + 0.5 * dt * k1x)[1] * inv_mass
        k3x = v0 + 0.5 * dt * k2v
        k3v = force_fn(x0 + 0.5 * dt * k2x)[1] * inv_mass
        k4x = v0 + dt * k3v
        k4v = force_fn(x0 + dt * k3x)[1] * inv_mass
        x = x0 + dt / 6.0 * (k1x + 2 * k2x + 2 * k3x + k4x)
        v = v0 + dt / 6.0 * (k1v + 2 * k2v + 2 * k3v + k4v)
        pe, f = force_fn(x)
        return State(x, v, f, pe)


class LangevinBAOAB(Integrator):
    r"""Langevin dynamics (NVT) with the BAOAB splitting (Leimkuhler & Matthews 2013).

    B: half kick; A: half drift; O: exact Ornstein-Uhlenbeck velocity update
    v <- c1 v + sqrt((1 - c1^2) kB T / m) xi with c1 = exp(-friction dt); A; B:

    .. math::

        \mathrm{B}:\ v \leftarrow v + \tfrac{h}{2} F(x)/m, \quad
        \mathrm{A}:\ x \leftarrow x + \tfrac{h}{2} v, \quad
        \mathrm{O}:\ v \leftarrow c_1 v + \sqrt{(1 - c_1^2)\, k_B T / m}\ \xi, \quad c_1 = e^{-\gamma h},

    applied in the order B A O A B, with :math:`\xi \sim \mathcal{N}(0, 1)` drawn from the integrator's seeded
    generator (h = ``dt``, gamma = ``friction``).

    Parameters
    ----------
    dt : float
        Time step h (reduced: tau).
    temperature : float
        Bath temperature T >= 0, in the units of kB*T (reduced, or K with ``kB`` in eV/K).
    friction : float, default 1.0
        Friction gamma >= 0 in 1/time.
    seed : int, numpy.random.Generator or None, default 0
        Seed or generator of the noise.
    kB : float, default 1.0
        Boltzmann constant (1 in reduced units; 8.617e-5 eV/K with ASE units).

    Raises
    ------
    InvalidParameterError
        A negative temperature or friction, a non-positive dt or kB.
    """

    name, order, symplectic = "langevin", 2, False
    thermostat = True
    options = ("temperature", "friction", "seed", "kB")
    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        **Integrator._parameter_constraints,
        "temperature": AtLeast(0.0, hint="same units as kB*T: reduced, or K with kB in eV/K"),
        "friction": AtLeast(0.0, hint="gamma in 1/time"),
        "seed": (None, Integer(), InstanceOf(np.random.Generator)),
        "kB": Positive(),
    }

    def __init__(self, dt: float, temperature: float, friction: float = 1.0,
                 seed: "int | np.random.Generator | None" = 0, kB: float = 1.0):
        super().__init__(dt)
        checked = validate_params(self._parameter_constraints, {"temperature": temperature, "friction": friction,
                                                                "seed": seed, "kB": kB})
        self.temperature, self.friction, self.kB = checked["temperature"], checked["friction"], checked["kB"]
        friction = self.friction
        self.rng = make_rng(checked["seed"])
        self.c1 = float(np.exp(-friction * self.dt))
        self.c2 = float(np.sqrt(max(0.0, 1.0 - self.c1**2)))
        self._noise_for: "np.ndarray | None" = None
        self._noise_scale: "np.ndarray | float" = 0.0

    def energy_scale(self, n_dof: int, kB: float) -> float:
        return n_dof * kB * self.temperature

    @classmethod
    def deterministic(cls, dt: float, *, friction: float = 0.0) -> "LangevinBAOAB":
        """BAOAB at temperature 0: friction only, no noise (a linear map; its stability limit is still h < 2).

        Parameters
        ----------
        dt : float
            Time step (reduced: tau).
        friction : float, default 0.0
            Friction gamma in 1/time.

        Returns
        -------
        LangevinBAOAB
        """
        return cls(dt, temperature=0.0, friction=friction, seed=0)

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        half = 0.5 * self.dt
        v = state.velocities + half * state.forces * inv_mass
        x = state.positions + half * v
        if self._noise_for is not inv_mass:  # noise amplitude c2 sqrt(kB T / m), cached per mass array
            self._noise_scale = self.c2 * np.sqrt(self.kB * self.temperature * inv_mass)
            self._noise_for = inv_mass
        v = self.c1 * v + self._noise_scale * self.rng.standard_normal(v.shape)
        x = x + half * v
        pe, f = force_fn(x)
        v = v + half * f * inv_mass
        return State(x, v, f, pe)

    def __repr__(self) -> str:
        return f"LangevinBAOAB(dt={self.dt!r}, temperature={self.temperature!r}, friction={self.friction!r})"


#: Name table of the integrators (canonical name -> class), with their aliases.
INTEGRATORS: Registry[type[Integrator]] = Registry("integrator")
for _cls, _aliases in ((ExplicitEuler, ("explicit_euler",)),
                       (SymplecticEuler, ("euler_cromer", "semi_implicit_euler")),
                       (VelocityVerlet, ("verlet", "vv")),
                       (RK4, ("runge_kutta",)),
                       (LangevinBAOAB, ("baoab",))):
    INTEGRATORS.register(_cls.name, _cls, aliases=_aliases)
#: The deterministic (NVE) integrators, in teaching order.
NVE_INTEGRATORS = tuple(name for name in INTEGRATORS if not INTEGRATORS.get(name).thermostat)


def available_integrators() -> list[str]:
    """Names accepted by :func:`get_integrator`."""
    return INTEGRATORS.names()


def integrator_class(integrator: "str | Integrator | type[Integrator]") -> type[Integrator]:
    """The class of an integrator given by name, alias (``"verlet"``, ``"baoab"``), instance or class.

    Read what it is from its class attributes (``name``, ``order``, ``symplectic``, ``thermostat``, ``options``)
    without building one. Unknown names raise :class:`~npsnn_edu.errors.UnknownNameError` listing the choices.

    Parameters
    ----------
    integrator : str, Integrator or type of Integrator
        Name, alias, instance or class.

    Returns
    -------
    type of Integrator

    Raises
    ------
    UnknownNameError
        Unknown name.
    """
    if isinstance(integrator, Integrator):
        return type(integrator)
    if isinstance(integrator, type) and issubclass(integrator, Integrator):
        return integrator
    return INTEGRATORS.get(integrator)


def get_integrator(name: "str | Integrator", dt: float | None = None, **options: Any) -> Integrator:
    """An integrator by name (``"velocity_verlet"``, ``"rk4"``...) with time step ``dt``.

    ``options`` must be among the class's declared ``options`` (e.g. ``temperature``, ``friction``, ``seed``,
    ``kB`` for ``"langevin"``). An :class:`Integrator` instance is returned unchanged (``dt`` must then be None
    or equal; its random generator continues where it stopped, so a run can be continued in chunks).

    Parameters
    ----------
    name : str or Integrator
        A name or alias from :func:`available_integrators` (``"velocity_verlet"``/``"verlet"``,
        ``"langevin"``/``"baoab"``, ...), or an integrator returned unchanged.
    dt : float or None, default None
        Time step (reduced: tau; fs with ASE units). Required for a name.
    **options
        The class's declared ``options`` (``temperature``, ``friction``, ``seed``, ``kB`` for ``"langevin"``).

    Returns
    -------
    Integrator

    Raises
    ------
    UnknownNameError
        Unknown name.
    InvalidParameterError
        Missing ``dt``, a ``dt`` that contradicts an instance's, or an option the integrator does not take.
    """
    if isinstance(name, Integrator):
        if dt is not None and float(dt) != name.dt:
            raise InvalidParameterError(f"dt={dt} conflicts with the integrator's own dt={name.dt}; give one")
        return name
    cls = integrator_class(name)
    if dt is None:
        raise InvalidParameterError("give the time step dt (e.g. dt=0.005 in reduced LJ units)")
    unknown = sorted(set(options) - set(cls.options))
    if unknown:
        accepted = ", ".join(cls.options) if cls.options else "no options besides dt"
        raise InvalidParameterError(f"{cls.name} does not take {', '.join(unknown)}; it accepts: {accepted} "
                                    f"(see help(npsnn_edu.integrators.{cls.__name__}))")
    try:
        return cls(dt, **options)
    except TypeError as exc:  # a required option is missing (e.g. langevin without temperature)
        raise InvalidParameterError(f"{exc}; {cls.name} accepts: {', '.join(cls.options)} "
                                    f"(see help(npsnn_edu.integrators.{cls.__name__}))") from exc


# ------------------------------------------------------------------------------------------------
# simulate, in four pieces: initial state, recorder, divergence guard, loop
# ------------------------------------------------------------------------------------------------
def _as_state_arrays(positions: Any, velocities: Any, masses: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = finite_array("positions", positions, hint="pass finite starting coordinates")
    if x.ndim != 2:
        raise ShapeMismatchError(
            f"positions must be shaped (N, D) (N particles, D dimensions); got shape {x.shape}. "
            "For one particle in 1D use [[x0]]"
        )
    if velocities is None:
        v = np.zeros_like(x)
    else:
        v = np.array(velocities, dtype=float)
        if v.shape != x.shape:
            raise ShapeMismatchError(f"velocities shape {v.shape} must equal positions shape {x.shape}")
        v = finite_array("velocities", v, hint="pass finite starting velocities")
    m = np.array(masses, dtype=float)
    if m.ndim == 0:
        m = np.full(x.shape[0], float(m))
    if m.shape != (x.shape[0],):
        raise ShapeMismatchError(f"masses must be a scalar or shaped (N,) = ({x.shape[0]},); got {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise InvalidParameterError("masses must be positive and finite")
    return x, v, m


def _evaluator(potential: Any) -> Callable[[np.ndarray], Any]:
    """The potential's unvalidated fast path (``energy_and_forces_unchecked``), else its ``energy_and_forces``."""
    return getattr(potential, "energy_and_forces_unchecked", None) or potential.energy_and_forces


def initial_state(potential: Any, positions: Any, velocities: Any = None,
                  masses: Any = 1.0) -> tuple[State, np.ndarray]:
    """The validated starting :class:`State` and the masses ``(N,)``.

    Positions ``(N, D)``, velocities (default zero) and masses (scalar or ``(N,)``) are checked once here, and
    the first force call goes through the potential's validated ``energy_and_forces`` (clear errors for bad
    shapes, coincident particles, non-finite energies); the loop then uses the fast path.

    Parameters
    ----------
    potential : Potential
        Anything with ``energy_and_forces(positions) -> (E, F)``.
    positions : array of shape (n_atoms, n_dim)
        Starting positions (reduced: sigma).
    velocities : array of shape (n_atoms, n_dim) or None, default None
        Starting velocities (sigma/tau); None: zero.
    masses : float or array of shape (n_atoms,), default 1.0
        Particle masses (> 0).

    Returns
    -------
    state : State
    masses : array of shape (n_atoms,)

    Raises
    ------
    ShapeMismatchError
        Velocities or masses that do not match the positions.
    InvalidStateError
        Non-finite positions or a non-finite starting energy.
    """
    x, v, m = _as_state_arrays(positions, velocities, masses)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # non-finite results: typed error below
        pe0, f0 = potential.energy_and_forces(x)
    pe0 = float(pe0)
    f0 = np.asarray(f0, dtype=float)
    if not np.isfinite(pe0) or not np.all(np.isfinite(f0)):
        raise InvalidStateError(
            "the initial potential energy or forces are not finite (two particles on top of each other?); "
            "move the particles apart"
        )
    return State(x, v, f0, pe0), m


class Recorder:
    """Which steps become frames (every ``record_every``-th, and always the first and the last) and the
    preallocated frame arrays; :meth:`trajectory` turns what was recorded so far into a Trajectory.

    Parameters
    ----------
    state : State
        The starting state (frame 0).
    masses : array of shape (n_atoms,)
        Particle masses.
    n_steps : int
        Number of steps of the run.
    record_every : int, default 1
        Keep every k-th step as a frame (the last step is always kept).
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        "state": InstanceOf(State, hint="the starting state, e.g. from initial_state(...)"),
        "masses": Rule(lambda name, value: finite_array(name, value, ndim=1), invalid="heavy"),
        "n_steps": AtLeast(0, integer=True),
        "record_every": Positive(integer=True, hint="keep every k-th frame, k >= 1"),
    }

    def __init__(self, state: State, masses: np.ndarray, n_steps: int, record_every: int = 1):
        checked = validate_params(self._parameter_constraints, {"state": state, "masses": masses, "n_steps": n_steps,
                                                                "record_every": record_every})
        self.n_steps, self.record_every = checked["n_steps"], checked["record_every"]
        masses = checked["masses"]
        steps = list(range(0, self.n_steps + 1, self.record_every))
        if steps[-1] != self.n_steps:
            steps.append(self.n_steps)
        self.frame_steps = np.asarray(steps)
        n_frames, shape = len(steps), state.positions.shape
        self.masses = masses
        self.positions = np.empty((n_frames, *shape))
        self.velocities = np.empty((n_frames, *shape))
        self.potential_energy = np.empty(n_frames)
        self.kinetic_energy = np.empty(n_frames)
        self._sqrt_half_m = np.sqrt(0.5 * masses)[:, None]
        self.n_recorded = 0
        self._next_step = 0
        self.record(0, state, self.kinetic(state.velocities))

    @property
    def n_frames(self) -> int:
        """Number of frames the run records (first and last included)."""
        return len(self.frame_steps)

    def kinetic(self, velocities: np.ndarray) -> float:
        """Kinetic energy sum m v^2 / 2.

        Parameters
        ----------
        velocities : array of shape (n_atoms, n_dim)
            Velocities (sigma/tau).

        Returns
        -------
        float
            Kinetic energy (epsilon).
        """
        w = self._sqrt_half_m * velocities
        return float(np.vdot(w, w))

    def record(self, step: int, state: State, kinetic: float) -> None:
        """Store ``state`` if ``step`` is a frame step (steps must come in increasing order).

        Parameters
        ----------
        step : int
            Step index (0 = the start).
        state : State
            State after that step.
        kinetic : float
            Its kinetic energy.
        """
        if step != self._next_step:
            return
        k = self.n_recorded
        self.positions[k], self.velocities[k] = state.positions, state.velocities
        self.potential_energy[k], self.kinetic_energy[k] = state.potential_energy, kinetic
        self.n_recorded = k + 1
        self._next_step = int(self.frame_steps[k + 1]) if k + 1 < self.n_frames else -1

    def trajectory(self, dt: float, integrator: str, kB: float = 1.0,
                   labels: "Mapping[str, Any] | None" = None) -> Trajectory:
        """The frames recorded so far (copies) as a Trajectory; ``labels``: units, lj_units, symbols, box, info.

        Parameters
        ----------
        dt : float
            Time step of the run.
        integrator : str
            Name of the integrator (stored on the trajectory).
        kB : float, default 1.0
            Boltzmann constant of the run's units.
        labels : mapping or None, default None
            Extra labels: ``units``, ``lj_units``, ``symbols``, ``box``, ``info``.

        Returns
        -------
        Trajectory
        """
        n = self.n_recorded
        return Trajectory(times=self.frame_steps[:n] * float(dt), positions=self.positions[:n].copy(),
                          velocities=self.velocities[:n].copy(), potential_energy=self.potential_energy[:n].copy(),
                          kinetic_energy=self.kinetic_energy[:n].copy(), masses=self.masses, dt=dt,
                          integrator=integrator, kB=kB, **dict(labels or {}))


class DivergenceGuard:
    """Stops a run whose total energy becomes non-finite or moves further than ``blowup_factor`` times the
    initial energy scale from its start (scale: max of |E0|, kinetic, |potential|, plus the thermostat's
    allowance ``integrator.energy_scale``). ``blowup_factor=None`` only catches non-finite energies.

    Parameters
    ----------
    e0 : float
        Total energy at the start.
    scale : float
        Initial energy scale.
    blowup_factor : float or None, default 100.0
        Allowed drift in units of ``scale``; None: only non-finite energies stop the run.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        "e0": Finite(hint="the total energy at the start"),
        "scale": Positive(hint="the initial energy scale"),
        "blowup_factor": (None, Positive(hint="or None to disable the check")),
    }

    def __init__(self, e0: float, scale: float, blowup_factor: "float | None" = 100.0):
        checked = validate_params(self._parameter_constraints, {"e0": e0, "scale": scale,
                                                                "blowup_factor": blowup_factor})
        self.blowup_factor: "float | None" = checked["blowup_factor"]
        self.e0, self.scale = checked["e0"], checked["scale"]
        self.limit = math.inf if self.blowup_factor is None else self.blowup_factor * self.scale

    @classmethod
    def for_state(cls, state: State, kinetic: float, integrator: Integrator, kB: float,
                  blowup_factor: "float | None" = 100.0) -> "DivergenceGuard":
        """The guard for a run starting at ``state``.

        Parameters
        ----------
        state : State
            Starting state.
        kinetic : float
            Its kinetic energy.
        integrator : Integrator
            The run's integrator (its ``energy_scale`` adds a thermostat's allowance).
        kB : float
            Boltzmann constant of the run's units.
        blowup_factor : float or None, default 100.0
            Allowed drift in units of the scale; None: only non-finite energies.

        Returns
        -------
        DivergenceGuard
        """
        e0 = kinetic + state.potential_energy
        scale = max(abs(e0), kinetic, abs(state.potential_energy), 1e-300)
        return cls(e0, scale + integrator.energy_scale(state.positions.size, kB), blowup_factor)

    def diverged(self, total_energy: float) -> bool:
        """True when ``total_energy`` is non-finite or beyond the allowed drift.

        Parameters
        ----------
        total_energy : float
            Current total energy.

        Returns
        -------
        bool
        """
        return not math.isfinite(total_energy) or abs(total_energy - self.e0) > self.limit

    def reason(self, total_energy: float) -> str:
        """Why ``total_energy`` counts as diverged, in words.

        Parameters
        ----------
        total_energy : float
            Current total energy.

        Returns
        -------
        str
        """
        if not math.isfinite(total_energy):
            return "non-finite energy"
        return (f"energy change {abs(total_energy - self.e0):.3g} exceeds {self.blowup_factor:g} x initial scale "
                f"{self.scale:.3g}")

    def error(self, step: int, total_energy: float, integrator: Integrator,
              trajectory: "Trajectory | None") -> SimulationDivergedError:
        """The typed error naming the step and time, with the partial trajectory attached.

        Parameters
        ----------
        step : int
            Step at which the run diverged.
        total_energy : float
            Total energy there.
        integrator : Integrator
            The run's integrator (its ``divergence_hint`` goes into the message).
        trajectory : Trajectory or None
            Frames recorded up to the divergence.

        Returns
        -------
        SimulationDivergedError
        """
        reason = self.reason(total_energy)
        t = step * integrator.dt
        return SimulationDivergedError(
            f"simulation diverged at step {step} (t = {t:.6g}) with {integrator.name}, dt = {integrator.dt:g}: "
            f"{reason}. {integrator.divergence_hint}; the partial trajectory is attached as .trajectory",
            step=step, time=t, reason=reason, trajectory=trajectory)


def run_loop(integ: Integrator, state: State, force_fn: ForceFn, inv_mass: np.ndarray, recorder: Recorder,
             guard: DivergenceGuard, *, on_diverged: Callable[[], "Trajectory | None"] = lambda: None,
             bar: Any = None) -> State:
    """Step ``recorder.n_steps`` times: step, check the energy, record. Returns the final state.

    Parameters
    ----------
    integ : Integrator
        The integrator.
    state : State
        Starting state.
    force_fn : callable
        ``force_fn(positions) -> (potential_energy, forces)``.
    inv_mass : array of shape (n_atoms, 1)
        Inverse masses.
    recorder : Recorder
        Frame recorder (its ``n_steps`` is the run length).
    guard : DivergenceGuard
        Energy check after each step.
    on_diverged : callable, optional
        Returns the partial trajectory attached to the error.
    bar : progress bar or None, default None
        Advanced by one per step when given.

    Returns
    -------
    State

    Raises
    ------
    SimulationDivergedError
        The guard found a diverged energy.
    """
    for step in range(1, recorder.n_steps + 1):
        state = integ.step(state, force_fn, inv_mass)
        ke = recorder.kinetic(state.velocities)
        etot = ke + state.potential_energy
        if guard.diverged(etot):
            raise guard.error(step, etot, integ, on_diverged())
        recorder.record(step, state, ke)
        if bar is not None and step % 100 == 0:
            bar.update(100)
    return state


def trajectory_labels(potential: Any, metadata: "Mapping[str, Any] | None" = None) -> dict[str, Any]:
    """Labels of a run's Trajectory: the potential's periodic ``box``, then ``metadata`` (keys among
    TRAJECTORY_LABELS).

    Parameters
    ----------
    potential : Potential
        Its ``box`` (when periodic) becomes the trajectory's box.
    metadata : mapping or None, default None
        Labels among TRAJECTORY_LABELS (``units``, ``lj_units``, ``symbols``, ``box``, ``info``).

    Returns
    -------
    dict

    Raises
    ------
    InvalidParameterError
        Unknown metadata keys.
    """
    labels: dict[str, Any] = {"box": getattr(potential, "box", None)}
    if metadata:
        unknown = sorted(set(metadata) - set(TRAJECTORY_LABELS))
        if unknown:
            raise InvalidParameterError(f"unknown metadata {', '.join(unknown)}; a trajectory is labelled with: "
                                        f"{', '.join(TRAJECTORY_LABELS)}")
        labels.update(metadata)
    return labels


def simulate(
    potential: Any,
    positions: Any,
    velocities: Any = None,
    *,
    dt: float | None = None,
    n_steps: int,
    integrator: "str | Integrator" = "velocity_verlet",
    masses: Any = 1.0,
    record_every: int = 1,
    kB: float = 1.0,
    blowup_factor: float | None = 100.0,
    progress: bool | None = None,
    metadata: "Mapping[str, Any] | None" = None,
    **integrator_options: Any,
) -> Trajectory:
    """Integrate Newton's equations and return the recorded :class:`~npsnn_edu.trajectory.Trajectory`.

    Parameters
    ----------
    potential : Potential
        Anything with ``energy_and_forces(positions) -> (E, F)``; the loop uses its unvalidated
        ``energy_and_forces_unchecked`` when it has one.
    positions : array of shape (n_atoms, n_dim)
        Starting positions (reduced LJ units: sigma; A for an ASE-unit potential).
    velocities : array of shape (n_atoms, n_dim) or None, default None
        Starting velocities (sigma/tau); None: zero.
    dt : float
        Time step (reduced: tau).
    n_steps : int
        Number of steps (>= 0).
    integrator : str or Integrator, default "velocity_verlet"
        A name from :func:`available_integrators` or an :class:`Integrator` (passed again, it continues: its
        random generator goes on); extra keyword arguments (its declared ``options``, e.g. ``temperature``,
        ``friction``, ``seed`` for ``"langevin"``) go to its constructor.
    masses : float or array of shape (n_atoms,), default 1.0
        Particle masses (> 0).
    record_every : int, default 1
        Keep every k-th frame (the first and the last are kept).
    kB : float, default 1.0
        Boltzmann constant in the energy unit per temperature unit (1 in reduced units); given to a
        thermostat that declares a ``kB`` option.
    blowup_factor : float or None, default 100.0
        Stop with :class:`SimulationDivergedError` when |E(t) - E(0)| exceeds ``blowup_factor`` times the
        initial energy scale (max of |E0|, kinetic, |potential|, plus k_B T per degree of freedom for a
        thermostat). None disables the check (non-finite energies are always caught).
    progress : bool or None, default None
        Show a progress bar (None: only for long runs).
    metadata : mapping or None, default None
        Labels of the returned trajectory (``units``, ``lj_units``, ``symbols``, ``box``, ``info``); ``box``
        defaults to the potential's periodic box.
    **integrator_options
        Options of the integrator's constructor.

    Returns
    -------
    Trajectory
        Frames of shape (n_frames, n_atoms, n_dim) with times and energies.

    Raises
    ------
    SimulationDivergedError
        The energy became non-finite or drifted beyond ``blowup_factor`` (the partial trajectory is attached).
    InvalidParameterError, ShapeMismatchError, InvalidStateError
        Bad parameters, shapes or starting state.
    """
    labels_as_options = sorted(set(integrator_options) & set(TRAJECTORY_LABELS))
    if labels_as_options:
        raise InvalidParameterError(f"{', '.join(labels_as_options)} label the trajectory, they are not integrator "
                                    f"options: pass metadata={{{labels_as_options[0]!r}: ...}}")
    if not isinstance(integrator, Integrator) and "kB" in integrator_class(integrator).options:
        integrator_options.setdefault("kB", kB)
    integ = get_integrator(integrator, dt, **integrator_options)
    labels = trajectory_labels(potential, metadata)
    n_steps = at_least("n_steps", n_steps, 0, integer=True)
    state, m = initial_state(potential, positions, velocities, masses)
    recorder = Recorder(state, m, n_steps, record_every)
    guard = DivergenceGuard.for_state(state, recorder.kinetic_energy[0], integ, kB, blowup_factor)
    energy_forces = _evaluator(potential)

    def force_fn(pos: np.ndarray) -> tuple[float, np.ndarray]:
        e, f = energy_forces(pos)
        return float(e), f

    show = progress if progress is not None else (n_steps * max(1, state.positions.shape[0]) >= 2_000_000)
    with progress_bar(n_steps, f"{integ.name} MD", show=bool(show), unit="step") as bar:
        run_loop(integ, state, force_fn, (1.0 / m)[:, None], recorder, guard,
                 on_diverged=lambda: recorder.trajectory(integ.dt, integ.name, kB, labels), bar=bar)
    return recorder.trajectory(integ.dt, integ.name, kB, labels)
