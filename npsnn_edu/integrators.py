"""Time integrators for Newton's equations m x'' = F(x), and :func:`simulate`, which runs them.

Integrators (all take the time step ``dt`` in the units of the system: tau in reduced LJ units, ASE time
units when driven through :func:`npsnn_edu.ase_interop.simulate_atoms`):

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
:func:`simulate` loops, records a :class:`~npsnn_edu.trajectory.Trajectory`, and stops with
:class:`~npsnn_edu.errors.SimulationDivergedError` (naming the step) when the energy becomes non-finite or
explodes.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .config import rng as make_rng
from .errors import (InvalidParameterError, InvalidStateError, ShapeMismatchError, SimulationDivergedError,
                     unknown_name)
from .trajectory import Trajectory

ForceFn = Callable[[np.ndarray], "tuple[float, np.ndarray]"]


@dataclass
class State:
    """Phase-space point: positions and velocities ``(N, D)``, forces at the positions, potential energy."""

    positions: np.ndarray
    velocities: np.ndarray
    forces: np.ndarray
    potential_energy: float


class Integrator(abc.ABC):
    """One-step map of Newton's equations. ``inv_mass`` is 1/m shaped ``(N, 1)``."""

    name: str = "integrator"
    order: int = 0
    symplectic: bool = False

    def __init__(self, dt: float):
        dt = float(dt)
        if not np.isfinite(dt) or dt <= 0:
            raise InvalidParameterError(f"time step dt must be a positive finite number, got {dt!r}")
        self.dt = dt

    @abc.abstractmethod
    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        """Advance ``state`` by one time step ``dt``."""

    def energy_scale(self, n_dof: int, kB: float) -> float:
        """Energy the integrator may legitimately inject (thermostat); 0 for NVE integrators."""
        return 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dt={self.dt!r})"


class ExplicitEuler(Integrator):
    """x' = x + dt v, v' = v + dt F(x)/m. First order; unstable on every oscillator (energy grows)."""

    name, order, symplectic = "euler", 1, False

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        x = state.positions + self.dt * state.velocities
        v = state.velocities + self.dt * state.forces * inv_mass
        pe, f = force_fn(x)
        return State(x, v, f, pe)


class SymplecticEuler(Integrator):
    """Kick then drift: v' = v + dt F(x)/m, x' = x + dt v'. First order, symplectic (Euler-Cromer)."""

    name, order, symplectic = "symplectic_euler", 1, True

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        v = state.velocities + self.dt * state.forces * inv_mass
        x = state.positions + self.dt * v
        pe, f = force_fn(x)
        return State(x, v, f, pe)


class VelocityVerlet(Integrator):
    """Half kick, drift, half kick. Second order, symplectic, time reversible; one force call per step."""

    name, order, symplectic = "velocity_verlet", 2, True

    def step(self, state: State, force_fn: ForceFn, inv_mass: np.ndarray) -> State:
        half = 0.5 * self.dt
        v_half = state.velocities + half * state.forces * inv_mass
        x = state.positions + self.dt * v_half
        pe, f = force_fn(x)
        v = v_half + half * f * inv_mass
        return State(x, v, f, pe)


class RK4(Integrator):
    """Classical fourth-order Runge-Kutta on (x, v). Not symplectic: energy drifts (slowly) at small dt."""

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
    """Langevin dynamics (NVT) with the BAOAB splitting (Leimkuhler & Matthews 2013).

    B: half kick; A: half drift; O: exact Ornstein-Uhlenbeck velocity update
    v <- c1 v + sqrt((1 - c1^2) kB T / m) xi with c1 = exp(-friction dt); A; B.

    Parameters: ``temperature`` (same energy units as kB*T: reduced, or Kelvin with kB in eV/K),
    ``friction`` gamma in 1/time, ``seed`` for the noise.
    """

    name, order, symplectic = "langevin", 2, False

    def __init__(self, dt: float, temperature: float, friction: float = 1.0, seed: "int | np.random.Generator | None" = 0,
                 kB: float = 1.0):
        super().__init__(dt)
        temperature = float(temperature)
        if not np.isfinite(temperature) or temperature < 0:
            raise InvalidParameterError(f"temperature must be >= 0, got {temperature!r}")
        friction = float(friction)
        if not np.isfinite(friction) or friction < 0:
            raise InvalidParameterError(f"friction must be >= 0 (1/time), got {friction!r}")
        self.temperature, self.friction, self.kB = temperature, friction, float(kB)
        self.rng = make_rng(seed)
        self.c1 = float(np.exp(-friction * self.dt))
        self.c2 = float(np.sqrt(max(0.0, 1.0 - self.c1**2)))
        self._noise_for: "np.ndarray | None" = None
        self._noise_scale: "np.ndarray | float" = 0.0

    def energy_scale(self, n_dof: int, kB: float) -> float:
        return n_dof * kB * self.temperature

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


_INTEGRATORS: dict[str, type[Integrator]] = {
    cls.name: cls for cls in (ExplicitEuler, SymplecticEuler, VelocityVerlet, RK4, LangevinBAOAB)
}
_ALIASES = {"explicit_euler": "euler", "verlet": "velocity_verlet", "vv": "velocity_verlet",
            "euler_cromer": "symplectic_euler", "semi_implicit_euler": "symplectic_euler", "baoab": "langevin",
            "runge_kutta": "rk4"}
#: The deterministic (NVE) integrators, in teaching order.
NVE_INTEGRATORS = ("euler", "symplectic_euler", "velocity_verlet", "rk4")


def available_integrators() -> list[str]:
    """Names accepted by :func:`get_integrator`."""
    return list(_INTEGRATORS)


def get_integrator(name: "str | Integrator", dt: float | None = None, **options: Any) -> Integrator:
    """An integrator by name (``"velocity_verlet"``, ``"rk4"``...) with time step ``dt``.

    An :class:`Integrator` instance is returned unchanged (``dt`` must then be None or equal).
    """
    if isinstance(name, Integrator):
        if dt is not None and float(dt) != name.dt:
            raise InvalidParameterError(f"dt={dt} conflicts with the integrator's own dt={name.dt}; give one")
        return name
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in _INTEGRATORS:
        raise unknown_name("integrator", name, available_integrators())
    if dt is None:
        raise InvalidParameterError("give the time step dt (e.g. dt=0.005 in reduced LJ units)")
    cls = _INTEGRATORS[key]
    try:
        return cls(dt, **options)
    except TypeError as exc:
        raise InvalidParameterError(f"{exc}; see help(npsnn_edu.integrators.{cls.__name__})") from exc


def _as_state_arrays(positions: Any, velocities: Any, masses: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        x = np.array(positions, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidStateError("positions must be a numeric array shaped (N, D)") from exc
    if x.ndim != 2:
        raise ShapeMismatchError(
            f"positions must be shaped (N, D) (N particles, D dimensions); got shape {x.shape}. "
            "For one particle in 1D use [[x0]]"
        )
    if not np.all(np.isfinite(x)):
        raise InvalidStateError("positions contain NaN or inf; pass finite starting coordinates")
    if velocities is None:
        v = np.zeros_like(x)
    else:
        v = np.array(velocities, dtype=float)
        if v.shape != x.shape:
            raise ShapeMismatchError(f"velocities shape {v.shape} must equal positions shape {x.shape}")
        if not np.all(np.isfinite(v)):
            raise InvalidStateError("velocities contain NaN or inf; pass finite starting velocities")
    m = np.array(masses, dtype=float)
    if m.ndim == 0:
        m = np.full(x.shape[0], float(m))
    if m.shape != (x.shape[0],):
        raise ShapeMismatchError(f"masses must be a scalar or shaped (N,) = ({x.shape[0]},); got {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise InvalidParameterError("masses must be positive and finite")
    return x, v, m


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
    units: str = "reduced",
    lj_units: Any = None,
    symbols: "list[str] | None" = None,
    **integrator_options: Any,
) -> Trajectory:
    """Integrate Newton's equations and return the recorded :class:`~npsnn_edu.trajectory.Trajectory`.

    Parameters
    ----------
    potential : Potential (or anything with ``energy_and_forces(positions) -> (E, F)``)
    positions, velocities : arrays ``(N, D)``; velocities default to zero.
    dt : time step (reduced: tau); n_steps : number of steps.
    integrator : a name from :func:`available_integrators` or an :class:`Integrator`; extra keyword
        arguments (``temperature``, ``friction``, ``seed`` for ``"langevin"``) go to its constructor.
    masses : scalar or ``(N,)``; record_every : keep every k-th frame (the first and the last are kept).
    kB : Boltzmann constant in the energy unit per temperature unit (1 in reduced units).
    blowup_factor : stop with :class:`SimulationDivergedError` when |E(t) - E(0)| exceeds
        ``blowup_factor`` times the initial energy scale (max of |E0|, kinetic, |potential|, plus k_B T per
        degree of freedom for a thermostat). None disables the check (non-finite energies are always caught).
    progress : show a tqdm progress bar (None: only for long runs).
    """
    integ = get_integrator(integrator, dt, **({"kB": kB, **integrator_options} if _wants_kb(integrator) else integrator_options))
    n_steps = int(n_steps)
    if n_steps < 0:
        raise InvalidParameterError(f"n_steps must be >= 0, got {n_steps}")
    record_every = int(record_every)
    if record_every < 1:
        raise InvalidParameterError(f"record_every must be >= 1, got {record_every}")
    if blowup_factor is not None and not (np.isfinite(blowup_factor) and blowup_factor > 0):
        raise InvalidParameterError(f"blowup_factor must be positive or None, got {blowup_factor!r}")
    x, v, m = _as_state_arrays(positions, velocities, masses)
    inv_mass = (1.0 / m)[:, None]

    # the loop calls the unvalidated evaluation (the input was validated once, below)
    evaluate = potential._energy_and_forces if hasattr(potential, "_energy_and_forces") else potential.energy_and_forces

    def force_fn(pos: np.ndarray) -> tuple[float, np.ndarray]:
        e, f = evaluate(pos)
        return float(e), f

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # non-finite results: typed error below
        pe0, f0 = potential.energy_and_forces(x)  # validated call: clear errors for bad shapes
    pe0 = float(pe0)
    if not np.isfinite(pe0) or not np.all(np.isfinite(f0)):
        raise InvalidStateError(
            "the initial potential energy or forces are not finite (two particles on top of each other?); "
            "move the particles apart"
        )
    state = State(x, v, np.asarray(f0, dtype=float), pe0)

    frame_steps = list(range(0, n_steps + 1, record_every))
    if frame_steps[-1] != n_steps:
        frame_steps.append(n_steps)
    n_frames = len(frame_steps)
    pos_rec = np.empty((n_frames, *x.shape))
    vel_rec = np.empty((n_frames, *x.shape))
    pe_rec = np.empty(n_frames)
    ke_rec = np.empty(n_frames)
    sqrt_half_m = np.sqrt(0.5 * m)[:, None]

    def kinetic(vel: np.ndarray) -> float:
        w = sqrt_half_m * vel  # KE = sum (sqrt(m/2) v)^2
        return float(np.vdot(w, w))

    ke0 = kinetic(v)
    e0 = ke0 + pe0
    scale = max(abs(e0), ke0, abs(pe0), 1e-300) + integ.energy_scale(x.size, kB)
    limit = np.inf if blowup_factor is None else blowup_factor * scale

    pos_rec[0], vel_rec[0], pe_rec[0], ke_rec[0] = x, v, pe0, ke0
    frame = 1

    def partial(n: int) -> Trajectory:
        return Trajectory(times=np.asarray(frame_steps[:n], dtype=float) * integ.dt, positions=pos_rec[:n].copy(),
                          velocities=vel_rec[:n].copy(), potential_energy=pe_rec[:n].copy(),
                          kinetic_energy=ke_rec[:n].copy(), masses=m, dt=integ.dt, integrator=integ.name, kB=kB,
                          box=getattr(potential, "box", None), units=units, lj_units=lj_units, symbols=symbols)

    show = progress if progress is not None else (n_steps * max(1, x.shape[0]) >= 2_000_000)
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, desc=f"{integ.name} MD", unit="step")
    try:
        for step in range(1, n_steps + 1):
            state = integ.step(state, force_fn, inv_mass)
            ke = kinetic(state.velocities)
            etot = ke + state.potential_energy
            if not math.isfinite(etot) or abs(etot - e0) > limit:
                reason = ("non-finite energy" if not math.isfinite(etot)
                          else f"energy change {abs(etot - e0):.3g} exceeds {blowup_factor:g} x initial scale {scale:.3g}")
                t = step * integ.dt
                raise SimulationDivergedError(
                    f"simulation diverged at step {step} (t = {t:.6g}) with {integ.name}, dt = {integ.dt:g}: {reason}. "
                    "Reduce dt (see chapter 2 for the stability limit) or check the starting configuration; "
                    "the partial trajectory is attached as .trajectory",
                    step=step, time=t, reason=reason, trajectory=partial(frame),
                )
            if frame < n_frames and step == frame_steps[frame]:
                pos_rec[frame], vel_rec[frame] = state.positions, state.velocities
                pe_rec[frame], ke_rec[frame] = state.potential_energy, ke
                frame += 1
            if bar is not None and step % 100 == 0:
                bar.update(100)
    finally:
        if bar is not None:
            bar.close()
    return partial(n_frames)


def _wants_kb(integrator: Any) -> bool:
    if isinstance(integrator, Integrator):
        return False
    key = str(integrator).strip().lower().replace("-", "_")
    return _ALIASES.get(key, key) == "langevin"
