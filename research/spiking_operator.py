"""The spiking operator benchmark's own drivers (benchmarks/npsnn_operator.py and its tests; not in the package).

Per-problem baselines on the operator's basis and evaluation (:mod:`npsnn_edu.spiking.operator`): free
coefficients per p with the operator's loss (:func:`solve_free_coefficients`), the Gauss-Newton / least-squares
optimum of the basis per p (:func:`solve_gauss_newton`, the kit's one damped Gauss-Newton step), core velocity
Verlet (:func:`verlet_baseline`); long horizons: :func:`time_march` chains windows (each window's end state is
the next window's p), :func:`long_window_family` is the same family over a longer window.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch
from torch.func import jacrev, vmap

from npsnn_edu.device import resolve_device
from npsnn_edu.integrators import simulate
from npsnn_edu.spiking.basis import KernelBasis, basis_trajectory, eval_times, state_tensors, training_times
from npsnn_edu.spiking.gauss_newton import damped_gauss_newton_step
from npsnn_edu.spiking.operator import OperatorConfig, PhysicsOperator, relative_errors, residual_loss, summarize_errors
from npsnn_edu.spiking.operator_families import OperatorFamily, get_family
from npsnn_edu.spiking.training import cosine_learning_rate
from npsnn_edu.validation import at_least, positive

__all__ = ["long_window_family", "solve_free_coefficients", "solve_gauss_newton", "time_march", "verlet_baseline"]


# ------------------------------------------------------------------------------------------------
# Per-problem baselines on the same basis
# ------------------------------------------------------------------------------------------------
def _per_problem_setup(family: "str | OperatorFamily", p: Any, config: OperatorConfig | None, device: Any
                       ) -> tuple[OperatorFamily, OperatorConfig, np.ndarray, torch.device, KernelBasis,
                                  tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """What every per-p solver starts from: the family, the validated config, p, the device, the operator's basis,
    its design on the training grid and the state tensors (x0, v0', omega, amplitude) of each p."""
    family = get_family(family)
    cfg = (config or OperatorConfig()).validate()
    p = family.check(p)
    dev = resolve_device(device)
    basis = KernelBasis(family.tau_end, cfg.n_knots, cfg.kernel_width, cfg.pad, device=dev)
    design = basis.design(training_times(family.tau_end, cfg.n_colloc))
    return family, cfg, p, dev, basis, design, state_tensors(family, p, dev)


def solve_free_coefficients(family: "str | OperatorFamily", p: Any, config: OperatorConfig | None = None,
                            n_steps: int = 1000, lr: float = 1e-2, device: Any = "cpu") -> dict[str, Any]:
    """Solve each p separately: its coefficients are free parameters, same loss (causal weights, same grid).

    The problems are optimised together (the loss is a sum of independent terms and Adam is elementwise, so this
    is B independent solves; no global clipping).  Returns coefficients, wall seconds and seconds per problem.
    """
    family, cfg, p, dev, basis, design, (x0, w0, om, amp) = _per_problem_setup(family, p, config, device)
    y = torch.zeros(len(p), basis.size, family.n_out, dtype=torch.float64, device=dev, requires_grad=True)
    opt = torch.optim.Adam([y], lr=positive("lr", lr))
    n_steps = at_least("n_steps", n_steps, 1, integer=True)
    start = time.perf_counter()
    for step in range(n_steps):
        for group in opt.param_groups:
            group["lr"] = cosine_learning_rate(step, n_steps, lr, cfg.lr_min_factor)
        loss, _ = residual_loss(family, design, x0, w0, om, amp, y, cfg.causal_eps, cfg.causal_chunks)
        opt.zero_grad(set_to_none=True)
        (loss * len(p)).backward()
        opt.step()
    wall = time.perf_counter() - start
    return {"y": y.detach(), "basis": basis, "seconds": wall, "seconds_per_problem": wall / len(p)}


def solve_gauss_newton(family: "str | OperatorFamily", p: Any, config: OperatorConfig | None = None,
                       n_iter: int = 8, damping: float = 1e-8, device: Any = "cpu") -> dict[str, Any]:
    """Gauss-Newton (Levenberg-damped) optimum of the basis per p on the training grid, from y = 0.

    For the harmonic family the residual is linear in y and one iteration is the least-squares solution.
    Jacobians with ``torch.func`` (vmap over problems).  Returns coefficients and timings.
    """
    family, cfg, p, dev, basis, design, (x0, w0, om, amp) = _per_problem_setup(family, p, config, device)
    k, c = basis.size, family.n_out

    def residual(yv: torch.Tensor, x0_: torch.Tensor, w0_: torch.Tensor, om_: torch.Tensor, amp_: torch.Tensor
                 ) -> torch.Tensor:
        y1 = yv.reshape(1, k, c)
        x, _, a = basis_trajectory(design, x0_[None], w0_[None], y1, order=2)
        acc = family.accel(x.reshape(1, x.shape[1], family.n_particles, family.dim), (om_ * om_)[None])
        return ((a - acc.reshape(a.shape)) / amp_).reshape(-1)

    jac = vmap(jacrev(residual), in_dims=(0, 0, 0, 0, 0))
    res = vmap(residual, in_dims=(0, 0, 0, 0, 0))
    y = torch.zeros(len(p), k * c, dtype=torch.float64, device=dev)
    iters = 1 if family.name == "harmonic" else at_least("n_iter", n_iter, 1, integer=True)
    start = time.perf_counter()
    for _ in range(iters):
        j = jac(y, x0, w0, om, amp)
        r = res(y, x0, w0, om, amp)
        jtj = j.transpose(1, 2) @ j
        y = y + damped_gauss_newton_step(jtj, (j.transpose(1, 2) @ r[..., None])[..., 0], damping, scaling="levenberg")
    wall = time.perf_counter() - start
    return {"y": y.reshape(len(p), k, c), "basis": basis, "seconds": wall, "seconds_per_problem": wall / len(p),
            "iterations": iters}


def verlet_baseline(family: "str | OperatorFamily", p: Any, n_steps: int = 100) -> dict[str, Any]:
    """Core velocity Verlet with ``n_steps`` steps per window, judged against the reference at its own frames."""
    family = get_family(family)
    p = family.check(p)
    n_steps = at_least("n_steps", n_steps, 2, integer=True)
    t = eval_times(family.tau_end / family.omega(p), n_steps + 1)
    x0, v0 = family.initial_state(p)
    xs = np.empty((len(p), n_steps + 1, family.n_particles, family.dim))
    start = time.perf_counter()
    for b in range(len(p)):
        traj = simulate(family.potential(p[b:b + 1]), x0[b], v0[b], dt=float(t[b, 1]), n_steps=n_steps,
                        masses=family.masses, progress=False)
        xs[b] = traj.positions
    wall = time.perf_counter() - start
    errs = relative_errors(family, p, xs, family.reference(p, t))[family.metric]
    return {"errors": errs, **summarize_errors(errs), "seconds": wall, "seconds_per_problem": wall / len(p)}


# ------------------------------------------------------------------------------------------------
# Long horizons: time-marching windows
# ------------------------------------------------------------------------------------------------
def time_march(model: PhysicsOperator, p: Any, n_windows: int, n_per_window: int = 201) -> dict[str, Any]:
    """Chain ``n_windows`` windows: each window's end state (x, dx/dt from the exact derivative readout) is the
    next window's p.  Returns physical times ``(B, W * n)``, positions, velocities and the p of every window.

    For translation-invariant families (``family.galilean``: Morse, LJ) the end state's centre-of-mass position
    and velocity are taken out before mapping it to p and added back to the next window (a Galilean shift, an
    exact symmetry), so positions and velocities are continuous across windows.
    """
    fam = model.family
    p = fam.check(p)
    n_windows = at_least("n_windows", n_windows, 1, integer=True)
    n = at_least("n_per_window", n_per_window, 2, integer=True)
    ps, ts, xs, vs, ends = [p], [], [], [], []
    t_win = fam.tau_end / fam.omega(p)
    m = fam.masses[None, :, None] / fam.masses.sum()
    shift_x = np.zeros((len(p), 1, fam.dim))
    shift_v = np.zeros((len(p), 1, fam.dim))
    for w in range(n_windows):
        t_loc = np.linspace(0.0, 1.0, n)[None, :] * t_win[:, None]
        x, v = model.predict(ps[-1], t_loc, order=1, check_range=False)  # end states sit on the family's edge
        x = x + shift_x[:, None] + shift_v[:, None] * t_loc[..., None, None]
        v = v + shift_v[:, None]
        ts.append(t_loc + w * t_win[:, None])
        xs.append(x)
        vs.append(v)
        x_e, v_e = x[:, -1], v[:, -1]
        ends.append((x_e, v_e))
        if getattr(fam, "galilean", False):
            shift_x, shift_v = (x_e * m).sum(1, keepdims=True), (v_e * m).sum(1, keepdims=True)
        ps.append(fam.from_state(x_e - shift_x, v_e - shift_v, ps[-1]))
    return {"t": np.concatenate(ts, 1), "x": np.concatenate(xs, 1), "v": np.concatenate(vs, 1), "p": ps,
            "ends": ends, "n_per_window": n}


def long_window_family(family: "str | OperatorFamily", n_windows: int) -> OperatorFamily:
    """The same family over a window ``n_windows`` times longer (for the one-long-window comparison)."""
    fam = get_family(family)
    return type(fam)(**{**asdict(fam), "tau_end": fam.tau_end * at_least("n_windows", n_windows, 1, integer=True)})
