"""Count how npsnn_edu checks its parameters (issue 19 item 5), by AST, outside npsnn_edu/validation.py itself.

    python scripts/validation_counts.py [REPO_ROOT]

Prints: calls of the validation helpers (positive, at_least, in_range, probability, one_of, finite, finite_array,
positive_or_none, check_fitted); declared constraint objects and the ``_parameter_constraints`` tables holding them;
all ``raise`` statements, and those raising a parameter error (InvalidParameterError, InvalidStateError,
ShapeMismatchError, UnknownNameError / unknown_name).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

HELPERS = {"positive", "positive_or_none", "at_least", "in_range", "probability", "one_of", "finite_array", "finite",
           "check_fitted"}
CONSTRAINTS = {"Positive", "AtLeast", "Integer", "Interval", "Options", "Boolean", "InstanceOf", "Rule", "Finite",
               "IsCallable"}
PARAM_ERRORS = {"InvalidParameterError", "InvalidStateError", "ShapeMismatchError", "unknown_name", "UnknownNameError"}


def _called(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def counts(root: Path) -> dict[str, int]:
    out = dict.fromkeys(("helper_calls", "constraints", "tables", "raises", "parameter_raises"), 0)
    for path in sorted((root / "npsnn_edu").rglob("*.py")):
        if path.name == "validation.py" and path.parent.name == "npsnn_edu":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                out["helper_calls"] += _called(node.func) in HELPERS
                out["constraints"] += _called(node.func) in CONSTRAINTS
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                out["tables"] += node.target.id == "_parameter_constraints"
            elif isinstance(node, ast.Raise) and node.exc is not None:
                out["raises"] += 1
                out["parameter_raises"] += isinstance(node.exc, ast.Call) and _called(node.exc.func) in PARAM_ERRORS
    return out


if __name__ == "__main__":
    c = counts(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    print(f"validation helper calls: {c['helper_calls']}\n"
          f"declared constraints: {c['constraints']} in {c['tables']} _parameter_constraints tables\n"
          f"raise statements: {c['raises']} (parameter/state/shape/unknown-name errors: {c['parameter_raises']})")
