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
    """(x0 ``(B, C)``, w0 = v0 / omega ``(B, C)``, omega ``(B,)``, amplitude ``(B,)``) of parameters p ``(B, P)``."""
    x0, v0 = family.initial_state(p)
    om = family.omega(p)
    b = len(p)
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float64, device=device)  # noqa: E731
    return (as_t(x0.reshape(b, -1)), as_t((v0 / om[:, None, None]).reshape(b, -1)), as_t(om),
            as_t(family.amplitude(p)))


def basis_trajectory(design: tuple[torch.Tensor, ...], x0: torch.Tensor, w0: torch.Tensor, y: torch.Tensor,
                     order: int = 2) -> list[torch.Tensor]:
    """x and its tau-derivatives up to ``order``: each ``(B, T, C)`` for x0, w0 = v0' ``(B, C)``, y ``(B, K, C)``."""
    out = []
    for d in range(order + 1):
        phi, s = design[d], design[3 + d]
        val = torch.einsum("tk,bkc->btc", phi, y) + s[None, :, None] * w0[:, None, :]
        out.append(val + x0[:, None, :] if d == 0 else val)
    return out


def training_taus(tau_end: float, n: int) -> np.ndarray:
    """Fixed collocation midpoints (i + 1/2) tau_end / n (disjoint from the 1001-point evaluation grid)."""
    return (np.arange(n) + 0.5) * tau_end / n
