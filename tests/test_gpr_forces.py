"""GPRPotential with derivative (force) observations: dense algebra, finite differences, accuracy, prior weight."""
import numpy as np
import pytest

from npsnn_edu.errors import InvalidParameterError, NotFittedError, ShapeMismatchError
from npsnn_edu.gpr import GPRPotential, load
from npsnn_edu.gpr.model import joint_covariance


@pytest.fixture(scope="module")
def water():
    return load("water")


@pytest.fixture(scope="module")
def ma():
    return load("malondialdehyde")


def _kx(m, xa, xb):
    """Kernel (s2 = 1) between two Cartesian geometries through the model's descriptor."""
    da, db = m.descriptor.transform(xa), m.descriptor.transform(xb)
    return float(np.exp(-0.5 * np.sum(((da - db) / m.lengthscale) ** 2)))


def _fd_joint_covariance(m, X, fidx, h=1e-4):
    """Joint covariance built by central finite differences of the kernel in Cartesian coordinates
    (independent of the analytic Jacobian formulas)."""
    n, N = len(X), X.shape[1]
    c = 3 * N

    def dk_db(xa, xb):  # d k / d x_b  (c,)
        g = np.zeros(c)
        for q in range(c):
            e = np.zeros(c)
            e[q] = h
            g[q] = (_kx(m, xa, xb + e.reshape(N, 3)) - _kx(m, xa, xb - e.reshape(N, 3))) / (2 * h)
        return g

    def d2k(xa, xb):  # d^2 k / d x_a d x_b  (c, c)
        H = np.zeros((c, c))
        for p in range(c):
            e = np.zeros(c)
            e[p] = h
            H[p] = (dk_db(xa + e.reshape(N, 3), xb) - dk_db(xa - e.reshape(N, 3), xb)) / (2 * h)
        return H

    size = n + c * len(fidx)
    C = np.zeros((size, size))
    for a in range(n):
        for b in range(n):
            C[a, b] = _kx(m, X[a], X[b])
        for r, b in enumerate(fidx):
            C[a, n + r * c:n + (r + 1) * c] = dk_db(X[a], X[b])
    C[n:, :n] = C[:n, n:].T
    for r, a in enumerate(fidx):
        for s, b in enumerate(fidx):
            C[n + r * c:n + (r + 1) * c, n + s * c:n + (s + 1) * c] = d2k(X[a], X[b])
    return C


def _fit(data, prior="MF5", n=8, fidx=(1, 4), lengthscale=0.5, noise=1e-8, noise_forces=1e-6):
    X, E, F = data.subset("train", n)
    m = GPRPotential(data.symbols, prior=prior, lengthscale=lengthscale, noise=noise, noise_forces=noise_forces,
                     atom_energies=data.isolated_atom_energies)
    return m.fit(X, E, forces=F, force_indices=list(fidx)), X, E, F


def test_joint_covariance_matches_finite_differences(water):
    m, X, _, _ = _fit(water, n=5, fidx=(0, 3))
    Jf = np.array([m.descriptor.jacobian_matrix(X[i])[1] for i in (0, 3)])
    D = m.descriptor.transform(X)
    C = joint_covariance(D, D[[0, 3]], Jf, m.lengthscale)
    C_fd = _fd_joint_covariance(m, X, (0, 3))
    assert np.allclose(C, C_fd, rtol=1e-5, atol=1e-6 * np.abs(C_fd).max())


@pytest.mark.parametrize("prior", ["MF2", "MF3", "MF4", "MF5"])
def test_posterior_with_forces_matches_dense_algebra(water, prior):
    m, X, E, F = _fit(water, prior, n=6, fidx=(1, 4))
    fidx = [1, 4]
    N = X.shape[1]
    C = _fd_joint_covariance(m, X, fidx)
    n = len(E)
    C[np.arange(n), np.arange(n)] += m.noise
    C[np.arange(n, len(C)), np.arange(n, len(C))] += m.noise_forces
    D = m.descriptor.transform(X)
    prior_grad = [m.descriptor.jacobian_matrix(X[i])[1].T @ m.prior.gradient(D[i]) for i in fidx]
    g_obs = np.concatenate([-F[i].reshape(-1) - g for i, g in zip(fidx, prior_grad)])
    y = np.concatenate([E - m.prior.value(D), g_obs])
    Xs = water.subset("test", 3)[0]
    for xs in Xs:
        ks = np.array([_kx(m, xs, X[a]) for a in range(n)])
        kg = []
        for b in fidx:
            g = np.zeros(3 * N)
            for q in range(3 * N):
                e = np.zeros(3 * N)
                e[q] = 1e-4
                g[q] = (_kx(m, xs, X[b] + e.reshape(N, 3)) - _kx(m, xs, X[b] - e.reshape(N, 3))) / 2e-4
            kg.append(g)
        kv = np.concatenate([ks, np.concatenate(kg)])
        ref = m.prior.value(m.descriptor.transform(xs)[None])[0] + kv @ np.linalg.solve(C, y)
        unit = np.concatenate([np.ones(n), np.zeros(len(C) - n)])
        w_ref = 1.0 - kv @ np.linalg.solve(C, unit)
        assert abs(m.predict(xs) - ref) < 1e-5 * max(1.0, np.abs(y).max())
        assert abs(m.prior_weight(xs) - w_ref) < 1e-5


@pytest.mark.parametrize("prior", ["MF2", "MF4", "MF5"])
def test_forces_of_force_trained_model_match_finite_differences(ma, prior):
    m, _, _, _ = _fit(ma, prior, n=40, fidx=range(0, 40, 4), lengthscale=0.7)
    x = ma.subset("test", 1)[0][0]
    _, f = m.energy_and_forces(x)
    h = 1e-5
    fd = np.zeros_like(x)
    for a in range(x.shape[0]):
        for k in range(3):
            xp, xm = x.copy(), x.copy()
            xp[a, k] += h
            xm[a, k] -= h
            fd[a, k] = -(m.predict(xp) - m.predict(xm)) / (2 * h)
    assert np.allclose(f, fd, atol=1e-5 * max(1.0, np.abs(fd).max()))
    assert np.isclose(m.energy_and_forces(x)[0], m.predict(x))


def test_force_training_beats_energy_only_on_held_out_forces(ma):
    X, E, F = ma.subset("train", 200)
    Xt, _, Ft = ma.subset("test", 60)
    kw = dict(prior="MF2", lengthscale=0.7, noise=1e-8, noise_forces=1e-6)
    e_only = GPRPotential(ma.symbols, **kw).fit(X, E)
    with_f = GPRPotential(ma.symbols, **kw).fit(X, E, forces=F, force_indices=np.arange(0, 200, 10))
    mae = [np.abs(mod.energy_and_forces(Xt)[1] - Ft).mean() for mod in (e_only, with_f)]
    assert mae[1] < 0.7 * mae[0], mae


def test_prior_weight_zero_near_data_one_far_away(ma):
    m, X, _, _ = _fit(ma, "MF5", n=40, fidx=range(0, 40, 8), lengthscale=0.7)
    assert np.abs(m.prior_weight(X[:5])).max() < 1e-3
    far = X[0] * 10.0   # blown apart x10: 1/r features -> 0 (x3 still gives w ~ 0.96 at l = 0.7)
    assert m.prior_weight(far) > 0.99
    # the far field is the prior: energy -> MF5 constant
    assert abs(m.predict(far) - m.prior.value(m.descriptor.transform(far)[None])[0]) < 0.1


def test_set_hyperparameters_invalidates_fit_and_errors(ma):
    m, X, E, F = _fit(ma, "MF2", n=20, fidx=(0, 1))
    m.set_hyperparameters(0.5, 1e-8, 1e-5)
    with pytest.raises(NotFittedError):
        m.predict(X[0])
    with pytest.raises(NotFittedError):
        m.prior_weight(X[0])
    with pytest.raises(ShapeMismatchError):
        m.fit(X, E, forces=F[:, :3])
    with pytest.raises(InvalidParameterError):
        m.fit(X, E, forces=F, force_indices=[0, 0])
    with pytest.raises(InvalidParameterError):
        m.fit(X, E, force_indices=[0])
    with pytest.raises(InvalidParameterError):
        m.set_hyperparameters(0.5, 1e-8, -1.0)


def test_tune_with_forces_picks_the_best_validation_score(ma):
    X, E, F = ma.subset("train", 80)
    Xv, Ev, Fv = ma.subset("val", 30)
    m = GPRPotential(ma.symbols, prior="MF5", atom_energies=ma.isolated_atom_energies)
    rep = m.tune(X, E, forces=F, force_indices=range(0, 80, 8), val_positions=Xv, val_energies=Ev, val_forces=Fv,
                 lengthscales=(0.3, 0.7), noises=(1e-8,), noises_forces=(1e-6, 1e-4))
    assert len(rep["grid"]) == 4
    best = min(rep["grid"], key=lambda r: r["val_score"])
    assert rep["best"] == best and float(m.lengthscale) == best["lengthscale"]
    assert m.n_force_geometries == 10
