"""One small vocabulary for checking parameters at the public edge of the kit.

Every public function validates its arguments with these helpers, so messages read the same everywhere
and always say what to change (scikit-learn's parameter constraints are the model)::

    dt = positive("dt", dt, hint="e.g. dt=0.005 in reduced LJ units")
    n_steps = at_least("n_steps", n_steps, 0, integer=True)
    x = finite_array("positions", positions, hint="pass finite starting coordinates")
    mode = one_of("mode", mode, ("fast", "classroom", "full"))

Each helper returns the converted value (``float``, ``int``, a NumPy array, a canonical name) and raises a typed
error from :mod:`npsnn_edu.errors` (which also derive from ``ValueError``/``KeyError``) otherwise.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, Mapping, TypeVar

import numpy as np

from .errors import InvalidParameterError, InvalidStateError, NotFittedError, unknown_name

__all__ = ["at_least", "check_fitted", "finite", "finite_array", "in_range", "one_of", "positive",
           "positive_or_none", "probability"]


def _suffix(hint: str | None) -> str:
    return f" ({hint})" if hint else ""


def _as_number(name: str, value: Any, what: str, hint: str | None, integer: bool = False) -> float:
    if isinstance(value, bool) or value is None:
        raise InvalidParameterError(f"{name} must be {what}, got {value!r}{_suffix(hint)}")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be {what}, got {value!r}{_suffix(hint)}") from exc
    if integer and (not math.isfinite(number) or number != int(number)):
        raise InvalidParameterError(f"{name} must be {what}, got {value!r}{_suffix(hint)}")
    return number


def finite(name: str, value: Any, *, hint: str | None = None) -> float:
    """``value`` as a finite float (not NaN, not inf).

    Parameters
    ----------
    name : str
        Parameter name for the message.
    value : number
        Value to check.
    hint : str or None, default None
        Extra advice for the message.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        Not a finite number.
    """
    number = _as_number(name, value, "a finite number", hint)
    if not math.isfinite(number):
        raise InvalidParameterError(f"{name} must be a finite number, got {value!r}{_suffix(hint)}")
    return number


def positive(name: str, value: Any, *, integer: bool = False, hint: str | None = None) -> Any:
    """``value`` as a float (or int with ``integer=True``) that is finite and > 0.

    Parameters
    ----------
    name : str
        Name for the message.
    value : number
        Value to check.
    integer : bool, default False
        Require an integer.
    hint : str or None, default None
        Extra advice for the message.

    Returns
    -------
    float or int

    Raises
    ------
    InvalidParameterError
        Not finite, not > 0, or not an integer when required.
    """
    what = "a positive integer" if integer else "a positive finite number"
    number = _as_number(name, value, what, hint, integer)
    if not (math.isfinite(number) and number > 0):
        raise InvalidParameterError(f"{name} must be {what}, got {value!r}{_suffix(hint)}")
    return int(number) if integer else number


def positive_or_none(name: str, value: Any, *, integer: bool = False, hint: str | None = None) -> Any:
    """``None`` passes through; anything else must be :func:`positive`.

    Parameters
    ----------
    name : str
        Name for the message.
    value : number or None
        Value to check.
    integer : bool, default False
        Require an integer.
    hint : str or None, default None
        Extra advice for the message.

    Returns
    -------
    float, int or None

    Raises
    ------
    InvalidParameterError
        Not None and not positive.
    """
    return None if value is None else positive(name, value, integer=integer, hint=hint)


def at_least(name: str, value: Any, minimum: float, *, integer: bool = False, hint: str | None = None) -> Any:
    """``value`` (finite) with ``value >= minimum``; an int with ``integer=True``.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : number
        Value to check.
    minimum : float
        Smallest allowed value.
    integer : bool, default False
        Require an integer.
    hint : str or None, default None
        Extra advice appended to the message.

    Returns
    -------
    float or int

    Raises
    ------
    InvalidParameterError
        ``value`` not finite, below ``minimum``, or not an integer when required.
    """
    what = f"an integer >= {minimum:g}" if integer else f"a finite number >= {minimum:g}"
    number = _as_number(name, value, what, hint, integer)
    if not (math.isfinite(number) and number >= minimum):
        raise InvalidParameterError(f"{name} must be {what}, got {value!r}{_suffix(hint)}")
    return int(number) if integer else number


def in_range(name: str, value: Any, low: float, high: float, *, closed: bool = True,
             hint: str | None = None) -> float:
    """``value`` in ``[low, high]`` (``closed=True``) or ``(low, high)``.

    Parameters
    ----------
    name : str
        Name for the message.
    value : number
        Value to check.
    low, high : float
        Bounds.
    closed : bool, default True
        Include the bounds.
    hint : str or None, default None
        Extra advice for the message.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        Outside the range.
    """
    brackets = f"[{low:g}, {high:g}]" if closed else f"({low:g}, {high:g})"
    number = finite(name, value, hint=hint)
    ok = (low <= number <= high) if closed else (low < number < high)
    if not ok:
        raise InvalidParameterError(f"{name} must lie in {brackets}, got {value!r}{_suffix(hint)}")
    return number


def probability(name: str, value: Any, *, hint: str | None = None) -> float:
    """A number in [0, 1].

    Parameters
    ----------
    name : str
        Name for the message.
    value : number
        Value to check.
    hint : str or None, default None
        Extra advice for the message.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        Outside [0, 1].
    """
    return in_range(name, value, 0.0, 1.0, hint=hint)


def one_of(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` normalised (lower case, ``-``/space -> ``_``) and checked against ``choices``.

    Raises :class:`~npsnn_edu.errors.UnknownNameError` listing the choices.

    Parameters
    ----------
    name : str
        Name for the message.
    value : str
        The choice given.
    choices : iterable of str
        The valid choices.

    Returns
    -------
    str
        The normalised choice.

    Raises
    ------
    UnknownNameError
        Not among ``choices``.
    """
    options = tuple(choices)
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in options:
        raise unknown_name(name, value, options)
    return key


def finite_array(name: str, value: Any, *, ndim: int | None = None, shape: "tuple[int | None, ...] | None" = None,
                 hint: str | None = None) -> np.ndarray:
    """``value`` as a float array with no NaN/inf, optionally of a given ``ndim`` or ``shape`` (None = any size).

    Raises :class:`~npsnn_edu.errors.InvalidStateError` for non-numeric or non-finite input and
    :class:`~npsnn_edu.errors.ShapeMismatchError` for a wrong shape.

    Parameters
    ----------
    name : str
        Name for the message.
    value : array_like
        Array to check.
    ndim : int or None, default None
        Required number of dimensions.
    shape : tuple of int or None, default None
        Required shape; None entries match any size.
    hint : str or None, default None
        Extra advice for the message.

    Returns
    -------
    numpy.ndarray of float

    Raises
    ------
    InvalidStateError
        Non-numeric or non-finite entries.
    ShapeMismatchError
        Wrong ``ndim`` or ``shape``.
    """
    from .errors import ShapeMismatchError

    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidStateError(f"{name} must be a numeric array{_suffix(hint)}") from exc
    if ndim is not None and array.ndim != ndim:
        raise ShapeMismatchError(f"{name} must have {ndim} dimension(s), got shape {array.shape}{_suffix(hint)}")
    if shape is not None:
        fits = array.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, array.shape))
        if not fits:
            wanted = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
            raise ShapeMismatchError(f"{name} must be shaped {wanted}, got {array.shape}{_suffix(hint)}")
    if not np.all(np.isfinite(array)):
        raise InvalidStateError(f"{name} contains NaN or inf{_suffix(hint or 'pass finite values')}")
    return array


def check_fitted(estimator: Any, attribute: str, *, action: str = "call fit(...) first") -> None:
    """Raise :class:`~npsnn_edu.errors.NotFittedError` when ``estimator.<attribute>`` is missing or None.

    Parameters
    ----------
    estimator : object
        The model.
    attribute : str
        Attribute that fitting sets.
    action : str, default "call fit(...) first"
        What to do, for the message.

    Raises
    ------
    NotFittedError
        The attribute is missing or None.
    """
    if getattr(estimator, attribute, None) is None:
        raise NotFittedError(f"this {type(estimator).__name__} is not fitted yet; {action}")


ConfigT = TypeVar("ConfigT")


def with_overrides(config: ConfigT, overrides: Mapping[str, Any]) -> ConfigT:
    """A copy of the dataclass ``config`` with the fields in ``overrides`` replaced (``config`` itself when there
    are none); an unknown field name is an InvalidParameterError that lists the valid ones."""
    if not overrides:
        return config
    valid = {f.name for f in dataclasses.fields(config)}  # type: ignore[arg-type]
    bad = sorted(set(overrides) - valid)
    if bad:
        raise InvalidParameterError(f"unknown {type(config).__name__} field(s) {bad}; valid: {sorted(valid)}")
    return type(config)(**{**dataclasses.asdict(config), **overrides})  # type: ignore[call-overload]
