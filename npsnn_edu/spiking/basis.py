"""The smooth time path every spiking design of chapter 4 shares: the Gaussian kernel basis, the state and
trajectory helpers built on it, and the one pair of time grids (training and evaluation).

* :func:`make_knots`, :func:`gaussian_kernel`: knots t_k (``n_knots`` over [0, t_end] plus ``pad`` each side) and
  G^(d)(t - t_k) with G(u) = exp(-u^2 / (2 sigma^2)), sigma = ``kernel_width`` knot spacings;
* :class:`KernelBasis`: the operator's trunk, the same knots with the initial conditions built in;
* :func:`state_tensors`: a family's start (x0, v0), its angular frequency omega and amplitude as float64 tensors,
  for a batch of parameters p; the velocity is stored as ``w0 = v0 / omega`` (the derivative in tau = omega t);
* :func:`basis_trajectory`: x and its tau-derivatives from the kernel-basis design and the coefficients,
  x(tau) = x0 + s(tau) w0 + sum_k phi_k(tau) y_k (s = tanh tau keeps x(0) = x0 and x'(0) = w0 exactly);
* :func:`training_times`, :func:`eval_times`: the fixed collocation midpoints and the dense uniform evaluation grid
  (disjoint from each other), for one window or one window per problem.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from ..device import resolve_device
from ..errors import InvalidParameterError
from ..validation import AtLeast, Constraints, Positive, Rule, validate_params
from .operator_families import OperatorFamily

__all__ = ["KernelBasis", "basis_trajectory", "eval_times", "gaussian_kernel", "make_knots", "state_tensors",
           "training_times"]


def make_knots(t_end: float, n_knots: int, kernel_width: float = 1.0, pad: int = 3) -> tuple[np.ndarray, float]:
    """Knot times (``n_knots`` over [0, t_end] plus ``pad`` each side) and the Gaussian width sigma (tau).

    The one knot builder of the kit (:class:`~npsnn_edu.spiking.models.ClockSNN`, :class:`KernelBasis`):
    spacing h = t_end / (n_knots - 1), knots h (k - pad) for k = 0 .. n_knots + 2 pad - 1, sigma = kernel_width h.

    Parameters
    ----------
    t_end : float
        Length of the window (tau).
    n_knots : int
        Knots over [0, t_end] (>= 4).
    kernel_width : float, default 1.0
        Width in knot spacings.
    pad : int, default 3
        Extra knots on each side.

    Returns
    -------
    knots : array of shape (n_knots + 2 pad,)
        Knot times (tau).
    sigma : float
        Gaussian width (tau).

    Raises
    ------
    InvalidParameterError
        ``n_knots`` < 4, ``kernel_width`` <= 0 or ``pad`` < 0.
    """
    if n_knots < 4:
        raise InvalidParameterError(f"n_knots must be >= 4, got {n_knots}")
    if not kernel_width > 0:
        raise InvalidParameterError(f"kernel_width must be positive (in knot spacings), got {kernel_width}")
    if int(pad) < 0:
        raise InvalidParameterError(f"pad must be >= 0 knots, got {pad}")
    h = float(t_end) / (n_knots - 1)
    return h * (np.arange(n_knots + 2 * int(pad)) - int(pad)), float(kernel_width) * h


def gaussian_kernel(t: torch.Tensor, knots: torch.Tensor, sigma: float, order: int = 0) -> torch.Tensor:
    r"""G^(order)(t_i - t_k), shape ``(B, K)``, G(u) = exp(-u^2 / (2 sigma^2)); order 0, 1 or 2 (d/dt).

    .. math::

        G(u) = e^{-u^2 / 2\sigma^2}, \quad G'(u) = -\frac{u}{\sigma^2} G(u), \quad
        G''(u) = \Big(\frac{u^2}{\sigma^4} - \frac{1}{\sigma^2}\Big) G(u).

    Parameters
    ----------
    t : tensor of shape (n_times,)
        Query times (tau).
    knots : tensor of shape (n_knots,)
        Knot times (tau).
    sigma : float
        Kernel width (tau).
    order : {0, 1, 2}, default 0
        Derivative order in t.

    Returns
    -------
    tensor of shape (n_times, n_knots)

    Raises
    ------
    InvalidParameterError
        Another order.
    """
    u = t.reshape(-1, 1).to(torch.float64) - knots[None, :]
    s2 = sigma**2
    g = torch.exp(-0.5 * u * u / s2)
    if order == 0:
        return g
    if order == 1:
        return -u / s2 * g
    if order == 2:
        return (u * u / s2**2 - 1.0 / s2) * g
    raise InvalidParameterError(f"order must be 0, 1 or 2, got {order}")


class KernelBasis:
    """Gaussian knots on [0, tau_end] (``n_knots`` + 2 ``pad``), width ``kernel_width`` knot spacings: the operator's
    trunk, with the initial conditions built in (:meth:`design`).

    Parameters
    ----------
    tau_end : float
        End of the scaled time window.
    n_knots : int, default 24
        Knots over [0, tau_end].
    kernel_width : float, default 1.0
        Gaussian width in knot spacings.
    pad : int, default 3
        Extra knots on each side.
    device : str, torch.device or None, default "cpu"
        Device of the knot tensor (:func:`~npsnn_edu.device.resolve_device`: None or "auto" picks CUDA when
        available).

    Raises
    ------
    InvalidParameterError
        A non-positive ``tau_end`` or ``kernel_width``, fewer than 4 knots, a negative ``pad``, an unknown device.
    DeviceUnavailableError
        CUDA asked for without a GPU.
    """

    #: Every ``__init__`` parameter's constraint.
    _parameter_constraints: ClassVar[Constraints] = {
        "tau_end": Positive(hint="end of the scaled time window"),
        "n_knots": AtLeast(4, integer=True),
        "kernel_width": Positive(hint="in knot spacings, e.g. 1.0"),
        "pad": AtLeast(0, integer=True, hint="extra knots on each side"),
        "device": Rule(lambda name, value: resolve_device(value), invalid="tpu"),
    }

    def __init__(self, tau_end: float, n_knots: int = 24, kernel_width: float = 1.0, pad: int = 3,
                 device: Any = "cpu"):
        checked = validate_params(self._parameter_constraints, {"tau_end": tau_end, "n_knots": n_knots,
                                                                "kernel_width": kernel_width, "pad": pad,
                                                                "device": device})
        self.tau_end, self.n_knots = checked["tau_end"], checked["n_knots"]
        knots, self.sigma = make_knots(self.tau_end, self.n_knots, checked["kernel_width"], checked["pad"])
        self.device = checked["device"]
        self.knots = torch.as_tensor(knots, dtype=torch.float64, device=self.device)

    @property
    def size(self) -> int:
        """Number of basis functions K (knots including padding)."""
        return int(self.knots.shape[0])

    def design(self, tau: Any) -> tuple[torch.Tensor, ...]:
        """(Phi0, Phi1, Phi2, S0, S1, S2): the IC-enforcing basis and its tau-derivatives at ``tau`` ``(T,)``.

        Phi_d has shape ``(T, K)``, S_d shape ``(T,)`` (S = tanh, S(0) = 0, S'(0) = 1).

        Parameters
        ----------
        tau : array or tensor of shape (n_times,)
            Scaled times.

        Returns
        -------
        tuple of tensors
            Phi0, Phi1, Phi2 of shape (n_times, K) and S0, S1, S2 of shape (n_times,).
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


def state_tensors(family: OperatorFamily, p: np.ndarray, device: Any) -> tuple[torch.Tensor, ...]:
    """(x0 ``(B, C)``, w0 = v0 / omega ``(B, C)``, omega ``(B,)``, amplitude ``(B,)``) of parameters p ``(B, P)``.

    Parameters
    ----------
    family : OperatorFamily
        The family.
    p : array of shape (batch, n_params)
        Problem parameters.
    device : str or torch.device
        Device of the tensors.

    Returns
    -------
    tuple of tensors
        x0 and w0 of shape (batch, n_out), omega and amplitude of shape (batch,), float64.
    """
    x0, v0 = family.initial_state(p)
    om = family.omega(p)
    b = len(p)
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float64, device=device)  # noqa: E731
    return (as_t(x0.reshape(b, -1)), as_t((v0 / om[:, None, None]).reshape(b, -1)), as_t(om),
            as_t(family.amplitude(p)))


def basis_trajectory(design: tuple[torch.Tensor, ...], x0: torch.Tensor, w0: torch.Tensor, y: torch.Tensor,
                     order: int = 2) -> list[torch.Tensor]:
    """x and its tau-derivatives up to ``order``: each ``(B, T, C)`` for x0, w0 = v0' ``(B, C)``, y ``(B, K, C)``.

    Parameters
    ----------
    design : tuple of tensors
        Output of :meth:`KernelBasis.design`.
    x0 : tensor of shape (batch, n_out)
        Initial positions.
    w0 : tensor of shape (batch, n_out)
        Initial velocities / omega.
    y : tensor of shape (batch, K, n_out)
        Coefficients.
    order : {0, 1, 2}, default 2
        Highest tau-derivative.

    Returns
    -------
    list of tensors of shape (batch, n_times, n_out)
    """
    out = []
    for d in range(order + 1):
        phi, s = design[d], design[3 + d]
        val = torch.einsum("tk,bkc->btc", phi, y) + s[None, :, None] * w0[:, None, :]
        out.append(val + x0[:, None, :] if d == 0 else val)
    return out


def training_times(t_end: float, n: int) -> np.ndarray:
    """The fixed collocation grid: midpoints (i + 1/2) t_end / n, shape ``(n,)`` (physical time or tau).

    Parameters
    ----------
    t_end : float
        Length of the window (``problem.t_end``; an operator's ``family.tau_end``).
    n : int
        Points.

    Returns
    -------
    array of shape (n,)
    """
    return (np.arange(n) + 0.5) * t_end / n


def eval_times(t_end: Any, n: int = 1001) -> np.ndarray:
    """The dense evaluation grid: ``n`` uniform points on [0, t_end] (disjoint from :func:`training_times`).

    ``t_end`` a number: shape ``(n,)``; an array of window lengths ``(B,)`` (one per problem, e.g.
    ``family.tau_end / family.omega(p)``): shape ``(B, n)``.

    Parameters
    ----------
    t_end : float or array of shape (batch,)
        Length of the window, or one per problem.
    n : int, default 1001
        Points.

    Returns
    -------
    array of shape (n,) or (batch, n)
    """
    if np.ndim(t_end) == 0:
        return np.linspace(0.0, float(t_end), int(n))
    return np.linspace(0.0, 1.0, int(n))[None, :] * np.asarray(t_end, dtype=float)[:, None]
