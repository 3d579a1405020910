"""nbgrader round trip with nbgrader itself (the `course` extra): a course directory generated from instructor
notebooks, `nbgrader generate_assignment`, then `nbgrader autograde` of (a) the instructor solutions -> full marks,
(b) an untouched student copy -> zero, no crash, friendly NOT YET in the self-check cells, (c) a partially correct
submission -> partial marks. On tests/data/course_roundtrip.ipynb (3 exercises, fast); then generate_assignment on
the four chapter notebooks: no solution, hidden test or NBVAL marker reaches a student.

Autograde executes the notebooks with NPSNN_EDU_MODE=fast (the course folder's npsnn_edu_mode.txt says
classroom; the environment variable wins).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import nbgrader  # noqa: F401,E402 - the `course` extra, installed by `make test`: missing means a broken install
import pytest

from npsnn_edu.config import _mode_file
from npsnn_edu.course.assignments import (
    BEGIN_SOLUTION,
    HIDDEN_BEGIN,
    find_exercises,
    make_student_notebook,
    run_nbgrader,
    student_problems,
    write_nbgrader_course,
)

REPO = Path(__file__).resolve().parents[1]
MINI = REPO / "tests" / "data" / "course_roundtrip.ipynb"
CHAPTERS = sorted((REPO / "notebooks").glob("0*.ipynb"))
ASSIGNMENT = MINI.stem
FAST = {"NPSNN_EDU_MODE": "fast", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def _src(cell) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else cell.source


def _submit(root: Path, student: str, nb) -> None:
    dest = root / "submitted" / student / ASSIGNMENT / MINI.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Course dir with three submissions, generated and autograded once; returns (root, scores, release nb)."""
    from nbgrader.api import Gradebook

    root = tmp_path_factory.mktemp("course")
    (source_path,) = write_nbgrader_course([MINI], root, mode="classroom", generate_release=True)
    source = nbformat.read(source_path, as_version=4)
    release = nbformat.read(root / "release" / ASSIGNMENT / MINI.name, as_version=4)

    _submit(root, "instructor", source)                    # (a) every solution filled in
    _submit(root, "untouched", release)                    # (b) the student copy as handed out
    partial = nbformat.read(root / "release" / ASSIGNMENT / MINI.name, as_version=4)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
    for cell in partial.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid in (f"{ASSIGNMENT}-kinetic_energy", f"{ASSIGNMENT}-period"):
            cell.source = _src(by_id[gid])                 # two of three solved
        elif gid == f"{ASSIGNMENT}-morse_force":           # the third with the classic sign error
            cell.source = ("def morse_force(r, D_e, a, r_e):\n    e = np.exp(-a * (np.asarray(r) - r_e))\n"
                           "    return -2.0 * a * D_e * (e * e - e)")
    _submit(root, "partial", partial)

    run_nbgrader(["autograde", ASSIGNMENT, "--force"], root, env=FAST, timeout=600)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        scores = {}
        for student in ("instructor", "untouched", "partial"):
            sub = gb.find_submission(ASSIGNMENT, student)
            scores[student] = (sub.score, sub.max_score)
    return root, scores, release


def test_course_directory_layout(graded):
    root, _, _ = graded
    assert (root / "source" / ASSIGNMENT / MINI.name).is_file()
    assert (root / "nbgrader_config.py").read_text().count("c.CourseDirectory.root") == 1
    assert (root / "npsnn_edu_mode.txt").read_text().strip() == "classroom"
    source = nbformat.read(root / "source" / ASSIGNMENT / MINI.name, as_version=4)
    tests = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == 3 and all(c.metadata["nbgrader"]["points"] == 1 for c in tests)
    assert all(HIDDEN_BEGIN in _src(c) and "assert check_" in _src(c) for c in tests)
    assert "NBVAL_" not in "\n".join(_src(c) for c in source.cells)


def test_a_instructor_solutions_get_full_marks(graded):
    _, scores, _ = graded
    assert scores["instructor"] == (3.0, 3.0)


def test_b_untouched_student_copy_gets_zero_without_crashing(graded):
    root, scores, _ = graded
    assert scores["untouched"] == (0.0, 3.0)
    nb = nbformat.read(root / "autograded" / "untouched" / ASSIGNMENT / MINI.name, as_version=4)
    assert "Run mode: fast (from $NPSNN_EDU_MODE)" in str(nb.cells[1].outputs)
    # without the variable, the autograding kernel (cwd: autograded/<student>/<assignment>/) finds the course's file
    assert _mode_file(root / "autograded" / "untouched" / ASSIGNMENT) == root / "npsnn_edu_mode.txt"
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if meta.get("grade"):
            assert [e["ename"] for e in errors] == ["AssertionError"]  # the graded cell raises...
        elif cell.cell_type == "code":
            assert not errors, f"cell {meta.get('grade_id')} raised in the untouched copy: {errors}"
        if _src(cell).startswith("check_"):  # ...the friendly self-check does not
            text = str(cell.outputs)
            assert "NOT YET" in text and "NotImplementedError()" in text and "Traceback" not in text


def test_c_partial_submission_gets_partial_marks(graded):
    root, scores, _ = graded
    assert scores["partial"] == (2.0, 3.0)
    nb = nbformat.read(root / "autograded" / "partial" / ASSIGNMENT / MINI.name, as_version=4)
    failing = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
               and any(o.get("output_type") == "error" for o in c.outputs)]
    assert failing == [f"{ASSIGNMENT}-test-morse_force"]


def test_release_is_clean_and_matches_the_kits_student_copy(graded):
    """nbgrader's release holds no solution/hidden test/marker; the kit's no-nbgrader copy (Binder) has the same
    cells, only without the (empty) graded cells."""
    _, _, release = graded
    instructor = nbformat.read(MINI, as_version=4)
    assert student_problems(release, instructor) == []
    kit = make_student_notebook(instructor, MINI.stem)
    ungraded = [c for c in release.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    assert [(c.cell_type, _src(c).strip()) for c in ungraded] == [(c.cell_type, _src(c).strip()) for c in kit.cells]


def test_generate_assignment_on_the_four_chapters_leaves_no_solution_or_marker(tmp_path):
    # the four labs 0N_*, plus any going-further notebooks 0Nb_*/0Nc_* (each graded the same way)
    assert [p.name[:3] for p in CHAPTERS if p.name[2] == "_"] == ["01_", "02_", "03_", "04_"]
    root = tmp_path / "course"
    write_nbgrader_course(CHAPTERS, root, generate_release=True)
    for path in CHAPTERS:
        instructor = nbformat.read(path, as_version=4)
        release = nbformat.read(root / "release" / path.stem / path.name, as_version=4)
        assert student_problems(release, instructor) == [], path.name
        text = "\n".join(_src(c) for c in release.cells)
        assert BEGIN_SOLUTION not in text and HIDDEN_BEGIN not in text and "NBVAL" not in text
        n_graded = sum(bool(c.metadata.get("nbgrader", {}).get("grade")) for c in release.cells)
        assert n_graded == len(find_exercises(instructor)) > 0, path.name


def test_nbgrader_failure_is_reported_with_its_log(tmp_path):
    shutil.copy(MINI, tmp_path / MINI.name)
    with pytest.raises(RuntimeError, match=r"generate_assignment no_such_assignment failed(.|\n)*No notebooks"):
        run_nbgrader(["generate_assignment", "no_such_assignment"], tmp_path, timeout=120)
