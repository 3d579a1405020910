"""The package's shape (issue 19): layers checked by lint-imports (.importlinter), and no private name used across
modules (a private name is the module's own business; what others need is public). A private *module* of a package
(``_compiled``) may be imported by its siblings."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "npsnn_edu"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports_across_modules() -> list[str]:
    """`from other_module import _private` and `other_module._private` attribute uses, inside npsnn_edu."""
    found = []
    for path in sorted(PKG.rglob("*.py")):
        mod = _module_name(path)
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                src = _resolve(mod, node, path.name == "__init__.py")
                if not src.startswith("npsnn_edu") or src == mod:
                    continue
                for a in node.names:
                    is_module = (PKG.parent / src.replace(".", "/") / f"{a.name}.py").exists()
                    if a.name.startswith("_") and not a.name.startswith("__") and not is_module:
                        found.append(f"{mod}: from {src} import {a.name}")
                    else:
                        aliases[a.asname or a.name] = f"{src}.{a.name}"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in aliases):
                target = aliases[node.value.id]
                if (PKG.parent / (target.replace(".", "/") + ".py")).exists() or (
                        PKG.parent / target.replace(".", "/") / "__init__.py").exists():
                    found.append(f"{mod}: {target}.{node.attr}")
    return found


def test_no_private_name_is_imported_across_modules():
    found = private_imports_across_modules()
    assert not found, "private names used across modules (make them public or move them):\n" + "\n".join(found)


def test_the_checker_sees_a_private_import(tmp_path, monkeypatch):
    """The scan is not blind: a module importing another's private name is reported."""
    pkg = tmp_path / "npsnn_edu"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("_hidden = 1\npublic = 2\n")
    (pkg / "sub" / "b.py").write_text("from ..a import _hidden, public\nfrom .. import a\nx = a._hidden\n")
    monkeypatch.setattr(__import__(__name__), "PKG", pkg)
    assert private_imports_across_modules() == ["npsnn_edu.sub.b: from npsnn_edu.a import _hidden",
                                                "npsnn_edu.sub.b: npsnn_edu.a._hidden"]
