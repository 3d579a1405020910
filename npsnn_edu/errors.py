"""Typed exceptions of npsnn_edu.

Every error a user can trigger with bad input derives from :class:`NpsnnError`, and also from the
built-in exception a Python user would expect (``ValueError``, ``KeyError``...), so ``except ValueError``
keeps working.  Messages say what was wrong *and what to change*.
"""
from __future__ import annotations

from typing import Any


class NpsnnError(Exception):
    """Base class of every error raised on purpose by npsnn_edu."""


class InvalidParameterError(NpsnnError, ValueError):
    """A parameter is outside its valid range (e.g. ``dt <= 0``, a negative temperature)."""


class InvalidStateError(NpsnnError, ValueError):
    """Positions, velocities or other arrays contain NaN/inf or are otherwise unusable."""


class ShapeMismatchError(NpsnnError, ValueError):
    """Array shapes do not fit together (e.g. velocities not shaped like positions)."""


class UnknownNameError(NpsnnError, KeyError):
    """A name (potential, integrator, system, prior...) is not known. The message lists the valid names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0]) if self.args else ""


class NotFittedError(NpsnnError, ValueError):
    """A model is used (predict, energy, forces) before it was fitted; the message says which call to make first."""


class DataFormatError(NpsnnError, ValueError):
    """A file or data object is malformed or misses required fields."""


class DeviceUnavailableError(NpsnnError, RuntimeError):
    """A compute device was requested (e.g. ``device="cuda"``) but is not available here."""


class SimulationDivergedError(NpsnnError, FloatingPointError):
    """A simulation blew up (non-finite or exploding energy).

    Attributes
    ----------
    step : int
        Index of the integration step at which the divergence was detected (1 = after the first step).
    time : float
        Simulation time at that step (in the units of ``dt``).
    reason : str
        What was detected (``"non-finite energy"``, ``"energy change ... exceeds ..."``).
    trajectory : Any
        The partial :class:`~npsnn_edu.trajectory.Trajectory` up to the last healthy recorded frame.
    """

    def __init__(self, message: str, *, step: int, time: float, reason: str, trajectory: Any = None):
        super().__init__(message)
        self.step = int(step)
        self.time = float(time)
        self.reason = reason
        self.trajectory = trajectory


def unknown_name(kind: str, name: object, valid: "list[str] | tuple[str, ...]") -> UnknownNameError:
    """Build an :class:`UnknownNameError` whose message lists the valid choices.

    Parameters
    ----------
    kind : str
        What was looked up (``"potential"``, ``"integrator"``...).
    name : object
        The name given.
    valid : list or tuple of str
        The valid names.

    Returns
    -------
    UnknownNameError
    """
    return UnknownNameError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(valid))}")
