"""Chapter 2 stability analysis, checked against independent references: closed-form amplification
matrices and limits, the exact shadow Hamiltonian of Verlet, the exact harmonic and Morse solutions,
and direct simulation with the core's divergence detection."""
import numpy as np
import pytest

from npsnn_edu.errors import InvalidParameterError, SimulationDivergedError, UnknownNameError
from npsnn_edu.integrators import simulate
from npsnn_edu.md import stability as st
from npsnn_edu.potentials import Harmonic
from npsnn_edu.systems import harmonic_oscillator, lj_fcc_system

SQRT8 = 2.0 * np.sqrt(2.0)


# ---------------------------------------------------------------- linear stability ----
@pytest.mark.parametrize("name", ["symplectic_euler", "velocity_verlet", "rk4", "langevin"])
def test_numeric_stability_limit_within_one_percent_of_analytic(name):
    lim = st.find_stability_limit(name)
    expected = {"symplectic_euler": 2.0, "velocity_verlet": 2.0, "rk4": SQRT8, "langevin": 2.0}[name]
    assert lim.stable_anywhere
    assert abs(lim.h_numeric - expected) / expected < 0.01
    # in fact the bisection is far tighter than 1 %
    assert abs(lim.h_numeric - expected) < 1e-6


def test_langevin_limit_independent_of_friction():
    for gamma in (0.5, 5.0):
        lim = st.find_stability_limit("langevin", friction=gamma)
        assert abs(lim.h_numeric - 2.0) < 1e-6
        # with friction the eigenvalues lie strictly inside the unit circle below the limit
        assert st.spectral_radius(st.amplification_matrix("langevin", 1.5, friction=gamma)) < 1.0


def test_explicit_euler_never_stable():
    lim = st.find_stability_limit("euler")
    assert not lim.stable_anywhere and lim.h_numeric == 0.0
    hs = np.geomspace(1e-3, 4.0, 60)
    rho = st.spectral_radius_curve("euler", hs)
    assert np.all(rho > 1.0)
    np.testing.assert_allclose(rho, np.sqrt(1.0 + hs**2), rtol=1e-12)


def test_symplectic_methods_marginal_inside_and_unstable_just_outside():
    for name in ("symplectic_euler", "velocity_verlet"):
        inside = st.spectral_radius_curve(name, np.linspace(0.05, 1.999, 40))
        np.testing.assert_allclose(inside, 1.0, atol=1e-12)  # |lambda| = 1 exactly: no damping, no growth
        assert st.spectral_radius(st.amplification_matrix(name, 2.01)) > 1.1


@pytest.mark.parametrize("name", st.ALL_INTEGRATORS)
@pytest.mark.parametrize("h", [0.05, 0.8, 1.9, 2.2, 3.0])
def test_numeric_amplification_matrix_equals_analytic(name, h):
    friction = 0.7 if name == "langevin" else 0.0
    for omega in (1.0, 3.0):
        measured = st.amplification_matrix(name, h, omega=omega, friction=friction)
        np.testing.assert_allclose(measured, st.analytic_amplification_matrix(name, h, omega=omega, friction=friction),
                                   rtol=1e-12, atol=1e-12)


def test_amplification_matrix_predicts_many_steps_of_simulate():
    # M^n (x0, v0) must equal n steps of simulate: the matrix is the integrator
    for name in ("velocity_verlet", "rk4", "symplectic_euler"):
        m = st.amplification_matrix(name, 0.3)
        traj = simulate(Harmonic(k=1.0), [[1.0]], [[0.2]], dt=0.3, n_steps=50, integrator=name)
        z = np.linalg.matrix_power(m, 50) @ np.array([1.0, 0.2])
        np.testing.assert_allclose([traj.positions[-1, 0, 0], traj.velocities[-1, 0, 0]], z, rtol=1e-10)


def test_largest_stable_dt_formula_and_errors():
    assert st.largest_stable_dt(100.0, 1.0) == pytest.approx(0.2)
    assert st.largest_stable_dt(4.0, 9.0, "rk4") == pytest.approx(SQRT8 * 1.5)
    with pytest.raises(InvalidParameterError):
        st.largest_stable_dt(1.0, 1.0, "euler")
    with pytest.raises(InvalidParameterError):
        st.largest_stable_dt(-1.0, 1.0)
    with pytest.raises(UnknownNameError):
        st.amplification_matrix("leapfrogg", 0.1)
    with pytest.raises(InvalidParameterError):
        st.amplification_matrix("rk4", 0.0)
    with pytest.raises(InvalidParameterError):
        st.amplification_matrix("rk4", 0.1, friction=1.0)


# ---------------------------------------------------------------- accuracy ----
def test_phase_error_matches_closed_forms():
    for h in (0.05, 0.2):
        vv = st.phase_error("velocity_verlet", h)
        assert vv.phase_per_step == pytest.approx(np.arccos(1 - h * h / 2), rel=1e-12)  # cos(theta) = trace/2
        assert vv.relative_frequency_error == pytest.approx(h * h / 24, rel=0.02)
        assert vv.amplitude_factor_per_period == pytest.approx(1.0, abs=1e-10)
        eu = st.phase_error("euler", h)
        assert eu.phase_per_step == pytest.approx(np.arctan(h), rel=1e-12)
        assert eu.amplitude_factor_per_period == pytest.approx((1 + h * h) ** (np.pi / h), rel=1e-10)
    with pytest.raises(InvalidParameterError):
        st.phase_error("velocity_verlet", 2.5)


def test_verlet_energy_is_bounded_and_shadow_hamiltonian_is_exact():
    dt = 0.3
    traj = simulate(Harmonic(k=1.0), [[1.0]], [[0.0]], dt=dt, n_steps=3000)
    shadow = st.verlet_shadow_energy(traj.positions[:, 0, 0], traj.velocities[:, 0, 0], dt=dt)
    np.testing.assert_allclose(shadow, shadow[0], rtol=1e-12)  # conserved to rounding
    res = st.energy_error("velocity_verlet", dt, n_periods=100)
    assert res.peak_to_peak == pytest.approx(dt**2 / 4, rel=0.02)  # E in [H_shadow, E0]
    assert abs(res.drift_per_period) < 1e-3 * res.peak_to_peak * 100  # no secular trend


def test_verlet_energy_oscillation_slope_two():
    fit = st.verlet_energy_scaling((0.4, 0.2, 0.1, 0.05), n_periods=10)
    assert abs(fit.slope - 2.0) <= 0.2
    assert fit.prefactor == pytest.approx(0.25, rel=0.05)


def test_non_symplectic_secular_drift_matches_exact_factor():
    h, n = 0.1, 200
    for name in ("euler", "rk4"):
        traj = simulate(Harmonic(k=1.0), [[1.0]], [[0.0]], dt=h, n_steps=n, integrator=name, blowup_factor=None)
        e = traj.total_energy
        np.testing.assert_allclose(e / e[0], st.energy_factor_per_step(name, h) ** np.arange(n + 1), rtol=1e-10)
    assert st.energy_error("euler", 0.1, n_periods=5).drift_per_period > 0
    assert st.energy_error("rk4", 0.3, n_periods=20).drift_per_period < 0


def test_convergence_orders():
    res = st.convergence_study()
    assert res["euler"].order == pytest.approx(1.0, abs=0.1)
    assert res["symplectic_euler"].order == pytest.approx(1.0, abs=0.1)
    assert res["velocity_verlet"].order == pytest.approx(2.0, abs=0.1)
    assert res["rk4"].order == pytest.approx(4.0, abs=0.1)
    for r in res.values():
        assert r.order == pytest.approx(r.expected_order, abs=0.1)
        assert np.all(np.diff(r.errors) < 0)


def test_fit_power_law_rejects_zero():
    with pytest.raises(InvalidParameterError):
        st.fit_power_law([1, 2], [0.0, 1.0])


def test_morse_solution_against_fine_simulation():
    sys = st.morse_at_energy(0.9)
    e0 = sys.info["energy"]
    assert float(sys.potential.energy(sys.positions)) == pytest.approx(e0, rel=1e-12)
    traj = sys.run(dt=0.0005, n_steps=10000, record_every=10)
    r = traj.positions[:, 1, 0] - traj.positions[:, 0, 0]
    rd = traj.velocities[:, 1, 0] - traj.velocities[:, 0, 0]
    r_ex, rd_ex = st.morse_solution(traj.times, e0)
    assert np.max(np.abs(r - r_ex)) < 1e-4
    assert np.max(np.abs(rd - rd_ex)) < 1e-3


# ---------------------------------------------------------------- blow-up on real systems ----
def test_blowup_harmonic_beyond_limit_not_below():
    # k = 25, m = 1: omega = 5, Verlet limit dt* = 0.4. Margins: 2 % either side. Above, rho(2.04) = 1.33,
    # so 1.33^n passes the 100x threshold within ~20 steps; below, |lambda| = 1 exactly and the energy is bounded
    # by the shadow Hamiltonian (from a turning point E stays in [H_shadow, E0]: excursion <= h^2/4 = 0.96 E0).
    sys = harmonic_oscillator(k=25.0)
    dt_star = st.largest_stable_dt(25.0, 1.0)
    with pytest.raises(SimulationDivergedError) as info:
        sys.run(dt=1.02 * dt_star, n_steps=2000)
    assert 1 <= info.value.step < 200
    traj = sys.run(dt=0.98 * dt_star, n_steps=5000)
    assert traj.energy_drift() <= (0.98 * 2.0) ** 2 / 4 + 1e-9
    scan = st.dt_scan(sys, [0.9 * dt_star, 0.98 * dt_star, 1.02 * dt_star, 1.1 * dt_star], n_steps=2000,
                      blowup_factor=100.0, progress=False)
    assert list(scan.diverged) == [False, False, True, True]
    assert scan.dt_linear_limit == pytest.approx(dt_star)
    assert scan.diverged_step[2] is not None and scan.diverged_step[2] > scan.diverged_step[3]


def test_morse_high_energy_bond_survival_is_an_accuracy_limit():
    # 90 % of the well depth. Linear limit from the curvature at the minimum: dt* = 2 / omega0 = 1.0.
    # The run starts on the inner wall, where u'' is 5.6x larger: limit there 0.42. At 1.1 dt* the energy error
    # exceeds the binding energy many times over (the bond breaks numerically), yet nothing blows up: a
    # dissociated pair flies apart with finite energy. So "does the bond survive" is an ACCURACY question
    # (energy_tolerance = 1: error below the binding energy |E0|), not a divergence. At a quarter of the wall's
    # limit (0.1) the error stays ~20 % of the binding energy for 10 periods.
    sys = st.morse_at_energy(0.9)
    period = sys.info["period"]
    scan = st.dt_scan(sys, [0.05, 0.1, 1.1], t_total=10 * period, progress=False, energy_tolerance=1.0)
    assert scan.dt_linear_limit == pytest.approx(1.0)
    assert scan.min_distance[0] == pytest.approx(1.0 - np.log(1.0 + np.sqrt(0.9)), abs=1e-3)  # inner turning point
    assert scan.dt_limit_closest_approach == pytest.approx(0.4209, rel=0.01)
    assert list(scan.diverged) == [False, False, False]
    assert list(scan.accurate) == [True, True, False]
    assert scan.largest_accurate_dt == pytest.approx(0.1) and scan.smallest_inaccurate_dt == pytest.approx(1.1)
    assert scan.drift[0] < scan.drift[1] < 0.5 and scan.drift[2] > 10
    # the same runs with the old accuracy-as-divergence threshold (blowup_factor=1) call the bond break "diverged"
    old = st.dt_scan(sys, [0.05, 0.1, 1.1], t_total=10 * period, progress=False, blowup_factor=1.0)
    assert list(old.diverged) == [False, False, True]


def test_harmonic_accuracy_limit_is_two_sqrt_tolerance_and_below_the_stability_limit():
    # independent reference (shadow Hamiltonian): from a turning point Verlet's max relative energy error is
    # (omega dt)^2 / 4, so a tolerance tol is met for h < 2 sqrt(tol) = 0.2 at tol = 0.01; stability needs h < 2
    sys = harmonic_oscillator(k=1.0)
    dts = [0.1, 0.15, 0.19, 0.21, 0.3, 1.9, 2.1]
    scan = st.dt_scan(sys, dts, t_total=200.0, progress=False, energy_tolerance=0.01)
    assert scan.largest_accurate_dt == pytest.approx(0.19) and scan.smallest_inaccurate_dt == pytest.approx(0.21)
    assert scan.largest_stable_dt == pytest.approx(1.9) and scan.smallest_diverging_dt == pytest.approx(2.1)
    for dt, d in zip(dts[:-1], scan.drift[:-1]):
        assert d <= dt**2 / 4 + 1e-12 and d > 0.95 * dt**2 / 4
    assert not np.any(scan.accurate & scan.diverged)
    text = scan.report()
    assert "largest stable dt tested (no blow-up): 1.9" in text and "(max |dE/E0| <= 0.01): 0.19" in text
    with pytest.raises(InvalidParameterError, match="energy_tolerance"):
        st.dt_scan(sys, dts, t_total=1.0, progress=False, energy_tolerance=0.0)


def test_blowup_lennard_jones_liquid():
    # 108 atoms. The curvature at the LJ minimum predicts dt* = 2 / sqrt(57.1 / 0.5) = 0.187, but collisions
    # reach r ~ 0.93 sigma where u'' ~ 1500: limit there ~0.037. So we test far on either side of the REAL
    # limit: dt = 0.06 (1.6x the closest-approach limit) and dt = 0.2 (beyond even the minimum's limit) blow up
    # within a few steps; dt = 0.01 (0.27x) runs 1 tau with drift < 1e-3 (measured 8e-4 over 3 tau).
    sys = lj_fcc_system(n_cells=3, temperature=1.0, seed=0)
    scan = st.dt_scan(sys, [0.01, 0.06, 0.2], t_total=1.0, progress=False)
    assert scan.dt_linear_limit == pytest.approx(2.0 / np.sqrt(72 * 2 ** (-1 / 3) / 0.5), rel=1e-6)
    assert list(scan.diverged) == [False, True, True]
    assert all(s < 30 for s in scan.diverged_step[1:])
    assert scan.drift[0] < 2e-3
    assert 0.85 < scan.min_distance[0] < 1.0
    assert 0.02 < scan.dt_limit_closest_approach < 0.06 < scan.dt_linear_limit


def test_pair_curvature_matches_analytic():
    from npsnn_edu.potentials import LennardJones, Morse

    lj = LennardJones(cutoff=None, shift=False)
    assert float(st.pair_curvature(lj, lj.r_min)) == pytest.approx(lj.curvature_at_minimum, rel=1e-6)
    r = 0.93
    assert float(st.pair_curvature(lj, r)) == pytest.approx(4 * (156 * r**-14 - 42 * r**-8), rel=1e-6)
    mo = Morse(D_e=2.0, a=1.5)
    assert float(st.pair_curvature(mo, 1.0)) == pytest.approx(mo.curvature_at_minimum, rel=1e-6)


def test_dt_scan_input_errors():
    sys = harmonic_oscillator()
    with pytest.raises(InvalidParameterError):
        st.dt_scan(sys, [0.1], progress=False)
    with pytest.raises(InvalidParameterError):
        st.dt_scan(sys, [-0.1], n_steps=10, progress=False)
    with pytest.raises(InvalidParameterError):
        st.morse_at_energy(1.2)


def test_stability_limits_and_their_table():
    limits = st.stability_limits(("velocity_verlet", "rk4"))
    assert [lim.integrator for lim in limits] == ["velocity_verlet", "rk4"]
    table = st.limits_table(limits)
    assert list(table.index) == ["velocity_verlet", "rk4"]
    assert table.loc["rk4", "numeric h*"] == pytest.approx(2 * np.sqrt(2), rel=1e-6)
    assert not hasattr(st.StabilityLimit, "dt_limit")


def test_morse_helpers_live_in_analytic_and_systems():
    from npsnn_edu import analytic, systems

    assert st.morse_solution is analytic.morse_solution and st.morse_at_energy is systems.morse_at_energy


def test_dt_scan_table_has_one_row_per_dt_and_no_raw_nan_or_none():
    scan = st.dt_scan(harmonic_oscillator(k=1.0), [0.01, 0.5, 2.5], t_total=20.0, progress=False)
    table = scan.table()
    assert list(table.index) == [0.01, 0.5, 2.5] and table.loc[0.01, "steps"] == 2000
    verdict = "verdict (tolerance 0.01)"
    assert table.loc[0.01, verdict] == "accurate" and table.loc[0.5, verdict] == "inaccurate"
    assert table.loc[2.5, verdict] == f"diverged at step {scan.diverged_step[2]}"
    assert table.loc[2.5, "max |dE/E0|"] == "blew up"
    text = table.to_string()
    assert "NaN" not in text and "None" not in text and "nan" not in text


def test_limits_table_and_morse_tables_have_no_nan_and_right_values():
    sys = harmonic_oscillator(k=1.0)
    scan = st.dt_scan(sys, [0.1, 0.5, 1.0], t_total=50.0, progress=False, energy_tolerance=0.01)
    table = scan.limits_table()
    assert table.loc["first dt that blew up", "dt"] == "none up to 1"
    assert table.loc["largest stable dt (no blow-up)", "dt"] == "1"
    assert table.loc["largest accurate dt (max |dE/E0| <= 0.01)", "dt"] == "0.1"
    assert "NaN" not in table.to_string() and "None" not in table.to_string()
    scans = st.morse_scans((0.5, 0.9), dt_step=0.1, dt_max=0.5, n_periods=3)
    assert [s.system for s in scans] == ["Morse at 50% of D_e", "Morse at 90% of D_e"]
    assert list(scans[0].dts) == [0.1, 0.2, 0.3, 0.4, 0.5] and scans[0].energy_tolerance == 1.0
    morse = st.morse_limits_table(scans, (0.5, 0.9))
    assert list(morse.index) == ["50%", "90%"] and morse.loc["90%", "limit at minimum"] == 1.0
    assert "NaN" not in morse.to_string() and "nan" not in morse.to_string()
    with pytest.raises(InvalidParameterError, match="one fraction per scan"):
        st.morse_limits_table(scans, (0.5,))
    with pytest.raises(InvalidParameterError, match="dt_max"):
        st.morse_scans((0.5,), dt_step=0.2, dt_max=0.1)
