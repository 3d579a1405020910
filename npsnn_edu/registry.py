"""Name tables: one place where names (and their aliases) are turned into things.

Every ``get_*`` factory of the kit (potentials, integrators, systems, priors, spiking problems, ...) resolves its
name through a :class:`Registry`, like ASE's name tables: names are normalised once (case, ``-``, spaces), aliases
map to one canonical name, and an unknown name raises :class:`~npsnn_edu.errors.UnknownNameError` listing the
choices::

    INTEGRATORS = Registry("integrator")
    INTEGRATORS.register("velocity_verlet", VelocityVerlet, aliases=("verlet", "vv"))
    INTEGRATORS.resolve("Verlet")      # -> "velocity_verlet"
    INTEGRATORS.get("vv")              # -> VelocityVerlet (the registered object itself)

:data:`ADAPTERS` is the table through which the core reaches code that depends on it (the ASE adapter module
registers its converters there when the package is imported), so that imports keep flowing one way: the
core never imports its adapters.
"""
from __future__ import annotations

from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from .errors import InvalidParameterError, unknown_name

T = TypeVar("T")

__all__ = ["ADAPTERS", "Registry", "adapter", "normalise_name"]


def normalise_name(name: object) -> str:
    """``" Velocity-Verlet "`` -> ``"velocity_verlet"``.

    Parameters
    ----------
    name : object
        Any spelling.

    Returns
    -------
    str
        Lower case, stripped, ``-`` and spaces as ``_``.
    """
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


class Registry(Generic[T]):
    """A table of named objects of one ``kind`` (used in error messages), with aliases.

    Parameters
    ----------
    kind : str
        What the table holds (``"potential"``, ``"integrator"``...), used in error messages.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, item: T, *, aliases: Iterable[str] = (), replace: bool = False) -> T:
        """Add ``item`` under the canonical ``name`` (and its ``aliases``); returns ``item``.

        ``replace=True`` overwrites an earlier registration of the same name (a reloaded module).

        Parameters
        ----------
        name : str
            Canonical name.
        item : object
            Object to register.
        aliases : iterable of str, default ()
            Other accepted names.
        replace : bool, default False
            Overwrite an earlier registration of ``name``.

        Returns
        -------
        object
            ``item``.

        Raises
        ------
        ValueError
            ``name`` already registered (without ``replace``): a programming error, not user input.
        """
        key = normalise_name(name)
        if not replace and (key in self._items or key in self._aliases):
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[key] = item
        for alias in aliases:
            self._aliases[normalise_name(alias)] = key
        return item

    def resolve(self, name: object) -> str:
        """The canonical name of ``name`` (an alias or any spelling); UnknownNameError if it has none.

        Parameters
        ----------
        name : str
            A name, alias or other spelling.

        Returns
        -------
        str

        Raises
        ------
        UnknownNameError
            Not registered (the message lists the names).
        """
        key = normalise_name(name)
        key = self._aliases.get(key, key)
        if key not in self._items:
            raise unknown_name(self.kind, name, self.names())
        return key

    def get(self, name: object) -> T:
        """The registered object for ``name``.

        Parameters
        ----------
        name : str
            A name, alias or other spelling.

        Returns
        -------
        object

        Raises
        ------
        UnknownNameError
            Not registered.
        """
        return self._items[self.resolve(name)]

    def names(self) -> list[str]:
        """Canonical names, in registration order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        key = normalise_name(name)
        return self._aliases.get(key, key) in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


#: Functions provided by modules that depend on the core (e.g. the ASE converters), looked up by the core.
ADAPTERS: Registry[Any] = Registry("adapter")


def build(factory: Callable[..., Any], /, *args: Any, **params: Any) -> Any:
    """``factory(*args, **params)``; a TypeError (a parameter it does not take, or one it needs and did not get)
    becomes an InvalidParameterError that points to the factory's help."""
    try:
        return factory(*args, **params)
    except TypeError as exc:
        raise InvalidParameterError(f"{exc}; see help({factory.__module__}.{factory.__qualname__})") from exc


def adapter(name: str) -> Any:
    """The registered adapter function ``name``; a clear error if its providing module could not be imported.

    Parameters
    ----------
    name : str
        Adapter name (e.g. ``"trajectory_to_atoms"``).

    Returns
    -------
    callable

    Raises
    ------
    ImportError
        No such adapter (the ASE adapter module did not import: check that ase is installed).
    """
    if name not in ADAPTERS:
        raise ImportError(
            f"the {name!r} adapter is not registered: it is provided by the package's ASE adapter module, which "
            "is imported by `import npsnn_edu` (check that ase is installed)")
    return ADAPTERS.get(name)
