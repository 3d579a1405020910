"""npsnn_edu.md.analysis against independent references: analytic ballistic motion and harmonic oscillator,
free Langevin particles (D = k_B T / (m gamma)), ASE's radial distribution function."""
from __future__ import annotations

import numpy as np
import pytest

from npsnn_edu.errors import InvalidParameterError, ShapeMismatchError
from npsnn_edu.integrators import simulate
from npsnn_edu.md import analysis
from npsnn_edu.systems import lj_fcc_system


class _Free:
    """No forces at all (a free particle), for the Langevin test."""

    def energy_and_forces(self, x):
        return 0.0, np.zeros_like(x)


def test_msd_of_ballistic_motion_is_v2_t2():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(20, 3))
    t = np.arange(50) * 0.1
    x = rng.normal(size=(20, 3))[None] + t[:, None, None] * v[None]
    expected = np.mean(np.sum(v * v, axis=1)) * t**2
    np.testing.assert_allclose(analysis.mean_squared_displacement(x), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(analysis.mean_squared_displacement(x, all_origins=False), expected, rtol=1e-10)
    assert analysis.mean_squared_displacement(x, max_lag=5).shape == (6,)


def test_vacf_of_harmonic_oscillator_is_cosine():
    # x = A cos(w t + phi), v = -A w sin(w t + phi); averaged over uniform phases: <v(0) v(t)> = A^2 w^2 cos(w t) / 2
    w, A = 1.7, 0.8
    t = np.arange(400) * 0.01
    phases = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    v = -A * w * np.sin(w * t[:, None] + phases[None, :])[..., None]
    c = analysis.velocity_autocorrelation(v, max_lag=200)
    np.testing.assert_allclose(c, 0.5 * A**2 * w**2 * np.cos(w * t[:201]), atol=1e-10)
    np.testing.assert_allclose(analysis.velocity_autocorrelation(v, max_lag=200, normalize=True),
                               np.cos(w * t[:201]), atol=1e-10)


def test_diffusion_of_free_langevin_particles_is_kT_over_m_gamma():
    T, gamma, m = 1.5, 2.0, 1.0
    x0 = np.zeros((400, 3))
    traj = simulate(_Free(), x0, np.zeros_like(x0), dt=0.01, n_steps=2000, integrator="langevin",
                    temperature=T, friction=gamma, seed=7, record_every=10, masses=m)
    msd = analysis.mean_squared_displacement(traj.positions, max_lag=100)
    fit = analysis.diffusion_coefficient(traj.times[:101], msd, dim=3)
    assert fit.D == pytest.approx(T / (m * gamma), rel=0.06)
    # Green-Kubo: the VACF integrates to d D as well
    c = analysis.velocity_autocorrelation(traj.velocities, max_lag=100)
    assert np.trapezoid(c, traj.times[:101]) / 3 == pytest.approx(T / (m * gamma), rel=0.1)


def test_diffusion_coefficient_fit_recovers_a_line():
    t = np.linspace(0, 10, 101)
    fit = analysis.diffusion_coefficient(t, 6 * 0.25 * t + 0.3, dim=3)
    assert fit.D == pytest.approx(0.25) and fit.intercept == pytest.approx(0.3)
    assert fit.t_min == pytest.approx(3.0) and "D = 0.25" in str(fit)
    assert analysis.diffusion_coefficient(t, 4 * 0.5 * t, dim=2).D == pytest.approx(0.5)


@pytest.mark.parametrize("box_scale", [(1.0, 1.0, 1.0), (1.0, 1.3, 0.9)])
def test_rdf_matches_ase(box_scale):
    from ase import Atoms
    from ase.geometry.rdf import get_rdf

    system = lj_fcc_system(n_cells=3, temperature=1.5, seed=1)
    traj = system.run(dt=0.005, n_steps=200, record_every=200)
    box = system.box * np.array(box_scale)
    pos = traj.positions[-1] * np.array(box_scale)
    r_max = 0.49 * box.min()
    r, g = analysis.radial_distribution(pos, box, r_max=r_max, n_bins=60)
    atoms = Atoms("Ar108", positions=np.mod(pos, box), cell=np.diag(box), pbc=True)
    g_ase, r_ase = get_rdf(atoms, r_max, 60)
    np.testing.assert_allclose(r, r_ase, rtol=1e-12)
    # both use the exact shell volume; ASE normalises by N^2 / V (self pairs included), we by N (N - 1) / V
    np.testing.assert_allclose(g * 107 / 108, g_ase, rtol=1e-9, atol=1e-12)
    assert g[r < 0.8].max() == 0.0 and g.max() > 2.0  # excluded core, first neighbour peak


def test_rdf_of_ideal_gas_is_one_and_frames_average():
    rng = np.random.default_rng(0)
    box = np.array([10.0, 12.0, 11.0])
    frames = rng.uniform(size=(40, 200, 3)) * box
    r, g = analysis.radial_distribution(frames, box, r_max=5.0, n_bins=10)
    assert np.all(np.abs(g[2:] - 1) < 0.05)


def test_bad_input():
    with pytest.raises(ShapeMismatchError):
        analysis.mean_squared_displacement(np.zeros((5, 3)))
    with pytest.raises(InvalidParameterError, match="r_max"):
        analysis.radial_distribution(np.zeros((4, 3)) + [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], 4.0,
                                     r_max=3.0)
    with pytest.raises(InvalidParameterError, match="NaN"):
        analysis.velocity_autocorrelation(np.full((3, 2, 3), np.nan))
    with pytest.raises(InvalidParameterError, match="fit window"):
        analysis.diffusion_coefficient([0.0, 1.0], [0.0, 1.0], fit_from=0.9, fit_to=0.95)


def test_period_helpers_are_reexported_from_chapter1():
    from npsnn_edu.exercises import chapter1

    assert chapter1.measure_period is analysis.measure_period
    assert chapter1.morse_period_scan is analysis.morse_period_scan
