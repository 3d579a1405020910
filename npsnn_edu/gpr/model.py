"""Gaussian-process regression potential for one molecule: E(x) = m(d(x)) + GP residual.

Model (energies in eV, descriptor ``d`` from :mod:`npsnn_edu.gpr.descriptors`):

* kernel  ``k(d, d') = s2 * exp(-|(d - d') / l|^2 / 2)`` (RBF; ``l`` a scalar = isotropic, or one per
  feature = ARD);
* observations: the energies of all training geometries and, optionally, the Cartesian force components of a
  chosen subset of them (*derivative observations*). A GP and its gradient are jointly Gaussian: with
  ``J = dd/dx`` the descriptor Jacobian and ``u = (d - d') / l^2``

  - ``cov(E(x), E(x'))        = k``
  - ``cov(E(x), dE/dx'(x'))   = k u^T J'``
  - ``cov(dE/dx, dE/dx')      = J^T k (diag(1/l^2) - u u^T) J'``

  (forces are ``F = -dE/dx``); relative nuggets ``noise`` (energies) and ``noise_forces`` (force components,
  in units of ``s2`` per A^2) are added to the diagonal;
* prior mean ``m(d)`` from :mod:`npsnn_edu.gpr.priors`; its gradient ``J^T dm/dd`` is the prior of the
  gradient observations;
* posterior mean ``E*(x) = m(x) + k*(x)^T alpha`` with ``alpha = C^-1 (y - m_obs)`` (``C`` the joint
  covariance with s2 = 1), computed once by a Cholesky factorisation (scipy);
* the signal variance has the closed-form maximum-likelihood value ``s2 = (y - m)^T alpha / n_obs`` (it
  scales the predictive variance, not the mean);
* predictive variance of the latent energy ``s2 (1 - k*^T C^-1 k*)``;
* analytic forces ``F = -dE*/dx = -(dE*/dd)(dd/dx)`` by the chain rule;
* the **prior weight** ``w(x) = 1 - k*(x)^T C^-1 e`` with ``e = 1`` on the energy observations and ``0`` on
  the gradient observations (a constant shifts energies, not gradients): for a constant prior ``c`` the
  posterior mean is exactly ``w(x) c + k*^T C^-1 y_obs``, so ``w`` is the weight the prior mean has in the
  prediction. ``w -> 0`` at the data, ``w -> 1`` far away. :meth:`GPRPotential.prior_weight`.

Hyperparameters (``lengthscale``, ``noise``, ``noise_forces``) are chosen on a validation set (energy and
force RMSE) or by the concentrated log marginal likelihood over a grid: :meth:`GPRPotential.tune`.
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterable, Mapping, Sequence

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from ..errors import InvalidParameterError, InvalidStateError, ShapeMismatchError, unknown_name
from ..progress import progress_iter
from ..validation import Constraints, InstanceOf, Options, Positive, Rule, check_fitted, validate_params
from .calculator import GPRCalculator
from .descriptors import DESCRIPTORS, PairDescriptor
from .priors import PRIORS, PriorMean, get_prior


def squared_distances(A: np.ndarray, B: np.ndarray, lengthscale: "float | np.ndarray" = 1.0) -> np.ndarray:
    """``|(a - b) / l|^2`` between rows of A (n, P) and B (m, P) (vectorised, clipped at 0).

    Parameters
    ----------
    A : array of shape (n, n_features)
        Descriptors.
    B : array of shape (m, n_features)
        Descriptors.
    lengthscale : float or array of shape (n_features,), default 1.0
        Lengthscale l.

    Returns
    -------
    array of shape (n, m)
    """
    l = np.asarray(lengthscale, dtype=float)
    As, Bs = np.asarray(A, float) / l, np.asarray(B, float) / l
    sq = (As**2).sum(1)[:, None] + (Bs**2).sum(1)[None, :] - 2.0 * As @ Bs.T
    return np.maximum(sq, 0.0)


def rbf_kernel(A: np.ndarray, B: np.ndarray, lengthscale: "float | np.ndarray", variance: float = 1.0) -> np.ndarray:
    """RBF kernel matrix ``variance * exp(-|(a - b)/l|^2 / 2)`` between rows of A (n, P) and B (m, P).

    Parameters
    ----------
    A : array of shape (n, n_features)
        Descriptors.
    B : array of shape (m, n_features)
        Descriptors.
    lengthscale : float or array of shape (n_features,)
        Lengthscale l.
    variance : float, default 1.0
        Signal variance s2.

    Returns
    -------
    array of shape (n, m)
    """
    return variance * np.exp(-0.5 * squared_distances(A, B, lengthscale))


def joint_covariance(D: np.ndarray, Df: np.ndarray, Jf: np.ndarray, lengthscale: "float | np.ndarray",
                     R: np.ndarray | None = None) -> np.ndarray:
    """Joint prior covariance (s2 = 1) of energies at descriptors ``D`` (n, P) and Cartesian energy
    gradients at descriptors ``Df`` (m, P) with Jacobians ``Jf`` (m, P, 3N); shape (n + 3N m, n + 3N m).

    Parameters
    ----------
    D : array of shape (n, n_features)
        Descriptors of the energy observations.
    Df : array of shape (m, n_features)
        Descriptors of the geometries with force observations.
    Jf : array of shape (m, n_features, 3 * n_atoms)
        Their descriptor Jacobians.
    lengthscale : float or array of shape (n_features,)
        Lengthscale l.
    R : array of shape (n, n) or None, default None
        Precomputed squared scaled distances of ``D`` (speed only).

    Returns
    -------
    array of shape (n + 3 n_atoms m, n + 3 n_atoms m)
    """
    l2 = np.asarray(lengthscale, float) ** 2 * np.ones(D.shape[1])
    n, m = len(D), len(Df)
    Kee = rbf_kernel(D, D, np.sqrt(l2)) if R is None else R
    if m == 0:
        return Kee.copy()
    c = Jf.shape[2]
    Kef = rbf_kernel(D, Df, np.sqrt(l2))                                  # (n, m)
    U = (D[:, None, :] - Df[None, :, :]) / l2                            # (n, m, P)
    Keg = np.einsum("ab,abp,bpk->abk", Kef, U, Jf).reshape(n, m * c)
    Kff = rbf_kernel(Df, Df, np.sqrt(l2))
    Uf = (Df[:, None, :] - Df[None, :, :]) / l2                          # (m, m, P)
    Jl = (Jf / np.sqrt(l2)[None, :, None]).transpose(0, 2, 1).reshape(m * c, -1)
    JJ = (Jl @ Jl.T).reshape(m, c, m, c)
    v = np.einsum("apk,abp->abk", Jf, Uf)                                 # J_a^T u_ab
    w = np.einsum("bpk,abp->abk", Jf, Uf)                                 # J_b^T u_ab
    Kgg = Kff[:, None, :, None] * (JJ - np.einsum("abk,abl->akbl", v, w))
    Kgg = Kgg.reshape(m * c, m * c)
    C = np.empty((n + m * c, n + m * c))
    C[:n, :n] = Kee
    C[:n, n:] = Keg
    C[n:, :n] = Keg.T
    C[n:, n:] = Kgg
    return C


def _check_symbols(name: str, value: Any) -> list[str]:
    """The element symbols as a list of str (at least two atoms: the descriptor is built from atom pairs)."""
    try:
        symbols = [str(s) for s in value]
    except TypeError:  # not iterable
        symbols = []
    if len(symbols) < 2:
        raise ShapeMismatchError(f"{name} must list the element symbols of at least 2 atoms in atom order "
                                 f"(e.g. ['O', 'H', 'H']), got {value!r}")
    return symbols


def _check_prior(name: str, value: Any) -> Any:
    """A registered prior name, a PriorMean or a callable ``fn(D)`` (built by :func:`get_prior`)."""
    if isinstance(value, str):
        PRIORS.resolve(value)  # UnknownNameError listing the priors
    elif not (isinstance(value, PriorMean) or callable(value)):
        get_prior(value)  # the one message for a wrong kind of prior (InvalidParameterError)
    return value


def _check_lengthscale(name: str, value: Any) -> np.ndarray:
    """A positive finite scalar or 1-D array (its length is checked against the pair count by the model)."""
    try:
        l = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        l = np.array(np.nan)
    if not np.all(np.isfinite(l)) or np.any(l <= 0):
        raise InvalidParameterError(f"{name} must be positive, got {value!r}")
    return l


class GPRPotential:
    r"""GP potential energy surface of one molecule (fixed atom count and order).

    With the descriptor :math:`d(x)` (pair distances or their inverses), the RBF kernel
    :math:`k(d, d') = s^2 \exp(-\lVert (d - d') / l \rVert^2 / 2)`, the prior mean :math:`m(d)` and the
    observations :math:`y` (energies, and optionally energy gradients :math:`-F`), the prediction is the
    posterior mean

    .. math::

        E^*(x) = m(d(x)) + k_*(x)^\top \alpha, \qquad
        \alpha = (K + \Sigma)^{-1} (y - m_{\mathrm{obs}}),

    with :math:`K` the joint covariance of the observations for :math:`s^2 = 1` (energies and gradients,
    :func:`joint_covariance`; :math:`k_*` likewise), :math:`\Sigma` the relative nuggets ``noise`` and
    ``noise_forces`` (in units of :math:`s^2`) on its diagonal and :math:`m_{\mathrm{obs}}` the prior at the
    observations (its gradient :math:`J^\top \partial m / \partial d` for the force rows). The signal variance
    :math:`s^2` (its maximum-likelihood value) scales the predictive variance only. Forces are
    :math:`F = -\partial E^* / \partial x` by the chain rule through :math:`J = \partial d / \partial x`.
    Far from the data :math:`k_* \to 0` and :math:`E^* \to m`: the prior weight
    :math:`w(x) = 1 - k_*^\top (K + \Sigma)^{-1} e` (:meth:`prior_weight`) measures how far that is.

    Parameters
    ----------
    symbols : sequence of str
        Element symbols in atom order (e.g. ``["C", "C", "C", "O", "O", "H", "H", "H", "H"]``).
    prior : str, PriorMean or callable, default "MF5"
        A prior name from :data:`npsnn_edu.gpr.priors.PRIORS` ("MF1".."MF5", "zero", "constant", "linear",
        "quadratic", "physical", ...), a PriorMean, or a callable ``fn(D) -> energies``.
    lengthscale : float or sequence of float, default 1.0
        RBF lengthscale l in descriptor units (1/A for the inverse-distance descriptor); a scalar (isotropic)
        or one value per pair feature, shape (n_atoms * (n_atoms - 1) / 2,) (ARD). Choose it with :meth:`tune`.
    noise : float, default 1e-8
        Relative nugget of the energy observations ``sigma_E^2 / s2`` (dimensionless, > 0).
    noise_forces : float, default 1e-6
        Relative nugget of the force-component observations ``sigma_F^2 / s2`` (1/A^2, > 0).
    descriptor : {"inverse", "distance"}, default "inverse"
        Pair features 1/r (1/A) or r (A).
    atom_energies : dict of str to float or None, default None
        Isolated-atom energies (eV) for the free-atom prior (default: from tblite or the data).

    Raises
    ------
    UnknownNameError
        Unknown prior or descriptor.
    ShapeMismatchError, InvalidParameterError
        A lengthscale of the wrong length, or non-positive hyperparameters.
    """

    #: Every constructor parameter's constraint (checked by ``__init__`` and :meth:`set_hyperparameters`).
    _parameter_constraints: ClassVar[Constraints] = {
        "symbols": Rule(_check_symbols, invalid=["H"]),
        "prior": Rule(_check_prior, invalid=3.0),
        "lengthscale": Rule(_check_lengthscale, invalid=-1.0),
        "noise": Positive(hint="relative energy nugget, e.g. 1e-8"),
        "noise_forces": (None, Positive(hint="relative force nugget, e.g. 1e-6")),
        "descriptor": Options(DESCRIPTORS),
        "atom_energies": (None, InstanceOf(Mapping, hint="element symbol -> isolated-atom energy in eV")),
    }

    def __init__(self, symbols: Sequence[str], *, prior: Any = "MF5", lengthscale: "float | Sequence[float]" = 1.0,
                 noise: float = 1e-8, noise_forces: float = 1e-6, descriptor: str = "inverse",
                 atom_energies: dict[str, float] | None = None):
        checked = validate_params(self._parameter_constraints, {"symbols": symbols, "prior": prior,
                                                                "descriptor": descriptor,
                                                                "atom_energies": atom_energies})
        self.symbols = checked["symbols"]
        self.descriptor = PairDescriptor(len(self.symbols), descriptor)
        self.prior: PriorMean = get_prior(prior, atom_energies=atom_energies)
        self.alpha: np.ndarray | None = None
        self.set_hyperparameters(lengthscale, noise, noise_forces)

    # ------------------------------------------------------------------ hyperparameters
    def set_hyperparameters(self, lengthscale: "float | Sequence[float]", noise: float,
                            noise_forces: float | None = None) -> None:
        """Set lengthscale and nuggets; this invalidates the fit (call :meth:`fit` again).

        Parameters
        ----------
        lengthscale : float or sequence of float
            Isotropic lengthscale, or one per pair feature (descriptor units).
        noise : float
            Relative energy nugget (> 0).
        noise_forces : float or None, default None
            Relative force nugget (1/A^2, > 0); None: keep the current one.

        Raises
        ------
        ShapeMismatchError
            A lengthscale vector of the wrong length.
        InvalidParameterError
            Non-positive values.
        """
        if noise_forces is None and not hasattr(self, "noise_forces"):
            noise_forces = 1e-6
        checked = validate_params(self._parameter_constraints, {"lengthscale": lengthscale, "noise": noise,
                                                                "noise_forces": noise_forces})
        l = checked["lengthscale"]
        if l.ndim not in (0, 1) or (l.ndim == 1 and l.shape[0] != self.descriptor.n_features):
            raise ShapeMismatchError(f"lengthscale must be a scalar or have {self.descriptor.n_features} entries "
                                     f"(one per atom pair), got shape {l.shape}")
        self.lengthscale = l
        self.noise = checked["noise"]
        if checked["noise_forces"] is not None:
            self.noise_forces = checked["noise_forces"]
        self.alpha = None

    @property
    def _fitted(self) -> bool:
        return self.alpha is not None

    @property
    def n_atoms(self) -> int:
        """Number of atoms of the molecule."""
        return len(self.symbols)

    @property
    def prior_name(self) -> str:
        """Name of the prior mean (e.g. ``"MF5"``)."""
        return self.prior.name

    @property
    def n_force_geometries(self) -> int:
        """Number of training geometries whose forces were used (0 before fitting)."""
        return 0 if not self._fitted else len(self.Df)

    def check_symbols(self, symbols: Sequence[str]) -> None:
        """Raise ShapeMismatchError unless ``symbols`` are this model's atoms in the same order.

        Parameters
        ----------
        symbols : sequence of str
            Element symbols to compare with the model's.

        Raises
        ------
        ShapeMismatchError
            Different atoms or order.
        """
        symbols = [str(s) for s in symbols]
        if len(symbols) != self.n_atoms:
            raise ShapeMismatchError(f"the model was trained on {self.n_atoms} atoms ({''.join(self.symbols)}), "
                                     f"got {len(symbols)}; use the same molecule")
        if symbols != self.symbols:
            raise ShapeMismatchError(f"atom order {symbols} differs from the training order {self.symbols}; "
                                     "reorder the atoms (the descriptor is not permutation invariant)")

    # ------------------------------------------------------------------ fit
    def _prepare(self, positions: np.ndarray, energies: np.ndarray, forces: np.ndarray | None,
                 force_indices: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        x = np.asarray(positions, dtype=float)
        D = self.descriptor.transform(x)
        y = np.asarray(energies, dtype=float).reshape(-1)
        if D.ndim != 2 or len(y) != D.shape[0]:
            raise ShapeMismatchError(f"need positions (n, {self.n_atoms}, 3) and n energies; got {np.shape(positions)} "
                                     f"and {np.shape(energies)}")
        if not np.all(np.isfinite(y)):
            raise InvalidStateError("training energies contain NaN or inf")
        c = 3 * self.n_atoms
        if forces is None:
            if force_indices is not None:
                raise InvalidParameterError("force_indices given without forces; pass forces=(n, N, 3) too")
            return D, y, np.zeros((0, D.shape[1])), np.zeros((0, D.shape[1], c)), np.zeros((0, c))
        F = np.asarray(forces, dtype=float)
        if F.shape != x.shape:
            raise ShapeMismatchError(f"forces must have the positions' shape {x.shape}, got {F.shape}")
        idx = np.arange(len(y)) if force_indices is None else np.asarray(force_indices, dtype=int).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(y) or len(set(idx.tolist())) != idx.size):
            raise InvalidParameterError(f"force_indices must be distinct indices in [0, {len(y)}), got {idx}")
        if not np.all(np.isfinite(F[idx])):
            raise InvalidStateError("training forces contain NaN or inf")
        Jf = np.zeros((len(idx), D.shape[1], c))
        for r, i in enumerate(idx):
            Jf[r] = self.descriptor.jacobian_matrix(x[i])[1]
        return D, y, D[idx], Jf, -F[idx].reshape(len(idx), c)

    def fit(self, positions: np.ndarray, energies: np.ndarray, forces: np.ndarray | None = None,
            force_indices: Any = None) -> "GPRPotential":
        """Train on positions (n, N, 3) in Angstrom and energies (n,) in eV; optionally forces (n, N, 3) in
        eV/Angstrom of the geometries ``force_indices`` (all when None) as derivative observations.

        Parameters
        ----------
        positions : array of shape (n_train, n_atoms, 3)
            Training geometries (A).
        energies : array of shape (n_train,)
            Energies (eV).
        forces : array of shape (n_train, n_atoms, 3) or None, default None
            Forces (eV/A); None: energies only.
        force_indices : sequence of int or None, default None
            Geometries whose forces are used (None: all).

        Returns
        -------
        GPRPotential
            ``self``, fitted.

        Raises
        ------
        ShapeMismatchError
            Arrays of inconsistent shapes.
        InvalidParameterError
            A kernel matrix that is not positive definite (increase the nuggets).
        """
        # hyperparameters assigned directly (model.noise = ...) are checked here, like set_hyperparameters does
        validate_params(self._parameter_constraints, {"lengthscale": self.lengthscale, "noise": self.noise,
                                                      "noise_forces": self.noise_forces})
        D, y, Df, Jf, G = self._prepare(positions, energies, forces, force_indices)
        self._fit_arrays(D, y, Df, Jf, G)
        return self

    def _fit_arrays(self, D: np.ndarray, y: np.ndarray, Df: np.ndarray, Jf: np.ndarray, G: np.ndarray,
                    C: np.ndarray | None = None) -> None:
        self.prior.fit(D, y, self.symbols)
        m, c = len(Df), Jf.shape[2]
        prior_grad = np.array([Jf[b].T @ self.prior.gradient(Df[b]) for b in range(m)]).reshape(m, c)
        resid = np.concatenate([y - self.prior.value(D), (G - prior_grad).reshape(-1)])
        C = joint_covariance(D, Df, Jf, self.lengthscale) if C is None else C.copy()
        n = len(y)
        idx = np.arange(len(C))
        C[idx[:n], idx[:n]] += self.noise
        C[idx[n:], idx[n:]] += self.noise_forces
        try:
            cho = cho_factor(C, lower=True, check_finite=False)
        except np.linalg.LinAlgError as exc:
            self.alpha = None
            raise InvalidParameterError(
                f"kernel matrix not positive definite (lengthscale {self.lengthscale}, noise {self.noise}, "
                f"noise_forces {self.noise_forces}); increase the nuggets") from exc
        self._cho = cho
        alpha = cho_solve(cho, resid, check_finite=False)
        e = np.zeros(len(C))
        e[:n] = 1.0
        gamma = cho_solve(cho, e, check_finite=False)
        self.signal_variance = max(float(resid @ alpha) / len(resid), 1e-300)
        self._logdet_half = float(np.sum(np.log(np.diag(cho[0]))))
        self.D_train, self.y_train, self.Df, self.Jf = D, y, Df, Jf
        self.y_obs = resid
        self.alpha_e, self.gamma_e = alpha[:n], gamma[:n]
        a_g, g_g = alpha[n:].reshape(m, c), gamma[n:].reshape(m, c)
        self._beta = np.einsum("bpk,bk->bp", Jf, a_g) if m else np.zeros((0, D.shape[1]))   # J_b alpha_b
        self._beta_w = np.einsum("bpk,bk->bp", Jf, g_g) if m else np.zeros((0, D.shape[1]))
        self._l2 = self.lengthscale**2 * np.ones(D.shape[1])
        self._Ds = D / self.lengthscale
        self._Ds_sq = (self._Ds**2).sum(1)
        self._Dfs = Df / self.lengthscale
        self._Dfs_sq = (self._Dfs**2).sum(1)
        # one stacked matrix for the MD fast path: energy-observation rows then force-observation rows
        self._Dall_s = np.vstack([self._Ds, self._Dfs])
        self._Dall_sq = np.concatenate([self._Ds_sq, self._Dfs_sq])
        self._const_prior = type(self.prior).gradient is PriorMean.gradient
        self._beta_l = self._beta / self._l2
        self._beta_c = (self.Df * self._beta_l).sum(1)
        self.alpha = alpha

    def log_marginal_likelihood(self) -> float:
        """Concentrated log marginal likelihood (s2 at its ML value) of the fitted model."""
        self._require_fit()
        n = len(self.y_obs)
        return float(-0.5 * n * np.log(self.signal_variance) - self._logdet_half - 0.5 * n * (1 + np.log(2 * np.pi)))

    def _require_fit(self) -> None:
        check_fitted(self, "alpha", action="call fit(positions, energies[, forces]) first (after changing "
                                           "hyperparameters too)")

    # ------------------------------------------------------------------ predict
    def _kvec(self, d: np.ndarray, Ds: np.ndarray, Ds_sq: np.ndarray) -> np.ndarray:
        ds = d / self.lengthscale
        sq = Ds_sq + ds @ ds - 2.0 * (Ds @ ds)
        return np.exp(-0.5 * np.maximum(sq, 0.0))

    def _cross_cov(self, D: np.ndarray) -> np.ndarray:
        """k*(x) for descriptors D (M, P): (M, n_obs)."""
        Ke = rbf_kernel(D, self.D_train, self.lengthscale)
        m = len(self.Df)
        if m == 0:
            return Ke
        Kf = rbf_kernel(D, self.Df, self.lengthscale)
        U = (D[:, None, :] - self.Df[None]) / self._l2
        Kg = np.einsum("ab,abp,bpk->abk", Kf, U, self.Jf).reshape(len(D), -1)
        return np.concatenate([Ke, Kg], axis=1)

    def _mean_terms(self, D: np.ndarray, coef_e: np.ndarray, coef_g: np.ndarray) -> np.ndarray:
        out = rbf_kernel(D, self.D_train, self.lengthscale) @ coef_e
        if len(self.Df):
            Kf = rbf_kernel(D, self.Df, self.lengthscale)
            # cov(E(x), g_b) . a_b = k_b (d - d_b)/l^2 . (J_b a_b) = k_b (d - d_b)/l^2 . beta_b
            proj = (D / self._l2) @ coef_g.T - ((self.Df / self._l2) * coef_g).sum(1)[None, :]
            out = out + (Kf * proj).sum(1)
        return out

    def predict(self, positions: np.ndarray, return_std: bool = False) -> "np.ndarray | tuple[np.ndarray, np.ndarray]":
        """Energies (M,) in eV for positions (M, N, 3) (or one geometry (N, 3) -> shape ()); optionally the
        posterior standard deviation of the latent energy (eV).

        Parameters
        ----------
        positions : array of shape (n_geometries, n_atoms, 3) or (n_atoms, 3)
            Geometries (A).
        return_std : bool, default False
            Also return the posterior standard deviation.

        Returns
        -------
        energy : array of shape (n_geometries,) or ()
            Posterior mean E* (eV).
        std : array of shape (n_geometries,) or ()
            Posterior standard deviation (eV), with ``return_std=True``.

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        """
        self._require_fit()
        x = np.asarray(positions, dtype=float)
        single = x.ndim == 2
        D = np.atleast_2d(self.descriptor.transform(x))
        e = self.prior.value(D) + self._mean_terms(D, self.alpha_e, self._beta)
        if not return_std:
            return e[0] if single else e
        K = self._cross_cov(D)
        v = solve_triangular(self._cho[0], K.T, lower=True, check_finite=False)
        var = self.signal_variance * np.maximum(1.0 - (v**2).sum(0), 0.0)
        std = np.sqrt(var)
        return (e[0], std[0]) if single else (e, std)

    def prior_weight(self, positions: np.ndarray) -> "float | np.ndarray":
        """``w(x) = 1 - k*(x)^T C^-1 e`` (see module docstring): the weight of the prior mean in the posterior
        mean, 0 at the data, 1 far from it. One geometry (N, 3) -> float; (M, N, 3) -> (M,).

        Parameters
        ----------
        positions : array of shape (n_geometries, n_atoms, 3) or (n_atoms, 3)
            Geometries (A).

        Returns
        -------
        float or array of shape (n_geometries,)
        """
        self._require_fit()
        x = np.asarray(positions, dtype=float)
        D = np.atleast_2d(self.descriptor.transform(x))
        w = 1.0 - self._mean_terms(D, self.gamma_e, self._beta_w)
        return float(w[0]) if x.ndim == 2 else w

    def energy_and_forces_unchecked(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Energy (eV) and forces (eV/A) of ONE geometry (N, 3) without input checks: the fast path the core's
        ``simulate`` loop calls after one validated :meth:`energy_and_forces` call
        (``Potential.energy_and_forces_unchecked``'s role).

        Parameters
        ----------
        x : array of shape (n_atoms, 3)
            One geometry (A), unchecked.

        Returns
        -------
        energy : float
            eV.
        forces : array of shape (n_atoms, 3)
            eV/A.
        """
        d, jac, _ = self.descriptor.transform_with_jacobian(x)
        n = len(self.alpha_e)
        kall = self._kvec(d, self._Dall_s, self._Dall_sq)
        k = kall[:n]
        ak = self.alpha_e * k
        s = ak.sum()
        ds = d / self.lengthscale
        # energy part: dk_i/dd = -k_i (d - D_i) / l^2
        grad_d = (s * ds - ak @ self._Ds) / -self.lengthscale
        if self._const_prior:
            energy = float(self.prior.constant) + float(s) if hasattr(self.prior, "constant") else \
                float(self.prior.value(d[None, :])[0] + s)
        else:
            grad_d = grad_d + self.prior.gradient(d)
            energy = float(self.prior.value(d[None, :])[0] + s)
        if len(self.Df):
            kf = kall[n:]
            # u_b = (d - Df_b) / l^2;  ub_b = u_b . beta_b = (beta_b / l^2) . d - c_b  (matrix-vector products only)
            ub = self._beta_l @ d - self._beta_c
            kub = kf * ub
            energy += float(kub.sum())
            grad_d = grad_d + kf @ self._beta_l - (kub.sum() * d - kub @ self.Df) / self._l2
        return energy, -self.descriptor.pullback(grad_d, jac)

    def energy_and_forces(self, positions: np.ndarray) -> "tuple[float, np.ndarray]":
        """Energy (eV) and forces (N, 3) in eV/Angstrom of ONE geometry (N, 3): the fast MD path.
        A stack (M, N, 3) gives arrays (M,) and (M, N, 3).

        Parameters
        ----------
        positions : array of shape (n_atoms, 3) or (n_geometries, n_atoms, 3)
            Geometries (A).

        Returns
        -------
        energy : float or array of shape (n_geometries,)
            eV.
        forces : array of shape (n_atoms, 3) or (n_geometries, n_atoms, 3)
            eV/A.

        Raises
        ------
        NotFittedError
            Called before :meth:`fit`.
        """
        self._require_fit()
        x = np.asarray(positions, dtype=float)
        if x.ndim == 3:
            out = [self.energy_and_forces_unchecked(p) for p in x]
            return np.array([e for e, _ in out]), np.array([f for _, f in out])
        return self.energy_and_forces_unchecked(x)

    def energy(self, positions: np.ndarray) -> "float | np.ndarray":
        """Posterior-mean energy (eV) of one geometry (float) or a stack (array of shape (n_geometries,)).

        Parameters
        ----------
        positions : array of shape (n_atoms, 3) or (n_geometries, n_atoms, 3)
            Geometries (A).

        Returns
        -------
        float or numpy.ndarray
        """
        return self.predict(positions)

    def forces(self, positions: np.ndarray) -> np.ndarray:
        """Forces -dE*/dx (eV/A), shaped like ``positions``.

        Parameters
        ----------
        positions : array of shape (n_atoms, 3) or (n_geometries, n_atoms, 3)
            Geometries (A).

        Returns
        -------
        numpy.ndarray
        """
        return self.energy_and_forces(positions)[1]

    # ------------------------------------------------------------------ hyperparameter selection
    def tune(self, positions: np.ndarray, energies: np.ndarray, *, forces: np.ndarray | None = None,
             force_indices: Any = None, val_positions: np.ndarray | None = None,
             val_energies: np.ndarray | None = None, val_forces: np.ndarray | None = None,
             lengthscales: Iterable[float] = (0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0),
             noises: Iterable[float] = (1e-10, 1e-8, 1e-6, 1e-4), noises_forces: Iterable[float] = (1e-6, 1e-4),
             method: str = "validation", progress: bool = False) -> dict[str, Any]:
        """Grid search of (isotropic lengthscale, energy nugget, force nugget); refits with the best.

        ``method="validation"``: minimise the validation score, energy RMSE / std(E_val) plus (when
        ``val_forces`` are given and the model is trained on forces) force RMSE / std(F_val);
        ``"likelihood"``: maximise the concentrated log marginal likelihood on the training set.
        Returns ``{"best": row, "grid": rows, "method": method}``.

        Parameters
        ----------
        positions : array of shape (n_train, n_atoms, 3)
            Training geometries (A).
        energies : array of shape (n_train,)
            Training energies (eV).
        forces : array of shape (n_train, n_atoms, 3) or None, default None
            Training forces (eV/A).
        force_indices : sequence of int or None, default None
            Geometries whose forces are used.
        val_positions : array of shape (n_val, n_atoms, 3) or None, default None
            Validation geometries (required for ``method="validation"``).
        val_energies : array of shape (n_val,) or None, default None
            Validation energies (eV).
        val_forces : array of shape (n_val, n_atoms, 3) or None, default None
            Validation forces (eV/A).
        lengthscales : iterable of float
            Grid of isotropic lengthscales.
        noises : iterable of float
            Grid of energy nuggets.
        noises_forces : iterable of float
            Grid of force nuggets.
        method : {"validation", "likelihood"}, default "validation"
            Selection criterion.
        progress : bool, default False
            Show a progress bar.

        Returns
        -------
        dict
            ``{"best": row, "grid": rows, "method": method}``.

        Raises
        ------
        UnknownNameError
            An unknown method.
        InvalidParameterError
            ``"validation"`` without validation data.
        """
        if method not in ("validation", "likelihood"):
            raise unknown_name("tuning method", method, ["validation", "likelihood"])
        if method == "validation" and (val_positions is None or val_energies is None):
            raise InvalidParameterError("method='validation' needs val_positions and val_energies")
        D, y, Df, Jf, G = self._prepare(positions, energies, forces, force_indices)
        nf_grid = list(noises_forces) if len(Df) else [self.noise_forces]
        Xv = np.asarray(val_positions, float) if val_positions is not None else None
        yv = np.asarray(val_energies, float) if val_energies is not None else None
        Fv = np.asarray(val_forces, float) if (val_forces is not None and len(Df)) else None
        rows = []
        grid = [(float(l), float(nz), float(nf)) for l in lengthscales for nz in noises for nf in nf_grid]
        if progress:
            grid = progress_iter(grid, desc=f"tune {self.prior_name}")
        cache: dict[float, np.ndarray] = {}
        for l, nz, nf in grid:
            self.set_hyperparameters(l, nz, nf)
            if l not in cache:
                cache.clear()
                cache[l] = joint_covariance(D, Df, Jf, l)
            try:
                self._fit_arrays(D, y, Df, Jf, G, cache[l])
            except InvalidParameterError:
                continue
            row = {"lengthscale": l, "noise": nz, "noise_forces": nf, "lml": self.log_marginal_likelihood()}
            if Xv is not None:
                pred = self.predict(Xv)
                row["val_rmse"] = float(np.sqrt(np.mean((pred - yv) ** 2)))
                score = row["val_rmse"] / max(float(np.std(yv)), 1e-12)
                if Fv is not None:
                    fp = self.energy_and_forces(Xv)[1]
                    row["val_force_rmse"] = float(np.sqrt(np.mean((fp - Fv) ** 2)))
                    score += row["val_force_rmse"] / max(float(np.std(Fv)), 1e-12)
                row["val_score"] = float(score)
            rows.append(row)
        if not rows:
            raise InvalidParameterError("no grid point gave a positive-definite kernel matrix; raise the noise values")
        best = (min(rows, key=lambda r: r["val_score"]) if method == "validation"
                else max(rows, key=lambda r: r["lml"]))
        self.set_hyperparameters(best["lengthscale"], best["noise"], best["noise_forces"])
        self._fit_arrays(D, y, Df, Jf, G)
        return {"best": best, "grid": rows, "method": method}

    # ------------------------------------------------------------------ ASE
    def as_ase_calculator(self) -> Any:
        """This model as an ASE Calculator (:class:`npsnn_edu.gpr.calculator.GPRCalculator`)."""
        return GPRCalculator(self)

    def __repr__(self) -> str:
        l = self.lengthscale if self.lengthscale.ndim == 0 else f"ARD[{self.lengthscale.size}]"
        n = len(self.y_train) if self._fitted else 0
        return (f"GPRPotential({''.join(self.symbols)}, prior={self.prior_name}, descriptor={self.descriptor.kind}, "
                f"lengthscale={l}, noise={self.noise:g}, noise_forces={self.noise_forces:g}, n_train={n}, "
                f"n_force_geometries={self.n_force_geometries})")
