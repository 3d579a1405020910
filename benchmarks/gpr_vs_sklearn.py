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
* force-trained comparison (``force_table``): our GP with derivative observations (energies of 1000 geometries +
  forces of 100 of them, MF5, l = 0.7), the same GP on ONLY the 100 force geometries (energies + forces: equal
  data with sGDML), sklearn's GPR on the 1000 energies (normalize_y, optimised kernel), and sGDML 1.0.3
  (``sgdml.train.GDMLTrain``, the same 100 geometries with energies and forces, ``use_sym=False``, its length
  ``sig`` chosen on the validation set from ``--sgdml-sigs``). sGDML 1.0.3 calls ``np.in1d``, removed in
  numpy 2: the benchmark aliases it to ``np.isin`` before importing sgdml.

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
    ap.add_argument("--no-sgdml", action="store_true", help="skip the force-trained / sGDML table")
    ap.add_argument("--sgdml-sigs", default="10,20,40", help="sGDML length scales to validate")
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
    print(f"sklearn (L-BFGS marginal likelihood): fit {min(t_sk):.3f} s, kernel {gp.kernel_}, "
          f"test MAE E {mae_sk:.3f} kcal/mol")
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
    out = {"benchmark": "gpr_vs_sklearn", "n_train": 1000,
           "fit_speedup_vs_sklearn": round(min(t_sk) / results[best]["fit_s"], 2),
           "mae_best_kcal": round(results[best]["mae_kcal"], 4), "mae_sklearn_kcal": round(mae_sk, 4),
           "ms_per_md_step": round(ms, 4), "best_prior": best,
           "fit_s_ours_with_tuning": round(results[best]["fit_s"], 3),
           "fit_s_sklearn_with_optimizer": round(min(t_sk), 3),
           "fixed_kernel_fit_speedup": round(min(t_skf) / min(t_fixed), 2),
           "force_mae_best_kcal_per_A": round(results[best]["force_mae_kcal_A"], 4),
           "mae_kcal_per_prior": {p: round(results[p]["mae_kcal"], 4) for p in PRIOR_NAMES}}
    if not args.no_sgdml:
        out["force_table"] = force_table(d, [float(v) for v in args.sgdml_sigs.split(",")], mae_sk)
    print(json.dumps(out))


def force_table(d, sigs, mae_sklearn_kcal):
    """Energy and force MAE (kcal/mol, kcal/mol/A) on the 500 test geometries: ours with forces vs sGDML."""
    import logging

    from npsnn_edu.gpr.experiments import accuracy, build_models, force_subset

    k = KCAL_PER_MOL_EV
    X, E, F = d.subset("train", 1000)
    Xv, Ev, Fv = d.subset("val")
    Xs, Es, Fs = d.subset("test")
    idx = force_subset(1000, 100)
    rows = []
    t0 = time.perf_counter()
    ours = build_models(d, "force_trained", priors=("MF5",))["MF5"]
    acc = accuracy(ours, d)
    rows.append({"model": "ours: 1000 E + 100 F (MF5, l=0.7)", "energy_mae_kcal": acc["energy_mae_kcal"],
                 "force_mae_kcal_per_A": acc["force_mae_kcal_per_A"], "fit_s": time.perf_counter() - t0})
    t0 = time.perf_counter()
    eq = GPRPotential(d.symbols, prior="MF5", atom_energies=d.isolated_atom_energies)
    eq.tune(X[idx], E[idx], forces=F[idx], val_positions=Xv, val_energies=Ev, val_forces=Fv,
            lengthscales=(0.45, 0.7, 1.0, 1.5), noises=(1e-8,), noises_forces=(1e-6, 1e-4))
    acc = accuracy(eq, d)
    rows.append({"model": f"ours: 100 E + 100 F (MF5, l={float(eq.lengthscale):g})",
                 "energy_mae_kcal": acc["energy_mae_kcal"], "force_mae_kcal_per_A": acc["force_mae_kcal_per_A"],
                 "fit_s": time.perf_counter() - t0})
    rows.append({"model": "sklearn GPR: 1000 E (normalize_y)", "energy_mae_kcal": mae_sklearn_kcal,
                 "force_mae_kcal_per_A": None, "fit_s": None})
    np.in1d = getattr(np, "in1d", np.isin)  # sgdml 1.0.3 uses np.in1d (removed in numpy 2)
    logging.disable(logging.WARNING)
    from sgdml.predict import GDMLPredict
    from sgdml.train import GDMLTrain

    z = np.array([{"H": 1, "C": 6, "N": 7, "O": 8}[s] for s in d.symbols])

    def dataset(R, En, Fo):
        return {"R": R, "E": En.reshape(-1, 1), "F": Fo, "z": z, "name": np.array(d.molecule),
                "theory": np.array("GFN2-xTB"), "r_unit": np.array("Ang"), "e_unit": np.array("eV")}

    trainer = GDMLTrain(max_processes=1)
    best = None
    for sig in sigs:
        t0 = time.perf_counter()
        task = trainer.create_task(dataset(X[idx], E[idx], F[idx]), len(idx), dataset(Xv, Ev, Fv), 50, sig=sig,
                                   use_sym=False)
        model = trainer.train(task)
        pred = GDMLPredict(model, max_processes=1)
        ev, _ = pred.predict(Xv.reshape(len(Xv), -1))
        fit_s = time.perf_counter() - t0
        val = float(np.sqrt(np.mean((ev - Ev) ** 2)))
        print(f"sGDML sig={sig:g}: val RMSE {val / k:.3f} kcal/mol, fit {fit_s:.1f} s", flush=True)
        if best is None or val < best[0]:
            best = (val, sig, pred, fit_s)
    _, sig, pred, fit_s = best
    e, f = pred.predict(Xs.reshape(len(Xs), -1))
    rows.append({"model": f"sGDML 1.0.3: 100 E + 100 F (sig={sig:g})",
                 "energy_mae_kcal": float(np.abs(e - Es).mean() / k),
                 "force_mae_kcal_per_A": float(np.abs(f.reshape(Fs.shape) - Fs).mean() / k), "fit_s": fit_s})
    for r in rows:
        print(r, flush=True)
    ratio = rows[1]["force_mae_kcal_per_A"] / rows[-1]["force_mae_kcal_per_A"]
    return {"rows": rows, "force_mae_ratio_equal_data_vs_sgdml": round(ratio, 3),
            "force_mae_ratio_ours_full_vs_sgdml": round(rows[0]["force_mae_kcal_per_A"]
                                                        / rows[-1]["force_mae_kcal_per_A"], 3)}


if __name__ == "__main__":
    main()
