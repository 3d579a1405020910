"""Our GP potential vs scikit-learn's GaussianProcessRegressor on the same descriptors and data.

Data: the shipped GFN2-xTB malondialdehyde set (1000 training, 250 validation, 500 test geometries), inverse
interatomic distances as descriptor for both.

* ours: for each prior MF1..MF5, lengthscale and noise chosen on the validation set by a grid search
  (10 lengthscales x 3 noises = 30 Cholesky fits); the best prior (lowest validation RMSE) is reported.
  "fit" time = the whole tuning + final fit of ONE prior (what a user waits for).
* sklearn: ConstantKernel * RBF + WhiteKernel, normalize_y=True (its training-mean prior = our MF2),
  hyperparameters by its default L-BFGS maximisation of the marginal likelihood (n_restarts_optimizer=0).
  Also timed: one fit with the kernel fixed (optimizer=None) against our single Cholesky fit.
* ms_per_md_step: our energy + analytic forces for one malondialdehyde geometry (median over many calls).

Usage: .venv/bin/python benchmarks/gpr_vs_sklearn.py [--quick]. Last line: one JSON object.
Timings on a shared 2-core machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from npsnn_edu.gpr import GPRPotential, load  # noqa: E402
from npsnn_edu.gpr.experiments import train_model  # noqa: E402
from npsnn_edu.gpr.priors import PRIOR_NAMES  # noqa: E402
from npsnn_edu.units import KCAL_PER_MOL_EV  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer timing repeats")
    args = ap.parse_args()
    repeats = 1 if args.quick else 3
    d = load("malondialdehyde")
    X, E, _ = d.subset("train", 1000)
    Xv, Ev, _ = d.subset("val")
    Xs, Es, Fs = d.subset("test")
    k = KCAL_PER_MOL_EV

    # ours: all priors, validation-tuned
    results = {}
    for p in PRIOR_NAMES:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            m = train_model(d, p, n_train=1000)
            times.append(time.perf_counter() - t0)
        e = m.predict(Xs)
        f = np.array([m.energy_and_forces(x)[1] for x in Xs])
        val = float(np.sqrt(np.mean((m.predict(Xv) - Ev) ** 2)))
        results[p] = {"fit_s": min(times), "val_rmse_kcal": val / k, "mae_kcal": float(np.abs(e - Es).mean() / k),
                      "force_mae_kcal_A": float(np.abs(f - Fs).mean() / k), "lengthscale": float(m.lengthscale),
                      "noise": m.noise, "model": m}
        print(f"ours {p}: fit+tune {min(times):.3f} s, l={float(m.lengthscale):g}, noise={m.noise:g}, "
              f"test MAE E {results[p]['mae_kcal']:.3f} kcal/mol, F {results[p]['force_mae_kcal_A']:.3f} kcal/mol/A")
    best = min(results, key=lambda q: results[q]["val_rmse_kcal"])
    mb = results[best]["model"]

    # one fixed-hyperparameter fit of ours
    t_fixed = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        GPRPotential(d.symbols, prior="MF2", lengthscale=float(mb.lengthscale), noise=mb.noise).fit(X, E)
        t_fixed.append(time.perf_counter() - t0)

    # sklearn
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    D, Ds = mb.descriptor.transform(X), mb.descriptor.transform(Xs)
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(1.0, (1e-2, 1e2)) + WhiteKernel(1e-5, (1e-12, 1e-1))
    t_sk = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0).fit(D, E)
        t_sk.append(time.perf_counter() - t0)
    mae_sk = float(np.abs(gp.predict(Ds) - Es).mean() / k)
    print(f"sklearn (L-BFGS marginal likelihood): fit {min(t_sk):.3f} s, kernel {gp.kernel_}, test MAE E {mae_sk:.3f} kcal/mol")
    s2 = mb.signal_variance
    t_skf = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        GaussianProcessRegressor(ConstantKernel(s2, "fixed") * RBF(float(mb.lengthscale), "fixed"), alpha=mb.noise * s2,
                                 optimizer=None, normalize_y=False).fit(D, E - E.mean())
        t_skf.append(time.perf_counter() - t0)
    print(f"fixed kernel, one fit: ours {min(t_fixed) * 1e3:.1f} ms, sklearn {min(t_skf) * 1e3:.1f} ms")

    # MD step cost
    x = Xs[0]
    mb.energy_and_forces(x)
    n = 500 if args.quick else 3000
    ts = []
    for i in range(n):
        t0 = time.perf_counter()
        mb.energy_and_forces(Xs[i % len(Xs)])
        ts.append(time.perf_counter() - t0)
    ms = float(np.median(ts) * 1e3)
    print(f"energy+forces per geometry ({best}, 1000 training points): median {ms:.3f} ms, "
          f"mean {np.mean(ts) * 1e3:.3f} ms")
    out = {"benchmark": "gpr_vs_sklearn", "n_train": 1000, "fit_speedup_vs_sklearn": round(min(t_sk) / results[best]["fit_s"], 2),
           "mae_best_kcal": round(results[best]["mae_kcal"], 4), "mae_sklearn_kcal": round(mae_sk, 4),
           "ms_per_md_step": round(ms, 4), "best_prior": best,
           "fit_s_ours_with_tuning": round(results[best]["fit_s"], 3), "fit_s_sklearn_with_optimizer": round(min(t_sk), 3),
           "fixed_kernel_fit_speedup": round(min(t_skf) / min(t_fixed), 2),
           "force_mae_best_kcal_per_A": round(results[best]["force_mae_kcal_A"], 4),
           "mae_kcal_per_prior": {p: round(results[p]["mae_kcal"], 4) for p in PRIOR_NAMES}}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
