"""Three ways to get x'(t) and x''(t) for the physics residual, and a check that they are honest.

``autograd`` (method ``naive`` with a spiking net)
    ``torch.autograd.grad`` of the output with respect to t, twice, with ``create_graph=True``.  Exact for a
    smooth network (tanh MLP, :class:`~npsnn_edu.spiking.models.ClockSNN`).  Through binary spikes it returns
    the SURROGATE's invented derivative: the forward output is piecewise constant/jumping in t, its true
    derivative is zero almost everywhere, and a loss built on these numbers can be tiny while the output is
    wrong (shared/notes/spiking-pinn-pitfall.md).
``fdm`` (FPSNN's "fdm" mode)
    Central finite differences of the FORWARD output, x' = (x(t+h) - x(t-h)) / 2h and
    x'' = (x(t+h) - 2 x(t) + x(t-h)) / h^2.  Honest about what the network outputs (only forward values are
    used), with O(h^2) truncation error; it constrains the output only on the stencil points.
``analytic`` (method ``continuous``)
    The smooth-readout design of :class:`ClockSNN` differentiates its Gaussian kernel exactly: the derivative
    of the forward output, in one pass, no second-order autograd graph.

:func:`derivative_consistency` compares any mode against finite differences of the forward output: the test
that separates an honest derivative from a surrogate artefact.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import InvalidParameterError, unknown_name

DERIVATIVE_MODES = ("autograd", "fdm", "analytic")


def time_derivatives(model: Any, t: torch.Tensor, mode: str = "autograd", h: float = 1e-2
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Positions, velocities and accelerations ``(B, N, D)`` of ``model`` at times ``t`` ``(B,)``.

    ``mode``: ``autograd``, ``fdm`` (step ``h`` in tau) or ``analytic`` (models with a ``derivatives`` method).
    The returned tensors stay in the graph of the model parameters (for training).

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    t : tensor of shape (n_times,)
        Times (tau), float64.
    mode : {"autograd", "fdm", "analytic"}, default "autograd"
        How the derivatives are computed.
    h : float, default 1e-2
        Finite-difference step (tau) for ``"fdm"``.

    Returns
    -------
    x, v, a : tensors of shape (n_times, n_atoms, n_dim)

    Raises
    ------
    InvalidParameterError
        ``"analytic"`` for a model without exact derivatives, or a non-positive ``h``.
    """
    if mode == "analytic":
        if not hasattr(model, "derivatives"):
            raise InvalidParameterError(f"{type(model).__name__} has no exact derivatives; "
                                        "use mode 'autograd' or 'fdm'")
        return model.derivatives(t)
    if mode == "fdm":
        if not h > 0:
            raise InvalidParameterError(f"finite-difference step h must be positive, got {h}")
        tt = torch.cat([t - h, t, t + h])
        xx = model(tt)
        xm, x, xp = xx.chunk(3, dim=0)
        return x, (xp - xm) / (2 * h), (xp - 2 * x + xm) / (h * h)
    if mode == "autograd":
        t = t.detach().clone().requires_grad_(True)
        x = model(t)
        flat = x.reshape(x.shape[0], -1)
        vs, accs = [], []
        for c in range(flat.shape[1]):
            (v,) = torch.autograd.grad(flat[:, c].sum(), t, create_graph=True)
            (a,) = torch.autograd.grad(v.sum(), t, create_graph=True, allow_unused=True)
            vs.append(v)
            accs.append(torch.zeros_like(v) if a is None else a)
        return x, torch.stack(vs, 1).reshape(x.shape), torch.stack(accs, 1).reshape(x.shape)
    raise unknown_name("derivative mode", mode, DERIVATIVE_MODES)


def forward_fd(model: Any, t: torch.Tensor, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, x', x'' from central differences of the forward output only (no autograd), as float64 arrays.

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    t : tensor of shape (n_times,)
        Times (tau).
    h : float
        Central-difference step (tau).

    Returns
    -------
    x, v, a : arrays of shape (n_times, n_atoms, n_dim)
    """
    with torch.no_grad():
        xm, x, xp = (model(t + s).double().cpu().numpy() for s in (-h, 0.0, h))
    return x, (xp - xm) / (2 * h), (xp - 2 * x + xm) / (h * h)


def derivative_consistency(model: Any, t: Any, mode: str = "autograd", h: float = 1e-3) -> dict[str, float]:
    """Does ``mode`` report the derivatives of what the network actually outputs?

    Compares ``mode`` with central differences of the forward output (step ``h``) at times ``t``.
    Returns max |v_mode - v_fd|, max |a_mode - a_fd|, the largest |v_mode|, and the fraction of points where
    the forward output's finite-difference velocity is exactly zero (piecewise-constant output).

    Parameters
    ----------
    model : torch.nn.Module
        A network mapping times (n_times,) to positions (n_times, n_atoms, n_dim).
    t : array or tensor of shape (n_times,)
        Times (tau).
    mode : {"autograd", "fdm", "analytic"}, default "autograd"
        Derivative mode under test.
    h : float, default 1e-3
        Central-difference step (tau).

    Returns
    -------
    dict of str to float
    """
    dev = model.x0.device
    t = torch.as_tensor(np.asarray(t, dtype=float), dtype=torch.float64, device=dev)
    _, v, a = time_derivatives(model, t, mode)
    v, a = v.detach().double().cpu().numpy(), a.detach().double().cpu().numpy()
    _, v_fd, a_fd = forward_fd(model, t, h)
    return {"max_abs_dv": float(np.max(np.abs(v - v_fd))), "max_abs_da": float(np.max(np.abs(a - a_fd))),
            "max_abs_v": float(np.max(np.abs(v))), "fd_zero_fraction": float(np.mean(np.abs(v_fd) == 0.0))}
