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
               Metric: displacement relative L2.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..analytic import harmonic_solution
from ..errors import InvalidParameterError
from ..integrators import simulate
from ..potentials import Harmonic, LennardJones, Morse
from ..registry import Registry, build
from ..validation import at_least, finite_array

__all__ = ["FAMILIES", "OperatorFamily", "available_families", "get_family"]


@dataclass
class OperatorFamily:
    """Base class: shapes, sampling, time scale, forces, reference (see the module docstring)."""

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

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def n_out(self) -> int:
        return self.n_particles * self.dim

    @property
    def n_features(self) -> int:
        return self.features(self.sample(1, seed=0)).shape[1]

    @property
    def masses(self) -> np.ndarray:
        return np.ones(self.n_particles)

    # -- edges --------------------------------------------------------------------------------------
    def check(self, p: Any) -> np.ndarray:
        """``p`` as a finite ``(B, n_params)`` array (a single ``(n_params,)`` vector becomes B = 1)."""
        arr = finite_array("p", p, hint=f"family {self.name!r} parameters {self.param_names}")
        if arr.ndim == 1:
            arr = arr[None]
        return finite_array("p", arr, shape=(None, self.n_params),
                            hint=f"one row per problem with the {self.n_params} parameters {self.param_names}")

    def sample(self, n: int, seed: "int | np.random.Generator | None" = 0) -> np.ndarray:
        """``n`` parameter vectors drawn from the family (seeded)."""
        n = at_least("n", n, 1, integer=True)
        return self._sample(int(n), np.random.default_rng(seed))

    # -- to be provided -----------------------------------------------------------------------------
    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def omega(self, p: np.ndarray) -> np.ndarray:
        """Time scale per problem (tau = omega t), shape ``(B,)``."""
        raise NotImplementedError

    def initial_state(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Physical x0, v0, each ``(B, N, D)``."""
        raise NotImplementedError

    def from_state(self, x: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The parameter vector of a problem starting at (x, v) (physical), keeping ``p``'s other parameters."""
        raise NotImplementedError

    def features(self, p: np.ndarray) -> np.ndarray:
        """Branch input: p scaled to about [-1, 1], shape ``(B, n_features)``."""
        raise NotImplementedError

    def amplitude(self, p: np.ndarray) -> np.ndarray:
        """Displacement scale per problem (normalises the residual and the output), ``(B,)``."""
        raise NotImplementedError

    def unit_state(self, p: np.ndarray) -> np.ndarray:
        """The initial displacement and velocity / omega divided by the amplitude (a unit-size state), ``(B, F)``."""
        raise NotImplementedError

    @cached_property
    def reference_amplitude(self) -> float:
        """Median amplitude of the family (256 problems, a fixed seed): the scale the amplitude feature is relative
        to, and the constant output scale of an operator without amplitude scaling."""
        return float(np.median(self.amplitude(self.sample(256, seed=10_000))))

    def scaled_features(self, p: np.ndarray) -> np.ndarray:
        """Branch input of an amplitude-scaled operator (``OperatorConfig.amplitude_scaling``): the unit-size
        state (:meth:`unit_state`) and, unless the family is :attr:`scale_invariant`, the amplitude relative
        to :attr:`reference_amplitude` (A / A_ref - 1), shape ``(B, F)`` or ``(B, F + 1)``."""
        unit = self.unit_state(p)
        if self.scale_invariant:
            return unit
        return np.concatenate([unit, (self.amplitude(p) / self.reference_amplitude - 1.0)[:, None]], 1)

    def potential(self, p: np.ndarray) -> Any:
        raise NotImplementedError

    def accel(self, x: Any, omega2: Any) -> Any:
        """d^2x/dtau^2 = F(x) / (m omega^2), torch ``x`` ``(B, T, N, D)``, ``omega2`` ``(B,)`` (core potential)."""
        _, f = self.potential(None).energy_and_forces(x)
        return f / omega2[:, None, None, None]

    def reference(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Reference positions ``(B, T, N, D)`` at physical times ``t`` ``(B, T)`` (uniform per row, from 0)."""
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


FAMILIES: Registry = Registry("operator family")
FAMILIES.register("harmonic", HarmonicFamily, aliases=("harmonic_oscillator", "sho"))
FAMILIES.register("morse", MorseFamily, aliases=("morse_diatomic",))
FAMILIES.register("lj3d", LJ3DFamily, aliases=("lj3", "lj_3d", "many_body", "lj_trimer_3d"))


def available_families() -> list[str]:
    """Names accepted by :func:`get_family`."""
    return FAMILIES.names()


def get_family(name: "str | OperatorFamily", **params: Any) -> OperatorFamily:
    """A family by name (``harmonic``, ``morse``, ``lj3d``); UnknownNameError lists the names."""
    if isinstance(name, OperatorFamily):
        return name
    return build(FAMILIES.get(name), **params)
