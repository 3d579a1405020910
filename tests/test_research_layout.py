"""research/ (drivers only benchmarks call) is not installed, and the package never imports it."""
import ast
from pathlib import Path

import tomllib
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_research_is_not_in_the_wheel():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = cfg["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(where=str(ROOT), include=include)
    assert "npsnn_edu" in packages and "npsnn_edu.gpr" in packages
    assert not any(p == "research" or p.startswith("research.") for p in packages)
    assert (ROOT / "research" / "__init__.py").read_text() == (
        '"""Drivers only the benchmarks and their tests call (not part of the installed package npsnn_edu)."""\n')


def test_the_package_never_imports_research():
    offenders = []
    for path in (ROOT / "npsnn_edu").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "research"]
    assert offenders == []


def test_the_moved_names_are_gone_from_the_package():
    import npsnn_edu.gpr.experiments as ex

    assert not (ROOT / "npsnn_edu" / "gpr" / "control.py").exists()
    assert not hasattr(ex, "run_many")
    from research.gpr_runs import run_many
    from research.xtb_control import run_control

    assert callable(run_many) and callable(run_control)
