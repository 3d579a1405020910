"""The state and time helpers every physics-informed operator solver shares (the trainer, the readout solve).

* :func:`state_tensors`: a family's start (x0, v0), its angular frequency omega and amplitude as float64 tensors,
  for a batch of parameters p; the velocity is stored as ``w0 = v0 / omega`` (the derivative in tau = omega t).
* :func:`basis_trajectory`: x and its tau-derivatives from the kernel-basis design and the coefficients,
  x(tau) = x0 + s(tau) w0 + sum_k phi_k(tau) y_k (s = tanh tau keeps x(0) = x0 and x'(0) = w0 exactly).
* :func:`training_taus`: the fixed collocation points in tau.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .operator_families import OperatorFamily

__all__ = ["state_tensors", "basis_trajectory", "training_taus"]


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


def training_taus(tau_end: float, n: int) -> np.ndarray:
    """Fixed collocation midpoints (i + 1/2) tau_end / n (disjoint from the 1001-point evaluation grid).

    Parameters
    ----------
    tau_end : float
        Scaled window length.
    n : int
        Points.

    Returns
    -------
    array of shape (n,)
    """
    return (np.arange(n) + 0.5) * tau_end / n
