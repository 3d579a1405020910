"""A physics-informed spiking OPERATOR: one network maps a problem's parameters p to its whole trajectory.

Trained with no data, from the equations of motion only, over a family of problems (:mod:`.operator_families`:
harmonic (x0, v0, omega), Morse diatomic (stretch, velocity), three LJ atoms in 3D).  Design (physics-informed
DeepONet with a spiking branch; the time path is a smooth basis, never spikes, see
shared/notes/spiking-pinn-pitfall.md):

* time is scaled per problem, tau = omega t, so every member lives on tau in [0, tau_end];
* trunk: the Gaussian kernel basis of :class:`~npsnn_edu.spiking.models.ClockSNN` (knots t_k with 3 knots of
  padding each side, width one knot spacing), with the initial conditions built in::

      x(tau) = x0 + v0' S(tau) + sum_k y_k [G(tau - t_k) - G(-t_k) - G'(-t_k) S(tau)],   S = tanh,  v0' = v0 / omega

  so x(0) = x0 and dx/dtau(0) = v0' exactly for any coefficients, and x', x'' are exact derivatives of the
  forward output (no autograd in t, no surrogate between t and x);
* amplitude scaling (``OperatorConfig.amplitude_scaling``, on by default; the benchmark ablates it): lengths are
  made dimensionless per problem, the branch sees the initial state divided by its amplitude A(p) (plus A itself,
  except for the linear harmonic family, where x(t; c p) = c x(t; p) makes the operator exactly scale
  equivariant) and its coefficients are multiplied by A(p);
* branch: p -> y (K coefficients per coordinate).  ``spiking``: p (scaled to ~[-1, 1]) is a constant input
  current (direct/rate coding) into two snnTorch LIF layers (atan surrogate, subtract reset) run for
  ``num_steps`` steps; the step-averaged spikes and membrane of layer 2 are read out linearly.
  ``spikes_only``: the readout sees only layer-2 spike rates.  ``tanh``: a tanh MLP branch of about the same
  parameter count (:func:`matched_tanh_hidden`).  Note that the spiking branch's output is piecewise
  constant in p (p reaches y only through spikes): its resolution is set by hidden size and num_steps;
* loss: the residual d^2x/dtau^2 - F(x)/(m omega^2) at fixed collocation midpoints, divided by each problem's
  amplitude, with causal weights per problem (Wang, Sankaran, Perdikaris 2022): the window is cut into
  ``causal_chunks`` pieces and piece i is weighted by exp(-eps * sum_{j<i} L_j) (detached);
* a new batch of p from the family every step (no reference data anywhere in training);
* or, instead of (or after) surrogate-gradient training, the **readout solve**
  (:meth:`OperatorTrainer.solve_readout`, :mod:`.readout_solve`): with the hidden layers fixed the loss is a
  least-squares problem in the linear readout (linear for the harmonic family), solved by Levenberg-Marquardt on
  fresh p.  Before any training step this is a *spiking reservoir* (random LIF layers, a liquid state machine);
  the same on a tanh branch is a physics-informed extreme learning machine, its control.

Evaluation (:func:`evaluate_coefficients`) uses the forward output on a dense uniform grid in physical time
(1001 points, disjoint from the training midpoints) against the analytic solution (harmonic) or a fine core
velocity-Verlet run (Morse, LJ), on held-out p drawn with another seed.  Baselines share the basis and the
evaluation: free coefficients per p with the same loss (:func:`solve_free_coefficients`), Gauss-Newton /
least squares of the basis per p (:func:`solve_gauss_newton`), and core velocity Verlet
(:func:`verlet_baseline`).  :func:`time_march` chains windows (each window's end state is the next window's p);
:func:`count_operations` counts MACs / ACs / neuron updates / kernel evaluations per trajectory.
"""
from __future__ import annotations

import json
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..device import resolve_device
from ..errors import DataFormatError, InvalidParameterError
from ..potentials import get_potential
from ..progress import progress_bar
from ..registry import Registry, normalise_name
from ..validation import (
    AtLeast,
    Boolean,
    Constraints,
    InstanceOf,
    Integer,
    Interval,
    Options,
    Positive,
    Rule,
    at_least,
    positive,
    validate_fields,
    validate_params,
    with_overrides,
)
from .check import DEFAULT_TOL, ForwardCheckWarning
from .energy import E_AC_PJ, E_MAC_PJ  # Horowitz 2014 (45 nm, fp32): the one place these constants live
from .models import SURROGATES, gaussian_kernel, lif_layer, make_surrogate
from .operator_families import OperatorFamily, PotentialFamily, available_families, get_family
from .operator_state import basis_trajectory, state_tensors, training_taus
from .readout_solve import solve_readout
from .training import cosine_learning_rate

__all__ = ["BRANCHES", "E_AC_PJ", "E_MAC_PJ", "KernelBasis", "OperatorConfig", "OperatorRangeWarning",
           "OperatorTrainer", "PhysicsOperator", "check_operator",
           "SpikingBranch", "TanhBranch", "available_families", "count_operations", "evaluate_coefficients",
           "get_family", "gaussian_kernel", "load_operator_results", "matched_tanh_hidden", "operation_energy",
           "operator_table_rows",
           "solve_free_coefficients", "solve_gauss_newton", "time_march", "verlet_baseline"]


# ------------------------------------------------------------------------------------------------
# Trunk: the Gaussian kernel basis with the initial conditions built in
# ------------------------------------------------------------------------------------------------
class KernelBasis:
    """Gaussian knots on [0, tau_end] (``n_knots`` + 2 ``pad``), width ``kernel_width`` knot spacings."""

    def __init__(self, tau_end: float, n_knots: int = 24, kernel_width: float = 1.0, pad: int = 3,
                 device: Any = "cpu"):
        self.tau_end = positive("tau_end", tau_end)
        self.n_knots = at_least("n_knots", n_knots, 4, integer=True)
        h = self.tau_end / (self.n_knots - 1)
        self.sigma = positive("kernel_width", kernel_width, hint="in knot spacings, e.g. 1.0") * h
        self.device = torch.device(device)
        self.knots = torch.as_tensor(h * (np.arange(self.n_knots + 2 * pad) - pad), dtype=torch.float64,
                                     device=self.device)

    @property
    def size(self) -> int:
        return int(self.knots.shape[0])

    def design(self, tau: Any) -> tuple[torch.Tensor, ...]:
        """(Phi0, Phi1, Phi2, S0, S1, S2): the IC-enforcing basis and its tau-derivatives at ``tau`` ``(T,)``.

        Phi_d has shape ``(T, K)``, S_d shape ``(T,)`` (S = tanh, S(0) = 0, S'(0) = 1).
        """
        tau = torch.as_tensor(tau, dtype=torch.float64, device=self.device).reshape(-1)
        zero = torch.zeros(1, dtype=torch.float64, device=self.device)
        g0 = gaussian_kernel(zero, self.knots, self.sigma, 0)  # (1, K)
        g1 = gaussian_kernel(zero, self.knots, self.sigma, 1)
        s0 = torch.tanh(tau)
        s1 = 1 - s0 * s0
        s2 = -2 * s0 * s1
        phi0 = gaussian_kernel(tau, self.knots, self.sigma, 0) - g0 - g1 * s0[:, None]
        phi1 = gaussian_kernel(tau, self.knots, self.sigma, 1) - g1 * s1[:, None]
        phi2 = gaussian_kernel(tau, self.knots, self.sigma, 2) - g1 * s2[:, None]
        return phi0, phi1, phi2, s0, s1, s2


# ------------------------------------------------------------------------------------------------
# Branches: p -> coefficients
# ------------------------------------------------------------------------------------------------
class SpikingBranch(nn.Module):
    """Features -> constant input current -> LIF -> LIF (``num_steps`` steps) -> linear readout of the mean
    layer-2 spikes (and membrane unless ``spikes_only``).  Records spike counts for :func:`count_operations`."""

    def __init__(self, n_in: int, n_out: int, hidden: int = 64, num_steps: int = 16, beta: float = 0.9,
                 spikes_only: bool = False, surrogate: str = "atan", surrogate_alpha: float = 2.0):
        super().__init__()
        grad = make_surrogate(surrogate, surrogate_alpha)
        self.num_steps = int(num_steps)
        self.spikes_only = bool(spikes_only)
        self.fc1 = nn.Linear(n_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.lif1 = lif_layer(beta, grad)  # states created per call on the input's device (snnTorch #225)
        self.lif2 = lif_layer(beta, grad)
        self.readout = nn.Linear(hidden if spikes_only else 2 * hidden, n_out)
        self.last_counts: dict[str, float] = {}

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.readout(self.hidden_features(feats))

    def hidden_features(self, feats: torch.Tensor) -> torch.Tensor:
        """What the readout sees: mean layer-2 spike rates (and mean membrane unless ``spikes_only``)."""
        cur1 = self.fc1(feats)
        mem1 = torch.zeros_like(cur1)
        mem2 = torch.zeros(feats.shape[0], self.fc2.out_features, device=feats.device, dtype=cur1.dtype)
        s1_sum = torch.zeros_like(cur1)
        s2_sum, m2_sum = torch.zeros_like(mem2), torch.zeros_like(mem2)
        for _ in range(self.num_steps):
            s1, mem1 = self.lif1(cur1, mem1)
            s2, mem2 = self.lif2(self.fc2(s1), mem2)
            s1_sum = s1_sum + s1
            s2_sum = s2_sum + s2
            m2_sum = m2_sum + mem2
        self.last_counts = {"spikes1": float(s1_sum.detach().sum()) / feats.shape[0],
                            "spikes2": float(s2_sum.detach().sum()) / feats.shape[0]}
        # snnTorch keeps the last membrane as a buffer even with init_hidden=False: drop it, so that the module
        # holds no autograd graph between calls (and can be deep-copied or pickled after training)
        self.lif1.reset_mem()
        self.lif2.reset_mem()
        rates = s2_sum / self.num_steps
        return rates if self.spikes_only else torch.cat([rates, m2_sum / self.num_steps], 1)


class TanhBranch(nn.Module):
    """tanh MLP branch (features -> hidden -> hidden -> coefficients): the physics-informed DeepONet peer."""

    def __init__(self, n_in: int, n_out: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, n_out))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.net(feats)

    def hidden_features(self, feats: torch.Tensor) -> torch.Tensor:
        """What the readout (the last linear layer) sees: the second tanh layer."""
        return self.net[:-1](feats)


def _n_params(n_in: int, n_out: int, hidden: int, readout_in: int) -> int:
    return n_in * hidden + hidden + hidden * hidden + hidden + readout_in * n_out + n_out


def matched_tanh_hidden(n_in: int, n_out: int, hidden: int) -> int:
    """Hidden width of a :class:`TanhBranch` whose parameter count is closest to a spiking branch of ``hidden``."""
    target = _n_params(n_in, n_out, hidden, 2 * hidden)
    return min(range(1, 8 * hidden), key=lambda h: abs(_n_params(n_in, n_out, h, h) - target))


BRANCHES: Registry = Registry("operator branch")
BRANCHES.register("spiking", "spiking", aliases=("snn", "lif"))
BRANCHES.register("spikes_only", "spikes_only", aliases=("spikes",))
BRANCHES.register("tanh", "tanh", aliases=("deeponet",))
#: Retired branch spellings and the name to use ("mlp" is a single-trajectory ``fit`` method, not a branch).
RENAMED_BRANCHES = {"mlp": "tanh"}


class OperatorRangeWarning(UserWarning):
    """An operator was asked about parameters outside the range of the family it was trained on."""


def _check_branch(name: str, value: Any) -> str:
    """The canonical branch name (a retired spelling says which name to use)."""
    if normalise_name(value) in RENAMED_BRANCHES:
        raise InvalidParameterError(f"the operator branch {value!r} is now called "
                                    f"{RENAMED_BRANCHES[normalise_name(value)]!r} (a tanh MLP branch); "
                                    "'mlp' names the single-trajectory fit method only")
    return BRANCHES.resolve(value)


@dataclass
class OperatorConfig:
    """Hyper-parameters of an operator run (steps are optimiser steps; each sees ``batch`` new p)."""

    branch: str = "spiking"
    hidden: int = 64
    num_steps: int = 16  # LIF steps per p (rate code resolution)
    beta: float = 0.9
    surrogate: str = "atan"
    n_knots: int = 24
    kernel_width: float = 1.0
    pad: int = 3
    n_colloc: int = 96
    batch: int = 128
    lr: float = 1e-2
    lr_min_factor: float = 0.02
    #: Horizon of the cosine schedule; None (default): the step count of the first ``OperatorTrainer.train`` call,
    #: like ``fit`` (so ``train(500)`` decays over its 500 steps).
    total_steps: int | None = None
    grad_clip: float | None = 1.0
    causal_eps: float = 1.0
    causal_chunks: int = 8
    #: Non-dimensional lengths per problem: the branch sees the state divided by its amplitude A(p)
    #: (``family.scaled_features``) and its coefficients are multiplied by A(p); False: the raw scaled p in,
    #: one constant output scale (the family's median amplitude) out.
    amplitude_scaling: bool = True
    seed: int = 0

    #: Every field's constraint, checked by :meth:`validate` (at construction and by the operator classes).
    _parameter_constraints: ClassVar[Constraints] = {
        "branch": Rule(_check_branch, invalid="transformer"),
        "hidden": AtLeast(1, integer=True),
        "num_steps": AtLeast(1, integer=True),
        "beta": Interval(0.0, 1.0, hint="membrane decay per step, e.g. 0.9"),
        "surrogate": Options(SURROGATES),
        "n_knots": AtLeast(4, integer=True),
        "kernel_width": Positive(hint="in knot spacings, e.g. 1.0"),
        "pad": AtLeast(0, integer=True),
        "n_colloc": AtLeast(1, integer=True),
        "batch": AtLeast(1, integer=True),
        "lr": Positive(),
        "lr_min_factor": Positive(),
        "total_steps": (None, AtLeast(1, integer=True)),
        "grad_clip": (None, Positive(hint="or None for no clipping")),
        "causal_eps": AtLeast(0.0, message="causal_eps must be >= 0 (0 switches causal weights off), got {value}"),
        "causal_chunks": AtLeast(1, integer=True),
        "amplitude_scaling": Boolean(),
        "seed": Integer(),
    }

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> "OperatorConfig":
        """Check every field against :attr:`_parameter_constraints` (the branch becomes its canonical name)."""
        return validate_fields(self)


class PhysicsOperator(nn.Module):
    """p -> coefficients -> x(t) for one :class:`OperatorFamily` (see the module docstring)."""

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        "family": Rule(lambda name, value: get_family(value), invalid="no_such_family"),
        "config": (None, InstanceOf(OperatorConfig)),
        "device": Rule(lambda name, value: resolve_device(value), invalid="tpu"),
    }

    def __init__(self, family: "str | OperatorFamily", config: OperatorConfig | None = None, device: Any = "cpu"):
        super().__init__()
        checked = validate_params(self._parameter_constraints, {"family": family, "config": config, "device": device})
        self.family = checked["family"]
        self.config = (checked["config"] or OperatorConfig()).validate()
        cfg = self.config
        dev = checked["device"]
        self.basis = KernelBasis(self.family.tau_end, cfg.n_knots, cfg.kernel_width, cfg.pad, device=dev)
        n_in = self._features(self.family.sample(1, seed=0)).shape[1]
        n_coef = self.basis.size * self.family.n_out
        torch.manual_seed(cfg.seed)
        if cfg.branch == "tanh":
            self.branch: nn.Module = TanhBranch(n_in, n_coef, matched_tanh_hidden(n_in, n_coef, cfg.hidden))
        else:
            self.branch = SpikingBranch(n_in, n_coef, cfg.hidden, cfg.num_steps, cfg.beta,
                                        spikes_only=cfg.branch == "spikes_only", surrogate=cfg.surrogate)
        self.out_scale = self.family.reference_amplitude
        self.to(dev)

    @property
    def device(self) -> torch.device:
        return self.basis.device

    @property
    def n_parameters(self) -> int:
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad))

    def _features(self, p: np.ndarray) -> np.ndarray:
        return self.family.scaled_features(p) if self.config.amplitude_scaling else self.family.features(p)

    def coefficients(self, p: Any) -> torch.Tensor:
        """Kernel coefficients ``(B, K, n_out)`` (float64) for parameters ``p`` ``(B, n_params)``."""
        p = self.family.check(p)
        feats = torch.as_tensor(self._features(p), dtype=torch.float32, device=self.device)
        y = self.branch(feats).to(torch.float64)
        if self.config.amplitude_scaling:
            y = y * torch.as_tensor(self.family.amplitude(p), dtype=torch.float64, device=self.device)[:, None]
        else:
            y = y * self.out_scale
        return y.reshape(len(p), self.basis.size, self.family.n_out)

    def check_range(self, p: Any, strict: bool = False) -> np.ndarray:
        """Warn (:class:`OperatorRangeWarning`), or raise InvalidParameterError with ``strict=True``, when rows of
        ``p`` lie outside the range of the family the operator was trained on; returns the out-of-range mask."""
        p = self.family.check(p)
        bad = self.family.out_of_range(p)
        if np.any(bad):
            rows = np.flatnonzero(bad)
            more = " ..." if len(rows) > 5 else ""
            msg = (f"{len(rows)} of {len(p)} parameter vectors (rows {rows[:5].tolist()}{more}) "
                   f"lie outside what this operator was trained on ({self.family.name}: {self.family.range_text()}); "
                   "its answers there are extrapolations with no accuracy guarantee")
            if strict:
                raise InvalidParameterError(msg + ": move p into that range, or train on a family that contains it")
            warnings.warn(OperatorRangeWarning(msg), stacklevel=3)
        return bad

    def predict(self, p: Any, t: Any, order: int = 0, *, strict: bool = False, check_range: bool = True
                ) -> list[np.ndarray]:
        """Physical x(t) (and dx/dt, d2x/dt2 up to ``order``) ``(B, T, N, D)`` at times ``t`` ``(B, T)`` or ``(T,)``.

        p outside the family's range: a warning with the range, or (``strict=True``) InvalidParameterError.
        """
        p = self.family.check(p)
        if check_range:
            self.check_range(p, strict)
        with torch.no_grad():
            y = self.coefficients(p)
        return coefficients_to_trajectory(self.family, self.basis, p, y, t, order)


def coefficients_to_trajectory(family: OperatorFamily, basis: KernelBasis, p: np.ndarray, y: torch.Tensor, t: Any,
                               order: int = 0) -> list[np.ndarray]:
    """Forward output of the basis with coefficients ``y``: physical x, dx/dt, ... at ``t`` (per-row times)."""
    b = len(p)
    t = np.asarray(t, dtype=float)
    t = np.broadcast_to(t, (b, t.shape[-1])) if t.ndim == 1 else t
    x0, w0, om, _ = state_tensors(family, p, basis.device)
    outs = [np.empty((b, t.shape[1], family.n_particles, family.dim)) for _ in range(order + 1)]
    with torch.no_grad():
        for i in range(b):
            tau = torch.as_tensor(np.array(t[i]), dtype=torch.float64, device=basis.device) * om[i]
            vals = basis_trajectory(basis.design(tau), x0[i:i + 1], w0[i:i + 1], y[i:i + 1].to(basis.device), order)
            for d, v in enumerate(vals):
                outs[d][i] = (v[0] * om[i] ** d).reshape(t.shape[1], family.n_particles, family.dim).cpu().numpy()
    return outs


def _residual_loss(family: OperatorFamily, design: tuple[torch.Tensor, ...], x0: torch.Tensor, w0: torch.Tensor,
                   om: torch.Tensor, amp: torch.Tensor, y: torch.Tensor, eps: float, chunks: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(causally weighted loss, plain per-problem mean squared residual ``(B,)``)."""
    x, _, a = basis_trajectory(design, x0, w0, y, order=2)
    b, t_n, _ = x.shape
    shape = (b, t_n, family.n_particles, family.dim)
    acc = family.accel(x.reshape(shape), om * om).reshape(b, t_n, -1)
    res = ((a - acc) / amp[:, None, None]).pow(2).mean(2)  # (B, T)
    if eps > 0 and chunks > 1:
        lc = torch.stack([c.mean(1) for c in torch.tensor_split(res, chunks, dim=1)], 1)  # (B, chunks)
        before = torch.cumsum(torch.cat([lc.new_zeros(b, 1), lc[:, :-1]], 1), 1)
        w = torch.exp(-eps * before).detach()
        loss = (w * lc).mean()
    else:
        loss = res.mean()
    return loss, res.mean(1).detach()


class OperatorTrainer:
    """Trains a :class:`PhysicsOperator` over its family; ``train(k)`` can be called repeatedly.

    ``device``: resolved with :func:`npsnn_edu.device.resolve_device` (``"cuda"`` without a GPU raises
    :class:`~npsnn_edu.errors.DeviceUnavailableError`).  Batches of p are drawn with a seeded NumPy generator.
    """

    #: Every ``__init__`` parameter's constraint (``overrides`` are OperatorConfig fields, checked by its table).
    _parameter_constraints: ClassVar[Constraints] = PhysicsOperator._parameter_constraints

    def __init__(self, family: "str | OperatorFamily" = "harmonic", config: OperatorConfig | None = None,
                 device: Any = "cpu", **overrides: Any):
        checked = validate_params(self._parameter_constraints, {"family": family, "config": config, "device": device})
        cfg = with_overrides(checked["config"] or OperatorConfig(), overrides)
        self.device = checked["device"]
        self.model = PhysicsOperator(checked["family"], cfg, device=self.device)
        self.family, self.config = self.model.family, self.model.config
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.config.lr)
        self.design = self.model.basis.design(training_taus(self.family.tau_end, self.config.n_colloc))
        self.rng = np.random.default_rng(self.config.seed)
        self.step = 0
        self.train_seconds = 0.0
        self.losses: list[float] = []
        self.solve_seconds = 0.0  # readout solves (solve_readout)
        self.solves: list[dict[str, Any]] = []
        self.horizon: int | None = self.config.total_steps

    def lr_at(self, step: int) -> float:
        """Learning rate at ``step``: cosine decay over ``config.total_steps`` or, when that is None, over the step
        count of the first :meth:`train` call (like :func:`~npsnn_edu.spiking.training.fit`)."""
        horizon = self.horizon if self.horizon is not None else max(step, 1)
        return cosine_learning_rate(step, horizon, self.config.lr, self.config.lr_min_factor)

    def loss(self, p: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Causally weighted loss and per-problem residual for a batch ``p``."""
        x0, w0, om, amp = state_tensors(self.family, p, self.device)
        y = self.model.coefficients(p)
        return _residual_loss(self.family, self.design, x0, w0, om, amp, y, self.config.causal_eps,
                              self.config.causal_chunks)

    def train(self, n_steps: int, *, progress: bool = False) -> list[float]:
        """Run ``n_steps`` optimiser steps (each on a fresh batch of p); returns the losses of those steps."""
        n_steps = at_least("n_steps", n_steps, 0, integer=True)
        cfg = self.config
        if self.horizon is None and n_steps > 0:
            self.horizon = self.step + n_steps  # the schedule decays over this call's steps
        out = []
        with progress_bar(n_steps, f"{cfg.branch} operator ({self.family.name})", show=progress) as bar:
            for _ in range(n_steps):
                start = time.perf_counter()
                for group in self.optimizer.param_groups:
                    group["lr"] = self.lr_at(self.step)
                p = self.family.sample(cfg.batch, self.rng)
                loss, _ = self.loss(p)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                self.optimizer.step()
                self.step += 1
                self.train_seconds += time.perf_counter() - start
                out.append(float(loss.detach()))
                bar.update(1)
                if self.step % 50 == 0:
                    bar.set_postfix(loss=f"{out[-1]:.2e}")
        self.losses += out
        return out

    def solve_readout(self, n_problems: int = 2048, n_iter: int = 20, *, seed: "int | None" = None,
                      progress: bool = False) -> dict[str, Any]:
        """Fit the branch's linear readout to the equations on ``n_problems`` fresh p (Levenberg-Marquardt,
        :func:`~npsnn_edu.spiking.readout_solve.solve_readout`); the hidden layers stay as they are.

        Before any :meth:`train` step this makes a **reservoir** (random hidden layers, solved readout; the
        solve then starts from a zero readout); after training it refines the trained readout.  The p are
        drawn with ``seed`` (default: a stream of their own derived from the config seed and the number of earlier
        solves, so a second solve sees new problems).
        """

        n_problems = at_least("n_problems", n_problems, 2, integer=True)
        stream = np.random.default_rng([self.config.seed, 7, len(self.solves)])  # a new draw for every solve
        p = self.family.sample(n_problems, seed=stream if seed is None else seed)
        info = solve_readout(self.model, p, n_iter, zero_start=self.step == 0,
                             log=(lambda msg: print(msg, flush=True)) if progress else None)
        self.solve_seconds += info["seconds"]
        self.solves.append(info)
        return info

    def evaluate(self, p: Any, n_eval: int = 1001, x_ref: "np.ndarray | None" = None, *, strict: bool = False,
                 check: bool = False, tol: float = DEFAULT_TOL) -> dict[str, Any]:
        """Forward-output errors on held-out ``p`` (see :func:`evaluate_coefficients`; ``x_ref``: the reference on
        its grid, when already computed).  p outside the trained family's range warns (``strict=True`` raises);
        ``check=True`` adds the forward-output check against a fine-step velocity Verlet (:func:`check_operator`)."""
        p = self.family.check(p)
        self.model.check_range(p, strict)
        with torch.no_grad():
            y = self.model.coefficients(p)
        out = evaluate_coefficients(self.family, self.model.basis, p, y, n_eval, x_ref=x_ref)
        if check:
            out["check"] = check_operator(self.family, p, out["t"], out["x"], tol=tol)
        return out

    # -- checkpoints --------------------------------------------------------------------------------
    def save(self, path: "str | Path") -> Path:
        """Write ``path/config.json`` (family, config, step) and ``path/weights.pt`` (the operator's state_dict)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"format": OPERATOR_FORMAT, "family": self.family.config(), "config": asdict(self.config),
                "step": self.step, "horizon": self.horizon}
        (path / "config.json").write_text(json.dumps(meta, indent=2))
        torch.save(self.model.state_dict(), path / "weights.pt")
        return path

    @classmethod
    def load(cls, path: "str | Path", device: Any = "cpu", family: "OperatorFamily | None" = None
             ) -> "OperatorTrainer":
        """Rebuild a trainer from :meth:`save` output (weights through ``torch.load(weights_only=True)``): the same
        predictions, bit for bit.  A file of another kind raises :class:`~npsnn_edu.errors.DataFormatError`; a
        custom family whose potential could not be stored must be passed as ``family``."""
        path = Path(path)
        try:
            meta = json.loads((path / "config.json").read_text())
            if meta.get("format") != OPERATOR_FORMAT:
                raise KeyError(f"format {meta.get('format')!r}")
            fam_cfg, cfg, step = meta["family"], OperatorConfig(**meta["config"]), int(meta["step"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataFormatError(f"{path} is not a spiking-operator checkpoint (config.json missing or of another "
                                  f"kind: {exc}); save one with OperatorTrainer.save(path)") from exc
        if family is None:
            family = _family_from_config(fam_cfg)
        trainer = cls(family, cfg, device=device)
        try:
            state = torch.load(path / "weights.pt", map_location=trainer.device, weights_only=True)
            trainer.model.load_state_dict(state)
        except Exception as exc:  # torch raises several types for corrupt or mismatched files
            raise DataFormatError(f"{path / 'weights.pt'} could not be loaded as this operator's weights ({exc})") \
                from exc
        trainer.step, trainer.horizon = step, meta.get("horizon")
        return trainer


OPERATOR_FORMAT = "npsnn_edu.operator/1"


def _family_from_config(cfg: dict[str, Any]) -> OperatorFamily:
    if cfg.get("name") == "potential_family":
        pot = get_potential(cfg["potential"]["name"], **cfg["potential"]["params"])
        prm = dict(cfg["params"])
        return PotentialFamily(name=cfg.get("custom_name", "custom"), pot=pot,
                               **{k: (tuple(v) if isinstance(v, list) else v) for k, v in prm.items()})
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.get("params", {}).items()}
    return get_family(cfg["name"], **params)


def check_operator(family: OperatorFamily, p: np.ndarray, t: np.ndarray, x: np.ndarray, *, tol: float = DEFAULT_TOL,
                   warn: bool = True) -> dict[str, Any]:
    """The forward-output check of an operator: each trajectory ``x`` ``(B, T, N, D)`` on its grid ``t``
    ``(B, T)`` against a fine-step (>= 20000 steps per window) core velocity-Verlet run, error relative to the
    motion.  Warns (:class:`~.check.ForwardCheckWarning`) with the worst error and the tolerance when any
    trajectory fails.  Returns per-p ``errors``, ``trusted`` (bool per p) and ``verdict``."""
    from .check import verlet_on_grid

    tol = positive("tol", tol)
    x0, v0 = family.initial_state(p)
    errs = np.empty(len(p))
    for b in range(len(p)):
        xv = verlet_on_grid(family.potential(p[b:b + 1]), x0[b], v0[b], family.masses, t[b])
        motion = max(float(np.linalg.norm(xv - x0[b][None])), 1e-12)
        errs[b] = float(np.linalg.norm(x[b] - xv)) / motion
    trusted = errs <= tol
    n_bad = int(np.sum(~trusted))
    verdict = (f"check vs fine velocity Verlet: worst error {errs.max():.2e} <= tolerance {tol:.0e}: trusted"
               if n_bad == 0 else f"check vs fine velocity Verlet: {n_bad} of {len(p)} trajectories above tolerance "
               f"{tol:.0e} (worst {errs.max():.2e}): DO NOT TRUST those")
    if n_bad and warn:
        warnings.warn(ForwardCheckWarning(
            f"operator on {family.name}: {n_bad} of {len(p)} forward outputs differ from a fine-step velocity-Verlet "
            f"run of the core by more than the tolerance {tol:.2e} (worst {errs.max():.2e}, relative L2 against the "
            "motion); do not trust those trajectories"), stacklevel=3)
    return {"errors": errs, "trusted": trusted, "verdict": verdict, "tol": float(tol)}


def eval_grid(family: OperatorFamily, p: np.ndarray, n_eval: int = 1001) -> np.ndarray:
    """Dense uniform physical-time grid per problem ``(B, n_eval)`` over the window [0, tau_end / omega]."""
    t_end = family.tau_end / family.omega(p)
    return np.linspace(0.0, 1.0, int(n_eval))[None, :] * t_end[:, None]


def relative_errors(family: OperatorFamily, p: np.ndarray, x: np.ndarray, x_ref: np.ndarray) -> dict[str, np.ndarray]:
    """Per-problem relative L2: ``rel_l2`` = ||x - x_ref|| / ||x_ref||,
    ``rel_l2_disp`` = ||x - x_ref|| / ||x_ref - x0|| (relative to the displacement)."""
    x0, _ = family.initial_state(p)
    err = np.linalg.norm((x - x_ref).reshape(len(p), -1), axis=1)
    return {"rel_l2": err / np.linalg.norm(x_ref.reshape(len(p), -1), axis=1),
            "rel_l2_disp": err / np.maximum(np.linalg.norm((x_ref - x0[:, None]).reshape(len(p), -1), axis=1), 1e-300)}


def summarise(errors: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(errors)), "p90": float(np.percentile(errors, 90)), "max": float(np.max(errors))}


def evaluate_coefficients(family: OperatorFamily, basis: KernelBasis, p: np.ndarray, y: torch.Tensor,
                          n_eval: int = 1001, x_ref: "np.ndarray | None" = None) -> dict[str, Any]:
    """Forward output of coefficients ``y`` on the dense grid vs the reference: per-p errors and their summary.

    ``errors`` is the family's metric (``family.metric``); both relative errors are returned.
    """
    t = eval_grid(family, p, n_eval)
    (x,) = coefficients_to_trajectory(family, basis, p, y, t)
    if x_ref is None:
        x_ref = family.reference(p, t)
    errs = relative_errors(family, p, x, x_ref)
    main = errs[family.metric]
    return {"errors": main, **summarise(main), "metric": family.metric, "rel_l2": errs["rel_l2"],
            "rel_l2_disp": errs["rel_l2_disp"], "t": t, "x": x, "x_ref": x_ref}


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
    design = basis.design(training_taus(family.tau_end, cfg.n_colloc))
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
        loss, _ = _residual_loss(family, design, x0, w0, om, amp, y, cfg.causal_eps, cfg.causal_chunks)
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
    from torch.func import jacrev, vmap

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
    eye = torch.eye(k * c, dtype=torch.float64, device=dev)
    iters = 1 if family.name == "harmonic" else at_least("n_iter", n_iter, 1, integer=True)
    start = time.perf_counter()
    for _ in range(iters):
        j = jac(y, x0, w0, om, amp)
        r = res(y, x0, w0, om, amp)
        jtj = j.transpose(1, 2) @ j
        lam = damping * jtj.diagonal(dim1=1, dim2=2).mean(1)[:, None, None]
        y = y - torch.linalg.solve(jtj + lam * eye, (j.transpose(1, 2) @ r[..., None]))[..., 0]
    wall = time.perf_counter() - start
    return {"y": y.reshape(len(p), k, c), "basis": basis, "seconds": wall, "seconds_per_problem": wall / len(p),
            "iterations": iters}


def verlet_baseline(family: "str | OperatorFamily", p: Any, n_steps: int = 100) -> dict[str, Any]:
    """Core velocity Verlet with ``n_steps`` steps per window, judged against the reference at its own frames."""
    from ..integrators import simulate

    family = get_family(family)
    p = family.check(p)
    n_steps = at_least("n_steps", n_steps, 2, integer=True)
    t = eval_grid(family, p, n_steps + 1)
    x0, v0 = family.initial_state(p)
    xs = np.empty((len(p), n_steps + 1, family.n_particles, family.dim))
    start = time.perf_counter()
    for b in range(len(p)):
        traj = simulate(family.potential(p[b:b + 1]), x0[b], v0[b], dt=float(t[b, 1]), n_steps=n_steps,
                        masses=family.masses, progress=False)
        xs[b] = traj.positions
    wall = time.perf_counter() - start
    errs = relative_errors(family, p, xs, family.reference(p, t))[family.metric]
    return {"errors": errs, **summarise(errs), "seconds": wall, "seconds_per_problem": wall / len(p)}


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


# ------------------------------------------------------------------------------------------------
# Operation count
# ------------------------------------------------------------------------------------------------
def count_operations(model: PhysicsOperator, p: Any, n_queries: int = 1001, derivatives: int = 0) -> dict[str, float]:
    """Operations per trajectory: branch (once per p) + kernel readout at ``n_queries`` times.

    Spiking branch (spike counts measured on ``p``): fc1 once (the input current is constant over the steps:
    n_in * H MACs); per step fc2 costs one AC per layer-1 spike per target (spikes1 * H ACs in all); layer-2
    spikes into the readout cost spikes2 * n_coef ACs; the membrane part of the readout is applied once to the
    step-mean membrane (H * n_coef MACs; absent for spikes-only); neuron updates 2 H per step (decay multiply,
    add, threshold compare, reset: counted as one update each).  tanh branch: every weight is a MAC; 2 H tanh
    evaluations (counted as neuron updates).  Kernel readout: per query K exponentials and K * n_out MACs per
    derivative order (plus the S = tanh term, negligible).  ``energy_pJ`` uses :data:`E_MAC_PJ`, :data:`E_AC_PJ`
    (Horowitz 2014) for MACs and ACs only; ``total_pJ`` prices every operation on equal terms
    (:func:`operation_energy`: LIF updates, tanh and exp evaluations too).  Memory traffic is not priced.
    """
    p = model.family.check(p)
    br = model.branch
    n_coef = model.basis.size * model.family.n_out
    with torch.no_grad():
        model.coefficients(p)
    if isinstance(br, SpikingBranch):
        h, n_in = br.fc1.out_features, br.fc1.in_features
        mac = n_in * h + (0 if br.spikes_only else h * n_coef)
        ac = br.last_counts["spikes1"] * h + br.last_counts["spikes2"] * n_coef
        updates = 2 * h * br.num_steps
    else:
        lins = [m for m in br.net if isinstance(m, nn.Linear)]
        mac = sum(m.in_features * m.out_features for m in lins)
        ac = 0.0
        updates = 2 * lins[0].out_features
    q = at_least("n_queries", n_queries, 1, integer=True)
    kernel_mac = q * model.basis.size * model.family.n_out * (1 + int(derivatives))
    out = {"branch_mac": float(mac), "branch_ac": float(ac), "neuron_updates": float(updates),
           "kernel_exp": float(q * model.basis.size), "kernel_mac": float(kernel_mac)}
    out["energy_pJ"] = (out["branch_mac"] + out["kernel_mac"]) * E_MAC_PJ + out["branch_ac"] * E_AC_PJ
    out["total_pJ"] = operation_energy(out, spiking=isinstance(br, SpikingBranch))["total_pJ"]
    return out


def operation_energy(ops: dict[str, float], spiking: bool, constants: str = "fp32") -> dict[str, float]:
    """Every operation of :func:`count_operations` priced on equal terms (:mod:`.energy`: AC, MAC, LIF update,
    nonlinear function, each with its source): MACs of the branch and the kernel sum, ACs, LIF neuron updates
    (spiking branch) or tanh evaluations (tanh branch, priced as nonlinear functions), and the kernel's
    exponentials.  Returns the per-category counts and pJ and ``total_pJ``.  Works on shipped ``*_ops`` records.
    """
    from .energy import priced_counts

    updates = float(ops["neuron_updates"])
    counts = {"ac": float(ops["branch_ac"]), "mac": float(ops["branch_mac"]) + float(ops["kernel_mac"]),
              "neuron": updates if spiking else 0.0,
              "nonlinear": float(ops["kernel_exp"]) + (0.0 if spiking else updates)}
    return priced_counts(counts, constants)


# ------------------------------------------------------------------------------------------------
# Shipped results (benchmarks/npsnn_operator.py --full --save) for the notebook
# ------------------------------------------------------------------------------------------------
def load_operator_results(mode: str = "best", families: "tuple[str, ...] | None" = None) -> dict[str, Any]:
    """The shipped benchmark results per family: ``{family: data}`` (``data["_command"]`` is the command).

    ``mode``: ``"full"``, ``"quick"`` or ``"best"`` (full where it was shipped for every family, else quick).
    A separate seed run (``--save-tag _seeds``) is merged into ``seed_median_rel_l2`` / ``seed_p90_rel_l2``.
    """
    from ..precomputed import available_results, load_result
    from ..validation import one_of

    mode = one_of("mode", mode, ("best", "full", "quick"))
    names = families or tuple(available_families())
    if mode == "best":
        shipped = set(available_results())
        mode = "full" if all(f"npsnn_operator_full_{n}" in shipped for n in names) else "quick"
    out = {}
    for name in names:
        res = load_result(f"npsnn_operator_{mode}_{name}")
        data = {**res.data, "_command": res.command, "_date": res.provenance.get("date", ""), "_mode": mode}
        if f"npsnn_operator_{mode}_{name}_seeds" in available_results():
            extra = load_result(f"npsnn_operator_{mode}_{name}_seeds")
            data["seed_median_rel_l2"] = [data["heldout_median_rel_l2"],
                                          *extra.data.get("seed_median_rel_l2", [extra.data["heldout_median_rel_l2"]])]
            data["seed_p90_rel_l2"] = [data["heldout_p90_rel_l2"],
                                       *extra.data.get("seed_p90_rel_l2", [extra.data["heldout_p90_rel_l2"]])]
            data["seeds"] = [*(res.provenance.get("seeds") or [0]), *(extra.provenance.get("seeds") or [])]
            data["_seed_command"] = extra.command
        out[name] = data
    return out


_ROWS = (("spiking operator (spikes + membrane)", "heldout"), ("spiking operator, spikes-only readout", "spikes_only"),
         ("spiking operator without amplitude scaling (ablation)", "unscaled"),
         ("spiking operator + readout solve", "solved"),
         ("spiking reservoir (readout solved)", "reservoir"),
         ("spiking reservoir, spikes-only readout", "spikes_only_reservoir"),
         ("spiking reservoir at the trained width", "small_reservoir"),
         ("reservoir width, trained for the solve's time", "trained_wide"),
         ("tanh-branch operator (DeepONet)", "tanh"),
         ("tanh reservoir, readout solved (PIELM)", "tanh_reservoir"),
         ("tanh reservoir at the trained width (PIELM)", "small_tanh_reservoir"),
         ("free coefficients, per p (Adam)", "free"),
         ("Gauss-Newton / least squares, per p", "gauss_newton"), ("velocity Verlet, 50 steps", "verlet50"),
         ("velocity Verlet, 200 steps", "verlet200"))


def operator_table_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (family, method, held-out median / p90 error, parameters, of which fitted (all for gradient training,
    the readout for a readout solve), training or solve CPU s, ms per new trajectory)."""
    rows = []
    for fam, data in results.items():
        for label, key in _ROWS:
            if f"{key}_median_rel_l2" not in data:
                continue
            per_traj = data.get(f"{key}_branch_seconds_per_trajectory", data.get(f"{key}_seconds_per_trajectory"))
            rows.append({"family": fam, "method": label, "median": data[f"{key}_median_rel_l2"],
                         "p90": data.get(f"{key}_p90_rel_l2", float("nan")),
                         "params": data.get(f"{key}_params", ""),
                         "fitted_params": data.get(f"{key}_solved_params", data.get(f"{key}_params", "")),
                         "train_cpu_s": data.get(f"{key}_train_cpu_seconds", float("nan")),
                         "ms_per_traj": 1e3 * per_traj if per_traj is not None else float("nan")})
    return rows
