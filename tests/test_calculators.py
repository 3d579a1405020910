"""One ASE calculator base for the kit: PotentialCalculator and GPRCalculator both derive from
EnergyForcesCalculator, and both pass ASE's own checks (forces = -grad E by ASE's finite differences, ASE's MD
driver and optimiser run on them)."""
import numpy as np
import pytest
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.calculators.fd import calculate_numerical_forces
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS

from npsnn_edu.ase_interop import EnergyForcesCalculator, PotentialCalculator
from npsnn_edu.errors import InvalidStateError
from npsnn_edu.gpr.calculator import GPRCalculator
from npsnn_edu.gpr.data import load
from npsnn_edu.gpr.experiments import train_model
from npsnn_edu.potentials import LennardJones, Morse
from npsnn_edu.units import ARGON


@pytest.fixture(scope="module")
def ma():
    return load("malondialdehyde")


@pytest.fixture(scope="module")
def gp(ma):
    return train_model(ma, "MF5", n_train=100, n_force=10, lengthscale=0.7)


def _argon_cluster() -> tuple[Atoms, Calculator]:
    rng = np.random.default_rng(0)
    x = np.array([[0, 0, 0], [1.1, 0, 0], [0, 1.1, 0], [0, 0, 1.1], [1.1, 1.1, 0.1]]) * 3.405
    atoms = Atoms("Ar5", positions=x + 0.05 * rng.standard_normal(x.shape))
    return atoms, PotentialCalculator(LennardJones(cutoff=None, shift=False), lj_units=ARGON)


def _morse_dimer() -> tuple[Atoms, Calculator]:
    return Atoms("H2", positions=[[0, 0, 0], [0.2, 0.1, 1.3]]), PotentialCalculator(Morse(D_e=4.5, a=1.9, r_e=0.74))


def _gp_molecule(ma, gp) -> tuple[Atoms, Calculator]:
    atoms = ma.reference_atoms()
    atoms.positions += 0.02 * np.random.default_rng(1).standard_normal(atoms.positions.shape)
    return atoms, GPRCalculator(gp)


CASES = ["argon_lj", "morse", "gpr"]


@pytest.fixture(params=CASES)
def system(request, ma, gp):
    return {"argon_lj": _argon_cluster, "morse": _morse_dimer, "gpr": lambda: _gp_molecule(ma, gp)}[request.param]()


def test_one_base_class():
    for cls in (PotentialCalculator, GPRCalculator):
        assert issubclass(cls, EnergyForcesCalculator) and issubclass(cls, Calculator)
        assert "energy_and_forces_of" in vars(cls) and "energy_and_forces_of" in vars(EnergyForcesCalculator)
    assert EnergyForcesCalculator.implemented_properties == ["energy", "free_energy", "forces"]
    with pytest.raises(NotImplementedError, match="energy_and_forces_of"):
        a = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.7]])
        a.calc = EnergyForcesCalculator()
        a.get_potential_energy()


def test_forces_are_minus_the_gradient_by_ase_finite_differences(system):
    atoms, calc = system
    atoms.calc = calc
    f = atoms.get_forces()
    fd = calculate_numerical_forces(atoms, eps=1e-4)
    scale = max(1.0, float(np.abs(f).max()))
    assert np.abs(f - fd).max() < 1e-4 * scale
    assert atoms.get_potential_energy(force_consistent=True) == atoms.get_potential_energy()


def test_ase_md_and_optimiser_run(system):
    atoms, calc = system
    atoms.calc = calc
    e0, fmax = atoms.get_potential_energy(), 0.2 * np.linalg.norm(atoms.get_forces(), axis=1).max()
    opt = BFGS(atoms, logfile=None)
    assert opt.run(fmax=fmax, steps=200)  # converged
    assert atoms.get_potential_energy() < e0 and np.linalg.norm(atoms.get_forces(), axis=1).max() < fmax
    atoms.set_velocities(0.002 * np.random.default_rng(2).standard_normal((len(atoms), 3)))
    etot = [atoms.get_total_energy()]
    dyn = VelocityVerlet(atoms, timestep=0.1 * units.fs)
    for _ in range(5):
        dyn.run(4)
        etot.append(atoms.get_total_energy())
    assert np.ptp(etot) < 1e-3 * max(1.0, abs(etot[0]))  # NVE: the total energy is conserved


def test_nan_positions_are_refused_by_both(system):
    atoms, calc = system
    atoms.calc = calc
    atoms.positions[0, 0] = np.nan
    with pytest.raises(InvalidStateError, match="NaN"):
        atoms.get_potential_energy()
