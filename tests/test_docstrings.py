"""Every public function, class and method of npsnn_edu has a docstring that documents its parameters (numpydoc).

Public: a module's ``__all__`` when it has one, otherwise every name without a leading underscore that the module
defines itself; for a public class, its public methods (no leading underscore) defined in the class body and its
constructor (documented in the class docstring's ``Parameters`` section, numpydoc's convention). Every parameter
other than ``self``/``cls``/``*args``/``**kwargs`` (and private ``_name`` dataclass fields) must appear
in the docstring's ``Parameters`` section
(``name : type`` or ``name1, name2 : type``). The checker itself is tested on bad examples below, so it can fail.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any, Callable, Iterator

import pytest

import npsnn_edu

_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.M)
_ENTRY = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::.*)?$")


def documented_parameters(doc: str) -> set[str]:
    """Names listed in the numpydoc ``Parameters`` (and ``Other Parameters``) sections of ``doc``."""
    doc = inspect.cleandoc(doc)
    names: set[str] = set()
    headers = list(_HEADER.finditer(doc))
    for i, h in enumerate(headers):
        if h.group(1).strip() not in ("Parameters", "Other Parameters"):
            continue
        end = headers[i + 1].start() if i + 1 < len(headers) else len(doc)
        for line in doc[h.end():end].splitlines():
            if not line.strip() or line[0].isspace():
                continue
            m = _ENTRY.match(line.rstrip())
            if m:
                names.update(n.strip().lstrip("*") for n in m.group(1).split(","))
    return names


def _signature_parameters(obj: Callable[..., Any]) -> list[str] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p.name for p in sig.parameters.values()
            if p.name not in ("self", "cls") and not p.name.startswith("_")  # private dataclass fields (caches)
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def check_callable(obj: Any, qualname: str) -> list[str]:
    """Problems of one public callable: no docstring, or parameters its ``Parameters`` section does not list."""
    doc = obj.__doc__ if isinstance(obj, type) else inspect.getdoc(obj)
    if not doc or not doc.strip():
        return [f"{qualname}: no docstring"]
    if isinstance(obj, type):
        if issubclass(obj, BaseException):
            return []
        init = obj.__dict__.get("__init__")
        # the constructor's parameters: its own __init__, or a dataclass's generated one
        if init is None and "__dataclass_fields__" not in obj.__dict__:
            return []
        params = _signature_parameters(obj)
    else:
        params = _signature_parameters(obj)
    if not params:
        return []
    missing = [p for p in params if p not in documented_parameters(doc)]
    return [f"{qualname}: parameter(s) {', '.join(missing)} not in its Parameters section"] if missing else []


def _public_names(module: Any) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n, v in vars(module).items() if not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__ and (inspect.isclass(v) or inspect.isfunction(v))]


def _methods(cls: type) -> Iterator[tuple[str, Any]]:
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, (staticmethod, classmethod)):
            yield name, attr.__func__
        elif isinstance(attr, property):
            if attr.fget is not None:
                yield name, attr.fget
        elif inspect.isfunction(attr):
            yield name, attr


def public_callables(package: Any = npsnn_edu) -> Iterator[tuple[str, Any]]:
    """(qualified name, object) for every public function, class and method of ``package`` (each once)."""
    seen: set[int] = set()
    modules = [package] + [importlib.import_module(m.name) for m in
                           pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                           if not m.name.split(".")[-1].startswith("_")]
    for module in modules:
        for name in _public_names(module):
            obj = getattr(module, name, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            if not getattr(obj, "__module__", "").startswith(package.__name__):
                continue  # re-exported from another library
            seen.add(id(obj))
            qual = f"{obj.__module__}.{obj.__qualname__}"
            yield qual, obj
            if inspect.isclass(obj):
                for mname, meth in _methods(obj):
                    if id(meth) not in seen:
                        seen.add(id(meth))
                        yield f"{qual}.{mname}", meth


def package_problems(package: Any = npsnn_edu) -> list[str]:
    return [p for qual, obj in public_callables(package) for p in check_callable(obj, qual)]


# --- the checker, on examples it must reject or accept --------------------------------------------------------------

def _good(positions, masses=1.0, *args, scale: float = 2.0, **kwargs):
    """Kinetic energy.

    Parameters
    ----------
    positions : array of shape (n_atoms, 3)
        Positions (reduced LJ units).
    masses, scale : float
        Mass and a scale.

    Returns
    -------
    float
    """


def _missing_one(positions, masses=1.0):
    """Kinetic energy.

    Parameters
    ----------
    positions : array of shape (n_atoms, 3)
        Positions; ``masses`` is mentioned here but is not an entry.
    """


def _prose_only(positions):
    """Kinetic energy of ``positions`` (prose, no Parameters section)."""


def _no_doc(positions):
    pass


class _BadClass:
    """A class whose constructor parameter is not documented.

    Returns
    -------
    beta : float
    """

    def __init__(self, beta: float) -> None:
        self.beta = beta


def test_checker_accepts_a_documented_function():
    assert check_callable(_good, "good") == []
    assert documented_parameters(_good.__doc__) == {"positions", "masses", "scale"}


@pytest.mark.parametrize("fn, expected", [
    (_missing_one, "good: parameter(s) masses not in its Parameters section"),
    (_prose_only, "good: parameter(s) positions not in its Parameters section"),
    (_no_doc, "good: no docstring"),
    (_BadClass, "good: parameter(s) beta not in its Parameters section"),
])
def test_checker_rejects_bad_examples(fn, expected):
    assert check_callable(fn, "good") == [expected]


def test_checker_walks_methods_of_public_classes():
    names = dict(public_callables())
    assert "npsnn_edu.trajectory.Trajectory" in names
    assert any(q.startswith("npsnn_edu.trajectory.Trajectory.") for q in names)
    assert any(q.startswith("npsnn_edu.spiking.") for q in names)


def test_every_public_callable_documents_its_parameters():
    problems = package_problems()
    assert problems == [], f"{len(problems)} public callables lack numpydoc parameters:\n" + "\n".join(problems)
