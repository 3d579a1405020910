"""Potentials against independent references: finite differences, autograd, and ASE's own calculators."""
from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.lj import LennardJones as AseLennardJones
from ase.calculators.morse import MorsePotential as AseMorse
from ase.md.verlet import VelocityVerlet as AseVelocityVerlet

from npsnn_edu.integrators import simulate
from npsnn_edu.potentials import (
    DoubleWell,
    Harmonic,
    LennardJones,
    Morse,
    PairPotential,
    available_potentials,
    get_potential,
)
from npsnn_edu.systems import fcc_lattice, lj_fcc_system
from npsnn_edu.units import ARGON


# ------------------------------------------------------------------------------------------------
# configurations (no pair closer than ~0.85 sigma, so central differences are well conditioned)
# ------------------------------------------------------------------------------------------------
def cluster(n_side: int = 3, spacing: float = 1.15, jitter: float = 0.12, seed: int = 0, dim: int = 3) -> np.ndarray:
    grid = np.stack(np.meshgrid(*[np.arange(n_side)] * dim, indexing="ij"), -1).reshape(-1, dim) * spacing
    return grid + jitter * np.random.default_rng(seed).uniform(-1, 1, grid.shape)


def periodic_liquidish(n_cells: int, seed: int = 1, jitter: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    pos, box = fcc_lattice(n_cells, 0.8442)
    pos = pos + jitter * np.random.default_rng(seed).uniform(-1, 1, pos.shape)
    return pos, box


def fd_forces(pot, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """-dE/dx by central differences, one coordinate at a time."""
    grad = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (float(pot.energy(xp)) - float(pot.energy(xm))) / (2 * h)
    return -grad


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max |b| (norm-wise relative error)."""
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300))


FD_CASES = {
    "harmonic-1d": (lambda: Harmonic(k=2.5, center=0.3), lambda: cluster(4, dim=1)),
    "harmonic-3d": (lambda: Harmonic(k=0.7), lambda: cluster(2)),
    "double-well-2d": (lambda: DoubleWell(barrier=1.3, x_min=0.8), lambda: cluster(3, dim=2) - 1.0),
    "lj-nocutoff": (lambda: LennardJones(cutoff=None, shift=False), lambda: cluster(3)),
    "lj-cutoff": (lambda: LennardJones(cutoff=2.5, shift=False), lambda: cluster(3)),
    "lj-cutoff-shift": (lambda: LennardJones(sigma=1.1, epsilon=0.8, cutoff=2.2, shift=True), lambda: cluster(3)),
    "lj-box-108": (lambda: LennardJones(cutoff=2.5, box=periodic_liquidish(3)[1]), lambda: periodic_liquidish(3)[0]),
    "lj-box-nlist-256": (lambda: LennardJones(cutoff=2.5, box=periodic_liquidish(4)[1]),
                         lambda: periodic_liquidish(4)[0]),
    "lj-2d": (lambda: LennardJones(cutoff=2.5), lambda: cluster(4, dim=2)),
    "morse": (lambda: Morse(D_e=1.2, a=1.7, r_e=1.1), lambda: cluster(3)),
    "morse-cutoff-shift-box": (lambda: Morse(D_e=1.0, a=2.0, r_e=1.12, cutoff=2.5, shift=True,
                                             box=periodic_liquidish(3)[1]), lambda: periodic_liquidish(3)[0]),
}


@pytest.mark.parametrize("case", sorted(FD_CASES))
def test_forces_are_minus_gradient_by_finite_differences(case: str) -> None:
    make_pot, make_x = FD_CASES[case]
    pot, x = make_pot(), make_x()
    energy, forces = pot.energy_and_forces(x)
    assert np.ndim(energy) == 0 and forces.shape == x.shape
    assert np.max(np.abs(forces)) > 1e-3  # a non-trivial configuration
    assert rel_err(fd_forces(pot, x), forces) < 1e-6


def _assert_same_dynamics_across_list_rebuilds(pot_a, pot_b, system) -> None:
    """150 MD steps with each potential from the same start: the list is rebuilt on the way (a particle moves
    further than skin/2) and both runs follow the same trajectory, potential and total energy."""
    kw = dict(dt=0.005, n_steps=150, masses=system.masses)
    a = simulate(pot_a, system.positions, system.velocities, **kw)
    b = simulate(pot_b, system.positions, system.velocities, **kw)
    assert np.max(np.abs(a.positions[-1] - a.positions[0])) > 0.15  # > skin/2: the list was rebuilt
    np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.potential_energy, b.potential_energy, rtol=1e-11)
    np.testing.assert_allclose(a.total_energy, b.total_energy, rtol=1e-11)


def test_neighbour_list_path_is_used_and_matches_all_pairs_over_a_run() -> None:
    """The Verlet-list path (N >= 64, cutoff + skin <= box/2) gives the same dynamics as plain all pairs,
    including across list rebuilds (particles move more than skin/2 during the run)."""
    system = lj_fcc_system(n_cells=4, temperature=1.5, seed=3)
    pot_list = LennardJones(cutoff=2.5, box=system.box, skin=0.3)
    pot_all = LennardJones(cutoff=2.5, box=system.box, skin=0.3)
    pot_all.neighbour_list_min_particles = 10**9
    assert pot_list._uses_neighbour_list(system.positions) and not pot_all._uses_neighbour_list(system.positions)
    _assert_same_dynamics_across_list_rebuilds(pot_list, pot_all, system)


def test_batched_positions_equal_one_by_one() -> None:
    pot = LennardJones(cutoff=2.5, box=periodic_liquidish(3)[1])
    xs = np.stack([periodic_liquidish(3, seed=s)[0] for s in range(3)])
    e, f = pot.energy_and_forces(xs)
    assert e.shape == (3,) and f.shape == xs.shape
    for b in range(3):
        eb, fb = pot.energy_and_forces(xs[b])
        assert e[b] == pytest.approx(eb, rel=1e-14)
        np.testing.assert_allclose(f[b], fb, rtol=0, atol=1e-12)


def test_minimum_image_ignores_whole_box_translations() -> None:
    pos, box = periodic_liquidish(3)
    pot = LennardJones(cutoff=2.5, box=box)
    shifts = np.random.default_rng(0).integers(-3, 4, pos.shape) * box
    e0, f0 = pot.energy_and_forces(pos)
    e1, f1 = pot.energy_and_forces(pos + shifts)
    assert e1 == pytest.approx(e0, rel=1e-12)
    np.testing.assert_allclose(f1, f0, atol=1e-10)


# ------------------------------------------------------------------------------------------------
# torch path
# ------------------------------------------------------------------------------------------------
TORCH_CASES = ["harmonic-1d", "double-well-2d", "lj-nocutoff", "lj-cutoff-shift", "lj-box-108", "lj-box-nlist-256",
               "morse", "morse-cutoff-shift-box"]


@pytest.mark.parametrize("case", TORCH_CASES)
def test_torch_path_equals_numpy_and_autograd_equals_analytic_forces(case: str) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    make_pot, make_x = FD_CASES[case]
    pot, x = make_pot(), make_x()
    e_np, f_np = pot.energy_and_forces(x)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    e_t, f_t = pot.energy_and_forces(xt)
    assert isinstance(e_t, torch.Tensor) and e_t.dtype == torch.float64
    assert float(e_t.detach()) == pytest.approx(float(e_np), rel=1e-12, abs=1e-12)
    assert rel_err(f_t.detach().numpy(), f_np) < 1e-12
    (grad,) = torch.autograd.grad(e_t, xt)
    assert rel_err(-grad.numpy(), f_np) < 1e-10
    # batched tensors: one energy per configuration
    xb = torch.stack([xt.detach(), xt.detach() * 1.01])
    eb, fb = pot.energy_and_forces(xb)
    assert eb.shape == (2,) and fb.shape == xb.shape
    assert float(eb[1]) == pytest.approx(float(pot.energy(x * 1.01)), rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------------------------------------
# ASE as the independent reference
# ------------------------------------------------------------------------------------------------
def ase_lj(sigma: float, epsilon: float, rc: float) -> AseLennardJones:
    # ASE 3.29: smooth=False (default) shifts every pair inside rc by -u(rc): our shift=True
    return AseLennardJones(sigma=sigma, epsilon=epsilon, rc=rc, smooth=False)


@pytest.mark.parametrize("n_side,seed", [(3, 0), (4, 1), (5, 2)])  # 27, 64 and 125 atoms (125 uses the list)
def test_lennard_jones_equals_ase_on_random_clusters(n_side: int, seed: int) -> None:
    sigma, epsilon, rc = 1.3, 0.7, 2.5 * 1.3
    x = cluster(n_side, spacing=1.15 * sigma, jitter=0.12 * sigma, seed=seed)
    pot = LennardJones(sigma=sigma, epsilon=epsilon, cutoff=rc, shift=True)
    atoms = Atoms(f"Ar{len(x)}", positions=x)
    atoms.calc = ase_lj(sigma, epsilon, rc)
    e, f = pot.energy_and_forces(x)
    assert e == pytest.approx(atoms.get_potential_energy(), rel=1e-10)
    assert rel_err(f, atoms.get_forces()) < 1e-10


@pytest.mark.parametrize("n_cells", [3, 4])  # 108 atoms (all pairs) and 256 atoms (neighbour list)
def test_lennard_jones_equals_ase_on_periodic_fcc_in_ase_units(n_cells: int) -> None:
    pos, box = periodic_liquidish(n_cells, seed=n_cells)
    pos_a, box_a = ARGON.to_ase_positions(pos), box * ARGON.length
    rc = 2.5 * ARGON.length
    pot = LennardJones(sigma=ARGON.length, epsilon=ARGON.energy, cutoff=rc, shift=True, box=box_a, skin=1.0)
    assert pot._uses_neighbour_list(pos_a) == (n_cells == 4)
    atoms = Atoms(f"Ar{len(pos)}", positions=pos_a, cell=box_a, pbc=True)
    atoms.calc = ase_lj(ARGON.length, ARGON.energy, rc)
    e, f = pot.energy_and_forces(pos_a)
    assert e == pytest.approx(atoms.get_potential_energy(), rel=1e-10)
    assert rel_err(f, atoms.get_forces()) < 1e-10
    # the perfect lattice too (all forces vanish by symmetry: compare absolute)
    lattice = lj_fcc_system(n_cells)
    atoms.set_positions(ARGON.to_ase_positions(lattice.positions))
    e_lat = pot.energy(ARGON.to_ase_positions(lattice.positions))
    assert e_lat == pytest.approx(atoms.get_potential_energy(), rel=1e-10)


def test_reduced_units_potential_equals_ase_argon() -> None:
    """Reduced LJ energies times epsilon are ASE's eV for argon (the one conversion in units.py)."""
    pos, box = periodic_liquidish(3)
    atoms = Atoms("Ar108", positions=ARGON.to_ase_positions(pos), cell=box * ARGON.length, pbc=True)
    atoms.calc = ase_lj(ARGON.length, ARGON.energy, 2.5 * ARGON.length)
    e, f = LennardJones(cutoff=2.5, box=box).energy_and_forces(pos)
    assert e * ARGON.energy == pytest.approx(atoms.get_potential_energy(), rel=1e-10)
    assert rel_err(f * ARGON.force, atoms.get_forces()) < 1e-10


def test_morse_equals_ase_morse_potential() -> None:
    D_e, a, r_e = 0.35, 1.6, 2.2
    x = cluster(3, spacing=1.05 * r_e, jitter=0.1 * r_e, seed=4)
    pot = Morse(D_e=D_e, a=a, r_e=r_e)
    atoms = Atoms("Cu27", positions=x)
    # rho0 = a r_e; push ASE's smooth cutoff beyond every pair distance (ours has no cutoff here)
    atoms.calc = AseMorse(epsilon=D_e, r0=r_e, rho0=a * r_e, rcut1=50.0, rcut2=60.0)
    e, f = pot.energy_and_forces(x)
    assert e == pytest.approx(atoms.get_potential_energy(), rel=1e-10)
    assert rel_err(f, atoms.get_forces()) < 1e-10


def test_potential_calculator_driven_by_ase_velocity_verlet() -> None:
    """Our reduced-unit LJ as an ASE calculator, integrated by ASE's VelocityVerlet in ASE units, follows
    the same path as our own simulate() in reduced units."""
    system = lj_fcc_system(3, temperature=1.0, seed=5)
    n_steps, dt = 40, 0.005
    ours = system.run(dt=dt, n_steps=n_steps)
    atoms = system.as_atoms()
    atoms.calc = system.potential.as_ase_calculator(lj_units=ARGON)
    np.testing.assert_allclose(atoms.get_velocities(), ARGON.to_ase_velocities(system.velocities), rtol=1e-12)
    e_ase = [atoms.get_potential_energy() + atoms.get_kinetic_energy()]
    dyn = AseVelocityVerlet(atoms, timestep=dt * ARGON.time)
    for _ in range(n_steps):
        dyn.run(1)
        e_ase.append(atoms.get_potential_energy() + atoms.get_kinetic_energy())
    np.testing.assert_allclose(atoms.get_positions() / ARGON.length, ours.positions[-1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.array(e_ase) / ARGON.energy, ours.total_energy, rtol=1e-10)


def test_lennard_jones_shape_and_constants() -> None:
    lj = LennardJones(sigma=1.2, epsilon=0.9, cutoff=None, shift=False)
    assert lj.pair_energy(lj.r_min) == pytest.approx(-0.9, rel=1e-14)
    assert lj.pair_energy(1.2) == pytest.approx(0.0, abs=1e-14)
    assert lj.pair_force(lj.r_min) == pytest.approx(0.0, abs=1e-12)
    h = 1e-4
    second = (lj.pair_energy(lj.r_min + h) - 2 * lj.pair_energy(lj.r_min) + lj.pair_energy(lj.r_min - h)) / h**2
    assert second == pytest.approx(lj.curvature_at_minimum, rel=1e-6)
    m = Morse(D_e=0.8, a=1.3, r_e=1.5)
    assert m.pair_energy(1.5) == pytest.approx(-0.8, rel=1e-14)
    assert m.pair_energy(1e3) == pytest.approx(0.0, abs=1e-12)
    second = (m.pair_energy(1.5 + h) - 2 * m.pair_energy(1.5) + m.pair_energy(1.5 - h)) / h**2
    assert second == pytest.approx(m.curvature_at_minimum, rel=1e-6)


def test_shifted_energy_is_continuous_at_the_cutoff_and_zero_beyond() -> None:
    lj = LennardJones(cutoff=2.5, shift=True)
    just_in = np.array([[0, 0, 0], [2.5 - 1e-9, 0, 0]])
    just_out = np.array([[0, 0, 0], [2.5 + 1e-9, 0, 0]])
    assert abs(lj.energy(just_in)) < 1e-9 and lj.energy(just_out) == 0.0
    assert np.all(lj.forces(just_out) == 0.0)
    unshifted = LennardJones(cutoff=2.5, shift=False)
    assert unshifted.energy(just_in) == pytest.approx(lj.pair_energy(2.5), rel=1e-6)


def test_registry_builds_every_potential() -> None:
    assert set(available_potentials()) == {"harmonic", "double-well", "lennard-jones", "morse"}
    assert isinstance(get_potential("LJ", cutoff=3.0), LennardJones)
    assert isinstance(get_potential("morse", D_e=2.0), PairPotential)
    assert get_potential("double_well", barrier=2.0).barrier == 2.0


# ------------------------------------------------------------------------------------------------
# the compiled (numba) Lennard-Jones path against the NumPy path
# ------------------------------------------------------------------------------------------------
def _both_backends(**kw):
    return LennardJones(backend="numba", **kw), LennardJones(backend="numpy", **kw)


@pytest.mark.parametrize("case", ["periodic_all_pairs", "periodic_neighbour_list", "cluster_cutoff",
                                  "cluster_no_cutoff", "two_dimensional", "neighbour_list_no_box"])
def test_compiled_lennard_jones_equals_numpy_path(case: str, monkeypatch) -> None:
    """Same pairs, images, cutoff and shift: energies and forces agree to round-off on every path the
    compiled code takes (minimum image, list shifts fixed at the build, no box, D != 3), and each case runs
    the loop it is meant to test."""
    from npsnn_edu import _compiled

    called: list[str] = []

    def spy_on(name: str):
        loop = getattr(_compiled, name)

        def spy(*args):
            called.append(name)
            return loop(*args)

        return spy

    for name in ("lj_all_pairs_3d", "lj_pairs_3d", "lj_pairs"):
        monkeypatch.setattr(_compiled, name, spy_on(name))
    expected = {"periodic_all_pairs": "lj_all_pairs_3d", "periodic_neighbour_list": "lj_pairs_3d",
                "cluster_cutoff": "lj_all_pairs_3d", "cluster_no_cutoff": "lj_all_pairs_3d",
                "two_dimensional": "lj_pairs", "neighbour_list_no_box": "lj_pairs_3d"}[case]
    rng = np.random.default_rng(4)
    if case.startswith("periodic"):
        system = lj_fcc_system(n_cells=3 if case == "periodic_all_pairs" else 4, temperature=1.0, seed=2)
        x = system.positions + 0.05 * rng.standard_normal(system.positions.shape)
        fast, slow = _both_backends(cutoff=2.5, box=system.box)
        assert fast._uses_neighbour_list(x) == (case == "periodic_neighbour_list")
    elif case == "two_dimensional":
        x = cluster(n_side=6, dim=2, seed=1)
        fast, slow = _both_backends(cutoff=2.5, box=np.array([6 * 1.15, 6 * 1.15]))
    elif case == "neighbour_list_no_box":
        x = cluster(n_side=5, seed=3)  # 125 atoms, a cutoff and no box: a Verlet list without images
        fast, slow = _both_backends(cutoff=2.0)
        assert fast._uses_neighbour_list(x)
    else:
        x = cluster(n_side=3, seed=5)
        fast, slow = _both_backends(cutoff=2.0 if case == "cluster_cutoff" else None, shift=case == "cluster_cutoff")
    e_fast, f_fast = fast.energy_and_forces_unchecked(x)
    e_slow, f_slow = slow.energy_and_forces_unchecked(x)
    assert fast._compiled and not slow._compiled
    assert called == [expected]
    assert e_fast == pytest.approx(e_slow, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(f_fast, f_slow, rtol=0, atol=1e-11 * np.abs(f_slow).max())


def test_compiled_verlet_list_equals_scipy_list_and_dynamics_across_rebuilds() -> None:
    """The compiled list builder finds the same pairs (sorted by i, then j) and image shifts as cKDTree, and a
    run across list rebuilds follows the NumPy path's trajectory."""
    system = lj_fcc_system(n_cells=4, temperature=1.5, seed=3)
    fast, slow = _both_backends(cutoff=2.5, box=system.box, skin=0.3)
    x = system.positions + 0.1 * np.random.default_rng(0).standard_normal(system.positions.shape)
    i_fast, j_fast = fast._neighbour_pairs(x)
    i_slow, j_slow = slow._neighbour_pairs(x)
    np.testing.assert_array_equal(i_fast, i_slow)
    np.testing.assert_array_equal(j_fast, j_slow)
    np.testing.assert_array_equal(fast._nlist_shifts, slow._nlist_shifts)
    _assert_same_dynamics_across_list_rebuilds(fast, slow, system)


def test_compiled_backend_choices_and_fallbacks(monkeypatch) -> None:
    from npsnn_edu import _compiled
    from npsnn_edu.errors import InvalidParameterError, InvalidStateError, UnknownNameError

    with pytest.raises(UnknownNameError, match="numpy"):
        LennardJones(backend="fortran")
    x = cluster(n_side=2, seed=0)
    assert LennardJones().backend == "auto" and LennardJones()._compiled == _compiled.AVAILABLE
    # float32 positions take the NumPy path (the compiled loop is float64 only): same energy to float32 precision
    e32, _ = LennardJones(backend="numba").energy_and_forces_unchecked(x.astype(np.float32))
    assert e32 == pytest.approx(LennardJones(backend="numpy").energy_and_forces_unchecked(x)[0], rel=1e-5)
    # r = 0 is still a clear error naming the particles
    bad = x.copy()
    bad[3] = bad[1]
    with pytest.raises(InvalidStateError, match="particles 1 and 3"):
        LennardJones(backend="numba").energy_and_forces(bad)
    # numba imports but the compiled call fails on this machine: a warning, then the NumPy path (same numbers)
    broken = LennardJones(backend="numba")

    def failing_kernel(*args):
        raise RuntimeError("no LLVM target")

    monkeypatch.setattr(_compiled, "lj_all_pairs_3d", failing_kernel)  # the loop of a small 3D cluster
    with pytest.warns(RuntimeWarning, match="using the NumPy path"):
        e_broken, _ = broken.energy_and_forces_unchecked(x)
    assert e_broken == pytest.approx(LennardJones(backend="numpy").energy_and_forces_unchecked(x)[0], rel=1e-12)
    assert not broken._compiled
    monkeypatch.setattr(_compiled, "AVAILABLE", False)
    with pytest.raises(InvalidParameterError, match="backend='auto' or 'numpy'"):
        LennardJones(backend="numba")
    assert not LennardJones()._compiled  # auto falls back to NumPy without numba


def test_pair_potentials_choose_a_backend_and_still_pickle_and_copy() -> None:
    """The backend belongs to every pair potential (the compiled Verlet-list builder serves Morse too, with the
    same list as cKDTree), and a potential with compiled loops still pickles and deep-copies."""
    import copy
    import pickle

    from npsnn_edu.errors import UnknownNameError

    system = lj_fcc_system(n_cells=4, temperature=1.0, seed=1)
    fast = Morse(D_e=1.0, a=3.0, r_e=1.12, cutoff=2.5, box=system.box, backend="numba")
    slow = Morse(D_e=1.0, a=3.0, r_e=1.12, cutoff=2.5, box=system.box, backend="numpy")
    x = system.positions
    assert fast._compiled and not slow._compiled and fast._uses_neighbour_list(x)
    for got, want in zip(fast._neighbour_pairs(x), slow._neighbour_pairs(x)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(fast._nlist_shifts, slow._nlist_shifts)
    assert fast.energy(x) == pytest.approx(slow.energy(x), rel=1e-12)
    with pytest.raises(UnknownNameError, match="numpy"):
        Morse(backend="fortran")
    lj = LennardJones(cutoff=2.5, box=system.box)
    e = lj.energy(x)
    for clone in (pickle.loads(pickle.dumps(lj)), copy.deepcopy(lj), copy.deepcopy(fast)):
        assert clone._compiled
    assert pickle.loads(pickle.dumps(lj)).energy(x) == e
