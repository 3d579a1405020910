"""The physics-informed readout solve: the operator's last (linear) layer fitted to the equations of motion.

A branch ends in a linear readout, y(p) = A(p) (W z(p) + b), where z(p) is what the layers before it make of p
(layer-2 spike rates and mean membrane for the spiking branch, the last hidden layer for the tanh branch) and
A(p) the amplitude factor of the operator.  With the hidden layers held fixed the physics loss

    L(W, b) = mean over p, tau, coordinates of r^2,   r = (d^2x/dtau^2 - F(x) / (m omega^2)) / A(p)

is a least-squares problem in (W, b): linear for a linear force (the harmonic family: one step gives the exact
optimum), nonlinear but small otherwise (Morse, LJ), where Levenberg-Marquardt (damped Gauss-Newton with step
acceptance) solves it.  No reference data is used anywhere: only the residual of the equations.

Two uses (the benchmark ablates both, :mod:`benchmarks.npsnn_operator`):

* a **spiking reservoir** (a liquid state machine, Maass, Natschlaeger and Markram 2002): the LIF layers keep
  their random initial weights and only the readout is solved; no surrogate gradient at all;
* a **refinement** of a surrogate-trained operator (the solve starts from the trained readout).

The same solve on a tanh branch with random hidden weights is a physics-informed extreme learning machine
(PIELM, Dwivedi and Srinivasan 2020): the control for the reservoir (the benchmark matches the total parameter
count; the tanh branch then has about half as many readout weights to solve).

The Jacobian of r with respect to the coefficients y of one problem is exact and cheap:
dr[t, c] / dy[k, c'] = (Phi2[t, k] delta_cc' - H[t, c, c'] Phi0[t, k]) / A, with H = d(accel)/dx at the
trajectory's points (autograd, one pass per coordinate).  Normal equations of the readout,
sum_p (z z^T) (x) (J^T J) + damping, are solved matrix-free by conjugate gradients preconditioned with the
batch mean of J^T J, in whitened feature coordinates (exact when J^T J is the same for every p, as for the
harmonic family).
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ..errors import InvalidParameterError
from ..validation import at_least, positive
from .basis import basis_trajectory, state_tensors, training_times
from .gauss_newton import levenberg_marquardt_step

__all__ = ["branch_features", "readout_layer", "solve_readout"]


def readout_layer(branch: nn.Module) -> nn.Linear:
    """The final linear layer of a branch (``branch.readout`` of the spiking branches, the last layer of tanh).

    Parameters
    ----------
    branch : torch.nn.Module
        SpikingBranch or TanhBranch.

    Returns
    -------
    torch.nn.Linear
    """
    layer = getattr(branch, "readout", None)
    if layer is None and isinstance(getattr(branch, "net", None), nn.Sequential):
        layer = branch.net[-1]
    if not isinstance(layer, nn.Linear):
        raise InvalidParameterError(f"{type(branch).__name__} has no final linear readout to solve; use a "
                                    "spiking, spikes_only or tanh branch")
    return layer


def branch_features(model: Any, p: np.ndarray, chunk: int = 4096) -> torch.Tensor:
    """What the readout sees for problems ``p``: ``(B, F)`` float64 (the branch's ``hidden_features``).

    Parameters
    ----------
    model : PhysicsOperator
        The operator.
    p : array of shape (batch, n_params)
        Problem parameters.
    chunk : int, default 4096
        Problems per forward pass.

    Returns
    -------
    tensor of shape (batch, n_features)
    """
    p = model.family.check(p)
    out = []
    with torch.no_grad():
        for i in range(0, len(p), chunk):
            feats = torch.as_tensor(model.branch_inputs(p[i:i + chunk]), dtype=torch.float32, device=model.device)
            out.append(model.branch.hidden_features(feats).to(torch.float64))
    return torch.cat(out)


def _force_jacobian(family: Any, x: torch.Tensor, omega2: torch.Tensor) -> torch.Tensor:
    """H[b, t, c, c'] = d accel_c / d x_c' at every point of ``x`` ``(B, T, C)`` (points are independent)."""
    b, t_n, c_n = x.shape
    xg = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        acc = family.accel(xg.reshape(b, t_n, family.n_particles, family.dim), omega2).reshape(b, t_n, c_n)
        rows = [torch.autograd.grad(acc[..., c].sum(), xg, retain_graph=c < c_n - 1)[0] for c in range(c_n)]
    return torch.stack(rows, 2).detach()


def _conjugate_gradient(normal: Callable[[torch.Tensor], torch.Tensor],
                        precondition: Callable[[torch.Tensor], torch.Tensor], rhs: torch.Tensor, max_iter: int,
                        tol: float) -> tuple[torch.Tensor, int]:
    """Preconditioned conjugate gradients for ``normal(x) = rhs`` (symmetric positive definite, matrix-free);
    stops when the residual is below ``tol`` of ``|rhs|``.  Returns x and the number of iterations."""
    x = torch.zeros_like(rhs)
    res = rhs.clone()
    pre = precondition(res)
    direction = pre.clone()
    rz = (res * pre).sum()
    norm0 = float(rhs.norm()) or 1.0
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        nd = normal(direction)
        alpha = rz / (direction * nd).sum()
        x = x + alpha * direction
        res = res - alpha * nd
        if float(res.norm()) < tol * norm0:
            break
        pre = precondition(res)
        rz_new = (res * pre).sum()
        direction = pre + (rz_new / rz) * direction
        rz = rz_new
    return x, iterations


def solve_readout(model: Any, p: Any, n_iter: int = 20, *, zero_start: bool = False, ridge: float = 1e-10,
                  damping: float = 1e-3, tol: float = 1e-5, cg_iter: int = 400, cg_tol: float = 1e-9, chunk: int = 512,
                  log: "Callable[[str], None] | None" = None) -> dict[str, Any]:
    """Fit ``model``'s readout to the equations of motion on problems ``p`` (Levenberg-Marquardt); in place.

    ``zero_start``: start from W = 0, b = 0 (every coefficient zero: x = x0 + v0' tanh(tau)) instead of the
    current readout (use it for an untrained branch, whose random readout is far off).  ``ridge``: a relative
    damping that keeps the normal equations regular, added in whitened feature coordinates (it penalises how
    much a step changes the coefficients on ``p``, not the size of the weights).  Feature directions that do not
    vary over ``p`` (a silent neuron) or only at float32 rounding level (singular values under 1e-7 of the
    largest) are left out; the readout keeps its old part there.
    ``damping``: initial relative Levenberg-Marquardt damping (divided by 3 after an accepted step, multiplied by
    10 after a rejected one); the solve stops once a step lowers the loss by less than ``tol`` of itself.  The
    harmonic family is linear: one undamped step is its exact optimum.
    Returns the losses (plain mean squared residual on ``p``, no causal weights) per accepted step, the loss of
    the deployed readout (cast to the layer's precision), the number of steps, feature directions kept, CG
    iterations (and how many solves hit ``cg_iter``), and seconds.

    Parameters
    ----------
    model : PhysicsOperator
        The operator (its readout is changed in place).
    p : array of shape (batch, n_params)
        Problem parameters.
    n_iter : int, default 20
        Largest number of Levenberg-Marquardt steps.
    zero_start : bool, default False
        Start from a zero readout.
    ridge : float, default 1e-10
        Relative ridge in whitened feature coordinates.
    damping : float, default 1e-3
        Initial relative Levenberg-Marquardt damping.
    tol : float, default 1e-5
        Relative loss decrease that stops the solve.
    cg_iter : int, default 400
        Conjugate-gradient iterations per step.
    cg_tol : float, default 1e-9
        Conjugate-gradient tolerance.
    chunk : int, default 512
        Problems per Jacobian chunk.
    log : callable or None, default None
        Receives one line per step.

    Returns
    -------
    dict
    """

    fam, basis, cfg = model.family, model.basis, model.config
    p = fam.check(p)
    if len(p) < 2:
        raise InvalidParameterError("solve_readout needs a batch of problems (p with at least 2 rows; e.g. "
                                    "model.family.sample(2048, seed=...))")
    n_iter = at_least("n_iter", n_iter, 1, integer=True)
    positive("ridge", ridge, hint="e.g. 1e-10")
    positive("damping", damping, hint="e.g. 1e-3")
    dev = model.device
    k, c_n = basis.size, fam.n_out
    linear = bool(fam.scale_invariant)  # linear equations of motion: the residual is linear in the readout
    start = time.perf_counter()
    design = basis.design(training_times(fam.tau_end, cfg.n_colloc))
    phi0, phi2 = design[0], design[2]
    x0, w0, om, amp = state_tensors(fam, p, dev)
    z = branch_features(model, p)
    z = torch.cat([z, torch.ones(len(p), 1, dtype=z.dtype, device=z.device)], 1)  # (B, F + 1): bias column
    layer = readout_layer(model.branch)
    theta = torch.cat([layer.weight.detach().double(), layer.bias.detach().double()[:, None]], 1)  # (KC, F + 1)
    if zero_start:
        theta = torch.zeros_like(theta)
    scale = amp if cfg.amplitude_scaling else torch.full_like(amp, model.out_scale)
    eye_c = torch.eye(c_n, dtype=torch.float64, device=dev)

    def coefficients(th: torch.Tensor, sl: slice) -> torch.Tensor:
        return (scale[sl, None] * (z[sl] @ th.T)).reshape(-1, k, c_n)

    def residual(th: torch.Tensor, sl: slice) -> tuple[torch.Tensor, torch.Tensor]:
        x, _, a = basis_trajectory(design, x0[sl], w0[sl], coefficients(th, sl), order=2)
        b, t_n, _ = x.shape
        acc = fam.accel(x.reshape(b, t_n, fam.n_particles, fam.dim), om[sl] * om[sl]).reshape(b, t_n, c_n)
        return (a - acc) / amp[sl, None, None], x

    # problems per block: the Jacobian block holds T * C * K * C numbers per problem (about 32 MB per block)
    chunk = max(1, min(at_least("chunk", chunk, 1, integer=True), 4_000_000 // (len(phi0) * c_n * k * c_n)))
    chunks = [slice(i, min(i + chunk, len(p))) for i in range(0, len(p), chunk)]

    def loss_of(th: torch.Tensor) -> float:
        return float(sum(residual(th, sl)[0].pow(2).sum() for sl in chunks)) / (len(p) * len(phi0) * c_n)

    # whitened features: zw = z T with zw^T zw = I on the kept directions (a feature direction that never varies
    # over p, such as a silent neuron, carries no information and is left out; the readout keeps its old part
    # there).  Steps are taken in these coordinates: theta <- theta + S T^T.
    ez, uz = torch.linalg.eigh(z.T @ z)
    kept = ez > 1e-14 * float(ez.max())
    whiten = uz[:, kept] / ez[kept].sqrt()
    zw = z @ whiten  # (B, r)
    loss = loss_of(theta)
    losses = [loss]
    mu = 0.0 if linear else float(damping)
    iters = 1 if linear else n_iter
    cg_counts = [0, 0]  # CG iterations in all, solves that hit cg_iter
    last_cg = [0]  # CG iterations of the last candidate step
    stalled = False
    for it in range(iters):
        # per-problem Gauss-Newton blocks G_b = J_b^T J_b (scaled by the amplitude factor) and the gradient
        g_blocks, rhs = [], torch.zeros(k * c_n, zw.shape[1], dtype=torch.float64, device=dev)
        for sl in chunks:
            r, x = residual(theta, sl)  # (b, T, C)
            h = _force_jacobian(fam, x, om[sl] * om[sl])
            # J[b, t, c, k, c'] = Phi2[t, k] d_cc' - H[b, t, c, c'] Phi0[t, k], divided by A, times the scale
            jac = (phi2[None, :, None, :, None] * eye_c[None, None, :, None, :]
                   - h[:, :, :, None, :] * phi0[None, :, None, :, None])
            jac = jac * (scale[sl] / amp[sl])[:, None, None, None, None]
            jac = jac.reshape(len(r), -1, k * c_n)
            g_blocks.append(jac.transpose(1, 2) @ jac)
            rhs -= (jac.transpose(1, 2) @ r.reshape(len(r), -1, 1))[..., 0].T @ zw[sl]
        g = torch.cat(g_blocks)  # (B, KC, KC)
        eg, ug = torch.linalg.eigh(g.mean(0))
        eg = eg.clamp_min(0)

        def propose(mu_: float, g: torch.Tensor = g, ug: torch.Tensor = ug, eg: torch.Tensor = eg,
                    rhs: torch.Tensor = rhs, theta: torch.Tensor = theta, it: int = it) -> torch.Tensor:
            lam = (mu_ + ridge) * float(eg.mean())
            step, n_cg = _conjugate_gradient(
                lambda v: torch.einsum("bij,bj->bi", g, zw @ v.T).T @ zw + lam * v,
                # preconditioner (mean G) (x) I: exact where G_b is the same for every b
                lambda v: ug @ ((ug.T @ v) / (eg[:, None] + lam)),
                rhs, cg_iter, cg_tol)
            last_cg[0] = n_cg
            cg_counts[0] += n_cg
            if n_cg >= cg_iter:
                cg_counts[1] += 1
                if log:
                    log(f"readout solve {it}: conjugate gradients stopped at cg_iter={cg_iter} before cg_tol")
            return theta + step @ whiten.T

        accepted = levenberg_marquardt_step(propose, loss_of, loss, mu, grow_from=1e-6, shrink=3.0,
                                            max_damping=1e8, accept_equal=linear)
        if accepted is None:
            stalled = True
        else:
            theta, loss, mu = accepted
            losses.append(loss)
            if log:
                log(f"readout solve {it}: loss {losses[-2]:.3e} -> {loss:.3e} ({last_cg[0]} CG iterations)")
        if stalled or losses[-2] - loss < tol * losses[-2]:
            if log:
                log(f"readout solve {it}: converged (the loss changed by less than {tol:g} of itself, or no step "
                    "lowered it)")
            break
    with torch.no_grad():
        layer.weight.copy_(theta[:, :-1].to(layer.weight.dtype))
        layer.bias.copy_(theta[:, -1].to(layer.bias.dtype))
    # the loss of the model as deployed (its readout in the layer's own precision, float32 by default)
    deployed = torch.cat([layer.weight.detach().double(), layer.bias.detach().double()[:, None]], 1)
    return {"losses": losses, "deployed_loss": loss_of(deployed), "seconds": time.perf_counter() - start,
            "n_problems": len(p), "n_solved_parameters": int(theta.numel()), "n_features_kept": int(kept.sum()),
            "steps": len(losses) - 1, "cg_iterations": cg_counts[0], "cg_capped": cg_counts[1]}
