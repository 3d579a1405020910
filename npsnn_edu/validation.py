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
from typing import Any, Callable, Iterable, Mapping, TypeVar

import numpy as np

from .errors import (
    InvalidParameterError,
    InvalidStateError,
    NotFittedError,
    NpsnnError,
    ShapeMismatchError,
    unknown_name,
)

__all__ = ["AtLeast", "Boolean", "Constraint", "Constraints", "Finite", "InstanceOf", "Integer", "Interval",
           "IsCallable", "Options", "Positive", "Rule", "at_least", "check_fitted", "check_param", "finite",
           "finite_array", "in_range", "one_of", "positive", "positive_or_none", "probability", "validate_fields",
           "validate_params"]


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


# ----------------------------------------------------------------------------- declared constraints
# A class declares its parameters ONCE, in a class attribute ``_parameter_constraints`` (scikit-learn's model):
#
#     _parameter_constraints: ClassVar[Constraints] = {
#         "hidden": AtLeast(1, integer=True),
#         "lr": (None, Positive()),               # None is allowed, else a positive number
#         "method": Options(METHODS),
#     }
#
# and calls :func:`validate_params` (a dataclass from ``__post_init__``/``validate``, an estimator from ``__init__``),
# which checks every declared value with the same helpers and messages as above.  ``tests/test_parameter_constraints``
# checks that every dataclass field / ``__init__`` parameter of such a class is declared and that each declared
# constraint rejects its :attr:`Constraint.invalid` value with a message naming the parameter.


class Constraint:
    """One rule for one parameter: :meth:`check` returns the converted value or raises a typed error.

    ``message`` (optional) replaces the helper's message; it is formatted with ``name``, ``value``, ``hint`` and
    ``type`` (the value's type name).
    ``invalid`` is a value that breaks the rule (the tests feed it to every declared parameter).

    Parameters
    ----------
    hint : str or None, default None
        Advice appended to the error message.
    message : str or None, default None
        Message template replacing the helper's own.
    """

    invalid: Any = float("nan")

    def __init__(self, *, hint: str | None = None, message: str | None = None):
        self.hint = hint
        self.message = message

    def check(self, name: str, value: Any) -> Any:
        """``value`` of parameter ``name`` checked and converted; a typed error (its message, or ``message``) otherwise.

        Parameters
        ----------
        name : str
            Parameter name used in the message.
        value : object
            The value given.

        Returns
        -------
        object
            The converted value.

        Raises
        ------
        InvalidParameterError, UnknownNameError, ShapeMismatchError
            The value breaks the rule.
        """
        if self.message is None:
            return self._check(name, value)
        try:
            return self._check(name, value)
        except InvalidParameterError:
            raise InvalidParameterError(self.message.format(name=name, value=value, hint=self.hint,
                                                            type=type(value).__name__)) from None

    def _check(self, name: str, value: Any) -> Any:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if v is not None and not k.startswith("_")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


class Finite(Constraint):
    """A finite number (:func:`finite`)."""

    def _check(self, name: str, value: Any) -> float:
        return finite(name, value, hint=self.hint)


class Positive(Constraint):
    """A finite number > 0 (:func:`positive`); an int with ``integer=True``.

    Parameters
    ----------
    integer : bool, default False
        Require an integer.
    hint : str or None, default None
        Advice appended to the error message.
    message : str or None, default None
        Message template replacing the helper's own.
    """

    invalid = -1.0

    def __init__(self, *, integer: bool = False, hint: str | None = None, message: str | None = None):
        super().__init__(hint=hint, message=message)
        self.integer = integer

    def _check(self, name: str, value: Any) -> Any:
        return positive(name, value, integer=self.integer, hint=self.hint)


class AtLeast(Constraint):
    """A finite number >= ``minimum`` (:func:`at_least`); an int with ``integer=True``.

    Parameters
    ----------
    minimum : float
        Smallest allowed value.
    integer : bool, default False
        Require an integer.
    hint : str or None, default None
        Advice appended to the error message.
    message : str or None, default None
        Message template replacing the helper's own.
    """

    def __init__(self, minimum: float, *, integer: bool = False, hint: str | None = None,
                 message: str | None = None):
        super().__init__(hint=hint, message=message)
        self.minimum = minimum
        self.integer = integer
        self.invalid = minimum - 1

    def _check(self, name: str, value: Any) -> Any:
        return at_least(name, value, self.minimum, integer=self.integer, hint=self.hint)


class Integer(Constraint):
    """Any integer (a seed): ``True``/``False`` and ``2.5`` are refused."""

    invalid = 2.5

    def _check(self, name: str, value: Any) -> int:
        return int(_as_number(name, value, "an integer", self.hint, integer=True))


class Interval(Constraint):
    """A finite number in an interval; ``closed`` is "both" (``[low, high]``, :func:`in_range`), "neither",
    "left" (``[low, high)``) or "right" (``(low, high]``).

    Parameters
    ----------
    low, high : float
        Bounds.
    closed : {"both", "neither", "left", "right"}, default "both"
        Which bounds belong to the interval.
    hint : str or None, default None
        Advice appended to the error message.
    message : str or None, default None
        Message template replacing the helper's own.
    """

    def __init__(self, low: float, high: float, *, closed: str = "both", hint: str | None = None,
                 message: str | None = None):
        super().__init__(hint=hint, message=message)
        self.low, self.high = low, high
        self.closed = one_of("closed", closed, ("both", "neither", "left", "right"))
        self.invalid = high + 1.0

    def _check(self, name: str, value: Any) -> float:
        if self.closed in ("both", "neither"):
            return in_range(name, value, self.low, self.high, closed=self.closed == "both", hint=self.hint)
        number = finite(name, value, hint=self.hint)
        if self.closed == "left":
            ok, brackets = self.low <= number < self.high, f"[{self.low:g}, {self.high:g})"
        else:
            ok, brackets = self.low < number <= self.high, f"({self.low:g}, {self.high:g}]"
        if not ok:
            raise InvalidParameterError(f"{name} must lie in {brackets}, got {value!r}{_suffix(self.hint)}")
        return number


class Options(Constraint):
    """One of ``choices``; the error is :class:`~npsnn_edu.errors.UnknownNameError` listing them, as
    ``unknown <kind> ...`` (``kind`` defaults to the parameter's name).  ``normalise=True`` accepts spellings
    like :func:`one_of` ("Fast-Sigmoid" -> "fast_sigmoid").

    Parameters
    ----------
    choices : iterable of str
        Valid values.
    kind : str or None, default None
        What is chosen, for the message (None: the parameter's name).
    normalise : bool, default False
        Accept other spellings (case, ``-`` and spaces).
    """

    invalid = "no_such_option"

    def __init__(self, choices: Iterable[str], *, kind: str | None = None, normalise: bool = False):
        super().__init__()
        self.choices = tuple(choices)
        self.kind = kind
        self.normalise = normalise

    def _check(self, name: str, value: Any) -> str:
        if self.normalise:
            return one_of(self.kind or name, value, self.choices)
        if not isinstance(value, str) or value not in self.choices:
            raise unknown_name(self.kind or name, value, self.choices)
        return value


class Boolean(Constraint):
    """``True`` or ``False`` (a NumPy bool too; 0/1 and strings are refused)."""

    invalid = "yes"

    def _check(self, name: str, value: Any) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(f"{name} must be True or False, got {value!r}{_suffix(self.hint)}")
        return bool(value)


class InstanceOf(Constraint):
    """An instance of ``types`` (passed through unchanged).

    Parameters
    ----------
    *types : type
        Accepted types.
    hint : str or None, default None
        Advice appended to the error message.
    message : str or None, default None
        Message template replacing the helper's own.
    """

    invalid = object()

    def __init__(self, *types: type, hint: str | None = None, message: str | None = None):
        super().__init__(hint=hint, message=message)
        self.types = types

    def _check(self, name: str, value: Any) -> Any:
        if not isinstance(value, self.types):
            wanted = " or ".join(t.__name__ for t in self.types)
            raise InvalidParameterError(f"{name} must be a {wanted}, got {type(value).__name__}{_suffix(self.hint)}")
        return value


class IsCallable(Constraint):
    """A callable (a function, a class, an object with ``__call__``)."""

    invalid = 3.0

    def _check(self, name: str, value: Any) -> Any:
        if not callable(value):
            raise InvalidParameterError(f"{name} must be callable, got {type(value).__name__}{_suffix(self.hint)}")
        return value


class Rule(Constraint):
    """A named check written once as a function ``check(name, value) -> converted value`` that raises a typed
    error (for rules with their own message, e.g. a registry lookup); ``invalid`` a value it refuses.

    Parameters
    ----------
    check : callable
        ``check(name, value) -> converted value``, raising a typed error.
    invalid : object
        A value the rule refuses (used by the tests).
    """

    def __init__(self, check: "Callable[[str, Any], Any]", *, invalid: Any):
        super().__init__()
        self.rule = check
        self.invalid = invalid

    def _check(self, name: str, value: Any) -> Any:
        return self.rule(name, value)

    def __repr__(self) -> str:
        return f"Rule({getattr(self.rule, '__name__', self.rule)!s})"


#: A class's table: parameter name -> declaration.  A declaration is one :class:`Constraint`, or a tuple of them in
#: which ``None`` lets None through (the value must satisfy one of the others; the first one's error is raised).
Constraints = Mapping[str, Any]


def check_param(name: str, value: Any, declaration: Any) -> Any:
    """``value`` checked against one declaration (see :data:`Constraints`); returns the converted value.

    Parameters
    ----------
    name : str
        Parameter name.
    value : object
        The value given.
    declaration : Constraint, None or tuple of them
        The declaration (see :data:`Constraints`): a constraint, None (None allowed) or a tuple (any one passes).

    Returns
    -------
    object
        The converted value.

    Raises
    ------
    InvalidParameterError, UnknownNameError, ShapeMismatchError
        The value satisfies no declaration.
    """
    options = declaration if isinstance(declaration, tuple) else (declaration,)
    if value is None and None in options:
        return None
    rules = [c for c in options if c is not None]
    if not rules:
        raise InvalidParameterError(f"{name} must be None, got {value!r}")
    errors: list[NpsnnError] = []
    for rule in rules:
        try:
            return rule.check(name, value)
        except NpsnnError as exc:
            errors.append(exc)
    raise errors[0]


def validate_params(constraints: Constraints, params: Mapping[str, Any], *, prefix: str = "") -> dict[str, Any]:
    """Check every declared parameter in ``params`` (name -> value) against ``constraints`` (name -> declaration)
    in declaration order; returns the converted values.  ``prefix`` goes before each name in messages
    (``"LJUnits."``).  A parameter missing from ``constraints`` is a bug in the class (TypeError), never user input:
    ``tests/test_parameter_constraints.py`` checks every table against its fields and ``__init__``.

    Parameters
    ----------
    constraints : mapping of str to declaration
        The class's ``_parameter_constraints`` table.
    params : mapping of str to object
        Parameter values by name.
    prefix : str, default ""
        Text before each name in messages (e.g. ``"LJUnits."``).

    Returns
    -------
    dict of str to object
        The converted values.

    Raises
    ------
    TypeError
        A parameter missing from ``constraints`` (a bug in the class).
    InvalidParameterError, UnknownNameError, ShapeMismatchError
        A value breaks its declaration.
    """
    undeclared = sorted(set(params) - set(constraints))
    if undeclared:
        raise TypeError(f"parameters without a declared constraint: {undeclared}; add them to _parameter_constraints")
    return {name: check_param(prefix + name, params[name], declaration)
            for name, declaration in constraints.items() if name in params}


def validate_fields(obj: Any, *, prefix: str = "", store: bool = True) -> Any:
    """Check the public fields of the dataclass ``obj`` against ``type(obj)._parameter_constraints`` and, with
    ``store=True``, store the converted values back (frozen dataclasses too); returns ``obj``.

    Parameters
    ----------
    obj : dataclass instance
        The object whose public fields are checked.
    prefix : str, default ""
        Text before each name in messages.
    store : bool, default True
        Store the converted values back on ``obj``.

    Returns
    -------
    object
        ``obj``.

    Raises
    ------
    InvalidParameterError, UnknownNameError, ShapeMismatchError
        A field breaks its declaration.
    """
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if not f.name.startswith("_")}
    checked = validate_params(obj._parameter_constraints, values, prefix=prefix)
    if store:
        for name, value in checked.items():
            object.__setattr__(obj, name, value)
    return obj
