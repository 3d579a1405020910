"""Course assignments: student copies, an nbgrader course directory, and a self-test of the exercises.

The chapter notebooks we ship are the *instructor* versions. An exercise (COMMON convention) is a function whose
body sits between nbgrader's markers::

    def morse_force(r, D_e, a, r_e):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

and the next code cell is one call of a friendly self-check from ``npsnn_edu.exercises.chapterN``
(``check_morse_force(morse_force)``) that returns a :class:`~npsnn_edu.exercises.feedback.CheckResult`
(``[PASS]`` / ``[NOT YET]``), never raises and never prints the answer.

Two ways to hand the notebooks out (``python -m npsnn_edu.course.assignments --help``):

* **A graded course with nbgrader** (``--nbgrader-course DIR``): writes ``DIR/source/<chapter>/<chapter>.ipynb``
  (the instructor notebook with nbgrader cell metadata; after every self-check a generated, locked, graded test
  cell ``assert check_x(fn), ...`` inside ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``, worth
  ``--points`` points), ``DIR/nbgrader_config.py`` (gradebook sqlite in DIR, execution timeout) and
  ``DIR/npsnn_edu_mode.txt`` (``classroom``: autograde runs lecture-size). The student version is then made by
  nbgrader itself (``nbgrader generate_assignment``; ``--generate`` runs it) and graded by ``nbgrader autograde``.
  The self-check cells stay as they are: students get friendly feedback, the hidden graded cell raises
  ``AssertionError`` when the check does not pass (so an untouched stub scores zero), and a student's
  "Run All" is never stopped by it (hidden tests are not in the release).
* **Student copies without nbgrader** (``--out DIR``: the Binder path and ``make student-notebooks``): the same
  solution stripping as nbgrader's ``ClearSolutions`` (``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at
  the region's indentation; markdown regions become ``YOUR ANSWER HERE``; tests/test_nbgrader.py checks that the
  cells are identical to nbgrader's release), with no nbgrader installed (Binder's image has none).

What this module adds to nbgrader: the copies without nbgrader above; removal of test-harness markers
(``# NBVAL_*`` lines and ``nbval-*`` tags, which nbgrader would ship to students), outputs and widget state, in
both paths; the graded cells generated from the convention (nbgrader knows nothing of self-checks); a
verification of every student copy (no solution line, hidden test, marker or output left:
:func:`student_problems`, failing the command); a lint of the convention (:func:`lint_notebook`); and
``--self-test``, which executes only the exercise and check cells (plus the earlier cells they need, found by
name analysis) of the instructor version (every check must PASS) and of the student version (every check
NOT YET, no error output).
"""
from __future__ import annotations

import ast
import copy
import os
import re
import shutil
import subprocess
import symtable
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..config import MODE_FILE, check_mode
from ..errors import DataFormatError, InvalidParameterError
from ._cli import checked_notebooks, command_line, guarded
from ._cli import parser as cli_parser
from .notebook_runner import default_notebooks, execute_notebook, read_notebook_file

__all__ = ["BEGIN_SOLUTION", "END_SOLUTION", "HIDDEN_BEGIN", "HIDDEN_END", "Exercise", "CheckCall", "CheckOutcome",
           "strip_solutions", "strip_test_markers", "find_exercises", "find_checks", "lint_notebook",
           "make_student_notebook", "student_problems", "make_nbgrader_source", "write_nbgrader_course",
           "run_nbgrader", "student_nbgrader_config", "exercise_slice", "run_checks", "generate", "main"]

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
    """A solution region inside a function of a code cell.

    Parameters
    ----------
    cell_index : int
        Index of the code cell.
    function : str
        Name of the enclosing function.
    solution_lines : list of str
        Lines of the solution region.
    begin_line : int
        1-based line of the BEGIN marker in the cell.
    """

    cell_index: int
    function: str
    solution_lines: list[str]
    begin_line: int  # 1-based line of the BEGIN marker in the cell


@dataclass
class CheckCall:
    """A call ``check_xxx(...)`` in a code cell, with the exercise functions it is given.

    Parameters
    ----------
    cell_index : int
        Index of the code cell.
    check : str
        Name of the check function.
    arguments : list of str, default []
        Names passed to it.
    """

    cell_index: int
    check: str
    arguments: list[str] = field(default_factory=list)


@dataclass
class CheckOutcome:
    """What one executed check cell showed.

    Parameters
    ----------
    cell_index : int
        Index of the check cell.
    source : str
        Its source.
    statuses : list of str
        ``"PASS"`` or ``"NOT YET"`` per check call.
    text : str
        The cell's text output.
    n_calls : int
        Check calls in the cell.
    errors : list of str
        Errors raised in the cell.
    """

    cell_index: int
    source: str
    statuses: list[str]
    text: str
    n_calls: int
    errors: list[str]

    @property
    def passed(self) -> bool:
        """True when every check of the cell passed and nothing raised."""
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
                raise DataFormatError(f"{where}: '{END_SOLUTION}' at line {i + 1} without a "
                                      f"'{BEGIN_SOLUTION}' before it")
            out.append((begin, i, indent))
            begin = None
    if begin is not None:
        raise DataFormatError(f"{where}: '{BEGIN_SOLUTION}' at line {begin + 1} is never closed: add '{END_SOLUTION}'")
    return out


def strip_solutions(source: str, *, markdown: bool = False, where: str = "cell") -> str:
    """Replace every solution region (markers included) by the student stub at the region's indentation.

    Parameters
    ----------
    source : str
        Cell source.
    markdown : bool, default False
        A markdown cell: the stub is :data:`MARKDOWN_STUB` (else the code stub raising NotImplementedError).
    where : str, default "cell"
        Location used in error messages.

    Returns
    -------
    str

    Raises
    ------
    DataFormatError
        Unbalanced solution markers.
    """
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
    """Solution regions of the code cells, each with the name of the function that encloses it.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook.

    Returns
    -------
    list of Exercise
    """
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
    """Calls of ``check_*`` functions in code cells (not definitions of them), with their Name arguments.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook.

    Returns
    -------
    list of CheckCall
    """
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
                        given = [*node.args, *(k.value for k in node.keywords)]
                        args = [a.id for a in given if isinstance(a, ast.Name)]
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
    """Indices of the exercise and check cells plus every earlier cell that defines a name they need.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook.

    Returns
    -------
    list of int
    """
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
    """Problems that would break the student version or leave an exercise ungraded (empty list: fine).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook.

    Returns
    -------
    list of str
    """
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
            problems.append(f"cell {ex.cell_index}: exercise function {ex.function!r} is never passed to a "
                            "check_* call")
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
                            "this cell raises NotImplementedError (use the reference implementation there, or "
                            "guard the call with try/except NotImplementedError and print a hint)")
        elif bad:
            problems.append(f"cell {idx}: calls exercise function(s) {bad} directly; pass them to the check instead")
    return problems


def _called_names(source: str) -> set[str]:
    """Names called in a cell, except calls guarded by ``try: ... except NotImplementedError`` (or broader)."""
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
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
_MARKER_LINE_RE = re.compile(r"^[ \t]*#\s*NBVAL_[A-Z_]+\b.*$")
_MARKER_TAG_PREFIX = "nbval"


def strip_test_markers(nb: Any) -> Any:
    """Remove test-harness markers in place: ``# NBVAL_...`` comment lines and ``nbval-*`` cell tags.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (changed in place).

    Returns
    -------
    nbformat.NotebookNode
    """
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines = _source(cell).split("\n")
            kept = [ln for ln in lines if not _MARKER_LINE_RE.match(ln)]
            if len(kept) != len(lines):
                cell.source = "\n".join(kept)
        tags = cell.metadata.get("tags")
        if tags:
            cell.metadata["tags"] = [t for t in tags if not str(t).lower().startswith(_MARKER_TAG_PREFIX)]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
    return nb


def _clean(nb: Any) -> Any:
    """A copy without outputs, execution counts, widget state, nbgrader metadata or test markers."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("nbgrader", None)
    return strip_test_markers(nb)


def make_student_notebook(nb: Any, notebook_id: str = "notebook") -> Any:
    """Student copy (no nbgrader needed): stubs instead of solutions, no outputs, widget state or test markers.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook (not changed).
    notebook_id : str, default "notebook"
        Name used in messages.

    Returns
    -------
    nbformat.NotebookNode
    """
    nb = _clean(nb)
    for idx, cell in enumerate(nb.cells):
        src = _source(cell)
        if cell.cell_type in ("code", "markdown") and has_solution(src):
            cell.source = strip_solutions(src, markdown=cell.cell_type == "markdown", where=f"{notebook_id} cell {idx}")
    return nb


def student_problems(student: Any, instructor: Any) -> list[str]:
    """What a student copy must not hold (empty list: fine): solution markers or lines, hidden tests, test-harness
    markers, outputs or widget state.

    Parameters
    ----------
    student : nbformat.NotebookNode
        The student copy.
    instructor : nbformat.NotebookNode
        The instructor notebook.

    Returns
    -------
    list of str
    """
    problems = []
    text = "\n".join(_source(c) for c in student.cells)
    for marker in (BEGIN_SOLUTION, END_SOLUTION, HIDDEN_BEGIN, HIDDEN_END):
        if marker in text:
            problems.append(f"marker {marker!r} left")
    tags = [str(t).lower() for c in student.cells for t in c.metadata.get("tags", [])]
    if "NBVAL_" in text or any(t.startswith(_MARKER_TAG_PREFIX) for t in tags):
        problems.append("test-harness marker (NBVAL) left")
    if "widgets" in student.metadata:
        problems.append("widget state left in the notebook metadata")
    if any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")) for c in student.cells):
        problems.append("outputs left")
    student_lines = {ln.strip() for c in student.cells for ln in _source(c).split("\n")}
    kept_lines = {ln.strip() for c in instructor.cells for ln in strip_solutions(_source(c)).split("\n")}
    for ex in find_exercises(instructor):
        leaked = [ln for ln in ex.solution_lines if ln.strip() in student_lines and ln.strip() not in kept_lines]
        if leaked:
            problems.append(f"solution lines of {ex.function or 'cell ' + str(ex.cell_index)} left: {leaked[:3]}")
    return problems


def generate(notebooks: Iterable[Path], out: Path) -> list[Path]:
    """Write the student copy of each notebook to ``out``; return the paths. Raises DataFormatError when a copy
    would still hold a solution, a hidden test or a test marker (see :func:`student_problems`).

    Parameters
    ----------
    notebooks : iterable of Path
        Instructor notebooks.
    out : Path
        Output folder.

    Returns
    -------
    list of Path

    Raises
    ------
    DataFormatError
        A copy that would still hold a solution, a hidden test or a test marker.
    """
    import nbformat

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        path = Path(path)
        nb = read_notebook_file(path)
        student = make_student_notebook(nb, path.stem)
        nbformat.validate(student)
        problems = student_problems(student, nb)
        if problems:
            raise DataFormatError(f"{path.name}: the student copy is not clean: {'; '.join(problems)}")
        dest = out / path.name
        nbformat.write(student, dest)
        written.append(dest)
    return written


# -------------------------------------------------------------------------------------- nbgrader course
_GRADE_ID_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: "float | None" = None) -> dict:
    meta: dict = {"grade": grade, "solution": solution, "locked": locked, "task": False,
                  "grade_id": _GRADE_ID_BAD.sub("-", grade_id), "schema_version": 3}
    if grade:
        meta["points"] = points
    return meta


def graded_test_source(check_source: str, label: str) -> str:
    """Source of the graded cell that follows a self-check cell: the same call, asserted, as a hidden test."""
    return (f"# Graded by nbgrader: passes when the self-check above says PASS ({label}).\n"
            f"{HIDDEN_BEGIN}\n"
            f"assert {check_source.strip()}, \"{label}: the self-check above does not pass yet (run it to see why)\"\n"
            f"{HIDDEN_END}")


def make_nbgrader_source(nb: Any, notebook_id: str, *, points: float = 1.0) -> Any:
    """The instructor notebook as an nbgrader source: exercise cells are autograded answers, self-check cells are
    locked, and after each self-check cell comes a locked, graded hidden-test cell worth ``points``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook (not changed).
    notebook_id : str
        Assignment name.
    points : float, default 1.0
        Points per hidden-test cell.

    Returns
    -------
    nbformat.NotebookNode
    """
    import nbformat

    exercises = find_exercises(nb)
    checks = find_checks(nb)
    nb = _clean(nb)
    ex_cells = {e.cell_index: e.function or f"cell{e.cell_index}" for e in exercises}
    check_cells: dict[int, list[str]] = {}
    for c in checks:
        if c.cell_index not in ex_cells:
            check_cells.setdefault(c.cell_index, []).extend(c.arguments or [c.check])
    cells = []
    for idx, cell in enumerate(nb.cells):
        cells.append(cell)
        if idx in ex_cells:
            cell.metadata["nbgrader"] = _meta(f"{notebook_id}-{ex_cells[idx]}", solution=True)
        elif cell.cell_type == "markdown" and has_solution(_source(cell)):
            cell.metadata["nbgrader"] = _meta(f"{notebook_id}-answer-{idx}", solution=True)
        elif idx in check_cells:
            name = "-".join(check_cells[idx])
            cell.metadata["nbgrader"] = _meta(f"{notebook_id}-check-{name}", locked=True)
            test = nbformat.v4.new_code_cell(graded_test_source(_source(cell), f"{notebook_id}: {name}"))
            test.metadata["nbgrader"] = _meta(f"{notebook_id}-test-{name}", grade=True, locked=True, points=points)
            if nb.nbformat_minor < 5:  # cell ids came with nbformat 4.5
                test.pop("id", None)
            cells.append(test)
    nb.cells = cells
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise DataFormatError(f"{notebook_id}: duplicate nbgrader grade ids {dup}: give each exercise function its "
                              "own name and check each one in its own cell")
    return nb


NBGRADER_CONFIG = """\
# nbgrader configuration of this course (written by python -m npsnn_edu.course.assignments --nbgrader-course).
# Run every nbgrader command from this folder, e.g.
#   nbgrader generate_assignment 01_newtonian_md      # source/ -> release/ (student copies)
#   nbgrader release_assignment 01_newtonian_md       # release/ -> the exchange (students fetch it)
#   nbgrader collect 01_newtonian_md && nbgrader autograde 01_newtonian_md
# Run mode of the autograding kernels: npsnn_edu_mode.txt in this folder ({mode}); NPSNN_EDU_MODE=fast overrides.
# Relocatable: the course root (and the gradebook, gradebook.db next to this file) is wherever this file is, so
# the folder can be copied to the instructor's account on a hub as it is.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
# the students' shared config may set a student id from JUPYTERHUB_USER: the instructor's commands act on all
c.CourseDirectory.student_id = "*"
c.Execute.timeout = {timeout}
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
"""

STUDENT_CONFIG = """\
# nbgrader configuration for EVERY user's server on the hub (students and instructor), written by
# python -m npsnn_edu.course.assignments --nbgrader-course. Install it where every single-user server reads it, e.g.
#   The Littlest JupyterHub: /opt/tljh/user/etc/jupyter/nbgrader_config.py
#   a Docker image (z2jh):    /etc/jupyter/nbgrader_config.py
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
# nbgrader takes the student id from the OS user name (JUPYTERHUB_USER only when that is 'jovyan'): on a hub
# whose users share one OS user, every submission would carry the same id. The hub user's name is the id.
if os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
"""

#: Default exchange folder written into the course config (every user must be able to write it).
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
DEFAULT_COURSE_ID = "npsnn_edu"
_COURSE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _check_course(course_id: str, exchange: str) -> None:
    if not isinstance(course_id, str) or not _COURSE_ID_RE.fullmatch(course_id):
        raise InvalidParameterError(f"course_id={course_id!r}: give a name of letters, digits, '_', '-' or '.' "
                                    "(no spaces, no '+': nbgrader splits submission names on '+'), e.g. npsnn101")
    if not isinstance(exchange, str) or not os.path.isabs(exchange):
        raise InvalidParameterError(f"exchange={exchange!r}: give the absolute path of a folder every user of the "
                                    f"hub can write (e.g. {DEFAULT_EXCHANGE}, chmod 777)")


def student_nbgrader_config(course_id: str = DEFAULT_COURSE_ID, exchange: str = DEFAULT_EXCHANGE) -> str:
    """Text of the nbgrader_config.py every single-user server on the hub reads (course id, exchange root, and
    the student id from ``JUPYTERHUB_USER``).

    Parameters
    ----------
    course_id : str, default "npsnn_edu"
        nbgrader course id.
    exchange : str, default "/srv/nbgrader/exchange"
        Exchange folder.

    Returns
    -------
    str
    """
    _check_course(course_id, exchange)
    return STUDENT_CONFIG.format(course_id=course_id, exchange=exchange)


def write_nbgrader_course(notebooks: Iterable[Path], root: Path, *, mode: str = "classroom", points: float = 1.0,
                          timeout: int = 900, generate_release: bool = False, course_id: str = DEFAULT_COURSE_ID,
                          exchange: str = DEFAULT_EXCHANGE) -> list[Path]:
    """Write an nbgrader course directory at ``root`` (one assignment per notebook, named by its stem); with
    ``generate_release`` also run ``nbgrader generate_assignment`` for each. Returns the source notebooks.

    ``root/nbgrader_config.py`` sets the course id, the exchange folder (an absolute path every hub user can write)
    and a course root relative to the file itself (the folder can be moved); ``root/hub_nbgrader_config.py`` is
    the config for every single-user server (:func:`student_nbgrader_config`); ``timeout`` is the per-cell
    autograding limit in seconds.

    Parameters
    ----------
    notebooks : iterable of Path
        Instructor notebooks.
    root : Path
        Course folder.
    mode : {"full", "classroom", "fast"}, default "classroom"
        Run mode of the autograder.
    points : float, default 1.0
        Points per hidden-test cell.
    timeout : int, default 900
        Per-cell autograding limit (s).
    generate_release : bool, default False
        Also run ``nbgrader generate_assignment``.
    course_id : str, default "npsnn_edu"
        nbgrader course id.
    exchange : str, default "/srv/nbgrader/exchange"
        Exchange folder (absolute path).

    Returns
    -------
    list of Path
    """
    import nbformat

    mode = check_mode(mode, "--mode")
    _check_course(course_id, exchange)
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(course_id=course_id, exchange=exchange,
                                                                    timeout=int(timeout), mode=mode))
    (root / "hub_nbgrader_config.py").write_text(student_nbgrader_config(course_id, exchange))
    (root / MODE_FILE).write_text(mode + "\n")
    written = []
    for path in notebooks:
        path = Path(path)
        source = make_nbgrader_source(read_notebook_file(path), path.stem, points=points)
        nbformat.validate(source)
        dest = root / "source" / path.stem / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source, dest)
        written.append(dest)
    if generate_release and written:
        # one nbgrader call for all (its start-up costs seconds): the assignment id is a glob over source/
        name = written[0].parent.name if len(written) == 1 else "*"
        run_nbgrader(["generate_assignment", name, "--force"], root)
    return written


def run_nbgrader(args: Sequence[str], root: Path, *, env: "dict[str, str] | None" = None,
                 timeout: float = 1800) -> "subprocess.CompletedProcess[str]":
    """Run ``python -m nbgrader ARGS`` in the course folder ``root``; raise RuntimeError with its log on failure.

    Parameters
    ----------
    args : sequence of str
        nbgrader arguments.
    root : Path
        Course folder.
    env : dict of str to str or None, default None
        Environment (None: this process's).
    timeout : float, default 1800
        Seconds.

    Returns
    -------
    subprocess.CompletedProcess

    Raises
    ------
    RuntimeError
        nbgrader failed (its log is in the message).
    """
    full_env = {**os.environ, **(env or {})}
    # nbgrader calls the `alembic` executable (gradebook migrations): it must be found next to this Python
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), full_env.get("PATH", "")])

    if shutil.which("alembic", path=full_env["PATH"]) is None:
        raise RuntimeError(f"nbgrader needs the `alembic` command (it creates the gradebook with it) and there is "
                           f"none next to {sys.executable} nor on PATH: install nbgrader into this environment "
                           "(pip install -e '.[course]'), which brings alembic")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    if proc.returncode != 0:
        log = (proc.stdout + proc.stderr)[-4000:]
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{log}")
    return proc


# ------------------------------------------------------------------------------------------ self-test
def run_checks(nb: Any, cwd: "str | Path", *, timeout: int = 600) -> list[CheckOutcome]:
    """Execute the exercise slice of ``nb`` (fast mode, errors allowed) and report each check cell.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.
    cwd : str or Path
        Working directory of the kernel.
    timeout : int, default 600
        Seconds per cell.

    Returns
    -------
    list of CheckOutcome
    """
    import nbformat

    keep = exercise_slice(nb)
    check_cells: dict[int, int] = {}
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
    nb = read_notebook_file(path)
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


@command_line("Command line (``python -m npsnn_edu.course.assignments --help``): student copies, nbgrader course, "
              "lint, checks.")
def main(argv: "Sequence[str] | None" = None) -> int:
    parser = cli_parser("npsnn_edu.course.assignments",
                        "Student copies of the instructor notebooks, or an nbgrader course.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="instructor notebooks (default: notebooks/0*.ipynb)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write checked student copies (no nbgrader needed) to this folder (default: "
                             "build/student, unless --nbgrader-course is given)")
    parser.add_argument("--nbgrader-course", type=Path, default=None, metavar="DIR",
                        help="write an nbgrader course directory (source/, nbgrader_config.py, npsnn_edu_mode.txt)")
    parser.add_argument("--generate", action="store_true",
                        help="with --nbgrader-course: also run `nbgrader generate_assignment` (release/)")
    parser.add_argument("--mode", default="classroom", help="run mode of the autograding kernels (default classroom)")
    parser.add_argument("--points", type=float, default=1.0, help="points per graded exercise (default 1)")
    parser.add_argument("--course-id", default=DEFAULT_COURSE_ID,
                        help=f"nbgrader course id (default {DEFAULT_COURSE_ID})")
    parser.add_argument("--exchange", default=DEFAULT_EXCHANGE,
                        help=f"nbgrader exchange folder every hub user can write (default {DEFAULT_EXCHANGE})")
    parser.add_argument("--self-test", action="store_true",
                        help="run the exercise and check cells: instructor must PASS, untouched student NOT YET")
    args = parser.parse_args(argv)
    notebooks = checked_notebooks(args.notebooks, default_notebooks)
    if notebooks is None:
        return 2
    if args.generate and args.nbgrader_course is None:
        print("--generate needs --nbgrader-course DIR", file=sys.stderr)
        return 2
    status = 0
    for path in notebooks:
        try:
            exercises = find_exercises(read_notebook_file(path))
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
    out = args.out if (args.out is not None or args.nbgrader_course is not None) else Path("build/student")

    def write() -> int:
        if out is not None:
            written = generate(notebooks, out)
            print(f"student copies written to {out}/ (checked: no solution, hidden test, marker or output): "
                  f"{', '.join(p.name for p in written)}")
        if args.nbgrader_course is not None:
            sources = write_nbgrader_course(notebooks, args.nbgrader_course, mode=args.mode, points=args.points,
                                            generate_release=args.generate, course_id=args.course_id,
                                            exchange=args.exchange)
            names = [p.parent.name for p in sources]
            nxt = " (release/ generated)" if args.generate else \
                f"; next: cd {args.nbgrader_course} && nbgrader generate_assignment {names[0]}"
            print(f"nbgrader course in {args.nbgrader_course}/: assignments {', '.join(names)}{nxt}")
        return status
    return guarded(write, (DataFormatError, InvalidParameterError, RuntimeError), prefix="cannot generate", status=1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
