"""Networks for the spiking PINN: two spiking designs (snnTorch LIF layers) and a tanh MLP baseline.

All models map times ``t`` (tau, shape ``(B,)``) to positions ``(B, N, D)`` in float64 and share the same
input scaling: t is mapped to tau = t / t_end in [0, 1] and encoded as ``[2 tau - 1, sin(2 pi j tau),
cos(2 pi j tau)]`` for j = 1..n_freq (Fourier features; n_freq = 0 keeps only the scaled time).

:class:`PointwiseSNN` - the obvious design (used by the ``naive`` and ``fdm`` methods)
    For each query time the encoded time is a constant input current for ``num_steps`` internal LIF steps;
    the readout averages a linear map of the last layer's spikes and membrane over the steps.  t reaches the
    output through spikes, so the forward output is piecewise smooth with jumps wherever a spike count
    changes: autograd through the surrogate does NOT give the derivative of what the network outputs.

:class:`ClockSNN` - the honest design (the ``continuous`` method)
    The LIF network is evaluated at fixed knots t_k covering [0, t_end] (plus 3 knots of padding each side):
    by default each knot gets its own short spiking run of ``num_steps`` LIF steps driven by the encoded knot
    time (batched over knots), and the step-average of a linear readout of the last layer's spikes and
    membrane gives a coefficient y_k (a rate code: more steps, finer values).  With ``recurrent=True`` the
    network instead runs once along the knots as a clock (one LIF step per knot, state carried in time).
    The output neuron is a non-spiking
    integrator with a smooth (Gaussian) postsynaptic kernel G:

        x(t) = x0 + sum_k y_k G(t - t_k),     G(u) = exp(-u^2 / (2 sigma^2)).

    The query time enters ONLY through G, so x(t) is infinitely differentiable in t and its derivatives
    are exact: x'(t) = sum_k y_k G'(t - t_k), x'' likewise.  The spikes decide the y_k (and are trained with
    the surrogate gradient, which is legitimate for parameter gradients); they never sit between t and x.

:class:`KernelCoefficients` - the kernel-only ablation: the same Gaussian basis, y_k free parameters.

:class:`MLPPINN` - tanh MLP with the same encoding and about the same parameter count.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Iterator

import numpy as np
import snntorch as snn
import torch
from snntorch import surrogate
from torch import nn

from ..errors import unknown_name
from ..validation import AtLeast, Boolean, Constraints, Interval, Options, Positive, Rule, finite_array, validate_params
from .basis import gaussian_kernel, make_knots

#: The surrogate gradients :func:`make_surrogate` builds (a config's ``surrogate`` is one of them).
SURROGATES = ("atan", "fast_sigmoid")

#: The constraints the networks below share, written once; each class's ``_parameter_constraints`` picks its own.
_PARAMETERS: dict[str, Any] = {
    "x0": Rule(lambda name, value: finite_array(name, value, hint="initial positions (sigma), e.g. problem.x0"),
               invalid="not an array"),
    "t_end": Positive(hint="length of the time window in tau"),
    "n_in": AtLeast(1, integer=True),
    "n_out": AtLeast(1, integer=True),
    "hidden": AtLeast(1, integer=True),
    "n_freq": AtLeast(0, integer=True, hint="Fourier frequencies of the time encoding, 0 for none"),
    "beta": Interval(0.0, 1.0, hint="membrane decay per step, e.g. 0.9"),
    "num_steps": AtLeast(1, integer=True),
    "surrogate": Options(SURROGATES),
    "surrogate_alpha": Positive(hint="the surrogate's slope, e.g. 2.0"),
    "n_knots": AtLeast(4, integer=True),
    "kernel_width": Positive(hint="in knot spacings, e.g. 1.0"),
    "pad": AtLeast(0, integer=True, hint="extra knots on each side"),
    "recurrent": Boolean(),
    "spikes_only": Boolean(),
    "init_scale": AtLeast(0.0, hint="standard deviation of the initial coefficients, 0 starts from x0"),
}


def _table(*names: str) -> dict[str, Any]:
    """The shared constraints of ``names`` (one class's table)."""
    return {name: _PARAMETERS[name] for name in names}


def make_surrogate(name: str = "atan", alpha: float = 2.0) -> Any:
    """A twice-differentiable snnTorch surrogate: ``atan`` (default) or ``fast_sigmoid``.

    (``sigmoid`` overflows to NaN for slope*|U - thr| > ~88; straight-through/triangular have no
    second-order graph: see shared/notes/spiking-pinn-pitfall.md.)

    Parameters
    ----------
    name : {"atan", "fast_sigmoid"}, default "atan"
        Surrogate.
    alpha : float, default 2.0
        Its slope.

    Returns
    -------
    callable
        An snnTorch surrogate spike function.

    Raises
    ------
    UnknownNameError
        Another name.
    """
    if name == "atan":
        return surrogate.atan(alpha=alpha)
    if name == "fast_sigmoid":
        return surrogate.fast_sigmoid(slope=alpha)
    raise unknown_name("surrogate", name, SURROGATES)


class TimeEncoding(nn.Module):
    """Input scaling + Fourier features of t (no trainable parameters).

    Parameters
    ----------
    t_end : float
        Length of the window (tau): t is scaled to t / t_end.
    n_freq : int, default 4
        Fourier frequencies j = 1..n_freq.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("t_end", "n_freq")

    def __init__(self, t_end: float, n_freq: int = 4):
        super().__init__()
        checked = validate_params(self._parameter_constraints, {"t_end": t_end, "n_freq": n_freq})
        self.t_end = checked["t_end"]
        self.n_freq = checked["n_freq"]

    @property
    def dim(self) -> int:
        """Number of features, 1 + 2 n_freq."""
        return 1 + 2 * self.n_freq

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Features ``[2 tau - 1, sin(2 pi j tau), cos(2 pi j tau)]`` of tau = t / t_end.

        Parameters
        ----------
        t : tensor of shape (n_times,)
            Times (tau).

        Returns
        -------
        tensor of shape (n_times, 1 + 2 n_freq)
        """
        tau = (t / self.t_end).reshape(-1, 1)
        feats = [2.0 * tau - 1.0]
        if self.n_freq:
            j = torch.arange(1, self.n_freq + 1, device=t.device, dtype=t.dtype)
            arg = 2.0 * math.pi * tau * j
            feats += [torch.sin(arg), torch.cos(arg)]
        return torch.cat(feats, dim=1).float()


class _Base(nn.Module):
    """Shared bookkeeping: initial position offset, output shape, spike records."""

    spiking = False

    def __init__(self, x0: np.ndarray, t_end: float, n_freq: int):
        super().__init__()
        x0 = np.asarray(x0, dtype=float)
        self.shape = tuple(int(s) for s in x0.shape)
        self.n_out = int(np.prod(self.shape))
        # a COPY: torch.as_tensor would share memory with the caller's array (problem.x0) and an in-place
        # change of either would silently change the other
        self.register_buffer("x0", torch.tensor(np.array(x0, dtype=np.float64, copy=True)))
        self.encoding = TimeEncoding(t_end, n_freq)
        self.last_spikes: list[torch.Tensor] = []

    @property
    def device(self) -> torch.device:
        return self.x0.device

    def _finish(self, out: torch.Tensor) -> torch.Tensor:
        return self.x0 + out.to(torch.float64).reshape(-1, *self.shape)


def lif_layer(beta: float, spike_grad: Any) -> nn.Module:
    r"""An snnTorch ``Leaky`` LIF layer (reset by subtraction, states passed explicitly).

    .. math::

        U[n+1] = \beta\, U[n] + I[n+1] - S[n]\, U_{\mathrm{thr}}, \qquad S[n] = \Theta(U[n] - U_{\mathrm{thr}})

    Parameters
    ----------
    beta : float
        Membrane decay factor per step, in (0, 1).
    spike_grad : callable
        Surrogate gradient (:func:`make_surrogate`).

    Returns
    -------
    snntorch.Leaky
    """
    # init_hidden stays False: with init_hidden=True the hidden mem would stay on the old device after
    # .to() (snnTorch issue #225). States are created per call on the input's device instead.
    return snn.Leaky(beta=beta, spike_grad=spike_grad, init_hidden=False, reset_mechanism="subtract")


def lif_steps(net: nn.Module, cur1: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The one two-layer LIF loop of the kit (ClockSNN, PointwiseSNN, the operator's SpikingBranch).

    ``net`` holds ``lif1``, ``fc2``, ``lif2`` (:func:`lif_layer`) and ``num_steps``; the input current ``cur1``
    ``(B, H)`` is held constant for ``num_steps`` steps (direct / rate coding)::

        (s1, U1) <- lif1(cur1, U1),   (s2, U2) <- lif2(fc2(s1), U2),   U1 = U2 = 0 at the start.

    Yields ``(s1, s2, U2)`` ``(B, H)`` per step (the caller reduces them: nothing is kept here, so a no-grad pass
    of a wide reservoir needs memory for one step only).  Once the loop is done, snnTorch's kept membranes are
    dropped (``reset_mem``): the module then holds no autograd graph, so a model can be deep-copied after any
    forward / backward pass (``copy.deepcopy``; pickling fails on snnTorch's surrogate, a local function).

    Parameters
    ----------
    net : torch.nn.Module
        Holds ``lif1``, ``fc2``, ``lif2`` and ``num_steps``.
    cur1 : tensor of shape (batch, hidden)
        Input current of layer 1, held over the steps.

    Yields
    ------
    tuple of tensors of shape (batch, hidden)
        Layer-1 spikes, layer-2 spikes, layer-2 membrane of each step.
    """
    mem1 = torch.zeros_like(cur1)
    mem2 = torch.zeros(cur1.shape[0], net.fc2.out_features, device=cur1.device, dtype=cur1.dtype)
    try:
        for _ in range(net.num_steps):
            s1, mem1 = net.lif1(cur1, mem1)
            s2, mem2 = net.lif2(net.fc2(s1), mem2)
            yield s1, s2, mem2
    finally:
        net.lif1.reset_mem()
        net.lif2.reset_mem()


def _run_lif(lif: nn.Module, cur: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drive an snn.Leaky layer with currents ``cur`` (K, H), one clock step per row: spikes and membranes."""
    mem = torch.zeros_like(cur[:1])
    spk, mems = [], []
    for k in range(cur.shape[0]):
        s, mem = lif(cur[k:k + 1], mem)
        spk.append(s)
        mems.append(mem)
    lif.reset_mem()  # drop snnTorch's kept membrane: the module then holds no autograd graph (deep-copyable)
    return torch.cat(spk), torch.cat(mems)


class _TwoLayerLIF(_Base):
    """Shared spiking body (written once): encoding -> fc1 -> LIF -> fc2 -> LIF -> readout of [spikes, membrane]."""

    spiking = True

    def _build_spiking_body(self, hidden: int, beta: float, surrogate: str, surrogate_alpha: float,
                            num_steps: int) -> None:
        grad = make_surrogate(surrogate, surrogate_alpha)
        self.num_steps = int(num_steps)
        self.fc1 = nn.Linear(self.encoding.dim, hidden)
        self.lif1 = lif_layer(beta, grad)
        self.fc2 = nn.Linear(hidden, hidden)
        self.lif2 = lif_layer(beta, grad)
        self.readout = nn.Linear(2 * hidden, self.n_out)

    def _rate_readout(self, cur1: torch.Tensor) -> torch.Tensor:
        """Hold input currents ``cur1`` (B, H) for ``num_steps`` LIF steps; mean readout (B, n_out).

        Records the spikes of both layers in ``last_spikes`` as (steps, B, H) tensors.
        """
        out, s1_rec, s2_rec = 0.0, [], []
        for s1, s2, mem2 in lif_steps(self, cur1):
            out = out + self.readout(torch.cat([s2, mem2], dim=1))
            s1_rec.append(s1)
            s2_rec.append(s2)
        self.last_spikes = [torch.stack(s1_rec).detach(), torch.stack(s2_rec).detach()]
        return out / self.num_steps


class PointwiseSNN(_TwoLayerLIF):
    r"""t -> constant input current -> ``num_steps`` steps of 2 LIF layers -> mean readout (see module doc).

    The two LIF layers follow snnTorch's ``Leaky`` with reset by subtraction,

    .. math::

        U[n+1] = \beta\, U[n] + I[n+1] - S[n]\, U_{\mathrm{thr}}, \qquad S[n] = \Theta(U[n] - U_{\mathrm{thr}}),

    driven for ``num_steps`` steps by the constant current of the encoded query time.

    Parameters
    ----------
    x0 : array of shape (n_atoms, n_dim)
        Initial positions (sigma); sets the output shape.
    t_end : float
        Length of the time window (tau).
    hidden : int, default 32
        LIF neurons per hidden layer.
    n_freq : int, default 4
        Fourier frequencies of the time encoding.
    beta : float, default 0.9
        Membrane decay factor per LIF step.
    num_steps : int, default 8
        LIF steps per query time.
    surrogate : {"atan", "fast_sigmoid"}, default "atan"
        Surrogate gradient.
    surrogate_alpha : float, default 2.0
        Slope of the surrogate.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("x0", "t_end", "hidden", "n_freq", "beta", "num_steps",
                                                           "surrogate", "surrogate_alpha")

    def __init__(self, x0: np.ndarray, t_end: float, hidden: int = 32, n_freq: int = 4, beta: float = 0.9,
                 num_steps: int = 8, surrogate: str = "atan", surrogate_alpha: float = 2.0):
        c = validate_params(self._parameter_constraints, {
            "x0": x0, "t_end": t_end, "hidden": hidden, "n_freq": n_freq, "beta": beta, "num_steps": num_steps,
            "surrogate": surrogate, "surrogate_alpha": surrogate_alpha})
        super().__init__(c["x0"], c["t_end"], c["n_freq"])
        self._build_spiking_body(c["hidden"], c["beta"], c["surrogate"], c["surrogate_alpha"], c["num_steps"])

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Positions x(t): the step-averaged readout for each query time.

        Parameters
        ----------
        t : tensor of shape (n_times,)
            Query times (tau).

        Returns
        -------
        tensor of shape (n_times, n_atoms, n_dim)
        """
        return self._finish(self._rate_readout(self.fc1(self.encoding(t))))


class _KernelSum(_Base):
    """x(t) = x0 + sum_k y_k G(t - t_k) on Gaussian knots: the readout :class:`ClockSNN` and
    :class:`KernelCoefficients` share; a subclass sets the knots (:meth:`_set_knots`) and gives
    :meth:`coefficients` y, shape ``(n_knots, n_atoms * n_dim)``."""

    def _set_knots(self, t_end: float, n_knots: int, kernel_width: float, pad: int) -> None:
        knots, self.sigma = make_knots(t_end, n_knots, kernel_width, pad)
        self.register_buffer("knots", torch.as_tensor(knots, dtype=torch.float64))

    def coefficients(self) -> torch.Tensor:  # pragma: no cover - every subclass defines it
        """Coefficients y_k, shape ``(n_knots, n_atoms * n_dim)``."""
        raise NotImplementedError

    def kernel(self, t: torch.Tensor, order: int = 0) -> torch.Tensor:
        """G^(order)(t_i - t_k), shape ``(B, K)``: 0 value, 1 first and 2 second derivative in t.

        Parameters
        ----------
        t : tensor of shape (n_times,)
            Query times (tau).
        order : {0, 1, 2}, default 0
            Derivative order in t.

        Returns
        -------
        tensor of shape (n_times, n_knots)
        """
        return gaussian_kernel(t, self.knots, self.sigma, order)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Positions x(t) of the forward output.

        Parameters
        ----------
        t : tensor of shape (n_times,)
            Query times (tau), float64.

        Returns
        -------
        tensor of shape (n_times, n_atoms, n_dim)
            Positions (sigma).
        """
        return self._finish(self.kernel(t) @ self.coefficients())

    def derivatives(self, t: torch.Tensor, y: "torch.Tensor | None" = None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Exact x(t), x'(t), x''(t) of the forward output (ONE call of :meth:`coefficients`: for
        :class:`ClockSNN`, one pass of the spiking network).

        ``y``: coefficients already computed this step (:meth:`coefficients`); None computes them.

        Parameters
        ----------
        t : tensor of shape (n_times,)
            Query times (tau).
        y : tensor of shape (n_knots, n_atoms * n_dim) or None, default None
            Coefficients already computed this step; None: :meth:`coefficients`.

        Returns
        -------
        x, v, a : tensors of shape (n_times, n_atoms, n_dim)
            Positions (sigma), velocities (sigma/tau), accelerations (sigma/tau^2).
        """
        y = self.coefficients() if y is None else y
        x = self._finish(self.kernel(t, 0) @ y)
        v = (self.kernel(t, 1) @ y).reshape(-1, *self.shape)
        a = (self.kernel(t, 2) @ y).reshape(-1, *self.shape)
        return x, v, a


class ClockSNN(_TwoLayerLIF, _KernelSum):
    r"""LIF network on its own clock + smooth Gaussian-kernel readout neuron (see module doc).

    Each of the two hidden layers is a leaky integrate-and-fire neuron (snnTorch ``Leaky``, reset by
    subtraction) with membrane potential U, input current I and spikes S:

    .. math::

        U[n+1] = \beta\, U[n] + I[n+1] - S[n]\, U_{\mathrm{thr}}, \qquad
        S[n] = \Theta(U[n] - U_{\mathrm{thr}}),

    with :math:`U_{\mathrm{thr}} = 1` and the Heaviside step :math:`\Theta` replaced by a smooth surrogate in the
    backward pass (``surrogate``). At each knot :math:`t_k` the step average of a linear readout of the last
    layer's spikes and membrane gives a coefficient :math:`y_k`; the non-spiking output neuron is

    .. math::

        x(t) = x_0 + \sum_k y_k\, G(t - t_k), \qquad G(u) = e^{-u^2 / (2 \sigma^2)},

    so :math:`\dot x` and :math:`\ddot x` are exact sums over :math:`G'` and :math:`G''`.

    Parameters
    ----------
    x0 : array of shape (n_atoms, n_dim)
        Initial positions (sigma); the output is x0 plus the kernel sum.
    t_end : float
        Length of the time window (tau).
    hidden : int, default 32
        LIF neurons per hidden layer.
    n_freq : int, default 4
        Fourier frequencies of the time encoding.
    beta : float, default 0.9
        Membrane decay factor beta per LIF step, in (0, 1).
    n_knots : int, default 64
        Knots over [0, t_end].
    kernel_width : float, default 1.0
        Gaussian width sigma in knot spacings.
    pad : int, default 3
        Extra knots on each side of the window.
    surrogate : {"atan", "fast_sigmoid"}, default "atan"
        Surrogate gradient of the spike.
    surrogate_alpha : float, default 2.0
        Slope of the surrogate.
    recurrent : bool, default False
        Run the network once along the knots (True) instead of a short run per knot.
    num_steps : int, default 8
        LIF steps per knot (rate code).

    Raises
    ------
    UnknownNameError
        An unknown surrogate.
    InvalidParameterError
        A value out of range (the message names it).
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("x0", "t_end", "hidden", "n_freq", "beta", "n_knots",
                                                           "kernel_width", "pad", "surrogate", "surrogate_alpha",
                                                           "recurrent", "num_steps")

    def __init__(self, x0: np.ndarray, t_end: float, hidden: int = 32, n_freq: int = 4, beta: float = 0.9,
                 n_knots: int = 64, kernel_width: float = 1.0, pad: int = 3, surrogate: str = "atan",
                 surrogate_alpha: float = 2.0, recurrent: bool = False, num_steps: int = 8):
        c = validate_params(self._parameter_constraints, {
            "x0": x0, "t_end": t_end, "hidden": hidden, "n_freq": n_freq, "beta": beta, "n_knots": n_knots,
            "kernel_width": kernel_width, "pad": pad, "surrogate": surrogate, "surrogate_alpha": surrogate_alpha,
            "recurrent": recurrent, "num_steps": num_steps})
        super().__init__(c["x0"], c["t_end"], c["n_freq"])
        self.recurrent = c["recurrent"]
        self._set_knots(c["t_end"], c["n_knots"], c["kernel_width"], c["pad"])
        self._build_spiking_body(c["hidden"], c["beta"], c["surrogate"], c["surrogate_alpha"], c["num_steps"])

    def coefficients(self) -> torch.Tensor:
        """Run the spiking network over its clock: coefficients y_k, shape ``(K, n_out)`` (float64)."""
        cur1 = self.fc1(self.encoding(self.knots))  # (K, H): input current at each clock step
        if not self.recurrent:  # every knot is its own short spiking run (batched over knots)
            return self._rate_readout(cur1).to(torch.float64)
        s1, _ = _run_lif(self.lif1, cur1)  # layer by layer: each layer's recurrence is sequential in k,
        s2, mem2 = _run_lif(self.lif2, self.fc2(s1))  # but its synaptic input is one batched matmul
        self.last_spikes = [s1.detach()[:, None], s2.detach()[:, None]]  # (K, 1, H)
        return self.readout(torch.cat([s2, mem2], dim=1)).to(torch.float64)

class KernelCoefficients(_KernelSum):
    """The kernel-only ablation: the SAME Gaussian basis as :class:`ClockSNN`, with y_k free parameters.

    x(t) = x0 + sum_k y_k G(t - t_k) with y (K, n_out) an ``nn.Parameter`` (no spiking network, no encoding
    in use).  Trained with the same Trainer, loss, learning rate, schedule and clipping as the NP-SNN, it
    shows what the basis alone achieves; the difference to the NP-SNN is what the spikes add.
    ``init_scale``: standard deviation of the seeded random initial y (0 starts from x(t) = x0).

    Parameters
    ----------
    x0 : array of shape (n_atoms, n_dim)
        Initial positions (sigma).
    t_end : float
        Length of the time window (tau).
    n_knots : int, default 64
        Knots over [0, t_end].
    kernel_width : float, default 1.0
        Gaussian width in knot spacings.
    pad : int, default 3
        Extra knots on each side.
    init_scale : float, default 0.01
        Standard deviation of the seeded random initial coefficients.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("x0", "t_end", "n_knots", "kernel_width", "pad",
                                                           "init_scale")

    def __init__(self, x0: np.ndarray, t_end: float, n_knots: int = 64, kernel_width: float = 1.0, pad: int = 3,
                 init_scale: float = 1e-2):
        c = validate_params(self._parameter_constraints, {"x0": x0, "t_end": t_end, "n_knots": n_knots,
                                                          "kernel_width": kernel_width, "pad": pad,
                                                          "init_scale": init_scale})
        super().__init__(c["x0"], c["t_end"], 0)
        self._set_knots(c["t_end"], c["n_knots"], c["kernel_width"], c["pad"])
        self.y = nn.Parameter(c["init_scale"] * torch.randn(len(self.knots), self.n_out, dtype=torch.float64))

    def coefficients(self) -> torch.Tensor:
        """The free coefficients y, tensor of shape (n_knots, n_atoms * n_dim)."""
        return self.y


class MLPPINN(_Base):
    """tanh MLP PINN baseline (encoding -> hidden -> hidden -> out).

    Parameters
    ----------
    x0 : array of shape (n_atoms, n_dim)
        Initial positions (sigma); sets the output shape.
    t_end : float
        Length of the time window (tau).
    hidden : int, default 32
        Width of the hidden layers.
    n_freq : int, default 4
        Fourier frequencies of the time encoding.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("x0", "t_end", "hidden", "n_freq")

    def __init__(self, x0: np.ndarray, t_end: float, hidden: int = 32, n_freq: int = 4):
        c = validate_params(self._parameter_constraints, {"x0": x0, "t_end": t_end, "hidden": hidden, "n_freq": n_freq})
        super().__init__(c["x0"], c["t_end"], c["n_freq"])
        hidden = c["hidden"]
        self.net = nn.Sequential(nn.Linear(self.encoding.dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, self.n_out))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Positions x(t).

        Parameters
        ----------
        t : tensor of shape (n_times,)
            Query times (tau).

        Returns
        -------
        tensor of shape (n_times, n_atoms, n_dim)
        """
        return self._finish(self.net(self.encoding(t)))


# ------------------------------------------------------------------------------------------------
# Operator branches (p -> coefficients, :mod:`.operator`)
# ------------------------------------------------------------------------------------------------
class SpikingBranch(nn.Module):
    r"""Features -> constant input current -> LIF -> LIF (``num_steps`` steps) -> linear readout of the mean
    layer-2 spikes (and membrane unless ``spikes_only``), through the kit's one LIF loop (:func:`lif_steps`).
    Records spike counts for :func:`~npsnn_edu.spiking.energy.operation_counts`.

    Each layer is snnTorch's ``Leaky`` LIF neuron with reset by subtraction,

    .. math::

        U[n+1] = \beta\, U[n] + I[n+1] - S[n]\, U_{\mathrm{thr}}, \qquad S[n] = \Theta(U[n] - U_{\mathrm{thr}}),

    and the readout is linear in the step means :math:`\bar S_2 = \frac{1}{n} \sum_n S_2[n]` (and
    :math:`\bar U_2`).

    Parameters
    ----------
    n_in : int
        Input features.
    n_out : int
        Outputs (coefficients).
    hidden : int, default 64
        LIF neurons per layer.
    num_steps : int, default 16
        LIF steps.
    beta : float, default 0.9
        Membrane decay per step.
    spikes_only : bool, default False
        Read out the spikes only (no membrane).
    surrogate : {"atan", "fast_sigmoid"}, default "atan"
        Surrogate gradient.
    surrogate_alpha : float, default 2.0
        Slope of the surrogate.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("n_in", "n_out", "hidden", "num_steps", "beta",
                                                           "spikes_only", "surrogate", "surrogate_alpha")

    def __init__(self, n_in: int, n_out: int, hidden: int = 64, num_steps: int = 16, beta: float = 0.9,
                 spikes_only: bool = False, surrogate: str = "atan", surrogate_alpha: float = 2.0):
        super().__init__()
        c = validate_params(self._parameter_constraints, {
            "n_in": n_in, "n_out": n_out, "hidden": hidden, "num_steps": num_steps, "beta": beta,
            "spikes_only": spikes_only, "surrogate": surrogate, "surrogate_alpha": surrogate_alpha})
        grad = make_surrogate(c["surrogate"], c["surrogate_alpha"])
        hidden = c["hidden"]
        self.num_steps = c["num_steps"]
        self.spikes_only = c["spikes_only"]
        self.fc1 = nn.Linear(c["n_in"], hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.lif1 = lif_layer(c["beta"], grad)  # states created per call on the input's device (snnTorch #225)
        self.lif2 = lif_layer(c["beta"], grad)
        self.readout = nn.Linear(hidden if self.spikes_only else 2 * hidden, c["n_out"])
        self.last_counts: dict[str, float] = {}

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Coefficients from features: the readout of :meth:`hidden_features`.

        Parameters
        ----------
        feats : tensor of shape (batch, n_in)
            Input features.

        Returns
        -------
        tensor of shape (batch, n_out)
        """
        return self.readout(self.hidden_features(feats))

    def hidden_features(self, feats: torch.Tensor) -> torch.Tensor:
        """What the readout sees: mean layer-2 spike rates (and mean membrane unless ``spikes_only``).

        Parameters
        ----------
        feats : tensor of shape (batch, n_in)
            Input features.

        Returns
        -------
        tensor of shape (batch, hidden) or (batch, 2 hidden)
        """
        cur1 = self.fc1(feats)
        s1_sum = torch.zeros_like(cur1)
        s2_sum = torch.zeros(feats.shape[0], self.fc2.out_features, device=feats.device, dtype=cur1.dtype)
        m2_sum = torch.zeros_like(s2_sum)
        for s1, s2, mem2 in lif_steps(self, cur1):
            s1_sum = s1_sum + s1
            s2_sum = s2_sum + s2
            m2_sum = m2_sum + mem2
        self.last_counts = {"spikes1": float(s1_sum.detach().sum()) / feats.shape[0],
                            "spikes2": float(s2_sum.detach().sum()) / feats.shape[0]}
        rates = s2_sum / self.num_steps
        return rates if self.spikes_only else torch.cat([rates, m2_sum / self.num_steps], 1)


class TanhBranch(nn.Module):
    """tanh MLP branch (features -> hidden -> hidden -> coefficients): the physics-informed DeepONet peer.

    Parameters
    ----------
    n_in : int
        Input features.
    n_out : int
        Outputs (coefficients).
    hidden : int, default 64
        Width of the hidden layers.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = _table("n_in", "n_out", "hidden")

    def __init__(self, n_in: int, n_out: int, hidden: int = 64):
        super().__init__()
        c = validate_params(self._parameter_constraints, {"n_in": n_in, "n_out": n_out, "hidden": hidden})
        n_in, n_out, hidden = c["n_in"], c["n_out"], c["hidden"]
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, n_out))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Coefficients from features.

        Parameters
        ----------
        feats : tensor of shape (batch, n_in)
            Input features.

        Returns
        -------
        tensor of shape (batch, n_out)
        """
        return self.net(feats)

    def hidden_features(self, feats: torch.Tensor) -> torch.Tensor:
        """What the readout (the last linear layer) sees: the second tanh layer.

        Parameters
        ----------
        feats : tensor of shape (batch, n_in)
            Input features.

        Returns
        -------
        tensor of shape (batch, hidden)
        """
        return self.net[:-1](feats)


def _n_params(n_in: int, n_out: int, hidden: int, readout_in: int) -> int:
    return n_in * hidden + hidden + hidden * hidden + hidden + readout_in * n_out + n_out


def matched_tanh_hidden(n_in: int, n_out: int, hidden: int) -> int:
    """Hidden width of a :class:`TanhBranch` whose parameter count is closest to a spiking branch of ``hidden``.

    Parameters
    ----------
    n_in : int
        Input features.
    n_out : int
        Outputs.
    hidden : int
        Hidden width of the spiking branch.

    Returns
    -------
    int
    """
    target = _n_params(n_in, n_out, hidden, 2 * hidden)
    return min(range(1, 8 * hidden), key=lambda h: abs(_n_params(n_in, n_out, h, h) - target))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters.

    Parameters
    ----------
    model : torch.nn.Module
        The model.

    Returns
    -------
    int
    """
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
