"""Course assignments: student versions of the instructor notebooks, and a self-test of their exercises.

The chapter notebooks we ship are the *instructor* versions. An exercise is a function whose body sits
between nbgrader's markers::

    def morse_force(r, D_e, a, r_e):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

and a later cell calls a self-check from ``npsnn_edu.exercises.chapterN`` (``check_morse_force(morse_force)``),
which returns a :class:`~npsnn_edu.exercises.feedback.CheckResult` printed as ``[PASS] ...`` or
``[NOT YET] ...`` (no grader server needed: works on Binder).

``python -m npsnn_edu.assignments [--out build/student] [--nbgrader-source DIR] [--self-test] [NOTEBOOK ...]``
writes the student versions: every solution region becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError()``
at the region's indentation (nbgrader's default stub), markdown answer regions become ``YOUR ANSWER HERE``,
outputs and widget state are stripped, and exercise cells get nbgrader cell metadata (``solution: true``) so
``nbgrader`` can collect them if a course uses it. ``--nbgrader-source DIR`` additionally writes the instructor
notebooks with that metadata (a ready ``source/`` folder for ``nbgrader generate_assignment``).
``--self-test`` executes, for each notebook, only the exercise and check cells (plus the earlier cells they
need, found by name analysis) of the instructor version (every check must PASS) and of the student version
(every check must say NOT YET, with no error output).
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
import symtable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import DataFormatError

__all__ = ["BEGIN_SOLUTION", "END_SOLUTION", "Exercise", "CheckCall", "CheckOutcome", "strip_solutions",
           "find_exercises", "find_checks", "lint_notebook", "make_student_notebook", "add_nbgrader_metadata",
           "exercise_slice", "run_checks", "generate", "main"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
_BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)###\s*BEGIN SOLUTION\s*$")
_END_RE = re.compile(r"^[ \t]*###\s*END SOLUTION\s*$")
_STATUS_RE = re.compile(r"\[(PASS|NOT YET)\]")
CHECK_PREFIX = "check_"


@dataclass
class Exercise:
    """A solution region inside a function of a code cell."""

    cell_index: int
    function: str
    solution_lines: list[str]
    begin_line: int  # 1-based line of the BEGIN marker in the cell


@dataclass
class CheckCall:
    """A call ``check_xxx(...)`` in a code cell, with the exercise functions it is given."""

    cell_index: int
    check: str
    arguments: list[str] = field(default_factory=list)


@dataclass
class CheckOutcome:
    """What one executed check cell showed."""

    cell_index: int
    source: str
    statuses: list[str]
    text: str
    n_calls: int
    errors: list[str]

    @property
    def passed(self) -> bool:
        return bool(self.statuses) and all(s == "PASS" for s in self.statuses) and not self.errors


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


# ----------------------------------------------------------------------------------------- stripping
def _regions(lines: Sequence[str], where: str) -> list[tuple[int, int, str]]:
    """(begin, end, indent) line indices of each solution region; raises DataFormatError if unbalanced."""
    out, begin, indent = [], None, ""
    for i, line in enumerate(lines):
        m = _BEGIN_RE.match(line)
        if m:
            if begin is not None:
                raise DataFormatError(f"{where}: nested '{BEGIN_SOLUTION}' at line {i + 1} (the previous one at line "
                                      f"{begin + 1} has no '{END_SOLUTION}'): close each region before opening another")
            begin, indent = i, m.group("indent")
        elif _END_RE.match(line):
            if begin is None:
                raise DataFormatError(f"{where}: '{END_SOLUTION}' at line {i + 1} without a '{BEGIN_SOLUTION}' before it")
            out.append((begin, i, indent))
            begin = None
    if begin is not None:
        raise DataFormatError(f"{where}: '{BEGIN_SOLUTION}' at line {begin + 1} is never closed: add '{END_SOLUTION}'")
    return out


def strip_solutions(source: str, *, markdown: bool = False, where: str = "cell") -> str:
    """Replace every solution region (markers included) by the student stub at the region's indentation."""
    lines = source.split("\n")
    regions = _regions(lines, where)
    if not regions:
        return source
    out: list[str] = []
    pos = 0
    for begin, end, indent in regions:
        out.extend(lines[pos:begin])
        out.extend([MARKDOWN_STUB] if markdown else [indent + s for s in CODE_STUB])
        pos = end + 1
    out.extend(lines[pos:])
    return "\n".join(out)


def has_solution(source: str) -> bool:
    return any(_BEGIN_RE.match(line) for line in source.split("\n"))


def _python_source(source: str) -> str:
    """IPython cell source as plain Python (magics become calls), for the ast/symtable analyses."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython missing or odd input: analyse as is
        return source


# ------------------------------------------------------------------------------------------- analysis
def find_exercises(nb: Any) -> list[Exercise]:
    """Solution regions of the code cells, each with the name of the function that encloses it."""
    import ast

    found = []
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        src = _source(cell)
        lines = src.split("\n")
        regions = _regions(lines, f"cell {idx}")
        if not regions:
            continue
        try:
            tree = ast.parse(_python_source(src))
        except SyntaxError as exc:
            raise DataFormatError(f"cell {idx}: exercise cell is not valid Python ({exc})") from exc
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for begin, end, _ in regions:
            enclosing = [f for f in funcs if f.lineno <= begin + 1 <= (f.end_lineno or f.lineno)]
            name = min(enclosing, key=lambda f: (f.end_lineno or 0) - f.lineno).name if enclosing else ""
            body = [ln for ln in lines[begin + 1:end] if ln.strip() and not ln.strip().startswith("#")]
            found.append(Exercise(idx, name, body, begin + 1))
    return found


def find_checks(nb: Any) -> list[CheckCall]:
    """Calls of ``check_*`` functions in code cells (not definitions of them), with their Name arguments."""
    import ast

    calls = []
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or CHECK_PREFIX not in _source(cell):
            continue
        try:
            tree = ast.parse(_python_source(_source(cell)))
        except SyntaxError:
            continue
        defined_here = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call):
                    fn = node.func
                    name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                    if name.startswith(CHECK_PREFIX) and name not in defined_here:
                        args = [a.id for a in [*node.args, *(k.value for k in node.keywords)] if isinstance(a, ast.Name)]
                        calls.append(CheckCall(idx, name, args))
    return calls


def _names(source: str) -> tuple[set[str], set[str]]:
    """(defined, referenced) global names of a cell (symtable: exact scoping of function bodies)."""
    try:
        table = symtable.symtable(_python_source(source), "<cell>", "exec")
    except SyntaxError:
        return set(), set()
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    referenced: set[str] = set()

    def visit(t: symtable.SymbolTable, top: bool) -> None:
        for s in t.get_symbols():
            if s.is_referenced() and (top or s.is_global()):
                referenced.add(s.get_name())
        for child in t.get_children():
            visit(child, False)

    visit(table, True)
    return defined, referenced


def exercise_slice(nb: Any) -> list[int]:
    """Indices of the exercise and check cells plus every earlier cell that defines a name they need."""
    targets = {e.cell_index for e in find_exercises(nb)} | {c.cell_index for c in find_checks(nb)}
    if not targets:
        return []
    selected: set[int] = set()
    need: set[str] = set()
    for j in range(max(targets), -1, -1):
        cell = nb.cells[j]
        if cell.cell_type != "code":
            continue
        defined, referenced = _names(_source(cell))
        if j in targets or defined & need:
            selected.add(j)
            need = (need - (defined - referenced)) | referenced
    return sorted(selected)


def lint_notebook(nb: Any) -> list[str]:
    """Problems that would break the student version or leave an exercise ungraded (empty list: fine)."""
    problems = []
    try:
        exercises = find_exercises(nb)
    except DataFormatError as exc:
        return [str(exc)]
    checks = find_checks(nb)
    if not exercises:
        problems.append(f"no exercise: add a function with a '{BEGIN_SOLUTION}' / '{END_SOLUTION}' region")
    checked = {a for c in checks for a in c.arguments}
    for ex in exercises:
        if not ex.function:
            problems.append(f"cell {ex.cell_index}: the solution region at line {ex.begin_line} is not inside a "
                            "function: the student stub would raise when the cell runs")
        elif ex.function not in checked:
            problems.append(f"cell {ex.cell_index}: exercise function {ex.function!r} is never passed to a check_* call")
    # In the student version the exercise functions raise NotImplementedError: only check calls may call them.
    names = {ex.function for ex in exercises if ex.function}
    ex_cells = {ex.cell_index for ex in exercises}
    check_cells = {c.cell_index for c in checks}
    for idx, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or idx in ex_cells:
            continue
        called = _called_names(_source(cell))
        bad = sorted(called & names)
        if bad and idx not in check_cells:
            problems.append(f"cell {idx}: calls exercise function(s) {bad} outside a check: in the student version "
                            "this cell raises NotImplementedError (use the reference implementation there, or guard the call with "
                            "try/except NotImplementedError and print a hint)")
        elif bad:
            problems.append(f"cell {idx}: calls exercise function(s) {bad} directly; pass them to the check instead")
    return problems


def _called_names(source: str) -> set[str]:
    """Names called in a cell, except calls guarded by ``try: ... except NotImplementedError`` (or broader)."""
    import ast

    try:
        tree = ast.parse(_python_source(source))
    except SyntaxError:
        return set()

    def guarded(handler: ast.ExceptHandler) -> bool:
        t = handler.type
        names = [] if t is None else [e for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        return t is None or any(isinstance(e, ast.Name) and e.id in {"NotImplementedError", "Exception",
                                                                      "BaseException", "RuntimeError"} for e in names)

    called: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Try) and any(guarded(h) for h in node.handlers):
            for part in (*node.handlers, *node.orelse, *node.finalbody):
                visit(part)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return called


# ----------------------------------------------------------------------------------------- generation
def _clean(nb: Any) -> Any:
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    return nb


def add_nbgrader_metadata(nb: Any, notebook_id: str) -> Any:
    """Tag exercise cells as nbgrader 'autograded answer' cells and check cells as read-only (schema 3)."""
    ex_cells = {e.cell_index: e.function or f"cell{e.cell_index}" for e in find_exercises(nb)}
    for idx, cell in enumerate(nb.cells):
        if idx in ex_cells:
            cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "task": False,
                                         "grade_id": f"{notebook_id}-{ex_cells[idx]}", "schema_version": 3}
        elif cell.cell_type == "markdown" and has_solution(_source(cell)):
            cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "task": False,
                                         "grade_id": f"{notebook_id}-answer-{idx}", "schema_version": 3}
    for c in find_checks(nb):
        cell = nb.cells[c.cell_index]
        if "nbgrader" not in cell.metadata:
            cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "task": False,
                                         "grade_id": f"{notebook_id}-check-{c.cell_index}", "schema_version": 3}
    return nb


def make_student_notebook(nb: Any, notebook_id: str = "notebook") -> Any:
    """Student version of an instructor notebook: stubs instead of solutions, no outputs, nbgrader tags."""
    nb = add_nbgrader_metadata(_clean(nb), notebook_id)
    for idx, cell in enumerate(nb.cells):
        src = _source(cell)
        if cell.cell_type in ("code", "markdown") and has_solution(src):
            cell.source = strip_solutions(src, markdown=cell.cell_type == "markdown", where=f"{notebook_id} cell {idx}")
    return nb


def generate(notebooks: Iterable[Path], out: Path, nbgrader_source: "Path | None" = None) -> list[Path]:
    """Write the student version of each notebook to ``out`` (and nbgrader sources); return the paths."""
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        path = Path(path)
        nb = nbformat.read(path, as_version=4)
        student = make_student_notebook(nb, path.stem)
        nbformat.validate(student)
        dest = out / path.name
        nbformat.write(student, dest)
        written.append(dest)
        if nbgrader_source is not None:
            nbgrader_source.mkdir(parents=True, exist_ok=True)
            nbformat.write(add_nbgrader_metadata(_clean(nb), path.stem), nbgrader_source / path.name)
    return written


# ------------------------------------------------------------------------------------------ self-test
def run_checks(nb: Any, cwd: "str | Path", *, timeout: int = 600) -> list[CheckOutcome]:
    """Execute the exercise slice of ``nb`` (fast mode, errors allowed) and report each check cell."""
    import nbformat

    from .notebook_runner import execute_notebook

    keep = exercise_slice(nb)
    check_cells = {}
    for c in find_checks(nb):
        check_cells[c.cell_index] = check_cells.get(c.cell_index, 0) + 1
    sub = nbformat.v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    sub.cells = [copy.deepcopy(nb.cells[i]) for i in keep]
    execute_notebook(sub, cwd=cwd, fast=True, timeout=timeout, allow_errors=True, store_widget_state=False)
    outcomes = []
    for i, cell in zip(keep, sub.cells):
        errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", [])
                  if o.get("output_type") == "error"]
        if i not in check_cells and not errors:
            continue
        text = "\n".join(_output_text(o) for o in cell.get("outputs", []))
        outcomes.append(CheckOutcome(i, _source(cell), _STATUS_RE.findall(text), text, check_cells.get(i, 0), errors))
    return outcomes


def _output_text(out: Any) -> str:
    if out.get("output_type") == "stream":
        t = out.get("text", "")
    else:
        t = out.get("data", {}).get("text/plain", "")
    return "".join(t) if isinstance(t, list) else t


def self_test(path: Path, *, echo: bool = True) -> list[str]:
    """Problems found for one instructor notebook (lint + instructor passes + untouched student fails kindly)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    problems = [f"lint: {p}" for p in lint_notebook(nb)]
    for label, version in (("instructor", nb), ("student", make_student_notebook(nb, path.stem))):
        for o in run_checks(version, path.parent):
            if o.errors:
                problems.append(f"{label} cell {o.cell_index}: error output {o.errors}")
            elif len(o.statuses) < max(o.n_calls, 1):
                problems.append(f"{label} cell {o.cell_index}: {o.n_calls} check call(s) but {len(o.statuses)} "
                                "result(s) shown: display each CheckResult (one check per cell, or print() them)")
            expected = "PASS" if label == "instructor" else "NOT YET"
            if any(s != expected for s in o.statuses):
                problems.append(f"{label} cell {o.cell_index}: expected every check to say [{expected}], got "
                                f"{o.statuses}: {o.text.strip()[:300]}")
            if echo:
                print(f"  {label:<10} cell {o.cell_index:>3}: {', '.join(o.statuses) or 'no result'}")
    return problems


def main(argv: "Sequence[str] | None" = None) -> int:
    from .notebook_runner import default_notebooks

    parser = argparse.ArgumentParser(prog="python -m npsnn_edu.assignments",
                                     description="Generate student versions of the instructor notebooks.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="instructor notebooks (default: notebooks/0*.ipynb)")
    parser.add_argument("--out", type=Path, default=Path("build/student"), help="output folder (default build/student)")
    parser.add_argument("--nbgrader-source", type=Path, default=None,
                        help="also write instructor copies with nbgrader cell metadata to this folder")
    parser.add_argument("--self-test", action="store_true",
                        help="run the exercise and check cells: instructor must PASS, untouched student NOT YET")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or default_notebooks()
    if not notebooks:
        print("no notebooks found (expected notebooks/0*.ipynb; run from the repository root)", file=sys.stderr)
        return 2
    missing = [str(p) for p in notebooks if not Path(p).is_file()]
    if missing:
        print(f"notebook(s) not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    status = 0
    for path in notebooks:
        nb_problems = []
        try:
            import nbformat

            exercises = find_exercises(nbformat.read(path, as_version=4))
        except (DataFormatError, OSError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"{path.name}: {len(exercises)} exercise(s): {', '.join(e.function or '?' for e in exercises)}")
        if args.self_test:
            nb_problems = self_test(path)
            for p in nb_problems:
                print(f"  PROBLEM {p}", file=sys.stderr)
            status = status or int(bool(nb_problems))
    try:
        written = generate(notebooks, args.out, args.nbgrader_source)
    except DataFormatError as exc:
        print(f"cannot generate student notebooks: {exc}", file=sys.stderr)
        return 1
    print(f"student notebooks written to {args.out}/: {', '.join(p.name for p in written)}")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
