"""Families of initial-value problems for the physics-informed spiking operator (:mod:`.operator`).

A family is a set of problems ``m x'' = F(x)`` indexed by a parameter vector p (initial state, and for the
harmonic case the frequency).  Time is scaled per problem as tau = omega t, so every member of a family lives on
the same window tau in [0, tau_end] and the operator learns one map p -> kernel coefficients.

``harmonic``   p = (x0, v0, omega): 1D oscillator x'' = -omega^2 x.  Sampled on an amplitude shell
               A = sqrt(x0^2 + (v0/omega)^2) in [0.5, 1.5] (any phase), omega in [0.5, 2]; the shell is
               invariant under the dynamics, so time-marching stays inside the family.  In tau the equation is
               x'' = -x for every omega: the branch sees (x0, v0/omega), omega enters through the time scale.
               Reference: the analytic solution.  Metric: ||x - x_ref|| / ||x_ref||.
``morse``      p = (stretch, v_rel): Morse diatomic (D_e = a = r_e = m = 1) in 1D, bond r = r_e + stretch,
               relative velocity v_rel (atoms at -r/2, +r/2 moving -v_rel/2, +v_rel/2).  Sampled on the energy
               shell u(r_e + 0.1) <= E <= u(r_e + 0.3) (invariant), omega = sqrt(2 a^2 D_e / mu) = 2.
               Reference: core velocity Verlet at a fine step.  Metric: displacement relative L2
               ||x - x_ref|| / ||x_ref - x0|| (positions ~0.6 sigma, the motion ~0.1-0.3 sigma: stricter).
``lj3d``       p = (9 displacements, 9 velocities): three LJ atoms in 3D (no cutoff) around an equilateral
               triangle at r_min, random displacements (uniform +-0.04 sigma) and velocities (uniform +-0.4),
               centre of mass and its velocity removed.  omega = sqrt(3 u''(r_min) / m) ~ 13.1 (breathing
               mode), tau_end = 2 pi (a short window, ~0.48 tau_LJ).  Reference: core velocity Verlet.
               Metric: displacement relative L2.  (``get_problem("lj3")`` is the 2-D trimer of a single
               trajectory; the old family alias ``lj3`` raises an error that names ``lj3d``.)
``PotentialFamily`` any core potential and a box of initial states (:func:`family_from_potential`):
               p = (x0 flattened, v0 flattened) sampled uniformly in the box; omega from the curvature at the
               box centre (or given).  Reference: core velocity Verlet.  Metric: displacement relative L2.

Every family knows the range it samples (:meth:`OperatorFamily.out_of_range`, :meth:`OperatorFamily.range_text`):
an operator asked about parameters outside it warns with that range, or refuses with ``strict=True``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import torch

from ..analytic import harmonic_solution
from ..errors import InvalidParameterError, ShapeMismatchError, UnknownNameError
from ..integrators import simulate
from ..potentials import Harmonic, LennardJones, Morse, Potential, get_potential
from ..registry import Registry, build, normalise_name
from ..validation import (
    AtLeast,
    Boolean,
    Constraints,
    InstanceOf,
    Options,
    Positive,
    Rule,
    at_least,
    finite_array,
    positive,
    validate_fields,
)

__all__ = ["FAMILIES", "OperatorFamily", "PotentialFamily", "available_families", "family_from_potential",
           "get_family"]


def _names(name: str, value: Any) -> tuple[str, ...]:
    """A sequence of parameter names as a tuple of str."""
    if isinstance(value, str) or not isinstance(value, (tuple, list)):
        raise InvalidParameterError(f"{name} must be a tuple of parameter names, e.g. ('x0', 'v0'), got {value!r}")
    return tuple(str(v) for v in value)


def _numbers(name: str, value: Any) -> tuple[float, ...]:
    """Finite numbers (any nesting, flattened) as a tuple of float."""
    try:
        arr = np.ravel(np.array(value, dtype=float))
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be numbers, got {value!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError(f"{name} must be finite numbers, got {value!r}")
    return tuple(float(v) for v in arr)


def _masses(name: str, value: Any) -> tuple[float, ...]:
    """Positive finite masses as a tuple of float (empty: unit masses)."""
    masses = _numbers(name, value)
    if any(m <= 0 for m in masses):
        raise InvalidParameterError(f"{name} must be positive masses (m), got {value!r}")
    return masses


def _interval(name: str, value: Any, *, low: float = -np.inf) -> tuple[float, float]:
    """A pair ``(lo, hi)`` of finite numbers with ``low < lo <= hi`` (``low`` excluded)."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a pair (lo, hi) of numbers, got {value!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and low < lo <= hi):
        bound = "" if low == -np.inf else f" and lo > {low:g}"
        raise InvalidParameterError(f"{name} must be a pair (lo, hi) of finite numbers with lo <= hi{bound}, "
                                    f"got {value!r}")
    return lo, hi


@dataclass
class OperatorFamily:
    """Base class: shapes, sampling, time scale, forces, reference (see the module docstring).

    Parameters
    ----------
    name : str, default "family"
        Family name.
    param_names : tuple of str, default ()
        Names of the entries of p.
    n_particles : int, default 1
        Particles N.
    dim : int, default 1
        Dimensions D.
    tau_end : float, default 2 pi
        Scaled window length (tau = omega t).
    metric : {"rel_l2", "rel_l2_disp"}, default "rel_l2"
        Error metric of the evaluation.
    ref_steps : int, default 1000
        Verlet steps of the reference per window.
    galilean : bool, default False
        Translation invariant (centre of mass taken out when marching).
    scale_invariant : bool, default False
        The motion scales with the amplitude (linear forces).
    """

    name: str = "family"
    param_names: tuple[str, ...] = ()
    n_particles: int = 1
    dim: int = 1
    tau_end: float = 2 * np.pi
    metric: str = "rel_l2"  # or "rel_l2_disp"
    ref_steps: int = 1000  # fine velocity-Verlet steps per window for the reference (non-analytic families)
    galilean: bool = False  # translation invariant: time-marching moves the centre of mass out of p
    #: Linear equations of motion (x(t; c p) = c x(t; p) for any c > 0): with amplitude scaling the branch then
    #: sees only the direction of the initial state, not its size.
    scale_invariant: bool = False

    #: Every field's constraint, checked at construction (a subclass adds its own fields to a copy).
    _parameter_constraints: ClassVar[Constraints] = {
        "name": InstanceOf(str),
        "param_names": Rule(_names, invalid=3.0),
        "n_particles": AtLeast(1, integer=True),
        "dim": AtLeast(1, integer=True),
        "tau_end": Positive(hint="the time window in tau"),
        "metric": Options(("rel_l2", "rel_l2_disp")),
        "ref_steps": AtLeast(1, integer=True),
        "galilean": Boolean(),
        "scale_invariant": Boolean(),
    }

    def __post_init__(self) -> None:
        validate_fields(self)

    @property
    def n_params(self) -> int:
        """Length of a parameter vector p."""
        return len(self.param_names)

    @property
    def n_out(self) -> int:
        """Output coordinates N D."""
        return self.n_particles * self.dim

    @property
    def n_features(self) -> int:
        """Length of the branch input."""
        return self.features(self.sample(1, seed=0)).shape[1]

    @property
    def masses(self) -> np.ndarray:
        """Particle masses, array of shape (n_particles,)."""
        return np.ones(self.n_particles)

    # -- edges --------------------------------------------------------------------------------------
    def check(self, p: Any) -> np.ndarray:
        """``p`` as a finite ``(B, n_params)`` array (a single ``(n_params,)`` vector becomes B = 1).

        Parameters
        ----------
        p : array of shape (batch, n_params) or (n_params,)
            Problem parameters.

        Returns
        -------
        array of shape (batch, n_params)

        Raises
        ------
        ShapeMismatchError, InvalidStateError
            Wrong length or non-finite entries.
        """
        arr = finite_array("p", p, hint=f"family {self.name!r} parameters {self.param_names}")
        if arr.ndim == 1:
            arr = arr[None]
        return finite_array("p", arr, shape=(None, self.n_params),
                            hint=f"one row per problem with the {self.n_params} parameters {self.param_names}")

    def sample(self, n: int, seed: "int | np.random.Generator | None" = 0) -> np.ndarray:
        """``n`` parameter vectors drawn from the family (seeded).

        Parameters
        ----------
        n : int
            Number of vectors.
        seed : int, numpy.random.Generator or None, default 0
            Seed.

        Returns
        -------
        array of shape (n, n_params)
        """
        n = at_least("n", n, 1, integer=True)
        return self._sample(int(n), np.random.default_rng(seed))

    def out_of_range(self, p: Any) -> np.ndarray:
        """Boolean ``(B,)``: True where p lies outside the range the family samples (what an operator was trained
        on).  The base class has no range (all False).

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        array of bool of shape (batch,)
        """
        return np.zeros(len(self.check(p)), dtype=bool)

    def range_text(self) -> str:
        """The sampled range in words (for warnings and errors)."""
        return "no stated range"

    def config(self) -> dict[str, Any]:
        """JSON-able description: ``get_family(cfg["name"], **cfg["params"])`` rebuilds a registered family."""
        return {"name": self.name, "params": {k: (list(v) if isinstance(v, tuple) else v)
                                              for k, v in asdict(self).items() if k not in ("param_names", "name")}}

    # -- to be provided -----------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def omega(self, p: np.ndarray) -> np.ndarray:
        """Time scale per problem (tau = omega t), shape ``(B,)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        array of shape (batch,)
            omega (1/tau).
        """
        raise NotImplementedError

    def initial_state(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Physical x0, v0, each ``(B, N, D)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        x0, v0 : arrays of shape (batch, n_atoms, n_dim)
        """
        raise NotImplementedError

    def from_state(self, x: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The parameter vector of a problem starting at (x, v) (physical), keeping ``p``'s other parameters.

        Parameters
        ----------
        x : array of shape (batch, n_atoms, n_dim)
            Positions (sigma).
        v : array of shape (batch, n_atoms, n_dim)
            Velocities (sigma/tau).
        p : array of shape (batch, n_params)
            Parameters whose other entries are kept.

        Returns
        -------
        array of shape (batch, n_params)
        """
        raise NotImplementedError

    def features(self, p: np.ndarray) -> np.ndarray:
        """Branch input: p scaled to about [-1, 1], shape ``(B, n_features)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        array of shape (batch, n_features)
        """
        raise NotImplementedError

    def amplitude(self, p: np.ndarray) -> np.ndarray:
        """Displacement scale per problem (normalises the residual and the output), ``(B,)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        array of shape (batch,)
        """
        raise NotImplementedError

    def unit_state(self, p: np.ndarray) -> np.ndarray:
        """The initial displacement and velocity / omega divided by the amplitude (a unit-size state), ``(B, F)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        array of shape (batch, n_state)
        """
        raise NotImplementedError

    @cached_property
    def reference_amplitude(self) -> float:
        """Median amplitude of the family (256 problems, a fixed seed): the scale the amplitude feature is relative
        to, and the constant output scale of an operator without amplitude scaling."""
        return float(np.median(self.amplitude(self.sample(256, seed=10_000))))

    def scaled_features(self, p: np.ndarray) -> np.ndarray:
        """Branch input of an amplitude-scaled operator (``OperatorConfig.amplitude_scaling``): the unit-size
        state (:meth:`unit_state`) and, unless the family is :attr:`scale_invariant`, the amplitude relative
        to :attr:`reference_amplitude` (A / A_ref - 1), shape ``(B, F)`` or ``(B, F + 1)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        numpy.ndarray
        """
        unit = self.unit_state(p)
        if self.scale_invariant:
            return unit
        return np.concatenate([unit, (self.amplitude(p) / self.reference_amplitude - 1.0)[:, None]], 1)

    def potential(self, p: np.ndarray) -> Any:
        """The core potential of the problems ``p`` (one for the whole family unless it depends on p).

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        Potential
        """
        raise NotImplementedError

    def accel(self, x: Any, omega2: Any) -> Any:
        """d^2x/dtau^2 = F(x) / (m omega^2), torch ``x`` ``(B, T, N, D)``, ``omega2`` ``(B,)`` (core potential).

        Parameters
        ----------
        x : tensor of shape (batch, n_times, n_atoms, n_dim)
            Positions (sigma).
        omega2 : tensor of shape (batch,)
            omega^2 per problem.

        Returns
        -------
        tensor of shape (batch, n_times, n_atoms, n_dim)
        """
        _, f = self.potential(None).energy_and_forces(x)
        return f / omega2[:, None, None, None]

    def reference(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Reference positions ``(B, T, N, D)`` at physical times ``t`` ``(B, T)`` (uniform per row, from 0).

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.
        t : array of shape (batch, n_times)
            Physical times (tau), uniform per row from 0.

        Returns
        -------
        array of shape (batch, n_times, n_atoms, n_dim)
        """
        p = self.check(p)
        out = np.empty((p.shape[0], t.shape[1], self.n_particles, self.dim))
        x0, v0 = self.initial_state(p)
        for b in range(p.shape[0]):
            out[b] = _verlet_on_grid(self.potential(p[b:b + 1]), x0[b], v0[b], self.masses, t[b], self.ref_steps)
        return out


def _verlet_on_grid(potential: Any, x0: np.ndarray, v0: np.ndarray, masses: np.ndarray, t: np.ndarray,
                    min_steps: int) -> np.ndarray:
    """Core velocity Verlet on a uniform grid ``t`` (t[0] = 0), sub-stepped to at least ``min_steps`` steps."""
    n_int = len(t) - 1
    sub = max(1, int(np.ceil(min_steps / n_int)))
    dt = float(t[-1]) / (n_int * sub)
    traj = simulate(potential, x0, v0, dt=dt, n_steps=n_int * sub, masses=masses, record_every=sub, progress=False)
    return traj.positions[: len(t)]


@dataclass
class HarmonicFamily(OperatorFamily):
    name: str = "harmonic"
    param_names: tuple[str, ...] = ("x0", "v0", "omega")
    amp_range: tuple[float, float] = (0.5, 1.5)
    omega_range: tuple[float, float] = (0.5, 2.0)
    scale_invariant: bool = True  # x'' = -omega^2 x is linear

    _parameter_constraints: ClassVar[Constraints] = {
        **OperatorFamily._parameter_constraints,
        "amp_range": Rule(_interval, invalid=(1.0, 0.5)),
        "omega_range": Rule(lambda name, value: _interval(name, value, low=0.0), invalid=(0.0, 1.0)),
    }

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        amp = rng.uniform(*self.amp_range, n)
        phase = rng.uniform(0, 2 * np.pi, n)
        omega = rng.uniform(*self.omega_range, n)
        return np.stack([amp * np.cos(phase), -amp * np.sin(phase) * omega, omega], 1)

    def check(self, p: Any) -> np.ndarray:
        arr = super().check(p)
        if np.any(arr[:, 2] <= 0):
            raise InvalidParameterError("harmonic family: omega (column 2 of p) must be positive")
        return arr

    def omega(self, p: np.ndarray) -> np.ndarray:
        return p[:, 2].copy()

    def out_of_range(self, p: Any) -> np.ndarray:
        p = self.check(p)
        amp, om = self.amplitude(p), p[:, 2]
        lo, hi = self.amp_range
        return (amp < lo * (1 - 1e-9)) | (amp > hi * (1 + 1e-9)) | (om < self.omega_range[0] * (1 - 1e-9)) | (
            om > self.omega_range[1] * (1 + 1e-9))

    def range_text(self) -> str:
        return (f"amplitude sqrt(x0^2 + (v0/omega)^2) in [{self.amp_range[0]:g}, {self.amp_range[1]:g}] sigma, "
                f"omega in [{self.omega_range[0]:g}, {self.omega_range[1]:g}] 1/tau")

    def initial_state(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return p[:, 0].reshape(-1, 1, 1).copy(), p[:, 1].reshape(-1, 1, 1).copy()

    def from_state(self, x: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.stack([x.reshape(len(p)), v.reshape(len(p)), p[:, 2]], 1)

    def features(self, p: np.ndarray) -> np.ndarray:
        s = self.amp_range[1]
        return np.stack([p[:, 0] / s, p[:, 1] / p[:, 2] / s], 1)

    def amplitude(self, p: np.ndarray) -> np.ndarray:
        return np.hypot(p[:, 0], p[:, 1] / p[:, 2])

    def unit_state(self, p: np.ndarray) -> np.ndarray:
        return np.stack([p[:, 0], p[:, 1] / p[:, 2]], 1) / self.amplitude(p)[:, None]

    def potential(self, p: Any) -> Any:
        return Harmonic(k=1.0 if p is None else float(p[0, 2]) ** 2)

    def accel(self, x: Any, omega2: Any) -> Any:  # F / (m omega^2) = -x for every omega (core Harmonic, k = 1)
        return Harmonic(k=1.0).energy_and_forces(x)[1]

    def reference(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        p = self.check(p)
        x = np.stack([harmonic_solution(t[b], p[b, 0], p[b, 1], p[b, 2])[0] for b in range(len(p))])
        return x[..., None, None]


@dataclass
class MorseFamily(OperatorFamily):
    name: str = "morse"
    param_names: tuple[str, ...] = ("stretch", "v_rel")
    n_particles: int = 2
    metric: str = "rel_l2_disp"
    galilean: bool = True
    shell: tuple[float, float] = (0.1, 0.3)  # energy shell: u(r_e + shell[0]) <= E <= u(r_e + shell[1])

    _parameter_constraints: ClassVar[Constraints] = {
        **OperatorFamily._parameter_constraints, "shell": Rule(_interval, invalid=(0.3, 0.1))}

    def _pot(self) -> Morse:
        return Morse(D_e=1.0, a=1.0, r_e=1.0)

    def _energy(self, p: np.ndarray) -> np.ndarray:
        d = p[:, 0]
        return np.exp(-2 * d) - 2 * np.exp(-d) + 0.25 * p[:, 1] ** 2  # u(r) + 1/2 mu v^2, mu = 1/2

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        lo, hi = (float(self._energy(np.array([[s, 0.0]]))[0]) for s in self.shell)
        out: list[np.ndarray] = []
        while sum(len(o) for o in out) < n:
            cand = np.stack([rng.uniform(-0.3, 0.35, 4 * n), rng.uniform(-0.6, 0.6, 4 * n)], 1)
            e = self._energy(cand)
            out.append(cand[(e >= lo) & (e <= hi)])
        return np.concatenate(out)[:n]

    def check(self, p: Any) -> np.ndarray:
        arr = super().check(p)
        if np.any(arr[:, 0] <= -1.0) or np.any(self._energy(arr) >= 0):
            raise InvalidParameterError("morse family: need a bound diatomic (stretch > -r_e and E < 0)")
        return arr

    def omega(self, p: np.ndarray) -> np.ndarray:
        return np.full(len(p), 2.0)  # sqrt(2 a^2 D_e / mu), mu = m / 2

    def _shell_energies(self) -> tuple[float, float]:
        lo, hi = (float(self._energy(np.array([[s, 0.0]]))[0]) for s in self.shell)
        return lo, hi

    def out_of_range(self, p: Any) -> np.ndarray:
        e = self._energy(self.check(p))
        lo, hi = self._shell_energies()
        return (e < lo - 1e-9 * abs(lo)) | (e > hi + 1e-9 * abs(hi))

    def range_text(self) -> str:
        lo, hi = self._shell_energies()
        return (f"total energy between u(r_e + {self.shell[0]:g}) = {lo:.4f} and u(r_e + {self.shell[1]:g}) = "
                f"{hi:.4f} epsilon (a bond stretched by {self.shell[0]:g} to {self.shell[1]:g} sigma at rest)")

    def initial_state(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, v = 1.0 + p[:, 0], p[:, 1]
        x = np.stack([-0.5 * r, 0.5 * r], 1)[..., None]
        return x, np.stack([-0.5 * v, 0.5 * v], 1)[..., None]

    def from_state(self, x: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        x, v = x.reshape(len(p), 2), v.reshape(len(p), 2)
        return np.stack([x[:, 1] - x[:, 0] - 1.0, v[:, 1] - v[:, 0]], 1)

    def features(self, p: np.ndarray) -> np.ndarray:
        return np.stack([(p[:, 0] - 0.025) / 0.3, p[:, 1] / 0.55], 1)

    def amplitude(self, p: np.ndarray) -> np.ndarray:
        return np.sqrt(2 * (self._energy(p) + 1.0) / 2.0) * 0.5  # bond amplitude from E - u_min (k = 2), per atom

    def unit_state(self, p: np.ndarray) -> np.ndarray:  # (stretch, v_rel / omega) over the bond amplitude
        return np.stack([p[:, 0], p[:, 1] / self.omega(p)], 1) / (2.0 * self.amplitude(p))[:, None]

    def potential(self, p: Any) -> Morse:
        return self._pot()


@dataclass
class LJ3DFamily(OperatorFamily):
    name: str = "lj3d"
    param_names: tuple[str, ...] = tuple(f"d{i}{c}" for i in range(3) for c in "xyz") + tuple(
        f"v{i}{c}" for i in range(3) for c in "xyz")
    n_particles: int = 3
    dim: int = 3
    metric: str = "rel_l2_disp"
    galilean: bool = True
    max_disp: float = 0.04
    max_vel: float = 0.4

    _parameter_constraints: ClassVar[Constraints] = {
        **OperatorFamily._parameter_constraints, "max_disp": Positive(hint="largest displacement in sigma"),
        "max_vel": Positive(hint="largest velocity in sigma / tau")}

    @property
    def base(self) -> np.ndarray:
        r = 2.0 ** (1.0 / 6.0)
        x = np.array([[0.0, r / np.sqrt(3.0), 0.0], [-r / 2, -r / (2 * np.sqrt(3.0)), 0.0],
                      [r / 2, -r / (2 * np.sqrt(3.0)), 0.0]])
        return x - x.mean(0)

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = rng.uniform(-self.max_disp, self.max_disp, (n, 3, 3))
        v = rng.uniform(-self.max_vel, self.max_vel, (n, 3, 3))
        d -= d.mean(1, keepdims=True)
        v -= v.mean(1, keepdims=True)
        return np.concatenate([d.reshape(n, 9), v.reshape(n, 9)], 1)

    def omega(self, p: np.ndarray) -> np.ndarray:
        return np.full(len(p), float(np.sqrt(3 * LennardJones().curvature_at_minimum)))

    def out_of_range(self, p: Any) -> np.ndarray:  # uniform +-max, then the mean removed: |.| <= 4/3 max
        p = self.check(p)
        return (np.max(np.abs(p[:, :9]), 1) > 4 / 3 * self.max_disp * (1 + 1e-9)) | (
            np.max(np.abs(p[:, 9:]), 1) > 4 / 3 * self.max_vel * (1 + 1e-9))

    def range_text(self) -> str:
        return (f"displacements within +-{4 / 3 * self.max_disp:.3g} sigma and velocities within "
                f"+-{4 / 3 * self.max_vel:.3g} sigma/tau per coordinate (drawn uniform +-{self.max_disp:g} and "
                f"+-{self.max_vel:g}, centre of mass removed)")

    def initial_state(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.base[None] + p[:, :9].reshape(-1, 3, 3), p[:, 9:].reshape(-1, 3, 3).copy()

    def from_state(self, x: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.concatenate([(x - self.base[None]).reshape(len(p), 9), v.reshape(len(p), 9)], 1)

    def features(self, p: np.ndarray) -> np.ndarray:
        return np.concatenate([p[:, :9] / self.max_disp, p[:, 9:] / self.max_vel], 1)

    def amplitude(self, p: np.ndarray) -> np.ndarray:
        w = self.omega(p)
        return np.sqrt(np.mean(p[:, :9] ** 2, 1) + np.mean(p[:, 9:] ** 2, 1) / w**2)

    def unit_state(self, p: np.ndarray) -> np.ndarray:
        w = self.omega(p)[:, None]
        return np.concatenate([p[:, :9], p[:, 9:] / w], 1) / self.amplitude(p)[:, None]

    def potential(self, p: Any) -> LennardJones:
        return LennardJones(cutoff=None, shift=False)


@dataclass
class PotentialFamily(OperatorFamily):
    """A family from any core potential and a box of initial states (see :func:`family_from_potential`).

    p = (x0 flattened, v0 flattened), ``2 N D`` numbers; sampled uniformly in ``x_box`` x ``v_box``.

    Parameters
    ----------
    name : str, default "custom"
        Family name.
    param_names : tuple of str, default ()
        Names of the entries of p (default: x0 then v0 coordinates).
    n_particles : int, default 1
        Particles N.
    dim : int, default 1
        Dimensions D.
    tau_end : float, default 2 pi
        Scaled window length.
    metric : str, default "rel_l2_disp"
        Error metric.
    ref_steps : int, default 1000
        Verlet steps of the reference per window.
    galilean : bool, default False
        Translation invariant.
    scale_invariant : bool, default False
        The motion scales with the amplitude.
    pot : Potential
        The core potential.
    x_lo, x_hi : tuple of float
        Box of initial positions, N D numbers each (sigma).
    v_lo, v_hi : tuple of float
        Box of initial velocities, N D numbers each (sigma/tau).
    omega0 : float, default 1.0
        Time scale (1/tau).
    mass_values : tuple of float, default ()
        Particle masses (default 1).

    Raises
    ------
    ShapeMismatchError
        Boxes of the wrong length.
    InvalidParameterError
        A box with lo > hi.
    """

    name: str = "custom"
    pot: Any = None
    x_lo: tuple[float, ...] = ()
    x_hi: tuple[float, ...] = ()
    v_lo: tuple[float, ...] = ()
    v_hi: tuple[float, ...] = ()
    omega0: float = 1.0
    mass_values: tuple[float, ...] = ()
    metric: str = "rel_l2_disp"

    _parameter_constraints: ClassVar[Constraints] = {
        **OperatorFamily._parameter_constraints,
        "pot": (None, InstanceOf(Potential)),
        "x_lo": Rule(_numbers, invalid=("a",)), "x_hi": Rule(_numbers, invalid=(np.nan,)),
        "v_lo": Rule(_numbers, invalid=("a",)), "v_hi": Rule(_numbers, invalid=(np.inf,)),
        "omega0": Positive(hint="the family's time scale in 1 / tau"),
        "mass_values": Rule(_masses, invalid=(-1.0,)),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.n_particles * self.dim
        for key in ("x_lo", "x_hi", "v_lo", "v_hi"):
            if len(getattr(self, key)) != n:
                raise ShapeMismatchError(f"{key} needs {n} numbers (N = {self.n_particles} particles x D = "
                                         f"{self.dim}), got {len(getattr(self, key))}")
        if np.any(np.array(self.x_hi) < np.array(self.x_lo)) or np.any(np.array(self.v_hi) < np.array(self.v_lo)):
            raise InvalidParameterError("each box needs lo <= hi in every coordinate")
        if not self.param_names:
            self.param_names = tuple(f"x{i}{c}" for i in range(self.n_particles) for c in "xyz"[:self.dim]) + tuple(
                f"v{i}{c}" for i in range(self.n_particles) for c in "xyz"[:self.dim])

    @property
    def masses(self) -> np.ndarray:
        """Particle masses, array of shape (n_particles,) (``mass_values``, default 1)."""
        return np.array(self.mass_values, dtype=float) if self.mass_values else np.ones(self.n_particles)

    def _lo_hi(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.x_lo + self.v_lo), np.array(self.x_hi + self.v_hi)

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        lo, hi = self._lo_hi()
        return rng.uniform(lo, hi, (n, len(lo)))

    def out_of_range(self, p: Any) -> np.ndarray:
        p = self.check(p)
        lo, hi = self._lo_hi()
        tol = 1e-9 * np.maximum(np.abs(hi - lo), 1e-12)
        return np.any((p < lo - tol) | (p > hi + tol), 1)

    def range_text(self) -> str:
        def fmt(vals: tuple[float, ...]) -> str:
            return "[" + ", ".join(f"{v:g}" for v in vals) + "]"

        return (f"x0 in the box {fmt(self.x_lo)} .. {fmt(self.x_hi)} sigma, v0 in {fmt(self.v_lo)} .. "
                f"{fmt(self.v_hi)} sigma/tau")

    def omega(self, p: np.ndarray) -> np.ndarray:
        return np.full(len(p), float(self.omega0))

    def initial_state(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = self.n_particles * self.dim
        shape = (-1, self.n_particles, self.dim)
        return p[:, :k].reshape(shape).copy(), p[:, k:].reshape(shape).copy()

    def from_state(self, x: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.concatenate([x.reshape(len(p), -1), v.reshape(len(p), -1)], 1)

    def _centre_half(self) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self._lo_hi()
        return 0.5 * (lo + hi), np.maximum(0.5 * (hi - lo), 1e-12)

    def features(self, p: np.ndarray) -> np.ndarray:
        c, h = self._centre_half()
        return (p - c) / h

    def amplitude(self, p: np.ndarray) -> np.ndarray:
        k = self.n_particles * self.dim
        c = self._centre_half()[0][:k]
        d = p[:, :k] - c
        floor = 1e-3 * max(float(np.max(np.abs(np.array(self.x_hi) - np.array(self.x_lo)))), 1e-6)
        return np.maximum(np.sqrt(np.mean(d**2, 1) + np.mean((p[:, k:] / self.omega0) ** 2, 1)), floor)

    def unit_state(self, p: np.ndarray) -> np.ndarray:
        k = self.n_particles * self.dim
        c = self._centre_half()[0][:k]
        return np.concatenate([p[:, :k] - c, p[:, k:] / self.omega0], 1) / self.amplitude(p)[:, None]

    def potential(self, p: Any) -> Any:
        """The family's core potential (the same for every p).

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters (unused).

        Returns
        -------
        Potential
        """
        return self.pot

    def accel(self, x: Any, omega2: Any) -> Any:
        _, f = self.pot.energy_and_forces(x)
        m = torch_masses(self.masses, x)
        return f / m / omega2[:, None, None, None]

    def config(self) -> dict[str, Any]:
        params = {k: list(getattr(self, k)) for k in ("x_lo", "x_hi", "v_lo", "v_hi")}
        pot_params = self.pot.params()
        if any(v is not None and not isinstance(v, (int, float, str, bool)) for v in pot_params.values()):
            raise InvalidParameterError("this family's potential has parameters that are not plain numbers: pass the "
                                        "family again when loading (OperatorTrainer.load(path, family=...))")
        return {"name": "potential_family", "custom_name": self.name,
                "potential": {"name": self.pot.name, "params": pot_params},
                "params": {**params, "n_particles": self.n_particles, "dim": self.dim, "omega0": self.omega0,
                           "tau_end": self.tau_end, "mass_values": list(self.mass_values),
                           "ref_steps": self.ref_steps}}


def torch_masses(masses: np.ndarray, x: Any) -> Any:
    """Masses ``(N, 1)`` as a tensor on ``x``'s device and dtype (x a torch tensor ``(..., N, D)``)."""
    return torch.as_tensor(masses, dtype=x.dtype, device=x.device)[:, None]


def family_from_potential(potential: "Potential | str", x_box: Any, v_box: Any, *, masses: Any = None,
                          omega: float | None = None, periods: float = 1.0, name: str = "custom") -> PotentialFamily:
    """A custom operator family from a core potential and a box of initial states, in one call.

    Parameters
    ----------
    potential : Potential or str
        Any core potential (:mod:`npsnn_edu.potentials`) or its registered name.
    x_box, v_box : pair of array-likes of shape (N, D) (or numbers for one particle in 1D)
        ``(lo, hi)`` corners of the box the initial positions (sigma) and velocities (sigma / tau) are drawn from.
    masses : float or array-like of shape (N,), optional
        Particle masses (default 1).
    omega : float, optional
        The time scale (1 / tau): the window is ``2 pi periods / omega``.  Default: sqrt of the largest
        |curvature| / m at the centre of the position box (finite differences of the core forces).
    periods : float
        Window length in units of 2 pi / omega.
    name : str
        A label.

    Example (a quartic double well, starts inside the right well)::

        fam = family_from_potential(DoubleWell(), x_box=(0.8, 1.2), v_box=(-0.3, 0.3))
    """
    if isinstance(potential, str):
        potential = get_potential(potential)
    if not isinstance(potential, Potential):
        raise InvalidParameterError(f"potential must be a core Potential or its name, got {type(potential).__name__}")
    try:
        x_lo, x_hi = (np.array(b, dtype=float) for b in x_box)
        v_lo, v_hi = (np.array(b, dtype=float) for b in v_box)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError("x_box and v_box must each be a pair (lo, hi) of numbers or (N, D) arrays") \
            from exc
    shape = x_lo.shape if x_lo.ndim == 2 else (1, 1) if x_lo.ndim == 0 else None
    if shape is None:
        raise ShapeMismatchError(f"box corners must be numbers (one particle in 1D) or shaped (N, D), got {x_lo.shape}")
    n, d = shape
    corners = [np.broadcast_to(c, shape) if c.ndim == 0 else c for c in (x_lo, x_hi, v_lo, v_hi)]
    if any(c.shape != shape for c in corners):
        raise ShapeMismatchError(f"all four box corners need the shape {shape}")
    m = np.ones(n) if masses is None else np.broadcast_to(np.asarray(masses, dtype=float), (n,)).copy()
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise InvalidParameterError(f"masses must be positive, got {m.tolist()}")
    if omega is None:
        centre = 0.5 * (corners[0] + corners[1])
        h = 1e-4 * max(float(np.max(np.abs(centre))), 1.0)
        curv = 0.0
        for i in range(n):
            for j in range(d):
                xp, xm = centre.copy(), centre.copy()
                xp[i, j] += h
                xm[i, j] -= h
                curv = max(curv, abs(float(potential.forces(xm)[i, j] - potential.forces(xp)[i, j]) / (2 * h)) / m[i])
        if not curv > 1e-6:
            raise InvalidParameterError("the potential has no curvature at the centre of the position box: give the "
                                        "time scale as omega=... (1 / tau)")
        omega = float(np.sqrt(curv))
    omega = positive("omega", omega, hint="the family's time scale in 1 / tau")
    return PotentialFamily(name=str(name), n_particles=n, dim=d, tau_end=2 * np.pi * positive("periods", periods),
                           pot=potential, x_lo=tuple(corners[0].ravel()), x_hi=tuple(corners[1].ravel()),
                           v_lo=tuple(corners[2].ravel()), v_hi=tuple(corners[3].ravel()), omega0=omega,
                           mass_values=tuple(float(v) for v in m))


FAMILIES: Registry = Registry("operator family")
FAMILIES.register("harmonic", HarmonicFamily, aliases=("harmonic_oscillator", "sho"))
FAMILIES.register("morse", MorseFamily, aliases=("morse_diatomic",))
FAMILIES.register("lj3d", LJ3DFamily, aliases=("lj_3d", "many_body", "lj_trimer_3d"))

#: Retired spellings and the name to use instead.
RENAMED = {"lj3": "lj3d"}


def available_families() -> list[str]:
    """Names accepted by :func:`get_family`."""
    return FAMILIES.names()


def get_family(name: "str | OperatorFamily", **params: Any) -> OperatorFamily:
    """A family by name (``harmonic``, ``morse``, ``lj3d``) built with ``params`` (its dataclass fields, e.g.
    ``get_family("harmonic", omega_range=(0.5, 1.0))``); an :class:`OperatorFamily` passes through unchanged.

    Raises :class:`~npsnn_edu.errors.UnknownNameError` (lists the names) for an unknown name,
    :class:`~npsnn_edu.errors.InvalidParameterError` for a keyword the family does not take or keywords given with
    a family instance (which would otherwise be dropped), and for ``"lj3"`` (the 3-D family is ``"lj3d"``;
    ``get_problem("lj3")`` is the 2-D trimer).

    Parameters
    ----------
    name : str or OperatorFamily
        ``"harmonic"``, ``"morse"``, ``"lj3d"``, or a family (returned unchanged).
    **params
        Dataclass fields of the family.

    Returns
    -------
    OperatorFamily

    Raises
    ------
    UnknownNameError
        An unknown name.
    InvalidParameterError
        A keyword the family does not take, keywords with an instance, or ``"lj3"``.
    """
    if isinstance(name, OperatorFamily):
        if params:
            kws = ", ".join(f"{k}=..." for k in params)
            raise InvalidParameterError(f"keywords {sorted(params)} cannot change a family instance: build it with "
                                        f"them (e.g. get_family({name.name!r}, {kws}))")
        return name
    if normalise_name(name) in RENAMED:
        raise UnknownNameError(f"operator family {name!r} is now called {RENAMED[normalise_name(name)]!r} (three LJ "
                               "atoms in 3-D); get_problem('lj3') is the 2-D trimer of a single trajectory")
    return build(FAMILIES.get(name), **params)
