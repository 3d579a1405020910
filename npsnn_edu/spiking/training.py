"""Training the spiking PINN (stepwise :class:`Trainer`, scripting :func:`fit`) and honest evaluation.

Loss (all terms dimensionless)::

    L = w_res * mean_i c_i |m x''(t_i) - F(x(t_i))|^2 / a_scale^2              physics residual
      + w_ic  * (|x(0) - x0|^2 / d_scale^2 + |x'(0) - v0|^2 / v_scale^2)    initial conditions
      + w_energy * mean_i (E(t_i) - E(0))^2 / e_scale^2                      optional energy conservation

F comes from the core potential (``problem.potential.energy_and_forces`` on torch tensors).  The scales
come from the initial condition (no reference data is used in training).

PINN practices (each a :class:`TrainConfig` field, defaults in brackets):

* input scaling + Fourier features of t / t_end (``n_freq`` [4]);
* causal weighting (Wang, Sankaran, Perdikaris 2022): the collocation points are split into
  ``causal_chunks`` time windows and window i is weighted by exp(-eps * sum_{j<i} L_j) (detached), so later
  times only count once earlier ones are solved (``causal_eps`` [1.0]; 0 switches it off);
* learning-rate schedule: cosine decay to ``lr * lr_min_factor`` over ``total_steps`` (``lr_schedule``);
* loss weighting (``w_res``, ``w_ic``, ``w_energy``);
* gradient clipping by global norm (``grad_clip`` [1.0]).

Evaluation (:func:`trajectory_errors`) always uses the FORWARD output on a dense uniform grid that is disjoint from
the training grid: relative L2 against the reference, RMS finite-difference residual, energy drift.
"""
from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np
import torch

from ..device import resolve_device
from ..errors import DataFormatError
from ..progress import progress_bar
from ..trajectory import Trajectory
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
    positive,
    validate_fields,
    validate_params,
    with_overrides,
)
from .basis import eval_times, training_times
from .check import DEFAULT_TOL, check_trajectory
from .derivatives import DERIVATIVE_MODES, forward_fd, time_derivatives
from .energy import operation_counts
from .models import MLPPINN, SURROGATES, ClockSNN, KernelCoefficients, PointwiseSNN, count_parameters
from .problems import NewtonProblem, get_problem


def cosine_learning_rate(step: int, total_steps: int, lr: float, min_factor: float) -> float:
    r"""Cosine decay from ``lr`` at step 0 to ``lr * min_factor`` at ``total_steps`` (and after): the one schedule
    of every trainer in this package (single trajectories, operators, per-problem free coefficients).

    .. math::

        \eta(s) = \eta_{\min} + \frac{\eta - \eta_{\min}}{2} \left(1 + \cos \frac{\pi \min(s, S)}{S}\right),
        \qquad \eta_{\min} = f \eta

    Parameters
    ----------
    step : int
        Optimiser step s.
    total_steps : int
        Horizon S.
    lr : float
        Initial learning rate.
    min_factor : float
        Final fraction f.

    Returns
    -------
    float
    """
    frac = min(step / total_steps, 1.0)
    lo = lr * min_factor
    return lo + 0.5 * (lr - lo) * (1 + math.cos(math.pi * frac))

#: method -> (model class name, derivative mode)
METHODS = {
    "continuous": ("clock", "analytic"),  # honest: smooth kernel readout, exact derivatives of the forward output
    "fdm": ("pointwise", "fdm"),  # finite differences of the forward output (FPSNN "fdm")
    "naive": ("pointwise", "autograd"),  # autograd through the surrogate: the pitfall
    "mlp": ("mlp", "autograd"),  # tanh MLP-PINN baseline
    "kernel": ("kernel", "analytic"),  # kernel-only ablation: the NP-SNN's Gaussian basis with free coefficients
}


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (reduced units).

    Step vocabulary of the kit: ``n_steps`` / ``total_steps`` count OPTIMISER (Adam) steps, ``num_steps``
    counts LIF time steps of the spiking network (snnTorch's name), MD steps are ``n_steps`` of an integrator.
    The one learning-rate name is ``lr``.

    Parameters
    ----------
    method : {"continuous", "kernel", "fdm", "naive", "mlp"}, default "continuous"
        Network and derivative mode.
    hidden : int, default 32
        Neurons per hidden layer.
    n_freq : int, default 4
        Fourier frequencies of the time encoding.
    beta : float, default 0.9
        LIF membrane decay per step.
    num_steps : int or None, default None
        LIF steps per query/knot (None: 64 for the clock SNN, 8 for the pointwise SNN).
    n_knots : int, default 32
        Knots over [0, t_end] (clock SNN).
    kernel_width : float, default 1.0
        Gaussian readout width in knot spacings.
    recurrent : bool, default False
        Clock SNN: one recurrent run over the knots.
    surrogate : {"atan", "fast_sigmoid"}, default "atan"
        Surrogate gradient.
    surrogate_alpha : float, default 2.0
        Slope of the surrogate.
    derivative : str or None, default None
        Override of the method's derivative mode.
    fd_step : float or None, default None
        Finite-difference step (tau; None: half the collocation spacing).
    lr : float or None, default None
        Adam learning rate (None: 1e-2 for the clock SNN, 3e-3 otherwise).
    lr_schedule : {"cosine", "none"}, default "cosine"
        Learning-rate schedule.
    lr_min_factor : float, default 0.02
        Final learning rate as a fraction of ``lr``.
    total_steps : int, default 2000
        Horizon of the schedule (optimiser steps).
    grad_clip : float or None, default 1.0
        Global gradient-norm clip.
    n_colloc : int, default 256
        Collocation points.
    resample : bool, default False
        Jitter the collocation points every step.
    w_res, w_ic, w_energy : float, default 1.0, 10.0, 0.0
        Weights of the residual, initial-condition and energy terms.
    causal_eps : float, default 1.0
        Causal weighting strength (0: off).
    causal_chunks : int, default 8
        Time windows of the causal weighting.
    eval_every : int, default 100
        Steps between evaluations.
    n_eval : int, default 1001
        Points of the evaluation grid.
    check_tol : float, default 0.05
        Tolerance of the forward-output check (relative L2).
    seed : int, default 0
        Seed of the model and the collocation jitter.
    """

    method: str = "continuous"
    hidden: int = 32
    n_freq: int = 4
    beta: float = 0.9
    num_steps: int | None = None  # internal LIF steps per query/knot; None: 64 (clock SNN), 8 (pointwise SNN)
    n_knots: int = 32  # knots (clock steps) over [0, t_end] (clock SNN)
    kernel_width: float = 1.0  # Gaussian readout kernel width in knot spacings
    recurrent: bool = False  # clock SNN: one recurrent run over the knots (True) or a short run per knot
    surrogate: str = "atan"
    surrogate_alpha: float = 2.0
    derivative: str | None = None  # override the method's derivative mode
    fd_step: float | None = None  # fdm step (tau); None: half the collocation spacing
    lr: float | None = None  # None: 1e-2 for the clock NP-SNN, 3e-3 for the others (tuned on the harmonic case)
    lr_schedule: str = "cosine"  # "cosine" or "none"
    lr_min_factor: float = 0.02
    total_steps: int = 2000  # horizon of the LR schedule
    grad_clip: float | None = 1.0
    n_colloc: int = 256
    resample: bool = False  # jitter the collocation points every step
    w_res: float = 1.0
    w_ic: float = 10.0
    w_energy: float = 0.0
    causal_eps: float = 1.0
    causal_chunks: int = 8
    eval_every: int = 100
    n_eval: int = 1001
    check_tol: float = DEFAULT_TOL  # forward-output check: largest relative L2 error against the motion trusted
    seed: int = 0

    #: Every field's constraint, checked by :meth:`validate` (at construction and by :class:`Trainer`).
    _parameter_constraints: ClassVar[Constraints] = {
        "method": Options(METHODS),
        "hidden": AtLeast(1, integer=True),
        "n_freq": AtLeast(0, integer=True),
        "beta": Interval(0.0, 1.0, closed="right", message="beta (membrane decay) must be in (0, 1], got {value}"),
        "num_steps": (None, AtLeast(1, integer=True)),
        "n_knots": AtLeast(1, integer=True),
        "kernel_width": Positive(hint="the readout kernel width in knot spacings, e.g. 1.0"),
        "recurrent": Boolean(),
        "surrogate": Options(SURROGATES),
        "surrogate_alpha": Positive(hint="the surrogate's slope, e.g. 2.0"),
        "derivative": (None, Options(DERIVATIVE_MODES, kind="derivative mode")),
        "fd_step": (None, Positive(hint="the finite-difference step in tau, or None for half the collocation spacing")),
        "lr": (None, Positive(message="lr must be positive, got {value}")),
        "lr_schedule": Options(("cosine", "none")),
        "lr_min_factor": Positive(),
        "total_steps": AtLeast(1, integer=True),
        "grad_clip": (None, Positive(message="grad_clip must be positive or None, got {value}")),
        "n_colloc": AtLeast(1, integer=True),
        "resample": Boolean(),
        "w_res": AtLeast(0.0),
        "w_ic": AtLeast(0.0),
        "w_energy": AtLeast(0.0),
        "causal_eps": AtLeast(0.0),
        "causal_chunks": AtLeast(1, integer=True),
        "eval_every": AtLeast(1, integer=True),
        "n_eval": AtLeast(1, integer=True),
        "check_tol": Positive(hint="relative L2 error against the motion, e.g. 0.05"),
        "seed": Integer(),
    }

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> "TrainConfig":
        """Check every field against :attr:`_parameter_constraints` (typed errors that say what to change).

        Returns
        -------
        TrainConfig

        Raises
        ------
        UnknownNameError
            An unknown method or derivative mode.
        InvalidParameterError
            A value out of range (the message names it).
        """
        return validate_fields(self)

    @property
    def learning_rate(self) -> float:
        """The learning rate in use: ``lr``, or the method's default."""
        return float(self.lr) if self.lr is not None else (1e-2 if self.method in ("continuous", "kernel") else 3e-3)

    @property
    def internal_steps(self) -> int:
        """LIF steps per query (pointwise) or per knot (clock): a finer rate code with more steps."""
        return int(self.num_steps) if self.num_steps is not None else (64 if self.method == "continuous" else 8)

    @property
    def derivative_mode(self) -> str:
        """The derivative mode in use: ``derivative``, or the method's."""
        return self.derivative or METHODS[self.method][1]


def build_model(problem: NewtonProblem, cfg: TrainConfig) -> torch.nn.Module:
    """The network of ``cfg.method`` for ``problem`` (seeded by ``cfg.seed``), on the CPU.

    Parameters
    ----------
    problem : NewtonProblem
        The problem (sets x0, t_end and the output shape).
    cfg : TrainConfig
        Hyper-parameters.

    Returns
    -------
    torch.nn.Module
    """
    torch.manual_seed(cfg.seed)
    kind = METHODS[cfg.method][0]
    if kind == "clock":
        return ClockSNN(problem.x0, problem.t_end, cfg.hidden, cfg.n_freq, cfg.beta, cfg.n_knots, cfg.kernel_width,
                        surrogate=cfg.surrogate, surrogate_alpha=cfg.surrogate_alpha, recurrent=cfg.recurrent,
                        num_steps=cfg.internal_steps)
    if kind == "kernel":
        return KernelCoefficients(problem.x0, problem.t_end, cfg.n_knots, cfg.kernel_width)
    if kind == "pointwise":
        return PointwiseSNN(problem.x0, problem.t_end, cfg.hidden, cfg.n_freq, cfg.beta, cfg.internal_steps,
                            cfg.surrogate, cfg.surrogate_alpha)
    return MLPPINN(problem.x0, problem.t_end, cfg.hidden, cfg.n_freq)


class LossScales:
    """Dimensionless loss scales of a problem (acceleration a, displacement d, velocity v, energy e).

    The acceleration scale is the largest |F / m| ALONG THE MOTION (:meth:`NewtonProblem.acceleration_scale`:
    exact for the analytic harmonic problem, else a coarse 400-step velocity-Verlet probe of the core), not
    |F(x0)| / m: a start at an equilibrium point (F(x0) = 0, e.g. x0 = 0 with v0 != 0) used to get the floor
    1e-3 and a residual weighted about a million times too high against the initial conditions.  Why a probe
    and not an energy bound: it needs no root finding in N dimensions, works for every core potential, costs
    about a millisecond per problem, and its magnitudes (never its trajectory) enter the loss, so no reference
    data is used in training.  For the chapter's shipped harmonic case (x0 = 1, v0 = 0) the scales are exactly
    the old ones (a = k A / m = |F(x0)| / m).

    Parameters
    ----------
    problem : NewtonProblem
        The problem.
    """

    def __init__(self, problem: NewtonProblem):
        probe = problem.motion_scales()
        amp_a = max(float(np.max(np.abs(problem.x0))), float(np.max(np.abs(problem.v0))) * problem.t_end, 1.0)
        self.a = max(float(probe["a"]), 1e-9 * amp_a)
        # displacement scale: amplitude ~ a / omega^2 with omega ~ 2 pi / period (or the probe's estimate)
        period = problem.info.get("period")
        omega = 2 * math.pi / float(period) if period else float(probe["omega"])
        self.d = max(self.a / omega**2, float(np.max(np.abs(problem.v0))) / omega, 1e-3)
        self.v = self.d * omega
        ke_max = 0.5 * float(np.sum(problem.masses)) * self.v**2
        self.e = max(ke_max, 1e-6)


def physics_loss(model: torch.nn.Module, problem: NewtonProblem, t: torch.Tensor, cfg: TrainConfig,
                 scales: "LossScales | None" = None) -> dict[str, torch.Tensor]:
    r"""Loss terms at collocation times ``t`` (float64 tensor on the model's device); ``total`` is the sum.

    .. math::

        L = w_{\mathrm{res}} L_{\mathrm{res}}
          + w_{\mathrm{ic}} \left\langle \left(\frac{x(0) - x_0}{d}\right)^2
          + \left(\frac{\dot x(0) - v_0}{v}\right)^2 \right\rangle
          + w_E \frac{1}{n} \sum_{i=1}^{n} \left(\frac{E(t_i) - E_0}{e}\right)^2,
        \qquad r_i = \left\langle \left(\frac{m\, \ddot x(t_i) - F(x(t_i))}{a}\right)^2 \right\rangle

    where :math:`\langle \cdot \rangle` averages over the N D coordinates, F comes from the core potential,
    a, d, v, e are the scales of :class:`LossScales`, :math:`E = \frac{1}{2} \sum m \dot x^2 + U` and
    :math:`E_0` the problem's initial energy.
    The residual term is :math:`L_{\mathrm{res}} = \frac{1}{n} \sum_i r_i`, or with causal weighting
    (``causal_eps`` :math:`\epsilon > 0`, ``causal_chunks`` K > 1) over the time-ordered chunks of the
    collocation points, with chunk means :math:`L_k`,

    .. math::

        L_{\mathrm{res}} = \frac{1}{K} \sum_{k=1}^{K} w_k L_k, \qquad
        w_k = \exp\Big(-\epsilon \sum_{j<k} L_j\Big) \quad \text{(not differentiated)}.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    problem : NewtonProblem
        The problem.
    t : tensor of shape (n_colloc,)
        Collocation times (tau), float64 on the model's device.
    cfg : TrainConfig
        Weights, derivative mode and causal weighting.
    scales : LossScales or None, default None
        Loss scales (None: computed from the problem).

    Returns
    -------
    dict of str to tensor
        ``"residual"``, ``"ic"``, ``"energy"`` (when weighted) and ``"total"``.
    """
    scales = scales or LossScales(problem)
    dev = t.device
    mode = cfg.derivative_mode
    h = cfg.fd_step or 0.5 * problem.t_end / cfg.n_colloc
    t0 = torch.zeros(1, dtype=torch.float64, device=dev)
    # ONE model evaluation per step: collocation times and t = 0 together (the spiking network of a
    # ClockSNN runs once, its coefficients y serve both the residual and the initial condition)
    xx, vv, aa = time_derivatives(model, torch.cat([t, t0]), mode, h=h)
    x, v, a = xx[:-1], vv[:-1], aa[:-1]
    x_0, v_0 = xx[-1:], vv[-1:]
    m = torch.as_tensor(problem.masses, dtype=x.dtype, device=dev)[:, None]
    energy, forces = problem.potential.energy_and_forces(x)
    res = ((m * a - forces) / scales.a).pow(2).reshape(x.shape[0], -1).mean(1)  # per collocation point
    if cfg.causal_eps > 0 and cfg.causal_chunks > 1:
        order = torch.argsort(t)
        chunks = torch.tensor_split(res[order], cfg.causal_chunks)
        lc = torch.stack([c.mean() for c in chunks])
        w = torch.exp(-cfg.causal_eps * torch.cumsum(torch.cat([lc.new_zeros(1), lc[:-1]]), 0)).detach()
        loss_res = (w * lc).mean()
    else:
        loss_res = res.mean()
    x0 = torch.as_tensor(problem.x0, dtype=x_0.dtype, device=dev)
    v0 = torch.as_tensor(problem.v0, dtype=x_0.dtype, device=dev)
    loss_ic = ((x_0[0] - x0) / scales.d).pow(2).mean() + ((v_0[0] - v0) / scales.v).pow(2).mean()
    terms = {"residual": loss_res, "ic": loss_ic}
    total = cfg.w_res * loss_res + cfg.w_ic * loss_ic
    if cfg.w_energy > 0:
        e_t = 0.5 * (m * v * v).reshape(x.shape[0], -1).sum(1) + energy
        loss_e = ((e_t - problem.initial_energy()) / scales.e).pow(2).mean()
        terms["energy"] = loss_e
        total = total + cfg.w_energy * loss_e
    terms["total"] = total
    return terms


def spike_rates(model: torch.nn.Module) -> list[float]:
    """Mean spikes per neuron per time step, per LIF layer, from the model's last forward pass ([] if none).

    Parameters
    ----------
    model : torch.nn.Module
        A spiking network after a forward pass.

    Returns
    -------
    list of float
    """
    return [float(s.float().mean()) for s in getattr(model, "last_spikes", [])]


def trajectory_errors(model: torch.nn.Module, problem: NewtonProblem, n_eval: int = 1001,
                      fd_step: float | None = None, check_tol: float = DEFAULT_TOL) -> dict[str, Any]:
    """Honest metrics of the FORWARD output on the dense grid (no autograd anywhere).

    rel_l2: ||x - x_ref|| / ||x_ref|| over grid and coordinates; rel_l2_disp: the same relative to the
    displacement from x0, ||x - x_ref|| / ||x_ref - x0|| (stricter when x0 is far from zero);
    fd_residual: RMS of (m D2x - F(x)) / a_scale with D2 the central second difference of the forward
    output at step ``fd_step`` (default t_end / 500); energy_drift: max |E(t) - E(0)| / max(|E(0)|, mean KE)
    with v from central differences of the forward output (the core's Trajectory.energy_drift); spike rates
    per LIF layer and the operation-count energy estimate (:func:`~.energy.operation_counts`) of one
    trajectory on this grid; ``check``: the forward-output check against a fine-step velocity-Verlet run of the
    core (:mod:`.check`, tolerance ``check_tol``; no warning here: :func:`fit` and :meth:`Trainer.check` warn).

    Parameters
    ----------
    model : torch.nn.Module
        A trained network.
    problem : NewtonProblem
        Its problem.
    n_eval : int, default 1001
        Points of the evaluation grid.
    fd_step : float or None, default None
        Finite-difference step (tau; None: t_end / 500).
    check_tol : float, default 0.05
        Tolerance of the forward-output check.

    Returns
    -------
    dict
    """
    t_np = eval_times(problem.t_end, n_eval)
    h = fd_step or problem.t_end / 500.0
    dev = model.x0.device
    model.eval()
    t = torch.as_tensor(t_np, dtype=torch.float64, device=dev)
    x, v, a = forward_fd(model, t, h)
    with torch.no_grad():
        model(t)  # spike record of the plain grid pass (for rates/energy)
    rates = spike_rates(model)
    x_ref, v_ref = problem.reference(t_np)
    err = x - x_ref
    pe, f = problem.potential.energy_and_forces(x)
    scales = LossScales(problem)
    res = (problem.masses[None, :, None] * a - f) / scales.a
    ke = 0.5 * np.sum(problem.masses[None, :, None] * v * v, axis=(1, 2))
    traj = Trajectory(times=t_np, positions=x, velocities=v, potential_energy=np.asarray(pe, dtype=float),
                      kinetic_energy=ke, masses=problem.masses, dt=float(t_np[1] - t_np[0]), integrator="pinn")
    model.train()
    return {"rel_l2": float(np.linalg.norm(err) / np.linalg.norm(x_ref)),
            "rel_l2_disp": float(np.linalg.norm(err) / max(np.linalg.norm(x_ref - problem.x0[None]), 1e-300)),
            "max_abs_err": float(np.max(np.abs(err))),
            "fd_residual": float(np.sqrt(np.mean(res**2))),
            "energy_drift": traj.energy_drift(),
            "spike_rates": rates,
            "energy_pJ": operation_counts(model, n_eval)["total_pJ"],
            "check": check_trajectory(x, problem.check_reference(t_np), problem.x0, tol=check_tol, warn=False),
            "times": t_np, "x": x, "x_ref": x_ref}


@dataclass
class History:
    """Per-step training record plus the periodic forward-output evaluations.

    Parameters
    ----------
    step, loss, residual, ic, energy, lr, wall : list
        Per optimiser step: step index, total loss, residual, initial-condition and energy terms, learning
        rate, wall time (s).
    eval_step, eval_rel_l2, eval_fd_residual, eval_energy_drift : list
        Per evaluation: step index, relative L2 error, finite-difference residual, energy drift.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    residual: list[float] = field(default_factory=list)
    ic: list[float] = field(default_factory=list)
    energy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_rel_l2: list[float] = field(default_factory=list)
    eval_fd_residual: list[float] = field(default_factory=list)
    eval_energy_drift: list[float] = field(default_factory=list)


class Trainer:
    """Stepwise trainer: ``train(k)`` runs k optimiser steps and keeps model, optimiser and history.

    Safe to call repeatedly (a widget trains in chunks); :meth:`request_stop` (from another thread) or a
    KeyboardInterrupt stops after the current step with everything kept.  ``device`` is resolved with
    :func:`npsnn_edu.device.resolve_device` (None: CUDA if available, else CPU).

    Parameters
    ----------
    problem : str or NewtonProblem, default "harmonic"
        The problem (a name goes through :func:`~.problems.get_problem`).
    config : TrainConfig or None, default None
        Hyper-parameters (None: defaults).
    device : str, torch.device or None, default "cpu"
        Where to train.
    **overrides
        TrainConfig fields replacing those of ``config``.

    Raises
    ------
    InvalidParameterError
        An unknown or invalid field.
    DeviceUnavailableError
        CUDA asked for without a GPU.
    """

    #: Every ``__init__`` parameter's constraint (``overrides`` are TrainConfig fields, checked by its own table).
    _parameter_constraints: ClassVar[Constraints] = {
        "problem": Rule(lambda name, value: get_problem(value), invalid=3.0),
        "config": (None, InstanceOf(TrainConfig)),
        "device": Rule(lambda name, value: resolve_device(value), invalid="tpu"),
    }

    def __init__(self, problem: "str | NewtonProblem" = "harmonic", config: TrainConfig | None = None,
                 device: Any = "cpu", **overrides: Any):
        checked = validate_params(self._parameter_constraints, {"problem": problem, "config": config,
                                                                "device": device})
        self.problem = checked["problem"]
        cfg = with_overrides(checked["config"] or TrainConfig(), overrides)
        self.config = cfg.validate()
        self.device = checked["device"]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.reset()

    # -- state --------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Fresh model (same seed), optimiser and empty history."""
        cfg = self.config
        self.model = build_model(self.problem, cfg).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.learning_rate)
        self.scales = LossScales(self.problem)
        self.t_train = torch.as_tensor(training_times(self.problem.t_end, cfg.n_colloc), dtype=torch.float64,
                                       device=self.device)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.history = History()
        self.step = 0
        self.train_seconds = 0.0
        self.last_eval: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # the stop event and the lock belong to this object's threads: a copy (copy.deepcopy, pickle) gets new ones
        return {k: v for k, v in self.__dict__.items() if k not in ("_stop", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._stop = threading.Event()
        self._lock = threading.Lock()

    @property
    def n_parameters(self) -> int:
        """Number of trainable parameters of the model."""
        return count_parameters(self.model)

    def lr_at(self, step: int) -> float:
        """Learning rate at optimiser step ``step`` (the schedule).

        Parameters
        ----------
        step : int
            Optimiser step.

        Returns
        -------
        float
        """
        cfg = self.config
        lr = cfg.learning_rate
        if cfg.lr_schedule == "none":
            return lr
        return cosine_learning_rate(step, cfg.total_steps, lr, cfg.lr_min_factor)

    def request_stop(self) -> None:
        """Ask a running :meth:`train` to stop after its current step (thread-safe)."""
        self._stop.set()

    # -- training -----------------------------------------------------------------------------------
    def train(self, n_steps: int, *, progress: bool = False, callback: Callable[["Trainer"], None] | None = None
              ) -> History:
        """Run ``n_steps`` optimiser steps (fewer if stopped); evaluates every ``eval_every`` steps.

        Parameters
        ----------
        n_steps : int
            Optimiser steps to run.
        progress : bool, default False
            Show a progress bar.
        callback : callable or None, default None
            Called with the trainer after each step.

        Returns
        -------
        History
        """
        n_steps = positive("n_steps", n_steps, integer=True,
                           hint="the number of optimiser (Adam) steps to run; a zero budget would train nothing")
        self._stop.clear()
        cfg = self.config
        bar = progress_bar(n_steps, f"{cfg.method} PINN", show=progress, leave=False)
        try:
            with self._lock:
                for _ in range(n_steps):
                    if self._stop.is_set():
                        break
                    self._one_step()
                    if self.step % cfg.eval_every == 0:
                        self.trajectory_errors()
                    bar.update(1)
                    bar.set_postfix(loss=f"{self.history.loss[-1]:.2e}")
                    if callback is not None:
                        callback(self)
        except KeyboardInterrupt:  # keep model and history; the user can resume with train() again
            pass
        finally:
            bar.close()
        return self.history

    def _one_step(self) -> None:
        cfg = self.config
        t0 = time.perf_counter()
        lr = self.lr_at(self.step)
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        t = self.t_train
        if cfg.resample:
            u = torch.rand(len(t), generator=self.generator, dtype=torch.float64)
            jitter = (u - 0.5) * self.problem.t_end / cfg.n_colloc
            t = t + jitter.to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        terms = physics_loss(self.model, self.problem, t, cfg, self.scales)
        terms["total"].backward()
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.optimizer.step()
        self.step += 1
        self.train_seconds += time.perf_counter() - t0
        hist = self.history
        hist.step.append(self.step)
        hist.loss.append(float(terms["total"].detach()))
        hist.residual.append(float(terms["residual"].detach()))
        hist.ic.append(float(terms["ic"].detach()))
        hist.energy.append(float(terms["energy"].detach()) if "energy" in terms else float("nan"))
        hist.lr.append(lr)
        hist.wall.append(self.train_seconds)

    def trajectory_errors(self, n_eval: int | None = None) -> dict[str, Any]:
        """Forward-output metrics (see :func:`trajectory_errors`), recorded in the history.

        Parameters
        ----------
        n_eval : int or None, default None
            Points of the evaluation grid (None: ``config.n_eval``).

        Returns
        -------
        dict
        """
        ev = trajectory_errors(self.model, self.problem, n_eval or self.config.n_eval, check_tol=self.config.check_tol)
        self.last_eval = ev
        h = self.history
        if not h.eval_step or h.eval_step[-1] != self.step:
            h.eval_step.append(self.step)
            h.eval_rel_l2.append(ev["rel_l2"])
            h.eval_fd_residual.append(ev["fd_residual"])
            h.eval_energy_drift.append(ev["energy_drift"])
        return ev

    def check(self, tol: float | None = None, *, warn: bool = True, stacklevel: int = 2) -> dict[str, Any]:
        """The forward-output check (:mod:`.check`): this model's forward output on the dense grid against a
        fine-step velocity-Verlet run of the core.  Warns (:class:`~.check.ForwardCheckWarning`) with the error,
        the tolerance and the training loss when they disagree beyond ``tol`` (default ``config.check_tol``).

        Parameters
        ----------
        tol : float or None, default None
            Tolerance (relative L2; None: ``config.check_tol``).
        warn : bool, default True
            Warn when the check fails.
        stacklevel : int, default 2
            Stack level of the warning.

        Returns
        -------
        dict
            The check's verdict and numbers.
        """
        ev = self.last_eval if self.last_eval is not None and self.history.eval_step[-1:] == [self.step] \
            else self.trajectory_errors()
        loss = self.history.loss[-1] if self.history.loss else None
        return check_trajectory(ev["x"], self.problem.check_reference(ev["times"]), self.problem.x0,
                                tol=self.config.check_tol if tol is None else tol, loss=loss,
                                label=f"{self.config.method} PINN on {self.problem.name}", warn=warn,
                                stacklevel=stacklevel + 1)

    def report(self) -> str:
        """One line: training loss next to the forward-output metrics and the check's verdict."""
        ev = self.last_eval or self.trajectory_errors()
        loss = self.history.loss[-1] if self.history.loss else float("nan")
        rates = ", ".join(f"{r:.3f}" for r in ev["spike_rates"]) or "-"
        return (f"{self.config.method:>10s} step {self.step:5d} | train loss {loss:.2e} | forward output: rel L2 "
                f"{ev['rel_l2']:.2e}, FD residual {ev['fd_residual']:.2e}, energy drift {ev['energy_drift']:.2e} | "
                f"spike rates [{rates}] | {self.train_seconds:.1f} s | {ev['check']['verdict']}")

    # -- checkpoints --------------------------------------------------------------------------------
    def save(self, path: "str | Path") -> Path:
        """Write ``path/config.json`` (problem, config, step) and ``path/weights.pt`` (model state_dict).

        Parameters
        ----------
        path : str or Path
            Output folder.

        Returns
        -------
        Path
        """
        return write_checkpoint(path, {"format": "npsnn_edu.spiking/1", "problem": self.problem.config(),
                                       "config": asdict(self.config), "step": self.step}, self.model)

    @classmethod
    def load(cls, path: "str | Path", device: Any = "cpu", problem: "NewtonProblem | None" = None) -> "Trainer":
        """Rebuild a trainer from :meth:`save` output (weights loaded with ``weights_only=True``).

        The problem is rebuilt with its saved parameters (``get_problem(name, **params)``: omega, x0, v0,
        ...); a problem built by hand (no registered builder) must be passed as ``problem``.

        Parameters
        ----------
        path : str or Path
            Folder written by :meth:`save`.
        device : str, torch.device or None, default "cpu"
            Where to load the model.
        problem : NewtonProblem or None, default None
            The problem, for one built by hand.

        Returns
        -------
        Trainer

        Raises
        ------
        DataFormatError
            A missing or malformed checkpoint.
        """
        path = Path(path)
        try:
            meta = json.loads((path / "config.json").read_text())
            prob, cfg_d, step = meta["problem"], meta["config"], int(meta["step"])
            if meta.get("format") != "npsnn_edu.spiking/1":
                raise KeyError("format")
            cfg = TrainConfig(**cfg_d)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataFormatError(f"{path} is not a spiking-PINN checkpoint (config.json missing or malformed: {exc}); "
                                  "save one with Trainer.save(path)") from exc
        if problem is None:
            try:
                problem = _problem_from_config(prob, path)
            except (KeyError, TypeError, AttributeError) as exc:
                raise DataFormatError(f"{path}: the saved problem cannot be rebuilt ({exc!r}); save the checkpoint "
                                      "again with Trainer.save(path), or pass problem=") from exc
        trainer = cls(problem, cfg, device=device)
        load_weights(trainer.model, path, trainer.device, "this model's weights")
        trainer.step = step
        return trainer


def write_checkpoint(path: "str | Path", meta: dict[str, Any], model: torch.nn.Module) -> Path:
    """Write a checkpoint folder: ``path/config.json`` (``meta``) and ``path/weights.pt`` (``model``'s state_dict).

    Parameters
    ----------
    path : str or Path
        Output folder (created).
    meta : dict
        What rebuilds the trainer (format, problem or family, config, step), JSON-serialisable.
    model : torch.nn.Module
        The network whose weights are saved.

    Returns
    -------
    Path
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(meta, indent=2))
    torch.save(model.state_dict(), path / "weights.pt")
    return path


def load_weights(model: torch.nn.Module, path: Path, device: Any, what: str) -> None:
    """Load ``path/weights.pt`` (``weights_only=True``) into ``model``; a corrupt or mismatched file raises.

    Parameters
    ----------
    model : torch.nn.Module
        The freshly built network.
    path : Path
        Checkpoint folder written by :func:`write_checkpoint`.
    device : torch.device
        Where to map the tensors.
    what : str
        What the weights are, for the message (e.g. "this model's weights").

    Raises
    ------
    DataFormatError
        The file cannot be read or does not fit ``model``.
    """
    try:
        state = torch.load(path / "weights.pt", map_location=device, weights_only=True)
        model.load_state_dict(state)
    except Exception as exc:  # torch raises several types for corrupt or mismatched files
        raise DataFormatError(f"{path / 'weights.pt'} could not be loaded as {what} ({exc})") from exc


def _problem_from_config(prob: dict[str, Any], path: Path) -> NewtonProblem:
    params = prob.get("params")
    if params:
        return get_problem(prob["name"], **params)
    if "arrays" in prob and "potential" in prob:  # built from a core potential: rebuilt from its parameters
        return NewtonProblem.from_config(prob)
    if "arrays" in prob:
        raise DataFormatError(f"{path} holds a hand-built problem {prob['name']!r} (no registered builder): "
                              "pass it again with Trainer.load(path, problem=...)")
    return get_problem(prob["name"], t_end=prob["t_end"])  # old checkpoints (name and span only)


@dataclass
class FitResult:
    """What :func:`fit` returns: the trainer (model, history) and the final forward-output metrics.

    Parameters
    ----------
    trainer : Trainer
        The trainer (model, optimiser, history).
    metrics : dict
        Forward-output metrics of :func:`trajectory_errors`.
    seconds : float
        Wall time of the training (s).
    """

    trainer: Trainer
    metrics: dict[str, Any]
    seconds: float

    @property
    def model(self) -> torch.nn.Module:
        """The trained network."""
        return self.trainer.model

    @property
    def history(self) -> History:
        """The training history."""
        return self.trainer.history

    def __repr__(self) -> str:
        return f"FitResult({self.trainer.report()})"


def fit(problem: "str | NewtonProblem" = "harmonic", method: str = "continuous", n_steps: int = 2000, *,
        device: Any = "cpu", progress: bool = False, check: bool = True, **config: Any) -> FitResult:
    """Train one PINN and evaluate its forward output.

    ``method``: ``continuous`` (honest NP-SNN), ``kernel`` (the same basis with free coefficients), ``fdm``,
    ``naive`` (the pitfall) or ``mlp``; ``n_steps`` optimiser steps (>= 1); other keyword
    arguments are :class:`TrainConfig` fields (an unknown one raises InvalidParameterError listing them).
    ``check`` (default on): compare the forward output with a fine-step velocity-Verlet run of the core and warn
    (:class:`~.check.ForwardCheckWarning`, both numbers) when they disagree beyond ``check_tol``; the verdict is
    ``metrics["check"]`` either way.  Example::

        res = fit("harmonic", "continuous", 2000)
        print(res.trainer.report())

    Parameters
    ----------
    problem : str or NewtonProblem, default "harmonic"
        The problem.
    method : str, default "continuous"
        ``"continuous"``, ``"kernel"``, ``"fdm"``, ``"naive"`` or ``"mlp"``.
    n_steps : int, default 2000
        Optimiser steps (>= 1).
    device : str, torch.device or None, default "cpu"
        Where to train.
    progress : bool, default False
        Show a progress bar.
    check : bool, default True
        Run the forward-output check and warn when it fails.
    **config
        TrainConfig fields.

    Returns
    -------
    FitResult

    Raises
    ------
    InvalidParameterError
        An unknown TrainConfig field or an invalid value.
    """
    n_steps = positive("n_steps", n_steps, integer=True,
                       hint="fit needs at least one optimiser (Adam) step; a zero budget would train nothing")
    config.setdefault("total_steps", n_steps)
    trainer = Trainer(problem, with_overrides(TrainConfig(method=method), config), device=device)
    trainer.train(n_steps, progress=progress)
    metrics = trainer.trajectory_errors()
    if check:
        metrics["check"] = trainer.check(stacklevel=3)  # the warning points at the caller of fit
    return FitResult(trainer, metrics, trainer.train_seconds)
