"""Course assignments: student versions carry no solutions, instructor versions pass every self-check, and an
untouched student version gets NOT YET messages (never tracebacks).

Parametrised over every chapter notebook (notebooks/0*.ipynb) plus a small demo notebook of tests/data/, so
the tooling is exercised even before the chapters exist. A chapter without a graded exercise fails.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from npsnn_edu.course.assignments import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    _python_source,
    exercise_slice,
    find_checks,
    find_exercises,
    generate,
    lint_notebook,
    main,
    make_student_notebook,
    run_checks,
    strip_solutions,
    student_problems,
)
from npsnn_edu.errors import DataFormatError

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "notebooks").glob("0*.ipynb"))
DEMO = REPO / "tests" / "data" / "demo_delivery.ipynb"
MINI = REPO / "tests" / "data" / "course_roundtrip.ipynb"
NOTEBOOKS = [*CHAPTERS, DEMO, MINI]
IDS = [p.stem for p in NOTEBOOKS]


def _src(cell) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else cell.source


# ------------------------------------------------------------------------------------ stripping (units)
def test_strip_replaces_region_at_its_indentation_and_drops_markers():
    src = ("def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION\n    y = 2 * x\n    return y\n"
           "    ### END SOLUTION\n\n"
           "def g(x):\n    if x:\n        ### BEGIN SOLUTION\n        return 1\n        ### END SOLUTION\n"
           "    return 0\n")
    out = strip_solutions(src)
    assert BEGIN_SOLUTION not in out and END_SOLUTION not in out
    assert "y = 2 * x" not in out and "return 1" not in out
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()\n\ndef g" in out
    assert "        raise NotImplementedError()\n    return 0" in out
    ns: dict = {}
    exec(compile(out, "<student>", "exec"), ns)
    with pytest.raises(NotImplementedError):
        ns["f"](1)
    assert ns["g"](0) == 0  # code outside the region is kept


def test_strip_markdown_answer_and_leaves_plain_cells_alone():
    md = "Explain:\n\n### BEGIN SOLUTION\nBecause energy is conserved.\n### END SOLUTION\n"
    assert strip_solutions(md, markdown=True) == "Explain:\n\nYOUR ANSWER HERE\n"
    assert strip_solutions("x = 1\n") == "x = 1\n"


@pytest.mark.parametrize("src, what", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "nested"),
])
def test_unbalanced_markers_raise_a_typed_error(src, what):
    with pytest.raises(DataFormatError, match=what):
        strip_solutions(src)


def _nb(*cells: tuple[str, str]):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) if kind == "code" else nbformat.v4.new_markdown_cell(s)
                for kind, s in cells]
    return nb


def test_lint_flags_what_would_break_a_student_notebook():
    nb = _nb(("code", "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"),
             ("code", "def sq(a):\n    ### BEGIN SOLUTION\n    return a * a\n    ### END SOLUTION"),
             ("code", "print(sq(3))"))
    problems = "\n".join(lint_notebook(nb))
    assert "not inside a function" in problems
    assert "never passed to a check" in problems
    assert "cell 2: calls exercise function(s) ['sq'] outside a check" in problems
    assert "no exercise" in "\n".join(lint_notebook(_nb(("code", "x = 1"))))
    guarded = _nb(("code", "def sq(a):\n    ### BEGIN SOLUTION\n    return a * a\n    ### END SOLUTION"),
                  ("code", "check_sq(sq)"),
                  ("code", "try:\n    print(sq(3))\nexcept NotImplementedError:\n    print('finish sq first')"))
    assert lint_notebook(guarded) == []


def test_slice_keeps_exercise_check_and_their_dependencies_only():
    nb = _nb(("code", "import numpy as np"), ("code", "heavy = np.ones(10).sum()"), ("code", "scale = 2.0"),
             ("markdown", "text"),
             ("code", "def twice(x):\n    ### BEGIN SOLUTION\n    return scale * x\n    ### END SOLUTION"),
             ("code", "from npsnn_edu.exercises.feedback import result\ndef check_twice(fn):\n"
                      "    return result('twice', [(np.isclose(fn(1.0), 2.0), 'no')])"),
             ("code", "check_twice(twice)"), ("code", "unrelated = heavy + 1"))
    assert exercise_slice(nb) == [0, 2, 4, 5, 6]
    assert [c.check for c in find_checks(nb)] == ["check_twice"]
    assert [(e.function, e.solution_lines) for e in find_exercises(nb)] == [("twice", ["    return scale * x"])]


# --------------------------------------------------------------------------------- every notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_graded_exercises(path):
    nb = nbformat.read(path, as_version=4)
    exercises = find_exercises(nb)
    checks = find_checks(nb)
    assert exercises, f"{path.name} has no exercise ({BEGIN_SOLUTION} ... {END_SOLUTION} inside a function)"
    assert checks, f"{path.name} never calls a check_* self-check"
    graded = {a for c in checks for a in c.arguments}
    assert any(e.function in graded for e in exercises), f"{path.name}: no exercise function is passed to a check"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_version_runs_top_to_bottom_without_tracebacks(path):
    """Static check: outside its checks, no cell calls an exercise function unguarded (the stub would raise
    NotImplementedError and stop "Run All" in the student's notebook); every region sits inside a function."""
    problems = lint_notebook(nbformat.read(path, as_version=4))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_student_version_contains_no_solution_or_marker(path, tmp_path):
    (student_path,) = generate([path], tmp_path / "student")
    nb = nbformat.read(path, as_version=4)
    student = nbformat.read(student_path, as_version=4)
    nbformat.validate(student)
    assert len(student.cells) == len(nb.cells)
    assert "widgets" not in student.metadata
    text = "\n".join(_src(c) for c in student.cells)
    assert BEGIN_SOLUTION not in text and END_SOLUTION not in text and "NBVAL" not in text
    assert student_problems(student, nb) == []
    for ex in find_exercises(nb):
        inst, stud = _src(nb.cells[ex.cell_index]), _src(student.cells[ex.cell_index])
        outside = strip_solutions(inst).split("\n")
        leaked = [ln for ln in ex.solution_lines if ln in stud.split("\n") and ln not in outside]
        assert not leaked, f"solution lines left in the student {ex.function}: {leaked}"
        assert "raise NotImplementedError()" in stud
    for cell in student.cells:
        assert "nbgrader" not in cell.metadata  # copies without nbgrader carry none of its metadata
        assert not any(str(t).lower().startswith("nbval") for t in cell.metadata.get("tags", []))
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
            ast.parse(_python_source(_src(cell)))  # stubs keep the cell valid Python


def test_markers_and_leaks_are_found_and_refused(tmp_path):
    nb = _nb(("code", "# NBVAL_CHECK_OUTPUT\nprint(1)"),
             ("code", "def sq(a):\n    ### BEGIN SOLUTION\n    return a * a\n    ### END SOLUTION"),
             ("code", "check_sq(sq)"))
    nb.cells[0].metadata["tags"] = ["nbval-ignore-output", "keep-me"]
    student = make_student_notebook(nb)
    assert _src(student.cells[0]) == "print(1)" and student.cells[0].metadata["tags"] == ["keep-me"]
    assert student_problems(student, nb) == []
    leaky = make_student_notebook(nb)
    leaky.cells[1].source = "def sq(a):\n    return a * a"
    leaky.cells[0].source = "# NBVAL_IGNORE_OUTPUT\nprint(1)"
    problems = "\n".join(student_problems(leaky, nb))
    assert "solution lines of sq left" in problems and "NBVAL" in problems
    path = tmp_path / "leaky.ipynb"
    bad = _nb(("code", "def sq(a):\n    ### BEGIN SOLUTION\n    return a * a\n    ### END SOLUTION\n"
                       "    return a * a  # also outside the region"), ("code", "check_sq(sq)"))
    nbformat.write(bad, path)
    generate([path], tmp_path / "ok")  # a line also outside the region is not a leak
    with pytest.raises(DataFormatError, match="unbalanced|never closed"):
        nbformat.write(_nb(("code", "def f():\n    ### BEGIN SOLUTION\n    return 1")), path)
        generate([path], tmp_path / "bad")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_solutions_pass_and_untouched_student_gets_helpful_not_yet(path):
    nb = nbformat.read(path, as_version=4)
    n_checks = len(find_checks(nb))
    instructor = run_checks(nb, path.parent)
    assert instructor, f"{path.name}: no check cell produced output"
    for o in instructor:
        assert not o.errors, f"instructor cell {o.cell_index} raised: {o.errors}\n{o.source}"
        assert len(o.statuses) >= max(o.n_calls, 1), f"cell {o.cell_index}: a check result is not displayed:\n{o.text}"
        assert o.passed, f"instructor solution fails its check (cell {o.cell_index}):\n{o.text}"
    assert sum(len(o.statuses) for o in instructor) >= n_checks

    student = run_checks(make_student_notebook(nb, path.stem), path.parent)
    for o in student:
        assert not o.errors, f"student cell {o.cell_index} shows a traceback: {o.errors}\n{o.source}"
        assert o.statuses and all(s == "NOT YET" for s in o.statuses), \
            f"an untouched stub must not pass (cell {o.cell_index}):\n{o.text}"
        assert "Traceback" not in o.text
        feedback = [ln for ln in o.text.splitlines() if ln.strip().startswith("- ")]
        assert feedback and all(len(ln.strip()) > 20 for ln in feedback), f"feedback too thin:\n{o.text}"
    assert sum(len(o.statuses) for o in student) >= n_checks


def test_cli_writes_student_notebooks(tmp_path, capsys):
    assert main([str(DEMO), "--out", str(tmp_path)]) == 0
    assert (tmp_path / DEMO.name).exists()
    assert "kinetic_energy" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.ipynb"), "--out", str(tmp_path)]) == 2
    assert main([str(DEMO), "--generate"]) == 2  # --generate needs --nbgrader-course


def test_cli_writes_an_nbgrader_course_without_nbgrader_running(tmp_path, capsys):
    assert main([str(MINI), "--nbgrader-course", str(tmp_path / "course"), "--mode", "fast"]) == 0
    assert (tmp_path / "course" / "source" / MINI.stem / MINI.name).is_file()
    assert (tmp_path / "course" / "npsnn_edu_mode.txt").read_text().strip() == "fast"
    assert "nbgrader generate_assignment course_roundtrip" in capsys.readouterr().out
    assert main([str(MINI), "--nbgrader-course", str(tmp_path / "c2"), "--mode", "turbo"]) == 1
