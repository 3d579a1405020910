"""Trajectory persistence and ASE interop: file round trips, unit conversion, and ASE's own MD as reference."""
from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase import units as ase_units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones as AseLennardJones
from ase.md.verlet import VelocityVerlet as AseVelocityVerlet

from npsnn_edu.ase_interop import (
    AseCalculatorPotential,
    PotentialCalculator,
    atoms_to_trajectory,
    simulate_atoms,
    trajectory_to_atoms,
)
from npsnn_edu.errors import InvalidParameterError, ShapeMismatchError
from npsnn_edu.potentials import Harmonic
from npsnn_edu.systems import harmonic_oscillator, lj_fcc_system, maxwell_boltzmann_velocities, morse_diatomic
from npsnn_edu.trajectory import Trajectory
from npsnn_edu.units import ARGON, KB_EV_PER_K


@pytest.fixture(scope="module")
def lj_traj() -> Trajectory:
    return lj_fcc_system(3, temperature=1.0, seed=0).run(dt=0.005, n_steps=20, record_every=5)


def assert_same_trajectory(a: Trajectory, b: Trajectory, rtol: float = 0.0, atol: float = 0.0) -> None:
    for name in ("times", "positions", "velocities", "potential_energy", "kinetic_energy", "masses"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=atol, err_msg=name)


def test_npz_round_trip_is_lossless(tmp_path, lj_traj: Trajectory) -> None:
    lj_traj.info["note"] = "melting"
    path = lj_traj.save_npz(tmp_path / "run.npz")
    back = Trajectory.load_npz(path)
    assert_same_trajectory(lj_traj, back)
    np.testing.assert_array_equal(back.box, lj_traj.box)
    assert (back.dt, back.integrator, back.units, back.kB) == (lj_traj.dt, "velocity_verlet", "reduced", 1.0)
    assert back.lj_units == ARGON and back.symbols == lj_traj.symbols and back.info["note"] == "melting"
    again = Trajectory.read(lj_traj.write(tmp_path / "again.npz"))
    assert_same_trajectory(lj_traj, again)


def test_npz_round_trip_without_box_and_in_1d(tmp_path) -> None:
    traj = harmonic_oscillator().run(dt=0.1, n_steps=10)
    traj.info.update(omega=np.float64(1.0), samples=np.arange(3))  # NumPy values in info are stored as JSON
    back = Trajectory.read(traj.write(tmp_path / "h.npz"))
    assert back.box is None and back.lj_units is None and back.dim == 1
    assert back.info == {"omega": 1.0, "samples": [0, 1, 2]}
    assert_same_trajectory(traj, back)


# .traj is binary (lossless); extxyz is text with 8 decimals (positions to 1e-8 A, momenta to 1e-8 amu A/t)
FILE_TOLERANCE = {".traj": dict(rtol=1e-12, atol=0.0), ".extxyz": dict(rtol=1e-6, atol=1e-7)}


@pytest.mark.parametrize("suffix", [".traj", ".extxyz"])
def test_ase_file_round_trip_with_reduced_unit_conversion(tmp_path, lj_traj: Trajectory, suffix: str) -> None:
    tol = FILE_TOLERANCE[suffix]
    path = lj_traj.write(tmp_path / f"run{suffix}")
    images = ase.io.read(str(path), index=":")
    assert len(images) == lj_traj.n_frames
    # the file is in ASE units: Angstrom, eV, ASE velocities, argon masses
    np.testing.assert_allclose(images[-1].get_positions(), lj_traj.positions[-1] * ARGON.sigma_angstrom, **tol)
    np.testing.assert_allclose(images[-1].get_velocities(), lj_traj.velocities[-1] * ARGON.velocity, rtol=1e-5,
                               atol=1e-6)
    assert images[-1].get_potential_energy() == pytest.approx(lj_traj.potential_energy[-1] * 0.0103, rel=1e-9)
    np.testing.assert_allclose(images[0].get_masses(), 39.948)
    np.testing.assert_allclose(images[0].cell.lengths(), lj_traj.box * 3.405, **tol)
    assert images[0].get_chemical_symbols() == ["Ar"] * 108
    # back to reduced units
    back = Trajectory.read(path, lj_units=ARGON)
    assert back.units == "reduced" and back.kB == 1.0
    if suffix == ".traj":
        assert_same_trajectory(lj_traj, back, rtol=1e-12, atol=1e-14)
    else:
        assert_same_trajectory(lj_traj, back, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(back.box, lj_traj.box, **tol)
    # ... or kept in ASE units (times in ASE time units, temperature in Kelvin)
    ase_units_traj = Trajectory.read(path)
    assert ase_units_traj.units == "ase"
    np.testing.assert_allclose(ase_units_traj.times, lj_traj.times * ARGON.time, rtol=1e-12)
    np.testing.assert_allclose(ase_units_traj.temperature, lj_traj.temperature * ARGON.temperature_kelvin, rtol=1e-4)
    np.testing.assert_allclose(ase_units_traj.temperature, [a.get_temperature() for a in images], rtol=1e-9)


def test_low_dimensional_trajectory_is_padded_and_restored(tmp_path) -> None:
    traj = morse_diatomic(dim=2, stretch=0.3).run(dt=0.01, n_steps=30, record_every=10)
    images = trajectory_to_atoms(traj, symbols="H")
    assert images[0].positions.shape == (2, 3) and np.all(images[0].positions[:, 2] == 0.0)
    back = atoms_to_trajectory(images, lj_units=ARGON)
    assert back.dim == 2
    assert_same_trajectory(traj, back, rtol=1e-12, atol=1e-15)
    with pytest.raises(ShapeMismatchError):
        trajectory_to_atoms(traj, symbols=["H", "H", "H"])


def test_wrapped_positions_for_viewing(lj_traj: Trajectory) -> None:
    wrapped = lj_traj.wrapped_positions()
    assert np.all((wrapped >= 0) & (wrapped < lj_traj.box))
    d = (wrapped - lj_traj.positions) / lj_traj.box
    np.testing.assert_allclose(d, np.round(d), atol=1e-9)  # only whole-box shifts


def test_simulate_atoms_with_emt_matches_ase_velocity_verlet() -> None:
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.05, seed=1)
    atoms.set_velocities(maxwell_boltzmann_velocities(atoms.get_masses(), 3, 300.0, kB=KB_EV_PER_K, seed=0))
    ours = simulate_atoms(atoms.copy(), dt_fs=2.0, n_steps=25, calculator=EMT())
    ref = atoms.copy()
    ref.calc = EMT()
    positions, energies = [ref.get_positions()], [ref.get_total_energy()]
    dyn = AseVelocityVerlet(ref, timestep=2.0 * ase_units.fs)
    for _ in range(25):
        dyn.run(1)
        positions.append(ref.get_positions())
        energies.append(ref.get_total_energy())
    np.testing.assert_allclose(ours.positions, np.array(positions), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.total_energy, energies, rtol=1e-10)
    assert ours.units == "ase" and ours.symbols == ["Cu"] * 32
    np.testing.assert_allclose(ours.box, [7.2, 7.2, 7.2])
    np.testing.assert_allclose(ours.times[-1], 25 * 2.0 * ase_units.fs)
    assert ours.temperature[0] == pytest.approx(atoms.get_temperature(), rel=1e-12)


def test_simulate_atoms_with_ase_lennard_jones_matches_ase() -> None:
    system = lj_fcc_system(3, temperature=1.0, seed=9)
    atoms = system.as_atoms()
    atoms.calc = AseLennardJones(sigma=3.405, epsilon=0.0103, rc=2.5 * 3.405)
    dt_fs = 0.005 * ARGON.time_fs
    ours = simulate_atoms(atoms, dt_fs=dt_fs, n_steps=15)
    ref = atoms.copy()
    ref.calc = AseLennardJones(sigma=3.405, epsilon=0.0103, rc=2.5 * 3.405)
    AseVelocityVerlet(ref, timestep=dt_fs * ase_units.fs).run(15)
    np.testing.assert_allclose(ours.positions[-1], ref.get_positions(), rtol=0, atol=1e-10)
    # and the same physics as our own reduced-unit LJ
    reduced = system.run(dt=0.005, n_steps=15)
    np.testing.assert_allclose(ours.positions[-1] / ARGON.length, reduced.positions[-1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.temperature / ARGON.temperature_kelvin, reduced.temperature, rtol=1e-9)


def test_simulate_atoms_langevin_and_errors() -> None:
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = EMT()
    a = simulate_atoms(atoms, dt_fs=2.0, n_steps=10, integrator="langevin", temperature_K=500, seed=3)
    b = simulate_atoms(atoms, dt_fs=2.0, n_steps=10, integrator="langevin", temperature_K=500, seed=3)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.kinetic_energy[-1] > 0  # heated from rest
    with pytest.raises(InvalidParameterError, match="temperature_K"):
        simulate_atoms(atoms, dt_fs=2.0, n_steps=10, integrator="langevin")
    with pytest.raises(InvalidParameterError, match="dt_fs"):
        simulate_atoms(atoms, dt_fs=0.0, n_steps=10)
    bare = bulk("Cu")
    with pytest.raises(InvalidParameterError, match="calculator"):
        AseCalculatorPotential(bare)


def test_potential_calculator_in_low_dimensions_and_box_check() -> None:
    calc = PotentialCalculator(Harmonic(k=2.0), dim=1)
    atoms = bulk("Cu", cubic=True)[:1]
    atoms.positions[:] = [[0.5, 3.0, 4.0]]
    atoms.pbc = False
    atoms.calc = calc
    assert atoms.get_potential_energy() == pytest.approx(0.25)
    np.testing.assert_allclose(atoms.get_forces(), [[-1.0, 0.0, 0.0]])
    system = lj_fcc_system(3)
    wrong = system.as_atoms()
    wrong.set_cell(wrong.cell.lengths() * 1.1)
    wrong.calc = system.potential.as_ase_calculator(lj_units=ARGON)
    with pytest.raises(ShapeMismatchError, match="cell"):
        wrong.get_potential_energy()
    with pytest.raises(InvalidParameterError):
        PotentialCalculator(Harmonic(), dim=4)


def test_system_as_atoms_is_in_ase_units() -> None:
    system = lj_fcc_system(3, temperature=1.0)
    atoms = system.as_atoms()
    assert atoms.get_temperature() == pytest.approx(ARGON.temperature_kelvin, rel=1e-9)  # T* = 1 exactly
    assert atoms.get_volume() == pytest.approx(108 / 0.8442 * 3.405**3, rel=1e-12)


def test_select_keeps_every_field_including_new_ones(lj_traj) -> None:
    import dataclasses

    @dataclasses.dataclass
    class Tagged(Trajectory):
        tag: str = "none"

    lj_traj = lj_traj.select(slice(None))  # a copy: the fixture is shared
    lj_traj.info["note"] = "kept"
    tagged = Tagged(**{f.name: getattr(lj_traj, f.name) for f in dataclasses.fields(Trajectory)}, tag="liquid")
    sub = tagged.select([0, 2, -1])
    assert isinstance(sub, Tagged) and sub.tag == "liquid" and sub.n_frames == 3
    np.testing.assert_array_equal(sub.positions[1], lj_traj.positions[2])
    np.testing.assert_array_equal(sub.times, lj_traj.times[[0, 2, -1]])
    assert sub.lj_units is lj_traj.lj_units and sub.symbols == lj_traj.symbols and sub.info == lj_traj.info
    assert sub.info is not lj_traj.info
    np.testing.assert_array_equal(sub.box, lj_traj.box)
    assert lj_traj.select(slice(None, None, 2)).n_frames == (lj_traj.n_frames + 1) // 2
    with pytest.raises(InvalidParameterError, match="no frame"):
        lj_traj.select([])


def test_simulate_atoms_labels_the_box_through_metadata() -> None:
    from ase.calculators.lj import LennardJones as AseLJ

    atoms = ase.Atoms("Ar4", positions=[[0, 0, 0], [3.8, 0, 0], [0, 3.8, 0], [0, 0, 3.8]], cell=[12.0] * 3, pbc=True)
    atoms.calc = AseLJ(sigma=3.4, epsilon=0.0104, rc=5.9)
    traj = simulate_atoms(atoms, dt_fs=1.0, n_steps=3)
    np.testing.assert_array_equal(traj.box, [12.0, 12.0, 12.0])
    assert traj.units == "ase" and traj.symbols == ["Ar"] * 4
