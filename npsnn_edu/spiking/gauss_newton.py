"""The one damped Gauss-Newton / Levenberg-Marquardt step of chapter 4's least-squares solvers.

For residuals r(y) with Jacobian J the Gauss-Newton step solves the damped normal equations

    (J^T J + lambda D) dy = -J^T r,

with D = diag(J^T J) (Marquardt's scaling; plus 1e-12 I so that a column without signal stays regular) or
D = mean(diag(J^T J)) I (Levenberg's, scaled to the problem).  Levenberg-Marquardt accepts a step only when it
lowers the loss and adapts lambda: larger after a rejected step (towards gradient descent), smaller after an
accepted one (towards Gauss-Newton).  Users: the basis optimum of a single trajectory
(:func:`~npsnn_edu.spiking.compare.kernel_lstsq`), the per-problem basis optimum of the operator benchmark
(``research/spiking_operator.py``) and the operator's readout solve (:mod:`.readout_solve`, whose linear solve is
matrix-free conjugate gradients and which shares :func:`levenberg_marquardt_step`).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch

from ..errors import InvalidParameterError

__all__ = ["damped_gauss_newton_step", "levenberg_marquardt_step"]


def damped_gauss_newton_step(jtj: torch.Tensor, jtr: torch.Tensor, damping: float, *,
                             scaling: str = "marquardt") -> torch.Tensor:
    """The step dy of ``(J^T J + damping D) dy = -J^T r``; ``jtj`` ``(..., n, n)``, ``jtr`` ``(..., n)`` (batched
    over leading dimensions).  ``scaling``: ``"marquardt"`` (D = diag(J^T J) + 1e-12 I) or ``"levenberg"``
    (D = mean(diag(J^T J)) I, per batch member).

    Parameters
    ----------
    jtj : tensor of shape (..., n, n)
        Gauss-Newton matrix J^T J.
    jtr : tensor of shape (..., n)
        Gradient J^T r.
    damping : float
        lambda (0: the undamped Gauss-Newton step, the least-squares step of the linearised residuals).
    scaling : {"marquardt", "levenberg"}, default "marquardt"
        The damping matrix D.

    Returns
    -------
    tensor of shape (..., n)
        The step dy.

    Raises
    ------
    InvalidParameterError
        Another scaling.
    """
    n = jtj.shape[-1]
    eye = torch.eye(n, dtype=jtj.dtype, device=jtj.device)
    diag = jtj.diagonal(dim1=-2, dim2=-1)
    if scaling == "marquardt":
        lhs = jtj + damping * (torch.diag_embed(diag) + 1e-12 * eye)
    elif scaling == "levenberg":
        lhs = jtj + damping * diag.mean(-1)[..., None, None] * eye
    else:
        raise InvalidParameterError(f"scaling must be 'marquardt' or 'levenberg', got {scaling!r}")
    return -torch.linalg.solve(lhs, jtr[..., None])[..., 0]


def levenberg_marquardt_step(propose: Callable[[float], Any], loss_of: Callable[[Any], float], loss: float,
                             damping: float, *, grow: float = 10.0, grow_from: float = 0.0, shrink: float = 10.0,
                             min_damping: float = 0.0, max_damping: float = math.inf,
                             max_tries: "int | None" = None, accept_equal: bool = True
                             ) -> "tuple[Any, float, float] | None":
    """One accepted Levenberg-Marquardt step.

    ``propose(damping)`` returns a candidate (the current point plus a damped Gauss-Newton step); it is accepted
    when ``loss_of(candidate)`` is finite and below ``loss`` (or equal, with ``accept_equal``).  A rejected candidate
    raises the damping to ``max(damping, grow_from) * grow`` and tries again, until ``max_tries`` candidates were
    rejected or the damping exceeds ``max_damping``.  Returns ``(candidate, its loss, damping / shrink`` (at least
    ``min_damping``)) or None when no candidate was accepted.

    Parameters
    ----------
    propose : callable
        ``propose(damping)`` -> candidate.
    loss_of : callable
        ``loss_of(candidate)`` -> float.
    loss : float
        Loss at the current point.
    damping : float
        Damping of the first try.
    grow : float, default 10.0
        Factor after a rejected candidate.
    grow_from : float, default 0.0
        Least damping a rejected candidate grows from (lets a zero damping grow).
    shrink : float, default 10.0
        Divisor after an accepted candidate.
    min_damping : float, default 0.0
        Least damping returned.
    max_damping : float, default inf
        Give up once the damping exceeds this.
    max_tries : int or None, default None
        Give up after this many rejected candidates (None: no limit).
    accept_equal : bool, default True
        Accept a candidate whose loss equals ``loss``.

    Returns
    -------
    tuple (candidate, loss, damping) or None
    """
    tries = 0
    while True:
        candidate = propose(damping)
        new = loss_of(candidate)
        if np.isfinite(new) and (new < loss or (accept_equal and new <= loss)):
            return candidate, new, max(damping / shrink, min_damping)
        tries += 1
        damping = max(damping, grow_from) * grow
        if (max_tries is not None and tries >= max_tries) or damping > max_damping:
            return None
