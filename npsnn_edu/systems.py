"""Ready-made systems for the chapters: initial conditions plus the potential that drives them.

All in reduced LJ units (sigma = epsilon = m = k_B = 1) unless stated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .analytic import morse_period
from .config import rng as make_rng
from .errors import InvalidParameterError
from .integrators import simulate
from .potentials import DoubleWell, Harmonic, LennardJones, Morse, Potential
from .registry import Registry, build
from .trajectory import Trajectory
from .units import ARGON, LJUnits
from .validation import at_least, positive


@dataclass
class System:
    """A potential with initial positions/velocities ``(N, D)`` and masses ``(N,)``.

    Parameters
    ----------
    name : str
        Label of the system.
    potential : Potential
        Its energy model.
    positions : array of shape (n_atoms, n_dim)
        Initial positions (reduced LJ units: sigma).
    velocities : array of shape (n_atoms, n_dim)
        Initial velocities (sigma/tau).
    masses : array of shape (n_atoms,)
        Particle masses (reduced: m).
    lj_units : LJUnits or None, default None
        How the reduced units convert to ASE units (None: not a physical system).
    symbols : list of str or None, default None
        Chemical symbols of the particles (for ASE export).
    info : dict, default {}
        Free-form labels (e.g. the state point).
    """

    name: str
    potential: Potential
    positions: np.ndarray
    velocities: np.ndarray
    masses: np.ndarray
    lj_units: LJUnits | None = None
    symbols: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def box(self) -> np.ndarray | None:
        """The periodic box lengths of the potential, shape (n_dim,), or None when not periodic."""
        return getattr(self.potential, "box", None)

    def run(self, *, dt: float, n_steps: int, integrator: str = "velocity_verlet", **kwargs: Any) -> Trajectory:
        """Simulate from the initial state (see :func:`npsnn_edu.integrators.simulate`).

        Parameters
        ----------
        dt : float
            Time step (reduced: tau).
        n_steps : int
            Number of steps.
        integrator : str, default "velocity_verlet"
            A name from :func:`~npsnn_edu.integrators.available_integrators`.
        **kwargs
            Further arguments of :func:`~npsnn_edu.integrators.simulate` (``record_every``, ``temperature``...).

        Returns
        -------
        Trajectory
        """
        metadata = {"lj_units": self.lj_units, "symbols": self.symbols, **(kwargs.pop("metadata", None) or {})}
        return simulate(self.potential, self.positions, self.velocities, dt=dt, n_steps=n_steps,
                        integrator=integrator, masses=self.masses, metadata=metadata, **kwargs)

    def initial_frame(self) -> Trajectory:
        """The initial state as a one-frame Trajectory (same labels as a run of this system)."""
        ke = 0.5 * float(np.sum(self.masses[:, None] * self.velocities**2))
        return Trajectory(times=np.zeros(1), positions=self.positions[None], velocities=self.velocities[None],
                          potential_energy=np.array([float(self.potential.energy(self.positions))]),
                          kinetic_energy=np.array([ke]),
                          masses=self.masses, dt=1.0, box=self.box, lj_units=self.lj_units, symbols=self.symbols)

    def as_atoms(self) -> Any:
        """Initial state as an ``ase.Atoms`` in ASE units (reduced systems use ``lj_units``, default argon)."""
        return self.initial_frame().to_atoms()[0]


def fcc_lattice(n_cells: int | tuple[int, int, int] = 3, density: float = 0.8442) -> tuple[np.ndarray, np.ndarray]:
    """Positions of an FCC crystal (4 atoms per cubic cell) and the periodic box lengths.

    ``density`` is the number density in 1/sigma^3 (0.8442 is the classic LJ liquid state point).
    3 x 3 x 3 cells give 108 atoms, 6 x 6 x 6 give 864.

    Parameters
    ----------
    n_cells : int or tuple of 3 ints, default 3
        Cubic cells along x, y, z.
    density : float, default 0.8442
        Number density (1/sigma^3).

    Returns
    -------
    positions : array of shape (4 * n_cells**3, 3)
        Positions (sigma).
    box : array of shape (3,)
        Periodic box lengths (sigma).
    """
    cells_in: tuple[Any, ...] = (n_cells,) * 3 if np.isscalar(n_cells) else tuple(n_cells)  # type: ignore[arg-type]
    if len(cells_in) != 3:
        raise InvalidParameterError(f"n_cells must be a positive int or three of them, got {n_cells!r}")
    cells = tuple(positive("n_cells", c, integer=True, hint="a positive int or three of them") for c in cells_in)
    density = positive("density", density, hint="number density in 1/sigma^3, e.g. 0.8442")
    a = (4.0 / density) ** (1.0 / 3.0)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) + 0.25
    grid = np.stack(np.meshgrid(*[np.arange(int(c)) for c in cells], indexing="ij"), -1).reshape(-1, 3)
    positions = (grid[:, None, :] + basis[None, :, :]).reshape(-1, 3) * a
    return positions, np.array(cells, dtype=float) * a


def maxwell_boltzmann_velocities(masses: Any, dim: int, temperature: float, *, kB: float = 1.0,
                                 seed: "int | np.random.Generator | None" = 0, remove_drift: bool = True,
                                 exact_temperature: bool = True) -> np.ndarray:
    """Random velocities ``(N, D)`` from the Maxwell-Boltzmann distribution at ``temperature``.

    ``remove_drift`` sets the total momentum to zero; ``exact_temperature`` rescales so that the kinetic
    temperature 2 KE / (D N k_B) equals ``temperature`` exactly.

    Parameters
    ----------
    masses : float or array of shape (n_atoms,)
        Particle masses.
    dim : int
        Number of dimensions D.
    temperature : float
        Temperature (reduced, k_B T / epsilon; K with kB in eV/K).
    kB : float, default 1.0
        Boltzmann constant of the units.
    seed : int, numpy.random.Generator or None, default 0
        Random seed or generator.
    remove_drift : bool, default True
        Set the total momentum to zero.
    exact_temperature : bool, default True
        Rescale to exactly ``temperature``.

    Returns
    -------
    array of shape (n_atoms, dim)
        Velocities (reduced: sigma/tau).
    """
    temperature = at_least("temperature", temperature, 0.0)
    m = np.atleast_1d(np.asarray(masses, dtype=float))
    gen = make_rng(seed)
    v = gen.standard_normal((m.shape[0], dim)) * np.sqrt(kB * temperature / m)[:, None]
    if remove_drift and m.shape[0] > 1:
        v -= (m[:, None] * v).sum(0) / m.sum()
    if exact_temperature and temperature > 0:
        ke = 0.5 * np.sum(m[:, None] * v * v)
        v *= np.sqrt(0.5 * dim * m.shape[0] * kB * temperature / ke)
    return v


def harmonic_oscillator(k: float = 1.0, mass: float = 1.0, x0: float = 1.0, v0: float = 0.0) -> System:
    """One particle in 1D in a harmonic trap: omega = sqrt(k/m), period 2 pi / omega.

    Parameters
    ----------
    k : float, default 1.0
        Spring constant (epsilon/sigma^2).
    mass : float, default 1.0
        Mass.
    x0 : float, default 1.0
        Initial position (sigma).
    v0 : float, default 0.0
        Initial velocity (sigma/tau).

    Returns
    -------
    System
        One particle, positions of shape (1, 1).
    """
    return System("harmonic", Harmonic(k=k), np.array([[float(x0)]]), np.array([[float(v0)]]), np.array([float(mass)]))


def double_well_particle(barrier: float = 1.0, x_min: float = 1.0, x0: float = 1.0, v0: float = 0.5,
                         mass: float = 1.0) -> System:
    """One particle in 1D in the quartic double well.

    Parameters
    ----------
    barrier : float, default 1.0
        Barrier height (epsilon).
    x_min : float, default 1.0
        Position of the minima +-x_min (sigma).
    x0 : float, default 1.0
        Initial position.
    v0 : float, default 0.5
        Initial velocity.
    mass : float, default 1.0
        Mass.

    Returns
    -------
    System
        One particle, positions of shape (1, 1).
    """
    return System("double-well", DoubleWell(barrier, x_min), np.array([[float(x0)]]), np.array([[float(v0)]]),
                  np.array([float(mass)]))


def morse_diatomic(D_e: float = 1.0, a: float = 1.0, r_e: float = 1.0, stretch: float = 0.3, mass: float = 1.0,
                   dim: int = 1) -> System:
    """Two atoms on the x axis at distance r_e + stretch, at rest (reduced mass mass/2).

    ``dim`` = 1, 2 or 3 dimensions. Total energy (zero at dissociation) is u(r_e + stretch).

    Parameters
    ----------
    D_e : float, default 1.0
        Well depth (epsilon).
    a : float, default 1.0
        Inverse width (1/sigma).
    r_e : float, default 1.0
        Equilibrium distance (sigma).
    stretch : float, default 0.3
        Initial bond stretch r - r_e (sigma).
    mass : float, default 1.0
        Mass of each atom.
    dim : int, default 1
        Spatial dimensions (1, 2 or 3).

    Returns
    -------
    System
        Two atoms, positions of shape (2, dim).
    """
    if dim not in (1, 2, 3):
        raise InvalidParameterError(f"dim must be 1, 2 or 3, got {dim}")
    pos = np.zeros((2, dim))
    r0 = r_e + stretch
    if r0 <= 0:
        raise InvalidParameterError(f"r_e + stretch must be positive, got {r0}")
    pos[0, 0], pos[1, 0] = -0.5 * r0, 0.5 * r0
    return System("morse", Morse(D_e=D_e, a=a, r_e=r_e), pos, np.zeros_like(pos), np.full(2, float(mass)))


def lj_fcc_system(n_cells: int = 3, density: float = 0.8442, temperature: float = 1.0, cutoff: float = 2.5,
                  seed: int = 0, lj_units: LJUnits = ARGON) -> System:
    """Lennard-Jones FCC crystal in a periodic box with Maxwell-Boltzmann velocities (reduced units).

    The defaults (108 atoms, density 0.8442, T = 1.0 ~ 120 K for argon, cutoff 2.5 with shifted energy)
    melt into the classic LJ liquid within a few tau.

    Parameters
    ----------
    n_cells : int, default 3
        FCC cells per side (4 n_cells^3 atoms).
    density : float, default 0.8442
        Number density (1/sigma^3).
    temperature : float, default 1.0
        Initial reduced temperature k_B T / epsilon.
    cutoff : float, default 2.5
        LJ cutoff (sigma), energy shifted.
    seed : int, default 0
        Seed of the initial velocities.
    lj_units : LJUnits, default ARGON
        Conversion to ASE units.

    Returns
    -------
    System
        Positions of shape (4 n_cells^3, 3) in a periodic box.
    """
    positions, box = fcc_lattice(n_cells, density)
    masses = np.ones(len(positions))
    velocities = maxwell_boltzmann_velocities(masses, 3, temperature, seed=seed)
    pot = LennardJones(cutoff=cutoff, shift=True, box=box)
    return System("lennard-jones", pot, positions, velocities, masses, lj_units=lj_units,
                  symbols=["Ar"] * len(positions), info={"density": density, "temperature": temperature})


def morse_at_energy(fraction: float = 0.9, *, D_e: float = 1.0, a: float = 1.0, r_e: float = 1.0,
                    mass: float = 1.0) -> System:
    """A 1D Morse diatomic at rest at its inner turning point, with energy E = -(1 - fraction) D_e.

    ``fraction`` of the well depth is vibrational energy (0.9: 90 % of the way to dissociation).  Starting
    on the repulsive wall puts the stiffest part of the motion in the very first step.  The inner turning
    point solves D_e (y^2 - 2y) = E with y = exp(-a (r - r_e)): y = 1 + sqrt(fraction).

    Parameters
    ----------
    fraction : float, default 0.9
        Fraction of the well depth given as vibrational energy, in (0, 1).
    D_e : float, default 1.0
        Well depth (reduced: epsilon).
    a : float, default 1.0
        Inverse width (1/sigma).
    r_e : float, default 1.0
        Equilibrium distance (sigma).
    mass : float, default 1.0
        Mass of each atom (reduced mass mass/2).

    Returns
    -------
    System
        Two atoms in 1D, positions of shape (2, 1).
    """
    if not (0.0 < fraction < 1.0):
        raise InvalidParameterError(f"fraction must be between 0 and 1 (bound orbit), got {fraction!r}")
    stretch = -np.log(1.0 + np.sqrt(fraction)) / a
    system = morse_diatomic(D_e=D_e, a=a, r_e=r_e, stretch=stretch, mass=mass, dim=1)
    system.info.update({"energy": -(1.0 - fraction) * D_e, "fraction": fraction, "reduced_mass": mass / 2.0,
                        "period": morse_period(-(1.0 - fraction) * D_e, D_e, a, mass / 2.0)})
    return system


#: Name table of the ready-made systems (canonical name -> builder), with aliases.
SYSTEMS: Registry[Callable[..., System]] = Registry("system")
SYSTEMS.register("harmonic", harmonic_oscillator)
SYSTEMS.register("morse", morse_diatomic)
SYSTEMS.register("lennard-jones", lj_fcc_system, aliases=("lj",))
SYSTEMS.register("double-well", double_well_particle, aliases=("doublewell",))


def available_systems() -> list[str]:
    """Names accepted by :func:`get_system` (spelled as the systems' own ``name``)."""
    return sorted(key.replace("_", "-") for key in SYSTEMS)


def get_system(name: str, **params: Any) -> System:
    """Build a ready-made system by name: harmonic, morse, lennard-jones, double-well.

    Parameters
    ----------
    name : str
        ``"harmonic"``, ``"morse"``, ``"lennard-jones"`` or ``"double-well"``.
    **params
        Parameters of that system's builder (e.g. ``k``, ``x0`` for the harmonic oscillator).

    Returns
    -------
    System

    Raises
    ------
    UnknownNameError
        Unknown name.
    """
    return build(SYSTEMS.get(name), **params)
