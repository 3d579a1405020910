"""Chapter 3 GP potential: descriptors, kernel, posterior, priors, forces, ASE calculator, bad input."""
import numpy as np
import pytest

from npsnn_edu.errors import (
    InvalidParameterError,
    InvalidStateError,
    NotFittedError,
    ShapeMismatchError,
    UnknownNameError,
)
from npsnn_edu.gpr import GPRPotential, get_prior, load, rbf_kernel
from npsnn_edu.gpr.experiments import CrashCriterion, stretch_geometries

PRIORS = ["MF1", "MF2", "MF3", "MF4", "MF5"]


@pytest.fixture(scope="module")
def ma():
    return load("malondialdehyde")


@pytest.fixture(scope="module")
def water():
    return load("water")


def _model(data, prior="MF5", n=60, lengthscale=0.5, noise=1e-8, **kw):
    X, E, _ = data.subset("train", n)
    m = GPRPotential(data.symbols, prior=prior, lengthscale=lengthscale, noise=noise,
                     atom_energies=data.isolated_atom_energies, **kw)
    return m.fit(X, E)


# ------------------------------------------------------------------ kernel and posterior vs dense algebra
def test_rbf_kernel_matches_explicit_loop():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    ell = np.array([0.5, 1.0, 2.0, 0.7])
    ref = np.array([[2.0 * np.exp(-0.5 * np.sum(((a - b) / ell) ** 2)) for b in B] for a in A])
    assert np.allclose(rbf_kernel(A, B, ell, variance=2.0), ref, atol=1e-14)


@pytest.mark.parametrize("prior", PRIORS)
def test_posterior_mean_and_variance_match_dense_reference(water, prior):
    m = _model(water, prior, n=40, lengthscale=0.4, noise=1e-6)
    X, E = m.D_train, m.y_train
    Xs = water.subset("test", 7)[0]
    Ds = m.descriptor.transform(Xs)
    mu0 = m.prior.value(X)
    R = rbf_kernel(X, X, 0.4) + 1e-6 * np.eye(len(E))
    Rinv = np.linalg.inv(R)
    s2 = (E - mu0) @ Rinv @ (E - mu0) / len(E)
    ks = rbf_kernel(Ds, X, 0.4)
    mean_ref = m.prior.value(Ds) + ks @ Rinv @ (E - mu0)
    var_ref = s2 * (1.0 - np.einsum("ij,jk,ik->i", ks, Rinv, ks))
    mean, std = m.predict(Xs, return_std=True)
    assert np.allclose(mean, mean_ref, rtol=0, atol=1e-6 * max(1.0, np.abs(E - mu0).max()))
    # 1 - k^T R^-1 k cancels: round-off ~ cond(R) * eps, relative to s2
    assert np.allclose(std**2, np.maximum(var_ref, 0), rtol=1e-3, atol=1e-7 * s2)


def test_posterior_matches_sklearn_with_fixed_kernel(water):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    m = _model(water, "MF2", n=50, lengthscale=0.3, noise=1e-6)
    resid = m.y_train - m.prior.value(m.D_train)
    s2 = m.signal_variance
    gp = GaussianProcessRegressor(ConstantKernel(s2, "fixed") * RBF(0.3, "fixed"), alpha=1e-6 * s2,
                                  optimizer=None, normalize_y=False).fit(m.D_train, resid)
    Xs = water.subset("test", 10)[0]
    mu_sk, sd_sk = gp.predict(m.descriptor.transform(Xs), return_std=True)
    mean, std = m.predict(Xs, return_std=True)
    assert np.allclose(mean, mu_sk + m.prior.constant, atol=1e-9)
    assert np.allclose(std, sd_sk, rtol=1e-4, atol=1e-9)


# ------------------------------------------------------------------ forces by finite differences
@pytest.mark.parametrize("prior", PRIORS)
def test_forces_match_finite_differences(ma, prior):
    m = _model(ma, prior, n=80, lengthscale=0.6)
    x = ma.subset("test", 1)[0][0]
    e, f = m.energy_and_forces(x)
    assert np.isclose(e, m.predict(x), atol=1e-10)
    h = 1e-5
    fd = np.zeros_like(x)
    for a in range(x.shape[0]):
        for k in range(3):
            xp, xm = x.copy(), x.copy()
            xp[a, k] += h
            xm[a, k] -= h
            fd[a, k] = -(m.predict(xp) - m.predict(xm)) / (2 * h)
    assert np.abs(f - fd).max() < 1e-5 * max(1.0, np.abs(f).max())
    assert np.abs(f.sum(axis=0)).max() < 1e-8 * max(1.0, np.abs(f).max())  # translation invariance


@pytest.mark.parametrize("kind,ard", [("distance", False), ("inverse", True)])
def test_forces_fd_other_descriptor_and_ard(water, kind, ard):
    P = 3
    ell = np.array([0.3, 0.5, 0.4]) if ard else 0.4
    m = _model(water, "MF4", n=40, lengthscale=ell, descriptor=kind, noise=1e-6)
    x = water.subset("test", 1)[0][0]
    _, f = m.energy_and_forces(x)
    h = 1e-4
    fd = np.array([[-(m.predict(x + h * np.eye(9)[3 * a + k].reshape(3, 3)) -
                      m.predict(x - h * np.eye(9)[3 * a + k].reshape(3, 3))) / (2 * h) for k in range(3)]
                   for a in range(P)])
    assert np.allclose(f, fd, atol=1e-5 * max(1.0, np.abs(f).max()))


def test_energy_invariant_to_rotation_and_translation(ma):
    from scipy.spatial.transform import Rotation

    m = _model(ma, "MF5", n=50)
    x = ma.subset("test", 1)[0][0]
    R = Rotation.from_euler("xyz", [0.3, -1.1, 2.0]).as_matrix()
    y = x @ R.T + np.array([1.0, -2.0, 0.5])
    e1, f1 = m.energy_and_forces(x)
    e2, f2 = m.energy_and_forces(y)
    assert np.isclose(e1, e2, atol=1e-9)
    assert np.allclose(f1 @ R.T, f2, atol=1e-8)


# ------------------------------------------------------------------ priors
def test_prior_definitions(ma):
    X, E, _ = ma.subset("train", 100)
    D = GPRPotential(ma.symbols).descriptor.transform(X)
    assert get_prior("MF1").fit(D, E).value(D[:3]).tolist() == [0.0, 0.0, 0.0]
    assert np.isclose(get_prior("mean").fit(D, E).constant, E.mean())
    assert np.isclose(get_prior("training_max").fit(D, E).constant, E.max())
    assert np.isclose(get_prior("median").fit(D, E).constant, np.median(E))
    k = np.argmin(E)
    for name, phi in (("MF3", lambda A: A), ("MF4", lambda A: A**2)):
        mf = get_prior(name, ridge=1e-12).fit(D, E)
        assert np.isclose(mf.value(D[k:k + 1])[0], E[k])  # anchored at the lowest-energy point
        beta_ref = np.linalg.lstsq(phi(D - D[k]), E - E[k], rcond=None)[0]
        # same fitted values as an independent least-squares solve (beta itself is ill-determined)
        assert np.allclose(phi(D - D[k]) @ mf.beta, phi(D - D[k]) @ beta_ref, atol=1e-3)
        # analytic gradient vs finite differences
        h, d0 = 1e-6, D[3]
        fd = np.array([(mf.value((d0 + h * e)[None])[0] - mf.value((d0 - h * e)[None])[0]) / (2 * h)
                       for e in np.eye(len(d0))])
        assert np.allclose(mf.gradient(d0), fd, atol=1e-4 * max(1.0, np.abs(fd).max()))
    mf5 = get_prior("MF5", atom_energies=ma.isolated_atom_energies).fit(D, E, ma.symbols)
    # GFN2-xTB free atoms (H doublet, C/O triplet): H -10.707, C -48.798, O -102.522 eV
    assert np.isclose(mf5.constant, 4 * -10.707 + 3 * -48.798 + 2 * -102.522, atol=5e-3)
    assert mf5.constant > E.max() + 40.0  # far above the bound-molecule range
    custom = get_prior(lambda D: np.full(len(D), -400.0))
    assert np.allclose(custom.value(D[:2]), -400.0) and np.allclose(custom.gradient(D[0]), 0.0)


def test_isolated_atom_energies_from_tblite(ma):
    from npsnn_edu.gpr import isolated_atom_energies

    e = isolated_atom_energies(["H", "O"])
    assert np.isclose(e["H"], -10.707, atol=1e-3) and np.isclose(e["O"], -102.522, atol=1e-3)
    assert np.isclose(e["O"], ma.isolated_atom_energies["O"], atol=1e-10)


@pytest.mark.parametrize("prior", PRIORS)
def test_far_from_data_the_model_reverts_to_its_prior(water, prior):
    m = _model(water, prior, n=40, lengthscale=0.2)
    x = water.reference_positions * 20.0  # blown-apart molecule: far from all data
    e, f = m.energy_and_forces(x)
    _, std = m.predict(x, return_std=True)
    assert np.isclose(e, m.prior.value(m.descriptor.transform(x)[None])[0], atol=1e-6)
    assert np.isclose(std, np.sqrt(m.signal_variance), rtol=1e-6)
    if prior in ("MF3", "MF4"):  # linear / quadratic prior: the far-field force is the prior's own, not zero
        d, jac, _ = m.descriptor.transform_with_jacobian(x)
        f_prior = -m.descriptor.pullback(m.prior.gradient(d), jac)
        assert np.abs(f_prior).max() > 1e-5 and np.allclose(f, f_prior, rtol=1e-4, atol=1e-9)
    else:
        assert np.abs(f).max() < 1e-6


def test_custom_callable_prior_with_fd_gradient(water):
    w = np.array([0.1, -0.2, 0.05])
    X, E, _ = water.subset("train", 30)
    m = GPRPotential(water.symbols, prior=lambda D: E.mean() + D @ w, lengthscale=0.4, noise=1e-6).fit(X, E)
    x = water.subset("test", 1)[0][0]
    _, f = m.energy_and_forces(x)
    h = 1e-4
    fd = -(m.predict(x + h * np.eye(9)[0].reshape(3, 3)) - m.predict(x - h * np.eye(9)[0].reshape(3, 3))) / (2 * h)
    assert np.isclose(f[0, 0], fd, atol=1e-5)


def test_tuning_picks_the_best_grid_point(water):
    X, E, _ = water.subset("train", 100)
    Xv, Ev, _ = water.subset("val", 50)
    m = GPRPotential(water.symbols, prior="MF2")
    rep = m.tune(X, E, val_positions=Xv, val_energies=Ev, lengthscales=(0.05, 0.3, 1.0), noises=(1e-8,))
    assert rep["best"]["val_rmse"] == min(r["val_rmse"] for r in rep["grid"])
    assert float(m.lengthscale) == rep["best"]["lengthscale"]
    rep2 = m.tune(X, E, lengthscales=(0.05, 0.3, 1.0), noises=(1e-8,), method="likelihood")
    assert rep2["best"]["lml"] == max(r["lml"] for r in rep2["grid"])


# ------------------------------------------------------------------ ASE calculator
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ASE 3.29 renamed MaxwellBoltzmannDistribution
def test_calculator_runs_ase_md_and_optimizer(water):
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet
    from ase.optimize import BFGS

    m = _model(water, "MF5", n=300, lengthscale=0.5)
    atoms = water.reference_atoms()
    atoms.calc = m.as_ase_calculator()
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.RandomState(0))
    e0 = atoms.get_total_energy()
    VelocityVerlet(atoms, 0.25 * units.fs).run(40)
    assert abs(atoms.get_total_energy() - e0) < 2e-3  # NVE: energy conserved by a smooth model
    atoms.set_velocities(np.zeros((3, 3)))
    BFGS(atoms, logfile=None).run(fmax=0.01, steps=100)
    assert np.abs(atoms.get_forces()).max() < 0.01
    r = np.linalg.norm(atoms.positions[1] - atoms.positions[0])
    assert abs(r - np.linalg.norm(water.reference_positions[1] - water.reference_positions[0])) < 0.02


def test_bad_input_raises_typed_errors(ma, water):
    with pytest.raises(UnknownNameError, match="(?i)mf5"):
        GPRPotential(ma.symbols, prior="MF6")
    m = _model(water, "MF2", n=20)
    atoms = ma.reference_atoms()
    atoms.calc = m.as_ase_calculator()
    with pytest.raises(ShapeMismatchError):
        atoms.get_potential_energy()  # 9 atoms for a 3-atom model
    calc = m.as_ase_calculator()
    ok = water.reference_atoms()
    ok.calc = calc
    ok.get_potential_energy()
    w = water.reference_atoms()[[1, 0, 2]]  # H O H: wrong order, same calculator object reused
    w.calc = calc
    with pytest.raises(ShapeMismatchError, match="order"):
        w.get_potential_energy()
    w = water.reference_atoms()
    w.positions[0, 0] = np.nan
    w.calc = m.as_ase_calculator()
    with pytest.raises(InvalidStateError):
        w.get_forces()
    with pytest.raises(ShapeMismatchError):
        m.predict(np.zeros((2, 4, 3)))
    with pytest.raises(NotFittedError):
        GPRPotential(water.symbols).predict(water.reference_positions)  # not trained
    with pytest.raises(InvalidParameterError):
        GPRPotential(water.symbols, lengthscale=-1.0)


# ------------------------------------------------------------------ crash criterion
def test_crash_criterion(ma):
    ref = ma.reference_atoms()
    crit = CrashCriterion(ref)
    assert crit.check(ref.positions) is None
    # central C-H (atoms 1, 5) stretched by 0.6 A -> crash; by 0.3 A -> fine
    assert crit.check(stretch_geometries(ref, 1, 5, [1.08 + 0.6])[0]) is not None
    assert crit.check(stretch_geometries(ref, 1, 5, [1.08 + 0.3])[0]) is None
    # the enol proton hopping to the other oxygen is chemistry, not a crash
    x = ref.positions.copy()
    u = x[8] - x[3]
    x[8] = x[3] + u / np.linalg.norm(u) * 1.0
    assert crit.check(x) is None
    x = ref.positions.copy()
    x[6] = x[0] + 0.3 * (x[6] - x[0]) / np.linalg.norm(x[6] - x[0])
    assert "closer" in crit.check(x)
