"""Every lab notebook (notebooks/0N_*.ipynb) fits a 2-hour lab and follows the lesson template; every going-further
notebook (0Nb_*.ipynb, 0Nc_*.ipynb) follows the template (docs/lesson_template.md). The counting rules and limits
live in npsnn_edu.course.lesson_stats (unit-tested on synthetic notebooks in tests/test_lesson_stats.py); this test
reads the shipped notebooks and fails naming the notebook and each broken limit.

The per-notebook table: ``python -m npsnn_edu.course.lesson_stats --check``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from npsnn_edu.course.lesson_stats import LIMITS, check_lesson, lesson_stats

REPO = Path(__file__).resolve().parents[1]
LABS = sorted(REPO.glob("notebooks/0[1-9]_*.ipynb"))
FURTHER = sorted(REPO.glob("notebooks/0[1-9][b-z]_*.ipynb"))


def test_the_course_has_its_four_labs():
    assert [p.name[:3] for p in LABS] == ["01_", "02_", "03_", "04_"], [p.name for p in LABS]


@pytest.mark.parametrize("notebook", LABS + FURTHER, ids=[p.stem for p in LABS + FURTHER])
def test_lesson_follows_the_template_and_limits(notebook):
    stats = lesson_stats(notebook)
    problems = check_lesson(stats)
    assert not problems, "\n".join(problems)
    if stats.kind == "lab":  # the limits checked above, restated for the reader of a failure
        assert stats.words <= LIMITS["words"] and len(stats.numbers) <= LIMITS["numbers"]
        assert len(stats.exercises) >= LIMITS["exercises"] and stats.total_minutes <= LIMITS["minutes"]


def test_every_going_further_notebook_belongs_to_a_lab():
    chapters = {p.name[:2] for p in LABS}
    orphans = [p.name for p in FURTHER if p.name[:2] not in chapters]
    assert not orphans, f"going-further notebooks without a lab of their chapter: {orphans}"


@pytest.mark.parametrize("notebook", LABS + FURTHER, ids=[p.stem for p in LABS + FURTHER])
def test_notebook_is_committed_lean(notebook):
    """No saved widget state (an executed FigureWidget holds plotly.js, megabytes) and under 500 KB."""
    import json

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert "widgets" not in nb.get("metadata", {}), f"{notebook.name}: strip metadata.widgets before committing"
    size = notebook.stat().st_size
    assert size < 500_000, f"{notebook.name}: {size} bytes >= 500 KB; strip outputs before committing"
