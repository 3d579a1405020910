"""Units against SI constants (scipy.constants), ready-made systems, analytic references, device selection."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import constants as si

from npsnn_edu.analytic import harmonic_solution, morse_period
from npsnn_edu.device import resolve_device
from npsnn_edu.errors import DeviceUnavailableError, InvalidParameterError
from npsnn_edu.systems import (
    System,
    available_systems,
    double_well_particle,
    fcc_lattice,
    get_system,
    harmonic_oscillator,
    maxwell_boltzmann_velocities,
    morse_diatomic,
)
from npsnn_edu.units import ARGON, KB_EV_PER_K, KCAL_PER_MOL_EV, LJUnits


def test_argon_units_against_si_constants() -> None:
    sigma_m = 3.405e-10
    eps_j = 0.0103 * si.electron_volt
    mass_kg = 39.948 * si.atomic_mass
    tau_s = sigma_m * np.sqrt(mass_kg / eps_j)
    assert ARGON.time_fs == pytest.approx(tau_s * 1e15, rel=1e-6)  # about 2.16 ps
    assert 2150 < ARGON.time_fs < 2170
    assert ARGON.temperature_kelvin == pytest.approx(eps_j / si.Boltzmann, rel=1e-6)  # about 119.5 K
    assert KB_EV_PER_K == pytest.approx(si.Boltzmann / si.electron_volt, rel=1e-6)
    assert KCAL_PER_MOL_EV == pytest.approx(4184.0 / si.Avogadro / si.electron_volt, rel=1e-6)
    # velocity = length / time, force = energy / length, all consistent in ASE units (eV, A, amu)
    assert ARGON.velocity == pytest.approx(ARGON.length / ARGON.time)
    assert ARGON.force == pytest.approx(0.0103 / 3.405)
    # kinetic energy 1/2 m v^2 of one reduced unit is one epsilon: the units are self-consistent
    assert 0.5 * ARGON.mass * ARGON.velocity**2 == pytest.approx(0.5 * ARGON.energy, rel=1e-12)


def test_lj_units_round_trips() -> None:
    x = np.random.default_rng(0).normal(size=(5, 3))
    units = LJUnits(2.0, 0.5, 4.0, name="toy")
    np.testing.assert_allclose(units.from_ase_positions(units.to_ase_positions(x)), x, rtol=1e-15)
    np.testing.assert_allclose(units.from_ase_velocities(units.to_ase_velocities(x)), x, rtol=1e-15)
    assert units.reduced_to_kelvin(units.kelvin_to_reduced(300.0)) == pytest.approx(300.0)
    assert ARGON.kelvin_to_reduced(ARGON.temperature_kelvin) == pytest.approx(1.0)


def test_fcc_lattice_geometry() -> None:
    pos, box = fcc_lattice(3, density=0.8442)
    assert pos.shape == (108, 3)
    assert len(pos) / np.prod(box) == pytest.approx(0.8442, rel=1e-12)
    a = box[0] / 3
    d = pos[:, None, :] - pos[None, :, :]
    d -= box * np.round(d / box)
    r = np.sqrt((d**2).sum(-1))[np.triu_indices(108, 1)]
    assert r.min() == pytest.approx(a / np.sqrt(2), rel=1e-12)  # nearest neighbours at a / sqrt(2)
    assert np.sum(np.isclose(r, a / np.sqrt(2))) == 108 * 12 // 2  # 12 of them each
    assert np.all((pos >= 0) & (pos < box))
    assert fcc_lattice((2, 3, 4))[0].shape == (96, 3)


def test_maxwell_boltzmann_velocities() -> None:
    m = np.linspace(1.0, 3.0, 500)
    v = maxwell_boltzmann_velocities(m, 3, 1.7, seed=3)
    np.testing.assert_allclose((m[:, None] * v).sum(0), 0.0, atol=1e-12)  # no drift
    assert np.sum(0.5 * m[:, None] * v**2) == pytest.approx(0.5 * 3 * 500 * 1.7, rel=1e-12)  # exact T
    raw = maxwell_boltzmann_velocities(np.ones(20000), 1, 2.0, seed=1, remove_drift=False, exact_temperature=False)
    assert np.var(raw) == pytest.approx(2.0, rel=4 * np.sqrt(2 / 20000))  # <v^2> = kT/m within 4 sigma
    np.testing.assert_array_equal(v, maxwell_boltzmann_velocities(m, 3, 1.7, seed=3))  # same seed, same numbers
    assert np.all(maxwell_boltzmann_velocities(m, 2, 0.0) == 0.0)


def test_ready_made_systems() -> None:
    assert available_systems() == ["double-well", "harmonic", "lennard-jones", "morse"]
    lj = get_system("lj", n_cells=3, temperature=1.0)
    assert isinstance(lj, System) and lj.positions.shape == (108, 3) and lj.lj_units is ARGON
    assert lj.potential.shift and lj.potential.cutoff == 2.5
    np.testing.assert_allclose(lj.box, fcc_lattice(3)[1])
    ke = 0.5 * np.sum(lj.masses[:, None] * lj.velocities**2)
    assert 2 * ke / (3 * 108) == pytest.approx(1.0, rel=1e-12)
    h = get_system("harmonic", k=4.0, mass=2.0, x0=0.5)
    assert h.positions.shape == (1, 1) and float(h.potential.energy(h.positions)) == pytest.approx(0.5)
    dimer = morse_diatomic(r_e=1.2, stretch=0.3, dim=3)
    assert np.linalg.norm(dimer.positions[1] - dimer.positions[0]) == pytest.approx(1.5)
    assert float(dimer.potential.energy(dimer.positions)) == pytest.approx(dimer.potential.pair_energy(1.5))
    dw = double_well_particle(barrier=2.0, x0=0.0, v0=0.0)
    assert float(dw.potential.energy(dw.positions)) == pytest.approx(2.0)  # on top of the barrier
    assert get_system("double_well").name == "double-well"
    with pytest.raises(InvalidParameterError, match="lj_fcc_system"):
        get_system("lennard-jones", n_atoms=100)


def test_harmonic_solution_solves_the_ode() -> None:
    t = np.linspace(0, 7, 2001)
    x, v = harmonic_solution(t, x0=0.3, v0=-1.1, omega=1.7)
    assert x[0] == 0.3 and v[0] == pytest.approx(-1.1)
    inner = slice(1, -1)  # np.gradient is one-sided (first order) at the ends
    np.testing.assert_allclose(np.gradient(x, t)[inner], v[inner], atol=2e-4)
    np.testing.assert_allclose(np.gradient(v, t)[inner], -1.7**2 * x[inner], atol=2e-3)
    # energy is conserved exactly
    np.testing.assert_allclose(0.5 * v**2 + 0.5 * 1.7**2 * x**2, 0.5 * 1.1**2 + 0.5 * 1.7**2 * 0.09, rtol=1e-12)
    with pytest.raises(InvalidParameterError):
        harmonic_solution(t, omega=0.0)


def test_morse_period_limits() -> None:
    # small amplitude: harmonic period 2 pi / sqrt(k / mu) with k = 2 a^2 D_e
    D_e, a, mu = 1.3, 1.7, 0.5
    harmonic = 2 * np.pi / np.sqrt(2 * a**2 * D_e / mu)
    assert morse_period(-D_e * (1 - 1e-10), D_e, a, mu) == pytest.approx(harmonic, rel=1e-9)
    assert morse_period(-0.1 * D_e, D_e, a, mu) > harmonic  # anharmonic: slower near dissociation
    for bad in (0.0, -D_e, 0.5):
        with pytest.raises(InvalidParameterError):
            morse_period(bad, D_e, a, mu)


def test_harmonic_oscillator_period_from_simulation() -> None:
    system = harmonic_oscillator(k=9.0, mass=1.0)  # omega = 3
    traj = system.run(dt=1e-3, n_steps=int(round(2 * np.pi / 3 / 1e-3)))
    assert traj.positions[-1, 0, 0] == pytest.approx(1.0, abs=1e-5)


def test_resolve_device_on_cpu() -> None:
    torch = pytest.importorskip("torch")
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device(None).type == expected and resolve_device("auto").type == expected
    with pytest.raises(InvalidParameterError):
        resolve_device("tpu:0")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailableError, match="cpu"):
            resolve_device("cuda")
