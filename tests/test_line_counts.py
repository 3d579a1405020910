"""scripts/line_counts.py: the counts the maintainer's note quotes (lines by role before and after the layout)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("line_counts", ROOT / "scripts" / "line_counts.py")
line_counts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(line_counts)

SOURCE = '''"""Module docstring,
two lines."""
import numpy as np  # a comment on a code line


# a comment line
def f(x):
    """One line."""
    y = (x +
         1)
    return np.sqrt(y)


class A:
    """Class docstring."""

    label = """not a docstring
    (an assignment)"""
'''


def test_code_lines_leave_out_blanks_comments_and_docstrings():
    lines, code = line_counts.count_lines(SOURCE)
    assert lines == 18
    # code: import, def, y = (x +, 1), return, class, label = ..., (an assignment)
    assert code == 8


@pytest.mark.parametrize("path, role", [
    ("npsnn_edu/potentials.py", "core"), ("npsnn_edu/__init__.py", "core"),
    ("npsnn_edu/md/stability.py", "chapters 1-2"), ("npsnn_edu/stability.py", "chapters 1-2"),
    ("npsnn_edu/gpr/model.py", "chapter 3"), ("npsnn_edu/spiking/basis.py", "chapter 4"),
    ("npsnn_edu/viz/quiz.py", "viz"), ("npsnn_edu/exercises/chapter1.py", "exercises"),
    ("npsnn_edu/course.py", "course"), ("npsnn_edu/course/hub.py", "course"), ("npsnn_edu/site.py", "course")])
def test_roles_are_the_same_in_the_flat_and_the_new_layout(path, role):
    assert line_counts.role_of(path) == role


def test_the_working_tree_total_is_the_sum_of_its_files():
    table = line_counts.counts(None, ROOT)
    files = sorted((ROOT / "npsnn_edu").rglob("*.py"))
    assert table["npsnn_edu"][0] == sum(len(p.read_text().splitlines()) for p in files)
    assert sum(table[role][1] for role in line_counts.ROLES) == table["npsnn_edu"][1] > 0


def test_the_code_only_copy_keeps_lines_and_drops_prose():
    out = line_counts.code_only(SOURCE)
    assert len(out.splitlines()) == len(SOURCE.splitlines())
    assert "docstring" not in out.replace("not a docstring", "") and "comment" not in out
    assert "import numpy as np" in out and "(an assignment)" in out
    assert line_counts.count_lines(out)[1] == line_counts.count_lines(SOURCE)[1]
