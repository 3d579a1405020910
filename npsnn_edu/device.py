"""Explicit compute-device selection for the torch-based chapters (never a global default device)."""
from __future__ import annotations

from typing import Any

from .errors import DeviceUnavailableError, InvalidParameterError


def resolve_device(device: Any = None) -> Any:
    """A ``torch.device``: None/"auto" gives CUDA when available, else CPU.

    Asking for ``"cuda"`` (or ``"cuda:N"``) on a machine without a usable GPU raises
    :class:`~npsnn_edu.errors.DeviceUnavailableError` instead of failing later inside torch.

    Parameters
    ----------
    device : str, torch.device or None, default None
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``; None or ``"auto"``: CUDA when available, else CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    DeviceUnavailableError
        CUDA asked for on a machine without a usable GPU.
    """
    import torch

    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidParameterError(f"unknown device {device!r}; use 'cpu', 'cuda', 'cuda:0' or 'auto'") from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {device!r} was requested but no CUDA GPU is available here; use device='cpu' "
                "(or device=None / 'auto' to pick the GPU only when one is present)"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceUnavailableError(
                f"device {device!r} requested but only {torch.cuda.device_count()} GPU(s) exist; use 'cuda:0'"
            )
    elif dev.type not in ("cpu", "cuda"):
        raise InvalidParameterError(f"device type {dev.type!r} is not supported; use 'cpu' or 'cuda'")
    return dev
