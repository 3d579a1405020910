"""Gaussian-process regression potential for one molecule: E(x) = m(d(x)) + GP residual.

Model (energies in eV, descriptor ``d`` from :mod:`npsnn_edu.gpr.descriptors`):

* kernel  ``k(d, d') = s2 * exp(-|(d - d') / l|^2 / 2)`` (RBF; ``l`` a scalar = isotropic, or one per
  feature = ARD), observation noise ``s2 * noise`` (``noise`` is the *relative* nugget, dimensionless);
* prior mean ``m(d)`` from :mod:`npsnn_edu.gpr.priors` (MF1..MF5 or a callable);
* posterior mean ``E*(d) = m(d) + k(d)^T alpha`` with ``alpha = (R + noise I)^-1 (y - m(D))`` (R the kernel
  matrix with s2 = 1), computed once by a Cholesky factorisation (scipy);
* the signal variance has the closed-form maximum-likelihood value ``s2 = (y-m)^T alpha / n`` (it scales the
  predictive variance, not the mean);
* predictive variance of the latent energy ``s2 (1 - r*^T (R + noise I)^-1 r*)``;
* analytic forces ``F = -dE*/dx = -(dE*/dd) (dd/dx)`` by the chain rule.

Hyperparameters (``lengthscale``, ``noise``) are chosen by validation RMSE or by the (concentrated) log
marginal likelihood over a grid: :meth:`GPRPotential.tune`.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from ..errors import InvalidParameterError, InvalidStateError, ShapeMismatchError, unknown_name
from .descriptors import PairDescriptor
from .priors import PriorMean, get_prior


def squared_distances(A: np.ndarray, B: np.ndarray, lengthscale: "float | np.ndarray" = 1.0) -> np.ndarray:
    """``|(a - b) / l|^2`` between rows of A (n, P) and B (m, P) (vectorised, clipped at 0)."""
    l = np.asarray(lengthscale, dtype=float)
    As, Bs = np.asarray(A, float) / l, np.asarray(B, float) / l
    sq = (As**2).sum(1)[:, None] + (Bs**2).sum(1)[None, :] - 2.0 * As @ Bs.T
    return np.maximum(sq, 0.0)


def rbf_kernel(A: np.ndarray, B: np.ndarray, lengthscale: "float | np.ndarray", variance: float = 1.0) -> np.ndarray:
    """RBF kernel matrix ``variance * exp(-|(a - b)/l|^2 / 2)`` between rows of A (n, P) and B (m, P)."""
    return variance * np.exp(-0.5 * squared_distances(A, B, lengthscale))


class GPRPotential:
    """GP potential energy surface of one molecule (fixed atom count and order).

    Parameters
    ----------
    symbols : element symbols in atom order (e.g. ``["C", "C", "C", "O", "O", "H", "H", "H", "H"]``).
    prior : "MF1".."MF5" (or aliases "zero", "mean", "max", "linear", "free_atoms"), a PriorMean, or a
        callable ``fn(D) -> energies``.
    lengthscale : RBF lengthscale in descriptor units (1/Angstrom for the inverse-distance descriptor);
        a scalar (isotropic) or one value per pair feature (ARD). Choose it with :meth:`tune` (validated value
        for malondialdehyde with 1000 geometries: 1.5).
    noise : relative noise (nugget) ``sigma_n^2 / s2``, dimensionless (> 0).
    descriptor : "inverse" (1/r, default) or "distance" (r).
    atom_energies : isolated-atom energies (eV) for MF5 (default: computed with tblite, or taken from data).
    """

    def __init__(self, symbols: Sequence[str], *, prior: Any = "MF5", lengthscale: "float | Sequence[float]" = 1.0,
                 noise: float = 1e-8, descriptor: str = "inverse", atom_energies: dict[str, float] | None = None):
        self.symbols = [str(s) for s in symbols]
        self.descriptor = PairDescriptor(len(self.symbols), descriptor)
        options = {"atom_energies": atom_energies} if (isinstance(prior, str) and atom_energies is not None
                                                       and prior.lower() in ("mf5", "free_atoms")) else {}
        self.prior: PriorMean = get_prior(prior, **options)
        self.set_hyperparameters(lengthscale, noise)
        self._fitted = False

    # ------------------------------------------------------------------ hyperparameters
    def set_hyperparameters(self, lengthscale: "float | Sequence[float]", noise: float) -> None:
        l = np.asarray(lengthscale, dtype=float)
        if l.ndim not in (0, 1) or (l.ndim == 1 and l.shape[0] != self.descriptor.n_features):
            raise ShapeMismatchError(f"lengthscale must be a scalar or have {self.descriptor.n_features} entries "
                                     f"(one per atom pair), got shape {l.shape}")
        if not np.all(np.isfinite(l)) or np.any(l <= 0):
            raise InvalidParameterError(f"lengthscale must be positive, got {lengthscale!r}")
        if not np.isfinite(noise) or noise <= 0:
            raise InvalidParameterError(f"noise (relative nugget) must be positive, e.g. 1e-8; got {noise!r}")
        self.lengthscale = l
        self.noise = float(noise)
        self._fitted = False

    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    @property
    def prior_name(self) -> str:
        return self.prior.name

    def check_symbols(self, symbols: Sequence[str]) -> None:
        """Raise ShapeMismatchError unless ``symbols`` are this model's atoms in the same order."""
        symbols = [str(s) for s in symbols]
        if len(symbols) != self.n_atoms:
            raise ShapeMismatchError(f"the model was trained on {self.n_atoms} atoms ({''.join(self.symbols)}), "
                                     f"got {len(symbols)}; use the same molecule")
        if symbols != self.symbols:
            raise ShapeMismatchError(f"atom order {symbols} differs from the training order {self.symbols}; "
                                     "reorder the atoms (the descriptor is not permutation invariant)")

    # ------------------------------------------------------------------ fit
    def fit(self, positions: np.ndarray, energies: np.ndarray) -> "GPRPotential":
        """Train on positions (n, N, 3) in Angstrom and energies (n,) in eV."""
        D = self.descriptor.transform(positions)
        y = np.asarray(energies, dtype=float).reshape(-1)
        if D.ndim != 2 or len(y) != D.shape[0]:
            raise ShapeMismatchError(f"need positions (n, {self.n_atoms}, 3) and n energies; got {np.shape(positions)} "
                                     f"and {np.shape(energies)}")
        if not np.all(np.isfinite(y)):
            raise InvalidStateError("training energies contain NaN or inf")
        self._fit_descriptors(D, y)
        return self

    def _fit_descriptors(self, D: np.ndarray, y: np.ndarray, R: np.ndarray | None = None) -> None:
        self.prior.fit(D, y, self.symbols)
        resid = y - self.prior.value(D)
        R = rbf_kernel(D, D, self.lengthscale) if R is None else R.copy()
        R[np.diag_indices_from(R)] += self.noise
        try:
            self._cho = cho_factor(R, lower=True, check_finite=False)
        except np.linalg.LinAlgError as exc:
            raise InvalidParameterError(f"kernel matrix not positive definite (lengthscale {self.lengthscale}, noise "
                                        f"{self.noise}); increase noise") from exc
        self.alpha = cho_solve(self._cho, resid, check_finite=False)
        n = len(y)
        self.signal_variance = max(float(resid @ self.alpha) / n, 1e-300)
        self._logdet_half = float(np.sum(np.log(np.diag(self._cho[0]))))
        self.D_train, self.y_train = D, y
        self._Ds = D / self.lengthscale
        self._Ds_sq = (self._Ds**2).sum(1)
        self._fitted = True

    def log_marginal_likelihood(self) -> float:
        """Concentrated log marginal likelihood (s2 at its ML value) of the fitted model."""
        self._require_fit()
        n = len(self.y_train)
        return float(-0.5 * n * np.log(self.signal_variance) - self._logdet_half - 0.5 * n * (1 + np.log(2 * np.pi)))

    def _require_fit(self) -> None:
        if not self._fitted:
            raise InvalidParameterError("the model is not trained yet: call fit(positions, energies) first")

    # ------------------------------------------------------------------ predict
    def _kvec(self, d: np.ndarray) -> np.ndarray:
        ds = d / self.lengthscale
        sq = self._Ds_sq + ds @ ds - 2.0 * (self._Ds @ ds)
        return np.exp(-0.5 * np.maximum(sq, 0.0))

    def predict(self, positions: np.ndarray, return_std: bool = False) -> "np.ndarray | tuple[np.ndarray, np.ndarray]":
        """Energies (M,) in eV for positions (M, N, 3) (or one geometry (N, 3) -> shape ()); optionally the
        posterior standard deviation of the latent energy (eV)."""
        self._require_fit()
        x = np.asarray(positions, dtype=float)
        single = x.ndim == 2
        D = np.atleast_2d(self.descriptor.transform(x))
        K = rbf_kernel(D, self.D_train, self.lengthscale)
        e = self.prior.value(D) + K @ self.alpha
        if not return_std:
            return e[0] if single else e
        v = solve_triangular(self._cho[0], K.T, lower=True, check_finite=False)
        var = self.signal_variance * np.maximum(1.0 - (v**2).sum(0), 0.0)
        std = np.sqrt(var)
        return (e[0], std[0]) if single else (e, std)

    def energy_and_forces(self, positions: np.ndarray) -> tuple[float, np.ndarray]:
        """Energy (eV) and forces (N, 3) in eV/Angstrom of ONE geometry (N, 3): the fast MD path."""
        self._require_fit()
        x = np.asarray(positions, dtype=float)
        if x.ndim == 3:
            out = [self.energy_and_forces(p) for p in x]
            return np.array([e for e, _ in out]), np.array([f for _, f in out])
        d, jac, _ = self.descriptor.transform_with_jacobian(x)
        k = self._kvec(d)
        ak = self.alpha * k
        s = ak.sum()
        ds = d / self.lengthscale
        # dE/dd = dm/dd + sum_i alpha_i dk_i/dd,  dk_i/dd = -k_i (d - D_i) / l^2
        grad_d = self.prior.gradient(d) - (s * ds - ak @ self._Ds) / self.lengthscale
        energy = float(self.prior.value(d[None, :])[0] + s)
        return energy, -self.descriptor.pullback(grad_d, jac)

    def energy(self, positions: np.ndarray) -> "float | np.ndarray":
        return self.predict(positions)

    def forces(self, positions: np.ndarray) -> np.ndarray:
        return self.energy_and_forces(positions)[1]

    # ------------------------------------------------------------------ hyperparameter selection
    def tune(self, positions: np.ndarray, energies: np.ndarray, *, val_positions: np.ndarray | None = None,
             val_energies: np.ndarray | None = None, lengthscales: Iterable[float] = (0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0),
             noises: Iterable[float] = (1e-10, 1e-8, 1e-6, 1e-4), method: str = "validation",
             progress: bool = False) -> dict[str, Any]:
        """Grid search of (isotropic lengthscale, noise); refits with the best. Returns a report dict.

        ``method="validation"``: minimise validation RMSE (needs ``val_*``); ``"likelihood"``: maximise the
        concentrated log marginal likelihood on the training set.
        """
        if method not in ("validation", "likelihood"):
            raise unknown_name("tuning method", method, ["validation", "likelihood"])
        if method == "validation" and (val_positions is None or val_energies is None):
            raise InvalidParameterError("method='validation' needs val_positions and val_energies")
        D = self.descriptor.transform(positions)
        y = np.asarray(energies, float)
        Dv = self.descriptor.transform(val_positions) if val_positions is not None else None
        yv = np.asarray(val_energies, float) if val_energies is not None else None
        rows = []
        grid = [(float(l), float(nz)) for l in lengthscales for nz in noises]
        if progress:
            from tqdm.auto import tqdm
            grid = tqdm(grid, desc=f"tune {self.prior_name}")
        # squared descriptor distances once; each lengthscale only rescales them (isotropic kernel)
        sq = -0.5 * squared_distances(D, D)
        sqv = -0.5 * squared_distances(Dv, D) if Dv is not None else None
        cache: dict[float, tuple[np.ndarray, np.ndarray | None]] = {}
        for l, nz in grid:
            self.set_hyperparameters(l, nz)
            if l not in cache:
                cache.clear()
                cache[l] = (np.exp(sq / l**2), np.exp(sqv / l**2) if sqv is not None else None)
            R, Kv = cache[l]
            try:
                self._fit_descriptors(D, y, R)
            except InvalidParameterError:
                continue
            row = {"lengthscale": l, "noise": nz, "lml": self.log_marginal_likelihood()}
            if Kv is not None:
                pred = self.prior.value(Dv) + Kv @ self.alpha
                row["val_rmse"] = float(np.sqrt(np.mean((pred - yv) ** 2)))
            rows.append(row)
        if not rows:
            raise InvalidParameterError("no grid point gave a positive-definite kernel matrix; raise the noise values")
        best = (min(rows, key=lambda r: r["val_rmse"]) if method == "validation"
                else max(rows, key=lambda r: r["lml"]))
        self.set_hyperparameters(best["lengthscale"], best["noise"])
        self._fit_descriptors(D, y)
        return {"best": best, "grid": rows, "method": method}

    # ------------------------------------------------------------------ ASE
    def as_ase_calculator(self) -> Any:
        """This model as an ASE Calculator (:class:`npsnn_edu.gpr.calculator.GPRCalculator`)."""
        from .calculator import GPRCalculator

        return GPRCalculator(self)

    def __repr__(self) -> str:
        l = self.lengthscale if self.lengthscale.ndim == 0 else f"ARD[{self.lengthscale.size}]"
        n = len(self.y_train) if self._fitted else 0
        return (f"GPRPotential({''.join(self.symbols)}, prior={self.prior_name}, descriptor={self.descriptor.kind}, "
                f"lengthscale={l}, noise={self.noise:g}, n_train={n})")
