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
  parameter count (:func:`.models.matched_tanh_hidden`).  Note that the spiking branch's output is piecewise
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

Evaluation (:func:`trajectory_errors_of_coefficients`) uses the forward output on a dense uniform grid in physical time
(1001 points, disjoint from the training midpoints) against the analytic solution (harmonic) or a fine core
velocity-Verlet run (Morse, LJ), on held-out p drawn with another seed.  The benchmark's per-problem baselines on
the same basis (free coefficients, Gauss-Newton, velocity Verlet) and its time-marching comparison live in
``research/spiking_operator.py`` (not part of the package); the operation count of an operator is
:func:`~npsnn_edu.spiking.energy.operation_counts` (``p=`` the problems its spike counts are measured on).
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
from ..precomputed import available_results, load_result
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
    one_of,
    positive,
    validate_fields,
    validate_params,
    with_overrides,
)
from .basis import KernelBasis, basis_trajectory, eval_times, state_tensors, training_times
from .check import DEFAULT_TOL, ForwardCheckWarning, verlet_on_grid
from .energy import operator_categories, priced_counts
from .models import SURROGATES, SpikingBranch, TanhBranch, matched_tanh_hidden
from .operator_families import OperatorFamily, PotentialFamily, available_families, get_family
from .readout_solve import solve_readout
from .training import cosine_learning_rate, load_weights, write_checkpoint

__all__ = ["BRANCHES", "OperatorConfig", "OperatorRangeWarning", "OperatorTrainer", "PhysicsOperator",
           "available_families", "check_operator", "coefficients_to_trajectory", "get_family", "load_operator_results",
           "operator_table_rows", "relative_errors", "residual_loss", "trajectory_errors_of_coefficients"]


# ------------------------------------------------------------------------------------------------
# Branches: p -> coefficients
# ------------------------------------------------------------------------------------------------
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
    """Hyper-parameters of an operator run (steps are optimiser steps; each sees ``batch`` new p).

    Parameters
    ----------
    branch : {"spiking", "tanh"}, default "spiking"
        Network that maps p to coefficients.
    hidden : int, default 64
        Neurons per hidden layer.
    num_steps : int, default 16
        LIF steps per p (rate-code resolution).
    beta : float, default 0.9
        LIF membrane decay per step.
    surrogate : {"atan", "fast_sigmoid"}, default "atan"
        Surrogate gradient.
    n_knots : int, default 24
        Kernel knots over the window.
    kernel_width : float, default 1.0
        Gaussian width in knot spacings.
    pad : int, default 3
        Extra knots on each side.
    n_colloc : int, default 96
        Collocation points per problem.
    batch : int, default 128
        New problems p per optimiser step.
    lr : float, default 1e-2
        Adam learning rate.
    lr_min_factor : float, default 0.02
        Final learning rate as a fraction of ``lr``.
    total_steps : int or None, default None
        Horizon of the cosine schedule (None: the first ``train`` call's step count).
    grad_clip : float or None, default 1.0
        Global gradient-norm clip.
    causal_eps : float, default 1.0
        Causal weighting strength (0: off).
    causal_chunks : int, default 8
        Time windows of the causal weighting.
    amplitude_scaling : bool, default True
        Non-dimensional lengths per problem (state divided by its amplitude A(p)).
    seed : int, default 0
        Seed of the network and of the drawn p.
    """

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
        """Check every field against :attr:`_parameter_constraints` (the branch becomes its canonical name).

        Returns
        -------
        OperatorConfig

        Raises
        ------
        UnknownNameError
            An unknown branch.
        InvalidParameterError
            A value out of range (the message names it).
        """
        return validate_fields(self)


class PhysicsOperator(nn.Module):
    """p -> coefficients -> x(t) for one :class:`OperatorFamily` (see the module docstring).

    Parameters
    ----------
    family : str or OperatorFamily
        The family of problems.
    config : OperatorConfig or None, default None
        Hyper-parameters (None: defaults).
    device : str, torch.device or None, default "cpu"
        Device of the network.
    """

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
        n_in = self.branch_inputs(self.family.sample(1, seed=0)).shape[1]
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
        """The device of the operator's parameters."""
        return self.basis.device

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad))

    def branch_inputs(self, p: np.ndarray) -> np.ndarray:
        """What the branch sees for parameters p ``(B, n_params)``: the scaled (amplitude-free) features, or the
        scaled raw p without amplitude scaling; shape ``(B, n_in)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        array of shape (batch, n_in)
        """
        return self.family.scaled_features(p) if self.config.amplitude_scaling else self.family.features(p)

    def coefficients(self, p: Any) -> torch.Tensor:
        """Kernel coefficients ``(B, K, n_out)`` (float64) for parameters ``p`` ``(B, n_params)``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        tensor of shape (batch, K, n_out)
        """
        p = self.family.check(p)
        feats = torch.as_tensor(self.branch_inputs(p), dtype=torch.float32, device=self.device)
        y = self.branch(feats).to(torch.float64)
        if self.config.amplitude_scaling:
            y = y * torch.as_tensor(self.family.amplitude(p), dtype=torch.float64, device=self.device)[:, None]
        else:
            y = y * self.out_scale
        return y.reshape(len(p), self.basis.size, self.family.n_out)

    def check_range(self, p: Any, strict: bool = False) -> np.ndarray:
        """Warn (:class:`OperatorRangeWarning`), or raise InvalidParameterError with ``strict=True``, when rows of
        ``p`` lie outside the range of the family the operator was trained on; returns the out-of-range mask.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.
        strict : bool, default False
            Raise instead of warning.

        Returns
        -------
        array of bool of shape (batch,)

        Raises
        ------
        InvalidParameterError
            Rows out of range with ``strict=True``.
        """
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

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.
        t : array of shape (batch, n_times) or (n_times,)
            Physical times (tau).
        order : {0, 1, 2}, default 0
            Highest time derivative returned.
        strict : bool, default False
            Raise instead of warning for p out of range.
        check_range : bool, default True
            Check p against the trained range.

        Returns
        -------
        list of arrays of shape (batch, n_times, n_atoms, n_dim)
            x, then dx/dt and d2x/dt2 up to ``order``.

        Raises
        ------
        InvalidParameterError
            p out of range with ``strict=True``.
        """
        p = self.family.check(p)
        if check_range:
            self.check_range(p, strict)
        with torch.no_grad():
            y = self.coefficients(p)
        return coefficients_to_trajectory(self.family, self.basis, p, y, t, order)


def coefficients_to_trajectory(family: OperatorFamily, basis: KernelBasis, p: np.ndarray, y: torch.Tensor, t: Any,
                               order: int = 0) -> list[np.ndarray]:
    """Forward output of the basis with coefficients ``y``: physical x, dx/dt, ... at ``t`` (per-row times).

    Parameters
    ----------
    family : OperatorFamily
        The family.
    basis : KernelBasis
        The operator's trunk.
    p : array of shape (batch, n_params)
        Problem parameters.
    y : tensor of shape (batch, K, n_out)
        Coefficients.
    t : array of shape (batch, n_times) or (n_times,)
        Physical times per problem (or one grid for all).
    order : {0, 1, 2}, default 0
        Highest time derivative returned.

    Returns
    -------
    list of arrays of shape (batch, n_times, n_atoms, n_dim)
        x, then dx/dt and d2x/dt2 up to ``order`` (physical units).
    """
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


def residual_loss(family: OperatorFamily, design: tuple[torch.Tensor, ...], x0: torch.Tensor, w0: torch.Tensor,
                   om: torch.Tensor, amp: torch.Tensor, y: torch.Tensor, eps: float, chunks: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The operator's physics loss: (causally weighted loss, plain per-problem mean squared residual ``(B,)``).

    r = (d^2x/dtau^2 - F(x) / (m omega^2)) / A(p) at the collocation points of ``design``; with ``eps`` > 0 and
    ``chunks`` > 1 the window is cut into ``chunks`` pieces weighted by exp(-eps * sum_{j<i} L_j) (detached).

    Parameters
    ----------
    family : OperatorFamily
        The family.
    design : tuple of tensors
        :meth:`~npsnn_edu.spiking.basis.KernelBasis.design` at the collocation points.
    x0, w0 : tensor of shape (batch, n_out)
        Initial positions and velocities / omega (:func:`~npsnn_edu.spiking.basis.state_tensors`).
    om, amp : tensor of shape (batch,)
        Angular frequencies and amplitudes.
    y : tensor of shape (batch, K, n_out)
        Coefficients.
    eps : float
        Causal weight (0: off).
    chunks : int
        Causal pieces of the window.

    Returns
    -------
    tuple of tensors
        The loss (scalar) and the per-problem mean squared residual (batch,), detached.
    """
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

    Parameters
    ----------
    family : str or OperatorFamily, default "harmonic"
        The family of problems (a name goes through :func:`~.operator_families.get_family`).
    config : OperatorConfig or None, default None
        Hyper-parameters (None: defaults).
    device : str, torch.device or None, default "cpu"
        Where to train.
    **overrides
        OperatorConfig fields replacing those of ``config``.
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
        self.design = self.model.basis.design(training_times(self.family.tau_end, self.config.n_colloc))
        self.rng = np.random.default_rng(self.config.seed)
        self.step = 0
        self.train_seconds = 0.0
        self.losses: list[float] = []
        self.solve_seconds = 0.0  # readout solves (solve_readout)
        self.solves: list[dict[str, Any]] = []
        self.horizon: int | None = self.config.total_steps

    def lr_at(self, step: int) -> float:
        """Learning rate at ``step``: cosine decay over ``config.total_steps`` or, when that is None, over the step
        count of the first :meth:`train` call (like :func:`~npsnn_edu.spiking.training.fit`).

        Parameters
        ----------
        step : int
            Optimiser step.

        Returns
        -------
        float
        """
        horizon = self.horizon if self.horizon is not None else max(step, 1)
        return cosine_learning_rate(step, horizon, self.config.lr, self.config.lr_min_factor)

    def loss(self, p: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Causally weighted loss and per-problem residual for a batch ``p``.

        Parameters
        ----------
        p : array of shape (batch, n_params)
            Problem parameters.

        Returns
        -------
        loss : tensor of shape ()
        residual : tensor of shape (batch,)
        """
        x0, w0, om, amp = state_tensors(self.family, p, self.device)
        y = self.model.coefficients(p)
        return residual_loss(self.family, self.design, x0, w0, om, amp, y, self.config.causal_eps,
                              self.config.causal_chunks)

    def train(self, n_steps: int, *, progress: bool = False) -> list[float]:
        """Run ``n_steps`` optimiser steps (each on a fresh batch of p); returns the losses of those steps.

        Parameters
        ----------
        n_steps : int
            Optimiser steps.
        progress : bool, default False
            Show a progress bar.

        Returns
        -------
        list of float
        """
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

        Parameters
        ----------
        n_problems : int, default 2048
            Fresh problems p of the solve.
        n_iter : int, default 20
            Levenberg-Marquardt iterations.
        seed : int or None, default None
            Seed of the drawn p (None: a stream derived from the config seed).
        progress : bool, default False
            Show a progress bar.

        Returns
        -------
        dict
            Residuals and timings of the solve.
        """

        n_problems = at_least("n_problems", n_problems, 2, integer=True)
        stream = np.random.default_rng([self.config.seed, 7, len(self.solves)])  # a new draw for every solve
        p = self.family.sample(n_problems, seed=stream if seed is None else seed)
        info = solve_readout(self.model, p, n_iter, zero_start=self.step == 0,
                             log=(lambda msg: print(msg, flush=True)) if progress else None)
        self.solve_seconds += info["seconds"]
        self.solves.append(info)
        return info

    def trajectory_errors(self, p: Any, n_eval: int = 1001, x_ref: "np.ndarray | None" = None, *,
                          strict: bool = False, check: bool = False, tol: float = DEFAULT_TOL) -> dict[str, Any]:
        """Forward-output errors on held-out ``p`` (see :func:`trajectory_errors_of_coefficients`; ``x_ref``: the
        reference on its grid, when already computed).  p outside the trained family's range warns
        (``strict=True`` raises); ``check=True`` adds the forward-output check against a fine-step velocity Verlet
        (:func:`check_operator`).

        Parameters
        ----------
        p : array of shape (n_problems, n_params)
            Held-out problem parameters.
        n_eval : int, default 1001
            Points of the evaluation grid.
        x_ref : array of shape (n_problems, n_eval, n_atoms, n_dim) or None, default None
            The reference on that grid, when already computed.
        strict : bool, default False
            Raise instead of warning for p outside the trained range.
        check : bool, default False
            Add the forward-output check (:func:`check_operator`).
        tol : float, default 0.05
            Tolerance of that check.

        Returns
        -------
        dict

        Raises
        ------
        InvalidParameterError
            p outside the trained range with ``strict=True``.
        """
        p = self.family.check(p)
        self.model.check_range(p, strict)
        with torch.no_grad():
            y = self.model.coefficients(p)
        out = trajectory_errors_of_coefficients(self.family, self.model.basis, p, y, n_eval, x_ref=x_ref)
        if check:
            out["check"] = check_operator(self.family, p, out["t"], out["x"], tol=tol)
        return out

    # -- checkpoints --------------------------------------------------------------------------------
    def save(self, path: "str | Path") -> Path:
        """Write ``path/config.json`` (family, config, step) and ``path/weights.pt`` (the operator's state_dict).

        Parameters
        ----------
        path : str or Path
            Output folder.

        Returns
        -------
        Path
        """
        return write_checkpoint(path, {"format": OPERATOR_FORMAT, "family": self.family.config(),
                                       "config": asdict(self.config), "step": self.step, "horizon": self.horizon},
                                self.model)

    @classmethod
    def load(cls, path: "str | Path", device: Any = "cpu", family: "OperatorFamily | None" = None
             ) -> "OperatorTrainer":
        """Rebuild a trainer from :meth:`save` output (weights through ``torch.load(weights_only=True)``): the same
        predictions, bit for bit.  A file of another kind raises :class:`~npsnn_edu.errors.DataFormatError`; a
        custom family whose potential could not be stored must be passed as ``family``.

        Parameters
        ----------
        path : str or Path
            Folder written by :meth:`save`.
        device : str, torch.device or None, default "cpu"
            Where to load the operator.
        family : OperatorFamily or None, default None
            The family, for a custom one that could not be stored.

        Returns
        -------
        OperatorTrainer

        Raises
        ------
        DataFormatError
            A missing or malformed checkpoint.
        """
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
            try:
                family = _family_from_config(fam_cfg)
            except (KeyError, TypeError, AttributeError) as exc:
                raise DataFormatError(f"{path}: the saved family cannot be rebuilt ({exc!r}); save the checkpoint "
                                      "again with OperatorTrainer.save(path), or pass family=") from exc
        trainer = cls(family, cfg, device=device)
        load_weights(trainer.model, path, trainer.device, "this operator's weights")
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
    trajectory fails.  Returns per-p ``errors``, ``trusted`` (bool per p) and ``verdict``.

    Parameters
    ----------
    family : OperatorFamily
        The family.
    p : array of shape (batch, n_params)
        Problem parameters.
    t : array of shape (batch, n_times)
        Times (tau).
    x : array of shape (batch, n_times, n_atoms, n_dim)
        The operator's trajectories.
    tol : float, default 0.05
        Tolerance (relative to the motion).
    warn : bool, default True
        Warn when a trajectory fails.

    Returns
    -------
    dict
    """
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


def relative_errors(family: OperatorFamily, p: np.ndarray, x: np.ndarray, x_ref: np.ndarray) -> dict[str, np.ndarray]:
    """Per-problem relative L2: ``rel_l2`` = ||x - x_ref|| / ||x_ref||,
    ``rel_l2_disp`` = ||x - x_ref|| / ||x_ref - x0|| (relative to the displacement).

    Parameters
    ----------
    family : OperatorFamily
        The family.
    p : array of shape (batch, n_params)
        Problem parameters.
    x : array of shape (batch, n_times, n_atoms, n_dim)
        Forward output.
    x_ref : array of shape (batch, n_times, n_atoms, n_dim)
        Reference on the same grid.

    Returns
    -------
    dict of str to array of shape (batch,)
    """
    x0, _ = family.initial_state(p)
    err = np.linalg.norm((x - x_ref).reshape(len(p), -1), axis=1)
    return {"rel_l2": err / np.linalg.norm(x_ref.reshape(len(p), -1), axis=1),
            "rel_l2_disp": err / np.maximum(np.linalg.norm((x_ref - x0[:, None]).reshape(len(p), -1), axis=1), 1e-300)}


def summarize_errors(errors: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(errors)), "p90": float(np.percentile(errors, 90)), "max": float(np.max(errors))}


def trajectory_errors_of_coefficients(family: OperatorFamily, basis: KernelBasis, p: np.ndarray, y: torch.Tensor,
                          n_eval: int = 1001, x_ref: "np.ndarray | None" = None) -> dict[str, Any]:
    """Forward output of coefficients ``y`` on the dense grid vs the reference: per-p errors and their summary.

    ``errors`` is the family's metric (``family.metric``); both relative errors are returned.

    Parameters
    ----------
    family : OperatorFamily
        The family.
    basis : KernelBasis
        The kernel basis.
    p : array of shape (batch, n_params)
        Problem parameters.
    y : tensor of shape (batch, K, n_out)
        Coefficients.
    n_eval : int, default 1001
        Points of the evaluation grid.
    x_ref : array or None, default None
        The reference on that grid, when already computed.

    Returns
    -------
    dict
    """
    t = eval_times(family.tau_end / family.omega(p), n_eval)
    (x,) = coefficients_to_trajectory(family, basis, p, y, t)
    if x_ref is None:
        x_ref = family.reference(p, t)
    errs = relative_errors(family, p, x, x_ref)
    main = errs[family.metric]
    return {"errors": main, **summarize_errors(main), "metric": family.metric, "rel_l2": errs["rel_l2"],
            "rel_l2_disp": errs["rel_l2_disp"], "t": t, "x": x, "x_ref": x_ref}


# ------------------------------------------------------------------------------------------------
# Shipped results (benchmarks/npsnn_operator.py --full --save) for the notebook
# ------------------------------------------------------------------------------------------------
def load_operator_results(mode: str = "best", families: "tuple[str, ...] | None" = None) -> dict[str, Any]:
    """The shipped benchmark results per family: ``{family: data}`` (``data["_command"]`` is the command).

    ``mode``: ``"full"``, ``"quick"`` or ``"best"`` (full where it was shipped for every family, else quick).
    A separate seed run (``--save-tag _seeds``) is merged into ``seed_median_rel_l2`` / ``seed_p90_rel_l2``.

    Parameters
    ----------
    mode : {"best", "full", "quick"}, default "best"
        Which shipped run.
    families : tuple of str or None, default None
        Families to load (None: all shipped).

    Returns
    -------
    dict of str to dict

    Raises
    ------
    UnknownNameError
        An unknown mode, or a family without a shipped result.
    """
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
        for key, record in data.items():  # shipped before operation_counts priced every record: price it here
            if key.endswith("_ops") and isinstance(record, dict) and "total_uJ" not in record:
                spiking = not key.startswith(("tanh", "small_tanh"))
                data[key] = {**record, **priced_counts(operator_categories(record, spiking))}
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
    the readout for a readout solve), training or solve CPU s, ms per new trajectory).

    Parameters
    ----------
    results : dict
        Output of :func:`load_operator_results`.

    Returns
    -------
    list of dict
    """
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
