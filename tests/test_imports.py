"""Imports at module top (issue 19): a function-level import is allowed only for a module declared in
npsnn_edu._lazy.LAZY_IMPORTS, with its reason; the list holds no stale entry. (No private name imported across
modules: tests/test_layers.py.)"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from npsnn_edu._lazy import LAZY_IMPORTS

PKG = Path(__file__).resolve().parents[1] / "npsnn_edu"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, root: Path) -> list[str]:
    """The dotted modules an import statement reaches (``from pkg import submodule`` reaches the submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    out = []
    for a in node.names:
        sub = root / base.replace(".", "/") / a.name
        out.append(f"{base}.{a.name}" if sub.with_suffix(".py").exists() or sub.is_dir() else base)
    return out


def function_level_imports(source: str, module: str, is_package: bool = False,
                           root: Path = PKG.parent) -> list[tuple[int, str]]:
    """(line, dotted target) of every import inside a function, method or lambda of ``source``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((child.lineno, t) for t in _targets(child, module, is_package, root))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(source), False)
    return found


def lazy_key(target: str, lazy: dict[str, str] = LAZY_IMPORTS) -> str | None:
    """The LAZY_IMPORTS entry covering ``target`` (the module itself or a package above it), or None."""
    return next((k for k in lazy if target == k or target.startswith(k + ".")), None)


def scan(lazy: dict[str, str] = LAZY_IMPORTS) -> tuple[list[str], set[str]]:
    """(undeclared function-level imports as 'file:line target', the LAZY_IMPORTS keys in use)."""
    undeclared, used = [], set()
    for path in sorted(PKG.rglob("*.py")):
        module = _module_name(path, PKG.parent)
        for line, target in function_level_imports(path.read_text(), module, path.name == "__init__.py"):
            key = lazy_key(target, lazy)
            if key is None:
                undeclared.append(f"{path.relative_to(PKG.parent)}:{line} {target}")
            else:
                used.add(key)
    return undeclared, used


def test_every_function_level_import_is_declared_lazy():
    undeclared, _ = scan()
    assert not undeclared, ("imports inside functions that are not declared in npsnn_edu/_lazy.py (hoist them to "
                            "the module top, or declare the module with its reason):\n" + "\n".join(undeclared))


def test_no_stale_or_unexplained_lazy_entry():
    _, used = scan()
    stale = sorted(set(LAZY_IMPORTS) - used)
    assert not stale, f"LAZY_IMPORTS entries no function imports any more (remove them): {stale}"
    empty = [k for k, reason in LAZY_IMPORTS.items() if not reason.strip()]
    assert not empty, f"LAZY_IMPORTS entries without a reason: {empty}"


def test_stdlib_is_never_lazy():
    assert not set(LAZY_IMPORTS) & set(sys.stdlib_module_names)


def test_the_scan_flags_an_undeclared_function_level_import():
    """The check is not blind: a function-level `import json` is found and is not covered by the list."""
    source = ("import os\n\n\ndef f():\n    import json\n    return json\n\n\n"
              "class C:\n    def m(self):\n        from torch import nn\n        from . import _compiled\n")
    found = function_level_imports(source, "npsnn_edu.sample")
    assert found == [(5, "json"), (11, "torch"), (12, "npsnn_edu._compiled")]
    assert lazy_key("json") is None
    assert lazy_key("torch") == "torch" and lazy_key("torch.nn") == "torch"
    assert lazy_key("npsnn_edu._compiled") == "npsnn_edu._compiled"
    assert lazy_key("npsnn_edu.spiking.basis") == "npsnn_edu.spiking"
    assert lazy_key("torchvision") is None and lazy_key("npsnn_edu.spiking_extra") is None
    # a module-level import is not a function-level one
    assert function_level_imports("import json\n", "npsnn_edu.sample") == []


def test_the_scan_reports_file_and_line_and_stale_entries():
    """Dropping an entry the package uses makes its imports undeclared; an unused entry is reported as stale."""
    without_torch = {k: v for k, v in LAZY_IMPORTS.items() if k != "torch"}
    undeclared, _ = scan(without_torch)
    assert any(u.startswith("npsnn_edu/device.py:") and u.endswith(" torch") for u in undeclared)
    _, used = scan({**LAZY_IMPORTS, "no_such_module": "a reason"})
    assert "no_such_module" not in used


CORE = ["potentials", "integrators", "trajectory", "systems", "ase_interop", "_compiled", "analytic", "precomputed",
        "tables", "progress", "device", "config", "registry", "validation", "units", "errors"]


def _loaded_after(modules: list[str]) -> set[str]:
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parent).stdout
    return set(json.loads(out))


def test_importing_the_core_loads_no_torch():
    """What .importlinter's third contract leaves out (the two declared lazy edges potentials/device -> torch):
    at import time the core loads neither torch nor snntorch; the check sees a module that does."""
    assert not _loaded_after(["npsnn_edu"] + [f"npsnn_edu.{m}" for m in CORE]) & {"torch", "snntorch"}
    assert "torch" in _loaded_after(["npsnn_edu.spiking"])  # the check can see torch
